//! The run ledger: an embedded SQLite database in the state directory that records every
//! run of a writing verb and every dry run: what it planned, what it wrote and what came of
//! it (docs/contract.md §1, README "Run ledger").
//!
//! A run is written as it goes: its row first (`running`), each pair as its result arrives,
//! its outcome last, so a run that is killed keeps what it wrote and shows as `interrupted`.
//! The ledger also holds each integration's lock, so one writer at a time writes to it.
//! It never makes billing worse: a real run whose ledger cannot be opened or written is
//! refused before any write; a corrupt database is reported, never silently recreated.

pub mod location;
mod schema;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const FILE: &str = "ledger.sqlite3";

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Identifies an integration by its Gradient tokens without allowing them to be recovered:
/// the first 16 hex digits of a SHA-256 over both keys (high-entropy secrets: no dictionary
/// can reverse it).
pub fn fingerprint(vendor_key: &str, partner_key: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"synthesize-sync integration v1\0");
    h.update(vendor_key.as_bytes());
    h.update(b"\0");
    h.update(partner_key.as_bytes());
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    Succeeded,
    /// Ended with an error, or with writes that failed.
    Failed,
    /// Refused by a guard before any write.
    Refused,
    /// Stopped before it recorded an outcome (killed, or the machine went down).
    Interrupted,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Refused => "refused",
            Status::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "succeeded" => Status::Succeeded,
            "failed" => Status::Failed,
            "refused" => Status::Refused,
            "interrupted" => Status::Interrupted,
            _ => Status::Running,
        }
    }
}

/// A run as it starts.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub verb: &'a str,
    pub source: &'a str,
    pub dry_run: bool,
    pub integration: &'a str,
    /// Unknown (`None`) for a run that failed before Gradient said who the tokens belong to.
    pub organization_id: Option<&'a str>,
    pub organization_name: Option<&'a str>,
}

/// A run as it ends.
#[derive(Debug, Clone)]
pub struct Finish<'a> {
    pub status: Status,
    pub exit_code: u8,
    pub error: Option<&'a str>,
    pub requests_psa: u64,
    pub requests_gradient: u64,
}

/// One (account, service) pair of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pair {
    pub account_id: String,
    pub account_name: String,
    pub service: String,
    pub count: u64,
    /// `set`, `unmapped`, `failed` or `planned`.
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An account or service a run created or renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `account_created`, `account_renamed` or `service_created`.
    pub kind: String,
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
}

/// A run, as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    pub id: i64,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub tool_version: String,
    pub verb: String,
    pub source: String,
    pub dry_run: bool,
    pub integration: String,
    pub organization_id: Option<String>,
    pub organization_name: Option<String>,
    pub status: Status,
    pub exit_code: Option<u8>,
    pub error: Option<String>,
    pub requests_psa: Option<u64>,
    pub requests_gradient: Option<u64>,
}

/// What the last successful run of a source and integration wrote: the baseline that
/// `previous → new`, the drop guard and `--detailed-exitcode` compare a plan with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    pub run_id: i64,
    pub ended_at: i64,
    /// (account id, service name normalised: `names::normalize`) → count.
    pub counts: BTreeMap<(String, String), u64>,
}

/// Which source writes to an integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub source: String,
    pub since: i64,
    pub organization_name: Option<String>,
}

/// A ConnectWise callback this tool registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredCallback {
    pub id: i64,
    pub url: String,
    /// `contact`, `configuration`, …
    pub kind: String,
}

/// The run ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

/// Why the ledger cannot be used, with the fix.
fn unusable(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::setting(
        "SYNC_STATE_DIR",
        format!(
            "the run ledger {} cannot be used ({e}); make that directory writable by this user, \
             or set SYNC_STATE_DIR to one that is",
            path.display()
        ),
    )
}

/// A database that is not one, or damaged: never recreated behind the user's back.
fn corrupt(path: &Path, e: &rusqlite::Error) -> Option<Error> {
    let code = e.sqlite_error_code()?;
    matches!(
        code,
        rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
    )
    .then(|| {
        Error::setting(
            "SYNC_STATE_DIR",
            format!(
                "the run ledger {} is corrupt ({e}); it was left as it is: move it aside \
                 (rename it) to start a new ledger, or restore it from a backup",
                path.display()
            ),
        )
    })
}

