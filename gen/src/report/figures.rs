//! Roofline figures and the energy model of one node (docs/report.md explains each).
//!
//! Per frame: the operations a node does (a MAC counts 2, a compare, an add or a max 1),
//! the bits it reads from its weight and threshold memories and the bits of the streams it
//! consumes and produces; their ratio is its arithmetic intensity. Its **compute roof** is
//! the operations a cycle its lanes do running flat out (`ops / exp_cycles`: `2 * PE * SIMD`
//! for a matrix-vector unit), its **memory roof** the intensity times the on-chip bandwidth
//! it has (its weight and threshold memories' port widths, or 36 bits a cycle a RAMB18 when
//! its block RAM offers more, plus its stream ports); the pipeline runs every node at
//! the bottleneck's rate, so it attains `ops / pipeline cycles a frame`.
//!
//! The energy is a **model**, not a measurement: [`ENERGY`]'s per-operation and per-bit
//! constants (45 nm figures from Horowitz, "Computing's energy problem", ISSCC 2014,
//! scaled by bit width) times the counts above.

use crate::ir::{Op, TensorType};
use crate::stitch::HwNode;
use serde::Serialize;

/// The clock the report states figures at when no board or clock is given, in MHz.
pub const DEFAULT_CLOCK_MHZ: f64 = 100.0;

/// Bits a cycle one RAMB18 delivers (a 36-bit port, or two 18-bit ports).
pub const BRAM18_BITS_PER_CYCLE: u64 = 36;

/// The constants of the energy model, in picojoules.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EnergyModel {
    /// An 8 x 8-bit integer multiply; an `a x b`-bit one costs `a * b / 64` of it.
    pub pj_mul_8x8: f64,
    /// An 8-bit integer add (also a compare or a max); an `n`-bit one costs `n / 8` of it.
    pub pj_add_8: f64,
    /// One bit read from on-chip memory (weights, thresholds): a 64-bit read of an 8 KB SRAM
    /// is about 10 pJ.
    pub pj_mem_bit: f64,
    /// One bit of a stream moved between engines (registers, FIFOs, wires): an assumption,
    /// about a third of a memory bit.
    pub pj_stream_bit: f64,
    /// Where the constants come from.
    pub source: &'static str,
}

/// The energy model every report uses.
pub const ENERGY: EnergyModel = EnergyModel {
    pj_mul_8x8: 0.2,
    pj_add_8: 0.03,
    pj_mem_bit: 0.16,
    pj_stream_bit: 0.05,
    source: "45 nm CMOS figures of M. Horowitz, \"Computing's energy problem\", ISSCC 2014 \
             (8-bit multiply 0.2 pJ, 8-bit add 0.03 pJ, 64-bit read of an 8 KB SRAM 10 pJ), \
             multipliers scaled by the product of the operand widths and adders by their \
             width; the stream bit is an assumption. A model to compare nodes and designs, \
             not a measurement (an FPGA spends several times more)",
};

/// One node's roofline and energy figures (per frame unless said otherwise).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Roofline {
    /// Multiply-accumulates (each counts 2 operations).
    pub macs: u64,
    /// Compares, adds and maxes outside the MACs (thresholds, pools, residual adds, top-k).
    pub other_ops: u64,
    /// `2 * macs + other_ops`.
    pub ops: u64,
    /// Bits read from the weight and threshold memories.
    pub weight_bits: u64,
    /// Bits of the streams consumed and produced.
    pub activation_bits: u64,
    /// `ops / (weight_bits + activation_bits)`.
    pub intensity: f64,
    /// Compute roof: operations a cycle with the node's lanes busy every cycle
    /// (`ops / exp_cycles`).
    pub compute_roof_ops_per_cycle: f64,
    /// On-chip bandwidth, bits a cycle: the weight and threshold memories' port widths (or
    /// 36 bits a RAMB18 when that is more) plus the stream ports.
    pub bandwidth_bits_per_cycle: u64,
    /// Memory roof: `intensity * bandwidth_bits_per_cycle`.
    pub memory_roof_ops_per_cycle: f64,
    /// What the node attains at the pipeline's rate: `ops / pipeline cycles a frame`.
    pub attained_ops_per_cycle: f64,
    /// `compute` or `memory`: the lower roof (`none` for a node without operations).
    pub bound: String,
    /// Energy a frame by [`ENERGY`], in picojoules.
    pub energy_pj: f64,
}

fn mul_pj(a: u32, b: u32) -> f64 {
    ENERGY.pj_mul_8x8 * f64::from(a) * f64::from(b) / 64.0
}

