//! AXI-Stream driver: push a sequence of input beats into a top and collect its output
//! beats, with seeded random input idles and output backpressure. The per-cycle loop runs
//! in the C++ shim (one FFI call per transfer).

use crate::shim::{RC_BAD_ARGS, RC_CYCLE_LIMIT, RC_EXTRA_OUTPUT, RC_OK, RC_PROTOCOL, RC_STALLED};
use crate::{PortDir, Sim, SimError};

/// A sequence of beats, each `words` little-endian 32-bit words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Beats {
    pub words: usize,
    pub data: Vec<u32>,
}

impl Beats {
    pub fn new(words: usize) -> Beats {
        Beats {
            words: words.max(1),
            data: Vec::new(),
        }
    }

    /// Beats of at most 64 bits each.
    pub fn from_u64(words: usize, values: &[u64]) -> Beats {
        let mut b = Beats::new(words);
        for &v in values {
            b.push_u64(v);
        }
        b
    }

    pub fn push(&mut self, beat: &[u32]) {
        assert_eq!(beat.len(), self.words, "beat width");
        self.data.extend_from_slice(beat);
    }

    pub fn push_u64(&mut self, v: u64) {
        let w = [v as u32, (v >> 32) as u32];
        for i in 0..self.words {
            self.data.push(w.get(i).copied().unwrap_or(0));
        }
    }

    pub fn len(&self) -> usize {
        self.data.len() / self.words
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn get(&self, i: usize) -> &[u32] {
        &self.data[i * self.words..(i + 1) * self.words]
    }

    /// The low 64 bits of beat `i`.
    pub fn get_u64(&self, i: usize) -> u64 {
        let b = self.get(i);
        b[0] as u64 | (b.get(1).copied().unwrap_or(0) as u64) << 32
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u32]> {
        self.data.chunks_exact(self.words)
    }
}

/// Which ports make the clock, the reset and the two streams.
#[derive(Clone, Debug)]
pub struct StreamPorts {
    pub clk: String,
    /// Reset input, if any.
    pub rst: Option<String>,
    pub rst_active_low: bool,
    /// Cycles reset is held before the transfer.
    pub reset_cycles: u32,
    /// Idle cycles (reset released, no `tvalid`, no `tready`) before the first beat is
    /// offered. 0 is the strict test: a design must not take beats it then loses.
    pub settle_cycles: u32,
    /// Prefix of the input stream: `<input>_tdata`, `<input>_tvalid`, `<input>_tready`.
    pub input: String,
    /// Prefix of the output stream.
    pub output: String,
}

impl StreamPorts {
    /// Vivado-style top: `ap_clk`, `ap_rst_n` (active low), `s_axis_*` in, `m_axis_*` out.
    pub fn vivado() -> StreamPorts {
        StreamPorts {
            clk: "ap_clk".into(),
            rst: Some("ap_rst_n".into()),
            rst_active_low: true,
            reset_cycles: 4,
            settle_cycles: 0,
            input: "s_axis".into(),
            output: "m_axis".into(),
        }
    }
}

/// An extra port sampled during a transfer: its value is recorded every cycle `fire` is
/// high (every cycle without `fire`), just before the rising edge.
#[derive(Clone, Debug)]
pub struct Tap {
    pub data: String,
    pub fire: Option<String>,
}

/// How to drive a transfer.
#[derive(Clone, Debug)]
pub struct StreamOptions {
    /// Probability that the input withholds `tvalid` in a cycle when it has a beat to give
    /// (decided again only after a beat is accepted: `tvalid` never drops before it is).
    pub in_stall: f64,
    /// Probability that `tready` on the output is low in a cycle.
    pub out_stall: f64,
    pub seed: u64,
    /// Give up after this many cycles (after reset).
    pub max_cycles: u64,
    /// Give up when no beat moves on either stream for this many cycles.
    pub idle_limit: u64,
    /// Cycles to keep running with `tready` high after the last expected output beat, to
    /// catch extra beats.
    pub drain_cycles: u64,
    pub taps: Vec<Tap>,
}

impl Default for StreamOptions {
    fn default() -> StreamOptions {
        StreamOptions {
            in_stall: 0.0,
            out_stall: 0.0,
            seed: 1,
            max_cycles: 1 << 32,
            idle_limit: 100_000,
            drain_cycles: 64,
            taps: Vec::new(),
        }
    }
}

/// What a transfer produced.
#[derive(Clone, Debug)]
pub struct StreamRun {
    pub output: Beats,
    /// Cycle (after reset, from 0) at which each input beat was accepted.
    pub in_stamps: Vec<u64>,
    /// Cycle at which each output beat was taken.
    pub out_stamps: Vec<u64>,
    /// Cycles run after reset, drain included.
    pub cycles: u64,
    pub taps: Vec<TapTrace>,
}

/// Values one tap took when it fired.
#[derive(Clone, Debug)]
pub struct TapTrace {
    pub name: String,
    pub values: Beats,
    pub stamps: Vec<u64>,
}

#[repr(C)]
pub(crate) struct FsimStreamArgs {
    clk: i32,
    rst: i32,
    rst_active_low: i32,
    s_data: i32,
    s_valid: i32,
    s_ready: i32,
    m_data: i32,
    m_valid: i32,
    m_ready: i32,
    reset_cycles: u32,
    settle_cycles: u32,
    in_words: u32,
    out_words: u32,
    in_beats: *const u32,
    n_in: u64,
    out_beats: *mut u32,
    n_out: u64,
    in_stamps: *mut u64,
    out_stamps: *mut u64,
    in_stall: u64,
    out_stall: u64,
    seed: u64,
    max_cycles: u64,
    idle_limit: u64,
    drain_cycles: u64,
    n_taps: i32,
    tap_data: *const i32,
    tap_fire: *const i32,
    tap_words: *const u32,
}

#[repr(C)]
#[derive(Default)]
pub(crate) struct FsimStreamResult {
    cycles: u64,
    in_done: u64,
    out_done: u64,
    last_in_cycle: u64,
    last_out_cycle: u64,
    extra_out: u64,
    s_ready_now: u32,
    m_valid_now: u32,
    protocol_cycle: u64,
    protocol_what: u32,
}

fn prob(p: f64, what: &str) -> Result<u64, SimError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(SimError::Argument(format!(
            "{what} probability {p} is not in 0..=1"
        )));
    }
    Ok((p * 4294967296.0).round() as u64)
}

