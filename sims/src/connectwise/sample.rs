//! `CwTenant::sample()`: a small hand-written tenant whose data exercises every counting
//! rule of docs/contract.md §3 and the API's traps:
//!
//! - names with accents, apostrophes, double quotes, commas, `&`, `+`-free punctuation,
//!   square brackets (`[` is a LIKE character class in SQL Server, docs/apis.md §2.3 escaping)
//!   and non-Latin script;
//! - a deleted company (`deletedFlag`), a lead, a vendor, the MSP's own company
//!   (type "Owner"), and a company with nothing at all;
//! - contacts with several types, none, inactive ones, without a last name, without a
//!   company, and with the distinct type "Billed User (Legacy)" (must not count as
//!   "Billed User");
//! - configurations of many types with and without a contact; contacts named
//!   "Shared Mailbox", "SHARED - Front Desk", "Reception (shared)" and "John Sharedman"
//!   (all contain "shared"); inactive ones; one active but with status "Retired"; ones
//!   of the inactive type "License - Retired"; ones without a company.
//!
//! - engagement data relative to a `now` ([`CwTenant::sample_at`]; docs/contract.md §3b): markets
//!   over the industries (one "Financial Services", which maps to "other", and companies
//!   without a market); tickets on the boundaries of a 90-day window and of the 4-hour
//!   resolution rule (exactly 14,400 s and one second more; closed without `dateResolved`);
//!   100 time entries of 0.1 h (10 h only when summed as decimals) and billable totals of
//!   exactly 10, 20 and 40+ hours next to 9.99; agreements and additions inside and outside
//!   the window, cancelled ones, an expired one; a deleted company with recent tickets; and
//!   companies with no activity at all. Contoso (288) reproduces the contract's example
//!   (7 tickets, 2 resolved within 4 h, 12.5 billable hours, procurement 1) for a 90-day
//!   window ending at `now`.
//!
//! Ids are not contiguous and do not start at 1, as in a real tenant.

use super::activity::{CwAgreement, CwAgreementAddition, CwTicket, CwTimeEntry};
use super::tenant::{CwCompany, CwConfiguration, CwContact, CwCustomField, CwTenant};

/// The `now` of [`CwTenant::sample`]: 2026-12-01T12:00:00Z.
pub const SAMPLE_NOW: i64 = 1_796_126_400;

const D: i64 = 86_400;
const H: i64 = 3_600;

/// (company id, market name or "" for none)
const MARKETS: &[(i64, &str)] = &[
    (2, "Technology"),
    (250, "Retail"),
    (251, "Legal"),
    (263, "Manufacturing"),
    (270, ""),
    (288, "Financial"),
    (301, "Manufacturing"),
    (315, "Retail"),
    (342, "Non-Profit"),
    (377, "Healthcare"),
    (405, "Retail"),
    (419, "Education"),
    (433, "Technology"),
    (512, "Financial Services"),
    (640, ""),
    (19298, "Legal"),
];

/// (id, identifier, name, status, types, city)
type CompanyRow = (
    i64,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
);
/// (id, company id or 0 for none, first, last, types, inactive)
type ContactRow = (
    i64,
    i64,
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
    bool,
);

