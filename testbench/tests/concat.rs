//! The Concat engine, golden vs RTL, bit-exact: small graphs whose one input is copied by a
//! Duplicate into 2 or 3 branches (the copy itself, a thresholding engine to another type,
//! or a 1x1 matrix-vector unit to other channels and type) that a Concat joins. Shapes from
//! 1x1 (a fully connected vector) to 4x4, channels from 2 to 64 an input, every input kind
//! (signed, unsigned, bipolar, binary, and mixes: the output widens each to the narrowest
//! type holding them all), PE from 1 to the inputs' common divisor. Each design runs under
//! 0 %, 30 % and 70 % random input idles and output backpressure; outputs equal the golden
//! model exactly, and the steady-state cycles a frame measured at 0 % stall equal the
//! Concat's formula `H*W*sum(C_i)/PE` (every branch is faster than the Concat). A Concat
//! of two copies of one stream (the Duplicate's outputs straight into it) is the branch
//! that rejoins: the FIFO analysis must size the second input's FIFO to hold a pixel's
//! block while the first is copied, or the pipeline deadlocks.

use ferrite_gen::cosim;
use ferrite_gen::fold::FoldPlan;
use ferrite_gen::ir::{DataType, Model, Op, TensorType};
use ferrite_gen::stitch::Role;
use ferrite_testbench::{Bench, Chain, Rng, describe, run};

use DataType::{Binary, Bipolar, Int, UInt};

const STALLS: [f64; 3] = [0.0, 0.3, 0.7];
const FRAMES: usize = 12;

fn bench() -> Bench {
    Bench::new(env!("CARGO_TARGET_TMPDIR"))
}

/// One branch from the Duplicate to the Concat.
#[derive(Clone, Copy, Debug)]
enum Side {
    /// The copy itself.
    Id,
    /// A thresholding engine to the type (PE = C).
    Thr(DataType),
    /// A 1x1 matrix-vector unit to `c` channels with thresholds to `act`, fully parallel.
    Mvu { c: usize, act: DataType },
}

struct Case {
    hw: [usize; 2],
    c: usize,
    input: DataType,
    sides: Vec<Side>,
    pe: usize,
    /// PE of the Duplicate (C, or the Concat's when the copies go straight to it)
    dup_pe: usize,
}

fn type_tag(t: DataType) -> String {
    t.to_string().to_lowercase()
}

fn side_tag(s: Side) -> String {
    match s {
        Side::Id => "id".into(),
        Side::Thr(t) => format!("thr-{}", type_tag(t)),
        Side::Mvu { c, act } => format!("mvu{c}-{}", type_tag(act)),
    }
}

/// The graph of a case: input -> Duplicate (PE = C) -> sides -> Concat (PE `pe`).
fn graph(k: usize, c: &Case) -> (String, Model, FoldPlan) {
    let mut rng = Rng::new(1200 + k as u64);
    let [h, w] = c.hw;
    let tag = format!(
        "concat{k}_{h}x{w}x{}_{}_{}_pe{}-{}",
        c.c,
        type_tag(c.input),
        c.sides
            .iter()
            .map(|&s| side_tag(s))
            .collect::<Vec<_>>()
            .join("_"),
        c.dup_pe,
        c.pe
    );
    let mut g = Chain::new(TensorType::new([h, w, c.c], c.input));
    let copies = g.duplicate(c.sides.len(), c.dup_pe);
    let mut ends = Vec::new();
    for (copy, &s) in copies.into_iter().zip(&c.sides) {
        g.resume(copy);
        match s {
            Side::Id => {}
            Side::Thr(t) => {
                g.thresholds(&mut rng, t, c.c);
            }
            Side::Mvu { c: mh, act } => {
                g.mvu(&mut rng, mh, Int(2), Some(act), false, (mh, c.c));
            }
        }
        ends.push(g.stream());
    }
    g.concat(ends, c.pe);
    let (m, p) = g.build(&tag);
    (tag, m, p)
}

/// Cycles a frame of the Concat's formula.
fn formula(m: &Model) -> u64 {
    let a = m.analyze().unwrap();
    let (id, n) = m
        .nodes
        .iter()
        .enumerate()
        .find(|(_, n)| matches!(n.op, Op::Concat(_)))
        .unwrap();
    let Op::Concat(cc) = &n.op else {
        unreachable!()
    };
    let t = a.in_types[id][0];
    (t.shape[0] * t.shape[1] * cc.channels.iter().sum::<usize>()) as u64
}

