//! The five engagement metrics, the overall score and its band, exactly as contract §3b
//! defines them. Integer arithmetic throughout: `round` rounds halves up, and hours compare
//! exactly against the band limits.

use serde::{Deserialize, Serialize};

use super::hours::Hours;
use super::window::Window;

/// A ticket resolved at most this long after it was entered is a first-touch resolution
/// (contract §3b: "within 4 hours (≤ 14,400 s)").
pub const FIRST_TOUCH_SECS: i64 = 14_400;

/// What one ConnectWise ticket contributes, from its times (docs/apis.md §2.8), each parsed
/// with [`crate::text::parse_utc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketTimes {
    /// `_info.dateEntered` (tickets have no top-level `dateEntered`, docs/apis.md §2.8).
    pub entered: i64,
    /// `dateResolved`, when present.
    pub resolved: Option<i64>,
    /// `closedFlag` (absent reads as `false`).
    pub closed_flag: bool,
    /// `closedDate`, when present.
    pub closed: Option<i64>,
}

/// Whether a ticket counts towards `help_desk_usage` and `first_touch_resolution`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketCounts {
    pub entered_in_window: bool,
    /// Only ever true for a ticket entered in the window.
    pub resolved_within_4h: bool,
}

impl TicketTimes {
    /// When the ticket was resolved (contract §3b): `dateResolved`, or else `closedDate` when
    /// `closedFlag` is set; `None` for an open ticket.
    pub fn resolution(&self) -> Option<i64> {
        self.resolved
            .or(if self.closed_flag { self.closed } else { None })
    }

    /// How the ticket counts in `window`.
    ///
    /// A resolution stamped *before* the entry (a ticket logged after the call that already
    /// fixed the problem, or clocks that disagree) is taken as resolved at the moment of entry:
    /// zero time, so a first-touch resolution. It is never a negative duration, and it is
    /// not discarded, since the customer's problem was in fact solved at first touch.
    pub fn counts(&self, window: &Window) -> TicketCounts {
        let entered_in_window = window.contains(self.entered);
        let resolved_within_4h = entered_in_window
            && self
                .resolution()
                .is_some_and(|r| r.saturating_sub(self.entered).max(0) <= FIRST_TOUCH_SECS);
        TicketCounts {
            entered_in_window,
            resolved_within_4h,
        }
    }
}

/// CrewHu survey answers for one company (docs/apis.md §5b: rating 5 positive, 0 neutral,
/// −5 negative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsatTally {
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
}

impl CsatTally {
    /// Surveys with a rating: the share's denominator.
    pub fn rated(&self) -> u64 {
        self.positive + self.neutral + self.negative
    }

    /// Counts one CrewHu rating; `false` (and nothing counted) for any value other than
    /// 5, 0 or −5.
    pub fn add_rating(&mut self, rating: i64) -> bool {
        match rating {
            5 => self.positive += 1,
            0 => self.neutral += 1,
            -5 => self.negative += 1,
            _ => return false,
        }
        true
    }
}

/// One company's raw inputs over the window, as the verb reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Service tickets whose `_info.dateEntered` is in the window.
    pub tickets: u64,
    /// Of those, the ones resolved within 4 hours.
    pub resolved_within_4h: u64,
    /// `actualHours` summed over time entries with `billableOption` = `Billable` and
    /// `timeStart` in the window.
    pub billable_hours: Hours,
    /// Agreements (not `cancelledFlag`) whose `startDate` is in the window, plus additions
    /// (no `cancelledDate`) whose `effectiveDate` is.
    pub procurement: u64,
    /// `None` when there is no CSAT source (no CrewHu token and no `--csat` file). With a
    /// source, a company without surveys has a zero tally; either way the metric is `null`.
    pub csat: Option<CsatTally>,
}

impl Activity {
    /// Adds one ticket, through [`TicketTimes::counts`].
    pub fn add_ticket(&mut self, ticket: &TicketTimes, window: &Window) {
        let c = ticket.counts(window);
        self.tickets += u64::from(c.entered_in_window);
        self.resolved_within_4h += u64::from(c.resolved_within_4h);
    }
}

