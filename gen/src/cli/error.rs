//! One error style for every subcommand:
//!
//! ```text
//! error: <what failed> (<file>[: node `<name>`])
//! caused by: <the library's reason>
//! help: <what to do>
//! ```
//!
//! The subcommands say what they were doing ([`Doing`], attached with [`fail`]); the
//! library's errors give the reasons; this module lays them out: the file is named once,
//! an operating-system error is put in plain words once, temporary paths are shown as the
//! path they stand for, and advice at the end of a library message becomes the `help:` line.
use std::fmt;
use std::path::Path;
use std::process::ExitCode;

/// What a subcommand was doing when a library call failed: the headline of the error.
#[derive(Debug)]
pub struct Doing {
    /// "cannot import the model", in words, lowercase.
    pub what: String,
    /// The file or folder it concerns, as the user wrote it.
    pub file: String,
    /// What to do when the library's message carries no advice.
    pub help: String,
}

impl fmt::Display for Doing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.what, self.file)
    }
}

impl std::error::Error for Doing {}

/// A usage error of the CLI itself (a bad combination of flags): its own help line.
#[derive(Debug)]
pub struct Usage {
    pub what: String,
    pub help: String,
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Usage {}

/// `e` as the cause of `what` failing on `file`, with `help` as the default advice.
pub fn fail<E>(e: E, what: &str, file: &Path, help: &str) -> anyhow::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    anyhow::Error::new(e).context(Doing {
        what: what.into(),
        file: file.display().to_string(),
        help: help.into(),
    })
}

/// The headline of an error about `file`, for `anyhow::Context`.
pub fn doing(what: &str, file: impl fmt::Display, help: &str) -> Doing {
    Doing {
        what: what.into(),
        file: file.to_string(),
        help: help.into(),
    }
}

/// A usage error: `what` went wrong, `help` says what to do.
pub fn usage(what: impl Into<String>, help: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Usage {
        what: what.into(),
        help: help.into(),
    })
}

/// The node (or layer) an error names, when a library error carries one.
fn node_of(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use ferrite_gen::{LoadError, build::BuildError, fold::FoldError, import::ImportError};
    use ferrite_gen::{emit::EmitError, ir::IrError, passes::PassError, stitch::StitchError};
    fn ir(e: &IrError) -> Option<String> {
        match e {
            IrError::Node { node, .. } | IrError::Edge { node, .. } => Some(node.clone()),
            _ => None,
        }
    }
    fn load(e: &LoadError) -> Option<String> {
        match e {
            LoadError::Import(ImportError::Invalid { node, .. }) => Some(node.clone()),
            LoadError::Pass {
                error: PassError::Invalid { node, .. } | PassError::NotQuantized { node, .. },
                ..
            } => Some(node.clone()),
            LoadError::Ir(e) => ir(e),
            _ => None,
        }
    }
    fn fold(e: &FoldError) -> Option<String> {
        match e {
            FoldError::Illegal { node, .. } => Some(node.clone()),
            FoldError::Model(e) => ir(e),
            _ => None,
        }
    }
    fn stitch(e: &StitchError) -> Option<String> {
        match e {
            StitchError::Model(e) => ir(e),
            StitchError::Fold(e) => fold(e),
            StitchError::Override(_) => None,
        }
    }
    fn emit(e: &EmitError) -> Option<String> {
        match e {
            EmitError::Model(e) => ir(e),
            EmitError::Stitch(e) => stitch(e),
            EmitError::Unsupported { node, .. } => Some(node.clone()),
            EmitError::Verify(_) => None,
        }
    }
    if let Some(e) = e.downcast_ref::<BuildError>() {
        return match e {
            BuildError::Load(e) => load(e),
            BuildError::Fold(e) => fold(e),
            BuildError::Stitch(e) => stitch(e),
            BuildError::Emit(e) => emit(e),
            BuildError::Out(_) | BuildError::Shell(_) => None,
            BuildError::Fit(ferrite_gen::fit::FitError::TooFast { node, .. }) => Some(node.clone()),
            BuildError::Fit(_) => None,
        };
    }
    if let Some(e) = e.downcast_ref::<LoadError>() {
        return load(e);
    }
    if let Some(e) = e.downcast_ref::<IrError>() {
        return ir(e);
    }
    None
}

