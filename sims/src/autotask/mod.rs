//! Autotask PSA REST API v1.0 simulator (docs/apis.md §3).
//!
//! Served over real HTTP on loopback. It models what a client must cope with, traps
//! included (§3.9 "Simulator checklist"):
//!
//! - **Discovery** (§3.1): `GET /ATServicesRest/versioninformation` → `{"apiVersions":["V1.0"]}`;
//!   `GET /ATServicesRest/V1.0/zoneInformation?user=<email>` (no auth) → `{zoneName, url, webUrl, ci}`
//!   where `url` points back at this simulator (built from the request's `Host`) and ends
//!   in `/`. An unknown user → 500 `{"errors":["Zone information could not be determined"]}`
//!   (the real message). Paths ignore case (`/atservicesrest/v1.0/...`).
//! - **Auth** (§3.2): headers `ApiIntegrationCode`, `UserName`, `Secret` on every other call.
//!   A wrong secret → 401; a wrong or missing username, a wrong or missing integration code,
//!   or a missing secret → **500**. All as `{"errors":["…"]}`.
//! - **Queries** (§3.3, §3.5): `POST /V1.0/{Entity}/query` with a JSON body, or
//!   `GET /V1.0/{Entity}/query?search=<JSON>`; `…/query/count` → `{"queryCount":N}`;
//!   `GET /V1.0/{Entity}/{id}` → `{"item":{…}}` (`{"item":null}` for a missing id \[I\]);
//!   `GET /V1.0/{Entity}/entityInformation/fields`. Entities: `Companies`,
//!   `ConfigurationItems`, `ConfigurationItemTypes`. Filter semantics: see `filter.rs`.
//! - **Paging** (§3.4): at most `MaxRecords` (1..=500, default 500) rows per page, sorted
//!   by id, `pageDetails {count, requestCount, prevPageUrl, nextPageUrl}`; the next page
//!   of a POST query must be POSTed again with the same filter (GET → 405, another filter
//!   → 500); GET-search cursors carry `&search=` and are fetched with GET. See `paging.rs`.
//! - **Limits** (§3.7): a rolling 60-minute request counter with a settable hourly
//!   threshold (10,000), `GET /V1.0/ThresholdInformation` (which counts itself), latency
//!   above 50% of it, 429 beyond it, and at most 3 requests in flight per endpoint per
//!   integration code (a 4th → 429). See `limits.rs`.
//! - **Faults**: [`crate::Faults`] are checked on every request after auth (and on the
//!   unauthenticated discovery calls): an injected 429 answers
//!   `{"errors":["Request Threshold Exceeded"]}` (with `Retry-After` only when configured),
//!   an injected 500 `{"errors":["An unexpected error occurred"]}`.
//!
//! Not modelled: writes (create/update/delete answer 405), other entities (404),
//! `Contacts`, child collections (`/Companies/{id}/Contacts`), impersonation, the
//! threshold e-mail, real per-database sharing across simulators.

mod data;
mod filter;
mod limits;
mod model;
mod paging;
mod routes;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;

use crate::{Faults, RequestLog, RunningServer, lock};

pub use data::{AtGenerateSpec, MISSING_TYPE_ID};
pub use model::{AtCompany, AtConfigurationItem, AtConfigurationItemType, AtTenant, AtUdf};

use limits::{InFlight, Threshold};
use model::Tables;
use paging::CursorRegistry;

/// The API user's credentials (docs/apis.md §3.2): the user name is an e-mail address, the
/// integration code is the integration's "tracking identifier".
#[derive(Clone, PartialEq, Eq)]
pub struct AtCredentials {
    pub username: String,
    pub secret: String,
    pub integration_code: String,
}

impl AtCredentials {
    /// The simulator's default API user.
    pub fn sample() -> Self {
        AtCredentials {
            username: "sync-api@northwind-msp.example".to_string(),
            secret: "sim*AT~7Qv2kLm@9Xa4".to_string(),
            integration_code: "SIMSYNTHESIZESYNC0000000000".to_string(),
        }
    }
}

/// Never prints the secret.
impl std::fmt::Debug for AtCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtCredentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("integration_code", &self.integration_code)
            .finish()
    }
}

/// Default latency added per call above half the threshold. The real API adds 0.5–1 s
/// (§3.7); tests want speed.
const DEFAULT_SLOW_LATENCY: Duration = Duration::from_millis(20);

struct Data {
    tenant: AtTenant,
    tables: Arc<Tables>,
}

struct Inner {
    credentials: AtCredentials,
    data: Mutex<Data>,
    threshold: Mutex<Threshold>,
    in_flight: InFlight,
    max_in_flight: AtomicUsize,
    slow_latency: Mutex<Duration>,
    cursors: Mutex<CursorRegistry>,
    faults: Faults,
    log: RequestLog,
    /// Where [`AutotaskSim::start`] bound, for URLs when a request has no `Host`.
    own_addr: Mutex<Option<SocketAddr>>,
    /// The zone's own origin, when discovery is served elsewhere ([`AutotaskSim::start_split`]).
    zone_addr: Mutex<Option<SocketAddr>>,
}

/// The two origins of [`AutotaskSim::start_split`].
pub struct AtSplitServers {
    /// Answers `versioninformation` and `zoneInformation` only.
    pub discovery: RunningServer,
    /// The zone: the API, and its cursors' `nextPageUrl`s.
    pub zone: RunningServer,
}

