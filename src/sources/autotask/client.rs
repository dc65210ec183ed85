//! The Autotask REST v1.0 client (docs/apis.md §3): credentials, zone discovery, the first-call
//! auth check, and paged queries, all on the shared HTTP layer ([`crate::http`]).

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::config::AutotaskSettings;
use crate::config::HttpSettings;
use crate::error::{Error, Result, Side};
use crate::http::{ApiClient, HttpError, Request, Response, header, origin};

use super::query::{Filter, Query};
use crate::sources::field::{HasId, IdOrder, Page};
use crate::sources::split::{self, FirstPage, Split};

/// The most items an Autotask page holds (docs/apis.md §3.4).
const MAX_PAGE: usize = 500;

/// Concurrent streams of one read: Autotask's thread limit per entity (docs/apis.md §3.7).
pub use crate::http::limits::AUTOTASK_READ_STREAMS as READ_STREAMS;

/// One stream of a read: its query, its id range, where it has got to.
struct Stream {
    what: String,
    query: Query,
    /// `low <= id < high`; `None` is unbounded.
    range: (Option<i64>, Option<i64>),
    /// The stream's query has no upper bound (the first stream, started before the split
    /// was known): rows at or past `high` are dropped, not refused.
    unbounded_query: bool,
    next: Option<Url>,
    pages: u64,
    order: IdOrder,
    asked: HashSet<String>,
}

impl Stream {
    fn new(url: Url, query: Query, range: (Option<i64>, Option<i64>), what: String) -> Self {
        Stream {
            what,
            unbounded_query: range.1.is_none(),
            query,
            range,
            asked: [url.as_str().to_string()].into(),
            next: Some(url),
            pages: 0,
            order: IdOrder::default(),
        }
    }
}

/// Lower-cased fragments of the `errors` of a 500 that says the request itself is wrong
/// (a bad username or integration code, an unknown field, a bad value, a refused cursor).
/// Autotask answers those with the same 500 as a passing fault, so the message decides:
/// sending the same request again cannot help, and each try counts against the tenant's
/// hourly threshold.
const INVALID_REQUEST_HINTS: &[&str] = &[
    "username",
    "user name",
    "integrationcode",
    "integration code",
    "credential",
    "unauthorized",
    "not authorized",
    "permission",
    "locked",
    "invalid",
    "not valid",
    "required",
    "unable to find",
    "unable to convert",
    "unable to parse",
    "must be",
    "could not be determined",
    "does not belong",
    "does not exist",
];

/// The retry rule of the Autotask API: 429 and 5xx, except a 500 whose `errors` say the
/// request is invalid (see [`INVALID_REQUEST_HINTS`]).
pub fn transient(status: StatusCode, body: &[u8]) -> bool {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return true;
    }
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        return !says_request_is_invalid(&String::from_utf8_lossy(body));
    }
    status.is_server_error()
}

fn says_request_is_invalid(body: &str) -> bool {
    error_messages(body).is_some_and(|m| {
        let m = m.to_lowercase();
        INVALID_REQUEST_HINTS.iter().any(|hint| m.contains(hint))
    })
}

/// The messages of an Autotask error body `{"errors": [...]}`, joined; elements may be
/// strings or objects (docs/apis.md §3.6). None when the body has no such list.
pub fn error_messages(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    let errors = v
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("errors"))?
        .1
        .as_array()?;
    let messages: Vec<String> = errors
        .iter()
        .map(|e| match e {
            Value::String(s) => s.clone(),
            Value::Object(o) => o
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string()),
            other => other.to_string(),
        })
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

/// `GET V1.0/ThresholdInformation` (docs/apis.md §3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ThresholdInfo {
    /// Requests allowed per timeframe (10,000), shared by every integration of the tenant.
    #[serde(
        rename = "externalRequestThreshold",
        alias = "ExternalRequestThreshold"
    )]
    pub limit: u64,
    /// Minutes (60).
    #[serde(
        rename = "requestThresholdTimeframe",
        alias = "RequestThresholdTimeframe",
        default
    )]
    pub timeframe_minutes: u64,
    /// Requests counted in the current timeframe, this call included.
    #[serde(
        rename = "currentTimeframeRequestCount",
        alias = "CurrentTimeframeRequestCount"
    )]
    pub used: u64,
}

