//! The reports of the verbs: what each prints, as text for people and as one JSON document
//! for machines (docs/contract.md §5). Every report is built from typed results; nothing
//! here talks to an API.

use std::collections::BTreeMap;

use serde::Serialize;

use super::output::Render;
use crate::gradient::IntegrationStatus;
use crate::plan::{Account, Rename};
use crate::sources::{Skip, SourceKind, Tally};
use crate::text::{column_width, escape as esc, pad, plural, width};

/// HTTP requests sent to each side, retries included.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Requests {
    pub psa: u64,
    pub gradient: u64,
}

/// What was read from the PSA.
#[derive(Debug, Clone, Serialize)]
pub struct ReadSummary {
    pub items_read: u64,
    pub units_counted: u64,
    pub companies_with_units: usize,
    /// Items not counted, by reason.
    pub not_counted: BTreeMap<Skip, u64>,
}

impl ReadSummary {
    pub fn of(t: &Tally) -> Self {
        Self {
            items_read: t.items_read,
            units_counted: t.total(),
            companies_with_units: t
                .companies
                .values()
                .filter(|c| c.counts.values().any(|n| *n > 0))
                .count(),
            not_counted: t.skipped.clone(),
        }
    }

    fn text(&self) -> String {
        let mut s = format!(
            "read {}: {} counted at {}",
            plural(self.items_read, "item"),
            plural(self.units_counted, "unit"),
            plural(self.companies_with_units as u64, "company")
        );
        let skipped: Vec<String> = self
            .not_counted
            .iter()
            .map(|(why, n)| format!("{n} {}", why.describe()))
            .collect();
        if !skipped.is_empty() {
            s.push_str(&format!("; not counted: {}", skipped.join(", ")));
        }
        s
    }
}

/// The result of `sync-accounts`.
#[derive(Debug, Serialize)]
pub struct AccountsReport {
    pub source: SourceKind,
    pub dry_run: bool,
    pub read: ReadSummary,
    pub created: Vec<Account>,
    pub renamed: Vec<Rename>,
    pub unchanged: usize,
    /// Absent inside `run`'s report, whose top-level `requests` covers every step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Requests>,
}

impl Render for AccountsReport {
    fn text(&self) -> String {
        let mut s = String::new();
        let (created, renamed) = if self.dry_run {
            ("would create", "would rename")
        } else {
            ("created", "renamed")
        };
        for a in &self.created {
            s.push_str(&format!(
                "  {created:<13} {:>10}  {}\n",
                esc(&a.id),
                esc(&a.name)
            ));
        }
        for r in &self.renamed {
            s.push_str(&format!(
                "  {renamed:<13} {:>10}  {} -> {}\n",
                esc(&r.id),
                esc(&r.from),
                esc(&r.to)
            ));
        }
        let summary = if self.dry_run {
            format!(
                "{} to create, {} to rename, {} unchanged (dry run: nothing written)",
                plural(self.created.len() as u64, "account"),
                self.renamed.len(),
                self.unchanged
            )
        } else {
            format!(
                "{} created, {} renamed, {} unchanged",
                plural(self.created.len() as u64, "account"),
                self.renamed.len(),
                self.unchanged
            )
        };
        s.push_str(&format!(
            "{}: {}\n{}: {summary}\n",
            self.source,
            self.read.text(),
            self.source
        ));
        s
    }
}

/// One (account, service) count and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct CountRow {
    pub account_id: String,
    pub account_name: String,
    pub service: String,
    pub count: u64,
    /// What the last successful run of this source and integration set for the pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<u64>,
    pub result: ResultKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Failed because it was never sent: Gradient answered 403 to an earlier write.
    #[serde(skip)]
    pub not_attempted: bool,
}

