//! A prepared form of the golden model for speed: bipolar x bipolar matrix-vector nodes as
//! bit-packed XNOR-popcount, other matrix-vector nodes as narrow multiply-accumulate,
//! thresholds by binary search; every other node by its plain evaluation. Same values as
//! [`super::run_frame`] (property-tested against it).
//!
//! In [`Golden::run_frame`] a sliding-window generator on a bipolar stream whose only
//! consumer is an XNOR matrix-vector node is not materialised: the consumer packs each input
//! pixel's channels into bits once and assembles every window from the packed pixels (the
//! window's (ky, kx, c) order is the weight columns' order). [`Golden::run_trace`] and
//! [`Golden::run_node`] evaluate every node on its own.
//!
//! The node kernels are compiled three times on x86-64: for the baseline, with `popcnt` and
//! `avx2`, and with AVX-512 (`avx512vpopcntdq`); the best the CPU has is chosen at run time
//! (the values are the same: only the instructions differ).

use super::NodeValues;
use crate::ir::{Analysis, DataType, Model, NodeId, Op, Source, Thresholds};

/// The geometry of a sliding window computed inside its consumer.
struct Window {
    /// The window generator's node (not evaluated by `run_frame`).
    swg: NodeId,
    /// The generator's input stream.
    src: Source,
    /// Input H, W, C.
    shape: [usize; 3],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    /// Output H, W.
    out: [usize; 2],
}

enum Prepared {
    /// Bit-packed rows, word-major: bit `w % 64` of `rows[(w / 64) * mh + h]` is 1 when
    /// `weights[h][w] == +1` (so one input word meets every row's word in a run).
    Xnor {
        mw: usize,
        words: usize,
        rows: Vec<u64>,
        /// The window generator feeding it, when `run_frame` computes the windows here.
        window: Option<Window>,
    },
    /// Weights as i16 (every weight and input is at most 8 bits) in blocks of [`LANES`]
    /// rows, column-major within a block: `cols[(b * mw + w) * LANES + j]` is
    /// `weights[b * LANES + j][w]` (0 past the last row), so a pixel's accumulators of one
    /// block stay in registers. They accumulate with wrapping arithmetic in the narrowest of
    /// i16, i32 and i64 that holds the node's accumulator type (`acc_bits`: its width as a
    /// signed integer): a wrapping sum is exact modulo 2^n, whatever the order of the terms,
    /// and the true sum fits n bits.
    Mac {
        mw: usize,
        mh: usize,
        cols: Vec<i16>,
        acc_bits: u32,
    },
    Other,
}

/// A model prepared for fast evaluation. Build once, run many frames.
pub struct Golden<'m> {
    model: &'m Model,
    analysis: Analysis,
    prepared: Vec<Prepared>,
    /// Per node: computed inside its consumer by `run_frame` (a fused window generator).
    fused: Vec<bool>,
}

impl<'m> Golden<'m> {
    /// Prepare a model. Panics on an invalid model: validate first (every loader does).
    pub fn new(model: &'m Model) -> Golden<'m> {
        let analysis = model.analyze().expect("a validated model");
        let mut fused = vec![false; model.nodes.len()];
        let prepared = model
            .nodes
            .iter()
            .enumerate()
            .map(|(id, n)| match &n.op {
                Op::MatrixVector(m) if m.is_xnor() => {
                    let words = m.mw.div_ceil(64);
                    let mut rows = vec![0u64; words * m.mh];
                    for (h, row) in m.weights.chunks_exact(m.mw).enumerate() {
                        for (w, &v) in row.iter().enumerate() {
                            if v > 0 {
                                rows[(w / 64) * m.mh + h] |= 1 << (w % 64);
                            }
                        }
                    }
                    let window = fusable_window(model, &analysis, id, m.mw);
                    if let Some(w) = &window {
                        fused[w.swg] = true;
                    }
                    Prepared::Xnor {
                        mw: m.mw,
                        words,
                        rows,
                        window,
                    }
                }
                Op::MatrixVector(m) => {
                    let mut cols = vec![0i16; m.mh.div_ceil(LANES) * m.mw * LANES];
                    for (h, row) in m.weights.chunks_exact(m.mw).enumerate() {
                        let (b, j) = (h / LANES, h % LANES);
                        for (w, &v) in row.iter().enumerate() {
                            cols[(b * m.mw + w) * LANES + j] = v as i16;
                        }
                    }
                    Prepared::Mac {
                        mw: m.mw,
                        mh: m.mh,
                        cols,
                        // as a signed integer: an unsigned n-bit accumulator needs n + 1 bits
                        acc_bits: m.acc_type().bits() + u32::from(!m.acc_type().signed()),
                    }
                }
                _ => Prepared::Other,
            })
            .collect();
        Golden {
            model,
            analysis,
            prepared,
            fused,
        }
    }

    pub fn model(&self) -> &'m Model {
        self.model
    }

    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// Elements of an output frame.
    pub fn output_elems(&self) -> usize {
        self.analysis
            .type_of(self.model, &self.model.outputs[0])
            .elems()
    }

