//! ferrite-sim: a Verilator harness that knows Verilog tops and their ports, nothing of
//! networks.
//!
//! [`build`] verilates a top (`verilator --cc -Wall`), generates a C++ shim with an
//! `extern "C"` API, compiles both as one translation unit with the `cc` crate's compiler
//! (`-O2`, no debug info, through `ccache` when present), links it with a Verilator runtime
//! compiled once per cache, and loads the shared library. Builds are cached by a hash of
//! their content (see [`cache`]). A [`Sim`] is one instance of a built model: set and read
//! ports, evaluate, or drive a whole AXI-Stream transfer with random stalls
//! ([`Sim::stream`]), the loop running in C++: reset first, seeded input idles and output
//! backpressure, per-beat cycle stamps, taps sampled every cycle, an output protocol check
//! (`tvalid` held and `tdata` stable until taken), and stall/cycle limits whose errors say
//! where the streams stopped.
//!
//! ```no_run
//! use ferrite_sim::{Beats, BuildSpec, StreamOptions, StreamPorts, build};
//! let model = build(&BuildSpec {
//!     sources: vec!["rtl/net_top.v".into()],
//!     top: "net_top".into(),
//!     args: vec![r#"-GMEM_DIR="/abs/rtl/""#.into()],
//!     ..BuildSpec::default()
//! })?;
//! let mut sim = model.instantiate(1)?;
//! let input = Beats::from_u64(1, &[1, 2, 3]);
//! let opts = StreamOptions { in_stall: 0.3, out_stall: 0.3, ..StreamOptions::default() };
//! let run = sim.stream(&StreamPorts::vivado(), &input, 3, &opts)?;
//! println!("{:?} at cycles {:?}", run.output, run.out_stamps);
//! # Ok::<(), ferrite_sim::SimError>(())
//! ```
//!
//! Architecture invariant: `sim` never reads folding or models; it sees Verilog files, a top
//! name and ports.

pub mod cache;
mod error;
mod shim;
mod sim;
mod stream;
mod verilate;

pub use cache::default_cache_dir;
pub use error::SimError;
pub use sim::{Model, Sim};
pub use stream::{Beats, StreamOptions, StreamPorts, StreamRun, Tap, TapTrace};
pub use verilate::{BuildInfo, BuildSpec, build, build_with, verilator_version};

/// Direction of a top-level port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortDir {
    Input,
    Output,
}

/// A top-level port: name, width in bits, direction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Port {
    pub name: String,
    pub width: u32,
    pub dir: PortDir,
}

impl Port {
    pub fn input(name: &str, width: u32) -> Port {
        Port {
            name: name.into(),
            width,
            dir: PortDir::Input,
        }
    }

    pub fn output(name: &str, width: u32) -> Port {
        Port {
            name: name.into(),
            width,
            dir: PortDir::Output,
        }
    }

    /// 32-bit words a value of this port takes.
    pub fn words(&self) -> usize {
        self.width.div_ceil(32).max(1) as usize
    }
}

/// The C++ type Verilator gives a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortKind {
    C,
    S,
    I,
    Q,
    W(u32),
}

/// A port as found in the verilated header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VerilatedPort {
    pub name: String,
    pub width: u32,
    pub dir: PortDir,
    pub kind: PortKind,
}
