//! Faithful local simulators of the APIs synthesize-sync talks to: Gradient Synthesize,
//! ConnectWise PSA, Autotask PSA, and CrewHu (the CSAT source of `engagement`).
//!
//! Each simulator is an axum router served on a loopback port. Tests start them on an
//! ephemeral port; `synthesize-sync demo` and `sandbox` start them in-process. They model
//! the real APIs' behaviour as `docs/apis.md` describes it, traps included
//! (default page sizes, auth failures that do not look like auth failures, rate limits),
//! plus switchable faults so clients can be tested against a misbehaving service.
//!
//! Common plumbing lives here: [`serve`] (start a router on loopback), [`Faults`]
//! (switchable 429 / 500 / latency / always-failing route) and [`RequestLog`] (what each
//! simulator was asked, for tests to assert request counts).

pub mod autotask;
pub mod connectwise;
pub mod crewhu;
pub mod gradient;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Locks a mutex, recovering the data if a handler panicked while holding it:
/// a simulator must keep answering so the test that drives it can report.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A simulator serving on loopback. Dropping it stops the server.
pub struct RunningServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// Serves `router` on `bind` (use port 0 for an ephemeral port).
pub async fn serve(router: Router, bind: SocketAddr) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningServer {
        addr,
        shutdown: Some(tx),
        task,
    })
}

/// An ephemeral loopback address: `127.0.0.1:0`.
pub fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Faults a test can switch on while a simulator runs.
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// Fraction (0.0..=1.0) of requests answered 429.
    pub rate_429: f64,
    /// Fraction (0.0..=1.0) of requests answered 500.
    pub rate_500: f64,
    /// Added latency on every request.
    pub latency: Duration,
    /// Added latency on the requests whose path (with query) contains the text, instead of
    /// `latency`: the first match wins. Models a slow page route (a ConnectWise page of
    /// 1,000 in about 300 ms, an Autotask page of 500 in about 500 ms) next to fast ones.
    pub route_latency: Vec<(String, Duration)>,
    /// Requests whose path (with query) contains this text always fail with 500.
    pub failing_route: Option<String>,
    /// Seconds sent in `Retry-After` on injected 429s (when the API sends one at all).
    pub retry_after_secs: Option<u64>,
}

impl FaultConfig {
    /// The latency added to a request for this path (with query).
    pub fn latency_for(&self, path_and_query: &str) -> Duration {
        self.route_latency
            .iter()
            .find(|(route, _)| path_and_query.contains(route.as_str()))
            .map_or(self.latency, |(_, d)| *d)
    }
}

/// What a fault check decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultHit {
    /// Answer 429 (the simulator shapes the body and decides on `Retry-After`).
    TooManyRequests { retry_after_secs: Option<u64> },
    /// Answer 500 with the simulator's usual error body.
    ServerError,
}

/// Shared, switchable faults. Random choices come from a seeded generator, so a test
/// run is repeatable.
#[derive(Clone)]
pub struct Faults {
    inner: Arc<Mutex<(FaultConfig, fastrand::Rng)>>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new((
                FaultConfig::default(),
                fastrand::Rng::with_seed(7),
            ))),
        }
    }
}

impl Faults {
    pub fn set(&self, config: FaultConfig) {
        lock(&self.inner).0 = config;
    }

    pub fn update(&self, f: impl FnOnce(&mut FaultConfig)) {
        f(&mut lock(&self.inner).0);
    }

    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    pub fn config(&self) -> FaultConfig {
        lock(&self.inner).0.clone()
    }

    /// Sleeps the configured latency, then decides whether this request fails.
    pub async fn check(&self, path_and_query: &str) -> Option<FaultHit> {
        let (latency, hit) = {
            let mut guard = lock(&self.inner);
            let (config, rng) = &mut *guard;
            let hit = if config
                .failing_route
                .as_deref()
                .is_some_and(|r| path_and_query.contains(r))
            {
                Some(FaultHit::ServerError)
            } else if config.rate_429 > 0.0 && rng.f64() < config.rate_429 {
                Some(FaultHit::TooManyRequests {
                    retry_after_secs: config.retry_after_secs,
                })
            } else if config.rate_500 > 0.0 && rng.f64() < config.rate_500 {
                Some(FaultHit::ServerError)
            } else {
                None
            };
            (config.latency_for(path_and_query), hit)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        hit
    }
}

/// One request as a simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    /// The status the simulator answered.
    pub status: u16,
}

