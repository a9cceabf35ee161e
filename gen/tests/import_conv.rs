//! Convolutional pieces: the reference kernels (window geometry, Conv, MaxPool, Pad) on
//! hand-computed cases, the lowering of small graphs (auto_pad, explicit Pad nodes,
//! transposes) against the executor, the errors for what ferrite refuses, and the CLI on
//! the FINN CNV example.

mod import_util;

use ferrite_gen::golden;
use ferrite_gen::import::exec::{self, Window};
use ferrite_gen::import::graph::Tensor;
use ferrite_gen::import::import_bytes;
use ferrite_gen::passes;
use import_util::*;
use std::path::PathBuf;

fn t(shape: &[usize], v: &[f32]) -> Tensor {
    Tensor::f32(shape.to_vec(), v.to_vec())
}

#[test]
fn window_geometry_follows_onnx() {
    let w = exec::window(&[5, 7], &[3, 3], &[2, 2], &[], &[], "SAME_UPPER", false).unwrap();
    // out = ceil(in / s) = 3, 4; total pad = (out-1)*s + k - in = 2, 2: split 1/1
    assert_eq!(w.out, [3, 4]);
    assert_eq!(
        (w.pad_begin.clone(), w.pad_end.clone()),
        (vec![1, 1], vec![1, 1])
    );
    let w = exec::window(&[6], &[2], &[1], &[], &[], "SAME_UPPER", false).unwrap();
    assert_eq!(
        (w.pad_begin.clone(), w.pad_end.clone(), w.out.clone()),
        (vec![0], vec![1], vec![6])
    );
    let w = exec::window(&[6], &[2], &[1], &[], &[], "SAME_LOWER", false).unwrap();
    assert_eq!((w.pad_begin.clone(), w.pad_end.clone()), (vec![1], vec![0]));
    let w = exec::window(
        &[8, 8],
        &[3, 3],
        &[],
        &[1, 2, 0, 1],
        &[2, 1],
        "NOTSET",
        false,
    )
    .unwrap();
    assert_eq!(
        w,
        Window {
            kernel: vec![3, 3],
            stride: vec![1, 1],
            dilation: vec![2, 1],
            pad_begin: vec![1, 2],
            pad_end: vec![0, 1],
            out: vec![5, 9],
        }
    );
    // floor mode drops the last partial window; ceil mode keeps it
    assert_eq!(
        exec::window(&[8], &[3], &[2], &[], &[], "", false)
            .unwrap()
            .out,
        [3]
    );
    assert_eq!(
        exec::window(&[8], &[3], &[2], &[], &[], "", true)
            .unwrap()
            .out,
        [4]
    );
    let e = exec::window(&[2, 2], &[3, 3], &[], &[], &[], "VALID", false).unwrap_err();
    assert!(
        e.contains("spans 3") && e.contains("padded input has 2"),
        "{e}"
    );
    assert!(exec::window(&[4, 4, 4], &[1, 1, 1], &[], &[], &[], "", false).is_err());
}

