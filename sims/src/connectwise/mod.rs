//! ConnectWise PSA ("Manage") REST API 3.0 simulator (docs/apis.md §2, checklist §2.10).
//!
//! Models, served over real HTTP:
//! - `GET /login/companyinfo/{companyId}` without auth (§2.1): `IsCloud` is a *string*,
//!   `Codebase` ends in `/`, an unknown company answers 200 with a JSON `null` body.
//! - `/{codebase}apis/3.0/…` for the tenant's codebase and for `v4_6_release` (§2.1). Every
//!   call needs Basic auth `companyId+publicKey:privateKey` **and** a `clientId` header
//!   (§2.2): no clientId → 403; bad keys → 401 `Unauthorized`, or, in the cloud style
//!   ([`BadAuthStyle::Cloud404`]), a 404 that looks exactly like an unknown route (§2.6).
//! - Lists, `/count` and single gets of companies, contacts, configurations and the two type
//!   lists, plus `/system/info`; the condition language, `fields`, `orderBy`, navigable and
//!   forward-only paging with `Link` headers (§2.3–§2.5): see `api.rs`.
//! - The same for the engagement entities (§2.8, docs/contract.md §3b; see `activity.rs`):
//!   `/service/tickets` (no top-level `dateEntered`: it is in `_info`, yet `dateEntered` works
//!   in conditions), `/time/entries`, `/finance/agreements` and
//!   `/finance/agreements/{id}/additions` (an unknown agreement is a 404 `NotFound`).
//! - Data: [`CwTenant::sample`] / [`CwTenant::sample_at`] (hand-written, with engagement data
//!   relative to a given `now`), [`CwTenant::generate`] (contacts and configurations at any
//!   scale) and [`CwTenant::generate_engagement`] (companies with markets, default contacts,
//!   tickets, time entries, agreements and additions over the last ~120 days).
//! - Data can change while the server runs ([`ConnectWiseSim::update_tenant`],
//!   [`ConnectWiseSim::add_ticket`], `update_*`, `delete_*` and friends), so tests can change
//!   data on demand.
//! - Callbacks (§2.9, docs/contract.md §6; see `callbacks.rs`): `/system/callbacks` list, count,
//!   get, create (400 `InvalidObject` naming the field) and delete; signed delivery of every
//!   change made through the mutation methods to the matching callbacks, from a background
//!   task, with ConnectWise's retry rule; the unauthenticated key URL, key rotation, and
//!   helpers to send forged, foreign-keyed or replayed events.
//! - 429 with `Retry-After` and the `{"error":"ConnectWiseAPI",…}` body (§2.7), from the
//!   switchable [`Faults`] or from an optional per-minute limiter; 500 faults; latency.
//! - Paths ignore case, as IIS/ASP.NET routing does [I]; query parameter names too [I].
//!
//! Deliberately not modelled: writes other than callback create/delete (POST/PATCH/PUT/DELETE
//! answer 405), `POST …/search`, callback PUT/PATCH and the 3-day disabling of a failing
//! callback, version pinning through `Accept`, other entities (projects, opportunities,
//! project tickets, the type/status/board lists of the engagement entities, …), the `api-`
//! host prefix and HTTPS (the simulator is plain HTTP on loopback).

mod activity;
mod api;
mod callbacks;
mod conditions;
mod dates;
mod engagement;
mod generate;
mod like;
mod sample;
mod schema;
mod tenant;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use crate::{FaultHit, Faults, RequestLog, RunningServer, lock};

pub use activity::{
    CwAgreement, CwAgreementAddition, CwMemberRef, CwProductRef, CwTicket, CwTimeEntry,
};
pub use callbacks::{
    CALLBACK_TYPES, CallbackAction, CallbackEvent, CwCallback, DELIVERED_TYPES, DeliveryAttempt,
    DeliveryTiming, EventOverrides, Signature, content_signature, delivery_url, hmac_sha256,
};
pub use dates::{format_datetime, parse_datetime};
pub use engagement::CwEngagementSpec;
pub use generate::CwGenerateSpec;
pub use sample::SAMPLE_NOW;
pub use tenant::{
    CwCommunicationItem, CwCompany, CwCompanyRef, CwConfiguration, CwConfigurationType, CwContact,
    CwContactType, CwCustomField, CwRef, CwTenant, Info, market_ref,
};

