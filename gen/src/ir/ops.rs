//! The closed set of hardware ops and what each one means: its ports, the tensor types it
//! accepts and gives, and its values (the plain golden function).
//!
//! One op kind, one `impl OpKind`: adding a kind adds a struct, a variant of [`Op`] and an
//! impl here; the hardware side of the same kind lives in `crate::engines`.

use super::{DataType, TensorType, Thresholds, bits_for_unsigned};
use serde::{Deserialize, Serialize};

/// What an op means, independent of hardware.
pub trait OpKind {
    /// The op's kind as written in the IR JSON (`"kind"`).
    fn kind(&self) -> &'static str;
    /// Data input ports.
    fn num_inputs(&self) -> usize {
        1
    }
    /// Check the op against the tensor types on its input ports and give the types of its
    /// output ports. The error says what is wrong (the caller names the node).
    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String>;
    /// The op's output frames from its input frames (plain, obviously right; the golden
    /// model's reference). Inputs have the types `infer` accepted.
    fn eval(&self, inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>>;
    /// One line on what the op does (sizes, types, ranges), for `ferrite inspect`.
    fn summary(&self) -> String;
}

/// The closed set of hardware ops.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Op {
    MatrixVector(MatrixVector),
    Thresholding(Thresholding),
    LabelSelect(LabelSelect),
}

impl Op {
    /// The one dispatch from an op to its kind.
    pub fn as_kind(&self) -> &dyn OpKind {
        match self {
            Op::MatrixVector(o) => o,
            Op::Thresholding(o) => o,
            Op::LabelSelect(o) => o,
        }
    }

    pub fn kind(&self) -> &'static str {
        self.as_kind().kind()
    }
}

/// Matrix-vector product on every pixel: `acc[p][h] = sum_w weights[h][w] * x[p][w]`,
/// optionally followed by a multi-threshold activation. A fully connected layer is the
/// one-pixel case; a convolution is a sliding-window generator feeding one (its weight
/// columns in the window's (ky, kx, c) order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatrixVector {
    /// Input vector length (matrix width): the input's channels.
    pub mw: usize,
    /// Output vector length (matrix height): the output's channels.
    pub mh: usize,
    pub input_type: DataType,
    pub weight_type: DataType,
    /// Row-major `[mh][mw]`, semantic values (bipolar as -1/+1).
    pub weights: Vec<i64>,
    /// Activation; without it the op outputs the accumulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
}

/// Standalone multi-threshold activation. Element `i` of a frame belongs to channel
/// `i % channels` (channels-last order, as FINN's Thresholding).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholding {
    /// Channels; they repeat within a pixel when fewer than the tensor's channels.
    pub channels: usize,
    pub input_type: DataType,
    pub thresholds: Thresholds,
}

/// Top-k: outputs the indices of the `k` largest of `labels` inputs, largest first; ties
/// go to the lower index (ONNX TopK).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelSelect {
    pub labels: usize,
    pub k: usize,
    pub input_type: DataType,
}

fn one_input(inputs: &[TensorType]) -> Result<&TensorType, String> {
    match inputs {
        [t] => Ok(t),
        _ => Err(format!("takes 1 input, {} given", inputs.len())),
    }
}

fn same_type(expected: DataType, found: DataType, field: &str) -> Result<(), String> {
    if expected != found {
        return Err(format!(
            "its {field} is {expected} but its input stream carries {found}; make them equal"
        ));
    }
    Ok(())
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

    pub fn output_type(&self) -> DataType {
        match &self.thresholds {
            Some(t) => t.out_type,
            None => self.acc_type(),
        }
    }

    /// Whether the engine computes with XNOR and popcount (bipolar x bipolar).
    pub fn is_xnor(&self) -> bool {
        self.input_type == DataType::Bipolar && self.weight_type == DataType::Bipolar
    }

    fn check(&self) -> Result<(), String> {
        if self.mw == 0 || self.mh == 0 {
            return Err(format!(
                "matrix is {}x{}; both dimensions must be at least 1",
                self.mh, self.mw
            ));
        }
        if !self.input_type.is_activation_type() {
            return Err(format!(
                "input type {} out of range: use BIPOLAR, BINARY or 2..8-bit integers",
                self.input_type
            ));
        }
        if !self.weight_type.is_activation_type() {
            return Err(format!(
                "weight type {} out of range: use BIPOLAR, BINARY or 2..8-bit integers",
                self.weight_type
            ));
        }
        if self.weights.len() != self.mw * self.mh {
            return Err(format!(
                "has {} weights; mh*mw = {}*{} = {} expected",
                self.weights.len(),
                self.mh,
                self.mw,
                self.mw * self.mh
            ));
        }
        if let Some((i, w)) = self
            .weights
            .iter()
            .enumerate()
            .find(|(_, w)| !self.weight_type.contains(**w))
        {
            return Err(format!(
                "weight [{}][{}] = {w} is not a {} value",
                i / self.mw,
                i % self.mw,
                self.weight_type
            ));
        }
        if !self.acc_type().is_valid() {
            return Err(format!(
                "accumulator would need {} bits",
                self.acc_type().bits()
            ));
        }
        if let Some(t) = &self.thresholds {
            t.check(self.mh)?;
        }
        Ok(())
    }
}

