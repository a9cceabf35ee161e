//! Float reference executor of the import graph.
//!
//! Runs every node in `f32` with the semantics and operation order of the QONNX reference
//! executor (qonnx custom ops as numpy computes them, standard ops as onnxruntime's CPU
//! kernels do: BatchNormalization as `x * (scale / sqrt(var + eps)) + (bias - mean * that)`,
//! Softmax with the maximum subtracted). Matrix products accumulate in `f32` in index
//! order; they are exact (and so equal to onnxruntime's) whenever the products and partial
//! sums are integers below 2^24 times a power-of-two scale, which is the case for the
//! quantized networks ferrite compiles. The streamlining passes are tested against it.

use super::graph::{Data, Graph, Node, Op, Tensor};
use crate::ir::host::{FloatOp, RoundingMode, quant_int, quant_range};
use std::collections::HashMap;

/// Why a node could not be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("node `{node}` ({op}): {why}")]
pub struct ExecError {
    pub node: String,
    pub op: String,
    pub why: String,
}

/// Largest tensor (elements) the executor creates; larger is an error, not an allocation.
pub const MAX_ELEMS: usize = 1 << 26;

/// Every tensor's value after running the graph on `input`.
pub fn run(graph: &Graph, input: &Tensor) -> Result<HashMap<String, Tensor>, ExecError> {
    let mut vals: HashMap<String, Tensor> = HashMap::new();
    for (k, v) in &graph.consts {
        vals.insert(k.clone(), v.clone());
    }
    vals.insert(graph.input.clone(), input.clone());
    for node in &graph.nodes {
        let err = |why: String| ExecError {
            node: node.name.clone(),
            op: node.op.type_name().into(),
            why,
        };
        let ins: Vec<Option<&Tensor>> = node
            .inputs
            .iter()
            .map(|n| if n.is_empty() { None } else { vals.get(n) })
            .collect();
        if let Some((i, _)) = node
            .inputs
            .iter()
            .enumerate()
            .find(|(i, n)| !n.is_empty() && ins[*i].is_none())
        {
            return Err(err(format!("input `{}` has no value", node.inputs[i])));
        }
        let outs = eval(node, &ins).map_err(err)?;
        for (name, t) in node.outputs.iter().zip(outs) {
            vals.insert(name.clone(), t);
        }
    }
    Ok(vals)
}

/// The graph outputs for `input`.
pub fn run_outputs(graph: &Graph, input: &Tensor) -> Result<Vec<Tensor>, ExecError> {
    let vals = run(graph, input)?;
    graph
        .outputs
        .iter()
        .map(|o| {
            vals.get(o).cloned().ok_or_else(|| ExecError {
                node: o.clone(),
                op: "output".into(),
                why: "graph output has no value".into(),
            })
        })
        .collect()
}

fn need<'a>(ins: &[Option<&'a Tensor>], i: usize) -> Result<&'a Tensor, String> {
    ins.get(i)
        .copied()
        .flatten()
        .ok_or_else(|| format!("missing input {i}"))
}

/// numpy broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
    }
    if out
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .is_none_or(|n| n > MAX_ELEMS)
    {
        return None;
    }
    Some(out)
}

/// For each flat index of `out`, the flat index of a tensor of shape `inp` broadcast to it.
pub fn broadcast_index(out: &[usize], inp: &[usize]) -> Vec<usize> {
    let total: usize = out.iter().product();
    // the common cases at once: the same shape (up to leading 1s), or a single value
    let in_total: usize = inp.iter().product();
    if in_total == total && out.len() >= inp.len() {
        return (0..total).collect();
    }
    if in_total == 1 {
        return vec![0; total];
    }
    let n = out.len();
    let pad = n - inp.len();
    // strides of inp aligned to out, 0 where broadcast
    let mut strides = vec![0usize; n];
    let mut s = 1;
    for i in (0..inp.len()).rev() {
        strides[i + pad] = if inp[i] == 1 { 0 } else { s };
        s *= inp[i];
    }
    let mut idx = vec![0usize; total];
    let mut coord = vec![0usize; n];
    let mut cur = 0usize;
    for slot in idx.iter_mut() {
        *slot = cur;
        for d in (0..n).rev() {
            coord[d] += 1;
            cur += strides[d];
            if coord[d] < out[d] {
                break;
            }
            cur -= strides[d] * coord[d];
            coord[d] = 0;
        }
    }
    idx
}

/// `f(a, b)` elementwise with numpy broadcasting, in `f32`.
pub fn binary(a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32) -> Result<Tensor, String> {
    let shape = broadcast_shape(&a.shape, &b.shape)
        .ok_or_else(|| format!("shapes {:?} and {:?} do not broadcast", a.shape, b.shape))?;
    if shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .is_none_or(|n| n > MAX_ELEMS)
    {
        return Err(format!("broadcast result {shape:?} is too large"));
    }
    let (av, bv) = (a.to_f32(), b.to_f32());
    let (ia, ib) = (
        broadcast_index(&shape, &a.shape),
        broadcast_index(&shape, &b.shape),
    );
    let v = ia.iter().zip(&ib).map(|(&i, &j)| f(av[i], bv[j])).collect();
    Ok(Tensor::f32(shape, v))
}

fn norm_axis(axis: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        return Err(format!("axis {axis} out of range for rank {rank}"));
    }
    Ok(a as usize)
}

fn scalar_param(t: &Tensor, what: &str) -> Result<f32, String> {
    t.single_f32()
        .ok_or_else(|| format!("{what} must be a single value, has shape {:?}", t.shape))
}

