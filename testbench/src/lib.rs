//! Co-simulation test helpers: random single-layer and multi-layer models, writing a build
//! directory (the layout `ferrite build` writes: `rtl/`, `model.json`, `design.json`,
//! `folding.json`), and
//! running `ferrite_gen::cosim` on it.
//!
//! Build directories go under a fixed path per configuration (its name and a hash of the
//! model and plan), so the `-GMEM_DIR` argument, and with it the Verilator cache key, is the
//! same on every run: a second run of the suite only simulates.

use anyhow::{Context, Result};
use ferrite_gen::cosim::{self, CosimOptions, CosimReport};
use ferrite_gen::fold::FoldPlan;
use ferrite_gen::ir::Model;
use ferrite_gen::outdir::OutDir;
use std::path::{Path, PathBuf};

pub use ferrite_gen::testing::*;

pub mod calibration;

/// Where test builds and the Verilator cache go: `$CARGO_TARGET_TMPDIR`-like directory
/// given by the caller.
pub struct Bench {
    pub root: PathBuf,
}

impl Bench {
    pub fn new(root: impl Into<PathBuf>) -> Bench {
        Bench { root: root.into() }
    }

    pub fn cache(&self) -> PathBuf {
        self.root.join("verilator-cache")
    }

    /// A build directory for `model` + `plan`, named after `tag` and their content (so
    /// reruns reuse it and its Verilator build).
    pub fn build_dir(&self, tag: &str, model: &Model, plan: &FoldPlan) -> Result<PathBuf> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(model.to_json());
        h.update(plan.to_json());
        let hash: String = h.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let dir = self.root.join("builds").join(format!("{tag}-{hash}"));
        write_build(&dir, model, plan)?;
        Ok(dir)
    }

    pub fn options(&self, stall: f64, seed: u64, trace: bool) -> CosimOptions {
        CosimOptions {
            stall,
            seed,
            trace,
            cache_dir: Some(self.cache()),
            settle_cycles: settle_cycles(),
        }
    }
}

/// Idle cycles after reset before the first beat: `FERRITE_TB_SETTLE`, else 0 (a beat is
/// offered the cycle reset is released; the design must hold it off while it is still in
/// reset).
pub fn settle_cycles() -> u32 {
    std::env::var("FERRITE_TB_SETTLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Write what `ferrite build` writes for the co-simulation into the output folder `dir`
/// (`OutDir`'s layout): `rtl/` (every Verilog and `.mem` file of the design),
/// `model.json`, `design.json`, `folding.json`. Files whose content is unchanged are not
/// rewritten.
pub fn write_build(dir: &Path, model: &Model, plan: &FoldPlan) -> Result<()> {
    let (design, files, _) = ferrite_gen::build::compile(model, plan)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("compiling `{}`", model.name))?;
    let out = OutDir::new(dir);
    let rtl = out.rtl();
    std::fs::create_dir_all(&rtl).with_context(|| rtl.display().to_string())?;
    for f in &files {
        write_if_changed(&rtl.join(&f.name), f.contents.as_bytes())?;
    }
    write_if_changed(&out.model_json(), model.to_json().as_bytes())?;
    write_if_changed(&out.design_json(), design.to_json().as_bytes())?;
    write_if_changed(&out.folding_json(), plan.to_json().as_bytes())?;
    Ok(())
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| tmp.display().to_string())?;
    std::fs::rename(&tmp, path).with_context(|| path.display().to_string())?;
    Ok(())
}

/// Co-simulate `frames` on the build in `dir` (written by [`write_build`] from `model`).
pub fn run(
    dir: &Path,
    model: &Model,
    frames: &[Vec<i64>],
    opts: &CosimOptions,
) -> Result<CosimReport> {
    let design = OutDir::new(dir)
        .load_design()
        .with_context(|| format!("reading the design manifest of {}", dir.display()))?;
    cosim::cosim_model(dir, model, &design, frames, opts)
        .with_context(|| format!("co-simulating {}", dir.display()))
}

/// A one-line description of a report, for assertion messages.
pub fn describe(r: &CosimReport) -> String {
    format!(
        "{} frames, stall {}: {} mismatches {:?}, cycles/frame measured {} expected {}, latency {}",
        r.frames,
        r.stall,
        r.mismatches,
        r.first_mismatches.first(),
        r.cycles_per_frame_measured,
        r.cycles_per_frame_expected,
        r.latency_cycles
    )
}

/// Copy a build directory (`rtl/`, `model.json`, `design.json`, `folding.json`) to `dst`,
/// replacing it.
pub fn copy_build(src: &Path, dst: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(dst);
    std::fs::create_dir_all(dst.join("rtl"))?;
    for f in ["model.json", "design.json", "folding.json"] {
        std::fs::copy(src.join(f), dst.join(f))
            .with_context(|| src.join(f).display().to_string())?;
    }
    for e in std::fs::read_dir(src.join("rtl"))? {
        let p = e?.path();
        if let Some(name) = p.file_name() {
            std::fs::copy(&p, dst.join("rtl").join(name))?;
        }
    }
    Ok(())
}

/// Flip the lowest bit of every word of the `.mem` file of layer `layer` whose name ends
/// in `suffix` (`"_w.mem"`: weights, `"_t.mem"`: thresholds) in `dir/rtl`; returns its path.
pub fn corrupt_mem(dir: &Path, layer: usize, suffix: &str) -> Result<PathBuf> {
    let tag = format!("_l{layer:02}_");
    let path = std::fs::read_dir(dir.join("rtl"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.contains(&tag) && n.ends_with(suffix)
        })
        .with_context(|| format!("no {tag}*{suffix} in {}", dir.display()))?;
    let text = std::fs::read_to_string(&path)?;
    let flipped: String = text
        .lines()
        .map(|l| {
            let l = l.trim();
            let is_word = !l.is_empty() && l.chars().all(|c| c.is_ascii_hexdigit());
            if !is_word {
                return format!("{l}\n");
            }
            let (head, last) = l.split_at(l.len() - 1);
            let d = u8::from_str_radix(last, 16).expect("a hex digit") ^ 1;
            format!("{head}{d:x}\n")
        })
        .collect();
    std::fs::write(&path, flipped)?;
    Ok(path)
}
