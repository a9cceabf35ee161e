//! Integer datatypes of weights, activations and accumulators.
//!
//! Names follow FINN/qonnx (`BIPOLAR`, `BINARY`, `INT4`, `UINT2`, ...). A value of a
//! datatype is always held as its semantic integer (`-1`/`+1` for bipolar); the bit
//! encoding on a stream is [`DataType::encode`]: bipolar `+1` is bit 1 and `-1` is bit 0,
//! signed integers are two's complement.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Widest integer the IR represents (accumulators included).
pub const MAX_BITS: u32 = 62;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DataType {
    /// {-1, +1}, one bit: 1 means +1.
    Bipolar,
    /// {0, 1}.
    Binary,
    /// Two's complement signed integer of the given width.
    Int(u32),
    /// Unsigned integer of the given width.
    UInt(u32),
}

impl DataType {
    /// Bits a value of this type occupies on a stream or in memory.
    pub fn bits(self) -> u32 {
        match self {
            DataType::Bipolar | DataType::Binary => 1,
            DataType::Int(n) | DataType::UInt(n) => n,
        }
    }

    pub fn signed(self) -> bool {
        matches!(self, DataType::Bipolar | DataType::Int(_))
    }

    pub fn min(self) -> i64 {
        match self {
            DataType::Bipolar => -1,
            DataType::Binary => 0,
            DataType::Int(n) => -(1i64 << (n - 1)),
            DataType::UInt(_) => 0,
        }
    }

    pub fn max(self) -> i64 {
        match self {
            DataType::Bipolar | DataType::Binary => 1,
            DataType::Int(n) => (1i64 << (n - 1)) - 1,
            DataType::UInt(n) => (1i64 << n) - 1,
        }
    }

    /// Whether `v` is a value of this type (bipolar excludes 0).
    pub fn contains(self, v: i64) -> bool {
        match self {
            DataType::Bipolar => v == -1 || v == 1,
            _ => v >= self.min() && v <= self.max(),
        }
    }

    /// Bit pattern of `v` in `bits()` bits (low bits of the result).
    pub fn encode(self, v: i64) -> u64 {
        debug_assert!(self.contains(v), "{v} is not a {self}");
        match self {
            DataType::Bipolar => u64::from(v > 0),
            _ => (v as u64) & mask(self.bits()),
        }
    }

    /// Semantic value of the low `bits()` bits of `raw`.
    pub fn decode(self, raw: u64) -> i64 {
        let b = self.bits();
        let raw = raw & mask(b);
        match self {
            DataType::Bipolar => {
                if raw == 1 {
                    1
                } else {
                    -1
                }
            }
            DataType::Binary | DataType::UInt(_) => raw as i64,
            DataType::Int(_) => {
                let sign = 1u64 << (b - 1);
                if raw & sign != 0 {
                    (raw as i64) - (1i64 << b)
                } else {
                    raw as i64
                }
            }
        }
    }

    /// The narrowest signed or unsigned integer type holding every value in `lo..=hi`
    /// (unsigned when `lo >= 0`; at least 1 bit wide, or 2 bits when signed).
    pub fn smallest_containing(lo: i64, hi: i64) -> DataType {
        assert!(lo <= hi);
        if lo >= 0 {
            let n = bits_for_unsigned(hi as u64).max(1);
            DataType::UInt(n)
        } else {
            // signed n bits hold -(2^(n-1)) ..= 2^(n-1)-1
            let mut n = 2;
            while !(DataType::Int(n).min() <= lo && DataType::Int(n).max() >= hi) {
                n += 1;
            }
            DataType::Int(n)
        }
    }

    /// Whether this type may carry weights or activations between engines
    /// (bipolar, binary, or 2..=8-bit integers).
    pub fn is_activation_type(self) -> bool {
        match self {
            DataType::Bipolar | DataType::Binary => true,
            DataType::Int(n) | DataType::UInt(n) => (2..=8).contains(&n),
        }
    }

    /// Whether this type is a legal integer type at all (1..=MAX_BITS bits).
    pub fn is_valid(self) -> bool {
        match self {
            DataType::Bipolar | DataType::Binary => true,
            DataType::Int(n) => (2..=MAX_BITS).contains(&n),
            DataType::UInt(n) => (1..=MAX_BITS).contains(&n),
        }
    }
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Number of bits needed to represent `v` as an unsigned integer (0 for 0).
pub fn bits_for_unsigned(v: u64) -> u32 {
    64 - v.leading_zeros()
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Bipolar => write!(f, "BIPOLAR"),
            DataType::Binary => write!(f, "BINARY"),
            DataType::Int(n) => write!(f, "INT{n}"),
            DataType::UInt(n) => write!(f, "UINT{n}"),
        }
    }
}

impl FromStr for DataType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let up = s.trim().to_ascii_uppercase();
        let dt = match up.as_str() {
            "BIPOLAR" => DataType::Bipolar,
            "BINARY" => DataType::Binary,
            _ => {
                let (ctor, digits): (fn(u32) -> DataType, &str) =
                    if let Some(d) = up.strip_prefix("UINT") {
                        (DataType::UInt, d)
                    } else if let Some(d) = up.strip_prefix("INT") {
                        (DataType::Int, d)
                    } else {
                        return Err(format!(
                            "unknown datatype `{s}` (expected BIPOLAR, BINARY, INTn or UINTn)"
                        ));
                    };
                let n: u32 = digits.parse().map_err(|_| {
                    format!("unknown datatype `{s}` (expected BIPOLAR, BINARY, INTn or UINTn)")
                })?;
                ctor(n)
            }
        };
        if !dt.is_valid() {
            return Err(format!(
                "datatype `{s}` has an unsupported width (1..={MAX_BITS} bits)"
            ));
        }
        Ok(dt)
    }
}

impl TryFrom<String> for DataType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<DataType> for String {
    fn from(d: DataType) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_codes() {
        assert_eq!((DataType::Int(4).min(), DataType::Int(4).max()), (-8, 7));
        assert_eq!((DataType::UInt(3).min(), DataType::UInt(3).max()), (0, 7));
        for dt in [
            DataType::Bipolar,
            DataType::Binary,
            DataType::Int(2),
            DataType::Int(8),
            DataType::UInt(5),
        ] {
            for v in dt.min()..=dt.max() {
                if dt.contains(v) {
                    assert_eq!(dt.decode(dt.encode(v)), v, "{dt} {v}");
                }
            }
        }
        assert!(!DataType::Bipolar.contains(0));
    }

    #[test]
    fn smallest_containing() {
        assert_eq!(DataType::smallest_containing(0, 1), DataType::UInt(1));
        assert_eq!(DataType::smallest_containing(0, 784), DataType::UInt(10));
        assert_eq!(DataType::smallest_containing(-784, 784), DataType::Int(11));
        assert_eq!(DataType::smallest_containing(-8, 7), DataType::Int(4));
        assert_eq!(DataType::smallest_containing(-8, 8), DataType::Int(5));
    }

    #[test]
    fn names_round_trip() {
        for s in ["BIPOLAR", "BINARY", "INT2", "UINT8", "INT24"] {
            assert_eq!(s.parse::<DataType>().unwrap().to_string(), s);
        }
        assert!("FLOAT32".parse::<DataType>().is_err());
        assert!("INT0".parse::<DataType>().is_err());
    }
}
