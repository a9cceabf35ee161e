//! Reports: what was built, how it was folded, and what it is expected to cost.
//!
//! [`BuildReport`] is `OUT/report.json` of `ferrite build`: the generator, the model's
//! provenance, one entry an IR node (shape, fold, datatypes, accumulator, expected cycles,
//! memory bits), the pipeline's expected cycles a frame, the nodes stitch inserted (FIFOs
//! and width converters), and the streams of its ports. It is deterministic (no timestamps).
//!
//! `ferrite report` renders a build (and its co-simulation and golden comparison) as one
//! self-contained HTML page ([`html`]) or a Markdown summary ([`markdown`]) from a
//! [`Summary`] ([`summary`]); [`layout`] places the design graph for the page's diagram,
//! [`figures`] computes the roofline and energy figures, [`compare`] reads the comparisons.
//!
//! Architecture invariant: report only reads the other stages' results.

pub mod compare;
pub mod figures;
pub mod html;
pub mod layout;
pub mod markdown;
pub mod summary;

pub use figures::{DEFAULT_CLOCK_MHZ, ENERGY, EnergyModel, Roofline};
pub use summary::Summary;

use crate::emit::{self, GeneratedFile};
use crate::fold::FoldPlan;
use crate::ir::{Model, Op, Provenance};
use crate::stitch::{Design, HwNode, Role};
use crate::stream::StreamFormat;
use serde::Serialize;

/// Version of the report format.
pub const REPORT_VERSION: u32 = 4;

/// One IR node of [`BuildReport`]. Fields that do not apply to its kind are absent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeReport {
    /// Position in stream (topological) order.
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
    pub kernel: Option<[usize; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stride: Option<[usize; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dilation: Option<[usize; 2]>,
    /// Padding `[top, left, bottom, right]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pads: Option<[usize; 4]>,
    /// Window positions a pool reduces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positions: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    pub in_elems: usize,
    pub out_elems: usize,
    /// Input and output tensor shapes `[H, W, C]`.
    pub in_shape: [usize; 3],
    pub out_shape: [usize; 3],
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
    /// Bits of other memories (window buffers, pool accumulators).
    pub buffer_bits: usize,
    /// Elements a beat in and out.
    pub in_lanes: usize,
    pub out_lanes: usize,
    /// Cycles a frame in steady state (FINN's model: `(mh/pe) * (mw/simd)` for a
    /// matrix-vector layer).
    pub exp_cycles: u64,
    /// Operations, bits moved, intensity, roofs and modelled energy a frame.
    pub roofline: Roofline,
}

/// How the design was folded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FoldingReport {
    /// `plan.how`: where the folds came from.
    pub how: String,
    /// The folding file written beside the report (reusable with `--folding`).
    pub file: String,
}

/// Resource estimates of the whole design (no board budget exists yet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub weight_rom_bits: usize,
    pub threshold_rom_bits: usize,
    pub est_bram18: usize,
    pub buffer_bits: usize,
    /// Bits of the FIFOs stitch inserted (depth x width).
    pub fifo_bits: usize,
}

/// `OUT/report.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// The slowest node.
    pub bottleneck: String,
    /// Estimated block RAM of the whole design, in RAMB18 equivalents (sum of the nodes').
    pub est_bram18: usize,
    /// Resource estimates summed over the design.
    pub totals: Totals,
    /// LUT, FF, block RAM (in the family's unit) and DSP of every design node (engines,
    /// FIFOs, width converters) and their total on the design's family (version 4).
    pub estimate: crate::estimate::DesignCost,
    /// The clock the figures below assume (no board gives one yet), in MHz.
    pub default_clock_mhz: f64,
    /// Frames a second at that clock: `clock / exp_cycles_per_frame`.
    pub frames_per_second: f64,
    /// Modelled energy a frame of all nodes, in picojoules (a model, not a measurement:
    /// [`figures::ENERGY`]).
    pub energy_pj_per_frame: f64,
    pub nodes: Vec<NodeReport>,
    /// What stitch inserted on the edges: FIFOs and width converters, with their depths,
    /// widths and why (the design manifest `design.json` has the whole graph).
    pub inserted: Vec<InsertedReport>,
    /// Formats of the top's `s_axis_tdata` and `m_axis_tdata`.
    pub input_stream: StreamFormat,
    pub output_stream: StreamFormat,
    /// Files of `rtl/`, in order.
    pub rtl_files: Vec<String>,
    /// How simulators and tools find the `.mem` files.
    pub mem_dir: String,
}

/// A node stitch inserted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InsertedReport {
    pub name: String,
    pub instance: String,
    pub module: String,
    #[serde(flatten)]
    pub role: Role,
    pub input: StreamFormat,
    pub output: StreamFormat,
}

