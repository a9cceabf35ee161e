//! Resource estimates per FPGA family: LUT, FF, block RAM and DSP of every engine, FIFO and
//! width converter of a design, from formulas of our own calibrated against Yosys.
//!
//! Memory placement (registers, LUT-RAM or block RAM, packed to the family's RAM shape) is
//! decided here, once, by [`place_memory`]: the templates render what it decides and the
//! estimate counts what it decides. Block RAM is counted in the family's own blocks
//! ([`Cost::bram`]): RAMB18 equivalents on Xilinx (a RAMB36 is 2), 18 kbit DP16KD on ECP5,
//! 4 kbit EBR on iCE40.
//!
//! Data flows one way: fold and report read estimates; estimates read the model, the fold
//! and the family, never a generated file.

pub mod coef;
mod model;

pub use model::{Coef, N_TERMS, Terms, class, counter_bits, model_terms};

use crate::boards::{Board, Family};
use crate::engines::engine;
use crate::ir::Model;
use crate::stitch::{Design, Role};
use serde::{Deserialize, Serialize};

/// Resources of one instance (or a sum of them) on one family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cost {
    /// Logic LUTs (LUT6 on Xilinx, LUT4 on ECP5 and iCE40), LUT-RAM included.
    pub lut: u64,
    /// Flip-flops.
    pub ff: u64,
    /// Block RAMs in the family's own unit (see the module docs).
    pub bram: u64,
    /// DSP blocks (DSP48E1/E2, ECP5 MULT18X18D, iCE40 SB_MAC16).
    pub dsp: u64,
}

impl std::ops::Add for Cost {
    type Output = Cost;
    fn add(self, o: Cost) -> Cost {
        Cost {
            lut: self.lut + o.lut,
            ff: self.ff + o.ff,
            bram: self.bram + o.bram,
            dsp: self.dsp + o.dsp,
        }
    }
}

impl std::ops::AddAssign for Cost {
    fn add_assign(&mut self, o: Cost) {
        *self = *self + o;
    }
}

impl std::iter::Sum for Cost {
    fn sum<I: Iterator<Item = Cost>>(it: I) -> Cost {
        it.fold(Cost::default(), |a, b| a + b)
    }
}

/// The name of `family`'s block RAM unit, as [`Cost::bram`] counts it.
pub fn bram_unit(family: Family) -> &'static str {
    match family {
        Family::Xilinx7series | Family::XilinxUltrascale => "RAMB18",
        Family::Ecp5 => "DP16KD",
        Family::Ice40 => "EBR",
    }
}

/// The resource kinds, in report order.
pub const KINDS: [&str; 4] = ["LUT", "FF", "BRAM", "DSP"];

impl Cost {
    /// The figures in [`KINDS`] order.
    pub fn figures(&self) -> [u64; 4] {
        [self.lut, self.ff, self.bram, self.dsp]
    }

    /// Whether every figure is at most `budget`'s.
    pub fn fits(&self, budget: &Cost) -> bool {
        self.figures()
            .iter()
            .zip(budget.figures())
            .all(|(a, b)| *a <= b)
    }
}

/// What a board offers, in [`Cost`]'s units, scaled by `share` (0..=1) and rounded down.
pub fn budget(board: &Board, share: f64) -> Cost {
    let bram = match board.family {
        Family::Ice40 => board.ebr_4k,
        _ => board.bram18,
    };
    let s = |v: u64| (v as f64 * share).floor() as u64;
    Cost {
        lut: s(board.lut),
        ff: s(board.ff),
        bram: s(bram),
        dsp: s(board.dsp),
    }
}

/// Where a memory of `depth` words of `width` bits lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Memory {
    /// Logic (a ROM folded into LUTs, or registers).
    Logic,
    /// Distributed (LUT) RAM.
    LutRam,
    /// Block RAM: `blocks` of the family's unit.
    Block { blocks: u64 },
}

