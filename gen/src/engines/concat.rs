//! Channel concatenation engine (FINN's StreamingConcat): N streams of one height and
//! width, PE channels a beat on every port; for each pixel it copies input 0's `C_0/PE`
//! beats, then input 1's, and so on, each lane widened to the output type (sign- or
//! zero-extended, a bipolar 1/0 as +1/-1). Only the input being copied is ready; a beat
//! goes straight into the output skid buffer, one a cycle.
//!
//! Whole-pixel mode (PE = the output's channels, `sum(C_i)`): every input streams its
//! whole pixel a beat (`C_i` lanes) and the engine reads them all together, one output
//! pixel a cycle.

use super::{Engine, RenderCx, Resources, value_kind};
use crate::emit::{EmitError, GeneratedFile, counter_bits, lit};
use crate::fifo::{Schedule, Step};
use crate::fold::{Fold, divisors};
use crate::ir::{Concat, DataType, TensorType};
use ferrite_rtl as rtl;

/// The greatest common divisor of the inputs' channels: the largest PE.
fn channels_gcd(c: &Concat) -> usize {
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    c.channels.iter().copied().fold(0, gcd)
}

/// Whether `pe` asks for whole pixels a beat (PE = the output's channels).
fn whole(c: &Concat, pe: usize) -> bool {
    c.channels.len() >= 2 && pe == c.out_channels()
}

/// Why `pe` is no legal fold of `c`, if it is not.
fn pe_check(c: &Concat, pe: usize) -> Result<(), String> {
    if whole(c, pe) {
        return Ok(());
    }
    if let Some((i, ch)) = c
        .channels
        .iter()
        .enumerate()
        .find(|&(_, &ch)| pe == 0 || !ch.is_multiple_of(pe))
    {
        return Err(format!(
            "PE {pe} does not divide input {i}'s {ch} channels: a beat never spans two inputs, so PE must divide \
             every input's channels {:?} (pick a divisor of {}, or {} for whole pixels a beat)",
            c.channels,
            channels_gcd(c),
            c.out_channels()
        ));
    }
    Ok(())
}

