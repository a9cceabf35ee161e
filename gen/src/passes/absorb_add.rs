//! A residual `Add` of two quantized activations, followed (through per-channel monotone
//! float operations such as Relu) by an activation quantizer, becomes an integer add of
//! the operands' levels and a `MultiThreshold` on the sum:
//! `Add(a, b) -> ... -> Quant` with `a = la * sa`, `b = lb * sb` becomes
//! `Add(Round(a / sa) [* 2^ka], Round(b / sb) [* 2^kb]) -> MultiThreshold [-> Mul(scale)]`.
//!
//! The operands' scales must be equal (by value: Brevitas exports a shared quantizer as
//! separate, equal-valued tensors) or differ by a power of two, per channel by the same
//! factor; the sum is then an exact integer in units of the smaller scale. Any other
//! ratio is refused with an error naming the Add.
//!
//! Exactness by enumeration: the reference computes `fl(la*sa) + fl(lb*sb)` in `f32` and
//! then the float chain, which is not always a function of the integer sum when the scales
//! are not powers of two. So the pass evaluates the exact reference ops (the executor's
//! kernels) on every pair of operand levels, per channel, and checks that the quantized
//! result depends only on the integer sum and grows with it. Each threshold is the
//! smallest sum reaching its level; a model where a pair disagrees (the float rounding of
//! the two products lands on a quantization boundary) is refused, never silently changed.

use super::PassError;
use crate::import::UnsupportedNode;
use crate::import::exec;
use crate::import::graph::{Edits, Graph, Index, Names, Node, Op, Tensor};
use crate::ir::DataType;
use crate::ir::host::quant_range;

pub const NAME: &str = "absorb-add";

/// Most operand level pairs enumerated (two 9-bit operands).
const MAX_PAIRS: usize = 1 << 18;

/// Values evaluated at once (pairs x channels).
const CHUNK: usize = 1 << 20;

/// What one sweep shares: the look-ups of the graph it started from, fresh names and the
/// structural edits (applied at the end). The chains of two adds never share a node.
pub(super) struct Sweep {
    pub(super) index: Index,
    pub(super) names: Names,
    pub(super) edits: Edits,
}

pub fn run(g: &mut Graph) -> Result<bool, PassError> {
    let adds: Vec<usize> = (0..g.nodes.len())
        .filter(|&i| {
            let n = &g.nodes[i];
            n.op == Op::Add && n.inputs.len() == 2 && !n.inputs.iter().any(|t| g.is_const(t))
        })
        .collect();
    if adds.is_empty() {
        return Ok(false);
    }
    let mut sw = Sweep {
        index: g.index(),
        names: g.names(),
        edits: Edits::default(),
    };
    for i in adds {
        try_absorb(g, &mut sw, i)?;
    }
    let changed = !sw.edits.is_empty();
    g.apply(sw.edits);
    Ok(changed)
}

/// The quantizer closing the chain after the add.
enum Closing {
    Bipolar,
    /// Levels `round(y / scale[c])`, from `lmin` to `lmax`.
    Int {
        scale: Vec<f32>,
        lmin: i64,
        lmax: i64,
        dtype: DataType,
    },
}

/// A constant broadcast to `shape` ([1, C, 1...] or [1, N]) as one value per channel.
pub(super) fn per_channel(t: &Tensor, shape: &[usize]) -> Option<Vec<f32>> {
    let zeros = Tensor::f32(shape.to_vec(), vec![0.0; shape.iter().product()]);
    let full = exec::binary(&zeros, t, |_, b| b).ok()?;
    (full.shape == shape).then(|| full.to_f32())
}

