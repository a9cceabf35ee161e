//! `ferrite inspect MODEL`: the lowered graph (host steps, nodes, shapes, datatypes,
//! accumulator widths, threshold counts) or every unsupported node at once.
use ferrite_gen::ir::{Model, Source};
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  ferrite inspect examples/cnv_w2a2/model.onnx
  ferrite inspect examples/mlp_w1a1/model.onnx --graph     # the streamlined import graph too
  ferrite inspect model.onnx --input-type INT8             # a float input without a quantizer";

#[derive(clap::Args)]
pub struct Args {
    /// Model: QONNX (.onnx) or ferrite IR (.json).
    pub model: PathBuf,
    /// Also print the streamlined import graph (QONNX models).
    #[arg(long)]
    pub graph: bool,
    /// Datatype of a float input the model does not quantize (see `ferrite build`).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<ferrite_gen::ir::InputType>,
}

/// The human-readable summary printed by `ferrite inspect`.
pub fn describe(m: &Model) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "model `{}`", m.name);
    if let Some(p) = &m.source {
        let _ = writeln!(s, "  source {} (sha256 {})", p.file, p.sha256);
    }
    for i in &m.inputs {
        let _ = writeln!(
            s,
            "  hardware input `{}`: {:?} = {} values of {} (stream {})",
            i.name,
            i.logical_shape(),
            i.tensor.elems(),
            i.tensor.dtype,
            i.tensor
        );
    }
    if let Some(d) = &m.declared_input {
        let by = match d.by {
            ferrite_gen::ir::DeclaredBy::Annotation => "QONNX annotation",
            ferrite_gen::ir::DeclaredBy::Flag => "--input-type",
        };
        let _ = writeln!(
            s,
            "  declared input type of `{}`: {} (from {by})",
            super::terminal_name(&d.input),
            d.ty
        );
    }
    let _ = writeln!(s, "host pre steps ({}):", m.pre.len());
    for st in &m.pre {
        let _ = writeln!(s, "  {}", st.describe());
    }
    let a = match m.analyze() {
        Ok(a) => a,
        Err(e) => {
            let _ = writeln!(s, "invalid graph: {e}");
            return s;
        }
    };
    let _ = writeln!(s, "hardware nodes ({}):", m.nodes.len());
    for &id in &a.order {
        let n = &m.nodes[id];
        let origin = n
            .origin
            .as_ref()
            .map(|o| format!("  <- {o}"))
            .unwrap_or_default();
        let from: Vec<String> = n.inputs.iter().map(Source::to_string).collect();
        let outs: Vec<String> = a.out_types[id].iter().map(|t| t.to_string()).collect();
        let _ = writeln!(
            s,
            "  {} {} {}; {} -> {} (from {}){origin}",
            n.name,
            n.kind(),
            n.op.as_kind().summary(),
            a.in_types[id]
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            outs.join(", "),
            from.join(", ")
        );
    }
    let o = a.type_of(m, &m.outputs[0]);
    let _ = writeln!(
        s,
        "  hardware output: {} values of {} ({}: {o})",
        o.elems(),
        o.dtype,
        m.outputs[0]
    );
    let _ = writeln!(s, "host post steps ({}):", m.post.len());
    for st in &m.post {
        let _ = writeln!(s, "  {}", st.describe());
    }
    s
}

pub fn run(args: Args, ui: super::ui::Ui) -> anyhow::Result<ExitCode> {
    use super::error::fail;
    use super::golden::IMPORT_HELP;
    use ferrite_gen::progress::Progress;
    let onnx = args.model.extension().is_some_and(|e| e == "onnx");
    let bars = ui.progress();
    bars.step("importing", None);
    let m = if onnx && args.graph {
        let (g, m) = ferrite_gen::load_onnx_with(&args.model, args.input_type)
            .map_err(|e| fail(e, "cannot import the model", &args.model, IMPORT_HELP))?;
        bars.finish();
        super::ui::data(&format!("streamlined {g}\n"));
        m
    } else {
        ferrite_gen::load_model_with(&args.model, args.input_type)
            .map_err(|e| fail(e, "cannot import the model", &args.model, IMPORT_HELP))?
    };
    bars.finish();
    // the listing is what inspect exists to print: shown under --quiet too
    super::ui::data(&describe(&m));
    Ok(ExitCode::SUCCESS)
}
