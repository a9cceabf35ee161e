//! FIFO depths from analysis: how many beats each FIFO of a stitched design must hold for
//! the pipeline to reach its bottleneck rate without deadlock.
//!
//! # Method
//!
//! Every engine describes its cycle-by-cycle behaviour as a [`Schedule`]
//! ([`Engine::schedule`](crate::engines::Engine::schedule)): the steps it takes, which steps
//! read a beat from which input port, which produce a beat on which output port and how many
//! cycles later that beat enters the next FIFO. Width converters are modelled from the
//! gearbox RTL. [`analyze`] expands the schedules of a few frames into a graph of events
//! (one event a step and one a produced beat) joined by constraints "event `v` happens at
//! least `d` cycles after event `u`": consecutive steps of an engine, an input beat read at
//! least 2 cycles after it was written into its FIFO (the FIFO's registered read), the
//! window generator's buffer (a window starts once its last beat is written; a beat is
//! written once the window that frees its slot is done), the label select's hand-over of
//! its lists, the converter's buffer. Every engine of ferrite fires each event as soon as
//! its constraints allow, and waits longer only while an output is full: the RTL is a
//! monotone max-plus system.
//!
//! From these constraints the analysis builds two reference schedules in which the
//! bottleneck engine (the slowest; the first of them in stream order) runs at its full rate
//! and nothing ever waits on a full FIFO:
//! - *pull*: the bottleneck's events as soon as its own constraints allow (input always
//!   there); its ancestors (everything upstream of it) **as late as possible** for the
//!   bottleneck to get every input beat in time (a backward pass); everything else
//!   (downstream, and the other side of a branch) **as soon as possible** (a forward pass);
//! - *paced*: everything as soon as possible, the graph input offered evenly at the
//!   bottleneck's cycles a frame.
//!
//! Each reference is then compacted ([`compact`]): an event that only reads from FIFOs moves
//! as early as its predecessors allow, one that only writes into FIFOs as late as its
//! successors allow; neither breaks a constraint and both only empty FIFOs (the window
//! generator's writer, pulled late behind a late window, takes its beats into its own
//! buffer instead of leaving them in the FIFO in front of it).
//!
//! Each FIFO then needs the depth that lets every write of a reference happen: for beat
//! `j` written at `w_j`, `j + 1 - #{reads before w_j}` (the FIFO's `tready` is its
//! registered count). Because the reference meets every constraint of the real design with
//! those depths, and the real design fires every event as early as its constraints allow,
//! the real design is never later than the reference (least solution of a monotone
//! system): it reaches the bottleneck's rate and cannot deadlock. A FIFO streaming one beat
//! a cycle needs 3 beats (a write, the registered read, the beat in flight). The short side
//! of a branch that rejoins at a lockstep engine (Add) holds the long side's latency and
//! bursts this way: its reads wait for the long side. The reference needing fewer FIFO bits
//! is kept.
//!
//! **Frames.** A reference covers the frames expanded only, and the forward passes reach
//! their periodic regime after a transient (on the ResNet example, each padded stage
//! downstream of the bottleneck settles a frame after the one before it: the FIFO in front
//! of the third needs 40 beats from frame 3 on, 23 before). [`analyze`] expands 4 frames and
//! doubles them (up to [`MAX_FRAMES`]) until every stream the forward passes schedule
//! repeats, shifted by the bottleneck's cycles a frame, from one frame to the next (the
//! last frame, which [`compact`] leaves unbounded, aside). A max-plus system whose frame
//! repeats the one before repeats it forever, so the depths hold for any number of frames.
//!
//! **Shrinking.** The references keep upstream engines to a fixed plan; the RTL lets them
//! run ahead and stall on full FIFOs instead. [`shrink`] then takes the biggest FIFOs (in
//! bits), one at a time, to the smallest power of two (a binary search) at which the least
//! schedule of the event graph with every FIFO bounded (a write waits for the read that
//! frees its slot, [`least`]: the RTL's own behaviour, the graph input offered at the
//! bottleneck's pace) keeps every bottleneck event where it was with the reference depths
//! and repeats from frame to frame. That least
//! schedule is itself a reference for the smaller depths (it meets every constraint), so
//! the argument above holds for it; the RTL, whose input is always valid, is never later.
//! On FINN's CNV this takes the FIFOs from tens of kilobits to about two (the convolutions
//! upstream of the burst-reading fully connected bottleneck have slack: with small FIFOs
//! they stall instead of parking beats). A deadlock shows as a cycle of constraints and is
//! refused.
//!
//! Depths are rounded up to a power of two (the FIFO primitive takes `DEPTH =
//! 2**ADDR_WIDTH`), at least 2, and capped at [`MAX_FIFO_DEPTH`] (with the reason in the
//! design manifest). The FIFO after the graph input gets the streaming minimum: the top's
//! input is taken as always valid.
//!
//! Limits of the model: its guarantee is only as good as each engine's schedule, its
//! latencies above all (a beat modelled as leaving a cycle early makes every FIFO after it
//! look a beat emptier); the Duplicate, the Concat and the Add take theirs from their RTL
//! (1; 1; 2, or 3 with thresholds), the Duplicate modelled in lockstep (its sent flags let one
//! output run ahead: the RTL is only earlier), the Concat reading one input port a step (its
//! blocks of a pixel in turn, as its RTL). The co-simulation test `fifo_depth` checks the depths
//! against the smallest that reach the rate.

use crate::engines::swg::SwgParams;
use std::collections::BTreeSet;

/// Largest FIFO the analysis builds, in beats; a bigger need is capped and says so.
pub const MAX_FIFO_DEPTH: usize = 1 << 16;

/// Frames the analysis expands.
pub const FRAMES: usize = 4;

/// Beats a FIFO streaming one beat a cycle holds: the beat written, the beat in the
/// registered read, the beat being taken.
pub const STREAM_NEED: usize = 3;

/// One step of a one-thread schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Cycles after the previous step, at least (1: the next cycle).
    pub gap: u32,
    /// Input ports (bit `p`) a beat is read from at this step.
    pub consume: u32,
    /// Output ports (bit `p`) a beat is produced on at this step.
    pub produce: u32,
    /// Input ports whose next beat must be offered at this step without being read (the
    /// pad engine starts a frame only once its input has begun).
    pub peek: u32,
}

impl Step {
    /// A step one cycle after the previous one reading from `consume` and producing on
    /// `produce` (port bit masks).
    pub const fn new(consume: u32, produce: u32) -> Step {
        Step {
            gap: 1,
            consume,
            produce,
            peek: 0,
        }
    }
}

/// An engine's production and consumption schedule (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// One thread: `pattern` repeated `repeat` times a frame; a produced beat enters the
    /// next FIFO `latency` cycles after its step.
    Steps {
        pattern: Vec<Step>,
        repeat: usize,
        latency: u32,
        /// How the engine reads and writes, for the manifest's reasons ("reads ...",
        /// "emits ...").
        reads: String,
        emits: String,
    },
    /// The sliding-window generator's circular buffer, writer and reader (`engines/swg.v`).
    Window(SwgParams),
    /// The label select: reads `beats` beats a frame, then hands its lists over and emits
    /// `k` indices while the next frame is read (`engines/label_select.v`).
    LabelSelect { beats: usize, k: usize },
}

