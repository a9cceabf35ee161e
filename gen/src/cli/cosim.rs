//! `ferrite cosim`: run a built design in Verilator against the golden model.
use super::error::{fail, usage};
use super::ui::Ui;
use ferrite_gen::cosim::{self, CosimOptions};
use ferrite_gen::ir::Model;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  ferrite cosim out/mlp --input examples/mlp_w1a1/inputs.npy
  ferrite cosim out/mlp --random 100 --stall 0.3 --seed 7
  ferrite cosim out/cnv --random 4 --trace      # name the first node whose output diverges
Verilator 5 and a C++ compiler must be on PATH; builds are cached (see --cache).";

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("frames").required(true).args(["input", "random"])))]
pub struct Args {
    /// Output directory of `ferrite build` (holds model.json, design.json, rtl/).
    pub out: PathBuf,
    /// Frames (.npy of shape (N, elems) or (N, ...)): integers are the hardware's frames,
    /// floats the model's float inputs (quantized by its host pre-steps).
    #[arg(long, value_name = "X.npy")]
    pub input: Option<PathBuf>,
    /// N frames of uniformly random values of the input type.
    #[arg(long, value_name = "N")]
    pub random: Option<usize>,
    /// Probability of an input idle and of output backpressure each cycle (0 <= P < 1).
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "P",
        allow_negative_numbers = true
    )]
    pub stall: f64,
    /// Seed of the random frames, the stalls and the initial register state.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Simulate the trace top and name the first node and port whose output diverges.
    #[arg(long)]
    pub trace: bool,
    /// Idle cycles after reset before the first input beat (default 0: at once; at most
    /// 1,000,000).
    #[arg(long, default_value_t = 0, value_name = "CYCLES",
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub settle: u32,
    /// Verilator build cache (default: $FERRITE_CACHE, $XDG_CACHE_HOME/ferrite or
    /// ~/.cache/ferrite).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Not needed: the input type given to `ferrite build --input-type` is in
    /// OUT/model.json. When given, it must be that type (a check).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<ferrite_gen::ir::InputType>,
    /// Also write OUT/report.html (as `ferrite report OUT`), pass or fail.
    #[arg(long)]
    pub report: bool,
}

