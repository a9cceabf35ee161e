//! The datapath the matrix- and vector-vector units share (`lib/mac_product.v`,
//! `lib/adder_tree.v`): the weight ROM's output register, the registered leaves, the adder
//! tree and the sum at the accumulator's width. Every width is decided here.
//!
//! - The weight ROM is read into a register and registered again with nothing
//!   between ([`ROM_OUT_REG`]): in block RAM the second is the RAM primitive's own output register
//!   (Vivado absorbs it into `DOA_REG`; Yosys 0.70 never does, so on ECP5 the ROM is a
//!   DP16KD with `REGMODE = "OUTREG"`: `engines/rom.rs`), so
//!   the RAM's slow clock-to-out never meets logic. One more cycle of latency.
//! - XNOR: each PE's SIMD XNOR bits are counted in groups of [`COUNTER_GROUP`] before the
//!   first register (a 6:3 counter: three 6-input functions, one LUT6 each on Xilinx), so
//!   the tree adds `ceil(SIMD/6)` 3-bit counts instead of SIMD single bits.
//! - Products of at most [`PROD_TABLE_MAX_BITS`] operand bits are a constant table (logic,
//!   never a DSP: no `*` for a synthesis tool to map), wider ones a `*`.
//! - Level k of the tree is one bit wider than level k-1 (sums of 2^k leaves of w bits fit
//!   w + k bits), capped where the sum cannot grow further (the XNOR popcount of SIMD
//!   bits, or the accumulator: products and partial sums are exact modulo 2^acc and the
//!   full sum fits it).

use crate::emit::lit;
use crate::ir::{self, DataType};
use ferrite_rtl as rtl;

/// XNOR bits one counter adds (a 6:3 counter).
pub const COUNTER_GROUP: usize = 6;

/// Products whose operands have at most this many bits together come from a table.
pub const PROD_TABLE_MAX_BITS: u32 = 6;

/// Adder-tree levels between two register levels.
pub const TREE_REG_EVERY: usize = 2;

/// Leaves a PE: XNOR groups, or one product a SIMD lane.
pub fn leaves(xnor: bool, simd: usize) -> usize {
    if xnor {
        simd.div_ceil(COUNTER_GROUP)
    } else {
        simd
    }
}

/// Adder-tree levels over `n` leaves.
fn tree_depth(mut n: usize) -> usize {
    let mut levels = 0;
    while n > 1 {
        n = n.div_ceil(2);
        levels += 1;
    }
    levels
}

fn registered(k: usize, depth: usize) -> bool {
    k.is_multiple_of(TREE_REG_EVERY) || k == depth
}

/// Registered adder-tree levels over `leaves` leaves: every [`TREE_REG_EVERY`]-th and the top.
fn tree_reg_levels(leaves: usize) -> usize {
    let depth = tree_depth(leaves);
    (1..=depth).filter(|&k| registered(k, depth)).count()
}

/// Register stages from an issue to the tree's output: the ROM read (and its output
/// register for a block-RAM ROM), the leaves, the registered tree levels.
pub fn ctl_stages(xnor: bool, simd: usize, rom_out_reg: bool) -> usize {
    2 + usize::from(rom_out_reg) + tree_reg_levels(leaves(xnor, simd))
}

/// Cycles from an issue to its output beat entering the next FIFO: [`ctl_stages`], the
/// accumulator (1), the threshold search (`thr_stages`, 0 without thresholds), the skid
/// buffer's output register (1) and the write (1).
pub fn latency(xnor: bool, simd: usize, rom_out_reg: bool, thr_stages: usize) -> usize {
    ctl_stages(xnor, simd, rom_out_reg) + 1 + thr_stages + 1
}

/// Every weight ROM's read is registered twice, nothing between: in block RAM the second
/// register is the RAM's own output register; in logic it takes the ROM's decode off the
/// product path. Always, so that the schedule's latency does not depend on the family that
/// placed the ROM (`estimate::place_memory`).
pub const ROM_OUT_REG: bool = true;

