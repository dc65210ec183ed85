//! The billing rules and the plan: pure functions, no I/O (contract §3).
//!
//! Sources read a PSA page by page and fold each item into a [`Tally`] through a rule
//! ([`ContactRule`], [`DeviceRule`], [`AutotaskRule`]), so memory grows with companies,
//! not items. The plan then turns the tally and the accounts already in Synthesize into
//! the accounts to create or rename ([`plan_accounts`]) and every (account, service)
//! count to set ([`plan_usage`]), zeros included.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::gradient::Account;
use crate::names::normalize;
use crate::settings::{AutotaskService, NOT_SHARED_DEVICES, SHARED_DEVICES, TypeSelection};

/// Why an item read from the PSA was not counted (reported in the run summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// Inactive item.
    Inactive,
    /// Not attached to any company.
    NoCompany,
    /// Its type is not one of the configured types.
    TypeNotCounted,
    /// Its type is missing, or unknown to the PSA's type list.
    UnknownType,
}

impl Skip {
    pub fn describe(self) -> &'static str {
        match self {
            Skip::Inactive => "inactive",
            Skip::NoCompany => "without a company",
            Skip::TypeNotCounted => "of a type not counted",
            Skip::UnknownType => "of a missing or unknown type",
        }
    }
}

/// Counted items of one company.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CompanyTally {
    /// The company's name in the PSA, when the source has seen it.
    pub name: Option<String>,
    /// Service name → units.
    pub counts: BTreeMap<String, u64>,
}

/// What a source read, folded per company. Company ids are decimal strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub companies: BTreeMap<String, CompanyTally>,
    pub skipped: BTreeMap<Skip, u64>,
    /// Items read from the PSA (counted or not).
    pub items_read: u64,
}

impl Tally {
    /// Counts one unit of `service` at `company_id`.
    pub fn count(&mut self, company_id: &str, company_name: Option<&str>, service: &str) {
        let c = self.companies.entry(company_id.to_string()).or_default();
        if c.name.is_none() {
            c.name = company_name.map(str::to_string);
        }
        *c.counts.entry(service.to_string()).or_default() += 1;
    }

    pub fn skip(&mut self, why: Skip) {
        *self.skipped.entry(why).or_default() += 1;
    }

    /// Sets a company's name (sources that read names separately, such as Autotask).
    pub fn name_company(&mut self, company_id: &str, name: &str) {
        if let Some(c) = self.companies.get_mut(company_id) {
            c.name = Some(name.to_string());
        }
    }

    /// Units counted in all.
    pub fn total(&self) -> u64 {
        self.companies
            .values()
            .flat_map(|c| c.counts.values())
            .sum()
    }
}

/// `connectwise-contacts`: one service per configured contact type.
#[derive(Debug, Clone)]
pub struct ContactRule {
    /// (normalized type name, service name).
    services: Vec<(String, String)>,
}

impl ContactRule {
    pub fn new(contact_types: &[String]) -> Self {
        Self {
            services: contact_types
                .iter()
                .map(|t| (normalize(t), t.clone()))
                .collect(),
        }
    }

    /// Folds one contact: active, with a company, counted once under each configured
    /// type it carries (a contact with two configured types counts in both services).
    pub fn fold<'a>(
        &self,
        tally: &mut Tally,
        inactive: bool,
        company: Option<(&str, Option<&str>)>,
        type_names: impl IntoIterator<Item = &'a str>,
    ) {
        tally.items_read += 1;
        if inactive {
            return tally.skip(Skip::Inactive);
        }
        let Some((company_id, company_name)) = company else {
            return tally.skip(Skip::NoCompany);
        };
        let carried: BTreeSet<String> = type_names.into_iter().map(normalize).collect();
        let mut counted = false;
        for (norm, service) in &self.services {
            if carried.contains(norm) {
                tally.count(company_id, company_name, service);
                counted = true;
            }
        }
        if !counted {
            tally.skip(Skip::TypeNotCounted);
        }
    }
}

/// `connectwise-shared-devices`: configurations of the configured types, shared when the
/// contact's name contains "shared".
#[derive(Debug, Clone)]
pub struct DeviceRule {
    types: BTreeSet<String>,
}

impl DeviceRule {
    pub fn new(configuration_types: &[String]) -> Self {
        Self {
            types: configuration_types.iter().map(|t| normalize(t)).collect(),
        }
    }

