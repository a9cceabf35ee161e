//! ferrite's integer dataflow IR.
//!
//! A [`Model`] is a chain of integer layers that the hardware runs, plus optional
//! host-side float steps before (`pre`) and after (`post`) it. It is serialised as
//! versioned JSON (`ferrite build model.json` accepts it). Every value inside the chain is
//! an integer of a [`DataType`]; accumulator types are derived from the weights and input
//! type, never stored.
//!
//! Architecture invariant: `ir` imports nothing from later stages (passes, fold, emit,
//! golden, report).

mod datatype;
pub mod host;

pub use datatype::{DataType, MAX_BITS, bits_for_unsigned};
pub use host::HostStep;

use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// Version of the JSON model format written by this build.
pub const IR_VERSION: u32 = 1;

/// A whole network: hardware layers and host steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// JSON format version; must equal [`IR_VERSION`].
    pub ir_version: u32,
    /// Network name; sanitised before it becomes a Verilog prefix.
    pub name: String,
    /// Elements of one frame entering the first layer, and their type.
    pub input: StreamInfo,
    /// The hardware layers, in stream order.
    pub layers: Vec<Layer>,
    /// Float steps the host runs before the hardware (input scaling, first quantizer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre: Vec<HostStep>,
    /// Float steps the host runs after the hardware (dequantisation, final affine, softmax).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post: Vec<HostStep>,
    /// Where the model came from (file name and sha256), for headers and reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Provenance>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// Logical shape of a frame (for example `[784]` or `[1, 28, 28]`); the hardware
    /// sees the flattened, row-major sequence of its elements.
    pub shape: Vec<usize>,
    pub dtype: DataType,
}

impl StreamInfo {
    pub fn elems(&self) -> usize {
        self.shape.iter().product()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub file: String,
    pub sha256: String,
}

/// The closed set of hardware layers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Layer {
    MatrixVector(MatrixVector),
    Thresholding(Thresholding),
    LabelSelect(LabelSelect),
}

/// Fully connected layer: `acc[h] = sum_w weights[h][w] * x[w]`, optionally followed by a
/// multi-threshold activation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatrixVector {
    pub name: String,
    /// Input vector length (matrix width).
    pub mw: usize,
    /// Output vector length (matrix height).
    pub mh: usize,
    pub input_type: DataType,
    pub weight_type: DataType,
    /// Row-major `[mh][mw]`, semantic values (bipolar as -1/+1).
    pub weights: Vec<i64>,
    /// Activation; without it the layer outputs the accumulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
    /// ONNX node(s) this layer was lowered from, for errors and headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// Standalone multi-threshold activation. A frame is `elems` values; element `i` belongs to
/// channel `i % channels` (channels-last order, as FINN's Thresholding).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholding {
    pub name: String,
    /// Values per frame.
    pub elems: usize,
    /// Channels; element `i` belongs to channel `i % channels`.
    pub channels: usize,
    pub input_type: DataType,
    pub thresholds: Thresholds,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// Top-k: outputs the indices of the `k` largest of `labels` inputs, largest first; ties
/// go to the lower index (ONNX TopK).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelSelect {
    pub name: String,
    pub labels: usize,
    pub k: usize,
    pub input_type: DataType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// Multi-threshold activation. For a value `x` of channel `c`, let
/// `n = #{ t in rows[c] : x >= t }`; the output is `out_bias + n`, or `2n - 1` when
/// `out_type` is bipolar (one threshold per channel).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// One ascending row per channel, or a single row shared by all channels.
    pub rows: Vec<Vec<i64>>,
    pub out_type: DataType,
    /// Output for a value below every threshold (ignored for bipolar output).
    #[serde(default)]
    pub out_bias: i64,
}

impl Thresholds {
    pub fn per_channel(&self) -> usize {
        self.rows.first().map_or(0, Vec::len)
    }

    pub fn row(&self, channel: usize) -> &[i64] {
        if self.rows.len() == 1 {
            &self.rows[0]
        } else {
            &self.rows[channel]
        }
    }

    /// The activation of `x` on `channel`.
    pub fn apply(&self, channel: usize, x: i64) -> i64 {
        let n = self.row(channel).iter().filter(|&&t| x >= t).count() as i64;
        if self.out_type == DataType::Bipolar {
            2 * n - 1
        } else {
            self.out_bias + n
        }
    }

