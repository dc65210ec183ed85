//! The one HTTP layer under every client.
//!
//! It owns what no client should write again: timeouts, a size cap on every answer,
//! retries of 429 / 5xx / connection errors (the decision is [`retry::decide`]), an
//! optional pacer that keeps a whole run under an API's request rate, a request counter per
//! API, the `User-Agent`, the refusal of every redirect, and logging in which secret headers
//! are always redacted. [`origin`] is the rule for where credentials may go; [`redact`]
//! scrubs secrets from anything printed that came from outside.

pub(crate) mod limits;
pub(crate) mod link;
pub(crate) mod origin;
pub mod redact;
pub(crate) mod retry;
pub(crate) mod settings;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Side};
use retry::{Decision, Failure, RetryPolicy};
pub use settings::{HttpSettings, Proxies};

/// Header names whose values are credentials (compared case-insensitively).
const SECRET_HEADERS: [&str; 5] = [
    "authorization",
    "gradient-token",
    "secret",
    "apiintegrationcode",
    "x_crewhu_apitoken",
];

pub const USER_AGENT: &str = concat!("synthesize-sync/", env!("CARGO_PKG_VERSION"));

/// Marks a header value as sensitive when its name is a secret header, so neither our
/// logs nor the HTTP stack's own debug output can print it.
pub fn header(name: &'static str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        format!("the value for header {name} has characters HTTP headers cannot carry")
    })?;
    if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        v.set_sensitive(true);
    }
    Ok((HeaderName::from_static(name), v))
}

/// Renders headers for a log line, secrets replaced by `[redacted]`.
pub fn redacted(headers: &HeaderMap) -> String {
    let mut parts: Vec<String> = headers
        .iter()
        .map(|(k, v)| {
            let shown = if v.is_sensitive() || SECRET_HEADERS.contains(&k.as_str()) {
                "[redacted]".to_string()
            } else {
                v.to_str().unwrap_or("<binary>").to_string()
            };
            format!("{k}: {shown}")
        })
        .collect();
    parts.sort();
    parts.join(", ")
}

/// Spaces requests so that a whole run stays under a rate (Gradient allows 100/s,
/// ConnectWise about 1,000 a minute): a generic cell rate, which lets up to `burst` requests
/// through at once after a quiet spell; over any span W it lets through at most
/// `burst + W ÷ interval` (ConnectWise: at most 620 in any minute).
pub struct Pacer {
    interval: Duration,
    /// How far behind "now" the next slot may fall: `(burst − 1) × interval`.
    slack: Duration,
    next: tokio::sync::Mutex<Instant>,
}

impl Pacer {
    pub fn per_second(rate: u32) -> Self {
        Self::new(limits::Pace {
            requests: rate.max(1),
            per: Duration::from_secs(1),
            burst: 1,
        })
    }

    pub fn new(pace: limits::Pace) -> Self {
        let interval = pace.per / pace.requests.max(1);
        let slack = interval * pace.burst.saturating_sub(1);
        // A new client has been quiet: its first burst goes at once.
        let now = Instant::now();
        Self {
            interval,
            slack,
            next: tokio::sync::Mutex::new(now.checked_sub(slack).unwrap_or(now)),
        }
    }

    /// Waits for the next free slot. Callers queue on the lock, so slots are taken in order.
    async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = Instant::now();
        let earliest = now.checked_sub(self.slack).unwrap_or(now);
        let slot = (*next).max(earliest);
        if slot > now {
            tokio::time::sleep_until(slot.into()).await;
        }
        *next = slot + self.interval;
    }
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    /// Whether sending it twice is harmless. A non-idempotent request is retried only when
    /// it surely did not reach the server (429, or a refused connection).
    pub idempotent: bool,
}

impl Request {
    pub fn new(method: Method, url: Url) -> Self {
        let idempotent = method != Method::POST;
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            idempotent,
        }
    }

    pub fn get(url: Url) -> Self {
        Self::new(Method::GET, url)
    }

    /// Adds a JSON body (and its content type).
    pub fn json(mut self, body: &impl serde::Serialize) -> Self {
        self.body = Some(serde_json::to_vec(body).expect("serialising a request body cannot fail"));
        self.headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self
    }

    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Declares that repeating this request is harmless (e.g. setting an absolute count,
    /// or a read that happens to be a POST).
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }
}

/// An answer with a 2xx status.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "could not understand the answer ({e}); it began: {}",
                excerpt(&self.body)
            )
        })
    }
}