impl Memory {
    /// The Verilog `rom_style`/`ram_style` attribute value the templates give it (Yosys
    /// maps no ROM to LUT-RAM: a ROM in LUTs is `logic`).
    pub fn style(self) -> &'static str {
        match self {
            Memory::Logic => "logic",
            Memory::LutRam => "distributed",
            Memory::Block { .. } => "block",
        }
    }
}

/// Xilinx (LUT6, 18/36 kbit block RAM): a ROM of at least this many bits and
/// [`XILINX_BLOCK_MIN_DEPTH`] words goes to block RAM, a smaller one into LUTs.
pub const XILINX_BLOCK_MIN_BITS: usize = 16384;
pub const XILINX_BLOCK_MIN_DEPTH: usize = 32;
/// ECP5 (LUT4, 18 kbit DP16KD): LUT4s hold a quarter of what a LUT6 holds, so ROMs from
/// 4 kbit go to block RAM.
pub const ECP5_BLOCK_MIN_BITS: usize = 4096;
pub const ECP5_BLOCK_MIN_DEPTH: usize = 32;
/// iCE40 (LUT4, 4 kbit EBR, a few thousand LUTs): ROMs from 1 kbit go to block RAM.
pub const ICE40_BLOCK_MIN_BITS: usize = 1024;
pub const ICE40_BLOCK_MIN_DEPTH: usize = 32;

/// ECP5 DP16KD (depth, width) modes: 16K x 1 .. 1K x 18, and 512 x 36 (pseudo dual port).
const DP16KD_MODES: [(usize, usize); 6] = [
    (16384, 1),
    (8192, 2),
    (4096, 4),
    (2048, 9),
    (1024, 18),
    (512, 36),
];
/// iCE40 SB_RAM40_4K (depth, width) modes: 256 x 16, 512 x 8, 1K x 4, 2K x 2.
const EBR_MODES: [(usize, usize); 4] = [(256, 16), (512, 8), (1024, 4), (2048, 2)];

/// Blocks of the cheapest single mode of `modes` holding `depth x width` (copies side by
/// side for width, stacked for depth).
fn blocks_of(modes: &[(usize, usize)], depth: usize, width: usize) -> u64 {
    modes
        .iter()
        .map(|&(d, w)| (depth.div_ceil(d) * width.div_ceil(w)) as u64)
        .min()
        .unwrap_or(0)
}

/// Where a read-only memory of `depth` words of `width` bits goes on `family`: block RAM
/// (packed into the family's block shapes) when it is at least the family's
/// `*_BLOCK_MIN_BITS` and `*_BLOCK_MIN_DEPTH`, else LUTs ([`Memory::Logic`]). The weight
/// ROMs of the matrix- and vector-vector units are rendered with the `rom_style` this
/// decides, and estimated with it.
pub fn place_memory(family: Family, depth: usize, width: usize) -> Memory {
    let (min_bits, min_depth) = match family {
        Family::Xilinx7series | Family::XilinxUltrascale => {
            (XILINX_BLOCK_MIN_BITS, XILINX_BLOCK_MIN_DEPTH)
        }
        Family::Ecp5 => (ECP5_BLOCK_MIN_BITS, ECP5_BLOCK_MIN_DEPTH),
        Family::Ice40 => (ICE40_BLOCK_MIN_BITS, ICE40_BLOCK_MIN_DEPTH),
    };
    if depth < min_depth || depth * width < min_bits {
        return Memory::Logic;
    }
    let blocks = match family {
        // RAMB18 equivalents of the cheapest RAMB18 or RAMB36 arrangement
        Family::Xilinx7series | Family::XilinxUltrascale => {
            crate::emit::resources::bram18_for_rom(depth, width) as u64
        }
        Family::Ecp5 => blocks_of(&DP16KD_MODES, depth, width),
        Family::Ice40 => blocks_of(&EBR_MODES, depth, width),
    };
    Memory::Block { blocks }
}

