//! The vendor shells around a build: for boards whose shell is a Zynq PYNQ overlay, a Zynq
//! MPSoC overlay or an Alveo card, the files that take `OUT/rtl` to a bitstream in Vivado
//! and drive it from Python. [`files`] is the one entry point; `ferrite build --board B`
//! writes what it returns into `OUT` with the rest of the build.
//!
//! - `OUT/vivado/build.tcl` (`tcl.rs`): packages the accelerator as an IP and, on Zynq,
//!   builds the block design (processing system, AXI DMA, the accelerator, a GPIO for the
//!   frame count), the bitstream, and copies `ferrite.bit`/`ferrite.hwh` into `OUT/driver/`;
//!   on Alveo it packages the accelerator as a free-running streaming kernel (`.xo`) only.
//! - `OUT/rtl/<prefix>_dma_top.v` (`adapter.rs`): the accelerator between the DMA's
//!   power-of-two byte streams and the top's padded ones, with `tlast` after each packet.
//! - `OUT/driver/driver.py`, `network.json`, `README.md` (`driver.rs`): the PYNQ driver,
//!   which runs the host steps in numpy exactly as `golden::host` does; `network.json`
//!   holds every number it needs.
//!
//! The open-flow shells (ECP5, iCE40) get nothing here: the synthesis helper handles them.
//!
//! **Invariant:** nothing a model names reaches the Tcl: modules are named by the
//! sanitised prefix, and every string interpolated into Tcl is checked against a strict
//! character set ([`tcl::word`]); the model's name appears only in `network.json` (JSON
//! escaped) and, through [`crate::emit::comment_text`], in comments of the Verilog.

mod adapter;
mod driver;
mod tcl;

use crate::boards::{Board, Shell};
use crate::ir::Model;
use crate::stitch::Design;
use crate::stream::StreamFormat;

pub use tcl::word as tcl_word;

/// Errors of [`files`].
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// A string bound for the Tcl script holds characters outside the safe set.
    #[error(
        "board `{board}`: {what} `{value}` cannot go into a Tcl script (letters, digits and `_.:/-` only)"
    )]
    UnsafeTcl {
        board: String,
        what: &'static str,
        value: String,
    },
    /// The model has no single input and output the driver can stream.
    #[error("the driver needs {0}")]
    Unsupported(String),
    /// A host step's constant that JSON cannot hold (a bug: the passes refuse them).
    #[error("host step constant {0} is not finite (this is a bug: the passes refuse them)")]
    NotFinite(f32),
}

/// The widest DMA stream, in bytes (AXI DMA takes 8 to 1024 bits, powers of two); wider
/// accelerator beats travel as several DMA beats.
pub const MAX_DMA_BYTES: usize = 64;

/// Block-design cell names (the PYNQ overlay's attribute names), shared by the Tcl and
/// the driver's `network.json`.
pub const DMA_CELL: &str = "ferrite_dma";
pub const FRAMES_CELL: &str = "ferrite_frames";
pub const ACCEL_CELL: &str = "ferrite_accel";

/// The largest DMA transfer: the buffer length register is 26 bits wide.
pub const MAX_TRANSFER_BYTES: u64 = (1 << 26) - 1;

/// How one accelerator beat sits in DMA memory: the top's padded tdata (`acc_bytes`,
/// little-endian, lane 0 in the lowest bits) followed by zero bytes up to `dma_beats`
/// beats of `dma_bytes` (a power of two, at most [`MAX_DMA_BYTES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaLayout {
    pub acc_bytes: usize,
    pub dma_bytes: usize,
    pub dma_beats: usize,
}

impl DmaLayout {
    pub fn of(fmt: &StreamFormat) -> DmaLayout {
        let acc_bytes = fmt.tdata_bits.div_ceil(8).max(1);
        let dma_bytes = acc_bytes.next_power_of_two().min(MAX_DMA_BYTES);
        DmaLayout {
            acc_bytes,
            dma_bytes,
            dma_beats: acc_bytes.div_ceil(dma_bytes),
        }
    }

    /// Bytes one accelerator beat takes in memory.
    pub fn slot_bytes(&self) -> usize {
        self.dma_bytes * self.dma_beats
    }

    /// Bytes one frame takes in memory.
    pub fn frame_bytes(&self, fmt: &StreamFormat) -> usize {
        self.slot_bytes() * fmt.beats_per_frame
    }
}

/// One frame as the DMA buffer holds it (see [`DmaLayout`]).
pub fn pack_dma(fmt: &StreamFormat, values: &[i64]) -> Vec<u8> {
    let l = DmaLayout::of(fmt);
    let mut out = Vec::with_capacity(l.frame_bytes(fmt));
    for words in crate::stream::pack_frame(fmt, values) {
        let mut slot: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        slot.resize(l.slot_bytes(), 0);
        // bits above tdata_bits are zero (pack_frame), so the bytes past acc_bytes are too
        out.extend(slot);
    }
    out
}