impl Schedule {
    /// The default: a streaming engine that reads every input port and writes every output
    /// port in lockstep, one step a cycle, `latency` cycles from a step to its beats in the
    /// next FIFO. Ports with fewer beats a frame than the busiest one are spread evenly.
    pub fn streaming(in_beats: &[usize], out_beats: &[usize], latency: u32) -> Schedule {
        let steps = in_beats
            .iter()
            .chain(out_beats)
            .copied()
            .max()
            .unwrap_or(1)
            .max(1);
        let uniform = in_beats.iter().chain(out_beats).all(|&b| b == steps);
        let all_in = ((1u64 << in_beats.len()) - 1) as u32;
        let all_out = ((1u64 << out_beats.len()) - 1) as u32;
        let (pattern, repeat) = if uniform {
            (vec![Step::new(all_in, all_out)], steps)
        } else {
            // beat b of a port with n beats a frame sits at step floor(b * steps / n)
            let mut pat = vec![Step::new(0, 0); steps];
            for (p, &n) in in_beats.iter().enumerate() {
                for b in 0..n {
                    pat[b * steps / n].consume |= 1 << p;
                }
            }
            for (p, &n) in out_beats.iter().enumerate() {
                for b in 0..n {
                    pat[b * steps / n].produce |= 1 << p;
                }
            }
            (pat, 1)
        };
        Schedule::Steps {
            pattern,
            repeat,
            latency,
            reads: "reads one beat a cycle".into(),
            emits: "emits one beat a cycle".into(),
        }
    }

    /// Beats a frame on each input port and each output port.
    pub fn beats(&self) -> (Vec<usize>, Vec<usize>) {
        match self {
            Schedule::Steps {
                pattern, repeat, ..
            } => {
                let count = |f: &dyn Fn(&Step) -> u32| {
                    let mut v = vec![0usize; 32];
                    for s in pattern {
                        for (p, n) in v.iter_mut().enumerate() {
                            if f(s) & (1 << p) != 0 {
                                *n += repeat;
                            }
                        }
                    }
                    let used = v.iter().rposition(|&n| n > 0).map_or(0, |i| i + 1);
                    v.truncate(used);
                    v
                };
                (count(&|s| s.consume), count(&|s| s.produce))
            }
            Schedule::Window(p) => (vec![p.in_beats()], vec![p.out_beats()]),
            Schedule::LabelSelect { beats, k } => (vec![*beats], vec![*k]),
        }
    }

    fn reads(&self) -> String {
        match self {
            Schedule::Steps { reads, .. } => reads.clone(),
            Schedule::Window(p) if p.parallel() => format!(
                "shifts one pixel a cycle into its line buffer of {} pixels; after a frame, \
                 up to {} trailing shifts take the next frame's first pixels",
                p.line_pixels(),
                p.trailing()
            ),
            Schedule::Window(p) => format!(
                "fills its window buffer ({} beats, a window spans {} of them: {} rows) before \
                 each window and stops reading when the buffer is full{}",
                p.depth(),
                p.span(),
                (p.k_h - 1) * p.dil_h,
                if p.padded() {
                    "; writes its padding without reading"
                } else {
                    ""
                }
            ),
            Schedule::LabelSelect { beats, k } => format!(
                "reads {beats} beats a frame one a cycle, then stops until its {k} indices \
                 of the previous frame are out"
            ),
        }
    }

    fn emits(&self) -> String {
        match self {
            Schedule::Steps { emits, .. } => emits.clone(),
            Schedule::Window(p) if p.parallel() => {
                "emits a whole window on the shift of its bottom-right pixel".to_string()
            }
            Schedule::Window(p) => format!(
                "emits a {}-beat window a cycle a beat once the window's last beat is in",
                p.window_beats()
            ),
            Schedule::LabelSelect { k, .. } => {
                format!("emits its {k} indices at the end of a frame")
            }
        }
    }
}

/// A node of the analysed network.
#[derive(Clone, Debug)]
pub enum ActorKind {
    /// An engine, its schedule and its cycles a frame.
    Engine { schedule: Schedule, exp_cycles: u64 },
    /// A width converter (`lib/gearbox.v`): `in_lanes` elements a beat in, `out_lanes` out.
    Converter { in_lanes: usize, out_lanes: usize },
}

#[derive(Clone, Debug)]
pub struct Actor {
    pub name: String,
    pub kind: ActorKind,
}

/// A stream between two actors (or from the graph input: `from = None`).
#[derive(Clone, Debug)]
pub struct Link {
    /// Producer (actor, output port); `None` for the graph input.
    pub from: Option<(usize, usize)>,
    /// Consumer (actor, input port).
    pub to: (usize, usize),
    /// Whether a FIFO sits on it (else the producer feeds a converter directly).
    pub fifo: bool,
    /// Bits of a beat (what the reference with fewer FIFO bits is chosen by).
    pub bits: usize,
}

/// What the analysis found for one FIFO link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FifoNeed {
    /// Index into the links given.
    pub link: usize,
    /// Beats the reference schedule needs (before rounding).
    pub need: usize,
    /// The FIFO's depth: a power of two, at least 2, at most [`MAX_FIFO_DEPTH`].
    pub depth: usize,
    /// Which schedule features sized it.
    pub why: String,
}

/// The result of [`analyze`].
#[derive(Clone, Debug)]
pub struct Analysis {
    /// One entry a FIFO link, in link order.
    pub fifos: Vec<FifoNeed>,
    /// The actor whose rate the reference keeps.
    pub bottleneck: usize,
    /// Which reference schedule sized the FIFOs.
    pub reference: Reference,
    /// Events expanded.
    pub events: usize,
    /// Frames expanded.
    pub frames: usize,
    /// Whether the reference settled (repeats frame to frame) within the frames expanded.
    pub settled: bool,
    /// Bounded-FIFO schedules evaluated by the shrinking pass.
    pub shrunk: usize,
}

/// The two reference schedules the analysis builds; it keeps the one needing fewer FIFO
/// bits. Both meet every constraint of the design, so either gives safe depths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// The bottleneck at full rate, its ancestors as late as possible, the rest as soon as
    /// possible: good when engines upstream of the bottleneck burst on demand.
    Pull,
    /// Everything as soon as possible with the graph input fed evenly at the bottleneck's
    /// rate: good when the bottleneck reads in long bursts (a fully connected layer reading
    /// its whole input during its first fold) after engines with slack.
    Paced,
}

impl Reference {
    fn describe(self) -> &'static str {
        match self {
            Reference::Pull => "bottleneck at full rate, upstream as late as possible",
            Reference::Paced => {
                "input fed evenly at the bottleneck's rate, all as soon as possible"
            }
        }
    }
}

const BIG: i64 = 1 << 50;

/// Event graph under construction.
#[derive(Default)]
struct Graph {
    /// Owner actor of each event.
    owner: Vec<u32>,
    /// (from, to, delay): `t[to] >= t[from] + delay`.
    edges: Vec<(u32, u32, i32)>,
}

impl Graph {
    fn event(&mut self, actor: usize) -> u32 {
        self.owner.push(actor as u32);
        (self.owner.len() - 1) as u32
    }
    fn after(&mut self, from: u32, to: u32, d: i32) {
        self.edges.push((from, to, d));
    }
}

/// Per actor: event ids of each input port's reads (beat order), of its peeks (event, port,
/// beat), and of each output port's beats entering the next element: a step and the cycles
/// after it (a beat leaves exactly that long after its step: it never waits in the skid
/// buffer in the reference, or the engine would stall).
#[derive(Default, Clone)]
struct Ports {
    reads: Vec<Vec<u32>>,
    peeks: Vec<(u32, usize, usize)>,
    writes: Vec<Vec<(u32, i32)>>,
}

fn port_vec<T: Clone>(n: usize) -> Vec<Vec<T>> {
    vec![Vec::new(); n]
}

