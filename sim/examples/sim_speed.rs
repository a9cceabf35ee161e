//! Simulated cycles per second of a built design (`ferrite build` output), streaming random
//! beats with no stalls. Usage:
//! `sim_speed CACHE RTL_DIR TOP IN_BEATS_PER_FRAME OUT_BEATS_PER_FRAME FRAMES [VERILATOR_ARGS..]`
use ferrite_sim::{Beats, BuildSpec, StreamOptions, StreamPorts, build};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 6 {
        return Err("usage: sim_speed CACHE RTL_DIR TOP IN_BPF OUT_BPF FRAMES [ARGS..]".into());
    }
    let rtl = std::fs::canonicalize(&a[1])?;
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&rtl)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "v"))
        .collect();
    sources.sort();
    let mut args = vec![format!("-GMEM_DIR=\"{}/\"", rtl.display())];
    args.extend(a[6..].iter().cloned());
    let spec = BuildSpec {
        sources,
        top: a[2].clone(),
        ports: vec![],
        args,
        cache_dir: Some(PathBuf::from(&a[0])),
    };
    let m = build(&spec)?;
    let i = m.info();
    println!(
        "build: hit={} runtime {:.2}s verilate {:.2}s compile+link {:.2}s total {:.2}s",
        i.cache_hit, i.runtime_secs, i.verilate_secs, i.compile_secs, i.total_secs
    );
    let (in_bpf, out_bpf, frames): (usize, usize, usize) =
        (a[3].parse()?, a[4].parse()?, a[5].parse()?);
    let words = m
        .ports()
        .iter()
        .find(|p| p.name == "s_axis_tdata")
        .ok_or("no s_axis_tdata")?
        .words();
    let mut x = 0x1234_5678_9abc_def0u64;
    let mut input = Beats::new(words);
    for _ in 0..in_bpf * frames {
        let beat: Vec<u32> = (0..words)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u32
            })
            .collect();
        input.push(&beat);
    }
    let mut sim = m.instantiate(1)?;
    let t = Instant::now();
    let run = sim.stream(
        &StreamPorts::vivado(),
        &input,
        out_bpf * frames,
        &StreamOptions::default(),
    )?;
    let s = t.elapsed().as_secs_f64();
    println!(
        "{frames} frames: {} cycles in {s:.3}s = {:.2} M cycles/s",
        run.cycles,
        run.cycles as f64 / s / 1e6
    );
    Ok(())
}
