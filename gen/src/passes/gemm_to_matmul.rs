//! `Gemm(A, B, C)` with constant `B` becomes `MatMul(A, B')` (a `Transpose` of `B` when
//! `transB`, folded later), then `Mul(alpha)` and `Add(beta * C)` when present, the same
//! float operations in the same order as the Gemm computes them.

use super::PassError;
use crate::import::graph::{Edits, Graph, Names, Node, Op, Tensor};

pub const NAME: &str = "gemm-to-matmul";

pub fn run(g: &mut Graph) -> Result<bool, PassError> {
    if !g.nodes.iter().any(|n| matches!(n.op, Op::Gemm { .. })) {
        return Ok(false);
    }
    let mut names = g.names();
    let mut edits = Edits::default();
    for i in 0..g.nodes.len() {
        let n = &g.nodes[i];
        if matches!(n.op, Op::Gemm { trans_a: false, .. })
            && n.inputs.len() >= 2
            && g.is_const(&n.inputs[1])
        {
            let node = n.clone();
            let new = rewrite(g, &mut names, node)?;
            edits.replace(i, new);
        }
    }
    let changed = !edits.is_empty();
    g.apply(edits);
    Ok(changed)
}

/// The nodes replacing one Gemm.
fn rewrite(g: &mut Graph, names: &mut Names, node: Node) -> Result<Vec<Node>, PassError> {
    let Op::Gemm {
        alpha,
        beta,
        trans_b,
        ..
    } = node.op
    else {
        unreachable!()
    };
    let mut new = Vec::new();
    let mut b = node.inputs[1].clone();
    if trans_b {
        let t = names.fresh(&format!("{b}_t"));
        new.push(Node {
            name: format!("{}_transpose_b", node.name),
            op: Op::Transpose {
                perm: Some(vec![1, 0]),
            },
            inputs: vec![b.clone()],
            outputs: vec![t.clone()],
        });
        b = t;
    }
    let has_c = node.inputs.get(2).is_some_and(|c| !c.is_empty());
    let out = node.outputs[0].clone();
    let mut cur = names.fresh(&format!("{out}_matmul"));
    if alpha == 1.0 && !has_c {
        cur = out.clone();
    }
    new.push(Node {
        name: format!("{}_matmul", node.name),
        op: Op::MatMul,
        inputs: vec![node.inputs[0].clone(), b],
        outputs: vec![cur.clone()],
    });
    if alpha != 1.0 {
        let k = names.fresh(&format!("{}_alpha", node.name));
        g.consts.insert(k.clone(), Tensor::scalar(alpha));
        let o = if has_c {
            names.fresh(&format!("{out}_scaled"))
        } else {
            out.clone()
        };
        new.push(Node {
            name: format!("{}_alpha", node.name),
            op: Op::Mul,
            inputs: vec![cur, k],
            outputs: vec![o.clone()],
        });
        cur = o;
    }
    if has_c {
        let mut c = node.inputs[2].clone();
        if beta != 1.0 {
            let Some(ct) = g.consts.get(&c) else {
                return Err(PassError::invalid(
                    &node.name,
                    Some(&c),
                    "Gemm bias with beta != 1 must be constant",
                ));
            };
            let scaled = crate::import::exec::binary(ct, &Tensor::scalar(beta), |a, b| a * b)
                .map_err(|e| PassError::invalid(&node.name, Some(&c), e))?;
            let k = names.fresh(&format!("{c}_beta"));
            g.consts.insert(k.clone(), scaled);
            c = k;
        }
        new.push(Node {
            name: format!("{}_bias", node.name),
            op: Op::Add,
            inputs: vec![cur, c],
            outputs: vec![out],
        });
    }
    Ok(new)
}
