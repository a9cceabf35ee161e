//! `ferrite build`: a model to an output directory of RTL, IR, design manifest, folding
//! and report (the layout is [`crate::outdir`]'s).
//!
//! load -> fold -> stitch -> emit -> report, then everything is written into a temporary
//! directory beside `OUT` and renamed into place, so `OUT` is never half-written. An
//! existing `OUT` without the marker (and not empty) is refused; one with it is replaced.

use crate::emit::{self, Design, EmitError, GeneratedFile};
use crate::fold::{self, FoldError, FoldPlan, FoldingFile};
use crate::ir::Model;
use crate::outdir::{OutDir, OutError};
use crate::progress::{Progress, Silent};
use crate::report::{self, BuildReport};
use crate::stitch::{self, StitchError};
use std::path::{Path, PathBuf};
use thiserror::Error;

pub use crate::outdir::MARKER;

/// Errors of [`build`] and [`build_model`].
#[derive(Debug, Error)]
pub enum BuildError {
    // The inner errors are displayed, not chained: their messages already name the cause.
    #[error("{0}")]
    Load(crate::LoadError),
    #[error("{0}")]
    Fold(FoldError),
    #[error("{0}")]
    Stitch(StitchError),
    #[error("{0}")]
    Emit(EmitError),
    #[error("{0}")]
    Out(OutError),
    #[error("{0}")]
    Fit(crate::fit::FitError),
    #[error("{0}")]
    Shell(crate::shell::ShellError),
}

impl From<crate::fit::FitError> for BuildError {
    fn from(e: crate::fit::FitError) -> Self {
        match e {
            crate::fit::FitError::Fold(e) => BuildError::Fold(e),
            e => BuildError::Fit(e),
        }
    }
}

impl From<crate::LoadError> for BuildError {
    fn from(e: crate::LoadError) -> Self {
        BuildError::Load(e)
    }
}

impl From<FoldError> for BuildError {
    fn from(e: FoldError) -> Self {
        BuildError::Fold(e)
    }
}

impl From<StitchError> for BuildError {
    fn from(e: StitchError) -> Self {
        BuildError::Stitch(e)
    }
}

impl From<EmitError> for BuildError {
    fn from(e: EmitError) -> Self {
        BuildError::Emit(e)
    }
}

impl From<crate::shell::ShellError> for BuildError {
    fn from(e: crate::shell::ShellError) -> Self {
        BuildError::Shell(e)
    }
}

impl From<OutError> for BuildError {
    fn from(e: OutError) -> Self {
        BuildError::Out(e)
    }
}

/// How to fold.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// A folding file (ferrite's `{"nodes": {"fc0": {"pe": 16, "simd": 49}}}` or FINN's
    /// folding config); nodes it does not name are folded automatically.
    pub folding: Option<PathBuf>,
    /// Cycles a frame to meet for the nodes not folded by a file.
    pub target_cycles: Option<u64>,
    /// The datatype of a float input without a quantizer or annotation (`--input-type`).
    pub input_type: Option<crate::ir::InputType>,
    /// The board to build for: its family decides memory placement and the estimates;
    /// `fit` and `target_fps` fold to its budget and clock; its shell's files
    /// (`crate::shell::files`: the Vivado flow and the PYNQ driver) are written too.
    pub board: Option<crate::boards::Board>,
    /// Fold to the fastest pipeline within `share` of the board (`--fit`).
    pub fit: bool,
    /// Fold to this many frames a second at `clock_mhz` (`--target-fps`), at the least
    /// estimated resource (within the board's share, when there is a board).
    pub target_fps: Option<f64>,
    /// The clock for `target_fps`, in MHz (default: the board's, else 100).
    pub clock_mhz: Option<f64>,
    /// The share of each of the board's resources the design may take (default 0.8).
    pub share: Option<f64>,
    /// The budget `fit` and `target_fps` fold to, in estimated units, instead of the
    /// board's share (fitting by synthesis lowers it where the measurement exceeded the
    /// share: [`crate::fit::next_budget`]).
    pub fit_budget: Option<crate::estimate::Cost>,
}

/// The default share of a board's resources a design may take.
pub const DEFAULT_SHARE: f64 = 0.8;

impl BuildOptions {
    /// The FPGA family: the board's, else Xilinx 7-series.
    pub fn family(&self) -> crate::boards::Family {
        self.board.as_ref().map(|b| b.family).unwrap_or_default()
    }

    /// The clock in MHz: `clock_mhz`, else the board's, else 100.
    pub fn clock(&self) -> f64 {
        self.clock_mhz
            .or(self.board.as_ref().map(|b| b.clock_mhz))
            .unwrap_or(100.0)
    }

    /// The board's budget at the share, if there is a board.
    pub fn budget(&self) -> Option<crate::estimate::Cost> {
        if self.fit_budget.is_some() {
            return self.fit_budget;
        }
        self.board.as_ref().map(|b| self.share_of(b))
    }

    /// `board`'s resources at the share.
    pub fn share_of(&self, board: &crate::boards::Board) -> crate::estimate::Cost {
        crate::estimate::budget(board, self.share.unwrap_or(DEFAULT_SHARE))
    }

