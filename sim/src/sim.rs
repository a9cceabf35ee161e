//! A loaded model and its instances.

use crate::shim::{RC_OK, SHIM_VERSION};
use crate::stream::{FsimStreamArgs, FsimStreamResult};
use crate::{BuildInfo, Port, PortDir, SimError};
use libloading::Library;
use std::ffi::{CStr, c_char, c_void};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

type NewFn = unsafe extern "C" fn(u64, *mut c_char, usize) -> *mut c_void;
type DeleteFn = unsafe extern "C" fn(*mut c_void);
type StrFn = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type VoidFn = unsafe extern "C" fn(*mut c_void);
type SetFn = unsafe extern "C" fn(*mut c_void, i32, *const u32) -> i32;
type GetFn = unsafe extern "C" fn(*mut c_void, i32, *mut u32) -> i32;
type EvalFn = unsafe extern "C" fn(*mut c_void) -> i32;
type TimeFn = unsafe extern "C" fn(*mut c_void, u64);
type TapLenFn = unsafe extern "C" fn(*mut c_void, i32) -> u64;
type TapReadFn = unsafe extern "C" fn(*mut c_void, i32, *mut u32, *mut u64);
pub(crate) type StreamFn =
    unsafe extern "C" fn(*mut c_void, *const FsimStreamArgs, *mut FsimStreamResult) -> i32;
type VersionFn = unsafe extern "C" fn() -> u32;

/// The shim's entry points, resolved once per model.
#[derive(Clone, Copy)]
pub(crate) struct Api {
    new: NewFn,
    delete: DeleteFn,
    error: StrFn,
    log: StrFn,
    clear_log: VoidFn,
    set: SetFn,
    get: GetFn,
    eval: EvalFn,
    time_inc: TimeFn,
    pub tap_len: TapLenFn,
    pub tap_read: TapReadFn,
    pub stream: StreamFn,
}

struct Inner {
    // Keeps the library mapped while any instance or the model lives.
    _lib: Library,
    api: Api,
    ports: Vec<Port>,
    info: BuildInfo,
}

/// A built, loaded model: make instances of it with [`Model::instantiate`]. Cheap to clone.
#[derive(Clone)]
pub struct Model(Arc<Inner>);

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("library", &self.0.info.library)
            .field("ports", &self.0.ports)
            .finish()
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").field("model", &self.model).finish()
    }
}

impl Model {
    pub(crate) fn load(path: &Path, ports: Vec<Port>, info: BuildInfo) -> Result<Model, SimError> {
        let err = |source| SimError::Load {
            path: path.display().to_string(),
            source,
        };
        // SAFETY: the library is one we built from the shim; its initialisers only set up
        // Verilator's static state.
        let lib = unsafe { Library::new(path) }.map_err(err)?;
        // SAFETY: the symbol types match the shim's `extern "C"` definitions (checked by the
        // shim version below).
        let api = unsafe {
            let version: VersionFn = *lib.get::<VersionFn>(b"fsim_shim_version").map_err(err)?;
            if version() != SHIM_VERSION {
                return Err(SimError::Ports {
                    top: path.display().to_string(),
                    why: format!(
                        "library has shim version {}, expected {SHIM_VERSION}; delete it from the cache",
                        version()
                    ),
                });
            }
            Api {
                new: *lib.get(b"fsim_new").map_err(err)?,
                delete: *lib.get(b"fsim_delete").map_err(err)?,
                error: *lib.get(b"fsim_error").map_err(err)?,
                log: *lib.get(b"fsim_log").map_err(err)?,
                clear_log: *lib.get(b"fsim_clear_log").map_err(err)?,
                set: *lib.get(b"fsim_set_port").map_err(err)?,
                get: *lib.get(b"fsim_get_port").map_err(err)?,
                eval: *lib.get(b"fsim_eval").map_err(err)?,
                time_inc: *lib.get(b"fsim_time_inc").map_err(err)?,
                tap_len: *lib.get(b"fsim_tap_len").map_err(err)?,
                tap_read: *lib.get(b"fsim_tap_read").map_err(err)?,
                stream: *lib.get(b"fsim_stream").map_err(err)?,
            }
        };
        Ok(Model(Arc::new(Inner {
            _lib: lib,
            api,
            ports,
            info,
        })))
    }

    /// The top's ports, in the order Verilator declares them.
    pub fn ports(&self) -> &[Port] {
        &self.0.ports
    }

    pub fn info(&self) -> &BuildInfo {
        &self.0.info
    }

