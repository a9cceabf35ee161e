//! Verilate, compile, link, cache.

use crate::cache::{self, Hasher, create_dir, write_atomic};
use crate::shim::{self, DEFINES, PRELUDE_H, SHIM_VERSION};
use crate::{Model, Port, PortDir, PortKind, SimError, VerilatedPort};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

/// What to build.
#[derive(Clone, Debug, Default)]
pub struct BuildSpec {
    /// Verilog sources, every file the design needs (they are hashed for the cache key).
    pub sources: Vec<PathBuf>,
    /// Top module name.
    pub top: String,
    /// The top's ports, checked against what Verilator generates; when empty, the ports are
    /// taken from the verilated top as they are.
    pub ports: Vec<Port>,
    /// Extra verilator arguments, for example `-GMEM_DIR="/abs/dir/"`.
    pub args: Vec<String>,
    /// Cache root; [`crate::default_cache_dir`] when `None`.
    pub cache_dir: Option<PathBuf>,
}

/// How a model was obtained.
#[derive(Clone, Debug)]
pub struct BuildInfo {
    /// Content hash of the build.
    pub key: String,
    /// The loaded shared library.
    pub library: PathBuf,
    /// Found in the cache (nothing was built).
    pub cache_hit: bool,
    /// Seconds spent compiling the Verilator runtime (0 when it was cached).
    pub runtime_secs: f64,
    /// Seconds in `verilator --cc`.
    pub verilate_secs: f64,
    /// Seconds compiling and linking the model.
    pub compile_secs: f64,
    /// Wall time of the whole call, loading included.
    pub total_secs: f64,
}

fn run(cmd: &mut Command) -> Result<Output, SimError> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound && shown.starts_with("\"verilator\"") {
            SimError::VerilatorMissing
        } else {
            SimError::Tool {
                cmd: shown.clone(),
                stderr: e.to_string(),
            }
        }
    })?;
    if !out.status.success() {
        let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !stdout.trim().is_empty() {
            stderr = format!("{stderr}\n{stdout}");
        }
        return Err(SimError::Tool { cmd: shown, stderr });
    }
    Ok(out)
}

struct Verilator {
    version: String,
    root: OnceLock<PathBuf>,
}

impl Verilator {
    /// `VERILATOR_ROOT` (asked only when something is built).
    fn root(&self) -> Result<&Path, SimError> {
        if let Some(r) = self.root.get() {
            return Ok(r);
        }
        let out = run(Command::new("verilator").args(["--getenv", "VERILATOR_ROOT"]))?;
        let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        Ok(self.root.get_or_init(|| root))
    }
}

fn verilator() -> Result<&'static Verilator, SimError> {
    static V: OnceLock<Verilator> = OnceLock::new();
    if let Some(v) = V.get() {
        return Ok(v);
    }
    let out = run(Command::new("verilator").arg("--version"))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let major = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    if major.is_none_or(|m| m < 5) {
        return Err(SimError::VerilatorVersion { found: version });
    }
    Ok(V.get_or_init(|| Verilator {
        version,
        root: OnceLock::new(),
    }))
}

/// `verilator --version`, or why it cannot run.
pub fn verilator_version() -> Result<String, SimError> {
    Ok(verilator()?.version.clone())
}

fn compiler() -> Result<cc::Tool, SimError> {
    cc::Build::new()
        .cpp(true)
        .target(env!("FERRITE_SIM_TARGET"))
        .host(env!("FERRITE_SIM_HOST"))
        .opt_level(2)
        .debug(false)
        .pic(true)
        .warnings(false)
        .cargo_metadata(false)
        .try_get_compiler()
        .map_err(|e| SimError::Compiler(e.to_string()))
}

fn ccache() -> Option<PathBuf> {
    static C: OnceLock<Option<PathBuf>> = OnceLock::new();
    C.get_or_init(|| {
        if std::env::var_os("FERRITE_NO_CCACHE").is_some() {
            return None;
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|d| d.join("ccache"))
            .find(|p| p.is_file())
    })
    .clone()
}