fn node_report(
    model: &Model,
    a: &crate::ir::Analysis,
    hw: &HwNode,
    pipeline_cycles: u64,
) -> Option<NodeReport> {
    let Role::Engine {
        node,
        kind,
        datapath,
        origin,
        fold,
        exp_cycles,
        resources,
        index,
    } = &hw.role
    else {
        return None;
    };
    let id = a.by_name[node];
    let n = &model.nodes[id];
    let (it, ot) = (a.in_types[id][0], a.out_types[id][0]);
    let mut r = NodeReport {
        index: *index,
        name: node.clone(),
        kind: kind.clone(),
        module: hw.module.clone(),
        origin: origin.clone(),
        datapath: datapath.clone(),
        mw: None,
        mh: None,
        channels: None,
        labels: None,
        kernel: None,
        stride: None,
        dilation: None,
        pads: None,
        positions: None,
        k: None,
        in_elems: it.elems(),
        out_elems: ot.elems(),
        in_shape: it.shape,
        out_shape: ot.shape,
        pe: fold.pe,
        simd: fold.simd,
        input_type: it.dtype.to_string(),
        weight_type: None,
        output_type: ot.dtype.to_string(),
        acc_type: None,
        thresholds_per_channel: 0,
        weight_rom_bits: resources.weight_rom_bits,
        threshold_rom_bits: resources.threshold_rom_bits,
        est_bram18: resources.est_bram18,
        buffer_bits: resources.buffer_bits,
        in_lanes: hw.inputs[0].lanes,
        out_lanes: hw.outputs[0].lanes,
        exp_cycles: *exp_cycles,
        roofline: figures::roofline(
            &n.op,
            &a.in_types[id],
            &a.out_types[id],
            hw,
            *exp_cycles,
            resources.est_bram18,
            pipeline_cycles,
        ),
    };
    match &n.op {
        Op::MatrixVector(m) => {
            r.mw = Some(m.mw);
            r.mh = Some(m.mh);
            r.weight_type = Some(m.weight_type.to_string());
            r.acc_type = Some(m.acc_type().to_string());
            if let Some(t) = &m.thresholds {
                r.thresholds_per_channel = t.per_channel();
            }
        }
        Op::Thresholding(t) => {
            r.channels = Some(t.channels);
            r.thresholds_per_channel = t.thresholds.per_channel();
        }
        Op::LabelSelect(s) => {
            r.labels = Some(s.labels);
            r.k = Some(s.k);
        }
        Op::SlidingWindow(w) => {
            r.channels = Some(it.channels());
            r.kernel = Some(w.kernel);
            r.stride = Some(w.stride);
            r.dilation = Some(w.dilation);
        }
        Op::Pad(p) => {
            r.channels = Some(it.channels());
            r.pads = Some(p.pads);
        }
        Op::Pool(p) => {
            r.channels = Some(p.channels);
            r.positions = Some(p.positions);
        }
        Op::Duplicate(_) => {
            r.channels = Some(it.channels());
        }
        Op::Add(o) => {
            r.channels = Some(it.channels());
            r.acc_type = Some(o.sum_type().to_string());
            if let Some(t) = &o.thresholds {
                r.thresholds_per_channel = t.per_channel();
            }
        }
        Op::Concat(c) => {
            r.channels = Some(c.out_channels());
        }
        Op::VectorVector(v) => {
            r.channels = Some(v.channels);
            r.positions = Some(v.kernel);
            r.weight_type = Some(v.weight_type.to_string());
            r.acc_type = Some(v.acc_type().to_string());
            if let Some(t) = &v.thresholds {
                r.thresholds_per_channel = t.per_channel();
            }
        }
    }
    Some(r)
}

/// One report a node of `design` (built from `model`), in stream order.
pub fn node_reports(model: &Model, design: &Design) -> Vec<NodeReport> {
    let a = model.analyze().expect("a stitched model is valid");
    design
        .nodes
        .iter()
        .filter_map(|n| node_report(model, &a, n, design.exp_cycles_per_frame))
        .collect()
}

/// The design's resource estimates, summed.
pub fn totals(nodes: &[NodeReport], design: &Design) -> Totals {
    Totals {
        weight_rom_bits: nodes.iter().map(|n| n.weight_rom_bits).sum(),
        threshold_rom_bits: nodes.iter().map(|n| n.threshold_rom_bits).sum(),
        est_bram18: nodes.iter().map(|n| n.est_bram18).sum(),
        buffer_bits: nodes.iter().map(|n| n.buffer_bits).sum(),
        fifo_bits: design
            .nodes
            .iter()
            .map(|n| match n.role {
                Role::Fifo { depth, width, .. } => depth * width,
                _ => 0,
            })
            .sum(),
    }
}

/// The FIFOs and width converters stitch inserted, in stream order.
pub fn inserted(design: &Design) -> Vec<InsertedReport> {
    design
        .nodes
        .iter()
        .filter(|n| !matches!(n.role, Role::Engine { .. }))
        .map(|n| InsertedReport {
            name: n.name.clone(),
            instance: n.instance.clone(),
            module: n.module.clone(),
            role: n.role.clone(),
            input: n.inputs[0].clone(),
            output: n.outputs[0].clone(),
        })
        .collect()
}

/// Frames a second at `clock_mhz` for `cycles` a frame.
pub fn fps(clock_mhz: f64, cycles: u64) -> f64 {
    if cycles == 0 {
        0.0
    } else {
        clock_mhz * 1e6 / cycles as f64
    }
}

/// The report of `design`, built from `model` with `plan` into `files`.
pub fn build_report(
    model: &Model,
    plan: &FoldPlan,
    design: &Design,
    files: &[GeneratedFile],
) -> BuildReport {
    let nodes = node_reports(model, design);
    let inserted = inserted(design);
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
        bottleneck: design.bottleneck.clone(),
        est_bram18: nodes.iter().map(|l| l.est_bram18).sum(),
        totals: totals(&nodes, design),
        estimate: crate::estimate::design_cost(model, design, design.family),
        default_clock_mhz: DEFAULT_CLOCK_MHZ,
        frames_per_second: fps(DEFAULT_CLOCK_MHZ, design.exp_cycles_per_frame),
        energy_pj_per_frame: nodes.iter().map(|n| n.roofline.energy_pj).sum(),
        nodes,
        inserted,
        input_stream: design.input.clone(),
        output_stream: design.output.clone(),
        rtl_files: files.iter().map(|f| f.name.clone()).collect(),
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