/// A weight ROM instantiated as the family's block-RAM primitive instead of inferred, so
/// that the primitive's own output register holds its second read register (Yosys never
/// enables a RAM's output register when it maps an inferred memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RomPrimitive {
    /// ECP5 `DP16KD` in 1K x 18 mode with `REGMODE = "OUTREG"`: one 18-bit column a block
    /// (port A), or two when the ROM has at most 512 words (port B reads rows 512..).
    Ecp5Dp16kd { dual: bool },
}

impl RomPrimitive {
    /// Blocks of `width`-bit words: the same count [`place_memory`] gives.
    pub fn blocks(self, width: usize) -> u64 {
        match self {
            RomPrimitive::Ecp5Dp16kd { dual } => {
                let cols = width.div_ceil(18);
                (if dual { cols.div_ceil(2) } else { cols }) as u64
            }
        }
    }
}

/// The primitive a weight ROM of `depth x width` placed at `mem` on `family` is
/// instantiated as, if any: ECP5 block ROMs of at most 1024 words (deeper ones, and every
/// other family, are inferred; the second read register is then in the fabric).
pub fn rom_primitive(
    family: Family,
    mem: Memory,
    depth: usize,
    width: usize,
) -> Option<RomPrimitive> {
    match (family, mem) {
        (Family::Ecp5, Memory::Block { .. }) if depth <= 1024 && width > 0 => {
            Some(RomPrimitive::Ecp5Dp16kd { dual: depth <= 512 })
        }
        _ => None,
    }
}

/// Xilinx: a RAM that Yosys places itself (no attribute: FIFOs, window buffers,
/// accumulator memories) goes to LUT-RAM up to this depth, to block RAM beyond it when it
/// holds at least [`XILINX_RAM_BLOCK_MIN_BITS`].
pub const XILINX_RAM_LUT_MAX_DEPTH: usize = 64;
pub const XILINX_RAM_BLOCK_MIN_BITS: usize = 4096;
/// ECP5: LUT-RAM (16 x 4 blocks) up to this depth, block RAM beyond from
/// [`ECP5_RAM_BLOCK_MIN_BITS`].
pub const ECP5_RAM_LUT_MAX_DEPTH: usize = 32;
pub const ECP5_RAM_BLOCK_MIN_BITS: usize = 1024;
/// iCE40 (no LUT-RAM): block RAM from this many words and bits, registers below.
pub const ICE40_RAM_BLOCK_MIN_DEPTH: usize = 8;
pub const ICE40_RAM_BLOCK_MIN_BITS: usize = 128;

/// Where Yosys puts a read-write memory of `depth` words of `width` bits that carries no
/// placement attribute (FIFOs, window buffers, accumulator memories), on `family`.
pub fn place_ram(family: Family, depth: usize, width: usize) -> Memory {
    let bits = depth * width;
    let block = |blocks: u64| Memory::Block { blocks };
    match family {
        Family::Xilinx7series | Family::XilinxUltrascale => {
            if depth <= XILINX_RAM_LUT_MAX_DEPTH || bits < XILINX_RAM_BLOCK_MIN_BITS {
                Memory::LutRam
            } else {
                block(crate::emit::resources::bram18_for_rom(depth, width) as u64)
            }
        }
        Family::Ecp5 => {
            if depth <= ECP5_RAM_LUT_MAX_DEPTH || bits < ECP5_RAM_BLOCK_MIN_BITS {
                Memory::LutRam
            } else {
                block(blocks_of(&DP16KD_MODES, depth, width))
            }
        }
        Family::Ice40 => {
            if depth < ICE40_RAM_BLOCK_MIN_DEPTH || bits < ICE40_RAM_BLOCK_MIN_BITS {
                Memory::Logic
            } else {
                block(blocks_of(&EBR_MODES, depth, width))
            }
        }
    }
}

