//! A hostile HTTP server for security tests: a tampering reverse proxy placed between the tool
//! and a real simulator, and a [`Sink`] standing for an attacker's other origin.
//!
//! # The proxy
//!
//! ```ignore
//! let (hostile, proxy) = Hostile::start(&sim_server.base_url()).await;
//! hostile.add(Rule::on("GET", "/company/contacts", Action::EchoHeaders { status: 500, json: true }).nth(2));
//! // point CONNECTWISE_BASE_URL (or GRADIENT_BASE_URL, AUTOTASK_DISCOVERY_URL …) at proxy.base_url()
//! let seen: Vec<Seen> = hostile.requests();
//! ```
//!
//! - [`Hostile::start`]`(upstream) -> (Hostile, RunningServer)`: serves on `127.0.0.1:0` in
//!   front of `upstream` (`http://127.0.0.1:PORT`, no trailing slash). [`Hostile`] is a cheap
//!   `Clone` handle; dropping the [`RunningServer`] stops the proxy.
//! - [`Hostile::add`]`(Rule)`, [`Hostile::clear`]`()`: rules are checked in insertion order and
//!   the first one that applies answers. A [`Rule`] matches on an optional method (exact,
//!   case-insensitive) and a substring of the path and query; with [`Rule::nth`]`(n)` it only
//!   applies to the n-th (1-based) request matching its method and path. That count covers every
//!   matching request the proxy received since the rule was added, including those an earlier
//!   rule answered, so "the second `GET …/contacts`" means exactly that.
//! - [`Hostile::requests`]`() -> Vec<Seen>`: every request received, in arrival order, whether
//!   a rule answered it or it was forwarded (recorded before it is answered).
//! - [`Hostile::scratch`]`()` and [`Hostile::set_scratch`]: the per-proxy scratch store that
//!   [`Action::MapJson`] closures receive.
//!
//! Forwarding (no rule applies, or the action forwards first): same method, path and query,
//! headers (minus hop-by-hop ones, `host` and `content-length`; reqwest sets those) and body.
//! The upstream's status, headers (minus `content-length`, `transfer-encoding` and hop-by-hop
//! ones; axum sets those) and body come back. The upstream client follows no redirect and
//! ignores proxy environment variables. An unreachable upstream is answered 502.
//!
//! **Origin rewrite.** Like a real reverse proxy in front of an API, the proxy rewrites the
//! upstream's own address into its own wherever it appears in a forwarded answer: in every
//! response header value (ConnectWise's `Link`, a `Location`, …) and in the body (Autotask's
//! `pageDetails.nextPageUrl` and `zoneInformation.url`, ConnectWise `_info` hrefs and
//! `SiteUrl`). It is a plain byte replacement of the upstream authority `127.0.0.1:UPSTREAM`
//! with `127.0.0.1:PROXY` wherever the authority is not followed by another digit, so
//! `http://127.0.0.1:UPSTREAM`, a JSON-escaped `http:\/\/127.0.0.1:UPSTREAM` and a bare
//! `127.0.0.1:UPSTREAM` are all covered; the percent-encoded form `127.0.0.1%3AUPSTREAM` is
//! rewritten too. Answers made by a rule ([`Action::Redirect`], [`Action::EchoHeaders`], …)
//! are sent as given; [`Action::MapJson`] closures see the already-rewritten body.
//!
//! # Actions
//!
//! - [`Action::Redirect`]: `status` + `Location`, small HTML body; upstream not called.
//! - [`Action::EchoHeaders`]: reflects every request header as `name: value` lines, then a blank
//!   line, then the request body (lossily decoded as UTF-8); upstream not called. With
//!   `json: false` that text is the body (`text/plain`). With `json: true` the body is
//!   `{"message": TEXT, "errors": [TEXT]}` (`application/json`): both the ConnectWise/Gradient
//!   `message` shape and the Autotask `errors[]` shape, so whichever one the tool reads
//!   carries the reflected headers.
//! - [`Action::HugeBody`]: 200 `application/json`, exactly `bytes` bytes streamed in 64 KiB
//!   chunks, never held in memory at once; see [`json_filler`] for the content (a valid JSON
//!   array of `{"id":N,"pad":"xxx…"}` objects when sent in full). `declare_length` sets
//!   `Content-Length`. Upstream not called.
//! - [`Action::SlowBody`]: the same content, `total` bytes, sent `chunk` bytes at a time: the
//!   first chunk at once, then one every `every`. No `Content-Length`. Upstream not called.
//! - [`Action::MapJson`]: forwards, then rewrites the parsed JSON body with the closure
//!   `(path_and_query, body, scratch) -> body`; status and headers kept, length recomputed.
//!   A body that is not JSON is passed through untouched. Build one with [`Action::map_json`].
//! - [`Action::Respond`]: forwards (so the upstream's side effects happen), then discards the
//!   upstream answer and sends exactly `status`, `headers` and `body`.
//! - [`Action::Reply`]: the same answer without calling the upstream.
//!
//! # The sink
//!
//! [`Sink::start`]`(status, body) -> (Sink, RunningServer)` records every request (any method,
//! any path) and answers each with `status` and the JSON `body`; [`Sink::requests`] lists them.
//!
//! # Helpers
//!
//! [`pascal_case_keys`] upper-cases the first letter of every object key, recursively;
//! [`remove_key_everywhere`] drops a key from every object, recursively.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use synthesize_sims::{RunningServer, lock, loopback, serve};

