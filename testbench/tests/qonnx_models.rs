//! Real networks end to end: every QONNX network in ../shared/models (the TFC networks of
//! the FINN paper, from the QONNX model zoo) and every committed example, fully connected
//! and convolutional, is imported, built, and co-simulated on its own inputs (real images
//! and random ones) under random stalls; the RTL must equal the golden model bit for bit and
//! reach its expected cycles a frame. TFC-w1a1 is also built at FINN's published folding,
//! where the FINN cycle model gives 64 cycles a frame, and the Brevitas exports of FINN's CNV
//! at FINN's published folding (read from a FINN folding config) reach FINN's 32,768 and
//! 115,200 cycles a frame.

use ferrite_gen::cosim;
use ferrite_gen::fold::{self, FoldPlan, FoldingFile};
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

/// How to fold a network under test.
enum Folding<'a> {
    Auto,
    /// Automatic folding to a cycle target.
    Target(u64),
    Nodes(&'a [(usize, usize)]),
    Finn(&'a str),
    /// `ferrite build --target-fps` / `--fit` (a board's budget and clock).
    Goal(Box<ferrite_gen::build::BuildOptions>),
}

/// Build `dir/model.onnx` with `folds` (automatic when `None`), co-simulate its inputs at
/// `stall`, and check exactness and cycles. Returns the measured cycles a frame.
fn check(tag: &str, dir: &Path, folds: Option<&[(usize, usize)]>, stall: f64) -> f64 {
    check_with(tag, dir, folds.map_or(Folding::Auto, Folding::Nodes), stall)
}

fn check_with(tag: &str, dir: &Path, folding: Folding, stall: f64) -> f64 {
    let model_path = dir.join("model.onnx");
    let model = ferrite_gen::load_model(&model_path)
        .unwrap_or_else(|e| panic!("{}: {e}", model_path.display()));
    let p: FoldPlan = match folding {
        Folding::Nodes(f) => plan(&model, f),
        Folding::Auto => fold::auto(&model, None).unwrap(),
        Folding::Target(t) => fold::auto(&model, Some(t)).unwrap(),
        Folding::Goal(opts) => {
            ferrite_gen::build::plan_for(&model, &opts).unwrap_or_else(|e| panic!("{tag}: {e}"))
        }
        Folding::Finn(json) => {
            FoldPlan::from_file(&model, &FoldingFile::parse(json).unwrap(), "finn.json")
                .unwrap_or_else(|e| panic!("{tag}: {e}"))
        }
    };
    let frames = cosim::frames_from_npy(&model, &dir.join("inputs.npy"))
        .unwrap_or_else(|e| panic!("{tag}: {e}"));
    assert!(frames.len() >= 8, "{tag}: the fixture holds its inputs");

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
    let r = run(&out, &model, &frames, &b.options(stall, 11, false))
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

#[test]
fn example_cnv_w2a2() {
    check("ex_cnv_w2a2", &example("cnv_w2a2"), None, 0.3);
}

#[test]
fn example_cnn_pad_w4a4() {
    check("ex_cnn_pad_w4a4", &example("cnn_pad_w4a4"), None, 0.3);
}

#[test]
fn example_kws_conv1d_w3a3() {
    check("ex_kws_conv1d_w3a3", &example("kws_conv1d_w3a3"), None, 0.3);
}

/// FINN's published CNV foldings as FINN folding configs: MVAU PE/SIMD, each convolution's
/// ConvolutionInputGenerator at its MVAU's SIMD, the max pools at the producing MVAU's PE.
fn finn_cnv_config(mv: &[(usize, usize); 9]) -> String {
    let mut cfg = serde_json::Map::new();
    for (i, (pe, simd)) in mv.iter().enumerate() {
        cfg.insert(
            format!("MVAU_hls_{i}"),
            serde_json::json!({"PE": pe, "SIMD": simd, "ram_style": "auto", "resType": "lut"}),
        );
        if i < 6 {
            cfg.insert(
                format!("ConvolutionInputGenerator_rtl_{i}"),
                serde_json::json!({"SIMD": simd, "ram_style": "distributed"}),
            );
        }
    }
    cfg.insert(
        "StreamingMaxPool_hls_0".into(),
        serde_json::json!({"PE": mv[1].0}),
    );
    cfg.insert(
        "StreamingMaxPool_hls_1".into(),
        serde_json::json!({"PE": mv[3].0}),
    );
    cfg.insert(
        "Defaults".into(),
        serde_json::json!({"mem_mode": ["internal_decoupled", ["MVAU_hls"]]}),
    );
    serde_json::Value::Object(cfg).to_string()
}

#[test]
fn cnv_w1a1_brevitas_at_finn_folding_runs_32768_cycles_a_frame() {
    let cfg = finn_cnv_config(&[
        (16, 3),
        (32, 32),
        (16, 32),
        (16, 32),
        (4, 32),
        (1, 32),
        (1, 4),
        (1, 8),
        (5, 1),
    ]);
    let m = check_with(
        "ex_cnv_w1a1_finn",
        &example("cnv_w1a1_finn"),
        Folding::Finn(&cfg),
        0.0,
    );
    assert_eq!(m, 32_768.0);
}

#[test]
fn cnv_w2a2_brevitas_at_finn_folding_runs_115200_cycles_a_frame() {
    let cfg = finn_cnv_config(&[
        (8, 3),
        (16, 16),
        (8, 16),
        (8, 16),
        (4, 8),
        (1, 8),
        (1, 2),
        (2, 2),
        (5, 1),
    ]);
    let m = check_with(
        "ex_cnv_w2a2_finn",
        &example("cnv_w2a2_finn"),
        Folding::Finn(&cfg),
        0.0,
    );
    assert_eq!(m, 115_200.0);
}

/// A branching example at the automatic folding and at the fastest one, and so across
/// about ten times in speed: all bit-exact under stalls and at their analytic cycles a frame
/// (the FIFOs on the shortcut branches sized by stitch's analysis). The fastest folding runs
/// every window generator as a parallel window (one pixel in a cycle, padding free): one
/// input pixel a cycle, H*W cycles a frame. The standard window generator's floor on the
/// single-channel input is H*W*K*K; when the automatic folding is faster than 8x the
/// fastest (it may use parallel windows itself), a folding ten times slower than the
/// fastest is run too.
fn check_branching(name: &str) {
    let dir = example(name);
    let model = ferrite_gen::load_model(&dir.join("model.onnx")).unwrap();
    let auto = fold::auto(&model, None)
        .unwrap()
        .exp_cycles_per_frame(&model);
    let at_auto = check_with(&format!("ex_{name}"), &dir, Folding::Auto, 0.3);
    assert_eq!(at_auto, auto as f64);
    let [h, w, _] = model.analyze().unwrap().in_types[0][0].shape;
    let pixels = (h * w) as u64;
    let fast = check_with(
        &format!("ex_{name}_fast"),
        &dir,
        Folding::Target(pixels),
        0.3,
    );
    assert_eq!(fast, pixels as f64, "{name}: one input pixel a cycle");
    let slow = if at_auto >= 8.0 * fast {
        at_auto
    } else {
        check_with(
            &format!("ex_{name}_slow"),
            &dir,
            Folding::Target(10 * pixels),
            0.3,
        )
    };
    assert!(
        slow >= 8.0 * fast,
        "{name}: {fast} cycles a frame at the fastest folding, {slow} at the slow one"
    );
}

#[test]
fn example_resnet_w4a4_at_two_foldings() {
    check_branching("resnet_w4a4");
}

#[test]
fn example_mobilenet_w4a4_at_two_foldings() {
    check_branching("mobilenet_w4a4");
}

#[test]
fn example_inception_w4a4_at_two_foldings() {
    check_branching("inception_w4a4");
}

/// The options of `ferrite build --board B [--fit] [--target-fps F]`.
fn goal(board: &str, fit: bool, fps: Option<f64>) -> Folding<'static> {
    let boards = ferrite_gen::boards::load(None).unwrap();
    let board = ferrite_gen::boards::find(&boards, board).unwrap().clone();
    Folding::Goal(Box::new(ferrite_gen::build::BuildOptions {
        board: Some(board),
        fit,
        target_fps: fps,
        ..Default::default()
    }))
}

/// `--target-fps` reaches its rate in co-simulation: TFC-w1a1 at 1 M frames/s on the
/// Pynq-Z1's 100 MHz (100 cycles a frame, FINN's folding runs 64) and at 200 k frames/s.
#[test]
fn tfc_w1a1_target_fps_reaches_its_rate() {
    for (fps, cycles) in [(1_000_000.0, 100.0), (200_000.0, 500.0)] {
        let measured = check_with(
            &format!("tfc_w1a1_fps{fps}"),
            &shared("TFC_1W1A"),
            goal("pynq-z1", false, Some(fps)),
            0.3,
        );
        assert!(
            measured <= cycles,
            "{fps} frames/s: {measured} cycles a frame, needs {cycles}"
        );
        // the cheapest plan meeting the rate is not needlessly fast
        assert!(
            measured > cycles / 4.0,
            "{fps} frames/s: {measured} cycles a frame"
        );
    }
}

/// CNV-w1a1 at FINN's measured rate (3,052 frames/s at 100 MHz: 32,768 cycles a frame).
#[test]
fn cnv_w1a1_target_fps_reaches_finns_rate() {
    let measured = check_with(
        "cnv_w1a1_fps",
        &example("cnv_w1a1_finn"),
        goal("pynq-z1", false, Some(3052.0)),
        0.3,
    );
    assert!(measured <= 32_766.0, "{measured} cycles a frame");
}

/// The bundled example folded with `--fit --board icebreaker` stays exact and reaches its
/// cycles (the open-flow test places and routes the same folding).
#[test]
fn example_mlp_w1a1_fit_icebreaker() {
    check_with(
        "ex_mlp_w1a1_ice",
        &example("mlp_w1a1"),
        goal("icebreaker", true, None),
        0.3,
    );
}
