//! The receiver as a function: a request's headers and raw body in, an [`Accepted`] event or
//! a [`Refusal`] (which says the status to answer) out. The listener only serves HTTP around
//! it and drives `super::events::Debouncer` with what it accepts.

use std::sync::Mutex;
use std::time::Instant;

use reqwest::header::HeaderMap;
use url::Url;

use super::events::ReplayFilter;
use super::key_url::{KeyFetcher, KeyUrlPolicy};
use super::payload::{self, Action, RecordType};
use super::refusal::Refusal;
use super::verify::{SIGNATURE_HEADER, decode_header, verify};
use crate::error::Error;

/// A verified callback seen for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub record_type: RecordType,
    pub action: Action,
    pub id: i64,
    pub message_id: String,
}

impl Accepted {
    /// One line for the log: type, action and id, escaped; never the payload or a key.
    pub fn log_line(&self) -> String {
        crate::text::escape(&format!(
            "callback: {} {} {}",
            self.record_type.as_str(),
            self.id,
            self.action.as_str()
        ))
        .into_owned()
    }
}

/// What [`receive`] needs across requests: the key URL policy, the key fetcher and its
/// cache, the replay filter. Shared by reference between the listener's tasks.
pub struct Verifier {
    policy: KeyUrlPolicy,
    keys: KeyFetcher,
    replay: Mutex<ReplayFilter>,
}

impl Verifier {
    /// From the ConnectWise settings `listen` resolves: `CONNECTWISE_BASE_URL` (as resolved,
    /// the `api-` host), `CONNECTWISE_COMPANY_ID`, `CONNECTWISE_CLIENT_ID`.
    pub fn new(base_url: &Url, company_id: &str, client_id: &str) -> Result<Self, Error> {
        Ok(Self {
            policy: KeyUrlPolicy::new(base_url, company_id),
            keys: KeyFetcher::new(client_id)?,
            replay: Mutex::new(ReplayFilter::default()),
        })
    }

    /// Key fetches sent so far (the cache answers the others).
    pub fn key_fetches(&self) -> u64 {
        self.keys.request_count()
    }
}

/// The one `x-content-signature` value: none or empty → unsigned; several, or not text →
/// forged.
fn signature(headers: &HeaderMap) -> Result<&str, Refusal> {
    let mut values = headers.get_all(SIGNATURE_HEADER).iter();
    let Some(value) = values.next() else {
        return Err(Refusal::Unsigned);
    };
    if values.next().is_some() {
        return Err(Refusal::Forged);
    }
    value.to_str().map_err(|_| Refusal::Forged)
}

