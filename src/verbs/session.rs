//! A writing verb's run: its resolved configuration, its clients, and its record in the run
//! ledger, from the first request to the outcome (docs/ARCHITECTURE.md, README "Run ledger").

use std::path::PathBuf;

use super::common::{SyncConfig, WriteFlags};
use crate::apply::{CountOutcomeKind, Event};
use crate::config::Env;
use crate::error::{Error, Result};
use crate::gradient::Synthesize;
use crate::http::redact;
use crate::ledger::{
    self, Baseline, Change, Finish, IntegrationLock, Ledger, LockState, NewRun, Pair, RunLock,
    Status,
};
use crate::report::verbs::{ForeignService, Requests};
use crate::sources::{Source, SourceKind};

/// What a verb's result says about how the run went, for the ledger.
pub(crate) trait Outcome {
    /// `(status, exit code)`: a report with failed writes is a failed run.
    fn outcome(&self) -> (Status, u8);

    /// The ledger could not record all of the run: the report says so and the run ends
    /// non-zero.
    fn record_incomplete(&mut self) {}
}

/// The ledger's side of a run.
struct Recorder {
    ledger: Ledger,
    run: i64,
    /// Held for the whole run (real runs only): one writer per integration.
    _lock: Option<IntegrationLock>,
    /// Held for the whole run: while it is, the run is alive.
    _run_lock: RunLock,
    /// Whether a write to the ledger has failed in this run (said once).
    failed: bool,
}

impl Recorder {
    fn record(&mut self, event: Event<'_>) {
        let result = match event {
            Event::AccountCreated(a) => self.ledger.record_change(
                self.run,
                &Change {
                    kind: "account_created".into(),
                    id: a.id.clone(),
                    name: a.name.clone(),
                    before: None,
                },
            ),
            Event::AccountRenamed(r) => self.ledger.record_change(
                self.run,
                &Change {
                    kind: "account_renamed".into(),
                    id: r.id.clone(),
                    name: r.to.clone(),
                    before: Some(r.from.clone()),
                },
            ),
            Event::ServiceCreated(name) => self.ledger.record_change(
                self.run,
                &Change {
                    kind: "service_created".into(),
                    id: String::new(),
                    name: name.to_string(),
                    before: None,
                },
            ),
            Event::Count(p, outcome) => {
                let (result, message) = match outcome {
                    CountOutcomeKind::Set => ("set", None),
                    CountOutcomeKind::Unmapped(m) => ("unmapped", Some(m.clone())),
                    CountOutcomeKind::Failed(m) => ("failed", Some(m.clone())),
                    CountOutcomeKind::NotAttempted => ("failed", Some("not attempted".into())),
                    CountOutcomeKind::Interrupted => {
                        ("failed", Some("not sent: interrupted".into()))
                    }
                    CountOutcomeKind::Planned => ("planned", None),
                    CountOutcomeKind::Blocked(crate::plan::Blocked::MissingAccount) => {
                        ("missing-account", None)
                    }
                    CountOutcomeKind::Blocked(crate::plan::Blocked::MissingService) => {
                        ("failed", Some("missing service".to_string()))
                    }
                };
                self.ledger.record_pair(
                    self.run,
                    &Pair {
                        account_id: p.account_id.clone(),
                        account_name: p.account_name.clone(),
                        service: p.service.clone(),
                        count: p.count,
                        result: result.into(),
                        message: message.map(|m| redact::scrub(&m)),
                    },
                )
            }
        };
        if let Err(e) = result {
            // The writes to Synthesize go on: stopping them half-way would leave billing
            // worse than finishing them. The run ends as failed (never a baseline) and
            // non-zero, its report saying the record is incomplete.
            if !self.failed {
                tracing::error!(
                    "{e}; this run's record in the ledger is incomplete (the writes go on)"
                );
            }
            self.failed = true;
        }
    }
}

/// What a verb needs of the PSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Psa {
    /// It reads the source.
    Required,
    /// It checks the type names when the PSA settings are there (`sync-services`).
    IfConfigured,
    /// It does not touch the PSA (`retire-service`).
    No,
}

