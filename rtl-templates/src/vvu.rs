//! Context of the vector-vector unit's template (`engines/vvu.v`).

use crate::{Datapath, ThrSearch, Widen};
use askama::Template;

/// Where a vector-vector unit keeps its per-channel sums between kernel folds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccStore {
    /// One kernel fold a pixel: no sums to keep.
    None,
    /// One channel block (PE = C): the output register accumulates.
    Reg,
    /// C/PE channel blocks: a RAM of C/PE words of PE sums.
    Ram,
}

impl AccStore {
    pub fn is_none(&self) -> bool {
        *self == AccStore::None
    }

    pub fn is_reg(&self) -> bool {
        *self == AccStore::Reg
    }

    pub fn is_ram(&self) -> bool {
        *self == AccStore::Ram
    }
}

/// Vector-vector unit (`engines/vvu.v`): depthwise per-channel dot products. Field names
/// shared with [`crate::Mvu`] mean the same (the templates share `lib/mac_product.v`,
/// `lib/adder_tree.v` and `lib/acc_thresholds.v`); `*_last`, `*_one`, `*_zero`, `*_lit`,
/// `acc_zero`, `out_bias`/`out_one`/`out_zero` are sized Verilog literals.
#[derive(Template)]
#[template(path = "engines/vvu.v", escape = "none")]
pub struct Vvu {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    pub channels: usize,
    pub kernel: usize,
    pub simd: usize,
    pub pe: usize,
    /// kernel folds (K/SIMD) and channel blocks (C/PE) a pixel
    pub kf: usize,
    pub nb: usize,
    pub in_lanes: usize,
    pub in_bits: u32,
    pub in_bits_msb: u32,
    pub in_msb: usize,
    pub out_bits: u32,
    pub out_msb: usize,
    pub out_width: usize,
    pub w_bits: u32,
    pub w_bits_msb: u32,
    pub w_msb: usize,
    pub w_file: String,
    pub w_rom_last: usize,
    pub w_rom_block: bool,
    /// See [`crate::Mvu::w_rom_prim`].
    pub w_rom_prim: bool,
    pub w_rom_module: String,
    /// Some ROM is read from a `.mem` file: the module takes `MEM_DIR`.
    pub uses_mem: bool,
    pub w_addr_msb: u32,
    pub w_addr_last: String,
    pub w_addr_one: String,
    pub kf_msb: u32,
    pub kf_last: String,
    pub kf_one: String,
    pub kf_zero: String,
    pub nb_bits: u32,
    pub nb_msb: u32,
    pub nb_last: String,
    pub nb_one: String,
    /// the channel-block shift register (one block number a pipeline stage): its MSB, the
    /// MSB of all but its last stage, and the LSBs of the RAM's read and write stages
    pub nb_sr_msb: usize,
    pub nb_sr_prev_msb: usize,
    pub nb_rd_lsb: usize,
    pub nb_wr_lsb: usize,
    pub ctl_msb: usize,
    pub ctl_prev_msb: usize,
    pub xnor: bool,
    /// the shared datapath (products, adder tree)
    pub dp: Datapath,
    pub acc_store: AccStore,
    pub acc_mem_last: usize,
    pub acc_bits: u32,
    pub acc_msb: u32,
    pub acc_all_msb: usize,
    pub acc_zero: String,
    pub has_thr: bool,
    pub nt: usize,
    pub cmp_bits: u32,
    pub cmp_msb_bits: u32,
    pub cmp_kind: Widen,
    pub cmp_ext: u32,
    pub thr_addr_last: String,
    pub thr_addr_one: String,
    pub out_bipolar: bool,
    pub out_bias: String,
    pub out_one: String,
    pub out_zero: String,
    pub out_bits_msb: u32,
    /// the threshold search
    pub ts: ThrSearch,
    /// K, for `dot = 2 * popcount - K` (XNOR without thresholds)
    pub dot_lit: String,
}
