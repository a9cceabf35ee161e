//! One engine a layer: the arithmetic behind each template context.

use super::{
    EmitError, EngineInfo, GeneratedFile, MemBuilder, StreamFormat, counter_bits, engine_kind,
    header, lit, render,
};
use crate::fold::{self, Fold};
use crate::ir::{
    self, DataType, LabelSelect, Layer, MatrixVector, Model, Thresholding, Thresholds,
};
use ferrite_rtl as rtl;

/// Adder-tree levels between two register levels.
pub const TREE_REG_EVERY: usize = 2;

/// A weight ROM of at least this many bits and [`BLOCK_ROM_MIN_DEPTH`] words asks for block
/// RAM (`rom_style = "block"`); for smaller ones the synthesis tool chooses.
pub const BLOCK_ROM_MIN_BITS: usize = 16384;
pub const BLOCK_ROM_MIN_DEPTH: usize = 32;

pub(super) struct Engine {
    pub files: Vec<GeneratedFile>,
    pub info: EngineInfo,
}

/// An engine's files and ROM sizes (weight bits, threshold bits).
struct Rendered {
    files: Vec<GeneratedFile>,
    rom_bits: (usize, usize),
    /// Estimated block RAM (RAMB18 equivalents) of the ROMs marked for block RAM.
    bram18: usize,
}

pub(super) fn engine(
    model: &Model,
    prefix: &str,
    skid: &str,
    index: usize,
    layer: &Layer,
    f: Fold,
) -> Result<Engine, EmitError> {
    let module = format!("{prefix}_l{index:02}_{}", engine_kind(layer));
    let in_lanes = fold::in_lanes(layer, f);
    let out_lanes = fold::out_lanes(layer, f);
    let input = StreamFormat {
        tdata_bits: in_lanes * layer.input_type().bits() as usize,
        lanes: in_lanes,
        elem_type: layer.input_type(),
        beats_per_frame: layer.in_elems() / in_lanes,
    };
    let output = StreamFormat {
        tdata_bits: out_lanes * layer.output_type().bits() as usize,
        lanes: out_lanes,
        elem_type: layer.output_type(),
        beats_per_frame: layer.out_elems() / out_lanes,
    };
    let exp_cycles = fold::exp_cycles(layer, f);
    let mut extra = vec![match layer.origin() {
        Some(o) => format!("layer {index}: `{}` (ONNX: {o})", layer.name()),
        None => format!("layer {index}: `{}`", layer.name()),
    }];
    extra.push(match layer {
        Layer::MatrixVector(l) => format!(
            "MW {} MH {}, PE {} SIMD {}; {}",
            l.mw,
            l.mh,
            f.pe,
            f.simd,
            super::datapath(layer)
        ),
        Layer::Thresholding(l) => {
            format!("{} elements, {} channels, PE {}", l.elems, l.channels, f.pe)
        }
        Layer::LabelSelect(l) => format!("{} labels, k {}, PE {}", l.labels, l.k, f.pe),
    });
    extra.push(match layer {
        Layer::MatrixVector(l) => format!(
            "types: input {}, weights {}, accumulator {}, output {}",
            l.input_type,
            l.weight_type,
            l.acc_type(),
            layer.output_type()
        ),
        _ => format!(
            "types: input {}, output {}",
            layer.input_type(),
            layer.output_type()
        ),
    });
    extra.push(format!("expected cycles a frame: {exp_cycles}"));
    let (purpose, template) = match layer {
        Layer::MatrixVector(_) => (
            "matrix-vector unit (fully connected layer)",
            "engines/mvu.v",
        ),
        Layer::Thresholding(_) => ("multi-threshold activation", "engines/thresholding.v"),
        Layer::LabelSelect(_) => ("label select (top-k indices)", "engines/label_select.v"),
    };
    let h = header(model, &module, purpose, template, &extra);
    let Rendered {
        files,
        rom_bits,
        bram18,
    } = match layer {
        Layer::MatrixVector(l) => mvu(l, f, &module, h, skid)?,
        Layer::Thresholding(l) => thresholding(l, f, &module, h, skid)?,
        Layer::LabelSelect(l) => label_select(l, f, &module, h, skid)?,
    };
    Ok(Engine {
        files,
        info: EngineInfo {
            layer: layer.name().to_string(),
            module,
            kind: layer.kind(),
            fold: f,
            input,
            output,
            exp_cycles,
            weight_rom_bits: rom_bits.0,
            threshold_rom_bits: rom_bits.1,
            est_bram18: bram18,
        },
    })
}

