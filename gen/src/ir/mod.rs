//! ferrite's integer dataflow IR.
//!
//! A [`Model`] is a graph of integer hardware ops ([`Node`]s) between graph inputs and
//! outputs, plus optional host-side float steps before (`pre`) and after (`post`) it. Each
//! node consumes typed streams on numbered input ports and produces typed streams on
//! numbered output ports; each input port names its producer ([`Source`]: a graph input,
//! or a node and its output port). A stream carries a tensor of shape (H, W, C) in
//! channels-last order ([`TensorType`]); an FC vector is 1x1xC. Frames stream pixel by
//! pixel, each pixel's channels folded into beats.
//!
//! Serialised as versioned JSON (`ferrite build model.json` accepts it): version 2 is the
//! graph; version-1 files (a chain of layers) still load and become a chain graph.
//! Every value inside the graph is an integer of a [`DataType`]; accumulator types are
//! derived from the weights and input type, never stored; stream types are inferred
//! ([`Model::analyze`]), never stored.
//!
//! Architecture invariant: `ir` imports nothing from later stages (passes, fold, stitch,
//! emit, golden, report).

mod datatype;
pub mod host;
mod input_type;
pub mod json;
pub mod ops;
mod v1;

pub use datatype::{DataType, MAX_BITS, bits_for_unsigned};
pub use host::HostStep;
pub use input_type::{DeclaredBy, DeclaredInput, InputType, MAX_INPUT_BITS};
pub use ops::{
    Add, Concat, Duplicate, LabelSelect, MAX_ADD_SHIFT, MAX_CONCAT_INPUTS, MAX_DUPLICATE_OUTPUTS,
    MatrixVector, Op, OpKind, Pad, Pool, PoolMode, SlidingWindow, Thresholding, VectorVector,
    concat_type,
};

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use thiserror::Error;

/// Version of the JSON model format written by this build.
pub const IR_VERSION: u32 = 2;

/// Most elements a stream's frame may have (2^24: FINN's CNV has at most 451,584).
pub const MAX_STREAM_ELEMS: usize = 1 << 24;

/// A whole network: the graph of hardware ops and the host steps around it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// JSON format version; [`IR_VERSION`] (version 1 is converted on load).
    pub ir_version: u32,
    /// Network name; sanitised before it becomes a Verilog prefix.
    pub name: String,
    /// The hardware's input streams.
    pub inputs: Vec<GraphInput>,
    /// The hardware ops. Their order is free; [`Model::analyze`] sorts them.
    pub nodes: Vec<Node>,
    /// The streams leaving the hardware.
    pub outputs: Vec<Source>,
    /// Float steps the host runs before the hardware (input scaling, first quantizer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre: Vec<HostStep>,
    /// Float steps the host runs after the hardware (dequantisation, final affine, softmax).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post: Vec<HostStep>,
    /// Where the model came from (file name and sha256), for headers and reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Provenance>,
    /// The input's datatype when the model did not quantize its float input itself: a
    /// QONNX annotation or `--input-type` (the host steps `pre` implement it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_input: Option<DeclaredInput>,
}

/// The type of a stream: a tensor of shape (H, W, C), channels-last, of one data type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorType {
    /// `[H, W, C]`.
    pub shape: [usize; 3],
    pub dtype: DataType,
}

impl TensorType {
    pub const fn new(shape: [usize; 3], dtype: DataType) -> TensorType {
        TensorType { shape, dtype }
    }

    /// A vector of `c` elements (1x1xC).
    pub const fn vector(c: usize, dtype: DataType) -> TensorType {
        TensorType::new([1, 1, c], dtype)
    }

    /// Elements a frame (bounded by [`MAX_STREAM_ELEMS`] in a validated model).
    pub fn elems(&self) -> usize {
        self.shape.iter().product()
    }

    /// Elements a frame, if the product does not overflow.
    pub fn checked_elems(&self) -> Option<usize> {
        self.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
    }

    pub fn channels(&self) -> usize {
        self.shape[2]
    }

    /// Pixels a frame (H * W).
    pub fn pixels(&self) -> usize {
        self.shape[0] * self.shape[1]
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [h, w, c] = self.shape;
        write!(f, "{h}x{w}x{c} {}", self.dtype)
    }
}

/// An input stream of the hardware.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphInput {
    pub name: String,
    pub tensor: TensorType,
    /// Logical shape of a frame as a user's `.npy` holds it (for example `[1, 28, 28]`);
    /// empty: the tensor's shape. The hardware sees the channels-last element sequence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shape: Vec<usize>,
}