const COMPANIES: &[CompanyRow] = &[
    (
        2,
        "Northwind",
        "Northwind IT Services",
        "Active",
        &["Owner"],
        "Tampa",
    ),
    (
        250,
        "CafeMuller",
        "Café Müller GmbH",
        "Active",
        &["Client"],
        "München",
    ),
    (
        251,
        "OBrienSons",
        "O'Brien & Sons, LLC",
        "Active",
        &["Client"],
        "Boston",
    ),
    (
        263,
        "SocGenElec",
        "Société Générale d'Électricité",
        "Active",
        &["Client", "Partner"],
        "Paris",
    ),
    (
        270,
        "AeroShipping",
        "Ærø Shipping A/S",
        "Active",
        &["Client"],
        "Ærøskøbing",
    ),
    (
        288,
        "Contoso",
        "Contoso Ltd.",
        "Active",
        &["Client"],
        "Redmond",
    ),
    (
        301,
        "Fabrikam",
        "Fabrikam, Inc.",
        "Credit Hold",
        &["Client"],
        "Seattle",
    ),
    (
        315,
        "Tailspin",
        "Tailspin Toys (EMEA)",
        "Active",
        &["Client"],
        "Dublin",
    ),
    (
        342,
        "AcmeLegacy",
        "Acme Legacy Corp",
        "Inactive",
        &["Client"],
        "Phoenix",
    ),
    (
        377,
        "ZurichDental",
        "Zürich Dental AG",
        "Active",
        &["Client"],
        "Zürich",
    ),
    (
        405,
        "BobsBikes",
        "Bob's \"Best\" Bikes",
        "Active",
        &["Client"],
        "Portland",
    ),
    (
        419,
        "ProspectHold",
        "Prospect Holdings",
        "Not-Approved",
        &["Prospect"],
        "Austin",
    ),
    (433, "Pax8", "Pax8", "Active", &["Vendor"], "Denver"),
    (
        512,
        "TokyoTrading",
        "東京 Trading K.K.",
        "Active",
        &["Client"],
        "東京",
    ),
    (
        640,
        "EmptyShell",
        "Empty Shell Ltd",
        "Active",
        &["Client"],
        "Reno",
    ),
    (
        19298,
        "BakerMcKenzie",
        "Baker, McKenzie & Partners [UK]",
        "Active",
        &["Client"],
        "London",
    ),
];

const BU: &str = "Billed User";

#[rustfmt::skip]
const CONTACTS: &[ContactRow] = &[
    (1001, 2, "Dana", Some("Admin"), &["End User"], false),
    (1002, 2, "Sam", Some("Tech"), &[], false),
    (1010, 250, "Jürgen", Some("Müller"), &[BU, "Approver", "VIP"], false),
    (1011, 250, "Anna", Some("Schmidt"), &[BU], false),
    (1012, 250, "Lukas", Some("Weiß"), &[BU], false),
    (1013, 250, "Petra", Some("Klein"), &[BU], true),
    (1014, 250, "Max", None, &["End User"], false),
    (1015, 250, "Shared Mailbox", None, &[], false),
    (1016, 250, "Sofia", Some("Becker"), &["Billed User (Legacy)"], false),
    (1020, 251, "Seán", Some("O'Brien"), &[BU, "Decision Maker"], false),
    (1021, 251, "Siobhán", Some("O'Brien"), &[BU], false),
    (1022, 251, "Reception (shared)", None, &["End User"], false),
    (1023, 251, "Liam", Some("Byrne"), &[], false),
    (1030, 263, "Éloïse", Some("Lefèvre"), &[BU], false),
    (1031, 263, "François", Some("Dupont"), &[BU, "VIP"], false),
    (1032, 263, "Chloé", Some("Martin"), &["End User"], false),
    (1033, 263, "Hélène", Some("Roux"), &[BU], true),
    (1034, 263, "SHARED - Front Desk", None, &[], false),
    (1040, 270, "Søren", Some("Ærøe"), &[BU], false),
    (1041, 270, "Mette", Some("Hansen"), &["Approver"], false),
    (1050, 288, "Alex", Some("Wilber"), &[BU], false),
    (1051, 288, "Diego", Some("Siciliani"), &[BU], false),
    (1052, 288, "Grady", Some("Archie"), &[BU], false),
    (1053, 288, "Isaiah", Some("Langer"), &[BU, "Approver"], false),
    (1054, 288, "Lidia", Some("Holloway"), &[BU], false),
    (1055, 288, "Megan", Some("Bowen"), &[BU, "Former Employee"], false),
    (1056, 288, "Nestor", Some("Wilke"), &["Approver"], false),
    (1057, 288, "John", Some("Sharedman"), &[BU], false),
    (1060, 301, "Rick", Some("Deckard"), &[BU], false),
    (1061, 301, "Rachael", Some("Tyrell"), &[BU, "VIP", "Approver"], false),
    (1070, 315, "Orla", Some("Kennedy"), &["End User"], false),
    (1071, 315, "Cian", Some("Walsh"), &["End User"], false),
    (1080, 342, "Old", Some("Timer"), &[BU], false),
    (1081, 342, "Former", Some("Staff"), &[BU], true),
    (1090, 377, "Dr. Ursula", Some("Zürcher"), &[BU], false),
    (1091, 377, "Beat", Some("Schnyder"), &[BU], false),
    (1100, 405, "Bob", Some("O'Malley"), &[BU], false),
    (1110, 419, "Pat", Some("Prospect"), &["Decision Maker"], false),
    (1120, 433, "Vendor", Some("Support"), &[], false),
    (1130, 512, "Haruto", Some("佐藤"), &[BU], false),
    (1131, 512, "Yui", Some("鈴木"), &[BU], false),
    (1140, 19298, "Alistair", Some("Baker"), &[BU], false),
    (1141, 19298, "[Temp]", Some("Contractor"), &[BU], false),
    (1142, 19298, "Jane", Some("McKenzie"), &[BU, "Approver"], false),
    (1150, 0, "Orphan", Some("Contact"), &[BU], false),
    (1151, 0, "Walk-in", Some("Customer"), &[], false),
];

