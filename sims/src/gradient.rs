//! Gradient Synthesize vendor API simulator (docs/apis.md §1, checklist §1.8).
//!
//! Models: the `GRADIENT-TOKEN` header (base64 of `vendor:partner`, split on the first
//! `:`; header name case-insensitive), 401 for a missing or unknown token; per-partner
//! state (accounts by vendor-chosen id, skus with ObjectId-like `_id` == `id`, the
//! partner's mappings of accounts and services); wrapped answers on `GET ''` and the status
//! PATCH, unwrapped ones on `/organization`, the accounts routes and `POST /service`;
//! validation 400s in NestJS shape (`unitCount` must be a number, case-sensitive status,
//! category and subcategory enums); 404 `No account map found with id: X` for a count on
//! an unmapped account or service, and other 404 messages for unknown services; 201 on a
//! count; the 100 requests/second limit answered with 429 and no `Retry-After`;
//! switchable faults;
//! a switchable 403 "anomaly" answer (docs/apis.md §1.5: Gradient detected an anomaly with your
//! API usage, contact support). Every count call the handler saw is recorded in order for
//! tests (a 403, 401 or 429 never reaches it, so it is never recorded).
//!
//! Not modelled: alerting routes, clients (`/organization/clients`), vendor PATCH,
//! per-organisation services, `no_build` (accepted and ignored), a category→subcategory
//! pairing rule (none is documented).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use base64::Engine;
use serde_json::{Value, json};

use crate::{FaultHit, Faults, RequestLog, RunningServer, lock, loopback, serve};

/// The real limit: 100 requests per second (docs/apis.md §1.1).
pub const DEFAULT_RATE_LIMIT: usize = 100;

/// Valid service categories, exactly as the wire wants them (docs/apis.md §1.4).
pub const CATEGORIES: [&str; 7] = [
    "security",
    "backup",
    "productivity",
    "infrastructure",
    "service delivery",
    "consulting",
    "other",
];

/// Valid service subcategories, exactly as the wire wants them (docs/apis.md §1.4):
/// case-sensitive, with spaces and parentheses, misspelling included ("priviledged").
pub const SUBCATEGORIES: [&str; 46] = [
    "endpoint detection and response (EDR)",
    "email security",
    "virtual private network services (VPN)",
    "DNS filtering",
    "dark web monitoring",
    "password management",
    "single sign on (SSO)",
    "priviledged access and identity management (PAM/PIM)",
    "security information and event management (SIEM)",
    "mobile device management (MDM)",
    "application security",
    "mobile application management (MAM)",
    "multi factor authentication (MFA)",
    "cloud backup",
    "local backup",
    "desktop backup",
    "data archiving",
    "physical offsite storage",
    "business continuity",
    "hosted email",
    "video conferencing",
    "voice over IP services (VOIP)",
    "line of business application support",
    "unified communications as a service (UCaaS)",
    "customer relationship management",
    "cloud storage",
    "website hosting",
    "hardware as a service (HaaS)",
    "managed print services",
    "virtual desktop infrastructure (VDI)",
    "virtual server hosting",
    "infrastructure as a service (IaaS)",
    "end user support",
    "server management and support",
    "network management and support",
    "printer management and support",
    "desktop management and support",
    "hosted security operations centre (SOC)",
    "software development",
    "penetration testing",
    "project services",
    "governance and compliance",
    "business intelligence services / analytics",
    "phishing simulation",
    "privacy and security awareness training",
    "other",
];

/// The 403 message for detected anomalies (docs/apis.md §1.5; the exact wording is not
/// documented, so this one is ours).
pub const ANOMALY_MESSAGE: &str =
    "Gradient has detected an anomaly with your API usage. Please contact support.";

/// Statuses the status route accepts (case-sensitive).
const STATUSES: [&str; 5] = ["active", "inactive", "pending", "disabled", "error"];

/// A count call as the simulator received it.
#[derive(Debug, Clone, PartialEq)]
pub struct CountCall {
    pub service_id: String,
    pub service_name: String,
    pub account_id: String,
    pub unit_count: f64,
    /// 201 when accepted, 404 when unmapped, 400 when invalid.
    pub status: u16,
    /// `?no_build=true`: the billing view is not rebuilt after it (docs/apis.md §1.2).
    pub no_build: bool,
}

