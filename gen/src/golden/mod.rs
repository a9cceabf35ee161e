//! Bit-accurate golden model of the integer IR.
//!
//! The graph is evaluated node by node in topological order; each node's values come from
//! its op's [`OpKind::eval`](crate::ir::OpKind::eval) (plain, obviously right) or, in
//! [`Golden`], from a prepared fast form property-tested equal to it.
//!
//! Architecture invariant: reads only `ir`; folding never changes values, so the golden
//! model never sees `fold`, `stitch` or `emit`.

mod fast;

pub use fast::Golden;

pub mod host;

use crate::ir::{Analysis, Model, Source};
use ndarray::{Array2, ArrayView2, Axis};

/// Every node's output frames on one input frame: `values[node][port]`.
pub type NodeValues = Vec<Vec<Vec<i64>>>;

/// Evaluate the graph on one frame with `eval(node, inputs)` giving a node's outputs.
pub(crate) fn walk(
    model: &Model,
    a: &Analysis,
    x: &[i64],
    mut eval: impl FnMut(usize, &[&[i64]]) -> Vec<Vec<i64>>,
) -> NodeValues {
    assert_eq!(
        x.len(),
        model.input().tensor.elems(),
        "input frame length of `{}`",
        model.name
    );
    let mut values: NodeValues = vec![Vec::new(); model.nodes.len()];
    for &id in &a.order {
        let n = &model.nodes[id];
        let ins: Vec<&[i64]> = n
            .inputs
            .iter()
            .map(|s| match s {
                Source::Input { .. } => x,
                Source::Node { node, port } => values[a.by_name[node]][*port].as_slice(),
            })
            .collect();
        let out = eval(id, &ins);
        values[id] = out;
    }
    values
}

/// The graph output from every node's values.
pub(crate) fn output_of(a: &Analysis, model: &Model, values: &NodeValues) -> Vec<i64> {
    match &model.outputs[0] {
        Source::Node { node, port } => values[a.by_name[node]][*port].clone(),
        Source::Input { .. } => unreachable!("validated: an output is a node's"),
    }
}

/// Every node's outputs on one frame, with the plain evaluation (for `cosim --trace` and
/// as the reference of [`Golden`]). The model must be valid.
pub fn run_trace(model: &Model, x: &[i64]) -> NodeValues {
    let a = model.analyze().expect("a validated model");
    walk(model, &a, x, |id, ins| {
        model.nodes[id].op.as_kind().eval(&a.in_types[id], ins)
    })
}

/// The hardware part of the model on one integer frame (plain evaluation).
pub fn run_frame(model: &Model, x: &[i64]) -> Vec<i64> {
    let a = model.analyze().expect("a validated model");
    let v = walk(model, &a, x, |id, ins| {
        model.nodes[id].op.as_kind().eval(&a.in_types[id], ins)
    });
    output_of(&a, model, &v)
}

/// A batch of integer frames, one per row.
pub fn run_batch(model: &Model, x: ArrayView2<i64>) -> Array2<i64> {
    let g = Golden::new(model);
    let rows: Vec<Vec<i64>> = x
        .axis_iter(Axis(0))
        .map(|r| g.run_frame(&r.to_vec()))
        .collect();
    let n = g.output_elems();
    Array2::from_shape_vec((rows.len(), n), rows.concat())
        .expect("every frame has the model's output size")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DataType, LabelSelect, MatrixVector, Op, OpKind, TensorType, Thresholds};

    #[test]
    fn label_select_ties_go_to_lower_index() {
        let l = LabelSelect {
            labels: 5,
            k: 3,
            input_type: DataType::Int(4),
        };
        let t = [TensorType::vector(5, DataType::Int(4))];
        assert_eq!(l.eval(&t, &[&[1, 7, 3, 7, 3]]), vec![vec![1, 3, 2]]);
    }

    #[test]
    fn matrix_vector_with_thresholds_on_every_pixel() {
        let l = MatrixVector {
            mw: 3,
            mh: 2,
            input_type: DataType::Int(2),
            weight_type: DataType::Int(2),
            weights: vec![1, -2, 1, -1, -1, -1],
            thresholds: Some(Thresholds {
                rows: vec![vec![0], vec![2]],
                out_type: DataType::Bipolar,
                out_bias: 0,
            }),
        };
        // acc = [1*1 + -2*-1 + 1*1, -1 - -1 - 1] = [4, -1]; row 0: 4 >= 0 -> +1, row 1: -1 < 2 -> -1
        let t = [TensorType::new([1, 2, 3], DataType::Int(2))];
        assert_eq!(
            l.eval(&t, &[&[1, -1, 1, 0, 0, 0]]),
            vec![vec![1, -1, 1, -1]]
        );
        let m = Model::chain(
            "t",
            TensorType::new([1, 2, 3], DataType::Int(2)),
            [("fc".to_string(), Op::MatrixVector(l), None)],
        );
        assert_eq!(run_frame(&m, &[1, -1, 1, 0, 0, 0]), vec![1, -1, 1, -1]);
    }
}