/// Checks one callback: size → parse → signature header → key URL policy → signing key
/// (cached) → signature → replay. Only a verified callback reaches the replay filter, so a
/// forged one cannot use up a real `MessageId`.
pub async fn receive(
    headers: &HeaderMap,
    raw_body: &[u8],
    verifier: &Verifier,
) -> Result<Accepted, Refusal> {
    // `payload::parse` refuses an oversized body before reading it.
    let callback = payload::parse(raw_body)?;
    let header = signature(headers)?;
    // Cheap checks first: an unsigned or garbled request costs no key fetch.
    decode_header(header)?;
    let key_url = verifier.policy.check(&callback.key_url)?;
    let key = verifier.keys.signing_key(&key_url).await?;
    verify(key.expose(), raw_body, header)?;
    let fresh = verifier
        .replay
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .first_time(Instant::now(), &callback.message_id);
    if !fresh {
        return Err(Refusal::Replayed);
    }
    Ok(Accepted {
        record_type: callback.record_type,
        action: callback.action,
        id: callback.id,
        message_id: callback.message_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::payload::MAX_BODY;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    use reqwest::header::HeaderValue;
    use serde_json::json;
    use sha2::{Digest, Sha256};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const CLIENT_ID: &str = "0f7c3a52-1b2c-4d5e-8f90-123456789abc";
    const KEY: &str = "s3cret-signing-key";

    fn sign(key: &str, body: &[u8]) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&Sha256::digest(key.as_bytes())).unwrap();
        mac.update(body);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// A ConnectWise key endpoint on loopback; counts its requests.
    async fn key_server() -> (Url, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().fallback(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                (StatusCode::OK, axum::Json(json!({"signing_key": KEY}))).into_response()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}").parse().unwrap(), hits)
    }

    fn body(message_id: &str, key_url: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "MessageId": message_id, "Action": "updated", "Type": "contact", "ID": 42,
            "CompanyId": "mymsp",
            "Entity": "{\"id\":42}",
            "Metadata": {"key_url": key_url}
        }))
        .unwrap()
    }

    fn signed(sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, HeaderValue::from_str(sig).unwrap());
        h
    }

    async fn setup() -> (Verifier, Url, Arc<AtomicUsize>) {
        let (base, hits) = key_server().await;
        let v = Verifier::new(&base, "mymsp", CLIENT_ID).unwrap();
        (v, base, hits)
    }

    fn key_url(base: &Url) -> String {
        format!("{base}v2025_1//system/callbackkey/index.rails?companyName=mymsp&id=1")
    }

    #[tokio::test]
    async fn a_signed_callback_is_accepted_once() {
        let (v, base, hits) = setup().await;
        let raw = body("m-1", &key_url(&base));
        let accepted = receive(&signed(&sign(KEY, &raw)), &raw, &v).await.unwrap();
        assert_eq!(
            accepted,
            Accepted {
                record_type: RecordType::Contact,
                action: Action::Updated,
                id: 42,
                message_id: "m-1".into(),
            }
        );
        assert_eq!(accepted.log_line(), "callback: contact 42 updated");
        // The same message again: replayed; the key came from the cache.
        assert_eq!(
            receive(&signed(&sign(KEY, &raw)), &raw, &v).await,
            Err(Refusal::Replayed)
        );
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(v.key_fetches(), 1);
    }

    #[tokio::test]
    async fn a_forged_signature_is_401_and_does_not_use_up_the_message_id() {
        let (v, base, _) = setup().await;
        let raw = body("m-2", &key_url(&base));
        let e = receive(&signed(&sign("guessed", &raw)), &raw, &v)
            .await
            .unwrap_err();
        assert_eq!(e, Refusal::Forged);
        assert_eq!(e.status(), 401);
        // The real one still goes through.
        assert!(receive(&signed(&sign(KEY, &raw)), &raw, &v).await.is_ok());
    }

    #[tokio::test]
    async fn unsigned_or_garbled_requests_cost_no_key_fetch() {
        let (v, base, hits) = setup().await;
        let raw = body("m-3", &key_url(&base));
        assert_eq!(
            receive(&HeaderMap::new(), &raw, &v).await,
            Err(Refusal::Unsigned)
        );
        assert_eq!(
            receive(&signed("%%%"), &raw, &v).await,
            Err(Refusal::Forged)
        );
        let mut two = signed(&sign(KEY, &raw));
        two.append(SIGNATURE_HEADER, HeaderValue::from_static("x"));
        assert_eq!(receive(&two, &raw, &v).await, Err(Refusal::Forged));
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn key_urls_elsewhere_are_refused_without_a_fetch() {
        let (v, base, hits) = setup().await;
        let port = base.port().unwrap();
        for elsewhere in [
            // Another loopback port, another host, another tenant.
            format!(
                "http://127.0.0.1:{}/k?companyName=mymsp",
                port.wrapping_add(1)
            ),
            "https://evil.example/k?companyName=mymsp".to_string(),
            format!("{base}k?companyName=attacker"),
        ] {
            let raw = body("m-4", &elsewhere);
            let e = receive(&signed(&sign(KEY, &raw)), &raw, &v)
                .await
                .unwrap_err();
            assert!(matches!(e, Refusal::KeyUrl(_)), "{elsewhere}: {e:?}");
            assert_eq!(e.status(), 401);
        }
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_http_key_url_is_refused_for_a_cloud_base() {
        let v = Verifier::new(
            &"https://api-na.myconnectwise.net".parse().unwrap(),
            "mymsp",
            CLIENT_ID,
        )
        .unwrap();
        let raw = body(
            "m-5",
            "http://na.myconnectwise.net/v2025_1//system/callbackkey/index.rails?companyName=mymsp&id=1",
        );
        let e = receive(&signed(&sign(KEY, &raw)), &raw, &v)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Refusal::KeyUrl(why) if why.contains("plain http")),
            "{e:?}"
        );
        assert_eq!(v.key_fetches(), 0);
    }

    #[tokio::test]
    async fn oversized_and_malformed_bodies_are_413_and_400() {
        let (v, _, hits) = setup().await;
        let raw = vec![b' '; MAX_BODY + 1];
        let e = receive(&signed(&sign(KEY, &raw)), &raw, &v)
            .await
            .unwrap_err();
        assert_eq!(e.status(), 413);
        let raw = b"{\"MessageId\": 1}".to_vec();
        let e = receive(&signed(&sign(KEY, &raw)), &raw, &v)
            .await
            .unwrap_err();
        assert_eq!(e.status(), 400);
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }
}
