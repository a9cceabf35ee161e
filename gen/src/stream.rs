//! Stream formats and frame packing.

use crate::ir::DataType;
use serde::{Deserialize, Serialize};

/// How frames travel on an AXI-Stream: `lanes` elements of `elem_type` a beat, lane `i` at
/// bits `[i*E +: E]` (E = `elem_type.bits()`, lane 0 in the LSBs), each element encoded by
/// [`DataType::encode`]; bits above `lanes*E` up to `tdata_bits` are zero.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamFormat {
    /// Width of the tdata port.
    pub tdata_bits: usize,
    pub lanes: usize,
    pub elem_type: DataType,
    pub beats_per_frame: usize,
}

impl StreamFormat {
    /// 32-bit words a beat (the layout of [`pack_frame`]).
    pub fn words_per_beat(&self) -> usize {
        self.tdata_bits.div_ceil(32)
    }

    /// Elements a frame.
    pub fn elems(&self) -> usize {
        self.lanes * self.beats_per_frame
    }
}

/// The beats of one frame, each as 32-bit words, least significant word first.
///
/// Panics if `values` is not `lanes * beats_per_frame` values of `elem_type` (a caller's
/// bug: frames come from the model's own shapes).
pub fn pack_frame(fmt: &StreamFormat, values: &[i64]) -> Vec<Vec<u32>> {
    assert_eq!(
        values.len(),
        fmt.elems(),
        "a frame has lanes * beats = {} values",
        fmt.elems()
    );
    let e = fmt.elem_type.bits() as usize;
    values
        .chunks(fmt.lanes)
        .map(|beat| {
            let mut words = vec![0u32; fmt.words_per_beat()];
            for (i, &v) in beat.iter().enumerate() {
                assert!(fmt.elem_type.contains(v), "{v} is not a {}", fmt.elem_type);
                let code = fmt.elem_type.encode(v);
                for b in 0..e {
                    if (code >> b) & 1 == 1 {
                        let bit = i * e + b;
                        words[bit / 32] |= 1 << (bit % 32);
                    }
                }
            }
            words
        })
        .collect()
}

/// The values of one frame from its beats (the inverse of [`pack_frame`]); bits above
/// `lanes * E` are ignored.
pub fn unpack_frame(fmt: &StreamFormat, beats: &[Vec<u32>]) -> Vec<i64> {
    let e = fmt.elem_type.bits() as usize;
    let mut out = Vec::with_capacity(beats.len() * fmt.lanes);
    for words in beats {
        for i in 0..fmt.lanes {
            let mut code = 0u64;
            for b in 0..e {
                let bit = i * e + b;
                let w = words.get(bit / 32).copied().unwrap_or(0);
                code |= u64::from((w >> (bit % 32)) & 1) << b;
            }
            out.push(fmt.elem_type.decode(code));
        }
    }
    out
}

impl StreamFormat {
    /// `t` streamed `lanes` elements a beat (exact width, no padding).
    pub fn of(t: &crate::ir::TensorType, lanes: usize) -> StreamFormat {
        StreamFormat {
            tdata_bits: lanes * t.dtype.bits() as usize,
            lanes,
            elem_type: t.dtype,
            beats_per_frame: t.elems() / lanes.max(1),
        }
    }

    /// The same stream on a port padded to whole bytes.
    pub fn padded(&self) -> StreamFormat {
        StreamFormat {
            tdata_bits: self.tdata_bits.div_ceil(8) * 8,
            ..self.clone()
        }
    }
}
