//! The Vivado flow and the PYNQ driver of `ferrite build --board` (no Vivado here):
//! the generated Tcl runs in tclsh with every Vivado command stubbed and logged; the
//! generated driver runs in Python against a mock `pynq` whose DMA answers with the golden
//! model's outputs; the DMA adapter lints and streams in Verilator/Icarus; hostile names stay
//! data; the same input gives the same bytes.
//!
//! Needs `tclsh` (Debian: tcl) and a Python 3 with numpy (Debian: python3-numpy;
//! `scripts/ensure-tools.sh` installs both). Missing tools fail the tests with how to
//! install them, never skip.

use ferrite_gen::boards::{self, Board};
use ferrite_gen::build::{self, BuildOptions};
use ferrite_gen::golden::{self, Golden};
use ferrite_gen::shell;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn board(name: &str) -> Board {
    boards::find(&boards::load(None).unwrap(), name)
        .unwrap()
        .clone()
}

fn tclsh() -> &'static str {
    let ok = Command::new("tclsh")
        .arg("/dev/null")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tclsh is missing: install Tcl 8.6 (Debian/Ubuntu: apt-get install tcl), or run scripts/ensure-tools.sh"
    );
    "tclsh"
}

/// A Python 3 that imports numpy: `$FERRITE_PYTHON`, `python3`, `/usr/bin/python3`.
fn python() -> String {
    let mut tried = Vec::new();
    let candidates = std::env::var("FERRITE_PYTHON")
        .ok()
        .into_iter()
        .chain(["python3".to_string(), "/usr/bin/python3".to_string()]);
    for p in candidates {
        let ok = Command::new(&p)
            .args(["-c", "import numpy"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return p;
        }
        tried.push(p);
    }
    panic!(
        "no Python 3 with numpy (tried {}): install it (Debian/Ubuntu: apt-get install python3-numpy; \
         or python3 -m pip install numpy), or set FERRITE_PYTHON, or run scripts/ensure-tools.sh",
        tried.join(", ")
    );
}

fn build_for(model: &Path, out: &Path, board_name: &str) -> build::BuildOutput {
    let opts = BuildOptions {
        board: Some(board(board_name)),
        ..BuildOptions::default()
    };
    build::build(model, out, &opts).unwrap()
}

/// Run OUT/vivado/build.tcl under the stubs; the log's lines (each a Tcl list).
fn run_stubbed(out: &Path) -> Vec<String> {
    // what the flow's last step copies: a bitstream in the run folder, the handoff file
    let run = out.join("vivado/work/project/ferrite.runs/impl_1");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("ferrite_wrapper.bit"), "bit").unwrap();
    let hwh = out.join("vivado/work/project/ferrite.gen/sources_1/bd/ferrite/hw_handoff");
    std::fs::create_dir_all(&hwh).unwrap();
    std::fs::write(hwh.join("ferrite.hwh"), "hwh").unwrap();
    let log = out.join("stub.log");
    let o = Command::new(tclsh())
        .arg(workspace().join("gen/tests/vivado/stub.tcl"))
        .arg(out.join("vivado/build.tcl"))
        .arg(&log)
        .arg(&run)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        o.status.success(),
        "tclsh failed: {}\n{}\nlog:\n{text}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(lines.last().map(String::as_str), Some("ferrite-stub-end"));
    lines
}

fn has(log: &[String], words: &[&str]) -> bool {
    log.iter().any(|l| words.iter().all(|w| l.contains(w)))
}

