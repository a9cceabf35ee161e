//! Property tests of the golden model's arithmetic against plain references computed a
//! different way: on the stream bit encodings (XNOR-popcount for bipolar, two's complement
//! decode for integers), in i128, with thresholds found by binary search, and top-k by
//! repeated arg-max.

use ferrite_gen::ir::{
    DataType, LabelSelect, MatrixVector, Model, Op, TensorType, Thresholding, Thresholds,
};
use proptest::prelude::*;

/// One op on a vector frame `x` (its plain evaluation).
fn run_layer(op: &Op, x: &[i64]) -> Vec<i64> {
    let dt = match op {
        Op::MatrixVector(m) => m.input_type,
        Op::Thresholding(t) => t.input_type,
        Op::LabelSelect(l) => l.input_type,
        other => panic!("not a vector op: {}", other.kind()),
    };
    op.as_kind()
        .eval(&[TensorType::vector(x.len(), dt)], &[x])
        .remove(0)
}

fn activation_type() -> impl Strategy<Value = DataType> {
    prop_oneof![
        Just(DataType::Bipolar),
        Just(DataType::Binary),
        (2u32..=8).prop_map(DataType::Int),
        (2u32..=8).prop_map(DataType::UInt),
    ]
}

/// A random value of `dt` drawn from its bit encoding.
fn value_of(dt: DataType, raw: u64) -> i64 {
    dt.decode(raw)
}

/// Reference matrix-vector product on the encodings.
fn reference_mv(l: &MatrixVector, x: &[i64]) -> Vec<i64> {
    (0..l.mh)
        .map(|h| {
            let acc: i128 = if l.input_type == DataType::Bipolar
                && l.weight_type == DataType::Bipolar
            {
                // XNOR-popcount: dot = 2 * popcount(xnor) - MW
                let pc = (0..l.mw)
                    .filter(|&w| l.weight_type.encode(l.weight(h, w)) == l.input_type.encode(x[w]))
                    .count() as i128;
                2 * pc - l.mw as i128
            } else {
                (0..l.mw)
                    .map(|w| {
                        let a = l.weight_type.decode(l.weight_type.encode(l.weight(h, w))) as i128;
                        let b = l.input_type.decode(l.input_type.encode(x[w])) as i128;
                        a * b
                    })
                    .sum()
            };
            let acc = i64::try_from(acc).unwrap();
            match &l.thresholds {
                Some(t) => reference_threshold(t, h, acc),
                None => acc,
            }
        })
        .collect()
}

fn reference_threshold(t: &Thresholds, ch: usize, x: i64) -> i64 {
    let row = if t.rows.len() == 1 {
        &t.rows[0]
    } else {
        &t.rows[ch]
    };
    // rows are sorted: the count of t <= x is the partition point of `t <= x`
    let n = row.partition_point(|&v| v <= x) as i64;
    match t.out_type {
        DataType::Bipolar => {
            if n == 1 {
                1
            } else {
                -1
            }
        }
        _ => t.out_bias + n,
    }
}

/// Thresholds for `channels` rows whose outputs fit `out`, around the range `lo..=hi`.
fn thresholds(out: DataType, rows: usize, lo: i64, hi: i64, seed: Vec<i64>) -> Thresholds {
    let n = if out == DataType::Bipolar {
        1
    } else {
        (out.max() - out.min()) as usize
    };
    let span = (hi - lo + 3).max(1);
    let mut k = 0;
    let rows = (0..rows)
        .map(|_| {
            let mut r: Vec<i64> = (0..n)
                .map(|_| {
                    k += 1;
                    lo - 1 + seed[k % seed.len()].rem_euclid(span)
                })
                .collect();
            r.sort();
            r
        })
        .collect();
    Thresholds {
        rows,
        out_type: out,
        out_bias: if out == DataType::Bipolar {
            0
        } else {
            out.min()
        },
    }
}

