//! Import scales linearly with the node count (issue 10, item 4): a model with 100,000
//! chained Identity nodes imports, streamlines and lowers (in debug builds too, without
//! deep recursion). Timings are in docs/BENCHMARKS.md, not asserted here.

#[path = "../examples/identity_chain.rs"]
#[allow(dead_code)]
mod identity_chain;

use ferrite_gen::import::import_bytes;
use ferrite_gen::passes::compile_graph;

#[test]
fn a_hundred_thousand_chained_identities_import() {
    let bytes = identity_chain::identity_chain(100_000);
    // on a thread with a small stack: no recursion over the chain
    let h = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let mut g = import_bytes(&bytes, "chain.onnx", None).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(g.nodes.len(), 100_003);
            let m = compile_graph(&mut g, "chain").unwrap_or_else(|e| panic!("{e}"));
            // the identities are gone: one matrix-vector node
            assert_eq!(
                g.nodes
                    .iter()
                    .filter(|n| n.op.type_name() == "Identity")
                    .count(),
                0
            );
            assert_eq!(m.nodes.len(), 1);
            let a = m.analyze().unwrap_or_else(|e| panic!("{e}"));
            let _ = a;
            // the hardware computes x @ w on the INT4 input
            let hw = ferrite_gen::golden::run_frame(&m, &[1, -2, 3, 7]);
            let w: Vec<i64> = (0..12).map(|i| (i % 3) - 1).collect();
            let want: Vec<i64> = (0..3)
                .map(|c| {
                    [1i64, -2, 3, 7]
                        .iter()
                        .enumerate()
                        .map(|(r, x)| x * w[r * 3 + c])
                        .sum()
                })
                .collect();
            assert_eq!(hw, want);
        })
        .unwrap();
    h.join().unwrap();
}
