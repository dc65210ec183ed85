//! ConnectWise PSA entities (docs/apis.md §2.8) and a tenant that holds them.
//!
//! Structs serialise with the real JSON names (camelCase; `type`, `_info`). Optional values
//! are `Option`s: the simulator leaves `null`-valued properties out of its answers, as the
//! real API does [I: consistent with every client model making them optional], so a client
//! must treat a missing `company` or `lastName` like a null one. Every struct is
//! `#[serde(default)]` so a client-side test can deserialise projected (`fields=`) answers.
//!
//! `*_href` values inside `_info` are stored relative to the API base (`/company/companies/250`);
//! the simulator makes them absolute (`http://<host>/<codebase>apis/3.0/company/companies/250`)
//! when it answers, as the real API does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::activity::{CwAgreement, CwAgreementAddition, CwTicket, CwTimeEntry};
use super::dates::format_datetime;

/// `_info`: a string→string map (`lastUpdated`, `updatedBy`, `dateEntered`, `enteredBy`,
/// `*_href`), docs/apis.md §2.8. Kept as a small vector sorted by key (a `BTreeMap` node is
/// half a kilobyte even for one entry, and a contact holds half a dozen of these); it
/// serialises as a JSON object in key order, as a `BTreeMap` would.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Info(Vec<(String, String)>);

impl Info {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Sets `key`; returns the value it replaces.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl std::ops::Index<&str> for Info {
    type Output = String;
    fn index(&self, key: &str) -> &String {
        self.get(key).expect("no such _info entry")
    }
}

impl<const N: usize> From<[(String, String); N]> for Info {
    fn from(entries: [(String, String); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl FromIterator<(String, String)> for Info {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut info = Info::new();
        for (k, v) in iter {
            info.insert(k, v);
        }
        info
    }
}

impl Serialize for Info {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for Info {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(d)?;
        Ok(Self(map.into_iter().collect()))
    }
}

/// A reference `{id, name, _info}` (contact, type, status, site, market ... refs), docs/apis.md §2.8.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CwRef {
    pub id: i64,
    pub name: String,
    #[serde(rename = "_info", skip_serializing_if = "Info::is_empty")]
    pub info: Info,
}

impl CwRef {
    /// A reference whose `_info` carries `<kind>_href` → `href` (relative to the API base).
    pub fn new(id: i64, name: &str, kind: &str, href: &str) -> Self {
        let mut info = Info::new();
        info.insert(format!("{kind}_href"), href.to_string());
        Self {
            id,
            name: name.to_string(),
            info,
        }
    }
}

/// A company reference `{id, identifier, name, _info}`, docs/apis.md §2.8.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CwCompanyRef {
    pub id: i64,
    pub identifier: String,
    pub name: String,
    #[serde(rename = "_info", skip_serializing_if = "Info::is_empty")]
    pub info: Info,
}

/// One entry of `customFields[]` (`customFieldConditions` run over these), docs/apis.md §2.3.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwCustomField {
    pub id: i64,
    pub caption: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub entry_method: String,
    pub number_of_decimals: i64,
    pub value: Option<String>,
}

/// `GET /company/companies`, docs/apis.md §2.8 (Company).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwCompany {
    pub id: i64,
    pub identifier: String,
    pub name: String,
    pub status: Option<CwRef>,
    pub types: Vec<CwRef>,
    pub address_line1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<CwRef>,
    pub phone_number: Option<String>,
    pub website: Option<String>,
    pub market: Option<CwRef>,
    pub site: Option<CwRef>,
    pub default_contact: Option<CwRef>,
    pub deleted_flag: bool,
    pub date_deleted: Option<String>,
    pub deleted_by: Option<String>,
    pub lead_flag: bool,
    pub is_vendor_flag: bool,
    pub custom_fields: Vec<CwCustomField>,
    #[serde(rename = "_info")]
    pub info: Info,
}

/// One of a contact's `communicationItems[]`, docs/apis.md §2.8.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwCommunicationItem {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: CwRef,
    pub value: String,
    pub default_flag: bool,
    /// `"Email"`, `"Phone"`, `"Fax"`.
    pub communication_type: String,
}

