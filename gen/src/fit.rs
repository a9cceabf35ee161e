//! Folding to a budget or a rate: `ferrite build --fit` and `--target-fps`.
//!
//! The pipeline runs at the rate of its slowest engine, so a plan is a cycle budget `T` a
//! frame plus, for every node, a fold meeting `T`. For a fixed `T` the nodes are
//! independent: the cheapest plan takes, node by node, the cheapest legal fold meeting `T`.
//! "Cheapest" weighs the four resources ([`crate::estimate::Cost`]) by the share of the
//! budget each uses; when the stitched design (engines, FIFOs and converters) overflows one
//! resource, its weight is raised and the nodes re-chosen (a Lagrangian search over the
//! weights: exact for one binding resource, near-exact for several). Across `T`, only the
//! cycle counts some legal fold gives are candidates, and `--fit` bisects them for the
//! fastest that fits; `--target-fps` takes the `T` its rate needs at the clock.
//!
//! Data flows one way: this module reads the model, the engines' folds and estimates, and
//! stitches candidate plans to count their FIFOs and converters; it writes a [`FoldPlan`].

use crate::boards::Family;
use crate::engines::engine;
use crate::estimate::{self, Cost, KINDS};
use crate::fold::{self, Fold, FoldError, FoldPlan, MAX_LANES};
use crate::ir::{Analysis, Model};
use crate::stitch;
use std::collections::BTreeMap;
use thiserror::Error;

/// What to fold for.
#[derive(Clone, Debug, PartialEq)]
pub struct FitGoal {
    pub family: Family,
    /// Resources the design may take (a board's share); `None`: no limit.
    pub budget: Option<Cost>,
    /// Cycles a frame to meet; `None`: the fastest that fits the budget.
    pub target_cycles: Option<u64>,
    /// For messages: the budget's name ("80 % of pynq-z1") and the clock in MHz.
    pub budget_name: String,
    pub clock_mhz: f64,
}

impl FitGoal {
    /// Whether `f` fits the budget (always, without one).
    pub fn admits(&self, f: &Fitted) -> bool {
        self.budget.is_none_or(|b| f.cost.fits(&b))
    }
}

/// Errors of folding to a budget or a rate.
#[derive(Debug, Error)]
pub enum FitError {
    #[error(transparent)]
    Fold(#[from] FoldError),
    #[error("cannot stitch a candidate plan: {0}")]
    Stitch(String),
    #[error(
        "{} is faster than the model can go: its slowest node `{node}` takes at least {floor} \
         cycles a frame at its fastest fold ({fps} frames/s at {clock} MHz)",
        if *target == 0 { "the target rate needs less than one cycle a frame, which".to_string() }
        else { format!("{target} cycles a frame") }
    )]
    TooFast {
        target: u64,
        floor: u64,
        node: String,
        fps: String,
        clock: String,
    },
    #[error("the design does not fit {budget} even at its slowest folding: {over}")]
    NeverFits { budget: String, over: String },
    #[error(
        "{target} cycles a frame does not fit {budget}: {over}; the fastest folding that fits \
         takes {best} cycles a frame ({fps} frames/s at {clock} MHz)"
    )]
    TargetDoesNotFit {
        target: u64,
        budget: String,
        over: String,
        best: u64,
        fps: String,
        clock: String,
    },
}

/// One legal fold of a node with its cycles and estimate.
#[derive(Clone, Copy, Debug)]
struct Choice {
    fold: Fold,
    cycles: u64,
    cost: Cost,
}

/// A candidate plan and what it costs, FIFOs and converters included.
#[derive(Clone, Debug)]
pub struct Fitted {
    pub plan: FoldPlan,
    pub cycles: u64,
    pub cost: Cost,
    /// PE x SIMD summed over the nodes: the tie-break between plans of equal estimate.
    pub lanes: usize,
}

