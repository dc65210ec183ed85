//! `CwTenant::generate`: a seeded, deterministic tenant of any size with the same variety as
//! the sample (accented and punctuated names, deleted/lead/vendor companies, contacts with
//! several or no types, inactive ones, ones without a company, "shared" contact names,
//! configurations of many types with and without a contact or a company, inactive ones).
//! Company sizes are skewed (a few big customers, many small ones, some empty), and ids have
//! gaps, as in a real tenant.

use super::tenant::{CONFIGURATION_TYPES, CwCompany, CwConfiguration, CwContact, CwTenant};

/// How big a generated tenant is, and its seed. The same spec always gives the same tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CwGenerateSpec {
    pub companies: usize,
    pub contacts: usize,
    pub configurations: usize,
    pub seed: u64,
}

impl Default for CwGenerateSpec {
    /// 300 companies, 20,000 contacts, 6,000 configurations, seed 42.
    fn default() -> Self {
        Self {
            companies: 300,
            contacts: 20_000,
            configurations: 6_000,
            seed: 42,
        }
    }
}

const PREFIXES: &[&str] = &[
    "Café",
    "Müller",
    "O'Brien",
    "Société",
    "Ærø",
    "Zürich",
    "Nordic",
    "Blue Ridge",
    "Smith & Jones",
    "Bob's",
    "Lakeside",
    "Peña",
    "Øresund",
    "São Paulo",
    "Kraków",
    "Dvořák",
    "Crème",
    "Łódź",
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Tailspin",
    "Adatum",
    "Woodgrove",
    "Litware",
    "Proseware",
    "Fourth Coffee",
    "Wide World",
    "Alpine",
    "Margie's",
    "Coho",
    "Humongous",
    "Trey",
    "Lucerne",
];
const MIDDLES: &[&str] = &[
    "Dental",
    "Logistics",
    "Architects",
    "Bakery",
    "Law",
    "Engineering",
    "Shipping",
    "Consulting",
    "Medical",
    "Trading",
    "Accounting",
    "Insurance",
    "Realty",
    "Brewing",
    "Veterinary",
    "Studios",
];
const SUFFIXES: &[&str] = &[
    "GmbH",
    "LLC",
    "Ltd.",
    "Inc.",
    "A/S",
    "S.A.",
    "AG",
    "& Sons",
    "(EMEA)",
    "[UK]",
    "Co.",
    "S.à r.l.",
    "Pty Ltd",
    "K.K.",
    "B.V.",
    "",
    "",
    "",
];
const CITIES: &[&str] = &[
    "Tampa",
    "München",
    "Boston",
    "Paris",
    "Zürich",
    "Dublin",
    "London",
    "Kraków",
    "São Paulo",
    "Montréal",
    "Reykjavík",
    "Austin",
    "Denver",
    "Seattle",
];
const FIRST: &[&str] = &[
    "Anna",
    "Jürgen",
    "Seán",
    "Éloïse",
    "Søren",
    "Zoë",
    "José",
    "Małgorzata",
    "Chloé",
    "Björn",
    "Siobhán",
    "François",
    "Ana-María",
    "D'Arcy",
    "Mary Kate",
    "Renée",
    "Nuño",
    "Li",
    "Oluwaseun",
    "Priya",
    "Ngozi",
    "Tomás",
    "Ólafur",
    "Hannah",
    "James",
    "Maria",
    "David",
    "Sarah",
    "Michael",
];
const LAST: &[&str] = &[
    "Müller",
    "O'Brien",
    "Lefèvre",
    "Ærøe",
    "Núñez",
    "Kowalczyk",
    "Dvořák",
    "García-López",
    "Smith",
    "Johnson",
    "MacDonald",
    "van der Berg",
    "D'Angelo",
    "Øster",
    "Zürcher",
    "Nguyễn",
    "佐藤",
    "Brown",
    "Williams",
    "Jones",
    "Taylor",
    "O'Neill",
    "St. John",
    "Schmidt",
];
/// Contact names that make a License configuration "shared" (docs/contract.md §3: contains
/// "shared", any case), plus look-alikes that do not.
const SHARED_NAMES: &[&str] = &[
    "Shared Mailbox",
    "SHARED - Front Desk",
    "Reception (shared)",
    "Accounts Shared Inbox",
    "shared printer account",
    "Front Desk",
    "Reception",
    "Share Point Admin",
];
/// (contact type, probability that a contact has it)
const TYPE_ODDS: &[(&str, f64)] = &[
    ("Billed User", 0.58),
    ("End User", 0.18),
    ("Approver", 0.07),
    ("VIP", 0.03),
    ("Decision Maker", 0.03),
    ("Billed User (Legacy)", 0.02),
    ("Former Employee", 0.02),
];
/// (configuration type, weight)
const CONFIG_WEIGHTS: &[(&str, u32)] = &[
    ("License", 40),
    ("Microsoft 365 License", 10),
    ("Managed Workstation", 25),
    ("Server", 7),
    ("Firewall", 5),
    ("Printer", 4),
    ("Switch", 3),
    ("License - Retired", 3),
    ("Backup Appliance", 3),
];

