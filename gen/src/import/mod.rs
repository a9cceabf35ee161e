//! QONNX import: ONNX protobuf bytes -> [`graph::Graph`].
//!
//! Reads ONNX IR versions 3..=10 with default-domain opsets 9..=21 and the QONNX custom-op
//! domains (`onnx.brevitas`, `finn.custom_op.general`, `qonnx.custom_op.general`).
//! Tensors may hold their data in `raw_data`, in the typed fields, or in external files
//! beside the model. Every node the importer does not know is gathered and reported in one
//! [`ImportError::Unsupported`]. Decoding never panics: malformed input is an error.
//!
//! Architecture invariant: `import` depends only on `ir` (datatypes and host-step
//! rounding modes).

pub mod exec;
pub mod graph;
#[allow(clippy::all, missing_docs, rustdoc::all)]
pub mod onnx;

use crate::ir::DataType;
use crate::ir::host::RoundingMode;
use graph::{Graph, Node, Op, Tensor};
use prost::Message;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// IR versions this importer reads.
pub const IR_VERSIONS: std::ops::RangeInclusive<i64> = 3..=10;
/// Default-domain opset versions this importer reads.
pub const OPSETS: std::ops::RangeInclusive<i64> = 9..=21;
/// Custom-op domains holding the QONNX operators.
pub const QONNX_DOMAINS: [&str; 3] = [
    "onnx.brevitas",
    "finn.custom_op.general",
    "qonnx.custom_op.general",
];

/// A node the importer or the hardware lowering cannot handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedNode {
    pub name: String,
    pub op_type: String,
    pub domain: String,
    /// What would make it supported.
    pub hint: String,
}

impl fmt::Display for UnsupportedNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dom = if self.domain.is_empty() {
            "ai.onnx".to_string()
        } else {
            self.domain.clone()
        };
        write!(
            f,
            "  - node `{}`: {} (domain {dom}): {}",
            self.name, self.op_type, self.hint
        )
    }
}

/// Lists unsupported nodes one per line.
pub fn format_unsupported(nodes: &[UnsupportedNode]) -> String {
    nodes
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path}: not a valid ONNX model: {why}")]
    Decode { path: String, why: String },
    #[error("{path}: {what}")]
    Version { path: String, what: String },
    #[error("{path}: {} unsupported node(s):\n{}", nodes.len(), format_unsupported(nodes))]
    Unsupported {
        path: String,
        nodes: Vec<UnsupportedNode>,
    },
    #[error("{path}: node `{node}`{}: {why}", tensor.as_ref().map(|t| format!(", tensor `{t}`")).unwrap_or_default())]
    Invalid {
        path: String,
        node: String,
        tensor: Option<String>,
        why: String,
    },
}

/// Read and import an ONNX file; external tensor data is read relative to its folder.
pub fn read_onnx(path: &Path) -> Result<Graph, ImportError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: p.clone(),
        error: source,
    })?;
    import_bytes(&bytes, &p, path.parent())
}

/// Import ONNX bytes. `path` names the model in errors; `base_dir` is where external data
/// files live (`None`: external data is an error).
pub fn import_bytes(
    bytes: &[u8],
    path: &str,
    base_dir: Option<&Path>,
) -> Result<Graph, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Decode {
            path: path.into(),
            why: "the file is empty".into(),
        });
    }
    let model = onnx::ModelProto::decode(bytes).map_err(|e| ImportError::Decode {
        path: path.into(),
        why: e.to_string(),
    })?;
    Importer {
        path: path.to_string(),
        base_dir: base_dir.map(Path::to_path_buf),
    }
    .model(model)
}

struct Importer {
    path: String,
    base_dir: Option<PathBuf>,
}

