//! Matrix-vector unit (FINN's MVAU): `MH x MW` weights, PE output lanes and SIMD input
//! lanes, XNOR-popcount for bipolar x bipolar and multiply-accumulate otherwise, optional
//! thresholds; one input vector a pixel (a fully connected layer has one pixel).

use super::thresholding::{ThrOut, acc_cmp_bits, acc_thresholds};
use super::{Engine, RenderCx, Resources, datapath};
use crate::emit::{EmitError, GeneratedFile, MemBuilder, counter_bits, lit, render};
use crate::fifo::{Schedule, Step};
use crate::fold::{Fold, divisors};
use crate::ir::{self, DataType, MatrixVector, TensorType};
use ferrite_rtl as rtl;

/// The weight ROM's shape under `f` on `family`: (depth in words, word width, where it
/// goes: [`crate::estimate::place_memory`] decides).
pub(super) fn weight_rom(
    l: &MatrixVector,
    f: Fold,
    family: crate::boards::Family,
) -> (usize, usize, crate::estimate::Memory) {
    let (depth, width) = (
        (l.mh / f.pe) * (l.mw / f.simd),
        f.pe * f.simd * l.weight_type.bits() as usize,
    );
    (
        depth,
        width,
        crate::estimate::place_memory(family, depth, width),
    )
}

