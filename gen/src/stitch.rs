//! Stitch: a folded graph to a hardware design graph, between fold and emit.
//!
//! Every IR node becomes an engine instance; on every edge the stitcher inserts what the
//! two ends need as real nodes of the design: a width converter where the producer's lanes
//! differ from the consumer's, then a FIFO before every engine input. The result, a
//! [`Design`], is everything emit renders and everything cosim and the report need to know
//! about the hardware; `ferrite build` writes it as `OUT/design.json` (the design manifest).
//!
//! # FIFO depth rule
//! The FIFO before an engine input holds `max(MIN_FIFO_DEPTH, b, s, j)` beats rounded up to a
//! power of two, where
//! - `b` is the engine's own input buffer need
//!   ([`Engine::input_buffer`](crate::engines::Engine::input_buffer)): for a matrix-vector
//!   unit one input vector (`MW / SIMD` beats, because it reads a vector only during its
//!   first output fold and the producer must keep going meanwhile); for streaming engines 0;
//! - `s` is one frame of the edge's beats (at most [`SATURATED_FIFO_CAP`]) when the producer
//!   is a bottleneck engine (its cycles a frame equal the pipeline's): such a producer has
//!   no slack, so every cycle it waits while the consumer pauses (a pad engine emitting its
//!   pad rows, a window generator filling its lines, a matrix-vector unit computing its
//!   other output folds) is lost for good; otherwise 0, because a producer with slack
//!   catches up.
//!
//! - `j` (INTERIM, until the FIFO depth analysis from each engine's schedule replaces it):
//!   on every input of an engine that joins several streams (an Add rejoining a
//!   Duplicate's branches), one frame of the edge's beats (at most [`SATURATED_FIFO_CAP`]),
//!   so the shorter branch can hold what the longer one keeps in flight (else the
//!   Duplicate blocks: deadlock or lost rate).
//!
//! [`MIN_FIFO_DEPTH`] beats keep one beat a cycle flowing through the FIFO's registered read.
//! In a chain this reaches the slowest engine's rate (checked by measured cycles in the
//! co-simulation tests); a depth from each engine's production and consumption schedule
//! comes with the FIFO depth analysis.
//!
//! Architecture invariant: stitch reads `ir` and `fold` and decides the design's structure;
//! emit renders it without adding anything.

use crate::engines::{self, Resources};
use crate::fold::{self, Fold, FoldPlan};
use crate::ir::{self, Model, Source};
use crate::stream::StreamFormat;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Version of the design manifest format.
pub const DESIGN_VERSION: u32 = 1;

/// Smallest FIFO: a beat written at cycle t leaves at t+2 at the earliest (registered RAM
/// read), so 4 beats keep one beat a cycle flowing.
pub const MIN_FIFO_DEPTH: usize = 4;

/// Most beats a FIFO between two saturated engines gets.
pub const SATURATED_FIFO_CAP: usize = 1024;

#[derive(Debug, Error)]
pub enum StitchError {
    #[error("invalid model: {0}")]
    Model(#[from] ir::IrError),
    #[error("invalid folding: {0}")]
    Fold(#[from] fold::FoldError),
}

/// The hardware design: instances and the streams between them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Design {
    pub design_version: u32,
    /// Network name and its sanitised Verilog prefix.
    pub name: String,
    pub prefix: String,
    /// Top module (`<prefix>_top`); its file is `<top>.v`.
    pub top: String,
    /// Format of the top's `s_axis_tdata` (padded to whole bytes).
    pub input: StreamFormat,
    /// Format of the top's `m_axis_tdata` (padded to whole bytes).
    pub output: StreamFormat,
    /// Engines, converters and FIFOs, in stream order.
    pub nodes: Vec<HwNode>,
    /// Every stream of the top.
    pub edges: Vec<HwEdge>,
    /// Expected cycles a frame in steady state: the slowest engine.
    pub exp_cycles_per_frame: u64,
    /// The IR node of the slowest engine.
    pub bottleneck: String,
    /// Fixed primitives the design instantiates (`skid`, `fifo`, `gearbox`).
    pub primitives: Vec<Primitive>,
}

/// A fixed primitive module of the design.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Primitive {
    Skid,
    Fifo,
    Gearbox,
}

