//! How every client behaves on the wire (README "Tuning"); resolved from the settings by
//! `config::http`.

use std::time::Duration;

/// HTTP behaviour shared by every client (README "Tuning").
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub timeout: Duration,
    pub max_retries: u32,
    pub retry_base_delay: Duration,
    /// The most one request may spend waiting between its retries.
    pub max_retry_wait: Duration,
    /// Count writes in flight at once.
    pub write_concurrency: usize,
    /// Requests a second to Gradient, every request of the run (`SYNC_GRADIENT_RATE`).
    pub gradient_rate: u32,
    /// The largest answer body read from any API; above it the read fails.
    pub max_body_bytes: u64,
    pub proxies: Proxies,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_retries: 5,
            retry_base_delay: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(300),
            write_concurrency: 8,
            gradient_rate: crate::http::limits::GRADIENT_DEFAULT_RATE,
            max_body_bytes: 32 * 1024 * 1024,
            proxies: Proxies::default(),
        }
    }
}

/// Proxies, as configured (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    pub https: Option<String>,
    pub http: Option<String>,
    pub all: Option<String>,
    pub no_proxy: Option<String>,
}
