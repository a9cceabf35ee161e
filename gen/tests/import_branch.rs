//! Branching and depthwise graphs through the importer: residual adds (equal scales, scales
//! a power of two apart, per-channel scales), a quantized tensor read twice, depthwise
//! convolutions with per-channel input scales, each against the reference executor; and
//! the clear errors for what ferrite refuses (other scale ratios, grouped convolutions,
//! per-channel scales into a dense layer).

mod import_util;

use ferrite_gen::golden;
use ferrite_gen::import::exec;
use ferrite_gen::import::graph::Tensor;
use ferrite_gen::import::import_bytes;
use ferrite_gen::import::onnx::{NodeProto, TensorProto};
use ferrite_gen::ir::Op;
use ferrite_gen::passes;
use import_util::*;

const C: i64 = 4;
const HW: i64 = 6;

/// Weights `name` of `dims` with levels -1..=1 (2-bit signed, scale 1), quantized.
fn weights(name: &str, dims: &[i64], seed: usize, inits: &mut Vec<TensorProto>) -> NodeProto {
    let n: i64 = dims.iter().product();
    let v: Vec<f32> = (0..n as usize)
        .map(|i| ((i * 5 + seed * 3) % 3) as f32 - 1.0)
        .collect();
    inits.push(raw_f32(name, dims, &v));
    quant(
        name,
        &format!("{name}q"),
        1.0,
        0.0,
        2.0,
        true,
        false,
        "ROUND",
        inits,
    )
}

/// A Quant with a per-channel scale `[1, C, 1, 1]`.
fn quant_pc(x: &str, out: &str, scales: &[f32], inits: &mut Vec<TensorProto>) -> NodeProto {
    let (s, z, b) = (format!("{out}_s"), format!("{out}_z"), format!("{out}_b"));
    inits.push(raw_f32(&s, &[1, scales.len() as i64, 1, 1], scales));
    inits.push(scalar(&z, 0.0));
    inits.push(scalar(&b, 4.0));
    node(
        "Quant",
        Q,
        &format!("{out}_quant"),
        &[x, &s, &z, &b],
        &[out],
        vec![
            ("signed", A::I(0)),
            ("narrow", A::I(0)),
            ("rounding_mode", A::S("ROUND")),
        ],
    )
}

fn conv(name: &str, x: &str, w: &str, out: &str, group: i64, stride: i64) -> NodeProto {
    node(
        "Conv",
        "",
        name,
        &[x, w],
        &[out],
        vec![
            ("kernel_shape", A::Ints(vec![3, 3])),
            ("pads", A::Ints(vec![1, 1, 1, 1])),
            ("strides", A::Ints(vec![stride, stride])),
            ("group", A::I(group)),
        ],
    )
}

/// Input quantizer (UINT4, scale 1/8) -> conv 2->C -> Relu -> Quant `a` (scale `sa`) ->
/// [the rest] -> Flatten -> MatMul -> output; `rest` builds from `a` to the tensor the
/// flatten reads (of `flat` elements).
fn net(
    sa: f32,
    rest: impl FnOnce(&mut Vec<NodeProto>, &mut Vec<TensorProto>) -> (String, usize),
) -> Vec<u8> {
    let mut inits = Vec::new();
    let mut nodes = vec![quant(
        "x", "x0", 0.125, 0.0, 4.0, false, false, "ROUND", &mut inits,
    )];
    nodes.push(weights("w0", &[C, 2, 3, 3], 0, &mut inits));
    nodes.push(conv("conv0", "x0", "w0q", "c0", 1, 1));
    nodes.push(node("Relu", "", "relu0", &["c0"], &["r0"], vec![]));
    nodes.push(quant(
        "r0", "a", sa, 0.0, 4.0, false, false, "ROUND", &mut inits,
    ));
    let (last, flat) = rest(&mut nodes, &mut inits);
    nodes.push(node(
        "Flatten",
        "",
        "flatten",
        &[&last],
        &["f"],
        vec![("axis", A::I(1))],
    ));
    nodes.push(weights("wf", &[flat as i64, 3], 1, &mut inits));
    nodes.push(node("MatMul", "", "fc", &["f", "wfq"], &["y"], vec![]));
    model(8, 13, ("x", &[1, 2, HW, HW]), "y", nodes, inits)
}

