//! CrewHu API simulator, the CSAT source of `engagement` (docs/apis.md §5b).
//!
//! Models, served over real HTTP below `/api/`:
//! - `GET /api/v1/survey?step=N&limit=M`: `step` is a 1-based page (missing means 1; not an
//!   integer or `< 1` → 400), `limit` defaults to 25 and is silently capped at 1,000 (`< 1` or
//!   not an integer → 400). The answer is a **bare JSON array**, oldest survey first
//!   (`_created_at`, then `_id`); a short page is the last and a page past the end is `[]`.
//!   Nothing public documents this paging: it is what §5b tells the simulator to assume [I].
//! - `GET /api/v1/user?step=1&limit=1`, the cheap credential check (§5b), same paging.
//! - Auth: header `X_CREWHU_APITOKEN: <token>`, or `X-Crewhu-Api-Token` (what a client sends
//!   when a proxy drops underscore headers; nginx does so by default). Header names are
//!   compared ignoring case; hyper keeps underscores as they are (no `_`→`-` folding), so the
//!   two names are distinct headers and either one carrying the token is enough. A missing
//!   or wrong token is a 401 by default, switchable to 403 ([`BadTokenStatus`]): the real
//!   answer is undocumented, so a client must handle both.
//! - Surveys: `_id`, `closed` (RFC 3339 answer time with milliseconds, `null` while
//!   unanswered), `survey_type_code` (`typResolved|typReply|typSignature`), `ticket_num`
//!   (a string; `null` for a survey not about a ticket), `customer_data{ID, name, contact,
//!   email, phone}` (`ID` is the PSA company id, as a string), `rating` (5, 0, −5; `null`
//!   while unanswered), `rating_label`, `inactive`, `summary`, `_created_at`, `_updated_at`.
//! - Faults ([`Faults`]: 429, 500, latency, failing route) and a [`RequestLog`], as for the
//!   other simulators; paths ignore case, as Express routing does by default [I].
//!
//! [`CrewhuTenant::for_connectwise`] makes surveys consistent with a ConnectWise tenant:
//! ticket numbers are that tenant's ticket ids, customer ids its company ids.
//!
//! Not modelled: filters on the survey list (none is documented), writes, other routes.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::connectwise::{CwTenant, SAMPLE_NOW, format_datetime, parse_datetime};
use crate::{FaultHit, Faults, RequestLog, RunningServer, lock};

/// The default `limit` of a list.
pub const DEFAULT_LIMIT: usize = 25;
/// The largest `limit` honoured; larger ones are capped silently.
pub const MAX_LIMIT: usize = 1_000;
/// The token header as CrewHu documents it (HTTP header names ignore case).
pub const TOKEN_HEADER: &str = "X_CREWHU_APITOKEN";
/// The proxy-safe spelling some clients send instead.
pub const TOKEN_HEADER_ALT: &str = "X-Crewhu-Api-Token";

/// `customer_data` of a survey.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CrewhuCustomer {
    /// The PSA company id, as a string.
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub contact: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One survey, as `GET /v1/survey` lists it (docs/apis.md §5b). Nulls are sent as `null`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CrewhuSurvey {
    #[serde(rename = "_id")]
    pub id: String,
    /// When the survey was answered (RFC 3339); `None` while unanswered.
    pub closed: Option<String>,
    /// `typResolved`, `typReply` or `typSignature`.
    pub survey_type_code: String,
    /// The PSA ticket number, as a string; `None` for a survey not about a ticket.
    pub ticket_num: Option<String>,
    pub customer_data: CrewhuCustomer,
    /// 5 positive, 0 neutral, −5 negative; `None` while unanswered.
    pub rating: Option<i64>,
    pub rating_label: Option<String>,
    pub inactive: bool,
    pub summary: Option<String>,
    #[serde(rename = "_created_at")]
    pub created_at: String,
    #[serde(rename = "_updated_at")]
    pub updated_at: String,
}

/// One CrewHu user (technician), as `GET /v1/user` lists it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CrewhuUser {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub email: String,
    pub active: bool,
    #[serde(rename = "_created_at")]
    pub created_at: String,
    #[serde(rename = "_updated_at")]
    pub updated_at: String,
}

/// The data one simulated CrewHu account holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CrewhuTenant {
    pub surveys: Vec<CrewhuSurvey>,
    pub users: Vec<CrewhuUser>,
}

/// RFC 3339 with milliseconds, as a Node/Mongo API writes dates: `2026-11-02T14:03:11.000Z`.
pub fn format_rfc3339_ms(secs: i64) -> String {
    let s = format_datetime(secs);
    format!("{}.000Z", s.trim_end_matches('Z'))
}

