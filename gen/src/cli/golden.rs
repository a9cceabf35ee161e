//! `ferrite golden MODEL --input x.npy --output y.npy`: run the golden model.
//!
//! Input frames are read by the library's one reader (`ferrite_gen::npy`), one frame per row
//! of the first axis: an integer array holds the hardware's integer frames, a float array
//! the model's float inputs, quantized by its host pre-steps. For a QONNX `.onnx` model the
//! output is what the network returns, in float32 (host post-steps applied); `--hardware`
//! writes the integer outputs of the hardware part instead (int64). For a ferrite `.json`
//! IR model the output is integers (int64).
use super::error::{doing, fail, usage};
use super::ui::Ui;
use anyhow::{Context, bail};
use ferrite_gen::progress::Progress;
use ferrite_gen::report::compare::{COMPARISON_VERSION, GoldenComparison};
use ferrite_gen::{golden, npy};
use ndarray::{Array2, ArrayD};
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  ferrite golden examples/mlp_w1a1/model.onnx --input examples/mlp_w1a1/inputs.npy --output y.npy
  ferrite golden examples/mlp_w1a1/model.onnx --input examples/mlp_w1a1/inputs.npy --output y.npy \\
      --expected examples/mlp_w1a1/expected.npy --labels examples/mlp_w1a1/labels.npy
  ferrite golden examples/bnn_mlp_random/model.json --input x.npy --output y.npy";

/// The advice for a model that does not load.
pub const IMPORT_HELP: &str = "MODEL must be a QONNX model (.onnx, as Brevitas exports it) or \
     ferrite IR (.json); `ferrite inspect MODEL` shows how far it imports";

#[derive(clap::Args)]
pub struct Args {
    /// Model: QONNX (.onnx) or ferrite IR (.json).
    pub model: PathBuf,
    /// Input frames (.npy): the first axis counts frames.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the outputs (.npy), one row per frame.
    #[arg(long)]
    pub output: PathBuf,
    /// Write the hardware's integer outputs (before host post steps) instead of floats.
    #[arg(long)]
    pub hardware: bool,
    /// Reference outputs (.npy, e.g. from qonnx's executor) to compare with: float outputs
    /// report the largest difference and must agree on top-1 for every frame; integer
    /// outputs must be equal. Exits non-zero when they do not.
    #[arg(long, value_name = "Y.npy")]
    pub expected: Option<PathBuf>,
    /// Class labels (.npy, integers) of the first frames: prints top-1 accuracy.
    #[arg(long, value_name = "L.npy")]
    pub labels: Option<PathBuf>,
    /// Datatype of a float input the model does not quantize (see `ferrite build`). The
    /// host quantizes float frames to it, so `--expected` float references are no longer
    /// matched exactly: agreement is reported, not required.
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<ferrite_gen::ir::InputType>,
    /// Save the --expected (and --labels) comparison as JSON (top-1 agreement, largest
    /// difference), e.g. OUT/golden.json for `ferrite report OUT` to show. Written even
    /// when the comparison fails.
    #[arg(long, value_name = "FILE.json", requires = "expected")]
    pub comparison: Option<PathBuf>,
}

/// The class a frame's outputs pick: the index of the largest value (the first of equals),
/// or the value itself when the network outputs one index (a LabelSelect with k = 1).
fn top1(row: ndarray::ArrayView1<f64>, integer: bool) -> i64 {
    if row.len() == 1 && integer {
        return row[0] as i64;
    }
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best as i64
}

/// Compare outputs `y` (one row a frame) with `--expected` and `--labels`; whether they agree.
/// `approximate`: the model quantizes a float input by `--input-type`, so its outputs only
/// approximate a float reference: agreement is reported, and only integer differences fail.
fn compare(
    args: &Args,
    expected: Option<ArrayD<f64>>,
    y: &Array2<f64>,
    integer: bool,
    approximate: Option<&str>,
    ui: Ui,
) -> anyhow::Result<bool> {
    let (ok, rec) =
        compare_expected(args, expected, y, integer, approximate, ui).with_context(|| {
            doing(
                "cannot compare with the reference outputs",
                args.expected.as_deref().unwrap_or(&args.output).display(),
                "give --expected the outputs of the same frames, one row a frame",
            )
        })?;
    let (labelled, accuracy) = compare_labels(args, y, integer, ui).with_context(|| {
        doing(
            "cannot check the labels",
            args.labels.as_deref().unwrap_or(&args.output).display(),
            "give --labels one integer class a frame, for at most as many frames as --input",
        )
    })?;
    if let (Some(path), Some(mut rec)) = (&args.comparison, rec) {
        if let Some((l, c)) = accuracy {
            rec.labelled = Some(l);
            rec.correct = Some(c);
        }
        ferrite_gen::outdir::write_atomic(path, rec.to_json().as_bytes()).with_context(|| {
            doing(
                "cannot write the comparison",
                path.display(),
                "give --comparison a file in a folder you can write to",
            )
        })?;
        ui.note(&format!("comparison -> {}", path.display()));
    }
    Ok(ok && labelled)
}

