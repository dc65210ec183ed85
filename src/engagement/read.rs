//! The ConnectWise reads of `clients` and `engagement` (docs/contract.md §3b, docs/apis.md
//! §2.8): the one part of this module that talks to a server. Every list goes through
//! [`ConnectWiseClient::for_each_page`] (forward-only paging, integrity checks, id ranges),
//! is filtered on the server by its conditions, and is folded page by page into per-company
//! figures, so what is held is proportional to the companies, not to the rows read. Any
//! failed read fails the whole command (exit 1): a partial read never becomes a score.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;
use serde::Deserialize;

use super::hours::Hours;
use super::model::{CompanyRef, PrimaryContact};
use super::score::{Activity, TicketTimes};
use super::window::Window;
use crate::error::{Error, Result, Side};
use crate::sources::connectwise::ConnectWiseClient;
use crate::sources::field::HasId;
use crate::text::{escape, parse_utc, utc};

const SIDE: Side = Side::ConnectWise;

/// Concurrent additions reads (one per agreement that can have additions in the window).
const ADDITION_READS: usize = 3;

/// Which companies are served (`--type`, `--status`): a name compared by ConnectWise (it
/// ignores case), or `None` for any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    /// A name in the company's `types[]`; default `Client`.
    pub company_type: Option<String>,
    /// `status.name`; default `Active`.
    pub status: Option<String>,
}

impl Filters {
    /// From the flags: `any` (or `*`) means no filter. A name holding a double quote is
    /// refused (exit 2), as it cannot be written into a condition.
    pub fn new(company_type: &str, status: &str) -> Result<Filters> {
        let one = |flag: &str, value: &str| -> Result<Option<String>> {
            let v = value.trim();
            if v.eq_ignore_ascii_case("any") || v == "*" {
                return Ok(None);
            }
            if v.is_empty() || v.contains('"') || v.chars().any(char::is_control) {
                return Err(Error::Usage(format!(
                    "{flag} '{}': give a ConnectWise name without double quotes, or 'any'",
                    escape(value)
                )));
            }
            Ok(Some(v.to_string()))
        };
        Ok(Filters {
            company_type: one("--type", company_type)?,
            status: one("--status", status)?,
        })
    }
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            company_type: Some("Client".into()),
            status: Some("Active".into()),
        }
    }
}

/// A company as `clients` and `engagement` see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: String,
    pub identifier: String,
    pub name: String,
    pub status: Option<String>,
    pub types: Vec<String>,
    pub market: Option<String>,
    pub default_contact: Option<i64>,
}

