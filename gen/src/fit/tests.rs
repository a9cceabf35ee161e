use super::*;
use crate::ir::DataType;
use crate::testing::{Rng, model, mv_layer};

/// A three-layer MLP small enough to enumerate every plan.
fn mlp() -> Model {
    let mut rng = Rng::new(7);
    let b = DataType::Bipolar;
    model(
        "fit",
        vec![
            mv_layer(&mut rng, "fc0", 24, 12, b, b, Some(b)),
            mv_layer(&mut rng, "fc1", 12, 8, b, b, Some(b)),
            mv_layer(&mut rng, "fc2", 8, 4, DataType::Bipolar, b, None),
        ],
    )
}

fn goal(budget: Option<Cost>, target: Option<u64>) -> FitGoal {
    FitGoal {
        family: Family::Xilinx7series,
        budget,
        target_cycles: target,
        budget_name: "the test budget".into(),
        clock_mhz: 100.0,
    }
}

/// Every legal plan of `m`: (bottleneck cycles, stitched cost).
fn every_plan(m: &Model) -> Vec<(u64, Cost, Vec<Fold>)> {
    let a = m.analyze().unwrap();
    let per: Vec<Vec<Fold>> = (0..m.nodes.len())
        .map(|id| {
            let e = engine(&m.nodes[id].op);
            let (pes, simds) = e.fold_space(&a.in_types[id]);
            let mut v = Vec::new();
            for &p in &pes {
                for &s in &simds {
                    let f = Fold::new(p, s);
                    if e.fold_check(&a.in_types[id], f).is_ok() {
                        v.push(f);
                    }
                }
            }
            v
        })
        .collect();
    let mut out = Vec::new();
    let mut idx = vec![0usize; per.len()];
    loop {
        let folds: Vec<Fold> = idx.iter().zip(&per).map(|(&i, v)| v[i]).collect();
        let mut plan = FoldPlan::from_folds(
            m.nodes
                .iter()
                .map(|n| n.name.clone())
                .zip(folds.iter().copied()),
            "",
        );
        plan.family = Family::Xilinx7series;
        let d = stitch::stitch(m, &plan).unwrap();
        let c = estimate::design_cost(m, &d, Family::Xilinx7series).total;
        out.push((d.exp_cycles_per_frame, c, folds));
        let mut k = 0;
        loop {
            if k == idx.len() {
                return out;
            }
            idx[k] += 1;
            if idx[k] < per[k].len() {
                break;
            }
            idx[k] = 0;
            k += 1;
        }
    }
}

#[test]
fn fit_finds_the_fastest_plan_within_the_budget_as_exhaustive_search_does() {
    let m = mlp();
    let all = every_plan(&m);
    assert!(all.len() > 100, "{} plans", all.len());
    // budgets between the smallest and the largest design, on LUT and FF together
    let lo = all.iter().map(|p| p.1.lut).min().unwrap();
    let hi = all.iter().map(|p| p.1.lut).max().unwrap();
    let flo = all.iter().map(|p| p.1.ff).min().unwrap();
    let fhi = all.iter().map(|p| p.1.ff).max().unwrap();
    assert!(
        hi > lo,
        "the estimate must tell folds apart ({lo}..{hi} LUT)"
    );
    for step in 0..=8u64 {
        let budget = Cost {
            lut: lo + (hi - lo) * step / 8,
            ff: flo + (fhi - flo) * step / 8,
            bram: 100,
            dsp: 100,
        };
        let best = all.iter().filter(|p| p.1.fits(&budget)).map(|p| p.0).min();
        let got = fit(&m, &goal(Some(budget), None), &BTreeMap::new());
        match (best, got) {
            (Some(b), Ok(f)) => {
                assert!(
                    f.cost.fits(&budget),
                    "step {step}: {:?} over {:?}",
                    f.cost,
                    budget
                );
                assert_eq!(
                    f.cycles, b,
                    "step {step}: fit found {} cycles, exhaustive search {b}",
                    f.cycles
                );
            }
            (None, Err(FitError::NeverFits { over, .. })) => {
                assert!(over.contains("LUT") || over.contains("FF"), "{over}");
            }
            (b, g) => panic!(
                "step {step}: exhaustive {b:?}, fit {:?}",
                g.map(|f| f.cycles)
            ),
        }
    }
}

