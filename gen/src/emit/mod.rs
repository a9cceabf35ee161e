//! Emit: a stitched design to Verilog.
//!
//! [`emit`] renders a [`Design`] (made by `stitch` from an IR model and a fold plan) into
//! files: one Verilog file a module (engines `<prefix>_l<NN>_<kind>`, fixed primitives
//! `<prefix>_<name>`, the top `<prefix>_top`) and the `.mem` files of weights and
//! thresholds. [`emit_trace_top`] renders a second top that also exposes every engine's
//! output streams. Emit adds nothing to the design: every instance, stream, depth and width
//! is the stitcher's; every engine's arithmetic is its kind's (`crate::engines`).
//!
//! Output is deterministic: the same model and design give the same bytes. Strings from a
//! model (names, ONNX origins) reach generated files only as identifiers made by
//! [`sanitize_prefix`] or through [`comment_text`], which removes line breaks, comment
//! delimiters and control characters.
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
//! Architecture invariant: emit reads `ir`, `fold` and `stitch`; it never runs the golden
//! model and never decides structure.

pub mod resources;

pub use crate::stitch::Design;
pub use crate::stream::{StreamFormat, pack_frame, unpack_frame};

use crate::engines::{self, RenderCx};
use crate::ir::{self, Model};
use crate::stitch::{End, Primitive, Role};
use ferrite_rtl as rtl;
use ferrite_rtl::Template;
use thiserror::Error;

/// Version of ferrite-gen written in every header.
pub const GENERATOR: &str = concat!("ferrite-gen ", env!("CARGO_PKG_VERSION"));

/// Errors of [`emit`] and [`emit_trace_top`].
#[derive(Debug, Error)]
pub enum EmitError {
    #[error("invalid model: {0}")]
    Model(#[from] ir::IrError),
    #[error("{0}")]
    Stitch(#[from] crate::stitch::StitchError),
    #[error("node `{node}` ({kind}): {why}")]
    Unsupported {
        node: String,
        kind: &'static str,
        why: String,
    },
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

/// One engine output stream, as the trace top exposes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapInfo {
    /// IR node and output port.
    pub node: String,
    pub port: usize,
    /// Port names: `tap<NN>_tdata` and `tap<NN>_fire` (tvalid && tready at the engine's
    /// output: one beat moved).
    pub tdata_port: String,
    pub fire_port: String,
    /// Beat format (exact width, no padding).
    pub format: StreamFormat,
}

/// A second top, `<prefix>_trace_top`, for `ferrite cosim --trace`: the same ports as the
/// design's top plus one tap an engine output. Compile `file` together with the design's
/// Verilog files (it instantiates the same engines); it is not part of the user's `rtl/`.
#[derive(Clone, Debug)]
pub struct TraceTop {
    pub top: String,
    pub file: GeneratedFile,
    pub input: StreamFormat,
    pub output: StreamFormat,
    pub taps: Vec<TapInfo>,
}

/// A string from a model made safe for a `//` or `/* */` comment: one line, no comment
/// delimiters, no control or bidirectional-override characters, at most 200 characters.
pub fn comment_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let bad = c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        out.push(if bad { '?' } else { c });
    }
    let mut out = out.replace("*/", "*_/").replace("/*", "/_*");
    if out.chars().count() > 200 {
        out = out.chars().take(197).collect::<String>() + "...";
    }
    out
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
    h.iter().map(|l| comment_text(l)).collect()
}

/// Header lines of a file that belongs to another (an engine's ROM module, a simulation
/// model): the generator and template lines for `template`, then the parent's model and
/// node lines (already sanitised).
pub(crate) fn sub_header(
    parent: &[String],
    module: &str,
    purpose: &str,
    template: &str,
) -> Vec<String> {
    let mut h = vec![
        "SPDX-License-Identifier: Apache-2.0".to_string(),
        comment_text(&format!("{module}: {purpose}")),
        format!("generated by {GENERATOR} - do not edit"),
        format!(
            "template: rtl-templates/templates/{template} (sha256 {})",
            template_hash(template)
        ),
    ];
    h.extend(
        parent
            .iter()
            .filter(|l| l.starts_with("model: ") || l.starts_with("node "))
            .cloned(),
    );
    h
}

