//! Context of the padding engine (`engines/pad.v`).

use askama::Template;

/// Padding engine (`engines/pad.v`): an `h x w x c` frame, `simd` channels a beat, out as
/// the padded frame, pad beats filled with a constant and made without input (a frame starts
/// once its first input beat is offered). All fields
/// are finished values; fields documented as literals are sized Verilog literals.
#[derive(Template)]
#[template(path = "engines/pad.v", escape = "none")]
pub struct Pad {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    /// lanes a beat and bits a lane
    pub simd: usize,
    pub bits: u32,
    /// for the port comments: input and output frame sizes, pads, pad value
    pub in_h: usize,
    pub in_w: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub channels: usize,
    pub pads: String,
    pub pad_value: i64,
    pub msb: usize,
    pub width: usize,
    /// one pad beat: every lane the pad value's code (literal)
    pub pad_beat: String,
    /// channel-fold, column and row counters of the output beat (widths, literals)
    pub cf_msb: u32,
    pub cf_zero: String,
    pub cf_one: String,
    pub cf_last: String,
    pub w_msb: u32,
    pub w_zero: String,
    pub w_one: String,
    pub w_last: String,
    pub h_msb: u32,
    pub h_zero: String,
    pub h_one: String,
    pub h_last: String,
    /// first row / column of a frame is an input row / column (literals `1'b1`/`1'b0`)
    pub row_in_first: String,
    pub col_in_first: String,
    /// left pad: the column before the first input column (literal), if any
    pub has_left: bool,
    pub col_before: String,
    /// right pad: the last input column (literal), if any
    pub has_right: bool,
    pub col_last_in: String,
    /// top pad: the row before the first input row (literal), if any
    pub has_top: bool,
    pub row_before: String,
    /// bottom pad: the last input row (literal), if any
    pub has_bottom: bool,
    pub row_last_in: String,
}