/// The reason an error gives, in plain words: operating-system errors without their
/// number, a protobuf decoder's detail only when `verbose`.
fn reason(e: &(dyn std::error::Error + 'static), verbose: bool) -> String {
    use ferrite_gen::{LoadError, build::BuildError, import::ImportError};
    let import = e
        .downcast_ref::<BuildError>()
        .and_then(|b| match b {
            BuildError::Load(LoadError::Import(i)) => Some(i),
            _ => None,
        })
        .or_else(|| {
            e.downcast_ref::<LoadError>().and_then(|l| match l {
                LoadError::Import(i) => Some(i),
                _ => None,
            })
        });
    if let Some(ImportError::Decode { path, why }) = import
        && !verbose
        && why != "the file is empty"
    {
        return format!(
            "{path}: not a valid ONNX model (its protobuf does not decode; -v shows the decoder's message)"
        );
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return io_words(io);
    }
    e.to_string()
}

/// An operating-system error in plain words, lowercase, without "(os error N)".
pub fn io_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "no such file or directory".into(),
        K::PermissionDenied => "permission denied".into(),
        K::AlreadyExists => "a file of that name already exists".into(),
        K::NotADirectory => "a part of the path is not a folder".into(),
        K::IsADirectory => "it is a folder, not a file".into(),
        K::StorageFull => "no space left on the device".into(),
        K::ReadOnlyFilesystem => "the file system is read-only".into(),
        _ => clean(&e.to_string()),
    }
}

/// Text with "(os error N)" removed, operating-system phrases in lowercase, and temporary
/// paths of ferrite's atomic writes shown as the paths they stand for.
fn clean(s: &str) -> String {
    let mut s = s.to_string();
    for (raw, plain) in [
        ("No such file or directory", "no such file or directory"),
        ("Permission denied", "permission denied"),
        ("Is a directory", "it is a folder, not a file"),
        ("Not a directory", "a part of the path is not a folder"),
        ("File exists", "a file of that name already exists"),
        ("No space left on device", "no space left on the device"),
        ("Read-only file system", "the file system is read-only"),
        ("Directory not empty", "the folder is not empty"),
    ] {
        s = s.replace(raw, plain);
    }
    while let Some(at) = s.find(" (os error ") {
        match s[at..].find(')') {
            Some(end) => s.replace_range(at..at + end + 1, ""),
            None => break,
        }
    }
    untemp(&s)
}

/// Path segments `.<name>.ferrite-tmp-*`, `.<name>.ferrite-old-*` (a build's temporary
/// folders) and `.<name>.tmp<pid>-<n>` (an atomic write's file) replaced by `<name>`.
fn untemp(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let hit = [".ferrite-tmp-", ".ferrite-old-", ".tmp"]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, *m)))
            .min();
        let Some((i, marker)) = hit else {
            out.push_str(rest);
            return out;
        };
        // the segment: from after the previous '/', space or backquote up to the next one
        let start = rest[..i]
            .rfind(['/', ' ', '`', '\n', '('])
            .map_or(0, |p| p + 1);
        let seg_end = rest[i..]
            .find(['/', ' ', '`', '\n', ':', ')', ','])
            .map_or(rest.len(), |p| i + p);
        let name = &rest[start..i];
        let tail = &rest[i + marker.len()..seg_end];
        let temp = name.starts_with('.')
            && name.len() > 1
            && (marker != ".tmp"
                || (!tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit() || c == '-')));
        out.push_str(&rest[..start]);
        if temp {
            out.push_str(&name[1..]);
        } else {
            out.push_str(&rest[start..seg_end]);
        }
        rest = &rest[seg_end..];
    }
}

