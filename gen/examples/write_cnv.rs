//! Write FINN's CNV (`ferrite_gen::testing::cnv`, random weights and thresholds) as an IR
//! JSON and its FINN folding as a ferrite folding file, for the CLI benchmarks of
//! docs/BENCHMARKS.md:
//!
//! `cargo run --release -p ferrite-gen --example write_cnv -- DIR [w1a1|w2a2]` writes
//! `DIR/cnv.json` and `DIR/folding.json` (seeds as in testbench/tests/conv.rs).
use ferrite_gen::ir::DataType;
use ferrite_gen::testing::{Rng, cnv};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: write_cnv DIR [w1a1|w2a2]"));
    let w2a2 = args.next().as_deref() == Some("w2a2");
    let (t, seed) = if w2a2 {
        (DataType::Int(2), 22)
    } else {
        (DataType::Bipolar, 11)
    };
    let (m, p) = cnv(&mut Rng::new(seed), t, t, w2a2);
    std::fs::create_dir_all(&dir).expect("create DIR");
    std::fs::write(dir.join("cnv.json"), m.to_json()).expect("write cnv.json");
    std::fs::write(dir.join("folding.json"), p.to_json()).expect("write folding.json");
    println!("{}: cnv.json, folding.json", dir.display());
}