#[test]
fn conv_by_hand() {
    // 1x1x3x3 input 1..9, 2x2 kernel of ones: sums of each 2x2 block
    let x = t(&[1, 1, 3, 3], &[1., 2., 3., 4., 5., 6., 7., 8., 9.]);
    let w = t(&[1, 1, 2, 2], &[1.; 4]);
    let y = exec::conv(&x, &w, None, &[], &[], &[], &[], 1, "NOTSET").unwrap();
    assert_eq!(
        (y.shape.clone(), y.to_f32()),
        (vec![1, 1, 2, 2], vec![12., 16., 24., 28.])
    );
    // padding 1, stride 2: corners of the padded map
    let y = exec::conv(&x, &w, None, &[2, 2], &[2, 2], &[1, 1, 1, 1], &[], 1, "").unwrap();
    assert_eq!(y.to_f32(), [1., 5., 11., 28.]);
    // dilation 2 on a 3x3 kernel-span: the four corners
    let y = exec::conv(&x, &w, None, &[], &[], &[], &[2, 2], 1, "").unwrap();
    assert_eq!(y.to_f32(), [20.]);
    // two output channels with a bias, weight order [M][C][KH][KW]
    let w2 = t(&[2, 1, 1, 2], &[1., 0., 0., -1.]);
    let b = t(&[2], &[10., 100.]);
    let y = exec::conv(&x, &w2, Some(&b), &[], &[], &[], &[], 1, "").unwrap();
    assert_eq!(y.shape, [1, 2, 3, 2]);
    assert_eq!(
        y.to_f32(),
        [11., 12., 14., 15., 17., 18., 98., 97., 95., 94., 92., 91.]
    );
    // groups: two channels each convolved with its own 1x1 weight
    let x2 = t(&[1, 2, 1, 2], &[1., 2., 3., 4.]);
    let wg = t(&[2, 1, 1, 1], &[2., -1.]);
    let y = exec::conv(&x2, &wg, None, &[], &[], &[], &[], 2, "").unwrap();
    assert_eq!(y.to_f32(), [2., 4., -3., -4.]);
    // 1-D (NCW), pad 1
    let x1 = t(&[1, 1, 4], &[1., 2., 3., 4.]);
    let w1 = t(&[1, 1, 3], &[1., 1., 1.]);
    let y = exec::conv(&x1, &w1, None, &[3], &[], &[1, 1], &[], 1, "").unwrap();
    assert_eq!(
        (y.shape.clone(), y.to_f32()),
        (vec![1, 1, 4], vec![3., 6., 9., 7.])
    );
    // a kernel_shape that disagrees with the weights is an error
    assert!(exec::conv(&x1, &w1, None, &[2], &[], &[], &[], 1, "").is_err());
}

#[test]
fn max_pool_and_pad_by_hand() {
    let x = t(
        &[1, 1, 5, 5],
        &(0..25).map(|v| v as f32).collect::<Vec<_>>(),
    );
    // k3 s2 floor: windows at 0 and 2 on each axis
    let y = exec::max_pool(&x, &[3, 3], &[2, 2], &[], &[], false, "NOTSET").unwrap();
    assert_eq!(
        (y.shape.clone(), y.to_f32()),
        (vec![1, 1, 2, 2], vec![12., 14., 22., 24.])
    );
    let y = exec::max_pool(&x, &[2, 2], &[2, 2], &[], &[], false, "").unwrap();
    assert_eq!(y.to_f32(), [6., 8., 16., 18.]);
    let x1 = t(&[1, 2, 3], &[1., 5., 2., -1., -3., -2.]);
    let y = exec::max_pool(&x1, &[2], &[1], &[], &[], false, "").unwrap();
    assert_eq!(y.to_f32(), [5., 5., -1., -2.]);
    let p = exec::pad(&t(&[1, 1, 1, 2], &[1., 2.]), &[0, 0, 1, 0, 0, 0, 0, 1], 7.).unwrap();
    assert_eq!(
        (p.shape.clone(), p.to_f32()),
        (vec![1, 1, 2, 3], vec![7., 7., 7., 1., 2., 7.])
    );
    assert!(exec::pad(&x, &[0, 0, -1, 0, 0, 0, 0, 0], 0.).is_err());
}

/// Input quantizer (UINT4, scale 1/8) -> [nodes] -> Flatten -> MatMul (2-bit) -> output.
fn small_net(
    input: &[i64],
    mid: Vec<ferrite_gen::import::onnx::NodeProto>,
    mut inits: Vec<ferrite_gen::import::onnx::TensorProto>,
    flat: usize,
    last: &str,
) -> Vec<u8> {
    let mut nodes = vec![quant(
        "x", "a0", 0.125, 0.0, 4.0, false, false, "ROUND", &mut inits,
    )];
    nodes.extend(mid);
    nodes.push(node(
        "Flatten",
        "",
        "flatten",
        &[last],
        &["f"],
        vec![("axis", A::I(1))],
    ));
    let wv: Vec<f32> = (0..flat * 3).map(|i| ((i * 7) % 4) as f32 - 2.0).collect();
    inits.push(raw_f32("wf", &[flat as i64, 3], &wv));
    nodes.push(quant(
        "wf", "wfq", 1.0, 0.0, 2.0, true, false, "ROUND", &mut inits,
    ));
    nodes.push(node("MatMul", "", "fc", &["f", "wfq"], &["y"], vec![]));
    model(8, 13, ("x", input), "y", nodes, inits)
}

