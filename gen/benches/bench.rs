//! ferrite's benchmarks, a bench binary (`cargo bench -p ferrite-gen --bench bench`).
//! Prints one line per figure; docs/BENCHMARKS.md records the results with the machine.
//!
//! - golden model frames/s on a 784-1024-1024-1024-10 w1a1 MLP and on the TFC models
//! - generator time (load + fold + emit + write) for the same MLP
//! - FINN's CNV w1a1 at FINN's folding (`testing::cnv`): generator time by stage and for the
//!   whole build written to a folder, golden model frames/s (prepared and plain)
//!
//! Baselines outside Rust: `tools/bench_onnxruntime.py` (CNV in onnxruntime),
//! `tools/bench_qonnx.py` and `tools/bench_golden_process.py` (the qonnx executor, and
//! `ferrite golden` as a whole process against it).
//!
//! `cargo bench -p ferrite-gen --bench bench -- cnv` runs only the CNV figures (any argument
//! selects the groups whose name contains it: `qonnx`, `mlp`, `cnv-gen`, `cnv-golden`).

use ferrite_gen::golden::Golden;
use ferrite_gen::ir::{DataType, MatrixVector, Model, Op, TensorType, Thresholds};
use ferrite_gen::testing;
use std::time::{Duration, Instant};

/// Deterministic xorshift generator, so every run measures the same model.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pm1(&mut self) -> i64 {
        if self.next() & 1 == 1 { 1 } else { -1 }
    }
}

/// A w1a1 MLP of the given layer sizes with random weights and thresholds.
pub fn w1a1_mlp(sizes: &[usize], seed: u64) -> Model {
    let mut rng = Rng(seed | 1);
    let n = sizes.len() - 1;
    let nodes: Vec<(String, Op, Option<String>)> = sizes
        .windows(2)
        .enumerate()
        .map(|(i, d)| {
            let (mw, mh) = (d[0], d[1]);
            let weights = (0..mw * mh).map(|_| rng.pm1()).collect();
            let thresholds = (i + 1 < n).then(|| Thresholds {
                rows: (0..mh)
                    .map(|_| vec![(rng.next() % 33) as i64 - 16])
                    .collect(),
                out_type: DataType::Bipolar,
                out_bias: 0,
            });
            let op = Op::MatrixVector(MatrixVector {
                mw,
                mh,
                input_type: DataType::Bipolar,
                weight_type: DataType::Bipolar,
                weights,
                thresholds,
            });
            (format!("fc{i}"), op, None)
        })
        .collect();
    let name = format!(
        "mlp_{}",
        sizes
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("_")
    );
    Model::chain(
        &name,
        TensorType::vector(sizes[0], DataType::Bipolar),
        nodes,
    )
}

