//! Reports: what was built, how it was folded, and what it is expected to cost.
//!
//! [`BuildReport`] is `OUT/report.json` of `ferrite build`: the generator, the model's
//! provenance, one entry a layer (shape, fold, datatypes, accumulator, expected cycles,
//! memory bits), the pipeline's expected cycles a frame, the FIFOs and width converters
//! of the top, and the streams of its ports. It is deterministic (no timestamps).
//!
//! Architecture invariant: report only reads the other stages' results.

use crate::emit::{self, ConverterInfo, Design, FifoInfo, StreamFormat};
use crate::fold::FoldPlan;
use crate::ir::{Layer, Model, Provenance};
use serde::Serialize;

/// Version of the report format.
pub const REPORT_VERSION: u32 = 1;

/// One layer of [`BuildReport`]. Fields that do not apply to a layer's kind are absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LayerReport {
    pub index: usize,
    pub name: String,
    /// `MatrixVector`, `Thresholding` or `LabelSelect`.
    pub kind: String,
    /// Verilog module of the engine.
    pub module: String,
    /// ONNX node(s) the layer came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// `xnor-popcount`, `mac`, `compare` or `top-k`.
    pub datapath: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mw: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mh: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    pub in_elems: usize,
    pub out_elems: usize,
    pub pe: usize,
    pub simd: usize,
    pub input_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_type: Option<String>,
    pub output_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acc_type: Option<String>,
    /// Thresholds a channel (0 without an activation).
    pub thresholds_per_channel: usize,
    /// Bits of the weight ROM (with its padding) and of the threshold ROM.
    pub weight_rom_bits: usize,
    pub threshold_rom_bits: usize,
    /// Estimated block RAM, in RAMB18 equivalents (a RAMB36 is 2), of the weight ROM when it
    /// is marked for block RAM (`emit::resources`); checked against Yosys in the tests.
    pub est_bram18: usize,
    /// Elements a beat in and out.
    pub in_lanes: usize,
    pub out_lanes: usize,
    /// Cycles a frame in steady state (FINN's model: `(mh/pe) * (mw/simd)` for a
    /// matrix-vector layer).
    pub exp_cycles: u64,
}

/// How the design was folded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FoldingReport {
    /// `plan.how`: where the folds came from.
    pub how: String,
    /// The folding file written beside the report (reusable with `--folding`).
    pub file: String,
}

/// `OUT/report.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuildReport {
    pub report_version: u32,
    pub generator: String,
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Provenance>,
    /// Top module and its file.
    pub top: String,
    pub folding: FoldingReport,
    /// Expected cycles a frame of the pipeline: its slowest engine.
    pub exp_cycles_per_frame: u64,
    /// The slowest layer.
    pub bottleneck: String,
    /// Estimated block RAM of the whole design, in RAMB18 equivalents (sum of the layers').
    pub est_bram18: usize,
    pub layers: Vec<LayerReport>,
    pub fifos: Vec<FifoInfo>,
    pub converters: Vec<ConverterInfo>,
    /// Formats of the top's `s_axis_tdata` and `m_axis_tdata`.
    pub input_stream: StreamFormat,
    pub output_stream: StreamFormat,
    /// Files of `rtl/`, in order.
    pub rtl_files: Vec<String>,
    /// How simulators and tools find the `.mem` files.
    pub mem_dir: String,
}

fn layer_report(i: usize, l: &Layer, e: &emit::EngineInfo) -> LayerReport {
    let (pe, simd) = (e.fold.pe, e.fold.simd);
    let mut r = LayerReport {
        index: i,
        name: l.name().to_string(),
        kind: l.kind().to_string(),
        module: e.module.clone(),
        origin: l.origin().map(str::to_string),
        datapath: emit::datapath(l).to_string(),
        mw: None,
        mh: None,
        channels: None,
        labels: None,
        k: None,
        in_elems: l.in_elems(),
        out_elems: l.out_elems(),
        pe,
        simd,
        input_type: l.input_type().to_string(),
        weight_type: None,
        output_type: l.output_type().to_string(),
        acc_type: None,
        thresholds_per_channel: 0,
        weight_rom_bits: e.weight_rom_bits,
        threshold_rom_bits: e.threshold_rom_bits,
        est_bram18: e.est_bram18,
        in_lanes: e.input.lanes,
        out_lanes: e.output.lanes,
        exp_cycles: e.exp_cycles,
    };
    match l {
        Layer::MatrixVector(m) => {
            r.mw = Some(m.mw);
            r.mh = Some(m.mh);
            r.weight_type = Some(m.weight_type.to_string());
            r.acc_type = Some(m.acc_type().to_string());
            if let Some(t) = &m.thresholds {
                r.thresholds_per_channel = t.per_channel();
            }
        }
        Layer::Thresholding(t) => {
            r.channels = Some(t.channels);
            r.thresholds_per_channel = t.thresholds.per_channel();
        }
        Layer::LabelSelect(s) => {
            r.labels = Some(s.labels);
            r.k = Some(s.k);
        }
    }
    r
}

/// The report of a design built from `model` with `plan`.
pub fn build_report(model: &Model, plan: &FoldPlan, design: &Design) -> BuildReport {
    let layers: Vec<LayerReport> = model
        .layers
        .iter()
        .zip(&design.engines)
        .enumerate()
        .map(|(i, (l, e))| layer_report(i, l, e))
        .collect();
    let bottleneck = layers
        .iter()
        .max_by_key(|l| (l.exp_cycles, std::cmp::Reverse(l.index)))
        .map(|l| l.name.clone())
        .unwrap_or_default();
    BuildReport {
        report_version: REPORT_VERSION,
        generator: emit::GENERATOR.to_string(),
        model: model.name.clone(),
        source: model.source.clone(),
        top: design.top.clone(),
        folding: FoldingReport {
            how: plan.how.clone(),
            file: "folding.json".into(),
        },
        exp_cycles_per_frame: design.exp_cycles_per_frame,
        bottleneck,
        est_bram18: layers.iter().map(|l| l.est_bram18).sum(),
        layers,
        fifos: design.fifos.clone(),
        converters: design.converters.clone(),
        input_stream: design.input.clone(),
        output_stream: design.output.clone(),
        rtl_files: design.files.iter().map(|f| f.name.clone()).collect(),
        mem_dir: "engines read rtl/*.mem as {MEM_DIR, \"<file>.mem\"}; MEM_DIR (a parameter of the top, default \"\") \
                  is the directory with a trailing slash, e.g. verilator -GMEM_DIR='\"/abs/out/rtl/\"'; \
                  leave it empty when the .mem files are in the tool's working directory or added to a Vivado project"
            .into(),
    }
}

impl BuildReport {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a report always serialises");
        s.push('\n');
        s
    }
}
