//! The scoring window and the times in the report (contract §3b, §5).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::invalid::Invalid;

/// The widest window `--days` accepts: a year.
pub const MAX_DAYS: u32 = 365;

/// A time in the report: Unix seconds, serialised as RFC 3339 UTC (`2026-12-01T12:00:00Z`,
/// contract §5: "times are UTC in RFC 3339").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime(pub i64);

impl std::fmt::Display for UtcTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::text::utc(self.0))
    }
}

impl Serialize for UtcTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Reads a time back from a previous report (a snapshot, [`super::compare::Snapshot`]).
impl<'de> Deserialize<'de> for UtcTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<UtcTime, D::Error> {
        let text = String::deserialize(d)?;
        crate::text::parse_utc(&text)
            .map(UtcTime)
            .map_err(serde::de::Error::custom)
    }
}

/// The window `[to − days·86400, to)`: closed at `from`, open at `to` (contract §5), where
/// `to` is when the run takes place. Serialises as `{"days", "from", "to"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub days: u32,
    pub from: UtcTime,
    pub to: UtcTime,
}

impl Window {
    /// The window of `days` days (1 to [`MAX_DAYS`]) ending at `to` (Unix seconds, the run's
    /// "now"). `days` is `i64` so a flag's value is checked here whatever its sign.
    pub fn new(days: i64, to: i64) -> Result<Window, Invalid> {
        let days = u32::try_from(days)
            .ok()
            .filter(|d| (1..=MAX_DAYS).contains(d))
            .ok_or_else(|| {
                Invalid(format!(
                    "--days must be a whole number of days from 1 to {MAX_DAYS}, not {days}"
                ))
            })?;
        Ok(Window {
            days,
            from: UtcTime(to - i64::from(days) * 86_400),
            to: UtcTime(to),
        })
    }

    /// Whether a time (Unix seconds) falls in the window: `from ≤ t < to`.
    pub fn contains(&self, t: i64) -> bool {
        self.from.0 <= t && t < self.to.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_utc;

    #[test]
    fn closed_at_from_open_at_to() {
        let to = parse_utc("2026-12-01T12:00:00Z").unwrap();
        let w = Window::new(90, to).unwrap();
        assert_eq!(w.from.to_string(), "2026-09-02T12:00:00Z");
        assert!(w.contains(w.from.0), "from is inside");
        assert!(!w.contains(w.from.0 - 1));
        assert!(w.contains(to - 1));
        assert!(!w.contains(to), "to is outside");
        assert_eq!(
            serde_json::to_value(w).unwrap(),
            serde_json::json!({"days": 90, "from": "2026-09-02T12:00:00Z",
                               "to": "2026-12-01T12:00:00Z"})
        );
    }

    #[test]
    fn days_are_validated() {
        assert!(Window::new(1, 0).is_ok());
        assert!(Window::new(365, 0).is_ok());
        for bad in [0, -1, 366, i64::MAX] {
            let e = Window::new(bad, 0).unwrap_err();
            assert!(e.0.starts_with("--days must be"), "{e}");
        }
    }

    #[test]
    fn times_read_back() {
        let t: UtcTime = serde_json::from_str("\"2026-12-01T12:00:00Z\"").unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-12-01T12:00:00Z\""
        );
        assert!(serde_json::from_str::<UtcTime>("\"soon\"").is_err());
    }
}