/// The signed operand widths a family's DSP block multiplies (the wider port first):
/// Xilinx DSP48E1/E2 25 x 18, ECP5 MULT18X18D 18 x 18; iCE40 products stay in logic.
pub fn dsp_ports(family: crate::boards::Family) -> Option<(u32, u32)> {
    use crate::boards::Family;
    match family {
        Family::Xilinx7series | Family::XilinxUltrascale => Some((25, 18)),
        Family::Ecp5 => Some((18, 18)),
        Family::Ice40 => None,
    }
}

/// How many PEs' products share one DSP block ([`Datapath`]'s `pack`). In a matrix-vector
/// unit the PEs multiply the same input lane by different weights, so `n` weights packed
/// `P` bits apart (`P` = the product's bits) in the DSP's wide port times the input give
/// `n` products in `P`-bit fields: `(n - 1) * P` bits plus the top weight and a borrow bit
/// must fit the wide port, the input the other. 1 (one product a multiplier) for XNOR,
/// table products, products the family keeps in logic, a vector-vector unit (each PE has
/// its own input), or when no `n >= 2` dividing PE fits.
pub fn pack_factor(s: &Spec) -> usize {
    let xnor = s.input_type == DataType::Bipolar && s.weight_type == DataType::Bipolar;
    let one_bit = |t: DataType| matches!(t, DataType::Binary | DataType::Bipolar);
    let table = s.input_type.bits() + s.weight_type.bits() <= PROD_TABLE_MAX_BITS;
    if xnor || table || s.x_p_mul != 0 || one_bit(s.input_type) || one_bit(s.weight_type) {
        return 1;
    }
    let (_, xs) = super::value_kind(s.input_type);
    let (_, ws) = super::value_kind(s.weight_type);
    let Some((wide, narrow)) = dsp_ports(s.family) else {
        return 1;
    };
    if !crate::estimate::product_in_dsp(s.family, xs, ws) || xs > narrow {
        return 1;
    }
    let p = xs + ws;
    let mut n = 1;
    // n + 1 lanes need n fields of P bits below the top weight and its borrow bit
    while n < s.pe && (n as u32) * p + ws < wide {
        n += 1;
    }
    (1..=n).rev().find(|d| s.pe.is_multiple_of(*d)).unwrap_or(1)
}

/// What the datapath computes: the fold, the operand types, the accumulator width, and how
/// an input lane is found (`s * x_s_mul + p * x_p_mul`).
pub struct Spec {
    pub pe: usize,
    pub simd: usize,
    pub input_type: DataType,
    pub weight_type: DataType,
    /// Bits of the accumulator (the popcount's for XNOR).
    pub acc_bits: u32,
    pub rom_out_reg: bool,
    pub x_s_mul: usize,
    pub x_p_mul: usize,
    /// The family whose DSP blocks products may share ([`pack_factor`]).
    pub family: crate::boards::Family,
}

/// What the estimate counts of a datapath (`crate::estimate`): whether its products are
/// multipliers (`*`, which a synthesis tool may put in DSPs), the bits of its leaves (XNOR
/// bits into the counters, or table-product output bits, or multiplier operand bits), and
/// the bits of its adder-tree levels (all PEs).
pub struct Counts {
    pub multipliers: bool,
    pub leaf_bits: f64,
    pub tree_bits: f64,
}

/// What the estimate counts of a unit (matrix- or vector-vector): its datapath on a family
/// and its threshold search.
pub struct UnitCounts {
    /// Bits of products (or XNOR bits) in logic: 0 where the products are in DSPs.
    pub prod: f64,
    /// DSP blocks (one a product, where the family's DSPs take them).
    pub dsp: u64,
    /// Bits of the adder-tree levels.
    pub tree_bits: f64,
    /// Compared bits of the threshold search: one compare a lane a stage.
    pub cmp: f64,
    /// Bits of the threshold ROM (every fold's thresholds) when there are several folds.
    pub thr_rom: f64,
}