#[derive(Debug, Clone)]
pub struct SimAccount {
    pub id: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct SimSku {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub subcategory: String,
}

/// One MSP (partner) connected to the vendor.
#[derive(Debug, Clone)]
pub struct Partner {
    pub organization_name: String,
    pub organization_id: String,
    pub integration_id: String,
    pub status: String,
    pub accounts: BTreeMap<String, SimAccount>,
    pub skus: Vec<SimSku>,
    pub mapped_accounts: BTreeSet<String>,
    pub mapped_services: BTreeSet<String>,
    pub counts: Vec<CountCall>,
}

struct State0 {
    vendor_key: String,
    vendor_name: String,
    vendor_id: String,
    partners: HashMap<String, Partner>,
    default_partner: String,
    rate_limit: usize,
    window: VecDeque<Instant>,
    next_object_id: u64,
    /// Sandbox mode: the partner maps new accounts and services as soon as they exist,
    /// except these account ids (so the sandbox shows unmapped pairs too).
    auto_map: Option<BTreeSet<String>>,
    /// Anomaly mode: `Some(n)` lets `n` more authenticated requests through, then answers
    /// every authenticated request 403; `None` is off.
    anomaly_after: Option<usize>,
}

/// A running-state handle; clone it freely.
#[derive(Clone)]
pub struct GradientSim {
    state: Arc<Mutex<State0>>,
    faults: Faults,
    log: RequestLog,
}

impl Default for GradientSim {
    fn default() -> Self {
        Self::new("sim-vendor-key", "sim-partner-key")
    }
}

impl GradientSim {
    /// A vendor with one partner (an MSP named "Northwind IT Services").
    pub fn new(vendor_key: &str, partner_key: &str) -> Self {
        let sim = Self {
            state: Arc::new(Mutex::new(State0 {
                vendor_key: vendor_key.to_string(),
                vendor_name: "synthesize-sync (custom integration)".to_string(),
                vendor_id: "64b7f0c2a1e4d3b2c1a09f01".to_string(),
                partners: HashMap::new(),
                default_partner: partner_key.to_string(),
                rate_limit: DEFAULT_RATE_LIMIT,
                window: VecDeque::new(),
                next_object_id: 0x65a0_0000,
                auto_map: None,
                anomaly_after: None,
            })),
            faults: Faults::default(),
            log: RequestLog::default(),
        };
        sim.add_partner(partner_key, "Northwind IT Services");
        sim
    }

    /// Adds another MSP with its own partner key and state.
    pub fn add_partner(&self, partner_key: &str, organization_name: &str) {
        let mut s = lock(&self.state);
        let n = s.partners.len() as u64 + 1;
        s.partners.insert(
            partner_key.to_string(),
            Partner {
                organization_name: organization_name.to_string(),
                organization_id: format!("64b7f0c2a1e4d3b2c1a0{n:04x}"),
                integration_id: format!("64b7f0c2a1e4d3b2c1a1{n:04x}"),
                status: "inactive".to_string(),
                accounts: BTreeMap::new(),
                skus: Vec::new(),
                mapped_accounts: BTreeSet::new(),
                mapped_services: BTreeSet::new(),
                counts: Vec::new(),
            },
        );
    }

