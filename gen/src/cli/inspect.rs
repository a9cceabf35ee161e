//! `ferrite inspect MODEL`: the lowered graph (host steps, layers, shapes, datatypes,
//! accumulator widths, threshold counts) or every unsupported node at once.
use ferrite_gen::ir::{Layer, Model};
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Model: QONNX (.onnx) or ferrite IR (.json).
    pub model: PathBuf,
    /// Also print the streamlined import graph (QONNX models).
    #[arg(long)]
    pub graph: bool,
}

/// The human-readable summary printed by `ferrite inspect`.
pub fn describe(m: &Model) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "model `{}`", m.name);
    if let Some(p) = &m.source {
        let _ = writeln!(s, "  source {} (sha256 {})", p.file, p.sha256);
    }
    let _ = writeln!(
        s,
        "  hardware input: {:?} = {} values of {}",
        m.input.shape,
        m.input.elems(),
        m.input.dtype
    );
    let _ = writeln!(s, "host pre steps ({}):", m.pre.len());
    for st in &m.pre {
        let _ = writeln!(s, "  {}", st.describe());
    }
    let _ = writeln!(s, "hardware layers ({}):", m.layers.len());
    for l in &m.layers {
        let origin = l.origin().map(|o| format!("  <- {o}")).unwrap_or_default();
        match l {
            Layer::MatrixVector(v) => {
                let (lo, hi) = v.acc_range();
                let thr = match &v.thresholds {
                    Some(t) => format!(
                        "{} thresholds x {} rows -> {}",
                        t.per_channel(),
                        t.rows.len(),
                        t.out_type
                    ),
                    None => "no activation (accumulator out)".into(),
                };
                let _ = writeln!(
                    s,
                    "  {} MatrixVector {}x{} (mw x mh): in {} x w {} -> acc {} [{lo}, {hi}]; {thr}{origin}",
                    v.name,
                    v.mw,
                    v.mh,
                    v.input_type,
                    v.weight_type,
                    v.acc_type()
                );
            }
            Layer::Thresholding(t) => {
                let _ = writeln!(
                    s,
                    "  {} Thresholding {} values, {} channels: in {} -> {}; {} thresholds x {} rows{origin}",
                    t.name,
                    t.elems,
                    t.channels,
                    t.input_type,
                    t.thresholds.out_type,
                    t.thresholds.per_channel(),
                    t.thresholds.rows.len()
                );
            }
            Layer::LabelSelect(t) => {
                let _ = writeln!(
                    s,
                    "  {} LabelSelect top-{} of {}: in {} -> {}{origin}",
                    t.name,
                    t.k,
                    t.labels,
                    t.input_type,
                    t.index_type()
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "  hardware output: {} values of {}",
        m.output_elems(),
        m.output_type()
    );
    let _ = writeln!(s, "host post steps ({}):", m.post.len());
    for st in &m.post {
        let _ = writeln!(s, "  {}", st.describe());
    }
    s
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let onnx = args.model.extension().is_some_and(|e| e == "onnx");
    let m = if onnx && args.graph {
        let (g, m) = ferrite_gen::passes::load_onnx(&args.model)?;
        out(&format!("streamlined {g}\n"))?;
        m
    } else {
        ferrite_gen::load_model(&args.model)?
    };
    out(&describe(&m))?;
    Ok(ExitCode::SUCCESS)
}

/// Write to stdout; a closed pipe (`| head`) ends quietly instead of panicking.
fn out(s: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(s.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
