//! Small ONNX models built in the test (prost): Quant rounding modes and ties against
//! values recorded from qonnx 1.0.0 (`qonnx.custom_op.general.quant.quant`), a Gemm MLP
//! in opset 20 / IR 10 style compiled end to end, external data, and the error reports.

mod import_util;

use ferrite_gen::LoadError;
use ferrite_gen::golden;
use ferrite_gen::import::{exec, graph::Tensor, import_bytes};
use ferrite_gen::ir::Node;
use import_util::*;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;

const X: [f32; 12] = [
    2.5,
    -2.5,
    0.5,
    -0.5,
    1.75,
    -3.5,
    0.49999997,
    -0.49999997,
    7.6,
    -9.0,
    1.5,
    -1.5,
];

fn quant_model(
    scale: f32,
    zp: f32,
    bits: f32,
    signed: bool,
    narrow: bool,
    mode: &'static str,
) -> Vec<u8> {
    let mut inits = vec![];
    let q = quant("x", "y", scale, zp, bits, signed, narrow, mode, &mut inits);
    model(10, 20, ("x", &[1, 12]), "y", vec![q], inits)
}

fn run1(bytes: &[u8], x: &[f32], shape: Vec<usize>) -> Vec<f32> {
    let g = import_bytes(bytes, "test.onnx", None).unwrap_or_else(|e| panic!("{e}"));
    exec::run_outputs(&g, &Tensor::f32(shape, x.to_vec()))
        .unwrap()
        .remove(0)
        .to_f32()
}

#[test]
fn quant_rounding_modes_and_ties_match_qonnx() {
    // Recorded with qonnx 1.0.0: quant(X, 1.0, 0.0, 4, signed=1, narrow=0, mode).
    let want: [(&str, [f32; 12]); 8] = [
        (
            "ROUND",
            [
                2.0, -2.0, 0.0, -0.0, 2.0, -4.0, 0.0, -0.0, 7.0, -8.0, 2.0, -2.0,
            ],
        ),
        (
            "HALF_EVEN",
            [
                2.0, -2.0, 0.0, -0.0, 2.0, -4.0, 0.0, -0.0, 7.0, -8.0, 2.0, -2.0,
            ],
        ),
        (
            "CEIL",
            [
                3.0, -2.0, 1.0, -0.0, 2.0, -3.0, 1.0, -0.0, 7.0, -8.0, 2.0, -1.0,
            ],
        ),
        (
            "FLOOR",
            [
                2.0, -3.0, 0.0, -1.0, 1.0, -4.0, 0.0, -1.0, 7.0, -8.0, 1.0, -2.0,
            ],
        ),
        (
            "UP",
            [
                3.0, -3.0, 1.0, -1.0, 2.0, -4.0, 1.0, -1.0, 7.0, -8.0, 2.0, -2.0,
            ],
        ),
        (
            "DOWN",
            [
                2.0, -2.0, 0.0, -0.0, 1.0, -3.0, 0.0, -0.0, 7.0, -8.0, 1.0, -1.0,
            ],
        ),
        // |x| + 0.5 rounds to 1.0 in f32 for x = 0.49999997: numpy gives 1 too.
        (
            "HALF_UP",
            [
                3.0, -3.0, 1.0, -1.0, 2.0, -4.0, 1.0, -1.0, 7.0, -8.0, 2.0, -2.0,
            ],
        ),
        (
            "HALF_DOWN",
            [
                2.0, -2.0, 0.0, -0.0, 2.0, -3.0, -0.0, 0.0, 7.0, -8.0, 1.0, -1.0,
            ],
        ),
    ];
    for (mode, w) in want {
        let got = run1(
            &quant_model(1.0, 0.0, 4.0, true, false, mode),
            &X,
            vec![1, 12],
        );
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&w), "{mode}: {got:?}");
    }
    // quant(X, 0.5, 1.0, 3, signed=0, narrow=1, ROUND): clip to [0, 6] before rounding.
    let got = run1(
        &quant_model(0.5, 1.0, 3.0, false, true, "ROUND"),
        &X,
        vec![1, 12],
    );
    assert_eq!(
        got,
        [
            2.5, -0.5, 0.5, -0.5, 1.5, -0.5, 0.5, -0.5, 2.5, -0.5, 1.5, -0.5
        ]
    );
    // 1-bit signed Quant is bipolar (x >= 0 -> +1).
    let got = run1(
        &quant_model(1.0, 0.0, 1.0, true, false, "ROUND"),
        &X,
        vec![1, 12],
    );
    assert_eq!(
        got,
        [
            1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0
        ]
    );
}

#[test]
fn bipolar_quant_zero_is_plus_one() {
    let inits = vec![scalar("s", 0.5)];
    let n = node(
        "BipolarQuant",
        "onnx.brevitas",
        "bq",
        &["x", "s"],
        &["y"],
        vec![],
    );
    let b = model(6, 9, ("x", &[1, 4]), "y", vec![n], inits);
    // Recorded with qonnx 1.0.0 binary_quant([0, -0, -1e-30, 3], 0.5).
    assert_eq!(
        run1(&b, &[0.0, -0.0, -1e-30, 3.0], vec![1, 4]),
        [0.5, 0.5, -0.5, 0.5]
    );
}

