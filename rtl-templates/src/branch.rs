//! Contexts of the branch engines: stream duplication (`engines/duplicate.v`) and the
//! elementwise add of two streams (`engines/add.v`).

use crate::{ThrSearch, ValueKind};
use askama::Template;

/// One output port of the duplicate engine: its number and whether it is the last port.
#[derive(Clone, Debug)]
pub struct DupOutput {
    pub k: usize,
    pub last: bool,
}

/// Duplicate engine (`engines/duplicate.v`): one input stream copied to `n` outputs, each
/// with its own backpressure and its own skid buffer. All fields are finished values.
#[derive(Template)]
#[template(path = "engines/duplicate.v", escape = "none")]
pub struct Duplicate {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    /// lanes a beat, bits a lane, beats a frame (port comments)
    pub pe: usize,
    pub bits: u32,
    pub beats: usize,
    /// MSB and width of a beat
    pub msb: usize,
    pub width: usize,
    /// outputs and `n - 1`
    pub n: usize,
    pub n_msb: usize,
    /// `n` zero bits (literal)
    pub n_zero: String,
    pub outs: Vec<DupOutput>,
}

/// One input port of the add engine and how a lane of it becomes an `acc_bits`-bit term:
/// decoded (bipolar 1/0 as +1/-1), extended by `ext` bits (sign or zeros), then shifted
/// left by `shift` (`zeros`, a literal, appended when `shift > 0`).
#[derive(Clone, Debug)]
pub struct AddInput {
    pub k: usize,
    /// type name, for comments
    pub type_name: String,
    pub bits: u32,
    pub bits_msb: u32,
    /// MSB of a beat
    pub msb: usize,
    pub kind: ValueKind,
    pub ext: u32,
    pub shift: u32,
    pub zeros: String,
    /// bipolar: +1 and -1 at `acc_bits - shift` bits (literals)
    pub plus_one: String,
    pub minus_one: String,
}

/// Add engine (`engines/add.v`): `pe` lanes a beat of two streams summed lane by lane
/// (`(a << s0) + (b << s1)` at `acc_bits` bits, exact), then with `has_thr` a
/// multi-threshold activation per channel (the channel-fold counter picks the ROM word).
/// All fields are finished values; fields documented as literals are sized Verilog
/// literals.
#[derive(Template)]
#[template(path = "engines/add.v", escape = "none")]
pub struct Add {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    pub pe: usize,
    pub beats: usize,
    pub channels: usize,
    /// the two inputs
    pub ins: Vec<AddInput>,
    /// width of the sum (and of the comparison with thresholds)
    pub acc_bits: u32,
    pub acc_msb: u32,
    pub sum_all_msb: usize,
    pub sum_type: String,
    pub out_bits: u32,
    pub out_msb: usize,
    pub out_width: usize,
    pub out_type: String,
    pub has_thr: bool,
    /// thresholds a channel, searched by `lib/thr_search.v` (`ts`; one ROM word a channel
    /// fold) and encoded by `lib/count_encode.v`
    pub nt: usize,
    pub ts: ThrSearch,
    /// channel-fold counter (width, literals)
    pub cf_msb: u32,
    pub cf_last: String,
    pub cf_one: String,
    pub cf_zero: String,
    /// output encoding (`lib/count_encode.v`)
    pub out_bipolar: bool,
    pub out_bias: String,
}

/// One input port of the concat engine and how a lane of it becomes an `out_bits`-bit
/// output lane: copied (`copy`, same type), bipolar 1/0 as the literals `plus_one` /
/// `minus_one`, or extended by `ext` bits (sign bits for `Int`, zeros else).
#[derive(Clone, Debug)]
pub struct ConcatInput {
    pub k: usize,
    /// type name and channels, for comments
    pub type_name: String,
    pub channels: usize,
    pub bits: u32,
    pub bits_msb: u32,
    /// MSB of a beat
    pub msb: usize,
    pub kind: ValueKind,
    pub copy: bool,
    pub ext: u32,
    pub plus_one: String,
    pub minus_one: String,
    /// the input's number as a `sel_reg` literal
    pub sel: String,
    /// the last beat of the input's block in a pixel, as a `beat_reg` literal
    pub beat_last: String,
    /// lanes a beat of this input, and (whole-pixel mode) its first output lane
    pub lanes: usize,
    pub offset: usize,
    /// whole-pixel mode: the other inputs' valids, ANDed (`1'b1` when none)
    pub others_valid: String,
}

/// Concat engine (`engines/concat.v`): per pixel, the beats of input 0, then of input 1,
/// ..., `pe` lanes a beat, each lane widened to the output type; only the input being
/// copied is ready. All fields are finished values; fields documented as literals are sized
/// Verilog literals.
#[derive(Template)]
#[template(path = "engines/concat.v", escape = "none")]
pub struct Concat {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    pub pe: usize,
    pub pixels: usize,
    /// whole-pixel mode: every input's pixel in one beat, all inputs read together
    pub whole: bool,
    /// whole-pixel mode: every input valid, ANDed
    pub all_valid: String,
    pub ins: Vec<ConcatInput>,
    pub out_bits: u32,
    pub out_bits_msb: u32,
    pub out_msb: usize,
    pub out_width: usize,
    pub out_type: String,
    pub out_channels: usize,
    /// `out_width` zero bits (literal)
    pub out_zero: String,
    /// input select counter: MSB and literals
    pub sel_msb: u32,
    pub sel_last: String,
    pub sel_one: String,
    pub sel_zero: String,
    /// beat-in-block counter: MSB and literals
    pub beat_msb: u32,
    pub beat_one: String,
    pub beat_zero: String,
}
