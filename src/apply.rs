//! Apply: writes a [`Plan`] through the Synthesize client, in order (accounts, services,
//! counts), and returns what became of each part as typed results. It decides nothing: the
//! plan and its guards did (docs/ARCHITECTURE.md).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;

use crate::error::{Error, Result};
use crate::gradient::{self, CountOutcome, NewService, Synthesize};
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
    let mut results = futures_util::stream::iter(counts.iter().enumerate())
        .map(|(i, p)| {
            let bar = &bar;
            let halted = &halted;
            async move {
                let outcome = if let Some(b) = p.blocked {
                    CountOutcomeKind::Blocked(b)
                } else if crate::interrupt::requested().is_some() {
                    CountOutcomeKind::Interrupted
                } else if halted.load(Ordering::SeqCst) {
                    CountOutcomeKind::NotAttempted
                } else if let Some(sku) = ids.get(&p.service) {
                    match synthesize.set_count(sku, &p.account_id, p.count).await {
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
                } else {
                    // The plan only holds services that exist or were just created.
                    CountOutcomeKind::Failed(format!(
                        "service '{}' has no id in Synthesize",
                        p.service
                    ))
                };
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
