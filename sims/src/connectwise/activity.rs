//! Service and finance entities for the `clients` / `engagement` verbs (docs/apis.md §2.8,
//! docs/contract.md §3b): service tickets, time entries, agreements and agreement additions,
//! with builders that take Unix seconds so a tenant can be made relative to any `now`.
//!
//! Shapes follow the real API as far as docs/apis.md knows it:
//! - a ticket has **no top-level `dateEntered`**: it lives in `_info.dateEntered` (still usable
//!   as `dateEntered` in conditions, §2.8 trap); `closedDate` and `dateResolved` are left out
//!   while null;
//! - a time entry's `actualHours` is a JSON number with decimals (`0.1`, `1.25`), its
//!   `billableOption` one of `Billable`, `DoNotBill`, `NoCharge`, `NoDefault`;
//! - an agreement has `startDate`, an optional `endDate`, `agreementStatus` and `cancelledFlag`;
//! - an addition belongs to one agreement (`agreementId`), is listed under
//!   `/finance/agreements/{id}/additions`, and has `effectiveDate` and an optional
//!   `cancelledDate`.
//!
//! All dates are written ConnectWise style, `2026-11-02T14:00:00Z`.

use serde::{Deserialize, Serialize};

use super::dates::format_datetime;
use super::tenant::{CwCompany, CwCompanyRef, CwRef, Info};

/// A member reference `{id, identifier, name, _info}` (docs/apis.md §2.8).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CwMemberRef {
    pub id: i64,
    pub identifier: String,
    pub name: String,
    #[serde(rename = "_info", skip_serializing_if = "Info::is_empty")]
    pub info: Info,
}

/// A product (catalog item) reference `{id, identifier, _info}` on an agreement addition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CwProductRef {
    pub id: i64,
    pub identifier: String,
    #[serde(rename = "_info", skip_serializing_if = "Info::is_empty")]
    pub info: Info,
}

/// `GET /service/tickets`, docs/apis.md §2.8 (Ticket). No top-level `dateEntered`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwTicket {
    pub id: i64,
    pub summary: String,
    pub record_type: String,
    pub board: CwRef,
    pub status: CwRef,
    pub priority: Option<CwRef>,
    pub company: Option<CwCompanyRef>,
    pub contact: Option<CwRef>,
    pub closed_flag: bool,
    pub closed_date: Option<String>,
    pub closed_by: Option<String>,
    pub date_resolved: Option<String>,
    #[serde(rename = "_info")]
    pub info: Info,
}

/// `GET /time/entries`, docs/apis.md §2.8 (Time entry).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwTimeEntry {
    pub id: i64,
    pub company: Option<CwCompanyRef>,
    /// `ServiceTicket`, `ProjectTicket`, `ChargeCode` or `Activity`.
    pub charge_to_type: String,
    pub charge_to_id: i64,
    pub member: Option<CwMemberRef>,
    pub work_type: Option<CwRef>,
    pub time_start: String,
    pub time_end: Option<String>,
    /// Decimal hours, e.g. `0.1`, `1.25`.
    pub actual_hours: f64,
    /// `Billable`, `DoNotBill`, `NoCharge` or `NoDefault`.
    pub billable_option: String,
    pub notes: Option<String>,
    #[serde(rename = "_info")]
    pub info: Info,
}

/// `GET /finance/agreements`, docs/apis.md §2.8 (Agreement).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwAgreement {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: CwRef,
    pub company: Option<CwCompanyRef>,
    pub start_date: String,
    pub end_date: Option<String>,
    pub no_ending_date_flag: bool,
    /// `Active`, `Cancelled`, `Expired` or `Inactive`.
    pub agreement_status: String,
    pub cancelled_flag: bool,
    pub date_cancelled: Option<String>,
    pub bill_amount: Option<f64>,
    #[serde(rename = "_info")]
    pub info: Info,
}

/// `GET /finance/agreements/{id}/additions`, docs/apis.md §2.8 (Agreement additions).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwAgreementAddition {
    pub id: i64,
    pub product: CwProductRef,
    pub quantity: f64,
    pub unit_price: Option<f64>,
    pub bill_customer: String,
    pub effective_date: Option<String>,
    pub cancelled_date: Option<String>,
    pub agreement_id: i64,
    #[serde(rename = "_info")]
    pub info: Info,
}

