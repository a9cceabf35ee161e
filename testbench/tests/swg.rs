//! The sliding-window generator (`engines/swg.v`, and `engines/swg_par.v` in parallel
//! window mode) against `SwgParams::golden`, bit-exact, over kernels, strides, dilations,
//! padding, feature maps, SIMD, both modes and element types: each
//! configuration streams 16 random frames back to back on one Verilator build, under 0 %,
//! 30 % and 70 % input idles and output backpressure and under each alone; without stalls
//! its measured steady-state cycles a frame must equal `exp_cycles`. Every rendered
//! configuration also passes `verilator --lint-only -Wall`, Yosys (`hierarchy; proc`) and
//! Icarus (-g2005) and has no combinational path from the output's tready to the input's;
//! the declared window buffer must have `buffer_bits` bits.

use ferrite_gen::engines::swg::SwgParams;
use ferrite_gen::ir::DataType;
use ferrite_rtl::Template;
use ferrite_sim::{Beats, BuildSpec, Port, StreamOptions, StreamPorts};
use ferrite_testbench::Rng;
use std::path::{Path, PathBuf};
use std::process::Command;

use DataType::{Binary, Bipolar, Int, UInt};

/// (input idle, output backpressure) probabilities: none, both at 30 % and 70 %, each alone.
const STALLS: [(f64, f64); 5] = [(0.0, 0.0), (0.3, 0.3), (0.7, 0.7), (0.5, 0.0), (0.0, 0.5)];
const FRAMES: usize = 16;
const INSTALL: &str = "apt-get install verilator yosys iverilog";

#[allow(clippy::too_many_arguments)]
fn cfg(
    hw: (usize, usize),
    c: usize,
    k: (usize, usize),
    s: (usize, usize),
    d: (usize, usize),
    simd: usize,
    elem: DataType,
) -> SwgParams {
    let p = raw(hw, c, k, s, d, simd, elem);
    p.check().unwrap_or_else(|e| panic!("{p:?}: {e}"));
    p
}

/// [`cfg`] unchecked (padding comes next).
#[allow(clippy::too_many_arguments)]
fn raw(
    (h, w): (usize, usize),
    c: usize,
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
    (dh, dw): (usize, usize),
    simd: usize,
    elem: DataType,
) -> SwgParams {
    SwgParams {
        ifm_h: h,
        ifm_w: w,
        channels: c,
        k_h: kh,
        k_w: kw,
        stride_h: sh,
        stride_w: sw,
        dil_h: dh,
        dil_w: dw,
        pad: [0; 4],
        pad_value: 0,
        pe: 1,
        simd,
        elem,
    }
}

/// `p` with padding `[top, left, bottom, right]` of `value`.
fn padded(p: SwgParams, pad: [usize; 4], value: i64) -> SwgParams {
    let p = SwgParams {
        pad,
        pad_value: value,
        ..p
    };
    p.check().unwrap_or_else(|e| panic!("{p:?}: {e}"));
    p
}

/// `p` in parallel window mode: one pixel a beat in, one window a beat out.
fn par(p: SwgParams) -> SwgParams {
    let p = SwgParams {
        pe: p.k_h * p.k_w,
        simd: p.channels,
        ..p
    };
    p.check().unwrap_or_else(|e| panic!("{p:?}: {e}"));
    p
}

fn tag(p: &SwgParams) -> String {
    let e = match p.elem {
        Bipolar => "bip".to_string(),
        Binary => "bin".to_string(),
        Int(n) => format!("i{n}"),
        UInt(n) => format!("u{n}"),
    };
    let pad = if p.pad == [0; 4] {
        String::new()
    } else {
        let v = p.pad_value.to_string().replace('-', "m");
        format!("_p{}_{}_{}_{}v{v}", p.pad[0], p.pad[1], p.pad[2], p.pad[3])
    };
    format!(
        "swg_{}x{}x{}_k{}x{}_s{}x{}_d{}x{}{pad}_pe{}_simd{}_{e}",
        p.ifm_h,
        p.ifm_w,
        p.channels,
        p.k_h,
        p.k_w,
        p.stride_h,
        p.stride_w,
        p.dil_h,
        p.dil_w,
        p.pe,
        p.simd
    )
}

