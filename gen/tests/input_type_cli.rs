//! Declared input datatypes (issue 10): a QKeras-style network whose float input goes
//! straight into a MatMul, compiled with `--input-type FIXED<8,3>` (golden equals an f32
//! reference of the quantized network computed here, reports agreement with the float
//! network, and the RTL equals golden in Verilator), an input annotated INT8 by a QONNX
//! `finn_datatype` annotation (checked on every frame), and the error without either.

mod import_util;

use import_util::*;
use ndarray::Array2;
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use prost::Message;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("input_type_cli")
}

fn ferrite(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .env("FERRITE_CACHE", root().join("cache"))
        .output()
        .expect("ferrite runs")
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const IN: usize = 8;
const HID: usize = 6;
const OUT: usize = 4;

/// Weights: integer levels of INT4 times 0.25.
fn weights(seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut w = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| rng.random_range(-8..=7) as f32 * 0.25)
            .collect()
    };
    (w(IN * HID), w(HID * OUT))
}

/// `x[1,8] (float) -> MatMul(Quant INT4 weights) -> Relu -> Quant UINT4 x 0.5 ->
/// MatMul(Quant INT4 weights) -> y[1,4]`, optionally with a `finn_datatype` annotation
/// on `x`.
fn qkeras_model(annotation: Option<&str>) -> Vec<u8> {
    let (w1, w2) = weights(3);
    let mut inits = vec![
        raw_f32("w1", &[IN as i64, HID as i64], &w1),
        raw_f32("w2", &[HID as i64, OUT as i64], &w2),
    ];
    let nodes = vec![
        quant(
            "w1", "w1q", 0.25, 0.0, 4.0, true, false, "ROUND", &mut inits,
        ),
        quant(
            "w2", "w2q", 0.25, 0.0, 4.0, true, false, "ROUND", &mut inits,
        ),
        node("MatMul", "", "dense", &["x", "w1q"], &["h"], vec![]),
        node("Relu", "", "relu", &["h"], &["hr"], vec![]),
        quant("hr", "a", 0.5, 0.0, 4.0, false, false, "ROUND", &mut inits),
        node("MatMul", "", "dense_1", &["a", "w2q"], &["y"], vec![]),
    ];
    let bytes = model(8, 13, ("x", &[1, IN as i64]), "y", nodes, inits);
    let Some(ty) = annotation else { return bytes };
    let mut m = ferrite_gen::import::onnx::ModelProto::decode(&bytes[..]).unwrap();
    use ferrite_gen::import::onnx::{StringStringEntryProto, TensorAnnotation};
    m.graph
        .as_mut()
        .unwrap()
        .quantization_annotation
        .push(TensorAnnotation {
            tensor_name: Some("x".into()),
            quant_parameter_tensor_names: vec![StringStringEntryProto {
                key: Some("finn_datatype".into()),
                value: Some(ty.into()),
            }],
        });
    m.encode_to_vec()
}

/// The network in f32 on one frame, its input first passed through `pre`.
fn reference(x: &[f32], pre: impl Fn(f32) -> f32) -> Vec<f32> {
    let (w1, w2) = weights(3);
    let x: Vec<f32> = x.iter().map(|&v| pre(v)).collect();
    let h: Vec<f32> = (0..HID)
        .map(|j| (0..IN).fold(0.0f32, |s, i| s + x[i] * w1[i * HID + j]))
        .collect();
    let a: Vec<f32> = h
        .iter()
        .map(|&v| (v.max(0.0) / 0.5).clamp(0.0, 15.0).round_ties_even() * 0.5)
        .collect();
    (0..OUT)
        .map(|j| (0..HID).fold(0.0f32, |s, i| s + a[i] * w2[i * OUT + j]))
        .collect()
}

/// FIXED<8,3>: integers of 8 bits times 2^-5, round half to even, saturating.
fn fixed_8_3(v: f32) -> f32 {
    (v * 32.0).round_ties_even().clamp(-128.0, 127.0) / 32.0
}

