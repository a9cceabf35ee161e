//! Multi-threshold activation engine (FINN's Thresholding): PE channels a beat, each value
//! compared (`>=`) with its channel's thresholds.

use super::{Engine, RenderCx, Resources, value_kind};
use crate::emit::{EmitError, GeneratedFile, MemBuilder, counter_bits, lit, render};
use crate::fold::{Fold, divisors};
use crate::ir::{DataType, TensorType, Thresholding, Thresholds};
use ferrite_rtl as rtl;

impl Engine for Thresholding {
    fn module_suffix(&self) -> &'static str {
        "thresholding"
    }

    fn template(&self) -> &'static str {
        "engines/thresholding.v"
    }

    fn purpose(&self) -> &'static str {
        "multi-threshold activation"
    }

    fn datapath(&self) -> &'static str {
        "compare"
    }

    fn fold_space(&self, _ins: &[TensorType]) -> (Vec<usize>, Vec<usize>) {
        (divisors(self.channels), vec![1])
    }

    fn fold_terms(&self, _ins: &[TensorType]) -> (String, Option<String>) {
        (format!("the {} channels", self.channels), None)
    }

    fn lanes(&self, fold: Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![fold.pe], vec![fold.pe])
    }

    fn exp_cycles(&self, ins: &[TensorType], fold: Fold) -> u64 {
        (ins[0].elems() / fold.pe) as u64
    }

    fn work(&self, ins: &[TensorType]) -> u64 {
        ins[0].elems() as u64
    }

    /// `engines/thresholding.v`: one beat in and one out a cycle; a beat enters the next
    /// FIFO `1 + B` cycles after it is read (the B stages of the binary search
    /// ([`search_stages`]), the skid buffer).
    fn schedule(
        &self,
        ins: &[TensorType],
        _outs: &[TensorType],
        fold: Fold,
    ) -> crate::fifo::Schedule {
        let beats = ins[0].elems() / fold.pe;
        let lat = 1 + search_stages(self.thresholds.per_channel());
        crate::fifo::Schedule::streaming(&[beats], &[beats], lat as u32)
    }

    fn resources(&self, ins: &[TensorType], fold: Fold) -> Resources {
        let it = self.input_type;
        let cmp = signed_bits(it.min(), it.max() + 1) as usize;
        let _ = ins;
        Resources {
            weight_rom_bits: 0,
            threshold_rom_bits: (self.channels / fold.pe).max(2)
                * fold.pe
                * self.thresholds.per_channel()
                * cmp,
            est_bram18: 0,
            buffer_bits: 0,
        }
    }

    /// PE lanes of `per_channel` compares against a ROM row (constants with one channel
    /// fold, else a ROM read from logic), the output encoding, the skid buffer.
    fn cost_terms(
        &self,
        _ins: &[TensorType],
        fold: Fold,
        family: crate::boards::Family,
    ) -> crate::estimate::Terms {
        let it = self.input_type;
        let cmp_bits = signed_bits(it.min(), it.max() + 1) as usize;
        let pe = fold.pe;
        let cf = self.channels / pe;
        let nt = self.thresholds.per_channel();
        // the pipelined search compares once a stage; the ROM holds every threshold
        let cmp = (pe * search_stages(nt) * cmp_bits) as f64;
        let rom_bits = (pe * nt * cmp_bits) as f64;
        let out = self.thresholds.out_type.bits() as usize;
        // the threshold ROM, each search stage reading its own slice of the row: every
        // Yosys flow (synth_xilinx, synth_ecp5, synth_ice40) keeps it in logic
        let _ = family;
        let rom = crate::estimate::Memory::Logic;
        let mut t = crate::estimate::Terms::new(
            "thresholding",
            [
                // the skid buffer, and the value and result carried down the search stages
                (pe * (it.bits() as usize + 2 * out)
                    + pe * search_stages(nt) * (it.bits() as usize + out)) as f64,
                cmp,
                if cf > 1 {
                    crate::estimate::fabric_bits(rom, cf, rom_bits as usize)
                } else {
                    0.0
                },
                // one channel's thresholds (the row the search stages take slices of)
                rom_bits,
            ],
        );
        t.bram = crate::estimate::blocks(rom);
        t
    }

    fn describe(&self, ins: &[TensorType], f: Fold) -> Vec<String> {
        vec![
            format!(
                "{} elements, {} channels, PE {}",
                ins[0].elems(),
                self.channels,
                f.pe
            ),
            format!(
                "types: input {}, output {}",
                self.input_type, self.thresholds.out_type
            ),
        ]
    }

    fn uses_mem(&self, _fold: Fold, _family: crate::boards::Family) -> bool {
        true
    }

    fn render(&self, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
        render_thresholding(self, cx)
    }
}