impl Engine for Concat {
    fn module_suffix(&self) -> &'static str {
        "concat"
    }

    fn template(&self) -> &'static str {
        "engines/concat.v"
    }

    fn purpose(&self) -> &'static str {
        "channel concatenation of several streams (each pixel: input 0's channels, then input 1's, ...)"
    }

    fn datapath(&self) -> &'static str {
        "stream"
    }

    fn fold_space(&self, _ins: &[TensorType]) -> (Vec<usize>, Vec<usize>) {
        let mut pes = divisors(channels_gcd(self).max(1));
        if self.channels.len() >= 2 {
            pes.push(self.out_channels());
        }
        (pes, vec![1])
    }

    fn fold_terms(&self, _ins: &[TensorType]) -> (String, Option<String>) {
        (
            format!(
                "every input's channels {:?} (or all {} channels: whole pixels a beat)",
                self.channels,
                self.out_channels()
            ),
            None,
        )
    }

    fn fold_check(&self, _ins: &[TensorType], fold: Fold) -> Result<(), String> {
        pe_check(self, fold.pe)
    }

    fn lanes(&self, fold: Fold) -> (Vec<usize>, Vec<usize>) {
        if whole(self, fold.pe) {
            return (self.channels.clone(), vec![fold.pe]);
        }
        (vec![fold.pe; self.channels.len()], vec![fold.pe])
    }

    /// `H*W * sum(C_i) / PE`: one output beat a cycle (`H*W` for whole pixels).
    fn exp_cycles(&self, ins: &[TensorType], fold: Fold) -> u64 {
        let pixels = ins[0].shape[0] * ins[0].shape[1];
        (pixels * self.out_channels() / fold.pe.max(1)) as u64
    }

    fn work(&self, ins: &[TensorType]) -> u64 {
        (ins[0].shape[0] * ins[0].shape[1] * self.out_channels()) as u64
    }

    /// One step a cycle, each reading one beat of one input and writing it out: per pixel
    /// `C_0/PE` steps on input 0, then `C_1/PE` on input 1, ...; a beat enters the next FIFO
    /// the cycle after its read (`engines/concat.v`: straight into the skid buffer).
    fn schedule(&self, ins: &[TensorType], _outs: &[TensorType], fold: Fold) -> Schedule {
        let pe = fold.pe.max(1);
        if whole(self, pe) {
            let all = (1u32 << self.channels.len()) - 1;
            return Schedule::Steps {
                pattern: vec![Step::new(all, 1)],
                repeat: ins[0].shape[0] * ins[0].shape[1],
                latency: 1,
                reads: "reads a whole pixel of every input together, one a cycle".into(),
                emits: "emits one pixel a cycle, the cycle after it reads it".into(),
            };
        }
        let mut pattern = Vec::new();
        for (i, &c) in self.channels.iter().enumerate() {
            for _ in 0..c / pe {
                pattern.push(Step::new(1 << i, 1));
            }
        }
        let blocks: Vec<String> = self.channels.iter().map(|c| (c / pe).to_string()).collect();
        Schedule::Steps {
            pattern,
            repeat: ins[0].shape[0] * ins[0].shape[1],
            latency: 1,
            reads: format!(
                "reads one input at a time, per pixel {} beats of its inputs in turn",
                blocks.join(" + ")
            ),
            emits: "emits one beat a cycle, the cycle after it reads it".into(),
        }
    }

    fn resources(&self, _ins: &[TensorType], _fold: Fold) -> Resources {
        Resources::default()
    }

    /// A multiplexer over the inputs' lanes into the output beat (widened to the output
    /// type), the selection counters, the skid buffer.
    fn cost_terms(
        &self,
        _ins: &[TensorType],
        fold: Fold,
        _family: crate::boards::Family,
    ) -> crate::estimate::Terms {
        let (il, ol) = self.lanes(fold);
        let out = ol[0] * self.output_type().bits() as usize;
        let inb: usize = il
            .iter()
            .zip(&self.input_types)
            .map(|(l, t)| l * t.bits() as usize)
            .sum();
        crate::estimate::Terms::new(
            "concat",
            [out as f64, self.input_types.len() as f64, inb as f64, 0.0],
        )
    }

    fn describe(&self, ins: &[TensorType], f: Fold) -> Vec<String> {
        let parts: Vec<String> = ins.iter().map(|t| t.to_string()).collect();
        vec![
            format!(
                "{} -> {} channels, PE {}; {}",
                parts.join(" ++ "),
                self.out_channels(),
                f.pe,
                if whole(self, f.pe) {
                    "whole pixels: one beat of every input together a cycle"
                } else {
                    "one beat a cycle, one input at a time"
                }
            ),
            format!(
                "types: inputs {}, output {}",
                self.input_types
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                self.output_type()
            ),
        ]
    }

    fn uses_mem(&self, _fold: Fold, _family: crate::boards::Family) -> bool {
        false
    }

    fn render(&self, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
        let pe = cx.fold.pe;
        let n = self.input_types.len();
        let out_type = self.output_type();
        let out_bits = out_type.bits();
        let mut check = pe_check(self, pe);
        if n < 2 || self.channels.len() != n || cx.ins.len() != n {
            check = Err(format!(
                "{n} input types, {} channel counts and {} input streams: a concat has at least 2 of each, as many",
                self.channels.len(),
                cx.ins.len()
            ));
        }
        let sel_bits = counter_bits(n);
        let most_beats = self
            .channels
            .iter()
            .map(|c| c / pe.max(1))
            .max()
            .unwrap_or(1);
        let beat_bits = counter_bits(most_beats);
        let whole = whole(self, pe);
        let valid = |k: usize| format!("s_axis_in{k}_tvalid");
        let mut ins = Vec::new();
        let mut offset = 0;
        for (k, (&dt, &c)) in self.input_types.iter().zip(&self.channels).enumerate() {
            let bits = dt.bits();
            let (kind, _) = value_kind(dt);
            let copy = dt == out_type;
            // a value's own bits: a bipolar lane becomes +1/-1 (2 bits signed), others
            // extend; the output type holds every value, so never narrower
            let body = if dt == DataType::Bipolar && !copy {
                2
            } else {
                bits
            };
            if out_bits < body {
                check = Err(format!(
                    "input {k} ({dt}) does not fit the {out_bits}-bit output {out_type}; this is a bug"
                ));
                continue;
            }
            ins.push(rtl::ConcatInput {
                k,
                type_name: dt.to_string(),
                channels: c,
                bits,
                bits_msb: bits - 1,
                msb: if whole { c } else { pe } * bits as usize - 1,
                kind,
                copy,
                ext: out_bits - bits,
                plus_one: lit(out_bits, 1),
                minus_one: lit(out_bits, -1),
                sel: lit(sel_bits, k as i64),
                beat_last: lit(beat_bits, (c / pe.max(1)).max(1) as i64 - 1),
                lanes: if whole { c } else { pe },
                offset,
                others_valid: {
                    let v: Vec<String> = (0..n).filter(|&j| j != k).map(valid).collect();
                    if v.is_empty() {
                        "1'b1".into()
                    } else {
                        v.join(" && ")
                    }
                },
            });
            offset += c;
        }
        let pixels = cx.ins.first().map_or(0, |t| t.shape[0] * t.shape[1]);
        let out_width = pe * out_bits as usize;
        super::render_module(cx, "Concat", check, || rtl::Concat {
            module: cx.module.to_string(),
            header: cx.header.clone(),
            skid_module: cx.skid.to_string(),
            pe,
            pixels,
            whole,
            all_valid: (0..n).map(valid).collect::<Vec<_>>().join(" && "),
            ins,
            out_bits,
            out_bits_msb: out_bits - 1,
            out_msb: out_width - 1,
            out_width,
            out_type: out_type.to_string(),
            out_channels: self.out_channels(),
            out_zero: lit(out_width as u32, 0),
            sel_msb: sel_bits - 1,
            sel_last: lit(sel_bits, n as i64 - 1),
            sel_one: lit(sel_bits, 1),
            sel_zero: lit(sel_bits, 0),
            beat_msb: beat_bits - 1,
            beat_one: lit(beat_bits, 1),
            beat_zero: lit(beat_bits, 0),
        })
    }
}
