//! Request dispatch: case-insensitive paths, auth, thresholds, faults, then the endpoints.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Query as UrlQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::AutotaskSim;
use super::filter::{self, Query};
use super::limits::Admission;
use super::model::{Entity, Row};
use super::paging::{Cursor, encode};
use crate::{FaultHit, lock};

/// Largest request body read (a query with hundreds of conditions fits easily).
const BODY_LIMIT: usize = 8 * 1024 * 1024;

pub(super) async fn handle(State(sim): State<AutotaskSim>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let Some(segs) = segments(&path) else {
        return not_found(&parts);
    };
    let is = |s: &str, name: &str| s.eq_ignore_ascii_case(name);
    match segs.as_slice() {
        [root, v] if is(root, "ATServicesRest") && is(v, "versioninformation") => {
            if parts.method != Method::GET {
                return method_not_allowed(&parts.method);
            }
            if let Some(hit) = sim.inner.faults.check(&path_and_query(&parts)).await {
                return fault(hit);
            }
            json_ok(json!({"apiVersions": ["V1.0"]}))
        }
        [root, v, z] if is(root, "ATServicesRest") && is(v, "V1.0") && is(z, "zoneInformation") => {
            zone_information(&sim, &parts).await
        }
        [root, v, tail @ ..] if is(root, "ATServicesRest") && is(v, "V1.0") && !tail.is_empty() => {
            api(&sim, &parts, body, tail).await
        }
        _ => not_found(&parts),
    }
}

/// The discovery origin of [`AutotaskSim::start_split`]: it answers discovery and nothing
/// else, as `webservices.autotask.net` holds no tenant's data; the API lives on the zone.
pub(super) async fn handle_discovery(State(sim): State<AutotaskSim>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let Some(segs) = segments(&path) else {
        return not_found(&parts);
    };
    let is = |s: &str, name: &str| s.eq_ignore_ascii_case(name);
    match segs.as_slice() {
        [root, v] if is(root, "ATServicesRest") && is(v, "versioninformation") => {
            json_ok(json!({"apiVersions": ["V1.0"]}))
        }
        [root, v, z] if is(root, "ATServicesRest") && is(v, "V1.0") && is(z, "zoneInformation") => {
            zone_information(&sim, &parts).await
        }
        _ => not_found(&parts),
    }
}

/// Path segments; one trailing slash is tolerated, an empty segment inside (`//`) is not.
fn segments(path: &str) -> Option<Vec<&str>> {
    let trimmed = path.strip_prefix('/')?;
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let segs: Vec<&str> = trimmed.split('/').collect();
    segs.iter().all(|s| !s.is_empty()).then_some(segs)
}

fn path_and_query(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default()
}

/// A query-string parameter; names ignore case, as ASP.NET binding does.
fn param(parts: &Parts, name: &str) -> Option<String> {
    let UrlQuery(pairs) = UrlQuery::<Vec<(String, String)>>::try_from_uri(&parts.uri).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// `http://HOST/ATServicesRest/`: this simulator's own base, as the client reached it; with
/// a separate zone origin ([`AutotaskSim::start_split`]), that one.
fn base_url(sim: &AutotaskSim, parts: &Parts) -> String {
    if let Some(zone) = *lock(&sim.inner.zone_addr) {
        return format!("http://{zone}/ATServicesRest/");
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .or_else(|| lock(&sim.inner.own_addr).map(|a| a.to_string()))
        .unwrap_or_else(|| "127.0.0.1".to_string());
    format!("http://{host}/ATServicesRest/")
}

/// docs/apis.md §3.1: no auth needed; the answer's `url` ends in `/` and points back here.
async fn zone_information(sim: &AutotaskSim, parts: &Parts) -> Response {
    if parts.method != Method::GET {
        return method_not_allowed(&parts.method);
    }
    if let Some(hit) = sim.inner.faults.check(&path_and_query(parts)).await {
        return fault(hit);
    }
    let known = param(parts, "user").is_some_and(|u| {
        u.trim()
            .eq_ignore_ascii_case(&sim.inner.credentials.username)
    });
    if !known {
        return errors(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Zone information could not be determined",
        );
    }
    let url = base_url(sim, parts);
    let web_url = url.trim_end_matches("ATServicesRest/").to_string();
    json_ok(json!({
        "zoneName": "Simulator (loopback)",
        "url": url,
        "webUrl": web_url,
        "ci": 5,
    }))
}

/// docs/apis.md §3.2: wrong secret → 401; wrong or missing user name or integration code (or a missing
/// header) → 500. Returns the integration code on success.
fn authenticate(sim: &AutotaskSim, headers: &HeaderMap) -> Result<String, ApiError> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let creds = &sim.inner.credentials;
    let fail = |msg: &str| Err(ApiError::server(msg));
    match get("UserName") {
        Some(u) if u.eq_ignore_ascii_case(&creds.username) => {}
        Some(_) => return fail("The UserName is not a valid API user."),
        None => return fail("The UserName header is required."),
    }
    let code = match get("ApiIntegrationCode") {
        Some(c) if c == creds.integration_code => c,
        Some(_) => return fail("IntegrationCode is invalid."),
        None => return fail("The ApiIntegrationCode header is required."),
    };
    match get("Secret") {
        Some(s) if s == creds.secret => Ok(code),
        Some(_) => Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: the Secret is not valid for this user.".to_string(),
        )),
        None => fail("The Secret header is required."),
    }
}

