//! What the verbs share: resolving their configuration, reading what Synthesize holds,
//! building and guarding the plan, and turning applied results into reports.

use crate::apply::{Applied, CountOutcomeKind, ServiceOutcome};
use crate::config::{self, Env, GradientSettings, HttpSettings};
use crate::error::{Error, Result};
use crate::gradient::Synthesize;
use crate::ledger::Baseline;
use crate::plan::guard::Previous;
use crate::plan::{self, Blocked, Plan, ServiceDef};
use crate::report::verbs::{
    AccountsReport, CountRow, ForeignService, NOT_ATTEMPTED, NOT_SENT_INTERRUPTED, ReadSummary,
    Refused, Requests, ResultKind, ServiceResult, ServiceResultKind, ServiceTotal, ServicesReport,
    UsageReport, summarize,
};
use crate::sources::{self, SourceKind, Tally};

/// What a writing verb was asked on the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WriteFlags {
    /// Do every read, compute and print the plan, write nothing.
    pub dry_run: bool,
    /// The guards' overrides and limits (`--allow-all-zero`, `--allow-drop`, `--max-drop`,
    /// `--max-zeroed`).
    pub guards: plan::guard::Allowances,
    /// `--rebind`: let this source write to an integration another source wrote to.
    pub rebind: bool,
}

/// The configuration of a verb that reads a source and writes to Synthesize, resolved:
/// every part present and valid.
pub(crate) struct SyncConfig {
    pub kind: SourceKind,
    pub gradient: GradientSettings,
    pub http: HttpSettings,
    pub services: Vec<ServiceDef>,
}

impl SyncConfig {
    pub fn resolve(env: &Env, source_flag: Option<SourceKind>) -> Result<Self> {
        let kind = sources::required(env, source_flag)?;
        let gradient = config::gradient(env)?;
        let http = config::http(env)?;
        let services = services_of(kind, env)?;
        Ok(Self {
            kind,
            gradient,
            http,
            services,
        })
    }
}

/// The services a source counts, with the descriptions they are created with.
pub(crate) fn services_of(kind: SourceKind, env: &Env) -> Result<Vec<ServiceDef>> {
    Ok(kind
        .services(env)?
        .into_iter()
        .map(|name| ServiceDef {
            description: kind.service_description(&name),
            name,
        })
        .collect())
}

/// The accounts and the services in Synthesize, as the plan sees them.
pub(crate) async fn synthesize_state(
    synthesize: &Synthesize,
    want_skus: bool,
) -> Result<(Vec<plan::Account>, Vec<plan::Sku>)> {
    let accounts = synthesize
        .accounts()
        .await?
        .into_iter()
        .map(|a| plan::Account {
            id: a.id,
            name: a.name,
        })
        .collect();
    let skus = if want_skus {
        skus_of(synthesize).await?
    } else {
        Vec::new()
    };
    Ok((accounts, skus))
}

/// The vendor's services in Synthesize, as the plan sees them.
pub(crate) async fn skus_of(synthesize: &Synthesize) -> Result<Vec<plan::Sku>> {
    Ok(synthesize
        .skus()
        .await?
        .into_iter()
        .map(|s| plan::Sku {
            id: s.id,
            name: s.name,
        })
        .collect())
}

/// Builds the plan and logs its notes.
pub(crate) fn build_plan(inputs: plan::Inputs<'_>) -> Result<Plan> {
    let plan = plan::build(inputs);
    for note in &plan.notes {
        match note {
            plan::Note::Warn(m) => tracing::warn!("{m}"),
            plan::Note::Info(m) => tracing::info!("{m}"),
        }
    }
    Ok(plan)
}