    /// `(vendor key, partner key)` of the default partner.
    pub fn credentials(&self) -> (String, String) {
        let s = lock(&self.state);
        (s.vendor_key.clone(), s.default_partner.clone())
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn requests(&self) -> &RequestLog {
        &self.log
    }

    /// Requests per rolling second before 429 (default 100).
    pub fn set_rate_limit(&self, per_second: usize) {
        lock(&self.state).rate_limit = per_second;
    }

    /// Anomaly mode (docs/apis.md §1.5). `Some(n)`: after `n` more requests have passed auth
    /// (whatever their answer), every authenticated request is answered 403 with
    /// [`ANOMALY_MESSAGE`]; `Some(0)` starts now. `None` turns it off. Requests with a bad
    /// token still get 401, and a 403 never reaches a handler, so nothing is stored.
    pub fn set_anomaly_after(&self, requests: Option<usize>) {
        lock(&self.state).anomaly_after = requests;
    }

    /// Anomaly mode from the next request on (`true`) or off (`false`).
    pub fn set_anomaly(&self, on: bool) {
        self.set_anomaly_after(on.then_some(0));
    }

    /// Whether authenticated requests are being answered 403 now.
    pub fn anomaly_active(&self) -> bool {
        lock(&self.state).anomaly_after == Some(0)
    }

    /// A copy of the default partner's state.
    pub fn partner(&self) -> Partner {
        let s = lock(&self.state);
        s.partners[&s.default_partner].clone()
    }

    /// Changes the default partner's state (map accounts, delete skus…).
    pub fn update_partner(&self, f: impl FnOnce(&mut Partner)) {
        let mut s = lock(&self.state);
        let key = s.default_partner.clone();
        f(s.partners.get_mut(&key).expect("default partner exists"));
    }

    /// Changes one partner's state, by partner key. Panics on an unknown key (a test bug).
    pub fn update_partner_by_key(&self, partner_key: &str, f: impl FnOnce(&mut Partner)) {
        let mut s = lock(&self.state);
        f(s.partners.get_mut(partner_key).expect("known partner key"));
    }

    /// The partner maps these accounts in the Synthesize UI.
    pub fn map_accounts<I: IntoIterator<Item = S>, S: Into<String>>(&self, ids: I) {
        self.update_partner(|p| p.mapped_accounts.extend(ids.into_iter().map(Into::into)));
    }

    /// The partner maps every account and every service that exists now.
    pub fn map_everything(&self) {
        self.update_partner(|p| {
            p.mapped_accounts = p.accounts.keys().cloned().collect();
            p.mapped_services = p.skus.iter().map(|s| s.id.clone()).collect();
        });
    }

    /// The partner maps every service that exists now.
    pub fn map_all_services(&self) {
        self.update_partner(|p| p.mapped_services = p.skus.iter().map(|s| s.id.clone()).collect());
    }

    /// Sandbox mode: every partner maps each new account and service at once, except the
    /// accounts listed (they stay unmapped, as a real partner may leave some).
    pub fn set_auto_map<I: IntoIterator<Item = S>, S: Into<String>>(&self, except_accounts: I) {
        lock(&self.state).auto_map = Some(except_accounts.into_iter().map(Into::into).collect());
    }

    /// Every count call in order (accepted, unmapped and rejected). Requests stopped
    /// before the handler (401, 403 anomaly, 429, injected faults) are not count calls.
    pub fn count_calls(&self) -> Vec<CountCall> {
        self.partner().counts
    }

    /// How many times the billing view was rebuilt: accepted count calls without
    /// `no_build=true` (Gradient debounces them; each is counted here, so a run that asks
    /// for more than one shows it).
    pub fn rebuilds(&self) -> usize {
        self.count_calls()
            .iter()
            .filter(|c| c.status == 201 && !c.no_build)
            .count()
    }

    /// The last accepted count per (account id, service name).
    pub fn current_counts(&self) -> BTreeMap<(String, String), f64> {
        self.count_calls()
            .into_iter()
            .filter(|c| c.status == 201)
            .map(|c| ((c.account_id, c.service_name), c.unit_count))
            .collect()
    }

    pub fn router(&self) -> Router {
        let api = Router::new()
            .route("/api/vendor-api", get(get_vendor))
            .route("/api/vendor-api/", get(get_vendor))
            .route("/api/vendor-api/organization", get(get_organization))
            .route(
                "/api/vendor-api/organization/status/{status}",
                patch(patch_status),
            )
            .route(
                "/api/vendor-api/organization/accounts",
                get(get_accounts).post(post_accounts),
            )
            .route(
                "/api/vendor-api/organization/accounts/{id}",
                patch(patch_account),
            )
            .route("/api/vendor-api/service", post(post_service))
            .route("/api/vendor-api/service/{id}", get(get_service))
            .route("/api/vendor-api/service/{id}/count", post(post_count))
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(self.clone(), gate))
            .with_state(self.clone());
        api.layer(middleware::from_fn_with_state(
            self.log.clone(),
            crate::record_request,
        ))
    }

    pub async fn start(&self) -> std::io::Result<RunningServer> {
        serve(self.router(), loopback()).await
    }