fn conv_w(
    name: &str,
    dims: &[i64],
    inits: &mut Vec<ferrite_gen::import::onnx::TensorProto>,
) -> ferrite_gen::import::onnx::NodeProto {
    let n: i64 = dims.iter().product();
    let v: Vec<f32> = (0..n).map(|i| ((i * 5) % 3) as f32 - 1.0).collect();
    inits.push(raw_f32(name, dims, &v));
    quant(
        name,
        &format!("{name}q"),
        1.0,
        0.0,
        2.0,
        true,
        false,
        "ROUND",
        inits,
    )
}

/// Lower and compare the golden float output with the executor on a few inputs.
fn check_against_exec(bytes: &[u8], shape: &[usize]) -> ferrite_gen::ir::Model {
    let g0 = import_bytes(bytes, "t.onnx", None).unwrap();
    let mut g = g0.clone();
    passes::streamline(&mut g).unwrap_or_else(|e| panic!("{e}"));
    let m = passes::lower::lower(&g, "t").unwrap_or_else(|e| panic!("{e}\n{g}"));
    let elems: usize = shape.iter().product();
    for s in 0..5 {
        let x: Vec<f32> = (0..elems)
            .map(|i| (((i * 13 + s * 7) % 17) as f32) / 9.0)
            .collect();
        let want = exec::run_outputs(&g0, &t(shape, &x))
            .unwrap()
            .remove(0)
            .to_f32();
        let got = golden::host::run_float(&m, &x).unwrap();
        assert_eq!(got, want, "input {s}");
    }
    m
}

#[test]
fn same_upper_conv_pads_asymmetrically() {
    // 6x6, k2 s1 SAME_UPPER: pad 0 before, 1 after on each axis
    let mut inits = vec![];
    let wq = conv_w("w", &[3, 2, 2, 2], &mut inits);
    let mid = vec![
        wq,
        node(
            "Conv",
            "",
            "conv",
            &["a0", "wq"],
            &["c"],
            vec![("auto_pad", A::S("SAME_UPPER"))],
        ),
        node("Relu", "", "relu", &["c"], &["r"], vec![]),
        quant("r", "a1", 1.0, 0.0, 2.0, false, false, "ROUND", &mut inits),
    ];
    let b = small_net(&[1, 2, 6, 6], mid, inits, 3 * 36, "a1");
    let m = check_against_exec(&b, &[1, 2, 6, 6]);
    let names: Vec<&str> = m.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["l00_swg", "l01_mvu", "l02_mvu"]);
    let ferrite_gen::ir::Op::SlidingWindow(w) = &m.nodes[0].op else {
        panic!()
    };
    assert_eq!(w.pad, [0, 0, 1, 1]);
    assert_eq!(
        m.nodes[1].origin.as_deref(),
        Some("conv + a1_quant_threshold")
    );
}