/// Words that start a piece of advice ("choose another output directory ...").
const ADVICE: [&str; 22] = [
    "install ",
    "run ",
    "rebuild ",
    "build ",
    "choose ",
    "remove ",
    "move ",
    "pass ",
    "drop ",
    "use ",
    "check ",
    "give ",
    "write ",
    "quantize ",
    "declare ",
    "add ",
    "set ",
    "see ",
    "fold ",
    "export ",
    "annotate ",
    "delete ",
];

fn is_advice(s: &str) -> bool {
    ADVICE.iter().any(|v| s.starts_with(v))
}

/// A message split into its reason and the advice at its end, if any: "x; choose y",
/// "x: install y", "x (run y)".
fn split_advice(msg: &str) -> (String, Option<String>) {
    let first_line_end = msg.find('\n').unwrap_or(msg.len());
    let (line, more) = msg.split_at(first_line_end);
    if let Some(open) = line.rfind(" (")
        && line.ends_with(')')
        && is_advice(&line[open + 2..])
    {
        let advice = line[open + 2..line.len() - 1].to_string();
        return (format!("{}{more}", &line[..open]), Some(advice));
    }
    for sep in ["; ", ": "] {
        if let Some(at) = line.rfind(sep)
            && is_advice(&line[at + 2..])
        {
            return (
                format!("{}{more}", &line[..at]),
                Some(line[at + 2..].to_string()),
            );
        }
    }
    (msg.to_string(), None)
}

/// Remove a leading "<file>: " naming the headline's file, which the headline shows.
fn strip_file<'a>(msg: &'a str, file: Option<&str>) -> &'a str {
    match file {
        Some(f) if !f.is_empty() => msg
            .strip_prefix(f)
            .and_then(|r| r.strip_prefix(": "))
            .unwrap_or(msg),
        _ => msg,
    }
}

/// The error as the lines printed on stderr (`error:`, `caused by:`..., `help:`).
pub fn render(err: &anyhow::Error, verbose: bool) -> String {
    let mut chain = err.chain();
    let mut headline;
    let mut file = None;
    let mut help = None;
    let mut default_help = None;
    let mut causes: Vec<String> = Vec::new();
    let first = chain.next().expect("an error has a first cause");
    if let Some(d) = err.downcast_ref::<Doing>() {
        headline = d.what.clone();
        file = Some(clean(&d.file));
        default_help = Some(d.help.clone());
    } else if let Some(u) = err.downcast_ref::<Usage>() {
        headline = clean(&u.what);
        default_help = Some(u.help.clone());
    } else {
        // a plain message: its advice, if any, is the help line
        let (what, advice) = split_advice(&clean(&reason(first, verbose)));
        headline = what;
        help = advice;
    }
    let mut node = None;
    for e in chain {
        node = node.or_else(|| node_of(e));
        let text = clean(&reason(e, verbose));
        let mut text = strip_file(&text, file.as_deref()).to_string();
        // the node the headline names need not open the cause too
        if let Some(n) = &node
            && let Some(rest) = text.strip_prefix(&format!("node `{n}`: "))
        {
            text = rest.to_string();
        }
        let (text, advice) = split_advice(&text);
        if help.is_none() {
            help = advice;
        }
        // a cause repeating the one before it (an io error under its path) is left out
        if text.is_empty() || causes.last().is_some_and(|c| c.contains(&text)) {
            continue;
        }
        causes.push(text);
    }
    if let Some(f) = &file {
        match &node {
            Some(n) => headline = format!("{headline} ({f}: node `{n}`)"),
            None => headline = format!("{headline} ({f})"),
        }
    }
    let mut lines = vec![format!("error: {headline}")];
    for c in &causes {
        let mut it = c.lines();
        if let Some(l) = it.next() {
            lines.push(format!("caused by: {l}"));
        }
        lines.extend(it.map(|l| format!("  {}", l.trim_start())));
    }
    let help = help
        .or(default_help)
        .unwrap_or_else(|| "run `ferrite --help` for usage".into());
    lines.push(format!("help: {help}"));
    // a line printed once: repeated lines (a message quoting its own cause) are left out
    let mut seen = std::collections::BTreeSet::new();
    lines.retain(|l| seen.insert(l.clone()));
    super::terminal_safe(&lines.join("\n"))
}