/// [`UnitCounts`] of the datapath `s` on its family, with `thresholds` = (thresholds a
/// channel, compared bits) and `folds` channel folds sharing the lanes.
pub fn unit_counts(s: &Spec, thresholds: Option<(usize, usize)>, folds: usize) -> UnitCounts {
    let family = s.family;
    let c = counts(s);
    let (_, xs) = super::value_kind(s.input_type);
    let (_, ws) = super::value_kind(s.weight_type);
    // a 1-bit operand (binary: an AND, bipolar: a negation) makes no multiplier
    let one_bit = |t: DataType| matches!(t, DataType::Binary | DataType::Bipolar);
    let dsp = c.multipliers
        && !one_bit(s.input_type)
        && !one_bit(s.weight_type)
        && crate::estimate::product_in_dsp(family, xs, ws);
    let (nt, cmp_bits) = thresholds.unwrap_or((0, 0));
    // the threshold search compares once a stage; the ROM holds every threshold
    let stages = if nt > 0 {
        super::thresholding::search_stages(nt)
    } else {
        0
    };
    // products sharing a DSP: the packed weights' borrows and the fields' carries in logic
    let pack = if dsp { pack_factor(s) } else { 1 };
    let pack_bits = ((s.pe / pack) * s.simd * 2 * (pack - 1)) as f64 * (xs + ws) as f64;
    UnitCounts {
        prod: if dsp { pack_bits } else { c.leaf_bits },
        dsp: if dsp {
            (s.pe / pack * s.simd) as u64
        } else {
            0
        },
        tree_bits: c.tree_bits,
        cmp: (s.pe * stages * cmp_bits) as f64,
        thr_rom: if folds > 1 {
            (s.pe * nt * cmp_bits * folds) as f64
        } else {
            0.0
        },
    }
}

/// [`Counts`] of the datapath `s` (the same widths [`build`] renders).
pub fn counts(s: &Spec) -> Counts {
    let d = build(s);
    let (pe, simd) = (s.pe, s.simd);
    let leaf_bits = if d.xnor {
        (pe * simd) as f64
    } else if d.prod_table {
        (pe * simd) as f64 * d.leaf_bits as f64
    } else {
        (pe * simd) as f64 * (d.in_bits * d.w_bits) as f64
    };
    let tree_bits = (pe * d.leaves * d.leaf_bits as usize) as f64
        + d.levels
            .iter()
            .map(|l| (pe * l.n * l.bits as usize) as f64)
            .sum::<f64>();
    Counts {
        multipliers: !d.xnor && !d.prod_table,
        leaf_bits,
        tree_bits,
    }
}

