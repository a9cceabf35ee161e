//! ferrite's Verilog templates: one askama context struct per template.
//!
//! Templates hold structure only. Every width, depth, count and constant is a finished
//! integer (or a sized Verilog literal) computed by `ferrite-gen`'s `emit` stage and put in
//! these structs; a template never does arithmetic. Every template starts with the
//! deterministic header lines in `header` (no timestamps) and ends with `` `resetall ``.

pub use askama::{Error, Template};

mod branch;
mod pad;
mod pool;
mod rom;
mod swg;
pub use branch::{Add, AddInput, Concat, ConcatInput, DupOutput, Duplicate};
mod vvu;
pub use pad::Pad;
pub use pool::Pool;
pub use rom::{Dp16kdBlock, Dp16kdModel, Ecp5Rom};
pub use swg::{Swg, SwgPar, SwgParElem};
pub use vvu::{AccStore, Vvu};

/// How a template reads a value type's bits: bipolar (one bit, 1 for +1), a signed integer
/// or an unsigned one (binary included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    Bipolar,
    Int,
    Uint,
}

impl ValueKind {
    pub fn is_bipolar(&self) -> bool {
        *self == ValueKind::Bipolar
    }

    pub fn is_int(&self) -> bool {
        *self == ValueKind::Int
    }
}

/// How a product fits its leaf of the adder tree: as it is, or truncated to the accumulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProdFit {
    Same,
    Trunc,
}

impl ProdFit {
    pub fn is_same(&self) -> bool {
        *self == ProdFit::Same
    }

    pub fn is_trunc(&self) -> bool {
        *self == ProdFit::Trunc
    }
}

/// How an accumulator widens to the comparison width: not at all, by sign or by zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Widen {
    None,
    Sign,
    Zero,
}

impl Widen {
    pub fn is_sign(&self) -> bool {
        *self == Widen::Sign
    }

    pub fn is_zero(&self) -> bool {
        *self == Widen::Zero
    }
}

/// Registered skid buffer (`lib/skid.v`): no combinational path from the output's tready to
/// the input's tready. Verilog parameter: `DATA_WIDTH`.
#[derive(Template)]
#[template(path = "lib/skid.v", escape = "none")]
pub struct Skid {
    pub module: String,
    pub header: Vec<String>,
}

/// Stream FIFO (`lib/fifo.v`), power-of-two depth, synchronous-read RAM (block or
/// distributed RAM). Verilog parameters: `DATA_WIDTH`, `ADDR_WIDTH`, `DEPTH`.
#[derive(Template)]
#[template(path = "lib/fifo.v", escape = "none")]
pub struct Fifo {
    pub module: String,
    pub header: Vec<String>,
}

/// Stream width converter (`lib/gearbox.v`): `IN_LANES` to `OUT_LANES` elements of
/// `ELEM_WIDTH` bits, any pair, full rate. Verilog parameters: `ELEM_WIDTH`, `IN_LANES`,
/// `OUT_LANES`, `BUF_WIDTH`, `FILL_WIDTH`, `IN_BITS`, `OUT_BITS`.
#[derive(Template)]
#[template(path = "lib/gearbox.v", escape = "none")]
pub struct Gearbox {
    pub module: String,
    pub header: Vec<String>,
}

/// One level of a pipelined adder tree: `n` nodes a PE summing pairs of level `prev`, each
/// `bits` wide (the previous level's `prev_bits`, plus one while the sum can still grow).
#[derive(Clone, Debug)]
pub struct TreeLevel {
    /// Level number (>= 1); level 0 is the registered leaves.
    pub k: usize,
    pub prev: usize,
    /// Nodes a PE on this level and on the previous one.
    pub n: usize,
    pub prev_n: usize,
    /// `prev_n / 2`, whether `prev_n` is odd, and `prev_n - 1`.
    pub pairs: usize,
    pub odd: bool,
    pub prev_last: usize,
    /// A register level (else combinational).
    pub registered: bool,
    /// Bits of a node on this level (and `bits - 1`), on the previous one (and `prev_bits - 1`).
    pub bits: u32,
    pub bits_msb: u32,
    pub prev_bits: u32,
    pub prev_msb: u32,
    /// `bits > prev_bits`: operands are widened by one bit (sign or zero, `Datapath::signed`).
    pub widen: bool,
    /// MSB of the level's vector: `pe * n * bits - 1`.
    pub msb: usize,
}

