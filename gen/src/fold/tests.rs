use super::*;
use crate::ir::{DataType, LabelSelect, MatrixVector, Op, TensorType};

fn mv(mw: usize, mh: usize) -> Op {
    Op::MatrixVector(MatrixVector {
        mw,
        mh,
        input_type: DataType::Bipolar,
        weight_type: DataType::Bipolar,
        weights: vec![1; mw * mh],
        thresholds: None,
    })
}

fn one(op: Op, input: TensorType) -> Model {
    Model::chain("t", input, [("fc".to_string(), op, None)])
}

#[test]
fn cycles_and_legality() {
    let m = one(mv(784, 64), TensorType::vector(784, DataType::Bipolar));
    let a = m.analyze().unwrap();
    assert_eq!(exp_cycles(&m, &a, 0, Fold::new(16, 49)), 4 * 16);
    assert!(check(&m, &a, 0, Fold::new(16, 49)).is_ok());
    let e = check(&m, &a, 0, Fold::new(3, 49)).unwrap_err().to_string();
    assert!(
        e.contains("PE 3 does not divide MH 64") && e.contains("fc"),
        "{e}"
    );
    // a convolution's matrix-vector unit runs once a pixel
    let m = one(mv(27, 64), TensorType::new([30, 30, 27], DataType::Bipolar));
    let a = m.analyze().unwrap();
    assert_eq!(exp_cycles(&m, &a, 0, Fold::new(16, 3)), 900 * 4 * 9);
}

#[test]
fn label_select_sends_k_indices() {
    let m = one(
        Op::LabelSelect(LabelSelect {
            labels: 8,
            k: 3,
            input_type: DataType::Int(8),
        }),
        TensorType::vector(8, DataType::Int(8)),
    );
    let a = m.analyze().unwrap();
    assert_eq!(exp_cycles(&m, &a, 0, Fold::new(1, 1)), 8);
    assert_eq!(exp_cycles(&m, &a, 0, Fold::new(8, 1)), 3);
}

#[test]
fn target_is_met_cheaply() {
    let m = one(mv(784, 64), TensorType::vector(784, DataType::Bipolar));
    let a = m.analyze().unwrap();
    let f = fold_for_target(&m, &a, 0, 64);
    assert!(exp_cycles(&m, &a, 0, f) <= 64);
    // 784*64/64 = 784 lanes is the minimum; 16x49 is one of the exact ones.
    assert_eq!(f.pe * f.simd, 784);
    // Unreachable target: fastest fold.
    assert_eq!(fold_for_target(&m, &a, 0, 0), Fold::new(64, 784));
}

#[test]
fn finn_config_by_position_and_defaults() {
    let text = r#"{
        "Defaults": {"SIMD": [2, ["MVAU_hls"]], "ram_style": ["block", "all"]},
        "MVAU_hls_0": {"PE": 8, "SIMD": 16, "ram_style": "distributed", "mem_mode": "internal_decoupled"},
        "MVAU_hls_2": {"PE": 4},
        "StreamingFIFO_rtl_0": {"depth": 32}
    }"#;
    let mut f = FoldingFile::parse(text).unwrap();
    assert!(f.finn);
    assert_eq!(f.defaults.len(), 1);
    let m = chain_of_mvus();
    let a = m.analyze().unwrap();
    f.resolve(&m, &a).unwrap();
    assert_eq!(f.nodes.len(), 2);
    assert!(f.nodes.contains_key("a") && f.nodes.contains_key("c"));
    assert_eq!(f.ignored.len(), 1);
    let p = FoldPlan::from_file(&m, &FoldingFile::parse(text).unwrap(), "finn.json").unwrap();
    assert_eq!(p.fold("a"), Fold::new(8, 16));
    // b: Defaults SIMD 2, PE FINN's default 1
    assert_eq!(p.fold("b"), Fold::new(1, 2));
    // c: PE 4 and the default SIMD 2
    assert_eq!(p.fold("c"), Fold::new(4, 2));
    assert!(p.how.contains("StreamingFIFO_rtl_0"), "{}", p.how);
    // an unknown FINN name is an error naming the nodes
    let e = FoldPlan::from_file(
        &m,
        &FoldingFile::parse(r#"{"MVAU_hls_7": {"PE": 1}}"#).unwrap(),
        "x",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("MVAU_hls_7") && e.contains("a, b, c"), "{e}");
}

