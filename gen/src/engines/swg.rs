//! Sliding-window generator ("streaming im2col", FINN's ConvolutionInputGenerator): turns a
//! stream of feature maps into the stream of their convolution windows, the input vector of
//! a matrix-vector unit whose weight columns are in (kernel row, kernel column, channel)
//! order. The convolution's padding (rows and columns of a constant around the input) is
//! done here.
//!
//! Two modes, chosen by the fold (`PE` = kernel positions a beat, `SIMD` = channels a beat):
//!
//! **Standard** (`PE = 1`, `SIMD` divides `C`; `engines/swg.v`). Streams (`E` = element
//! bits, `CF = channels / simd` channel folds, lane 0 in the least significant bits):
//! - in: one `ifm_h x ifm_w x channels` frame, channels last: beat `(h*W + w)*CF + cf`,
//!   lane `l` holds channel `cf*simd + l`;
//! - out: for each output pixel `(oh, ow)` in raster order, for each kernel position
//!   `(ky, kx)` in raster order, for each channel fold `cf`: one beat holding element
//!   `(oh*SH + ky*DH, ow*SW + kx*DW, cf*simd + lane)` of the padded input. Rows and columns
//!   no window reaches are consumed and dropped.
//!
//! Hardware: a circular buffer of [`SwgParams::depth`] beats with one write port and one
//! registered read port. The writer walks the *padded* raster (`raster_h x raster_w`): inside
//! the input it writes an input beat, in the padding a pad beat without input (a frame's
//! pad beats wait until its first input beat is offered). Raster beat `g` (counted over all
//! frames, unused rows and columns included) is written at address `g mod depth`; a counter
//! `fill` = (beats written) - (index of the current window's top-left beat) gates both
//! sides: the reader starts a window when its last beat is written (`fill >= span`), the
//! writer writes while `fill < depth`. Read addresses step by constants modulo `depth`.
//!
//! **Parallel window** (`PE = KH*KW`, `SIMD = C`; `engines/swg_par.v`): one pixel a beat in,
//! one whole window a beat out (`KH*KW*C` lanes, the same (ky, kx, c) order). A line buffer
//! of registers holds the last [`SwgParams::line_pixels`] pixels; a window leaves in the
//! cycle the pixel at its bottom-right position is shifted in, its elements at fixed
//! distances behind it, elements in the padding replaced by the pad value. Padding costs no
//! cycle: a frame takes `ifm_h * ifm_w` cycles. The windows of the last output row whose
//! bottom-right lies past the frame ("trailing" windows) complete while the next frame's
//! first pixels shift in, or, when no input waits and the next frame has not begun, on pad
//! pixels shifted in without input.

use crate::emit::{counter_bits, lit};
use crate::ir::DataType;