impl Ledger {
    /// Opens the ledger in `dir`, creating the directory and the database when missing and
    /// bringing its schema up to date.
    pub fn open(dir: &Path) -> Result<Ledger> {
        location::create_private_dir(dir).map_err(|e| unusable(dir, e))?;
        Self::open_file(&dir.join(FILE), true)
    }

    /// Opens the ledger in `dir` only if there is one (`history` creates nothing).
    pub fn open_existing(dir: &Path) -> Result<Option<Ledger>> {
        let path = dir.join(FILE);
        if !path.exists() {
            return Ok(None);
        }
        Self::open_file(&path, false).map(Some)
    }

    fn open_file(path: &Path, create: bool) -> Result<Ledger> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let existed = path.exists();
        let conn = Connection::open_with_flags(path, flags).map_err(|e| unusable(path, e))?;
        #[cfg(unix)]
        if !existed {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        let _ = existed;
        let fail = |e: rusqlite::Error| corrupt(path, &e).unwrap_or_else(|| unusable(path, e));
        // Another program holding the ledger must not hold up the writes to Synthesize long.
        conn.busy_timeout(std::time::Duration::from_secs(2))
            .map_err(fail)?;
        // WAL: each result is committed as it arrives without an fsync per row; a crash
        // loses at most the last transactions, never the database.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(fail)?;
        let ledger = Ledger {
            conn,
            path: path.to_path_buf(),
        };
        ledger.migrate().map_err(|e| match e {
            Error::Setting { .. } => e,
            other => unusable(path, other),
        })?;
        Ok(ledger)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn db_err(&self, e: rusqlite::Error) -> Error {
        corrupt(&self.path, &e)
            .unwrap_or_else(|| Error::Local(format!("the run ledger {}: {e}", self.path.display())))
    }

    fn migrate(&self) -> Result<()> {
        let latest = schema::MIGRATIONS.len() as i64;
        let version = |l: &Ledger| -> Result<i64> {
            l.conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(|e| l.db_err(e))
        };
        let newer = |v: i64| {
            Error::setting(
                "SYNC_STATE_DIR",
                format!(
                    "the run ledger {} was written by a newer synthesize-sync (schema {v}, this one \
                     knows {latest}); use that release, or another SYNC_STATE_DIR",
                    self.path.display()
                ),
            )
        };
        let seen = version(self)?;
        if seen > latest {
            return Err(newer(seen));
        }
        if seen == latest {
            return Ok(());
        }
        // Two runs starting at once on a new ledger: one migrates, the other waits for it and
        // then finds nothing to do (the version is read again inside the write transaction).
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.db_err(e))?;
        let result = (|| -> Result<()> {
            let now = version(self)?;
            if now > latest {
                return Err(newer(now));
            }
            for (i, step) in schema::MIGRATIONS.iter().enumerate().skip(now as usize) {
                self.conn.execute_batch(step).map_err(|e| self.db_err(e))?;
                self.conn
                    .pragma_update(None, "user_version", (i + 1) as i64)
                    .map_err(|e| self.db_err(e))?;
            }
            Ok(())
        })();
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.conn.execute_batch(end).map_err(|e| self.db_err(e))?;
        result
    }

