//! The Brevitas exports in `examples/` (current exporters: opset 20, IR 9/10, domain
//! qonnx.custom_op.general, Gemm with float bias, per-channel float weight scales, learned
//! float activation scales, TorchScript and dynamo variants) against their `expected.npy`
//! from the qonnx reference executor.

use ndarray::{Array2, Array4};
use std::path::PathBuf;

fn examples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples"))
}

/// Max abs difference and top-1 agreement of golden vs expected.
fn compare(example: &str, file: &str) -> (f32, usize, usize) {
    let dir = examples().join(example);
    let m = ferrite_gen::load_model(&dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
    let x: Array4<f32> = ndarray_npy::read_npy(dir.join("inputs.npy")).unwrap();
    let y: Array2<f32> = ndarray_npy::read_npy(dir.join("expected.npy")).unwrap();
    let n = x.shape()[0];
    let flat = x.into_shape_with_order((n, 784)).unwrap();
    let got = ferrite_gen::golden::host::run_float_batch(&m, flat.view()).unwrap();
    let am = |v: Vec<f32>| {
        v.iter()
            .enumerate()
            .fold(0, |b, (i, &x)| if x > v[b] { i } else { b })
    };
    let mut maxdiff = 0f32;
    let mut top1 = 0;
    for i in 0..n {
        for (a, b) in got.row(i).iter().zip(y.row(i)) {
            maxdiff = maxdiff.max((a - b).abs());
        }
        top1 += usize::from(am(got.row(i).to_vec()) == am(y.row(i).to_vec()));
    }
    eprintln!("{example}/{file}: max |golden - expected| = {maxdiff:e}, top-1 {top1}/{n}");
    (maxdiff, top1, n)
}

#[test]
fn mlp_w1a1_is_bit_exact() {
    // All scales 1: every float step is exact or identically rounded.
    for f in ["model.onnx", "model_dynamo.onnx"] {
        let (d, top1, n) = compare("mlp_w1a1", f);
        assert_eq!(d, 0.0, "{f}");
        assert_eq!(top1, n, "{f}");
    }
}

#[test]
fn mlp_w4a4_float_scales_match_within_rounding() {
    // Float scales: the hardware's quantized activations equal the reference's (checked
    // against qonnx on these inputs: 8192/8192 values), the float tail differs only in
    // rounding order (|logits| < 50, so 1e-5 is a few ulps).
    for f in ["model.onnx", "model_dynamo.onnx"] {
        let (d, top1, n) = compare("mlp_w4a4", f);
        assert!(d <= 1e-5, "{f}: {d}");
        assert_eq!(top1, n, "{f}");
    }
}

#[test]
fn cnv_w2a2_reports_its_convolutions() {
    for f in ["model.onnx", "model_dynamo.onnx"] {
        let e = ferrite_gen::load_model(&examples().join("cnv_w2a2").join(f))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Conv")
                && e.contains("MaxPool")
                && e.contains("not yet supported in hardware"),
            "{e}"
        );
    }
}
