//! Behaviour of the generated RTL in Icarus Verilog: a testbench drives random frames with
//! random input pauses and output backpressure (AXI-compliant: tvalid held until taken)
//! and every output must equal the golden model; a run without stalls checks the measured
//! cycles a frame against the fold's expected cycles. The simulator runs in a different
//! directory from the `.mem` files, so `MEM_DIR` must work. A missing tool fails the test.

mod common;

use common::*;
use ferrite_gen::emit::{pack_frame, unpack_frame};
use ferrite_gen::golden;
use ferrite_gen::ir::{DataType, Model};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

fn hex_beat(words: &[u32], bits: usize) -> String {
    let digits = bits.div_ceil(4);
    let mut s = String::new();
    for d in (0..digits).rev() {
        let bit = d * 4;
        let nib = (words[bit / 32] >> (bit % 32)) & 0xf;
        s.push(char::from_digit(nib, 16).unwrap());
    }
    s
}

fn parse_beat(hex: &str, bits: usize) -> Vec<u32> {
    let mut words = vec![0u32; bits.div_ceil(32)];
    for (d, c) in hex.chars().rev().enumerate() {
        let v = c
            .to_digit(16)
            .unwrap_or_else(|| panic!("output beat `{hex}` has x or z"));
        let bit = d * 4;
        if bit / 32 < words.len() {
            words[bit / 32] |= v << (bit % 32);
        }
    }
    words
}

struct Run {
    outputs: Vec<Vec<i64>>,
    /// cycle at which each frame's last output beat moved
    frame_done: Vec<u64>,
}

