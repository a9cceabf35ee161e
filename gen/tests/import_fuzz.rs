//! Arbitrary, truncated and mutated ONNX bytes never panic the importer, the passes or the
//! lowering: they either compile or return an error.

use ferrite_gen::import::import_bytes;
use ferrite_gen::passes;
use proptest::prelude::*;
use std::sync::OnceLock;

fn tfc(name: &str) -> &'static [u8] {
    static ONE: OnceLock<Vec<u8>> = OnceLock::new();
    static TWO: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = if name == "TFC_1W1A" { &ONE } else { &TWO };
    cell.get_or_init(|| {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/models/").to_string()
            + name
            + "/model.onnx";
        std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    })
}

/// Case count: the default, or `FERRITE_FUZZ_CASES` for a longer local run.
fn cases(default: u32) -> u32 {
    std::env::var("FERRITE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The whole front end on some bytes; Ok(true) when it compiled.
fn compile(bytes: &[u8]) -> bool {
    let Ok(mut g) = import_bytes(bytes, "fuzz.onnx", None) else {
        return false;
    };
    if passes::streamline(&mut g).is_err() {
        return false;
    }
    passes::lower::lower(&g, "fuzz").is_ok()
}

#[test]
fn unmodified_models_compile() {
    assert!(compile(tfc("TFC_1W1A")));
    assert!(compile(tfc("TFC_2W2A")));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        compile(&bytes);
    }

    #[test]
    fn truncated_models_never_panic(which in any::<bool>(), cut in 0.0f64..1.0) {
        let b = tfc(if which { "TFC_1W1A" } else { "TFC_2W2A" });
        let n = (b.len() as f64 * cut) as usize;
        // A cut model never compiles: the graph ends early or the protobuf is broken.
        prop_assert!(!compile(&b[..n]) || n == b.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(160), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_models_never_panic(
        which in any::<bool>(),
        edits in prop::collection::vec((0.0f64..1.0, any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut b = tfc(if which { "TFC_1W1A" } else { "TFC_2W2A" }).to_vec();
        // Half of the edits hit the first 4 KiB (the nodes, attributes and small
        // initializers are serialized first); the rest land anywhere (mostly weights).
        for (pos, byte, kind) in edits {
            let span = if byte % 2 == 0 { 4096.min(b.len()) } else { b.len() };
            let i = ((span as f64) * pos) as usize % b.len();
            match kind {
                0 => b[i] = byte,
                1 => b[i] ^= 1 << (byte % 8),
                _ => { b.remove(i); }
            }
        }
        compile(&b);
    }
}
