//! `listen`: serves ConnectWise callbacks (docs/contract.md §6) and turns them, debounced, into
//! `sync-usage` runs of the configured source.
//!
//! - `POST <path>`: the raw body and headers go to [`callbacks::receive`]; a refusal is answered
//!   with its status and changes nothing; an accepted event is answered 200 at once, logged in
//!   one line (never the payload or a key), and fed to the [`Debouncer`].
//! - `GET /healthz`: 200 once the socket is bound and served.
//! - A worker drives the debouncer: once a job's events are quiet for `--debounce`, it runs
//!   `sync-usage` for the source (the same function, so the same lock, guards and ledger as a
//!   scheduled run), one job at a time. Work for the other ConnectWise source is skipped (its
//!   settings are another configuration's); the engagement snapshot is not built yet, so its
//!   work is logged and skipped.
//! - The first SIGTERM or Ctrl-C stops accepting, lets the job in flight finish (whole: its
//!   reads and its writes), drops what was only pending (the nightly `run` is the backstop) and
//!   ends with 143 or 130. A second one interrupts the job as it would a scheduled run (no new
//!   write; those in flight finish, recorded); a third aborts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::common::WriteFlags;
use crate::callbacks::payload::MAX_BODY;
use crate::callbacks::{Debouncer, RecordType, Verifier, Work, receive};
use crate::config::Env;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::sources::{self, SourceKind, connectwise};

/// `listen`'s options (docs/contract.md §6).
#[derive(Debug, Clone)]
pub struct ListenOptions {
    pub addr: String,
    pub path: String,
    pub debounce: Duration,
    /// The window of the engagement snapshot taken after ticket, agreement or company
    /// changes (`--engagement-days`).
    pub engagement_days: i64,
}

/// What the handler and the worker share.
struct Shared {
    verifier: Verifier,
    debouncer: Mutex<Debouncer>,
    wake: Notify,
    engagement_days: i64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serves until the first interrupt; returns its exit code (130, 143) once the job in flight
/// has finished.
pub async fn listen(
    env: &Env,
    source_flag: Option<SourceKind>,
    opts: ListenOptions,
    progress: &Progress,
) -> Result<u8> {
    if !(1..=crate::engagement::MAX_DAYS as i64).contains(&opts.engagement_days) {
        return Err(Error::Usage(format!(
            "--engagement-days {}: give a number of days from 1 to {}",
            opts.engagement_days,
            crate::engagement::MAX_DAYS
        )));
    }
    let kind = sources::required(env, source_flag)?;
    if !kind.name().starts_with("connectwise-") {
        return Err(Error::Usage(format!(
            "listen serves ConnectWise callbacks; the source is {} (set SYNC_SOURCE or --source \
             to a connectwise-* source)",
            kind.name()
        )));
    }
    if !opts.path.starts_with('/') || opts.path == "/healthz" {
        return Err(Error::Usage(
            "--path must start with / and may not be /healthz".into(),
        ));
    }
    // The same settings as sync-usage, checked before the socket is opened.
    let cfg = super::common::SyncConfig::resolve(env, Some(kind))?;
    kind.open(env, &cfg.http)?;
    let cw = connectwise::config::resolve(env)?;
    let verifier = Verifier::new(&cw.base_url, &cw.company_id, &cw.client_id)?;
    let shared = Arc::new(Shared {
        verifier,
        debouncer: Mutex::new(Debouncer::new(opts.debounce, Debouncer::DEFAULT_MAX_WAIT)),
        wake: Notify::new(),
        engagement_days: opts.engagement_days,
    });
    let socket = tokio::net::TcpListener::bind(&opts.addr)
        .await
        .map_err(|e| {
            Error::Usage(format!(
                "--addr {}: cannot listen there ({e}); give a free HOST:PORT, e.g. \
                 127.0.0.1:8787 behind your TLS proxy or tunnel",
                opts.addr
            ))
        })?;
    let local = socket
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| opts.addr.clone());
    let app = Router::new()
        .route(&opts.path, post(callback))
        .route("/healthz", get(|| async { "ok\n" }))
        // Slightly above the receiver's own cap: between the two, `receive` answers 413
        // itself; beyond, axum does, without reading the rest.
        .layer(DefaultBodyLimit::max(MAX_BODY + 16 * 1024))
        .with_state(shared.clone());
    tracing::info!(
        "listening on http://{local}{} for {} (debounce {}s); GET /healthz answers once ready",
        opts.path,
        kind.name(),
        opts.debounce.as_secs()
    );

    let stop = Arc::new(Notify::new());
    let (code_tx, code_rx) = tokio::sync::watch::channel(0u8);
    let server = {
        let mut code_rx = code_rx.clone();
        axum::serve(socket, app).with_graceful_shutdown(async move {
            let _ = code_rx.wait_for(|c| *c != 0).await;
        })
    };
    // The signal watcher lives as long as the process.
    tokio::spawn(watch_signals(code_tx));
    let worker = work(env, kind, &shared, progress, code_rx.clone(), stop.clone());
    let served = async {
        let r = server.await;
        stop.notify_one();
        r
    };
    let (served, ()) = tokio::join!(served, worker);
    served.map_err(|e| Error::Local(format!("the listener failed: {e}")))?;
    let code = *code_rx.borrow();
    tracing::info!("listen stopped");
    Ok(if code == 0 { 143 } else { code })
}

