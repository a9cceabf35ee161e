//! Resource estimates per FPGA family: LUT, FF, block RAM and DSP of every engine, FIFO and
//! width converter of a design, from formulas of our own calibrated against Yosys.
//!
//! Memory placement (registers, LUT-RAM or block RAM, packed to the family's RAM shape) is
//! decided here, once, by [`place_memory`]: the templates render what it decides and the
//! estimate counts what it decides. Block RAM is counted in the family's own blocks
//! ([`Cost::bram`]): RAMB18 equivalents on Xilinx (a RAMB36 is 2), 18 kbit DP16KD on ECP5,
//! 4 kbit EBR on iCE40.
//!
//! Data flows one way: fold and report read estimates; estimates read the model, the fold
//! and the family, never a generated file.

use crate::boards::{Board, Family};
use crate::engines::engine;
use crate::ir::Model;
use crate::stitch::{Design, Role};
use serde::{Deserialize, Serialize};

/// Resources of one instance (or a sum of them) on one family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cost {
    /// Logic LUTs (LUT6 on Xilinx, LUT4 on ECP5 and iCE40), LUT-RAM included.
    pub lut: u64,
    /// Flip-flops.
    pub ff: u64,
    /// Block RAMs in the family's own unit (see the module docs).
    pub bram: u64,
    /// DSP blocks (DSP48E1/E2, ECP5 MULT18X18D, iCE40 SB_MAC16).
    pub dsp: u64,
}

impl std::ops::Add for Cost {
    type Output = Cost;
    fn add(self, o: Cost) -> Cost {
        Cost {
            lut: self.lut + o.lut,
            ff: self.ff + o.ff,
            bram: self.bram + o.bram,
            dsp: self.dsp + o.dsp,
        }
    }
}

impl std::ops::AddAssign for Cost {
    fn add_assign(&mut self, o: Cost) {
        *self = *self + o;
    }
}

impl std::iter::Sum for Cost {
    fn sum<I: Iterator<Item = Cost>>(it: I) -> Cost {
        it.fold(Cost::default(), |a, b| a + b)
    }
}

/// The resource kinds, in report order.
pub const KINDS: [&str; 4] = ["LUT", "FF", "BRAM", "DSP"];

impl Cost {
    /// The figures in [`KINDS`] order.
    pub fn figures(&self) -> [u64; 4] {
        [self.lut, self.ff, self.bram, self.dsp]
    }

    /// Whether every figure is at most `budget`'s.
    pub fn fits(&self, budget: &Cost) -> bool {
        self.figures()
            .iter()
            .zip(budget.figures())
            .all(|(a, b)| *a <= b)
    }
}

/// What a board offers, in [`Cost`]'s units, scaled by `share` (0..=1) and rounded down.
pub fn budget(board: &Board, share: f64) -> Cost {
    let bram = match board.family {
        Family::Ice40 => board.ebr_4k,
        _ => board.bram18,
    };
    let s = |v: u64| (v as f64 * share).floor() as u64;
    Cost {
        lut: s(board.lut),
        ff: s(board.ff),
        bram: s(bram),
        dsp: s(board.dsp),
    }
}

/// Where a memory of `depth` words of `width` bits lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Memory {
    /// Logic (a ROM folded into LUTs, or registers).
    Logic,
    /// Distributed (LUT) RAM.
    LutRam,
    /// Block RAM: `blocks` of the family's unit.
    Block { blocks: u64 },
}

impl Memory {
    /// The Verilog `rom_style`/`ram_style` attribute value the templates give it.
    pub fn style(self) -> &'static str {
        match self {
            Memory::Logic | Memory::LutRam => "distributed",
            Memory::Block { .. } => "block",
        }
    }
}

/// Where a read-only memory of `depth` words of `width` bits goes on `family`.
pub fn place_memory(family: Family, depth: usize, width: usize) -> Memory {
    let (block, _) = crate::engines::rom_shape_rule(depth, width);
    if !block {
        return Memory::Logic;
    }
    let blocks = match family {
        Family::Xilinx7series | Family::XilinxUltrascale => {
            crate::emit::resources::bram18_for_rom(depth, width)
        }
        // ECP5 DP16KD: 16K x 1 .. 512 x 36 (18 kbit)
        Family::Ecp5 => crate::emit::resources::bram18_for_rom(depth, width),
        // iCE40 EBR: 256 x 16, 512 x 8, 1K x 4, 2K x 2 (4 kbit)
        Family::Ice40 => {
            let modes = [(256usize, 16usize), (512, 8), (1024, 4), (2048, 2)];
            modes
                .iter()
                .map(|&(d, w)| depth.div_ceil(d) * width.div_ceil(w))
                .min()
                .unwrap_or(0)
        }
    } as u64;
    Memory::Block { blocks }
}

/// A FIFO of `depth` words of `width` bits.
pub fn fifo(family: Family, depth: usize, width: usize) -> Cost {
    let _ = family;
    let addr = (usize::BITS - depth.max(2).saturating_sub(1).leading_zeros()) as u64;
    Cost {
        lut: (depth as u64 * width as u64).div_ceil(32) + 4 * addr,
        ff: width as u64 + 3 * addr + 2,
        bram: 0,
        dsp: 0,
    }
}

/// A width converter of `elem_bits`-bit elements from `in_lanes` to `out_lanes` a beat.
pub fn converter(family: Family, elem_bits: u32, in_lanes: usize, out_lanes: usize) -> Cost {
    let _ = family;
    let wide = (elem_bits as u64) * in_lanes.max(out_lanes) as u64;
    Cost {
        lut: wide,
        ff: wide + 8,
        bram: 0,
        dsp: 0,
    }
}

/// The estimate of one design node (engine, FIFO or converter).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCost {
    pub name: String,
    pub cost: Cost,
}

/// The estimate of a whole design on its family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignCost {
    pub family: Family,
    pub nodes: Vec<NodeCost>,
    pub total: Cost,
}

/// Estimate every node of `design` (built from `model`) on `family`.
pub fn design_cost(model: &Model, design: &Design, family: Family) -> DesignCost {
    let a = model.analyze().expect("a stitched model analyses");
    let mut nodes = Vec::new();
    for n in &design.nodes {
        let cost = match &n.role {
            Role::Engine { node, fold, .. } => {
                let id = model
                    .nodes
                    .iter()
                    .position(|m| &m.name == node)
                    .expect("a design's engine names a model node");
                engine(&model.nodes[id].op).cost(&a.in_types[id], *fold, family)
            }
            Role::Fifo { depth, width, .. } => fifo(family, *depth, *width),
            Role::Converter {
                elem_bits,
                in_lanes,
                out_lanes,
            } => converter(family, *elem_bits, *in_lanes, *out_lanes),
        };
        nodes.push(NodeCost {
            name: n.name.clone(),
            cost,
        });
    }
    let total = nodes.iter().map(|n| n.cost).sum();
    DesignCost {
        family,
        nodes,
        total,
    }
}
