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
        ndarray_npy::write_npy(&args.output, &y)
            .with_context(|| format!("writing {}", args.output.display()))?;
        eprintln!(
            "{} frames -> {} (float32, {:?})",
            y.nrows(),
            args.output.display(),
            y.shape()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let hw = if onnx {
        golden::host::pre_batch(&model, x.mapv(|v| v as f32).view())
            .with_context(|| format!("{}", args.input.display()))?
    } else {
        let dt = model.input.dtype;
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
    ndarray_npy::write_npy(&args.output, &y)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!(
        "{} frames -> {} (int64, {:?})",
        y.nrows(),
        args.output.display(),
        y.shape()
    );
    Ok(ExitCode::SUCCESS)
}