fn chain_of_mvus() -> Model {
    let thr = |c: usize| crate::ir::Thresholds {
        rows: vec![vec![0]; c],
        out_type: DataType::Bipolar,
        out_bias: 0,
    };
    let mvt = |mw: usize, mh: usize| {
        Op::MatrixVector(MatrixVector {
            mw,
            mh,
            input_type: DataType::Bipolar,
            weight_type: DataType::Bipolar,
            weights: vec![1; mw * mh],
            thresholds: Some(thr(mh)),
        })
    };
    Model::chain(
        "t",
        TensorType::vector(64, DataType::Bipolar),
        [
            ("a".to_string(), mvt(64, 32), None),
            ("b".to_string(), mvt(32, 16), None),
            ("c".to_string(), mvt(16, 16), None),
        ],
    )
}

#[test]
fn own_file_round_trips_and_reads_version_1() {
    let m = chain_of_mvus();
    let p = auto(&m, Some(8)).unwrap();
    let f = FoldingFile::parse(&p.to_json()).unwrap();
    let q = FoldPlan::from_file(&m, &f, "f").unwrap();
    assert_eq!(p.folds, q.folds);
    let v1 = r#"{"layers": {"a": {"pe": 2, "simd": 8}}}"#;
    let q = FoldPlan::from_file(&m, &FoldingFile::parse(v1).unwrap(), "f").unwrap();
    assert_eq!(q.fold("a"), Fold::new(2, 8));
    assert!(FoldingFile::parse(r#"{"nodes": {"a": {"pe": 2}}}"#).is_err());
}

#[test]
fn depthwise_folds_simd_only_at_full_pe() {
    use crate::ir::VectorVector;
    let op = Op::VectorVector(VectorVector {
        channels: 8,
        kernel: 9,
        input_type: DataType::Int(4),
        weight_type: DataType::Int(4),
        weights: vec![1; 72],
        thresholds: None,
    });
    let m = one(op, TensorType::new([4, 4, 72], DataType::Int(4)));
    let a = m.analyze().unwrap();
    // H*W * K/SIMD * C/PE
    assert_eq!(exp_cycles(&m, &a, 0, Fold::new(2, 1)), 16 * 9 * 4);
    assert_eq!(exp_cycles(&m, &a, 0, Fold::new(8, 3)), 16 * 3);
    assert!(check(&m, &a, 0, Fold::new(8, 9)).is_ok());
    let e = check(&m, &a, 0, Fold::new(4, 3)).unwrap_err().to_string();
    assert!(e.contains("SIMD > 1") && e.contains("PE 8"), "{e}");
    // automatic folding picks legal folds only, the fastest one at the end
    for target in [1, 16, 48, 100, 16 * 9, 16 * 9 * 8] {
        let f = fold_for_target(&m, &a, 0, target);
        assert!(check(&m, &a, 0, f).is_ok(), "target {target}: {f:?}");
        let cyc = exp_cycles(&m, &a, 0, f);
        assert!(cyc <= target.max(16), "target {target}: {f:?} takes {cyc}");
    }
    assert_eq!(fold_for_target(&m, &a, 0, 144), Fold::new(8, 1));
    assert_eq!(fold_for_target(&m, &a, 0, 100), Fold::new(8, 3));
    assert_eq!(fold_for_target(&m, &a, 0, 1), Fold::new(8, 9));
}

/// A window generator whose parallel mode cannot be built (padding past the kernel's reach
/// of a 2x2 kernel, a 1x1 map) folds automatically to a legal fold at any target (the
/// fastest fold was once assumed legal at SIMD 1).
#[test]
fn automatic_folding_skips_an_illegal_parallel_window() {
    use crate::testing::Chain;
    for (shape, kernel, pad) in [
        ([8, 8, 3], [2, 2], [1, 1, 1, 1]),
        ([1, 1, 4], [3, 3], [1, 1, 1, 1]),
        ([6, 6, 2], [3, 3], [3, 3, 3, 3]),
    ] {
        let mut c = Chain::new(TensorType::new(shape, DataType::UInt(4)));
        c.padded_window(kernel, [1, 1], pad, (1, 1));
        let (m, _) = c.build("w");
        for target in [None, Some(1)] {
            let p = auto(&m, target).unwrap();
            p.check(&m)
                .unwrap_or_else(|e| panic!("{shape:?} {pad:?} {target:?}: {e}"));
            assert_eq!(p.fold("l00_swg").pe, 1, "{shape:?} {pad:?}");
        }
    }
}
