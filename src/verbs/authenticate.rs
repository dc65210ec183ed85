//! `authenticate`: checks the Gradient tokens, then the PSA of the source when one is chosen.

use crate::config::{self, Env};
use crate::error::Result;
use crate::gradient::Synthesize;
use crate::report::verbs::{AuthReport, PsaIdentity, SynthesizeIdentity};
use crate::sources::{self, SourceKind};

pub async fn authenticate(env: &Env, source_flag: Option<SourceKind>) -> Result<AuthReport> {
    let gradient = config::gradient(env)?;
    let http = config::http(env)?;
    // Every setting is resolved before the first request.
    let mut source = match sources::optional(env, source_flag)? {
        Some(kind) => Some((kind, kind.open(env, &http)?)),
        None => None,
    };
    let synthesize = Synthesize::new(&gradient, &http)?;
    let org = synthesize.organization().await?;
    let psa = match &mut source {
        None => None,
        Some((kind, source)) => Some(PsaIdentity {
            source: *kind,
            connected_as: source.identity().await?,
        }),
    };
    Ok(AuthReport {
        synthesize: SynthesizeIdentity {
            organization: org.name,
            vendor: org.vendor_name,
            integration_status: org.status,
        },
        psa,
    })
}
