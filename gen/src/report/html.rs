//! The report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing
//! loaded from anywhere (it opens from disk). Every string from the model goes through
//! [`esc`]. The same [`Summary`] gives the same bytes.

use super::figures::BRAM18_BITS_PER_CYCLE;
use super::layout::{self, BoxKind, LINE_H, PAD};
use super::summary::{Summary, num, si};
use crate::stitch::Role;
use std::fmt::Write;

/// `s` safe in HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "\
body{font-family:sans-serif;margin:24px;color:#1a1a1a;max-width:1400px}\
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;font-size:13px;margin:8px 0}\
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}\
th{background:#f0f0f0}td.l,th.l{text-align:left}\
.cards{display:flex;flex-wrap:wrap;gap:12px}\
.card{border:1px solid #ccc;border-radius:6px;padding:8px 14px;min-width:180px}\
.card b{display:block;font-size:18px}\
.pass{color:#1a7f37}.fail{color:#c0392b}.note{color:#555;font-size:13px}\
.todo{border:1px dashed #999;padding:8px;color:#555;background:#fafafa}\
.scroll{overflow:auto;border:1px solid #eee}\
svg text{font-family:monospace;font-size:11px}\
code{background:#f4f4f4;padding:1px 4px}";

fn p(s: &mut String, x: impl AsRef<str>) {
    s.push_str(x.as_ref());
}

/// The page.
pub fn render(sm: &Summary) -> String {
    let mut s = String::new();
    p(
        &mut s,
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>ferrite report: {}</title><style>{STYLE}</style></head><body>\n",
            esc(&sm.model)
        ),
    );
    p(
        &mut s,
        format!("<h1>ferrite report: {}</h1>\n", esc(&sm.model)),
    );
    cards(&mut s, sm);
    p(&mut s, "<h2 id=\"pipeline\">Pipeline</h2>\n");
    p(
        &mut s,
        "<p class=\"note\">One box an engine (kind, shapes H x W x C, datatypes, PE x SIMD, \
         expected cycles a frame), FIFO or width converter; rows are topological depth, \
         branches run side by side. The bottleneck is drawn in red.</p>\n",
    );
    diagram(&mut s, sm);
    p(&mut s, "<h2 id=\"cycles\">Cycles a frame per node</h2>\n");
    cycles(&mut s, sm);
    p(&mut s, "<h2 id=\"resources\">Resources</h2>\n");
    resources(&mut s, sm);
    p(&mut s, "<h2 id=\"comparison\">Comparison</h2>\n");
    comparison(&mut s, sm);
    p(&mut s, "<h2 id=\"roofline\">Roofline and energy</h2>\n");
    roofline(&mut s, sm);
    p(&mut s, "<h2 id=\"provenance\">Provenance</h2>\n");
    provenance(&mut s, sm);
    p(&mut s, "</body></html>\n");
    s
}

fn verdict(sm: &Summary) -> (String, &'static str) {
    match &sm.cosim {
        None => ("not co-simulated".into(), "note"),
        Some(c) if c.passed() => (format!("PASS: {} frames bit-exact", c.frames), "pass"),
        Some(c) => (
            format!("FAIL: {} mismatching elements", c.mismatches),
            "fail",
        ),
    }
}

fn cards(s: &mut String, sm: &Summary) {
    let (v, class) = verdict(sm);
    let lat = match sm.latency_cycles {
        Some(l) => format!("{l} cycles = {} µs", num(sm.micros(l as f64))),
        None => "not measured (run ferrite cosim)".into(),
    };
    p(s, "<div class=\"cards\">\n");
    for (k, val, c) in [
        ("Co-simulation", esc(&v), class),
        (
            "Bottleneck",
            format!(
                "{} ({} cycles a frame)",
                esc(&sm.bottleneck),
                sm.exp_cycles_per_frame
            ),
            "",
        ),
        (
            "Throughput",
            format!(
                "{} frames/s at {}",
                num(sm.frames_per_second.round()),
                sm.clock_text()
            ),
            "",
        ),
        ("Latency", format!("{lat} at {}", sm.clock_text()), ""),
        (
            "Energy (model)",
            format!("{} nJ a frame", num(sm.energy_pj_per_frame / 1000.0)),
            "",
        ),
    ] {
        p(
            s,
            format!("<div class=\"card\">{k}<b class=\"{c}\">{val}</b></div>\n"),
        );
    }
    p(s, "</div>\n");
}

fn diagram(s: &mut String, sm: &Summary) {
    let l = layout::layout(&sm.design, &sm.nodes);
    p(s, "<div class=\"scroll\">");
    p(
        s,
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"pipeline diagram\">\n\
             <defs><marker id=\"arr\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#555\"/></marker></defs>\n",
            w = num(l.width),
            h = num(l.height)
        ),
    );
    for e in &l.edges {
        let pts: Vec<String> = e
            .iter()
            .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
            .collect();
        p(
            s,
            format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"#555\" marker-end=\"url(#arr)\"/>\n",
                pts.join(" ")
            ),
        );
    }
    for b in &l.boxes {
        let (fill, stroke) = match (b.kind, b.bottleneck) {
            (_, true) => ("#fde2e0", "#c0392b"),
            (BoxKind::Engine, _) => ("#e8f0fe", "#3b6fb6"),
            (BoxKind::Fifo, _) => ("#f3f3f3", "#888"),
            (BoxKind::Converter, _) => ("#fff6d8", "#b08a00"),
            (BoxKind::Port, _) => ("#e6f4ea", "#1a7f37"),
        };
        p(
            s,
            format!(
                "<g><title>{}{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>\n",
                esc(&b.name),
                sm.nodes
                    .iter()
                    .find(|n| n.name == b.name)
                    .and_then(|n| n.origin.as_deref())
                    .map_or(String::new(), |o| format!(" (ONNX: {})", esc(o))),
                num(b.x),
                num(b.y),
                num(b.w),
                num(b.h),
                if b.bottleneck { 2 } else { 1 }
            ),
        );
        for (i, line) in b.lines.iter().enumerate() {
            let y = b.y + PAD + LINE_H * (i as f64 + 0.8);
            let weight = if i == 0 && b.kind == BoxKind::Engine {
                " font-weight=\"bold\""
            } else {
                ""
            };
            p(
                s,
                format!(
                    "<text x=\"{}\" y=\"{}\"{weight}>{}</text>\n",
                    num(b.x + 6.0),
                    num(y),
                    esc(line)
                ),
            );
        }
        let diverges = sm
            .cosim
            .as_ref()
            .and_then(|c| c.first_divergence.as_ref())
            .is_some_and(|d| d.node == b.name);
        if diverges {
            p(
                s,
                format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"3\" stroke-dasharray=\"6 3\"/>\
                     <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#c0392b\" font-weight=\"bold\">first divergence</text>\n",
                    num(b.x - 3.0),
                    num(b.y - 3.0),
                    num(b.w + 6.0),
                    num(b.h + 6.0),
                    num(b.x + b.w - 6.0),
                    num(b.y + b.h - PAD - 2.0)
                ),
            );
        }
        if b.bottleneck {
            p(
                s,
                format!(
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#c0392b\" font-weight=\"bold\">bottleneck</text>\n",
                    num(b.x + b.w - 6.0),
                    num(b.y + PAD + LINE_H * 0.8)
                ),
            );
        }
        p(s, "</g>\n");
    }
    p(s, "</svg></div>\n");
}

fn cycles(s: &mut String, sm: &Summary) {
    let max = sm
        .nodes
        .iter()
        .map(|n| n.exp_cycles)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let (label_w, bar_w, row) = (260.0, 560.0, 18.0);
    let h = sm.nodes.len() as f64 * row + 10.0;
    let w = label_w + bar_w + 250.0;
    p(
        s,
        format!(
            "<p>Bottleneck: <b>{}</b>, {} cycles a frame: {} frames/s, {} µs a frame at {}. \
             Every node runs at the bottleneck's rate in the pipeline.</p>\n",
            esc(&sm.bottleneck),
            sm.exp_cycles_per_frame,
            num(sm.frames_per_second.round()),
            num(sm.micros(sm.exp_cycles_per_frame as f64)),
            sm.clock_text()
        ),
    );
    p(
        s,
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"cycles per node\">\n",
            num(w),
            num(h)
        ),
    );
    let measured = |name: &str| {
        sm.cosim
            .as_ref()
            .and_then(|c| c.nodes.iter().find(|n| n.name == name))
            .and_then(|n| n.cycles_per_frame_measured)
    };
    for (i, n) in sm.nodes.iter().enumerate() {
        let y = 5.0 + i as f64 * row;
        let bw = (n.exp_cycles as f64 / max * bar_w).max(1.0);
        let bottleneck = n.name == sm.bottleneck;
        let fill = if bottleneck { "#c0392b" } else { "#3b6fb6" };
        let mut text = format!("{}", n.exp_cycles);
        if let Some(m) = measured(&n.name) {
            text.push_str(&format!(" (measured {})", num(m)));
        }
        if bottleneck {
            text.push_str(" bottleneck");
        }
        p(
            s,
            format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
                 <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"><title>{}</title></rect>\
                 <text x=\"{}\" y=\"{}\">{}</text>\n",
                num(label_w - 6.0),
                num(y + 12.0),
                esc(&layout::clip(&n.name, 36)),
                num(label_w),
                num(y + 2.0),
                num(bw),
                num(row - 4.0),
                esc(&n.name),
                num(label_w + bw + 6.0),
                num(y + 12.0),
                esc(&text)
            ),
        );
    }
    p(s, "</svg>\n");
}