/// A request that did not succeed, after its retries.
#[derive(Debug, Clone)]
pub enum HttpError {
    /// The server answered with a non-2xx status.
    Status {
        status: StatusCode,
        /// The body, cut to a readable length, secrets scrubbed, controls escaped.
        body: String,
        attempts: u32,
    },
    /// The server answered with a redirect, which is never followed: it could carry the
    /// credentials to another origin, or turn a write into a read that "succeeds".
    Redirect {
        status: StatusCode,
        /// The `Location`'s scheme, host and port (never its path or query).
        target: Option<String>,
    },
    /// The answer was larger than the cap.
    TooLarge { limit: u64 },
    /// No usable answer: connection refused, timeout, TLS failure, a cut-off body.
    Transport { detail: String, attempts: u32 },
}

impl HttpError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } | HttpError::Redirect { status, .. } => Some(*status),
            HttpError::TooLarge { .. } | HttpError::Transport { .. } => None,
        }
    }

    /// A few words for a retry log line.
    fn short(&self) -> String {
        match self {
            HttpError::Status { status, .. } => format!("HTTP {}", status.as_u16()),
            other => other.describe(),
        }
    }

    /// A sentence for an error message (never contains a header value).
    pub fn describe(&self) -> String {
        match self {
            HttpError::Status {
                status,
                body,
                attempts,
            } => {
                let tries = if *attempts > 1 {
                    format!(" after {attempts} tries")
                } else {
                    String::new()
                };
                if body.is_empty() {
                    format!("HTTP {status}{tries}")
                } else {
                    format!("HTTP {status}{tries}: {body}")
                }
            }
            HttpError::Redirect { status, target } => format!(
                "HTTP {} redirect to {}, refused: redirects are never followed (one could carry \
                 the credentials elsewhere or turn a write into a read); check the base URL \
                 setting, which must name the API host itself",
                status.as_u16(),
                target.as_deref().unwrap_or("an unreadable Location")
            ),
            HttpError::TooLarge { limit } => format!(
                "the answer is larger than {} MiB, refused (raise SYNC_MAX_RESPONSE_MB if a \
                 real page is that large)",
                limit / (1024 * 1024)
            ),
            HttpError::Transport { detail, attempts } => {
                if *attempts > 1 {
                    format!("{detail} (after {attempts} tries)")
                } else {
                    detail.clone()
                }
            }
        }
    }
}

/// Decides whether a failed status may be tried again. The default retries 429 and 5xx;
/// an API whose 500s also mean "bad request" passes its own.
pub type TransientCheck = fn(StatusCode, &[u8]) -> bool;

pub fn default_transient(status: StatusCode, _body: &[u8]) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// A client for one API: shared settings, its own request counter and optional pacer.
#[derive(Clone)]
pub struct ApiClient {
    side: Side,
    http: reqwest::Client,
    default_headers: HeaderMap,
    requests: Arc<AtomicU64>,
    settings: HttpSettings,
    pacer: Option<Arc<Pacer>>,
    transient: TransientCheck,
}

