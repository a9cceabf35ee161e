//! `ferrite build` + `ferrite cosim` through the real binary: a passing run writes
//! cosim.json and exits 0; a corrupted `.mem` exits non-zero; `--input` reads integer and
//! float `.npy` files and rejects bad ones with a clear error.

use ndarray::{Array2, Array3};
use ndarray_npy::WriteNpyExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cosim_cli")
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

/// `ferrite build` of the bundled random BNN (784-64-64-10 + top-1) into `dir`.
fn build(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    let model = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/bnn_mlp_random/model.json"
    );
    let o = ferrite(&["build", model, "-o", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", show(&o));
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("cosim.json")).expect("cosim.json written");
    serde_json::from_str(&text).expect("cosim.json is JSON")
}

#[test]
fn cosim_passes_then_catches_a_corrupted_mem() {
    let dir = root().join("bnn");
    build(&dir);
    let d = dir.to_str().unwrap();
    let o = ferrite(&[
        "cosim", d, "--random", "24", "--stall", "0.3", "--seed", "7",
    ]);
    assert!(o.status.success(), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("PASS"), "{out}");
    let r = report(&dir);
    assert_eq!(r["frames"], 24);
    assert_eq!(r["mismatches"], 0);
    assert_eq!(r["stall"], 0.3);
    assert_eq!(r["seed"], 7);
    assert_eq!(
        r["cycles_per_frame_measured"].as_f64().unwrap(),
        r["cycles_per_frame_expected"].as_f64().unwrap(),
        "{r}"
    );
    assert!(r["latency_cycles"].as_u64().unwrap() > 0);
    // the same run again: the same cosim.json but for its timing section
    let o = ferrite(&[
        "cosim", d, "--random", "24", "--stall", "0.3", "--seed", "7",
    ]);
    assert!(o.status.success(), "{}", show(&o));
    let strip = |mut v: serde_json::Value| {
        v.as_object_mut()
            .unwrap()
            .remove("timing_nondeterministic")
            .expect("the timing section");
        v
    };
    assert_eq!(strip(report(&dir)), strip(r.clone()));

    // Integer frames from a file (int8, shape (N, 784)): +1/-1.
    let x = Array2::<i8>::from_shape_fn(
        (5, 784),
        |(i, j)| if (i * 7 + j * 3) % 5 < 2 { 1 } else { -1 },
    );
    let npy = root().join("x_i8.npy");
    x.write_npy(std::fs::File::create(&npy).unwrap()).unwrap();
    let o = ferrite(&["cosim", d, "--input", npy.to_str().unwrap()]);
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(report(&dir)["frames"], 5);

    // Float frames of integral bipolar values are accepted (no host pre-steps: exact values).
    let xf =
        Array3::<f32>::from_shape_fn(
            (3, 28, 28),
            |(i, r, c)| if (i + r + c) % 2 == 0 { 1.0 } else { -1.0 },
        );
    let npyf = root().join("x_f32.npy");
    xf.write_npy(std::fs::File::create(&npyf).unwrap()).unwrap();
    let o = ferrite(&["cosim", d, "--input", npyf.to_str().unwrap()]);
    assert!(o.status.success(), "{}", show(&o));

    // A value that is not of the input type, and a wrong shape: clean errors.
    let bad = Array2::<i64>::from_elem((2, 784), 0);
    let npyb = root().join("x_bad.npy");
    bad.write_npy(std::fs::File::create(&npyb).unwrap())
        .unwrap();
    let o = ferrite(&["cosim", d, "--input", npyb.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("BIPOLAR") && !err.contains("panicked"),
        "{}",
        show(&o)
    );
    let short = Array2::<i64>::from_elem((2, 100), 1);
    short
        .write_npy(std::fs::File::create(&npyb).unwrap())
        .unwrap();
    let o = ferrite(&["cosim", d, "--input", npyb.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("784"), "{}", show(&o));

    // Corrupt the first layer's weights: mismatches, non-zero exit, cosim.json says so.
    let mem = std::fs::read_dir(dir.join("rtl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_str().unwrap().ends_with("_l00_mvu_w.mem"))
        .expect("layer 0 weights");
    let text = std::fs::read_to_string(&mem).unwrap();
    let flipped: String = text
        .lines()
        .map(|l| {
            let (h, t) = l.split_at(l.len() - 1);
            format!("{h}{:x}\n", u8::from_str_radix(t, 16).unwrap() ^ 1)
        })
        .collect();
    std::fs::write(&mem, flipped).unwrap();
    let o = ferrite(&["cosim", d, "--random", "24"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("FAIL"),
        "{}",
        show(&o)
    );
    assert!(report(&dir)["mismatches"].as_u64().unwrap() > 0);
}

#[test]
fn cosim_errors_are_clean() {
    let o = ferrite(&["cosim", "/nonexistent/out", "--random", "3"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("model.json") && !err.contains("panicked"),
        "{}",
        show(&o)
    );
    let o = ferrite(&["cosim", "/nonexistent/out"]);
    assert!(
        !o.status.success(),
        "either --input or --random is required"
    );
}

/// Paths with spaces, quotes and non-ASCII characters work for build and cosim (Verilator
/// reads copies of the sources from a path without white space), and `--stall -0.5` and a
/// huge `--random` are clear errors.
#[test]
fn paths_with_spaces_and_unicode_and_bad_flags() {
    let dir = root().join("a dir with spaces 'q' é").join("o ü");
    build(&dir);
    let d = dir.to_str().unwrap();
    let o = ferrite(&["cosim", d, "--random", "6", "--stall", "0.2"]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("PASS"),
        "{}",
        show(&o)
    );
    let o = ferrite(&["cosim", d, "--random", "2", "--stall", "-0.5"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a probability"),
        "{}",
        show(&o)
    );
    let o = ferrite(&["cosim", d, "--random", "1000000000"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("run fewer frames"),
        "{}",
        show(&o)
    );
}

/// A design.json that is not what model.json and its folds give (edited by hand) is
/// refused, naming it, before anything is simulated.
#[test]
fn an_edited_design_manifest_is_refused() {
    let dir = root().join("edited");
    build(&dir);
    let path = dir.join("design.json");
    let mut d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    d["input"]["lanes"] = 8.into();
    std::fs::write(&path, d.to_string()).unwrap();
    let o = ferrite(&["cosim", dir.to_str().unwrap(), "--random", "2", "--trace"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("design.json") && err.contains("rebuild"),
        "{}",
        show(&o)
    );
    assert!(!err.contains("panicked"), "{}", show(&o));
}
