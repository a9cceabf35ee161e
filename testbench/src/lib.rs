//! Co-simulation test helpers.