impl ApiClient {
    /// `default_headers` go on every request (auth included; mark secrets with [`header`]).
    /// The client never follows a redirect (see [`origin`]) and keeps the whole run under
    /// the API's rate ([`limits`]).
    pub fn new(
        side: Side,
        settings: &HttpSettings,
        default_headers: HeaderMap,
    ) -> Result<Self, Error> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false);
        for proxy in proxies(&settings.proxies) {
            builder = builder.proxy(proxy);
        }
        let http = builder
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(10).min(settings.timeout))
            .timeout(settings.timeout)
            .default_headers(default_headers.clone())
            .build()
            .map_err(|e| {
                Error::Local(format!(
                    "cannot set up the HTTP client for {side} ({})",
                    short(&e)
                ))
            })?;
        let pace = match side {
            Side::Synthesize => Some(limits::Pace {
                requests: settings.gradient_rate.clamp(1, limits::GRADIENT_MAX_RATE),
                ..limits::GRADIENT_PACE
            }),
            _ => limits::of(side).pace,
        };
        let pacer = pace.map(|pace| Arc::new(Pacer::new(pace)));
        Ok(Self {
            side,
            http,
            default_headers,
            requests: Arc::new(AtomicU64::new(0)),
            settings: settings.clone(),
            pacer,
            transient: default_transient,
        })
    }

    pub fn with_transient_check(mut self, check: TransientCheck) -> Self {
        self.transient = check;
        self
    }

    /// Every request sent so far, retries included.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.settings.max_retries,
            base_delay: self.settings.retry_base_delay,
            max_wait: self.settings.max_retry_wait,
        }
    }

    /// Sends `req`, retrying what may be retried (see [`retry::decide`]). Ok only for a 2xx
    /// answer; a 3xx is an error, never followed.
    pub async fn send(&self, req: Request) -> Result<Response, HttpError> {
        let mut attempts: u32 = 0;
        let mut waited = Duration::ZERO;
        loop {
            if let Some(p) = &self.pacer {
                p.wait().await;
            }
            attempts += 1;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let (failure, error) = match self.try_once(&req, attempts).await {
                Ok(resp) => return Ok(resp),
                Err(failed) => failed,
            };
            let path = log_target(&req.url);
            if crate::interrupt::requested().is_some() {
                // Interrupted: what is in flight ends now, it is not tried again.
                return Err(error);
            }
            match retry::decide(
                &self.policy(),
                attempts,
                waited,
                failure,
                req.idempotent,
                fastrand::f64(),
            ) {
                Decision::Retry(delay) => {
                    tracing::info!(
                        api = %self.side,
                        "{} {}: {}; retry {attempts} of {} in {} ms",
                        req.method,
                        path,
                        error.short(),
                        self.settings.max_retries,
                        delay.as_millis()
                    );
                    waited += delay;
                    tokio::time::sleep(delay).await;
                }
                Decision::GiveUp { over_budget } => {
                    if over_budget {
                        tracing::warn!(
                            api = %self.side,
                            "giving up on {} {}: waiting more would pass the retry budget of {} s",
                            req.method,
                            path,
                            self.settings.max_retry_wait.as_secs()
                        );
                    }
                    return Err(error);
                }
            }
        }
    }

    /// One try: the request, its answer read within the size cap, and what it came to.
    async fn try_once(
        &self,
        req: &Request,
        attempts: u32,
    ) -> Result<Response, (Failure, HttpError)> {
        let started = Instant::now();
        let path = log_target(&req.url);
        tracing::trace!(
            api = %self.side,
            "→ {} {} [{}]",
            req.method,
            path,
            redacted(&merge(&self.default_headers, &req.headers))
        );
        let mut builder = self
            .http
            .request(req.method.clone(), req.url.clone())
            .headers(req.headers.clone());
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let transport = |e: &reqwest::Error| {
            let failure = if e.is_connect() {
                Failure::Connect
            } else {
                Failure::Interrupted
            };
            let detail = if e.is_timeout() {
                format!("no answer within {} s", self.settings.timeout.as_secs())
            } else if e.is_connect() {
                format!(
                    "cannot connect to {} ({})",
                    origin::label(&req.url),
                    short(e)
                )
            } else {
                short(e)
            };
            (failure, HttpError::Transport { detail, attempts })
        };
        let mut resp = match builder.send().await {
            Ok(resp) => resp,
            Err(e) => {
                tracing::debug!(api = %self.side, "{} {} failed: {}", req.method, path, short(&e));
                return Err(transport(&e));
            }
        };
        let status = resp.status();
        if status.is_redirection() {
            let target = resp
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| req.url.join(l.trim()).ok())
                .map(|u| origin::label(&u));
            tracing::debug!(api = %self.side, "{} {} → {} (redirect refused)", req.method, path, status.as_u16());
            return Err((Failure::Refused, HttpError::Redirect { status, target }));
        }
        let headers = resp.headers().clone();
        let body = match read_capped(&mut resp, self.settings.max_body_bytes).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return Err((
                    Failure::Refused,
                    HttpError::TooLarge {
                        limit: self.settings.max_body_bytes,
                    },
                ));
            }
            Err(BodyError::Transport(e)) => {
                let (failure, _) = transport(&e);
                let detail = if e.is_timeout() {
                    format!(
                        "the answer did not arrive within {} s",
                        self.settings.timeout.as_secs()
                    )
                } else {
                    format!("the answer was cut off ({})", short(&e))
                };
                return Err((failure, HttpError::Transport { detail, attempts }));
            }
        };
        tracing::debug!(
            api = %self.side,
            "{} {} → {} in {} ms (try {attempts})",
            req.method,
            path,
            status.as_u16(),
            started.elapsed().as_millis()
        );
        if status.is_success() {
            return Ok(Response {
                status,
                headers,
                body,
            });
        }
        let retry_after = if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::SERVICE_UNAVAILABLE
        {
            retry_after(&headers)
        } else {
            None
        };
        let failure = Failure::Status {
            status,
            transient: (self.transient)(status, &body),
            retry_after,
        };
        Err((
            failure,
            HttpError::Status {
                status,
                body: excerpt(&body),
                attempts,
            },
        ))
    }
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads a body chunk by chunk, stopping as soon as it passes `cap` bytes: a hostile or
/// broken server cannot make us hold more than the cap (README "Tuning",
/// SYNC_MAX_RESPONSE_MB).
async fn read_capped(resp: &mut reqwest::Response, cap: u64) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(BodyError::TooLarge);
    }
    let hint = resp.content_length().unwrap_or(0).min(cap);
    let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The configured proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, honouring `NO_PROXY`).
