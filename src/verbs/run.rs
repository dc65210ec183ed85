//! `run`: sync-accounts, sync-services and sync-usage from a single read of the PSA, as one
//! plan whose guards are checked before anything at all is written.

use super::common::{
    SyncConfig, WriteFlags, accounts_report, build_plan, check_guards, requests, services_report,
    synthesize_state, usage_report,
};
use crate::apply::{self, Options};
use crate::config::Env;
use crate::error::Result;
use crate::gradient::Synthesize;
use crate::plan::{Inputs, Scope};
use crate::progress::Progress;
use crate::report::verbs::RunReport;
use crate::sources::SourceKind;

pub async fn run(
    env: &Env,
    source_flag: Option<SourceKind>,
    w: WriteFlags,
    progress: &Progress,
) -> Result<RunReport> {
    let cfg = SyncConfig::resolve(env, source_flag)?;
    let mut source = cfg.kind.open(env, &cfg.http)?;
    let synthesize = Synthesize::new(&cfg.gradient, &cfg.http)?;
    let tally = source.tally(progress).await?;
    let (existing, skus) = synthesize_state(&synthesize, true).await?;
    let plan = build_plan(Inputs {
        tally: &tally,
        existing: &existing,
        skus: &skus,
        services: &cfg.services,
        allow_missing_services: false,
        scope: Scope::ALL,
    })?;
    check_guards(&plan, w)?;
    let opts = Options {
        dry_run: w.dry_run,
        concurrency: cfg.http.write_concurrency,
    };
    let applied = apply::apply(&synthesize, &plan, opts, progress).await?;
    Ok(RunReport {
        source: cfg.kind,
        dry_run: w.dry_run,
        accounts: accounts_report(cfg.kind, &plan, &tally, w.dry_run),
        services: services_report(cfg.kind, &applied, w.dry_run),
        usage: usage_report(
            cfg.kind,
            &applied,
            &tally,
            w.dry_run,
            requests(source.as_ref(), &synthesize),
        ),
    })
}