impl ThresholdInfo {
    /// The share of the threshold used, in percent.
    pub fn percent_used(&self) -> f64 {
        if self.limit == 0 {
            100.0
        } else {
            self.used as f64 * 100.0 / self.limit as f64
        }
    }
}

#[derive(Deserialize)]
struct PageBody<T> {
    #[serde(alias = "Items")]
    items: Page<T, MAX_PAGE>,
    #[serde(rename = "pageDetails", alias = "PageDetails")]
    page_details: PageDetails,
}

#[derive(Deserialize)]
struct PageDetails {
    #[serde(default, alias = "Count")]
    count: Option<u64>,
    #[serde(rename = "nextPageUrl", alias = "NextPageUrl", default)]
    next_page_url: Option<String>,
}

#[derive(Deserialize)]
struct CountBody {
    #[serde(rename = "queryCount", alias = "QueryCount")]
    query_count: u64,
}

#[derive(Deserialize)]
struct ZoneInformation {
    #[serde(alias = "Url", alias = "URL")]
    url: String,
}

/// Where the zone URL came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZoneOrigin {
    Setting,
    Discovered,
}

/// One Autotask API user on one zone. A read runs as at most [`READ_STREAMS`] concurrent
/// requests (the API allows 3 threads per endpoint per integration, docs/apis.md §3.7); every
/// request counts against the tenant's hourly threshold.
pub struct AutotaskClient {
    api: ApiClient,
    /// `ApiIntegrationCode`, `UserName`, `Secret` (secret values marked sensitive).
    auth: HeaderMap,
    username: String,
    discovery_url: Url,
    /// The zone URL (ends in `/`): set, or discovered once and kept for the run.
    zone: Option<(Url, ZoneOrigin)>,
    /// Whether an authenticated call has succeeded. Until one has, a 500 carrying
    /// `errors` means a wrong username or integration code (docs/apis.md §3.2).
    verified: AtomicBool,
    /// `AUTOTASK_READ_STREAMS`, at most [`READ_STREAMS`].
    read_streams: usize,
}

