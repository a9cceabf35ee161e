//! Verilator harness.
