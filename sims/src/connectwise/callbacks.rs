//! ConnectWise callbacks (docs/apis.md §2.9, docs/contract.md §6): registration under
//! `/system/callbacks`, signed delivery when data changes, and the key URL a receiver fetches
//! to verify a signature.
//!
//! Registration (same auth as every API route):
//! - `GET /system/callbacks` and `/count` are ordinary lists (conditions, `fields`, `orderBy`,
//!   paging: see `api.rs`), so `conditions=url like "https://x/%"` works; `GET …/{id}` too.
//! - `POST` creates a [`CwCallback`]: `url`, `objectId`, `type` and `level` are required;
//!   `description` ≤ 100 characters. Bad input is a 400 `InvalidObject` whose `errors[]` name
//!   the field (`url` missing or not an absolute http(s) URL; `type` or `level` unknown) [R:amp-labs].
//!   Level `owner` with `objectId` 0 comes back as 1 [R:amp-labs]. The answer is 201 with the
//!   stored entry (`id`, `memberId`, `_info`) [I: 201 as for other ConnectWise creates].
//!   Body keys are read ignoring case, and `type`/`level` are stored lower-cased, as the
//!   Newtonsoft binding of ASP.NET would accept them [I]. Duplicates are accepted [I]: a
//!   client must reconcile by listing first (§2.9 hygiene).
//! - `DELETE …/{id}` answers 204, an unknown id 404 `NotFound`. PUT/PATCH are not modelled (405).
//! - [`ConnectWiseSim::fail_callback_create`] makes the Nth create from now answer 500, so a
//!   client's rollback after a partial registration can be tested.
//!
//! Types (`type`, lowercase singular, docs/contract.md §6): deliveries are made for `company`,
//! `contact`, `configuration`, `ticket`, `agreement` and `time` (time entries) [I: the name of
//! the time-entry kind]; other known kinds ([`CALLBACK_TYPES`]) register but never fire.
//! Levels [V:CWDG "Levels and Types"]: `owner` (every record of the type), `company` (records of
//! company `objectId`), and the type itself (`contact` level: the one record `objectId`) fire;
//! `board`, `status` and `type` register but never fire here [I].
//!
//! Delivery [V:CWDG], when data changes through [`ConnectWiseSim::update_tenant`] or any
//! mutation method built on it (`add_*`, `update_*`, `delete_*`): the simulator compares the
//! records before and after (only for types that have an active callback), and for each
//! added, changed or removed record POSTs the §2.9 payload to every active matching callback,
//! from a background task (never inside the mutation call):
//! - URL: ConnectWise appends the record id and then the action [V:CWDG: end the URL in
//!   `?recordId=`]. The simulator appends the id verbatim and the action as a query parameter
//!   [I]: `https://h/cb?recordId=` → `https://h/cb?recordId=7&action=updated`; a URL that does
//!   not end in `=` gets the id glued on (`https://h/cb` → `https://h/cb7?action=updated`), which
//!   is why the guide suggests the `?recordId=` ending.
//! - Body (compact JSON): `MessageId` (a fresh UUID), `FromUrl` (the site's host), `CompanyId`
//!   (the login company), `MemberId` (who changed it: `_info.updatedBy`, else the API member),
//!   `Action`, `Type`, `ID`, `Entity` (the record as the API serves it, **as a JSON string**;
//!   `null` on delete), `Metadata.key_url`, `PartnerId`, `ProductInstanceId` (empty strings
//!   [I]) and `CallbackObjectRecId` (the callback's `objectId` [I]).
//! - Header `x-content-signature` = base64(HMAC-SHA256(key = SHA-256(signing_key), raw body))
//!   ([`content_signature`]).
//! - Any 2xx is success; only 404, 409, 419 and 429 are retried, twice, after 2 s then 4 s;
//!   5 s timeout per try; a timeout or refused connection is not retried. The delays and the
//!   timeout are settable ([`DeliveryTiming`]). Every try is logged ([`ConnectWiseSim::deliveries`]).
//!   Disabling a callback after 3 days of failures is not modelled.
//!
//! Key URL (no auth, no clientId needed): `GET /{codebase}/system/callbackkey/index.rails
//! ?companyName=<company>&id=<uuid>` → `{"signing_key": "…"}`, absolute on the simulator's own
//! origin and with the double slash of the real URL (`…/v2025_1//system/callbackkey/…`).
//! [`ConnectWiseSim::rotate_signing_key`] makes a new key with a new id; the old URL keeps
//! answering the old key [I: keys are immutable per id, so per-URL caching stays correct and
//! an event signed before the rotation still verifies]; an unknown id is a 404.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::activity::{CwAgreement, CwTicket, CwTimeEntry};
use super::dates::format_datetime;
use super::tenant::{CwCompany, CwConfiguration, CwContact, CwTenant, Info};
use super::{ConnectWiseSim, json_response};
use crate::lock;