impl GraphInput {
    pub fn logical_shape(&self) -> Vec<usize> {
        if self.shape.is_empty() {
            self.tensor.shape.to_vec()
        } else {
            self.shape.clone()
        }
    }
}

/// Where an input port's stream comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// Graph input `input` (its name).
    Input { input: String },
    /// Output port `port` of the node named `node`.
    Node {
        node: String,
        #[serde(default)]
        port: usize,
    },
}

impl Source {
    pub fn node(name: &str, port: usize) -> Source {
        Source::Node {
            node: name.to_string(),
            port,
        }
    }

    pub fn input(name: &str) -> Source {
        Source::Input {
            input: name.to_string(),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Input { input } => write!(f, "graph input `{input}`"),
            Source::Node { node, port } => write!(f, "`{node}` port {port}"),
        }
    }
}

/// One hardware op with its name and the producers of its input ports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Unique among the graph's nodes and inputs.
    pub name: String,
    /// One source per input port, in port order.
    pub inputs: Vec<Source>,
    pub op: Op,
    /// ONNX node(s) this node was lowered from, for errors and headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl Node {
    pub fn new(name: &str, inputs: Vec<Source>, op: Op) -> Node {
        Node {
            name: name.to_string(),
            inputs,
            op,
            origin: None,
        }
    }

    pub fn kind(&self) -> &'static str {
        self.op.kind()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub file: String,
    pub sha256: String,
}

/// Multi-threshold activation. For a value `x` of channel `c`, let
/// `n = #{ t in rows[c] : x >= t }`; the output is `out_bias + n`, or `2n - 1` when
/// `out_type` is bipolar (one threshold per channel).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// One ascending row per channel, or a single row shared by all channels.
    pub rows: Vec<Vec<i64>>,
    pub out_type: DataType,
    /// Output for a value below every threshold (ignored for bipolar output).
    #[serde(default)]
    pub out_bias: i64,
}

impl Thresholds {
    pub fn per_channel(&self) -> usize {
        self.rows.first().map_or(0, Vec::len)
    }

    pub fn row(&self, channel: usize) -> &[i64] {
        if self.rows.len() == 1 {
            &self.rows[0]
        } else {
            &self.rows[channel]
        }
    }

    /// The activation of `x` on `channel`.
    pub fn apply(&self, channel: usize, x: i64) -> i64 {
        let n = self.row(channel).iter().filter(|&&t| x >= t).count() as i64;
        if self.out_type == DataType::Bipolar {
            2 * n - 1
        } else {
            self.out_bias + n
        }
    }

    /// Check the rows for `channels` channels; the error says what is wrong.
    pub fn check(&self, channels: usize) -> Result<(), String> {
        if self.rows.is_empty() {
            return Err("thresholds have no rows".into());
        }
        if self.rows.len() != 1 && self.rows.len() != channels {
            return Err(format!(
                "thresholds have {} rows; expected 1 (shared) or one per channel ({channels})",
                self.rows.len()
            ));
        }
        let n = self.rows[0].len();
        if n == 0 {
            return Err("a threshold row is empty".into());
        }
        if let Some((c, r)) = self.rows.iter().enumerate().find(|(_, r)| r.len() != n) {
            return Err(format!(
                "threshold row {c} has {} values, row 0 has {n}; all rows need the same count",
                r.len()
            ));
        }
        if let Some((c, _)) = self
            .rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.windows(2).any(|w| w[0] > w[1]))
        {
            return Err(format!("threshold row {c} is not sorted ascending"));
        }
        if !self.out_type.is_activation_type() {
            return Err(format!(
                "output type {} out of range: activations are BIPOLAR, BINARY or 2..8-bit integers",
                self.out_type
            ));
        }
        if self.out_type == DataType::Bipolar {
            if n != 1 {
                return Err(format!(
                    "a bipolar activation takes 1 threshold per channel, not {n}"
                ));
            }
        } else {
            let (lo, hi) = (self.out_bias, self.out_bias + n as i64);
            if !self.out_type.contains(lo) || !self.out_type.contains(hi) {
                return Err(format!(
                    "{n} thresholds with out_bias {} give outputs {lo}..={hi}, outside {}",
                    self.out_bias, self.out_type
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Error)]
pub enum IrError {
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("{path}: not a ferrite model: {err}")]
    Json {
        path: String,
        err: serde_json::Error,
    },
    #[error("{path}: model format version {found}, this ferrite reads versions 1 and {IR_VERSION}")]
    Version { path: String, found: u32 },
    #[error("model: {0}")]
    Model(String),
    #[error("node `{node}` ({kind}): {why}")]
    Node {
        node: String,
        kind: &'static str,
        why: String,
    },
    #[error("node `{node}` input port {port}: {why}")]
    Edge {
        node: String,
        port: usize,
        why: String,
    },
}

/// Index of a node in [`Model::nodes`].
pub type NodeId = usize;

/// Where a stream goes: input port `port` of node `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sink {
    pub node: NodeId,
    pub port: usize,
}

/// What [`Model::analyze`] finds: a topological order and the type of every stream.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Node indices, every producer before its consumers.
    pub order: Vec<NodeId>,
    /// Per node: the types on its input ports.
    pub in_types: Vec<Vec<TensorType>>,
    /// Per node: the types on its output ports.
    pub out_types: Vec<Vec<TensorType>>,
    /// Per node and output port: its consumers (at most one until stream duplication
    /// lands).
    pub consumers: Vec<Vec<Vec<Sink>>>,
    /// Per graph input: its consumers.
    pub input_consumers: Vec<Vec<Sink>>,
    /// Name to node index.
    pub by_name: BTreeMap<String, NodeId>,
}

