//! Co-simulation test helpers: random single-layer and multi-layer models, writing a build
//! directory (the layout `ferrite build` writes: `rtl/`, `model.json`, `folding.json`), and
//! running `ferrite_gen::cosim` on it.
//!
//! Build directories go under a fixed path per configuration (its name and a hash of the
//! model and plan), so the `-GMEM_DIR` argument, and with it the Verilator cache key, is the
//! same on every run: a second run of the suite only simulates.

use anyhow::{Context, Result};
use ferrite_gen::cosim::{self, CosimOptions, CosimReport};
use ferrite_gen::emit;
use ferrite_gen::fold::{Fold, FoldPlan};
use ferrite_gen::ir::{
    DataType, IR_VERSION, LabelSelect, Layer, MatrixVector, Model, StreamInfo, Thresholding,
    Thresholds,
};
use std::path::{Path, PathBuf};

/// Deterministic pseudo-random numbers (splitmix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x7E57_BE4C_0000_0001)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo) as u64 + 1)) as i64
    }

    /// A uniformly random value of `dt`.
    pub fn value(&mut self, dt: DataType) -> i64 {
        if dt == DataType::Bipolar {
            if self.next_u64() & 1 == 1 { 1 } else { -1 }
        } else {
            self.range(dt.min(), dt.max())
        }
    }
}

/// Random ascending thresholds for `channels` channels over `lo..=hi`, giving `out` values
/// (one threshold for bipolar, `2^bits - 1` otherwise, starting at `out.min()`).
pub fn random_thresholds(
    rng: &mut Rng,
    channels: usize,
    lo: i64,
    hi: i64,
    out: DataType,
    shared: bool,
) -> Thresholds {
    let n = if out == DataType::Bipolar {
        1
    } else {
        (out.max() - out.min()) as usize
    };
    let rows = if shared { 1 } else { channels };
    // Spread the thresholds over the middle of the range (where values are likely), with
    // some equal neighbours.
    let span = (hi - lo).max(1);
    let (mlo, mhi) = (lo + span / 4, hi - span / 4);
    let rows = (0..rows)
        .map(|_| {
            let mut r: Vec<i64> = (0..n).map(|_| rng.range(mlo, mhi.max(mlo))).collect();
            r.sort();
            r
        })
        .collect();
    Thresholds {
        rows,
        out_type: out,
        out_bias: if out == DataType::Bipolar {
            0
        } else {
            out.min()
        },
    }
}

/// A random matrix-vector layer.
pub fn mv_layer(
    rng: &mut Rng,
    name: &str,
    mw: usize,
    mh: usize,
    input_type: DataType,
    weight_type: DataType,
    act: Option<DataType>,
) -> Layer {
    let weights = (0..mw * mh).map(|_| rng.value(weight_type)).collect();
    let mut l = MatrixVector {
        name: name.into(),
        mw,
        mh,
        input_type,
        weight_type,
        weights,
        thresholds: None,
        origin: None,
    };
    if let Some(out) = act {
        // Thresholds around the typical accumulator spread (sqrt(mw) * the value ranges).
        let (lo, hi) = l.acc_range();
        let typical = ((mw as f64).sqrt()
            * (input_type.max() - input_type.min()).max(1) as f64
            * (weight_type.max() - weight_type.min()).max(1) as f64) as i64;
        let c = (lo + hi) / 2;
        let (tlo, thi) = ((c - typical).max(lo), (c + typical).min(hi));
        l.thresholds = Some(random_thresholds(rng, mh, tlo, thi, out, false));
    }
    Layer::MatrixVector(l)
}

pub fn thresholding_layer(
    rng: &mut Rng,
    name: &str,
    elems: usize,
    channels: usize,
    input_type: DataType,
    out: DataType,
    shared: bool,
) -> Layer {
    let t = random_thresholds(
        rng,
        channels,
        input_type.min(),
        input_type.max(),
        out,
        shared,
    );
    Layer::Thresholding(Thresholding {
        name: name.into(),
        elems,
        channels,
        input_type,
        thresholds: t,
        origin: None,
    })
}

pub fn label_select_layer(name: &str, labels: usize, k: usize, input_type: DataType) -> Layer {
    Layer::LabelSelect(LabelSelect {
        name: name.into(),
        labels,
        k,
        input_type,
        origin: None,
    })
}

/// A model of `layers` (which must chain) named `name`.
pub fn model(name: &str, layers: Vec<Layer>) -> Model {
    let first = &layers[0];
    let m = Model {
        ir_version: IR_VERSION,
        name: name.into(),
        input: StreamInfo {
            shape: vec![first.in_elems()],
            dtype: first.input_type(),
        },
        layers,
        pre: vec![],
        post: vec![],
        source: None,
    };
    if let Err(e) = m.validate() {
        panic!("test model `{name}` is invalid: {e}");
    }
    m
}

pub fn plan(model: &Model, folds: &[(usize, usize)]) -> FoldPlan {
    let p = FoldPlan {
        folds: folds
            .iter()
            .map(|&(pe, simd)| Fold::new(pe, simd))
            .collect(),
        how: "test".into(),
    };
    if let Err(e) = p.check(model) {
        panic!("test plan for `{}` is illegal: {e}", model.name);
    }
    p
}

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
        h.update(serde_json::to_string(&plan.to_file(model))?);
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

/// Write what `ferrite build` writes for the co-simulation: `rtl/` (every Verilog and
/// `.mem` file of the design), `model.json`, `folding.json`. Files whose content is
/// unchanged are not rewritten.
pub fn write_build(dir: &Path, model: &Model, plan: &FoldPlan) -> Result<()> {
    let design = emit::emit(model, plan).with_context(|| format!("emitting `{}`", model.name))?;
    let rtl = dir.join("rtl");
    std::fs::create_dir_all(&rtl).with_context(|| rtl.display().to_string())?;
    for f in &design.files {
        write_if_changed(&rtl.join(&f.name), f.contents.as_bytes())?;
    }
    write_if_changed(&dir.join("model.json"), model.to_json().as_bytes())?;
    let folding = serde_json::to_string_pretty(&plan.to_file(model))?;
    write_if_changed(&dir.join("folding.json"), folding.as_bytes())?;
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

/// Co-simulate `frames` on the build in `dir`.
pub fn run(
    dir: &Path,
    model: &Model,
    plan: &FoldPlan,
    frames: &[Vec<i64>],
    opts: &CosimOptions,
) -> Result<CosimReport> {
    cosim::cosim_model(dir, model, plan, frames, opts)
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

/// Copy a build directory (`rtl/`, `model.json`, `folding.json`) to `dst`, replacing it.
pub fn copy_build(src: &Path, dst: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(dst);
    std::fs::create_dir_all(dst.join("rtl"))?;
    for f in ["model.json", "folding.json"] {
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
