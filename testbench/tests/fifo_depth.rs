//! FIFO depths from analysis against co-simulation: for every FIFO of a small
//! convolutional chain (a window generator feeding a folded convolution, a max pool, a fully
//! connected bottleneck that reads its whole input vector during its first output fold, a
//! label select), the smallest power-of-two depth that still reaches the design's cycles a
//! frame without deadlock is searched in Verilator, one FIFO at a time with the others at
//! their analytic depths. The analytic depth must be at least that minimum (no deadlock, no
//! lost rate); the ratio is printed. An undersized FIFO before the bottleneck must lose
//! rate or deadlock, so the check can fail.
//!
//! A depthwise chain checks the vector-vector unit's bursty output.
//!
//! Branches (the short side of a residual block) are covered by the analysis' unit tests
//! on abstract graphs until the Duplicate and Add engines exist.

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
            let ok = r.cycles_per_frame_measured <= d.exp_cycles_per_frame as f64 + 0.5;
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
