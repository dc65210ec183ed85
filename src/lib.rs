//! synthesize-sync: keep Gradient Synthesize unit counts true to what the PSA says.
//!
//! The pipeline is source → plan → guard → apply → report (docs/ARCHITECTURE.md):
//! - a **source** ([`sources`]) reads one PSA and folds what it reads, page by page, into
//!   per-company tallies; it knows nothing of Synthesize;
//! - the **plan** ([`plan`]) is pure: tallies + what Synthesize holds → the accounts to
//!   create or rename, the services to create, every (account, service) count to set;
//! - its **guards** ([`plan::guard`]) refuse a plan that would stop billing everyone;
//! - **apply** writes exactly the plan through the Synthesize client ([`gradient`]), which
//!   knows nothing of PSAs;
//! - the **report** ([`report`]) prints text or one JSON document.
//!
//! Every client sits on the one HTTP layer in [`http`]. The verbs ([`verbs`]) tie the steps
//! together; [`config`] turns the environment and `.env` into typed settings.

mod apply;
pub mod callbacks;
pub mod config;
pub mod engagement;
pub mod error;
pub mod gradient;
pub mod http;
pub mod interrupt;
pub mod ledger;
mod names;
pub mod plan;
pub mod progress;
pub mod report;
pub mod secret;
pub mod sources;
pub mod text;
pub mod verbs;
