//! The random-model fixture every test shares (unit, integration and co-simulation tests):
//! a deterministic generator, random thresholds and matrix-vector, vector-vector
//! (depthwise), thresholding and label-select nodes, chains of them, and fold plans. Test support, not part of the
//! compiler's pipeline; kept in the library so `gen/tests` and `ferrite-testbench` use the
//! same one.

use crate::fold::{self, Fold, FoldPlan};
use crate::ir::{
    DataType, LabelSelect, MatrixVector, Model, Op, Source, TensorType, Thresholding, Thresholds,
    VectorVector,
};

/// Deterministic pseudo-random numbers (splitmix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x7E57_BE4C_0000_0001)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo) as u64 + 1)) as i64
    }

    /// A uniformly random value of `dt`.
    pub fn value(&mut self, dt: DataType) -> i64 {
        if dt == DataType::Bipolar {
            if self.next_u64() & 1 == 1 { 1 } else { -1 }
        } else {
            self.range(dt.min(), dt.max())
        }
    }
}

/// Random ascending thresholds for `channels` channels over `lo..=hi`, giving `out` values
/// (one threshold for bipolar, `2^bits - 1` otherwise, starting at `out.min()`).
pub fn random_thresholds(
    rng: &mut Rng,
    channels: usize,
    lo: i64,
    hi: i64,
    out: DataType,
    shared: bool,
) -> Thresholds {
    let n = if out == DataType::Bipolar {
        1
    } else {
        (out.max() - out.min()) as usize
    };
    let rows = if shared { 1 } else { channels };
    // Spread the thresholds over the middle of the range (where values are likely), with
    // some equal neighbours.
    let span = (hi - lo).max(1);
    let (mlo, mhi) = (lo + span / 4, hi - span / 4);
    let rows = (0..rows)
        .map(|_| {
            let mut r: Vec<i64> = (0..n).map(|_| rng.range(mlo, mhi.max(mlo))).collect();
            r.sort();
            r
        })
        .collect();
    Thresholds {
        rows,
        out_type: out,
        out_bias: if out == DataType::Bipolar {
            0
        } else {
            out.min()
        },
    }
}

/// One node of a test chain: its name, op and the input it takes.
#[derive(Clone, Debug)]
pub struct Layer {
    pub name: String,
    pub op: Op,
    pub input: TensorType,
}

/// A random matrix-vector layer.
pub fn mv_layer(
    rng: &mut Rng,
    name: &str,
    mw: usize,
    mh: usize,
    input_type: DataType,
    weight_type: DataType,
    act: Option<DataType>,
) -> Layer {
    let weights = (0..mw * mh).map(|_| rng.value(weight_type)).collect();
    let mut l = MatrixVector {
        mw,
        mh,
        input_type,
        weight_type,
        weights,
        thresholds: None,
    };
    if let Some(out) = act {
        // Thresholds around the typical accumulator spread (sqrt(mw) * the value ranges).
        let (lo, hi) = l.acc_range();
        let typical = ((mw as f64).sqrt()
            * (input_type.max() - input_type.min()).max(1) as f64
            * (weight_type.max() - weight_type.min()).max(1) as f64) as i64;
        let c = (lo + hi) / 2;
        let (tlo, thi) = ((c - typical).max(lo), (c + typical).min(hi));
        l.thresholds = Some(random_thresholds(rng, mh, tlo, thi, out, false));
    }
    Layer {
        name: name.into(),
        op: Op::MatrixVector(l),
        input: TensorType::vector(mw, input_type),
    }
}

/// A random vector-vector (depthwise) layer: `channels` channels x `kernel` positions over
/// an `h x w` stream of windows (`h x w x (kernel*channels)`, (k, c) order).
#[allow(clippy::too_many_arguments)]
pub fn vv_layer(
    rng: &mut Rng,
    name: &str,
    [h, w]: [usize; 2],
    channels: usize,
    kernel: usize,
    input_type: DataType,
    weight_type: DataType,
    act: Option<DataType>,
) -> Layer {
    let weights = (0..channels * kernel)
        .map(|_| rng.value(weight_type))
        .collect();
    let mut l = VectorVector {
        channels,
        kernel,
        input_type,
        weight_type,
        weights,
        thresholds: None,
    };
    if let Some(out) = act {
        // thresholds around the typical accumulator spread, as for a matrix-vector layer
        let (lo, hi) = l.acc_range();
        let typical = ((kernel as f64).sqrt()
            * (input_type.max() - input_type.min()).max(1) as f64
            * (weight_type.max() - weight_type.min()).max(1) as f64) as i64;
        let c = (lo + hi) / 2;
        let (tlo, thi) = ((c - typical).max(lo), (c + typical).min(hi));
        l.thresholds = Some(random_thresholds(rng, channels, tlo, thi, out, false));
    }
    Layer {
        name: name.into(),
        op: Op::VectorVector(l),
        input: TensorType::new([h, w, kernel * channels], input_type),
    }
}