/// Input [1,16] -> Mul -> Quant UINT4 -> Gemm(transB, float bias; weights Quant INT3
/// narrow, scale 0.25) -> BatchNorm -> Relu -> Quant UINT3 (HALF_UP) -> MatMul (weights
/// INT2 narrow, scale 0.5) -> tail.
fn mlp(tail: &str, rng: &mut impl Rng) -> Vec<u8> {
    let mut inits = vec![scalar("four", 4.0)];
    let mut nodes = vec![node("Mul", "", "pre_mul", &["x", "four"], &["x1"], vec![])];
    nodes.push(quant(
        "x1", "xq", 0.5, 0.0, 4.0, false, false, "ROUND", &mut inits,
    ));
    let w1: Vec<f32> = (0..8 * 16)
        .map(|_| rng.random_range(-3..=3) as f32 * 0.25)
        .collect();
    inits.push(raw_f32("w1", &[8, 16], &w1));
    nodes.push(quant(
        "w1", "w1q", 0.25, 0.0, 3.0, true, true, "ROUND", &mut inits,
    ));
    let c1: Vec<f32> = (0..8).map(|_| rng.random_range(-2.0f32..2.0)).collect();
    inits.push(typed_f32("c1", &[8], &c1));
    nodes.push(node(
        "Gemm",
        "",
        "fc1",
        &["xq", "w1q", "c1"],
        &["h"],
        vec![("transB", A::I(1))],
    ));
    let bn: Vec<Vec<f32>> = vec![
        (0..8).map(|_| rng.random_range(-1.5f32..1.5)).collect(),
        (0..8).map(|_| rng.random_range(-1.0f32..1.0)).collect(),
        (0..8).map(|_| rng.random_range(-3.0f32..3.0)).collect(),
        (0..8).map(|_| rng.random_range(0.1f32..4.0)).collect(),
    ];
    for (n, v) in ["g", "b", "m", "v"].iter().zip(&bn) {
        inits.push(typed_f32(&format!("bn_{n}"), &[8], v));
    }
    nodes.push(node(
        "BatchNormalization",
        "",
        "bn1",
        &["h", "bn_g", "bn_b", "bn_m", "bn_v"],
        &["hb"],
        vec![("epsilon", A::F(1e-5))],
    ));
    nodes.push(node("Relu", "", "relu1", &["hb"], &["hr"], vec![]));
    nodes.push(quant(
        "hr", "a1", 0.5, 0.0, 3.0, false, false, "HALF_UP", &mut inits,
    ));
    let w2: Vec<f32> = (0..8 * 5)
        .map(|_| rng.random_range(-1..=1) as f32 * 0.5)
        .collect();
    inits.push(raw_f32("w2", &[8, 5], &w2));
    nodes.push(quant(
        "w2", "w2q", 0.5, 0.0, 2.0, true, true, "ROUND", &mut inits,
    ));
    nodes.push(node("MatMul", "", "fc2", &["a1", "w2q"], &["o"], vec![]));
    let out = match tail {
        "topk" => {
            inits.push(i64s("k", &[1], &[2]));
            nodes.push(node(
                "TopK",
                "",
                "top",
                &["o", "k"],
                &["vals", "idx"],
                vec![],
            ));
            "idx"
        }
        _ => {
            let c2: Vec<f32> = (0..5).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            inits.push(raw_f32("c2", &[5], &c2));
            nodes.push(node("Add", "", "bias2", &["o", "c2"], &["o2"], vec![]));
            nodes.push(node(
                "Softmax",
                "",
                "sm",
                &["o2"],
                &["p"],
                vec![("axis", A::I(-1))],
            ));
            "p"
        }
    };
    model(10, 20, ("x", &[1, 16]), out, nodes, inits)
}

fn write_tmp(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("net.onnx");
    std::fs::write(&p, bytes).unwrap();
    (d, p)
}

#[test]
fn gemm_mlp_opset20_compiles_and_matches_reference() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for (seed, tail) in [(1u64, "topk"), (2, "softmax"), (3, "topk"), (4, "softmax")] {
        let mut mrng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let bytes = mlp(tail, &mut mrng);
        let (_d, path) = write_tmp(&bytes);
        let m = ferrite_gen::load_model(&path).unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<&str> = m.nodes.iter().map(Node::kind).collect();
        let want: &[&str] = if tail == "topk" {
            &["MatrixVector", "MatrixVector", "LabelSelect"]
        } else {
            &["MatrixVector", "MatrixVector"]
        };
        assert_eq!(kinds, want, "{tail}");
        assert_eq!(m.input().tensor.dtype.to_string(), "UINT4");
        let g = import_bytes(&bytes, "net.onnx", None).unwrap();
        let mut distinct = std::collections::BTreeSet::new();
        for _ in 0..300 {
            // multiples of 1/16: quantizer ties happen often
            let x: Vec<f32> = (0..16)
                .map(|_| rng.random_range(-8..=40) as f32 / 16.0)
                .collect();
            let want = exec::run_outputs(&g, &Tensor::f32(vec![1, 16], x.clone()))
                .unwrap()
                .remove(0)
                .to_f32();
            let got = golden::host::run_float(&m, &x).unwrap();
            assert_eq!(got, want, "{tail} x = {x:?}");
            distinct.insert(format!("{got:?}"));
        }
        // the test means something only if the network's output depends on its input
        assert!(
            distinct.len() >= 5,
            "{tail}: only {} distinct outputs",
            distinct.len()
        );
        eprintln!(
            "{tail}: {} distinct outputs; {:?}",
            distinct.len(),
            distinct.iter().next()
        );
    }
}