fn mv_case() -> impl Strategy<Value = (MatrixVector, Vec<i64>)> {
    (
        activation_type(),
        activation_type(),
        1usize..40,
        1usize..12,
        any::<bool>(),
        prop_oneof![Just(None), activation_type().prop_map(Some)],
    )
        .prop_flat_map(|(it, wt, mw, mh, shared, out)| {
            (
                Just((it, wt, mw, mh, shared, out)),
                prop::collection::vec(any::<u64>(), mw * mh),
                prop::collection::vec(any::<u64>(), mw),
                prop::collection::vec(any::<i64>(), 1..64),
            )
        })
        .prop_map(|((it, wt, mw, mh, shared, out), wraw, xraw, seed)| {
            let mut l = MatrixVector {
                mw,
                mh,
                input_type: it,
                weight_type: wt,
                weights: wraw.iter().map(|&r| value_of(wt, r)).collect(),
                thresholds: None,
            };
            if let Some(out) = out {
                let (lo, hi) = l.acc_range();
                l.thresholds = Some(thresholds(out, if shared { 1 } else { mh }, lo, hi, seed));
            }
            let x = xraw.iter().map(|&r| value_of(it, r)).collect();
            (l, x)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn matrix_vector_matches_reference((l, x) in mv_case()) {
        let layer = Op::MatrixVector(l.clone());
        let got = run_layer(&layer, &x);
        prop_assert_eq!(&got, &reference_mv(&l, &x));
        // every output is a value of the layer's output type, and the accumulator stays
        // inside the derived worst-case range
        let ot = l.output_type();
        prop_assert!(got.iter().all(|&v| ot.contains(v)), "{:?} not all {}", got, ot);
        let (lo, hi) = l.acc_range();
        let plain = MatrixVector { thresholds: None, ..l.clone() };
        let acc = run_layer(&Op::MatrixVector(plain), &x);
        prop_assert!(acc.iter().all(|&a| a >= lo && a <= hi));
    }

    #[test]
    fn accumulator_range_is_tight_for_extreme_inputs((l, _x) in mv_case()) {
        // The worst case is reached: for row h, the input maximising each product.
        let (lo, hi) = l.acc_range();
        let it = l.input_type;
        let mut best_hi = i64::MIN;
        let mut best_lo = i64::MAX;
        for h in 0..l.mh {
            let xhi: Vec<i64> = (0..l.mw).map(|w| if l.weight(h, w) >= 0 { it.max() } else { it.min() }).collect();
            let xlo: Vec<i64> = (0..l.mw).map(|w| if l.weight(h, w) >= 0 { it.min() } else { it.max() }).collect();
            let plain = Op::MatrixVector(MatrixVector { thresholds: None, ..l.clone() });
            best_hi = best_hi.max(run_layer(&plain, &xhi)[h]);
            best_lo = best_lo.min(run_layer(&plain, &xlo)[h]);
        }
        prop_assert_eq!((lo, hi), (best_lo, best_hi));
        prop_assert!(l.acc_type().contains(lo) && l.acc_type().contains(hi));
    }

    #[test]
    fn thresholding_matches_reference(
        it in (2u32..=12).prop_map(DataType::Int),
        out in activation_type(),
        channels in 1usize..8,
        reps in 1usize..5,
        xraw in prop::collection::vec(any::<u64>(), 40),
        seed in prop::collection::vec(any::<i64>(), 1..32),
        shared in any::<bool>(),
    ) {
        let elems = channels * reps;
        let t = thresholds(out, if shared { 1 } else { channels }, it.min(), it.max(), seed);
        let l = Thresholding { channels, input_type: it, thresholds: t.clone() };
        let x: Vec<i64> = (0..elems).map(|i| value_of(it, xraw[i % xraw.len()])).collect();
        let got = run_layer(&Op::Thresholding(l), &x);
        let want: Vec<i64> = x.iter().enumerate().map(|(i, &v)| reference_threshold(&t, i % channels, v)).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn label_select_matches_repeated_argmax(
        xs in prop::collection::vec(-8i64..8, 1..40),
        kk in 1usize..40,
    ) {
        let k = kk.min(xs.len());
        let l = LabelSelect { labels: xs.len(), k, input_type: DataType::Int(5) };
        let got = run_layer(&Op::LabelSelect(l), &xs);
        let mut taken = vec![false; xs.len()];
        let mut want = Vec::new();
        for _ in 0..k {
            // first (lowest index) maximum among the untaken
            let mut best: Option<usize> = None;
            for i in 0..xs.len() {
                if !taken[i] && best.is_none_or(|b| xs[i] > xs[b]) {
                    best = Some(i);
                }
            }
            let b = best.unwrap();
            taken[b] = true;
            want.push(b as i64);
        }
        prop_assert_eq!(got, want);
    }
}

#[test]
fn bundled_example_is_valid() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/bnn_mlp_random/model.json"
    );
    let m = Model::load_json(std::path::Path::new(path)).unwrap();
    assert_eq!(m.nodes.len(), 4);
    assert_eq!(m.output_tensor().unwrap().elems(), 1);
    assert_eq!(m.input().tensor, TensorType::vector(784, DataType::Bipolar));
    assert_eq!(m.input().logical_shape(), vec![784]);
    let out = ferrite_gen::golden::run_frame(&m, &vec![1; 784]);
    assert!(out[0] >= 0 && out[0] < 10);
}

/// A random chain of layers whose types line up, for comparing the prepared golden model
/// with the plain one.
fn chain() -> impl Strategy<Value = (Model, Vec<Vec<i64>>)> {
    (
        mv_case(),
        mv_case(),
        prop::collection::vec(any::<u64>(), 64 * 4),
    )
        .prop_map(|((a, _), (b, _), xraw)| {
            let mut a = a;
            // make layer a's output feed layer b: give a an activation of b's input type
            let out = b.input_type;
            let (lo, hi) = a.acc_range();
            let seeds: Vec<i64> = xraw.iter().map(|&r| r as i64).take(16).collect();
            a.thresholds = Some(thresholds(out, a.mh, lo, hi, seeds.clone()));
            let mut b = b;
            b.mw = a.mh;
            b.weights = (0..b.mw * b.mh)
                .map(|i| value_of(b.weight_type, xraw[i % xraw.len()] >> 7))
                .collect();
            if b.thresholds.is_some() {
                let (lo, hi) = b.acc_range();
                let o = b.thresholds.as_ref().unwrap().out_type;
                b.thresholds = Some(thresholds(o, b.mh, lo, hi, seeds));
            }
            let frames = (0..4)
                .map(|f| {
                    (0..a.mw)
                        .map(|i| value_of(a.input_type, xraw[(f * 64 + i) % xraw.len()]))
                        .collect()
                })
                .collect();
            let m = Model::chain(
                "chain",
                TensorType::vector(a.mw, a.input_type),
                [
                    ("a".to_string(), Op::MatrixVector(a), None),
                    ("b".to_string(), Op::MatrixVector(b), None),
                ],
            );
            (m, frames)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn prepared_golden_equals_plain((m, frames) in chain()) {
        m.validate().unwrap();
        let g = ferrite_gen::golden::Golden::new(&m);
        for x in &frames {
            prop_assert_eq!(g.run_frame(x), ferrite_gen::golden::run_frame(&m, x));
        }
    }
}

/// Regression (found by `prepared_golden_equals_plain`): an unsigned 16-bit accumulator does
/// not fit the prepared model's i16 path; 255 * 255 must stay 65025, not wrap to -511.
#[test]
fn unsigned_16_bit_accumulator_is_not_wrapped() {
    let m = Model::chain(
        "u16",
        TensorType::vector(1, DataType::UInt(8)),
        [(
            "fc".to_string(),
            Op::MatrixVector(MatrixVector {
                mw: 1,
                mh: 1,
                input_type: DataType::UInt(8),
                weight_type: DataType::UInt(8),
                weights: vec![255],
                thresholds: None,
            }),
            None,
        )],
    );
    m.validate().unwrap();
    assert_eq!(m.output_tensor().unwrap().dtype, DataType::UInt(16));
    assert_eq!(
        ferrite_gen::golden::Golden::new(&m).run_frame(&[255]),
        vec![65025]
    );
}

/// A random small convolutional chain (testing::Chain) and frames for it: optional padding,
/// a convolution (window + matrix-vector), a second one on its activations, an optional max
/// pool, then a flattening matrix-vector. Bipolar inputs with bipolar weights make every
/// convolution XNOR (the prepared model computes the windows inside the matrix-vector node);
/// other types take the multiply-accumulate path. Channel counts are not multiples of 64 so
/// the packed windows straddle words.
fn conv_chain() -> impl Strategy<Value = (Model, Vec<Vec<i64>>)> {
    (
        any::<u64>(),
        (4usize..=9, 4usize..=9, 1usize..=70),
        (1usize..=3, 1usize..=2, 1usize..=2, 1usize..=2),
        (1usize..=70, 1usize..=2, 1usize..=2),
        prop_oneof![
            3 => Just((DataType::Bipolar, DataType::Bipolar)),
            1 => Just((DataType::UInt(8), DataType::Bipolar)),
            1 => activation_type().prop_flat_map(|i| (Just(i), activation_type())),
        ],
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(seed, (h, w, c), (k, s, d, k2), (mh, s2, d2), (it, wt), (pad, pool))| {
                use ferrite_gen::testing::{Chain, Rng};
                let mut rng = Rng::new(seed);
                let mut ch = Chain::new(TensorType::new([h, w, c], it));
                if pad {
                    let v = rng.value(it);
                    ch.pad([1, 0, 1, 1], v, 1);
                }
                // a window that fits
                let fits = |t: TensorType, k: usize, d: usize| {
                    (k - 1) * d < t.shape[0] && (k - 1) * d < t.shape[1]
                };
                let d = if fits(ch.cur, k, d) { d } else { 1 };
                ch.window([k, k], [s, s], [d, d], 1);
                let act = if wt == DataType::Bipolar {
                    DataType::Bipolar
                } else {
                    DataType::Int(3)
                };
                ch.mvu(&mut rng, mh, wt, Some(act), false, (1, 1));
                let d2 = if fits(ch.cur, k2, d2) { d2 } else { 1 };
                if fits(ch.cur, k2, d2) {
                    ch.window([k2, 1], [s2, 1], [d2, 1], 1);
                    let wt2 = if act == DataType::Bipolar {
                        DataType::Bipolar
                    } else {
                        DataType::Int(2)
                    };
                    ch.mvu(&mut rng, 67, wt2, Some(act), false, (1, 1));
                }
                if pool && ch.cur.shape[0] >= 2 && ch.cur.shape[1] >= 2 {
                    ch.max_pool(2, 2, 1);
                }
                ch.mvu(&mut rng, 10, wt, None, true, (1, 1));
                let (m, _) = ch.build("conv_chain");
                let frames = (0..3)
                    .map(|_| (0..h * w * c).map(|_| rng.value(it)).collect())
                    .collect();
                (m, frames)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn prepared_golden_equals_plain_on_conv_chains((m, frames) in conv_chain()) {
        let g = ferrite_gen::golden::Golden::new(&m);
        for x in &frames {
            prop_assert_eq!(g.run_frame(x), ferrite_gen::golden::run_frame(&m, x));
            prop_assert_eq!(g.run_trace(x), ferrite_gen::golden::run_trace(&m, x));
        }
    }
}