/// The callback kinds the simulator accepts in `type` [V:CWDG "Levels and Types"; I: spelling].
pub const CALLBACK_TYPES: &[&str] = &[
    "company",
    "contact",
    "configuration",
    "ticket",
    "agreement",
    "time",
    "activity",
    "opportunity",
    "project",
    "schedule",
    "member",
    "expense",
    "invoice",
    "product",
    "purchaseorder",
];

/// The kinds whose records the simulator holds, so whose changes are delivered.
pub const DELIVERED_TYPES: &[&str] = &[
    "company",
    "contact",
    "configuration",
    "ticket",
    "agreement",
    "time",
];

/// Levels other than the type itself (which means "this one record").
const LEVELS: &[&str] = &["owner", "company", "board", "status", "type"];

/// The API member that owns callbacks the simulator's keys create [I].
const API_MEMBER_ID: i64 = 310;
const API_MEMBER: &str = "SynthesizeAPI";
const MAX_DESCRIPTION: usize = 100;
const MAX_BODY: usize = 64 * 1024;

/// `/system/callbacks` entry [V:pycw-model `CallbackEntry`], as stored and served.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CwCallback {
    pub id: i64,
    pub description: Option<String>,
    pub url: String,
    pub object_id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub level: String,
    pub member_id: i64,
    pub payload_version: Option<String>,
    pub inactive_flag: bool,
    pub is_soap_callback_flag: bool,
    pub is_self_suppressed_flag: bool,
    #[serde(rename = "connectWiseID")]
    pub connect_wise_id: Option<String>,
    #[serde(rename = "_info")]
    pub info: Info,
}

impl CwCallback {
    /// Whether this callback fires for `event`.
    fn fires_for(&self, event: &CallbackEvent) -> bool {
        if self.inactive_flag || self.kind != event.kind {
            return false;
        }
        match self.level.as_str() {
            "owner" => true,
            "company" => event.company_id == Some(self.object_id),
            level => level == self.kind && self.object_id == event.id,
        }
    }
}

/// What happened to a record (`Action` in the payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackAction {
    Added,
    Updated,
    Deleted,
}

impl CallbackAction {
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackAction::Added => "added",
            CallbackAction::Updated => "updated",
            CallbackAction::Deleted => "deleted",
        }
    }
}

/// One change to one record.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackEvent {
    pub action: CallbackAction,
    /// The callback type: `contact`, `company`, `time`, …
    pub kind: String,
    pub id: i64,
    /// The record's company, for `company`-level callbacks.
    pub company_id: Option<i64>,
    /// The record as the API serves it (`_info` hrefs absolute); `None` on delete.
    pub entity: Option<Value>,
}

/// Delivery timeouts and retry delays (docs/apis.md §2.9: 5 s; 2 s, then 4 s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryTiming {
    pub timeout: Duration,
    /// One retry per entry, after that delay.
    pub retry_delays: Vec<Duration>,
}

impl Default for DeliveryTiming {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            retry_delays: vec![Duration::from_secs(2), Duration::from_secs(4)],
        }
    }
}

/// One POST the simulator made to a callback URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub message_id: String,
    /// The registered callback, `None` for [`ConnectWiseSim::deliver_raw`] / `send_event`.
    pub callback_id: Option<i64>,
    /// The URL posted to (record id and action appended).
    pub url: String,
    /// 1 for the first try.
    pub attempt: u32,
    /// The receiver's status; `None` when there was none (timeout, refused connection).
    pub status: Option<u16>,
    pub error: Option<String>,
    /// The `x-content-signature` sent, if any.
    pub signature: Option<String>,
    /// The raw body.
    pub body: String,
}

