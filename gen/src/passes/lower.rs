//! Lowering: the streamlined import graph -> the integer IR ([`Model`]).
//!
//! The graph must be a chain from its input to one output. Float operations before the
//! first quantizer, and that quantizer, become host `pre` steps (float frame -> integer
//! frame); `MatMul [-> MultiThreshold]` becomes a `MatrixVector` layer, a lone
//! `MultiThreshold` a `Thresholding` layer, `TopK`/`ArgMax` a `LabelSelect`; float
//! operations after the last hardware layer become host `post` steps.
//!
//! Convolutional networks: ONNX tensors are NCHW (or NCW: a 1-D axis is H = 1), the
//! hardware streams channels last. A network with a `Conv` or `MaxPool` gets a host
//! `ToChannelsLast` step after its input quantizer; `Conv [-> MultiThreshold]` becomes
//! `SlidingWindow -> MatrixVector` (weight columns in the window's (ky, kx, c)
//! order; the convolution's padding, level 0 = float 0, is the window generator's), `MaxPool` becomes `SlidingWindow -> Pool`,
//! an average pool (`SumPool` after `absorb_thresholds` moved its division into the
//! thresholds after it, or an `AveragePool` whose division joins the pending float scale)
//! `[SlidingWindow ->] Pool(Sum)`; an explicit constant `Pad` of the spatial axes `Pad`.
//! The walk keeps, for every element of the current ONNX tensor (row-major), its position
//! in the stream (`order`): layout ops (Reshape, Flatten, Squeeze, ...) keep it, a
//! Transpose permutes it, and a `MatMul` after a flatten reads its weight rows through it
//! (NCHW-flatten order -> the stream's (h, w, c) order).

use super::PassError;
use crate::import::UnsupportedNode;
use crate::import::exec;
use crate::import::graph::{Graph, Node, Op, Tensor};
use crate::ir::host::{FloatOp, HostStep};
use crate::ir::{
    Add as HwAdd, Concat, DataType, Duplicate, LabelSelect, MAX_ADD_SHIFT, MAX_CONCAT_INPUTS,
    MatrixVector, Model, Node as IrNode, Op as HwOp, Pad, Pool, PoolMode, SlidingWindow, Source,
    TensorType, Thresholding, Thresholds, VectorVector,
};
use std::collections::{HashMap, HashSet};

pub const NAME: &str = "lower";

enum Phase {
    Pre,
    Hw,
}

/// A tensor of the hardware part: the IR stream carrying it, its element type, the stream
/// position of each of its (row-major ONNX) elements, and the float steps still to apply to
/// the stream's integers to get the ONNX tensor's values.
#[derive(Clone)]
struct Stream {
    src: Source,
    dtype: DataType,
    order: Vec<usize>,
    pending: Vec<HostStep>,
}

pub fn lower(g: &Graph, name: &str) -> Result<Model, PassError> {
    // Nodes found unsupported on the way are reported together with the one that stops
    // the walk.
    let mut found = Vec::new();
    match walk(g, name, &mut found) {
        Err(PassError::Unsupported { nodes }) => {
            for n in nodes {
                if !found.contains(&n) {
                    found.push(n);
                }
            }
            Err(PassError::Unsupported { nodes: found })
        }
        r => r,
    }
}

