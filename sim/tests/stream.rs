//! ferrite-sim on small hand-written designs: caching, port access, stream driving under
//! stalls, and the failures it must catch (lost beats, deadlock, `$error`).

use ferrite_sim::{
    Beats, BuildSpec, Model, Port, SimError, StreamOptions, StreamPorts, Tap, build,
};
use std::path::PathBuf;

fn rtl(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/rtl")
        .join(format!("{name}.v"))
}

/// A cache under the target dir, shared by every test of this file.
fn cache() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test>: the cache goes in target/ferrite-sim-test-cache
    exe.ancestors()
        .nth(3)
        .unwrap()
        .join("ferrite-sim-test-cache")
}

fn ports(w: u32) -> Vec<Port> {
    vec![
        Port::input("clk", 1),
        Port::input("rst_n", 1),
        Port::input("s_axis_tdata", w),
        Port::input("s_axis_tvalid", 1),
        Port::output("s_axis_tready", 1),
        Port::output("m_axis_tdata", w),
        Port::output("m_axis_tvalid", 1),
        Port::input("m_axis_tready", 1),
    ]
}

fn model(top: &str, w: u32, args: &[&str]) -> Model {
    let spec = BuildSpec {
        sources: vec![rtl(top)],
        top: top.into(),
        ports: ports(w),
        args: args.iter().map(|s| s.to_string()).collect(),
        cache_dir: Some(cache()),
    };
    match build(&spec) {
        Ok(m) => m,
        Err(e) => panic!("building {top}: {e}"),
    }
}

fn sp() -> StreamPorts {
    StreamPorts {
        clk: "clk".into(),
        rst: Some("rst_n".into()),
        rst_active_low: true,
        reset_cycles: 3,
        settle_cycles: 0,
        input: "s_axis".into(),
        output: "m_axis".into(),
    }
}

fn opts(stall: f64, seed: u64) -> StreamOptions {
    StreamOptions {
        in_stall: stall,
        out_stall: stall,
        seed,
        idle_limit: 1000,
        ..StreamOptions::default()
    }
}

#[test]
fn skid_adder_is_exact_under_stalls_and_cached() {
    let m = model("tadd_skid", 16, &["-GADD=16'd3"]);
    let again = model("tadd_skid", 16, &["-GADD=16'd3"]);
    assert!(
        again.info().cache_hit,
        "second build of the same design must hit the cache"
    );
    let values: Vec<u64> = (0..500u64).map(|i| (i * 7919) & 0xffff).collect();
    let input = Beats::from_u64(1, &values);
    for (k, stall) in [0.0, 0.3, 0.7].into_iter().enumerate() {
        let mut sim = m.instantiate(k as u64 + 1).unwrap();
        let run = sim
            .stream(&sp(), &input, values.len(), &opts(stall, 42 + k as u64))
            .unwrap_or_else(|e| panic!("stall {stall}: {e}"));
        let got: Vec<u64> = (0..run.output.len())
            .map(|i| run.output.get_u64(i))
            .collect();
        let want: Vec<u64> = values.iter().map(|v| (v + 3) & 0xffff).collect();
        assert_eq!(got, want, "stall {stall}");
        assert!(run.out_stamps.windows(2).all(|w| w[0] < w[1]));
        assert!(run.in_stamps.windows(2).all(|w| w[0] < w[1]));
        if stall == 0.0 {
            // One beat a cycle, first output one cycle after the first input.
            assert_eq!(run.in_stamps[0], 0);
            assert_eq!(run.out_stamps[0], 1);
            assert_eq!(*run.out_stamps.last().unwrap(), values.len() as u64);
        } else {
            assert!(run.cycles > values.len() as u64 + 10);
        }
    }
}

