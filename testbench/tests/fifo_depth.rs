//! FIFO depths from analysis against co-simulation: for every FIFO of a small
//! convolutional chain (a window generator feeding a folded convolution, a max pool, a fully
//! connected bottleneck that reads its whole input vector during its first output fold, a
//! label select), the smallest power-of-two depth that still reaches the design's cycles a
//! frame without deadlock is searched in Verilator, one FIFO at a time with the others at
//! their analytic depths. The analytic depth must be at least that minimum (no deadlock, no
//! lost rate); the ratio is printed. An undersized FIFO before the bottleneck must lose
//! rate or deadlock, so the check can fail.
//!
//! A depthwise chain checks the vector-vector unit's bursty output; two copies of one stream
//! rejoining at a Concat, and the Inception example's Concat, the FIFOs of a join that reads
//! its inputs one after another.
//!
//! The bundled ResNet and MobileNet examples at their automatic folding: the FIFOs on both
//! sides of every residual Add (the short side holds the long side's latency) and the
//! biggest FIFOs of the MobileNet, each searched downward from its analytic depth (one
//! build a step: a ratio of 1 costs one build), the others at their analytic depths. A
//! shortcut FIFO (the short side of an Add) below its searched minimum must deadlock or
//! lose rate, so the check can fail.

use anyhow::{Context, Result};
use ferrite_gen::cosim;
use ferrite_gen::fold::FoldPlan;
use ferrite_gen::ir::{DataType, Model, TensorType};
use ferrite_gen::stitch::{Design, FifoOverrides, Role, stitch_with};
use ferrite_gen::testing::{Chain, Rng};
use ferrite_testbench::Bench;
use std::path::PathBuf;

fn bench() -> Bench {
    Bench::new(env!("CARGO_TARGET_TMPDIR"))
}

/// Write the design's RTL under a directory named after its content; returns it.
fn write(b: &Bench, tag: &str, m: &Model, d: &Design) -> Result<PathBuf> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(m.to_json());
    h.update(d.to_json());
    let hash: String = h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = b.root.join("fifo-builds").join(format!("{tag}-{hash}"));
    let rtl = dir.join("rtl");
    std::fs::create_dir_all(&rtl)?;
    for f in ferrite_gen::emit::emit(m, d).map_err(|e| anyhow::anyhow!("{e}"))? {
        let p = rtl.join(&f.name);
        if std::fs::read(&p).ok().as_deref() != Some(f.contents.as_bytes()) {
            std::fs::write(&p, f.contents.as_bytes())?;
        }
    }
    Ok(dir)
}

/// Whether the design with `overrides` reaches its cycles a frame, bit-exact, without
/// deadlock; the measured cycles a frame (infinite on a deadlock).
fn reaches_rate(
    b: &Bench,
    tag: &str,
    m: &Model,
    p: &FoldPlan,
    overrides: &FifoOverrides,
) -> Result<(bool, f64)> {
    let d = stitch_with(m, p, overrides)?;
    let dir = write(b, tag, m, &d)?;
    let frames = cosim::random_frames(m, 16, 5);
    match cosim::cosim_model(&dir, m, &d, &frames, &b.options(0.0, 5, false)) {
        Ok(r) => {
            anyhow::ensure!(r.mismatches == 0, "{tag}: {} mismatches", r.mismatches);
            // the rate exactly: a frame every expected cycles, not a fraction of a cycle slower
            let ok = r.cycles_per_frame_measured <= d.exp_cycles_per_frame as f64;
            Ok((ok, r.cycles_per_frame_measured))
        }
        // a deadlock (the streams stop) or a run past its cycle budget
        Err(e) => {
            eprintln!("{tag} {overrides:?}: {e}");
            Ok((false, f64::INFINITY))
        }
    }
}

/// The FIFOs of a design: (name, depth, why).
fn fifos(d: &Design) -> Vec<(String, usize, String)> {
    d.nodes
        .iter()
        .filter_map(|n| match &n.role {
            Role::Fifo { depth, why, .. } => Some((n.name.clone(), *depth, why.clone())),
            _ => None,
        })
        .collect()
}

