//! Streamlining passes over the import graph, and the lowering to the integer IR.
//!
//! Each pass is its own module exposing `NAME` and `run(&mut Graph) -> Result<bool,
//! PassError>` (whether it changed the graph). One call is one sweep over the whole graph:
//! the pass indexes producers and consumers once ([`Graph::index`]), makes every rewrite it
//! finds and applies the structural edits at once ([`Graph::apply`]), so a sweep is linear in
//! the node count. [`streamline`] runs the pipeline to a
//! fixpoint and checks the graph after every pass that changed it ([`verify`]); a failed check is a bug in
//! the pass and is reported as [`PassError::Verify`] naming it. [`lower::lower`] turns the
//! streamlined graph into an [`ir::Model`](crate::ir::Model).
//!
//! Every pass keeps the graph's float semantics: the reference executor
//! ([`crate::import::exec`]) returns the same outputs before and after it (bit-exactly for
//! power-of-two quantizer scales; see `integerize_matmul`).

pub mod absorb_add;
pub mod absorb_concat;
pub mod absorb_thresholds;
pub mod fold_constants;
pub mod gemm_to_matmul;
pub mod infer_datatypes;
pub mod integerize_matmul;
pub mod lower;
pub mod reduce_mean;
pub mod remove_identities;

use crate::import::graph::{Graph, Tensor};
use crate::import::{UnsupportedNode, exec, format_unsupported};

#[derive(Debug, Clone, thiserror::Error)]
pub enum PassError {
    /// The model uses something ferrite cannot compile (yet); every such node is listed.
    #[error("{} unsupported node(s):\n{}", nodes.len(), format_unsupported(nodes))]
    Unsupported { nodes: Vec<UnsupportedNode> },
    /// A float layer where the hardware needs integers.
    #[error(
        "node `{node}` ({op}) is not quantized: {why}; the network must be quantized (QONNX Quant/BipolarQuant on the weights and on the activations feeding every MatMul/Gemm)"
    )]
    NotQuantized {
        node: String,
        op: String,
        why: String,
    },
    /// The model is inconsistent (shapes, datatypes, missing values).
    #[error("node `{node}`{}: {why}", tensor.as_ref().map(|t| format!(", tensor `{t}`")).unwrap_or_default())]
    Invalid {
        node: String,
        tensor: Option<String>,
        why: String,
    },
    /// An invariant broke after a pass: this is a bug in ferrite.
    #[error("internal error (a bug in ferrite) after pass `{pass}`: {why}")]
    Verify { pass: String, why: String },
}

impl PassError {
    pub fn invalid(node: &str, tensor: Option<&str>, why: impl Into<String>) -> PassError {
        PassError::Invalid {
            node: node.into(),
            tensor: tensor.map(str::to_string),
            why: why.into(),
        }
    }
}

/// The narrowest integer type holding `lo..=hi`, with the bounds clamped to +-2^60 so
/// absurd ranges from malformed models give a (too wide, later rejected) type instead of
/// an overflow.
pub fn int_type(lo: i64, hi: i64) -> crate::ir::DataType {
    const B: i64 = 1 << 60;
    let (lo, hi) = (lo.clamp(-B, B), hi.clamp(-B, B));
    crate::ir::DataType::smallest_containing(lo.min(hi), hi.max(lo))
}

/// Type of the levels `q - zero_point` of a quantizer of type `dt` (integral zero point).
pub fn shifted_type(dt: crate::ir::DataType, zero_point: f32) -> crate::ir::DataType {
    if zero_point == 0.0 {
        return dt;
    }
    let z = zero_point as i64;
    int_type(dt.min().saturating_sub(z), dt.max().saturating_sub(z))
}

/// A pass: name and function.
pub type PassFn = fn(&mut Graph) -> Result<bool, PassError>;

/// The streamlining pipeline, in order; run repeatedly until no pass changes the graph.
pub const PIPELINE: &[(&str, PassFn)] = &[
    (fold_constants::NAME, fold_constants::run),
    (reduce_mean::NAME, reduce_mean::run),
    (gemm_to_matmul::NAME, gemm_to_matmul::run),
    (infer_datatypes::NAME, infer_datatypes::run),
    (integerize_matmul::NAME, integerize_matmul::run),
    (absorb_thresholds::NAME, absorb_thresholds::run),
    (absorb_add::NAME, absorb_add::run),
    (absorb_concat::NAME, absorb_concat::run),
    (remove_identities::NAME, remove_identities::run),
];

