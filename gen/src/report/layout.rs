//! Places the design graph for the report's diagram: one row a topological depth (the
//! longest path from the top's input), branches side by side in columns.
//!
//! Columns follow the streams: a node's first consumer stays in its column, every other
//! consumer of a fan-out (a Duplicate's further ports) opens the lowest free column, and a
//! join (an Add) goes to the lowest column of its producers, freeing the others. Within a
//! row two nodes never share a column (the later one moves right), so boxes never overlap.
//! An edge runs down its producer's column to just above its consumer's row, then to the
//! consumer.

use super::NodeReport;
use crate::stitch::{Design, End, Role};
use std::collections::BTreeSet;

/// Width of a box and of a column, in pixels.
pub const BOX_W: f64 = 270.0;
pub const COL_W: f64 = 300.0;
/// Height of one text line in a box, the box's padding and the gap between rows.
pub const LINE_H: f64 = 14.0;
pub const PAD: f64 = 6.0;
pub const ROW_GAP: f64 = 26.0;
/// Characters of a line that fit a box (monospace 11 px).
pub const LINE_CHARS: usize = 40;

/// What a box stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoxKind {
    /// The top's input or output stream.
    Port,
    Engine,
    Fifo,
    Converter,
}

/// One placed box: its text lines (raw; the renderer escapes them).
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    /// Design node name (`input`/`output` for the top's ports).
    pub name: String,
    pub kind: BoxKind,
    /// The pipeline's slowest engine.
    pub bottleneck: bool,
    pub row: usize,
    pub col: usize,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub lines: Vec<String>,
}

/// The placed graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub boxes: Vec<Placed>,
    /// Each edge as a polyline (the last point is the consumer's top).
    pub edges: Vec<Vec<(f64, f64)>>,
    pub width: f64,
    pub height: f64,
}

/// `s` cut to `n` characters (an ellipsis marks the cut).
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn shape(s: [usize; 3]) -> String {
    format!("{}x{}x{}", s[0], s[1], s[2])
}

fn lines_of(n: &crate::stitch::HwNode, r: Option<&NodeReport>) -> (BoxKind, Vec<String>) {
    match (&n.role, r) {
        (Role::Engine { .. }, Some(r)) => {
            let mut types = format!("{} -> {}", r.input_type, r.output_type);
            if let Some(w) = &r.weight_type {
                types.push_str(&format!(", w {w}"));
            }
            (
                BoxKind::Engine,
                vec![
                    format!("{} {}", r.index, r.name),
                    format!("{} ({})", r.kind, r.datapath),
                    format!("{} -> {}", shape(r.in_shape), shape(r.out_shape)),
                    types,
                    format!("PE {} x SIMD {}, {} cycles", r.pe, r.simd, r.exp_cycles),
                ],
            )
        }
        (Role::Engine { node, kind, .. }, None) => {
            (BoxKind::Engine, vec![node.clone(), kind.clone()])
        }
        (Role::Fifo { depth, width, .. }, _) => (
            BoxKind::Fifo,
            vec![format!("FIFO {depth} x {width} bits"), n.name.clone()],
        ),
        (
            Role::Converter {
                elem_bits,
                in_lanes,
                out_lanes,
            },
            _,
        ) => (
            BoxKind::Converter,
            vec![
                format!("width converter {in_lanes} -> {out_lanes} lanes x {elem_bits} bits"),
                n.name.clone(),
            ],
        ),
    }
}