#[test]
fn tcl_runs_to_the_end_with_the_boards_values() {
    let model = workspace().join("examples/mlp_w1a1/model.onnx");
    let dir = tempfile::tempdir().unwrap();

    // Zynq-7000
    let out = dir.path().join("z2");
    let b = build_for(&model, &out, "pynq-z2");
    let log = run_stubbed(&out);
    let top = format!("{}_dma_top", b.design.prefix);
    for words in [
        &["create_project", "ip_project", "-part xc7z020clg400-1"][..],
        &["ipx::package_project", "-import_files"],
        &["set_property top", &top],
        &["ipx::associate_bus_interfaces -busif s_axis -clock ap_clk"],
        &["ipx::associate_bus_interfaces -busif m_axis -clock ap_clk"],
        &["set_property value ACTIVE_LOW"],
        &[
            "set_property CONFIG.MEM_DIR",
            "/z2/rtl/",
            "cell:ferrite_accel",
        ],
        &["set_property board_part tul.com.tw:pynq-z2:part0:1.1"],
        &["create_bd_cell", "xilinx.com:ip:processing_system7:7.1"],
        &["apply_board_preset 1"],
        &[
            "CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ 100",
            "CONFIG.PCW_USE_S_AXI_HP0 1",
        ],
        &["create_bd_cell", "xilinx.com:ip:axi_dma:7.1", "ferrite_dma"],
        // 16 input lanes of 1 bit: 16 bits; 1 lane of 8 bits: 8 bits
        &[
            "CONFIG.c_m_axis_mm2s_tdata_width 16",
            "CONFIG.c_s_axis_s2mm_tdata_width 8",
            "CONFIG.c_m_axi_mm2s_data_width 32",
            "CONFIG.c_include_sg 0",
        ],
        &[
            "connect_bd_intf_net",
            "ferrite_dma/M_AXIS_MM2S",
            "ferrite_accel/s_axis",
        ],
        &[
            "connect_bd_intf_net",
            "ferrite_accel/m_axis",
            "ferrite_dma/S_AXIS_S2MM",
        ],
        &[
            "connect_bd_net",
            "ferrite_frames/gpio_io_o",
            "ferrite_accel/frames",
        ],
        &[
            "apply_bd_automation",
            "Slave /ferrite_ps/S_AXI_HP0",
            "M_AXI_MM2S",
        ],
        &["validate_bd_design"],
        &["make_wrapper", "-top"],
        &["launch_runs impl_1 -to_step write_bitstream"],
    ] {
        assert!(
            has(&log, words),
            "no call with {words:?} in:\n{}",
            log.join("\n")
        );
    }
    assert!(
        log.iter().position(|l| l.starts_with("validate_bd_design"))
            < log.iter().position(|l| l.starts_with("launch_runs"))
    );
    assert_eq!(
        std::fs::read(out.join("driver/ferrite.bit")).unwrap(),
        b"bit"
    );
    assert_eq!(
        std::fs::read(out.join("driver/ferrite.hwh")).unwrap(),
        b"hwh"
    );

    // Zynq UltraScale+
    let out = dir.path().join("u96");
    build_for(&model, &out, "ultra96-v2");
    let log = run_stubbed(&out);
    for words in [
        &["create_project", "-part xczu3eg-sbva484-1-i"][..],
        &["create_bd_cell", "xilinx.com:ip:zynq_ultra_ps_e:7.1"],
        &[
            "CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ 100",
            "CONFIG.PSU__USE__S_AXI_GP2 1",
        ],
        &[
            "apply_bd_automation",
            "Slave /ferrite_ps/S_AXI_HP0_FPD",
            "M_AXI_S2MM",
        ],
        &["connect_bd_net", "ferrite_ps/pl_clk0"],
        &["launch_runs impl_1"],
    ] {
        assert!(
            has(&log, words),
            "no call with {words:?} in:\n{}",
            log.join("\n")
        );
    }

    // Alveo: the packaged kernel only
    let out = dir.path().join("u250");
    let b = build_for(&model, &out, "alveo-u250");
    let log = run_stubbed(&out);
    assert!(has(&log, &["set_property top", &b.design.top]));
    assert!(has(
        &log,
        &["package_xo", "-ctrl_protocol ap_ctrl_none", "ferrite.xo"]
    ));
    assert!(!has(&log, &["create_bd_design"]) && !has(&log, &["launch_runs"]));
    assert!(!out.join("driver").exists());
    let tcl = std::fs::read_to_string(out.join("vivado/build.tcl")).unwrap();
    assert!(tcl.contains("NOT GENERATED for Alveo"));

    // the open flows get no Vivado files
    let out = dir.path().join("ulx3s");
    build_for(&model, &out, "ulx3s");
    assert!(!out.join("vivado").exists() && !out.join("driver").exists());
}

