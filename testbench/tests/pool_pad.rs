//! Pool and pad engines, golden vs RTL, bit-exact: every configuration is rendered (engine
//! plus skid buffer), linted (`verilator --lint-only -Wall` with no warning, Yosys
//! `hierarchy -check`, `iverilog -g2005`), built with Verilator and fed random frames back to
//! back (plus an all-max and an all-min frame) under 0 %, 30 % and 70 % input idles and
//! output backpressure. Outputs must equal the golden model exactly and the steady-state
//! cycles a frame at 0 % stall must equal `exp_cycles`. The grid covers each axis (mode,
//! datatype, positions, channels and lanes; pads per side, 1-D, pad values) rather than the
//! cross product, to keep Verilator builds few. One test shows a wrong golden model is
//! caught.

use ferrite_gen::engines::pad::Pad;
use ferrite_gen::engines::pool::{Pool, PoolMode};
use ferrite_gen::ir::DataType;
use ferrite_rtl::Template;
use ferrite_sim::{Beats, BuildSpec, Model, StreamOptions, StreamPorts, build};
use ferrite_testbench::{Bench, Rng};
use std::path::PathBuf;
use std::process::Command;

use DataType::{Binary, Bipolar, Int, UInt};
use PoolMode::{Max, Sum};

const FRAMES: usize = 16;
const STALLS: [f64; 3] = [0.0, 0.3, 0.7];

/// A golden model of one frame.
type Golden = Box<dyn Fn(&[i64]) -> Vec<i64>>;

