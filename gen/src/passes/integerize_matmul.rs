//! `MatMul(x, W)` with a quantized input `x = qx * sx` (scalar scale, zero point 0) and
//! constant quantized weights `W = qw * sw` (scalar or per-output-column scale, zero point
//! 0) becomes `Mul(MatMul(Round(Div(x, sx)), qw), sx * sw)`: an integer matrix product
//! whose accumulator the hardware computes, followed by one float rescale.
//!
//! Exactness: `Round(Div(x, sx))` recovers `qx` exactly; the weight integers come from the
//! folded quantizer itself (`QInfo::levels`), not from a division. The integer product is
//! exact in `f32` while `|acc| < 2^24` (checked). When `sx` and `sw` are powers of two the
//! rescaled result equals the original float product bit for bit; otherwise it differs by
//! float rounding (the reference sums scaled floats in its own order), so a quantized
//! activation can differ where the reference's rounding lands on a quantization boundary.
//!
//! `Conv(x, W[, b])` is treated the same way (weights `[M, C, k...]` with a scalar or
//! per-output-channel scale): `[Add(b)] . Mul(Conv(Round(Div(x, sx)), qw), sx * sw)`,
//! the rescale and bias per output channel (`[M, 1...]`). Padding stays exact: the float
//! 0 it inserts is the level 0 of the integer input.

use super::PassError;
use super::infer_datatypes::acc_range;
use crate::import::exec;
use crate::import::graph::{Edits, Graph, Names, Node, Op, QInfo, Tensor};

pub const NAME: &str = "integerize-matmul";

pub fn run(g: &mut Graph) -> Result<bool, PassError> {
    // one sweep: every MatMul and Conv is rewritten (a rewrite keeps the node's output
    // name and only adds constants, so it does not change what the others see); the new
    // nodes go in at the end
    if !g
        .nodes
        .iter()
        .any(|n| matches!(n.op, Op::Conv { .. } | Op::MatMul))
    {
        return Ok(false);
    }
    let mut names = g.names();
    let mut edits = Edits::default();
    for i in 0..g.nodes.len() {
        if matches!(g.nodes[i].op, Op::Conv { .. }) {
            if let Some(new) = integerize_conv(g, &mut names, i)? {
                edits.replace(i, new);
            }
            continue;
        }
        if g.nodes[i].op != Op::MatMul {
            continue;
        }
        let node = g.nodes[i].clone();
        let (x, w) = (&node.inputs[0], &node.inputs[1]);
        let (Some(qx), Some(qw), Some(wt)) = (
            g.qinfo.get(x).cloned(),
            g.qinfo.get(w).cloned(),
            g.consts.get(w).cloned(),
        ) else {
            continue;
        };
        let (qx, qw, wt) = (&qx, &qw, &wt);
        if qx.is_plain_int() && qw.is_plain_int() {
            continue;
        }
        let zero = |t: &Tensor| t.to_f32().iter().all(|&z| z == 0.0);
        // The input's levels q - z (integral z) are what the hardware streams.
        let zx = match qx.zero_point.single_f32() {
            Some(z) if z == z.trunc() && z.abs() < 1.0e6 => z,
            _ => continue,
        };
        if wt.shape.len() != 2 || qx.scale.len() != 1 || !zero(&qw.zero_point) {
            continue;
        }
        let xdt = super::shifted_type(qx.dtype, zx);
        let n = wt.shape[1];
        // Weight scale: scalar, or one per output column (constant down each column).
        let (sw, per_col) = if qw.scale.len() == 1 {
            (qw.scale.clone(), false)
        } else {
            let k = wt.shape[0];
            let zeros = Tensor::f32(wt.shape.clone(), vec![0.0; wt.len()]);
            let Ok(full) = exec::binary(&zeros, &qw.scale, |_, b| b) else {
                continue;
            };
            if full.shape != wt.shape {
                continue;
            }
            let f = full.to_f32();
            if (0..k).any(|r| (0..n).any(|c| f[r * n + c].to_bits() != f[c].to_bits())) {
                continue;
            }
            (Tensor::f32(vec![n], f[..n].to_vec()), true)
        };
        let sw = &sw;
        let sx = qx.scale.to_f32()[0];
        let bad = |why: String| PassError::invalid(&node.name, Some(w), why);
        let wint = match &qw.levels {
            Some(l) => l.clone(),
            None => exec::binary(wt, sw, |a, b| a / b).map_err(bad)?,
        };
        if let Some(v) = wint
            .to_f32()
            .iter()
            .find(|v| **v != v.round() || v.abs() >= 8_388_608.0)
        {
            return Err(bad(format!("weight value / scale = {v} is not an integer")));
        }
        let (lo, hi) =
            acc_range(xdt, &wint).ok_or_else(|| bad("weights are not 2-D integers".into()))?;
        if lo.abs().max(hi.abs()) >= 1 << 24 {
            return Err(PassError::Unsupported {
                nodes: vec![crate::import::UnsupportedNode {
                    name: node.name.clone(),
                    op_type: "MatMul".into(),
                    domain: String::new(),
                    hint: format!(
                        "accumulator range {lo}..={hi} exceeds 2^24; f32 results would not be exact"
                    ),
                }],
            });
        }
        let mut new = Vec::new();
        let mut xin = x.clone();
        if sx != 1.0 || zx != 0.0 {
            let k = names.fresh(&format!("{}_in_scale", node.name));
            g.consts.insert(k.clone(), Tensor::scalar(sx));
            let div = names.fresh(&format!("{x}_unscaled"));
            xin = names.fresh(&format!("{x}_int"));
            new.push(Node {
                name: format!("{}_unscale_input", node.name),
                op: Op::Div,
                inputs: vec![x.clone(), k],
                outputs: vec![div.clone()],
            });
            // x / sx is within an ulp of the integer; Round makes it exact.
            new.push(Node {
                name: format!("{}_round_input", node.name),
                op: Op::Round,
                inputs: vec![div],
                outputs: vec![xin.clone()],
            });
        }
        let wname = names.fresh(&format!("{w}_int"));
        let wdt = qw.dtype;
        g.consts.insert(wname.clone(), wint);
        g.qinfo.insert(wname.clone(), QInfo::int(wdt));
        let out = node.outputs[0].clone();
        let s = exec::binary(&Tensor::scalar(sx), sw, |a, b| a * b).map_err(bad)?;
        let needs_mul = s.to_f32().iter().any(|&v| v != 1.0);
        let acc = if needs_mul {
            names.fresh(&format!("{out}_acc"))
        } else {
            out.clone()
        };
        new.push(Node {
            name: node.name.clone(),
            op: Op::MatMul,
            inputs: vec![xin, wname],
            outputs: vec![acc.clone()],
        });
        if needs_mul {
            let k = names.fresh(&format!("{}_out_scale", node.name));
            let s = if per_col {
                Tensor::f32(vec![n], s.to_f32())
            } else {
                s
            };
            g.consts.insert(k.clone(), s);
            new.push(Node {
                name: format!("{}_rescale", node.name),
                op: Op::Mul,
                inputs: vec![acc, k],
                outputs: vec![out],
            });
        }
        edits.replace(i, new);
    }
    let changed = !edits.is_empty();
    g.apply(edits);
    Ok(changed)
}

