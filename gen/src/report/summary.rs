//! [`Summary`]: everything `ferrite report` shows, gathered from a build's folder
//! (`model.json`, `design.json`, and when they exist `cosim.json` and `golden.json`). The
//! HTML page and the Markdown summary render it; `--format json` prints it.

use super::compare::{CosimSummary, GoldenComparison, read_optional};
use super::figures::{DEFAULT_CLOCK_MHZ, ENERGY, EnergyModel};
use super::{InsertedReport, NodeReport, Totals, fps, inserted, node_reports, totals};
use crate::ir::Provenance;
use crate::outdir::{OutDir, OutError};
use crate::stitch::Design;
use serde::Serialize;
use std::path::Path;
use thiserror::Error;

/// Version of the summary format (`ferrite report --format json`).
pub const SUMMARY_VERSION: u32 = 1;

/// The file `ferrite report` reads a golden comparison from, in OUT.
pub const GOLDEN_JSON: &str = "golden.json";
/// The page `ferrite report` writes, in OUT.
pub const REPORT_HTML: &str = "report.html";

#[derive(Debug, Error)]
pub enum ReportError {
    #[error(transparent)]
    Out(#[from] OutError),
    /// `path` (cosim.json, golden.json, model.json) does not parse or is not valid.
    #[error("{why}")]
    Bad {
        path: std::path::PathBuf,
        why: String,
    },
    #[error("{path}: {err}")]
    Write {
        path: std::path::PathBuf,
        err: std::io::Error,
    },
}

/// Everything a report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub summary_version: u32,
    pub generator: String,
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Provenance>,
    /// The command that made the report (absolute paths shortened to their file name).
    pub command: String,
    /// The clock the figures assume, in MHz, and whether it is the default.
    pub clock_mhz: f64,
    pub clock_is_default: bool,
    pub exp_cycles_per_frame: u64,
    pub bottleneck: String,
    pub frames_per_second: f64,
    /// First input beat to last output beat of frame 0, measured by `ferrite cosim`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_cycles: Option<u64>,
    pub energy_pj_per_frame: f64,
    pub energy_model: EnergyModel,
    pub totals: Totals,
    pub nodes: Vec<NodeReport>,
    pub inserted: Vec<InsertedReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cosim: Option<CosimSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub golden: Option<GoldenComparison>,
    /// The board the resources are set against (`ferrite report --board`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board: Option<crate::boards::Board>,
    /// What `ferrite synth` measured (`OUT/synth.json`), when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synth: Option<crate::synth::SynthReport>,
    /// LUT, FF, block RAM and DSP of every design node (engines, FIFOs, converters) and
    /// their total, on the board's family (or the design's without a board).
    pub estimate: crate::estimate::DesignCost,
    /// The design graph (for the diagram).
    #[serde(skip)]
    pub design: Design,
    /// The model (for the estimates).
    #[serde(skip)]
    pub ir: crate::ir::Model,
}

/// `args` as one line: each argument that is an absolute path shown by its file name only
/// (the same inputs give the same report, wherever they are), quoted when needed.
pub fn command_line<I: IntoIterator<Item = S>, S: AsRef<str>>(args: I) -> String {
    let mut out = vec!["ferrite".to_string()];
    for a in args {
        let a = a.as_ref();
        let p = Path::new(a);
        let shown = if p.is_absolute() {
            p.file_name()
                .map_or_else(|| a.to_string(), |n| n.to_string_lossy().into_owned())
        } else {
            a.to_string()
        };
        if shown.is_empty()
            || shown
                .chars()
                .any(|c| c.is_whitespace() || "'\"$`\\<>|&;()*?".contains(c))
        {
            out.push(format!("'{}'", shown.replace('\'', "'\\''")));
        } else {
            out.push(shown);
        }
    }
    out.join(" ")
}

impl Summary {
    /// Gather the report of the build in `out`. `clock_mhz`: the clock to state figures at
    /// (100 MHz when `None`).
    pub fn load(out: &Path, command: &str, clock_mhz: Option<f64>) -> Result<Summary, ReportError> {
        let dir = OutDir::new(out);
        let model = dir.load_model()?;
        let design = dir.load_design()?;
        model.analyze().map_err(|e| ReportError::Bad {
            path: dir.model_json(),
            why: e.to_string(),
        })?;
        let cosim: Option<CosimSummary> =
            read_optional(&dir.cosim_json()).map_err(|why| ReportError::Bad {
                path: dir.cosim_json(),
                why,
            })?;
        let golden_json = out.join(GOLDEN_JSON);
        let golden: Option<GoldenComparison> =
            read_optional(&golden_json).map_err(|why| ReportError::Bad {
                path: golden_json.clone(),
                why,
            })?;
        let synth_json = out.join(crate::synth::SYNTH_JSON);
        let synth = read_optional(&synth_json).map_err(|why| ReportError::Bad {
            path: synth_json.clone(),
            why,
        })?;
        let mut sm = Summary::new(&model, design, cosim, golden, command, clock_mhz);
        sm.synth = synth;
        Ok(sm)
    }

