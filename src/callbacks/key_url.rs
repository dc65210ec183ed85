//! `Metadata.key_url`: whether it may be fetched, and the fetch (docs/apis.md §2.9).
//!
//! The URL arrives in the request, so whoever sends a callback chooses it. It is fetched
//! only when [`KeyUrlPolicy::check`] allows it:
//! - `https://`; `http://` only when the configured ConnectWise base is itself loopback http
//!   (the simulators);
//! - on the configured ConnectWise host, or its cloud twin (`api-na.myconnectwise.net` ↔
//!   `na.myconnectwise.net`, the hosts of `CW_SITE_HOSTS`), on the configured port;
//! - no `user:pass@`; no IP address unless it is loopback and so is the base;
//! - a `companyName` query parameter equal (ignoring case) to `CONNECTWISE_COMPANY_ID`, once:
//!   the cloud hosts are shared by every tenant, and another tenant's key URL on the same
//!   host would verify a body signed with *that* tenant's key.
//!
//! The fetch ([`KeyFetcher`]) goes through the shared HTTP layer (`ApiClient`): no redirect
//! is followed, no proxy is used, one try of at most 10 s, an answer of at most 64 KiB,
//! `clientId` sent (and no credentials), `{"signing_key": "…"}` expected. Keys are cached per
//! URL for 5 minutes, at most 64 of them; each key is registered with the scrubber.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use tokio::sync::Semaphore;
use url::{Host, Url};

use super::refusal::Refusal;
use crate::error::{Error, Side};
use crate::http::origin::{is_loopback, label};
use crate::http::{ApiClient, HttpError, HttpSettings, Proxies, Request, header};
use crate::secret::Secret;
use crate::sources::connectwise::config::CW_SITE_HOSTS;

/// One try of a key fetch may take this long (the whole answer included).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest key answer read.
pub const MAX_KEY_ANSWER: u64 = 64 * 1024;
/// How long a fetched key is reused for the same URL (keys rotate; URLs change with them).
pub const KEY_TTL: Duration = Duration::from_secs(300);
/// The most keys cached at once.
pub const KEY_CACHE_SIZE: usize = 64;
/// The path a key URL ends in (lower case).
const KEY_PATH: &str = "/system/callbackkey/index.rails";

/// How long a callback waits for a key fetch slot: well within ConnectWise's 5 s per try.
const PERMIT_WAIT: Duration = Duration::from_secs(2);

/// Key fetches in flight at once; a callback that cannot get one within [`PERMIT_WAIT`] is
/// answered 429 (ConnectWise tries it again).
const FETCHES_IN_FLIGHT: usize = 4;

/// Where key URLs may point, derived from the configured ConnectWise base URL.
#[derive(Debug, Clone)]
pub struct KeyUrlPolicy {
    /// Lowercase host names (or the loopback literal) a key URL may name.
    hosts: Vec<String>,
    port: Option<u16>,
    allow_http: bool,
    company_id: String,
    expected: String,
}

impl KeyUrlPolicy {
    /// `base` is `CONNECTWISE_BASE_URL` as resolved (already checked by `origin::check_base`),
    /// `company_id` is `CONNECTWISE_COMPANY_ID`.
    pub fn new(base: &Url, company_id: &str) -> Self {
        let host = base.host_str().unwrap_or_default().to_ascii_lowercase();
        let mut hosts = vec![host.clone()];
        if let Some(site) = host.strip_prefix("api-")
            && CW_SITE_HOSTS.contains(&site)
        {
            hosts.push(site.to_string());
        } else if CW_SITE_HOSTS.contains(&host.as_str()) {
            hosts.push(format!("api-{host}"));
        }
        Self {
            hosts,
            port: base.port_or_known_default(),
            allow_http: base.scheme() == "http" && is_loopback(base),
            company_id: company_id.to_string(),
            expected: label(base),
        }
    }

