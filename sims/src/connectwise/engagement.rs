//! `CwTenant::generate_engagement`: a seeded, deterministic tenant for the `clients` and
//! `engagement` verbs (docs/contract.md §3b, §5), relative to a `now` passed in (Unix seconds)
//! so tests are reproducible.
//!
//! - Companies (the same accented, punctuated names as [`CwTenant::generate`]) with markets
//!   spread over Legal, Healthcare, Manufacturing, Retail, Financial, Education, Non-Profit,
//!   look-alikes that do not map ("Health Care" does, "Financial Services" does not, once
//!   case, spaces and punctuation are ignored), other names and none; types
//!   Client/Prospect/Vendor; statuses Active/Inactive; a few deleted.
//! - One to four contacts for most companies, the first the default (`defaultFlag`,
//!   `defaultContact`), with Email, Direct and Mobile communication items (a few without an
//!   e-mail address); some companies have no contact at all.
//! - Per company, a skewed spread of tickets, time entries, agreements and additions over the
//!   last `days` days (ids increase with time, as in a real site); about one company in ten
//!   has none. Tickets resolve fast (within 4 h), slowly, or not at all; some are closed
//!   without a `dateResolved`. Hours are decimals (0.1, 0.25, 1.25 …) of every
//!   `billableOption`. Agreements started before or inside the window, some cancelled or
//!   expired; additions effective inside or before it, some cancelled.

use super::activity::{AGREEMENT_TYPES, CwAgreement, CwAgreementAddition, CwTicket, CwTimeEntry};
use super::generate::{generate_companies, pick, weighted};
use super::tenant::{
    CwCommunicationItem, CwCompany, CwContact, CwRef, CwTenant, company_status, company_type,
};

const DAY: i64 = 86_400;

/// How big a generated engagement tenant is, when "now" is, and its seed. The same spec
/// always gives the same tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CwEngagementSpec {
    pub companies: usize,
    pub tickets: usize,
    pub time_entries: usize,
    pub agreements: usize,
    /// How far back the activity goes, in days before `now`.
    pub days: i64,
    /// Unix seconds; every date is before it.
    pub now: i64,
    pub seed: u64,
}

impl Default for CwEngagementSpec {
    /// 500 companies, 30,000 tickets, 40,000 time entries, 800 agreements over 120 days
    /// before [`super::SAMPLE_NOW`], seed 42.
    fn default() -> Self {
        Self {
            companies: 500,
            tickets: 30_000,
            time_entries: 40_000,
            agreements: 800,
            days: 120,
            now: super::SAMPLE_NOW,
            seed: 42,
        }
    }
}

/// (market name or "" for none, weight)
const MARKET_WEIGHTS: &[(&str, u64)] = &[
    ("Legal", 12),
    ("Healthcare", 10),
    ("Health Care", 3),
    ("Manufacturing", 10),
    ("Retail", 9),
    ("Financial", 8),
    ("Financial Services", 3),
    ("Education", 6),
    ("Non-Profit", 6),
    ("Non Profit", 2),
    ("Professional Services", 8),
    ("Technology", 5),
    ("Construction", 5),
    ("Hospitality", 3),
    ("Government", 2),
    ("", 8),
];

const SUMMARIES: &[&str] = &[
    "Outlook keeps asking for password",
    "Printer offline on 2nd floor",
    "New user setup",
    "ALERT: Disk space low on SRV01",
    "VPN not connecting from home",
    "Password reset",
    "Laptop very slow",
    "Teams audio drops in calls",
    "Access to shared mailbox",
    "ALERT: Backup job failed",
    "Café Wi-Fi \"Guest\" down",
    "Can't open O'Neill & Co. invoice PDF",
    "Request: new monitor [urgent]",
    "Übertragung langsam / slow transfer",
];

const FIRST: &[&str] = &[
    "Ann", "José", "Siobhán", "Jürgen", "Priya", "Zoë", "Tomás", "Hannah", "Li", "D'Arcy",
];
const LAST: &[&str] = &[
    "Lee",
    "Núñez",
    "O'Brien",
    "Müller",
    "Patel",
    "van der Berg",
    "Smith",
    "Kowalczyk",
    "Nguyễn",
];

/// (hours, weight): decimal hours as technicians log them.
const HOURS: &[(f64, u64)] = &[
    (0.1, 10),
    (0.2, 6),
    (0.25, 14),
    (0.3, 4),
    (0.5, 18),
    (0.75, 10),
    (1.0, 14),
    (1.25, 6),
    (1.5, 6),
    (2.0, 6),
    (3.0, 3),
    (4.0, 2),
    (7.5, 1),
];

