//! Remove operations that do not change values: `Identity`, `Round` of integers, `Mul`/`Div` by constants that
//! are all one (and do not broadcast the shape), and a `Div` by `s` undoing a `Mul` by the
//! same scalar `s` on an integer tensor (`(q * s) / s == q` exactly in `f32` for
//! `|q| < 2^23`).

use super::PassError;
use crate::import::graph::{Graph, Op};

pub const NAME: &str = "remove-identities";

pub fn run(g: &mut Graph) -> Result<bool, PassError> {
    for i in 0..g.nodes.len() {
        let n = &g.nodes[i];
        let out = n.outputs[0].clone();
        let same_shape =
            |a: &str| g.shapes.contains_key(a) && g.shapes.get(a) == g.shapes.get(&out);
        let replacement: Option<String> = match &n.op {
            Op::Identity => Some(n.inputs[0].clone()),
            Op::Round if g.qinfo.get(&n.inputs[0]).is_some_and(|q| q.is_plain_int()) => {
                Some(n.inputs[0].clone())
            }
            Op::Mul | Op::Div => {
                let (x, k) = (&n.inputs[0], &n.inputs[1]);
                let ones = g
                    .consts
                    .get(k)
                    .is_some_and(|t| t.to_f32().iter().all(|&v| v == 1.0));
                if ones && !g.is_const(x) && same_shape(x) {
                    Some(x.clone())
                } else if n.op == Op::Div {
                    // Div(Mul(q, s), s) -> q
                    match g.producer(x).map(|p| &g.nodes[p]) {
                        Some(p)
                            if p.op == Op::Mul
                                && g.fan_out(x) == 1
                                && g.consts.get(&p.inputs[1]).is_some_and(|s| s.len() == 1)
                                && g.consts.get(&p.inputs[1]).map(|s| s.to_f32())
                                    == g.consts.get(k).map(|s| s.to_f32())
                                && g.qinfo.get(&p.inputs[0]).is_some_and(|q| q.is_plain_int())
                                && same_shape(&p.inputs[0]) =>
                        {
                            Some(p.inputs[0].clone())
                        }
                        _ => None,
                    }
                } else {
                    None
                }
            }
            _ => None,
        };
        let Some(src) = replacement else { continue };
        if g.outputs.contains(&out)
            && (src == g.input || g.is_const(&src) || g.outputs.contains(&src))
        {
            continue;
        }
        g.nodes.remove(i);
        for nd in &mut g.nodes {
            for inp in &mut nd.inputs {
                if *inp == out {
                    *inp = src.clone();
                }
            }
        }
        for o in &mut g.outputs {
            if *o == out {
                *o = src.clone();
            }
        }
        return Ok(true);
    }
    Ok(false)
}
