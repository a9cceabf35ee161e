//! The comparisons a report shows: the co-simulation's (`OUT/cosim.json`, read leniently:
//! only the fields the report shows) and the golden model's against a QONNX reference
//! (`OUT/golden.json`, written by `ferrite golden --expected R.npy --comparison FILE`).

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of the golden comparison file.
pub const COMPARISON_VERSION: u32 = 1;

/// What `ferrite golden --expected R.npy --comparison FILE` writes: the golden model's
/// outputs against a reference's (for example qonnx's `execute_onnx`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldenComparison {
    pub comparison_version: u32,
    /// File names (without folders) of the model, the inputs and the reference outputs.
    pub model: String,
    pub input: String,
    pub reference: String,
    pub frames: usize,
    /// Integer outputs (compared exactly) or float ones (compared by top-1).
    pub integer: bool,
    /// Frames whose top-1 class agrees with the reference's.
    pub top1_agree: usize,
    /// Float outputs: the largest absolute difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub largest_difference: Option<f64>,
    /// Integer outputs: how many differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integers_differ: Option<usize>,
    /// Whether agreement was required (not with `--input-type`, which only approximates
    /// a float reference).
    pub required: bool,
    /// Whether the comparison passed.
    pub agrees: bool,
    /// `--labels`: labelled frames and how many the golden model classifies right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labelled: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct: Option<usize>,
}

impl GoldenComparison {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a comparison serialises");
        s.push('\n');
        s
    }
}

/// One differing output element of a co-simulation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosimMismatch {
    pub frame: usize,
    pub element: usize,
    pub expected: i64,
    pub got: i64,
}

/// The first diverging node of a traced co-simulation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosimDivergence {
    pub index: usize,
    pub node: String,
    pub port: usize,
    pub frame: usize,
    pub element: usize,
    pub expected: i64,
    pub got: i64,
}

/// A node's co-simulated figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CosimNode {
    pub name: String,
    pub cycles_per_frame_expected: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycles_per_frame_measured: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatches: Option<usize>,
}

/// What the report shows of `OUT/cosim.json` (its wall-clock timings are left out: they
/// differ from run to run).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CosimSummary {
    pub frames: usize,
    pub mismatches: usize,
    pub first_mismatches: Vec<CosimMismatch>,
    pub cycles_per_frame_measured: f64,
    pub cycles_per_frame_expected: u64,
    pub latency_cycles: u64,
    pub stall: f64,
    pub seed: u64,
    pub trace: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_divergence: Option<CosimDivergence>,
    pub nodes: Vec<CosimNode>,
}

impl CosimSummary {
    pub fn passed(&self) -> bool {
        self.mismatches == 0 && self.first_divergence.is_none()
    }
}

/// Read a JSON file if it exists: `Ok(None)` when it does not, the reason when it cannot
/// be read or does not parse.
pub fn read_optional<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| e.to_string())
}
