//! The pipeline for one source: read (all or nothing) → plan (pure) → apply → report.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde::Serialize;

use crate::error::{Error, Result, Side};
use crate::gradient::{Account, CountOutcome, Synthesize};
use crate::names::normalize;
use crate::output::Render;
use crate::plan::{self, AccountPlan, PlannedCount, Skip, Tally};
use crate::progress::Progress;
use crate::settings::SourceKind;
use crate::source::Source;
use crate::terminal::escape as esc;

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
    fn of(t: &Tally) -> Self {
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
    pub renamed: Vec<plan::Rename>,
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
    /// `set`, `unmapped`, `failed` or `planned` (dry run).
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
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
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The result of `sync-usage` (contract §5).
#[derive(Debug, Serialize)]
pub struct UsageReport {
    pub source: SourceKind,
    pub dry_run: bool,
    pub counts: Vec<CountRow>,
    pub summary: UsageSummary,
    pub read: ReadSummary,
    pub requests: Requests,
}

impl UsageReport {
    pub fn failed(&self) -> usize {
        self.summary.failed
    }
}

/// "1 item", "2 items", "1 company", "3 companies".
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// Display width on a terminal, as printed (escaped): accented letters take one column,
/// CJK two.
fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(esc(s).as_ref())
}

/// `s`, its control characters escaped (a name must not forge a row), cut to at most `w`
/// columns and padded with spaces to exactly `w`.
fn pad(s: &str, w: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for ch in esc(s).chars() {
        let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + cw > w {
            break;
        }
        out.push(ch);
        used += cw;
    }
    out.push_str(&" ".repeat(w - used));
    out
}

