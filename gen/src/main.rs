//! The `ferrite` command line. CLI only: argument parsing, output and error display; the
//! work is done by the `ferrite_gen` library.

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

mod cli;

const EXAMPLES: &str = "\
Examples:
  ferrite build examples/mlp_w1a1/model.onnx -o out/mlp
  ferrite cosim out/mlp --input examples/mlp_w1a1/inputs.npy --stall 0.3
  ferrite golden examples/mlp_w1a1/model.onnx --input x.npy --output y.npy
  ferrite report out/mlp                      # out/mlp/report.html; --format md for CI logs
  ferrite inspect examples/cnv_w2a2/model.onnx
  ferrite boards
  ferrite synth out/mlp --board icebreaker    # Yosys + nextpnr: LUT/FF/BRAM/DSP, Fmax, bitstream
  ferrite completions bash > ~/.local/share/bash-completion/completions/ferrite
  ferrite man --dir man/

Documentation: docs/getting-started.md, docs/cli.md (README.md links them).";

#[derive(Parser)]
#[command(
    name = "ferrite",
    version,
    about = "Quantized neural networks (QONNX) to streaming dataflow Verilog",
    long_about = "Quantized neural networks (QONNX) to streaming dataflow Verilog.\n\n\
                  ferrite compiles a QONNX model (as Brevitas exports it) into one Verilog \
                  engine per layer, streaming AXI-Stream into the next, checks it with a \
                  bit-accurate golden model and co-simulates the RTL in Verilator.",
    after_help = EXAMPLES,
    propagate_version = true
)]
struct Cli {
    /// Print nothing but errors (and the data a command exists to print: inspect's
    /// listing, completions, the man page).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// More detail: each step with its time, and the full text of decoder errors.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the RTL of a model (QONNX .onnx or ferrite .json) into OUT.
    #[command(after_help = cli::build::EXAMPLES)]
    Build(cli::build::Args),
    /// Run the bit-accurate golden model on inputs from a .npy file.
    #[command(after_help = cli::golden::EXAMPLES)]
    Golden(cli::golden::Args),
    /// Print the lowered graph and every unsupported node.
    #[command(after_help = cli::inspect::EXAMPLES)]
    Inspect(cli::inspect::Args),
    /// Co-simulate a built design in Verilator against the golden model.
    #[command(after_help = cli::cosim::EXAMPLES)]
    Cosim(cli::cosim::Args),
    /// List the boards (part, resources, default clock, shell), or show one.
    #[command(after_help = cli::boards::EXAMPLES)]
    Boards(cli::boards::Args),
    /// Synthesise a build with the open FPGA tools (Yosys; nextpnr and a bitstream on ECP5
    /// and iCE40 boards) and record what they measure in OUT/synth.json.
    #[command(after_help = cli::synth::EXAMPLES)]
    Synth(cli::synth::Args),
    /// Write OUT/report.html (or a Markdown/JSON summary): pipeline, cycles, resources,
    /// comparison, roofline, provenance.
    #[command(after_help = cli::report::EXAMPLES)]
    Report(cli::report::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    #[command(after_help = cli::docs::COMPLETION_EXAMPLES)]
    Completions(cli::docs::CompletionArgs),
    /// Print the man page (roff) to stdout, or write one page per command into a folder.
    #[command(after_help = cli::docs::MAN_EXAMPLES)]
    Man(cli::docs::ManArgs),
}

fn main() -> ExitCode {
    cli::error::install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return cli::error::clap_error(e),
    };
    let ui = cli::ui::Ui {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    let result = match cli.command {
        Command::Build(a) => cli::build::run(a, ui),
        Command::Golden(a) => cli::golden::run(a, ui),
        Command::Inspect(a) => cli::inspect::run(a, ui),
        Command::Cosim(a) => cli::cosim::run(a, ui),
        Command::Boards(a) => cli::boards::run(a, ui),
        Command::Report(a) => cli::report::run(a, ui),
        Command::Synth(a) => cli::synth::run(a, ui),
        Command::Completions(a) => cli::docs::completions(a, Cli::command()),
        Command::Man(a) => cli::docs::man(a, Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(e) => cli::error::report(&e, ui.verbose > 0),
    }
}
