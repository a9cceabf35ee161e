//! Boards: the FPGA a design is built for (part, family, resources, default clock, shell),
//! one TOML file each in the workspace's `boards/` folder. The bundled boards are compiled
//! in; a folder of board files (`FERRITE_BOARDS` or the CLI's `--boards DIR`) is read at run
//! time and adds boards or replaces bundled ones of the same name.
//!
//! What boards feed: the folding to a budget, the resource report and the synthesis flows
//! (issue 8) take a [`Board`]; everything that needs one takes it from [`find`].

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// FPGA families: what resource estimates and memory placement are decided by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Xilinx 7-series (Zynq-7000): LUT6, RAMB18/36, DSP48E1. The default: FINN's and
    /// BNN-PYNQ's boards (Pynq-Z1/Z2) are 7-series.
    #[default]
    #[serde(rename = "xilinx-7series")]
    Xilinx7series,
    /// Xilinx UltraScale+ (Zynq MPSoC, Kria, Alveo): LUT6, RAMB18/36, URAM, DSP48E2.
    XilinxUltrascale,
    /// Lattice ECP5: LUT4, 18 kbit EBR, 18x18 multipliers.
    Ecp5,
    /// Lattice iCE40 UltraPlus: LUT4, 4 kbit EBR, SPRAM, SB_MAC16.
    Ice40,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Xilinx7series => "xilinx-7series",
            Family::XilinxUltrascale => "xilinx-ultrascale",
            Family::Ecp5 => "ecp5",
            Family::Ice40 => "ice40",
        }
    }
}

/// What the generated accelerator is wrapped in on the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shell {
    /// A Zynq-7000 PYNQ overlay: processing system, AXI DMA, the accelerator.
    ZynqPynq,
    /// A Zynq UltraScale+ overlay (PYNQ or Kria): the same on the MPSoC.
    ZynqMpsoc,
    /// An Alveo card: an XRT kernel.
    AlveoXrt,
    /// The open flow on ECP5 (Yosys, nextpnr-ecp5, ecppack).
    OpenEcp5,
    /// The open flow on iCE40 (Yosys, nextpnr-ice40, icepack).
    OpenIce40,
}

/// One board.
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// The name `--board` takes: lowercase letters, digits and `-`.
    pub name: String,
    pub description: String,
    pub family: Family,
    pub part: String,
    pub lut: u64,
    pub ff: u64,
    /// Block RAM in RAMB18 equivalents (18 kbit blocks: a RAMB36 is 2, an ECP5 EBR 1).
    pub bram18: u64,
    /// UltraRAM blocks (288 kbit), UltraScale+ only.
    #[serde(default)]
    pub uram: u64,
    /// iCE40 4 kbit EBR blocks.
    #[serde(default)]
    pub ebr_4k: u64,
    /// iCE40 UltraPlus 256 kbit single-port RAMs.
    #[serde(default)]
    pub spram_256k: u64,
    /// DSP blocks (DSP48E1/E2, ECP5 18x18 multipliers, SB_MAC16).
    pub dsp: u64,
    /// The default clock the board's designs are built for.
    pub clock_mhz: f64,
    pub shell: Shell,
    /// Vivado's board files for it, `vendor:board:part0` without the version (the Vivado
    /// flow takes the newest installed; without them it builds for the part alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vivado_board: Option<String>,
}

/// Errors of loading boards.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("cannot read the boards folder {}: {source}", dir.display())]
    Folder {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read board file {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("board file {file} is invalid: {why}")]
    Invalid { file: String, why: String },
    #[error("no board `{name}`; the boards are: {}", known.join(", "))]
    Unknown { name: String, known: Vec<String> },
}

/// The bundled board files (name of the file, its text).
const BUNDLED: &[(&str, &str)] = &[
    ("pynq-z1.toml", include_str!("../../boards/pynq-z1.toml")),
    ("pynq-z2.toml", include_str!("../../boards/pynq-z2.toml")),
    (
        "ultra96-v2.toml",
        include_str!("../../boards/ultra96-v2.toml"),
    ),
    ("zcu104.toml", include_str!("../../boards/zcu104.toml")),
    ("kv260.toml", include_str!("../../boards/kv260.toml")),
    (
        "alveo-u250.toml",
        include_str!("../../boards/alveo-u250.toml"),
    ),
    ("ulx3s.toml", include_str!("../../boards/ulx3s.toml")),
    (
        "icebreaker.toml",
        include_str!("../../boards/icebreaker.toml"),
    ),
];

/// Board files larger than this are refused before parsing.
const MAX_BOARD_FILE: u64 = 64 * 1024;