impl AutotaskClient {
    pub fn new(settings: &AutotaskSettings, http: &HttpSettings) -> Result<Self> {
        let mut auth = HeaderMap::new();
        for (name, value, variable) in [
            (
                "apiintegrationcode",
                settings.integration_code.expose(),
                "AUTOTASK_INTEGRATION_CODE",
            ),
            ("username", settings.username.as_str(), "AUTOTASK_USERNAME"),
            ("secret", settings.secret.expose(), "AUTOTASK_SECRET"),
        ] {
            let (k, v) = header(name, value).map_err(|_| {
                Error::setting(
                    variable,
                    "holds characters that cannot be sent in an HTTP header; paste it again exactly as Autotask shows it",
                )
            })?;
            auth.insert(k, v);
        }
        auth.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut defaults = HeaderMap::new();
        defaults.insert(ACCEPT, HeaderValue::from_static("application/json"));
        Ok(Self {
            api: ApiClient::new(Side::Autotask, http, defaults)?.with_transient_check(transient),
            auth,
            username: settings.username.clone(),
            discovery_url: settings.discovery_url.clone(),
            zone: settings.base_url.clone().map(|u| (u, ZoneOrigin::Setting)),
            verified: AtomicBool::new(false),
            read_streams: settings.read_streams.clamp(1, READ_STREAMS),
        })
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    /// Requests sent so far (zone discovery included), retries included.
    pub fn request_count(&self) -> u64 {
        self.api.request_count()
    }

    /// The zone URL, discovered on first use when `AUTOTASK_BASE_URL` is unset.
    pub async fn zone(&mut self) -> Result<Url> {
        if let Some((url, _)) = &self.zone {
            return Ok(url.clone());
        }
        let url = self.discover_zone().await?;
        tracing::info!("Autotask zone of {}: {url}", self.username);
        self.zone = Some((url.clone(), ZoneOrigin::Discovered));
        Ok(url)
    }

    /// `GET <discovery>V1.0/zoneInformation?user=<username>` (docs/apis.md §3.1). Sent without
    /// credentials: the call needs none, and the discovery host is not the zone.
    async fn discover_zone(&self) -> Result<Url> {
        let mut url = self
            .discovery_url
            .join("V1.0/zoneInformation")
            .map_err(|e| {
                Error::setting(
                    "AUTOTASK_DISCOVERY_URL",
                    format!("cannot build the zone discovery URL ({e})"),
                )
            })?;
        url.query_pairs_mut().append_pair("user", &self.username);
        let resp = match self.api.send(Request::get(url)).await {
            Ok(resp) => resp,
            Err(e) => {
                let unknown_user = match e.status() {
                    Some(s) if s.is_client_error() => true,
                    Some(StatusCode::INTERNAL_SERVER_ERROR) => {
                        matches!(&e, HttpError::Status { body, .. } if error_messages(body).is_some())
                    }
                    _ => false,
                };
                if unknown_user {
                    return Err(Error::Auth {
                        side: Side::Autotask,
                        detail: format!(
                            "zone discovery at {} knows no API user '{}': {}",
                            self.discovery_url,
                            self.username,
                            e.describe()
                        ),
                        hint: "check AUTOTASK_USERNAME: it must be the username of the API user \
                               (an e-mail address, e.g. api@example.com); or set AUTOTASK_BASE_URL \
                               to your zone URL, e.g. https://webservices5.autotask.net/ATServicesRest/"
                            .into(),
                    });
                }
                return Err(Error::api(
                    Side::Autotask,
                    format!(
                        "zone discovery at {} failed: {}; set AUTOTASK_BASE_URL to your zone URL to skip it",
                        self.discovery_url,
                        e.describe()
                    ),
                ));
            }
        };
        let zone: ZoneInformation = decode("zone discovery (zoneInformation)", &resp)?;
        let mut url = Url::parse(zone.url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                Error::api(
                    Side::Autotask,
                    format!(
                        "zone discovery answered a zone URL that is not one: '{}'; set AUTOTASK_BASE_URL",
                        zone.url
                    ),
                )
            })?;
        // Every later request carries the credentials to this address: it obeys the same
        // rule as a configured one (https, or http on loopback only; no user info).
        origin::check_base(&url).map_err(|refusal| {
            Error::api(
                Side::Autotask,
                format!(
                    "zone discovery answered a zone URL that {refusal}; refusing to send the \
                     credentials there (set AUTOTASK_BASE_URL to your zone URL)"
                ),
            )
        })?;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(url)
    }

    /// `GET V1.0/ThresholdInformation`: the cheapest authenticated call, so it is the
    /// first of a run and doubles as the credential check.
    pub async fn threshold(&mut self) -> Result<ThresholdInfo> {
        let url = self.url("V1.0/ThresholdInformation").await?;
        let resp = self
            .send(
                "checking the API threshold (ThresholdInformation)",
                Request::get(url),
            )
            .await?;
        decode("ThresholdInformation", &resp)
    }

    /// `POST V1.0/{entity}/query/count` → `queryCount`.
    pub async fn count(&mut self, entity: &str, filter: Vec<Filter>) -> Result<u64> {
        let url = self.url(&format!("V1.0/{entity}/query/count")).await?;
        let body = Query::new(&["id"], filter);
        let req = Request::new(reqwest::Method::POST, url)
            .json(&body)
            .idempotent(true);
        let resp = self.send(&format!("counting {entity}"), req).await?;
        let count: CountBody = decode(&format!("{entity} count"), &resp)?;
        Ok(count.query_count)
    }

    /// Runs `query` on `entity` and hands each page to `on_page`, one page after the other.
    /// See [`AutotaskClient::query_split`].
    pub async fn query<T, F>(&mut self, entity: &str, query: &Query, on_page: F) -> Result<u64>
    where
        T: DeserializeOwned + HasId,
        F: FnMut(Vec<T>) -> Result<()>,
    {
        self.query_split(entity, query, None, on_page).await
    }