#[test]
fn external_data_and_typed_fields_load() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let bytes = mlp("softmax", &mut rng);
    // Move w1 to an external file at an offset.
    use prost::Message;
    let mut m = ferrite_gen::import::onnx::ModelProto::decode(bytes.as_slice()).unwrap();
    let d = tempfile::tempdir().unwrap();
    let g = m.graph.as_mut().unwrap();
    let t = g.initializer.iter_mut().find(|t| t.name() == "w1").unwrap();
    let raw = t.raw_data.take().unwrap();
    let mut file = vec![0u8; 16];
    file.extend(&raw);
    std::fs::write(d.path().join("weights.bin"), &file).unwrap();
    t.data_location = Some(1);
    for (k, v) in [
        ("location", "weights.bin".to_string()),
        ("offset", "16".into()),
        ("length", raw.len().to_string()),
    ] {
        t.external_data
            .push(ferrite_gen::import::onnx::StringStringEntryProto {
                key: Some(k.into()),
                value: Some(v),
            });
    }
    let p = d.path().join("ext.onnx");
    std::fs::write(&p, m.encode_to_vec()).unwrap();
    let ext = ferrite_gen::load_model(&p).unwrap_or_else(|e| panic!("{e}"));
    let (_d2, p2) = write_tmp(&bytes);
    let inl = ferrite_gen::load_model(&p2).unwrap();
    assert_eq!(ext.nodes, inl.nodes);
    // Without a base directory, external data is an error naming the tensor.
    let e = import_bytes(&m.encode_to_vec(), "mem.onnx", None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("mem.onnx") && e.contains("w1") && e.contains("external"),
        "{e}"
    );
    // A length past the end of the file, and an external file that is not a regular file
    // (a link to /dev/zero would be read to no end), are errors naming the file.
    let with_location = |loc: &str, len: &str| {
        let mut m2 = m.clone();
        let g = m2.graph.as_mut().unwrap();
        let t = g.initializer.iter_mut().find(|t| t.name() == "w1").unwrap();
        for e in &mut t.external_data {
            match e.key() {
                "location" => e.value = Some(loc.into()),
                "length" => e.value = Some(len.into()),
                _ => {}
            }
        }
        let p = d.path().join(format!("{loc}.onnx"));
        std::fs::write(&p, m2.encode_to_vec()).unwrap();
        ferrite_gen::load_model(&p).unwrap_err().to_string()
    };
    let e = with_location("weights.bin", "1000000000000");
    assert!(e.contains("outside") && e.contains("weights.bin"), "{e}");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/dev/zero", d.path().join("zero.bin")).unwrap();
        let e = with_location("zero.bin", &raw.len().to_string());
        assert!(e.contains("not a regular file"), "{e}");
    }
}

#[test]
fn every_unsupported_node_is_reported_at_once() {
    let mut inits = vec![];
    let nodes = vec![
        quant("x", "xq", 1.0, 0.0, 2.0, true, true, "ROUND", &mut inits),
        node(
            "Conv",
            "",
            "conv0",
            &["xq", "w"],
            &["c"],
            vec![("kernel_shape", A::Ints(vec![3, 3])), ("group", A::I(2))],
        ),
        node("LSTM", "", "lstm0", &["c"], &["l"], vec![]),
        node("Frobnicate", "com.example", "frob0", &["l"], &["f"], vec![]),
        node(
            "MaxPool",
            "",
            "pool0",
            &["f"],
            &["y"],
            vec![
                ("kernel_shape", A::Ints(vec![2, 2])),
                ("ceil_mode", A::I(1)),
            ],
        ),
    ];
    inits.push(raw_f32("w", &[1, 1, 3, 3], &[0.0; 9]));
    let b = model(8, 13, ("x", &[1, 1, 8, 8]), "y", nodes, inits);
    let (_d, p) = write_tmp(&b);
    let e = ferrite_gen::load_model(&p).unwrap_err();
    let s = e.to_string();
    for want in [
        "net.onnx",
        // (the Conv's group = 2 is judged once the graph is read, where its weights are known)
        "3 unsupported",
        "lstm0",
        "LSTM",
        "frob0",
        "com.example",
        "pool0",
        "MaxPool",
        "ceil_mode = 1",
    ] {
        assert!(s.contains(want), "missing `{want}` in:\n{s}");
    }
    // Conv/MaxPool alone (parsed, attributes out of range) are reported by the lowering,
    // together, each naming its attribute.
    let mut inits = vec![raw_f32("w", &[1, 1, 3, 3], &[0.0; 9])];
    let nodes = vec![
        quant("x", "xq", 1.0, 0.0, 2.0, true, true, "ROUND", &mut inits),
        node(
            "Conv",
            "",
            "conv0",
            &["xq", "w"],
            &["c"],
            vec![("kernel_shape", A::Ints(vec![3, 3])), ("group", A::I(2))],
        ),
        node(
            "MaxPool",
            "",
            "pool0",
            &["c"],
            &["y"],
            vec![
                ("kernel_shape", A::Ints(vec![2, 2])),
                ("ceil_mode", A::I(1)),
            ],
        ),
    ];
    let b = model(8, 13, ("x", &[1, 1, 8, 8]), "y", nodes, inits);
    let (_d, p) = write_tmp(&b);
    let s = ferrite_gen::load_model(&p).unwrap_err().to_string();
    assert!(
        s.contains("2 unsupported")
            && s.contains("conv0")
            && s.contains("group = 2")
            && s.contains("pool0")
            && s.contains("ceil_mode = 1"),
        "{s}"
    );
    assert!(matches!(
        ferrite_gen::load_model(&p),
        Err(LoadError::Pass { .. })
    ));
}