/// Bits of a signed number holding `lo..=hi`.
pub(super) fn signed_bits(lo: i64, hi: i64) -> u32 {
    DataType::smallest_containing(lo.min(-1), hi.max(0)).bits()
}

/// Sorted thresholds of `channel` clamped to `lo..=hi+1` (a threshold outside never or
/// always holds, so clamping keeps every comparison's result).
pub(super) fn clamped(t: &Thresholds, channel: usize, lo: i64, hi: i64) -> Vec<i64> {
    t.row(channel)
        .iter()
        .map(|&v| v.clamp(lo, hi.saturating_add(1)))
        .collect()
}

/// Register stages of the binary search over `nt` thresholds a channel: the bits of a
/// count `0..=nt`.
pub(super) fn search_stages(nt: usize) -> usize {
    crate::ir::bits_for_unsigned(nt as u64).max(1) as usize
}

/// The pipelined binary search (`lib/thr_search.v`) over `words` ROM words of `pe`
/// channels, `rows(word, lane)` giving a channel's ascending thresholds (already in the
/// comparison domain, at most `pad`), `cmp_bits` bits each; `pad` (a value no input
/// reaches) fills a row up to `2^B - 1` thresholds for B stages. Word layout: stage k's
/// region at `(2^k - 1) * pe * cmp_bits`, lane p's `2^k` entries from `p * 2^k * cmp_bits`
/// in it, entry r the threshold `r * 2^(B-k) + 2^(B-1-k) - 1` (0-based).
#[allow(clippy::too_many_arguments)]
pub(super) fn thr_search(
    rows: impl Fn(usize, usize) -> Vec<i64>,
    words: usize,
    pe: usize,
    nt: usize,
    cmp_bits: u32,
    pad: i64,
    out_bits: u32,
    file: String,
) -> (rtl::ThrSearch, GeneratedFile) {
    let b = search_stages(nt);
    let m = (1usize << b) - 1;
    let cmp = cmp_bits as usize;
    let mask = if cmp_bits >= 64 {
        u64::MAX
    } else {
        (1u64 << cmp_bits) - 1
    };
    let mut tm = MemBuilder::new(m * pe * cmp);
    for w in 0..words {
        tm.push_word();
        for p in 0..pe {
            let mut row = rows(w, p);
            debug_assert_eq!(row.len(), nt, "thresholds a channel");
            row.resize(m, pad);
            for k in 0..b {
                let off = ((1usize << k) - 1) * pe * cmp + p * (1usize << k) * cmp;
                for r in 0..(1usize << k) {
                    let j = r * (1usize << (b - k)) + (1usize << (b - 1 - k)) - 1;
                    tm.set(off + r * cmp, cmp_bits, (row[j] as u64) & mask);
                }
            }
        }
    }
    let addr_bits = counter_bits(words);
    let stages = (0..b)
        .map(|k| rtl::ThrStage {
            k,
            next: k + 1,
            k_msb: k.saturating_sub(1),
            entries: 1 << k,
            off: ((1usize << k) - 1) * pe * cmp,
            lane_bits: (1usize << k) * cmp,
            lane_msb: (1usize << k) * cmp - 1,
            n_msb: pe * (k + 1) - 1,
            prev_n_msb: (pe * k).saturating_sub(1),
            last: k + 1 == b,
            sel: (0..(1usize << k))
                .map(|r| rtl::ThrSel {
                    lit: lit(k.max(1) as u32, r as i64),
                    msb: (r + 1) * cmp - 1,
                    lsb: r * cmp,
                })
                .collect(),
        })
        .collect();
    let ts = rtl::ThrSearch {
        pe,
        cmp_bits,
        cmp_msb: cmp_bits - 1,
        v_msb: pe * cmp - 1,
        file: file.clone(),
        rom_msb: m * pe * cmp - 1,
        rom_last: words.max(2) - 1,
        addr_msb: addr_bits - 1,
        stages,
        n_bits: b,
        top: b,
        count_msb: pe * b - 1,
        out_ext: out_bits.saturating_sub(b as u32),
    };
    let rom = GeneratedFile {
        name: file,
        contents: tm.finish(words.max(2)),
    };
    (ts, rom)
}

