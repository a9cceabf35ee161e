//! Property tests for convolutional networks: random quantized CNNs (1-D and 2-D convs with
//! strides, padding, dilation, per-channel weight scales, BatchNorm, max pools, a flatten
//! into a fully connected layer) keep the reference executor's outputs bit for bit through
//! every streamlining pass (power-of-two scales), and the lowered model's golden output on
//! the NCHW float input equals them too (Pad + SlidingWindow + MatrixVector, SlidingWindow
//! + Pool, the NCHW-flatten permutation of the FC weights, the host channels-last step).

mod import_util;

use ferrite_gen::golden;
use ferrite_gen::import::{exec, graph::Graph, graph::Tensor, import_bytes};
use ferrite_gen::passes;
use import_util::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone)]
struct Net {
    seed: u64,
    /// 1-D (NCW) instead of 2-D (NCHW).
    one_d: bool,
    /// Spatial size of the input (H = W, or T).
    size: usize,
    /// Channels: input, then one per conv layer.
    chans: Vec<usize>,
    /// Activation bits of the input and after every conv (1 = BipolarQuant).
    act_bits: Vec<u32>,
    /// Per conv layer: kernel, stride, pad, dilation, per-channel weight scales, pool.
    kernel: Vec<usize>,
    stride: Vec<usize>,
    pad: Vec<usize>,
    dilation: Vec<usize>,
    per_channel: Vec<bool>,
    /// Per conv layer: 0 none, 1 MaxPool, 2 AveragePool + Quant, 3 AveragePool * size +
    /// Trunc (Brevitas' TruncAvgPool), 4 GlobalAveragePool + Quant, 5 AveragePool 2 alone
    /// (its division joins the next layer's input scale), 6 GlobalAveragePool alone over at
    /// most 4 pixels (else as 5). Windows without a quantizer have power-of-two sizes, so
    /// the division is exact.
    pool: Vec<u8>,
    gemm: bool,
    classes: usize,
}

fn net() -> impl Strategy<Value = Net> {
    (1usize..=2, any::<u64>()).prop_flat_map(|(layers, seed)| {
        (
            (Just(seed), any::<bool>(), 4usize..=8),
            prop::collection::vec(1usize..=4, layers + 1),
            prop::collection::vec(prop::sample::select(vec![1u32, 2, 3, 4]), layers + 1),
            (
                prop::collection::vec(1usize..=3, layers),
                prop::collection::vec(1usize..=2, layers),
                prop::collection::vec(0usize..=1, layers),
                prop::collection::vec(1usize..=2, layers),
            ),
            (
                prop::collection::vec(any::<bool>(), layers),
                prop::collection::vec(0u8..=6, layers),
                any::<bool>(),
                2usize..=5,
            ),
        )
            .prop_map(
                |(
                    (seed, one_d, size),
                    chans,
                    act_bits,
                    (kernel, stride, pad, dilation),
                    (per_channel, pool, gemm, classes),
                )| Net {
                    seed,
                    one_d,
                    size,
                    chans,
                    act_bits,
                    kernel,
                    stride,
                    pad,
                    dilation,
                    per_channel,
                    pool,
                    gemm,
                    classes,
                },
            )
    })
}

fn pow2(rng: &mut impl Rng) -> f32 {
    2f32.powi(rng.random_range(-3..=2))
}

type Inits = Vec<ferrite_gen::import::onnx::TensorProto>;

fn act(
    x: &str,
    out: &str,
    bits: u32,
    rng: &mut impl Rng,
    inits: &mut Inits,
) -> ferrite_gen::import::onnx::NodeProto {
    let s = pow2(rng);
    act_with(x, out, bits, s, rng, inits)
}

fn act_with(
    x: &str,
    out: &str,
    bits: u32,
    s: f32,
    rng: &mut impl Rng,
    inits: &mut Inits,
) -> ferrite_gen::import::onnx::NodeProto {
    if bits == 1 {
        let sn = format!("{out}_s");
        inits.push(scalar(&sn, s));
        node(
            "BipolarQuant",
            Q,
            &format!("{out}_bq"),
            &[x, &sn],
            &[out],
            vec![],
        )
    } else {
        let signed = rng.random_bool(0.5);
        quant(
            x,
            out,
            s,
            0.0,
            bits as f32,
            signed,
            signed && rng.random_bool(0.5),
            "ROUND",
            inits,
        )
    }
}