    /// The summary of `design` (built from `model`) and its comparisons.
    pub fn new(
        model: &crate::ir::Model,
        design: Design,
        cosim: Option<CosimSummary>,
        golden: Option<GoldenComparison>,
        command: &str,
        clock_mhz: Option<f64>,
    ) -> Summary {
        let nodes = node_reports(model, &design);
        let clock = clock_mhz.unwrap_or(DEFAULT_CLOCK_MHZ);
        Summary {
            summary_version: SUMMARY_VERSION,
            generator: crate::emit::GENERATOR.to_string(),
            model: model.name.clone(),
            source: model.source.clone(),
            command: command.to_string(),
            clock_mhz: clock,
            clock_is_default: clock_mhz.is_none(),
            exp_cycles_per_frame: design.exp_cycles_per_frame,
            bottleneck: design.bottleneck.clone(),
            frames_per_second: fps(clock, design.exp_cycles_per_frame),
            latency_cycles: cosim.as_ref().map(|c| c.latency_cycles),
            energy_pj_per_frame: nodes.iter().map(|n| n.roofline.energy_pj).sum(),
            energy_model: ENERGY,
            totals: totals(&nodes, &design),
            inserted: inserted(&design),
            nodes,
            cosim,
            golden,
            board: None,
            synth: None,
            estimate: crate::estimate::design_cost(model, &design, design.family),
            design,
            ir: model.clone(),
        }
    }

    /// Compare against `board` (or nothing): the estimates follow its family.
    pub fn set_board(&mut self, board: Option<crate::boards::Board>) {
        let family = board.as_ref().map_or(self.design.family, |b| b.family);
        self.estimate = crate::estimate::design_cost(&self.ir, &self.design, family);
        self.board = board;
    }

    /// The estimate of design node `name`.
    pub fn node_cost(&self, name: &str) -> crate::estimate::Cost {
        self.estimate
            .nodes
            .iter()
            .find(|n| n.name == name)
            .map_or_else(Default::default, |n| n.cost)
    }

    /// The estimated share of `b`'s block RAM, and the figures no estimate exists for yet
    /// (LUT, FF, DSP: issue 8), as (resource, estimate, budget) rows: `None` where nothing
    /// is estimated.
    pub fn budget_rows(&self, b: &crate::boards::Board) -> Vec<(String, Option<u64>, u64)> {
        let budget = crate::estimate::budget(b, 1.0);
        let t = self.estimate.total;
        vec![
            ("LUT".into(), Some(t.lut), budget.lut),
            ("FF".into(), Some(t.ff), budget.ff),
            (
                crate::estimate::bram_unit(b.family).to_string(),
                Some(t.bram),
                budget.bram,
            ),
            ("DSP".into(), Some(t.dsp), budget.dsp),
        ]
    }

    /// "100 MHz (default)" or "250 MHz".
    pub fn clock_text(&self) -> String {
        if self.clock_is_default {
            format!("{} MHz (default)", num(self.clock_mhz))
        } else {
            format!("{} MHz", num(self.clock_mhz))
        }
    }

    /// Microseconds of `cycles` at the clock.
    pub fn micros(&self, cycles: f64) -> f64 {
        cycles / self.clock_mhz
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a summary serialises");
        s.push('\n');
        s
    }
}

/// A number for people: integers without decimals, others with at most 3 significant
/// decimals, thousands not separated (deterministic, locale-free).
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let a = x.abs();
    let s = if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else if a >= 0.001 {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    };
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A large count with an SI prefix (k, M, G, T): `1.23 M`.
pub fn si(x: f64) -> String {
    let a = x.abs();
    let (v, p) = if a >= 1e12 {
        (x / 1e12, " T")
    } else if a >= 1e9 {
        (x / 1e9, " G")
    } else if a >= 1e6 {
        (x / 1e6, " M")
    } else if a >= 1e3 {
        (x / 1e3, " k")
    } else {
        (x, " ")
    };
    format!("{}{p}", num((v * 100.0).round() / 100.0))
        .trim_end()
        .to_string()
}

/// Write `summary`'s page to `OUT/report.html` (atomically); its path.
pub fn write_html(out: &Path, summary: &Summary) -> Result<std::path::PathBuf, ReportError> {
    let path = out.join(REPORT_HTML);
    crate::outdir::write_atomic(&path, super::html::render(summary).as_bytes()).map_err(|err| {
        ReportError::Write {
            path: path.clone(),
            err,
        }
    })?;
    Ok(path)
}