#[test]
fn explicit_pad_node_and_transposes_are_lowered() {
    // Pad(1 on H, 2 on W) -> Conv 3x3 -> quant -> MaxPool 2 -> NCHW->NHWC->NCHW transposes
    let mut inits = vec![];
    inits.push(i64s("pads", &[8], &[0, 0, 1, 2, 0, 0, 1, 2]));
    let wq = conv_w("w", &[2, 1, 3, 3], &mut inits);
    let mid = vec![
        node("Pad", "", "pad", &["a0", "pads"], &["p"], vec![]),
        wq,
        node(
            "Conv",
            "",
            "conv",
            &["p", "wq"],
            &["c"],
            vec![("kernel_shape", A::Ints(vec![3, 3]))],
        ),
        quant("c", "a1", 1.0, 0.0, 3.0, true, false, "ROUND", &mut inits),
        node(
            "MaxPool",
            "",
            "pool",
            &["a1"],
            &["mp"],
            vec![
                ("kernel_shape", A::Ints(vec![2, 2])),
                ("strides", A::Ints(vec![2, 2])),
            ],
        ),
        node(
            "Transpose",
            "",
            "to_nhwc",
            &["mp"],
            &["th"],
            vec![("perm", A::Ints(vec![0, 2, 3, 1]))],
        ),
        node(
            "Transpose",
            "",
            "to_nchw",
            &["th"],
            &["tc"],
            vec![("perm", A::Ints(vec![0, 3, 1, 2]))],
        ),
    ];
    // 5x4 -> pad -> 7x8 -> conv -> 5x6 -> pool -> 2x3, 2 channels
    let b = small_net(&[1, 1, 5, 4], mid, inits, 2 * 2 * 3, "tc");
    let m = check_against_exec(&b, &[1, 1, 5, 4]);
    let kinds: Vec<&str> = m.nodes.iter().map(|n| n.kind()).collect();
    assert_eq!(
        kinds,
        [
            "Pad",
            "SlidingWindow",
            "MatrixVector",
            "SlidingWindow",
            "Pool",
            "MatrixVector"
        ]
    );
}

#[test]
fn flatten_of_an_nhwc_transpose_reads_the_stream_in_its_order() {
    // Transpose to NHWC before the flatten: the FC weights need no permutation then.
    let mut inits = vec![];
    let wq = conv_w("w", &[3, 2, 1, 1], &mut inits);
    let mid = vec![
        wq,
        node("Conv", "", "conv", &["a0", "wq"], &["c"], vec![]),
        quant("c", "a1", 1.0, 0.0, 2.0, true, true, "ROUND", &mut inits),
        node(
            "Transpose",
            "",
            "to_nhwc",
            &["a1"],
            &["th"],
            vec![("perm", A::Ints(vec![0, 2, 3, 1]))],
        ),
    ];
    let b = small_net(&[1, 2, 3, 2], mid, inits, 3 * 6, "th");
    check_against_exec(&b, &[1, 2, 3, 2]);
}

fn lower_err(bytes: &[u8]) -> String {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("net.onnx");
    std::fs::write(&p, bytes).unwrap();
    ferrite_gen::load_model(&p).unwrap_err().to_string()
}