    /// The hardware part of the model on one integer frame.
    pub fn run_frame(&self, x: &[i64]) -> Vec<i64> {
        let model = self.model;
        let a = &self.analysis;
        assert_eq!(
            x.len(),
            model.input().tensor.elems(),
            "input frame length of `{}`",
            model.name
        );
        let mut values: NodeValues = vec![Vec::new(); model.nodes.len()];
        for &id in &a.order {
            if self.fused[id] {
                continue;
            }
            let out = {
                let get = |s: &Source| -> &[i64] {
                    match s {
                        Source::Input { .. } => x,
                        Source::Node { node, port } => values[a.by_name[node]][*port].as_slice(),
                    }
                };
                match &self.prepared[id] {
                    Prepared::Xnor {
                        mw,
                        words,
                        rows,
                        window: Some(win),
                    } => vec![xnor_window_node(
                        *mw,
                        *words,
                        rows,
                        win,
                        self.thresholds(id),
                        get(&win.src),
                    )],
                    _ => {
                        let ins: Vec<&[i64]> = model.nodes[id].inputs.iter().map(get).collect();
                        self.run_node(id, &ins)
                    }
                }
            };
            values[id] = out;
        }
        match &model.outputs[0] {
            Source::Node { node, port } => std::mem::take(&mut values[a.by_name[node]][*port]),
            Source::Input { .. } => unreachable!("validated: an output is a node's"),
        }
    }

    /// Every node's outputs on one frame.
    pub fn run_trace(&self, x: &[i64]) -> NodeValues {
        super::walk(self.model, &self.analysis, x, |id, ins| {
            self.run_node(id, ins)
        })
    }

    fn thresholds(&self, id: NodeId) -> Option<&Thresholds> {
        match &self.model.nodes[id].op {
            Op::MatrixVector(m) => m.thresholds.as_ref(),
            _ => None,
        }
    }

    /// Outputs of node `id` on its inputs.
    pub fn run_node(&self, id: usize, x: &[&[i64]]) -> Vec<Vec<i64>> {
        let thr = self.thresholds(id);
        match &self.prepared[id] {
            Prepared::Xnor {
                mw, words, rows, ..
            } => vec![xnor_node(*mw, *words, rows, thr, x[0])],
            Prepared::Mac {
                mw,
                mh,
                cols,
                acc_bits,
            } => vec![mac_node(*mw, *mh, cols, *acc_bits, thr, x[0])],
            Prepared::Other => self.model.nodes[id]
                .op
                .as_kind()
                .eval(&self.analysis.in_types[id], x),
        }
    }
}

/// The window generator feeding XNOR node `id` (of `mw` columns) if `run_frame` can compute
/// its windows inside the node: a sliding window whose only consumer is the node, which
/// takes one window a pixel (not a flattened tensor of several).
fn fusable_window(model: &Model, a: &Analysis, id: NodeId, mw: usize) -> Option<Window> {
    let Source::Node { node, port: 0 } = &model.nodes[id].inputs[0] else {
        return None;
    };
    let swg = a.by_name[node];
    let Op::SlidingWindow(s) = &model.nodes[swg].op else {
        return None;
    };
    let consumed_once = a.consumers[swg].len() == 1 && a.consumers[swg][0].len() == 1;
    let is_output = model
        .outputs
        .iter()
        .any(|o| matches!(o, Source::Node { node: n, .. } if n == node));
    let t = a.in_types[swg][0];
    if !consumed_once || is_output || t.dtype != DataType::Bipolar || s.pad != [0; 4] {
        return None;
    }
    if a.out_types[swg][0].channels() != mw {
        return None;
    }
    let out = s.out_dims(t.shape[0], t.shape[1])?;
    Some(Window {
        swg,
        src: model.nodes[swg].inputs[0].clone(),
        shape: t.shape,
        kernel: s.kernel,
        stride: s.stride,
        dilation: s.dilation,
        out,
    })
}

