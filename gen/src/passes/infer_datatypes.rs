//! Datatype inference: which tensors hold quantized values, of which integer type, scale
//! and zero point. Sources are quantizers (`Quant` -> INTn/UINTn, 1-bit signed and
//! `BipolarQuant` -> BIPOLAR, 1-bit unsigned -> BINARY) and integer `MultiThreshold`s;
//! layout ops carry the type; a `MatMul` of two plain integer tensors is an integer
//! accumulator whose type covers its exact range; `x / s` of a quantized `x` with scale `s`
//! is integer when `s` is a power of two, `Round(x / s)` always.

use super::PassError;
use super::fold_constants::quant_dtype;
use crate::import::graph::{Graph, Op, QInfo, Tensor};
use crate::ir::DataType;

pub const NAME: &str = "infer-datatypes";

pub fn run(g: &mut Graph) -> Result<bool, PassError> {
    let mut q = g.qinfo.clone();
    // Non-constant entries are recomputed from scratch.
    q.retain(|k, _| g.consts.contains_key(k));
    // built on the first Round that needs it
    let index = std::cell::OnceCell::new();
    for node in &g.nodes {
        let out = node.outputs[0].clone();
        let c = |i: usize| -> Result<&Tensor, PassError> {
            let name = node.inputs.get(i).map(String::as_str).unwrap_or("");
            g.consts.get(name).ok_or_else(|| {
                PassError::invalid(
                    &node.name,
                    Some(name),
                    format!("{} parameter must be constant", node.op.type_name()),
                )
            })
        };
        let info = match &node.op {
            Op::Quant { signed, narrow, .. } => {
                let bits = c(3)?.single_f32().unwrap_or(0.0);
                if !(1.0..=32.0).contains(&bits) || bits != bits.trunc() {
                    return Err(PassError::invalid(
                        &node.name,
                        Some(&node.inputs[3]),
                        format!("bit width {bits} is not an integer in 1..=32"),
                    ));
                }
                Some(QInfo {
                    dtype: quant_dtype(bits as u32, *signed, *narrow),
                    scale: c(1)?.clone(),
                    zero_point: c(2)?.clone(),
                    levels: None,
                })
            }
            Op::BipolarQuant => Some(QInfo {
                dtype: DataType::Bipolar,
                scale: c(1)?.clone(),
                zero_point: Tensor::scalar(0.0),
                levels: None,
            }),
            Op::MultiThreshold {
                out_scale,
                out_bias,
                out_dtype,
                ..
            } => {
                let n = c(1)?.shape.get(1).copied().unwrap_or(0) as i64;
                if *out_scale == 2.0 && *out_bias == -1.0 && n == 1 {
                    Some(QInfo::int(DataType::Bipolar))
                } else if *out_scale == 1.0 && out_bias.trunc() == *out_bias {
                    let lo = *out_bias as i64;
                    let dt = out_dtype
                        .filter(|d| d.contains(lo) && d.contains(lo.saturating_add(n)))
                        .unwrap_or(super::int_type(lo, lo.saturating_add(n)));
                    Some(QInfo::int(dt))
                } else {
                    None
                }
            }
            Op::Transpose { .. }
            | Op::Reshape { .. }
            | Op::Flatten { .. }
            | Op::Identity
            | Op::Squeeze { .. }
            | Op::Unsqueeze { .. } => q
                .get(&node.inputs[0])
                .filter(|i| i.scale.len() == 1 && i.zero_point.len() == 1)
                .cloned(),
            // An integer tensor times a positive constant (one value, or one per channel):
            // quantized with that scale.
            Op::Mul => match (q.get(&node.inputs[0]), g.consts.get(&node.inputs[1])) {
                (Some(i), Some(k))
                    if i.is_plain_int()
                        && !k.is_empty()
                        && k.to_f32().iter().all(|&v| v > 0.0 && v.is_finite())
                        && (k.len() == 1
                            || g.shapes.get(&node.outputs[0]) == g.shapes.get(&node.inputs[0])) =>
                {
                    Some(QInfo {
                        dtype: i.dtype,
                        scale: k.clone(),
                        zero_point: Tensor::scalar(0.0),
                        levels: None,
                    })
                }
                _ => None,
            },
            // Round(x / s) of a quantized x with scale s: its integers, exactly.
            // Round of integers, or Round(x / s) of a quantized x with scale s and integral
            // zero point z: exactly its levels q - z.
            Op::Round => {
                // The levels of y when y = (q - z) * k: scale k (one value, or the same
                // per-channel values), integral zero point z.
                let levels = |i: &QInfo, k: &Tensor| -> Option<QInfo> {
                    let z = i.zero_point.single_f32()?;
                    let same = i.scale.shape == k.shape && i.scale.to_f32() == k.to_f32()
                        || i.scale.single_f32().is_some() && i.scale.single_f32() == k.single_f32();
                    (same && z == z.trunc()).then(|| QInfo::int(super::shifted_type(i.dtype, z)))
                };
                let x = &node.inputs[0];
                q.get(x)
                    .and_then(|i| levels(i, &Tensor::scalar(1.0)))
                    .or_else(|| {
                        let p = &g.nodes[index.get_or_init(|| g.index()).producer(x)?];
                        let k = g.consts.get(p.inputs.get(1)?)?;
                        (p.op == Op::Div).then_some(())?;
                        levels(q.get(&p.inputs[0])?, k)
                    })
            }
            Op::Div => match (q.get(&node.inputs[0]), g.consts.get(&node.inputs[1])) {
                (Some(i), Some(k))
                    if i.scale.len() == 1
                        && k.len() == 1
                        && i.scale.to_f32() == k.to_f32()
                        && is_pow2(k.to_f32()[0])
                        && i.zero_point.to_f32() == [0.0] =>
                {
                    // exact only for power-of-two scales; otherwise Round(Div) is needed
                    Some(QInfo::int(i.dtype))
                }
                _ => None,
            },
            Op::MatMul => {
                let a = q.get(&node.inputs[0]).filter(|i| i.is_plain_int());
                let w = g
                    .consts
                    .get(&node.inputs[1])
                    .zip(q.get(&node.inputs[1]).filter(|i| i.is_plain_int()));
                match (a, w) {
                    (Some(a), Some((w, _))) => {
                        acc_range(a.dtype, w).map(|(lo, hi)| QInfo::int(super::int_type(lo, hi)))
                    }
                    _ => None,
                }
            }
            Op::Conv { .. } if node.inputs.get(2).is_none_or(String::is_empty) => {
                let a = q.get(&node.inputs[0]).filter(|i| i.is_plain_int());
                let w = g
                    .consts
                    .get(&node.inputs[1])
                    .zip(q.get(&node.inputs[1]).filter(|i| i.is_plain_int()));
                match (a, w) {
                    (Some(a), Some((w, _))) => conv_columns(w)
                        .and_then(|w| acc_range(a.dtype, &w))
                        .map(|(lo, hi)| QInfo::int(super::int_type(lo, hi))),
                    _ => None,
                }
            }
            // The exact sum of integers over a window.
            Op::SumPool { global, kernel, .. } => q
                .get(&node.inputs[0])
                .filter(|i| i.is_plain_int())
                .and_then(|i| {
                    let shape = g.shapes.get(&node.inputs[0])?;
                    let n: i64 = if *global {
                        shape.get(2..)?.iter().product::<usize>() as i64
                    } else {
                        kernel.iter().product()
                    };
                    Some(QInfo::int(super::int_type(
                        n.saturating_mul(i.dtype.min()),
                        n.saturating_mul(i.dtype.max()),
                    )))
                }),
            // The average of quantized values (q - z) * s over n positions: the levels' sum
            // with scale s / n (exactly when s and n are powers of two; otherwise up to the
            // rounding of the division, as `integerize_matmul` notes for float scales).
            Op::AveragePool { global, kernel, .. } => q
                .get(&node.inputs[0])
                .filter(|i| i.dtype != DataType::Bipolar)
                .and_then(|i| {
                    let (s, z) = (i.scale.single_f32()?, i.zero_point.single_f32()?);
                    if !(s > 0.0 && s.is_finite()) || z != z.trunc() {
                        return None;
                    }
                    let shape = g.shapes.get(&node.inputs[0])?;
                    let n: i64 = if *global {
                        shape.get(2..)?.iter().product::<usize>() as i64
                    } else {
                        kernel.iter().product()
                    };
                    let lv = super::shifted_type(i.dtype, z);
                    Some(QInfo {
                        dtype: super::int_type(
                            n.saturating_mul(lv.min()),
                            n.saturating_mul(lv.max()),
                        ),
                        scale: Tensor::scalar(s / n as f32),
                        zero_point: Tensor::scalar(0.0),
                        levels: None,
                    })
                }),
            // Channels of quantized tensors side by side (`concat_info`).
            Op::Concat { axis } => concat_info(g, &q, &node.inputs, *axis, &out),
            // The maximum of quantized values with one positive scale is one of them.
            Op::MaxPool { .. } => q
                .get(&node.inputs[0])
                .filter(|i| {
                    i.scale.len() == 1 && i.zero_point.len() == 1 && i.scale.to_f32()[0] > 0.0
                })
                .cloned(),
            // Constant padding with float 0: the level 0 (q = zero point).
            Op::Pad { value, .. }
                if *value == 0.0 && node.inputs.get(2).is_none_or(String::is_empty) =>
            {
                q.get(&node.inputs[0])
                    .filter(|i| {
                        i.scale.len() == 1
                            && i.zero_point.len() == 1
                            && i.dtype != DataType::Bipolar
                            && i.dtype.contains(i.zero_point.to_f32()[0] as i64)
                    })
                    .cloned()
            }
            _ => None,
        };
        if let Some(i) = info {
            q.insert(out, i);
        }
    }
    let changed = q != g.qinfo;
    g.qinfo = q;
    Ok(changed)
}