    /// Records a run as it starts; returns its id.
    pub fn begin(&self, r: &NewRun<'_>) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO runs (started_at, tool_version, verb, source, dry_run, integration,
                                   organization_id, organization_name, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'running')",
                params![
                    now(),
                    env!("CARGO_PKG_VERSION"),
                    r.verb,
                    r.source,
                    r.dry_run,
                    r.integration,
                    r.organization_id,
                    r.organization_name
                ],
            )
            .map_err(|e| self.db_err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records one pair of a run (committed at once).
    pub fn record_pair(&self, run: i64, p: &Pair) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO pairs
                   (run_id, account_id, account_name, service, count, result, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    run,
                    p.account_id,
                    p.account_name,
                    p.service,
                    i64::try_from(p.count).unwrap_or(i64::MAX),
                    p.result,
                    p.message
                ],
            )
            .map(|_| ())
            .map_err(|e| self.db_err(e))
    }

    /// Records a run's whole plan at once, each pair `planned`: a run refused by a guard still
    /// says what it would have written. The results replace them as they arrive.
    pub fn record_plan(&self, run: i64, pairs: &[Pair]) -> Result<()> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| self.db_err(e))?;
        for p in pairs {
            self.record_pair(run, p)?;
        }
        tx.commit().map_err(|e| self.db_err(e))
    }

    /// Records an account or service the run created or renamed.
    pub fn record_change(&self, run: i64, c: &Change) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO changes (run_id, kind, id, name, before) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run, c.kind, c.id, c.name, c.before],
            )
            .map(|_| ())
            .map_err(|e| self.db_err(e))
    }

    /// Records how a run ended.
    pub fn finish(&self, run: i64, f: &Finish<'_>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE runs SET ended_at = ?2, status = ?3, exit_code = ?4, error = ?5,
                                 requests_psa = ?6, requests_gradient = ?7
                 WHERE id = ?1",
                params![
                    run,
                    now(),
                    f.status.as_str(),
                    f.exit_code,
                    f.error,
                    i64::try_from(f.requests_psa).unwrap_or(i64::MAX),
                    i64::try_from(f.requests_gradient).unwrap_or(i64::MAX)
                ],
            )
            .map(|_| ())
            .map_err(|e| self.db_err(e))
    }

    /// Marks the integration's runs still `running` whose process is gone (no one holds
    /// their run lock) as `interrupted`.
    pub fn mark_interrupted(&self, integration: &str) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let running = self.query_runs(
            "WHERE integration = ?1 AND status = 'running'",
            params![integration],
        )?;
        for run in running {
            if !RunLock::is_alive(dir, run.id) {
                self.conn
                    .execute(
                        "UPDATE runs SET status = 'interrupted' WHERE id = ?1",
                        params![run.id],
                    )
                    .map_err(|e| self.db_err(e))?;
                RunLock::forget(dir, run.id);
            }
        }
        Ok(())
    }

    /// The source that writes to an integration, since when, and the organization then.
    pub fn binding(&self, integration: &str) -> Result<Option<Binding>> {
        self.conn
            .query_row(
                "SELECT source, bound_at, organization_name FROM bindings WHERE integration = ?1",
                params![integration],
                |r| {
                    Ok(Binding {
                        source: r.get(0)?,
                        since: r.get(1)?,
                        organization_name: r.get(2)?,
                    })
                },
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(self.db_err(e)),
            })
    }

    /// Binds an integration to a source (a first real run, or `--rebind`).
    /// Stores one `engagement` run's scores (an engagement `Snapshot` as JSON) for
    /// the ConnectWise `site` and window length `days`.
    pub fn save_engagement(
        &self,
        site: &str,
        days: u32,
        taken_at: i64,
        scores: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO engagement_snapshots (site, days, taken_at, scores)
                 VALUES (?1, ?2, ?3, ?4)",
                params![site, days, taken_at, scores],
            )
            .map(|_| ())
            .map_err(|e| self.db_err(e))
    }

    /// The scores of the last `engagement` run of this site and window length, as stored.
    pub fn last_engagement(&self, site: &str, days: u32) -> Result<Option<String>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT scores FROM engagement_snapshots WHERE site = ?1 AND days = ?2
                 ORDER BY id DESC LIMIT 1",
            )
            .map_err(|e| self.db_err(e))?;
        let mut rows = stmt
            .query(params![site, days])
            .map_err(|e| self.db_err(e))?;
        match rows.next().map_err(|e| self.db_err(e))? {
            Some(row) => Ok(Some(row.get(0).map_err(|e| self.db_err(e))?)),
            None => Ok(None),
        }
    }

    pub fn bind(&self, integration: &str, source: &str, organization_name: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO bindings (integration, source, bound_at, organization_name)
                 VALUES (?1, ?2, ?3, ?4)",
                params![integration, source, now(), organization_name],
            )
            .map(|_| ())
            .map_err(|e| self.db_err(e))
    }

    /// Remembers a callback `callbacks register` created on `site` (host and company).
    pub fn remember_callback(&self, site: &str, c: &RegisteredCallback) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO callbacks (site, callback_id, url, type, registered_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![site, c.id, c.url, c.kind, now()],
            )
            .map(|_| ())
            .map_err(|e| self.db_err(e))
    }

    /// Forgets a callback (removed, or found gone).
    pub fn forget_callback(&self, site: &str, id: i64) -> Result<()> {
        self.conn
            .execute(
                "DELETE FROM callbacks WHERE site = ?1 AND callback_id = ?2",
                params![site, id],
            )
            .map(|_| ())
            .map_err(|e| self.db_err(e))
    }

    /// The callbacks registered on `site` that were not removed, oldest first.
    pub fn registered_callbacks(&self, site: &str) -> Result<Vec<RegisteredCallback>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT callback_id, url, type FROM callbacks WHERE site = ?1
                 ORDER BY callback_id",
            )
            .map_err(|e| self.db_err(e))?;
        let rows = stmt
            .query_map(params![site], |r| {
                Ok(RegisteredCallback {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    kind: r.get(2)?,
                })
            })
            .map_err(|e| self.db_err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.db_err(e))
    }

    /// The last successful real `sync-usage` or `run` of this source and integration.
    pub fn baseline(&self, source: &str, integration: &str) -> Result<Option<Baseline>> {
        // How far back a service's last counts are looked for.
        const RUNS: usize = 100;
        let runs = self.successful(source, integration, RUNS)?;
        let Some(last) = runs.first() else {
            return Ok(None);
        };
        // Each service from the last successful run that wrote it, its name compared as
        // Synthesize compares it (ignoring case and spaces): a run that left a service out,
        // or spelt it differently, does not reset its baseline.
        let mut counts = BTreeMap::new();
        let mut services_seen: std::collections::BTreeSet<String> = Default::default();
        for run in &runs {
            let mut here: std::collections::BTreeSet<String> = Default::default();
            for p in self.pairs(run.id)? {
                let service = crate::names::normalize(&p.service);
                if services_seen.contains(&service) {
                    continue;
                }
                if p.result == "set" || p.result == "unmapped" {
                    counts.insert((p.account_id, service.clone()), p.count);
                }
                here.insert(service);
            }
            services_seen.extend(here);
        }
        Ok(Some(Baseline {
            run_id: last.id,
            ended_at: last.ended_at.unwrap_or(last.started_at),
            counts,
        }))
    }

    /// The total a service was last set to for an integration (by a real `sync-usage`, `run`
    /// or `retire-service` that succeeded), the run, and when; the name compared ignoring case
    /// and spaces.
    pub fn last_total(&self, integration: &str, service: &str) -> Result<Option<(u64, i64, i64)>> {
        let wanted = crate::names::normalize(service);
        let runs = self.query_runs(
            "WHERE integration = ?1 AND status = 'succeeded' AND dry_run = 0
               AND verb IN ('sync-usage', 'run', 'retire-service')
             ORDER BY id DESC LIMIT 200",
            params![integration],
        )?;
        for run in runs {
            let pairs: Vec<Pair> = self
                .pairs(run.id)?
                .into_iter()
                .filter(|p| crate::names::normalize(&p.service) == wanted)
                .collect();
            if !pairs.is_empty() {
                let total = pairs
                    .iter()
                    .filter(|p| p.result == "set" || p.result == "unmapped")
                    .map(|p| p.count)
                    .sum();
                return Ok(Some((total, run.id, run.started_at)));
            }
        }
        Ok(None)
    }

    /// When a source last ran successfully for an organization with other tokens (another
    /// integration fingerprint): the tokens were regenerated, most likely.
    pub fn other_tokens(
        &self,
        source: &str,
        integration: &str,
        organization_id: &str,
    ) -> Result<Option<i64>> {
        if organization_id.is_empty() {
            return Ok(None);
        }
        self.conn
            .query_row(
                "SELECT max(started_at) FROM runs WHERE source = ?1 AND integration != ?2
                   AND organization_id = ?3 AND status = 'succeeded' AND dry_run = 0",
                params![source, integration, organization_id],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map_err(|e| self.db_err(e))
    }

    /// The last `n` successful real `sync-usage` or `run` runs of a source and integration,
    /// newest first.
    pub fn successful(&self, source: &str, integration: &str, n: usize) -> Result<Vec<Run>> {
        self.query_runs(
            "WHERE source = ?1 AND integration = ?2 AND status = 'succeeded' AND dry_run = 0
               AND verb IN ('sync-usage', 'run')
             ORDER BY id DESC LIMIT ?3",
            params![source, integration, n as i64],
        )
    }

    /// Recent runs, newest first, of one source or all.
    pub fn runs(&self, source: Option<&str>, limit: usize) -> Result<Vec<Run>> {
        match source {
            Some(s) => self.query_runs(
                "WHERE source = ?1 ORDER BY id DESC LIMIT ?2",
                params![s, limit as i64],
            ),
            None => self.query_runs("ORDER BY id DESC LIMIT ?1", params![limit as i64]),
        }
    }

    /// One run.
    pub fn run(&self, id: i64) -> Result<Option<Run>> {
        Ok(self
            .query_runs("WHERE id = ?1", params![id])?
            .into_iter()
            .next())
    }

    fn query_runs(&self, tail: &str, args: impl rusqlite::Params) -> Result<Vec<Run>> {
        let sql = format!(
            "SELECT id, started_at, ended_at, tool_version, verb, source, dry_run, integration,
                    organization_id, organization_name, status, exit_code, error,
                    requests_psa, requests_gradient
             FROM runs {tail}"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.db_err(e))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok(Run {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    ended_at: r.get(2)?,
                    tool_version: r.get(3)?,
                    verb: r.get(4)?,
                    source: r.get(5)?,
                    dry_run: r.get(6)?,
                    integration: r.get(7)?,
                    organization_id: r.get(8)?,
                    organization_name: r.get(9)?,
                    status: Status::parse(&r.get::<_, String>(10)?),
                    exit_code: r.get(11)?,
                    error: r.get(12)?,
                    requests_psa: r.get::<_, Option<i64>>(13)?.map(|n| n.max(0) as u64),
                    requests_gradient: r.get::<_, Option<i64>>(14)?.map(|n| n.max(0) as u64),
                })
            })
            .map_err(|e| self.db_err(e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.db_err(e))
    }

    /// A run's pairs, by account name then service.
    pub fn pairs(&self, run: i64) -> Result<Vec<Pair>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT account_id, account_name, service, count, result, message FROM pairs
                 WHERE run_id = ?1 ORDER BY lower(account_name), account_id, service",
            )
            .map_err(|e| self.db_err(e))?;
        let rows = stmt
            .query_map(params![run], |r| {
                Ok(Pair {
                    account_id: r.get(0)?,
                    account_name: r.get(1)?,
                    service: r.get(2)?,
                    count: r.get::<_, i64>(3)?.max(0) as u64,
                    result: r.get(4)?,
                    message: r.get(5)?,
                })
            })
            .map_err(|e| self.db_err(e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.db_err(e))
    }

    /// A run's created and renamed accounts and created services.
    pub fn changes(&self, run: i64) -> Result<Vec<Change>> {
        let mut stmt = self
            .conn
            .prepare("SELECT kind, id, name, before FROM changes WHERE run_id = ?1 ORDER BY rowid")
            .map_err(|e| self.db_err(e))?;
        let rows = stmt
            .query_map(params![run], |r| {
                Ok(Change {
                    kind: r.get(0)?,
                    id: r.get(1)?,
                    name: r.get(2)?,
                    before: r.get(3)?,
                })
            })
            .map_err(|e| self.db_err(e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.db_err(e))
    }

    /// Pairs unmapped in the last successful run of a source and integration, and since
    /// when the oldest of them has been unmapped without a break (epoch seconds).
    pub fn unmapped(&self, source: &str, integration: &str) -> Result<Option<(usize, i64)>> {
        let runs = self.successful(source, integration, 1000)?;
        let Some(last) = runs.first() else {
            return Ok(None);
        };
        let unmapped: Vec<(String, String)> = self
            .pairs(last.id)?
            .into_iter()
            .filter(|p| p.result == "unmapped")
            .map(|p| (p.account_id, p.service))
            .collect();
        if unmapped.is_empty() {
            return Ok(Some((0, last.started_at)));
        }
        // Walk back while each is still unmapped; the oldest streak start wins.
        let mut since = last.started_at;
        let mut open: std::collections::BTreeSet<(String, String)> =
            unmapped.iter().cloned().collect();
        for run in runs.iter().skip(1) {
            let still: std::collections::BTreeSet<(String, String)> = self
                .pairs(run.id)?
                .into_iter()
                .filter(|p| p.result == "unmapped")
                .map(|p| (p.account_id, p.service))
                .collect();
            open.retain(|k| still.contains(k));
            if open.is_empty() {
                break;
            }
            since = run.started_at;
        }
        Ok(Some((unmapped.len(), since)))
    }
}

