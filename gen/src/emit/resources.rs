//! Resource estimates that can be checked against synthesis.
//!
//! Block RAM: a weight ROM marked `rom_style = "block"` takes the cheapest arrangement of
//! one Xilinx 7-series block RAM primitive kind: a RAMB36 (512 x 72, 1K x 36, 2K x 18,
//! 4K x 9, 8K x 4, 16K x 2, 32K x 1) or a RAMB18 (512 x 36, 1K x 18, 2K x 9, 4K x 4, 8K x 2,
//! 16K x 1), copies side by side for width and stacked for depth. Counted in RAMB18
//! equivalents (a RAMB36 is 2). `testbench/tests/resources.rs` checks it against Yosys's
//! `synth_xilinx`.

/// (depth, width) modes of a RAMB36; a RAMB18 has the same depths at half the width.
const RAMB36_MODES: [(usize, usize); 7] = [
    (512, 72),
    (1024, 36),
    (2048, 18),
    (4096, 9),
    (8192, 4),
    (16384, 2),
    (32768, 1),
];

/// Block RAMs, in RAMB18 equivalents, of a `depth x width` ROM mapped to block RAM.
pub fn bram18_for_rom(depth: usize, width: usize) -> usize {
    if depth == 0 || width == 0 {
        return 0;
    }
    let mut best = usize::MAX;
    for (d, w) in RAMB36_MODES {
        let n36 = depth.div_ceil(d) * width.div_ceil(w);
        best = best.min(2 * n36);
        // the RAMB18 of the same depth is half as wide (1 bit wide has no RAMB18 at 32K)
        if w >= 2 {
            let n18 = depth.div_ceil(d) * width.div_ceil(w / 2);
            best = best.min(n18);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::bram18_for_rom;

    #[test]
    fn cheapest_mode() {
        // the figures Yosys 0.23 synth_xilinx gave (RAMB18 equivalents)
        assert_eq!(bram18_for_rom(196, 256), 8); // 4 RAMB36
        assert_eq!(bram18_for_rom(64, 784), 22); // 11 RAMB36
        assert_eq!(bram18_for_rom(128, 128), 4); // 2 RAMB36
        assert_eq!(bram18_for_rom(2048, 16), 2); // 1 RAMB36
        assert_eq!(bram18_for_rom(1024, 16), 1); // 1 RAMB18
        assert_eq!(bram18_for_rom(8192, 8), 4); // 2 RAMB36
        assert_eq!(bram18_for_rom(0, 8), 0);
    }
}