/// One rendered engine and what the test needs to drive and check it.
struct Case {
    tag: String,
    module: String,
    dir: PathBuf,
    files: Vec<PathBuf>,
    in_type: DataType,
    in_lanes: usize,
    in_len: usize,
    out_type: DataType,
    out_lanes: usize,
    out_beats: usize,
    exp_cycles: u64,
    golden: Golden,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// Write the engine and the skid buffer under a fixed folder for `tag` (stable paths keep
/// the Verilator cache warm across runs).
fn write(tag: &str, module: &str, engine: String) -> (PathBuf, Vec<PathBuf>) {
    let dir = root().join("pool_pad").join(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let skid = format!("{module}_skid");
    let skid_text = ferrite_rtl::Skid {
        module: skid.clone(),
        header: vec![format!("{skid}: test skid buffer")],
    }
    .render()
    .unwrap();
    let files = vec![
        dir.join(format!("{module}.v")),
        dir.join(format!("{skid}.v")),
    ];
    for (path, mut text) in files.iter().zip([engine, skid_text]) {
        // askama drops the final newline; emit adds it back
        if !text.ends_with('\n') {
            text.push('\n');
        }
        if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(path, text).unwrap();
        }
    }
    (dir, files)
}

fn pool_case(tag: &str, p: Pool) -> Case {
    p.check().unwrap_or_else(|e| panic!("{tag}: {e}"));
    let module = format!("tpp_{tag}");
    let header = vec![
        format!("{module}: pool engine under test"),
        format!("{p:?}"),
        format!("estimated cycles a frame: {}", p.exp_cycles()),
    ];
    let text = p
        .context(&module, header, &format!("{module}_skid"))
        .render()
        .unwrap();
    let (dir, files) = write(tag, &module, text);
    let g = p.clone();
    Case {
        tag: tag.into(),
        module,
        dir,
        files,
        in_type: p.input_type,
        in_lanes: p.pe,
        in_len: p.outputs * p.positions * p.channels,
        out_type: p.out_type(),
        out_lanes: p.pe,
        out_beats: p.out_beats(),
        exp_cycles: p.exp_cycles(),
        golden: Box::new(move |x| g.golden(x)),
    }
}

fn pad_case(tag: &str, p: Pad) -> Case {
    p.check().unwrap_or_else(|e| panic!("{tag}: {e}"));
    let module = format!("tpp_{tag}");
    let header = vec![
        format!("{module}: pad engine under test"),
        format!("{p:?}"),
        format!("estimated cycles a frame: {}", p.exp_cycles()),
    ];
    let text = p
        .context(&module, header, &format!("{module}_skid"))
        .render()
        .unwrap();
    let (dir, files) = write(tag, &module, text);
    let g = p.clone();
    Case {
        tag: tag.into(),
        module,
        dir,
        files,
        in_type: p.elem_type,
        in_lanes: p.simd,
        in_len: p.height * p.width * p.channels,
        out_type: p.out_type(),
        out_lanes: p.simd,
        out_beats: p.out_beats(),
        exp_cycles: p.exp_cycles(),
        golden: Box::new(move |x| g.golden(x)),
    }
}

// ---- lint ----

fn tool_output(o: std::io::Result<std::process::Output>, tool: &str) -> (bool, String) {
    let o = o.unwrap_or_else(|e| {
        panic!("`{tool}` does not run ({e}): apt-get install -y verilator yosys iverilog")
    });
    let text = String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
    (o.status.success(), text)
}

/// Verilator `-Wall`, Yosys elaboration and Icarus (Verilog-2005) with no warning.
fn lint(c: &Case) -> Result<(), String> {
    let (ok, text) = tool_output(
        Command::new("verilator")
            .args(["--lint-only", "-Wall", "--top-module", &c.module])
            .args(&c.files)
            .output(),
        "verilator",
    );
    if !ok || text.contains("%Warning") || text.contains("%Error") {
        return Err(format!("verilator -Wall:\n{text}"));
    }
    let files: Vec<String> = c.files.iter().map(|f| f.display().to_string()).collect();
    let script = format!(
        "read_verilog -defer {}; hierarchy -check -top {}; proc",
        files.join(" "),
        c.module
    );
    let (ok, text) = tool_output(
        Command::new("yosys")
            .args(["-q", "-p", &script])
            .current_dir(&c.dir)
            .output(),
        "yosys",
    );
    if !ok || text.to_lowercase().contains("warning") {
        return Err(format!("yosys:\n{text}"));
    }
    let (ok, text) = tool_output(
        Command::new("iverilog")
            .args(["-g2005", "-Wall", "-o"])
            .arg(c.dir.join("icarus.vvp"))
            .args(["-s", &c.module])
            .args(&c.files)
            .output(),
        "iverilog",
    );
    if !ok || !text.trim().is_empty() {
        return Err(format!("iverilog -g2005:\n{text}"));
    }
    Ok(())
}

// ---- streams ----

fn pack(values: &[i64], dt: DataType, lanes: usize) -> Beats {
    let bits = dt.bits() as usize;
    let words = (lanes * bits).div_ceil(32).max(1);
    let mut beats = Beats::new(words);
    for beat in values.chunks(lanes) {
        let mut w = vec![0u32; words];
        for (i, &v) in beat.iter().enumerate() {
            let code = dt.encode(v);
            for b in 0..bits {
                if code >> b & 1 == 1 {
                    let at = i * bits + b;
                    w[at / 32] |= 1 << (at % 32);
                }
            }
        }
        beats.push(&w);
    }
    beats
}

fn unpack(beats: &Beats, dt: DataType, lanes: usize) -> Vec<i64> {
    let bits = dt.bits() as usize;
    let mut out = Vec::new();
    for beat in beats.iter() {
        for i in 0..lanes {
            let mut code = 0u64;
            for b in 0..bits {
                let at = i * bits + b;
                code |= u64::from(beat[at / 32] >> (at % 32) & 1) << b;
            }
            out.push(dt.decode(code));
        }
    }
    out
}

/// Frames of random values, with frame 1 all at the type's maximum and frame 2 at its
/// minimum (the extremes of a sum).
fn frames(c: &Case, n: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|f| {
            (0..c.in_len)
                .map(|_| match f {
                    1 => c.in_type.max(),
                    2 => c.in_type.min(),
                    _ => rng.value(c.in_type),
                })
                .collect()
        })
        .collect()
}

/// Cycles between frame completions (the last output beat of a frame) over the second half
/// of the run, as `ferrite cosim` measures them.
fn steady_state(out_stamps: &[u64], per_frame: usize) -> f64 {
    let done: Vec<u64> = out_stamps
        .chunks(per_frame)
        .filter(|c| c.len() == per_frame)
        .map(|c| c[per_frame - 1])
        .collect();
    assert!(done.len() >= 4, "too few frames to measure");
    let from = (done.len() / 2).min(done.len() - 2);
    let last = done.len() - 1;
    (done[last] - done[from]) as f64 / (last - from) as f64
}

fn sim_model(c: &Case) -> Model {
    let spec = BuildSpec {
        sources: c.files.clone(),
        top: c.module.clone(),
        ports: vec![],
        args: vec![],
        cache_dir: Some(Bench::new(root()).cache()),
    };
    build(&spec).unwrap_or_else(|e| panic!("{}: verilator build: {e}", c.tag))
}

fn ports() -> StreamPorts {
    StreamPorts {
        clk: "clk".into(),
        rst: Some("rst".into()),
        rst_active_low: false,
        reset_cycles: 4,
        settle_cycles: 0,
        input: "s_axis_in".into(),
        output: "m_axis_out".into(),
    }
}