/// Run one node on its input values.
pub fn eval(node: &Node, ins: &[Option<&Tensor>]) -> Result<Vec<Tensor>, String> {
    let x = need(ins, 0)?;
    let one = |t: Tensor| Ok(vec![t]);
    match &node.op {
        Op::Quant {
            signed,
            narrow,
            rounding,
        } => {
            let (s, z, b) = (need(ins, 1)?, need(ins, 2)?, need(ins, 3)?);
            let bits = bit_width(b)?;
            one(quant(x, s, z, bits, *signed, *narrow, *rounding)?)
        }
        Op::BipolarQuant => {
            let s = need(ins, 1)?;
            one(binary(x, s, |v, s| if v >= 0.0 { s } else { -s })?)
        }
        Op::Trunc {
            signed,
            narrow,
            rounding,
        } => {
            // scale, zero point and output scale broadcast against x (numpy rules, as
            // qonnx computes them: per-tensor or per-channel)
            let per_elem = |i: usize, what: &str| -> Result<Vec<f32>, String> {
                let t = need(ins, i)?;
                if t.len() == 1 {
                    return Ok(vec![t.to_f32()[0]; x.len()]);
                }
                let full = binary(x, t, |_, b| b)?;
                if full.shape != x.shape {
                    return Err(format!(
                        "{what} of shape {:?} would broadcast the input {:?} to {:?}",
                        t.shape, x.shape, full.shape
                    ));
                }
                Ok(full.to_f32())
            };
            let s = per_elem(1, "Trunc scale")?;
            let z = per_elem(2, "Trunc zero point")?;
            let ib = scalar_param(need(ins, 3)?, "Trunc input bit width")?;
            let xv = x.to_f32();
            let v: Vec<f32> = if node.inputs.len() <= 5 {
                // Trunc v1: inputs x, scale, zero point, input and output bit widths.
                let ob = scalar_param(need(ins, 4)?, "Trunc output bit width")?;
                let ts = 2f32.powf(ib - ob);
                xv.iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        (rounding.round((v / s[i] + z[i]).round_ties_even() / ts) - z[i]) * s[i]
                    })
                    .collect()
            } else {
                // Trunc v2: ... output scale and output bit width, with clipping.
                let os = per_elem(4, "Trunc output scale")?;
                let ob = bit_width(need(ins, 5)?)?;
                let (lo, hi) = quant_range(ob, *signed, *narrow);
                xv.iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let ts = 2f32.powf((os[i] / s[i]).log2().round_ties_even());
                        let oz = z[i] / ts;
                        let y = (v / s[i] + z[i]).round_ties_even() / ts;
                        let y = if y > hi as f32 { hi as f32 } else { y };
                        let y = if y < lo as f32 { lo as f32 } else { y };
                        (rounding.round(y) - oz) * os[i]
                    })
                    .collect()
            };
            one(Tensor::f32(x.shape.clone(), v))
        }
        Op::MultiThreshold {
            out_scale,
            out_bias,
            channels_last,
            ..
        } => {
            let t = need(ins, 1)?;
            one(multithreshold(x, t, *out_scale, *out_bias, *channels_last)?)
        }
        Op::MatMul => one(matmul(x, need(ins, 1)?)?),
        Op::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
        } => {
            let a = if *trans_a {
                transpose(x, None)?
            } else {
                x.clone()
            };
            let b = need(ins, 1)?;
            let b = if *trans_b {
                transpose(b, None)?
            } else {
                b.clone()
            };
            if a.shape.len() != 2 || b.shape.len() != 2 {
                return Err("Gemm takes 2-D inputs".into());
            }
            let mut y = matmul(&a, &b)?;
            if *alpha != 1.0 {
                y = binary(&y, &Tensor::scalar(*alpha), |p, q| p * q)?;
            }
            if let Some(c) = ins.get(2).copied().flatten() {
                let c = if *beta != 1.0 {
                    binary(c, &Tensor::scalar(*beta), |p, q| p * q)?
                } else {
                    c.clone()
                };
                y = binary(&y, &c, |p, q| p + q)?;
                if y.shape != [a.shape[0], b.shape[1]] {
                    return Err("Gemm bias does not broadcast to the output".into());
                }
            }
            one(y)
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow => {
            let b = need(ins, 1)?;
            if x.is_int64() && b.is_int64() && !matches!(node.op, Op::Pow) {
                return one(int_binary(&node.op, x, b)?);
            }
            let f = match node.op {
                Op::Add => FloatOp::Add,
                Op::Sub => FloatOp::Sub,
                Op::Mul => FloatOp::Mul,
                Op::Div => FloatOp::Div,
                _ => FloatOp::Pow,
            };
            one(binary(x, b, |p, q| f.apply(p, q))?)
        }
        Op::BatchNorm { epsilon } => {
            let (sc, b, m, var) = (need(ins, 1)?, need(ins, 2)?, need(ins, 3)?, need(ins, 4)?);
            let c = *x
                .shape
                .get(1)
                .ok_or("BatchNormalization input has rank < 2")?;
            for t in [sc, b, m, var] {
                if t.len() != c {
                    return Err(format!(
                        "BatchNormalization parameter has {} values for {c} channels",
                        t.len()
                    ));
                }
            }
            let (ns, nb) = bn_affine(
                &sc.to_f32(),
                &b.to_f32(),
                &m.to_f32(),
                &var.to_f32(),
                *epsilon,
            );
            let inner: usize = x.shape[2..].iter().product();
            let v = x
                .to_f32()
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let ch = (i / inner) % c;
                    v * ns[ch] + nb[ch]
                })
                .collect();
            one(Tensor::f32(x.shape.clone(), v))
        }
        Op::Relu => one(map(x, |v| FloatOp::Max.apply(v, 0.0))),
        Op::Round => one(map(x, f32::round_ties_even)),
        Op::Sign => one(map(x, |v| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        })),
        Op::Identity => one(x.clone()),
        Op::Flatten { axis } => {
            let r = x.shape.len() as i64;
            let a = if *axis < 0 { axis + r } else { *axis };
            if a < 0 || a > r {
                return Err(format!("Flatten axis {axis} out of range for rank {r}"));
            }
            let a = a as usize;
            let outer: usize = x.shape[..a].iter().product();
            let inner: usize = x.shape[a..].iter().product();
            one(reshaped(x, vec![outer, inner]))
        }
        Op::Reshape { allow_zero } => {
            let s = need(ins, 1)?
                .to_i64()
                .ok_or("Reshape shape is not integral")?;
            one(reshaped(x, reshape_target(&x.shape, &s, *allow_zero)?))
        }
        Op::Transpose { perm } => one(transpose(x, perm.as_deref())?),
        Op::TopK { axis, largest, k } => {
            let k = match k {
                Some(k) => *k,
                None => {
                    let kt = need(ins, 1)?.to_i64().ok_or("TopK k is not integral")?;
                    match kt.as_slice() {
                        [k] if *k >= 0 => *k as usize,
                        _ => return Err("TopK k must be one non-negative value".into()),
                    }
                }
            };
            let (v, i) = topk(x, *axis, k, *largest)?;
            Ok(vec![v, i])
        }
        Op::ArgMax {
            axis,
            keepdims,
            select_last,
        } => {
            let ax = norm_axis(*axis, x.shape.len())?;
            let v = x.to_f32();
            let (outer, n, inner) = split3(&x.shape, ax);
            let mut out = Vec::with_capacity(outer * inner);
            for o in 0..outer {
                for i in 0..inner {
                    let mut best = 0usize;
                    for j in 0..n {
                        let a = v[(o * n + j) * inner + i];
                        let b = v[(o * n + best) * inner + i];
                        if a > b || (*select_last && a == b) {
                            best = j;
                        }
                    }
                    out.push(best as i64);
                }
            }
            let mut shape = x.shape.clone();
            if *keepdims {
                shape[ax] = 1;
            } else {
                shape.remove(ax);
            }
            one(Tensor::i64(shape, out))
        }
        Op::Softmax { axis, flatten } => {
            let ax = norm_axis(*axis, x.shape.len())?;
            let mut v = x.to_f32();
            let (outer, n, inner) = if *flatten {
                // opset < 13: the input is a 2-D [outer, rest] matrix, softmax per row
                (
                    x.shape[..ax].iter().product(),
                    x.shape[ax..].iter().product(),
                    1,
                )
            } else {
                split3(&x.shape, ax)
            };
            for o in 0..outer {
                for i in 0..inner {
                    let mut row: Vec<f32> = (0..n).map(|j| v[(o * n + j) * inner + i]).collect();
                    crate::ir::host::softmax(&mut row);
                    for (j, r) in row.into_iter().enumerate() {
                        v[(o * n + j) * inner + i] = r;
                    }
                }
            }
            one(Tensor::f32(x.shape.clone(), v))
        }
        Op::Shape { start, end } => {
            let r = x.shape.len() as i64;
            let clampi = |a: i64| (if a < 0 { a + r } else { a }).clamp(0, r) as usize;
            let s = clampi(*start);
            let e = clampi(end.unwrap_or(r));
            let dims: Vec<i64> = x.shape[s..e.max(s)].iter().map(|&d| d as i64).collect();
            one(Tensor::i64(vec![dims.len()], dims))
        }
        Op::Gather { axis } => {
            let idx = need(ins, 1)?
                .to_i64()
                .ok_or("Gather indices not integral")?;
            let ishape = need(ins, 1)?.shape.clone();
            let ax = norm_axis(*axis, x.shape.len())?;
            let (outer, n, inner) = split3(&x.shape, ax);
            let mut picks = Vec::with_capacity(idx.len());
            for &i in &idx {
                let j = if i < 0 { i + n as i64 } else { i };
                if j < 0 || j >= n as i64 {
                    return Err(format!("Gather index {i} out of range 0..{n}"));
                }
                picks.push(j as usize);
            }
            let mut shape = x.shape[..ax].to_vec();
            shape.extend(&ishape);
            shape.extend(&x.shape[ax + 1..]);
            if outer.saturating_mul(picks.len()).saturating_mul(inner) > MAX_ELEMS {
                return Err("Gather result is too large".into());
            }
            let order: Vec<usize> = (0..outer)
                .flat_map(|o| {
                    picks
                        .iter()
                        .flat_map(move |&p| (0..inner).map(move |i| (o * n + p) * inner + i))
                })
                .collect();
            one(match &x.data {
                Data::I64(v) => Tensor::i64(shape, order.iter().map(|&i| v[i]).collect()),
                Data::F32(v) => Tensor::f32(shape, order.iter().map(|&i| v[i]).collect()),
            })
        }
        Op::Unsqueeze { axes } => {
            let axes = match axes {
                Some(a) => a.clone(),
                None => need(ins, 1)?
                    .to_i64()
                    .ok_or("Unsqueeze axes not integral")?,
            };
            let r = x.shape.len() + axes.len();
            let mut norm: Vec<usize> = Vec::new();
            for &a in &axes {
                norm.push(norm_axis(a, r)?);
            }
            norm.sort_unstable();
            norm.dedup();
            if norm.len() != axes.len() {
                return Err("Unsqueeze axes repeat".into());
            }
            let mut shape = x.shape.clone();
            for a in norm {
                shape.insert(a, 1);
            }
            one(reshaped(x, shape))
        }
        Op::Squeeze { axes } => {
            let axes = match (axes, ins.get(1).copied().flatten()) {
                (Some(a), _) => Some(a.clone()),
                (None, Some(t)) => Some(t.to_i64().ok_or("Squeeze axes not integral")?),
                (None, None) => None,
            };
            let r = x.shape.len();
            let shape: Vec<usize> = match axes {
                None => x.shape.iter().copied().filter(|&d| d != 1).collect(),
                Some(a) => {
                    let mut drop = Vec::new();
                    for ax in a {
                        let ax = norm_axis(ax, r)?;
                        if x.shape[ax] != 1 {
                            return Err(format!("Squeeze axis {ax} has size {}", x.shape[ax]));
                        }
                        drop.push(ax);
                    }
                    (0..r)
                        .filter(|i| !drop.contains(i))
                        .map(|i| x.shape[i])
                        .collect()
                }
            };
            one(reshaped(x, shape))
        }
        Op::Concat { axis } => {
            let ts: Vec<&Tensor> = ins.iter().copied().flatten().collect();
            let ax = norm_axis(*axis, x.shape.len())?;
            for t in &ts {
                if t.shape.len() != x.shape.len()
                    || t.shape
                        .iter()
                        .enumerate()
                        .any(|(i, &d)| i != ax && d != x.shape[i])
                {
                    return Err(format!(
                        "Concat inputs {:?} and {:?} disagree off axis {ax}",
                        x.shape, t.shape
                    ));
                }
            }
            let outer: usize = x.shape[..ax].iter().product();
            let mut shape = x.shape.clone();
            shape[ax] = ts.iter().map(|t| t.shape[ax]).sum();
            let all_int = ts.iter().all(|t| t.is_int64());
            let mut fv = Vec::new();
            let mut iv = Vec::new();
            for o in 0..outer {
                for t in &ts {
                    let chunk: usize = t.shape[ax..].iter().product();
                    if all_int {
                        let v = t.to_i64().unwrap_or_default();
                        iv.extend_from_slice(&v[o * chunk..(o + 1) * chunk]);
                    } else {
                        let v = t.to_f32();
                        fv.extend_from_slice(&v[o * chunk..(o + 1) * chunk]);
                    }
                }
            }
            one(if all_int {
                Tensor::i64(shape, iv)
            } else {
                Tensor::f32(shape, fv)
            })
        }
        Op::Conv {
            kernel,
            strides,
            pads,
            dilations,
            group,
            auto_pad,
        } => {
            let w = need(ins, 1)?;
            let bias = ins.get(2).copied().flatten();
            one(conv(
                x, w, bias, kernel, strides, pads, dilations, *group, auto_pad,
            )?)
        }
        Op::MaxPool {
            kernel,
            strides,
            pads,
            dilations,
            ceil_mode,
            auto_pad,
        } => one(max_pool(
            x, kernel, strides, pads, dilations, *ceil_mode, auto_pad,
        )?),
        Op::Pad { mode, pads, value } => {
            if mode != "constant" {
                return Err(format!(
                    "Pad mode `{mode}`: only constant padding is implemented"
                ));
            }
            let p = match pads {
                Some(p) => p.clone(),
                None => need(ins, 1)?.to_i64().ok_or("Pad pads are not integral")?,
            };
            let v = match ins.get(2).copied().flatten() {
                Some(t) => scalar_param(t, "Pad value")?,
                None => *value,
            };
            one(pad(x, &p, v)?)
        }
        Op::AveragePool {
            global,
            kernel,
            strides,
            pads,
            ceil_mode,
            auto_pad,
        } => {
            if *ceil_mode
                || pads.iter().any(|&p| p != 0)
                || !matches!(auto_pad.as_str(), "" | "NOTSET" | "VALID")
            {
                return Err("AveragePool with padding or ceil mode is not implemented".into());
            }
            let (s, cnt) = sum_pool(x, *global, kernel, strides)?;
            one(map(&s, |v| v / cnt as f32))
        }
        Op::ReduceMean {
            axes,
            keepdims,
            noop,
        } => {
            let axes = match (axes, ins.get(1).copied().flatten()) {
                (Some(a), _) => a.clone(),
                (None, Some(t)) => t.to_i64().ok_or("ReduceMean axes not integral")?,
                (None, None) => Vec::new(),
            };
            if axes.is_empty() && *noop {
                return one(x.clone());
            }
            let r = x.shape.len();
            let mut red = vec![axes.is_empty(); r];
            for &a in &axes {
                red[norm_axis(a, r)?] = true;
            }
            let spatial = r >= 3 && (0..r).all(|i| red[i] == (i >= 2));
            let out = if spatial {
                // the global average pool's kernel: the same sums
                let (s, cnt) = sum_pool(x, true, &[], &[])?;
                map(&s, |v| v / cnt as f32)
            } else {
                // generic: sum in index order, then divide
                let oshape: Vec<usize> = (0..r)
                    .map(|i| if red[i] { 1 } else { x.shape[i] })
                    .collect();
                let n: usize = oshape.iter().product();
                let cnt: usize = (0..r).filter(|&i| red[i]).map(|i| x.shape[i]).product();
                let mut acc = vec![0f32; n];
                let v = x.to_f32();
                let mut idx = vec![0usize; r];
                for &val in &v {
                    let mut o = 0;
                    for i in 0..r {
                        o = o * oshape[i] + if red[i] { 0 } else { idx[i] };
                    }
                    acc[o] += val;
                    for i in (0..r).rev() {
                        idx[i] += 1;
                        if idx[i] < x.shape[i] {
                            break;
                        }
                        idx[i] = 0;
                    }
                }
                Tensor::f32(
                    oshape,
                    acc.into_iter().map(|s| s / cnt.max(1) as f32).collect(),
                )
            };
            let shape: Vec<usize> = if *keepdims {
                out.shape.clone()
            } else {
                (0..r).filter(|&i| !red[i]).map(|i| x.shape[i]).collect()
            };
            one(reshaped(&out, shape))
        }
        Op::SumPool {
            global,
            kernel,
            strides,
        } => one(sum_pool(x, *global, kernel, strides)?.0),
    }
}

