//! `ferrite build` through the real binary: output layout, replacement rules, determinism
//! and clear errors (non-zero exit, no panic) on bad input.

mod common;

use common::*;
use ferrite_gen::ir::DataType;
use std::path::Path;
use std::process::{Command, Output};

fn ferrite(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("ferrite runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// Fails unless the command failed cleanly with every `needles` in its message.
fn expect_error(o: &Output, needles: &[&str]) {
    let (out, err) = text(o);
    assert!(!o.status.success(), "expected failure; stdout: {out}");
    assert!(
        !err.contains("panicked"),
        "panic instead of an error: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "error should mention `{n}`: {err}");
    }
}

fn mlp_json() -> String {
    let mut r = rng(5);
    let l0 = mvu(
        &mut r,
        "fc0",
        16,
        12,
        DataType::Bipolar,
        DataType::Bipolar,
        Some((DataType::Bipolar, false)),
    );
    let l1 = mvu(
        &mut r,
        "fc1",
        12,
        4,
        DataType::Bipolar,
        DataType::Bipolar,
        None,
    );
    let t = l1.output_type();
    let l2 = label_select("top", 4, 1, t);
    model("mlp", vec![l0, l1, l2]).to_json()
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for e in walk(dir) {
        let rel = e.strip_prefix(dir).unwrap().display().to_string();
        v.push((rel, std::fs::read(&e).unwrap()));
    }
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn builds_the_output_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("mlp.json"), mlp_json()).unwrap();
    let o = ferrite(&["build", "mlp.json", "-o", "out"], d);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("folding: auto"), "{stdout}");
    assert!(stdout.contains("expected cycles a frame:"), "{stdout}");
    let out = d.join("out");
    for f in [
        "model.json",
        "design.json",
        "folding.json",
        "report.json",
        ".ferrite-out",
        "rtl/mlp_top.v",
        "rtl/mlp_l00_mvu.v",
        "rtl/mlp_l00_mvu_w.mem",
        "rtl/mlp_l00_mvu_t.mem",
        "rtl/mlp_l01_mvu.v",
        "rtl/mlp_l02_label_select.v",
        "rtl/mlp_skid.v",
        "rtl/mlp_fifo.v",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(report["nodes"][0]["mw"], 16);
    assert_eq!(report["nodes"][0]["acc_type"], "INT6");
    assert_eq!(report["nodes"][1]["output_type"], "INT5");
    assert!(report["exp_cycles_per_frame"].as_u64().unwrap() >= 1);
    // 16x12 bipolar weights, at least 2 ROM words; 12 thresholds in the popcount domain
    assert!(report["nodes"][0]["weight_rom_bits"].as_u64().unwrap() >= 192);
    assert!(report["nodes"][0]["threshold_rom_bits"].as_u64().unwrap() >= 12);
    assert_eq!(report["nodes"][1]["threshold_rom_bits"], 0);
    assert!(
        report["folding"]["how"]
            .as_str()
            .unwrap()
            .starts_with("auto")
    );
    let inserted = report["inserted"].as_array().unwrap();
    assert_eq!(
        inserted.iter().filter(|n| n["role"] == "fifo").count(),
        3,
        "{inserted:?}"
    );
    // the design manifest names every engine, FIFO and stream, and reads back
    let design = ferrite_gen::outdir::OutDir::new(&out)
        .load_design()
        .unwrap();
    assert_eq!(design.engines().count(), 3);
    assert_eq!(design.top, "mlp_top");
    assert!(design.edges.iter().all(|e| !e.wire.is_empty()));
    // the IR written is the model, and the folding file builds the same design again
    let back = ferrite_gen::ir::Model::load_json(&out.join("model.json")).unwrap();
    assert_eq!(back.to_json(), mlp_json());
    let o = ferrite(
        &[
            "build",
            "out/model.json",
            "-o",
            "out2",
            "--folding",
            "out/folding.json",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(
        std::fs::read(out.join("rtl/mlp_top.v")).unwrap(),
        std::fs::read(d.join("out2/rtl/mlp_top.v")).unwrap()
    );
}

#[test]
fn same_input_same_bytes_and_replacement() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("mlp.json"), mlp_json()).unwrap();
    assert!(
        ferrite(
            &["build", "mlp.json", "-o", "a", "--target-cycles", "12"],
            d
        )
        .status
        .success()
    );
    assert!(
        ferrite(
            &["build", "mlp.json", "-o", "b", "--target-cycles", "12"],
            d
        )
        .status
        .success()
    );
    let (a, b) = (files_of(&d.join("a")), files_of(&d.join("b")));
    assert!(a.len() > 8);
    assert_eq!(a, b, "two builds of the same model differ");
    // a file ferrite did not write makes OUT not ferrite's: refused, named, untouched
    std::fs::write(d.join("a/rtl/stale.v"), "stale").unwrap();
    let o = ferrite(
        &["build", "mlp.json", "-o", "a", "--target-cycles", "48"],
        d,
    );
    assert!(!o.status.success());
    assert!(text(&o).1.contains("rtl/stale.v"), "{}", text(&o).1);
    assert!(d.join("a/rtl/stale.v").exists());
    std::fs::remove_file(d.join("a/rtl/stale.v")).unwrap();
    // a ferrite OUT (with what cosim adds) is replaced; nothing is left beside it
    std::fs::write(d.join("a/cosim.json"), "{}").unwrap();
    let o = ferrite(
        &["build", "mlp.json", "-o", "a", "--target-cycles", "48"],
        d,
    );
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(!d.join("a/cosim.json").exists());
    let report = std::fs::read_to_string(d.join("a/report.json")).unwrap();
    assert!(report.contains("meeting 48 cycles"), "{report}");
    let mut names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names, vec!["a", "b", "mlp.json"]);
}

