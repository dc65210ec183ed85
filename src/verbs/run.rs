//! `run`: sync-accounts, sync-services and sync-usage from a single read of the PSA, as one
//! plan whose guards are checked before anything at all is written.

use super::common::{WriteFlags, accounts_report, services_report};
use super::session::{Outcome, Psa, Session};
use super::sync_usage::{SyncPass, sync_pass};
use crate::apply;
use crate::config::Env;
use crate::error::Result;
use crate::ledger::Status;
use crate::plan::Scope;
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
    let SyncPass {
        tally,
        plan,
        applied,
        mut usage,
    } = sync_pass(s, w, progress, Scope::ALL).await?;
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