fn stamp(c: u64) -> String {
    if c == u64::MAX {
        "never".into()
    } else {
        format!("at cycle {c}")
    }
}

impl Sim {
    fn port_checked(&self, name: &str, dir: PortDir) -> Result<(i32, usize), SimError> {
        let i = self.port(name)?;
        let p = &self.model().ports()[i];
        if p.dir != dir {
            return Err(SimError::Argument(format!(
                "port `{name}` is an {:?}, expected an {dir:?}",
                p.dir
            )));
        }
        Ok((i as i32, p.words()))
    }

    /// Reset the design, then stream `input` in and take `n_out` beats out. Fails on a
    /// design error, when the streams stall for `opts.idle_limit` cycles, at
    /// `opts.max_cycles`, on extra output beats within `opts.drain_cycles`, or when input is
    /// left over after the last output beat.
    pub fn stream(
        &mut self,
        ports: &StreamPorts,
        input: &Beats,
        n_out: usize,
        opts: &StreamOptions,
    ) -> Result<StreamRun, SimError> {
        let (clk, _) = self.port_checked(&ports.clk, PortDir::Input)?;
        let rst = match &ports.rst {
            Some(r) => self.port_checked(r, PortDir::Input)?.0,
            None => -1,
        };
        let i = &ports.input;
        let o = &ports.output;
        let (s_data, in_words) = self.port_checked(&format!("{i}_tdata"), PortDir::Input)?;
        let (s_valid, _) = self.port_checked(&format!("{i}_tvalid"), PortDir::Input)?;
        let (s_ready, _) = self.port_checked(&format!("{i}_tready"), PortDir::Output)?;
        let (m_data, out_words) = self.port_checked(&format!("{o}_tdata"), PortDir::Output)?;
        let (m_valid, _) = self.port_checked(&format!("{o}_tvalid"), PortDir::Output)?;
        let (m_ready, _) = self.port_checked(&format!("{o}_tready"), PortDir::Input)?;
        if input.words != in_words {
            return Err(SimError::Argument(format!(
                "input beats have {} words, `{i}_tdata` takes {in_words}",
                input.words
            )));
        }
        if !input.data.len().is_multiple_of(in_words) {
            return Err(SimError::Argument(
                "input data is not a whole number of beats".into(),
            ));
        }
        let mut tap_data = Vec::new();
        let mut tap_fire = Vec::new();
        let mut tap_words = Vec::new();
        for t in &opts.taps {
            let i = self.port(&t.data)?;
            tap_data.push(i as i32);
            tap_words.push(self.model().ports()[i].words() as u32);
            tap_fire.push(match &t.fire {
                Some(f) => self.port(f)? as i32,
                None => -1,
            });
        }
        let n_in = input.len();
        let mut out = vec![0u32; n_out * out_words];
        let mut in_stamps = vec![0u64; n_in];
        let mut out_stamps = vec![0u64; n_out];
        let args = FsimStreamArgs {
            clk,
            rst,
            rst_active_low: i32::from(ports.rst_active_low),
            s_data,
            s_valid,
            s_ready,
            m_data,
            m_valid,
            m_ready,
            reset_cycles: ports.reset_cycles,
            settle_cycles: ports.settle_cycles,
            in_words: in_words as u32,
            out_words: out_words as u32,
            in_beats: input.data.as_ptr(),
            n_in: n_in as u64,
            out_beats: out.as_mut_ptr(),
            n_out: n_out as u64,
            in_stamps: in_stamps.as_mut_ptr(),
            out_stamps: out_stamps.as_mut_ptr(),
            in_stall: prob(opts.in_stall, "input stall")?,
            out_stall: prob(opts.out_stall, "output stall")?,
            seed: opts.seed,
            max_cycles: opts.max_cycles,
            idle_limit: opts.idle_limit.max(1),
            drain_cycles: opts.drain_cycles,
            n_taps: opts.taps.len() as i32,
            tap_data: tap_data.as_ptr(),
            tap_fire: tap_fire.as_ptr(),
            tap_words: tap_words.as_ptr(),
        };
        let mut r = FsimStreamResult::default();
        // SAFETY: every pointer in `args` points at a live buffer of the size given next to
        // it; the shim writes only within them.
        let rc = unsafe { (self.api().stream)(self.raw(), &args, &mut r) };
        match rc {
            RC_OK => {}
            RC_STALLED => {
                return Err(SimError::Stalled {
                    idle: opts.idle_limit,
                    cycle: r.cycles,
                    in_done: r.in_done,
                    n_in: n_in as u64,
                    out_done: r.out_done,
                    n_out: n_out as u64,
                    last_in: stamp(r.last_in_cycle),
                    last_out: stamp(r.last_out_cycle),
                    s_ready: r.s_ready_now,
                    m_valid: r.m_valid_now,
                });
            }
            RC_CYCLE_LIMIT => {
                return Err(SimError::CycleLimit {
                    limit: opts.max_cycles,
                    in_done: r.in_done,
                    n_in: n_in as u64,
                    out_done: r.out_done,
                    n_out: n_out as u64,
                    last_in: stamp(r.last_in_cycle),
                    last_out: stamp(r.last_out_cycle),
                });
            }
            RC_EXTRA_OUTPUT => {
                return Err(SimError::ExtraOutput {
                    extra: r.extra_out,
                    n_out: n_out as u64,
                    drain: opts.drain_cycles,
                });
            }
            RC_PROTOCOL => {
                let what = if r.protocol_what == 1 {
                    format!("`{o}_tvalid` dropped before the beat was taken")
                } else {
                    format!("`{o}_tdata` changed while `{o}_tvalid` was high and `{o}_tready` low")
                };
                return Err(SimError::Protocol {
                    cycle: r.protocol_cycle,
                    what,
                    out_done: r.out_done,
                });
            }
            RC_BAD_ARGS => return Err(SimError::Argument("bad port index".into())),
            _ => return Err(self.design_error()),
        }
        if r.in_done < n_in as u64 {
            return Err(SimError::UnconsumedInput {
                in_done: r.in_done,
                n_in: n_in as u64,
                n_out: n_out as u64,
            });
        }
        let mut taps = Vec::new();
        for (k, t) in opts.taps.iter().enumerate() {
            // SAFETY: valid handle; buffers sized from fsim_tap_len.
            let len = unsafe { (self.api().tap_len)(self.raw(), k as i32) } as usize;
            let w = tap_words[k] as usize;
            let mut values = vec![0u32; len * w];
            let mut stamps = vec![0u64; len];
            unsafe {
                (self.api().tap_read)(
                    self.raw(),
                    k as i32,
                    values.as_mut_ptr(),
                    stamps.as_mut_ptr(),
                )
            };
            taps.push(TapTrace {
                name: t.data.clone(),
                values: Beats {
                    words: w,
                    data: values,
                },
                stamps,
            });
        }
        Ok(StreamRun {
            output: Beats {
                words: out_words,
                data: out,
            },
            in_stamps,
            out_stamps,
            cycles: r.cycles,
            taps,
        })
    }
}
