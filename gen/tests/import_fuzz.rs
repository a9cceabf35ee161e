//! Arbitrary, truncated and mutated ONNX bytes never panic the importer, the passes or the
//! lowering: they either compile or return an error.

mod import_util;

use ferrite_gen::import::import_bytes;
use ferrite_gen::passes;
use proptest::prelude::*;
use std::sync::OnceLock;

/// A convolutional example (padded convs, overlapping max pool, 1-D convs, residual adds,
/// depthwise convolutions) as a seed.
fn cnn(name: &str) -> &'static [u8] {
    static PAD: OnceLock<Vec<u8>> = OnceLock::new();
    static KWS: OnceLock<Vec<u8>> = OnceLock::new();
    static RES: OnceLock<Vec<u8>> = OnceLock::new();
    static MOB: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = match name {
        "cnn_pad_w4a4" => &PAD,
        "resnet_w4a4" => &RES,
        "mobilenet_w4a4" => &MOB,
        _ => &KWS,
    };
    cell.get_or_init(|| {
        let p =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/").to_string() + name + "/model.onnx";
        std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    })
}

fn tfc(name: &str) -> &'static [u8] {
    static ONE: OnceLock<Vec<u8>> = OnceLock::new();
    static TWO: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = if name == "TFC_1W1A" { &ONE } else { &TWO };
    cell.get_or_init(|| {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/models/").to_string()
            + name
            + "/model.onnx";
        std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    })
}

