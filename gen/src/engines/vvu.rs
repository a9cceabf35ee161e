//! Vector-vector unit (FINN's VVAU): the per-channel dot products of a depthwise convolution.
//! Its input is the sliding-window generator's stream, each pixel's window in (k, c) order
//! (`x[k*C + c]`, `k = ky*KW + kx`); per pixel and channel `acc[c] = sum_k w[c][k] *
//! x[k*C + c]`, then optional per-channel thresholds. XNOR-popcount for bipolar x bipolar,
//! multiply-accumulate otherwise.
//!
//! Folding: PE channels a beat (a divisor of C) and SIMD kernel positions a beat (a divisor
//! of K); SIMD > 1 only with PE = C, so that a beat is SIMD whole kernel positions (SIMD*C
//! contiguous elements of the window). Input lane `s*PE + p` of beat `(kf, cb)` is kernel
//! position `kf*SIMD + s`, channel `cb*PE + p`; a pixel's beats come in (kf, cb) order,
//! `K/SIMD * C/PE` of them, one a cycle. The engine keeps C accumulators, `C/PE` words of PE
//! (a register when `C/PE = 1`, else a RAM read one stage ahead); each kernel fold adds to
//! every word, and during the last one the words complete in turn and leave as `C/PE`
//! output beats of PE channels.

use super::thresholding::{ThrOut, acc_cmp_bits, acc_thresholds};
use super::{Engine, RenderCx, Resources};
use crate::emit::{EmitError, GeneratedFile, MemBuilder, counter_bits, lit, render};
use crate::fold::{Fold, divisors};
use crate::ir::{self, DataType, TensorType, VectorVector};
use ferrite_rtl as rtl;

use super::datapath;
use crate::fifo::{Schedule, Step};

impl VectorVector {
    fn is_xnor(&self) -> bool {
        self.input_type == DataType::Bipolar && self.weight_type == DataType::Bipolar
    }

    fn xnor_n(&self) -> Option<usize> {
        self.is_xnor().then_some(self.kernel)
    }

    /// Pixels a frame of input `t`.
    fn pixels(&self, t: &TensorType) -> usize {
        t.elems() / (self.channels * self.kernel)
    }

    /// Bits of one accumulator: the popcount's for XNOR, else the accumulator type's.
    fn acc_bits(&self) -> u32 {
        if self.is_xnor() {
            ir::bits_for_unsigned(self.kernel as u64).max(1)
        } else {
            self.acc_type().bits()
        }
    }
}

/// The weight ROM's shape under `f` on `family`: (depth in words, word width, where it
/// goes: [`crate::estimate::place_memory`] decides). One word a beat position of a pixel,
/// `PE*SIMD` weights a word.
pub(super) fn weight_rom(
    l: &VectorVector,
    f: Fold,
    family: crate::boards::Family,
) -> (usize, usize, crate::estimate::Memory) {
    let (depth, width) = (
        (l.kernel / f.simd) * (l.channels / f.pe),
        f.pe * f.simd * l.weight_type.bits() as usize,
    );
    (
        depth,
        width,
        crate::estimate::place_memory(family, depth, width),
    )
}