#[test]
fn float_layers_are_rejected_with_their_place() {
    // Float input straight into a MatMul.
    let b = model(
        7,
        13,
        ("x", &[1, 4]),
        "y",
        vec![node("MatMul", "", "fc_float", &["x", "w"], &["y"], vec![])],
        vec![raw_f32("w", &[4, 2], &[0.5; 8])],
    );
    let (_d, p) = write_tmp(&b);
    let s = ferrite_gen::load_model(&p).unwrap_err().to_string();
    assert!(
        s.contains("fc_float") && s.contains("must be quantized") && s.contains("net.onnx"),
        "{s}"
    );
    // Quantized input, float weights.
    let mut inits = vec![raw_f32("w", &[4, 2], &[0.5; 8])];
    let nodes = vec![
        quant("x", "xq", 1.0, 0.0, 2.0, true, true, "ROUND", &mut inits),
        node("MatMul", "", "fc_w", &["xq", "w"], &["y"], vec![]),
    ];
    let b = model(7, 13, ("x", &[1, 4]), "y", nodes, inits);
    let (_d, p) = write_tmp(&b);
    let s = ferrite_gen::load_model(&p).unwrap_err().to_string();
    assert!(
        s.contains("fc_w")
            && s.contains("weights `w` are float")
            && s.contains("must be quantized"),
        "{s}"
    );
}

#[test]
fn inconsistent_shapes_name_the_node() {
    let mut inits = vec![raw_f32("w", &[7, 2], &[1.0; 14])];
    let nodes = vec![
        quant("x", "xq", 1.0, 0.0, 2.0, true, true, "ROUND", &mut inits),
        node("MatMul", "", "fc_bad", &["xq", "w"], &["y"], vec![]),
    ];
    let b = model(7, 13, ("x", &[1, 4]), "y", nodes, inits);
    let (_d, p) = write_tmp(&b);
    let s = ferrite_gen::load_model(&p).unwrap_err().to_string();
    assert!(
        s.contains("fc_bad") && s.contains("net.onnx") && s.contains("do not agree"),
        "{s}"
    );
    // A tensor whose data does not fit its shape names the tensor.
    let b = model(
        7,
        13,
        ("x", &[1, 4]),
        "y",
        vec![node("Identity", "", "id", &["x"], &["y"], vec![])],
        vec![raw_f32("w", &[3, 3], &[1.0; 4])],
    );
    let s = import_bytes(&b, "m.onnx", None).unwrap_err().to_string();
    assert!(s.contains("`w`") && s.contains("bytes"), "{s}");
    // A node reading a tensor nobody produces.
    let b = model(
        7,
        13,
        ("x", &[1, 4]),
        "y",
        vec![node("Add", "", "add0", &["x", "ghost"], &["y"], vec![])],
        vec![],
    );
    let s = import_bytes(&b, "m.onnx", None).unwrap_err().to_string();
    assert!(s.contains("add0") && s.contains("ghost"), "{s}");
}

#[test]
fn versions_outside_the_supported_range_are_errors() {
    let b = model(
        2,
        9,
        ("x", &[1, 4]),
        "y",
        vec![node("Identity", "", "id", &["x"], &["y"], vec![])],
        vec![],
    );
    let s = import_bytes(&b, "old.onnx", None).unwrap_err().to_string();
    assert!(s.contains("old.onnx") && s.contains("IR version 2"), "{s}");
    let b = model(
        7,
        8,
        ("x", &[1, 4]),
        "y",
        vec![node("Identity", "", "id", &["x"], &["y"], vec![])],
        vec![],
    );
    let s = import_bytes(&b, "old.onnx", None).unwrap_err().to_string();
    assert!(s.contains("opset 8"), "{s}");
    for (ir, op) in [(3, 9), (6, 11), (8, 17), (10, 21)] {
        let b = model(
            ir,
            op,
            ("x", &[1, 4]),
            "y",
            vec![node("Identity", "", "id", &["x"], &["y"], vec![])],
            vec![],
        );
        import_bytes(&b, "ok.onnx", None).unwrap_or_else(|e| panic!("ir {ir} opset {op}: {e}"));
    }
}

