//! Shared helpers of the RTL tests: model builders, tool checks, design writing.
#![allow(dead_code)]

use ferrite_gen::emit::GeneratedFile;
use ferrite_gen::fold::FoldPlan;
use ferrite_gen::ir::{DataType, MatrixVector, Model, Op, TensorType, Thresholding};
pub use ferrite_gen::testing::{Layer, Rng};
use std::path::Path;
use std::process::Command;

/// A compiled design: its files, top and formats, as the RTL tests use it.
pub struct Built {
    pub design: ferrite_gen::stitch::Design,
    pub files: Vec<GeneratedFile>,
}

impl Built {
    pub fn verilog_files(&self) -> impl Iterator<Item = &GeneratedFile> {
        self.files.iter().filter(|f| f.name.ends_with(".v"))
    }
}

impl std::ops::Deref for Built {
    type Target = ferrite_gen::stitch::Design;
    fn deref(&self) -> &Self::Target {
        &self.design
    }
}

/// Folds of a chain's nodes in order, (pe, simd) each.
#[derive(Clone, Debug)]
pub struct Folds(pub Vec<(usize, usize)>);

impl Folds {
    /// The plan of `m` (its nodes in order).
    pub fn plan(&self, m: &Model) -> FoldPlan {
        FoldPlan::from_folds(
            m.nodes
                .iter()
                .zip(&self.0)
                .map(|(n, &(pe, simd))| (n.name.clone(), ferrite_gen::fold::Fold::new(pe, simd))),
            "test",
        )
    }
}

pub fn plan(folds: &[(usize, usize)]) -> Folds {
    Folds(folds.to_vec())
}

/// Stitch and emit `m` folded by `p`.
pub fn emit(m: &Model, p: &Folds) -> Result<Built, String> {
    let plan = p.plan(m);
    let (design, files, _) = ferrite_gen::build::compile(m, &plan).map_err(|e| e.to_string())?;
    Ok(Built { design, files })
}

pub const INSTALL: &str = "apt-get install verilator yosys iverilog";

/// Fail (never skip) when a tool is missing.
pub fn require_tool(tool: &str) {
    let ok = Command::new(tool)
        .arg("-V")
        .output()
        .map(|o| o.status.success() || !o.stdout.is_empty())
        .unwrap_or(false);
    assert!(ok, "`{tool}` is not installed: {INSTALL}");
}

pub fn rng(seed: u64) -> Rng {
    Rng::new(seed)
}

pub fn random_value(r: &mut Rng, t: DataType) -> i64 {
    r.value(t)
}

pub fn mvu(
    r: &mut Rng,
    name: &str,
    mw: usize,
    mh: usize,
    it: DataType,
    wt: DataType,
    out: Option<(DataType, bool)>,
) -> Layer {
    let weights = (0..mw * mh).map(|_| r.value(wt)).collect();
    let mut l = MatrixVector {
        mw,
        mh,
        input_type: it,
        weight_type: wt,
        weights,
        thresholds: None,
    };
    if let Some((ot, shared)) = out {
        let (lo, hi) = l.acc_range();
        // typical accumulators are near 0: thresholds around the middle third
        let (lo, hi) = (lo / 3, hi / 3);
        l.thresholds = Some(ferrite_gen::testing::wide_thresholds(
            r,
            mh,
            shared,
            lo.min(hi),
            hi.max(lo),
            ot,
        ));
    }
    Layer {
        name: name.into(),
        op: Op::MatrixVector(l),
        input: TensorType::vector(mw, it),
    }
}

pub fn thresholding(
    r: &mut Rng,
    name: &str,
    elems: usize,
    channels: usize,
    it: DataType,
    out: DataType,
    shared: bool,
) -> Layer {
    let t = ferrite_gen::testing::wide_thresholds(r, channels, shared, it.min(), it.max(), out);
    Layer {
        name: name.into(),
        op: Op::Thresholding(Thresholding {
            channels,
            input_type: it,
            thresholds: t,
        }),
        input: TensorType::vector(elems, it),
    }
}

pub fn label_select(name: &str, labels: usize, k: usize, it: DataType) -> Layer {
    ferrite_gen::testing::label_select_layer(name, labels, k, it)
}

pub fn model(name: &str, layers: Vec<Layer>) -> Model {
    ferrite_gen::testing::model(name, layers)
}