/// BatchNormalization as onnxruntime folds it: `(new_scale, new_bias)` with
/// `new_scale = (1 / sqrt(var + eps)) * scale`, `new_bias = bias - mean * new_scale`.
pub fn bn_affine(
    scale: &[f32],
    bias: &[f32],
    mean: &[f32],
    var: &[f32],
    eps: f32,
) -> (Vec<f32>, Vec<f32>) {
    let ns: Vec<f32> = scale
        .iter()
        .zip(var)
        .map(|(&s, &v)| (1.0 / (v + eps).sqrt()) * s)
        .collect();
    let nb = bias
        .iter()
        .zip(mean)
        .zip(&ns)
        .map(|((&b, &m), &n)| b - m * n)
        .collect();
    (ns, nb)
}

fn bit_width(b: &Tensor) -> Result<u32, String> {
    let v = scalar_param(b, "bit width")?;
    if !((1.0..=62.0).contains(&v) && v == v.trunc()) {
        return Err(format!("bit width {v} is not an integer in 1..=62"));
    }
    Ok(v as u32)
}

/// qonnx `Quant` with broadcast scale and zero point.
pub fn quant(
    x: &Tensor,
    s: &Tensor,
    z: &Tensor,
    bits: u32,
    signed: bool,
    narrow: bool,
    rounding: RoundingMode,
) -> Result<Tensor, String> {
    let sz = broadcast_shape(&s.shape, &z.shape).ok_or("scale and zero point do not broadcast")?;
    let shape = broadcast_shape(&x.shape, &sz).ok_or_else(|| {
        format!(
            "scale/zero point shape {sz:?} does not broadcast to input {:?}",
            x.shape
        )
    })?;
    let (xv, sv, zv) = (x.to_f32(), s.to_f32(), z.to_f32());
    let (ix, is, iz) = (
        broadcast_index(&shape, &x.shape),
        broadcast_index(&shape, &s.shape),
        broadcast_index(&shape, &z.shape),
    );
    let v = (0..ix.len())
        .map(|k| {
            let (sc, zp) = (sv[is[k]], zv[iz[k]]);
            (quant_int(xv[ix[k]], sc, zp, bits, signed, narrow, rounding) - zp) * sc
        })
        .collect();
    Ok(Tensor::f32(shape, v))
}