/// sha256 (hex) of a template's source followed by the sources of the templates it
/// includes (recursively, each once, in order of first inclusion), or "unknown" for a path
/// ferrite-rtl does not list.
fn template_hash(path: &str) -> String {
    use sha2::{Digest, Sha256};
    fn walk(path: &str, seen: &mut Vec<String>, h: &mut Sha256) -> bool {
        let Some(src) = ferrite_rtl::source(path) else {
            return false;
        };
        seen.push(path.to_string());
        h.update(src.as_bytes());
        for part in src.split("include \"").skip(1) {
            let Some(inc) = part.split('"').next() else {
                continue;
            };
            if !seen.iter().any(|s| s == inc) {
                walk(inc, seen, h);
            }
        }
        true
    }
    let mut h = Sha256::new();
    if !walk(path, &mut Vec::new(), &mut h) {
        return "unknown".into();
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
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

    /// Bit `bit` of word `word` (zero beyond the words pushed).
    pub fn bit(&self, word: usize, bit: usize) -> bool {
        self.words
            .get(word)
            .is_some_and(|w| bit < self.width && (w[bit / 64] >> (bit % 64)) & 1 == 1)
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

pub(crate) fn render(t: &impl Template, module: &str) -> Result<String, EmitError> {
    let mut s = t
        .render()
        .map_err(|e| EmitError::Verify(format!("template of {module} failed: {e}")))?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

/// The top's template context from a design (engines, FIFOs and converters as instances,
/// streams as wires), without taps.
fn top_context(model: &Model, d: &Design, module: &str, purpose: &str) -> rtl::Top {
    let stream = |e: &crate::stitch::HwEdge| rtl::Stream {
        name: e.wire.clone(),
        msb: e.format.tdata_bits - 1,
        comment: comment_text(&format!(
            "{}: {} lanes of {}, {} beats a frame",
            e.carries, e.format.lanes, e.format.elem_type, e.format.beats_per_frame
        )),
    };
    let streams: Vec<rtl::Stream> = d.edges.iter().map(stream).collect();
    let first = d
        .edges
        .iter()
        .find(|e| e.from == End::Top)
        .expect("a design has an input edge");
    let last = d
        .edges
        .iter()
        .find(|e| e.to == End::Top)
        .expect("a design has an output edge");
    let port_name = |dir: &str, port: usize, n: usize| {
        if n == 1 {
            dir.to_string()
        } else {
            format!("{dir}{port}")
        }
    };
    let instances = d
        .nodes
        .iter()
        .map(|n| {
            let mut conns = Vec::new();
            for (port, _) in n.inputs.iter().enumerate() {
                let e = d
                    .edges
                    .iter()
                    .find(|e| {
                        e.to == End::Node {
                            node: n.name.clone(),
                            port,
                        }
                    })
                    .expect("every input port is connected");
                conns.push(rtl::Conn {
                    port: port_name("s_axis_in", port, n.inputs.len()),
                    stream: e.wire.clone(),
                });
            }
            for (port, _) in n.outputs.iter().enumerate() {
                let e = d
                    .edge_from(&n.name, port)
                    .expect("every output port is connected");
                conns.push(rtl::Conn {
                    port: port_name("m_axis_out", port, n.outputs.len()),
                    stream: e.wire.clone(),
                });
            }
            rtl::Instance {
                module: n.module.clone(),
                name: n.instance.clone(),
                comment: comment_text(&instance_comment(n)),
                params: n
                    .params
                    .iter()
                    .map(|(k, v)| rtl::Param {
                        name: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                conns,
            }
        })
        .collect();
    let fi = &first.format;
    let lo = &last.format;
    rtl::Top {
        module: module.to_string(),
        header: top_header(model, d, module, purpose),
        in_lanes: fi.lanes,
        in_elem_bits: fi.elem_type.bits(),
        in_beats: fi.beats_per_frame,
        in_port_msb: d.input.tdata_bits - 1,
        in_msb: fi.tdata_bits - 1,
        in_pad: d.input.tdata_bits > fi.tdata_bits,
        in_pad_lsb: fi.tdata_bits,
        out_lanes: lo.lanes,
        out_elem_bits: lo.elem_type.bits(),
        out_beats: lo.beats_per_frame,
        out_port_msb: d.output.tdata_bits - 1,
        out_pad: d.output.tdata_bits > lo.tdata_bits,
        out_pad_bits: d.output.tdata_bits - lo.tdata_bits,
        streams,
        first_stream: first.wire.clone(),
        last_stream: last.wire.clone(),
        instances,
        taps: Vec::new(),
        uses_mem: d
            .nodes
            .iter()
            .any(|n| n.params.iter().any(|(k, _)| k == "MEM_DIR")),
    }
}

fn instance_comment(n: &crate::stitch::HwNode) -> String {
    match &n.role {
        Role::Engine {
            node,
            kind,
            fold,
            exp_cycles,
            index,
            ..
        } => format!(
            "node {index}: {kind} `{node}`, PE {} SIMD {}, {exp_cycles} cycles a frame",
            fold.pe, fold.simd
        ),
        Role::Fifo { depth, why, .. } => format!("FIFO: {depth} beats; {why}"),
        Role::Converter {
            elem_bits,
            in_lanes,
            out_lanes,
        } => format!("width converter {in_lanes} -> {out_lanes} lanes of {elem_bits} bits"),
    }
}

fn top_header(model: &Model, d: &Design, module: &str, purpose: &str) -> Vec<String> {
    let mut extra = vec![format!(
        "expected cycles a frame (slowest engine, `{}`): {}",
        d.bottleneck, d.exp_cycles_per_frame
    )];
    for n in &d.nodes {
        extra.push(format!("  {}: {}", n.instance, instance_comment(n)));
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

fn primitive_file(model: &Model, d: &Design, p: Primitive) -> Result<GeneratedFile, EmitError> {
    let module = p.module(&d.prefix);
    let (purpose, template) = match p {
        Primitive::Skid => (
            "registered skid buffer (no combinational path from m_tready to s_tready)",
            "lib/skid.v",
        ),
        Primitive::Fifo => ("stream FIFO, power-of-two depth", "lib/fifo.v"),
        Primitive::Gearbox => (
            "stream width converter (IN_LANES to OUT_LANES elements a beat)",
            "lib/gearbox.v",
        ),
    };
    let h = header(model, &module, purpose, template, &[]);
    let contents = match p {
        Primitive::Skid => render(
            &rtl::Skid {
                module: module.clone(),
                header: h,
            },
            &module,
        )?,
        Primitive::Fifo => render(
            &rtl::Fifo {
                module: module.clone(),
                header: h,
            },
            &module,
        )?,
        Primitive::Gearbox => render(
            &rtl::Gearbox {
                module: module.clone(),
                header: h,
            },
            &module,
        )?,
    };
    Ok(GeneratedFile {
        name: format!("{module}.v"),
        contents,
    })
}

/// Render every file of `design` (built by `stitch` from `model`): engines in stream order
/// with their `.mem` files, the primitives, then the top.
pub fn emit(model: &Model, design: &Design) -> Result<Vec<GeneratedFile>, EmitError> {
    let a = model.analyze()?;
    let skid = Primitive::Skid.module(&design.prefix);
    let mut files = Vec::new();
    for n in &design.nodes {
        let Role::Engine {
            node, fold, index, ..
        } = &n.role
        else {
            continue;
        };
        let id = a.by_name.get(node).copied().ok_or_else(|| {
            EmitError::Verify(format!("design names node `{node}`, not in the model"))
        })?;
        let irn = &model.nodes[id];
        let e = engines::engine(&irn.op);
        let ins = &a.in_types[id];
        let mut extra = vec![match &irn.origin {
            Some(o) => comment_text(&format!("node {index}: `{}` (ONNX: {o})", irn.name)),
            None => comment_text(&format!("node {index}: `{}`", irn.name)),
        }];
        extra.extend(e.describe(ins, *fold));
        extra.push(format!(
            "expected cycles a frame: {}",
            e.exp_cycles(ins, *fold)
        ));
        let cx = RenderCx {
            module: &n.module,
            header: header(model, &n.module, e.purpose(), e.template_for(*fold), &extra),
            skid: &skid,
            ins,
            fold: *fold,
            family: design.family,
        };
        files.extend(e.render(&cx)?);
    }
    // a vendor block instantiated by a ROM module: its simulation model, for simulators
    let rom_file = format!("{}.v", engines::rom::ROM_SUFFIX);
    if files.iter().any(|f| f.name.ends_with(&rom_file)) {
        files.push(engines::rom::dp16kd_model(&[])?);
    }
    for p in &design.primitives {
        files.push(primitive_file(model, design, *p)?);
    }
    let top = top_context(
        model,
        design,
        &design.top,
        "top: the engines in stream order, with FIFOs and width converters",
    );
    files.push(GeneratedFile {
        name: format!("{}.v", design.top),
        contents: render(&top, &design.top)?,
    });
    Ok(files)
}

/// Render the trace top `<prefix>_trace_top` of `design`; see [`TraceTop`].
pub fn emit_trace_top(model: &Model, design: &Design) -> Result<TraceTop, EmitError> {
    let module = format!("{}_trace_top", design.prefix);
    let mut ctx = top_context(
        model,
        design,
        &module,
        "trace top for co-simulation: the top plus every engine's output streams (tap<NN>_*)",
    );
    let mut taps = Vec::new();
    for n in design.engines() {
        let Role::Engine { node, .. } = &n.role else {
            continue;
        };
        for port in 0..n.outputs.len() {
            let e = design
                .edge_from(&n.name, port)
                .ok_or_else(|| EmitError::Verify(format!("`{node}` port {port} is unconnected")))?;
            let nn = format!("{:02}", taps.len());
            ctx.taps.push(rtl::Tap {
                nn: nn.clone(),
                label: comment_text(&format!("`{node}` port {port}")),
                stream: e.wire.clone(),
                msb: e.format.tdata_bits - 1,
            });
            taps.push(TapInfo {
                node: node.clone(),
                port,
                tdata_port: format!("tap{nn}_tdata"),
                fire_port: format!("tap{nn}_fire"),
                format: e.format.clone(),
            });
        }
    }
    let contents = render(&ctx, &module)?;
    Ok(TraceTop {
        top: module.clone(),
        file: GeneratedFile {
            name: format!("{module}.v"),
            contents,
        },
        input: design.input.clone(),
        output: design.output.clone(),
        taps,
    })
}

#[cfg(test)]
mod tests;
