//! The two TFC networks of the QONNX model zoo, imported, streamlined and lowered: the
//! golden model on `inputs.npy` reproduces `expected.npy` (the qonnx reference executor's
//! outputs), and every quantized activation equals the float reference executor's.

use ferrite_gen::golden;
use ferrite_gen::import::{exec, graph::Tensor, read_onnx};
use ferrite_gen::ir::Op;
use ndarray::{Array2, Array4};
use std::path::PathBuf;

fn models() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/models"))
}

fn load(name: &str) -> (ferrite_gen::ir::Model, Array4<f32>, Array2<f32>) {
    let dir = models().join(name);
    let path = dir.join("model.onnx");
    assert!(
        path.exists(),
        "{} is missing: the shared models are needed",
        path.display()
    );
    let m = ferrite_gen::load_model(&path).unwrap_or_else(|e| panic!("{e}"));
    let x: Array4<f32> = ndarray_npy::read_npy(dir.join("inputs.npy")).unwrap();
    let y: Array2<f32> = ndarray_npy::read_npy(dir.join("expected.npy")).unwrap();
    (m, x, y)
}

fn argmax(v: &[f32]) -> usize {
    // first maximum, as numpy argmax
    let mut b = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[b] {
            b = i;
        }
    }
    b
}

/// Float outputs: the host steps after the hardware are the same f32 operations, in the same
/// order, on the same (exact integer) accumulator as the reference, so they are expected to
/// match bit for bit; the test allows 1 ulp of the largest output magnitude (|y| < 64, so
/// 2^-17 < 1e-5) in case a libm `powf` in constant folding differs by one rounding.
const TOL: f32 = 1e-5;

fn check(name: &str) {
    let (m, x, y) = load(name);
    let n = x.shape()[0];
    let flat = x.into_shape_with_order((n, 784)).unwrap();
    let got = golden::host::run_float_batch(&m, flat.view()).unwrap();
    assert_eq!(got.shape(), y.shape());
    let mut maxdiff = 0f32;
    for i in 0..n {
        let (g, e) = (got.row(i).to_vec(), y.row(i).to_vec());
        for (a, b) in g.iter().zip(&e) {
            maxdiff = maxdiff.max((a - b).abs());
        }
        assert_eq!(
            argmax(&g),
            argmax(&e),
            "{name}: top-1 differs on sample {i}: {g:?} vs {e:?}"
        );
    }
    eprintln!("{name}: max |golden - expected| = {maxdiff:e} over {n} samples");
    assert!(maxdiff <= TOL, "{name}: max abs difference {maxdiff}");
}

#[test]
fn tfc_1w1a_golden_equals_reference() {
    check("TFC_1W1A");
}

#[test]
fn tfc_2w2a_golden_equals_reference() {
    check("TFC_2W2A");
}

/// The integer activations of every hardware layer equal the quantized activations the
/// float reference executor computes on the original (unstreamlined) graph.
fn check_activations(name: &str) {
    let (m, x, _) = load(name);
    let g = read_onnx(&models().join(name).join("model.onnx")).unwrap();
    // The quantizer outputs feeding each MatMul of the original graph, in order.
    let act: Vec<String> = g
        .nodes
        .iter()
        .filter(|n| n.op.type_name() == "MatMul")
        .map(|n| n.inputs[0].clone())
        .collect();
    let mvs: Vec<usize> = m
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(l.op, Op::MatrixVector(_)))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(act.len(), mvs.len());
    let n = x.shape()[0];
    for s in 0..n {
        let frame: Vec<f32> = x
            .slice(ndarray::s![s, .., .., ..])
            .iter()
            .copied()
            .collect();
        let vals = exec::run(&g, &Tensor::f32(vec![1, 1, 28, 28], frame.clone())).unwrap();
        let hw_in = golden::host::run_pre(&m, &frame).unwrap();
        let trace = golden::run_trace(&m, &hw_in);
        // input of the first MatMul = host pre output
        let want0: Vec<i64> = vals[&act[0]].to_f32().iter().map(|&v| v as i64).collect();
        assert_eq!(hw_in, want0, "{name} sample {s}: input quantizer");
        for (j, name_t) in act.iter().enumerate().skip(1) {
            let want: Vec<i64> = vals[name_t]
                .to_f32()
                .iter()
                .map(|&v| {
                    assert_eq!(v, v.trunc());
                    v as i64
                })
                .collect();
            assert_eq!(
                trace[mvs[j - 1]][0],
                want,
                "{name} sample {s}: activation {j} (`{name_t}`)"
            );
        }
    }
}

#[test]
fn tfc_1w1a_activations_bit_exact() {
    check_activations("TFC_1W1A");
}

#[test]
fn tfc_2w2a_activations_bit_exact() {
    check_activations("TFC_2W2A");
}

/// The float reference executor itself, on the imported (unstreamlined) graph, reproduces
/// the qonnx reference outputs: it is a faithful oracle for the pass tests.
fn check_reference_executor(name: &str) {
    let (_, x, y) = load(name);
    let g = read_onnx(&models().join(name).join("model.onnx")).unwrap();
    let mut maxdiff = 0f32;
    for s in 0..x.shape()[0] {
        let frame: Vec<f32> = x
            .slice(ndarray::s![s, .., .., ..])
            .iter()
            .copied()
            .collect();
        let out = exec::run_outputs(&g, &Tensor::f32(vec![1, 1, 28, 28], frame))
            .unwrap()
            .remove(0);
        assert_eq!(out.shape, vec![1, 10]);
        for (a, b) in out.to_f32().iter().zip(y.row(s)) {
            maxdiff = maxdiff.max((a - b).abs());
        }
    }
    assert!(
        maxdiff <= TOL,
        "{name}: reference executor differs by {maxdiff}"
    );
}

#[test]
fn tfc_reference_executor_equals_qonnx() {
    check_reference_executor("TFC_1W1A");
    check_reference_executor("TFC_2W2A");
}

/// The lowered model, host steps included, survives the JSON IR exactly.
#[test]
fn lowered_models_round_trip_through_json() {
    for name in ["TFC_1W1A", "TFC_2W2A"] {
        let (m, _, _) = load(name);
        assert!(!m.pre.is_empty() && !m.post.is_empty());
        let back = ferrite_gen::ir::Model::from_json_str(&m.to_json(), "x.json").unwrap();
        assert_eq!(back, m, "{name}");
    }
}