/// Expand one engine's schedule over `frames` frames.
fn expand_engine(g: &mut Graph, a: usize, s: &Schedule, frames: usize) -> Ports {
    let (ib, ob) = s.beats();
    let mut ports = Ports {
        reads: port_vec(ib.len()),
        peeks: Vec::new(),
        writes: port_vec(ob.len()),
    };
    match s {
        Schedule::Steps {
            pattern,
            repeat,
            latency,
            ..
        } => {
            let mut prev: Option<u32> = None;
            for _ in 0..frames * repeat {
                for st in pattern {
                    let e = g.event(a);
                    if let Some(p) = prev {
                        g.after(p, e, st.gap as i32);
                    }
                    prev = Some(e);
                    for (p, r) in ports.reads.iter_mut().enumerate() {
                        if st.peek & (1 << p) != 0 {
                            ports.peeks.push((e, p, r.len()));
                        }
                        if st.consume & (1 << p) != 0 {
                            r.push(e);
                        }
                    }
                    for (p, w) in ports.writes.iter_mut().enumerate() {
                        if st.produce & (1 << p) != 0 {
                            w.push((e, *latency as i32));
                        }
                    }
                }
            }
        }
        Schedule::Window(p) if p.parallel() => {
            // one shift a cycle: the frames' pixels, then the last frame's trailing shifts
            // (pad pixels, no input); a window leaves on the shift of its bottom-right pixel,
            // its beat in the next FIFO 2 cycles later (output register, skid buffer)
            let hw = p.ifm_h * p.ifm_w;
            let mut emits = vec![false; frames * hw + p.trailing()];
            for f in 0..frames {
                for oh in 0..p.ofm_h() {
                    for ow in 0..p.ofm_w() {
                        emits[f * hw + p.trigger(oh, ow)] = true;
                    }
                }
            }
            let mut prev: Option<u32> = None;
            for (i, &emit) in emits.iter().enumerate() {
                let e = g.event(a);
                if let Some(q) = prev {
                    g.after(q, e, 1);
                }
                prev = Some(e);
                if i < frames * hw {
                    ports.reads[0].push(e);
                }
                if emit {
                    ports.writes[0].push((e, 2));
                }
            }
        }
        Schedule::Window(p) => {
            let (d, span, t) = (p.depth(), p.span(), p.window_beats());
            let raster = p.raster_beats();
            let (cf, rw) = (p.cf(), p.raster_w());
            // windows' top-left beats over all frames, ascending
            let mut tls = Vec::new();
            for f in 0..frames {
                for oh in 0..p.ofm_h() {
                    for ow in 0..p.ofm_w() {
                        tls.push(f * raster + (oh * p.stride_h * rw + ow * p.stride_w) * cf);
                    }
                }
            }
            // raster beats inside the input (read from it) and outside (padding)
            let [pt, pl, _, _] = p.pad;
            let inside = |g: usize| {
                let pos = g % raster / cf;
                let (y, x) = (pos / rw, pos % rw);
                y >= pt && y < pt + p.ifm_h && x >= pl && x < pl + p.ifm_w
            };
            // reader: T reads a window, one a cycle; each read's beat enters the next FIFO 2
            // cycles later (registered read, skid buffer)
            let mut first = Vec::with_capacity(tls.len());
            let mut done = Vec::with_capacity(tls.len());
            let mut prev: Option<u32> = None;
            for _ in &tls {
                for k in 0..t {
                    let e = g.event(a);
                    if let Some(q) = prev {
                        g.after(q, e, 1);
                    }
                    prev = Some(e);
                    if k == 0 {
                        first.push(e);
                    }
                    if k == t - 1 {
                        done.push(e);
                    }
                    ports.writes[0].push((e, 2));
                }
            }
            // writer: one beat a cycle while (written - current top-left) < depth
            let mut prev: Option<u32> = None;
            let mut writes = Vec::with_capacity(frames * raster);
            let mut q = 0usize; // windows with tl <= g - d: 0..q
            for gi in 0..frames * raster {
                let e = g.event(a);
                if let Some(pv) = prev {
                    g.after(pv, e, 1);
                }
                prev = Some(e);
                while q < tls.len() && gi >= d && tls[q] <= gi - d {
                    q += 1;
                }
                if q > 0 {
                    g.after(done[q - 1], e, 1);
                }
                writes.push(e);
                if inside(gi) {
                    ports.reads[0].push(e);
                } else if gi % raster == 0 {
                    // a frame's first pad beat waits for its first input beat
                    ports.peeks.push((e, 0, ports.reads[0].len()));
                }
            }
            // a window starts the cycle after its last beat is written
            for (w, &tl) in tls.iter().enumerate() {
                let last = tl + span - 1;
                if last < writes.len() {
                    g.after(writes[last], first[w], 1);
                }
            }
        }
        Schedule::LabelSelect { beats, k } => {
            let mut prev: Option<u32> = None;
            let mut prev_pop: Option<u32> = None;
            let mut prev_xfer: Option<u32> = None;
            for _ in 0..frames {
                let mut last = None;
                for b in 0..*beats {
                    let e = g.event(a);
                    if let Some(pv) = prev {
                        g.after(pv, e, 1);
                    }
                    if b == 0
                        && let Some(x) = prev_xfer
                    {
                        g.after(x, e, 0);
                    }
                    prev = Some(e);
                    last = Some(e);
                    ports.reads[0].push(e);
                }
                // the lists move out once the frame is read and the previous indices are out
                let x = g.event(a);
                if let Some(l) = last {
                    g.after(l, x, 1);
                }
                if let Some(pp) = prev_pop {
                    g.after(pp, x, 0);
                }
                prev_xfer = Some(x);
                let mut pv = x;
                for _ in 0..*k {
                    let e = g.event(a);
                    g.after(pv, e, 1);
                    pv = e;
                    ports.writes[0].push((e, 1));
                }
                prev_pop = Some(pv);
            }
        }
    }
    ports
}

/// Expand a width converter whose input beats are `inputs` (the producer's writes) or, fed
/// by the graph input, `n` fresh events.
fn expand_converter(
    g: &mut Graph,
    a: usize,
    in_lanes: usize,
    out_lanes: usize,
    inputs: Option<&[(u32, i32)]>,
    n: usize,
) -> Ports {
    let ins: Vec<(u32, i32)> = match inputs {
        Some(v) => v.to_vec(),
        None => {
            let mut v: Vec<(u32, i32)> = Vec::with_capacity(n);
            for i in 0..n {
                let e = g.event(a);
                if i > 0 {
                    g.after(v[i - 1].0, e, 1);
                }
                v.push((e, 0));
            }
            v
        }
    };
    let (il, ol) = (in_lanes, out_lanes);
    let n_out = ins.len() * il / ol;
    let mut outs: Vec<u32> = Vec::with_capacity(n_out);
    for j in 0..n_out {
        let e = g.event(a);
        if j > 0 {
            g.after(outs[j - 1], e, 1);
        }
        // the input beat that completes output j
        let (ie, io) = ins[((j + 1) * ol).div_ceil(il) - 1];
        g.after(ie, e, io + 1);
        outs.push(e);
    }
    // input i waits until at most one output's worth of bits is held (its producer stalls)
    for (i, &(ie, io)) in ins.iter().enumerate() {
        let m = (i * il).div_ceil(ol).saturating_sub(1);
        if m >= 1 && m - 1 < outs.len() {
            g.after(outs[m - 1], ie, 1 - io);
        }
    }
    Ports {
        reads: vec![if inputs.is_none() {
            ins.iter().map(|x| x.0).collect()
        } else {
            Vec::new()
        }],
        peeks: Vec::new(),
        writes: vec![outs.into_iter().map(|e| (e, 0)).collect()],
    }
}

/// Order in which actors can be expanded: producers before the converters they feed.
fn actor_order(actors: &[Actor], links: &[Link]) -> Vec<usize> {
    let n = actors.len();
    let mut indeg = vec![0usize; n];
    let mut succ = vec![Vec::new(); n];
    for l in links {
        if let Some((f, _)) = l.from {
            succ[f].push(l.to.0);
            indeg[l.to.0] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).rev().collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &s in &succ[i] {
            indeg[s] -= 1;
            if indeg[s] == 0 {
                ready.push(s);
            }
        }
    }
    assert_eq!(order.len(), n, "the network is a DAG");
    order
}

/// Most frames the analysis expands while waiting for the reference to settle.
pub const MAX_FRAMES: usize = 32;

/// Events the analysis expands at most while waiting for the reference to settle (beyond
/// its first expansion).
const MAX_EVENTS: usize = 24_000_000;

