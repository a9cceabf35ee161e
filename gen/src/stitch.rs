//! Stitch: a folded graph to a hardware design graph, between fold and emit.
//!
//! Every IR node becomes an engine instance; on every edge the stitcher inserts what the
//! two ends need as real nodes of the design: a width converter where the producer's lanes
//! differ from the consumer's, then a FIFO before every engine input. The result, a
//! [`Design`], is everything emit renders and everything cosim and the report need to know
//! about the hardware; `ferrite build` writes it as `OUT/design.json` (the design manifest).
//!
//! # FIFO depths
//! Every FIFO's depth comes from [`crate::fifo::analyze`], called once at the end of
//! [`stitch_with`]: the engines' production and consumption schedules
//! ([`Engine::schedule`](crate::engines::Engine::schedule)) and the width converters are
//! expanded over a few frames (more until the schedule repeats from frame to frame) into
//! cycle-level reference schedules in which the bottleneck engine runs at its full rate
//! (everything upstream of it as late as possible and everything else as soon as possible,
//! or everything as soon as possible with the input paced at the bottleneck's rate), then
//! compacted (reads as early, writes as late as their constraints allow); each FIFO gets the
//! most beats it holds in the reference needing fewer bits (plus what its registered read
//! needs), rounded up to a power of two (at least 2, at most
//! [`crate::fifo::MAX_FIFO_DEPTH`]). The biggest FIFOs are then shrunk as far as the event model
//! run with bounded FIFOs, as the RTL runs, keeps the bottleneck's every event. The real
//! design, which fires every event as early as it may, is never later than the reference:
//! it reaches the bottleneck's rate and cannot deadlock, on chains and on branches that
//! rejoin alike (the short side of a branch holds the long side's latency). Each FIFO
//! node's `why` names the schedule features that sized it. [`stitch_with`] takes depth
//! overrides by FIFO name (the co-simulation search for the smallest depths that keep the
//! rate uses them).
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

/// FIFO depths by FIFO node name (`fifo_<consumer>[_<port>]`), replacing the analysis'.
pub type FifoOverrides = std::collections::BTreeMap<String, usize>;

