//! Writes a QONNX model with N chained Identity nodes between an input quantizer and a
//! quantized MatMul (the import-time benchmark of docs/BENCHMARKS.md):
//! `cargo run --release -p ferrite-gen --example identity_chain -- N out.onnx`.

use ferrite_gen::import::onnx::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
    tensor_shape_proto::Dimension, tensor_shape_proto::dimension, type_proto,
};
use prost::Message;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(out)) = (args.get(1).and_then(|n| n.parse().ok()), args.get(2)) else {
        eprintln!("usage: identity_chain N OUT.onnx");
        return std::process::ExitCode::FAILURE;
    };
    if let Err(e) = std::fs::write(out, identity_chain(n)) {
        eprintln!("{out}: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// `x[1,4] -> Quant(INT4) -> n x Identity -> MatMul(Quant(INT2) weights [4,3]) -> y`.
pub fn identity_chain(n: usize) -> Vec<u8> {
    let scalar = |name: &str, v: f32| TensorProto {
        name: Some(name.into()),
        data_type: Some(1),
        float_data: vec![v],
        ..Default::default()
    };
    let mut inits = vec![
        scalar("s", 1.0),
        scalar("z", 0.0),
        scalar("b4", 4.0),
        scalar("b2", 2.0),
        TensorProto {
            name: Some("w".into()),
            dims: vec![4, 3],
            data_type: Some(1),
            float_data: (0..12).map(|i| (i % 3) as f32 - 1.0).collect(),
            ..Default::default()
        },
    ];
    inits.shrink_to_fit();
    let attr_i = |k: &str, v: i64| AttributeProto {
        name: Some(k.into()),
        i: Some(v),
        r#type: Some(AttributeType::Int as i32),
        ..Default::default()
    };
    let node = |op: &str, dom: &str, name: String, ins: &[&str], outs: &[String]| NodeProto {
        name: Some(name),
        op_type: Some(op.into()),
        domain: Some(dom.into()),
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: outs.to_vec(),
        attribute: if op == "Quant" {
            vec![attr_i("signed", 1), attr_i("narrow", 0)]
        } else {
            vec![]
        },
        ..Default::default()
    };
    let q = "qonnx.custom_op.general";
    let mut nodes = vec![
        node(
            "Quant",
            q,
            "xq".into(),
            &["x", "s", "z", "b4"],
            &["t0".into()],
        ),
        node(
            "Quant",
            q,
            "wq".into(),
            &["w", "s", "z", "b2"],
            &["wq".into()],
        ),
    ];
    for i in 0..n {
        let (a, b) = (format!("t{i}"), format!("t{}", i + 1));
        nodes.push(node("Identity", "", format!("id{i}"), &[&a], &[b]));
    }
    let last = format!("t{n}");
    nodes.push(node(
        "MatMul",
        "",
        "fc".into(),
        &[&last, "wq"],
        &["y".into()],
    ));
    let vi = |name: &str, dims: &[i64]| ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(1),
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
    };
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![
            OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(13),
            },
            OperatorSetIdProto {
                domain: Some(q.into()),
                version: Some(1),
            },
        ],
        graph: Some(GraphProto {
            name: Some("chain".into()),
            node: nodes,
            initializer: inits,
            input: vec![vi("x", &[1, 4])],
            output: vec![vi("y", &[1, 3])],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}
