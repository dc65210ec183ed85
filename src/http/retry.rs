//! Whether a failed try is tried again, and after how long: a pure decision, testable
//! without a server or a clock (the caller sleeps and counts).

use std::time::Duration;

use reqwest::StatusCode;

/// The longest single wait between two tries, whatever the backoff says.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How hard a client tries (README "Tuning").
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first try.
    pub max_retries: u32,
    /// The first backoff; it doubles with each retry, up to [`MAX_BACKOFF`].
    pub base_delay: Duration,
    /// The most one request may spend waiting between its tries.
    pub max_wait: Duration,
}

/// What went wrong with one try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A non-2xx, non-3xx answer. `transient` is the API's own verdict (429, 5xx, …);
    /// `retry_after` is the server's `Retry-After`, when it sent one.
    Status {
        status: StatusCode,
        transient: bool,
        retry_after: Option<Duration>,
    },
    /// The connection was refused: the request surely never reached the server.
    Connect,
    /// No answer in time, or the answer was cut off: the server may have acted on it.
    Interrupted,
    /// A redirect (never followed) or an answer over the size cap: trying again cannot help.
    Refused,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Retry(Duration),
    /// Stop; `over_budget` when only the wait budget stood in the way.
    GiveUp {
        over_budget: bool,
    },
}

/// Decides after try number `attempt` (1-based), having already waited `waited` between
/// earlier tries. A request that is not idempotent is retried only when it surely did not
/// take effect (429, or a refused connection). `jitter` in [0, 1) picks the point within the
/// upper half of the exponential backoff.
pub fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    waited: Duration,
    failure: Failure,
    idempotent: bool,
    jitter: f64,
) -> Decision {
    let (retryable, told) = match failure {
        Failure::Status {
            status,
            transient,
            retry_after,
        } => (
            transient && (idempotent || status == StatusCode::TOO_MANY_REQUESTS),
            retry_after,
        ),
        Failure::Connect => (true, None),
        Failure::Interrupted => (idempotent, None),
        Failure::Refused => (false, None),
    };
    if !retryable || attempt > policy.max_retries {
        return Decision::GiveUp { over_budget: false };
    }
    let delay = told.unwrap_or_else(|| backoff(policy.base_delay, attempt, jitter));
    // A server's `Retry-After` may be anything, up to u64::MAX seconds: saturate.
    if waited.saturating_add(delay) > policy.max_wait {
        return Decision::GiveUp { over_budget: true };
    }
    Decision::Retry(delay)
}

/// A point in the upper half of `base * 2^(attempt-1)`, capped at [`MAX_BACKOFF`].
pub fn backoff(base: Duration, attempt: u32, jitter: f64) -> Duration {
    let full = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let half = full / 2;
    half + half.mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(100),
        max_wait: Duration::from_secs(10),
    };

    fn status(code: u16, transient: bool) -> Failure {
        Failure::Status {
            status: StatusCode::from_u16(code).unwrap(),
            transient,
            retry_after: None,
        }
    }

    #[test]
    fn transient_statuses_are_retried_until_the_limit() {
        for attempt in 1..=3 {
            assert!(matches!(
                decide(
                    &POLICY,
                    attempt,
                    Duration::ZERO,
                    status(503, true),
                    true,
                    0.5
                ),
                Decision::Retry(_)
            ));
        }
        assert_eq!(
            decide(&POLICY, 4, Duration::ZERO, status(503, true), true, 0.5),
            Decision::GiveUp { over_budget: false }
        );
        assert_eq!(
            decide(&POLICY, 1, Duration::ZERO, status(400, false), true, 0.5),
            Decision::GiveUp { over_budget: false }
        );
    }

    #[test]
    fn writes_are_retried_only_when_they_surely_did_not_happen() {
        assert_eq!(
            decide(&POLICY, 1, Duration::ZERO, status(503, true), false, 0.0),
            Decision::GiveUp { over_budget: false }
        );
        assert!(matches!(
            decide(&POLICY, 1, Duration::ZERO, status(429, true), false, 0.0),
            Decision::Retry(_)
        ));
        assert!(matches!(
            decide(&POLICY, 1, Duration::ZERO, Failure::Connect, false, 0.0),
            Decision::Retry(_)
        ));
        assert_eq!(
            decide(&POLICY, 1, Duration::ZERO, Failure::Interrupted, false, 0.0),
            Decision::GiveUp { over_budget: false }
        );
        assert!(matches!(
            decide(&POLICY, 1, Duration::ZERO, Failure::Interrupted, true, 0.0),
            Decision::Retry(_)
        ));
    }

    #[test]
    fn redirects_and_oversized_answers_are_never_retried() {
        assert_eq!(
            decide(&POLICY, 1, Duration::ZERO, Failure::Refused, true, 0.0),
            Decision::GiveUp { over_budget: false }
        );
    }

    #[test]
    fn retry_after_wins_and_the_budget_holds_for_every_path() {
        let told = Failure::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            transient: true,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            decide(&POLICY, 1, Duration::ZERO, told, true, 0.0),
            Decision::Retry(Duration::from_secs(7))
        );
        assert_eq!(
            decide(&POLICY, 1, Duration::from_secs(4), told, true, 0.0),
            Decision::GiveUp { over_budget: true }
        );
        assert_eq!(
            decide(
                &POLICY,
                1,
                Duration::from_secs(10),
                Failure::Interrupted,
                true,
                0.0
            ),
            Decision::GiveUp { over_budget: true },
            "a cut-off answer spends the same budget"
        );
    }

    /// Regression: `Retry-After: 18446744073709551615` overflowed the wait sum and panicked.
    #[test]
    fn a_huge_retry_after_gives_up_instead_of_overflowing() {
        let told = Failure::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            transient: true,
            retry_after: Some(Duration::from_secs(u64::MAX)),
        };
        assert_eq!(
            decide(&POLICY, 2, Duration::from_secs(1), told, true, 0.0),
            Decision::GiveUp { over_budget: true }
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..=20 {
            let full = Duration::from_millis(100)
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(MAX_BACKOFF);
            for jitter in [0.0, 0.5, 0.999] {
                let d = backoff(Duration::from_millis(100), attempt, jitter);
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
            }
        }
    }
}
