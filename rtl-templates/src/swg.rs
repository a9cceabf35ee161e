//! Context of the sliding-window generator (`engines/swg.v`).

use askama::Template;

/// Sliding-window generator ("streaming im2col", `engines/swg.v`): a circular window buffer
/// of `depth` beats with a registered read port, the output through the skid buffer
/// `skid_module`. Every field is a finished value: `*_msb`, `*_last` and counts are plain
/// integers for declarations and comments; the other fields are sized Verilog literals
/// (`thr_*` are `addr_wide` bits, `inc_*` and `thr_lo_*` address bits, `fill_*` fill bits).
#[derive(Template)]
#[template(path = "engines/swg.v", escape = "none")]
pub struct Swg {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    /// whether the writer walks a padded raster (`wr` holds its counters and pad beat)
    pub padded: bool,
    /// the padding, for comments (empty when none)
    pub pads: String,
    pub wr: crate::Pad,
    // for the port comments
    pub simd: usize,
    pub elem_bits: u32,
    pub ifm_h: usize,
    pub ifm_w: usize,
    pub channels: usize,
    pub ofm_h: usize,
    pub ofm_w: usize,
    pub k_h: usize,
    pub k_w: usize,
    pub in_beats: usize,
    pub out_beats: usize,
    /// beats of one window in the buffer (from its top-left to its bottom-right beat)
    pub window_span: usize,
    pub fill_bias: usize,
    // datapath
    pub data_width: usize,
    pub data_msb: usize,
    pub depth: usize,
    pub depth_last: usize,
    pub addr_msb: u32,
    pub addr_wide_msb: u32,
    pub addr_last: String,
    pub addr_zero: String,
    pub addr_one: String,
    // read-address steps inside a window: next channel fold, kernel column, kernel row
    pub inc_cf: String,
    pub thr_cf: String,
    pub thr_lo_cf: String,
    pub inc_kx: String,
    pub thr_kx: String,
    pub thr_lo_kx: String,
    pub inc_ky: String,
    pub thr_ky: String,
    pub thr_lo_ky: String,
    // top-left steps: next output column, output row, frame
    pub inc_px: String,
    pub thr_px: String,
    pub thr_lo_px: String,
    pub fill_px: String,
    pub inc_row: String,
    pub thr_row: String,
    pub thr_lo_row: String,
    pub fill_row: String,
    pub inc_frame: String,
    pub thr_frame: String,
    pub thr_lo_frame: String,
    pub fill_frame: String,
    // occupancy
    pub fill_msb: u32,
    pub fill_zero: String,
    pub fill_one: String,
    pub fill_need: String,
    pub fill_full: String,
    // counters
    pub cf_msb: u32,
    pub cf_last: String,
    pub cf_zero: String,
    pub cf_one: String,
    pub kx_msb: u32,
    pub kx_last: String,
    pub kx_zero: String,
    pub kx_one: String,
    pub ky_msb: u32,
    pub ky_last: String,
    pub ky_zero: String,
    pub ky_one: String,
    pub ow_msb: u32,
    pub ow_last: String,
    pub ow_zero: String,
    pub ow_one: String,
    pub oh_msb: u32,
    pub oh_last: String,
    pub oh_zero: String,
    pub oh_one: String,
}

/// One element group (one kernel position, all channels) of a parallel window: output bits
/// `msb:lsb` take `src` (a slice of the line buffer or the new pixel) when kernel row `ky`
/// and kernel column `kx` lie inside the input, else the pad pixel.
pub struct SwgParElem {
    pub msb: usize,
    pub lsb: usize,
    pub ky: usize,
    pub kx: usize,
    pub src: String,
}

/// Parallel window generator (`engines/swg_par.v`): a line buffer of registers, one pixel a
/// beat in, one window a beat out. Every field is a finished value (literals sized by the
/// generator; `rows_ok` / `cols_ok` are Verilog conditions on the output row and column
/// counters).
#[derive(Template)]
#[template(path = "engines/swg_par.v", escape = "none")]
pub struct SwgPar {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    // for comments
    pub elem_bits: u32,
    pub ifm_h: usize,
    pub ifm_w: usize,
    pub channels: usize,
    pub ofm_h: usize,
    pub ofm_w: usize,
    pub k_h: usize,
    pub k_w: usize,
    pub pads: String,
    pub in_beats: usize,
    pub out_beats: usize,
    pub line_pixels: usize,
    pub trailing: usize,
    // datapath
    pub pix_msb: usize,
    pub out_width: usize,
    pub out_msb: usize,
    pub sr_msb: usize,
    /// the line buffer after a shift (`{older pixels, new_pix}`)
    pub sr_shift: String,
    pub pad_pix: String,
    pub elems: Vec<SwgParElem>,
    pub rows_ok: Vec<String>,
    pub cols_ok: Vec<String>,
    // raster indices (all `n_msb + 1` bits)
    pub n_msb: u32,
    pub n_zero: String,
    pub n_one: String,
    pub hw: String,
    pub hw_last: String,
    pub v_first: String,
    pub v_px: String,
    pub v_row: String,
    // output position counters
    pub ow_msb: u32,
    pub ow_last: String,
    pub ow_zero: String,
    pub ow_one: String,
    pub oh_msb: u32,
    pub oh_last: String,
    pub oh_zero: String,
    pub oh_one: String,
}