/// Regression (found by the mutation fuzzer): a MatMul on a rank-0 tensor was an index
/// underflow; it is an error naming the node.
#[test]
fn matmul_on_a_scalar_is_an_error() {
    let mut inits = vec![scalar("w", 1.0)];
    let nodes = vec![
        quant("x", "xq", 1.0, 0.0, 2.0, true, true, "ROUND", &mut inits),
        node("MatMul", "", "fc_scalar", &["xq", "w"], &["y"], vec![]),
    ];
    let b = model(7, 13, ("x", &[1, 4]), "y", nodes, inits);
    let (_d, p) = write_tmp(&b);
    let s = ferrite_gen::load_model(&p).unwrap_err().to_string();
    assert!(s.contains("fc_scalar") && s.contains("rank"), "{s}");
}

#[test]
fn argmax_and_flatten_lower_to_label_select() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
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
        "xf", "xq", 1.0, 0.0, 3.0, true, false, "ROUND", &mut inits,
    ));
    let w: Vec<f32> = (0..12 * 6)
        .map(|_| rng.random_range(-1..=1) as f32)
        .collect();
    inits.push(raw_f32("w", &[12, 6], &w));
    nodes.push(quant(
        "w", "wq", 1.0, 0.0, 2.0, true, true, "ROUND", &mut inits,
    ));
    nodes.push(node("MatMul", "", "fc", &["xq", "wq"], &["o"], vec![]));
    nodes.push(node(
        "ArgMax",
        "",
        "am",
        &["o"],
        &["y"],
        vec![("axis", A::I(1)), ("keepdims", A::I(1))],
    ));
    let b = model(7, 13, ("x", &[1, 3, 4]), "y", nodes, inits);
    let (_d, p) = write_tmp(&b);
    let m = ferrite_gen::load_model(&p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.nodes.last().map(Node::kind), Some("LabelSelect"));
    let g = import_bytes(&b, "n.onnx", None).unwrap();
    for _ in 0..200 {
        let x: Vec<f32> = (0..12)
            .map(|_| rng.random_range(-5..=5) as f32 * 0.75)
            .collect();
        let want = exec::run_outputs(&g, &Tensor::f32(vec![1, 3, 4], x.clone()))
            .unwrap()
            .remove(0)
            .to_f32();
        assert_eq!(golden::host::run_float(&m, &x).unwrap(), want, "{x:?}");
    }
}

#[test]
fn trunc_v1_and_v2_match_qonnx() {
    let x: Vec<f32> = [
        -37.0f32, -9.5, -8.0, -1.0, 0.0, 3.0, 7.5, 12.0, 13.0, 100.25, 255.0, -128.0,
    ]
    .iter()
    .map(|v| v * 0.25)
    .collect();
    let case = |ins: &[(&str, f32)], signed: i64, narrow: i64, mode: &'static str| {
        let mut inits = vec![];
        let mut names = vec!["x".to_string()];
        for (n, v) in ins {
            inits.push(scalar(n, *v));
            names.push(n.to_string());
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let t = node(
            "Trunc",
            Q,
            "trunc",
            &refs,
            &["y"],
            vec![
                ("rounding_mode", A::S(mode)),
                ("signed", A::I(signed)),
                ("narrow", A::I(narrow)),
            ],
        );
        run1(
            &model(8, 13, ("x", &[1, 12]), "y", vec![t], inits),
            &x,
            vec![1, 12],
        )
    };
    // Recorded with qonnx 1.0.0 trunc_v1 / trunc_v2.
    let v1 = [("s", 0.25), ("z", 0.0), ("ib", 8.0), ("ob", 4.0)];
    assert_eq!(
        case(&v1, 1, 0, "FLOOR"),
        [
            -0.75, -0.25, -0.25, -0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5, 3.75, -2.0
        ]
    );
    assert_eq!(
        case(&v1, 1, 0, "ROUND"),
        [
            -0.5, -0.25, -0.0, -0.0, 0.0, 0.0, 0.0, 0.25, 0.25, 1.5, 4.0, -2.0
        ]
    );
    let v2 = [
        ("s", 0.25),
        ("z", 0.0),
        ("ib", 8.0),
        ("os", 4.0),
        ("ob", 4.0),
    ];
    assert_eq!(
        case(&v2, 1, 0, "FLOOR"),
        [
            -12.0, -4.0, -4.0, -4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 24.0, 28.0, -32.0
        ]
    );
    let v2u = [
        ("s", 0.25),
        ("z", 0.0),
        ("ib", 8.0),
        ("os", 2.0),
        ("ob", 3.0),
    ];
    assert_eq!(
        case(&v2u, 0, 0, "ROUND"),
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 4.0, 4.0, 14.0, 14.0, 0.0]
    );
}