pub fn run(args: Args, ui: Ui) -> anyhow::Result<ExitCode> {
    let model_path = args.out.join("model.json");
    if !model_path.is_file() {
        return Err(usage(
            format!(
                "{} is not a `ferrite build` output (it has no model.json)",
                args.out.display()
            ),
            format!(
                "run `ferrite build MODEL -o {}` first, or give the folder `ferrite build` wrote",
                args.out.display()
            ),
        ));
    }
    let rebuild = format!(
        "rebuild it with `ferrite build MODEL -o {}`",
        args.out.display()
    );
    let model = Model::load_json(&model_path)
        .map_err(|e| fail(e, "cannot read the build", &model_path, &rebuild))?;
    if let Some(t) = args.input_type {
        let recorded = model.declared_input.as_ref().map(|d| d.ty.as_str());
        if recorded != Some(t.to_string().as_str()) {
            return Err(usage(
                format!(
                    "--input-type {t}: {} was built with {}; the input type is fixed at build time",
                    args.out.display(),
                    match recorded {
                        Some(r) => format!("input type {r}"),
                        None => "no declared input type".into(),
                    }
                ),
                "drop --input-type, or build again with it",
            ));
        }
    }
    let frames = match (&args.input, args.random) {
        (Some(p), _) => cosim::frames_from_npy(&model, p).map_err(|e| {
            fail(
                e,
                "cannot read the input frames",
                p,
                "give a .npy of shape (N, elements) or (N, ...) of the model's input",
            )
        })?,
        (None, Some(n)) => {
            if n == 0 {
                return Err(usage(
                    "--random needs at least 1 frame",
                    "pass --random N with N >= 1",
                ));
            }
            let elems = model.input().tensor.elems();
            if n.saturating_mul(elems) > cosim::MAX_FRAME_VALUES {
                return Err(usage(
                    format!(
                        "--random {n}: {n} frames of {elems} values is more than the {} values a run holds in memory",
                        cosim::MAX_FRAME_VALUES
                    ),
                    format!(
                        "run fewer frames (at most {}) in several runs",
                        cosim::MAX_FRAME_VALUES / elems.max(1)
                    ),
                ));
            }
            cosim::random_frames(&model, n, args.seed)
        }
        (None, None) => {
            return Err(usage(
                "no frames to simulate",
                "pass --input X.npy or --random N",
            ));
        }
    };
    let opts = CosimOptions {
        stall: args.stall,
        seed: args.seed,
        trace: args.trace,
        cache_dir: args.cache.clone(),
        settle_cycles: args.settle,
    };
    let bars = ui.progress();
    let report = cosim::run_with(&args.out, &frames, &opts, &bars).map_err(|e| {
        let help = match &e {
            cosim::CosimError::Sim(_) => "Verilator 5 and a C++ compiler must be on PATH, and the build cache (--cache) writable",
            _ => "rebuild the design with `ferrite build`",
        };
        fail(e, "co-simulation failed", &args.out, help)
    })?;
    bars.finish();
    let path = cosim::write_report(&args.out, &report).map_err(|e| {
        fail(
            e,
            "cannot write cosim.json",
            &args.out,
            "check that the folder is writable",
        )
    })?;
    let s = &report.sim;
    ui.say(&format!(
        "cosim {}: {} frames, stall {}, seed {}{}",
        super::terminal_name(&report.model),
        report.frames,
        report.stall,
        report.seed,
        if report.trace { ", trace" } else { "" }
    ));
    ui.say(&format!(
        "  verilator: top {}, {} in {:.2}s; simulated {} cycles in {:.2}s ({:.1} M cycles/s)",
        super::terminal_name(&s.top),
        if s.cache_hit { "cached" } else { "built" },
        s.build_secs,
        s.cycles_simulated,
        s.sim_secs,
        s.cycles_per_sec / 1e6
    ));
    ui.say(&format!(
        "  cycles/frame: measured {}, expected {}; latency {} cycles",
        report.cycles_per_frame_measured, report.cycles_per_frame_expected, report.latency_cycles
    ));
    for l in &report.nodes {
        let measured = l
            .cycles_per_frame_measured
            .map_or(String::new(), |m| format!(", measured {m}"));
        let mism = l
            .mismatches
            .map_or(String::new(), |m| format!(", {m} mismatching elements"));
        ui.say(&format!(
            "  node {} ({}, PE {} SIMD {}): {} cycles/frame expected{measured}{mism}",
            super::terminal_name(&l.name),
            l.kind,
            l.pe,
            l.simd,
            l.cycles_per_frame_expected
        ));
    }
    if let Some(d) = &report.first_divergence {
        ui.say(&format!(
            "  FIRST DIVERGENCE: node {} `{}` port {}, frame {}, element {}: expected {}, got {}",
            d.index,
            super::terminal_name(&d.node),
            d.port,
            d.frame,
            d.element,
            d.expected,
            d.got
        ));
    }
    for m in report.first_mismatches.iter().take(10) {
        ui.say(&format!(
            "  mismatch: frame {} element {}: expected {}, got {}",
            m.frame, m.element, m.expected, m.got
        ));
    }
    ui.say(&format!("  wrote {}", path.display()));
    if args.report {
        super::report::write_html(&args.out, None, ui)?;
    }
    if report.passed() {
        ui.say(&format!("PASS: all {} outputs bit-exact", report.frames));
        Ok(ExitCode::SUCCESS)
    } else {
        ui.say(&format!(
            "FAIL: {} mismatching output elements",
            report.mismatches
        ));
        Ok(ExitCode::FAILURE)
    }
}
