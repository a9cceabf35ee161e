//! `ferrite report` through the real binary, without a simulator: the page is
//! self-contained (no scripts, nothing loaded from elsewhere), the same inputs give the same
//! bytes, every string from the model is escaped, the Markdown and JSON summaries carry the
//! same figures, and `ferrite golden --comparison` feeds the report's comparison.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report")
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn ferrite_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .current_dir(dir)
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

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", show(&o));
    o
}

/// A fresh folder under the test's root.
fn fresh(name: &str) -> PathBuf {
    let d = root().join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What a self-contained page must not hold.
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for bad in [
        "<script",
        "http://",
        "https://",
        "src=\"",
        "@import",
        "url(http",
        "<link",
        "@font-face",
        "<iframe",
        "<img",
    ] {
        // the SVG namespace is an identifier, not a fetch
        let n = lower.matches(bad).count()
            - if bad == "http://" {
                lower
                    .matches("xmlns=\"http://www.w3.org/2000/svg\"")
                    .count()
            } else {
                0
            };
        assert_eq!(n, 0, "the page holds {bad}");
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.ends_with("</html>\n"));
}

#[test]
fn report_is_deterministic_and_self_contained() {
    let base = fresh("determinism");
    let model = example("resnet_w4a4").join("model.onnx");
    let model = model.to_str().unwrap();
    // two builds in two folders, each into `out`: the same bytes
    let mut pages = Vec::new();
    for run in ["a", "b"] {
        let d = base.join(run);
        std::fs::create_dir_all(&d).unwrap();
        ok(ferrite_in(
            &d,
            &["build", model, "-o", "out", "--report", "-q"],
        ));
        let first = std::fs::read(d.join("out/report.html")).unwrap();
        ok(ferrite_in(&d, &["report", "out", "-q"]));
        let second = std::fs::read(d.join("out/report.html")).unwrap();
        pages.push((first, second));
    }
    let (a1, a2) = &pages[0];
    let (b1, b2) = &pages[1];
    assert!(a1 == b1, "two folders, the same build: different pages");
    assert!(a2 == b2, "two folders, the same report: different pages");
    let html = String::from_utf8(a2.clone()).unwrap();
    assert_self_contained(&html);
    // `build --report` records its own command line; the report command its own
    assert!(String::from_utf8_lossy(a1).contains("ferrite build model.onnx -o out --report -q"));
    assert!(html.contains("ferrite report out -q"));
    // no absolute path of the test's folders
    assert!(!html.contains(base.to_str().unwrap()));
    for want in [
        "Pipeline",
        "bottleneck",
        "at 100 MHz (default)",
        "l02_dup",
        "l07_add",
        "width converter",
        "FIFO",
        "Board budget: not shown",
        "This is a model, not a measurement",
        "sha256",
        "not co-simulated",
    ] {
        assert!(html.contains(want), "the page lacks {want:?}");
    }
    // a rebuild replaces the folder even though the report was added to it
    ok(ferrite_in(
        &base.join("a"),
        &["build", model, "-o", "out", "-q"],
    ));
}