    /// The URL to fetch, or why not. Refusals name the key URL's origin, never its path or
    /// query.
    pub fn check(&self, key_url: &str) -> Result<Url, Refusal> {
        let refuse = |why: String| Err(Refusal::KeyUrl(why));
        let Ok(mut url) = Url::parse(key_url.trim()) else {
            return refuse("it is not an absolute URL".into());
        };
        let origin = label(&url);
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return refuse(format!(
                    "{origin} is plain http (allowed only for a loopback ConnectWise base)"
                ));
            }
            _ => return refuse("it is not an https URL".into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("it holds a user name or password".into());
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(Host::Domain(_)) => None,
            None => return refuse("it has no host".into()),
        };
        if ip.is_some_and(|ip| !(ip.is_loopback() && self.allow_http)) {
            return refuse(format!("{origin} is an IP address"));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if !self.hosts.contains(&host) {
            return refuse(format!(
                "{origin} is not the ConnectWise host ({})",
                self.expected
            ));
        }
        if url.port_or_known_default() != self.port {
            return refuse(format!("{origin} is not on the ConnectWise port"));
        }
        // Only the key page (docs/apis.md §2.9: `…//system/callbackkey/index.rails`): any other
        // page of the host (a document download, say) must not be able to name the key.
        if !url.path().to_ascii_lowercase().ends_with(KEY_PATH) {
            return refuse(format!(
                "{origin}: its path is not ConnectWise's callback key page"
            ));
        }
        let companies: Vec<_> = url
            .query_pairs()
            .filter(|(k, _)| k.eq_ignore_ascii_case("companyName"))
            .map(|(_, v)| v.into_owned())
            .collect();
        if companies.len() != 1 || !companies[0].eq_ignore_ascii_case(&self.company_id) {
            return refuse(
                "its companyName is not CONNECTWISE_COMPANY_ID (another tenant's key, or none)"
                    .into(),
            );
        }
        url.set_fragment(None);
        Ok(url)
    }
}

/// Signing keys by key URL, for [`KEY_TTL`], at most [`KEY_CACHE_SIZE`] (pure: the caller
/// passes the time).
pub struct KeyCache {
    ttl: Duration,
    capacity: usize,
    entries: HashMap<String, (Instant, Secret)>,
}

impl KeyCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: HashMap::new(),
        }
    }

    pub fn get(&self, now: Instant, url: &str) -> Option<Secret> {
        self.entries
            .get(url)
            .filter(|(at, _)| now.saturating_duration_since(*at) < self.ttl)
            .map(|(_, key)| key.clone())
    }

    pub fn put(&mut self, now: Instant, url: &str, key: Secret) {
        let ttl = self.ttl;
        self.entries
            .retain(|_, (at, _)| now.saturating_duration_since(*at) < ttl);
        if self.entries.len() >= self.capacity && !self.entries.contains_key(url) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.entries.remove(&k);
            }
        }
        self.entries.insert(url.to_string(), (now, key));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Fetches signing keys from URLs [`KeyUrlPolicy::check`] allowed, with a cache.
pub struct KeyFetcher {
    client: ApiClient,
    cache: Mutex<KeyCache>,
    in_flight: Semaphore,
}

#[derive(serde::Deserialize)]
struct KeyAnswer {
    signing_key: String,
}

impl KeyFetcher {
    /// `client_id` is `CONNECTWISE_CLIENT_ID`, sent as `clientId` (key URLs need no auth).
    pub fn new(client_id: &str) -> Result<Self, Error> {
        let settings = HttpSettings {
            timeout: FETCH_TIMEOUT,
            max_retries: 0,
            max_body_bytes: MAX_KEY_ANSWER,
            proxies: Proxies::default(),
            ..HttpSettings::default()
        };
        let mut headers = HeaderMap::new();
        let (k, v) = header("clientid", client_id)
            .map_err(|problem| Error::setting("CONNECTWISE_CLIENT_ID", problem))?;
        headers.insert(k, v);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        Ok(Self {
            client: ApiClient::new(Side::ConnectWise, &settings, headers)?,
            cache: Mutex::new(KeyCache::new(KEY_TTL, KEY_CACHE_SIZE)),
            in_flight: Semaphore::new(FETCHES_IN_FLIGHT),
        })
    }

