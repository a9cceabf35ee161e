//! Issue 9 through the binary: every subcommand, given a wrong path, a bad flag or a model
//! that does not import, fails with one clear message (`error: `, a `help:` line, no
//! backtrace, no temporary path, no line twice) even under RUST_BACKTRACE=1; completions
//! and the man page; no progress output when stderr is not a terminal; `--quiet`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A folder for this test, and the binary run in it (paths in messages stay relative).
fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ferrite(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .current_dir(cwd)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .output()
        .expect("ferrite runs")
}

fn example(rel: &str) -> String {
    format!("{}/../examples/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// The checks every failure must pass; its stderr.
fn check_failure(o: &Output, args: &[&str]) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let ctx = format!("ferrite {}\nstderr:\n{err}", args.join(" "));
    assert!(!o.status.success(), "succeeded: {ctx}");
    assert!(err.starts_with("error: "), "{ctx}");
    assert!(err.lines().any(|l| l.starts_with("help: ")), "{ctx}");
    for bad in [
        "panicked",
        "stack backtrace",
        "/tmp/",
        "RUST_BACKTRACE",
        "os error",
    ] {
        assert!(!err.contains(bad), "`{bad}` in {ctx}");
    }
    let mut seen = std::collections::BTreeSet::new();
    for l in err.lines() {
        assert!(seen.insert(l), "line `{l}` twice in {ctx}");
    }
    assert!(
        String::from_utf8_lossy(&o.stdout).is_empty(),
        "stdout on failure: {ctx}"
    );
    err
}

#[test]
fn every_subcommand_fails_clearly() {
    let d = dir("cli_errors");
    std::fs::write(d.join("bad.onnx"), b"this is not protobuf \xff\xff").unwrap();
    std::fs::write(d.join("empty.onnx"), b"").unwrap();
    std::fs::write(d.join("file.txt"), b"a file").unwrap();
    // a build folder whose model.json is not a model
    std::fs::create_dir_all(d.join("badbuild")).unwrap();
    std::fs::write(d.join("badbuild/model.json"), b"{ not json").unwrap();
    let json = example("bnn_mlp_random/model.json");
    let x = example("mlp_w1a1/inputs.npy");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // wrong paths
        ("build", vec!["build", "missing.onnx", "-o", "out"]),
        (
            "build",
            vec!["build", &json, "-o", "out", "--folding", "missing.json"],
        ),
        ("build", vec!["build", &json, "-o", "file.txt"]),
        (
            "golden",
            vec!["golden", "missing.onnx", "--input", &x, "--output", "y.npy"],
        ),
        (
            "golden",
            vec![
                "golden",
                &json,
                "--input",
                "missing.npy",
                "--output",
                "y.npy",
            ],
        ),
        (
            "golden",
            vec![
                "golden",
                &json,
                "--input",
                &x,
                "--output",
                "no/such/dir/y.npy",
            ],
        ),
        ("inspect", vec!["inspect", "missing.onnx"]),
        ("inspect", vec!["inspect", "missing.json"]),
        ("cosim", vec!["cosim", "missing", "--random", "1"]),
        ("cosim", vec!["cosim", "file.txt", "--random", "1"]),
        ("report", vec!["report", "missing"]),
        ("report", vec!["report", "file.txt"]),
        ("synth", vec!["synth", "missing"]),
        ("synth", vec!["synth", "file.txt"]),
        ("man", vec!["man", "--dir", "file.txt"]),
        // bad flags
        ("build", vec!["build", &json, "-o", "out", "--bogus"]),
        ("build", vec!["build", &json]),
        (
            "build",
            vec!["build", &json, "-o", "out", "--target-cycles", "0"],
        ),
        ("golden", vec!["golden", &json, "--input", &x]),
        ("inspect", vec!["inspect", &json, "--input-type", "INT99x"]),
        ("cosim", vec!["cosim", "badbuild"]),
        (
            "cosim",
            vec!["cosim", "badbuild", "--random", "1", "--stall", "x"],
        ),
        ("report", vec!["report", "badbuild"]),
        ("report", vec!["report", "badbuild", "--format", "pdf"]),
        ("synth", vec!["synth", "badbuild"]),
        ("synth", vec!["synth", "badbuild", "--freq", "-5"]),
        ("synth", vec!["synth", "badbuild", "--board", "pynq-z7"]),
        (
            "golden",
            vec![
                "golden",
                &json,
                "--input",
                &x,
                "--output",
                "y.npy",
                "--comparison",
                "c.json",
            ],
        ),
        ("completions", vec!["completions", "tcsh"]),
        ("completions", vec!["completions"]),
        ("man", vec!["man", "--bogus"]),
        ("(none)", vec!["frobnicate"]),
        ("(none)", vec!["--quiet", "-v", "inspect", &json]),
        // models that do not import
        ("build", vec!["build", "bad.onnx", "-o", "out"]),
        ("build", vec!["build", "empty.onnx", "-o", "out"]),
        ("build", vec!["build", "file.txt", "-o", "out"]),
        (
            "golden",
            vec!["golden", "bad.onnx", "--input", &x, "--output", "y.npy"],
        ),
        ("inspect", vec!["inspect", "bad.onnx"]),
        ("inspect", vec!["inspect", "bad.onnx", "--graph"]),
        ("cosim", vec!["cosim", "badbuild", "--random", "1"]),
    ];
    for (_, args) in &cases {
        let o = ferrite(&d, args);
        check_failure(&o, args);
    }
    // nothing was written by the failures
    assert!(!d.join("out").exists());
    assert!(!d.join("y.npy").exists());
    // the headline names what failed and the file; the cause does not repeat the file
    let o = ferrite(&d, &["build", "missing.onnx", "-o", "out"]);
    let e = check_failure(&o, &[]);
    assert!(
        e.starts_with("error: cannot import the model (missing.onnx)\ncaused by: no such file or directory\nhelp: "),
        "{e}"
    );
    let o = ferrite(&d, &["inspect", "bad.onnx"]);
    let e = check_failure(&o, &[]);
    assert!(e.contains("not a valid ONNX model"), "{e}");
    // the decoder's own message only with -v
    assert!(!e.contains("Protobuf"), "{e}");
    // a bad flag: clap's message in the same style, exit code 2
    let o = ferrite(&d, &["build", &json, "-o", "out", "--bogus"]);
    let e = check_failure(&o, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        e.contains("--bogus") && e.contains("ferrite build --help"),
        "{e}"
    );
}

