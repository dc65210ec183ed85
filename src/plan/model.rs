//! The plan's types: what a run will change, each part with its reason.

use serde::Serialize;

use crate::sources::Tally;

/// An account of the vendor in Synthesize: its id is the PSA company id, as a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
}

/// A service (sku) of the vendor in Synthesize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sku {
    pub id: String,
    pub name: String,
}

/// A service the source counts: its name and the description it is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDef {
    pub name: String,
    pub description: String,
}

/// Which parts a verb plans: `sync-accounts` the accounts, `sync-services` the services,
/// `sync-usage` the counts, `run` all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scope {
    pub accounts: bool,
    pub services: bool,
    pub counts: bool,
}

impl Scope {
    pub const ACCOUNTS: Scope = Scope {
        accounts: true,
        services: false,
        counts: false,
    };
    pub const SERVICES: Scope = Scope {
        accounts: false,
        services: true,
        counts: false,
    };
    pub const COUNTS: Scope = Scope {
        accounts: false,
        services: false,
        counts: true,
    };
    pub const ALL: Scope = Scope {
        accounts: true,
        services: true,
        counts: true,
    };
}

/// What the plan is made from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub tally: &'a Tally,
    /// The accounts in Synthesize.
    pub existing: &'a [Account],
    /// The vendor's services in Synthesize.
    pub skus: &'a [Sku],
    /// The services the source counts, in their configured order.
    pub services: &'a [ServiceDef],
    pub scope: Scope,
}

/// What to do about one of the source's services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ServiceAction {
    /// It exists (same name, ignoring case and spaces), with this sku id.
    Exists { id: String },
    /// It is missing: create it.
    Create { description: String },
    /// It is missing and this verb does not create services (`sync-usage` before
    /// `sync-services`): its counts are blocked.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceStep {
    pub name: String,
    #[serde(flatten)]
    pub action: ServiceAction,
}

/// Why a count is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The items of this service counted at this company.
    Counted,
    /// Nothing of this service is counted at this company (or the company has nothing
    /// counted at all): 0, so a customer whose items are gone stops being billed.
    NothingCounted,
}

/// A note for the log, decided with the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "level", content = "text", rename_all = "snake_case")]
pub enum Note {
    Warn(String),
    Info(String),
}

/// Everything a run will change, in the order it is applied. It serialises whole (reasons
/// included), so a ledger can store it and compare it with a later one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub accounts: AccountPlan,
    pub services: Vec<ServiceStep>,
    pub counts: Vec<PlannedCount>,
    pub notes: Vec<Note>,
    /// The vendor's services in Synthesize that this source and configuration do not count:
    /// their counts stay as they are, and keep billing (`retire-service` stops them).
    pub foreign: Vec<String>,
}

/// Why a planned count cannot be written (a dry run says so too: it predicts the real run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Blocked {
    /// The account does not exist in Synthesize and this verb does not create accounts.
    MissingAccount,
    /// The service does not exist in Synthesize and this verb does not create services.
    MissingService,
}

/// An account rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rename {
    pub id: String,
    pub from: String,
    pub to: String,
}

/// What `sync-accounts` will do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountPlan {
    pub create: Vec<Account>,
    pub rename: Vec<Rename>,
    /// Accounts already there with the right name.
    pub unchanged: usize,
}

/// One count to set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedCount {
    pub account_id: String,
    pub account_name: String,
    pub service: String,
    pub count: u64,
    pub reason: Reason,
    /// Set when the count cannot be written as things stand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Blocked>,
}