/// Parse one board file's text (`file` names it in errors) and check it.
pub fn parse(file: &str, text: &str) -> Result<Board, BoardError> {
    let invalid = |why: String| BoardError::Invalid {
        file: file.to_string(),
        why,
    };
    let b: Board = toml::from_str(text).map_err(|e| invalid(e.message().to_string()))?;
    let name_ok = !b.name.is_empty()
        && b.name.len() <= 40
        && b.name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if !name_ok {
        return Err(invalid(
            "`name` must be 1 to 40 lowercase letters, digits or `-`".into(),
        ));
    }
    let printable = |s: &str| s.len() <= 200 && s.chars().all(|c| !c.is_control());
    if !printable(&b.description) || !printable(&b.part) || b.part.is_empty() {
        return Err(invalid(
            "`description` and `part` must be printable, one line, at most 200 characters".into(),
        ));
    }
    if !(b.clock_mhz.is_finite() && b.clock_mhz > 0.0 && b.clock_mhz <= 2000.0) {
        return Err(invalid(format!(
            "`clock_mhz` {} is not a clock (0 < MHz <= 2000)",
            b.clock_mhz
        )));
    }
    if let Some(v) = &b.vivado_board
        && !(v.len() <= 100
            && v.split(':').count() == 3
            && v.split(':').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
            }))
    {
        return Err(invalid(
            "`vivado_board` must be vendor:board:part0 (letters, digits, `_.-`)".into(),
        ));
    }
    if b.lut == 0 || b.ff == 0 {
        return Err(invalid("`lut` and `ff` must be positive".into()));
    }
    Ok(b)
}

/// The bundled boards, then those of `dir` (replacing bundled ones of the same name), sorted
/// by name.
pub fn load(dir: Option<&Path>) -> Result<Vec<Board>, BoardError> {
    let mut boards = std::collections::BTreeMap::new();
    for (file, text) in BUNDLED {
        let b = parse(&format!("boards/{file}"), text)?;
        boards.insert(b.name.clone(), b);
    }
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).map_err(|source| BoardError::Folder {
            dir: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for f in files {
            let read = |source| BoardError::Read {
                file: f.clone(),
                source,
            };
            let len = std::fs::metadata(&f).map_err(read)?.len();
            if len > MAX_BOARD_FILE {
                return Err(BoardError::Invalid {
                    file: f.display().to_string(),
                    why: format!("{len} bytes; a board file is at most {MAX_BOARD_FILE}"),
                });
            }
            let text = std::fs::read_to_string(&f).map_err(read)?;
            let b = parse(&f.display().to_string(), &text)?;
            boards.insert(b.name.clone(), b);
        }
    }
    Ok(boards.into_values().collect())
}

/// The board called `name` among `boards`; the error lists them all.
pub fn find<'a>(boards: &'a [Board], name: &str) -> Result<&'a Board, BoardError> {
    boards
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| BoardError::Unknown {
            name: name.chars().filter(|c| !c.is_control()).take(64).collect(),
            known: boards.iter().map(|b| b.name.clone()).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_boards_load() {
        let b = load(None).unwrap();
        let names: Vec<&str> = b.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "alveo-u250",
                "icebreaker",
                "kv260",
                "pynq-z1",
                "pynq-z2",
                "ultra96-v2",
                "ulx3s",
                "zcu104"
            ]
        );
        let z1 = find(&b, "pynq-z1").unwrap();
        assert_eq!((z1.lut, z1.bram18, z1.dsp), (53200, 280, 220));
        assert_eq!(z1.clock_mhz, 100.0);
        assert_eq!(find(&b, "ulx3s").unwrap().family, Family::Ecp5);
        // every bundled file is named after its board
        for (file, text) in BUNDLED {
            assert_eq!(format!("{}.toml", parse(file, text).unwrap().name), *file);
        }
    }

    #[test]
    fn bad_boards_are_refused_with_reasons() {
        let b = load(None).unwrap();
        let e = find(&b, "pynq-z7").unwrap_err().to_string();
        assert!(e.contains("pynq-z1") && e.contains("icebreaker"), "{e}");
        let good = BUNDLED[0].1;
        for (text, why) in [
            (good.replace("lut = 53200", "lut = 53200\nlutz = 1"), "lutz"),
            (good.replace("\"pynq-z1\"", "\"Pynq Z1\""), "lowercase"),
            (good.replace("100.0", "-1.0"), "clock"),
            (good.replace("100.0", "nan"), "clock"),
            (good.replace("xilinx-7series", "stratix"), "stratix"),
            (good.replace("lut = 53200\n", ""), "lut"),
            (
                good.replace("digilentinc.com:pynq-z1:part0", "x:[exec rm]:part0"),
                "vivado_board",
            ),
            (good.replace(":part0\"", "\""), "vivado_board"),
        ] {
            let e = parse("t.toml", &text).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("t.toml"), "{why}: {e}");
        }
    }

    #[test]
    fn a_folder_adds_and_replaces_boards() {
        let dir = tempfile::tempdir().unwrap();
        let mine = BUNDLED[0].1.replace("\"pynq-z1\"", "\"my-board\"");
        std::fs::write(dir.path().join("my-board.toml"), mine).unwrap();
        let faster = BUNDLED[1].1.replace("100.0", "125.0");
        std::fs::write(dir.path().join("z2.toml"), faster).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a board").unwrap();
        let b = load(Some(dir.path())).unwrap();
        assert_eq!(b.len(), 9);
        assert_eq!(find(&b, "pynq-z2").unwrap().clock_mhz, 125.0);
        std::fs::write(dir.path().join("huge.toml"), "#".repeat(100_000)).unwrap();
        let e = load(Some(dir.path())).unwrap_err().to_string();
        assert!(e.contains("huge.toml") && e.contains("at most"), "{e}");
    }
}