/// The version the simulator reports in `api-current-version` and `/system/info`.
pub const VERSION_CODE: &str = "2025.1";
const VERSION_NUMBER: &str = "v4.6.98213";

/// What a client needs to authenticate (docs/apis.md §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CwCredentials {
    /// The login company id (not a GUID).
    pub company_id: String,
    pub public_key: String,
    pub private_key: String,
    /// The `clientId` header value (a GUID from developer.connectwise.com).
    pub client_id: String,
}

/// How wrong keys are answered (docs/apis.md §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadAuthStyle {
    /// 401 `{"code":"Unauthorized","message":…}`.
    #[default]
    Unauthorized401,
    /// Cloud: 404 `{"code":"ConnectWiseApi","message":"The endpoint does not exist."}`,
    /// indistinguishable from an unknown route.
    Cloud404,
}

struct Config {
    tenant: CwTenant,
    tables: Option<Arc<api::Tables>>,
    bad_auth: BadAuthStyle,
    rate_limit: Option<u32>,
    window: Option<(Instant, u32)>,
    codebase: String,
    /// `/system/callbacks` entries (docs/apis.md §2.9), here so lists see them.
    callbacks: Vec<CwCallback>,
}

struct Shared {
    faults: Faults,
    log: RequestLog,
    creds: CwCredentials,
    config: Mutex<Config>,
    /// Signing keys, delivery log and timing of callbacks.
    hooks: Mutex<callbacks::Hooks>,
    /// Woken after every delivery try.
    delivered: tokio::sync::Notify,
}

/// A simulated ConnectWise PSA site: a cheap `Clone` handle over shared state.
#[derive(Clone)]
pub struct ConnectWiseSim {
    shared: Arc<Shared>,
}

impl ConnectWiseSim {
    pub fn new(tenant: CwTenant) -> Self {
        Self {
            shared: Arc::new(Shared {
                faults: Faults::default(),
                log: RequestLog::default(),
                creds: CwCredentials {
                    company_id: "northwind".into(),
                    public_key: "Xq7vTn2LpW9rKs4D".into(),
                    private_key: "h8GmZ3cYb6QfNw1J".into(),
                    client_id: "3f2a9c1e-8b7d-4e6f-a5c4-2d1b0e9f8a7c".into(),
                },
                config: Mutex::new(Config {
                    tenant,
                    tables: None,
                    bad_auth: BadAuthStyle::default(),
                    rate_limit: None,
                    window: None,
                    codebase: format!("v{}/", VERSION_CODE.replace('.', "_")),
                    callbacks: Vec::new(),
                }),
                hooks: Mutex::new(callbacks::Hooks::new()),
                delivered: tokio::sync::Notify::new(),
            }),
        }
    }

    /// The whole API, with [`crate::record_request`] as the outermost layer so every request
    /// (auth failures and injected faults included) is logged.
    pub fn router(&self) -> Router {
        Router::new()
            .fallback(dispatch)
            .with_state(self.clone())
            .layer(axum::middleware::from_fn_with_state(
                self.shared.log.clone(),
                crate::record_request,
            ))
    }