/// Shape, padding, folding and element type of a sliding-window generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwgParams {
    /// Input rows and columns (before padding).
    pub ifm_h: usize,
    pub ifm_w: usize,
    pub channels: usize,
    pub k_h: usize,
    pub k_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dil_h: usize,
    pub dil_w: usize,
    /// `[top, left, bottom, right]` rows and columns of `pad_value` around the input.
    pub pad: [usize; 4],
    pub pad_value: i64,
    /// kernel positions a beat: 1 (standard) or `k_h * k_w` (parallel window)
    pub pe: usize,
    /// channels a beat; divides `channels` (equals it in parallel mode)
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
    /// Rows of the padded input: `pad_top + ifm_h + pad_bottom`.
    pub fn raster_h(&self) -> usize {
        self.pad[0] + self.ifm_h + self.pad[2]
    }

    /// Columns of the padded input: `pad_left + ifm_w + pad_right`.
    pub fn raster_w(&self) -> usize {
        self.pad[1] + self.ifm_w + self.pad[3]
    }

    /// Output rows: `(raster_h - dil_h*(k_h-1) - 1) / stride_h + 1` (floor).
    pub fn ofm_h(&self) -> usize {
        (self.raster_h() - self.dil_h * (self.k_h - 1) - 1) / self.stride_h + 1
    }

    /// Output columns: `(raster_w - dil_w*(k_w-1) - 1) / stride_w + 1` (floor).
    pub fn ofm_w(&self) -> usize {
        (self.raster_w() - self.dil_w * (self.k_w - 1) - 1) / self.stride_w + 1
    }

    /// Whether the fold asks for the parallel window mode (`PE > 1`).
    pub fn parallel(&self) -> bool {
        self.pe > 1
    }

    /// Elements a beat on the input port (`SIMD`) and on the output port (`PE * SIMD`).
    pub fn lanes(&self) -> (usize, usize) {
        (self.simd, self.pe * self.simd)
    }

    /// Channel folds: beats a pixel.
    pub fn cf(&self) -> usize {
        self.channels / self.simd
    }

    /// Input beats a frame: `ifm_h * ifm_w * CF`.
    pub fn in_beats(&self) -> usize {
        self.ifm_h * self.ifm_w * self.cf()
    }

    /// Beats of the padded raster the standard writer walks: `raster_h * raster_w * CF`.
    pub fn raster_beats(&self) -> usize {
        self.raster_h() * self.raster_w() * self.cf()
    }

    /// Output beats a frame: `ofm_h * ofm_w * window_beats`.
    pub fn out_beats(&self) -> usize {
        self.ofm_h() * self.ofm_w() * self.window_beats()
    }

    /// Beats (and reader cycles) of one window: `k_h * k_w * CF` (1 in parallel mode).
    pub fn window_beats(&self) -> usize {
        if self.parallel() {
            1
        } else {
            self.k_h * self.k_w * self.cf()
        }
    }

    /// Bits of an input beat: `simd * E`.
    pub fn in_beat_bits(&self) -> usize {
        self.simd * self.elem.bits() as usize
    }

    /// Bits of an output beat: `pe * simd * E`.
    pub fn beat_bits(&self) -> usize {
        self.pe * self.simd * self.elem.bits() as usize
    }

    /// The value of pad elements: `pad_value` when padded, else any value of the type (the
    /// RTL needs one for its unused pad beat).
    fn fill_value(&self) -> i64 {
        if self.padded() || self.elem.contains(self.pad_value) {
            self.pad_value
        } else {
            self.elem.min()
        }
    }

    /// Whether the padding is not empty.
    pub fn padded(&self) -> bool {
        self.pad != [0; 4]
    }

    /// Raster beats from a window's top-left beat to its bottom-right beat, both included:
    /// `((k_h-1)*dil_h*raster_w + (k_w-1)*dil_w) * CF + CF`.
    pub fn span(&self) -> usize {
        let cf = self.cf();
        ((self.k_h - 1) * self.dil_h * self.raster_w() + (self.k_w - 1) * self.dil_w) * cf + cf
    }

    /// Top-left steps (in raster beats) to the next window: within an output row, to the
    /// next output row, and to the first window of the next frame.
    fn steps(&self) -> (usize, usize, usize) {
        let cf = self.cf();
        let (ow, oh, rw) = (self.ofm_w(), self.ofm_h(), self.raster_w());
        let px = self.stride_w * cf;
        let row = (self.stride_h * rw - (ow - 1) * self.stride_w) * cf;
        let last = ((oh - 1) * self.stride_h * rw + (ow - 1) * self.stride_w) * cf;
        (px, row, self.raster_beats() - last)
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
        if self.parallel() {
            return self.line_pixels();
        }
        let t = self.window_beats() as i64;
        let s = self.span() as i64;
        let n = self.ofm_h() * self.ofm_w();
        // two frames of steps cover every run up to a frame long, whatever its phase
        let seq: Vec<i64> = self.step_sequence().map(|d| d as i64).collect();
        let two = || seq.iter().chain(seq.iter()).copied().take(2 * n);
        let extra = if self.out_beats() >= self.raster_beats() {
            max_run(two().map(|d| d - t))
        } else {
            max_run(two().map(|d| t - d)).max(0)
        };
        (s + t + extra) as usize
    }

    /// Bits of the window buffer the RTL declares. Standard mode: `D * simd * E`, where
    /// `D = S + T + max run` is [`depth`](Self::depth): the window span
    /// `S = ((k_h-1)*dil_h*raster_w + (k_w-1)*dil_w)*CF + CF` beats, plus one window's cycles
    /// `T = k_h*k_w*CF`, plus the largest lead the pacing side needs. When the windows are
    /// the bottleneck, the run is usually the frame step alone and `D = 2*S + (trailing
    /// beats after the last window)`: the last window of a frame and the first of the next
    /// one (for a 3x3 stride-1 kernel on a `W`-wide map: `D = 2*S = (4*W + 6)*CF`, about
    /// four rows; `2*(k-1)*dil` rows and two kernel widths for a `k x k` kernel). This is
    /// the price of no bubble between frames. Parallel mode: the line buffer's
    /// [`line_pixels`](Self::line_pixels) pixels of `C * E` bits.
    pub fn buffer_bits(&self) -> usize {
        if self.parallel() {
            self.line_pixels() * self.in_beat_bits()
        } else {
            self.depth() * self.beat_bits()
        }
    }

    /// Cycles a frame in steady state with the source always valid and the sink always
    /// ready, exactly.
    ///
    /// Standard mode: `max(raster_beats, out_beats)`. Each side moves at most one beat a
    /// cycle, so a frame takes at least that. With the buffer of [`depth`](Self::depth), the
    /// reference schedule there, in which the slower side moves a beat every cycle, meets
    /// every condition the RTL checks; the RTL is a monotone as-soon-as-possible system
    /// (every beat moves at the first cycle its conditions hold), so its beats are never
    /// later than the reference's, and its frames complete exactly that many cycles apart
    /// once past the first frames.
    ///
    /// Parallel mode: `ifm_h * ifm_w`, one pixel shifted in a cycle; every window completes
    /// on a shift of its own (the bottom-right positions are distinct and, with
    /// [`check`](Self::check)'s padding limit, the trailing windows of a frame complete
    /// before the next frame's first window).
    pub fn exp_cycles(&self) -> u64 {
        if self.parallel() {
            (self.ifm_h * self.ifm_w) as u64
        } else {
            self.raster_beats().max(self.out_beats()) as u64
        }
    }

    /// Pixels of the parallel line buffer: `(k_h-1)*dil_h*ifm_w + (k_w-1)*dil_w`, the
    /// distance from a window's top-left element to its bottom-right one in input pixels.
    pub fn line_pixels(&self) -> usize {
        (self.k_h - 1) * self.dil_h * self.ifm_w + (self.k_w - 1) * self.dil_w
    }

    /// Parallel mode: the index (in the input frame's raster, `y*ifm_w + x`, continuing past
    /// its end) of the bottom-right position of output pixel `(oy, ox)`'s window: the shift
    /// after which the window leaves.
    pub fn trigger(&self, oy: usize, ox: usize) -> usize {
        let [pt, pl, _, _] = self.pad;
        (oy * self.stride_h + (self.k_h - 1) * self.dil_h - pt) * self.ifm_w
            + (ox * self.stride_w + (self.k_w - 1) * self.dil_w - pl)
    }

    /// Parallel mode: shifts of a frame's windows past its last pixel (the trailing shifts):
    /// `max(0, last trigger + 1 - ifm_h*ifm_w)`.
    pub fn trailing(&self) -> usize {
        (self.trigger(self.ofm_h() - 1, self.ofm_w() - 1) + 1)
            .saturating_sub(self.ifm_h * self.ifm_w)
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
            ("pe", self.pe),
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
        if eh > self.raster_h() || ew > self.raster_w() {
            return Err(format!(
                "sliding window: the {}x{} kernel (dilation {}x{}) spans {eh}x{ew}, larger than the {}x{} padded input; pad the input first",
                self.k_h,
                self.k_w,
                self.dil_h,
                self.dil_w,
                self.raster_h(),
                self.raster_w()
            ));
        }
        let bits = self.elem.bits();
        if bits == 0 || bits > 64 {
            return Err(format!(
                "sliding window: element type {} has {bits} bits; 1 to 64 are supported",
                self.elem
            ));
        }
        if self.padded() && !self.elem.contains(self.pad_value) {
            return Err(format!(
                "sliding window: pad value {} is not a {} value",
                self.pad_value, self.elem
            ));
        }
        let positions = self.k_h * self.k_w;
        if self.pe != 1 && self.pe != positions {
            return Err(format!(
                "sliding window: PE {} is neither 1 (standard) nor the {positions} kernel positions (parallel window)",
                self.pe
            ));
        }
        if self.parallel() {
            let [pt, pl, pb, pr] = self.pad;
            if self.simd != self.channels {
                return Err(format!(
                    "sliding window: a parallel window (PE {}) takes a whole pixel a beat: SIMD must be the {} channels, not {}",
                    self.pe, self.channels, self.simd
                ));
            }
            if pt + pb > eh - 1 || pl + pr > ew - 1 {
                return Err(format!(
                    "sliding window: padding {:?} is more than the {}x{} kernel's reach of {}x{}; a parallel window takes at most that (use PE 1)",
                    self.pad,
                    self.k_h,
                    self.k_w,
                    eh - 1,
                    ew - 1
                ));
            }
            let hw = self.ifm_h * self.ifm_w;
            if self.trailing() >= hw {
                return Err(format!(
                    "sliding window: the {}x{} input is too small for a parallel window of this kernel and padding (use PE 1)",
                    self.ifm_h, self.ifm_w
                ));
            }
        }
        Ok(())
    }

    /// The output frame for input frame `x` (`ifm_h * ifm_w * channels` values, channels
    /// last): `ofm_h * ofm_w * k_h * k_w * channels` values in stream order, elements in the
    /// padding `pad_value`.
    pub fn golden(&self, x: &[i64]) -> Vec<i64> {
        let (h, w, c) = (self.ifm_h, self.ifm_w, self.channels);
        assert_eq!(x.len(), h * w * c, "input frame size");
        let [pt, pl, _, _] = self.pad;
        let mut out = Vec::with_capacity(self.ofm_h() * self.ofm_w() * self.k_h * self.k_w * c);
        for oh in 0..self.ofm_h() {
            for ow in 0..self.ofm_w() {
                for ky in 0..self.k_h {
                    for kx in 0..self.k_w {
                        let row = (oh * self.stride_h + ky * self.dil_h).checked_sub(pt);
                        let col = (ow * self.stride_w + kx * self.dil_w).checked_sub(pl);
                        match (row, col) {
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
        out
    }

    /// The engine's Verilog (either mode), module `module`, its output through
    /// `skid_module`.
    pub fn verilog(
        &self,
        module: &str,
        header: Vec<String>,
        skid_module: &str,
    ) -> Result<String, ferrite_rtl::Error> {
        use ferrite_rtl::Template;
        if let Err(why) = self.check() {
            return Err(ferrite_rtl::Error::Custom(why.into()));
        }
        if self.parallel() {
            self.par_context(module, header, skid_module).render()
        } else {
            self.context(module, header, skid_module).render()
        }
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
            step(self.dil_h * self.raster_w() * cf - (self.k_w - 1) * self.dil_w * cf - (cf - 1));
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
        // the writer's raster counters and pad beat: the padding engine's
        let writer = super::pad::Pad {
            height: self.ifm_h,
            width: self.ifm_w,
            channels: self.channels,
            simd: self.simd,
            pad_top: self.pad[0],
            pad_left: self.pad[1],
            pad_bottom: self.pad[2],
            pad_right: self.pad[3],
            value: self.fill_value(),
            elem_type: self.elem,
        }
        .context(module, Vec::new(), skid_module);
        ferrite_rtl::Swg {
            module: module.into(),
            header,
            skid_module: skid_module.into(),
            padded: self.padded(),
            pads: pads_comment(self.pad, self.pad_value),
            wr: writer,
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

/// `[top, left, bottom, right]` padding for the port comments ("" when none).
fn pads_comment(pad: [usize; 4], value: i64) -> String {
    if pad == [0; 4] {
        String::new()
    } else {
        format!(
            ", the input padded with {value} (top {}, left {}, bottom {}, right {})",
            pad[0], pad[1], pad[2], pad[3]
        )
    }
}

/// The Verilog condition that `counter` (of `bits` bits, counting `0..n`) lies in
/// `lo..=hi` (`hi < lo`: never); bounds the counter cannot cross are left out.
fn in_range(counter: &str, bits: u32, n: usize, lo: i64, hi: i64) -> String {
    if hi < lo || hi < 0 || lo > n as i64 - 1 {
        return "1'b0".into();
    }
    let mut terms = Vec::new();
    if lo > 0 {
        terms.push(format!("({counter} >= {})", lit(bits, lo)));
    }
    if hi < n as i64 - 1 {
        terms.push(format!("({counter} <= {})", lit(bits, hi)));
    }
    if terms.is_empty() {
        "1'b1".into()
    } else {
        terms.join(" && ")
    }
}

impl SwgParams {
    /// The template context of the parallel window generator `module`, its output through
    /// `skid_module`.
    pub fn par_context(
        &self,
        module: &str,
        header: Vec<String>,
        skid_module: &str,
    ) -> ferrite_rtl::SwgPar {
        let pix = self.in_beat_bits();
        let w = self.ifm_w as i64;
        let [pt, pl, _, _] = self.pad;
        let hw = self.ifm_h * self.ifm_w;
        let (oh, ow) = (self.ofm_h(), self.ofm_w());
        let v_first = self.trigger(0, 0);
        let v_last = self.trigger(oh - 1, ow - 1);
        let nb = counter_bits(hw.max(v_last) + 1);
        let line = self.line_pixels();
        let mut elems = Vec::with_capacity(self.k_h * self.k_w);
        for ky in 0..self.k_h {
            for kx in 0..self.k_w {
                let e = ky * self.k_w + kx;
                let j = (self.k_h - 1 - ky) * self.dil_h * self.ifm_w
                    + (self.k_w - 1 - kx) * self.dil_w;
                let src = if j == 0 {
                    "new_pix".to_string()
                } else {
                    format!("sr_reg[{}:{}]", j * pix - 1, (j - 1) * pix)
                };
                elems.push(ferrite_rtl::SwgParElem {
                    msb: (e + 1) * pix - 1,
                    lsb: e * pix,
                    ky,
                    kx,
                    src,
                });
            }
        }
        let counter = |n: usize| {
            let b = counter_bits(n);
            (b, lit(b, (n - 1) as i64), lit(b, 0), lit(b, 1))
        };
        let (ow_bits, ow_last, ow_zero, ow_one) = counter(ow);
        let (oh_bits, oh_last, oh_zero, oh_one) = counter(oh);
        // kernel row ky of output row oy is input row oy*SH + ky*DH - PT: inside for
        // ceil((PT - ky*DH) / SH) <= oy <= floor((H - 1 + PT - ky*DH) / SH)
        let bounds = |k: usize, d: usize, s: usize, p: usize, size: usize| {
            let off = p as i64 - (k * d) as i64;
            let lo = if off > 0 {
                (off + s as i64 - 1) / s as i64
            } else {
                0
            };
            let top = size as i64 - 1 + off;
            let hi = if top < 0 { -1 } else { top / s as i64 };
            (lo, hi)
        };
        let rows_ok = (0..self.k_h)
            .map(|ky| {
                let (lo, hi) = bounds(ky, self.dil_h, self.stride_h, pt, self.ifm_h);
                in_range("oh_reg", oh_bits, oh, lo, hi)
            })
            .collect();
        let cols_ok = (0..self.k_w)
            .map(|kx| {
                let (lo, hi) = bounds(kx, self.dil_w, self.stride_w, pl, self.ifm_w);
                in_range("ow_reg", ow_bits, ow, lo, hi)
            })
            .collect();
        let sr_shift = if line == 1 {
            "new_pix".to_string()
        } else {
            format!("{{sr_reg[{}:0], new_pix}}", (line - 1) * pix - 1)
        };
        let out_width = self.beat_bits();
        ferrite_rtl::SwgPar {
            module: module.into(),
            header,
            skid_module: skid_module.into(),
            elem_bits: self.elem.bits(),
            ifm_h: self.ifm_h,
            ifm_w: self.ifm_w,
            channels: self.channels,
            ofm_h: oh,
            ofm_w: ow,
            k_h: self.k_h,
            k_w: self.k_w,
            pads: pads_comment(self.pad, self.pad_value),
            in_beats: self.in_beats(),
            out_beats: self.out_beats(),
            line_pixels: line,
            trailing: self.trailing(),
            pix_msb: pix - 1,
            out_width,
            out_msb: out_width - 1,
            sr_msb: line * pix - 1,
            sr_shift,
            pad_pix: super::pad::replicated_hex(
                self.elem.encode(self.fill_value()),
                self.elem.bits(),
                self.channels,
            ),
            elems,
            rows_ok,
            cols_ok,
            n_msb: nb - 1,
            n_zero: lit(nb, 0),
            n_one: lit(nb, 1),
            hw: lit(nb, hw as i64),
            hw_last: lit(nb, hw as i64 - 1),
            v_first: lit(nb, v_first as i64),
            v_px: lit(nb, self.stride_w as i64),
            v_row: lit(
                nb,
                self.stride_h as i64 * w - (ow as i64 - 1) * self.stride_w as i64,
            ),
            ow_msb: ow_bits - 1,
            ow_last,
            ow_zero,
            ow_one,
            oh_msb: oh_bits - 1,
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

    fn template_for(&self, fold: crate::fold::Fold) -> &'static str {
        if fold.pe > 1 {
            "engines/swg_par.v"
        } else {
            "engines/swg.v"
        }
    }

    fn purpose(&self) -> &'static str {
        "sliding-window generator (streaming im2col)"
    }

    fn datapath(&self) -> &'static str {
        "window buffer"
    }

    /// PE: kernel positions a beat, 1 (standard) or all of them (parallel window, with
    /// SIMD = C); SIMD: channels a beat.
    fn fold_space(&self, ins: &[crate::ir::TensorType]) -> (Vec<usize>, Vec<usize>) {
        let positions = self.kernel[0] * self.kernel[1];
        let mut pes = vec![1];
        // the parallel window only where it can be built (padding within the kernel's
        // reach, a map large enough)
        let parallel = crate::fold::Fold::new(positions, ins[0].channels());
        if positions > 1 && params(self, ins, parallel).check().is_ok() {
            pes.push(positions);
        }
        (pes, crate::fold::divisors(ins[0].channels()))
    }

    fn fold_terms(&self, ins: &[crate::ir::TensorType]) -> (String, Option<String>) {
        (
            format!(
                "kernel positions a beat: 1, or all {} for a parallel window (with SIMD = {})",
                self.kernel[0] * self.kernel[1],
                ins[0].channels()
            ),
            Some(format!("the {} input channels", ins[0].channels())),
        )
    }

    fn fold_check(
        &self,
        ins: &[crate::ir::TensorType],
        fold: crate::fold::Fold,
    ) -> Result<(), String> {
        if fold.pe == 1 {
            return Ok(());
        }
        params(self, ins, fold).check()
    }

    fn lanes(&self, fold: crate::fold::Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![fold.simd], vec![fold.pe * fold.simd])
    }

    fn exp_cycles(&self, ins: &[crate::ir::TensorType], fold: crate::fold::Fold) -> u64 {
        params(self, ins, fold).exp_cycles()
    }

    fn work(&self, ins: &[crate::ir::TensorType]) -> u64 {
        let p = params(self, ins, crate::fold::Fold::new(1, 1));
        p.raster_beats().max(p.out_beats()) as u64
    }

    /// `engines/swg.v`: its circular buffer, writer and reader; `engines/swg_par.v`: its
    /// shifts; both modelled exactly in [`crate::fifo`].
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

    /// Standard mode: a buffer of [`SwgParams::depth`] beats (placed by
    /// [`crate::estimate::place_ram`]), write and read address generators and counters, the
    /// skid buffer. Parallel mode: a shift-register line buffer and the window taps.
    fn cost_terms(
        &self,
        ins: &[crate::ir::TensorType],
        fold: crate::fold::Fold,
        family: crate::boards::Family,
    ) -> crate::estimate::Terms {
        use crate::estimate::counter_bits as cb;
        let p = params(self, ins, fold);
        let [h, w, c] = ins[0].shape;
        let counters = cb(c) + cb(w) + cb(h) + cb(self.kernel[0]) + cb(self.kernel[1]);
        if p.parallel() {
            return crate::estimate::Terms::new(
                "swg_par",
                [
                    p.beat_bits() as f64,
                    p.buffer_bits() as f64,
                    counters + 2.0 * cb(h * w),
                    0.0,
                ],
            );
        }
        let (depth, width) = (p.depth(), p.beat_bits());
        let mem = crate::estimate::place_ram(family, depth, width);
        let mut t = crate::estimate::Terms::new(
            "swg",
            [
                width as f64,
                crate::estimate::fabric_bits(mem, depth, width),
                counters + 3.0 * cb(depth),
                0.0,
            ],
        );
        t.bram = crate::estimate::blocks(mem);
        t
    }

    fn describe(&self, ins: &[crate::ir::TensorType], fold: crate::fold::Fold) -> Vec<String> {
        let p = params(self, ins, fold);
        let [t, l, b, r] = self.pad;
        let pad = if p.padded() {
            format!(
                " padding {t}/{l}/{b}/{r} (top/left/bottom/right) with {}",
                self.pad_value
            )
        } else {
            String::new()
        };
        vec![
            format!(
                "{} -> kernel {}x{} stride {}x{} dilation {}x{}{pad}, {}",
                ins[0],
                self.kernel[0],
                self.kernel[1],
                self.stride[0],
                self.stride[1],
                self.dilation[0],
                self.dilation[1],
                if p.parallel() {
                    format!("parallel window (PE {}, SIMD {})", fold.pe, fold.simd)
                } else {
                    format!("SIMD {}", fold.simd)
                }
            ),
            if p.parallel() {
                format!(
                    "line buffer: {} pixels of {} bits ({} bits)",
                    p.line_pixels(),
                    p.in_beat_bits(),
                    p.buffer_bits()
                )
            } else {
                format!(
                    "window buffer: {} beats of {} bits ({} bits)",
                    p.depth(),
                    p.beat_bits(),
                    p.buffer_bits()
                )
            },
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
        p.check()
            .map_err(|why| crate::emit::EmitError::Unsupported {
                node: cx.module.to_string(),
                kind: "SlidingWindow",
                why,
            })?;
        let text = if p.parallel() {
            crate::emit::render(
                &p.par_context(cx.module, cx.header.clone(), cx.skid),
                cx.module,
            )?
        } else {
            crate::emit::render(&p.context(cx.module, cx.header.clone(), cx.skid), cx.module)?
        };
        Ok(vec![crate::emit::GeneratedFile {
            name: format!("{}.v", cx.module),
            contents: text,
        }])
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
        pad: op.pad,
        pad_value: op.pad_value,
        pe: fold.pe,
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
            pad: [0; 4],
            pad_value: 0,
            pe: 1,
            simd,
            elem: DataType::UInt(4),
        }
    }

    /// `q` with padding `pad` and, when `parallel`, a whole window a beat.
    fn padded(q: SwgParams, pad: [usize; 4], parallel: bool) -> SwgParams {
        let mut q = SwgParams { pad, ..q };
        if parallel {
            q.pe = q.k_h * q.k_w;
            q.simd = q.channels;
        }
        q
    }

    #[test]
    fn padding_matches_the_ir_op() {
        use crate::ir::{OpKind, SlidingWindow, TensorType};
        let mut r = crate::testing::Rng::new(5);
        for (q, pad) in [
            (p(5, 6, 2, (3, 3), 1, 1, 1), [1, 1, 1, 1]),
            (p(7, 7, 3, (3, 3), 2, 1, 3), [1, 0, 1, 2]),
            (p(6, 5, 1, (2, 3), 1, 2, 1), [0, 2, 1, 0]),
            (p(1, 9, 2, (1, 3), 1, 1, 2), [0, 1, 0, 1]),
        ] {
            let q = SwgParams {
                pad_value: 3,
                ..padded(q, pad, false)
            };
            q.check().unwrap();
            let x: Vec<i64> = (0..q.ifm_h * q.ifm_w * q.channels)
                .map(|_| r.value(q.elem))
                .collect();
            let op = SlidingWindow {
                kernel: [q.k_h, q.k_w],
                stride: [q.stride_h, q.stride_w],
                dilation: [q.dil_h, q.dil_w],
                pad,
                pad_value: 3,
                input_type: q.elem,
            };
            let t = TensorType::new([q.ifm_h, q.ifm_w, q.channels], q.elem);
            let out = op.infer(&[t]).unwrap()[0];
            assert_eq!(
                out.shape,
                [q.ofm_h(), q.ofm_w(), q.k_h * q.k_w * q.channels]
            );
            let want = op.eval(&[t], &[&x]).remove(0);
            assert_eq!(q.golden(&x), want);
            assert!(want.contains(&3), "{q:?}: no pad value in the windows");
        }
    }

    /// Parallel mode: bottom-right positions strictly increase; every element inside the
    /// input lies in the line buffer's reach behind it; the trailing shifts of a frame end
    /// before the next frame's first window (what the RTL's lag logic relies on).
    #[test]
    fn parallel_triggers_are_ordered_and_reach_their_elements() {
        let mut n = 0;
        for (h, w) in [(1, 5), (2, 2), (4, 7), (8, 8), (9, 5)] {
            for (k, d) in [
                ((3, 3), 1),
                ((2, 2), 1),
                ((3, 1), 1),
                ((1, 3), 2),
                ((5, 5), 1),
                ((3, 3), 2),
            ] {
                for s in 1..=3 {
                    let (eh, ew) = ((k.0 - 1) * d, (k.1 - 1) * d);
                    for pad in [
                        [0, 0, 0, 0],
                        [eh / 2, ew / 2, eh - eh / 2, ew - ew / 2],
                        [eh, ew, 0, 0],
                        [0, 0, eh, ew],
                    ] {
                        let q = padded(p(h, w, 2, k, s, d, 2), pad, true);
                        if q.raster_h() < eh + 1 || q.raster_w() < ew + 1 || q.check().is_err() {
                            continue;
                        }
                        n += 1;
                        let mut last = None;
                        for oy in 0..q.ofm_h() {
                            for ox in 0..q.ofm_w() {
                                let v = q.trigger(oy, ox);
                                assert!(last.is_none_or(|l| v > l), "{q:?}");
                                last = Some(v);
                                for ky in 0..q.k_h {
                                    for kx in 0..q.k_w {
                                        let y =
                                            (oy * q.stride_h + ky * q.dil_h) as i64 - pad[0] as i64;
                                        let x =
                                            (ox * q.stride_w + kx * q.dil_w) as i64 - pad[1] as i64;
                                        if y < 0 || x < 0 || y >= h as i64 || x >= w as i64 {
                                            continue;
                                        }
                                        let r = (y * w as i64 + x) as usize;
                                        assert!(r <= v && v - r <= q.line_pixels(), "{q:?}");
                                    }
                                }
                            }
                        }
                        assert!(q.trailing() <= q.trigger(0, 0), "{q:?}");
                        assert_eq!(q.exp_cycles(), (h * w) as u64);
                    }
                }
            }
        }
        assert!(n > 100, "{n} configurations");
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
