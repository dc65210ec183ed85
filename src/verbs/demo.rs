//! `demo`: every source's whole lifecycle against the built-in sandbox.

use super::sandbox::Sandbox;
use crate::error::{Error, Result};
use crate::gradient::IntegrationStatus;
use crate::progress::Progress;
use crate::report::Output;
use crate::report::demo::{DemoReport, DemoSource};
use crate::sources;
use crate::verbs::{self, WriteFlags};

/// `demo`: every source's whole lifecycle against the sandbox.
pub async fn demo(out: &Output, progress: &Progress) -> Result<()> {
    let sandbox = Sandbox::start(0, 0, 0).await?;
    let mut sources = Vec::new();
    for kind in sources::all() {
        let env = sandbox.settings(kind);
        let w = WriteFlags::default();
        let authenticate = verbs::authenticate(&env, Some(kind)).await?;
        let sync_accounts = verbs::sync_accounts(&env, Some(kind), w, progress).await?;
        let sync_services = verbs::sync_services(&env, Some(kind), w).await?;
        let update_status = verbs::update_status(&env, IntegrationStatus::Pending, false).await?;
        let left_unmapped = sandbox.partner_maps(kind);
        let sync_usage = verbs::sync_usage(&env, Some(kind), w, progress).await?;
        if sync_usage.failed() > 0 {
            return Err(Error::WritesFailed {
                failed: sync_usage.failed(),
                total: sync_usage.counts.len(),
            });
        }
        sources.push(DemoSource {
            source: kind,
            authenticate,
            sync_accounts,
            sync_services,
            update_status,
            left_unmapped,
            sync_usage,
        });
    }
    sandbox.stop().await;
    out.emit(&DemoReport { sources });
    Ok(())
}