    /// The service of an active configuration of a counted type.
    pub fn service_for(&self, contact_name: Option<&str>) -> &'static str {
        match contact_name {
            Some(n) if n.to_lowercase().contains("shared") => SHARED_DEVICES,
            _ => NOT_SHARED_DEVICES,
        }
    }

    pub fn fold(
        &self,
        tally: &mut Tally,
        active: bool,
        company: Option<(&str, Option<&str>)>,
        type_name: Option<&str>,
        contact_name: Option<&str>,
    ) {
        tally.items_read += 1;
        if !active {
            return tally.skip(Skip::Inactive);
        }
        if !type_name.is_some_and(|t| self.types.contains(&normalize(t))) {
            return tally.skip(Skip::TypeNotCounted);
        }
        let Some((company_id, company_name)) = company else {
            return tally.skip(Skip::NoCompany);
        };
        tally.count(company_id, company_name, self.service_for(contact_name));
    }
}

/// `autotask-configuration-items`: services from `AUTOTASK_SERVICES`.
#[derive(Debug, Clone)]
pub struct AutotaskRule {
    /// (normalized type name, service name) for listed types.
    listed: BTreeMap<String, String>,
    /// The service taking every other type, and the types it excludes.
    rest: Option<(String, BTreeSet<String>)>,
}

impl AutotaskRule {
    pub fn new(services: &[AutotaskService]) -> Self {
        let mut listed = BTreeMap::new();
        let mut rest = None;
        for s in services {
            match &s.types {
                TypeSelection::Listed(types) => {
                    for t in types {
                        listed.insert(normalize(t), s.name.clone());
                    }
                }
                TypeSelection::Rest { except } => {
                    rest = Some((
                        s.name.clone(),
                        except.iter().map(|t| normalize(t)).collect(),
                    ));
                }
            }
        }
        Self { listed, rest }
    }

    /// The service a type name belongs to, if any.
    pub fn service_for(&self, type_name: &str) -> Option<&str> {
        let norm = normalize(type_name);
        if let Some(s) = self.listed.get(&norm) {
            return Some(s);
        }
        match &self.rest {
            Some((service, except)) if !except.contains(&norm) => Some(service),
            _ => None,
        }
    }

    /// Every type name the settings mention (to warn about names the tenant lacks).
    pub fn named_types(&self) -> Vec<String> {
        let mut v: Vec<String> = self.listed.keys().cloned().collect();
        if let Some((_, except)) = &self.rest {
            v.extend(except.iter().cloned());
        }
        v
    }