fn walk(g: &Graph, name: &str, unsupported: &mut Vec<UnsupportedNode>) -> Result<Model, PassError> {
    let early = super::unsupported_nodes(g);
    if !early.is_empty() {
        return Err(PassError::Unsupported { nodes: early });
    }
    if g.outputs.len() != 1 {
        return Err(PassError::invalid(
            "graph",
            None,
            format!(
                "the graph has {} outputs; ferrite compiles networks with one output",
                g.outputs.len()
            ),
        ));
    }
    let index = g.index();
    let mut phase = Phase::Pre;
    let mut cur = g.input.clone();
    let mut pre: Vec<HostStep> = Vec::new();
    // an annotated input: every float frame must already hold values of its type
    if let Some((ty, crate::ir::DeclaredBy::Annotation)) = g.declared_input {
        pre.push(HostStep::Expect {
            ty: ty.to_string(),
            dtype: ty.dtype(),
            scale: ty.scale(),
        });
    }
    let mut pending: Vec<HostStep> = Vec::new();
    let mut layers: Vec<(String, HwOp, Option<String>)> = Vec::new();
    let mut input: Option<(Vec<usize>, DataType)> = None;
    let mut dtype = DataType::Int(32);
    // The hardware part is a graph: every tensor it computes is a stream of some IR node.
    let mut streams: HashMap<String, Stream> = HashMap::new();
    // Nodes merged into an earlier layer (a MultiThreshold after its MatMul/Conv/Add).
    let mut absorbed: HashSet<usize> = HashSet::new();
    // Input sources of each layer, in step with `layers`.
    let mut layer_inputs: Vec<Vec<Source>> = Vec::new();
    let mut src = Source::input("input");
    // Readers of every tensor, found once (the walk stays linear in the graph's size).
    let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, n) in g.nodes.iter().enumerate() {
        for t in n.inputs.iter().filter(|t| !t.is_empty()) {
            readers.entry(t.as_str()).or_default().push(i);
        }
    }
    // The node reading `t`, when exactly one node reads it and it is no graph output.
    let sole_reader = |t: &str| -> Option<usize> {
        match readers.get(t) {
            Some(v) if v.len() == 1 && !g.outputs.iter().any(|o| o == t) => Some(v[0]),
            _ => None,
        }
    };
    // Position in the stream of every element of the current tensor (row-major).
    let mut order: Vec<usize> = Vec::new();
    // Whether a host step reordered the user's frame (the logical input shape is then the
    // graph input's, not the quantizer's).
    let mut host_permuted = false;
    let spatial_net = g.nodes.iter().any(|n| {
        matches!(
            n.op,
            Op::Conv { .. } | Op::MaxPool { .. } | Op::AveragePool { .. } | Op::SumPool { .. }
        )
    });
    let unsup = |n: &Node, hint: String| UnsupportedNode {
        name: n.name.clone(),
        op_type: n.op.type_name().into(),
        domain: String::new(),
        hint,
    };
    for (idx, n) in g.nodes.iter().enumerate() {
        if absorbed.contains(&idx) {
            continue;
        }
        let data_inputs: Vec<&String> = n
            .inputs
            .iter()
            .filter(|i| !i.is_empty() && !g.is_const(i))
            .collect();
        let hw = matches!(phase, Phase::Hw);
        if hw && n.op == Op::Add && data_inputs.len() == 2 {
            match lower_add(
                g,
                n,
                [data_inputs[0], data_inputs[1]],
                &streams,
                &sole_reader,
            )? {
                Err(u) => unsupported.push(u),
                Ok((add, mt, out)) => {
                    let a = &streams[data_inputs[0].as_str()];
                    let b = &streams[data_inputs[1].as_str()];
                    let origin = match mt {
                        Some(j) => {
                            absorbed.insert(j);
                            format!("{} + {}", n.name, g.nodes[j].name)
                        }
                        None => n.name.clone(),
                    };
                    let name = format!("l{:02}_add", layers.len());
                    let st = Stream {
                        src: Source::node(&name, 0),
                        dtype: add.output_type(),
                        order: a.order.clone(),
                        pending: Vec::new(),
                    };
                    layer_inputs.push(vec![a.src.clone(), b.src.clone()]);
                    layers.push((name, HwOp::Add(add), Some(origin)));
                    streams.insert(out, st);
                }
            }
            continue;
        }
        if hw && matches!(n.op, Op::Concat { .. }) {
            let (cat, st) = match lower_concat(g, n, &streams, &readers) {
                Ok(r) => r,
                // one clear error: what follows the Concat reads no stream
                Err(u) => return Err(PassError::Unsupported { nodes: vec![u] }),
            };
            let name = format!("l{:02}_concat", layers.len());
            layer_inputs.push(
                n.inputs
                    .iter()
                    .map(|i| streams[i.as_str()].src.clone())
                    .collect(),
            );
            layers.push((name.clone(), HwOp::Concat(cat), Some(n.name.clone())));
            streams.insert(
                n.outputs[0].clone(),
                Stream {
                    src: Source::node(&name, 0),
                    ..st
                },
            );
            continue;
        }
        if data_inputs.len() != 1 || (!hw && *data_inputs[0] != cur) {
            return Err(PassError::Unsupported {
                nodes: vec![unsup(
                    n,
                    if hw {
                        "this node merges several streams; the hardware merges streams only in an Add of two quantized tensors \
                         or a Concat of quantized tensors along their channels".into()
                    } else {
                        "before the first quantizer the network must be a chain (the host runs it on one float input)".into()
                    },
                )],
            });
        }
        if hw {
            let Some(st) = streams.get(data_inputs[0].as_str()) else {
                unsupported.push(unsup(n, format!(
                    "reads `{}`, which is no stream of the hardware part (it does not come from the quantized input through hardware layers)",
                    data_inputs[0]
                )));
                continue;
            };
            cur = data_inputs[0].clone();
            src = st.src.clone();
            dtype = st.dtype;
            order = st.order.clone();
            pending = st.pending.clone();
        }
        let first_layer = layers.len();
        let mut out = n.outputs[0].clone();
        'node: {
            let shape_in = g.shapes.get(&cur).cloned().unwrap_or_default();
            let shape_out = g.shapes.get(&out).cloned().unwrap_or_default();
            let elems: usize = shape_out.iter().product();
            let konst = |i: usize| n.inputs.get(i).and_then(|k| g.consts.get(k));
            // Layout ops that keep the element order.
            if is_layout(n) {
                if let (Phase::Hw, Op::Transpose { perm }) = (&phase, &n.op) {
                    // Transposes inside the hardware part only move elements of the ONNX
                    // tensor: carry the stream positions along.
                    let t =
                        Tensor::i64(shape_in.clone(), order.iter().map(|&i| i as i64).collect());
                    match exec::transpose(&t, perm.as_deref()) {
                        Ok(t) => {
                            order = t
                                .to_i64()
                                .unwrap_or_default()
                                .into_iter()
                                .map(|i| i as usize)
                                .collect()
                        }
                        Err(e) => return Err(PassError::invalid(&n.name, None, e)),
                    }
                } else if let Op::Transpose { perm } = &n.op
                    && !keeps_order(&shape_in, perm.as_deref())
                {
                    // Before the first quantizer the frame is the host's: it reorders it.
                    let idx: Vec<i64> = (0..shape_in.iter().product::<usize>() as i64).collect();
                    match exec::transpose(&Tensor::i64(shape_in.clone(), idx), perm.as_deref()) {
                        Ok(t) => {
                            pre.push(HostStep::Gather {
                                index: t
                                    .to_i64()
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|i| i as usize)
                                    .collect(),
                            });
                            host_permuted = true;
                        }
                        Err(e) => return Err(PassError::invalid(&n.name, None, e)),
                    }
                }
                break 'node;
            }
            let steps_of = |n: &Node| -> Result<Option<Vec<HostStep>>, PassError> {
                float_steps(g, n, &shape_out)
            };
            match phase {
            Phase::Pre => match &n.op {
                Op::Quant { signed, narrow, rounding } => {
                    let bits = konst(3).and_then(Tensor::single_f32).unwrap_or(0.0) as u32;
                    let scale = expand(konst(1), &shape_out, n)?;
                    let zp = expand(konst(2), &shape_out, n)?;
                    if zp.iter().any(|z| *z != z.trunc()) {
                        return Err(PassError::Unsupported { nodes: vec![unsup(n, "a non-integer zero point at the input quantizer".into())] });
                    }
                    let (lo, hi) = crate::ir::host::quant_range(bits, *signed, *narrow);
                    let zmax = zp.iter().fold(0f32, |m, z| m.max(z.abs())) as i64;
                    let dt = if zmax == 0 {
                        super::fold_constants::quant_dtype(bits, *signed, *narrow)
                    } else {
                        super::int_type(lo.saturating_sub(zmax), hi.saturating_add(zmax))
                    };
                    pre.push(HostStep::Quantize { scale: scale.clone(), zero_point: zp, bits, signed: *signed, narrow: *narrow, rounding: *rounding, dtype: dt });
                    if scale.iter().any(|&s| s != 1.0) {
                        pending.push(HostStep::Elementwise { op: FloatOp::Mul, constant: scale, reversed: false });
                    }
                    dtype = dt;
                    input = Some((shape_out.clone(), dt));
                    order = enter_stream(&shape_out, spatial_net, &mut pre);
                    phase = Phase::Hw;
                }
                Op::BipolarQuant => {
                    let scale = expand(konst(1), &shape_out, n)?;
                    pre.push(HostStep::BipolarQuantize);
                    if scale.iter().any(|&s| s != 1.0) {
                        pending.push(HostStep::Elementwise { op: FloatOp::Mul, constant: scale, reversed: false });
                    }
                    dtype = DataType::Bipolar;
                    input = Some((shape_out.clone(), dtype));
                    order = enter_stream(&shape_out, spatial_net, &mut pre);
                    phase = Phase::Hw;
                }
                Op::MatMul | Op::Gemm { .. } | Op::Conv { .. } => {
                    return Err(PassError::NotQuantized {
                        node: n.name.clone(),
                        op: n.op.type_name().into(),
                        why: format!(
                            "its input `{cur}` comes from the float network input `{}` without a quantizer; \
                             declare that input's datatype with a QONNX annotation (finn_datatype in \
                             graph.quantization_annotation) or with --input-type TYPE (BIPOLAR, BINARY, \
                             INTn, UINTn, FIXED<W,I>, UFIXED<W,I>), or quantize it in the model",
                            g.input
                        ),
                    });
                }
                _ => match steps_of(n)? {
                    Some(s) => pre.extend(s),
                    None => unsupported.push(unsup(n, "has no host implementation before the first quantizer".into())),
                },
            },
            Phase::Hw => match &n.op {
                Op::MatMul => {
                    let w = &n.inputs[1];
                    let (Some(wt), Some(qw)) = (g.consts.get(w), g.qinfo.get(w)) else {
                        return Err(PassError::NotQuantized {
                            node: n.name.clone(),
                            op: "MatMul".into(),
                            why: format!("its weights `{w}` are float (no Quant/BipolarQuant on them)"),
                        });
                    };
                    if wt.shape.len() != 2 {
                        return Err(PassError::Unsupported {
                            nodes: vec![unsup(n, format!("MatMul weights of shape {:?}: only 2-D weight matrices map to a MatrixVector", wt.shape))],
                        });
                    }
                    if pending.iter().any(|s| matches!(s, HostStep::Elementwise { op: FloatOp::Mul, constant, .. } if constant.len() > 1)) {
                        return Err(PassError::Unsupported { nodes: vec![unsup(n, format!(
                            "its input `{cur}` has one scale per channel: a matrix product needs one scale for its whole input \
                             (per-channel activation scales work before depthwise convolutions, pools and residual adds); \
                             quantize this layer's input per tensor"
                        ))] });
                    }
                    if !qw.is_plain_int() {
                        return Err(PassError::NotQuantized {
                            node: n.name.clone(),
                            op: "MatMul".into(),
                            why: format!("its weights `{w}` could not be turned into integers (scale or zero point not supported)"),
                        });
                    }
                    if !pending.is_empty() {
                        unsupported.push(unsup(n, format!(
                            "float operations before this MatMul could not be absorbed into integer thresholds: {}",
                            pending.iter().map(HostStep::describe).collect::<Vec<_>>().join("; ")
                        )));
                        pending.clear();
                    }
                    let (k, nn) = (wt.shape[0], wt.shape[1]);
                    let wv = wt.to_i64().unwrap_or_default();
                    // Types a matrix-vector engine takes; checked before the layer exists
                    // (its accumulator range is computed from them).
                    let bad_type = |t: DataType| !t.is_activation_type();
                    if bad_type(dtype) || bad_type(qw.dtype) || wv.len() != k * nn || wv.iter().any(|&v| !qw.dtype.contains(v)) {
                        return Err(PassError::Unsupported {
                            nodes: vec![unsup(n, format!(
                                "input {dtype} x weights {}: matrix-vector engines take BIPOLAR, BINARY or 2..8-bit integer inputs and weights",
                                qw.dtype
                            ))],
                        });
                    }
                    // Row c of the ONNX weights multiplies element c of the ONNX tensor, which
                    // the stream carries at position order[c].
                    if order.len() != k {
                        return Err(PassError::invalid(&n.name, None, format!(
                            "its input has {} elements, its weights {k} rows", order.len()
                        )));
                    }
                    let mut weights = vec![0i64; k * nn];
                    for h in 0..nn {
                        for c in 0..k {
                            weights[h * k + order[c]] = wv[c * nn + h];
                        }
                    }
                    let mut thresholds = None;
                    let mut origin = n.name.clone();
                    let mut out_name = out.clone();
                    if let Some(j) = sole_reader(&out)
                        && let next = &g.nodes[j]
                        && matches!(next.op, Op::MultiThreshold { .. })
                        && next.inputs[0] == out
                    {
                        thresholds = Some(thresholds_of(g, next, nn, acc_bound(dtype, &wv))?);
                        origin = format!("{} + {}", n.name, next.name);
                        out_name = next.outputs[0].clone();
                        absorbed.insert(j);
                    }
                    let mv = MatrixVector {
                        mw: k,
                        mh: nn,
                        input_type: dtype,
                        weight_type: qw.dtype,
                        weights,
                        thresholds,
                    };
                    dtype = mv.output_type();
                    layers.push((format!("l{:02}_mvu", layers.len()), HwOp::MatrixVector(mv), Some(origin)));
                    order = (0..nn).collect();
                    out = out_name;
                    break 'node;
                }
                Op::Conv { kernel: _, strides, pads, dilations, group, auto_pad } => {
                    let w = &n.inputs[1];
                    let (Some(wt), Some(qw)) = (g.consts.get(w), g.qinfo.get(w)) else {
                        return Err(PassError::NotQuantized {
                            node: n.name.clone(),
                            op: "Conv".into(),
                            why: format!("its weights `{w}` are float (no Quant/BipolarQuant on them)"),
                        });
                    };
                    if pending.iter().any(|s| matches!(s, HostStep::Elementwise { op: FloatOp::Mul, constant, .. } if constant.len() > 1)) {
                        return Err(PassError::Unsupported { nodes: vec![unsup(n, format!(
                            "its input `{cur}` has one scale per channel: a dense convolution needs one scale for its whole input \
                             (per-channel activation scales work before depthwise convolutions, pools and residual adds); \
                             quantize this layer's input per tensor"
                        ))] });
                    }
                    if !qw.is_plain_int() || n.inputs.get(2).is_some_and(|b| !b.is_empty()) {
                        return Err(PassError::NotQuantized {
                            node: n.name.clone(),
                            op: "Conv".into(),
                            why: format!("its weights `{w}` (or its bias) could not be turned into integers (scale or zero point not supported)"),
                        });
                    }
                    let depthwise = *group > 1
                        && wt.shape.get(1) == Some(&1)
                        && Some(*group as usize) == wt.shape.first().copied()
                        && Spatial::of(&shape_in).is_some_and(|s| s.c as i64 == *group);
                    if *group != 1 && !depthwise {
                        unsupported.push(unsup(n, format!(
                            "attribute group = {group} with weights {:?}: convolutions are dense (group = 1) or depthwise \
                             (group = input channels = output channels, one weight plane each)",
                            wt.shape
                        )));
                        order = Spatial::of(&shape_out).map(|s| s.hwc_order()).unwrap_or_default();
                        break 'node;
                    }
                    if !pending.is_empty() {
                        unsupported.push(unsup(n, format!(
                            "float operations before this Conv could not be absorbed into integer thresholds: {}",
                            pending.iter().map(HostStep::describe).collect::<Vec<_>>().join("; ")
                        )));
                        pending.clear();
                    }
                    let Some(geo) = Spatial::of(&shape_in) else {
                        return Err(PassError::invalid(&n.name, None, format!("input of shape {shape_in:?}: a Conv takes [1, C, H, W] or [1, C, W]")));
                    };
                    if order != geo.hwc_order() {
                        unsupported.push(unsup(n, "its input is not in the channels-last order the hardware streams (a Transpose or Reshape reorders the feature map before it)".into()));
                    }
                    let wk: Vec<i64> = wt.shape[2..].iter().map(|&d| d as i64).collect();
                    let win = exec::window(&shape_in[2..], &wk, strides, pads, dilations, auto_pad, false)
                        .map_err(|e| PassError::invalid(&n.name, None, e))?;
                    let (kk, ss, dd, pb, pe) = win2d(&win);
                    let m = wt.shape[0];
                    let c = geo.c;
                    let wv = wt.to_i64().unwrap_or_default();
                    let bad_type = |t: DataType| !t.is_activation_type();
                    if bad_type(dtype) || bad_type(qw.dtype) || wv.len() != m * (if depthwise { 1 } else { c }) * kk[0] * kk[1] || wv.iter().any(|&v| !qw.dtype.contains(v)) {
                        return Err(PassError::Unsupported {
                            nodes: vec![unsup(n, format!(
                                "input {dtype} x weights {}: matrix-vector engines take BIPOLAR, BINARY or 2..8-bit integer inputs and weights",
                                qw.dtype
                            ))],
                        });
                    }
                    let mut origin = n.name.clone();
                    if pb.iter().chain(&pe).any(|&p| p != 0) && !dtype.contains(0) {
                        unsupported.push(unsup(n, format!(
                            "attribute pads {pads:?} on a {dtype} input: padding inserts float 0, which is no {dtype} value; \
                             use padding 0 or an integer activation"
                        )));
                    }
                    // A pointwise (1x1, stride 1, unpadded) dense convolution is the
                    // matrix-vector product on every pixel: no window generator.
                    let pointwise = !depthwise && kk == [1, 1] && ss == [1, 1] && pb == [0, 0] && pe == [0, 0];
                    if !pointwise {
                        // the convolution's padding (float 0 = level 0) is the window generator's
                        layers.push((
                            format!("l{:02}_swg", layers.len()),
                            HwOp::SlidingWindow(SlidingWindow {
                                kernel: kk,
                                stride: ss,
                                dilation: dd,
                                pad: [pb[0], pb[1], pe[0], pe[1]],
                                pad_value: 0,
                                input_type: dtype,
                            }),
                            Some(origin.clone()),
                        ));
                    }
                    if depthwise {
                        // ONNX weights [C][1][KH][KW]: channel c's kernel positions in (ky, kx) order
                        let kpos = kk[0] * kk[1];
                        let mut thresholds = None;
                        let mut out_name = out.clone();
                        if let Some(j) = sole_reader(&out)
                            && let next = &g.nodes[j]
                            && matches!(next.op, Op::MultiThreshold { channels_last: false, .. })
                            && next.inputs[0] == out
                        {
                            thresholds = Some(thresholds_of(g, next, m, acc_bound(dtype, &wv))?);
                            origin = format!("{} + {}", n.name, next.name);
                            out_name = next.outputs[0].clone();
                            absorbed.insert(j);
                        }
                        let vv = VectorVector { channels: c, kernel: kpos, input_type: dtype, weight_type: qw.dtype, weights: wv.clone(), thresholds };
                        dtype = vv.output_type();
                        layers.push((format!("l{:02}_vvu", layers.len()), HwOp::VectorVector(vv), Some(origin)));
                        let oshape = g.shapes.get(&out_name).cloned().unwrap_or_default();
                        order = Spatial::of(&oshape).map(|s| s.hwc_order()).unwrap_or_default();
                        out = out_name;
                        break 'node;
                    }
                    // Column (ky, kx, c) of the window; ONNX weights are [M][C][KH][KW].
                    let mw = kk[0] * kk[1] * c;
                    let mut weights = vec![0i64; m * mw];
                    for o in 0..m {
                        for ch in 0..c {
                            for ky in 0..kk[0] {
                                for kx in 0..kk[1] {
                                    weights[o * mw + (ky * kk[1] + kx) * c + ch] = wv[((o * c + ch) * kk[0] + ky) * kk[1] + kx];
                                }
                            }
                        }
                    }
                    let mut thresholds = None;
                    let mut out_name = out.clone();
                    if let Some(j) = sole_reader(&out)
                        && let next = &g.nodes[j]
                        && matches!(next.op, Op::MultiThreshold { channels_last: false, .. })
                        && next.inputs[0] == out
                    {
                        thresholds = Some(thresholds_of(g, next, m, acc_bound(dtype, &wv))?);
                        origin = format!("{} + {}", n.name, next.name);
                        out_name = next.outputs[0].clone();
                        absorbed.insert(j);
                    }
                    let mv = MatrixVector { mw, mh: m, input_type: dtype, weight_type: qw.dtype, weights, thresholds };
                    dtype = mv.output_type();
                    layers.push((format!("l{:02}_mvu", layers.len()), HwOp::MatrixVector(mv), Some(origin)));
                    let oshape = g.shapes.get(&out_name).cloned().unwrap_or_default();
                    order = Spatial::of(&oshape).map(|s| s.hwc_order()).unwrap_or_default();
                    out = out_name;
                    break 'node;
                }
                Op::MaxPool { kernel, strides, pads, dilations, ceil_mode, auto_pad } => {
                    if !monotone_pending(&pending) {
                        unsupported.push(unsup(n, format!(
                            "float operations before this MaxPool are not a positive scaling, so the maximum of the integers is not the maximum of the floats: {}",
                            pending.iter().map(HostStep::describe).collect::<Vec<_>>().join("; ")
                        )));
                    }
                    let Some(geo) = Spatial::of(&shape_in) else {
                        return Err(PassError::invalid(&n.name, None, format!("input of shape {shape_in:?}: a MaxPool takes [1, C, H, W] or [1, C, W]")));
                    };
                    if order != geo.hwc_order() {
                        unsupported.push(unsup(n, "its input is not in the channels-last order the hardware streams (a Transpose or Reshape reorders the feature map before it)".into()));
                    }
                    if *ceil_mode || pads.iter().any(|&p| p != 0) || dilations.iter().any(|&d| d != 1) {
                        unsupported.push(unsup(n, "ceil_mode = 1, padding or dilation: max-pooling takes floor mode, no padding and dilation 1".into()));
                    }
                    let win = exec::window(&shape_in[2..], kernel, strides, &[], &[], auto_pad, false)
                        .map_err(|e| PassError::invalid(&n.name, None, e))?;
                    let (kk, ss, dd, _, _) = win2d(&win);
                    layers.push((
                        format!("l{:02}_swg", layers.len()),
                        HwOp::SlidingWindow(SlidingWindow { kernel: kk, stride: ss, dilation: dd, pad: [0; 4], pad_value: 0, input_type: dtype }),
                        Some(n.name.clone()),
                    ));
                    let p = Pool { mode: PoolMode::Max, channels: geo.c, positions: kk[0] * kk[1], global: false, input_type: dtype };
                    dtype = p.output_type();
                    layers.push((format!("l{:02}_pool", layers.len()), HwOp::Pool(p), Some(n.name.clone())));
                    order = Spatial::of(&shape_out).map(|s| s.hwc_order()).unwrap_or_default();
                }
                Op::SumPool { global, kernel, strides } => {
                    if !pending.is_empty() {
                        unsupported.push(unsup(n, format!(
                            "float operations before this pool could not be absorbed: {}",
                            pending.iter().map(HostStep::describe).collect::<Vec<_>>().join("; ")
                        )));
                        pending.clear();
                    }
                    let Some(geo) = Spatial::of(&shape_in) else {
                        return Err(PassError::invalid(&n.name, None, format!("input of shape {shape_in:?}: a pool takes [1, C, H, W] or [1, C, W]")));
                    };
                    if order != geo.hwc_order() {
                        unsupported.push(unsup(n, "its input is not in the channels-last order the hardware streams".into()));
                    }
                    let p = if *global {
                        Pool { mode: PoolMode::Sum, channels: geo.c, positions: geo.h * geo.w, global: true, input_type: dtype }
                    } else {
                        let win = exec::window(&shape_in[2..], kernel, strides, &[], &[], "NOTSET", false)
                            .map_err(|e| PassError::invalid(&n.name, None, e))?;
                        let (kk, ss, dd, _, _) = win2d(&win);
                        layers.push((
                            format!("l{:02}_swg", layers.len()),
                            HwOp::SlidingWindow(SlidingWindow { kernel: kk, stride: ss, dilation: dd, pad: [0; 4], pad_value: 0, input_type: dtype }),
                            Some(n.name.clone()),
                        ));
                        Pool { mode: PoolMode::Sum, channels: geo.c, positions: kk[0] * kk[1], global: false, input_type: dtype }
                    };
                    dtype = p.output_type();
                    layers.push((format!("l{:02}_pool", layers.len()), HwOp::Pool(p), Some(n.name.clone())));
                    order = Spatial::of(&shape_out).map(|s| s.hwc_order()).unwrap_or_default();
                }
                Op::AveragePool { global, kernel, strides, .. } => {
                    // Not absorbed into a quantizer after it: the hardware sums, the division
                    // joins the pending float scale (cancelled by the next layer's input
                    // rescale, or a host step).
                    let s = match pending.as_slice() {
                        [] => Some(1.0f32),
                        [HostStep::Elementwise { op: FloatOp::Mul, constant, reversed: false }]
                            if constant.len() == 1 && constant[0] > 0.0 => Some(constant[0]),
                        _ => None,
                    };
                    let geo = Spatial::of(&shape_in);
                    match (s, &geo) {
                        (Some(s), Some(geo)) if dtype != DataType::Bipolar && order == geo.hwc_order() => {
                            let p = if *global {
                                Pool { mode: PoolMode::Sum, channels: geo.c, positions: geo.h * geo.w, global: true, input_type: dtype }
                            } else {
                                let win = exec::window(&shape_in[2..], kernel, strides, &[], &[], "NOTSET", false)
                                    .map_err(|e| PassError::invalid(&n.name, None, e))?;
                                let (kk, ss, dd, _, _) = win2d(&win);
                                layers.push((
                                    format!("l{:02}_swg", layers.len()),
                                    HwOp::SlidingWindow(SlidingWindow { kernel: kk, stride: ss, dilation: dd, pad: [0; 4], pad_value: 0, input_type: dtype }),
                                    Some(n.name.clone()),
                                ));
                                Pool { mode: PoolMode::Sum, channels: geo.c, positions: kk[0] * kk[1], global: false, input_type: dtype }
                            };
                            let k = s / p.positions as f32;
                            pending = if k == 1.0 {
                                Vec::new()
                            } else {
                                vec![HostStep::Elementwise { op: FloatOp::Mul, constant: vec![k], reversed: false }]
                            };
                            dtype = p.output_type();
                            layers.push((format!("l{:02}_pool", layers.len()), HwOp::Pool(p), Some(n.name.clone())));
                        }
                        _ => unsupported.push(unsup(
                            n,
                            "an average pool needs a channels-last integer (not BIPOLAR) input with one positive scale"
                                .into(),
                        )),
                    }
                    order = Spatial::of(&shape_out).map(|s| s.hwc_order()).unwrap_or_default();
                }
                Op::Pad { mode, pads, value } => {
                    let p: Vec<i64> = match pads {
                        Some(p) => p.clone(),
                        None => konst(1).and_then(Tensor::to_i64).unwrap_or_default(),
                    };
                    let v = konst(2).and_then(Tensor::single_f32).unwrap_or(*value);
                    let geo = Spatial::of(&shape_in);
                    let r = shape_in.len();
                    let ok = mode == "constant"
                        && v == 0.0
                        && geo.is_some()
                        && p.len() == 2 * r
                        && p[0] == 0 && p[1] == 0 && p[r] == 0 && p[r + 1] == 0
                        && monotone_pending(&pending)
                        && dtype.contains(0)
                        && geo.as_ref().is_some_and(|g| order == g.hwc_order());
                    if !ok {
                        unsupported.push(unsup(n, format!(
                            "Pad mode {mode} value {v} pads {p:?} on {shape_in:?} ({dtype}): the hardware pads the spatial axes of a \
                             channels-last integer feature map with float 0 (constant mode, value 0, no padding of batch or channels)"
                        )));
                    } else {
                        let (t, b) = if r == 3 { ([0, p[2]], [0, p[5]]) } else { ([p[2], p[3]], [p[6], p[7]]) };
                        let pad = Pad { pads: [t[0] as usize, t[1] as usize, b[0] as usize, b[1] as usize], value: 0, input_type: dtype };
                        layers.push((format!("l{:02}_pad", layers.len()), HwOp::Pad(pad), Some(n.name.clone())));
                        order = Spatial::of(&shape_out).map(|s| s.hwc_order()).unwrap_or_default();
                    }
                }
                Op::MultiThreshold { channels_last, .. } => {
                    // The IR's element i is channel i % C: the channel axis must be the
                    // innermost non-trivial one.
                    let r = shape_out.len();
                    let ax = if *channels_last { r.saturating_sub(1) } else { 1.min(r.saturating_sub(1)) };
                    let c = *shape_out.get(ax).unwrap_or(&elems);
                    let inner: usize = shape_out.iter().skip(ax + 1).product();
                    let t = thresholds_of(g, n, c, acc_bound(dtype, &[1]))?;
                    let streamed_last = !*channels_last
                        && ax == 1
                        && Spatial::of(&shape_out).is_some_and(|s| order == s.hwc_order());
                    if t.rows.len() > 1 && inner != 1 && !streamed_last {
                        unsupported.push(unsup(n, format!(
                            "per-channel thresholds on channel axis {ax} of {shape_out:?}: the hardware streams channels last; \
                             export with data_layout NHWC (channels last)"
                        )));
                    }
                    let channels = if t.rows.len() == 1 { 1 } else { t.rows.len() };
                    let _ = elems;
                    let out_type = t.out_type;
                    layers.push((
                        format!("l{:02}_thr", layers.len()),
                        HwOp::Thresholding(Thresholding { channels, input_type: dtype, thresholds: t }),
                        Some(n.name.clone()),
                    ));
                    dtype = out_type;
                }
                Op::TopK { axis, largest, k } => {
                    let kk = match k {
                        Some(k) => *k,
                        None => konst(1).and_then(|t| t.to_i64()).and_then(|v| v.first().copied()).unwrap_or(0) as usize,
                    };
                    let labels: usize = shape_in.iter().product();
                    let last = (*axis == -1 || *axis == shape_in.len() as i64 - 1) && shape_in.last() == Some(&labels);
                    let values_used = index.fan_out(&n.outputs[0]) > 0;
                    if !largest || !last || values_used || !monotone_pending(&pending) {
                        unsupported.push(unsup(n, "LabelSelect needs TopK(largest) over the last axis of one row, directly on the integer layer output, with only its indices used".into()));
                    }
                    pending.clear();
                    let l = LabelSelect { labels, k: kk, input_type: dtype };
                    dtype = l.index_type();
                    layers.push((format!("l{:02}_top", layers.len()), HwOp::LabelSelect(l), Some(n.name.clone())));
                    out = n.outputs.get(1).cloned().unwrap_or(out);
                    break 'node;
                }
                Op::ArgMax { select_last, .. } => {
                    let labels: usize = shape_in.iter().product();
                    if *select_last || !monotone_pending(&pending) {
                        unsupported.push(unsup(n, "LabelSelect needs ArgMax without select_last_index, directly on the integer layer output".into()));
                    }
                    pending.clear();
                    let l = LabelSelect { labels, k: 1, input_type: dtype };
                    dtype = l.index_type();
                    layers.push((format!("l{:02}_top", layers.len()), HwOp::LabelSelect(l), Some(n.name.clone())));
                }
                Op::Round if pending.is_empty() => {}
                Op::Div if pending.len() == 1 => {
                    let k = expand(konst(1), &shape_out, n)?;
                    match &pending[0] {
                        HostStep::Elementwise { op: FloatOp::Mul, constant, reversed: false } if *constant == k => pending.clear(),
                        _ => pending.extend(steps_of(n)?.unwrap_or_default()),
                    }
                }
                Op::Quant { .. } | Op::BipolarQuant => unsupported.push(unsup(
                    n,
                    "this quantizer could not be absorbed into the thresholds of the preceding integer layer \
                     (it needs a MatMul/Gemm followed only by per-channel monotone float operations)".into(),
                )),
                _ => match steps_of(n)? {
                    Some(s) => pending.extend(s),
                    None => unsupported.push(unsup(n, "has no hardware engine or host implementation at this position".into())),
                },
            },
        }
        }
        if matches!(phase, Phase::Hw) {
            // chain the layers this node made from its input stream
            for (name, _, _) in &layers[first_layer..] {
                layer_inputs.push(vec![src.clone()]);
                src = Source::node(name, 0);
            }
            streams.insert(
                out.clone(),
                Stream {
                    src: src.clone(),
                    dtype,
                    order: order.clone(),
                    pending: pending.clone(),
                },
            );
        }
        cur = out;
    }
    if !unsupported.is_empty() {
        return Err(PassError::Unsupported {
            nodes: std::mem::take(unsupported),
        });
    }
    let Some(input) = input else {
        return Err(PassError::NotQuantized {
            node: g
                .nodes
                .first()
                .map(|n| n.name.clone())
                .unwrap_or_else(|| "graph".into()),
            op: g
                .nodes
                .first()
                .map(|n| n.op.type_name().to_string())
                .unwrap_or_default(),
            why: "the network has no quantizer (Quant/BipolarQuant) on its input".into(),
        });
    };
    if layers.is_empty() {
        return Err(PassError::NotQuantized {
            node: "graph".into(),
            op: String::new(),
            why: "no MatMul/Gemm/MultiThreshold could be lowered to a hardware layer".into(),
        });
    }
    let Some(last) = streams.get(&g.outputs[0]) else {
        return Err(PassError::Verify {
            pass: NAME.into(),
            why: format!(
                "the graph output `{}` is no stream of the hardware part (the walk ended at `{cur}`)",
                g.outputs[0]
            ),
        });
    };
    let (order, pending, out_src) = (last.order.clone(), last.pending.clone(), last.src.clone());
    if order.iter().enumerate().any(|(i, &p)| i != p) {
        return Err(PassError::Unsupported {
            nodes: vec![UnsupportedNode {
                name: g.outputs[0].clone(),
                op_type: "output".into(),
                domain: String::new(),
                hint: "the network's output is a feature map in channel-major order; the hardware streams it channels last \
                       (end the network with a fully connected layer, or flatten 1x1 maps only)".into(),
            }],
        });
    }
    let (shape, in_dtype) = input;
    let elems: usize = shape.iter().product();
    let tensor = match Spatial::of(&shape) {
        Some(s) if spatial_net => TensorType::new([s.h, s.w, s.c], in_dtype),
        _ => TensorType::vector(elems, in_dtype),
    };
    let mut m = graph_model(name, tensor, layers, layer_inputs, out_src)
        .map_err(|e| PassError::invalid("lowered model", None, e))?;
    m.inputs[0].shape = if host_permuted {
        g.input_shape.clone()
    } else {
        shape
    };
    m.pre = pre;
    m.post = pending;
    m.declared_input = g.declared_input.map(|(ty, by)| crate::ir::DeclaredInput {
        input: g.input.clone(),
        ty: ty.to_string(),
        by,
    });
    m.validate()
        .map_err(|e| PassError::invalid("lowered model", None, e.to_string()))?;
    Ok(m)
}

