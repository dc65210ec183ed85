//! Request thresholds and thread limits (docs/apis.md §3.7).
//!
//! - A rolling window (60 minutes) counts authenticated API requests; the hourly threshold
//!   (10,000 by default) is shared by every integration of the database. Above 50% of it the
//!   API slows each call down; beyond 100% it refuses calls (429) until usage falls.
//! - Integrations may run at most 3 concurrent requests per object endpoint per API
//!   tracking identifier (integration code); the simulator answers a 4th with 429 \[I: the
//!   real error is undocumented].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::lock;

pub(crate) const DEFAULT_THRESHOLD: u64 = 10_000;
pub(crate) const DEFAULT_WINDOW: Duration = Duration::from_secs(60 * 60);
pub(crate) const DEFAULT_MAX_IN_FLIGHT: usize = 3;

/// The rolling request counter.
pub(crate) struct Threshold {
    pub limit: u64,
    pub window: Duration,
    hits: VecDeque<Instant>,
}

/// What the counter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Counted; `slow` when usage is above half the threshold.
    Admitted { slow: bool },
    /// Over the threshold: refused, and not counted.
    Refused,
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold {
            limit: DEFAULT_THRESHOLD,
            window: DEFAULT_WINDOW,
            hits: VecDeque::new(),
        }
    }
}

impl Threshold {
    fn prune(&mut self, now: Instant) {
        while let Some(first) = self.hits.front() {
            if now.saturating_duration_since(*first) >= self.window {
                self.hits.pop_front();
            } else {
                break;
            }
        }
    }

    /// Requests counted in the current window.
    pub(crate) fn used(&mut self, now: Instant) -> u64 {
        self.prune(now);
        self.hits.len() as u64
    }

    /// Counts one request unless the threshold is already used up.
    pub(crate) fn admit(&mut self, now: Instant) -> Admission {
        let used = self.used(now);
        if used >= self.limit {
            return Admission::Refused;
        }
        self.hits.push_back(now);
        Admission::Admitted {
            slow: (used + 1) * 2 > self.limit,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.hits.clear();
    }
}

/// Requests in flight per (integration code, endpoint).
#[derive(Clone)]
pub(crate) struct InFlight {
    counts: Arc<Mutex<HashMap<(String, String), usize>>>,
    /// The most requests seen in flight at once per endpoint (any integration code).
    peaks: Arc<Mutex<HashMap<String, usize>>>,
}

impl InFlight {
    pub(crate) fn new() -> Self {
        InFlight {
            counts: Arc::new(Mutex::new(HashMap::new())),
            peaks: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The most requests of `endpoint` (an entity) that were in flight at once.
    pub(crate) fn peak(&self, endpoint: &str) -> usize {
        lock(&self.peaks)
            .get(&endpoint.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Takes a slot, or None when `max` requests of this key are already running.
    pub(crate) fn try_acquire(
        &self,
        integration_code: &str,
        endpoint: &str,
        max: usize,
    ) -> Option<InFlightGuard> {
        let key = (integration_code.to_string(), endpoint.to_ascii_lowercase());
        let mut counts = lock(&self.counts);
        let n = counts.entry(key.clone()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        let mut peaks = lock(&self.peaks);
        let peak = peaks.entry(key.1.clone()).or_insert(0);
        *peak = (*peak).max(*n);
        drop(peaks);
        Some(InFlightGuard {
            counts: self.counts.clone(),
            key,
        })
    }
}

/// Releases its slot when dropped (also when the client goes away mid-request).
pub(crate) struct InFlightGuard {
    counts: Arc<Mutex<HashMap<(String, String), usize>>>,
    key: (String, String),
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        if let Some(n) = counts.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_counts_slows_and_refuses() {
        let mut t = Threshold {
            limit: 4,
            ..Threshold::default()
        };
        let now = Instant::now();
        assert_eq!(t.admit(now), Admission::Admitted { slow: false });
        assert_eq!(t.admit(now), Admission::Admitted { slow: false });
        assert_eq!(t.admit(now), Admission::Admitted { slow: true });
        assert_eq!(t.admit(now), Admission::Admitted { slow: true });
        assert_eq!(t.admit(now), Admission::Refused);
        assert_eq!(t.used(now), 4);
        assert_eq!(t.used(now + DEFAULT_WINDOW), 0);
    }

    #[test]
    fn in_flight_slots_are_released() {
        let f = InFlight::new();
        let a = f.try_acquire("code", "Companies", 2);
        let b = f.try_acquire("code", "companies", 2);
        assert!(a.is_some() && b.is_some());
        assert!(f.try_acquire("code", "Companies", 2).is_none());
        assert!(f.try_acquire("code", "ConfigurationItems", 2).is_some());
        assert!(f.try_acquire("other", "Companies", 2).is_some());
        drop(a);
        assert!(f.try_acquire("code", "Companies", 2).is_some());
    }
}