pub(crate) fn pick<'a>(rng: &mut fastrand::Rng, items: &[&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

/// ASCII letters and digits of `name`, at most 12 of them.
fn ascii_part(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect()
}

/// Picks an index with probability proportional to `cumulative` weights.
pub(crate) fn weighted(rng: &mut fastrand::Rng, cumulative: &[u64]) -> Option<usize> {
    let total = *cumulative.last()?;
    if total == 0 {
        return None;
    }
    let r = rng.u64(..total);
    Some(cumulative.partition_point(|&c| c <= r))
}

impl CwTenant {
    /// A deterministic tenant sized by `spec` (see the module documentation).
    pub fn generate(spec: &CwGenerateSpec) -> Self {
        let mut rng = fastrand::Rng::with_seed(spec.seed);
        let companies = generate_companies(&mut rng, spec.companies);

        // Skewed company sizes: a cubic draw gives a few big customers; ~6% are empty.
        let mut cumulative = Vec::with_capacity(companies.len());
        let mut total = 0u64;
        for c in &companies {
            let empty = rng.f64() < 0.06 || c.is_vendor_flag;
            let w = if empty {
                0
            } else if c.lead_flag {
                1
            } else {
                1 + (rng.f64().powi(3) * 400.0) as u64
            };
            total += w;
            cumulative.push(total);
        }

        let mut contacts = Vec::with_capacity(spec.contacts);
        let mut by_company: Vec<Vec<usize>> = vec![Vec::new(); companies.len()];
        let mut id = 1_000i64;
        for _ in 0..spec.contacts {
            id += rng.i64(1..=4);
            let company = if rng.f64() < 0.03 {
                None
            } else {
                weighted(&mut rng, &cumulative)
            };
            let shared = rng.f64() < 0.04;
            let (first, last) = if shared {
                (pick(&mut rng, SHARED_NAMES), None)
            } else {
                let last = (rng.f64() > 0.02).then(|| pick(&mut rng, LAST));
                (pick(&mut rng, FIRST), last)
            };
            let types: Vec<&str> = TYPE_ODDS
                .iter()
                .filter(|(_, p)| rng.f64() < *p)
                .map(|(t, _)| *t)
                .collect();
            let inactive = rng.f64() < 0.12;
            let mut contact = CwContact::build(
                id,
                company.map(|i| &companies[i]),
                first,
                last,
                &types,
                inactive,
            );
            if let Some(i) = company {
                contact.default_flag = by_company[i].is_empty();
                by_company[i].push(contacts.len());
            }
            contacts.push(contact);
        }

        let type_total: u32 = CONFIG_WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut configurations = Vec::with_capacity(spec.configurations);
        let mut id = 500i64;
        for n in 0..spec.configurations {
            id += rng.i64(1..=3);
            let company = if rng.f64() < 0.04 {
                None
            } else {
                weighted(&mut rng, &cumulative)
            };
            let mut r = rng.u32(..type_total);
            let kind = CONFIG_WEIGHTS
                .iter()
                .find(|(_, w)| {
                    let hit = r < *w;
                    r = r.saturating_sub(*w);
                    hit
                })
                .map_or("License", |(t, _)| *t);
            debug_assert!(CONFIGURATION_TYPES.iter().any(|t| t.1 == kind));
            let licence = kind.contains("License");
            let wants_contact = rng.f64() < if licence { 0.75 } else { 0.4 };
            let contact = match company {
                Some(i) if wants_contact && !by_company[i].is_empty() => {
                    let list = &by_company[i];
                    Some(&contacts[list[rng.usize(..list.len())]])
                }
                _ => None,
            };
            let name = match (licence, contact) {
                (true, Some(c)) => format!("M365 E3 - {}", c.display_name()),
                (true, None) => "M365 E3 - spare seat".to_string(),
                (false, _) => {
                    let ident = company.map_or("LAB", |i| companies[i].identifier.as_str());
                    let code = match kind {
                        "Managed Workstation" => "WS",
                        "Server" => "SRV",
                        "Firewall" => "FW",
                        "Printer" => "PRN",
                        "Switch" => "SW",
                        _ => "DEV",
                    };
                    format!("{}-{code}-{:03}", ident.to_uppercase(), n % 1000)
                }
            };
            let active = rng.f64() >= 0.12;
            configurations.push(CwConfiguration::build(
                id,
                company.map(|i| &companies[i]),
                &name,
                kind,
                contact,
                active,
            ));
        }

        let mut companies = companies;
        for (i, c) in companies.iter_mut().enumerate() {
            c.default_contact = by_company[i].first().map(|&k| contacts[k].reference());
        }
        let (contact_types, configuration_types) = CwTenant::standard_types();
        CwTenant {
            companies,
            contacts,
            configurations,
            contact_types,
            configuration_types,
            ..Default::default()
        }
    }
}

