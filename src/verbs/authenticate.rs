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
    // The PSA's failure does not hide Gradient's answer: both are reported.
    let psa = match &mut source {
        None => None,
        Some((kind, source)) => {
            let checked = async {
                let who = source.identity().await?;
                source.check_types().await?;
                Ok::<_, crate::error::Error>(who)
            }
            .await;
            Some(match checked {
                Ok(who) => PsaIdentity {
                    source: *kind,
                    connected_as: Some(who),
                    error: None,
                    exit_code: 0,
                },
                Err(e) => PsaIdentity {
                    source: *kind,
                    connected_as: None,
                    error: Some(e.to_string()),
                    exit_code: e.exit_code(),
                },
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