fn object_id(secs: i64, n: u64) -> String {
    format!(
        "{:08x}{:016x}",
        secs as u32,
        n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    )
}

fn seconds_of(date: &str) -> Option<i64> {
    parse_datetime(date).map(|ms| ms / 1000)
}

const COMMENTS: &[&str] = &[
    "Quick and friendly, thank you!",
    "Fixed in minutes 👍",
    "Took three days to hear back.",
    "Ok.",
    "Technician was great, issue came back though",
    "Merci beaucoup, très rapide",
    "Danke, alles gut",
    "Please call before remoting in.",
];

const USERS: &[(&str, &str)] = &[
    ("John Doe", "jdoe@northwind.example"),
    ("Alice Smith", "asmith@northwind.example"),
    ("Bảo Nguyễn", "bnguyen@northwind.example"),
    ("Marta Kowalski", "mkowalski@northwind.example"),
];

impl CrewhuSurvey {
    /// Sets the answer: `rating` 5 / 0 / −5 answered at `at` (Unix seconds), with its label;
    /// `None` makes the survey unanswered again.
    pub fn answer(&mut self, answer: Option<(i64, i64)>) {
        match answer {
            Some((rating, at)) => {
                self.rating = Some(rating);
                self.rating_label = Some(rating_label(rating).into());
                self.closed = Some(format_rfc3339_ms(at));
                self.updated_at = format_rfc3339_ms(at);
            }
            None => {
                self.rating = None;
                self.rating_label = None;
                self.closed = None;
            }
        }
    }
}

/// The label CrewHu shows next to a rating [I: the exact wording is undocumented].
pub fn rating_label(rating: i64) -> &'static str {
    match rating {
        r if r > 0 => "Positive",
        0 => "Neutral",
        _ => "Negative",
    }
}

impl CrewhuTenant {
    /// Surveys consistent with `cw` (seeded): about 40% of resolved or closed tickets got a
    /// `typResolved` survey sent when they were resolved, a few open tickets a `typReply`
    /// one, and a few companies `typSignature` surveys without a ticket. About a quarter are
    /// unanswered; answers are mostly positive, some neutral or negative; a few are
    /// `inactive`. Nothing is dated at or after `now` (Unix seconds).
    pub fn for_connectwise(cw: &CwTenant, now: i64, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0xC4E3_4001);
        let mut surveys = Vec::new();
        let mut n = 0u64;
        let customer = |company_id: i64| {
            let company = cw.company(company_id);
            let contact = company
                .and_then(|c| c.default_contact.as_ref())
                .and_then(|r| cw.contact(r.id));
            let item = |kind: &str| {
                contact.and_then(|k| {
                    k.communication_items
                        .iter()
                        .find(|i| i.communication_type == kind)
                        .map(|i| i.value.clone())
                })
            };
            CrewhuCustomer {
                id: company_id.to_string(),
                name: company.map(|c| c.name.clone()).unwrap_or_default(),
                contact: contact.map(|k| k.display_name()).unwrap_or_default(),
                email: item("Email"),
                phone: item("Phone"),
            }
        };
        let mut push = |rng: &mut fastrand::Rng,
                        kind: &str,
                        ticket: Option<i64>,
                        company_id: i64,
                        sent: i64| {
            if sent >= now {
                return;
            }
            n += 1;
            let mut s = CrewhuSurvey {
                id: object_id(sent, n),
                closed: None,
                survey_type_code: kind.into(),
                ticket_num: ticket.map(|t| t.to_string()),
                customer_data: customer(company_id),
                rating: None,
                rating_label: None,
                inactive: rng.f64() < 0.03,
                summary: None,
                created_at: format_rfc3339_ms(sent),
                updated_at: format_rfc3339_ms(sent),
            };
            let at = sent + rng.i64(600..3 * 86_400);
            if rng.f64() < 0.75 && at < now {
                let rating = match rng.f64() {
                    r if r < 0.78 => 5,
                    r if r < 0.90 => 0,
                    _ => -5,
                };
                s.answer(Some((rating, at)));
                if rng.f64() < 0.4 {
                    s.summary = Some(COMMENTS[rng.usize(..COMMENTS.len())].into());
                }
            }
            surveys.push(s);
        };
        for t in &cw.tickets {
            let Some(company) = t.company.as_ref().map(|c| c.id) else {
                continue;
            };
            let done = t
                .date_resolved
                .as_deref()
                .or(t.closed_date.as_deref())
                .and_then(seconds_of);
            let entered = t.info.get("dateEntered").and_then(|d| seconds_of(d));
            match (done, entered) {
                (Some(done), _) if rng.f64() < 0.4 => {
                    push(&mut rng, "typResolved", Some(t.id), company, done + 300);
                }
                (None, Some(entered)) if rng.f64() < 0.05 => {
                    push(&mut rng, "typReply", Some(t.id), company, entered + 7_200);
                }
                _ => {}
            }
        }
        // Email-signature surveys, about no ticket, for a few companies.
        let with_tickets: Vec<i64> = cw
            .companies
            .iter()
            .filter(|c| !c.deleted_flag && c.default_contact.is_some())
            .map(|c| c.id)
            .collect();
        if !with_tickets.is_empty() {
            for _ in 0..(cw.tickets.len() / 40).max(3) {
                let company = with_tickets[rng.usize(..with_tickets.len())];
                let sent = now - rng.i64(3_600..120 * 86_400);
                push(&mut rng, "typSignature", None, company, sent);
            }
        }
        let users = USERS
            .iter()
            .enumerate()
            .map(|(k, (name, email))| {
                let at = 1_735_689_600 + k as i64 * 86_400;
                CrewhuUser {
                    id: object_id(at, 1_000 + k as u64),
                    name: (*name).into(),
                    email: (*email).into(),
                    active: true,
                    created_at: format_rfc3339_ms(at),
                    updated_at: format_rfc3339_ms(at),
                }
            })
            .collect();
        let mut tenant = CrewhuTenant { surveys, users };
        tenant.sort();
        tenant
    }

    /// Surveys for [`CwTenant::sample_at`]`(now)`.
    pub fn sample_at(now: i64) -> Self {
        Self::for_connectwise(&CwTenant::sample_at(now), now, 7)
    }

    /// Surveys for [`CwTenant::sample`] (dated relative to [`SAMPLE_NOW`]).
    pub fn sample() -> Self {
        Self::sample_at(SAMPLE_NOW)
    }

    /// The order lists are served in: `_created_at`, then `_id`.
    fn sort(&mut self) {
        self.surveys
            .sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        self.users
            .sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    }
}

