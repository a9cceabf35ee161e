//! Property tests: every streamlining pass preserves the float reference outputs of random
//! quantized MLPs (bit for bit: power-of-two scales make every float step exact or
//! identically rounded), and the lowered model's golden output equals them too.

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
    widths: Vec<usize>,
    /// Activation bits per hidden layer (1 = BipolarQuant).
    act_bits: Vec<u32>,
    act_signed: Vec<bool>,
    modes: Vec<&'static str>,
    /// Weight bits per layer (1 = BipolarQuant).
    w_bits: Vec<u32>,
    gemm: Vec<bool>,
    relu: Vec<bool>,
}

fn net() -> impl Strategy<Value = Net> {
    (1usize..=3, any::<u64>()).prop_flat_map(|(layers, seed)| {
        (
            Just(seed),
            prop::collection::vec(2usize..=12, layers + 1),
            prop::collection::vec(prop::sample::select(vec![1u32, 2, 3, 4]), layers + 1),
            prop::collection::vec(any::<bool>(), layers + 1),
            prop::collection::vec(
                prop::sample::select(vec![
                    "ROUND",
                    "CEIL",
                    "FLOOR",
                    "UP",
                    "DOWN",
                    "HALF_UP",
                    "HALF_DOWN",
                ]),
                layers + 1,
            ),
            prop::collection::vec(prop::sample::select(vec![1u32, 2, 3]), layers),
            prop::collection::vec(any::<bool>(), layers),
            prop::collection::vec(any::<bool>(), layers),
        )
            .prop_map(
                |(seed, widths, act_bits, act_signed, modes, w_bits, gemm, relu)| Net {
                    seed,
                    widths,
                    act_bits,
                    act_signed,
                    modes,
                    w_bits,
                    gemm,
                    relu,
                },
            )
    })
}

fn pow2(rng: &mut impl Rng) -> f32 {
    2f32.powi(rng.random_range(-3..=2))
}

/// Quantizer node (BipolarQuant for 1 bit) with a power-of-two scale.
fn quantizer(
    x: &str,
    out: &str,
    bits: u32,
    signed: bool,
    mode: &'static str,
    rng: &mut impl Rng,
    inits: &mut Vec<ferrite_gen::import::onnx::TensorProto>,
) -> ferrite_gen::import::onnx::NodeProto {
    let s = pow2(rng);
    if bits == 1 {
        let sn = format!("{out}_s");
        inits.push(scalar(&sn, s));
        node(
            "BipolarQuant",
            "onnx.brevitas",
            &format!("{out}_bq"),
            &[x, &sn],
            &[out],
            vec![],
        )
    } else {
        let narrow = signed && rng.random_bool(0.5);
        // integral zero points (asymmetric quantizers) now and then
        // (inside the quantizer's integer range: a zero point outside it is refused)
        let zp = [0.0f32, 0.0, 0.0, 1.0, -1.0, 2.0][rng.random_range(0..6)];
        let (lo, hi) = ferrite_gen::ir::host::quant_range(bits, signed, narrow);
        let zp = zp.clamp(lo as f32, hi as f32);
        quant(x, out, s, zp, bits as f32, signed, narrow, mode, inits)
    }
}