/// The guards: a real run is refused (exit 4 or 5); a dry run goes on and says it would be
/// (the refusal comes back for its report).
pub(crate) fn check_guards(
    plan: &Plan,
    previous: Option<&Previous>,
    w: WriteFlags,
) -> Result<Option<Refused>> {
    match plan::guard::check(plan, previous, w.guards) {
        Ok(()) => Ok(None),
        Err(refusal) => {
            let (guard, error) = match refusal.guard {
                plan::guard::Guard::AllZero => ("all_zero", Error::Guard(refusal.why.clone())),
                plan::guard::Guard::Drop => ("drop", Error::Drop(refusal.why.clone())),
            };
            if !w.dry_run {
                return Err(error);
            }
            tracing::warn!(
                "a real run would be refused (exit {}): {}",
                error.exit_code(),
                refusal.why
            );
            Ok(Some(Refused {
                guard,
                why: refusal.why,
            }))
        }
    }
}

pub(crate) fn accounts_report(
    kind: SourceKind,
    plan: &Plan,
    tally: &Tally,
    dry_run: bool,
) -> AccountsReport {
    AccountsReport {
        source: kind,
        dry_run,
        read: ReadSummary::of(tally),
        created: plan.accounts.create.clone(),
        renamed: plan.accounts.rename.clone(),
        unchanged: plan.accounts.unchanged,
        requests: None,
    }
}

pub(crate) fn services_report(
    kind: SourceKind,
    applied: &Applied,
    dry_run: bool,
) -> ServicesReport {
    ServicesReport {
        source: kind,
        dry_run,
        services: applied
            .services
            .iter()
            .map(|(name, outcome)| ServiceResult {
                name: name.clone(),
                result: match outcome {
                    ServiceOutcome::Exists => ServiceResultKind::Exists,
                    ServiceOutcome::Created => ServiceResultKind::Created,
                    ServiceOutcome::Planned => ServiceResultKind::Planned,
                    ServiceOutcome::Missing => ServiceResultKind::Missing,
                },
            })
            .collect(),
        requests: None,
    }
}

/// What a usage report is made of.
pub(crate) struct UsageParts<'a> {
    pub kind: SourceKind,
    pub plan: &'a Plan,
    pub applied: &'a Applied,
    pub tally: &'a Tally,
    pub dry_run: bool,
    pub requests: Requests,
    pub baseline: Option<&'a Baseline>,
    pub refused: Option<Refused>,
    pub foreign: Vec<ForeignService>,
}

pub(crate) fn usage_report(parts: UsageParts<'_>) -> UsageReport {
    let UsageParts {
        kind,
        plan,
        applied,
        tally,
        dry_run,
        requests,
        baseline,
        refused,
        foreign,
    } = parts;
    let previous = baseline.map(|b| &b.counts);
    let counts: Vec<CountRow> = applied
        .counts
        .iter()
        .map(|(p, outcome)| {
            let (result, message) = match outcome {
                CountOutcomeKind::Set => (ResultKind::Set, None),
                CountOutcomeKind::Unmapped(m) => (ResultKind::Unmapped, Some(m.clone())),
                CountOutcomeKind::Failed(m) => (ResultKind::Failed, Some(m.clone())),
                CountOutcomeKind::NotAttempted => {
                    (ResultKind::Failed, Some(NOT_ATTEMPTED.to_string()))
                }
                CountOutcomeKind::Interrupted => {
                    (ResultKind::Failed, Some(NOT_SENT_INTERRUPTED.to_string()))
                }
                CountOutcomeKind::Planned => (ResultKind::Planned, None),
                CountOutcomeKind::Blocked(Blocked::MissingAccount) => (
                    ResultKind::MissingAccount,
                    Some(format!(
                        "account {} does not exist in Synthesize yet; run sync-accounts first \
                         (or use run, which does it)",
                        p.account_id
                    )),
                ),
                CountOutcomeKind::Blocked(Blocked::MissingService) => (
                    ResultKind::Failed,
                    Some(format!(
                        "service '{}' does not exist in Synthesize yet; run sync-services first \
                         (or use run, which does it)",
                        p.service
                    )),
                ),
            };
            CountRow {
                account_id: p.account_id.clone(),
                account_name: p.account_name.clone(),
                service: p.service.clone(),
                count: p.count,
                previous: previous
                    .and_then(|m| m.get(&plan::guard::key(&p.account_id, &p.service)))
                    .copied(),
                result,
                message,
                not_attempted: matches!(
                    outcome,
                    CountOutcomeKind::NotAttempted | CountOutcomeKind::Interrupted
                ),
            }
        })
        .collect();
    // What would change against the last successful run: pairs new or different, and
    // pairs it wrote that this plan no longer has.
    let changes = match previous {
        None => counts.len(),
        Some(m) => {
            let differing = counts
                .iter()
                .filter(|c| c.previous != Some(c.count))
                .count();
            let planned: std::collections::BTreeSet<(String, String)> = counts
                .iter()
                .map(|c| plan::guard::key(&c.account_id, &c.service))
                .collect();
            // Only this configuration's services: one it no longer counts is not "changed"
            // by this run (it keeps its last counts in Synthesize).
            let services: std::collections::BTreeSet<&str> =
                planned.iter().map(|(_, s)| s.as_str()).collect();
            let gone = m
                .keys()
                .filter(|k| services.contains(k.1.as_str()) && !planned.contains(*k))
                .count();
            differing + gone
        }
    };
    UsageReport {
        source: kind,
        dry_run,
        summary: summarize(&counts),
        totals: plan::guard::totals(plan, previous)
            .into_iter()
            .map(|t| ServiceTotal {
                service: t.service,
                previous: t.previous,
                count: t.new,
            })
            .collect(),
        compared_with: baseline.map(|b| b.run_id),
        changes,
        refused,
        record_incomplete: false,
        interrupted: applied
            .counts
            .iter()
            .any(|(_, o)| *o == CountOutcomeKind::Interrupted),
        foreign_services: foreign,
        counts,
        read: ReadSummary::of(tally),
        requests,
    }
}