/// The grid: every kernel, stride, dilation, map, SIMD and type named in the design brief,
/// in few enough configurations to keep the file fast.
fn grid() -> Vec<SwgParams> {
    vec![
        // 1x1 kernels: pass-through, and stride 2 dropping rows and columns
        cfg((8, 8), 4, (1, 1), (1, 1), (1, 1), 2, Int(4)),
        cfg((7, 7), 16, (1, 1), (2, 2), (1, 1), 4, UInt(2)),
        cfg((8, 8), 1, (1, 1), (2, 2), (1, 1), 1, Binary),
        // 2x2
        cfg((8, 8), 3, (2, 2), (2, 2), (1, 1), 3, Bipolar),
        cfg((8, 8), 1, (2, 2), (1, 1), (2, 2), 1, UInt(8)),
        // 3x3: FINN's CNV layers, stride 2, dilation 2, wide beats
        cfg((32, 32), 3, (3, 3), (1, 1), (1, 1), 3, Int(2)),
        cfg((30, 30), 64, (3, 3), (1, 1), (1, 1), 32, UInt(2)),
        cfg((7, 7), 8, (3, 3), (2, 2), (1, 1), 4, Int(8)),
        cfg((13, 13), 2, (3, 3), (2, 2), (2, 2), 2, Int(4)),
        cfg((8, 8), 64, (3, 3), (1, 1), (2, 2), 64, Int(8)),
        cfg((13, 13), 4, (3, 3), (3, 3), (1, 1), 1, UInt(4)),
        // 5x5 and 7x7
        cfg((13, 13), 2, (5, 5), (1, 1), (1, 1), 1, UInt(8)),
        cfg((32, 32), 1, (5, 5), (2, 2), (1, 1), 1, UInt(2)),
        cfg((13, 13), 1, (7, 7), (1, 1), (1, 1), 1, Binary),
        cfg((13, 13), 4, (7, 7), (2, 2), (1, 1), 2, Int(2)),
        cfg((7, 7), 3, (7, 7), (1, 1), (1, 1), 1, Bipolar),
        // 1-D (H = 1) and non-square kernels, strides and dilations
        cfg((1, 21), 4, (1, 5), (1, 1), (1, 1), 4, Int(8)),
        cfg((1, 21), 2, (1, 5), (1, 2), (1, 2), 1, UInt(4)),
        cfg((7, 7), 2, (3, 1), (1, 1), (1, 1), 1, UInt(4)),
        cfg((13, 13), 1, (3, 1), (2, 2), (2, 1), 1, Int(4)),
        cfg((8, 8), 6, (2, 3), (1, 2), (1, 1), 3, Binary),
        cfg((13, 13), 1, (2, 2), (4, 4), (1, 1), 1, Int(2)),
        // padding (the writer walks the padded raster): same, stride 2, asymmetric, 1-D,
        // wider than the kernel reaches (windows of padding only)
        padded(
            raw((8, 8), 4, (3, 3), (1, 1), (1, 1), 2, Int(4)),
            [1, 1, 1, 1],
            -3,
        ),
        padded(
            raw((7, 7), 3, (3, 3), (2, 2), (1, 1), 3, UInt(4)),
            [1, 1, 1, 1],
            0,
        ),
        padded(
            raw((5, 6), 2, (5, 5), (1, 1), (1, 1), 1, Int(2)),
            [2, 0, 1, 2],
            -1,
        ),
        padded(
            raw((1, 21), 4, (1, 5), (1, 1), (1, 1), 4, Int(8)),
            [0, 2, 0, 2],
            0,
        ),
        padded(
            raw((4, 4), 1, (3, 3), (1, 1), (1, 1), 1, UInt(2)),
            [3, 3, 3, 3],
            2,
        ),
        // parallel windows: no padding, ResNet's first layer, wide pixels, stride 2,
        // asymmetric padding, dilation, 1-D, 5x5, a tiny map, bipolar and binary
        par(cfg((8, 8), 3, (3, 3), (1, 1), (1, 1), 1, Bipolar)),
        par(padded(
            raw((8, 8), 1, (3, 3), (1, 1), (1, 1), 1, UInt(4)),
            [1, 1, 1, 1],
            0,
        )),
        par(padded(
            raw((8, 8), 16, (3, 3), (1, 1), (1, 1), 1, Int(4)),
            [1, 1, 1, 1],
            -2,
        )),
        par(padded(
            raw((8, 8), 8, (3, 3), (2, 2), (1, 1), 1, UInt(4)),
            [1, 1, 1, 1],
            0,
        )),
        par(padded(
            raw((7, 7), 3, (3, 3), (2, 2), (1, 1), 1, Int(2)),
            [0, 0, 1, 1],
            1,
        )),
        par(padded(
            raw((9, 6), 2, (2, 3), (1, 1), (2, 1), 1, UInt(8)),
            [1, 1, 1, 1],
            7,
        )),
        par(padded(
            raw((1, 21), 4, (1, 5), (1, 1), (1, 1), 1, Int(8)),
            [0, 2, 0, 2],
            0,
        )),
        par(padded(
            raw((6, 7), 2, (5, 5), (1, 2), (1, 1), 1, UInt(2)),
            [2, 2, 2, 2],
            0,
        )),
        par(padded(
            raw((2, 2), 1, (3, 3), (1, 1), (1, 1), 1, Binary),
            [1, 1, 1, 1],
            0,
        )),
        // parallel edge cases (from review): every window trailing (the first window's
        // bottom-right is past the frame), trailing = H*W - 1, a 1x1 map, a stride that
        // drops the last rows and columns
        par(padded(
            raw((2, 3), 2, (3, 1), (1, 1), (1, 1), 1, UInt(4)),
            [0, 0, 1, 0],
            0,
        )),
        par(padded(
            raw((5, 5), 1, (3, 3), (1, 1), (2, 2), 1, Int(4)),
            [0, 0, 4, 4],
            -1,
        )),
        par(padded(
            raw((1, 1), 3, (3, 3), (1, 1), (1, 1), 1, UInt(2)),
            [2, 2, 0, 0],
            1,
        )),
        par(cfg((7, 6), 2, (2, 2), (3, 3), (1, 1), 1, Int(8))),
    ]
}