impl Primitive {
    pub fn module(self, prefix: &str) -> String {
        match self {
            Primitive::Skid => format!("{prefix}_skid"),
            Primitive::Fifo => format!("{prefix}_fifo"),
            Primitive::Gearbox => format!("{prefix}_gearbox"),
        }
    }
}

/// One instance of the design.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HwNode {
    /// Unique within the design: the IR node's name for an engine, else
    /// `<role>_<consumer>_<port>`.
    pub name: String,
    /// Verilog instance and module names.
    pub instance: String,
    pub module: String,
    pub role: Role,
    /// Formats of its input and output ports (exact widths).
    pub inputs: Vec<StreamFormat>,
    pub outputs: Vec<StreamFormat>,
    /// Verilog parameter overrides of the instance (finished values).
    pub params: Vec<(String, String)>,
}

/// What an instance is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    Engine {
        /// IR node, its kind, datapath and ONNX origin.
        node: String,
        kind: String,
        datapath: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<String>,
        fold: Fold,
        exp_cycles: u64,
        resources: Resources,
        /// Index of the engine in stream order (its module is `<prefix>_l<NN>_<kind>`).
        index: usize,
    },
    Fifo {
        depth: usize,
        width: usize,
        why: String,
    },
    Converter {
        elem_bits: u32,
        in_lanes: usize,
        out_lanes: usize,
    },
}

/// One end of a stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// The top's `s_axis` (as a source) or `m_axis` (as a sink).
    Top,
    /// Port `port` of design node `node` (by name).
    Node { node: String, port: usize },
}

/// A stream of the top: a tdata/tvalid/tready wire bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HwEdge {
    /// Wire name prefix (`<wire>_tdata`, ...).
    pub wire: String,
    pub from: End,
    pub to: End,
    pub format: StreamFormat,
    /// Which IR stream it carries (the producer's node and port, or the graph input).
    pub carries: String,
}

impl Design {
    /// The engines, in stream order.
    pub fn engines(&self) -> impl Iterator<Item = &HwNode> {
        self.nodes
            .iter()
            .filter(|n| matches!(n.role, Role::Engine { .. }))
    }

    pub fn node(&self, name: &str) -> Option<&HwNode> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The edge leaving output port `port` of design node `node`.
    pub fn edge_from(&self, node: &str, port: usize) -> Option<&HwEdge> {
        self.edges.iter().find(|e| {
            e.from
                == End::Node {
                    node: node.to_string(),
                    port,
                }
        })
    }

