//! A prepared form of the golden model for speed: bipolar x bipolar layers as bit-packed
//! XNOR-popcount, other matrix-vector layers as `i32` multiply-accumulate, thresholds by
//! binary search. Same values as [`super::run_frame`] (property-tested against it).

use crate::ir::{DataType, Layer, Model, Thresholds};

enum Prepared {
    /// Bit-packed rows: bit `w` of row `h` is 1 when `weights[h][w] == +1`.
    Xnor {
        mw: usize,
        words: usize,
        rows: Vec<u64>,
    },
    /// Row-major weights as i16 (every weight and input is at most 8 bits), accumulated
    /// with wrapping arithmetic in the narrowest of i16, i32 and i64 that holds the layer's
    /// accumulator type (`acc_bits`: its width as a signed integer): a wrapping sum is exact
    /// modulo 2^n, and the true sum fits n bits.
    Mac {
        mw: usize,
        weights: Vec<i16>,
        acc_bits: u32,
    },
    Other,
}

/// A model prepared for fast evaluation. Build once, run many frames.
pub struct Golden<'m> {
    model: &'m Model,
    prepared: Vec<Prepared>,
}

impl<'m> Golden<'m> {
    pub fn new(model: &'m Model) -> Golden<'m> {
        let prepared = model
            .layers
            .iter()
            .map(|l| match l {
                Layer::MatrixVector(m)
                    if m.input_type == DataType::Bipolar && m.weight_type == DataType::Bipolar =>
                {
                    let words = m.mw.div_ceil(64);
                    let mut rows = vec![0u64; words * m.mh];
                    for (h, row) in m.weights.chunks_exact(m.mw).enumerate() {
                        for (w, &v) in row.iter().enumerate() {
                            if v > 0 {
                                rows[h * words + w / 64] |= 1 << (w % 64);
                            }
                        }
                    }
                    Prepared::Xnor {
                        mw: m.mw,
                        words,
                        rows,
                    }
                }
                Layer::MatrixVector(m) => Prepared::Mac {
                    mw: m.mw,
                    weights: m.weights.iter().map(|&w| w as i16).collect(),
                    // as a signed integer: an unsigned n-bit accumulator needs n + 1 bits
                    acc_bits: m.acc_type().bits() + u32::from(!m.acc_type().signed()),
                },
                _ => Prepared::Other,
            })
            .collect();
        Golden { model, prepared }
    }

    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// The hardware part of the model on one integer frame.
    pub fn run_frame(&self, x: &[i64]) -> Vec<i64> {
        let mut v = x.to_vec();
        for i in 0..self.model.layers.len() {
            v = self.run_layer(i, &v);
        }
        v
    }

    /// Output of layer `i` on its input `x`.
    pub fn run_layer(&self, i: usize, x: &[i64]) -> Vec<i64> {
        let layer = &self.model.layers[i];
        let thr = match layer {
            Layer::MatrixVector(m) => m.thresholds.as_ref(),
            _ => None,
        };
        let act = |h: usize, acc: i64| match thr {
            Some(t) => apply_sorted(t, h, acc),
            None => acc,
        };
        match &self.prepared[i] {
            Prepared::Xnor { mw, words, rows } => {
                let mut packed = vec![0u64; *words];
                for (w, &v) in x.iter().enumerate() {
                    if v > 0 {
                        packed[w / 64] |= 1 << (w % 64);
                    }
                }
                rows.chunks_exact(*words)
                    .enumerate()
                    .map(|(h, row)| {
                        // weights and inputs agree where the xor is 0; padding bits are 0 in both
                        let differ: u32 = row
                            .iter()
                            .zip(&packed)
                            .map(|(a, b)| (a ^ b).count_ones())
                            .sum();
                        act(h, *mw as i64 - 2 * differ as i64)
                    })
                    .collect()
            }
            Prepared::Mac {
                mw,
                weights,
                acc_bits,
            } => {
                let xi: Vec<i16> = x.iter().map(|&v| v as i16).collect();
                weights
                    .chunks_exact(*mw)
                    .enumerate()
                    .map(|(h, row)| {
                        let pairs = row.iter().zip(&xi);
                        let acc = if *acc_bits <= 16 {
                            let s =
                                pairs.fold(0i16, |s, (&a, &b)| s.wrapping_add(a.wrapping_mul(b)));
                            i64::from(s)
                        } else if *acc_bits <= 32 {
                            let s = pairs.fold(0i32, |s, (&a, &b)| {
                                s.wrapping_add(i32::from(a) * i32::from(b))
                            });
                            i64::from(s)
                        } else {
                            pairs.map(|(&a, &b)| i64::from(a) * i64::from(b)).sum()
                        };
                        act(h, acc)
                    })
                    .collect()
            }
            Prepared::Other => super::run_layer(layer, x),
        }
    }
}

/// [`Thresholds::apply`] by binary search over the sorted row.
fn apply_sorted(t: &Thresholds, channel: usize, x: i64) -> i64 {
    let n = t.row(channel).partition_point(|&v| v <= x) as i64;
    if t.out_type == DataType::Bipolar {
        2 * n - 1
    } else {
        t.out_bias + n
    }
}