/// The values of one frame from its DMA bytes (the inverse of [`pack_dma`]).
pub fn unpack_dma(fmt: &StreamFormat, bytes: &[u8]) -> Vec<i64> {
    let l = DmaLayout::of(fmt);
    let beats: Vec<Vec<u32>> = bytes
        .chunks(l.slot_bytes())
        .map(|slot| {
            let take = &slot[..l.acc_bytes.min(slot.len())];
            take.chunks(4)
                .map(|c| {
                    let mut w = [0u8; 4];
                    w[..c.len()].copy_from_slice(c);
                    u32::from_le_bytes(w)
                })
                .collect()
        })
        .collect();
    crate::stream::unpack_frame(fmt, &beats)
}

/// The extra files of a build for `board` (paths relative to `OUT`), in a fixed order;
/// nothing for the open-flow shells.
pub fn files(
    model: &Model,
    design: &Design,
    board: &Board,
) -> Result<Vec<(String, Vec<u8>)>, ShellError> {
    match board.shell {
        Shell::OpenEcp5 | Shell::OpenIce40 => return Ok(Vec::new()),
        Shell::ZynqPynq | Shell::ZynqMpsoc | Shell::AlveoXrt => {}
    }
    if model.inputs.len() != 1 || model.outputs.len() != 1 {
        return Err(ShellError::Unsupported(format!(
            "one input and one output stream; the model has {} and {}",
            model.inputs.len(),
            model.outputs.len()
        )));
    }
    let mut out = Vec::new();
    let zynq = board.shell != Shell::AlveoXrt;
    if zynq {
        out.push((
            format!("rtl/{}.v", adapter::module(design)),
            adapter::verilog(design).into_bytes(),
        ));
    }
    out.push((
        "vivado/build.tcl".to_string(),
        tcl::script(design, board)?.into_bytes(),
    ));
    if zynq {
        out.push((
            "driver/driver.py".to_string(),
            driver::DRIVER.as_bytes().to_vec(),
        ));
        out.push((
            "driver/network.json".to_string(),
            driver::network_json(model, design)?.into_bytes(),
        ));
        out.push((
            "driver/README.md".to_string(),
            driver::readme(board).into_bytes(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::DataType;

    fn fmt(lanes: usize, dt: DataType, beats: usize) -> StreamFormat {
        StreamFormat {
            tdata_bits: (lanes * dt.bits() as usize).div_ceil(8) * 8,
            lanes,
            elem_type: dt,
            beats_per_frame: beats,
        }
    }

    #[test]
    fn layouts_are_powers_of_two_bytes() {
        let l = DmaLayout::of(&fmt(3, DataType::UInt(8), 4));
        assert_eq!((l.acc_bytes, l.dma_bytes, l.dma_beats), (3, 4, 1));
        let l = DmaLayout::of(&fmt(1, DataType::Bipolar, 4));
        assert_eq!((l.acc_bytes, l.dma_bytes, l.dma_beats), (1, 1, 1));
        // 784 bipolar lanes: 98 bytes in two 64-byte beats
        let l = DmaLayout::of(&fmt(784, DataType::Bipolar, 1));
        assert_eq!((l.acc_bytes, l.dma_bytes, l.dma_beats), (98, 64, 2));
        assert_eq!(l.frame_bytes(&fmt(784, DataType::Bipolar, 1)), 128);
    }

    #[test]
    fn dma_bytes_round_trip() {
        let f = fmt(3, DataType::Int(4), 2);
        let v = [-8, 7, -1, 0, 3, -4];
        let b = pack_dma(&f, &v);
        // lanes 0 and 1 in byte 0 (lane 0 low), lane 2 in byte 1 (12 bits: 2-byte beats)
        assert_eq!(b, [0x78, 0x0f, 0x30, 0x0c]);
        assert_eq!(unpack_dma(&f, &b), v);
        // 3 bytes a beat go in 4-byte DMA beats, the last byte zero
        let f = fmt(3, DataType::UInt(8), 1);
        assert_eq!(pack_dma(&f, &[1, 2, 255]), [1, 2, 255, 0]);
        assert_eq!(unpack_dma(&f, &[1, 2, 255, 0]), [1, 2, 255]);
        let f = fmt(100, DataType::Bipolar, 1);
        let v: Vec<i64> = (0..100).map(|i| if i % 3 == 0 { 1 } else { -1 }).collect();
        let b = pack_dma(&f, &v);
        assert_eq!(b.len(), 16);
        assert_eq!(unpack_dma(&f, &b), v);
    }
}
