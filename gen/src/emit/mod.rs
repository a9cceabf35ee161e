//! Emit: a folded model to Verilog.
//!
//! [`emit`] turns an [`ir::Model`] and a [`FoldPlan`] into a [`Design`]: one Verilog file a
//! module (engines `<prefix>_l<NN>_<kind>`, fixed primitives `<prefix>_<name>`, the top
//! `<prefix>_top`), the `.mem` files of weights and thresholds, and the stream formats of the
//! top's ports. [`emit_trace_top`] adds a second top that also exposes every layer's output.
//!
//! Every width, depth and constant is computed here and handed to the templates of
//! `ferrite-rtl` as a finished integer or sized literal: the templates hold structure only.
//! Output is deterministic: the same model and plan give the same bytes.
//!
//! # Streams
//! Lane `i` of a beat sits at bits `[i*E +: E]` (lane 0 in the LSBs), each element encoded
//! by [`DataType::encode`]; the top's `tdata` is padded with zeros to a multiple of 8 bits.
//!
//! # `.mem` files and `MEM_DIR`
//! Weights and thresholds are read with `$readmemh({MEM_DIR, "<file>.mem"}, ...)`. Every
//! engine and the top have a string parameter `MEM_DIR` (default `""`, the working directory
//! of the simulator or tool); a simulator sets it to the absolute path of the `rtl/`
//! directory with a trailing slash, for example `verilator -GMEM_DIR='"/abs/out/rtl/"'`,
//! `iverilog -P'<top>.MEM_DIR="/abs/out/rtl/"'` or Yosys
//! `chparam -set MEM_DIR "/abs/out/rtl/" <top>` (before `hierarchy`). Leave it empty when
//! the `.mem` files are in the tool's working directory or added to a Vivado project.
//!
//! Architecture invariant: emit reads `ir` and `fold`; it never runs the golden model.

mod layers;
pub mod resources;
mod stream;

pub use stream::{StreamFormat, pack_frame, unpack_frame};

use crate::fold::{self, FoldPlan};
use crate::ir::{self, DataType, Layer, Model};
use ferrite_rtl as rtl;
use ferrite_rtl::Template;
use serde::Serialize;
use thiserror::Error;

/// Version of ferrite-gen written in every header.
pub const GENERATOR: &str = concat!("ferrite-gen ", env!("CARGO_PKG_VERSION"));

/// Errors of [`emit`] and [`emit_trace_top`].
#[derive(Debug, Error)]
pub enum EmitError {
    #[error("invalid model: {0}")]
    Model(#[from] ir::IrError),
    #[error("invalid folding: {0}")]
    Fold(#[from] fold::FoldError),
    #[error("layer `{layer}` ({kind}): {why}")]
    Unsupported {
        layer: String,
        kind: &'static str,
        why: String,
    },
    #[error("folding has {found} entries for {expected} layers; give one fold per layer")]
    PlanLength { expected: usize, found: usize },
    /// An internal invariant broke: a bug in ferrite, not in the input.
    #[error("bug in ferrite's emitter (please report): {0}")]
    Verify(String),
}

/// One generated file (Verilog or `.mem`), named as it is written into `rtl/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    pub name: String,
    pub contents: String,
}

/// A FIFO the top puts before a layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FifoInfo {
    /// Instance name in the top.
    pub instance: String,
    /// The layer it feeds (index and name).
    pub before_layer: usize,
    pub layer: String,
    /// Beats it holds (a power of two) and bits a beat.
    pub depth: usize,
    pub width: usize,
    /// Why this depth.
    pub why: String,
}

/// A width converter the top puts between two layers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConverterInfo {
    pub instance: String,
    /// The layer it feeds.
    pub before_layer: usize,
    pub layer: String,
    pub elem_bits: u32,
    pub in_lanes: usize,
    pub out_lanes: usize,
}

/// One engine of the design.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineInfo {
    pub layer: String,
    pub module: String,
    pub kind: &'static str,
    pub fold: fold::Fold,
    /// Its input and output streams (exact widths, no padding).
    pub input: StreamFormat,
    pub output: StreamFormat,
    pub exp_cycles: u64,
    /// Bits of the engine's weight ROM and threshold ROM as declared (with padding to at
    /// least two words); 0 when it has none.
    pub weight_rom_bits: usize,
    pub threshold_rom_bits: usize,
    /// Estimated block RAM in RAMB18 equivalents (a RAMB36 is 2): the weight ROM when it is
    /// marked for block RAM ([`resources::bram18_for_rom`]), else 0.
    pub est_bram18: usize,
}