#[test]
fn unsupported_window_ops_are_named_with_their_attribute() {
    let mut inits = vec![];
    let wq = conv_w("w", &[2, 2, 3, 3], &mut inits);
    let mid = vec![
        wq,
        node(
            "Conv",
            "",
            "conv_g",
            &["a0", "wq"],
            &["c"],
            vec![("group", A::I(2)), ("auto_pad", A::S("SAME_WEIRD"))],
        ),
        node(
            "MaxPool",
            "",
            "pool_ceil",
            &["c"],
            &["p"],
            vec![
                ("kernel_shape", A::Ints(vec![2, 2])),
                ("ceil_mode", A::I(1)),
            ],
        ),
        node(
            "AveragePool",
            "",
            "avg",
            &["p"],
            &["q"],
            vec![
                ("kernel_shape", A::Ints(vec![2, 2])),
                ("pads", A::Ints(vec![1, 1, 1, 1])),
            ],
        ),
        node("GlobalAveragePool", "", "gap", &["q"], &["r"], vec![]),
    ];
    let b = small_net(&[1, 4, 8, 8], mid, inits, 2, "r");
    let e = lower_err(&b);
    for want in [
        "3 unsupported",
        "conv_g",
        "group = 2",
        "auto_pad = SAME_WEIRD",
        "pool_ceil",
        "ceil_mode = 1",
        "avg",
        "AveragePool",
        "average pooling takes no padding",
    ] {
        assert!(e.contains(want), "missing `{want}` in:\n{e}");
    }
    // an average pool of a bipolar map (its sum is no bipolar value, and no quantizer
    // follows to absorb the division)
    let mut inits = vec![scalar("bq_s", 1.0)];
    let wq = conv_w("w", &[2, 1, 3, 3], &mut inits);
    let mid = vec![
        wq,
        node("Conv", "", "conv", &["a0", "wq"], &["c"], vec![]),
        node("BipolarQuant", Q, "bq", &["c", "bq_s"], &["b"], vec![]),
        node("GlobalAveragePool", "", "gap", &["b"], &["r"], vec![]),
    ];
    let b = small_net(&[1, 1, 5, 5], mid, inits, 2, "r");
    let e = lower_err(&b);
    assert!(
        e.contains("gap") && e.contains("GlobalAveragePool") && e.contains("BIPOLAR"),
        "{e}"
    );
    // padding a bipolar stream: float 0 is no bipolar value
    let mut inits = vec![scalar("bq_s", 1.0)];
    let w0 = conv_w("w0", &[1, 1, 1, 1], &mut inits);
    let wq = conv_w("w", &[2, 1, 3, 3], &mut inits);
    let mid = vec![
        w0,
        node("Conv", "", "conv_0", &["a0", "w0q"], &["c0"], vec![]),
        node("BipolarQuant", Q, "bq", &["c0", "bq_s"], &["b"], vec![]),
        wq,
        node(
            "Conv",
            "",
            "conv_p",
            &["b", "wq"],
            &["c"],
            vec![("pads", A::Ints(vec![1, 1, 1, 1]))],
        ),
        quant("c", "a1", 1.0, 0.0, 2.0, true, true, "ROUND", &mut inits),
    ];
    let b = small_net(&[1, 1, 4, 4], mid, inits, 2 * 16, "a1");
    let e = lower_err(&b);
    assert!(
        e.contains("conv_p") && e.contains("pads") && e.contains("BIPOLAR"),
        "{e}"
    );
    // a kernel larger than the padded input names the node
    let mut inits = vec![];
    let wq = conv_w("w", &[2, 1, 5, 5], &mut inits);
    let mid = vec![
        wq,
        node("Conv", "", "conv_big", &["a0", "wq"], &["c"], vec![]),
        quant("c", "a1", 1.0, 0.0, 2.0, true, true, "ROUND", &mut inits),
    ];
    let b = small_net(&[1, 1, 3, 3], mid, inits, 2, "a1");
    let e = lower_err(&b);
    assert!(
        e.contains("conv_big") && e.contains("kernel spans 5"),
        "{e}"
    );
}

#[test]
fn inspect_prints_the_finn_cnv_node_list() {
    let m = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/cnv_w1a1_finn/model.onnx"
    ));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(["inspect", m.to_str().unwrap()])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for want in [
        "[1, 3, 32, 32]",
        "stream 32x32x3",
        "reorder 3 channel planes",
        "l00_swg SlidingWindow kernel 3x3",
        "l01_mvu MatrixVector 27x64",
        "Pool Max over 4 positions, 64 channels",
        "MatrixVector 256x512",
        "hardware output: 10 values",
    ] {
        assert!(s.contains(want), "missing `{want}` in:\n{s}");
    }
}