    /// Runs `query` on `entity` and hands each page to `on_page` as it arrives, so the caller
    /// folds as it goes. Follows `pageDetails.nextPageUrl` as an opaque URL with the same
    /// method (POST) and body until it is null (docs/apis.md §3.4). Any page that fails after
    /// its retries fails the whole read. Returns the pages read.
    ///
    /// With `expected` (the server's count of what the query selects), the rest of the read
    /// after the first page runs as up to `AUTOTASK_READ_STREAMS` (at most [`READ_STREAMS`])
    /// concurrent streams over disjoint
    /// id ranges ([`crate::sources::split`]): Autotask allows 3 requests in flight per entity
    /// (docs/apis.md §3.7). Each stream checks that its ids strictly increase and stay inside
    /// its range, so a server that ignored a range filter cannot make rows count twice.
    pub async fn query_split<T, F>(
        &mut self,
        entity: &str,
        query: &Query,
        expected: Option<u64>,
        on_page: F,
    ) -> Result<u64>
    where
        T: DeserializeOwned + HasId,
        F: FnMut(Vec<T>) -> Result<()>,
    {
        let zone = self.zone().await?;
        let url = self.url(&format!("V1.0/{entity}/query")).await?;
        let on_page = RefCell::new(on_page);
        let this = &*self;
        let what = format!("reading {entity}");
        let mut first = Stream::new(url.clone(), query.clone(), (None, None), what.clone());
        let Some(page) = this.step(&zone, entity, &mut first, &on_page).await? else {
            return Ok(first.pages);
        };
        let split = match expected {
            Some(expected) if first.next.is_some() => split::plan(
                page,
                expected,
                u64::from(super::query::MAX_RECORDS),
                self.read_streams,
            ),
            _ => Split { bounds: Vec::new() },
        };
        let mut streams = vec![first];
        streams[0].range.1 = split.range(0).1;
        for k in 1..split.streams() {
            let range = split.range(k);
            let mut filter = query.filter.clone();
            if let Some(low) = range.0 {
                filter.push(Filter::gte("id", low));
            }
            if let Some(high) = range.1 {
                filter.push(Filter::lt("id", high));
            }
            let q = Query {
                filter,
                ..query.clone()
            };
            streams.push(Stream::new(
                url.clone(),
                q,
                range,
                format!("{what} (id range {} of {})", k + 1, split.streams()),
            ));
        }
        if split.streams() > 1 {
            tracing::debug!(
                "{what}: {} concurrent id ranges from {:?}",
                split.streams(),
                split.bounds
            );
        }
        let runs = streams.iter_mut().map(|stream| async {
            while stream.next.is_some() {
                this.step(&zone, entity, stream, &on_page).await?;
            }
            Ok::<u64, Error>(stream.pages)
        });
        let pages = futures_util::future::try_join_all(runs).await?;
        Ok(pages.iter().sum())
    }