/// The search fields of a unit without thresholds (not rendered).
pub(super) fn no_search() -> rtl::ThrSearch {
    rtl::ThrSearch {
        pe: 1,
        cmp_bits: 1,
        cmp_msb: 0,
        v_msb: 0,
        file: String::new(),
        rom_msb: 0,
        rom_last: 1,
        addr_msb: 0,
        stages: Vec::new(),
        n_bits: 1,
        top: 1,
        count_msb: 0,
        out_ext: 0,
    }
}

#[derive(Clone)]
pub(super) struct ThrOut {
    pub(super) nt: usize,
    pub(super) out_bipolar: bool,
    pub(super) out_bias: String,
    pub(super) out_one: String,
    pub(super) out_zero: String,
}

impl ThrOut {
    /// The template's threshold fields of a unit without thresholds.
    pub(super) fn none() -> ThrOut {
        ThrOut {
            nt: 1,
            out_bipolar: false,
            out_bias: String::new(),
            out_one: String::new(),
            out_zero: String::new(),
        }
    }
}

pub(super) fn thr_out(t: &Thresholds) -> ThrOut {
    let ob = t.out_type.bits();
    ThrOut {
        nt: t.per_channel(),
        out_bipolar: t.out_type == DataType::Bipolar,
        out_bias: lit(
            ob,
            if t.out_type == DataType::Bipolar {
                0
            } else {
                t.out_bias
            },
        ),
        out_one: lit(ob, 1),
        out_zero: lit(ob, 0),
    }
}

fn render_thresholding(l: &Thresholding, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
    let (f, module, header, skid) = (cx.fold, cx.module, cx.header.clone(), cx.skid);
    let elems = cx.ins[0].elems();
    let pe = f.pe;
    let cf = l.channels / pe;
    let t = &l.thresholds;
    let thr = thr_out(t);
    let it = l.input_type;
    let ib = it.bits();
    let (in_kind, _) = value_kind(it);
    let (lo, hi) = (it.min(), it.max());
    let cmp_bits = signed_bits(lo, hi + 1);
    let thr_file = format!("{module}_t.mem");
    let cf_bits = counter_bits(cf);
    let out_bits = t.out_type.bits();
    if search_stages(thr.nt) > out_bits as usize {
        return Err(EmitError::Verify(format!(
            "{module}: {} thresholds do not fit a {out_bits}-bit output",
            thr.nt
        )));
    }
    let (ts, rom) = thr_search(
        |w, p| clamped(t, w * pe + p, lo, hi),
        cf,
        pe,
        thr.nt,
        cmp_bits,
        hi + 1,
        out_bits,
        thr_file,
    );
    let ctx = rtl::Thresholding {
        module: module.to_string(),
        header,
        skid_module: skid.to_string(),
        pe,
        beats: elems / pe,
        in_bits: ib,
        in_bits_msb: ib - 1,
        in_msb: pe * ib as usize - 1,
        in_kind,
        in_ext: cmp_bits - ib,
        out_bits,
        out_msb: pe * out_bits as usize - 1,
        out_width: pe * out_bits as usize,
        nt: thr.nt,
        cmp_bits,
        cmp_msb_bits: cmp_bits - 1,
        cf_msb: cf_bits - 1,
        cf_last: lit(cf_bits, (cf - 1) as i64),
        cf_one: lit(cf_bits, 1),
        out_bipolar: thr.out_bipolar,
        out_bias: thr.out_bias,
        out_one: thr.out_one,
        out_zero: thr.out_zero,
        out_bits_msb: out_bits - 1,
        ts,
    };
    Ok(vec![
        GeneratedFile {
            name: format!("{module}.v"),
            contents: render(&ctx, module)?,
        },
        rom,
    ])
}