/// An NCHW (`[1, C, H, W]`) or NCW (`[1, C, W]`, H = 1) feature map.
struct Spatial {
    c: usize,
    h: usize,
    w: usize,
}

impl Spatial {
    fn of(shape: &[usize]) -> Option<Spatial> {
        match *shape {
            [1, c, w] => Some(Spatial { c, h: 1, w }),
            [1, c, h, w] => Some(Spatial { c, h, w }),
            _ => None,
        }
    }

    /// Stream position of each NCHW element: (c, y, x) -> (y * W + x) * C + c.
    fn hwc_order(&self) -> Vec<usize> {
        let (c, p) = (self.c, self.h * self.w);
        let mut o = vec![0; c * p];
        for ch in 0..c {
            for px in 0..p {
                o[ch * p + px] = px * c + ch;
            }
        }
        o
    }
}

/// The stream order of the hardware input (the first quantizer's output `shape`): for a
/// convolutional network's NCHW/NCW frame, a host step reorders it to channels last.
fn enter_stream(shape: &[usize], spatial_net: bool, pre: &mut Vec<HostStep>) -> Vec<usize> {
    match Spatial::of(shape) {
        Some(s) if spatial_net => {
            if s.c > 1 {
                pre.push(HostStep::ToChannelsLast { channels: s.c });
            }
            s.hwc_order()
        }
        _ => (0..shape.iter().product()).collect(),
    }
}

