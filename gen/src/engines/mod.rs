//! The hardware side of each op kind: one module a kind, one [`Engine`] impl each.
//!
//! An engine kind owns what the stages need to know about its hardware: its ports and their
//! stream formats under a fold, its legal folds, its expected cycles a frame, its resource
//! estimate, its production and consumption schedule (what sizes the FIFOs around it), and its template context (the Verilog it
//! renders). Its values live with the op in `ir::ops` (`OpKind::eval`), its name and types
//! there too. Adding an engine kind adds a module here, a variant to `ir::Op`, a template
//! in `ferrite-rtl`, and one arm to [`engine`].

mod add;
mod concat;
mod datapath;
mod duplicate;
mod label_select;
mod mvau;
pub mod pad;
pub mod pool;
pub(crate) mod rom;
pub mod swg;
mod thresholding;
mod vvu;

pub use datapath::TREE_REG_EVERY;

use crate::emit::{EmitError, GeneratedFile};
use crate::fold::Fold;
use crate::ir::{Op, TensorType};
use crate::stream::StreamFormat;
use serde::{Deserialize, Serialize};

/// Resources an engine is estimated to take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Bits of the weight ROM and threshold ROM as declared (with padding to at least two
    /// words); 0 when there is none.
    pub weight_rom_bits: usize,
    pub threshold_rom_bits: usize,
    /// Estimated block RAM in RAMB18 equivalents (a RAMB36 is 2) of the memories marked for
    /// block RAM ([`crate::emit::resources::bram18_for_rom`]).
    pub est_bram18: usize,
    /// Bits of the engine's other memories as declared (window buffers, accumulators).
    #[serde(default)]
    pub buffer_bits: usize,
}

/// Everything an engine needs to render itself.
pub struct RenderCx<'a> {
    /// Verilog module name of the engine.
    pub module: &'a str,
    /// Header lines (generator, template hash, model, node, folding).
    pub header: Vec<String>,
    /// Module name of the skid buffer every output goes through.
    pub skid: &'a str,
    pub ins: &'a [TensorType],
    pub fold: Fold,
    /// The FPGA family: memory placement ([`crate::estimate::place_memory`]) follows it.
    pub family: crate::boards::Family,
}

/// The hardware of one op kind.
pub trait Engine {
    /// Suffix of the engine's module name (`<prefix>_l<NN>_<suffix>`).
    fn module_suffix(&self) -> &'static str;
    /// Template path under `rtl-templates/templates/`.
    fn template(&self) -> &'static str;
    /// The template used under `fold` (a kind with one template per mode overrides it).
    fn template_for(&self, fold: Fold) -> &'static str {
        let _ = fold;
        self.template()
    }
    /// One line on what the engine is, for headers.
    fn purpose(&self) -> &'static str;
    /// How it computes (`xnor-popcount`, `mac`, `compare`, `top-k`, ...).
    fn datapath(&self) -> &'static str;
    /// Legal PE values and legal SIMD values (ascending); any pair of them is legal that
    /// [`Engine::fold_check`] accepts.
    fn fold_space(&self, ins: &[TensorType]) -> (Vec<usize>, Vec<usize>);
    /// What PE and SIMD mean for this kind, for error messages: (pe_of, simd_of).
    fn fold_terms(&self, ins: &[TensorType]) -> (String, Option<String>);
    /// A kind whose legal (PE, SIMD) pairs are fewer than [`Engine::fold_space`]'s product
    /// refuses the others here, saying why (the vector-vector unit: SIMD > 1 needs PE = C).
    fn fold_check(&self, ins: &[TensorType], fold: Fold) -> Result<(), String> {
        let _ = (ins, fold);
        Ok(())
    }
    /// Elements a beat on each input port and each output port under `fold`.
    fn lanes(&self, fold: Fold) -> (Vec<usize>, Vec<usize>);
    /// Cycles one frame takes in steady state (the engine alone, never starved or blocked).
    fn exp_cycles(&self, ins: &[TensorType], fold: Fold) -> u64;
    /// Operations of one frame (multiply-accumulates, compares, ...): what automatic
    /// folding spreads lanes over.
    fn work(&self, ins: &[TensorType]) -> u64;
    /// The engine's production and consumption schedule, cycle by cycle, from which
    /// [`crate::fifo`] sizes the FIFOs around it. The default is a streaming engine: every
    /// input port read and every output port written in lockstep, one step a cycle, a beat
    /// entering the next FIFO 2 cycles after its step (a registered stage and the output
    /// skid buffer). Engines with bursts, pauses or internal buffers override it.
    fn schedule(
        &self,
        ins: &[TensorType],
        outs: &[TensorType],
        fold: Fold,
    ) -> crate::fifo::Schedule {
        let (il, ol) = self.lanes(fold);
        let beats = |ts: &[TensorType], lanes: &[usize]| -> Vec<usize> {
            ts.iter()
                .zip(lanes)
                .map(|(t, &l)| t.elems() / l.max(1))
                .collect()
        };
        crate::fifo::Schedule::streaming(&beats(ins, &il), &beats(outs, &ol), 2)
    }
    /// Estimated resources.
    fn resources(&self, ins: &[TensorType], fold: Fold) -> Resources;
    /// The structure the resource estimate is computed from on `family`
    /// ([`crate::estimate::Terms`]): the model, its structural quantities, block RAM and
    /// DSP. Every kind gives its own; there is no default.
    fn cost_terms(
        &self,
        ins: &[TensorType],
        fold: Fold,
        family: crate::boards::Family,
    ) -> crate::estimate::Terms;
    /// Estimated LUT, FF, block RAM and DSP on `family` ([`crate::estimate`]): the
    /// calibrated formula of [`Engine::cost_terms`].
    fn cost(
        &self,
        ins: &[TensorType],
        fold: Fold,
        family: crate::boards::Family,
    ) -> crate::estimate::Cost {
        self.cost_terms(ins, fold, family).cost(family)
    }
    /// Lines for the generated file's header and the top's comments.
    fn describe(&self, ins: &[TensorType], fold: Fold) -> Vec<String>;
    /// Whether the engine under `fold` on `family` reads `.mem` files (takes the
    /// `MEM_DIR` parameter).
    fn uses_mem(&self, fold: Fold, family: crate::boards::Family) -> bool;
    /// The engine's Verilog and `.mem` files (the module file first).
    fn render(&self, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError>;
}