fn require_tool(tool: &str) {
    let ok = Command::new(tool)
        .arg("-V")
        .output()
        .map(|o| o.status.success() || !o.stdout.is_empty())
        .unwrap_or(false);
    assert!(ok, "`{tool}` is not installed: {INSTALL}");
}

/// A rendered engine: its files and top module.
struct Rendered {
    files: Vec<PathBuf>,
    top: String,
    swg_text: String,
}

/// Render the engine and its skid buffer into `dir` (fixed per configuration, so the
/// Verilator cache key is the same on every run).
fn render(dir: &Path, p: &SwgParams) -> Rendered {
    std::fs::create_dir_all(dir).unwrap();
    let top = tag(p);
    let skid = format!("{top}_skid");
    let header = vec![
        "SPDX-License-Identifier: Apache-2.0".to_string(),
        format!("{top}: sliding-window generator (test)"),
    ];
    // as emit writes files: ending in a newline
    let swg_text = p.verilog(&top, header.clone(), &skid).unwrap() + "\n";
    let skid_text = ferrite_rtl::Skid {
        module: skid.clone(),
        header,
    }
    .render()
    .unwrap()
        + "\n";
    let (f_swg, f_skid) = (dir.join(format!("{top}.v")), dir.join(format!("{skid}.v")));
    std::fs::write(&f_swg, &swg_text).unwrap();
    std::fs::write(&f_skid, skid_text).unwrap();
    Rendered {
        files: vec![f_swg, f_skid],
        top,
        swg_text,
    }
}

fn work_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("swg")
        .join(name)
}

