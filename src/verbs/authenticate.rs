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
    // A schedule that stopped: say so here too.
    if let (Some((kind, _)), Some(dir)) = (&source, crate::ledger::location::state_dir(env))
        && let Ok(Some(ledger)) = crate::ledger::Ledger::open_existing(&dir)
    {
        let integration =
            crate::ledger::fingerprint(gradient.vendor_key.expose(), gradient.partner_key.expose());
        super::history::warn_if_stale(env, &ledger, *kind, &integration)?;
    }
    let psa = match &mut source {
        None => None,
        Some((kind, source)) => {
            let connected_as = source.identity().await?;
            source.check_types().await?;
            Some(PsaIdentity {
                source: *kind,
                connected_as,
            })
        }
    };
    Ok(AuthReport {
        source: source.as_ref().map(|(kind, _)| *kind),
        synthesize: SynthesizeIdentity {
            organization: org.name,
            vendor: org.vendor_name,
            integration_status: org.status,
        },
        psa,
    })
}
