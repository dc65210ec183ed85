//! The ConnectWise PSA REST 3.0 client (docs/apis.md §2), on the shared HTTP layer.
//!
//! - The codebase comes from `CONNECTWISE_CODEBASE` or from `GET <base>/login/companyinfo/<id>`,
//!   which needs no credentials and so is sent by a client that carries none.
//! - Every API call carries `Authorization: Basic base64("company+public:private")` (marked
//!   sensitive) and `clientId`.
//! - Lists are read with forward-only paging, 1,000 rows a page, following the `Link`
//!   `rel="next"` URL until there is none; each page is handed to the caller before the next
//!   is asked for, so a read holds one page at a time.
//! - Failures are classified by what they mean to the user: refused credentials (exit 3),
//!   a bad request (ConnectWise's own message), anything else after retries (exit 1).

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::config::ConnectWiseSettings;
use crate::config::HttpSettings;
use crate::error::{Error, Result, Side};
use crate::http::link::{NextLink, next_link};
use crate::http::{ApiClient, HttpError, Request, Response, header, origin};
use crate::sources::field::{HasId, IdOrder, Page};
use crate::sources::split::{self, FirstPage};

const SIDE: Side = Side::ConnectWise;

/// The largest page ConnectWise serves (docs/apis.md §2.4); its default is only 25.
pub const PAGE_SIZE: usize = 1_000;

const CREDENTIAL_SETTINGS: &str = "check CONNECTWISE_COMPANY_ID, CONNECTWISE_PUBLIC_KEY and CONNECTWISE_PRIVATE_KEY \
     (an API member's keys: System > Members > API Members > API Keys)";

/// `GET /login/companyinfo/<id>` (docs/apis.md §2.1). Only what we use; PascalCase on the wire.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CompanyInfo {
    #[serde(rename = "CompanyName")]
    pub company_name: Option<String>,
    #[serde(rename = "Codebase")]
    pub codebase: Option<String>,
    #[serde(rename = "VersionCode")]
    pub version_code: Option<String>,
}

/// `GET /system/info` (docs/apis.md §2.1).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SystemInfo {
    pub version: Option<String>,
    pub is_cloud: Option<bool>,
}

/// A `/system/callbacks` entry (docs/apis.md §2.9): only what we use.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CallbackEntry {
    pub id: i64,
    pub url: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub level: String,
    pub object_id: i64,
    pub description: Option<String>,
    pub inactive_flag: bool,
}

impl HasId for CallbackEntry {
    fn id(&self) -> i64 {
        self.id
    }
}

/// The body of `POST /system/callbacks`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCallback {
    pub url: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub level: String,
    pub object_id: i64,
    pub description: String,
}

/// Where the codebase in use came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodebaseOrigin {
    Setting,
    Discovered,
}

/// A ConnectWise PSA site, as one API member sees it.
pub struct ConnectWiseClient {
    /// Carries the credentials: every `/apis/3.0/` call.
    api: ApiClient,
    /// Carries none: `companyinfo` needs no auth, so it is not sent any.
    login: ApiClient,
    site: Url,
    company_id: String,
    codebase: Option<(String, CodebaseOrigin)>,
    company_info: Option<CompanyInfo>,
    /// Whether an authenticated call has succeeded in this run. Until one has, a 404 means
    /// refused credentials: cloud ConnectWise answers wrong keys with 404 (docs/apis.md §2.6).
    authenticated: AtomicBool,
    /// Concurrent id ranges of one large read (`CONNECTWISE_READ_STREAMS`).
    read_streams: usize,
}

/// One stream of a read: its query, its id range, where it has got to.
struct Stream {
    what: String,
    /// `low <= id < high`; `None` is unbounded.
    range: (Option<i64>, Option<i64>),
    /// The stream's query has no upper bound (the first stream, started before the split was
    /// known): rows at or past `high` belong to the next stream and are dropped, not refused.
    unbounded_query: bool,
    next: Option<Url>,
    rows: u64,
    order: IdOrder,
    asked: HashSet<String>,
}

