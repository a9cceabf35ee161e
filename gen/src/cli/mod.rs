//! One module per subcommand; each exposes `Args` (clap) and `run`.
pub mod build;
pub mod cosim;
pub mod golden;
pub mod inspect;
