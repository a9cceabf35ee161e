//! ferrite-gen: the ferrite compiler. Stages, in data-flow order:
//! `import` (QONNX) -> `passes` -> `ir` -> `fold` -> `stitch` -> `emit` -> `report`;
//! `golden` is the bit-accurate model of `ir`; `synth` runs the open FPGA tools on a build; `engines` holds each engine kind's
//! hardware (cycles, folds, formats, resources, template context).

pub mod boards;
pub mod build;
pub mod cosim;
pub mod emit;
pub mod engines;
pub mod estimate;
pub mod fifo;
pub mod fit;
pub mod fold;
pub mod golden;
pub mod import;
pub mod ir;
pub mod load;
pub mod npy;
pub mod outdir;
pub mod passes;
pub mod progress;
pub mod report;
pub mod shell;
pub mod stitch;
pub mod stream;
pub mod synth;
pub mod testing;

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
    #[error(
        "{0}: --input-type applies to QONNX models with a float input; an IR model's input type is in the model (rebuild from the .onnx with --input-type)"
    )]
    InputTypeOnIr(String),
}

pub use load::{load_model, load_model_with, load_onnx, load_onnx_with};