/// The template context of the datapath.
pub fn build(s: &Spec) -> rtl::Datapath {
    let (pe, simd) = (s.pe, s.simd);
    let xnor = s.input_type == DataType::Bipolar && s.weight_type == DataType::Bipolar;
    let ib = s.input_type.bits();
    let wb = s.weight_type.bits();
    let (x_kind, xs) = super::value_kind(s.input_type);
    let (w_kind, ws) = super::value_kind(s.weight_type);
    let prod_bits = xs + ws;
    let n_leaves = leaves(xnor, simd);
    let group = if xnor { simd.min(COUNTER_GROUP) } else { 1 };
    // leaf width and where the sums stop growing
    let (leaf_bits, cap, signed) = if xnor {
        (
            ir::bits_for_unsigned(group as u64).max(1),
            ir::bits_for_unsigned(simd as u64).max(1),
            false,
        )
    } else {
        (prod_bits.min(s.acc_bits), s.acc_bits, true)
    };
    let prod_fit = if prod_bits > leaf_bits {
        rtl::ProdFit::Trunc
    } else {
        rtl::ProdFit::Same
    };
    let prod_table = !xnor && ib + wb <= PROD_TABLE_MAX_BITS;
    let mut table_lit = String::new();
    let mut table_bits = 1;
    if prod_table {
        // entry {x, w} at bits [{x, w} * leaf_bits +: leaf_bits]
        let n = 1usize << (ib + wb);
        table_bits = n * leaf_bits as usize;
        let mut bits = vec![false; table_bits];
        for xr in 0..(1u64 << ib) {
            for wr in 0..(1u64 << wb) {
                let v = s.input_type.decode(xr) * s.weight_type.decode(wr);
                let idx = ((xr << wb) | wr) as usize;
                for b in 0..leaf_bits as usize {
                    bits[idx * leaf_bits as usize + b] = (v >> b) & 1 == 1;
                }
            }
        }
        table_lit = hex_literal(&bits);
    }

    // the tree: level k at min(leaf_bits + k, cap)
    let depth = tree_depth(n_leaves);
    let mut levels = Vec::new();
    let (mut n, mut prev_bits) = (n_leaves, leaf_bits.min(cap));
    for k in 1..=depth {
        let next = n.div_ceil(2);
        let bits = (leaf_bits + k as u32).min(cap).max(prev_bits);
        levels.push(rtl::TreeLevel {
            k,
            prev: k - 1,
            n: next,
            prev_n: n,
            pairs: n / 2,
            odd: n % 2 == 1,
            prev_last: n - 1,
            registered: registered(k, depth),
            bits,
            bits_msb: bits - 1,
            prev_bits,
            prev_msb: prev_bits - 1,
            widen: bits > prev_bits,
            msb: pe * next * bits as usize - 1,
        });
        n = next;
        prev_bits = bits;
    }
    let top_bits = prev_bits;
    // products sharing a DSP (pack_factor): the packed multiplicand and the product
    let pack = pack_factor(s);
    let pk_top_bits = ws + 1;
    let pk_w_bits = (pack as u32 - 1) * prod_bits + pk_top_bits;
    let pk_r_bits = pk_w_bits + xs;
    debug_assert!(
        pack == 1 || leaf_bits <= prod_bits,
        "a packed field holds the leaf"
    );
    debug_assert!(
        top_bits <= s.acc_bits,
        "the tree's sum fits the accumulator"
    );
    rtl::Datapath {
        rom_out_reg: s.rom_out_reg,
        pe,
        simd,
        xnor,
        x_s_mul: s.x_s_mul,
        x_p_mul: s.x_p_mul,
        in_bits: ib,
        w_bits: wb,
        in_msb: ib - 1,
        w_msb: wb - 1,
        leaves: n_leaves,
        leaf_bits,
        leaf_msb: leaf_bits - 1,
        t0_msb: pe * n_leaves * leaf_bits as usize - 1,
        pe_leaves: pe * n_leaves,
        group,
        group_msb: group - 1,
        xn_pad: n_leaves * group - simd.min(n_leaves * group),
        xn_all_msb: pe * n_leaves * group - 1,
        xn_pe_bits: n_leaves * group,
        cnt_ext: leaf_bits - 1,
        xn_zero: format!("{}'d0", pe * n_leaves * group),
        cnt_zero: lit(leaf_bits, 0),
        prod_table,
        prod_table_lit: table_lit,
        prod_table_msb: table_bits - 1,
        x_kind,
        w_kind,
        x_ext: prod_bits - ib,
        w_ext: prod_bits - wb,
        prod_bits,
        prod_msb: prod_bits - 1,
        prod_fit,
        prod_trunc_msb: prod_bits.saturating_sub(leaf_bits + 1),
        pack,
        pk_groups: pe / pack,
        pk_low: pack - 1,
        pk_wv_msb: pack as u32 * wb - 1,
        pk_w_msb: pk_w_bits - 1,
        pk_w_zero: lit(pk_w_bits, 0),
        pk_top_lsb: (pack as u32 - 1) * prod_bits,
        pk_top_bits,
        pk_top_msb: pk_top_bits - 1,
        pk_top_ext: pk_top_bits - wb,
        pk_r_msb: pk_r_bits - 1,
        pk_r_bits,
        pk_top_w_lsb: (pack as u32 - 1) * wb,
        pk_x_ext: pk_r_bits - ib,
        pk_wp_ext: pk_r_bits - pk_w_bits,
        pk_f_msb: pack as u32 * leaf_bits - 1,
        pk_f_zero: lit(pack as u32 * leaf_bits, 0),
        pk_zero: lit(pe as u32 * simd as u32 * leaf_bits, 0),
        pk_all_msb: (pe / pack) * simd * pk_r_bits as usize - 1,
        pk_all_zero: lit(((pe / pack) * simd) as u32 * pk_r_bits, 0),
        levels,
        reg_every: TREE_REG_EVERY,
        tree_top: depth,
        top_bits,
        top_msb: top_bits - 1,
        signed,
        acc_bits: s.acc_bits,
        acc_all_msb: pe * s.acc_bits as usize - 1,
        acc_ext: s.acc_bits - top_bits,
    }
}

