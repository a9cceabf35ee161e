//! The build cache.
//!
//! Layout under the cache root (see [`default_cache_dir`]):
//!
//! ```text
//! sim-v<SHIM_VERSION>/
//!   include/fsim_prelude.h     force-included into every Verilator source
//!   runtime/<key>/*.o           Verilator runtime, compiled once per (verilator, compiler, flags)
//!   models/<key>.so             one loadable model per content hash
//!   models/<key>.json           what it was built from, and how long it took
//!   work/<key>/                 build directory of a model (removed after success)
//!   locks/<key>.lock            one lock per key: a build happens once, other builders wait
//! ```
//!
//! Keys are sha256 over everything a build depends on (source names and contents, top,
//! ports, verilator arguments and version, compiler and flags, shim version). Results appear
//! by atomic rename, never by writing in place, so a loaded library is never overwritten.

use crate::SimError;
use crate::shim::SHIM_VERSION;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::{Path, PathBuf};

/// `$FERRITE_CACHE`, else `$XDG_CACHE_HOME/ferrite`, else `~/.cache/ferrite`, else a
/// directory under the system temp dir.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FERRITE_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("ferrite");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(h).join(".cache").join("ferrite");
    }
    std::env::temp_dir().join("ferrite-cache")
}

/// The versioned root inside a cache dir (`<cache>/sim-v<N>`).
pub fn root(cache: &Path) -> PathBuf {
    cache.join(format!("sim-v{SHIM_VERSION}"))
}

/// Incremental content hash.
pub(crate) struct Hasher(Sha256);

impl Hasher {
    pub fn new(kind: &str) -> Hasher {
        let mut h = Hasher(Sha256::new());
        h.field(kind.as_bytes());
        h
    }

    /// Length-prefixed, so concatenations cannot collide.
    pub fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    pub fn hex(self) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

pub(crate) fn create_dir(p: &Path) -> Result<(), SimError> {
    std::fs::create_dir_all(p).map_err(|e| SimError::io(p, e))
}

/// An exclusive lock on `<root>/locks/<key>.lock`, released on drop. Works between threads
/// (each lock opens its own file description) and between processes.
pub(crate) struct Lock(#[allow(dead_code)] File);

pub(crate) fn lock(root: &Path, key: &str) -> Result<Lock, SimError> {
    let dir = root.join("locks");
    create_dir(&dir)?;
    let path = dir.join(format!("{key}.lock"));
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| SimError::io(&path, e))?;
    f.lock().map_err(|e| SimError::io(&path, e))?;
    Ok(Lock(f))
}

/// Write `bytes` to `path` through a temp file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| SimError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| SimError::io(path, e))
}