/// Write what the mock DMA needs for `example`'s inputs (random hardware frames when it has
/// no `inputs.npy`) and run the driver against it.
fn driver_against_golden(example: &str) {
    let ex = workspace().join("examples").join(example);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let model = ["model.onnx", "model.json"]
        .iter()
        .map(|f| ex.join(f))
        .find(|p| p.exists())
        .unwrap();
    let b = build_for(&model, &out, "pynq-z2");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let inputs = ex.join("inputs.npy");
    let hw_frames: Vec<Vec<i64>> = if inputs.exists() {
        std::fs::copy(&inputs, data.join("inputs.npy")).unwrap();
        let ferrite_gen::npy::Frames::Float(frames) =
            ferrite_gen::npy::frames(&b.model, &inputs).unwrap()
        else {
            panic!("{example}: float inputs expected");
        };
        frames
            .iter()
            .map(|f| golden::host::run_pre(&b.model, f).unwrap())
            .collect()
    } else {
        let mut rng = ferrite_gen::testing::Rng::new(5);
        let t = b.design.input.elem_type;
        (0..20)
            .map(|_| (0..b.design.input.elems()).map(|_| rng.value(t)).collect())
            .collect()
    };
    let g = Golden::new(&b.model);
    let (mut inb, mut outb, mut y, mut hw) = (vec![], vec![], vec![], vec![]);
    for x in &hw_frames {
        let o = g.run_frame(x);
        inb.extend(shell::pack_dma(&b.design.input, x));
        outb.extend(shell::pack_dma(&b.design.output, &o));
        for v in golden::host::run_post(&b.model, &o).unwrap() {
            y.extend(v.to_le_bytes());
        }
        for v in x {
            hw.extend(v.to_le_bytes());
        }
    }
    std::fs::write(data.join("in.bin"), &inb).unwrap();
    std::fs::write(data.join("out.bin"), &outb).unwrap();
    std::fs::write(data.join("y.f32"), &y).unwrap();
    std::fs::write(data.join("hw.i64"), &hw).unwrap();
    let li = shell::DmaLayout::of(&b.design.input);
    let lo = shell::DmaLayout::of(&b.design.output);
    let meta = serde_json::json!({
        "frames": hw_frames.len(),
        "in_frame_bytes": li.frame_bytes(&b.design.input),
        "out_frame_bytes": lo.frame_bytes(&b.design.output),
        "out_elems": b.design.output.elems(),
    });
    std::fs::write(data.join("meta.json"), meta.to_string()).unwrap();
    let o = Command::new(python())
        .arg(workspace().join("gen/tests/vivado/driver_mock.py"))
        .arg(out.join("driver"))
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{example}: the driver disagrees with the golden model:\n{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn driver_equals_golden_on_the_mlp() {
    driver_against_golden("mlp_w1a1");
}

#[test]
fn driver_equals_golden_on_a_cnn() {
    driver_against_golden("cnv_w2a2");
}

#[test]
fn driver_equals_golden_on_a_label_select() {
    // an IR network ending in a label select: integer frames in, class indices out
    driver_against_golden("bnn_mlp_random");
}

/// A small model named `name`: a 784-input binarized FC layer with thresholds and a second
/// one, folded to `simd` input lanes.
fn small_model(name: &str, simd: usize) -> (ferrite_gen::ir::Model, ferrite_gen::fold::FoldPlan) {
    use ferrite_gen::ir::DataType::*;
    use ferrite_gen::testing::{self, Rng, mv_layer};
    let mut rng = Rng::new(7);
    let m = testing::model(
        name,
        vec![
            mv_layer(&mut rng, "fc0", 784, 16, Bipolar, Bipolar, Some(Bipolar)),
            mv_layer(&mut rng, "fc1", 16, 10, Bipolar, Bipolar, None),
        ],
    );
    let p = testing::plan(&m, &[(16, simd), (10, 16)]);
    (m, p)
}

#[test]
fn hostile_names_stay_data() {
    let evil = "ev\"il}; [exec touch /tmp/ferrite-pwned] $env(HOME) {\n\\";
    let (m, plan) = small_model(evil, 49);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let fold = dir.path().join("folding.json");
    std::fs::write(&fold, plan.to_json()).unwrap();
    let opts = BuildOptions {
        folding: Some(fold),
        board: Some(board("pynq-z2")),
        ..BuildOptions::default()
    };
    let b = build::build_model(m, &out, &opts).unwrap();
    let tcl = std::fs::read_to_string(out.join("vivado/build.tcl")).unwrap();
    // the prefix made of the name is an identifier; nothing else of it gets through
    assert!(
        b.design
            .prefix
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
    );
    for bad in ["[exec", "ev\"il", "$env", "touch /tmp", "il};"] {
        assert!(!tcl.contains(bad), "{bad} reached the Tcl");
    }
    let log = run_stubbed(&out);
    assert!(!has(&log, &["exec "]) && !Path::new("/tmp/ferrite-pwned").exists());
    // the name is JSON data for the driver, and a sanitised comment in the Verilog
    let net: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("driver/network.json")).unwrap()).unwrap();
    assert_eq!(net["name"], evil);
    let py = std::fs::read_to_string(out.join("driver/driver.py")).unwrap();
    assert_eq!(py, include_str!("../src/shell/driver.py"));
    let adapter =
        std::fs::read_to_string(out.join(format!("rtl/{}_dma_top.v", b.design.prefix))).unwrap();
    let line = adapter
        .lines()
        .find(|l| l.starts_with("// network:"))
        .unwrap();
    assert!(!line.contains('\n') && !adapter.contains("{\n\\"));
    let o = Command::new(python())
        .args([
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import driver; n = driver.Network(); print(n.name == sys.argv[2])",
        ])
        .arg(out.join("driver"))
        .arg(evil)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "True",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // a board file whose part would run a command is refused
    let mut b2 = board("pynq-z2");
    b2.part = "xc7z020clg400-1[exec rm]".into();
    let e = shell::files(&b.model, &b.design, &b2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("part") && e.contains("Tcl"), "{e}");
    for part in [
        "a b", "a;b", "a$b", "a\"b", "a{b", "a}b", "a\nb", "a\\b", "#a",
    ] {
        assert!(shell::tcl_word(part).is_none(), "{part:?}");
    }
}

