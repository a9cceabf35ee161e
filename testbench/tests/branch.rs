//! Branch engines, golden vs RTL, bit-exact: the Duplicate and Add engines in small graphs
//! (the top has one input and one output stream, so a Duplicate is tested by rejoining its
//! copies, and an Add is fed through a Duplicate), and residual networks from the shared
//! fixture (`testing::residual`). Every design runs under 0 %, 30 % and 70 % random input
//! idles and output backpressure; inside a graph each Duplicate output sees its own
//! backpressure (its branch's engines, width converters and FIFOs). Outputs must equal the
//! golden model exactly and the steady-state cycles a frame at 0 % stall must equal the
//! design's expectation (its slowest engine's formula, `H*W*C/PE` for both kinds). The grid
//! covers each axis (shapes, the types on each Add side, shifts, thresholds or none,
//! folds from PE 1 to C on each engine, 2 and 3 copies) rather than the cross product, to
//! keep Verilator builds few. `--trace` compares every output port of every engine
//! (the Duplicate's copies included) and names a corrupted Add.

use ferrite_gen::cosim;
use ferrite_gen::fold::FoldPlan;
use ferrite_gen::ir::{DataType, Model, TensorType};
use ferrite_gen::stitch::Role;
use ferrite_testbench::{
    Bench, Block, Branch, Chain, Rng, copy_build, corrupt_mem, describe, residual, run,
};
use std::path::PathBuf;

use DataType::{Binary, Bipolar, Int, UInt};

const STALLS: [f64; 3] = [0.0, 0.3, 0.7];
const FRAMES: usize = 12;

fn bench() -> Bench {
    Bench::new(env!("CARGO_TARGET_TMPDIR"))
}

fn build(tag: &str, m: &Model, p: &FoldPlan) -> Result<PathBuf, String> {
    bench().build_dir(tag, m, p).map_err(|e| format!("{e:#}"))
}

