use super::*;
use crate::fold::{self, FoldPlan};
use crate::ir::{DataType, MatrixVector, Op, TensorType};
use crate::stitch::stitch;

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
    Model::chain(
        "tiny",
        TensorType::vector(4, DataType::Int(2)),
        [(
            "fc".to_string(),
            Op::MatrixVector(MatrixVector {
                mw: 4,
                mh: 2,
                input_type: DataType::Int(2),
                weight_type: DataType::Int(2),
                weights: vec![1, -1, 0, 1, -2, 1, 1, 0],
                thresholds: None,
            }),
            Some("MatMul_0".to_string()),
        )],
    )
}

fn plan(pe: usize, simd: usize) -> FoldPlan {
    FoldPlan::from_folds([("fc".to_string(), fold::Fold::new(pe, simd))], "test")
}

#[test]
fn design_formats_and_padding() {
    let m = tiny();
    let d = stitch(&m, &plan(1, 2)).unwrap();
    assert_eq!(d.top, "tiny_top");
    assert_eq!(d.input.lanes, 2);
    assert_eq!(d.input.tdata_bits, 8);
    assert_eq!(d.input.beats_per_frame, 2);
    assert_eq!(d.output.elem_type, m.output_tensor().unwrap().dtype);
    assert_eq!(d.output.beats_per_frame, 2);
    assert_eq!(d.exp_cycles_per_frame, 4);
    // the manifest round-trips
    assert_eq!(Design::from_json(&d.to_json()).unwrap(), d);
    let files = emit(&m, &d).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"tiny_l00_mvu.v"), "{names:?}");
    assert!(names.contains(&"tiny_l00_mvu_w.mem"), "{names:?}");
    assert!(names.contains(&"tiny_top.v"), "{names:?}");
    let v = &files
        .iter()
        .find(|f| f.name == "tiny_l00_mvu.v")
        .unwrap()
        .contents;
    assert!(v.contains("MatMul_0") && v.contains("do not edit"), "{v}");
    assert!(v.contains("module tiny_l00_mvu"));
    // weights: word nf*SF+sf, lane s at bits [s*2 +: 2]: row0 = [1,-1 | 0,1]
    let w = &files
        .iter()
        .find(|f| f.name == "tiny_l00_mvu_w.mem")
        .unwrap()
        .contents;
    assert_eq!(w.lines().collect::<Vec<_>>(), vec!["d", "4", "6", "1"]);
}

#[test]
fn bad_plans_are_errors_not_panics() {
    let m = tiny();
    let e = stitch(&m, &plan(3, 1)).unwrap_err().to_string();
    assert!(e.contains("fc") && e.contains("PE 3"), "{e}");
    let empty = FoldPlan::from_folds([], "test");
    let e = stitch(&m, &empty).unwrap_err().to_string();
    assert!(e.contains("fc") && e.contains("no fold"), "{e}");
}

#[test]
fn names_from_a_model_cannot_break_out_of_comments() {
    let mut m = tiny();
    m.name = "x\n`define EVIL 1\n*/ module evil; endmodule /*".into();
    m.nodes[0].origin = Some("MatMul\r\n`define A */ \u{202e}\u{1b}[31m".into());
    m.nodes[0].name = "fc\n`define B".into();
    m.outputs = vec![crate::ir::Source::node(&m.nodes[0].name.clone(), 0)];
    let p = FoldPlan::from_folds([(m.nodes[0].name.clone(), fold::Fold::new(1, 2))], "t");
    let d = stitch(&m, &p).unwrap();
    for f in emit(&m, &d).unwrap() {
        for line in f.contents.lines() {
            let t = line.trim_start();
            assert!(!t.starts_with("`define"), "{}: {line}", f.name);
            assert!(!t.starts_with("module evil"), "{}: {line}", f.name);
            assert!(
                !line.contains('\u{202e}') && !line.contains('\u{1b}'),
                "{line}"
            );
        }
        if f.name.ends_with(".v") {
            // every comment opened is closed on the same line
            for line in f.contents.lines() {
                assert_eq!(
                    line.matches("/*").count(),
                    line.matches("*/").count(),
                    "{line}"
                );
            }
        }
    }
}

#[test]
fn every_template_is_listed_for_its_hash() {
    for t in [
        "lib/skid.v",
        "lib/fifo.v",
        "lib/gearbox.v",
        "engines/mvu.v",
        "engines/vvu.v",
        "engines/thresholding.v",
        "engines/label_select.v",
        "top.v",
    ] {
        assert!(ferrite_rtl::source(t).is_some(), "{t}");
        assert_eq!(template_hash(t).len(), 64);
    }
    // the hash covers the parts a template includes: every one of them is listed
    for (path, src) in ferrite_rtl::SOURCES {
        for part in src.split("include \"").skip(1) {
            let inc = part.split('"').next().unwrap();
            assert!(ferrite_rtl::source(inc).is_some(), "{path} includes {inc}");
        }
    }
    assert_ne!(
        template_hash("engines/mvu.v"),
        template_hash("engines/vvu.v")
    );
}

#[test]
fn inserted_nodes_never_take_a_model_node_name() {
    // a node named like the FIFO stitch puts before `fc`
    let mut m = tiny();
    let mut second = m.nodes[0].clone();
    second.name = "fc".into();
    second.inputs = vec![crate::ir::Source::node("fifo_fc", 0)];
    if let Op::MatrixVector(v) = &mut second.op {
        v.mw = 2;
        v.weights = vec![1, -1, 0, 1];
        v.weight_type = DataType::Int(2);
    }
    if let (Op::MatrixVector(v), Op::MatrixVector(first)) = (&mut second.op, &m.nodes[0].op) {
        v.input_type = first.output_type();
    }
    m.nodes[0].name = "fifo_fc".into();
    m.nodes.push(second);
    m.outputs = vec![crate::ir::Source::node("fc", 0)];
    m.validate().unwrap();
    let p = FoldPlan::from_folds(
        [
            ("fifo_fc".to_string(), fold::Fold::new(1, 2)),
            ("fc".to_string(), fold::Fold::new(1, 1)),
        ],
        "t",
    );
    let d = stitch(&m, &p).unwrap();
    let mut names: Vec<&str> = d.nodes.iter().map(|n| n.name.as_str()).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "{names:?}");
    // every wire has one driver
    let mut wires: Vec<&str> = d.edges.iter().map(|e| e.wire.as_str()).collect();
    wires.sort();
    wires.dedup();
    assert_eq!(wires.len(), d.edges.len());
    emit(&m, &d).unwrap();
}
