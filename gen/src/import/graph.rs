//! The import graph: an ONNX/QONNX graph as a list of nodes over named tensors, with a
//! closed set of operations ([`Op`]) and constant tensors held by name. Passes rewrite it;
//! [`crate::import::exec`] runs it in `f32` as the qonnx reference executor does.

use crate::ir::DataType;
use crate::ir::host::RoundingMode;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Element storage of a tensor: float activations/weights, or int64 shape data.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

/// A dense row-major tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Data,
}

impl Tensor {
    pub fn f32(shape: Vec<usize>, v: Vec<f32>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), v.len());
        Tensor {
            shape,
            data: Data::F32(v),
        }
    }

    pub fn i64(shape: Vec<usize>, v: Vec<i64>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), v.len());
        Tensor {
            shape,
            data: Data::I64(v),
        }
    }

    pub fn scalar(v: f32) -> Tensor {
        Tensor::f32(vec![], vec![v])
    }

    pub fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::I64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values as `f32` (int64 data converted).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            Data::F32(v) => v.clone(),
            Data::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// Borrowed float values, if the tensor holds floats.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            Data::F32(v) => Some(v),
            Data::I64(_) => None,
        }
    }

    /// Values as integers: int64 data, or float data whose every value is integral.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        match &self.data {
            Data::I64(v) => Some(v.clone()),
            Data::F32(v) => v
                .iter()
                .map(|&x| (x.is_finite() && x == x.trunc() && x.abs() < 9.0e15).then_some(x as i64))
                .collect(),
        }
    }

    /// The single value of a one-element tensor.
    pub fn single_f32(&self) -> Option<f32> {
        (self.len() == 1).then(|| self.to_f32()[0])
    }

    pub fn is_int64(&self) -> bool {
        matches!(self.data, Data::I64(_))
    }
}

/// Quantized datatype of a tensor: its values are `(q - zero_point) * scale` for integers
/// `q` of `dtype`. `scale`/`zero_point` broadcast against the tensor (numpy rules).
#[derive(Clone, Debug, PartialEq)]
pub struct QInfo {
    pub dtype: DataType,
    pub scale: Tensor,
    pub zero_point: Tensor,
    /// For constants: the exact integers `q - zero_point` (float division of the value by
    /// the scale need not give them back exactly when the scale is not a power of two).
    pub levels: Option<Tensor>,
}

impl QInfo {
    /// An integer tensor (scale 1, zero point 0).
    pub fn int(dtype: DataType) -> QInfo {
        QInfo {
            dtype,
            scale: Tensor::scalar(1.0),
            zero_point: Tensor::scalar(0.0),
            levels: None,
        }
    }

    /// Whether the float values are the integers themselves.
    pub fn is_plain_int(&self) -> bool {
        self.scale.to_f32().iter().all(|&s| s == 1.0)
            && self.zero_point.to_f32().iter().all(|&z| z == 0.0)
    }
}

