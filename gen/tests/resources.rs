//! Resource estimates against measurement: the block RAM that `report.json` estimates for
//! each design (`est_bram18`, RAMB18 equivalents) equals what Yosys's `synth_xilinx` maps,
//! over ROM shapes that land in different block RAM modes (512 x 72, 1K x 18 in a RAMB18,
//! 2K x 18, 8K x 4) and a two-layer design whose second ROM stays out of block RAM.

mod common;

use common::*;
use ferrite_gen::ir::DataType::Bipolar;
use ferrite_gen::ir::Model;
use std::path::Path;
use std::process::Command;

/// RAMB18 equivalents (RAMB36 = 2) in Yosys's `synth_xilinx` of the design in `dir`.
fn measured_bram18(dir: &Path, d: &Built) -> usize {
    require_tool("yosys");
    let dir = std::fs::canonicalize(dir).unwrap();
    let files = verilog_paths(&dir, d).join(" ");
    let top = &d.top;
    let log = dir.join("synth.log");
    let script = format!(
        "read_verilog -defer {files}; chparam -set MEM_DIR \"{}/\" {top}; \
         hierarchy -check -top {top}; synth_xilinx -flatten -top {top}",
        dir.display()
    );
    let o = Command::new("yosys")
        .args(["-q", "-l"])
        .arg(&log)
        .args(["-p", &script])
        .output()
        .expect("yosys runs");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        o.status.success(),
        "yosys failed: {}{text}",
        String::from_utf8_lossy(&o.stderr)
    );
    // the last statistics block is synth_xilinx's own, for the flattened top
    let stats = &text[text
        .rfind("Printing statistics")
        .expect("synth_xilinx prints statistics")..];
    let count = |cell: &str| -> usize {
        stats
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some(cell)).then(|| w.next().unwrap().parse::<usize>().unwrap())
            })
            .sum()
    };
    2 * count("RAMB36E1") + count("RAMB18E1")
}

fn check(tag: &str, m: &Model, folds: &[(usize, usize)], expected: usize) {
    let p = plan(folds);
    let d = emit(m, &p).unwrap();
    let report = ferrite_gen::report::build_report(m, &p.plan(m), &d.design, &d.files);
    assert_eq!(report.est_bram18, expected, "{tag}: estimate");
    let dir = std::env::temp_dir().join(format!("ferrite-resources-{tag}-{}", std::process::id()));
    write_design(&dir, &d);
    let measured = measured_bram18(&dir, &d);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        measured, report.est_bram18,
        "{tag}: Yosys maps {measured} RAMB18 equivalents, ferrite estimates {}",
        report.est_bram18
    );
}

fn single(r: &mut common::Rng, mw: usize, mh: usize) -> Model {
    model(
        "res",
        vec![mvu(
            r,
            "fc",
            mw,
            mh,
            Bipolar,
            Bipolar,
            Some((Bipolar, false)),
        )],
    )
}

#[test]
fn block_ram_estimate_equals_synthesis() {
    let mut r = rng(41);
    // 128 words x 128 bits: two RAMB36 in 512 x 72
    check("d128w128", &single(&mut r, 256, 64), &[(4, 32)], 4);
    // 1024 x 16: one RAMB18 in 1K x 18
    check("d1024w16", &single(&mut r, 256, 64), &[(1, 16)], 1);
    // 2048 x 16: one RAMB36 in 2K x 18
    check("d2048w16", &single(&mut r, 1024, 32), &[(1, 16)], 2);
    // 8192 x 8: two RAMB36 in 8K x 4
    check("d8192w8", &single(&mut r, 2048, 32), &[(1, 8)], 4);
    // two layers: 196 x 256 (four RAMB36) and a 4 kbit ROM left to LUT RAM
    let l0 = mvu(
        &mut r,
        "fc0",
        784,
        64,
        Bipolar,
        Bipolar,
        Some((Bipolar, false)),
    );
    let l1 = mvu(&mut r, "fc1", 64, 64, Bipolar, Bipolar, None);
    check(
        "two_layers",
        &model("res2", vec![l0, l1]),
        &[(16, 16), (8, 8)],
        8,
    );
}

/// A vector-vector unit's weight ROM (K/SIMD x C/PE words of PE x SIMD weights) in block
/// RAM, its accumulator RAM (C/PE words of PE sums) out of it.
#[test]
fn vvu_block_ram_estimate_equals_synthesis() {
    use ferrite_gen::ir::DataType::Int;
    let mut r = rng(42);
    // 25 x 8 = 200 words x 16 x 8 = 128 bits: two RAMB36 in 512 x 72
    let l = ferrite_gen::testing::vv_layer(&mut r, "dw", [2, 2], 128, 25, Int(4), Int(8), None);
    check("vvu_d200w128", &model("resvv", vec![l]), &[(16, 1)], 4);
}
