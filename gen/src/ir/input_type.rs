//! Declared datatypes of a float graph input that has no quantizer: from a QONNX
//! `finn_datatype` annotation, or from `--input-type`. [`InputType`] is the type;
//! [`DeclaredInput`] records it (and where it came from) in the model.

use super::DataType;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The most bits a declared input type may have (qonnx `Quant` bit widths, and exact in
/// `f32`).
pub const MAX_INPUT_BITS: u32 = 24;

/// A datatype for a float input: an integer type (its values are the integers), or fixed
/// point `FIXED<W,I>` / `UFIXED<W,I>` as hls4ml's `ap_fixed<W,I>`: `W` bits in all, `I` of
/// them integer bits (the sign included for FIXED), so values are integers of `W` bits
/// times `2^-(W-I)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputType {
    Int(DataType),
    Fixed {
        bits: u32,
        int_bits: i32,
        signed: bool,
    },
}

impl InputType {
    /// The hardware integer type of the input.
    pub fn dtype(self) -> DataType {
        match self {
            InputType::Int(d) => d,
            InputType::Fixed { bits, signed, .. } => {
                if signed {
                    DataType::Int(bits)
                } else {
                    DataType::UInt(bits)
                }
            }
        }
    }

    /// Value of one integer step: 1, or `2^-(W-I)` for fixed point.
    pub fn scale(self) -> f32 {
        match self {
            InputType::Int(_) => 1.0,
            InputType::Fixed { bits, int_bits, .. } => 2f32.powi(int_bits - bits as i32),
        }
    }

    /// Whether `x` is a value of this type (exactly).
    pub fn holds(self, x: f32) -> bool {
        let q = x / self.scale();
        let d = self.dtype();
        q.is_finite()
            && q == q.trunc()
            && d.contains(q as i64)
            && !(d == DataType::Bipolar && q == 0.0)
    }
}

impl fmt::Display for InputType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputType::Int(d) => write!(f, "{d}"),
            InputType::Fixed {
                bits,
                int_bits,
                signed,
            } => write!(
                f,
                "{}FIXED<{bits},{int_bits}>",
                if *signed { "" } else { "U" }
            ),
        }
    }
}

const EXPECTED: &str = "expected BIPOLAR, BINARY, INTn, UINTn, FIXED<W,I> or UFIXED<W,I>";

impl FromStr for InputType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let up: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let fixed = up
            .strip_prefix("UFIXED<")
            .map(|r| (false, r))
            .or_else(|| up.strip_prefix("FIXED<").map(|r| (true, r)));
        let t = if let Some((signed, rest)) = fixed {
            let inner = rest
                .strip_suffix('>')
                .ok_or_else(|| format!("datatype `{s}`: {EXPECTED}"))?;
            let (w, i) = inner
                .split_once(',')
                .ok_or_else(|| format!("datatype `{s}`: {EXPECTED}"))?;
            let bits: u32 = w
                .parse()
                .map_err(|_| format!("datatype `{s}`: W must be a whole number"))?;
            let int_bits: i32 = i
                .parse()
                .map_err(|_| format!("datatype `{s}`: I must be a whole number"))?;
            let min = if signed { 2 } else { 1 };
            if !(min..=MAX_INPUT_BITS).contains(&bits) {
                return Err(format!(
                    "datatype `{s}`: W must be from {min} to {MAX_INPUT_BITS} bits"
                ));
            }
            if int_bits.unsigned_abs() > 64 {
                return Err(format!("datatype `{s}`: I must be within -64..=64"));
            }
            InputType::Fixed {
                bits,
                int_bits,
                signed,
            }
        } else {
            let d: DataType = up
                .parse()
                .map_err(|_| format!("datatype `{s}`: {EXPECTED}"))?;
            if d.bits() > MAX_INPUT_BITS {
                return Err(format!(
                    "datatype `{s}`: at most {MAX_INPUT_BITS} bits for an input"
                ));
            }
            InputType::Int(d)
        };
        Ok(t)
    }
}

/// Where a declared input type came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum DeclaredBy {
    /// A QONNX `finn_datatype` annotation on the graph input: float frames must already
    /// hold values of the type (checked on every frame).
    Annotation,
    /// `--input-type`: the host quantizes float frames to the type (round half to even,
    /// saturate), so outputs approximate the float network's.
    Flag,
}

/// The declared type of the model's input, as recorded in `model.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredInput {
    /// The graph input's name.
    pub input: String,
    /// The type as written (`INT8`, `FIXED<8,3>`, ...).
    #[serde(rename = "type")]
    pub ty: String,
    pub by: DeclaredBy,
}

impl DeclaredInput {
    pub fn input_type(&self) -> Result<InputType, String> {
        self.ty.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        for s in [
            "BIPOLAR",
            "BINARY",
            "INT8",
            "UINT4",
            "FIXED<8,3>",
            "UFIXED<6,0>",
            "FIXED<4,-2>",
        ] {
            let t: InputType = s.parse().unwrap();
            assert_eq!(t.to_string(), s);
        }
        let t: InputType = "fixed< 8 , 3 >".parse().unwrap();
        assert_eq!(t.scale(), 1.0 / 32.0);
        assert_eq!(t.dtype(), DataType::Int(8));
        assert!(t.holds(-4.0) && t.holds(3.96875) && !t.holds(4.0) && !t.holds(0.01));
        for bad in [
            "FIXED<1,1>",
            "FIXED<8>",
            "INT40",
            "FLOAT",
            "FIXED<33,1>",
            "UFIXED<8,x>",
        ] {
            assert!(bad.parse::<InputType>().is_err(), "{bad}");
        }
        assert!(!"BIPOLAR".parse::<InputType>().unwrap().holds(0.0));
    }
}