/// The largest request body the proxy or the sink reads.
const MAX_REQUEST_BODY: usize = 64 * 1024 * 1024;
/// Chunk size for [`Action::HugeBody`].
const HUGE_CHUNK: usize = 64 * 1024;
/// Size of one `{"id":N,"pad":"…"},` record in generated bodies (the last one may be longer).
const RECORD: u64 = 1024;

/// One request as the proxy or the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    /// In arrival order; names are lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body, lossily decoded as UTF-8.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The whole request as text (method, uri, headers, body), for "does any of it contain
    /// the secret" checks.
    pub fn to_text(&self) -> String {
        let mut s = format!("{} {}\n", self.method, self.uri);
        for (n, v) in &self.headers {
            s.push_str(&format!("{n}: {v}\n"));
        }
        s.push('\n');
        s.push_str(&self.body_text());
        s
    }
}

/// The closure of [`Action::MapJson`]: `(path_and_query, body, scratch) -> new body`.
pub type JsonMap = Arc<dyn Fn(&str, Value, &mut Map<String, Value>) -> Value + Send + Sync>;

/// What the proxy does with a request a [`Rule`] applies to.
#[derive(Clone)]
pub enum Action {
    /// Answer `status` with `Location: location` and a small HTML body; the upstream is not
    /// called.
    Redirect { status: u16, location: String },
    /// Answer `status` with every request header as `name: value` lines, a blank line and the
    /// request body: `text/plain` when `json` is false, else
    /// `{"message": TEXT, "errors": [TEXT]}` as `application/json`. The upstream is not called.
    EchoHeaders { status: u16, json: bool },
    /// Answer 200 `application/json` with exactly `bytes` bytes, generated chunk by chunk
    /// (see [`json_filler`]); `Content-Length` is sent when `declare_length`. The upstream is
    /// not called.
    HugeBody { bytes: u64, declare_length: bool },
    /// Answer 200 `application/json` with `total` bytes of the same content, `chunk` bytes at a
    /// time, one chunk at once and then one every `every`. The upstream is not called.
    SlowBody {
        total: u64,
        chunk: usize,
        every: Duration,
    },
    /// Forward, then replace the JSON body with what the closure returns (status and headers
    /// kept, length recomputed). The closure gets the request's path and query, the body
    /// (origin already rewritten) and the proxy's scratch store.
    MapJson(JsonMap),
    /// Forward, then discard the upstream's answer and send exactly this one.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Send exactly this answer without calling the upstream.
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
}

impl Action {
    /// [`Action::MapJson`] from a closure.
    pub fn map_json(
        f: impl Fn(&str, Value, &mut Map<String, Value>) -> Value + Send + Sync + 'static,
    ) -> Self {
        Action::MapJson(Arc::new(f))
    }