/// Template kind of a value type and its width as a signed number.
fn kind(t: DataType) -> (&'static str, u32) {
    match t {
        DataType::Bipolar => ("bipolar", 2),
        DataType::Binary => ("uint", 2),
        DataType::UInt(n) => ("uint", n + 1),
        DataType::Int(n) => ("int", n),
    }
}

/// Bits of a signed number holding `lo..=hi`.
fn signed_bits(lo: i64, hi: i64) -> u32 {
    DataType::smallest_containing(lo.min(-1), hi.max(0)).bits()
}

/// Sorted thresholds of `channel` clamped to `lo..=hi+1` (a threshold outside never or
/// always holds, so clamping keeps every comparison's result).
fn clamped(t: &Thresholds, channel: usize, lo: i64, hi: i64) -> Vec<i64> {
    t.row(channel)
        .iter()
        .map(|&v| v.clamp(lo, hi.saturating_add(1)))
        .collect()
}

struct ThrOut {
    nt: usize,
    out_bipolar: bool,
    out_bias: String,
    out_one: String,
    out_zero: String,
    levels: Vec<rtl::ThresholdLevel>,
}

fn thr_out(t: &Thresholds) -> ThrOut {
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
        levels: (0..t.per_channel())
            .map(|j| rtl::ThresholdLevel {
                j,
                next: j + 1,
                last: j + 1 == t.per_channel(),
                lit: lit(ob, j as i64 + 1),
            })
            .collect(),
    }
}

