//! Simulator module: connectwise (in progress).
