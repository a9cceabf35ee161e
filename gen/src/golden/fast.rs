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
    /// in i32 when the layer's accumulator fits 32 bits, else in i64. Every input type
    /// contains 0 or is {-1, +1}, so each product lies between its worst-case low and high
    /// terms, which have opposite signs: every partial sum stays inside `acc_range`.
    Mac {
        mw: usize,
        weights: Vec<i16>,
        narrow_acc: bool,
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
                    narrow_acc: m.acc_type().bits() <= 32,
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
                narrow_acc,
            } => {
                let xi: Vec<i16> = x.iter().map(|&v| v as i16).collect();
                weights
                    .chunks_exact(*mw)
                    .enumerate()
                    .map(|(h, row)| {
                        let acc = if *narrow_acc {
                            let s: i32 = row
                                .iter()
                                .zip(&xi)
                                .map(|(&a, &b)| i32::from(a) * i32::from(b))
                                .sum();
                            i64::from(s)
                        } else {
                            row.iter()
                                .zip(&xi)
                                .map(|(&a, &b)| i64::from(a) * i64::from(b))
                                .sum()
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
