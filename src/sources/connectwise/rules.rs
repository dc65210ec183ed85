//! The ConnectWise counting rules (docs/contract.md §3): pure, one item at a time.

use std::collections::BTreeSet;

use crate::names::normalize;
use crate::sources::tally::{Skip, Tally};

/// The services of `connectwise-shared-devices`.
pub const SHARED_DEVICES: &str = "Shared Devices";
pub const NOT_SHARED_DEVICES: &str = "Not Shared Devices";

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