/// Lay out `design`, whose engines `nodes` reports.
pub fn layout(design: &Design, nodes: &[NodeReport]) -> Layout {
    let n = design.nodes.len();
    // 0: the top's input, 1..=n: the design's nodes, n + 1: the top's output
    let (input, output) = (0, n + 1);
    let index = |e: &End, source: bool| -> Option<usize> {
        match e {
            End::Top => Some(if source { input } else { output }),
            End::Node { node, .. } => design
                .nodes
                .iter()
                .position(|x| &x.name == node)
                .map(|i| i + 1),
        }
    };
    let mut succ: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n + 2]; // (port, consumer)
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n + 2];
    for e in &design.edges {
        let (Some(a), Some(b)) = (index(&e.from, true), index(&e.to, false)) else {
            continue;
        };
        let port = match &e.from {
            End::Node { port, .. } => *port,
            End::Top => 0,
        };
        succ[a].push((port, b));
        preds[b].push(a);
    }
    for s in &mut succ {
        s.sort();
    }
    // topological order (Kahn, lowest index first), depth = longest path from the input
    let mut indeg: Vec<usize> = preds.iter().map(Vec::len).collect();
    let mut ready: BTreeSet<usize> = (0..n + 2).filter(|&i| indeg[i] == 0).collect();
    let mut order = Vec::with_capacity(n + 2);
    while let Some(u) = ready.pop_first() {
        order.push(u);
        for &(_, v) in &succ[u] {
            indeg[v] -= 1;
            if indeg[v] == 0 {
                ready.insert(v);
            }
        }
    }
    // nodes on a cycle (none in a valid design) go last, in index order
    for i in 0..n + 2 {
        if !order.contains(&i) {
            order.push(i);
        }
    }
    let mut depth = vec![0usize; n + 2];
    for &u in &order {
        for &(_, v) in &succ[u] {
            depth[v] = depth[v].max(depth[u] + 1);
        }
    }
    // columns
    let mut col: Vec<Option<usize>> = vec![None; n + 2];
    let mut open: BTreeSet<usize> = BTreeSet::new();
    for &u in &order {
        let c = *col[u].get_or_insert(0);
        open.insert(c);
        for (k, &(_, v)) in succ[u].iter().enumerate() {
            let cand = if k == 0 {
                c
            } else {
                let free = (0..).find(|x| !open.contains(x)).expect("a free column");
                open.insert(free);
                free
            };
            col[v] = Some(match col[v] {
                None => cand,
                Some(x) => {
                    let (lo, hi) = (x.min(cand), x.max(cand));
                    if hi != lo {
                        open.remove(&hi);
                    }
                    lo
                }
            });
        }
        if succ[u].is_empty() && c != 0 {
            open.remove(&c);
        }
    }
    // one box a (row, column)
    let rows = depth.iter().copied().max().unwrap_or(0) + 1;
    let mut by_row: Vec<Vec<usize>> = vec![Vec::new(); rows];
    for &u in &order {
        by_row[depth[u]].push(u);
    }
    let mut final_col = vec![0usize; n + 2];
    for row in &mut by_row {
        row.sort_by_key(|&u| (col[u].unwrap_or(0), order.iter().position(|&x| x == u)));
        let mut used = BTreeSet::new();
        for &u in row.iter() {
            let mut c = col[u].unwrap_or(0);
            while used.contains(&c) {
                c += 1;
            }
            used.insert(c);
            final_col[u] = c;
        }
    }
    // boxes
    let mut kinds = Vec::with_capacity(n + 2);
    for u in 0..n + 2 {
        let (kind, lines, name, bottleneck) = if u == input {
            (
                BoxKind::Port,
                vec![format!(
                    "input: {} lanes x {}",
                    design.input.lanes, design.input.elem_type
                )],
                "input".to_string(),
                false,
            )
        } else if u == output {
            (
                BoxKind::Port,
                vec![format!(
                    "output: {} lanes x {}",
                    design.output.lanes, design.output.elem_type
                )],
                "output".to_string(),
                false,
            )
        } else {
            let hw = &design.nodes[u - 1];
            let r = match &hw.role {
                Role::Engine { node, .. } => nodes.iter().find(|r| &r.name == node),
                _ => None,
            };
            let (k, l) = lines_of(hw, r);
            let bottleneck =
                matches!(&hw.role, Role::Engine { node, .. } if *node == design.bottleneck);
            (k, l, hw.name.clone(), bottleneck)
        };
        let lines: Vec<String> = lines.iter().map(|l| clip(l, LINE_CHARS)).collect();
        kinds.push((kind, lines, name, bottleneck));
    }
    let mut row_h = vec![0f64; rows];
    for u in 0..n + 2 {
        let h = kinds[u].1.len() as f64 * LINE_H + 2.0 * PAD;
        row_h[depth[u]] = row_h[depth[u]].max(h);
    }
    let mut row_y = vec![10f64; rows];
    for r in 1..rows {
        row_y[r] = row_y[r - 1] + row_h[r - 1] + ROW_GAP;
    }
    let cols = final_col.iter().copied().max().unwrap_or(0) + 1;
    let mut boxes = Vec::with_capacity(n + 2);
    for (u, (kind, lines, name, bottleneck)) in kinds.into_iter().enumerate() {
        let h = lines.len() as f64 * LINE_H + 2.0 * PAD;
        let r = depth[u];
        boxes.push(Placed {
            name,
            kind,
            bottleneck,
            row: r,
            col: final_col[u],
            x: 10.0 + final_col[u] as f64 * COL_W + (COL_W - BOX_W) / 2.0,
            y: row_y[r] + (row_h[r] - h) / 2.0,
            w: BOX_W,
            h,
            lines,
        });
    }
    let mut edges = Vec::new();
    for (u, s) in succ.iter().enumerate() {
        for &(_, v) in s {
            let (a, b) = (&boxes[u], &boxes[v]);
            let (xs, ys) = (a.x + a.w / 2.0, a.y + a.h);
            let (xt, yt) = (b.x + b.w / 2.0, b.y);
            let mut pts = vec![(xs, ys)];
            if b.row > a.row + 1 || xs != xt {
                pts.push((xs, row_y[b.row] - ROW_GAP / 2.0));
            }
            pts.push((xt, yt));
            edges.push(pts);
        }
    }
    Layout {
        boxes,
        edges,
        width: 20.0 + cols as f64 * COL_W,
        height: row_y[rows - 1] + row_h[rows - 1] + 10.0,
    }
}