impl Analysis {
    /// Type of the stream `src` names (it was resolved by `analyze`).
    pub fn type_of(&self, model: &Model, src: &Source) -> TensorType {
        match src {
            Source::Input { input } => {
                model
                    .inputs
                    .iter()
                    .find(|i| &i.name == input)
                    .expect("analyzed source")
                    .tensor
            }
            Source::Node { node, port } => self.out_types[self.by_name[node]][*port],
        }
    }
}

impl Model {
    /// A chain: `nodes` one after the other from a single input named `input`.
    pub fn chain(
        name: &str,
        input: TensorType,
        nodes: impl IntoIterator<Item = (String, Op, Option<String>)>,
    ) -> Model {
        let mut prev = Source::input("input");
        let mut out = Vec::new();
        for (n, op, origin) in nodes {
            out.push(Node {
                name: n.clone(),
                inputs: vec![prev],
                op,
                origin,
            });
            prev = Source::node(&n, 0);
        }
        Model {
            ir_version: IR_VERSION,
            name: name.to_string(),
            inputs: vec![GraphInput {
                name: "input".into(),
                tensor: input,
                shape: Vec::new(),
            }],
            nodes: out,
            outputs: vec![prev],
            pre: Vec::new(),
            post: Vec::new(),
            source: None,
            declared_input: None,
        }
    }

    /// The single input (ferrite's tops have one input stream).
    pub fn input(&self) -> &GraphInput {
        &self.inputs[0]
    }

