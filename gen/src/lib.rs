//! ferrite-gen: the ferrite compiler. Stages, in data-flow order:
//! `import` (QONNX) -> `ir` -> `passes` -> `fold` -> `emit` -> `report`; `golden` is the
//! bit-accurate model of `ir`.

pub mod fold;
pub mod golden;
pub mod ir;
