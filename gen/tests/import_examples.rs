//! The Brevitas exports in `examples/` (current exporters: opset 20, IR 9/10, domain
//! qonnx.custom_op.general, Gemm with float bias, per-channel float weight scales, learned
//! float activation scales, TorchScript and dynamo variants) against their `expected.npy`
//! from the qonnx reference executor.

use ndarray::{Array2, ArrayD};
use std::path::PathBuf;

fn examples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples"))
}

/// Max abs difference and top-1 agreement of golden vs expected.
fn compare(example: &str, file: &str) -> (f32, usize, usize) {
    let dir = examples().join(example);
    let m = ferrite_gen::load_model(&dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
    let x: ArrayD<f32> = ndarray_npy::read_npy(dir.join("inputs.npy")).unwrap();
    let y: Array2<f32> = ndarray_npy::read_npy(dir.join("expected.npy")).unwrap();
    let n = x.shape()[0];
    let frame: usize = x.shape()[1..].iter().product();
    // The model takes the frames in their NCHW (NCW) layout as .npy holds them.
    assert_eq!(m.input().logical_shape().iter().product::<usize>(), frame);
    let flat = x.into_shape_with_order((n, frame)).unwrap();
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

/// Convolutional examples: the quantized activations equal qonnx's, so the float outputs
/// differ from the reference only by the float rounding of the tail (a few ulps of logits
/// below 100) and top-1 agrees on every frame.
fn check_cnn(example: &str, file: &str, tol: f32) {
    let (d, top1, n) = compare(example, file);
    assert!(d <= tol, "{example}/{file}: max difference {d}");
    assert_eq!(top1, n, "{example}/{file}");
}

#[test]
fn cnv_w2a2_matches_qonnx() {
    for f in ["model.onnx", "model_dynamo.onnx"] {
        check_cnn("cnv_w2a2", f, 1e-5);
    }
}

#[test]
fn cnn_pad_w4a4_matches_qonnx() {
    for f in ["model.onnx", "model_dynamo.onnx"] {
        check_cnn("cnn_pad_w4a4", f, 1e-5);
    }
}

#[test]
fn kws_conv1d_w3a3_matches_qonnx() {
    for f in ["model.onnx", "model_dynamo.onnx"] {
        check_cnn("kws_conv1d_w3a3", f, 1e-5);
    }
}

#[test]
fn resnet_mobilenet_and_inception_match_qonnx() {
    // both exporters; the dynamo one writes the global pool as a ReduceMean
    for e in ["resnet_w4a4", "mobilenet_w4a4", "inception_w4a4"] {
        for f in ["model.onnx", "model_dynamo.onnx"] {
            check_cnn(e, f, 1e-5);
        }
    }
}

#[test]
fn resnet_and_mobilenet_lower_to_branches_and_depthwise_units() {
    let kinds = |e: &str| -> Vec<&'static str> {
        let m = ferrite_gen::load_model(&examples().join(e).join("model.onnx"))
            .unwrap_or_else(|err| panic!("{e}: {err}"));
        m.analyze().unwrap_or_else(|err| panic!("{e}: {err}"));
        m.nodes.iter().map(|n| n.kind()).collect()
    };
    let count = |k: &[&str], w: &str| k.iter().filter(|x| **x == w).count();
    let r = kinds("resnet_w4a4");
    // two residual adds, each fed by a duplicate of the block input
    assert_eq!((count(&r, "Add"), count(&r, "Duplicate")), (2, 2), "{r:?}");
    assert_eq!(count(&r, "MatrixVector"), 7, "{r:?}");
    let m = kinds("mobilenet_w4a4");
    assert_eq!(count(&m, "VectorVector"), 3, "{m:?}");
    // pointwise convolutions need no window generator: 3 depthwise + stem + pool
    assert_eq!(count(&m, "SlidingWindow"), 5, "{m:?}");
    // the 1x1 and 3x3 branches of one tensor, concatenated along the channels
    for f in ["model.onnx", "model_dynamo.onnx"] {
        let m = ferrite_gen::load_model(&examples().join("inception_w4a4").join(f)).unwrap();
        m.analyze().unwrap();
        let i: Vec<&str> = m.nodes.iter().map(|n| n.kind()).collect();
        assert_eq!(
            (count(&i, "Concat"), count(&i, "Duplicate")),
            (1, 1),
            "{f}: {i:?}"
        );
        let cat = m.nodes.iter().find(|n| n.kind() == "Concat").unwrap();
        let ferrite_gen::ir::Op::Concat(c) = &cat.op else {
            unreachable!()
        };
        assert_eq!(c.channels, [8, 8], "{f}");
    }
}

#[test]
fn cnv_finn_topologies_are_bit_exact() {
    // Scales 1 (weights) and constant activation ranges: every step is exact.
    for e in ["cnv_w1a1_finn", "cnv_w2a2_finn"] {
        let (d, top1, n) = compare(e, "model.onnx");
        assert_eq!(d, 0.0, "{e}");
        assert_eq!(top1, n, "{e}");
    }
}

/// The lowered node list of each convolutional example: names in stream order, kinds,
/// origins naming the ONNX nodes.
#[test]
fn cnn_examples_lower_to_streaming_nodes() {
    let kinds = |e: &str| -> Vec<String> {
        let m = ferrite_gen::load_model(&examples().join(e).join("model.onnx"))
            .unwrap_or_else(|err| panic!("{e}: {err}"));
        for (i, n) in m.nodes.iter().enumerate() {
            assert!(n.name.starts_with(&format!("l{i:02}_")), "{e}: {}", n.name);
            assert!(n.origin.is_some(), "{e}: {} has no origin", n.name);
        }
        m.nodes.iter().map(|n| n.name.clone()).collect()
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        kinds("cnv_w2a2"),
        s(&[
            "l00_swg", "l01_mvu", "l02_swg", "l03_mvu", "l04_swg", "l05_pool", "l06_mvu", "l07_mvu"
        ])
    );
    assert_eq!(
        kinds("cnn_pad_w4a4"),
        s(&[
            "l00_swg", "l01_mvu", "l02_swg", "l03_mvu", "l04_swg", "l05_pool", "l06_swg",
            "l07_mvu", "l08_swg", "l09_pool", "l10_mvu"
        ])
    );
    assert_eq!(
        kinds("kws_conv1d_w3a3"),
        s(&[
            "l00_swg", "l01_mvu", "l02_swg", "l03_pool", "l04_swg", "l05_mvu", "l06_swg",
            "l07_mvu", "l08_swg", "l09_pool", "l10_mvu"
        ])
    );
    let finn = kinds("cnv_w1a1_finn");
    assert_eq!(
        finn.iter().filter(|n| n.ends_with("_mvu")).count(),
        9,
        "{finn:?}"
    );
    assert_eq!(
        finn.iter().filter(|n| n.ends_with("_pool")).count(),
        2,
        "{finn:?}"
    );
}

/// Automatic folding balances both sides of every branch: at each cycle target every node,
/// on the long side (convolutions) and the short side (shortcut, projection) of each
/// residual add alike, meets the target unless its fastest fold cannot.
#[test]
fn automatic_folding_balances_both_sides_of_each_branch() {
    use ferrite_gen::engines::engine;
    use ferrite_gen::fold::{self, Fold};
    for e in ["resnet_w4a4", "mobilenet_w4a4", "inception_w4a4"] {
        let m = ferrite_gen::load_model(&examples().join(e).join("model.onnx")).unwrap();
        let a = m.analyze().unwrap();
        let auto = fold::auto(&m, None).unwrap().exp_cycles_per_frame(&m);
        for target in [auto, 3 * auto, 10 * auto] {
            let plan = fold::auto(&m, Some(target)).unwrap();
            let mut worst = 0;
            for (id, n) in m.nodes.iter().enumerate() {
                let eng = engine(&n.op);
                let ins = &a.in_types[id];
                let c = eng.exp_cycles(ins, plan.fold(&n.name));
                // the node's own floor: its fastest legal fold
                let (pes, simds) = eng.fold_space(ins);
                let floor = pes
                    .iter()
                    .flat_map(|&p| simds.iter().map(move |&s| Fold::new(p, s)))
                    .filter(|&f| eng.fold_check(ins, f).is_ok())
                    .map(|f| eng.exp_cycles(ins, f))
                    .min()
                    .unwrap();
                assert!(
                    c <= target.max(floor),
                    "{e} at {target}: {} takes {c} cycles (floor {floor})",
                    n.name
                );
                worst = worst.max(c);
            }
            assert_eq!(worst, plan.exp_cycles_per_frame(&m), "{e}");
            // the slowest node is close to the target: no side folded far faster than needed
            if target > auto {
                assert!(worst * 2 > target, "{e}: {worst} cycles at target {target}");
            }
        }
    }
}