/// Analyse the network: the depth every FIFO link needs (see the module doc). Expands
/// `frames` frames (at least 3), then doubles them until the reference has settled: the
/// streams the forward pass schedules repeat exactly, shifted by the bottleneck's cycles a
/// frame, over their last two frames (a max-plus system driven at a fixed period becomes
/// periodic after a transient, and once one frame repeats the previous one every later
/// frame does too).
pub fn analyze(actors: &[Actor], links: &[Link], frames: usize) -> Analysis {
    let mut frames = frames.max(4);
    loop {
        let (r, settled) = analyze_once(actors, links, frames);
        if settled || frames * 2 > MAX_FRAMES || r.events * 2 > MAX_EVENTS {
            return r;
        }
        frames *= 2;
    }
}

fn analyze_once(actors: &[Actor], links: &[Link], frames: usize) -> (Analysis, bool) {
    let n = actors.len();
    let mut g = Graph::default();
    let mut ports: Vec<Ports> = vec![Ports::default(); n];
    for a in actor_order(actors, links) {
        ports[a] = match &actors[a].kind {
            ActorKind::Engine { schedule, .. } => expand_engine(&mut g, a, schedule, frames),
            ActorKind::Converter {
                in_lanes,
                out_lanes,
            } => {
                let l = links
                    .iter()
                    .find(|l| l.to == (a, 0))
                    .expect("a converter input");
                // fed directly, its reads are its producer's writes; behind a FIFO (a
                // converter to fewer lanes) it reads the FIFO, one event a beat
                let inputs = l
                    .from
                    .filter(|_| !l.fifo)
                    .map(|(f, p)| ports[f].writes[p].clone());
                let n_in = match l.from {
                    Some((f, p)) if l.fifo => ports[f].writes[p].len(),
                    Some(_) => 0,
                    None => {
                        // fed by the graph input: as many beats as its consumer reads
                        let down = links
                            .iter()
                            .find(|k| k.from == Some((a, 0)))
                            .expect("a converter output");
                        let c = &actors[down.to.0];
                        let want = match &c.kind {
                            ActorKind::Engine { schedule, .. } => schedule.beats().0[down.to.1],
                            ActorKind::Converter { .. } => 0,
                        };
                        want * frames * out_lanes / in_lanes
                    }
                };
                expand_converter(&mut g, a, *in_lanes, *out_lanes, inputs.as_deref(), n_in)
            }
        };
    }
    // FIFO links: read j at least 2 cycles after write j; peeks likewise
    for l in links.iter().filter(|l| l.fifo) {
        let Some((f, fp)) = l.from else { continue };
        let (c, cp) = l.to;
        let (w, r) = (&ports[f].writes[fp], &ports[c].reads[cp]);
        assert_eq!(
            w.len(),
            r.len(),
            "beats on the stream `{}` -> `{}`",
            actors[f].name,
            actors[c].name
        );
        let edges: Vec<(u32, u32, i32)> = w
            .iter()
            .zip(r)
            .map(|(&(a, off), &b)| (a, b, off + 2))
            .collect();
        g.edges.extend(edges);
        let peeks: Vec<(u32, u32, i32)> = ports[c]
            .peeks
            .iter()
            .filter(|(_, p, b)| *p == cp && *b < w.len())
            .map(|&(e, _, b)| (w[b].0, e, w[b].1 + 2))
            .collect();
        g.edges.extend(peeks);
    }
    // events reading from a FIFO and writing into one (bit 0: reads, bit 1: writes)
    let mut io = vec![0u8; g.owner.len()];
    for l in links.iter().filter(|l| l.fifo) {
        let (c, cp) = l.to;
        for &e in &ports[c].reads[cp] {
            io[e as usize] |= 1;
        }
        if let Some((f, fp)) = l.from {
            for &(e, _) in &ports[f].writes[fp] {
                io[e as usize] |= 2;
            }
        }
    }
    let adj = Adjacency::new(&g);
    // the graph input's beats, for the paced reference: (event, beat, beats a frame, delay)
    let mut inputs: Vec<(u32, usize, usize, i64)> = Vec::new();
    for l in links.iter().filter(|l| l.from.is_none()) {
        let (c, cp) = l.to;
        let r = &ports[c].reads[cp];
        let n = (r.len() / frames.max(1)).max(1);
        let d = if l.fifo { 2 } else { 0 };
        inputs.extend(r.iter().enumerate().map(|(j, &e)| (e, j, n, d)));
    }
    // (FIFO bits, reference, bottleneck, (need, peak beat) a FIFO link, settled)
    type Choice = (usize, Reference, usize, Vec<(usize, usize)>, bool);
    let mut best: Option<Choice> = None;
    for reference in [Reference::Pull, Reference::Paced] {
        let (mut t, b) = schedule_reference(actors, links, &g, &adj, reference, &inputs);
        compact(&adj, &io, &mut t);
        let forward = forward_region(actors, links, b, reference);
        let period = match actors[b].kind {
            ActorKind::Engine { exp_cycles, .. } => exp_cycles as i64,
            ActorKind::Converter { .. } => 0,
        };
        let mut settled = true;
        let mut bits = 0usize;
        let mut needs = Vec::new();
        for l in links.iter().filter(|l| l.fifo) {
            let (c, cp) = l.to;
            let (need, at) = match l.from {
                None => (STREAM_NEED, 0),
                Some((f, fp)) => {
                    let w: Vec<i64> = ports[f].writes[fp]
                        .iter()
                        .map(|&(e, off)| t[e as usize] + off as i64)
                        .collect();
                    let r: Vec<i64> = ports[c].reads[cp].iter().map(|&e| t[e as usize]).collect();
                    if forward[c] {
                        settled &= repeats(&w, frames, period) && repeats(&r, frames, period);
                    }
                    peak(&w, &r)
                }
            };
            bits += round_depth(need) * l.bits.max(1);
            needs.push((need, at));
        }
        if best.as_ref().is_none_or(|x| bits < x.0) {
            best = Some((bits, reference, b, needs, settled));
        }
    }
    let (_, reference, bottleneck, needs, settled) = best.expect("two references");
    let fifo_links: Vec<usize> = (0..links.len()).filter(|&i| links[i].fifo).collect();
    let mut depths: Vec<usize> = needs.iter().map(|&(n, _)| round_depth(n)).collect();
    let shrunk = if settled {
        shrink(
            actors,
            links,
            &fifo_links,
            &ports,
            &adj,
            &inputs,
            bottleneck,
            frames,
            &mut depths,
        )
    } else {
        0
    };

    // depths
    let mut fifos = Vec::new();
    let fifo_links = links.iter().enumerate().filter(|(_, l)| l.fifo);
    for (((li, l), (need, at)), depth) in fifo_links.zip(needs).zip(depths) {
        let (c, _) = l.to;
        let Some((f, fp)) = l.from else {
            fifos.push(FifoNeed {
                link: li,
                need,
                depth: round_depth(need),
                why: format!(
                    "the graph input, taken as always valid: {STREAM_NEED} beats keep one beat a \
                     cycle flowing through the FIFO's registered read"
                ),
            });
            continue;
        };
        let beats_a_frame = ports[f].writes[fp].len() / frames.max(1);
        let frame = at.checked_div(beats_a_frame).unwrap_or(0);
        let mut why = reason(actors, links, l, f, c, need, round_depth(need), frame);
        if depth < round_depth(need) {
            why.push_str(&format!(
                "; shrunk to {depth}: with the FIFOs bounded, the event model run as the RTL \
                 runs (every event as early as it may) keeps the bottleneck's every event"
            ));
        }
        why.push_str(&format!(
            " (reference: {}; {frames} frames, {})",
            reference.describe(),
            if settled {
                "settled"
            } else {
                "NOT settled: the depths cover those frames only"
            }
        ));
        fifos.push(FifoNeed {
            link: li,
            need,
            depth,
            why,
        });
    }
    (
        Analysis {
            fifos,
            bottleneck,
            reference,
            events: g.owner.len(),
            frames,
            settled,
            shrunk,
        },
        settled,
    )
}