#[test]
fn wide_ports_and_parameter_overrides() {
    let m = model("tadd_skid", 72, &["-GW=72", "-GADD=72'h1_0000_0001"]);
    let mut sim = m.instantiate(7).unwrap();
    let mut input = Beats::new(3);
    let vals: Vec<[u32; 3]> = (0..64u32)
        .map(|i| [0xffff_ffff - i, i.wrapping_mul(0x9e37_79b9), 0xff])
        .collect();
    for v in &vals {
        input.push(v);
    }
    let run = sim
        .stream(&sp(), &input, vals.len(), &opts(0.3, 9))
        .unwrap();
    for (i, v) in vals.iter().enumerate() {
        let x = v[0] as u128 | (v[1] as u128) << 32 | (v[2] as u128) << 64;
        let y = (x + 0x1_0000_0001) & ((1u128 << 72) - 1);
        let got = run.output.get(i);
        let g = got[0] as u128 | (got[1] as u128) << 32 | (got[2] as u128) << 64;
        assert_eq!(g, y, "beat {i}");
    }
}

#[test]
fn manual_port_access() {
    let m = model("tadd_skid", 16, &["-GADD=16'd3"]);
    let mut sim = m.instantiate(3).unwrap();
    sim.set_u64("rst_n", 0).unwrap();
    sim.set_u64("m_axis_tready", 1).unwrap();
    sim.set_u64("s_axis_tvalid", 0).unwrap();
    sim.tick("clk").unwrap();
    sim.set_u64("rst_n", 1).unwrap();
    sim.set_u64("s_axis_tdata", 0x1_0010).unwrap(); // bits above 16 are ignored
    sim.set_u64("s_axis_tvalid", 1).unwrap();
    sim.tick("clk").unwrap();
    sim.set_u64("s_axis_tvalid", 0).unwrap();
    sim.eval().unwrap();
    assert_eq!(sim.get_u64("m_axis_tvalid").unwrap(), 1);
    assert_eq!(sim.get_u64("m_axis_tdata").unwrap(), 0x13);
    let e = sim.get_u64("nope").unwrap_err().to_string();
    assert!(
        e.contains("no port `nope`") && e.contains("m_axis_tdata"),
        "{e}"
    );
    assert!(matches!(
        sim.set_u64("m_axis_tvalid", 1),
        Err(SimError::Argument(_))
    ));
}

#[test]
fn taps_see_every_transfer() {
    let m = model("tadd_skid", 16, &["-GADD=16'd3"]);
    let mut sim = m.instantiate(5).unwrap();
    let input = Beats::from_u64(1, &(0..100).collect::<Vec<_>>());
    let mut o = opts(0.5, 3);
    o.taps = vec![
        Tap {
            data: "m_axis_tdata".into(),
            fire: Some("m_axis_tvalid".into()),
        },
        Tap {
            data: "s_axis_tready".into(),
            fire: None,
        },
    ];
    let run = sim.stream(&sp(), &input, 100, &o).unwrap();
    // tdata while tvalid: every output beat at least once, in order.
    let mut seen: Vec<u64> = (0..run.taps[0].values.len())
        .map(|i| run.taps[0].values.get_u64(i))
        .collect();
    seen.dedup();
    assert_eq!(seen, (3..103).collect::<Vec<u64>>());
    // sampled every cycle
    assert_eq!(run.taps[1].stamps.len() as u64, run.cycles);
}

#[test]
fn a_beat_lost_under_backpressure_is_caught() {
    let m = model("tadd_drop", 16, &[]);
    let values: Vec<u64> = (0..200).collect();
    let input = Beats::from_u64(1, &values);
    // Without backpressure the broken design looks right ...
    let mut sim = m.instantiate(1).unwrap();
    let run = sim
        .stream(&sp(), &input, values.len(), &opts(0.0, 1))
        .unwrap();
    assert_eq!(run.output.get_u64(199), 200);
    // ... with it, beats go missing: the driver reports a stall with the counts.
    let mut sim = m.instantiate(1).unwrap();
    let e = sim
        .stream(&sp(), &input, values.len(), &opts(0.3, 1))
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, SimError::Stalled { .. }), "{msg}");
    assert!(
        msg.contains("200/200 beats accepted") && msg.contains("/200 beats received"),
        "{msg}"
    );
}