/// How a missing or wrong token is answered (undocumented, docs/apis.md §5b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadTokenStatus {
    #[default]
    Unauthorized401,
    Forbidden403,
}

struct Config {
    tenant: CrewhuTenant,
    bad_token: BadTokenStatus,
}

struct Shared {
    faults: Faults,
    log: RequestLog,
    token: String,
    config: Mutex<Config>,
}

/// A simulated CrewHu account: a cheap `Clone` handle over shared state.
#[derive(Clone)]
pub struct CrewhuSim {
    shared: Arc<Shared>,
}

impl CrewhuSim {
    pub fn new(tenant: CrewhuTenant) -> Self {
        Self::with_token(tenant, "crh_9f3b2c7a41d84e0f9b6a5c3d2e1f0a7b")
    }

    pub fn with_token(mut tenant: CrewhuTenant, token: &str) -> Self {
        tenant.sort();
        Self {
            shared: Arc::new(Shared {
                faults: Faults::default(),
                log: RequestLog::default(),
                token: token.to_string(),
                config: Mutex::new(Config {
                    tenant,
                    bad_token: BadTokenStatus::default(),
                }),
            }),
        }
    }

    /// The whole API, with [`crate::record_request`] as the outermost layer.
    pub fn router(&self) -> Router {
        Router::new()
            .fallback(dispatch)
            .with_state(self.clone())
            .layer(axum::middleware::from_fn_with_state(
                self.shared.log.clone(),
                crate::record_request,
            ))
    }

