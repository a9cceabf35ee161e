//! `ferrite golden MODEL --input x.npy --output y.npy`: run the golden model.
//!
//! For a QONNX `.onnx` model the input is float (one frame per row of the first axis, any
//! trailing shape with the network's input size) and the output is what the network
//! returns, in float32: host pre steps, the bit-exact integer model, host post steps.
//! `--hardware` writes the integer outputs of the hardware part instead (int64).
//! For a ferrite `.json` IR model input and output are integers (int64, int32 or
//! integral floats in; int64 out).
use anyhow::{Context, bail};
use ferrite_gen::golden;
use ndarray::{Array2, ArrayD};
use std::path::PathBuf;
use std::process::ExitCode;

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
fn compare(args: &Args, y: &Array2<f64>, integer: bool) -> anyhow::Result<bool> {
    let mut ok = true;
    if let Some(path) = &args.expected {
        let e = rows(read_any(path)?, y.ncols(), path)?;
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
            eprintln!(
                "vs {}: {differ} of {} integers differ; top-1 agrees on {agree}/{} frames",
                path.display(),
                y.len(),
                y.nrows()
            );
            ok &= differ == 0;
        } else {
            let max = y
                .iter()
                .zip(e.iter())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            eprintln!(
                "vs {}: largest difference {max:e}; top-1 agrees on {agree}/{} frames",
                path.display(),
                y.nrows()
            );
        }
        ok &= agree == y.nrows();
    }
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
        eprintln!(
            "top-1 accuracy on the {} labelled frames: {right}/{} ({:.1} %)",
            l.len(),
            l.len(),
            100.0 * right as f64 / l.len().max(1) as f64
        );
    }
    Ok(ok)
}

/// Write `a` to `path` through a temporary file beside it: never half-written.
fn write_atomic<T: ndarray_npy::WritableElement>(
    path: &std::path::Path,
    a: &Array2<T>,
) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing {}", path.display()))?;
    ndarray_npy::write_npy(tmp.path(), a).with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Read an .npy of any numeric dtype as f64 values (exact for int32 and float32).
fn read_any(path: &std::path::Path) -> anyhow::Result<ArrayD<f64>> {
    let p = path.display();
    if let Ok(a) = ndarray_npy::read_npy::<_, ArrayD<f32>>(path) {
        return Ok(a.mapv(f64::from));
    }
    if let Ok(a) = ndarray_npy::read_npy::<_, ArrayD<f64>>(path) {
        return Ok(a);
    }
    if let Ok(a) = ndarray_npy::read_npy::<_, ArrayD<i64>>(path) {
        if a.iter().any(|v| v.unsigned_abs() > 1 << 52) {
            bail!("{p}: int64 values beyond 2^52");
        }
        return Ok(a.mapv(|v| v as f64));
    }
    if let Ok(a) = ndarray_npy::read_npy::<_, ArrayD<i32>>(path) {
        return Ok(a.mapv(f64::from));
    }
    match ndarray_npy::read_npy::<_, ArrayD<u8>>(path) {
        Ok(a) => Ok(a.mapv(f64::from)),
        Err(e) => bail!("{p}: cannot read as a float32/float64/int64/int32/uint8 .npy: {e}"),
    }
}

/// Frames as rows of `elems` values.
fn rows(a: ArrayD<f64>, elems: usize, path: &std::path::Path) -> anyhow::Result<Array2<f64>> {
    let total = a.len();
    let shape = a.shape().to_vec();
    let n = if total == elems && shape.first() != Some(&1) && shape.len() <= 1 {
        1
    } else {
        *shape.first().unwrap_or(&1)
    };
    if n == 0 || total != n * elems {
        bail!(
            "{}: shape {shape:?} is not a whole number of frames of {elems} values",
            path.display()
        );
    }
    Ok(a.into_shape_with_order((n, elems))?)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let model = ferrite_gen::load_model(&args.model)?;
    let elems = golden::host::input_elems(&model);
    let x = rows(read_any(&args.input)?, elems, &args.input)?;
    let onnx = args.model.extension().is_some_and(|e| e == "onnx");
    if onnx && !args.hardware {
        let xf = x.mapv(|v| v as f32);
        let y = golden::host::run_float_batch(&model, xf.view())
            .with_context(|| format!("{}", args.input.display()))?;
        write_atomic(&args.output, &y)?;
        eprintln!(
            "{} frames -> {} (float32, {:?})",
            y.nrows(),
            args.output.display(),
            y.shape()
        );
        let ok = compare(&args, &y.mapv(f64::from), false)?;
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let hw = if onnx {
        golden::host::pre_batch(&model, x.mapv(|v| v as f32).view())
            .with_context(|| format!("{}", args.input.display()))?
    } else {
        let dt = model.input().tensor.dtype;
        if let Some((i, v)) = x
            .iter()
            .enumerate()
            .find(|(_, v)| v.trunc() != **v || !dt.contains(**v as i64))
        {
            bail!(
                "{}: element {i} = {v} is not a {dt} value (the model's input type)",
                args.input.display()
            );
        }
        x.mapv(|v| v as i64)
    };
    let y = golden::run_batch(&model, hw.view());
    write_atomic(&args.output, &y)?;
    eprintln!(
        "{} frames -> {} (int64, {:?})",
        y.nrows(),
        args.output.display(),
        y.shape()
    );
    let ok = compare(&args, &y.mapv(|v| v as f64), true)?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
