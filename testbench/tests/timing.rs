//! Built for clock rate, checked:
//!
//! - No combinational path from an output `tready` back to an input `tready`: every cycle of a
//!   run under random traffic and backpressure, before the clock edge, the design is evaluated
//!   with the output `tready` low and then high, and the input `tready` must not change. Done
//!   for every engine kind as its own top, and for whole tops with converters and FIFOs.
//! - The adder/popcount tree is pipelined: the longest combinational path of a matrix-vector
//!   engine (Yosys generic synthesis, 6-input LUTs, `ltp -noff`) does not grow with SIMD.
//! - A FIFO's output `tready` never reaches its RAM's read address (Yosys: the read port's
//!   address cone, up to registers, holds no `m_axis_out_tready`).

use ferrite_gen::fold::FoldPlan;
use ferrite_gen::ir::{DataType, Model};
use ferrite_gen::stitch::{Role, stitch};
use ferrite_sim::{BuildSpec, PortDir, Sim};
use ferrite_testbench::{
    Bench, Rng, label_select_layer, model, mv_layer, plan, thresholding_layer,
};
use std::path::{Path, PathBuf};
use std::process::Command;

use DataType::{Bipolar, Int, UInt};

/// Port names of a stream design under test.
struct Names {
    clk: &'static str,
    rst: &'static str,
    rst_active: u64,
    s_tdata: &'static str,
    s_tvalid: &'static str,
    s_tready: &'static str,
    m_tready: &'static str,
}

const ENGINE: Names = Names {
    clk: "clk",
    rst: "rst",
    rst_active: 1,
    s_tdata: "s_axis_in_tdata",
    s_tvalid: "s_axis_in_tvalid",
    s_tready: "s_axis_in_tready",
    m_tready: "m_axis_out_tready",
};

const TOP: Names = Names {
    clk: "ap_clk",
    rst: "ap_rst_n",
    rst_active: 0,
    s_tdata: "s_axis_tdata",
    s_tvalid: "s_axis_tvalid",
    s_tready: "s_axis_tready",
    m_tready: "m_axis_tready",
};

/// Write the design and build `top` (an engine module or the user top) in Verilator.
fn instantiate(b: &Bench, tag: &str, m: &Model, p: &FoldPlan, top: &str, mem: bool) -> Sim {
    let dir = b.build_dir(tag, m, p).unwrap();
    let rtl = std::fs::canonicalize(dir.join("rtl")).unwrap();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&rtl)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "v"))
        .collect();
    sources.sort();
    let spec = BuildSpec {
        sources,
        top: top.into(),
        ports: vec![],
        // engines without ROMs have no MEM_DIR parameter
        args: if mem {
            vec![format!("-GMEM_DIR=\"{}/\"", rtl.display())]
        } else {
            vec![]
        },
        cache_dir: Some(b.cache()),
    };
    let model = ferrite_sim::build(&spec).unwrap_or_else(|e| panic!("{tag} {top}: {e}"));
    model.instantiate(7).unwrap()
}