const LIC: &str = "License";

/// (id, company id or 0, name, type, contact id or 0, active)
#[rustfmt::skip]
const CONFIGURATIONS: &[(i64, i64, &str, &str, i64, bool)] = &[
    (501, 250, "M365 Business Premium - Jürgen", LIC, 1010, true),
    (502, 250, "M365 Business Premium - Anna", LIC, 1011, true),
    (503, 250, "M365 Business Basic - Shared Mailbox", LIC, 1015, true),
    (504, 250, "M365 Business Premium - spare", LIC, 0, true),
    (505, 250, "CM-WS-001", "Managed Workstation", 1011, true),
    (506, 250, "CM-SRV-01", "Server", 0, true),
    (507, 250, "M365 Business Premium - Petra", LIC, 1013, false),
    (520, 251, "Exchange Online - Reception", LIC, 1022, true),
    (521, 251, "Exchange Online - Seán", LIC, 1020, true),
    (522, 251, "OBS-FW01", "Firewall", 0, true),
    (523, 251, "Microsoft 365 E3 - Siobhán", "Microsoft 365 License", 1021, true),
    (530, 263, "Office 365 E1 - Accueil", LIC, 1034, true),
    (531, 263, "Office 365 E3 - Éloïse", LIC, 1030, true),
    (532, 263, "Office 365 E3 - François", LIC, 1031, true),
    (533, 263, "SGE-SW-CORE", "Switch", 0, true),
    (534, 263, "SGE-PRN-2F", "Printer", 1032, true),
    (535, 263, "Office 365 E3 - Hélène", LIC, 1033, false),
    (540, 270, "Ærø WS 01", "Managed Workstation", 1040, true),
    (541, 270, "M365 - Søren", LIC, 1040, true),
    (550, 288, "E5 - Alex", LIC, 1050, true),
    (551, 288, "E5 - Diego", LIC, 1051, true),
    (552, 288, "E5 - Grady", LIC, 1052, true),
    (553, 288, "E5 - Isaiah", LIC, 1053, true),
    (554, 288, "E5 - Lidia", LIC, 1054, true),
    (555, 288, "E5 - Megan", LIC, 1055, true),
    (556, 288, "E5 - John", LIC, 1057, true),
    (557, 288, "CONTOSO-DC01", "Server", 0, true),
    (558, 288, "CONTOSO-BDR", "Backup Appliance", 0, true),
    (559, 288, "E3 - legacy seat", "License - Retired", 1056, true),
    (560, 288, "E5 - Nestor (retired status)", LIC, 1056, true),
    (570, 301, "Business Standard - Rick", LIC, 1060, true),
    (571, 301, "Microsoft 365 E5 - Rachael", "Microsoft 365 License", 1061, true),
    (580, 315, "TT-WS-01", "Managed Workstation", 1070, true),
    (581, 315, "TT-WS-02", "Managed Workstation", 1071, true),
    (590, 342, "Legacy seat - Old Timer", LIC, 1080, true),
    (600, 377, "M365 - Dr. Zürcher", LIC, 1090, true),
    (601, 377, "M365 - unassigned", LIC, 0, true),
    (610, 512, "M365 - 佐藤", LIC, 1130, true),
    (611, 512, "M365 - 鈴木", LIC, 1131, true),
    (620, 19298, "E3 - Alistair", LIC, 1140, true),
    (621, 19298, "E3 - Jane", LIC, 1142, true),
    (622, 19298, "BM-FW", "Firewall", 0, true),
    (630, 0, "Unassigned licence", LIC, 0, true),
    (631, 0, "Lab workstation", "Managed Workstation", 0, true),
    (640, 2, "NW-SRV-DC01", "Server", 1002, true),
];

