//! Co-simulation: run a built design's RTL in Verilator (through `ferrite-sim`) and compare
//! every output, bit-exactly, with the golden model.
//!
//! `cosim` reads what `ferrite build` wrote (`OUT/model.json`, the design manifest
//! `OUT/design.json` and `OUT/rtl/`), streams the frames through the top under seeded
//! random input idles and output backpressure, and measures the steady-state cycles a frame
//! and the latency. With `trace`, it simulates the trace top instead (rendered from the
//! manifest) and compares every engine's output stream, naming the first node and port
//! that diverge.

use crate::emit::{self, StreamFormat, TapInfo};
use crate::golden;
use crate::ir::{DataType, Model};
use crate::outdir::{OutDir, OutError};
use crate::progress::{Progress, Silent};
use crate::stitch::{Design, Role};
use ferrite_sim::{Beats, BuildSpec, PortDir, SimError, StreamOptions, StreamPorts, Tap};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CosimError {
    #[error(transparent)]
    Ir(#[from] crate::ir::IrError),
    #[error(transparent)]
    Out(#[from] OutError),
    #[error("emit: {0}")]
    Emit(String),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    Input { path: String, why: String },
    #[error("{0}")]
    Design(String),
}

fn io(path: &Path, source: std::io::Error) -> CosimError {
    CosimError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Most input values one co-simulation run takes (frames x elements): frames, their beats
/// and the outputs are held in memory.
pub const MAX_FRAME_VALUES: usize = 1 << 28;

/// How to run.
#[derive(Clone, Debug)]
pub struct CosimOptions {
    /// Probability of an input idle and of output backpressure in each cycle.
    pub stall: f64,
    pub seed: u64,
    /// Simulate the trace top and compare every layer.
    pub trace: bool,
    /// Verilator build cache; `ferrite_sim::default_cache_dir()` when `None`.
    pub cache_dir: Option<PathBuf>,
    /// Idle cycles after reset before the first input beat is offered (0: offer it at once,
    /// the strict test).
    pub settle_cycles: u32,
}

impl Default for CosimOptions {
    fn default() -> CosimOptions {
        CosimOptions {
            stall: 0.0,
            seed: 1,
            trace: false,
            cache_dir: None,
            settle_cycles: 0,
        }
    }
}

/// One differing output element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub frame: usize,
    pub element: usize,
    pub expected: i64,
    pub got: i64,
}

/// The first place an engine's output stream differs from the golden model (trace runs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// Position of the node in stream order, its name and the output port.
    pub index: usize,
    pub node: String,
    pub port: usize,
    pub frame: usize,
    pub element: usize,
    pub expected: i64,
    pub got: i64,
}

/// Per-node figures.
#[derive(Clone, Debug, Serialize)]
pub struct NodeCycles {
    pub name: String,
    pub kind: String,
    pub pe: usize,
    pub simd: usize,
    /// The engine's cycle formula.
    pub cycles_per_frame_expected: u64,
    /// From the node's tap (trace runs only): in a pipeline every node runs at the rate of
    /// the slowest one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycles_per_frame_measured: Option<f64>,
    /// Mismatching elements of this node's output streams (trace runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatches: Option<usize>,
}

/// How the simulator was obtained and how fast it ran.
#[derive(Clone, Debug, Serialize)]
pub struct SimStats {
    pub top: String,
    pub cache_hit: bool,
    pub build_secs: f64,
    pub verilate_secs: f64,
    pub compile_secs: f64,
    pub runtime_compile_secs: f64,
    pub sim_secs: f64,
    pub cycles_simulated: u64,
    pub cycles_per_sec: f64,
}

/// What `OUT/cosim.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct CosimReport {
    pub model: String,
    pub frames: usize,
    /// Differing output elements (all frames).
    pub mismatches: usize,
    /// The first few of them.
    pub first_mismatches: Vec<Mismatch>,
    /// Steady state, without stalls: cycles between output-frame completions over the
    /// second half of a run of at least 16 frames.
    pub cycles_per_frame_measured: f64,
    /// The design's expected cycles a frame: its slowest engine.
    pub cycles_per_frame_expected: u64,
    /// First input beat accepted to last output beat of frame 0, without stalls.
    pub latency_cycles: u64,
    /// Cycles the compared run took (with its stalls).
    pub cycles: u64,
    pub stall: f64,
    pub seed: u64,
    pub trace: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_divergence: Option<Divergence>,
    pub nodes: Vec<NodeCycles>,
    /// Wall-clock timings and the build cache's state: the one section of `cosim.json` that
    /// differs between two runs with the same inputs and seed (everything above is
    /// deterministic).
    #[serde(rename = "timing_nondeterministic")]
    pub sim: SimStats,
}

