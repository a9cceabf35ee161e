//! Pooling engine (FINN's Pool_Batch idea): the max or the sum over the window positions of
//! every channel.
//!
//! A frame comes in as `outputs` output pixels, each `positions` window positions, each
//! `channels / pe` beats of `pe` channels (what a sliding-window generator emits with
//! `positions = KH * KW`, and a whole feature map in raster order for global pooling:
//! `outputs = 1`, `positions = H * W`). For every output pixel and channel fold one beat
//! of `pe` lanes goes out: the max or the sum over the positions of each channel. The engine
//! takes one beat a cycle and keeps `channels / pe` accumulators.

use crate::emit::{counter_bits, lit};
use crate::ir::DataType;
use crate::ir::MAX_BITS;

pub use crate::ir::PoolMode;

/// Parameters of a pooling engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    /// Output pixels a frame (NO).
    pub outputs: usize,
    /// Window positions reduced into each output pixel (NP).
    pub positions: usize,
    /// Channels (C).
    pub channels: usize,
    /// Channels a beat, in and out (PE divides C).
    pub pe: usize,
    pub mode: PoolMode,
    pub input_type: DataType,
}

impl Pool {
    /// Whether the parameters make an engine; the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("outputs", self.outputs),
            ("positions", self.positions),
            ("channels", self.channels),
            ("pe", self.pe),
        ] {
            if v == 0 {
                return Err(format!("pool: {name} is 0; it must be at least 1"));
            }
        }
        if !self.channels.is_multiple_of(self.pe) {
            return Err(format!(
                "pool: pe {} does not divide the {} channels; choose a divisor of {}",
                self.pe, self.channels, self.channels
            ));
        }
        if !self.input_type.is_valid() {
            return Err(format!(
                "pool: input type {} has an unsupported width",
                self.input_type
            ));
        }
        if self.mode == PoolMode::Sum {
            let np = i64::try_from(self.positions).ok();
            let range = np.and_then(|n| {
                Some((
                    n.checked_mul(self.input_type.min())?,
                    n.checked_mul(self.input_type.max())?,
                ))
            });
            let fits = range
                .is_some_and(|(lo, hi)| DataType::smallest_containing(lo, hi).bits() <= MAX_BITS);
            if !fits {
                return Err(format!(
                    "pool: the sum of {} {} values needs more than {MAX_BITS} bits; pool fewer positions",
                    self.positions, self.input_type
                ));
            }
        }
        if self.frame_beats_in().is_none() {
            return Err("pool: outputs x positions x channels overflows".into());
        }
        Ok(())
    }

    fn frame_beats_in(&self) -> Option<usize> {
        self.outputs
            .checked_mul(self.positions)?
            .checked_mul(self.channels / self.pe)
    }

    /// Channel folds: beats a position (and output beats an output pixel).
    pub fn folds(&self) -> usize {
        self.channels / self.pe
    }

    /// Input beats a frame.
    pub fn in_beats(&self) -> usize {
        self.outputs * self.positions * self.folds()
    }

    /// Output beats a frame.
    pub fn out_beats(&self) -> usize {
        self.outputs * self.folds()
    }

    /// Type of an output value: the input type for the max; for the sum the narrowest type
    /// holding `positions * min ..= positions * max` of the input type (signed for bipolar).
    pub fn out_type(&self) -> DataType {
        match self.mode {
            PoolMode::Max => self.input_type,
            PoolMode::Sum => {
                let n = self.positions as i64;
                DataType::smallest_containing(n * self.input_type.min(), n * self.input_type.max())
            }
        }
    }

    /// Cycles a frame in steady state (source always valid, sink always ready): one input
    /// beat a cycle, `outputs * positions * channels / pe`.
    pub fn exp_cycles(&self) -> u64 {
        self.in_beats() as u64
    }

    /// The outputs of one frame `x` (semantic values, input order: output pixel, position,
    /// channel), in output order (output pixel, channel).
    pub fn golden(&self, x: &[i64]) -> Vec<i64> {
        let (np, c) = (self.positions, self.channels);
        assert_eq!(
            x.len(),
            self.outputs * np * c,
            "pool golden: a frame has outputs x positions x channels values"
        );
        let mut out = Vec::with_capacity(self.outputs * c);
        for o in 0..self.outputs {
            for ch in 0..c {
                let vals = (0..np).map(|p| x[(o * np + p) * c + ch]);
                out.push(match self.mode {
                    PoolMode::Max => vals.max().expect("positions >= 1"),
                    PoolMode::Sum => vals.sum(),
                });
            }
        }
        out
    }

    /// The template context (`engines/pool.v`). Call [`Pool::check`] first.
    pub fn context(
        &self,
        module: &str,
        header: Vec<String>,
        skid_module: &str,
    ) -> ferrite_rtl::Pool {
        let it = self.input_type;
        let ot = self.out_type();
        let in_bits = it.bits();
        let acc_bits = ot.bits();
        let folds = self.folds();
        let cf_bits = counter_bits(folds);
        let p_bits = counter_bits(self.positions);
        let sum = self.mode == PoolMode::Sum;
        ferrite_rtl::Pool {
            module: module.into(),
            header,
            skid_module: skid_module.into(),
            pe: self.pe,
            outputs: self.outputs,
            positions: self.positions,
            folds,
            op_name: if sum { "sum" } else { "max" },
            sum,
            x_bipolar: it == DataType::Bipolar,
            x_signed: matches!(it, DataType::Int(_)),
            in_bits,
            in_bits_msb: in_bits - 1,
            in_msb: self.pe * in_bits as usize - 1,
            acc_bits,
            acc_bits_msb: acc_bits - 1,
            acc_ext: acc_bits - in_bits,
            acc_one: lit(acc_bits, 1),
            // -1 in two's complement: all ones (a bipolar sum is signed)
            acc_minus_one: lit(acc_bits, -1),
            out_msb: self.pe * acc_bits as usize - 1,
            out_width: self.pe * acc_bits as usize,
            has_acc: self.positions > 1,
            has_cf: folds > 1,
            cf_msb: cf_bits - 1,
            cf_zero: lit(cf_bits, 0),
            cf_one: lit(cf_bits, 1),
            cf_last: lit(cf_bits, (folds - 1) as i64),
            cf_mem_last: folds - 1,
            p_msb: p_bits - 1,
            p_zero: lit(p_bits, 0),
            p_one: lit(p_bits, 1),
            p_last: lit(p_bits, (self.positions - 1) as i64),
        }
    }
}

