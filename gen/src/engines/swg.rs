//! Sliding-window generator ("streaming im2col", FINN's ConvolutionInputGenerator): turns a
//! stream of feature maps into the stream of their convolution windows, the input vector of
//! a matrix-vector unit whose weight columns are in (kernel row, kernel column, channel)
//! order. No padding (padding is an engine of its own).
//!
//! Streams (`E` = element bits, `CF = channels / simd` channel folds, `simd` lanes a beat,
//! lane 0 in the least significant bits):
//! - in: one `ifm_h x ifm_w x channels` frame, channels last: beat `(h*W + w)*CF + cf`,
//!   lane `l` holds channel `cf*simd + l`;
//! - out: for each output pixel `(oh, ow)` in raster order, for each kernel position
//!   `(ky, kx)` in raster order, for each channel fold `cf`: one beat holding input element
//!   `(oh*SH + ky*DH, ow*SW + kx*DW, cf*simd + lane)`. Rows and columns no window reaches
//!   are consumed and dropped.
//!
//! Hardware (`engines/swg.v`): a circular buffer of [`SwgParams::depth`] beats with one write
//! port and one registered read port. Input beat `g` (counted over all frames, unused rows
//! and columns included) is written at address `g mod depth`; a counter `fill` = (beats
//! written) - (index of the current window's top-left beat) gates both sides: the reader
//! starts a window when its last beat is written (`fill >= span`), the writer writes while
//! `fill < depth`. Read addresses step by constants modulo `depth`; no multiplier.

use crate::emit::{counter_bits, lit};
use crate::ir::DataType;

/// Shape, folding and element type of a sliding-window generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwgParams {
    pub ifm_h: usize,
    pub ifm_w: usize,
    pub channels: usize,
    pub k_h: usize,
    pub k_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dil_h: usize,
    pub dil_w: usize,
    /// channels a beat; divides `channels`
    pub simd: usize,
    /// element type (the engine only moves its bits)
    pub elem: DataType,
}

/// Largest sum of a non-empty run of consecutive terms (Kadane).
fn max_run(terms: impl Iterator<Item = i64>) -> i64 {
    let mut best = i64::MIN;
    let mut cur = 0i64;
    for t in terms {
        cur = if cur > 0 { cur + t } else { t };
        best = best.max(cur);
    }
    best
}

impl SwgParams {
    /// Output rows: `(ifm_h - dil_h*(k_h-1) - 1) / stride_h + 1` (floor; no padding).
    pub fn ofm_h(&self) -> usize {
        (self.ifm_h - self.dil_h * (self.k_h - 1) - 1) / self.stride_h + 1
    }

    /// Output columns: `(ifm_w - dil_w*(k_w-1) - 1) / stride_w + 1` (floor; no padding).
    pub fn ofm_w(&self) -> usize {
        (self.ifm_w - self.dil_w * (self.k_w - 1) - 1) / self.stride_w + 1
    }

    /// Channel folds: beats a pixel.
    pub fn cf(&self) -> usize {
        self.channels / self.simd
    }

    /// Input beats a frame: `ifm_h * ifm_w * CF`.
    pub fn in_beats(&self) -> usize {
        self.ifm_h * self.ifm_w * self.cf()
    }

    /// Output beats a frame: `ofm_h * ofm_w * k_h * k_w * CF`.
    pub fn out_beats(&self) -> usize {
        self.ofm_h() * self.ofm_w() * self.window_beats()
    }

    /// Beats (and cycles) of one window: `k_h * k_w * CF`.
    pub fn window_beats(&self) -> usize {
        self.k_h * self.k_w * self.cf()
    }

    /// Bits of a beat: `simd * E`.
    pub fn beat_bits(&self) -> usize {
        self.simd * self.elem.bits() as usize
    }

    /// Input beats from a window's top-left beat to its bottom-right beat, both included:
    /// `((k_h-1)*dil_h*ifm_w + (k_w-1)*dil_w) * CF + CF`.
    pub fn span(&self) -> usize {
        let cf = self.cf();
        ((self.k_h - 1) * self.dil_h * self.ifm_w + (self.k_w - 1) * self.dil_w) * cf + cf
    }

    /// Top-left steps (in input beats) to the next window: within an output row, to the
    /// next output row, and to the first window of the next frame.
    fn steps(&self) -> (usize, usize, usize) {
        let cf = self.cf();
        let (ow, oh) = (self.ofm_w(), self.ofm_h());
        let px = self.stride_w * cf;
        let row = (self.stride_h * self.ifm_w - (ow - 1) * self.stride_w) * cf;
        let last = ((oh - 1) * self.stride_h * self.ifm_w + (ow - 1) * self.stride_w) * cf;
        (px, row, self.in_beats() - last)
    }