/// The datapath the matrix- and vector-vector units share (`lib/mac_product.v`,
/// `lib/adder_tree.v`): the weight ROM's output register, the registered leaves (XNOR bits
/// counted in groups, or products), the adder tree widening level by level, and the tree's
/// sum extended to the accumulator.
#[derive(Clone, Debug)]
pub struct Datapath {
    /// The weight ROM (block RAM) is read into `w_rd` and registered again into `w_reg`
    /// with nothing between: the RAM primitive's own output register.
    pub rom_out_reg: bool,
    pub pe: usize,
    pub simd: usize,
    pub xnor: bool,
    /// Input lane of (PE p, SIMD lane s): `s * x_s_mul + p * x_p_mul`.
    pub x_s_mul: usize,
    pub x_p_mul: usize,
    pub in_bits: u32,
    pub w_bits: u32,
    /// `in_bits - 1`, `w_bits - 1`
    pub in_msb: u32,
    pub w_msb: u32,
    /// Leaves a PE (XNOR groups, or SIMD products), their width, `leaf_bits - 1`, and the
    /// MSB of `t0` (`pe * leaves * leaf_bits - 1`).
    pub leaves: usize,
    pub leaf_bits: u32,
    pub leaf_msb: u32,
    pub t0_msb: usize,
    /// `pe * leaves`
    pub pe_leaves: usize,
    /// XNOR: bits a counter group, zero bits padding the last group, the MSB of the padded
    /// XNOR vector of all PEs (`pe * leaves * group - 1`), bits a PE (`leaves * group`),
    /// zero bits widening one XNOR bit to `leaf_bits` (`leaf_bits - 1`).
    pub group: usize,
    pub group_msb: usize,
    pub xn_pad: usize,
    pub xn_all_msb: usize,
    pub xn_pe_bits: usize,
    pub cnt_ext: u32,
    /// The padded XNOR vector's zero (a literal).
    pub xn_zero: String,
    /// The counter's zero at `leaf_bits` (a literal).
    pub cnt_zero: String,
    /// Products from a constant table (small operands: logic, never a DSP): the table as
    /// one literal, entry `{x, w}` at bits `[{x, w} * leaf_bits +: leaf_bits]`.
    pub prod_table: bool,
    pub prod_table_lit: String,
    pub prod_table_msb: usize,
    /// Products with `*`: operand kinds and extensions to `prod_bits`, and how the product
    /// fits the leaf (`Same` or `Trunc`; `prod_trunc_msb = prod_bits - leaf_bits - 1`).
    pub x_kind: ValueKind,
    pub w_kind: ValueKind,
    pub x_ext: u32,
    pub w_ext: u32,
    pub prod_bits: u32,
    pub prod_msb: u32,
    pub prod_fit: ProdFit,
    pub prod_trunc_msb: u32,
    /// Products of `pack` PEs share one multiplier (a DSP block; ferrite-gen's
    /// `datapath::pack_factor`), 1 otherwise. The weights of a group of `pack` PEs
    /// (`pk_wv_msb`: their lanes side by side) become one `pk_w_msb + 1`-bit multiplicand:
    /// fields of `prod_bits` (`pk_low = pack - 1` of them, each less the borrow of the one
    /// below) and a top field at `pk_top_lsb` of `pk_top_bits` (the top weight extended by
    /// `pk_top_ext`). Input and multiplicand are extended by `pk_x_ext` and `pk_wp_ext` to
    /// the product's `pk_r_msb + 1` bits; its fields split again into `pack` leaves
    /// (`pk_f_msb = pack * leaf_bits - 1`). `pk_groups = pe / pack`; `*_zero` are literals.
    pub pack: usize,
    pub pk_groups: usize,
    pub pk_low: usize,
    pub pk_wv_msb: u32,
    pub pk_w_msb: u32,
    pub pk_w_zero: String,
    pub pk_top_lsb: u32,
    pub pk_top_bits: u32,
    pub pk_top_msb: u32,
    pub pk_top_ext: u32,
    pub pk_r_msb: u32,
    pub pk_r_bits: u32,
    /// The top weight's LSB in the group's lanes (`pk_low * w_bits`).
    pub pk_top_w_lsb: u32,
    pub pk_x_ext: u32,
    pub pk_wp_ext: u32,
    pub pk_f_msb: u32,
    pub pk_f_zero: String,
    pub pk_zero: String,
    /// All groups' packed products (`pk_groups * simd * pk_r_bits`): MSB and zero.
    pub pk_all_msb: usize,
    pub pk_all_zero: String,
    pub levels: Vec<TreeLevel>,
    pub reg_every: usize,
    pub tree_top: usize,
    /// Width of the tree's top, its MSB, and whether values are signed (sign-extended).
    pub top_bits: u32,
    pub top_msb: u32,
    pub signed: bool,
    /// The accumulator width, `pe * acc_bits - 1` and `acc_bits - top_bits`.
    pub acc_bits: u32,
    pub acc_all_msb: usize,
    pub acc_ext: u32,
}

