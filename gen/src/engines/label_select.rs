//! Label select (top-k indices, FINN's LabelSelect): reads PE values a beat, keeps the k
//! largest, sends their indices one a beat.

use super::{Engine, RenderCx, Resources, value_kind};
use crate::emit::{EmitError, GeneratedFile, lit, render};
use crate::fold::{Fold, divisors};
use crate::ir::{self, LabelSelect, TensorType};
use ferrite_rtl as rtl;

impl Engine for LabelSelect {
    fn module_suffix(&self) -> &'static str {
        "label_select"
    }

    fn template(&self) -> &'static str {
        "engines/label_select.v"
    }

    fn purpose(&self) -> &'static str {
        "label select (top-k indices)"
    }

    fn datapath(&self) -> &'static str {
        "top-k"
    }

    fn fold_space(&self, _ins: &[TensorType]) -> (Vec<usize>, Vec<usize>) {
        (divisors(self.labels), vec![1])
    }

    fn fold_terms(&self, _ins: &[TensorType]) -> (String, Option<String>) {
        (format!("the {} labels", self.labels), None)
    }

    fn lanes(&self, fold: Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![fold.pe], vec![1])
    }

    /// Reads `labels/pe` beats, then sends k indices, one a beat, overlapped with the next
    /// frame's reading.
    fn exp_cycles(&self, _ins: &[TensorType], fold: Fold) -> u64 {
        ((self.labels / fold.pe).max(self.k)) as u64
    }

    fn work(&self, _ins: &[TensorType]) -> u64 {
        self.labels as u64
    }

    /// `engines/label_select.v`: reads `labels / PE` beats a frame, hands its lists over
    /// to the output side once the previous frame's indices are out, emits `k` indices.
    fn schedule(
        &self,
        _ins: &[TensorType],
        _outs: &[TensorType],
        fold: Fold,
    ) -> crate::fifo::Schedule {
        crate::fifo::Schedule::LabelSelect {
            beats: self.labels / fold.pe,
            k: self.k,
        }
    }

    fn resources(&self, _ins: &[TensorType], _fold: Fold) -> Resources {
        Resources::default()
    }

    /// PE sorted top-k lists of (value, index) with their compares, the shift-out lists
    /// and the final selection over the PE lists, the skid buffer.
    fn cost_terms(
        &self,
        _ins: &[TensorType],
        fold: Fold,
        _family: crate::boards::Family,
    ) -> crate::estimate::Terms {
        let pe = fold.pe;
        let ib = self.input_type.bits() as usize;
        let idx = self.index_type().bits() as usize;
        crate::estimate::Terms::new(
            "label_select",
            [
                (pe * self.k * (2 * ib + idx)) as f64,
                (pe * self.k * (ib + idx)) as f64,
                ((pe - 1) * (2 * ib + idx)) as f64,
                (self.k * self.k * ib) as f64,
            ],
        )
    }

    fn describe(&self, _ins: &[TensorType], f: Fold) -> Vec<String> {
        vec![
            format!("{} labels, k {}, PE {}", self.labels, self.k, f.pe),
            format!(
                "types: input {}, output {}",
                self.input_type,
                self.index_type()
            ),
        ]
    }

    fn uses_mem(&self, _fold: Fold, _family: crate::boards::Family) -> bool {
        false
    }

    fn render(&self, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
        render_label_select(self, cx)
    }
}

fn render_label_select(l: &LabelSelect, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
    let (f, module, header, skid) = (cx.fold, cx.module, cx.header.clone(), cx.skid);
    let pe = f.pe;
    let beats = l.labels / pe;
    let it = l.input_type;
    let ib = it.bits();
    let (in_kind, val_bits) = value_kind(it);
    let idx_bits = l.index_type().bits();
    let cnt_bits = ir::bits_for_unsigned(l.k as u64);
    let idx_mask = (1u64 << idx_bits) - 1;
    let lanes: Vec<rtl::Lane> = (0..pe)
        .map(|p| rtl::Lane {
            p,
            lit: lit(idx_bits, p as i64),
            sel: format!("{pe}'b{}", onehot(pe, p)),
        })
        .collect();
    let ctx = rtl::LabelSelect {
        module: module.to_string(),
        header,
        skid_module: skid.to_string(),
        pe,
        pe_msb: pe - 1,
        multi_lane: pe > 1,
        keep_vals: pe > 1 || l.k > 1,
        k: l.k,
        k_gt1: l.k > 1,
        labels: l.labels,
        beats,
        in_bits: ib,
        in_bits_msb: ib - 1,
        in_msb: pe * ib as usize - 1,
        in_kind,
        in_ext: val_bits - ib,
        val_bits,
        val_msb: val_bits - 1,
        idx_bits,
        idx_msb: idx_bits - 1,
        k_msb: l.k - 1,
        kval_msb: l.k * ib as usize - 1,
        kidx_msb: l.k * idx_bits as usize - 1,
        lanes_rest: lanes[1..].to_vec(),
        sel_first: format!("{pe}'b{}", onehot(pe, 0)),
        lanes,
        base_last: lit(idx_bits, ((beats - 1) * pe) as i64),
        base_step: format!("{idx_bits}'d{}", (pe as u64) & idx_mask),
        cnt_msb: cnt_bits - 1,
        k_lit: lit(cnt_bits, l.k as i64),
        cnt_one: lit(cnt_bits, 1),
    };
    Ok(vec![GeneratedFile {
        name: format!("{module}.v"),
        contents: render(&ctx, module)?,
    }])
}

/// `n` binary digits, MSB first, with only bit `i` set.
fn onehot(n: usize, i: usize) -> String {
    (0..n)
        .rev()
        .map(|b| if b == i { '1' } else { '0' })
        .collect()
}