    /// Reads the stream's next page, checks it and folds its rows in range. Returns what the
    /// page held (None for an empty page, which ends the stream).
    async fn step<T, F>(
        &self,
        zone: &Url,
        entity: &str,
        stream: &mut Stream,
        on_page: &RefCell<F>,
    ) -> Result<Option<FirstPage>>
    where
        T: DeserializeOwned + HasId,
        F: FnMut(Vec<T>) -> Result<()>,
    {
        let Some(url) = stream.next.take() else {
            return Ok(None);
        };
        let what = &stream.what;
        let n = stream.pages + 1;
        let req = Request::new(reqwest::Method::POST, url.clone())
            .json(&stream.query)
            .idempotent(true);
        let resp = self.send(&format!("{what} (page {n})"), req).await?;
        let page: PageBody<T> = decode(&format!("{entity} page {n}"), &resp)?;
        let mut items = page.items.0;
        stream.pages = n;
        if let Some(count) = page.page_details.count
            && count != items.len() as u64
        {
            return Err(Error::api(
                Side::Autotask,
                format!(
                    "{what}: page {n} says it holds {count} items but carries {}; not trusting a partial read",
                    items.len()
                ),
            ));
        }
        // Keyset paging over id (docs/apis.md §3.4): ids strictly increase along a stream,
        // and stay inside its range.
        let (low, high) = stream.range;
        for item in &items {
            let id = item.id();
            stream.order.check(id).map_err(|problem| {
                Error::api(Side::Autotask, format!("{what}: page {n}: {problem}"))
            })?;
            let below = low.is_some_and(|low| id < low);
            // The first stream started before its end was known: rows past it belong to
            // the next stream. Any other stream asked the server for its range.
            let beyond = high.is_some_and(|high| id >= high) && !stream.unbounded_query;
            if below || beyond {
                return Err(Error::api(
                    Side::Autotask,
                    format!(
                        "{what}: page {n} holds id {id}, outside the range asked for; the server \
                         ignored the id filter, not trusting the read"
                    ),
                ));
            }
        }
        let shape = match (items.first(), items.last()) {
            (Some(first), Some(last)) => Some(FirstPage {
                rows: items.len() as u64,
                first_id: first.id(),
                last_id: last.id(),
            }),
            _ => None,
        };
        let mut done = false;
        if let Some(high) = high {
            let before = items.len();
            items.retain(|item| item.id() < high);
            done = items.len() < before;
        }
        (on_page.borrow_mut())(items)?;
        let next = page
            .page_details
            .next_page_url
            .filter(|u| !u.trim().is_empty());
        let Some(next) = next.filter(|_| !done) else {
            return Ok(shape);
        };
        // Regression: empty pages that kept linking onwards looped forever, spending the
        // tenant's shared hourly threshold.
        if shape.is_none() {
            return Err(Error::api(
                Side::Autotask,
                format!(
                    "{what}: page {n} is empty but still links to a next one; stopping \
                     rather than following it forever"
                ),
            ));
        }
        // The next request carries the secret: it goes only to the zone's host, on the
        // zone's scheme and port (http::origin).
        let next = origin::next_page(zone, &url, &next).map_err(|refusal| {
            Error::api(
                Side::Autotask,
                format!("{what}: page {n} gave a next page URL that {refusal}; stopping the read"),
            )
        })?;
        if !stream.asked.insert(next.as_str().to_string()) {
            return Err(Error::api(
                Side::Autotask,
                format!(
                    "{what}: page {n} links to a page already read; stopping rather \
                     than counting it twice"
                ),
            ));
        }
        stream.next = Some(next);
        Ok(shape)
    }

    async fn url(&mut self, path: &str) -> Result<Url> {
        let zone = self.zone().await?;
        zone.join(path).map_err(|e| {
            Error::api(
                Side::Autotask,
                format!("cannot build the URL of {path} on the zone {zone} ({e})"),
            )
        })
    }

    /// Sends an authenticated request; classifies a failure.
    async fn send(&self, what: &str, mut req: Request) -> Result<Response> {
        for (k, v) in &self.auth {
            if !req.headers.contains_key(k) {
                req.headers.insert(k.clone(), v.clone());
            }
        }
        match self.api.send(req).await {
            Ok(resp) => {
                self.verified.store(true, Ordering::Relaxed);
                Ok(resp)
            }
            Err(e) => Err(self.classify(what, e)),
        }
    }

    /// Turns a failed request into the run's error. 401 is always an auth failure; on the
    /// first authenticated call of the run, so is a 403 and a 500 carrying `errors`
    /// (Autotask's answer to a wrong username or integration code, docs/apis.md §3.2).
    fn classify(&self, what: &str, e: HttpError) -> Error {
        let status = e.status();
        let refused = match status {
            Some(StatusCode::UNAUTHORIZED) => true,
            Some(StatusCode::FORBIDDEN) => !self.verified.load(Ordering::Relaxed),
            Some(StatusCode::INTERNAL_SERVER_ERROR) => {
                !self.verified.load(Ordering::Relaxed)
                    && matches!(&e, HttpError::Status { body, .. } if error_messages(body).is_some())
            }
            _ => false,
        };
        if refused {
            return Error::Auth {
                side: Side::Autotask,
                detail: format!("{} while {what}", e.describe()),
                hint: self.auth_hint(),
            };
        }
        if status == Some(StatusCode::TOO_MANY_REQUESTS) {
            return Error::api(
                Side::Autotask,
                format!(
                    "{what}: {}; the tenant's hourly request threshold (shared by all its integrations) \
                     may be used up, or another integration is using its threads; try again later",
                    e.describe()
                ),
            );
        }
        Error::api(Side::Autotask, format!("{what}: {}", e.describe()))
    }

