//! Constant folding: every node whose inputs are all constant (or, for `Shape`, whose input
//! has a static shape) is evaluated with the reference executor and replaced by its value.
//! This turns the `Shape -> Gather -> Unsqueeze -> Concat -> Reshape` chains exporters emit
//! into a constant `Reshape` target, and quantizers on constant weights into quantized
//! constants: the folded value keeps its datatype, scale and zero point in `Graph::qinfo`
//! (carried through `Transpose`/`Reshape`/... of such constants).

use super::PassError;
use crate::import::exec;
use crate::import::graph::{Edits, Graph, Op, QInfo, Tensor};
use crate::ir::DataType;

pub const NAME: &str = "fold-constants";

/// Datatype of a qonnx `Quant` of `bits` bits.
pub fn quant_dtype(bits: u32, signed: bool, narrow: bool) -> DataType {
    let _ = narrow;
    match (bits, signed) {
        (1, true) => DataType::Bipolar,
        (1, false) => DataType::Binary,
        (b, true) => DataType::Int(b),
        (b, false) => DataType::UInt(b),
    }
}

pub fn run(g: &mut Graph) -> Result<bool, PassError> {
    // one sweep in graph order (a folded value is constant for the nodes after it); the
    // folded nodes are removed at the end, at once
    let mut edits = Edits::default();
    for i in 0..g.nodes.len() {
        let node = &g.nodes[i];
        let all_const = node.inputs.iter().all(|n| n.is_empty() || g.is_const(n));
        let static_shape = matches!(node.op, Op::Shape { .. });
        if !(all_const || static_shape) {
            continue;
        }
        let node = node.clone();
        let err = |why: String| {
            PassError::invalid(&node.name, None, format!("{why} ({})", node.op.type_name()))
        };
        let outs = if static_shape && !all_const {
            let shape = g.shapes.get(&node.inputs[0]).cloned().ok_or_else(|| {
                PassError::invalid(
                    &node.name,
                    Some(&node.inputs[0]),
                    "tensor has no known shape",
                )
            })?;
            let n: usize = shape.iter().product();
            let dummy = Tensor::f32(shape, vec![0.0; n]);
            exec::eval(&node, &[Some(&dummy)]).map_err(err)?
        } else {
            let ins: Vec<Option<&Tensor>> = node
                .inputs
                .iter()
                .map(|n| if n.is_empty() { None } else { g.consts.get(n) })
                .collect();
            exec::eval(&node, &ins).map_err(err)?
        };
        // Datatype of the folded value.
        let q = match &node.op {
            Op::Quant { signed, narrow, .. } => {
                let bits = g.consts[&node.inputs[3]].single_f32().unwrap_or(0.0) as u32;
                let Op::Quant { rounding, .. } = &node.op else {
                    unreachable!()
                };
                let (s, z) = (&g.consts[&node.inputs[1]], &g.consts[&node.inputs[2]]);
                let levels = exec::quant_levels(
                    &g.consts[&node.inputs[0]],
                    s,
                    z,
                    bits,
                    *signed,
                    *narrow,
                    *rounding,
                )
                .map_err(|e| PassError::invalid(&node.name, None, e))?;
                Some(QInfo {
                    dtype: quant_dtype(bits, *signed, *narrow),
                    scale: s.clone(),
                    zero_point: z.clone(),
                    levels: Some(levels),
                })
            }
            Op::BipolarQuant => {
                let x = &g.consts[&node.inputs[0]];
                let levels = exec::binary(x, &g.consts[&node.inputs[1]], |v, _| {
                    if v >= 0.0 { 1.0 } else { -1.0 }
                })
                .map_err(|e| PassError::invalid(&node.name, None, e))?;
                Some(QInfo {
                    dtype: DataType::Bipolar,
                    scale: g.consts[&node.inputs[1]].clone(),
                    zero_point: Tensor::scalar(0.0),
                    levels: Some(levels),
                })
            }
            Op::Transpose { .. }
            | Op::Reshape { .. }
            | Op::Flatten { .. }
            | Op::Identity
            | Op::Squeeze { .. }
            | Op::Unsqueeze { .. } => match g.qinfo.get(&node.inputs[0]) {
                Some(q) => Some(carry(&node, q, &g.consts[&node.inputs[0]], g)?),
                None => None,
            },
            _ => None,
        };
        for (name, t) in node.outputs.iter().zip(outs) {
            if let Some(x) = t.as_f32().and_then(|v| v.iter().find(|x| !x.is_finite())) {
                return Err(PassError::invalid(
                    &node.name,
                    Some(name),
                    format!(
                        "{} on constants computes {x}: the value is not finite; export the \
                         model again with finite parameters",
                        node.op.type_name()
                    ),
                ));
            }
            g.consts.insert(name.clone(), t);
        }
        if let Some(q) = q {
            g.qinfo.insert(node.outputs[0].clone(), q);
        }
        edits.remove(i);
    }
    let changed = !edits.is_empty();
    g.apply(edits);
    Ok(changed)
}

/// The datatype of a layout op's output on a quantized constant: scale and zero point
/// follow the values (broadcast to the full shape, then moved by the same op).
fn carry(
    node: &crate::import::graph::Node,
    q: &QInfo,
    x: &Tensor,
    g: &Graph,
) -> Result<QInfo, PassError> {
    let mv = |p: &Tensor| -> Result<Tensor, PassError> {
        if p.len() == 1 {
            return Ok(p.clone());
        }
        let full = exec::binary(
            &Tensor::f32(x.shape.clone(), vec![0.0; x.len()]),
            p,
            |_, b| b,
        )
        .map_err(|e| PassError::invalid(&node.name, None, e))?;
        let mut ins: Vec<Option<&Tensor>> = vec![Some(&full)];
        for n in &node.inputs[1..] {
            ins.push(if n.is_empty() { None } else { g.consts.get(n) });
        }
        let out = exec::eval(node, &ins).map_err(|e| PassError::invalid(&node.name, None, e))?;
        Ok(out.into_iter().next().unwrap_or(full))
    };
    let levels = match &q.levels {
        Some(l) => {
            let mut ins: Vec<Option<&Tensor>> = vec![Some(l)];
            for n in &node.inputs[1..] {
                ins.push(if n.is_empty() { None } else { g.consts.get(n) });
            }
            exec::eval(node, &ins)
                .map_err(|e| PassError::invalid(&node.name, None, e))?
                .into_iter()
                .next()
        }
        None => None,
    };
    Ok(QInfo {
        dtype: q.dtype,
        scale: mv(&q.scale)?,
        zero_point: mv(&q.zero_point)?,
        levels,
    })
}