/// [`Thresholds::apply`] by binary search over the sorted row.
#[inline(always)]
fn apply_sorted(t: &Thresholds, channel: usize, x: i64) -> i64 {
    let n = t.row(channel).partition_point(|&v| v <= x) as i64;
    if t.out_type == DataType::Bipolar {
        2 * n - 1
    } else {
        t.out_bias + n
    }
}

#[inline(always)]
fn act(thr: Option<&Thresholds>, h: usize, acc: i64) -> i64 {
    match thr {
        Some(t) => apply_sorted(t, h, acc),
        None => acc,
    }
}

/// Bit `i` of the result is 1 when `v[i] > 0` (bipolar +1), for up to 64 values.
#[inline(always)]
fn pack_word(v: &[i64]) -> u64 {
    v.iter()
        .enumerate()
        .fold(0u64, |w, (i, &e)| w | (u64::from(e > 0) << i))
}

/// Pack `v` into `out` (`v.len().div_ceil(64)` words, the padding bits 0).
#[inline(always)]
fn pack(v: &[i64], out: &mut [u64]) {
    for (o, c) in out.iter_mut().zip(v.chunks(64)) {
        *o = pack_word(c);
    }
}

/// One packed input vector against every row: the outputs of one pixel. `differ` is
/// scratch of one counter a row.
#[inline(always)]
fn xnor_pixel(
    mw: usize,
    rows: &[u64],
    thr: Option<&Thresholds>,
    packed: &[u64],
    differ: &mut [u64],
    out: &mut Vec<i64>,
) {
    count_differ(rows, packed, differ);
    out.extend(
        differ
            .iter()
            .enumerate()
            .map(|(h, &d)| act(thr, h, mw as i64 - 2 * d as i64)),
    );
}

/// `differ[h]`: the bits where row `h` (word-major `rows`) and `packed` differ. Weights and
/// inputs agree where the xor is 0; padding bits are 0 in both.
#[inline(always)]
fn count_differ(rows: &[u64], packed: &[u64], differ: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vpopcntdq")
    {
        // SAFETY: the CPU has the features
        return unsafe { count_differ_avx512(rows, packed, differ) };
    }
    count_differ_plain(rows, packed, differ);
}

#[inline(always)]
fn count_differ_plain(rows: &[u64], packed: &[u64], differ: &mut [u64]) {
    let mh = differ.len();
    differ.iter_mut().for_each(|d| *d = 0);
    for (&p, col) in packed.iter().zip(rows.chunks_exact(mh)) {
        for (d, &r) in differ.iter_mut().zip(col) {
            *d += u64::from((r ^ p).count_ones());
        }
    }
}

/// [`count_differ`] with the counters of 32 rows at a time in four AVX-512 registers
/// (`vpxorq`, `vpopcntq`, `vpaddq`), the rows past the last whole block as the plain loop.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
fn count_differ_avx512(rows: &[u64], packed: &[u64], differ: &mut [u64]) {
    use std::arch::x86_64::*;
    let mh = differ.len();
    let words = packed.len();
    assert!(rows.len() >= words * mh, "rows hold words x mh");
    let full = mh / 32 * 32;
    for b in (0..full).step_by(32) {
        let mut a = [_mm512_setzero_si512(); 4];
        for (w, &p) in packed.iter().enumerate() {
            let p = _mm512_set1_epi64(p as i64);
            for (k, a) in a.iter_mut().enumerate() {
                // SAFETY: w * mh + b + 8k + 8 <= (words - 1) * mh + full <= rows.len()
                let r = unsafe { _mm512_loadu_si512(rows.as_ptr().add(w * mh + b + 8 * k).cast()) };
                *a = _mm512_add_epi64(*a, _mm512_popcnt_epi64(_mm512_xor_si512(r, p)));
            }
        }
        for (k, a) in a.iter().enumerate() {
            // SAFETY: b + 8k + 8 <= full <= mh = differ.len()
            unsafe { _mm512_storeu_si512(differ.as_mut_ptr().add(b + 8 * k).cast(), *a) };
        }
    }
    for h in full..mh {
        differ[h] = packed
            .iter()
            .enumerate()
            .map(|(w, &p)| u64::from((rows[w * mh + h] ^ p).count_ones()))
            .sum();
    }
}