    fn check(&self, layer: &str, channels: usize) -> Result<(), IrError> {
        let bad = |why: String| {
            Err(IrError::Layer {
                layer: layer.to_string(),
                why,
            })
        };
        if self.rows.is_empty() {
            return bad("thresholds have no rows".into());
        }
        if self.rows.len() != 1 && self.rows.len() != channels {
            return bad(format!(
                "thresholds have {} rows; expected 1 (shared) or one per channel ({channels})",
                self.rows.len()
            ));
        }
        let n = self.rows[0].len();
        if n == 0 {
            return bad("a threshold row is empty".into());
        }
        if let Some((c, r)) = self.rows.iter().enumerate().find(|(_, r)| r.len() != n) {
            return bad(format!(
                "threshold row {c} has {} values, row 0 has {n}; all rows need the same count",
                r.len()
            ));
        }
        if let Some((c, _)) = self
            .rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.windows(2).any(|w| w[0] > w[1]))
        {
            return bad(format!("threshold row {c} is not sorted ascending"));
        }
        if !self.out_type.is_activation_type() {
            return bad(format!(
                "output type {} out of range: activations are BIPOLAR, BINARY or 2..8-bit integers",
                self.out_type
            ));
        }
        if self.out_type == DataType::Bipolar {
            if n != 1 {
                return bad(format!(
                    "a bipolar activation takes 1 threshold per channel, not {n}"
                ));
            }
        } else {
            let (lo, hi) = (self.out_bias, self.out_bias + n as i64);
            if !self.out_type.contains(lo) || !self.out_type.contains(hi) {
                return bad(format!(
                    "{n} thresholds with out_bias {} give outputs {lo}..={hi}, outside {}",
                    self.out_bias, self.out_type
                ));
            }
        }
        Ok(())
    }
}

impl MatrixVector {
    pub fn weight(&self, h: usize, w: usize) -> i64 {
        self.weights[h * self.mw + w]
    }

    /// Exact range of the accumulator over every possible input vector.
    pub fn acc_range(&self) -> (i64, i64) {
        let (xlo, xhi) = (self.input_type.min(), self.input_type.max());
        let mut lo = i64::MAX;
        let mut hi = i64::MIN;
        for row in self.weights.chunks(self.mw.max(1)) {
            let (mut rlo, mut rhi) = (0i64, 0i64);
            for &w in row {
                let (a, b) = (w * xlo, w * xhi);
                rlo += a.min(b);
                rhi += a.max(b);
            }
            lo = lo.min(rlo);
            hi = hi.max(rhi);
        }
        if self.weights.is_empty() {
            (0, 0)
        } else {
            (lo, hi)
        }
    }

    /// Accumulator type: the narrowest integer holding [`Self::acc_range`].
    pub fn acc_type(&self) -> DataType {
        let (lo, hi) = self.acc_range();
        DataType::smallest_containing(lo, hi)
    }
}

impl LabelSelect {
    /// Type of the emitted indices.
    pub fn index_type(&self) -> DataType {
        DataType::UInt(bits_for_unsigned(self.labels.saturating_sub(1) as u64).max(1))
    }
}

impl Layer {
    pub fn name(&self) -> &str {
        match self {
            Layer::MatrixVector(l) => &l.name,
            Layer::Thresholding(l) => &l.name,
            Layer::LabelSelect(l) => &l.name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Layer::MatrixVector(_) => "MatrixVector",
            Layer::Thresholding(_) => "Thresholding",
            Layer::LabelSelect(_) => "LabelSelect",
        }
    }

    pub fn in_elems(&self) -> usize {
        match self {
            Layer::MatrixVector(l) => l.mw,
            Layer::Thresholding(l) => l.elems,
            Layer::LabelSelect(l) => l.labels,
        }
    }

    pub fn out_elems(&self) -> usize {
        match self {
            Layer::MatrixVector(l) => l.mh,
            Layer::Thresholding(l) => l.elems,
            Layer::LabelSelect(l) => l.k,
        }
    }

    pub fn input_type(&self) -> DataType {
        match self {
            Layer::MatrixVector(l) => l.input_type,
            Layer::Thresholding(l) => l.input_type,
            Layer::LabelSelect(l) => l.input_type,
        }
    }

    pub fn output_type(&self) -> DataType {
        match self {
            Layer::MatrixVector(l) => match &l.thresholds {
                Some(t) => t.out_type,
                None => l.acc_type(),
            },
            Layer::Thresholding(l) => l.thresholds.out_type,
            Layer::LabelSelect(l) => l.index_type(),
        }
    }

    pub fn origin(&self) -> Option<&str> {
        match self {
            Layer::MatrixVector(l) => l.origin.as_deref(),
            Layer::Thresholding(l) => l.origin.as_deref(),
            Layer::LabelSelect(l) => l.origin.as_deref(),
        }
    }