/// The least schedule of the event graph with every FIFO link bounded by `depths`, the
/// graph input offered evenly at `period` cycles a frame: every event as early as its
/// constraints allow (as the RTL runs), a beat written into a FIFO only while the FIFO's
/// registered count is below its depth. The RTL, whose input is always valid, is never
/// later. `None` if the constraints are cyclic (a deadlock).
#[allow(clippy::too_many_arguments)]
fn least(
    links: &[Link],
    fifo_links: &[usize],
    ports: &[Ports],
    adj: &Adjacency,
    inputs: &[(u32, usize, usize, i64)],
    period: i64,
    depths: &[usize],
) -> Option<Vec<i64>> {
    let ne = adj.topo.len();
    // write j of a FIFO of depth D waits for read j - D: t[w_j] + off >= t[r_{j-D}] + 1
    let mut extra: Vec<(u32, u32, i32)> = Vec::new();
    for (k, &li) in fifo_links.iter().enumerate() {
        let l = &links[li];
        let Some((f, fp)) = l.from else { continue };
        let (c, cp) = l.to;
        let (w, r) = (&ports[f].writes[fp], &ports[c].reads[cp]);
        let d = depths[k];
        for j in d..w.len() {
            let (we, off) = w[j];
            extra.push((r[j - d], we, 1 - off));
        }
    }
    extra.sort_unstable_by_key(|e| e.0);
    let mut start = vec![0u32; ne + 1];
    for e in &extra {
        start[e.0 as usize + 1] += 1;
    }
    for i in 0..ne {
        start[i + 1] += start[i];
    }
    let mut indeg: Vec<u32> = (0..ne).map(|i| adj.ps[i + 1] - adj.ps[i]).collect();
    for e in &extra {
        indeg[e.1 as usize] += 1;
    }
    let mut t = vec![0i64; ne];
    for &(e, j, n, d) in inputs {
        let (f, k) = ((j / n) as i64, (j % n) as i64);
        t[e as usize] = t[e as usize].max(f * period + k * period / n as i64 + d);
    }
    let mut stack: Vec<u32> = (0..ne as u32).filter(|&i| indeg[i as usize] == 0).collect();
    let mut done = 0usize;
    while let Some(i) = stack.pop() {
        done += 1;
        let ti = t[i as usize];
        let more = extra[start[i as usize] as usize..start[i as usize + 1] as usize]
            .iter()
            .map(|e| (e.1, e.2));
        for (s, d) in adj.succs(i).iter().copied().chain(more) {
            let v = ti + d as i64;
            if v > t[s as usize] {
                t[s as usize] = v;
            }
            indeg[s as usize] -= 1;
            if indeg[s as usize] == 0 {
                stack.push(s);
            }
        }
    }
    (done == ne).then_some(t)
}

/// Most least-schedule evaluations [`shrink`] makes.
const SHRINK_EVALS: usize = 24;

