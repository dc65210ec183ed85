//! `sync-accounts`: creates the Synthesize accounts of PSA companies with counted items,
//! and renames those whose name changed.

use super::common::{WriteFlags, accounts_report, build_plan, synthesize_state};
use super::session::{Outcome, Psa, Session};
use crate::apply::{self, Options};
use crate::config::Env;
use crate::error::{Error, Result};
use crate::interrupt;
use crate::ledger::Status;
use crate::plan::{Inputs, Scope};
use crate::progress::Progress;
use crate::report::verbs::AccountsReport;
use crate::sources::SourceKind;

impl Outcome for AccountsReport {
    fn outcome(&self) -> (Status, u8) {
        (Status::Succeeded, 0)
    }
}

pub async fn sync_accounts(
    env: &Env,
    source_flag: Option<SourceKind>,
    w: WriteFlags,
    progress: &Progress,
) -> Result<AccountsReport> {
    let mut s = Session::start(env, source_flag, "sync-accounts", w, Psa::Required).await?;
    let result = body(&mut s, w, progress).await;
    s.finish(result)
}

async fn body(s: &mut Session, w: WriteFlags, progress: &Progress) -> Result<AccountsReport> {
    let source = s
        .source
        .as_mut()
        .ok_or_else(|| Error::Local("sync-accounts: the source was not opened".into()))?;
    let tally = interrupt::before_writes(source.tally(progress)).await?;
    let (existing, skus) = interrupt::before_writes(synthesize_state(&s.synthesize, true)).await?;
    s.check_fits(&skus, w)?;
    let plan = build_plan(Inputs {
        tally: &tally,
        existing: &existing,
        skus: &[],
        services: &[],
        scope: Scope::ACCOUNTS,
    })?;
    let opts = Options {
        dry_run: w.dry_run,
        concurrency: s.cfg.http.write_concurrency,
    };
    interrupt::before_writes(async { Ok(()) }).await?;
    let synthesize = s.synthesize.clone();
    apply::apply(&synthesize, &plan, opts, progress, &mut s.observer()).await?;
    let mut report = accounts_report(s.kind, &plan, &tally, w.dry_run);
    report.requests = Some(s.requests());
    Ok(report)
}
