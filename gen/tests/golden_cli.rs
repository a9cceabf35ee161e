//! `ferrite golden --expected/--labels` through the binary: agreement with a model's qonnx
//! reference outputs passes, a wrong reference fails, integer outputs compare exactly.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/models")
        .join(name)
}

fn golden(args: &[&str]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .arg("golden")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn compares_with_the_reference_and_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("y.npy");
    let out = out.to_str().unwrap();
    let d = shared("TFC_1W1A");
    let p = |f: &str| d.join(f).display().to_string();
    let (ok, err) = golden(&[
        &p("model.onnx"),
        "--input",
        &p("inputs.npy"),
        "--output",
        out,
        "--expected",
        &p("expected.npy"),
        "--labels",
        &p("mnist4_labels.npy"),
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("top-1 agrees on 64/64 frames"), "{err}");
    assert!(
        err.contains("top-1 accuracy on the 4 labelled frames: 4/4"),
        "{err}"
    );

    // another network's outputs are not this one's
    let other = shared("TFC_2W2A")
        .join("expected.npy")
        .display()
        .to_string();
    let (ok, err) = golden(&[
        &p("model.onnx"),
        "--input",
        &p("inputs.npy"),
        "--output",
        out,
        "--expected",
        &other,
    ]);
    assert!(!ok, "a wrong reference must fail: {err}");

    // integer outputs (the hardware part) compare exactly: against themselves they pass,
    // changed by one they fail
    let hw = tmp.path().join("hw.npy");
    let hw = hw.to_str().unwrap();
    let (ok, err) = golden(&[
        &p("model.onnx"),
        "--input",
        &p("inputs.npy"),
        "--output",
        hw,
        "--hardware",
    ]);
    assert!(ok, "{err}");
    let (ok, err) = golden(&[
        &p("model.onnx"),
        "--input",
        &p("inputs.npy"),
        "--output",
        out,
        "--hardware",
        "--expected",
        hw,
    ]);
    assert!(ok && err.contains("0 of 640 integers differ"), "{err}");
    let mut y: ndarray::Array2<i64> = ndarray_npy::read_npy(hw).unwrap();
    y[[5, 3]] += 1;
    let bad = tmp.path().join("bad.npy");
    ndarray_npy::write_npy(&bad, &y).unwrap();
    let (ok, err) = golden(&[
        &p("model.onnx"),
        "--input",
        &p("inputs.npy"),
        "--output",
        out,
        "--hardware",
        "--expected",
        bad.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("1 of 640 integers differ"), "{err}");
}
