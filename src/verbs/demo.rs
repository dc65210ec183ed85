//! `demo`: every source's whole lifecycle against the built-in sandbox.

use super::authenticate::authenticate;
use super::common::{WriteFlags, fail_on_failed_writes};
use super::engagement::{EngagementArgs, engagement};
use super::sandbox::Sandbox;
use super::sync_accounts::sync_accounts;
use super::sync_services::sync_services;
use super::sync_usage::sync_usage;
use super::update_status::update_status;
use crate::engagement::read::Filters;
use crate::error::Result;
use crate::gradient::IntegrationStatus;
use crate::progress::Progress;
use crate::report::Output;
use crate::report::Render;
use crate::report::demo::{DemoNextRun, DemoReport, DemoSource};
use crate::sources;

/// `demo`: every source's whole lifecycle against the sandbox.
pub async fn demo(out: &Output, progress: &Progress) -> Result<()> {
    let sandbox = Sandbox::start(0, 0, 0).await?;
    let mut sources = Vec::new();
    for &kind in sources::all() {
        let env = sandbox.settings(kind);
        let w = WriteFlags::default();
        let authenticate = authenticate(&env, Some(kind)).await?;
        let sync_accounts = sync_accounts(&env, Some(kind), w, progress).await?;
        let sync_services = sync_services(&env, Some(kind), w).await?;
        let update_status = update_status(&env, Some(kind), IntegrationStatus::Pending, w).await?;
        let left_unmapped = sandbox.partner_maps(kind);
        let sync_usage = sync_usage(&env, Some(kind), w, progress).await?;
        fail_on_failed_writes(&sync_usage)?;
        // The next run of the first source, after a change in the PSA, compares with this
        // one: the run ledger at work.
        let next = match sandbox.change_something(kind) {
            Some(change) => {
                let again = super::sync_usage::sync_usage(&env, Some(kind), w, progress).await?;
                fail_on_failed_writes(&again)?;
                Some(DemoNextRun {
                    change,
                    sync_usage: again,
                })
            }
            None => None,
        };
        sources.push(DemoSource {
            source: kind,
            authenticate,
            sync_accounts,
            sync_services,
            update_status,
            left_unmapped,
            sync_usage,
            next,
        });
    }
    // Client engagement over the ConnectWise sample's tickets, time, agreements and CrewHu
    // surveys (the sandbox dates them relative to now).
    let cw = sources::by_name("connectwise-contacts").expect("a registered source");
    let args = EngagementArgs {
        days: 90,
        compare: false,
        compare_wanted: false,
        csat: None,
        filters: Filters::default(),
    };
    let scores = engagement(&sandbox.settings(cw), &args, crate::ledger::now()).await?;
    let engagement_text = scores.text();
    let engagement = serde_json::to_value(&scores).map_err(|e| {
        crate::error::Error::Local(format!("cannot show the engagement report ({e})"))
    })?;
    let state_dir = sandbox.state_dir.clone();
    sandbox.stop().await;
    // The demo leaves nothing behind.
    let _ = std::fs::remove_dir_all(state_dir);
    out.emit(&DemoReport {
        sources,
        engagement,
        engagement_text,
    });
    Ok(())
}