fn ports(in_width: u32, out_width: u32) -> Vec<Port> {
    vec![
        Port::input("clk", 1),
        Port::input("rst", 1),
        Port::input("s_axis_in_tdata", in_width),
        Port::input("s_axis_in_tvalid", 1),
        Port::output("s_axis_in_tready", 1),
        Port::output("m_axis_out_tdata", out_width),
        Port::output("m_axis_out_tvalid", 1),
        Port::input("m_axis_out_tready", 1),
    ]
}

fn stream_ports() -> StreamPorts {
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

/// Pack elements into input beats of `simd` lanes of `elem` (lane 0 in the LSBs).
fn pack(p: &SwgParams, values: &[i64]) -> Beats {
    let e = p.elem.bits() as usize;
    let words = p.in_beat_bits().div_ceil(32);
    let mut b = Beats::new(words);
    for beat in values.chunks(p.lanes().0) {
        let mut w = vec![0u32; words];
        for (l, &v) in beat.iter().enumerate() {
            let raw = p.elem.encode(v);
            for bit in 0..e {
                if raw >> bit & 1 == 1 {
                    let at = l * e + bit;
                    w[at / 32] |= 1 << (at % 32);
                }
            }
        }
        b.push(&w);
    }
    b
}

fn unpack(p: &SwgParams, beats: &Beats) -> Vec<i64> {
    let e = p.elem.bits() as usize;
    let lanes = p.lanes().1;
    let mut out = Vec::with_capacity(beats.len() * lanes);
    for w in beats.iter() {
        for l in 0..lanes {
            let mut raw = 0u64;
            for bit in 0..e {
                let at = l * e + bit;
                raw |= ((w[at / 32] >> (at % 32) & 1) as u64) << bit;
            }
            out.push(p.elem.decode(raw));
        }
    }
    out
}

fn random_frames(p: &SwgParams, n: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut r = Rng::new(seed);
    let len = p.ifm_h * p.ifm_w * p.channels;
    (0..n)
        .map(|_| (0..len).map(|_| r.value(p.elem)).collect())
        .collect()
}

/// The checker: every output element equals the expected one, none missing, none extra.
fn compare(p: &SwgParams, want: &[Vec<i64>], got: &[i64]) -> Result<(), String> {
    let lanes = p.lanes().1;
    let per = p.out_beats() * lanes;
    let flat: Vec<i64> = want.iter().flatten().copied().collect();
    if got.len() != flat.len() {
        return Err(format!("{} elements, expected {}", got.len(), flat.len()));
    }
    let bad: Vec<usize> = (0..flat.len()).filter(|&i| flat[i] != got[i]).collect();
    match bad.first() {
        None => Ok(()),
        Some(&i) => Err(format!(
            "{} of {} elements differ; first at frame {} beat {} lane {}: got {}, expected {}",
            bad.len(),
            flat.len(),
            i / per,
            i % per / lanes,
            i % lanes,
            got[i],
            flat[i]
        )),
    }
}

/// Steady-state cycles a frame: the interval between frame completions (last output beat),
/// averaged over the second half of the frames, as `cosim` measures it.
fn steady_state(out_stamps: &[u64], bpf: usize) -> f64 {
    let done: Vec<u64> = out_stamps
        .chunks(bpf)
        .filter(|c| c.len() == bpf)
        .map(|c| c[bpf - 1])
        .collect();
    if done.len() < 2 {
        return f64::NAN;
    }
    let from = (done.len() / 2).min(done.len() - 2);
    let last = done.len() - 1;
    (done[last] - done[from]) as f64 / (last - from) as f64
}

fn build(p: &SwgParams) -> ferrite_sim::Model {
    require_tool("verilator");
    let r = render(&work_dir(&tag(p)), p);
    let spec = BuildSpec {
        sources: r.files.clone(),
        top: r.top.clone(),
        ports: ports(p.in_beat_bits() as u32, p.beat_bits() as u32),
        args: vec![],
        cache_dir: Some(ferrite_testbench::Bench::new(env!("CARGO_TARGET_TMPDIR")).cache()),
    };
    ferrite_sim::build(&spec).unwrap_or_else(|e| panic!("{}: {e}", r.top))
}

fn options(p: &SwgParams, (in_stall, out_stall): (f64, f64), seed: u64) -> StreamOptions {
    let slow = 1.0 / ((1.0 - in_stall) * (1.0 - out_stall));
    let per_frame = (p.exp_cycles() as f64 * slow * 8.0) as u64 + 1000;
    StreamOptions {
        in_stall,
        out_stall,
        seed,
        max_cycles: per_frame * (FRAMES as u64 + 4),
        idle_limit: per_frame,
        // the input beats after the last window of the last frame are taken while draining
        drain_cycles: (p.in_beats() as f64 * slow * 2.0) as u64 + 64,
        taps: Vec::new(),
    }
}

/// Stream `FRAMES` random frames under each stall pattern; exact output; exact cycles
/// without stalls.
fn check(p: &SwgParams) {
    let name = tag(p);
    let model = build(p);
    for (k, stall) in STALLS.into_iter().enumerate() {
        let seed = 17 + k as u64;
        let frames = random_frames(p, FRAMES, seed);
        let flat: Vec<i64> = frames.iter().flatten().copied().collect();
        let want: Vec<Vec<i64>> = frames.iter().map(|f| p.golden(f)).collect();
        let mut sim = model.instantiate(seed).unwrap();
        let run = sim
            .stream(
                &stream_ports(),
                &pack(p, &flat),
                FRAMES * p.out_beats(),
                &options(p, stall, seed),
            )
            .unwrap_or_else(|e| panic!("{name} at stalls {stall:?}: {e}"));
        let got = unpack(p, &run.output);
        if let Err(e) = compare(p, &want, &got) {
            panic!("{name} at stalls {stall:?}: {e}");
        }
        if stall == (0.0, 0.0) {
            let measured = steady_state(&run.out_stamps, p.out_beats());
            println!(
                "{name}: in {} out {} beats, exp_cycles {}, measured {measured}, depth {} beats ({} bits)",
                p.in_beats(),
                p.out_beats(),
                p.exp_cycles(),
                p.depth(),
                p.buffer_bits()
            );
            assert_eq!(
                measured,
                p.exp_cycles() as f64,
                "{name}: steady-state cycles a frame (in {} beats, out {} beats, depth {})",
                p.in_beats(),
                p.out_beats(),
                p.depth()
            );
        }
    }
}

fn check_range(from: usize, to: usize) {
    let g = grid();
    for p in &g[from..to.min(g.len())] {
        check(p);
    }
}

// The grid in four tests so that they build and run in parallel.
#[test]
fn grid_part_1() {
    check_range(0, 6);
}

#[test]
fn grid_part_2() {
    check_range(6, 11);
}

#[test]
fn grid_part_3() {
    check_range(11, 17);
}

#[test]
fn grid_part_4() {
    check_range(17, 22);
}

#[test]
fn grid_part_5_padding() {
    check_range(22, 27);
}

#[test]
fn grid_part_6_parallel() {
    check_range(27, 32);
}

#[test]
fn grid_part_7_parallel() {
    check_range(32, 100);
}

/// Every configuration lints clean, elaborates in Yosys and compiles in Icarus.
#[test]
fn lint_yosys_icarus() {
    for t in ["verilator", "yosys", "iverilog"] {
        require_tool(t);
    }
    let mut failures = Vec::new();
    let tmp = tempfile::tempdir().unwrap();
    // the grid and random shapes (counters of one value, steps that never occur, ...)
    let mut configs = grid();
    configs.extend(random_configs(30, 7, 14, 5, 6));
    for p in configs {
        let name = tag(&p);
        let r = render(&tmp.path().join(&name), &p);
        let files: Vec<String> = r.files.iter().map(|f| f.display().to_string()).collect();
        let o = Command::new("verilator")
            .args(["--lint-only", "-Wall", "--top-module", &r.top])
            .args(&files)
            .output()
            .expect("verilator runs");
        let text =
            String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
        if !o.status.success() || text.contains("%Warning") || text.contains("%Error") {
            failures.push(format!("{name}: verilator -Wall:\n{text}"));
        }
        let script = format!(
            "read_verilog {}; hierarchy -check -top {}; proc",
            files.join(" "),
            r.top
        );
        let o = Command::new("yosys")
            .args(["-q", "-p", &script])
            .output()
            .expect("yosys runs");
        let text =
            String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
        if !o.status.success() || text.to_lowercase().contains("warning") {
            failures.push(format!("{name}: yosys:\n{text}"));
        }
        let o = Command::new("iverilog")
            .args(["-g2005", "-Wall", "-o"])
            .arg(tmp.path().join(&name).join("icarus.vvp"))
            .args(["-s", &r.top])
            .args(&files)
            .output()
            .expect("iverilog runs");
        let text =
            String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
        if !o.status.success() || !text.trim().is_empty() {
            failures.push(format!("{name}: iverilog:\n{text}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// No combinational path from `m_axis_out_tready` to `s_axis_in_tready` (Yosys: the input
/// cone of `s_axis_in_tready`, stopping at flip-flops); the same cone does reach the
/// occupancy register, so the check sees through logic.
#[test]
fn no_combinational_path_from_out_ready_to_in_ready() {
    require_tool("yosys");
    let tmp = tempfile::tempdir().unwrap();
    for p in grid() {
        let name = tag(&p);
        let r = render(&tmp.path().join(&name), &p);
        let files: Vec<String> = r.files.iter().map(|f| f.display().to_string()).collect();
        let cone = |from: &str| {
            let script = format!(
                "read_verilog {}; hierarchy -check -top {}; proc; flatten; select -assert-none w:{from} w:s_axis_in_tready %ci*:-$dff %i",
                files.join(" "),
                r.top
            );
            Command::new("yosys")
                .args(["-q", "-p", &script])
                .output()
                .expect("yosys runs")
                .status
                .success()
        };
        assert!(
            cone("m_axis_out_tready"),
            "{name}: m_axis_out_tready reaches s_axis_in_tready"
        );
        let state = if p.parallel() { "idx_reg" } else { "fill_reg" };
        assert!(!cone(state), "{name}: the cone check does not see {state}");
    }
}

/// The declared window buffer (`reg [M:0] buf_mem [0:N]`) has `buffer_bits` bits, for every
/// configuration; Yosys counts the same memory bits for a few of them.
#[test]
fn buffer_bits_match_the_rtl() {
    require_tool("yosys");
    let tmp = tempfile::tempdir().unwrap();
    for (i, p) in grid().into_iter().enumerate() {
        let name = tag(&p);
        let r = render(&tmp.path().join(&name), &p);
        if p.parallel() {
            // reg [M:0] sr_reg;
            let line = r
                .swg_text
                .lines()
                .find(|l| l.contains(" sr_reg;"))
                .unwrap_or_else(|| panic!("{name}: no sr_reg declaration"));
            let msb: usize = line
                .split(|c: char| !c.is_ascii_digit())
                .find(|s| !s.is_empty())
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(msb + 1, p.buffer_bits(), "{name}: {line}");
            continue;
        }
        let line = r
            .swg_text
            .lines()
            .find(|l| l.contains(" buf_mem ["))
            .unwrap_or_else(|| panic!("{name}: no buf_mem declaration"));
        // reg [M:0] buf_mem [0:N];
        let nums: Vec<usize> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(nums.len(), 4, "{name}: {line}");
        let declared = (nums[0] + 1) * (nums[3] + 1);
        assert_eq!(declared, p.buffer_bits(), "{name}: {line}");
        assert_eq!(nums[3] + 1, p.depth(), "{name}");
        if i % 5 == 0 {
            let files: Vec<String> = r.files.iter().map(|f| f.display().to_string()).collect();
            let stat = tmp.path().join(&name).join("stat.txt");
            let script = format!(
                "read_verilog {}; hierarchy -check -top {}; proc; tee -o {} stat",
                files.join(" "),
                r.top,
                stat.display()
            );
            let o = Command::new("yosys")
                .args(["-q", "-p", &script])
                .output()
                .expect("yosys runs");
            assert!(
                o.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let text = std::fs::read_to_string(&stat).unwrap();
            // one figure a module, the last one for the whole hierarchy
            let bits: usize = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("Number of memory bits:"))
                .next_back()
                .unwrap_or_else(|| panic!("{name}: no memory bits in yosys stat:\n{text}"))
                .trim()
                .parse()
                .unwrap();
            assert_eq!(bits, p.buffer_bits(), "{name}: yosys stat");
        }
    }
}

/// The window buffer of FINN's second CNV layer shape (30x30x64, SIMD 32, 2-bit: 252 beats
/// of 64 bits) is a block RAM after Yosys `synth_xilinx`: the registered read infers it.
#[test]
fn cnv_window_buffer_is_block_ram() {
    require_tool("yosys");
    let p = cfg((30, 30), 64, (3, 3), (1, 1), (1, 1), 32, UInt(2));
    let tmp = tempfile::tempdir().unwrap();
    let r = render(tmp.path(), &p);
    let files: Vec<String> = r.files.iter().map(|f| f.display().to_string()).collect();
    let stat = tmp.path().join("stat.txt");
    let script = format!(
        "read_verilog {}; synth_xilinx -top {} -flatten; tee -o {} stat",
        files.join(" "),
        r.top,
        stat.display()
    );
    let o = Command::new("yosys")
        .args(["-q", "-p", &script])
        .output()
        .expect("yosys runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&stat).unwrap();
    assert!(
        text.contains("RAMB18E1") || text.contains("RAMB36E1"),
        "no block RAM:\n{text}"
    );
}

/// A golden model with the kernel positions in the wrong order (column-major), or one
/// window dropped, is caught by the checker on the RTL's real output.
#[test]
fn checker_catches_a_wrong_order() {
    let p = cfg((8, 8), 2, (3, 3), (1, 1), (1, 1), 1, UInt(4));
    let model = build(&p);
    let frames = random_frames(&p, 2, 5);
    let flat: Vec<i64> = frames.iter().flatten().copied().collect();
    let mut sim = model.instantiate(1).unwrap();
    let run = sim
        .stream(
            &stream_ports(),
            &pack(&p, &flat),
            2 * p.out_beats(),
            &options(&p, (0.3, 0.3), 5),
        )
        .unwrap();
    let got = unpack(&p, &run.output);
    let right: Vec<Vec<i64>> = frames.iter().map(|f| p.golden(f)).collect();
    compare(&p, &right, &got).unwrap();
    // (kx, ky) swapped inside each window
    let wrong: Vec<Vec<i64>> = right
        .iter()
        .map(|f| {
            let mut v = f.clone();
            for (w, win) in f.chunks(9 * 2).enumerate() {
                for ky in 0..3 {
                    for kx in 0..3 {
                        for c in 0..2 {
                            v[w * 18 + (kx * 3 + ky) * 2 + c] = win[(ky * 3 + kx) * 2 + c];
                        }
                    }
                }
            }
            v
        })
        .collect();
    let e = compare(&p, &wrong, &got).unwrap_err();
    assert!(e.contains("differ"), "{e}");
    // a window missing at the end of the first frame: everything after it shifts
    let mut short = right.clone();
    let n = short[0].len();
    short[0].truncate(n - 18);
    short[1].extend_from_slice(&right[1][..18]);
    assert!(compare(&p, &short, &got).is_err());
}

/// Reset in the middle of a frame: the engine then takes a fresh frame.
#[test]
fn reset_mid_frame_starts_fresh() {
    let p = cfg((7, 7), 2, (3, 3), (2, 2), (1, 1), 2, Int(4));
    let model = build(&p);
    let mut sim = model.instantiate(3).unwrap();
    // half a frame, with the output stalled, then the stream (which resets first)
    let junk = pack(&p, &random_frames(&p, 1, 99)[0]);
    sim.set_u64("rst", 1).unwrap();
    sim.tick("clk").unwrap();
    sim.set_u64("rst", 0).unwrap();
    sim.set_u64("m_axis_out_tready", 0).unwrap();
    sim.set_u64("s_axis_in_tvalid", 1).unwrap();
    for i in 0..junk.len() / 2 {
        sim.set("s_axis_in_tdata", junk.get(i)).unwrap();
        sim.tick("clk").unwrap();
    }
    sim.set_u64("s_axis_in_tvalid", 0).unwrap();
    let frames = random_frames(&p, 3, 7);
    let flat: Vec<i64> = frames.iter().flatten().copied().collect();
    let run = sim
        .stream(
            &stream_ports(),
            &pack(&p, &flat),
            3 * p.out_beats(),
            &options(&p, (0.3, 0.3), 7),
        )
        .unwrap();
    let want: Vec<Vec<i64>> = frames.iter().map(|f| p.golden(f)).collect();
    compare(&p, &want, &unpack(&p, &run.output)).unwrap();
}

/// `n` random legal configurations: kernels up to `max_k`, maps up to `max_map`, strides
/// 1..4, dilations 1..2, up to `max_c` channels with any SIMD dividing them, every element
/// type.
fn random_configs(n: usize, seed: u64, max_map: i64, max_k: i64, max_c: i64) -> Vec<SwgParams> {
    let types = [
        Bipolar,
        Binary,
        Int(2),
        UInt(2),
        Int(4),
        UInt(4),
        Int(8),
        UInt(8),
    ];
    let mut r = Rng::new(seed);
    let mut out = Vec::new();
    while out.len() < n {
        let pick = |r: &mut Rng, lo: i64, hi: i64| r.range(lo, hi) as usize;
        let (kh, kw) = (pick(&mut r, 1, max_k), pick(&mut r, 1, max_k));
        let (sh, sw) = (pick(&mut r, 1, 4), pick(&mut r, 1, 4));
        let (dh, dw) = (pick(&mut r, 1, 2), pick(&mut r, 1, 2));
        let h = if r.range(0, 5) == 0 {
            1
        } else {
            pick(&mut r, 1, max_map)
        };
        let w = pick(&mut r, 1, max_map);
        let c = pick(&mut r, 1, max_c);
        let divisors: Vec<usize> = (1..=c).filter(|d| c % d == 0).collect();
        let simd = divisors[pick(&mut r, 0, divisors.len() as i64 - 1)];
        let elem = types[pick(&mut r, 0, types.len() as i64 - 1)];
        let kh = if h == 1 { 1 } else { kh };
        // half of them padded (up to the kernel's reach, so that parallel mode may take
        // it), half of those with a kernel of several positions in parallel mode
        let pad = if r.range(0, 1) == 0 {
            let (eh, ew) = ((kh - 1) * dh, (kw - 1) * dw);
            let top = pick(&mut r, 0, eh as i64);
            let left = pick(&mut r, 0, ew as i64);
            [
                top,
                left,
                pick(&mut r, 0, (eh - top) as i64),
                pick(&mut r, 0, (ew - left) as i64),
            ]
        } else {
            [0; 4]
        };
        let parallel = kh * kw > 1 && r.range(0, 1) == 0;
        let p = SwgParams {
            ifm_h: h,
            ifm_w: w,
            channels: c,
            k_h: kh,
            k_w: kw,
            stride_h: sh,
            stride_w: sw,
            dil_h: dh,
            dil_w: dw,
            pad,
            pad_value: elem.min(),
            pe: if parallel { kh * kw } else { 1 },
            simd: if parallel { c } else { simd },
            elem,
        };
        if p.check().is_ok() {
            out.push(p);
        }
    }
    out
}

/// Random configurations beyond the grid (`SWG_SWEEP=n`, default 40; `SWG_SEED`; maps up
/// to `SWG_MAP`, default 14; kernels up to `SWG_K`, default 5; channels up to `SWG_C`,
/// default 6): exact output and exact cycles. Slow (one Verilator build each): run with
/// `--ignored`.
#[test]
#[ignore]
fn random_sweep() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let n = env("SWG_SWEEP", 40) as usize;
    let (map, k, c) = (env("SWG_MAP", 14), env("SWG_K", 5), env("SWG_C", 6));
    for p in random_configs(n, env("SWG_SEED", 2024), map as i64, k as i64, c as i64) {
        check(&p);
    }
}