/// One stage of a pipelined binary search over a channel's thresholds
/// (`lib/thr_search.v`): stage `k` decides bit `k` (MSB first) of the count of thresholds
/// reached, comparing with one of `entries = 2^k` thresholds chosen by the `k` bits above.
#[derive(Clone, Debug)]
pub struct ThrStage {
    pub k: usize,
    /// `k + 1`, and `k - 1` (stage 0 has no bits above)
    pub next: usize,
    pub k_msb: usize,
    pub entries: usize,
    /// Bit offset of the stage's region in a ROM word, and of one lane's entries in it
    /// (`entries * cmp_bits`, and its MSB).
    pub off: usize,
    pub lane_bits: usize,
    pub lane_msb: usize,
    /// MSB of the count register after the stage (`pe * (k + 1) - 1`) and before it.
    pub n_msb: usize,
    pub prev_n_msb: usize,
    /// The last stage (its value and address are not carried further).
    pub last: bool,
    /// The `entries` cases of the threshold multiplexer: the bits above (a literal) and the
    /// entry's bits in the lane's row.
    pub sel: Vec<ThrSel>,
}

/// One case of a search stage's threshold multiplexer.
#[derive(Clone, Debug)]
pub struct ThrSel {
    pub lit: String,
    pub msb: usize,
    pub lsb: usize,
}

/// The pipelined binary search of a threshold unit (`lib/thr_search.v`): expects
/// `ts_v0` (PE values of `cmp_bits`), `ts_valid0` and `ts_addr0` (the ROM word of the beat),
/// gives `thr_count` (PE counts of `n_bits`) and `thr_valid`, `stages.len()` cycles later.
#[derive(Clone, Debug)]
pub struct ThrSearch {
    pub pe: usize,
    pub cmp_bits: u32,
    pub cmp_msb: u32,
    /// `pe * cmp_bits - 1`
    pub v_msb: usize,
    pub file: String,
    pub rom_msb: usize,
    pub rom_last: usize,
    pub addr_msb: u32,
    pub stages: Vec<ThrStage>,
    /// Bits of a count (the number of stages) and the last stage's number.
    pub n_bits: usize,
    pub top: usize,
    /// `pe * n_bits - 1`
    pub count_msb: usize,
    /// Zero bits widening a count to the output (`out_bits - n_bits`).
    pub out_ext: u32,
}

