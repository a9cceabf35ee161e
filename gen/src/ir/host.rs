//! Host-side float steps: the parts of an exported network that the hardware does not run
//! (input scaling and the first quantizer before it; dequantisation, a final affine and
//! softmax after it). The golden model runs them in `f32` in exactly the order given, as
//! the QONNX reference executor does, so `ferrite golden model.onnx` returns what the
//! network returns.

use super::DataType;
use serde::{Deserialize, Serialize};

/// Elementwise float operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// Rounding modes of qonnx `Quant` (`rounding_mode` attribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoundingMode {
    /// Half to even (numpy `round`), the qonnx default `ROUND`.
    Round,
    /// Half away from zero.
    RoundToZero,
    Ceil,
    Floor,
}

/// One host step; constants broadcast over the flat frame (length 1 or one per element).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step")]
pub enum HostStep {
    /// `x = x op c`, or `x = c op x` when `reversed`.
    Elementwise {
        op: FloatOp,
        constant: Vec<f32>,
        #[serde(default)]
        reversed: bool,
    },
    /// Float to the hardware's integers, with qonnx `Quant` semantics: the integer is
    /// `clip(round(x / scale + zero_point)) - zero_point`.
    Quantize {
        scale: Vec<f32>,
        zero_point: Vec<f32>,
        dtype: DataType,
        narrow: bool,
        rounding: RoundingMode,
    },
    /// Float to bipolar integers: `+1` where `x >= 0`, else `-1` (qonnx `BipolarQuant`).
    BipolarQuantize,
    /// Hardware integers to float: `x * scale`.
    Dequantize { scale: Vec<f32> },
    /// Softmax over the frame.
    Softmax,
}