    /// [`Action::Reply`] with a JSON body.
    pub fn reply_json(status: u16, body: Value) -> Self {
        Action::Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// [`Action::Respond`] with a JSON body.
    pub fn respond_json(status: u16, body: Value) -> Self {
        Action::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Redirect { status, location } => write!(f, "Redirect({status}, {location})"),
            Action::EchoHeaders { status, json } => write!(f, "EchoHeaders({status}, json={json})"),
            Action::HugeBody {
                bytes,
                declare_length,
            } => write!(f, "HugeBody({bytes}, declare_length={declare_length})"),
            Action::SlowBody {
                total,
                chunk,
                every,
            } => write!(f, "SlowBody({total}, {chunk} every {every:?})"),
            Action::MapJson(_) => write!(f, "MapJson(..)"),
            Action::Respond { status, .. } => write!(f, "Respond({status})"),
            Action::Reply { status, .. } => write!(f, "Reply({status})"),
        }
    }
}

/// When an [`Action`] applies.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The request method (any case); any method when `None`.
    pub method: Option<&'static str>,
    /// A substring of the request's path and query (`""` matches everything).
    pub path_contains: String,
    /// Only the n-th matching request (1-based) when Some; every one when None.
    pub nth: Option<usize>,
    pub action: Action,
}

impl Rule {
    /// Requests with this method whose path and query contain `path_contains`.
    pub fn on(method: &'static str, path_contains: &str, action: Action) -> Self {
        Self {
            method: Some(method),
            path_contains: path_contains.into(),
            nth: None,
            action,
        }
    }

    /// Requests of any method whose path and query contain `path_contains`.
    pub fn any(path_contains: &str, action: Action) -> Self {
        Self {
            method: None,
            path_contains: path_contains.into(),
            nth: None,
            action,
        }
    }

    /// Only the n-th (1-based) matching request.
    pub fn nth(mut self, n: usize) -> Self {
        self.nth = Some(n);
        self
    }

    fn matches(&self, method: &str, path_and_query: &str) -> bool {
        self.method.is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path_and_query.contains(&self.path_contains)
    }
}

struct Shared {
    upstream: String,
    /// `127.0.0.1:UPSTREAM`.
    upstream_authority: String,
    /// `127.0.0.1:PROXY`, set once the proxy listens.
    own_authority: OnceLock<String>,
    /// Each rule with the number of requests that matched its method and path so far.
    rules: Mutex<Vec<(Rule, usize)>>,
    seen: Mutex<Vec<Seen>>,
    scratch: Mutex<Map<String, Value>>,
    client: reqwest::Client,
}

/// A tampering reverse proxy: a cheap `Clone` handle over shared state.
#[derive(Clone)]
pub struct Hostile {
    shared: Arc<Shared>,
}

impl Hostile {
    /// A tampering proxy in front of `upstream` (e.g. `http://127.0.0.1:1234`, no trailing
    /// slash), serving on an ephemeral loopback port.
    pub async fn start(upstream: &str) -> (Hostile, RunningServer) {
        let upstream = upstream.trim_end_matches('/').to_string();
        let upstream_authority = authority_of(&upstream);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("build the proxy's upstream client");
        let hostile = Hostile {
            shared: Arc::new(Shared {
                upstream,
                upstream_authority,
                own_authority: OnceLock::new(),
                rules: Mutex::new(Vec::new()),
                seen: Mutex::new(Vec::new()),
                scratch: Mutex::new(Map::new()),
                client,
            }),
        };
        let router = Router::new().fallback(proxy).with_state(hostile.clone());
        let server = serve(router, loopback())
            .await
            .expect("start the hostile proxy");
        let _ = hostile.shared.own_authority.set(server.addr.to_string());
        (hostile, server)
    }

    /// Adds a rule after the existing ones (first applicable rule wins).
    pub fn add(&self, rule: Rule) {
        lock(&self.shared.rules).push((rule, 0));
    }

    /// Removes every rule: everything is forwarded again.
    pub fn clear(&self) {
        lock(&self.shared.rules).clear();
    }

    /// Every request the proxy received, in order (including those a rule answered).
    pub fn requests(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }

    /// The upstream this proxy forwards to.
    pub fn upstream(&self) -> &str {
        &self.shared.upstream
    }

    /// A copy of the scratch store [`Action::MapJson`] closures share.
    pub fn scratch(&self) -> Map<String, Value> {
        lock(&self.shared.scratch).clone()
    }