#[test]
fn names_from_the_model_are_escaped() {
    let d = fresh("escape");
    let text = std::fs::read_to_string(example("bnn_mlp_random").join("model.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["name"] = "<img src=x onerror=alert(1)>".into();
    v["layers"][0]["name"] = "<script>alert('x')</script>".into();
    v["layers"][1]["name"] = "a&b\"c|`d`".into();
    v["layers"][1]["origin"] = "</td><svg onload=alert(2)>".into();
    std::fs::write(d.join("evil.json"), serde_json::to_string(&v).unwrap()).unwrap();
    ok(ferrite_in(
        &d,
        &["build", "evil.json", "-o", "out", "--report", "-q"],
    ));
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("a&amp;b&quot;c|`d`"));
    assert!(html.contains("&lt;/td&gt;&lt;svg onload=alert(2)&gt;"));
    assert!(!html.contains("onload=alert(2)>"));
    let md =
        String::from_utf8(ok(ferrite_in(&d, &["report", "out", "--format", "md"])).stdout).unwrap();
    assert!(
        !md.contains("<script") && md.contains("&lt;script&gt;"),
        "{md}"
    );
    assert!(md.contains("a&amp;b\"c\\|\\`d\\`"), "{md}");
}

#[test]
fn markdown_json_and_the_golden_comparison() {
    let d = fresh("formats");
    let ex = example("mlp_w1a1");
    let (model, inputs, expected, labels) = (
        ex.join("model.onnx"),
        ex.join("inputs.npy"),
        ex.join("expected.npy"),
        ex.join("labels.npy"),
    );
    ok(ferrite_in(
        &d,
        &["build", model.to_str().unwrap(), "-o", "out", "-q"],
    ));
    let o = ok(ferrite_in(
        &d,
        &[
            "golden",
            model.to_str().unwrap(),
            "--input",
            inputs.to_str().unwrap(),
            "--output",
            "y.npy",
            "--expected",
            expected.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
            "--comparison",
            "out/golden.json",
        ],
    ));
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/golden.json")).unwrap()).unwrap();
    assert_eq!(g["frames"], 64, "{}", show(&o));
    assert_eq!(g["top1_agree"], 64);
    assert_eq!(g["agrees"], true);
    assert_eq!(g["reference"], "expected.npy");
    assert!(g["largest_difference"].as_f64().unwrap() < 1e-3);
    assert_eq!(g["labelled"], 48);
    assert!(g["correct"].as_u64().unwrap() > 40);

    let md =
        String::from_utf8(ok(ferrite_in(&d, &["report", "out", "--format", "md"])).stdout).unwrap();
    let j: serde_json::Value = serde_json::from_slice(
        &ok(ferrite_in(
            &d,
            &["report", "out", "--format", "json", "--clock", "250"],
        ))
        .stdout,
    )
    .unwrap();
    let bottleneck = j["bottleneck"].as_str().unwrap();
    let escaped = bottleneck.replace('_', "\\_");
    assert!(md.contains(&format!("{escaped} (bottleneck)")), "{md}");
    assert!(md.contains("top-1 agrees on 64/64 frames"), "{md}");
    assert!(md.contains("at 100 MHz (default)"), "{md}");
    assert_eq!(j["clock_mhz"], 250.0);
    assert_eq!(j["clock_is_default"], false);
    let cycles = j["exp_cycles_per_frame"].as_f64().unwrap();
    assert!((j["frames_per_second"].as_f64().unwrap() - 250e6 / cycles).abs() < 1e-6);
    assert_eq!(j["golden"]["top1_agree"], 64);
    let nodes = j["nodes"].as_array().unwrap();
    let mvu = nodes.iter().find(|n| n["kind"] == "MatrixVector").unwrap();
    let r = &mvu["roofline"];
    // a 784x64 binary layer: 2 ops a MAC
    assert_eq!(
        r["ops"].as_u64().unwrap(),
        2 * r["macs"].as_u64().unwrap() + r["other_ops"].as_u64().unwrap()
    );
    assert!(r["intensity"].as_f64().unwrap() > 0.0);
    assert!(
        r["attained_ops_per_cycle"].as_f64().unwrap()
            <= r["compute_roof_ops_per_cycle"].as_f64().unwrap() + 1e-9
    );
    assert!(nodes.iter().any(|n| n["name"] == bottleneck));
    // report.json carries the same per-node figures
    let rj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    assert_eq!(rj["nodes"][0]["roofline"], j["nodes"][0]["roofline"]);
    assert_eq!(rj["default_clock_mhz"], 100.0);

    // the page shows the comparison
    ok(ferrite_in(&d, &["report", "out"]));
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(html.contains("top-1 agrees on 64/64 frames"));
}

#[test]
fn report_errors_are_clean() {
    let d = fresh("errors");
    let o = ferrite_in(&d, &["report", "nothing-here"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        err.starts_with("error: ") && err.contains("help: "),
        "{err}"
    );
    ok(ferrite_in(
        &d,
        &[
            "build",
            example("bnn_mlp_random")
                .join("model.json")
                .to_str()
                .unwrap(),
            "-o",
            "out",
            "-q",
        ],
    ));
    std::fs::write(d.join("out/cosim.json"), "{not json").unwrap();
    let o = ferrite_in(&d, &["report", "out"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        err.contains("cosim.json") && err.contains("help: "),
        "{err}"
    );
    let o = ferrite_in(&d, &["report", "out", "--clock", "0"]);
    assert!(!o.status.success(), "{}", show(&o));
}

/// `--board`: the LUT, FF, block RAM and DSP estimates on the board's family against its
/// budget, the board's clock as the default; an unknown board lists the boards.
#[test]
fn resources_against_a_board() {
    let dir = fresh("board");
    let model = example("mlp_w1a1").join("model.onnx");
    ok(ferrite_in(
        &dir,
        &["build", "-q", model.to_str().unwrap(), "-o", "out"],
    ));
    let md = ok(ferrite_in(
        &dir,
        &["report", "out", "--board", "ulx3s", "--format", "md"],
    ));
    let md = String::from_utf8_lossy(&md.stdout).into_owned();
    assert!(md.contains("estimates on ecp5"), "{md}");
    assert!(md.contains("against ulx3s's budget: LUT "), "{md}");
    assert!(md.contains("DP16KD") && md.contains(" of 208 ("), "{md}");
    assert!(md.contains("at 25 MHz"), "the board's clock: {md}");
    ok(ferrite_in(&dir, &["report", "out", "--board", "pynq-z1"]));
    let html = std::fs::read_to_string(dir.join("out/report.html")).unwrap();
    assert!(
        html.contains("Against the budget of <b>pynq-z1</b>"),
        "no budget table"
    );
    assert!(html.contains("<td>280</td>") && !html.contains("not estimated yet"));
    assert!(
        html.contains("<td class=\"l\">LUT</td>") && html.contains("<td class=\"l\">RAMB18</td>")
    );
    let o = ferrite_in(&dir, &["report", "out", "--board", "pynq-z7"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: unknown board")
            && err.contains("pynq-z1")
            && err.contains("icebreaker"),
        "{err}"
    );
}