impl DeliveryAttempt {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// How [`ConnectWiseSim::send_event`] signs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Signature {
    /// With the current signing key.
    #[default]
    Valid,
    /// No `x-content-signature` header.
    Missing,
    /// This header value, as given.
    Value(String),
    /// Correctly computed, but with this signing key.
    Key(String),
}

/// Choices for a hand-made event, for a receiver's negative tests.
#[derive(Debug, Clone, Default)]
pub struct EventOverrides {
    /// `Metadata.key_url` (default: the current key's URL).
    pub key_url: Option<String>,
    /// `MessageId` (default: a fresh one); repeat one to replay.
    pub message_id: Option<String>,
    pub signature: Signature,
    /// `CallbackObjectRecId` (default 1).
    pub object_id: Option<i64>,
}

/// Callback state beside the registrations (which live with the tenant, so lists see them).
pub(crate) struct Hooks {
    /// (id, signing key), oldest first; the last one signs.
    keys: Vec<(String, String)>,
    /// Creates answered so far, and the one (1-based, from the switch on) that answers 500.
    creates: u64,
    fail_create_at: Option<u64>,
    timing: DeliveryTiming,
    attempts: Vec<DeliveryAttempt>,
    origin: Option<String>,
    runtime: Option<tokio::runtime::Handle>,
    rng: fastrand::Rng,
    client: Option<reqwest::Client>,
}

impl Hooks {
    pub(crate) fn new() -> Self {
        let mut rng = fastrand::Rng::new();
        let key = new_key(&mut rng);
        Self {
            keys: vec![key],
            creates: 0,
            fail_create_at: None,
            timing: DeliveryTiming::default(),
            attempts: Vec::new(),
            origin: None,
            runtime: None,
            rng,
            client: None,
        }
    }
}

fn uuid(rng: &mut fastrand::Rng) -> String {
    let h: String = (0..32)
        .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap_or('0'))
        .collect();
    format!(
        "{}-{}-4{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[16..20],
        &h[20..]
    )
}

fn new_key(rng: &mut fastrand::Rng) -> (String, String) {
    let bytes: Vec<u8> = (0..32).map(|_| rng.u8(..)).collect();
    let key = base64::engine::general_purpose::STANDARD.encode(bytes);
    (uuid(rng), key)
}

/// HMAC-SHA256 (RFC 2104) over a 64-byte block.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(Sha256::digest(key).as_slice());
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let mut inner = Sha256::new();
    inner.update(pad(0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.as_slice());
    let mut out = [0u8; 32];
    out.copy_from_slice(outer.finalize().as_slice());
    out
}

/// `x-content-signature` for `body`: base64(HMAC-SHA256(key = SHA-256(signing_key), body))
/// (docs/apis.md §2.9).
pub fn content_signature(signing_key: &str, body: &[u8]) -> String {
    let key = Sha256::digest(signing_key.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key.as_slice(), body))
}