fn mvu(
    l: &MatrixVector,
    f: Fold,
    module: &str,
    header: Vec<String>,
    skid: &str,
) -> Result<Rendered, EmitError> {
    let (pe, simd) = (f.pe, f.simd);
    let (sf, nf) = (l.mw / simd, l.mh / pe);
    let xnor = l.input_type == DataType::Bipolar && l.weight_type == DataType::Bipolar;
    let ib = l.input_type.bits();
    let wb = l.weight_type.bits();
    let acc_type = l.acc_type();
    let (acc_lo, acc_hi) = l.acc_range();
    let unsupported = |why: String| EmitError::Unsupported {
        layer: l.name.clone(),
        kind: "MatrixVector",
        why,
    };
    if acc_type.bits() > 48 {
        return Err(unsupported(format!(
            "accumulator {acc_type} is wider than the engine's 48 bits; lower the input or weight precision"
        )));
    }

    // Adder tree: leaf values and sums all fit `tree_bits` (every product range contains 0,
    // so every partial sum lies inside the accumulator range).
    let (tree_bits, acc_bits) = if xnor {
        (
            ir::bits_for_unsigned(simd as u64).max(1),
            ir::bits_for_unsigned(l.mw as u64).max(1),
        )
    } else {
        (acc_type.bits(), acc_type.bits())
    };
    let (x_kind, xs) = kind(l.input_type);
    let (w_kind, ws) = kind(l.weight_type);
    let prod_bits = xs + ws;
    let (prod_fit, prod_fit_bits) = match tree_bits.cmp(&prod_bits) {
        std::cmp::Ordering::Greater => ("extend", tree_bits - prod_bits),
        std::cmp::Ordering::Equal => ("same", 0),
        std::cmp::Ordering::Less => ("trunc", 0),
    };
    let mut levels = Vec::new();
    let mut n = simd;
    let mut k = 0;
    while n > 1 {
        k += 1;
        let next = n.div_ceil(2);
        levels.push(rtl::TreeLevel {
            k,
            prev: k - 1,
            n: next,
            prev_n: n,
            pairs: n / 2,
            odd: n % 2 == 1,
            prev_last: n - 1,
            registered: false,
            msb: pe * next * tree_bits as usize - 1,
        });
        n = next;
    }
    let nlev = levels.len();
    for lv in &mut levels {
        lv.registered = lv.k % TREE_REG_EVERY == 0 || lv.k == nlev;
    }
    let reg_levels = levels.iter().filter(|l| l.registered).count();
    let ctl = 2 + reg_levels;

    // weights: word nf*SF + sf holds lane (p, s) at bits [(p*SIMD + s)*WB +: WB]
    let w_depth = nf * sf;
    let w_width = pe * simd * wb as usize;
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
    let mut files = vec![GeneratedFile {
        name: w_file.clone(),
        contents: wm.finish(w_rom),
    }];

    let w_addr_bits = counter_bits(w_depth);
    let sf_bits = counter_bits(sf);
    let nf_bits = counter_bits(nf);

    // output and thresholds
    let mut has_thr = false;
    let mut thr = ThrOut {
        nt: 1,
        out_bipolar: false,
        out_bias: String::new(),
        out_one: String::new(),
        out_zero: String::new(),
        levels: Vec::new(),
    };
    let (mut cmp_bits, mut cmp_kind, mut cmp_ext) = (1, "none", 0);
    let thr_file = format!("{module}_t.mem");
    let out_bits = l
        .thresholds
        .as_ref()
        .map_or(acc_type.bits(), |t| t.out_type.bits());
    let mut mw_lit = String::new();
    if let Some(t) = &l.thresholds {
        has_thr = true;
        thr = thr_out(t);
        // comparison domain: popcount for XNOR (dot >= t <=> pc >= ceil((t + MW) / 2))
        let (lo, hi) = if xnor {
            (0, l.mw as i64)
        } else {
            (acc_lo, acc_hi)
        };
        cmp_bits = signed_bits(lo, hi + 1);
        let acc_signed = !xnor && acc_type.signed();
        cmp_ext = cmp_bits - acc_bits;
        cmp_kind = match (cmp_ext, acc_signed) {
            (0, _) => "none",
            (_, true) => "sign",
            (_, false) => "zero",
        };
        let mw = l.mw as i64;
        let mut tm = MemBuilder::new(pe * thr.nt * cmp_bits as usize);
        for fo in 0..nf {
            tm.push_word();
            for p in 0..pe {
                let row: Vec<i64> = t
                    .row(fo * pe + p)
                    .iter()
                    .map(|&v| {
                        if xnor {
                            (v.saturating_add(mw).saturating_add(1)).div_euclid(2)
                        } else {
                            v
                        }
                    })
                    .map(|v| v.clamp(lo, hi + 1))
                    .collect();
                for (j, v) in row.iter().enumerate() {
                    tm.set(
                        (p * thr.nt + j) * cmp_bits as usize,
                        cmp_bits,
                        (*v as u64) & ((1u64 << cmp_bits) - 1),
                    );
                }
            }
        }
        files.push(GeneratedFile {
            name: thr_file.clone(),
            contents: tm.finish(nf.max(2)),
        });
    } else if xnor {
        if out_bits != acc_bits + 1 {
            return Err(EmitError::Verify(format!(
                "layer `{}`: XNOR output {out_bits} bits, popcount {acc_bits} bits",
                l.name
            )));
        }
        mw_lit = lit(out_bits, l.mw as i64);
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
        w_rom_block: w_depth >= BLOCK_ROM_MIN_DEPTH && w_depth * w_width >= BLOCK_ROM_MIN_BITS,
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
        leaf_ext: tree_bits - 1,
        x_kind,
        w_kind,
        x_ext: prod_bits - ib,
        w_ext: prod_bits - wb,
        prod_bits,
        prod_msb: prod_bits - 1,
        prod_fit,
        prod_fit_bits,
        prod_trunc_msb: prod_bits.saturating_sub(tree_bits + 1),
        tree_bits,
        tree_msb: tree_bits - 1,
        t0_msb: pe * simd * tree_bits as usize - 1,
        tree_top: nlev,
        levels,
        reg_every: TREE_REG_EVERY,
        pe_tree_msb: pe * tree_bits as usize - 1,
        acc_bits,
        acc_msb: acc_bits - 1,
        acc_all_msb: pe * acc_bits as usize - 1,
        acc_ext: acc_bits - tree_bits,
        acc_zero: lit(acc_bits, 0),
        has_thr,
        nt: thr.nt,
        cmp_bits,
        cmp_msb_bits: cmp_bits - 1,
        cmp_kind,
        cmp_ext,
        cmp_all_msb: pe * thr.nt - 1,
        thr_file,
        thr_msb: pe * thr.nt * cmp_bits as usize - 1,
        thr_rom_last: nf.max(2) - 1,
        thr_addr_msb: thr_addr_bits - 1,
        thr_addr_last: lit(thr_addr_bits, (nf - 1) as i64),
        thr_addr_one: lit(thr_addr_bits, 1),
        out_bipolar: thr.out_bipolar,
        out_bias: thr.out_bias,
        out_one: thr.out_one,
        out_zero: thr.out_zero,
        out_bits_msb: out_bits - 1,
        levels_n: thr.levels,
        mw_lit,
    };
    let thr_bits = if has_thr {
        (ctx.thr_rom_last + 1) * (ctx.thr_msb + 1)
    } else {
        0
    };
    let rom_bits = (w_rom * w_width, thr_bits);
    files.insert(
        0,
        GeneratedFile {
            name: format!("{module}.v"),
            contents: render(&ctx, module)?,
        },
    );
    // only the weight ROM asks for block RAM; the tool places the threshold ROM
    let bram18 = if ctx.w_rom_block {
        super::resources::bram18_for_rom(w_depth, w_width)
    } else {
        0
    };
    Ok(Rendered {
        files,
        rom_bits,
        bram18,
    })
}

