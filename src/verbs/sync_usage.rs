//! `sync-usage`: computes every (account, service) count, zeros included, checks the plan
//! against the guards and the last successful run, and sets every count.

use super::common::{
    UsageParts, WriteFlags, build_plan, check_guards, synthesize_state, usage_report,
};
use super::session::{Outcome, Psa, Session};
use crate::apply::{self, Options};
use crate::config::Env;
use crate::error::{Error, Result};
use crate::interrupt;
use crate::ledger::Status;
use crate::plan::{Inputs, Plan, Scope};
use crate::progress::Progress;
use crate::report::verbs::UsageReport;
use crate::sources::{SourceKind, Tally};

impl Outcome for UsageReport {
    fn outcome(&self) -> (Status, u8) {
        if self.interrupted {
            (
                Status::Interrupted,
                crate::interrupt::requested().unwrap_or(130),
            )
        } else if self.failed() > 0 {
            (Status::Failed, 1)
        } else {
            (Status::Succeeded, 0)
        }
    }

    fn record_incomplete(&mut self) {
        self.record_incomplete = true;
    }
}

pub async fn sync_usage(
    env: &Env,
    source_flag: Option<SourceKind>,
    w: WriteFlags,
    progress: &Progress,
) -> Result<UsageReport> {
    let mut s = Session::start(env, source_flag, "sync-usage", w, Psa::Required).await?;
    let result = body(&mut s, w, progress).await;
    s.finish(result)
}

async fn body(s: &mut Session, w: WriteFlags, progress: &Progress) -> Result<UsageReport> {
    Ok(sync_pass(s, w, progress, Scope::COUNTS).await?.usage)
}

/// One read of the source, planned, guarded and applied within `scope`: what `sync-usage` and
/// `run` share.
pub(super) struct SyncPass {
    pub tally: Tally,
    pub plan: Plan,
    pub applied: apply::Applied,
    pub usage: UsageReport,
}

pub(super) async fn sync_pass(
    s: &mut Session,
    w: WriteFlags,
    progress: &Progress,
    scope: Scope,
) -> Result<SyncPass> {
    let source = s
        .source
        .as_mut()
        .ok_or_else(|| Error::Local("the source was not opened".into()))?;
    let tally = interrupt::before_writes(source.tally(progress)).await?;
    let (existing, skus) = interrupt::before_writes(synthesize_state(&s.synthesize, true)).await?;
    s.check_fits(&skus, w)?;
    let plan = build_plan(Inputs {
        tally: &tally,
        existing: &existing,
        skus: &skus,
        services: &s.cfg.services,
        scope,
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
    let usage = usage_report(UsageParts {
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
    Ok(SyncPass {
        tally,
        plan,
        applied,
        usage,
    })
}