/// Shrink FIFOs below what the reference needs while the bounded event model keeps the
/// bottleneck's schedule: the biggest FIFOs (in bits) first, each to the smallest power of
/// two (a binary search) at which the least schedule ([`least`]) keeps every event of the
/// bottleneck at its time with the reference depths and repeats frame to frame. That least schedule is
/// itself a reference meeting every constraint with the smaller depths, so the argument of
/// the module doc holds for it. Returns the evaluations made.
#[allow(clippy::too_many_arguments)]
fn shrink(
    actors: &[Actor],
    links: &[Link],
    fifo_links: &[usize],
    ports: &[Ports],
    adj: &Adjacency,
    inputs: &[(u32, usize, usize, i64)],
    b: usize,
    frames: usize,
    depths: &mut [usize],
) -> usize {
    let period = match actors[b].kind {
        ActorKind::Engine { exp_cycles, .. } => exp_cycles as i64,
        ActorKind::Converter { .. } => return 0,
    };
    let owned: Vec<u32> = {
        let mut v = Vec::new();
        for (k, l) in links.iter().enumerate() {
            let _ = k;
            if l.to.0 == b || l.from.is_some_and(|(f, _)| f == b) {
                // reads and writes of the bottleneck stand for its schedule
                if l.to.0 == b {
                    v.extend(ports[b].reads[l.to.1].iter().copied());
                } else if let Some((_, fp)) = l.from {
                    v.extend(ports[b].writes[fp].iter().map(|x| x.0));
                }
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    };
    let settled = |t: &[i64]| {
        fifo_links.iter().all(|&li| {
            let l = &links[li];
            let Some((f, fp)) = l.from else { return true };
            let (c, cp) = l.to;
            let w: Vec<i64> = ports[f].writes[fp]
                .iter()
                .map(|&(e, off)| t[e as usize] + off as i64)
                .collect();
            let r: Vec<i64> = ports[c].reads[cp].iter().map(|&e| t[e as usize]).collect();
            repeats_last(&w, frames, period) && repeats_last(&r, frames, period)
        })
    };
    let mut evals = 1;
    let Some(base) = least(links, fifo_links, ports, adj, inputs, period, depths) else {
        return evals;
    };
    if !settled(&base) {
        return evals;
    }
    let keeps = |t: &[i64]| owned.iter().all(|&e| t[e as usize] == base[e as usize]);
    let mut order: Vec<usize> = (0..fifo_links.len())
        .filter(|&k| depths[k] >= 8 && links[fifo_links[k]].from.is_some())
        .collect();
    order.sort_by_key(|&k| std::cmp::Reverse(depths[k] * links[fifo_links[k]].bits.max(1)));
    // per FIFO, a binary search over the exponent (a smaller depth only delays events)
    for k in order {
        let (mut lo, mut hi) = (1u32, depths[k].trailing_zeros());
        while lo < hi && evals < SHRINK_EVALS {
            let mid = (lo + hi) / 2;
            let old = depths[k];
            depths[k] = 1 << mid;
            evals += 1;
            let ok = least(links, fifo_links, ports, adj, inputs, period, depths)
                .is_some_and(|t| keeps(&t) && settled(&t));
            depths[k] = old;
            if ok {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        depths[k] = 1 << hi;
    }
    evals
}

/// Whether the last frame of a stream's beat times repeats the frame before it `period`
/// cycles later.
fn repeats_last(times: &[i64], frames: usize, period: i64) -> bool {
    let n = times.len() / frames.max(1);
    if frames < 2 || n == 0 {
        return true;
    }
    let (prev, last) = (
        &times[(frames - 2) * n..(frames - 1) * n],
        &times[(frames - 1) * n..],
    );
    prev.iter().zip(last).all(|(&a, &b)| b - a == period)
}

/// Whether the second-to-last frame of a stream's beat times (`frames` frames of equal
/// length) repeats the frame before it `period` cycles later (beats the reference leaves
/// unscheduled are skipped). The last frame is left out: [`compact`] moves its writes
/// later than the earlier frames' (no next frame holds them back).
fn repeats(times: &[i64], frames: usize, period: i64) -> bool {
    let n = times.len() / frames.max(1);
    if frames < 3 || n == 0 {
        return true;
    }
    let (prev, last) = (
        &times[(frames - 3) * n..(frames - 2) * n],
        &times[(frames - 2) * n..(frames - 1) * n],
    );
    prev.iter()
        .zip(last)
        .all(|(&a, &b)| a.abs() >= BIG / 2 || b.abs() >= BIG / 2 || b - a == period)
}

/// Actors the reference schedules as soon as possible (whose streams must settle): all of
/// them in the paced reference; in the pull reference those neither the bottleneck nor
/// upstream of it.
fn forward_region(actors: &[Actor], links: &[Link], b: usize, reference: Reference) -> Vec<bool> {
    let mut fwd = vec![true; actors.len()];
    if reference == Reference::Pull {
        fwd[b] = false;
        let mut stack = vec![b];
        while let Some(x) = stack.pop() {
            for l in links.iter().filter(|l| l.to.0 == x) {
                if let Some((f, _)) = l.from
                    && fwd[f]
                {
                    fwd[f] = false;
                    stack.push(f);
                }
            }
        }
    }
    fwd
}

/// Power of two, at least 2, at most [`MAX_FIFO_DEPTH`].
pub fn round_depth(need: usize) -> usize {
    need.max(2).next_power_of_two().min(MAX_FIFO_DEPTH)
}

/// `max_j (j + 1 - #{k: r_k < w_j})` over the beats both sides reach in the reference, and
/// the beat where it is reached.
fn peak(w: &[i64], r: &[i64]) -> (usize, usize) {
    let mut best = (1usize, 0usize);
    let mut k = 0usize;
    for (j, &wj) in w.iter().enumerate() {
        if wj.abs() >= BIG / 2 || r.get(j).is_none_or(|x| x.abs() >= BIG / 2) {
            continue;
        }
        while k < r.len() && r[k] < wj {
            k += 1;
        }
        let need = (j + 1).saturating_sub(k);
        if need > best.0 {
            best = (need, j);
        }
    }
    best
}

#[allow(clippy::too_many_arguments)]
fn reason(
    actors: &[Actor],
    links: &[Link],
    l: &Link,
    f: usize,
    c: usize,
    need: usize,
    depth: usize,
    frame: usize,
) -> String {
    let emits = match &actors[f].kind {
        ActorKind::Engine { schedule, .. } => schedule.emits(),
        ActorKind::Converter {
            in_lanes,
            out_lanes,
        } => format!("converts {in_lanes} lanes a beat to {out_lanes}"),
    };
    let reads = match &actors[c].kind {
        ActorKind::Engine { schedule, .. } => schedule.reads(),
        ActorKind::Converter { .. } => "converts widths".into(),
    };
    let inputs = links.iter().filter(|k| k.to.0 == c).count();
    let mut why = if need <= STREAM_NEED {
        format!(
            "{need} beats: one beat a cycle through the FIFO's registered read (`{}` {emits}; `{}` {reads})",
            actors[f].name, actors[c].name
        )
    } else {
        format!(
            "{need} beats at the peak (frame {frame}): `{}` {emits}; `{}` {reads}",
            actors[f].name, actors[c].name
        )
    };
    if inputs > 1 && need > STREAM_NEED {
        why.push_str(&format!(
            "; a branch rejoins at `{}` (input {}), which reads its inputs by its schedule (in \
             lockstep, or one after another): this side holds the other side's latency and bursts",
            actors[c].name, l.to.1
        ));
    }
    if need > MAX_FIFO_DEPTH {
        why.push_str(&format!(
            "; capped at {MAX_FIFO_DEPTH} beats (ferrite builds no larger FIFO): the pipeline \
             loses rate here, refold to shorten the bursts"
        ));
    } else if depth > need {
        why.push_str(&format!("; rounded up to {depth}, a power of two"));
    }
    why
}

/// Predecessors and successors of every event (CSR), and a topological order.
struct Adjacency {
    ps: Vec<u32>,
    pa: Vec<(u32, i32)>,
    ss: Vec<u32>,
    sa: Vec<(u32, i32)>,
    topo: Vec<u32>,
}

impl Adjacency {
    fn new(g: &Graph) -> Adjacency {
        let ne = g.owner.len();
        let csr = |key: fn(&(u32, u32, i32)) -> u32, other: fn(&(u32, u32, i32)) -> u32| {
            let mut start = vec![0u32; ne + 1];
            for e in &g.edges {
                start[key(e) as usize + 1] += 1;
            }
            for i in 0..ne {
                start[i + 1] += start[i];
            }
            let mut fill = start.clone();
            let mut adj = vec![(0u32, 0i32); g.edges.len()];
            for e in &g.edges {
                let k = key(e) as usize;
                adj[fill[k] as usize] = (other(e), e.2);
                fill[k] += 1;
            }
            (start, adj)
        };
        let (ps, pa) = csr(|e| e.1, |e| e.0);
        let (ss, sa) = csr(|e| e.0, |e| e.1);
        let mut indeg: Vec<u32> = (0..ne).map(|i| ps[i + 1] - ps[i]).collect();
        let mut topo = Vec::with_capacity(ne);
        let mut stack: Vec<u32> = (0..ne as u32).filter(|&i| indeg[i as usize] == 0).collect();
        while let Some(i) = stack.pop() {
            topo.push(i);
            for &(s, _) in &sa[ss[i as usize] as usize..ss[i as usize + 1] as usize] {
                indeg[s as usize] -= 1;
                if indeg[s as usize] == 0 {
                    stack.push(s);
                }
            }
        }
        assert_eq!(topo.len(), ne, "the event graph has no cycle");
        Adjacency {
            ps,
            pa,
            ss,
            sa,
            topo,
        }
    }
    fn preds(&self, e: u32) -> &[(u32, i32)] {
        &self.pa[self.ps[e as usize] as usize..self.ps[e as usize + 1] as usize]
    }
    fn succs(&self, e: u32) -> &[(u32, i32)] {
        &self.sa[self.ss[e as usize] as usize..self.ss[e as usize + 1] as usize]
    }
}

/// Tighten a reference without breaking any constraint: an event that only reads from
/// FIFOs moves as early as its predecessors allow (forward, in topological order), an event
/// that only writes into FIFOs as late as its successors allow (backward). Either can only
/// lower the occupancy of the FIFOs it touches, and every constraint stays met (an event
/// moved earlier keeps its successors' constraints, one moved later its predecessors').
/// The engines upstream of a burst-reading bottleneck, scheduled as late as possible, park
/// beats in the FIFO in front of a window generator that the generator's own buffer can
/// hold: this moves them there.
fn compact(adj: &Adjacency, io: &[u8], t: &mut [i64]) {
    let finite = |x: i64| x.abs() < BIG / 2;
    for &e in &adj.topo {
        let e = e as usize;
        if io[e] != 1 || !finite(t[e]) {
            continue;
        }
        let mut v = i64::MIN;
        for &(p, d) in adj.preds(e as u32) {
            v = v.max(t[p as usize] + d as i64);
        }
        if v > i64::MIN && v < t[e] {
            t[e] = v;
        }
    }
    for &e in adj.topo.iter().rev() {
        let e = e as usize;
        if io[e] != 2 || !finite(t[e]) {
            continue;
        }
        let mut v = i64::MAX;
        for &(s, d) in adj.succs(e as u32) {
            v = v.min(t[s as usize] - d as i64);
        }
        if finite(v) && v > t[e] {
            t[e] = v;
        }
    }
}

/// The reference schedule: times of every event, and the bottleneck actor.
fn schedule_reference(
    actors: &[Actor],
    links: &[Link],
    g: &Graph,
    adj: &Adjacency,
    reference: Reference,
    inputs: &[(u32, usize, usize, i64)],
) -> (Vec<i64>, usize) {
    let ne = g.owner.len();
    // bottleneck: the slowest engine, the first in actor order among equals
    let order = actor_order(actors, links);
    let mut b = order[0];
    let mut best = 0u64;
    for &a in &order {
        if let ActorKind::Engine { exp_cycles, .. } = actors[a].kind
            && exp_cycles > best
        {
            best = exp_cycles;
            b = a;
        }
    }
    // ancestors of the bottleneck
    let mut up = BTreeSet::new();
    let mut stack = vec![b];
    while let Some(x) = stack.pop() {
        for l in links.iter().filter(|l| l.to.0 == x) {
            if let Some((f, _)) = l.from
                && up.insert(f)
            {
                stack.push(f);
            }
        }
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Region {
        Up,
        B,
        Down,
    }
    let region_of: Vec<Region> = (0..actors.len())
        .map(|a| {
            if a == b {
                Region::B
            } else if up.contains(&a) {
                Region::Up
            } else {
                Region::Down
            }
        })
        .collect();
    let region = |e: u32| region_of[g.owner[e as usize] as usize];

    let mut t = vec![0i64; ne];
    if reference == Reference::Paced {
        // input beat j of a frame of n at f*P + floor(k*P/n), everything as soon as possible
        let p = best as i64;
        let mut lower = vec![i64::MIN; ne];
        for &(e, j, n, d) in inputs {
            let (f, k) = ((j / n) as i64, (j % n) as i64);
            lower[e as usize] = lower[e as usize].max(f * p + k * p / n as i64 + d);
        }
        for &e in &adj.topo {
            let mut v = lower[e as usize];
            for &(q, d) in adj.preds(e) {
                v = v.max(t[q as usize] + d as i64);
            }
            t[e as usize] = if v == i64::MIN { 0 } else { v };
        }
        return (t, b);
    }
    // 1. the bottleneck alone, as soon as possible, its inputs always there
    for &e in &adj.topo {
        if region(e) != Region::B {
            continue;
        }
        let mut v = 0i64;
        for &(p, d) in adj.preds(e) {
            if region(p) == Region::B {
                v = v.max(t[p as usize] + d as i64);
            }
        }
        t[e as usize] = v;
    }
    // 2. its ancestors as late as possible
    for &e in adj.topo.iter().rev() {
        if region(e) != Region::Up {
            continue;
        }
        let mut v = BIG;
        for &(s, d) in adj.succs(e) {
            if region(s) != Region::Down {
                v = v.min(t[s as usize] - d as i64);
            }
        }
        t[e as usize] = v;
    }
    // 3. the rest as soon as possible
    for &e in &adj.topo {
        if region(e) != Region::Down {
            continue;
        }
        let mut v = i64::MIN;
        for &(p, d) in adj.preds(e) {
            v = v.max(t[p as usize] + d as i64);
        }
        t[e as usize] = if v == i64::MIN { 0 } else { v.min(BIG) };
    }
    (t, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eng(name: &str, schedule: Schedule) -> Actor {
        let (ib, ob) = schedule.beats();
        let exp = match &schedule {
            Schedule::Steps {
                pattern, repeat, ..
            } => pattern.iter().map(|s| s.gap as u64).sum::<u64>() * *repeat as u64,
            Schedule::Window(p) => p.exp_cycles(),
            Schedule::LabelSelect { beats, k } => (*beats).max(*k) as u64,
        };
        let _ = (ib, ob);
        Actor {
            name: name.into(),
            kind: ActorKind::Engine {
                schedule,
                exp_cycles: exp,
            },
        }
    }

    fn stream(beats: usize, latency: u32) -> Schedule {
        Schedule::streaming(&[beats], &[beats], latency)
    }

    /// A matrix-vector-like schedule: `vectors` vectors of `sf` beats, `nf` folds.
    fn mvau(vectors: usize, sf: usize, nf: usize) -> Schedule {
        let mut pattern = Vec::new();
        for s in 0..sf {
            pattern.push(Step::new(1, u32::from(s == sf - 1)));
        }
        for _ in 1..nf {
            pattern.push(Step {
                gap: sf as u32,
                consume: 0,
                produce: 1,
                peek: 0,
            });
        }
        Schedule::Steps {
            pattern,
            repeat: vectors,
            latency: 5,
            reads: "mvau".into(),
            emits: "mvau".into(),
        }
    }

    fn chain(names_and: Vec<Actor>) -> (Vec<Actor>, Vec<Link>) {
        let n = names_and.len();
        let mut links = vec![Link {
            from: None,
            to: (0, 0),
            fifo: true,
            bits: 1,
        }];
        for i in 1..n {
            links.push(Link {
                from: Some((i - 1, 0)),
                to: (i, 0),
                fifo: true,
                bits: 1,
            });
        }
        (names_and, links)
    }

    #[test]
    fn streaming_chain_needs_the_minimum() {
        let (a, l) = chain(vec![eng("a", stream(64, 2)), eng("b", stream(64, 2))]);
        let r = analyze(&a, &l, 3);
        assert_eq!(r.fifos.len(), 2);
        for f in &r.fifos {
            assert!(f.need <= STREAM_NEED, "{f:?}");
            assert_eq!(f.depth, 4);
        }
    }

    #[test]
    fn burst_reader_after_slow_writer_holds_a_vector() {
        // a: 1 beat every 4 cycles (an mvau with sf 4, nf 8 producing 8 beats per 32
        // cycles); b: reads 8-beat vectors during its first of 8 folds (the bottleneck)
        let a = mvau(8, 4, 8); // 32 in, 64 out, 256 cycles
        let b = mvau(8, 8, 8); // 64 in, 64 out, 512 cycles
        let (actors, links) = chain(vec![eng("a", a), eng("b", b)]);
        let r = analyze(&actors, &links, 3);
        assert_eq!(actors[r.bottleneck].name, "b");
        let f = &r.fifos[1];
        // upstream as late as possible: a beat every 4 cycles cannot make 8 beats in 8
        // cycles, so most of a vector waits in the FIFO
        assert!((6..=9).contains(&f.need), "{f:?}");
    }

    #[test]
    fn lockstep_branch_short_side_holds_the_long_latency() {
        // dup -> long (4 streaming stages of latency 10) -> add; dup -> add
        let beats = 100;
        let dup = Schedule::streaming(&[beats], &[beats, beats], 2);
        let add = Schedule::streaming(&[beats, beats], &[beats], 2);
        let mut actors = vec![eng("dup", dup)];
        for i in 0..4 {
            actors.push(eng(&format!("s{i}"), stream(beats, 10)));
        }
        actors.push(eng("add", add));
        let mut links = vec![Link {
            from: None,
            to: (0, 0),
            fifo: true,
            bits: 1,
        }];
        links.push(Link {
            from: Some((0, 0)),
            to: (1, 0),
            fifo: true,
            bits: 1,
        });
        for i in 1..4 {
            links.push(Link {
                from: Some((i, 0)),
                to: (i + 1, 0),
                fifo: true,
                bits: 1,
            });
        }
        links.push(Link {
            from: Some((4, 0)),
            to: (5, 0),
            fifo: true,
            bits: 1,
        });
        links.push(Link {
            from: Some((0, 1)),
            to: (5, 1),
            fifo: true,
            bits: 1,
        });
        let r = analyze(&actors, &links, 3);
        let short = r.fifos.iter().find(|f| f.link == 6).unwrap();
        // the long side: 4 stages of 10 cycles and 5 FIFOs of 2: 50 cycles, one beat each
        assert!((48..=56).contains(&short.need), "{short:?}");
        assert!(short.why.contains("rejoins"), "{}", short.why);
        for f in r.fifos.iter().filter(|f| f.link != 6) {
            assert!(f.need <= STREAM_NEED, "{f:?}");
        }
    }

    #[test]
    fn lockstep_branch_with_a_bursty_long_side() {
        // long side: an mvau-like stage turning 4-beat vectors into 4 beats (sf 4, nf 4):
        // it reads a vector in 4 cycles then computes 12 more; the short side must cover
        // that too
        let v = 16;
        let beats = 4 * v;
        let dup = Schedule::streaming(&[beats], &[beats, beats], 2);
        let add = Schedule::streaming(&[beats, beats], &[beats], 2);
        let actors = vec![eng("dup", dup), eng("mv", mvau(v, 4, 4)), eng("add", add)];
        let links = vec![
            Link {
                from: None,
                to: (0, 0),
                fifo: true,
                bits: 1,
            },
            Link {
                from: Some((0, 0)),
                to: (1, 0),
                fifo: true,
                bits: 1,
            },
            Link {
                from: Some((1, 0)),
                to: (2, 0),
                fifo: true,
                bits: 1,
            },
            Link {
                from: Some((0, 1)),
                to: (2, 1),
                fifo: true,
                bits: 1,
            },
        ];
        let r = analyze(&actors, &links, 3);
        assert_eq!(actors[r.bottleneck].name, "mv");
        let short = r.fifos.iter().find(|f| f.link == 3).unwrap();
        // the dup is tied to the mvau's reads (4 beats, then 12 idle cycles); the add reads
        // a beat only once the mvau's output of that beat is out: about a vector plus the
        // mvau's latency in beats of the dup's pace
        assert!((5..=12).contains(&short.need), "{short:?}");
    }

    /// A duplicate to 16 outputs produces on all 16 (port masks were once 8 bits wide).
    #[test]
    fn streaming_schedule_covers_sixteen_ports() {
        let Schedule::Steps { pattern, .. } = Schedule::streaming(&[4], &[4; 16], 2) else {
            panic!("a step schedule")
        };
        assert_eq!(pattern[0].produce, 0xFFFF);
        assert_eq!(
            Schedule::streaming(&[4], &[4; 16], 2).beats().1,
            vec![4; 16]
        );
    }

    #[test]
    fn converter_rates() {
        // 4 lanes -> 1 lane: one input every 4 cycles at full output rate
        let mut g = Graph::default();
        let p = expand_converter(&mut g, 0, 4, 1, None, 8);
        assert_eq!(p.writes[0].len(), 32);
        let actors = vec![Actor {
            name: "c".into(),
            kind: ActorKind::Converter {
                in_lanes: 4,
                out_lanes: 1,
            },
        }];
        let (t, _) =
            schedule_reference(&actors, &[], &g, &Adjacency::new(&g), Reference::Pull, &[]);
        let outs: Vec<i64> = p.writes[0]
            .iter()
            .map(|&(e, o)| t[e as usize] + o as i64)
            .collect();
        for w in outs.windows(2) {
            assert_eq!(w[1] - w[0], 1, "{outs:?}");
        }
    }

    #[test]
    fn label_select_overlaps_frames() {
        let mut g = Graph::default();
        let p = expand_engine(&mut g, 0, &Schedule::LabelSelect { beats: 10, k: 3 }, 3);
        let actors = vec![eng("top", Schedule::LabelSelect { beats: 10, k: 3 })];
        let (t, _) =
            schedule_reference(&actors, &[], &g, &Adjacency::new(&g), Reference::Pull, &[]);
        let reads: Vec<i64> = p.reads[0].iter().map(|&e| t[e as usize]).collect();
        // 10 cycles a frame: the next frame's first beat is read the cycle the lists move out
        assert_eq!(reads[10] - reads[0], 10);
        assert_eq!(reads[20] - reads[10], 10);
    }
}

#[cfg(test)]
mod design_tests {
    use crate::stitch::{Role, stitch};
    use crate::testing::{Rng, cnv};

    /// FIFO bits of the interim rule this analysis replaced: `max(4, b, s)` rounded up to a
    /// power of two, `b` a matrix-vector consumer's input vector, `s` a frame (at most 1024)
    /// after a producer running at the pipeline's rate (for docs/BENCHMARKS.md).
    fn interim_rule_bits(
        m: &crate::ir::Model,
        p: &crate::fold::FoldPlan,
        d: &crate::stitch::Design,
    ) -> usize {
        use crate::stitch::End;
        let a = m.analyze().unwrap();
        let exp = |name: &str| -> u64 {
            let id = a.by_name[name];
            crate::engines::engine(&m.nodes[id].op).exp_cycles(&a.in_types[id], p.fold(name))
        };
        let mut bits = 0;
        for n in &d.nodes {
            let Role::Fifo { width, .. } = &n.role else {
                continue;
            };
            // the FIFO before a converter to fewer lanes is new since that rule
            if n.name.ends_with("_wide") {
                continue;
            }
            let out = d
                .edges
                .iter()
                .find(|e| {
                    e.from
                        == End::Node {
                            node: n.name.clone(),
                            port: 0,
                        }
                })
                .unwrap();
            let End::Node { node: consumer, .. } = &out.to else {
                unreachable!()
            };
            let id = a.by_name[consumer.as_str()];
            let b = match &m.nodes[id].op {
                crate::ir::Op::MatrixVector(mv) => mv.mw / p.fold(consumer).simd,
                _ => 0,
            };
            // the producer: through a converter if there is one
            let mut src = d
                .edges
                .iter()
                .find(|e| {
                    e.to == End::Node {
                        node: n.name.clone(),
                        port: 0,
                    }
                })
                .unwrap()
                .from
                .clone();
            while let End::Node { node, .. } = &src
                && (node.starts_with("conv_") || node.ends_with("_wide"))
            {
                src = d
                    .edges
                    .iter()
                    .find(|e| {
                        e.to == End::Node {
                            node: node.clone(),
                            port: 0,
                        }
                    })
                    .unwrap()
                    .from
                    .clone();
            }
            let s = match &src {
                End::Node { node, .. } if exp(node) == d.exp_cycles_per_frame => {
                    n.inputs[0].beats_per_frame.min(1024)
                }
                _ => 0,
            };
            bits += b.max(s).max(4).next_power_of_two() * width;
        }
        bits
    }

    /// The ResNet example at its automatic folding: the padded stages downstream of the
    /// bottleneck settle one frame after another, so the analysis expands frames until the
    /// schedule repeats (with three frames and separate padding engines, the FIFO in front
    /// of the third padded stage got 32 beats, 23 needed by frame 2, and the design ran at
    /// 580 cycles a frame, not 576). testbench/tests/fifo_depth.rs checks the depths against
    /// co-simulation.
    #[test]
    fn resnet_frames_until_settled() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/resnet_w4a4/model.onnx");
        let m = crate::load_model(&path).unwrap();
        let p = crate::fold::auto(&m, None).unwrap();
        let d = stitch(&m, &p).unwrap();
        let fifo = |name: &str| {
            d.nodes
                .iter()
                .find_map(|n| match &n.role {
                    Role::Fifo { depth, why, .. } if n.name == name => Some((*depth, why.clone())),
                    _ => None,
                })
                .unwrap()
        };
        let (depth, why) = fifo("fifo_l13_swg");
        assert!(depth >= 2, "{depth}: {why}");
        assert!(
            why.contains("settled") && !why.contains("NOT settled"),
            "{why}"
        );
    }

    /// FINN's CNV at FINN's folding: every FIFO sized in well under a second, none capped.
    #[test]
    fn cnv_depths_quickly() {
        for w2a2 in [false, true] {
            let mut rng = Rng::new(7);
            let (wt, at) = if w2a2 {
                (crate::ir::DataType::Int(2), crate::ir::DataType::UInt(2))
            } else {
                (crate::ir::DataType::Bipolar, crate::ir::DataType::Bipolar)
            };
            let (m, p) = cnv(&mut rng, wt, at, w2a2);
            let t = std::time::Instant::now();
            let d = stitch(&m, &p).unwrap();
            let secs = t.elapsed().as_secs_f64();
            let mut bits = 0;
            for n in &d.nodes {
                if let Role::Fifo { depth, width, why } = &n.role {
                    eprintln!("{:24} {depth:6} x {width:4}  {why}", n.name);
                    bits += depth * width;
                    assert!(*depth < super::MAX_FIFO_DEPTH, "{why}");
                }
            }
            let interim = interim_rule_bits(&m, &p, &d);
            eprintln!(
                "{}: stitch {:.1} ms, FIFO bits {bits}, the interim rule's {interim}",
                m.name,
                secs * 1e3,
            );
            assert!(secs < 2.0, "{secs} s");
            // the burst-reading bottleneck at the end leaves the convolutions slack: the
            // shrinking pass takes the FIFOs below the interim rule's (which reached the
            // rate in co-simulation)
            assert!(
                bits < interim,
                "{bits} bits against the interim rule's {interim}"
            );
        }
    }
}