/// `node` on the running value `t` of a float chain: its other inputs are the graph's
/// constants; its first output.
pub(crate) fn eval_on(
    g: &Graph,
    node: &crate::import::graph::Node,
    t: &Tensor,
) -> Result<Tensor, PassError> {
    let ins: Vec<Option<&Tensor>> = node
        .inputs
        .iter()
        .map(|i| {
            if i.is_empty() {
                None
            } else if g.is_const(i) {
                g.consts.get(i)
            } else {
                Some(t)
            }
        })
        .collect();
    exec::eval(node, &ins)
        .map_err(|e| PassError::invalid(&node.name, None, e))?
        .into_iter()
        .next()
        .ok_or_else(|| PassError::invalid(&node.name, None, "the node gives no output"))
}

/// Nodes without a reference kernel or hardware engine, all at once.
pub fn unsupported_nodes(g: &Graph) -> Vec<UnsupportedNode> {
    use crate::import::graph::Op;
    let mut out = crate::import::hardware_unsupported(&g.nodes);
    // A grouped convolution is dense (group 1) or depthwise (one weight plane an output
    // channel, group = output channels); its weights (a constant, or a quantizer of one)
    // tell which.
    let producer: std::collections::HashMap<&str, &crate::import::graph::Node> = g
        .nodes
        .iter()
        .flat_map(|n| n.outputs.iter().map(move |o| (o.as_str(), n)))
        .collect();
    for n in &g.nodes {
        let Op::Conv { group, .. } = n.op else {
            continue;
        };
        let Some(w) = n.inputs.get(1) else { continue };
        let wt = g.consts.get(w).or_else(|| {
            let p = producer.get(w.as_str())?;
            matches!(p.op, Op::Quant { .. } | Op::BipolarQuant)
                .then(|| g.consts.get(p.inputs.first()?))
                .flatten()
        });
        let Some(wt) = wt else { continue };
        let depthwise = wt.shape.get(1) == Some(&1) && wt.shape.first() == Some(&(group as usize));
        if group != 1 && !depthwise {
            let hint = format!(
                "attribute group = {group} with weights {:?}: convolutions are dense (group = 1) or depthwise \
                     (group = input channels = output channels, one weight plane each)",
                wt.shape
            );
            // one entry a node: joined to what the attribute checks found
            match out.iter_mut().find(|u| u.name == n.name) {
                Some(u) => u.hint = format!("{}; {hint}", u.hint),
                None => out.push(UnsupportedNode {
                    name: n.name.clone(),
                    op_type: n.op.type_name().into(),
                    domain: String::new(),
                    hint,
                }),
            }
        }
    }
    out
}

/// Infer every tensor's shape by running the graph on a zero input.
pub fn infer_shapes(g: &mut Graph) -> Result<(), PassError> {
    g.shapes = shapes_of(g)?;
    Ok(())
}

/// Every tensor's shape, from running the graph on a zero input (one run, `O(nodes)`).
fn shapes_of(g: &Graph) -> Result<std::collections::BTreeMap<String, Vec<usize>>, PassError> {
    let n: usize = g.input_shape.iter().product();
    let x = Tensor::f32(g.input_shape.clone(), vec![0.0; n]);
    let vals = exec::run(g, &x).map_err(|e| PassError::Invalid {
        node: e.node,
        tensor: None,
        why: format!("{} ({})", e.why, e.op),
    })?;
    Ok(vals.into_iter().map(|(k, v)| (k, v.shape)).collect())
}

/// Consistency check: topological order, every tensor has a value and the shape it had,
/// quantized constants hold values of their datatype.
pub fn verify(g: &Graph, pass: &str) -> Result<(), PassError> {
    verify_shapes(g, pass).map(|_| ())
}