fn resources(s: &mut String, sm: &Summary) {
    p(
        s,
        format!(
            "<p class=\"note\">Estimates on {fam}: LUT, FF, block RAM ({unit}) and DSP from \
             formulas calibrated against Yosys (docs/estimates.md says how close they are); \
             ROM bits as declared, other buffers (window lines, accumulators).</p>\n<table><tr><th class=\"l\">node</th><th class=\"l\">kind</th><th class=\"l\">ONNX origin</th>\
             <th>PE</th><th>SIMD</th><th>LUT</th><th>FF</th><th>{unit}</th><th>DSP</th><th>weight ROM bits</th><th>threshold ROM bits</th>\
             <th>buffer bits</th></tr>\n",
            fam = esc(sm.estimate.family.name()),
            unit = crate::estimate::bram_unit(sm.estimate.family)
        ),
    );
    for n in &sm.nodes {
        let c = sm.node_cost(&n.name);
        p(
            s,
            format!(
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&n.name),
                esc(&n.kind),
                esc(&layout::clip(n.origin.as_deref().unwrap_or("-"), 60)),
                n.pe,
                n.simd,
                c.lut,
                c.ff,
                c.bram,
                c.dsp,
                n.weight_rom_bits,
                n.threshold_rom_bits,
                n.buffer_bits
            ),
        );
    }
    let t = &sm.totals;
    let inserted_cost: crate::estimate::Cost =
        sm.inserted.iter().map(|i| sm.node_cost(&i.name)).sum();
    p(
        s,
        format!(
            "<tr><td class=\"l\">FIFOs and width converters</td><td></td><td></td><td></td><td></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td><td></td><td></td></tr>\n\
             <tr><th class=\"l\">total</th><th></th><th></th><th></th><th></th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></table>\n\
             <p>FIFOs: {} bits in {} FIFOs; width converters: {}.</p>\n",
            inserted_cost.lut,
            inserted_cost.ff,
            inserted_cost.bram,
            inserted_cost.dsp,
            sm.estimate.total.lut,
            sm.estimate.total.ff,
            sm.estimate.total.bram,
            sm.estimate.total.dsp,
            t.weight_rom_bits,
            t.threshold_rom_bits,
            t.buffer_bits,
            t.fifo_bits,
            sm.inserted
                .iter()
                .filter(|i| matches!(i.role, Role::Fifo { .. }))
                .count(),
            sm.inserted
                .iter()
                .filter(|i| matches!(i.role, Role::Converter { .. }))
                .count()
        ),
    );
    match &sm.board {
        Some(b) => {
            p(
                s,
                format!(
                    "<p>Against the budget of <b>{}</b> ({}, {}):</p>\n<table><tr><th class=\"l\">resource</th><th>estimated</th><th>board</th><th>share</th></tr>\n",
                    esc(&b.name),
                    esc(&b.part),
                    esc(b.family.name())
                ),
            );
            for (what, est, budget) in sm.budget_rows(b) {
                let (e, share) = match est {
                    Some(e) if budget > 0 => (
                        e.to_string(),
                        format!("{:.1} %", 100.0 * e as f64 / budget as f64),
                    ),
                    Some(e) => (e.to_string(), "no such blocks".into()),
                    None => ("-".into(), String::new()),
                };
                p(
                    s,
                    format!(
                        "<tr><td class=\"l\">{what}</td><td>{e}</td><td>{budget}</td><td>{share}</td></tr>\n"
                    ),
                );
            }
            p(s, "</table>\n");
            if sm.synth.is_none() {
                p(
                    s,
                    "<div class=\"todo\"><b>Measured resources: not available.</b> The figures above are \
                     estimates (calibrated against Yosys: docs/estimates.md); run <code>ferrite synth OUT</code> to measure LUT, \
                     FF, block RAM, DSP and (on ECP5 and iCE40 boards) Fmax. They will show \
                     here.</div>\n",
                );
            }
        }
        None => p(
            s,
            "<div class=\"todo\"><b>Board budget: not shown.</b> Pass <code>--board \
             NAME</code> to <code>ferrite report</code> (see <code>ferrite boards</code>) to set \
             the estimates against a board's resources; <code>ferrite synth OUT</code> measures \
             them (shown here when it has run).</div>\n",
        ),
    }
    if let Some(m) = &sm.synth {
        measured(s, m);
    }
}

