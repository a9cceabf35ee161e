//! `ferrite build MODEL -o OUT [--folding f.json] [--target-cycles N]`: generate the RTL.
//!
//! Writes `OUT/rtl/` (one Verilog file a module and the `.mem` files), `OUT/model.json`,
//! `OUT/design.json`, `OUT/folding.json`, `OUT/report.json` and the marker
//! `OUT/.ferrite-out`; prints the folding it used and the expected cycles a frame.
use super::error::Doing;
use super::ui::Ui;
use ferrite_gen::build::{BuildError, BuildOptions, build_with};
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  ferrite build examples/mlp_w1a1/model.onnx -o out/mlp
  ferrite build examples/cnv_w2a2/model.onnx -o out/cnv --target-cycles 5000
  ferrite build model.onnx -o out/m --folding folding.json      # FINN's folding config works too
  ferrite build model.onnx -o out/m --input-type 'FIXED<8,3>'   # a float input without a quantizer
  ferrite build model.onnx -o out/m --board pynq-z2   # + OUT/vivado/build.tcl and the PYNQ driver";

#[derive(clap::Args)]
pub struct Args {
    /// Model: QONNX (.onnx) or ferrite IR (.json).
    pub model: PathBuf,
    /// Output directory (created, or replaced if an earlier `ferrite build` wrote it).
    #[arg(short, long)]
    pub out: PathBuf,
    /// Folding file: ferrite's {"nodes": {"<node>": {"pe": P, "simd": S}}} or FINN's folding
    /// config ({"<node>": {"PE": P, "SIMD": S, ...}, "Defaults": {...}}); nodes it does not
    /// name are folded automatically.
    #[arg(long)]
    pub folding: Option<PathBuf>,
    /// Fold (the nodes a folding file does not name) to meet N cycles a frame (N >= 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub target_cycles: Option<u64>,
    /// Datatype of a float input the model does not quantize (no quantizer, no QONNX
    /// annotation): BIPOLAR, BINARY, INTn, UINTn, FIXED<W,I> or UFIXED<W,I> (W bits, I
    /// integer bits with the sign, as ap_fixed<W,I>). The host quantizes float frames to
    /// it (round half to even, saturate); recorded in OUT/model.json.
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<ferrite_gen::ir::InputType>,
    /// Build for this board (see `ferrite boards`): its FPGA family decides memory
    /// placement and the estimates; --fit and --target-fps use its resources and clock. For
    /// a Zynq or Alveo board also write the Vivado flow (OUT/vivado/build.tcl) and, on
    /// Zynq, the PYNQ driver (OUT/driver/).
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,
    /// A folder of board files (as `ferrite boards --boards`).
    #[arg(long, value_name = "DIR")]
    pub boards: Option<PathBuf>,
    /// Fold to the fastest pipeline that fits the board's budget (--share of each resource,
    /// by the estimate). Needs --board.
    #[arg(long, requires = "board", conflicts_with_all = ["folding", "target_cycles"])]
    pub fit: bool,
    /// Fold to F frames a second at the clock, at the least estimated resource (within the
    /// board's budget when --board is given).
    #[arg(long, value_name = "F", conflicts_with_all = ["folding", "target_cycles"], value_parser = positive_f64)]
    pub target_fps: Option<f64>,
    /// The clock for --target-fps and the printed rates, in MHz (default: the board's, else 100).
    #[arg(long, value_name = "MHZ", value_parser = positive_f64)]
    pub clock: Option<f64>,
    /// The share of each of the board's resources the design may take, in percent.
    #[arg(long, value_name = "PERCENT", default_value_t = 80.0, value_parser = percent)]
    pub share: f64,
    /// With --fit or --target-fps: check the fit by synthesis. Each round builds, runs
    /// `ferrite synth` (Yosys, and nextpnr on ECP5/iCE40; minutes) and compares the
    /// measured LUT/FF/BRAM/DSP with the board's share; a resource over it lowers that
    /// resource's budget by the measured overshoot and the model is folded again, up to
    /// 4 rounds. OUT ends with the build that fits and its synth.json.
    #[arg(long, requires = "board")]
    pub by_synthesis: bool,
    /// Also write OUT/report.html (as `ferrite report OUT`).
    #[arg(long)]
    pub report: bool,
}

