//! Absorb the float operations between an integer `MatMul` and the next activation
//! quantizer (rescale, bias, BatchNormalization, Relu, ... and the quantizer itself) into
//! per-channel integer thresholds on the accumulator: `MatMul -> MultiThreshold [-> Mul
//! by the quantizer's scale]`.
//!
//! Exactness by construction: the accumulator of output channel `c` is an integer in a
//! known finite range, and the float chain from it to the quantizer's integer level is
//! monotone. Each threshold is found as the smallest accumulator whose `f32` evaluation of
//! the exact reference op sequence (the executor's kernels) reaches the level (binary
//! search); a channel whose chain decreases has its weight column negated first. The
//! result is then checked against the float chain on every accumulator value (ranges up
//! to 2^16 values; sampled beyond), so a non-monotone chain is an error, never a silent
//! mismatch.
//!
//! The same holds for a `Conv` (the chain is evaluated on one value per output channel, its
//! constants broadcasting over the pixels) and for an `AveragePool` (the "accumulator" is
//! the integer sum of the window's levels; the chain starts with the pool's own division,
//! `sum * scale / n` in `f32` as the reference computes it, and the pool becomes an exact
//! `SumPool`). A qonnx `Trunc` closes a chain like a quantizer (its levels are its output
//! divided by its output scale).

use super::PassError;
use super::infer_datatypes::column_ranges;
use crate::import::UnsupportedNode;
use crate::import::exec;
use crate::import::graph::{Edits, Graph, Node, Op, QInfo, Tensor};
use crate::ir::DataType;
use crate::ir::host::{quant_int, quant_range};

pub const NAME: &str = "absorb-thresholds";

/// The quantizer closing a chain.
enum Quantizer {
    Bipolar,
    /// qonnx `Trunc`: its output divided by its output scale `scale` (levels).
    Trunc {
        /// One value, or one per channel.
        scale: Vec<f32>,
    },
    Int {
        bits: u32,
        signed: bool,
        narrow: bool,
        rounding: crate::ir::host::RoundingMode,
        scale: Vec<f32>,
        zero_point: f32,
    },
}

/// What one sweep shares: the look-ups of the graph it started from, fresh names, and the
/// structural edits made so far (applied at the end). The chains of two layers never share
/// a node (each chain node has one data input, from the chain), so absorbing one chain does
/// not change what another one sees.
struct Sweep {
    index: crate::import::graph::Index,
    names: crate::import::graph::Names,
    edits: Edits,
}

pub fn run(g: &mut Graph) -> Result<bool, PassError> {
    if !g
        .nodes
        .iter()
        .any(|n| matches!(n.op, Op::MatMul | Op::Conv { .. } | Op::AveragePool { .. }))
    {
        return Ok(false);
    }
    let mut sw = Sweep {
        index: g.index(),
        names: g.names(),
        edits: Edits::default(),
    };
    for i in 0..g.nodes.len() {
        let conv = matches!(g.nodes[i].op, Op::Conv { .. })
            && g.nodes[i].inputs.get(2).is_none_or(String::is_empty);
        let pool = matches!(g.nodes[i].op, Op::AveragePool { .. });
        if g.nodes[i].op != Op::MatMul && !conv && !pool {
            continue;
        }
        try_absorb(g, &mut sw, i)?;
    }
    let changed = !sw.edits.is_empty();
    g.apply(sw.edits);
    Ok(changed)
}

/// An average pool on quantized values `(q - z) * scale`: its input scale and integral zero
/// point, the levels' type and the window size.
struct AvgPool {
    /// One value, or one per channel.
    scale: Vec<f32>,
    scale_tensor: Tensor,
    zero_point: f32,
    levels: DataType,
    count: usize,
}