/// A resolved window as 2-D `[H, W]` pairs: kernel, stride, dilation, pads before and
/// after (an NCW window is one row).
#[allow(clippy::type_complexity)]
fn win2d(w: &exec::Window) -> ([usize; 2], [usize; 2], [usize; 2], [usize; 2], [usize; 2]) {
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
        two(&w.pad_end, 0),
    )
}

fn is_layout(n: &Node) -> bool {
    matches!(
        n.op,
        Op::Reshape { .. }
            | Op::Flatten { .. }
            | Op::Squeeze { .. }
            | Op::Unsqueeze { .. }
            | Op::Identity
            | Op::Transpose { .. }
    )
}

/// Whether a transpose keeps the row-major order (it only moves size-1 axes).
fn keeps_order(shape: &[usize], perm: Option<&[usize]>) -> bool {
    let r = shape.len();
    let perm: Vec<usize> = perm
        .map(<[usize]>::to_vec)
        .unwrap_or_else(|| (0..r).rev().collect());
    let moved: Vec<usize> = perm
        .into_iter()
        .filter(|&p| shape.get(p).copied().unwrap_or(1) != 1)
        .collect();
    moved.windows(2).all(|w| w[0] < w[1])
}

fn monotone_pending(p: &[HostStep]) -> bool {
    p.iter().all(|s| match s {
        HostStep::Elementwise {
            op: FloatOp::Mul,
            constant,
            reversed: false,
        } => constant.len() == 1 && constant[0] > 0.0,
        _ => false,
    })
}

