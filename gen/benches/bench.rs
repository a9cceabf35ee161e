//! ferrite's benchmarks, a bench binary (`cargo bench -p ferrite-gen --bench bench`).
//! Prints one line per figure; docs/BENCHMARKS.md records the results with the machine.
//!
//! - golden model frames/s on a 784-1024-1024-1024-10 w1a1 MLP and on the TFC models
//! - generator time (load + fold + emit + write) for the same MLP

use ferrite_gen::golden::Golden;
use ferrite_gen::ir::{DataType, IR_VERSION, Layer, MatrixVector, Model, StreamInfo, Thresholds};
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
    let layers = sizes
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
            Layer::MatrixVector(MatrixVector {
                name: format!("fc{i}"),
                mw,
                mh,
                input_type: DataType::Bipolar,
                weight_type: DataType::Bipolar,
                weights,
                thresholds,
                origin: None,
            })
        })
        .collect();
    Model {
        ir_version: IR_VERSION,
        name: format!(
            "mlp_{}",
            sizes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("_")
        ),
        input: StreamInfo {
            shape: vec![sizes[0]],
            dtype: DataType::Bipolar,
        },
        layers,
        pre: vec![],
        post: vec![],
        source: None,
    }
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

fn main() {
    qonnx_networks();
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

    // Generator: the whole of `ferrite build` (IR JSON load, validate, fold, emit, report,
    // write to a temporary folder and rename into place).
    let dir = tempfile::tempdir().expect("temp dir");
    let model_path = dir.path().join("mlp.json");
    std::fs::write(&model_path, model.to_json()).expect("write model");
    let out = dir.path().join("out");
    let opts = ferrite_gen::build::BuildOptions::default();
    let gen_time = median(Duration::from_secs(3), || {
        std::hint::black_box(ferrite_gen::build::build(&model_path, &out, &opts).expect("build"));
    });
    println!(
        "generator (load + fold + emit + write) 784-1024-1024-1024-10 w1a1: {:.0} ms",
        gen_time.as_secs_f64() * 1e3
    );
    let emit_time = median(Duration::from_secs(2), || {
        let plan = ferrite_gen::fold::auto(&model, None);
        std::hint::black_box(ferrite_gen::emit::emit(&model, &plan).expect("emit"));
    });
    println!(
        "  of which fold + emit (in memory): {:.0} ms",
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
