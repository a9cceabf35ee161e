//! Progress of the long steps (import, emit, verilate, compile, simulate, synthesise), reported to
//! whoever drives the library. The library only names its steps; the CLI draws them
//! (`indicatif` bars on a terminal, nothing otherwise).

/// Receives the steps of a long operation. Every method does nothing by default.
pub trait Progress {
    /// A step starts: `what` in a few words ("importing", "emitting"), `total` the units of
    /// work when known (frames, files).
    fn step(&self, _what: &str, _total: Option<u64>) {}
    /// `n` more units of the current step are done.
    fn advance(&self, _n: u64) {}
    /// A line of what the current step is doing (an external tool's output line), for a
    /// display that shows it; already free of control characters.
    fn detail(&self, _line: &str) {}
}

/// No progress reporting.
pub struct Silent;

impl Progress for Silent {}