/// Drive random traffic through phases of heavy, light and mixed backpressure and, every
/// cycle, check that the input `tready` does not depend on the output `tready`.
fn check_ready_path(sim: &mut Sim, n: &Names, what: &str, seed: u64) {
    let width = sim
        .model()
        .ports()
        .iter()
        .find(|p| p.name == n.s_tdata && p.dir == PortDir::Input)
        .unwrap_or_else(|| panic!("{what}: no input port {}", n.s_tdata))
        .width;
    let words = width.div_ceil(32) as usize;
    let mut rng = Rng::new(seed);
    sim.set_u64(n.rst, n.rst_active).unwrap();
    sim.set_u64(n.s_tvalid, 0).unwrap();
    sim.set_u64(n.m_tready, 0).unwrap();
    for _ in 0..4 {
        sim.tick(n.clk).unwrap();
    }
    sim.set_u64(n.rst, 1 - n.rst_active).unwrap();
    let mut accepted = 0;
    // (cycles, probability of output tready): fill every buffer, drain, then mix
    for (cycles, p_ready) in [(600, 0.05), (600, 0.95), (1200, 0.5)] {
        for c in 0..cycles {
            let mut data: Vec<u32> = (0..words).map(|_| rng.next_u64() as u32).collect();
            if width % 32 != 0 {
                data[words - 1] &= (1u32 << (width % 32)) - 1;
            }
            let valid = rng.range(0, 99) < 80;
            sim.set(n.s_tdata, &data).unwrap();
            sim.set_u64(n.s_tvalid, valid as u64).unwrap();
            let mut ready_in = [0u64; 2];
            for (i, m_ready) in [0u64, 1].into_iter().enumerate() {
                sim.set_u64(n.m_tready, m_ready).unwrap();
                sim.eval().unwrap();
                ready_in[i] = sim.get_u64(n.s_tready).unwrap();
            }
            assert_eq!(
                ready_in[0], ready_in[1],
                "{what}: {} follows {} combinationally (phase p_ready {p_ready}, cycle {c})",
                n.s_tready, n.m_tready
            );
            let m_ready = (rng.range(0, 999) as f64) < p_ready * 1000.0;
            sim.set_u64(n.m_tready, m_ready as u64).unwrap();
            sim.eval().unwrap();
            if valid && ready_in[0] == 1 {
                accepted += 1;
            }
            sim.tick(n.clk).unwrap();
        }
    }
    // the check means something only if traffic flowed and stalled
    assert!(
        accepted > 100,
        "{what}: only {accepted} input beats accepted"
    );
}

/// One design with every engine kind and width converters between them.
fn mixed() -> (Model, FoldPlan) {
    let mut rng = Rng::new(31);
    let fc0 = mv_layer(&mut rng, "fc0", 24, 12, Bipolar, Bipolar, Some(Bipolar));
    let fc1 = mv_layer(&mut rng, "fc1", 12, 8, Bipolar, Int(3), Some(UInt(2)));
    let fc2 = mv_layer(&mut rng, "fc2", 8, 6, UInt(2), Int(4), None);
    let act = thresholding_layer(&mut rng, "act", 6, 6, fc2.output_type(), Int(3), false);
    let fc3 = mv_layer(&mut rng, "fc3", 6, 4, Int(3), UInt(2), None);
    let top = label_select_layer("top", 4, 2, fc3.output_type());
    let m = model("ready_mixed", vec![fc0, fc1, fc2, act, fc3, top]);
    let p = plan(&m, &[(4, 3), (2, 4), (3, 2), (2, 1), (2, 3), (2, 1)]);
    (m, p)
}

#[test]
fn no_combinational_path_from_output_ready_to_input_ready() {
    let b = Bench::new(env!("CARGO_TARGET_TMPDIR"));
    let (m, p) = mixed();
    let design = stitch(&m, &p).unwrap();
    for (i, e) in design.engines().enumerate() {
        let Role::Engine {
            kind, resources, ..
        } = &e.role
        else {
            unreachable!()
        };
        let mem = resources.weight_rom_bits + resources.threshold_rom_bits > 0;
        let mut sim = instantiate(&b, "ready_mixed", &m, &p, &e.module, mem);
        check_ready_path(
            &mut sim,
            &ENGINE,
            &format!("engine {} ({kind})", e.module),
            100 + i as u64,
        );
    }
    let mut sim = instantiate(&b, "ready_mixed", &m, &p, &design.top, true);
    check_ready_path(&mut sim, &TOP, &format!("top {}", design.top), 99);
}

/// Longest combinational path, in 6-input LUT levels, of engine `module` in `rtl`.
fn lut_depth(rtl: &Path, module: &str) -> u32 {
    assert!(
        Command::new("yosys")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success()),
        "yosys is not installed: apt-get install yosys"
    );
    let rtl = std::fs::canonicalize(rtl).unwrap();
    let script = format!(
        "read_verilog -defer {dir}/*.v; chparam -set MEM_DIR \"{dir}/\" {module}; \
         hierarchy -check -top {module}; synth -flatten -top {module}; abc -lut 6; opt_clean; ltp -noff",
        dir = rtl.display()
    );
    let out = Command::new("yosys")
        .args(["-p", &script])
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "yosys failed on {module}: {log}");
    let at = log
        .find("(length=")
        .unwrap_or_else(|| panic!("no ltp result for {module}: {log}"));
    log[at + 8..].split(')').next().unwrap().parse().unwrap()
}