    /// Replaces the scratch store.
    pub fn set_scratch(&self, scratch: Map<String, Value>) {
        *lock(&self.shared.scratch) = scratch;
    }

    /// The action of the first applicable rule, counting the request against every rule whose
    /// method and path match.
    fn pick(&self, method: &str, path_and_query: &str) -> Option<Action> {
        let mut rules = lock(&self.shared.rules);
        let mut chosen = None;
        for (rule, count) in rules.iter_mut() {
            if !rule.matches(method, path_and_query) {
                continue;
            }
            *count += 1;
            if chosen.is_none() && rule.nth.is_none_or(|n| n == *count) {
                chosen = Some(rule.action.clone());
            }
        }
        chosen
    }

    fn rewrite(&self, bytes: &[u8]) -> Vec<u8> {
        let to = self
            .shared
            .own_authority
            .get()
            .map(String::as_str)
            .unwrap_or_default();
        rewrite_origin(bytes, &self.shared.upstream_authority, to)
    }
}

/// `http://host:port/x` → `host:port`.
fn authority_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// Replaces `from` by `to` wherever `from` is not followed by an ASCII digit (so port 1234
/// never matches inside port 12345), and likewise the `%3A`-encoded forms.
fn rewrite_origin(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    if from.is_empty() || to.is_empty() {
        return bytes.to_vec();
    }
    let mut out = replace_authority(bytes, from.as_bytes(), to.as_bytes());
    if from.contains(':') {
        for sep in ["%3A", "%3a"] {
            let f = from.replacen(':', sep, 1);
            let t = to.replacen(':', sep, 1);
            out = replace_authority(&out, f.as_bytes(), t.as_bytes());
        }
    }
    out
}

fn replace_authority(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from)
            && !hay.get(i + from.len()).is_some_and(|b| b.is_ascii_digit())
        {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// Request headers not forwarded upstream.
const DROP_REQUEST: [&str; 10] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Response headers not passed back.
const DROP_RESPONSE: [&str; 8] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
];

/// Reads a request into a [`Seen`].
async fn read_request(req: Request) -> Seen {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_REQUEST_BODY)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    Seen {
        method: parts.method.to_string(),
        uri: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    }
}

async fn proxy(State(hostile): State<Hostile>, req: Request) -> Response {
    let seen = read_request(req).await;
    lock(&hostile.shared.seen).push(seen.clone());
    match hostile.pick(&seen.method, &seen.uri) {
        None => forward(&hostile, &seen).await.into_response(&hostile),
        Some(Action::Redirect { status, location }) => redirect(status, &location),
        Some(Action::EchoHeaders { status, json }) => echo(status, json, &seen),
        Some(Action::HugeBody {
            bytes,
            declare_length,
        }) => huge_body(bytes, declare_length),
        Some(Action::SlowBody {
            total,
            chunk,
            every,
        }) => slow_body(total, chunk, every),
        Some(Action::MapJson(f)) => {
            let mut answer = forward(&hostile, &seen).await;
            let Upstream::Answer { body, .. } = &mut answer else {
                return answer.into_response(&hostile);
            };
            let rewritten = hostile.rewrite(body);
            let Ok(value) = serde_json::from_slice::<Value>(&rewritten) else {
                return answer.into_response(&hostile);
            };
            let mapped = {
                let mut scratch = lock(&hostile.shared.scratch);
                f(&seen.uri, value, &mut scratch)
            };
            // Already rewritten; the closure's output is sent as it is.
            answer.into_response_with_body(&hostile, mapped.to_string().into_bytes())
        }
        Some(Action::Respond {
            status,
            headers,
            body,
        }) => {
            let _ = forward(&hostile, &seen).await;
            fixed(status, &headers, body)
        }
        Some(Action::Reply {
            status,
            headers,
            body,
        }) => fixed(status, &headers, body),
    }
}

/// The upstream's answer, or why there is none.
enum Upstream {
    Answer {
        status: StatusCode,
        headers: HeaderMap,
        body: Vec<u8>,
    },
    Failed(String),
}