pub fn thresholding_layer(
    rng: &mut Rng,
    name: &str,
    elems: usize,
    channels: usize,
    input_type: DataType,
    out: DataType,
    shared: bool,
) -> Layer {
    let t = random_thresholds(
        rng,
        channels,
        input_type.min(),
        input_type.max(),
        out,
        shared,
    );
    Layer {
        name: name.into(),
        op: Op::Thresholding(Thresholding {
            channels,
            input_type,
            thresholds: t,
        }),
        input: TensorType::vector(elems, input_type),
    }
}

pub fn label_select_layer(name: &str, labels: usize, k: usize, input_type: DataType) -> Layer {
    Layer {
        name: name.into(),
        op: Op::LabelSelect(LabelSelect {
            labels,
            k,
            input_type,
        }),
        input: TensorType::vector(labels, input_type),
    }
}

/// A model of `layers` (which must chain) named `name`.
pub fn model(name: &str, layers: Vec<Layer>) -> Model {
    let input = layers[0].input;
    let m = Model::chain(
        name,
        input,
        layers.into_iter().map(|l| (l.name, l.op, None)),
    );
    if let Err(e) = m.validate() {
        panic!("test model `{name}` is invalid: {e}");
    }
    m
}

/// A plan folding the nodes of `model`, in their order, as `folds` (pe, simd).
pub fn plan(model: &Model, folds: &[(usize, usize)]) -> FoldPlan {
    assert_eq!(model.nodes.len(), folds.len(), "one fold a node");
    let p = FoldPlan::from_folds(
        model
            .nodes
            .iter()
            .zip(folds)
            .map(|(n, &(pe, simd))| (n.name.clone(), Fold::new(pe, simd))),
        "test",
    );
    if let Err(e) = p.check(model) {
        panic!("test plan for `{}` is illegal: {e}", model.name);
    }
    p
}

/// Expected cycles a frame of node `i` of `model` under `plan` (its engine's formula).
pub fn exp_cycles(model: &Model, plan: &FoldPlan, i: usize) -> u64 {
    let a = model.analyze().expect("a valid test model");
    fold::exp_cycles(model, &a, i, plan.fold(&model.nodes[i].name))
}

/// The type of node `i`'s output stream.
pub fn output_type(model: &Model, i: usize) -> DataType {
    let a = model.analyze().expect("a valid test model");
    a.out_types[i][0].dtype
}

/// Thresholds for `channels` channels over values in `lo..=hi` with a quarter of the span
/// beyond each end, so some of them lie outside the range (clamping must keep their
/// meaning).
pub fn wide_thresholds(
    rng: &mut Rng,
    channels: usize,
    shared: bool,
    lo: i64,
    hi: i64,
    out: DataType,
) -> Thresholds {
    let n = if out == DataType::Bipolar {
        1
    } else {
        (out.max() - out.min()) as usize
    };
    let rows = if shared { 1 } else { channels };
    let span = (hi - lo).max(1);
    let rows = (0..rows)
        .map(|_| {
            let mut row: Vec<i64> = (0..n)
                .map(|_| rng.range(lo - span / 4 - 1, hi + span / 4 + 1))
                .collect();
            row.sort();
            row
        })
        .collect();
    Thresholds {
        rows,
        out_type: out,
        out_bias: if out == DataType::Bipolar {
            0
        } else {
            out.min()
        },
    }
}

impl Layer {
    /// The type of the layer's output stream.
    pub fn output_type(&self) -> DataType {
        self.op
            .as_kind()
            .infer(&[self.input])
            .expect("a valid test layer")[0]
            .dtype
    }
}