/// Matrix-vector unit (`engines/mvu.v`). All fields are finished values; `*_lit` fields and
/// fields documented as literals are sized Verilog literals such as `4'd11`.
#[derive(Template)]
#[template(path = "engines/mvu.v", escape = "none")]
pub struct Mvu {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    pub simd: usize,
    pub pe: usize,
    pub sf: usize,
    pub nf: usize,
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
    /// the weight ROM in block RAM (`rom_style = "block"`), else in LUTs (`"logic"`):
    /// what `estimate::place_memory` decided
    pub w_rom_block: bool,
    /// The weights are in a vendor block-RAM ROM module (`w_rom_module`, e.g.
    /// [`crate::Ecp5Rom`]) whose primitive registers the read data itself.
    pub w_rom_prim: bool,
    pub w_rom_module: String,
    /// Some ROM is read from a `.mem` file: the module takes `MEM_DIR`.
    pub uses_mem: bool,
    pub w_addr_msb: u32,
    /// literals
    pub w_addr_last: String,
    pub w_addr_one: String,
    pub sf_msb: u32,
    pub sf_last: String,
    pub sf_one: String,
    pub nf_msb: u32,
    pub nf_last: String,
    pub nf_one: String,
    pub nf_last_int: usize,
    pub has_ibuf: bool,
    pub ibuf_last: usize,
    pub ctl_msb: usize,
    pub ctl_prev_msb: usize,
    pub xnor: bool,
    /// the shared datapath (products, adder tree)
    pub dp: Datapath,
    pub acc_bits: u32,
    pub acc_msb: u32,
    pub acc_all_msb: usize,
    pub acc_zero: String,
    pub has_thr: bool,
    pub nt: usize,
    pub cmp_bits: u32,
    pub cmp_msb_bits: u32,
    /// "sign", "zero" or "none": accumulator to comparison width
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
    pub dot_lit: String,
}

/// Thresholding engine (`engines/thresholding.v`).
#[derive(Template)]
#[template(path = "engines/thresholding.v", escape = "none")]
pub struct Thresholding {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    pub pe: usize,
    pub beats: usize,
    pub in_bits: u32,
    pub in_bits_msb: u32,
    pub in_msb: usize,
    /// "bipolar", "int" or "uint"
    pub in_kind: ValueKind,
    pub in_ext: u32,
    pub out_bits: u32,
    pub out_msb: usize,
    pub out_width: usize,
    pub nt: usize,
    pub cmp_bits: u32,
    pub cmp_msb_bits: u32,
    pub cf_msb: u32,
    /// literals
    pub cf_last: String,
    pub cf_one: String,
    pub out_bipolar: bool,
    pub out_bias: String,
    pub out_one: String,
    pub out_zero: String,
    pub out_bits_msb: u32,
    /// the threshold search
    pub ts: ThrSearch,
}

/// One input lane of the label-select engine: its number and its index offset literal.
#[derive(Clone, Debug)]
pub struct Lane {
    pub p: usize,
    /// index offset of the lane, a sized literal
    pub lit: String,
    /// one-hot lane select, a sized literal
    pub sel: String,
}

/// Label-select (top-k) engine (`engines/label_select.v`).
#[derive(Template)]
#[template(path = "engines/label_select.v", escape = "none")]
pub struct LabelSelect {
    pub module: String,
    pub header: Vec<String>,
    pub skid_module: String,
    pub pe: usize,
    pub pe_msb: usize,
    pub multi_lane: bool,
    /// the output side keeps values (more than one lane, or k > 1)
    pub keep_vals: bool,
    pub k: usize,
    pub k_gt1: bool,
    pub labels: usize,
    pub beats: usize,
    pub in_bits: u32,
    pub in_bits_msb: u32,
    pub in_msb: usize,
    pub in_kind: ValueKind,
    pub in_ext: u32,
    pub val_bits: u32,
    pub val_msb: u32,
    pub idx_bits: u32,
    pub idx_msb: u32,
    pub k_msb: usize,
    pub kval_msb: usize,
    pub kidx_msb: usize,
    pub lanes: Vec<Lane>,
    pub lanes_rest: Vec<Lane>,
    pub sel_first: String,
    /// literals
    pub base_last: String,
    pub base_step: String,
    pub cnt_msb: u32,
    pub k_lit: String,
    pub cnt_one: String,
}

/// A wire bundle (tdata/tvalid/tready) of the top.
#[derive(Clone, Debug)]
pub struct Stream {
    pub name: String,
    pub msb: usize,
    pub comment: String,
}

/// A Verilog parameter override of an instance.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub value: String,
}

/// A stream port of an instance (`<port>_tdata/tvalid/tready`) wired to a stream of the
/// top (`<stream>_tdata/...`).
#[derive(Clone, Debug)]
pub struct Conn {
    pub port: String,
    pub stream: String,
}