    /// How the budget is named in messages ("80 % of pynq-z1").
    pub fn budget_name(&self) -> String {
        let share = self.share.unwrap_or(DEFAULT_SHARE);
        match &self.board {
            Some(b) => format!("{} % of {}", fmt_pct(share), b.name),
            None => "no budget".into(),
        }
    }
}

fn fmt_pct(share: f64) -> String {
    let p = share * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    }
}

/// What [`build`] made.
#[derive(Debug)]
pub struct BuildOutput {
    pub out: PathBuf,
    pub model: Model,
    pub plan: FoldPlan,
    pub design: Design,
    /// Every file of `rtl/`, in order.
    pub files: Vec<GeneratedFile>,
    pub report: BuildReport,
}

/// The folding plan of `opts` for `model`.
pub fn plan_for(model: &Model, opts: &BuildOptions) -> Result<FoldPlan, BuildError> {
    let mut plan = if opts.fit || opts.target_fps.is_some() {
        let goal = crate::fit::FitGoal {
            family: opts.family(),
            budget: opts.budget(),
            target_cycles: opts
                .target_fps
                .map(|f| crate::fit::cycles_for_fps(opts.clock(), f)),
            budget_name: opts.budget_name(),
            clock_mhz: opts.clock(),
        };
        crate::fit::fit(model, &goal, &Default::default())?.plan
    } else {
        plan_from_folding(model, opts)?
    };
    // a board decides the family; else the folding file's (a plan made for a board), else
    // the default
    if let Some(b) = &opts.board {
        plan.family = b.family;
    }
    Ok(plan)
}

fn plan_from_folding(model: &Model, opts: &BuildOptions) -> Result<FoldPlan, FoldError> {
    match &opts.folding {
        None => fold::auto(model, opts.target_cycles),
        Some(path) => {
            let mut file = FoldingFile::load(path)?;
            if opts.target_cycles.is_some() {
                file.target_cycles = opts.target_cycles;
            }
            FoldPlan::from_file(model, &file, &path.display().to_string())
        }
    }
}

/// Load the model at `model_path` and build it into `out`.
pub fn build(
    model_path: &Path,
    out: &Path,
    opts: &BuildOptions,
) -> Result<BuildOutput, BuildError> {
    build_with(model_path, out, opts, &Silent)
}

/// [`build`], reporting its steps (importing, folding, stitching, emitting, writing) to
/// `progress`.
pub fn build_with(
    model_path: &Path,
    out: &Path,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildOutput, BuildError> {
    progress.step("importing", None);
    let model = crate::load_model_with(model_path, opts.input_type)?;
    build_model_with(model, out, opts, progress)
}

/// Fold, stitch, emit and report `model` with `plan`, in memory.
pub fn compile(
    model: &Model,
    plan: &FoldPlan,
) -> Result<(Design, Vec<GeneratedFile>, BuildReport), BuildError> {
    let design = stitch::stitch(model, plan)?;
    let files = emit::emit(model, &design)?;
    let report = report::build_report(model, plan, &design, &files);
    Ok((design, files, report))
}

/// Write a compiled design (and `extra` files, paths relative to `out`) into `out`
/// atomically (see [`OutDir::replace_with`]).
pub fn write_out(
    out: &Path,
    model: &Model,
    plan: &FoldPlan,
    design: &Design,
    files: &[GeneratedFile],
    report: &BuildReport,
    extra: &[(String, Vec<u8>)],
) -> Result<(), BuildError> {
    let mut entries: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| (format!("rtl/{}", f.name), f.contents.clone().into_bytes()))
        .collect();
    let mut model_json = model.to_json();
    model_json.push('\n');
    entries.push(("model.json".into(), model_json.into_bytes()));
    entries.push(("design.json".into(), design.to_json().into_bytes()));
    entries.push(("folding.json".into(), plan.to_json().into_bytes()));
    entries.push(("report.json".into(), report.to_json().into_bytes()));
    entries.extend_from_slice(extra);
    let marker = format!(
        "{}\nthis directory is written by `ferrite build`; the next build into it replaces it\n",
        emit::GENERATOR
    );
    OutDir::new(out).replace_with(&entries, &marker)?;
    Ok(())
}

/// Build `model` into `out`.
pub fn build_model(
    model: Model,
    out: &Path,
    opts: &BuildOptions,
) -> Result<BuildOutput, BuildError> {
    build_model_with(model, out, opts, &Silent)
}

/// [`build_model`], reporting its steps to `progress`.
pub fn build_model_with(
    model: Model,
    out: &Path,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildOutput, BuildError> {
    model.validate().map_err(EmitError::from)?;
    progress.step("folding", None);
    let plan = plan_for(&model, opts)?;
    progress.step("stitching", None);
    let design = stitch::stitch(&model, &plan)?;
    progress.step("emitting", None);
    let files = emit::emit(&model, &design)?;
    let report = report::build_report(&model, &plan, &design, &files);
    progress.step("writing", None);
    OutDir::new(out).check_writable()?;
    let shell = match &opts.board {
        Some(board) => crate::shell::files(&model, &design, board)?,
        None => Vec::new(),
    };
    write_out(out, &model, &plan, &design, &files, &report, &shell)?;
    Ok(BuildOutput {
        out: out.to_path_buf(),
        model,
        plan,
        design,
        files,
        report,
    })
}
