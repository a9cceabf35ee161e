//! FINN's folding config: `{"<node>": {"PE": 16, "SIMD": 3, "ram_style": ...}, "Defaults":
//! {"<key>": [value, ["<op type>", ...] or "all"]}}`. ferrite reads PE and SIMD and ignores
//! the other keys. FINN names nodes `<op type>_<n>` (the n-th node of that op type), so a
//! name the model does not have is matched to the n-th ferrite node of the same kind in
//! topological order.

use super::{FoldEntry, FoldingFile};
use crate::ir::{Analysis, Model};
use serde_json::{Map, Value};

/// A `Defaults` PE or SIMD: its value and the FINN op types it applies to (`None`: all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Default {
    pub key: Key,
    pub value: usize,
    pub op_types: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Pe,
    Simd,
}

/// FINN op types (without their `_hls`/`_rtl`/`_Batch` suffixes) and the FINN class each
/// names; `None` for FINN's infrastructure, which ferrite sizes itself. A FINN class is
/// what FINN's conversion makes of a node (see [`finn_class`]).
const OP_TYPES: &[(&str, Option<&str>)] = &[
    ("MVAU", Some("MVAU")),
    ("MatrixVectorActivation", Some("MVAU")),
    ("StreamingFCLayer", Some("MVAU")),
    ("Thresholding", Some("Thresholding")),
    ("LabelSelect", Some("LabelSelect")),
    (
        "ConvolutionInputGenerator",
        Some("ConvolutionInputGenerator"),
    ),
    (
        "ConvolutionInputGenerator1D",
        Some("ConvolutionInputGenerator"),
    ),
    ("FMPadding", Some("FMPadding")),
    ("FMPadding_Pixel", Some("FMPadding")),
    ("Pool", Some("Pool")),
    ("StreamingMaxPool", Some("StreamingMaxPool")),
    ("GlobalAccPool", Some("GlobalAccPool")),
    ("VVAU", Some("VVAU")),
    ("VectorVectorActivation", Some("VVAU")),
    ("AddStreams", Some("AddStreams")),
    ("DuplicateStreams", Some("DuplicateStreams")),
    ("StreamingFIFO", None),
    ("StreamingDataWidthConverter", None),
];

/// The FINN class of a FINN op type (suffixes stripped); `Some(None)`: infrastructure.
fn class_of_op_type(op_type: &str) -> Option<Option<&'static str>> {
    let mut t = op_type;
    for suffix in ["_hls", "_rtl", "_Batch"] {
        if let Some(s) = t.strip_suffix(suffix) {
            t = s;
        }
    }
    OP_TYPES.iter().find(|(n, _)| *n == t).map(|(_, k)| *k)
}

/// What FINN's conversion makes of node `id`: its class and so its numbering. A max pool
/// with kernel equal to stride is one StreamingMaxPool (its window generator is no FINN
/// node); other max pools and sum pools are a ConvolutionInputGenerator and a Pool; a
/// global sum pool is a GlobalAccPool.
pub(super) fn finn_class(model: &Model, a: &Analysis, id: usize) -> Option<&'static str> {
    use crate::ir::{Op, PoolMode};
    match &model.nodes[id].op {
        Op::MatrixVector(_) => Some("MVAU"),
        Op::Thresholding(_) => Some("Thresholding"),
        Op::LabelSelect(_) => Some("LabelSelect"),
        Op::Pad(_) => Some("FMPadding"),
        Op::SlidingWindow(w) => {
            let feeds_streaming_pool = a.consumers[id]
                .first()
                .and_then(|c| c.first())
                .is_some_and(|s| {
                    matches!(&model.nodes[s.node].op, Op::Pool(p) if p.mode == PoolMode::Max)
                        && w.kernel == w.stride
                        && w.dilation == [1, 1]
                });
            (!feeds_streaming_pool).then_some("ConvolutionInputGenerator")
        }
        Op::Duplicate(_) => Some("DuplicateStreams"),
        Op::Add(_) => Some("AddStreams"),
        Op::Concat(_) => Some("StreamingConcat"),
        Op::VectorVector(_) => Some("VVAU"),
        Op::Pool(p) => Some(if p.global {
            "GlobalAccPool"
        } else if p.mode == PoolMode::Max && window_of_pool(model, id).is_some_and(|w| {
            matches!(&model.nodes[w].op, Op::SlidingWindow(s) if s.kernel == s.stride && s.dilation == [1, 1])
        }) {
            "StreamingMaxPool"
        } else {
            "Pool"
        }),
    }
}

