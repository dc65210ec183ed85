//! The Autotask counting rule (docs/contract.md §3): pure, one item at a time.

use std::collections::{BTreeMap, BTreeSet};

use super::config::{AutotaskService, TypeSelection};
use crate::names::normalize;
use crate::sources::tally::{Skip, Tally};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::autotask::config::parse_autotask_services;

    fn count_of(t: &Tally, company: &str, service: &str) -> u64 {
        t.companies
            .get(company)
            .and_then(|c| c.counts.get(service))
            .copied()
            .unwrap_or(0)
    }

    fn default_autotask_rule() -> AutotaskRule {
        AutotaskRule::new(
            &parse_autotask_services(crate::sources::autotask::config::DEFAULT_AUTOTASK_SERVICES)
                .unwrap(),
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
}
