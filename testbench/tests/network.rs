//! Whole networks: bit-exact under stalls, the pipeline runs at its slowest layer, and the
//! checker can fail: a corrupted `.mem` or golden model gives reported mismatches, and
//! `--trace` names the layer whose weights were corrupted.

use ferrite_gen::cosim;
use ferrite_gen::fold::FoldPlan;
use ferrite_gen::ir::{DataType, Model};
use ferrite_testbench::{
    Bench, Rng, copy_build, corrupt_mem, describe, exp_cycles, label_select_layer, model, mv_layer,
    plan, run, thresholding_layer,
};
use std::path::PathBuf;

use DataType::{Bipolar, Int, UInt};

const FRAMES: usize = 64;

fn bench() -> Bench {
    Bench::new(env!("CARGO_TARGET_TMPDIR"))
}

/// Three matrix-vector layers; layer 1 is the slowest (64 cycles a frame).
fn mlp3() -> (Model, FoldPlan) {
    let mut rng = Rng::new(77);
    let m = model(
        "mlp3",
        vec![
            mv_layer(&mut rng, "fc0", 64, 32, Bipolar, Bipolar, Some(Bipolar)),
            mv_layer(&mut rng, "fc1", 32, 16, Bipolar, Bipolar, Some(UInt(2))),
            mv_layer(&mut rng, "fc2", 16, 10, UInt(2), Int(3), None),
        ],
    );
    let p = plan(&m, &[(4, 16), (1, 8), (5, 4)]);
    (m, p)
}

/// Matrix-vector, thresholding, label-select.
fn mv_thr_top() -> (Model, FoldPlan) {
    let mut rng = Rng::new(78);
    let fc = mv_layer(&mut rng, "fc", 24, 12, UInt(3), Int(4), None);
    let acc = fc.output_type();
    let m = model(
        "mv_thr_top",
        vec![
            fc,
            thresholding_layer(&mut rng, "act", 12, 12, acc, UInt(4), false),
            label_select_layer("top", 12, 2, UInt(4)),
        ],
    );
    let p = plan(&m, &[(3, 6), (2, 1), (3, 1)]);
    (m, p)
}

fn build(tag: &str, m: &Model, p: &FoldPlan) -> PathBuf {
    bench()
        .build_dir(tag, m, p)
        .unwrap_or_else(|e| panic!("{tag}: {e:#}"))
}

fn check_network(tag: &str, m: &Model, p: &FoldPlan) {
    let b = bench();
    let dir = build(tag, m, p);
    let slowest = (0..m.nodes.len())
        .map(|i| exp_cycles(m, p, i))
        .max()
        .unwrap();
    assert_eq!(p.exp_cycles_per_frame(m), slowest);
    for (k, stall) in [0.0, 0.3, 0.7].into_iter().enumerate() {
        let seed = 50 + k as u64;
        let frames = cosim::random_frames(m, FRAMES, seed);
        let r = run(&dir, m, &frames, &b.options(stall, seed, false))
            .unwrap_or_else(|e| panic!("{tag}: {e:#}"));
        assert_eq!(r.mismatches, 0, "{tag}: {}", describe(&r));
        assert_eq!(
            r.cycles_per_frame_measured,
            slowest as f64,
            "{tag}: the pipeline must run at its slowest layer: {}",
            describe(&r)
        );
    }
}

#[test]
fn three_layer_mlp_is_exact_and_runs_at_its_slowest_layer() {
    let (m, p) = mlp3();
    check_network("mlp3", &m, &p);
}

#[test]
fn matrix_vector_thresholding_label_select_chain() {
    let (m, p) = mv_thr_top();
    check_network("mv_thr_top", &m, &p);
}

#[test]
fn trace_matches_every_layer_of_a_clean_design() {
    let (m, p) = mlp3();
    let b = bench();
    let dir = build("mlp3", &m, &p);
    let frames = cosim::random_frames(&m, 32, 5);
    let r = run(&dir, &m, &frames, &b.options(0.3, 5, true)).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(r.passed(), "{}: {:?}", describe(&r), r.first_divergence);
    for l in &r.nodes {
        assert_eq!(l.mismatches, Some(0), "{}", l.name);
        // In a pipeline every layer runs at the rate of the slowest.
        assert_eq!(
            l.cycles_per_frame_measured,
            Some(p.exp_cycles_per_frame(&m) as f64),
            "layer {}",
            l.name
        );
    }
}