impl Stream {
    fn new(base: &Url, query: String, range: (Option<i64>, Option<i64>), what: String) -> Self {
        let mut url = base.clone();
        url.set_query(Some(&query));
        Stream {
            what,
            unbounded_query: range.1.is_none(),
            range,
            asked: [url.as_str().to_string()].into(),
            next: Some(url),
            rows: 0,
            order: IdOrder::default(),
        }
    }
}

impl ConnectWiseClient {
    pub fn new(settings: &ConnectWiseSettings, http: &HttpSettings) -> Result<Self> {
        let raw = format!(
            "{}+{}:{}",
            settings.company_id,
            settings.public_key.expose(),
            settings.private_key.expose()
        );
        crate::http::redact::register_token(&raw);
        let token = base64::engine::general_purpose::STANDARD.encode(raw);
        let mut auth_headers = HeaderMap::new();
        let (k, v) = header("authorization", &format!("Basic {token}"))
            .map_err(|problem| Error::setting("CONNECTWISE_PUBLIC_KEY", problem))?;
        auth_headers.insert(k, v);
        let (k, v) = header("clientid", &settings.client_id)
            .map_err(|problem| Error::setting("CONNECTWISE_CLIENT_ID", problem))?;
        auth_headers.insert(k, v);
        auth_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut login_headers = HeaderMap::new();
        login_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        Ok(Self {
            api: ApiClient::new(SIDE, http, auth_headers)?,
            login: ApiClient::new(SIDE, http, login_headers)?,
            site: settings.base_url.clone(),
            company_id: settings.company_id.clone(),
            codebase: settings
                .codebase
                .clone()
                .map(|c| (c, CodebaseOrigin::Setting)),
            company_info: None,
            authenticated: AtomicBool::new(false),
            read_streams: settings.read_streams,
        })
    }

    /// Requests sent so far (both clients), retries included.
    pub fn request_count(&self) -> u64 {
        self.api.request_count() + self.login.request_count()
    }

    pub fn company_id(&self) -> &str {
        &self.company_id
    }

    /// The site's base URL, for messages.
    pub fn site(&self) -> &Url {
        &self.site
    }

    /// `companyinfo`, when it has been read.
    pub fn company_info(&self) -> Option<&CompanyInfo> {
        self.company_info.as_ref()
    }

    /// `GET <base>/login/companyinfo/<company id>`, without credentials. An unknown company
    /// answers 200 with a JSON `null` (docs/apis.md §2.1): that is a wrong company id.
    pub async fn read_company_info(&mut self) -> Result<CompanyInfo> {
        let mut url = self.site.clone();
        url.path_segments_mut()
            .map_err(|()| Error::setting("CONNECTWISE_BASE_URL", "cannot hold a path"))?
            .pop_if_empty()
            .extend(["login", "companyinfo", &self.company_id]);
        let endpoint = format!("GET login/companyinfo/{}", self.company_id);
        let resp = self.login.send(Request::get(url)).await.map_err(|e| {
            let hint = match e.status() {
                Some(StatusCode::NOT_FOUND) => {
                    "; check CONNECTWISE_BASE_URL (the API host, e.g. https://api-na.myconnectwise.net), \
                     or set CONNECTWISE_CODEBASE to skip this lookup"
                }
                _ => "",
            };
            Error::api(SIDE, format!("{endpoint} failed: {}{hint}", e.describe()))
        })?;
        let info: Option<CompanyInfo> = resp
            .json()
            .map_err(|e| Error::api(SIDE, format!("{endpoint}: {e}")))?;
        let Some(info) = info else {
            return Err(Error::Auth {
                side: SIDE,
                detail: format!(
                    "companyinfo knows no company '{}' at {}",
                    self.company_id,
                    host_label(&self.site)
                ),
                hint: "check CONNECTWISE_COMPANY_ID (the company id typed on the ConnectWise \
                       login screen) and CONNECTWISE_BASE_URL"
                    .into(),
            });
        };
        self.company_info = Some(info.clone());
        Ok(info)
    }