/// Service boards (id, name).
pub(crate) const BOARDS: &[(i64, &str)] =
    &[(1, "Help Desk"), (4, "Network Operations"), (7, "Alerts")];
/// Ticket statuses (id, name) of the Help Desk board.
pub(crate) const TICKET_STATUSES: &[(i64, &str)] = &[
    (1, "New"),
    (5, "In Progress"),
    (9, "Waiting on Client"),
    (16, "Resolved"),
    (17, ">Closed"),
];
/// Members (id, identifier, name).
pub(crate) const MEMBERS: &[(i64, &str, &str)] = &[
    (101, "jdoe", "John Doe"),
    (102, "asmith", "Alice Smith"),
    (105, "bnguyen", "Bảo Nguyễn"),
    (108, "mkowalski", "Marta Kowalski"),
    (113, "olafur", "Ólafur Jónsson"),
];
/// Agreement types (id, name).
pub(crate) const AGREEMENT_TYPES: &[(i64, &str)] = &[
    (1, "Managed Services"),
    (2, "Block Time"),
    (4, "Microsoft 365"),
    (6, "Backup"),
    (9, "Project"),
];
/// Catalog products (id, identifier, unit price).
pub(crate) const PRODUCTS: &[(i64, &str, f64)] = &[
    (11, "M365-BP", 22.0),
    (12, "M365-E3", 36.0),
    (15, "AV-ENDPOINT", 4.5),
    (18, "BACKUP-1TB", 45.0),
    (21, "MANAGED-WS", 65.0),
    (23, "MANAGED-SRV", 150.0),
];

fn named(table: &[(i64, &str)], name: &str, kind: &str, href: &str) -> CwRef {
    let id = table
        .iter()
        .find(|(_, n)| *n == name)
        .map_or(0, |(id, _)| *id);
    CwRef::new(id, name, kind, &format!("{href}/{id}"))
}

/// `_info` with `dateEntered` and `lastUpdated` (Unix seconds) and the usual authors.
fn info(entered: i64, updated: i64, hrefs: &[(&str, String)]) -> Info {
    let mut info = Info::new();
    info.insert("dateEntered".into(), format_datetime(entered));
    info.insert("enteredBy".into(), "Convert".into());
    info.insert("lastUpdated".into(), format_datetime(updated.max(entered)));
    info.insert("updatedBy".into(), "jdoe".into());
    for (k, v) in hrefs {
        info.insert(format!("{k}_href"), v.clone());
    }
    info
}

impl CwMemberRef {
    /// The member at `index` (wrapping) of the simulator's member list.
    pub fn nth(index: usize) -> Self {
        let (id, identifier, name) = MEMBERS[index % MEMBERS.len()];
        let mut info = Info::new();
        info.insert("member_href".into(), format!("/system/members/{id}"));
        Self {
            id,
            identifier: identifier.into(),
            name: name.into(),
            info,
        }
    }
}

impl CwTicket {
    /// A Help Desk service ticket entered at `entered` (Unix seconds). `resolved` sets
    /// `dateResolved` and status "Resolved"; `closed` sets `closedFlag`, `closedDate` and
    /// status ">Closed" (a ticket may be closed without a `dateResolved`).
    pub fn build(
        id: i64,
        company: Option<&CwCompany>,
        summary: &str,
        entered: i64,
        resolved: Option<i64>,
        closed: Option<i64>,
    ) -> Self {
        let status = match (resolved, closed) {
            (_, Some(_)) => ">Closed",
            (Some(_), None) => "Resolved",
            (None, None) if id % 3 == 0 => "In Progress",
            (None, None) => "New",
        };
        let board = if summary.starts_with("ALERT") {
            "Alerts"
        } else {
            "Help Desk"
        };
        let updated = closed.or(resolved).unwrap_or(entered);
        Self {
            id,
            summary: summary.to_string(),
            record_type: "ServiceTicket".into(),
            board: named(BOARDS, board, "board", "/service/boards"),
            status: named(
                TICKET_STATUSES,
                status,
                "status",
                "/service/boards/1/statuses",
            ),
            priority: Some(CwRef::new(
                8,
                "Priority 3 - Normal Response",
                "priority",
                "/service/priorities/8",
            )),
            company: company.map(CwCompany::reference),
            contact: company.and_then(|c| c.default_contact.clone()),
            closed_flag: closed.is_some(),
            closed_date: closed.map(format_datetime),
            closed_by: closed.map(|_| "jdoe".to_string()),
            date_resolved: resolved.map(format_datetime),
            info: info(
                entered,
                updated,
                &[(
                    "timeentries",
                    format!(
                        "/time/entries?conditions=(chargeToType=%22ServiceTicket%22%20OR%20chargeToType=%22ProjectTicket%22)%20AND%20chargeToId={id}"
                    ),
                )],
            ),
        }
    }
}