fn compare_expected(
    args: &Args,
    expected: Option<ArrayD<f64>>,
    y: &Array2<f64>,
    integer: bool,
    approximate: Option<&str>,
    ui: Ui,
) -> anyhow::Result<(bool, Option<GoldenComparison>)> {
    let mut ok = true;
    let mut rec = None;
    if let (Some(path), Some(e)) = (&args.expected, expected) {
        let name = |p: &std::path::Path| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        };
        let mut r = GoldenComparison {
            comparison_version: COMPARISON_VERSION,
            model: name(&args.model),
            input: name(&args.input),
            reference: name(path),
            frames: y.nrows(),
            integer,
            top1_agree: 0,
            largest_difference: None,
            integers_differ: None,
            required: approximate.is_none() || integer,
            agrees: false,
            labelled: None,
            correct: None,
        };
        let e = rows(e, y.ncols(), path)?;
        if e.nrows() != y.nrows() {
            bail!(
                "{}: {} frames, the input has {}",
                path.display(),
                e.nrows(),
                y.nrows()
            );
        }
        let (ye, ee) = (y.rows().into_iter(), e.rows().into_iter());
        let agree = ye
            .zip(ee)
            .filter(|(a, b)| top1(*a, integer) == top1(*b, integer))
            .count();
        if integer {
            let differ = y.iter().zip(e.iter()).filter(|(a, b)| a != b).count();
            ui.note(&format!(
                "vs {}: {differ} of {} integers differ; top-1 agrees on {agree}/{} frames",
                path.display(),
                y.len(),
                y.nrows()
            ));
            ok &= differ == 0;
            r.integers_differ = Some(differ);
        } else {
            let max = y
                .iter()
                .zip(e.iter())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            ui.note(&format!(
                "vs {}: largest difference {max:e}; top-1 agrees on {agree}/{} frames",
                path.display(),
                y.nrows()
            ));
            r.largest_difference = Some(max);
            r.top1_agree = agree;
            if let Some(ty) = approximate {
                ui.note(&format!(
                    "  (the input is quantized to {ty} by --input-type: the outputs approximate \
                     the float reference; agreement is reported, not required)"
                ));
                r.agrees = ok && agree == y.nrows();
                return Ok((ok, Some(r)));
            }
        }
        ok &= agree == y.nrows();
        r.top1_agree = agree;
        r.agrees = ok;
        rec = Some(r);
    }
    Ok((ok, rec))
}

fn compare_labels(
    args: &Args,
    y: &Array2<f64>,
    integer: bool,
    ui: Ui,
) -> anyhow::Result<(bool, Option<(usize, usize)>)> {
    if let Some(path) = &args.labels {
        let l = read_any(path)?;
        let l: Vec<i64> = l.iter().map(|v| *v as i64).collect();
        if l.len() > y.nrows() {
            bail!(
                "{}: {} labels for {} frames",
                path.display(),
                l.len(),
                y.nrows()
            );
        }
        let right = l
            .iter()
            .zip(y.rows())
            .filter(|(lab, r)| top1(*r, integer) == **lab)
            .count();
        ui.note(&format!(
            "top-1 accuracy on the {} labelled frames: {right}/{} ({:.1} %)",
            l.len(),
            l.len(),
            100.0 * right as f64 / l.len().max(1) as f64
        ));
        return Ok((true, Some((l.len(), right))));
    }
    Ok((true, None))
}

/// Write `a` to `path` through a temporary file beside it, never half-written
/// (the library's one atomic writer, `outdir::write_atomic`).
fn write_atomic<T: ndarray_npy::WritableElement>(
    path: &std::path::Path,
    a: &Array2<T>,
) -> anyhow::Result<()> {
    use ndarray_npy::WriteNpyExt;
    let mut bytes = Vec::new();
    let writing = || {
        doing(
            "cannot write the outputs",
            path.display(),
            "give --output a file in a folder you can write to",
        )
    };
    a.write_npy(&mut bytes).with_context(writing)?;
    ferrite_gen::outdir::write_atomic(path, &bytes).with_context(writing)?;
    Ok(())
}

/// Read an .npy (the library's one reader) as f64 values with its shape.
fn read_any(path: &std::path::Path) -> anyhow::Result<ArrayD<f64>> {
    let a = npy::read(path)?;
    let v: Vec<f64> = match a.values {
        npy::Values::Int(v) => {
            if let Some(x) = v.iter().find(|x| x.unsigned_abs() > 1 << 52) {
                bail!("{}: integer {x} beyond 2^52", path.display());
            }
            v.into_iter().map(|x| x as f64).collect()
        }
        npy::Values::Float(v) => v,
    };
    Ok(ArrayD::from_shape_vec(a.shape, v)?)
}

