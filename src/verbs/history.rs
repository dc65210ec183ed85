//! `history`: the run ledger, read: recent runs, one run's pairs, what changed between two
//! runs. It needs no credentials; with the Gradient tokens configured it marks their
//! integration and can pick the runs to compare by itself.

use crate::config::{self, Env};
use crate::error::{Error, Result};
use crate::ledger::{self, Ledger, Run, RunLock, Status};
use crate::report::history::{DiffReport, HistoryReport, RunDetail, RunLine, Unmapped};
use crate::sources::{self, SourceKind};
use crate::text::utc;

/// What `history` was asked.
#[derive(Debug, Clone)]
pub enum HistoryQuery {
    List { limit: usize },
    Show { run: i64 },
    Diff { runs: Option<(i64, i64)> },
}

/// `history`'s answer, one of three reports.
pub enum HistoryAnswer {
    List(HistoryReport),
    Show(Box<RunDetail>),
    Diff(Box<DiffReport>),
}

/// The configured integration's fingerprint, when the Gradient tokens are configured.
fn current_integration(env: &Env) -> Option<String> {
    let g = config::gradient(env).ok()?;
    Some(ledger::fingerprint(
        g.vendor_key.expose(),
        g.partner_key.expose(),
    ))
}

pub fn history(
    env: &Env,
    source_flag: Option<SourceKind>,
    query: HistoryQuery,
) -> Result<HistoryAnswer> {
    let dir = ledger::location::state_dir(env).ok_or_else(|| {
        Error::setting(
            "SYNC_STATE_DIR",
            "not set, and no home directory to find the run ledger in; set it to the directory \
             your runs use",
        )
    })?;
    let source = sources::optional(env, source_flag)?;
    let current = current_integration(env);
    let Some(ledger) = Ledger::open_existing(&dir)? else {
        return match query {
            HistoryQuery::List { .. } => Ok(HistoryAnswer::List(HistoryReport {
                state_dir: dir.display().to_string(),
                runs: Vec::new(),
                unmapped: None,
            })),
            _ => Err(Error::Usage(format!(
                "no run ledger in {} yet: nothing to show",
                dir.display()
            ))),
        };
    };
    let line = |run: Run| -> RunLine {
        let mut run = run;
        // A run still `running` whose integration nobody holds was interrupted.
        if run.status == Status::Running && !RunLock::is_alive(&dir, run.id) {
            run.status = Status::Interrupted;
        }
        RunLine {
            started: utc(run.started_at),
            current_integration: current.as_deref() == Some(run.integration.as_str()),
            run,
        }
    };
    match query {
        HistoryQuery::List { limit } => {
            let runs: Vec<RunLine> = ledger
                .runs(source.map(|s| s.name()), limit)?
                .into_iter()
                .map(line)
                .collect();
            let unmapped = match (source, &current) {
                (Some(s), Some(integration)) => {
                    warn_if_stale(env, &ledger, s, integration)?;
                    ledger
                        .unmapped(s.name(), integration)?
                        .map(|(pairs, since)| Unmapped {
                            pairs,
                            since: (pairs > 0).then(|| utc(since)),
                        })
                }
                _ => None,
            };
            Ok(HistoryAnswer::List(HistoryReport {
                state_dir: dir.display().to_string(),
                runs,
                unmapped,
            }))
        }
        HistoryQuery::Show { run } => {
            let r = ledger.run(run)?.ok_or_else(|| {
                Error::Usage(format!("no run {run} in the ledger; see `history`"))
            })?;
            Ok(HistoryAnswer::Show(Box::new(RunDetail {
                changes: ledger.changes(run)?,
                pairs: ledger.pairs(run)?,
                run: line(r),
            })))
        }
        HistoryQuery::Diff { runs } => {
            let (a, b) = match runs {
                Some(pair) => pair,
                None => {
                    let (Some(s), Some(integration)) = (source, &current) else {
                        return Err(Error::Usage(
                            "history diff without run numbers compares the last two successful \
                             runs of the source and integration: give --source (or SYNC_SOURCE) \
                             and the Gradient tokens, or two run numbers"
                                .into(),
                        ));
                    };
                    let last = ledger.successful(s.name(), integration, 2)?;
                    match last.as_slice() {
                        [newer, older] => (older.id, newer.id),
                        _ => {
                            return Err(Error::Usage(format!(
                                "{s} has fewer than two successful runs for this integration; \
                                 nothing to compare yet"
                            )));
                        }
                    }
                }
            };
            let get = |id: i64| -> Result<Run> {
                ledger.run(id)?.ok_or_else(|| {
                    Error::Usage(format!("no run {id} in the ledger; see `history`"))
                })
            };
            let (ra, rb) = (get(a)?, get(b)?);
            let (pa, pb) = (ledger.pairs(a)?, ledger.pairs(b)?);
            Ok(HistoryAnswer::Diff(Box::new(DiffReport::of(
                line(ra),
                &pa,
                line(rb),
                &pb,
            ))))
        }
    }
}

/// Warns when the last successful `sync-usage` or `run` of the source and integration is
/// older than `SYNC_STALE_AFTER_DAYS` (default 8): a schedule that stopped running.
pub(crate) fn warn_if_stale(
    env: &Env,
    ledger: &Ledger,
    source: SourceKind,
    integration: &str,
) -> Result<()> {
    let days = config::stale_after_days(env)?;
    if let Some(last) = ledger.successful(source.name(), integration, 1)?.first() {
        let ended = last.ended_at.unwrap_or(last.started_at);
        let age_days = (ledger::now() - ended) / 86_400;
        if age_days >= i64::try_from(days).unwrap_or(i64::MAX) {
            tracing::warn!(
                "the last successful sync of {source} for this integration ended {} ({age_days} \
                 days ago, more than SYNC_STALE_AFTER_DAYS={days}); is the schedule still running?",
                utc(ended)
            );
        }
    }
    Ok(())
}