/// A FINN-style streamlined model: MatMul followed by a MultiThreshold with float
/// thresholds (x >= t on integer accumulators is x >= ceil(t)), then a standalone
/// channels-last MultiThreshold.
#[test]
fn multithreshold_models_lower_exactly() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut inits = vec![];
    let mut nodes = vec![quant(
        "x", "xq", 1.0, 0.0, 2.0, true, false, "ROUND", &mut inits,
    )];
    let w: Vec<f32> = (0..10 * 4)
        .map(|_| rng.random_range(-2..=1) as f32)
        .collect();
    inits.push(raw_f32("w", &[10, 4], &w));
    nodes.push(quant(
        "w", "wq", 1.0, 0.0, 2.0, true, false, "ROUND", &mut inits,
    ));
    nodes.push(node("MatMul", "", "fc", &["xq", "wq"], &["acc"], vec![]));
    let t: Vec<f32> = (0..4)
        .flat_map(|_| {
            let mut r = [
                rng.random_range(-6.0f32..0.0),
                rng.random_range(-1.0f32..1.0),
                rng.random_range(0.5f32..6.0),
            ];
            r.sort_by(f32::total_cmp);
            r
        })
        .collect();
    inits.push(raw_f32("t", &[4, 3], &t));
    nodes.push(node(
        "MultiThreshold",
        Q,
        "mt",
        &["acc", "t"],
        &["a"],
        vec![("out_dtype", A::S("INT2")), ("out_bias", A::F(-1.0))],
    ));
    inits.push(raw_f32("t2", &[1, 2], &[-0.5, 1.0]));
    nodes.push(node(
        "MultiThreshold",
        Q,
        "mt2",
        &["a", "t2"],
        &["y"],
        vec![("out_dtype", A::S("UINT2")), ("data_layout", A::S("NC"))],
    ));
    let b = model(8, 13, ("x", &[1, 10]), "y", nodes, inits);
    let (_d, p) = write_tmp(&b);
    let m = ferrite_gen::load_model(&p).unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<&str> = m.nodes.iter().map(Node::kind).collect();
    assert_eq!(kinds, ["MatrixVector", "Thresholding"]);
    let g = import_bytes(&b, "n.onnx", None).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let x: Vec<f32> = (0..10).map(|_| rng.random_range(-2..=1) as f32).collect();
        let want = exec::run_outputs(&g, &Tensor::f32(vec![1, 10], x.clone()))
            .unwrap()
            .remove(0)
            .to_f32();
        let got = golden::host::run_float(&m, &x).unwrap();
        assert_eq!(got, want, "{x:?}");
        seen.insert(format!("{got:?}"));
    }
    assert!(seen.len() > 5);
}

/// Per-channel weight scales that are not powers of two (as Brevitas exports by default):
/// the graph cannot be reproduced bit for bit in general (the reference sums scaled floats),
/// but the quantized activations almost always agree, and top-1 stays.
#[test]
fn float_scales_stay_within_rounding() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut inits = vec![];
    let mut nodes = vec![quant(
        "x", "xq", 0.0371, 0.0, 8.0, false, false, "ROUND", &mut inits,
    )];
    let sw: Vec<f32> = (0..6).map(|_| rng.random_range(0.01f32..0.05)).collect();
    let w: Vec<f32> = (0..6 * 20)
        .map(|i| rng.random_range(-7..=7) as f32 * sw[i / 20])
        .collect();
    inits.push(raw_f32("w", &[6, 20], &w));
    inits.push(raw_f32("ws", &[6, 1], &sw));
    inits.push(scalar("wz", 0.0));
    inits.push(scalar("wb", 4.0));
    nodes.push(node(
        "Quant",
        Q,
        "wquant",
        &["w", "ws", "wz", "wb"],
        &["wq"],
        vec![("signed", A::I(1)), ("narrow", A::I(1))],
    ));
    let c: Vec<f32> = (0..6).map(|_| rng.random_range(-0.5f32..0.5)).collect();
    inits.push(raw_f32("c", &[6], &c));
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
        "r", "a", 0.173, 0.0, 4.0, false, false, "ROUND", &mut inits,
    ));
    let w2: Vec<f32> = (0..6 * 3)
        .map(|_| rng.random_range(-7..=7) as f32 * 0.031)
        .collect();
    inits.push(raw_f32("w2", &[6, 3], &w2));
    nodes.push(quant(
        "w2", "w2q", 0.031, 0.0, 4.0, true, true, "ROUND", &mut inits,
    ));
    nodes.push(node("MatMul", "", "fc2", &["a", "w2q"], &["y"], vec![]));
    let b = model(8, 13, ("x", &[1, 20]), "y", nodes, inits);
    let (_d, p) = write_tmp(&b);
    let m = ferrite_gen::load_model(&p).unwrap_or_else(|e| panic!("{e}"));
    let g = import_bytes(&b, "n.onnx", None).unwrap();
    let (mut exact, mut top1, n) = (0, 0, 400);
    let mut maxdiff = 0f32;
    for _ in 0..n {
        let x: Vec<f32> = (0..20).map(|_| rng.random_range(0.0f32..6.0)).collect();
        let want = exec::run_outputs(&g, &Tensor::f32(vec![1, 20], x.clone()))
            .unwrap()
            .remove(0)
            .to_f32();
        let got = golden::host::run_float(&m, &x).unwrap();
        let d = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        maxdiff = maxdiff.max(d);
        exact += usize::from(d <= 1e-5);
        let am = |v: &[f32]| {
            v.iter()
                .enumerate()
                .fold(0, |b, (i, &x)| if x > v[b] { i } else { b })
        };
        top1 += usize::from(am(&got) == am(&want));
    }
    eprintln!("float scales: {exact}/{n} within 1e-5, top-1 {top1}/{n}, max diff {maxdiff}");
    assert!(exact * 100 >= n * 98, "{exact}/{n}");
    assert!(top1 * 100 >= n * 98, "{top1}/{n}");
}

