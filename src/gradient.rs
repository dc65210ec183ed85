//! The Synthesize (Gradient MSP) vendor API client (docs/apis.md §1). It knows nothing of PSAs.

use std::collections::BTreeMap;

use base64::Engine;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use url::Url;

use crate::config::{GradientSettings, HttpSettings};
use crate::error::{Error, Result, Side};
use crate::http::{ApiClient, HttpError, Request, header};

/// Accounts per create request: the route takes an array, but a bounded one keeps each
/// request small and each failure local.
const ACCOUNTS_PER_CREATE: usize = 100;

/// Who the tokens belong to (`GET /organization`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Organization {
    /// The MSP's name.
    pub name: String,
    pub vendor_name: String,
    #[serde(deserialize_with = "id_string")]
    pub organization_id: String,
    #[serde(deserialize_with = "id_string")]
    pub vendor_id: String,
    #[serde(deserialize_with = "id_string")]
    pub integration_id: String,
    pub status: String,
}

/// A service (sku) of the vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sku {
    pub id: String,
    pub name: String,
}

/// An account the vendor created for the partner.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Account {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// The category and subcategory of the services this tool creates: exact, case-sensitive
/// wire strings (docs/apis.md §1.4; Gradient's own integrations use other/other). A test checks
/// them against the simulator's lists of every accepted value.
pub const SERVICE_CATEGORY: &str = "other";
pub const SERVICE_SUBCATEGORY: &str = "other";

/// A service to create.
#[derive(Debug, Clone, Serialize)]
pub struct NewService {
    pub name: String,
    pub description: String,
    /// Case-sensitive enum on the wire (docs/apis.md §1.4).
    pub category: &'static str,
    pub subcategory: &'static str,
}

/// The integration statuses a user may set (docs/apis.md §1.4; case-sensitive on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IntegrationStatus {
    Pending,
    Active,
    Inactive,
}

impl IntegrationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationStatus::Pending => "pending",
            IntegrationStatus::Active => "active",
            IntegrationStatus::Inactive => "inactive",
        }
    }
}

/// Whether a count write makes Gradient rebuild its billing view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingView {
    /// Rebuild it after this write (the API's default).
    Rebuild,
    /// `no_build=true`: a later write of the same run rebuilds it.
    Defer,
}

/// What a count write came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountOutcome {
    Set,
    /// 404 "No account map found…": the partner has not mapped the account or service.
    Unmapped(String),
}

/// The Synthesize vendor API.
#[derive(Clone)]
pub struct Synthesize {
    api: ApiClient,
    base: Url,
}

impl Synthesize {
    pub fn new(settings: &GradientSettings, http: &HttpSettings) -> Result<Self> {
        let raw = format!(
            "{}:{}",
            settings.vendor_key.expose(),
            settings.partner_key.expose()
        );
        // The token is only base64 (docs/apis.md §1.1): an echo of it is as bad as the keys.
        crate::http::redact::register_token(&raw);
        let token = base64::engine::general_purpose::STANDARD.encode(raw);
        let mut headers = HeaderMap::new();
        let (k, v) = header("gradient-token", &token).map_err(|_| {
            Error::setting(
                "GRADIENT_VENDOR_API_KEY",
                "the keys hold characters that cannot be sent; paste them again exactly as Synthesize showed them",
            )
        })?;
        headers.insert(k, v);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        Ok(Self {
            api: ApiClient::new(Side::Synthesize, http, headers)?,
            base: settings.base_url.clone(),
        })
    }

    /// Requests sent so far, retries included.
    pub fn request_count(&self) -> u64 {
        self.api.request_count()
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        {
            let mut path = url
                .path_segments_mut()
                .expect("an http(s) base URL has a path");
            path.pop_if_empty().extend(["api", "vendor-api"]);
            // `extend` percent-encodes each segment, so ids with '/' or '?' stay one segment.
            path.extend(segments);
        }
        url
    }

    /// Sends a request; the answer's body, for the caller to decode into its own type.
    async fn call(&self, what: &str, req: Request) -> Result<Vec<u8>> {
        let resp = self.api.send(req).await.map_err(|e| classify(what, e))?;
        Ok(resp.body)
    }

    /// `GET /organization`: Gradient's preferred credential check.
    pub async fn organization(&self) -> Result<Organization> {
        let what = "reading the organization";
        let body = self
            .call(what, Request::get(self.url(&["organization"])))
            .await?;
        decode(what, &body)
    }

    /// `GET ''`: the vendor and its services. An answer without `skus` is an error, never
    /// "no services" (that would create every service again).
    pub async fn skus(&self) -> Result<Vec<Sku>> {
        #[derive(Deserialize)]
        struct Vendor {
            skus: Vec<RawSku>,
        }
        let what = "reading the vendor's services";
        let body = self.call(what, Request::get(self.url(&[]))).await?;
        let vendor: Vendor = decode(what, &body)?;
        vendor
            .skus
            .into_iter()
            .map(|s| {
                let id = s.id.or(s.underscore_id).ok_or_else(|| {
                    Error::api(
                        Side::Synthesize,
                        format!("service '{}' came without an id", s.name),
                    )
                })?;
                Ok(Sku { id, name: s.name })
            })
            .collect()
    }