/// A writing verb's run.
pub(crate) struct Session {
    pub kind: SourceKind,
    pub cfg: SyncConfig,
    pub synthesize: Synthesize,
    pub source: Option<Box<dyn Source>>,
    /// What the last successful run of this source and integration wrote.
    pub baseline: Option<Baseline>,
    integration: String,
    /// The MSP's name as Synthesize gives it.
    organization: String,
    bound: Bound,
    /// [`Session::check_fits`] saw that the integration fits this source: only then does a
    /// successful run bind it (`update-status` and `retire-service` never look).
    fits_seen: bool,
    /// `--rebind`: the user says this integration is this source's; binding it is what they
    /// asked for, whether or not the verb looked at its services.
    rebind: bool,
    dry_run: bool,
    recorder: Option<Recorder>,
}

impl Session {
    /// Resolves every setting, opens the ledger (a real run refuses to go on without it),
    /// takes the integration's lock (real runs), asks Gradient who the tokens belong to, and
    /// records the run as `running`.
    pub async fn start(
        env: &Env,
        source_flag: Option<SourceKind>,
        verb: &'static str,
        w: WriteFlags,
        psa: Psa,
    ) -> Result<Session> {
        let cfg = SyncConfig::resolve(env, source_flag)?;
        let kind = cfg.kind;
        // The PSA settings too are resolved before the first request.
        let source = match psa {
            Psa::Required => Some(kind.open(env, &cfg.http)?),
            Psa::No => None,
            Psa::IfConfigured => match kind.open(env, &cfg.http) {
                Ok(source) => Some(source),
                Err(e) => {
                    tracing::warn!(
                        "the PSA settings are not complete ({e}), so the type names were not \
                         checked against the PSA"
                    );
                    None
                }
            },
        };
        let integration = ledger::fingerprint(
            cfg.gradient.vendor_key.expose(),
            cfg.gradient.partner_key.expose(),
        );
        let (ledger, dir) = match open_ledger(env, w.dry_run)? {
            Some((ledger, dir)) => (Some(ledger), Some(dir)),
            None => (None, None),
        };
        // Dry runs take no lock: they write nothing.
        let lock = match (&dir, w.dry_run) {
            (Some(dir), false) => Some(take_lock(dir, &integration)?),
            _ => None,
        };
        let synthesize = Synthesize::new(&cfg.gradient, &cfg.http)?;
        let organization = match synthesize.organization().await {
            Ok(organization) => organization,
            Err(e) => {
                // A schedule failing every night on a revoked token shows in `history` too.
                if let Some(ledger) = &ledger {
                    record_failed_start(
                        ledger,
                        &integration,
                        kind,
                        verb,
                        w.dry_run,
                        &e,
                        &synthesize,
                    );
                }
                return Err(e);
            }
        };
        let mut recorder = None;
        let mut baseline = None;
        let mut bound = Bound::Pending;
        if let (Some(ledger), Some(dir)) = (ledger, dir) {
            let started = start_record(&ledger, &dir, &integration, kind, verb, &organization, w);
            match started {
                Ok((run, run_lock, previous, b)) => {
                    baseline = previous;
                    bound = b;
                    recorder = Some(Recorder {
                        ledger,
                        run,
                        _lock: lock,
                        _run_lock: run_lock,
                        failed: false,
                    });
                }
                // A binding refusal is the user's answer, not a ledger problem.
                Err(e @ Error::Setting { .. }) if e.to_string().contains("--rebind") => {
                    return Err(e);
                }
                Err(e) if w.dry_run => {
                    tracing::warn!("{e}; the dry run goes on without recording it")
                }
                // Busy, locked, read-only, full: nothing is written without its record.
                Err(e @ Error::Setting { .. }) => return Err(e),
                Err(e) => {
                    return Err(Error::setting(
                        "SYNC_STATE_DIR",
                        format!(
                            "{e}; a real run is not started without its record (is another \
                             program holding the ledger open? is the disk full?)"
                        ),
                    ));
                }
            }
        }
        Ok(Session {
            kind,
            cfg,
            synthesize,
            source,
            baseline,
            integration,
            organization: organization.name.clone(),
            bound,
            fits_seen: false,
            rebind: w.rebind,
            dry_run: w.dry_run,
            recorder,
        })
    }