    fn new_object_id(&self) -> String {
        let mut s = lock(&self.state);
        s.next_object_id += 1;
        format!("65f1c0de{:016x}", s.next_object_id)
    }
}

fn nest_error(status: StatusCode, message: Value) -> Response {
    let mut body = json!({ "statusCode": status.as_u16(), "message": message });
    match status {
        StatusCode::BAD_REQUEST => body["error"] = json!("Bad Request"),
        StatusCode::FORBIDDEN => body["error"] = json!("Forbidden"),
        _ => {}
    }
    (status, axum::Json(body)).into_response()
}

/// Rate limit, faults, auth and anomaly detection, in the order the real service would
/// apply them.
async fn gate(State(sim): State<GradientSim>, mut req: Request, next: Next) -> Response {
    {
        let mut s = lock(&sim.state);
        let now = Instant::now();
        while s
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            s.window.pop_front();
        }
        s.window.push_back(now);
        if s.window.len() > s.rate_limit {
            drop(s);
            // No Retry-After: Gradient documents none (docs/apis.md §1.1).
            return nest_error(
                StatusCode::TOO_MANY_REQUESTS,
                json!("Request limit reached"),
            );
        }
    }
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    match sim.faults.check(&pq).await {
        Some(FaultHit::TooManyRequests { .. }) => {
            return nest_error(
                StatusCode::TOO_MANY_REQUESTS,
                json!("Request limit reached"),
            );
        }
        Some(FaultHit::ServerError) => {
            return nest_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!("Internal server error"),
            );
        }
        None => {}
    }
    match partner_of(&sim, req.headers()) {
        Some(key) => {
            {
                let mut s = lock(&sim.state);
                match s.anomaly_after {
                    Some(0) => {
                        drop(s);
                        return nest_error(StatusCode::FORBIDDEN, json!(ANOMALY_MESSAGE));
                    }
                    Some(n) => s.anomaly_after = Some(n - 1),
                    None => {}
                }
            }
            req.extensions_mut().insert(PartnerKey(key));
            next.run(req).await
        }
        None => nest_error(StatusCode::UNAUTHORIZED, json!("Unauthorized")),
    }
}

#[derive(Clone)]
struct PartnerKey(String);

fn partner_of(sim: &GradientSim, headers: &HeaderMap) -> Option<String> {
    let token = headers.get("gradient-token")?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (vendor, partner) = text.split_once(':')?;
    let s = lock(&sim.state);
    (vendor == s.vendor_key && s.partners.contains_key(partner)).then(|| partner.to_string())
}

fn with_partner<T>(
    sim: &GradientSim,
    key: &PartnerKey,
    f: impl FnOnce(&mut Partner, &State0Info) -> T,
) -> T {
    let mut s = lock(&sim.state);
    let info = State0Info {
        vendor_name: s.vendor_name.clone(),
        vendor_id: s.vendor_id.clone(),
        auto_map: s.auto_map.clone(),
    };
    let p = s
        .partners
        .get_mut(&key.0)
        .expect("the gate checked the partner");
    f(p, &info)
}

struct State0Info {
    vendor_name: String,
    vendor_id: String,
    auto_map: Option<BTreeSet<String>>,
}

fn sku_json(s: &SimSku) -> Value {
    json!({
        "_id": s.id, "id": s.id, "name": s.name, "description": s.description,
        "category": s.category, "subcategory": s.subcategory,
        "supportArticle": "", "supportContact": "", "logo": null
    })
}

fn vendor_json(p: &Partner, info: &State0Info) -> Value {
    json!({
        "_id": info.vendor_id, "id": info.vendor_id, "name": info.vendor_name,
        "description": "Custom integration", "integrationType": "custom",
        "skus": p.skus.iter().map(sku_json).collect::<Vec<_>>(),
        "isDistributor": false, "externalIntegrationStatus": "notIntegrated",
        "mappingResponsibilities": [], "modules": [{"variation": "billing"}],
        "attributes": [], "__v": 0,
        "updatedAt": "2026-11-01T00:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z"
    })
}

fn organization_json(p: &Partner, info: &State0Info) -> Value {
    json!({
        "organizationId": p.organization_id, "name": p.organization_name,
        "vendorId": info.vendor_id, "vendorName": info.vendor_name,
        "integrationId": p.integration_id, "status": p.status,
        "lastSyncedAt": "1900-06-18T17:11:28.553Z"
    })
}

