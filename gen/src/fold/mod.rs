//! Folding: how much parallelism each engine gets.
//!
//! A [`Fold`] gives an engine's PE (output lanes) and SIMD (input lanes); a [`FoldPlan`]
//! gives one a node, keyed by node name. What PE and SIMD mean for a kind, which values are
//! legal and how many cycles a frame they give is the kind's business
//! ([`crate::engines::Engine`]); this module checks plans, makes them automatically to a
//! cycle target, and reads folding files: ferrite's own (`{"nodes": {"fc0": {"pe": 16,
//! "simd": 49}}}`, or `"layers"` as version 1 wrote it) and FINN's folding config (an object
//! keyed by node name, entries with `PE`, `SIMD` and other keys, which ferrite ignores, and
//! an optional `Defaults` entry). A pipeline runs at the rate of its slowest engine.
//!
//! Architecture invariant: folding never changes values; `golden` never reads a plan.

mod finn;

use crate::boards::Family;
use crate::engines::engine;
use crate::ir::{Analysis, Model, NodeId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// Parallelism of one engine. Kinds with one kind of lane use one of the two and keep the
/// other at 1 (Thresholding and LabelSelect use `pe`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fold {
    pub pe: usize,
    pub simd: usize,
}

impl Fold {
    pub const fn new(pe: usize, simd: usize) -> Fold {
        Fold { pe, simd }
    }
}

/// One fold a node, keyed by node name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldPlan {
    pub folds: BTreeMap<String, Fold>,
    /// How the plan was made, for the report and the CLI ("from f.json", "auto: ...").
    pub how: String,
    /// The FPGA family the design is built for: what memory placement and the resource
    /// estimates follow (Xilinx 7-series unless a board says otherwise).
    pub family: Family,
}

/// A folding file: the folds it names (by node name) and an optional target for the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldingFile {
    /// Folds by node name (FINN names already resolved to ferrite's nodes by
    /// [`FoldingFile::resolve`]).
    pub nodes: BTreeMap<String, FoldEntry>,
    /// Optional target for the nodes not named.
    pub target_cycles: Option<u64>,
    /// FINN's `Defaults` PE/SIMD, per FINN op type (`"all"` for every node).
    pub defaults: Vec<finn::Default>,
    /// Entries ignored, with why (FINN FIFOs and width converters, which ferrite sizes).
    pub ignored: Vec<String>,
    /// Written in FINN's format.
    pub finn: bool,
    /// The FPGA family ferrite's own file records (a plan made for a board).
    pub family: Option<Family>,
}

/// One entry of a folding file: PE and SIMD, either may be absent (1 or the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FoldEntry {
    pub pe: Option<usize>,
    pub simd: Option<usize>,
}

/// ferrite's own folding file, as written to `OUT/folding.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnFile {
    #[serde(default, alias = "layers")]
    nodes: BTreeMap<String, Fold>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_cycles: Option<u64>,
    /// The FPGA family the plan was made for (absent: Xilinx 7-series).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    family: Option<Family>,
}

impl OwnFile {
    fn check(&self) -> Result<(), String> {
        if self.target_cycles == Some(0) {
            return Err("target_cycles must be at least 1".into());
        }
        Ok(())
    }
}

#[derive(Debug, Error)]
pub enum FoldError {
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error(
        "{path}: not a folding file (ferrite's {{\"nodes\": {{\"<node>\": {{\"pe\": P, \"simd\": S}}}}}} \
         or FINN's {{\"<node>\": {{\"PE\": P, \"SIMD\": S}}}}): {why}"
    )]
    Format { path: String, why: String },
    #[error("folding names node `{node}`, which the model does not have (nodes: {known})")]
    UnknownNode { node: String, known: String },
    #[error("node `{node}`: {why}")]
    Illegal { node: String, why: String },
    #[error("invalid model: {0}")]
    Model(#[from] crate::ir::IrError),
}