#[test]
#[allow(clippy::excessive_precision)] // values as onnxruntime printed them
fn softmax_axis_semantics_follow_the_opset() {
    let x = [1.0f32, 2.0, 3.0, 0.5, -1.0, 4.0];
    // Recorded with onnxruntime 1.31: Softmax(axis=1) on [1, 2, 3] at opset 11 and 13.
    let want: [(i64, [f32; 6]); 2] = [
        (
            11,
            [
                0.031313859,
                0.085119903,
                0.23137988,
                0.018992817,
                0.0042378702,
                0.62895572,
            ],
        ),
        (
            13,
            [
                0.62245935,
                0.95257413,
                0.26894143,
                0.37754068,
                0.047425874,
                0.7310586,
            ],
        ),
    ];
    for (opset, w) in want {
        let n = node("Softmax", "", "sm", &["x"], &["y"], vec![("axis", A::I(1))]);
        let got = run1(
            &model(7, opset, ("x", &[1, 2, 3]), "y", vec![n], vec![]),
            &x,
            vec![1, 2, 3],
        );
        for (a, b) in got.iter().zip(&w) {
            // onnxruntime's vectorised exp may differ from libm by an ulp or two
            assert!(
                (a - b).abs() <= 4.0 * f32::EPSILON * b.abs().max(1e-3),
                "opset {opset}: {got:?}"
            );
        }
    }
}

/// A broken graph after a pass is reported as a bug naming the pass, apart from user errors.
#[test]
fn verify_reports_a_broken_pass_as_a_bug() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut g = import_bytes(&mlp("softmax", &mut rng), "n.onnx", None).unwrap();
    ferrite_gen::passes::streamline(&mut g).unwrap();
    ferrite_gen::passes::verify(&g, "none").unwrap();
    // Simulate a pass that dropped a producer.
    let mut broken = g.clone();
    broken.nodes.remove(1);
    let e = ferrite_gen::passes::verify(&broken, "some-pass").unwrap_err();
    assert!(matches!(e, ferrite_gen::passes::PassError::Verify { .. }));
    let s = e.to_string();
    assert!(
        s.contains("internal error") && s.contains("some-pass") && s.contains("bug"),
        "{s}"
    );
    // A quantized constant whose integers left their type.
    let mut broken = g.clone();
    let (name, q) = broken
        .qinfo
        .iter_mut()
        .find(|(k, _)| broken.consts.contains_key(*k))
        .unwrap();
    let name = name.clone();
    q.dtype = ferrite_gen::ir::DataType::Bipolar;
    let _ = q;
    let s = ferrite_gen::passes::verify(&broken, "retype")
        .unwrap_err()
        .to_string();
    assert!(s.contains("retype") && s.contains(&name), "{s}");
}

/// Degenerate quantizers are user errors naming the node, never internal errors: NaN, zero,
/// negative and infinite scales, a bit width out of range, a NaN zero point.
#[test]
fn degenerate_quantizers_are_clear_errors() {
    let base =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mlp_w4a4/model.onnx");
    let bytes = std::fs::read(&base).unwrap();
    let m = <ferrite_gen::import::onnx::ModelProto as prost::Message>::decode(&bytes[..]).unwrap();
    let g = m.graph.as_ref().unwrap();
    // the scale, zero point and bit width initializers of the first Quant node of weights
    let q = g
        .node
        .iter()
        .find(|n| {
            n.op_type.as_deref() == Some("Quant")
                && g.initializer
                    .iter()
                    .any(|t| t.name.as_deref() == Some(n.input[0].as_str()))
        })
        .unwrap();
    let qname = q.name.clone().unwrap_or_default();
    let cases: [(usize, f32, &str); 7] = [
        (0, f32::NAN, "weight must be finite"),
        (1, f32::NAN, "finite"),
        (1, 0.0, "positive"),
        (1, -1.0, "positive"),
        (1, f32::INFINITY, "finite"),
        (3, 40.0, "from 1 to 32"),
        (2, f32::NAN, "finite"),
    ];
    for (input, value, want) in cases {
        let mut m2 = m.clone();
        let g2 = m2.graph.as_mut().unwrap();
        let tname = g2
            .node
            .iter()
            .find(|n| n.name.as_deref() == Some(qname.as_str()))
            .unwrap()
            .input[input]
            .clone();
        let t = g2
            .initializer
            .iter_mut()
            .find(|t| t.name.as_deref() == Some(tname.as_str()))
            .unwrap_or_else(|| panic!("{tname} is an initializer"));
        let n: usize = t.dims.iter().product::<i64>().max(1) as usize;
        t.raw_data = Some(
            std::iter::repeat_n(value.to_le_bytes(), n)
                .flatten()
                .collect(),
        );
        t.float_data.clear();
        let (_d, path) = write_tmp(&prost::Message::encode_to_vec(&m2));
        let e = ferrite_gen::load_model(&path).unwrap_err().to_string();
        assert!(
            e.contains(&qname) && e.contains(want) && !e.contains("internal error"),
            "scale input {input} = {value}: {e}"
        );
    }
}

