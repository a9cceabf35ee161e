//! Padding engine (FINN's FMPadding idea): an `height x width x channels` frame (channels
//! last) out as the frame with `pad_top`/`pad_bottom` rows and `pad_left`/`pad_right`
//! columns of a constant around it, `simd` channels a beat in and out. The engine emits one
//! beat a cycle; pad beats need no input, but a frame starts only once its first input beat
//! is offered, so the pad beats of a frame never run ahead of the frame's input (a stream
//! ends with its last frame, not with the top pad of a frame that never comes).

use crate::emit::{counter_bits, lit};
use crate::ir::DataType;

/// Parameters of a padding engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pad {
    /// Input rows (H), columns (W) and channels (C).
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    /// Channels a beat (divides C).
    pub simd: usize,
    pub pad_top: usize,
    pub pad_bottom: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    /// The value of a pad element (a value of `elem_type`: what float 0 quantizes to; ±1
    /// for bipolar).
    pub value: i64,
    pub elem_type: DataType,
}

impl Pad {
    /// Whether the parameters make an engine; the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("height", self.height),
            ("width", self.width),
            ("channels", self.channels),
            ("simd", self.simd),
        ] {
            if v == 0 {
                return Err(format!("pad: {name} is 0; it must be at least 1"));
            }
        }
        if !self.channels.is_multiple_of(self.simd) {
            return Err(format!(
                "pad: simd {} does not divide the {} channels; choose a divisor of {}",
                self.simd, self.channels, self.channels
            ));
        }
        if !self.elem_type.is_valid() {
            return Err(format!(
                "pad: element type {} has an unsupported width",
                self.elem_type
            ));
        }
        if !self.elem_type.contains(self.value) {
            return Err(format!(
                "pad: pad value {} is outside {} ({}..={}{})",
                self.value,
                self.elem_type,
                self.elem_type.min(),
                self.elem_type.max(),
                if self.elem_type == DataType::Bipolar {
                    ", without 0"
                } else {
                    ""
                }
            ));
        }
        let size = self
            .height
            .checked_add(self.pad_top)
            .and_then(|h| h.checked_add(self.pad_bottom))
            .zip(
                self.width
                    .checked_add(self.pad_left)
                    .and_then(|w| w.checked_add(self.pad_right)),
            )
            .and_then(|(h, w)| h.checked_mul(w)?.checked_mul(self.channels));
        if size.is_none() {
            return Err("pad: the padded frame size overflows".into());
        }
        Ok(())
    }

    /// Rows and columns of the padded frame.
    pub fn out_height(&self) -> usize {
        self.height + self.pad_top + self.pad_bottom
    }

    pub fn out_width(&self) -> usize {
        self.width + self.pad_left + self.pad_right
    }

    /// Channel folds: beats a pixel.
    pub fn folds(&self) -> usize {
        self.channels / self.simd
    }

    /// Input beats a frame.
    pub fn in_beats(&self) -> usize {
        self.height * self.width * self.folds()
    }

    /// Output beats a frame.
    pub fn out_beats(&self) -> usize {
        self.out_height() * self.out_width() * self.folds()
    }

    /// The output element type (the input's).
    pub fn out_type(&self) -> DataType {
        self.elem_type
    }

    /// Cycles a frame in steady state (source always valid, sink always ready): one output
    /// beat a cycle, `(H + top + bottom) * (W + left + right) * C / SIMD`.
    pub fn exp_cycles(&self) -> u64 {
        self.out_beats() as u64
    }

    /// The padded frame of one input frame `x` (semantic values, rows, columns, channels).
    pub fn golden(&self, x: &[i64]) -> Vec<i64> {
        let c = self.channels;
        assert_eq!(
            x.len(),
            self.height * self.width * c,
            "pad golden: a frame has height x width x channels values"
        );
        let mut out = Vec::with_capacity(self.out_height() * self.out_width() * c);
        for r in 0..self.out_height() {
            for col in 0..self.out_width() {
                let inside = (self.pad_top..self.pad_top + self.height).contains(&r)
                    && (self.pad_left..self.pad_left + self.width).contains(&col);
                if inside {
                    let base = ((r - self.pad_top) * self.width + col - self.pad_left) * c;
                    out.extend_from_slice(&x[base..base + c]);
                } else {
                    out.extend(std::iter::repeat_n(self.value, c));
                }
            }
        }
        out
    }

    /// The template context (`engines/pad.v`). Call [`Pad::check`] first.
    pub fn context(
        &self,
        module: &str,
        header: Vec<String>,
        skid_module: &str,
    ) -> ferrite_rtl::Pad {
        let bits = self.elem_type.bits();
        let width = self.simd * bits as usize;
        let (oh, ow, folds) = (self.out_height(), self.out_width(), self.folds());
        let (cf_bits, w_bits, h_bits) = (counter_bits(folds), counter_bits(ow), counter_bits(oh));
        let flag = |b: bool| if b { "1'b1" } else { "1'b0" }.to_string();
        ferrite_rtl::Pad {
            module: module.into(),
            header,
            skid_module: skid_module.into(),
            simd: self.simd,
            bits,
            in_h: self.height,
            in_w: self.width,
            out_h: oh,
            out_w: ow,
            channels: self.channels,
            pads: format!(
                "pads top {}, bottom {}, left {}, right {}",
                self.pad_top, self.pad_bottom, self.pad_left, self.pad_right
            ),
            pad_value: self.value,
            msb: width - 1,
            width,
            pad_beat: replicated_hex(self.elem_type.encode(self.value), bits, self.simd),
            cf_msb: cf_bits - 1,
            cf_zero: lit(cf_bits, 0),
            cf_one: lit(cf_bits, 1),
            cf_last: lit(cf_bits, (folds - 1) as i64),
            w_msb: w_bits - 1,
            w_zero: lit(w_bits, 0),
            w_one: lit(w_bits, 1),
            w_last: lit(w_bits, (ow - 1) as i64),
            h_msb: h_bits - 1,
            h_zero: lit(h_bits, 0),
            h_one: lit(h_bits, 1),
            h_last: lit(h_bits, (oh - 1) as i64),
            row_in_first: flag(self.pad_top == 0),
            col_in_first: flag(self.pad_left == 0),
            has_left: self.pad_left > 0,
            col_before: lit(w_bits, (self.pad_left.saturating_sub(1)) as i64),
            has_right: self.pad_right > 0,
            col_last_in: lit(w_bits, (self.pad_left + self.width - 1) as i64),
            has_top: self.pad_top > 0,
            row_before: lit(h_bits, (self.pad_top.saturating_sub(1)) as i64),
            has_bottom: self.pad_bottom > 0,
            row_last_in: lit(h_bits, (self.pad_top + self.height - 1) as i64),
        }
    }
}