    /// Folds one configuration item. `type_name` is `None` when its type is missing or not
    /// in `ConfigurationItemTypes`. Company 0 is a real company (the MSP's own).
    pub fn fold(
        &self,
        tally: &mut Tally,
        active: bool,
        company_id: Option<i64>,
        type_name: Option<&str>,
    ) {
        tally.items_read += 1;
        if !active {
            return tally.skip(Skip::Inactive);
        }
        let Some(type_name) = type_name else {
            return tally.skip(Skip::UnknownType);
        };
        let Some(service) = self.service_for(type_name) else {
            return tally.skip(Skip::TypeNotCounted);
        };
        let Some(company_id) = company_id else {
            return tally.skip(Skip::NoCompany);
        };
        tally.count(&company_id.to_string(), None, service);
    }
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
            });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::parse_autotask_services;

    fn acct(id: &str, name: &str) -> Account {
        Account {
            id: id.into(),
            name: name.into(),
        }
    }

    fn count_of(t: &Tally, company: &str, service: &str) -> u64 {
        t.companies
            .get(company)
            .and_then(|c| c.counts.get(service))
            .copied()
            .unwrap_or(0)
    }

    #[test]
    fn contacts_count_once_per_configured_type_they_carry() {
        let rule = ContactRule::new(&["Billed User".into(), "VIP".into()]);
        let mut t = Tally::default();
        let co = Some(("250", Some("Contoso")));
        rule.fold(&mut t, false, co, ["Billed User", "VIP"]);
        rule.fold(&mut t, false, co, ["billed  user ", "Approver"]);
        rule.fold(&mut t, false, co, ["Billed User", "BILLED USER"]);
        rule.fold(&mut t, false, co, ["Approver"]);
        rule.fold(&mut t, false, co, []);
        assert_eq!(count_of(&t, "250", "Billed User"), 3);
        assert_eq!(count_of(&t, "250", "VIP"), 1);
        assert_eq!(t.skipped[&Skip::TypeNotCounted], 2);
        assert_eq!(t.items_read, 5);
    }

    #[test]
    fn inactive_contacts_and_contacts_without_company_are_skipped() {
        let rule = ContactRule::new(&["Billed User".into()]);
        let mut t = Tally::default();
        rule.fold(&mut t, true, Some(("1", Some("A"))), ["Billed User"]);
        rule.fold(&mut t, false, None, ["Billed User"]);
        assert!(t.companies.is_empty());
        assert_eq!(t.skipped[&Skip::Inactive], 1);
        assert_eq!(t.skipped[&Skip::NoCompany], 1);
    }

    #[test]
    fn shared_is_anywhere_in_the_contact_name_ignoring_case() {
        let rule = DeviceRule::new(&["License".into()]);
        assert_eq!(rule.service_for(Some("Shared Mailbox")), SHARED_DEVICES);
        assert_eq!(
            rule.service_for(Some("SHARED - Front Desk")),
            SHARED_DEVICES
        );
        assert_eq!(rule.service_for(Some("Reception (shared)")), SHARED_DEVICES);
        assert_eq!(rule.service_for(Some("Jane Doe")), NOT_SHARED_DEVICES);
        assert_eq!(rule.service_for(Some("Share Point")), NOT_SHARED_DEVICES);
        assert_eq!(
            rule.service_for(None),
            NOT_SHARED_DEVICES,
            "no contact: not shared"
        );
    }

    #[test]
    fn devices_need_active_counted_type_and_company() {
        let rule = DeviceRule::new(&[" license ".into(), "Microsoft 365 License".into()]);
        let mut t = Tally::default();
        let co = Some(("7", Some("Ærø Shipping A/S")));
        rule.fold(&mut t, true, co, Some("License"), Some("Shared Mailbox"));
        rule.fold(&mut t, true, co, Some("LICENSE"), None);
        rule.fold(
            &mut t,
            true,
            co,
            Some("microsoft 365  license"),
            Some("Bob"),
        );
        rule.fold(&mut t, false, co, Some("License"), None);
        rule.fold(&mut t, true, co, Some("Server"), None);
        rule.fold(&mut t, true, co, None, None);
        rule.fold(&mut t, true, None, Some("License"), None);
        assert_eq!(count_of(&t, "7", SHARED_DEVICES), 1);
        assert_eq!(count_of(&t, "7", NOT_SHARED_DEVICES), 2);
        assert_eq!(t.skipped[&Skip::Inactive], 1);
        assert_eq!(t.skipped[&Skip::TypeNotCounted], 2);
        assert_eq!(t.skipped[&Skip::NoCompany], 1);
        assert_eq!(t.companies["7"].name.as_deref(), Some("Ærø Shipping A/S"));
    }

    fn default_autotask_rule() -> AutotaskRule {
        AutotaskRule::new(
            &parse_autotask_services(crate::settings::DEFAULT_AUTOTASK_SERVICES).unwrap(),
        )
    }

    #[test]
    fn autotask_default_services() {
        let r = default_autotask_rule();
        assert_eq!(r.service_for("Desktop"), Some("Managed Workstations"));
        assert_eq!(r.service_for(" laptop "), Some("Managed Workstations"));
        assert_eq!(r.service_for("SERVER"), Some("Managed Servers"));
        assert_eq!(r.service_for("Firewall"), Some("Network Devices"));
        assert_eq!(
            r.service_for("Printer"),
            Some("Network Devices"),
            "the rest rule"
        );
        assert_eq!(r.service_for("esxi  host"), None, "excluded from the rest");
    }

    #[test]
    fn autotask_without_rest_rule_skips_other_types() {
        let r = AutotaskRule::new(
            &parse_autotask_services("Desktop,Servers=Server+Virtual Server").unwrap(),
        );
        assert_eq!(r.service_for("desktop"), Some("Desktop"));
        assert_eq!(r.service_for("Virtual server"), Some("Servers"));
        assert_eq!(r.service_for("Laptop"), None);
        let mut t = Tally::default();
        r.fold(&mut t, true, Some(3), Some("Laptop"));
        assert_eq!(t.skipped[&Skip::TypeNotCounted], 1);
    }

    #[test]
    fn autotask_company_zero_counts_and_unknown_types_are_reported() {
        let r = default_autotask_rule();
        let mut t = Tally::default();
        r.fold(&mut t, true, Some(0), Some("Desktop"));
        r.fold(&mut t, true, Some(0), Some("Laptop"));
        r.fold(&mut t, false, Some(0), Some("Desktop"));
        r.fold(&mut t, true, Some(5), None);
        r.fold(&mut t, true, Some(5), Some("ESXi Host"));
        r.fold(&mut t, true, None, Some("Server"));
        assert_eq!(count_of(&t, "0", "Managed Workstations"), 2);
        assert_eq!(t.skipped[&Skip::Inactive], 1);
        assert_eq!(t.skipped[&Skip::UnknownType], 1);
        assert_eq!(t.skipped[&Skip::TypeNotCounted], 1);
        assert_eq!(t.skipped[&Skip::NoCompany], 1);
        assert!(!t.companies.contains_key("5"));
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
