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
    SlidingWindow(SlidingWindow),
    Pad(Pad),
    Pool(Pool),
    Duplicate(Duplicate),
    Add(Add),
    VectorVector(VectorVector),
    Concat(Concat),
}

impl Op {
    /// The one dispatch from an op to its kind.
    pub fn as_kind(&self) -> &dyn OpKind {
        match self {
            Op::MatrixVector(o) => o,
            Op::Thresholding(o) => o,
            Op::LabelSelect(o) => o,
            Op::SlidingWindow(o) => o,
            Op::Pad(o) => o,
            Op::Pool(o) => o,
            Op::Duplicate(o) => o,
            Op::Add(o) => o,
            Op::VectorVector(o) => o,
            Op::Concat(o) => o,
        }
    }

    pub fn kind(&self) -> &'static str {
        self.as_kind().kind()
    }
}

/// Matrix-vector product on every pixel: `acc[p][h] = sum_w weights[h][w] * x[p][w]`,
/// optionally followed by a multi-threshold activation. A fully connected layer is the
/// one-pixel case; a convolution is a sliding-window generator feeding one (its weight
/// columns in the window's (ky, kx, c) order). When the input's channels are not MW but the
/// whole tensor is (`H*W*C == MW`), the tensor is one vector in channels-last order (a
/// flatten: the stream is the same) and the output is 1x1xMH.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct Thresholding {
    /// Channels; they repeat within a pixel when fewer than the tensor's channels.
    pub channels: usize,
    pub input_type: DataType,
    pub thresholds: Thresholds,
}

