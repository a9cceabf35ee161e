//! `ferrite boards [NAME]`: the boards ferrite knows (bundled and from a folder), or one.
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  ferrite boards                         # every board: part, resources, clock, shell
  ferrite boards pynq-z1                 # one board
  ferrite boards --boards my-boards/     # with the board files of a folder (TOML, as boards/)";

#[derive(clap::Args)]
pub struct Args {
    /// Show this board only.
    pub name: Option<String>,
    /// A folder of board files (TOML, as in boards/) that add boards or replace bundled ones
    /// (default: $FERRITE_BOARDS, if set).
    #[arg(long, value_name = "DIR")]
    pub boards: Option<PathBuf>,
}

/// The boards folder: `--boards`, else `$FERRITE_BOARDS`.
pub fn folder(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| std::env::var_os("FERRITE_BOARDS").map(PathBuf::from))
}

/// The board `name` among the bundled ones and those of `dir` (else `$FERRITE_BOARDS`).
pub fn lookup(
    name: Option<&str>,
    dir: Option<PathBuf>,
) -> anyhow::Result<Option<ferrite_gen::boards::Board>> {
    use anyhow::Context;
    let Some(name) = name else {
        return Ok(None);
    };
    let dir = folder(dir);
    let shown = dir
        .as_ref()
        .map_or_else(|| "bundled boards".to_string(), |d| d.display().to_string());
    let all = ferrite_gen::boards::load(dir.as_deref()).with_context(|| {
        super::error::doing(
            "cannot load the boards",
            &shown,
            "a board file is TOML with the fields of the files in boards/",
        )
    })?;
    let b = ferrite_gen::boards::find(&all, name).with_context(|| {
        super::error::doing(
            "unknown board",
            super::terminal_name(name),
            "pick one of the boards listed (`ferrite boards`), or add a board file with --boards DIR",
        )
    })?;
    Ok(Some(b.clone()))
}

pub fn run(args: Args, _ui: super::ui::Ui) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let dir = folder(args.boards);
    let shown = dir
        .as_ref()
        .map_or_else(|| "bundled boards".to_string(), |d| d.display().to_string());
    let boards = ferrite_gen::boards::load(dir.as_deref()).with_context(|| {
        super::error::doing(
            "cannot load the boards",
            &shown,
            "a board file is TOML with the fields of the files in boards/ (name, description, family, part, lut, ff, bram18, dsp, clock_mhz, shell)",
        )
    })?;
    let list: Vec<&ferrite_gen::boards::Board> = match &args.name {
        Some(n) => vec![ferrite_gen::boards::find(&boards, n).with_context(|| {
            super::error::doing(
                "unknown board",
                super::terminal_name(n),
                "pick one of the boards listed, or add a board file with --boards DIR",
            )
        })?],
        None => boards.iter().collect(),
    };
    println!(
        "{:<12} {:<18} {:<22} {:>9} {:>9} {:>6} {:>5} {:>6} {:>8}  shell",
        "board", "family", "part", "LUT", "FF", "BRAM18", "URAM", "DSP", "clock"
    );
    for b in list {
        let bram = if b.ebr_4k > 0 {
            format!("{}x4k", b.ebr_4k)
        } else {
            b.bram18.to_string()
        };
        println!(
            "{:<12} {:<18} {:<22} {:>9} {:>9} {:>6} {:>5} {:>6} {:>5} MHz  {}",
            b.name,
            b.family.name(),
            b.part,
            b.lut,
            b.ff,
            bram,
            b.uram,
            b.dsp,
            b.clock_mhz,
            serde_json::to_value(b.shell)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        );
        if args.name.is_some() {
            println!("  {}", b.description);
            if b.spram_256k > 0 {
                println!("  SPRAM: {} blocks of 256 kbit", b.spram_256k);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
