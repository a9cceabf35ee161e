//! Golden model vs RTL, bit-exact, one layer at a time: matrix-vector units over bipolar,
//! binary and 2..8-bit signed and unsigned weights and inputs, with and without thresholds;
//! thresholding and label-select engines; PE and SIMD from 1 to the full dimension. Every
//! configuration runs 64 random frames under 0%, 30% and 70% random input idles and output
//! backpressure on one Verilator build, and its measured steady-state cycles a frame must
//! equal `fold::exp_cycles`.

use ferrite_gen::cosim;
use ferrite_gen::ir::DataType;
use ferrite_testbench::{
    Bench, Layer, Rng, describe, exp_cycles, label_select_layer, model, mv_layer, plan, run,
    thresholding_layer,
};

use DataType::{Binary, Bipolar, Int, UInt};

const FRAMES: usize = 64;
const STALLS: [f64; 3] = [0.0, 0.3, 0.7];

fn bench() -> Bench {
    Bench::new(env!("CARGO_TARGET_TMPDIR"))
}

/// Co-simulate a one-layer model under every stall level; check bit-exactness and cycles.
fn check(tag: &str, layer: Layer, pe: usize, simd: usize) {
    let m = model(tag, vec![layer]);
    let p = plan(&m, &[(pe, simd)]);
    let b = bench();
    let dir = b
        .build_dir(tag, &m, &p)
        .unwrap_or_else(|e| panic!("{tag}: {e:#}"));
    let expected = exp_cycles(&m, &p, 0);
    for (k, stall) in STALLS.into_iter().enumerate() {
        let seed = 1000 + k as u64;
        let frames = cosim::random_frames(&m, FRAMES, seed);
        let r = run(&dir, &m, &frames, &b.options(stall, seed, false))
            .unwrap_or_else(|e| panic!("{tag}: {e:#}"));
        assert_eq!(r.frames, FRAMES);
        assert_eq!(r.mismatches, 0, "{tag}: {}", describe(&r));
        assert_eq!(r.cycles_per_frame_expected, expected, "{tag}");
        assert_eq!(
            r.cycles_per_frame_measured,
            expected as f64,
            "{tag}: measured steady-state cycles a frame differ from fold::exp_cycles: {}",
            describe(&r)
        );
        if k > 0 {
            assert!(
                r.sim.cache_hit,
                "{tag}: the stall runs must reuse the build"
            );
        }
    }
}

fn mv(
    tag: &str,
    seed: u64,
    (mw, mh): (usize, usize),
    it: DataType,
    wt: DataType,
    act: Option<DataType>,
    (pe, simd): (usize, usize),
) {
    let mut rng = Rng::new(seed);
    check(tag, mv_layer(&mut rng, "fc", mw, mh, it, wt, act), pe, simd);
}

#[test]
fn mvu_bipolar_xnor_thresholded_pe1_simd1() {
    mv(
        "mv_bip_thr_1x1",
        1,
        (16, 8),
        Bipolar,
        Bipolar,
        Some(Bipolar),
        (1, 1),
    );
}

#[test]
fn mvu_bipolar_xnor_accumulator_full_fold() {
    mv(
        "mv_bip_acc_full",
        2,
        (16, 8),
        Bipolar,
        Bipolar,
        None,
        (8, 16),
    );
}

#[test]
fn mvu_bipolar_xnor_thresholded_partial() {
    mv(
        "mv_bip_thr_4x8",
        3,
        (32, 16),
        Bipolar,
        Bipolar,
        Some(Bipolar),
        (4, 8),
    );
}

#[test]
fn mvu_bipolar_in_int4_weights_uint2_out() {
    mv(
        "mv_bip_i4_u2",
        4,
        (24, 6),
        Bipolar,
        Int(4),
        Some(UInt(2)),
        (3, 6),
    );
}

#[test]
fn mvu_binary_in_binary_weights() {
    mv("mv_bin_bin", 5, (16, 4), Binary, Binary, None, (2, 4));
}

#[test]
fn mvu_binary_in_int2_weights_thresholded() {
    mv(
        "mv_bin_i2_u2",
        6,
        (20, 5),
        Binary,
        Int(2),
        Some(UInt(2)),
        (5, 2),
    );
}

#[test]
fn mvu_int2_int2_accumulator() {
    mv("mv_i2_i2", 7, (16, 8), Int(2), Int(2), None, (2, 4));
}

#[test]
fn mvu_uint2_int8_thresholded_int2() {
    mv(
        "mv_u2_i8_i2",
        8,
        (12, 6),
        UInt(2),
        Int(8),
        Some(Int(2)),
        (6, 1),
    );
}

