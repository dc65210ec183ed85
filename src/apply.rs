//! Apply: writes a [`Plan`] through the Synthesize client, in order (accounts, services,
//! counts), and returns what became of each part as typed results. It decides nothing: the
//! plan and its guards did (docs/ARCHITECTURE.md).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;

use crate::error::{Error, Result};
use crate::gradient::{self, BillingView, CountOutcome, NewService, Synthesize};
use crate::names::normalize;
use crate::plan::{Blocked, Plan, PlannedCount, ServiceAction};
use crate::progress::Progress;

/// How to apply.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Write nothing; every part comes back as planned.
    pub dry_run: bool,
    /// Count writes in flight at once.
    pub concurrency: usize,
}

/// What became of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceOutcome {
    Exists,
    Created,
    Planned,
    /// Missing, and this verb does not create services.
    Missing,
}

/// What became of one count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountOutcomeKind {
    Set,
    /// 404 "No account map found…": the partner has not mapped the account or service.
    Unmapped(String),
    Failed(String),
    /// Not sent: Gradient answered 403 to an earlier write.
    NotAttempted,
    /// Not sent: the run was interrupted (Ctrl-C, SIGTERM).
    Interrupted,
    /// A dry run.
    Planned,
    /// Not written: the plan says it cannot be (its account or service is missing).
    Blocked(Blocked),
}

