//! Builders for small ONNX models in tests (prost messages, no Python).
#![allow(dead_code)]

use ferrite_gen::import::onnx::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
    attribute_proto::AttributeType,
    tensor_shape_proto::{Dimension, dimension},
    type_proto,
};
use prost::Message;

pub const FLOAT: i32 = 1;
pub const INT64: i32 = 7;

/// A float tensor in `raw_data` (little-endian), as exporters write it.
pub fn raw_f32(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(FLOAT),
        raw_data: Some(v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        ..Default::default()
    }
}

/// A float tensor in the typed `float_data` field.
pub fn typed_f32(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(FLOAT),
        float_data: v.to_vec(),
        ..Default::default()
    }
}

pub fn i64s(name: &str, dims: &[i64], v: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(INT64),
        int64_data: v.to_vec(),
        ..Default::default()
    }
}

pub fn scalar(name: &str, v: f32) -> TensorProto {
    raw_f32(name, &[], &[v])
}

pub enum A {
    I(i64),
    F(f32),
    S(&'static str),
    Ints(Vec<i64>),
}

pub fn node(
    op: &str,
    domain: &str,
    name: &str,
    ins: &[&str],
    outs: &[&str],
    attrs: Vec<(&str, A)>,
) -> NodeProto {
    NodeProto {
        name: Some(name.into()),
        op_type: Some(op.into()),
        domain: Some(domain.into()),
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: outs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs
            .into_iter()
            .map(|(k, v)| {
                let mut a = AttributeProto {
                    name: Some(k.into()),
                    ..Default::default()
                };
                match v {
                    A::I(i) => {
                        a.i = Some(i);
                        a.r#type = Some(AttributeType::Int as i32);
                    }
                    A::F(f) => {
                        a.f = Some(f);
                        a.r#type = Some(AttributeType::Float as i32);
                    }
                    A::S(s) => {
                        a.s = Some(s.as_bytes().to_vec());
                        a.r#type = Some(AttributeType::String as i32);
                    }
                    A::Ints(v) => {
                        a.ints = v;
                        a.r#type = Some(AttributeType::Ints as i32);
                    }
                }
                a
            })
            .collect(),
        ..Default::default()
    }
}

pub fn value_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(FLOAT),
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| Dimension {
                            value: Some(dimension::Value::DimValue(d)),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A model: one input, one output, IR version and default opset as given, plus the
/// qonnx custom domain.
pub fn model(
    ir: i64,
    opset: i64,
    input: (&str, &[i64]),
    output: &str,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
) -> Vec<u8> {
    let m = ModelProto {
        ir_version: Some(ir),
        opset_import: vec![
            OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(opset),
            },
            OperatorSetIdProto {
                domain: Some("qonnx.custom_op.general".into()),
                version: Some(1),
            },
        ],
        graph: Some(GraphProto {
            name: Some("test".into()),
            node: nodes,
            initializer: inits,
            input: vec![value_info(input.0, input.1)],
            output: vec![value_info(output, &[])],
            ..Default::default()
        }),
        ..Default::default()
    };
    m.encode_to_vec()
}

pub const Q: &str = "qonnx.custom_op.general";

#[allow(clippy::too_many_arguments)]
/// Quant node `x -> out` with scalar scale/zero point/bits initializers named after `out`.
pub fn quant(
    x: &str,
    out: &str,
    scale: f32,
    zp: f32,
    bits: f32,
    signed: bool,
    narrow: bool,
    mode: &'static str,
    inits: &mut Vec<TensorProto>,
) -> NodeProto {
    let (s, z, b) = (format!("{out}_s"), format!("{out}_z"), format!("{out}_b"));
    inits.push(scalar(&s, scale));
    inits.push(scalar(&z, zp));
    inits.push(scalar(&b, bits));
    node(
        "Quant",
        Q,
        &format!("{out}_quant"),
        &[x, &s, &z, &b],
        &[out],
        vec![
            ("signed", A::I(signed as i64)),
            ("narrow", A::I(narrow as i64)),
            ("rounding_mode", A::S(mode)),
        ],
    )
}