/// The closed set of operations the importer understands, with QONNX/ONNX semantics.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// qonnx `Quant`/`IntQuant`: inputs x, scale, zero point, bit width.
    Quant {
        signed: bool,
        narrow: bool,
        rounding: RoundingMode,
    },
    /// qonnx `BipolarQuant`: inputs x, scale; `+scale` where `x >= 0`, else `-scale`.
    BipolarQuant,
    /// qonnx `Trunc`: v1 (5 inputs: x, scale, zero point, input and output bit width) or
    /// v2 (6 inputs: x, scale, zero point, input bit width, output scale, output bit width).
    Trunc {
        signed: bool,
        narrow: bool,
        rounding: RoundingMode,
    },
    /// qonnx `MultiThreshold`: inputs x, thresholds `[C or 1, N]`;
    /// `out_scale * #{t : x >= t} + out_bias`.
    MultiThreshold {
        out_scale: f32,
        out_bias: f32,
        channels_last: bool,
        out_dtype: Option<DataType>,
    },
    MatMul,
    Gemm {
        alpha: f32,
        beta: f32,
        trans_a: bool,
        trans_b: bool,
    },
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    /// ONNX `Round`: half to even.
    Round,
    BatchNorm {
        epsilon: f32,
    },
    Relu,
    Sign,
    Flatten {
        axis: i64,
    },
    Reshape {
        allow_zero: bool,
    },
    Transpose {
        perm: Option<Vec<usize>>,
    },
    Identity,
    TopK {
        axis: i64,
        largest: bool,
        k: Option<usize>,
    },
    ArgMax {
        axis: i64,
        keepdims: bool,
        select_last: bool,
    },
    /// Softmax along `axis`; before opset 13 (`flatten`), over everything from `axis` on.
    Softmax {
        axis: i64,
        flatten: bool,
    },
    Shape {
        start: i64,
        end: Option<i64>,
    },
    Gather {
        axis: i64,
    },
    Unsqueeze {
        axes: Option<Vec<i64>>,
    },
    Squeeze {
        axes: Option<Vec<i64>>,
    },
    Concat {
        axis: i64,
    },
    /// ONNX `Conv` (NCHW or NCW). Empty `kernel`/`strides`/`pads`/`dilations`: the
    /// defaults (kernel from the weights, 1, 0, 1). `auto_pad` upper-case as written.
    Conv {
        kernel: Vec<i64>,
        strides: Vec<i64>,
        pads: Vec<i64>,
        dilations: Vec<i64>,
        group: i64,
        auto_pad: String,
    },
    /// ONNX `MaxPool` (NCHW or NCW), floor or ceil mode.
    MaxPool {
        kernel: Vec<i64>,
        strides: Vec<i64>,
        pads: Vec<i64>,
        dilations: Vec<i64>,
        ceil_mode: bool,
        auto_pad: String,
    },
    /// ONNX `AveragePool`/`GlobalAveragePool` (`global`: over the whole map): the window's
    /// sum in `f32`, divided by its size (no padding, floor mode; others are refused).
    AveragePool {
        global: bool,
        kernel: Vec<i64>,
        strides: Vec<i64>,
        pads: Vec<i64>,
        ceil_mode: bool,
        auto_pad: String,
    },
    /// ONNX `ReduceMean`: the mean over `axes` (attribute before opset 18, else input 1;
    /// none: every axis unless `noop`). Over a feature map's spatial axes it is a global
    /// average pool (`reduce_mean` rewrites it so).
    ReduceMean {
        axes: Option<Vec<i64>>,
        keepdims: bool,
        noop: bool,
    },
    /// ferrite-internal: the exact sum over each window (an average pool without its
    /// division, which `absorb_thresholds` moved into the thresholds after it).
    SumPool {
        global: bool,
        kernel: Vec<i64>,
        strides: Vec<i64>,
    },
    /// ONNX `Pad`: inputs x, pads (opset >= 11; else the `pads` attribute), value.
    Pad {
        mode: String,
        pads: Option<Vec<i64>>,
        value: f32,
    },
}

impl Op {
    /// ONNX op type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Op::Quant { .. } => "Quant",
            Op::BipolarQuant => "BipolarQuant",
            Op::Trunc { .. } => "Trunc",
            Op::MultiThreshold { .. } => "MultiThreshold",
            Op::MatMul => "MatMul",
            Op::Gemm { .. } => "Gemm",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
            Op::Pow => "Pow",
            Op::Round => "Round",
            Op::BatchNorm { .. } => "BatchNormalization",
            Op::Relu => "Relu",
            Op::Sign => "Sign",
            Op::Flatten { .. } => "Flatten",
            Op::Reshape { .. } => "Reshape",
            Op::Transpose { .. } => "Transpose",
            Op::Identity => "Identity",
            Op::TopK { .. } => "TopK",
            Op::ArgMax { .. } => "ArgMax",
            Op::Softmax { .. } => "Softmax",
            Op::Shape { .. } => "Shape",
            Op::Gather { .. } => "Gather",
            Op::Unsqueeze { .. } => "Unsqueeze",
            Op::Squeeze { .. } => "Squeeze",
            Op::Concat { .. } => "Concat",
            Op::Conv { .. } => "Conv",
            Op::MaxPool { .. } => "MaxPool",
            Op::AveragePool { global: false, .. } => "AveragePool",
            Op::AveragePool { global: true, .. } => "GlobalAveragePool",
            Op::SumPool { .. } => "SumPool",
            Op::ReduceMean { .. } => "ReduceMean",
            Op::Pad { .. } => "Pad",
        }
    }

    /// Elementwise with one float result whose every output element depends only on the
    /// same element of the first input (and broadcast constants).
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Op::Add
                | Op::Sub
                | Op::Mul
                | Op::Div
                | Op::Pow
                | Op::Relu
                | Op::Sign
                | Op::Identity
                | Op::BatchNorm { .. }
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub op: Op,
    /// Input tensor names; an empty name is an omitted optional input.
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

