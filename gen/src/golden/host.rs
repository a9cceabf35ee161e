//! The whole network on float data: host `pre` steps (float frame -> integer hardware
//! frame), the bit-exact integer model, host `post` steps (integer -> float outputs).
//! `run_float` on a QONNX model's input returns what the QONNX reference executor returns.
//!
//! Entry points (stable names; `ferrite cosim --input x.npy` calls [`run_pre`] to turn float
//! inputs into hardware frames):
//! - [`run_pre`]: one float frame -> one integer hardware frame,
//! - [`run_post`]: one integer hardware output frame -> float outputs,
//! - [`run_float`]: pre + [`super::run_frame`] + post,
//! - [`pre_batch`] / [`run_float_batch`]: the same over the rows of a 2-D array.

use crate::ir::Model;
use crate::ir::host::HostStep;
use ndarray::{Array2, ArrayView2, Axis};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HostError {
    #[error("input frame has {found} values; the model takes {expected}")]
    FrameSize { expected: usize, found: usize },
    #[error(
        "input value {value} at element {index} is not a {dtype} value (the model has no host quantizer, so inputs must already be hardware integers)"
    )]
    NotHardwareValue {
        index: usize,
        value: f32,
        dtype: crate::ir::DataType,
    },
    #[error("host step `{step}` does not fit a frame of {elems} values")]
    StepSize { step: String, elems: usize },
    #[error(
        "input value {value} at element {index} is not a {ty} value (the model declares its input {ty}, so float frames must hold values of that type)"
    )]
    NotDeclaredType {
        index: usize,
        value: f32,
        ty: String,
    },
}

/// Float elements of one input frame (the hardware input frame size: host steps are
/// elementwise).
pub fn input_elems(model: &Model) -> usize {
    model.input().tensor.elems()
}

#[inline(always)]
fn apply_steps(steps: &[HostStep], x: &mut [f32]) -> Result<(), HostError> {
    for s in steps {
        if !s.fits(x.len()) {
            return Err(HostError::StepSize {
                step: s.describe(),
                elems: x.len(),
            });
        }
        if let HostStep::Expect { ty, .. } = s
            && let Some(index) = s.first_unexpected(x)
        {
            return Err(HostError::NotDeclaredType {
                index,
                value: x[index],
                ty: ty.clone(),
            });
        }
        s.apply(x);
    }
    Ok(())
}

/// One float frame -> the integer frame the hardware receives.
pub fn run_pre(model: &Model, x: &[f32]) -> Result<Vec<i64>, HostError> {
    // compiled again with AVX2 (wider vectors, same IEEE operations, same values) and
    // chosen at run time
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { run_pre_avx2(model, x) };
    }
    run_pre_impl(model, x)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn run_pre_avx2(model: &Model, x: &[f32]) -> Result<Vec<i64>, HostError> {
    run_pre_impl(model, x)
}

#[inline(always)]
fn run_pre_impl(model: &Model, x: &[f32]) -> Result<Vec<i64>, HostError> {
    let n = input_elems(model);
    if x.len() != n {
        return Err(HostError::FrameSize {
            expected: n,
            found: x.len(),
        });
    }
    let mut v = x.to_vec();
    apply_steps(&model.pre, &mut v)?;
    let dt = model.input().tensor.dtype;
    let out: Vec<i64> = v.iter().map(|&f| f as i64).collect();
    match first_not_hardware(&v, &out, dt) {
        None => Ok(out),
        Some(index) => Err(HostError::NotHardwareValue {
            index,
            value: v[index],
            dtype: dt,
        }),
    }
}

/// The first element whose float `v[i]` is not the `dt` value `out[i] = v[i] as i64`. A
/// float is an integer exactly when its `as i64` (which truncates, saturates, and gives 0
/// for NaN) converts back to it, and a saturated value is out of every type's range; so no
/// `trunc` (a library call on baseline x86-64) is needed.
#[inline(always)]
fn first_not_hardware(v: &[f32], out: &[i64], dt: crate::ir::DataType) -> Option<usize> {
    let (lo, hi) = (dt.min(), dt.max());
    let bipolar = dt == crate::ir::DataType::Bipolar;
    let bad = v
        .iter()
        .zip(out)
        .map(|(&f, &i)| i as f32 != f || i < lo || i > hi || (bipolar && i == 0));
    // branch-free over the frame (vectorises); find the position only when needed
    if !bad.clone().fold(false, |a, b| a | b) {
        return None;
    }
    bad.clone().position(|b| b)
}

/// One integer output frame of the hardware -> the network's float outputs.
pub fn run_post(model: &Model, y: &[i64]) -> Result<Vec<f32>, HostError> {
    let mut v: Vec<f32> = y.iter().map(|&i| i as f32).collect();
    apply_steps(&model.post, &mut v)?;
    Ok(v)
}

/// The whole network on one float frame.
pub fn run_float(model: &Model, x: &[f32]) -> Result<Vec<f32>, HostError> {
    run_float_prepared(&super::Golden::new(model), x)
}

/// [`run_float`] on a prepared model (build it once for many frames).
pub fn run_float_prepared(g: &super::Golden, x: &[f32]) -> Result<Vec<f32>, HostError> {
    let model = g.model();
    let hw = run_pre(model, x)?;
    run_post(model, &g.run_frame(&hw))
}

/// [`run_pre`] on every row.
pub fn pre_batch(model: &Model, x: ArrayView2<f32>) -> Result<Array2<i64>, HostError> {
    let rows: Vec<Vec<i64>> = x
        .axis_iter(Axis(0))
        .map(|r| run_pre(model, &r.to_vec()))
        .collect::<Result<_, _>>()?;
    let n = input_elems(model);
    Ok(Array2::from_shape_vec((rows.len(), n), rows.concat()).expect("rows have the input size"))
}

/// [`run_float`] on every row.
pub fn run_float_batch(model: &Model, x: ArrayView2<f32>) -> Result<Array2<f32>, HostError> {
    let g = super::Golden::new(model);
    let rows: Vec<Vec<f32>> = x
        .axis_iter(Axis(0))
        .map(|r| run_float_prepared(&g, &r.to_vec()))
        .collect::<Result<_, _>>()?;
    let n = rows.first().map_or(g.output_elems(), Vec::len);
    Ok(Array2::from_shape_vec((rows.len(), n), rows.concat()).expect("rows have the output size"))
}