#[derive(Debug, Error)]
pub enum StitchError {
    #[error("invalid model: {0}")]
    Model(#[from] ir::IrError),
    #[error("invalid folding: {0}")]
    Fold(#[from] fold::FoldError),
    #[error("FIFO depth override: {0}")]
    Override(String),
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
    /// The FPGA family it is built for (memory placement follows it).
    #[serde(default)]
    pub family: crate::boards::Family,
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

/// The parameters of a FIFO instance of `depth` (a power of two) words of `width` bits.
pub fn fifo_params(depth: usize, width: usize) -> Vec<(String, String)> {
    vec![
        param("DATA_WIDTH", width),
        param("ADDR_WIDTH", depth.trailing_zeros()),
        param("DEPTH", depth),
    ]
}

/// The parameters of a width converter (gearbox) instance of `elem_bits`-bit elements from
/// `in_lanes` to `out_lanes` a beat.
pub fn converter_params(
    elem_bits: u32,
    in_lanes: usize,
    out_lanes: usize,
) -> Vec<(String, String)> {
    let buf = (in_lanes + out_lanes) * elem_bits as usize;
    let fill_bits = ir::bits_for_unsigned(buf as u64);
    let lit = |v: usize| crate::emit::lit(fill_bits, v as i64);
    vec![
        param("ELEM_WIDTH", elem_bits),
        param("IN_LANES", in_lanes),
        param("OUT_LANES", out_lanes),
        param("BUF_WIDTH", buf),
        param("FILL_WIDTH", fill_bits),
        param("IN_BITS", lit(in_lanes * elem_bits as usize)),
        param("OUT_BITS", lit(out_lanes * elem_bits as usize)),
    ]
}

/// Stitch `model` folded by `plan` into a design.
pub fn stitch(model: &Model, plan: &FoldPlan) -> Result<Design, StitchError> {
    stitch_with(model, plan, &FifoOverrides::new())
}

/// [`stitch`] with some FIFO depths given (`overrides`: FIFO node name to depth, a power of
/// two of at least 2); the others come from the analysis.
pub fn stitch_with(
    model: &Model,
    plan: &FoldPlan,
    overrides: &FifoOverrides,
) -> Result<Design, StitchError> {
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
            // A FIFO of `fmt` beats named `name` from the open end `cur`; `cur` becomes its
            // output.
            let fifo = |nodes: &mut Vec<HwNode>,
                        edges: &mut Vec<HwEdge>,
                        cur: Open,
                        name: String,
                        instance: String,
                        out_wire: String|
             -> Open {
                let fmt = cur.fmt.clone();
                let (depth, why) = (2, String::new());
                nodes.push(HwNode {
                    name: name.clone(),
                    instance,
                    module: Primitive::Fifo.module(&prefix),
                    role: Role::Fifo {
                        depth,
                        width: fmt.tdata_bits,
                        why,
                    },
                    inputs: vec![fmt.clone()],
                    outputs: vec![fmt.clone()],
                    params: fifo_params(depth, fmt.tdata_bits),
                });
                edges.push(HwEdge {
                    wire: cur.wire.clone(),
                    from: cur.from.clone(),
                    to: End::Node {
                        node: name.clone(),
                        port: 0,
                    },
                    format: fmt.clone(),
                    carries: cur.carries.clone(),
                });
                Open {
                    wire: out_wire,
                    fmt,
                    from: End::Node {
                        node: name,
                        port: 0,
                    },
                    carries: cur.carries,
                }
            };
            // A converter to fewer lanes reads a beat only every few cycles: a FIFO before
            // it takes a producer's burst in whole beats, so the producer never waits on the
            // converter (a global pool's results, an output fold's beats).
            if cur.fmt.lanes > want.lanes {
                let name = unique(&taken, format!("fifo_{}{sfx}_wide", n.name));
                taken.insert(name.clone());
                cur = fifo(
                    &mut nodes,
                    &mut edges,
                    cur,
                    name,
                    format!("u_l{nn}{sfx}_fifo_wide"),
                    format!("s_l{nn}{sfx}_wide"),
                );
            }
            if cur.fmt.lanes != want.lanes {
                if !primitives.contains(&Primitive::Gearbox) {
                    primitives.push(Primitive::Gearbox);
                }
                let name = unique(&taken, format!("conv_{}{sfx}", n.name));
                taken.insert(name.clone());
                let elem_bits = want.elem_type.bits();
                let (ia, ob) = (cur.fmt.lanes, want.lanes);
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
                    params: converter_params(elem_bits, ia, ob),
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
            // FIFO before the engine input; its depth comes from the analysis below
            let name = unique(&taken, format!("fifo_{}{sfx}", n.name));
            taken.insert(name.clone());
            let last = fifo(
                &mut nodes,
                &mut edges,
                cur,
                name,
                format!("u_l{nn}{sfx}_fifo"),
                format!("s_l{nn}{sfx}_in"),
            );
            edges.push(HwEdge {
                wire: last.wire,
                from: last.from,
                to: End::Node {
                    node: n.name.clone(),
                    port,
                },
                format: want.clone(),
                carries: last.carries,
            });
        }
        let exp = exp_of[id];
        if exp > exp_max.0 || exp_max.1.is_empty() {
            exp_max = (exp, n.name.clone());
        }
        let mut params = Vec::new();
        if e.uses_mem(fold, plan.family) {
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
    size_fifos(model, &a, &mut nodes, &edges, overrides)?;
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
        family: plan.family,
    })
}

/// Set every FIFO's depth from [`crate::fifo::analyze`] (or `overrides`).
fn size_fifos(
    model: &Model,
    a: &ir::Analysis,
    nodes: &mut [HwNode],
    edges: &[HwEdge],
    overrides: &FifoOverrides,
) -> Result<(), StitchError> {
    use crate::fifo::{Actor, ActorKind, Link};
    for name in overrides.keys() {
        let d = overrides[name];
        if !nodes
            .iter()
            .any(|n| &n.name == name && matches!(n.role, Role::Fifo { .. }))
        {
            return Err(StitchError::Override(format!(
                "no FIFO named `{name}` in the design"
            )));
        }
        if d < 2 || !d.is_power_of_two() {
            return Err(StitchError::Override(format!(
                "`{name}`: depth {d} is not a power of two of at least 2 (the FIFO primitive \
                 takes DEPTH = 2**ADDR_WIDTH)"
            )));
        }
    }
    // actors: engines and converters
    let mut actor_of = std::collections::BTreeMap::new();
    let mut actors = Vec::new();
    for n in nodes.iter() {
        let kind = match &n.role {
            Role::Engine {
                node,
                fold,
                exp_cycles,
                ..
            } => {
                let id = a.by_name[node];
                let op = &model.nodes[id].op;
                ActorKind::Engine {
                    schedule: engines::engine(op).schedule(
                        &a.in_types[id],
                        &a.out_types[id],
                        *fold,
                    ),
                    exp_cycles: *exp_cycles,
                }
            }
            Role::Converter {
                in_lanes,
                out_lanes,
                ..
            } => ActorKind::Converter {
                in_lanes: *in_lanes,
                out_lanes: *out_lanes,
            },
            Role::Fifo { .. } => continue,
        };
        actor_of.insert(n.name.clone(), actors.len());
        actors.push(Actor {
            name: n.name.clone(),
            kind,
        });
    }
    let end = |e: &End| match e {
        End::Top => None,
        End::Node { node, port } => Some((node.clone(), *port)),
    };
    let mut links = Vec::new();
    let mut fifo_of_link = Vec::new();
    for (ni, n) in nodes.iter().enumerate() {
        let into = |to: &End| {
            *to == End::Node {
                node: n.name.clone(),
                port: 0,
            }
        };
        if matches!(n.role, Role::Engine { .. }) {
            continue;
        }
        let Some(inc) = edges.iter().find(|e| into(&e.to)) else {
            continue;
        };
        // the producing actor (a FIFO is none: a converter behind one takes no link)
        let from = end(&inc.from).and_then(|(node, port)| actor_of.get(&node).map(|&a| (a, port)));
        match n.role {
            Role::Fifo { .. } => {
                let out = edges
                    .iter()
                    .find(|e| {
                        e.from
                            == End::Node {
                                node: n.name.clone(),
                                port: 0,
                            }
                    })
                    .and_then(|e| end(&e.to))
                    .expect("a FIFO feeds an engine or a converter");
                links.push(Link {
                    from,
                    to: (actor_of[&out.0], out.1),
                    fifo: true,
                    bits: n.inputs[0].tdata_bits,
                });
                fifo_of_link.push(Some(ni));
            }
            // a converter behind a FIFO: the FIFO's link feeds it
            Role::Converter { .. }
                if matches!(&inc.from, End::Node { node, .. }
                    if nodes.iter().any(|m| m.name == *node && matches!(m.role, Role::Fifo { .. }))) =>
                {}
            Role::Converter { .. } => {
                links.push(Link {
                    from,
                    to: (actor_of[&n.name], 0),
                    fifo: false,
                    bits: 0,
                });
                fifo_of_link.push(None);
            }
            Role::Engine { .. } => {}
        }
    }
    let r = crate::fifo::analyze(&actors, &links, crate::fifo::FRAMES);
    for need in r.fifos {
        let ni = fifo_of_link[need.link].expect("a FIFO link");
        let n = &mut nodes[ni];
        let (depth, why) = match overrides.get(&n.name) {
            Some(&d) => (
                d,
                format!(
                    "override: {d} beats (the analysis: {}, {})",
                    need.depth, need.why
                ),
            ),
            None => (need.depth, need.why),
        };
        let width = n.inputs[0].tdata_bits;
        n.role = Role::Fifo { depth, width, why };
        n.params = fifo_params(depth, width);
    }
    Ok(())
}
