//! A `Concat` of quantized activations along the channels, followed (through per-channel
//! monotone float operations such as Relu) by an activation quantizer, becomes a concat of
//! the inputs' integer levels and a `MultiThreshold` on it:
//! `Concat(a, b, ...) -> ... -> Quant` with `a = la * sa` becomes
//! `Concat(Round(a / sa), Round(b / sb), ...) -> MultiThreshold [-> Mul(scale)]`.
//!
//! The inputs' scales may differ, per tensor or per channel: channel `c` of the
//! concatenation carries the scale of the input it comes from, and the thresholds of channel
//! `c` absorb it (the requantizer after a Concat of branches quantized apart). Without a
//! quantizer after it, a Concat keeps its inputs' scales (`lower` takes one scale for all
//! or refuses one a dense layer cannot take).
//!
//! Exactness by enumeration: for every channel the pass evaluates the exact reference ops
//! (the executor's kernels) on every level of the input that channel comes from (the value
//! `fl(l * s)` the reference concatenates), and checks that the quantized result does not
//! decrease with the level. Each threshold is the smallest level reaching its output level.

use super::PassError;
use crate::import::UnsupportedNode;
use crate::import::graph::{Edits, Graph, Node, Op, QInfo, Tensor};
use crate::ir::DataType;
use crate::ir::host::quant_range;

pub const NAME: &str = "absorb-concat";

/// Most levels of one input enumerated.
const MAX_LEVELS: i64 = 1 << 12;

use super::absorb_add::{Sweep, per_channel};

pub fn run(g: &mut Graph) -> Result<bool, PassError> {
    let cats: Vec<usize> = (0..g.nodes.len())
        .filter(|&i| {
            let n = &g.nodes[i];
            matches!(n.op, Op::Concat { .. })
                && n.inputs.len() >= 2
                && !n.inputs.iter().any(|t| t.is_empty() || g.is_const(t))
        })
        .collect();
    if cats.is_empty() {
        return Ok(false);
    }
    let mut sw = Sweep {
        index: g.index(),
        names: g.names(),
        edits: Edits::default(),
    };
    for i in cats {
        try_absorb(g, &mut sw, i)?;
    }
    let changed = !sw.edits.is_empty();
    g.apply(sw.edits);
    Ok(changed)
}

/// The `[1, C, 1...]` shape of one value per channel of a `[1, C, ...]` tensor.
fn channel_shape(shape: &[usize]) -> Option<Vec<usize>> {
    match shape {
        [1, c, rest @ ..] => {
            let mut s = vec![1, *c];
            s.extend(std::iter::repeat_n(1, rest.len()));
            Some(s)
        }
        _ => None,
    }
}

/// One input of the concat: its tensor, quantization, scale per channel and levels.
struct Input {
    name: String,
    q: QInfo,
    scale: Vec<f32>,
    lo: i64,
    hi: i64,
}