impl Engine for MatrixVector {
    fn module_suffix(&self) -> &'static str {
        "mvu"
    }

    fn template(&self) -> &'static str {
        "engines/mvu.v"
    }

    fn purpose(&self) -> &'static str {
        "matrix-vector unit (fully connected layer or convolution)"
    }

    fn datapath(&self) -> &'static str {
        if self.is_xnor() {
            "xnor-popcount"
        } else {
            "mac"
        }
    }

    fn fold_space(&self, _ins: &[TensorType]) -> (Vec<usize>, Vec<usize>) {
        (divisors(self.mh), divisors(self.mw))
    }

    fn fold_terms(&self, _ins: &[TensorType]) -> (String, Option<String>) {
        (format!("MH {}", self.mh), Some(format!("MW {}", self.mw)))
    }

    fn lanes(&self, fold: Fold) -> (Vec<usize>, Vec<usize>) {
        (vec![fold.simd], vec![fold.pe])
    }

    fn exp_cycles(&self, ins: &[TensorType], fold: Fold) -> u64 {
        ((ins[0].elems() / self.mw) * (self.mh / fold.pe) * (self.mw / fold.simd)) as u64
    }

    fn work(&self, ins: &[TensorType]) -> u64 {
        ((ins[0].elems() / self.mw) * self.mw * self.mh) as u64
    }

    /// `engines/mvu.v`: one issue a cycle; the `SF` issues of the first output fold read the
    /// input vector, the other folds re-read the buffered vector without reading input; the
    /// last issue of each fold produces an output beat, which enters the next FIFO
    /// [`datapath::latency`] cycles later (the input register and the block RAM's output
    /// register, the leaves, the registered tree levels, the accumulator, the threshold
    /// compare, the skid buffer).
    fn schedule(&self, ins: &[TensorType], _outs: &[TensorType], fold: Fold) -> Schedule {
        let (sf, nf) = (self.mw / fold.simd, self.mh / fold.pe);
        let mut pattern: Vec<Step> = (0..sf)
            .map(|s| Step::new(1, u32::from(s == sf - 1)))
            .collect();
        for _ in 1..nf {
            pattern.push(Step {
                gap: sf as u32,
                consume: 0,
                produce: 1,
                peek: 0,
            });
        }
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
            repeat: ins[0].elems() / self.mw,
            latency: lat as u32,
            reads: if nf > 1 {
                format!(
                    "reads its {sf}-beat input vector only during the first of its {nf} output \
                     folds ({} cycles a vector)",
                    sf * nf
                )
            } else {
                format!("reads its {sf}-beat input vector one beat a cycle")
            },
            emits: format!(
                "emits one beat every {sf} cycles, {nf} a vector, {lat} cycles after the fold's \
                 last input"
            ),
        }
    }

    fn resources(&self, _ins: &[TensorType], fold: Fold) -> Resources {
        let (depth, width, mem) = weight_rom(self, fold, crate::boards::Family::default());
        let nf = self.mh / fold.pe;
        let threshold_rom_bits = self.thresholds.as_ref().map_or(0, |t| {
            nf.max(2)
                * fold.pe
                * t.per_channel()
                * acc_cmp_bits(self.is_xnor().then_some(self.mw), self.acc_range()) as usize
        });
        Resources {
            weight_rom_bits: depth.max(2) * width,
            threshold_rom_bits,
            // only the weight ROM goes to block RAM (Xilinx 7-series RAMB18 equivalents)
            est_bram18: match mem {
                crate::estimate::Memory::Block { blocks } => blocks as usize,
                _ => 0,
            },
            buffer_bits: 0,
        }
    }

    /// The weight ROM (placed by [`crate::estimate::place_memory`]), the input and weight
    /// registers, PE x SIMD products and the adder tree (registered every
    /// [`TREE_REG_EVERY`] levels), PE accumulators, the threshold compares and their ROM,
    /// the output skid buffer. Multiplier products go to DSPs where Yosys maps them
    /// ([`crate::estimate::product_in_dsp`]).
    fn cost_terms(
        &self,
        _ins: &[TensorType],
        fold: Fold,
        family: crate::boards::Family,
    ) -> crate::estimate::Terms {
        let (pe, simd) = (fold.pe, fold.simd);
        let (sf, nf) = (self.mw / simd, self.mh / pe);
        let xnor = self.is_xnor();
        let (depth, width, mem) = weight_rom(self, fold, family);
        let acc_bits = if xnor {
            ir::bits_for_unsigned(self.mw as u64).max(1)
        } else {
            self.acc_type().bits()
        };
        let out_bits = self.output_type().bits() as usize;
        let ib = self.input_type.bits() as usize;
        let u = datapath::unit_counts(
            &datapath::Spec {
                pe,
                simd,
                input_type: self.input_type,
                weight_type: self.weight_type,
                acc_bits,
                rom_out_reg: datapath::ROM_OUT_REG,
                x_s_mul: 1,
                x_p_mul: 0,
                family,
            },
            self.thresholds.as_ref().map(|t| {
                (
                    t.per_channel(),
                    acc_cmp_bits(xnor.then_some(self.mw), self.acc_range()) as usize,
                )
            }),
            nf,
        );
        let (prod, cmp, thr_rom) = (u.prod, u.cmp, u.thr_rom);
        // the input vector buffer (output folds after the first re-read it): a RAM Yosys places
        let ibuf = (nf > 1).then(|| crate::estimate::place_ram(family, sf.max(2), simd * ib));
        let ibuf_bits = ibuf.map_or(0.0, |m| {
            crate::estimate::fabric_bits(m, sf.max(2), simd * ib)
        });
        let mut t = crate::estimate::Terms::new(
            if xnor { "mvau_xnor" } else { "mvau_mac" },
            [
                (2 * pe * out_bits + simd * ib + width) as f64,
                prod + u.tree_bits + (pe * acc_bits as usize) as f64,
                crate::estimate::fabric_bits(mem, depth, width) + thr_rom + ibuf_bits,
                cmp,
            ],
        );
        t.bram = crate::estimate::blocks(mem) + ibuf.map_or(0, crate::estimate::blocks);
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
                "MW {} MH {}, {} pixel(s) a frame, PE {} SIMD {}; {}",
                self.mw,
                self.mh,
                (ins[0].elems() / self.mw),
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

    /// The weight ROM's `.mem` file, unless the weights are in a block-RAM primitive's
    /// `INITVAL`s; the thresholds' `.mem` file.
    fn uses_mem(&self, fold: Fold, family: crate::boards::Family) -> bool {
        let (depth, width, mem) = weight_rom(self, fold, family);
        self.thresholds.is_some()
            || crate::estimate::rom_primitive(family, mem, depth, width).is_none()
    }

    fn render(&self, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
        render_mvu(self, cx)
    }
}

