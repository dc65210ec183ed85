//! The guards a plan must pass before anything is written (docs/contract.md §4): the
//! all-zero guard (exit 4) and the drop guard (exit 5), which compares the plan with what
//! the last successful run of the same source and integration wrote.

use std::collections::BTreeMap;

use super::model::Plan;
use crate::names::normalize;

/// Why a plan may not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub guard: Guard,
    /// What is wrong and how to proceed, one sentence.
    pub why: String,
}

/// Which guard refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    AllZero,
    Drop,
}

/// What the user allowed, and the drop guard's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowances {
    /// `--allow-all-zero`.
    pub all_zero: bool,
    /// `--allow-drop`.
    pub drop: bool,
    /// `--max-drop PERCENT`: the most a service's total may fall.
    pub max_drop_percent: f64,
    /// `--max-zeroed N`: the most accounts that may go from a positive count to 0.
    pub max_zeroed: usize,
}

impl Default for Allowances {
    fn default() -> Self {
        Self {
            all_zero: false,
            drop: false,
            max_drop_percent: 20.0,
            max_zeroed: 5,
        }
    }
}

/// What the last successful runs wrote: (account id, service name normalised with
/// `names::normalize`) → count.
pub type Previous = BTreeMap<(String, String), u64>;

/// The key of a pair in [`Previous`].
pub fn key(account_id: &str, service: &str) -> (String, String) {
    (account_id.to_string(), normalize(service))
}

/// Checks every guard; `previous` is `None` on a first run, which the drop guard never
/// refuses.
pub fn check(plan: &Plan, previous: Option<&Previous>, allow: Allowances) -> Result<(), Refusal> {
    let counts = &plan.counts;
    if !counts.is_empty() && counts.iter().all(|c| c.count == 0) && !allow.all_zero {
        return Err(Refusal {
            guard: Guard::AllZero,
            why: format!(
                "every one of the {} counts would be 0, which would stop billing every account; \
                 check the type settings, then re-run with --allow-all-zero if that is really right",
                counts.len()
            ),
        });
    }
    if let Some(previous) = previous
        && !allow.drop
    {
        check_drop(plan, previous, allow)?;
    }
    Ok(())
}

/// A service's total before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub service: String,
    pub previous: Option<u64>,
    pub new: u64,
}

/// Per service of the plan, its total now and in `previous` (services in the configured
/// order; `previous` is `None` when the last run did not write it).
pub fn totals(plan: &Plan, previous: Option<&Previous>) -> Vec<Totals> {
    let mut order: Vec<String> = Vec::new();
    let mut new: BTreeMap<&str, u64> = BTreeMap::new();
    for c in &plan.counts {
        if !order.contains(&c.service) {
            order.push(c.service.clone());
        }
        *new.entry(&c.service).or_default() += c.count;
    }
    order
        .iter()
        .map(|service| {
            let wanted = normalize(service);
            let before = previous.and_then(|p| {
                let mut seen = false;
                let sum = p
                    .iter()
                    .filter(|((_, s), _)| *s == wanted)
                    .inspect(|_| seen = true)
                    .map(|(_, n)| *n)
                    .sum::<u64>();
                seen.then_some(sum)
            });
            Totals {
                service: service.clone(),
                previous: before,
                new: new.get(service.as_str()).copied().unwrap_or(0),
            }
        })
        .collect()
}