/// The folds of every node of `model` (the ones in `fixed` kept as they are), their cycles
/// and estimates: Pareto-pruned, ascending in cycles.
fn choices(
    model: &Model,
    a: &Analysis,
    family: Family,
    fixed: &BTreeMap<String, Fold>,
) -> Result<Vec<Vec<Choice>>, FoldError> {
    let mut all = Vec::new();
    for (id, n) in model.nodes.iter().enumerate() {
        let e = engine(&n.op);
        let ins = &a.in_types[id];
        let mut cs = Vec::new();
        let mut push = |f: Fold| {
            cs.push(Choice {
                fold: f,
                cycles: e.exp_cycles(ins, f),
                cost: e.cost(ins, f, family),
            })
        };
        if let Some(&f) = fixed.get(&n.name) {
            fold::check(model, a, id, f)?;
            push(f);
        } else {
            let (pes, simds) = e.fold_space(ins);
            for &pe in pes.iter().filter(|&&p| p <= MAX_LANES) {
                for &simd in simds.iter().filter(|&&s| s <= MAX_LANES) {
                    let f = Fold::new(pe, simd);
                    if e.fold_check(ins, f).is_ok() {
                        push(f);
                    }
                }
            }
        }
        // drop folds another fold beats on cycles, lanes and every resource
        let lanes = |c: &Choice| c.fold.pe * c.fold.simd;
        let dominated = |c: &Choice, by: &Choice| {
            e.lanes(by.fold) == e.lanes(c.fold)
                && by.cycles <= c.cycles
                && lanes(by) <= lanes(c)
                && by
                    .cost
                    .figures()
                    .iter()
                    .zip(c.cost.figures())
                    .all(|(b, c)| *b <= c)
                && (by.cycles, by.cost.figures(), lanes(by), by.fold.pe)
                    < (c.cycles, c.cost.figures(), lanes(c), c.fold.pe)
        };
        let kept: Vec<Choice> = cs
            .iter()
            .filter(|c| !cs.iter().any(|b| dominated(c, b)))
            .copied()
            .collect();
        let mut kept = kept;
        kept.sort_by_key(|c| (c.cycles, lanes(c), c.fold.pe));
        all.push(kept);
    }
    Ok(all)
}

/// What `over` says: every resource over the budget, by how much.
pub fn overrun(cost: &Cost, budget: &Cost) -> String {
    let parts: Vec<String> = KINDS
        .iter()
        .zip(cost.figures().iter().zip(budget.figures()))
        .filter(|(_, (c, b))| **c > *b)
        .map(|(k, (c, b))| {
            let pct = if b == 0 {
                "none available".to_string()
            } else {
                format!("{:.0} % over", (*c - b) as f64 * 100.0 / b as f64)
            };
            format!("{k} {c} of {b} ({} more, {pct})", *c - b)
        })
        .collect();
    parts.join(", ")
}

/// Fitting by synthesis (`ferrite build --fit --by-synthesis`): after a design fitted to
/// `budget` (in estimated units) was measured at `measured` against the board's `limit`
/// (its share), the budget of the next round, or `None` when the measurement is within the
/// limit. Each resource synthesis put over its limit gets its budget scaled by
/// `limit / measured` (the estimate's error on this design, taken as proportional), and
/// at least one unit lower; the others keep theirs.
pub fn next_budget(budget: &Cost, limit: &Cost, measured: &Cost) -> Option<Cost> {
    if measured.fits(limit) {
        return None;
    }
    let scale = |b: u64, l: u64, m: u64| -> u64 {
        if m <= l {
            b
        } else {
            let s = (b as f64 * l as f64 / m as f64).floor() as u64;
            s.min(b.saturating_sub(1))
        }
    };
    Some(Cost {
        lut: scale(budget.lut, limit.lut, measured.lut),
        ff: scale(budget.ff, limit.ff, measured.ff),
        bram: scale(budget.bram, limit.bram, measured.bram),
        dsp: scale(budget.dsp, limit.dsp, measured.dsp),
    })
}

fn fps(clock_mhz: f64, cycles: u64) -> String {
    let f = clock_mhz * 1e6 / cycles.max(1) as f64;
    if f >= 1e6 {
        format!("{:.2} M", f / 1e6)
    } else if f >= 1e3 {
        format!("{:.1} k", f / 1e3)
    } else {
        format!("{f:.1}")
    }
}

/// Cycles a frame that a rate of `fps` frames a second needs at `clock_mhz` (0 when even
/// one cycle a frame is too slow).
pub fn cycles_for_fps(clock_mhz: f64, fps: f64) -> u64 {
    ((clock_mhz * 1e6) / fps).floor().min(u64::MAX as f64) as u64
}

/// Per input port, the producer node and its choice a node's choice was costed with.
type Producers = Vec<Option<(usize, usize)>>;

