//! `doctor`: one go/no-go checklist for a source, each line `ok`/`warn`/`fail` with the fix.
//! It reads everything a run reads and writes nothing (the ledger included).

use super::common::{SyncConfig, build_plan, check_settings, synthesize_state};
use crate::config::{self, Env};
use crate::error::{Error, Result};
use crate::gradient::Synthesize;
use crate::http::limits::AUTOTASK_THRESHOLD_WARN_PERCENT;
use crate::ledger::{self, IntegrationLock, Ledger};
use crate::plan::{Inputs, Scope, ServiceAction};
use crate::progress::Progress;
use crate::report::doctor::{Check, DoctorReport, Status};
use crate::sources::{self, RequestBudget, SourceKind};
use crate::text::{plural, utc};

fn check(
    name: &'static str,
    status: Status,
    detail: impl Into<String>,
    fix: Option<String>,
) -> Check {
    Check {
        check: name,
        status,
        detail: detail.into(),
        fix,
    }
}

fn failed(name: &'static str, e: &Error) -> Check {
    check(name, Status::Fail, e.to_string(), None)
}

pub async fn doctor(env: &Env, source_flag: Option<SourceKind>) -> Result<DoctorReport> {
    let mut checks = Vec::new();
    let kind = sources::optional(env, source_flag).ok().flatten();
    let report = |checks: Vec<Check>| DoctorReport {
        source: kind,
        ok: !checks.iter().any(|c| c.status == Status::Fail),
        checks,
    };
    // 1. Settings.
    let cfg = match check_settings(env).and_then(|()| SyncConfig::resolve(env, source_flag)) {
        Ok(cfg) => {
            let known: Vec<&str> = config::env::TOOL_SETTINGS
                .into_iter()
                .chain(
                    sources::all()
                        .iter()
                        .flat_map(|s| s.settings().iter().copied()),
                )
                .collect();
            let prefixes: Vec<&str> = config::env::TOOL_PREFIXES
                .into_iter()
                .chain(sources::all().iter().map(|s| s.variable_prefix()))
                .collect();
            let odd: Vec<String> = env
                .notes
                .iter()
                .cloned()
                .chain(env.unknown_names(&known, &prefixes))
                .collect();
            checks.push(if odd.is_empty() {
                check("settings", Status::Ok, env.where_read(), None)
            } else {
                check(
                    "settings",
                    Status::Warn,
                    odd.join("; "),
                    Some("fix those names in the settings file".into()),
                )
            });
            cfg
        }
        Err(e) => {
            checks.push(failed("settings", &e));
            return Ok(report(checks));
        }
    };
    let mut source = match cfg.kind.open(env, &cfg.http) {
        Ok(s) => Some(s),
        Err(e) => {
            checks.push(failed("PSA settings", &e));
            None
        }
    };
    // 2. Gradient.
    let synthesize = Synthesize::new(&cfg.gradient, &cfg.http)?;
    let organization = match synthesize.organization().await {
        Ok(org) => {
            let (status, fix) = match org.status.as_str() {
                "inactive" | "disabled" | "error" => (
                    Status::Warn,
                    Some(
                        "run `synthesize-sync update-status` (pending) so the partner can map"
                            .into(),
                    ),
                ),
                _ => (Status::Ok, None),
            };
            checks.push(check(
                "Gradient tokens",
                status,
                format!(
                    "connected to {} as vendor {} (integration status: {})",
                    org.name, org.vendor_name, org.status
                ),
                fix,
            ));
            Some(org)
        }
        Err(e) => {
            checks.push(failed("Gradient tokens", &e));
            None
        }
    };
    // 3, 4. The PSA and its type names.
    let mut tally = None;
    if let Some(s) = source.as_mut() {
        match s.identity().await {
            Ok(who) => {
                checks.push(check("PSA credentials", Status::Ok, who, None));
                match s.check_types().await {
                    Ok(()) => checks.push(check(
                        "type names",
                        Status::Ok,
                        "every configured type exists",
                        None,
                    )),
                    Err(e) => checks.push(failed("type names", &e)),
                }
                match s.tally(&Progress::quiet()).await {
                    Ok(t) => tally = Some(t),
                    Err(e) => checks.push(failed("PSA read", &e)),
                }
                if let Some(b) = s.request_budget() {
                    checks.push(budget_check(b));
                }
            }
            Err(e) => checks.push(failed("PSA credentials", &e)),
        }
    }
    let Some(organization) = organization else {
        return Ok(report(checks));
    };
    let integration = ledger::fingerprint(
        cfg.gradient.vendor_key.expose(),
        cfg.gradient.partner_key.expose(),
    );
    let binding = ledger::location::state_dir(env)
        .and_then(|dir| Ledger::open_existing(&dir).ok().flatten())
        .and_then(|l| l.binding(&integration).ok().flatten());
    // 5, 6, 7. Services and accounts in Synthesize.
    match synthesize_state(&synthesize, true).await {
        Ok((existing, skus)) => {
            let empty = crate::sources::Tally::default();
            let plan = build_plan(Inputs {
                tally: tally.as_ref().unwrap_or(&empty),
                existing: &existing,
                skus: &skus,
                services: &cfg.services,
                scope: Scope::COUNTS,
            })?;
            let missing: Vec<&str> = plan
                .services
                .iter()
                .filter(|s| s.action == ServiceAction::Missing)
                .map(|s| s.name.as_str())
                .collect();
            let doubled: Vec<&str> = plan
                .services
                .iter()
                .filter(|st| {
                    skus.iter()
                        .filter(|k| {
                            crate::names::normalize(&k.name) == crate::names::normalize(&st.name)
                        })
                        .count()
                        > 1
                })
                .map(|st| st.name.as_str())
                .collect();
            checks.push(if !missing.is_empty() {
                check(
                    "services",
                    Status::Fail,
                    format!("missing in Synthesize: {}", missing.join(", ")),
                    Some("run `synthesize-sync sync-services` (or `run`)".into()),
                )
            } else if !doubled.is_empty() {
                check(
                    "services",
                    Status::Warn,
                    format!("more than one service named: {}", doubled.join(", ")),
                    Some(
                        "delete the copies the partner did not map in Synthesize (counts go to the first)"
                            .into(),
                    ),
                )
            } else {
                check(
                    "services",
                    Status::Ok,
                    format!("all {} present", plan.services.len()),
                    None,
                )
            });
            if tally.is_some() {
                let absent: std::collections::BTreeSet<&str> = plan
                    .counts
                    .iter()
                    .filter(|c| c.blocked == Some(crate::plan::Blocked::MissingAccount))
                    .map(|c| c.account_id.as_str())
                    .collect();
                checks.push(if absent.is_empty() {
                    check(
                        "accounts",
                        Status::Ok,
                        format!("{} in Synthesize", existing.len()),
                        None,
                    )
                } else {
                    check(
                        "accounts",
                        Status::Warn,
                        format!(
                            "{} with counted items not in Synthesize yet",
                            plural(absent.len() as u64, "company")
                        ),
                        Some("run `synthesize-sync sync-accounts` (or `run`)".into()),
                    )
                });
            }
            let ours = skus.iter().any(|k| {
                cfg.services
                    .iter()
                    .any(|d| crate::names::normalize(&d.name) == crate::names::normalize(&k.name))
            });
            checks.push(match &binding {
                Some(b) if b.source != cfg.kind.name() => check(
                    "integration",
                    Status::Fail,
                    format!("these Gradient tokens' integration is bound to {}", b.source),
                    Some(
                        "use this source's own tokens (GRADIENT_PARTNER_API_KEY), or run with --rebind if that is meant"
                            .into(),
                    ),
                ),
                Some(_) => check("integration", Status::Ok, format!("bound to {}", cfg.kind), None),
                None if !skus.is_empty() && !ours => check(
                    "integration",
                    Status::Fail,
                    "its services are all another source's: most likely another source's tokens",
                    Some("check GRADIENT_PARTNER_API_KEY (each source needs its own integration)".into()),
                ),
                None => check("integration", Status::Ok, "not bound yet; the first run binds it", None),
            });
            checks.push(if plan.foreign.is_empty() {
                check("foreign services", Status::Ok, "none", None)
            } else {
                check(
                    "foreign services",
                    Status::Warn,
                    format!(
                        "services these settings do not count, still billing their last counts: {}",
                        plan.foreign.join(", ")
                    ),
                    Some("retire each with `synthesize-sync retire-service NAME`".into()),
                )
            });
        }
        Err(e) => checks.push(failed("Synthesize state", &e)),
    }
    // 8, 9, 10. The ledger: unmapped pairs, the lock, the last run.
    let _ = &organization;
    match ledger::location::state_dir(env) {
        None => checks.push(check(
            "run ledger",
            Status::Fail,
            "no state directory: SYNC_STATE_DIR is not set and there is no home directory",
            Some("set SYNC_STATE_DIR to a directory this user can write".into()),
        )),
        Some(dir) => match Ledger::open_existing(&dir) {
            Err(e) => checks.push(failed("run ledger", &e)),
            Ok(None) => checks.push(check(
                "run ledger",
                Status::Warn,
                format!("no run recorded yet in {}", dir.display()),
                Some("run `synthesize-sync run --dry-run`, then `run`".into()),
            )),
            Ok(Some(l)) => {
                checks.push(check(
                    "run ledger",
                    Status::Ok,
                    l.path().display().to_string(),
                    None,
                ));
                // Looked at, never taken: a run starting now must not find it held.
                match IntegrationLock::holder(&dir, &integration) {
                    None => checks.push(check("lock", Status::Ok, "free", None)),
                    Some(who) => checks.push(check(
                        "lock",
                        Status::Warn,
                        format!("a run is writing now: {who}"),
                        Some("wait for it to end".into()),
                    )),
                }
                let stale = config::stale_after_days(env).unwrap_or(8);
                match l.successful(cfg.kind.name(), &integration, 1)?.first() {
                    None => checks.push(check(
                        "last run",
                        Status::Warn,
                        "no successful sync of this source and integration yet",
                        Some("run `synthesize-sync run`".into()),
                    )),
                    Some(last) => {
                        let ended = last.ended_at.unwrap_or(last.started_at);
                        let days = (ledger::now() - ended) / 86_400;
                        let old = days >= i64::try_from(stale).unwrap_or(i64::MAX);
                        checks.push(check(
                            "last run",
                            if old { Status::Warn } else { Status::Ok },
                            format!("run {} ended {} ({days} days ago)", last.id, utc(ended)),
                            old.then(|| "check that the schedule still runs".into()),
                        ));
                    }
                }
                match l.unmapped(cfg.kind.name(), &integration)? {
                    // New unmapped pairs are normal (the partner maps them in Synthesize);
                    // old ones are forgotten mappings.
                    Some((n, since)) if n > 0 => {
                        let days = (ledger::now() - since) / 86_400;
                        let old = days >= i64::try_from(stale).unwrap_or(i64::MAX);
                        checks.push(check(
                            "unmapped pairs",
                            if old { Status::Warn } else { Status::Ok },
                            format!(
                                "{} unmapped, the oldest since {} ({days} days)",
                                plural(n as u64, "pair"),
                                utc(since)
                            ),
                            old.then(|| "map those accounts and services in Synthesize".into()),
                        ))
                    }
                    Some(_) => checks.push(check("unmapped pairs", Status::Ok, "none", None)),
                    None => {}
                }
            }
        },
    }
    Ok(report(checks))
}