fn try_absorb(g: &mut Graph, sw: &mut Sweep, ci: usize) -> Result<bool, PassError> {
    let cat = g.nodes[ci].clone();
    let Op::Concat { axis } = cat.op else {
        return Ok(false);
    };
    let full_shape = g.shapes.get(&cat.outputs[0]).cloned().unwrap_or_default();
    let r = full_shape.len() as i64;
    if (if axis < 0 { axis + r } else { axis }) != 1 || !(2..=4).contains(&r) {
        return Ok(false);
    }
    let Some(ch_shape) = channel_shape(&full_shape) else {
        return Ok(false);
    };
    let c = full_shape[1];
    // The inputs: quantized, integral zero point, one scale or one per channel.
    let mut ins = Vec::new();
    for x in &cat.inputs {
        let (Some(q), Some(s)) = (g.qinfo.get(x), g.shapes.get(x)) else {
            return Ok(false);
        };
        let Some(cs) = channel_shape(s) else {
            return Ok(false);
        };
        let (Some(scale), Some(z)) = (per_channel(&q.scale, &cs), q.zero_point.single_f32()) else {
            return Ok(false);
        };
        if z != z.trunc() || !scale.iter().all(|&v| v > 0.0 && v.is_finite()) {
            return Ok(false);
        }
        let (lo, hi) = if q.dtype == DataType::Bipolar {
            (-1, 1)
        } else {
            (
                q.dtype.min().saturating_sub(z as i64),
                q.dtype.max().saturating_sub(z as i64),
            )
        };
        if hi.saturating_sub(lo) >= MAX_LEVELS {
            return Ok(false);
        }
        ins.push(Input {
            name: x.clone(),
            q: q.clone(),
            scale,
            lo,
            hi,
        });
    }
    // Follow the single-reader chain of per-channel elementwise ops to a quantizer.
    let Some((chain, qi, qnode)) =
        super::absorb_add::requant_chain(g, &sw.index, &cat.outputs[0], &full_shape, &ch_shape)
    else {
        return Ok(false);
    };
    let unsupported = |hint: String| PassError::Unsupported {
        nodes: vec![UnsupportedNode {
            name: cat.name.clone(),
            op_type: "Concat".into(),
            domain: String::new(),
            hint,
        }],
    };
    // the quantizer's scale is a constant (the thresholds' output is rescaled by it)
    if qnode.inputs.get(1).and_then(|k| g.consts.get(k)).is_none() {
        return Ok(false);
    }
    // The closing quantizer: bipolar, or levels round(y / scale[c]) from lmin to lmax.
    let (bipolar, qscale, lmin, lmax, out_dtype) = match &qnode.op {
        Op::BipolarQuant => (true, vec![1.0; c], -1, 1, DataType::Bipolar),
        &Op::Quant { signed, narrow, .. } => {
            let konst = |i: usize| g.consts.get(&qnode.inputs[i]);
            let (Some(s), Some(z), Some(b)) = (konst(1), konst(2), konst(3)) else {
                return Ok(false);
            };
            let (Some(s), Some(z), Some(b)) =
                (per_channel(s, &ch_shape), z.single_f32(), b.single_f32())
            else {
                return Ok(false);
            };
            if z != z.trunc() || !(1.0..=8.0).contains(&b) {
                return Ok(false);
            }
            let (lo, hi) = quant_range(b as u32, signed, narrow);
            let (lmin, lmax) = (lo.saturating_sub(z as i64), hi.saturating_sub(z as i64));
            let dtype = if z == 0.0 {
                super::fold_constants::quant_dtype(b as u32, signed, narrow)
            } else {
                match super::int_type(lmin, lmax) {
                    t if t.bits() >= 2 => t,
                    _ if lmin >= 0 => DataType::Binary,
                    _ => DataType::Int(2),
                }
            };
            if dtype == DataType::Bipolar {
                (true, vec![1.0; c], -1, 1, dtype)
            } else {
                (false, s, lmin, lmax, dtype)
            }
        }
        _ => unreachable!("the loop breaks on quantizers only"),
    };
    // Channel ch of the output: input `from[ch]`, its channel `local[ch]`.
    let mut from = Vec::with_capacity(c);
    let mut local = Vec::with_capacity(c);
    for (i, inp) in ins.iter().enumerate() {
        for k in 0..inp.scale.len() {
            from.push(i);
            local.push(k);
        }
    }
    if from.len() != c {
        return Ok(false);
    }
    // Row j of the batch: every channel at its input's level lo + j (clamped; a bipolar
    // input's rows are -1 and +1), as the value fl(l * s) the reference concatenates.
    let levels = |inp: &Input| -> Vec<i64> {
        if inp.q.dtype == DataType::Bipolar {
            vec![-1, 1]
        } else {
            (inp.lo..=inp.hi).collect()
        }
    };
    let rows = ins.iter().map(|i| levels(i).len()).max().unwrap_or(1);
    let level_of = |ch: usize, j: usize| -> i64 {
        let l = levels(&ins[from[ch]]);
        l[j.min(l.len() - 1)]
    };
    let mut shape = ch_shape.clone();
    shape[0] = rows;
    let mut v = Vec::with_capacity(rows * c);
    for j in 0..rows {
        for ch in 0..c {
            v.push(level_of(ch, j) as f32 * ins[from[ch]].scale[local[ch]]);
        }
    }
    let mut t = Tensor::f32(shape.clone(), v);
    for node in chain.iter().map(|(_, n)| n).chain(std::iter::once(&qnode)) {
        t = super::eval_on(g, node, &t)?;
    }
    if t.shape != shape {
        return Ok(false);
    }
    let y = t.to_f32();
    let targets: Vec<i64> = if bipolar {
        vec![1]
    } else {
        (lmin + 1..=lmax).collect()
    };
    let mut thr: Vec<Vec<i64>> = Vec::with_capacity(c);
    for ch in 0..c {
        // (input level, output level), by input level
        let mut s: Vec<(i64, i64)> = (0..rows)
            .map(|j| {
                let v = y[j * c + ch];
                let out = if bipolar {
                    if v >= 0.0 { 1 } else { -1 }
                } else {
                    (v / qscale[ch]).round() as i64
                };
                (level_of(ch, j), out)
            })
            .collect();
        s.sort_unstable();
        s.dedup();
        if let Some(w) = s.windows(2).find(|w| w[1].1 < w[0].1) {
            return Err(unsupported(format!(
                "channel {ch}: the float operations after the concat decrease (level {} gives {}, level {} gives {}), \
                 so they cannot become thresholds",
                w[0].0, w[0].1, w[1].0, w[1].1
            )));
        }
        let never = s.last().map_or(0, |l| l.0) + 1;
        thr.push(
            targets
                .iter()
                .map(|&l| s.iter().find(|(_, lv)| *lv >= l).map_or(never, |(x, _)| *x))
                .collect(),
        );
    }
    // Rewrite: integer inputs, the concat, thresholds, the quantizer's scale.
    let names = &mut sw.names;
    let mut new: Vec<Node> = Vec::new();
    let mut ints = Vec::new();
    for inp in &ins {
        let x = &inp.name;
        let ks = names.fresh(&format!("{}_{x}_scale", cat.name));
        g.consts.insert(ks.clone(), inp.q.scale.clone());
        let div = names.fresh(&format!("{x}_unscaled"));
        let int = names.fresh(&format!("{x}_levels"));
        new.push(Node {
            name: names.fresh(&format!("{}_unscale_{x}", cat.name)),
            op: Op::Div,
            inputs: vec![x.clone(), ks],
            outputs: vec![div.clone()],
        });
        new.push(Node {
            name: names.fresh(&format!("{}_round_{x}", cat.name)),
            op: Op::Round,
            inputs: vec![div],
            outputs: vec![int.clone()],
        });
        ints.push(int);
    }
    let joined = names.fresh(&format!("{}_levels", cat.name));
    new.push(Node {
        name: cat.name.clone(),
        op: cat.op.clone(),
        inputs: ints,
        outputs: vec![joined.clone()],
    });
    let closing = super::absorb_add::Requantizer {
        node: &qnode,
        bipolar,
        lmin,
        out_dtype,
    };
    super::absorb_add::finish(g, sw, closing, joined, &thr, new, (&chain, qi, ci));
    Ok(true)
}
