//! `ferrite build`: a model to an output directory of RTL, IR, folding and report.
//!
//! Layout of `OUT/`:
//! - `rtl/`: one Verilog file a module (`<prefix>_l<NN>_<kind>.v` engines, `<prefix>_skid.v`,
//!   `<prefix>_fifo.v`, `<prefix>_gearbox.v` when needed, `<prefix>_top.v`) and the `.mem`
//!   files the engines read (`<engine>_w.mem` weights, `<engine>_t.mem` thresholds);
//! - `model.json`: the integer IR that was built (the golden model runs on it);
//! - `folding.json`: the folds used, reusable with `--folding`;
//! - `report.json`: see [`crate::report::BuildReport`];
//! - `.ferrite-out`: the marker saying the directory is ferrite's (and may be replaced).
//!
//! Everything is written into a temporary directory beside `OUT` and renamed into place at
//! the end, so `OUT` is never half-written. An existing `OUT` without the marker (and not
//! empty) is refused; one with it is replaced.

use crate::emit::{self, Design, EmitError};
use crate::fold::{self, FoldError, FoldPlan, FoldingFile};
use crate::ir::Model;
use crate::report::{self, BuildReport};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Name of the marker file in an output directory.
pub const MARKER: &str = ".ferrite-out";

/// Errors of [`build`] and [`build_model`].
#[derive(Debug, Error)]
pub enum BuildError {
    // The inner errors are displayed, not chained: their messages already name the cause.
    #[error("{0}")]
    Load(crate::LoadError),
    #[error("{0}")]
    Fold(FoldError),
    #[error("{0}")]
    Emit(EmitError),
    #[error(
        "{path} exists and was not written by ferrite (no {MARKER} file in it); \
         choose another output directory or remove it yourself"
    )]
    NotOurs { path: String },
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
}

impl From<crate::LoadError> for BuildError {
    fn from(e: crate::LoadError) -> Self {
        BuildError::Load(e)
    }
}

impl From<FoldError> for BuildError {
    fn from(e: FoldError) -> Self {
        BuildError::Fold(e)
    }
}

impl From<EmitError> for BuildError {
    fn from(e: EmitError) -> Self {
        BuildError::Emit(e)
    }
}

/// How to fold.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// A folding file (`{"layers": {"fc0": {"pe": 16, "simd": 49}}}`); layers it does not
    /// name are folded automatically.
    pub folding: Option<PathBuf>,
    /// Cycles a frame to meet for the layers not folded by a file.
    pub target_cycles: Option<u64>,
}

/// What [`build`] made.
#[derive(Debug)]
pub struct BuildOutput {
    pub out: PathBuf,
    pub model: Model,
    pub plan: FoldPlan,
    pub design: Design,
    pub report: BuildReport,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |err| BuildError::Io {
        path: path.display().to_string(),
        err,
    }
}

/// The folding plan of `opts` for `model`.
pub fn plan_for(model: &Model, opts: &BuildOptions) -> Result<FoldPlan, FoldError> {
    match &opts.folding {
        None => Ok(fold::auto(model, opts.target_cycles)),
        Some(path) => {
            let mut file = FoldingFile::load(path)?;
            if opts.target_cycles.is_some() {
                file.target_cycles = opts.target_cycles;
            }
            FoldPlan::from_file(model, &file, &path.display().to_string())
        }
    }
}

/// Load the model at `model_path` and build it into `out`.
pub fn build(
    model_path: &Path,
    out: &Path,
    opts: &BuildOptions,
) -> Result<BuildOutput, BuildError> {
    let model = crate::load_model(model_path)?;
    build_model(model, out, opts)
}

/// Build `model` into `out`.
pub fn build_model(
    model: Model,
    out: &Path,
    opts: &BuildOptions,
) -> Result<BuildOutput, BuildError> {
    model.validate().map_err(EmitError::from)?;
    let plan = plan_for(&model, opts)?;
    let design = emit::emit(&model, &plan)?;
    let report = report::build_report(&model, &plan, &design);
    check_out(out)?;

    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let base = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{base}.ferrite-tmp-"))
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    let t = tmp.path();
    let rtl = t.join("rtl");
    std::fs::create_dir(&rtl).map_err(io(&rtl))?;
    for f in &design.files {
        let p = rtl.join(&f.name);
        std::fs::write(&p, &f.contents).map_err(io(&p))?;
    }
    let mut model_json = model.to_json();
    model_json.push('\n');
    let mut folding = serde_json::to_string_pretty(&plan.to_file(&model))
        .expect("a folding file always serialises");
    folding.push('\n');
    let marker = format!(
        "{}\nthis directory is written by `ferrite build`; the next build into it replaces it\n",
        emit::GENERATOR
    );
    for (name, text) in [
        ("model.json", model_json.as_str()),
        ("folding.json", folding.as_str()),
        ("report.json", report.to_json().as_str()),
        (MARKER, marker.as_str()),
    ] {
        let p = t.join(name);
        std::fs::write(&p, text).map_err(io(&p))?;
    }

    // swap into place: the old OUT (ours, checked above) is moved aside, then removed
    let tmp_path = tmp.keep();
    if out.exists() {
        let old = tempfile::Builder::new()
            .prefix(&format!(".{base}.ferrite-old-"))
            .tempdir_in(&parent)
            .map_err(io(&parent))?;
        let old_path = old.path().join("out");
        std::fs::rename(out, &old_path).map_err(io(out))?;
        if let Err(e) = std::fs::rename(&tmp_path, out) {
            // put the old one back
            let _ = std::fs::rename(&old_path, out);
            let _ = std::fs::remove_dir_all(&tmp_path);
            return Err(io(out)(e));
        }
        drop(old);
    } else if let Err(e) = std::fs::rename(&tmp_path, out) {
        let _ = std::fs::remove_dir_all(&tmp_path);
        return Err(io(out)(e));
    }
    Ok(BuildOutput {
        out: out.to_path_buf(),
        model,
        plan,
        design,
        report,
    })
}

/// `out` may be written: absent, an empty directory, or a directory with the marker.
fn check_out(out: &Path) -> Result<(), BuildError> {
    let not_ours = || BuildError::NotOurs {
        path: out.display().to_string(),
    };
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(out)(e)),
        Ok(m) if !m.is_dir() => Err(not_ours()),
        Ok(_) => {
            if out.join(MARKER).is_file() {
                return Ok(());
            }
            let mut entries = std::fs::read_dir(out).map_err(io(out))?;
            if entries.next().is_none() {
                Ok(())
            } else {
                Err(not_ours())
            }
        }
    }
}
