//! Synthesise the calibration grid with Yosys and record what it measured
//! (`testbench/fixtures/calibration.json`), then print the estimates against it.
//!
//! ```text
//! cargo run --release -p ferrite-testbench --bin calibrate            # the whole grid
//! cargo run --release -p ferrite-testbench --bin calibrate -- mvau    # names containing `mvau`, merged in
//! cargo run --release -p ferrite-testbench --bin calibrate -- --check # no synthesis: the table only
//! ```
//! Two synthesis jobs at a time (`-j 1` for one).

use anyhow::Result;
use ferrite_gen::estimate::{self, Coef};
use ferrite_testbench::calibration::{self, Entry, FAMILIES, Fixture};
use std::sync::Mutex;
use std::time::Instant;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    // --fit: no synthesis, refit the recording
    let fit_only = args.iter().any(|a| a == "--fit");
    let jobs = if args.iter().any(|a| a == "-j1" || a == "1") {
        1
    } else {
        2
    };
    let filters: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with('-') && *a != "1")
        .collect();
    let root = calibration::workspace_root();
    let mut fixture = Fixture::load(&root).unwrap_or_default();
    let grid = calibration::grid();
    if !check && !fit_only {
        let yosys = calibration::yosys()?;
        fixture.yosys = calibration::yosys_version(&yosys)?;
        fixture.command = calibration::COMMAND.to_string();
        let work: Vec<(usize, usize)> = grid
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                filters.is_empty() || filters.iter().any(|f| c.name.contains(f.as_str()))
            })
            .flat_map(|(i, _)| (0..FAMILIES.len()).map(move |f| (i, f)))
            .collect();
        // round robin over the kinds, so a stopped run has measured some of each
        let rank = |i: usize| grid[..i].iter().filter(|c| c.kind == grid[i].kind).count();
        let mut work = work;
        work.sort_by_key(|&(i, f)| (rank(i), i, f));
        let total = work.len();
        let queue = Mutex::new(work.into_iter());
        let done = Mutex::new(Vec::<Entry>::new());
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| {
                    loop {
                        let Some((i, f)) = queue.lock().unwrap().next() else {
                            break;
                        };
                        let (cfg, family) = (&grid[i], FAMILIES[f]);
                        let t0 = Instant::now();
                        let r = calibration::unit(cfg, family).and_then(|u| {
                            calibration::synth(&u, family, &yosys).map(|cells| (u, cells))
                        });
                        match r {
                            Ok((u, cells)) => {
                                let measured = calibration::count_cells(family, &cells);
                                let e = Entry {
                                    kind: cfg.kind.to_string(),
                                    name: cfg.name.clone(),
                                    family,
                                    hash: u.hash,
                                    measured,
                                    cells,
                                    seconds: (t0.elapsed().as_secs_f64() * 10.0).round() / 10.0,
                                };
                                let mut d = done.lock().unwrap();
                                d.push(e.clone());
                                // save as it goes: a stopped run keeps what it measured
                                let mut fx = Fixture::load(&calibration::workspace_root())
                                    .unwrap_or_else(|_| Fixture {
                                        yosys: String::new(),
                                        command: calibration::COMMAND.to_string(),
                                        entries: Vec::new(),
                                    });
                                fx.entries
                                    .retain(|o| !(o.name == e.name && o.family == e.family));
                                fx.entries.push(e);
                                let _ = fx.save(&calibration::workspace_root());
                                eprintln!(
                                    "[{}/{total} {:.0}s] {} {}: {:?} ({:.1}s)",
                                    d.len(),
                                    start.elapsed().as_secs_f64(),
                                    cfg.name,
                                    family.name(),
                                    measured.figures(),
                                    t0.elapsed().as_secs_f64()
                                );
                            }
                            Err(e) => eprintln!("FAILED {} {}: {e:#}", cfg.name, family.name()),
                        }
                    }
                });
            }
        });
        for e in done.into_inner().unwrap() {
            fixture
                .entries
                .retain(|o| !(o.name == e.name && o.family == e.family));
            fixture.entries.push(e);
        }
        // grid order, then family order
        let order = |e: &Entry| {
            (
                grid.iter()
                    .position(|c| c.name == e.name)
                    .unwrap_or(usize::MAX),
                FAMILIES.iter().position(|f| *f == e.family),
            )
        };
        fixture
            .entries
            .retain(|e| grid.iter().any(|c| c.name == e.name));
        fixture.entries.sort_by_key(order);
        fixture.save(&root)?;
        eprintln!(
            "recorded {} entries in {}",
            fixture.entries.len(),
            calibration::FIXTURE
        );
    }
    // render every recorded configuration: its structure, and whether it is still current
    let mut rows = Vec::new();
    for e in &fixture.entries {
        let Some(cfg) = grid.iter().find(|c| c.name == e.name) else {
            continue;
        };
        let u = calibration::unit(cfg, e.family)?;
        rows.push((e, u));
    }
    // fit each model on each family class (both Xilinx families share the 7-series fit)
    let mut coefs: Vec<Coef> = Vec::new();
    if !check {
        let mut keys: Vec<(&'static str, &'static str)> = rows
            .iter()
            .map(|(e, u)| (u.terms.model, estimate::class(e.family)))
            .collect();
        keys.sort();
        keys.dedup();
        for (model, class) in keys {
            let pick = |lut: bool| -> Vec<([f64; estimate::N_TERMS], f64)> {
                rows.iter()
                    .filter(|(e, u)| u.terms.model == model && estimate::class(e.family) == class)
                    .map(|(e, u)| {
                        (
                            u.terms.x,
                            if lut {
                                e.measured.lut
                            } else {
                                e.measured.ff + u.terms.ff_in_blocks
                            } as f64,
                        )
                    })
                    .collect()
            };
            coefs.push(Coef {
                model,
                class,
                lut: calibration::fit(&pick(true)),
                ff: calibration::fit(&pick(false)),
            });
        }
        let path = root.join("gen/src/estimate/coef.rs");
        std::fs::write(&path, calibration::coef_source(&coefs))?;
        // keep the generated file as `cargo fmt` would have it
        let _ = std::process::Command::new("rustfmt")
            .args(["--edition", "2024"])
            .arg(&path)
            .status();
        eprintln!("wrote {} (rebuild to use it)", path.display());
    } else {
        coefs = estimate::coef::COEF.to_vec();
    }
    let predict =
        |u: &calibration::Unit, family| -> estimate::Cost { u.terms.cost_with(&coefs, family) };
    // the table: estimate / measured, and the worst relative error per kind and family
    let mut worst: std::collections::BTreeMap<(String, &str), [f64; 4]> = Default::default();
    let mut misses = 0;
    for (e, u) in &rows {
        let est = predict(u, e.family);
        let stale = if u.hash != e.hash { " STALE" } else { "" };
        let miss = calibration::misses(&est, &e.measured);
        misses += usize::from(!miss.is_empty());
        println!(
            "{:<44} {:<15} est {:?} yosys {:?} x {:?}{}{}",
            e.name,
            e.family.name(),
            est.figures(),
            e.measured.figures(),
            u.terms.x,
            stale,
            if miss.is_empty() { "" } else { "  MISS" }
        );
        let w = worst.entry((e.kind.clone(), e.family.name())).or_default();
        for (k, (est, m)) in est
            .figures()
            .into_iter()
            .zip(e.measured.figures())
            .enumerate()
        {
            let r = if m == 0 && est == 0 {
                0.0
            } else {
                (est as f64 - m as f64) / (m.max(1) as f64)
            };
            if r.abs() > w[k].abs() {
                w[k] = r;
            }
        }
    }
    println!("\nworst relative error (LUT, FF, BRAM, DSP) per kind and family:");
    for ((k, f), w) in worst {
        println!(
            "{k:<14} {f:<15} {:+6.0}% {:+6.0}% {:+6.0}% {:+6.0}%",
            100.0 * w[0],
            100.0 * w[1],
            100.0 * w[2],
            100.0 * w[3]
        );
    }
    println!("{misses} of {} outside tolerance", rows.len());
    Ok(())
}
