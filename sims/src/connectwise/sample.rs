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
//! Ids are not contiguous and do not start at 1, as in a real tenant.

use super::tenant::{CwCompany, CwConfiguration, CwContact, CwCustomField, CwTenant};

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
    /// A small hand-written, realistic tenant (16 companies, 46 contacts, 45 configurations);
    /// see the module documentation for what it exercises.
    pub fn sample() -> Self {
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
        }
    }
}
