//! Host-side float steps: the parts of an exported network that the hardware does not run
//! (input scaling and the first quantizer before it; dequantisation, a final affine and
//! softmax after it). The golden model (`golden::host`) runs them in `f32` in exactly the
//! order given, as the QONNX reference executor does, so `ferrite golden model.onnx`
//! returns what the network returns.
//!
//! A frame is a flat row-major vector; constants hold one value (broadcast) or one value
//! per frame element (already expanded from per-channel form when the model was lowered).

use super::DataType;
use serde::{Deserialize, Serialize};

/// Elementwise float operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    /// `max(x, c)` (Relu is `Max` with 0).
    Max,
}

impl FloatOp {
    /// `a op b` in `f32`, one IEEE operation (as numpy and onnxruntime compute it).
    pub fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            FloatOp::Add => a + b,
            FloatOp::Sub => a - b,
            FloatOp::Mul => a * b,
            FloatOp::Div => a / b,
            FloatOp::Pow => a.powf(b),
            FloatOp::Max => {
                if a.is_nan() || b.is_nan() {
                    f32::NAN
                } else {
                    a.max(b)
                }
            }
        }
    }
}

/// Rounding modes of qonnx `Quant`/`Trunc` (`rounding_mode` attribute), with numpy's
/// semantics on `f32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RoundingMode {
    /// `ROUND` / `HALF_EVEN`: half to even (numpy `round`), the qonnx default.
    Round,
    /// `CEIL`.
    Ceil,
    /// `FLOOR`.
    Floor,
    /// `UP`: away from zero, `sign(x) * ceil(|x|)`.
    Up,
    /// `DOWN`: toward zero (numpy `fix`).
    Down,
    /// `HALF_UP`: `sign(x) * floor(|x| + 0.5)`, the addition rounded in `f32`.
    HalfUp,
    /// `HALF_DOWN`: `sign(x) * ceil(|x| - 0.5)`, the subtraction rounded in `f32`.
    HalfDown,
}

impl RoundingMode {
    /// Parse the qonnx attribute (case-insensitive).
    pub fn parse(s: &str) -> Option<RoundingMode> {
        Some(match s.to_ascii_uppercase().as_str() {
            "ROUND" | "HALF_EVEN" => RoundingMode::Round,
            "CEIL" => RoundingMode::Ceil,
            "FLOOR" => RoundingMode::Floor,
            "UP" => RoundingMode::Up,
            "DOWN" => RoundingMode::Down,
            "HALF_UP" => RoundingMode::HalfUp,
            "HALF_DOWN" => RoundingMode::HalfDown,
            _ => return None,
        })
    }

    /// Round `x` to an integral `f32`.
    pub fn round(self, x: f32) -> f32 {
        let sign = |v: f32| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v * 0.0
            }
        };
        match self {
            RoundingMode::Round => round_half_even(x),
            RoundingMode::Ceil => x.ceil(),
            RoundingMode::Floor => x.floor(),
            RoundingMode::Up => sign(x) * x.abs().ceil(),
            RoundingMode::Down => x.trunc(),
            RoundingMode::HalfUp => sign(x) * (x.abs() + 0.5).floor(),
            RoundingMode::HalfDown => sign(x) * (x.abs() - 0.5).ceil(),
        }
    }
}

/// Round half to even, as `f32::round_ties_even` (numpy `round`). On the baseline x86-64
/// target that is a library call an element; for |x| < 2^23, adding and subtracting 2^23
/// to |x| rounds in hardware with the same result: the sum lands in [2^23, 2^24], where
/// floats are the integers, and IEEE addition rounds to nearest, ties to even (2^23 is
/// even, so the parity of the result is that of the rounded |x|); the sign is put back
/// (round_ties_even(-0.4) is -0.0). From 2^23 on every float is an integer, and NaN stays
/// NaN. No branch, so loops over it vectorise.
#[inline]
fn round_half_even(x: f32) -> f32 {
    const TWO23: f32 = 8_388_608.0; // 2^23
    let a = x.abs();
    let r = ((a + TWO23) - TWO23).copysign(x);
    if a < TWO23 { r } else { x }
}

/// Integer range of a qonnx `Quant` of `bits` bits (as qonnx `min_int`/`max_int`).
pub fn quant_range(bits: u32, signed: bool, narrow: bool) -> (i64, i64) {
    let b = bits.min(62);
    let lo = match (signed, narrow) {
        (true, true) => -(1i64 << (b - 1)) + 1,
        (true, false) => -(1i64 << (b - 1)),
        (false, _) => 0,
    };
    let hi = match (signed, narrow) {
        (false, false) => (1i64 << b) - 1,
        (false, true) => (1i64 << b) - 2,
        (true, _) => (1i64 << (b - 1)) - 1,
    };
    (lo, hi)
}

