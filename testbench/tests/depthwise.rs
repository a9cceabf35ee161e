//! The vector-vector unit (depthwise convolution) against the golden model, bit-exact.
//!
//! The engine alone over a grid of shapes (H, W, C), kernels (1x1, 3x1, 3x3, 5x5), types
//! (bipolar x bipolar XNOR, binary, signed and unsigned 2..8-bit inputs and weights), with
//! and without thresholds, and folds (PE from 1 to C, SIMD > 1 at PE = C), which together
//! take every accumulator store: none (one kernel fold), a register (one channel block) and
//! a RAM of 2 or more channel blocks. Every configuration runs random frames plus an all-max
//! and an all-min frame under 0 %, 30 % and 70 % input idles and output backpressure on one
//! Verilator build; its measured steady-state cycles a frame must equal the formula
//! `H*W * K/SIMD * C/PE`. Then a depthwise-separable chain (pad, 3x3 stride-2 window,
//! depthwise with thresholds, 1x1 pointwise matrix-vector unit, thresholds) must match too,
//! at the stitched design's expected cycles. The grid covers each axis rather than the cross
//! product, to keep Verilator builds few.

use ferrite_gen::cosim;
use ferrite_gen::ir::{DataType, TensorType};
use ferrite_testbench::{
    Bench, Chain, Layer, Rng, describe, exp_cycles, model, plan, run, vv_layer,
};

use DataType::{Binary, Bipolar, Int, UInt};

const FRAMES: usize = 16;
const STALLS: [f64; 3] = [0.0, 0.3, 0.7];

fn bench() -> Bench {
    Bench::new(env!("CARGO_TARGET_TMPDIR"))
}

/// Random frames, the last two all-max and all-min (the accumulator's extremes for
/// non-negative weights).
fn frames(m: &ferrite_gen::ir::Model, seed: u64) -> Vec<Vec<i64>> {
    let mut f = cosim::random_frames(m, FRAMES - 2, seed);
    let t = m.input().tensor;
    f.push(vec![t.dtype.max(); t.elems()]);
    f.push(vec![t.dtype.min(); t.elems()]);
    f
}

