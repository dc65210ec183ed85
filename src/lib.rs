//! synthesize-sync: keep Gradient Synthesize unit counts true to what the PSA says.
//!
//! The pipeline is source → plan → apply → report:
//! - a **source** (ConnectWise, Autotask) reads one PSA and folds what it reads,
//!   page by page, into per-company tallies; it knows nothing of Synthesize;
//! - the **plan** is pure: tallies + the accounts already in Synthesize →
//!   the accounts to create or rename and every (account, service) count to set;
//! - **apply** writes the plan through the Synthesize client ([`gradient`]), which knows
//!   nothing of PSAs;
//! - the **report** ([`output`]) prints text or one JSON document.
//!
//! Every client sits on the one HTTP layer in [`http`].

pub mod app;
pub mod autotask;
pub mod cli;
pub mod connectwise;
pub mod error;
pub mod gradient;
pub mod http;
pub mod names;
pub mod output;
pub mod plan;
pub mod progress;
pub mod sandbox;
pub mod secret;
pub mod settings;
pub mod source;
pub mod sync;
pub mod terminal;
