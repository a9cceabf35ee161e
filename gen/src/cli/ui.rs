//! What the CLI prints besides errors: results on stdout, notes and progress on stderr,
//! governed by the global `--quiet` and `-v`.
//!
//! Progress bars (indicatif) are drawn only when stderr is a terminal and `--quiet` is not
//! given; `-v` prints each step with its time (on a terminal or not).
use ferrite_gen::progress::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// The global output flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ui {
    /// Print nothing but errors (and the data a command exists to print).
    pub quiet: bool,
    /// Detail: 1 prints every step with its time.
    pub verbose: u8,
}

impl Ui {
    /// A result line on stdout (not under `--quiet`); a closed pipe ends quietly.
    pub fn say(&self, line: &str) {
        if !self.quiet {
            data(&format!("{line}\n"));
        }
    }

    /// A note on stderr (not under `--quiet`).
    pub fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{}", super::terminal_safe(line));
        }
    }

    /// Progress of a long operation, drawn on stderr.
    pub fn progress(&self) -> Bars {
        Bars {
            ui: *self,
            draw: !self.quiet && std::io::stderr().is_terminal(),
            current: RefCell::new(None),
        }
    }
}

/// Text a command exists to print (inspect's listing, completions, the man page) on
/// stdout, whatever `--quiet` says; a closed pipe (`| head`) ends quietly.
pub fn data(s: &str) {
    let _ = write_bytes(super::terminal_safe(s).as_bytes());
}

/// Raw bytes on stdout; a closed pipe is not an error.
pub fn write_bytes(b: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(b).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

struct Step {
    what: String,
    started: Instant,
    bar: Option<ProgressBar>,
}

/// The [`Progress`] of the CLI: one bar (or spinner) per step.
pub struct Bars {
    ui: Ui,
    draw: bool,
    current: RefCell<Option<Step>>,
}

impl Bars {
    /// End the current step (its bar cleared; its time printed under `-v`).
    pub fn finish(&self) {
        if let Some(s) = self.current.borrow_mut().take() {
            if let Some(b) = s.bar {
                b.finish_and_clear();
            }
            if self.ui.verbose > 0 && !self.ui.quiet {
                eprintln!(
                    "  {:<20} {:>8.2}s",
                    s.what,
                    s.started.elapsed().as_secs_f64()
                );
            }
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Progress for Bars {
    fn step(&self, what: &str, total: Option<u64>) {
        self.finish();
        let bar = self.draw.then(|| {
            let b = match total {
                Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr())
                    .with_style(
                        ProgressStyle::with_template(
                            "{spinner} {msg:<20} [{bar:30}] {pos}/{len} {elapsed}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    ),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                    .with_style(
                        ProgressStyle::with_template("{spinner} [{elapsed}] {msg:<20}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    ),
            };
            b.set_message(what.to_string());
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        *self.current.borrow_mut() = Some(Step {
            what: what.to_string(),
            started: Instant::now(),
            bar,
        });
    }

    fn advance(&self, n: u64) {
        if let Some(Step { bar: Some(b), .. }) = &*self.current.borrow() {
            b.inc(n);
        }
    }

    /// The spinner shows the step and the tool's latest line; `-vv` prints every line.
    fn detail(&self, line: &str) {
        let cur = self.current.borrow();
        let Some(s) = &*cur else { return };
        let line = super::terminal_name(line);
        if self.ui.verbose > 1 && !self.ui.quiet {
            match &s.bar {
                Some(b) => b.suspend(|| eprintln!("  {line}")),
                None => eprintln!("  {line}"),
            }
        }
        if let Some(b) = &s.bar {
            let short: String = line.chars().take(60).collect();
            b.set_message(format!("{}: {short}", s.what));
        }
    }
}