/// The first interrupt sets the exit code (stop accepting, drain); the second goes to
/// [`crate::interrupt`] (the job in flight stops as a scheduled run would); a third aborts.
async fn watch_signals(code: tokio::sync::watch::Sender<u8>) {
    let mut seen = 0u32;
    loop {
        let got = next_signal().await;
        seen += 1;
        if seen == 1 {
            tracing::warn!(
                "interrupted: no new callback is accepted; the sync in flight finishes, then \
                 listen exits (interrupt again to stop that sync as a scheduled run would stop)"
            );
            let _ = code.send(got);
        } else {
            crate::interrupt::raise(got);
        }
    }
}

async fn next_signal() -> u8 {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return 130,
                _ = term.recv() => return 143,
            }
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    130
}

/// `POST <path>`: the raw body to the receiver; the answer at once.
async fn callback(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match receive(&headers, &body, &shared.verifier).await {
        Ok(accepted) => {
            tracing::info!("{}", accepted.log_line());
            lock(&shared.debouncer).on_event(std::time::Instant::now(), &accepted.record_type);
            shared.wake.notify_one();
            StatusCode::OK
        }
        Err(refusal) => {
            let status = refusal.status();
            tracing::warn!("callback refused ({status}): {refusal}");
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST)
        }
    }
}

/// Drives the debouncer until the listener stops; the job in flight always finishes.
async fn work(
    env: &Env,
    kind: SourceKind,
    shared: &Shared,
    progress: &Progress,
    mut stopping: tokio::sync::watch::Receiver<u8>,
    stopped: Arc<Notify>,
) {
    loop {
        if *stopping.borrow() != 0 {
            break;
        }
        let (due, deadline) = {
            let mut d = lock(&shared.debouncer);
            let due = d.due(std::time::Instant::now());
            (due, d.next_deadline())
        };
        if !due.is_empty() {
            for (i, job) in due.iter().enumerate() {
                // After a stop signal only the job in flight finishes: the rest is left to
                // the next run (said below), not started.
                if i > 0 && *stopping.borrow() != 0 {
                    tracing::info!(
                        "stopping: {} not started; the nightly run picks it up",
                        job.name()
                    );
                    continue;
                }
                run_job(env, kind, *job, shared, progress).await;
            }
            lock(&shared.debouncer).finished(std::time::Instant::now());
            continue;
        }
        let sleep = async {
            match deadline {
                Some(at) => {
                    let wait = at.saturating_duration_since(std::time::Instant::now());
                    tokio::time::sleep_until(Instant::now() + wait).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            () = shared.wake.notified() => {}
            _ = stopping.changed() => {}
            () = stopped.notified() => break,
        }
    }
    let pending = lock(&shared.debouncer).next_deadline().is_some();
    if pending {
        tracing::info!(
            "callbacks received since the last sync are not synced now; the next sync (or the \
             nightly run) picks them up"
        );
    }
}

/// One job: `sync-usage` for the source, or a line saying why not.
async fn run_job(env: &Env, kind: SourceKind, job: Work, shared: &Shared, progress: &Progress) {
    if job == Work::Engagement {
        // A snapshot like a scheduled `engagement --days N` run stores (the default companies).
        let args = super::engagement::EngagementArgs {
            days: shared.engagement_days,
            compare: false,
            compare_wanted: false,
            csat: None,
            filters: crate::engagement::read::Filters::default(),
        };
        match super::engagement::engagement(env, &args, crate::ledger::now()).await {
            Ok(out) => tracing::info!(
                "{}: {} companies over {} days stored",
                job.name(),
                out.report.companies.len(),
                shared.engagement_days
            ),
            Err(e) => tracing::error!(
                "{} failed (exit code {} for a scheduled run): {}",
                job.name(),
                e.exit_code(),
                crate::http::redact::scrub(&e.to_string())
            ),
        }
        return;
    }
    let Some(source) = job.source() else {
        tracing::info!(
            "{}: not built in this version, skipped (the callbacks for it are ignored)",
            job.name()
        );
        return;
    };
    if source != kind.name() {
        tracing::debug!("{}: not this listener's source, skipped", job.name());
        return;
    }
    tracing::info!("callbacks: running {}", job.name());
    let w = WriteFlags {
        dry_run: false,
        guards: crate::plan::guard::Allowances::default(),
        rebind: false,
    };
    match super::sync_usage(env, Some(kind), w, progress).await {
        Ok(report) => {
            let s = &report.summary;
            tracing::info!(
                "{}: done, {} counts set, {} changed, {} failed",
                job.name(),
                s.set,
                report.changes,
                s.failed
            );
        }
        Err(e) if e.exit_code() == 6 => {
            // Another run holds the lock: it may have read before the change, so try again
            // after it.
            tracing::warn!("{}: {e}; tried again after the debounce", job.name());
            let record = match job {
                Work::SharedDevices => RecordType::Configuration,
                _ => RecordType::Contact,
            };
            lock(&shared.debouncer).on_event(std::time::Instant::now(), &record);
        }
        Err(e) => {
            tracing::error!(
                "{} failed (exit code {} for a scheduled run): {}",
                job.name(),
                e.exit_code(),
                crate::http::redact::scrub(&e.to_string())
            );
        }
    }
}
