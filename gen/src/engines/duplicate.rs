//! Stream duplication engine (FINN's DuplicateStreams): one input stream copied to N
//! output ports, PE elements a beat on every port. Each output has its own backpressure
//! and its own skid buffer: an input beat leaves when every output has taken it, and an
//! output that took it waits (its "sent" flag) until the others have.

use super::{Engine, RenderCx, Resources};
use crate::emit::{EmitError, GeneratedFile, lit};
use crate::fold::{Fold, divisors};
use crate::ir::{Duplicate, TensorType};
use ferrite_rtl as rtl;

impl Engine for Duplicate {
    fn module_suffix(&self) -> &'static str {
        "duplicate"
    }

    fn template(&self) -> &'static str {
        "engines/duplicate.v"
    }

    fn purpose(&self) -> &'static str {
        "stream duplication (one stream to several consumers, each with its own backpressure)"
    }

    fn datapath(&self) -> &'static str {
        "stream"
    }

    fn fold_space(&self, ins: &[TensorType]) -> (Vec<usize>, Vec<usize>) {
        (divisors(ins[0].channels()), vec![1])
    }

    fn fold_terms(&self, ins: &[TensorType]) -> (String, Option<String>) {
        (format!("the {} channels", ins[0].channels()), None)
    }

    fn lanes(&self, fold: Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![fold.pe], vec![fold.pe; self.outputs])
    }

    fn exp_cycles(&self, ins: &[TensorType], fold: Fold) -> u64 {
        (ins[0].elems() / fold.pe) as u64
    }

    fn work(&self, ins: &[TensorType]) -> u64 {
        ins[0].elems() as u64
    }

    /// Lockstep on every port (an input beat leaves once every output has taken it; the
    /// model never lets one output run ahead, which the RTL's sent flags allow: a later
    /// schedule than the RTL's, so a safe one), a beat entering the next FIFO the cycle
    /// after it is read (`engines/duplicate.v`: straight into each output's skid buffer).
    fn schedule(
        &self,
        ins: &[TensorType],
        outs: &[TensorType],
        fold: Fold,
    ) -> crate::fifo::Schedule {
        let b = |ts: &[TensorType]| ts.iter().map(|t| t.elems() / fold.pe).collect::<Vec<_>>();
        let mut s = crate::fifo::Schedule::streaming(&b(ins), &b(outs), 1);
        if let crate::fifo::Schedule::Steps { emits, .. } = &mut s {
            *emits = format!(
                "emits one beat a cycle on each of its {} outputs, the cycle after it reads it",
                self.outputs
            );
        }
        s
    }

    fn resources(&self, _ins: &[TensorType], _fold: Fold) -> Resources {
        Resources::default()
    }

    /// One skid buffer a copy and the sent flags.
    fn cost_terms(
        &self,
        ins: &[TensorType],
        fold: Fold,
        _family: crate::boards::Family,
    ) -> crate::estimate::Terms {
        let beat = fold.pe * ins[0].dtype.bits() as usize;
        crate::estimate::Terms::new(
            "duplicate",
            [(self.outputs * beat) as f64, self.outputs as f64, 0.0, 0.0],
        )
    }

    fn describe(&self, ins: &[TensorType], f: Fold) -> Vec<String> {
        vec![
            format!(
                "{} -> {} copies, PE {}; one beat a cycle, each output with its own backpressure",
                ins[0], self.outputs, f.pe
            ),
            format!(
                "types: input {}, outputs {}",
                self.input_type, self.input_type
            ),
        ]
    }

    fn uses_mem(&self, _fold: Fold, _family: crate::boards::Family) -> bool {
        false
    }

    fn render(&self, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
        let t = cx.ins[0];
        let pe = cx.fold.pe;
        let bits = self.input_type.bits();
        let width = pe * bits as usize;
        let n = self.outputs;
        let check = if pe == 0 || !t.channels().is_multiple_of(pe) {
            Err(format!(
                "PE {pe} does not divide the {} channels",
                t.channels()
            ))
        } else if n < 2 {
            Err(format!("{n} outputs: a duplicate has at least 2"))
        } else {
            Ok(())
        };
        super::render_module(cx, "Duplicate", check, || rtl::Duplicate {
            module: cx.module.to_string(),
            header: cx.header.clone(),
            skid_module: cx.skid.to_string(),
            pe,
            bits,
            beats: t.elems() / pe,
            msb: width - 1,
            width,
            n,
            n_msb: n - 1,
            n_zero: lit(n as u32, 0),
            outs: (0..n)
                .map(|k| rtl::DupOutput {
                    k,
                    last: k + 1 == n,
                })
                .collect(),
        })
    }
}