/// A bound on the integer values entering thresholds (to clamp infinite thresholds).
fn acc_bound(dt: DataType, w: &[i64]) -> i64 {
    let m = dt.min().abs().max(dt.max().abs());
    w.iter()
        .fold(0i64, |a, v| a.saturating_add(v.saturating_abs()))
        .saturating_mul(m)
        .max(m)
        .saturating_add(1)
}

/// A constant broadcast to `shape` and flattened; a single value when all are equal.
fn expand(t: Option<&Tensor>, shape: &[usize], n: &Node) -> Result<Vec<f32>, PassError> {
    let t = t.ok_or_else(|| PassError::invalid(&n.name, None, "parameter must be constant"))?;
    if t.len() == 1 {
        return Ok(vec![t.to_f32()[0]]);
    }
    let full = exec::binary(
        &Tensor::f32(shape.to_vec(), vec![0.0; shape.iter().product()]),
        t,
        |_, b| b,
    )
    .map_err(|e| PassError::invalid(&n.name, None, e))?;
    if full.shape != shape {
        return Err(PassError::invalid(
            &n.name,
            None,
            format!(
                "constant of shape {:?} would broadcast the data to {:?}",
                t.shape, full.shape
            ),
        ));
    }
    let v = full.to_f32();
    Ok(if v.iter().all(|&x| x.to_bits() == v[0].to_bits()) {
        vec![v[0]]
    } else {
        v
    })
}

