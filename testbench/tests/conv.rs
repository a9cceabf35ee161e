//! Convolutional networks, golden model vs RTL, bit-exact: padding, sliding windows,
//! matrix-vector units per pixel, max and sum pooling, flattening into fully connected
//! layers, under 0 %, 30 % and 70 % random input idles and output backpressure; measured
//! steady-state cycles a frame equal the design's (its slowest engine's formula). FINN's
//! CNV topology at FINN's published folding (given as a FINN folding config) runs at FINN's
//! figures: 32,768 cycles a frame (w1a1) and 115,200 (w2a2).

use ferrite_gen::cosim;
use ferrite_gen::fold::{FoldPlan, FoldingFile};
use ferrite_gen::ir::{DataType, Model, PoolMode, TensorType};
use ferrite_gen::testing::{Chain, Rng, cnv};
use ferrite_testbench::{Bench, describe, run};

use DataType::{Binary, Bipolar, Int, UInt};

fn bench() -> Bench {
    Bench::new(env!("CARGO_TARGET_TMPDIR"))
}

/// Build once, run `frames` random frames under each stall level; bit-exact, and the
/// steady-state cycles a frame equal the design's expectation.
fn check(tag: &str, m: &Model, p: &FoldPlan, frames: usize, stalls: &[f64]) {
    let b = bench();
    let dir = b
        .build_dir(tag, m, p)
        .unwrap_or_else(|e| panic!("{tag}: {e:#}"));
    let expected = p.exp_cycles_per_frame(m);
    for (k, &stall) in stalls.iter().enumerate() {
        let seed = 300 + k as u64;
        let inputs = cosim::random_frames(m, frames, seed);
        let r = run(&dir, m, &inputs, &b.options(stall, seed, false))
            .unwrap_or_else(|e| panic!("{tag}: {e:#}"));
        assert_eq!(r.frames, frames);
        assert_eq!(r.mismatches, 0, "{tag}: {}", describe(&r));
        assert_eq!(r.cycles_per_frame_expected, expected, "{tag}");
        assert_eq!(
            r.cycles_per_frame_measured,
            expected as f64,
            "{tag}: measured steady-state cycles a frame differ from the slowest engine's: {}",
            describe(&r)
        );
    }
}

const STALLS: [f64; 3] = [0.0, 0.3, 0.7];

#[test]
fn padded_conv_maxpool_fc_w1a1() {
    // 8x8x3 bipolar image, pad 1, 3x3 conv to 16 bipolar, 2x2 max pool, conv 3x3 to 8,
    // flatten into FC 10, top-2
    let mut rng = Rng::new(1);
    let mut c = Chain::new(TensorType::new([8, 8, 3], Bipolar));
    c.pad([1, 1, 1, 1], 1, 3)
        .window([3, 3], [1, 1], [1, 1], 3)
        .mvu(&mut rng, 16, Bipolar, Some(Bipolar), false, (4, 9))
        .max_pool(2, 2, 4)
        .window([3, 3], [1, 1], [1, 1], 4)
        .mvu(&mut rng, 8, Bipolar, Some(Bipolar), false, (2, 16))
        .mvu(&mut rng, 10, Bipolar, None, true, (2, 8))
        .label_select(2, 1);
    let (m, p) = c.build("conv_w1a1");
    check("conv_w1a1", &m, &p, 12, &STALLS);
}

#[test]
fn strided_dilated_rectangular_kernels_int() {
    // 13x13x4 UINT4: 3x1 kernel stride 2; INT2 weights, UINT2 acts; 1x5 dilation 2 conv;
    // overlapping 3x3 stride-2 max pool (floor mode drops a row and a column); global sum
    let mut rng = Rng::new(2);
    let mut c = Chain::new(TensorType::new([13, 13, 4], UInt(4)));
    // 13x13 -(3x1 stride 2x1)-> 6x13 -(1x5 dilation 2)-> 6x5 -(3x3 s2 max)-> 2x2 -> global
    c.window([3, 1], [2, 1], [1, 1], 2)
        .mvu(&mut rng, 6, Int(2), Some(UInt(2)), false, (3, 4))
        .window([1, 5], [1, 1], [1, 2], 6)
        .mvu(&mut rng, 8, Int(4), Some(Int(4)), false, (2, 10))
        .max_pool(3, 2, 2)
        .pool(PoolMode::Sum, 4, true, 4)
        .mvu(&mut rng, 5, Int(3), None, false, (5, 8));
    let (m, p) = c.build("conv_int");
    check("conv_int", &m, &p, 10, &STALLS);
}

