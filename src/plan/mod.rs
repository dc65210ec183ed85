//! The plan: what a run will change in Synthesize, decided by pure code from what was read
//! (docs/contract.md §3, docs/ARCHITECTURE.md).
//!
//! A run reads its inputs (the source's [`Tally`], the accounts and services already in
//! Synthesize), then [`build`]s one [`Plan`]: the accounts to create or rename, the services
//! to create, and every (account, service) count to set, zeros included, each with its
//! reason. [`guard`] checks the plan before anything is written; `apply` writes exactly it;
//! `--dry-run` prints exactly it. Nothing here does I/O or knows a wire format.

pub mod guard;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::names::normalize;
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
    /// Plan counts for services that do not exist yet even when the scope does not create
    /// them: a `sync-usage --dry-run` before `sync-services` shows what it would write.
    pub allow_missing_services: bool,
}

/// What to do about one of the source's services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ServiceAction {
    /// It exists (same name, ignoring case and spaces), with this sku id.
    Exists { id: String },
    /// It is missing: create it.
    Create { description: String },
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    Warn(String),
    Info(String),
}

/// Everything a run will change, in the order it is applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub accounts: AccountPlan,
    pub services: Vec<ServiceStep>,
    pub counts: Vec<PlannedCount>,
    pub notes: Vec<Note>,
}

/// A count the plan needs to write to a service that does not exist and that it does not
/// create (`sync-usage` before `sync-services`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingService(pub String);

/// Builds the plan of `inputs.scope` from what was read.
pub fn build(inputs: Inputs<'_>) -> Result<Plan, MissingService> {
    let mut plan = Plan::default();
    if inputs.scope.accounts {
        plan.accounts = plan_accounts(inputs.tally, inputs.existing);
    }
    for def in inputs.services {
        let matching: Vec<&Sku> = inputs
            .skus
            .iter()
            .filter(|s| normalize(&s.name) == normalize(&def.name))
            .collect();
        let action = match matching.as_slice() {
            [] => {
                if inputs.scope.counts && !inputs.scope.services && !inputs.allow_missing_services {
                    return Err(MissingService(def.name.clone()));
                }
                ServiceAction::Create {
                    description: def.description.clone(),
                }
            }
            [one, rest @ ..] => {
                if !rest.is_empty() && inputs.scope.counts {
                    plan.notes.push(Note::Warn(format!(
                        "Synthesize has {} services named '{}'; writing to the first ({}). \
                         Delete the duplicates in Synthesize",
                        matching.len(),
                        def.name,
                        one.id
                    )));
                }
                ServiceAction::Exists { id: one.id.clone() }
            }
        };
        plan.services.push(ServiceStep {
            name: def.name.clone(),
            action,
        });
    }
    if inputs.scope.counts {
        let accounts = if inputs.scope.accounts {
            accounts_after(&plan.accounts, inputs.existing)
        } else {
            inputs.existing.to_vec()
        };
        if let Some(note) = accounts_without_units(inputs.tally, &accounts) {
            plan.notes.push(note);
        }
        let names: Vec<String> = inputs.services.iter().map(|s| s.name.clone()).collect();
        plan.counts = plan_usage(inputs.tally, &names, &accounts);
    }
    Ok(plan)
}

/// Accounts in Synthesize with no counted item are set to 0: normal for a customer whose
/// devices are gone, suspicious when it is every account (another integration's tokens,
/// or another source's settings file).
fn accounts_without_units(tally: &Tally, accounts: &[Account]) -> Option<Note> {
    let without = accounts
        .iter()
        .filter(|a| {
            !tally
                .companies
                .get(&a.id)
                .is_some_and(|c| c.counts.values().any(|n| *n > 0))
        })
        .count();
    if without == 0 {
        None
    } else if without == accounts.len() && tally.total() > 0 {
        Some(Note::Warn(format!(
            "none of the {} accounts already in Synthesize has anything counted in the PSA; \
             they will all be set to 0. Check that the Gradient tokens belong to this source's integration",
            accounts.len()
        )))
    } else {
        Some(Note::Info(format!(
            "{} of the {} accounts in Synthesize have nothing counted in the PSA; they are set to 0",
            without,
            accounts.len()
        )))
    }
}

/// The accounts Synthesize has once `plan` is applied.
pub fn accounts_after(plan: &AccountPlan, existing: &[Account]) -> Vec<Account> {
    let mut after: Vec<Account> = existing
        .iter()
        .map(|a| match plan.rename.iter().find(|r| r.id == a.id) {
            Some(r) => Account {
                id: a.id.clone(),
                name: r.to.clone(),
            },
            None => a.clone(),
        })
        .collect();
    after.extend(plan.create.iter().cloned());
    after
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

/// A company's display name when the PSA gave none.
fn fallback_name(id: &str) -> String {
    format!("Company {id}")
}

/// Accounts to create (companies with at least one counted item, absent from Synthesize;
/// ids compared as strings) and to rename (name changed in the PSA).
pub fn plan_accounts(tally: &Tally, existing: &[Account]) -> AccountPlan {
    let by_id: BTreeMap<&str, &Account> = existing.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut plan = AccountPlan::default();
    for (id, company) in &tally.companies {
        let counted = company.counts.values().any(|n| *n > 0);
        match by_id.get(id.as_str()) {
            None if counted => plan.create.push(Account {
                id: id.clone(),
                name: company.name.clone().unwrap_or_else(|| fallback_name(id)),
            }),
            None => {}
            Some(a) => match &company.name {
                Some(name) if name != &a.name => plan.rename.push(Rename {
                    id: id.clone(),
                    from: a.name.clone(),
                    to: name.clone(),
                }),
                _ => plan.unchanged += 1,
            },
        }
    }
    // People read these lists: by name, then id.
    plan.create.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.id.cmp(&b.id))
    });
    plan
}