    /// The step into each window of a frame, in order: `d_0` from the last window of the
    /// previous frame, then the steps within the frame.
    fn step_sequence(&self) -> impl Iterator<Item = usize> + '_ {
        let (px, row, frame) = self.steps();
        let ow = self.ofm_w();
        (0..self.ofm_h() * ow).map(move |p| {
            if p == 0 {
                frame
            } else if !p.is_multiple_of(ow) {
                px
            } else {
                row
            }
        })
    }

    /// The largest top-left step that occurs.
    fn max_step(&self) -> usize {
        self.step_sequence().max().unwrap_or(0)
    }

    /// Depth of the window buffer in beats, `D` below.
    ///
    /// Notation: `S` = [`span`](Self::span), `T` = [`window_beats`](Self::window_beats)
    /// (cycles the reader spends on a window), `d_p` the top-left step into window `p` (the
    /// periodic sequence of top-left steps: `SW*CF` along a row, the row step, the frame
    /// step). With the RTL's timing (a window starts the cycle after its last beat is
    /// written; a beat is written in cycle `u` only if `written - tl(u) < D`, `tl` moving on
    /// the cycle after a window's last read):
    ///
    /// - `out_beats >= in_beats` (the reader is the bottleneck): if the reader never stops,
    ///   windows start at `s_p = s_0 + p*T`; the writer, free to run ahead up to `D`, has by
    ///   cycle `s_p - 1` written `min over q < p of tl_q + D + (s_p - s_(q+1))` beats, which
    ///   must reach `tl_p + S`: `D >= S + max over q < p of ((tl_p - tl_q) - (p-q-1)*T)`, i.e.
    ///   `D = S + T + max over non-empty runs of consecutive windows of sum(d_i - T)`.
    /// - `in_beats > out_beats` (the writer is the bottleneck): if the writer never stops,
    ///   beat `g` is written in cycle `g` and window `p` starts at `s_p = max(s_(p-1) + T,
    ///   tl_p + S)`; with `x_p = s_p - tl_p = S + max(0, max over runs ending at p of
    ///   sum(T - d_i))`, the writer must not be held back while `tl = tl_p`, up to cycle
    ///   `s_p + T - 1`: `D = S + T + max(0, max over runs of sum(T - d_i))`.
    ///
    /// In either case the side that sets the pace never waits in this reference schedule,
    /// and the RTL, which does everything as soon as it may, is never later than it: see
    /// [`exp_cycles`](Self::exp_cycles). Runs longer than a frame never give more (a frame's
    /// steps sum to `in_beats`, its windows take `out_beats` cycles).
    pub fn depth(&self) -> usize {
        let t = self.window_beats() as i64;
        let s = self.span() as i64;
        let n = self.ofm_h() * self.ofm_w();
        // two frames of steps cover every run up to a frame long, whatever its phase
        let seq: Vec<i64> = self.step_sequence().map(|d| d as i64).collect();
        let two = || seq.iter().chain(seq.iter()).copied().take(2 * n);
        let extra = if self.out_beats() >= self.in_beats() {
            max_run(two().map(|d| d - t))
        } else {
            max_run(two().map(|d| t - d)).max(0)
        };
        (s + t + extra) as usize
    }

    /// Bits of the window buffer the RTL declares: `D * simd * E`, where
    /// `D = S + T + max run` is [`depth`](Self::depth): the window span
    /// `S = ((k_h-1)*dil_h*ifm_w + (k_w-1)*dil_w)*CF + CF` beats, plus one window's cycles
    /// `T = k_h*k_w*CF`, plus the largest lead the pacing side needs. When the windows are
    /// the bottleneck, the run is usually the frame step alone and `D = 2*S + (trailing
    /// beats after the last window)`: the last window of a frame and the first of the next
    /// one (for a 3x3 stride-1 kernel on a `W`-wide map: `D = 2*S = (4*W + 6)*CF`, about
    /// four rows; `2*(k-1)*dil` rows and two kernel widths for a `k x k` kernel). This is
    /// the price of no bubble between frames.
    pub fn buffer_bits(&self) -> usize {
        self.depth() * self.beat_bits()
    }

    /// Cycles a frame in steady state with the source always valid and the sink always
    /// ready: `max(in_beats, out_beats)`, exactly.
    ///
    /// Each side moves at most one beat a cycle, so a frame takes at least that. With the
    /// buffer of [`depth`](Self::depth), the reference schedule there, in which the slower
    /// side moves a beat every cycle, meets every condition the RTL checks; the RTL is a
    /// monotone as-soon-as-possible system (every beat moves at the first cycle its
    /// conditions hold), so its beats are never later than the reference's, and its frames
    /// complete exactly `max(in_beats, out_beats)` cycles apart once past the first frames.
    pub fn exp_cycles(&self) -> u64 {
        self.in_beats().max(self.out_beats()) as u64
    }

    /// Why these parameters cannot be built, if so.
    pub fn check(&self) -> Result<(), String> {
        let sizes = [
            ("ifm_h", self.ifm_h),
            ("ifm_w", self.ifm_w),
            ("channels", self.channels),
            ("k_h", self.k_h),
            ("k_w", self.k_w),
            ("stride_h", self.stride_h),
            ("stride_w", self.stride_w),
            ("dil_h", self.dil_h),
            ("dil_w", self.dil_w),
            ("simd", self.simd),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(format!(
                "sliding window: {name} is 0; every size must be at least 1"
            ));
        }
        if !self.channels.is_multiple_of(self.simd) {
            return Err(format!(
                "sliding window: simd {} does not divide the {} channels; use a divisor of {}",
                self.simd, self.channels, self.channels
            ));
        }
        let eh = self.dil_h * (self.k_h - 1) + 1;
        let ew = self.dil_w * (self.k_w - 1) + 1;
        if eh > self.ifm_h || ew > self.ifm_w {
            return Err(format!(
                "sliding window: the {}x{} kernel (dilation {}x{}) spans {eh}x{ew}, larger than the {}x{} input; pad the input first",
                self.k_h, self.k_w, self.dil_h, self.dil_w, self.ifm_h, self.ifm_w
            ));
        }
        let bits = self.elem.bits();
        if bits == 0 || bits > 64 {
            return Err(format!(
                "sliding window: element type {} has {bits} bits; 1 to 64 are supported",
                self.elem
            ));
        }
        Ok(())
    }

    /// The output frame for input frame `x` (`ifm_h * ifm_w * channels` values, channels
    /// last): `ofm_h * ofm_w * k_h * k_w * channels` values in stream order.
    pub fn golden(&self, x: &[i64]) -> Vec<i64> {
        let (w, c) = (self.ifm_w, self.channels);
        assert_eq!(x.len(), self.ifm_h * w * c, "input frame size");
        let mut out = Vec::with_capacity(self.out_beats() * self.simd);
        for oh in 0..self.ofm_h() {
            for ow in 0..self.ofm_w() {
                for ky in 0..self.k_h {
                    for kx in 0..self.k_w {
                        let h = oh * self.stride_h + ky * self.dil_h;
                        let col = ow * self.stride_w + kx * self.dil_w;
                        let at = (h * w + col) * c;
                        out.extend_from_slice(&x[at..at + c]);
                    }
                }
            }
        }
        out
    }

    /// The template context of the engine `module`, its output through `skid_module`.
    pub fn context(
        &self,
        module: &str,
        header: Vec<String>,
        skid_module: &str,
    ) -> ferrite_rtl::Swg {
        let d = self.depth();
        let a = counter_bits(d);
        let aw = a + 1;
        let cf = self.cf();
        let (px, row, frame) = self.steps();
        // steps that never occur (one output column or row) are left at 0
        let fill_px = if self.ofm_w() > 1 { px } else { 0 };
        let fill_row = if self.ofm_h() > 1 { row } else { 0 };
        let bias = self.max_step().saturating_sub(self.span());
        let fb = counter_bits(d + bias + 1);
        // an address step of `inc` modulo d: (inc, threshold d - inc, its low bits)
        let step = |inc: usize| {
            let inc = inc % d;
            let thr = d - inc;
            (lit(a, inc as i64), lit(aw, thr as i64), lit(a, thr as i64))
        };
        let (inc_cf, thr_cf, thr_lo_cf) = step(1);
        let (inc_kx, thr_kx, thr_lo_kx) = step(self.dil_w * cf - (cf - 1));
        let (inc_ky, thr_ky, thr_lo_ky) =
            step(self.dil_h * self.ifm_w * cf - (self.k_w - 1) * self.dil_w * cf - (cf - 1));
        let (inc_px, thr_px, thr_lo_px) = step(px);
        let (inc_row, thr_row, thr_lo_row) = step(row);
        let (inc_frame, thr_frame, thr_lo_frame) = step(frame);
        let counter = |n: usize| {
            let b = counter_bits(n);
            (b - 1, lit(b, (n - 1) as i64), lit(b, 0), lit(b, 1))
        };
        let (cf_msb, cf_last, cf_zero, cf_one) = counter(cf);
        let (kx_msb, kx_last, kx_zero, kx_one) = counter(self.k_w);
        let (ky_msb, ky_last, ky_zero, ky_one) = counter(self.k_h);
        let (ow_msb, ow_last, ow_zero, ow_one) = counter(self.ofm_w());
        let (oh_msb, oh_last, oh_zero, oh_one) = counter(self.ofm_h());
        let width = self.beat_bits();
        ferrite_rtl::Swg {
            module: module.into(),
            header,
            skid_module: skid_module.into(),
            simd: self.simd,
            elem_bits: self.elem.bits(),
            ifm_h: self.ifm_h,
            ifm_w: self.ifm_w,
            channels: self.channels,
            ofm_h: self.ofm_h(),
            ofm_w: self.ofm_w(),
            k_h: self.k_h,
            k_w: self.k_w,
            in_beats: self.in_beats(),
            out_beats: self.out_beats(),
            window_span: self.span(),
            fill_bias: bias,
            data_width: width,
            data_msb: width - 1,
            depth: d,
            depth_last: d - 1,
            addr_msb: a - 1,
            addr_wide_msb: aw - 1,
            addr_last: lit(a, (d - 1) as i64),
            addr_zero: lit(a, 0),
            addr_one: lit(a, 1),
            inc_cf,
            thr_cf,
            thr_lo_cf,
            inc_kx,
            thr_kx,
            thr_lo_kx,
            inc_ky,
            thr_ky,
            thr_lo_ky,
            inc_px,
            thr_px,
            thr_lo_px,
            fill_px: lit(fb, fill_px as i64),
            inc_row,
            thr_row,
            thr_lo_row,
            fill_row: lit(fb, fill_row as i64),
            inc_frame,
            thr_frame,
            thr_lo_frame,
            fill_frame: lit(fb, frame as i64),
            fill_msb: fb - 1,
            fill_zero: lit(fb, bias as i64),
            fill_one: lit(fb, 1),
            fill_need: lit(fb, (self.span() + bias) as i64),
            fill_full: lit(fb, (d + bias) as i64),
            cf_msb,
            cf_last,
            cf_zero,
            cf_one,
            kx_msb,
            kx_last,
            kx_zero,
            kx_one,
            ky_msb,
            ky_last,
            ky_zero,
            ky_one,
            ow_msb,
            ow_last,
            ow_zero,
            ow_one,
            oh_msb,
            oh_last,
            oh_zero,
            oh_one,
        }
    }
}