/// Host steps computing a float node, or `None` if it has no host form.
fn float_steps(g: &Graph, n: &Node, shape: &[usize]) -> Result<Option<Vec<HostStep>>, PassError> {
    let op = match n.op {
        Op::Add => FloatOp::Add,
        Op::Sub => FloatOp::Sub,
        Op::Mul => FloatOp::Mul,
        Op::Div => FloatOp::Div,
        Op::Pow => FloatOp::Pow,
        Op::Relu => {
            return Ok(Some(vec![HostStep::Elementwise {
                op: FloatOp::Max,
                constant: vec![0.0],
                reversed: false,
            }]));
        }
        Op::Softmax { axis, flatten } => {
            // the host softmax covers the whole frame: one row
            let r = shape.len() as i64;
            let ax = if axis < 0 { axis + r } else { axis };
            let rows: usize = shape.iter().take(shape.len().saturating_sub(1)).product();
            let whole = if flatten {
                shape.iter().take(ax.max(0) as usize).product::<usize>() == 1
            } else {
                ax == r - 1 && rows == 1
            };
            if !whole {
                return Ok(None);
            }
            return Ok(Some(vec![HostStep::Softmax]));
        }
        Op::BatchNorm { epsilon } => {
            let p: Vec<Vec<f32>> = (1..5)
                .map(|i| {
                    g.consts
                        .get(&n.inputs[i])
                        .map(Tensor::to_f32)
                        .unwrap_or_default()
                })
                .collect();
            let (ns, nb) = exec::bn_affine(&p[0], &p[1], &p[2], &p[3], epsilon);
            let c = *shape.get(1).unwrap_or(&0);
            if ns.len() != c {
                return Ok(None);
            }
            let inner: usize = shape[2..].iter().product();
            let total: usize = shape.iter().product();
            let per = |v: &[f32]| -> Vec<f32> { (0..total).map(|i| v[(i / inner) % c]).collect() };
            return Ok(Some(vec![
                HostStep::Elementwise {
                    op: FloatOp::Mul,
                    constant: per(&ns),
                    reversed: false,
                },
                HostStep::Elementwise {
                    op: FloatOp::Add,
                    constant: per(&nb),
                    reversed: false,
                },
            ]));
        }
        _ => return Ok(None),
    };
    let (a, b) = (&n.inputs[0], &n.inputs[1]);
    let (k, reversed) = if g.is_const(b) {
        (g.consts.get(b), false)
    } else {
        (g.consts.get(a), true)
    };
    let constant = expand(k, shape, n)?;
    Ok(Some(vec![HostStep::Elementwise {
        op,
        constant,
        reversed,
    }]))
}

/// Integer thresholds of a MultiThreshold on an integer input: `x >= t` for integer `x`
/// is `x >= ceil(t)`.
fn thresholds_of(
    g: &Graph,
    n: &Node,
    channels: usize,
    bound: i64,
) -> Result<Thresholds, PassError> {
    let Op::MultiThreshold {
        out_scale,
        out_bias,
        out_dtype,
        ..
    } = n.op
    else {
        unreachable!()
    };
    let t = g.consts.get(&n.inputs[1]).ok_or_else(|| {
        PassError::invalid(&n.name, Some(&n.inputs[1]), "thresholds must be constant")
    })?;
    if t.shape.len() != 2 || (t.shape[0] != 1 && t.shape[0] != channels) {
        return Err(PassError::invalid(
            &n.name,
            Some(&n.inputs[1]),
            format!(
                "threshold shape {:?} does not fit {channels} channels",
                t.shape
            ),
        ));
    }
    let k = t.shape[1];
    let v = t.to_f32();
    let rows: Vec<Vec<i64>> = v
        .chunks(k.max(1))
        .map(|r| {
            let mut r: Vec<i64> = r
                .iter()
                .map(|&x| {
                    if x.is_nan() {
                        bound
                    } else {
                        (x.ceil() as f64).clamp(-(bound as f64), bound as f64) as i64
                    }
                })
                .collect();
            r.sort_unstable();
            r
        })
        .collect();
    let (out_type, bias) = if out_scale == 2.0 && out_bias == -1.0 && k == 1 {
        (DataType::Bipolar, 0)
    } else if out_scale == 1.0 && out_bias == out_bias.trunc() {
        let lo = out_bias as i64;
        (
            out_dtype
                .filter(|d| d.contains(lo) && d.contains(lo.saturating_add(k as i64)))
                .unwrap_or(super::int_type(lo, lo.saturating_add(k as i64))),
            lo,
        )
    } else {
        return Err(PassError::Unsupported {
            nodes: vec![UnsupportedNode {
                name: n.name.clone(),
                op_type: "MultiThreshold".into(),
                domain: String::new(),
                hint: format!(
                    "out_scale {out_scale} / out_bias {out_bias}: hardware thresholds need out_scale 1 and an integer out_bias (or a bipolar 2n-1)"
                ),
            }],
        });
    };
    Ok(Thresholds {
        rows,
        out_type,
        out_bias: bias,
    })
}