impl Layout {
    /// Whether two boxes overlap (never, by construction; the tests check it).
    pub fn overlapping(&self) -> Option<(&str, &str)> {
        for (i, a) in self.boxes.iter().enumerate() {
            for b in &self.boxes[i + 1..] {
                if a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h {
                    return Some((&a.name, &b.name));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::node_reports;
    use std::path::Path;

    fn example(name: &str) -> (Design, Vec<NodeReport>) {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(name)
            .join("model.onnx");
        let model = crate::load_model(&p).expect("the example loads");
        let plan = crate::fold::auto(&model, None).expect("it folds");
        let design = crate::stitch::stitch(&model, &plan).expect("it stitches");
        let nodes = node_reports(&model, &design);
        (design, nodes)
    }

    /// Every design node has a box, no two boxes overlap, every edge ends on its
    /// consumer's top and starts at its producer's bottom, and branches sit side by side.
    fn check(name: &str) -> Layout {
        let (design, nodes) = example(name);
        let l = layout(&design, &nodes);
        assert_eq!(l.boxes.len(), design.nodes.len() + 2, "{name}");
        assert_eq!(l.overlapping(), None, "{name}: overlapping boxes");
        assert_eq!(l.edges.len(), design.edges.len(), "{name}");
        for e in &l.edges {
            let (x0, y0) = e[0];
            let (x1, y1) = *e.last().unwrap();
            assert!(
                l.boxes
                    .iter()
                    .any(|b| b.y + b.h == y0 && b.x + b.w / 2.0 == x0),
                "{name}: an edge starts off a box"
            );
            assert!(
                l.boxes.iter().any(|b| b.y == y1 && b.x + b.w / 2.0 == x1),
                "{name}: an edge ends off a box"
            );
            assert!(
                e.windows(2).all(|w| w[1].1 >= w[0].1),
                "{name}: edges run down"
            );
        }
        for b in &l.boxes {
            assert!(
                b.x >= 0.0 && b.x + b.w <= l.width && b.y + b.h <= l.height,
                "{name}"
            );
            assert!(b.lines.iter().all(|s| s.chars().count() <= LINE_CHARS));
        }
        let bottlenecks: Vec<_> = l.boxes.iter().filter(|b| b.bottleneck).collect();
        assert_eq!(bottlenecks.len(), 1, "{name}");
        assert_eq!(bottlenecks[0].name, design.bottleneck);
        l
    }

    #[test]
    fn resnet_boxes_do_not_overlap_and_branches_are_side_by_side() {
        let l = check("resnet_w4a4");
        // the residual blocks' shortcuts run in a second column beside the main path
        assert!(l.boxes.iter().any(|b| b.col == 1), "no branch column");
        assert!(l.boxes.iter().all(|b| b.col <= 1));
        // the input first, the output last
        assert_eq!(l.boxes[0].row, 0);
        let last = l.boxes.last().unwrap();
        assert!(l.boxes.iter().all(|b| b.row <= last.row));
    }

    /// Inception: a Duplicate into a 1x1 and a 3x3 branch rejoined by a Concat.
    #[test]
    fn inception_branches_side_by_side() {
        let l = check("inception_w4a4");
        assert!(
            l.boxes.iter().any(|b| b.col == 1),
            "branches not side by side"
        );
    }

    #[test]
    fn chains_are_one_column() {
        for name in ["mlp_w1a1", "cnv_w2a2", "mobilenet_w4a4"] {
            let l = check(name);
            assert!(l.boxes.iter().all(|b| b.col == 0), "{name}");
        }
    }

    #[test]
    fn clip_marks_the_cut() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