fn try_absorb(g: &mut Graph, sw: &mut Sweep, mi: usize) -> Result<Option<bool>, PassError> {
    if matches!(g.nodes[mi].op, Op::AveragePool { .. }) {
        let mm = &g.nodes[mi];
        let Some(q) = g.qinfo.get(&mm.inputs[0]) else {
            return Ok(None);
        };
        let shape = g.shapes.get(&mm.inputs[0]).cloned().unwrap_or_default();
        let out = g.shapes.get(&mm.outputs[0]).cloned().unwrap_or_default();
        // one scale, or one per channel ([1, C, 1...])
        let scale = match q.scale.single_f32() {
            Some(s) => Some(vec![s]),
            None if shape.len() >= 3 => {
                let mut cs = vec![1, shape[1]];
                cs.extend(std::iter::repeat_n(1, shape.len() - 2));
                let zeros = Tensor::f32(cs.clone(), vec![0.0; shape[1]]);
                exec::binary(&zeros, &q.scale, |_, b| b)
                    .ok()
                    .filter(|t| t.shape == cs)
                    .map(|t| t.to_f32())
            }
            None => None,
        };
        let (Some(scale), Some(zero_point)) = (scale, q.zero_point.single_f32()) else {
            return Ok(None);
        };
        if !scale.iter().all(|&s| s > 0.0 && s.is_finite())
            || zero_point != zero_point.trunc()
            || q.dtype == DataType::Bipolar
            || shape.len() < 3
            || out.len() != shape.len()
        {
            return Ok(None);
        }
        let count = match &mm.op {
            Op::AveragePool { global: true, .. } => shape[2..].iter().product(),
            Op::AveragePool { kernel, .. } => kernel.iter().map(|&k| k.max(1) as usize).product(),
            _ => unreachable!(),
        };
        let p = AvgPool {
            scale,
            scale_tensor: q.scale.clone(),
            zero_point,
            levels: super::shifted_type(q.dtype, zero_point),
            count,
        };
        return try_absorb_from(g, sw, mi, Some(p));
    }
    try_absorb_from(g, sw, mi, None)
}