/// `GET /company/contacts`, docs/apis.md §2.8 (Contact). `types[]` refs carry `name`, while the
/// contact type entities themselves carry `description` ([`CwContactType`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwContact {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub company: Option<CwCompanyRef>,
    pub site: Option<CwRef>,
    pub title: Option<String>,
    pub inactive_flag: bool,
    pub default_flag: bool,
    pub default_billing_flag: bool,
    pub types: Vec<CwRef>,
    pub communication_items: Vec<CwCommunicationItem>,
    pub custom_fields: Vec<CwCustomField>,
    #[serde(rename = "_info")]
    pub info: Info,
}

impl CwContact {
    /// The name ConnectWise shows in contact references: `"First Last"`, or the first name
    /// alone when there is no last name.
    pub fn display_name(&self) -> String {
        match self.last_name.as_deref() {
            Some(last) if !last.is_empty() => format!("{} {last}", self.first_name),
            _ => self.first_name.clone(),
        }
    }
}

/// `GET /company/configurations`, docs/apis.md §2.8 (Configuration). There is no licence
/// quantity field: a License configuration is one unit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwConfiguration {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: CwRef,
    pub status: Option<CwRef>,
    pub company: Option<CwCompanyRef>,
    pub contact: Option<CwRef>,
    pub site: Option<CwRef>,
    pub active_flag: bool,
    pub serial_number: Option<String>,
    pub tag_number: Option<String>,
    pub device_identifier: Option<String>,
    pub model_number: Option<String>,
    pub manufacturer: Option<CwRef>,
    pub os_type: Option<String>,
    pub os_info: Option<String>,
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    pub last_login_name: Option<String>,
    pub purchase_date: Option<String>,
    pub installation_date: Option<String>,
    pub warranty_expiration_date: Option<String>,
    pub needs_renewal_flag: bool,
    pub bill_flag: bool,
    pub parent_configuration_id: Option<i64>,
    pub backup_billable_space_gb: Option<f64>,
    pub notes: Option<String>,
    pub custom_fields: Vec<CwCustomField>,
    #[serde(rename = "_info")]
    pub info: Info,
}

/// `GET /company/contacts/types`: `description`, **not** `name` (docs/apis.md §2.8).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwContactType {
    pub id: i64,
    pub description: String,
    pub default_flag: bool,
    pub service_alert_flag: bool,
    pub service_alert_message: Option<String>,
    #[serde(rename = "_info")]
    pub info: Info,
}

/// `GET /company/configurations/types` `{id, name, inactiveFlag, systemFlag}` (docs/apis.md §2.8).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwConfigurationType {
    pub id: i64,
    pub name: String,
    pub inactive_flag: bool,
    pub system_flag: bool,
    #[serde(rename = "_info")]
    pub info: Info,
}

/// The data one simulated ConnectWise site holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwTenant {
    pub companies: Vec<CwCompany>,
    pub contacts: Vec<CwContact>,
    pub configurations: Vec<CwConfiguration>,
    pub contact_types: Vec<CwContactType>,
    pub configuration_types: Vec<CwConfigurationType>,
    /// `/service/tickets` (empty unless the tenant was made with engagement data).
    pub tickets: Vec<CwTicket>,
    /// `/time/entries`.
    pub time_entries: Vec<CwTimeEntry>,
    /// `/finance/agreements`.
    pub agreements: Vec<CwAgreement>,
    /// Every agreement's additions, served under `/finance/agreements/{agreementId}/additions`.
    pub additions: Vec<CwAgreementAddition>,
}

/// Contact types of every simulated tenant (id, description, defaultFlag). Ids have gaps.
/// "Billed User (Legacy)" is a distinct type: a client matching by `contains`/`like`
/// instead of by name would wrongly count it as "Billed User".
pub(crate) const CONTACT_TYPES: &[(i64, &str, bool)] = &[
    (1, "Approver", false),
    (2, "End User", true),
    (4, "Billed User", false),
    (7, "VIP", false),
    (9, "Decision Maker", false),
    (13, "Billed User (Legacy)", false),
    (15, "Former Employee", false),
];