/// A graph with one float input and one or more outputs.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Graph {
    pub name: String,
    /// Name of the (single) non-constant graph input.
    pub input: String,
    /// Static shape of the input (a symbolic batch dimension becomes 1).
    pub input_shape: Vec<usize>,
    pub outputs: Vec<String>,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Constant tensors (initializers, `Constant` nodes, folded values).
    pub consts: BTreeMap<String, Tensor>,
    /// Shape of every tensor, as inferred (see [`Graph::infer_shapes`]).
    pub shapes: BTreeMap<String, Vec<usize>>,
    /// Quantized datatype of the tensors known to hold quantized values.
    pub qinfo: BTreeMap<String, QInfo>,
    /// Default-domain opset version.
    pub opset: i64,
    /// The input's declared datatype, when the model does not quantize its float input:
    /// from a QONNX `finn_datatype` annotation (the importer) or `--input-type`
    /// ([`crate::passes::declare_input`] turns it into a quantizer).
    pub declared_input: Option<(crate::ir::InputType, crate::ir::DeclaredBy)>,
}

/// Producer and consumer look-ups of a graph, built once in `O(nodes)` ([`Graph::index`]).
/// An index describes the graph as it was when built: a pass builds one per sweep and
/// defers structural edits ([`Edits`]) to the end of the sweep, so indices stay valid.
#[derive(Clone, Debug, Default)]
pub struct Index(HashMap<String, Uses>);

/// What the index knows of one tensor.
#[derive(Clone, Debug, Default)]
struct Uses {
    producer: Option<usize>,
    /// Readers, each once, in graph order.
    consumers: Vec<usize>,
    /// Reads by nodes (an input read twice by one node counts twice) plus appearances
    /// among the graph outputs.
    fan_out: usize,
}

impl Index {
    /// The node producing `tensor`, by index.
    pub fn producer(&self, tensor: &str) -> Option<usize> {
        self.0.get(tensor).and_then(|u| u.producer)
    }

    /// Indices of the nodes reading `tensor` (each once, in graph order).
    pub fn consumers(&self, tensor: &str) -> &[usize] {
        self.0.get(tensor).map_or(&[], |u| u.consumers.as_slice())
    }

    /// How many times `tensor` is read by a node or is a graph output, in total.
    pub fn fan_out(&self, tensor: &str) -> usize {
        self.0.get(tensor).map_or(0, |u| u.fan_out)
    }
}

/// Structural edits of a sweep over the nodes, applied at once by [`Graph::apply`] in
/// `O(nodes)`: node indices mean the indices of the graph the sweep started from.
#[derive(Clone, Debug, Default)]
pub struct Edits {
    before: BTreeMap<usize, Vec<Node>>,
    replace: BTreeMap<usize, Vec<Node>>,
    drop: HashSet<usize>,
}

impl Edits {
    /// Put `nodes` before node `i` (after nodes put there earlier).
    pub fn insert_before(&mut self, i: usize, nodes: Vec<Node>) {
        self.before.entry(i).or_default().extend(nodes);
    }

    /// Replace node `i` by `nodes`.
    pub fn replace(&mut self, i: usize, nodes: Vec<Node>) {
        self.replace.insert(i, nodes);
    }

    /// Remove node `i`.
    pub fn remove(&mut self, i: usize) {
        self.drop.insert(i);
    }

    pub fn is_empty(&self) -> bool {
        self.before.is_empty() && self.replace.is_empty() && self.drop.is_empty()
    }
}

/// The tensor names a graph uses, for making fresh ones ([`Graph::names`]). Held as
/// hashes: a collision only makes [`Names::fresh`] skip a free name, never reuse a taken one.
#[derive(Clone, Debug, Default)]
pub struct Names(HashSet<u64>);

impl Names {
    fn key(name: &str) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(name)
    }

    fn add(&mut self, name: &str) {
        self.0.insert(Names::key(name));
    }

    fn used(&self, name: &str) -> bool {
        self.0.contains(&Names::key(name))
    }

    /// A tensor name starting with `base` that is not used yet; it is used from now on.
    pub fn fresh(&mut self, base: &str) -> String {
        let name = if self.used(base) {
            (1..)
                .map(|i| format!("{base}_{i}"))
                .find(|n| !self.used(n))
                .expect("an unused name exists")
        } else {
            base.to_string()
        };
        self.add(&name);
        name
    }
}