/// Co-simulate `m` under every stall level: bit-exact, and measured cycles a frame equal
/// to `expected`.
fn cosim_all(
    tag: &str,
    m: &ferrite_gen::ir::Model,
    p: &ferrite_gen::fold::FoldPlan,
    expected: u64,
) {
    let b = bench();
    let dir = b
        .build_dir(tag, m, p)
        .unwrap_or_else(|e| panic!("{tag}: {e:#}"));
    for (k, stall) in STALLS.into_iter().enumerate() {
        let seed = 7000 + k as u64;
        let fr = frames(m, seed);
        let r = run(&dir, m, &fr, &b.options(stall, seed, false))
            .unwrap_or_else(|e| panic!("{tag}: {e:#}"));
        assert_eq!(r.frames, FRAMES);
        assert_eq!(r.mismatches, 0, "{tag}: {}", describe(&r));
        assert_eq!(r.cycles_per_frame_expected, expected, "{tag}");
        assert_eq!(
            r.cycles_per_frame_measured,
            expected as f64,
            "{tag}: measured steady-state cycles a frame differ from the formula: {}",
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

/// One depthwise unit: `hw` pixels of `c` channels x `k` positions.
#[allow(clippy::too_many_arguments)]
fn vv(
    tag: &str,
    seed: u64,
    hw: [usize; 2],
    (c, k): (usize, usize),
    it: DataType,
    wt: DataType,
    act: Option<DataType>,
    (pe, simd): (usize, usize),
) {
    let mut rng = Rng::new(seed);
    let l: Layer = vv_layer(&mut rng, "dw", hw, c, k, it, wt, act);
    let m = model(tag, vec![l]);
    let p = plan(&m, &[(pe, simd)]);
    let expected = exp_cycles(&m, &p, 0);
    assert_eq!(
        expected,
        (hw[0] * hw[1] * (k / simd) * (c / pe)) as u64,
        "{tag}: the formula"
    );
    cosim_all(tag, &m, &p, expected);
}

// ---- XNOR (bipolar x bipolar) ----

#[test]
fn xnor_3x3_thresholded_pe1_ram() {
    vv(
        "dw_xnor_thr_pe1",
        1,
        [3, 4],
        (8, 9),
        Bipolar,
        Bipolar,
        Some(Bipolar),
        (1, 1),
    );
}

#[test]
fn xnor_3x3_accumulator_full_fold() {
    vv(
        "dw_xnor_full",
        2,
        [4, 4],
        (8, 9),
        Bipolar,
        Bipolar,
        None,
        (8, 9),
    );
}

#[test]
fn xnor_3x3_thresholded_simd3_reg() {
    vv(
        "dw_xnor_thr_s3",
        3,
        [3, 3],
        (4, 9),
        Bipolar,
        Bipolar,
        Some(UInt(2)),
        (4, 3),
    );
}

#[test]
fn xnor_5x5_two_blocks() {
    // two channel blocks: the RAM's tightest read-after-write spacing
    vv(
        "dw_xnor_5x5_nb2",
        4,
        [2, 5],
        (4, 25),
        Bipolar,
        Bipolar,
        None,
        (2, 1),
    );
}

#[test]
fn xnor_5x5_wide_thresholded_simd5() {
    vv(
        "dw_xnor_5x5_s5",
        5,
        [2, 3],
        (16, 25),
        Bipolar,
        Bipolar,
        Some(Bipolar),
        (16, 5),
    );
}

// ---- binary and integers ----

#[test]
fn binary_binary_3x1() {
    vv(
        "dw_bin_bin_3x1",
        6,
        [4, 3],
        (6, 3),
        Binary,
        Binary,
        None,
        (3, 1),
    );
}

#[test]
fn binary_int2_thresholded_uint2() {
    vv(
        "dw_bin_i2_u2",
        7,
        [3, 3],
        (6, 9),
        Binary,
        Int(2),
        Some(UInt(2)),
        (2, 1),
    );
}

#[test]
fn int2_int2_1x1() {
    vv(
        "dw_i2_i2_1x1",
        8,
        [3, 5],
        (8, 1),
        Int(2),
        Int(2),
        None,
        (4, 1),
    );
}

#[test]
fn uint2_int8_thresholded_int2_pe1() {
    vv(
        "dw_u2_i8_i2",
        9,
        [2, 3],
        (4, 9),
        UInt(2),
        Int(8),
        Some(Int(2)),
        (1, 1),
    );
}

#[test]
fn int3_int6_full_fold() {
    vv(
        "dw_i3_i6_full",
        10,
        [3, 3],
        (3, 9),
        Int(3),
        Int(6),
        None,
        (3, 9),
    );
}

#[test]
fn int4_int4_thresholded_int4() {
    vv(
        "dw_i4_i4_i4",
        11,
        [4, 4],
        (8, 9),
        Int(4),
        Int(4),
        Some(Int(4)),
        (2, 1),
    );
}

#[test]
fn uint4_int3_5x5_thresholded_uint3_simd5() {
    vv(
        "dw_u4_i3_u3",
        12,
        [2, 2],
        (4, 25),
        UInt(4),
        Int(3),
        Some(UInt(3)),
        (4, 5),
    );
}

#[test]
fn int5_uint6_3x1_reg() {
    vv(
        "dw_i5_u6_3x1",
        13,
        [5, 2],
        (5, 3),
        Int(5),
        UInt(6),
        None,
        (5, 1),
    );
}

#[test]
fn int6_int3_bipolar_out_pe1() {
    vv(
        "dw_i6_i3_bip",
        14,
        [3, 3],
        (2, 9),
        Int(6),
        Int(3),
        Some(Bipolar),
        (1, 1),
    );
}

#[test]
fn int7_bipolar_weights() {
    vv(
        "dw_i7_bipw",
        15,
        [3, 3],
        (4, 9),
        Int(7),
        Bipolar,
        None,
        (2, 1),
    );
}

#[test]
fn int8_int8_simd3() {
    vv(
        "dw_i8_i8_s3",
        16,
        [3, 2],
        (4, 9),
        Int(8),
        Int(8),
        None,
        (4, 3),
    );
}

#[test]
fn uint8_uint8_1x1_thresholded_uint8() {
    vv(
        "dw_u8_u8_1x1",
        17,
        [2, 4],
        (4, 1),
        UInt(8),
        UInt(8),
        Some(UInt(8)),
        (1, 1),
    );
}

#[test]
fn uint3_uint5_5x5_thresholded_uint4() {
    vv(
        "dw_u3_u5_u4",
        18,
        [2, 2],
        (3, 25),
        UInt(3),
        UInt(5),
        Some(UInt(4)),
        (1, 1),
    );
}

#[test]
fn bipolar_int4_thresholded_uint2_reg() {
    vv(
        "dw_bip_i4_u2",
        19,
        [3, 3],
        (4, 9),
        Bipolar,
        Int(4),
        Some(UInt(2)),
        (4, 1),
    );
}

#[test]
fn uint7_int2_3x1_binary_out_full() {
    vv(
        "dw_u7_i2_bin",
        20,
        [3, 4],
        (6, 3),
        UInt(7),
        Int(2),
        Some(Binary),
        (6, 3),
    );
}

#[test]
fn int2_uint2_weights_1x1_thresholded() {
    vv(
        "dw_i2_u2w_1x1",
        21,
        [2, 3],
        (6, 1),
        Int(2),
        UInt(2),
        Some(UInt(2)),
        (6, 1),
    );
}

#[test]
fn uint4_int4_16_channels_thresholded() {
    vv(
        "dw_u4_i4_c16",
        22,
        [4, 4],
        (16, 9),
        UInt(4),
        Int(4),
        Some(UInt(4)),
        (4, 1),
    );
}

// ---- a depthwise-separable chain ----

#[test]
fn depthwise_separable_chain() {
    let tag = "dw_chain";
    let mut rng = Rng::new(30);
    let mut c = Chain::new(TensorType::new([9, 9, 8], UInt(4)));
    c.pad([1, 1, 1, 1], 0, 2)
        .depthwise(&mut rng, [3, 3], [2, 2], Int(4), Some(UInt(4)), (2, 1))
        .mvu(&mut rng, 12, Int(4), None, false, (3, 4))
        .thresholds(&mut rng, UInt(3), 3);
    let (m, p) = c.build(tag);
    let d = ferrite_gen::stitch::stitch(&m, &p).unwrap();
    cosim_all(tag, &m, &p, d.exp_cycles_per_frame);
}
