//! FINN folding configs on an imported CNN: FINN's names map to the nodes FINN's conversion
//! makes (a max pool with kernel = stride is one StreamingMaxPool; other max pools are a
//! ConvolutionInputGenerator and a Pool), and two entries for one node are an error.

use ferrite_gen::fold::{FoldPlan, FoldingFile};

fn model() -> ferrite_gen::ir::Model {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/cnn_pad_w4a4/model.onnx");
    ferrite_gen::load_model(&p).unwrap()
}

#[test]
fn finn_names_follow_finn_conversion() {
    let m = model();
    // nodes: l00_swg(padded) l01_mvu l02_swg(padded) l03_mvu l04_swg(3x3 s2) l05_pool
    //        l06_swg(padded) l07_mvu l08_swg(2x2 s2) l09_pool l10_mvu
    let names: Vec<&str> = m.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names[4], "l04_swg");
    assert_eq!(names[8], "l08_swg");
    let cfg = r#"{
        "ConvolutionInputGenerator_rtl_2": {"SIMD": 2},
        "ConvolutionInputGenerator_rtl_3": {"SIMD": 4},
        "Pool_hls_0": {"PE": 2},
        "StreamingMaxPool_hls_0": {"PE": 8},
        "FMPadding_rtl_2": {"SIMD": 4}
    }"#;
    let p = FoldPlan::from_file(&m, &FoldingFile::parse(cfg).unwrap(), "f.json").unwrap();
    // the third FINN window is the overlapping pool's (3x3 stride 2), the fourth conv 2's
    assert_eq!(p.fold("l04_swg").simd, 2);
    assert_eq!(p.fold("l06_swg").simd, 4);
    assert_eq!(p.fold("l05_pool").pe, 2);
    // the 2x2 stride-2 pool is FINN's StreamingMaxPool: the pool and its window at PE 8
    assert_eq!(p.fold("l09_pool").pe, 8);
    assert_eq!(p.fold("l08_swg").simd, 8);
    // FINN's third FMPadding is conv 2's padding, which its window generator does: noted,
    // not applied
    assert!(
        p.how
            .contains("FMPadding_rtl_2: ferrite's window generator pads its input itself"),
        "{}",
        p.how
    );
    // two entries for one node
    let twice = r#"{"MVAU_hls_0": {"PE": 1}, "l01_mvu": {"PE": 2}}"#;
    let e = FoldPlan::from_file(&m, &FoldingFile::parse(twice).unwrap(), "f.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("twice") && e.contains("l01_mvu"), "{e}");
    // names with signs or leading zeros are not FINN's numbering
    for bad in [
        r#"{"MVAU_hls_+0": {"PE": 1}}"#,
        r#"{"MVAU_hls_00": {"PE": 1}}"#,
    ] {
        let e = FoldPlan::from_file(&m, &FoldingFile::parse(bad).unwrap(), "f.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not have"), "{e}");
    }
}

/// A FINN folding config's VVAU entries (either name) set the depthwise units' PE and SIMD;
/// SIMD > 1 below PE = C is refused, saying why.
#[test]
fn finn_vvau_entries_fold_depthwise_units() {
    use ferrite_gen::ir::{DataType, TensorType};
    use ferrite_gen::testing::{Chain, Rng};
    let mut rng = Rng::new(1);
    let mut c = Chain::new(TensorType::new([8, 8, 8], DataType::UInt(4)));
    c.depthwise(
        &mut rng,
        [3, 3],
        [1, 1],
        DataType::Int(4),
        Some(DataType::UInt(4)),
        (1, 1),
    )
    .mvu(
        &mut rng,
        16,
        DataType::Int(4),
        Some(DataType::UInt(4)),
        false,
        (1, 1),
    )
    .depthwise(&mut rng, [3, 3], [2, 2], DataType::Int(4), None, (1, 1));
    let (m, _) = c.build("dw");
    let names: Vec<&str> = m.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        ["l00_swg", "l01_vvu", "l02_mvu", "l03_swg", "l04_vvu"]
    );
    let cfg = r#"{
        "VVAU_hls_0": {"PE": 4, "SIMD": 1, "ram_style": "auto"},
        "VectorVectorActivation_1": {"PE": 16, "SIMD": 3},
        "MVAU_hls_0": {"PE": 2, "SIMD": 8}
    }"#;
    let p = FoldPlan::from_file(&m, &FoldingFile::parse(cfg).unwrap(), "f.json").unwrap();
    assert_eq!(p.fold("l01_vvu"), ferrite_gen::fold::Fold::new(4, 1));
    assert_eq!(p.fold("l04_vvu"), ferrite_gen::fold::Fold::new(16, 3));
    assert_eq!(p.fold("l02_mvu"), ferrite_gen::fold::Fold::new(2, 8));
    // SIMD > 1 needs PE = C
    let bad = r#"{"VVAU_rtl_0": {"PE": 4, "SIMD": 3}}"#;
    let e = FoldPlan::from_file(&m, &FoldingFile::parse(bad).unwrap(), "f.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("l01_vvu") && e.contains("SIMD > 1") && e.contains("PE 8"),
        "{e}"
    );
    // PE must divide the channels, SIMD the kernel positions
    let bad = r#"{"VVAU_hls_1": {"PE": 16, "SIMD": 4}}"#;
    let e = FoldPlan::from_file(&m, &FoldingFile::parse(bad).unwrap(), "f.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("l04_vvu") && e.contains("9 kernel positions"),
        "{e}"
    );
}