/// A run whose writes failed ends with exit 1 after its report is printed.
pub fn fail_on_failed_writes(report: &UsageReport) -> Result<()> {
    let (failed, total) = (report.failed(), report.counts.len());
    if report.interrupted {
        return Err(Error::Interrupted {
            code: crate::interrupt::requested().unwrap_or(130),
            reported: true,
        });
    }
    if report.record_incomplete {
        return Err(Error::RecordIncomplete);
    }
    if report.dry_run {
        // A dry run predicts; it fails only for what stops it.
        return Ok(());
    }
    if report.summary.not_attempted > 0 {
        // Only Gradient's 403 leaves pairs not attempted here (interrupts returned above).
        Err(Error::WritesHalted { failed, total })
    } else if failed > 0 {
        Err(Error::WritesFailed { failed, total })
    } else {
        Ok(())
    }
}

/// Checks every setting that is present, whether or not this verb needs it, so a typo
/// surfaces on any run (docs/contract.md §2).
pub fn check_settings(env: &Env) -> Result<()> {
    let all = sources::all();
    env.register_secrets(
        config::env::TOOL_SECRETS.into_iter().chain(
            all.iter()
                .flat_map(|s| s.secret_variables().iter().copied()),
        ),
    );
    let prefixes: Vec<&str> = config::env::TOOL_PREFIXES
        .into_iter()
        .chain(all.iter().map(|s| s.variable_prefix()))
        .collect();
    env.check_text(&prefixes)?;
    let known: Vec<&str> = config::env::TOOL_SETTINGS
        .into_iter()
        .chain(all.iter().flat_map(|s| s.settings().iter().copied()))
        .collect();
    // A misspelt name whose setting is unset would run on that setting's default: for a
    // billing tool a refusal, not a warning (a contact type silently not counted).
    if let Some((name, intended)) = env.misspelt(&known, &prefixes) {
        return Err(Error::setting(
            &name,
            format!(
                "is not a setting of synthesize-sync; did you mean {intended}? ({intended} is \
                 not set, so its default would apply): rename it"
            ),
        ));
    }
    for note in env
        .notes
        .iter()
        .cloned()
        .chain(env.unknown_names(&known, &prefixes))
    {
        tracing::warn!("{note}");
    }
    sources::optional(env, None)?;
    env.url("GRADIENT_BASE_URL", None)?;
    config::http(env)?;
    for kind in all {
        kind.check_settings(env)?;
    }
    Ok(())
}