/// The smallest power-of-two depth of `fifo` (at most `analytic`) reaching the rate, the
/// others at their analytic depths; `None` if even `analytic` does not.
fn search(
    b: &Bench,
    tag: &str,
    m: &Model,
    p: &FoldPlan,
    fifo: &str,
    analytic: usize,
) -> Result<Option<usize>> {
    let at = |d: usize| -> Result<bool> {
        let mut o = FifoOverrides::new();
        o.insert(fifo.to_string(), d);
        Ok(reaches_rate(b, tag, m, p, &o)?.0)
    };
    // binary search over exponents 1..=log2(analytic); the analytic depth itself is checked
    // once for the whole design
    let (mut lo, mut hi) = (1u32, analytic.trailing_zeros());
    if hi <= lo {
        return Ok(Some(analytic));
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        if at(1 << mid)? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(Some(1 << lo))
}

/// A 8x8x4 UINT2 image: 3x3 conv to 16 channels (PE 8, SIMD 6: 2 output folds), 2x2 max
/// pool, a fully connected layer of 10 (the bottleneck, 10 output folds of 72 input beats),
/// top-1.
fn chain() -> (Model, FoldPlan) {
    let mut rng = Rng::new(11);
    let mut c = Chain::new(TensorType::new([8, 8, 4], DataType::UInt(2)));
    c.window([3, 3], [1, 1], [1, 1], 2)
        .mvu(
            &mut rng,
            16,
            DataType::Int(2),
            Some(DataType::UInt(2)),
            false,
            (8, 6),
        )
        .max_pool(2, 2, 4)
        .mvu(&mut rng, 10, DataType::Int(2), None, true, (1, 2))
        .label_select(1, 1);
    c.build("fifo_chain")
}

/// A 6x6x2 UINT2 image padded to 8x8 (pad rows and columns), a 3x3 conv to 8 channels
/// folded to be the bottleneck (PE 2, SIMD 3: 4 output folds of 6 input beats), a 2x2 max
/// pool, a fully connected layer of 10 with slack, top-1.
fn padded_chain() -> (Model, FoldPlan) {
    let mut rng = Rng::new(12);
    let mut c = Chain::new(TensorType::new([6, 6, 2], DataType::UInt(2)));
    c.pad([1, 1, 1, 1], 0, 2)
        .window([3, 3], [1, 1], [1, 1], 1)
        .mvu(
            &mut rng,
            8,
            DataType::Int(2),
            Some(DataType::UInt(2)),
            false,
            (2, 3),
        )
        .max_pool(2, 2, 2)
        .mvu(&mut rng, 10, DataType::Int(2), None, true, (2, 8))
        .label_select(1, 1);
    c.build("fifo_padded")
}

/// An 8x8x8 UINT4 image padded to 10x10, a 3x3 window and a depthwise unit at PE 1 (the
/// bottleneck: 72 beats a pixel, its 8 output beats in a burst during the last kernel
/// fold), a pointwise 1x1 matrix-vector unit with thresholds, a global max pool.
fn depthwise_chain() -> (Model, FoldPlan) {
    let mut rng = Rng::new(13);
    let mut c = Chain::new(TensorType::new([8, 8, 8], DataType::UInt(4)));
    c.pad([1, 1, 1, 1], 0, 1)
        .depthwise(
            &mut rng,
            [3, 3],
            [1, 1],
            DataType::Int(4),
            Some(DataType::UInt(4)),
            (1, 1),
        )
        .mvu(
            &mut rng,
            12,
            DataType::Int(4),
            Some(DataType::UInt(2)),
            false,
            (4, 2),
        )
        .pool(ferrite_gen::ir::PoolMode::Max, 64, true, 1);
    c.build("fifo_dw")
}

/// A bundled example at its automatic folding.
fn example(name: &str) -> Result<(Model, FoldPlan)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    let m = ferrite_gen::load_model(&dir.join("model.onnx"))?;
    let p = ferrite_gen::fold::auto(&m, None)?;
    Ok((m, p))
}

