//! The PYNQ driver: a fixed Python file (`driver.py`, no model data in it), the network's
//! numbers in `network.json`, and a README.

use super::{DMA_CELL, DmaLayout, FRAMES_CELL, MAX_TRANSFER_BYTES, ShellError};
use crate::boards::Board;
use crate::ir::Model;
use crate::ir::host::{HostStep, quant_range};
use crate::stitch::Design;
use crate::stream::StreamFormat;
use serde_json::{Value, json};

/// `OUT/driver/driver.py`.
pub const DRIVER: &str = include_str!("driver.py");

/// Version of `network.json`'s layout; `driver.py` refuses others.
pub const NETWORK_VERSION: u32 = 1;

/// An `f32` as the JSON number of the same `f64` (shortest digits that read back as
/// that `f64`, which is the `f32` exactly: Python's `float` then `numpy.float32` give the
/// value back bit for bit).
fn num(x: f32) -> Result<Value, ShellError> {
    if !x.is_finite() {
        return Err(ShellError::NotFinite(x));
    }
    Ok(json!(f64::from(x)))
}

fn nums(v: &[f32]) -> Result<Value, ShellError> {
    Ok(Value::Array(
        v.iter().map(|&x| num(x)).collect::<Result<_, _>>()?,
    ))
}

fn step(s: &HostStep) -> Result<Value, ShellError> {
    Ok(match s {
        HostStep::Elementwise {
            op,
            constant,
            reversed,
        } => {
            json!({"step": "Elementwise", "op": format!("{op:?}"), "constant": nums(constant)?, "reversed": reversed})
        }
        HostStep::Quantize {
            scale,
            zero_point,
            bits,
            signed,
            narrow,
            rounding,
            dtype: _,
        } => {
            let (lo, hi) = quant_range(*bits, *signed, *narrow);
            json!({
                "step": "Quantize",
                "scale": nums(scale)?,
                "zero_point": nums(zero_point)?,
                "bipolar": *bits == 1 && *signed,
                // the clipping bounds as the golden model holds them (`i64 as f32`)
                "lo": num(lo as f32)?,
                "hi": num(hi as f32)?,
                "rounding": format!("{rounding:?}"),
            })
        }
        HostStep::BipolarQuantize => json!({"step": "BipolarQuantize"}),
        HostStep::Dequantize { scale } => json!({"step": "Dequantize", "scale": nums(scale)?}),
        HostStep::Softmax => json!({"step": "Softmax"}),
        HostStep::ToChannelsLast { channels } => {
            json!({"step": "ToChannelsLast", "channels": channels})
        }
        HostStep::Gather { index } => json!({"step": "Gather", "index": index}),
        HostStep::Expect { ty, dtype, scale } => json!({
            "step": "Expect",
            "type": ty,
            "scale": num(*scale)?,
            "min": crate::ir::DataType::min(*dtype),
            "max": crate::ir::DataType::max(*dtype),
            "bipolar": *dtype == crate::ir::DataType::Bipolar,
        }),
    })
}

fn stream(fmt: &StreamFormat) -> Value {
    let l = DmaLayout::of(fmt);
    let t = fmt.elem_type;
    json!({
        "type": t.to_string(),
        "bits": t.bits(),
        "signed": t.signed(),
        "bipolar": t == crate::ir::DataType::Bipolar,
        "min": t.min(),
        "max": t.max(),
        "lanes": fmt.lanes,
        "beats_per_frame": fmt.beats_per_frame,
        "tdata_bits": fmt.tdata_bits,
        "dma_bytes": l.dma_bytes,
        "dma_beats": l.dma_beats,
        "frame_bytes": l.frame_bytes(fmt),
    })
}

/// `OUT/driver/network.json`: every number the driver needs.
pub fn network_json(model: &Model, design: &Design) -> Result<String, ShellError> {
    let input = model.input();
    let logical = input.logical_shape();
    // the float frame's shape without the batch axis
    let shape: Vec<usize> = match logical.as_slice() {
        [1, rest @ ..] if !rest.is_empty() => rest.to_vec(),
        s => s.to_vec(),
    };
    let elems = input.tensor.elems();
    if design.input.elems() != elems {
        return Err(ShellError::Unsupported(format!(
            "an input stream of the input's {elems} elements; it carries {}",
            design.input.elems()
        )));
    }
    // a network ending in a label select outputs class indices, best first
    let labels = model.post.is_empty()
        && matches!(&model.outputs[0], crate::ir::Source::Node { node, .. }
            if matches!(model.node(node).map(|n| &n.op), Some(crate::ir::Op::LabelSelect(_))));
    let pre: Vec<Value> = model.pre.iter().map(step).collect::<Result<_, _>>()?;
    let post: Vec<Value> = model.post.iter().map(step).collect::<Result<_, _>>()?;
    let v = json!({
        "format": "ferrite-driver",
        "version": NETWORK_VERSION,
        "generator": crate::emit::GENERATOR,
        "name": design.name,
        "top": design.top,
        "input_shape": shape,
        "input_elems": elems,
        "output_elems": design.output.elems(),
        "output_is_labels": labels,
        "input": stream(&design.input),
        "output": stream(&design.output),
        "pre": pre,
        "post": post,
        "overlay": {"dma": DMA_CELL, "frames": FRAMES_CELL},
        "max_transfer_bytes": MAX_TRANSFER_BYTES,
    });
    let mut s = serde_json::to_string_pretty(&v).expect("JSON values serialise");
    s.push('\n');
    Ok(s)
}

/// `OUT/driver/README.md`.
pub fn readme(board: &Board) -> String {
    format!(
        "# ferrite PYNQ driver\n\n\
         Generated for the board `{}` (`{}`). Build the bitstream first (see `../vivado/build.tcl`,\n\
         docs/vivado.md): it copies `ferrite.bit` and `ferrite.hwh` into this folder. Then copy\n\
         this folder to the board and, in Python there (PYNQ 2.7 or newer, numpy):\n\n\
         ```python\n\
         from driver import Accelerator\n\
         acc = Accelerator(\"ferrite.bit\", batch_size=64)\n\
         y = acc.execute(x)        # x: float frames (N, *input_shape) -> float outputs (N, output_elems)\n\
         labels = acc.classify(x)  # the top-1 class of each frame\n\
         ```\n\n\
         `execute` runs the network's host steps in numpy exactly as `ferrite golden` does\n\
         (the input quantization before the accelerator, the final scale and bias after it), so\n\
         its outputs equal the golden model's. An integer array is taken as the hardware's\n\
         frames, as by `ferrite golden`. `execute_hw` streams integer frames and returns the\n\
         accelerator's integer outputs. `network.json` holds the shapes, stream formats and\n\
         host-step constants; `driver.py` holds no model data.\n",
        board.name, board.part
    )
}