async fn api(sim: &AutotaskSim, parts: &Parts, body: Body, tail: &[&str]) -> Response {
    let code = match authenticate(sim, &parts.headers) {
        Ok(code) => code,
        Err(e) => return e.into_response(),
    };
    let admission = lock(&sim.inner.threshold).admit(Instant::now());
    let slow = match admission {
        Admission::Refused => {
            let limit = lock(&sim.inner.threshold).limit;
            return too_many(
                sim,
                &format!(
                    "Request rejected: the request threshold of {limit} requests per 60 minutes \
                     for this database has been exceeded."
                ),
            );
        }
        Admission::Admitted { slow } => slow,
    };
    let max = sim
        .inner
        .max_in_flight
        .load(std::sync::atomic::Ordering::Relaxed);
    let Some(_slot) = sim.inner.in_flight.try_acquire(&code, tail[0], max) else {
        return too_many(
            sim,
            &format!(
                "Request rejected: more than {max} concurrent requests to the {} endpoint \
                 for this integration (thread limit).",
                tail[0]
            ),
        );
    };
    if slow {
        let latency = *lock(&sim.inner.slow_latency);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }
    if let Some(hit) = sim.inner.faults.check(&path_and_query(parts)).await {
        return fault(hit);
    }
    endpoint(sim, parts, body, tail).await
}

async fn endpoint(sim: &AutotaskSim, parts: &Parts, body: Body, tail: &[&str]) -> Response {
    let is = |s: &str, name: &str| s.eq_ignore_ascii_case(name);
    let method = &parts.method;
    if tail.len() == 1 && is(tail[0], "ThresholdInformation") {
        if method != Method::GET {
            return method_not_allowed(method);
        }
        let mut threshold = lock(&sim.inner.threshold);
        let used = threshold.used(Instant::now());
        return json_ok(json!({
            "externalRequestThreshold": threshold.limit,
            "requestThresholdTimeframe": threshold.window.as_secs() / 60,
            "currentTimeframeRequestCount": used,
        }));
    }
    let Some(entity) = Entity::parse(tail[0]) else {
        return not_found(parts);
    };
    match &tail[1..] {
        // The collection root: writes are not modelled; GET is not a route (405 as the API).
        [] => method_not_allowed(method),
        [q] if is(q, "query") => match *method {
            Method::POST => match read_query(entity, body).await {
                Ok(query) => run_query(sim, parts, entity, &query, None, None),
                Err(e) => e.into_response(),
            },
            Method::GET => match search_query(entity, parts) {
                Ok((query, search)) => run_query(sim, parts, entity, &query, None, Some(&search)),
                Err(e) => e.into_response(),
            },
            _ => method_not_allowed(method),
        },
        [q, c] if is(q, "query") && is(c, "count") => {
            let query = match *method {
                Method::POST => read_query(entity, body).await,
                Method::GET => search_query(entity, parts).map(|(q, _)| q),
                _ => return method_not_allowed(method),
            };
            match query {
                Ok(query) => count(sim, entity, &query),
                Err(e) => e.into_response(),
            }
        }
        [q, n] if is(q, "query") && is(n, "next") => next_page(sim, parts, body, entity).await,
        [e, f] if is(e, "entityInformation") && is(f, "fields") => {
            if method != Method::GET {
                return method_not_allowed(method);
            }
            entity_fields(entity)
        }
        [id] => {
            let Ok(id) = id.parse::<i64>() else {
                return not_found(parts);
            };
            if method != Method::GET {
                return method_not_allowed(method);
            }
            let tables = sim.tables();
            let rows = tables.get(entity);
            let item = rows
                .binary_search_by_key(&id, |r| r.id)
                .ok()
                .map(|i| Value::Object(rows[i].obj()))
                .unwrap_or(Value::Null);
            json_ok(json!({ "item": item }))
        }
        _ => not_found(parts),
    }
}