/// The smallest power-of-two depth of `fifo` reaching the rate, searched downward from
/// `analytic` (the others at their analytic depths), and the first depth that does not
/// with its measured cycles a frame (infinite on a deadlock), if the search met one.
fn search_down(
    b: &Bench,
    tag: &str,
    m: &Model,
    p: &FoldPlan,
    fifo: &str,
    analytic: usize,
) -> Result<(usize, Option<(usize, f64)>)> {
    let mut d = analytic;
    while d > 2 {
        let mut o = FifoOverrides::new();
        o.insert(fifo.to_string(), d / 2);
        let (ok, measured) = reaches_rate(b, tag, m, p, &o)?;
        if !ok {
            return Ok((d, Some((d / 2, measured))));
        }
        d /= 2;
    }
    Ok((d, None))
}

/// The engine a FIFO feeds (through a width converter and its FIFO, for the FIFO before a
/// converter to fewer lanes) and that engine's kind.
fn consumer(d: &Design, fifo: &str) -> (String, String) {
    use ferrite_gen::stitch::End;
    let mut node = fifo.to_string();
    loop {
        let e = d
            .edges
            .iter()
            .find(|e| {
                e.from
                    == End::Node {
                        node: node.clone(),
                        port: 0,
                    }
            })
            .expect("a FIFO feeds an engine");
        let End::Node { node: next, .. } = &e.to else {
            unreachable!("a FIFO feeds an engine")
        };
        let kind = d.nodes.iter().find(|n| &n.name == next).map(|n| &n.role);
        match kind {
            Some(Role::Engine { kind, .. }) => return (next.clone(), kind.clone()),
            Some(_) => node = next.clone(),
            None => panic!("no design node `{next}`"),
        }
    }
}

/// Analytic depths reach the rate; each FIFO of `chosen` is at least its searched
/// minimum (ratio printed). Returns (FIFO, analytic, minimum, failing probe) a FIFO.
#[allow(clippy::type_complexity)]
fn check_subset(
    b: &Bench,
    tag: &str,
    m: &Model,
    p: &FoldPlan,
    d: &Design,
    chosen: &[String],
) -> Result<Vec<(String, usize, usize, Option<(usize, f64)>)>> {
    let (ok, measured) = reaches_rate(b, tag, m, p, &FifoOverrides::new())?;
    assert!(
        ok,
        "{tag}: the analytic depths lose rate or deadlock: {measured} cycles a frame, expected {}",
        d.exp_cycles_per_frame
    );
    let mut out = Vec::new();
    let all = fifos(d);
    let mut bits = 0;
    for n in &d.nodes {
        if let Role::Fifo { depth, width, .. } = &n.role {
            bits += depth * width;
        }
    }
    eprintln!(
        "{tag}: {} cycles a frame with the analytic depths ({} FIFOs, {bits} bits)",
        d.exp_cycles_per_frame,
        all.len()
    );
    for name in chosen {
        let (_, analytic, why) = all.iter().find(|f| &f.0 == name).expect("a FIFO").clone();
        let (min, probe) = search_down(b, tag, m, p, name, analytic)?;
        assert!(
            analytic >= min,
            "{tag}: `{name}` analytic {analytic} < searched minimum {min}"
        );
        eprintln!(
            "{tag}: {name:20} analytic {analytic:5} searched minimum {min:5} ratio {:.2}  ({why})",
            analytic as f64 / min as f64
        );
        out.push((name.clone(), analytic, min, probe));
    }
    Ok(out)
}

