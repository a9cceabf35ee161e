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
    // nodes: l00_pad l01_swg l02_mvu l03_pad l04_swg l05_mvu l06_swg(3x3 s2) l07_pool
    //        l08_pad l09_swg l10_mvu l11_swg(2x2 s2) l12_pool l13_mvu
    let names: Vec<&str> = m.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names[6], "l06_swg");
    assert_eq!(names[11], "l11_swg");
    let cfg = r#"{
        "ConvolutionInputGenerator_rtl_2": {"SIMD": 2},
        "ConvolutionInputGenerator_rtl_3": {"SIMD": 4},
        "Pool_hls_0": {"PE": 2},
        "StreamingMaxPool_hls_0": {"PE": 8},
        "FMPadding_rtl_2": {"SIMD": 4}
    }"#;
    let p = FoldPlan::from_file(&m, &FoldingFile::parse(cfg).unwrap(), "f.json").unwrap();
    // the third FINN window is the overlapping pool's (3x3 stride 2), the fourth conv 2's
    assert_eq!(p.fold("l06_swg").simd, 2);
    assert_eq!(p.fold("l09_swg").simd, 4);
    assert_eq!(p.fold("l07_pool").pe, 2);
    // the 2x2 stride-2 pool is FINN's StreamingMaxPool: the pool and its window at PE 8
    assert_eq!(p.fold("l12_pool").pe, 8);
    assert_eq!(p.fold("l11_swg").simd, 8);
    assert_eq!(p.fold("l08_pad").simd, 4);
    // two entries for one node
    let twice = r#"{"MVAU_hls_0": {"PE": 1}, "l02_mvu": {"PE": 2}}"#;
    let e = FoldPlan::from_file(&m, &FoldingFile::parse(twice).unwrap(), "f.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("twice") && e.contains("l02_mvu"), "{e}");
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