/// Builds a graph of nodes from an input type, tracking the current stream and its type
/// (for convolutional and residual test networks): `pad`, `window`, `mvu`, `max_pool`, ...
/// each appends a node named `lNN_<kind>` reading the current stream, makes its output the
/// current stream and returns the builder.
///
/// Branches: [`Chain::duplicate`] splits the current stream into copies (a `Duplicate`
/// node) and returns them as [`Stream`]s; [`Chain::resume`] continues building from any
/// stream (a branch), [`Chain::stream`] gives the current one, and [`Chain::add`] joins two
/// streams (an `Add` node). Every stream must end up read by one node, or be the current
/// stream at [`Chain::build`] (the graph output). Nodes are named in the order they are
/// built, which is a topological order.
///
/// ```
/// use ferrite_gen::ir::{DataType, TensorType};
/// use ferrite_gen::testing::{Chain, Rng};
/// let mut rng = Rng::new(1);
/// let mut c = Chain::new(TensorType::new([4, 4, 8], DataType::UInt(2)));
/// let copies = c.duplicate(2, 2);
/// c.resume(copies[0].clone())
///     .mvu(&mut rng, 8, DataType::Int(2), Some(DataType::UInt(2)), false, (2, 4));
/// let long = c.stream();
/// c.add(&mut rng, [long, copies[1].clone()], [0, 0], Some(DataType::UInt(2)), 2);
/// let (model, plan) = c.build("residual");
/// assert_eq!(model.nodes.len(), 3);
/// assert_eq!(plan.exp_cycles_per_frame(&model), 4 * 4 * 4 * 2);
/// ```
pub struct Chain {
    pub input: TensorType,
    /// The current stream's type and producer.
    pub cur: TensorType,
    pub src: Source,
    pub nodes: Vec<(String, Op, Option<String>)>,
    /// The sources of each node's input ports, in node order.
    pub inputs: Vec<Vec<Source>>,
    /// (pe, simd) of each node, in order.
    pub folds: Vec<(usize, usize)>,
}

/// A stream of a [`Chain`] under construction: its producer and type.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    pub src: Source,
    pub ty: TensorType,
}

impl Chain {
    pub fn new(input: TensorType) -> Chain {
        Chain {
            input,
            cur: input,
            src: Source::input("input"),
            nodes: Vec::new(),
            inputs: Vec::new(),
            folds: Vec::new(),
        }
    }

    fn push(&mut self, kind: &str, op: Op, fold: (usize, usize)) -> &mut Chain {
        let cur = self.stream();
        self.push_node(kind, op, vec![cur], fold);
        self
    }

    /// Append a node reading `ins`; returns its output streams and makes output 0 current.
    fn push_node(
        &mut self,
        kind: &str,
        op: Op,
        ins: Vec<Stream>,
        fold: (usize, usize),
    ) -> Vec<Stream> {
        let name = format!("l{:02}_{kind}", self.nodes.len());
        let types: Vec<TensorType> = ins.iter().map(|s| s.ty).collect();
        let out = op
            .as_kind()
            .infer(&types)
            .unwrap_or_else(|e| panic!("test chain node {name}: {e}"));
        let outs: Vec<Stream> = out
            .iter()
            .enumerate()
            .map(|(port, &ty)| Stream {
                src: Source::node(&name, port),
                ty,
            })
            .collect();
        self.cur = outs[0].ty;
        self.src = outs[0].src.clone();
        self.nodes.push((name, op, None));
        self.inputs.push(ins.into_iter().map(|s| s.src).collect());
        self.folds.push(fold);
        outs
    }

    /// The current stream.
    pub fn stream(&self) -> Stream {
        Stream {
            src: self.src.clone(),
            ty: self.cur,
        }
    }

    /// Continue building from `s` (a copy of a duplicate, or any stream built before).
    pub fn resume(&mut self, s: Stream) -> &mut Chain {
        self.cur = s.ty;
        self.src = s.src;
        self
    }

    /// `n` copies of the current stream (a `Duplicate` node, PE `pe`); the current stream
    /// becomes copy 0.
    pub fn duplicate(&mut self, n: usize, pe: usize) -> Vec<Stream> {
        let op = Op::Duplicate(crate::ir::Duplicate {
            outputs: n,
            input_type: self.cur.dtype,
        });
        let cur = self.stream();
        self.push_node("dup", op, vec![cur], (pe, 1))
    }