pub fn write_design(dir: &Path, d: &Built) {
    std::fs::create_dir_all(dir).unwrap();
    for f in &d.files {
        std::fs::write(dir.join(&f.name), &f.contents).unwrap();
    }
}

pub fn verilog_paths(dir: &Path, d: &Built) -> Vec<String> {
    d.verilog_files()
        .map(|f| dir.join(&f.name).display().to_string())
        .collect()
}

/// `verilator --lint-only -Wall`: the warnings, if any.
pub fn verilator_lint(dir: &Path, d: &Built, top: &str, extra: &[String]) -> Result<(), String> {
    let mut c = Command::new("verilator");
    c.args(["--lint-only", "-Wall", "--top-module", top]);
    c.args(verilog_paths(dir, d)).args(extra);
    let o = c.output().expect("verilator runs");
    let text = String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
    if o.status.success() && !text.contains("%Warning") && !text.contains("%Error") {
        Ok(())
    } else {
        Err(text)
    }
}

/// Yosys: read every file, elaborate the hierarchy from the top (reads the .mem files
/// through MEM_DIR, set to the absolute `dir`).
pub fn yosys_elaborate(dir: &Path, d: &Built, top: &str) -> Result<(), String> {
    let files = verilog_paths(dir, d).join(" ");
    let script = format!(
        "read_verilog -defer {files}; chparam -set MEM_DIR \"{}/\" {top}; hierarchy -check -top {top}",
        dir.display()
    );
    let o = Command::new("yosys")
        .args(["-q", "-p", &script])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("yosys runs");
    let text = String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
    if o.status.success() && !text.to_lowercase().contains("warning") {
        Ok(())
    } else {
        Err(text)
    }
}

/// Icarus: compile the design (Verilog-2005).
pub fn icarus_compile(dir: &Path, d: &Built, top: &str) -> Result<(), String> {
    let out = dir.join("icarus.vvp");
    let o = Command::new("iverilog")
        .args(["-g2005", "-Wall", "-o"])
        .arg(&out)
        .args(["-s", top])
        .args(verilog_paths(dir, d))
        .output()
        .expect("iverilog runs");
    let text = String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
    if o.status.success() && text.trim().is_empty() {
        Ok(())
    } else {
        Err(text)
    }
}

/// The bipolar MLP several tests share: 16 -> 12 -> 8 -> 4 matrix-vector layers (bipolar
/// activations, the last without) and a top-2 label select. Its folds
/// `[(4, 4), (2, 3), (4, 2), (2, 1)]` need width converters 4 -> 3, 2 -> 4 and 4 -> 2.
pub fn bipolar_mlp(r: &mut Rng) -> Vec<Layer> {
    let act = Some((DataType::Bipolar, false));
    let l0 = mvu(r, "fc0", 16, 12, DataType::Bipolar, DataType::Bipolar, act);
    let l1 = mvu(r, "fc1", 12, 8, DataType::Bipolar, DataType::Bipolar, act);
    let l2 = mvu(r, "fc2", 8, 4, DataType::Bipolar, DataType::Bipolar, None);
    let l3 = label_select("top", 4, 2, l2.output_type());
    vec![l0, l1, l2, l3]
}

/// Folds of [`bipolar_mlp`] that need a width converter between every pair of layers.
pub const BIPOLAR_MLP_FOLDS: [(usize, usize); 4] = [(4, 4), (2, 3), (4, 2), (2, 1)];

/// An integer chain several tests share: INT4 matrix-vector (accumulator out), a standalone
/// thresholding layer to UINT4, and an INT2 matrix-vector with an INT2 activation. Its
/// folds [`INT_CHAIN_FOLDS`] need a 1 -> 6 width converter.
pub fn int_chain(r: &mut Rng) -> Vec<Layer> {
    let l0 = mvu(r, "fc0", 8, 6, DataType::Int(4), DataType::Int(4), None);
    let l1 = thresholding(r, "act", 6, 6, l0.output_type(), DataType::UInt(4), false);
    let l2 = mvu(
        r,
        "fc1",
        6,
        3,
        DataType::UInt(4),
        DataType::Int(2),
        Some((DataType::Int(2), false)),
    );
    vec![l0, l1, l2]
}

/// Folds of [`int_chain`].
pub const INT_CHAIN_FOLDS: [(usize, usize); 3] = [(1, 2), (1, 1), (3, 6)];