/// The integer levels `q - zero_point` of qonnx `Quant` (its output divided by the scale,
/// exactly).
pub fn quant_levels(
    x: &Tensor,
    s: &Tensor,
    z: &Tensor,
    bits: u32,
    signed: bool,
    narrow: bool,
    rounding: RoundingMode,
) -> Result<Tensor, String> {
    let sz = broadcast_shape(&s.shape, &z.shape).ok_or("scale and zero point do not broadcast")?;
    let shape = broadcast_shape(&x.shape, &sz).ok_or("scale does not broadcast to the input")?;
    let (xv, sv, zv) = (x.to_f32(), s.to_f32(), z.to_f32());
    let (ix, is, iz) = (
        broadcast_index(&shape, &x.shape),
        broadcast_index(&shape, &s.shape),
        broadcast_index(&shape, &z.shape),
    );
    let v = (0..ix.len())
        .map(|k| {
            quant_int(
                xv[ix[k]], sv[is[k]], zv[iz[k]], bits, signed, narrow, rounding,
            ) - zv[iz[k]]
        })
        .collect();
    Ok(Tensor::f32(shape, v))
}

/// qonnx `MultiThreshold`.
pub fn multithreshold(
    x: &Tensor,
    t: &Tensor,
    out_scale: f32,
    out_bias: f32,
    channels_last: bool,
) -> Result<Tensor, String> {
    if t.shape.len() != 2 {
        return Err(format!("thresholds must be 2-D, have shape {:?}", t.shape));
    }
    let (rows, n) = (t.shape[0], t.shape[1]);
    let r = x.shape.len();
    let ax = if channels_last {
        r.saturating_sub(1)
    } else {
        1.min(r.saturating_sub(1))
    };
    let c = *x.shape.get(ax).unwrap_or(&1);
    if rows != 1 && rows != c {
        return Err(format!(
            "{rows} threshold rows for {c} channels (need 1 or one per channel)"
        ));
    }
    let inner: usize = x.shape[ax + 1..].iter().product();
    let tv = t.to_f32();
    let v = x
        .to_f32()
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let ch = if rows == 1 { 0 } else { (i / inner) % c };
            let cnt = tv[ch * n..(ch + 1) * n]
                .iter()
                .filter(|&&th| v >= th)
                .count();
            out_scale * cnt as f32 + out_bias
        })
        .collect();
    Ok(Tensor::f32(x.shape.clone(), v))
}