/// The generated RTL of a model.
///
/// Stable interface for the co-simulation: compile every `.v` in `files` (the `.mem` files
/// must be in the directory given to `MEM_DIR`), top module `top`, ports `ap_clk`,
/// `ap_rst_n` (active low; hold it low a few cycles), `s_axis_{tdata,tvalid,tready}` in
/// [`Design::input`] format and `m_axis_{tdata,tvalid,tready}` in [`Design::output`] format.
#[derive(Clone, Debug)]
pub struct Design {
    /// Sanitised model name: the prefix of every module.
    pub prefix: String,
    /// Top module name (`<prefix>_top`); its file is `<top>.v`.
    pub top: String,
    /// Every file of `rtl/`: Verilog (`<module>.v`) and `.mem`, in a fixed order.
    pub files: Vec<GeneratedFile>,
    /// Format of `s_axis_tdata` (padded to a multiple of 8 bits).
    pub input: StreamFormat,
    /// Format of `m_axis_tdata` (padded to a multiple of 8 bits).
    pub output: StreamFormat,
    pub engines: Vec<EngineInfo>,
    pub fifos: Vec<FifoInfo>,
    pub converters: Vec<ConverterInfo>,
    /// Expected cycles a frame in steady state: the slowest engine.
    pub exp_cycles_per_frame: u64,
}

impl Design {
    /// The Verilog files only.
    pub fn verilog_files(&self) -> impl Iterator<Item = &GeneratedFile> {
        self.files.iter().filter(|f| f.name.ends_with(".v"))
    }
}

/// One layer's output, as the trace top exposes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapInfo {
    /// Layer index and name.
    pub layer: usize,
    pub name: String,
    /// Port names: `tap<NN>_tdata` and `tap<NN>_fire` (tvalid && tready at the engine's
    /// output: one beat moved).
    pub tdata_port: String,
    pub fire_port: String,
    /// Beat format (exact width, no padding).
    pub format: StreamFormat,
}

/// A second top, `<prefix>_trace_top`, for `ferrite cosim --trace`: the same ports as the
/// design's top plus one tap a layer. Compile `file` together with the design's Verilog
/// files (it instantiates the same engines); it is not part of the user's `rtl/`.
#[derive(Clone, Debug)]
pub struct TraceTop {
    pub top: String,
    pub file: GeneratedFile,
    pub input: StreamFormat,
    pub output: StreamFormat,
    pub taps: Vec<TapInfo>,
}

/// Verilog-2005 and SystemVerilog keywords a prefix must not be.
const KEYWORDS: &[&str] = &[
    "always",
    "and",
    "assign",
    "automatic",
    "begin",
    "buf",
    "bufif0",
    "bufif1",
    "case",
    "casex",
    "casez",
    "cell",
    "cmos",
    "config",
    "deassign",
    "default",
    "defparam",
    "design",
    "disable",
    "edge",
    "else",
    "end",
    "endcase",
    "endconfig",
    "endfunction",
    "endgenerate",
    "endmodule",
    "endprimitive",
    "endspecify",
    "endtable",
    "endtask",
    "event",
    "for",
    "force",
    "forever",
    "fork",
    "function",
    "generate",
    "genvar",
    "highz0",
    "highz1",
    "if",
    "ifnone",
    "incdir",
    "include",
    "initial",
    "inout",
    "input",
    "instance",
    "integer",
    "join",
    "large",
    "liblist",
    "library",
    "localparam",
    "macromodule",
    "medium",
    "module",
    "nand",
    "negedge",
    "nmos",
    "nor",
    "noshowcancelled",
    "not",
    "notif0",
    "notif1",
    "or",
    "output",
    "parameter",
    "pmos",
    "posedge",
    "primitive",
    "pull0",
    "pull1",
    "pulldown",
    "pullup",
    "pulsestyle_onevent",
    "pulsestyle_ondetect",
    "rcmos",
    "real",
    "realtime",
    "reg",
    "release",
    "repeat",
    "rnmos",
    "rpmos",
    "rtran",
    "rtranif0",
    "rtranif1",
    "scalared",
    "showcancelled",
    "signed",
    "small",
    "specify",
    "specparam",
    "strong0",
    "strong1",
    "supply0",
    "supply1",
    "table",
    "task",
    "time",
    "tran",
    "tranif0",
    "tranif1",
    "tri",
    "tri0",
    "tri1",
    "triand",
    "trior",
    "trireg",
    "unsigned",
    "use",
    "uwire",
    "vectored",
    "wait",
    "wand",
    "weak0",
    "weak1",
    "while",
    "wire",
    "wor",
    "xnor",
    "xor",
    "logic",
    "bit",
    "byte",
    "int",
    "shortint",
    "longint",
    "class",
    "interface",
    "package",
    "program",
    "property",
    "sequence",
    "string",
    "struct",
    "union",
    "typedef",
    "enum",
    "void",
    "return",
    "break",
    "continue",
    "import",
    "export",
    "module",
];