/// What `ferrite synth` measured (`OUT/synth.json`).
fn measured(s: &mut String, m: &crate::synth::SynthReport) {
    p(
        s,
        format!(
            "<p>Measured by <code>ferrite synth</code> on <b>{}</b> ({}, {}) with {}:</p>\n\
             <table><tr><th class=\"l\">resource</th><th>used</th></tr>\n",
            esc(&m.board),
            esc(&m.part),
            esc(m.family.name()),
            esc(&m.tool_version)
        ),
    );
    let mut rows = vec![("LUT", m.luts), ("FF", m.ffs)];
    if m.lutram > 0 {
        rows.push(("LUT RAM", m.lutram));
    }
    rows.extend([("BRAM", m.brams), ("DSP", m.dsps)]);
    for (what, n) in rows {
        p(
            s,
            format!("<tr><td class=\"l\">{what}</td><td>{n}</td></tr>\n"),
        );
    }
    let fmax = match (m.fmax_mhz, m.target_mhz) {
        (Some(f), Some(t)) => format!("{f:.1} MHz (placed and routed for {t} MHz)"),
        (Some(f), None) => format!("{f:.1} MHz"),
        (None, _) => esc(m.fmax_note.as_deref().unwrap_or("not measured")),
    };
    p(
        s,
        format!("<tr><td class=\"l\">Fmax</td><td>{fmax}</td></tr>\n"),
    );
    if let Some(c) = &m.critical_path {
        p(
            s,
            format!(
                "<tr><td class=\"l\">critical path</td><td>{:.2} ns: {} &rarr; {}</td></tr>\n",
                c.delay_ns,
                esc(&c.from),
                esc(&c.to)
            ),
        );
    }
    p(s, "</table>\n");
    let mut note = esc(&m.counted);
    if let Some(w) = &m.io_wrapper {
        note.push_str(&format!(
            ". Placed and routed inside a {}-pin I/O wrapper, whose {} registers are in the FF \
             count",
            w.pins, w.ffs
        ));
    }
    p(s, format!("<p class=\"note\">{note}.</p>\n"));
}