    /// Serves the API on an ephemeral loopback port.
    pub async fn start(&self) -> std::io::Result<RunningServer> {
        let server = crate::serve(self.router(), crate::loopback()).await?;
        self.set_origin(&server.base_url());
        self.learn_origin(&server.addr.to_string());
        Ok(server)
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    pub fn requests(&self) -> &RequestLog {
        &self.shared.log
    }

    pub fn credentials(&self) -> CwCredentials {
        self.shared.creds.clone()
    }

    /// The tenant's codebase as `companyinfo` returns it, ending in `/` (`v2025_1/`).
    pub fn codebase(&self) -> String {
        lock(&self.shared.config).codebase.clone()
    }

    /// Changes the codebase (a trailing `/` is added when missing). `v4_6_release/` makes the
    /// site look on-premise (`IsCloud` "False"); `v4_6_release` is always routed anyway.
    pub fn set_codebase(&self, codebase: &str) {
        let cb = codebase.trim_matches('/');
        lock(&self.shared.config).codebase = format!("{cb}/");
    }

    pub fn set_bad_auth_style(&self, style: BadAuthStyle) {
        lock(&self.shared.config).bad_auth = style;
    }

    /// A real limiter: beyond `n` API requests in a minute (a fixed window starting at the
    /// first request), answer 429 with `Retry-After` = seconds left in the window (§2.7).
    pub fn set_rate_limit_per_minute(&self, n: Option<u32>) {
        let mut c = lock(&self.shared.config);
        c.rate_limit = n;
        c.window = None;
    }

    /// A copy of the current data.
    pub fn tenant(&self) -> CwTenant {
        lock(&self.shared.config).tenant.clone()
    }

    /// Changes the data (e.g. removes contacts between runs). Every record of a type with an
    /// active callback that this adds, changes or removes is delivered to the matching
    /// callbacks from a background task (docs/apis.md §2.9; see `callbacks.rs`).
    pub fn update_tenant(&self, f: impl FnOnce(&mut CwTenant)) {
        let mut c = lock(&self.shared.config);
        let watched = callbacks::watched(&c.callbacks);
        let before = (!watched.is_empty()).then(|| callbacks::Snapshot::take(&c.tenant, &watched));
        f(&mut c.tenant);
        c.tables = None;
        let Some(before) = before else { return };
        let events = before.events(&c.tenant);
        let registered = c.callbacks.clone();
        drop(c);
        self.fire(events, &registered);
    }

    /// Adds (or replaces, by id; 0 = next free id) a configuration. Returns the id.
    pub fn add_configuration(&self, configuration: CwConfiguration) -> i64 {
        self.upsert(configuration, |t| &mut t.configurations, |x| &mut x.id)
    }

    /// Changes contact `id` in place; `false` when there is none.
    pub fn update_contact(&self, id: i64, f: impl FnOnce(&mut CwContact)) -> bool {
        self.modify(id, f, |t| &mut t.contacts, |x| x.id)
    }

    /// Changes company `id` in place; `false` when there is none.
    pub fn update_company(&self, id: i64, f: impl FnOnce(&mut CwCompany)) -> bool {
        self.modify(id, f, |t| &mut t.companies, |x| x.id)
    }

    /// Changes configuration `id` in place; `false` when there is none.
    pub fn update_configuration(&self, id: i64, f: impl FnOnce(&mut CwConfiguration)) -> bool {
        self.modify(id, f, |t| &mut t.configurations, |x| x.id)
    }

    /// Changes ticket `id` in place; `false` when there is none.
    pub fn update_ticket(&self, id: i64, f: impl FnOnce(&mut CwTicket)) -> bool {
        self.modify(id, f, |t| &mut t.tickets, |x| x.id)
    }

    /// Changes agreement `id` in place; `false` when there is none.
    pub fn update_agreement(&self, id: i64, f: impl FnOnce(&mut CwAgreement)) -> bool {
        self.modify(id, f, |t| &mut t.agreements, |x| x.id)
    }

    /// Changes time entry `id` in place; `false` when there is none.
    pub fn update_time_entry(&self, id: i64, f: impl FnOnce(&mut CwTimeEntry)) -> bool {
        self.modify(id, f, |t| &mut t.time_entries, |x| x.id)
    }

    /// Removes contact `id`; `false` when there is none.
    pub fn delete_contact(&self, id: i64) -> bool {
        self.remove(id, |t| &mut t.contacts, |x| x.id)
    }

    /// Removes company `id` (its contacts and other records stay); `false` when there is none.
    pub fn delete_company(&self, id: i64) -> bool {
        self.remove(id, |t| &mut t.companies, |x| x.id)
    }

    /// Removes configuration `id`; `false` when there is none.
    pub fn delete_configuration(&self, id: i64) -> bool {
        self.remove(id, |t| &mut t.configurations, |x| x.id)
    }

    /// Removes ticket `id`; `false` when there is none.
    pub fn delete_ticket(&self, id: i64) -> bool {
        self.remove(id, |t| &mut t.tickets, |x| x.id)
    }

    /// Removes agreement `id` (its additions stay, unlisted); `false` when there is none.
    pub fn delete_agreement(&self, id: i64) -> bool {
        self.remove(id, |t| &mut t.agreements, |x| x.id)
    }

    /// Removes time entry `id`; `false` when there is none.
    pub fn delete_time_entry(&self, id: i64) -> bool {
        self.remove(id, |t| &mut t.time_entries, |x| x.id)
    }

    fn modify<T>(
        &self,
        id: i64,
        f: impl FnOnce(&mut T),
        list: impl FnOnce(&mut CwTenant) -> &mut Vec<T>,
        id_of: impl Fn(&T) -> i64,
    ) -> bool {
        let mut found = false;
        self.update_tenant(|t| {
            if let Some(x) = list(t).iter_mut().find(|x| id_of(x) == id) {
                f(x);
                found = true;
            }
        });
        found
    }

    fn remove<T>(
        &self,
        id: i64,
        list: impl FnOnce(&mut CwTenant) -> &mut Vec<T>,
        id_of: impl Fn(&T) -> i64,
    ) -> bool {
        let mut found = false;
        self.update_tenant(|t| {
            let items = list(t);
            let before = items.len();
            items.retain(|x| id_of(x) != id);
            found = items.len() != before;
        });
        found
    }

    /// Adds a ticket, or replaces the one with the same id; an id of 0 takes the next free
    /// id. Returns the id. The change is served from the next request on.
    pub fn add_ticket(&self, ticket: CwTicket) -> i64 {
        self.upsert(ticket, |t| &mut t.tickets, |x| &mut x.id)
    }

    /// Adds (or replaces, by id; 0 = next free id) a time entry. Returns the id.
    pub fn add_time_entry(&self, entry: CwTimeEntry) -> i64 {
        self.upsert(entry, |t| &mut t.time_entries, |x| &mut x.id)
    }

    /// Adds (or replaces, by id; 0 = next free id) a contact. Returns the id.
    pub fn add_contact(&self, contact: CwContact) -> i64 {
        self.upsert(contact, |t| &mut t.contacts, |x| &mut x.id)
    }

    /// Adds (or replaces, by id; 0 = next free id) a company. Returns the id.
    pub fn add_company(&self, company: CwCompany) -> i64 {
        self.upsert(company, |t| &mut t.companies, |x| &mut x.id)
    }

    /// Adds (or replaces, by id; 0 = next free id) an agreement. Returns the id.
    pub fn add_agreement(&self, agreement: CwAgreement) -> i64 {
        self.upsert(agreement, |t| &mut t.agreements, |x| &mut x.id)
    }

    /// Adds (or replaces, by id; 0 = next free id) an agreement addition; it is listed under
    /// its `agreementId` if that agreement exists. Returns the id.
    pub fn add_addition(&self, addition: CwAgreementAddition) -> i64 {
        self.upsert(addition, |t| &mut t.additions, |x| &mut x.id)
    }

    fn upsert<T>(
        &self,
        mut item: T,
        list: impl FnOnce(&mut CwTenant) -> &mut Vec<T>,
        id: impl Fn(&mut T) -> &mut i64,
    ) -> i64 {
        let mut assigned = 0;
        self.update_tenant(|t| {
            let items = list(t);
            if *id(&mut item) == 0 {
                *id(&mut item) = items.iter_mut().map(|x| *id(x)).max().unwrap_or(0) + 1;
            }
            assigned = *id(&mut item);
            match items.iter_mut().position(|x| *id(x) == assigned) {
                Some(i) => items[i] = item,
                None => items.push(item),
            }
        });
        assigned
    }

    fn is_cloud(&self) -> bool {
        !self.codebase().eq_ignore_ascii_case("v4_6_release/")
    }

    /// The JSON rows of the current tenant, built once per tenant version.
    fn tables(&self) -> Arc<api::Tables> {
        let mut c = lock(&self.shared.config);
        if let Some(t) = &c.tables {
            return t.clone();
        }
        let t = Arc::new(api::Tables::build(&c.tenant, &c.callbacks));
        c.tables = Some(t.clone());
        t
    }

    /// Counts this request against the per-minute limit; `Some(secs)` when over it.
    fn rate_limited(&self) -> Option<u64> {
        let mut c = lock(&self.shared.config);
        let limit = c.rate_limit?;
        let now = Instant::now();
        let (start, count) = match c.window {
            Some((start, n)) if now.duration_since(start) < Duration::from_secs(60) => {
                (start, n + 1)
            }
            _ => (now, 1),
        };
        c.window = Some((start, count));
        (count > limit).then(|| {
            let left = Duration::from_secs(60).saturating_sub(now.duration_since(start));
            left.as_secs_f64().ceil().max(1.0) as u64
        })
    }

    fn company_info(&self, company: &str, host: &str) -> Response {
        let creds = &self.shared.creds;
        if !company.eq_ignore_ascii_case(&creds.company_id) {
            // docs/apis.md §2.1 [R]: an unknown company answers 2xx with a JSON `null` body.
            return json_response(StatusCode::OK, Value::Null);
        }
        let tenant_name = {
            let c = lock(&self.shared.config);
            c.tenant
                .companies
                .iter()
                .find(|co| co.types.iter().any(|t| t.name == "Owner"))
                .map(|co| co.name.clone())
        };
        let body = json!({
            "CompanyName": tenant_name.unwrap_or_else(|| "Northwind IT Services".into()),
            "Codebase": self.codebase(),
            "VersionCode": format!("v{VERSION_CODE}"),
            "VersionNumber": VERSION_NUMBER,
            "CompanyID": creds.company_id,
            "IsCloud": if self.is_cloud() { "True" } else { "False" },
            "SiteUrl": host,
        });
        json_response(StatusCode::OK, body)
    }

    /// Basic `companyId+publicKey:privateKey` (§2.2). The company id ignores case [I].
    fn authenticated(&self, headers: &HeaderMap) -> bool {
        let creds = &self.shared.creds;
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some((scheme, token)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let engine = base64::engine::general_purpose::STANDARD;
        let Some(decoded) = engine
            .decode(token.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        else {
            return false;
        };
        let Some((user, private)) = decoded.split_once(':') else {
            return false;
        };
        let Some((company, public)) = user.split_once('+') else {
            return false;
        };
        company.eq_ignore_ascii_case(&creds.company_id)
            && public == creds.public_key
            && private == creds.private_key
    }

    fn bad_auth(&self) -> Response {
        match lock(&self.shared.config).bad_auth {
            BadAuthStyle::Unauthorized401 => error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "Authentication failed: check the company id, public key and private key.",
            ),
            BadAuthStyle::Cloud404 => endpoint_not_found(),
        }
    }

    /// The tenant's codebase or `v4_6_release` (§2.1).
    fn serves_codebase(&self, codebase: &str) -> bool {
        let cb = codebase.trim_matches('/');
        let ours = self.codebase();
        cb.eq_ignore_ascii_case(ours.trim_end_matches('/'))
            || cb.eq_ignore_ascii_case("v4_6_release")
    }

    async fn api(&self, codebase: &str, rest: &[&str], req: Request) -> Response {
        let cb = codebase.trim_matches('/');
        if !self.serves_codebase(cb) {
            return endpoint_not_found();
        }
        if !self.authenticated(req.headers()) {
            return self.bad_auth();
        }
        // docs/apis.md §2.2: clientId is required on every call; omitting it gives 403 [R]. A value
        // other than the registered one is refused the same way [I] (this catches the Gradient
        // SDK's reuse of the company id as clientId).
        let client_id = req
            .headers()
            .get("clientid")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim();
        if !client_id.eq_ignore_ascii_case(&self.shared.creds.client_id) {
            let message = if client_id.is_empty() {
                "A clientId header is required on every request: see https://developer.connectwise.com/ClientID."
            } else {
                "The clientId is not valid: see https://developer.connectwise.com/ClientID."
            };
            return error(StatusCode::FORBIDDEN, "Forbidden", message);
        }
        if let Some(secs) = self.rate_limited() {
            return too_many_requests(secs);
        }
        let path_and_query = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
        match self.shared.faults.check(path_and_query).await {
            Some(FaultHit::TooManyRequests { retry_after_secs }) => {
                return too_many_requests(retry_after_secs.unwrap_or(1));
            }
            Some(FaultHit::ServerError) => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ConnectWiseApi",
                    "An error occurred, please contact your administrator.",
                );
            }
            None => {}
        }
        let Some(route) = api::Route::parse(rest) else {
            return endpoint_not_found();
        };
        use api::Route;
        use schema::Table;
        match (req.method(), route) {
            (&Method::POST, Route::List(Table::Callbacks, _)) => {
                return callbacks::create(self, req).await;
            }
            (&Method::DELETE, Route::Get(Table::Callbacks, _, id)) => {
                return callbacks::delete(self, id);
            }
            _ => {}
        }
        if req.method() != Method::GET {
            return method_not_allowed(req.method());
        }
        api::handle(self, route, cb, &req)
    }
}