/// Rounds of build and synthesis `--by-synthesis` tries.
pub const SYNTH_ROUNDS: usize = 4;

fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a positive number")),
    }
}

fn percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 100.0 => Ok(v),
        _ => Err(format!("`{s}` is not a percentage in (0, 100]")),
    }
}

/// What failed, on which file, and the default advice, for each stage of a build.
pub fn doing(
    e: &BuildError,
    model: &std::path::Path,
    out: &std::path::Path,
    folding: Option<&std::path::Path>,
) -> Doing {
    let (what, file, help) = match e {
        BuildError::Load(_) => (
            "cannot import the model",
            model,
            "MODEL must be a QONNX model (.onnx, as Brevitas exports it) or ferrite IR (.json); \
             `ferrite inspect MODEL` shows how far it imports",
        ),
        BuildError::Fold(_) => (
            "cannot fold the model",
            folding.unwrap_or(model),
            "fix the folding file, or leave the nodes out of it to fold them automatically",
        ),
        BuildError::Stitch(_) | BuildError::Emit(_) => (
            "cannot generate the RTL",
            model,
            "`ferrite inspect MODEL` shows the lowered graph",
        ),
        BuildError::Shell(_) => (
            "cannot generate the board's Vivado flow and driver",
            model,
            "check the board file (`ferrite boards NAME`); docs/vivado.md says what is supported",
        ),
        BuildError::Out(_) => (
            "cannot write the build",
            out,
            "choose another output directory with -o",
        ),
        BuildError::Fit(_) => (
            "cannot fold to the goal",
            model,
            "lower --target-fps, raise --share, or choose a larger board (`ferrite boards`)",
        ),
    };
    Doing {
        what: what.into(),
        file: file.display().to_string(),
        help: help.into(),
    }
}