#[inline(always)]
fn xnor_node_impl(
    mw: usize,
    words: usize,
    rows: &[u64],
    thr: Option<&Thresholds>,
    x: &[i64],
) -> Vec<i64> {
    let mh = rows.len() / words;
    let mut out = Vec::with_capacity(x.len() / mw * mh);
    let mut packed = vec![0u64; words];
    let mut differ = vec![0u64; mh];
    for px in x.chunks_exact(mw) {
        pack(px, &mut packed);
        xnor_pixel(mw, rows, thr, &packed, &mut differ, &mut out);
    }
    out
}

/// OR `nbits` bits of `src` (its bits beyond them 0) into `dst` at bit `at`.
#[inline(always)]
fn put_bits(dst: &mut [u64], at: usize, src: &[u64], nbits: usize) {
    let (w0, s) = (at / 64, at % 64);
    if s == 0 {
        let n = nbits.div_ceil(64);
        dst[w0..w0 + n].copy_from_slice(&src[..n]);
        return;
    }
    for (j, &v) in src[..nbits.div_ceil(64)].iter().enumerate() {
        dst[w0 + j] |= v << s;
        if let Some(d) = dst.get_mut(w0 + j + 1) {
            *d |= v >> (64 - s);
        }
    }
}

#[inline(always)]
fn xnor_window_impl(
    mw: usize,
    words: usize,
    rows: &[u64],
    win: &Window,
    thr: Option<&Thresholds>,
    x: &[i64],
) -> Vec<i64> {
    let [h, w, c] = win.shape;
    let [oh, ow] = win.out;
    let [kh, kw] = win.kernel;
    let mh = rows.len() / words;
    // each input pixel's channels, packed once
    let pw = c.div_ceil(64);
    let mut pixels = vec![0u64; h * w * pw];
    for (px, o) in x.chunks_exact(c).zip(pixels.chunks_exact_mut(pw)) {
        pack(px, o);
    }
    let mut out = Vec::with_capacity(oh * ow * mh);
    let mut packed = vec![0u64; words];
    let mut differ = vec![0u64; mh];
    for oy in 0..oh {
        for ox in 0..ow {
            packed.iter_mut().for_each(|v| *v = 0);
            for ky in 0..kh {
                for kx in 0..kw {
                    let y = oy * win.stride[0] + ky * win.dilation[0];
                    let xx = ox * win.stride[1] + kx * win.dilation[1];
                    let p = y * w + xx;
                    put_bits(
                        &mut packed,
                        (ky * kw + kx) * c,
                        &pixels[p * pw..(p + 1) * pw],
                        c,
                    );
                }
            }
            xnor_pixel(mw, rows, thr, &packed, &mut differ, &mut out);
        }
    }
    out
}

/// Rows a multiply-accumulate block computes together.
const LANES: usize = 32;

/// One pixel's accumulators of one block of rows: `acc[j] = sum_w cols[w][j] * px[w]` with
/// wrapping `T` arithmetic (`mul_add(acc, weight, input)`).
#[inline(always)]
fn mac_block<T: Copy + Default>(
    block: &[i16],
    px: &[i64],
    mul_add: impl Fn(T, i16, i16) -> T,
) -> [T; LANES] {
    let mut acc = [T::default(); LANES];
    let (cols, _) = block.as_chunks::<LANES>();
    for (&v, col) in px.iter().zip(cols) {
        let v = v as i16;
        for j in 0..LANES {
            acc[j] = mul_add(acc[j], col[j], v);
        }
    }
    acc
}

#[inline(always)]
fn mac_node_with<T: Copy + Into<i64>>(
    mw: usize,
    mh: usize,
    cols: &[i16],
    thr: Option<&Thresholds>,
    x: &[i64],
    block_fn: impl Fn(&[i16], &[i64]) -> [T; LANES],
) -> Vec<i64> {
    let mut out = Vec::with_capacity(x.len() / mw * mh);
    for px in x.chunks_exact(mw) {
        for (b, block) in cols.chunks_exact(mw * LANES).enumerate() {
            let acc = block_fn(block, px);
            let rows = (mh - b * LANES).min(LANES);
            out.extend(
                acc[..rows]
                    .iter()
                    .enumerate()
                    .map(|(j, &s)| act(thr, b * LANES + j, s.into())),
            );
        }
    }
    out
}