/// The Verilog prefix of a model name: lowercase `[a-z0-9_]`, starting with a letter, not a
/// keyword, at most 32 characters.
pub fn sanitize_prefix(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() { c } else { '_' }
        })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_').to_string();
    let mut s = if s.is_empty() {
        "net".to_string()
    } else if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        format!("n{s}")
    } else {
        s
    };
    s.truncate(32);
    let s = s.trim_end_matches('_').to_string();
    if KEYWORDS.contains(&s.as_str()) {
        format!("{s}_net")
    } else {
        s
    }
}

/// The deterministic header lines of a generated file.
pub(crate) fn header(
    model: &Model,
    module: &str,
    purpose: &str,
    template: &str,
    extra: &[String],
) -> Vec<String> {
    let mut h = vec![
        "SPDX-License-Identifier: Apache-2.0".to_string(),
        format!("{module}: {purpose}"),
        format!("generated by {GENERATOR} - do not edit"),
        format!(
            "template: rtl-templates/templates/{template} (sha256 {})",
            template_hash(template)
        ),
    ];
    match &model.source {
        Some(p) => h.push(format!(
            "model: {} (network `{}`), sha256 {}",
            p.file, model.name, p.sha256
        )),
        None => h.push(format!("model: network `{}`", model.name)),
    }
    h.extend(extra.iter().cloned());
    h
}

