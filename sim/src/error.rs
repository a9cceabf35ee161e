use thiserror::Error;

/// Everything that can go wrong building or running a simulation.
#[derive(Debug, Error)]
pub enum SimError {
    #[error(
        "verilator not found on PATH: install Verilator 5 (`apt-get install verilator` on Debian/Ubuntu)"
    )]
    VerilatorMissing,
    #[error(
        "found {found}, but ferrite-sim needs Verilator 5 (`apt-get install verilator` on Debian bookworm gives 5.006)"
    )]
    VerilatorVersion { found: String },
    #[error("`{cmd}` failed:\n{stderr}")]
    Tool { cmd: String, stderr: String },
    #[error("no C++ compiler: {0}")]
    Compiler(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot load {path}: {source}")]
    Load {
        path: String,
        source: libloading::Error,
    },
    #[error("top `{top}`: {why}")]
    Ports { top: String, why: String },
    #[error("no port `{name}` on the top (ports: {known})")]
    UnknownPort { name: String, known: String },
    #[error("bad argument: {0}")]
    Argument(String),
    #[error("simulation stopped: {message}{}", log_tail(log))]
    Design { message: String, log: String },
    #[error(
        "stream stalled: no beat moved for {idle} cycles (cycle {cycle}); input: {in_done}/{n_in} beats accepted (last {last_in}); output: {out_done}/{n_out} beats received (last {last_out}); now s_tready={s_ready} m_tvalid={m_valid}"
    )]
    Stalled {
        idle: u64,
        cycle: u64,
        in_done: u64,
        n_in: u64,
        out_done: u64,
        n_out: u64,
        last_in: String,
        last_out: String,
        s_ready: u32,
        m_valid: u32,
    },
    #[error(
        "cycle limit {limit} reached; input: {in_done}/{n_in} beats accepted (last {last_in}); output: {out_done}/{n_out} beats received (last {last_out})"
    )]
    CycleLimit {
        limit: u64,
        in_done: u64,
        n_in: u64,
        out_done: u64,
        n_out: u64,
        last_in: String,
        last_out: String,
    },
    #[error(
        "the design gave {extra} output beat(s) more than the {n_out} expected (within {drain} cycles after the last one)"
    )]
    ExtraOutput { extra: u64, n_out: u64, drain: u64 },
    #[error(
        "AXI-Stream protocol violation at cycle {cycle} (after {out_done} output beats): {what}"
    )]
    Protocol {
        cycle: u64,
        what: String,
        out_done: u64,
    },
    #[error(
        "the design gave all {n_out} output beats but accepted only {in_done} of {n_in} input beats"
    )]
    UnconsumedInput { in_done: u64, n_in: u64, n_out: u64 },
}

fn log_tail(log: &str) -> String {
    let log = log.trim_end();
    if log.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = log.lines().collect();
    let from = lines.len().saturating_sub(20);
    format!("\ndesign output:\n{}", lines[from..].join("\n"))
}

impl SimError {
    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> SimError {
        SimError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