/// The URL a delivery goes to: `url` + record id, then `action=` as a query parameter [I].
pub fn delivery_url(url: &str, id: i64, action: CallbackAction) -> String {
    let with_id = format!("{url}{id}");
    let sep = if with_id.contains('?') { '&' } else { '?' };
    format!("{with_id}{sep}action={}", action.as_str())
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Records of one kind before a change, to diff against after it.
struct Before<T>(Option<Vec<T>>);

impl<T: Clone> Before<T> {
    fn take(watched: &BTreeSet<String>, kind: &str, items: &[T]) -> Self {
        Self(watched.contains(kind).then(|| items.to_vec()))
    }
}

/// The watched lists of a tenant before a change.
pub(crate) struct Snapshot {
    companies: Before<CwCompany>,
    contacts: Before<CwContact>,
    configurations: Before<CwConfiguration>,
    tickets: Before<CwTicket>,
    agreements: Before<CwAgreement>,
    time: Before<CwTimeEntry>,
}

/// A record's id and company, as a diff needs them.
trait Record: Clone + PartialEq + Serialize {
    fn id(&self) -> i64;
    fn company_id(&self) -> Option<i64>;
}

macro_rules! record {
    ($t:ty, |$x:ident| $company:expr) => {
        impl Record for $t {
            fn id(&self) -> i64 {
                self.id
            }
            fn company_id(&self) -> Option<i64> {
                let $x = self;
                $company
            }
        }
    };
}

record!(CwCompany, |x| Some(x.id));
record!(CwContact, |x| x.company.as_ref().map(|c| c.id));
record!(CwConfiguration, |x| x.company.as_ref().map(|c| c.id));
record!(CwTicket, |x| x.company.as_ref().map(|c| c.id));
record!(CwAgreement, |x| x.company.as_ref().map(|c| c.id));
record!(CwTimeEntry, |x| x.company.as_ref().map(|c| c.id));

fn diff<T: Record>(kind: &str, before: &Before<T>, after: &[T], out: &mut Vec<CallbackEvent>) {
    let Some(before) = &before.0 else { return };
    let old: HashMap<i64, &T> = before.iter().map(|x| (x.id(), x)).collect();
    let new_ids: BTreeSet<i64> = after.iter().map(Record::id).collect();
    let event = |action, x: &T, entity: bool| CallbackEvent {
        action,
        kind: kind.to_string(),
        id: x.id(),
        company_id: x.company_id(),
        entity: entity.then(|| serde_json::to_value(x).unwrap_or(Value::Null)),
    };
    let mut events: Vec<CallbackEvent> = Vec::new();
    for x in after {
        match old.get(&x.id()) {
            None => events.push(event(CallbackAction::Added, x, true)),
            Some(o) if *o != x => events.push(event(CallbackAction::Updated, x, true)),
            Some(_) => {}
        }
    }
    for x in before.iter().filter(|x| !new_ids.contains(&x.id())) {
        events.push(event(CallbackAction::Deleted, x, false));
    }
    events.sort_by_key(|e| e.id);
    out.extend(events);
}

impl Snapshot {
    pub(crate) fn take(t: &CwTenant, watched: &BTreeSet<String>) -> Self {
        Self {
            companies: Before::take(watched, "company", &t.companies),
            contacts: Before::take(watched, "contact", &t.contacts),
            configurations: Before::take(watched, "configuration", &t.configurations),
            tickets: Before::take(watched, "ticket", &t.tickets),
            agreements: Before::take(watched, "agreement", &t.agreements),
            time: Before::take(watched, "time", &t.time_entries),
        }
    }

    pub(crate) fn events(&self, t: &CwTenant) -> Vec<CallbackEvent> {
        let mut out = Vec::new();
        diff("company", &self.companies, &t.companies, &mut out);
        diff("contact", &self.contacts, &t.contacts, &mut out);
        diff(
            "configuration",
            &self.configurations,
            &t.configurations,
            &mut out,
        );
        diff("ticket", &self.tickets, &t.tickets, &mut out);
        diff("agreement", &self.agreements, &t.agreements, &mut out);
        diff("time", &self.time, &t.time_entries, &mut out);
        out
    }
}

/// The types that have an active callback that may fire.
pub(crate) fn watched(callbacks: &[CwCallback]) -> BTreeSet<String> {
    callbacks
        .iter()
        .filter(|c| !c.inactive_flag && DELIVERED_TYPES.contains(&c.kind.as_str()))
        .map(|c| c.kind.clone())
        .collect()
}

fn invalid(errors: Vec<(&str, &str, String)>) -> Response {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|(field, code, message)| {
            json!({"code": code, "message": message, "resource": "callbackEntry", "field": field})
        })
        .collect();
    json_response(
        StatusCode::BAD_REQUEST,
        json!({
            "code": "InvalidObject",
            "message": "callbackEntry object is invalid",
            "errors": errors,
        }),
    )
}

fn is_absolute_http(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !url.chars().any(char::is_whitespace)
}