/// The factor `2^k` of a pending `Mul` as a left shift `k` (none pending: 0).
fn pending_shift(p: &[HostStep]) -> Option<u32> {
    match p {
        [] => Some(0),
        [
            HostStep::Elementwise {
                op: FloatOp::Mul,
                constant,
                reversed: false,
            },
        ] if constant.len() == 1 => {
            let c = constant[0];
            let k = c.log2();
            (c >= 1.0 && k == k.trunc() && k <= MAX_ADD_SHIFT as f32).then_some(k as u32)
        }
        _ => None,
    }
}

type AddLowering = Result<(HwAdd, Option<usize>, String), UnsupportedNode>;

/// An `Add` of two hardware streams (a residual add, after `absorb_add` made its operands
/// integers in one unit): the IR `Add`, the `MultiThreshold` after it that it absorbs, and
/// the tensor its output stream carries.
fn lower_add(
    g: &Graph,
    n: &Node,
    inputs: [&String; 2],
    streams: &HashMap<String, Stream>,
    sole_reader: &dyn Fn(&str) -> Option<usize>,
) -> Result<AddLowering, PassError> {
    let unsup = |hint: String| UnsupportedNode {
        name: n.name.clone(),
        op_type: "Add".into(),
        domain: String::new(),
        hint,
    };
    let (Some(a), Some(b)) = (streams.get(inputs[0]), streams.get(inputs[1])) else {
        return Ok(Err(unsup(format!(
            "adds `{}` and `{}`: both must be streams of the hardware part (quantized tensors computed from the quantized input)",
            inputs[0], inputs[1]
        ))));
    };
    let (Some(sa), Some(sb)) = (pending_shift(&a.pending), pending_shift(&b.pending)) else {
        let d = |s: &Stream| {
            s.pending
                .iter()
                .map(HostStep::describe)
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Ok(Err(unsup(format!(
            "the operands are not integers in one unit (their float steps: [{}] and [{}]): a residual Add needs two \
             quantized operands whose scales are equal or differ by a power of two, followed by a quantizer",
            d(a),
            d(b)
        ))));
    };
    if a.order != b.order {
        return Ok(Err(unsup(
            "its operands are streamed in different element orders (a Transpose or Reshape on one side)".into(),
        )));
    }
    let out = n.outputs[0].clone();
    let shape = g.shapes.get(&out).cloned().unwrap_or_default();
    let elems: usize = shape.iter().product();
    let channels = match Spatial::of(&shape) {
        Some(s) => s.c,
        None => elems,
    };
    let mut add = HwAdd {
        input_types: [a.dtype, b.dtype],
        shifts: [sa, sb],
        thresholds: None,
    };
    let mut mt = None;
    let mut out_name = out.clone();
    if let Some(j) = sole_reader(&out)
        && let next = &g.nodes[j]
        && matches!(
            next.op,
            Op::MultiThreshold {
                channels_last: false,
                ..
            }
        )
        && next.inputs[0] == out
    {
        let (lo, hi) = add.sum_range();
        let bound = lo.abs().max(hi.abs()).saturating_add(1);
        add.thresholds = Some(thresholds_of(g, next, channels, bound)?);
        mt = Some(j);
        out_name = next.outputs[0].clone();
    }
    Ok(Ok((add, mt, out_name)))
}

/// A `Concat` of hardware streams along their channels: the IR `Concat` and its output
/// stream (its `src` still to set). Every input must be a stream in channels-last order
/// with its scale as its only pending float step; equal scales (by value) stay one scale,
/// different ones become the output's per-channel scale, which a dense layer reading the
/// output cannot take (refused here, naming the scales). Anything else is refused naming
/// the Concat and what to do.
fn lower_concat(
    g: &Graph,
    n: &Node,
    streams: &HashMap<String, Stream>,
    readers: &HashMap<&str, Vec<usize>>,
) -> Result<(Concat, Stream), UnsupportedNode> {
    let unsup = |hint: String| UnsupportedNode {
        name: n.name.clone(),
        op_type: "Concat".into(),
        domain: String::new(),
        hint,
    };
    let Op::Concat { axis } = n.op else {
        unreachable!("lower_concat on a Concat")
    };
    let out = &n.outputs[0];
    let shape = g.shapes.get(out).cloned().unwrap_or_default();
    let r = shape.len() as i64;
    let ax = if axis < 0 { axis + r } else { axis };
    if ax != 1 || shape.first() != Some(&1) || !(2..=4).contains(&r) {
        return Err(unsup(format!(
            "Concat along axis {axis} of {shape:?} activations: the hardware concatenates channels only (axis 1 of an \
             NCHW, NCW or (N, C) tensor of batch 1); concatenate along the channels, or reshape the tensors so that \
             the concatenated axis is the channel axis"
        )));
    }
    if let Some(k) = n.inputs.iter().find(|i| i.is_empty() || g.is_const(i)) {
        return Err(unsup(format!(
            "concatenates the constant `{k}` with activations: every input of a hardware Concat is a quantized stream"
        )));
    }
    if !(2..=MAX_CONCAT_INPUTS).contains(&n.inputs.len()) {
        return Err(unsup(format!(
            "{} inputs: a hardware Concat takes 2 to {MAX_CONCAT_INPUTS} (nest Concats for more)",
            n.inputs.len()
        )));
    }
    let pixels: usize = shape[2..].iter().product();
    // Channels-last order of a [1, C, ...] tensor.
    let canonical = |s: &[usize]| -> Vec<usize> {
        match Spatial::of(s) {
            Some(sp) => sp.hwc_order(),
            None => (0..s.iter().product()).collect(),
        }
    };
    let mut ins: Vec<(&String, &Stream, Vec<f32>)> = Vec::new();
    for i in &n.inputs {
        let Some(st) = streams.get(i.as_str()) else {
            return Err(unsup(format!(
                "reads `{i}`, which is no stream of the hardware part (a Concat joins quantized tensors computed from \
                 the quantized input)"
            )));
        };
        let s = g.shapes.get(i).cloned().unwrap_or_default();
        let c = s.get(1).copied().unwrap_or(0);
        if st.order != canonical(&s) {
            return Err(unsup(format!(
                "its input `{i}` is not streamed channels last (a Transpose or Reshape reorders it before the Concat)"
            )));
        }
        // the input's scale per channel (its only pending step: a positive Mul)
        let scale = match st.pending.as_slice() {
            [] => Some(vec![1.0; c]),
            [
                HostStep::Elementwise {
                    op: FloatOp::Mul,
                    constant,
                    reversed: false,
                },
            ] if constant.iter().all(|&k| k > 0.0 && k.is_finite()) => {
                if constant.len() == 1 {
                    Some(vec![constant[0]; c])
                } else if constant.len() == c * pixels {
                    // ONNX order: channel ch's pixels at ch * pixels ..
                    let v: Vec<f32> = (0..c).map(|ch| constant[ch * pixels]).collect();
                    (0..c * pixels)
                        .all(|e| constant[e] == v[e / pixels.max(1)])
                        .then_some(v)
                } else {
                    None
                }
            }
            _ => None,
        };
        let Some(scale) = scale else {
            return Err(unsup(format!(
                "its input `{i}` carries float operations that are no scale ({}): a Concat joins quantized tensors; \
                 put an activation quantizer on each of its inputs",
                st.pending
                    .iter()
                    .map(HostStep::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        };
        ins.push((i, st, scale));
    }
    let first = ins[0].2.first().copied().unwrap_or(1.0);
    let uniform = ins.iter().all(|(_, _, s)| s.iter().all(|&v| v == first));
    let pending = if uniform {
        if first == 1.0 {
            Vec::new()
        } else {
            vec![HostStep::Elementwise {
                op: FloatOp::Mul,
                constant: vec![first],
                reversed: false,
            }]
        }
    } else {
        let describe = |s: &[f32]| -> String {
            if s.iter().all(|&v| v == s[0]) {
                format!("{}", s[0])
            } else if s.len() <= 8 {
                format!("{s:?} per channel")
            } else {
                format!("{:?}... per channel", &s[..8])
            }
        };
        let scales: Vec<String> = ins
            .iter()
            .map(|(i, _, s)| format!("`{i}` {}", describe(s)))
            .collect();
        if let Some(reader) = dense_reader(g, readers, out) {
            return Err(unsup(format!(
                "its inputs' scales differ ({}): the concatenated tensor has one scale per channel, and the dense \
                 layer `{reader}` reading it needs one scale for its whole input; quantize every input of the Concat \
                 with the same scale (one shared activation quantizer, or quantizers of equal scale), or requantize \
                 the concatenated tensor (an activation quantizer after the Concat absorbs the scales)",
                scales.join(", ")
            )));
        }
        // the scale of each output element (ONNX order), to be absorbed downstream
        let mut constant = Vec::with_capacity(shape[1] * pixels);
        for (_, _, s) in &ins {
            for &v in s {
                constant.extend(std::iter::repeat_n(v, pixels));
            }
        }
        vec![HostStep::Elementwise {
            op: FloatOp::Mul,
            constant,
            reversed: false,
        }]
    };
    let cat = Concat {
        input_types: ins.iter().map(|(_, st, _)| st.dtype).collect(),
        channels: ins
            .iter()
            .map(|(i, _, _)| {
                g.shapes
                    .get(*i)
                    .and_then(|s| s.get(1).copied())
                    .unwrap_or(0)
            })
            .collect(),
    };
    let st = Stream {
        src: Source::input("input"),
        dtype: cat.output_type(),
        order: canonical(&shape),
        pending,
    };
    Ok((cat, st))
}

/// The dense layer (MatMul, Gemm or a convolution of group 1) reading tensor `t`, directly
/// or through the rescale `Round(Div(t, s))` and layout ops before it, if any.
fn dense_reader(g: &Graph, readers: &HashMap<&str, Vec<usize>>, t: &str) -> Option<String> {
    let mut todo = vec![(t.to_string(), 0)];
    while let Some((t, depth)) = todo.pop() {
        for &j in readers.get(t.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
            let r = &g.nodes[j];
            match &r.op {
                Op::MatMul | Op::Gemm { .. } => return Some(r.name.clone()),
                Op::Conv { group, .. } if *group == 1 => return Some(r.name.clone()),
                Op::Div | Op::Round if depth < 8 => todo.push((r.outputs[0].clone(), depth + 1)),
                _ if is_layout(r) && depth < 8 => todo.push((r.outputs[0].clone(), depth + 1)),
                _ => {}
            }
        }
    }
    None
}

/// The IR graph of the lowered layers (`inputs[i]`: the sources of layer `i`), with a
/// `Duplicate` after every stream read more than once, and every node named `lNN_<kind>`
/// in order.
fn graph_model(
    name: &str,
    tensor: TensorType,
    layers: Vec<(String, HwOp, Option<String>)>,
    inputs: Vec<Vec<Source>>,
    out: Source,
) -> Result<Model, String> {
    let mut nodes: Vec<IrNode> = layers
        .into_iter()
        .zip(inputs)
        .map(|((name, op, origin), inputs)| IrNode {
            name,
            inputs,
            op,
            origin,
        })
        .collect();
    let mut out = out;
    // Types of every stream, walking the layers in order (each reads earlier ones).
    let mut types: HashMap<Source, TensorType> = HashMap::new();
    types.insert(Source::input("input"), tensor);
    for n in &nodes {
        let ins: Vec<TensorType> = n
            .inputs
            .iter()
            .map(|s| {
                types
                    .get(s)
                    .copied()
                    .ok_or_else(|| format!("`{}` reads an unknown stream", n.name))
            })
            .collect::<Result<_, _>>()?;
        let outs =
            n.op.as_kind()
                .infer(&ins)
                .map_err(|e| format!("node `{}`: {e}", n.name))?;
        for (p, t) in outs.into_iter().enumerate() {
            types.insert(Source::node(&n.name, p), t);
        }
    }
    // Readers of every stream, in order (node, port); the graph output last (usize::MAX).
    let mut uses: Vec<(Source, Vec<(usize, usize)>)> = Vec::new();
    let mut at: HashMap<Source, usize> = HashMap::new();
    let mut use_of =
        |s: &Source, r: (usize, usize), uses: &mut Vec<(Source, Vec<(usize, usize)>)>| {
            let i = *at.entry(s.clone()).or_insert_with(|| {
                uses.push((s.clone(), Vec::new()));
                uses.len() - 1
            });
            uses[i].1.push(r);
        };
    for (i, n) in nodes.iter().enumerate() {
        for (p, s) in n.inputs.iter().enumerate() {
            use_of(s, (i, p), &mut uses);
        }
    }
    use_of(&out, (usize::MAX, 0), &mut uses);
    // Duplicates, each placed right after its producer.
    let mut dups: Vec<(Option<usize>, IrNode)> = Vec::new();
    for (s, readers) in &uses {
        if readers.len() < 2 {
            continue;
        }
        if readers.len() > crate::ir::MAX_DUPLICATE_OUTPUTS {
            return Err(format!(
                "a stream is read by {} layers; at most {} are supported",
                readers.len(),
                crate::ir::MAX_DUPLICATE_OUTPUTS
            ));
        }
        let (producer, base) = match s {
            Source::Input { input } => (None, input.clone()),
            Source::Node { node, .. } => (nodes.iter().position(|n| &n.name == node), node.clone()),
        };
        let dname = format!("{base}_dup");
        for (k, &(i, p)) in readers.iter().enumerate() {
            let to = Source::node(&dname, k);
            if i == usize::MAX {
                out = to;
            } else {
                nodes[i].inputs[p] = to;
            }
        }
        dups.push((
            producer,
            IrNode {
                name: dname,
                inputs: vec![s.clone()],
                op: HwOp::Duplicate(Duplicate {
                    outputs: readers.len(),
                    input_type: types[s].dtype,
                }),
                origin: None,
            },
        ));
    }
    let mut all: Vec<IrNode> = Vec::with_capacity(nodes.len() + dups.len());
    for d in dups.iter().filter(|d| d.0.is_none()) {
        all.push(d.1.clone());
    }
    for (i, n) in nodes.into_iter().enumerate() {
        all.push(n);
        for d in dups.iter().filter(|d| d.0 == Some(i)) {
            all.push(d.1.clone());
        }
    }
    // Names in order: lNN_<kind>.
    let rename: HashMap<String, String> = all
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let kind = if n.name.ends_with("_dup") {
                "dup"
            } else {
                n.name.split_once('_').map_or(n.name.as_str(), |(_, k)| k)
            };
            (n.name.clone(), format!("l{i:02}_{kind}"))
        })
        .collect();
    let fix = |s: &mut Source| {
        if let Source::Node { node, .. } = s
            && let Some(r) = rename.get(node.as_str())
        {
            *node = r.clone();
        }
    };
    for n in &mut all {
        n.name = rename[&n.name].clone();
        n.inputs.iter_mut().for_each(fix);
    }
    fix(&mut out);
    let mut m = Model::chain(name, tensor, Vec::new());
    m.nodes = all;
    m.outputs = vec![out];
    Ok(m)
}
