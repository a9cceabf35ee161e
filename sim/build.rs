//! Exports the target triple: the `cc` crate, used at run time outside a build script,
//! needs it to pick the C++ compiler and flags.
fn main() {
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let host = std::env::var("HOST").expect("cargo sets HOST");
    println!("cargo:rustc-env=FERRITE_SIM_TARGET={target}");
    println!("cargo:rustc-env=FERRITE_SIM_HOST={host}");
    println!("cargo:rerun-if-changed=build.rs");
}
