//! `sync-services`: creates the source's services that are missing from the vendor's
//! services (by name, ignoring case and spaces). Needs no PSA credentials.

use super::common::{SyncConfig, WriteFlags, build_plan, services_report, skus_of};
use crate::apply::{self, Options};
use crate::config::Env;
use crate::error::Result;
use crate::gradient::Synthesize;
use crate::plan::{Inputs, Scope};
use crate::progress::Progress;
use crate::report::verbs::{Requests, ServicesReport};
use crate::sources::{SourceKind, Tally};

pub async fn sync_services(
    env: &Env,
    source_flag: Option<SourceKind>,
    w: WriteFlags,
) -> Result<ServicesReport> {
    // The source names the services; its PSA settings are not needed.
    let cfg = SyncConfig::resolve(env, source_flag)?;
    let synthesize = Synthesize::new(&cfg.gradient, &cfg.http)?;
    let skus = skus_of(&synthesize).await?;
    let plan = build_plan(Inputs {
        tally: &Tally::default(),
        existing: &[],
        skus: &skus,
        services: &cfg.services,
        allow_missing_services: false,
        scope: Scope::SERVICES,
    })?;
    let opts = Options {
        dry_run: w.dry_run,
        concurrency: cfg.http.write_concurrency,
    };
    let applied = apply::apply(&synthesize, &plan, opts, &Progress::quiet()).await?;
    let mut report = services_report(cfg.kind, &applied, w.dry_run);
    report.requests = Some(Requests {
        psa: 0,
        gradient: synthesize.request_count(),
    });
    Ok(report)
}