/// `POST /system/callbacks`.
pub(crate) async fn create(sim: &ConnectWiseSim, req: Request) -> Response {
    let bytes = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return invalid(vec![(
                "body",
                "InvalidSyntax",
                "The body is too large.".into(),
            )]);
        }
    };
    let body: Map<String, Value> = match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => m,
        _ => {
            return invalid(vec![(
                "body",
                "InvalidSyntax",
                "The request body is not a JSON object.".into(),
            )]);
        }
    };
    let get = |name: &str| {
        body.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    };
    let mut errors = Vec::new();
    let required = |f: &str| format!("The {f} field is required.");
    let url = match get("url") {
        None => {
            errors.push(("url", "NullValue", required("url")));
            String::new()
        }
        Some(Value::String(u)) if is_absolute_http(u.trim()) => u.trim().to_string(),
        Some(other) => {
            errors.push((
                "url",
                "InvalidField",
                format!("The url {other} is not a valid absolute http or https URL."),
            ));
            String::new()
        }
    };
    let mut object_id = match get("objectId") {
        None => {
            errors.push(("objectId", "NullValue", required("objectId")));
            0
        }
        Some(v) => v.as_i64().unwrap_or_else(|| {
            errors.push((
                "objectId",
                "InvalidField",
                format!("The value {v} is not valid for objectId."),
            ));
            0
        }),
    };
    let mut word = |field: &'static str, known: &dyn Fn(&str) -> bool| match get(field) {
        None => {
            errors.push((field, "NullValue", required(field)));
            String::new()
        }
        Some(Value::String(s)) if known(&s.trim().to_lowercase()) => s.trim().to_lowercase(),
        Some(other) => {
            errors.push((
                field,
                "InvalidField",
                format!("The {field} {other} is not valid."),
            ));
            String::new()
        }
    };
    let kind = word("type", &|s| CALLBACK_TYPES.contains(&s));
    let kind_for_level = kind.clone();
    let level = word("level", &|s| {
        LEVELS.contains(&s) || (!kind_for_level.is_empty() && s == kind_for_level)
    });
    let mut text = |field: &'static str| match get(field) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.push((
                field,
                "InvalidField",
                format!("The value {other} is not valid for {field}."),
            ));
            None
        }
    };
    let description = text("description");
    let payload_version = text("payloadVersion");
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        errors.push((
            "description",
            "InvalidField",
            format!("description can not be more than {MAX_DESCRIPTION} characters."),
        ));
    }
    let mut flag = |field: &'static str| match get(field) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            errors.push((
                field,
                "InvalidField",
                format!("The value {other} is not valid for {field}."),
            ));
            false
        }
    };
    let inactive_flag = flag("inactiveFlag");
    let is_soap_callback_flag = flag("isSoapCallbackFlag");
    let is_self_suppressed_flag = flag("isSelfSuppressedFlag");
    if !errors.is_empty() {
        return invalid(errors);
    }
    if level == "owner" && object_id == 0 {
        object_id = 1;
    }
    let mut hooks = lock(&sim.shared.hooks);
    hooks.creates += 1;
    if hooks.fail_create_at == Some(hooks.creates) {
        hooks.fail_create_at = None;
        return super::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ConnectWiseApi",
            "An error occurred, please contact your administrator.",
        );
    }
    let connect_wise_id = uuid(&mut hooks.rng);
    drop(hooks);
    let mut entry = CwCallback {
        id: 0,
        description,
        url,
        object_id,
        kind,
        level,
        member_id: API_MEMBER_ID,
        payload_version,
        inactive_flag,
        is_soap_callback_flag,
        is_self_suppressed_flag,
        connect_wise_id: Some(connect_wise_id),
        info: Info::new(),
    };
    {
        let mut c = lock(&sim.shared.config);
        entry.id = c.callbacks.iter().map(|x| x.id).max().unwrap_or(0) + 1;
        entry.info = Info::from([
            ("lastUpdated".to_string(), format_datetime(now_secs())),
            ("updatedBy".to_string(), API_MEMBER.to_string()),
            (
                "member_href".to_string(),
                format!("/system/members/{API_MEMBER_ID}"),
            ),
        ]);
        c.callbacks.push(entry.clone());
        c.tables = None;
    }
    let mut row = serde_json::to_value(&entry).unwrap_or(Value::Null);
    super::api::strip_nulls(&mut row);
    super::api::absolute_hrefs(&mut row, &sim.api_base());
    json_response(StatusCode::CREATED, row)
}

