//! `update-status`: sets the integration status (docs/apis.md §1.4).

use crate::config::{self, Env};
use crate::error::Result;
use crate::gradient::{IntegrationStatus, Synthesize};
use crate::report::verbs::{Requests, StatusReport};
use crate::sources::SourceKind;

pub async fn update_status(
    env: &Env,
    source_flag: Option<SourceKind>,
    status: IntegrationStatus,
    dry_run: bool,
) -> Result<StatusReport> {
    let source = crate::sources::optional(env, source_flag)?;
    let gradient = config::gradient(env)?;
    let http = config::http(env)?;
    let synthesize = Synthesize::new(&gradient, &http)?;
    if !dry_run {
        synthesize.update_status(status).await?;
    }
    Ok(StatusReport {
        source,
        status,
        dry_run,
        requests: Requests {
            psa: 0,
            gradient: synthesize.request_count(),
        },
    })
}