    fn check(&self) -> Result<(), IrError> {
        let name = self.name();
        let bad = |why: String| {
            Err(IrError::Layer {
                layer: name.to_string(),
                why,
            })
        };
        if name.is_empty() {
            return Err(IrError::Model("a layer has an empty name".into()));
        }
        match self {
            Layer::MatrixVector(l) => {
                if l.mw == 0 || l.mh == 0 {
                    return bad(format!(
                        "matrix is {}x{}; both dimensions must be at least 1",
                        l.mh, l.mw
                    ));
                }
                if !l.input_type.is_activation_type() {
                    return bad(format!(
                        "input type {} out of range: use BIPOLAR, BINARY or 2..8-bit integers",
                        l.input_type
                    ));
                }
                if !l.weight_type.is_activation_type() {
                    return bad(format!(
                        "weight type {} out of range: use BIPOLAR, BINARY or 2..8-bit integers",
                        l.weight_type
                    ));
                }
                if l.weights.len() != l.mw * l.mh {
                    return bad(format!(
                        "has {} weights; mh*mw = {}*{} = {} expected",
                        l.weights.len(),
                        l.mh,
                        l.mw,
                        l.mw * l.mh
                    ));
                }
                if let Some((i, w)) = l
                    .weights
                    .iter()
                    .enumerate()
                    .find(|(_, w)| !l.weight_type.contains(**w))
                {
                    return bad(format!(
                        "weight [{}][{}] = {w} is not a {} value",
                        i / l.mw,
                        i % l.mw,
                        l.weight_type
                    ));
                }
                if !l.acc_type().is_valid() {
                    return bad(format!(
                        "accumulator would need {} bits",
                        l.acc_type().bits()
                    ));
                }
                if let Some(t) = &l.thresholds {
                    t.check(name, l.mh)?;
                }
            }
            Layer::Thresholding(l) => {
                if l.channels == 0 || l.elems == 0 || l.elems % l.channels != 0 {
                    return bad(format!(
                        "{} elements are not a whole number of {} channels",
                        l.elems, l.channels
                    ));
                }
                if !l.input_type.is_valid() || l.input_type.bits() > 32 {
                    return bad(format!(
                        "input type {} out of range (at most 32 bits)",
                        l.input_type
                    ));
                }
                l.thresholds.check(name, l.channels)?;
            }
            Layer::LabelSelect(l) => {
                if l.k == 0 || l.k > l.labels {
                    return bad(format!(
                        "k = {} must be between 1 and the {} labels",
                        l.k, l.labels
                    ));
                }
                if !l.input_type.is_valid() || l.input_type.bits() > 32 {
                    return bad(format!(
                        "input type {} out of range (at most 32 bits)",
                        l.input_type
                    ));
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Error)]
pub enum IrError {
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("{path}: not a ferrite model: {err}")]
    Json {
        path: String,
        err: serde_json::Error,
    },
    #[error("{path}: model format version {found}, this ferrite reads version {IR_VERSION}")]
    Version { path: String, found: u32 },
    #[error("model: {0}")]
    Model(String),
    #[error("layer `{layer}`: {why}")]
    Layer { layer: String, why: String },
    #[error(
        "layer `{layer}` takes {expected} as input but the previous stage gives {found}; {fix}"
    )]
    Chain {
        layer: String,
        expected: String,
        found: String,
        fix: String,
    },
}

impl Model {
    pub fn output_type(&self) -> DataType {
        self.layers
            .last()
            .map_or(self.input.dtype, Layer::output_type)
    }

    pub fn output_elems(&self) -> usize {
        self.layers
            .last()
            .map_or(self.input.elems(), Layer::out_elems)
    }

    /// Check every layer and that shapes and types chain from the input to the output.
    pub fn validate(&self) -> Result<(), IrError> {
        if self.ir_version != IR_VERSION {
            return Err(IrError::Version {
                path: "model".into(),
                found: self.ir_version,
            });
        }
        if self.layers.is_empty() {
            return Err(IrError::Model("the model has no layers".into()));
        }
        if !self.input.dtype.is_valid() || self.input.dtype.bits() > 32 {
            return Err(IrError::Model(format!(
                "input type {} out of range (at most 32 bits)",
                self.input.dtype
            )));
        }
        let mut names = std::collections::BTreeSet::new();
        let mut elems = self.input.elems();
        let mut dtype = self.input.dtype;
        let mut prev = "the model input".to_string();
        for layer in &self.layers {
            layer.check()?;
            if !names.insert(layer.name()) {
                return Err(IrError::Layer {
                    layer: layer.name().into(),
                    why: "another layer has the same name; names must be unique".into(),
                });
            }
            if layer.in_elems() != elems {
                return Err(IrError::Chain {
                    layer: layer.name().into(),
                    expected: format!("{} elements", layer.in_elems()),
                    found: format!("{elems} elements ({prev})"),
                    fix: "make the layer's input size equal the previous layer's output size"
                        .into(),
                });
            }
            if layer.input_type() != dtype {
                return Err(IrError::Chain {
                    layer: layer.name().into(),
                    expected: layer.input_type().to_string(),
                    found: format!("{dtype} ({prev})"),
                    fix: "make the layer's input_type equal the previous layer's output type"
                        .into(),
                });
            }
            elems = layer.out_elems();
            dtype = layer.output_type();
            prev = format!("output of `{}`", layer.name());
        }
        Ok(())
    }