/// Loopback is never proxied: the sandbox and the tests live there.
fn proxies(config: &Proxies) -> Vec<reqwest::Proxy> {
    let no_proxy = reqwest::NoProxy::from_string(&format!(
        "{},localhost,127.0.0.0/8,::1",
        config.no_proxy.as_deref().unwrap_or_default()
    ));
    let mut out = Vec::new();
    for (name, url) in [
        ("HTTPS_PROXY", &config.https),
        ("HTTP_PROXY", &config.http),
        ("ALL_PROXY", &config.all),
    ] {
        let Some(url) = url else { continue };
        let url = url.trim().to_string();
        let proxy = match name {
            "HTTPS_PROXY" => reqwest::Proxy::https(url),
            "HTTP_PROXY" => reqwest::Proxy::http(url),
            _ => reqwest::Proxy::all(url),
        };
        match proxy {
            Ok(p) => out.push(p.no_proxy(no_proxy.clone())),
            Err(_) => tracing::warn!("{name} is not a proxy URL; ignoring it"),
        }
    }
    out
}

/// Parses `Retry-After`: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn merge(a: &HeaderMap, b: &HeaderMap) -> HeaderMap {
    let mut m = a.clone();
    for (k, v) in b {
        m.insert(k.clone(), v.clone());
    }
    m
}

/// The path and query of a URL, for logs (never a credential: none travel in URLs).
fn log_target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{}", url.path(), q),
        None => url.path().to_string(),
    }
}

/// The most specific cause of a reqwest error ("Connection refused (os error 111)"),
/// without the URL reqwest repeats (we log the URL ourselves).
fn short(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(u) = e.url() {
        text = text.replace(&format!(" ({u})"), "").replace(u.as_str(), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}

/// A readable excerpt of a body: one line, at most 300 characters, secrets scrubbed (from
/// the whole body, decoded first: a server may echo a secret JSON- or HTML-escaped) and
/// control characters escaped (it may be printed on a terminal).
pub fn excerpt(body: &[u8]) -> String {
    // Only the start is read; when the body goes on, its last word may be a secret cut in
    // two, which the scrubber could not recognise: it is dropped.
    const SCAN: usize = 64 * 1024;
    let mut text = String::from_utf8_lossy(&body[..body.len().min(SCAN)]).into_owned();
    if body.len() > SCAN {
        let keep = text.rfind(char::is_whitespace).unwrap_or(0);
        text.truncate(keep);
    }
    let text = redact::scrub(&redact::decoded(&text));
    let mut line = String::new();
    for word in text.split_whitespace() {
        if line.len() > 4 * 300 {
            break;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    let line = crate::text::escape(&line).into_owned();
    if line.chars().count() > 300 {
        format!("{}…", line.chars().take(300).collect::<String>())
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_headers_are_redacted() {
        let mut h = HeaderMap::new();
        let (k, v) = header("authorization", "Basic c2VjcmV0").unwrap();
        h.insert(k, v);
        let (k, v) = header("clientid", "guid-1").unwrap();
        h.insert(k, v);
        h.insert("gradient-token", HeaderValue::from_static("abc"));
        let text = redacted(&h);
        assert!(!text.contains("c2VjcmV0"));
        assert!(!text.contains("abc"));
        assert!(text.contains("clientid: guid-1"));
        assert!(text.contains("authorization: [redacted]"));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let future = SystemTime::now() + Duration::from_secs(30);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(future)).unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(
            d <= Duration::from_secs(30) && d >= Duration::from_secs(28),
            "{d:?}"
        );
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn proxies_come_from_either_case_of_the_variables() {
        let config = Proxies {
            https: Some("http://proxy.example:3128".into()),
            http: Some("not a url at all".into()),
            ..Proxies::default()
        };
        assert_eq!(proxies(&config).len(), 1, "the bad one is ignored");
        assert!(proxies(&Proxies::default()).is_empty());
    }

    #[test]
    fn excerpt_is_one_short_line() {
        assert_eq!(excerpt(b"{\n  \"a\": 1\n}"), "{\"a\":1}");
        assert!(excerpt(&[b'x'; 1000]).chars().count() <= 301);
        assert_eq!(excerpt(b"a\x1b[2Jb"), "a\\x1b[2Jb");
        // A secret cut by the end of what is read is not shown in part.
        let mut body = vec![b' '; 64 * 1024 - 10];
        body.extend_from_slice(b"dmVuZG9ya2V5MDAwPj4/cGFydG5lcg== tail");
        assert_eq!(excerpt(&body), "");
    }
}