/// Case count: the default, or `FERRITE_FUZZ_CASES` for a longer local run.
fn cases(default: u32) -> u32 {
    std::env::var("FERRITE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The whole front end on some bytes; Ok(true) when it compiled.
fn compile(bytes: &[u8]) -> bool {
    let Ok(mut g) = import_bytes(bytes, "fuzz.onnx", None) else {
        return false;
    };
    if passes::streamline(&mut g).is_err() {
        return false;
    }
    passes::lower::lower(&g, "fuzz").is_ok()
}

#[test]
fn unmodified_models_compile() {
    assert!(compile(tfc("TFC_1W1A")));
    assert!(compile(tfc("TFC_2W2A")));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        compile(&bytes);
    }

    #[test]
    fn truncated_models_never_panic(which in any::<bool>(), cut in 0.0f64..1.0) {
        let b = tfc(if which { "TFC_1W1A" } else { "TFC_2W2A" });
        let n = (b.len() as f64 * cut) as usize;
        // A cut model never compiles: the graph ends early or the protobuf is broken.
        prop_assert!(!compile(&b[..n]) || n == b.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(160), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_models_never_panic(
        which in any::<bool>(),
        edits in prop::collection::vec((0.0f64..1.0, any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut b = tfc(if which { "TFC_1W1A" } else { "TFC_2W2A" }).to_vec();
        // Half of the edits hit the first 4 KiB (the nodes, attributes and small
        // initializers are serialized first); the rest land anywhere (mostly weights).
        for (pos, byte, kind) in edits {
            let span = if byte % 2 == 0 { 4096.min(b.len()) } else { b.len() };
            let i = ((span as f64) * pos) as usize % b.len();
            match kind {
                0 => b[i] = byte,
                1 => b[i] ^= 1 << (byte % 8),
                _ => { b.remove(i); }
            }
        }
        compile(&b);
    }
}

const OPS: &[&str] = &[
    "MatMul",
    "Gemm",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Round",
    "BatchNormalization",
    "Relu",
    "Sign",
    "Flatten",
    "Reshape",
    "Transpose",
    "Identity",
    "TopK",
    "ArgMax",
    "Softmax",
    "Shape",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Concat",
    "Conv",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Pad",
    "Quant",
    "BipolarQuant",
    "MultiThreshold",
    "Trunc",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), failure_persistence: None, ..ProptestConfig::default() })]

    /// Structure-aware mutations (op types, inputs, dims, attributes, shapes) reach the
    /// passes and the lowering with well-formed protobuf: still no panic.
    #[test]
    fn structurally_mutated_models_never_panic(
        which in any::<bool>(),
        base in 0u8..7,
        edits in prop::collection::vec((0usize..1000, 0usize..1000, 0u8..7, any::<i64>()), 1..5),
    ) {
        use ferrite_gen::import::onnx::ModelProto;
        use prost::Message;
        let seed: &[u8] = match base % 7 {
            0 => tfc("TFC_1W1A"),
            1 => tfc("TFC_2W2A"),
            2 => cnn("cnn_pad_w4a4"),
            3 => cnn("kws_conv1d_w3a3"),
            4 => cnn("resnet_w4a4"),
            5 => cnn("mobilenet_w4a4"),
            _ => small(),
        };
        let _ = which;
        let mut m = ModelProto::decode(seed).unwrap();
        let g = m.graph.as_mut().unwrap();
        for (a, b, kind, v) in edits {
            let nn = g.node.len().max(1);
            match kind {
                0 => {
                    let n = &mut g.node[a % nn];
                    let op = OPS[b % OPS.len()];
                    n.op_type = Some(op.into());
                    let custom = ["Quant", "BipolarQuant", "MultiThreshold", "Trunc"].contains(&op);
                    n.domain = Some(if custom { "qonnx.custom_op.general".into() } else { String::new() });
                }
                1 => {
                    let n = &mut g.node[a % nn];
                    if !n.input.is_empty() {
                        let i = b % n.input.len();
                        n.input.remove(i);
                    }
                }
                2 => {
                    let n = &mut g.node[a % nn];
                    if n.input.len() > 1 {
                        n.input.swap(0, 1);
                    }
                }
                3 => {
                    let k = g.initializer.len().max(1);
                    if let Some(t) = g.initializer.get_mut(a % k) {
                        if !t.dims.is_empty() {
                            let d = b % t.dims.len();
                            t.dims[d] = v % 5;
                        } else {
                            t.dims.push(v % 3);
                        }
                    }
                }
                4 => {
                    let n = &mut g.node[a % nn];
                    if let Some(at) = n.attribute.first_mut() {
                        at.i = Some(v % 7);
                        at.ints = vec![v % 4, (v / 7) % 3];
                    }
                }
                5 => {
                    // rewire an input to another tensor of the graph
                    let outs: Vec<String> = g.node.iter().flat_map(|n| n.output.clone()).collect();
                    let n = &mut g.node[a % nn];
                    if !n.input.is_empty() && !outs.is_empty() {
                        let i = b % n.input.len();
                        n.input[i] = outs[(v.unsigned_abs() as usize) % outs.len()].clone();
                    }
                }
                _ => {
                    // a scalar initializer (scale, bit width, exponent) gets a new value
                    let k = g.initializer.len().max(1);
                    if let Some(t) = g.initializer.get_mut(a % k)
                        && t.dims.iter().product::<i64>() <= 1
                    {
                        let val = [0.0f32, -1.0, 0.5, 3.0, 33.0, f32::NAN, 1e30][b % 7];
                        if t.data_type == Some(1) {
                            t.raw_data = Some(val.to_le_bytes().to_vec());
                        }
                    }
                }
            }
        }
        compile(&m.encode_to_vec());
    }
}

/// A small opset-20 model with the ops the TFC files lack: Gemm with a float bias, Relu,
/// Flatten, a per-channel MultiThreshold, Softmax and TopK.
fn small() -> &'static [u8] {
    use import_util::*;
    static SMALL: OnceLock<Vec<u8>> = OnceLock::new();
    SMALL.get_or_init(|| {
        let mut inits = vec![];
        let mut nodes = vec![node(
            "Flatten",
            "",
            "flat",
            &["x"],
            &["xf"],
            vec![("axis", A::I(1))],
        )];
        nodes.push(quant(
            "xf", "xq", 0.5, 0.0, 4.0, false, false, "ROUND", &mut inits,
        ));
        let w: Vec<f32> = (0..6 * 12)
            .map(|i| ((i * 7 % 5) as f32 - 2.0) * 0.25)
            .collect();
        inits.push(raw_f32("w", &[6, 12], &w));
        nodes.push(quant(
            "w", "wq", 0.25, 0.0, 3.0, true, true, "ROUND", &mut inits,
        ));
        inits.push(raw_f32("c", &[6], &[0.5, -0.25, 0.0, 1.0, -1.0, 0.75]));
        nodes.push(node(
            "Gemm",
            "",
            "fc",
            &["xq", "wq", "c"],
            &["h"],
            vec![("transB", A::I(1))],
        ));
        nodes.push(node("Relu", "", "relu", &["h"], &["r"], vec![]));
        nodes.push(quant(
            "r", "a", 0.5, 0.0, 3.0, false, false, "HALF_UP", &mut inits,
        ));
        let w2: Vec<f32> = (0..6 * 4)
            .map(|i| ((i * 3 % 3) as f32 - 1.0) * 0.5)
            .collect();
        inits.push(raw_f32("w2", &[6, 4], &w2));
        nodes.push(quant(
            "w2", "w2q", 0.5, 0.0, 2.0, true, true, "ROUND", &mut inits,
        ));
        nodes.push(node("MatMul", "", "fc2", &["a", "w2q"], &["o"], vec![]));
        inits.push(raw_f32(
            "t",
            &[4, 2],
            &[-1.0, 1.0, -0.5, 0.5, 0.0, 2.0, -2.0, 0.0],
        ));
        nodes.push(node(
            "MultiThreshold",
            Q,
            "mt",
            &["o", "t"],
            &["m"],
            vec![("out_dtype", A::S("UINT2"))],
        ));
        nodes.push(node(
            "Softmax",
            "",
            "sm",
            &["m"],
            &["p"],
            vec![("axis", A::I(-1))],
        ));
        inits.push(i64s("k", &[1], &[2]));
        nodes.push(node("TopK", "", "top", &["p", "k"], &["v", "y"], vec![]));
        model(10, 20, ("x", &[1, 3, 4]), "y", nodes, inits)
    })
}

#[test]
fn small_seed_model_imports() {
    // Softmax before TopK makes it unsupported in hardware: the error lists the node.
    let mut g = import_bytes(small(), "small.onnx", None).unwrap();
    passes::streamline(&mut g).unwrap();
    let e = passes::lower::lower(&g, "small").unwrap_err().to_string();
    assert!(e.contains("top") && e.contains("TopK"), "{e}");
}
