//! Each API's limits, in one place (docs/apis.md §1.1, §2.7, §3.7), and what the clients do
//! to stay within them.

use crate::error::Side;

/// What one API allows, and how this tool stays under it. Large reads run as a few
/// concurrent id-range streams ([`AUTOTASK_READ_STREAMS`], `CONNECTWISE_READ_STREAMS`);
/// Gradient's count writes run concurrently up to `SYNC_WRITE_CONCURRENCY` (at most
/// [`MAX_WRITE_CONCURRENCY`]), paced under the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// The whole run's requests to this API are paced under this rate.
    pub pace: Option<Pace>,
}

/// A request rate: `requests` per `per`, of which up to `burst` may go at once after a quiet
/// spell (`http::Pacer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub requests: u32,
    pub per: std::time::Duration,
    pub burst: u32,
}

/// Gradient's pace: `SYNC_GRADIENT_RATE` a second, evenly spaced (no burst).
pub const GRADIENT_PACE: Pace = Pace {
    requests: GRADIENT_DEFAULT_RATE,
    per: std::time::Duration::from_secs(1),
    burst: 1,
};

/// Gradient allows 100 requests a second (docs/apis.md §1.1): by default stay a little under
/// it; `SYNC_GRADIENT_RATE` may set 1 to [`GRADIENT_MAX_RATE`].
pub const GRADIENT: ApiLimits = ApiLimits {
    pace: Some(GRADIENT_PACE),
};

/// The default pace of Gradient requests, a second.
pub const GRADIENT_DEFAULT_RATE: u32 = 90;

/// Gradient's own limit (docs/apis.md §1.1): `SYNC_GRADIENT_RATE` may not go above it.
pub const GRADIENT_MAX_RATE: u32 = 100;

/// ConnectWise throttles above about 1,000 requests a minute and asks clients to limit
/// parallel requests (docs/apis.md §2.7): a run's client stays at 600 a minute after a burst of
/// 20 (so at most 620 in any minute), whatever the server's speed and the number of read
/// streams.
pub const CONNECTWISE: ApiLimits = ApiLimits {
    pace: Some(Pace {
        requests: CONNECTWISE_REQUESTS_PER_MINUTE,
        per: std::time::Duration::from_secs(60),
        burst: 20,
    }),
};

/// The most requests a minute this tool sends ConnectWise.
pub const CONNECTWISE_REQUESTS_PER_MINUTE: u32 = 600;

/// Concurrent id-range streams of one ConnectWise read by default (`CONNECTWISE_READ_STREAMS`),
/// and the most it may be set to: at about 300 ms a page, 3 streams make about 600 requests a
/// minute, the pace above.
pub const CONNECTWISE_READ_STREAMS: usize = 3;
pub const CONNECTWISE_MAX_READ_STREAMS: usize = 8;

/// Autotask allows 10,000 requests an hour shared by every integration of the tenant
/// (docs/apis.md §3.7): no pace, but a budget check before each read (`AUTOTASK_MAX_SHARE`).
pub const AUTOTASK: ApiLimits = ApiLimits { pace: None };

/// Autotask allows 3 requests in flight per entity per integration (docs/apis.md §3.7): a
/// read of one entity runs as at most this many concurrent id-range streams.
pub const AUTOTASK_READ_STREAMS: usize = 3;

/// The most count writes `SYNC_WRITE_CONCURRENCY` may ask for.
pub const MAX_WRITE_CONCURRENCY: usize = 32;

/// Above this share of its hourly threshold, Autotask slows every call down and other
/// integrations of the tenant get close to refusals (docs/apis.md §3.7).
pub const AUTOTASK_THRESHOLD_WARN_PERCENT: f64 = 50.0;

/// The limits of the API on `side`.
pub fn of(side: Side) -> ApiLimits {
    match side {
        Side::Synthesize => GRADIENT,
        Side::ConnectWise => CONNECTWISE,
        Side::Autotask => AUTOTASK,
        // Nothing public documents a CrewHu limit (docs/apis.md §5b); one read a run.
        Side::CrewHu => ApiLimits { pace: None },
    }
}