/// Simulate `frames` through the design in Icarus with `stall_in`/`stall_out` percent pauses.
/// With `default_mem_dir`, the top keeps its default `MEM_DIR` and the simulator runs in
/// `dir` (where the `.mem` files are); otherwise it runs elsewhere and finds them through
/// `MEM_DIR` alone.
#[allow(clippy::too_many_arguments)]
fn simulate(
    dir: &Path,
    d: &Built,
    frames: &[Vec<i64>],
    stall_in: u32,
    stall_out: u32,
    seed: u32,
    netlist: Option<&Path>,
    default_mem_dir: bool,
) -> Run {
    let mut input = String::new();
    let mut nin = 0;
    for f in frames {
        for b in pack_frame(&d.input, f) {
            writeln!(input, "{}", hex_beat(&b, d.input.tdata_bits)).unwrap();
            nin += 1;
        }
    }
    let nout = frames.len() * d.output.beats_per_frame;
    let tag = format!("s{stall_in}_{stall_out}_{seed}");
    let in_file = dir.join(format!("in_{tag}.hex"));
    let out_file = dir.join(format!("out_{tag}.txt"));
    std::fs::write(&in_file, input).unwrap();
    let max_cycles = 2000 + 40 * (nin + nout) as u64 * (1 + d.exp_cycles_per_frame);
    let (iw, ow) = (d.input.tdata_bits, d.output.tdata_bits);
    let tb = format!(
        r#"`timescale 1ns / 1ps
`default_nettype none
module tb;
reg clk = 1'b0;
always #5 clk = ~clk;
reg rst_n = 1'b0;
reg [{iw1}:0] in_mem [0:{nin1}];
reg [{iw1}:0] tdata;
reg tvalid = 1'b0;
wire tready;
wire [{ow1}:0] odata;
wire ovalid;
reg oready = 1'b0;
reg running = 1'b0;
integer i = 0;
integer n_out = 0;
integer cycle = 0;
integer fd;
integer seed = {seed};
{top} {mem_param}dut (
    .ap_clk(clk), .ap_rst_n(rst_n),
    .s_axis_tdata(tdata), .s_axis_tvalid(tvalid), .s_axis_tready(tready),
    .m_axis_tdata(odata), .m_axis_tvalid(ovalid), .m_axis_tready(oready)
);
always @(posedge clk) begin
    cycle = cycle + 1;
    if (running) begin
        if (tvalid && tready) begin
            i = i + 1;
            tvalid <= 1'b0;
        end
        if (ovalid && oready) begin
            $fwrite(fd, "%0d %h\n", cycle, odata);
            n_out = n_out + 1;
        end
    end
end
always @(negedge clk) begin
    if (running) begin
        if (!tvalid && i < {nin}) begin
            tvalid = ($unsigned($random(seed)) % 100) >= {stall_in};
            tdata = in_mem[i];
        end
        oready = ($unsigned($random(seed)) % 100) >= {stall_out};
    end
end
initial begin
    $readmemh("{in_file}", in_mem);
    fd = $fopen("{out_file}", "w");
    repeat (6) @(posedge clk);
    rst_n = 1'b1;
    repeat (4) @(posedge clk);
    @(negedge clk);
    running = 1'b1;
    while (n_out < {nout} && cycle < {max_cycles}) @(posedge clk);
    repeat (20) @(posedge clk);
    if (ovalid) $fwrite(fd, "extra\n");
    $fclose(fd);
    $finish;
end
endmodule
"#,
        iw1 = iw - 1,
        ow1 = ow - 1,
        nin1 = nin.max(1) - 1,
        top = d.top,
        mem_param = if netlist.is_some() || default_mem_dir {
            String::new()
        } else {
            format!("#(.MEM_DIR(\"{}/\")) ", dir.display())
        },
        in_file = in_file.display(),
        out_file = out_file.display(),
    );
    let tb_file = dir.join(format!("tb_{tag}.v"));
    std::fs::write(&tb_file, tb).unwrap();
    let vvp = dir.join(format!("tb_{tag}.vvp"));
    let o = Command::new("iverilog")
        .args(["-g2005", "-o"])
        .arg(&vvp)
        .args(["-s", "tb"])
        .arg(&tb_file)
        .args(match netlist {
            Some(n) => vec![n.display().to_string()],
            None => verilog_paths(dir, d),
        })
        .output()
        .expect("iverilog runs");
    assert!(
        o.status.success(),
        "iverilog: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // run somewhere else: the .mem files are found through MEM_DIR only (or, with the
    // default MEM_DIR, in the folder of the .mem files)
    let elsewhere = tempfile::tempdir().unwrap();
    let o = Command::new("vvp")
        .arg("-n")
        .arg(&vvp)
        .current_dir(if default_mem_dir {
            dir
        } else {
            elsewhere.path()
        })
        .output()
        .expect("vvp runs");
    let log = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && !log.to_lowercase().contains("warning") && !log.contains("ERROR"),
        "vvp: {log}"
    );
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        !text.contains("extra"),
        "the design sent more beats than frames need"
    );
    let mut beats = Vec::new();
    let mut cycles = Vec::new();
    for line in text.lines() {
        let (c, h) = line.split_once(' ').unwrap();
        cycles.push(c.parse::<u64>().unwrap());
        beats.push(parse_beat(h, ow));
    }
    assert_eq!(
        beats.len(),
        nout,
        "{} output beats of {nout} within {max_cycles} cycles (deadlock?)",
        beats.len()
    );
    let bpf = d.output.beats_per_frame;
    Run {
        outputs: beats
            .chunks(bpf)
            .map(|b| unpack_frame(&d.output, b))
            .collect(),
        frame_done: cycles.chunks(bpf).map(|c| *c.last().unwrap()).collect(),
    }
}

fn random_frames(m: &Model, n: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| {
            (0..m.input().tensor.elems())
                .map(|_| random_value(&mut r, m.input().tensor.dtype))
                .collect()
        })
        .collect()
}

/// Golden-equal outputs under stalls; steady-state cycles a frame without stalls.
fn check(name: &str, m: &Model, p: &Folds, frames: usize) {
    require_tool("iverilog");
    let d = emit(m, p).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    write_design(&dir, &d);
    let inputs = random_frames(m, frames, 7);
    let want: Vec<Vec<i64>> = inputs.iter().map(|f| golden::run_frame(m, f)).collect();
    for (si, so, seed) in [(0, 0, 1), (30, 40, 2), (70, 10, 3), (5, 80, 4)] {
        // the first run keeps the top's default MEM_DIR
        let run = simulate(&dir, &d, &inputs, si, so, seed, None, seed == 1);
        for (k, (got, exp)) in run.outputs.iter().zip(&want).enumerate() {
            assert_eq!(
                got, exp,
                "{name}: frame {k} differs from the golden model (stalls in {si}% out {so}%)"
            );
        }
        if si == 0 && so == 0 && frames >= 4 {
            let n = run.frame_done.len();
            let measured = (run.frame_done[n - 1] - run.frame_done[1]) as f64 / (n - 2) as f64;
            let exp = d.exp_cycles_per_frame as f64;
            // a LabelSelect engine sends k beats a frame: at least k cycles a frame
            let k_floor = m
                .nodes
                .iter()
                .filter_map(|n| match &n.op {
                    ferrite_gen::ir::Op::LabelSelect(s) => Some(s.k as f64),
                    _ => None,
                })
                .fold(exp, f64::max);
            assert!(
                measured <= k_floor * 1.02 + 0.5 && measured >= exp * 0.98 - 0.5,
                "{name}: {measured} cycles a frame measured, {exp} expected"
            );
        }
    }
}

#[test]
fn mvu_xnor_with_thresholds() {
    let mut r = rng(11);
    let l = mvu(
        &mut r,
        "fc",
        16,
        12,
        DataType::Bipolar,
        DataType::Bipolar,
        Some((DataType::Bipolar, false)),
    );
    check("xnor_thr", &model("xnor_thr", vec![l]), &plan(&[(4, 4)]), 8);
}

#[test]
fn mvu_xnor_accumulator_out() {
    let mut r = rng(12);
    let l = mvu(
        &mut r,
        "fc",
        12,
        6,
        DataType::Bipolar,
        DataType::Bipolar,
        None,
    );
    check("xnor_acc", &model("xnor_acc", vec![l]), &plan(&[(3, 2)]), 8);
}

#[test]
fn mvu_mac_multi_threshold() {
    let mut r = rng(13);
    let l = mvu(
        &mut r,
        "fc",
        10,
        8,
        DataType::Int(4),
        DataType::Int(3),
        Some((DataType::UInt(2), false)),
    );
    check("mac_thr", &model("mac_thr", vec![l]), &plan(&[(2, 5)]), 8);
    let l = mvu(
        &mut r,
        "fc",
        9,
        4,
        DataType::UInt(3),
        DataType::Bipolar,
        Some((DataType::Int(3), true)),
    );
    check("mac_thr2", &model("mac_thr2", vec![l]), &plan(&[(4, 3)]), 8);
}

#[test]
fn mvu_mac_accumulator_out() {
    let mut r = rng(14);
    let l = mvu(
        &mut r,
        "fc",
        8,
        4,
        DataType::UInt(8),
        DataType::Int(8),
        None,
    );
    check("mac_acc", &model("mac_acc", vec![l]), &plan(&[(1, 1)]), 6);
    let l = mvu(&mut r, "fc", 8, 4, DataType::Int(2), DataType::Binary, None);
    check("mac_acc2", &model("mac_acc2", vec![l]), &plan(&[(4, 8)]), 6);
    let l = mvu(
        &mut r,
        "fc",
        7,
        3,
        DataType::Bipolar,
        DataType::UInt(2),
        None,
    );
    check("mac_acc3", &model("mac_acc3", vec![l]), &plan(&[(1, 7)]), 6);
}

#[test]
fn thresholding_engine() {
    let mut r = rng(15);
    let l = thresholding(
        &mut r,
        "act",
        24,
        6,
        DataType::Int(6),
        DataType::UInt(3),
        false,
    );
    check("thr", &model("thr", vec![l]), &plan(&[(2, 1)]), 6);
    let l = thresholding(
        &mut r,
        "act",
        8,
        8,
        DataType::UInt(4),
        DataType::Bipolar,
        true,
    );
    check("thr2", &model("thr2", vec![l]), &plan(&[(8, 1)]), 6);
}

#[test]
fn label_select_engine() {
    // UINT2 values: many ties, which must go to the lower index
    check(
        "top",
        &model("top", vec![label_select("top", 10, 3, DataType::UInt(2))]),
        &plan(&[(2, 1)]),
        8,
    );
    check(
        "top1",
        &model("top1", vec![label_select("top", 6, 1, DataType::Int(5))]),
        &plan(&[(1, 1)]),
        8,
    );
    check(
        "top6",
        &model("top6", vec![label_select("top", 6, 6, DataType::Int(3))]),
        &plan(&[(3, 1)]),
        8,
    );
}

#[test]
fn mlp_with_width_converters() {
    let mut r = rng(16);
    let m = model("mlp", bipolar_mlp(&mut r));
    check("mlp", &m, &plan(&BIPOLAR_MLP_FOLDS), 8);
    // converters 3 -> 4 and 2 -> 3 (neither divides the other)
    let l0 = mvu(
        &mut r,
        "fc0",
        8,
        12,
        DataType::Bipolar,
        DataType::Bipolar,
        Some((DataType::Bipolar, false)),
    );
    let l1 = mvu(
        &mut r,
        "fc1",
        12,
        6,
        DataType::Bipolar,
        DataType::Bipolar,
        Some((DataType::Int(2), false)),
    );
    let l2 = mvu(
        &mut r,
        "fc2",
        6,
        2,
        DataType::Int(2),
        DataType::Int(2),
        None,
    );
    check(
        "odd_conv",
        &model("odd_conv", vec![l0, l1, l2]),
        &plan(&[(3, 8), (2, 4), (1, 3)]),
        8,
    );
    check(
        "intnet",
        &model("intnet", int_chain(&mut r)),
        &plan(&INT_CHAIN_FOLDS),
        8,
    );
}

/// Yosys's reading of the RTL: synthesize (generic cells, .mem contents baked in), write the
/// netlist, simulate it in Icarus and compare with the golden model.
fn check_netlist(name: &str, m: &Model, p: &Folds) {
    require_tool("iverilog");
    require_tool("yosys");
    let d = emit(m, p).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    write_design(&dir, &d);
    let netlist = dir.join("netlist.v");
    let script = format!(
        "read_verilog -defer {}; chparam -set MEM_DIR \"{}/\" {top}; synth -flatten -top {top}; write_verilog -noattr {}",
        verilog_paths(&dir, &d).join(" "),
        dir.display(),
        netlist.display(),
        top = d.top
    );
    let o = Command::new("yosys")
        .args(["-q", "-p", &script])
        .output()
        .expect("yosys runs");
    assert!(
        o.status.success(),
        "yosys: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let inputs = random_frames(m, 6, 9);
    let want: Vec<Vec<i64>> = inputs.iter().map(|f| golden::run_frame(m, f)).collect();
    let run = simulate(&dir, &d, &inputs, 20, 30, 5, Some(&netlist), false);
    for (k, (got, exp)) in run.outputs.iter().zip(&want).enumerate() {
        assert_eq!(
            got, exp,
            "{name}: Yosys netlist, frame {k} differs from the golden model"
        );
    }
}

#[test]
fn yosys_netlist_matches_golden() {
    let mut r = rng(21);
    let l0 = mvu(
        &mut r,
        "fc0",
        12,
        8,
        DataType::UInt(8),
        DataType::Int(4),
        Some((DataType::UInt(4), false)),
    );
    let l1 = mvu(
        &mut r,
        "fc1",
        8,
        4,
        DataType::UInt(4),
        DataType::Int(4),
        None,
    );
    check_netlist(
        "net_mac",
        &model("net_mac", vec![l0, l1]),
        &plan(&[(4, 4), (2, 4)]),
    );
    let l0 = mvu(
        &mut r,
        "fc0",
        16,
        8,
        DataType::Bipolar,
        DataType::Bipolar,
        Some((DataType::Bipolar, false)),
    );
    let l1 = thresholding(
        &mut r,
        "act",
        8,
        8,
        DataType::Bipolar,
        DataType::UInt(2),
        false,
    );
    let l2 = label_select("top", 8, 3, DataType::UInt(2));
    check_netlist(
        "net_xnor",
        &model("net_xnor", vec![l0, l1, l2]),
        &plan(&[(2, 8), (4, 1), (2, 1)]),
    );
}
