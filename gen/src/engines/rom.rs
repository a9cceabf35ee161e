//! Weight ROMs instantiated as the family's block-RAM primitive
//! ([`crate::estimate::RomPrimitive`]): the matrix- and vector-vector units render their
//! weights here instead of as an inferred memory when [`crate::estimate::rom_primitive`]
//! says so. All layout arithmetic (rows, columns, `INITVAL` strings) is done here; the
//! template `lib/rom_ecp5.v` holds the structure.

use crate::emit::{EmitError, GeneratedFile, MemBuilder, render, sub_header};
use crate::estimate::RomPrimitive;
use ferrite_rtl as rtl;

/// Suffix of a ROM module's name (`<engine module>_wrom`).
pub const ROM_SUFFIX: &str = "_wrom";

/// The simulation model file of the ECP5 block (under `rtl/`): simulators read it,
/// synthesis does not (the vendor library has the cell).
pub const DP16KD_MODEL: &str = "sim/DP16KD.v";

/// ECP5 DP16KD geometry in the mode used: 1024 rows of 18 bits, 16 rows an `INITVAL`
/// (20 bits a row), port B's rows from 512.
const ROWS: usize = 1024;
const ROW_BITS: usize = 18;
const ROWS_PER_INIT: usize = 16;
const INIT_ROW_STRIDE: usize = 20;
const PORT_B_ROW: usize = 512;

/// The 18-bit row `row` of a block whose port A holds column `col_a` and port B column
/// `col_b` of `mem` (`depth` words of `width` bits).
fn row_bits(
    mem: &MemBuilder,
    depth: usize,
    width: usize,
    row: usize,
    col_a: usize,
    col_b: Option<usize>,
) -> [bool; ROW_BITS] {
    let (word, col) = if row < depth {
        (row, Some(col_a))
    } else if row >= PORT_B_ROW && row - PORT_B_ROW < depth {
        (row - PORT_B_ROW, col_b)
    } else {
        (0, None)
    };
    let mut bits = [false; ROW_BITS];
    if let Some(c) = col {
        for (j, b) in bits.iter_mut().enumerate() {
            let i = c * ROW_BITS + j;
            *b = i < width && mem.bit(word, i);
        }
    }
    bits
}

/// `INITVAL_00`..`INITVAL_3F` of one block as `(NN, 80 hex digits)`, the all-zero ones left
/// out (zero is the cell's default).
fn initvals(
    mem: &MemBuilder,
    depth: usize,
    width: usize,
    col_a: usize,
    col_b: Option<usize>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for k in 0..ROWS / ROWS_PER_INIT {
        let mut v = [false; ROWS_PER_INIT * INIT_ROW_STRIDE];
        for i in 0..ROWS_PER_INIT {
            let r = row_bits(mem, depth, width, k * ROWS_PER_INIT + i, col_a, col_b);
            v[i * INIT_ROW_STRIDE..i * INIT_ROW_STRIDE + ROW_BITS].copy_from_slice(&r);
        }
        if v.iter().all(|b| !b) {
            continue;
        }
        let hex: String = (0..v.len() / 4)
            .rev()
            .map(|d| {
                let nib = (0..4).fold(0u32, |n, j| n | ((v[d * 4 + j] as u32) << j));
                char::from_digit(nib, 16).unwrap_or('0')
            })
            .collect();
        out.push((format!("{k:02X}"), hex));
    }
    out
}

/// The ROM module of engine `engine` (header lines `parent`) holding `mem`, `depth` words
/// of `width` bits, read at an address of `addr_bits` bits, as `prim`.
pub(crate) fn render_rom(
    prim: RomPrimitive,
    engine: &str,
    parent: &[String],
    mem: &MemBuilder,
    depth: usize,
    width: usize,
    addr_bits: u32,
) -> Result<GeneratedFile, EmitError> {
    let module = format!("{engine}{ROM_SUFFIX}");
    let RomPrimitive::Ecp5Dp16kd { dual } = prim;
    let addr_bits = addr_bits as usize;
    let max_depth = if dual { PORT_B_ROW } else { ROWS };
    if depth > max_depth || addr_bits > 10 || (dual && addr_bits > 9) || width == 0 {
        return Err(EmitError::Verify(format!(
            "{module}: {depth} words of {width} bits at {addr_bits} address bits do not fit \
             the DP16KD arrangement (dual {dual})"
        )));
    }
    let cols = width.div_ceil(ROW_BITS);
    let mut blocks = Vec::new();
    let mut c = 0;
    while c < cols {
        let col_b = (dual && c + 1 < cols).then_some(c + 1);
        blocks.push(rtl::Dp16kdBlock {
            name: format!("ebr{:03}", blocks.len()),
            initvals: initvals(mem, depth, width, c, col_b),
            a_lsb: c * ROW_BITS,
            a_msb: c * ROW_BITS + ROW_BITS - 1,
            b: col_b.map(|b| (b * ROW_BITS, b * ROW_BITS + ROW_BITS - 1)),
        });
        c += if col_b.is_some() { 2 } else { 1 };
    }
    debug_assert_eq!(blocks.len() as u64, prim.blocks(width));
    let pad = |bits: usize| {
        if bits == 0 {
            "addr".to_string()
        } else {
            format!("{{{bits}'d0, addr}}")
        }
    };
    let row_a = pad(10 - addr_bits);
    let row_b = if addr_bits == 9 {
        "{1'b1, addr}".to_string()
    } else {
        format!(
            "{{1'b1, {}'d0, addr}}",
            9usize.saturating_sub(addr_bits).max(1)
        )
    };
    let all_bits = cols * ROW_BITS;
    let ctx = rtl::Ecp5Rom {
        header: sub_header(
            parent,
            &module,
            &format!(
                "weight ROM of {engine}: {depth} x {width} bits in {} ECP5 DP16KD (1K x 18{}), output registers on",
                blocks.len(),
                if dual { ", two columns a block" } else { "" }
            ),
            "lib/rom_ecp5.v",
        ),
        module: module.clone(),
        addr_msb: addr_bits - 1,
        row_a,
        row_b,
        dual: blocks.iter().any(|b| b.b.is_some()),
        row_pins: (0..10).map(|i| (i + 4, i)).collect(),
        width,
        q_msb: width - 1,
        all_msb: all_bits - 1,
        has_pad: all_bits > width,
        blocks,
    };
    Ok(GeneratedFile {
        name: format!("{module}.v"),
        contents: render(&ctx, &module)?,
    })
}