/// Stream `FRAMES` frames at one stall level; compare with `golden` frame by frame. Returns
/// the measured steady-state cycles a frame.
fn stream(
    c: &Case,
    m: &Model,
    stall: f64,
    seed: u64,
    golden: &dyn Fn(&[i64]) -> Vec<i64>,
) -> Result<f64, String> {
    let frames = frames(c, FRAMES, seed);
    let flat: Vec<i64> = frames.concat();
    let input = pack(&flat, c.in_type, c.in_lanes);
    let mut sim = m.instantiate(seed).map_err(|e| e.to_string())?;
    let opts = StreamOptions {
        in_stall: stall,
        out_stall: stall,
        seed,
        idle_limit: 10_000,
        ..StreamOptions::default()
    };
    let run = sim
        .stream(&ports(), &input, c.out_beats * FRAMES, &opts)
        .map_err(|e| format!("stall {stall}: {e}"))?;
    let got = unpack(&run.output, c.out_type, c.out_lanes);
    let per_frame = got.len() / FRAMES;
    for (f, x) in frames.iter().enumerate() {
        let want = golden(x);
        let have = &got[f * per_frame..(f + 1) * per_frame];
        if want != have {
            let k = (0..want.len()).find(|&k| want[k] != have[k]).unwrap_or(0);
            return Err(format!(
                "stall {stall}: frame {f} differs from the golden model at element {k} \
                 (expected {}, got {})",
                want[k], have[k]
            ));
        }
    }
    Ok(steady_state(&run.out_stamps, c.out_beats))
}

/// Lint, build, stream under every stall level, check outputs and cycles.
fn check(c: &Case) -> Result<(), String> {
    lint(c)?;
    let m = sim_model(c);
    for (k, stall) in STALLS.into_iter().enumerate() {
        let seed = 100 + k as u64;
        let measured = stream(c, &m, stall, seed, &*c.golden)?;
        if stall == 0.0 && measured != c.exp_cycles as f64 {
            return Err(format!(
                "steady state {measured} cycles a frame, exp_cycles says {}",
                c.exp_cycles
            ));
        }
    }
    Ok(())
}