fn comparison(s: &mut String, sm: &Summary) {
    match &sm.cosim {
        None => p(
            s,
            "<p class=\"note\">No co-simulation in this folder: run <code>ferrite cosim OUT \
             --input X.npy</code> (add <code>--trace</code> to name the first diverging \
             node).</p>\n",
        ),
        Some(c) => {
            let (v, class) = verdict(sm);
            p(s, format!("<p class=\"{class}\"><b>{}</b></p>\n", esc(&v)));
            p(
                s,
                format!(
                    "<table><tr><th class=\"l\">frames run</th><td>{}</td></tr>\
                     <tr><th class=\"l\">mismatching elements</th><td>{}</td></tr>\
                     <tr><th class=\"l\">cycles a frame, measured / expected</th><td>{} / {}</td></tr>\
                     <tr><th class=\"l\">latency (frame 0)</th><td>{} cycles</td></tr>\
                     <tr><th class=\"l\">stall probability</th><td>{}</td></tr>\
                     <tr><th class=\"l\">seed</th><td>{}</td></tr>\
                     <tr><th class=\"l\">trace (every engine output compared)</th><td>{}</td></tr></table>\n",
                    c.frames,
                    c.mismatches,
                    num(c.cycles_per_frame_measured),
                    c.cycles_per_frame_expected,
                    c.latency_cycles,
                    num(c.stall),
                    c.seed,
                    if c.trace { "yes" } else { "no" }
                ),
            );
            if let Some(d) = &c.first_divergence {
                p(
                    s,
                    format!(
                        "<p class=\"fail\">First diverging node: <b>{}</b> (node {}, output port {}), \
                         frame {}, element {}: expected {}, got {}.</p>\n",
                        esc(&d.node),
                        d.index,
                        d.port,
                        d.frame,
                        d.element,
                        d.expected,
                        d.got
                    ),
                );
            } else if !c.passed() && !c.trace {
                p(
                    s,
                    "<p class=\"note\">Run <code>ferrite cosim OUT --trace</code> to name the \
                     first diverging node.</p>\n",
                );
            }
            if !c.first_mismatches.is_empty() {
                p(
                    s,
                    "<table><tr><th>frame</th><th>element</th><th>expected</th><th>got</th></tr>\n",
                );
                for m in c.first_mismatches.iter().take(10) {
                    p(
                        s,
                        format!(
                            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                            m.frame, m.element, m.expected, m.got
                        ),
                    );
                }
                p(s, "</table>\n");
            }
        }
    }
    match &sm.golden {
        None => p(
            s,
            "<p class=\"note\">No comparison with a QONNX reference: run <code>ferrite golden \
             MODEL --input X.npy --output Y.npy --expected R.npy --comparison OUT/golden.json\
             </code>.</p>\n",
        ),
        Some(g) => {
            let diff = match (g.largest_difference, g.integers_differ) {
                (Some(d), _) => format!("largest difference {}", num(d)),
                (_, Some(n)) => format!("{n} integers differ"),
                _ => String::new(),
            };
            let class = if g.agrees { "pass" } else { "fail" };
            p(
                s,
                format!(
                    "<p class=\"{class}\">Golden model vs QONNX reference <code>{}</code> \
                     (model <code>{}</code>, inputs <code>{}</code>): top-1 agrees on {}/{} frames; {}{}.</p>\n",
                    esc(&g.reference),
                    esc(&g.model),
                    esc(&g.input),
                    g.top1_agree,
                    g.frames,
                    esc(&diff),
                    if g.required {
                        ""
                    } else {
                        " (approximate input type: agreement reported, not required)"
                    }
                ),
            );
            if let (Some(l), Some(c)) = (g.labelled, g.correct) {
                p(
                    s,
                    format!(
                        "<p>Top-1 accuracy on {l} labelled frames: {c}/{l} ({} %).</p>\n",
                        num((1000.0 * c as f64 / l.max(1) as f64).round() / 10.0)
                    ),
                );
            }
        }
    }
}