impl super::Engine for crate::ir::Pool {
    fn module_suffix(&self) -> &'static str {
        "pool"
    }

    fn template(&self) -> &'static str {
        "engines/pool.v"
    }

    fn purpose(&self) -> &'static str {
        match self.mode {
            PoolMode::Max => "max pool over window positions",
            PoolMode::Sum => "sum pool over window positions (average pooling's integer sum)",
        }
    }

    fn datapath(&self) -> &'static str {
        match self.mode {
            PoolMode::Max => "max",
            PoolMode::Sum => "sum",
        }
    }

    fn fold_space(&self, _ins: &[crate::ir::TensorType]) -> (Vec<usize>, Vec<usize>) {
        (crate::fold::divisors(self.channels), vec![1])
    }

    fn fold_terms(&self, _ins: &[crate::ir::TensorType]) -> (String, Option<String>) {
        (format!("the {} channels", self.channels), None)
    }

    fn lanes(&self, fold: crate::fold::Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![fold.pe], vec![fold.pe])
    }

    fn exp_cycles(&self, ins: &[crate::ir::TensorType], fold: crate::fold::Fold) -> u64 {
        params(self, ins, fold).exp_cycles()
    }

    fn work(&self, ins: &[crate::ir::TensorType]) -> u64 {
        ins[0].elems() as u64
    }

    /// `engines/pool.v`: one input beat a cycle; the beats of an output pixel's last
    /// position each produce an output beat (combinational into the skid buffer: it enters
    /// the next FIFO the next cycle).
    fn schedule(
        &self,
        ins: &[crate::ir::TensorType],
        _outs: &[crate::ir::TensorType],
        fold: crate::fold::Fold,
    ) -> crate::fifo::Schedule {
        let p = params(self, ins, fold);
        let folds = p.folds();
        let pattern = (0..p.positions * folds)
            .map(|k| crate::fifo::Step::new(1, u32::from(k / folds == p.positions - 1)))
            .collect();
        crate::fifo::Schedule::Steps {
            pattern,
            repeat: p.outputs,
            latency: 1,
            reads: "reads one beat a cycle".into(),
            emits: format!(
                "emits {folds} beats per {}-position window, during its last position",
                p.positions
            ),
        }
    }

    fn resources(
        &self,
        _ins: &[crate::ir::TensorType],
        _fold: crate::fold::Fold,
    ) -> super::Resources {
        super::Resources {
            buffer_bits: self.channels * self.output_type().bits() as usize,
            ..super::Resources::default()
        }
    }

    /// PE max or add units of the output width, the partial results (a register, or a
    /// memory of a word a channel fold), the position and fold counters, the skid buffer.
    fn cost_terms(
        &self,
        ins: &[crate::ir::TensorType],
        fold: crate::fold::Fold,
        family: crate::boards::Family,
    ) -> crate::estimate::Terms {
        let p = params(self, ins, fold);
        let folds = p.folds();
        let out = (fold.pe * p.out_type().bits() as usize) as f64;
        let mem = if folds > 1 {
            crate::estimate::place_ram(family, folds, out as usize)
        } else {
            crate::estimate::Memory::Logic
        };
        let mut t = crate::estimate::Terms::new(
            match self.mode {
                crate::ir::PoolMode::Max => "pool",
                crate::ir::PoolMode::Sum => "pool_sum",
            },
            [
                (fold.pe * self.input_type.bits() as usize) as f64,
                out,
                if folds > 1 {
                    crate::estimate::fabric_bits(mem, folds, out as usize)
                } else {
                    0.0
                },
                0.0,
            ],
        );
        t.bram = if folds > 1 {
            crate::estimate::blocks(mem)
        } else {
            0
        };
        t
    }

    fn describe(&self, ins: &[crate::ir::TensorType], fold: crate::fold::Fold) -> Vec<String> {
        let p = params(self, ins, fold);
        vec![
            format!(
                "{:?} over {} positions, {} output pixels, {} channels, PE {}",
                self.mode, p.positions, p.outputs, self.channels, fold.pe
            ),
            format!("types: input {}, output {}", self.input_type, p.out_type()),
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
        super::render_module(cx, "Pool", p.check(), || {
            p.context(cx.module, cx.header.clone(), cx.skid)
        })
    }
}

/// The engine parameters of a pool node on its input under `fold`.
fn params(op: &crate::ir::Pool, ins: &[crate::ir::TensorType], fold: crate::fold::Fold) -> Pool {
    let t = ins[0];
    Pool {
        outputs: if op.global { 1 } else { t.pixels() },
        positions: op.positions,
        channels: op.channels,
        pe: fold.pe,
        mode: op.mode,
        input_type: op.input_type,
    }
}
