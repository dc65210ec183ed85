//! What a source is to the rest of the tool: the two small traits every source implements.

use futures_util::future::LocalBoxFuture;

use super::tally::Tally;
use crate::config::{Env, HttpSettings};
use crate::error::{Result, Side};
use crate::progress::Progress;

/// A source opened with its settings, ready to read.
pub trait Source {
    /// Checks the credentials with one cheap call; says who we are connected as,
    /// e.g. "ConnectWise company 'mymsp' at https://api-na.myconnectwise.net (v2025.1)".
    fn identity(&mut self) -> LocalBoxFuture<'_, Result<String>>;

    /// Reads everything the source counts and folds it per company. All or nothing:
    /// any page that fails after its retries fails the whole read.
    fn tally<'a>(&'a mut self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Tally>>;

    /// Checks the configured type names against the PSA's own lists: a name it lacks is a
    /// settings error listing the real ones (exit 2), as a read would find.
    fn check_types(&mut self) -> LocalBoxFuture<'_, Result<()>>;

    /// Requests sent to the PSA so far, retries included.
    fn request_count(&self) -> u64;

    /// The PSA's shared request budget as it last reported it, for PSAs that have one
    /// (Autotask's hourly threshold, docs/apis.md §3.7).
    fn request_budget(&self) -> Option<RequestBudget> {
        None
    }
}

/// A request budget shared by every integration of a PSA tenant, as the PSA reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestBudget {
    pub used: u64,
    pub limit: u64,
    pub window_minutes: u64,
    /// The share (percent) above which a run refuses to start (`AUTOTASK_MAX_SHARE`).
    pub max_share: u64,
}

impl RequestBudget {
    /// The share used, in percent (a budget of 0 is all used).
    pub fn percent_used(&self) -> f64 {
        if self.limit == 0 {
            100.0
        } else {
            self.used as f64 * 100.0 / self.limit as f64
        }
    }
}

/// What the registry knows of a source before any PSA setting is read.
pub trait SourceDef: Sync {
    /// The name on the command line, in settings and reports (`connectwise-contacts`).
    fn name(&self) -> &'static str;
    /// What it counts, in a few words (for `--help`).
    fn about(&self) -> &'static str;
    /// The PSA it reads.
    fn psa(&self) -> Side;
    /// The prefix of the settings it reads (`CONNECTWISE_`).
    fn variable_prefix(&self) -> &'static str;
    /// The settings that hold its credentials: scrubbed from anything printed.
    fn secret_variables(&self) -> &'static [&'static str];
    /// Every setting it reads (to tell a misspelt one).
    fn settings(&self) -> &'static [&'static str];
    /// Checks the source's settings that are present (not whether required ones are).
    fn check_settings(&self, env: &Env) -> Result<()>;
    /// The services it counts, in a stable order (needs no PSA credentials).
    fn services(&self, env: &Env) -> Result<Vec<String>>;
    /// The description of a service it creates in Synthesize.
    fn service_description(&self, service: &str) -> String;
    /// Resolves the source's settings (the required ones included) and opens it.
    fn open(&self, env: &Env, http: &HttpSettings) -> Result<Box<dyn Source>>;
}