fn thresholding(
    l: &Thresholding,
    f: Fold,
    module: &str,
    header: Vec<String>,
    skid: &str,
) -> Result<Rendered, EmitError> {
    let pe = f.pe;
    let cf = l.channels / pe;
    let t = &l.thresholds;
    let thr = thr_out(t);
    let it = l.input_type;
    let ib = it.bits();
    let (in_kind, _) = kind(it);
    let (lo, hi) = (it.min(), it.max());
    let cmp_bits = signed_bits(lo, hi + 1);
    let mut tm = MemBuilder::new(pe * thr.nt * cmp_bits as usize);
    for c in 0..cf {
        tm.push_word();
        for p in 0..pe {
            for (j, v) in clamped(t, c * pe + p, lo, hi).iter().enumerate() {
                tm.set(
                    (p * thr.nt + j) * cmp_bits as usize,
                    cmp_bits,
                    (*v as u64) & ((1u64 << cmp_bits) - 1),
                );
            }
        }
    }
    let thr_file = format!("{module}_t.mem");
    let cf_bits = counter_bits(cf);
    let out_bits = t.out_type.bits();
    let ctx = rtl::Thresholding {
        module: module.to_string(),
        header,
        skid_module: skid.to_string(),
        pe,
        beats: l.elems / pe,
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
        cmp_all_msb: pe * thr.nt - 1,
        thr_file: thr_file.clone(),
        thr_msb: pe * thr.nt * cmp_bits as usize - 1,
        thr_rom_last: cf.max(2) - 1,
        cf_msb: cf_bits - 1,
        cf_last: lit(cf_bits, (cf - 1) as i64),
        cf_one: lit(cf_bits, 1),
        out_bipolar: thr.out_bipolar,
        out_bias: thr.out_bias,
        out_one: thr.out_one,
        out_zero: thr.out_zero,
        out_bits_msb: out_bits - 1,
        levels_n: thr.levels,
    };
    let rom_bits = (0, (ctx.thr_rom_last + 1) * (ctx.thr_msb + 1));
    Ok(Rendered {
        files: vec![
            GeneratedFile {
                name: format!("{module}.v"),
                contents: render(&ctx, module)?,
            },
            GeneratedFile {
                name: thr_file,
                contents: tm.finish(cf.max(2)),
            },
        ],
        rom_bits,
        bram18: 0,
    })
}

fn label_select(
    l: &LabelSelect,
    f: Fold,
    module: &str,
    header: Vec<String>,
    skid: &str,
) -> Result<Rendered, EmitError> {
    let pe = f.pe;
    let beats = l.labels / pe;
    let it = l.input_type;
    let ib = it.bits();
    let (in_kind, val_bits) = kind(it);
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
    Ok(Rendered {
        files: vec![GeneratedFile {
            name: format!("{module}.v"),
            contents: render(&ctx, module)?,
        }],
        rom_bits: (0, 0),
        bram18: 0,
    })
}

/// `n` binary digits, MSB first, with only bit `i` set.
fn onehot(n: usize, i: usize) -> String {
    (0..n)
        .rev()
        .map(|b| if b == i { '1' } else { '0' })
        .collect()
}
