//! The shared HTTP layer against a tiny scripted server: Retry-After and retry rules.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use common::fast_http;
use synthesize_sync::error::Side;
use synthesize_sync::http::{ApiClient, HttpError, Request};

/// Serves `/flaky` answering 429 with `Retry-After: 1` the first time, then 200;
/// `/create` always 503; `/headers` echoes whether a user agent came.
async fn scripted() -> (synthesize_sims::RunningServer, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let h2 = hits.clone();
    let router = Router::new()
        .route(
            "/flaky",
            get(move || {
                let h = h.clone();
                async move {
                    if h.fetch_add(1, Ordering::SeqCst) == 0 {
                        let mut headers = HeaderMap::new();
                        headers.insert("retry-after", "1".parse().unwrap());
                        (StatusCode::TOO_MANY_REQUESTS, headers, "slow down")
                    } else {
                        (StatusCode::OK, HeaderMap::new(), "ok")
                    }
                }
            }),
        )
        .route(
            "/create",
            post(move || {
                let h = h2.clone();
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    StatusCode::SERVICE_UNAVAILABLE
                }
            }),
        )
        .route(
            "/ua",
            get(|headers: HeaderMap| async move {
                headers
                    .get("user-agent")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            }),
        );
    let server = synthesize_sims::serve(router, synthesize_sims::loopback())
        .await
        .unwrap();
    (server, hits)
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let (server, hits) = scripted().await;
    let c = ApiClient::new(Side::ConnectWise, &fast_http(), HeaderMap::new()).unwrap();
    let started = Instant::now();
    let resp = c
        .send(Request::get(
            format!("{}/flaky", server.base_url()).parse().unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(resp.body, b"ok");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited as told"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(c.request_count(), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_budget_gives_up() {
    let (server, _) = scripted().await;
    let mut http = fast_http();
    http.max_retry_wait = Duration::from_millis(100);
    let c = ApiClient::new(Side::ConnectWise, &http, HeaderMap::new()).unwrap();
    let e = c
        .send(Request::get(
            format!("{}/flaky", server.base_url()).parse().unwrap(),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(c.request_count(), 1);
}

#[tokio::test]
async fn non_idempotent_posts_are_not_retried_on_5xx() {
    let (server, hits) = scripted().await;
    let c = ApiClient::new(Side::Synthesize, &fast_http(), HeaderMap::new()).unwrap();
    let url: url::Url = format!("{}/create", server.base_url()).parse().unwrap();
    let e = c
        .send(Request::new(reqwest::Method::POST, url.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, HttpError::Status { attempts: 1, .. }));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // The same POST declared idempotent is retried.
    let _ = c
        .send(Request::new(reqwest::Method::POST, url).idempotent(true))
        .await
        .unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 1 + 4);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = ApiClient::new(Side::Autotask, &fast_http(), HeaderMap::new()).unwrap();
    let e = c
        .send(Request::get(
            format!("http://127.0.0.1:{port}/x").parse().unwrap(),
        ))
        .await
        .unwrap_err();
    assert!(
        e.describe().contains("cannot connect to http://127.0.0.1"),
        "{}",
        e.describe()
    );
    assert_eq!(c.request_count(), 4);
}

#[tokio::test]
async fn user_agent_names_the_tool_and_version() {
    let (server, _) = scripted().await;
    let c = ApiClient::new(Side::Synthesize, &fast_http(), HeaderMap::new()).unwrap();
    let resp = c
        .send(Request::get(
            format!("{}/ua", server.base_url()).parse().unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(resp.body).unwrap(),
        format!("synthesize-sync/{}", env!("CARGO_PKG_VERSION"))
    );
}