/// Print `err` in the one error style; the exit code of a failed command.
pub fn report(err: &anyhow::Error, verbose: bool) -> ExitCode {
    eprintln!("{}", render(err, verbose));
    ExitCode::FAILURE
}

/// A command-line error from clap (bad flag, missing argument, bad value) in the same
/// style; `--help` and `--version` are printed as clap prints them.
pub fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as K;
    if matches!(
        e.kind(),
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
    }
    let text = e.render().to_string();
    let mut what = String::new();
    let mut tips = Vec::new();
    let mut usage_line = None;
    let mut in_error = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            in_error = false;
        } else if let Some(w) = line.strip_prefix("error: ") {
            what = w.trim_end_matches(':').to_string();
            in_error = true;
        } else if in_error {
            // the continuation of a multi-line message (the missing arguments)
            what.push_str(if what.ends_with(',') { " " } else { ": " });
            what.push_str(line);
        } else if let Some(t) = line.strip_prefix("tip: ") {
            tips.push(t.to_string());
        } else if let Some(u) = line.strip_prefix("Usage: ") {
            usage_line = Some(u.to_string());
        }
    }
    if what.is_empty() {
        what = text
            .lines()
            .next()
            .unwrap_or("bad command line")
            .to_string();
    }
    // `ferrite <subcommand>` from the usage line, for the pointer to its help
    let command = usage_line
        .as_deref()
        .map(|u| {
            u.split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "ferrite".into());
    let mut lines = vec![format!("error: {what}")];
    if let Some(u) = usage_line {
        lines.push(format!("usage: {u}"));
    }
    let mut help = tips.join("; ");
    if !help.is_empty() {
        help.push_str("; ");
    }
    help.push_str(&format!(
        "`{command} --help` lists the arguments, with examples"
    ));
    lines.push(format!("help: {help}"));
    eprintln!("{}", super::terminal_safe(&lines.join("\n")));
    ExitCode::from(2)
}

/// Panics are bugs: shown in the error style, without a backtrace (whatever
/// `RUST_BACKTRACE` says).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error (a bug in ferrite)\ncaused by: {}{at}\nhelp: please report it with the command line and, if you can, the model",
            super::terminal_safe(&msg)
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_is_split_off() {
        let (r, a) = split_advice("out exists (no marker); choose another output directory");
        assert_eq!(r, "out exists (no marker)");
        assert_eq!(a.as_deref(), Some("choose another output directory"));
        let (r, a) = split_advice("verilator not found on PATH: install Verilator 5");
        assert_eq!(r, "verilator not found on PATH");
        assert_eq!(a.as_deref(), Some("install Verilator 5"));
        let (r, a) = split_advice("x has no y (run `ferrite build` first)");
        assert_eq!(r, "x has no y");
        assert_eq!(a.as_deref(), Some("run `ferrite build` first"));
        assert_eq!(split_advice("node `a`: bad shape").1, None);
    }

    #[test]
    fn temporary_paths_and_os_errors_are_cleaned() {
        assert_eq!(
            clean("a/.out.ferrite-tmp-12-ab-XyZ/rtl/x.v: Permission denied (os error 13)"),
            "a/out/rtl/x.v: permission denied"
        );
        assert_eq!(clean("b/.y.npy.tmp123-4: oops"), "b/y.npy: oops");
        assert_eq!(clean("a .tmp file"), "a .tmp file");
    }

    #[test]
    fn the_file_and_the_os_error_appear_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let e = fail(io, "cannot read the input frames", Path::new("x.npy"), "h");
        let r = render(&e, false);
        assert_eq!(
            r,
            "error: cannot read the input frames (x.npy)\ncaused by: no such file or directory\nhelp: h"
        );
    }
}
