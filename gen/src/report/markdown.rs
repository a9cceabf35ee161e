//! The report as a Markdown summary for CI logs (`ferrite report OUT --format md`).

use super::summary::{Summary, num, si};
use std::fmt::Write;

/// `s` safe in a Markdown table cell (and in the HTML a Markdown renderer makes of it).
pub fn cell(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '|' => o.push_str("\\|"),
            '`' | '*' | '_' | '[' | ']' | '\\' | '#' => {
                o.push('\\');
                o.push(c);
            }
            c if c.is_control() => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

/// The summary.
pub fn render(sm: &Summary) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# ferrite report: {}\n", cell(&sm.model));
    let verdict = match &sm.cosim {
        None => "not co-simulated".to_string(),
        Some(c) if c.passed() => format!("PASS ({} frames bit-exact)", c.frames),
        Some(c) => format!("FAIL ({} mismatching elements)", c.mismatches),
    };
    let _ = writeln!(s, "- co-simulation: **{verdict}**");
    let _ = writeln!(
        s,
        "- bottleneck: **{}**, {} cycles a frame; {} frames/s at {}",
        cell(&sm.bottleneck),
        sm.exp_cycles_per_frame,
        num(sm.frames_per_second.round()),
        sm.clock_text()
    );
    match sm.latency_cycles {
        Some(l) => {
            let _ = writeln!(
                s,
                "- latency: {l} cycles ({} µs at {})",
                num(sm.micros(l as f64)),
                sm.clock_text()
            );
        }
        None => s.push_str("- latency: not measured (run `ferrite cosim`)\n"),
    }
    let t = &sm.totals;
    let e = sm.estimate.total;
    let unit = crate::estimate::bram_unit(sm.estimate.family);
    let _ = writeln!(
        s,
        "- resources (estimates on {}): {} LUT, {} FF, {} {unit}, {} DSP; {} weight ROM bits, {} threshold ROM bits, {} buffer bits, {} FIFO bits",
        sm.estimate.family.name(),
        e.lut,
        e.ff,
        e.bram,
        e.dsp,
        t.weight_rom_bits,
        t.threshold_rom_bits,
        t.buffer_bits,
        t.fifo_bits
    );
    if let Some(m) = &sm.synth {
        let fmax = match m.fmax_mhz {
            Some(f) => format!("Fmax {} MHz", num(f)),
            None => "no Fmax (needs Vivado)".into(),
        };
        let path = m.critical_path.as_ref().map_or(String::new(), |c| {
            format!(
                "; critical path {} ns, {} to {}",
                num(c.delay_ns),
                cell(&c.from),
                cell(&c.to)
            )
        });
        let _ = writeln!(
            s,
            "- measured by `ferrite synth` ({}, {}): {} LUT, {} FF, {} BRAM, {} DSP; {fmax}{path}",
            cell(&m.board),
            cell(&m.tool_version),
            m.luts,
            m.ffs,
            m.brams,
            m.dsps
        );
    }
    if let Some(b) = &sm.board {
        let shares: Vec<String> = sm
            .budget_rows(b)
            .into_iter()
            .map(|(what, est, budget)| {
                let e = est.unwrap_or(0);
                if budget > 0 {
                    format!(
                        "{what} {e} of {budget} ({:.1} %)",
                        100.0 * e as f64 / budget as f64
                    )
                } else {
                    format!("{what} {e} of none")
                }
            })
            .collect();
        let _ = writeln!(s, "- against {}'s budget: {}", b.name, shares.join(", "));
    }
    let _ = writeln!(
        s,
        "- energy a frame (a model, not a measurement): {} nJ",
        num(sm.energy_pj_per_frame / 1000.0)
    );
    if let Some(c) = &sm.cosim {
        let _ = writeln!(
            s,
            "- cosim: {} frames, {} mismatches, stall {}, seed {}, measured {} cycles a frame",
            c.frames,
            c.mismatches,
            num(c.stall),
            c.seed,
            num(c.cycles_per_frame_measured)
        );
        if let Some(d) = &c.first_divergence {
            let _ = writeln!(
                s,
                "- first diverging node: **{}** (node {}, port {}), frame {}, element {}: expected {}, got {}",
                cell(&d.node),
                d.index,
                d.port,
                d.frame,
                d.element,
                d.expected,
                d.got
            );
        }
    }
    if let Some(g) = &sm.golden {
        let diff = match (g.largest_difference, g.integers_differ) {
            (Some(d), _) => format!("largest difference {}", num(d)),
            (_, Some(n)) => format!("{n} integers differ"),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "- vs QONNX reference {}: top-1 agrees on {}/{} frames; {diff}",
            cell(&g.reference),
            g.top1_agree,
            g.frames
        );
    }
    s.push_str(
        "\n| # | node | kind | PE | SIMD | cycles | LUT | FF | BRAM | DSP | ops | ops/bit | bound | energy nJ |\n",
    );
    s.push_str("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
    for n in &sm.nodes {
        let mark = if n.name == sm.bottleneck {
            " (bottleneck)"
        } else {
            ""
        };
        let r = &n.roofline;
        let c = sm.node_cost(&n.name);
        let _ = writeln!(
            s,
            "| {} | {}{mark} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            n.index,
            cell(&n.name),
            cell(&n.kind),
            n.pe,
            n.simd,
            n.exp_cycles,
            c.lut,
            c.ff,
            c.bram,
            c.dsp,
            si(r.ops as f64),
            num(r.intensity),
            r.bound,
            num(r.energy_pj / 1000.0)
        );
    }
    if let Some(p) = &sm.source {
        let _ = writeln!(
            s,
            "\nmodel `{}` sha256 `{}`; {}; `{}`",
            cell(&p.file),
            cell(&p.sha256),
            cell(&sm.generator),
            sm.command.replace('`', "'")
        );
    } else {
        let _ = writeln!(
            s,
            "\n{}; `{}`",
            cell(&sm.generator),
            sm.command.replace('`', "'")
        );
    }
    s
}
