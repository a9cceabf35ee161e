//! Measures ferrite-sim: build times (cold runtime, per model, cache hit) and simulated
//! cycles per second of the stream loop. Usage:
//! `cargo run --release -p ferrite-sim --example sim_bench -- CACHE_DIR [TOP.v TOP [ARGS..]]`
use ferrite_sim::{Beats, BuildSpec, StreamOptions, StreamPorts, build};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cache = PathBuf::from(args.first().ok_or("usage: sim_bench CACHE_DIR")?);
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rtl/tadd_skid.v");
    let spec = BuildSpec {
        sources: vec![src],
        top: "tadd_skid".into(),
        ports: vec![],
        args: vec!["-GADD=16'd3".into()],
        cache_dir: Some(cache),
    };
    let m = build(&spec)?;
    let i = m.info();
    println!(
        "build 1: hit={} runtime {:.2}s verilate {:.2}s compile+link {:.2}s total {:.2}s",
        i.cache_hit, i.runtime_secs, i.verilate_secs, i.compile_secs, i.total_secs
    );
    let m2 = build(&spec)?;
    println!(
        "build 2: hit={} total {:.3}s",
        m2.info().cache_hit,
        m2.info().total_secs
    );
    let ports = StreamPorts {
        clk: "clk".into(),
        rst: Some("rst_n".into()),
        rst_active_low: true,
        reset_cycles: 2,
        settle_cycles: 0,
        input: "s_axis".into(),
        output: "m_axis".into(),
    };
    let n = 2_000_000u64;
    let input = Beats::from_u64(1, &(0..n).map(|v| v & 0xffff).collect::<Vec<_>>());
    for stall in [0.0, 0.5] {
        let mut sim = m.instantiate(1)?;
        let t = Instant::now();
        let run = sim.stream(
            &ports,
            &input,
            n as usize,
            &StreamOptions {
                in_stall: stall,
                out_stall: stall,
                ..StreamOptions::default()
            },
        )?;
        let s = t.elapsed().as_secs_f64();
        println!(
            "stall {stall}: {} cycles in {s:.3}s = {:.2} M cycles/s",
            run.cycles,
            run.cycles as f64 / s / 1e6
        );
    }
    Ok(())
}