async fn get_vendor(
    State(sim): State<GradientSim>,
    axum::Extension(k): axum::Extension<PartnerKey>,
) -> Response {
    let body = with_partner(&sim, &k, |p, info| vendor_json(p, info));
    axum::Json(json!({"status": 200, "message": "Success", "data": body})).into_response()
}

async fn get_organization(
    State(sim): State<GradientSim>,
    axum::Extension(k): axum::Extension<PartnerKey>,
) -> Response {
    axum::Json(with_partner(&sim, &k, |p, info| organization_json(p, info))).into_response()
}

async fn patch_status(
    State(sim): State<GradientSim>,
    axum::Extension(k): axum::Extension<PartnerKey>,
    Path(status): Path<String>,
) -> Response {
    if !STATUSES.contains(&status.as_str()) {
        return nest_error(
            StatusCode::BAD_REQUEST,
            json!([format!(
                "status must be one of the following values: {}",
                STATUSES.join(", ")
            )]),
        );
    }
    let data = with_partner(&sim, &k, |p, info| {
        p.status = status.clone();
        organization_json(p, info)
    });
    axum::Json(
        json!({"data": data, "status": 200, "message": "Success - Updated Integration Status"}),
    )
    .into_response()
}

async fn get_accounts(
    State(sim): State<GradientSim>,
    axum::Extension(k): axum::Extension<PartnerKey>,
) -> Response {
    let list = with_partner(&sim, &k, |p, _| {
        p.accounts
            .values()
            .map(|a| json!({"id": a.id, "name": a.name, "description": a.description}))
            .collect::<Vec<_>>()
    });
    axum::Json(Value::Array(list)).into_response()
}

async fn post_accounts(
    State(sim): State<GradientSim>,
    axum::Extension(k): axum::Extension<PartnerKey>,
    body: Bytes,
) -> Response {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&body) else {
        return nest_error(StatusCode::BAD_REQUEST, json!(["body must be an array"]));
    };
    let mut parsed = Vec::new();
    for item in &items {
        let (Some(id), Some(name)) = (
            item.get("id").and_then(Value::as_str),
            item.get("name").and_then(Value::as_str),
        ) else {
            return nest_error(
                StatusCode::BAD_REQUEST,
                json!(["id must be a string", "name must be a string"]),
            );
        };
        let description = item
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        parsed.push(SimAccount {
            id: id.to_string(),
            name: name.to_string(),
            description: description.to_string(),
        });
    }
    with_partner(&sim, &k, |p, info| {
        if parsed.iter().any(|a| p.accounts.contains_key(&a.id)) {
            return nest_error(
                StatusCode::CONFLICT,
                json!("A resource with this Id already exists."),
            );
        }
        let out: Vec<Value> = parsed
            .iter()
            .map(|a| json!({"id": a.id, "name": a.name, "description": a.description}))
            .collect();
        for a in parsed {
            if info
                .auto_map
                .as_ref()
                .is_some_and(|except| !except.contains(&a.id))
            {
                p.mapped_accounts.insert(a.id.clone());
            }
            p.accounts.insert(a.id.clone(), a);
        }
        (StatusCode::CREATED, axum::Json(Value::Array(out))).into_response()
    })
}

async fn patch_account(
    State(sim): State<GradientSim>,
    axum::Extension(k): axum::Extension<PartnerKey>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return nest_error(StatusCode::BAD_REQUEST, json!(["body must be an object"]));
    };
    with_partner(&sim, &k, |p, _| {
        let Some(a) = p.accounts.get_mut(&id) else {
            return nest_error(
                StatusCode::NOT_FOUND,
                json!(format!("Account not found with id: {id}")),
            );
        };
        if let Some(name) = fields.get("name").and_then(Value::as_str) {
            a.name = name.to_string();
        }
        if let Some(d) = fields.get("description").and_then(Value::as_str) {
            a.description = d.to_string();
        }
        axum::Json(json!({"id": a.id, "name": a.name, "description": a.description}))
            .into_response()
    })
}

