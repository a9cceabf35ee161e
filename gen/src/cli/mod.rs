//! One module per subcommand; each exposes `Args` (clap), `EXAMPLES` (its help's examples)
//! and `run`. `error` is the one error style, `ui` the output flags and progress bars,
//! `docs` the completions and the man page, `report` the HTML/Markdown report,
//! `boards` the board list, `synth` the open FPGA tools' measurements.
pub mod boards;
pub mod build;
pub mod cosim;
pub mod docs;
pub mod error;
pub mod golden;
pub mod inspect;
pub mod report;
pub mod synth;
pub mod ui;

/// Text from a model (names in errors) made safe for a terminal: control characters other
/// than line breaks and tabs, and bidirectional overrides, are shown escaped.
/// A name (from a model) for one line of terminal output: like [`terminal_safe`], and line
/// breaks and tabs escaped too, so a name cannot forge lines.
pub fn terminal_name(s: &str) -> String {
    terminal_safe(s)
        .replace('\n', "\\u{a}")
        .replace('\t', "\\u{9}")
}

pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && c != '\n' && c != '\t') || bidi {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}
