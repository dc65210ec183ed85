//! `retire-service NAME`: sets a service this configuration no longer counts to 0 for every
//! account, so billing for it stops. It goes through the same plan, lock and ledger as a
//! sync; the all-zero and drop guards do not apply to it (zeroing it is the point), but it
//! refuses a service the configuration still counts, or one Synthesize does not have.

use super::common::{UsageParts, WriteFlags, build_plan, synthesize_state, usage_report};
use super::session::{Psa, Session};
use crate::apply::{self, Options};
use crate::config::Env;
use crate::error::{Error, Result};
use crate::interrupt;
use crate::names::normalize;
use crate::plan::{Plan, PlannedCount, Reason, ServiceAction, ServiceStep};
use crate::progress::Progress;
use crate::report::verbs::UsageReport;
use crate::sources::{SourceKind, Tally};

pub async fn retire_service(
    env: &Env,
    source_flag: Option<SourceKind>,
    name: &str,
    w: WriteFlags,
    progress: &Progress,
) -> Result<UsageReport> {
    let mut s = Session::start(env, source_flag, "retire-service", w, Psa::No).await?;
    let result = body(&mut s, name, w, progress).await;
    s.finish(result)
}

async fn body(
    s: &mut Session,
    name: &str,
    w: WriteFlags,
    progress: &Progress,
) -> Result<UsageReport> {
    if s.cfg
        .services
        .iter()
        .any(|d| normalize(&d.name) == normalize(name))
    {
        let counted: Vec<&str> = s.cfg.services.iter().map(|d| d.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "'{name}' is still counted by these settings ({} counts: {}): take it out of them \
             first, or the next sync would set it again",
            s.kind,
            counted.join(", ")
        )));
    }
    let (existing, skus) = interrupt::before_writes(synthesize_state(&s.synthesize, true)).await?;
    let Some(sku) = skus.iter().find(|k| normalize(&k.name) == normalize(name)) else {
        let names: Vec<&str> = skus.iter().map(|k| k.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "Synthesize has no service named '{name}'; its services: {}",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )));
    };
    // One plan, built by the same code as a sync's, with only this service's counts, all 0.
    let mut plan: Plan = build_plan(crate::plan::Inputs {
        tally: &Tally::default(),
        existing: &existing,
        skus: &skus,
        services: &[],
        scope: crate::plan::Scope::COUNTS,
    })?;
    plan.services = vec![ServiceStep {
        name: sku.name.clone(),
        action: ServiceAction::Exists { id: sku.id.clone() },
    }];
    plan.counts = existing
        .iter()
        .map(|a| PlannedCount {
            account_id: a.id.clone(),
            account_name: a.name.clone(),
            service: sku.name.clone(),
            count: 0,
            reason: Reason::NothingCounted,
            blocked: None,
        })
        .collect();
    plan.foreign.clear();
    s.record_plan(&plan);
    interrupt::before_writes(async { Ok(()) }).await?;
    let opts = Options {
        dry_run: w.dry_run,
        concurrency: s.cfg.http.write_concurrency,
    };
    let synthesize = s.synthesize.clone();
    let applied = apply::apply(&synthesize, &plan, opts, progress, &mut s.observer()).await?;
    Ok(usage_report(UsageParts {
        kind: s.kind,
        plan: &plan,
        applied: &applied,
        tally: &Tally::default(),
        dry_run: w.dry_run,
        requests: s.requests(),
        baseline: None,
        refused: None,
        foreign: Vec::new(),
    }))
}
