//! The `ferrite golden` and `ferrite inspect` commands on the shared TFC models.

use ndarray::{Array2, ArrayD};
use std::path::PathBuf;
use std::process::Command;

fn models() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/models"))
}

fn ferrite(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn golden_cli_float_and_integer_paths() {
    let d = tempfile::tempdir().unwrap();
    let dir = models().join("TFC_2W2A");
    let (m, x) = (dir.join("model.onnx"), dir.join("inputs.npy"));
    let y = d.path().join("y.npy");
    let (ok, _, err) = ferrite(&[
        "golden",
        m.to_str().unwrap(),
        "--input",
        x.to_str().unwrap(),
        "--output",
        y.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let got: Array2<f32> = ndarray_npy::read_npy(&y).unwrap();
    let want: Array2<f32> = ndarray_npy::read_npy(dir.join("expected.npy")).unwrap();
    let maxdiff = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(maxdiff <= 1e-5, "{maxdiff}");

    // --hardware: the integer outputs; the same model as .json IR on the integer inputs
    // gives the same integers.
    let yh = d.path().join("yh.npy");
    let (ok, _, err) = ferrite(&[
        "golden",
        m.to_str().unwrap(),
        "--input",
        x.to_str().unwrap(),
        "--output",
        yh.to_str().unwrap(),
        "--hardware",
    ]);
    assert!(ok, "{err}");
    let hw: Array2<i64> = ndarray_npy::read_npy(&yh).unwrap();
    let model = ferrite_gen::load_model(&m).unwrap();
    let json = d.path().join("tfc.json");
    std::fs::write(&json, model.to_json()).unwrap();
    let xs: ndarray::Array4<f32> = ndarray_npy::read_npy(&x).unwrap();
    let flat = xs.into_shape_with_order((64, 784)).unwrap();
    let xi = ferrite_gen::golden::host::pre_batch(&model, flat.view()).unwrap();
    let xin = d.path().join("xi.npy");
    ndarray_npy::write_npy(&xin, &xi).unwrap();
    let yj = d.path().join("yj.npy");
    let (ok, _, err) = ferrite(&[
        "golden",
        json.to_str().unwrap(),
        "--input",
        xin.to_str().unwrap(),
        "--output",
        yj.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let hj: ArrayD<i64> = ndarray_npy::read_npy(&yj).unwrap();
    assert_eq!(hj.into_dimensionality::<ndarray::Ix2>().unwrap(), hw);
    // One reader, one rule: the float inputs given to the IR model (which keeps the host
    // pre-steps) go through them and give the same integers.
    let (ok, _, err) = ferrite(&[
        "golden",
        json.to_str().unwrap(),
        "--input",
        x.to_str().unwrap(),
        "--output",
        yj.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let hf: ArrayD<i64> = ndarray_npy::read_npy(&yj).unwrap();
    assert_eq!(hf.into_dimensionality::<ndarray::Ix2>().unwrap(), hw);
    // An integer frame out of the hardware's input range is refused with the element
    // named, never clamped.
    let mut bad = xi.clone();
    bad[[3, 5]] = 99;
    let xbad = d.path().join("xbad.npy");
    ndarray_npy::write_npy(&xbad, &bad).unwrap();
    let (ok, _, err) = ferrite(&[
        "golden",
        json.to_str().unwrap(),
        "--input",
        xbad.to_str().unwrap(),
        "--output",
        yj.to_str().unwrap(),
    ]);
    assert!(
        !ok && err.contains("frame 3 element 5 is 99, not a"),
        "{err}"
    );
}

#[test]
fn inspect_cli_lists_layers_and_host_steps() {
    let m = models().join("TFC_1W1A").join("model.onnx");
    let (ok, out, err) = ferrite(&["inspect", m.to_str().unwrap()]);
    assert!(ok, "{err}");
    for want in [
        "hardware input `input`: [1, 784] = 784 values of BIPOLAR",
        "quantize to BIPOLAR",
        "MatrixVector 784x64",
        "acc INT11 [-784, 784]; 1 thresholds x 64 rows -> BIPOLAR",
        "no activation (accumulator out)",
        "host post steps (4)",
    ] {
        assert!(out.contains(want), "missing `{want}` in\n{out}");
    }
    assert_eq!(out.matches("MatrixVector").count(), 4, "{out}");
}