/// The PSA's shared request budget: above half of it Autotask slows every call down, at all of
/// it calls are refused (docs/apis.md §3.7).
fn budget_check(b: RequestBudget) -> Check {
    let percent = b.percent_used();
    let detail = format!(
        "{} of {} requests used in the last {} minutes ({percent:.1}%), shared by every \
         integration of the tenant",
        b.used, b.limit, b.window_minutes
    );
    let (status, fix) = if percent >= b.max_share as f64 {
        (
            Status::Fail,
            Some(format!(
                "at or above AUTOTASK_MAX_SHARE ({}%) a run refuses to start (exit 7): wait for \
                 the usage to fall, find the integration that spends it, or raise the setting",
                b.max_share
            )),
        )
    } else if percent > AUTOTASK_THRESHOLD_WARN_PERCENT {
        (
            Status::Warn,
            Some(
                "above half, Autotask slows every call down: move this schedule away from the \
                 other integrations'"
                    .into(),
            ),
        )
    } else {
        (Status::Ok, None)
    };
    check("API threshold", status, detail, fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(used: u64, limit: u64) -> Status {
        budget_check(RequestBudget {
            used,
            limit,
            window_minutes: 60,
            max_share: 80,
        })
        .status
    }

    #[test]
    fn threshold_use_is_ok_up_to_half_warned_above_and_failed_at_the_max_share() {
        assert_eq!(budget(0, 10_000), Status::Ok);
        assert_eq!(budget(5_000, 10_000), Status::Ok);
        assert_eq!(budget(5_001, 10_000), Status::Warn);
        assert_eq!(budget(7_999, 10_000), Status::Warn);
        assert_eq!(budget(8_000, 10_000), Status::Fail);
        assert_eq!(budget(10_000, 10_000), Status::Fail);
        assert_eq!(budget(1, 0), Status::Fail);
    }
}