    /// `GET /organization/accounts`.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        let what = "reading the accounts";
        let body = self
            .call(what, Request::get(self.url(&["organization", "accounts"])))
            .await?;
        decode(what, &body)
    }

    /// `POST /organization/accounts`, an array body, in batches.
    pub async fn create_accounts(&self, accounts: &[Account]) -> Result<()> {
        #[derive(Serialize)]
        struct NewAccount<'a> {
            id: &'a str,
            name: &'a str,
            description: &'a str,
        }
        for batch in accounts.chunks(ACCOUNTS_PER_CREATE) {
            let body: Vec<NewAccount> = batch
                .iter()
                .map(|a| NewAccount {
                    id: &a.id,
                    name: &a.name,
                    description: "",
                })
                .collect();
            self.call(
                "creating accounts",
                Request::new(Method::POST, self.url(&["organization", "accounts"])).json(&body),
            )
            .await?;
        }
        Ok(())
    }

    /// `PATCH /organization/accounts/{id}`: renames an account.
    pub async fn rename_account(&self, id: &str, name: &str) -> Result<()> {
        self.call(
            &format!("renaming account {id}"),
            Request::new(Method::PATCH, self.url(&["organization", "accounts", id]))
                .json(&serde_json::json!({ "name": name })),
        )
        .await?;
        Ok(())
    }

    /// `POST /service`. The API does not deduplicate: check [`Synthesize::skus`] first.
    pub async fn create_service(&self, service: &NewService) -> Result<()> {
        self.call(
            &format!("creating service '{}'", service.name),
            Request::new(Method::POST, self.url(&["service"])).json(service),
        )
        .await?;
        Ok(())
    }

    /// `PATCH /organization/status/{status}`.
    pub async fn update_status(&self, status: IntegrationStatus) -> Result<()> {
        self.call(
            "updating the integration status",
            Request::new(
                Method::PATCH,
                self.url(&["organization", "status", status.as_str()]),
            ),
        )
        .await?;
        Ok(())
    }

    /// `POST /service/{serviceId}/count`: sets an absolute count (idempotent, so retried).
    /// `view` says whether Gradient rebuilds its billing view after it (docs/apis.md §1.2
    /// `no_build`): a run defers it on every write but its last.
    pub async fn set_count(
        &self,
        service_id: &str,
        account_id: &str,
        count: u64,
        view: BillingView,
    ) -> Result<CountOutcome> {
        let mut url = self.url(&["service", service_id, "count"]);
        if view == BillingView::Defer {
            url.query_pairs_mut().append_pair("no_build", "true");
        }
        let req = Request::new(Method::POST, url)
            .json(&serde_json::json!({ "accountId": account_id, "unitCount": count }))
            .idempotent(true);
        match self.api.send(req).await {
            // A count is stored only when Gradient says so: 201 (or 200) with its JSON
            // answer. Anything else that passes for success (an HTML page, an empty 204) is
            // a failure, never `set`.
            Ok(resp) if confirms_count(resp.status, &resp.body) => Ok(CountOutcome::Set),
            Ok(resp) => Err(Error::api(
                Side::Synthesize,
                format!(
                    "setting the count of account {account_id}: HTTP {} without Gradient's \
                     confirmation ({}); the count may not be stored",
                    resp.status.as_u16(),
                    crate::http::excerpt(&resp.body)
                ),
            )),
            Err(e) => {
                if let HttpError::Status { status, body, .. } = &e
                    && *status == StatusCode::NOT_FOUND
                {
                    let message = error_message(body);
                    if message.starts_with("No account map found") {
                        return Ok(CountOutcome::Unmapped(message));
                    }
                }
                Err(classify(
                    &format!("setting the count of account {account_id}"),
                    e,
                ))
            }
        }
    }
}

/// Turns a failed request into the run's error: 401 is an auth failure (exit 3).
fn classify(what: &str, e: HttpError) -> Error {
    match e.status() {
        Some(StatusCode::UNAUTHORIZED) => Error::Auth {
            side: Side::Synthesize,
            detail: format!("HTTP 401 while {what}"),
            hint: "check GRADIENT_VENDOR_API_KEY and GRADIENT_PARTNER_API_KEY; if lost, regenerate them \
                   in Synthesize: Integrations > Custom > Generate API Tokens"
                .into(),
        },
        Some(StatusCode::FORBIDDEN) => Error::Flagged {
            what: what.to_string(),
        },
        _ => Error::api(Side::Synthesize, format!("{what}: {}", e.describe())),
    }
}

/// The `message` of a NestJS-style error body (a string or a list of strings).
fn error_message(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(v) => match v.get("message") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join("; "),
            _ => body.to_string(),
        },
        Err(_) => body.to_string(),
    }
}