fn try_absorb(g: &mut Graph, sw: &mut Sweep, ai: usize) -> Result<bool, PassError> {
    let add = g.nodes[ai].clone();
    let (xa, xb) = (&add.inputs[0], &add.inputs[1]);
    let (Some(qa), Some(qb)) = (g.qinfo.get(xa).cloned(), g.qinfo.get(xb).cloned()) else {
        return Ok(false);
    };
    let full_shape = g.shapes.get(&add.outputs[0]).cloned().unwrap_or_default();
    if g.shapes.get(xa) != Some(&full_shape) || g.shapes.get(xb) != Some(&full_shape) {
        return Ok(false);
    }
    // One value per channel: [1, C, 1...] for a feature map, the vector itself for [1, N].
    let (c, ch_shape) = match full_shape.as_slice() {
        [1, n] => (*n, vec![1, *n]),
        [1, c, rest @ ..] if !rest.is_empty() => {
            let mut s = vec![1, *c];
            s.extend(std::iter::repeat_n(1, rest.len()));
            (*c, s)
        }
        _ => return Ok(false),
    };
    let Some((chain, qi, qnode)) =
        requant_chain(g, &sw.index, &add.outputs[0], &full_shape, &ch_shape)
    else {
        return Ok(false);
    };
    let unsupported = |hint: String| PassError::Unsupported {
        nodes: vec![UnsupportedNode {
            name: add.name.clone(),
            op_type: "Add".into(),
            domain: String::new(),
            hint,
        }],
    };
    // The operands: levels l - z in units of their scale, per channel.
    let operand = |q: &crate::import::graph::QInfo,
                   t: &str|
     -> Result<(Vec<f32>, i64, i64), PassError> {
        let z = q.zero_point.single_f32().filter(|z| *z == z.trunc());
        let s = per_channel(&q.scale, &ch_shape);
        match (z, s) {
            (Some(z), Some(s)) => {
                let (lo, hi) = if q.dtype == DataType::Bipolar {
                    (-1, 1)
                } else {
                    (q.dtype.min() - z as i64, q.dtype.max() - z as i64)
                };
                Ok((s, lo, hi))
            }
            _ => Err(unsupported(format!(
                "operand `{t}` has a per-element scale or a non-integer zero point; a residual Add takes operands \
                 quantized per tensor or per channel"
            ))),
        }
    };
    let (sa, alo, ahi) = operand(&qa, xa)?;
    let (sb, blo, bhi) = operand(&qb, xb)?;
    // sa = sb * 2^k on every channel, one k.
    let ratio = (-16i32..=16).find(|&k| {
        (0..c).all(|i| {
            let f = 2f32.powi(k);
            sa[i] == sb[i] * f
        })
    });
    let Some(k) = ratio else {
        let r: Vec<f32> = (0..c.min(4)).map(|i| sa[i] / sb[i]).collect();
        return Err(unsupported(format!(
            "the operands' scales differ by the factor(s) {r:?}, not by one power of two: the hardware adds integers \
             in one unit (quantize both operands with the same quantizer, or scales a power of two apart)"
        )));
    };
    let (ka, kb) = if k >= 0 {
        (k as u32, 0)
    } else {
        (0, (-k) as u32)
    };
    let pairs = ((ahi - alo + 1) as usize).saturating_mul((bhi - blo + 1) as usize);
    if pairs > MAX_PAIRS {
        return Err(unsupported(format!(
            "operands of {} and {} levels: at most {MAX_PAIRS} level pairs are supported",
            ahi - alo + 1,
            bhi - blo + 1
        )));
    }
    let closing = match &qnode.op {
        Op::BipolarQuant => Closing::Bipolar,
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
            let (lmin, lmax) = (lo - z as i64, hi - z as i64);
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
                Closing::Bipolar
            } else {
                Closing::Int {
                    scale: s,
                    lmin,
                    lmax,
                    dtype,
                }
            }
        }
        _ => unreachable!("the loop breaks on quantizers only"),
    };
    // Evaluate the reference ops on every pair of levels, a chunk of pairs at a time
    // (pairs on the batch axis, channels on axis 1).
    let la: Vec<i64> = (alo..=ahi).collect();
    let lb: Vec<i64> = (blo..=bhi).collect();
    let all: Vec<(i64, i64)> = la
        .iter()
        .flat_map(|&x| lb.iter().map(move |&y| (x, y)))
        .collect();
    // per channel: (sum, level) of every pair
    let mut seen: Vec<Vec<(i64, i64)>> = vec![Vec::with_capacity(all.len()); c];
    let per = (CHUNK / c.max(1)).max(1);
    for part in all.chunks(per) {
        let p = part.len();
        let mut shape = ch_shape.clone();
        shape[0] = p;
        let val = |s: &[f32], pick: fn(&(i64, i64)) -> i64| -> Tensor {
            let mut v = Vec::with_capacity(p * c);
            for pr in part {
                for &si in s.iter().take(c) {
                    v.push(pick(pr) as f32 * si);
                }
            }
            Tensor::f32(shape.clone(), v)
        };
        let (ta, tb) = (val(&sa, |p| p.0), val(&sb, |p| p.1));
        let mut t = exec::eval(&add, &[Some(&ta), Some(&tb)])
            .map_err(|e| PassError::invalid(&add.name, None, e))?
            .remove(0);
        for node in chain.iter().map(|(_, n)| n).chain(std::iter::once(&qnode)) {
            t = super::eval_on(g, node, &t)?;
        }
        if t.shape != shape {
            return Ok(false);
        }
        let y = t.to_f32();
        for (j, pr) in part.iter().enumerate() {
            let sum = (pr.0 << ka) + (pr.1 << kb);
            for (ch, s) in seen.iter_mut().enumerate() {
                let v = y[j * c + ch];
                let level = match &closing {
                    Closing::Bipolar => {
                        if v >= 0.0 {
                            1
                        } else {
                            -1
                        }
                    }
                    Closing::Int { scale, .. } => (v / scale[ch]).round() as i64,
                };
                s.push((sum, level));
            }
        }
    }
    let (lmin, lmax) = match &closing {
        Closing::Bipolar => (-1, 1),
        Closing::Int { lmin, lmax, .. } => (*lmin, *lmax),
    };
    let targets: Vec<i64> = match &closing {
        Closing::Bipolar => vec![1],
        Closing::Int { .. } => (lmin + 1..=lmax).collect(),
    };
    let mut thr: Vec<Vec<i64>> = Vec::with_capacity(c);
    for (ch, s) in seen.iter_mut().enumerate() {
        s.sort_unstable();
        s.dedup();
        if let Some(w) = s.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(unsupported(format!(
                "channel {ch}: operand pairs with the integer sum {} requantize to {} and {} (the float products' \
                 rounding lands on a quantization boundary), so no integer add reproduces the reference exactly",
                w[0].0, w[0].1, w[1].1
            )));
        }
        if let Some(w) = s.windows(2).find(|w| w[1].1 < w[0].1) {
            return Err(unsupported(format!(
                "channel {ch}: the float operations after the add decrease (sum {} gives {}, sum {} gives {}), so \
                 they cannot become thresholds",
                w[0].0, w[0].1, w[1].0, w[1].1
            )));
        }
        let never = s.last().map_or(0, |l| l.0) + 1;
        thr.push(
            targets
                .iter()
                .map(|&l| {
                    s.iter()
                        .find(|(_, lv)| *lv >= l)
                        .map_or(never, |(sum, _)| *sum)
                })
                .collect(),
        );
    }
    // Rewrite: integer operands, the add, thresholds, the quantizer's scale.
    let mut new: Vec<Node> = Vec::new();
    let operand_int = |g: &mut Graph,
                       names: &mut Names,
                       x: &str,
                       q: &crate::import::graph::QInfo,
                       shift: u32,
                       new: &mut Vec<Node>|
     -> String {
        let ks = names.fresh(&format!("{}_{x}_scale", add.name));
        g.consts.insert(ks.clone(), q.scale.clone());
        let div = names.fresh(&format!("{x}_unscaled"));
        let int = names.fresh(&format!("{x}_levels"));
        new.push(Node {
            name: names.fresh(&format!("{}_unscale_{x}", add.name)),
            op: Op::Div,
            inputs: vec![x.to_string(), ks],
            outputs: vec![div.clone()],
        });
        new.push(Node {
            name: names.fresh(&format!("{}_round_{x}", add.name)),
            op: Op::Round,
            inputs: vec![div],
            outputs: vec![int.clone()],
        });
        if shift == 0 {
            return int;
        }
        let kf = names.fresh(&format!("{}_{x}_shift", add.name));
        g.consts
            .insert(kf.clone(), Tensor::scalar(2f32.powi(shift as i32)));
        let sh = names.fresh(&format!("{x}_shifted"));
        new.push(Node {
            name: names.fresh(&format!("{}_shift_{x}", add.name)),
            op: Op::Mul,
            inputs: vec![int, kf],
            outputs: vec![sh.clone()],
        });
        sh
    };
    let names = &mut sw.names;
    let ia = operand_int(g, names, xa, &qa, ka, &mut new);
    let ib = operand_int(g, names, xb, &qb, kb, &mut new);
    let sum = names.fresh(&format!("{}_sum", add.name));
    new.push(Node {
        name: add.name.clone(),
        op: Op::Add,
        inputs: vec![ia, ib],
        outputs: vec![sum.clone()],
    });
    let (bipolar, out_dtype) = match &closing {
        Closing::Bipolar => (true, DataType::Bipolar),
        Closing::Int { dtype, .. } => (false, *dtype),
    };
    let closing = Requantizer {
        node: &qnode,
        bipolar,
        lmin,
        out_dtype,
    };
    finish(g, sw, closing, sum, &thr, new, (&chain, qi, ai));
    Ok(true)
}