/// The threshold stage after an accumulator (matrix-vector and vector-vector units): the
/// comparison domain, the numbers its template part needs and its ROM.
pub(super) struct AccThresholds {
    pub(super) out: ThrOut,
    pub(super) cmp_bits: u32,
    pub(super) cmp_kind: rtl::Widen,
    pub(super) cmp_ext: u32,
    /// The binary search over the thresholds.
    pub(super) ts: rtl::ThrSearch,
    /// The ROM: word `w` holds the thresholds of channels `channel(w, 0..pe)` in the search's
    /// layout ([`thr_search`]).
    pub(super) rom: GeneratedFile,
}

/// Comparison domain of thresholds after an accumulator over `acc_range`, or after a
/// popcount of `xnor_n` XNORs (`dot >= t <=> pc >= ceil((t + n) / 2)`): `(lo, hi)`.
pub(super) fn acc_cmp_range(xnor_n: Option<usize>, acc_range: (i64, i64)) -> (i64, i64) {
    match xnor_n {
        Some(n) => (0, n as i64),
        None => acc_range,
    }
}

/// Comparison width (signed bits) of thresholds after an accumulator ([`acc_cmp_range`]).
pub(super) fn acc_cmp_bits(xnor_n: Option<usize>, acc_range: (i64, i64)) -> u32 {
    let (lo, hi) = acc_cmp_range(xnor_n, acc_range);
    signed_bits(lo, hi + 1)
}

/// The threshold stage of `t` after an accumulator of `acc_bits` bits (signed or not) over
/// `acc_range`, or after a popcount of `xnor_n` XNORs; `words` ROM words of `pe` channels,
/// channel `channel(word, lane)`, written to `file`.
#[allow(clippy::too_many_arguments)]
pub(super) fn acc_thresholds(
    t: &Thresholds,
    xnor_n: Option<usize>,
    acc_range: (i64, i64),
    acc_bits: u32,
    acc_signed: bool,
    pe: usize,
    words: usize,
    channel: impl Fn(usize, usize) -> usize,
    file: String,
) -> AccThresholds {
    let out = thr_out(t);
    let (lo, hi) = acc_cmp_range(xnor_n, acc_range);
    let cmp_bits = signed_bits(lo, hi + 1);
    let acc_signed = xnor_n.is_none() && acc_signed;
    let cmp_ext = cmp_bits - acc_bits;
    let cmp_kind = match (cmp_ext, acc_signed) {
        (0, _) => rtl::Widen::None,
        (_, true) => rtl::Widen::Sign,
        (_, false) => rtl::Widen::Zero,
    };
    let (ts, rom) = thr_search(
        |w, p| {
            t.row(channel(w, p))
                .iter()
                .map(|&v| match xnor_n {
                    Some(n) => (v.saturating_add(n as i64).saturating_add(1)).div_euclid(2),
                    None => v,
                })
                .map(|v| v.clamp(lo, hi + 1))
                .collect()
        },
        words,
        pe,
        out.nt,
        cmp_bits,
        hi + 1,
        t.out_type.bits(),
        file,
    );
    AccThresholds {
        out,
        cmp_bits,
        cmp_kind,
        cmp_ext,
        ts,
        rom,
    }
}