impl FoldingFile {
    /// Read a folding file (ferrite's or FINN's format).
    pub fn load(path: &Path) -> Result<FoldingFile, FoldError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| FoldError::Io {
            path: p.clone(),
            err,
        })?;
        FoldingFile::parse(&text).map_err(|why| FoldError::Format { path: p, why })
    }

    /// Parse either format.
    pub fn parse(text: &str) -> Result<FoldingFile, String> {
        crate::ir::json::unique_keys(text).map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let obj = v
            .as_object()
            .ok_or_else(|| "the file is not a JSON object".to_string())?;
        let own = obj.is_empty()
            || obj.contains_key("nodes")
            || obj.contains_key("layers")
            || (obj.len() == 1 && obj.contains_key("target_cycles"));
        if own {
            let f: OwnFile = serde_json::from_value(v).map_err(|e| e.to_string())?;
            f.check()?;
            Ok(FoldingFile {
                nodes: f
                    .nodes
                    .into_iter()
                    .map(|(k, f)| {
                        (
                            k,
                            FoldEntry {
                                pe: Some(f.pe),
                                simd: Some(f.simd),
                            },
                        )
                    })
                    .collect(),
                target_cycles: f.target_cycles,
                family: f.family,
                ..FoldingFile::default()
            })
        } else {
            finn::parse(obj)
        }
    }

    /// Map FINN-style names (`MVAU_hls_3`: the fourth matrix-vector node) onto the model's
    /// node names. Names the model has are kept as they are.
    pub fn resolve(&mut self, model: &Model, a: &Analysis) -> Result<(), FoldError> {
        let mut out = BTreeMap::new();
        let mut from: BTreeMap<String, String> = BTreeMap::new();
        let mut put = |out: &mut BTreeMap<String, FoldEntry>, entry: String, node: String, e| {
            if let Some(other) = from.insert(node.clone(), entry.clone()) {
                return Err(FoldError::Illegal {
                    node,
                    why: format!(
                        "the folding file names it twice (`{other}` and `{entry}`); keep one entry"
                    ),
                });
            }
            out.insert(node, e);
            Ok(())
        };
        for (name, e) in std::mem::take(&mut self.nodes) {
            if model.node(&name).is_some() {
                put(&mut out, name.clone(), name, e)?;
                continue;
            }
            match finn::resolve_name(&name, model, a) {
                finn::Resolved::Node(n) => put(&mut out, name, n, e)?,
                finn::Resolved::Infrastructure(why) => self.ignored.push(format!("{name}: {why}")),
                finn::Resolved::Unknown => {
                    return Err(FoldError::UnknownNode {
                        node: name,
                        known: known_names(model),
                    });
                }
            }
        }
        self.nodes = out;
        Ok(())
    }
}

fn known_names(model: &Model) -> String {
    let v: Vec<&str> = model.nodes.iter().map(|n| n.name.as_str()).collect();
    v.join(", ")
}

/// Most PE (or SIMD) lanes an engine gets.
pub const MAX_LANES: usize = 4096;

/// Divisors of `n`, ascending (in O(sqrt n)).
pub fn divisors(n: usize) -> Vec<usize> {
    let mut lo = Vec::new();
    let mut hi = Vec::new();
    let mut d = 1usize;
    while d.checked_mul(d).is_some_and(|dd| dd <= n) {
        if n.is_multiple_of(d) {
            lo.push(d);
            if d != n / d {
                hi.push(n / d);
            }
        }
        d += 1;
    }
    lo.extend(hi.into_iter().rev());
    lo
}

/// Check that `fold` is legal for node `id`; the error says what would be.
pub fn check(model: &Model, a: &Analysis, id: NodeId, fold: Fold) -> Result<(), FoldError> {
    let node = &model.nodes[id];
    let e = engine(&node.op);
    let ins = &a.in_types[id];
    let bad = |why: String| {
        Err(FoldError::Illegal {
            node: node.name.clone(),
            why,
        })
    };
    if fold.pe == 0 || fold.simd == 0 {
        return bad("PE and SIMD must be at least 1".into());
    }
    if fold.pe > MAX_LANES || fold.simd > MAX_LANES {
        return bad(format!(
            "PE {} SIMD {}: at most {MAX_LANES} lanes each",
            fold.pe, fold.simd
        ));
    }
    let (pes, simds) = e.fold_space(ins);
    let (pe_of, simd_of) = e.fold_terms(ins);
    if !pes.contains(&fold.pe) {
        return bad(format!(
            "PE {} does not divide {pe_of}; legal PE: {pes:?}",
            fold.pe
        ));
    }
    if !simds.contains(&fold.simd) {
        return bad(match simd_of {
            Some(of) => format!(
                "SIMD {} does not divide {of}; legal SIMD: {simds:?}",
                fold.simd
            ),
            None => format!(
                "a {} engine has no SIMD; set simd to 1, not {}",
                node.kind(),
                fold.simd
            ),
        });
    }
    if let Err(why) = e.fold_check(ins, fold) {
        return bad(why);
    }
    Ok(())
}