/// A residual block on `a`: conv -> Relu -> Quant `b` (scale `sb`) -> Add(a, b) -> Relu
/// -> Quant (scale `so`).
fn residual(
    sb: f32,
    so: f32,
) -> impl FnOnce(&mut Vec<NodeProto>, &mut Vec<TensorProto>) -> (String, usize) {
    move |nodes, inits| {
        nodes.push(weights("w1", &[C, C, 3, 3], 2, inits));
        nodes.push(conv("conv1", "a", "w1q", "c1", 1, 1));
        nodes.push(node("Relu", "", "relu1", &["c1"], &["r1"], vec![]));
        nodes.push(quant("r1", "b", sb, 0.0, 4.0, false, false, "ROUND", inits));
        nodes.push(node("Add", "", "add", &["a", "b"], &["s"], vec![]));
        nodes.push(node("Relu", "", "relu2", &["s"], &["rs"], vec![]));
        nodes.push(quant("rs", "o", so, 0.0, 4.0, false, false, "ROUND", inits));
        ("o".into(), (C * HW * HW) as usize)
    }
}

fn lower(bytes: &[u8]) -> Result<ferrite_gen::ir::Model, String> {
    let mut g = import_bytes(bytes, "t.onnx", None).map_err(|e| e.to_string())?;
    passes::streamline(&mut g).map_err(|e| e.to_string())?;
    passes::lower::lower(&g, "t").map_err(|e| e.to_string())
}

/// Lower and compare the golden float output with the executor on a few inputs.
fn check_against_exec(bytes: &[u8]) -> ferrite_gen::ir::Model {
    let g0 = import_bytes(bytes, "t.onnx", None).unwrap();
    let m = lower(bytes).unwrap_or_else(|e| panic!("{e}"));
    let shape = [1usize, 2, HW as usize, HW as usize];
    let elems: usize = shape.iter().product();
    for s in 0..8 {
        let x: Vec<f32> = (0..elems)
            .map(|i| (((i * 13 + s * 7) % 17) as f32) / 9.0)
            .collect();
        let want = exec::run_outputs(&g0, &Tensor::f32(shape.to_vec(), x.clone()))
            .unwrap()
            .remove(0)
            .to_f32();
        let got = golden::host::run_float(&m, &x).unwrap();
        assert_eq!(got, want, "input {s}");
    }
    m
}

fn kinds(m: &ferrite_gen::ir::Model) -> Vec<&'static str> {
    m.nodes.iter().map(|n| n.kind()).collect()
}

#[test]
fn a_residual_block_with_equal_scales_is_an_add_after_a_duplicate() {
    // two separate, equal-valued scale tensors, as Brevitas exports a shared quantizer
    let m = check_against_exec(&net(0.25, residual(0.25, 0.5)));
    let k = kinds(&m);
    assert!(k.contains(&"Duplicate") && k.contains(&"Add"), "{k:?}");
    let add = m.nodes.iter().find(|n| n.kind() == "Add").unwrap();
    let Op::Add(a) = &add.op else { unreachable!() };
    assert_eq!(a.shifts, [0, 0]);
    assert!(a.thresholds.is_some(), "the requantizer is absorbed");
    // the Add reads the duplicate and the long branch
    assert!(
        add.inputs.iter().any(|s| format!("{s:?}").contains("dup")),
        "{:?}",
        add.inputs
    );
    m.analyze()
        .expect("a valid graph: every stream has one reader");
}

#[test]
fn operand_scales_a_power_of_two_apart_become_a_shift() {
    for (sb, want) in [(0.5f32, [0, 1]), (0.0625, [2, 0])] {
        let m = check_against_exec(&net(0.25, residual(sb, 0.5)));
        let Op::Add(a) = &m.nodes.iter().find(|n| n.kind() == "Add").unwrap().op else {
            unreachable!()
        };
        assert_eq!(a.shifts, want, "sb = {sb}");
    }
}

#[test]
fn other_scale_ratios_are_refused_naming_the_add() {
    let e = lower(&net(0.25, residual(0.75, 0.5))).unwrap_err();
    assert!(e.contains("`add`") && e.contains("power of two"), "{e}");
}