/// The requantizer a pass replaces by thresholds: its node, whether it is bipolar, its
/// lowest level and its output type.
pub(super) struct Requantizer<'a> {
    pub node: &'a Node,
    pub bipolar: bool,
    pub lmin: i64,
    pub out_dtype: DataType,
}

/// The end of absorbing a requantizer: `thr` (a row a channel) becomes a constant, a
/// `MultiThreshold` on `input` gives the quantizer's levels (times its scale when that is not
/// 1), appended to `new`; the chain's nodes and the quantizer go and `new` replaces node
/// `at`.
pub(super) fn finish(
    g: &mut Graph,
    sw: &mut Sweep,
    q: Requantizer,
    input: String,
    thr: &[Vec<i64>],
    mut new: Vec<Node>,
    (chain, qi, at): (&[(usize, Node)], usize, usize),
) {
    let names = &mut sw.names;
    let qnode = q.node;
    let tname = names.fresh(&format!("{}_thresholds", qnode.name));
    let per_row = thr.first().map_or(0, Vec::len);
    g.consts.insert(
        tname.clone(),
        Tensor::f32(
            vec![thr.len(), per_row],
            thr.iter().flatten().map(|&t| t as f32).collect(),
        ),
    );
    let qout = qnode.outputs[0].clone();
    let unit = g.consts[&qnode.inputs[1]]
        .to_f32()
        .iter()
        .all(|&s| s == 1.0);
    let mt_out = if unit {
        qout.clone()
    } else {
        names.fresh(&format!("{qout}_int"))
    };
    new.push(Node {
        name: format!("{}_threshold", qnode.name),
        op: Op::MultiThreshold {
            out_scale: if q.bipolar { 2.0 } else { 1.0 },
            out_bias: if q.bipolar { -1.0 } else { q.lmin as f32 },
            channels_last: false,
            out_dtype: Some(q.out_dtype),
        },
        inputs: vec![input, tname],
        outputs: vec![mt_out.clone()],
    });
    if !unit {
        new.push(Node {
            name: format!("{}_scale", qnode.name),
            op: Op::Mul,
            inputs: vec![mt_out, qnode.inputs[1].clone()],
            outputs: vec![qout],
        });
    }
    // the chain and the quantizer go; the new nodes take the place of node `at`
    for (i, _) in chain {
        sw.edits.remove(*i);
    }
    sw.edits.remove(qi);
    sw.edits.replace(at, new);
}