impl Graph {
    /// Producer, consumer and fan-out look-ups of the graph as it is now, in `O(nodes)`.
    pub fn index(&self) -> Index {
        let mut ix: HashMap<String, Uses> = HashMap::with_capacity(self.nodes.len() * 2);
        for (i, n) in self.nodes.iter().enumerate() {
            for t in n.inputs.iter().filter(|t| !t.is_empty()) {
                let u = match ix.get_mut(t.as_str()) {
                    Some(u) => u,
                    None => ix.entry(t.clone()).or_default(),
                };
                u.fan_out += 1;
                if u.consumers.last() != Some(&i) {
                    u.consumers.push(i);
                }
            }
            for o in &n.outputs {
                let u = ix.entry(o.clone()).or_default();
                u.producer.get_or_insert(i);
            }
        }
        for o in &self.outputs {
            if let Some(u) = ix.get_mut(o.as_str()) {
                u.fan_out += 1;
            } else {
                ix.entry(o.clone()).or_default().fan_out += 1;
            }
        }
        Index(ix)
    }

    /// Every tensor name in use (inputs, outputs, constants, inferred shapes), for
    /// [`Names::fresh`]. Build it once per sweep: names made from it stay distinct even
    /// while the sweep's new nodes are not in the graph yet.
    pub fn names(&self) -> Names {
        let mut s = Names(HashSet::with_capacity(
            self.shapes.len() + self.consts.len() + 8,
        ));
        let all = self
            .consts
            .keys()
            .chain(self.shapes.keys())
            .chain(std::iter::once(&self.input))
            .chain(&self.outputs)
            .chain(
                self.nodes
                    .iter()
                    .flat_map(|n| n.inputs.iter().chain(&n.outputs)),
            );
        for n in all {
            s.add(n);
        }
        s
    }

    /// Apply a sweep's structural edits in one pass over the nodes.
    pub fn apply(&mut self, mut e: Edits) {
        if e.is_empty() {
            return;
        }
        let old = std::mem::take(&mut self.nodes);
        let mut nodes = Vec::with_capacity(old.len());
        for (i, n) in old.into_iter().enumerate() {
            if let Some(b) = e.before.remove(&i) {
                nodes.extend(b);
            }
            if let Some(r) = e.replace.remove(&i) {
                nodes.extend(r);
            } else if !e.drop.contains(&i) {
                nodes.push(n);
            }
        }
        for (_, b) in std::mem::take(&mut e.before) {
            nodes.extend(b);
        }
        self.nodes = nodes;
    }

    pub fn is_const(&self, tensor: &str) -> bool {
        self.consts.contains_key(tensor)
    }

    /// Drop nodes and constants no graph output depends on.
    pub fn remove_dead(&mut self) -> bool {
        let mut live: std::collections::BTreeSet<String> = self.outputs.iter().cloned().collect();
        let mut keep = vec![false; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate().rev() {
            if n.outputs.iter().any(|o| live.contains(o)) {
                keep[i] = true;
                live.extend(n.inputs.iter().filter(|s| !s.is_empty()).cloned());
            }
        }
        let before = (self.nodes.len(), self.consts.len());
        let mut k = keep.into_iter();
        self.nodes.retain(|_| k.next().unwrap_or(true));
        self.consts.retain(|name, _| live.contains(name));
        self.qinfo
            .retain(|name, _| live.contains(name) || name == &self.input);
        (self.nodes.len(), self.consts.len()) != before
    }
}

impl std::fmt::Display for Graph {
    /// One line per node: outputs with shape and datatype, op, inputs (constants shown
    /// with their shape).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ty = |t: &str| -> String {
            let shape = self
                .shapes
                .get(t)
                .or_else(|| self.consts.get(t).map(|c| &c.shape))
                .map(|s| format!("{s:?}"))
                .unwrap_or_else(|| "?".into());
            match self.qinfo.get(t) {
                Some(q) if q.is_plain_int() => format!("{shape} {}", q.dtype),
                Some(q) if q.scale.len() == 1 => {
                    format!("{shape} {} x {}", q.dtype, q.scale.to_f32()[0])
                }
                Some(q) => format!("{shape} {} x per-channel scale", q.dtype),
                None => format!("{shape} float"),
            }
        };
        writeln!(f, "graph `{}` (opset {})", self.name, self.opset)?;
        writeln!(f, "  input {}: {}", self.input, ty(&self.input))?;
        for n in &self.nodes {
            let ins: Vec<String> = n
                .inputs
                .iter()
                .map(|i| {
                    if self.is_const(i) {
                        format!("{i}={}", ty(i))
                    } else {
                        i.clone()
                    }
                })
                .collect();
            let outs: Vec<String> = n
                .outputs
                .iter()
                .map(|o| format!("{o}: {}", ty(o)))
                .collect();
            writeln!(
                f,
                "  {} = {}({}) [{}]",
                outs.join(", "),
                n.op.type_name(),
                ins.join(", "),
                n.name
            )?;
        }
        writeln!(f, "  outputs: {}", self.outputs.join(", "))
    }
}