fn check_drop(plan: &Plan, previous: &Previous, allow: Allowances) -> Result<(), Refusal> {
    let mut drops: Vec<(f64, String)> = Vec::new();
    for t in totals(plan, Some(previous)) {
        let Some(before) = t.previous.filter(|b| *b > 0) else {
            continue;
        };
        if t.new < before {
            let percent = (before - t.new) as f64 * 100.0 / before as f64;
            if percent > allow.max_drop_percent {
                drops.push((
                    percent,
                    format!("{} {before} → {} (−{percent:.0}%)", t.service, t.new),
                ));
            }
        }
    }
    let mut zeroed_accounts: std::collections::BTreeSet<&str> = Default::default();
    let zeroed: Vec<String> = plan
        .counts
        .iter()
        .filter(|c| c.count == 0)
        .filter_map(|c| {
            let before = previous.get(&key(&c.account_id, &c.service))?;
            (*before > 0).then(|| {
                zeroed_accounts.insert(&c.account_id);
                format!("{} / {} {before} → 0", c.account_name, c.service)
            })
        })
        .collect();
    if drops.is_empty() && zeroed_accounts.len() <= allow.max_zeroed {
        return Ok(());
    }
    drops.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut parts: Vec<String> = drops.into_iter().take(5).map(|(_, d)| d).collect();
    if zeroed_accounts.len() > allow.max_zeroed {
        let examples: Vec<&str> = zeroed.iter().take(3).map(String::as_str).collect();
        parts.push(format!(
            "{} accounts would go from a positive count to 0 (e.g. {})",
            zeroed_accounts.len(),
            examples.join("; ")
        ));
    }
    Err(Refusal {
        guard: Guard::Drop,
        why: format!(
            "compared with the last successful run: {}; nothing was written (limits: --max-drop {} \
             %, --max-zeroed {}); if this is really right, re-run with --allow-drop",
            parts.join("; "),
            allow.max_drop_percent,
            allow.max_zeroed
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::model::{PlannedCount, Reason};

    fn plan(counts: &[(&str, &str, u64)]) -> Plan {
        Plan {
            counts: counts
                .iter()
                .map(|&(account, service, count)| PlannedCount {
                    account_id: account.into(),
                    account_name: format!("Company {account}"),
                    service: service.into(),
                    count,
                    reason: Reason::Counted,
                    blocked: None,
                })
                .collect(),
            ..Plan::default()
        }
    }

    fn previous(counts: &[(&str, &str, u64)]) -> Previous {
        counts.iter().map(|&(a, s, n)| (key(a, s), n)).collect()
    }

    #[test]
    fn all_zero_guard() {
        let none = Allowances::default();
        let e = check(&plan(&[("1", "S", 0), ("2", "S", 0)]), None, none).unwrap_err();
        assert_eq!(e.guard, Guard::AllZero);
        assert!(e.why.contains("every one of the 2 counts"), "{}", e.why);
        assert!(check(&plan(&[("1", "S", 0), ("2", "S", 1)]), None, none).is_ok());
        assert!(check(&plan(&[]), None, none).is_ok(), "nothing to write");
        let allow = Allowances {
            all_zero: true,
            ..none
        };
        assert!(check(&plan(&[("1", "S", 0)]), None, allow).is_ok());
    }

    #[test]
    fn a_service_total_falling_more_than_the_limit_is_refused() {
        let before = previous(&[("1", "S", 50), ("2", "S", 50), ("1", "T", 10)]);
        let after = plan(&[("1", "S", 30), ("2", "S", 40), ("1", "T", 10)]);
        let e = check(&after, Some(&before), Allowances::default()).unwrap_err();
        assert_eq!(e.guard, Guard::Drop);
        assert!(e.why.contains("S 100 → 70 (−30%)"), "{}", e.why);
        assert!(e.why.contains("--allow-drop"), "{}", e.why);
        let lenient = Allowances {
            max_drop_percent: 30.0,
            ..Allowances::default()
        };
        assert!(
            check(&after, Some(&before), lenient).is_ok(),
            "30% is not more than 30%"
        );
        let allowed = Allowances {
            drop: true,
            ..Allowances::default()
        };
        assert!(check(&after, Some(&before), allowed).is_ok());
        assert!(
            check(&after, None, Allowances::default()).is_ok(),
            "a first run"
        );
    }

    #[test]
    fn too_many_accounts_going_to_zero_are_refused() {
        let accounts: Vec<String> = (1..=7).map(|i| i.to_string()).collect();
        let mut before = Previous::new();
        let mut counts = Vec::new();
        for a in &accounts {
            before.insert(key(a, "S"), 1);
            counts.push((a.as_str(), "S", 0u64));
        }
        // Keep the total up with one big account so only the zeroed rule fires.
        before.insert(key("big", "S"), 100);
        counts.push(("big", "S", 107));
        let e = check(&plan(&counts), Some(&before), Allowances::default()).unwrap_err();
        assert!(
            e.why
                .contains("7 accounts would go from a positive count to 0"),
            "{}",
            e.why
        );
        let six = Allowances {
            max_zeroed: 7,
            ..Allowances::default()
        };
        assert!(check(&plan(&counts), Some(&before), six).is_ok());
    }

    #[test]
    fn totals_compare_per_service() {
        let before = previous(&[("1", "S", 5), ("2", "S", 5)]);
        let t = totals(&plan(&[("1", "S", 4), ("1", "T", 2)]), Some(&before));
        assert_eq!(
            t,
            vec![
                Totals {
                    service: "S".into(),
                    previous: Some(10),
                    new: 4
                },
                Totals {
                    service: "T".into(),
                    previous: None,
                    new: 2
                }
            ]
        );
    }
}