/// A requantizer chain: its elementwise nodes (index, node), then the quantizer's.
pub(super) type RequantChain = (Vec<(usize, Node)>, usize, Node);

/// The single-reader chain from `start` through per-channel elementwise ops (Add, Sub, Mul,
/// Div, Relu, Identity, BatchNorm: constants of one value per channel, `ch_shape`, the
/// tensor keeping `full_shape`) to the quantizer that closes it: the chain's nodes, and the
/// quantizer's index and node. `None` when the chain ends otherwise.
pub(super) fn requant_chain(
    g: &Graph,
    index: &Index,
    start: &str,
    full_shape: &[usize],
    ch_shape: &[usize],
) -> Option<RequantChain> {
    let mut chain: Vec<(usize, Node)> = Vec::new();
    let mut cur = start.to_string();
    loop {
        if g.outputs.contains(&cur) || index.fan_out(&cur) != 1 {
            return None;
        }
        let &ci = index.consumers(&cur).first()?;
        let node = g.nodes[ci].clone();
        let others: Vec<&String> = node
            .inputs
            .iter()
            .filter(|i| *i != &cur && !i.is_empty())
            .collect();
        if !others.iter().all(|i| g.is_const(i)) {
            return None;
        }
        match &node.op {
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Relu
            | Op::Identity
            | Op::BatchNorm { .. } => {
                if g.shapes.get(&node.outputs[0]).map(Vec::as_slice) != Some(full_shape)
                    || (matches!(node.op, Op::BatchNorm { .. } | Op::Div) && node.inputs[0] != cur)
                    || others.iter().any(|i| {
                        !matches!(node.op, Op::BatchNorm { .. })
                            && per_channel(&g.consts[*i], ch_shape).is_none()
                    })
                {
                    return None;
                }
                cur = node.outputs[0].clone();
                chain.push((ci, node));
            }
            Op::Quant { .. } | Op::BipolarQuant if node.inputs[0] == cur => {
                return Some((chain, ci, node));
            }
            _ => return None,
        }
    }
}