/// A refusal answered as `{"errors":[message]}`.
struct ApiError(StatusCode, String);

impl ApiError {
    fn server(msg: &str) -> Self {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, msg.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        errors(self.0, &self.1)
    }
}

impl From<filter::QueryError> for ApiError {
    fn from(e: filter::QueryError) -> Self {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.0)
    }
}

async fn read_query(entity: Entity, body: Body) -> Result<Query, ApiError> {
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::server("The request body could not be read."))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(filter::parse_query(entity, &text)?)
}

/// The GET form: `?search=<url-encoded query JSON>` is required (docs/apis.md §3.3).
fn search_query(entity: Entity, parts: &Parts) -> Result<(Query, String), ApiError> {
    let Some(search) = param(parts, "search") else {
        return Err(ApiError::server("The search parameter is required."));
    };
    let query = filter::parse_query(entity, &search)?;
    Ok((query, search))
}

/// docs/apis.md §3.4: POST with the original body; GET only for cursors that carry `search`.
async fn next_page(sim: &AutotaskSim, parts: &Parts, body: Body, entity: Entity) -> Response {
    let (query, search) = match parts.method {
        Method::POST => match read_query(entity, body).await {
            Ok(q) => (q, None),
            Err(e) => return e.into_response(),
        },
        // A POST-originated cursor has no `search`: GET on it is a 405, the trap that makes
        // naive clients stop after the first page.
        Method::GET if param(parts, "search").is_some() => match search_query(entity, parts) {
            Ok((q, s)) => (q, Some(s)),
            Err(e) => return e.into_response(),
        },
        _ => return method_not_allowed(&parts.method),
    };
    let Some(cursor) = param(parts, "paging").as_deref().and_then(Cursor::parse) else {
        return errors(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The paging parameter is missing or not valid.",
        );
    };
    if !lock(&sim.inner.cursors).issued(entity, &cursor, &query.canonical_filter) {
        return errors(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The paging parameter does not belong to this query: send the same filter as the \
             request that returned this page URL.",
        );
    }
    run_query(sim, parts, entity, &query, Some(cursor), search.as_deref())
}

/// Answers one page. `cursor` is None for the first page; `search` is Some for GET queries.
fn run_query(
    sim: &AutotaskSim,
    parts: &Parts,
    entity: Entity,
    query: &Query,
    cursor: Option<Cursor>,
    search: Option<&str>,
) -> Response {
    let is_next = cursor.is_some();
    let cursor = cursor.unwrap_or_else(|| Cursor::first(query.max_records));
    let tables = sim.tables();
    let matched = tables.select(entity, &query.conditions);
    let start = matched.after(cursor.after());
    let end = start.saturating_add(cursor.page_size).min(matched.len());
    let page: Vec<&Row> = (start..end).map(|k| matched.get(k)).collect();
    let has_more = end < matched.len();
    // §3.3 (ATDOC): past one page of results, IncludeFields must list `id` [I: else 500].
    if !query.include_fields.is_empty()
        && !query.include_fields.contains(&"id")
        && (has_more || is_next)
    {
        return errors(
            StatusCode::INTERNAL_SERVER_ERROR,
            "IncludeFields must include id when the query returns more than one page of results.",
        );
    }

    let base = base_url(sim, parts);
    let url = |c: &Cursor| {
        let mut u = format!(
            "{base}V1.0/{}/query/next?paging={}",
            entity.path_name(),
            encode(&c.to_json())
        );
        if let Some(search) = search {
            u.push_str("&search=");
            u.push_str(&encode(search));
        }
        u
    };
    let mut registry = lock(&sim.inner.cursors);
    let next_url = match (has_more, page.last()) {
        (true, Some(last)) => {
            let next = cursor.next(last.id);
            registry.remember(entity, &next, &query.canonical_filter);
            Value::String(url(&next))
        }
        _ => Value::Null,
    };
    let prev_url = match cursor.prev() {
        Some(prev) => {
            registry.remember(entity, &prev, &query.canonical_filter);
            Value::String(url(&prev))
        }
        None => Value::Null,
    };
    drop(registry);

    let items: Vec<Value> = page
        .iter()
        .map(|row| {
            let obj = row.obj();
            if query.include_fields.is_empty() {
                Value::Object(obj)
            } else {
                let mut m = Map::new();
                for f in &query.include_fields {
                    m.insert(f.to_string(), obj.get(*f).cloned().unwrap_or(Value::Null));
                }
                Value::Object(m)
            }
        })
        .collect();
    json_ok(json!({
        "items": items,
        "pageDetails": {
            "count": items.len(),
            "requestCount": cursor.page_size,
            "prevPageUrl": prev_url,
            "nextPageUrl": next_url,
        }
    }))
}

