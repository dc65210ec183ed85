//! `update-status`: sets the integration status (docs/apis.md §1.4). A write like the others:
//! with a source configured it goes through the session (binding check, lock, ledger); without
//! one it still takes the integration's lock, so it never races a sync.

use super::common::WriteFlags;
use super::session::{self, Outcome, Psa, Session};
use crate::config::{self, Env};
use crate::error::Result;
use crate::gradient::{IntegrationStatus, Synthesize};
use crate::ledger::Status;
use crate::report::verbs::{Requests, StatusReport};
use crate::sources::SourceKind;

impl Outcome for StatusReport {
    fn outcome(&self) -> (Status, u8) {
        (Status::Succeeded, 0)
    }
}

pub async fn update_status(
    env: &Env,
    source_flag: Option<SourceKind>,
    status: IntegrationStatus,
    w: WriteFlags,
) -> Result<StatusReport> {
    let source = crate::sources::optional(env, source_flag)?;
    if source.is_some() {
        let s = Session::start(env, source_flag, "update-status", w, Psa::No).await?;
        let result = async {
            if !w.dry_run {
                s.synthesize.update_status(status).await?;
            }
            Ok(StatusReport {
                source,
                status,
                dry_run: w.dry_run,
                requests: s.requests(),
            })
        }
        .await;
        return s.finish(result);
    }
    let gradient = config::gradient(env)?;
    let http = config::http(env)?;
    let _lock = session::lock_integration(env, &gradient, w.dry_run)?;
    let synthesize = Synthesize::new(&gradient, &http)?;
    if !w.dry_run {
        synthesize.update_status(status).await?;
    }
    Ok(StatusReport {
        source,
        status,
        dry_run: w.dry_run,
        requests: Requests {
            psa: 0,
            gradient: synthesize.request_count(),
        },
    })
}