pub fn run(args: Args, ui: Ui) -> anyhow::Result<ExitCode> {
    let board = super::boards::lookup(args.board.as_deref(), args.boards.clone())?;
    let opts = BuildOptions {
        folding: args.folding.clone(),
        target_cycles: args.target_cycles,
        input_type: args.input_type,
        board,
        fit: args.fit,
        target_fps: args.target_fps,
        clock_mhz: args.clock,
        share: Some(args.share / 100.0),
        fit_budget: None,
    };
    let b = if args.by_synthesis {
        by_synthesis(&args, opts.clone(), ui)?
    } else {
        build_once(&args, &opts, ui)?
    };
    let r = &b.report;
    ui.say(&format!("folding: {}", b.plan.how));
    for line in table(&b, &opts) {
        ui.say(&line);
    }
    ui.say(&format!(
        "wrote {} ({} files in rtl/, top {})",
        b.out.display(),
        r.rtl_files.len(),
        r.top
    ));
    if let Some(board) = &opts.board {
        ui.say(&format!(
            "board {}: {}",
            board.name,
            match board.shell {
                ferrite_gen::boards::Shell::ZynqPynq | ferrite_gen::boards::Shell::ZynqMpsoc =>
                    "vivado/build.tcl (vivado -mode batch -source it) and the PYNQ driver in driver/",
                ferrite_gen::boards::Shell::AlveoXrt =>
                    "vivado/build.tcl (packages an Alveo kernel; see docs/vivado.md)",
                _ => "no vendor flow files (open-flow board)",
            }
        ));
    }
    if args.report {
        super::report::write_html(&args.out, None, ui)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn build_once(
    args: &Args,
    opts: &BuildOptions,
    ui: Ui,
) -> anyhow::Result<ferrite_gen::build::BuildOutput> {
    let bars = ui.progress();
    let b = build_with(&args.model, &args.out, opts, &bars).map_err(|e| {
        let d = doing(&e, &args.model, &args.out, args.folding.as_deref());
        anyhow::Error::new(e).context(d)
    })?;
    bars.finish();
    Ok(b)
}

/// `--by-synthesis`: fold, build and synthesise until the measurement is within the
/// board's share ([`ferrite_gen::fit::next_budget`] between rounds); an error when it is
/// still over after [`SYNTH_ROUNDS`] rounds.
fn by_synthesis(
    args: &Args,
    mut opts: BuildOptions,
    ui: Ui,
) -> anyhow::Result<ferrite_gen::build::BuildOutput> {
    use ferrite_gen::estimate::Cost;
    use ferrite_gen::synth::{self, SynthOptions, tools::Env};
    if !(opts.fit || opts.target_fps.is_some()) {
        return Err(super::error::usage(
            "--by-synthesis checks a fit: it needs --fit or --target-fps".to_string(),
            "add --fit (the fastest folding within the board's share) or --target-fps F",
        ));
    }
    let board = opts
        .board
        .clone()
        .ok_or_else(|| anyhow::anyhow!("--by-synthesis needs --board"))?;
    let limit = opts.share_of(&board);
    let mut budget = limit;
    let show = |c: &Cost| format!("LUT {} FF {} BRAM {} DSP {}", c.lut, c.ff, c.bram, c.dsp);
    for round in 1..=SYNTH_ROUNDS {
        opts.fit_budget = Some(budget);
        ui.say(&format!(
            "round {round}: folding within {} (estimated units)",
            show(&budget)
        ));
        let b = build_once(args, &opts, ui)?;
        let sopts = SynthOptions {
            board: board.clone(),
            freq_mhz: None,
            seed: 1,
            bitstream: true,
        };
        let bars = ui.progress();
        let steps = super::synth::Steps::new(&bars, ui);
        let r = synth::run_with(&args.out, &sopts, &Env::process(), &steps).map_err(|e| {
            let (what, file, help) = super::synth::what_failed(&e, &args.out);
            anyhow::Error::new(e).context(super::error::doing(what, file, &help))
        })?;
        bars.finish();
        let measured = Cost {
            lut: r.luts,
            ff: r.ffs,
            bram: r.brams,
            dsp: r.dsps,
        };
        ui.say(&format!(
            "round {round}: {} cycles a frame; estimated {}; measured {}{}; limit {} ({} % of {})",
            b.report.exp_cycles_per_frame,
            show(&b.report.estimate.total),
            show(&measured),
            r.fmax_mhz
                .map_or(String::new(), |f| format!(", Fmax {f:.1} MHz")),
            show(&limit),
            args.share,
            board.name
        ));
        match ferrite_gen::fit::next_budget(&budget, &limit, &measured) {
            None => {
                ui.say(&format!(
                    "fits {} by synthesis after {round} round(s); the synthesis figures are in {}",
                    board.name,
                    args.out.join("synth.json").display()
                ));
                return Ok(b);
            }
            Some(next) => {
                ui.say(&format!(
                    "round {round}: over the limit: {}",
                    ferrite_gen::fit::overrun(&measured, &limit)
                ));
                budget = next;
            }
        }
    }
    Err(anyhow::anyhow!(
        "the design is still over {} % of {} by synthesis after {SYNTH_ROUNDS} rounds (the \
         last build and its synth.json are in {})",
        args.share,
        board.name,
        args.out.display()
    )
    .context(super::error::doing(
        "cannot fit the board by synthesis",
        args.model.display(),
        "lower --share or --target-fps, or choose a larger board (`ferrite boards`)",
    )))
}

/// The folding and estimate table `ferrite build` prints: one row an engine, FIFOs and
/// converters summed, the total, and the board's budget when there is one.
fn table(b: &ferrite_gen::build::BuildOutput, opts: &BuildOptions) -> Vec<String> {
    use ferrite_gen::stitch::Role;
    let family = b.design.family;
    let cost = &b.report.estimate;
    let by_name: std::collections::BTreeMap<&str, ferrite_gen::estimate::Cost> = cost
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.cost))
        .collect();
    let mut out = vec![format!(
        "  {:>2} {:<24} {:<13} {:>4} {:>4} {:>9} {:>7} {:>7} {:>5} {:>4}   (estimates: {})",
        "#",
        "node",
        "kind",
        "PE",
        "SIMD",
        "cycles",
        "LUT",
        "FF",
        "BRAM",
        "DSP",
        family.name()
    )];
    let r = &b.report;
    for l in &r.nodes {
        let c = by_name.get(l.name.as_str()).copied().unwrap_or_default();
        out.push(format!(
            "  {:>2} {:<24} {:<13} {:>4} {:>4} {:>9} {:>7} {:>7} {:>5} {:>4}",
            l.index,
            super::terminal_name(&l.name),
            l.kind,
            l.pe,
            l.simd,
            l.exp_cycles,
            c.lut,
            c.ff,
            c.bram,
            c.dsp
        ));
    }
    let (mut fifos, mut convs) = (
        (0usize, ferrite_gen::estimate::Cost::default()),
        (0usize, ferrite_gen::estimate::Cost::default()),
    );
    for n in &b.design.nodes {
        let c = by_name.get(n.name.as_str()).copied().unwrap_or_default();
        match n.role {
            Role::Fifo { .. } => {
                fifos.0 += 1;
                fifos.1 += c;
            }
            Role::Converter { .. } => {
                convs.0 += 1;
                convs.1 += c;
            }
            Role::Engine { .. } => {}
        }
    }
    for (what, (count, c)) in [("FIFOs", fifos), ("width converters", convs)] {
        if count > 0 {
            out.push(format!(
                "     {:<24} {:<13} {:>4} {:>4} {:>9} {:>7} {:>7} {:>5} {:>4}",
                format!("{count} {what}"),
                "",
                "",
                "",
                "",
                c.lut,
                c.ff,
                c.bram,
                c.dsp
            ));
        }
    }
    let t = cost.total;
    out.push(format!(
        "     {:<24} {:<13} {:>4} {:>4} {:>9} {:>7} {:>7} {:>5} {:>4}",
        "total", "", "", "", r.exp_cycles_per_frame, t.lut, t.ff, t.bram, t.dsp
    ));
    if let (Some(board), Some(budget)) = (&opts.board, opts.budget()) {
        let full = ferrite_gen::estimate::budget(board, 1.0);
        let pct = |v: u64, of: u64| {
            if of == 0 {
                "-".to_string()
            } else {
                format!("{:.0}%", v as f64 * 100.0 / of as f64)
            }
        };
        out.push(format!(
            "     {:<24} {:<13} {:>4} {:>4} {:>9} {:>7} {:>7} {:>5} {:>4}",
            format!("share of {}", board.name),
            "",
            "",
            "",
            "",
            pct(t.lut, full.lut),
            pct(t.ff, full.ff),
            pct(t.bram, full.bram),
            pct(t.dsp, full.dsp)
        ));
        if !t.fits(&budget) {
            out.push(format!(
                "warning: the estimate exceeds {}: {}; try --fit",
                opts.budget_name(),
                ferrite_gen::fit::overrun(&t, &budget)
            ));
        }
    }
    let clock = opts.clock();
    out.push(format!(
        "expected cycles a frame: {} (slowest node: {}); at {clock} MHz: {:.0} frames/s, {:.2} us a frame",
        r.exp_cycles_per_frame,
        super::terminal_name(&r.bottleneck),
        clock * 1e6 / r.exp_cycles_per_frame.max(1) as f64,
        r.exp_cycles_per_frame as f64 / clock
    ));
    out
}