/// The one dispatch from an op to its engine.
pub fn engine(op: &Op) -> &dyn Engine {
    match op {
        Op::MatrixVector(o) => o,
        Op::Thresholding(o) => o,
        Op::LabelSelect(o) => o,
        Op::SlidingWindow(o) => o,
        Op::Pad(o) => o,
        Op::Pool(o) => o,
        Op::Duplicate(o) => o,
        Op::Add(o) => o,
        Op::VectorVector(o) => o,
        Op::Concat(o) => o,
    }
}

/// The files of an engine whose parameters `check` and whose module is one template
/// context (`ctx`, rendered only when the check passes).
pub(crate) fn render_module<T: ferrite_rtl::Template>(
    cx: &RenderCx,
    kind: &'static str,
    check: Result<(), String>,
    ctx: impl FnOnce() -> T,
) -> Result<Vec<GeneratedFile>, EmitError> {
    check.map_err(|why| EmitError::Unsupported {
        node: cx.module.to_string(),
        kind,
        why,
    })?;
    Ok(vec![GeneratedFile {
        name: format!("{}.v", cx.module),
        contents: crate::emit::render(&ctx(), cx.module)?,
    }])
}

/// Stream formats of an engine's input and output ports under `fold` (exact widths).
pub fn port_formats(
    op: &Op,
    ins: &[TensorType],
    outs: &[TensorType],
    fold: Fold,
) -> (Vec<StreamFormat>, Vec<StreamFormat>) {
    let (il, ol) = engine(op).lanes(fold);
    let f = |t: &TensorType, lanes: usize| StreamFormat::of(t, lanes);
    (
        ins.iter().zip(&il).map(|(t, &l)| f(t, l)).collect(),
        outs.iter().zip(&ol).map(|(t, &l)| f(t, l)).collect(),
    )
}

/// Template kind of a value type and its width as a signed number.
pub(crate) fn value_kind(t: crate::ir::DataType) -> (ferrite_rtl::ValueKind, u32) {
    use crate::ir::DataType;
    use ferrite_rtl::ValueKind;
    match t {
        DataType::Bipolar => (ValueKind::Bipolar, 2),
        DataType::Binary => (ValueKind::Uint, 2),
        DataType::UInt(n) => (ValueKind::Uint, n + 1),
        DataType::Int(n) => (ValueKind::Int, n),
    }
}