/// [`mac_block`] for i16 accumulators with AVX2 (`vpmullw` keeps the low 16 bits of each
/// product and `vpaddw` wraps: the same as `wrapping_mul` and `wrapping_add`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn mac_block_i16_avx2(block: &[i16], px: &[i64]) -> [i16; LANES] {
    use std::arch::x86_64::*;
    const { assert!(LANES == 32) };
    let (cols, _) = block.as_chunks::<LANES>();
    let mut a0 = _mm256_setzero_si256();
    let mut a1 = _mm256_setzero_si256();
    for (&v, col) in px.iter().zip(cols) {
        let v = _mm256_set1_epi16(v as i16);
        // SAFETY: `col` holds 32 i16, two unaligned 256-bit loads
        let (c0, c1) = unsafe {
            (
                _mm256_loadu_si256(col.as_ptr().cast()),
                _mm256_loadu_si256(col.as_ptr().add(16).cast()),
            )
        };
        a0 = _mm256_add_epi16(a0, _mm256_mullo_epi16(c0, v));
        a1 = _mm256_add_epi16(a1, _mm256_mullo_epi16(c1, v));
    }
    let mut acc = [0i16; LANES];
    // SAFETY: `acc` holds 32 i16, two unaligned 256-bit stores
    unsafe {
        _mm256_storeu_si256(acc.as_mut_ptr().cast(), a0);
        _mm256_storeu_si256(acc.as_mut_ptr().add(16).cast(), a1);
    }
    acc
}

#[inline(always)]
fn mac_node_impl(
    mw: usize,
    mh: usize,
    cols: &[i16],
    acc_bits: u32,
    thr: Option<&Thresholds>,
    x: &[i64],
) -> Vec<i64> {
    if acc_bits <= 16 {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2
            return mac_node_with(mw, mh, cols, thr, x, |b, p| unsafe {
                mac_block_i16_avx2(b, p)
            });
        }
        mac_node_with(mw, mh, cols, thr, x, |b, p| {
            mac_block(b, p, |a: i16, w: i16, v: i16| {
                a.wrapping_add(w.wrapping_mul(v))
            })
        })
    } else if acc_bits <= 32 {
        mac_node_with(mw, mh, cols, thr, x, |b, p| {
            mac_block(b, p, |a: i32, w: i16, v: i16| {
                a.wrapping_add(i32::from(w) * i32::from(v))
            })
        })
    } else {
        mac_node_with(mw, mh, cols, thr, x, |b, p| {
            mac_block(b, p, |a: i64, w: i16, v: i16| {
                a + i64::from(w) * i64::from(v)
            })
        })
    }
}

/// Defines `$name` calling `$imp`: on x86-64 through a copy compiled with AVX-512
/// (`avx512vpopcntdq`: eight popcounts an instruction) or one with `popcnt` and `avx2`,
/// whichever the CPU has (detected at run time, once per node call).
macro_rules! dispatch {
    ($name:ident, $avx512:ident, $avx2:ident, $imp:ident, ($($arg:ident: $ty:ty),*)) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "popcnt,avx2,bmi2,avx512f,avx512bw,avx512vl,avx512vpopcntdq")]
        fn $avx512($($arg: $ty),*) -> Vec<i64> {
            $imp($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "popcnt,avx2,bmi2")]
        fn $avx2($($arg: $ty),*) -> Vec<i64> {
            $imp($($arg),*)
        }

        fn $name($($arg: $ty),*) -> Vec<i64> {
            #[cfg(target_arch = "x86_64")]
            {
                use std::is_x86_feature_detected as has;
                if has!("popcnt") && has!("avx2") && has!("bmi2") {
                    if has!("avx512f") && has!("avx512bw") && has!("avx512vl")
                        && has!("avx512vpopcntdq")
                    {
                        // SAFETY: the CPU has the features `$avx512` is compiled for.
                        return unsafe { $avx512($($arg),*) };
                    }
                    // SAFETY: the CPU has the features `$avx2` is compiled for.
                    return unsafe { $avx2($($arg),*) };
                }
            }
            $imp($($arg),*)
        }
    };
}

dispatch!(xnor_node, xnor_node_avx512, xnor_node_avx2, xnor_node_impl,
    (mw: usize, words: usize, rows: &[u64], thr: Option<&Thresholds>, x: &[i64]));
dispatch!(xnor_window_node, xnor_window_avx512, xnor_window_avx2, xnor_window_impl,
    (mw: usize, words: usize, rows: &[u64], win: &Window, thr: Option<&Thresholds>, x: &[i64]));
dispatch!(mac_node, mac_node_avx512, mac_node_avx2, mac_node_impl,
    (mw: usize, mh: usize, cols: &[i16], acc_bits: u32, thr: Option<&Thresholds>, x: &[i64]));