    /// The elementwise sum `(a << shifts[0]) + (b << shifts[1])` of `ins = [a, b]` (an
    /// `Add` node, PE `pe`), with `act` random per-channel thresholds to `act` over the
    /// sum's range (some beyond it); the sum becomes the current stream.
    pub fn add(
        &mut self,
        rng: &mut Rng,
        ins: [Stream; 2],
        shifts: [u32; 2],
        act: Option<DataType>,
        pe: usize,
    ) -> &mut Chain {
        let mut op = crate::ir::Add {
            input_types: [ins[0].ty.dtype, ins[1].ty.dtype],
            shifts,
            thresholds: None,
        };
        if let Some(out) = act {
            let (lo, hi) = op.sum_range();
            op.thresholds = Some(wide_thresholds(
                rng,
                ins[0].ty.channels(),
                false,
                lo,
                hi,
                out,
            ));
        }
        self.push_node("add", Op::Add(op), ins.to_vec(), (pe, 1));
        self
    }

    /// The channel concatenation of `ins` (a `Concat` node, PE `pe`); it becomes the
    /// current stream.
    pub fn concat(&mut self, ins: Vec<Stream>, pe: usize) -> &mut Chain {
        let op = Op::Concat(crate::ir::Concat {
            input_types: ins.iter().map(|s| s.ty.dtype).collect(),
            channels: ins.iter().map(|s| s.ty.channels()).collect(),
        });
        self.push_node("concat", op, ins, (pe, 1));
        self
    }

    /// Padding `[top, left, bottom, right]` with `value`, SIMD `simd`.
    pub fn pad(&mut self, pads: [usize; 4], value: i64, simd: usize) -> &mut Chain {
        let op = Op::Pad(crate::ir::Pad {
            pads,
            value,
            input_type: self.cur.dtype,
        });
        self.push("pad", op, (1, simd))
    }

    /// A sliding window, SIMD `simd`.
    pub fn window(
        &mut self,
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
        simd: usize,
    ) -> &mut Chain {
        let op = Op::SlidingWindow(crate::ir::SlidingWindow {
            kernel,
            stride,
            dilation,
            pad: [0; 4],
            pad_value: 0,
            input_type: self.cur.dtype,
        });
        self.push("swg", op, (1, simd))
    }

