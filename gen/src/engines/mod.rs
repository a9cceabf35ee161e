pub mod pad;
pub mod pool;