#[test]
fn tdata_changing_under_backpressure_is_a_protocol_error() {
    let m = model("tadd_overwrite", 16, &[]);
    let input = Beats::from_u64(1, &(0..200).collect::<Vec<_>>());
    let mut sim = m.instantiate(1).unwrap();
    assert!(sim.stream(&sp(), &input, 200, &opts(0.0, 1)).is_ok());
    let mut sim = m.instantiate(1).unwrap();
    let e = sim.stream(&sp(), &input, 200, &opts(0.3, 1)).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, SimError::Protocol { .. }), "{msg}");
    assert!(msg.contains("`m_axis_tdata` changed"), "{msg}");
}

#[test]
fn deadlock_names_the_last_progress() {
    let spec = BuildSpec {
        sources: vec![rtl("tstuck")],
        top: "tstuck".into(),
        ports: ports(8),
        args: vec![],
        cache_dir: Some(cache()),
    };
    let m = build(&spec).unwrap();
    let mut sim = m.instantiate(1).unwrap();
    let input = Beats::from_u64(1, &[1, 2, 3, 4, 5]);
    let e = sim
        .stream(&sp(), &input, 5, &opts(0.0, 1))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("3/5 beats accepted (last at cycle 2)")
            && e.contains("3/5 beats received (last at cycle 3)"),
        "{e}"
    );
    // The cycle limit is the other guard.
    let mut sim = m.instantiate(1).unwrap();
    let o = StreamOptions {
        max_cycles: 50,
        idle_limit: 1_000_000,
        ..StreamOptions::default()
    };
    let e = sim.stream(&sp(), &input, 5, &o).unwrap_err();
    assert!(matches!(e, SimError::CycleLimit { limit: 50, .. }), "{e}");
}

#[test]
fn design_errors_come_back_as_errors() {
    let m = model("tadd_skid", 16, &["-GFAIL=1"]);
    let mut sim = m.instantiate(1).unwrap();
    let input = Beats::from_u64(1, &[1, 2, 3]);
    let e = sim.stream(&sp(), &input, 3, &opts(0.0, 1)).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, SimError::Design { .. }), "{msg}");
    assert!(msg.contains("FAIL is set"), "{msg}");
}

#[test]
fn build_errors_carry_tool_output() {
    let spec = BuildSpec {
        sources: vec![rtl("tadd_skid")],
        top: "tadd_skid".into(),
        ports: ports(16),
        args: vec![
            "-GNOPE=1".into(),
            "-Wno-fatal".into(),
            "+define+X".into(),
            "--bogus-flag".into(),
        ],
        cache_dir: Some(cache()),
    };
    let e = build(&spec).unwrap_err().to_string();
    assert!(e.contains("verilator") && e.contains("bogus"), "{e}");
    // Port list mismatch.
    let spec = BuildSpec {
        ports: ports(8),
        args: vec![],
        ..spec
    };
    let e = build(&spec).unwrap_err().to_string();
    assert!(e.contains("s_axis_tdata") && e.contains("16-bit"), "{e}");
}

#[test]
fn parallel_builds_of_one_design_build_once() {
    // A cache of its own (models emptied each run; the runtime is kept).
    let dir = cache().with_file_name("ferrite-sim-test-cache-parallel");
    let _ = std::fs::remove_dir_all(ferrite_sim::cache::root(&dir).join("models"));
    let spec = BuildSpec {
        sources: vec![rtl("tadd_skid")],
        top: "tadd_skid".into(),
        ports: ports(16),
        args: vec!["-GADD=16'd5".into()],
        cache_dir: Some(dir),
    };
    let hits: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let m = build(&spec).unwrap_or_else(|e| panic!("{e}"));
                    let mut sim = m.instantiate(1).unwrap();
                    let run = sim
                        .stream(&sp(), &Beats::from_u64(1, &[1, 2, 3]), 3, &opts(0.5, 2))
                        .unwrap();
                    assert_eq!(run.output.data, vec![6, 7, 8]);
                    m.info().cache_hit
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        hits.iter().filter(|h| !**h).count(),
        1,
        "exactly one thread builds, the others wait and load it: {hits:?}"
    );
}