fn roofline(s: &mut String, sm: &Summary) {
    let f = sm.clock_mhz * 1e6;
    p(
        s,
        format!(
            "<p class=\"note\">Per frame, as FINN-R presents them: operations (a MAC is 2, a \
             compare, add or max 1), weight and threshold bits read, stream bits in and out, \
             arithmetic intensity (operations a bit). The compute roof is what the node's \
             PE x SIMD lanes do when busy every cycle; the memory roof the intensity times its \
             on-chip bandwidth (its weight and threshold memories' port widths, or \
             {BRAM18_BITS_PER_CYCLE} bits a cycle a RAMB18 when its block RAM offers more; plus \
             its stream ports). Attained is at the pipeline's rate \
             (the bottleneck's). Rates at {}.</p>\n",
            sm.clock_text()
        ),
    );
    roofline_plot(s, sm);
    p(
        s,
        "<table><tr><th class=\"l\">node</th><th>ops</th><th>weight bits</th><th>activation bits</th>\
         <th>ops/bit</th><th>compute roof ops/s</th><th>memory roof ops/s</th><th>attained ops/s</th>\
         <th>of roof</th><th class=\"l\">bound</th><th>energy nJ</th></tr>\n",
    );
    for n in &sm.nodes {
        let r = &n.roofline;
        let roof = r
            .compute_roof_ops_per_cycle
            .min(r.memory_roof_ops_per_cycle);
        let of = if roof > 0.0 {
            format!(
                "{} %",
                num((1000.0 * r.attained_ops_per_cycle / roof).round() / 10.0)
            )
        } else {
            "-".into()
        };
        p(
            s,
            format!(
                "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td><td>{}</td></tr>\n",
                esc(&n.name),
                si(r.ops as f64),
                si(r.weight_bits as f64),
                si(r.activation_bits as f64),
                num(r.intensity),
                si(r.compute_roof_ops_per_cycle * f),
                si(r.memory_roof_ops_per_cycle * f),
                si(r.attained_ops_per_cycle * f),
                of,
                r.bound,
                num(r.energy_pj / 1000.0)
            ),
        );
    }
    let e = &sm.energy_model;
    p(
        s,
        format!(
            "</table>\n<p>Energy a frame: <b>{} nJ</b> ({} mW at {} frames/s). \
             <b>This is a model, not a measurement.</b> Constants: {} pJ an 8 x 8-bit multiply \
             (an a x b-bit one costs a·b/64 of it), {} pJ an 8-bit add or compare (n bits: n/8 of it), \
             {} pJ a bit read from weight or threshold memory, {} pJ a stream bit moved. \
             Source: {}.</p>\n",
            num(sm.energy_pj_per_frame / 1000.0),
            num(sm.energy_pj_per_frame * sm.frames_per_second / 1e9),
            num(sm.frames_per_second.round()),
            num(e.pj_mul_8x8),
            num(e.pj_add_8),
            num(e.pj_mem_bit),
            num(e.pj_stream_bit),
            esc(e.source)
        ),
    );
}