/// The integer part of qonnx `Quant` on one value: `round(clip(x / scale + zero_point))`
/// (clipping before rounding, as qonnx does), all in `f32`. A 1-bit signed quantizer is
/// bipolar (`+1` where `x / scale + zero_point >= 0`, else `-1`). The float output of
/// `Quant` is `(q - zero_point) * scale`.
pub fn quant_int(
    x: f32,
    scale: f32,
    zero_point: f32,
    bits: u32,
    signed: bool,
    narrow: bool,
    rounding: RoundingMode,
) -> f32 {
    Quantizer::new(bits, signed, narrow, rounding).apply(x, scale, zero_point)
}

/// [`quant_int`] with what does not depend on the value worked out once, for a whole frame.
#[derive(Clone, Copy)]
struct Quantizer {
    bipolar: bool,
    lo: f32,
    hi: f32,
    rounding: RoundingMode,
}

impl Quantizer {
    fn new(bits: u32, signed: bool, narrow: bool, rounding: RoundingMode) -> Quantizer {
        let (lo, hi) = quant_range(bits, signed, narrow);
        Quantizer {
            bipolar: bits == 1 && signed,
            lo: lo as f32,
            hi: hi as f32,
            rounding,
        }
    }

    #[inline]
    fn apply(self, x: f32, scale: f32, zero_point: f32) -> f32 {
        self.apply_with(x, scale, zero_point, |y| self.rounding.round(y))
    }

    /// [`Self::apply`] with the rounding given (so a loop can pick it once).
    #[inline(always)]
    fn apply_with(self, x: f32, scale: f32, zero_point: f32, round: impl Fn(f32) -> f32) -> f32 {
        let y = x / scale + zero_point;
        if self.bipolar {
            return if y >= 0.0 { 1.0 } else { -1.0 };
        }
        // numpy `where(y > hi, hi, y)` then `where(y < lo, lo, y)`: NaN passes through.
        let y = if y > self.hi { self.hi } else { y };
        let y = if y < self.lo { self.lo } else { y };
        round(y)
    }

    /// `x[i] = apply(x[i], scale, zero_point) - zero_point` over a frame with one scale and
    /// zero point: the common case, with the rounding and bipolar choice made once, so the
    /// loop vectorises.
    #[inline]
    fn apply_frame(self, x: &mut [f32], s: f32, z: f32) {
        if self.bipolar {
            let q = Quantizer {
                bipolar: true,
                ..self
            };
            x.iter_mut()
                .for_each(|v| *v = q.apply_with(*v, s, z, |y| y) - z);
            return;
        }
        let q = Quantizer {
            bipolar: false,
            ..self
        };
        match self.rounding {
            RoundingMode::Round => x
                .iter_mut()
                .for_each(|v| *v = q.apply_with(*v, s, z, round_half_even) - z),
            r => x
                .iter_mut()
                .for_each(|v| *v = q.apply_with(*v, s, z, |y| r.round(y)) - z),
        }
    }
}

/// One host step on a flat float frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step")]
pub enum HostStep {
    /// `x = x op c`, or `x = c op x` when `reversed`; `constant` has 1 value or one per
    /// element.
    Elementwise {
        op: FloatOp,
        constant: Vec<f32>,
        #[serde(default)]
        reversed: bool,
    },
    /// Float to the hardware's integers with qonnx `Quant` semantics: the integer is
    /// `quant_int(x) - zero_point` (see [`quant_int`]); `dtype` is the hardware type.
    Quantize {
        scale: Vec<f32>,
        zero_point: Vec<f32>,
        bits: u32,
        signed: bool,
        narrow: bool,
        rounding: RoundingMode,
        dtype: DataType,
    },
    /// Float to bipolar integers: `+1` where `x >= 0`, else `-1` (qonnx `BipolarQuant`).
    BipolarQuantize,
    /// Hardware integers to float: `x * scale` (1 value or one per element).
    Dequantize { scale: Vec<f32> },
    /// Softmax over the frame (max subtracted first, as onnxruntime does).
    Softmax,
    /// Reorder a channel-major frame (`C` rows of `P` pixels: NCHW or NCW without the
    /// batch) to the channels-last order the hardware streams (`P` pixels of `C`
    /// channels): element `c * P + p` moves to `p * C + c`.
    ToChannelsLast { channels: usize },
    /// Reorder the frame: element `i` becomes element `index[i]` of the input (a
    /// transpose the exporter placed before the first quantizer).
    Gather { index: Vec<usize> },
    /// Check, without changing the frame, that every value is a value of the declared
    /// input type `ty` (a QONNX `finn_datatype` annotation): integers of `dtype` times
    /// `scale`. `golden::host` refuses a frame holding anything else.
    Expect {
        ty: String,
        dtype: DataType,
        scale: f32,
    },
}