/// ResNet: both sides of every residual Add; the shortcut FIFO (the deeper side) of each
/// Add below its minimum deadlocks or loses rate.
#[test]
fn resnet_example_around_its_adds() -> Result<()> {
    let tag = "fifo_resnet";
    let b = bench();
    let (m, p) = example("resnet_w4a4")?;
    let d = stitch_with(&m, &p, &FifoOverrides::new())?;
    let mut adds: std::collections::BTreeMap<String, Vec<(String, usize)>> = Default::default();
    for (name, depth, _) in fifos(&d) {
        let (node, kind) = consumer(&d, &name);
        if kind == "Add" {
            adds.entry(node).or_default().push((name, depth));
        }
    }
    assert!(!adds.is_empty(), "{tag}: the example has residual Adds");
    let chosen: Vec<String> = adds.values().flatten().map(|f| f.0.clone()).collect();
    let r = check_subset(&b, tag, &m, &p, &d, &chosen)?;
    for (add, sides) in &adds {
        let short = sides.iter().max_by_key(|f| f.1).expect("two sides");
        let (_, _, min, probe) = r.iter().find(|x| x.0 == short.0).expect("searched");
        let (depth, measured) =
            probe.with_context(|| format!("{tag}: `{}` keeps the rate at 2 beats", short.0))?;
        assert!(*min > 2);
        eprintln!(
            "{tag}: the shortcut into `{add}`, `{}`, at {depth} beats: {measured} cycles a frame \
             against {} (caught)",
            short.0, d.exp_cycles_per_frame
        );
    }
    Ok(())
}

/// The FIFOs in front of every Concat of a design, by Concat: (FIFO, depth) each.
fn concat_fifos(d: &Design) -> std::collections::BTreeMap<String, Vec<(String, usize)>> {
    let mut cats: std::collections::BTreeMap<String, Vec<(String, usize)>> = Default::default();
    for (name, depth, _) in fifos(d) {
        let (node, kind) = consumer(d, &name);
        if kind == "Concat" {
            cats.entry(node).or_default().push((name, depth));
        }
    }
    cats
}

/// Two copies of one stream straight into a Concat (a Duplicate and a Concat at PE 1 over
/// 2x2x16): while the Concat copies a pixel's 16 beats of the first copy, the Duplicate
/// pushes the second copy's 16 into its FIFO. Each FIFO at least its searched minimum; the
/// second copy's FIFO below its minimum deadlocks or loses rate.
#[test]
fn concat_of_two_copies_of_one_stream() -> Result<()> {
    let tag = "fifo_concat_rejoin";
    let b = bench();
    let mut c = Chain::new(TensorType::new([2, 2, 16], DataType::Int(3)));
    let copies = c.duplicate(2, 1);
    c.concat(copies, 1);
    let (m, p) = c.build(tag);
    let d = stitch_with(&m, &p, &FifoOverrides::new())?;
    let chosen: Vec<String> = concat_fifos(&d)
        .values()
        .flatten()
        .map(|f| f.0.clone())
        .collect();
    assert_eq!(chosen.len(), 2, "{tag}: {chosen:?}");
    let r = check_subset(&b, tag, &m, &p, &d, &chosen)?;
    let (name, analytic, min, probe) = r.iter().find(|x| x.0.ends_with("_1")).expect("input 1");
    assert!(*min >= 16, "{tag}: `{name}` keeps the rate at {min} beats");
    let (depth, measured) =
        probe.with_context(|| format!("{tag}: `{name}` keeps the rate at 2 beats"))?;
    eprintln!(
        "{tag}: `{name}` analytic {analytic}, at {depth} beats: {measured} cycles a frame against {} (caught)",
        d.exp_cycles_per_frame
    );
    Ok(())
}

/// The Inception example at its automatic folding: both FIFOs in front of its Concat (the
/// 1x1 branch waits there for the 3x3 branch's window latency), each at least its searched
/// minimum.
#[test]
fn inception_example_around_its_concat() -> Result<()> {
    let tag = "fifo_inception";
    let b = bench();
    let (m, p) = example("inception_w4a4")?;
    let d = stitch_with(&m, &p, &FifoOverrides::new())?;
    let chosen: Vec<String> = concat_fifos(&d)
        .values()
        .flatten()
        .map(|f| f.0.clone())
        .collect();
    assert_eq!(chosen.len(), 2, "{tag}: {chosen:?}");
    check_subset(&b, tag, &m, &p, &d, &chosen)?;
    Ok(())
}