    /// Index of the node named `name`.
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.name == name)
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// Check every node, resolve every edge, sort the graph and infer every stream's type.
    pub fn analyze(&self) -> Result<Analysis, IrError> {
        if self.ir_version != IR_VERSION {
            return Err(IrError::Version {
                path: "model".into(),
                found: self.ir_version,
            });
        }
        if self.nodes.is_empty() {
            return Err(IrError::Model("the model has no nodes".into()));
        }
        if self.inputs.len() != 1 || self.outputs.len() != 1 {
            return Err(IrError::Model(format!(
                "the graph has {} inputs and {} outputs; ferrite's hardware has one input \
                 stream and one output stream",
                self.inputs.len(),
                self.outputs.len()
            )));
        }
        let mut names = BTreeSet::new();
        for i in &self.inputs {
            let t = i.tensor;
            if !t.dtype.is_valid() || t.dtype.bits() > 32 {
                return Err(IrError::Model(format!(
                    "input `{}`: type {} out of range (at most 32 bits)",
                    i.name, t.dtype
                )));
            }
            match t.checked_elems() {
                Some(0) => {
                    return Err(IrError::Model(format!(
                        "input `{}` has shape {t}: every dimension must be at least 1",
                        i.name
                    )));
                }
                Some(n) if n <= MAX_STREAM_ELEMS => {}
                _ => {
                    return Err(IrError::Model(format!(
                        "input `{}` has shape {t}: more than {MAX_STREAM_ELEMS} elements a frame",
                        i.name
                    )));
                }
            }
            if !i.shape.is_empty()
                && i.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(t.elems())
            {
                return Err(IrError::Model(format!(
                    "input `{}`: logical shape {:?} has {} elements, its stream {t} has {}",
                    i.name,
                    i.shape,
                    i.shape.iter().product::<usize>(),
                    t.elems()
                )));
            }
            if i.name.is_empty() || !names.insert(i.name.as_str()) {
                return Err(IrError::Model(format!(
                    "input `{}`: names of inputs and nodes must be unique and not empty",
                    i.name
                )));
            }
        }
        let mut by_name = BTreeMap::new();
        for (id, n) in self.nodes.iter().enumerate() {
            if n.name.is_empty() {
                return Err(IrError::Model("a node has an empty name".into()));
            }
            if !names.insert(n.name.as_str()) {
                return Err(IrError::Node {
                    node: n.name.clone(),
                    kind: n.kind(),
                    why: "another node or input has the same name; names must be unique".into(),
                });
            }
            by_name.insert(n.name.clone(), id);
        }
        // resolve edges
        let nn = self.nodes.len();
        let mut preds: Vec<Vec<NodeId>> = vec![Vec::new(); nn];
        let mut consumers: Vec<Vec<Vec<Sink>>> = vec![Vec::new(); nn];
        let mut input_consumers: Vec<Vec<Sink>> = vec![Vec::new(); self.inputs.len()];
        for (id, n) in self.nodes.iter().enumerate() {
            let want = n.op.as_kind().num_inputs();
            if n.inputs.len() != want {
                return Err(IrError::Node {
                    node: n.name.clone(),
                    kind: n.kind(),
                    why: format!("has {} inputs; a {} takes {want}", n.inputs.len(), n.kind()),
                });
            }
            for (port, src) in n.inputs.iter().enumerate() {
                let sink = Sink { node: id, port };
                match src {
                    Source::Input { input } => {
                        let Some(i) = self.inputs.iter().position(|x| &x.name == input) else {
                            return Err(IrError::Edge {
                                node: n.name.clone(),
                                port,
                                why: format!("reads graph input `{input}`, which does not exist"),
                            });
                        };
                        input_consumers[i].push(sink);
                    }
                    Source::Node { node, .. } => {
                        let Some(&p) = by_name.get(node) else {
                            return Err(IrError::Edge {
                                node: n.name.clone(),
                                port,
                                why: format!("reads node `{node}`, which does not exist"),
                            });
                        };
                        preds[id].push(p);
                    }
                }
            }
        }
        // topological order (Kahn, lowest index first: deterministic, and a chain given
        // in order keeps its order)
        let mut indeg: Vec<usize> = preds.iter().map(Vec::len).collect();
        let mut succs: Vec<Vec<NodeId>> = vec![Vec::new(); nn];
        for (id, ps) in preds.iter().enumerate() {
            for &p in ps {
                succs[p].push(id);
            }
        }
        let mut ready: BTreeSet<NodeId> = (0..nn).filter(|&i| indeg[i] == 0).collect();
        let mut order = Vec::with_capacity(nn);
        while let Some(id) = ready.pop_first() {
            order.push(id);
            for &s in &succs[id] {
                indeg[s] -= 1;
                if indeg[s] == 0 {
                    ready.insert(s);
                }
            }
        }
        if order.len() != nn {
            let stuck: Vec<&str> = (0..nn)
                .filter(|&i| indeg[i] > 0)
                .map(|i| self.nodes[i].name.as_str())
                .collect();
            return Err(IrError::Model(format!(
                "the graph has a cycle through {}",
                stuck.join(", ")
            )));
        }
        // types, in order
        let mut in_types: Vec<Vec<TensorType>> = vec![Vec::new(); nn];
        let mut out_types: Vec<Vec<TensorType>> = vec![Vec::new(); nn];
        for &id in &order {
            let n = &self.nodes[id];
            let mut ins = Vec::with_capacity(n.inputs.len());
            for (port, src) in n.inputs.iter().enumerate() {
                ins.push(match src {
                    Source::Input { input } => {
                        self.inputs
                            .iter()
                            .find(|i| &i.name == input)
                            .unwrap()
                            .tensor
                    }
                    Source::Node { node, port: p } => {
                        let pid = by_name[node];
                        let Some(t) = out_types[pid].get(*p) else {
                            return Err(IrError::Edge {
                                node: n.name.clone(),
                                port,
                                why: format!(
                                    "reads output port {p} of `{node}`, which has {} output ports",
                                    out_types[pid].len()
                                ),
                            });
                        };
                        consumers[pid][*p].push(Sink { node: id, port });
                        *t
                    }
                });
            }
            let outs = n.op.as_kind().infer(&ins).map_err(|why| IrError::Node {
                node: n.name.clone(),
                kind: n.kind(),
                why,
            })?;
            if let Some(t) = outs.iter().find(|t| {
                t.checked_elems()
                    .is_none_or(|e| e == 0 || e > MAX_STREAM_ELEMS)
            }) {
                return Err(IrError::Node {
                    node: n.name.clone(),
                    kind: n.kind(),
                    why: format!(
                        "its output {t} is empty or has more than {MAX_STREAM_ELEMS} elements a frame"
                    ),
                });
            }
            consumers[id] = vec![Vec::new(); outs.len()];
            in_types[id] = ins;
            out_types[id] = outs;
        }
        // outputs, and every stream used exactly once
        let mut out_uses: BTreeMap<(NodeId, usize), usize> = BTreeMap::new();
        for o in &self.outputs {
            match o {
                Source::Input { input } => {
                    return Err(IrError::Model(format!(
                        "graph output is graph input `{input}`: the hardware needs at least one node between them"
                    )));
                }
                Source::Node { node, port } => {
                    let Some(&id) = by_name.get(node) else {
                        return Err(IrError::Model(format!(
                            "graph output names node `{node}`, which does not exist"
                        )));
                    };
                    if *port >= out_types[id].len() {
                        return Err(IrError::Model(format!(
                            "graph output names port {port} of `{node}`, which has {} output ports",
                            out_types[id].len()
                        )));
                    }
                    *out_uses.entry((id, *port)).or_default() += 1;
                }
            }
        }
        for (id, ports) in consumers.iter().enumerate() {
            for (p, sinks) in ports.iter().enumerate() {
                let uses = sinks.len() + out_uses.get(&(id, p)).copied().unwrap_or(0);
                if uses == 0 {
                    return Err(IrError::Node {
                        node: self.nodes[id].name.clone(),
                        kind: self.nodes[id].kind(),
                        why: format!(
                            "output port {p} is read by no node and is not a graph output; \
                             remove the node or connect it"
                        ),
                    });
                }
                if uses > 1 {
                    return Err(IrError::Node {
                        node: self.nodes[id].name.clone(),
                        kind: self.nodes[id].kind(),
                        why: format!(
                            "output port {p} feeds {uses} consumers; a stream has one consumer: \
                             read it through a Duplicate node with one output per consumer"
                        ),
                    });
                }
            }
        }
        for (i, c) in input_consumers.iter().enumerate() {
            if c.len() != 1 {
                return Err(IrError::Model(format!(
                    "graph input `{}` feeds {} nodes; it must feed exactly one (read it \
                     through a Duplicate node with one output per consumer)",
                    self.inputs[i].name,
                    c.len()
                )));
            }
        }
        Ok(Analysis {
            order,
            in_types,
            out_types,
            consumers,
            input_consumers,
            by_name,
        })
    }

    /// Check every node and that the graph is well formed and its types agree.
    pub fn validate(&self) -> Result<(), IrError> {
        self.analyze().map(|_| ())
    }

    /// Type of the (single) output stream.
    pub fn output_tensor(&self) -> Result<TensorType, IrError> {
        let a = self.analyze()?;
        Ok(a.type_of(self, &self.outputs[0]))
    }

    pub fn from_json_str(text: &str, path: &str) -> Result<Model, IrError> {
        #[derive(Deserialize)]
        struct Header {
            ir_version: u32,
        }
        json::unique_keys(text).map_err(|err| IrError::Json {
            path: path.into(),
            err,
        })?;
        let version = serde_json::from_str::<Header>(text).map(|h| h.ir_version);
        let m: Model = match version {
            Ok(1) => v1::load(text, path)?,
            Ok(IR_VERSION) | Err(_) => match serde_json::from_str(text) {
                Ok(m) => m,
                Err(err) => {
                    return Err(IrError::Json {
                        path: path.into(),
                        err,
                    });
                }
            },
            Ok(found) => {
                return Err(IrError::Version {
                    path: path.into(),
                    found,
                });
            }
        };
        m.validate().map_err(|e| match e {
            IrError::Version { found, .. } => IrError::Version {
                path: path.into(),
                found,
            },
            other => other,
        })?;
        Ok(m)
    }

    pub fn load_json(path: &Path) -> Result<Model, IrError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| IrError::Io {
            path: p.clone(),
            err,
        })?;
        Model::from_json_str(&text, &p)
    }

    /// Compact JSON (weights make pretty-printing tens of megabytes).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(mw: usize, mh: usize, it: DataType, wt: DataType, thr: Option<Thresholds>) -> Op {
        Op::MatrixVector(MatrixVector {
            mw,
            mh,
            input_type: it,
            weight_type: wt,
            weights: vec![wt.max(); mw * mh],
            thresholds: thr,
        })
    }

    #[test]
    fn accumulator_from_worst_case() {
        let Op::MatrixVector(l) = mv(784, 4, DataType::Bipolar, DataType::Bipolar, None) else {
            unreachable!()
        };
        assert_eq!(l.acc_range(), (-784, 784));
        assert_eq!(l.acc_type(), DataType::Int(11));
        let Op::MatrixVector(l) = mv(10, 1, DataType::UInt(2), DataType::UInt(3), None) else {
            unreachable!()
        };
        assert_eq!(l.acc_range(), (0, 210));
        assert_eq!(l.acc_type(), DataType::UInt(8));
    }

    fn two_layer(second_mw: usize) -> Model {
        let thr = Thresholds {
            rows: vec![vec![0]],
            out_type: DataType::Bipolar,
            out_bias: 0,
        };
        Model::chain(
            "t",
            TensorType::vector(8, DataType::Bipolar),
            [
                (
                    "fc0".to_string(),
                    mv(8, 4, DataType::Bipolar, DataType::Bipolar, Some(thr)),
                    None,
                ),
                (
                    "fc1".to_string(),
                    mv(second_mw, 2, DataType::Bipolar, DataType::Bipolar, None),
                    None,
                ),
            ],
        )
    }

    #[test]
    fn type_errors_name_the_node() {
        let m = two_layer(5);
        let e = m.validate().unwrap_err().to_string();
        assert!(
            e.contains("fc1") && e.contains("5 elements") && e.contains("4 channels"),
            "{e}"
        );
        let back = Model::from_json_str(&m.to_json(), "x.json")
            .unwrap_err()
            .to_string();
        assert!(back.contains("fc1"), "{back}");
    }

    #[test]
    fn graph_is_sorted_and_typed() {
        let mut m = two_layer(4);
        m.nodes.reverse();
        let a = m.analyze().unwrap();
        let names: Vec<&str> = a.order.iter().map(|&i| m.nodes[i].name.as_str()).collect();
        assert_eq!(names, ["fc0", "fc1"]);
        assert_eq!(
            a.type_of(&m, &m.outputs[0]),
            TensorType::vector(2, DataType::Int(4))
        );
        // round trip
        assert_eq!(Model::from_json_str(&m.to_json(), "x").unwrap(), m);
    }

    #[test]
    fn bad_graphs_are_refused() {
        let mut m = two_layer(4);
        m.nodes[1].inputs = vec![Source::node("fc9", 0)];
        assert!(m.validate().unwrap_err().to_string().contains("fc9"));
        let mut m = two_layer(4);
        m.nodes[0].inputs = vec![Source::node("fc1", 0)];
        let e = m.validate().unwrap_err().to_string();
        assert!(e.contains("cycle"), "{e}");
        let mut m = two_layer(4);
        m.nodes[1].name = "fc0".into();
        assert!(m.validate().unwrap_err().to_string().contains("unique"));
        let mut m = two_layer(4);
        m.outputs = vec![Source::node("fc0", 0)];
        let e = m.validate().unwrap_err().to_string();
        assert!(e.contains("fc0") && e.contains("2 consumers"), "{e}");
    }

    #[test]
    fn threshold_apply() {
        let t = Thresholds {
            rows: vec![vec![-1, 2, 5]],
            out_type: DataType::Int(2),
            out_bias: -2,
        };
        assert_eq!(t.apply(0, -5), -2);
        assert_eq!(t.apply(0, -1), -1);
        assert_eq!(t.apply(0, 5), 1);
        let b = Thresholds {
            rows: vec![vec![0]],
            out_type: DataType::Bipolar,
            out_bias: 0,
        };
        assert_eq!((b.apply(0, -1), b.apply(0, 0)), (-1, 1));
    }
}