/// A `Concat` along the channel axis of quantized tensors with zero point 0: the levels side
/// by side, of the narrowest type holding every input's (`ir::concat_type`), with their
/// scale: one value when every input has the same one (by value), else each input's scale
/// per channel, concatenated (`[1, C, 1...]`). Any other concat carries no type.
fn concat_info(
    g: &Graph,
    q: &std::collections::BTreeMap<String, QInfo>,
    inputs: &[String],
    axis: i64,
    out: &str,
) -> Option<QInfo> {
    let shape = g.shapes.get(out)?;
    let r = shape.len() as i64;
    let ax = if axis < 0 { axis + r } else { axis };
    if ax != 1 || shape.first() != Some(&1) || !(2..=4).contains(&r) {
        return None;
    }
    let infos: Vec<&QInfo> = inputs.iter().map(|i| q.get(i)).collect::<Option<_>>()?;
    if infos
        .iter()
        .any(|i| i.zero_point.to_f32().iter().any(|&z| z != 0.0))
    {
        return None;
    }
    let dtype = crate::ir::concat_type(&infos.iter().map(|i| i.dtype).collect::<Vec<_>>());
    let singles: Vec<f32> = infos.iter().filter_map(|i| i.scale.single_f32()).collect();
    if singles.len() == infos.len() && singles.iter().all(|&s| s == singles[0]) {
        return Some(QInfo {
            dtype,
            scale: Tensor::scalar(singles[0]),
            zero_point: Tensor::scalar(0.0),
            levels: None,
        });
    }
    // per channel: each input's scale broadcast to [1, C_i, 1...]
    let mut scales = Vec::new();
    for (i, info) in inputs.iter().zip(&infos) {
        let s = g.shapes.get(i)?;
        let mut cs = vec![1, *s.get(1)?];
        cs.extend(std::iter::repeat_n(1, s.len().saturating_sub(2)));
        let zeros = Tensor::f32(cs.clone(), vec![0.0; cs[1]]);
        let full = crate::import::exec::binary(&zeros, &info.scale, |_, b| b).ok()?;
        if full.shape != cs {
            return None;
        }
        scales.extend(full.to_f32());
    }
    let mut cs = vec![1, shape[1]];
    cs.extend(std::iter::repeat_n(1, shape.len() - 2));
    (scales.len() == shape[1]).then(|| QInfo {
        dtype,
        scale: Tensor::f32(cs, scales),
        zero_point: Tensor::scalar(0.0),
        levels: None,
    })
}