/// MobileNet: the three biggest FIFOs (in bits) of at least 4 beats.
#[test]
fn mobilenet_example_biggest_fifos() -> Result<()> {
    let tag = "fifo_mobilenet";
    let b = bench();
    let (m, p) = example("mobilenet_w4a4")?;
    let d = stitch_with(&m, &p, &FifoOverrides::new())?;
    let mut big: Vec<(String, usize)> = d
        .nodes
        .iter()
        .filter_map(|n| match &n.role {
            Role::Fifo { depth, width, .. } if *depth >= 4 => Some((n.name.clone(), depth * width)),
            _ => None,
        })
        .filter(|(name, _)| {
            // not the graph input's FIFO (the input is taken as always valid)
            !d.edges.iter().any(|e| {
                e.from == ferrite_gen::stitch::End::Top
                    && e.to
                        == ferrite_gen::stitch::End::Node {
                            node: name.clone(),
                            port: 0,
                        }
            })
        })
        .collect();
    big.sort_by_key(|f| std::cmp::Reverse(f.1));
    let chosen: Vec<String> = big.into_iter().take(3).map(|f| f.0).collect();
    check_subset(&b, tag, &m, &p, &d, &chosen)?;
    Ok(())
}

#[test]
fn depthwise_chain_with_a_bursty_bottleneck() -> Result<()> {
    check_design("fifo_dw", depthwise_chain())
}

#[test]
fn chain_with_a_fully_connected_bottleneck() -> Result<()> {
    check_design("fifo_chain", chain())
}

#[test]
fn padded_chain_with_a_convolution_bottleneck() -> Result<()> {
    check_design("fifo_padded", padded_chain())
}

/// Analytic depths reach the rate; each is at least the searched minimum (ratio printed);
/// the FIFO needing the most, at half its minimum, is caught losing rate or deadlocking.
fn check_design(tag: &str, (m, p): (Model, FoldPlan)) -> Result<()> {
    let b = bench();
    let d = stitch_with(&m, &p, &FifoOverrides::new())?;
    let (ok, measured) = reaches_rate(&b, tag, &m, &p, &FifoOverrides::new())?;
    assert!(
        ok,
        "{tag}: the analytic depths lose rate or deadlock: {measured} cycles a frame, expected {}",
        d.exp_cycles_per_frame
    );
    let mut worst: Option<(String, usize)> = None;
    for (name, analytic, why) in fifos(&d) {
        let min = search(&b, tag, &m, &p, &name, analytic)?
            .with_context(|| format!("{tag}: `{name}`"))?;
        assert!(
            analytic >= min,
            "{tag}: `{name}` analytic {analytic} < searched minimum {min}"
        );
        let ratio = analytic as f64 / min as f64;
        eprintln!(
            "{tag}: {name:20} analytic {analytic:5} searched minimum {min:5} ratio {ratio:.2}  ({why})"
        );
        if min > 2 && worst.as_ref().is_none_or(|w| min > w.1) {
            worst = Some((name, min));
        }
    }
    // an undersized FIFO must be caught: half the searched minimum of the FIFO that needs
    // the most loses rate or deadlocks
    let Some((name, min)) = worst else {
        eprintln!("{tag}: every FIFO keeps the rate at 2 beats");
        return Ok(());
    };
    let mut o = FifoOverrides::new();
    o.insert(name.clone(), min / 2);
    let (ok, measured) = reaches_rate(&b, tag, &m, &p, &o)?;
    assert!(
        !ok,
        "{tag}: `{name}` at {} beats still reaches the rate ({measured} cycles a frame)",
        min / 2
    );
    eprintln!(
        "{tag}: `{name}` at {} beats: {measured} cycles a frame against {} (caught)",
        min / 2,
        d.exp_cycles_per_frame
    );
    Ok(())
}