/// What became of a count (docs/contract.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultKind {
    Set,
    /// 404 "No account map found": the partner has not mapped the account or service.
    Unmapped,
    /// The account does not exist in Synthesize: not written (run sync-accounts).
    #[serde(rename = "missing-account")]
    MissingAccount,
    Failed,
    /// A dry run.
    Planned,
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct UsageSummary {
    pub set: usize,
    pub unmapped: usize,
    pub failed: usize,
    pub planned: usize,
    /// Of the failed: pairs never sent because Gradient answered 403 to an earlier one.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_attempted: usize,
    /// Pairs not written because their account does not exist in Synthesize.
    #[serde(skip_serializing_if = "is_zero")]
    pub missing_account: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The result of `sync-usage` (docs/contract.md §5).
#[derive(Debug, Serialize)]
pub struct UsageReport {
    pub source: SourceKind,
    pub dry_run: bool,
    pub counts: Vec<CountRow>,
    pub summary: UsageSummary,
    /// Each service's total, with the last successful run's beside it.
    pub totals: Vec<ServiceTotal>,
    /// The ledger run the `previous` figures come from; `null` on a first run.
    pub compared_with: Option<i64>,
    /// Pairs new or different from the last successful run, or no longer planned
    /// (`--detailed-exitcode` exits 8 when there are any).
    pub changes: usize,
    /// In a dry run: the guard a real run would be refused by, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<Refused>,
    /// The run ledger could not record all of this run (the run ends with exit 1).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub record_incomplete: bool,
    /// Interrupted (Ctrl-C, SIGTERM) during the writes: the pairs not sent say so.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// The vendor's services this configuration does not count.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign_services: Vec<ForeignService>,
    pub read: ReadSummary,
    pub requests: Requests,
}

/// A service of the vendor this configuration does not count: its counts stay as they are,
/// and keep billing, until `retire-service` sets them to 0.
#[derive(Debug, Clone, Serialize)]
pub struct ForeignService {
    pub name: String,
    /// What the ledger says it was last set to, in all accounts together.
    pub last_total: Option<u64>,
    pub last_run: Option<i64>,
}

/// A guard's refusal, as a dry run reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub guard: &'static str,
    pub why: String,
}

/// A service's total count.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceTotal {
    pub service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<u64>,
    pub count: u64,
}

/// What a run could not write (or a dry run predicts it could not): pairs of accounts not in
/// Synthesize yet, and, in a dry run, pairs that would fail (a missing service).
fn blocked(sm: UsageSummary, dry_run: bool) -> String {
    let mut s = String::new();
    if sm.missing_account > 0 {
        s.push_str(&format!(
            ", {} for accounts not in Synthesize yet (run sync-accounts)",
            sm.missing_account
        ));
    }
    if dry_run && sm.failed > 0 {
        s.push_str(&format!(", {} that would fail (listed above)", sm.failed));
    }
    s
}