    pub fn from_json_str(text: &str, path: &str) -> Result<Model, IrError> {
        #[derive(Deserialize)]
        struct Header {
            ir_version: u32,
        }
        let m: Model = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(err) => {
                // An older or newer format fails to parse as this one: say so, rather than
                // report the first field that differs.
                if let Ok(h) = serde_json::from_str::<Header>(text)
                    && h.ir_version != IR_VERSION
                {
                    return Err(IrError::Version {
                        path: path.into(),
                        found: h.ir_version,
                    });
                }
                return Err(IrError::Json {
                    path: path.into(),
                    err,
                });
            }
        };
        m.validate().map_err(|e| match e {
            IrError::Version { found, .. } => IrError::Version {
                path: path.into(),
                found,
            },
            other => other,
        })?;
        Ok(m)
    }

    pub fn load_json(path: &Path) -> Result<Model, IrError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| IrError::Io {
            path: p.clone(),
            err,
        })?;
        Model::from_json_str(&text, &p)
    }

    /// Compact JSON (weights make pretty-printing tens of megabytes).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(
        name: &str,
        mw: usize,
        mh: usize,
        it: DataType,
        wt: DataType,
        thr: Option<Thresholds>,
    ) -> Layer {
        Layer::MatrixVector(MatrixVector {
            name: name.into(),
            mw,
            mh,
            input_type: it,
            weight_type: wt,
            weights: vec![wt.max(); mw * mh],
            thresholds: thr,
            origin: None,
        })
    }

    #[test]
    fn accumulator_from_worst_case() {
        let Layer::MatrixVector(l) = mv("a", 784, 4, DataType::Bipolar, DataType::Bipolar, None)
        else {
            unreachable!()
        };
        assert_eq!(l.acc_range(), (-784, 784));
        assert_eq!(l.acc_type(), DataType::Int(11));
        let Layer::MatrixVector(l) = mv("a", 10, 1, DataType::UInt(2), DataType::UInt(3), None)
        else {
            unreachable!()
        };
        assert_eq!(l.acc_range(), (0, 210));
        assert_eq!(l.acc_type(), DataType::UInt(8));
    }

    #[test]
    fn chain_errors_name_the_layer() {
        let thr = Thresholds {
            rows: vec![vec![0]],
            out_type: DataType::Bipolar,
            out_bias: 0,
        };
        let m = Model {
            ir_version: IR_VERSION,
            name: "t".into(),
            input: StreamInfo {
                shape: vec![8],
                dtype: DataType::Bipolar,
            },
            layers: vec![
                mv(
                    "fc0",
                    8,
                    4,
                    DataType::Bipolar,
                    DataType::Bipolar,
                    Some(thr.clone()),
                ),
                mv("fc1", 5, 2, DataType::Bipolar, DataType::Bipolar, None),
            ],
            pre: vec![],
            post: vec![],
            source: None,
        };
        let e = m.validate().unwrap_err().to_string();
        assert!(
            e.contains("fc1") && e.contains("5 elements") && e.contains("4 elements"),
            "{e}"
        );
        let back = Model::from_json_str(&m.to_json(), "x.json")
            .unwrap_err()
            .to_string();
        assert!(back.contains("fc1"), "{back}");
    }

    #[test]
    fn threshold_apply() {
        let t = Thresholds {
            rows: vec![vec![-1, 2, 5]],
            out_type: DataType::Int(2),
            out_bias: -2,
        };
        assert_eq!(t.apply(0, -5), -2);
        assert_eq!(t.apply(0, -1), -1);
        assert_eq!(t.apply(0, 5), 1);
        let b = Thresholds {
            rows: vec![vec![0]],
            out_type: DataType::Bipolar,
            out_bias: 0,
        };
        assert_eq!((b.apply(0, -1), b.apply(0, 0)), (-1, 1));
    }
}