/// Whether Yosys maps a product of a `a_bits`-bit and a `b_bits`-bit signed operand (the
/// widths the multiply-accumulate templates give it) to a DSP block on `family`.
/// Xilinx (`synth_xilinx`): from operands of 2 bits and a product of at least
/// [`XILINX_DSP_MIN_PRODUCT_BITS`]; ECP5 (`synth_ecp5`): every product of operands of 2
/// bits or more; iCE40 (`synth_ice40` without `-dsp`): none.
pub fn product_in_dsp(family: Family, a_bits: u32, b_bits: u32) -> bool {
    let wide = a_bits >= 2 && b_bits >= 2;
    match family {
        Family::Xilinx7series | Family::XilinxUltrascale => {
            wide && a_bits + b_bits >= XILINX_DSP_MIN_PRODUCT_BITS
        }
        Family::Ecp5 => wide,
        Family::Ice40 => false,
    }
}

/// See [`product_in_dsp`].
pub const XILINX_DSP_MIN_PRODUCT_BITS: u32 = 9;

/// Bits of a memory placed as `m` that sit in LUTs or registers (0 in block RAM).
pub fn fabric_bits(m: Memory, depth: usize, width: usize) -> f64 {
    match m {
        Memory::Block { .. } => 0.0,
        _ => (depth * width) as f64,
    }
}

/// Block RAMs of a memory placed as `m`.
pub fn blocks(m: Memory) -> u64 {
    match m {
        Memory::Block { blocks } => blocks,
        _ => 0,
    }
}

/// The structure of a FIFO of `depth` words of `width` bits (`lib/fifo.v`: a RAM with a
/// registered read, pointers and a count).
pub fn fifo_terms(family: Family, depth: usize, width: usize) -> Terms {
    let m = place_ram(family, depth, width);
    let mut t = Terms::new(
        "fifo",
        [
            width as f64,
            fabric_bits(m, depth, width),
            counter_bits(depth),
            0.0,
        ],
    );
    t.bram = blocks(m);
    t
}

/// A FIFO of `depth` words of `width` bits.
pub fn fifo(family: Family, depth: usize, width: usize) -> Cost {
    fifo_terms(family, depth, width).cost(family)
}

/// The structure of a width converter (`lib/gearbox.v`: a shift buffer of in + out lanes).
pub fn converter_terms(family: Family, elem_bits: u32, in_lanes: usize, out_lanes: usize) -> Terms {
    let _ = family;
    let e = elem_bits as usize;
    let buf = (in_lanes + out_lanes) * e;
    Terms::new(
        "converter",
        [
            buf as f64,
            buf as f64 * counter_bits(in_lanes),
            buf as f64 * counter_bits(out_lanes),
            counter_bits(buf + 1),
        ],
    )
}

/// A width converter of `elem_bits`-bit elements from `in_lanes` to `out_lanes` a beat.
pub fn converter(family: Family, elem_bits: u32, in_lanes: usize, out_lanes: usize) -> Cost {
    converter_terms(family, elem_bits, in_lanes, out_lanes).cost(family)
}

/// The estimate of one design node (engine, FIFO or converter).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCost {
    pub name: String,
    pub cost: Cost,
}

/// The estimate of a whole design on its family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignCost {
    pub family: Family,
    pub nodes: Vec<NodeCost>,
    pub total: Cost,
}

/// Estimate every node of `design` (built from `model`) on `family`.
pub fn design_cost(model: &Model, design: &Design, family: Family) -> DesignCost {
    let a = model.analyze().expect("a stitched model analyses");
    let mut nodes = Vec::new();
    for n in &design.nodes {
        let cost = match &n.role {
            Role::Engine { node, fold, .. } => {
                let id = model
                    .nodes
                    .iter()
                    .position(|m| &m.name == node)
                    .expect("a design's engine names a model node");
                engine(&model.nodes[id].op).cost(&a.in_types[id], *fold, family)
            }
            Role::Fifo { depth, width, .. } => fifo(family, *depth, *width),
            Role::Converter {
                elem_bits,
                in_lanes,
                out_lanes,
            } => converter(family, *elem_bits, *in_lanes, *out_lanes),
        };
        nodes.push(NodeCost {
            name: n.name.clone(),
            cost,
        });
    }
    let total = nodes.iter().map(|n| n.cost).sum();
    DesignCost {
        family,
        nodes,
        total,
    }
}
