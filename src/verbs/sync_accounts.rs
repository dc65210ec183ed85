//! `sync-accounts`: creates the Synthesize accounts of PSA companies with counted items,
//! and renames those whose name changed.

use super::common::{
    SyncConfig, WriteFlags, accounts_report, build_plan, requests, synthesize_state,
};
use crate::apply::{self, Options};
use crate::config::Env;
use crate::error::Result;
use crate::gradient::Synthesize;
use crate::plan::{Inputs, Scope};
use crate::progress::Progress;
use crate::report::verbs::AccountsReport;
use crate::sources::SourceKind;

pub async fn sync_accounts(
    env: &Env,
    source_flag: Option<SourceKind>,
    w: WriteFlags,
    progress: &Progress,
) -> Result<AccountsReport> {
    let cfg = SyncConfig::resolve(env, source_flag)?;
    let mut source = cfg.kind.open(env, &cfg.http)?;
    let synthesize = Synthesize::new(&cfg.gradient, &cfg.http)?;
    let tally = source.tally(progress).await?;
    let (existing, _) = synthesize_state(&synthesize, false).await?;
    let plan = build_plan(Inputs {
        tally: &tally,
        existing: &existing,
        skus: &[],
        services: &[],
        allow_missing_services: false,
        scope: Scope::ACCOUNTS,
    })?;
    let opts = Options {
        dry_run: w.dry_run,
        concurrency: cfg.http.write_concurrency,
    };
    apply::apply(&synthesize, &plan, opts, progress).await?;
    let mut report = accounts_report(cfg.kind, &plan, &tally, w.dry_run);
    report.requests = Some(requests(source.as_ref(), &synthesize));
    Ok(report)
}