    fn auth_hint(&self) -> String {
        let zone = match &self.zone {
            Some((url, ZoneOrigin::Discovered)) => {
                format!("the zone {url} was found by zone discovery for AUTOTASK_USERNAME")
            }
            Some((url, ZoneOrigin::Setting)) => format!(
                "the zone {url} comes from AUTOTASK_BASE_URL: it must be this user's zone \
                 (unset it to use zone discovery)"
            ),
            None => "the zone was not known yet".to_string(),
        };
        format!(
            "check AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE (the API user's \
             API Tracking Identifier); Autotask answers 401 to a wrong secret and 500 to a wrong \
             username or integration code; {zone}"
        )
    }
}

fn decode<T: DeserializeOwned>(what: &str, resp: &Response) -> Result<T> {
    resp.json::<T>()
        .map_err(|m| Error::api(Side::Autotask, format!("{what}: {m}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(messages: &str) -> Vec<u8> {
        format!(r#"{{"errors":[{messages}]}}"#).into_bytes()
    }

    #[test]
    fn passing_faults_are_retried_and_invalid_requests_are_not() {
        let e500 = StatusCode::INTERNAL_SERVER_ERROR;
        assert!(transient(StatusCode::TOO_MANY_REQUESTS, b""));
        assert!(transient(StatusCode::BAD_GATEWAY, b"<html>"));
        assert!(transient(StatusCode::SERVICE_UNAVAILABLE, b""));
        assert!(transient(e500, b""));
        assert!(transient(e500, b"<html>oops</html>"));
        assert!(transient(e500, &body(r#""An unexpected error occurred""#)));
        for invalid in [
            r#""IntegrationCode is invalid.""#,
            r#""The UserName is not a valid API user.""#,
            r#""Unable to find projectID in the TimeEntry Entity.""#,
            r#""maxCountOfRecordsToReturn must be between 1 and 500""#,
            r#""Zone information could not be determined""#,
            r#"{"message":"A filter is required"}"#,
        ] {
            assert!(!transient(e500, &body(invalid)), "{invalid}");
        }
        assert!(!transient(
            StatusCode::UNAUTHORIZED,
            &body(r#""Unauthorized""#)
        ));
        assert!(!transient(StatusCode::METHOD_NOT_ALLOWED, b""));
    }

    #[test]
    fn error_messages_accept_strings_and_objects() {
        assert_eq!(
            error_messages(r#"{"errors":["a","b"]}"#).as_deref(),
            Some("a; b")
        );
        assert_eq!(
            error_messages(r#"{"Errors":[{"message":"m","code":1}]}"#).as_deref(),
            Some("m")
        );
        assert_eq!(error_messages(r#"{"errors":[]}"#), None);
        assert_eq!(error_messages(r#"{"Message":"x"}"#), None);
        assert_eq!(error_messages("not json"), None);
    }

    #[test]
    fn threshold_reads_camel_and_pascal_case() {
        let camel: ThresholdInfo = serde_json::from_str(
            r#"{"externalRequestThreshold":10000,"requestThresholdTimeframe":60,"currentTimeframeRequestCount":2500}"#,
        )
        .unwrap();
        let pascal: ThresholdInfo = serde_json::from_str(
            r#"{"ExternalRequestThreshold":10000,"RequestThresholdTimeframe":60,"CurrentTimeframeRequestCount":2500}"#,
        )
        .unwrap();
        assert_eq!(camel, pascal);
        assert_eq!(camel.percent_used(), 25.0);
    }
}