fn write(path: &Path, bytes: &[u8]) -> String {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

fn npy(path: &Path, a: &Array2<f32>) -> String {
    a.write_npy(std::fs::File::create(path).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn input_type_flag_quantizes_a_float_input_and_the_rtl_matches() {
    let dir = root().join("flag");
    let _ = std::fs::remove_dir_all(&dir);
    let model = write(&dir.join("qkeras.onnx"), &qkeras_model(None));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let frames = 40;
    let x = Array2::from_shape_fn((frames, IN), |_| rng.random_range(-5.0f32..5.0));
    let xs = npy(&dir.join("x.npy"), &x);
    let float_ref = Array2::from_shape_vec(
        (frames, OUT),
        x.rows()
            .into_iter()
            .flat_map(|r| reference(&r.to_vec(), |v| v))
            .collect(),
    )
    .unwrap();
    let refs = npy(&dir.join("ref.npy"), &float_ref);
    let ys = dir.join("y.npy");

    // without a declaration: the error names the input and both ways out
    let o = ferrite(&[
        "golden",
        &model,
        "--input",
        &xs,
        "--output",
        ys.to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(
        e.contains("`x`")
            && e.contains("dense")
            && e.contains("--input-type")
            && e.contains("finn_datatype"),
        "{e}"
    );
    assert!(!e.contains("internal error"), "{e}");

    // golden: agreement with the float network is reported, not required
    let o = ferrite(&[
        "golden",
        &model,
        "--input-type",
        "FIXED<8,3>",
        "--input",
        &xs,
        "--output",
        ys.to_str().unwrap(),
        "--expected",
        &refs,
    ]);
    assert!(o.status.success(), "{}", show(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("top-1 agrees on") && e.contains("FIXED<8,3>"),
        "{e}"
    );
    // and equals the quantized network computed here
    let y = Array2::<f32>::read_npy(std::fs::File::open(&ys).unwrap()).unwrap();
    for (r, xr) in y.rows().into_iter().zip(x.rows()) {
        assert_eq!(r.to_vec(), reference(&xr.to_vec(), fixed_8_3), "{xr}");
    }

    // build records the type; cosim needs no flag and the RTL equals golden exactly
    let out = dir.join("out");
    let o = ferrite(&[
        "build",
        &model,
        "-o",
        out.to_str().unwrap(),
        "--input-type",
        "fixed<8,3>",
    ]);
    assert!(o.status.success(), "{}", show(&o));
    let mj = std::fs::read_to_string(out.join("model.json")).unwrap();
    assert!(
        mj.contains("declared_input") && mj.contains("FIXED<8,3>"),
        "{mj}"
    );
    let o = ferrite(&[
        "cosim",
        out.to_str().unwrap(),
        "--input",
        &xs,
        "--stall",
        "0.3",
    ]);
    assert!(o.status.success(), "{}", show(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("cosim.json")).unwrap()).unwrap();
    assert_eq!(r["frames"], frames);
    assert_eq!(r["mismatches"], 0);
    // a different --input-type at cosim is refused
    let o = ferrite(&[
        "cosim",
        out.to_str().unwrap(),
        "--random",
        "2",
        "--input-type",
        "INT8",
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("FIXED<8,3>"),
        "{}",
        show(&o)
    );

    // inspect shows it
    let o = ferrite(&["inspect", &model, "--input-type", "FIXED<8,3>"]);
    assert!(o.status.success(), "{}", show(&o));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("FIXED<8,3>") && s.contains("--input-type"),
        "{s}"
    );
    // a bad TYPE is a usage error
    let o = ferrite(&["inspect", &model, "--input-type", "FIXED<8>"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("FIXED<W,I>"),
        "{}",
        show(&o)
    );
}

#[test]
fn an_annotated_input_is_its_type_checked_on_every_frame() {
    let dir = root().join("annotated");
    let _ = std::fs::remove_dir_all(&dir);
    let model = write(&dir.join("annotated.onnx"), &qkeras_model(Some("INT8")));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let x = Array2::from_shape_fn((6, IN), |_| rng.random_range(-128..=127) as f32);
    let xs = npy(&dir.join("x.npy"), &x);
    let ys = dir.join("y.npy");
    let o = ferrite(&[
        "golden",
        &model,
        "--input",
        &xs,
        "--output",
        ys.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", show(&o));
    let y = Array2::<f32>::read_npy(std::fs::File::open(&ys).unwrap()).unwrap();
    for (r, xr) in y.rows().into_iter().zip(x.rows()) {
        assert_eq!(r.to_vec(), reference(&xr.to_vec(), |v| v));
    }
    // a frame holding a value that is not INT8 is refused, naming frame and element
    let mut bad = x.clone();
    bad[[3, 2]] = 0.5;
    let bs = npy(&dir.join("bad.npy"), &bad);
    let o = ferrite(&[
        "golden",
        &model,
        "--input",
        &bs,
        "--output",
        ys.to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("frame 3") && e.contains("element 2") && e.contains("INT8"),
        "{e}"
    );
    let mut big = x.clone();
    big[[0, 0]] = 128.0;
    let bs = npy(&dir.join("big.npy"), &big);
    let o = ferrite(&[
        "golden",
        &model,
        "--input",
        &bs,
        "--output",
        ys.to_str().unwrap(),
    ]);
    assert!(!o.status.success(), "{}", show(&o));
    // a flag contradicting the annotation is an error; the same type is fine
    let o = ferrite(&["inspect", &model, "--input-type", "UINT8"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("INT8") && e.contains("annotat"),
        "{e}"
    );
    let o = ferrite(&["inspect", &model, "--input-type", "INT8"]);
    assert!(o.status.success(), "{}", show(&o));
    // an annotation ferrite does not know names the input
    let m2 = write(&dir.join("ternary.onnx"), &qkeras_model(Some("TERNARY")));
    let o = ferrite(&["inspect", &m2]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("finn_datatype") && e.contains("`x`"),
        "{e}"
    );
}

/// `--input-type` on a model that quantizes its input already is refused.
#[test]
fn input_type_on_a_quantized_input_is_refused() {
    let dir = root().join("quantized");
    let mut inits = vec![raw_f32("w", &[4, 3], &[1.0; 12])];
    let nodes = vec![
        quant("x", "xq", 0.5, 0.0, 4.0, true, false, "ROUND", &mut inits),
        quant("w", "wq", 1.0, 0.0, 2.0, true, false, "ROUND", &mut inits),
        node("MatMul", "", "fc", &["xq", "wq"], &["y"], vec![]),
    ];
    let m = write(
        &dir.join("q.onnx"),
        &model(8, 13, ("x", &[1, 4]), "y", nodes, inits),
    );
    let o = ferrite(&["inspect", &m, "--input-type", "INT8"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("xq_quant") && e.contains("--input-type"),
        "{e}"
    );
}