    /// Serves the API on an ephemeral loopback port; the base URL is
    /// `{server.base_url()}/api/`.
    pub async fn start(&self) -> std::io::Result<RunningServer> {
        crate::serve(self.router(), crate::loopback()).await
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    pub fn requests(&self) -> &RequestLog {
        &self.shared.log
    }

    /// The API token a client must send.
    pub fn token(&self) -> String {
        self.shared.token.clone()
    }

    pub fn set_bad_token_status(&self, status: BadTokenStatus) {
        lock(&self.shared.config).bad_token = status;
    }

    /// A copy of the current data (surveys in the order they are served).
    pub fn tenant(&self) -> CrewhuTenant {
        lock(&self.shared.config).tenant.clone()
    }

    /// Changes the data; the lists are re-sorted afterwards.
    pub fn update_tenant(&self, f: impl FnOnce(&mut CrewhuTenant)) {
        let mut c = lock(&self.shared.config);
        f(&mut c.tenant);
        c.tenant.sort();
    }

    /// Adds a survey, or replaces the one with the same `_id`.
    pub fn add_survey(&self, survey: CrewhuSurvey) {
        self.update_tenant(|t| match t.surveys.iter().position(|s| s.id == survey.id) {
            Some(i) => t.surveys[i] = survey,
            None => t.surveys.push(survey),
        });
    }

    fn authenticated(&self, headers: &HeaderMap) -> bool {
        [TOKEN_HEADER, TOKEN_HEADER_ALT].iter().any(|name| {
            headers
                .get_all(*name)
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.trim() == self.shared.token))
        })
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// `{"error": message}` [I: CrewHu's error shape is undocumented].
fn error(status: StatusCode, message: &str) -> Response {
    json_response(status, json!({ "error": message }))
}

#[derive(Clone, Copy)]
enum List {
    Surveys,
    Users,
}

async fn dispatch(State(sim): State<CrewhuSim>, req: Request) -> Response {
    let path = req.uri().path().to_lowercase();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let list = match segs.as_slice() {
        ["api", "v1", "survey"] => Some(List::Surveys),
        ["api", "v1", "user"] => Some(List::Users),
        _ => None,
    };
    if !sim.authenticated(req.headers()) {
        return match lock(&sim.shared.config).bad_token {
            BadTokenStatus::Unauthorized401 => error(StatusCode::UNAUTHORIZED, "Unauthorized"),
            BadTokenStatus::Forbidden403 => error(StatusCode::FORBIDDEN, "Invalid API token"),
        };
    }
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
    match sim.shared.faults.check(path_and_query).await {
        Some(FaultHit::TooManyRequests { retry_after_secs }) => {
            let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            if let Some(secs) = retry_after_secs {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            return resp;
        }
        Some(FaultHit::ServerError) => {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
        None => {}
    }
    let Some(list) = list.filter(|_| req.method() == Method::GET) else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("Cannot {} {}", req.method(), req.uri().path()),
        );
    };
    let (step, limit) = match paging(&req) {
        Ok(p) => p,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let start = (step - 1).saturating_mul(limit);
    let c = lock(&sim.shared.config);
    let page: Vec<Value> = match list {
        List::Surveys => page_of(&c.tenant.surveys, start, limit),
        List::Users => page_of(&c.tenant.users, start, limit),
    };
    json_response(StatusCode::OK, Value::Array(page))
}

fn page_of<T: Serialize>(items: &[T], start: usize, limit: usize) -> Vec<Value> {
    items
        .iter()
        .skip(start)
        .take(limit)
        .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
        .collect()
}

/// `step` (1-based, default 1) and `limit` (default 25, capped at 1,000).
fn paging(req: &Request) -> Result<(usize, usize), String> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(req.uri())
        .map_err(|e| format!("Invalid query string: {e}"))?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let positive = |name: &str, default: usize| -> Result<usize, String> {
        match get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(n as usize),
                _ => Err(format!("'{name}' must be an integer >= 1, got '{v}'")),
            },
        }
    };
    let step = positive("step", 1)?;
    let limit = positive("limit", DEFAULT_LIMIT)?.min(MAX_LIMIT);
    Ok((step, limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectwise::CwEngagementSpec;

    #[test]
    fn surveys_match_the_connectwise_tenant() {
        let cw = CwTenant::generate_engagement(&CwEngagementSpec {
            companies: 80,
            tickets: 4_000,
            time_entries: 100,
            agreements: 10,
            ..CwEngagementSpec::default()
        });
        let now = CwEngagementSpec::default().now;
        let a = CrewhuTenant::for_connectwise(&cw, now, 1);
        assert_eq!(a, CrewhuTenant::for_connectwise(&cw, now, 1));
        assert!(a.surveys.len() > 1_000, "{}", a.surveys.len());
        for s in &a.surveys {
            let company: i64 = s.customer_data.id.parse().unwrap();
            assert!(cw.company(company).is_some());
            if let Some(t) = &s.ticket_num {
                let t = cw.ticket(t.parse().unwrap()).unwrap();
                assert_eq!(t.company.as_ref().unwrap().id, company);
            }
            assert_eq!(s.closed.is_none(), s.rating.is_none());
            assert!(s.created_at < format_rfc3339_ms(now));
            if let Some(c) = &s.closed {
                assert!(c.as_str() < format_rfc3339_ms(now).as_str() && *c >= s.created_at);
            }
        }
        let kinds: std::collections::HashSet<&str> = a
            .surveys
            .iter()
            .map(|s| s.survey_type_code.as_str())
            .collect();
        assert_eq!(kinds.len(), 3);
        for r in [Some(5), Some(0), Some(-5), None] {
            assert!(a.surveys.iter().any(|s| s.rating == r), "{r:?}");
        }
        assert!(a.surveys.iter().any(|s| s.ticket_num.is_none()));
        assert!(a.surveys.iter().any(|s| s.inactive));
        assert!(!CrewhuTenant::sample().surveys.is_empty());
    }
}