/// Whether a count write's answer is Gradient's confirmation: 200 or 201, with a JSON object
/// whose `status`, when present, is 200 or 201 (`{"status":201,"message":"Created service
/// unit count"}`, docs/apis.md §1.2).
fn confirms_count(status: StatusCode, body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        status: Option<serde_json::Number>,
    }
    if !matches!(status.as_u16(), 200 | 201) {
        return false;
    }
    // A map of ignored values: the shape is checked without building a tree.
    if serde_json::from_slice::<BTreeMap<String, serde::de::IgnoredAny>>(body).is_err() {
        return false;
    }
    match serde_json::from_slice::<Answer>(body) {
        Ok(Answer { status: None }) => true,
        Ok(Answer { status: Some(n) }) => matches!(n.as_u64(), Some(200 | 201)),
        Err(_) => false,
    }
}

/// Decodes an answer into `T`. Some routes wrap their answer in `{status, message, data}`
/// and some do not (docs/apis.md §1.2): both are accepted. The envelope is read without
/// building a tree of the rest, so an answer's size costs no more than its bytes.
fn decode<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow, default)]
        data: Option<&'a serde_json::value::RawValue>,
        #[serde(default)]
        status: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        message: Option<serde::de::IgnoredAny>,
    }
    // Only an object can be an envelope (serde would also read a struct from an array).
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let envelope = is_object
        .then(|| serde_json::from_slice::<Envelope>(body).ok())
        .flatten();
    let inner: &[u8] = match envelope {
        Some(Envelope {
            data: Some(data),
            status,
            message,
        }) if status.is_some() || message.is_some() => data.get().as_bytes(),
        _ => body,
    };
    serde_json::from_slice(inner).map_err(|e| {
        Error::api(
            Side::Synthesize,
            format!(
                "{what}: the answer has an unexpected shape ({e}); it began: {}",
                crate::http::excerpt(inner)
            ),
        )
    })
}

#[derive(Deserialize)]
struct RawSku {
    #[serde(default, deserialize_with = "opt_id_string")]
    id: Option<String>,
    #[serde(rename = "_id", default, deserialize_with = "opt_id_string")]
    underscore_id: Option<String>,
    #[serde(default)]
    name: String,
}

/// Ids are strings (docs/apis.md §5.9); accept numbers too, rendered as decimal strings.
fn id_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(opt_id_string(d)?.unwrap_or_default())
}

fn opt_id_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_and_unwrapped_bodies_decode_alike() {
        let wrapped = br#"{"status":200,"message":"ok","data":{"name":"MSP"}}"#;
        let plain = br#"{"name":"MSP","extra":[1,2]}"#;
        let a: Organization = decode("x", wrapped).unwrap();
        let b: Organization = decode("x", plain).unwrap();
        assert_eq!((a.name.as_str(), b.name.as_str()), ("MSP", "MSP"));
        let accounts: Vec<Account> =
            decode("x", br#"[{"id":"1","name":"A"},{"id":"2","name":"B"}]"#).unwrap();
        assert_eq!(accounts.len(), 2, "an array is never read as an envelope");
        assert!(decode::<Vec<Account>>("x", b"[0,0,0]").is_err());
    }

    #[test]
    fn only_gradients_confirmation_counts_as_stored() {
        assert!(confirms_count(
            StatusCode::CREATED,
            br#"{"status":201,"message":"Created service unit count"}"#
        ));
        assert!(confirms_count(StatusCode::OK, b"{}"));
        for (status, body) in [
            (200, &b"<html>Access denied</html>"[..]),
            (204, &b""[..]),
            (201, &b""[..]),
            (201, &br#"{"status":500,"message":"error"}"#[..]),
            (201, &b"[201]"[..]),
            (202, &br#"{"status":201}"#[..]),
        ] {
            assert!(
                !confirms_count(StatusCode::from_u16(status).unwrap(), body),
                "{status} {body:?}"
            );
        }
    }

    #[test]
    fn sku_id_falls_back_to_underscore_id() {
        let raw: Vec<RawSku> =
            serde_json::from_value(serde_json::json!([{"_id":"a1","name":"X"},{"id":"b2","_id":"b2","name":"Y","extra":1}]))
                .unwrap();
        assert_eq!(
            raw[0]
                .id
                .clone()
                .or(raw[0].underscore_id.clone())
                .as_deref(),
            Some("a1")
        );
        assert_eq!(raw[1].id.as_deref(), Some("b2"));
    }

    #[test]
    fn numeric_ids_become_strings() {
        let a: Account =
            serde_json::from_value(serde_json::json!({"id": 250, "name": "C", "description": ""}))
                .unwrap();
        assert_eq!(a.id, "250");
    }

    #[test]
    fn error_messages_are_read_from_nest_bodies() {
        assert_eq!(
            error_message(r#"{"statusCode":404,"message":"No account map found with id: 1"}"#),
            "No account map found with id: 1"
        );
        assert_eq!(
            error_message(
                r#"{"statusCode":400,"message":["unitCount must be a number"],"error":"Bad Request"}"#
            ),
            "unitCount must be a number"
        );
        assert_eq!(error_message("oops"), "oops");
    }
}
