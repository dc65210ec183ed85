//! Simulator module: autotask (in progress).