/// Build once, run `FRAMES` frames (random, plus one at the input type's maximum and one
/// at its minimum) under each stall level: bit-exact, and at 0 % stall the measured cycles
/// a frame equal the design's expectation.
fn check(tag: &str, m: &Model, p: &FoldPlan) -> Result<(), String> {
    let b = bench();
    let dir = build(tag, m, p)?;
    let expected = p.exp_cycles_per_frame(m);
    let t = m.input().tensor;
    for (k, &stall) in STALLS.iter().enumerate() {
        let seed = 700 + k as u64;
        let mut frames = cosim::random_frames(m, FRAMES, seed);
        frames[1] = vec![t.dtype.max(); t.elems()];
        frames[2] = vec![t.dtype.min(); t.elems()];
        let r =
            run(&dir, m, &frames, &b.options(stall, seed, false)).map_err(|e| format!("{e:#}"))?;
        if r.mismatches != 0 {
            return Err(format!("stall {stall}: {}", describe(&r)));
        }
        if r.cycles_per_frame_expected != expected {
            return Err(format!(
                "design expects {} cycles a frame, the plan {expected}",
                r.cycles_per_frame_expected
            ));
        }
        if r.cycles_per_frame_measured != expected as f64 {
            return Err(format!(
                "measured steady-state cycles a frame differ from the slowest engine's: {}",
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

/// One Add under test: `input` -> Duplicate -> side a / side b -> Add, each side the copy
/// itself (`None`) or a thresholding engine to a type (`Some`).
struct AddCase {
    shape: [usize; 3],
    input: DataType,
    a: Option<DataType>,
    b: Option<DataType>,
    shifts: [u32; 2],
    act: Option<DataType>,
    /// PE of the Duplicate, of the thresholding sides and of the Add
    pe: (usize, usize, usize),
}

fn type_tag(t: DataType) -> String {
    t.to_string().to_lowercase()
}

fn add_graph(k: usize, c: &AddCase) -> (String, Model, FoldPlan) {
    let mut rng = Rng::new(900 + k as u64);
    let [h, w, ch] = c.shape;
    let side = |t: Option<DataType>| t.map_or("id".to_string(), type_tag);
    let tag = format!(
        "add{k}_{h}x{w}x{ch}_{}_{}_{}_s{}{}_{}_pe{}-{}-{}",
        type_tag(c.input),
        side(c.a),
        side(c.b),
        c.shifts[0],
        c.shifts[1],
        c.act.map_or("sum".to_string(), type_tag),
        c.pe.0,
        c.pe.1,
        c.pe.2
    );
    let mut g = Chain::new(TensorType::new(c.shape, c.input));
    let copies = g.duplicate(2, c.pe.0);
    let mut ends = Vec::new();
    for (copy, t) in copies.into_iter().zip([c.a, c.b]) {
        g.resume(copy);
        if let Some(t) = t {
            g.thresholds(&mut rng, t, c.pe.1);
        }
        ends.push(g.stream());
    }
    let [a, b] = <[_; 2]>::try_from(ends).unwrap();
    g.add(&mut rng, [a, b], c.shifts, c.act, c.pe.2);
    let (m, p) = g.build(&tag);
    (tag, m, p)
}

/// The Add over types on each side (bipolar, binary, signed and unsigned 2..8 bits,
/// differing), shifts, with and without thresholds (bipolar, unsigned and signed outputs),
/// PE from 1 to C; the Duplicate before it at several PEs.
#[test]
fn add_types_shifts_thresholds_folds() {
    let grid = [
        // identity on both sides: the extremes of the input reach the sum
        AddCase {
            shape: [3, 4, 4],
            input: Int(8),
            a: None,
            b: None,
            shifts: [0, 0],
            act: None,
            pe: (2, 1, 2),
        },
        AddCase {
            shape: [2, 3, 6],
            input: UInt(4),
            a: None,
            b: Some(Int(3)),
            shifts: [0, 2],
            act: None,
            pe: (3, 3, 3),
        },
        AddCase {
            shape: [4, 4, 3],
            input: Int(5),
            a: Some(Bipolar),
            b: None,
            shifts: [1, 0],
            act: Some(UInt(2)),
            pe: (1, 1, 1),
        },
        AddCase {
            shape: [2, 2, 8],
            input: UInt(8),
            a: Some(Bipolar),
            b: Some(Bipolar),
            shifts: [0, 0],
            act: Some(Bipolar),
            pe: (8, 8, 8),
        },
        AddCase {
            shape: [3, 3, 4],
            input: Int(4),
            a: Some(Binary),
            b: Some(UInt(2)),
            shifts: [3, 0],
            act: None,
            pe: (4, 2, 4),
        },
        AddCase {
            shape: [1, 6, 6],
            input: UInt(6),
            a: Some(Int(8)),
            b: Some(UInt(8)),
            shifts: [0, 1],
            act: Some(Int(4)),
            pe: (2, 6, 3),
        },
        AddCase {
            shape: [2, 4, 2],
            input: Int(3),
            a: None,
            b: Some(UInt(7)),
            shifts: [4, 0],
            act: Some(Int(8)),
            pe: (1, 2, 2),
        },
        AddCase {
            shape: [5, 1, 5],
            input: Int(2),
            a: Some(Int(2)),
            b: None,
            shifts: [0, 0],
            act: Some(Binary),
            pe: (5, 1, 5),
        },
    ];
    check_all(
        grid.iter()
            .enumerate()
            .map(|(k, c)| add_graph(k, c))
            .collect(),
    );
}

/// Three copies rejoined by two Adds (`(a + b) + c`), each copy through its own engines at
/// its own rate, and two copies of which one is much slower than the other (the fast copy
/// runs ahead into its FIFO; the Duplicate then waits on the slow one).
#[test]
fn duplicate_three_copies_and_uneven_branches() {
    let mut cases = Vec::new();
    for (k, &(shape, input, pes, act)) in [
        ([3, 3, 4], UInt(3), (4, 1, 2, 4), Some(UInt(3))),
        ([2, 5, 6], Int(4), (1, 3, 6, 2), None),
        ([4, 2, 2], Bipolar, (2, 2, 1, 1), Some(Bipolar)),
    ]
    .iter()
    .enumerate()
    {
        let mut rng = Rng::new(950 + k as u64);
        let tag = format!("dup3_{k}_{}", type_tag(input));
        let mut g = Chain::new(TensorType::new(shape, input));
        let (pe_dup, pe_a, pe_c, pe_add) = pes;
        let copies = g.duplicate(3, pe_dup);
        let t = if input == Bipolar { Bipolar } else { UInt(2) };
        g.resume(copies[0].clone()).thresholds(&mut rng, t, pe_a);
        let a = g.stream();
        g.resume(copies[2].clone())
            .thresholds(&mut rng, Int(3), pe_c);
        let c = g.stream();
        g.add(&mut rng, [a, copies[1].clone()], [0, 0], act, pe_add);
        let ab = g.stream();
        g.add(&mut rng, [ab, c], [1, 0], None, pe_add);
        let (m, p) = g.build(&tag);
        cases.push((tag, m, p));
    }
    // one slow copy: its thresholding engine at PE 1 is the bottleneck (C times slower)
    let mut rng = Rng::new(960);
    let mut g = Chain::new(TensorType::new([3, 4, 8], Int(6)));
    let copies = g.duplicate(2, 8);
    g.resume(copies[0].clone()).thresholds(&mut rng, UInt(4), 1);
    let a = g.stream();
    g.add(&mut rng, [a, copies[1].clone()], [0, 0], Some(UInt(4)), 8);
    let (m, p) = g.build("dup_uneven");
    cases.push(("dup_uneven".into(), m, p));
    check_all(cases);
}

/// Residual networks from the shared fixture: a 3x3 convolution (pad, window,
/// matrix-vector unit) against an identity shortcut, a 1x1 convolution against a
/// thresholding shortcut (two blocks), a 1x1 projection shortcut against a 3x3 branch in
/// bipolar, and blocks where the Add is the bottleneck.
#[test]
fn residual_networks() {
    let block = |long, short, weights, pe| Block {
        long,
        short,
        weights,
        pe,
    };
    let nets = [
        (
            "res_3x3_identity",
            TensorType::new([5, 5, 4], UInt(2)),
            1,
            block(
                Branch::Conv3x3 { pe: 2, simd: 2 },
                Branch::Identity,
                Int(2),
                1,
            ),
        ),
        (
            "res_1x1_thr_2blocks",
            TensorType::new([4, 4, 6], Int(3)),
            2,
            block(
                Branch::Conv1x1 { pe: 3, simd: 2 },
                Branch::Thresholds { pe: 2 },
                Int(3),
                3,
            ),
        ),
        (
            "res_bipolar_projection",
            TensorType::new([4, 3, 8], Bipolar),
            1,
            block(
                Branch::Conv3x3 { pe: 4, simd: 8 },
                Branch::Conv1x1 { pe: 2, simd: 8 },
                Bipolar,
                2,
            ),
        ),
        (
            "res_add_bottleneck",
            TensorType::new([3, 3, 4], UInt(4)),
            1,
            block(
                Branch::Conv3x3 { pe: 4, simd: 4 },
                Branch::Identity,
                Int(4),
                1,
            ),
        ),
    ];
    let mut cases = Vec::new();
    for (k, (name, input, blocks, b)) in nets.into_iter().enumerate() {
        let mut rng = Rng::new(980 + k as u64);
        let (m, p) = residual(&mut rng, name, input, blocks, b);
        cases.push((name.to_string(), m, p));
    }
    check_all(cases);
}

fn small_residual() -> (Model, FoldPlan) {
    let mut rng = Rng::new(990);
    let b = Block {
        long: Branch::Conv3x3 { pe: 2, simd: 4 },
        short: Branch::Thresholds { pe: 2 },
        weights: Int(2),
        pe: 2,
    };
    residual(
        &mut rng,
        "res_trace",
        TensorType::new([4, 4, 4], UInt(2)),
        1,
        b,
    )
}

/// `--trace` on a residual network: every engine output port (both copies of the
/// Duplicate) matches, and a corrupted threshold ROM of the Add (every threshold 0) is
/// named as the first divergence, with every other engine intact.
#[test]
fn trace_through_branches() {
    let (m, p) = small_residual();
    let b = bench();
    let dir = build("res_trace", &m, &p).unwrap();
    let frames = cosim::random_frames(&m, 16, 31);
    let r = run(&dir, &m, &frames, &b.options(0.3, 31, true)).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(r.passed(), "{}: {:?}", describe(&r), r.first_divergence);
    assert_eq!(r.nodes.len(), m.nodes.len());
    for n in &r.nodes {
        assert_eq!(n.mismatches, Some(0), "{}", n.name);
        assert_eq!(
            n.cycles_per_frame_measured,
            Some(p.exp_cycles_per_frame(&m) as f64),
            "{}",
            n.name
        );
    }

    let design = ferrite_gen::outdir::OutDir::new(&dir)
        .load_design()
        .unwrap();
    let add = design
        .engines()
        .find_map(|n| match &n.role {
            Role::Engine {
                kind, index, node, ..
            } if kind == "Add" => Some((*index, node.clone())),
            _ => None,
        })
        .unwrap();
    let bad = b.root.join("builds").join("res_trace-corrupt-add-t");
    copy_build(&dir, &bad).unwrap();
    // every threshold 0: the Add's activation saturates (a one-bit flip can hide in a
    // clamped threshold or a sum no frame reaches)
    let mem = corrupt_mem(&bad, add.0, "_t.mem").unwrap();
    let zeroed: String = std::fs::read_to_string(&mem)
        .unwrap()
        .lines()
        .map(|l| format!("{}\n", "0".repeat(l.trim().len())))
        .collect();
    std::fs::write(&mem, zeroed).unwrap();
    let r = run(&bad, &m, &frames, &b.options(0.0, 32, true)).unwrap_or_else(|e| panic!("{e:#}"));
    let d = r
        .first_divergence
        .as_ref()
        .unwrap_or_else(|| panic!("corrupted Add thresholds went unnoticed: {}", describe(&r)));
    assert_eq!((d.node.as_str(), d.port), (add.1.as_str(), 0), "{d:?}");
    for n in &r.nodes {
        if n.name != add.1 {
            assert_eq!(n.mismatches, Some(0), "{} is intact", n.name);
        }
    }
}

/// The stitched structure of a residual network: a FIFO before every input port, the
/// Duplicate's output ports wired each to its own branch, the join's FIFOs sized by the
/// FIFO analysis, the top's port names, the Add's ROM estimate and the report's rows.
#[test]
fn stitch_and_report_of_a_residual_network() {
    let (m, p) = small_residual();
    let (d, files, report) = ferrite_gen::build::compile(&m, &p).unwrap();
    let dup = d
        .engines()
        .find(|n| n.module.ends_with("_duplicate"))
        .unwrap();
    assert_eq!(dup.outputs.len(), 2);
    let add = d.engines().find(|n| n.module.ends_with("_add")).unwrap();
    assert_eq!(add.inputs.len(), 2);
    for port in 0..2 {
        let e = d.edge_from(&dup.name, port).unwrap();
        assert!(e.carries.contains(&format!("port {port}")), "{e:?}");
        let fifo = d
            .nodes
            .iter()
            .find(|n| n.name == format!("fifo_{}_{port}", add.name))
            .unwrap_or_else(|| panic!("no FIFO before {} port {port}", add.name));
        let Role::Fifo { depth, why, .. } = &fifo.role else {
            unreachable!()
        };
        // sized by the FIFO analysis (the co-simulation tests check the rate it gives)
        assert!(depth.is_power_of_two() && *depth >= 2, "{depth}: {why}");
        assert!(why.contains("reference"), "{why}");
    }
    let top = files
        .iter()
        .find(|f| f.name == format!("{}.v", d.top))
        .unwrap();
    for port in [
        "m_axis_out0_tdata",
        "m_axis_out1_tdata",
        "s_axis_in0_tdata",
        "s_axis_in1_tdata",
    ] {
        assert!(top.contents.contains(port), "{port}");
    }
    // the Add's threshold ROM estimate is the ROM its Verilog declares
    let Role::Engine { resources, .. } = &add.role else {
        unreachable!()
    };
    let v = files
        .iter()
        .find(|f| f.name == format!("{}.v", add.module))
        .unwrap();
    let decl = v
        .contents
        .lines()
        .find(|l| l.contains("thr_rom ["))
        .unwrap();
    let nums: Vec<usize> = decl
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(
        resources.threshold_rom_bits,
        (nums[0] + 1) * (nums[3] + 1),
        "{decl}"
    );
    let json = report.to_json();
    assert!(json.contains("\"kind\": \"Duplicate\"") && json.contains("\"kind\": \"Add\""));
}
