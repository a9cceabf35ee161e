//! Elementwise add engine (FINN's AddStreams, with the requantizer absorbed): two streams
//! of one shape, PE elements a beat on each, summed lane by lane as
//! `(a << s0) + (b << s1)` (exact, in the width of the sum's range), then optionally a
//! multi-threshold activation per channel (the channel of lane `l` of beat `b` is
//! `(b * PE + l) mod C`; the thresholds are the thresholding engine's ROM and encoder).
//! A beat leaves both inputs together, one a cycle.

use super::thresholding::{clamped, search_stages, signed_bits, thr_out, thr_search};
use super::{Engine, RenderCx, Resources, value_kind};
use crate::emit::{EmitError, GeneratedFile, counter_bits, lit};
use crate::fold::{Fold, divisors};
use crate::ir::{Add, DataType, TensorType};
use ferrite_rtl as rtl;

/// Width of the engine's sum: the comparison width with thresholds (the sum's range and
/// one past its top, signed), else the sum type's.
fn acc_bits(a: &Add) -> u32 {
    let (lo, hi) = a.sum_range();
    match &a.thresholds {
        Some(_) => signed_bits(lo, hi + 1),
        None => a.sum_type().bits(),
    }
}

impl Engine for Add {
    fn module_suffix(&self) -> &'static str {
        "add"
    }

    fn template(&self) -> &'static str {
        "engines/add.v"
    }

    fn purpose(&self) -> &'static str {
        "elementwise add of two streams (residual add), optional multi-threshold activation"
    }

    fn datapath(&self) -> &'static str {
        if self.thresholds.is_some() {
            "add-compare"
        } else {
            "add"
        }
    }

    fn fold_space(&self, ins: &[TensorType]) -> (Vec<usize>, Vec<usize>) {
        (divisors(ins[0].channels()), vec![1])
    }

    fn fold_terms(&self, ins: &[TensorType]) -> (String, Option<String>) {
        (format!("the {} channels", ins[0].channels()), None)
    }

    fn lanes(&self, fold: Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![fold.pe, fold.pe], vec![fold.pe])
    }

    fn exp_cycles(&self, ins: &[TensorType], fold: Fold) -> u64 {
        (ins[0].elems() / fold.pe) as u64
    }

    fn work(&self, ins: &[TensorType]) -> u64 {
        ins[0].elems() as u64
    }

    /// Both inputs read together, one beat a cycle; a beat enters the next FIFO 2 cycles
    /// after its read (the sum register, the output skid buffer), and with thresholds one
    /// more a stage of the binary search ([`search_stages`]): `engines/add.v`.
    fn schedule(
        &self,
        ins: &[TensorType],
        outs: &[TensorType],
        fold: Fold,
    ) -> crate::fifo::Schedule {
        let b = |ts: &[TensorType]| ts.iter().map(|t| t.elems() / fold.pe).collect::<Vec<_>>();
        let latency = 2 + self
            .thresholds
            .as_ref()
            .map_or(0, |t| search_stages(t.per_channel()) as u32);
        let mut s = crate::fifo::Schedule::streaming(&b(ins), &b(outs), latency);
        if let crate::fifo::Schedule::Steps { reads, emits, .. } = &mut s {
            *reads = "reads a beat from both inputs together, one a cycle".into();
            *emits = format!("emits one beat a cycle, {latency} cycles after its inputs");
        }
        s
    }

    fn resources(&self, ins: &[TensorType], fold: Fold) -> Resources {
        let cf = ins[0].channels() / fold.pe;
        Resources {
            threshold_rom_bits: self.thresholds.as_ref().map_or(0, |t| {
                let entries = (1usize << search_stages(t.per_channel())) - 1;
                cf.max(2) * fold.pe * entries * acc_bits(self) as usize
            }),
            ..Resources::default()
        }
    }

    /// PE adders of the two shifted inputs, a registered sum, with thresholds the binary
    /// search (PE compares a stage) and its threshold ROM, the skid buffer.
    fn cost_terms(
        &self,
        ins: &[TensorType],
        fold: Fold,
        _family: crate::boards::Family,
    ) -> crate::estimate::Terms {
        let pe = fold.pe;
        let w = acc_bits(self) as usize;
        let cf = ins[0].channels() / pe;
        let (cmp, rom) = self.thresholds.as_ref().map_or((0.0, 0.0), |t| {
            let b = search_stages(t.per_channel());
            let c = (pe * b * w) as f64;
            let rom = (pe * ((1usize << b) - 1) * w * cf) as f64;
            (c, if cf > 1 { rom } else { 0.0 })
        });
        let out = pe * self.output_type().bits() as usize;
        crate::estimate::Terms::new("add", [out as f64, (pe * w) as f64, cmp, rom])
    }

    fn describe(&self, ins: &[TensorType], f: Fold) -> Vec<String> {
        let (lo, hi) = self.sum_range();
        vec![
            format!(
                "{} + {}, {} channels, PE {}; ({} << {}) + ({} << {}) in [{lo}, {hi}]",
                ins[0],
                ins[1],
                ins[0].channels(),
                f.pe,
                self.input_types[0],
                self.shifts[0],
                self.input_types[1],
                self.shifts[1]
            ),
            format!(
                "types: inputs {} and {}, sum {}, output {}{}",
                self.input_types[0],
                self.input_types[1],
                self.sum_type(),
                self.output_type(),
                match &self.thresholds {
                    Some(t) => format!(" ({} thresholds a channel)", t.per_channel()),
                    None => String::new(),
                }
            ),
        ]
    }

    fn uses_mem(&self, _fold: Fold, _family: crate::boards::Family) -> bool {
        self.thresholds.is_some()
    }

    fn render(&self, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
        render_add(self, cx)
    }
}