fn map(x: &Tensor, f: impl Fn(f32) -> f32) -> Tensor {
    Tensor::f32(x.shape.clone(), x.to_f32().into_iter().map(f).collect())
}

fn reshaped(x: &Tensor, shape: Vec<usize>) -> Tensor {
    Tensor {
        shape,
        data: x.data.clone(),
    }
}

fn int_binary(op: &Op, a: &Tensor, b: &Tensor) -> Result<Tensor, String> {
    let shape = broadcast_shape(&a.shape, &b.shape).ok_or("int64 shapes do not broadcast")?;
    let (av, bv) = (
        a.to_i64().unwrap_or_default(),
        b.to_i64().unwrap_or_default(),
    );
    let (ia, ib) = (
        broadcast_index(&shape, &a.shape),
        broadcast_index(&shape, &b.shape),
    );
    let mut v = Vec::with_capacity(ia.len());
    for (&i, &j) in ia.iter().zip(&ib) {
        let (p, q) = (av[i], bv[j]);
        v.push(match op {
            Op::Add => p.wrapping_add(q),
            Op::Sub => p.wrapping_sub(q),
            Op::Mul => p.wrapping_mul(q),
            _ => {
                if q == 0 {
                    return Err("int64 division by zero".into());
                }
                p.wrapping_div(q)
            }
        });
    }
    Ok(Tensor::i64(shape, v))
}

/// Resolve an ONNX Reshape target (0 = copy, -1 = infer).
pub fn reshape_target(inp: &[usize], s: &[i64], allow_zero: bool) -> Result<Vec<usize>, String> {
    let total: usize = inp.iter().product();
    let mut out = Vec::with_capacity(s.len());
    let mut infer = None;
    for (i, &d) in s.iter().enumerate() {
        if d == -1 {
            if infer.is_some() {
                return Err("Reshape target has two -1".into());
            }
            infer = Some(i);
            out.push(1);
        } else if d == 0 && !allow_zero {
            out.push(*inp.get(i).ok_or("Reshape 0 copies a missing dimension")?);
        } else if d < 0 {
            return Err(format!("Reshape target dimension {d}"));
        } else {
            out.push(d as usize);
        }
    }
    let known: usize = out.iter().product();
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(format!("cannot reshape {inp:?} to {s:?}"));
        }
        out[i] = total / known;
    } else if known != total {
        return Err(format!("cannot reshape {inp:?} ({total} values) to {s:?}"));
    }
    Ok(out)
}

fn split3(shape: &[usize], ax: usize) -> (usize, usize, usize) {
    (
        shape[..ax].iter().product(),
        shape[ax],
        shape[ax + 1..].iter().product(),
    )
}