impl Engine for VectorVector {
    fn module_suffix(&self) -> &'static str {
        "vvu"
    }

    fn template(&self) -> &'static str {
        "engines/vvu.v"
    }

    fn purpose(&self) -> &'static str {
        "vector-vector unit (depthwise convolution)"
    }

    fn datapath(&self) -> &'static str {
        if self.is_xnor() {
            "xnor-popcount"
        } else {
            "mac"
        }
    }

    fn fold_space(&self, _ins: &[TensorType]) -> (Vec<usize>, Vec<usize>) {
        (divisors(self.channels), divisors(self.kernel))
    }

    fn fold_terms(&self, _ins: &[TensorType]) -> (String, Option<String>) {
        (
            format!("the {} channels", self.channels),
            Some(format!(
                "the {} kernel positions (SIMD > 1 needs PE = {})",
                self.kernel, self.channels
            )),
        )
    }

    fn fold_check(&self, _ins: &[TensorType], fold: Fold) -> Result<(), String> {
        if fold.simd > 1 && fold.pe != self.channels {
            return Err(format!(
                "PE {} SIMD {}: SIMD > 1 (kernel positions a beat) needs PE = the {} channels, \
                 since a beat must hold whole kernel positions of the window; use SIMD 1 or PE {}",
                fold.pe, fold.simd, self.channels, self.channels
            ));
        }
        Ok(())
    }

    fn lanes(&self, fold: Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![fold.simd * fold.pe], vec![fold.pe])
    }

    fn exp_cycles(&self, ins: &[TensorType], fold: Fold) -> u64 {
        (self.pixels(&ins[0]) * (self.kernel / fold.simd) * (self.channels / fold.pe)) as u64
    }

    fn work(&self, ins: &[TensorType]) -> u64 {
        (self.pixels(&ins[0]) * self.channels * self.kernel) as u64
    }

    /// `engines/vvu.v`: one input beat a cycle, `K/SIMD * C/PE` a pixel; each beat of the
    /// last kernel fold completes a channel block, whose output beat enters the next FIFO
    /// [`datapath::latency`] cycles later (the same stages as the matrix-vector unit's: the
    /// accumulator RAM is read in parallel with the adder tree).
    fn schedule(&self, ins: &[TensorType], _outs: &[TensorType], fold: Fold) -> Schedule {
        let (kf, nb) = (self.kernel / fold.simd, self.channels / fold.pe);
        let pattern: Vec<Step> = (0..kf * nb)
            .map(|i| Step::new(1, u32::from(i / nb == kf - 1)))
            .collect();
        let lat = datapath::latency(
            self.is_xnor(),
            fold.simd,
            datapath::ROM_OUT_REG,
            self.thresholds
                .as_ref()
                .map_or(0, |t| super::thresholding::search_stages(t.per_channel())),
        );
        Schedule::Steps {
            pattern,
            repeat: self.pixels(&ins[0]),
            latency: lat as u32,
            reads: format!(
                "reads {} beats a pixel ({kf} kernel folds of {nb} channel blocks), one a cycle",
                kf * nb
            ),
            emits: format!(
                "emits its {nb} beats a pixel during the last kernel fold, one a cycle, {lat} \
                 cycles after their input"
            ),
        }
    }

    fn resources(&self, _ins: &[TensorType], fold: Fold) -> Resources {
        let (depth, width, mem) = weight_rom(self, fold, crate::boards::Family::default());
        let nb = self.channels / fold.pe;
        let threshold_rom_bits = self.thresholds.as_ref().map_or(0, |t| {
            nb.max(2)
                * fold.pe
                * t.per_channel()
                * acc_cmp_bits(self.xnor_n(), self.acc_range()) as usize
        });
        // C accumulators when a pixel takes more than one kernel fold
        let kf = self.kernel / fold.simd;
        Resources {
            weight_rom_bits: depth.max(2) * width,
            threshold_rom_bits,
            est_bram18: match mem {
                crate::estimate::Memory::Block { blocks } => blocks as usize,
                _ => 0,
            },
            buffer_bits: if kf > 1 {
                self.channels * self.acc_bits() as usize
            } else {
                0
            },
        }
    }

    /// As the matrix-vector unit's ([`crate::estimate::Terms`]): the weight ROM, PE x SIMD
    /// products and adder trees, PE accumulators (kept in a RAM of a channel block a word
    /// when there are several kernel folds and channel blocks), the threshold compares and
    /// ROM, the skid buffer.
    fn cost_terms(
        &self,
        _ins: &[TensorType],
        fold: Fold,
        family: crate::boards::Family,
    ) -> crate::estimate::Terms {
        let (pe, simd) = (fold.pe, fold.simd);
        let (kf, nb) = (self.kernel / simd, self.channels / pe);
        let (depth, width, mem) = weight_rom(self, fold, family);
        let acc_bits = self.acc_bits() as usize;
        let out_bits = self.output_type().bits() as usize;
        let ib = self.input_type.bits() as usize;
        let u = datapath::unit_counts(
            &datapath::Spec {
                pe,
                simd,
                input_type: self.input_type,
                weight_type: self.weight_type,
                acc_bits: acc_bits as u32,
                rom_out_reg: datapath::ROM_OUT_REG,
                x_s_mul: pe,
                x_p_mul: 1,
                family,
            },
            self.thresholds.as_ref().map(|t| {
                (
                    t.per_channel(),
                    acc_cmp_bits(self.xnor_n(), self.acc_range()) as usize,
                )
            }),
            nb,
        );
        let (prod, cmp, thr_rom) = (u.prod, u.cmp, u.thr_rom);
        let acc_mem = if kf > 1 && nb > 1 {
            crate::estimate::place_ram(family, nb, pe * acc_bits)
        } else {
            crate::estimate::Memory::Logic
        };
        let acc_ram_bits = if kf > 1 && nb > 1 {
            crate::estimate::fabric_bits(acc_mem, nb, pe * acc_bits)
        } else {
            0.0
        };
        let mut t = crate::estimate::Terms::new(
            "vvu",
            [
                (2 * pe * out_bits + pe * simd * ib + width) as f64,
                prod + u.tree_bits + (pe * acc_bits) as f64,
                crate::estimate::fabric_bits(mem, depth, width) + thr_rom + acc_ram_bits,
                cmp,
            ],
        );
        t.bram = crate::estimate::blocks(mem)
            + if kf > 1 && nb > 1 {
                crate::estimate::blocks(acc_mem)
            } else {
                0
            };
        t.dsp = u.dsp;
        // the weight register (counted in the register bits) is the block's output register
        // when the ROM is a primitive
        if crate::estimate::rom_primitive(family, mem, depth, width).is_some() {
            t.ff_in_blocks = width as u64;
        }
        t
    }

    fn describe(&self, ins: &[TensorType], f: Fold) -> Vec<String> {
        vec![
            format!(
                "{} channels x {} kernel positions, {} pixel(s) a frame, PE {} SIMD {}; {}",
                self.channels,
                self.kernel,
                self.pixels(&ins[0]),
                f.pe,
                f.simd,
                self.datapath()
            ),
            format!(
                "types: input {}, weights {}, accumulator {}, output {}",
                self.input_type,
                self.weight_type,
                self.acc_type(),
                self.output_type()
            ),
        ]
    }

    /// As the matrix-vector unit's ([`Engine::uses_mem`] of `MatrixVector`).
    fn uses_mem(&self, fold: Fold, family: crate::boards::Family) -> bool {
        let (depth, width, mem) = weight_rom(self, fold, family);
        self.thresholds.is_some()
            || crate::estimate::rom_primitive(family, mem, depth, width).is_none()
    }

    fn render(&self, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
        render_vvu(self, cx)
    }
}