fn render_add(a: &Add, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
    let module = cx.module;
    let pe = cx.fold.pe;
    let t = cx.ins[0];
    let channels = t.channels();
    let w = acc_bits(a);
    // each term, extended to `w - shift` bits then shifted, must fit `w` bits: the sum's
    // range holds each shifted operand's (the other operand's range reaches 0 or +-1)
    let mut ins = Vec::new();
    let mut check = if pe == 0 || !channels.is_multiple_of(pe) {
        Err(format!("PE {pe} does not divide the {channels} channels"))
    } else {
        Ok(())
    };
    for k in 0..2 {
        let dt = a.input_types[k];
        let s = a.shifts[k];
        let bits = dt.bits();
        let (kind, _) = value_kind(dt);
        let body = if dt == DataType::Bipolar { 2 } else { bits };
        if w < body + s {
            check = Err(format!(
                "input {k} ({dt} << {s}) does not fit the {w}-bit sum; this is a bug"
            ));
            continue;
        }
        ins.push(rtl::AddInput {
            k,
            type_name: dt.to_string(),
            bits,
            bits_msb: bits - 1,
            msb: pe * bits as usize - 1,
            kind,
            ext: w - s - bits.min(w - s),
            shift: s,
            zeros: lit(s.max(1), 0),
            plus_one: lit(w - s, 1),
            minus_one: lit(w - s, -1),
        });
    }
    let cf = channels / pe.max(1);
    let cf_bits = counter_bits(cf);
    let out_type = a.output_type();
    let out_bits = out_type.bits();
    let thr_file = format!("{module}_t.mem");
    let (lo, hi) = a.sum_range();
    let thr = a.thresholds.as_ref().map(thr_out);
    let nt = thr.as_ref().map_or(1, |t| t.nt);
    if let Some(t) = &a.thresholds
        && search_stages(t.per_channel()) > out_bits as usize
    {
        check = Err(format!(
            "{} thresholds do not fit a {out_bits}-bit output",
            t.per_channel()
        ));
    }
    let search = a.thresholds.as_ref().map(|t| {
        thr_search(
            |word, p| clamped(t, word * pe + p, lo, hi),
            cf,
            pe,
            t.per_channel(),
            w,
            hi + 1,
            out_bits,
            thr_file.clone(),
        )
    });
    let ts = search
        .as_ref()
        .map_or_else(super::thresholding::no_search, |(ts, _)| ts.clone());
    let ctx = || rtl::Add {
        module: module.to_string(),
        header: cx.header.clone(),
        skid_module: cx.skid.to_string(),
        pe,
        beats: t.elems() / pe,
        channels,
        ins: ins.clone(),
        acc_bits: w,
        acc_msb: w - 1,
        sum_all_msb: pe * w as usize - 1,
        sum_type: a.sum_type().to_string(),
        out_bits,
        out_msb: pe * out_bits as usize - 1,
        out_width: pe * out_bits as usize,
        out_type: out_type.to_string(),
        has_thr: thr.is_some(),
        nt,
        ts: ts.clone(),
        cf_msb: cf_bits - 1,
        cf_last: lit(cf_bits, cf as i64 - 1),
        cf_one: lit(cf_bits, 1),
        cf_zero: lit(cf_bits, 0),
        out_bipolar: thr.as_ref().is_some_and(|t| t.out_bipolar),
        out_bias: thr.as_ref().map_or(String::new(), |t| t.out_bias.clone()),
    };
    let mut files = super::render_module(cx, "Add", check, ctx)?;
    if let Some((_, rom)) = search {
        files.push(rom);
    }
    Ok(files)
}