/// sha256 of a template's source (hex), or "unknown" for a path ferrite-rtl does not list.
fn template_hash(path: &str) -> String {
    use sha2::{Digest, Sha256};
    match ferrite_rtl::source(path) {
        Some(src) => Sha256::digest(src.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        None => "unknown".into(),
    }
}

/// A sized Verilog literal of `value` (two's complement, wrapped) in `bits` bits.
pub(crate) fn lit(bits: u32, value: i64) -> String {
    let m = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    format!("{bits}'d{}", (value as u64) & m)
}

/// Bits of a counter that counts `0..n` (at least 1).
pub(crate) fn counter_bits(n: usize) -> u32 {
    ir::bits_for_unsigned(n.saturating_sub(1) as u64).max(1)
}

/// A `.mem` file for `$readmemh`: one hex word a line, `width` bits a word.
pub(crate) struct MemBuilder {
    width: usize,
    words: Vec<Vec<u64>>,
}

impl MemBuilder {
    pub fn new(width: usize) -> MemBuilder {
        MemBuilder {
            width,
            words: Vec::new(),
        }
    }

    /// Start a new (zero) word.
    pub fn push_word(&mut self) {
        self.words.push(vec![0; self.width.div_ceil(64).max(1)]);
    }

    /// Put the low `bits` of `v` at bit `offset` of the last word.
    pub fn set(&mut self, offset: usize, bits: u32, v: u64) {
        let w = self.words.last_mut().expect("push_word first");
        for b in 0..bits as usize {
            if (v >> b) & 1 == 1 {
                let i = offset + b;
                w[i / 64] |= 1u64 << (i % 64);
            }
        }
    }

    /// Pad with zero words up to `depth` words and render.
    pub fn finish(mut self, depth: usize) -> String {
        while self.words.len() < depth {
            self.push_word();
        }
        let digits = self.width.div_ceil(4).max(1);
        let mut out = String::new();
        for w in &self.words {
            let mut line = String::with_capacity(digits);
            for d in (0..digits).rev() {
                let bit = d * 4;
                let nib = (w[bit / 64] >> (bit % 64)) & 0xf;
                line.push(char::from_digit(nib as u32, 16).unwrap());
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

fn render(t: &impl Template, module: &str) -> Result<String, EmitError> {
    let mut s = t
        .render()
        .map_err(|e| EmitError::Verify(format!("template of {module} failed: {e}")))?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

/// Smallest FIFO: a beat written at cycle t leaves at t+2 at the earliest (registered RAM
/// read), so 4 beats keep one beat a cycle flowing.
pub const MIN_FIFO_DEPTH: usize = 4;

/// FIFO depth before a layer: a whole frame of input beats before a matrix-vector engine (it
/// reads its input only during its first output fold, so the producer keeps running while it
/// computes the other folds), [`MIN_FIFO_DEPTH`] elsewhere; a power of two.
fn fifo_depth(layer: &Layer, in_beats: usize) -> (usize, String) {
    match layer {
        Layer::MatrixVector(_) => (
            in_beats.max(MIN_FIFO_DEPTH).next_power_of_two(),
            format!(
                "one frame ({in_beats} beats): the engine reads input only during its first output fold"
            ),
        ),
        _ => (
            MIN_FIFO_DEPTH,
            "streaming engine: keeps one beat a cycle flowing".into(),
        ),
    }
}

struct Built {
    files: Vec<GeneratedFile>,
    top_ctx: rtl::Top,
    design: Design,
    layer_streams: Vec<String>,
}

fn check_inputs(model: &Model, plan: &FoldPlan) -> Result<(), EmitError> {
    model.validate()?;
    if plan.folds.len() != model.layers.len() {
        return Err(EmitError::PlanLength {
            expected: model.layers.len(),
            found: plan.folds.len(),
        });
    }
    plan.check(model)?;
    Ok(())
}

fn build(model: &Model, plan: &FoldPlan) -> Result<Built, EmitError> {
    check_inputs(model, plan)?;
    let prefix = sanitize_prefix(&model.name);
    let skid = format!("{prefix}_skid");
    let fifo = format!("{prefix}_fifo");
    let gearbox = format!("{prefix}_gearbox");
    let top = format!("{prefix}_top");
    let mut files = Vec::new();

    // engines
    let mut engines = Vec::new();
    for (i, (layer, f)) in model.layers.iter().zip(&plan.folds).enumerate() {
        let e = layers::engine(model, &prefix, &skid, i, layer, *f)?;
        files.extend(e.files);
        engines.push(e.info);
    }

    // primitives
    let prim =
        |name: &str, purpose: &str, template: &str| header(model, name, purpose, template, &[]);
    files.push(GeneratedFile {
        name: format!("{skid}.v"),
        contents: render(
            &rtl::Skid {
                module: skid.clone(),
                header: prim(
                    &skid,
                    "registered skid buffer (no combinational path from m_tready to s_tready)",
                    "lib/skid.v",
                ),
            },
            &skid,
        )?,
    });
    files.push(GeneratedFile {
        name: format!("{fifo}.v"),
        contents: render(
            &rtl::Fifo {
                module: fifo.clone(),
                header: prim(&fifo, "stream FIFO, power-of-two depth", "lib/fifo.v"),
            },
            &fifo,
        )?,
    });

    // top: FIFO (and width converter) before every engine
    let mut streams = Vec::new();
    let mut instances = Vec::new();
    let mut fifos = Vec::new();
    let mut converters = Vec::new();
    let mut layer_streams = Vec::new();
    let stream = |name: String, bits: usize, comment: String| rtl::Stream {
        name,
        msb: bits - 1,
        comment,
    };
    let first = engines[0].input.clone();
    streams.push(stream(
        "s_in".into(),
        first.tdata_bits,
        format!("model input: {} lanes of {}", first.lanes, first.elem_type),
    ));
    let mut cur = "s_in".to_string();
    let mut cur_fmt = first.clone();
    let mut need_gearbox = false;
    for (i, e) in engines.iter().enumerate() {
        let nn = format!("{i:02}");
        if cur_fmt.lanes != e.input.lanes {
            need_gearbox = true;
            let out = format!("s_l{nn}_conv");
            let elem_bits = e.input.elem_type.bits();
            let (a, b) = (cur_fmt.lanes, e.input.lanes);
            let buf = (a + b) * elem_bits as usize;
            let fill_bits = ir::bits_for_unsigned(buf as u64);
            streams.push(stream(
                out.clone(),
                e.input.tdata_bits,
                format!("layer {i} input after the width converter: {b} lanes"),
            ));
            let inst = format!("u_l{nn}_conv");
            instances.push(rtl::Instance {
                module: gearbox.clone(),
                name: inst.clone(),
                comment: format!("width converter {a} -> {b} lanes of {elem_bits} bits"),
                params: vec![
                    param("ELEM_WIDTH", elem_bits.to_string()),
                    param("IN_LANES", a.to_string()),
                    param("OUT_LANES", b.to_string()),
                    param("BUF_WIDTH", buf.to_string()),
                    param("FILL_WIDTH", fill_bits.to_string()),
                    param("IN_BITS", lit(fill_bits, (a * elem_bits as usize) as i64)),
                    param("OUT_BITS", lit(fill_bits, (b * elem_bits as usize) as i64)),
                ],
                input: cur.clone(),
                output: out.clone(),
            });
            converters.push(ConverterInfo {
                instance: inst,
                before_layer: i,
                layer: e.layer.clone(),
                elem_bits,
                in_lanes: a,
                out_lanes: b,
            });
            cur = out;
        }
        let (depth, why) = fifo_depth(&model.layers[i], e.input.beats_per_frame);
        let fifo_out = format!("s_l{nn}_in");
        streams.push(stream(
            fifo_out.clone(),
            e.input.tdata_bits,
            format!("layer {i} ({}) input", e.layer),
        ));
        let inst = format!("u_l{nn}_fifo");
        let addr_bits = depth.trailing_zeros();
        instances.push(rtl::Instance {
            module: fifo.clone(),
            name: inst.clone(),
            comment: format!("FIFO before layer {i}: {depth} beats; {why}"),
            params: vec![
                param("DATA_WIDTH", e.input.tdata_bits.to_string()),
                param("ADDR_WIDTH", addr_bits.to_string()),
                param("DEPTH", depth.to_string()),
            ],
            input: cur.clone(),
            output: fifo_out.clone(),
        });
        fifos.push(FifoInfo {
            instance: inst,
            before_layer: i,
            layer: e.layer.clone(),
            depth,
            width: e.input.tdata_bits,
            why,
        });
        let out = format!("s_l{nn}_out");
        streams.push(stream(
            out.clone(),
            e.output.tdata_bits,
            format!(
                "layer {i} ({}) output: {} lanes of {}",
                e.layer, e.output.lanes, e.output.elem_type
            ),
        ));
        let mut params = Vec::new();
        if !matches!(model.layers[i], Layer::LabelSelect(_)) {
            params.push(param("MEM_DIR", "MEM_DIR".into()));
        }
        instances.push(rtl::Instance {
            module: e.module.clone(),
            name: format!("u_l{nn}"),
            comment: format!(
                "layer {i}: {} `{}`, PE {} SIMD {}, {} cycles a frame",
                e.kind, e.layer, e.fold.pe, e.fold.simd, e.exp_cycles
            ),
            params,
            input: fifo_out,
            output: out.clone(),
        });
        layer_streams.push(out.clone());
        cur = out;
        cur_fmt = e.output.clone();
    }
    if need_gearbox {
        files.push(GeneratedFile {
            name: format!("{gearbox}.v"),
            contents: render(
                &rtl::Gearbox {
                    module: gearbox.clone(),
                    header: prim(
                        &gearbox,
                        "stream width converter (IN_LANES to OUT_LANES elements a beat)",
                        "lib/gearbox.v",
                    ),
                },
                &gearbox,
            )?,
        });
    }

    let last = engines.last().unwrap().output.clone();
    let input = StreamFormat {
        tdata_bits: first.tdata_bits.div_ceil(8) * 8,
        ..first.clone()
    };
    let output = StreamFormat {
        tdata_bits: last.tdata_bits.div_ceil(8) * 8,
        ..last.clone()
    };
    let exp = plan.exp_cycles_per_frame(model);
    let top_ctx = rtl::Top {
        module: top.clone(),
        header: Vec::new(),
        in_lanes: first.lanes,
        in_elem_bits: first.elem_type.bits(),
        in_beats: first.beats_per_frame,
        in_port_msb: input.tdata_bits - 1,
        in_msb: first.tdata_bits - 1,
        in_pad: input.tdata_bits > first.tdata_bits,
        in_pad_lsb: first.tdata_bits,
        out_lanes: last.lanes,
        out_elem_bits: last.elem_type.bits(),
        out_beats: last.beats_per_frame,
        out_port_msb: output.tdata_bits - 1,
        out_pad: output.tdata_bits > last.tdata_bits,
        out_pad_bits: output.tdata_bits - last.tdata_bits,
        streams,
        first_stream: "s_in".into(),
        last_stream: cur,
        instances,
        taps: Vec::new(),
        uses_mem: model
            .layers
            .iter()
            .any(|l| !matches!(l, Layer::LabelSelect(_))),
    };
    let design = Design {
        prefix,
        top,
        files: Vec::new(),
        input,
        output,
        engines,
        fifos,
        converters,
        exp_cycles_per_frame: exp,
    };
    Ok(Built {
        files,
        top_ctx,
        design,
        layer_streams,
    })
}

fn param(name: &str, value: String) -> rtl::Param {
    rtl::Param {
        name: name.into(),
        value,
    }
}

fn top_header(model: &Model, d: &Design, module: &str, purpose: &str) -> Vec<String> {
    let mut extra = vec![format!(
        "expected cycles a frame (slowest engine): {}",
        d.exp_cycles_per_frame
    )];
    for e in &d.engines {
        extra.push(format!(
            "  {}: {} `{}` PE {} SIMD {}, {} -> {}, {} cycles",
            e.module,
            e.kind,
            e.layer,
            e.fold.pe,
            e.fold.simd,
            e.input.elem_type,
            e.output.elem_type,
            e.exp_cycles
        ));
    }
    for f in &d.fifos {
        extra.push(format!(
            "  {}: FIFO {} x {} bits before `{}`",
            f.instance, f.depth, f.width, f.layer
        ));
    }
    extra.push(format!(
        "s_axis_tdata: {} lanes of {} in {} bits; m_axis_tdata: {} lanes of {} in {} bits",
        d.input.lanes,
        d.input.elem_type,
        d.input.tdata_bits,
        d.output.lanes,
        d.output.elem_type,
        d.output.tdata_bits
    ));
    header(model, module, purpose, "top.v", &extra)
}

/// Generate the RTL of `model` folded by `plan`.
pub fn emit(model: &Model, plan: &FoldPlan) -> Result<Design, EmitError> {
    let Built {
        mut files,
        mut top_ctx,
        mut design,
        ..
    } = build(model, plan)?;
    top_ctx.header = top_header(
        model,
        &design,
        &design.top,
        "top: the layers' engines in stream order, with FIFOs and width converters",
    );
    files.push(GeneratedFile {
        name: format!("{}.v", design.top),
        contents: render(&top_ctx, &design.top)?,
    });
    design.files = files;
    Ok(design)
}

/// Generate the trace top `<prefix>_trace_top` of `model` folded by `plan`; see [`TraceTop`].
pub fn emit_trace_top(model: &Model, plan: &FoldPlan) -> Result<TraceTop, EmitError> {
    let Built {
        mut top_ctx,
        design,
        layer_streams,
        ..
    } = build(model, plan)?;
    let module = format!("{}_trace_top", design.prefix);
    let mut taps = Vec::new();
    for (i, (e, s)) in design.engines.iter().zip(&layer_streams).enumerate() {
        let nn = format!("{i:02}");
        top_ctx.taps.push(rtl::Tap {
            nn: nn.clone(),
            layer: i,
            name: e.layer.clone(),
            stream: s.clone(),
            msb: e.output.tdata_bits - 1,
        });
        taps.push(TapInfo {
            layer: i,
            name: e.layer.clone(),
            tdata_port: format!("tap{nn}_tdata"),
            fire_port: format!("tap{nn}_fire"),
            format: e.output.clone(),
        });
    }
    top_ctx.module = module.clone();
    top_ctx.header = top_header(
        model,
        &design,
        &module,
        "trace top for co-simulation: the top plus every layer's output stream (tap<NN>_*)",
    );
    let contents = render(&top_ctx, &module)?;
    Ok(TraceTop {
        top: module.clone(),
        file: GeneratedFile {
            name: format!("{module}.v"),
            contents,
        },
        input: design.input,
        output: design.output,
        taps,
    })
}

/// Kind of an engine module name (`mvu`, `thresholding`, `label_select`).
pub fn engine_kind(layer: &Layer) -> &'static str {
    match layer {
        Layer::MatrixVector(_) => "mvu",
        Layer::Thresholding(_) => "thresholding",
        Layer::LabelSelect(_) => "label_select",
    }
}

/// How the engines compute a layer: "xnor-popcount", "mac", "compare" or "top-k".
pub fn datapath(layer: &Layer) -> &'static str {
    match layer {
        Layer::MatrixVector(l)
            if l.input_type == DataType::Bipolar && l.weight_type == DataType::Bipolar =>
        {
            "xnor-popcount"
        }
        Layer::MatrixVector(_) => "mac",
        Layer::Thresholding(_) => "compare",
        Layer::LabelSelect(_) => "top-k",
    }
}

#[cfg(test)]
mod tests;