#[test]
fn a_depthwise_convolution_with_per_channel_input_scales_is_a_vector_vector_unit() {
    let bytes = {
        let mut inits = Vec::new();
        let mut nodes = vec![quant(
            "x", "x0", 0.125, 0.0, 4.0, false, false, "ROUND", &mut inits,
        )];
        nodes.push(weights("w0", &[C, 2, 3, 3], 0, &mut inits));
        nodes.push(conv("conv0", "x0", "w0q", "c0", 1, 1));
        nodes.push(node("Relu", "", "relu0", &["c0"], &["r0"], vec![]));
        nodes.push(quant_pc("r0", "a", &[0.25, 0.5, 0.125, 0.25], &mut inits));
        nodes.push(weights("wd", &[C, 1, 3, 3], 3, &mut inits));
        nodes.push(conv("dw", "a", "wdq", "d", C, 2));
        nodes.push(node("Relu", "", "relu1", &["d"], &["rd"], vec![]));
        nodes.push(quant(
            "rd", "o", 0.5, 0.0, 4.0, false, false, "ROUND", &mut inits,
        ));
        nodes.push(node(
            "Flatten",
            "",
            "flatten",
            &["o"],
            &["f"],
            vec![("axis", A::I(1))],
        ));
        let flat = C * (HW / 2) * (HW / 2);
        nodes.push(weights("wf", &[flat, 3], 1, &mut inits));
        nodes.push(node("MatMul", "", "fc", &["f", "wfq"], &["y"], vec![]));
        model(8, 13, ("x", &[1, 2, HW, HW]), "y", nodes, inits)
    };
    let m = check_against_exec(&bytes);
    let k = kinds(&m);
    assert!(k.contains(&"VectorVector"), "{k:?}");
    let vv = m.nodes.iter().find(|n| n.kind() == "VectorVector").unwrap();
    let Op::VectorVector(v) = &vv.op else {
        unreachable!()
    };
    assert_eq!((v.channels, v.kernel), (C as usize, 9));
    assert!(v.thresholds.is_some());
}

#[test]
fn grouped_convolutions_and_per_channel_scales_into_dense_layers_are_named() {
    // group 2 over 4 channels: neither dense nor depthwise
    let e = lower(&net(0.25, |nodes, inits| {
        nodes.push(weights("wg", &[C, 2, 3, 3], 2, inits));
        nodes.push(conv("grouped", "a", "wgq", "g", 2, 1));
        nodes.push(quant("g", "o", 0.5, 0.0, 4.0, true, false, "ROUND", inits));
        ("o".into(), (C * HW * HW) as usize)
    }))
    .unwrap_err();
    assert!(e.contains("`grouped`") && e.contains("group = 2"), "{e}");
    // a per-channel activation scale feeding a dense convolution
    let bytes = {
        let mut inits = Vec::new();
        let mut nodes = vec![quant(
            "x", "x0", 0.125, 0.0, 4.0, false, false, "ROUND", &mut inits,
        )];
        nodes.push(weights("w0", &[C, 2, 3, 3], 0, &mut inits));
        nodes.push(conv("conv0", "x0", "w0q", "c0", 1, 1));
        nodes.push(node("Relu", "", "relu0", &["c0"], &["r0"], vec![]));
        nodes.push(quant_pc("r0", "a", &[0.25, 0.5, 0.125, 0.25], &mut inits));
        nodes.push(weights("w2", &[C, C, 3, 3], 2, &mut inits));
        nodes.push(conv("dense", "a", "w2q", "c2", 1, 1));
        nodes.push(quant(
            "c2", "o", 0.5, 0.0, 4.0, true, false, "ROUND", &mut inits,
        ));
        model(8, 13, ("x", &[1, 2, HW, HW]), "o", nodes, inits)
    };
    let e = lower(&bytes).unwrap_err();
    assert!(e.contains("`dense`") && e.contains("per channel"), "{e}");
}

#[test]
fn a_pointwise_convolution_needs_no_window_generator() {
    let m = check_against_exec(&net(0.25, |nodes, inits| {
        nodes.push(weights("wp", &[6, C, 1, 1], 2, inits));
        nodes.push(node(
            "Conv",
            "",
            "pw",
            &["a", "wpq"],
            &["c1"],
            vec![("kernel_shape", A::Ints(vec![1, 1]))],
        ));
        nodes.push(node("Relu", "", "relu1", &["c1"], &["r1"], vec![]));
        nodes.push(quant(
            "r1", "o", 0.5, 0.0, 4.0, false, false, "ROUND", inits,
        ));
        ("o".into(), (6 * HW * HW) as usize)
    }));
    let k = kinds(&m);
    // the first conv's (padding) window generator, then two matrix-vector units and nothing
    // between
    assert_eq!(
        k,
        [
            "SlidingWindow",
            "MatrixVector",
            "MatrixVector",
            "MatrixVector"
        ],
        "{k:?}"
    );
}