    /// The signing key `url` answers (cached). `url` must have passed the policy.
    pub async fn signing_key(&self, url: &Url) -> Result<Secret, Refusal> {
        if let Some(key) = self.lock().get(Instant::now(), url.as_str()) {
            return Ok(key);
        }
        // A burst after start-up or a key rotation waits for the fetch already under way
        // (then finds the key cached) rather than fetching the same URL again.
        let Ok(Ok(_permit)) = tokio::time::timeout(PERMIT_WAIT, self.in_flight.acquire()).await
        else {
            return Err(Refusal::KeyUnavailable(
                "too many key fetches at once".into(),
            ));
        };
        if let Some(key) = self.lock().get(Instant::now(), url.as_str()) {
            return Ok(key);
        }
        let origin = label(url);
        let resp = self
            .client
            .send(Request::get(url.clone()))
            .await
            .map_err(|e| match e {
                HttpError::Redirect { status, .. } => Refusal::KeyUrl(format!(
                    "{origin} answered a redirect (HTTP {}), never followed",
                    status.as_u16()
                )),
                HttpError::TooLarge { limit } => {
                    Refusal::KeyUrl(format!("{origin} answered more than {} KiB", limit / 1024))
                }
                HttpError::Status { status, .. } if status.is_client_error() => {
                    Refusal::KeyUrl(format!("{origin} answered HTTP {}", status.as_u16()))
                }
                HttpError::Status { status, .. } => {
                    Refusal::KeyUnavailable(format!("{origin} answered HTTP {}", status.as_u16()))
                }
                HttpError::Transport { detail, .. } => Refusal::KeyUnavailable(detail),
            })?;
        let key = serde_json::from_slice::<KeyAnswer>(&resp.body)
            .ok()
            .map(|a| a.signing_key)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Refusal::KeyUrl(format!("{origin} did not answer a signing_key")))?;
        crate::http::redact::register(&key);
        let key = Secret::new(key);
        self.lock().put(Instant::now(), url.as_str(), key.clone());
        Ok(key)
    }

    /// Key fetches sent so far.
    pub fn request_count(&self) -> u64 {
        self.client.request_count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, KeyCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base: &str) -> KeyUrlPolicy {
        KeyUrlPolicy::new(&base.parse().unwrap(), "mymsp")
    }

    const PATH: &str = "/v2025_1//system/callbackkey/index.rails?companyName=mymsp&id=4b1e";

    fn refused(p: &KeyUrlPolicy, url: &str) -> String {
        match p.check(url) {
            Err(Refusal::KeyUrl(why)) => why,
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_configured_host_and_its_twin_are_allowed() {
        let p = policy("https://api-na.myconnectwise.net");
        for ok in [
            format!("https://na.myconnectwise.net{PATH}"),
            format!("https://api-na.myconnectwise.net{PATH}"),
            format!("https://NA.MyConnectWise.net:443{PATH}"),
            "https://na.myconnectwise.net/v2025_1//System/CallbackKey/index.rails?COMPANYNAME=MyMsp&id=1".to_string(),
        ] {
            assert!(p.check(&ok).is_ok(), "{ok}");
        }
        // And the other way round, from a site host base.
        let p = policy("https://eu.myconnectwise.net");
        assert!(
            p.check(&format!("https://api-eu.myconnectwise.net{PATH}"))
                .is_ok()
        );
        // An on-premises host has no twin.
        let p = policy("https://cw.msp.example");
        assert!(p.check(&format!("https://cw.msp.example{PATH}")).is_ok());
        assert!(
            p.check(&format!("https://api-cw.msp.example{PATH}"))
                .is_err()
        );
    }

    #[test]
    fn other_hosts_ports_schemes_and_addresses_are_refused() {
        let p = policy("https://api-na.myconnectwise.net");
        let why = refused(&p, &format!("https://eu.myconnectwise.net{PATH}"));
        assert!(why.contains("https://eu.myconnectwise.net"), "{why}");
        assert!(
            !why.contains("callbackkey") && !why.contains("4b1e"),
            "{why}"
        );
        for bad in [
            format!("https://evil.example{PATH}"),
            format!("https://na.myconnectwise.net.evil.example{PATH}"),
            format!("https://api-api-na.myconnectwise.net{PATH}"),
            format!("http://na.myconnectwise.net{PATH}"),
            format!("https://na.myconnectwise.net:8443{PATH}"),
            format!("https://u:p@na.myconnectwise.net{PATH}"),
            format!("https://u@na.myconnectwise.net{PATH}"),
            format!("https://127.0.0.1{PATH}"),
            format!("https://10.1.2.3{PATH}"),
            format!("https://[::1]{PATH}"),
            format!("ftp://na.myconnectwise.net{PATH}"),
            "/relative/path?companyName=mymsp".to_string(),
            "not a url".to_string(),
        ] {
            refused(&p, &bad);
        }
    }

    #[test]
    fn a_page_other_than_the_key_page_is_refused() {
        let p = KeyUrlPolicy::new(
            &"https://api-na.myconnectwise.net".parse().unwrap(),
            "mymsp",
        );
        for other in [
            "https://na.myconnectwise.net/v2025_1/documents/download?companyName=mymsp&id=1",
            "https://na.myconnectwise.net/system/callbackkey/index.rails.evil?companyName=mymsp",
            "https://na.myconnectwise.net/?companyName=mymsp",
        ] {
            assert!(matches!(p.check(other), Err(Refusal::KeyUrl(_))), "{other}");
        }
    }

    #[test]
    fn another_tenants_key_url_is_refused() {
        let p = policy("https://api-na.myconnectwise.net");
        for bad in [
            "https://na.myconnectwise.net/v2025_1//system/callbackkey/index.rails?companyName=attacker&id=1",
            "https://na.myconnectwise.net/v2025_1//system/callbackkey/index.rails?id=1",
            "https://na.myconnectwise.net/v2025_1//system/callbackkey/index.rails?companyName=mymsp&companyName=attacker",
        ] {
            let why = refused(&p, bad);
            assert!(why.contains("companyName"), "{why}");
        }
    }

    #[test]
    fn plain_http_only_for_a_loopback_base() {
        let p = policy("http://127.0.0.1:8711");
        assert!(
            p.check(
                "http://127.0.0.1:8711/v2025_1//system/callbackkey/index.rails?companyName=mymsp"
            )
            .is_ok()
        );
        refused(
            &p,
            "http://127.0.0.1:8712/v2025_1//system/callbackkey/index.rails?companyName=mymsp",
        );
        refused(
            &p,
            "http://127.0.0.2:8711/v2025_1//system/callbackkey/index.rails?companyName=mymsp",
        );
        refused(
            &p,
            "http://localhost:8711/v2025_1//system/callbackkey/index.rails?companyName=mymsp",
        );
        let p = policy("http://localhost:8711");
        assert!(
            p.check(
                "http://LOCALHOST:8711/v2025_1//system/callbackkey/index.rails?companyName=mymsp"
            )
            .is_ok()
        );
        // An https base never allows http, even to its own host.
        let p = policy("https://cw.msp.example");
        refused(
            &p,
            "http://cw.msp.example/v2025_1//system/callbackkey/index.rails?companyName=mymsp",
        );
    }

    #[test]
    fn the_cache_expires_and_is_bounded() {
        let t0 = Instant::now();
        let mut c = KeyCache::new(Duration::from_secs(300), 3);
        c.put(t0, "a", Secret::new("ka"));
        assert_eq!(
            c.get(t0 + Duration::from_secs(299), "a"),
            Some(Secret::new("ka"))
        );
        assert_eq!(c.get(t0 + Duration::from_secs(300), "a"), None);
        for (i, u) in ["b", "c", "d", "e"].iter().enumerate() {
            c.put(t0 + Duration::from_secs(i as u64 + 1), u, Secret::new(*u));
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(t0 + Duration::from_secs(10), "a"), None);
        assert_eq!(
            c.get(t0 + Duration::from_secs(10), "b"),
            None,
            "the oldest went"
        );
        assert!(c.get(t0 + Duration::from_secs(10), "e").is_some());
    }

    mod fetch {
        use super::*;
        use axum::extract::RawQuery;
        use axum::http::{HeaderMap as AxHeaders, StatusCode};
        use axum::response::{IntoResponse, Response};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};

        const CLIENT_ID: &str = "0f7c3a52-1b2c-4d5e-8f90-123456789abc";

        /// A key server on loopback: `?id=` picks the answer. Returns its base URL and a
        /// counter of the requests it got.
        async fn server() -> (Url, Arc<AtomicUsize>) {
            let hits = Arc::new(AtomicUsize::new(0));
            let counter = hits.clone();
            let app =
                axum::Router::new().fallback(move |RawQuery(q): RawQuery, headers: AxHeaders| {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, Ordering::SeqCst);
                        if headers.get("clientid").and_then(|v| v.to_str().ok()) != Some(CLIENT_ID)
                        {
                            return (StatusCode::FORBIDDEN, "no clientId").into_response();
                        }
                        let q = q.unwrap_or_default();
                        let id = q
                            .split('&')
                            .find_map(|p| p.strip_prefix("id="))
                            .unwrap_or("");
                        answer(id)
                    }
                });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            (format!("http://{addr}").parse().unwrap(), hits)
        }

        fn answer(id: &str) -> Response {
            match id {
                "good" => {
                    axum::Json(serde_json::json!({"signing_key": "s3cret-key-1"})).into_response()
                }
                "redirect" => (
                    StatusCode::FOUND,
                    [("location", "https://evil.example/key")],
                    "",
                )
                    .into_response(),
                "big" => axum::Json(serde_json::json!({
                    "signing_key": "k",
                    "pad": "x".repeat(70 * 1024)
                }))
                .into_response(),
                "empty" => axum::Json(serde_json::json!({"signing_key": ""})).into_response(),
                "html" => "<html>hello</html>".into_response(),
                "down" => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }

        async fn fetch(id: &str) -> (Result<Secret, Refusal>, usize) {
            let (base, hits) = server().await;
            let p = KeyUrlPolicy::new(&base, "mymsp");
            let url = p
                .check(&format!(
                    "{base}v2025_1//system/callbackkey/index.rails?companyName=mymsp&id={id}"
                ))
                .unwrap();
            let f = KeyFetcher::new(CLIENT_ID).unwrap();
            let r = f.signing_key(&url).await;
            (r, hits.load(Ordering::SeqCst))
        }

        #[tokio::test]
        async fn a_key_is_fetched_with_client_id_and_cached() {
            let (base, hits) = server().await;
            let p = KeyUrlPolicy::new(&base, "mymsp");
            let url = p
                .check(&format!(
                    "{base}v2025_1//system/callbackkey/index.rails?companyName=mymsp&id=good"
                ))
                .unwrap();
            let f = KeyFetcher::new(CLIENT_ID).unwrap();
            assert_eq!(f.signing_key(&url).await.unwrap().expose(), "s3cret-key-1");
            assert_eq!(f.signing_key(&url).await.unwrap().expose(), "s3cret-key-1");
            assert_eq!(
                hits.load(Ordering::SeqCst),
                1,
                "the second came from the cache"
            );
        }

        #[tokio::test]
        async fn a_redirect_is_refused_and_not_followed() {
            let (r, hits) = fetch("redirect").await;
            match r {
                Err(Refusal::KeyUrl(why)) => assert!(why.contains("redirect"), "{why}"),
                other => panic!("{other:?}"),
            }
            assert_eq!(hits, 1);
        }

        #[tokio::test]
        async fn an_answer_over_64_kib_is_refused() {
            let (r, _) = fetch("big").await;
            match r {
                Err(Refusal::KeyUrl(why)) => assert!(why.contains("64 KiB"), "{why}"),
                other => panic!("{other:?}"),
            }
        }

        #[tokio::test]
        async fn answers_without_a_key_are_refused_and_outages_are_unavailable() {
            for id in ["empty", "html", "missing"] {
                assert!(matches!(fetch(id).await.0, Err(Refusal::KeyUrl(_))), "{id}");
            }
            let (r, hits) = fetch("down").await;
            assert!(matches!(r, Err(Refusal::KeyUnavailable(_))), "{r:?}");
            assert_eq!(hits, 1, "one try: ConnectWise waits 5 s for our answer");
        }
    }
}