#[test]
fn an_nhwc_input_transpose_runs_on_the_host() {
    // NHWC float input -> Transpose to NCHW -> quantizer -> conv -> FC
    let mut inits = vec![];
    let mut nodes = vec![node(
        "Transpose",
        "",
        "to_nchw",
        &["x"],
        &["xt"],
        vec![("perm", A::Ints(vec![0, 3, 1, 2]))],
    )];
    nodes.push(quant(
        "xt", "a0", 0.125, 0.0, 4.0, false, false, "ROUND", &mut inits,
    ));
    nodes.push(conv_w("w", &[2, 3, 2, 2], &mut inits));
    nodes.push(node("Conv", "", "conv", &["a0", "wq"], &["c"], vec![]));
    nodes.push(quant(
        "c", "a1", 1.0, 0.0, 2.0, true, true, "ROUND", &mut inits,
    ));
    nodes.push(node(
        "Flatten",
        "",
        "flatten",
        &["a1"],
        &["f"],
        vec![("axis", A::I(1))],
    ));
    let wv: Vec<f32> = (0..2 * 3 * 2 * 3)
        .map(|i| ((i * 7) % 4) as f32 - 2.0)
        .collect();
    inits.push(raw_f32("wf", &[12, 3], &wv));
    nodes.push(quant(
        "wf", "wfq", 1.0, 0.0, 2.0, true, false, "ROUND", &mut inits,
    ));
    nodes.push(node("MatMul", "", "fc", &["f", "wfq"], &["y"], vec![]));
    let b = model(8, 13, ("x", &[1, 3, 4, 3]), "y", nodes, inits);
    let m = check_against_exec(&b, &[1, 3, 4, 3]);
    assert_eq!(m.input().logical_shape(), [1, 3, 4, 3]);
    assert_eq!(m.input().tensor.shape, [3, 4, 3]);
    assert!(
        m.pre
            .iter()
            .any(|s| matches!(s, ferrite_gen::ir::HostStep::Gather { .. })),
        "{:?}",
        m.pre
    );
}

#[test]
fn an_average_pool_without_a_quantizer_scales_the_next_layer() {
    // conv -> quant -> GlobalAveragePool over 2x2 -> flatten -> FC: the hardware sums, the
    // division by 4 joins the FC's input scale
    let mut inits = vec![];
    let wq = conv_w("w", &[2, 1, 3, 3], &mut inits);
    let mid = vec![
        wq,
        node("Conv", "", "conv", &["a0", "wq"], &["c"], vec![]),
        quant("c", "a1", 0.5, 0.0, 2.0, true, false, "ROUND", &mut inits),
        node("GlobalAveragePool", "", "gap", &["a1"], &["r"], vec![]),
    ];
    let b = small_net(&[1, 1, 4, 4], mid, inits, 2, "r");
    let m = check_against_exec(&b, &[1, 1, 4, 4]);
    let kinds: Vec<&str> = m.nodes.iter().map(|n| n.kind()).collect();
    assert_eq!(
        kinds,
        ["SlidingWindow", "MatrixVector", "Pool", "MatrixVector"]
    );
    let ferrite_gen::ir::Op::Pool(p) = &m.nodes[2].op else {
        panic!()
    };
    assert!(p.global && p.mode == ferrite_gen::ir::PoolMode::Sum && p.positions == 4);
}

#[test]
fn golden_cli_matches_expected_on_the_cnn_examples() {
    // `ferrite golden --expected` exits non-zero unless top-1 agrees on every frame.
    let ex = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples"));
    let d = tempfile::tempdir().unwrap();
    for e in [
        "cnv_w2a2",
        "cnn_pad_w4a4",
        "kws_conv1d_w3a3",
        "cnv_w1a1_finn",
        "cnv_w2a2_finn",
    ] {
        let dir = ex.join(e);
        let y = d.path().join(format!("{e}.npy"));
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_ferrite"))
            .args([
                "golden",
                dir.join("model.onnx").to_str().unwrap(),
                "--input",
            ])
            .arg(dir.join("inputs.npy"))
            .arg("--output")
            .arg(&y)
            .arg("--expected")
            .arg(dir.join("expected.npy"))
            .output()
            .unwrap();
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "{e}: {out}");
        assert!(out.contains("top-1 agrees on"), "{e}: {out}");
    }
}