/// Transpose with an optional permutation (default: reverse the axes).
pub fn transpose(x: &Tensor, perm: Option<&[usize]>) -> Result<Tensor, String> {
    let r = x.shape.len();
    let perm: Vec<usize> = match perm {
        Some(p) => p.to_vec(),
        None => (0..r).rev().collect(),
    };
    let mut seen = vec![false; r];
    if perm.len() != r
        || perm
            .iter()
            .any(|&p| p >= r || std::mem::replace(&mut seen[p], true))
    {
        return Err(format!("perm {perm:?} is not a permutation of {r} axes"));
    }
    let oshape: Vec<usize> = perm.iter().map(|&p| x.shape[p]).collect();
    let mut istr = vec![1usize; r];
    for i in (0..r.saturating_sub(1)).rev() {
        istr[i] = istr[i + 1] * x.shape[i + 1];
    }
    let total = x.len();
    let mut idx = Vec::with_capacity(total);
    let mut coord = vec![0usize; r];
    for _ in 0..total {
        idx.push(
            coord
                .iter()
                .zip(&perm)
                .map(|(&c, &p)| c * istr[p])
                .sum::<usize>(),
        );
        for d in (0..r).rev() {
            coord[d] += 1;
            if coord[d] < oshape[d] {
                break;
            }
            coord[d] = 0;
        }
    }
    Ok(match &x.data {
        Data::F32(v) => Tensor::f32(oshape, idx.iter().map(|&i| v[i]).collect()),
        Data::I64(v) => Tensor::i64(oshape, idx.iter().map(|&i| v[i]).collect()),
    })
}

/// numpy `matmul` for rank >= 1 operands with equal (or absent) batch dimensions.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor, String> {
    if a.shape.is_empty() || b.shape.is_empty() {
        return Err("MatMul operands must have rank >= 1".into());
    }
    let (a2, a_vec) = if a.shape.len() == 1 {
        (vec![1, a.shape[0]], true)
    } else {
        (a.shape.clone(), false)
    };
    let (b2, b_vec) = if b.shape.len() == 1 {
        (vec![b.shape[0], 1], true)
    } else {
        (b.shape.clone(), false)
    };
    let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
    if k != k2 {
        return Err(format!(
            "MatMul shapes {:?} and {:?} do not agree ({k} vs {k2})",
            a.shape, b.shape
        ));
    }
    let abatch = &a2[..a2.len() - 2];
    let bbatch = &b2[..b2.len() - 2];
    let batch = broadcast_shape(abatch, bbatch).ok_or("MatMul batch dims do not broadcast")?;
    let nb: usize = batch.iter().product();
    let work = [nb, m, n, k]
        .iter()
        .try_fold(1usize, |p, &d| p.checked_mul(d.max(1)));
    if work.is_none_or(|w| w > 1 << 31) {
        return Err(format!(
            "MatMul of {:?} and {:?} is too large",
            a.shape, b.shape
        ));
    }
    let ia = broadcast_index(&batch, abatch);
    let ib = broadcast_index(&batch, bbatch);
    let (av, bv) = (a.to_f32(), b.to_f32());
    let mut out = vec![0f32; nb * m * n];
    for bi in 0..nb {
        let ao = ia[bi] * m * k;
        let bo = ib[bi] * k * n;
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0f32;
                for p in 0..k {
                    acc += av[ao + i * k + p] * bv[bo + p * n + j];
                }
                out[(bi * m + i) * n + j] = acc;
            }
        }
    }
    let mut shape = batch;
    if !a_vec {
        shape.push(m);
    }
    if !b_vec {
        shape.push(n);
    }
    Ok(Tensor::f32(shape, out))
}

/// ONNX TopK: values and int64 indices of the `k` largest (or smallest) along `axis`;
/// equal values keep the lower index first.
pub fn topk(x: &Tensor, axis: i64, k: usize, largest: bool) -> Result<(Tensor, Tensor), String> {
    let ax = norm_axis(axis, x.shape.len())?;
    let (outer, n, inner) = split3(&x.shape, ax);
    if k > n {
        return Err(format!("TopK k = {k} exceeds the {n} values on the axis"));
    }
    let v = x.to_f32();
    let mut vals = vec![0f32; outer * k * inner];
    let mut idxs = vec![0i64; outer * k * inner];
    for o in 0..outer {
        for i in 0..inner {
            let mut order: Vec<usize> = (0..n).collect();
            let at = |j: usize| v[(o * n + j) * inner + i];
            order.sort_by(|&p, &q| {
                let c = at(q)
                    .partial_cmp(&at(p))
                    .unwrap_or(std::cmp::Ordering::Equal);
                if largest { c } else { c.reverse() }
            });
            for (r, &j) in order.iter().take(k).enumerate() {
                vals[(o * k + r) * inner + i] = at(j);
                idxs[(o * k + r) * inner + i] = j as i64;
            }
        }
    }
    let mut shape = x.shape.clone();
    shape[ax] = k;
    Ok((Tensor::f32(shape.clone(), vals), Tensor::i64(shape, idxs)))
}

/// Geometry of a sliding window over the 1 or 2 spatial axes of an NCW/NCHW tensor, after
/// defaults and `auto_pad` are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub stride: Vec<usize>,
    pub dilation: Vec<usize>,
    /// Padding before each spatial axis (top, left).
    pub pad_begin: Vec<usize>,
    /// Padding after each spatial axis (bottom, right).
    pub pad_end: Vec<usize>,
    /// Output size of each spatial axis.
    pub out: Vec<usize>,
}

