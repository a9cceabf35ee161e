//! Folding: how much parallelism each engine gets.
//!
//! A [`Fold`] gives an engine's PE (output lanes) and SIMD (input lanes). The cycle model is
//! FINN's: a matrix-vector layer takes `(mh/pe) * (mw/simd)` cycles a frame; a thresholding
//! layer `elems/pe`; a label-select layer `max(labels/pe, k)`. A pipeline runs at the rate of its
//! slowest engine.
//!
//! Architecture invariant: folding never changes values; `golden` never reads a plan.

use crate::ir::{Layer, Model};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// Parallelism of one engine. For Thresholding and LabelSelect only `pe` is used
/// (elements per beat) and `simd` is 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    pub pe: usize,
    pub simd: usize,
}

/// One fold per layer, in layer order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldPlan {
    pub folds: Vec<Fold>,
    /// How the plan was made, for the report and the CLI ("from f.json", "auto: ...").
    pub how: String,
}

/// The JSON a user writes for `--folding`: `{"layers": {"fc0": {"pe": 16, "simd": 49}}}`.
/// Layers it does not name are folded automatically.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoldingFile {
    pub layers: BTreeMap<String, Fold>,
    /// Optional target for the layers not named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_cycles: Option<u64>,
}

#[derive(Debug, Error)]
pub enum FoldError {
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error(
        "{path}: not a folding file ({{\"layers\": {{\"<layer>\": {{\"pe\": P, \"simd\": S}}}}}}): {err}"
    )]
    Json {
        path: String,
        err: serde_json::Error,
    },
    #[error("folding names layer `{layer}`, which the model does not have (layers: {known})")]
    UnknownLayer { layer: String, known: String },
    #[error("layer `{layer}`: {why}")]
    Illegal { layer: String, why: String },
}

impl FoldingFile {
    /// Read a folding file.
    pub fn load(path: &Path) -> Result<FoldingFile, FoldError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| FoldError::Io {
            path: p.clone(),
            err,
        })?;
        serde_json::from_str(&text).map_err(|err| FoldError::Json { path: p, err })
    }
}

impl Fold {
    pub const fn new(pe: usize, simd: usize) -> Fold {
        Fold { pe, simd }
    }
}

/// Input elements an engine takes per beat under `fold`.
pub fn in_lanes(layer: &Layer, fold: Fold) -> usize {
    match layer {
        Layer::MatrixVector(_) => fold.simd,
        Layer::Thresholding(_) | Layer::LabelSelect(_) => fold.pe,
    }
}

/// Output elements an engine gives per beat under `fold`.
pub fn out_lanes(layer: &Layer, fold: Fold) -> usize {
    match layer {
        Layer::MatrixVector(_) | Layer::Thresholding(_) => fold.pe,
        Layer::LabelSelect(_) => 1,
    }
}

/// Cycles one frame takes in the engine, in steady state.
pub fn exp_cycles(layer: &Layer, fold: Fold) -> u64 {
    match layer {
        Layer::MatrixVector(l) => ((l.mh / fold.pe) * (l.mw / fold.simd)) as u64,
        Layer::Thresholding(l) => (l.elems / fold.pe) as u64,
        // reads `labels/pe` beats, then sends k indices, one a beat, overlapped with the
        // next frame's reading
        Layer::LabelSelect(l) => ((l.labels / fold.pe).max(l.k)) as u64,
    }
}