/// Top-k: outputs the indices of the `k` largest of `labels` inputs, largest first; ties
/// go to the lower index (ONNX TopK).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// The activation part of a summary: the thresholds, or what goes out without them.
fn activation_summary(t: Option<&Thresholds>, none: &str) -> String {
    match t {
        Some(t) => format!(
            "{} thresholds x {} rows -> {}",
            t.per_channel(),
            t.rows.len(),
            t.out_type
        ),
        None => none.to_string(),
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

/// The range of the dot products of weight rows (`row` values each) with every input of
/// type `input`: the smallest row minimum and the largest row maximum.
fn rows_range(weights: &[i64], row: usize, input: DataType) -> (i64, i64) {
    let (xlo, xhi) = (input.min(), input.max());
    let mut lo = i64::MAX;
    let mut hi = i64::MIN;
    for r in weights.chunks(row.max(1)) {
        let (mut rlo, mut rhi) = (0i64, 0i64);
        for &w in r {
            let (a, b) = (w * xlo, w * xhi);
            rlo += a.min(b);
            rhi += a.max(b);
        }
        lo = lo.min(rlo);
        hi = hi.max(rhi);
    }
    if weights.is_empty() { (0, 0) } else { (lo, hi) }
}

impl MatrixVector {
    pub fn weight(&self, h: usize, w: usize) -> i64 {
        self.weights[h * self.mw + w]
    }

    /// Exact range of the accumulator over every possible input vector.
    pub fn acc_range(&self) -> (i64, i64) {
        rows_range(&self.weights, self.mw, self.input_type)
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
        if self.mw > super::MAX_STREAM_ELEMS || self.mh > super::MAX_STREAM_ELEMS {
            return Err(format!(
                "matrix is {}x{}; at most {} on a side",
                self.mh,
                self.mw,
                super::MAX_STREAM_ELEMS
            ));
        }
        if Some(self.weights.len()) != self.mw.checked_mul(self.mh) {
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
        let thr = activation_summary(self.thresholds.as_ref(), "no activation (accumulator out)");
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
        same_type(self.input_type, t.dtype, "input_type")?;
        if t.channels() == self.mw {
            Ok(vec![TensorType::new(
                [t.shape[0], t.shape[1], self.mh],
                self.output_type(),
            )])
        } else if t.elems() == self.mw {
            Ok(vec![TensorType::vector(self.mh, self.output_type())])
        } else {
            Err(format!(
                "takes vectors of {} elements (MW) but its input has {} channels ({t}); \
                 make MW equal the input's channels (or its {} elements, flattened)",
                self.mw,
                t.channels(),
                t.elems()
            ))
        }
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
        if self.k == 0 || self.k > self.labels || self.labels > 1 << 16 {
            return Err(format!(
                "k = {} must be between 1 and the {} labels (at most 65,536 labels)",
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

/// Sliding-window generator (the streaming im2col, FINN's ConvolutionInputGenerator): for
/// each output pixel (oy, ox) in raster order, the window's elements in (ky, kx, c) order,
/// element `(oy*SH + ky*DH, ox*SW + kx*DW, c)` of the input. Output: OH x OW x (KH*KW*C) with
/// `O = (I + P0 + P1 - D*(K-1) - 1) / S + 1` (floor: rows and columns no window reaches are
/// dropped). The input may be framed by `pad` rows and columns of `pad_value` first (a
/// convolution's own padding, fused here so that a window generator in parallel mode need
/// not spend cycles on it); an explicit `Pad` node is [`Pad`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlidingWindow {
    /// `[KH, KW]`.
    pub kernel: [usize; 2],
    /// `[SH, SW]`.
    pub stride: [usize; 2],
    /// `[DH, DW]`.
    #[serde(default = "ones")]
    pub dilation: [usize; 2],
    /// `[top, left, bottom, right]` rows and columns of `pad_value` around the input.
    #[serde(default, skip_serializing_if = "is_zero_pads")]
    pub pad: [usize; 4],
    /// The integer the padding holds (the level float 0 quantizes to).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub pad_value: i64,
    pub input_type: DataType,
}

fn ones() -> [usize; 2] {
    [1, 1]
}

fn is_zero_pads(p: &[usize; 4]) -> bool {
    *p == [0; 4]
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

impl SlidingWindow {
    /// Output height and width for an input of `h x w` (before padding), if a window fits.
    pub fn out_dims(&self, h: usize, w: usize) -> Option<[usize; 2]> {
        let [pt, pl, pb, pr] = self.pad;
        let h = h.checked_add(pt)?.checked_add(pb)?;
        let w = w.checked_add(pl)?.checked_add(pr)?;
        let span = |k: usize, d: usize| d.checked_mul(k.checked_sub(1)?)?.checked_add(1);
        let eh = span(self.kernel[0], self.dilation[0])?;
        let ew = span(self.kernel[1], self.dilation[1])?;
        if eh > h || ew > w {
            return None;
        }
        Some([(h - eh) / self.stride[0] + 1, (w - ew) / self.stride[1] + 1])
    }
}

impl OpKind for SlidingWindow {
    fn kind(&self) -> &'static str {
        "SlidingWindow"
    }

    fn summary(&self) -> String {
        let [t, l, b, r] = self.pad;
        let pad = if self.pad == [0; 4] {
            String::new()
        } else {
            format!(
                ", padding top {t} left {l} bottom {b} right {r} with {}",
                self.pad_value
            )
        };
        format!(
            "kernel {}x{}, stride {}x{}, dilation {}x{}{pad}: {}",
            self.kernel[0],
            self.kernel[1],
            self.stride[0],
            self.stride[1],
            self.dilation[0],
            self.dilation[1],
            self.input_type
        )
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        let t = one_input(inputs)?;
        same_type(self.input_type, t.dtype, "input_type")?;
        if self.kernel.contains(&0) || self.stride.contains(&0) || self.dilation.contains(&0) {
            return Err("kernel, stride and dilation must be at least 1".into());
        }
        if self.pad.iter().any(|&p| p > 64) {
            return Err(format!("padding {:?} is larger than 64", self.pad));
        }
        if self.pad != [0; 4] && !self.input_type.contains(self.pad_value) {
            return Err(format!(
                "pad value {} is not a {} value",
                self.pad_value, self.input_type
            ));
        }
        if self.kernel.iter().any(|&k| k > 64) || self.stride.iter().any(|&k| k > 64) {
            return Err(format!(
                "kernel {:?} or stride {:?} is larger than 64",
                self.kernel, self.stride
            ));
        }
        let [h, w, c] = t.shape;
        let Some([oh, ow]) = self.out_dims(h, w) else {
            return Err(format!(
                "a {}x{} kernel with dilation {}x{} does not fit the {h}x{w} input; \
                 pad the input or use a smaller kernel",
                self.kernel[0], self.kernel[1], self.dilation[0], self.dilation[1]
            ));
        };
        let k = self.kernel[0] * self.kernel[1];
        let win = k
            .checked_mul(c)
            .filter(|&v| v <= 1 << 24)
            .ok_or_else(|| format!("a window of {k} x {c} elements is too large"))?;
        Ok(vec![TensorType::new([oh, ow, win], self.input_type)])
    }

    fn eval(&self, inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>> {
        let [h, w, c] = inputs[0].shape;
        let [oh, ow] = self.out_dims(h, w).expect("inferred");
        let [kh, kw] = self.kernel;
        let [pt, pl, _, _] = self.pad;
        let x = x[0];
        let mut out = Vec::with_capacity(oh * ow * kh * kw * c);
        for oy in 0..oh {
            for ox in 0..ow {
                for ky in 0..kh {
                    for kx in 0..kw {
                        // position in the padded input, then in the input
                        let y = (oy * self.stride[0] + ky * self.dilation[0]).checked_sub(pt);
                        let xx = (ox * self.stride[1] + kx * self.dilation[1]).checked_sub(pl);
                        match (y, xx) {
                            (Some(y), Some(xx)) if y < h && xx < w => {
                                let at = (y * w + xx) * c;
                                out.extend_from_slice(&x[at..at + c]);
                            }
                            _ => out.extend(std::iter::repeat_n(self.pad_value, c)),
                        }
                    }
                }
            }
        }
        vec![out]
    }
}

/// Padding: the input framed by `pads` rows/columns of `value` (the integer a float 0
/// quantizes to). Output: (PT + H + PB) x (PL + W + PR) x C.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pad {
    /// `[top, left, bottom, right]`, as ONNX orders the spatial pads.
    pub pads: [usize; 4],
    pub value: i64,
    pub input_type: DataType,
}

impl OpKind for Pad {
    fn kind(&self) -> &'static str {
        "Pad"
    }

    fn summary(&self) -> String {
        let [t, l, b, r] = self.pads;
        format!(
            "top {t} left {l} bottom {b} right {r} with {}: {}",
            self.value, self.input_type
        )
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        let t = one_input(inputs)?;
        same_type(self.input_type, t.dtype, "input_type")?;
        if !self.input_type.contains(self.value) {
            return Err(format!(
                "pad value {} is not a {} value",
                self.value, self.input_type
            ));
        }
        if self.pads.iter().any(|&p| p > 64) {
            return Err(format!("pads {:?}: at most 64 on a side", self.pads));
        }
        let [h, w, c] = t.shape;
        let [pt, pl, pb, pr] = self.pads;
        Ok(vec![TensorType::new(
            [pt + h + pb, pl + w + pr, c],
            self.input_type,
        )])
    }

    fn eval(&self, inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>> {
        let [h, w, c] = inputs[0].shape;
        let [pt, pl, pb, pr] = self.pads;
        let (oh, ow) = (pt + h + pb, pl + w + pr);
        let mut out = vec![self.value; oh * ow * c];
        for y in 0..h {
            let src = &x[0][y * w * c..(y + 1) * w * c];
            let at = ((y + pt) * ow + pl) * c;
            out[at..at + w * c].copy_from_slice(src);
        }
        vec![out]
    }
}

/// What a pool computes over a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum PoolMode {
    /// The largest value (for bipolar: OR).
    Max,
    /// The sum, exact (average pooling: the division is absorbed downstream).
    Sum,
}

/// Pooling: each channel reduced over `positions` window positions. Windowed (after a
/// sliding-window generator): input H x W x (positions*C) in (position, c) order, output
/// H x W x C. Global (`global`): input H x W x C with `H*W == positions`, output 1x1xC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    pub mode: PoolMode,
    pub channels: usize,
    pub positions: usize,
    #[serde(default)]
    pub global: bool,
    pub input_type: DataType,
}

impl Pool {
    /// Output type: the input's for max; for a sum, the narrowest holding
    /// `positions * min ..= positions * max`.
    pub fn output_type(&self) -> DataType {
        match self.mode {
            PoolMode::Max => self.input_type,
            PoolMode::Sum => {
                let n = self.positions as i64;
                DataType::smallest_containing(
                    n.saturating_mul(self.input_type.min()),
                    n.saturating_mul(self.input_type.max()),
                )
            }
        }
    }
}

impl OpKind for Pool {
    fn kind(&self) -> &'static str {
        "Pool"
    }

    fn summary(&self) -> String {
        format!(
            "{:?} over {} positions{}, {} channels: {} -> {}",
            self.mode,
            self.positions,
            if self.global { " (global)" } else { "" },
            self.channels,
            self.input_type,
            self.output_type()
        )
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        let t = one_input(inputs)?;
        same_type(self.input_type, t.dtype, "input_type")?;
        if self.channels == 0
            || self.positions == 0
            || self.positions > 1 << 20
            || self.channels > super::MAX_STREAM_ELEMS
        {
            return Err(format!(
                "{} channels and {} positions: both must be at least 1 (positions at most 2^20)",
                self.channels, self.positions
            ));
        }
        if !self.input_type.is_valid() || self.input_type.bits() > 32 {
            return Err(format!("input type {} out of range", self.input_type));
        }
        if self.mode == PoolMode::Sum && !self.output_type().is_valid() {
            return Err(format!(
                "the sum of {} {} values does not fit {} bits",
                self.positions,
                self.input_type,
                super::MAX_BITS
            ));
        }
        let [h, w, c] = t.shape;
        if self.global {
            if h.checked_mul(w) != Some(self.positions) || c != self.channels {
                return Err(format!(
                    "a global pool over {} positions of {} channels cannot take {t}",
                    self.positions, self.channels
                ));
            }
            Ok(vec![TensorType::vector(self.channels, self.output_type())])
        } else {
            if Some(c) != self.positions.checked_mul(self.channels) {
                return Err(format!(
                    "takes windows of {} positions x {} channels, but its input has {c} channels ({t})",
                    self.positions, self.channels
                ));
            }
            Ok(vec![TensorType::new(
                [h, w, self.channels],
                self.output_type(),
            )])
        }
    }

    fn eval(&self, _inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>> {
        let c = self.channels;
        let group = self.positions * c;
        let mut out = Vec::with_capacity(x[0].len() / self.positions);
        for win in x[0].chunks_exact(group) {
            for ch in 0..c {
                let vals = (0..self.positions).map(|p| win[p * c + ch]);
                out.push(match self.mode {
                    PoolMode::Max => vals.max().expect("at least one position"),
                    PoolMode::Sum => vals.sum(),
                });
            }
        }
        vec![out]
    }
}

/// Stream duplication: `outputs` identical copies of the input stream, one per output port
/// (a stream has one consumer, so a tensor read by several nodes goes through one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Duplicate {
    /// Output ports, 2 to [`MAX_DUPLICATE_OUTPUTS`].
    pub outputs: usize,
    pub input_type: DataType,
}

/// Most output ports of a [`Duplicate`].
pub const MAX_DUPLICATE_OUTPUTS: usize = 16;

impl OpKind for Duplicate {
    fn kind(&self) -> &'static str {
        "Duplicate"
    }

    fn summary(&self) -> String {
        format!("{} copies: {}", self.outputs, self.input_type)
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        let t = one_input(inputs)?;
        same_type(self.input_type, t.dtype, "input_type")?;
        if !(2..=MAX_DUPLICATE_OUTPUTS).contains(&self.outputs) {
            return Err(format!(
                "{} outputs: a duplicate has 2 to {MAX_DUPLICATE_OUTPUTS}",
                self.outputs
            ));
        }
        if !self.input_type.is_valid() || self.input_type.bits() > 32 {
            return Err(format!("input type {} out of range", self.input_type));
        }
        Ok(vec![*t; self.outputs])
    }

    fn eval(&self, _inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>> {
        vec![x[0].to_vec(); self.outputs]
    }
}

/// Most bits an [`Add`] operand is shifted left by.
pub const MAX_ADD_SHIFT: u32 = 16;

/// Elementwise sum of two streams of one shape (a residual add):
/// `s = (a << shifts[0]) + (b << shifts[1])`, then an optional multi-threshold activation
/// on channel `i % C` (the requantizer after the add, absorbed). The shifts match operands
/// whose scales differ by a power of two. Without thresholds the output is the sum, in the
/// narrowest type holding its range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Add {
    /// Types of input ports 0 and 1.
    pub input_types: [DataType; 2],
    #[serde(default)]
    pub shifts: [u32; 2],
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
}

impl Add {
    /// Exact range of the sum.
    pub fn sum_range(&self) -> (i64, i64) {
        let term = |i: usize| {
            let f = 1i64 << self.shifts[i].min(MAX_ADD_SHIFT);
            (self.input_types[i].min() * f, self.input_types[i].max() * f)
        };
        let ((a0, a1), (b0, b1)) = (term(0), term(1));
        (a0 + b0, a1 + b1)
    }

    /// Type of the sum: the narrowest integer holding [`Self::sum_range`].
    pub fn sum_type(&self) -> DataType {
        let (lo, hi) = self.sum_range();
        DataType::smallest_containing(lo, hi)
    }

    pub fn output_type(&self) -> DataType {
        match &self.thresholds {
            Some(t) => t.out_type,
            None => self.sum_type(),
        }
    }

    /// The sum of one element pair.
    pub fn sum(&self, a: i64, b: i64) -> i64 {
        (a << self.shifts[0]) + (b << self.shifts[1])
    }
}

impl OpKind for Add {
    fn kind(&self) -> &'static str {
        "Add"
    }

    fn num_inputs(&self) -> usize {
        2
    }

    fn summary(&self) -> String {
        let (lo, hi) = self.sum_range();
        let thr = activation_summary(self.thresholds.as_ref(), "no activation (sum out)");
        format!(
            "({} << {}) + ({} << {}) -> {} [{lo}, {hi}]; {thr}",
            self.input_types[0],
            self.shifts[0],
            self.input_types[1],
            self.shifts[1],
            self.sum_type()
        )
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        let [a, b] = inputs else {
            return Err(format!("takes 2 inputs, {} given", inputs.len()));
        };
        for (i, t) in [a, b].into_iter().enumerate() {
            let want = self.input_types[i];
            if !want.is_valid() || want.bits() > 32 {
                return Err(format!(
                    "input {i} type {want} out of range (at most 32 bits)"
                ));
            }
            if want != t.dtype {
                return Err(format!(
                    "its input {i} type is {want} but that stream carries {}; make them equal",
                    t.dtype
                ));
            }
        }
        if a.shape != b.shape {
            return Err(format!(
                "adds streams of one shape, but its inputs are {a} and {b}"
            ));
        }
        if self.shifts.iter().any(|&s| s > MAX_ADD_SHIFT) {
            return Err(format!(
                "shifts {:?}: at most {MAX_ADD_SHIFT} bits",
                self.shifts
            ));
        }
        if self.sum_type().bits() > 40 {
            return Err(format!(
                "the sum would need {} bits (at most 40)",
                self.sum_type().bits()
            ));
        }
        if let Some(t) = &self.thresholds {
            t.check(a.channels())?;
        }
        Ok(vec![TensorType::new(a.shape, self.output_type())])
    }

    fn eval(&self, inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>> {
        let c = inputs[0].channels().max(1);
        vec![
            x[0].iter()
                .zip(x[1])
                .enumerate()
                .map(|(i, (&a, &b))| {
                    let s = self.sum(a, b);
                    match &self.thresholds {
                        Some(t) => t.apply(i % c, s),
                        None => s,
                    }
                })
                .collect(),
        ]
    }
}

/// Depthwise dot product (the vector-vector unit): per pixel of an input
/// H x W x (K*C) window stream in the sliding-window generator's (k, c) order
/// (`k = ky*KW + kx`), `acc[c] = sum_k weights[c][k] * x[k*C + c]`, optionally followed by
/// a per-channel multi-threshold activation. Output H x W x C. A depthwise convolution is
/// a sliding-window generator feeding one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorVector {
    pub channels: usize,
    /// Kernel positions K (KH*KW).
    pub kernel: usize,
    pub input_type: DataType,
    pub weight_type: DataType,
    /// Row-major `[channels][kernel]`, semantic values.
    pub weights: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
}

impl VectorVector {
    pub fn weight(&self, c: usize, k: usize) -> i64 {
        self.weights[c * self.kernel + k]
    }

    /// Exact range of the accumulator over every possible input.
    pub fn acc_range(&self) -> (i64, i64) {
        rows_range(&self.weights, self.kernel, self.input_type)
    }

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

    fn check(&self) -> Result<(), String> {
        if self.channels == 0 || self.kernel == 0 {
            return Err(format!(
                "{} channels and {} kernel positions: both must be at least 1",
                self.channels, self.kernel
            ));
        }
        if self.channels > super::MAX_STREAM_ELEMS || self.kernel > 64 * 64 {
            return Err(format!(
                "{} channels x {} kernel positions is too large",
                self.channels, self.kernel
            ));
        }
        for (what, t) in [("input", self.input_type), ("weight", self.weight_type)] {
            if !t.is_activation_type() {
                return Err(format!(
                    "{what} type {t} out of range: use BIPOLAR, BINARY or 2..8-bit integers"
                ));
            }
        }
        if Some(self.weights.len()) != self.channels.checked_mul(self.kernel) {
            return Err(format!(
                "has {} weights; channels*kernel = {}*{} expected",
                self.weights.len(),
                self.channels,
                self.kernel
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
                i / self.kernel,
                i % self.kernel,
                self.weight_type
            ));
        }
        if !self.acc_type().is_valid() || self.acc_type().bits() > 40 {
            return Err(format!(
                "accumulator would need {} bits",
                self.acc_type().bits()
            ));
        }
        if let Some(t) = &self.thresholds {
            t.check(self.channels)?;
        }
        Ok(())
    }
}

impl OpKind for VectorVector {
    fn kind(&self) -> &'static str {
        "VectorVector"
    }

    fn summary(&self) -> String {
        let (lo, hi) = self.acc_range();
        let thr = activation_summary(self.thresholds.as_ref(), "no activation (accumulator out)");
        format!(
            "depthwise {} channels x {} positions: in {} x w {} -> acc {} [{lo}, {hi}]; {thr}",
            self.channels,
            self.kernel,
            self.input_type,
            self.weight_type,
            self.acc_type()
        )
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        self.check()?;
        let t = one_input(inputs)?;
        same_type(self.input_type, t.dtype, "input_type")?;
        if Some(t.channels()) != self.channels.checked_mul(self.kernel) {
            return Err(format!(
                "takes windows of {} positions x {} channels, but its input has {} channels ({t})",
                self.kernel,
                self.channels,
                t.channels()
            ));
        }
        Ok(vec![TensorType::new(
            [t.shape[0], t.shape[1], self.channels],
            self.output_type(),
        )])
    }

    fn eval(&self, _inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>> {
        let (c, k) = (self.channels, self.kernel);
        let mut out = Vec::with_capacity(x[0].len() / k);
        for win in x[0].chunks_exact(c * k) {
            for ch in 0..c {
                let acc: i64 = (0..k).map(|p| self.weight(ch, p) * win[p * c + ch]).sum();
                out.push(match &self.thresholds {
                    Some(t) => t.apply(ch, acc),
                    None => acc,
                });
            }
        }
        vec![out]
    }
}

/// Most input ports of a [`Concat`] (as many as a [`Duplicate`] has outputs; the FIFO
/// analysis's schedules hold a port set in 32 bits).
pub const MAX_CONCAT_INPUTS: usize = 16;

/// Concatenation along channels (FINN's StreamingConcat): streams of one height and width,
/// input `i` with `channels[i]` channels; each output pixel holds input 0's channels, then
/// input 1's, and so on. Values keep their meaning: the output type is the inputs' type when
/// they all have one, else the narrowest integer holding every input's values (a bipolar
/// input's -1 and +1 among them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Concat {
    /// Types of the input ports, 2 to [`MAX_CONCAT_INPUTS`].
    pub input_types: Vec<DataType>,
    /// Channels of each input port.
    pub channels: Vec<usize>,
}

impl Concat {
    /// The output's element type (see the type's doc).
    pub fn output_type(&self) -> DataType {
        concat_type(&self.input_types)
    }

    /// Channels of the output.
    pub fn out_channels(&self) -> usize {
        self.channels.iter().sum()
    }
}

/// The narrowest type holding every value of `types`: their type when they agree; a
/// 1-bit unsigned range is BINARY.
pub fn concat_type(types: &[DataType]) -> DataType {
    match types.split_first() {
        None => DataType::Binary,
        Some((first, rest)) if rest.iter().all(|t| t == first) => *first,
        Some(_) => {
            let lo = types.iter().map(|t| DataType::min(*t)).min().unwrap_or(0);
            let hi = types.iter().map(|t| DataType::max(*t)).max().unwrap_or(0);
            match DataType::smallest_containing(lo, hi) {
                DataType::UInt(1) => DataType::Binary,
                t => t,
            }
        }
    }
}

impl OpKind for Concat {
    fn kind(&self) -> &'static str {
        "Concat"
    }

    fn num_inputs(&self) -> usize {
        self.input_types.len()
    }

    fn summary(&self) -> String {
        let parts: Vec<String> = self
            .input_types
            .iter()
            .zip(&self.channels)
            .map(|(t, c)| format!("{c} x {t}"))
            .collect();
        format!(
            "channels {} -> {} x {}",
            parts.join(" + "),
            self.out_channels(),
            self.output_type()
        )
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<Vec<TensorType>, String> {
        let n = self.input_types.len();
        if !(2..=MAX_CONCAT_INPUTS).contains(&n) {
            return Err(format!("{n} inputs: a concat has 2 to {MAX_CONCAT_INPUTS}"));
        }
        if self.channels.len() != n {
            return Err(format!(
                "{n} input types but {} channel counts; give one of each a port",
                self.channels.len()
            ));
        }
        if inputs.len() != n {
            return Err(format!("takes {n} inputs, {} given", inputs.len()));
        }
        let [h, w, _] = inputs[0].shape;
        for (i, (t, (&want, &c))) in inputs
            .iter()
            .zip(self.input_types.iter().zip(&self.channels))
            .enumerate()
        {
            if !want.is_valid() || want.bits() > 32 {
                return Err(format!(
                    "input {i} type {want} out of range (at most 32 bits)"
                ));
            }
            if want != t.dtype {
                return Err(format!(
                    "its input {i} type is {want} but that stream carries {}; make them equal",
                    t.dtype
                ));
            }
            if c == 0 || c != t.channels() {
                return Err(format!(
                    "its input {i} has {c} channels by the op but the stream {t} has {}; make them equal (at least 1)",
                    t.channels()
                ));
            }
            if t.shape[0] != h || t.shape[1] != w {
                return Err(format!(
                    "concatenates channels of pixels of one height and width, but input 0 is {} and input {i} is {t}",
                    inputs[0]
                ));
            }
        }
        let c = self.out_channels();
        if c > super::MAX_STREAM_ELEMS {
            return Err(format!(
                "{c} output channels; at most {}",
                super::MAX_STREAM_ELEMS
            ));
        }
        Ok(vec![TensorType::new([h, w, c], self.output_type())])
    }

    fn eval(&self, inputs: &[TensorType], x: &[&[i64]]) -> Vec<Vec<i64>> {
        let pixels = inputs[0].shape[0] * inputs[0].shape[1];
        let mut out = Vec::with_capacity(pixels * self.out_channels());
        for p in 0..pixels {
            for (xi, &c) in x.iter().zip(&self.channels) {
                out.extend_from_slice(&xi[p * c..(p + 1) * c]);
            }
        }
        vec![out]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DataType::{Binary, Bipolar, Int, UInt};

    fn cat(types: &[DataType], channels: &[usize]) -> Concat {
        Concat {
            input_types: types.to_vec(),
            channels: channels.to_vec(),
        }
    }

    #[test]
    fn concat_infers_channels_and_a_type_holding_every_value() {
        let c = cat(&[Bipolar, UInt(3)], &[2, 3]);
        let ins = [
            TensorType::new([2, 2, 2], Bipolar),
            TensorType::new([2, 2, 3], UInt(3)),
        ];
        assert_eq!(
            c.infer(&ins).unwrap(),
            vec![TensorType::new([2, 2, 5], Int(4))]
        );
        // per pixel: input 0's channels, then input 1's
        let a = [1, -1, -1, 1, 1, 1, -1, -1];
        let b: Vec<i64> = (0..12).collect();
        let out = c.eval(&ins, &[&a, &b]);
        assert_eq!(
            out[0][..10],
            [1, -1, 0, 1, 2, -1, 1, 3, 4, 5],
            "{:?}",
            out[0]
        );
        assert_eq!(cat(&[Binary, Binary], &[1, 1]).output_type(), Binary);
    }

    #[test]
    fn concat_refuses_what_does_not_fit() {
        let t = |h, c, d| TensorType::new([h, 1, c], d);
        let err = |c: Concat, ins: &[TensorType]| c.infer(ins).unwrap_err();
        let e = err(
            cat(&[Int(2), Int(2)], &[2, 2]),
            &[t(2, 2, Int(2)), t(3, 2, Int(2))],
        );
        assert!(e.contains("one height and width"), "{e}");
        let e = err(
            cat(&[Int(2), Int(2)], &[2, 3]),
            &[t(2, 2, Int(2)), t(2, 2, Int(2))],
        );
        assert!(e.contains("input 1 has 3 channels"), "{e}");
        let e = err(
            cat(&[Int(2), UInt(2)], &[2, 2]),
            &[t(2, 2, Int(2)), t(2, 2, Int(2))],
        );
        assert!(e.contains("input 1 type is UINT2"), "{e}");
        let e = err(cat(&[Int(2)], &[2]), &[t(2, 2, Int(2))]);
        assert!(e.contains("2 to 16"), "{e}");
        let e = err(cat(&[Int(2); 17], &[1; 17]), &[t(1, 1, Int(2)); 17]);
        assert!(e.contains("2 to 16"), "{e}");
        let e = err(cat(&[Int(2), Int(2)], &[2]), &[t(1, 2, Int(2)); 2]);
        assert!(e.contains("channel counts"), "{e}");
    }

    #[test]
    fn concat_json_is_strict() {
        let op: Op = serde_json::from_str(
            r#"{"kind": "Concat", "input_types": ["INT4", "BIPOLAR"], "channels": [3, 5]}"#,
        )
        .unwrap();
        assert_eq!(op, Op::Concat(cat(&[Int(4), Bipolar], &[3, 5])));
        assert!(
            serde_json::from_str::<Op>(
                r#"{"kind": "Concat", "input_types": ["INT4"], "channels": [3], "axis": 1}"#
            )
            .is_err()
        );
    }
}
