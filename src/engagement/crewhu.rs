//! The CrewHu client (docs/apis.md §5b), the CSAT source of `engagement`, on the shared HTTP
//! layer: `CREWHU_API_TOKEN` (a secret: registered with the scrubber) in `X_CREWHU_APITOKEN`,
//! `CREWHU_BASE_URL` (default `https://api.crewhu.com/api/`, under the same origin rules as
//! every API), `GET v1/survey?step=N&limit=1000` until a short page.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use serde::Deserialize;
use url::Url;

use super::csat::Survey;
use crate::config::{Env, HttpSettings};
use crate::error::{Error, Result, Side};
use crate::http::{ApiClient, HttpError, Request, header, origin, redact};
use crate::text::{escape, parse_utc};

const SIDE: Side = Side::CrewHu;
const DEFAULT_BASE: &str = "https://api.crewhu.com/api/";
/// CrewHu's largest page (docs/apis.md §5b).
pub const PAGE: usize = 1_000;
/// More pages than any survey history: a server that never sends a short page is stopped.
const MAX_PAGES: usize = 100_000;

pub struct CrewhuClient {
    api: ApiClient,
    base: Url,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Customer {
    #[serde(rename = "ID")]
    id: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SurveyRow {
    #[serde(rename = "_id", default)]
    id: Option<serde_json::Value>,
    closed: Option<String>,
    rating: Option<i64>,
    ticket_num: Option<serde_json::Value>,
    customer_data: Option<Customer>,
}

/// A string or a number as a string (ids are strings in CrewHu, docs/apis.md §5.9).
fn key(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl CrewhuClient {
    /// The client, when `CREWHU_API_TOKEN` is set; `None` without it.
    pub fn from_env(env: &Env, http: &HttpSettings) -> Result<Option<CrewhuClient>> {
        let Some(token) = env.get("CREWHU_API_TOKEN").filter(|t| !t.trim().is_empty()) else {
            return Ok(None);
        };
        let token = token.trim().to_string();
        redact::register_token(&token);
        let raw = env
            .get("CREWHU_BASE_URL")
            .filter(|b| !b.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_BASE.to_string());
        let mut base = Url::parse(raw.trim()).map_err(|e| {
            Error::setting(
                "CREWHU_BASE_URL",
                format!("'{}' is not a URL ({e})", escape(&raw)),
            )
        })?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        origin::check_base(&base)
            .map_err(|refusal| Error::setting("CREWHU_BASE_URL", refusal.to_string()))?;
        let mut headers = HeaderMap::new();
        let (k, v) = header("x_crewhu_apitoken", &token)
            .map_err(|problem| Error::setting("CREWHU_API_TOKEN", problem))?;
        headers.insert(k, v);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        Ok(Some(CrewhuClient {
            api: ApiClient::new(SIDE, http, headers)?,
            base,
        }))
    }

    pub fn request_count(&self) -> u64 {
        self.api.request_count()
    }

    /// Every survey, page by page, each handed to `on_survey`. Any failed page fails the read.
    ///
    /// CrewHu's page cap is not documented (docs/apis.md §5b: 1,000 is our assumption; a public
    /// client asks for 100), so a short page does not end the read: only an empty one does.
    /// A page larger than asked for, or a survey `_id` seen on an earlier page (a server that
    /// ignores `step`), fails the read rather than counting surveys twice.
    pub async fn surveys(&self, mut on_survey: impl FnMut(Survey)) -> Result<()> {
        let endpoint = "GET v1/survey";
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for step in 1..=MAX_PAGES {
            let mut url = self.base.join("v1/survey").map_err(|e| {
                Error::setting("CREWHU_BASE_URL", format!("cannot hold v1/survey ({e})"))
            })?;
            url.query_pairs_mut()
                .append_pair("step", &step.to_string())
                .append_pair("limit", &PAGE.to_string());
            let resp = self
                .api
                .send(Request::get(url))
                .await
                .map_err(|e| classify(&e, endpoint))?;
            let rows: Vec<SurveyRow> = resp
                .json()
                .map_err(|e| Error::api(SIDE, format!("{endpoint} step {step}: {e}")))?;
            let n = rows.len();
            if n == 0 {
                return Ok(());
            }
            if n > PAGE {
                return Err(Error::api(
                    SIDE,
                    format!(
                        "{endpoint} step {step}: {n} surveys on a page of {PAGE}; not trusting the paging"
                    ),
                ));
            }
            for r in rows {
                if let Some(id) = key(r.id.as_ref())
                    && !seen.insert(id)
                {
                    return Err(Error::api(
                        SIDE,
                        format!(
                            "{endpoint} step {step}: a survey of an earlier page again; the \
                             paging is not moving on, not counting surveys twice"
                        ),
                    ));
                }
                let closed = match r.closed.as_deref() {
                    Some(c) => Some(parse_utc(c).map_err(|e| {
                        Error::api(SIDE, format!("{endpoint}: a survey's closed time: {e}"))
                    })?),
                    None => None,
                };
                on_survey(Survey {
                    closed,
                    rating: r.rating,
                    ticket_num: key(r.ticket_num.as_ref()),
                    customer_id: key(r.customer_data.as_ref().and_then(|c| c.id.as_ref())),
                });
            }
        }
        Err(Error::api(
            SIDE,
            format!("{endpoint}: more than {MAX_PAGES} full pages; stopping"),
        ))
    }
}

fn classify(e: &HttpError, endpoint: &str) -> Error {
    match e.status() {
        Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => Error::Auth {
            side: SIDE,
            detail: format!("{} on {endpoint}", e.describe()),
            hint: "check CREWHU_API_TOKEN (CrewHu > Settings > API)".into(),
        },
        _ => Error::api(SIDE, format!("{endpoint} failed: {}", e.describe())),
    }
}