/// Configuration types (id, name, inactiveFlag, systemFlag).
pub(crate) const CONFIGURATION_TYPES: &[(i64, &str, bool, bool)] = &[
    (3, "Managed Workstation", false, true),
    (5, "Server", false, true),
    (8, "Firewall", false, false),
    (11, "License", false, false),
    (14, "Microsoft 365 License", false, false),
    (17, "Printer", false, false),
    (20, "Switch", false, false),
    (22, "License - Retired", true, false),
    (24, "Backup Appliance", false, false),
];

/// Company statuses and types, and configuration statuses (id, name).
pub(crate) const COMPANY_STATUSES: &[(i64, &str)] = &[
    (1, "Active"),
    (2, "Inactive"),
    (5, "Not-Approved"),
    (7, "Credit Hold"),
];
pub(crate) const COMPANY_TYPES: &[(i64, &str)] = &[
    (1, "Client"),
    (2, "Prospect"),
    (5, "Vendor"),
    (8, "Owner"),
    (11, "Partner"),
];
/// Market descriptions (id, name) a company's `market` refers to. Names vary by tenant;
/// "Health Care", "Financial Services" and "Non Profit" sit next to the canonical ones, as
/// they would in sites set up by different people.
pub(crate) const MARKETS: &[(i64, &str)] = &[
    (1, "Legal"),
    (2, "Healthcare"),
    (3, "Professional Services"),
    (4, "Manufacturing"),
    (5, "Retail"),
    (6, "Financial"),
    (7, "Education"),
    (8, "Non-Profit"),
    (9, "Technology"),
    (10, "Construction"),
    (11, "Health Care"),
    (12, "Financial Services"),
    (13, "Hospitality"),
    (14, "Non Profit"),
    (15, "Government"),
];
pub(crate) const CONFIGURATION_STATUSES: &[(i64, &str)] = &[
    (1, "Active"),
    (2, "Inactive"),
    (3, "Retired"),
    (4, "On Order"),
];

fn by_name(table: &[(i64, &str)], name: &str) -> (i64, String) {
    table
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(id, n)| (*id, n.to_string()))
        .unwrap_or_else(|| (0, name.to_string()))
}

/// `_info` of an entity, with deterministic dates derived from `stamp` (seconds).
pub(crate) fn entity_info(stamp: i64, hrefs: &[(&str, String)]) -> Info {
    let mut info = Info::new();
    info.insert("dateEntered".into(), format_datetime(stamp));
    info.insert("enteredBy".into(), "Convert".into());
    info.insert(
        "lastUpdated".into(),
        format_datetime(stamp + 86_400 * (stamp % 400)),
    );
    info.insert("updatedBy".into(), "jdoe".into());
    for (k, v) in hrefs {
        info.insert(format!("{k}_href"), v.clone());
    }
    info
}

/// A stamp in 2019..2025 derived from an id, for `_info` dates.
pub(crate) fn stamp_for(id: i64) -> i64 {
    1_546_300_800 + (id.wrapping_mul(7_919).rem_euclid(2_000)) * 86_400 + (id % 86_400)
}

pub(crate) fn company_status(name: &str) -> CwRef {
    let (id, n) = by_name(COMPANY_STATUSES, name);
    CwRef::new(
        id,
        &n,
        "status",
        &format!("/company/companies/statuses/{id}"),
    )
}

/// The `market{id, name, _info}` ref of a market name (unknown names get id 0).
pub fn market_ref(name: &str) -> CwRef {
    let (id, n) = by_name(MARKETS, name);
    CwRef::new(
        id,
        &n,
        "market",
        &format!("/company/marketDescriptions/{id}"),
    )
}

pub(crate) fn company_type(name: &str) -> CwRef {
    let (id, n) = by_name(COMPANY_TYPES, name);
    CwRef::new(id, &n, "type", &format!("/company/companies/types/{id}"))
}

pub(crate) fn contact_type_ref(name: &str) -> CwRef {
    let (id, n) = CONTACT_TYPES
        .iter()
        .find(|t| t.1 == name)
        .map(|t| (t.0, t.1))
        .unwrap_or((0, name));
    CwRef::new(id, n, "type", &format!("/company/contacts/types/{id}"))
}