impl Importer {
    fn invalid(&self, node: &str, tensor: Option<&str>, why: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            path: self.path.clone(),
            node: node.into(),
            tensor: tensor.map(str::to_string),
            why: why.into(),
        }
    }

    fn model(&self, m: onnx::ModelProto) -> Result<Graph, ImportError> {
        let Some(irv) = m.ir_version else {
            return Err(ImportError::Decode {
                path: self.path.clone(),
                why: "no ir_version field: this is not an ONNX model (or a truncated one)".into(),
            });
        };
        if !IR_VERSIONS.contains(&irv) {
            return Err(ImportError::Version {
                path: self.path.clone(),
                what: format!(
                    "ONNX IR version {irv} is not supported (ferrite reads IR versions {}..={})",
                    IR_VERSIONS.start(),
                    IR_VERSIONS.end()
                ),
            });
        }
        let mut opset = None;
        for o in &m.opset_import {
            let d = o.domain();
            if d.is_empty() || d == "ai.onnx" {
                opset = Some(o.version());
            }
        }
        let opset = opset.unwrap_or(if irv <= 3 { 9 } else { 0 });
        if !OPSETS.contains(&opset) {
            return Err(ImportError::Version {
                path: self.path.clone(),
                what: format!(
                    "default-domain opset {opset} is not supported (ferrite reads opsets {}..={}); \
                     re-export the model with a supported opset",
                    OPSETS.start(),
                    OPSETS.end()
                ),
            });
        }
        let g = m.graph.ok_or_else(|| ImportError::Decode {
            path: self.path.clone(),
            why: "the model has no graph".into(),
        })?;
        self.graph(g, opset)
    }

    fn graph(&self, g: onnx::GraphProto, opset: i64) -> Result<Graph, ImportError> {
        let mut consts = BTreeMap::new();
        for t in &g.initializer {
            let name = t.name().to_string();
            consts.insert(name.clone(), self.tensor(t, &name, "initializer")?);
        }
        let inputs: Vec<&onnx::ValueInfoProto> = g
            .input
            .iter()
            .filter(|i| !consts.contains_key(i.name()))
            .collect();
        if inputs.len() != 1 {
            return Err(self.invalid(
                "graph",
                None,
                format!(
                    "the graph has {} non-constant inputs ({}); ferrite compiles networks with exactly one input",
                    inputs.len(),
                    inputs.iter().map(|i| i.name()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let input = inputs[0].name().to_string();
        let input_shape = self.input_shape(inputs[0])?;
        let declared_input = self.annotation(&g, &input)?;
        let outputs: Vec<String> = g.output.iter().map(|o| o.name().to_string()).collect();
        if outputs.is_empty() {
            return Err(self.invalid("graph", None, "the graph has no outputs"));
        }

        let mut nodes = Vec::new();
        let mut unsupported = Vec::new();
        let mut names = HashSet::new();
        for (i, n) in g.node.iter().enumerate() {
            let mut name = n.name().to_string();
            if name.is_empty() || names.contains(&name) {
                name = format!("{}_{i}", n.op_type());
            }
            names.insert(name.clone());
            if n.op_type() == "Constant" && n.domain().is_empty() {
                let out = n
                    .output
                    .first()
                    .ok_or_else(|| self.invalid(&name, None, "Constant has no output"))?;
                consts.insert(out.clone(), self.constant(n, &name)?);
                continue;
            }
            match self.op(n, &name, opset) {
                Ok(op) => nodes.push(Node {
                    name,
                    op,
                    inputs: n.input.clone(),
                    outputs: n.output.clone(),
                }),
                Err(Unknown::Unsupported(hint)) => unsupported.push(UnsupportedNode {
                    name,
                    op_type: n.op_type().into(),
                    domain: n.domain().into(),
                    hint,
                }),
                Err(Unknown::Invalid(why)) => return Err(self.invalid(&name, None, why)),
            }
        }
        if !unsupported.is_empty() {
            // Report the parsed-but-not-in-hardware nodes too: every problem at once.
            unsupported.extend(hardware_unsupported(&nodes));
            return Err(ImportError::Unsupported {
                path: self.path.clone(),
                nodes: unsupported,
            });
        }
        // Every input must exist before it is read (ONNX requires topological order).
        let mut known: HashSet<&str> = consts.keys().map(String::as_str).collect();
        known.insert(&input);
        for n in &nodes {
            for i in &n.inputs {
                if !i.is_empty() && !known.contains(i.as_str()) {
                    return Err(self.invalid(
                        &n.name,
                        Some(i),
                        "input is produced by no earlier node, initializer or graph input",
                    ));
                }
            }
            if n.outputs.is_empty() {
                return Err(self.invalid(&n.name, None, "node has no outputs"));
            }
            known.extend(n.outputs.iter().map(String::as_str));
        }
        for o in &outputs {
            if !known.contains(o.as_str()) {
                return Err(self.invalid("graph", Some(o), "graph output is never produced"));
            }
        }
        Ok(Graph {
            name: g.name().to_string(),
            input,
            input_shape,
            outputs,
            nodes,
            consts,
            shapes: BTreeMap::new(),
            qinfo: BTreeMap::new(),
            opset,
            declared_input,
        })
    }

    /// The graph input's QONNX datatype annotation (`graph.quantization_annotation`, key
    /// `finn_datatype`): BIPOLAR, BINARY, INTn, UINTn or FIXED<W,I>; FLOAT32 or none is no
    /// declaration.
    fn annotation(
        &self,
        g: &onnx::GraphProto,
        input: &str,
    ) -> Result<Option<(crate::ir::InputType, crate::ir::DeclaredBy)>, ImportError> {
        let found = g
            .quantization_annotation
            .iter()
            .filter(|a| a.tensor_name() == input)
            .flat_map(|a| &a.quant_parameter_tensor_names)
            .find(|kv| kv.key() == "finn_datatype");
        let Some(kv) = found else { return Ok(None) };
        let v = kv.value().trim();
        if v.eq_ignore_ascii_case("FLOAT32") || v.is_empty() {
            return Ok(None);
        }
        let ty: crate::ir::InputType = v.parse().map_err(|e| {
            self.invalid(
                "graph input",
                Some(input),
                format!(
                    "quantization annotation finn_datatype: {e}; annotate a type ferrite \
                     supports, or remove the annotation and pass --input-type"
                ),
            )
        })?;
        Ok(Some((ty, crate::ir::DeclaredBy::Annotation)))
    }

    fn input_shape(&self, vi: &onnx::ValueInfoProto) -> Result<Vec<usize>, ImportError> {
        use onnx::tensor_shape_proto::dimension::Value as D;
        let bad = |why: &str| self.invalid("graph input", Some(vi.name()), why.to_string());
        let Some(onnx::type_proto::Value::TensorType(t)) =
            vi.r#type.as_ref().and_then(|t| t.value.as_ref())
        else {
            return Err(bad("the graph input is not a tensor"));
        };
        let Some(shape) = &t.shape else {
            return Err(bad(
                "the graph input has no shape; export it with a static shape",
            ));
        };
        let mut out = Vec::new();
        for (i, d) in shape.dim.iter().enumerate() {
            match &d.value {
                Some(D::DimValue(v)) if *v >= 1 && *v <= 1 << 31 => out.push(*v as usize),
                // A symbolic or missing leading dimension is the batch: one frame at a time.
                Some(D::DimParam(_)) | None if i == 0 => out.push(1),
                Some(D::DimValue(0)) if i == 0 => out.push(1),
                _ => {
                    return Err(bad(&format!(
                        "input dimension {i} is not a positive static size"
                    )));
                }
            }
        }
        if out
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .is_none_or(|n| n > exec::MAX_ELEMS)
        {
            return Err(bad(&format!("input shape {out:?} is too large")));
        }
        Ok(out)
    }

    fn constant(&self, n: &onnx::NodeProto, name: &str) -> Result<Tensor, ImportError> {
        for a in &n.attribute {
            match a.name() {
                "value" => {
                    if let Some(t) = &a.t {
                        return self.tensor(t, name, "Constant");
                    }
                }
                "value_float" => return Ok(Tensor::scalar(a.f())),
                "value_floats" => return Ok(Tensor::f32(vec![a.floats.len()], a.floats.clone())),
                "value_int" => return Ok(Tensor::i64(vec![], vec![a.i()])),
                "value_ints" => return Ok(Tensor::i64(vec![a.ints.len()], a.ints.clone())),
                _ => {}
            }
        }
        Err(self.invalid(name, None, "Constant has no supported value attribute"))
    }

    /// Convert a TensorProto (raw, typed or external data) to a tensor.
    fn tensor(&self, t: &onnx::TensorProto, node: &str, what: &str) -> Result<Tensor, ImportError> {
        use onnx::tensor_proto::DataType as T;
        let tname = t.name().to_string();
        let bad = |why: String| self.invalid(node, Some(&tname), format!("{what}: {why}"));
        let mut shape = Vec::with_capacity(t.dims.len());
        let mut total: usize = 1;
        for &d in &t.dims {
            if !(0..=1 << 31).contains(&d) {
                return Err(bad(format!("dimension {d} out of range")));
            }
            shape.push(d as usize);
            total = total
                .checked_mul(d as usize)
                .filter(|&n| n <= exec::MAX_ELEMS)
                .ok_or_else(|| bad("tensor too large".into()))?;
        }
        let dt = t.data_type();
        let raw: Option<Vec<u8>> = if t.data_location == Some(1) {
            Some(self.external(t).map_err(bad)?)
        } else {
            t.raw_data.clone()
        };
        let width = |dt: i32| -> Option<usize> {
            Some(match T::try_from(dt).ok()? {
                T::Float | T::Int32 | T::Uint32 => 4,
                T::Double | T::Int64 | T::Uint64 => 8,
                T::Int8 | T::Uint8 | T::Bool => 1,
                T::Int16 | T::Uint16 | T::Float16 | T::Bfloat16 => 2,
                _ => return None,
            })
        };
        let Some(w) = width(dt) else {
            return Err(bad(format!(
                "element type {dt} is not a number type ferrite reads"
            )));
        };
        let is_float = matches!(
            T::try_from(dt),
            Ok(T::Float | T::Double | T::Float16 | T::Bfloat16)
        );
        if let Some(raw) = raw {
            if raw.len() != total * w {
                return Err(bad(format!(
                    "holds {} bytes; {total} elements of {w} bytes expected",
                    raw.len()
                )));
            }
            let ch = raw.chunks_exact(w);
            let f = |c: &[u8]| -> f64 {
                let mut b = [0u8; 8];
                b[..w].copy_from_slice(c);
                match T::try_from(dt) {
                    Ok(T::Float) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                    Ok(T::Double) => f64::from_le_bytes(b),
                    Ok(T::Float16) => f16_to_f32(u16::from_le_bytes([b[0], b[1]])) as f64,
                    Ok(T::Bfloat16) => {
                        f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16) as f64
                    }
                    _ => 0.0,
                }
            };
            let i = |c: &[u8]| -> i64 {
                let mut b = [0u8; 8];
                b[..w].copy_from_slice(c);
                match T::try_from(dt) {
                    Ok(T::Int8) => b[0] as i8 as i64,
                    Ok(T::Uint8 | T::Bool) => b[0] as i64,
                    Ok(T::Int16) => i16::from_le_bytes([b[0], b[1]]) as i64,
                    Ok(T::Uint16) => u16::from_le_bytes([b[0], b[1]]) as i64,
                    Ok(T::Int32) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
                    Ok(T::Uint32) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
                    _ => i64::from_le_bytes(b),
                }
            };
            return Ok(if is_float {
                Tensor::f32(shape, ch.map(|c| f(c) as f32).collect())
            } else {
                Tensor::i64(shape, ch.map(i).collect())
            });
        }
        let (fv, iv): (Option<Vec<f32>>, Option<Vec<i64>>) = match T::try_from(dt) {
            Ok(T::Float) => (Some(t.float_data.clone()), None),
            Ok(T::Double) => (
                Some(t.double_data.iter().map(|&v| v as f32).collect()),
                None,
            ),
            Ok(T::Float16) => (
                Some(t.int32_data.iter().map(|&v| f16_to_f32(v as u16)).collect()),
                None,
            ),
            Ok(T::Bfloat16) => (
                Some(
                    t.int32_data
                        .iter()
                        .map(|&v| f32::from_bits((v as u32 & 0xffff) << 16))
                        .collect(),
                ),
                None,
            ),
            Ok(T::Int64) => (None, Some(t.int64_data.clone())),
            Ok(T::Uint32 | T::Uint64) => (
                None,
                Some(t.uint64_data.iter().map(|&v| v as i64).collect()),
            ),
            _ => (None, Some(t.int32_data.iter().map(|&v| v as i64).collect())),
        };
        let n = fv
            .as_ref()
            .map(Vec::len)
            .or(iv.as_ref().map(Vec::len))
            .unwrap_or(0);
        if n != total {
            return Err(bad(format!(
                "holds {n} values; its shape {shape:?} needs {total}"
            )));
        }
        Ok(match (fv, iv) {
            (Some(f), _) => Tensor::f32(shape, f),
            (_, Some(i)) => Tensor::i64(shape, i),
            _ => unreachable!("one of the two is set"),
        })
    }

    fn external(&self, t: &onnx::TensorProto) -> Result<Vec<u8>, String> {
        let mut location = None;
        let (mut offset, mut length) = (0u64, None);
        for e in &t.external_data {
            match e.key() {
                "location" => location = Some(e.value().to_string()),
                "offset" => offset = e.value().parse().map_err(|_| "bad external data offset")?,
                "length" => {
                    length = Some(
                        e.value()
                            .parse::<u64>()
                            .map_err(|_| "bad external data length")?,
                    )
                }
                _ => {}
            }
        }
        let loc = location.ok_or("external data without a location")?;
        let rel = Path::new(&loc);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(format!(
                "external data location `{loc}` must be a relative path beside the model"
            ));
        }
        let base = self
            .base_dir
            .as_ref()
            .ok_or("external data, but the model was not read from a file")?;
        let file = base.join(rel);
        // a regular file only (not a device such as /dev/zero, a fifo or a directory), and
        // exactly the bytes the tensor declares, checked against the file's length before
        // anything is allocated
        let meta = std::fs::metadata(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        if !meta.is_file() {
            return Err(format!(
                "external data file {} is not a regular file",
                file.display()
            ));
        }
        let len = length.unwrap_or_else(|| meta.len().saturating_sub(offset));
        if offset.checked_add(len).is_none_or(|end| end > meta.len()) {
            return Err(format!(
                "external data range {offset}..+{len} is outside {} ({} bytes)",
                file.display(),
                meta.len()
            ));
        }
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let n = usize::try_from(len).map_err(|_| "external data length too large")?;
        let mut bytes = vec![0u8; n];
        f.read_exact(&mut bytes)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        Ok(bytes)
    }

    fn op(&self, n: &onnx::NodeProto, _name: &str, opset: i64) -> Result<Op, Unknown> {
        let a = Attrs(&n.attribute);
        let domain = n.domain();
        let ty = n.op_type();
        let qonnx = QONNX_DOMAINS.contains(&domain);
        if !qonnx && !domain.is_empty() && domain != "ai.onnx" {
            return Err(Unknown::Unsupported(format!(
                "custom domain `{domain}` is unknown; ferrite reads the default domain and {}",
                QONNX_DOMAINS.join(", ")
            )));
        }
        let rounding = |default: &str| -> Result<RoundingMode, Unknown> {
            let s = a.s("rounding_mode").unwrap_or(default.to_string());
            RoundingMode::parse(&s).ok_or_else(|| {
                Unknown::Unsupported(format!(
                    "rounding_mode `{s}` is unknown (ROUND, HALF_EVEN, CEIL, FLOOR, UP, DOWN, HALF_UP, HALF_DOWN)"
                ))
            })
        };
        let op = match (qonnx, ty) {
            (true, "Quant" | "IntQuant") => Op::Quant {
                signed: a.i("signed").unwrap_or(1) != 0,
                narrow: a.i("narrow").unwrap_or(0) != 0,
                rounding: rounding("ROUND")?,
            },
            (true, "BipolarQuant") => Op::BipolarQuant,
            (true, "Trunc") => Op::Trunc {
                signed: a.i("signed").unwrap_or(1) != 0,
                narrow: a.i("narrow").unwrap_or(0) != 0,
                rounding: rounding("FLOOR")?,
            },
            (true, "MultiThreshold") => {
                let layout = a.s("data_layout").unwrap_or_else(|| "NCHW".into());
                let out_dtype = match a.s("out_dtype") {
                    Some(s) if !s.is_empty() => {
                        Some(s.parse::<DataType>().map_err(Unknown::Unsupported)?)
                    }
                    _ => None,
                };
                Op::MultiThreshold {
                    out_scale: a.f("out_scale").unwrap_or(1.0),
                    out_bias: a.f("out_bias").unwrap_or(0.0),
                    channels_last: layout.ends_with('C'),
                    out_dtype,
                }
            }
            (false, "MatMul") => Op::MatMul,
            (false, "Gemm") => Op::Gemm {
                alpha: a.f("alpha").unwrap_or(1.0),
                beta: a.f("beta").unwrap_or(1.0),
                trans_a: a.i("transA").unwrap_or(0) != 0,
                trans_b: a.i("transB").unwrap_or(0) != 0,
            },
            (false, "Add") => Op::Add,
            (false, "Sub") => Op::Sub,
            (false, "Mul") => Op::Mul,
            (false, "Div") => Op::Div,
            (false, "Pow") => Op::Pow,
            (false, "BatchNormalization") => {
                if n.output.len() > 1
                    && n.output[1..].iter().any(|o| !o.is_empty())
                    && a.i("training_mode").unwrap_or(0) != 0
                {
                    return Err(Unknown::Unsupported(
                        "training-mode BatchNormalization; export the model in eval mode".into(),
                    ));
                }
                let epsilon = a.f("epsilon").unwrap_or(1e-5);
                if !(epsilon.is_finite() && epsilon >= 0.0) {
                    return Err(Unknown::Unsupported(format!(
                        "attribute epsilon = {epsilon}: it must be finite and not negative \
                         (qonnx's BatchNormalization gives NaN otherwise)"
                    )));
                }
                Op::BatchNorm { epsilon }
            }
            (false, "Relu") => Op::Relu,
            (false, "Round") => Op::Round,
            (false, "Sign") => Op::Sign,
            (false, "Flatten") => Op::Flatten {
                axis: a.i("axis").unwrap_or(1),
            },
            (false, "Reshape") => Op::Reshape {
                allow_zero: a.i("allowzero").unwrap_or(0) != 0,
            },
            (false, "Transpose") => {
                let perm = a.ints("perm");
                let perm = match perm {
                    Some(p) => Some(
                        p.iter()
                            .map(|&v| {
                                usize::try_from(v)
                                    .map_err(|_| Unknown::Invalid(format!("perm has {v}")))
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                    ),
                    None => None,
                };
                Op::Transpose { perm }
            }
            (false, "Identity" | "Dropout") => Op::Identity,
            (false, "TopK") => Op::TopK {
                axis: a.i("axis").unwrap_or(-1),
                largest: a.i("largest").unwrap_or(1) != 0,
                k: if opset < 10 {
                    Some(
                        a.i("k")
                            .filter(|&k| k >= 0)
                            .ok_or_else(|| Unknown::Invalid("TopK needs k".into()))?
                            as usize,
                    )
                } else {
                    None
                },
            },
            (false, "ArgMax") => Op::ArgMax {
                axis: a.i("axis").unwrap_or(0),
                keepdims: a.i("keepdims").unwrap_or(1) != 0,
                select_last: a.i("select_last_index").unwrap_or(0) != 0,
            },
            (false, "Softmax") => Op::Softmax {
                axis: a.i("axis").unwrap_or(if opset >= 13 { -1 } else { 1 }),
                flatten: opset < 13,
            },
            (false, "Shape") => Op::Shape {
                start: a.i("start").unwrap_or(0),
                end: a.i("end"),
            },
            (false, "Gather") => Op::Gather {
                axis: a.i("axis").unwrap_or(0),
            },
            (false, "Unsqueeze") => Op::Unsqueeze {
                axes: if opset < 13 {
                    Some(a.ints("axes").unwrap_or_default())
                } else {
                    None
                },
            },
            (false, "Squeeze") => Op::Squeeze {
                axes: if opset < 13 { a.ints("axes") } else { None },
            },
            (false, "Concat") => Op::Concat {
                axis: a
                    .i("axis")
                    .ok_or_else(|| Unknown::Invalid("Concat needs an axis".into()))?,
            },
            (false, "Conv") => Op::Conv {
                kernel: a.ints("kernel_shape").unwrap_or_default(),
                strides: a.ints("strides").unwrap_or_default(),
                pads: a.ints("pads").unwrap_or_default(),
                dilations: a.ints("dilations").unwrap_or_default(),
                group: a.i("group").unwrap_or(1),
                auto_pad: a
                    .s("auto_pad")
                    .unwrap_or_else(|| "NOTSET".into())
                    .to_ascii_uppercase(),
            },
            (false, "MaxPool") => Op::MaxPool {
                kernel: a.ints("kernel_shape").unwrap_or_default(),
                strides: a.ints("strides").unwrap_or_default(),
                pads: a.ints("pads").unwrap_or_default(),
                dilations: a.ints("dilations").unwrap_or_default(),
                ceil_mode: a.i("ceil_mode").unwrap_or(0) != 0,
                auto_pad: a
                    .s("auto_pad")
                    .unwrap_or_else(|| "NOTSET".into())
                    .to_ascii_uppercase(),
            },
            (false, "AveragePool") => Op::AveragePool {
                global: false,
                kernel: a.ints("kernel_shape").unwrap_or_default(),
                strides: a.ints("strides").unwrap_or_default(),
                pads: a.ints("pads").unwrap_or_default(),
                ceil_mode: a.i("ceil_mode").unwrap_or(0) != 0,
                auto_pad: a
                    .s("auto_pad")
                    .unwrap_or_else(|| "NOTSET".into())
                    .to_ascii_uppercase(),
            },
            (false, "ReduceMean") => Op::ReduceMean {
                axes: if opset < 18 { a.ints("axes") } else { None },
                keepdims: a.i("keepdims").unwrap_or(1) != 0,
                noop: a.i("noop_with_empty_axes").unwrap_or(0) != 0,
            },
            (false, "GlobalAveragePool") => Op::AveragePool {
                global: true,
                kernel: Vec::new(),
                strides: Vec::new(),
                pads: Vec::new(),
                ceil_mode: false,
                auto_pad: "NOTSET".into(),
            },
            (false, "Pad") => Op::Pad {
                mode: a.s("mode").unwrap_or_else(|| "constant".into()),
                pads: if opset < 11 { a.ints("pads") } else { None },
                value: a.f("value").unwrap_or(0.0),
            },
            (true, other) => {
                return Err(Unknown::Unsupported(format!(
                    "QONNX op `{other}` is not implemented; supported QONNX ops: Quant, IntQuant, BipolarQuant, Trunc, MultiThreshold"
                )));
            }
            (false, other) => {
                return Err(Unknown::Unsupported(format!(
                    "ONNX op `{other}` is not implemented; ferrite reads MatMul, Gemm, Add, Sub, Mul, Div, Pow, Round, \
                     BatchNormalization, Relu, Sign, Flatten, Reshape, Transpose, Identity, TopK, ArgMax, Softmax, \
                     Shape, Gather, Unsqueeze, Squeeze, Concat, Constant, Conv, MaxPool, AveragePool, GlobalAveragePool, ReduceMean, Pad"
                )));
            }
        };
        Ok(op)
    }
}

/// Nodes the importer parses but ferrite cannot compile: their attributes are outside what
/// the lowering and the engines implement (each hint names the attribute, the limit and
/// what to do). Shape-dependent limits (a kernel larger than its padded input) are
/// reported when shapes are inferred.
pub fn hardware_unsupported(nodes: &[Node]) -> Vec<UnsupportedNode> {
    let mut out = Vec::new();
    for n in nodes {
        let mut why: Vec<String> = Vec::new();
        let auto = |p: &str| matches!(p, "NOTSET" | "VALID" | "SAME_UPPER" | "SAME_LOWER");
        let ones = |v: &[i64]| v.iter().all(|&d| d == 1);
        let rank_ok = |v: &[i64], what: &str, why: &mut Vec<String>| {
            if !v.is_empty() && v.len() != 1 && v.len() != 2 {
                why.push(format!(
                    "{what} {v:?}: only 1-D and 2-D windows are supported (NCW or NCHW)"
                ));
            }
            if v.iter().any(|&d| !(1..=64).contains(&d)) {
                why.push(format!("{what} {v:?}: each must be in 1..=64"));
            }
        };
        match &n.op {
            Op::Conv {
                kernel,
                strides,
                pads,
                dilations,
                group,
                auto_pad,
            } => {
                // group = 1 (dense) or depthwise (group = channels, checked when lowering)
                if *group < 1 {
                    why.push(format!("attribute group = {group}: it must be at least 1"));
                }
                if !auto(auto_pad) {
                    why.push(format!(
                        "attribute auto_pad = {auto_pad}: use NOTSET, VALID, SAME_UPPER or SAME_LOWER"
                    ));
                }
                rank_ok(kernel, "kernel_shape", &mut why);
                rank_ok(strides, "strides", &mut why);
                rank_ok(dilations, "dilations", &mut why);
                if pads.iter().any(|&p| !(0..=64).contains(&p)) {
                    why.push(format!("attribute pads {pads:?}: each must be in 0..=64"));
                }
                if auto_pad != "NOTSET" && pads.iter().any(|&p| p != 0) {
                    why.push(format!(
                        "attributes pads {pads:?} and auto_pad = {auto_pad} together: ONNX allows \
                         one of them; export with explicit pads and auto_pad NOTSET"
                    ));
                }
            }
            Op::MaxPool {
                kernel,
                strides,
                pads,
                dilations,
                ceil_mode,
                auto_pad,
            } => {
                if *ceil_mode {
                    why.push(
                        "attribute ceil_mode = 1: only floor mode (ceil_mode = 0) is supported; \
                         export with ceil_mode=False"
                            .into(),
                    );
                }
                if pads.iter().any(|&p| p != 0) {
                    why.push(format!(
                        "attribute pads {pads:?}: max-pooling takes no padding; pad explicitly before it \
                         or use padding=0"
                    ));
                }
                if !ones(dilations) {
                    why.push(format!(
                        "attribute dilations {dilations:?}: max-pooling takes dilation 1 only"
                    ));
                }
                if !matches!(auto_pad.as_str(), "NOTSET" | "VALID") {
                    why.push(format!(
                        "attribute auto_pad = {auto_pad}: max-pooling takes NOTSET or VALID"
                    ));
                }
                if kernel.is_empty() {
                    why.push("attribute kernel_shape is missing (required)".into());
                }
                rank_ok(kernel, "kernel_shape", &mut why);
                rank_ok(strides, "strides", &mut why);
            }
            Op::AveragePool {
                kernel,
                strides,
                pads,
                ceil_mode,
                auto_pad,
                global,
            } => {
                if *ceil_mode {
                    why.push(
                        "attribute ceil_mode = 1: only floor mode (ceil_mode = 0) is supported"
                            .into(),
                    );
                }
                if pads.iter().any(|&p| p != 0) {
                    why.push(format!(
                        "attribute pads {pads:?}: average pooling takes no padding; use padding=0"
                    ));
                }
                if !matches!(auto_pad.as_str(), "NOTSET" | "VALID") {
                    why.push(format!(
                        "attribute auto_pad = {auto_pad}: average pooling takes NOTSET or VALID"
                    ));
                }
                if !*global {
                    if kernel.is_empty() {
                        why.push("attribute kernel_shape is missing (required)".into());
                    }
                    rank_ok(kernel, "kernel_shape", &mut why);
                    rank_ok(strides, "strides", &mut why);
                }
            }
            Op::Pad { mode, .. } if mode != "constant" => why.push(format!(
                "attribute mode = {mode}: only constant padding is supported"
            )),
            _ => {}
        }
        if !why.is_empty() {
            out.push(UnsupportedNode {
                name: n.name.clone(),
                op_type: n.op.type_name().into(),
                domain: String::new(),
                hint: why.join("; "),
            });
        }
    }
    out
}

enum Unknown {
    Unsupported(String),
    Invalid(String),
}

struct Attrs<'a>(&'a [onnx::AttributeProto]);

impl Attrs<'_> {
    fn get(&self, name: &str) -> Option<&onnx::AttributeProto> {
        self.0.iter().find(|a| a.name() == name)
    }
    fn i(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|a| a.i)
    }
    fn f(&self, name: &str) -> Option<f32> {
        self.get(name).and_then(|a| a.f)
    }
    fn s(&self, name: &str) -> Option<String> {
        self.get(name)
            .and_then(|a| a.s.as_ref())
            .map(|s| String::from_utf8_lossy(s).into_owned())
    }
    fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.get(name).map(|a| a.ints.clone())
    }
}

/// IEEE half to single precision.
fn f16_to_f32(h: u16) -> f32 {
    let s = ((h >> 15) as u32) << 31;
    let e = ((h >> 10) & 0x1f) as i32;
    let m = (h & 0x3ff) as u32;
    let bits = if e == 0 {
        if m == 0 {
            s
        } else {
            // subnormal: m * 2^-24
            return f32::from_bits(s)
                + (if s != 0 { -1.0 } else { 1.0 }) * (m as f32) * 2f32.powi(-24);
        }
    } else if e == 31 {
        s | 0x7f80_0000 | (m << 13)
    } else {
        s | (((e - 15 + 127) as u32) << 23) | (m << 13)
    };
    f32::from_bits(bits)
}