impl HostStep {
    /// A short human-readable description (for `ferrite inspect`).
    pub fn describe(&self) -> String {
        let c = |v: &[f32]| {
            if v.len() == 1 {
                format!("{}", v[0])
            } else {
                format!("[{} per-element values]", v.len())
            }
        };
        match self {
            HostStep::Elementwise {
                op,
                constant,
                reversed,
            } => {
                if *reversed {
                    format!("x = {} {op:?} x", c(constant))
                } else {
                    format!("x = x {op:?} {}", c(constant))
                }
            }
            HostStep::Quantize {
                scale,
                zero_point,
                dtype,
                rounding,
                ..
            } => format!(
                "quantize to {dtype} (scale {}, zero point {}, {rounding:?})",
                c(scale),
                c(zero_point)
            ),
            HostStep::BipolarQuantize => "quantize to BIPOLAR (x >= 0 -> +1)".into(),
            HostStep::Dequantize { scale } => format!("dequantize: x * {}", c(scale)),
            HostStep::Softmax => "softmax".into(),
            HostStep::ToChannelsLast { channels } => {
                format!("reorder {channels} channel planes to channels-last pixels")
            }
            HostStep::Gather { index } => {
                format!("reorder the frame's {} elements (transpose)", index.len())
            }
            HostStep::Expect { ty, .. } => {
                format!("check that every value is a {ty} value (declared input type)")
            }
        }
    }

    /// Run the step on a frame in place.
    #[inline]
    pub fn apply(&self, x: &mut [f32]) {
        let at = |v: &[f32], i: usize| if v.len() == 1 { v[0] } else { v[i] };
        match self {
            HostStep::Elementwise {
                op,
                constant,
                reversed,
            } => {
                // Dispatch once per step, not per element (the loops then vectorise).
                fn each(x: &mut [f32], c: &[f32], f: impl Fn(f32, f32) -> f32) {
                    if let [k] = c {
                        x.iter_mut().for_each(|v| *v = f(*v, *k));
                    } else {
                        x.iter_mut().zip(c).for_each(|(v, k)| *v = f(*v, *k));
                    }
                }
                match (op, reversed) {
                    (FloatOp::Add, false) => each(x, constant, |a, b| a + b),
                    (FloatOp::Sub, false) => each(x, constant, |a, b| a - b),
                    (FloatOp::Mul, false) => each(x, constant, |a, b| a * b),
                    (FloatOp::Div, false) => each(x, constant, |a, b| a / b),
                    (op, false) => each(x, constant, |a, b| op.apply(a, b)),
                    (op, true) => each(x, constant, |a, b| op.apply(b, a)),
                }
            }
            HostStep::Quantize {
                scale,
                zero_point,
                bits,
                signed,
                narrow,
                rounding,
                ..
            } => {
                let q = Quantizer::new(*bits, *signed, *narrow, *rounding);
                if let ([s], [z]) = (&scale[..], &zero_point[..]) {
                    q.apply_frame(x, *s, *z);
                } else {
                    for (i, v) in x.iter_mut().enumerate() {
                        let z = at(zero_point, i);
                        *v = q.apply(*v, at(scale, i), z) - z;
                    }
                }
            }
            HostStep::BipolarQuantize => {
                for v in x.iter_mut() {
                    *v = if *v >= 0.0 { 1.0 } else { -1.0 };
                }
            }
            HostStep::Dequantize { scale } => {
                for (i, v) in x.iter_mut().enumerate() {
                    *v *= at(scale, i);
                }
            }
            HostStep::Softmax => softmax(x),
            // a check only (see `HostStep::first_unexpected`)
            HostStep::Expect { .. } => {}
            HostStep::Gather { index } => {
                let src = x.to_vec();
                for (v, &i) in x.iter_mut().zip(index) {
                    *v = src[i];
                }
            }
            HostStep::ToChannelsLast { channels } => {
                let c = *channels;
                if c > 1 && x.len().is_multiple_of(c) {
                    let p = x.len() / c;
                    let src = x.to_vec();
                    for ch in 0..c {
                        for px in 0..p {
                            x[px * c + ch] = src[ch * p + px];
                        }
                    }
                }
            }
        }
    }