    /// Records the whole plan before the guards and the writes (each pair `planned`).
    pub fn record_plan(&mut self, plan: &crate::plan::Plan) {
        let Some(r) = &mut self.recorder else {
            return;
        };
        let pairs: Vec<Pair> = plan
            .counts
            .iter()
            .map(|c| Pair {
                account_id: c.account_id.clone(),
                account_name: c.account_name.clone(),
                service: c.service.clone(),
                count: c.count,
                result: "planned".into(),
                message: None,
            })
            .collect();
        if let Err(e) = r.ledger.record_plan(r.run, &pairs) {
            tracing::error!("{e}; this run's record in the ledger is incomplete");
            r.failed = true;
        }
    }

    /// Records each thing apply does, as it happens.
    pub fn observer(&mut self) -> impl FnMut(Event<'_>) + '_ {
        move |event| {
            if let Some(r) = &mut self.recorder {
                r.record(event);
            }
        }
    }

    /// The vendor's services this configuration does not count, with what the ledger says
    /// they were last set to; each is warned about: its counts stay, and keep billing.
    pub fn foreign_services(&self, plan: &crate::plan::Plan) -> Vec<ForeignService> {
        plan.foreign
            .iter()
            .map(|name| {
                let last = self
                    .recorder
                    .as_ref()
                    .and_then(|r| r.ledger.last_total(&self.integration, name).ok().flatten());
                let said = match last {
                    Some((total, run, when)) => format!(
                        "last set to {total} in all by run {run} on {}",
                        crate::text::utc(when)
                    ),
                    None => "no run of this ledger set it".into(),
                };
                tracing::warn!(
                    "Synthesize has a service this configuration does not count: '{}' ({said}); \
                     its counts stay as they are and keep billing; stop them with \
                     `synthesize-sync retire-service '{}'`",
                    crate::text::escape(name),
                    crate::text::escape(name)
                );
                ForeignService {
                    name: name.clone(),
                    last_total: last.map(|(t, _, _)| t),
                    last_run: last.map(|(_, r, _)| r),
                }
            })
            .collect()
    }

    /// An integration the ledger does not know yet, whose services in Synthesize are all
    /// another source's, holds most likely another source's tokens: refused (exit 2) unless
    /// `--rebind` says it is deliberate. Before any write.
    pub fn check_fits(&mut self, skus: &[crate::plan::Sku], w: WriteFlags) -> Result<()> {
        self.fits_inner(skus, w)?;
        self.fits_seen = true;
        Ok(())
    }

    fn fits_inner(&self, skus: &[crate::plan::Sku], w: WriteFlags) -> Result<()> {
        use crate::names::normalize;
        if self.bound == Bound::Here || w.rebind || skus.is_empty() {
            return Ok(());
        }
        let ours = skus.iter().any(|k| {
            self.cfg
                .services
                .iter()
                .any(|d| normalize(&d.name) == normalize(&k.name))
        });
        if ours {
            return Ok(());
        }
        let names: Vec<&str> = skus.iter().map(|k| k.name.as_str()).collect();
        let why = format!(
            "this Synthesize integration ({}) already has services ({}), none of which {} counts: \
             these are most likely another source's Gradient tokens (each source needs its own \
             integration); check GRADIENT_PARTNER_API_KEY, or run again with --rebind if this \
             integration really is for {}",
            crate::text::escape(&self.organization),
            crate::text::escape(&names.join(", ")),
            self.kind,
            self.kind
        );
        if w.dry_run {
            tracing::warn!("a real run would be refused (exit 2): {why}");
            Ok(())
        } else {
            Err(Error::setting("GRADIENT_PARTNER_API_KEY", why))
        }
    }

    /// Requests sent so far to each side.
    pub fn requests(&self) -> Requests {
        Requests {
            psa: self.source.as_ref().map_or(0, |s| s.request_count()),
            gradient: self.synthesize.request_count(),
        }
    }

    /// What the last successful run wrote, as the guards and reports compare with it.
    pub fn previous(&self) -> Option<&ledger::Baseline> {
        self.baseline.as_ref()
    }

    /// Records how the run ended and hands its result back.
    pub fn finish<T: Outcome>(self, mut result: Result<T>) -> Result<T> {
        let Some(r) = &self.recorder else {
            return result;
        };
        if result.is_ok()
            && self.bound == Bound::Pending
            && (self.fits_seen || self.rebind)
            && !self.dry_run
            && let Err(e) = r
                .ledger
                .bind(&self.integration, self.kind.name(), &self.organization)
        {
            tracing::error!("{e}; the integration's source is not remembered");
        }
        let requests = self.requests();
        let (mut status, exit_code, mut error) = match &result {
            Ok(report) => {
                let (status, code) = report.outcome();
                (status, code, None)
            }
            Err(e) => {
                let status = if e.refusal().is_some() {
                    Status::Refused
                } else if matches!(e, Error::Interrupted { .. }) {
                    Status::Interrupted
                } else {
                    Status::Failed
                };
                let text = crate::text::escape(&redact::scrub(&e.to_string())).into_owned();
                (status, e.exit_code(), Some(text))
            }
        };
        if r.failed {
            // An incomplete record is never a baseline.
            status = Status::Failed;
            error.get_or_insert_with(|| "the run ledger could not record all of this run".into());
            if let Ok(report) = &mut result {
                report.record_incomplete();
            }
        }
        let recorded = r.ledger.finish(
            r.run,
            &Finish {
                status,
                exit_code: exit_code.max(u8::from(r.failed)),
                error: error.as_deref(),
                requests_psa: requests.psa,
                requests_gradient: requests.gradient,
            },
        );
        if let Err(e) = recorded {
            // What was written is written: the report still prints, with the gap said.
            tracing::error!("{e}; this run's outcome is not recorded in the ledger");
            if let Ok(report) = &mut result {
                report.record_incomplete();
            }
        }
        result
    }
}

/// Records a run that ended before Gradient said who the tokens belong to (bad token, Gradient
/// down): it wrote nothing. A failure to record it only warns: the error itself is the news.
fn record_failed_start(
    ledger: &Ledger,
    integration: &str,
    kind: SourceKind,
    verb: &'static str,
    dry_run: bool,
    e: &Error,
    synthesize: &Synthesize,
) {
    let recorded = ledger
        .begin(&NewRun {
            verb,
            source: kind.name(),
            dry_run,
            integration,
            organization_id: None,
            organization_name: None,
        })
        .and_then(|run| {
            let error = crate::text::escape(&redact::scrub(&e.to_string())).into_owned();
            ledger.finish(
                run,
                &Finish {
                    status: Status::Failed,
                    exit_code: e.exit_code(),
                    error: Some(&error),
                    requests_psa: 0,
                    requests_gradient: synthesize.request_count(),
                },
            )
        });
    if let Err(le) = recorded {
        tracing::warn!("{le}; this failed run is not recorded in the ledger");
    }
}

/// Checks the binding, marks runs that died as interrupted, finds the baseline, records the
/// run as `running` and takes its run lock.
fn start_record(
    ledger: &Ledger,
    dir: &std::path::Path,
    integration: &str,
    kind: SourceKind,
    verb: &'static str,
    organization: &crate::gradient::Organization,
    w: WriteFlags,
) -> Result<(i64, RunLock, Option<Baseline>, Bound)> {
    let bound = check_binding(ledger, integration, kind, &organization.name, w)?;
    ledger.mark_interrupted(integration)?;
    let baseline = ledger.baseline(kind.name(), integration)?;
    if baseline.is_none()
        && let Some(other) =
            ledger.other_tokens(kind.name(), integration, &organization.organization_id)?
    {
        tracing::warn!(
            "no earlier run with these Gradient tokens, but {kind} last ran for this organization \
             on {} with other tokens (regenerated?): the drop guard has nothing to compare this \
             run with",
            crate::text::utc(other)
        );
    }
    let run = ledger.begin(&NewRun {
        verb,
        source: kind.name(),
        dry_run: w.dry_run,
        integration,
        organization_id: Some(&organization.organization_id),
        organization_name: Some(&organization.name),
    })?;
    let run_lock = RunLock::take(dir, run)?;
    Ok((run, run_lock, baseline, bound))
}

/// One source per integration: the ledger remembers which source writes to each, and
/// another source against it is refused (exit 2) unless `--rebind` says it is deliberate.
/// A first real run binds it; a dry run only warns.
/// What the ledger says of the integration's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// Bound to this source already.
    Here,
    /// Not bound yet, or moved here by `--rebind`: bound when the run succeeds, once it has
    /// seen that the integration fits ([`Session::check_fits`]).
    Pending,
}