fn try_absorb_from(
    g: &mut Graph,
    sw: &mut Sweep,
    mi: usize,
    pool: Option<AvgPool>,
) -> Result<Option<bool>, PassError> {
    let mm = g.nodes[mi].clone();
    let is_pool = pool.is_some();
    // The pool's "weights": one column of ones per channel over its window (its sum's
    // range is count * the levels' range).
    let (x, w) = (&mm.inputs[0], mm.inputs.get(1).cloned().unwrap_or_default());
    let pool_cols = pool.as_ref().map(|p| {
        let c = g.shapes.get(x).and_then(|s| s.get(1).copied()).unwrap_or(0);
        let mut v = vec![0f32; p.count * c * c];
        for ch in 0..c {
            for k in 0..p.count {
                v[(ch * p.count + k) * c + ch] = 1.0;
            }
        }
        (Tensor::f32(vec![p.count * c, c], v), QInfo::int(p.levels))
    });
    let (qx, qw, wt) = match &pool_cols {
        Some((t, q)) => (q.clone(), QInfo::int(DataType::Binary), t.clone()),
        None => {
            let (Some(qx), Some(qw), Some(wt)) =
                (g.qinfo.get(x), g.qinfo.get(&w), g.consts.get(&w))
            else {
                return Ok(None);
            };
            (qx.clone(), qw.clone(), wt.clone())
        }
    };
    let w = &w;
    let is_conv = matches!(mm.op, Op::Conv { .. });
    if !qx.is_plain_int() || !qw.is_plain_int() || (wt.shape.len() != 2 && !is_conv) {
        return Ok(None);
    }
    let (tin, wdt, wt) = (qx.dtype, qw.dtype, wt.clone());
    // A convolution's weights as the matrix of its per-pixel product ([C*k..., M]).
    let wmat = if is_conv {
        match super::infer_datatypes::conv_columns(&wt) {
            Some(w) => w,
            None => return Ok(None),
        }
    } else {
        wt.clone()
    };
    let n = wmat.shape[1];
    let acc = mm.outputs[0].clone();
    let full_shape = g.shapes.get(&acc).cloned().unwrap_or_default();
    // The chain is evaluated on one value per channel: a MatMul's [1, N] vector, or a
    // convolution's [1, M, 1...] (its per-channel constants broadcast the same way over
    // every pixel).
    let acc_shape = if is_conv || is_pool {
        if full_shape.len() < 3 || full_shape[0] != 1 || full_shape[1] != n {
            return Ok(None);
        }
        let mut s = vec![1, n];
        s.extend(std::iter::repeat_n(1, full_shape.len() - 2));
        s
    } else {
        if full_shape.iter().product::<usize>() != n || full_shape.last() != Some(&n) {
            return Ok(None);
        }
        full_shape.clone()
    };
    // Follow the single-consumer chain of per-channel elementwise ops to a quantizer.
    let mut chain: Vec<Node> = Vec::new();
    let mut cur = acc.clone();
    // indices of the chain's nodes and the quantizer's
    let mut chain_at: Vec<usize> = Vec::new();
    let quant = loop {
        if g.outputs.contains(&cur) || sw.index.fan_out(&cur) != 1 {
            return Ok(None);
        }
        let Some(&ci) = sw.index.consumers(&cur).first() else {
            return Ok(None);
        };
        chain_at.push(ci);
        let node = g.nodes[ci].clone();
        let others_const = node
            .inputs
            .iter()
            .filter(|i| *i != &cur && !i.is_empty())
            .all(|i| g.is_const(i));
        if !others_const {
            return Ok(None);
        }
        match &node.op {
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Relu
            | Op::Sign
            | Op::Identity
            | Op::BatchNorm { .. } => {
                // constants must not change the shape (per-channel at most)
                if g.shapes.get(&node.outputs[0]) != Some(&full_shape) {
                    return Ok(None);
                }
                // Monotone in the accumulator: BatchNorm on it, division only by a constant
                // (c / acc has a pole).
                if matches!(node.op, Op::BatchNorm { .. } | Op::Div) && node.inputs[0] != cur {
                    return Ok(None);
                }
                cur = node.outputs[0].clone();
                chain.push(node);
            }
            Op::BipolarQuant if node.inputs[0] == cur => break (node, Quantizer::Bipolar),
            Op::Trunc { .. } if node.inputs[0] == cur => {
                // v1: output (r - z) * scale; v2: (r - z') * output scale
                let si = if node.inputs.len() <= 5 { 1 } else { 4 };
                let scale = g.consts.get(&node.inputs[si]).map(Tensor::to_f32);
                match scale {
                    Some(scale)
                        if (scale.len() == 1 || scale.len() == n)
                            && scale.iter().all(|&s| s > 0.0 && s.is_finite()) =>
                    {
                        break (node, Quantizer::Trunc { scale });
                    }
                    _ => return Ok(None),
                }
            }
            Op::Quant {
                signed,
                narrow,
                rounding,
            } if node.inputs[0] == cur => {
                let s = &g.consts[&node.inputs[1]];
                let z = &g.consts[&node.inputs[2]];
                let b = g.consts[&node.inputs[3]].single_f32().unwrap_or(0.0);
                let zp = match z.single_f32() {
                    Some(zp) if zp == zp.trunc() => zp,
                    _ => return Ok(None),
                };
                if !(s.len() == 1 || s.len() == n) || !(1.0..=8.0).contains(&b) || b != b.trunc() {
                    return Ok(None);
                }
                let q = Quantizer::Int {
                    bits: b as u32,
                    signed: *signed,
                    narrow: *narrow,
                    rounding: *rounding,
                    scale: s.to_f32(),
                    zero_point: zp,
                };
                break (node, q);
            }
            _ => return Ok(None),
        }
    };
    let (qnode, quantizer) = quant;
    let bipolar = match &quantizer {
        Quantizer::Bipolar => true,
        Quantizer::Trunc { .. } => false,
        Quantizer::Int { bits, signed, .. } => *bits == 1 && *signed,
    };
    let (mut lmin, mut lmax) = match &quantizer {
        _ if bipolar => (-1i64, 1i64),
        // found from the accumulator range below
        Quantizer::Trunc { .. } => (0, 0),
        Quantizer::Int {
            bits,
            signed,
            narrow,
            zero_point,
            ..
        } => {
            let (lo, hi) = quant_range(*bits, *signed, *narrow);
            (
                lo.saturating_sub(*zero_point as i64),
                hi.saturating_sub(*zero_point as i64),
            )
        }
        Quantizer::Bipolar => unreachable!(),
    };
    // Level of every channel for accumulator values `a` (one per channel).
    let level = |a: &[f32]| -> Result<Vec<i64>, PassError> {
        let mut t = match &pool {
            // the average of the float values: their sum (the levels' sum times the scale)
            // divided by the window size, in f32 as the reference computes it
            Some(p) => Tensor::f32(
                acc_shape.clone(),
                a.iter()
                    .enumerate()
                    .map(|(c, &s)| {
                        (s * p.scale[if p.scale.len() == 1 { 0 } else { c }]) / p.count as f32
                    })
                    .collect(),
            ),
            None => Tensor::f32(acc_shape.clone(), a.to_vec()),
        };
        for node in &chain {
            t = super::eval_on(g, node, &t)?;
            if let Some(x) = t.as_f32().and_then(|v| v.iter().find(|x| !x.is_finite())) {
                return Err(PassError::invalid(
                    &node.name,
                    None,
                    format!(
                        "{} computes {x} from the accumulator of `{}`: the value is not \
                         finite (its constants overflow f32); export the model again with \
                         smaller parameters",
                        node.op.type_name(),
                        mm.name
                    ),
                ));
            }
        }
        if t.shape != acc_shape {
            return Err(PassError::invalid(
                &mm.name,
                None,
                format!(
                    "the float chain after it changed the per-channel shape {acc_shape:?} to {:?}",
                    t.shape
                ),
            ));
        }
        if let Quantizer::Trunc { scale } = &quantizer {
            let out = super::eval_on(g, &qnode, &t)?;
            return out
                .to_f32()
                .iter()
                .enumerate()
                .map(|(c, &y)| {
                    // y = level * scale in f32: the division rounds to the level, which
                    // must give y back exactly
                    let scale = scale[if scale.len() == 1 { 0 } else { c }];
                    let l = (y / scale).round();
                    if l * scale == y && l.abs() < 1.0e9 {
                        Ok(l as i64)
                    } else {
                        Err(PassError::invalid(
                            &qnode.name,
                            None,
                            format!("output {y} is not a multiple of its scale {scale}"),
                        ))
                    }
                })
                .collect();
        }
        let v = t.to_f32();
        Ok(v.iter()
            .enumerate()
            .map(|(c, &y)| match &quantizer {
                Quantizer::Trunc { .. } => unreachable!("handled above"),
                Quantizer::Bipolar => {
                    if y >= 0.0 {
                        1
                    } else {
                        -1
                    }
                }
                Quantizer::Int {
                    bits,
                    signed,
                    narrow,
                    rounding,
                    scale,
                    zero_point,
                } => {
                    let s = if scale.len() == 1 { scale[0] } else { scale[c] };
                    (quant_int(y, s, *zero_point, *bits, *signed, *narrow, *rounding) - zero_point)
                        as i64
                }
            })
            .collect())
    };
    // Per-channel constants that vary over pixels would make the chain depend on more
    // than the channel: not absorbable.
    for node in &chain {
        for i in node.inputs.iter().filter(|i| g.is_const(i)) {
            let t = &g.consts[i];
            let ok = match exec::broadcast_shape(&t.shape, &acc_shape) {
                Some(s) => s == acc_shape,
                None => false,
            };
            if !ok && !matches!(node.op, Op::BatchNorm { .. }) {
                return Ok(None);
            }
        }
    }
    let ranges = column_ranges(tin, &wmat)
        .ok_or_else(|| PassError::invalid(&mm.name, Some(w), "weights are not integers"))?;
    // The float chain sees the accumulator as an f32: it must be exact (|acc| < 2^24).
    if ranges.iter().any(|r| r.0 <= -(1 << 24) || r.1 >= 1 << 24) {
        return Ok(None);
    }
    let lo: Vec<f32> = ranges.iter().map(|r| r.0 as f32).collect();
    let hi: Vec<f32> = ranges.iter().map(|r| r.1 as f32).collect();
    let (llo, lhi) = (level(&lo)?, level(&hi)?);
    if matches!(quantizer, Quantizer::Trunc { .. }) {
        lmin = llo.iter().chain(&lhi).copied().min().unwrap_or(0);
        lmax = llo.iter().chain(&lhi).copied().max().unwrap_or(0);
        if lmax - lmin > 255 {
            return Ok(None);
        }
    }
    let (lmin, lmax) = (lmin, lmax);
    // A pool's sum cannot be negated: a decreasing chain after it is not absorbed.
    if is_pool && (0..n).any(|c| llo[c] > lhi[c]) {
        return Ok(None);
    }
    let sign: Vec<i64> = (0..n)
        .map(|c| if llo[c] > lhi[c] { -1 } else { 1 })
        .collect();
    // Ranges of the (possibly negated) accumulator b = sign * acc.
    let brange: Vec<(i64, i64)> = (0..n)
        .map(|c| {
            if sign[c] < 0 {
                (-ranges[c].1, -ranges[c].0)
            } else {
                ranges[c]
            }
        })
        .collect();
    let eval_b = |b: &[i64]| -> Result<Vec<i64>, PassError> {
        let a: Vec<f32> = (0..n).map(|c| (sign[c] * b[c]) as f32).collect();
        level(&a)
    };
    let targets: Vec<i64> = if bipolar {
        vec![1]
    } else {
        (lmin + 1..=lmax).collect()
    };
    let mut thr = vec![vec![0i64; targets.len()]; n];
    for (k, &target) in targets.iter().enumerate() {
        let mut l: Vec<i64> = brange.iter().map(|r| r.0).collect();
        let mut h: Vec<i64> = brange.iter().map(|r| r.1 + 1).collect();
        while (0..n).any(|c| l[c] < h[c]) {
            let mid: Vec<i64> = (0..n)
                .map(|c| {
                    if l[c] < h[c] {
                        l[c] + (h[c] - l[c]) / 2
                    } else {
                        brange[c].0
                    }
                })
                .collect();
            let lv = eval_b(&mid)?;
            for c in 0..n {
                if l[c] < h[c] {
                    if lv[c] >= target {
                        h[c] = mid[c];
                    } else {
                        l[c] = mid[c] + 1;
                    }
                }
            }
        }
        for c in 0..n {
            thr[c][k] = l[c];
        }
    }
    // Thresholds of a channel must ascend (a monotone chain guarantees it).
    let mono_err = |c: usize| PassError::Unsupported {
        nodes: vec![UnsupportedNode {
            name: qnode.name.clone(),
            op_type: qnode.op.type_name().into(),
            domain: String::new(),
            hint: format!(
                "the float operations between `{}` and this quantizer are not monotone in the accumulator (channel {c}), so they cannot become thresholds",
                mm.name
            ),
        }],
    };
    if let Some(c) = thr.iter().position(|r| r.windows(2).any(|p| p[0] > p[1])) {
        return Err(mono_err(c));
    }
    let hw_level = |c: usize, b: i64| -> i64 {
        let cnt = thr[c].iter().filter(|&&t| b >= t).count() as i64;
        if bipolar { 2 * cnt - 1 } else { lmin + cnt }
    };
    // Check every accumulator value (or a dense sample of large ranges).
    let span = brange.iter().map(|r| r.1 - r.0).max().unwrap_or(0);
    let steps: Vec<i64> = if span <= 1 << 16 {
        (0..=span).collect()
    } else {
        (0..=4096).map(|j| j * span / 4096).collect()
    };
    for &j in &steps {
        let b: Vec<i64> = brange.iter().map(|r| (r.0 + j).min(r.1)).collect();
        let lv = eval_b(&b)?;
        if let Some(c) = (0..n).find(|&c| lv[c] != hw_level(c, b[c])) {
            return Err(mono_err(c));
        }
    }
    // Rewrite: negated weight columns, MatMul -> MultiThreshold [-> Mul(scale)].
    let mut wv = wt.to_i64().unwrap_or_default();
    if is_conv {
        let k = wv.len() / n.max(1);
        for (j, v) in wv.iter_mut().enumerate() {
            *v *= sign[j / k];
        }
    } else {
        for r in 0..wt.shape[0] {
            for c in 0..n {
                wv[r * n + c] *= sign[c];
            }
        }
    }
    let (wlo, whi) = (
        wv.iter().copied().min().unwrap_or(0),
        wv.iter().copied().max().unwrap_or(0),
    );
    let new_wdt = if wv.iter().all(|&v| wdt.contains(v)) {
        wdt
    } else {
        super::int_type(wlo, whi)
    };
    let wname = sw.names.fresh(&format!("{w}_thr"));
    g.consts.insert(
        wname.clone(),
        Tensor::f32(wt.shape.clone(), wv.iter().map(|&v| v as f32).collect()),
    );
    g.qinfo.insert(wname.clone(), QInfo::int(new_wdt));
    let tname = sw.names.fresh(&format!("{}_thresholds", qnode.name));
    let k = targets.len();
    g.consts.insert(
        tname.clone(),
        Tensor::f32(
            vec![n, k],
            thr.iter().flatten().map(|&t| t as f32).collect(),
        ),
    );
    let qout = qnode.outputs[0].clone();
    let scale = match &quantizer {
        Quantizer::Bipolar => g.consts[&qnode.inputs[1]].clone(),
        Quantizer::Int { .. } => g.consts[&qnode.inputs[1]].clone(),
        Quantizer::Trunc { scale } if scale.len() == 1 => Tensor::scalar(scale[0]),
        Quantizer::Trunc { scale } => {
            let mut s = vec![1, n];
            s.extend(std::iter::repeat_n(1, full_shape.len().saturating_sub(2)));
            Tensor::f32(s, scale.clone())
        }
    };
    let scale_name = match &quantizer {
        Quantizer::Trunc { .. } => {
            let k = sw.names.fresh(&format!("{}_out_scale", qnode.name));
            g.consts.insert(k.clone(), scale.clone());
            k
        }
        _ => qnode.inputs[1].clone(),
    };
    let unit = scale.to_f32().iter().all(|&s| s == 1.0);
    let mt_out = if unit {
        qout.clone()
    } else {
        sw.names.fresh(&format!("{qout}_int"))
    };
    let out_dtype = if bipolar {
        DataType::Bipolar
    } else {
        match &quantizer {
            Quantizer::Int {
                bits,
                signed,
                narrow,
                zero_point,
                ..
            } if *zero_point == 0.0 => super::fold_constants::quant_dtype(*bits, *signed, *narrow),
            // 1-bit levels: BINARY (0/1), or a 2-bit signed type
            _ => match super::int_type(lmin, lmax) {
                t if t.bits() >= 2 => t,
                _ if lmin >= 0 => DataType::Binary,
                _ => DataType::Int(2),
            },
        }
    };
    let mut new = vec![Node {
        name: format!("{}_threshold", qnode.name),
        op: Op::MultiThreshold {
            out_scale: if bipolar { 2.0 } else { 1.0 },
            out_bias: if bipolar { -1.0 } else { lmin as f32 },
            channels_last: false,
            out_dtype: Some(out_dtype),
        },
        inputs: vec![acc.clone(), tname],
        outputs: vec![mt_out.clone()],
    }];
    if !unit {
        new.push(Node {
            name: format!("{}_scale", qnode.name),
            op: Op::Mul,
            inputs: vec![mt_out, scale_name],
            outputs: vec![qout],
        });
    }
    if !is_pool {
        g.nodes[mi].inputs[1] = wname;
    } else {
        g.consts.remove(&wname);
        g.qinfo.remove(&wname);
    }
    // the chain and its quantizer are replaced by the new nodes, where the chain began
    let first = chain_at.iter().copied().min().unwrap_or(mi + 1);
    for &j in &chain_at {
        sw.edits.remove(j);
    }
    sw.edits.insert_before(first, new);
    if let Some(p) = &pool {
        // AveragePool(x) -> SumPool(Round(x / scale)): the exact integer sum of the
        // levels q - z, which the thresholds were found on.
        let Op::AveragePool {
            global,
            kernel,
            strides,
            ..
        } = mm.op.clone()
        else {
            unreachable!()
        };
        let at = mi;
        let mut xin = x.clone();
        let mut pre = Vec::new();
        if p.scale.iter().any(|&s| s != 1.0) || p.zero_point != 0.0 {
            let k = sw.names.fresh(&format!("{}_in_scale", mm.name));
            g.consts.insert(k.clone(), p.scale_tensor.clone());
            let div = sw.names.fresh(&format!("{x}_unscaled"));
            xin = sw.names.fresh(&format!("{x}_int"));
            pre.push(Node {
                name: format!("{}_unscale_input", mm.name),
                op: Op::Div,
                inputs: vec![x.clone(), k],
                outputs: vec![div.clone()],
            });
            pre.push(Node {
                name: format!("{}_round_input", mm.name),
                op: Op::Round,
                inputs: vec![div],
                outputs: vec![xin.clone()],
            });
        }
        g.nodes[at] = Node {
            name: mm.name.clone(),
            op: Op::SumPool {
                global,
                kernel,
                strides,
            },
            inputs: vec![xin],
            outputs: mm.outputs.clone(),
        };
        sw.edits.insert_before(at, pre);
    }
    Ok(Some(true))
}