/// Flags every C++ compile gets after the `cc` tool's own (`-O2 -fPIC ...`).
fn cxx_flags(v: &Verilator, prelude: &Path, timing: bool) -> Result<Vec<String>, SimError> {
    let root = v.root()?;
    let mut f: Vec<String> = [
        "-std=gnu++17",
        "-fvisibility=hidden",
        "-faligned-new",
        "-fcf-protection=none",
        "-w",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if timing {
        f.push("-fcoroutines".into());
    }
    f.push("-include".into());
    f.push(prelude.display().to_string());
    f.push(format!("-I{}", root.join("include").display()));
    f.push(format!(
        "-I{}",
        root.join("include").join("vltstd").display()
    ));
    for (k, val) in DEFINES {
        f.push(format!("-D{k}={val}"));
    }
    Ok(f)
}

fn compile_command(tool: &cc::Tool, flags: &[String], src: &Path, obj: &Path) -> Command {
    let mut cmd = match ccache() {
        Some(c) => {
            let mut cmd = Command::new(c);
            cmd.arg(tool.path());
            cmd
        }
        None => Command::new(tool.path()),
    };
    cmd.args(tool.args())
        .args(flags)
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(obj);
    cmd
}

/// Lists of `V*_classes.mk`.
#[derive(Default)]
struct Classes {
    model: Vec<String>,
    global: Vec<String>,
    timing: bool,
}

fn parse_classes(text: &str) -> Classes {
    let mut c = Classes::default();
    let mut current: Option<bool> = None; // Some(true) = model list, Some(false) = global
    for line in text.lines() {
        let t = line.trim();
        if let Some((var, rest)) = t.split_once("+=") {
            let var = var.trim();
            current = match var {
                "VM_CLASSES_FAST" | "VM_CLASSES_SLOW" | "VM_SUPPORT_FAST" | "VM_SUPPORT_SLOW" => {
                    Some(true)
                }
                "VM_GLOBAL_FAST" | "VM_GLOBAL_SLOW" => Some(false),
                _ => None,
            };
            let rest = rest.trim().trim_end_matches('\\').trim();
            if !rest.is_empty() {
                push(&mut c, current, rest);
            }
            continue;
        }
        if let Some((var, val)) = t.split_once('=')
            && var.trim() == "VM_TIMING"
        {
            c.timing = val.trim() == "1";
        }
        if t.is_empty() {
            current = None;
            continue;
        }
        if current.is_some() && !t.starts_with('#') {
            let name = t.trim_end_matches('\\').trim();
            if !name.is_empty() {
                push(&mut c, current, name);
            }
        }
    }
    fn push(c: &mut Classes, which: Option<bool>, name: &str) {
        match which {
            Some(true) => c.model.push(name.to_string()),
            Some(false) => c.global.push(name.to_string()),
            None => {}
        }
    }
    c
}

/// Ports from the verilated header: lines like `VL_IN8(&clk,0,0);`, `VL_OUTW(&d,99,0,4);`.
fn parse_ports(header: &str) -> Vec<VerilatedPort> {
    let mut ports = Vec::new();
    for line in header.lines() {
        let t = line.trim();
        let Some(rest) = t.strip_prefix("VL_") else {
            continue;
        };
        let (dir, rest) = if let Some(r) = rest.strip_prefix("INOUT") {
            (None, r)
        } else if let Some(r) = rest.strip_prefix("IN") {
            (Some(PortDir::Input), r)
        } else if let Some(r) = rest.strip_prefix("OUT") {
            (Some(PortDir::Output), r)
        } else {
            continue;
        };
        let Some((ty, args)) = rest.split_once("(&") else {
            continue;
        };
        let args = args.trim_end_matches(';').trim_end_matches(')');
        let parts: Vec<&str> = args.split(',').map(str::trim).collect();
        if parts.len() < 3 {
            continue;
        }
        let (Ok(msb), Ok(lsb)) = (parts[1].parse::<u32>(), parts[2].parse::<u32>()) else {
            continue;
        };
        let kind = match ty {
            "8" => PortKind::C,
            "16" => PortKind::S,
            "" | "32" => PortKind::I,
            "64" => PortKind::Q,
            "W" => match parts.get(3).and_then(|w| w.parse().ok()) {
                Some(w) => PortKind::W(w),
                None => continue,
            },
            _ => continue,
        };
        ports.push(VerilatedPort {
            name: parts[0].to_string(),
            width: msb.max(lsb) - msb.min(lsb) + 1,
            // inout ports are driven like inputs
            dir: dir.unwrap_or(PortDir::Input),
            kind,
        });
    }
    ports
}

fn check_ports(top: &str, want: &[Port], got: &[VerilatedPort]) -> Result<(), SimError> {
    if want.is_empty() {
        return Ok(());
    }
    let bad = |why: String| {
        Err(SimError::Ports {
            top: top.to_string(),
            why,
        })
    };
    for p in want {
        match got.iter().find(|g| g.name == p.name) {
            None => {
                return bad(format!(
                    "has no port `{}` (it has: {})",
                    p.name,
                    got.iter()
                        .map(|g| g.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Some(g) if g.width != p.width || g.dir != p.dir => {
                return bad(format!(
                    "port `{}` is a {}-bit {:?}, expected a {}-bit {:?}",
                    p.name, g.width, g.dir, p.width, p.dir
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(g) = got.iter().find(|g| !want.iter().any(|p| p.name == g.name)) {
        return bad(format!("has port `{}`, which the port list lacks", g.name));
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, SimError> {
    std::fs::read_to_string(path).map_err(|e| SimError::io(path, e))
}

/// Compile the Verilator runtime files `names` once per cache; returns the objects.
fn runtime(
    root: &Path,
    v: &Verilator,
    tool: &cc::Tool,
    prelude: &Path,
    names: &[String],
    timing: bool,
) -> Result<(Vec<PathBuf>, f64), SimError> {
    let flags = cxx_flags(v, prelude, timing)?;
    let mut h = Hasher::new("runtime");
    h.field(&SHIM_VERSION.to_le_bytes());
    h.field(v.version.as_bytes());
    h.field(tool.path().as_os_str().as_encoded_bytes());
    for a in tool.args() {
        h.field(a.as_encoded_bytes());
    }
    for f in &flags {
        h.field(f.as_bytes());
    }
    for n in names {
        h.field(n.as_bytes());
    }
    h.field(PRELUDE_H.as_bytes());
    let key = h.hex()[..24].to_string();
    let dir = root.join("runtime").join(&key);
    let objs: Vec<PathBuf> = names.iter().map(|n| dir.join(format!("{n}.o"))).collect();
    if dir.is_dir() {
        return Ok((objs, 0.0));
    }
    let _lock = cache::lock(root, &format!("runtime-{key}"))?;
    if dir.is_dir() {
        return Ok((objs, 0.0));
    }
    let t0 = Instant::now();
    let tmp = root.join("runtime").join(format!("{key}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    create_dir(&tmp)?;
    // Compile the files in parallel: they are independent.
    let mut children = Vec::new();
    for n in names {
        let src = v.root()?.join("include").join(format!("{n}.cpp"));
        let obj = tmp.join(format!("{n}.o"));
        let mut cmd = compile_command(tool, &flags, &src, &obj);
        let shown = format!("{cmd:?}");
        let child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| SimError::Tool {
                cmd: shown.clone(),
                stderr: e.to_string(),
            })?;
        children.push((shown, child));
    }
    let mut first_err = None;
    for (shown, child) in children {
        match child.wait_with_output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                first_err.get_or_insert(SimError::Tool {
                    cmd: shown,
                    stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
                });
            }
            Err(e) => {
                first_err.get_or_insert(SimError::Tool {
                    cmd: shown,
                    stderr: e.to_string(),
                });
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    std::fs::rename(&tmp, &dir).map_err(|e| SimError::io(&dir, e))?;
    Ok((objs, t0.elapsed().as_secs_f64()))
}

/// Build (or find in the cache) and load the model described by `spec`.
pub fn build(spec: &BuildSpec) -> Result<Model, SimError> {
    build_with(spec, &mut |_| {})
}

/// [`build`], calling `step` as each long step starts: "verilating" and "compiling" (not
/// called on a cache hit).
pub fn build_with(spec: &BuildSpec, step: &mut dyn FnMut(&str)) -> Result<Model, SimError> {
    let t0 = Instant::now();
    let v = verilator()?;
    if spec.sources.is_empty() {
        return Err(SimError::Argument("no Verilog sources given".into()));
    }
    if spec.top.is_empty()
        || !spec
            .top
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(SimError::Argument(format!(
            "`{}` is not a Verilog module name",
            spec.top
        )));
    }
    let tool = compiler()?;
    let cache_dir = spec
        .cache_dir
        .clone()
        .unwrap_or_else(crate::default_cache_dir);
    let root = cache::root(&cache_dir);

    let mut h = Hasher::new("model");
    h.field(&SHIM_VERSION.to_le_bytes());
    h.field(v.version.as_bytes());
    h.field(tool.path().as_os_str().as_encoded_bytes());
    for a in tool.args() {
        h.field(a.as_encoded_bytes());
    }
    h.field(spec.top.as_bytes());
    for a in &spec.args {
        h.field(a.as_bytes());
    }
    for p in &spec.ports {
        h.field(format!("{}:{}:{:?}", p.name, p.width, p.dir).as_bytes());
    }
    for s in &spec.sources {
        let bytes = std::fs::read(s).map_err(|e| SimError::io(s, e))?;
        h.field(s.file_name().map_or(&[][..], |n| n.as_encoded_bytes()));
        h.field(&bytes);
    }
    let key = h.hex()[..32].to_string();
    let models = root.join("models");
    let lib = models.join(format!("{key}.so"));
    let ports_file = models.join(format!("{key}.ports"));

    let load = |hit: bool, rt: f64, vl: f64, cc: f64| -> Result<Model, SimError> {
        let ports = decode_ports(&read(&ports_file)?);
        let info = BuildInfo {
            key: key.clone(),
            library: lib.clone(),
            cache_hit: hit,
            runtime_secs: rt,
            verilate_secs: vl,
            compile_secs: cc,
            total_secs: t0.elapsed().as_secs_f64(),
        };
        Model::load(&lib, ports, info)
    };
    if lib.is_file() && ports_file.is_file() {
        return load(true, 0.0, 0.0, 0.0);
    }
    let _lock = cache::lock(&root, &key)?;
    if lib.is_file() && ports_file.is_file() {
        return load(true, 0.0, 0.0, 0.0);
    }

    // Prelude header: fixed text, written once per cache version.
    let inc = root.join("include");
    create_dir(&inc)?;
    let prelude = inc.join("fsim_prelude.h");
    if read(&prelude).ok().as_deref() != Some(PRELUDE_H) {
        write_atomic(&prelude, PRELUDE_H.as_bytes())?;
    }

    // Verilate into a stable directory (under the lock), so ccache sees the same paths.
    let work = root.join("work").join(&key);
    let _ = std::fs::remove_dir_all(&work);
    let obj_dir = work.join("obj");
    create_dir(&obj_dir)?;
    let prefix = format!("V{}", &key[..16]);
    // Verilator takes a source's path up to its first space as the file's name (and then
    // warns that the name does not match the module): verilate copies of the sources in a
    // directory whose path has no white space.
    let staged = stage_sources(&work, &spec.sources)?;
    step("verilating");
    let tv = Instant::now();
    let mut cmd = Command::new("verilator");
    cmd.args([
        "--cc",
        "-Wall",
        "--prefix",
        &prefix,
        "--top-module",
        &spec.top,
    ])
    .arg("--Mdir")
    .arg(&obj_dir)
    .args(&spec.args)
    .args(&staged.paths);
    run(&mut cmd)?;
    drop(staged);
    let verilate_secs = tv.elapsed().as_secs_f64();

    let classes = parse_classes(&read(&obj_dir.join(format!("{prefix}_classes.mk")))?);
    let vports = parse_ports(&read(&obj_dir.join(format!("{prefix}.h")))?);
    if vports.is_empty() {
        return Err(SimError::Ports {
            top: spec.top.clone(),
            why: "Verilator generated no ports".into(),
        });
    }
    check_ports(&spec.top, &spec.ports, &vports)?;

    step("compiling");
    let (rt_objs, runtime_secs) =
        runtime(&root, v, &tool, &prelude, &classes.global, classes.timing)?;

    // One translation unit: every generated file plus the shim.
    let tc = Instant::now();
    let shim_path = obj_dir.join("fsim_shim.cpp");
    std::fs::write(&shim_path, shim::generate(&prefix, &vports))
        .map_err(|e| SimError::io(&shim_path, e))?;
    let mut all = String::from("// ferrite-sim: one translation unit for the whole model\n");
    for c in &classes.model {
        all.push_str(&format!("#include \"{c}.cpp\"\n"));
    }
    all.push_str("#include \"fsim_shim.cpp\"\n");
    let all_path = obj_dir.join(format!("{prefix}__fsim_all.cpp"));
    std::fs::write(&all_path, all).map_err(|e| SimError::io(&all_path, e))?;
    let mut flags = cxx_flags(v, &prelude, classes.timing)?;
    flags.push(format!("-I{}", obj_dir.display()));
    let model_obj = work.join("model.o");
    run(&mut compile_command(&tool, &flags, &all_path, &model_obj))?;

    let tmp_lib = work.join("model.so");
    let mut link = tool.to_command();
    link.arg("-shared")
        .arg("-o")
        .arg(&tmp_lib)
        .arg(&model_obj)
        .args(&rt_objs)
        .args(["-pthread", "-latomic"]);
    run(&mut link)?;
    let compile_secs = tc.elapsed().as_secs_f64();

    create_dir(&models)?;
    write_atomic(&ports_file, encode_ports(&vports).as_bytes())?;
    let meta = format!(
        "{{\n  \"top\": {:?},\n  \"sources\": [{}],\n  \"args\": [{}],\n  \"verilator\": {:?},\n  \"verilate_secs\": {:.3},\n  \"compile_secs\": {:.3}\n}}\n",
        spec.top,
        spec.sources
            .iter()
            .map(|s| format!("{:?}", s.display().to_string()))
            .collect::<Vec<_>>()
            .join(", "),
        spec.args
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        v.version,
        verilate_secs,
        compile_secs
    );
    write_atomic(&models.join(format!("{key}.json")), meta.as_bytes())?;
    std::fs::rename(&tmp_lib, &lib).map_err(|e| SimError::io(&lib, e))?;
    let _ = std::fs::remove_dir_all(&work);
    load(false, runtime_secs, verilate_secs, compile_secs)
}

fn encode_ports(ports: &[VerilatedPort]) -> String {
    ports
        .iter()
        .map(|p| {
            let kind = match p.kind {
                PortKind::C => "8".to_string(),
                PortKind::S => "16".into(),
                PortKind::I => "32".into(),
                PortKind::Q => "64".into(),
                PortKind::W(w) => format!("W{w}"),
            };
            let dir = if p.dir == PortDir::Input { "in" } else { "out" };
            format!("{} {} {} {}\n", p.name, p.width, dir, kind)
        })
        .collect()
}

fn decode_ports(text: &str) -> Vec<Port> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let width = f.get(1)?.parse().ok()?;
            let dir = if *f.get(2)? == "in" {
                PortDir::Input
            } else {
                PortDir::Output
            };
            Some(Port {
                name: f[0].to_string(),
                width,
                dir,
            })
        })
        .collect()
}

/// Copies of the sources under a path without white space (see [`build`]).
struct Staged {
    paths: Vec<PathBuf>,
    /// A temporary directory to remove, when the cache's own path has white space.
    _tmp: Option<tempfile::TempDir>,
}

fn stage_sources(work: &Path, sources: &[PathBuf]) -> Result<Staged, SimError> {
    let has_space = |p: &Path| p.to_string_lossy().chars().any(char::is_whitespace);
    if !sources.iter().any(|s| has_space(s)) {
        return Ok(Staged {
            paths: sources.to_vec(),
            _tmp: None,
        });
    }
    let (dir, tmp) = if has_space(work) {
        let t = tempfile::Builder::new()
            .prefix("ferrite-sim-src-")
            .tempdir()
            .map_err(|e| SimError::io(std::env::temp_dir(), e))?;
        (t.path().to_path_buf(), Some(t))
    } else {
        (work.join("src"), None)
    };
    if has_space(&dir) {
        return Err(SimError::Argument(format!(
            "Verilator cannot read sources under a path with white space, and the temporary \
             directory {} has some; set TMPDIR to a path without spaces",
            dir.display()
        )));
    }
    create_dir(&dir)?;
    let mut paths = Vec::with_capacity(sources.len());
    for s in sources {
        let name = s
            .file_name()
            .ok_or_else(|| SimError::Argument(format!("{} is not a file", s.display())))?;
        let to = dir.join(name);
        if has_space(&to) || paths.contains(&to) {
            return Err(SimError::Argument(format!(
                "source {} has white space in its file name or the same name as another \
                 source; rename it",
                s.display()
            )));
        }
        std::fs::copy(s, &to).map_err(|e| SimError::io(s, e))?;
        paths.push(to);
    }
    Ok(Staged { paths, _tmp: tmp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_ports() {
        let h = "  VL_IN8(&clk,0,0);\n  VL_OUT16(&q,15,0);\n  VL_IN(&d,31,0);\n  VL_IN64(&e,40,0);\n  VL_OUTW(&w,99,0,4);\n";
        let p = parse_ports(h);
        assert_eq!(p.len(), 5);
        assert_eq!(p[0].kind, PortKind::C);
        assert_eq!((p[2].width, p[2].kind), (32, PortKind::I));
        assert_eq!((p[3].width, p[3].kind), (41, PortKind::Q));
        assert_eq!(
            (p[4].width, p[4].kind, p[4].dir),
            (100, PortKind::W(4), PortDir::Output)
        );
    }

    #[test]
    fn classes_lists() {
        let mk = "VM_TIMING = 0\nVM_CLASSES_FAST += \\\n\tVa \\\n\tVa_b \\\n\nVM_SUPPORT_SLOW += \\\n\tVa__Syms \\\n\nVM_GLOBAL_FAST += \\\n\tverilated \\\n\tverilated_threads \\\n\nVM_GLOBAL_SLOW += \\\n\n";
        let c = parse_classes(mk);
        assert_eq!(c.model, ["Va", "Va_b", "Va__Syms"]);
        assert_eq!(c.global, ["verilated", "verilated_threads"]);
        assert!(!c.timing);
    }
}