    /// A window generator with a convolution's padding `[top, left, bottom, right]` (value
    /// 0, or -1 for bipolar), folded (pe, simd): PE 1 is the standard mode, PE = the kernel's
    /// positions with SIMD = C the parallel window.
    pub fn padded_window(
        &mut self,
        kernel: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 4],
        fold: (usize, usize),
    ) -> &mut Chain {
        let pad_value = if self.cur.dtype.contains(0) { 0 } else { -1 };
        let op = Op::SlidingWindow(crate::ir::SlidingWindow {
            kernel,
            stride,
            dilation: [1, 1],
            pad,
            pad_value,
            input_type: self.cur.dtype,
        });
        self.push("swg", op, fold)
    }

    /// A matrix-vector unit over the current channels (or the whole flattened tensor when
    /// `flatten`) with random `wt` weights and, with `act`, random thresholds.
    pub fn mvu(
        &mut self,
        rng: &mut Rng,
        mh: usize,
        wt: DataType,
        act: Option<DataType>,
        flatten: bool,
        fold: (usize, usize),
    ) -> &mut Chain {
        let mw = if flatten {
            self.cur.elems()
        } else {
            self.cur.channels()
        };
        let l = mv_layer(rng, "x", mw, mh, self.cur.dtype, wt, act);
        self.push("mvu", l.op, fold)
    }

    /// A depthwise convolution: a `kernel` window with `stride`, then a vector-vector unit
    /// with random `wt` weights and, with `act`, random thresholds; `fold` is the unit's
    /// (PE, SIMD), the window streams PE lanes (C with SIMD > 1).
    pub fn depthwise(
        &mut self,
        rng: &mut Rng,
        kernel: [usize; 2],
        stride: [usize; 2],
        wt: DataType,
        act: Option<DataType>,
        fold: (usize, usize),
    ) -> &mut Chain {
        let c = self.cur.channels();
        let simd = if fold.1 == 1 { fold.0 } else { c };
        self.window(kernel, stride, [1, 1], simd);
        let k = kernel[0] * kernel[1];
        let [h, w, _] = self.cur.shape;
        let l = vv_layer(rng, "x", [h, w], c, k, self.cur.dtype, wt, act);
        self.push("vvu", l.op, fold)
    }

    /// A pool over the current windowed stream of `positions` positions.
    pub fn pool(
        &mut self,
        mode: crate::ir::PoolMode,
        positions: usize,
        global: bool,
        pe: usize,
    ) -> &mut Chain {
        let channels = if global {
            self.cur.channels()
        } else {
            self.cur.channels() / positions
        };
        let op = Op::Pool(crate::ir::Pool {
            mode,
            channels,
            positions,
            global,
            input_type: self.cur.dtype,
        });
        self.push("pool", op, (pe, 1))
    }

    /// Max pooling: a window of `k` with stride `s`, then a max pool, both `simd` lanes.
    pub fn max_pool(&mut self, k: usize, s: usize, simd: usize) -> &mut Chain {
        self.window([k, k], [s, s], [1, 1], simd);
        self.pool(crate::ir::PoolMode::Max, k * k, false, simd)
    }

    /// A standalone threshold activation of the current channels to `out`, PE `pe`.
    pub fn thresholds(&mut self, rng: &mut Rng, out: DataType, pe: usize) -> &mut Chain {
        let c = self.cur.channels();
        let l = thresholding_layer(rng, "x", self.cur.elems(), c, self.cur.dtype, out, false);
        self.push("thr", l.op, (pe, 1))
    }

    /// A label select of the top `k`.
    pub fn label_select(&mut self, k: usize, pe: usize) -> &mut Chain {
        let op = Op::LabelSelect(LabelSelect {
            labels: self.cur.elems(),
            k,
            input_type: self.cur.dtype,
        });
        self.push("top", op, (pe, 1))
    }

    /// The model (its output the current stream) and its plan.
    pub fn build(&self, name: &str) -> (Model, FoldPlan) {
        let mut m = Model::chain(name, self.input, self.nodes.clone());
        for (n, ins) in m.nodes.iter_mut().zip(&self.inputs) {
            n.inputs = ins.clone();
        }
        m.outputs = vec![self.src.clone()];
        if let Err(e) = m.validate() {
            panic!("test model `{name}` is invalid: {e}");
        }
        let p = plan(&m, &self.folds);
        (m, p)
    }
}

/// One branch of a residual block ([`Chain::residual`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Branch {
    /// The copy goes straight to the add.
    Identity,
    /// A standalone threshold activation of the C channels (to the block's input type), PE
    /// `pe`.
    Thresholds { pe: usize },
    /// A 1x1 convolution: a matrix-vector unit C -> C with thresholds (to the block's input
    /// type), folded (pe, simd).
    Conv1x1 { pe: usize, simd: usize },
    /// A 3x3 convolution keeping the size: pad 1 and a window at `simd` lanes (a divisor of
    /// C), a matrix-vector unit C -> C with thresholds (to the block's input type) folded
    /// (pe, simd).
    Conv3x3 { pe: usize, simd: usize },
}

impl Chain {
    /// Append `b` to the current stream, with `wt` weights.
    pub fn branch(&mut self, rng: &mut Rng, b: Branch, wt: DataType) -> &mut Chain {
        let (act, c) = (self.cur.dtype, self.cur.channels());
        match b {
            Branch::Identity => self,
            Branch::Thresholds { pe } => self.thresholds(rng, act, pe),
            Branch::Conv1x1 { pe, simd } => self.mvu(rng, c, wt, Some(act), false, (pe, simd)),
            Branch::Conv3x3 { pe, simd } => {
                let v = if act.contains(0) { 0 } else { act.min() };
                self.pad([1, 1, 1, 1], v, simd)
                    .window([3, 3], [1, 1], [1, 1], simd)
                    .mvu(rng, c, wt, Some(act), false, (pe, simd))
            }
        }
    }