    /// Pretty JSON with a trailing newline (`OUT/design.json`).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a design serialises");
        s.push('\n');
        s
    }

    pub fn from_json(text: &str) -> Result<Design, String> {
        #[derive(Deserialize)]
        struct V {
            design_version: u32,
        }
        let v: V = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if v.design_version != DESIGN_VERSION {
            return Err(format!(
                "design manifest version {}, this ferrite reads {DESIGN_VERSION}; rebuild with `ferrite build`",
                v.design_version
            ));
        }
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// `name`, or `name` with `'` appended until no node has it.
fn unique(taken: &std::collections::BTreeSet<String>, mut name: String) -> String {
    while taken.contains(&name) {
        name.push('\'');
    }
    name
}

fn param(name: &str, value: impl ToString) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// Stitch `model` folded by `plan` into a design.
pub fn stitch(model: &Model, plan: &FoldPlan) -> Result<Design, StitchError> {
    let a = model.analyze()?;
    plan.check(model)?;
    let prefix = crate::emit::sanitize_prefix(&model.name);
    let mut nodes: Vec<HwNode> = Vec::new();
    let mut edges: Vec<HwEdge> = Vec::new();
    let mut primitives = vec![Primitive::Skid, Primitive::Fifo];
    // the open end of each IR stream: (wire, format, producer end)
    struct Open {
        wire: String,
        fmt: StreamFormat,
        from: End,
        carries: String,
    }
    let mut open: std::collections::BTreeMap<Source, Open> = Default::default();
    let input = model.input();
    // design node names: the IR's node names, and names for what stitch inserts that no
    // IR node has
    let mut taken: std::collections::BTreeSet<String> =
        model.nodes.iter().map(|n| n.name.clone()).collect();
    // every engine's cycles a frame, and the pipeline's (its slowest engine's)
    let exp_of: Vec<u64> = (0..model.nodes.len())
        .map(|id| {
            engines::engine(&model.nodes[id].op)
                .exp_cycles(&a.in_types[id], plan.fold(&model.nodes[id].name))
        })
        .collect();
    let bottleneck = exp_of.iter().copied().max().unwrap_or(0);
    let mut exp_max = (0u64, String::new());
    for (index, &id) in a.order.iter().enumerate() {
        let n = &model.nodes[id];
        let e = engines::engine(&n.op);
        let fold = plan.fold(&n.name);
        let ins = &a.in_types[id];
        let (in_fmts, out_fmts) = engines::port_formats(&n.op, ins, &a.out_types[id], fold);
        let nn = format!("{index:02}");
        for (port, src) in n.inputs.iter().enumerate() {
            let want = &in_fmts[port];
            let mut cur = match open.remove(src) {
                Some(o) => o,
                None => {
                    // the graph input: the top's s_axis, streamed as the consumer wants it
                    debug_assert!(matches!(src, Source::Input { .. }));
                    Open {
                        wire: "s_in".into(),
                        fmt: StreamFormat::of(&input.tensor, want.lanes),
                        from: End::Top,
                        carries: format!("graph input `{}`", input.name),
                    }
                }
            };
            let sfx = if n.inputs.len() == 1 {
                String::new()
            } else {
                format!("_{port}")
            };
            if cur.fmt.lanes != want.lanes {
                if !primitives.contains(&Primitive::Gearbox) {
                    primitives.push(Primitive::Gearbox);
                }
                let name = unique(&taken, format!("conv_{}{sfx}", n.name));
                taken.insert(name.clone());
                let elem_bits = want.elem_type.bits();
                let (ia, ob) = (cur.fmt.lanes, want.lanes);
                let buf = (ia + ob) * elem_bits as usize;
                let fill_bits = ir::bits_for_unsigned(buf as u64);
                let lit = |v: usize| crate::emit::lit(fill_bits, v as i64);
                let out_wire = format!("s_l{nn}{sfx}_conv");
                nodes.push(HwNode {
                    name: name.clone(),
                    instance: format!("u_l{nn}{sfx}_conv"),
                    module: Primitive::Gearbox.module(&prefix),
                    role: Role::Converter {
                        elem_bits,
                        in_lanes: ia,
                        out_lanes: ob,
                    },
                    inputs: vec![cur.fmt.clone()],
                    outputs: vec![want.clone()],
                    params: vec![
                        param("ELEM_WIDTH", elem_bits),
                        param("IN_LANES", ia),
                        param("OUT_LANES", ob),
                        param("BUF_WIDTH", buf),
                        param("FILL_WIDTH", fill_bits),
                        param("IN_BITS", lit(ia * elem_bits as usize)),
                        param("OUT_BITS", lit(ob * elem_bits as usize)),
                    ],
                });
                edges.push(HwEdge {
                    wire: cur.wire.clone(),
                    from: cur.from.clone(),
                    to: End::Node {
                        node: name.clone(),
                        port: 0,
                    },
                    format: cur.fmt.clone(),
                    carries: cur.carries.clone(),
                });
                cur = Open {
                    wire: out_wire,
                    fmt: want.clone(),
                    from: End::Node {
                        node: name,
                        port: 0,
                    },
                    carries: cur.carries,
                };
            }
            // FIFO before the engine input
            let (need, why) = e.input_buffer(ins, fold);
            let producer_saturated = match src {
                Source::Node { node, .. } => exp_of[a.by_name[node]] == bottleneck,
                Source::Input { .. } => false,
            };
            let frame = want.beats_per_frame.min(SATURATED_FIFO_CAP);
            let (need, why) = if producer_saturated && frame > need {
                (
                    frame,
                    "the producer runs at the pipeline's rate: a cycle it waits on this engine's \
                     pauses (pad rows, window fill, output folds) is lost for good, so one frame \
                     of beats",
                )
            } else {
                (need, why)
            };
            // INTERIM rule, to be replaced by the analytic FIFO depth analysis: an engine
            // joining several streams (an Add rejoining the branches of a Duplicate) takes
            // a beat from every input together, so while the longer branch fills (a window
            // generator's lines, a matrix-vector unit's folds) the shorter one must hold
            // what the Duplicate keeps sending, or the Duplicate blocks: a deadlock or a
            // lost rate. One frame of the edge's beats (at most SATURATED_FIFO_CAP) on every
            // input of a join covers any branch whose look-ahead is under a frame.
            let (need, why) = if n.inputs.len() > 1 && frame >= need {
                (
                    frame,
                    "input of a join (interim rule until the FIFO depth analysis): the other \
                     branch may run ahead by its latency, so one frame of beats",
                )
            } else {
                (need, why)
            };
            let depth = need.max(MIN_FIFO_DEPTH).next_power_of_two();
            let why = if need > MIN_FIFO_DEPTH {
                format!("{why} ({need} beats)")
            } else {
                format!("at least {MIN_FIFO_DEPTH} beats: {why}")
            };
            let name = unique(&taken, format!("fifo_{}{sfx}", n.name));
            taken.insert(name.clone());
            nodes.push(HwNode {
                name: name.clone(),
                instance: format!("u_l{nn}{sfx}_fifo"),
                module: Primitive::Fifo.module(&prefix),
                role: Role::Fifo {
                    depth,
                    width: want.tdata_bits,
                    why,
                },
                inputs: vec![want.clone()],
                outputs: vec![want.clone()],
                params: vec![
                    param("DATA_WIDTH", want.tdata_bits),
                    param("ADDR_WIDTH", depth.trailing_zeros()),
                    param("DEPTH", depth),
                ],
            });
            edges.push(HwEdge {
                wire: cur.wire.clone(),
                from: cur.from.clone(),
                to: End::Node {
                    node: name.clone(),
                    port: 0,
                },
                format: cur.fmt.clone(),
                carries: cur.carries.clone(),
            });
            edges.push(HwEdge {
                wire: format!("s_l{nn}{sfx}_in"),
                from: End::Node {
                    node: name,
                    port: 0,
                },
                to: End::Node {
                    node: n.name.clone(),
                    port,
                },
                format: want.clone(),
                carries: cur.carries,
            });
        }
        let exp = exp_of[id];
        if exp > exp_max.0 || exp_max.1.is_empty() {
            exp_max = (exp, n.name.clone());
        }
        let mut params = Vec::new();
        if e.uses_mem() {
            params.push(param("MEM_DIR", "MEM_DIR"));
        }
        nodes.push(HwNode {
            name: n.name.clone(),
            instance: format!("u_l{nn}"),
            module: format!("{prefix}_l{nn}_{}", e.module_suffix()),
            role: Role::Engine {
                node: n.name.clone(),
                kind: n.kind().to_string(),
                datapath: e.datapath().to_string(),
                origin: n.origin.clone(),
                fold,
                exp_cycles: exp,
                resources: e.resources(ins, fold),
                index,
            },
            inputs: in_fmts,
            outputs: out_fmts.clone(),
            params,
        });
        for (port, fmt) in out_fmts.into_iter().enumerate() {
            let psfx = if a.out_types[id].len() == 1 {
                String::new()
            } else {
                format!("_{port}")
            };
            open.insert(
                Source::node(&n.name, port),
                Open {
                    wire: format!("s_l{nn}{psfx}_out"),
                    fmt,
                    from: End::Node {
                        node: n.name.clone(),
                        port,
                    },
                    carries: format!("`{}` port {port}", n.name),
                },
            );
        }
    }
    let out = open
        .remove(&model.outputs[0])
        .expect("validated: the output is a node's port");
    let output = out.fmt.padded();
    edges.push(HwEdge {
        wire: out.wire,
        from: out.from,
        to: End::Top,
        format: out.fmt,
        carries: out.carries,
    });
    let first = edges
        .iter()
        .find(|e| e.from == End::Top)
        .expect("the input feeds a node");
    let input_fmt = first.format.padded();
    primitives.sort();
    Ok(Design {
        design_version: DESIGN_VERSION,
        name: model.name.clone(),
        top: format!("{prefix}_top"),
        prefix,
        input: input_fmt,
        output,
        nodes,
        edges,
        exp_cycles_per_frame: exp_max.0,
        bottleneck: exp_max.1,
        primitives,
    })
}
