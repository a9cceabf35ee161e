//! Context of the pooling engine (`engines/pool.v`).

use askama::Template;

/// Pooling engine (`engines/pool.v`): the max or the sum over `positions` window positions
/// of every channel, `pe` channels a beat. Input beats come in the order output pixel,
/// position, channel fold; an output beat leaves with the beat of the last position of its
/// channel fold. All fields are finished values; fields documented as literals are sized
/// Verilog literals such as `4'd11`.
#[derive(Template)]
#[template(path = "engines/pool.v", escape = "none")]
pub struct Pool {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    /// lanes (channels) a beat
    pub pe: usize,
    /// for the port comments: output pixels, positions and channel folds a frame
    pub outputs: usize,
    pub positions: usize,
    pub folds: usize,
    /// "max" or "sum", for comments only
    pub op_name: &'static str,
    /// the sum (else the max)
    pub sum: bool,
    /// input lanes are bipolar codes (1 = +1, 0 = -1)
    pub x_bipolar: bool,
    /// input lanes are two's complement (compare signed, sign-extend)
    pub x_signed: bool,
    pub in_bits: u32,
    pub in_bits_msb: u32,
    pub in_msb: usize,
    /// bits of an accumulator lane, which is also an output lane (`in_bits` for the max)
    pub acc_bits: u32,
    pub acc_bits_msb: u32,
    /// `acc_bits - in_bits`
    pub acc_ext: u32,
    /// +1 and -1 at `acc_bits` (literals; used for a bipolar sum)
    pub acc_one: String,
    pub acc_minus_one: String,
    pub out_msb: usize,
    pub out_width: usize,
    /// more than one position: accumulators and a position counter
    pub has_acc: bool,
    /// more than one channel fold: an accumulator RAM and a fold counter
    pub has_cf: bool,
    pub cf_msb: u32,
    /// literals
    pub cf_zero: String,
    pub cf_one: String,
    pub cf_last: String,
    /// last address of the accumulator RAM (`folds - 1`)
    pub cf_mem_last: usize,
    pub p_msb: u32,
    /// literals
    pub p_zero: String,
    pub p_one: String,
    pub p_last: String,
}
