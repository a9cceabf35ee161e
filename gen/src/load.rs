//! Loading a model: reading the file, hashing it, naming the network, then handing the
//! bytes to `import` and `passes` (QONNX) or to `ir` (ferrite's JSON). The stages after it
//! never touch the file system for their input.

use crate::import::graph::Graph;
use crate::ir::{InputType, Model, Provenance};
use crate::{LoadError, import, passes};
use std::path::Path;

/// The network's name: the file's stem, or its folder's name for a file called `model`.
pub fn network_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("model")
        .to_string();
    if stem == "model" {
        path.parent()
            .and_then(|d| d.file_name())
            .and_then(|s| s.to_str())
            .unwrap_or("model")
            .to_string()
    } else {
        stem
    }
}

/// Import a QONNX file, streamline it and lower it: the streamlined graph and the model
/// (with provenance: file name and sha256). Errors name the file.
pub fn load_onnx(path: &Path) -> Result<(Graph, Model), LoadError> {
    load_onnx_with(path, None)
}

/// [`load_onnx`] with a declared input type (`--input-type`) for a float input without a
/// quantizer or annotation.
pub fn load_onnx_with(
    path: &Path,
    input_type: Option<InputType>,
) -> Result<(Graph, Model), LoadError> {
    use sha2::Digest;
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| import::ImportError::Io {
        path: p.clone(),
        error: source,
    })?;
    let mut g = import::import_bytes(&bytes, &p, path.parent())?;
    let mut m =
        passes::compile_graph_with(&mut g, &network_name(path), input_type).map_err(|error| {
            LoadError::Pass {
                path: p.clone(),
                error,
            }
        })?;
    m.source = Some(Provenance {
        file: path
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or(&p)
            .to_string(),
        sha256: format!("{:x}", sha2::Sha256::digest(&bytes)),
    });
    Ok((g, m))
}

/// Load a model: a QONNX `.onnx` file (imported and lowered) or a ferrite `.json` IR.
pub fn load_model(path: &Path) -> Result<Model, LoadError> {
    load_model_with(path, None)
}

/// [`load_model`] with a declared input type (`--input-type`; QONNX models only).
pub fn load_model_with(path: &Path, input_type: Option<InputType>) -> Result<Model, LoadError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") if input_type.is_some() => {
            Err(LoadError::InputTypeOnIr(path.display().to_string()))
        }
        Some("json") => Ok(Model::load_json(path)?),
        Some("onnx") => Ok(load_onnx_with(path, input_type)?.1),
        _ => Err(LoadError::UnknownFormat(path.display().to_string())),
    }
}