#[test]
fn mvu_int3_int6_simd_full() {
    mv("mv_i3_i6", 9, (10, 4), Int(3), Int(6), None, (1, 10));
}

#[test]
fn mvu_int4_int4_thresholded_int4() {
    mv(
        "mv_i4_i4_i4",
        10,
        (16, 8),
        Int(4),
        Int(4),
        Some(Int(4)),
        (4, 2),
    );
}

#[test]
fn mvu_uint4_int3_thresholded_uint3() {
    mv(
        "mv_u4_i3_u3",
        11,
        (16, 4),
        UInt(4),
        Int(3),
        Some(UInt(3)),
        (1, 16),
    );
}

#[test]
fn mvu_int5_uint6_accumulator() {
    mv("mv_i5_u6", 12, (9, 6), Int(5), UInt(6), None, (3, 3));
}

#[test]
fn mvu_int6_int3_bipolar_out() {
    mv(
        "mv_i6_i3_bip",
        13,
        (8, 8),
        Int(6),
        Int(3),
        Some(Bipolar),
        (8, 8),
    );
}

#[test]
fn mvu_int7_bipolar_weights() {
    mv("mv_i7_bip", 14, (14, 4), Int(7), Bipolar, None, (2, 7));
}

#[test]
fn mvu_int8_int8_accumulator() {
    mv("mv_i8_i8", 15, (12, 6), Int(8), Int(8), None, (2, 2));
}

#[test]
fn mvu_uint8_uint8_thresholded_uint8() {
    mv(
        "mv_u8_u8_u8",
        16,
        (8, 4),
        UInt(8),
        UInt(8),
        Some(UInt(8)),
        (4, 1),
    );
}

#[test]
fn mvu_uint3_uint5_thresholded_uint4() {
    mv(
        "mv_u3_u5_u4",
        17,
        (18, 3),
        UInt(3),
        UInt(5),
        Some(UInt(4)),
        (1, 9),
    );
}

#[test]
fn mvu_uint7_int2_binary_out() {
    mv(
        "mv_u7_i2_bin",
        18,
        (6, 12),
        UInt(7),
        Int(2),
        Some(Binary),
        (12, 6),
    );
}

#[test]
fn mvu_int2_uint2_weights_thresholded_uint2() {
    mv(
        "mv_i2_u2w_u2",
        19,
        (12, 4),
        Int(2),
        UInt(2),
        Some(UInt(2)),
        (2, 3),
    );
}

#[test]
fn mvu_binary_int5_weights_accumulator() {
    mv("mv_bin_i5w", 23, (15, 5), Binary, Int(5), None, (5, 5));
}

#[test]
fn mvu_uint5_int7_weights_thresholded_int3() {
    mv(
        "mv_u5_i7w_i3",
        24,
        (8, 6),
        UInt(5),
        Int(7),
        Some(Int(3)),
        (2, 4),
    );
}

#[test]
fn mvu_bipolar_uint7_weights_pe_full_simd1() {
    mv("mv_bip_u7w", 25, (10, 10), Bipolar, UInt(7), None, (10, 1));
}

#[test]
fn mvu_int8_uint4_weights_thresholded_binary() {
    mv(
        "mv_i8_u4w_bin",
        26,
        (16, 2),
        Int(8),
        UInt(4),
        Some(Binary),
        (1, 4),
    );
}

#[test]
fn thresholding_int8_to_uint4_pe1() {
    let mut rng = Rng::new(20);
    let l = thresholding_layer(&mut rng, "thr", 32, 8, Int(8), UInt(4), false);
    check("thr_i8_u4_pe1", l, 1, 1);
}

#[test]
fn thresholding_int12_to_bipolar_full() {
    let mut rng = Rng::new(21);
    let l = thresholding_layer(&mut rng, "thr", 16, 4, Int(12), Bipolar, false);
    check("thr_i12_bip_full", l, 4, 1);
}

#[test]
fn thresholding_shared_row_uint6_to_int3() {
    let mut rng = Rng::new(22);
    let l = thresholding_layer(&mut rng, "thr", 24, 6, UInt(6), Int(3), true);
    check("thr_u6_i3_shared", l, 2, 1);
}

#[test]
fn label_select_top1_int8_pe1() {
    check("ls_i8_k1", label_select_layer("top", 10, 1, Int(8)), 1, 1);
}

#[test]
fn label_select_top3_uint4_pe4() {
    // UINT4 over 16 labels: many ties, which go to the lower index.
    check("ls_u4_k3", label_select_layer("top", 16, 3, UInt(4)), 4, 1);
}

#[test]
fn label_select_all_labels_int16_full() {
    check("ls_i16_k8", label_select_layer("top", 8, 8, Int(16)), 8, 1);
}
