//! A prepared form of the golden model for speed: bipolar x bipolar matrix-vector nodes as
//! bit-packed XNOR-popcount, other matrix-vector nodes as narrow multiply-accumulate,
//! thresholds by binary search; every other node by its plain evaluation. Same values as
//! [`super::run_frame`] (property-tested against it).

use super::{NodeValues, output_of, walk};
use crate::ir::{Analysis, DataType, Model, Op, Thresholds};

enum Prepared {
    /// Bit-packed rows: bit `w` of row `h` is 1 when `weights[h][w] == +1`.
    Xnor {
        mw: usize,
        words: usize,
        rows: Vec<u64>,
    },
    /// Row-major weights as i16 (every weight and input is at most 8 bits), accumulated
    /// with wrapping arithmetic in the narrowest of i16, i32 and i64 that holds the node's
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
    analysis: Analysis,
    prepared: Vec<Prepared>,
}

impl<'m> Golden<'m> {
    /// Prepare a model. Panics on an invalid model: validate first (every loader does).
    pub fn new(model: &'m Model) -> Golden<'m> {
        let analysis = model.analyze().expect("a validated model");
        let prepared = model
            .nodes
            .iter()
            .map(|n| match &n.op {
                Op::MatrixVector(m) if m.is_xnor() => {
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
                Op::MatrixVector(m) => Prepared::Mac {
                    mw: m.mw,
                    weights: m.weights.iter().map(|&w| w as i16).collect(),
                    // as a signed integer: an unsigned n-bit accumulator needs n + 1 bits
                    acc_bits: m.acc_type().bits() + u32::from(!m.acc_type().signed()),
                },
                _ => Prepared::Other,
            })
            .collect();
        Golden {
            model,
            analysis,
            prepared,
        }
    }

    pub fn model(&self) -> &'m Model {
        self.model
    }

    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// Elements of an output frame.
    pub fn output_elems(&self) -> usize {
        self.analysis
            .type_of(self.model, &self.model.outputs[0])
            .elems()
    }

    /// The hardware part of the model on one integer frame.
    pub fn run_frame(&self, x: &[i64]) -> Vec<i64> {
        let v = self.run_trace(x);
        output_of(&self.analysis, self.model, &v)
    }

    /// Every node's outputs on one frame.
    pub fn run_trace(&self, x: &[i64]) -> NodeValues {
        walk(self.model, &self.analysis, x, |id, ins| {
            self.run_node(id, ins)
        })
    }

    /// Outputs of node `id` on its inputs.
    pub fn run_node(&self, id: usize, x: &[&[i64]]) -> Vec<Vec<i64>> {
        let op = &self.model.nodes[id].op;
        let thr = match op {
            Op::MatrixVector(m) => m.thresholds.as_ref(),
            _ => None,
        };
        let act = |h: usize, acc: i64| match thr {
            Some(t) => apply_sorted(t, h, acc),
            None => acc,
        };
        match &self.prepared[id] {
            Prepared::Xnor { mw, words, rows } => {
                let mut out = Vec::new();
                let mut packed = vec![0u64; *words];
                for px in x[0].chunks_exact(*mw) {
                    packed.iter_mut().for_each(|w| *w = 0);
                    for (w, &v) in px.iter().enumerate() {
                        if v > 0 {
                            packed[w / 64] |= 1 << (w % 64);
                        }
                    }
                    out.extend(rows.chunks_exact(*words).enumerate().map(|(h, row)| {
                        // weights and inputs agree where the xor is 0; padding bits are 0 in both
                        let differ: u32 = row
                            .iter()
                            .zip(&packed)
                            .map(|(a, b)| (a ^ b).count_ones())
                            .sum();
                        act(h, *mw as i64 - 2 * differ as i64)
                    }));
                }
                vec![out]
            }
            Prepared::Mac {
                mw,
                weights,
                acc_bits,
            } => {
                let mut out = Vec::new();
                for px in x[0].chunks_exact(*mw) {
                    let xi: Vec<i16> = px.iter().map(|&v| v as i16).collect();
                    out.extend(weights.chunks_exact(*mw).enumerate().map(|(h, row)| {
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
                    }));
                }
                vec![out]
            }
            Prepared::Other => op.as_kind().eval(&self.analysis.in_types[id], x),
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