/// `x -> Quant INT4 -> MatMul (INT2 weights) -> [tail nodes on y0] -> Quant UINT3 -> out`,
/// with the tail's constants as initializers.
fn mlp_with_tail(
    tail: Vec<ferrite_gen::import::onnx::NodeProto>,
    consts: Vec<ferrite_gen::import::onnx::TensorProto>,
    last: &str,
) -> Vec<u8> {
    let mut inits = consts;
    inits.push(raw_f32(
        "w",
        &[4, 3],
        &[
            1.0, -1.0, 0.0, 1.0, 1.0, -1.0, 0.0, 1.0, 1.0, -1.0, 0.0, 1.0,
        ],
    ));
    let mut nodes = vec![
        quant("x", "xq", 0.5, 0.0, 4.0, true, false, "ROUND", &mut inits),
        quant("w", "wq", 1.0, 0.0, 2.0, true, false, "ROUND", &mut inits),
        node("MatMul", "", "fc", &["xq", "wq"], &["y0"], vec![]),
    ];
    nodes.extend(tail);
    nodes.push(quant(
        last, "out", 1.0, 0.0, 3.0, false, false, "ROUND", &mut inits,
    ));
    model(8, 13, ("x", &[1, 4]), "out", nodes, inits)
}

/// Non-finite values computed while streamlining (a Gemm's alpha of NaN or infinity, a Mul
/// by infinity, a Div by 0 feeding the thresholds) are user errors naming the ONNX node,
/// never internal errors; and a zero point outside the quantizer's range is refused.
#[test]
fn non_finite_values_and_bad_zero_points_name_the_node() {
    let check = |bytes: Vec<u8>, node: &str, want: &str| {
        let (_d, p) = write_tmp(&bytes);
        let e = ferrite_gen::load_model(&p).unwrap_err().to_string();
        assert!(
            e.contains(node) && e.contains(want) && !e.contains("internal error"),
            "{node}: {e}"
        );
    };
    check(
        mlp_with_tail(
            vec![node("Mul", "", "mul_inf", &["y0", "k"], &["y1"], vec![])],
            vec![scalar("k", f32::INFINITY)],
            "y1",
        ),
        "mul_inf",
        "not finite",
    );
    check(
        mlp_with_tail(
            vec![node("Div", "", "div_zero", &["y0", "k"], &["y1"], vec![])],
            vec![scalar("k", 0.0)],
            "y1",
        ),
        "div_zero",
        "not finite",
    );
    check(
        mlp_with_tail(
            vec![node("Mul", "", "mul_nan", &["y0", "k"], &["y1"], vec![])],
            vec![scalar("k", f32::NAN)],
            "y1",
        ),
        "mul_nan",
        "not finite",
    );
    // finite constants whose product overflows to infinity inside the threshold chain
    check(
        mlp_with_tail(
            vec![
                node("Mul", "", "mul_big", &["y0", "k"], &["y1"], vec![]),
                node("Mul", "", "mul_big2", &["y1", "k"], &["y2"], vec![]),
            ],
            vec![scalar("k", 3.0e38)],
            "y2",
        ),
        "mul_big",
        "not finite",
    );
    // Gemm with alpha NaN / inf (constant weights)
    for alpha in [f32::NAN, f32::INFINITY] {
        let mut inits = vec![
            raw_f32("w", &[4, 3], &[1.0; 12]),
            raw_f32("c", &[3], &[0.5; 3]),
        ];
        let nodes = vec![
            quant("x", "xq", 0.5, 0.0, 4.0, true, false, "ROUND", &mut inits),
            quant("w", "wq", 1.0, 0.0, 2.0, true, false, "ROUND", &mut inits),
            node(
                "Gemm",
                "",
                "gemm_alpha",
                &["xq", "wq", "c"],
                &["y0"],
                vec![("alpha", A::F(alpha))],
            ),
            quant(
                "y0", "out", 1.0, 0.0, 3.0, false, false, "ROUND", &mut inits,
            ),
        ];
        check(
            model(8, 13, ("x", &[1, 4]), "out", nodes, inits),
            "gemm_alpha",
            "not finite",
        );
    }
    // zero points outside the integer range: unsigned -1, 2-bit signed narrow 2, INT4 8
    for (zp, bits, signed, narrow) in [
        (-1.0, 4.0, false, false),
        (2.0, 2.0, true, true),
        (8.0, 4.0, true, false),
    ] {
        let mut inits = vec![raw_f32("w", &[4, 3], &[1.0; 12])];
        let nodes = vec![
            quant(
                "x", "xq", 0.5, zp, bits, signed, narrow, "ROUND", &mut inits,
            ),
            quant("w", "wq", 1.0, 0.0, 2.0, true, false, "ROUND", &mut inits),
            node("MatMul", "", "fc", &["xq", "wq"], &["out"], vec![]),
        ];
        check(
            model(8, 13, ("x", &[1, 4]), "out", nodes, inits),
            "xq_quant",
            "zero point",
        );
    }
}