impl Render for UsageReport {
    fn text(&self) -> String {
        let mut s = String::new();
        let column = |f: fn(&CountRow) -> &str, header: &str, max: usize| {
            self.counts
                .iter()
                .map(|c| width(f(c)))
                .max()
                .unwrap_or(0)
                .max(width(header))
                .min(max)
        };
        let id_w = column(|c| &c.account_id, "ACCOUNT ID", 24);
        let name_w = column(|c| &c.account_name, "ACCOUNT", 40);
        let svc_w = column(|c| &c.service, "SERVICE", 40);
        s.push_str(&format!(
            "{}  {}  {}  {:>6}  RESULT\n",
            pad("ACCOUNT ID", id_w),
            pad("ACCOUNT", name_w),
            pad("SERVICE", svc_w),
            "COUNT"
        ));
        for c in &self.counts {
            let result = match &c.message {
                Some(m) if c.result == "failed" => format!("failed: {}", esc(m)),
                _ => c.result.to_string(),
            };
            s.push_str(&format!(
                "{}  {}  {}  {:>6}  {result}\n",
                pad(&c.account_id, id_w),
                pad(&c.account_name, name_w),
                pad(&c.service, svc_w),
                c.count
            ));
        }
        let sm = self.summary;
        s.push_str(&format!("{}: {}\n", self.source, self.read.text()));
        if self.dry_run {
            s.push_str(&format!(
                "{}: {} counts planned, nothing written (dry run); {} PSA and {} Gradient requests\n",
                self.source, sm.planned, self.requests.psa, self.requests.gradient
            ));
        } else {
            s.push_str(&format!(
                "{}: {} set, {} unmapped (pairs the partner has not mapped in Synthesize yet), {} failed{}; {} PSA and {} Gradient requests\n",
                self.source,
                sm.set,
                sm.unmapped,
                sm.failed,
                if sm.not_attempted > 0 {
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

/// The result of `run`: the three steps, one PSA read.
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub source: SourceKind,
    pub dry_run: bool,
    pub accounts: AccountsReport,
    pub services: crate::app::ServicesReport,
    #[serde(flatten)]
    pub usage: UsageReport,
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

/// Options of the writing steps.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    pub dry_run: bool,
    /// Permit a run in which every count would be 0 (the mass-change guard).
    pub allow_all_zero: bool,
    pub concurrency: usize,
}

/// Reads the source (all or nothing).
pub async fn read<S: Source>(source: &mut S, progress: &Progress) -> Result<Tally> {
    source.tally(progress).await
}

/// Creates missing accounts and renames changed ones. Returns the accounts that exist
/// afterwards (or would, in a dry run).
pub async fn apply_accounts(
    synthesize: &Synthesize,
    plan: &AccountPlan,
    existing: &[Account],
    dry_run: bool,
) -> Result<Vec<Account>> {
    if !dry_run {
        if !plan.create.is_empty() {
            synthesize.create_accounts(&plan.create).await?;
            tracing::info!("created {} accounts", plan.create.len());
        }
        for r in &plan.rename {
            synthesize.rename_account(&r.id, &r.to).await?;
        }
    }
    Ok(accounts_after(plan, existing))
}

/// The accounts Synthesize has once `plan` is applied.
pub fn accounts_after(plan: &AccountPlan, existing: &[Account]) -> Vec<Account> {
    let mut after: Vec<Account> = existing
        .iter()
        .map(|a| match plan.rename.iter().find(|r| r.id == a.id) {
            Some(r) => Account {
                id: a.id.clone(),
                name: r.to.clone(),
            },
            None => a.clone(),
        })
        .collect();
    after.extend(plan.create.iter().cloned());
    after
}

/// Service name → sku id, for the source's services. A service missing from Synthesize
/// stops the run before any count is written.
pub async fn service_ids(
    synthesize: &Synthesize,
    services: &[String],
    dry_run: bool,
) -> Result<BTreeMap<String, String>> {
    let skus = synthesize.skus().await?;
    let mut ids = BTreeMap::new();
    for name in services {
        let matching: Vec<_> = skus
            .iter()
            .filter(|s| normalize(&s.name) == normalize(name))
            .collect();
        match matching.as_slice() {
            [] if dry_run => {
                ids.insert(name.clone(), String::new());
            }
            [] => {
                return Err(Error::api(
                    Side::Synthesize,
                    format!(
                        "service '{name}' does not exist in Synthesize yet; run sync-services first \
                         (or use run, which does it)"
                    ),
                ));
            }
            [one, rest @ ..] => {
                if !rest.is_empty() {
                    tracing::warn!(
                        "Synthesize has {} services named '{name}'; writing to the first ({}). \
                         Delete the duplicates in Synthesize",
                        matching.len(),
                        one.id
                    );
                }
                ids.insert(name.clone(), one.id.clone());
            }
        }
    }
    Ok(ids)
}

/// Accounts in Synthesize with no counted item are set to 0: normal for a customer whose
/// devices are gone, suspicious when it is every account (another integration's tokens,
/// or another source's settings file).
fn warn_about_accounts_without_units(tally: &Tally, accounts: &[Account]) {
    let without: usize = accounts
        .iter()
        .filter(|a| {
            !tally
                .companies
                .get(&a.id)
                .is_some_and(|c| c.counts.values().any(|n| *n > 0))
        })
        .count();
    if without == 0 {
        return;
    }
    if without == accounts.len() && tally.total() > 0 {
        tracing::warn!(
            "none of the {} accounts already in Synthesize has anything counted in the PSA; \
             they will all be set to 0. Check that the Gradient tokens belong to this source's integration",
            accounts.len()
        );
    } else {
        tracing::info!(
            "{} of the {} accounts in Synthesize have nothing counted in the PSA; they are set to 0",
            without,
            accounts.len()
        );
    }
}

/// Refuses a run whose every count is 0 while Synthesize already has accounts: that is
/// the signature of a misconfigured type name or an emptied PSA filter, and writing it
/// would stop billing every customer at once.
pub fn guard_all_zero(planned: &[PlannedCount], opts: WriteOptions) -> Result<()> {
    let accounts_there = !planned.is_empty();
    let all_zero = planned.iter().all(|p| p.count == 0);
    if accounts_there && all_zero && !opts.allow_all_zero {
        let why = format!(
            "every one of the {} counts would be 0, which would stop billing every account; \
             check the type settings, then re-run with --allow-all-zero if that is really right",
            planned.len()
        );
        if opts.dry_run {
            tracing::warn!("a real run would be refused (exit 4): {why}");
            return Ok(());
        }
        return Err(Error::Guard(why));
    }
    Ok(())
}

/// Writes every planned count with bounded concurrency; every pair is attempted.
pub async fn apply_counts(
    synthesize: &Synthesize,
    planned: Vec<PlannedCount>,
    service_ids: &BTreeMap<String, String>,
    opts: WriteOptions,
    progress: &Progress,
) -> Vec<CountRow> {
    let row = |p: &PlannedCount, result: &'static str, message: Option<String>| CountRow {
        account_id: p.account_id.clone(),
        account_name: p.account_name.clone(),
        service: p.service.clone(),
        count: p.count,
        result,
        message,
    };
    if opts.dry_run {
        return planned.iter().map(|p| row(p, "planned", None)).collect();
    }
    let bar = progress.writing(planned.len() as u64);
    // Set when Gradient answers 403 (API usage flagged): no further write is sent.
    let halted = std::sync::atomic::AtomicBool::new(false);
    let rows: Vec<(usize, CountRow)> = futures_util::stream::iter(planned.into_iter().enumerate())
        .map(|(i, p)| {
            let bar = &bar;
            let halted = &halted;
            async move {
                let out = if halted.load(std::sync::atomic::Ordering::SeqCst) {
                    row(&p, "failed", Some(NOT_ATTEMPTED.to_string()))
                } else if let Some(sku) = service_ids.get(&p.service) {
                    match synthesize.set_count(sku, &p.account_id, p.count).await {
                        Ok(CountOutcome::Set) => row(&p, "set", None),
                        Ok(CountOutcome::Unmapped(m)) => row(&p, "unmapped", Some(m)),
                        Err(e) => {
                            if matches!(e, Error::Flagged { .. }) {
                                halted.store(true, std::sync::atomic::Ordering::SeqCst);
                            }
                            tracing::warn!(
                                "count {} for account {} / {} failed: {e}",
                                p.count,
                                p.account_id,
                                p.service
                            );
                            row(&p, "failed", Some(e.to_string()))
                        }
                    }
                } else {
                    // The plan only holds services that exist; kept as a failure, not a panic.
                    row(
                        &p,
                        "failed",
                        Some(format!("service '{}' has no id in Synthesize", p.service)),
                    )
                };
                bar.inc();
                (i, out)
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    bar.finish();
    let mut rows = rows;
    rows.sort_by_key(|(i, _)| *i);
    rows.into_iter().map(|(_, r)| r).collect()
}

/// The message of a pair not written because Gradient flagged the run (HTTP 403).
pub const NOT_ATTEMPTED: &str =
    "not attempted: Gradient answered 403 to an earlier write (API usage flagged)";

pub fn summarize(rows: &[CountRow]) -> UsageSummary {
    let mut s = UsageSummary::default();
    for r in rows {
        match r.result {
            "set" => s.set += 1,
            "unmapped" => s.unmapped += 1,
            "failed" => {
                s.failed += 1;
                if r.message.as_deref() == Some(NOT_ATTEMPTED) {
                    s.not_attempted += 1;
                }
            }
            _ => s.planned += 1,
        }
    }
    s
}

/// Plans and applies the accounts step from a tally.
pub async fn accounts_step(
    source: SourceKind,
    synthesize: &Synthesize,
    tally: &Tally,
    existing: &[Account],
    dry_run: bool,
) -> Result<(AccountsReport, Vec<Account>)> {
    let plan = plan::plan_accounts(tally, existing);
    let after = apply_accounts(synthesize, &plan, existing, dry_run).await?;
    Ok((
        AccountsReport {
            source,
            dry_run,
            read: ReadSummary::of(tally),
            created: plan.create,
            renamed: plan.rename,
            unchanged: plan.unchanged,
            requests: None,
        },
        after,
    ))
}

/// Plans and applies the usage step from a tally and the accounts in Synthesize.
pub async fn usage_step(
    source: SourceKind,
    synthesize: &Synthesize,
    tally: &Tally,
    services: &[String],
    accounts: &[Account],
    opts: WriteOptions,
    progress: &Progress,
) -> Result<UsageReport> {
    let ids = service_ids(synthesize, services, opts.dry_run).await?;
    warn_about_accounts_without_units(tally, accounts);
    let planned = plan::plan_usage(tally, services, accounts);
    guard_all_zero(&planned, opts)?;
    let rows = apply_counts(synthesize, planned, &ids, opts, progress).await;
    Ok(UsageReport {
        source,
        dry_run: opts.dry_run,
        summary: summarize(&rows),
        counts: rows,
        read: ReadSummary::of(tally),
        requests: Requests::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(count: u64) -> PlannedCount {
        PlannedCount {
            account_id: "1".into(),
            account_name: "A".into(),
            service: "S".into(),
            count,
        }
    }

    fn opts() -> WriteOptions {
        WriteOptions {
            dry_run: false,
            allow_all_zero: false,
            concurrency: 4,
        }
    }

    #[test]
    fn padding_counts_display_columns() {
        assert_eq!(pad("Café", 6), "Café  ");
        assert_eq!(pad("東京 K.K.", 8), "東京 K.K");
        assert_eq!(width(&pad("東京 Trading", 7)), 7);
        assert_eq!(pad("abc", 2), "ab");
    }

    #[test]
    fn all_zero_guard() {
        assert!(guard_all_zero(&[planned(0), planned(0)], opts()).is_err());
        assert_eq!(
            guard_all_zero(&[planned(0)], opts())
                .unwrap_err()
                .exit_code(),
            4
        );
        assert!(guard_all_zero(&[planned(0), planned(1)], opts()).is_ok());
        assert!(guard_all_zero(&[], opts()).is_ok(), "nothing to write");
        let mut o = opts();
        o.allow_all_zero = true;
        assert!(guard_all_zero(&[planned(0)], o).is_ok());
        let mut o = opts();
        o.dry_run = true;
        assert!(
            guard_all_zero(&[planned(0)], o).is_ok(),
            "a dry run shows it"
        );
    }
}