/// The file holding a unit's weights `mem` (`depth` words of `width` bits, read at
/// `addr_bits`): the ROM module of `prim` when the family instantiates one (and its
/// module name), else the `.mem` file `mem_file` of `rom_words` words (and "").
pub(crate) fn weight_rom_file(
    prim: Option<RomPrimitive>,
    engine: &str,
    parent: &[String],
    mem: MemBuilder,
    (depth, width, addr_bits): (usize, usize, u32),
    mem_file: &str,
    rom_words: usize,
) -> Result<(GeneratedFile, String), EmitError> {
    Ok(match prim {
        Some(prim) => {
            let f = render_rom(prim, engine, parent, &mem, depth, width, addr_bits)?;
            let m = f.name.trim_end_matches(".v").to_string();
            (f, m)
        }
        None => (
            GeneratedFile {
                name: mem_file.to_string(),
                contents: mem.finish(rom_words),
            },
            String::new(),
        ),
    })
}

/// The simulation model of the ECP5 block, `rtl/sim/DP16KD.v`.
pub(crate) fn dp16kd_model(parent: &[String]) -> Result<GeneratedFile, EmitError> {
    let ctx = rtl::Dp16kdModel {
        header: sub_header(
            parent,
            "DP16KD",
            "simulation model of the Lattice ECP5 block RAM (simulators only, not synthesis)",
            "lib/dp16kd_model.v",
        ),
        initvals: (0..ROWS / ROWS_PER_INIT)
            .map(|k| format!("{k:02X}"))
            .collect(),
    };
    Ok(GeneratedFile {
        name: DP16KD_MODEL.to_string(),
        contents: render(&ctx, "DP16KD")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem(depth: usize, width: usize, f: impl Fn(usize, usize) -> bool) -> MemBuilder {
        let mut m = MemBuilder::new(width);
        for w in 0..depth {
            m.push_word();
            for b in 0..width {
                if f(w, b) {
                    m.set(b, 1, 1);
                }
            }
        }
        m
    }

    /// Row r of an INITVAL list, decoded the way the cell reads it.
    fn decode(iv: &[(String, String)], row: usize) -> u32 {
        let k = format!("{:02X}", row / ROWS_PER_INIT);
        let Some((_, hex)) = iv.iter().find(|(n, _)| *n == k) else {
            return 0;
        };
        assert_eq!(hex.len(), 80);
        let bit = |i: usize| {
            let d = hex.as_bytes()[79 - i / 4] as char;
            (d.to_digit(16).unwrap() >> (i % 4)) & 1
        };
        let base = (row % ROWS_PER_INIT) * INIT_ROW_STRIDE;
        // the two bits between rows stay zero
        assert_eq!(bit(base + 18) | bit(base + 19), 0);
        (0..18).fold(0, |v, j| v | (bit(base + j) << j))
    }

    #[test]
    fn rows_hold_the_columns_of_the_words() {
        let (depth, width) = (300, 50);
        let f = |w: usize, b: usize| (w * 7 + b * 13).is_multiple_of(5);
        let m = mem(depth, width, f);
        // columns 0,1 in block 0 (A rows 0.., B rows 512..), column 2 alone in block 1
        let b0 = initvals(&m, depth, width, 0, Some(1));
        let b1 = initvals(&m, depth, width, 2, None);
        for w in 0..depth {
            let want = |c: usize| {
                (0..18).fold(0, |v, j| {
                    let i = c * 18 + j;
                    v | (((i < width && f(w, i)) as u32) << j)
                })
            };
            assert_eq!(decode(&b0, w), want(0), "word {w} column 0");
            assert_eq!(decode(&b0, 512 + w), want(1), "word {w} column 1");
            assert_eq!(decode(&b1, w), want(2), "word {w} column 2");
            assert_eq!(decode(&b1, 512 + w), 0);
        }
        for r in depth..512 {
            assert_eq!(decode(&b0, r), 0);
        }
    }

    #[test]
    fn too_deep_for_the_arrangement_is_an_error() {
        let m = mem(600, 8, |_, _| true);
        let e = render_rom(
            RomPrimitive::Ecp5Dp16kd { dual: true },
            "x",
            &[],
            &m,
            600,
            8,
            10,
        );
        assert!(e.is_err());
    }
}
