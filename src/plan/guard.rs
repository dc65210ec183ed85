//! The guards a plan must pass before anything is written (docs/contract.md §4, exit 4).

use super::model::Plan;

/// Why a plan may not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Which guard (`all_zero`).
    pub guard: &'static str,
    /// What is wrong and how to proceed, one sentence.
    pub why: String,
}

/// What the user allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allowances {
    /// `--allow-all-zero`.
    pub all_zero: bool,
}

/// Checks every guard. Refuses a plan whose every count is 0 while it has counts to write:
/// that is the signature of a misconfigured type name or an emptied PSA filter, and applying
/// it would stop billing every customer at once.
pub fn check(plan: &Plan, allow: Allowances) -> Result<(), Refusal> {
    let counts = &plan.counts;
    if !counts.is_empty() && counts.iter().all(|c| c.count == 0) && !allow.all_zero {
        return Err(Refusal {
            guard: "all_zero",
            why: format!(
                "every one of the {} counts would be 0, which would stop billing every account; \
                 check the type settings, then re-run with --allow-all-zero if that is really right",
                counts.len()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::model::{PlannedCount, Reason};

    fn plan(counts: &[u64]) -> Plan {
        Plan {
            counts: counts
                .iter()
                .map(|&count| PlannedCount {
                    account_id: "1".into(),
                    account_name: "A".into(),
                    service: "S".into(),
                    count,
                    reason: Reason::Counted,
                })
                .collect(),
            ..Plan::default()
        }
    }

    #[test]
    fn all_zero_guard() {
        let none = Allowances::default();
        let e = check(&plan(&[0, 0]), none).unwrap_err();
        assert_eq!(e.guard, "all_zero");
        assert!(e.why.contains("every one of the 2 counts"), "{}", e.why);
        assert!(check(&plan(&[0, 1]), none).is_ok());
        assert!(check(&plan(&[]), none).is_ok(), "nothing to write");
        assert!(check(&plan(&[0]), Allowances { all_zero: true }).is_ok());
    }
}
