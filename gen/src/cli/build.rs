//! `ferrite build MODEL -o OUT [--folding f.json] [--target-cycles N]`: generate the RTL.
//!
//! Writes `OUT/rtl/` (one Verilog file a module and the `.mem` files), `OUT/model.json`,
//! `OUT/design.json`, `OUT/folding.json`, `OUT/report.json` and the marker
//! `OUT/.ferrite-out`; prints the folding it used and the expected cycles a frame.
use ferrite_gen::build::{BuildOptions, build};
use std::path::PathBuf;
use std::process::ExitCode;

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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let opts = BuildOptions {
        folding: args.folding,
        target_cycles: args.target_cycles,
        input_type: args.input_type,
    };
    let b = build(&args.model, &args.out, &opts)?;
    let r = &b.report;
    println!("folding: {}", b.plan.how);
    for l in &r.nodes {
        println!(
            "  {:>2} {:<24} {:<13} PE {:>4} SIMD {:>4}  {:>8} cycles",
            l.index,
            super::terminal_name(&l.name),
            l.kind,
            l.pe,
            l.simd,
            l.exp_cycles
        );
    }
    println!(
        "expected cycles a frame: {} (slowest node: {})",
        r.exp_cycles_per_frame,
        super::terminal_name(&r.bottleneck)
    );
    for n in &r.inserted {
        match &n.role {
            ferrite_gen::stitch::Role::Fifo { depth, width, .. } => println!(
                "  {:<30} FIFO {:>6} beats x {} bits",
                super::terminal_name(&n.name),
                depth,
                width
            ),
            ferrite_gen::stitch::Role::Converter {
                in_lanes,
                out_lanes,
                elem_bits,
            } => println!(
                "  {:<30} width converter {in_lanes} -> {out_lanes} lanes of {elem_bits} bits",
                super::terminal_name(&n.name)
            ),
            _ => {}
        }
    }
    println!(
        "wrote {} ({} files in rtl/, top {})",
        b.out.display(),
        r.rtl_files.len(),
        r.top
    );
    Ok(ExitCode::SUCCESS)
}