async fn post_service(
    State(sim): State<GradientSim>,
    axum::Extension(k): axum::Extension<PartnerKey>,
    body: Bytes,
) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return nest_error(StatusCode::BAD_REQUEST, json!(["body must be JSON"]));
    };
    let field = |n: &str| v.get(n).and_then(Value::as_str).map(str::to_string);
    let mut problems = Vec::new();
    for required in ["name", "description", "category", "subcategory"] {
        if field(required).is_none() {
            problems.push(format!("{required} must be a string"));
        }
    }
    if let Some(c) = field("category")
        && !CATEGORIES.contains(&c.as_str())
    {
        problems.push(format!(
            "category must be one of the following values: {}",
            CATEGORIES.join(", ")
        ));
    }
    if let Some(c) = field("subcategory")
        && !SUBCATEGORIES.contains(&c.as_str())
    {
        problems.push(format!(
            "subcategory must be one of the following values: {}",
            SUBCATEGORIES.join(", ")
        ));
    }
    if !problems.is_empty() {
        return nest_error(StatusCode::BAD_REQUEST, json!(problems));
    }
    let id = sim.new_object_id();
    let sku = SimSku {
        id,
        name: field("name").unwrap_or_default(),
        description: field("description").unwrap_or_default(),
        category: field("category").unwrap_or_default(),
        subcategory: field("subcategory").unwrap_or_default(),
    };
    // The real API does not deduplicate by name (docs/apis.md §1.3): neither do we.
    let vendor = with_partner(&sim, &k, |p, info| {
        if info.auto_map.is_some() {
            p.mapped_services.insert(sku.id.clone());
        }
        p.skus.push(sku);
        vendor_json(p, info)
    });
    (StatusCode::CREATED, axum::Json(vendor)).into_response()
}

async fn get_service(
    State(sim): State<GradientSim>,
    axum::Extension(k): axum::Extension<PartnerKey>,
    Path(id): Path<String>,
) -> Response {
    with_partner(&sim, &k, |p, _| match p.skus.iter().find(|s| s.id == id) {
        Some(s) => axum::Json(json!({"data": sku_json(s), "message": "Success", "status": 200}))
            .into_response(),
        None => nest_error(
            StatusCode::NOT_FOUND,
            json!(format!("Service not found with id: {id}")),
        ),
    })
}

async fn post_count(
    State(sim): State<GradientSim>,
    axum::Extension(k): axum::Extension<PartnerKey>,
    Path(service_id): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    body: Bytes,
) -> Response {
    // A boolean query parameter as ASP.NET-style APIs bind it: `true`/`false`, any case.
    let no_build = query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .any(|(k, v)| k == "no_build" && v.eq_ignore_ascii_case("true"));
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return nest_error(StatusCode::BAD_REQUEST, json!(["body must be JSON"]));
    };
    let account_id = match v.get("accountId") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return nest_error(
                StatusCode::BAD_REQUEST,
                json!("You have provided an invalid Id type"),
            );
        }
        None => {
            return nest_error(
                StatusCode::BAD_REQUEST,
                json!(["accountId must be a string"]),
            );
        }
    };
    with_partner(&sim, &k, |p, _| {
        let Some(unit_count) = v.get("unitCount").and_then(Value::as_f64) else {
            p.counts.push(CountCall {
                service_id: service_id.clone(),
                service_name: String::new(),
                account_id: account_id.clone(),
                unit_count: f64::NAN,
                status: 400,
                no_build,
            });
            return nest_error(
                StatusCode::BAD_REQUEST,
                json!(["unitCount must be a number"]),
            );
        };
        let Some(sku) = p.skus.iter().find(|s| s.id == service_id) else {
            return nest_error(
                StatusCode::NOT_FOUND,
                json!(format!("Service not found with id: {service_id}")),
            );
        };
        let service_name = sku.name.clone();
        let mapped =
            p.mapped_accounts.contains(&account_id) && p.mapped_services.contains(&service_id);
        let status = if mapped { 201 } else { 404 };
        p.counts.push(CountCall {
            service_id: service_id.clone(),
            service_name,
            account_id: account_id.clone(),
            unit_count,
            status,
            no_build,
        });
        if mapped {
            (
                StatusCode::CREATED,
                axum::Json(json!({"status": 201, "message": "Created service unit count"})),
            )
                .into_response()
        } else {
            nest_error(
                StatusCode::NOT_FOUND,
                json!(format!("No account map found with id: {account_id}")),
            )
        }
    })
}

async fn not_found(req: Request) -> Response {
    nest_error(
        StatusCode::NOT_FOUND,
        json!(format!("Cannot {} {}", req.method(), req.uri().path())),
    )
}