fn add_pj(bits: u32) -> f64 {
    ENERGY.pj_add_8 * f64::from(bits) / 8.0
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// The figures of the engine `hw` of `op`, with input types `ins`, output types `outs`,
/// running in a pipeline of `pipeline_cycles` a frame.
pub fn roofline(
    op: &Op,
    ins: &[TensorType],
    outs: &[TensorType],
    hw: &HwNode,
    exp_cycles: u64,
    est_bram18: usize,
    pipeline_cycles: u64,
) -> Roofline {
    let bits = |t: &TensorType| t.elems() as u64 * u64::from(t.dtype.bits());
    let activation_bits: u64 = ins.iter().chain(outs).map(bits).sum();
    let out = outs[0];
    let pixels = out.pixels() as u64;
    let th = |t: &Option<crate::ir::Thresholds>| t.as_ref().map_or(0, |t| t.per_channel() as u64);
    // (macs, other ops, weight bits, weight port bits a cycle, energy of the arithmetic)
    let (macs, other, wbits, wport, arith_pj): (u64, u64, u64, u64, f64) = match op {
        Op::MatrixVector(m) => {
            let acc = m.acc_type().bits();
            let t = th(&m.thresholds);
            let macs = (m.mh * m.mw) as u64 * pixels;
            let cmp = t * m.mh as u64 * pixels;
            let wb = macs * u64::from(m.weight_type.bits()) + cmp * u64::from(acc);
            let fold = fold_of(hw);
            let port = (fold.0 * fold.1) as u64 * u64::from(m.weight_type.bits())
                + fold.0 as u64 * t * u64::from(acc);
            let pj = macs as f64
                * (mul_pj(m.weight_type.bits(), m.input_type.bits()) + add_pj(acc))
                + cmp as f64 * add_pj(acc);
            (macs, cmp, wb, port, pj)
        }
        Op::VectorVector(v) => {
            let acc = v.acc_type().bits();
            let t = th(&v.thresholds);
            let macs = (v.channels * v.kernel) as u64 * pixels;
            let cmp = t * v.channels as u64 * pixels;
            let wb = macs * u64::from(v.weight_type.bits()) + cmp * u64::from(acc);
            let fold = fold_of(hw);
            let port = (fold.0 * fold.1) as u64 * u64::from(v.weight_type.bits())
                + fold.0 as u64 * t * u64::from(acc);
            let pj = macs as f64
                * (mul_pj(v.weight_type.bits(), v.input_type.bits()) + add_pj(acc))
                + cmp as f64 * add_pj(acc);
            (macs, cmp, wb, port, pj)
        }
        Op::Thresholding(t) => {
            let b = t.input_type.bits();
            let cmp = t.thresholds.per_channel() as u64 * out.elems() as u64;
            let port = fold_of(hw).0 as u64 * t.thresholds.per_channel() as u64 * u64::from(b);
            (0, cmp, cmp * u64::from(b), port, cmp as f64 * add_pj(b))
        }
        Op::Pool(p) => {
            let b = match p.mode {
                crate::ir::PoolMode::Max => p.input_type.bits(),
                crate::ir::PoolMode::Sum => out.dtype.bits(),
            };
            let n = (p.positions as u64).saturating_sub(1) * out.elems() as u64;
            (0, n, 0, 0, n as f64 * add_pj(b))
        }
        Op::Add(a) => {
            let sum = a.sum_type().bits();
            let t = th(&a.thresholds);
            let n = out.elems() as u64;
            let cmp = t * n;
            let port = fold_of(hw).0 as u64 * t * u64::from(sum);
            (
                0,
                n + cmp,
                cmp * u64::from(sum),
                port,
                (n + cmp) as f64 * add_pj(sum),
            )
        }
        Op::LabelSelect(s) => {
            let b = s.input_type.bits();
            let n = (s.labels * s.k) as u64;
            (0, n, 0, 0, n as f64 * add_pj(b))
        }
        Op::SlidingWindow(_) | Op::Pad(_) | Op::Duplicate(_) | Op::Concat(_) => (0, 0, 0, 0, 0.0),
    };
    let ops = 2 * macs + other;
    let total_bits = wbits + activation_bits;
    let intensity = ratio(ops as f64, total_bits as f64);
    // the weight memory delivers its port's width every cycle (the engine is built so);
    // block RAM may offer more (RAMB18s counted for depth have spare ports)
    let weight_bw = wport.max(est_bram18 as u64 * BRAM18_BITS_PER_CYCLE);
    let stream_bw: u64 = hw
        .inputs
        .iter()
        .chain(&hw.outputs)
        .map(|f| f.tdata_bits as u64)
        .sum();
    let bandwidth = weight_bw + stream_bw;
    let compute = ratio(ops as f64, exp_cycles as f64);
    let memory = intensity * bandwidth as f64;
    let bound = if ops == 0 {
        "none"
    } else if memory < compute {
        "memory"
    } else {
        "compute"
    };
    Roofline {
        macs,
        other_ops: other,
        ops,
        weight_bits: wbits,
        activation_bits,
        intensity,
        compute_roof_ops_per_cycle: compute,
        bandwidth_bits_per_cycle: bandwidth,
        memory_roof_ops_per_cycle: memory,
        attained_ops_per_cycle: ratio(ops as f64, pipeline_cycles as f64),
        bound: bound.into(),
        energy_pj: arith_pj
            + wbits as f64 * ENERGY.pj_mem_bit
            + activation_bits as f64 * ENERGY.pj_stream_bit,
    }
}

/// (PE, SIMD) of an engine node.
fn fold_of(hw: &HwNode) -> (usize, usize) {
    match &hw.role {
        crate::stitch::Role::Engine { fold, .. } => (fold.pe, fold.simd),
        _ => (1, 1),
    }
}
