//! The `ferrite` command line. CLI only: argument parsing and error display; the work is
//! done by the `ferrite_gen` library.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cli;

#[derive(Parser)]
#[command(
    name = "ferrite",
    version,
    about = "Quantized neural networks (QONNX) to streaming dataflow Verilog"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the RTL of a model (QONNX .onnx or ferrite .json) into OUT.
    Build(cli::build::Args),
    /// Run the bit-accurate golden model on inputs from a .npy file.
    Golden(cli::golden::Args),
    /// Print the lowered graph and every unsupported node.
    Inspect(cli::inspect::Args),
    /// Co-simulate a built design in Verilator against the golden model.
    Cosim(cli::cosim::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(a) => cli::build::run(a),
        Command::Golden(a) => cli::golden::run(a),
        Command::Inspect(a) => cli::inspect::run(a),
        Command::Cosim(a) => cli::cosim::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", cli::terminal_safe(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
