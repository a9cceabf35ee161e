//! Remove operations that do not change values: `Identity`, `Round` of integers, `Mul`/`Div` by constants that
//! are all one (and do not broadcast the shape), and a `Div` by `s` undoing a `Mul` by the
//! same scalar `s` on an integer tensor (`(q * s) / s == q` exactly in `f32` for
//! `|q| < 2^23`).
//!
//! One sweep in graph order removes every such node: a removed node's output is renamed to
//! its source in every later reader (a map resolved as it is built, so a chain of any
//! length costs one look-up a reader), and the graph outputs are renamed at the end.

use super::PassError;
use crate::import::graph::{Edits, Graph, Op};
use std::collections::{HashMap, HashSet};

pub const NAME: &str = "remove-identities";

pub fn run(g: &mut Graph) -> Result<bool, PassError> {
    let index = g.index();
    // removed tensor -> the tensor that replaces it (already resolved)
    let mut sub: HashMap<String, String> = HashMap::new();
    // the graph outputs as renamed so far
    let mut outputs: HashSet<String> = g.outputs.iter().cloned().collect();
    let mut edits = Edits::default();
    for i in 0..g.nodes.len() {
        for inp in &mut g.nodes[i].inputs {
            if let Some(s) = sub.get(inp.as_str()) {
                *inp = s.clone();
            }
        }
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
                    // Div(Mul(q, s), s) -> q (the Mul's inputs were renamed already: it
                    // comes first)
                    match index.producer(x).map(|p| &g.nodes[p]) {
                        Some(p)
                            if p.op == Op::Mul
                                && index.fan_out(x) == 1
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
        if outputs.contains(&out) {
            if src == g.input || g.is_const(&src) || outputs.contains(&src) {
                continue;
            }
            outputs.remove(&out);
            outputs.insert(src.clone());
        }
        edits.remove(i);
        sub.insert(out, src);
    }
    if edits.is_empty() {
        return Ok(false);
    }
    for o in &mut g.outputs {
        if let Some(s) = sub.get(o.as_str()) {
            *o = s.clone();
        }
    }
    g.apply(edits);
    Ok(true)
}
