//! Contexts of the vendor block-RAM ROM templates: a weight ROM instantiated as the
//! family's RAM primitive so that its read data is registered inside the primitive.

use askama::Template;

/// One ECP5 `DP16KD` of an [`Ecp5Rom`]: port A reads rows `0..depth` in 1K x 18 mode;
/// port B, when present, reads the same address in rows `512..512+depth` (two 18-bit
/// columns a block for ROMs of at most 512 words).
pub struct Dp16kdBlock {
    /// Instance name.
    pub name: String,
    /// `(NN, hex)`: `INITVAL_NN = 320'hHEX` (16 rows of 20 bits, 18 data bits each).
    pub initvals: Vec<(String, String)>,
    /// Port A's column of the padded output (`q_all[a_msb:a_lsb]`).
    pub a_lsb: usize,
    pub a_msb: usize,
    /// Port B's column, when the block holds two.
    pub b: Option<(usize, usize)>,
}

/// A read-only memory in ECP5 `DP16KD` blocks with `REGMODE = "OUTREG"`
/// (`lib/rom_ecp5.v`): `q` is the word at `addr` two enabled clocks later (the RAM's
/// read register, then its output register, both clocked when `ce` is high).
#[derive(Template)]
#[template(path = "lib/rom_ecp5.v", escape = "none")]
pub struct Ecp5Rom {
    pub module: String,
    pub header: Vec<String>,
    pub addr_msb: usize,
    /// `ADA[13:4]`/`ADB[13:4]` (10 bits): `{zero bits, addr}` for port A and
    /// `{1'b1, zero bits, addr}` for port B, as finished Verilog expressions.
    pub row_a: String,
    pub row_b: String,
    /// Whether any block uses port B (`row_b` is declared).
    pub dual: bool,
    /// `(pin, bit)`: address pin `ADx<pin>` takes `row_x[bit]` (pins 4..13).
    pub row_pins: Vec<(usize, usize)>,
    pub width: usize,
    pub q_msb: usize,
    /// Bits of the blocks' outputs (columns of 18), at least `width`.
    pub all_msb: usize,
    /// Whether the last column has bits beyond `width` (named `unused_*` for lint).
    pub has_pad: bool,
    pub blocks: Vec<Dp16kdBlock>,
}

/// Simulation model of the ECP5 `DP16KD` block (`sim/DP16KD.v`), for Verilator and Icarus
/// only: the 1K x 18 read path [`Ecp5Rom`] uses, from the block's `INITVAL_*` rows.
#[derive(Template)]
#[template(path = "lib/dp16kd_model.v", escape = "none")]
pub struct Dp16kdModel {
    pub header: Vec<String>,
    /// `00`..`3F`, the `INITVAL_*` parameter suffixes (row `16*k + i` is bits
    /// `[20*i +: 18]` of `INITVAL_<k>`).
    pub initvals: Vec<String>,
}