fn render_mvu(l: &MatrixVector, cx: &RenderCx) -> Result<Vec<GeneratedFile>, EmitError> {
    let (f, module, header, skid) = (cx.fold, cx.module, cx.header.clone(), cx.skid);
    let (pe, simd) = (f.pe, f.simd);
    let (sf, nf) = (l.mw / simd, l.mh / pe);
    let xnor = l.input_type == DataType::Bipolar && l.weight_type == DataType::Bipolar;
    let ib = l.input_type.bits();
    let wb = l.weight_type.bits();
    let acc_type = l.acc_type();
    let (acc_lo, acc_hi) = l.acc_range();
    let unsupported = |why: String| EmitError::Unsupported {
        node: module.to_string(),
        kind: "MatrixVector",
        why,
    };
    if acc_type.bits() > 48 {
        return Err(unsupported(format!(
            "accumulator {acc_type} is wider than the engine's 48 bits; lower the input or weight precision"
        )));
    }

    // the popcount (XNOR) or the accumulator type
    let acc_bits = if xnor {
        ir::bits_for_unsigned(l.mw as u64).max(1)
    } else {
        acc_type.bits()
    };
    let dp = datapath::build(&datapath::Spec {
        pe,
        simd,
        input_type: l.input_type,
        weight_type: l.weight_type,
        acc_bits,
        rom_out_reg: datapath::ROM_OUT_REG,
        x_s_mul: 1,
        x_p_mul: 0,
        family: cx.family,
    });
    let ctl = datapath::ctl_stages(xnor, simd, dp.rom_out_reg);

    // weights: word nf*SF + sf holds lane (p, s) at bits [(p*SIMD + s)*WB +: WB]
    let (w_depth, w_width, w_mem) = weight_rom(l, Fold::new(pe, simd), cx.family);
    let w_block = matches!(w_mem, crate::estimate::Memory::Block { .. });
    let mut wm = MemBuilder::new(w_width);
    for fo in 0..nf {
        for so in 0..sf {
            wm.push_word();
            for p in 0..pe {
                for s in 0..simd {
                    let v = l.weight(fo * pe + p, so * simd + s);
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
        &header,
        wm,
        (w_depth, w_width, w_addr_bits),
        &w_file,
        w_rom,
    )?;
    let mut files = vec![w_rom_file];

    let sf_bits = counter_bits(sf);
    let nf_bits = counter_bits(nf);

    // output and thresholds
    let thr_file = format!("{module}_t.mem");
    let out_bits = l
        .thresholds
        .as_ref()
        .map_or(acc_type.bits(), |t| t.out_type.bits());
    let thr = l.thresholds.as_ref().map(|t| {
        acc_thresholds(
            t,
            xnor.then_some(l.mw),
            (acc_lo, acc_hi),
            acc_bits,
            acc_type.signed(),
            pe,
            nf,
            |fo, p| fo * pe + p,
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
        dot_lit = lit(out_bits, l.mw as i64);
    }
    let (cmp_bits, cmp_kind, cmp_ext) = thr.as_ref().map_or((1, rtl::Widen::None, 0), |t| {
        (t.cmp_bits, t.cmp_kind, t.cmp_ext)
    });
    let has_thr = thr.is_some();
    let thr_out = thr.as_ref().map_or_else(ThrOut::none, |t| t.out.clone());
    let ts = thr
        .as_ref()
        .map_or_else(super::thresholding::no_search, |t| t.ts.clone());
    if let Some(t) = thr {
        files.push(t.rom);
    }
    let thr_addr_bits = counter_bits(nf);

    let ctx = rtl::Mvu {
        module: module.to_string(),
        header,
        skid_module: skid.to_string(),
        simd,
        pe,
        sf,
        nf,
        in_bits: ib,
        in_bits_msb: ib - 1,
        in_msb: simd * ib as usize - 1,
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
        uses_mem: l.uses_mem(Fold::new(pe, simd), cx.family),
        w_addr_msb: w_addr_bits - 1,
        w_addr_last: lit(w_addr_bits, (w_depth - 1) as i64),
        w_addr_one: lit(w_addr_bits, 1),
        sf_msb: sf_bits - 1,
        sf_last: lit(sf_bits, (sf - 1) as i64),
        sf_one: lit(sf_bits, 1),
        nf_msb: nf_bits - 1,
        nf_last: lit(nf_bits, (nf - 1) as i64),
        nf_one: lit(nf_bits, 1),
        nf_last_int: nf - 1,
        has_ibuf: nf > 1,
        ibuf_last: sf.max(2) - 1,
        ctl_msb: ctl - 1,
        ctl_prev_msb: ctl - 2,
        xnor,
        dp,
        acc_bits,
        acc_msb: acc_bits - 1,
        acc_all_msb: pe * acc_bits as usize - 1,
        acc_zero: lit(acc_bits, 0),
        has_thr,
        nt: thr_out.nt,
        cmp_bits,
        cmp_msb_bits: cmp_bits - 1,
        cmp_kind,
        cmp_ext,
        thr_addr_last: lit(thr_addr_bits, (nf - 1) as i64),
        thr_addr_one: lit(thr_addr_bits, 1),
        out_bipolar: thr_out.out_bipolar,
        out_bias: thr_out.out_bias,
        out_one: thr_out.out_one,
        out_zero: thr_out.out_zero,
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
