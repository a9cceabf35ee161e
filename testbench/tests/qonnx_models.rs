//! Real networks end to end: every QONNX network in ../shared/models (the TFC networks of
//! the FINN paper, from the QONNX model zoo) and every committed fully-connected example is
//! imported, built, and co-simulated on its own inputs (real MNIST images and random ones)
//! under random stalls; the RTL must equal the golden model bit for bit and reach its
//! expected cycles a frame. TFC-w1a1 is also built at FINN's published folding, where the
//! FINN cycle model gives 64 cycles a frame.

use ferrite_gen::cosim;
use ferrite_gen::fold::{self, FoldPlan};
use ferrite_gen::golden::host;
use ferrite_testbench::{Bench, describe, plan, run};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared(name: &str) -> PathBuf {
    root().join("../shared/models").join(name)
}

fn example(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

/// Build `dir/model.onnx` with `folds` (automatic when `None`), co-simulate its inputs at
/// `stall`, and check exactness and cycles. Returns the measured cycles a frame.
fn check(tag: &str, dir: &Path, folds: Option<&[(usize, usize)]>, stall: f64) -> f64 {
    let model_path = dir.join("model.onnx");
    let model = ferrite_gen::load_model(&model_path)
        .unwrap_or_else(|e| panic!("{}: {e}", model_path.display()));
    let p: FoldPlan = match folds {
        Some(f) => plan(&model, f),
        None => fold::auto(&model, None).unwrap(),
    };
    let frames = cosim::frames_from_npy(&model, &dir.join("inputs.npy"))
        .unwrap_or_else(|e| panic!("{tag}: {e}"));
    assert_eq!(frames.len(), 64, "{tag}: the fixture holds 64 inputs");

    // The hardware frames are what the host steps make of the float inputs.
    let x: Vec<f32> = {
        let arr: ndarray::ArrayD<f32> =
            ndarray_npy::read_npy(dir.join("inputs.npy")).expect("float inputs");
        arr.iter()
            .copied()
            .take(host::input_elems(&model))
            .collect()
    };
    assert_eq!(
        host::run_pre(&model, &x).unwrap(),
        frames[0],
        "{tag}: frame 0"
    );

    let b = Bench::new(env!("CARGO_TARGET_TMPDIR"));
    let out = b.build_dir(tag, &model, &p).unwrap();
    let r = run(&out, &model, &p, &frames, &b.options(stall, 11, false))
        .unwrap_or_else(|e| panic!("{tag}: {e:#}"));
    assert_eq!(r.mismatches, 0, "{tag}: {}", describe(&r));
    assert!(r.passed(), "{tag}: {}", describe(&r));
    assert_eq!(
        r.cycles_per_frame_measured,
        p.exp_cycles_per_frame(&model) as f64,
        "{tag}: {}",
        describe(&r)
    );
    r.cycles_per_frame_measured
}

/// FINN's published folding of TFC (PE/SIMD 16/49, 8/8, 8/8, 10/8).
const FINN_TFC: [(usize, usize); 4] = [(16, 49), (8, 8), (8, 8), (10, 8)];

#[test]
fn tfc_w1a1_at_finn_folding_runs_64_cycles_a_frame() {
    let measured = check("tfc_w1a1_finn", &shared("TFC_1W1A"), Some(&FINN_TFC), 0.3);
    assert_eq!(measured, 64.0);
}

#[test]
fn tfc_w2a2_auto_folding() {
    check("tfc_w2a2", &shared("TFC_2W2A"), None, 0.7);
}

#[test]
fn tfc_w2a2_at_finn_folding() {
    check("tfc_w2a2_finn", &shared("TFC_2W2A"), Some(&FINN_TFC), 0.0);
}

#[test]
fn example_mlp_w1a1() {
    check("ex_mlp_w1a1", &example("mlp_w1a1"), None, 0.3);
}

#[test]
fn example_mlp_w4a4() {
    check("ex_mlp_w4a4", &example("mlp_w4a4"), None, 0.3);
}