/// Resolve a window op's attributes on the spatial dimensions `spatial` (ONNX rules;
/// empty attributes take their defaults; `kernel` must be given). The error says which
/// attribute does not fit.
pub fn window(
    spatial: &[usize],
    kernel: &[i64],
    strides: &[i64],
    pads: &[i64],
    dilations: &[i64],
    auto_pad: &str,
    ceil: bool,
) -> Result<Window, String> {
    let r = spatial.len();
    if r == 0 || r > 2 {
        return Err(format!(
            "input has {r} spatial axes; only 1-D (NCW) and 2-D (NCHW) windows are supported"
        ));
    }
    let axis = |v: &[i64], what: &str, default: i64, lo: i64| -> Result<Vec<usize>, String> {
        if v.is_empty() {
            return Ok(vec![default as usize; r]);
        }
        if v.len() != r {
            return Err(format!(
                "{what} {v:?} has {} values for {r} spatial axes",
                v.len()
            ));
        }
        if v.iter().any(|&d| d < lo || d > 1 << 16) {
            return Err(format!("{what} {v:?} out of range"));
        }
        Ok(v.iter().map(|&d| d as usize).collect())
    };
    if kernel.is_empty() {
        return Err("kernel_shape is missing".into());
    }
    let kernel = axis(kernel, "kernel_shape", 1, 1)?;
    let stride = axis(strides, "strides", 1, 1)?;
    let dilation = axis(dilations, "dilations", 1, 1)?;
    let (mut pad_begin, mut pad_end) = (vec![0usize; r], vec![0usize; r]);
    match auto_pad {
        "" | "NOTSET" => {
            if !pads.is_empty() {
                if pads.len() != 2 * r || pads.iter().any(|&p| !(0..=1 << 16).contains(&p)) {
                    return Err(format!(
                        "pads {pads:?}: need {} non-negative values (begin of each axis, then end)",
                        2 * r
                    ));
                }
                for i in 0..r {
                    pad_begin[i] = pads[i] as usize;
                    pad_end[i] = pads[r + i] as usize;
                }
            }
        }
        "VALID" => {}
        "SAME_UPPER" | "SAME_LOWER" => {
            for i in 0..r {
                let out = spatial[i].div_ceil(stride[i]);
                let eff = (kernel[i] - 1) * dilation[i] + 1;
                let total = ((out.max(1) - 1) * stride[i] + eff).saturating_sub(spatial[i]);
                let small = total / 2;
                let (b, e) = if auto_pad == "SAME_UPPER" {
                    (small, total - small)
                } else {
                    (total - small, small)
                };
                pad_begin[i] = b;
                pad_end[i] = e;
            }
        }
        other => return Err(format!("auto_pad `{other}` is not an ONNX value")),
    }
    let mut out = Vec::with_capacity(r);
    for i in 0..r {
        let eff = (kernel[i] - 1) * dilation[i] + 1;
        let padded = spatial[i] + pad_begin[i] + pad_end[i];
        if eff > padded {
            return Err(format!(
                "the kernel spans {eff} along spatial axis {i} (kernel_shape {:?}, dilations {:?}) \
                 but the padded input has {padded}; use a smaller kernel or more padding",
                kernel, dilation
            ));
        }
        let span = padded - eff;
        out.push(if ceil {
            span.div_ceil(stride[i]) + 1
        } else {
            span / stride[i] + 1
        });
    }
    Ok(Window {
        kernel,
        stride,
        dilation,
        pad_begin,
        pad_end,
        out,
    })
}

/// `[N, C, H, W]` of an NCW or NCHW tensor (H = 1 for NCW).
fn nchw(shape: &[usize]) -> Result<[usize; 4], String> {
    match *shape {
        [n, c, w] => Ok([n, c, 1, w]),
        [n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(format!(
            "input of shape {shape:?}: windows take NCW or NCHW tensors"
        )),
    }
}

/// Window geometry as 2-D `[H, W]` pairs (an NCW window has a 1-row kernel).
#[allow(clippy::type_complexity)]
fn as2d(w: &Window) -> ([usize; 2], [usize; 2], [usize; 2], [usize; 2], [usize; 2]) {
    let two = |v: &[usize], d: usize| {
        if v.len() == 1 {
            [d, v[0]]
        } else {
            [v[0], v[1]]
        }
    };
    (
        two(&w.kernel, 1),
        two(&w.stride, 1),
        two(&w.dilation, 1),
        two(&w.pad_begin, 0),
        two(&w.out, 1),
    )
}

/// ONNX `Conv` (NCW/NCHW, groups, dilations, padding with 0, optional bias). Each output
/// sums `x * w` over (input channel, ky, kx) in that order in `f32`, then adds the bias.
#[allow(clippy::too_many_arguments)]
pub fn conv(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    kernel: &[i64],
    strides: &[i64],
    pads: &[i64],
    dilations: &[i64],
    group: i64,
    auto_pad: &str,
) -> Result<Tensor, String> {
    let [n, c, h, wd] = nchw(&x.shape)?;
    if w.shape.len() != x.shape.len() {
        return Err(format!(
            "weights of shape {:?} for an input of shape {:?}",
            w.shape, x.shape
        ));
    }
    let m = w.shape[0];
    let cg = w.shape[1];
    let g = usize::try_from(group)
        .ok()
        .filter(|&g| g >= 1)
        .ok_or("group must be >= 1")?;
    if cg * g != c || !m.is_multiple_of(g) {
        return Err(format!(
            "weights {:?} with group {g} do not fit {c} input channels",
            w.shape
        ));
    }
    let wk: Vec<i64> = w.shape[2..].iter().map(|&d| d as i64).collect();
    if !kernel.is_empty() && kernel != wk.as_slice() {
        return Err(format!(
            "kernel_shape {kernel:?} disagrees with the weights' {wk:?}"
        ));
    }
    let spatial = &x.shape[2..];
    let win = window(spatial, &wk, strides, pads, dilations, auto_pad, false)?;
    let ([kh, kw], [sh, sw], [dh, dw], [pt, pl], [oh, ow]) = as2d(&win);
    let total = n * m * oh * ow;
    if total > MAX_ELEMS || total.saturating_mul(cg.saturating_mul(kh * kw)) > 1 << 34 {
        return Err("Conv result is too large".into());
    }
    let b = match bias {
        Some(b) if b.len() == m => b.to_f32(),
        Some(b) => {
            return Err(format!(
                "bias of {} values for {m} output channels",
                b.len()
            ));
        }
        None => vec![],
    };
    let (xv, wv) = (x.to_f32(), w.to_f32());
    let mut out = vec![0f32; total];
    let per = m / g;
    // Output positions `o` whose input `o * s + k * d - p` lies in `0..len`.
    let valid = |len: usize, s: usize, kd: usize, p: usize, o: usize| -> (usize, usize) {
        let (kd, p) = (kd as isize, p as isize);
        let s = s as isize;
        let lo = (p - kd).max(0);
        let lo = (lo + s - 1) / s;
        let hi = len as isize - 1 + p - kd;
        if hi < 0 {
            return (0, 0);
        }
        let hi = (hi / s + 1).min(o as isize);
        (lo.min(hi) as usize, hi.max(0) as usize)
    };
    // Loops ordered for speed, each output still summing its products in (input channel,
    // ky, kx) order, from 0, then adding the bias.
    for ni in 0..n {
        for mi in 0..m {
            let c0 = (mi / per) * cg;
            let plane = &mut out[(ni * m + mi) * oh * ow..(ni * m + mi + 1) * oh * ow];
            for ci in 0..cg {
                let xp = &xv[(ni * c + c0 + ci) * h * wd..(ni * c + c0 + ci + 1) * h * wd];
                for ky in 0..kh {
                    let (ylo, yhi) = valid(h, sh, ky * dh, pt, oh);
                    for kx in 0..kw {
                        let (xlo, xhi) = valid(wd, sw, kx * dw, pl, ow);
                        let wgt = wv[((mi * cg + ci) * kh + ky) * kw + kx];
                        for oy in ylo..yhi {
                            let iy = oy * sh + ky * dh - pt;
                            let row = &xp[iy * wd..(iy + 1) * wd];
                            let orow = &mut plane[oy * ow..(oy + 1) * ow];
                            for ox in xlo..xhi {
                                orow[ox] += row[ox * sw + kx * dw - pl] * wgt;
                            }
                        }
                    }
                }
            }
            if !b.is_empty() {
                plane.iter_mut().for_each(|v| *v += b[mi]);
            }
        }
    }
    let mut shape = vec![n, m];
    shape.extend(&win.out);
    Ok(Tensor::f32(shape, out))
}

/// ONNX `MaxPool` (NCW/NCHW; padding counts as -infinity).
pub fn max_pool(
    x: &Tensor,
    kernel: &[i64],
    strides: &[i64],
    pads: &[i64],
    dilations: &[i64],
    ceil: bool,
    auto_pad: &str,
) -> Result<Tensor, String> {
    let [n, c, h, wd] = nchw(&x.shape)?;
    let win = window(
        &x.shape[2..],
        kernel,
        strides,
        pads,
        dilations,
        auto_pad,
        ceil,
    )?;
    let ([kh, kw], [sh, sw], [dh, dw], [pt, pl], [oh, ow]) = as2d(&win);
    let total = n * c * oh * ow;
    if total > MAX_ELEMS || total.saturating_mul(kh * kw) > 1 << 34 {
        return Err("MaxPool result is too large".into());
    }
    let xv = x.to_f32();
    let mut out = Vec::with_capacity(total);
    for p in 0..n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best = f32::NEG_INFINITY;
                for ky in 0..kh {
                    let iy = (oy * sh + ky * dh) as isize - pt as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    for kx in 0..kw {
                        let ix = (ox * sw + kx * dw) as isize - pl as isize;
                        if ix < 0 || ix >= wd as isize {
                            continue;
                        }
                        let v = xv[(p * h + iy as usize) * wd + ix as usize];
                        if v > best || v.is_nan() {
                            best = v;
                        }
                    }
                }
                out.push(best);
            }
        }
    }
    let mut shape = vec![n, c];
    shape.extend(&win.out);
    Ok(Tensor::f32(shape, out))
}

