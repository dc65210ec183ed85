//! `sync-services`: creates the source's services that are missing from the vendor's
//! services (by name, ignoring case and spaces). Needs no PSA credentials.

use super::common::{WriteFlags, build_plan, services_of, services_report};
use crate::apply::{self, Options};
use crate::config::{self, Env};
use crate::error::Result;
use crate::gradient::Synthesize;
use crate::plan::{Inputs, Scope, Sku};
use crate::progress::Progress;
use crate::report::verbs::{Requests, ServicesReport};
use crate::sources::{self, SourceKind, Tally};

pub async fn sync_services(
    env: &Env,
    source_flag: Option<SourceKind>,
    w: WriteFlags,
) -> Result<ServicesReport> {
    let kind = sources::required(env, source_flag)?;
    let gradient = config::gradient(env)?;
    let http = config::http(env)?;
    let services = services_of(kind, env)?;
    let synthesize = Synthesize::new(&gradient, &http)?;
    let skus: Vec<Sku> = synthesize
        .skus()
        .await?
        .into_iter()
        .map(|s| Sku {
            id: s.id,
            name: s.name,
        })
        .collect();
    let plan = build_plan(Inputs {
        tally: &Tally::default(),
        existing: &[],
        skus: &skus,
        services: &services,
        allow_missing_services: false,
        scope: Scope::SERVICES,
    })?;
    let opts = Options {
        dry_run: w.dry_run,
        concurrency: http.write_concurrency,
    };
    let applied = apply::apply(&synthesize, &plan, opts, &Progress::quiet()).await?;
    let mut report = services_report(kind, &applied, w.dry_run);
    report.requests = Some(Requests {
        psa: 0,
        gradient: synthesize.request_count(),
    });
    Ok(report)
}