/// Run `f` repeatedly for at least `min` and return the median time of one call.
fn median<F: FnMut()>(min: Duration, mut f: F) -> Duration {
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed() < min || times.len() < 5 {
        let t = Instant::now();
        f();
        times.push(t.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

/// Import + lowering time and float golden frames/s of the real QONNX networks.
fn qonnx_networks() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let nets = [
        ("TFC_1W1A", root.join("../shared/models/TFC_1W1A")),
        ("TFC_2W2A", root.join("../shared/models/TFC_2W2A")),
        ("examples/mlp_w1a1", root.join("examples/mlp_w1a1")),
        ("examples/mlp_w4a4", root.join("examples/mlp_w4a4")),
        ("examples/resnet_w4a4", root.join("examples/resnet_w4a4")),
        (
            "examples/mobilenet_w4a4",
            root.join("examples/mobilenet_w4a4"),
        ),
    ];
    for (name, dir) in nets {
        let path = dir.join("model.onnx");
        if !path.exists() {
            println!("{name}: {} not found, skipped", path.display());
            continue;
        }
        let load = median(Duration::from_secs(1), || {
            std::hint::black_box(ferrite_gen::load_model(&path).expect("load"));
        });
        let model = ferrite_gen::load_model(&path).expect("load");
        let x: ndarray::ArrayD<f32> =
            ndarray_npy::read_npy(dir.join("inputs.npy")).expect("inputs");
        let (n, len) = (x.shape()[0], x.len());
        let x = x.into_shape_with_order((n, len / n)).expect("2-D");
        let per = median(Duration::from_secs(1), || {
            std::hint::black_box(
                ferrite_gen::golden::host::run_float_batch(&model, x.view()).unwrap(),
            );
        });
        println!(
            "{name}: import + streamline + lower {:.1} ms; golden float-in/float-out {:.0} frames/s ({:.1} us a frame)",
            load.as_secs_f64() * 1e3,
            n as f64 / per.as_secs_f64(),
            per.as_secs_f64() * 1e6 / n as f64
        );
    }
}

fn mlp() {
    let model = w1a1_mlp(&[784, 1024, 1024, 1024, 10], 7);
    model.validate().expect("benchmark model is valid");

    let mut rng = Rng(99);
    let frames: Vec<Vec<i64>> = (0..64)
        .map(|_| (0..784).map(|_| rng.pm1()).collect())
        .collect();

    let g = Golden::new(&model);
    let per_batch = median(Duration::from_secs(2), || {
        for f in &frames {
            std::hint::black_box(g.run_frame(f));
        }
    });
    let fps = frames.len() as f64 / per_batch.as_secs_f64();
    println!("golden (prepared) 784-1024-1024-1024-10 w1a1: {fps:.0} frames/s");

    let plain = median(Duration::from_secs(2), || {
        std::hint::black_box(ferrite_gen::golden::run_frame(&model, &frames[0]));
    });
    println!(
        "golden (plain reference) 784-1024-1024-1024-10 w1a1: {:.0} frames/s",
        1.0 / plain.as_secs_f64()
    );

    // Generator: the whole of `ferrite build` (IR JSON load, validate, fold, stitch, emit,
    // report, write to a temporary folder and rename into place).
    let dir = tempfile::tempdir().expect("temp dir");
    let model_path = dir.path().join("mlp.json");
    std::fs::write(&model_path, model.to_json()).expect("write model");
    let out = dir.path().join("out");
    let opts = ferrite_gen::build::BuildOptions::default();
    let gen_time = median(Duration::from_secs(3), || {
        std::hint::black_box(ferrite_gen::build::build(&model_path, &out, &opts).expect("build"));
    });
    println!(
        "generator (load + fold + stitch + emit + report + write) 784-1024-1024-1024-10 w1a1: {:.0} ms",
        gen_time.as_secs_f64() * 1e3
    );
    let emit_time = median(Duration::from_secs(2), || {
        let plan = ferrite_gen::fold::auto(&model, None).expect("fold");
        std::hint::black_box(ferrite_gen::build::compile(&model, &plan).expect("compile"));
    });
    println!(
        "  of which fold + stitch + emit + report (in memory): {:.0} ms",
        emit_time.as_secs_f64() * 1e3
    );

    let json = model.to_json();
    let parse = median(Duration::from_secs(1), || {
        std::hint::black_box(Model::from_json_str(&json, "bench.json").unwrap());
    });
    println!(
        "IR JSON load ({:.1} MB) 784-1024-1024-1024-10: {:.1} ms",
        json.len() as f64 / 1e6,
        parse.as_secs_f64() * 1e3
    );
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// FINN's CNV w1a1 (random weights and thresholds, `testing::cnv`, seed as in
/// testbench/tests/conv.rs) at FINN's folding.
fn cnv_w1a1() -> (Model, ferrite_gen::fold::FoldPlan) {
    testing::cnv(
        &mut testing::Rng::new(11),
        DataType::Bipolar,
        DataType::Bipolar,
        false,
    )
}

/// Generator time on CNV w1a1, by stage and in all.
fn cnv_gen() {
    let (model, plan) = cnv_w1a1();
    let tag = "CNV w1a1 at FINN's folding";

    // Generator, by stage and in all.
    let t_analyze = median(Duration::from_secs(1), || {
        std::hint::black_box(model.analyze().expect("valid"));
    });
    let t_stitch = median(Duration::from_secs(1), || {
        std::hint::black_box(ferrite_gen::stitch::stitch(&model, &plan).expect("stitch"));
    });
    let design = ferrite_gen::stitch::stitch(&model, &plan).expect("stitch");
    let t_emit = median(Duration::from_secs(1), || {
        std::hint::black_box(ferrite_gen::emit::emit(&model, &design).expect("emit"));
    });
    let files = ferrite_gen::emit::emit(&model, &design).expect("emit");
    let t_report = median(Duration::from_secs(1), || {
        std::hint::black_box(ferrite_gen::report::build_report(
            &model, &plan, &design, &files,
        ));
    });
    let t_compile = median(Duration::from_secs(2), || {
        std::hint::black_box(ferrite_gen::build::compile(&model, &plan).expect("compile"));
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let fold_file = dir.path().join("folding.json");
    std::fs::write(&fold_file, plan.to_json()).expect("write folding");
    let opts = ferrite_gen::build::BuildOptions {
        folding: Some(fold_file),
        target_cycles: None,
        input_type: None,
        board: None,
    };
    let t_build = median(Duration::from_secs(3), || {
        std::hint::black_box(
            ferrite_gen::build::build_model(model.clone(), &out, &opts).expect("build"),
        );
    });
    let bytes: usize = files.iter().map(|f| f.contents.len()).sum();
    println!(
        "generator {tag}: build_model (validate + folding file + stitch + emit + report + write) {}; \
         in memory (compile: stitch + emit + report) {}; stitch {}, emit {} ({} files, {:.1} MB), \
         report {}, one Model::analyze {}",
        ms(t_build),
        ms(t_compile),
        ms(t_stitch),
        ms(t_emit),
        files.len(),
        bytes as f64 / 1e6,
        ms(t_report),
        ms(t_analyze)
    );
}

/// Golden model frames/s on CNV w1a1, batch 1 (one frame a call).
fn cnv_golden() {
    let (model, _) = cnv_w1a1();
    let tag = "CNV w1a1";
    let mut rng = testing::Rng::new(5);
    let n_in = model.input().tensor.elems();
    let frames: Vec<Vec<i64>> = (0..16)
        .map(|_| (0..n_in).map(|_| rng.range(0, 255)).collect())
        .collect();
    let g = Golden::new(&model);
    for f in &frames {
        assert_eq!(
            g.run_frame(f),
            ferrite_gen::golden::run_frame(&model, f),
            "fast = plain"
        );
    }
    let per = median(Duration::from_secs(3), || {
        for f in &frames {
            std::hint::black_box(g.run_frame(f));
        }
    });
    println!(
        "golden (prepared) {tag}: {:.0} frames/s ({:.2} ms a frame, batch 1)",
        frames.len() as f64 / per.as_secs_f64(),
        per.as_secs_f64() * 1e3 / frames.len() as f64
    );
    let plain = median(Duration::from_secs(2), || {
        std::hint::black_box(ferrite_gen::golden::run_frame(&model, &frames[0]));
    });
    println!(
        "golden (plain reference) {tag}: {:.1} frames/s ({:.1} ms a frame)",
        1.0 / plain.as_secs_f64(),
        plain.as_secs_f64() * 1e3
    );
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments select groups by name.
    let sel: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let on = |g: &str| sel.is_empty() || sel.iter().any(|s| g.contains(s.as_str()));
    if on("qonnx") {
        qonnx_networks();
    }
    if on("mlp") {
        mlp();
    }
    if on("cnv-gen") {
        cnv_gen();
    }
    if on("cnv-golden") {
        cnv_golden();
    }
}