pub(crate) fn generate_companies(rng: &mut fastrand::Rng, n: usize) -> Vec<CwCompany> {
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    // The MSP's own company, as in every ConnectWise site.
    out.push(CwCompany::build(
        2,
        "Northwind",
        "Northwind IT Services",
        "Active",
        &["Owner"],
        "Tampa",
    ));
    let mut id = 249i64;
    let mut deleted = 0;
    for k in 1..n {
        id += rng.i64(1..=6);
        let suffix = pick(rng, SUFFIXES);
        let mut name = format!("{} {}", pick(rng, PREFIXES), pick(rng, MIDDLES));
        if !suffix.is_empty() {
            if rng.bool() && !suffix.starts_with(['(', '[', '&']) {
                name.push(',');
            }
            name.push(' ');
            name.push_str(suffix);
        }
        let identifier = format!("{}{id}", ascii_part(&name));
        let roll = rng.f64();
        let (status, types): (&str, &[&str]) = match roll {
            r if r < 0.04 => ("Not-Approved", &["Prospect"]),
            r if r < 0.06 => ("Active", &["Vendor"]),
            r if r < 0.10 => ("Inactive", &["Client"]),
            r if r < 0.14 => ("Credit Hold", &["Client"]),
            r if r < 0.18 => ("Active", &["Client", "Partner"]),
            _ => ("Active", &["Client"]),
        };
        let mut company =
            CwCompany::build(id, &identifier, &name, status, types, pick(rng, CITIES));
        company.lead_flag = types == ["Prospect"];
        company.is_vendor_flag = types == ["Vendor"];
        // About 1% deleted, and at least one once there are ten companies.
        if rng.f64() < 0.01 || (k == 9 && deleted == 0) {
            company.mark_deleted();
            deleted += 1;
        }
        out.push(company);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let spec = CwGenerateSpec {
            companies: 50,
            contacts: 2_000,
            configurations: 700,
            seed: 9,
        };
        let a = CwTenant::generate(&spec);
        assert_eq!(a, CwTenant::generate(&spec));
        assert_eq!(a.companies.len(), 50);
        assert_eq!(a.contacts.len(), 2_000);
        assert_eq!(a.configurations.len(), 700);
        assert_ne!(a, CwTenant::generate(&CwGenerateSpec { seed: 10, ..spec }));
        assert!(a.companies.iter().any(|c| c.deleted_flag));
        assert!(a.contacts.iter().any(|c| c.company.is_none()));
        assert!(a.contacts.iter().any(|c| c.types.is_empty()));
        assert!(a.contacts.iter().any(|c| c.types.len() >= 2));
        assert!(a.contacts.iter().any(|c| c.inactive_flag));
        assert!(a.configurations.iter().any(|c| !c.active_flag));
        assert!(a.configurations.iter().any(|c| c.company.is_none()));
        assert!(a.configurations.iter().any(|c| {
            c.contact
                .as_ref()
                .is_some_and(|k| k.name.to_lowercase().contains("shared"))
        }));
        let mut ids: Vec<i64> = a.contacts.iter().map(|c| c.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 2_000, "ids are unique and increasing");
        let idents: std::collections::HashSet<_> =
            a.companies.iter().map(|c| &c.identifier).collect();
        assert_eq!(idents.len(), 50, "identifiers are unique");
    }
}