fn check_binding(
    ledger: &Ledger,
    integration: &str,
    kind: SourceKind,
    organization: &str,
    w: WriteFlags,
) -> Result<Bound> {
    match ledger.binding(integration)? {
        Some(b) if b.source != kind.name() && !w.rebind => {
            let why = format!(
                "these Gradient tokens' integration ({}) has been written by {} since {}, and \
                 these settings say {kind}: most likely the settings file of another source, or \
                 another integration's tokens (each source needs its own integration in \
                 Synthesize); if you really mean to move it to {kind}, run again with --rebind",
                crate::text::escape(b.organization_name.as_deref().unwrap_or(organization)),
                b.source,
                crate::text::utc(b.since)
            );
            if w.dry_run {
                tracing::warn!("a real run would be refused (exit 2): {why}");
                Ok(Bound::Pending)
            } else {
                Err(Error::setting("SYNC_SOURCE", why))
            }
        }
        Some(b) if b.source == kind.name() => Ok(Bound::Here),
        Some(b) => {
            tracing::warn!(
                "--rebind: this integration moves from {} to {kind}",
                b.source
            );
            Ok(Bound::Pending)
        }
        None => Ok(Bound::Pending),
    }
}

/// The ledger, when there is one to use: a real run refuses to start without it (exit 2);
/// a dry run goes on without it, with a warning.
/// One writer per integration: the lock, or exit 6 naming its holder.
fn take_lock(dir: &std::path::Path, integration: &str) -> Result<IntegrationLock> {
    match IntegrationLock::try_exclusive(dir, integration)? {
        LockState::Taken(lock) => Ok(lock),
        LockState::HeldBy(holder) => Err(Error::Locked(format!(
            "another synthesize-sync run is writing to this Synthesize integration ({holder}); \
             wait for it to end, then run again"
        ))),
    }
}