fn is_pow2(v: f32) -> bool {
    v.is_normal() && v > 0.0 && v.to_bits() & 0x007f_ffff == 0
}

/// Exact accumulator range of `x @ w` for `x` of type `dt` and constant integer `w`
/// (`[K, N]`): the minimum and maximum over every column.
pub fn acc_range(dt: DataType, w: &Tensor) -> Option<(i64, i64)> {
    let cols = column_ranges(dt, w)?;
    Some((
        cols.iter().map(|c| c.0).min()?,
        cols.iter().map(|c| c.1).max()?,
    ))
}

/// Per output column `n` of `w` (`[K, N]`), the range of `sum_k x[k] * w[k][n]`.
pub fn column_ranges(dt: DataType, w: &Tensor) -> Option<Vec<(i64, i64)>> {
    if w.shape.len() != 2 {
        return None;
    }
    let (k, n) = (w.shape[0], w.shape[1]);
    let v = w.to_i64()?;
    let (xlo, xhi) = (dt.min(), dt.max());
    Some(
        (0..n)
            .map(|j| {
                let (lo, hi) = (0..k).fold((0i128, 0i128), |(lo, hi), i| {
                    let w = v[i * n + j] as i128;
                    let (a, b) = (w * xlo as i128, w * xhi as i128);
                    (lo + a.min(b), hi + a.max(b))
                });
                let c = |x: i128| x.clamp(-(1i128 << 62), 1i128 << 62) as i64;
                (c(lo), c(hi))
            })
            .collect(),
    )
}

/// Convolution weights `[M, C, k...]` as the `[C*k..., M]` matrix of a matrix product
/// (column `m` holds output channel `m`'s weights), for [`acc_range`]/[`column_ranges`].
pub fn conv_columns(w: &Tensor) -> Option<Tensor> {
    if w.shape.len() < 3 {
        return None;
    }
    let m = w.shape[0];
    let k: usize = w.shape[1..].iter().product();
    let v = w.to_f32();
    let mut t = vec![0f32; m * k];
    for o in 0..m {
        for i in 0..k {
            t[i * m + o] = v[o * k + i];
        }
    }
    Some(Tensor::f32(vec![k, m], t))
}