#[test]
fn same_input_same_bytes() {
    let model = workspace().join("examples/mlp_w1a1/model.onnx");
    let dir = tempfile::tempdir().unwrap();
    let read = |out: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v = vec![];
        for sub in ["vivado", "driver", "rtl"] {
            let mut names: Vec<_> = std::fs::read_dir(out.join(sub))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            for p in names {
                v.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
        v
    };
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let ba = build_for(&model, &a, "pynq-z2");
    build_for(&model, &b, "pynq-z2");
    let (fa, fb) = (read(&a), read(&b));
    assert_eq!(fa.len(), fb.len());
    for ((_, x), (n, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{n} differs between two builds");
    }
    let board = board("pynq-z2");
    assert_eq!(
        shell::files(&ba.model, &ba.design, &board).unwrap(),
        shell::files(&ba.model, &ba.design, &board).unwrap()
    );
}

/// The DMA adapter around the accelerator in Icarus, under random input gaps and output
/// backpressure: DMA bytes in (the driver's layout), DMA bytes out equal to the golden
/// model's outputs in the same layout, `tlast` after every `frames`-th frame; and it lints
/// clean in Verilator. Fold (784 input lanes, 128 output lanes) makes both sides wider than
/// one DMA beat; (49, 2) pads narrow beats to a power of two.
#[test]
fn dma_adapter_streams_the_golden_outputs() {
    for (simd, pe) in [(784, 128), (49, 2)] {
        adapter_case(simd, pe);
    }
}

fn adapter_case(simd: usize, pe: usize) {
    use ferrite_gen::ir::DataType::*;
    use ferrite_gen::testing::{self, Rng, mv_layer};
    let mut rng = Rng::new(11);
    let m = testing::model(
        "adapter",
        vec![
            mv_layer(&mut rng, "fc0", 784, 16, Bipolar, Bipolar, Some(Bipolar)),
            mv_layer(&mut rng, "fc1", 16, 128, Bipolar, Bipolar, None),
        ],
    );
    let plan = testing::plan(&m, &[(16, simd), (pe, 16)]);
    let dir = tempfile::tempdir().unwrap();

    let out = dir.path().join("out");
    let fold = dir.path().join("folding.json");
    std::fs::write(&fold, plan.to_json()).unwrap();
    let opts = BuildOptions {
        folding: Some(fold),
        board: Some(board("pynq-z2")),
        ..BuildOptions::default()
    };
    let b = build::build_model(m, &out, &opts).unwrap();
    let d = &b.design;
    let (li, lo) = (
        shell::DmaLayout::of(&d.input),
        shell::DmaLayout::of(&d.output),
    );
    if simd == 784 {
        assert!(li.dma_beats > 1 && lo.dma_beats > 1, "{li:?} {lo:?}");
    } else {
        assert!(
            li.dma_beats == 1 && li.dma_bytes * 8 > d.input.tdata_bits,
            "{li:?}"
        );
    }
    let top = format!("{}_dma_top", d.prefix);
    let rtl = out.join("rtl");
    let mut files: Vec<String> = std::fs::read_dir(&rtl)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".v"))
        .collect();
    files.sort();
    let o = Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", &top])
        .args(&files)
        .output()
        .expect("verilator runs (apt-get install verilator)");
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && !text.contains("%Warning"),
        "lint: {text}"
    );

    // frames: random hardware inputs, the golden outputs
    let frames = 5;
    let per_packet = 2;
    let g = Golden::new(&b.model);
    let (mut inb, mut outb) = (vec![], vec![]);
    for _ in 0..frames {
        let x: Vec<i64> = (0..d.input.elems())
            .map(|_| rng.value(d.input.elem_type))
            .collect();
        inb.extend(shell::pack_dma(&d.input, &x));
        outb.extend(shell::pack_dma(&d.output, &g.run_frame(&x)));
    }
    let hex = |b: &[u8]| b.iter().map(|v| format!("{v:02x}\n")).collect::<String>();
    std::fs::write(rtl.join("in.hex"), hex(&inb)).unwrap();
    let (wi, wo) = (li.dma_bytes * 8, lo.dma_bytes * 8);
    let tb = format!(
        r#"`timescale 1ns/1ps
module tb;
localparam WI = {wi}, WO = {wo}, NIN = {nin}, NOUT = {nout};
reg clk = 1'b0;
always #5 clk = ~clk;
reg rst_n = 1'b0;
reg [7:0] in_mem [0:NIN-1];
reg [7:0] out_mem [0:NOUT-1];
reg [WI-1:0] s_tdata = 0;
reg [WI-1:0] next_data;
reg s_tvalid = 1'b0;
wire s_tready;
wire [WO-1:0] m_tdata;
wire [WO/8-1:0] m_tkeep;
wire m_tvalid;
wire m_tlast;
reg m_tready = 1'b0;
reg [31:0] lfsr = 32'h1;
integer ip = 0, op = 0, ob = 0, k, fd, cycles = 0;
{top} #(.MEM_DIR("{mem_dir}/")) dut (
    .ap_clk(clk), .ap_rst_n(rst_n), .frames(32'd{per_packet}),
    .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready), .s_axis_tlast(1'b0),
    .m_axis_tdata(m_tdata), .m_axis_tkeep(m_tkeep), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready),
    .m_axis_tlast(m_tlast)
);
initial begin
    $readmemh("in.hex", in_mem);
    fd = $fopen("tlast.txt", "w");
    repeat (5) @(posedge clk);
    rst_n <= 1'b1;