async fn dispatch(State(sim): State<ConnectWiseSim>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    sim.learn_origin(&api::host_of(&req));
    match segs.as_slice() {
        [login, info, company]
            if login.eq_ignore_ascii_case("login") && info.eq_ignore_ascii_case("companyinfo") =>
        {
            if req.method() != Method::GET {
                return method_not_allowed(req.method());
            }
            sim.company_info(company, &api::host_of(&req))
        }
        [codebase, system, key, index]
            if system.eq_ignore_ascii_case("system")
                && key.eq_ignore_ascii_case("callbackkey")
                && index.eq_ignore_ascii_case("index.rails")
                && sim.serves_codebase(codebase) =>
        {
            if req.method() != Method::GET {
                return method_not_allowed(req.method());
            }
            callbacks::signing_key(&sim, &req)
        }
        [codebase, apis, version, rest @ ..]
            if apis.eq_ignore_ascii_case("apis") && *version == "3.0" =>
        {
            let mut resp = sim.api(codebase, rest, req).await;
            resp.headers_mut().insert(
                "api-current-version",
                HeaderValue::from_static(VERSION_CODE),
            );
            resp
        }
        _ => endpoint_not_found(),
    }
}

/// A JSON answer with the content type ConnectWise sends.
pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// `{"code","message","errors":null}` (docs/apis.md §2.6).
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        json!({"code": code, "message": message, "errors": null}),
    )
}

/// The unknown-route answer (docs/apis.md §2.6 [R:amp-labs]).
pub(crate) fn endpoint_not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        json!({"code": "ConnectWiseApi", "message": "The endpoint does not exist."}),
    )
}

fn method_not_allowed(method: &Method) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "ConnectWiseApi",
        &format!("The requested resource does not support http method '{method}'."),
    )
}

/// 429 with `Retry-After` and the rate-limit body, which has `error`, not `code` (§2.7).
fn too_many_requests(secs: u64) -> Response {
    let mut resp = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        json!({
            "error": "ConnectWiseAPI",
            "message": format!("Too many requests. Please try again in {secs} seconds."),
        }),
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}