impl CosimReport {
    pub fn passed(&self) -> bool {
        self.mismatches == 0 && self.first_divergence.is_none()
    }
}

/// Frames in a `.npy` file, read by the library's one reader ([`crate::npy::frames`]):
/// integer arrays are the hardware's frames, float arrays the model's float inputs, which
/// its host pre-steps quantize.
pub fn frames_from_npy(model: &Model, path: &Path) -> Result<Vec<Vec<i64>>, CosimError> {
    let bad = |why: String| CosimError::Input {
        path: path.display().to_string(),
        why,
    };
    match crate::npy::frames(model, path).map_err(|e| bad(e.to_string()))? {
        crate::npy::Frames::Hardware(f) => Ok(f),
        crate::npy::Frames::Float(f) => f
            .iter()
            .enumerate()
            .map(|(i, x)| {
                golden::host::run_pre(model, x).map_err(|e| bad(format!("frame {i}: {e}")))
            })
            .collect(),
    }
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` frames of uniformly random values of the model's input type.
pub fn random_frames(model: &Model, n: usize, seed: u64) -> Vec<Vec<i64>> {
    let dt = model.input().tensor.dtype;
    let mut s = seed ^ 0xC0FF_EE00_D15E_A5E5;
    (0..n)
        .map(|_| {
            (0..model.input().tensor.elems())
                .map(|_| random_value(dt, &mut s))
                .collect()
        })
        .collect()
}

fn random_value(dt: DataType, s: &mut u64) -> i64 {
    if dt == DataType::Bipolar {
        return if splitmix(s) & 1 == 1 { 1 } else { -1 };
    }
    let span = (dt.max() - dt.min()) as u64 + 1;
    dt.min() + (splitmix(s) % span) as i64
}

fn mem_dir_arg(rtl: &Path) -> Result<String, CosimError> {
    let abs = std::fs::canonicalize(rtl).map_err(|e| io(rtl, e))?;
    let s = abs.display().to_string();
    if s.contains('"') || s.contains('\\') {
        return Err(CosimError::Input {
            path: s,
            why: "the RTL directory path must not contain quotes or backslashes".into(),
        });
    }
    Ok(format!("-GMEM_DIR=\"{s}/\""))
}

/// The design's `.v` files in `dir`, then the simulation models of vendor blocks in
/// `dir/sim/` (absent unless the design instantiates one).
fn verilog_sources(dir: &Path) -> Result<Vec<PathBuf>, CosimError> {
    let list = |d: &Path| -> Result<Vec<PathBuf>, CosimError> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| io(d, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "v"))
            .collect();
        v.sort();
        Ok(v)
    };
    let mut v = list(dir)?;
    let sim = dir.join("sim");
    if !v.is_empty() && sim.is_dir() {
        v.extend(list(&sim)?);
    }
    if v.is_empty() {
        return Err(CosimError::Input {
            path: dir.display().to_string(),
            why: "no .v files; run `ferrite build MODEL -o OUT` first".into(),
        });
    }
    Ok(v)
}

fn require_port(
    model: &ferrite_sim::Model,
    name: &str,
    width: Option<u32>,
    dir: PortDir,
) -> Result<(), CosimError> {
    match model.ports().iter().find(|p| p.name == name) {
        None => Err(CosimError::Design(format!(
            "the top has no port `{name}` (ports: {})",
            model
                .ports()
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        Some(p) if p.dir != dir || width.is_some_and(|w| w != p.width) => {
            Err(CosimError::Design(format!(
                "top port `{name}` is a {}-bit {:?}; expected {}{:?}",
                p.width,
                p.dir,
                width.map_or(String::new(), |w| format!("a {w}-bit ")),
                dir
            )))
        }
        Some(_) => Ok(()),
    }
}

fn check_top(
    sim: &ferrite_sim::Model,
    input: &StreamFormat,
    output: &StreamFormat,
) -> Result<(), CosimError> {
    require_port(sim, "ap_clk", Some(1), PortDir::Input)?;
    require_port(sim, "ap_rst_n", Some(1), PortDir::Input)?;
    require_port(
        sim,
        "s_axis_tdata",
        Some(input.tdata_bits as u32),
        PortDir::Input,
    )?;
    require_port(sim, "s_axis_tvalid", Some(1), PortDir::Input)?;
    require_port(sim, "s_axis_tready", Some(1), PortDir::Output)?;
    require_port(
        sim,
        "m_axis_tdata",
        Some(output.tdata_bits as u32),
        PortDir::Output,
    )?;
    require_port(sim, "m_axis_tvalid", Some(1), PortDir::Output)?;
    require_port(sim, "m_axis_tready", Some(1), PortDir::Input)?;
    Ok(())
}

/// Pack frames into beats of 32-bit words.
fn pack(fmt: &StreamFormat, frames: &[Vec<i64>]) -> Beats {
    let mut b = Beats::new(fmt.words_per_beat());
    for f in frames {
        for beat in emit::pack_frame(fmt, f) {
            b.push(&beat);
        }
    }
    b
}

/// Unpack up to `frames` frames of `fmt` from beats (a short last frame is cut short).
fn unpack(fmt: &StreamFormat, beats: &Beats, frames: usize) -> Vec<Vec<i64>> {
    let bpf = fmt.beats_per_frame;
    (0..frames)
        .map(|f| {
            let words: Vec<Vec<u32>> = (f * bpf..(f + 1) * bpf)
                .filter(|&i| i < beats.len())
                .map(|i| beats.get(i).to_vec())
                .collect();
            emit::unpack_frame(fmt, &words)
        })
        .collect()
}

/// Steady-state cycles a frame: mean interval between output-frame completions over the
/// second half of the run.
fn steady_state(out_stamps: &[u64], bpf: usize) -> f64 {
    let done: Vec<u64> = out_stamps
        .chunks(bpf)
        .filter(|c| c.len() == bpf)
        .map(|c| c[bpf - 1])
        .collect();
    if done.len() < 2 {
        return f64::NAN;
    }
    let from = done.len() / 2;
    let from = from.min(done.len() - 2);
    let last = done.len() - 1;
    (done[last] - done[from]) as f64 / (last - from) as f64
}

fn compare(expected: &[Vec<i64>], got: &[Vec<i64>], keep: usize) -> (usize, Vec<Mismatch>) {
    let mut n = 0;
    let mut first = Vec::new();
    for (f, (e, g)) in expected.iter().zip(got).enumerate() {
        for k in 0..e.len().max(g.len()) {
            let (ev, gv) = (e.get(k).copied(), g.get(k).copied());
            if ev != gv {
                n += 1;
                if first.len() < keep {
                    first.push(Mismatch {
                        frame: f,
                        element: k,
                        expected: ev.unwrap_or(i64::MIN),
                        got: gv.unwrap_or(i64::MIN),
                    });
                }
            }
        }
    }
    (n, first)
}

/// Frames enough for a steady-state measurement: `frames` repeated to at least 16.
fn measurement_frames(frames: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let n = frames.len().max(16);
    (0..n).map(|i| frames[i % frames.len()].clone()).collect()
}

/// What one simulated transfer gave.
struct Run {
    outputs: Vec<Vec<i64>>,
    out_stamps: Vec<u64>,
    in_stamps: Vec<u64>,
    cycles: u64,
    taps: Vec<Vec<Vec<i64>>>,
    tap_stamps: Vec<Vec<u64>>,
}

struct Prepared {
    sim: ferrite_sim::Model,
    input: StreamFormat,
    output: StreamFormat,
    taps: Vec<TapInfo>,
    settle_cycles: u32,
}

fn stream_options(plan_cycles: u64, frames: usize, stall: f64, seed: u64) -> StreamOptions {
    // A frame under stall p takes at most about cycles / (1-p)^2; allow 8x that, plus room
    // for the pipeline to fill.
    let slow = 1.0 / (1.0 - stall.min(0.95)).powi(2);
    let per_frame = (plan_cycles.max(1) as f64 * slow * 8.0) as u64;
    StreamOptions {
        in_stall: stall,
        out_stall: stall,
        seed,
        max_cycles: per_frame.saturating_mul(frames as u64 + 4) + 100_000,
        idle_limit: per_frame.saturating_mul(4) + 10_000,
        drain_cycles: plan_cycles.saturating_mul(2) + 64,
        taps: Vec::new(),
    }
}

fn run_once(
    p: &Prepared,
    frames: &[Vec<i64>],
    plan_cycles: u64,
    stall: f64,
    seed: u64,
) -> Result<(Run, f64), CosimError> {
    let mut sim = p.sim.instantiate(seed)?;
    let input = pack(&p.input, frames);
    let n_out = frames.len() * p.output.beats_per_frame;
    let mut opts = stream_options(plan_cycles, frames.len(), stall, seed);
    opts.taps = p
        .taps
        .iter()
        .map(|t| Tap {
            data: t.tdata_port.clone(),
            fire: Some(t.fire_port.clone()),
        })
        .collect();
    let t = Instant::now();
    let ports = StreamPorts {
        settle_cycles: p.settle_cycles,
        ..StreamPorts::vivado()
    };
    let run = sim.stream(&ports, &input, n_out, &opts)?;
    let secs = t.elapsed().as_secs_f64();
    let outputs = unpack(&p.output, &run.output, frames.len());
    let mut taps = Vec::new();
    let mut tap_stamps = Vec::new();
    for (t, tr) in p.taps.iter().zip(&run.taps) {
        let n = tr.values.len() / t.format.beats_per_frame.max(1);
        taps.push(unpack(&t.format, &tr.values, n.min(frames.len())));
        tap_stamps.push(tr.stamps.clone());
    }
    Ok((
        Run {
            outputs,
            out_stamps: run.out_stamps,
            in_stamps: run.in_stamps,
            cycles: run.cycles,
            taps,
            tap_stamps,
        },
        secs,
    ))
}

/// Co-simulate the design built in `out` on `frames`.
pub fn run(
    out: &Path,
    frames: &[Vec<i64>],
    opts: &CosimOptions,
) -> Result<CosimReport, CosimError> {
    run_with(out, frames, opts, &Silent)
}

/// [`run`], reporting its steps (checking, verilating, compiling, simulating) to
/// `progress`.
pub fn run_with(
    out: &Path,
    frames: &[Vec<i64>],
    opts: &CosimOptions,
    progress: &dyn Progress,
) -> Result<CosimReport, CosimError> {
    progress.step("checking the design", None);
    let dir = OutDir::new(out);
    let model = dir.load_model()?;
    let design = dir.load_design()?;
    check_design(&dir, &model, &design)?;
    cosim_model_with(out, &model, &design, frames, opts, progress)
}

/// The manifest must be what stitching the model with the manifest's own folds gives (an
/// edited or stale `design.json` is refused before anything is simulated).
pub fn check_design(dir: &OutDir, model: &Model, design: &Design) -> Result<(), CosimError> {
    let bad = |why: String| CosimError::Input {
        path: dir.design_json().display().to_string(),
        why: format!("{why}; rebuild the directory with `ferrite build`"),
    };
    let folds = design.engines().filter_map(|n| match &n.role {
        Role::Engine { node, fold, .. } => Some((node.clone(), *fold)),
        _ => None,
    });
    let mut plan = crate::fold::FoldPlan::from_folds(folds, "design.json");
    plan.family = design.family;
    let again = crate::stitch::stitch(model, &plan)
        .map_err(|e| bad(format!("does not fit model.json: {e}")))?;
    if &again != design {
        return Err(bad(
            "is not the design model.json and its folds give (edited, or from another build)"
                .into(),
        ));
    }
    Ok(())
}

/// [`run`] with the model and design already loaded (they must be what `out` was built
/// from).
pub fn cosim_model(
    out: &Path,
    model: &Model,
    design: &Design,
    frames: &[Vec<i64>],
    opts: &CosimOptions,
) -> Result<CosimReport, CosimError> {
    cosim_model_with(out, model, design, frames, opts, &Silent)
}

/// [`cosim_model`], reporting its steps to `progress`.
pub fn cosim_model_with(
    out: &Path,
    model: &Model,
    design: &Design,
    frames: &[Vec<i64>],
    opts: &CosimOptions,
    progress: &dyn Progress,
) -> Result<CosimReport, CosimError> {
    if frames.is_empty() {
        return Err(CosimError::Input {
            path: out.display().to_string(),
            why: "no frames to simulate".into(),
        });
    }
    if !(0.0..1.0).contains(&opts.stall) {
        return Err(CosimError::Input {
            path: "--stall".into(),
            why: format!("{} is not a probability in [0, 1)", opts.stall),
        });
    }
    let elems = model.input().tensor.elems();
    if let Some((i, f)) = frames.iter().enumerate().find(|(_, f)| f.len() != elems) {
        return Err(CosimError::Input {
            path: "frames".into(),
            why: format!(
                "frame {i} has {} elements; the model takes {elems}",
                f.len()
            ),
        });
    }
    let dt = model.input().tensor.dtype;
    for (i, f) in frames.iter().enumerate() {
        if let Some((e, v)) = f.iter().enumerate().find(|(_, v)| !dt.contains(**v)) {
            return Err(CosimError::Input {
                path: "frames".into(),
                why: format!("frame {i} element {e} is {v}, not a {dt} value"),
            });
        }
    }
    let rtl = OutDir::new(out).rtl();
    let mut sources = verilog_sources(&rtl)?;
    let (top, taps) = if opts.trace {
        let trace =
            emit::emit_trace_top(model, design).map_err(|e| CosimError::Emit(e.to_string()))?;
        // The trace top is compiled with the design's files; it is not part of `rtl/`.
        let dir = out.join("cosim-trace");
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let p = dir.join(&trace.file.name);
        sources.retain(|s| s.file_name() != p.file_name());
        if std::fs::read(&p).ok().as_deref() != Some(trace.file.contents.as_bytes()) {
            crate::outdir::write_atomic(&p, trace.file.contents.as_bytes())
                .map_err(|e| io(&p, e))?;
        }
        sources.push(p);
        (trace.top.clone(), trace.taps.clone())
    } else {
        (design.top.clone(), Vec::new())
    };
    let spec = BuildSpec {
        sources,
        top: top.clone(),
        ports: Vec::new(),
        args: vec![mem_dir_arg(&rtl)?],
        cache_dir: opts.cache_dir.clone(),
    };
    let sim = ferrite_sim::build_with(&spec, &mut |what| progress.step(what, None))?;
    check_top(&sim, &design.input, &design.output)?;
    for t in &taps {
        require_port(
            &sim,
            &t.tdata_port,
            Some(t.format.tdata_bits as u32),
            PortDir::Output,
        )?;
        require_port(&sim, &t.fire_port, Some(1), PortDir::Output)?;
    }
    let info = sim.info().clone();
    let p = Prepared {
        sim,
        input: design.input.clone(),
        output: design.output.clone(),
        taps,
        settle_cycles: opts.settle_cycles,
    };
    let expected_cycles = design.exp_cycles_per_frame;

    // The compared run, with the requested stalls.
    progress.step("simulating", Some(frames.len() as u64));
    let (run, mut sim_secs) = run_once(&p, frames, expected_cycles, opts.stall, opts.seed)?;
    progress.advance(frames.len() as u64);
    let mut cycles_simulated = run.cycles;
    progress.step("golden model", None);
    let gm = golden::Golden::new(model);
    let golden: Vec<Vec<i64>> = frames.iter().map(|f| gm.run_frame(f)).collect();
    let (mismatches, first_mismatches) = compare(&golden, &run.outputs, 20);

    // Node by node (trace).
    let mut nodes: Vec<NodeCycles> = design
        .engines()
        .filter_map(|n| match &n.role {
            Role::Engine {
                node,
                kind,
                fold,
                exp_cycles,
                ..
            } => Some(NodeCycles {
                name: node.clone(),
                kind: kind.clone(),
                pe: fold.pe,
                simd: fold.simd,
                cycles_per_frame_expected: *exp_cycles,
                cycles_per_frame_measured: None,
                mismatches: None,
            }),
            _ => None,
        })
        .collect();
    let mut first_divergence = None;
    if opts.trace {
        let g = golden::Golden::new(model);
        let a = g.analysis();
        let traces: Vec<golden::NodeValues> = frames.iter().map(|f| g.run_trace(f)).collect();
        // taps come in the design's engine order, ports in order
        for (ti, t) in p.taps.iter().enumerate() {
            let id = a.by_name[&t.node];
            let want: Vec<Vec<i64>> = traces.iter().map(|v| v[id][t.port].clone()).collect();
            let mut got = run.taps.get(ti).cloned().unwrap_or_default();
            got.resize(want.len(), Vec::new());
            let (n, first) = compare(&want, &got, 1);
            if let Some(nc) = nodes.iter_mut().find(|c| c.name == t.node) {
                *nc.mismatches.get_or_insert(0) += n;
            }
            if let (Some(m), None) = (first.first(), &first_divergence) {
                first_divergence = Some(Divergence {
                    index: a.order.iter().position(|&o| o == id).unwrap_or(id),
                    node: t.node.clone(),
                    port: t.port,
                    frame: m.frame,
                    element: m.element,
                    expected: m.expected,
                    got: m.got,
                });
            }
        }
    }

    // Cycles: from a run without stalls of at least 16 frames.
    let extra = if opts.stall == 0.0 && frames.len() >= 16 {
        None
    } else {
        let mf = measurement_frames(frames);
        progress.step("measuring cycles", Some(mf.len() as u64));
        let (m, secs) = run_once(&p, &mf, expected_cycles, 0.0, opts.seed)?;
        sim_secs += secs;
        cycles_simulated += m.cycles;
        Some(m)
    };
    let m = extra.as_ref().unwrap_or(&run);
    let bpf = p.output.beats_per_frame;
    let measured = steady_state(&m.out_stamps, bpf);
    for (stamps, t) in m.tap_stamps.iter().zip(&p.taps) {
        if let Some(nc) = nodes.iter_mut().find(|c| c.name == t.node && t.port == 0) {
            nc.cycles_per_frame_measured = Some(steady_state(stamps, t.format.beats_per_frame));
        }
    }
    let latency = m
        .out_stamps
        .get(bpf.max(1) - 1)
        .copied()
        .unwrap_or(0)
        .saturating_sub(m.in_stamps.first().copied().unwrap_or(0));
    Ok(CosimReport {
        model: model.name.clone(),
        frames: frames.len(),
        mismatches,
        first_mismatches,
        cycles_per_frame_measured: measured,
        cycles_per_frame_expected: expected_cycles,
        latency_cycles: latency,
        cycles: run.cycles,
        stall: opts.stall,
        seed: opts.seed,
        trace: opts.trace,
        first_divergence,
        nodes,
        sim: SimStats {
            top,
            cache_hit: info.cache_hit,
            build_secs: info.total_secs,
            verilate_secs: info.verilate_secs,
            compile_secs: info.compile_secs,
            runtime_compile_secs: info.runtime_secs,
            sim_secs,
            cycles_simulated,
            cycles_per_sec: cycles_simulated as f64 / sim_secs.max(1e-9),
        },
    })
}

/// Write `OUT/cosim.json` (atomically).
pub fn write_report(out: &Path, report: &CosimReport) -> Result<PathBuf, CosimError> {
    let path = OutDir::new(out).cosim_json();
    let mut text = serde_json::to_string_pretty(report).expect("a report always serialises");
    text.push('\n');
    crate::outdir::write_atomic(&path, text.as_bytes()).map_err(|e| io(&path, e))?;
    Ok(path)
}