impl super::Engine for crate::ir::SlidingWindow {
    fn module_suffix(&self) -> &'static str {
        "swg"
    }

    fn template(&self) -> &'static str {
        "engines/swg.v"
    }

    fn purpose(&self) -> &'static str {
        "sliding-window generator (streaming im2col)"
    }

    fn datapath(&self) -> &'static str {
        "window buffer"
    }

    fn fold_space(&self, ins: &[crate::ir::TensorType]) -> (Vec<usize>, Vec<usize>) {
        (vec![1], crate::fold::divisors(ins[0].channels()))
    }

    fn fold_terms(&self, ins: &[crate::ir::TensorType]) -> (String, Option<String>) {
        (
            "1 (a window generator has no PE)".into(),
            Some(format!("the {} input channels", ins[0].channels())),
        )
    }

    fn lanes(&self, fold: crate::fold::Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![fold.simd], vec![fold.simd])
    }

    fn exp_cycles(&self, ins: &[crate::ir::TensorType], fold: crate::fold::Fold) -> u64 {
        params(self, ins, fold).exp_cycles()
    }

    fn work(&self, ins: &[crate::ir::TensorType]) -> u64 {
        let p = params(self, ins, crate::fold::Fold::new(1, 1));
        p.in_beats().max(p.out_beats()) as u64
    }

    /// `engines/swg.v`: its circular buffer, writer and reader, modelled exactly in
    /// [`crate::fifo`].
    fn schedule(
        &self,
        ins: &[crate::ir::TensorType],
        _outs: &[crate::ir::TensorType],
        fold: crate::fold::Fold,
    ) -> crate::fifo::Schedule {
        crate::fifo::Schedule::Window(params(self, ins, fold))
    }

    fn resources(
        &self,
        ins: &[crate::ir::TensorType],
        fold: crate::fold::Fold,
    ) -> super::Resources {
        super::Resources {
            buffer_bits: params(self, ins, fold).buffer_bits(),
            ..super::Resources::default()
        }
    }

    fn describe(&self, ins: &[crate::ir::TensorType], fold: crate::fold::Fold) -> Vec<String> {
        let p = params(self, ins, fold);
        vec![
            format!(
                "{} -> kernel {}x{} stride {}x{} dilation {}x{}, SIMD {}",
                ins[0],
                self.kernel[0],
                self.kernel[1],
                self.stride[0],
                self.stride[1],
                self.dilation[0],
                self.dilation[1],
                fold.simd
            ),
            format!(
                "window buffer: {} beats of {} bits ({} bits)",
                p.depth(),
                p.beat_bits(),
                p.buffer_bits()
            ),
        ]
    }

    fn uses_mem(&self) -> bool {
        false
    }

    fn render(
        &self,
        cx: &super::RenderCx,
    ) -> Result<Vec<crate::emit::GeneratedFile>, crate::emit::EmitError> {
        let p = params(self, cx.ins, cx.fold);
        super::render_module(cx, "SlidingWindow", p.check(), || {
            p.context(cx.module, cx.header.clone(), cx.skid)
        })
    }
}