/// Frames as rows of `elems` values.
fn rows(a: ArrayD<f64>, elems: usize, path: &std::path::Path) -> anyhow::Result<Array2<f64>> {
    let shape = a.shape().to_vec();
    let n = npy::frame_count(&shape, elems, &[elems])
        .map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    Ok(a.into_shape_with_order((n, elems))?)
}

/// Whether `a` and `b` name the same existing file.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

pub fn run(args: Args, ui: Ui) -> anyhow::Result<ExitCode> {
    for (what, p) in [
        ("--input", Some(&args.input)),
        ("--expected", args.expected.as_ref()),
        ("--labels", args.labels.as_ref()),
    ] {
        if let Some(p) = p
            && same_file(p, &args.output)
        {
            return Err(usage(
                format!(
                    "--output {} is the {what} file: it would be overwritten",
                    args.output.display()
                ),
                "write the outputs elsewhere",
            ));
        }
    }
    if let Some(c) = &args.comparison {
        for (what, p) in [
            ("--input", Some(&args.input)),
            ("--output", Some(&args.output)),
            ("--expected", args.expected.as_ref()),
            ("--labels", args.labels.as_ref()),
        ] {
            if let Some(p) = p
                && (same_file(p, c) || p == c)
            {
                return Err(usage(
                    format!(
                        "--comparison {} is the {what} file: it would be overwritten",
                        c.display()
                    ),
                    "write the comparison elsewhere, e.g. OUT/golden.json",
                ));
            }
        }
    }
    // read the reference before anything is written: a bad --expected writes nothing
    let expected = match &args.expected {
        Some(p) => Some(read_any(p).with_context(|| {
            doing(
                "cannot read the reference outputs",
                p.display(),
                "give --expected a .npy of the outputs, one row a frame",
            )
        })?),
        None => None,
    };
    let bars = ui.progress();
    bars.step("importing", None);
    let model = ferrite_gen::load_model_with(&args.model, args.input_type)
        .map_err(|e| fail(e, "cannot import the model", &args.model, IMPORT_HELP))?;
    let approximate = model
        .declared_input
        .as_ref()
        .filter(|d| d.by == ferrite_gen::ir::DeclaredBy::Flag)
        .map(|d| d.ty.clone());
    let g = golden::Golden::new(&model);
    // one reader, one rule: integer arrays are hardware frames, float arrays the model's
    // float inputs (through its host pre-steps); each frame goes through at once (no
    // intermediate copy of every frame)
    let frames = npy::frames(&model, &args.input).map_err(|e| {
        fail(
            e,
            "cannot read the input frames",
            &args.input,
            "give --input a .npy of the model's inputs, the first axis counting frames",
        )
    })?;
    let n_frames = match &frames {
        npy::Frames::Hardware(f) => f.len(),
        npy::Frames::Float(f) => f.len(),
    };
    bars.step("golden model", Some(n_frames as u64));
    let ints: Vec<Vec<i64>> = match frames {
        npy::Frames::Hardware(f) => f
            .iter()
            .map(|x| {
                let y = g.run_frame(x);
                bars.advance(1);
                y
            })
            .collect(),
        npy::Frames::Float(f) => f
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let hw = golden::host::run_pre(&model, x).with_context(|| {
                    doing(
                        "cannot quantize an input frame",
                        format!("{}: frame {i}", args.input.display()),
                        "float frames must hold values the model's input type can take",
                    )
                })?;
                bars.advance(1);
                Ok(g.run_frame(&hw))
            })
            .collect::<anyhow::Result<_>>()?,
    };
    bars.finish();
    let n = ints.len();
    let width = g.output_elems();
    let onnx = args.model.extension().is_some_and(|e| e == "onnx");
    if onnx && !args.hardware {
        let y: Vec<Vec<f32>> = ints
            .iter()
            .map(|y| golden::host::run_post(&model, y))
            .collect::<Result<_, _>>()
            .map_err(|e| {
                fail(
                    e,
                    "cannot run the host post-steps",
                    &args.model,
                    "pass --hardware to write the integer outputs",
                )
            })?;
        let cols = y.first().map_or(width, Vec::len);
        let y = Array2::from_shape_vec((n, cols), y.concat())?;
        write_atomic(&args.output, &y)?;
        ui.note(&format!(
            "{} frames -> {} (float32, {:?})",
            y.nrows(),
            args.output.display(),
            y.shape()
        ));
        let ok = compare(
            &args,
            expected,
            &y.mapv(f64::from),
            false,
            approximate.as_deref(),
            ui,
        )?;
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let y = Array2::from_shape_vec((n, width), ints.concat())?;
    write_atomic(&args.output, &y)?;
    ui.note(&format!(
        "{} frames -> {} (int64, {:?})",
        y.nrows(),
        args.output.display(),
        y.shape()
    ));
    let ok = compare(
        &args,
        expected,
        &y.mapv(|v| v as f64),
        true,
        approximate.as_deref(),
        ui,
    )?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