/// The ONNX model and the input shape (with batch 1).
fn build(n: &Net) -> (Vec<u8>, Vec<usize>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n.seed);
    let mut inits: Inits = vec![scalar("pre_k", 1.5)];
    let mut nodes = vec![node("Mul", "", "pre", &["x", "pre_k"], &["x1"], vec![])];
    nodes.push(act("x1", "a0", n.act_bits[0], &mut rng, &mut inits));
    let mut cur = "a0".to_string();
    let (mut h, mut w) = if n.one_d {
        (1, n.size)
    } else {
        (n.size, n.size)
    };
    let spatial = |v: usize| -> Vec<i64> {
        if n.one_d {
            vec![v as i64]
        } else {
            vec![v as i64, v as i64]
        }
    };
    for l in 0..n.kernel.len() {
        let (c, m) = (n.chans[l], n.chans[l + 1]);
        // padding a bipolar stream is refused: pad only integer activations
        let pad = if n.act_bits[l] == 1 { 0 } else { n.pad[l] };
        let eff = |k: usize, d: usize| (k - 1) * d + 1;
        let fits =
            |k: usize, d: usize| eff(k, d) <= w + 2 * pad && (n.one_d || eff(k, d) <= h + 2 * pad);
        let (mut k, mut d) = (n.kernel[l], n.dilation[l]);
        if !fits(k, d) {
            d = 1;
        }
        while !fits(k, d) {
            k -= 1;
        }
        let s = n.stride[l];
        let ws: Vec<f32> = if n.per_channel[l] {
            (0..m).map(|_| pow2(&mut rng)).collect()
        } else {
            vec![pow2(&mut rng)]
        };
        let kk = if n.one_d { k } else { k * k };
        let wv: Vec<f32> = (0..m * c * kk)
            .map(|i| {
                let sc = ws[if ws.len() == 1 { 0 } else { i / (c * kk) }];
                rng.random_range(-2..=1) as f32 * sc
            })
            .collect();
        let mut wdims = vec![m as i64, c as i64];
        wdims.extend(spatial(k));
        inits.push(raw_f32(&format!("w{l}"), &wdims, &wv));
        let mut sdims = vec![ws.len() as i64];
        if ws.len() > 1 {
            sdims.extend(std::iter::repeat_n(1, wdims.len() - 1));
        }
        inits.push(raw_f32(
            &format!("w{l}q_s"),
            if ws.len() > 1 { &sdims } else { &[] },
            &ws,
        ));
        inits.push(scalar(&format!("w{l}q_z"), 0.0));
        inits.push(scalar(&format!("w{l}q_b"), 2.0));
        nodes.push(node(
            "Quant",
            Q,
            &format!("w{l}_quant"),
            &[
                &format!("w{l}"),
                &format!("w{l}q_s"),
                &format!("w{l}q_z"),
                &format!("w{l}q_b"),
            ],
            &[&format!("w{l}q")],
            vec![
                ("signed", A::I(1)),
                ("narrow", A::I(0)),
                ("rounding_mode", A::S("ROUND")),
            ],
        ));
        let hc = format!("c{l}");
        let mut pads = spatial(pad);
        pads.extend(spatial(pad));
        nodes.push(node(
            "Conv",
            "",
            &format!("conv{l}"),
            &[&cur, &format!("w{l}q")],
            &[&hc],
            vec![
                ("kernel_shape", A::Ints(spatial(k))),
                ("strides", A::Ints(spatial(s))),
                ("pads", A::Ints(pads)),
                ("dilations", A::Ints(spatial(d))),
            ],
        ));
        let o = |i: usize| (i + 2 * pad - eff(k, d)) / s + 1;
        if !n.one_d {
            h = o(h);
        }
        w = o(w);
        let names = ["g", "b", "m", "v"].map(|p| format!("bn{l}_{p}"));
        let vals: [Vec<f32>; 4] = [
            (0..m).map(|_| rng.random_range(-2.0f32..2.0)).collect(),
            (0..m).map(|_| rng.random_range(-2.0f32..2.0)).collect(),
            (0..m).map(|_| rng.random_range(-3.0f32..3.0)).collect(),
            (0..m).map(|_| rng.random_range(0.05f32..5.0)).collect(),
        ];
        for (nm, v) in names.iter().zip(&vals) {
            inits.push(typed_f32(nm, &[m as i64], v));
        }
        let hb = format!("hb{l}");
        nodes.push(node(
            "BatchNormalization",
            "",
            &format!("bn{l}"),
            &[&hc, &names[0], &names[1], &names[2], &names[3]],
            &[&hb],
            vec![],
        ));
        let a = format!("a{}", l + 1);
        let act_scale = pow2(&mut rng);
        let bits = n.act_bits[l + 1];
        nodes.push(act_with(&hb, &a, bits, act_scale, &mut rng, &mut inits));
        cur = a;
        let kind = if bits == 1 {
            n.pool[l].min(1)
        } else {
            n.pool[l]
        };
        if kind >= 2 && w >= 2 && (n.one_d || h >= 2) {
            let alone = kind >= 5;
            let global = kind == 4 || (kind == 6 && w * h <= 4 && (w * h).is_power_of_two());
            let pk = if w >= 3 && (n.one_d || h >= 3) && !alone {
                3
            } else {
                2
            };
            let (op, attrs) = if global {
                ("GlobalAveragePool", vec![])
            } else {
                (
                    "AveragePool",
                    vec![
                        ("kernel_shape", A::Ints(spatial(pk))),
                        ("strides", A::Ints(spatial(2))),
                    ],
                )
            };
            let count = if global {
                w * h
            } else if n.one_d {
                pk
            } else {
                pk * pk
            };
            let p = format!("p{l}");
            nodes.push(node(op, "", &format!("pool{l}"), &[&cur], &[&p], attrs));
            if global {
                h = 1;
                w = 1;
            } else {
                if !n.one_d {
                    h = (h - pk) / 2 + 1;
                }
                w = (w - pk) / 2 + 1;
            }
            let q = format!("pq{l}");
            if alone {
                cur = p;
                continue;
            }
            if kind == 3 {
                // Brevitas TruncAvgPool: the average times the window size, truncated
                let ms = format!("p{l}_count");
                inits.push(scalar(&ms, count as f32));
                nodes.push(node(
                    "Mul",
                    "",
                    &format!("pool{l}_mul"),
                    &[&p, &ms],
                    &[&format!("{p}_sum")],
                    vec![],
                ));
                let extra = (usize::BITS - (count - 1).leading_zeros()) as f32;
                for (k, v) in [
                    ("s", act_scale),
                    ("z", 0.0),
                    ("ib", bits as f32 + extra),
                    ("ob", bits as f32),
                ] {
                    inits.push(scalar(&format!("{q}_{k}"), v));
                }
                nodes.push(node(
                    "Trunc",
                    Q,
                    &format!("pool{l}_trunc"),
                    &[
                        &format!("{p}_sum"),
                        &format!("{q}_s"),
                        &format!("{q}_z"),
                        &format!("{q}_ib"),
                        &format!("{q}_ob"),
                    ],
                    &[&q],
                    vec![("rounding_mode", A::S("FLOOR"))],
                ));
            } else {
                nodes.push(act(&p, &q, bits, &mut rng, &mut inits));
            }
            cur = q;
        } else if kind >= 1 && w >= 2 && (n.one_d || h >= 2) {
            let p = format!("p{l}");
            let pk = if w >= 3 && (n.one_d || h >= 3) { 3 } else { 2 };
            nodes.push(node(
                "MaxPool",
                "",
                &format!("pool{l}"),
                &[&cur],
                &[&p],
                vec![
                    ("kernel_shape", A::Ints(spatial(pk))),
                    ("strides", A::Ints(spatial(2))),
                ],
            ));
            if !n.one_d {
                h = (h - pk) / 2 + 1;
            }
            w = (w - pk) / 2 + 1;
            cur = p;
        }
    }
    let m = *n.chans.last().unwrap();
    let flat = m * h * w;
    nodes.push(node(
        "Flatten",
        "",
        "flatten",
        &[&cur],
        &["f"],
        vec![("axis", A::I(1))],
    ));
    let ws = pow2(&mut rng);
    let k = n.classes;
    let wv: Vec<f32> = (0..flat * k)
        .map(|_| rng.random_range(-2..=1) as f32 * ws)
        .collect();
    let dims = if n.gemm {
        [k as i64, flat as i64]
    } else {
        [flat as i64, k as i64]
    };
    inits.push(raw_f32("wf", &dims, &wv));
    nodes.push(quant(
        "wf", "wfq", ws, 0.0, 2.0, true, false, "ROUND", &mut inits,
    ));
    if n.gemm {
        let c: Vec<f32> = (0..k)
            .map(|_| rng.random_range(-4..=4) as f32 * 0.25)
            .collect();
        inits.push(raw_f32("cf", &[k as i64], &c));
        nodes.push(node(
            "Gemm",
            "",
            "fc",
            &["f", "wfq", "cf"],
            &["h"],
            vec![("transB", A::I(1))],
        ));
    } else {
        nodes.push(node("MatMul", "", "fc", &["f", "wfq"], &["h"], vec![]));
    }
    inits.push(scalar("post_k", 0.75));
    nodes.push(node("Mul", "", "post", &["h", "post_k"], &["y"], vec![]));
    let shape: Vec<usize> = if n.one_d {
        vec![1, n.chans[0], n.size]
    } else {
        vec![1, n.chans[0], n.size, n.size]
    };
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    (model(8, 13, ("x", &dims), "y", nodes, inits), shape)
}