/// `DELETE /system/callbacks/{id}`.
pub(crate) fn delete(sim: &ConnectWiseSim, id: i64) -> Response {
    let mut c = lock(&sim.shared.config);
    let before = c.callbacks.len();
    c.callbacks.retain(|x| x.id != id);
    if c.callbacks.len() == before {
        return super::error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("callbackEntry with id {id} was not found."),
        );
    }
    c.tables = None;
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /{codebase}/system/callbackkey/index.rails?companyName=…&id=…`, without auth.
pub(crate) fn signing_key(sim: &ConnectWiseSim, req: &Request) -> Response {
    let pairs: Vec<(String, String)> =
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(req.uri())
            .map(|q| q.0)
            .unwrap_or_default();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let company_ok =
        param("companyName").is_some_and(|c| c.eq_ignore_ascii_case(&sim.shared.creds.company_id));
    let id = param("id").unwrap_or_default();
    let key = lock(&sim.shared.hooks)
        .keys
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&id))
        .map(|(_, key)| key.clone());
    match key {
        Some(key) if company_ok => json_response(StatusCode::OK, json!({ "signing_key": key })),
        _ => super::endpoint_not_found(),
    }
}

/// Mutation helpers and the callback controls.
impl ConnectWiseSim {
    /// The registered callbacks, by id.
    pub fn callbacks(&self) -> Vec<CwCallback> {
        lock(&self.shared.config).callbacks.clone()
    }

    /// The `nth` (1-based) `POST /system/callbacks` from now answers 500 and stores nothing;
    /// `None` switches this off.
    pub fn fail_callback_create(&self, nth: Option<u64>) {
        let mut h = lock(&self.shared.hooks);
        h.fail_create_at = nth.map(|n| h.creates + n);
    }

    pub fn set_delivery_timing(&self, timing: DeliveryTiming) {
        lock(&self.shared.hooks).timing = timing;
    }

    /// Every delivery try so far, in the order they finished.
    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        lock(&self.shared.hooks).attempts.clone()
    }

    pub fn clear_deliveries(&self) {
        lock(&self.shared.hooks).attempts.clear();
    }

    /// Waits until at least `n` delivery tries have finished, or `timeout`; returns them all.
    pub async fn wait_for_deliveries(&self, n: usize, timeout: Duration) -> Vec<DeliveryAttempt> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.delivered.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let all = self.deliveries();
            if all.len() >= n {
                return all;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.deliveries();
            }
        }
    }

    /// The simulator's own origin (`http://127.0.0.1:PORT`), used in `key_url` and `_info`
    /// hrefs of payloads. [`ConnectWiseSim::start`] sets it; a router served elsewhere learns it
    /// from the first request's `Host`, or from this call.
    pub fn set_origin(&self, origin: &str) {
        lock(&self.shared.hooks).origin = Some(origin.trim_end_matches('/').to_string());
    }

    pub(crate) fn learn_origin(&self, host: &str) {
        let mut h = lock(&self.shared.hooks);
        if h.origin.is_none() {
            h.origin = Some(format!("http://{host}"));
        }
        if h.runtime.is_none() {
            h.runtime = tokio::runtime::Handle::try_current().ok();
        }
    }

    fn origin(&self) -> String {
        lock(&self.shared.hooks)
            .origin
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1".into())
    }

    /// `http://host/<codebase>apis/3.0`, the base of absolute `_info` hrefs.
    fn api_base(&self) -> String {
        format!("{}/{}apis/3.0", self.origin(), self.codebase())
    }

    /// The current signing key (what the key URL answers).
    pub fn signing_key(&self) -> String {
        let h = lock(&self.shared.hooks);
        h.keys.last().map(|k| k.1.clone()).unwrap_or_default()
    }

    /// The current key URL, as payloads carry it in `Metadata.key_url`.
    pub fn key_url(&self) -> String {
        let id = lock(&self.shared.hooks)
            .keys
            .last()
            .map(|k| k.0.clone())
            .unwrap_or_default();
        format!(
            "{}/{}/system/callbackkey/index.rails?companyName={}&id={id}",
            self.origin(),
            self.codebase(),
            self.shared.creds.company_id
        )
    }

    /// Makes a new signing key under a new key URL, which signs from now on; returns that URL.
    /// The old URL keeps answering the old key.
    pub fn rotate_signing_key(&self) -> String {
        {
            let mut h = lock(&self.shared.hooks);
            let key = new_key(&mut h.rng);
            h.keys.push(key);
        }
        self.key_url()
    }

    /// The payload of §2.9 for `event`, compact JSON (the bytes that are signed).
    pub fn callback_body(
        &self,
        event: &CallbackEvent,
        message_id: &str,
        key_url: &str,
        object_id: i64,
    ) -> String {
        let entity = event.entity.as_ref().map(|e| {
            let mut e = e.clone();
            super::api::strip_nulls(&mut e);
            super::api::absolute_hrefs(&mut e, &self.api_base());
            e
        });
        let member = entity
            .as_ref()
            .and_then(|e| e.pointer("/_info/updatedBy"))
            .and_then(Value::as_str)
            .unwrap_or(API_MEMBER)
            .to_string();
        let origin = self.origin();
        let from = origin.split_once("://").map_or(origin.as_str(), |(_, h)| h);
        json!({
            "MessageId": message_id,
            "FromUrl": from,
            "CompanyId": self.shared.creds.company_id,
            "MemberId": member,
            "Action": event.action.as_str(),
            "Type": event.kind,
            "ID": event.id,
            "Entity": entity.map(|e| Value::String(e.to_string())),
            "Metadata": {"key_url": key_url},
            "PartnerId": "",
            "ProductInstanceId": "",
            "CallbackObjectRecId": object_id,
        })
        .to_string()
    }

    fn new_message_id(&self) -> String {
        uuid(&mut lock(&self.shared.hooks).rng)
    }

    fn client(&self) -> reqwest::Client {
        let mut h = lock(&self.shared.hooks);
        h.client
            .get_or_insert_with(|| {
                reqwest::Client::builder()
                    .no_proxy()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap_or_default()
            })
            .clone()
    }

    /// One POST of `body` to `url` (with `x-content-signature` when given), logged in
    /// [`ConnectWiseSim::deliveries`]; no retry.
    pub async fn deliver_raw(
        &self,
        url: &str,
        body: &str,
        signature: Option<&str>,
    ) -> DeliveryAttempt {
        let message_id = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v.get("MessageId").and_then(Value::as_str).map(String::from))
            .unwrap_or_default();
        self.post_once(url, body, signature, message_id, None, 1)
            .await
    }

    async fn post_once(
        &self,
        url: &str,
        body: &str,
        signature: Option<&str>,
        message_id: String,
        callback_id: Option<i64>,
        attempt: u32,
    ) -> DeliveryAttempt {
        let timeout = lock(&self.shared.hooks).timing.timeout;
        let mut rb = self
            .client()
            .post(url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(s) = signature {
            rb = rb.header("x-content-signature", s);
        }
        let (status, error) = match rb.send().await {
            Ok(resp) => (Some(resp.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let a = DeliveryAttempt {
            message_id,
            callback_id,
            url: url.to_string(),
            attempt,
            status,
            error,
            signature: signature.map(str::to_string),
            body: body.to_string(),
        };
        lock(&self.shared.hooks).attempts.push(a.clone());
        self.shared.delivered.notify_waiters();
        a
    }

    /// Sends one hand-made event to `url` (as given: nothing appended), signed or not as
    /// `o` says; one try, logged. For a receiver's negative tests (forged signature, foreign
    /// key URL, replayed `MessageId`).
    pub async fn send_event(
        &self,
        url: &str,
        event: &CallbackEvent,
        o: EventOverrides,
    ) -> DeliveryAttempt {
        let message_id = o.message_id.unwrap_or_else(|| self.new_message_id());
        let key_url = o.key_url.unwrap_or_else(|| self.key_url());
        let body = self.callback_body(event, &message_id, &key_url, o.object_id.unwrap_or(1));
        let signature = match o.signature {
            Signature::Valid => Some(content_signature(&self.signing_key(), body.as_bytes())),
            Signature::Missing => None,
            Signature::Value(v) => Some(v),
            Signature::Key(k) => Some(content_signature(&k, body.as_bytes())),
        };
        self.post_once(url, &body, signature.as_deref(), message_id, None, 1)
            .await
    }

    /// Delivers `events` to the matching active callbacks, each from its own background task.
    pub(crate) fn fire(&self, events: Vec<CallbackEvent>, callbacks: &[CwCallback]) {
        if events.is_empty() {
            return;
        }
        let runtime = tokio::runtime::Handle::try_current()
            .ok()
            .or_else(|| lock(&self.shared.hooks).runtime.clone());
        for event in &events {
            for cb in callbacks.iter().filter(|c| c.fires_for(event)) {
                let message_id = self.new_message_id();
                let body = self.callback_body(event, &message_id, &self.key_url(), cb.object_id);
                let signature = content_signature(&self.signing_key(), body.as_bytes());
                let url = delivery_url(&cb.url, event.id, event.action);
                let sim = self.clone();
                let id = cb.id;
                let job = async move {
                    sim.deliver_with_retries(url, body, signature, message_id, id)
                        .await;
                };
                match &runtime {
                    Some(rt) => {
                        rt.spawn(job);
                    }
                    None => {
                        lock(&self.shared.hooks).attempts.push(DeliveryAttempt {
                            message_id: String::new(),
                            callback_id: Some(id),
                            url: cb.url.clone(),
                            attempt: 0,
                            status: None,
                            error: Some("no tokio runtime to deliver from".into()),
                            signature: None,
                            body: String::new(),
                        });
                    }
                }
            }
        }
    }

    async fn deliver_with_retries(
        &self,
        url: String,
        body: String,
        signature: String,
        message_id: String,
        callback_id: i64,
    ) {
        let delays = lock(&self.shared.hooks).timing.retry_delays.clone();
        let mut attempt = 1u32;
        loop {
            let a = self
                .post_once(
                    &url,
                    &body,
                    Some(&signature),
                    message_id.clone(),
                    Some(callback_id),
                    attempt,
                )
                .await;
            let retry = matches!(a.status, Some(404 | 409 | 419 | 429));
            let Some(delay) = delays.get(attempt as usize - 1).filter(|_| retry) else {
                return;
            };
            tokio::time::sleep(*delay).await;
            attempt += 1;
        }
    }

    /// "Something changes now": a new active contact of type "Billed User" at company
    /// `company_id`, which fires `contact` callbacks. `None` when there is no such company.
    pub fn add_billed_user(&self, company_id: i64) -> Option<i64> {
        let (company, id) = {
            let c = lock(&self.shared.config);
            let company = c.tenant.company(company_id)?.clone();
            let id = c.tenant.contacts.iter().map(|x| x.id).max().unwrap_or(0) + 1;
            (company, id)
        };
        let contact = CwContact::build(
            id,
            Some(&company),
            "Robin",
            Some(&format!("Added{id}")),
            &["Billed User"],
            false,
        );
        Some(self.add_contact(contact))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn delivery_url_appends_id_then_action() {
        let u = |url: &str| delivery_url(url, 7, CallbackAction::Updated);
        assert_eq!(
            u("https://h/cb?recordId="),
            "https://h/cb?recordId=7&action=updated"
        );
        assert_eq!(
            u("https://h/cb?a=1&id="),
            "https://h/cb?a=1&id=7&action=updated"
        );
        assert_eq!(u("https://h/cb/"), "https://h/cb/7?action=updated");
        assert_eq!(u("https://h/cb"), "https://h/cb7?action=updated");
    }

    #[test]
    fn urls_must_be_absolute_http() {
        for ok in [
            "https://h/cb?recordId=",
            "http://127.0.0.1:8080/x",
            "HTTPS://H",
        ] {
            assert!(is_absolute_http(ok), "{ok}");
        }
        for bad in ["/cb", "ftp://h/x", "https://", "h/cb", "https://h/a b", ""] {
            assert!(!is_absolute_http(bad), "{bad}");
        }
    }

    #[test]
    fn uuids_look_like_uuids() {
        let mut rng = fastrand::Rng::with_seed(1);
        let u = uuid(&mut rng);
        let parts: Vec<usize> = u.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{u}");
        assert_ne!(u, uuid(&mut rng));
    }
}
