//! The strict reset test: after `ap_rst_n` rises, a beat offered at once must not be lost.
//! (Every test offers the first beat at once unless `FERRITE_TB_SETTLE` says otherwise; this one
//! always does.)

use ferrite_gen::cosim::{self, CosimOptions};
use ferrite_gen::ir::DataType::Bipolar;
use ferrite_testbench::{Bench, Rng, describe, model, mv_layer, plan, run};

#[test]
fn beats_offered_right_after_reset_are_not_lost() {
    let mut rng = Rng::new(3);
    let m = model(
        "reset_first_beat",
        vec![mv_layer(
            &mut rng,
            "fc",
            16,
            8,
            Bipolar,
            Bipolar,
            Some(Bipolar),
        )],
    );
    let p = plan(&m, &[(2, 4)]);
    let b = Bench::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = b.build_dir("reset_first_beat", &m, &p).unwrap();
    let frames = cosim::random_frames(&m, 8, 3);
    let opts = CosimOptions {
        settle_cycles: 0,
        ..b.options(0.0, 3, false)
    };
    let r = run(&dir, &m, &frames, &opts).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(r.mismatches, 0, "{}", describe(&r));
}