impl Upstream {
    /// The answer as the client sees it: headers and body with the origin rewritten.
    fn into_response(self, hostile: &Hostile) -> Response {
        match self {
            Upstream::Answer { ref body, .. } => {
                let body = hostile.rewrite(body);
                self.into_response_with_body(hostile, body)
            }
            Upstream::Failed(e) => (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, "text/plain")],
                format!("hostile proxy: upstream failed: {e}"),
            )
                .into_response(),
        }
    }

    /// The upstream's status and (rewritten) headers with `body` as the body.
    fn into_response_with_body(self, hostile: &Hostile, body: Vec<u8>) -> Response {
        let Upstream::Answer {
            status, headers, ..
        } = self
        else {
            return self.into_response(hostile);
        };
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = status;
        for (name, value) in &headers {
            if DROP_RESPONSE.contains(&name.as_str()) {
                continue;
            }
            let value = hostile.rewrite(value.as_bytes());
            if let Ok(v) = HeaderValue::from_bytes(&value) {
                resp.headers_mut().append(name.clone(), v);
            }
        }
        resp
    }
}

async fn forward(hostile: &Hostile, seen: &Seen) -> Upstream {
    let url = format!("{}{}", hostile.shared.upstream, seen.uri);
    let Ok(method) = reqwest::Method::from_bytes(seen.method.as_bytes()) else {
        return Upstream::Failed(format!("bad method {}", seen.method));
    };
    let mut headers = HeaderMap::new();
    for (name, value) in &seen.headers {
        if DROP_REQUEST.contains(&name.as_str()) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    let sent = hostile
        .shared
        .client
        .request(method, url)
        .headers(headers)
        .body(seen.body.clone())
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => return Upstream::Failed(e.to_string()),
    };
    let status = resp.status();
    let headers = resp.headers().clone();
    match resp.bytes().await {
        Ok(body) => Upstream::Answer {
            status,
            headers,
            body: body.to_vec(),
        },
        Err(e) => Upstream::Failed(e.to_string()),
    }
}