/// `s` right-aligned in `w` columns.
fn right(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

/// `previous → new`, `new → N` when there was none.
fn change(previous: Option<u64>, count: u64) -> String {
    match previous {
        Some(p) => format!("{p} → {count}"),
        None => format!("new → {count}"),
    }
}

impl UsageReport {
    /// Pairs that were to be written and were not: failed, or their account is missing.
    pub fn failed(&self) -> usize {
        self.summary.failed + self.summary.missing_account
    }
}

impl Render for UsageReport {
    fn text(&self) -> String {
        let mut s = String::new();
        let column = |f: fn(&CountRow) -> &str, header: &str, max: usize| {
            column_width(self.counts.iter().map(f), header, max)
        };
        let id_w = column(|c| &c.account_id, "ACCOUNT ID", 24);
        let name_w = column(|c| &c.account_name, "ACCOUNT", 40);
        let svc_w = column(|c| &c.service, "SERVICE", 40);
        // Against a previous run, each pair shows as `previous → new`.
        let compared = self.compared_with.is_some();
        let count_cell = |c: &CountRow| {
            if compared {
                change(c.previous, c.count)
            } else {
                c.count.to_string()
            }
        };
        let count_header = if compared {
            "PREVIOUS → NEW"
        } else {
            "COUNT"
        };
        let count_w = self
            .counts
            .iter()
            .map(|c| width(&count_cell(c)))
            .max()
            .unwrap_or(0)
            .max(width(count_header))
            .max(6);
        s.push_str(&format!(
            "{}  {}  {}  {}  RESULT\n",
            pad("ACCOUNT ID", id_w),
            pad("ACCOUNT", name_w),
            pad("SERVICE", svc_w),
            right(count_header, count_w)
        ));
        for c in &self.counts {
            let result = match &c.message {
                Some(m) if c.result == ResultKind::Failed => format!("failed: {}", esc(m)),
                _ => c.result.as_str().to_string(),
            };
            s.push_str(&format!(
                "{}  {}  {}  {}  {result}\n",
                pad(&c.account_id, id_w),
                pad(&c.account_name, name_w),
                pad(&c.service, svc_w),
                right(&count_cell(c), count_w)
            ));
        }
        if let Some(run) = self.compared_with {
            let totals: Vec<String> = self
                .totals
                .iter()
                .map(|t| {
                    let delta = match t.previous {
                        Some(p) if p != t.count => {
                            format!(" ({:+})", t.count as i64 - p as i64)
                        }
                        _ => String::new(),
                    };
                    format!("{} {}{delta}", esc(&t.service), change(t.previous, t.count))
                })
                .collect();
            s.push_str(&format!(
                "{}: totals against run {run}: {}; {} changed\n",
                self.source,
                totals.join(", "),
                plural(self.changes as u64, "pair")
            ));
        }
        let sm = self.summary;
        s.push_str(&format!("{}: {}\n", self.source, self.read.text()));
        if self.dry_run {
            s.push_str(&format!(
                "{}: {} counts planned{}, nothing written (dry run); {} PSA and {} Gradient requests\n",
                self.source,
                sm.planned,
                blocked(sm, true),
                self.requests.psa,
                self.requests.gradient
            ));
        } else {
            s.push_str(&format!(
                "{}: {} set, {} unmapped (pairs the partner has not mapped in Synthesize yet){}, {} failed{}; {} PSA and {} Gradient requests\n",
                self.source,
                sm.set,
                sm.unmapped,
                blocked(sm, false),
                sm.failed,
                if sm.not_attempted > 0 && self.interrupted {
                    format!(" ({} not sent: interrupted)", sm.not_attempted)
                } else if sm.not_attempted > 0 {
                    format!(
                        " ({} not attempted: Gradient answered 403, contact Gradient support)",
                        sm.not_attempted
                    )
                } else {
                    String::new()
                },
                self.requests.psa,
                self.requests.gradient
            ));
        }
        s
    }
}

impl ResultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Set => "set",
            ResultKind::Unmapped => "unmapped",
            ResultKind::MissingAccount => "missing-account",
            ResultKind::Failed => "failed",
            ResultKind::Planned => "planned",
        }
    }
}

/// The result of `run`: the three steps, one PSA read.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// `source`, `dry_run`, `counts`, `summary`… at the top level, as `sync-usage` prints them
    /// (once: the steps below do not repeat them).
    #[serde(flatten)]
    pub usage: UsageReport,
    pub accounts: AccountsReport,
    pub services: ServicesReport,
}

impl Render for RunReport {
    fn text(&self) -> String {
        format!(
            "== accounts\n{}== services\n{}== usage\n{}",
            self.accounts.text(),
            self.services.text(),
            self.usage.text()
        )
    }
}

/// What happened to one service.
#[derive(Debug, Serialize)]
pub struct ServiceResult {
    pub name: String,
    pub result: ServiceResultKind,
}

/// What became of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceResultKind {
    Exists,
    Created,
    /// A dry run: it would be created.
    Planned,
    /// Missing, and this verb does not create it.
    Missing,
}