#[test]
fn refuses_a_directory_that_is_not_ferrites() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("mlp.json"), mlp_json()).unwrap();
    std::fs::create_dir(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/thesis.tex"), "precious").unwrap();
    let o = ferrite(&["build", "mlp.json", "-o", "mine"], d);
    expect_error(
        &o,
        &[
            "mine",
            "not written by ferrite",
            "choose another output directory",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(d.join("mine/thesis.tex")).unwrap(),
        "precious"
    );
    std::fs::write(d.join("afile"), "x").unwrap();
    expect_error(
        &ferrite(&["build", "mlp.json", "-o", "afile"], d),
        &["afile"],
    );
}

#[test]
fn bad_inputs_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("mlp.json"), mlp_json()).unwrap();
    // not JSON
    std::fs::write(d.join("bad.json"), "{ not json").unwrap();
    expect_error(
        &ferrite(&["build", "bad.json", "-o", "o1"], d),
        &["bad.json"],
    );
    // missing file
    expect_error(
        &ferrite(&["build", "nope.json", "-o", "o1"], d),
        &["nope.json"],
    );
    // shapes that do not chain
    let mut v: serde_json::Value = serde_json::from_str(&mlp_json()).unwrap();
    v["nodes"][1]["op"]["mw"] = 13.into();
    std::fs::write(d.join("chain.json"), v.to_string()).unwrap();
    expect_error(&ferrite(&["build", "chain.json", "-o", "o1"], d), &["fc1"]);
    // a width out of range
    let mut v: serde_json::Value = serde_json::from_str(&mlp_json()).unwrap();
    v["nodes"][0]["op"]["input_type"] = "INT12".into();
    v["inputs"][0]["tensor"]["dtype"] = "INT12".into();
    std::fs::write(d.join("wide.json"), v.to_string()).unwrap();
    expect_error(
        &ferrite(&["build", "wide.json", "-o", "o1"], d),
        &["fc0", "INT12"],
    );
    // PE that does not divide MH
    std::fs::write(
        d.join("f.json"),
        r#"{"layers": {"fc0": {"pe": 5, "simd": 4}}}"#,
    )
    .unwrap();
    expect_error(
        &ferrite(&["build", "mlp.json", "-o", "o1", "--folding", "f.json"], d),
        &["fc0", "PE 5 does not divide MH 12"],
    );
    // unknown layer, malformed folding file
    std::fs::write(
        d.join("u.json"),
        r#"{"layers": {"fc9": {"pe": 1, "simd": 1}}}"#,
    )
    .unwrap();
    expect_error(
        &ferrite(&["build", "mlp.json", "-o", "o1", "--folding", "u.json"], d),
        &["fc9"],
    );
    std::fs::write(d.join("m.json"), r#"{"layers": [1, 2]}"#).unwrap();
    expect_error(
        &ferrite(&["build", "mlp.json", "-o", "o1", "--folding", "m.json"], d),
        &["m.json"],
    );
    // nothing was written by the failed builds
    assert!(!d.join("o1").exists());
}
