//! The report in a real browser: headless Chromium opens the page of the bundled example
//! (co-simulated, compared with its QONNX reference) and of a failing comparison (a weight
//! corrupted in a `.mem` file, co-simulated with `--trace`), takes screenshots and dumps the
//! rendered DOM; the test reads the page's text: the bottleneck is named, the verdict and
//! the first diverging node are shown. The report of FINN's CNV stays under 1 MB and loads.
//!
//! Needs Chromium (`scripts/ensure-tools.sh` installs it, or `sudo apt-get install
//! chromium`), Verilator 5 and a C++ compiler: without them the test fails, saying so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report_browser")
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ferrite(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .current_dir(dir)
        .env("FERRITE_CACHE", root().join("cache"))
        .output()
        .expect("ferrite runs")
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", show(&o));
    o
}

fn fresh(name: &str) -> PathBuf {
    let d = root().join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The Chromium binary, or a failure that says how to install it.
fn chromium() -> String {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return name.to_string();
        }
    }
    panic!(
        "headless Chromium is needed for the report's browser test and was not found \
         (tried chromium, chromium-browser, google-chrome): run scripts/ensure-tools.sh, \
         or install it, e.g. `sudo apt-get install chromium` on Debian/Ubuntu"
    );
}

/// Chromium headless on `page` with `what` (`--dump-dom` or `--screenshot=...`); stdout.
fn browse(page: &Path, what: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let o = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(what)
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(o.status.success(), "chromium failed: {}", show(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The rendered DOM's text: tags dropped, entities decoded, white space collapsed.
fn text_of(dom: &str) -> String {
    let mut out = String::with_capacity(dom.len());
    let mut in_tag = false;
    for c in dom.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Screenshot and rendered text of `dir/out/report.html`.
fn render(dir: &Path, shot: &str) -> String {
    let page = dir.join("out/report.html");
    let png = dir.join(shot);
    browse(
        &page,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1400,2400".into(),
        ],
    );
    assert!(
        std::fs::metadata(&png)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "no screenshot at {}",
        png.display()
    );
    let dom = browse(&page, &["--dump-dom".into()]);
    assert!(dom.contains("</svg>"), "the DOM has no SVG");
    text_of(&dom)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn example_report_in_a_browser() {
    chromium();
    let d = fresh("example");
    let ex = example("mlp_w1a1");
    let model = ex.join("model.onnx");
    let inputs = ex.join("inputs.npy");
    let (model, inputs) = (model.to_str().unwrap(), inputs.to_str().unwrap());
    ok(ferrite(&d, &["build", model, "-o", "out", "-q"]));
    ok(ferrite(
        &d,
        &[
            "golden",
            model,
            "--input",
            inputs,
            "--output",
            "y.npy",
            "--expected",
            ex.join("expected.npy").to_str().unwrap(),
            "--comparison",
            "out/golden.json",
        ],
    ));
    ok(ferrite(
        &d,
        &[
            "cosim", "out", "--input", inputs, "--stall", "0.3", "--report", "-q",
        ],
    ));
    let bottleneck = json(&d.join("out/report.json"))["bottleneck"]
        .as_str()
        .unwrap()
        .to_string();
    let text = render(&d, "example.png");
    for want in [
        format!("Bottleneck {bottleneck}"),
        format!("Bottleneck: {bottleneck}"),
        "PASS: 64 frames bit-exact".into(),
        "frames run 64".into(),
        "stall probability 0.3".into(),
        "seed 1".into(),
        "top-1 agrees on 64/64 frames".into(),
        "at 100 MHz (default)".into(),
        "This is a model, not a measurement".into(),
    ] {
        assert!(text.contains(&want), "the page lacks {want:?}:\n{text}");
    }
}

#[test]
fn failing_comparison_in_a_browser() {
    chromium();
    let d = fresh("failing");
    let model = example("mlp_w1a1").join("model.onnx");
    ok(ferrite(
        &d,
        &["build", model.to_str().unwrap(), "-o", "out", "-q"],
    ));
    // corrupt one weight word (one address: PE x SIMD weights, every bit inverted) of the
    // first matrix-vector node
    let mem = std::fs::read_dir(d.join("out/rtl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_str().unwrap().ends_with("_l00_mvu_w.mem"))
        .expect("the first layer's weights");
    let text = std::fs::read_to_string(&mem).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[0] = lines[0]
        .chars()
        .map(|c| std::char::from_digit(c.to_digit(16).unwrap() ^ 0xf, 16).unwrap())
        .collect();
    std::fs::write(&mem, lines.join("\n") + "\n").unwrap();
    let o = ferrite(
        &d,
        &[
            "cosim", "out", "--random", "16", "--trace", "--report", "-q",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let c = json(&d.join("out/cosim.json"));
    let node = c["first_divergence"]["node"]
        .as_str()
        .expect("a divergence")
        .to_string();
    assert!(node.starts_with("l00"), "{node}");
    let text = render(&d, "failing.png");
    for want in [
        "FAIL:".to_string(),
        format!("First diverging node: {node} (node 0, output port 0), frame"),
        "trace (every engine output compared) yes".into(),
        "frames run 16".into(),
    ] {
        assert!(text.contains(&want), "the page lacks {want:?}:\n{text}");
    }
}

/// FINN's CNV (w1a1): the page stays small and a browser loads it. Its size and Chromium's
/// time are recorded in docs/BENCHMARKS.md (time is not asserted).
#[test]
fn cnv_report_is_small_and_loads() {
    chromium();
    let d = fresh("cnv");
    let model = example("cnv_w1a1_finn").join("model.onnx");
    ok(ferrite(
        &d,
        &[
            "build",
            model.to_str().unwrap(),
            "-o",
            "out",
            "--report",
            "-q",
        ],
    ));
    let size = std::fs::metadata(d.join("out/report.html")).unwrap().len();
    assert!(size < 1_000_000, "the CNV report is {size} bytes");
    let t = std::time::Instant::now();
    let text = text_of(&browse(&d.join("out/report.html"), &["--dump-dom".into()]));
    eprintln!(
        "CNV report: {size} bytes, chromium --dump-dom {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let bottleneck = json(&d.join("out/report.json"))["bottleneck"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains(&format!("Bottleneck: {bottleneck}")),
        "{text}"
    );
}