fn render_vvu(l: &VectorVector, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
    let (f, module) = (cx.fold, cx.module);
    let (pe, simd, c) = (f.pe, f.simd, l.channels);
    let unsupported = |why: String| EmitError::Unsupported {
        node: module.to_string(),
        kind: "VectorVector",
        why,
    };
    if !c.is_multiple_of(pe) || !l.kernel.is_multiple_of(simd) {
        return Err(unsupported(format!(
            "PE {pe} SIMD {simd} do not divide {c} channels and {} kernel positions",
            l.kernel
        )));
    }
    l.fold_check(cx.ins, f).map_err(unsupported)?;
    let (kf, nb) = (l.kernel / simd, c / pe);
    let xnor = l.is_xnor();
    let ib = l.input_type.bits();
    let wb = l.weight_type.bits();
    let acc_type = l.acc_type();
    if acc_type.bits() > 48 {
        return Err(unsupported(format!(
            "accumulator {acc_type} is wider than the engine's 48 bits; lower the input or weight precision"
        )));
    }

    // products and adder tree over the SIMD lanes of each PE, as in the matrix-vector unit
    let acc_bits = l.acc_bits();
    let dp = datapath::build(&datapath::Spec {
        pe,
        simd,
        input_type: l.input_type,
        weight_type: l.weight_type,
        acc_bits,
        rom_out_reg: datapath::ROM_OUT_REG,
        x_s_mul: pe,
        x_p_mul: 1,
        family: cx.family,
    });
    let ctl = datapath::ctl_stages(xnor, simd, dp.rom_out_reg);

    // weights: word kf*NB + cb holds lane (p, s) at bits [(p*SIMD + s)*WB +: WB]
    let (w_depth, w_width, w_mem) = weight_rom(l, f, cx.family);
    let w_block = matches!(w_mem, crate::estimate::Memory::Block { .. });
    let mut wm = MemBuilder::new(w_width);
    for k in 0..kf {
        for cb in 0..nb {
            wm.push_word();
            for p in 0..pe {
                for s in 0..simd {
                    let v = l.weight(cb * pe + p, k * simd + s);
                    wm.set((p * simd + s) * wb as usize, wb, l.weight_type.encode(v));
                }
            }
        }
    }
    let w_rom = w_depth.max(2);
    let w_file = format!("{module}_w.mem");
    let w_addr_bits = counter_bits(w_depth);
    let w_prim = crate::estimate::rom_primitive(cx.family, w_mem, w_depth, w_width);
    let (w_rom_file, w_rom_module) = super::rom::weight_rom_file(
        w_prim,
        module,
        &cx.header,
        wm,
        (w_depth, w_width, w_addr_bits),
        &w_file,
        w_rom,
    )?;
    let mut files = vec![w_rom_file];
    let kf_bits = counter_bits(kf);
    let nb_bits = counter_bits(nb);

    // accumulators: none (one kernel fold), one register (one channel block) or a RAM
    let acc_store = if kf == 1 {
        rtl::AccStore::None
    } else if nb == 1 {
        rtl::AccStore::Reg
    } else {
        rtl::AccStore::Ram
    };

    let out_bits = l
        .thresholds
        .as_ref()
        .map_or(acc_type.bits(), |t| t.out_type.bits());
    let thr_file = format!("{module}_t.mem");
    let thr = l.thresholds.as_ref().map(|t| {
        acc_thresholds(
            t,
            l.xnor_n(),
            l.acc_range(),
            acc_bits,
            acc_type.signed(),
            pe,
            nb,
            |w, p| w * pe + p,
            thr_file.clone(),
        )
    });
    let mut dot_lit = String::new();
    if thr.is_none() && xnor {
        if out_bits != acc_bits + 1 {
            return Err(EmitError::Verify(format!(
                "{module}: XNOR output {out_bits} bits, popcount {acc_bits} bits"
            )));
        }
        dot_lit = lit(out_bits, l.kernel as i64);
    }
    let thr_addr_bits = counter_bits(nb);
    let (cmp_bits, cmp_kind, cmp_ext) = thr.as_ref().map_or((1, rtl::Widen::None, 0), |t| {
        (t.cmp_bits, t.cmp_kind, t.cmp_ext)
    });
    let has_thr = thr.is_some();
    let out = thr.as_ref().map_or_else(ThrOut::none, |t| t.out.clone());
    let nt = out.nt;
    let ts = thr
        .as_ref()
        .map_or_else(super::thresholding::no_search, |t| t.ts.clone());
    if let Some(t) = thr {
        files.push(t.rom);
    }

    let ctx = rtl::Vvu {
        module: module.to_string(),
        header: cx.header.clone(),
        skid_module: cx.skid.to_string(),
        channels: c,
        kernel: l.kernel,
        simd,
        pe,
        kf,
        nb,
        in_lanes: simd * pe,
        in_bits: ib,
        in_bits_msb: ib - 1,
        in_msb: simd * pe * ib as usize - 1,
        out_bits,
        out_msb: pe * out_bits as usize - 1,
        out_width: pe * out_bits as usize,
        w_bits: wb,
        w_bits_msb: wb - 1,
        w_msb: w_width - 1,
        w_file,
        w_rom_last: w_rom - 1,
        w_rom_block: w_block,
        w_rom_prim: w_prim.is_some(),
        w_rom_module,
        uses_mem: l.uses_mem(f, cx.family),
        w_addr_msb: w_addr_bits - 1,
        w_addr_last: lit(w_addr_bits, (w_depth - 1) as i64),
        w_addr_one: lit(w_addr_bits, 1),
        kf_msb: kf_bits - 1,
        kf_last: lit(kf_bits, (kf - 1) as i64),
        kf_one: lit(kf_bits, 1),
        kf_zero: lit(kf_bits, 0),
        nb_bits,
        nb_msb: nb_bits - 1,
        nb_last: lit(nb_bits, (nb - 1) as i64),
        nb_one: lit(nb_bits, 1),
        nb_sr_msb: ctl * nb_bits as usize - 1,
        nb_sr_prev_msb: (ctl - 1) * nb_bits as usize - 1,
        nb_rd_lsb: (ctl - 2) * nb_bits as usize,
        nb_wr_lsb: (ctl - 1) * nb_bits as usize,
        ctl_msb: ctl - 1,
        ctl_prev_msb: ctl - 2,
        xnor,
        dp,
        acc_store,
        acc_mem_last: nb - 1,
        acc_bits,
        acc_msb: acc_bits - 1,
        acc_all_msb: pe * acc_bits as usize - 1,
        acc_zero: lit(acc_bits, 0),
        has_thr,
        nt,
        cmp_bits,
        cmp_msb_bits: cmp_bits - 1,
        cmp_kind,
        cmp_ext,
        thr_addr_last: lit(thr_addr_bits, (nb - 1) as i64),
        thr_addr_one: lit(thr_addr_bits, 1),
        out_bipolar: out.out_bipolar,
        out_bias: out.out_bias,
        out_one: out.out_one,
        out_zero: out.out_zero,
        out_bits_msb: out_bits - 1,
        ts,
        dot_lit,
    };
    files.insert(
        0,
        GeneratedFile {
            name: format!("{module}.v"),
            contents: render(&ctx, module)?,
        },
    );
    Ok(files)
}