impl CwTenant {
    /// A small hand-written, realistic tenant (16 companies, 46 contacts, 45 configurations)
    /// with engagement data relative to [`SAMPLE_NOW`]; see the module documentation for what
    /// it exercises. Same as `sample_at(SAMPLE_NOW)`.
    pub fn sample() -> Self {
        Self::sample_at(SAMPLE_NOW)
    }

    /// [`CwTenant::sample`] with its tickets, time entries, agreements and additions dated
    /// relative to `now` (Unix seconds); companies, contacts and configurations do not depend
    /// on `now`.
    pub fn sample_at(now: i64) -> Self {
        let mut t = Self::sample_base();
        for c in &mut t.companies {
            if let Some((_, m)) = MARKETS.iter().find(|(id, _)| *id == c.id) {
                c.set_market((!m.is_empty()).then_some(*m));
            }
        }
        add_sample_activity(&mut t, now);
        t
    }

    fn sample_base() -> Self {
        let mut companies: Vec<CwCompany> = COMPANIES
            .iter()
            .map(|&(id, ident, name, status, types, city)| {
                CwCompany::build(id, ident, name, status, types, city)
            })
            .collect();
        if let Some(c) = companies.iter_mut().find(|c| c.id == 342) {
            c.mark_deleted();
        }
        if let Some(c) = companies.iter_mut().find(|c| c.id == 419) {
            c.lead_flag = true;
        }
        if let Some(c) = companies.iter_mut().find(|c| c.id == 433) {
            c.is_vendor_flag = true;
        }
        if let Some(c) = companies.iter_mut().find(|c| c.id == 288) {
            c.custom_fields.push(CwCustomField {
                id: 3,
                caption: "Synthesize Account".into(),
                kind: "Text".into(),
                entry_method: "EntryField".into(),
                number_of_decimals: 0,
                value: Some("contoso-main".into()),
            });
        }
        let find_company = |id: i64| companies.iter().find(|c| c.id == id);
        let mut contacts: Vec<CwContact> = CONTACTS
            .iter()
            .map(|&(id, co, first, last, types, inactive)| {
                CwContact::build(id, find_company(co), first, last, types, inactive)
            })
            .collect();
        for c in &mut contacts {
            c.title = match c.id {
                1010 => Some("Geschäftsführer".into()),
                1020 | 1053 => Some("Managing Director".into()),
                1090 => Some("Zahnärztin".into()),
                _ => None,
            };
            c.default_flag = matches!(c.id, 1001 | 1010 | 1020 | 1030 | 1040 | 1050 | 1060);
            c.default_billing_flag = matches!(c.id, 1010 | 1020 | 1053);
        }
        let contact_by_id = |id: i64| contacts.iter().find(|c| c.id == id);
        let mut configurations: Vec<CwConfiguration> = CONFIGURATIONS
            .iter()
            .map(|&(id, co, name, kind, contact, active)| {
                CwConfiguration::build(
                    id,
                    find_company(co),
                    name,
                    kind,
                    contact_by_id(contact),
                    active,
                )
            })
            .collect();
        if let Some(c) = configurations.iter_mut().find(|c| c.id == 560) {
            c.status = Some(super::tenant::configuration_status("Retired"));
        }
        for c in &mut companies {
            c.default_contact = contacts
                .iter()
                .find(|k| k.default_flag && k.company.as_ref().is_some_and(|r| r.id == c.id))
                .map(CwContact::reference);
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

/// (id, company id, agreement type, start, end, cancelled)
type AgreementRow = (i64, i64, &'static str, i64, Option<i64>, bool);
/// (id, agreement id, product, quantity, effective, cancelled)
type AdditionRow = (i64, i64, &'static str, f64, i64, Option<i64>);
/// A ticket to be: (company id, summary, entered, resolved, closed), absolute seconds.
type TicketRow = (i64, &'static str, i64, Option<i64>, Option<i64>);

fn add_sample_activity(t: &mut CwTenant, now: i64) {
    let midnight = now - now.rem_euclid(D);
    let window = now - 90 * D;
    let mut tickets: Vec<TicketRow> = vec![
        // Contoso: 7 in the window, 2 of them resolved within 4 hours.
        (
            288,
            "Outlook keeps asking for password",
            now - 2 * D,
            Some(now - 2 * D + 4 * H),
            Some(now - D),
        ),
        (
            288,
            "Printer offline",
            now - 5 * D,
            None,
            Some(now - 5 * D + H),
        ),
        (
            288,
            "VPN not connecting",
            now - 9 * D,
            Some(now - 9 * D + 4 * H + 1),
            Some(now - 7 * D),
        ),
        (
            288,
            "New user setup: Grady",
            now - 20 * D,
            Some(now - 17 * D),
            None,
        ),
        (288, "Laptop very slow", now - 33 * D, None, None),
        (
            288,
            "Teams audio drops",
            now - 60 * D,
            Some(now - 60 * D + 6 * H),
            None,
        ),
        (288, "Access to shared mailbox", window, None, None),
        (
            288,
            "Password reset",
            window - 1,
            Some(window + H),
            Some(window + H),
        ),
        (
            288,
            "Old migration",
            now - 200 * D,
            Some(now - 199 * D),
            Some(now - 199 * D),
        ),
        (288, "Entered right now", now, None, None),
        // Café Müller: 3.
        (
            250,
            "Kasse druckt nicht",
            now - 3 * D,
            Some(now - 3 * D + 30 * 60),
            Some(now - 3 * D + H),
        ),
        (
            250,
            "Café Wi-Fi \"Guest\" down",
            now - 40 * D,
            Some(now - 38 * D),
            Some(now - 38 * D),
        ),
        (250, "Neuer Mitarbeiter", now - 70 * D, None, None),
        // Société Générale d'Électricité: 1.
        (
            263,
            "Imprimante bloquée",
            now - 12 * D,
            Some(now - 12 * D + 2 * H),
            None,
        ),
        // Zürich Dental: only before the window.
        (
            377,
            "Röntgen-PC startet nicht",
            now - 100 * D,
            Some(now - 100 * D + H),
            Some(now - 99 * D),
        ),
        (
            377,
            "E-Mail Signatur",
            now - 150 * D,
            None,
            Some(now - 149 * D),
        ),
        // Baker, McKenzie & Partners [UK]: 4.
        (
            19298,
            "Can't open O'Neill & Co. invoice PDF",
            now - D,
            Some(now - D + 15 * 60),
            Some(now - D + 20 * 60),
        ),
        (
            19298,
            "Request: new monitor [urgent]",
            now - 8 * D,
            None,
            None,
        ),
        (
            19298,
            "ALERT: Backup job failed",
            now - 15 * D,
            Some(now - 15 * D + 3 * H),
            Some(now - 14 * D),
        ),
        (
            19298,
            "Dictation software licence",
            now - 45 * D,
            Some(now - 40 * D),
            Some(now - 40 * D),
        ),
        // Acme Legacy Corp (deleted) still has recent tickets.
        (
            342,
            "Export all mailboxes",
            now - 10 * D,
            Some(now - 10 * D + H),
            Some(now - 9 * D),
        ),
        (342, "Close accounts", now - 11 * D, None, None),
        // Tailspin Toys: one open ticket.
        (315, "Shop tablet broken", now - 6 * D, None, None),
    ];
    // O'Brien & Sons: 12 in the window, every other one resolved within the hour.
    for k in 0..12 {
        let at = now - (3 + 7 * k) * D + 2 * H;
        let fast = k % 2 == 0;
        let res = at + if fast { 45 * 60 } else { 2 * D };
        tickets.push((
            251,
            "Case file share unavailable",
            at,
            Some(res),
            Some(res + H),
        ));
    }
    tickets.sort_by_key(|r| (r.2, r.0));
    let company = |t: &CwTenant, id: i64| t.company(id).cloned();
    for (k, (co, summary, at, resolved, closed)) in tickets.into_iter().enumerate() {
        let c = company(t, co);
        let resolved = resolved.filter(|&x| x < now);
        let closed = closed.filter(|&x| x < now);
        t.tickets.push(CwTicket::build(
            30_001 + 2 * k as i64,
            c.as_ref(),
            summary,
            at,
            resolved,
            closed,
        ));
    }

    // Time entries: (company, start, hours, billableOption).
    let mut entries: Vec<(i64, i64, f64, &str)> = Vec::new();
    for k in 0..100 {
        // Contoso: 100 × 0.1 h, 10 h only when summed as decimals.
        entries.push((288, now - (1 + k % 80) * D + (k % 7) * H, 0.1, "Billable"));
    }
    entries.extend([
        (288, now - 4 * D, 1.5, "Billable"),
        (288, window, 1.0, "Billable"),
        (288, window - 60, 8.0, "Billable"),
        (288, now - 6 * D, 3.0, "NoCharge"),
        (288, now - 7 * D, 1.0, "DoNotBill"),
        (288, now - 8 * D, 0.5, "NoDefault"),
        (263, now - 12 * D, 0.33, "Billable"),
        (263, now - 13 * D, 0.33, "Billable"),
        (263, now - 14 * D, 0.33, "Billable"),
        (512, now - 3 * D, 6.0, "NoCharge"),
        (512, now - 9 * D, 4.0, "NoCharge"),
        (377, now - 100 * D, 2.0, "Billable"),
    ]);
    for k in 0..9 {
        entries.push((263, now - (20 + k) * D, 1.0, "Billable"));
    }
    for k in 0..8 {
        // Café Müller: exactly 20 h.
        entries.push((250, now - (2 + 9 * k) * D, 2.5, "Billable"));
    }
    for k in 0..4 {
        // Baker McKenzie: exactly 10 h.
        entries.push((19298, now - (1 + 10 * k) * D, 2.5, "Billable"));
    }
    for k in 0..20 {
        // O'Brien & Sons: 41 h.
        entries.push((251, now - (1 + 4 * k) * D, 2.05, "Billable"));
    }
    entries.sort_by_key(|e| (e.1, e.0));
    for (k, (co, start, hours, billable)) in entries.into_iter().enumerate() {
        let c = company(t, co);
        // Charged to the company's latest ticket entered before the work, if any.
        let ticket = t
            .tickets
            .iter()
            .filter(|x| x.company.as_ref().is_some_and(|r| r.id == co))
            .filter(|x| {
                x.info
                    .get("dateEntered")
                    .and_then(|d| super::dates::parse_datetime(d))
                    .is_some_and(|ms| ms / 1000 <= start)
            })
            .map(|x| x.id)
            .next_back()
            .filter(|_| k % 3 != 0);
        t.time_entries.push(CwTimeEntry::build(
            80_001 + k as i64,
            c.as_ref(),
            ticket,
            k,
            start,
            hours,
            billable,
        ));
    }

    // Agreements: (id, company, type, start, end, cancelled).
    let agreements: &[AgreementRow] = &[
        (
            7001,
            288,
            "Managed Services",
            midnight - 400 * D,
            None,
            false,
        ),
        (7002, 288, "Block Time", midnight - 30 * D, None, true),
        (
            7003,
            251,
            "Managed Services",
            midnight - 700 * D,
            Some(midnight + 30 * D),
            false,
        ),
        (7004, 251, "Microsoft 365", midnight - 15 * D, None, false),
        (
            7005,
            251,
            "Backup",
            midnight - 45 * D,
            Some(midnight + 320 * D),
            false,
        ),
        (
            7006,
            19298,
            "Microsoft 365",
            midnight - 60 * D,
            Some(midnight + 305 * D),
            false,
        ),
        (
            7007,
            301,
            "Managed Services",
            midnight - 800 * D,
            Some(midnight - 70 * D),
            false,
        ),
        (
            7008,
            250,
            "Managed Services",
            midnight - 95 * D,
            None,
            false,
        ),
    ];
    for &(id, co, kind, start, end, cancelled) in agreements {
        let c = company(t, co);
        let name = format!("{kind} - {}", c.as_ref().map_or("", |c| c.name.as_str()));
        let mut a = CwAgreement::build(id, c.as_ref(), &name, kind, start, end, cancelled);
        if !cancelled && end.is_some_and(|e| e < now) {
            a.agreement_status = "Expired".into();
        }
        t.agreements.push(a);
    }
    // Additions: (id, agreement, product, quantity, effective, cancelled).
    let additions: &[AdditionRow] = &[
        (9001, 7001, "M365-BP", 12.0, midnight - 400 * D, None),
        (9002, 7001, "AV-ENDPOINT", 15.0, midnight - 10 * D, None),
        (
            9003,
            7001,
            "BACKUP-1TB",
            2.0,
            midnight - 20 * D,
            Some(midnight - 5 * D),
        ),
        (9004, 7001, "MANAGED-WS", 3.0, midnight - 120 * D, None),
        (
            9005,
            7002,
            "MANAGED-SRV",
            1.0,
            midnight - 30 * D,
            Some(midnight - 10 * D),
        ),
        (9006, 7003, "M365-E3", 8.0, midnight - 50 * D, None),
        (9007, 7003, "M365-E3", 2.0, midnight - 20 * D, None),
        (9008, 7004, "M365-BP", 5.0, midnight - 15 * D, None),
        (9009, 7005, "BACKUP-1TB", 2.5, midnight - 45 * D, None),
        (9010, 7006, "M365-E3", 14.0, midnight - 60 * D, None),
        (
            9011,
            7007,
            "MANAGED-WS",
            6.0,
            midnight - 800 * D,
            Some(midnight - 70 * D),
        ),
        (9012, 7008, "MANAGED-WS", 9.0, midnight - 95 * D, None),
    ];
    for &(id, agreement, product, quantity, effective, cancelled) in additions {
        t.additions.push(CwAgreementAddition::build(
            id, agreement, product, quantity, effective, cancelled,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectwise::dates::parse_datetime;

    fn secs(d: &str) -> i64 {
        parse_datetime(d).unwrap() / 1000
    }

    /// Contoso reproduces docs/contract.md §5's example over a 90-day window, whatever `now`.
    #[test]
    fn contoso_matches_the_contract_example() {
        for now in [SAMPLE_NOW, SAMPLE_NOW + 12_345_678] {
            let t = CwTenant::sample_at(now);
            let from = now - 90 * D;
            let inside = |s: i64| (from..now).contains(&s);
            let of = |c: &Option<crate::connectwise::CwCompanyRef>| c.as_ref().map(|c| c.id);
            let tickets: Vec<&CwTicket> = t
                .tickets
                .iter()
                .filter(|x| of(&x.company) == Some(288) && inside(secs(&x.info["dateEntered"])))
                .collect();
            assert_eq!(tickets.len(), 7);
            let fast = tickets
                .iter()
                .filter(|x| {
                    let done = x
                        .date_resolved
                        .as_deref()
                        .or(x.closed_date.as_deref().filter(|_| x.closed_flag));
                    done.is_some_and(|d| secs(d) - secs(&x.info["dateEntered"]) <= 4 * H)
                })
                .count();
            assert_eq!(fast, 2);
            let hundredths: i64 = t
                .time_entries
                .iter()
                .filter(|e| of(&e.company) == Some(288) && e.billable_option == "Billable")
                .filter(|e| inside(secs(&e.time_start)))
                .map(|e| (e.actual_hours * 100.0).round() as i64)
                .sum();
            assert_eq!(hundredths, 1250);
            let agreements = t
                .agreements
                .iter()
                .filter(|a| of(&a.company) == Some(288) && !a.cancelled_flag)
                .filter(|a| inside(secs(&a.start_date)))
                .count();
            let contoso: Vec<i64> = t
                .agreements
                .iter()
                .filter(|a| of(&a.company) == Some(288))
                .map(|a| a.id)
                .collect();
            let additions = t
                .additions
                .iter()
                .filter(|a| contoso.contains(&a.agreement_id) && a.cancelled_date.is_none())
                .filter(|a| a.effective_date.as_deref().is_some_and(|d| inside(secs(d))))
                .count();
            assert_eq!(agreements + additions, 1);
            // Companies, contacts and configurations do not depend on `now`.
            let base = CwTenant::sample();
            assert_eq!(
                (&t.companies, &t.contacts, &t.configurations),
                (&base.companies, &base.contacts, &base.configurations)
            );
        }
    }
}
