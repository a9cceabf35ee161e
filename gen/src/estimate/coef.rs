//! Calibration constants of the resource estimates, written by the calibration tool
//! (`cargo run --release -p ferrite-testbench --bin calibrate`) from Yosys's counts in
//! `testbench/fixtures/calibration.json`: per model and family class, LUT and FF =
//! c[0] + c[1] x[0] + ... + c[4] x[3] over the model's structural quantities
//! ([`super::model_terms`]). Do not edit by hand: rerun the tool.

use super::model::Coef;

pub const COEF: &[Coef] = &[
    Coef {
        model: "add",
        class: "ecp5",
        lut: [3.714, 2.571, 0.0, 0.0, 0.0],
        ff: [2.452, 2.278, 0.1452, 0.0, 0.0],
    },
    Coef {
        model: "add",
        class: "ice40",
        lut: [8.0, 1.75, 0.0, 0.0, 0.0],
        ff: [2.452, 2.278, 0.1452, 0.0, 0.0],
    },
    Coef {
        model: "add",
        class: "xilinx",
        lut: [4.286, 2.179, 0.0, 0.0, 0.0],
        ff: [2.285, 2.242, 0.2495, 0.0, 0.0],
    },
    Coef {
        model: "concat",
        class: "ecp5",
        lut: [3.989, 0.5971, 7.934, 0.9871, 0.0],
        ff: [1.289, 0.5249, 2.498, 0.6661, 0.0],
    },
    Coef {
        model: "concat",
        class: "ice40",
        lut: [0.782, 1.551, 1.551, 3.003, 0.0],
        ff: [0.4405, 0.8556, 0.8556, 1.534, 0.0],
    },
    Coef {
        model: "concat",
        class: "xilinx",
        lut: [0.5142, 1.008, 1.008, 1.864, 0.0],
        ff: [0.4405, 0.8556, 0.8556, 1.534, 0.0],
    },
    Coef {
        model: "converter",
        class: "ecp5",
        lut: [0.08927, 6.275, 0.714, 0.6248, 0.0],
        ff: [0.02671, 1.014, 0.2114, 0.1854, 0.0],
    },
    Coef {
        model: "converter",
        class: "ice40",
        lut: [0.05293, 3.541, 0.423, 0.3702, 0.0],
        ff: [0.02671, 1.014, 0.2114, 0.1854, 0.0],
    },
    Coef {
        model: "converter",
        class: "xilinx",
        lut: [0.04706, 3.078, 0.376, 0.3291, 0.0],
        ff: [0.02671, 1.014, 0.2114, 0.1854, 0.0],
    },
    Coef {
        model: "duplicate",
        class: "ecp5",
        lut: [3.621, 1.0, 7.189, 0.0, 0.0],
        ff: [1.215, 2.0, 2.392, 0.0, 0.0],
    },
    Coef {
        model: "duplicate",
        class: "ice40",
        lut: [3.222, 1.0, 6.389, 0.0, 0.0],
        ff: [1.215, 2.0, 2.392, 0.0, 0.0],
    },
    Coef {
        model: "duplicate",
        class: "xilinx",
        lut: [2.226, 1.0, 4.387, 0.0, 0.0],
        ff: [1.215, 2.0, 2.392, 0.0, 0.0],
    },
    Coef {
        model: "fifo",
        class: "ecp5",
        lut: [0.09192, 0.6263, 0.8628, 0.09192, 0.0],
        ff: [0.08604, 0.5022, 0.5506, 0.08604, 0.0],
    },
    Coef {
        model: "fifo",
        class: "ice40",
        lut: [0.09355, 0.6468, 0.9149, 0.09355, 0.0],
        ff: [0.1124, 0.8365, 1.38, 0.1124, 0.0],
    },
    Coef {
        model: "fifo",
        class: "xilinx",
        lut: [0.08704, 0.5445, 0.6544, 0.08704, 0.0],
        ff: [0.08604, 0.5022, 0.5506, 0.08604, 0.0],
    },
    Coef {
        model: "label_select",
        class: "ecp5",
        lut: [0.0, 1.663, 2.387, 1.663, 0.0],
        ff: [7.0, 0.8255, 1.066, 0.8255, 0.0],
    },
    Coef {
        model: "label_select",
        class: "ice40",
        lut: [0.0, 1.284, 1.776, 1.284, 0.0],
        ff: [8.222, 0.7892, 1.013, 0.7892, 0.0],
    },
    Coef {
        model: "label_select",
        class: "xilinx",
        lut: [0.0, 0.9475, 1.235, 0.9475, 0.0],
        ff: [7.0, 0.8255, 1.066, 0.8255, 0.0],
    },
    Coef {
        model: "mvau_xnor",
        class: "ecp5",
        lut: [0.004487, 0.1974, 0.4796, 0.1364, 0.09235],
        ff: [0.01065, 0.2278, 0.2305, 0.07685, 0.1555],
    },
    Coef {
        model: "mvau_xnor",
        class: "ice40",
        lut: [0.01599, 0.1928, 0.09282, 0.9523, 0.1892],
        ff: [0.01812, 0.1815, 0.02644, 0.8393, 0.2044],
    },
    Coef {
        model: "mvau_xnor",
        class: "xilinx",
        lut: [0.009862, 0.1715, 0.1917, 0.1316, 0.1313],
        ff: [0.009652, 0.242, 0.2616, 0.0676, 0.1518],
    },
    Coef {
        model: "pad",
        class: "ecp5",
        lut: [0.4087, 2.251, 3.509, 0.0, 0.0],
        ff: [0.2287, 2.077, 1.462, 0.0, 0.0],
    },
    Coef {
        model: "pad",
        class: "ice40",
        lut: [0.4112, 1.929, 3.573, 0.0, 0.0],
        ff: [0.2287, 2.077, 1.462, 0.0, 0.0],
    },
    Coef {
        model: "pad",
        class: "xilinx",
        lut: [0.306, 1.898, 2.39, 0.0, 0.0],
        ff: [0.2312, 1.916, 1.494, 0.0, 0.0],
    },
    Coef {
        model: "pool",
        class: "ecp5",
        lut: [0.7486, 3.891, 3.891, 2.586, 0.0],
        ff: [0.4064, 1.725, 1.725, 1.587, 0.0],
    },
    Coef {
        model: "pool",
        class: "ice40",
        lut: [0.5958, 2.4, 2.4, 2.85, 0.0],
        ff: [0.4064, 1.725, 1.725, 1.587, 0.0],
    },
    Coef {
        model: "pool",
        class: "xilinx",
        lut: [0.4909, 2.344, 2.344, 1.766, 0.0],
        ff: [0.4064, 1.725, 1.725, 1.587, 0.0],
    },
    Coef {
        model: "swg",
        class: "ecp5",
        lut: [0.004921, 0.0, 0.273, 3.667, 0.0],
        ff: [0.03054, 1.833, 0.1589, 0.0, 0.0],
    },
    Coef {
        model: "swg",
        class: "ice40",
        lut: [0.01713, 0.2986, 0.331, 0.2986, 0.0],
        ff: [0.02448, 2.5, 0.194, 0.0, 0.0],
    },
    Coef {
        model: "swg",
        class: "xilinx",
        lut: [0.01058, 0.0, 0.1414, 1.5, 0.0],
        ff: [0.03148, 1.333, 0.1688, 0.0, 0.0],
    },
    Coef {
        model: "thresholding",
        class: "ecp5",
        lut: [0.01166, 0.1957, 0.3328, 0.2909, 0.0],
        ff: [0.03966, 0.1178, 0.08344, 0.07475, 0.0],
    },
    Coef {
        model: "thresholding",
        class: "ice40",
        lut: [0.03043, 0.0, 0.0, 0.1513, 0.0],
        ff: [0.03966, 0.1178, 0.08344, 0.07475, 0.0],
    },
    Coef {
        model: "thresholding",
        class: "xilinx",
        lut: [0.01959, 0.3016, 0.3351, 0.091, 0.0],
        ff: [0.03966, 0.1178, 0.08344, 0.07475, 0.0],
    },
    Coef {
        model: "vvu",
        class: "ecp5",
        lut: [0.009829, 0.5107, 0.7022, 0.2025, 0.8871],
        ff: [0.01021, 0.427, 0.5584, 0.1558, 0.6501],
    },
    Coef {
        model: "vvu",
        class: "ice40",
        lut: [0.008799, 0.3568, 0.5763, 0.3333, 0.6069],
        ff: [0.008999, 0.3122, 0.4743, 0.3158, 0.4918],
    },
    Coef {
        model: "vvu",
        class: "xilinx",
        lut: [0.01017, 0.3339, 0.4584, 0.1466, 0.4641],
        ff: [0.009602, 0.3644, 0.5356, 0.1583, 0.5508],
    },
];
