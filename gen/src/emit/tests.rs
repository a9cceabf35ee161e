use super::*;
use crate::ir::{DataType, IR_VERSION, MatrixVector, StreamInfo};

fn fmt(lanes: usize, t: DataType, beats: usize, bits: usize) -> StreamFormat {
    StreamFormat {
        tdata_bits: bits,
        lanes,
        elem_type: t,
        beats_per_frame: beats,
    }
}

#[test]
fn pack_puts_lane_zero_in_the_lsbs() {
    let f = fmt(3, DataType::Int(4), 2, 16);
    let beats = pack_frame(&f, &[1, -1, 7, -8, 0, 2]);
    // beat 0: lane0 = 0x1, lane1 = 0xf, lane2 = 0x7 -> 0x7f1
    assert_eq!(beats, vec![vec![0x7f1], vec![0x208]]);
    assert_eq!(unpack_frame(&f, &beats), vec![1, -1, 7, -8, 0, 2]);
}

#[test]
fn pack_crosses_word_boundaries_and_bipolar() {
    let f = fmt(40, DataType::Bipolar, 1, 40);
    let mut v = vec![-1i64; 40];
    v[0] = 1;
    v[33] = 1;
    let beats = pack_frame(&f, &v);
    assert_eq!(beats, vec![vec![1, 2]]);
    assert_eq!(unpack_frame(&f, &beats), v);
    let f = fmt(5, DataType::UInt(7), 2, 40);
    let v: Vec<i64> = (0..10).map(|i| i * 12).collect();
    let beats = pack_frame(&f, &v);
    assert_eq!(beats[0].len(), 2);
    assert_eq!(unpack_frame(&f, &beats), v);
}

#[test]
fn prefixes_are_verilog_identifiers() {
    assert_eq!(sanitize_prefix("My Net-1"), "my_net_1");
    assert_eq!(sanitize_prefix("3layer"), "n3layer");
    assert_eq!(sanitize_prefix("module"), "module_net");
    assert_eq!(sanitize_prefix("__"), "net");
    assert_eq!(sanitize_prefix("ÄÖ"), "net");
}

#[test]
fn mem_words_are_msb_first_hex() {
    let mut m = MemBuilder::new(12);
    m.push_word();
    m.set(0, 4, 0xa);
    m.set(8, 4, 0x3);
    assert_eq!(m.finish(2), "30a\n000\n");
    assert_eq!(lit(4, -1), "4'd15");
}

fn tiny() -> Model {
    Model {
        ir_version: IR_VERSION,
        name: "tiny".into(),
        input: StreamInfo {
            shape: vec![4],
            dtype: DataType::Int(2),
        },
        layers: vec![Layer::MatrixVector(MatrixVector {
            name: "fc".into(),
            mw: 4,
            mh: 2,
            input_type: DataType::Int(2),
            weight_type: DataType::Int(2),
            weights: vec![1, -1, 0, 1, -2, 1, 1, 0],
            thresholds: None,
            origin: Some("MatMul_0".into()),
        })],
        pre: vec![],
        post: vec![],
        source: None,
    }
}

#[test]
fn design_formats_and_padding() {
    let m = tiny();
    let plan = FoldPlan {
        folds: vec![fold::Fold::new(1, 2)],
        how: "test".into(),
    };
    let d = emit(&m, &plan).unwrap();
    assert_eq!(d.top, "tiny_top");
    assert_eq!(d.input.lanes, 2);
    assert_eq!(d.input.tdata_bits, 8);
    assert_eq!(d.input.beats_per_frame, 2);
    assert_eq!(d.output.elem_type, m.layers[0].output_type());
    assert_eq!(d.output.beats_per_frame, 2);
    assert_eq!(d.exp_cycles_per_frame, 4);
    let names: Vec<&str> = d.files.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"tiny_l00_mvu.v"), "{names:?}");
    assert!(names.contains(&"tiny_l00_mvu_w.mem"), "{names:?}");
    assert!(names.contains(&"tiny_top.v"), "{names:?}");
    let v = &d
        .files
        .iter()
        .find(|f| f.name == "tiny_l00_mvu.v")
        .unwrap()
        .contents;
    assert!(v.contains("MatMul_0") && v.contains("do not edit"), "{v}");
    assert!(v.contains("module tiny_l00_mvu"));
    // weights: word nf*SF+sf, lane s at bits [s*2 +: 2]: row0 = [1,-1 | 0,1]
    let w = &d
        .files
        .iter()
        .find(|f| f.name == "tiny_l00_mvu_w.mem")
        .unwrap()
        .contents;
    assert_eq!(w.lines().collect::<Vec<_>>(), vec!["d", "4", "6", "1"]);
}

#[test]
fn bad_plans_are_errors_not_panics() {
    let m = tiny();
    let plan = FoldPlan {
        folds: vec![fold::Fold::new(3, 1)],
        how: "test".into(),
    };
    let e = emit(&m, &plan).unwrap_err().to_string();
    assert!(e.contains("fc") && e.contains("PE 3"), "{e}");
    let plan = FoldPlan {
        folds: vec![],
        how: "test".into(),
    };
    assert!(matches!(emit(&m, &plan), Err(EmitError::PlanLength { .. })));
}

#[test]
fn every_template_is_listed_for_its_hash() {
    for t in [
        "lib/skid.v",
        "lib/fifo.v",
        "lib/gearbox.v",
        "engines/mvu.v",
        "engines/thresholding.v",
        "engines/label_select.v",
        "top.v",
    ] {
        assert!(ferrite_rtl::source(t).is_some(), "{t}");
        assert_eq!(template_hash(t).len(), 64);
    }
}
