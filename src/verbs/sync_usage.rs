//! `sync-usage`: computes every (account, service) count, zeros included, and sets it.

use super::common::{
    SyncConfig, WriteFlags, build_plan, check_guards, requests, synthesize_state, usage_report,
};
use crate::apply::{self, Options};
use crate::config::Env;
use crate::error::Result;
use crate::gradient::Synthesize;
use crate::plan::{Inputs, Scope};
use crate::progress::Progress;
use crate::report::verbs::UsageReport;
use crate::sources::SourceKind;

pub async fn sync_usage(
    env: &Env,
    source_flag: Option<SourceKind>,
    w: WriteFlags,
    progress: &Progress,
) -> Result<UsageReport> {
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
        allow_missing_services: w.dry_run,
        scope: Scope::COUNTS,
    })?;
    for step in &plan.services {
        if let crate::plan::ServiceAction::Create { .. } = step.action {
            // Only a dry run gets here with a missing service (allow_missing_services).
            tracing::warn!(
                "service '{}' does not exist in Synthesize yet: a real sync-usage would stop \
                 before writing; run sync-services first (or use run, which does it)",
                step.name
            );
        }
    }
    check_guards(&plan, w)?;
    let opts = Options {
        dry_run: w.dry_run,
        concurrency: cfg.http.write_concurrency,
    };
    let applied = apply::apply(&synthesize, &plan, opts, progress).await?;
    Ok(usage_report(
        cfg.kind,
        &applied,
        &tally,
        w.dry_run,
        requests(source.as_ref(), &synthesize),
    ))
}