/// Check that `fold` is legal for `layer`; the error says what would be.
pub fn check(layer: &Layer, fold: Fold) -> Result<(), FoldError> {
    let bad = |why: String| {
        Err(FoldError::Illegal {
            layer: layer.name().to_string(),
            why,
        })
    };
    if fold.pe == 0 || fold.simd == 0 {
        return bad("PE and SIMD must be at least 1".into());
    }
    match layer {
        Layer::MatrixVector(l) => {
            if l.mh % fold.pe != 0 {
                return bad(format!(
                    "PE {} does not divide MH {}; legal PE: {:?}",
                    fold.pe,
                    l.mh,
                    divisors(l.mh)
                ));
            }
            if l.mw % fold.simd != 0 {
                return bad(format!(
                    "SIMD {} does not divide MW {}; legal SIMD: {:?}",
                    fold.simd,
                    l.mw,
                    divisors(l.mw)
                ));
            }
        }
        Layer::Thresholding(l) => {
            if l.channels % fold.pe != 0 {
                return bad(format!(
                    "PE {} does not divide the {} channels; legal PE: {:?}",
                    fold.pe,
                    l.channels,
                    divisors(l.channels)
                ));
            }
            if fold.simd != 1 {
                return bad(format!(
                    "a Thresholding engine has no SIMD; set simd to 1, not {}",
                    fold.simd
                ));
            }
        }
        Layer::LabelSelect(l) => {
            if l.labels % fold.pe != 0 {
                return bad(format!(
                    "PE {} does not divide the {} labels; legal PE: {:?}",
                    fold.pe,
                    l.labels,
                    divisors(l.labels)
                ));
            }
            if fold.simd != 1 {
                return bad(format!(
                    "a LabelSelect engine has no SIMD; set simd to 1, not {}",
                    fold.simd
                ));
            }
        }
    }
    Ok(())
}

/// Divisors of `n`, ascending.
pub fn divisors(n: usize) -> Vec<usize> {
    (1..=n).filter(|&d| n.is_multiple_of(d)).collect()
}

/// The cheapest legal fold (fewest lanes, then more SIMD than PE) that meets `target`
/// cycles a frame, or the fastest fold if none does.
pub fn fold_for_target(layer: &Layer, target: u64) -> Fold {
    let (pes, simds) = match layer {
        Layer::MatrixVector(l) => (divisors(l.mh), divisors(l.mw)),
        Layer::Thresholding(l) => (divisors(l.channels), vec![1]),
        Layer::LabelSelect(l) => (divisors(l.labels), vec![1]),
    };
    let mut best: Option<(usize, usize, Fold)> = None;
    let mut fastest = Fold::new(*pes.last().unwrap(), *simds.last().unwrap());
    for &pe in &pes {
        for &simd in &simds {
            let f = Fold::new(pe, simd);
            if exp_cycles(layer, f) < exp_cycles(layer, fastest) {
                fastest = f;
            }
            if exp_cycles(layer, f) <= target {
                let key = (pe * simd, pe, f);
                if best.is_none_or(|b| (key.0, key.1) < (b.0, b.1)) {
                    best = Some(key);
                }
            }
        }
    }
    best.map_or(fastest, |b| b.2)
}

/// Lanes the default plan gives the largest layer.
pub const DEFAULT_LANES: u64 = 256;

/// Default target: the largest layer gets about [`DEFAULT_LANES`] multiply-accumulate
/// lanes, and every other layer is folded to keep pace with it (a balanced pipeline).
pub fn default_target(model: &Model) -> u64 {
    let work = |l: &Layer| match l {
        Layer::MatrixVector(m) => (m.mw * m.mh) as u64,
        Layer::Thresholding(t) => t.elems as u64,
        Layer::LabelSelect(s) => s.labels as u64,
    };
    let biggest = model.layers.iter().map(work).max().unwrap_or(1);
    biggest.div_ceil(DEFAULT_LANES).max(1)
}

/// Fold every layer to meet `target` cycles a frame (the default target when `None`).
pub fn auto(model: &Model, target: Option<u64>) -> FoldPlan {
    let t = target.unwrap_or_else(|| default_target(model));
    let folds = model.layers.iter().map(|l| fold_for_target(l, t)).collect();
    let how = match target {
        Some(_) => format!("auto: cheapest folds meeting {t} cycles a frame"),
        None => format!(
            "auto: cheapest folds meeting {t} cycles a frame (default target: largest layer gets ~{DEFAULT_LANES} lanes); \
             pass --folding FILE or --target-cycles N to choose"
        ),
    };
    FoldPlan { folds, how }
}

