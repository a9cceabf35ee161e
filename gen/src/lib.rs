//! ferrite-gen: the ferrite compiler. Stages, in data-flow order:
//! `import` (QONNX) -> `passes` -> `ir` -> `fold` -> `stitch` -> `emit` -> `report`;
//! `golden` is the bit-accurate model of `ir`; `engines` holds each engine kind's
//! hardware (cycles, folds, formats, resources, template context).

pub mod build;
pub mod cosim;
pub mod emit;
pub mod engines;
pub mod fold;
pub mod golden;
pub mod import;
pub mod ir;
pub mod passes;
pub mod report;
pub mod outdir;
pub mod stitch;
pub mod stream;
pub mod testing;

use std::path::Path;

/// Errors of [`load_model`].
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Ir(#[from] ir::IrError),
    #[error(transparent)]
    Import(#[from] import::ImportError),
    #[error("{path}: {error}")]
    Pass {
        path: String,
        error: passes::PassError,
    },
    #[error("{0}: unknown model format; ferrite reads QONNX (.onnx) and its own IR (.json)")]
    UnknownFormat(String),
}

/// Load a model: a QONNX `.onnx` file (imported and lowered) or a ferrite `.json` IR.
pub fn load_model(path: &Path) -> Result<ir::Model, LoadError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => Ok(ir::Model::load_json(path)?),
        Some("onnx") => Ok(passes::load_onnx(path)?.1),
        _ => Err(LoadError::UnknownFormat(path.display().to_string())),
    }
}