/// `bits` (LSB first) as a sized hexadecimal Verilog literal.
fn hex_literal(bits: &[bool]) -> String {
    let mut digits = String::new();
    for chunk in (0..bits.len().div_ceil(4)).rev() {
        let mut d = 0u32;
        for b in 0..4 {
            let i = chunk * 4 + b;
            if i < bits.len() && bits[i] {
                d |= 1 << b;
            }
        }
        digits.push(char::from_digit(d, 16).expect("a hex digit"));
    }
    format!("{}'h{digits}", bits.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(simd: usize, x: DataType, w: DataType, acc_bits: u32) -> Spec {
        Spec {
            pe: 2,
            simd,
            input_type: x,
            weight_type: w,
            acc_bits,
            rom_out_reg: false,
            x_s_mul: 1,
            x_p_mul: 0,
            family: crate::boards::Family::Xilinx7series,
        }
    }

    #[test]
    fn xnor_counts_groups_of_six_and_widens_a_bit_a_level() {
        let d = build(&spec(49, DataType::Bipolar, DataType::Bipolar, 10));
        assert_eq!((d.leaves, d.group, d.leaf_bits, d.xn_pad), (9, 6, 3, 5));
        let bits: Vec<u32> = d.levels.iter().map(|l| l.bits).collect();
        assert_eq!(bits, [4, 5, 6, 6], "capped at the popcount of 49 bits");
        assert_eq!((d.top_bits, d.acc_ext), (6, 4));
        assert_eq!(latency(true, 49, false, 1), 2 + 2 + 1 + 1 + 1);
        assert_eq!(latency(true, 49, true, 1), 2 + 1 + 2 + 1 + 1 + 1);
    }

    #[test]
    fn small_products_come_from_a_table() {
        let d = build(&spec(4, DataType::Int(2), DataType::Int(2), 8));
        assert!(d.prod_table);
        assert_eq!(d.leaf_bits, 4);
        // {x, w} = {-2, -2} = 4'b1010: entry 10 is +4
        let hex = d.prod_table_lit.split('h').nth(1).unwrap();
        let v = u128::from_str_radix(hex, 16).unwrap();
        assert_eq!((v >> (10 * 4)) & 0xf, 4);
        // {1, -1} = 4'b0111: -1
        assert_eq!((v >> (7 * 4)) & 0xf, 0xf);
        let bits: Vec<u32> = d.levels.iter().map(|l| l.bits).collect();
        assert_eq!(bits, [5, 6]);
        assert!(!build(&spec(4, DataType::Int(4), DataType::Int(4), 12)).prod_table);
    }

    #[test]
    fn levels_are_capped_at_the_accumulator() {
        let d = build(&spec(64, DataType::UInt(4), DataType::Int(4), 11));
        assert_eq!(d.leaf_bits, 9);
        let bits: Vec<u32> = d.levels.iter().map(|l| l.bits).collect();
        assert_eq!(bits, [10, 11, 11, 11, 11, 11]);
        assert_eq!(d.acc_ext, 0);
    }
}
