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
    /// Build for this board (see `ferrite boards`): for a Zynq or Alveo board also write
    /// the Vivado flow (OUT/vivado/build.tcl) and, on Zynq, the PYNQ driver (OUT/driver/).
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,
    /// A folder of board files (as `ferrite boards --boards`).
    #[arg(long, value_name = "DIR")]
    pub boards: Option<PathBuf>,
    /// Also write OUT/report.html (as `ferrite report OUT`).
    #[arg(long)]
    pub report: bool,
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
    };
    Doing {
        what: what.into(),
        file: file.display().to_string(),
        help: help.into(),
    }
}

pub fn run(args: Args, ui: Ui) -> anyhow::Result<ExitCode> {
    let opts = BuildOptions {
        folding: args.folding.clone(),
        target_cycles: args.target_cycles,
        input_type: args.input_type,
        board: super::boards::lookup(args.board.as_deref(), args.boards.clone())?,
    };
    let bars = ui.progress();
    let b = build_with(&args.model, &args.out, &opts, &bars).map_err(|e| {
        let d = doing(&e, &args.model, &args.out, args.folding.as_deref());
        anyhow::Error::new(e).context(d)
    })?;
    bars.finish();
    let r = &b.report;
    ui.say(&format!("folding: {}", b.plan.how));
    for l in &r.nodes {
        ui.say(&format!(
            "  {:>2} {:<24} {:<13} PE {:>4} SIMD {:>4}  {:>8} cycles",
            l.index,
            super::terminal_name(&l.name),
            l.kind,
            l.pe,
            l.simd,
            l.exp_cycles
        ));
    }
    ui.say(&format!(
        "expected cycles a frame: {} (slowest node: {})",
        r.exp_cycles_per_frame,
        super::terminal_name(&r.bottleneck)
    ));
    for n in &r.inserted {
        match &n.role {
            ferrite_gen::stitch::Role::Fifo { depth, width, .. } => ui.say(&format!(
                "  {:<30} FIFO {:>6} beats x {} bits",
                super::terminal_name(&n.name),
                depth,
                width
            )),
            ferrite_gen::stitch::Role::Converter {
                in_lanes,
                out_lanes,
                elem_bits,
            } => ui.say(&format!(
                "  {:<30} width converter {in_lanes} -> {out_lanes} lanes of {elem_bits} bits",
                super::terminal_name(&n.name)
            )),
            _ => {}
        }
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