pub(crate) fn configuration_type_ref(name: &str) -> CwRef {
    let (id, n) = CONFIGURATION_TYPES
        .iter()
        .find(|t| t.1 == name)
        .map(|t| (t.0, t.1))
        .unwrap_or((0, name));
    CwRef::new(
        id,
        n,
        "type",
        &format!("/company/configurations/types/{id}"),
    )
}

pub(crate) fn configuration_status(name: &str) -> CwRef {
    let (id, n) = by_name(CONFIGURATION_STATUSES, name);
    CwRef::new(
        id,
        &n,
        "status",
        &format!("/company/configurations/statuses/{id}"),
    )
}

impl CwCompany {
    /// The `{id, identifier, name, _info}` reference to this company.
    pub fn reference(&self) -> CwCompanyRef {
        let mut info = Info::new();
        info.insert(
            "company_href".into(),
            format!("/company/companies/{}", self.id),
        );
        CwCompanyRef {
            id: self.id,
            identifier: self.identifier.clone(),
            name: self.name.clone(),
            info,
        }
    }

    /// A company with realistic defaults (address, site, market, `_info`). `status` and
    /// `types` are names from the standard lists ("Active", "Client", ...); unknown names get id 0.
    pub fn build(
        id: i64,
        identifier: &str,
        name: &str,
        status: &str,
        types: &[&str],
        city: &str,
    ) -> Self {
        let stamp = stamp_for(id);
        Self {
            id,
            identifier: identifier.to_string(),
            name: name.to_string(),
            status: Some(company_status(status)),
            types: types.iter().map(|t| company_type(t)).collect(),
            address_line1: Some(format!("{} Main Street", id % 300 + 1)),
            city: Some(city.to_string()),
            country: Some(CwRef::new(
                1,
                "United States",
                "country",
                "/company/countries/1",
            )),
            phone_number: Some(format!("555{:07}", id % 10_000_000)),
            website: Some(format!("www.{}.example", identifier.to_lowercase())),
            market: Some(CwRef::new(
                3,
                "Professional Services",
                "market",
                "/company/marketDescriptions/3",
            )),
            site: Some(CwRef::new(
                id * 3 + 1,
                "Main",
                "site",
                &format!("/company/companies/{id}/sites/{}", id * 3 + 1),
            )),
            info: entity_info(
                stamp,
                &[
                    (
                        "contacts",
                        format!("/company/contacts?conditions=company/id={id}"),
                    ),
                    ("sites", format!("/company/companies/{id}/sites")),
                ],
            ),
            ..Default::default()
        }
    }

    /// Sets (or, with `None`, removes) the company's market by name ("Legal", ...).
    pub fn set_market(&mut self, market: Option<&str>) {
        self.market = market.map(market_ref);
    }

    /// Marks the company deleted (`deletedFlag`, `dateDeleted`, `deletedBy`).
    pub fn mark_deleted(&mut self) {
        self.deleted_flag = true;
        self.date_deleted = Some(format_datetime(stamp_for(self.id) + 90 * 86_400));
        self.deleted_by = Some("jdoe".into());
    }
}

impl CwContact {
    /// A contact with an email (and usually a phone) communication item; `types` are contact
    /// type descriptions ("Billed User", ...), turned into `{id, name}` refs.
    pub fn build(
        id: i64,
        company: Option<&CwCompany>,
        first: &str,
        last: Option<&str>,
        types: &[&str],
        inactive: bool,
    ) -> Self {
        let domain = company
            .map(|c| format!("{}.example", c.identifier.to_lowercase()))
            .unwrap_or_else(|| "mail.example".into());
        let email = CwCommunicationItem {
            id: id * 2,
            kind: CwRef::new(1, "Email", "type", "/company/communicationTypes/1"),
            value: format!("contact{id}@{domain}"),
            default_flag: true,
            communication_type: "Email".into(),
        };
        let phone = CwCommunicationItem {
            id: id * 2 + 1,
            kind: CwRef::new(2, "Direct", "type", "/company/communicationTypes/2"),
            value: format!("555{:07}", id % 10_000_000),
            default_flag: false,
            communication_type: "Phone".into(),
        };
        Self {
            id,
            first_name: first.to_string(),
            last_name: last.map(str::to_string),
            company: company.map(CwCompany::reference),
            site: company.and_then(|c| c.site.clone()),
            title: None,
            inactive_flag: inactive,
            types: types.iter().map(|t| contact_type_ref(t)).collect(),
            communication_items: if id % 5 == 0 {
                vec![email]
            } else {
                vec![email, phone]
            },
            info: entity_info(
                stamp_for(id),
                &[(
                    "communications",
                    format!("/company/contacts/{id}/communications"),
                )],
            ),
            ..Default::default()
        }
    }