/// An instance in the top: `clk`, `rst` and its stream ports (inputs first).
#[derive(Clone, Debug)]
pub struct Instance {
    pub module: String,
    pub name: String,
    pub comment: String,
    pub params: Vec<Param>,
    pub conns: Vec<Conn>,
}

/// A trace tap: an engine's output stream exposed as `tap<nn>_tdata` / `tap<nn>_fire`.
#[derive(Clone, Debug)]
pub struct Tap {
    pub nn: String,
    /// What the tap shows (node and port), for a comment.
    pub label: String,
    pub stream: String,
    pub msb: usize,
}

/// The top (`top.v`): engines, FIFOs and width converters in stream order.
#[derive(Template)]
#[template(path = "top.v", escape = "none")]
pub struct Top {
    pub module: String,
    pub header: Vec<String>,
    pub in_lanes: usize,
    pub in_elem_bits: u32,
    pub in_beats: usize,
    pub in_port_msb: usize,
    pub in_msb: usize,
    pub in_pad: bool,
    pub in_pad_lsb: usize,
    pub out_lanes: usize,
    pub out_elem_bits: u32,
    pub out_beats: usize,
    pub out_port_msb: usize,
    pub out_pad: bool,
    pub out_pad_bits: usize,
    pub streams: Vec<Stream>,
    pub first_stream: String,
    pub last_stream: String,
    pub instances: Vec<Instance>,
    pub taps: Vec<Tap>,
    /// some engine reads a .mem file through MEM_DIR
    pub uses_mem: bool,
}

/// Source text of every template, by path under `templates/`, so headers can carry a
/// hash of the template that made a file.
pub const SOURCES: &[(&str, &str)] = &[
    ("lib/header.v", include_str!("../templates/lib/header.v")),
    ("lib/skid.v", include_str!("../templates/lib/skid.v")),
    ("lib/fifo.v", include_str!("../templates/lib/fifo.v")),
    ("lib/gearbox.v", include_str!("../templates/lib/gearbox.v")),
    ("engines/mvu.v", include_str!("../templates/engines/mvu.v")),
    ("engines/vvu.v", include_str!("../templates/engines/vvu.v")),
    (
        "lib/mac_product.v",
        include_str!("../templates/lib/mac_product.v"),
    ),
    (
        "lib/adder_tree.v",
        include_str!("../templates/lib/adder_tree.v"),
    ),
    (
        "lib/acc_thresholds.v",
        include_str!("../templates/lib/acc_thresholds.v"),
    ),
    (
        "lib/thr_search.v",
        include_str!("../templates/lib/thr_search.v"),
    ),
    (
        "lib/count_encode.v",
        include_str!("../templates/lib/count_encode.v"),
    ),
    (
        "engines/thresholding.v",
        include_str!("../templates/engines/thresholding.v"),
    ),
    (
        "engines/label_select.v",
        include_str!("../templates/engines/label_select.v"),
    ),
    (
        "engines/pool.v",
        include_str!("../templates/engines/pool.v"),
    ),
    ("engines/pad.v", include_str!("../templates/engines/pad.v")),
    (
        "lib/acc_output.v",
        include_str!("../templates/lib/acc_output.v"),
    ),
    ("engines/swg.v", include_str!("../templates/engines/swg.v")),
    (
        "engines/swg_par.v",
        include_str!("../templates/engines/swg_par.v"),
    ),
    (
        "engines/duplicate.v",
        include_str!("../templates/engines/duplicate.v"),
    ),
    ("engines/add.v", include_str!("../templates/engines/add.v")),
    (
        "engines/concat.v",
        include_str!("../templates/engines/concat.v"),
    ),
    ("top.v", include_str!("../templates/top.v")),
    (
        "lib/rom_ecp5.v",
        include_str!("../templates/lib/rom_ecp5.v"),
    ),
    (
        "lib/dp16kd_model.v",
        include_str!("../templates/lib/dp16kd_model.v"),
    ),
    (
        "lib/weight_rom.v",
        include_str!("../templates/lib/weight_rom.v"),
    ),
];

/// The source of template `path` (relative to `templates/`).
pub fn source(path: &str) -> Option<&'static str> {
    SOURCES.iter().find(|(p, _)| *p == path).map(|(_, s)| *s)
}