/// [`verify`], returning the shapes it inferred (the graph's new `shapes`).
fn verify_shapes(
    g: &Graph,
    pass: &str,
) -> Result<std::collections::BTreeMap<String, Vec<usize>>, PassError> {
    let bug = |why: String| PassError::Verify {
        pass: pass.into(),
        why,
    };
    let mut known: std::collections::HashSet<&str> = g.consts.keys().map(String::as_str).collect();
    known.insert(&g.input);
    for n in &g.nodes {
        for i in n.inputs.iter().filter(|i| !i.is_empty()) {
            if !known.contains(i.as_str()) {
                return Err(bug(format!(
                    "node `{}` reads `{i}`, which nothing produced before it",
                    n.name
                )));
            }
        }
        for o in &n.outputs {
            if !known.insert(o) {
                return Err(bug(format!("tensor `{o}` is produced twice")));
            }
        }
    }
    for o in &g.outputs {
        if !known.contains(o.as_str()) {
            return Err(bug(format!("graph output `{o}` is no longer produced")));
        }
    }
    let shapes = shapes_of(g).map_err(|e| bug(format!("the graph no longer runs: {e}")))?;
    for (name, s) in &shapes {
        if let Some(o) = g.shapes.get(name)
            && o != s
        {
            return Err(bug(format!(
                "tensor `{name}` changed shape from {o:?} to {s:?}"
            )));
        }
    }
    for (name, q) in &g.qinfo {
        let Some(t) = g.consts.get(name) else {
            continue;
        };
        let levels = match &q.levels {
            Some(l) if l.shape == t.shape => l.clone(),
            Some(l) => {
                return Err(bug(format!(
                    "quantized constant `{name}`: levels of shape {:?} for a value of shape {:?}",
                    l.shape, t.shape
                )));
            }
            None if q.is_plain_int() => t.clone(),
            None => continue,
        };
        let bip = q.dtype == crate::ir::DataType::Bipolar;
        if let Some(bad) = levels
            .to_f32()
            .iter()
            .find(|&&x| x != x.round() || !(q.dtype.contains(x as i64) || bip && x == 0.0))
        {
            return Err(bug(format!(
                "quantized constant `{name}` holds level {bad}, not a {} value",
                q.dtype
            )));
        }
    }
    Ok(shapes)
}

/// Run the streamlining pipeline to a fixpoint, verifying after every pass that changed
/// the graph. Each pass call is one sweep over the whole graph (every rewrite it can make
/// there, its look-ups indexed once), so a sweep costs `O(nodes)` and the check after it
/// too: import is linear in the node count for a fixed network depth of rewrites.
pub fn streamline(g: &mut Graph) -> Result<Vec<&'static str>, PassError> {
    let unsupported = unsupported_nodes(g);
    if !unsupported.is_empty() {
        return Err(PassError::Unsupported { nodes: unsupported });
    }
    check_quantizers(g)?;
    check_arithmetic(g)?;
    infer_shapes(g)?;
    let mut applied = Vec::new();
    // Each pass call sweeps the whole graph; the pipeline runs until no sweep changes it.
    // Every changing sweep removes or replaces node patterns, so a bound proportional to
    // the graph size only trips on a pass that undoes another (a bug).
    let limit = 8 * (g.nodes.len() + 8);
    let mut steps = 0usize;
    loop {
        let mut any = false;
        for (name, pass) in PIPELINE {
            if !pass(g)? {
                continue;
            }
            any = true;
            steps += 1;
            if steps > limit {
                return Err(PassError::Verify {
                    pass: name.to_string(),
                    why: format!("no fixpoint after {limit} sweeps"),
                });
            }
            applied.push(*name);
            g.remove_dead();
            g.shapes = verify_shapes(g, name)?;
        }
        if !any {
            return Ok(applied);
        }
    }
}

