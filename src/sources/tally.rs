//! What a source read, folded per company: the neutral result every source hands the plan.

use std::collections::BTreeMap;

use serde::Serialize;

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