impl Company {
    pub fn reference(&self) -> CompanyRef {
        CompanyRef {
            company_id: self.id.clone(),
            identifier: self.identifier.clone(),
            name: self.name.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NameRef {
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IdRef {
    id: Option<i64>,
}

impl IdRef {
    fn key(r: &Option<IdRef>) -> Option<String> {
        r.as_ref().and_then(|r| r.id).map(|id| id.to_string())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompanyRow {
    id: i64,
    #[serde(default)]
    identifier: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    status: Option<NameRef>,
    #[serde(default)]
    types: Option<Vec<NameRef>>,
    #[serde(default)]
    market: Option<NameRef>,
    #[serde(default)]
    default_contact: Option<IdRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CommunicationItem {
    value: Option<String>,
    default_flag: bool,
    communication_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactRow {
    id: i64,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    company: Option<IdRef>,
    #[serde(default)]
    communication_items: Option<Vec<CommunicationItem>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TicketInfo {
    date_entered: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketRow {
    id: i64,
    #[serde(default)]
    company: Option<IdRef>,
    #[serde(default)]
    closed_flag: Option<bool>,
    #[serde(default)]
    closed_date: Option<String>,
    #[serde(default)]
    date_resolved: Option<String>,
    #[serde(default, rename = "_info")]
    info: Option<TicketInfo>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TimeEntryRow {
    id: i64,
    #[serde(default)]
    company: Option<IdRef>,
    #[serde(default)]
    time_start: Option<String>,
    #[serde(default)]
    actual_hours: Option<Hours>,
    #[serde(default)]
    billable_option: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AgreementRow {
    id: i64,
    #[serde(default)]
    company: Option<IdRef>,
    #[serde(default)]
    start_date: Option<String>,
    #[serde(default)]
    cancelled_flag: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdditionRow {
    id: i64,
    #[serde(default)]
    effective_date: Option<String>,
    #[serde(default)]
    cancelled_date: Option<String>,
}

macro_rules! has_id {
    ($($t:ty),*) => {$(impl HasId for $t { fn id(&self) -> i64 { self.id } })*};
}
has_id!(
    CompanyRow,
    ContactRow,
    TicketRow,
    TimeEntryRow,
    AgreementRow,
    AdditionRow
);

/// A time from ConnectWise, or an API error naming the row.
fn time(entity: &str, id: i64, field: &str, text: &str) -> Result<i64> {
    parse_utc(text).map_err(|e| {
        Error::api(
            SIDE,
            format!(
                "{entity} {id}: {field} cannot be read ({})",
                escape(&e.to_string())
            ),
        )
    })
}

/// `[2026-09-02T12:00:00Z]`, a datetime literal in a condition (docs/apis.md §2.3).
fn literal(t: i64) -> String {
    format!("[{}]", utc(t))
}

/// The companies served: not deleted, of the type and status asked for, in id order.
pub async fn companies(client: &mut ConnectWiseClient, filters: &Filters) -> Result<Vec<Company>> {
    let mut conditions = "deletedFlag=false".to_string();
    if let Some(status) = &filters.status {
        conditions.push_str(&format!(" AND status/name=\"{status}\""));
    }
    let child = filters
        .company_type
        .as_ref()
        .map(|t| format!("types/name=\"{t}\""));
    let mut query = vec![
        ("conditions", conditions.as_str()),
        (
            "fields",
            "id,identifier,name,status,types,market,defaultContact",
        ),
    ];
    if let Some(child) = &child {
        query.push(("childConditions", child.as_str()));
    }
    let mut out = Vec::new();
    client
        .for_each_page("company/companies", &query, |rows: Vec<CompanyRow>| {
            out.extend(rows.into_iter().map(|r| {
                Company {
                    id: r.id.to_string(),
                    identifier: r.identifier.unwrap_or_default(),
                    name: r.name.unwrap_or_default(),
                    status: r.status.and_then(|s| s.name),
                    types: r
                        .types
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|t| t.name)
                        .collect(),
                    market: r.market.and_then(|m| m.name),
                    default_contact: r.default_contact.and_then(|c| c.id),
                }
            }));
            Ok(())
        })
        .await?;
    Ok(out)
}

/// The primary contact of each company: one read of the default contacts
/// (`defaultFlag=true`), joined on the company's `defaultContact`, or else on the contact's
/// company. Keyed by company id.
pub async fn primary_contacts(
    client: &mut ConnectWiseClient,
    companies: &[Company],
) -> Result<HashMap<String, PrimaryContact>> {
    let wanted: HashMap<i64, &str> = companies
        .iter()
        .filter_map(|c| c.default_contact.map(|d| (d, c.id.as_str())))
        .collect();
    let selected: HashSet<&str> = companies.iter().map(|c| c.id.as_str()).collect();
    let mut by_default: HashMap<String, PrimaryContact> = HashMap::new();
    let mut by_company: HashMap<String, PrimaryContact> = HashMap::new();
    client
        .for_each_page(
            "company/contacts",
            &[
                ("conditions", "defaultFlag=true"),
                (
                    "fields",
                    "id,firstName,lastName,company,defaultFlag,communicationItems",
                ),
            ],
            |rows: Vec<ContactRow>| {
                for r in rows {
                    let company = IdRef::key(&r.company);
                    let via_default = wanted.get(&r.id).map(|c| c.to_string());
                    let via_company = company.filter(|c| selected.contains(c.as_str()));
                    if via_default.is_none() && via_company.is_none() {
                        continue;
                    }
                    let contact = contact_of(&r);
                    if let Some(c) = via_default {
                        by_default.insert(c, contact.clone());
                    }
                    if let Some(c) = via_company {
                        by_company.entry(c).or_insert(contact);
                    }
                }
                Ok(())
            },
        )
        .await?;
    for (company, contact) in by_company {
        by_default.entry(company).or_insert(contact);
    }
    Ok(by_default)
}

fn contact_of(r: &ContactRow) -> PrimaryContact {
    let name = [r.first_name.as_deref(), r.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let items = r.communication_items.as_deref().unwrap_or_default();
    let pick = |kind: &str| {
        let of_kind = || {
            items.iter().filter(move |i| {
                i.communication_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(kind))
                    && i.value.as_deref().is_some_and(|v| !v.trim().is_empty())
            })
        };
        of_kind()
            .find(|i| i.default_flag)
            .or_else(|| of_kind().next())
            .and_then(|i| i.value.clone())
    };
    PrimaryContact {
        name,
        email: pick("Email"),
        phone: pick("Phone"),
    }
}

/// Every company's activity over the window, and, when asked for, which company each ticket
/// read belongs to (ticket id → company id, to join CrewHu surveys; one entry per ticket in
/// the window, so it is kept only when CrewHu is read).
pub struct Activities {
    pub by_company: HashMap<String, Activity>,
    pub ticket_company: HashMap<String, String>,
}

/// Tickets, billable time entries, agreements and their additions in `window`, folded per
/// company id (only the `companies` given; the others are not kept). `keep_tickets` keeps the
/// ticket → company map for the CrewHu join.
pub async fn activities(
    client: &mut ConnectWiseClient,
    companies: &[Company],
    window: &Window,
    keep_tickets: bool,
) -> Result<Activities> {
    let mut by_company: HashMap<String, Activity> = companies
        .iter()
        .map(|c| (c.id.clone(), Activity::default()))
        .collect();
    let mut ticket_company = HashMap::new();
    let (from, to) = (literal(window.from.0), literal(window.to.0));

    let conditions = format!("dateEntered>={from} AND dateEntered<{to}");
    client
        .for_each_page(
            "service/tickets",
            &[
                ("conditions", conditions.as_str()),
                (
                    "fields",
                    "id,company,closedFlag,closedDate,dateResolved,_info",
                ),
            ],
            |rows: Vec<TicketRow>| {
                for r in rows {
                    let Some(company) = IdRef::key(&r.company) else {
                        continue;
                    };
                    let Some(activity) = by_company.get_mut(&company) else {
                        continue;
                    };
                    let entered = r
                        .info
                        .as_ref()
                        .and_then(|i| i.date_entered.as_deref())
                        .ok_or_else(|| {
                            Error::api(
                                SIDE,
                                format!("ticket {}: no _info.dateEntered in the answer", r.id),
                            )
                        })?;
                    let times = TicketTimes {
                        entered: time("ticket", r.id, "_info.dateEntered", entered)?,
                        resolved: r
                            .date_resolved
                            .as_deref()
                            .map(|t| time("ticket", r.id, "dateResolved", t))
                            .transpose()?,
                        closed_flag: r.closed_flag.unwrap_or(false),
                        closed: r
                            .closed_date
                            .as_deref()
                            .map(|t| time("ticket", r.id, "closedDate", t))
                            .transpose()?,
                    };
                    activity.add_ticket(&times, window);
                    if keep_tickets {
                        ticket_company.insert(r.id.to_string(), company);
                    }
                }
                Ok(())
            },
        )
        .await?;

    let conditions =
        format!("timeStart>={from} AND timeStart<{to} AND billableOption=\"Billable\"");
    client
        .for_each_page(
            "time/entries",
            &[
                ("conditions", conditions.as_str()),
                ("fields", "id,company,timeStart,actualHours,billableOption"),
            ],
            |rows: Vec<TimeEntryRow>| {
                for r in rows {
                    let Some(activity) =
                        IdRef::key(&r.company).and_then(|c| by_company.get_mut(&c))
                    else {
                        continue;
                    };
                    if !r
                        .billable_option
                        .as_deref()
                        .is_some_and(|b| b.trim().eq_ignore_ascii_case("Billable"))
                    {
                        continue;
                    }
                    let start = r.time_start.as_deref().ok_or_else(|| {
                        Error::api(SIDE, format!("time entry {}: no timeStart", r.id))
                    })?;
                    if !window.contains(time("time entry", r.id, "timeStart", start)?) {
                        continue;
                    }
                    let hours = r.actual_hours.unwrap_or_default();
                    activity.billable_hours =
                        activity.billable_hours.checked_add(hours).ok_or_else(|| {
                            Error::api(
                                SIDE,
                                format!("time entry {}: the hours sum overflows", r.id),
                            )
                        })?;
                }
                Ok(())
            },
        )
        .await?;

    // Agreements started before the window's end and not ended before its start: those started
    // in it count, and only they can have additions effective in it (an addition takes effect
    // while its agreement runs [I]; docs/apis.md §2.8).
    let conditions =
        format!("cancelledFlag=false AND startDate<{to} AND (endDate=null OR endDate>={from})");
    let mut with_additions: Vec<(i64, String)> = Vec::new();
    client
        .for_each_page(
            "finance/agreements",
            &[
                ("conditions", conditions.as_str()),
                ("fields", "id,company,startDate,cancelledFlag"),
            ],
            |rows: Vec<AgreementRow>| {
                for r in rows {
                    if r.cancelled_flag.unwrap_or(false) {
                        continue;
                    }
                    let Some(company) = IdRef::key(&r.company) else {
                        continue;
                    };
                    let Some(activity) = by_company.get_mut(&company) else {
                        continue;
                    };
                    let start = r
                        .start_date
                        .as_deref()
                        .map(|t| time("agreement", r.id, "startDate", t))
                        .transpose()?;
                    if start.is_some_and(|s| window.contains(s)) {
                        activity.procurement += 1;
                    }
                    with_additions.push((r.id, company));
                }
                Ok(())
            },
        )
        .await?;

    client.prepare().await?;
    let conditions = format!("effectiveDate>={from} AND effectiveDate<{to} AND cancelledDate=null");
    let shared = &*client;
    let reads = futures_util::stream::iter(with_additions.into_iter().map(|(id, company)| {
        let conditions = conditions.as_str();
        async move {
            let mut n = 0u64;
            let path = format!("finance/agreements/{id}/additions");
            shared
                .for_each_page_shared(
                    &path,
                    &[
                        ("conditions", conditions),
                        ("fields", "id,effectiveDate,cancelledDate"),
                    ],
                    |rows: Vec<AdditionRow>| {
                        for r in rows {
                            if r.cancelled_date.is_some() {
                                continue;
                            }
                            let Some(e) = r.effective_date.as_deref() else {
                                continue;
                            };
                            if window.contains(time("addition", r.id, "effectiveDate", e)?) {
                                n += 1;
                            }
                        }
                        Ok(())
                    },
                )
                .await?;
            Ok::<_, Error>((company, n))
        }
    }))
    .buffer_unordered(ADDITION_READS);
    futures_util::pin_mut!(reads);
    while let Some(done) = reads.next().await {
        let (company, n) = done?;
        if let Some(a) = by_company.get_mut(&company) {
            a.procurement += n;
        }
    }

    Ok(Activities {
        by_company,
        ticket_company,
    })
}
