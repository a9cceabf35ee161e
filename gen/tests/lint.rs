//! Every generated file passes `verilator --lint-only -Wall` with no warning, elaborates in
//! Yosys (`hierarchy -check`) and compiles in Icarus (-g2005), over a sweep of datatypes,
//! thresholds, folds, engine kinds and width converters. A missing tool fails the test.

mod common;

use common::*;
use ferrite_gen::emit::emit_trace_top;
use ferrite_gen::ir::{DataType, Model};

struct Case {
    name: String,
    model: Model,
    plan: Folds,
}

fn check_all(cases: &[Case]) {
    require_tool("verilator");
    require_tool("yosys");
    require_tool("iverilog");
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for c in cases {
        let d = match emit(&c.model, &c.plan) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: emit: {e}", c.name));
                continue;
            }
        };
        let dir = tmp.path().join(&c.name);
        write_design(&dir, &d);
        if let Err(w) = verilator_lint(&dir, &d, &d.top, &[]) {
            failures.push(format!("{}: verilator -Wall:\n{w}", c.name));
        }
        // the trace top too, with the design's files
        let t = emit_trace_top(&c.model, &d.design).unwrap();
        std::fs::write(dir.join(&t.file.name), &t.file.contents).unwrap();
        if let Err(w) = verilator_lint(
            &dir,
            &d,
            &t.top,
            &[dir.join(&t.file.name).display().to_string()],
        ) {
            failures.push(format!("{}: verilator -Wall (trace top):\n{w}", c.name));
        }
        if let Err(w) = yosys_elaborate(&dir, &d, &d.top) {
            failures.push(format!("{}: yosys:\n{w}", c.name));
        }
        if let Err(w) = icarus_compile(&dir, &d, &d.top) {
            failures.push(format!("{}: iverilog:\n{w}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} designs failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn one(name: &str, layers: Vec<Layer>, folds: &[(usize, usize)]) -> Case {
    Case {
        name: name.into(),
        model: model(name, layers),
        plan: plan(folds),
    }
}

const TYPES: &[DataType] = &[
    DataType::Bipolar,
    DataType::Binary,
    DataType::Int(2),
    DataType::UInt(2),
    DataType::Int(3),
    DataType::UInt(4),
    DataType::Int(5),
    DataType::UInt(7),
    DataType::Int(8),
    DataType::UInt(8),
];

#[test]
fn mvu_datatypes() {
    let mut r = rng(1);
    let mut cases = Vec::new();
    for (i, &it) in TYPES.iter().enumerate() {
        for (j, &wt) in TYPES.iter().enumerate() {
            // every pair without activation, a rotating subset with one
            let out = match (i + j) % 4 {
                0 => Some((DataType::Bipolar, false)),
                1 => Some((DataType::UInt(2), true)),
                2 => Some((DataType::Int(3), false)),
                _ => None,
            };
            let folds = [(1, 1), (2, 3), (4, 6), (2, 2)][(i * 3 + j) % 4];
            let l = mvu(&mut r, "fc", 6, 4, it, wt, out);
            cases.push(one(&format!("t{i}_{j}"), vec![l], &[folds]));
        }
    }
    check_all(&cases);
}

#[test]
fn mvu_folds() {
    let mut r = rng(2);
    let mut cases = Vec::new();
    for &(pe, simd) in &[(1, 1), (1, 12), (8, 1), (8, 12), (2, 4), (4, 3), (1, 5)] {
        let mw = if simd == 5 { 10 } else { 12 };
        for (k, (it, wt, out)) in [
            (
                DataType::Bipolar,
                DataType::Bipolar,
                Some((DataType::Bipolar, false)),
            ),
            (DataType::Bipolar, DataType::Bipolar, None),
            (
                DataType::Int(4),
                DataType::Int(3),
                Some((DataType::UInt(3), false)),
            ),
            (DataType::UInt(8), DataType::Int(8), None),
        ]
        .into_iter()
        .enumerate()
        {
            let l = mvu(&mut r, "fc", mw, 8, it, wt, out);
            cases.push(one(&format!("f{pe}x{simd}_{k}"), vec![l], &[(pe, simd)]));
        }
    }
    // big enough for a block-RAM weight ROM, with a multi-level pipelined tree
    let l = mvu(
        &mut r,
        "fc",
        256,
        64,
        DataType::Bipolar,
        DataType::Bipolar,
        Some((DataType::Bipolar, false)),
    );
    cases.push(one("big_xnor", vec![l], &[(4, 8)]));
    let l = mvu(
        &mut r,
        "fc",
        96,
        32,
        DataType::Int(4),
        DataType::Int(4),
        Some((DataType::UInt(4), false)),
    );
    cases.push(one("big_mac", vec![l], &[(2, 24)]));
    check_all(&cases);
}

#[test]
fn thresholding_and_label_select() {
    let mut r = rng(3);
    let mut cases = Vec::new();
    for (k, &(it, ot, shared, pe)) in [
        (DataType::Int(8), DataType::UInt(2), false, 1),
        (DataType::UInt(5), DataType::Bipolar, true, 4),
        (DataType::Int(16), DataType::Int(4), false, 2),
        (DataType::Bipolar, DataType::Binary, false, 8),
        (DataType::Int(32), DataType::UInt(3), true, 4),
    ]
    .iter()
    .enumerate()
    {
        let l = thresholding(&mut r, "act", 16, 8, it, ot, shared);
        cases.push(one(&format!("thr{k}"), vec![l], &[(pe, 1)]));
    }
    for (k, &(labels, kk, it, pe)) in [
        (10, 1, DataType::Int(8), 1),
        (10, 3, DataType::UInt(6), 5),
        (8, 8, DataType::Int(16), 8),
        (12, 2, DataType::Bipolar, 3),
        (4, 2, DataType::Binary, 2),
    ]
    .iter()
    .enumerate()
    {
        cases.push(one(
            &format!("top{k}"),
            vec![label_select("top", labels, kk, it)],
            &[(pe, 1)],
        ));
    }
    check_all(&cases);
}

#[test]
fn three_layer_tops_with_width_converters() {
    let mut r = rng(4);
    let cases = vec![
        // bipolar MLP: 16 -> 12 -> 8 -> top-2, converters 4 -> 3, 2 -> 4 and 4 -> 2
        one("mlp", bipolar_mlp(&mut r), &BIPOLAR_MLP_FOLDS),
        // integer chain with a standalone thresholding layer, one converter 1 -> 6
        one("intnet", int_chain(&mut r), &INT_CHAIN_FOLDS),
    ];
    check_all(&cases);
}

/// A convolutional chain as a lint case.
fn chain_case(name: &str, c: &ferrite_gen::testing::Chain) -> Case {
    let (model, _) = c.build(name);
    Case {
        name: name.into(),
        model,
        plan: Folds(c.folds.clone()),
    }
}

#[test]
fn convolutional_designs() {
    use ferrite_gen::ir::{PoolMode, TensorType};
    use ferrite_gen::testing::Chain;
    let mut r = rng(7);
    let mut cases = Vec::new();
    // padded 3x3 bipolar conv, max pool, flatten into an FC, top-2
    let mut c = Chain::new(TensorType::new([8, 8, 3], DataType::Bipolar));
    c.pad([1, 1, 1, 1], -1, 1)
        .window([3, 3], [1, 1], [1, 1], 3)
        .mvu(
            &mut r,
            8,
            DataType::Bipolar,
            Some(DataType::Bipolar),
            false,
            (4, 27),
        )
        .max_pool(2, 2, 8)
        .mvu(&mut r, 4, DataType::Bipolar, None, true, (2, 16))
        .label_select(2, 2);
    cases.push(chain_case("conv_bipolar", &c));
    // 1-D, strided and dilated kernels over integers, sum pool then thresholds
    let mut c = Chain::new(TensorType::new([1, 21, 4], DataType::UInt(3)));
    c.pad([0, 2, 0, 1], 3, 2)
        .window([1, 5], [1, 2], [1, 2], 4)
        .mvu(
            &mut r,
            6,
            DataType::Int(4),
            Some(DataType::Int(4)),
            false,
            (3, 10),
        )
        .window([1, 2], [1, 1], [1, 1], 3)
        .pool(PoolMode::Sum, 2, false, 2)
        .thresholds(&mut r, DataType::UInt(2), 6)
        .pool(PoolMode::Max, 7, true, 1);
    cases.push(chain_case("conv_1d_int", &c));
    // rectangular kernel, stride 2, binary and 8-bit streams
    let mut c = Chain::new(TensorType::new([7, 9, 2], DataType::Binary));
    c.window([3, 1], [2, 2], [1, 1], 1)
        .mvu(
            &mut r,
            4,
            DataType::Int(8),
            Some(DataType::UInt(8)),
            false,
            (1, 3),
        )
        .max_pool(3, 2, 4)
        .mvu(&mut r, 3, DataType::Int(2), None, true, (3, 4));
    cases.push(chain_case("conv_rect", &c));
    check_all(&cases);
}

/// Vector-vector units alone over every type (each accumulator store: none, register, RAM;
/// XNOR with and without thresholds; a block-RAM weight ROM with a multi-level tree), and a
/// depthwise-separable chain.
#[test]
fn vvu_designs() {
    use ferrite_gen::ir::TensorType;
    use ferrite_gen::testing::{Chain, vv_layer};
    let mut r = rng(8);
    let mut cases = Vec::new();
    // (channels, kernel, pe, simd): RAM of 4 blocks, register, none (SIMD = K), none (1x1)
    let shapes = [(8, 9, 2, 1), (4, 9, 4, 3), (4, 9, 4, 9), (6, 1, 3, 1)];
    for (i, &it) in TYPES.iter().enumerate() {
        for (j, &wt) in TYPES.iter().enumerate().filter(|(j, _)| (i + j) % 3 == 0) {
            let act = [Some(DataType::Bipolar), Some(DataType::UInt(2)), None][(i + 2 * j) % 3];
            let (c, k, pe, simd) = shapes[(i + j) % 4];
            let l = vv_layer(&mut r, "dw", [2, 3], c, k, it, wt, act);
            cases.push(one(&format!("vv{i}_{j}"), vec![l], &[(pe, simd)]));
        }
    }
    // a block-RAM weight ROM (200 words x 128 bits) and a 4-level tree (SIMD 9)
    let l = vv_layer(
        &mut r,
        "dw",
        [1, 2],
        128,
        25,
        DataType::Int(4),
        DataType::Int(8),
        None,
    );
    cases.push(one("vv_big_rom", vec![l], &[(16, 1)]));
    let l = vv_layer(
        &mut r,
        "dw",
        [2, 2],
        4,
        9,
        DataType::Bipolar,
        DataType::Bipolar,
        None,
    );
    cases.push(one("vv_xnor_tree", vec![l], &[(4, 9)]));
    let mut c = Chain::new(TensorType::new([9, 9, 8], DataType::UInt(4)));
    c.pad([1, 1, 1, 1], 0, 2)
        .depthwise(
            &mut r,
            [3, 3],
            [2, 2],
            DataType::Int(4),
            Some(DataType::UInt(4)),
            (2, 1),
        )
        .mvu(
            &mut r,
            12,
            DataType::Int(4),
            Some(DataType::UInt(3)),
            false,
            (3, 4),
        );
    cases.push(chain_case("dw_separable", &c));
    check_all(&cases);
}

/// Yosys `synth_xilinx` maps a generated design (catches memories no cell can hold) and puts
/// a large weight ROM into block RAM.
#[test]
fn synthesizes_for_xilinx_with_block_rom() {
    require_tool("yosys");
    let mut r = rng(6);
    let l0 = mvu(
        &mut r,
        "fc0",
        256,
        64,
        DataType::Bipolar,
        DataType::Bipolar,
        Some((DataType::Bipolar, false)),
    );
    let l1 = mvu(
        &mut r,
        "fc1",
        64,
        10,
        DataType::Bipolar,
        DataType::Bipolar,
        None,
    );
    let m = model("syn", vec![l0, l1]);
    let d = emit(&m, &plan(&[(4, 8), (1, 4)])).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    write_design(tmp.path(), &d);
    let files = verilog_paths(tmp.path(), &d).join(" ");
    let stat = tmp.path().join("stat.txt");
    let script = format!(
        "read_verilog -defer {files}; chparam -set MEM_DIR \"{}/\" {top}; synth_xilinx -top {top} -flatten; tee -o {} stat",
        tmp.path().display(),
        stat.display(),
        top = d.top
    );
    let o = std::process::Command::new("yosys")
        .args(["-q", "-p", &script])
        .output()
        .expect("yosys runs");
    assert!(
        o.status.success(),
        "synth_xilinx failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let stat = std::fs::read_to_string(stat).unwrap();
    assert!(
        stat.contains("RAMB18E1") || stat.contains("RAMB36E1"),
        "no block RAM: {stat}"
    );
}

/// The branch engines in small graphs: Duplicate with 2 and 3 outputs at PE 1 and C, Add
/// over every kind of input on each side (bipolar, binary, signed, unsigned), with and
/// without shifts, with bipolar, unsigned and signed thresholds or none, PE 1 and C; and a
/// residual network from the shared fixture.
#[test]
fn branch_designs() {
    use ferrite_gen::ir::TensorType;
    use ferrite_gen::testing::{Block, Branch, Chain, residual};
    let mut r = rng(8);
    let mut cases = Vec::new();
    let kinds = [
        None,
        Some(DataType::Bipolar),
        Some(DataType::Binary),
        Some(DataType::Int(3)),
        Some(DataType::UInt(2)),
    ];
    let acts = [
        None,
        Some(DataType::Bipolar),
        Some(DataType::UInt(2)),
        Some(DataType::Int(4)),
    ];
    for (i, &a) in kinds.iter().enumerate() {
        for (j, &b) in kinds.iter().enumerate() {
            let k = i * kinds.len() + j;
            let act = acts[k % acts.len()];
            let shifts = [(k % 3) as u32, (k / 3 % 2) as u32];
            let (pe, n) = if k.is_multiple_of(2) { (1, 2) } else { (4, 3) };
            let mut c = Chain::new(TensorType::new([2, 2, 4], DataType::Int(5)));
            let copies = c.duplicate(n, pe);
            let mut ends = Vec::new();
            for (copy, t) in copies.iter().zip([a, b]) {
                c.resume(copy.clone());
                if let Some(t) = t {
                    c.thresholds(&mut r, t, pe);
                }
                ends.push(c.stream());
            }
            let [x, y] = <[_; 2]>::try_from(ends).unwrap();
            c.add(&mut r, [x, y], shifts, act, pe);
            if n == 3 {
                let s = c.stream();
                c.add(&mut r, [copies[2].clone(), s], [0, 0], None, 2);
            }
            cases.push(chain_case(&format!("branch{i}_{j}"), &c));
        }
    }
    let block = Block {
        long: Branch::Conv3x3 { pe: 2, simd: 2 },
        short: Branch::Identity,
        weights: DataType::Int(2),
        pe: 2,
    };
    let (model, plan) = residual(
        &mut r,
        "res",
        TensorType::new([4, 4, 4], DataType::UInt(2)),
        2,
        block,
    );
    let folds = model
        .nodes
        .iter()
        .map(|n| {
            let f = plan.fold(&n.name);
            (f.pe, f.simd)
        })
        .collect();
    cases.push(Case {
        name: "residual".into(),
        model,
        plan: Folds(folds),
    });
    check_all(&cases);
}

/// The Concat engine: 2 and 3 inputs of every kind (bipolar, binary, signed, unsigned, the
/// same type on all or mixed: copies, sign and zero extension, bipolar to +-1), PE 1 to
/// the common divisor, a 1x1 vector and a feature map, and copies of one stream rejoining.
#[test]
fn concat_designs() {
    use ferrite_gen::ir::TensorType;
    use ferrite_gen::testing::Chain;
    let mut r = rng(9);
    let mut cases = Vec::new();
    let kinds = [
        None,
        Some(DataType::Bipolar),
        Some(DataType::Binary),
        Some(DataType::Int(3)),
        Some(DataType::UInt(2)),
    ];
    for (i, &a) in kinds.iter().enumerate() {
        for (j, &b) in kinds.iter().enumerate().skip(i) {
            let k = i * kinds.len() + j;
            let n = if k.is_multiple_of(3) { 3 } else { 2 };
            let pe = [1, 2, 4][k % 3];
            let shape = if k.is_multiple_of(2) {
                [1, 1, 8]
            } else {
                [2, 3, 4]
            };
            let mut c = Chain::new(TensorType::new(shape, DataType::Int(5)));
            let copies = c.duplicate(n, pe);
            let mut ends = Vec::new();
            for (copy, t) in copies.iter().zip([a, b, None]) {
                c.resume(copy.clone());
                if let Some(t) = t {
                    c.thresholds(&mut r, t, pe);
                }
                ends.push(c.stream());
            }
            c.concat(ends, pe);
            cases.push(chain_case(&format!("concat{i}_{j}"), &c));
        }
    }
    // whole pixels a beat: PE = the output's channels
    for (t, name) in [
        (DataType::Bipolar, "concat_whole_bip"),
        (DataType::UInt(2), "concat_whole_u2"),
    ] {
        let mut c = Chain::new(TensorType::new([2, 3, 4], DataType::Int(5)));
        let copies = c.duplicate(2, 4);
        c.resume(copies[1].clone());
        c.thresholds(&mut r, t, 4);
        let b = c.stream();
        c.concat(vec![copies[0].clone(), b], 8);
        cases.push(chain_case(name, &c));
    }
    check_all(&cases);
}