#[derive(Debug, Serialize)]
pub struct ServicesReport {
    pub source: SourceKind,
    pub dry_run: bool,
    pub services: Vec<ServiceResult>,
    /// Absent inside `run`'s report, whose top-level `requests` covers every step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Requests>,
}

impl Render for ServicesReport {
    fn text(&self) -> String {
        let mut s = String::new();
        for svc in &self.services {
            let what = match svc.result {
                ServiceResultKind::Created => "created",
                ServiceResultKind::Planned => "would be created (dry run)",
                ServiceResultKind::Exists => "already exists",
                ServiceResultKind::Missing => "missing (run sync-services)",
            };
            s.push_str(&format!("  {:<28} {what}\n", esc(&svc.name)));
        }
        let created = self
            .services
            .iter()
            .filter(|s| s.result != ServiceResultKind::Exists)
            .count();
        let verb = if self.dry_run { "to create" } else { "created" };
        s.push_str(&format!(
            "{}: {} services, {created} {verb}, {} already there\n",
            self.source,
            self.services.len(),
            self.services.len() - created
        ));
        s
    }
}

#[derive(Debug, Serialize)]
pub struct AuthReport {
    /// The source checked, when one was given.
    pub source: Option<SourceKind>,
    pub synthesize: SynthesizeIdentity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psa: Option<PsaIdentity>,
}

#[derive(Debug, Serialize)]
pub struct PsaIdentity {
    pub source: SourceKind,
    /// Who the PSA credentials belong to; `null` when the check failed.
    pub connected_as: Option<String>,
    /// Why the PSA check failed (the run exits with its code, after this report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The exit code of that failure.
    #[serde(skip)]
    pub exit_code: u8,
}

#[derive(Debug, Serialize)]
pub struct SynthesizeIdentity {
    pub organization: String,
    pub vendor: String,
    pub integration_status: String,
}

impl Render for AuthReport {
    fn text(&self) -> String {
        let mut s = format!(
            "Synthesize: connected to {} as vendor {} (integration status: {})\n",
            esc(&self.synthesize.organization),
            esc(&self.synthesize.vendor),
            esc(&self.synthesize.integration_status)
        );
        match &self.psa {
            Some(psa) => match (&psa.connected_as, &psa.error) {
                (_, Some(e)) => s.push_str(&format!("{}: FAILED: {}\n", psa.source, esc(e))),
                (Some(who), None) => s.push_str(&format!("{}: {}\n", psa.source, esc(who))),
                (None, None) => {}
            },
            None => s.push_str(
                "PSA: not checked (no source given; pass --source or set SYNC_SOURCE to check it too)\n",
            ),
        }
        s
    }
}

#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// The source of the settings, when they name one.
    pub source: Option<SourceKind>,
    pub status: IntegrationStatus,
    pub dry_run: bool,
    pub requests: Requests,
}

impl Render for StatusReport {
    fn text(&self) -> String {
        if self.dry_run {
            format!(
                "Integration status would be set to {} (dry run)\n",
                self.status.as_str()
            )
        } else {
            format!("Integration status set to {}\n", self.status.as_str())
        }
    }
}

/// The message of a pair not sent because the run was interrupted.
pub const NOT_SENT_INTERRUPTED: &str =
    "not sent: the run was interrupted (run again to set it; re-running is safe)";

/// The message of a pair not written because Gradient flagged the run (HTTP 403).
pub const NOT_ATTEMPTED: &str =
    "not attempted: Gradient answered 403 to an earlier write (API usage flagged)";

/// The one-line totals of a usage report.
pub fn summarize(rows: &[CountRow]) -> UsageSummary {
    let mut s = UsageSummary::default();
    for r in rows {
        match r.result {
            ResultKind::Set => s.set += 1,
            ResultKind::Unmapped => s.unmapped += 1,
            ResultKind::MissingAccount => s.missing_account += 1,
            ResultKind::Failed => {
                s.failed += 1;
                s.not_attempted += usize::from(r.not_attempted);
            }
            ResultKind::Planned => s.planned += 1,
        }
    }
    s
}
