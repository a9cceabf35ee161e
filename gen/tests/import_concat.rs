//! Concat through the importer: an Inception-style block (one quantized tensor read by a
//! 1x1 and a 3x3 convolution, their quantized outputs concatenated along the channels, then
//! a convolution and a fully connected layer) against the reference executor, with equal
//! scales, with a bipolar branch next to an integer one, and with scales that differ absorbed
//! by a requantizer after the Concat; and the clear errors for what ferrite refuses (scales
//! that differ before a dense layer, a concat along another axis).

mod import_util;

use ferrite_gen::golden;
use ferrite_gen::import::exec;
use ferrite_gen::import::graph::Tensor;
use ferrite_gen::import::import_bytes;
use ferrite_gen::import::onnx::{NodeProto, TensorProto};
use ferrite_gen::ir::{DataType, Op};
use ferrite_gen::passes;
use import_util::*;

const C: i64 = 4;
const HW: i64 = 6;

/// Weights `name` of `dims` with levels -1..=1 (2-bit signed, scale 1), quantized.
fn weights(name: &str, dims: &[i64], seed: usize, inits: &mut Vec<TensorProto>) -> NodeProto {
    let n: i64 = dims.iter().product();
    let v: Vec<f32> = (0..n as usize)
        .map(|i| ((i * 7 + seed * 5) % 3) as f32 - 1.0)
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

fn conv(name: &str, x: &str, w: &str, out: &str, k: i64) -> NodeProto {
    let p = k / 2;
    node(
        "Conv",
        "",
        name,
        &[x, w],
        &[out],
        vec![
            ("kernel_shape", A::Ints(vec![k, k])),
            ("pads", A::Ints(vec![p, p, p, p])),
        ],
    )
}

/// How a branch's output is quantized.
#[derive(Clone, Copy)]
enum Act {
    /// UINT4 with this scale.
    Uint4(f32),
    /// BIPOLAR with this scale.
    Bipolar(f32),
}

/// Branch `tag` on `a`: a `k`x`k` convolution to `m` channels -> Relu -> its quantizer.
fn branch(
    tag: &str,
    k: i64,
    m: i64,
    act: Act,
    nodes: &mut Vec<NodeProto>,
    inits: &mut Vec<TensorProto>,
) -> String {
    nodes.push(weights(
        &format!("w{tag}"),
        &[m, C, k, k],
        k as usize,
        inits,
    ));
    nodes.push(conv(
        &format!("conv{tag}"),
        "a",
        &format!("w{tag}q"),
        &format!("c{tag}"),
        k,
    ));
    let out = format!("b{tag}");
    match act {
        Act::Uint4(s) => {
            nodes.push(node(
                "Relu",
                "",
                &format!("relu{tag}"),
                &[&format!("c{tag}")],
                &[&format!("r{tag}")],
                vec![],
            ));
            nodes.push(quant(
                &format!("r{tag}"),
                &out,
                s,
                0.0,
                4.0,
                false,
                false,
                "ROUND",
                inits,
            ));
        }
        Act::Bipolar(s) => {
            let sn = format!("{out}_s");
            inits.push(scalar(&sn, s));
            nodes.push(node(
                "BipolarQuant",
                Q,
                &format!("{out}_quant"),
                &[&format!("c{tag}"), &sn],
                &[&out],
                vec![],
            ));
        }
    }
    out
}

/// Input quantizer (UINT4, scale 1/8) -> 3x3 conv 2->C -> Relu -> Quant `a` (UINT4, 1/4)
/// -> [a 1x1 conv to 3 channels (`act1`) ; a 3x3 conv to 2 channels (`act3`)] -> Concat
/// `cat` on `axis` -> 1x1 conv to 3 channels -> Relu -> Quant (UINT4, 1/2) -> Flatten ->
/// MatMul -> output.
fn inception(act1: Act, act3: Act, axis: i64) -> Vec<u8> {
    inception_with(act1, act3, axis, None, false)
}

/// [`inception`], with `requant` a requantizer after the Concat: Mul by per-channel
/// constants -> Relu -> Quant (INT4 when `signed`, else UINT4, scale `s`); with
/// `shape_chain` the flatten is the `Shape -> Gather -> Unsqueeze -> Concat -> Reshape`
/// chain exporters write (a Concat of constants, folded away).
fn inception_with(
    act1: Act,
    act3: Act,
    axis: i64,
    requant: Option<(f32, bool)>,
    shape_chain: bool,
) -> Vec<u8> {
    let mut inits = Vec::new();
    let mut nodes = vec![quant(
        "x", "x0", 0.125, 0.0, 4.0, false, false, "ROUND", &mut inits,
    )];
    nodes.push(weights("w0", &[C, 2, 3, 3], 0, &mut inits));
    nodes.push(conv("conv0", "x0", "w0q", "c0", 3));
    nodes.push(node("Relu", "", "relu0", &["c0"], &["r0"], vec![]));
    nodes.push(quant(
        "r0", "a", 0.25, 0.0, 4.0, false, false, "ROUND", &mut inits,
    ));
    // along the channels: 3 + 2; along another axis both branches keep 3 channels
    let channels = axis == 1 || axis == -3;
    let m3 = if channels { 2 } else { 3 };
    let b1 = branch("1", 1, 3, act1, &mut nodes, &mut inits);
    let b3 = branch("3", 3, m3, act3, &mut nodes, &mut inits);
    nodes.push(node(
        "Concat",
        "",
        "cat",
        &[&b1, &b3],
        &["k"],
        vec![("axis", A::I(axis))],
    ));
    let kc = if channels { 5 } else { 3 };
    let mut kin = "k";
    if let Some((s, signed)) = requant {
        // a per-channel float step (a BatchNorm-like rescale, one negative-free factor each)
        inits.push(raw_f32(
            "km",
            &[1, kc, 1, 1],
            &[1.0, 0.75, 1.5, 0.5, 1.25][..kc as usize],
        ));
        nodes.push(node("Mul", "", "kmul", &["k", "km"], &["kk"], vec![]));
        nodes.push(node("Relu", "", "krelu", &["kk"], &["kr"], vec![]));
        nodes.push(quant(
            "kr", "kq", s, 0.0, 4.0, signed, false, "ROUND", &mut inits,
        ));
        kin = "kq";
    }
    nodes.push(weights("wk", &[3, kc, 1, 1], 4, &mut inits));
    nodes.push(conv("convk", kin, "wkq", "ck", 1));
    nodes.push(node("Relu", "", "reluk", &["ck"], &["rk"], vec![]));
    nodes.push(quant(
        "rk", "o", 0.5, 0.0, 4.0, false, false, "ROUND", &mut inits,
    ));
    if shape_chain {
        inits.push(i64s("g0", &[], &[0]));
        inits.push(i64s("ax0", &[1], &[0]));
        inits.push(i64s("minus1", &[1], &[-1]));
        nodes.push(node("Shape", "", "shape", &["o"], &["sh"], vec![]));
        nodes.push(node(
            "Gather",
            "",
            "gather",
            &["sh", "g0"],
            &["n"],
            vec![("axis", A::I(0))],
        ));
        nodes.push(node(
            "Unsqueeze",
            "",
            "unsq",
            &["n", "ax0"],
            &["n1"],
            vec![],
        ));
        nodes.push(node(
            "Concat",
            "",
            "shape_cat",
            &["n1", "minus1"],
            &["newshape"],
            vec![("axis", A::I(0))],
        ));
        nodes.push(node(
            "Reshape",
            "",
            "reshape",
            &["o", "newshape"],
            &["f"],
            vec![],
        ));
    } else {
        nodes.push(node(
            "Flatten",
            "",
            "flatten",
            &["o"],
            &["f"],
            vec![("axis", A::I(1))],
        ));
    }
    let flat = 3 * HW * HW * if channels { 1 } else { 2 };
    nodes.push(weights("wf", &[flat, 3], 1, &mut inits));
    nodes.push(node("MatMul", "", "fc", &["f", "wfq"], &["y"], vec![]));
    model(8, 13, ("x", &[1, 2, HW, HW]), "y", nodes, inits)
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
    for s in 0..12 {
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

fn concat_of(m: &ferrite_gen::ir::Model) -> ferrite_gen::ir::Concat {
    let n = m
        .nodes
        .iter()
        .find(|n| n.kind() == "Concat")
        .unwrap_or_else(|| {
            panic!(
                "no Concat: {:?}",
                m.nodes.iter().map(|n| n.kind()).collect::<Vec<_>>()
            )
        });
    let Op::Concat(c) = &n.op else { unreachable!() };
    c.clone()
}

#[test]
fn an_inception_block_with_equal_scales_is_a_concat_after_a_duplicate() {
    let m = check_against_exec(&inception(Act::Uint4(0.25), Act::Uint4(0.25), 1));
    let kinds: Vec<&str> = m.nodes.iter().map(|n| n.kind()).collect();
    assert!(kinds.contains(&"Duplicate"), "{kinds:?}");
    let c = concat_of(&m);
    assert_eq!(c.channels, [3, 2]);
    assert_eq!(c.input_types, [DataType::UInt(4), DataType::UInt(4)]);
    // the concat feeds the 1x1 convolution directly: its scale went into the thresholds
    let a = m
        .analyze()
        .expect("a valid graph: every stream has one reader");
    let id = m.nodes.iter().position(|n| n.kind() == "Concat").unwrap();
    let reader = &a.consumers[id][0][0];
    assert_eq!(m.nodes[reader.node].kind(), "MatrixVector");
    // negative axis: the same channel axis
    check_against_exec(&inception(Act::Uint4(0.25), Act::Uint4(0.25), -3));
    // a Concat of constants in the flatten's shape chain is folded, not lowered
    let m = check_against_exec(&inception_with(
        Act::Uint4(0.25),
        Act::Uint4(0.25),
        1,
        None,
        true,
    ));
    assert_eq!(m.nodes.iter().filter(|n| n.kind() == "Concat").count(), 1);
}

#[test]
fn a_bipolar_branch_next_to_an_integer_one_widens_to_a_signed_type() {
    let m = check_against_exec(&inception(Act::Bipolar(0.25), Act::Uint4(0.25), 1));
    let c = concat_of(&m);
    assert_eq!(c.input_types, [DataType::Bipolar, DataType::UInt(4)]);
    assert_eq!(c.output_type(), DataType::Int(5));
}

#[test]
fn scales_that_differ_before_a_dense_layer_are_refused_naming_the_concat() {
    let e = lower(&inception(Act::Uint4(0.25), Act::Uint4(0.5), 1)).unwrap_err();
    assert!(
        e.contains("`cat`")
            && e.contains("`b1` 0.25")
            && e.contains("`b3` 0.5")
            && e.contains("`convk`")
            && e.contains("same scale"),
        "{e}"
    );
}

#[test]
fn a_concat_along_another_axis_is_refused() {
    for axis in [2, 3, -1] {
        let e = lower(&inception(Act::Uint4(0.25), Act::Uint4(0.25), axis)).unwrap_err();
        assert!(
            e.contains("`cat`")
                && e.contains(&format!("axis {axis}"))
                && e.contains("channels only"),
            "{e}"
        );
    }
}

/// Inputs quantized apart (different scales per tensor, a bipolar branch) and a
/// requantizer after the Concat: the thresholds of each channel absorb its input's scale.
#[test]
fn a_requantizer_after_the_concat_absorbs_scales_that_differ() {
    for (act1, act3, signed) in [
        (Act::Uint4(0.25), Act::Uint4(0.5), false),
        (Act::Uint4(0.125), Act::Uint4(0.375), true),
        (Act::Bipolar(0.5), Act::Uint4(0.25), false),
    ] {
        let m = check_against_exec(&inception_with(act1, act3, 1, Some((0.3, signed)), false));
        let id = m.nodes.iter().position(|n| n.kind() == "Concat").unwrap();
        let a = m.analyze().unwrap();
        let reader = &m.nodes[a.consumers[id][0][0].node];
        let Op::Thresholding(t) = &reader.op else {
            panic!("the Concat feeds {}", reader.kind())
        };
        assert_eq!(t.channels, 5);
    }
}
