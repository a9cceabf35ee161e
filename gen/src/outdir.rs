//! The output folder of `ferrite build`, read by `cosim`, the report and the testbench.
//!
//! Layout of `OUT/`:
//! - `rtl/`: one Verilog file a module and the `.mem` files the engines read;
//! - `model.json`: the integer IR that was built (the golden model runs on it);
//! - `design.json`: the design manifest ([`crate::stitch::Design`]): instances, streams,
//!   formats, FIFO depths, module names;
//! - `folding.json`: the folds used, reusable with `--folding`;
//! - `report.json`: see [`crate::report::BuildReport`];
//! - `cosim.json`: written by `ferrite cosim`;
//! - `.ferrite-out`: the marker saying the directory is ferrite's (and may be replaced).
//!
//! A build is written into a temporary directory beside `OUT` and renamed into place at the
//! end ([`OutDir::replace_with`]), so `OUT` is never half-written; single files are written
//! through a temporary file and a rename ([`write_atomic`]).

use crate::ir::Model;
use crate::stitch::Design;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Name of the marker file in an output directory.
pub const MARKER: &str = ".ferrite-out";

#[derive(Debug, Error)]
pub enum OutError {
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error(
        "{path} exists and was not written by ferrite (no {MARKER} file in it); \
         choose another output directory or remove it yourself"
    )]
    NotOurs { path: String },
    #[error("{path}: {why}; rebuild it with `ferrite build`")]
    Bad { path: String, why: String },
    #[error(transparent)]
    Ir(#[from] crate::ir::IrError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutError + '_ {
    move |err| OutError::Io {
        path: path.display().to_string(),
        err,
    }
}

/// A build's output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutDir {
    root: PathBuf,
}

impl OutDir {
    pub fn new(root: impl Into<PathBuf>) -> OutDir {
        OutDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn rtl(&self) -> PathBuf {
        self.root.join("rtl")
    }

    pub fn model_json(&self) -> PathBuf {
        self.root.join("model.json")
    }

    pub fn design_json(&self) -> PathBuf {
        self.root.join("design.json")
    }

    pub fn folding_json(&self) -> PathBuf {
        self.root.join("folding.json")
    }

    pub fn report_json(&self) -> PathBuf {
        self.root.join("report.json")
    }

    pub fn cosim_json(&self) -> PathBuf {
        self.root.join("cosim.json")
    }

    /// The model that was built.
    pub fn load_model(&self) -> Result<Model, OutError> {
        Ok(Model::load_json(&self.model_json())?)
    }

    /// The design manifest.
    pub fn load_design(&self) -> Result<Design, OutError> {
        let p = self.design_json();
        let text = std::fs::read_to_string(&p).map_err(io(&p))?;
        Design::from_json(&text).map_err(|why| OutError::Bad {
            path: p.display().to_string(),
            why,
        })
    }

    /// `OUT` may be written: absent, an empty directory, or a directory with the marker.
    pub fn check_writable(&self) -> Result<(), OutError> {
        let out = &self.root;
        let not_ours = || OutError::NotOurs {
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

    /// Replace the directory by `files` (paths relative to it, `/`-separated; the marker is
    /// added): written to a temporary directory beside it, then renamed into place, the
    /// old directory (checked to be ferrite's) moved aside and removed.
    pub fn replace_with(&self, files: &[(String, Vec<u8>)], marker: &str) -> Result<(), OutError> {
        self.check_writable()?;
        let out = &self.root;
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
        for (rel, bytes) in files
            .iter()
            .map(|(r, b)| (r.as_str(), b.as_slice()))
            .chain([(MARKER, marker.as_bytes())])
        {
            let p = t.join(rel);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d).map_err(io(d))?;
            }
            std::fs::write(&p, bytes).map_err(io(&p))?;
        }
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
        Ok(())
    }
}

/// Write `bytes` to `path` through a temporary file beside it and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // Unique per process and call: threads may write the same file at once.
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}-{n}", std::process::id()));
    if let Err(e) = std::fs::write(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