/// Cycles one frame takes in node `id`'s engine under `fold`, in steady state.
pub fn exp_cycles(model: &Model, a: &Analysis, id: NodeId, fold: Fold) -> u64 {
    engine(&model.nodes[id].op).exp_cycles(&a.in_types[id], fold)
}

/// The cheapest legal fold of node `id` (fewest lanes, then more SIMD than PE) that meets
/// `target` cycles a frame, or the fastest fold if none does.
pub fn fold_for_target(model: &Model, a: &Analysis, id: NodeId, target: u64) -> Fold {
    let e = engine(&model.nodes[id].op);
    let ins = &a.in_types[id];
    let (mut pes, mut simds) = e.fold_space(ins);
    pes.retain(|&p| p <= MAX_LANES);
    simds.retain(|&s| s <= MAX_LANES);
    let cyc = |f: Fold| e.exp_cycles(ins, f);
    let mut best: Option<(usize, usize, Fold)> = None;
    // PE 1, SIMD 1 is legal for every kind; the loop finds faster legal folds
    let mut fastest = Fold::new(1, 1);
    for &pe in &pes {
        for &simd in &simds {
            let f = Fold::new(pe, simd);
            if e.fold_check(ins, f).is_err() {
                continue;
            }
            if cyc(f) < cyc(fastest) {
                fastest = f;
            }
            if cyc(f) <= target {
                let key = (pe * simd, pe, f);
                if best.is_none_or(|b| (key.0, key.1) < (b.0, b.1)) {
                    best = Some(key);
                }
            }
        }
    }
    best.map_or(fastest, |b| b.2)
}

/// Lanes the default plan gives the largest node.
pub const DEFAULT_LANES: u64 = 256;

/// Default target: the largest node gets about [`DEFAULT_LANES`] lanes, and every other
/// node is folded to keep pace with it (a balanced pipeline).
pub fn default_target(model: &Model, a: &Analysis) -> u64 {
    let biggest = model
        .nodes
        .iter()
        .enumerate()
        .map(|(id, n)| engine(&n.op).work(&a.in_types[id]))
        .max()
        .unwrap_or(1);
    biggest.div_ceil(DEFAULT_LANES).max(1)
}

/// Fold every node to meet `target` cycles a frame (the default target when `None`).
pub fn auto(model: &Model, target: Option<u64>) -> Result<FoldPlan, FoldError> {
    let a = model.analyze()?;
    Ok(auto_with(model, &a, target))
}

fn auto_with(model: &Model, a: &Analysis, target: Option<u64>) -> FoldPlan {
    let t = target.unwrap_or_else(|| default_target(model, a));
    let folds = model
        .nodes
        .iter()
        .enumerate()
        .map(|(id, n)| (n.name.clone(), fold_for_target(model, a, id, t)))
        .collect();
    let how = match target {
        Some(_) => format!("auto: cheapest folds meeting {t} cycles a frame"),
        None => format!(
            "auto: cheapest folds meeting {t} cycles a frame (default target: largest node gets ~{DEFAULT_LANES} lanes); \
             pass --folding FILE or --target-cycles N to choose"
        ),
    };
    FoldPlan {
        folds,
        how,
        family: Family::default(),
    }
}

impl FoldPlan {
    /// A plan from explicit folds, one a node (tests and tools).
    pub fn from_folds(folds: impl IntoIterator<Item = (String, Fold)>, how: &str) -> FoldPlan {
        FoldPlan {
            folds: folds.into_iter().collect(),
            how: how.to_string(),
            family: Family::default(),
        }
    }

    /// The fold of `node`. Panics if the plan has none (plans are checked against their
    /// model before use).
    pub fn fold(&self, node: &str) -> Fold {
        self.folds[node]
    }