    /// Whether a constant's length fits a frame of `elems` values.
    pub fn fits(&self, elems: usize) -> bool {
        let ok = |v: &[f32]| v.len() == 1 || v.len() == elems;
        match self {
            HostStep::Elementwise { constant, .. } => ok(constant),
            HostStep::Quantize {
                scale, zero_point, ..
            } => ok(scale) && ok(zero_point),
            HostStep::Dequantize { scale } => ok(scale),
            HostStep::BipolarQuantize | HostStep::Softmax | HostStep::Expect { .. } => true,
            HostStep::ToChannelsLast { channels } => {
                *channels >= 1 && elems.is_multiple_of(*channels)
            }
            HostStep::Gather { index } => index.len() == elems && index.iter().all(|&i| i < elems),
        }
    }
}

impl HostStep {
    /// For an `Expect` step, the first element of `x` that is not a value of its type.
    pub fn first_unexpected(&self, x: &[f32]) -> Option<usize> {
        let HostStep::Expect { dtype, scale, .. } = self else {
            return None;
        };
        let (lo, hi) = (DataType::min(*dtype), DataType::max(*dtype));
        let bipolar = *dtype == DataType::Bipolar;
        x.iter().position(|&v| {
            let q = v / scale;
            !(q.is_finite()
                && q == q.trunc()
                && (q as i64) >= lo
                && (q as i64) <= hi
                && !(bipolar && q == 0.0))
        })
    }
}

/// Softmax in `f32`: `exp(x - max) / sum`.
pub fn softmax(x: &mut [f32]) {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for v in x.iter_mut() {
        *v = (*v - m).exp();
        sum += *v;
    }
    for v in x.iter_mut() {
        *v /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_modes_on_ties() {
        use RoundingMode::*;
        let cases: [(RoundingMode, [f32; 6]); 7] = [
            (Round, [2.0, -2.0, 0.0, -0.0, 2.0, -4.0]),
            (Ceil, [3.0, -2.0, 1.0, -0.0, 2.0, -3.0]),
            (Floor, [2.0, -3.0, 0.0, -1.0, 1.0, -4.0]),
            (Up, [3.0, -3.0, 1.0, -1.0, 2.0, -4.0]),
            (Down, [2.0, -2.0, 0.0, -0.0, 1.0, -3.0]),
            (HalfUp, [3.0, -3.0, 1.0, -1.0, 2.0, -4.0]),
            (HalfDown, [2.0, -2.0, 0.0, -0.0, 2.0, -3.0]),
        ];
        for (m, want) in cases {
            let got = [2.5f32, -2.5, 0.5, -0.5, 1.75, -3.5].map(|x| m.round(x));
            assert_eq!(got, want, "{m:?}");
        }
    }

    #[test]
    fn to_channels_last_moves_channel_planes_into_pixels() {
        // 2 channels x 3 pixels: [a0 a1 a2 b0 b1 b2] -> [a0 b0 a1 b1 a2 b2]
        let mut x = [0.0, 1.0, 2.0, 10.0, 11.0, 12.0];
        let s = HostStep::ToChannelsLast { channels: 2 };
        assert!(s.fits(6) && !s.fits(5));
        s.apply(&mut x);
        assert_eq!(x, [0.0, 10.0, 1.0, 11.0, 2.0, 12.0]);
        let mut y = [1.0, 2.0];
        HostStep::ToChannelsLast { channels: 1 }.apply(&mut y);
        assert_eq!(y, [1.0, 2.0]);
    }

    #[test]
    fn quant_clips_before_rounding() {
        // 2-bit signed narrow: [-1, 1]
        assert_eq!(quant_range(2, true, true), (-1, 1));
        assert_eq!(quant_range(8, false, true), (0, 254));
        let q = |x| quant_int(x, 1.0, 0.0, 2, true, true, RoundingMode::Round);
        assert_eq!(
            [q(-7.0), q(-0.5), q(0.5), q(1.5), q(0.7)],
            [-1.0, -0.0, 0.0, 1.0, 1.0]
        );
        // 1-bit signed is bipolar
        assert_eq!(
            quant_int(0.0, 1.0, 0.0, 1, true, false, RoundingMode::Round),
            1.0
        );
    }
}

#[cfg(test)]
mod rounding_tests {
    use super::round_half_even;

    fn same(a: f32, b: f32) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn round_half_even_equals_round_ties_even() {
        let special = [
            0.0f32,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999997,
            -0.49999997,
            4_194_303.5,
            -4_194_303.5,
            4_194_304.0,
            8_388_607.5,
            1e30,
            -1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
        ];
        for x in special {
            assert!(same(round_half_even(x), x.round_ties_even()), "{x}");
        }
        // every 97th bit pattern of the whole f32 range (44 M values), both signs
        let mut bits = 0u32;
        while let Some(next) = bits.checked_add(97) {
            let x = f32::from_bits(bits);
            assert!(
                same(round_half_even(x), x.round_ties_even()),
                "{x} ({bits:#x})"
            );
            bits = next;
        }
    }
}
