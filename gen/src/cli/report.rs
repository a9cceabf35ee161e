//! `ferrite report OUT [--format html|md|json] [--clock MHZ]`: the build in OUT, its
//! co-simulation and its golden comparison as one self-contained HTML page
//! (`OUT/report.html`), a Markdown summary or JSON on stdout (docs/report.md).
use super::error::{fail, usage};
use super::ui::Ui;
use ferrite_gen::report::Summary;
use ferrite_gen::report::summary::{self, ReportError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  ferrite report out/mlp                    # writes out/mlp/report.html
  ferrite report out/mlp --format md        # a Markdown summary on stdout (CI logs)
  ferrite report out/mlp --format json      # the same figures as JSON on stdout
  ferrite report out/mlp --clock 250        # figures at 250 MHz instead of 100 MHz";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// OUT/report.html: one self-contained page (inline SVG and CSS, no scripts).
    Html,
    /// A Markdown summary on stdout.
    Md,
    /// The summary as JSON on stdout.
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Output directory of `ferrite build` (cosim.json and golden.json are read when there).
    pub out: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value_t = Format::Html)]
    pub format: Format,
    /// Clock to state throughput, latency and roofs at, in MHz (default 100: no board
    /// gives one yet).
    #[arg(long, value_name = "MHZ")]
    pub clock: Option<f64>,
    /// Set the resource estimates against this board's (see `ferrite boards`); its clock is
    /// the default clock.
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,
    /// A folder of board files (as `ferrite boards --boards`).
    #[arg(long, value_name = "DIR")]
    pub boards: Option<PathBuf>,
}

/// The board `--board` names, if any.
fn board(args: &Args) -> anyhow::Result<Option<ferrite_gen::boards::Board>> {
    super::boards::lookup(args.board.as_deref(), args.boards.clone())
}

/// The command line, as the report records it (absolute paths by their file name).
pub fn command_line() -> String {
    summary::command_line(std::env::args().skip(1))
}

/// Write `OUT/report.html` for the build in `out` (`build --report`, `cosim --report`).
pub fn write_html(out: &Path, clock: Option<f64>, ui: Ui) -> anyhow::Result<()> {
    write_html_for(out, clock, None, ui)
}

fn write_html_for(
    out: &Path,
    clock: Option<f64>,
    board: Option<ferrite_gen::boards::Board>,
    ui: Ui,
) -> anyhow::Result<()> {
    let mut sm = load(out, clock)?;
    sm.set_board(board);
    let path = summary::write_html(out, &sm).map_err(|e| match e {
        ReportError::Write { path, err } => fail(
            err,
            "cannot write the report",
            &path,
            "check that the folder is writable",
        ),
        e => fail(
            e,
            "cannot write the report",
            out,
            "check that the folder is writable",
        ),
    })?;
    ui.say(&format!("wrote {}", path.display()));
    Ok(())
}

fn load(out: &Path, clock: Option<f64>) -> anyhow::Result<Summary> {
    if let Some(c) = clock
        && !(c.is_finite() && c > 0.0)
    {
        return Err(usage(
            format!("--clock {c}: the clock must be a positive number of MHz"),
            "pass for example --clock 100",
        ));
    }
    if !out.join("model.json").is_file() {
        return Err(usage(
            format!(
                "{} is not a `ferrite build` output (it has no model.json)",
                out.display()
            ),
            format!(
                "run `ferrite build MODEL -o {}` first, or give the folder `ferrite build` wrote",
                out.display()
            ),
        ));
    }
    Summary::load(out, &command_line(), clock).map_err(|e| match &e {
        ReportError::Bad { path, .. } if !path.ends_with("model.json") => {
            let path = path.clone();
            fail(
                e,
                "cannot read a comparison of the build",
                &path,
                "cosim.json and golden.json are written by `ferrite cosim` and `ferrite golden \
                 --comparison`; run them again, or remove the file",
            )
        }
        _ => fail(
            e,
            "cannot read the build",
            out,
            "rebuild it with `ferrite build`",
        ),
    })
}

pub fn run(args: Args, ui: Ui) -> anyhow::Result<ExitCode> {
    let b = board(&args)?;
    let clock = args.clock.or(b.as_ref().map(|b| b.clock_mhz));
    match args.format {
        Format::Html => write_html_for(&args.out, clock, b, ui)?,
        Format::Md => {
            let mut sm = load(&args.out, clock)?;
            sm.set_board(b);
            print!("{}", ferrite_gen::report::markdown::render(&sm));
        }
        Format::Json => {
            let mut sm = load(&args.out, clock)?;
            sm.set_board(b);
            print!("{}", sm.to_json());
        }
    }
    Ok(ExitCode::SUCCESS)
}