struct Search<'a> {
    model: &'a Model,
    analysis: Analysis,
    goal: &'a FitGoal,
    choices: Vec<Vec<Choice>>,
    names: Vec<String>,
    cache: BTreeMap<(u64, bool), Fitted>,
    /// Stitched plans by their folds.
    plans: BTreeMap<Vec<(usize, usize)>, Fitted>,
    stitches: usize,
}

impl Search<'_> {
    /// The cheapest plan meeting `t` (the one that fits the budget, if weights can make one
    /// fit), stitched and costed.
    fn at(&mut self, t: u64, refine: bool) -> Result<Fitted, FitError> {
        if let Some(f) = self.cache.get(&(t, refine)) {
            return Ok(f.clone());
        }
        let scale: [f64; 4] = match &self.goal.budget {
            Some(b) => b.figures().map(|v| v.max(1) as f64),
            None => [1.0; 4],
        };
        let mut weights = [1.0f64; 4];
        let mut best: Option<Fitted> = None;
        let budget = self.goal.budget;
        let goal = self.goal;
        let fits = |f: &Fitted| goal.admits(f);
        for _round in 0..6 {
            let picks = self.along_streams(t, &weights, &scale);
            let fitted = if refine {
                self.improve(picks, t, &weights, &scale)?
            } else {
                self.cost(&picks)?
            };
            let better = match &best {
                None => true,
                Some(b) => {
                    (fits(&fitted) && !fits(b))
                        || (fits(&fitted) == fits(b)
                            && penalised(&fitted, &weights, &scale, budget.as_ref())
                                < penalised(b, &weights, &scale, budget.as_ref()))
                }
            };
            if better {
                best = Some(fitted.clone());
            }
            let Some(budget) = &budget else {
                break;
            };
            if fits(&fitted) {
                break;
            }
            // raise the weight of every resource over the budget, by how far over it is
            let mut raised = false;
            for (k, (c, b)) in fitted
                .cost
                .figures()
                .iter()
                .zip(budget.figures())
                .enumerate()
            {
                if *c > b {
                    weights[k] *= 4.0 * (*c as f64 / b.max(1) as f64);
                    raised = true;
                }
            }
            if !raised {
                break;
            }
        }
        let best = best.expect("at least one round runs");
        self.cache.insert((t, refine), best.clone());
        Ok(best)
    }

    /// The cheapest choice a node meeting `t`, counting the width converters between
    /// neighbours (a dynamic programme in stream order: exact on chains; where a stream fans
    /// out, the first consumer decides its producer).
    fn along_streams(&self, t: u64, weights: &[f64; 4], scale: &[f64; 4]) -> Vec<Choice> {
        let m = self.model;
        let a = &self.analysis;
        let score = |c: &Cost| -> f64 {
            c.figures()
                .iter()
                .zip(weights.iter().zip(scale))
                .map(|(&v, (w, s))| w * v as f64 / s)
                .sum()
        };
        let n = m.nodes.len();
        let allowed: Vec<Vec<Choice>> = self
            .choices
            .iter()
            .map(|cs| {
                let v: Vec<Choice> = cs.iter().filter(|c| c.cycles <= t).copied().collect();
                if v.is_empty() { vec![cs[0]] } else { v }
            })
            .collect();
        // to[i][k]: cheapest cost up to node i with i at choice k; from[i][k][port]: the
        // producer's choice that gives it
        let mut to: Vec<Vec<f64>> = vec![Vec::new(); n];
        let mut from: Vec<Vec<Producers>> = vec![Vec::new(); n];
        for &i in &a.order {
            let e = engine(&m.nodes[i].op);
            for c in &allowed[i] {
                let (in_lanes, _) = e.lanes(c.fold);
                // fewer lanes break ties (and stand in for what an estimate does not count)
                let mut total = score(&c.cost) + 1e-6 * (c.fold.pe * c.fold.simd) as f64;
                let mut srcs = Vec::new();
                for (p, src) in m.nodes[i].inputs.iter().enumerate() {
                    let crate::ir::Source::Node { node, port } = src else {
                        srcs.push(None);
                        continue;
                    };
                    let j = a.by_name[node];
                    let pe = engine(&m.nodes[j].op);
                    let bits = a.out_types[j][*port].dtype.bits();
                    let want = in_lanes.get(p).copied().unwrap_or(1);
                    let (k, v) = allowed[j]
                        .iter()
                        .enumerate()
                        .map(|(k, pc)| {
                            let have = pe.lanes(pc.fold).1.get(*port).copied().unwrap_or(1);
                            let conv = if have == want {
                                0.0
                            } else {
                                score(&estimate::converter(self.goal.family, bits, have, want))
                            };
                            (k, to[j][k] + conv)
                        })
                        .min_by(|x, y| x.1.total_cmp(&y.1))
                        .expect("every node has a choice");
                    total += v;
                    srcs.push(Some((j, k)));
                }
                to[i].push(total);
                from[i].push(srcs);
            }
        }
        // from the sinks back: the cheapest end, then the producers it chose
        let mut chosen: Vec<Option<usize>> = vec![None; n];
        for &i in a.order.iter().rev() {
            if chosen[i].is_none() {
                let k = (0..to[i].len())
                    .min_by(|&x, &y| to[i][x].total_cmp(&to[i][y]))
                    .expect("every node has a choice");
                chosen[i] = Some(k);
            }
            let k = chosen[i].expect("set above");
            for (j, kj) in from[i][k].iter().flatten() {
                if chosen[*j].is_none() {
                    chosen[*j] = Some(*kj);
                }
            }
        }
        (0..n)
            .map(|i| allowed[i][chosen[i].expect("every node chosen")])
            .collect()
    }

    /// Node by node, swap in another fold meeting `t` while the stitched design (FIFOs and
    /// converters included, which the per-node choice cannot see) gets cheaper; a few
    /// passes, with a bounded number of stitches on large graphs.
    fn improve(
        &mut self,
        mut picks: Vec<Choice>,
        t: u64,
        weights: &[f64; 4],
        scale: &[f64; 4],
    ) -> Result<Fitted, FitError> {
        let budget = self.goal.budget;
        let start = self.stitches;
        let mut cur = self.cost(&picks)?;
        let mut cur_score = penalised(&cur, weights, scale, budget.as_ref());
        for _pass in 0..3 {
            let mut changed = false;
            for i in 0..picks.len() {
                let alts: Vec<Choice> = self.choices[i]
                    .iter()
                    .filter(|c| c.cycles <= t && c.fold != picks[i].fold)
                    .copied()
                    .collect();
                for alt in alts {
                    if self.stitches >= MAX_STITCHES || self.stitches >= start + MAX_STITCHES / 4 {
                        return Ok(cur);
                    }
                    let keep = picks[i];
                    picks[i] = alt;
                    let f = self.cost(&picks)?;
                    let score = penalised(&f, weights, scale, budget.as_ref());
                    if score + 1e-9 < cur_score {
                        cur = f;
                        cur_score = score;
                        changed = true;
                    } else {
                        picks[i] = keep;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        Ok(cur)
    }

    /// Stitch the plan of `picks` and estimate it whole.
    fn cost(&mut self, picks: &[Choice]) -> Result<Fitted, FitError> {
        let key: Vec<(usize, usize)> = picks.iter().map(|c| (c.fold.pe, c.fold.simd)).collect();
        if let Some(f) = self.plans.get(&key) {
            return Ok(f.clone());
        }
        self.stitches += 1;
        let mut plan = FoldPlan::from_folds(
            self.names.iter().cloned().zip(picks.iter().map(|c| c.fold)),
            "",
        );
        plan.family = self.goal.family;
        let design =
            stitch::stitch(self.model, &plan).map_err(|e| FitError::Stitch(e.to_string()))?;
        let cost = estimate::design_cost(self.model, &design, self.goal.family).total;
        let f = Fitted {
            plan,
            cycles: design.exp_cycles_per_frame,
            cost,
            lanes: picks.iter().map(|c| c.fold.pe * c.fold.simd).sum(),
        };
        self.plans.insert(key, f.clone());
        Ok(f)
    }
}

/// Stitches one search may make (each runs the FIFO analysis); past it the node-by-node
/// improvement stops and the per-node choice stands.
const MAX_STITCHES: usize = 400;

/// A plan's weighted cost, with every resource over the budget counted 1000-fold (and its
/// lanes as the tie-break).
fn penalised(f: &Fitted, weights: &[f64; 4], scale: &[f64; 4], budget: Option<&Cost>) -> f64 {
    let c = &f.cost;
    let mut s = 1e-6 * f.lanes as f64;
    for (k, &v) in c.figures().iter().enumerate() {
        s += weights[k] * v as f64 / scale[k];
        if let Some(b) = budget {
            let lim = b.figures()[k];
            if v > lim {
                s += 1000.0 * (v - lim) as f64 / scale[k];
            }
        }
    }
    s
}

/// Fold `model` for `goal`, keeping the folds of `fixed` (nodes a folding file names).
pub fn fit(
    model: &Model,
    goal: &FitGoal,
    fixed: &BTreeMap<String, Fold>,
) -> Result<Fitted, FitError> {
    let a = model.analyze().map_err(FoldError::from)?;
    let choices = choices(model, &a, goal.family, fixed)?;
    let names: Vec<String> = model.nodes.iter().map(|n| n.name.clone()).collect();
    // the fastest any plan can go: the slowest node at its fastest fold
    let (floor, floor_node) = choices
        .iter()
        .zip(&names)
        .map(|(cs, n)| (cs[0].cycles, n.clone()))
        .max_by_key(|(c, _)| *c)
        .unwrap_or((1, String::new()));
    let mut candidates: Vec<u64> = choices
        .iter()
        .flatten()
        .map(|c| c.cycles)
        .filter(|&c| c >= floor)
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    let mut s = Search {
        model,
        analysis: a,
        goal,
        choices,
        names,
        cache: BTreeMap::new(),
        plans: BTreeMap::new(),
        stitches: 0,
    };
    let clock = format!("{}", goal.clock_mhz);
    let fits = |f: &Fitted| goal.admits(f);
    let label = |f: Fitted, how: String| Fitted {
        plan: FoldPlan { how, ..f.plan },
        ..f
    };
    let budget_name = &goal.budget_name;
    if let Some(t) = goal.target_cycles {
        if t < floor {
            return Err(FitError::TooFast {
                target: t,
                floor,
                node: floor_node,
                fps: fps(goal.clock_mhz, floor),
                clock,
            });
        }
        let at = s.at(t, true)?;
        if fits(&at) {
            let how = format!(
                "fit: cheapest folds meeting {t} cycles a frame{}",
                if goal.budget.is_some() {
                    format!(" within {budget_name}")
                } else {
                    String::new()
                }
            );
            return Ok(label(at, how));
        }
        let budget = goal.budget.expect("only a budget can be missed");
        let over = overrun(&at.cost, &budget);
        let best = fastest_fitting(&mut s, &candidates, budget_name)?;
        return Err(FitError::TargetDoesNotFit {
            target: t,
            budget: budget_name.clone(),
            over,
            best: best.cycles,
            fps: fps(goal.clock_mhz, best.cycles),
            clock,
        });
    }
    let best = fastest_fitting(&mut s, &candidates, budget_name)?;
    let how = format!(
        "fit: the fastest folding within {budget_name}: {} cycles a frame ({} frames/s at {} MHz)",
        best.cycles,
        fps(goal.clock_mhz, best.cycles),
        goal.clock_mhz
    );
    Ok(label(best, how))
}

/// The fastest candidate cycle count whose cheapest plan fits: bisection over the sorted
/// candidates (a slower target never needs more of any resource but for FIFOs, which the
/// final check counts).
fn fastest_fitting(
    s: &mut Search,
    candidates: &[u64],
    budget_name: &str,
) -> Result<Fitted, FitError> {
    let fits = |f: &Fitted| s.goal.admits(f);
    let last = *candidates.last().expect("every node has a fold");
    let slowest = s.at(last, true)?;
    if !fits(&slowest) {
        let budget = s.goal.budget.expect("only a budget can be missed");
        return Err(FitError::NeverFits {
            budget: budget_name.to_string(),
            over: overrun(&slowest.cost, &budget),
        });
    }
    // bisect with the per-node choice alone (a few stitches a probe) ...
    let (mut lo, mut hi) = (0usize, candidates.len() - 1);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let f = s.at(candidates[mid], false)?;
        if s.goal.admits(&f) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    // ... then refine on the stitched design there, and step to faster candidates while
    // the refinement still fits
    let mut best = s.at(candidates[hi], true)?;
    if !s.goal.admits(&best) {
        best = s.at(candidates[hi], false)?;
    }
    for idx in (hi.saturating_sub(REFINE_STEPS)..hi).rev() {
        let f = s.at(candidates[idx], true)?;
        if !s.goal.admits(&f) {
            break;
        }
        best = f;
    }
    Ok(best)
}

/// Faster candidates the refinement tries past the bisection's answer.
const REFINE_STEPS: usize = 3;

#[cfg(test)]
mod tests;