    /// The codebase (`v2025_1/`), discovering it on first use when it is not set.
    pub async fn codebase(&mut self) -> Result<String> {
        if let Some((c, _)) = &self.codebase {
            return Ok(c.clone());
        }
        let info = self.read_company_info().await?;
        let endpoint = format!("GET login/companyinfo/{}", self.company_id);
        let raw = info.codebase.unwrap_or_default();
        let codebase = normalize_codebase(&raw).ok_or_else(|| {
            Error::api(
                SIDE,
                format!(
                    "{endpoint} gave the codebase '{raw}', which is not like v2025_1/; \
                     set CONNECTWISE_CODEBASE to the right one"
                ),
            )
        })?;
        tracing::debug!("ConnectWise codebase discovered: {codebase}");
        self.codebase = Some((codebase.clone(), CodebaseOrigin::Discovered));
        Ok(codebase)
    }

    /// `<base>/<codebase>apis/3.0/`.
    async fn api_base(&mut self) -> Result<Url> {
        let codebase = self.codebase().await?;
        self.site
            .join(&format!("{codebase}apis/3.0/"))
            .map_err(|e| Error::setting("CONNECTWISE_CODEBASE", format!("'{codebase}': {e}")))
    }

    /// `<base>/<codebase>apis/3.0/<path>`.
    async fn api_url(&mut self, path: &str) -> Result<Url> {
        self.api_base().await?.join(path).map_err(|e| {
            Error::setting(
                "CONNECTWISE_BASE_URL",
                format!("cannot build the URL of {path} on it ({e})"),
            )
        })
    }

    /// `GET /system/info`: one cheap authenticated call.
    pub async fn system_info(&mut self) -> Result<SystemInfo> {
        let url = self.api_url("system/info").await?;
        let endpoint = "GET system/info";
        let resp = self.send_api(Request::get(url), endpoint).await?;
        resp.json()
            .map_err(|e| Error::api(SIDE, format!("{endpoint}: {e}")))
    }

    /// Reads every row of the list at `path` (e.g. `company/contacts`) that the query
    /// selects, 1,000 a page, handing each page to `on_page` as it arrives. Any page that
    /// fails (after the HTTP layer's retries) fails the whole read.
    ///
    /// Forward-only pages come ordered by id (docs/apis.md §2.4), so ids must strictly increase
    /// along a read: a page that repeats or reorders earlier rows fails the read instead of
    /// counting them twice. When the first page is full, one `/count` of the same conditions
    /// tells how many rows remain, and the rest is read as up to `CONNECTWISE_READ_STREAMS`
    /// concurrent id ranges ([`crate::sources::split`]); each stream checks its ids stay
    /// inside its range, so a server that ignored the range conditions cannot make rows
    /// count twice.
    pub async fn for_each_page<T: DeserializeOwned + HasId>(
        &mut self,
        path: &str,
        query: &[(&str, &str)],
        on_page: impl FnMut(Vec<T>) -> Result<()>,
    ) -> Result<()> {
        self.api_base().await?;
        self.for_each_page_shared(path, query, on_page).await
    }

    /// The codebase, resolving it now if needed, so that [`Self::for_each_page_shared`] may
    /// be called concurrently through `&self`.
    pub(crate) async fn prepare(&mut self) -> Result<()> {
        self.api_base().await.map(|_| ())
    }

    /// `<base>/<codebase>apis/3.0/<path>` once the codebase is known ([`Self::prepare`]).
    fn api_url_ready(&self, path: &str) -> Result<Url> {
        let Some((codebase, _)) = &self.codebase else {
            return Err(Error::api(
                SIDE,
                format!("{path}: the codebase is not known yet (an internal ordering error)"),
            ));
        };
        self.site
            .join(&format!("{codebase}apis/3.0/"))
            .and_then(|base| base.join(path))
            .map_err(|e| {
                Error::setting(
                    "CONNECTWISE_BASE_URL",
                    format!("cannot build the URL of {path} on it ({e})"),
                )
            })
    }