/// Check every quantizer's constant parameters before anything computes with them: a scale
/// must be finite and positive, a zero point finite, a bit width an integer from 1 to 32 (qonnx itself turns the others into NaN or
/// infinities). Also rejects NaN or infinite values in any constant a quantizer reads.
fn check_quantizers(g: &Graph) -> Result<(), PassError> {
    use crate::import::graph::Op;
    for n in &g.nodes {
        let names: &[&str] = match &n.op {
            Op::Quant { .. } => &["scale", "zero point", "bit width"],
            Op::BipolarQuant => &["scale"],
            // v1: x, scale, zero point, input bit width, output bit width; v2 (6 inputs)
            // has the output scale before the output bit width
            Op::Trunc { .. } if n.inputs.len() <= 5 => {
                &["scale", "zero point", "input bit width", "output bit width"]
            }
            Op::Trunc { .. } => &[
                "scale",
                "zero point",
                "input bit width",
                "scale",
                "output bit width",
            ],
            _ => continue,
        };
        let bad = |what: &str, t: &str, why: String| {
            Err(PassError::invalid(
                &n.name,
                Some(t),
                format!(
                    "{} {what} {why}; export the model again with a valid quantizer",
                    n.op.type_name()
                ),
            ))
        };
        if let Some(w) = n.inputs.first().and_then(|t| g.consts.get(t))
            && let Some(x) = w.to_f32().iter().find(|x| !x.is_finite())
        {
            return bad(
                "input (weights)",
                &n.inputs[0],
                format!("holds {x}: every weight must be finite"),
            );
        }
        let consts: Vec<Option<(&str, Vec<f32>)>> = n
            .inputs
            .iter()
            .skip(1)
            .zip(names)
            .map(|(t, what)| g.consts.get(t).map(|c| (*what, c.to_f32())))
            .collect();
        for ((t, c), _) in n.inputs.iter().skip(1).zip(&consts).zip(names) {
            let Some((what, v)) = c else { continue };
            if let Some(x) = v.iter().find(|x| !x.is_finite()) {
                return bad(what, t, format!("holds {x}: every value must be finite"));
            }
            if *what == "scale"
                && let Some(x) = v.iter().find(|x| **x <= 0.0)
            {
                return bad(what, t, format!("holds {x}: a scale must be positive"));
            }
            if what.contains("bit width")
                && let Some(x) = v
                    .iter()
                    .find(|x| x.fract() != 0.0 || **x < 1.0 || **x > 32.0)
            {
                return bad(
                    what,
                    t,
                    format!("is {x}: an integer from 1 to 32 is needed"),
                );
            }
        }
        // qonnx Quant: the zero point is an integer level, inside [min_int, max_int] of
        // the bit width (else float 0 has no level and qonnx clips the values oddly)
        if let Op::Quant { signed, narrow, .. } = &n.op
            && let (Some(Some((_, z))), Some(Some((_, b)))) = (consts.get(1), consts.get(2))
            && let Some(&bits) = b.first().filter(|_| b.len() == 1)
        {
            let (lo, hi) = crate::ir::host::quant_range(bits as u32, *signed, *narrow);
            if let Some(x) = z.iter().find(|x| **x < lo as f32 || **x > hi as f32) {
                return bad(
                    "zero point",
                    &n.inputs[2],
                    format!(
                        "is {x}, outside the {bits}-bit {} integer range {lo}..={hi}{}: \
                         the zero point must be one of the quantizer's levels",
                        if *signed { "signed" } else { "unsigned" },
                        if *narrow { " (narrow)" } else { "" }
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Check the constants of the float arithmetic streamlining folds into thresholds and
/// host steps: every constant operand finite, no division by a constant 0, a Gemm's
/// `alpha` and `beta` finite. qonnx would compute NaN or infinities from them, which no
/// threshold or integer represents; the error names the node.
fn check_arithmetic(g: &Graph) -> Result<(), PassError> {
    use crate::import::graph::Op;
    for n in &g.nodes {
        let arith = matches!(
            n.op,
            Op::Add
                | Op::Sub
                | Op::Mul
                | Op::Div
                | Op::Pow
                | Op::BatchNorm { .. }
                | Op::Gemm { .. }
                | Op::MatMul
                | Op::Conv { .. }
        );
        if !arith {
            continue;
        }
        let bad = |t: Option<&str>, why: String| {
            Err(PassError::invalid(
                &n.name,
                t,
                format!(
                    "{} {why}: the result is not finite (qonnx computes NaN or infinity); \
                     export the model again with finite parameters",
                    n.op.type_name()
                ),
            ))
        };
        if let Op::Gemm { alpha, beta, .. } = n.op {
            for (what, v) in [("alpha", alpha), ("beta", beta)] {
                if !v.is_finite() {
                    return bad(None, format!("attribute {what} = {v}"));
                }
            }
        }
        for (i, t) in n.inputs.iter().enumerate() {
            let Some(c) = g.consts.get(t) else { continue };
            let v = c.to_f32();
            if let Some(x) = v.iter().find(|x| !x.is_finite()) {
                return bad(Some(t), format!("reads constant `{t}` holding {x}"));
            }
            if n.op == Op::Div && i == 1 && v.contains(&0.0) {
                return bad(Some(t), format!("divides by constant `{t}`, which holds 0"));
            }
        }
    }
    Ok(())
}

/// The quantizer already on the graph input, if any: the first Quant, BipolarQuant, Trunc
/// or MultiThreshold on the single-consumer path from the input, before any MatMul, Gemm
/// or Conv.
fn input_quantizer(g: &Graph) -> Option<String> {
    use crate::import::graph::Op;
    let index = g.index();
    let mut cur = g.input.clone();
    loop {
        let [c] = index.consumers(&cur) else {
            return None;
        };
        let n = &g.nodes[*c];
        match n.op {
            Op::Quant { .. } | Op::BipolarQuant | Op::Trunc { .. } | Op::MultiThreshold { .. } => {
                return Some(n.name.clone());
            }
            Op::MatMul | Op::Gemm { .. } | Op::Conv { .. } => return None,
            _ => cur = n.outputs.first()?.clone(),
        }
    }
}

/// Give the graph input the declared datatype: the model's annotation
/// (`g.declared_input`) or `flag` (`--input-type`). The input is then quantized to it by a
/// quantizer ferrite puts first (qonnx `Quant` with scale `2^-(W-I)`, zero point 0, round
/// half to even, clipping to the range; `BipolarQuant` for BIPOLAR), which lowering makes
/// the host's `Quantize` step. An annotated input keeps the annotation as a check on every
/// frame (lowering adds an `Expect` step). An annotation on an input that a quantizer
/// already reads is left alone; `--input-type` on such an input is an error, as is a flag
/// that contradicts the annotation.
pub fn declare_input(g: &mut Graph, flag: Option<crate::ir::InputType>) -> Result<(), PassError> {
    use crate::import::graph::{Node, Op};
    use crate::ir::{DataType, DeclaredBy, InputType};
    let input = g.input.clone();
    let (ty, by) = match (g.declared_input, flag) {
        (Some((a, _)), Some(f)) if a != f => {
            return Err(PassError::invalid(
                "graph input",
                Some(&input),
                format!(
                    "the model annotates the input as {a} (finn_datatype) and --input-type \
                     says {f}; drop --input-type or pass --input-type {a}"
                ),
            ));
        }
        (Some(d), _) => d,
        (None, Some(f)) => (f, DeclaredBy::Flag),
        (None, None) => return Ok(()),
    };
    if let Some(q) = input_quantizer(g) {
        if by == DeclaredBy::Flag && g.declared_input.is_none() {
            return Err(PassError::invalid(
                "graph input",
                Some(&input),
                format!(
                    "the model quantizes its input already (node `{q}`); --input-type is for \
                     a float input without a quantizer: drop it"
                ),
            ));
        }
        g.declared_input = None;
        return Ok(());
    }
    g.declared_input = Some((ty, by));
    let mut names = g.names();
    let q = names.fresh(&format!("{input}_declared"));
    for n in &mut g.nodes {
        for i in &mut n.inputs {
            if *i == input {
                *i = q.clone();
            }
        }
    }
    let mut konst = |what: &str, v: f32, g: &mut Graph| {
        let k = names.fresh(&format!("{input}_declared_{what}"));
        g.consts.insert(k.clone(), Tensor::scalar(v));
        k
    };
    let scale = konst("scale", ty.scale(), g);
    let node = if ty == InputType::Int(DataType::Bipolar) {
        Node {
            name: format!("{input}_input_type"),
            op: Op::BipolarQuant,
            inputs: vec![input.clone(), scale],
            outputs: vec![q],
        }
    } else {
        let dt = ty.dtype();
        let signed = matches!(dt, DataType::Int(_));
        let zero = konst("zero_point", 0.0, g);
        let bits = konst("bits", dt.bits() as f32, g);
        Node {
            name: format!("{input}_input_type"),
            op: Op::Quant {
                signed,
                narrow: false,
                rounding: crate::ir::host::RoundingMode::Round,
            },
            inputs: vec![input.clone(), scale, zero, bits],
            outputs: vec![q],
        }
    };
    g.nodes.insert(0, node);
    Ok(())
}

/// Streamline an imported graph and lower it to the IR, naming the model `name`.
pub fn compile_graph(g: &mut Graph, name: &str) -> Result<crate::ir::Model, PassError> {
    compile_graph_with(g, name, None)
}

/// [`compile_graph`] with a declared input type (`--input-type`).
pub fn compile_graph_with(
    g: &mut Graph,
    name: &str,
    input_type: Option<crate::ir::InputType>,
) -> Result<crate::ir::Model, PassError> {
    declare_input(g, input_type)?;
    streamline(g)?;
    lower::lower(g, name)
}