/// The rows each recent filter matched, as row indices in id order, keyed by the filter (its id
/// bounds left out: they are binary-searched), oldest out first once `capacity` are held. Both
/// PSA simulators keep one per tenant version, so a page costs its own rows, not the tenant's.
#[derive(Debug, Default)]
pub struct MatchMemo {
    matched: std::collections::HashMap<String, Arc<Vec<u32>>>,
    order: std::collections::VecDeque<String>,
}

impl MatchMemo {
    /// At most this many distinct filters are remembered.
    pub const CAPACITY: usize = 64;

    /// The rows `key` matched, computing them with `scan` (indices in id order) the first time.
    pub fn get_or_scan(&mut self, key: String, scan: impl FnOnce() -> Vec<u32>) -> Arc<Vec<u32>> {
        if let Some(hit) = self.matched.get(&key) {
            return hit.clone();
        }
        let rows = Arc::new(scan());
        if self.order.len() >= Self::CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.matched.remove(&old);
        }
        self.order.push_back(key.clone());
        self.matched.insert(key, rows.clone());
        rows
    }
}

/// Every request a simulator answered, in order.
#[derive(Clone, Default)]
pub struct RequestLog {
    inner: Arc<Mutex<Vec<LoggedRequest>>>,
    /// (requests being answered now, the most there ever were at once).
    in_flight: Arc<Mutex<(usize, usize)>>,
}

impl RequestLog {
    /// The most requests this simulator was answering at once (latency included): a client's
    /// concurrency, as the server saw it.
    pub fn peak_in_flight(&self) -> usize {
        lock(&self.in_flight).1
    }

    pub fn push(&self, r: LoggedRequest) {
        lock(&self.inner).push(r);
    }

    pub fn all(&self) -> Vec<LoggedRequest> {
        lock(&self.inner).clone()
    }

    pub fn len(&self) -> usize {
        lock(&self.inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Requests whose method matches and whose path contains `path_part`.
    pub fn count(&self, method: &str, path_part: &str) -> usize {
        lock(&self.inner)
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.uri.contains(path_part))
            .count()
    }

    /// Forgets the requests, and the peak of requests in flight.
    pub fn clear(&self) {
        let mut f = lock(&self.in_flight);
        f.1 = f.0;
        drop(f);
        lock(&self.inner).clear();
    }
}

/// axum middleware that appends every request and its answer's status to a [`RequestLog`].
/// Use with `axum::middleware::from_fn_with_state(log.clone(), sims::record_request)`;
/// apply it as the outermost layer so auth failures and injected faults are logged too.
pub async fn record_request(
    axum::extract::State(log): axum::extract::State<RequestLog>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().to_string();
    let uri = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    // Released on drop: a request whose client went away is no longer in flight.
    struct Answering(Arc<Mutex<(usize, usize)>>);
    impl Drop for Answering {
        fn drop(&mut self) {
            lock(&self.0).0 -= 1;
        }
    }
    let answering = {
        let mut f = lock(&log.in_flight);
        f.0 += 1;
        f.1 = f.1.max(f.0);
        Answering(log.in_flight.clone())
    };
    let response = next.run(req).await;
    drop(answering);
    log.push(LoggedRequest {
        method,
        uri,
        status: response.status().as_u16(),
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_latency_applies_to_its_route_only() {
        let config = FaultConfig {
            latency: Duration::from_millis(1),
            route_latency: vec![
                ("/query".into(), Duration::from_millis(500)),
                ("/count".into(), Duration::from_millis(30)),
            ],
            ..FaultConfig::default()
        };
        let ms = |p: &str| config.latency_for(p).as_millis();
        assert_eq!(ms("/V1.0/ConfigurationItems/query"), 500);
        assert_eq!(ms("/api/vendor-api/service/1/count?no_build=true"), 30);
        assert_eq!(ms("/V1.0/ThresholdInformation"), 1);
    }
}
