//! The form of every estimate: a few structural quantities of an instance ([`Terms::x`],
//! counted in bits from its shape, fold and types) times calibration constants per model
//! and family ([`super::coef::COEF`], fitted to Yosys by the calibration tool), plus block
//! RAM and DSP counted exactly from the memory placement and the product widths.

use crate::boards::Family;

/// Structural quantities per instance.
pub const N_TERMS: usize = 4;

/// The structure of one instance, from which its LUT and FF estimates follow.
#[derive(Clone, Debug, PartialEq)]
pub struct Terms {
    /// The model (coefficient table) it is read with: the kind, and the datapath or mode
    /// where they differ (`mvau_xnor`, `mvau_mac`, `swg`, `swg_par`, `fifo`, ...).
    pub model: &'static str,
    /// Structural quantities, in bits, in the model's order ([`model_terms`] names them).
    pub x: [f64; N_TERMS],
    /// Block RAMs in the family's unit (from [`super::place_memory`] and friends).
    pub bram: u64,
    /// DSP blocks.
    pub dsp: u64,
    /// Register bits the structure in `x` counts that a block RAM primitive holds instead
    /// of the fabric (an ECP5 weight ROM's output register): taken off the fitted FF figure,
    /// and added back to the measured one when fitting.
    pub ff_in_blocks: u64,
}

/// The coefficients of one model on one family class: `lut = c[0] + sum c[i+1] * x[i]`,
/// and the same form for FF.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coef {
    pub model: &'static str,
    /// `xilinx`, `ecp5` or `ice40`.
    pub class: &'static str,
    pub lut: [f64; N_TERMS + 1],
    pub ff: [f64; N_TERMS + 1],
}

/// The coefficient class of a family: both Xilinx families are LUT6 and share theirs.
pub fn class(family: Family) -> &'static str {
    match family {
        Family::Xilinx7series | Family::XilinxUltrascale => "xilinx",
        Family::Ecp5 => "ecp5",
        Family::Ice40 => "ice40",
    }
}

/// The names of each model's structural quantities, for docs and the calibration tool.
pub fn model_terms(model: &str) -> [&'static str; N_TERMS] {
    match model {
        "mvau_xnor" | "mvau_mac" | "vvu" => [
            "io bits (output lanes x2 for the skid, input and weight registers)",
            "datapath bits (products, adder tree, accumulators)",
            "memory bits in logic (LUT ROMs, threshold ROM, input buffer)",
            "compare bits (thresholds x compare width)",
        ],
        "thresholding" => [
            "io bits (input and output lanes)",
            "compare bits (lanes x thresholds x compare width)",
            "threshold ROM bits read from logic (more than one channel fold)",
            "-",
        ],
        "label_select" => [
            "list compare and insert bits (lanes x k x (2 value + index))",
            "top-k list bits (lanes x k x (value + index))",
            "selection chain bits ((lanes - 1) x (2 value + index))",
            "list depth term (k^2 x value width)",
        ],
        "swg" => [
            "beat bits",
            "buffer bits in LUT-RAM (or registers on iCE40)",
            "address and counter bits",
            "-",
        ],
        "swg_par" => [
            "window output bits",
            "line buffer register bits",
            "counter bits",
            "-",
        ],
        "pad" => ["beat bits", "counter bits", "-", "-"],
        "pool" | "pool_sum" => [
            "input lane bits",
            "accumulator bits (lanes x output width)",
            "accumulator memory bits (more than one channel fold)",
            "-",
        ],
        "duplicate" => ["output bits (copies x beat bits)", "copies", "-", "-"],
        "add" => [
            "output beat bits (the skid buffer)",
            "sum bits (lanes x sum width)",
            "compare bits (lanes x thresholds x sum width)",
            "threshold ROM bits",
        ],
        "concat" => ["output beat bits", "inputs", "input beat bits", "-"],
        "fifo" => [
            "word bits",
            "memory bits in LUT-RAM (or registers)",
            "address bits",
            "-",
        ],
        "converter" => [
            "buffer bits (in + out lanes)",
            "buffer bits x log2(in lanes) (the write position select)",
            "buffer bits x log2(out lanes) (the shift)",
            "fill counter bits",
        ],
        _ => ["-"; N_TERMS],
    }
}

impl Terms {
    pub fn new(model: &'static str, x: [f64; N_TERMS]) -> Terms {
        Terms {
            model,
            x,
            bram: 0,
            dsp: 0,
            ff_in_blocks: 0,
        }
    }

    /// The estimate on `family`: LUT and FF from the fitted coefficients (rounded, never
    /// negative), block RAM and DSP as counted.
    pub fn cost(&self, family: Family) -> super::Cost {
        self.cost_with(super::coef::COEF, family)
    }

    /// [`Terms::cost`] with the coefficient table `coefs` (the calibration tool evaluates
    /// a fresh fit with it).
    pub fn cost_with(&self, coefs: &[Coef], family: Family) -> super::Cost {
        let c = coefs
            .iter()
            .find(|c| c.model == self.model && c.class == class(family));
        let eval = |k: &[f64; N_TERMS + 1]| -> u64 {
            let v = k[0] + k[1..].iter().zip(self.x).map(|(a, b)| a * b).sum::<f64>();
            v.max(0.0).round() as u64
        };
        super::Cost {
            lut: c.map_or(0, |c| eval(&c.lut)),
            ff: c.map_or(0, |c| eval(&c.ff).saturating_sub(self.ff_in_blocks)),
            bram: self.bram,
            dsp: self.dsp,
        }
    }
}

/// `ceil(log2(n))`, at least 1: the bits of a counter over `n` values.
pub fn counter_bits(n: usize) -> f64 {
    (usize::BITS - n.max(2).saturating_sub(1).leading_zeros()) as f64
}