const BILLABLE: &[(&str, u64)] = &[
    ("Billable", 60),
    ("DoNotBill", 14),
    ("NoCharge", 21),
    ("NoDefault", 5),
];

fn cumulative(weights: impl Iterator<Item = u64>) -> Vec<u64> {
    weights
        .scan(0u64, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect()
}

/// A time in the last `days` days before `now`, in business hours (UTC) mostly.
fn business_time(rng: &mut fastrand::Rng, now: i64, days: i64) -> i64 {
    let midnight = now - now.rem_euclid(DAY);
    let day = midnight - rng.i64(0..days.max(1)) * DAY;
    let hour = if rng.f64() < 0.9 {
        rng.i64(8..18)
    } else {
        rng.i64(0..24)
    };
    let t = day + hour * 3600 + rng.i64(0..3600);
    if t >= now { t - DAY } else { t }
}

/// Turns a company into a Client/Prospect/Vendor, Active/Inactive one with a market.
fn dress_company(rng: &mut fastrand::Rng, c: &mut CwCompany, markets: &[u64]) {
    if c.types.iter().any(|t| t.name == "Owner") {
        c.set_market(Some("Technology"));
        return;
    }
    let kind = match rng.f64() {
        r if r < 0.78 => "Client",
        r if r < 0.90 => "Prospect",
        _ => "Vendor",
    };
    let status = if rng.f64() < 0.85 {
        "Active"
    } else {
        "Inactive"
    };
    c.types = vec![company_type(kind)];
    c.status = Some(company_status(status));
    c.lead_flag = kind == "Prospect";
    c.is_vendor_flag = kind == "Vendor";
    let market = weighted(rng, markets).map_or("", |i| MARKET_WEIGHTS[i].0);
    c.set_market((!market.is_empty()).then_some(market));
    if !c.deleted_flag && rng.f64() < 0.02 {
        c.mark_deleted();
    }
}

/// A default-contact-style contact with Email, Direct and sometimes Mobile items.
fn contact_for(rng: &mut fastrand::Rng, id: i64, company: &CwCompany, first: bool) -> CwContact {
    let types: &[&str] = if first {
        &["Billed User", "Decision Maker"]
    } else {
        &["Billed User"]
    };
    let mut c = CwContact::build(
        id,
        Some(company),
        pick(rng, FIRST),
        Some(pick(rng, LAST)),
        types,
        !first && rng.f64() < 0.1,
    );
    c.default_flag = first;
    if rng.f64() < 0.35 {
        c.communication_items.push(CwCommunicationItem {
            id: 50_000_000 + id,
            kind: CwRef::new(4, "Mobile", "type", "/company/communicationTypes/4"),
            value: format!("+1 555 {:04}", id % 10_000),
            default_flag: false,
            communication_type: "Phone".into(),
        });
    }
    if rng.f64() < 0.05 {
        c.communication_items
            .retain(|i| i.communication_type != "Email");
    }
    c
}

impl CwTenant {
    /// A deterministic engagement tenant sized by `spec` (see the module documentation).
    /// Configurations are left empty.
    pub fn generate_engagement(spec: &CwEngagementSpec) -> Self {
        let mut rng = fastrand::Rng::with_seed(spec.seed ^ 0x00E6_6A6E_3E17);
        let mut companies = generate_companies(&mut rng, spec.companies);
        let markets = cumulative(MARKET_WEIGHTS.iter().map(|m| m.1));
        for c in &mut companies {
            dress_company(&mut rng, c, &markets);
        }

        let mut contacts = Vec::new();
        let mut id = 5_000i64;
        for c in &mut companies {
            if rng.f64() < 0.08 {
                continue;
            }
            for k in 0..rng.usize(1..=4) {
                id += rng.i64(1..=3);
                let contact = contact_for(&mut rng, id, c, k == 0);
                if k == 0 {
                    c.default_contact = Some(contact.reference());
                }
                contacts.push(contact);
            }
        }

        let (contact_types, configuration_types) = CwTenant::standard_types();
        let mut tenant = CwTenant {
            companies,
            contacts,
            contact_types,
            configuration_types,
            ..Default::default()
        };
        add_activity(&mut tenant, &mut rng, spec);
        tenant
    }
}

/// Adds tickets, time entries, agreements and additions for `tenant`'s companies.
fn add_activity(tenant: &mut CwTenant, rng: &mut fastrand::Rng, spec: &CwEngagementSpec) {
    let (now, days) = (spec.now, spec.days);
    let companies = &tenant.companies;
    // Skewed activity: a cubic draw gives a few busy companies; ~10% have none at all.
    let weights = cumulative(companies.iter().map(|c| {
        if rng.f64() < 0.10 || c.types.iter().any(|t| t.name == "Owner") {
            0
        } else if c.is_vendor_flag || c.lead_flag {
            u64::from(rng.f64() < 0.3)
        } else {
            1 + (rng.f64().powi(3) * 200.0) as u64
        }
    }));

    // Tickets, in the order they were entered.
    let mut entered: Vec<(i64, usize)> = (0..spec.tickets)
        .filter_map(|_| {
            let company = weighted(rng, &weights)?;
            Some((business_time(rng, now, days), company))
        })
        .collect();
    entered.sort_unstable();
    let mut by_company: Vec<Vec<usize>> = vec![Vec::new(); companies.len()];
    let mut id = 40_000i64;
    for (at, company) in entered {
        id += rng.i64(1..=2);
        let (resolved, closed) = match rng.f64() {
            r if r < 0.02 => (Some(at + 4 * 3600), Some(at + 4 * 3600)),
            r if r < 0.50 => {
                let res = at + rng.i64(300..4 * 3600);
                (
                    Some(res),
                    (rng.f64() < 0.8).then(|| res + rng.i64(0..2 * DAY)),
                )
            }
            r if r < 0.58 => (None, Some(at + rng.i64(600..3 * 3600))),
            r if r < 0.85 => {
                let res = at + rng.i64(4 * 3600 + 1..10 * DAY);
                (
                    Some(res),
                    (rng.f64() < 0.7).then(|| res + rng.i64(0..3 * DAY)),
                )
            }
            _ => (None, None),
        };
        let resolved = resolved.filter(|&t| t < now);
        let closed = closed.filter(|&t| t < now);
        let summary = pick(rng, SUMMARIES);
        by_company[company].push(tenant.tickets.len());
        tenant.tickets.push(CwTicket::build(
            id,
            Some(&companies[company]),
            summary,
            at,
            resolved,
            closed,
        ));
    }

    // Time entries, in the order they started; most are charged to a ticket of the company.
    let hours = cumulative(HOURS.iter().map(|h| h.1));
    let billable = cumulative(BILLABLE.iter().map(|b| b.1));
    let mut starts: Vec<(i64, usize, Option<i64>)> = (0..spec.time_entries)
        .filter_map(|_| {
            let company = weighted(rng, &weights)?;
            let tickets = &by_company[company];
            if !tickets.is_empty() && rng.f64() < 0.65 {
                let t = &tenant.tickets[tickets[rng.usize(..tickets.len())]];
                let at = entered_of(t) + rng.i64(0..2 * 3600);
                if at < now {
                    return Some((at, company, Some(t.id)));
                }
            }
            Some((business_time(rng, now, days), company, None))
        })
        .collect();
    starts.sort_unstable();
    let mut id = 900_000i64;
    for (at, company, ticket) in starts {
        id += rng.i64(1..=3);
        let h = weighted(rng, &hours).map_or(0.25, |i| HOURS[i].0);
        let b = weighted(rng, &billable).map_or("Billable", |i| BILLABLE[i].0);
        tenant.time_entries.push(CwTimeEntry::build(
            id,
            Some(&companies[company]),
            ticket,
            rng.usize(..16),
            at,
            h,
            b,
        ));
    }

    // Agreements (most started long ago, some inside the window) and their additions.
    let midnight = now - now.rem_euclid(DAY);
    let mut starts: Vec<(i64, usize)> = (0..spec.agreements)
        .filter_map(|_| {
            let company = weighted(rng, &weights)?;
            let start = if rng.f64() < 0.3 {
                midnight - rng.i64(0..days.max(1)) * DAY
            } else {
                midnight - rng.i64(days.max(1)..1_500) * DAY
            };
            Some((start, company))
        })
        .collect();
    starts.sort_unstable();
    let mut id = 7_000i64;
    let mut add_id = 60_000i64;
    for (start, company) in starts {
        id += rng.i64(1..=4);
        let kind = AGREEMENT_TYPES[rng.usize(..AGREEMENT_TYPES.len())].1;
        let c = &companies[company];
        let end = (rng.f64() < 0.5).then(|| start + 365 * rng.i64(1..=3) * DAY);
        let cancelled = rng.f64() < 0.1;
        let mut a = CwAgreement::build(
            id,
            Some(c),
            &format!("{kind} - {}", c.name),
            kind,
            start,
            end,
            cancelled,
        );
        if !cancelled && end.is_some_and(|e| e < now) {
            a.agreement_status = "Expired".into();
        }
        for _ in 0..rng.usize(0..=4) {
            add_id += rng.i64(1..=3);
            // An addition takes effect while its agreement runs [I]: never after its end.
            let latest = end.map_or(midnight, |e| e.min(midnight));
            let from = (midnight - days * DAY).max(start);
            let effective = if rng.f64() < 0.5 && from <= latest {
                from + rng.i64(0..(latest - from) / DAY + 1) * DAY
            } else {
                start
            };
            let cancelled_at = (rng.f64() < 0.1)
                .then(|| effective + rng.i64(1..60) * DAY)
                .filter(|&t| t < now);
            let product = super::activity::PRODUCTS[rng.usize(..6)].1;
            let quantity = match rng.u8(..10) {
                0 => 2.5,
                n => f64::from(n) * 2.0,
            };
            tenant.additions.push(CwAgreementAddition::build(
                add_id,
                id,
                product,
                quantity,
                effective,
                cancelled_at,
            ));
        }
        tenant.agreements.push(a);
    }
}

/// A ticket's `_info.dateEntered` as Unix seconds.
fn entered_of(t: &CwTicket) -> i64 {
    t.info
        .get("dateEntered")
        .and_then(|d| super::dates::parse_datetime(d))
        .map_or(0, |ms| ms / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn deterministic_varied_and_fast() {
        let spec = CwEngagementSpec::default();
        let started = std::time::Instant::now();
        let a = CwTenant::generate_engagement(&spec);
        let elapsed = started.elapsed();
        assert!(
            elapsed.as_secs() < if cfg!(debug_assertions) { 20 } else { 3 },
            "{elapsed:?}"
        );
        assert_eq!(a.companies.len(), 500);
        assert!(a.tickets.len() > 25_000, "{}", a.tickets.len());
        assert!(a.time_entries.len() > 30_000);
        assert!(a.agreements.len() > 600);
        let small = CwEngagementSpec {
            companies: 40,
            tickets: 800,
            time_entries: 900,
            agreements: 60,
            seed: 3,
            ..spec
        };
        let b = CwTenant::generate_engagement(&small);
        assert_eq!(b, CwTenant::generate_engagement(&small));
        assert_ne!(
            b,
            CwTenant::generate_engagement(&CwEngagementSpec { seed: 4, ..small })
        );

        let markets: HashSet<&str> = a
            .companies
            .iter()
            .filter_map(|c| c.market.as_ref().map(|m| m.name.as_str()))
            .collect();
        for m in [
            "Legal",
            "Healthcare",
            "Financial",
            "Non-Profit",
            "Health Care",
        ] {
            assert!(markets.contains(m), "{m}");
        }
        assert!(a.companies.iter().any(|c| c.market.is_none()));
        assert!(a.companies.iter().any(|c| c.deleted_flag));
        assert!(a.companies.iter().any(|c| c.default_contact.is_none()));
        for kind in ["Client", "Prospect", "Vendor"] {
            assert!(a.companies.iter().any(|c| c.types[0].name == kind));
        }
        let with_tickets: HashSet<i64> = a
            .tickets
            .iter()
            .filter_map(|t| t.company.as_ref().map(|c| c.id))
            .collect();
        assert!(
            with_tickets.len() < a.companies.len() - 20,
            "some have none"
        );
        assert!(a.tickets.windows(2).all(|w| w[0].id < w[1].id));
        assert!(a.tickets.iter().all(|t| entered_of(t) < spec.now));
        assert!(
            a.tickets
                .iter()
                .any(|t| t.closed_flag && t.date_resolved.is_none())
        );
        assert!(
            a.tickets
                .iter()
                .any(|t| !t.closed_flag && t.date_resolved.is_none())
        );
        assert!(a.time_entries.iter().any(|e| e.actual_hours == 0.1));
        for b in ["Billable", "DoNotBill", "NoCharge", "NoDefault"] {
            assert!(a.time_entries.iter().any(|e| e.billable_option == b));
        }
        assert!(a.agreements.iter().any(|x| x.cancelled_flag));
        assert!(a.agreements.iter().any(|x| x.agreement_status == "Expired"));
        assert!(a.additions.iter().any(|x| x.cancelled_date.is_some()));
        let contact_items: HashSet<&str> = a
            .contacts
            .iter()
            .flat_map(|c| c.communication_items.iter().map(|i| i.kind.name.as_str()))
            .collect();
        assert_eq!(contact_items.len(), 3, "{contact_items:?}");
    }
}