/// One count to set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedCount {
    pub account_id: String,
    pub account_name: String,
    pub service: String,
    pub count: u64,
    #[serde(skip)]
    pub reason: Reason,
}

/// Every (account, service) pair of this source, where an account is a company with at
/// least one counted item or an account already in Synthesize. Zero is a count: a pair with
/// no items is set to 0, so a customer whose items are gone stops being billed.
/// Ordered by account name, then id, then the services' configured order.
pub fn plan_usage(tally: &Tally, services: &[String], existing: &[Account]) -> Vec<PlannedCount> {
    let mut accounts: BTreeMap<String, String> = existing
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    for (id, company) in &tally.companies {
        if company.counts.values().any(|n| *n > 0) {
            let name = company.name.clone().unwrap_or_else(|| fallback_name(id));
            accounts.entry(id.clone()).or_insert(name);
        }
    }
    let mut ordered: Vec<(String, String)> = accounts.into_iter().collect();
    ordered.sort_by(|a, b| {
        a.1.to_lowercase()
            .cmp(&b.1.to_lowercase())
            .then_with(|| a.0.cmp(&b.0))
    });
    let mut plan = Vec::with_capacity(ordered.len() * services.len());
    for (id, name) in ordered {
        let counts = tally.companies.get(&id).map(|c| &c.counts);
        for service in services {
            let count = counts.and_then(|c| c.get(service)).copied().unwrap_or(0);
            plan.push(PlannedCount {
                account_id: id.clone(),
                account_name: name.clone(),
                service: service.clone(),
                count,
                reason: if count > 0 {
                    Reason::Counted
                } else {
                    Reason::NothingCounted
                },
            });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::tally::CompanyTally;

    const SHARED_DEVICES: &str = "Shared Devices";
    const NOT_SHARED_DEVICES: &str = "Not Shared Devices";

    fn acct(id: &str, name: &str) -> Account {
        Account {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn accounts_created_only_for_companies_with_counted_items_and_renamed_when_changed() {
        let mut t = Tally::default();
        t.count("250", Some("Contoso Ltd"), "Billed User");
        t.count("7", Some("Fabrikam"), "Billed User");
        t.count("0", None, "Billed User");
        t.companies.insert(
            "9".into(),
            CompanyTally {
                name: Some("Nothing counted".into()),
                counts: BTreeMap::new(),
            },
        );
        let existing = vec![acct("250", "Contoso"), acct("7", "Fabrikam")];
        let plan = plan_accounts(&t, &existing);
        assert_eq!(plan.create, vec![acct("0", "Company 0")]);
        assert_eq!(
            plan.rename,
            vec![Rename {
                id: "250".into(),
                from: "Contoso".into(),
                to: "Contoso Ltd".into()
            }]
        );
        assert_eq!(plan.unchanged, 1);
    }

    #[test]
    fn ids_are_compared_as_strings() {
        let mut t = Tally::default();
        t.count("007", Some("Bond"), "S");
        let plan = plan_accounts(&t, &[acct("7", "Bond")]);
        assert_eq!(plan.create.len(), 1, "'007' and '7' are different accounts");
    }

    #[test]
    fn every_pair_is_planned_and_zero_is_a_count() {
        let mut t = Tally::default();
        t.count("250", Some("Contoso"), "Shared Devices");
        t.count("12", Some("Álvarez & Hijos"), "Not Shared Devices");
        let services = vec![SHARED_DEVICES.to_string(), NOT_SHARED_DEVICES.to_string()];
        // "3" was synced before and has no items any more: it still gets zeros.
        let existing = vec![acct("250", "Contoso"), acct("3", "Gone Corp")];
        let plan = plan_usage(&t, &services, &existing);
        let got: Vec<(&str, &str, u64)> = plan
            .iter()
            .map(|p| (p.account_id.as_str(), p.service.as_str(), p.count))
            .collect();
        assert_eq!(
            got,
            vec![
                ("250", "Shared Devices", 1),
                ("250", "Not Shared Devices", 0),
                ("3", "Shared Devices", 0),
                ("3", "Not Shared Devices", 0),
                ("12", "Shared Devices", 0),
                ("12", "Not Shared Devices", 1),
            ]
        );
    }

    #[test]
    fn nothing_counted_and_no_accounts_means_nothing_to_write() {
        assert!(plan_usage(&Tally::default(), &["S".to_string()], &[]).is_empty());
    }

    #[test]
    fn existing_account_name_is_kept_in_the_plan_rows() {
        let mut t = Tally::default();
        t.count("1", Some("New Name"), "S");
        let plan = plan_usage(&t, &["S".to_string()], &[acct("1", "Old Name")]);
        assert_eq!(plan[0].account_name, "Old Name");
    }
}