/// Build once, run `FRAMES` frames (random, one at the input's maximum, one at its
/// minimum) under each stall level: bit-exact, and at 0 % stall the measured cycles a
/// frame equal the Concat's formula.
fn check(tag: &str, m: &Model, p: &FoldPlan) -> Result<(), String> {
    let b = bench();
    let dir = b.build_dir(tag, m, p).map_err(|e| format!("{e:#}"))?;
    let pe = m
        .nodes
        .iter()
        .find(|n| matches!(n.op, Op::Concat(_)))
        .map(|n| p.fold(&n.name).pe)
        .unwrap() as u64;
    let expected = formula(m) / pe;
    if p.exp_cycles_per_frame(m) != expected {
        return Err(format!(
            "the plan expects {} cycles a frame, the Concat's formula {expected} (the Concat must be the bottleneck)",
            p.exp_cycles_per_frame(m)
        ));
    }
    let t = m.input().tensor;
    for (k, &stall) in STALLS.iter().enumerate() {
        let seed = 1300 + k as u64;
        let mut frames = cosim::random_frames(m, FRAMES, seed);
        frames[1] = vec![t.dtype.max(); t.elems()];
        frames[2] = vec![t.dtype.min(); t.elems()];
        let r =
            run(&dir, m, &frames, &b.options(stall, seed, false)).map_err(|e| format!("{e:#}"))?;
        if r.mismatches != 0 {
            return Err(format!("stall {stall}: {}", describe(&r)));
        }
        if r.cycles_per_frame_measured != expected as f64 {
            return Err(format!(
                "measured steady-state cycles a frame differ from H*W*sum(C)/PE = {expected}: {}",
                describe(&r)
            ));
        }
    }
    Ok(())
}