/// The engine parameters of a window node on its input under `fold`.
fn params(
    op: &crate::ir::SlidingWindow,
    ins: &[crate::ir::TensorType],
    fold: crate::fold::Fold,
) -> SwgParams {
    let [h, w, c] = ins[0].shape;
    SwgParams {
        ifm_h: h,
        ifm_w: w,
        channels: c,
        k_h: op.kernel[0],
        k_w: op.kernel[1],
        stride_h: op.stride[0],
        stride_w: op.stride[1],
        dil_h: op.dilation[0],
        dil_w: op.dilation[1],
        simd: fold.simd,
        elem: op.input_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(
        h: usize,
        w: usize,
        c: usize,
        k: (usize, usize),
        s: usize,
        d: usize,
        simd: usize,
    ) -> SwgParams {
        SwgParams {
            ifm_h: h,
            ifm_w: w,
            channels: c,
            k_h: k.0,
            k_w: k.1,
            stride_h: s,
            stride_w: s,
            dil_h: d,
            dil_w: d,
            simd,
            elem: DataType::UInt(4),
        }
    }

    #[test]
    fn shapes_and_depth() {
        let q = p(32, 32, 3, (3, 3), 1, 1, 3);
        assert_eq!((q.ofm_h(), q.ofm_w()), (30, 30));
        assert_eq!(q.span(), 2 * 32 + 3);
        // reader-bound 3x3 stride 1: twice the span
        assert_eq!(q.depth(), 2 * q.span());
        assert_eq!(q.exp_cycles(), 30 * 30 * 9);
        let q = p(13, 13, 4, (3, 3), 2, 1, 2);
        assert_eq!((q.ofm_h(), q.ofm_w()), (6, 6));
        let q = p(8, 8, 1, (1, 1), 2, 1, 1);
        assert_eq!(q.depth(), 2);
        assert_eq!(q.exp_cycles(), 64);
    }

    #[test]
    fn golden_order() {
        let q = p(3, 3, 2, (2, 2), 1, 1, 1);
        let x: Vec<i64> = (0..18).collect();
        let y = q.golden(&x);
        assert_eq!(y.len(), 2 * 2 * 4 * 2);
        // first window: (0,0), (0,1), (1,0), (1,1), two channels each
        assert_eq!(&y[..8], &[0, 1, 2, 3, 6, 7, 8, 9]);
    }

    #[test]
    fn check_messages() {
        assert!(
            p(8, 8, 4, (3, 3), 1, 1, 3)
                .check()
                .unwrap_err()
                .contains("does not divide")
        );
        assert!(
            p(4, 4, 4, (3, 3), 1, 2, 4)
                .check()
                .unwrap_err()
                .contains("larger than")
        );
        assert!(
            p(4, 4, 0, (3, 3), 1, 1, 1)
                .check()
                .unwrap_err()
                .contains("channels is 0")
        );
        assert!(p(4, 4, 4, (3, 3), 1, 1, 2).check().is_ok());
    }
}