/// Log-log plot: each node with operations at its intensity, a dot at what it attains and
/// a bar at its roof (the lower of compute and memory), numbered by node index.
fn roofline_plot(s: &mut String, sm: &Summary) {
    let pts: Vec<(usize, f64, f64, f64)> = sm
        .nodes
        .iter()
        .filter(|n| n.roofline.ops > 0 && n.roofline.intensity > 0.0)
        .map(|n| {
            let r = &n.roofline;
            let f = sm.clock_mhz * 1e6;
            (
                n.index,
                r.intensity,
                r.attained_ops_per_cycle * f,
                r.compute_roof_ops_per_cycle
                    .min(r.memory_roof_ops_per_cycle)
                    * f,
            )
        })
        .collect();
    if pts.is_empty() {
        return;
    }
    let lg = |v: f64| v.max(1e-30).log10();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(_, x, a, r) in &pts {
        x0 = x0.min(lg(x));
        x1 = x1.max(lg(x));
        y0 = y0.min(lg(a));
        y1 = y1.max(lg(r).max(lg(a)));
    }
    let (x0, x1) = (x0.floor(), (x1 + 1e-9).ceil().max(x0.floor() + 1.0));
    let (y0, y1) = (y0.floor(), (y1 + 1e-9).ceil().max(y0.floor() + 1.0));
    let (w, h, l, b) = (640.0, 320.0, 70.0, 40.0);
    let px = |v: f64| l + (lg(v) - x0) / (x1 - x0) * (w - l - 20.0);
    let py = |v: f64| h - b - (lg(v) - y0) / (y1 - y0) * (h - b - 15.0);
    p(
        s,
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"roofline\">\n\
             <rect x=\"{l}\" y=\"15\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n",
            w - l - 20.0,
            h - b - 15.0
        ),
    );
    for e in x0 as i32..=x1 as i32 {
        let x = px(10f64.powi(e));
        p(
            s,
            format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">1e{e}</text>\n",
                num(x),
                num(h - b + 14.0)
            ),
        );
    }
    for e in y0 as i32..=y1 as i32 {
        let y = py(10f64.powi(e));
        p(
            s,
            format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">1e{e}</text>\n",
                num(l - 4.0),
                num(y + 4.0)
            ),
        );
    }
    p(
        s,
        format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">arithmetic intensity (ops/bit)</text>\n\
             <text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">ops/s</text>\n",
            num((l + w - 20.0) / 2.0),
            num(h - 8.0),
            num((h - b) / 2.0),
            num((h - b) / 2.0)
        ),
    );
    for &(i, x, a, r) in &pts {
        let (cx, ya, yr) = (px(x), py(a), py(r));
        p(
            s,
            format!(
                "<line x1=\"{cx}\" y1=\"{ya}\" x2=\"{cx}\" y2=\"{yr}\" stroke=\"#bbb\"/>\
                 <line x1=\"{}\" y1=\"{yr}\" x2=\"{}\" y2=\"{yr}\" stroke=\"#c0392b\" stroke-width=\"2\"/>\
                 <circle cx=\"{cx}\" cy=\"{ya}\" r=\"3.5\" fill=\"#3b6fb6\"/>\
                 <text x=\"{}\" y=\"{}\">{i}</text>\n",
                num(cx - 7.0),
                num(cx + 7.0),
                num(cx + 5.0),
                num(ya - 4.0),
                cx = num(cx),
                ya = num(ya),
                yr = num(yr)
            ),
        );
    }
    p(
        s,
        "</svg>\n<p class=\"note\">Each node with operations (numbered as in the table): \
         the dot is what it attains at the pipeline's rate, the red bar its roof (the lower \
         of its compute and memory roofs); the gap is its slack.</p>\n",
    );
}