fn check_all(cases: Vec<Case>) {
    let n = cases.len();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check(c).err().map(|e| format!("{}: {e}", c.tag)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {n} configurations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn pool(
    outputs: usize,
    positions: usize,
    channels: usize,
    pe: usize,
    mode: PoolMode,
    t: DataType,
) -> Pool {
    Pool {
        outputs,
        positions,
        channels,
        pe,
        mode,
        input_type: t,
    }
}

fn type_tag(t: DataType) -> String {
    t.to_string().to_lowercase()
}

fn pool_cases(mode: PoolMode) -> Vec<Case> {
    // (outputs, positions, channels, pe, type): every type, positions 1/4/9/49/64,
    // channels 1/3/16/64 with pe from 1 to all of them.
    let grid: &[(usize, usize, usize, usize, DataType)] = match mode {
        Max => &[
            (3, 4, 16, 4, Bipolar),
            (1, 64, 16, 16, Binary),
            (5, 9, 3, 3, Int(2)),
            (2, 1, 16, 2, UInt(2)),
            (1, 49, 64, 1, Int(4)),
            (4, 9, 1, 1, UInt(4)),
            (2, 64, 16, 8, Int(8)),
            (3, 4, 64, 64, UInt(8)),
            (2, 9, 3, 1, Bipolar),
        ],
        Sum => &[
            (2, 9, 3, 1, Bipolar),
            (4, 49, 1, 1, Binary),
            (1, 64, 64, 8, Int(2)),
            (3, 4, 64, 64, UInt(2)),
            (6, 4, 3, 3, Int(4)),
            (2, 1, 3, 1, UInt(4)),
            (1, 64, 64, 16, Int(8)),
            (2, 9, 16, 4, UInt(8)),
            (2, 1, 16, 16, Bipolar),
        ],
    };
    grid.iter()
        .map(|&(no, np, c, pe, t)| {
            let m = if mode == Max { "max" } else { "sum" };
            let tag = format!("pool_{m}_{}_o{no}_p{np}_c{c}_pe{pe}", type_tag(t));
            pool_case(&tag, pool(no, np, c, pe, mode, t))
        })
        .collect()
}

#[test]
fn pool_max() {
    check_all(pool_cases(Max));
}

#[test]
fn pool_sum() {
    check_all(pool_cases(Sum));
}

fn pad(
    (h, w, c, simd): (usize, usize, usize, usize),
    (top, bottom, left, right): (usize, usize, usize, usize),
    t: DataType,
    value: i64,
) -> Pad {
    Pad {
        height: h,
        width: w,
        channels: c,
        simd,
        pad_top: top,
        pad_bottom: bottom,
        pad_left: left,
        pad_right: right,
        value,
        elem_type: t,
    }
}

type PadRow = (
    (usize, usize, usize, usize),
    (usize, usize, usize, usize),
    DataType,
    i64,
);

fn pad_cases(grid: &[PadRow]) -> Vec<Case> {
    grid.iter()
        .map(|&(dims, pads, t, v)| {
            let (h, w, c, s) = dims;
            let (pt, pb, pl, pr) = pads;
            let tag = format!(
                "pad_{}_{h}x{w}x{c}_s{s}_{pt}{pb}{pl}{pr}_v{}",
                type_tag(t),
                if v < 0 {
                    format!("m{}", -v)
                } else {
                    v.to_string()
                }
            );
            pad_case(&tag, pad(dims, pads, t, v))
        })
        .collect()
}

#[test]
fn pad_2d() {
    // (h, w, c, simd), (top, bottom, left, right), type, pad value
    check_all(pad_cases(&[
        ((4, 4, 1, 1), (1, 1, 1, 1), Int(4), 0),
        ((3, 5, 3, 1), (0, 2, 1, 3), Int(8), -5),
        ((5, 3, 16, 4), (3, 0, 2, 0), UInt(4), 7),
        ((2, 2, 64, 64), (2, 3, 3, 2), Int(2), -2),
        ((3, 3, 16, 2), (1, 0, 0, 1), UInt(2), 0),
        ((6, 4, 3, 3), (0, 0, 0, 0), UInt(8), 200),
        ((4, 3, 32, 8), (0, 1, 0, 2), Bipolar, 1),
        ((2, 6, 4, 2), (2, 1, 0, 0), Binary, 0),
        ((1, 1, 1, 1), (1, 2, 3, 0), UInt(4), 5),
    ]));
}

#[test]
fn pad_1d() {
    check_all(pad_cases(&[
        ((1, 8, 8, 8), (0, 0, 2, 1), Bipolar, -1),
        ((1, 16, 64, 16), (0, 0, 0, 3), Binary, 1),
        ((1, 5, 2, 1), (0, 0, 3, 0), Int(4), 3),
        ((1, 7, 3, 1), (0, 0, 1, 1), Int(8), 0),
    ]));
}

/// The checker is not vacuous: a golden model wrong in one element of one frame, and a pad
/// golden with left and right swapped, are caught.
#[test]
fn a_wrong_golden_is_caught() {
    let c = pool_case(
        "pool_max_int4_o3_p4_c16_pe4",
        pool(3, 4, 16, 4, Max, Int(4)),
    );
    let m = sim_model(&c);
    stream(&c, &m, 0.3, 7, &*c.golden).expect("the right golden model passes");
    let first = frames(&c, 1, 7).remove(0);
    let off_by_one = |x: &[i64]| {
        let mut y = (c.golden)(x);
        if x == first.as_slice() {
            let k = y.len() - 1;
            y[k] = if y[k] == 7 { 6 } else { y[k] + 1 };
        }
        y
    };
    let e = stream(&c, &m, 0.3, 7, &off_by_one).unwrap_err();
    assert!(
        e.contains("frame 0 differs") && e.contains("element 47"),
        "{e}"
    );

    let p = pad((3, 4, 2, 1), (1, 0, 2, 1), UInt(2), 3);
    let c = pad_case("pad_uint2_3x4x2_s1_1021_v3", p.clone());
    let m = sim_model(&c);
    stream(&c, &m, 0.0, 9, &*c.golden).expect("the right golden model passes");
    let swapped = Pad {
        pad_left: p.pad_right,
        pad_right: p.pad_left,
        ..p
    };
    let e = stream(&c, &m, 0.0, 9, &|x| swapped.golden(x)).unwrap_err();
    assert!(e.contains("differs from the golden model"), "{e}");
}

/// The parameter side without RTL: output types, golden order, check messages, literals.
#[test]
fn params_golden_and_checks() {
    let p = |np, mode, t| pool(2, np, 2, 1, mode, t);
    assert_eq!(p(4, Sum, Bipolar).out_type(), Int(4));
    assert_eq!(p(1, Sum, Bipolar).out_type(), Int(2));
    assert_eq!(p(9, Sum, Binary).out_type(), UInt(4));
    assert_eq!(p(64, Sum, Int(8)).out_type(), Int(14));
    assert_eq!(p(64, Sum, UInt(8)).out_type(), UInt(14));
    assert_eq!(p(4, Max, Int(3)).out_type(), Int(3));
    // 2 outputs x 2 positions x 2 channels
    let x = [1, -3, 2, 5, -1, 0, -2, -4];
    assert_eq!(p(2, Max, Int(4)).golden(&x), [2, 5, -1, 0]);
    assert_eq!(p(2, Sum, Int(4)).golden(&x), [3, 2, -3, -4]);
    assert_eq!(p(2, Max, Int(4)).exp_cycles(), 8);
    assert_eq!(pool(3, 9, 16, 4, Max, Int(4)).exp_cycles(), 3 * 9 * 4);
    let mut bad = p(4, Max, Int(4));
    assert!(bad.check().is_ok());
    bad.pe = 3;
    let e = bad.check().unwrap_err();
    assert!(e.contains("pe 3 does not divide the 2 channels"), "{e}");
    bad.pe = 0;
    assert!(bad.check().unwrap_err().contains("pe is 0"));
    let e = pool(1, 1 << 40, 1, 1, Sum, UInt(30)).check().unwrap_err();
    assert!(e.contains("more than 62 bits"), "{e}");

    let d = pad((2, 2, 1, 1), (1, 0, 0, 1), Int(4), 0);
    assert_eq!(d.golden(&[1, 2, 3, 4]), [0, 0, 0, 1, 2, 0, 3, 4, 0]);
    assert_eq!(d.exp_cycles(), 9);
    assert_eq!(
        pad((3, 5, 16, 4), (1, 2, 3, 0), Int(4), 0).exp_cycles(),
        6 * 8 * 4
    );
    let lit = |p: Pad| p.context("m", vec![], "s").pad_beat;
    assert_eq!(lit(pad((1, 1, 3, 3), (0, 0, 1, 0), Int(3), -3)), "9'h16d");
    assert_eq!(lit(pad((1, 1, 1, 1), (0, 0, 1, 0), Bipolar, 1)), "1'h1");
    assert_eq!(lit(pad((1, 1, 4, 4), (0, 0, 1, 0), Bipolar, -1)), "4'h0");
    assert_eq!(
        lit(pad((1, 1, 2, 2), (0, 0, 1, 0), UInt(8), 240)),
        "16'hf0f0"
    );
    let mut bad = pad((2, 2, 3, 1), (1, 1, 1, 1), Int(4), 8);
    assert!(bad.check().unwrap_err().contains("outside INT4 (-8..=7)"));
    bad.value = 0;
    assert!(bad.check().is_ok());
    bad.simd = 2;
    assert!(bad.check().unwrap_err().contains("does not divide"));
    bad.simd = 1;
    bad.elem_type = Bipolar;
    assert!(bad.check().unwrap_err().contains("without 0"));
}

/// Lint only (no Verilator build), every combination of the templates' switches: mode,
/// bipolar/binary/signed/unsigned input, one or more positions, one or more channel folds;
/// for pad every pad side on or off, one or more channel folds, one or more rows.
#[test]
fn lint_sweep() {
    let mut cases = Vec::new();
    for mode in [Max, Sum] {
        for t in [Bipolar, Binary, Int(3), UInt(8)] {
            for np in [1, 2] {
                for (c, pe) in [(2, 2), (2, 1)] {
                    let m = if mode == Max { "max" } else { "sum" };
                    let tag = format!("lint_pool_{m}_{}_p{np}_c{c}_pe{pe}", type_tag(t));
                    cases.push(pool_case(&tag, pool(2, np, c, pe, mode, t)));
                }
            }
        }
    }
    let types = [Bipolar, Binary, Int(3), UInt(8)];
    for sides in 0..16usize {
        let pads = (sides & 1, sides >> 1 & 1, sides >> 2 & 1, sides >> 3 & 1);
        let (c, s) = if sides % 3 == 0 { (2, 2) } else { (2, 1) };
        let h = if sides % 5 == 0 { 1 } else { 2 };
        let t = types[sides % 4];
        let v = if t == Bipolar { 1 } else { t.max() };
        let tag = format!("lint_pad_{sides}_{}_h{h}_c{c}_s{s}", type_tag(t));
        cases.push(pad_case(&tag, pad((h, 3, c, s), pads, t, v)));
    }
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| lint(c).err().map(|e| format!("{}: {e}", c.tag)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} configurations failed lint:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