fn count(sim: &AutotaskSim, entity: Entity, query: &Query) -> Response {
    let tables = sim.tables();
    let n = tables.select(entity, &query.conditions).len();
    json_ok(json!({ "queryCount": n }))
}

/// `GET /V1.0/{Entity}/entityInformation/fields` (§3.5), reduced to what clients read.
fn entity_fields(entity: Entity) -> Response {
    let fields: Vec<Value> = entity
        .fields()
        .iter()
        .map(|(name, kind)| {
            let picklist = *name == "companyType";
            let values: Vec<Value> = if picklist {
                [
                    (1, "Customer"),
                    (2, "Lead"),
                    (3, "Prospect"),
                    (4, "Dead"),
                    (6, "Cancellation"),
                    (7, "Vendor"),
                    (8, "Partner"),
                ]
                .iter()
                .map(|(v, l)| json!({"value": v.to_string(), "label": l, "isActive": true}))
                .collect()
            } else {
                Vec::new()
            };
            json!({
                "name": name,
                "dataType": kind.data_type(),
                "isRequired": *name == "id",
                "isReadOnly": *name == "id",
                "isQueryable": true,
                "isPickList": picklist,
                "picklistValues": if picklist { Value::Array(values) } else { Value::Null },
            })
        })
        .collect();
    json_ok(json!({ "fields": fields }))
}

fn json_ok(v: Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

/// The API's error body: `{"errors": ["message"]}` (§3.6).
fn errors(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(json!({ "errors": [msg] }))).into_response()
}

/// 429, with `Retry-After` when the fault configuration sets one (the real API may omit it).
fn too_many(sim: &AutotaskSim, msg: &str) -> Response {
    let retry = sim.inner.faults.config().retry_after_secs;
    with_retry_after(errors(StatusCode::TOO_MANY_REQUESTS, msg), retry)
}

fn with_retry_after(mut response: Response, secs: Option<u64>) -> Response {
    if let Some(secs) = secs
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn fault(hit: FaultHit) -> Response {
    match hit {
        FaultHit::TooManyRequests { retry_after_secs } => with_retry_after(
            errors(StatusCode::TOO_MANY_REQUESTS, "Request Threshold Exceeded"),
            retry_after_secs,
        ),
        FaultHit::ServerError => errors(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An unexpected error occurred",
        ),
    }
}

/// ASP.NET Web API's 404 shape.
fn not_found(parts: &Parts) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({
            "Message": format!(
                "No HTTP resource was found that matches the request URI '{}'.",
                path_and_query(parts)
            )
        })),
    )
        .into_response()
}

/// ASP.NET Web API's 405 shape (§3.4).
fn method_not_allowed(method: &Method) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(json!({
            "Message": format!("The requested resource does not support http method '{method}'.")
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::segments;

    #[test]
    fn segments_tolerate_one_trailing_slash_only() {
        assert_eq!(
            segments("/ATServicesRest/V1.0/Companies/query/"),
            Some(vec!["ATServicesRest", "V1.0", "Companies", "query"])
        );
        assert_eq!(segments("/ATServicesRest//V1.0/Companies"), None);
        assert_eq!(segments("/"), None);
    }
}