end
always @(posedge clk) begin
    cycles = cycles + 1;
    lfsr <= lfsr[0] ? (lfsr >> 1) ^ 32'hA3000000 : lfsr >> 1;
    if (rst_n) begin
        if (s_tvalid && s_tready) ip = ip + WI / 8;
        if (!(s_tvalid && !s_tready)) begin
            if (ip < NIN && (lfsr[0] || lfsr[3])) begin
                for (k = 0; k < WI / 8; k = k + 1) next_data[k*8 +: 8] = in_mem[ip + k];
                s_tdata <= next_data;
                s_tvalid <= 1'b1;
            end else begin
                s_tvalid <= 1'b0;
            end
        end
        m_tready <= lfsr[5] || lfsr[1];
        if (m_tvalid && m_tready) begin
            if (m_tkeep != {{(WO/8){{1'b1}}}}) $display("ERROR: tkeep");
            for (k = 0; k < WO / 8; k = k + 1) out_mem[op + k] = m_tdata[k*8 +: 8];
            op = op + WO / 8;
            ob = ob + 1;
            if (m_tlast) $fwrite(fd, "%0d\n", ob);
            if (op == NOUT) begin
                $fclose(fd);
                fd = $fopen("out.hex", "w");
                for (k = 0; k < NOUT; k = k + 1) $fwrite(fd, "%02x\n", out_mem[k]);
                $fclose(fd);
                $finish;
            end
        end
    end
    if (cycles > 200000) begin
        $display("ERROR: timeout with %0d of %0d output bytes", op, NOUT);
        $finish;
    end
end
endmodule
"#,
        mem_dir = rtl.display(),
        nin = inb.len(),
        nout = outb.len(),
    );
    std::fs::write(rtl.join("tb.v"), tb).unwrap();
    let o = Command::new("iverilog")
        .args(["-g2005", "-o", "tb.vvp", "-s", "tb", "tb.v"])
        .args(&files)
        .current_dir(&rtl)
        .output()
        .expect("iverilog runs (apt-get install iverilog)");
    assert!(
        o.status.success(),
        "iverilog: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = Command::new("vvp")
        .args(["-n", "tb.vvp"])
        .current_dir(&rtl)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success() && !log.contains("ERROR"), "vvp: {log}");
    let got: Vec<u8> = std::fs::read_to_string(rtl.join("out.hex"))
        .unwrap()
        .split_whitespace()
        .map(|w| {
            u8::from_str_radix(w, 16)
                .unwrap_or_else(|_| panic!("output byte {w} in {}", rtl.display()))
        })
        .collect();
    assert_eq!(got, outb, "simd {simd} pe {pe}: DMA output bytes");
    let beats_per_frame = lo.dma_beats * d.output.beats_per_frame;
    let tlast: Vec<usize> = std::fs::read_to_string(rtl.join("tlast.txt"))
        .unwrap()
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    assert_eq!(
        tlast,
        [2 * beats_per_frame, 4 * beats_per_frame],
        "tlast after every {per_packet} frames"
    );
}

/// Every host step kind, each rounding mode, per-element and broadcast constants, exact
/// ties: the driver's numpy steps equal the golden model's, bit for bit.
#[test]
fn driver_host_steps_equal_golden() {
    use ferrite_gen::ir::DataType::*;
    use ferrite_gen::ir::host::{FloatOp, HostStep, RoundingMode};
    use ferrite_gen::testing::{self, Rng, mv_layer};
    let ew = |op, constant: Vec<f32>, reversed| HostStep::Elementwise {
        op,
        constant,
        reversed,
    };
    let py = python();
    for (i, rounding) in [
        RoundingMode::Round,
        RoundingMode::Ceil,
        RoundingMode::Floor,
        RoundingMode::Up,
        RoundingMode::Down,
        RoundingMode::HalfUp,
        RoundingMode::HalfDown,
    ]
    .into_iter()
    .enumerate()
    {
        let mut rng = Rng::new(100 + i as u64);
        let mut m = testing::model(
            "steps",
            vec![
                mv_layer(&mut rng, "fc0", 64, 8, Int(8), Int(2), Some(UInt(2))),
                mv_layer(&mut rng, "fc1", 8, 10, UInt(2), Int(2), None),
            ],
        );
        let n = 64;
        let pick = |rng: &mut Rng, from: &[f32]| from[rng.range(0, from.len() as i64 - 1) as usize];
        let per = |rng: &mut Rng, from: &[f32], k: usize| {
            (0..k).map(|_| pick(rng, from)).collect::<Vec<f32>>()
        };
        let mut perm: Vec<usize> = (0..n).collect();
        for j in (1..n).rev() {
            perm.swap(j, rng.range(0, j as i64) as usize);
        }
        m.pre = vec![
            HostStep::Gather { index: perm },
            HostStep::ToChannelsLast { channels: 16 },
            ew(FloatOp::Max, vec![-30.0], false),
            ew(
                FloatOp::Mul,
                per(&mut rng, &[1.0, 0.5, 3.0, -1.0], n),
                false,
            ),
            ew(FloatOp::Sub, vec![0.25], true),
            ew(FloatOp::Div, vec![1.0], false),
            ew(FloatOp::Pow, vec![1.0], false),
            ew(FloatOp::Add, per(&mut rng, &[0.0, 0.125, -0.375], n), false),
            HostStep::Quantize {
                scale: per(&mut rng, &[0.5, 0.25, 0.3, 1.7], n),
                zero_point: vec![0.0],
                bits: 8,
                signed: true,
                narrow: true,
                rounding,
                dtype: Int(8),
            },
        ];
        let out_elems = 10;
        m.post = vec![
            HostStep::Dequantize {
                scale: per(&mut rng, &[0.1, 0.37, 2.0], out_elems),
            },
            ew(FloatOp::Add, vec![0.3], false),
            ew(FloatOp::Max, vec![0.0], false),
            ew(FloatOp::Pow, vec![1.5], false),
            ew(FloatOp::Sub, vec![1.0], true),
            HostStep::Softmax,
        ];
        let plan = testing::plan(&m, &[(8, 16), (10, 8)]);
        let (design, _, _) = build::compile(&m, &plan).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (path, bytes) in shell::files(&m, &design, &board("pynq-z2")).unwrap() {
            let p = dir.path().join(&path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        let frames = 40;
        let (mut x, mut pre, mut yhw, mut post) = (vec![], vec![], vec![], vec![]);
        let out_t = design.output.elem_type;
        for _ in 0..frames {
            // quarter steps: exact ties after the power-of-two scales
            let f: Vec<f32> = (0..n).map(|_| rng.range(-200, 200) as f32 * 0.25).collect();
            let hw = golden::host::run_pre(&m, &f).unwrap();
            let o: Vec<i64> = (0..out_elems).map(|_| rng.value(out_t)).collect();
            for v in golden::host::run_post(&m, &o).unwrap() {
                post.extend(v.to_le_bytes());
            }
            f.iter().for_each(|v| x.extend(v.to_le_bytes()));
            hw.iter().for_each(|v| pre.extend(v.to_le_bytes()));
            o.iter().for_each(|v| yhw.extend(v.to_le_bytes()));
        }
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        for (name, b) in [
            ("x.f32", &x),
            ("pre.i64", &pre),
            ("yhw.i64", &yhw),
            ("post.f32", &post),
        ] {
            std::fs::write(data.join(name), b).unwrap();
        }
        let meta = serde_json::json!({"frames": frames, "what": format!("{rounding:?}")});
        std::fs::write(data.join("meta.json"), meta.to_string()).unwrap();
        let o = Command::new(&py)
            .arg(workspace().join("gen/tests/vivado/host_steps.py"))
            .arg(dir.path().join("driver"))
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{rounding:?}: {}{}",
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

#[test]
fn cli_build_with_a_board() {
    let ferrite = env!("CARGO_BIN_EXE_ferrite");
    let model = workspace().join("examples/mlp_w1a1/model.onnx");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = Command::new(ferrite)
        .args(["--quiet", "build"])
        .arg(&model)
        .arg("-o")
        .arg(&out)
        .args(["--board", "kv260"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "vivado/build.tcl",
        "driver/driver.py",
        "driver/network.json",
        "driver/README.md",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let tcl = std::fs::read_to_string(out.join("vivado/build.tcl")).unwrap();
    assert!(
        tcl.contains("set ferrite_part {xck26-sfvc784-2LV-c}") && tcl.contains("zynq_ultra_ps_e")
    );
    // the marker lists the new files, so the next build replaces them
    let marker = std::fs::read_to_string(out.join(".ferrite-out")).unwrap();
    assert!(marker.contains("driver/network.json"), "{marker}");
    let o = Command::new(ferrite)
        .arg("build")
        .arg(&model)
        .arg("-o")
        .arg(&out)
        .args(["--board", "pynq-z9"])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("unknown board") && e.contains("pynq-z2"),
        "{e}"
    );
}