/// One writer at a time per integration: a lock file in the state directory, held for a
/// run's whole life. The operating system releases it when the process ends, however it
/// ends, so a killed run never leaves a stale lock. While held, the file says who holds it
/// (process id, host, start time); a run that ends cleanly empties it.
pub struct IntegrationLock {
    file: File,
}

/// What a lock file says about its holder.
fn holder_line() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "an unknown host".into());
    format!(
        "process {} on {host}, started {}",
        std::process::id(),
        crate::text::utc(now())
    )
}

/// What is busy about a lock: free, or held by the holder its file names.
pub enum LockState {
    Taken(IntegrationLock),
    HeldBy(String),
}

impl IntegrationLock {
    /// Takes the integration's lock for writing, or says who holds it.
    pub fn try_exclusive(dir: &Path, integration: &str) -> Result<LockState> {
        use std::io::{Read, Seek, Write};
        let mut file = Self::file(dir, integration)?;
        match file.try_lock() {
            Ok(()) => {
                let mut left = String::new();
                let _ = file.read_to_string(&mut left);
                let left = left.trim();
                if !left.is_empty() {
                    tracing::warn!(
                        "took over this integration's lock from {left}, which ended without \
                         releasing it (killed?); its run shows as interrupted"
                    );
                }
                let _ = file.set_len(0);
                let _ = file.rewind();
                let _ = file.write_all(holder_line().as_bytes());
                let _ = file.flush();
                Ok(LockState::Taken(IntegrationLock { file }))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = crate::text::escape(holder.trim()).into_owned();
                Ok(LockState::HeldBy(if holder.is_empty() {
                    "another process".into()
                } else {
                    holder
                }))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(unusable(dir, e)),
        }
    }

    /// Who holds the integration's lock, if anyone, without taking it (`doctor`).
    pub fn holder(dir: &Path, integration: &str) -> Option<String> {
        use std::io::Read;
        let path = dir.join("locks").join(format!("{integration}.lock"));
        if !path.exists() {
            return None;
        }
        let mut file = open_private(&path).ok()?;
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                None
            }
            Err(_) => {
                let mut who = String::new();
                let _ = file.read_to_string(&mut who);
                Some(crate::text::escape(who.trim()).into_owned())
            }
        }
    }

    fn file(dir: &Path, integration: &str) -> Result<File> {
        open_private(&dir.join("locks").join(format!("{integration}.lock")))
    }
}