#[test]
fn one_d_convolution_over_time() {
    // 1-D: 1x21 time steps of 8 channels, pad 2 left/right with a nonzero zero point,
    // kernel 1x5 (1x21), then 1x3 stride 2 (1x10), 1x2 max pool (1x5), flatten into an FC
    let mut rng = Rng::new(3);
    let mut c = Chain::new(TensorType::new([1, 21, 8], UInt(3)));
    c.pad([0, 2, 0, 2], 4, 4)
        .window([1, 5], [1, 1], [1, 1], 4)
        .mvu(&mut rng, 12, Int(3), Some(UInt(3)), false, (4, 8))
        .window([1, 3], [1, 2], [1, 1], 6)
        .mvu(&mut rng, 16, Int(3), Some(Int(3)), false, (4, 12))
        .window([1, 2], [1, 2], [1, 1], 16)
        .pool(PoolMode::Max, 2, false, 16)
        .mvu(&mut rng, 4, Int(3), None, true, (1, 16));
    let (m, p) = c.build("conv1d");
    check("conv1d", &m, &p, 12, &STALLS);
}

#[test]
fn binary_and_eight_bit_streams_with_sum_pool() {
    // 7x7x2 BINARY, 1x1 conv (pointwise) to UINT8, 2x2 stride-1 sum pool (UINT10), its
    // requantizing thresholds to UINT4, a 5x5 kernel over the 6x6 result (2x2), then a 2x2
    // max pool
    let mut rng = Rng::new(4);
    let mut c = Chain::new(TensorType::new([7, 7, 2], Binary));
    c.window([1, 1], [1, 1], [1, 1], 1)
        .mvu(&mut rng, 4, Int(8), Some(UInt(8)), false, (2, 2))
        .window([2, 2], [1, 1], [1, 1], 4)
        .pool(PoolMode::Sum, 4, false, 2)
        .thresholds(&mut rng, UInt(4), 4)
        .window([5, 5], [1, 1], [1, 1], 2)
        .mvu(&mut rng, 3, Int(2), Some(Int(8)), false, (3, 10))
        .max_pool(2, 2, 3);
    let (m, p) = c.build("conv_sum");
    check("conv_sum", &m, &p, 10, &STALLS);
}

/// FINN's folding config for CNV, as FINN users write it: MVAU, ConvolutionInputGenerator
/// (a convolution's window: FINN's max pools are StreamingMaxPool nodes) and
/// StreamingMaxPool entries keyed by FINN's node names, with keys ferrite ignores.
fn finn_config(m: &Model, p: &FoldPlan) -> String {
    use serde_json::json;
    let mut cfg = serde_json::Map::new();
    cfg.insert(
        "Defaults".into(),
        json!({"ram_style": ["distributed", ["MVAU_hls"]]}),
    );
    let (mut nmv, mut nswg, mut npool) = (0, 0, 0);
    let a = m.analyze().unwrap();
    for (id, n) in m.nodes.iter().enumerate() {
        let f = p.fold(&n.name);
        let feeds_pool = a.consumers[id][0]
            .first()
            .is_some_and(|s| m.nodes[s.node].kind() == "Pool");
        let (key, entry) = match n.kind() {
            "SlidingWindow" if feeds_pool => continue,
            "MatrixVector" => {
                nmv += 1;
                (
                    format!("MVAU_hls_{}", nmv - 1),
                    json!({"PE": f.pe, "SIMD": f.simd, "ram_style": "block", "mem_mode": "internal_decoupled"}),
                )
            }
            "SlidingWindow" => {
                nswg += 1;
                (
                    format!("ConvolutionInputGenerator_rtl_{}", nswg - 1),
                    json!({"SIMD": f.simd, "ram_style": "distributed"}),
                )
            }
            "Pool" => {
                npool += 1;
                (
                    format!("StreamingMaxPool_hls_{}", npool - 1),
                    json!({"PE": f.pe}),
                )
            }
            _ => continue,
        };
        cfg.insert(key, entry);
    }
    cfg.insert("StreamingFIFO_rtl_0".into(), json!({"depth": 32}));
    serde_json::Value::Object(cfg).to_string()
}

fn check_cnv(w2a2: bool, want: u64) {
    let mut rng = Rng::new(if w2a2 { 22 } else { 11 });
    let (wt, at) = if w2a2 {
        (Int(2), Int(2))
    } else {
        (Bipolar, Bipolar)
    };
    let (m, p) = cnv(&mut rng, wt, at, w2a2);
    let tag = m.name.clone();
    // the same plan from FINN's folding config
    let file = FoldingFile::parse(&finn_config(&m, &p)).unwrap();
    let from_finn = FoldPlan::from_file(&m, &file, "finn.json").unwrap();
    assert_eq!(from_finn.folds, p.folds, "{tag}: FINN config read back");
    assert_eq!(p.exp_cycles_per_frame(&m), want, "{tag}: estimate");
    check(&tag, &m, &from_finn, 18, &[0.0]);
}

#[test]
fn cnv_w1a1_at_finn_folding_runs_at_32768_cycles() {
    check_cnv(false, 32_768);
}

#[test]
fn cnv_w2a2_at_finn_folding_runs_at_115200_cycles() {
    check_cnv(true, 115_200);
}
