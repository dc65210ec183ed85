//! The verbs (docs/contract.md §1), one file each. A verb resolves the typed configuration
//! it needs from the raw settings, reads, builds one [`Plan`](crate::plan::Plan), checks its
//! guards, applies it, and returns its report; `main` prints it. Library callers (the
//! benchmarks, the demo) call these functions directly.

mod authenticate;
mod callbacks;
mod clients;
mod common;
#[cfg(feature = "sandbox")]
pub mod demo;
mod doctor;
mod engagement;
mod history;
mod listen;
mod retire_service;
mod run;
#[cfg(feature = "sandbox")]
pub mod sandbox;
mod session;
mod sync_accounts;
mod sync_services;
mod sync_usage;
mod update_status;

pub use crate::engagement::read::Filters as EngagementFilters;
pub use crate::plan::guard::Allowances;
pub use authenticate::authenticate;
pub use clients::{ClientsOutput, clients};

/// `--type` and `--status` of `clients` and `engagement` (exit 2 when unusable).
pub fn engagement_filters(
    company_type: &str,
    status: &str,
) -> crate::error::Result<EngagementFilters> {
    EngagementFilters::new(company_type, status)
}
pub use callbacks::{CallbacksAction, callbacks};
pub use common::{WriteFlags, check_settings, fail_on_failed_writes};
pub use doctor::doctor;
pub use engagement::{EngagementArgs, EngagementOutput, engagement};
pub use history::{HistoryAnswer, HistoryQuery, history};
pub use listen::{ListenOptions, listen};
pub use retire_service::retire_service;
pub use run::run;
pub use sync_accounts::sync_accounts;
pub use sync_services::sync_services;
pub use sync_usage::sync_usage;
pub use update_status::update_status;