/// A run's own lock, held by its process for its whole life (dry runs too): a run still
/// `running` in the ledger whose lock nobody holds was interrupted.
pub struct RunLock {
    file: File,
    path: PathBuf,
}

impl RunLock {
    fn path(dir: &Path, run: i64) -> PathBuf {
        dir.join("locks").join(format!("run-{run}.lock"))
    }

    /// Takes run `run`'s lock.
    pub fn take(dir: &Path, run: i64) -> Result<RunLock> {
        let path = Self::path(dir, run);
        let file = open_private(&path)?;
        file.try_lock().map_err(|e| unusable(&path, e))?;
        Ok(RunLock { file, path })
    }

    /// Whether run `run`'s process is still there.
    pub fn is_alive(dir: &Path, run: i64) -> bool {
        let path = Self::path(dir, run);
        if !path.exists() {
            return false;
        }
        let Ok(file) = open_private(&path) else {
            return false;
        };
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                false
            }
            Err(_) => true,
        }
    }

    /// Removes the lock file of a run found interrupted.
    fn forget(dir: &Path, run: i64) {
        let _ = std::fs::remove_file(Self::path(dir, run));
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Opens (creating) a lock file readable by the user only.
fn open_private(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        location::create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| unusable(path, e))
}

impl Drop for IntegrationLock {
    /// A clean end empties the file: what is left in it names a holder that did not end
    /// cleanly.
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "synthesize-sync-ledger-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn new_run<'a>(verb: &'a str, dry: bool) -> NewRun<'a> {
        NewRun {
            verb,
            source: "connectwise-contacts",
            dry_run: dry,
            integration: "abc",
            organization_id: Some("org1"),
            organization_name: Some("MSP"),
        }
    }

    fn pair(account: &str, service: &str, count: u64, result: &str) -> Pair {
        Pair {
            account_id: account.into(),
            account_name: format!("Company {account}"),
            service: service.into(),
            count,
            result: result.into(),
            message: None,
        }
    }

    fn finish(status: Status) -> Finish<'static> {
        Finish {
            status,
            exit_code: 0,
            error: None,
            requests_psa: 3,
            requests_gradient: 5,
        }
    }

    #[test]
    fn runs_are_recorded_and_the_last_success_is_the_baseline() {
        let dir = temp_dir("baseline");
        let l = Ledger::open(&dir).unwrap();
        assert_eq!(l.baseline("connectwise-contacts", "abc").unwrap(), None);
        let r1 = l.begin(&new_run("sync-usage", false)).unwrap();
        l.record_pair(r1, &pair("250", "Billed User", 3, "set"))
            .unwrap();
        l.record_pair(r1, &pair("7", "Billed User", 1, "unmapped"))
            .unwrap();
        l.finish(r1, &finish(Status::Succeeded)).unwrap();
        let dry = l.begin(&new_run("sync-usage", true)).unwrap();
        l.record_pair(dry, &pair("250", "Billed User", 9, "planned"))
            .unwrap();
        l.finish(dry, &finish(Status::Succeeded)).unwrap();
        let failed = l.begin(&new_run("run", false)).unwrap();
        l.finish(failed, &finish(Status::Failed)).unwrap();
        let b = l.baseline("connectwise-contacts", "abc").unwrap().unwrap();
        assert_eq!(b.run_id, r1, "dry and failed runs are not baselines");
        assert_eq!(b.counts.len(), 2);
        assert_eq!(b.counts[&("250".into(), "billed user".into())], 3);
        assert_eq!(l.runs(None, 10).unwrap().len(), 3);
        assert_eq!(l.pairs(r1).unwrap()[0].account_id, "250");
        assert_eq!(l.baseline("connectwise-contacts", "other").unwrap(), None);
    }

    /// Regression: a run that left a service out, or spelt it in another case, reset its
    /// baseline, and the drop guard then let any drop through.
    #[test]
    fn each_service_keeps_its_baseline_from_the_last_run_that_wrote_it() {
        let dir = temp_dir("per-service");
        let l = Ledger::open(&dir).unwrap();
        let r1 = l.begin(&new_run("run", false)).unwrap();
        l.record_pair(r1, &pair("1", "Managed Workstations", 32, "set"))
            .unwrap();
        l.record_pair(r1, &pair("1", "Managed Servers", 4, "set"))
            .unwrap();
        l.finish(r1, &finish(Status::Succeeded)).unwrap();
        let r2 = l.begin(&new_run("run", false)).unwrap();
        l.record_pair(r2, &pair("1", "Managed Servers", 5, "set"))
            .unwrap();
        l.finish(r2, &finish(Status::Succeeded)).unwrap();
        let b = l.baseline("connectwise-contacts", "abc").unwrap().unwrap();
        assert_eq!(b.run_id, r2);
        assert_eq!(b.counts[&("1".into(), "managed workstations".into())], 32);
        assert_eq!(b.counts[&("1".into(), "managed servers".into())], 5);
    }

    #[test]
    fn a_run_without_an_outcome_is_interrupted_once_a_later_run_holds_the_lock() {
        let dir = temp_dir("interrupted");
        let l = Ledger::open(&dir).unwrap();
        let live = l.begin(&new_run("sync-usage", true)).unwrap();
        let live_lock = RunLock::take(&dir, live).unwrap();
        let r = l.begin(&new_run("sync-usage", false)).unwrap();
        assert_eq!(l.run(r).unwrap().unwrap().status, Status::Running);
        assert!(RunLock::is_alive(&dir, live) && !RunLock::is_alive(&dir, r));
        let LockState::Taken(lock) = IntegrationLock::try_exclusive(&dir, "abc").unwrap() else {
            panic!("the lock is free")
        };
        match IntegrationLock::try_exclusive(&dir, "abc").unwrap() {
            LockState::HeldBy(who) => {
                assert!(
                    who.contains(&format!("process {}", std::process::id())),
                    "{who}"
                )
            }
            LockState::Taken(_) => panic!("the lock is held"),
        }
        l.mark_interrupted("abc").unwrap();
        assert_eq!(l.run(r).unwrap().unwrap().status, Status::Interrupted);
        assert_eq!(
            l.run(live).unwrap().unwrap().status,
            Status::Running,
            "a run whose process is alive (a dry run here) is left alone"
        );
        drop(lock);
        drop(live_lock);
        assert!(!RunLock::is_alive(&dir, live));
    }

    #[test]
    fn registered_callbacks_are_remembered_per_site_until_forgotten() {
        let dir = temp_dir("callbacks");
        let l = Ledger::open(&dir).unwrap();
        let cb = |id: i64, kind: &str| RegisteredCallback {
            id,
            url: "https://h/cb?recordId=".into(),
            kind: kind.into(),
        };
        l.remember_callback("a", &cb(7, "contact")).unwrap();
        l.remember_callback("a", &cb(3, "company")).unwrap();
        l.remember_callback("b", &cb(7, "contact")).unwrap();
        assert_eq!(
            l.registered_callbacks("a").unwrap(),
            vec![cb(3, "company"), cb(7, "contact")]
        );
        l.forget_callback("a", 7).unwrap();
        assert_eq!(l.registered_callbacks("a").unwrap(), vec![cb(3, "company")]);
        assert_eq!(l.registered_callbacks("b").unwrap().len(), 1);
    }

    #[test]
    fn a_newer_schema_and_a_corrupt_file_are_refused_and_kept() {
        let dir = temp_dir("refused");
        {
            let l = Ledger::open(&dir).unwrap();
            l.conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let e = Ledger::open(&dir).err().unwrap().to_string();
        assert!(e.contains("newer synthesize-sync"), "{e}");
        let dir = temp_dir("corrupt");
        std::fs::create_dir_all(&dir).unwrap();
        let junk = b"this is not a database at all, but it is long enough to look like a file";
        std::fs::write(dir.join(FILE), junk.repeat(100)).unwrap();
        let e = Ledger::open(&dir).err().unwrap();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("is corrupt"), "{e}");
        assert_eq!(
            std::fs::read(dir.join(FILE)).unwrap(),
            junk.repeat(100),
            "left as it was"
        );
    }

    #[test]
    fn the_first_schema_is_migrated_with_its_data() {
        let dir = temp_dir("migrate");
        std::fs::create_dir_all(&dir).unwrap();
        {
            // A database exactly as the first release wrote it.
            let c = Connection::open(dir.join(FILE)).unwrap();
            c.execute_batch(schema::MIGRATIONS[0]).unwrap();
            c.pragma_update(None, "user_version", 1).unwrap();
            c.execute(
                "INSERT INTO runs (started_at, tool_version, verb, source, dry_run, integration, status)
                 VALUES (1, '0.1.0', 'run', 'connectwise-contacts', 0, 'abc', 'succeeded')",
                [],
            )
            .unwrap();
        }
        let l = Ledger::open(&dir).unwrap();
        let version: i64 = l
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, schema::MIGRATIONS.len() as i64);
        assert_eq!(l.runs(None, 5).unwrap()[0].tool_version, "0.1.0");
    }

    #[test]
    fn an_integration_is_bound_to_one_source() {
        let dir = temp_dir("binding");
        let l = Ledger::open(&dir).unwrap();
        assert_eq!(l.binding("abc").unwrap(), None);
        l.bind("abc", "connectwise-contacts", "MSP").unwrap();
        assert_eq!(
            l.binding("abc").unwrap().unwrap().source,
            "connectwise-contacts"
        );
        l.bind("abc", "autotask-configuration-items", "MSP")
            .unwrap();
        assert_eq!(
            l.binding("abc").unwrap().unwrap().source,
            "autotask-configuration-items"
        );
    }

    #[test]
    fn fingerprints_identify_without_revealing() {
        let f = fingerprint("vendor-key", "partner-key");
        assert_eq!(f.len(), 16);
        assert_eq!(f, fingerprint("vendor-key", "partner-key"));
        assert_ne!(f, fingerprint("vendor-key", "partner-key2"));
        assert!(!f.contains("vendor") && !f.contains("partner"));
    }

    #[test]
    fn unmapped_pairs_and_since_when() {
        let dir = temp_dir("unmapped");
        let l = Ledger::open(&dir).unwrap();
        let mut ids = Vec::new();
        for results in [
            ["set", "unmapped"],
            ["unmapped", "unmapped"],
            ["unmapped", "set"],
        ] {
            let r = l.begin(&new_run("run", false)).unwrap();
            l.record_pair(r, &pair("1", "S", 1, results[0])).unwrap();
            l.record_pair(r, &pair("2", "S", 1, results[1])).unwrap();
            l.finish(r, &finish(Status::Succeeded)).unwrap();
            ids.push(r);
        }
        let (n, since) = l.unmapped("connectwise-contacts", "abc").unwrap().unwrap();
        assert_eq!(n, 1, "pair 1 is unmapped in the last run");
        let second = l.run(ids[1]).unwrap().unwrap().started_at;
        assert_eq!(since, second, "and has been since the second run");
    }
}