impl OpKind for MatrixVector {
    fn kind(&self) -> &'static str {
        "MatrixVector"
    }

    fn summary(&self) -> String {
        let (lo, hi) = self.acc_range();
        let thr = match &self.thresholds {
            Some(t) => format!(
                "{} thresholds x {} rows -> {}",
                t.per_channel(),
                t.rows.len(),
                t.out_type
            ),
            None => "no activation (accumulator out)".into(),
        };
        format!(
            "{}x{} (mw x mh): in {} x w {} -> acc {} [{lo}, {hi}]; {thr}",
            self.mw,
            self.mh,
            self.input_type,
            self.weight_type,
            self.acc_type()
        )
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        self.check()?;
        let t = one_input(inputs)?;
        if t.channels() != self.mw {
            return Err(format!(
                "takes vectors of {} elements (MW) but its input has {} channels ({t}); \
                 make MW equal the input's channels",
                self.mw,
                t.channels()
            ));
        }
        same_type(self.input_type, t.dtype, "input_type")?;
        Ok(vec![TensorType::new(
            [t.shape[0], t.shape[1], self.mh],
            self.output_type(),
        )])
    }

    fn eval(&self, _inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>> {
        let mut out = Vec::with_capacity(x[0].len() / self.mw * self.mh);
        for px in x[0].chunks_exact(self.mw) {
            for (h, row) in self.weights.chunks_exact(self.mw).enumerate() {
                let acc: i64 = row.iter().zip(px).map(|(w, v)| w * v).sum();
                out.push(match &self.thresholds {
                    Some(t) => t.apply(h, acc),
                    None => acc,
                });
            }
        }
        vec![out]
    }
}

impl OpKind for Thresholding {
    fn kind(&self) -> &'static str {
        "Thresholding"
    }

    fn summary(&self) -> String {
        format!(
            "{} channels: in {} -> {}; {} thresholds x {} rows",
            self.channels,
            self.input_type,
            self.thresholds.out_type,
            self.thresholds.per_channel(),
            self.thresholds.rows.len()
        )
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        let t = one_input(inputs)?;
        if self.channels == 0 || t.channels() % self.channels != 0 {
            return Err(format!(
                "the input's {} channels ({t}) are not a whole number of its {} threshold channels",
                t.channels(),
                self.channels
            ));
        }
        if !self.input_type.is_valid() || self.input_type.bits() > 32 {
            return Err(format!(
                "input type {} out of range (at most 32 bits)",
                self.input_type
            ));
        }
        same_type(self.input_type, t.dtype, "input_type")?;
        self.thresholds.check(self.channels)?;
        Ok(vec![TensorType::new(t.shape, self.thresholds.out_type)])
    }

    fn eval(&self, _inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>> {
        vec![
            x[0].iter()
                .enumerate()
                .map(|(i, &v)| self.thresholds.apply(i % self.channels, v))
                .collect(),
        ]
    }
}

impl LabelSelect {
    /// Type of the emitted indices.
    pub fn index_type(&self) -> DataType {
        DataType::UInt(bits_for_unsigned(self.labels.saturating_sub(1) as u64).max(1))
    }
}

impl OpKind for LabelSelect {
    fn kind(&self) -> &'static str {
        "LabelSelect"
    }

    fn summary(&self) -> String {
        format!(
            "top-{} of {}: in {} -> {}",
            self.k,
            self.labels,
            self.input_type,
            self.index_type()
        )
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        let t = one_input(inputs)?;
        if self.k == 0 || self.k > self.labels {
            return Err(format!(
                "k = {} must be between 1 and the {} labels",
                self.k, self.labels
            ));
        }
        if t.elems() != self.labels {
            return Err(format!(
                "selects among {} labels but its input has {} elements ({t})",
                self.labels,
                t.elems()
            ));
        }
        if !self.input_type.is_valid() || self.input_type.bits() > 32 {
            return Err(format!(
                "input type {} out of range (at most 32 bits)",
                self.input_type
            ));
        }
        same_type(self.input_type, t.dtype, "input_type")?;
        Ok(vec![TensorType::new([1, 1, self.k], self.index_type())])
    }

    fn eval(&self, _inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>> {
        let x = x[0];
        let mut idx: Vec<usize> = (0..self.labels).collect();
        // Stable sort, descending by value: equal values keep the lower index first.
        idx.sort_by(|&a, &b| x[b].cmp(&x[a]));
        vec![idx.into_iter().take(self.k).map(|i| i as i64).collect()]
    }
}