pub(super) fn parse(obj: &Map<String, Value>) -> Result<FoldingFile, String> {
    let mut f = FoldingFile {
        finn: true,
        ..FoldingFile::default()
    };
    for (name, v) in obj {
        let Some(entry) = v.as_object() else {
            return Err(format!("entry `{name}` is not an object"));
        };
        if name == "Defaults" {
            for (key, dv) in entry {
                let k = match key.as_str() {
                    "PE" => Key::Pe,
                    "SIMD" => Key::Simd,
                    _ => continue,
                };
                let (value, op_types) = match dv {
                    Value::Array(a) if a.len() == 2 => {
                        let types = match &a[1] {
                            Value::String(s) if s == "all" => None,
                            Value::Array(ts) => Some(
                                ts.iter()
                                    .map(|t| {
                                        t.as_str().map(str::to_string).ok_or_else(|| {
                                            format!("Defaults.{key}: op types must be strings")
                                        })
                                    })
                                    .collect::<Result<Vec<_>, _>>()?,
                            ),
                            _ => {
                                return Err(format!(
                                    "Defaults.{key}: expected [value, \"all\"] or [value, [op types]]"
                                ));
                            }
                        };
                        (&a[0], types)
                    }
                    other => (other, None),
                };
                f.defaults.push(Default {
                    key: k,
                    value: positive(value, &format!("Defaults.{key}"))?,
                    op_types,
                });
            }
            continue;
        }
        let mut e = FoldEntry::default();
        if let Some(v) = entry.get("PE") {
            e.pe = Some(positive(v, &format!("{name}.PE"))?);
        }
        if let Some(v) = entry.get("SIMD") {
            e.simd = Some(positive(v, &format!("{name}.SIMD"))?);
        }
        f.nodes.insert(name.clone(), e);
    }
    Ok(f)
}

fn positive(v: &Value, what: &str) -> Result<usize, String> {
    v.as_u64()
        .filter(|&n| n >= 1 && n <= u32::MAX as u64)
        .map(|n| n as usize)
        .ok_or_else(|| format!("{what} must be a positive integer, not {v}"))
}

pub(super) enum Resolved {
    Node(String),
    Infrastructure(&'static str),
    Unknown,
}

/// Match a FINN node name (`MVAU_hls_3`) to a ferrite node: the n-th node (topological
/// order) of the name's FINN class.
pub(super) fn resolve_name(name: &str, model: &Model, a: &Analysis) -> Resolved {
    let Some((op_type, n)) = name.rsplit_once('_') else {
        return Resolved::Unknown;
    };
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || (n.len() > 1 && n.starts_with('0'))
    {
        return Resolved::Unknown;
    }
    let Ok(n) = n.parse::<usize>() else {
        return Resolved::Unknown;
    };
    match class_of_op_type(op_type) {
        None => Resolved::Unknown,
        Some(None) => {
            Resolved::Infrastructure("ferrite inserts and sizes FIFOs and width converters")
        }
        // FINN pads a convolution in an FMPadding node before its window generator;
        // ferrite's window generator pads itself, so FINN's FMPadding nodes are the explicit
        // pads and the padded window generators, in graph order
        Some(Some("FMPadding")) => a
            .order
            .iter()
            .filter(|&&id| match &model.nodes[id].op {
                crate::ir::Op::Pad(_) => true,
                crate::ir::Op::SlidingWindow(w) => w.pad != [0; 4],
                _ => false,
            })
            .nth(n)
            .map_or(Resolved::Unknown, |&id| match &model.nodes[id].op {
                crate::ir::Op::SlidingWindow(_) => Resolved::Infrastructure(
                    "ferrite's window generator pads its input itself (its fold is the ConvolutionInputGenerator's)",
                ),
                _ => Resolved::Node(model.nodes[id].name.clone()),
            }),
        Some(Some(class)) => a
            .order
            .iter()
            .filter(|&&id| finn_class(model, a, id) == Some(class))
            .nth(n)
            .map_or(Resolved::Unknown, |&id| {
                Resolved::Node(model.nodes[id].name.clone())
            }),
    }
}

/// The window generator feeding pool node `id` (ferrite's max pool is a window generator
/// and a pool; FINN's is one StreamingMaxPool), if any.
pub(super) fn window_of_pool(model: &Model, id: usize) -> Option<usize> {
    let crate::ir::Source::Node { node, .. } = model.nodes[id].inputs.first()? else {
        return None;
    };
    let p = model.node_id(node)?;
    (model.nodes[p].kind() == "SlidingWindow").then_some(p)
}

/// The `Defaults` PE and SIMD for nodes of FINN class `class` (`None`: a node FINN has no
/// node for, which only defaults for all nodes reach).
pub(super) fn default_for(defaults: &[Default], class: Option<&str>) -> FoldEntry {
    let mut e = FoldEntry::default();
    for d in defaults {
        let applies = match &d.op_types {
            None => true,
            Some(ts) => ts
                .iter()
                .any(|t| class.is_some() && class_of_op_type(t) == Some(class)),
        };
        if applies {
            match d.key {
                Key::Pe => e.pe = Some(d.value),
                Key::Simd => e.simd = Some(d.value),
            }
        }
    }
    e
}