/// A metric in the report: its raw quantity, its 0–5 score and its weight (contract §5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metric<R> {
    pub raw: R,
    pub score: u8,
    pub weight: u8,
}

/// `first_touch_resolution`, which also carries the tickets it is a share of, and that share
/// (`null` without tickets), to four decimals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FirstTouch {
    pub raw: u64,
    pub score: u8,
    pub weight: u8,
    pub tickets: u64,
    pub rate: Option<f64>,
}

/// `support_satisfaction`: `raw` is the positive share of rated surveys, to four decimals;
/// the tally it comes from is kept beside it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Satisfaction {
    pub raw: f64,
    pub score: u8,
    pub weight: u8,
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
}

/// The five metrics, named as in contract §5. `support_satisfaction` is `None` (`null` in
/// JSON, never 0) without a CSAT source or without rated surveys.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metrics {
    pub help_desk_usage: Metric<u64>,
    pub first_touch_resolution: FirstTouch,
    pub support_satisfaction: Option<Satisfaction>,
    pub project_engagement: Metric<Hours>,
    pub procurement: Metric<u64>,
}

impl Metrics {
    /// (score, weight) of each metric that is present.
    pub fn present(&self) -> Vec<(u8, u8)> {
        let mut v = vec![
            (self.help_desk_usage.score, self.help_desk_usage.weight),
            (
                self.first_touch_resolution.score,
                self.first_touch_resolution.weight,
            ),
            (
                self.project_engagement.score,
                self.project_engagement.weight,
            ),
            (self.procurement.score, self.procurement.weight),
        ];
        if let Some(s) = &self.support_satisfaction {
            v.insert(2, (s.score, s.weight));
        }
        v
    }
}

/// The engagement band of an overall score (contract §3b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Band {
    #[serde(rename = "critical")]
    Critical,
    #[serde(rename = "at risk")]
    AtRisk,
    #[serde(rename = "healthy")]
    Healthy,
    #[serde(rename = "thriving")]
    Thriving,
}

impl Band {
    /// ≥ 80 thriving, ≥ 60 healthy, ≥ 40 at risk, anything lower critical.
    pub fn of(overall: u8) -> Band {
        match overall {
            80.. => Band::Thriving,
            60.. => Band::Healthy,
            40.. => Band::AtRisk,
            _ => Band::Critical,
        }
    }