fn outputs(g: &Graph, shape: &[usize], xs: &[Vec<f32>]) -> Vec<Vec<u32>> {
    xs.iter()
        .map(|x| {
            let t = Tensor::f32(shape.to_vec(), x.clone());
            exec::run_outputs(g, &t)
                .unwrap()
                .remove(0)
                .to_f32()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn conv_nets_keep_reference_outputs(n in net(), xseed in any::<u64>()) {
        let (bytes, shape) = build(&n);
        let mut g = import_bytes(&bytes, "conv.onnx", None).unwrap();
        let elems: usize = shape.iter().product();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(xseed);
        let xs: Vec<Vec<f32>> = (0..12)
            .map(|_| (0..elems).map(|_| rng.random_range(-48..=48) as f32 / 16.0).collect())
            .collect();
        let want = outputs(&g, &shape, &xs);
        passes::infer_shapes(&mut g).unwrap();
        let mut changed = std::collections::BTreeSet::new();
        for _round in 0..20 {
            let mut any = false;
            for (name, pass) in passes::PIPELINE {
                while pass(&mut g).unwrap_or_else(|e| panic!("{name}: {e}")) {
                    any = true;
                    changed.insert(*name);
                    g.remove_dead();
                    passes::verify(&g, name).unwrap();
                    passes::infer_shapes(&mut g).unwrap();
                    prop_assert_eq!(&outputs(&g, &shape, &xs), &want, "after pass {}", name);
                }
            }
            if !any { break; }
        }
        prop_assert!(changed.contains("absorb-thresholds"));
        let m = passes::lower::lower(&g, "conv").unwrap_or_else(|e| panic!("{e}\n{g}"));
        // every conv is a (padding) sliding window and a matrix-vector node
        let kinds: Vec<&str> = m.nodes.iter().map(|x| x.kind()).collect();
        prop_assert_eq!(kinds.iter().filter(|k| **k == "MatrixVector").count(), n.kernel.len() + 1);
        prop_assert_eq!(m.input().logical_shape(), shape.clone());
        for (i, nd) in m.nodes.iter().enumerate() {
            let kind = match nd.kind() {
                "MatrixVector" => "mvu",
                "SlidingWindow" => "swg",
                "Pool" => "pool",
                "Pad" => "pad",
                "Thresholding" => "thr",
                other => other,
            };
            prop_assert_eq!(&nd.name, &format!("l{i:02}_{kind}"));
        }
        for (x, w) in xs.iter().zip(&want) {
            let got: Vec<u32> = golden::host::run_float(&m, x).unwrap().iter().map(|v| v.to_bits()).collect();
            prop_assert_eq!(&got, w);
        }
    }
}