    /// A fresh instance. Registers and memories start random (Verilator `randReset(2)`),
    /// seeded by `seed`; `$error`, `$stop`, `$finish` and Verilator warnings become
    /// [`SimError::Design`] instead of ending the process.
    pub fn instantiate(&self, seed: u64) -> Result<Sim, SimError> {
        let mut buf = vec![0 as c_char; 8192];
        // SAFETY: the buffer outlives the call and its length is passed.
        let h = unsafe { (self.0.api.new)(seed, buf.as_mut_ptr(), buf.len()) };
        match NonNull::new(h) {
            Some(handle) => Ok(Sim {
                model: self.clone(),
                handle,
            }),
            None => {
                // SAFETY: the shim wrote a NUL-terminated string (snprintf).
                let msg = unsafe { CStr::from_ptr(buf.as_ptr()) }
                    .to_string_lossy()
                    .into_owned();
                let (message, log) = msg.split_once('\n').unwrap_or((&msg, ""));
                Err(SimError::Design {
                    message: message.to_string(),
                    log: log.to_string(),
                })
            }
        }
    }
}

/// One instance of a model. Not `Send`: a Verilator model stays on the thread that made it.
pub struct Sim {
    model: Model,
    handle: NonNull<c_void>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        // SAFETY: the handle came from `fsim_new` and is deleted once.
        unsafe { (self.model.0.api.delete)(self.handle.as_ptr()) }
    }
}

impl Sim {
    pub fn model(&self) -> &Model {
        &self.model
    }

    pub(crate) fn api(&self) -> Api {
        self.model.0.api
    }

    pub(crate) fn raw(&self) -> *mut c_void {
        self.handle.as_ptr()
    }

    /// Index of port `name` (its position in [`Model::ports`]).
    pub fn port(&self, name: &str) -> Result<usize, SimError> {
        self.model
            .ports()
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| SimError::UnknownPort {
                name: name.to_string(),
                known: self
                    .model
                    .ports()
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Set input `name` from little-endian 32-bit words (bits above the width are ignored).
    pub fn set(&mut self, name: &str, words: &[u32]) -> Result<(), SimError> {
        let i = self.port(name)?;
        let p = &self.model.ports()[i];
        if p.dir != PortDir::Input {
            return Err(SimError::Argument(format!("port `{name}` is an output")));
        }
        if words.len() != p.words() {
            return Err(SimError::Argument(format!(
                "port `{name}` is {} bits = {} words, got {} words",
                p.width,
                p.words(),
                words.len()
            )));
        }
        // SAFETY: `words` holds exactly the port's word count.
        unsafe { (self.api().set)(self.raw(), i as i32, words.as_ptr()) };
        Ok(())
    }

    /// Set a port of at most 64 bits.
    pub fn set_u64(&mut self, name: &str, v: u64) -> Result<(), SimError> {
        let i = self.port(name)?;
        let n = self.model.ports()[i].words();
        let w = [v as u32, (v >> 32) as u32];
        let mut words = vec![0u32; n];
        for (d, s) in words.iter_mut().zip(w) {
            *d = s;
        }
        self.set(name, &words)
    }

    /// Read port `name` as little-endian 32-bit words.
    pub fn get(&self, name: &str) -> Result<Vec<u32>, SimError> {
        let i = self.port(name)?;
        let mut w = vec![0u32; self.model.ports()[i].words()];
        // SAFETY: `w` holds exactly the port's word count.
        unsafe { (self.api().get)(self.raw(), i as i32, w.as_mut_ptr()) };
        Ok(w)
    }

    /// The low 64 bits of port `name`.
    pub fn get_u64(&self, name: &str) -> Result<u64, SimError> {
        let w = self.get(name)?;
        Ok(w[0] as u64 | (w.get(1).copied().unwrap_or(0) as u64) << 32)
    }

    /// Evaluate the design after input changes.
    pub fn eval(&mut self) -> Result<(), SimError> {
        // SAFETY: valid handle.
        let rc = unsafe { (self.api().eval)(self.raw()) };
        if rc != RC_OK {
            return Err(self.design_error());
        }
        Ok(())
    }

    /// One clock cycle on input `clk`: low, evaluate, high, evaluate.
    pub fn tick(&mut self, clk: &str) -> Result<(), SimError> {
        self.set_u64(clk, 0)?;
        self.eval()?;
        // SAFETY: valid handle.
        unsafe { (self.api().time_inc)(self.raw(), 1) };
        self.set_u64(clk, 1)?;
        self.eval()?;
        unsafe { (self.api().time_inc)(self.raw(), 1) };
        Ok(())
    }

    /// What the design printed so far (`$display`, Verilator messages), capped at 64 KiB.
    pub fn log(&self) -> String {
        // SAFETY: the shim returns a NUL-terminated string owned by the instance.
        unsafe { CStr::from_ptr((self.api().log)(self.raw())) }
            .to_string_lossy()
            .into_owned()
    }

    pub fn clear_log(&mut self) {
        // SAFETY: valid handle.
        unsafe { (self.api().clear_log)(self.raw()) }
    }

    pub(crate) fn design_error(&self) -> SimError {
        // SAFETY: the shim returns a NUL-terminated string owned by the instance.
        let message = unsafe { CStr::from_ptr((self.api().error)(self.raw())) }
            .to_string_lossy()
            .into_owned();
        SimError::Design {
            message,
            log: self.log(),
        }
    }
}