/// The `Conv` case of [`run`]: the nodes replacing node `i`, if it is rewritten.
fn integerize_conv(
    g: &mut Graph,
    names: &mut Names,
    i: usize,
) -> Result<Option<Vec<Node>>, PassError> {
    let node = g.nodes[i].clone();
    let (x, w) = (&node.inputs[0], &node.inputs[1]);
    let bias = node.inputs.get(2).filter(|b| !b.is_empty()).cloned();
    let (Some(qx), Some(qw), Some(wt)) = (
        g.qinfo.get(x).cloned(),
        g.qinfo.get(w).cloned(),
        g.consts.get(w).cloned(),
    ) else {
        return Ok(None);
    };
    if qx.is_plain_int() && qw.is_plain_int() && bias.is_none() {
        return Ok(None);
    }
    if let Some(b) = &bias
        && !g.is_const(b)
    {
        return Ok(None);
    }
    let zx = match qx.zero_point.single_f32() {
        Some(z) if z == z.trunc() && z.abs() < 1.0e6 => z,
        _ => return Ok(None),
    };
    let zero = |t: &Tensor| t.to_f32().iter().all(|&z| z == 0.0);
    let m = wt.shape[0];
    // A depthwise convolution (one input channel per output channel) keeps a per-channel
    // input scale apart: output channel c sees only input channel c.
    let depthwise = matches!(node.op, Op::Conv { group, .. } if group > 1 && group as usize == m)
        && wt.shape.get(1) == Some(&1);
    let sx_c: Vec<f32> = if qx.scale.len() == 1 {
        vec![qx.scale.to_f32()[0]]
    } else if depthwise {
        let mut cs = vec![1, m];
        cs.extend(std::iter::repeat_n(1, wt.shape.len().saturating_sub(2)));
        let zeros = Tensor::f32(cs.clone(), vec![0.0; m]);
        match exec::binary(&zeros, &qx.scale, |_, b| b) {
            Ok(full) if full.shape == cs => full.to_f32(),
            _ => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    if wt.shape.len() < 3 || !zero(&qw.zero_point) {
        return Ok(None);
    }
    let k: usize = wt.shape[1..].iter().product();
    // Weight scale: scalar, or one per output channel (constant over the rest).
    let sw: Vec<f32> = if qw.scale.len() == 1 {
        qw.scale.to_f32()
    } else {
        let zeros = Tensor::f32(wt.shape.clone(), vec![0.0; wt.len()]);
        let Ok(full) = exec::binary(&zeros, &qw.scale, |_, b| b) else {
            return Ok(None);
        };
        if full.shape != wt.shape {
            return Ok(None);
        }
        let f = full.to_f32();
        if (0..m).any(|o| (0..k).any(|j| f[o * k + j].to_bits() != f[o * k].to_bits())) {
            return Ok(None);
        }
        (0..m).map(|o| f[o * k]).collect()
    };
    let sx = sx_c[0];
    let bad = |why: String| PassError::invalid(&node.name, Some(w), why);
    let swt = if sw.len() == 1 {
        Tensor::scalar(sw[0])
    } else {
        let mut shape = vec![m];
        shape.extend(std::iter::repeat_n(1, wt.shape.len() - 1));
        Tensor::f32(shape, sw.clone())
    };
    let wint = match &qw.levels {
        Some(l) => l.clone(),
        None => exec::binary(&wt, &swt, |a, b| a / b).map_err(bad)?,
    };
    if let Some(v) = wint
        .to_f32()
        .iter()
        .find(|v| **v != v.round() || v.abs() >= 8_388_608.0)
    {
        return Err(bad(format!("weight value / scale = {v} is not an integer")));
    }
    let xdt = super::shifted_type(qx.dtype, zx);
    let (lo, hi) = super::infer_datatypes::conv_columns(&wint)
        .and_then(|c| acc_range(xdt, &c))
        .ok_or_else(|| bad("weights are not integers".into()))?;
    if lo.abs().max(hi.abs()) >= 1 << 24 {
        return Err(PassError::Unsupported {
            nodes: vec![crate::import::UnsupportedNode {
                name: node.name.clone(),
                op_type: "Conv".into(),
                domain: String::new(),
                hint: format!(
                    "accumulator range {lo}..={hi} exceeds 2^24; f32 results would not be exact"
                ),
            }],
        });
    }
    // Per-channel constants of the output: shape [M, 1...] against [N, M, spatial...].
    let per_channel = |v: Vec<f32>| -> Tensor {
        if v.len() == 1 {
            Tensor::scalar(v[0])
        } else {
            let mut shape = vec![v.len()];
            shape.extend(std::iter::repeat_n(1, wt.shape.len() - 2));
            Tensor::f32(shape, v)
        }
    };
    let mut new = Vec::new();
    let mut xin = x.clone();
    if sx_c.iter().any(|&s| s != 1.0) || zx != 0.0 {
        let kname = names.fresh(&format!("{}_in_scale", node.name));
        g.consts.insert(kname.clone(), qx.scale.clone());
        let div = names.fresh(&format!("{x}_unscaled"));
        xin = names.fresh(&format!("{x}_int"));
        new.push(Node {
            name: format!("{}_unscale_input", node.name),
            op: Op::Div,
            inputs: vec![x.clone(), kname],
            outputs: vec![div.clone()],
        });
        new.push(Node {
            name: format!("{}_round_input", node.name),
            op: Op::Round,
            inputs: vec![div],
            outputs: vec![xin.clone()],
        });
    }
    let wname = names.fresh(&format!("{w}_int"));
    g.consts.insert(wname.clone(), wint);
    g.qinfo.insert(wname.clone(), QInfo::int(qw.dtype));
    let out = node.outputs[0].clone();
    // per output channel: input scale (per tensor, or the channel's for a depthwise
    // convolution) times the weight scale
    let s: Vec<f32> = if sx_c.len() == 1 && sw.len() == 1 {
        vec![sx * sw[0]]
    } else {
        (0..m)
            .map(|o| {
                sx_c[if sx_c.len() == 1 { 0 } else { o }] * sw[if sw.len() == 1 { 0 } else { o }]
            })
            .collect()
    };
    let needs_mul = s.iter().any(|&v| v != 1.0);
    let mut stages: Vec<(Op, Tensor, &str)> = Vec::new();
    if needs_mul {
        stages.push((Op::Mul, per_channel(s), "rescale"));
    }
    if let Some(b) = &bias {
        stages.push((Op::Add, per_channel(g.consts[b].to_f32()), "bias"));
    }
    let mut cur = if stages.is_empty() {
        out.clone()
    } else {
        names.fresh(&format!("{out}_acc"))
    };
    let mut conv = node.clone();
    conv.inputs = vec![xin, wname];
    conv.outputs = vec![cur.clone()];
    new.push(conv);
    let last = stages.len();
    for (j, (op, t, what)) in stages.into_iter().enumerate() {
        let kname = names.fresh(&format!("{}_{what}", node.name));
        g.consts.insert(kname.clone(), t);
        let o = if j + 1 == last {
            out.clone()
        } else {
            names.fresh(&format!("{out}_{what}"))
        };
        new.push(Node {
            name: format!("{}_{what}", node.name),
            op,
            inputs: vec![cur, kname],
            outputs: vec![o.clone()],
        });
        cur = o;
    }
    Ok(Some(new))
}
