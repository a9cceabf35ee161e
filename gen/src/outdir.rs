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
//! - `report.html`: written by `ferrite report` (and `build --report`, `cosim --report`);
//! - `golden.json`: written by `ferrite golden --comparison OUT/golden.json`;
//! - `synth.json` and `synth/` (logs, tool reports, bitstream): written by `ferrite synth`;
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
    #[error(
        "{path} has a {MARKER} that does not list the files ferrite wrote (an older ferrite's, \
         or not ferrite's): ferrite will not replace it; remove the directory yourself or \
         choose another output directory"
    )]
    BadMarker { path: String },
    #[error(
        "{path} holds `{file}`{}, which ferrite did not write; move it away or choose another output directory",
        if *more > 0 { format!(" and {more} more files") } else { String::new() }
    )]
    Foreign {
        path: String,
        file: String,
        more: usize,
    },
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

    /// `OUT` may be written: absent, an empty directory, or a directory ferrite wrote: its
    /// marker names the files ferrite put there, and it holds nothing else but what
    /// `ferrite cosim`, `ferrite report`, `ferrite golden --comparison` and `ferrite synth` add
    /// ([`LATER_OUTPUTS`]).
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
                let mut entries = std::fs::read_dir(out).map_err(io(out))?;
                if entries.next().is_none() {
                    return Ok(());
                }
                let marker = out.join(MARKER);
                let listed = match std::fs::symlink_metadata(&marker) {
                    Ok(m) if m.is_file() && m.len() <= 1 << 20 => {
                        let text = std::fs::read_to_string(&marker).unwrap_or_default();
                        parse_marker(&text).ok_or_else(|| OutError::BadMarker {
                            path: out.display().to_string(),
                        })?
                    }
                    _ => return Err(not_ours()),
                };
                let mut found = Vec::new();
                walk(out, out, &mut found).map_err(io(out))?;
                let foreign: Vec<&String> = found
                    .iter()
                    .filter(|f| f.as_str() != MARKER && !listed.contains(*f) && !later_output(f))
                    .collect();
                if let Some(f) = foreign.first() {
                    return Err(OutError::Foreign {
                        path: out.display().to_string(),
                        file: f.to_string(),
                        more: foreign.len() - 1,
                    });
                }
                Ok(())
            }
        }
    }

    /// Replace the directory by `files` (paths relative to it, `/`-separated; the marker,
    /// `header` then the list of the files, is added): written to a temporary directory
    /// beside it, then renamed into place, the old directory (checked to be ferrite's)
    /// moved aside and removed. Temporary directories that killed builds left beside it are
    /// removed first.
    pub fn replace_with(&self, files: &[(String, Vec<u8>)], header: &str) -> Result<(), OutError> {
        self.check_writable()?;
        let mut marker = String::from(header);
        if !marker.ends_with('\n') {
            marker.push('\n');
        }
        marker.push_str(MARKER_FILES);
        for (rel, _) in files {
            marker.push_str(rel);
            marker.push('\n');
        }
        let marker = marker.as_str();
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
        remove_stale(&parent, &base);
        let pid = std::process::id();
        let ns = namespace_tag();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{base}.ferrite-tmp-{pid}-{ns}-"))
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
                .prefix(&format!(".{base}.ferrite-old-{pid}-{ns}-"))
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

/// Outputs other commands add to a build's directory: `cosim.json` and the trace top
/// `cosim-trace/<prefix>_trace_top.v` (`ferrite cosim`), `report.html` (`ferrite report`),
/// `golden.json` (`ferrite golden --comparison OUT/golden.json`), `synth.json` and
/// everything under `synth/` (`ferrite synth`: logs, tool reports, bitstream, its scratch
/// folder).
pub const LATER_OUTPUTS: &[&str] = &[
    "cosim.json",
    "cosim-trace/*_trace_top.v",
    "report.html",
    "golden.json",
    "synth.json",
    "synth/*",
];

fn later_output(f: &str) -> bool {
    matches!(
        f,
        "cosim.json" | "report.html" | "golden.json" | "synth.json"
    ) || f.starts_with("synth/")
        || f.strip_prefix("cosim-trace/")
            .is_some_and(|n| !n.contains('/') && n.ends_with("_trace_top.v"))
}

/// The line before the list of files in the marker.
const MARKER_FILES: &str = "files:\n";

/// The files a marker lists, if it is one ferrite wrote (first line names the generator).
fn parse_marker(text: &str) -> Option<Vec<String>> {
    if !text.starts_with("ferrite-gen ") {
        return None;
    }
    let at = text.find(MARKER_FILES)? + MARKER_FILES.len();
    Some(
        text[at..]
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Every file under `dir`, relative to `root`, `/`-separated (links are not followed), and
/// every empty directory (with a trailing `/`).
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut any = false;
    for e in std::fs::read_dir(dir)? {
        any = true;
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            walk(root, &p, out)?;
        } else {
            let rel = p.strip_prefix(root).unwrap_or(&p);
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            out.push(parts.join("/"));
        }
    }
    if !any && dir != root {
        let rel = dir.strip_prefix(root).unwrap_or(dir);
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        out.push(format!("{}/", parts.join("/")));
    }
    Ok(())
}

/// Remove `.<base>.ferrite-tmp-<pid>-<ns>-*` and `.<base>.ferrite-old-<pid>-<ns>-*`
/// directories in `parent` whose process is gone (a build killed before it could clean
/// up).
///
/// Only when sure: a pid means something only in the pid namespace of the host boot that
/// made it. `<ns>` ([`namespace_tag`]) names that namespace (this boot's id and this pid
/// namespace, from `/proc`); a folder is removed only when its `<ns>` is ours and
/// `/proc/<pid>` does not exist. A folder made in another container or on another machine
/// sharing the folder, by an older ferrite (no `<ns>`), or on a system without `/proc`
/// (tag `x`) is left alone: a build there may be running. A reused pid keeps a stale folder
/// (harmless), never the other way round.
fn remove_stale(parent: &Path, base: &str) {
    let ns = namespace_tag();
    if ns == "x" {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let rest = name
            .strip_prefix(&format!(".{base}.ferrite-tmp-"))
            .or_else(|| name.strip_prefix(&format!(".{base}.ferrite-old-")));
        let Some(mut parts) = rest.map(|r| r.split('-')) else {
            continue;
        };
        let (Some(pid), Some(tag)) = (
            parts.next().and_then(|p| p.parse::<u32>().ok()),
            parts.next(),
        ) else {
            continue;
        };
        if tag == ns && pid != std::process::id() && !process_alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A short tag of the pid namespace this process runs in: 12 hex digits of the sha256 of
/// the kernel's boot id and the `/proc/self/ns/pid` link (so pids from another machine,
/// boot or container never match ours); `x` where `/proc` cannot tell (pids are then never
/// trusted).
pub fn namespace_tag() -> String {
    use sha2::Digest;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id");
    let ns = std::fs::read_link("/proc/self/ns/pid");
    match (boot, ns) {
        (Ok(b), Ok(n)) if !b.trim().is_empty() => {
            let mut h = sha2::Sha256::new();
            h.update(b.trim().as_bytes());
            h.update(n.to_string_lossy().as_bytes());
            format!("{:x}", h.finalize())[..12].to_string()
        }
        _ => "x".into(),
    }
}

/// Whether process `pid` runs in our pid namespace (`/proc/<pid>`); without `/proc`,
/// assume it does.
fn process_alive(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_directories_ferrite_wrote_are_replaced() {
        let t = tempfile::tempdir().unwrap();
        let out = OutDir::new(t.path().join("out"));
        let files = vec![("rtl/a.v".to_string(), b"x".to_vec())];
        out.replace_with(&files, "ferrite-gen test").unwrap();
        // again: ours, replaced (a cosim.json is ferrite's too)
        std::fs::write(out.root().join("cosim.json"), "{}").unwrap();
        out.replace_with(&files, "ferrite-gen test").unwrap();
        // a foreign file makes it not ours
        std::fs::write(out.root().join("notes.txt"), "mine").unwrap();
        let e = out.replace_with(&files, "ferrite-gen test").unwrap_err();
        assert!(e.to_string().contains("notes.txt"), "{e}");
        // a folder holding only an empty marker is not ferrite's
        let fake = OutDir::new(t.path().join("fake"));
        std::fs::create_dir(fake.root()).unwrap();
        std::fs::write(fake.root().join(MARKER), "").unwrap();
        assert!(matches!(
            fake.replace_with(&files, "ferrite-gen test"),
            Err(OutError::BadMarker { .. })
        ));
        // an empty directory of the user's, or a file of the user's where cosim writes,
        // is not ferrite's either
        std::fs::remove_file(out.root().join("notes.txt")).unwrap();
        std::fs::create_dir(out.root().join("mine")).unwrap();
        assert!(out.replace_with(&files, "ferrite-gen test").is_err());
        std::fs::remove_dir(out.root().join("mine")).unwrap();
        std::fs::create_dir(out.root().join("cosim-trace")).unwrap();
        std::fs::write(out.root().join("cosim-trace/x_trace_top.v"), "").unwrap();
        out.replace_with(&files, "ferrite-gen test").unwrap();
        // what `ferrite synth` writes is ferrite's too
        std::fs::create_dir_all(out.root().join("synth/work-x")).unwrap();
        std::fs::write(out.root().join("synth/yosys.log"), "").unwrap();
        std::fs::write(out.root().join("synth.json"), "{}").unwrap();
        out.replace_with(&files, "ferrite-gen test").unwrap();
        std::fs::create_dir(out.root().join("cosim-trace")).unwrap();
        std::fs::write(out.root().join("cosim-trace/thesis.tex"), "").unwrap();
        assert!(out.replace_with(&files, "ferrite-gen test").is_err());
        assert!(fake.root().join(MARKER).exists());
    }

    #[test]
    fn stale_temporary_directories_are_removed() {
        let t = tempfile::tempdir().unwrap();
        let ns = namespace_tag();
        assert_ne!(ns, "x", "the tests run on Linux with /proc");
        // a pid that cannot be running, in our namespace
        let stale = t
            .path()
            .join(format!(".out.ferrite-tmp-4294967295-{ns}-abc"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("f"), "x").unwrap();
        let other = t
            .path()
            .join(format!(".other.ferrite-tmp-4294967295-{ns}-abc"));
        std::fs::create_dir(&other).unwrap();
        // the same pid from another pid namespace (container, machine, boot), and from a
        // ferrite that did not record one: maybe running, so kept
        let foreign = t
            .path()
            .join(".out.ferrite-tmp-4294967295-0123456789ab-abc");
        std::fs::create_dir(&foreign).unwrap();
        let untagged = t.path().join(".out.ferrite-old-4294967295-abc");
        std::fs::create_dir(&untagged).unwrap();
        OutDir::new(t.path().join("out"))
            .replace_with(&[], "ferrite-gen test")
            .unwrap();
        assert!(!stale.exists());
        assert!(
            other.exists(),
            "another output's temporaries are not ours to remove"
        );
        assert!(foreign.exists() && untagged.exists());
    }
}