    /// Apply a folding file over an automatic plan, checking every entry.
    pub fn from_file(
        model: &Model,
        file: &FoldingFile,
        label: &str,
    ) -> Result<FoldPlan, FoldError> {
        let a = model.analyze()?;
        let mut file = file.clone();
        file.resolve(model, &a)?;
        let mut plan = auto_with(model, &a, file.target_cycles);
        let mut named = 0;
        for (id, n) in model.nodes.iter().enumerate() {
            let entry = file.nodes.get(&n.name).copied();
            let d = finn::default_for(&file.defaults, finn::finn_class(model, &a, id));
            if entry.is_none() && d.pe.is_none() && d.simd.is_none() {
                continue;
            }
            named += 1;
            let e = entry.unwrap_or_default();
            let auto = plan.folds[&n.name];
            // a FINN entry with only one of PE/SIMD keeps the other at 1 (FINN's default)
            let one = if file.finn { Some(1) } else { None };
            let f = Fold::new(
                e.pe.or(d.pe).or(one).unwrap_or(auto.pe),
                e.simd.or(d.simd).or(one).unwrap_or(auto.simd),
            );
            // kinds without SIMD (or PE) take 1 whatever FINN's file says
            let (pes, simds) = engine(&n.op).fold_space(&a.in_types[id]);
            let f = Fold::new(
                if pes == [1] { 1 } else { f.pe },
                if simds == [1] { 1 } else { f.simd },
            );
            plan.folds.insert(n.name.clone(), f);
        }
        // A FINN max pool is one node: the window generator before a pool the file names
        // (and that the file does not name itself) streams at the pool's PE.
        for (id, n) in model.nodes.iter().enumerate() {
            if n.kind() != "Pool" || !file.nodes.contains_key(&n.name) {
                continue;
            }
            let Some(w) = finn::window_of_pool(model, id) else {
                continue;
            };
            let wname = &model.nodes[w].name;
            // only a window FINN has no node for (a StreamingMaxPool's), and the file does
            // not name by ferrite's name
            if file.nodes.contains_key(wname) || finn::finn_class(model, &a, w).is_some() {
                continue;
            }
            let pe = plan.folds[&n.name].pe;
            let (_, simds) = engine(&model.nodes[w].op).fold_space(&a.in_types[w]);
            if simds.contains(&pe) {
                plan.folds.insert(wname.clone(), Fold::new(1, pe));
                named += 1;
            }
        }
        let mut how = if named == model.nodes.len() {
            format!("from {label}")
        } else {
            // (without the hint to pass a folding file: this is one)
            let auto = plan
                .how
                .split("; pass --folding")
                .next()
                .unwrap_or_default()
                .to_string();
            format!("from {label}; nodes it does not name: {auto}")
        };
        if !file.ignored.is_empty() {
            how.push_str(&format!("; ignored: {}", file.ignored.join("; ")));
        }
        plan.how = how;
        if let Some(f) = file.family {
            plan.family = f;
        }
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

    /// Check that every node has a legal fold and the plan names no other node.
    pub fn check(&self, model: &Model) -> Result<(), FoldError> {
        let a = model.analyze()?;
        if let Some(k) = self.folds.keys().find(|k| model.node(k).is_none()) {
            return Err(FoldError::UnknownNode {
                node: k.clone(),
                known: known_names(model),
            });
        }
        for (id, n) in model.nodes.iter().enumerate() {
            let Some(f) = self.folds.get(&n.name) else {
                return Err(FoldError::Illegal {
                    node: n.name.clone(),
                    why: "the folding plan has no fold for it".into(),
                });
            };
            check(model, &a, id, *f)?;
        }
        Ok(())
    }

    /// Expected cycles a frame of the whole pipeline: its slowest engine.
    pub fn exp_cycles_per_frame(&self, model: &Model) -> u64 {
        let a = model.analyze().expect("a validated model");
        (0..model.nodes.len())
            .map(|id| exp_cycles(model, &a, id, self.folds[&model.nodes[id].name]))
            .max()
            .unwrap_or(0)
    }

    /// ferrite's folding file of this plan (`OUT/folding.json`).
    pub fn to_json(&self) -> String {
        let f = OwnFile {
            nodes: self.folds.clone(),
            target_cycles: None,
            family: (self.family != Family::default()).then_some(self.family),
        };
        let mut s = serde_json::to_string_pretty(&f).expect("a plan serialises");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests;