/// A sized hex literal of `lanes` copies of the `bits`-bit `code` (lane 0 in the LSBs).
pub(crate) fn replicated_hex(code: u64, bits: u32, lanes: usize) -> String {
    let total = bits as usize * lanes;
    let bit = |i: usize| (code >> (i % bits as usize)) & 1;
    let digits: String = (0..total.div_ceil(4))
        .rev()
        .map(|d| {
            let v = (0..4)
                .filter(|k| d * 4 + k < total)
                .fold(0, |acc, k| acc | bit(d * 4 + k) << k);
            char::from_digit(v as u32, 16).expect("a nibble")
        })
        .collect();
    format!("{total}'h{digits}")
}

impl super::Engine for crate::ir::Pad {
    fn module_suffix(&self) -> &'static str {
        "pad"
    }

    fn template(&self) -> &'static str {
        "engines/pad.v"
    }

    fn purpose(&self) -> &'static str {
        "padding (a frame of constant rows and columns around the feature map)"
    }

    fn datapath(&self) -> &'static str {
        "stream"
    }

    fn fold_space(&self, ins: &[crate::ir::TensorType]) -> (Vec<usize>, Vec<usize>) {
        (vec![1], crate::fold::divisors(ins[0].channels()))
    }

    fn fold_terms(&self, ins: &[crate::ir::TensorType]) -> (String, Option<String>) {
        (
            "1 (a padding engine has no PE)".into(),
            Some(format!("the {} channels", ins[0].channels())),
        )
    }

    fn lanes(&self, fold: crate::fold::Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![fold.simd], vec![fold.simd])
    }

    fn exp_cycles(&self, ins: &[crate::ir::TensorType], fold: crate::fold::Fold) -> u64 {
        params(self, ins, fold).exp_cycles()
    }

    fn work(&self, ins: &[crate::ir::TensorType]) -> u64 {
        let [pt, pl, pb, pr] = self.pads;
        let [h, w, c] = ins[0].shape;
        ((pt + h + pb) * (pl + w + pr) * c) as u64
    }

    /// `engines/pad.v`: one output beat a cycle; beats inside the input frame read an input
    /// beat, pad beats do not, and a frame starts only once its first input beat is offered.
    /// A beat enters the next FIFO the cycle after its step (skid buffer).
    fn schedule(
        &self,
        ins: &[crate::ir::TensorType],
        _outs: &[crate::ir::TensorType],
        fold: crate::fold::Fold,
    ) -> crate::fifo::Schedule {
        let p = params(self, ins, fold);
        let mut pattern = Vec::with_capacity(p.out_beats());
        for h in 0..p.out_height() {
            let row_in = h >= p.pad_top && h < p.pad_top + p.height;
            for w in 0..p.out_width() {
                let col_in = w >= p.pad_left && w < p.pad_left + p.width;
                for _ in 0..p.folds() {
                    let inside = row_in && col_in;
                    let mut st = crate::fifo::Step::new(u32::from(inside), 1);
                    if pattern.is_empty() && !inside {
                        st.peek = 1;
                    }
                    pattern.push(st);
                }
            }
        }
        crate::fifo::Schedule::Steps {
            pattern,
            repeat: 1,
            latency: 1,
            reads: format!(
                "reads nothing during its pad rows and columns ({} top, {} bottom, {} left, {} \
                 right) and one beat a cycle in between",
                p.pad_top, p.pad_bottom, p.pad_left, p.pad_right
            ),
            emits: "emits one beat a cycle, pad beats without input".into(),
        }
    }

    fn resources(
        &self,
        _ins: &[crate::ir::TensorType],
        _fold: crate::fold::Fold,
    ) -> super::Resources {
        super::Resources::default()
    }

    /// The beat multiplexer (input or pad value), the channel-fold, column and row counters,
    /// the skid buffer.
    fn cost_terms(
        &self,
        ins: &[crate::ir::TensorType],
        fold: crate::fold::Fold,
        _family: crate::boards::Family,
    ) -> crate::estimate::Terms {
        use crate::estimate::counter_bits as cb;
        let [h, w, c] = ins[0].shape;
        let [pt, pl, pb, pr] = self.pads;
        let beat = fold.simd * self.input_type.bits() as usize;
        crate::estimate::Terms::new(
            "pad",
            [
                beat as f64,
                cb(c / fold.simd) + cb(w + pl + pr) + cb(h + pt + pb),
                0.0,
                0.0,
            ],
        )
    }

    fn describe(&self, ins: &[crate::ir::TensorType], fold: crate::fold::Fold) -> Vec<String> {
        let [pt, pl, pb, pr] = self.pads;
        vec![
            format!(
                "{} -> pads top {pt} left {pl} bottom {pb} right {pr} of {}, SIMD {}",
                ins[0], self.value, fold.simd
            ),
            format!(
                "types: input {}, output {}",
                self.input_type, self.input_type
            ),
        ]
    }

    fn uses_mem(&self, _fold: crate::fold::Fold, _family: crate::boards::Family) -> bool {
        false
    }

    fn render(
        &self,
        cx: &super::RenderCx,
    ) -> Result<Vec<crate::emit::GeneratedFile>, crate::emit::EmitError> {
        let p = params(self, cx.ins, cx.fold);
        super::render_module(cx, "Pad", p.check(), || {
            p.context(cx.module, cx.header.clone(), cx.skid)
        })
    }
}

/// The engine parameters of a pad node on its input under `fold`.
fn params(op: &crate::ir::Pad, ins: &[crate::ir::TensorType], fold: crate::fold::Fold) -> Pad {
    let [h, w, c] = ins[0].shape;
    let [pt, pl, pb, pr] = op.pads;
    Pad {
        height: h,
        width: w,
        channels: c,
        simd: fold.simd,
        pad_top: pt,
        pad_bottom: pb,
        pad_left: pl,
        pad_right: pr,
        value: op.value,
        elem_type: op.input_type,
    }
}