impl FoldPlan {
    /// Apply a folding file over an automatic plan, checking every entry.
    pub fn from_file(
        model: &Model,
        file: &FoldingFile,
        label: &str,
    ) -> Result<FoldPlan, FoldError> {
        let known: Vec<&str> = model.layers.iter().map(Layer::name).collect();
        if let Some(unknown) = file.layers.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(FoldError::UnknownLayer {
                layer: unknown.clone(),
                known: known.join(", "),
            });
        }
        let mut plan = auto(model, file.target_cycles);
        for (i, l) in model.layers.iter().enumerate() {
            if let Some(f) = file.layers.get(l.name()) {
                plan.folds[i] = *f;
            }
        }
        plan.how = if file.layers.len() == model.layers.len() {
            format!("from {label}")
        } else {
            format!("from {label}; layers it does not name: {}", plan.how)
        };
        plan.check(model)?;
        Ok(plan)
    }

    pub fn load(model: &Model, path: &Path) -> Result<FoldPlan, FoldError> {
        FoldPlan::from_file(
            model,
            &FoldingFile::load(path)?,
            &path.display().to_string(),
        )
    }

    pub fn check(&self, model: &Model) -> Result<(), FoldError> {
        assert_eq!(
            self.folds.len(),
            model.layers.len(),
            "a plan has one fold per layer"
        );
        model
            .layers
            .iter()
            .zip(&self.folds)
            .try_for_each(|(l, f)| check(l, *f))
    }

    /// Expected cycles a frame of the whole pipeline: its slowest engine.
    pub fn exp_cycles_per_frame(&self, model: &Model) -> u64 {
        model
            .layers
            .iter()
            .zip(&self.folds)
            .map(|(l, f)| exp_cycles(l, *f))
            .max()
            .unwrap_or(0)
    }

    pub fn to_file(&self, model: &Model) -> FoldingFile {
        FoldingFile {
            layers: model
                .layers
                .iter()
                .zip(&self.folds)
                .map(|(l, f)| (l.name().to_string(), *f))
                .collect(),
            target_cycles: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DataType, MatrixVector};

    fn mv(mw: usize, mh: usize) -> Layer {
        Layer::MatrixVector(MatrixVector {
            name: "fc".into(),
            mw,
            mh,
            input_type: DataType::Bipolar,
            weight_type: DataType::Bipolar,
            weights: vec![1; mw * mh],
            thresholds: None,
            origin: None,
        })
    }

    #[test]
    fn cycles_and_legality() {
        let l = mv(784, 64);
        assert_eq!(exp_cycles(&l, Fold::new(16, 49)), 4 * 16);
        assert!(check(&l, Fold::new(16, 49)).is_ok());
        let e = check(&l, Fold::new(3, 49)).unwrap_err().to_string();
        assert!(
            e.contains("PE 3 does not divide MH 64") && e.contains("fc"),
            "{e}"
        );
    }

    #[test]
    fn label_select_sends_k_indices() {
        let l = Layer::LabelSelect(crate::ir::LabelSelect {
            name: "top".into(),
            labels: 8,
            k: 3,
            input_type: DataType::Int(8),
            origin: None,
        });
        assert_eq!(exp_cycles(&l, Fold::new(1, 1)), 8);
        assert_eq!(exp_cycles(&l, Fold::new(8, 1)), 3);
    }

    #[test]
    fn target_is_met_cheaply() {
        let l = mv(784, 64);
        let f = fold_for_target(&l, 64);
        assert!(exp_cycles(&l, f) <= 64);
        // 784*64/64 = 784 lanes is the minimum; 16x49 is one of the exact ones.
        assert_eq!(f.pe * f.simd, 784);
        // Unreachable target: fastest fold.
        assert_eq!(fold_for_target(&l, 0), Fold::new(64, 784));
    }
}