    /// The name used in JSON, CSV and HTML.
    pub fn name(self) -> &'static str {
        match self {
            Band::Thriving => "thriving",
            Band::Healthy => "healthy",
            Band::AtRisk => "at risk",
            Band::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Band {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One company's scores: its metrics, the overall 0–100 score and its band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub metrics: Metrics,
    pub overall: u8,
    pub band: Band,
}

/// `round(n / d)` for non-negative integers, halves rounded up.
fn round_half_up(n: u64, d: u64) -> u64 {
    (2 * n + d) / (2 * d)
}

/// `n / d` to four decimals (halves up), as a JSON number.
fn share(n: u64, d: u64) -> f64 {
    round_half_up(n * 10_000, d) as f64 / 10_000.0
}

/// Scores one company exactly as contract §3b says:
///
/// | metric | weight | score |
/// |---|---|---|
/// | `help_desk_usage` | 5 | `min(5, tickets // 2)` |
/// | `first_touch_resolution` | 4 | `min(5, resolved within 4 h)` |
/// | `support_satisfaction` | 4 | `round(1 + 4 × positive ÷ rated)`, absent without rated surveys |
/// | `project_engagement` | 5 | hours ≥ 40 → 5, ≥ 20 → 4, ≥ 10 → 3, else 2 |
/// | `procurement` | 3 | `min(5, agreements + additions)` |
///
/// `overall` = round(100 × Σ(score × weight) ÷ Σ(5 × weight)) over the metrics present, so an
/// absent CSAT is left out of both sums rather than counted as 0.
pub fn score(a: &Activity) -> Scores {
    let clamp = |n: u64| n.min(5) as u8;
    let help_desk_usage = Metric {
        raw: a.tickets,
        score: clamp(a.tickets / 2),
        weight: 5,
    };
    let first_touch_resolution = FirstTouch {
        raw: a.resolved_within_4h,
        score: clamp(a.resolved_within_4h),
        weight: 4,
        tickets: a.tickets,
        rate: (a.tickets > 0).then(|| share(a.resolved_within_4h, a.tickets)),
    };
    let support_satisfaction = a.csat.filter(|t| t.rated() > 0).map(|t| Satisfaction {
        raw: share(t.positive, t.rated()),
        // round(1 + 4p/r) = floor((r + 4p)/r + 1/2) = (3r + 8p) div 2r
        score: ((3 * t.rated() + 8 * t.positive) / (2 * t.rated())) as u8,
        weight: 4,
        positive: t.positive,
        neutral: t.neutral,
        negative: t.negative,
    });
    let h = a.billable_hours;
    let project_engagement = Metric {
        raw: h,
        score: if h >= Hours::from_whole(40) {
            5
        } else if h >= Hours::from_whole(20) {
            4
        } else if h >= Hours::from_whole(10) {
            3
        } else {
            2
        },
        weight: 5,
    };
    let procurement = Metric {
        raw: a.procurement,
        score: clamp(a.procurement),
        weight: 3,
    };
    let metrics = Metrics {
        help_desk_usage,
        first_touch_resolution,
        support_satisfaction,
        project_engagement,
        procurement,
    };
    let present = metrics.present();
    let got: u64 = present
        .iter()
        .map(|(s, w)| u64::from(*s) * u64::from(*w))
        .sum();
    let best: u64 = present.iter().map(|(_, w)| 5 * u64::from(*w)).sum();
    let overall = round_half_up(100 * got, best) as u8;
    Scores {
        metrics,
        overall,
        band: Band::of(overall),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_utc;

    fn with(f: impl FnOnce(&mut Activity)) -> Scores {
        let mut a = Activity::default();
        f(&mut a);
        score(&a)
    }

    fn hours(text: &str) -> Hours {
        Hours::parse(text).unwrap()
    }

    #[test]
    fn help_desk_usage_is_tickets_halved() {
        let s = |n| with(|a| a.tickets = n).metrics.help_desk_usage.score;
        assert_eq!(
            [s(0), s(1), s(2), s(3), s(9), s(10), s(11), s(500)],
            [0, 0, 1, 1, 4, 5, 5, 5]
        );
        assert_eq!(with(|a| a.tickets = 7).metrics.help_desk_usage.weight, 5);
    }

    #[test]
    fn first_touch_resolution_counts_up_to_five() {
        let s = |n| {
            with(|a| {
                a.tickets = 10;
                a.resolved_within_4h = n;
            })
        };
        assert_eq!(s(0).metrics.first_touch_resolution.score, 0);
        assert_eq!(s(1).metrics.first_touch_resolution.score, 1);
        assert_eq!(s(5).metrics.first_touch_resolution.score, 5);
        assert_eq!(s(6).metrics.first_touch_resolution.score, 5);
        let ftr = s(3).metrics.first_touch_resolution;
        assert_eq!((ftr.tickets, ftr.rate, ftr.weight), (10, Some(0.3), 4));
        assert_eq!(
            with(|a| a.tickets = 3).metrics.first_touch_resolution.rate,
            Some(0.0)
        );
        assert_eq!(Activity::default().csat, None);
        assert_eq!(
            score(&Activity::default())
                .metrics
                .first_touch_resolution
                .rate,
            None
        );
        let third = with(|a| {
            a.tickets = 3;
            a.resolved_within_4h = 2;
        });
        assert_eq!(third.metrics.first_touch_resolution.rate, Some(0.6667));
    }

    #[test]
    fn project_engagement_bands_compare_hours_exactly() {
        let s = |h: &str| {
            with(|a| a.billable_hours = hours(h))
                .metrics
                .project_engagement
                .score
        };
        assert_eq!(s("0"), 2);
        assert_eq!(s("9.99"), 2);
        assert_eq!(s("9.9999"), 2);
        assert_eq!(s("10"), 3);
        assert_eq!(s("19.99"), 3);
        assert_eq!(s("20"), 4);
        assert_eq!(s("39.99"), 4);
        assert_eq!(s("40"), 5);
        assert_eq!(s("1000"), 5);
        let tenths: Hours = (0..100).map(|_| hours("0.1")).sum();
        assert_eq!(
            with(|a| a.billable_hours = tenths)
                .metrics
                .project_engagement
                .score,
            3
        );
    }

    #[test]
    fn procurement_counts_up_to_five() {
        let s = |n| with(|a| a.procurement = n).metrics.procurement;
        assert_eq!(
            [s(0).score, s(1).score, s(5).score, s(9).score],
            [0, 1, 5, 5]
        );
        assert_eq!(s(1).weight, 3);
    }

    #[test]
    fn satisfaction_rounds_halves_up_and_is_absent_without_surveys() {
        let s = |p, n, neg| {
            with(|a| {
                a.csat = Some(CsatTally {
                    positive: p,
                    neutral: n,
                    negative: neg,
                })
            })
            .metrics
            .support_satisfaction
        };
        assert_eq!(s(0, 0, 0), None, "no rated surveys: absent, not 0");
        assert_eq!(s(0, 0, 3).unwrap().score, 1);
        assert_eq!(s(3, 0, 0).unwrap().score, 5);
        // 1/8 → 1 + 0.5 = 1.5 → 2; 3/8 → 2.5 → 3; 5/8 → 3.5 → 4; 7/8 → 4.5 → 5.
        assert_eq!(s(1, 7, 0).unwrap().score, 2);
        assert_eq!(s(3, 0, 5).unwrap().score, 3);
        assert_eq!(s(5, 3, 0).unwrap().score, 4);
        assert_eq!(s(7, 0, 1).unwrap().score, 5);
        // Just below a half: 1/9 → 1.44 → 1.
        assert_eq!(s(1, 8, 0).unwrap().score, 1);
        let two_thirds = s(2, 1, 0).unwrap();
        assert_eq!(
            (two_thirds.raw, two_thirds.score, two_thirds.weight),
            (0.6667, 4, 4)
        );
    }

    #[test]
    fn a_company_without_data_is_still_scored() {
        let s = score(&Activity::default());
        // help 0, first touch 0, project 2 (×5 = 10), procurement 0, CSAT absent:
        // round(100 × 10 / 85) = round(11.76) = 12.
        assert_eq!(
            (s.metrics.project_engagement.score, s.overall, s.band),
            (2, 12, Band::Critical)
        );
        assert_eq!(s.metrics.support_satisfaction, None);
    }

    #[test]
    fn absent_csat_is_left_out_of_the_total() {
        let base = |csat| {
            score(&Activity {
                tickets: 10,
                resolved_within_4h: 5,
                billable_hours: Hours::from_whole(40),
                procurement: 5,
                csat,
            })
        };
        assert_eq!(base(None).overall, 100, "absent: 85 of 85");
        assert_eq!(
            base(Some(CsatTally::default())).overall,
            100,
            "no rated surveys: absent"
        );
        let all_negative = Some(CsatTally {
            negative: 1,
            ..CsatTally::default()
        });
        // 85 + 4 of 105: round(84.76) = 85.
        assert_eq!(base(all_negative).overall, 85);
    }

    #[test]
    fn the_contracts_example() {
        // contract §5's example company: 7 tickets, 2 first-touch, 12.5 h, 1 agreement, no
        // CSAT. 15 + 8 + 15 + 3 = 41 of 85 → round(48.2) = 48 (the example prints 50; the
        // §3b formula gives 48), at risk either way.
        let s = score(&Activity {
            tickets: 7,
            resolved_within_4h: 2,
            billable_hours: hours("12.5"),
            procurement: 1,
            csat: None,
        });
        let m = s.metrics;
        assert_eq!(
            (m.help_desk_usage.score, m.first_touch_resolution.score),
            (3, 2)
        );
        assert_eq!((m.project_engagement.score, m.procurement.score), (3, 1));
        assert_eq!((s.overall, s.band), (48, Band::AtRisk));
    }

    #[test]
    fn overall_rounds_halves_up() {
        assert_eq!(round_half_up(1, 2), 1);
        assert_eq!(round_half_up(5, 2), 3);
        assert_eq!(round_half_up(149, 100), 1);
        assert_eq!(round_half_up(150, 100), 2);
        // The weights' maxima are 85 and 105, both odd, so 100 × got ÷ best is never exactly
        // a half; the helper above carries the rule. A case just below a half:
        // help 1 (5), first touch 0, project 2 (10), procurement 0, CSAT all positive (20):
        // 35 of 105 → 33.33 → 33.
        let s = score(&Activity {
            tickets: 2,
            csat: Some(CsatTally {
                positive: 1,
                ..CsatTally::default()
            }),
            ..Activity::default()
        });
        assert_eq!(s.overall, 33);
        // And just above: help 5 (25), first touch 2 (8), project 2 (10), procurement 0,
        // no CSAT: 43 of 85 → 50.59 → 51.
        let s = score(&Activity {
            tickets: 10,
            resolved_within_4h: 2,
            ..Activity::default()
        });
        assert_eq!((s.overall, s.band), (51, Band::AtRisk));
    }

    #[test]
    fn bands() {
        let b = Band::of;
        assert_eq!(
            [b(100), b(80), b(79), b(60), b(59), b(40), b(39), b(0)],
            [
                Band::Thriving,
                Band::Thriving,
                Band::Healthy,
                Band::Healthy,
                Band::AtRisk,
                Band::AtRisk,
                Band::Critical,
                Band::Critical
            ]
        );
        assert_eq!(serde_json::to_string(&Band::AtRisk).unwrap(), "\"at risk\"");
    }

    #[test]
    fn tickets_count_by_entry_and_resolution_time() {
        let to = parse_utc("2026-12-01T12:00:00Z").unwrap();
        let w = Window::new(30, to).unwrap();
        let entered = to - 86_400;
        let t = |resolved: Option<i64>, closed_flag, closed: Option<i64>| TicketTimes {
            entered,
            resolved,
            closed_flag,
            closed,
        };
        let fast = |t: TicketTimes| t.counts(&w).resolved_within_4h;
        assert!(
            fast(t(Some(entered + 14_400), false, None)),
            "exactly 4 h counts"
        );
        assert!(
            !fast(t(Some(entered + 14_401), false, None)),
            "4 h + 1 s does not"
        );
        assert!(!fast(t(None, false, None)), "open");
        assert!(
            fast(t(None, true, Some(entered + 60))),
            "closed, no dateResolved"
        );
        assert!(
            !fast(t(None, false, Some(entered + 60))),
            "closedDate without closedFlag"
        );
        assert!(
            !fast(t(Some(entered + 20_000), true, Some(entered + 60))),
            "dateResolved wins over closedDate"
        );
        assert!(
            fast(t(Some(entered - 3_600), false, None)),
            "resolved before entry: zero time"
        );
        assert!(fast(t(Some(i64::MIN), false, None)), "no overflow");

        let mut a = Activity::default();
        for entered in [w.from.0 - 1, w.from.0, to - 1, to] {
            let ticket = TicketTimes {
                entered,
                resolved: Some(entered),
                closed_flag: false,
                closed: None,
            };
            a.add_ticket(&ticket, &w);
        }
        assert_eq!(
            (a.tickets, a.resolved_within_4h),
            (2, 2),
            "from inclusive, to exclusive"
        );
    }

    #[test]
    fn ratings() {
        let mut t = CsatTally::default();
        assert!(t.add_rating(5) && t.add_rating(0) && t.add_rating(-5));
        assert!(!t.add_rating(4) && !t.add_rating(10) && !t.add_rating(-1));
        assert_eq!((t.positive, t.neutral, t.negative, t.rated()), (1, 1, 1, 3));
    }
}
