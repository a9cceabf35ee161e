//! `ReduceMean` over a feature map's spatial axes (what the dynamo exporter writes for an
//! adaptive average pool to 1x1) is a `GlobalAveragePool` (`keepdims = 1`), or one
//! followed by a `Flatten` to `[N, C]` (`keepdims = 0`), so the pool's absorption and
//! lowering apply to it. The executor computes both with the same kernel, so the graph's
//! values do not change.

use super::PassError;
use crate::import::graph::{Edits, Graph, Node, Op};

pub const NAME: &str = "reduce-mean-to-pool";

pub fn run(g: &mut Graph) -> Result<bool, PassError> {
    if !g
        .nodes
        .iter()
        .any(|n| matches!(n.op, Op::ReduceMean { .. }))
    {
        return Ok(false);
    }
    // one sweep: fresh names from one set, the edits applied at once
    let mut names = g.names();
    let mut edits = Edits::default();
    for i in 0..g.nodes.len() {
        let Op::ReduceMean {
            axes,
            keepdims,
            noop,
        } = &g.nodes[i].op
        else {
            continue;
        };
        let n = &g.nodes[i];
        let axes = match (axes, n.inputs.get(1).filter(|t| !t.is_empty())) {
            (Some(a), _) => a.clone(),
            (None, Some(t)) => match g.consts.get(t).and_then(|c| c.to_i64()) {
                Some(a) => a,
                None => continue,
            },
            (None, None) => Vec::new(),
        };
        let Some(shape) = g.shapes.get(&n.inputs[0]) else {
            continue;
        };
        let r = shape.len() as i64;
        if r < 3 || (axes.is_empty() && *noop) {
            continue;
        }
        let mut red: Vec<i64> = axes
            .iter()
            .map(|&a| if a < 0 { a + r } else { a })
            .collect();
        red.sort_unstable();
        red.dedup();
        if red != (2..r).collect::<Vec<i64>>() {
            continue;
        }
        let keep = *keepdims;
        let (name, x, out) = (n.name.clone(), n.inputs[0].clone(), n.outputs[0].clone());
        let pool_out = if keep {
            out.clone()
        } else {
            names.fresh(&format!("{out}_pooled"))
        };
        let mut new = vec![Node {
            name: name.clone(),
            op: Op::AveragePool {
                global: true,
                kernel: Vec::new(),
                strides: Vec::new(),
                pads: Vec::new(),
                ceil_mode: false,
                auto_pad: "NOTSET".into(),
            },
            inputs: vec![x],
            outputs: vec![pool_out.clone()],
        }];
        if !keep {
            new.push(Node {
                name: format!("{name}_flatten"),
                op: Op::Flatten { axis: 1 },
                inputs: vec![pool_out],
                outputs: vec![out],
            });
        }
        edits.replace(i, new);
    }
    let changed = !edits.is_empty();
    g.apply(edits);
    Ok(changed)
}
