//! `run`: sync-accounts, sync-services and sync-usage from a single read of the PSA, as one
//! plan whose guards are checked before anything at all is written.

use super::common::{
    UsageParts, WriteFlags, accounts_report, build_plan, check_guards, services_report,
    synthesize_state, usage_report,
};
use super::session::{Outcome, Psa, Session};
use crate::apply::{self, Options};
use crate::config::Env;
use crate::error::{Error, Result};
use crate::interrupt;
use crate::ledger::Status;
use crate::plan::{Inputs, Scope};
use crate::progress::Progress;
use crate::report::verbs::RunReport;
use crate::sources::SourceKind;

impl Outcome for RunReport {
    fn outcome(&self) -> (Status, u8) {
        self.usage.outcome()
    }

    fn record_incomplete(&mut self) {
        self.usage.record_incomplete = true;
    }
}

pub async fn run(
    env: &Env,
    source_flag: Option<SourceKind>,
    w: WriteFlags,
    progress: &Progress,
) -> Result<RunReport> {
    let mut s = Session::start(env, source_flag, "run", w, Psa::Required).await?;
    let result = body(&mut s, w, progress).await;
    s.finish(result)
}

async fn body(s: &mut Session, w: WriteFlags, progress: &Progress) -> Result<RunReport> {
    let source = s
        .source
        .as_mut()
        .ok_or_else(|| Error::Local("run: the source was not opened".into()))?;
    let tally = interrupt::before_writes(source.tally(progress)).await?;
    let (existing, skus) = interrupt::before_writes(synthesize_state(&s.synthesize, true)).await?;
    s.check_fits(&skus, w)?;
    let plan = build_plan(Inputs {
        tally: &tally,
        existing: &existing,
        skus: &skus,
        services: &s.cfg.services,
        scope: Scope::ALL,
    })?;
    let foreign = s.foreign_services(&plan);
    s.record_plan(&plan);
    let refused = check_guards(&plan, s.previous().map(|b| &b.counts), w)?;
    let opts = Options {
        dry_run: w.dry_run,
        concurrency: s.cfg.http.write_concurrency,
    };
    interrupt::before_writes(async { Ok(()) }).await?;
    let synthesize = s.synthesize.clone();
    let applied = apply::apply(&synthesize, &plan, opts, progress, &mut s.observer()).await?;
    let mut usage = usage_report(UsageParts {
        kind: s.kind,
        plan: &plan,
        applied: &applied,
        tally: &tally,
        dry_run: w.dry_run,
        requests: s.requests(),
        baseline: s.previous(),
        refused,
        foreign,
    });
    // For --detailed-exitcode, accounts and services to create or rename are changes too.
    usage.changes +=
        plan.accounts.create.len() + plan.accounts.rename.len() + applied_creations(&applied);
    Ok(RunReport {
        accounts: accounts_report(s.kind, &plan, &tally, w.dry_run),
        services: services_report(s.kind, &applied, w.dry_run),
        usage,
    })
}

fn applied_creations(applied: &apply::Applied) -> usize {
    applied
        .services
        .iter()
        .filter(|(_, o)| *o != apply::ServiceOutcome::Exists)
        .count()
}
