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

/// FINN op types (with and without their `_hls`/`_rtl`/`_Batch` suffixes) and the ferrite
/// kind each one is; `None` for FINN's infrastructure, which ferrite sizes itself.
const OP_TYPES: &[(&str, Option<&str>)] = &[
    ("MVAU", Some("MatrixVector")),
    ("MatrixVectorActivation", Some("MatrixVector")),
    ("StreamingFCLayer", Some("MatrixVector")),
    ("Thresholding", Some("Thresholding")),
    ("LabelSelect", Some("LabelSelect")),
    ("ConvolutionInputGenerator", Some("SlidingWindow")),
    ("ConvolutionInputGenerator1D", Some("SlidingWindow")),
    ("FMPadding", Some("Pad")),
    ("FMPadding_Pixel", Some("Pad")),
    ("Pool", Some("Pool")),
    ("StreamingMaxPool", Some("Pool")),
    ("MaxPoolNHWC", Some("Pool")),
    ("GlobalAccPool", Some("Pool")),
    ("VVAU", Some("VectorVector")),
    ("VectorVectorActivation", Some("VectorVector")),
    ("AddStreams", Some("Add")),
    ("DuplicateStreams", Some("Duplicate")),
    ("StreamingFIFO", None),
    ("StreamingDataWidthConverter", None),
];

/// The ferrite kind of a FINN op type (suffixes stripped); `Some(None)`: infrastructure.
fn kind_of(op_type: &str) -> Option<Option<&'static str>> {
    let mut t = op_type;
    for suffix in ["_hls", "_rtl", "_Batch"] {
        if let Some(s) = t.strip_suffix(suffix) {
            t = s;
        }
    }
    OP_TYPES.iter().find(|(n, _)| *n == t).map(|(_, k)| *k)
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

/// Match a FINN node name (`MVAU_hls_3`) to a ferrite node.
pub(super) fn resolve_name(name: &str, model: &Model, a: &Analysis) -> Resolved {
    let Some((op_type, n)) = name.rsplit_once('_') else {
        return Resolved::Unknown;
    };
    let Ok(n) = n.parse::<usize>() else {
        return Resolved::Unknown;
    };
    match kind_of(op_type) {
        None => Resolved::Unknown,
        Some(None) => {
            Resolved::Infrastructure("ferrite inserts and sizes FIFOs and width converters")
        }
        Some(Some(kind)) => a
            .order
            .iter()
            .filter(|&&id| model.nodes[id].kind() == kind && counts_as_finn(model, a, id))
            .nth(n)
            .map_or(Resolved::Unknown, |&id| {
                Resolved::Node(model.nodes[id].name.clone())
            }),
    }
}

/// Whether node `id` is a node FINN numbers under its kind's op type. FINN's max pools are
/// their own op (StreamingMaxPool), so a window generator feeding a pool is not one of
/// FINN's ConvolutionInputGenerators: only windows feeding a matrix-vector unit count.
fn counts_as_finn(model: &Model, a: &Analysis, id: usize) -> bool {
    if model.nodes[id].kind() != "SlidingWindow" {
        return true;
    }
    a.consumers[id]
        .first()
        .and_then(|c| c.first())
        .is_none_or(|s| model.nodes[s.node].kind() == "MatrixVector")
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

/// The `Defaults` PE and SIMD for nodes of ferrite kind `kind`.
pub(super) fn default_for(defaults: &[Default], kind: &str) -> FoldEntry {
    let mut e = FoldEntry::default();
    for d in defaults {
        let applies = match &d.op_types {
            None => true,
            Some(ts) => ts.iter().any(|t| kind_of(t) == Some(Some(kind))),
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