#[test]
fn a_target_takes_the_cheapest_plan_meeting_it() {
    let m = mlp();
    let all = every_plan(&m);
    let mut targets: Vec<u64> = all.iter().map(|p| p.0).collect();
    targets.sort_unstable();
    targets.dedup();
    for &t in &targets {
        let f = fit(&m, &goal(None, Some(t)), &BTreeMap::new()).unwrap();
        assert!(f.cycles <= t, "target {t}: {} cycles", f.cycles);
        // no plan meeting t is cheaper on every resource at once
        let lutmin = all
            .iter()
            .filter(|p| p.0 <= t)
            .map(|p| p.1.lut + p.1.ff)
            .min()
            .unwrap();
        let got = f.cost.lut + f.cost.ff;
        assert!(
            got as f64 <= lutmin as f64 * 1.05 + 4.0,
            "target {t}: LUT+FF {got}, the cheapest plan meeting it has {lutmin}"
        );
    }
}

#[test]
fn impossible_goals_say_by_how_much() {
    let m = mlp();
    // faster than the fastest fold of the largest layer (24 x 12 at full parallelism is 1)
    let e = fit(&m, &goal(None, Some(0)), &BTreeMap::new()).unwrap_err();
    assert!(matches!(e, FitError::TooFast { floor: 1, .. }), "{e}");
    let tiny = Cost {
        lut: 3,
        ff: 1_000_000,
        bram: 0,
        dsp: 0,
    };
    let e = fit(&m, &goal(Some(tiny), None), &BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("does not fit the test budget even at its slowest folding"),
        "{e}"
    );
    assert!(
        e.contains("LUT") && e.contains("of 3 (") && e.contains("% over"),
        "{e}"
    );
    assert!(!e.contains("FF"), "FF fits: {e}");
    // a target that fits no budget names the best that does
    let all = every_plan(&m);
    let slowest = all.iter().map(|p| p.0).max().unwrap();
    let cheapest_at_slowest = all
        .iter()
        .filter(|p| p.0 == slowest)
        .map(|p| p.1.lut)
        .min()
        .unwrap();
    let budget = Cost {
        lut: cheapest_at_slowest + 2,
        ff: 1_000_000,
        bram: 100,
        dsp: 100,
    };
    let e = fit(&m, &goal(Some(budget), Some(1)), &BTreeMap::new()).unwrap_err();
    match &e {
        FitError::TargetDoesNotFit { best, over, .. } => {
            assert!(*best > 1 && over.contains("LUT"), "{e}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn fps_to_cycles() {
    assert_eq!(cycles_for_fps(100.0, 1_562_500.0), 64);
    assert_eq!(cycles_for_fps(100.0, 1_500_000.0), 66);
    assert_eq!(cycles_for_fps(100.0, 1e12), 0);
    assert_eq!(cycles_for_fps(100.0, 1e8), 1);
}

#[test]
fn by_synthesis_lowers_only_the_resources_measured_over() {
    let c = |lut, ff, bram, dsp| Cost { lut, ff, bram, dsp };
    let limit = c(1000, 2000, 20, 8);
    // within the limit everywhere: done
    assert_eq!(
        next_budget(&c(1000, 2000, 20, 8), &limit, &c(1000, 1500, 20, 0)),
        None
    );
    // LUT measured 25 % over: the LUT budget scaled by 1000/1250, the others kept
    assert_eq!(
        next_budget(&c(1000, 2000, 20, 8), &limit, &c(1250, 1500, 20, 0)),
        Some(c(800, 2000, 20, 8))
    );
    // a hair over still lowers the budget by at least one unit, so the rounds progress
    assert_eq!(
        next_budget(&c(900, 2000, 20, 8), &limit, &c(1000, 1500, 21, 0)),
        Some(c(900, 2000, 19, 8))
    );
}
