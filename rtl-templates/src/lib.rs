//! Verilog templates.
