//! Building the plan: pure functions from what was read to what will change.

use std::collections::BTreeMap;

use super::model::{
    Account, AccountPlan, Blocked, Inputs, Note, Plan, PlannedCount, Reason, Rename, ServiceAction,
    ServiceStep, Sku,
};
use crate::names::normalize;
use crate::sources::Tally;

/// Builds the plan of `inputs.scope` from what was read.
pub fn build(inputs: Inputs<'_>) -> Plan {
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
            [] if !inputs.scope.services => ServiceAction::Missing,
            [] => ServiceAction::Create {
                description: def.description.clone(),
            },
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
    plan.foreign = inputs
        .skus
        .iter()
        .filter(|sku| {
            !inputs
                .services
                .iter()
                .any(|d| normalize(&d.name) == normalize(&sku.name))
        })
        .map(|sku| sku.name.clone())
        .collect();
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
        // What cannot be written as things stand: said per pair, in a dry run too.
        let existing: std::collections::BTreeSet<&str> =
            inputs.existing.iter().map(|a| a.id.as_str()).collect();
        let missing: std::collections::BTreeSet<&str> = plan
            .services
            .iter()
            .filter(|s| s.action == ServiceAction::Missing)
            .map(|s| s.name.as_str())
            .collect();
        for c in &mut plan.counts {
            if !inputs.scope.accounts && !existing.contains(c.account_id.as_str()) {
                c.blocked = Some(Blocked::MissingAccount);
            } else if missing.contains(c.service.as_str()) {
                c.blocked = Some(Blocked::MissingService);
            }
        }
    }
    plan
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
                blocked: None,
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