impl CwTimeEntry {
    /// `hours` of work starting at `start` (Unix seconds), charged to ticket `ticket` (or to
    /// a charge code when `None`), by member `member` (an index into the member list).
    /// `billable` is a `billableOption` value.
    pub fn build(
        id: i64,
        company: Option<&CwCompany>,
        ticket: Option<i64>,
        member: usize,
        start: i64,
        hours: f64,
        billable: &str,
    ) -> Self {
        let end = start + (hours * 3600.0).round() as i64;
        let (charge_to_type, charge_to_id) = match ticket {
            Some(t) => ("ServiceTicket", t),
            None => ("ChargeCode", 3),
        };
        let mut notes = None;
        if id % 4 == 0 {
            notes = Some("Worked with user; see ticket notes.".to_string());
        }
        Self {
            id,
            company: company.map(CwCompany::reference),
            charge_to_type: charge_to_type.into(),
            charge_to_id,
            member: Some(CwMemberRef::nth(member)),
            work_type: Some(CwRef::new(
                1,
                "Remote Support",
                "workType",
                "/time/workTypes/1",
            )),
            time_start: format_datetime(start),
            time_end: Some(format_datetime(end)),
            actual_hours: hours,
            billable_option: billable.to_string(),
            notes,
            info: info(end, end, &[]),
        }
    }
}

impl CwAgreement {
    /// An agreement of type `kind` (an agreement type name) starting at `start` (Unix
    /// seconds, usually midnight) and ending at `end` if given. `agreementStatus` is
    /// "Cancelled" when `cancelled`, else "Active" (set it to "Expired"/"Inactive" as needed).
    pub fn build(
        id: i64,
        company: Option<&CwCompany>,
        name: &str,
        kind: &str,
        start: i64,
        end: Option<i64>,
        cancelled: bool,
    ) -> Self {
        Self {
            id,
            name: name.to_string(),
            kind: named(AGREEMENT_TYPES, kind, "type", "/finance/agreements/types"),
            company: company.map(CwCompany::reference),
            start_date: format_datetime(start),
            end_date: end.map(format_datetime),
            no_ending_date_flag: end.is_none(),
            agreement_status: if cancelled { "Cancelled" } else { "Active" }.into(),
            cancelled_flag: cancelled,
            date_cancelled: cancelled.then(|| format_datetime(start + 20 * 86_400)),
            bill_amount: Some(((id % 40) * 125) as f64 + 250.0),
            info: info(
                start - 3 * 86_400,
                start,
                &[("additions", format!("/finance/agreements/{id}/additions"))],
            ),
        }
    }
}

impl CwAgreementAddition {
    /// `quantity` of `product` (a product identifier, e.g. "M365-BP") on agreement
    /// `agreement_id`, effective at `effective` (Unix seconds), cancelled at `cancelled`.
    pub fn build(
        id: i64,
        agreement_id: i64,
        product: &str,
        quantity: f64,
        effective: i64,
        cancelled: Option<i64>,
    ) -> Self {
        let (pid, price) = PRODUCTS
            .iter()
            .find(|p| p.1 == product)
            .map_or((0, 0.0), |p| (p.0, p.2));
        let mut pinfo = Info::new();
        pinfo.insert("product_href".into(), format!("/procurement/catalog/{pid}"));
        Self {
            id,
            product: CwProductRef {
                id: pid,
                identifier: product.to_string(),
                info: pinfo,
            },
            quantity,
            unit_price: Some(price),
            bill_customer: "Billable".into(),
            effective_date: Some(format_datetime(effective)),
            cancelled_date: cancelled.map(format_datetime),
            agreement_id,
            info: info(effective - 86_400, cancelled.unwrap_or(effective), &[]),
        }
    }
}