/// The integration's lock for a write that has no source to record a run under
/// (`update-status` without one); none for a dry run.
pub(crate) fn lock_integration(
    env: &Env,
    gradient: &crate::config::GradientSettings,
    dry_run: bool,
) -> Result<Option<IntegrationLock>> {
    if dry_run {
        return Ok(None);
    }
    let Some(dir) = ledger::location::state_dir(env) else {
        return Err(Error::setting(
            "SYNC_STATE_DIR",
            "not set, and no home directory to keep the integration's lock in; set it to a \
             directory this user can write",
        ));
    };
    ledger::location::create_private_dir(&dir)?;
    let integration =
        ledger::fingerprint(gradient.vendor_key.expose(), gradient.partner_key.expose());
    take_lock(&dir, &integration).map(Some)
}

fn open_ledger(env: &Env, dry_run: bool) -> Result<Option<(Ledger, PathBuf)>> {
    let Some(dir) = ledger::location::state_dir(env) else {
        let e = Error::setting(
            "SYNC_STATE_DIR",
            "not set, and no home directory to keep the run ledger in; set it to a directory \
             this user can write",
        );
        if dry_run {
            tracing::warn!("{e}; the dry run goes on without recording it");
            return Ok(None);
        }
        return Err(e);
    };
    match Ledger::open(&dir) {
        Ok(ledger) => Ok(Some((ledger, dir))),
        Err(e) if dry_run => {
            tracing::warn!("{e}; the dry run goes on without recording it");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