/// A simulated Autotask database and its REST API. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct AutotaskSim {
    inner: Arc<Inner>,
}

impl AutotaskSim {
    /// A simulator holding `tenant`, with [`AtCredentials::sample`] as its API user.
    pub fn new(tenant: AtTenant) -> Self {
        Self::with_credentials(tenant, AtCredentials::sample())
    }

    /// A simulator holding `tenant` whose API user is `credentials`.
    pub fn with_credentials(tenant: AtTenant, credentials: AtCredentials) -> Self {
        let tables = Arc::new(Tables::build(&tenant));
        AutotaskSim {
            inner: Arc::new(Inner {
                credentials,
                data: Mutex::new(Data { tenant, tables }),
                threshold: Mutex::new(Threshold::default()),
                in_flight: InFlight::new(),
                max_in_flight: AtomicUsize::new(limits::DEFAULT_MAX_IN_FLIGHT),
                slow_latency: Mutex::new(DEFAULT_SLOW_LATENCY),
                cursors: Mutex::new(CursorRegistry::default()),
                faults: Faults::default(),
                log: RequestLog::default(),
                own_addr: Mutex::new(None),
                zone_addr: Mutex::new(None),
            }),
        }
    }

    /// The whole API, wrapped in [`crate::record_request`] (outermost, so auth failures,
    /// refusals and injected faults are logged too).
    pub fn router(&self) -> Router {
        Router::new()
            .fallback(routes::handle)
            .with_state(self.clone())
            .layer(axum::middleware::from_fn_with_state(
                self.inner.log.clone(),
                crate::record_request,
            ))
    }

    /// Serves the API on an ephemeral loopback port. The zone URL is
    /// `<base_url>/ATServicesRest/`.
    pub async fn start(&self) -> std::io::Result<RunningServer> {
        let server = crate::serve(self.router(), crate::loopback()).await?;
        *lock(&self.inner.own_addr) = Some(server.addr);
        Ok(server)
    }

    /// Serves discovery and the zone on two loopback origins, as the real service does
    /// (`webservices.autotask.net` discovers, `webservicesN.autotask.net` serves the tenant,
    /// docs/apis.md §3.1): a client that ignores the discovered zone, or rewrites a
    /// `nextPageUrl` onto another host, fails. Point `AUTOTASK_DISCOVERY_URL` at
    /// `discovery.base_url() + "/ATServicesRest/"` and leave `AUTOTASK_BASE_URL` unset.
    pub async fn start_split(&self) -> std::io::Result<AtSplitServers> {
        let zone = self.start().await?;
        *lock(&self.inner.zone_addr) = Some(zone.addr);
        let discovery_router = Router::new()
            .fallback(routes::handle_discovery)
            .with_state(self.clone())
            .layer(axum::middleware::from_fn_with_state(
                self.inner.log.clone(),
                crate::record_request,
            ));
        let discovery = crate::serve(discovery_router, crate::loopback()).await?;
        Ok(AtSplitServers { discovery, zone })
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    pub fn requests(&self) -> &RequestLog {
        &self.inner.log
    }

    pub fn credentials(&self) -> AtCredentials {
        self.inner.credentials.clone()
    }

    /// Sets the hourly request threshold (10,000 by default, §3.7).
    pub fn set_hourly_threshold(&self, n: u64) {
        lock(&self.inner.threshold).limit = n;
    }

    /// Requests counted in the current rolling window: every authenticated API call,
    /// thread-limit refusals and injected faults included; auth failures, discovery calls
    /// and calls refused for the threshold itself are not counted.
    pub fn threshold_used(&self) -> u64 {
        lock(&self.inner.threshold).used(Instant::now())
    }

    /// Forgets every counted request, as if the window had rolled past them.
    pub fn reset_threshold_usage(&self) {
        lock(&self.inner.threshold).reset();
    }

    /// Length of the rolling window (60 minutes by default); shorten it to test recovery.
    pub fn set_threshold_window(&self, window: Duration) {
        lock(&self.inner.threshold).window = window;
    }

    /// Latency added to each call while usage is above half the threshold.
    pub fn set_latency_per_call_above_half(&self, d: Duration) {
        *lock(&self.inner.slow_latency) = d;
    }

    /// Most concurrent requests per endpoint per integration code (3 by default, §3.7).
    pub fn set_max_in_flight_per_entity(&self, n: usize) {
        self.inner.max_in_flight.store(n, Ordering::Relaxed);
    }

    /// The most requests to `entity` (e.g. `ConfigurationItems`) that were in flight at once,
    /// refused ones not included: a client reading in parallel shows its streams here.
    pub fn peak_in_flight(&self, entity: &str) -> usize {
        self.inner.in_flight.peak(entity)
    }

    /// A copy of the current data.
    pub fn tenant(&self) -> AtTenant {
        lock(&self.inner.data).tenant.clone()
    }

    /// Changes the data; later requests see the change (cursors already issued keep
    /// paging by id over the new data, as the real keyset paging would).
    pub fn update_tenant(&self, f: impl FnOnce(&mut AtTenant)) {
        let mut data = lock(&self.inner.data);
        f(&mut data.tenant);
        data.tables = Arc::new(Tables::build(&data.tenant));
    }

    fn tables(&self) -> Arc<Tables> {
        lock(&self.inner.data).tables.clone()
    }
}
