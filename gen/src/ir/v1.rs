//! Version 1 of the IR JSON: a chain of layers. Loaded into a version-2 chain graph.

use super::{
    DataType, GraphInput, HostStep, IR_VERSION, IrError, LabelSelect, MatrixVector, Model, Node,
    Op, Provenance, Source, TensorType, Thresholding, Thresholds,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelV1 {
    /// 1 (read by the version check before this struct)
    #[serde(default)]
    #[allow(dead_code)]
    ir_version: u32,
    name: String,
    input: StreamV1,
    layers: Vec<LayerV1>,
    #[serde(default)]
    pre: Vec<HostStep>,
    #[serde(default)]
    post: Vec<HostStep>,
    #[serde(default)]
    source: Option<Provenance>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamV1 {
    shape: Vec<usize>,
    dtype: DataType,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(tag = "kind")]
enum LayerV1 {
    MatrixVector {
        name: String,
        mw: usize,
        mh: usize,
        input_type: DataType,
        weight_type: DataType,
        weights: Vec<i64>,
        #[serde(default)]
        thresholds: Option<Thresholds>,
        #[serde(default)]
        origin: Option<String>,
    },
    Thresholding {
        name: String,
        elems: usize,
        channels: usize,
        input_type: DataType,
        thresholds: Thresholds,
        #[serde(default)]
        origin: Option<String>,
    },
    LabelSelect {
        name: String,
        labels: usize,
        k: usize,
        input_type: DataType,
        #[serde(default)]
        origin: Option<String>,
    },
}

/// A version-1 model as a chain graph (1x1xN vectors between the layers).
pub(super) fn load(text: &str, path: &str) -> Result<Model, IrError> {
    let m: ModelV1 = serde_json::from_str(text).map_err(|err| IrError::Json {
        path: path.into(),
        err,
    })?;
    let elems: usize = m.input.shape.iter().product();
    let mut nodes = Vec::with_capacity(m.layers.len());
    let mut prev = Source::input("input");
    let mut cur_elems = elems;
    for l in m.layers {
        let (name, op, origin) = match l {
            LayerV1::MatrixVector {
                name,
                mw,
                mh,
                input_type,
                weight_type,
                weights,
                thresholds,
                origin,
            } => (
                name,
                Op::MatrixVector(MatrixVector {
                    mw,
                    mh,
                    input_type,
                    weight_type,
                    weights,
                    thresholds,
                }),
                origin,
            ),
            LayerV1::Thresholding {
                name,
                elems: te,
                channels,
                input_type,
                thresholds,
                origin,
            } => {
                if te != cur_elems {
                    return Err(IrError::Node {
                        node: name,
                        kind: "Thresholding",
                        why: format!(
                            "takes {te} elements but the previous stage gives {cur_elems}; \
                             make them equal"
                        ),
                    });
                }
                (
                    name,
                    Op::Thresholding(Thresholding {
                        channels,
                        input_type,
                        thresholds,
                    }),
                    origin,
                )
            }
            LayerV1::LabelSelect {
                name,
                labels,
                k,
                input_type,
                origin,
            } => (
                name,
                Op::LabelSelect(LabelSelect {
                    labels,
                    k,
                    input_type,
                }),
                origin,
            ),
        };
        cur_elems = match &op {
            Op::MatrixVector(v) => v.mh,
            Op::Thresholding(_) => cur_elems,
            Op::LabelSelect(l) => l.k,
            _ => unreachable!("version 1 has no such layers"),
        };
        nodes.push(Node {
            name: name.clone(),
            inputs: vec![prev],
            op,
            origin,
        });
        prev = Source::node(&name, 0);
    }
    Ok(Model {
        ir_version: IR_VERSION,
        name: m.name,
        inputs: vec![GraphInput {
            name: "input".into(),
            tensor: TensorType::vector(elems, m.input.dtype),
            shape: m.input.shape,
        }],
        nodes,
        outputs: vec![prev],
        pre: m.pre,
        post: m.post,
        source: m.source,
        declared_input: None,
    })
}