/// ONNX `Pad`, constant mode: `pads` = begins of every axis, then ends (non-negative).
pub fn pad(x: &Tensor, pads: &[i64], value: f32) -> Result<Tensor, String> {
    let r = x.shape.len();
    if pads.len() != 2 * r || pads.iter().any(|&p| !(0..=1 << 16).contains(&p)) {
        return Err(format!(
            "pads {pads:?}: need {} non-negative values for rank {r}",
            2 * r
        ));
    }
    let oshape: Vec<usize> = (0..r)
        .map(|i| x.shape[i] + pads[i] as usize + pads[r + i] as usize)
        .collect();
    if oshape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .is_none_or(|t| t > MAX_ELEMS)
    {
        return Err("Pad result is too large".into());
    }
    let total: usize = oshape.iter().product();
    let mut out = vec![value; total];
    let xv = x.to_f32();
    let mut coord = vec![0usize; r];
    for &v in &xv {
        let mut at = 0usize;
        for i in 0..r {
            at = at * oshape[i] + coord[i] + pads[i] as usize;
        }
        out[at] = v;
        for d in (0..r).rev() {
            coord[d] += 1;
            if coord[d] < x.shape[d] {
                break;
            }
            coord[d] = 0;
        }
    }
    Ok(Tensor::f32(oshape, out))
}

/// The `f32` sum over each window of an NCW/NCHW tensor (over the whole map when
/// `global`), in (ky, kx) order from 0, and the window size.
pub fn sum_pool(
    x: &Tensor,
    global: bool,
    kernel: &[i64],
    strides: &[i64],
) -> Result<(Tensor, usize), String> {
    let [n, c, h, wd] = nchw(&x.shape)?;
    let r = x.shape.len() - 2;
    let kernel: Vec<i64> = if global {
        x.shape[2..].iter().map(|&d| d as i64).collect()
    } else {
        kernel.to_vec()
    };
    let win = window(&x.shape[2..], &kernel, strides, &[], &[], "NOTSET", false)?;
    let ([kh, kw], [sh, sw], _, _, [oh, ow]) = as2d(&win);
    let total = n * c * oh * ow;
    if total > MAX_ELEMS || total.saturating_mul(kh * kw) > 1 << 34 {
        return Err("pool result is too large".into());
    }
    let xv = x.to_f32();
    let mut out = Vec::with_capacity(total);
    for p in 0..n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = 0f32;
                for ky in 0..kh {
                    for kx in 0..kw {
                        acc += xv[(p * h + oy * sh + ky) * wd + ox * sw + kx];
                    }
                }
                out.push(acc);
            }
        }
    }
    let mut shape = vec![n, c];
    shape.extend(if global { vec![1; r] } else { win.out.clone() });
    Ok((Tensor::f32(shape, out), kh * kw))
}
