//! Bit-accurate golden model of the integer IR.
//!
//! Architecture invariant: reads only `ir`; folding never changes values, so the golden
//! model never sees `fold` or `emit`.

mod fast;

pub use fast::Golden;

pub mod host;

use crate::ir::{LabelSelect, Layer, MatrixVector, Model, Thresholding};
use ndarray::{Array2, ArrayView2, Axis};

/// One layer on one frame.
pub fn run_layer(layer: &Layer, x: &[i64]) -> Vec<i64> {
    assert_eq!(
        x.len(),
        layer.in_elems(),
        "layer `{}` input length",
        layer.name()
    );
    match layer {
        Layer::MatrixVector(l) => matrix_vector(l, x),
        Layer::Thresholding(l) => thresholding(l, x),
        Layer::LabelSelect(l) => label_select(l, x),
    }
}

fn matrix_vector(l: &MatrixVector, x: &[i64]) -> Vec<i64> {
    l.weights
        .chunks_exact(l.mw)
        .enumerate()
        .map(|(h, row)| {
            let acc: i64 = row.iter().zip(x).map(|(w, v)| w * v).sum();
            match &l.thresholds {
                Some(t) => t.apply(h, acc),
                None => acc,
            }
        })
        .collect()
}

fn thresholding(l: &Thresholding, x: &[i64]) -> Vec<i64> {
    x.iter()
        .enumerate()
        .map(|(i, &v)| l.thresholds.apply(i % l.channels, v))
        .collect()
}

fn label_select(l: &LabelSelect, x: &[i64]) -> Vec<i64> {
    let mut idx: Vec<usize> = (0..l.labels).collect();
    // Stable sort, descending by value: equal values keep the lower index first.
    idx.sort_by(|&a, &b| x[b].cmp(&x[a]));
    idx.into_iter().take(l.k).map(|i| i as i64).collect()
}

/// The hardware part of the model on one integer frame.
pub fn run_frame(model: &Model, x: &[i64]) -> Vec<i64> {
    model
        .layers
        .iter()
        .fold(x.to_vec(), |v, l| run_layer(l, &v))
}

/// Every layer's output on one frame, in layer order (for `cosim --trace`).
pub fn run_trace(model: &Model, x: &[i64]) -> Vec<Vec<i64>> {
    let mut out = Vec::with_capacity(model.layers.len());
    let mut v = x.to_vec();
    for l in &model.layers {
        v = run_layer(l, &v);
        out.push(v.clone());
    }
    out
}

/// A batch of integer frames, one per row.
pub fn run_batch(model: &Model, x: ArrayView2<i64>) -> Array2<i64> {
    let g = Golden::new(model);
    let rows: Vec<Vec<i64>> = x
        .axis_iter(Axis(0))
        .map(|r| g.run_frame(&r.to_vec()))
        .collect();
    let n = model.output_elems();
    Array2::from_shape_vec((rows.len(), n), rows.concat())
        .expect("every frame has the model's output size")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DataType, Thresholds};

    #[test]
    fn label_select_ties_go_to_lower_index() {
        let l = Layer::LabelSelect(LabelSelect {
            name: "top".into(),
            labels: 5,
            k: 3,
            input_type: DataType::Int(4),
            origin: None,
        });
        assert_eq!(run_layer(&l, &[1, 7, 3, 7, 3]), vec![1, 3, 2]);
    }

    #[test]
    fn matrix_vector_with_thresholds() {
        let l = Layer::MatrixVector(MatrixVector {
            name: "fc".into(),
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
            origin: None,
        });
        // acc = [1*1 + -2*-1 + 1*1, -1 - -1 - 1] = [4, -1]; row 0: 4 >= 0 -> +1, row 1: -1 < 2 -> -1
        assert_eq!(run_layer(&l, &[1, -1, 1]), vec![1, -1]);
    }
}