    /// [`Self::for_each_page`] through `&self`, for concurrent reads (e.g. one agreement's
    /// additions each); the codebase must be known ([`Self::prepare`]).
    pub(crate) async fn for_each_page_shared<T: DeserializeOwned + HasId>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        on_page: impl FnMut(Vec<T>) -> Result<()>,
    ) -> Result<()> {
        let endpoint = format!("GET {path}");
        let url = self.api_url_ready(path)?;
        let count_url = self.api_url_ready(&format!("{path}/count"))?;
        let on_page = RefCell::new(on_page);
        let this = self;
        let page_size = PAGE_SIZE.to_string();
        let mut pairs: Vec<(&str, &str)> = query.to_vec();
        pairs.push(("pageSize", &page_size));
        let mut first = Stream::new(&url, encode_query(&pairs), (None, None), endpoint.clone());
        let Some(page) = this.step(&endpoint, &mut first, &on_page).await? else {
            return Ok(());
        };
        if first.next.is_none() || page.rows < PAGE_SIZE as u64 || self.read_streams < 2 {
            while first.next.is_some() {
                this.step(&endpoint, &mut first, &on_page).await?;
            }
            return Ok(());
        }
        let expected = this.count(&count_url, query, &endpoint).await?;
        let split = split::plan(page, expected, PAGE_SIZE as u64, self.read_streams);
        let mut streams = vec![first];
        streams[0].range.1 = split.range(0).1;
        for k in 1..split.streams() {
            let range = split.range(k);
            let mut bounds = Vec::new();
            if let Some(low) = range.0 {
                bounds.push(format!("id>={low}"));
            }
            if let Some(high) = range.1 {
                bounds.push(format!("id<{high}"));
            }
            let conditions = match query.iter().find(|(k, _)| *k == "conditions") {
                Some((_, c)) => format!("({c}) AND {}", bounds.join(" AND ")),
                None => bounds.join(" AND "),
            };
            let mut pairs: Vec<(&str, &str)> = query
                .iter()
                .filter(|(k, _)| *k != "conditions")
                .copied()
                .collect();
            pairs.push(("conditions", &conditions));
            pairs.push(("pageSize", &page_size));
            streams.push(Stream::new(
                &url,
                encode_query(&pairs),
                range,
                format!("{endpoint} (id range {} of {})", k + 1, split.streams()),
            ));
        }
        if split.streams() > 1 {
            tracing::debug!(
                "{endpoint}: {} concurrent id ranges from {:?}",
                split.streams(),
                split.bounds
            );
        }
        let runs = streams.iter_mut().map(|stream| async {
            while stream.next.is_some() {
                this.step(&endpoint, stream, &on_page).await?;
            }
            Ok::<u64, Error>(stream.rows)
        });
        let rows: u64 = futures_util::future::try_join_all(runs).await?.iter().sum();
        if rows != expected {
            // Rows added or removed while reading change the figure; a count is only taken to
            // split the read, the pages are what is counted.
            tracing::debug!(
                "{endpoint}: read {rows} rows, the count before the read said {expected}"
            );
        }
        Ok(())
    }

    /// `GET {path}/count` with the read's conditions → `count` (docs/apis.md §2.5).
    async fn count(&self, url: &Url, query: &[(&str, &str)], endpoint: &str) -> Result<u64> {
        #[derive(serde::Deserialize)]
        struct Count {
            count: u64,
        }
        let pairs: Vec<(&str, &str)> = query
            .iter()
            .filter(|(k, _)| ["conditions", "childConditions", "customFieldConditions"].contains(k))
            .copied()
            .collect();
        let mut url = url.clone();
        url.set_query(Some(&encode_query(&pairs)));
        let what = format!("{endpoint}/count");
        let resp = self.send_api(Request::get(url), &what).await?;
        Ok(resp
            .json::<Count>()
            .map_err(|e| Error::api(SIDE, format!("{what}: {e}")))?
            .count)
    }

    /// Reads the stream's next page, checks it and folds its rows in range. Returns what the
    /// page held (None for an empty page).
    async fn step<T: DeserializeOwned + HasId>(
        &self,
        endpoint: &str,
        stream: &mut Stream,
        on_page: &RefCell<impl FnMut(Vec<T>) -> Result<()>>,
    ) -> Result<Option<FirstPage>> {
        let Some(url) = stream.next.take() else {
            return Ok(None);
        };
        let what = &stream.what;
        // Forward-only paging (docs/apis.md §2.4): each page starts after the last id of the
        // one before, so rows added or removed mid-read cannot shift a row past us.
        let req = Request::get(url.clone()).header(
            reqwest::header::HeaderName::from_static("pagination-type"),
            HeaderValue::from_static("forward-only"),
        );
        let resp = self.send_api(req, endpoint).await?;
        let mut rows: Vec<T> = resp
            .json::<Page<T, PAGE_SIZE>>()
            .map_err(|e| Error::api(SIDE, format!("{what}: {e}")))?
            .0;
        let count = rows.len();
        let (low, high) = stream.range;
        for row in &rows {
            let id = row.id();
            stream
                .order
                .check(id)
                .map_err(|problem| Error::api(SIDE, format!("{what}: {problem}")))?;
            let below = low.is_some_and(|low| id < low);
            let beyond = high.is_some_and(|high| id >= high) && !stream.unbounded_query;
            if below || beyond {
                return Err(Error::api(
                    SIDE,
                    format!(
                        "{what}: a page holds id {id}, outside the range asked for; the server \
                         ignored the id conditions, not trusting the read"
                    ),
                ));
            }
        }
        let shape = match (rows.first(), rows.last()) {
            (Some(first), Some(last)) => Some(FirstPage {
                rows: count as u64,
                first_id: first.id(),
                last_id: last.id(),
            }),
            _ => None,
        };
        let mut done = false;
        if let Some(high) = high {
            rows.retain(|row| row.id() < high);
            done = rows.len() < count;
        }
        stream.rows += rows.len() as u64;
        (on_page.borrow_mut())(rows)?;
        let next =
            next_link(&resp.headers).map_err(|e| Error::api(SIDE, format!("{what}: {e}")))?;
        match next {
            _ if done => {}
            NextLink::Url(link) => {
                if count == 0 {
                    return Err(Error::api(
                        SIDE,
                        format!(
                            "{what}: an empty page still links to a next one ({link}); \
                             stopping rather than following it forever"
                        ),
                    ));
                }
                let next = self.follow(&url, &link, endpoint)?;
                if !stream.asked.insert(next.as_str().to_string()) {
                    return Err(Error::api(
                        SIDE,
                        format!(
                            "{what}: the next-page link repeats a page already read ({}); \
                             stopping rather than counting it twice",
                            path_and_query(&next)
                        ),
                    ));
                }
                stream.next = Some(next);
            }
            NextLink::End => {}
            // Forward-only answers always carry `Link` (empty on the last page). Without
            // one, a short page is the last; a full one means more rows we cannot reach.
            NextLink::Absent if count < PAGE_SIZE => {}
            NextLink::Absent => {
                return Err(Error::api(
                    SIDE,
                    format!(
                        "{what}: a full page of {count} came without a Link header, so the \
                         rest cannot be read; this ConnectWise version may not support \
                         forward-only paging here"
                    ),
                ));
            }
        }
        Ok(shape)
    }

    /// The URL of the next page: the link resolved against the current URL and put on the
    /// configured origin; a link to another host is refused ([`origin::next_page`]).
    fn follow(&self, current: &Url, link: &str, endpoint: &str) -> Result<Url> {
        origin::next_page(&self.site, current, link).map_err(|refusal| {
            Error::api(
                SIDE,
                format!("{endpoint}: the next-page link {refusal}; stopping the read"),
            )
        })
    }

    /// `GET /system/callbacks` (docs/apis.md §2.9): every callback, or, with `url_prefix`,
    /// those whose `url` starts with it (`conditions=url like "<prefix>%"`, then checked here
    /// again: a server that ignored the condition cannot make another integration's callback
    /// look like ours).
    pub async fn list_callbacks(&mut self, url_prefix: Option<&str>) -> Result<Vec<CallbackEntry>> {
        let conditions = url_prefix.map(|p| format!("url like \"{}%\"", p.replace('"', "\\\"")));
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(c) = &conditions {
            query.push(("conditions", c));
        }
        let mut all = Vec::new();
        self.for_each_page("system/callbacks", &query, |page: Vec<CallbackEntry>| {
            all.extend(page);
            Ok(())
        })
        .await?;
        if let Some(prefix) = url_prefix {
            all.retain(|c| c.url.starts_with(prefix));
        }
        Ok(all)
    }

    /// `POST /system/callbacks`: registers one callback; ConnectWise answers the stored entry.
    /// Not retried unless it surely did not arrive (a POST is not idempotent).
    pub async fn create_callback(&mut self, new: &NewCallback) -> Result<CallbackEntry> {
        let url = self.api_url("system/callbacks").await?;
        let endpoint = "POST system/callbacks";
        let resp = self
            .send_api(Request::new(Method::POST, url).json(new), endpoint)
            .await?;
        resp.json()
            .map_err(|e| Error::api(SIDE, format!("{endpoint}: {e}")))
    }

    /// `DELETE /system/callbacks/{id}`. `false` when there was none (404): already gone.
    pub async fn delete_callback(&mut self, id: i64) -> Result<bool> {
        let url = self.api_url(&format!("system/callbacks/{id}")).await?;
        let endpoint = format!("DELETE system/callbacks/{id}");
        match self.api.send(Request::new(Method::DELETE, url)).await {
            Ok(_) => {
                self.authenticated.store(true, Ordering::Relaxed);
                Ok(true)
            }
            Err(e)
                if e.status() == Some(StatusCode::NOT_FOUND)
                    && self.authenticated.load(Ordering::Relaxed) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.classify(&e, &endpoint)),
        }
    }

    /// Sends one authenticated request, turning failures into errors that say what to fix.
    async fn send_api(&self, req: Request, endpoint: &str) -> Result<Response> {
        match self.api.send(req).await {
            Ok(resp) => {
                self.authenticated.store(true, Ordering::Relaxed);
                Ok(resp)
            }
            Err(e) => Err(self.classify(&e, endpoint)),
        }
    }

    fn classify(&self, e: &HttpError, endpoint: &str) -> Error {
        let HttpError::Status { status, body, .. } = e else {
            return Error::api(SIDE, format!("{endpoint} failed: {}", e.describe()));
        };
        let said = error_message(body).or_else(|| Some(body.clone()).filter(|b| !b.is_empty()));
        match *status {
            StatusCode::UNAUTHORIZED => Error::Auth {
                side: SIDE,
                detail: format!("HTTP 401 on {endpoint}{}", colon(&said)),
                hint: CREDENTIAL_SETTINGS.into(),
            },
            StatusCode::FORBIDDEN => Error::Auth {
                side: SIDE,
                detail: format!("HTTP 403 on {endpoint}{}", colon(&said)),
                hint: "check CONNECTWISE_CLIENT_ID (the clientId GUID from \
                       https://developer.connectwise.com/ClientID), and that the API member's \
                       security role may read contacts, configurations and their types \
                       (System > Security Roles > Companies: Inquire level All)"
                    .into(),
            },
            StatusCode::NOT_FOUND if !self.authenticated.load(Ordering::Relaxed) => Error::Auth {
                side: SIDE,
                detail: format!(
                    "HTTP 404 on {endpoint}, the first authenticated call of this run; \
                     cloud ConnectWise answers wrong keys with 404"
                ),
                hint: format!(
                    "{CREDENTIAL_SETTINGS}; and the codebase {}",
                    self.codebase_label()
                ),
            },
            StatusCode::BAD_REQUEST => Error::api(
                SIDE,
                format!(
                    "{endpoint} was refused as a bad request (HTTP 400){}",
                    colon(&said)
                ),
            ),
            _ => Error::api(SIDE, format!("{endpoint} failed: {}", e.describe())),
        }
    }

    fn codebase_label(&self) -> String {
        match &self.codebase {
            Some((c, CodebaseOrigin::Setting)) => format!("'{c}' (CONNECTWISE_CODEBASE)"),
            Some((c, CodebaseOrigin::Discovered)) => {
                format!("'{c}' (from companyinfo; set CONNECTWISE_CODEBASE to override)")
            }
            None => "(not yet known)".into(),
        }
    }
}