    /// A residual block on the current stream: a `Duplicate` (PE `b.pe`), `b.long` on
    /// copy 0 and `b.short` on copy 1, rejoined by an `Add` (PE `b.pe`, no shifts) with
    /// random thresholds back to the block's input type, which becomes the current stream.
    /// The branches keep the type and shape, so blocks chain.
    pub fn residual(&mut self, rng: &mut Rng, b: Block) -> &mut Chain {
        let act = self.cur.dtype;
        let copies = self.duplicate(2, b.pe);
        self.resume(copies[0].clone())
            .branch(rng, b.long, b.weights);
        let x = self.stream();
        self.resume(copies[1].clone())
            .branch(rng, b.short, b.weights);
        let y = self.stream();
        self.add(rng, [x, y], [0, 0], Some(act), b.pe)
    }
}

/// A residual block ([`Chain::residual`]): its two branches, the weight type of their
/// convolutions, and the PE of its Duplicate and Add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub long: Branch,
    pub short: Branch,
    pub weights: DataType,
    pub pe: usize,
}

/// A residual network for tests: `input` (H x W x C of an activation type, the branches'
/// types too) through `blocks` residual blocks `b` ([`Chain::residual`]); its model (named
/// `name`) and plan.
pub fn residual(
    rng: &mut Rng,
    name: &str,
    input: TensorType,
    blocks: usize,
    b: Block,
) -> (Model, FoldPlan) {
    let mut c = Chain::new(input);
    for _ in 0..blocks {
        c.residual(rng, b);
    }
    c.build(name)
}

/// FINN's CNV topology (3x3 convs 64-64-pool-128-128-pool-256-256, FC 512-512-10, top-1)
/// on a 32x32x3 UINT8 image with random `wt` weights and `at` activations (random
/// thresholds), folded as FINN's published folding for w1a1 (`w2a2 == false`) or w2a2.
pub fn cnv(rng: &mut Rng, wt: DataType, at: DataType, w2a2: bool) -> (Model, FoldPlan) {
    let mv: [(usize, usize); 9] = if w2a2 {
        [
            (8, 3),
            (16, 16),
            (8, 16),
            (8, 16),
            (4, 8),
            (1, 8),
            (1, 2),
            (2, 2),
            (5, 1),
        ]
    } else {
        [
            (16, 3),
            (32, 32),
            (16, 32),
            (16, 32),
            (4, 32),
            (1, 32),
            (1, 4),
            (1, 8),
            (5, 1),
        ]
    };
    let mut c = Chain::new(TensorType::new([32, 32, 3], DataType::UInt(8)));
    let a = Some(at);
    let convs = [64, 64, 128, 128, 256, 256];
    for (i, &ch) in convs.iter().enumerate() {
        // each window generator has its convolution's SIMD
        c.window([3, 3], [1, 1], [1, 1], mv[i].1);
        c.mvu(rng, ch, wt, a, false, mv[i]);
        if i == 1 || i == 3 {
            // pooling at the producing convolution's PE
            c.max_pool(2, 2, mv[i].0);
        }
    }
    c.mvu(rng, 512, wt, a, true, mv[6]);
    c.mvu(rng, 512, wt, a, false, mv[7]);
    c.mvu(rng, 10, wt, None, false, mv[8]);
    c.label_select(1, 1);
    c.build(if w2a2 { "cnv_w2a2" } else { "cnv_w1a1" })
}

/// The ECP5 ROM module ferrite renders for `words` (each `width` <= 64 bits, at most 1024
/// words), named `module`: for tests that compare its block contents with the blocks Yosys
/// infers for the same memory.
pub fn ecp5_rom_verilog(module: &str, width: usize, words: &[u64]) -> Result<String, String> {
    use crate::estimate::{Memory, RomPrimitive};
    let mut m = crate::emit::MemBuilder::new(width);
    for &w in words {
        m.push_word();
        m.set(0, width as u32, w);
    }
    let depth = words.len();
    let prim = crate::estimate::rom_primitive(
        crate::boards::Family::Ecp5,
        Memory::Block { blocks: 1 },
        depth,
        width,
    )
    .unwrap_or(RomPrimitive::Ecp5Dp16kd { dual: false });
    let engine = module
        .strip_suffix(crate::engines::rom::ROM_SUFFIX)
        .ok_or("module must end in _wrom")?;
    crate::engines::rom::render_rom(
        prim,
        engine,
        &[],
        &m,
        depth,
        width,
        crate::emit::counter_bits(depth),
    )
    .map(|f| f.contents)
    .map_err(|e| e.to_string())
}