/// Something apply did, reported as it happens (the run ledger records each at once).
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    AccountCreated(&'a crate::plan::Account),
    AccountRenamed(&'a crate::plan::Rename),
    ServiceCreated(&'a str),
    Count(&'a PlannedCount, &'a CountOutcomeKind),
}

/// The plan, applied.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub services: Vec<(String, ServiceOutcome)>,
    pub counts: Vec<(PlannedCount, CountOutcomeKind)>,
}

/// Applies `plan`. A failed account or service write stops the run (nothing after it is
/// written); a failed count write is reported and the others are still attempted, unless
/// Gradient answered 403, which stops every write at once.
pub async fn apply(
    synthesize: &Synthesize,
    plan: &Plan,
    opts: Options,
    progress: &Progress,
    observer: &mut dyn FnMut(Event<'_>),
) -> Result<Applied> {
    if !opts.dry_run {
        let create: Vec<gradient::Account> = plan
            .accounts
            .create
            .iter()
            .map(|a| gradient::Account {
                id: a.id.clone(),
                name: a.name.clone(),
            })
            .collect();
        if !create.is_empty() {
            synthesize.create_accounts(&create).await?;
            tracing::info!("created {} accounts", create.len());
            for a in &plan.accounts.create {
                observer(Event::AccountCreated(a));
            }
        }
        for r in &plan.accounts.rename {
            synthesize.rename_account(&r.id, &r.to).await?;
            observer(Event::AccountRenamed(r));
        }
    }

    let mut applied = Applied::default();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut created_any = false;
    for step in &plan.services {
        let outcome = match &step.action {
            ServiceAction::Exists { id } => {
                ids.insert(step.name.clone(), id.clone());
                ServiceOutcome::Exists
            }
            ServiceAction::Missing => ServiceOutcome::Missing,
            ServiceAction::Create { .. } if opts.dry_run => ServiceOutcome::Planned,
            ServiceAction::Create { description } => {
                synthesize
                    .create_service(&NewService {
                        name: step.name.clone(),
                        description: description.clone(),
                        category: gradient::SERVICE_CATEGORY,
                        subcategory: gradient::SERVICE_SUBCATEGORY,
                    })
                    .await?;
                tracing::info!("created service '{}'", step.name);
                observer(Event::ServiceCreated(&step.name));
                created_any = true;
                ServiceOutcome::Created
            }
        };
        applied.services.push((step.name.clone(), outcome));
    }
    if created_any && !plan.counts.is_empty() {
        // The new services' ids: the vendor's services, read once more.
        for sku in synthesize.skus().await? {
            for step in &plan.services {
                if normalize(&sku.name) == normalize(&step.name) && !ids.contains_key(&step.name) {
                    ids.insert(step.name.clone(), sku.id.clone());
                }
            }
        }
    }

    applied.counts = if opts.dry_run {
        plan.counts
            .iter()
            .map(|c| {
                let outcome = match c.blocked {
                    Some(b) => CountOutcomeKind::Blocked(b),
                    None => CountOutcomeKind::Planned,
                };
                observer(Event::Count(c, &outcome));
                (c.clone(), outcome)
            })
            .collect()
    } else {
        write_counts(synthesize, &plan.counts, &ids, opts, progress, observer).await
    };
    Ok(applied)
}

/// Writes every count with bounded concurrency; every pair is attempted, unless Gradient
/// answers 403 (its API-usage anomaly refusal): then nothing more is sent.
///
/// Gradient rebuilds its billing view after each count write unless told `no_build=true`
/// (docs/apis.md §1.2): every write but the run's last defers it, the last (held back until
/// the others are done) asks for it, and if that one is not stored, one pair that was is
/// written again without `no_build`, so the view is rebuilt exactly once per run.
async fn write_counts(
    synthesize: &Synthesize,
    counts: &[PlannedCount],
    ids: &BTreeMap<String, String>,
    opts: Options,
    progress: &Progress,
    observer: &mut dyn FnMut(Event<'_>),
) -> Vec<(PlannedCount, CountOutcomeKind)> {
    let bar = progress.writing(counts.len() as u64);
    let halted = AtomicBool::new(false);
    let last = counts
        .iter()
        .rposition(|p| p.blocked.is_none() && ids.contains_key(&p.service));
    let mut results =
        futures_util::stream::iter(counts.iter().enumerate().filter(|(i, _)| Some(*i) != last))
            .map(|(i, p)| {
                let bar = &bar;
                let halted = &halted;
                async move {
                    let outcome = write_one(synthesize, ids, halted, p, BillingView::Defer).await;
                    bar.inc();
                    (i, outcome)
                }
            })
            .buffer_unordered(opts.concurrency.max(1));
    let mut rows: Vec<(usize, CountOutcomeKind)> = Vec::with_capacity(counts.len());
    // Each result is reported as it arrives, so a run killed mid-write has recorded
    // exactly what Gradient answered.
    while let Some((i, outcome)) = results.next().await {
        observer(Event::Count(&counts[i], &outcome));
        rows.push((i, outcome));
    }
    drop(results);
    if let Some(i) = last {
        let outcome = write_one(synthesize, ids, &halted, &counts[i], BillingView::Rebuild).await;
        bar.inc();
        observer(Event::Count(&counts[i], &outcome));
        let rebuilt = outcome == CountOutcomeKind::Set;
        rows.push((i, outcome));
        if !rebuilt {
            rebuild_view(synthesize, counts, ids, &rows, &halted).await;
        }
    }
    let stored = rows
        .iter()
        .filter(|(_, o)| *o == CountOutcomeKind::Set)
        .count();
    bar.finish(stored as u64);
    rows.sort_by_key(|(i, _)| *i);
    rows.into_iter()
        .map(|(i, outcome)| (counts[i].clone(), outcome))
        .collect()
}

/// Writes one count; never fails the run (the outcome says what became of it).
async fn write_one(
    synthesize: &Synthesize,
    ids: &BTreeMap<String, String>,
    halted: &AtomicBool,
    p: &PlannedCount,
    view: BillingView,
) -> CountOutcomeKind {
    if let Some(b) = p.blocked {
        return CountOutcomeKind::Blocked(b);
    }
    if crate::interrupt::requested().is_some() {
        return CountOutcomeKind::Interrupted;
    }
    if halted.load(Ordering::SeqCst) {
        return CountOutcomeKind::NotAttempted;
    }
    let Some(sku) = ids.get(&p.service) else {
        // The plan only holds services that exist or were just created.
        return CountOutcomeKind::Failed(format!(
            "service '{}' has no id in Synthesize",
            p.service
        ));
    };
    match synthesize
        .set_count(sku, &p.account_id, p.count, view)
        .await
    {
        Ok(CountOutcome::Set) => CountOutcomeKind::Set,
        Ok(CountOutcome::Unmapped(m)) => CountOutcomeKind::Unmapped(m),
        Err(e) => {
            if matches!(e, Error::Flagged { .. }) {
                halted.store(true, Ordering::SeqCst);
            }
            tracing::warn!(
                "count {} for account {} / {} failed: {e}",
                p.count,
                p.account_id,
                p.service
            );
            CountOutcomeKind::Failed(e.to_string())
        }
    }
}

/// The run's last write was not stored, so it did not rebuild the billing view: one pair that
/// was stored is written again (the same count) without `no_build`. Also after an interrupt
/// (it changes no count, and without it the stored counts would not show in billing until a
/// later run), but not after a 403: Gradient asked for no more requests.
async fn rebuild_view(
    synthesize: &Synthesize,
    counts: &[PlannedCount],
    ids: &BTreeMap<String, String>,
    rows: &[(usize, CountOutcomeKind)],
    halted: &AtomicBool,
) {
    let Some(&(i, _)) = rows.iter().find(|(_, o)| *o == CountOutcomeKind::Set) else {
        return; // nothing stored, nothing to show
    };
    let stopped = halted.load(Ordering::SeqCst);
    let p = &counts[i];
    let result = match (stopped, ids.get(&p.service)) {
        (false, Some(sku)) => Some(
            synthesize
                .set_count(sku, &p.account_id, p.count, BillingView::Rebuild)
                .await,
        ),
        _ => None,
    };
    match result {
        Some(Ok(CountOutcome::Set)) => tracing::debug!(
            "billing view rebuilt by writing account {} / {} again",
            p.account_id,
            p.service
        ),
        Some(Ok(CountOutcome::Unmapped(m))) => tracing::warn!(
            "Gradient's billing view was not rebuilt after this run ({m}); the counts are \
             stored, and the next run rebuilds it"
        ),
        Some(Err(e)) => tracing::warn!(
            "Gradient's billing view was not rebuilt after this run ({e}); the counts are \
             stored, and the next run rebuilds it"
        ),
        None => tracing::warn!(
            "Gradient's billing view was not rebuilt after this run (Gradient answered 403); \
             the counts are stored, and the next run rebuilds it"
        ),
    }
}
