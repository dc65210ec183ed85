//! The plan: what a run will change in Synthesize, decided by pure code from what was read
//! (docs/contract.md §3, docs/ARCHITECTURE.md).
//!
//! A run reads its inputs (the source's [`Tally`], the accounts and services already in
//! Synthesize), then [`build`]s one [`Plan`]: the accounts to create or rename, the services
//! to create, and every (account, service) count to set, zeros included, each with its
//! reason. [`guard`] checks the plan before anything is written; `apply` writes exactly it;
//! `--dry-run` prints exactly it. Nothing here does I/O or knows a wire format.

mod build;
pub(crate) mod guard;
mod model;

pub use build::{accounts_after, build, plan_accounts, plan_usage};
pub use model::*;