fn colon(said: &Option<String>) -> String {
    said.as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

/// `scheme://host[:port]`, for messages.
fn host_label(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// `v2025_1` or `v2025_1/` → `v2025_1/`; `None` for anything that is not a plain name.
fn normalize_codebase(raw: &str) -> Option<String> {
    let name = raw.trim().trim_end_matches('/');
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !name.contains("..");
    plain.then(|| format!("{name}/"))
}

/// ConnectWise's own words from an error body: `message`, then each `errors[].message`
/// (docs/apis.md §2.6); the 429 body's `message` too. `None` when the body is not that shape.
pub fn error_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = v.get("message").and_then(|m| m.as_str()) {
        parts.push(m.to_string());
    }
    if let Some(errors) = v.get("errors").and_then(|e| e.as_array()) {
        for e in errors {
            let msg = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
            let field = e.get("field").and_then(|f| f.as_str()).unwrap_or("");
            let text = match (field.is_empty(), msg.is_empty()) {
                (_, true) => continue,
                (true, false) => msg.to_string(),
                (false, false) => format!("{field}: {msg}"),
            };
            if !parts.contains(&text) && !parts.iter().any(|p| p.ends_with(msg)) {
                parts.push(text);
            }
        }
    }
    if parts.is_empty() {
        Some(body.to_string()).filter(|b| !b.is_empty())
    } else {
        Some(parts.join("; "))
    }
}

/// Percent-encodes query pairs. Spaces become `%20`, not `+`: ConnectWise reads a raw `+`
/// in a condition as a space (docs/apis.md §2.3 escaping), so neither may be ambiguous.
pub fn encode_query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode_component(s: &str) -> String {
    // byte_serialize writes a space as '+' and a real '+' as "%2B", so swapping every '+'
    // afterwards touches only the spaces.
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_encode_spaces_and_quotes_unambiguously() {
        let q = encode_query(&[
            ("conditions", "activeFlag=true AND type/id in (11,14)"),
            ("childConditions", "types/name=\"A+B\""),
        ]);
        assert_eq!(
            q,
            "conditions=activeFlag%3Dtrue%20AND%20type%2Fid%20in%20%2811%2C14%29&\
             childConditions=types%2Fname%3D%22A%2BB%22"
        );
    }

    fn client(base: &str) -> ConnectWiseClient {
        use crate::secret::Secret;
        let settings = ConnectWiseSettings {
            base_url: base.parse().unwrap(),
            company_id: "mymsp".into(),
            public_key: Secret::new("pub"),
            private_key: Secret::new("priv"),
            client_id: "0f7c3a52-1b2c-4d5e-8f90-123456789abc".into(),
            codebase: Some("v2025_1/".into()),
            read_streams: 3,
        };
        ConnectWiseClient::new(&settings, &HttpSettings::default()).unwrap()
    }

    #[test]
    fn next_links_stay_on_our_scheme_host_and_port() {
        let c = client("https://api-na.myconnectwise.net");
        let current: Url =
            "https://api-na.myconnectwise.net/v2025_1/apis/3.0/company/contacts?pageSize=1000"
                .parse()
                .unwrap();
        let next = c
            .follow(
                &current,
                "http://API-NA.myconnectwise.net:80/v2025_1/apis/3.0/company/contacts?fields=id,types&pageSize=1000&pageId=77",
                "GET company/contacts",
            )
            .unwrap();
        assert_eq!(
            next.as_str(),
            "https://api-na.myconnectwise.net/v2025_1/apis/3.0/company/contacts?fields=id,types&pageSize=1000&pageId=77"
        );
        let relative = c
            .follow(&current, "contacts?pageId=9", "GET company/contacts")
            .unwrap();
        assert_eq!(relative.path(), "/v2025_1/apis/3.0/company/contacts");
        let e = c
            .follow(
                &current,
                "https://evil.example/x?pageId=1",
                "GET company/contacts",
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("https://evil.example, not at"),
            "{e}"
        );
    }

    #[test]
    fn failures_are_classified_by_what_to_fix() {
        let c = client("https://api-na.myconnectwise.net");
        let status = |code: u16, body: &str| HttpError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            body: body.into(),
            attempts: 1,
        };
        let not_found = status(
            404,
            r#"{"code":"ConnectWiseApi","message":"The endpoint does not exist."}"#,
        );
        let e = c.classify(&not_found, "GET system/info");
        assert_eq!(
            e.exit_code(),
            3,
            "a 404 before any success is refused credentials"
        );
        assert!(
            e.to_string().contains("'v2025_1/' (CONNECTWISE_CODEBASE)"),
            "{e}"
        );
        assert_eq!(c.classify(&status(401, ""), "GET x").exit_code(), 3);
        let e = c.classify(
            &status(403, r#"{"code":"Forbidden","message":"no"}"#),
            "GET x",
        );
        assert!(e.to_string().contains("CONNECTWISE_CLIENT_ID"), "{e}");
        let e = c.classify(
            &status(
                400,
                r#"{"code":"InvalidFilter","message":"conditions: bad"}"#,
            ),
            "GET company/contacts",
        );
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("conditions: bad"), "{e}");
        c.authenticated.store(true, Ordering::Relaxed);
        assert_eq!(
            c.classify(&not_found, "GET x").exit_code(),
            1,
            "later, a 404 is a 404"
        );
        assert_eq!(c.classify(&status(500, ""), "GET x").exit_code(), 1);
    }

    #[test]
    fn codebases_are_plain_names_ending_in_a_slash() {
        assert_eq!(normalize_codebase("v2025_1/").as_deref(), Some("v2025_1/"));
        assert_eq!(
            normalize_codebase("v4_6_release").as_deref(),
            Some("v4_6_release/")
        );
        for bad in ["", "/", "../x/", "a/b/", "v1 2/"] {
            assert_eq!(normalize_codebase(bad), None, "{bad}");
        }
    }

    #[test]
    fn error_messages_come_from_connectwise_bodies() {
        let body = r#"{"code":"InvalidFilter","message":"conditions: unknown field 'x'","errors":[{"code":"InvalidField","message":"conditions: unknown field 'x'","resource":"contact","field":"x"}]}"#;
        assert_eq!(
            error_message(body).as_deref(),
            Some("conditions: unknown field 'x'")
        );
        let body = r#"{"code":"InvalidObject","message":"contact object is invalid","errors":[{"code":"MissingRequiredField","message":"The firstName field is required.","field":"firstName"}]}"#;
        assert_eq!(
            error_message(body).as_deref(),
            Some("contact object is invalid; firstName: The firstName field is required.")
        );
        assert_eq!(error_message("oops").as_deref(), None);
    }
}