fn status_of(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn redirect(status: u16, location: &str) -> Response {
    let mut resp = Response::new(Body::from(format!(
        "<html><body>Moved: <a href=\"{location}\">here</a></body></html>"
    )));
    *resp.status_mut() = status_of(status);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn echo(status: u16, as_json: bool, seen: &Seen) -> Response {
    let mut text = String::new();
    for (n, v) in &seen.headers {
        text.push_str(&format!("{n}: {v}\n"));
    }
    text.push('\n');
    text.push_str(&seen.body_text());
    let (content_type, body) = if as_json {
        (
            "application/json; charset=utf-8",
            json!({ "message": text, "errors": [text] }).to_string(),
        )
    } else {
        ("text/plain; charset=utf-8", text)
    };
    (
        status_of(status),
        [(header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response()
}

fn fixed(status: u16, headers: &[(String, String)], body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status_of(status);
    for (n, v) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(n.to_ascii_lowercase().as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

fn json_200(body: Body, length: Option<u64>) -> Response {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Some(n) = length {
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(n));
    }
    resp
}

fn huge_body(bytes: u64, declare_length: bool) -> Response {
    let stream = futures_util::stream::unfold(json_filler(bytes), |mut filler| async move {
        let chunk = filler.next_chunk(HUGE_CHUNK)?;
        Some((Ok::<_, std::convert::Infallible>(chunk), filler))
    });
    json_200(Body::from_stream(stream), declare_length.then_some(bytes))
}

fn slow_body(total: u64, chunk: usize, every: Duration) -> Response {
    let state = (json_filler(total), true);
    let stream = futures_util::stream::unfold(state, move |(mut filler, first)| async move {
        if !first {
            tokio::time::sleep(every).await;
        }
        let bytes = filler.next_chunk(chunk.max(1))?;
        Some((Ok::<_, std::convert::Infallible>(bytes), (filler, false)))
    });
    json_200(Body::from_stream(stream), None)
}

/// A generator of exactly `total` bytes of JSON, produced on demand:
/// `[{"id":1,"pad":"xxx…"},{"id":2,"pad":"xxx…"},…]`, each record 1 KiB (the last one up to
/// 2 KiB) so the whole is a valid array when fully sent. Below 64 bytes it is `[` + spaces +
/// `]` (still valid JSON from 2 bytes up); 1 byte is `[`.
pub fn json_filler(total: u64) -> JsonFiller {
    JsonFiller {
        total,
        produced: 0,
        next_id: 1,
        pending: Vec::new(),
        pos: 0,
    }
}

/// See [`json_filler`].
pub struct JsonFiller {
    total: u64,
    /// Bytes generated into `pending` so far (sent or not).
    produced: u64,
    next_id: u64,
    pending: Vec<u8>,
    pos: usize,
}

impl JsonFiller {
    /// The next at most `max` bytes, `None` once all `total` bytes were given out.
    pub fn next_chunk(&mut self, max: usize) -> Option<Bytes> {
        while self.pending.len() - self.pos < max && self.produced < self.total {
            if self.pos > 0 {
                self.pending.drain(..self.pos);
                self.pos = 0;
            }
            self.generate();
        }
        let available = self.pending.len() - self.pos;
        if available == 0 {
            return None;
        }
        let n = available.min(max);
        let out = Bytes::copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Some(out)
    }

    /// Appends the next segment of the document to `pending`.
    fn generate(&mut self) {
        let total = self.total;
        if total < 64 {
            let mut s = Vec::with_capacity(total as usize);
            if total >= 1 {
                s.push(b'[');
            }
            if total >= 2 {
                s.resize(total as usize - 1, b' ');
                s.push(b']');
            }
            self.produced = total;
            self.pending.extend_from_slice(&s);
            return;
        }
        if self.produced == 0 {
            self.pending.push(b'[');
            self.produced = 1;
            return;
        }
        // Room left for records (the closing `]` excluded).
        let left = total - self.produced - 1;
        if left == 0 {
            self.pending.push(b']');
            self.produced = total;
            return;
        }
        // The last record takes everything left once less than two full records remain.
        let (len, last) = if left < 2 * RECORD {
            (left, true)
        } else {
            (RECORD, false)
        };
        let head = format!("{{\"id\":{},\"pad\":\"", self.next_id);
        let tail: &[u8] = if last { b"\"}" } else { b"\"}," };
        let pad = len as usize - head.len() - tail.len();
        self.pending.extend_from_slice(head.as_bytes());
        self.pending.resize(self.pending.len() + pad, b'x');
        self.pending.extend_from_slice(tail);
        self.produced += len;
        self.next_id += 1;
    }
}

struct SinkShared {
    status: u16,
    body: Value,
    seen: Mutex<Vec<Seen>>,
}

/// An attacker's origin: records every request and answers each with a fixed status and JSON
/// body.
#[derive(Clone)]
pub struct Sink {
    shared: Arc<SinkShared>,
}

impl Sink {
    /// Serves on an ephemeral loopback port; every request (any method, any path) is answered
    /// `status` with `body`.
    pub async fn start(status: u16, body: Value) -> (Sink, RunningServer) {
        let sink = Sink {
            shared: Arc::new(SinkShared {
                status,
                body,
                seen: Mutex::new(Vec::new()),
            }),
        };
        let router = Router::new().fallback(sink_answer).with_state(sink.clone());
        let server = serve(router, loopback()).await.expect("start the sink");
        (sink, server)
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }
}

async fn sink_answer(State(sink): State<Sink>, req: Request) -> Response {
    let seen = read_request(req).await;
    lock(&sink.shared.seen).push(seen);
    (
        status_of(sink.shared.status),
        [(header::CONTENT_TYPE, "application/json")],
        sink.shared.body.to_string(),
    )
        .into_response()
}

/// Upper-cases the first letter of every object key, recursively (`pageDetails` →
/// `PageDetails`): the same data as a case-insensitive server would happily send it.
pub fn pascal_case_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let mut chars = k.chars();
                    let key = match chars.next() {
                        Some(c) => c.to_uppercase().chain(chars).collect(),
                        None => String::new(),
                    };
                    (key, pascal_case_keys(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(pascal_case_keys).collect()),
        other => other,
    }
}

/// Removes `key` from every object, recursively.
pub fn remove_key_everywhere(v: Value, key: &str) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| k != key)
                .map(|(k, v)| (k, remove_key_everywhere(v, key)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|v| remove_key_everywhere(v, key))
                .collect(),
        ),
        other => other,
    }
}
