//! `sync-services`: creates the source's services that are missing from the vendor's
//! services (by name, ignoring case and spaces). Needs no PSA credentials.

use super::common::{WriteFlags, build_plan, services_report, skus_of};
use super::session::{Outcome, Psa, Session};
use crate::apply::{self, Options};
use crate::config::Env;
use crate::error::Result;
use crate::ledger::Status;
use crate::plan::{Inputs, Scope};
use crate::progress::Progress;
use crate::report::verbs::ServicesReport;
use crate::sources::{SourceKind, Tally};

impl Outcome for ServicesReport {
    fn outcome(&self) -> (Status, u8) {
        (Status::Succeeded, 0)
    }
}

pub async fn sync_services(
    env: &Env,
    source_flag: Option<SourceKind>,
    w: WriteFlags,
) -> Result<ServicesReport> {
    // The source names the services; its PSA settings are not needed.
    let mut s = Session::start(env, source_flag, "sync-services", w, Psa::IfConfigured).await?;
    let result = body(&mut s, w).await;
    s.finish(result)
}

async fn body(s: &mut Session, w: WriteFlags) -> Result<ServicesReport> {
    // A misspelt type would make a service named after it: the names are checked first.
    if let Some(source) = s.source.as_mut() {
        crate::interrupt::before_writes(source.check_types()).await?;
    }
    let skus = skus_of(&s.synthesize).await?;
    s.check_fits(&skus, w)?;
    let plan = build_plan(Inputs {
        tally: &Tally::default(),
        existing: &[],
        skus: &skus,
        services: &s.cfg.services,
        scope: Scope::SERVICES,
    })?;
    let opts = Options {
        dry_run: w.dry_run,
        concurrency: s.cfg.http.write_concurrency,
    };
    let synthesize = s.synthesize.clone();
    let applied = apply::apply(
        &synthesize,
        &plan,
        opts,
        &Progress::quiet(),
        &mut s.observer(),
    )
    .await?;
    let mut report = services_report(s.kind, &applied, w.dry_run);
    report.requests = Some(s.requests());
    Ok(report)
}