/// An engine of `mw` inputs folded to SIMD `simd`, PE 1; its depth.
fn engine_depth(
    tag: &str,
    it: DataType,
    wt: DataType,
    act: Option<DataType>,
    mw: usize,
    simd: usize,
) -> u32 {
    let b = Bench::new(env!("CARGO_TARGET_TMPDIR"));
    let mut rng = Rng::new(5);
    let m = model(tag, vec![mv_layer(&mut rng, "fc", mw, 4, it, wt, act)]);
    let p = plan(&m, &[(1, simd)]);
    let dir = b.build_dir(&format!("{tag}_simd{simd}"), &m, &p).unwrap();
    let module = stitch(&m, &p)
        .unwrap()
        .engines()
        .next()
        .unwrap()
        .module
        .clone();
    lut_depth(&dir.join("rtl"), &module)
}

#[test]
fn adder_tree_is_pipelined_depth_does_not_grow_with_simd() {
    for (tag, it, wt, act, bound) in [
        ("depth_xnor", Bipolar, Bipolar, Some(Bipolar), 6),
        ("depth_mac", UInt(4), Int(4), Some(UInt(2)), 9),
    ] {
        let narrow = engine_depth(tag, it, wt, act, 128, 8);
        let wide = engine_depth(tag, it, wt, act, 128, 128);
        // A tree registered every few levels keeps its depth within a level whatever SIMD
        // is (the last stage holds what is left over); an unpipelined one grows with
        // log2(SIMD): four more adder levels from SIMD 8 to 128.
        assert!(
            wide <= narrow + 1,
            "{tag}: {wide} LUT levels at SIMD 128 against {narrow} at SIMD 8: the tree is not pipelined"
        );
        assert!(
            wide <= bound,
            "{tag}: {wide} LUT levels at SIMD 128 (bound {bound})"
        );
    }
}

/// The wires of `module` in `rtl` in the combinational input cone (up to registers and the
/// memory itself) of its memory's read address, as Yosys lists them.
fn read_address_cone(rtl: &Path, module: &str) -> String {
    let rtl = std::fs::canonicalize(rtl).unwrap();
    let script = format!(
        "read_verilog {dir}/{module}.v; hierarchy -check -top {module}; proc; opt_clean; \
         memory_collect; select -assert-count 1 t:$mem_v2; \
         select -list t:$mem_v2 %x:+[RD_ADDR] t:$mem_v2 %d \
         %ci*:-$dff,$sdff,$dffe,$sdffe,$adff,$sdffce,$mem_v2",
        dir = rtl.display()
    );
    let out = Command::new("yosys")
        .args(["-p", &script])
        .output()
        .expect("yosys is not installed: apt-get install yosys");
    let log = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "yosys failed on {module}: {log}");
    let at = log
        .rfind("MEMORY_COLLECT")
        .unwrap_or_else(|| panic!("no memory_collect in the log of {module}: {log}"));
    log[at..]
        .lines()
        .filter(|l| l.starts_with(&format!("{module}/")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn fifo_ready_never_reaches_a_read_address() {
    let b = Bench::new(env!("CARGO_TARGET_TMPDIR"));
    let (m, p) = mixed();
    let dir = b.build_dir("fifo_read_address", &m, &p).unwrap();
    let design = stitch(&m, &p).unwrap();
    let fifo = design
        .nodes
        .iter()
        .find(|i| matches!(i.role, Role::Fifo { .. }))
        .expect("a FIFO in the design")
        .module
        .clone();
    let cone = read_address_cone(&dir.join("rtl"), &fifo);
    assert!(
        cone.contains(&format!("{fifo}/rd_ptr_reg")),
        "the read address comes from the read pointer: {cone}"
    );
    assert!(
        !cone.contains("m_axis_out_tready"),
        "m_axis_out_tready reaches the FIFO's read address: {cone}"
    );
}