    /// The `{id, name, _info}` reference to this contact (as on configurations).
    pub fn reference(&self) -> CwRef {
        CwRef::new(
            self.id,
            &self.display_name(),
            "contact",
            &format!("/company/contacts/{}", self.id),
        )
    }
}

impl CwConfiguration {
    /// A configuration of type `kind` (a configuration type name, e.g. "License"); hardware
    /// types get serial/tag/IP details, licence types do not. `active` sets `activeFlag` and
    /// the status ("Active"/"Inactive").
    pub fn build(
        id: i64,
        company: Option<&CwCompany>,
        name: &str,
        kind: &str,
        contact: Option<&CwContact>,
        active: bool,
    ) -> Self {
        let stamp = stamp_for(id);
        let hardware = !kind.contains("License");
        Self {
            id,
            name: name.to_string(),
            kind: configuration_type_ref(kind),
            status: Some(configuration_status(if active {
                "Active"
            } else {
                "Inactive"
            })),
            company: company.map(CwCompany::reference),
            contact: contact.map(CwContact::reference),
            site: company.and_then(|c| c.site.clone()),
            active_flag: active,
            serial_number: hardware
                .then(|| format!("SN{:08X}", id.wrapping_mul(2_654_435_761) & 0xFFFF_FFFF)),
            tag_number: hardware.then(|| format!("TAG-{id}")),
            device_identifier: hardware.then(|| format!("dev-{id}")),
            model_number: hardware.then(|| "OptiPlex 7010".to_string()),
            manufacturer: hardware
                .then(|| CwRef::new(6, "Dell", "manufacturer", "/procurement/manufacturers/6")),
            os_type: hardware.then(|| "Windows 11 Pro".to_string()),
            ip_address: hardware
                .then(|| format!("10.{}.{}.{}", id % 250, id / 250 % 250, id % 200 + 10)),
            purchase_date: Some(format_datetime(stamp - 30 * 86_400)),
            installation_date: Some(format_datetime(stamp)),
            warranty_expiration_date: hardware.then(|| format_datetime(stamp + 3 * 365 * 86_400)),
            bill_flag: !hardware,
            info: entity_info(stamp, &[]),
            ..Default::default()
        }
    }
}

impl CwTenant {
    /// The contact type entities every tenant here uses.
    pub(crate) fn standard_types() -> (Vec<CwContactType>, Vec<CwConfigurationType>) {
        let contact_types = CONTACT_TYPES
            .iter()
            .map(|&(id, description, default_flag)| CwContactType {
                id,
                description: description.into(),
                default_flag,
                service_alert_flag: description == "VIP",
                service_alert_message: (description == "VIP")
                    .then(|| "VIP: escalate to the account manager".into()),
                info: entity_info(stamp_for(id), &[]),
            })
            .collect();
        let configuration_types = CONFIGURATION_TYPES
            .iter()
            .map(
                |&(id, name, inactive_flag, system_flag)| CwConfigurationType {
                    id,
                    name: name.into(),
                    inactive_flag,
                    system_flag,
                    info: entity_info(stamp_for(id), &[]),
                },
            )
            .collect();
        (contact_types, configuration_types)
    }

    /// Looks up a company by id.
    pub fn company(&self, id: i64) -> Option<&CwCompany> {
        self.companies.iter().find(|c| c.id == id)
    }

    /// Looks up a contact by id.
    pub fn contact(&self, id: i64) -> Option<&CwContact> {
        self.contacts.iter().find(|c| c.id == id)
    }

    /// Looks up a ticket by id.
    pub fn ticket(&self, id: i64) -> Option<&CwTicket> {
        self.tickets.iter().find(|t| t.id == id)
    }

    /// Looks up an agreement by id.
    pub fn agreement(&self, id: i64) -> Option<&CwAgreement> {
        self.agreements.iter().find(|a| a.id == id)
    }
}