fn provenance(s: &mut String, sm: &Summary) {
    let (file, sha) = match &sm.source {
        Some(p) => (esc(&p.file), esc(&p.sha256)),
        None => ("(not recorded)".into(), "(not recorded)".into()),
    };
    p(
        s,
        format!(
            "<table><tr><th class=\"l\">model file</th><td class=\"l\"><code>{file}</code></td></tr>\
             <tr><th class=\"l\">sha256</th><td class=\"l\"><code>{sha}</code></td></tr>\
             <tr><th class=\"l\">network</th><td class=\"l\">{}</td></tr>\
             <tr><th class=\"l\">generator</th><td class=\"l\">{}</td></tr>\
             <tr><th class=\"l\">command</th><td class=\"l\"><code>{}</code></td></tr></table>\n",
            esc(&sm.model),
            esc(&sm.generator),
            esc(&sm.command)
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_makes_model_text_inert() {
        assert_eq!(
            esc("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(esc("a&b\"c"), "a&amp;b&quot;c");
        assert_eq!(esc("x\u{0}y\u{1b}"), "x\\u{0}y\\u{1b}");
    }

    /// The ResNet example's page: the same summary renders to the same bytes, and a
    /// hostile node name is escaped in every place it appears.
    #[test]
    fn render_is_deterministic_and_escapes_names() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/resnet_w4a4/model.onnx");
        let mut model = crate::load_model(&p).unwrap();
        let evil = "<script>x</script>";
        let old = model.nodes[1].name.clone();
        model.nodes[1].name = evil.into();
        for n in &mut model.nodes {
            for s in &mut n.inputs {
                if let crate::ir::Source::Node { node, .. } = s
                    && *node == old
                {
                    *node = evil.into();
                }
            }
        }
        let plan = crate::fold::auto(&model, None).unwrap();
        let design = crate::stitch::stitch(&model, &plan).unwrap();
        let sm = Summary::new(&model, design, None, None, "ferrite report out", None);
        let a = render(&sm);
        let b = render(&sm.clone());
        assert!(a == b);
        assert!(!a.contains("<script"));
        assert!(a.matches("&lt;script&gt;x&lt;/script&gt;").count() >= 3);
    }
}
