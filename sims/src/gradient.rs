//! Simulator module: gradient (in progress).