fn build(n: &Net) -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n.seed);
    let layers = n.w_bits.len();
    let mut inits = vec![scalar("pre_k", 1.5)];
    let mut nodes = vec![node("Mul", "", "pre", &["x", "pre_k"], &["x1"], vec![])];
    nodes.push(quantizer(
        "x1",
        "a0",
        n.act_bits[0],
        n.act_signed[0],
        n.modes[0],
        &mut rng,
        &mut inits,
    ));
    let mut cur = "a0".to_string();
    for l in 0..layers {
        let (k, m) = (n.widths[l], n.widths[l + 1]);
        let wb = n.w_bits[l];
        let ws = pow2(&mut rng);
        let (lo, hi) = if wb == 1 {
            (-1, 1)
        } else {
            (-(1 << (wb - 1)), (1 << (wb - 1)) - 1)
        };
        let gemm = n.gemm[l];
        let count = k * m;
        let wv: Vec<f32> = (0..count)
            .map(|_| {
                let v = rng.random_range(lo..=hi);
                (if wb == 1 && v == 0 { 1 } else { v }) as f32 * ws
            })
            .collect();
        let wname = format!("w{l}");
        let dims: Vec<i64> = if gemm {
            vec![m as i64, k as i64]
        } else {
            vec![k as i64, m as i64]
        };
        inits.push(raw_f32(&wname, &dims, &wv));
        let wq = format!("w{l}q");
        if wb == 1 {
            let sn = format!("{wq}_s");
            inits.push(scalar(&sn, ws));
            nodes.push(node(
                "BipolarQuant",
                "onnx.brevitas",
                &format!("{wq}_bq"),
                &[&wname, &sn],
                &[&wq],
                vec![],
            ));
        } else {
            nodes.push(quant(
                &wname, &wq, ws, 0.0, wb as f32, true, false, "ROUND", &mut inits,
            ));
        }
        let h = format!("h{l}");
        if gemm {
            let c: Vec<f32> = (0..m)
                .map(|_| rng.random_range(-4..=4) as f32 * 0.25)
                .collect();
            inits.push(raw_f32(&format!("c{l}"), &[m as i64], &c));
            nodes.push(node(
                "Gemm",
                "",
                &format!("fc{l}"),
                &[&cur, &wq, &format!("c{l}")],
                &[&h],
                vec![("transB", A::I(1))],
            ));
        } else {
            nodes.push(node(
                "MatMul",
                "",
                &format!("fc{l}"),
                &[&cur, &wq],
                &[&h],
                vec![],
            ));
        }
        cur = h;
        if l + 1 < layers {
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
                &[&cur, &names[0], &names[1], &names[2], &names[3]],
                &[&hb],
                vec![],
            ));
            cur = hb;
            if n.relu[l] {
                let r = format!("r{l}");
                nodes.push(node(
                    "Relu",
                    "",
                    &format!("relu{l}"),
                    &[&cur],
                    &[&r],
                    vec![],
                ));
                cur = r;
            }
            let a = format!("a{}", l + 1);
            nodes.push(quantizer(
                &cur,
                &a,
                n.act_bits[l + 1],
                n.act_signed[l + 1],
                n.modes[l + 1],
                &mut rng,
                &mut inits,
            ));
            cur = a;
        }
    }
    inits.push(scalar("post_k", 0.75));
    nodes.push(node("Mul", "", "post", &[&cur, "post_k"], &["y"], vec![]));
    model(8, 13, ("x", &[1, n.widths[0] as i64]), "y", nodes, inits)
}

fn outputs(g: &Graph, xs: &[Vec<f32>]) -> Vec<Vec<u32>> {
    xs.iter()
        .map(|x| {
            let t = Tensor::f32(vec![1, x.len()], x.clone());
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
    #![proptest_config(ProptestConfig { cases: 192, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_pass_preserves_reference_outputs(n in net(), xseed in any::<u64>()) {
        let bytes = build(&n);
        let mut g = import_bytes(&bytes, "prop.onnx", None).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(xseed);
        let xs: Vec<Vec<f32>> = (0..24)
            .map(|_| (0..n.widths[0]).map(|_| rng.random_range(-48..=48) as f32 / 16.0).collect())
            .collect();
        let want = outputs(&g, &xs);
        passes::infer_shapes(&mut g).unwrap();
        let mut changed_passes = std::collections::BTreeSet::new();
        for _round in 0..20 {
            let mut any = false;
            for (name, pass) in passes::PIPELINE {
                while pass(&mut g).unwrap_or_else(|e| panic!("{name}: {e}")) {
                    any = true;
                    changed_passes.insert(*name);
                    g.remove_dead();
                    passes::verify(&g, name).unwrap();
                    passes::infer_shapes(&mut g).unwrap();
                    prop_assert_eq!(&outputs(&g, &xs), &want, "after pass {}", name);
                }
            }
            if !any { break; }
        }
        prop_assert!(changed_passes.contains("absorb-thresholds") || n.w_bits.len() == 1);
        let m = passes::lower::lower(&g, "prop").unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(m.nodes.len(), n.w_bits.len());
        for (x, w) in xs.iter().zip(&want) {
            let got: Vec<u32> = golden::host::run_float(&m, x).unwrap().iter().map(|v| v.to_bits()).collect();
            prop_assert_eq!(&got, w);
        }
    }
}

/// A deep network (24 layers) streamlines to a fixpoint and stays bit-exact.
#[test]
fn deep_network_streamlines() {
    let layers = 24;
    let n = Net {
        seed: 42,
        widths: vec![6; layers + 1],
        act_bits: vec![2; layers + 1],
        act_signed: vec![true; layers + 1],
        modes: vec!["ROUND"; layers + 1],
        w_bits: vec![2; layers],
        gemm: (0..layers).map(|i| i % 2 == 0).collect(),
        relu: vec![false; layers],
    };
    let bytes = build(&n);
    let g0 = import_bytes(&bytes, "deep.onnx", None).unwrap();
    let mut g = g0.clone();
    passes::streamline(&mut g).unwrap_or_else(|e| panic!("{e}"));
    let m = passes::lower::lower(&g, "deep").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.nodes.len(), layers);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let xs: Vec<Vec<f32>> = (0..50)
        .map(|_| {
            (0..6)
                .map(|_| rng.random_range(-48..=48) as f32 / 16.0)
                .collect()
        })
        .collect();
    let want = outputs(&g0, &xs);
    for (x, w) in xs.iter().zip(&want) {
        let got: Vec<u32> = golden::host::run_float(&m, x)
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(&got, w);
    }
}