#[test]
fn trunc_avg_pool_v2_is_exact() {
    // conv -> 3-bit quant (scale 1/2) -> AveragePool 2x2 -> * 4 -> Trunc v2 (output scale
    // 2 = a 2-bit shift, 3 bits, HALF_UP via ROUND) -> FC: Pool(Sum) + Thresholding
    for mode in ["FLOOR", "ROUND"] {
        let mut inits = vec![];
        let wq = conv_w("w", &[2, 1, 3, 3], &mut inits);
        for (k, v) in [
            ("t_s", 0.5f32),
            ("t_z", 0.0),
            ("t_ib", 5.0),
            ("t_os", 2.0),
            ("t_ob", 3.0),
            ("four", 4.0),
        ] {
            inits.push(scalar(k, v));
        }
        let mid = vec![
            wq,
            node("Conv", "", "conv", &["a0", "wq"], &["c"], vec![]),
            quant("c", "a1", 0.5, 0.0, 3.0, false, false, "ROUND", &mut inits),
            node(
                "AveragePool",
                "",
                "avg",
                &["a1"],
                &["p"],
                vec![
                    ("kernel_shape", A::Ints(vec![2, 2])),
                    ("strides", A::Ints(vec![2, 2])),
                ],
            ),
            node("Mul", "", "sum", &["p", "four"], &["ps"], vec![]),
            node(
                "Trunc",
                Q,
                "trunc",
                &["ps", "t_s", "t_z", "t_ib", "t_os", "t_ob"],
                &["t"],
                vec![
                    ("signed", A::I(0)),
                    ("narrow", A::I(0)),
                    ("rounding_mode", A::S(mode)),
                ],
            ),
        ];
        // 6x6 -> conv -> 4x4 -> pool -> 2x2, 2 channels
        let b = small_net(&[1, 1, 6, 6], mid, inits, 2 * 2 * 2, "t");
        let m = check_against_exec(&b, &[1, 1, 6, 6]);
        let kinds: Vec<&str> = m.nodes.iter().map(|n| n.kind()).collect();
        assert_eq!(
            kinds,
            [
                "SlidingWindow",
                "MatrixVector",
                "SlidingWindow",
                "Pool",
                "Thresholding",
                "MatrixVector"
            ],
            "{mode}"
        );
    }
}

/// Attribute combinations ONNX forbids or qonnx turns into NaN are refused, naming the node:
/// explicit pads together with an `auto_pad`, a negative BatchNormalization epsilon.
#[test]
fn invalid_attribute_combinations_are_refused() {
    let mut inits = vec![];
    let wq = conv_w("w", &[2, 2, 3, 3], &mut inits);
    let mid = vec![
        wq,
        node(
            "Conv",
            "",
            "conv_both",
            &["a0", "wq"],
            &["c"],
            vec![
                ("pads", A::Ints(vec![1, 1, 1, 1])),
                ("auto_pad", A::S("VALID")),
            ],
        ),
    ];
    let b = small_net(&[1, 2, 8, 8], mid, inits, 2, "c");
    let e = lower_err(&b);
    assert!(
        e.contains("conv_both") && e.contains("auto_pad = VALID together"),
        "{e}"
    );
    let mut inits = vec![
        scalar("g", 1.0),
        scalar("beta", 0.0),
        scalar("mean", 0.0),
        scalar("var", 1.0),
    ];
    let wq = conv_w("w", &[2, 2, 3, 3], &mut inits);
    let mid = vec![
        wq,
        node("Conv", "", "conv", &["a0", "wq"], &["c"], vec![]),
        node(
            "BatchNormalization",
            "",
            "bn_neg",
            &["c", "g", "beta", "mean", "var"],
            &["d"],
            vec![("epsilon", A::F(-1.0))],
        ),
    ];
    let b = small_net(&[1, 2, 8, 8], mid, inits, 2, "d");
    let e = lower_err(&b);
    assert!(e.contains("bn_neg") && e.contains("epsilon = -1"), "{e}");
}