fn check_all(cases: Vec<(String, Model, FoldPlan)>) {
    let n = cases.len();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(tag, m, p)| check(tag, m, p).err().map(|e| format!("{tag}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {n} designs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn grid() -> Vec<Case> {
    vec![
        // two copies of one stream straight into the Concat (a branch that rejoins)
        Case {
            hw: [3, 4],
            c: 4,
            input: Int(8),
            sides: vec![Side::Id, Side::Id],
            pe: 2,

            dup_pe: 2,
        },
        // a fully connected vector, 3 inputs: bipolar, signed and unsigned to INT5
        Case {
            hw: [1, 1],
            c: 16,
            input: UInt(4),
            sides: vec![
                Side::Thr(Bipolar),
                Side::Mvu { c: 8, act: Int(3) },
                Side::Id,
            ],
            pe: 4,

            dup_pe: 16,
        },
        // binary and unsigned to UINT2, PE = the common divisor
        Case {
            hw: [2, 3],
            c: 6,
            input: Int(4),
            sides: vec![Side::Thr(Binary), Side::Thr(UInt(2))],
            pe: 3,

            dup_pe: 6,
        },
        // bipolar on both sides: the output stays BIPOLAR; PE 1
        Case {
            hw: [4, 4],
            c: 2,
            input: Bipolar,
            sides: vec![Side::Id, Side::Mvu { c: 4, act: Bipolar }],
            pe: 1,

            dup_pe: 2,
        },
        // bipolar, binary and 7-bit unsigned to INT8
        Case {
            hw: [2, 2],
            c: 4,
            input: UInt(3),
            sides: vec![
                Side::Thr(Bipolar),
                Side::Thr(Binary),
                Side::Mvu { c: 2, act: UInt(7) },
            ],
            pe: 2,

            dup_pe: 4,
        },
        // a long vector rejoining itself at PE 1: the second FIFO holds 64 beats
        Case {
            hw: [1, 1],
            c: 64,
            input: Int(5),
            sides: vec![Side::Id, Side::Id],
            pe: 1,

            dup_pe: 1,
        },
        // PE = C: one beat a block
        Case {
            hw: [5, 1],
            c: 3,
            input: Int(2),
            sides: vec![Side::Thr(Int(6)), Side::Id],
            pe: 3,

            dup_pe: 3,
        },
        // whole pixels a beat (PE = the output's 10 channels): both inputs read together
        Case {
            hw: [4, 4],
            c: 4,
            input: Int(4),
            sides: vec![Side::Id, Side::Mvu { c: 6, act: UInt(3) }],
            pe: 10,

            dup_pe: 4,
        },
        // ten copies of one stream (a Duplicate of 10 outputs: port sets past 8 bits)
        Case {
            hw: [2, 2],
            c: 2,
            input: Int(3),
            sides: vec![Side::Id; 10],
            pe: 2,

            dup_pe: 2,
        },
        // whole pixels of three inputs, bipolar and signed to INT3
        Case {
            hw: [3, 3],
            c: 2,
            input: UInt(2),
            sides: vec![Side::Thr(Bipolar), Side::Id, Side::Thr(Int(3))],
            pe: 6,

            dup_pe: 2,
        },
    ]
}

#[test]
fn concat_shapes_types_folds() {
    check_all(
        grid()
            .iter()
            .enumerate()
            .map(|(k, c)| graph(k, c))
            .collect(),
    );
}

/// The output type widens every input to a type holding all their values; the golden
/// model keeps each value (a bipolar -1 stays -1 next to integers).
#[test]
fn output_types_and_values() {
    use ferrite_gen::ir::concat_type;
    assert_eq!(concat_type(&[Bipolar, Bipolar]), Bipolar);
    assert_eq!(concat_type(&[Bipolar, Binary]), Int(2));
    assert_eq!(concat_type(&[Binary, UInt(1)]), Binary);
    assert_eq!(concat_type(&[Int(4), UInt(4)]), Int(5));
    assert_eq!(concat_type(&[Bipolar, UInt(3), Int(2)]), Int(4));
    assert_eq!(concat_type(&[UInt(2), Binary]), UInt(2));
    let mut rng = Rng::new(5);
    let (_, m, _) = graph(
        99,
        &Case {
            hw: [2, 1],
            c: 2,
            input: Int(3),
            sides: vec![Side::Thr(Bipolar), Side::Id],
            pe: 1,

            dup_pe: 2,
        },
    );
    let x: Vec<i64> = (0..4).map(|_| rng.value(Int(3))).collect();
    let out = ferrite_gen::golden::Golden::new(&m).run_frame(&x);
    // pixel p: the bipolar pair, then the input pair itself
    assert_eq!(out.len(), 8);
    for p in 0..2 {
        assert!(
            out[4 * p..4 * p + 2].iter().all(|v| *v == 1 || *v == -1),
            "{out:?}"
        );
        assert_eq!(&out[4 * p + 2..4 * p + 4], &x[2 * p..2 * p + 2], "{out:?}");
    }
}

/// PE must divide every input's channels: the fold check says which input and what to pick.
#[test]
fn pe_must_divide_every_input() {
    let mut rng = Rng::new(7);
    let mut g = Chain::new(TensorType::new([2, 2, 4], UInt(2)));
    let copies = g.duplicate(2, 4);
    g.resume(copies[0].clone())
        .mvu(&mut rng, 6, Int(2), Some(UInt(2)), false, (6, 4));
    let a = g.stream();
    g.concat(vec![a, copies[1].clone()], 2);
    let (m, _) = g.build("concat_pe");
    let name = m.nodes.last().unwrap().name.clone();
    let bad = FoldPlan::from_folds(
        m.nodes.iter().map(|n| {
            let pe = if n.name == name { 4 } else { 1 };
            (n.name.clone(), ferrite_gen::fold::Fold { pe, simd: 1 })
        }),
        "test",
    );
    let e = bad.check(&m).unwrap_err().to_string();
    assert!(
        e.contains(&name) && e.contains("PE 4") && e.contains("[6, 4]"),
        "{e}"
    );
}

/// The rejoining Concat's FIFOs: the second input's holds at least a pixel's block of the
/// first (else the Duplicate stalls on it while the Concat waits on the first), and the
/// design reports the depths the analysis chose.
#[test]
fn rejoin_fifo_depths() {
    let (_, m, p) = graph(5, &grid()[5]);
    let (d, files, _) = ferrite_gen::build::compile(&m, &p).unwrap();
    let cat = d.engines().find(|n| n.module.ends_with("_concat")).unwrap();
    // the header names the template by its hash
    let v = files
        .iter()
        .find(|f| f.name == format!("{}.v", cat.module))
        .unwrap();
    assert!(
        v.contents.contains("engines/concat.v (sha256 ") && !v.contents.contains("unknown"),
        "{}",
        &v.contents[..600]
    );
    let mut depths = Vec::new();
    for port in 0..2 {
        let fifo = d
            .nodes
            .iter()
            .find(|n| n.name == format!("fifo_{}_{port}", cat.name))
            .unwrap();
        let Role::Fifo { depth, why, .. } = &fifo.role else {
            unreachable!()
        };
        eprintln!("concat input {port}: FIFO depth {depth} ({why})");
        depths.push(*depth);
    }
    assert!(depths[1] >= 64, "{depths:?}");
}

/// A small Inception-like network: one feature map copied into a 1x1 convolution (6
/// channels) and a padded 3x3 convolution (4 channels), concatenated, then a 1x1
/// convolution and a fully connected layer; at two foldings (the Concat the bottleneck,
/// and the 3x3 branch the bottleneck, so the short 1x1 branch waits in its FIFO for the
/// window generator's latency). Bit-exact under stalls, the measured cycles a frame equal
/// the plan's, and the FIFO depths around the Concat printed.
#[test]
fn inception_network() {
    let mut cases = Vec::new();
    // (tag, concat PE, 3x3 (pe, simd), 1x1 (pe, simd), concat is the bottleneck)
    for (tag, pe, conv3, conv1, concat_slowest) in [
        ("inception_concat_bound", 1, (4, 4), (6, 4), true),
        ("inception_conv_bound", 2, (1, 2), (3, 2), false),
    ] {
        let mut rng = Rng::new(1400);
        let mut g = Chain::new(TensorType::new([6, 6, 4], UInt(2)));
        let copies = g.duplicate(2, 4);
        g.resume(copies[0].clone())
            .mvu(&mut rng, 6, Int(2), Some(UInt(2)), false, conv1);
        let a = g.stream();
        g.resume(copies[1].clone())
            .pad([1, 1, 1, 1], 0, 4)
            .window([3, 3], [1, 1], [1, 1], 4)
            .mvu(&mut rng, 4, Int(2), Some(UInt(3)), false, conv3);
        let b = g.stream();
        g.concat(vec![a, b], pe)
            .mvu(&mut rng, 8, Int(2), Some(UInt(2)), false, (8, 10))
            .mvu(&mut rng, 10, Int(2), None, true, (10, 16));
        let (m, p) = g.build(tag);
        let cat = formula(&m) / pe as u64;
        assert_eq!(
            p.exp_cycles_per_frame(&m) == cat,
            concat_slowest,
            "{tag}: {} cycles a frame, the Concat {cat}",
            p.exp_cycles_per_frame(&m)
        );
        let (d, _, _) = ferrite_gen::build::compile(&m, &p).unwrap();
        let cn = d.engines().find(|n| n.module.ends_with("_concat")).unwrap();
        for port in 0..2 {
            let f = d
                .nodes
                .iter()
                .find(|n| n.name == format!("fifo_{}_{port}", cn.name))
                .unwrap();
            let Role::Fifo { depth, why, .. } = &f.role else {
                unreachable!()
            };
            eprintln!("{tag}: concat input {port}: FIFO depth {depth} ({why})");
        }
        cases.push((tag.to_string(), m, p));
    }
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(tag, m, p)| check_plan(tag, m, p).err().map(|e| format!("{tag}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Build once and run under each stall level: bit-exact, and at 0 % stall the measured
/// cycles a frame equal the plan's (its slowest engine's formula).
fn check_plan(tag: &str, m: &Model, p: &FoldPlan) -> Result<(), String> {
    let b = bench();
    let dir = b.build_dir(tag, m, p).map_err(|e| format!("{e:#}"))?;
    let expected = p.exp_cycles_per_frame(m) as f64;
    for (k, &stall) in STALLS.iter().enumerate() {
        let seed = 1500 + k as u64;
        let frames = cosim::random_frames(m, FRAMES, seed);
        let r =
            run(&dir, m, &frames, &b.options(stall, seed, false)).map_err(|e| format!("{e:#}"))?;
        if r.mismatches != 0 {
            return Err(format!("stall {stall}: {}", describe(&r)));
        }
        if stall == 0.0 && r.cycles_per_frame_measured != expected {
            return Err(format!(
                "measured cycles a frame differ from {expected}: {}",
                describe(&r)
            ));
        }
    }
    Ok(())
}