#[test]
fn completions_and_man_page() {
    let d = dir("cli_completions");
    for shell in ["bash", "zsh", "fish"] {
        let o = ferrite(&d, &["completions", shell]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(!s.trim().is_empty(), "{shell}");
        for sub in [
            "build",
            "golden",
            "inspect",
            "cosim",
            "report",
            "completions",
            "man",
        ] {
            assert!(s.contains(sub), "{shell} completions lack `{sub}`");
        }
        assert!(s.contains("quiet"), "{shell}");
    }
    let o = ferrite(&d, &["man"]);
    assert!(o.status.success());
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(page.contains(".TH"), "{page}");
    assert!(page.contains("cosim"), "{page}");
    let o = ferrite(&d, &["man", "--dir", "man1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for page in [
        "ferrite.1",
        "ferrite-build.1",
        "ferrite-cosim.1",
        "ferrite-report.1",
    ] {
        let t = std::fs::read_to_string(d.join("man1").join(page)).unwrap();
        assert!(t.contains(".TH"), "{page}");
    }
    // help carries examples, at the top and on every subcommand
    for args in [
        vec!["--help"],
        vec!["build", "--help"],
        vec!["golden", "--help"],
        vec!["inspect", "--help"],
        vec!["cosim", "--help"],
        vec!["report", "--help"],
        vec!["synth", "--help"],
        vec!["completions", "--help"],
        vec!["man", "--help"],
    ] {
        let o = ferrite(&d, &args);
        assert!(o.status.success());
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(s.contains("Examples:\n  ferrite "), "{args:?}: {s}");
    }
}

#[test]
fn no_progress_off_a_terminal_and_quiet_is_quiet() {
    let d = dir("cli_quiet");
    let json = example("bnn_mlp_random/model.json");
    // stderr is a pipe here: no progress bars (nor their escape codes)
    let o = ferrite(&d, &["build", &json, "-o", "out"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("expected cycles a frame"));
    // --quiet: nothing but errors
    let o = ferrite(&d, &["build", &json, "-o", "out", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{o:?}");
    assert!(d.join("out/report.json").is_file());
    let x = ndarray::Array2::<i8>::from_elem((3, 784), 1);
    ndarray_npy::WriteNpyExt::write_npy(&x, std::fs::File::create(d.join("x.npy")).unwrap())
        .unwrap();
    let o = ferrite(
        &d,
        &["golden", &json, "--input", "x.npy", "--output", "y.npy"],
    );
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("3 frames -> y.npy"));
    let o = ferrite(
        &d,
        &[
            "-q", "golden", &json, "--input", "x.npy", "--output", "y.npy",
        ],
    );
    assert!(o.status.success());
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{o:?}");
    // -v: each step with its time, on stderr
    let o = ferrite(&d, &["build", &json, "-o", "out", "-v"]);
    assert!(o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    for step in ["importing", "folding", "emitting", "writing"] {
        assert!(e.contains(step), "{e}");
    }
    // an error under --quiet is still printed
    let o = ferrite(&d, &["--quiet", "inspect", "missing.onnx"]);
    check_failure(&o, &[]);
}

/// Issue 8's goals that cannot be met: each says by how much, per resource, or the best
/// that can be had.
#[test]
fn fit_goals_that_cannot_be_met_say_by_how_much() {
    let d = dir("cli_fit_errors");
    let mlp = example("mlp_w1a1/model.onnx");
    // --fit needs a board
    let args = ["build", mlp.as_str(), "-o", "out", "--fit"];
    let e = check_failure(&ferrite(&d, &args), &args);
    assert!(e.contains("--board"), "{e}");
    // 1 % of an iCE40UP5K holds no network: every resource over is named, with how much
    let args = [
        "build",
        &mlp,
        "-o",
        "out",
        "--board",
        "icebreaker",
        "--fit",
        "--share",
        "1",
    ];
    let e = check_failure(&ferrite(&d, &args), &args);
    assert!(
        e.contains("does not fit 1 % of icebreaker even at its slowest folding"),
        "{e}"
    );
    assert!(
        e.contains("LUT ") && e.contains(" more, ") && e.contains("% over"),
        "{e}"
    );
    // a rate faster than one cycle a frame
    let args = ["build", &mlp, "-o", "out", "--target-fps", "1e12"];
    let e = check_failure(&ferrite(&d, &args), &args);
    assert!(e.contains("faster than the model can go"), "{e}");
    assert!(e.contains("frames/s at 100 MHz"), "{e}");
    // a rate the board cannot hold: the fastest that fits
    let args = [
        "build",
        &mlp,
        "-o",
        "out",
        "--board",
        "icebreaker",
        "--target-fps",
        "12000000",
        "--share",
        "50",
    ];
    let e = check_failure(&ferrite(&d, &args), &args);
    assert!(
        e.contains("1 cycles a frame does not fit 50 % of icebreaker")
            && e.contains("the fastest folding that fits takes"),
        "{e}"
    );
    // bad shares and rates are refused by the parser
    for bad in [["--share", "0"], ["--share", "150"], ["--target-fps", "-3"]] {
        let args = [
            "build",
            mlp.as_str(),
            "-o",
            "out",
            "--board",
            "pynq-z1",
            bad[0],
            bad[1],
        ];
        check_failure(&ferrite(&d, &args), &args);
    }
    assert!(!d.join("out").exists());
}