#[test]
fn a_corrupted_mem_file_is_reported() {
    let (m, p) = mlp3();
    let b = bench();
    let clean = build("mlp3", &m, &p);
    let dir = b.root.join("builds").join("mlp3-corrupt-l2-w");
    copy_build(&clean, &dir).unwrap();
    corrupt_mem(&dir, 2, "_w.mem").unwrap();
    let frames = cosim::random_frames(&m, 16, 9);
    let r = run(&dir, &m, &frames, &b.options(0.0, 9, false)).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        r.mismatches > 0,
        "corrupted weights went unnoticed: {}",
        describe(&r)
    );
    assert!(!r.passed());
    assert!(!r.first_mismatches.is_empty());
}

#[test]
fn a_corrupted_threshold_file_is_reported() {
    let (m, p) = mlp3();
    let b = bench();
    let clean = build("mlp3", &m, &p);
    let dir = b.root.join("builds").join("mlp3-corrupt-l0-t");
    copy_build(&clean, &dir).unwrap();
    corrupt_mem(&dir, 0, "_t.mem").unwrap();
    let frames = cosim::random_frames(&m, 64, 10);
    let r = run(&dir, &m, &frames, &b.options(0.0, 10, false)).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        r.mismatches > 0,
        "corrupted thresholds went unnoticed: {}",
        describe(&r)
    );
}

#[test]
fn a_corrupted_golden_model_is_reported() {
    let (m, p) = mlp3();
    let b = bench();
    let dir = build("mlp3", &m, &p);
    // The RTL is right; the reference is wrong: flip one weight of the last layer.
    let mut wrong = m.clone();
    let ferrite_gen::ir::Op::MatrixVector(l) = &mut wrong.nodes[2].op else {
        unreachable!()
    };
    l.weights[0] = if l.weights[0] == 0 { 1 } else { 0 };
    let frames = cosim::random_frames(&m, 16, 11);
    let r =
        run(&dir, &wrong, &frames, &b.options(0.0, 11, false)).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        r.mismatches > 0,
        "a wrong golden model went unnoticed: {}",
        describe(&r)
    );
    let first = &r.first_mismatches[0];
    assert_eq!(
        first.element, 0,
        "only output 0 depends on weight [0][0]: {first:?}"
    );
}

#[test]
fn trace_names_the_layer_with_corrupted_weights() {
    let (m, p) = mlp3();
    let b = bench();
    let clean = build("mlp3", &m, &p);
    let dir = b.root.join("builds").join("mlp3-corrupt-l1-w");
    copy_build(&clean, &dir).unwrap();
    corrupt_mem(&dir, 1, "_w.mem").unwrap();
    let frames = cosim::random_frames(&m, 16, 12);
    let r = run(&dir, &m, &frames, &b.options(0.3, 12, true)).unwrap_or_else(|e| panic!("{e:#}"));
    let d = r
        .first_divergence
        .as_ref()
        .unwrap_or_else(|| panic!("no divergence found: {}", describe(&r)));
    assert_eq!((d.index, d.node.as_str(), d.port), (1, "fc1", 0), "{d:?}");
    assert_eq!(r.nodes[0].mismatches, Some(0), "layer 0 is intact");
    assert!(r.nodes[1].mismatches.unwrap() > 0);
}

#[test]
fn a_missing_mem_file_is_an_error() {
    let (m, p) = mlp3();
    let b = bench();
    let clean = build("mlp3", &m, &p);
    let dir = b.root.join("builds").join("mlp3-missing-l1-w");
    copy_build(&clean, &dir).unwrap();
    let mem = corrupt_mem(&dir, 1, "_w.mem").unwrap();
    std::fs::remove_file(&mem).unwrap();
    let frames = cosim::random_frames(&m, 4, 13);
    let e = run(&dir, &m, &frames, &b.options(0.0, 13, false)).unwrap_err();
    let msg = format!("{e:#}");
    assert!(
        msg.contains("$readmem file not found") && msg.contains("_l01_"),
        "{msg}"
    );
}
