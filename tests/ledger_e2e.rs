//! The run ledger with the built binary against the simulators: the drop guard, history and
//! its diff, --detailed-exitcode, a killed run, one writer at a time, a ledger that cannot be
//! used, and the staleness warning.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use synthesize_sims::RunningServer;
use synthesize_sims::connectwise::{ConnectWiseSim, CwGenerateSpec, CwTenant};
use synthesize_sims::gradient::GradientSim;

use common::hostile::{Action, Hostile, Rule};
use common::{binary, fresh_state_dir, run, stderr, stdout};

const CONTACTS: &str = "connectwise-contacts";

/// ConnectWise and Gradient simulators (Gradient behind a proxy), and one state directory
/// shared by every run of the test.
struct World {
    cw: ConnectWiseSim,
    _cw_server: RunningServer,
    gradient: GradientSim,
    _gradient_server: RunningServer,
    proxy: Hostile,
    proxy_server: RunningServer,
    state: PathBuf,
}

impl World {
    async fn start() -> World {
        let cw = ConnectWiseSim::new(CwTenant::generate(&CwGenerateSpec {
            companies: 30,
            contacts: 600,
            configurations: 20,
            seed: 3,
        }));
        let cw_server = cw.start().await.unwrap();
        let (gradient, gradient_server) = common::gradient().await;
        let (proxy, proxy_server) = Hostile::start(&gradient_server.base_url()).await;
        World {
            cw,
            _cw_server: cw_server,
            gradient,
            _gradient_server: gradient_server,
            proxy,
            proxy_server,
            state: fresh_state_dir(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let c = self.cw.credentials();
        let (vendor, partner) = self.gradient.credentials();
        vec![
            ("SYNC_STATE_DIR", self.state.display().to_string()),
            ("SYNC_SOURCE", CONTACTS.into()),
            ("GRADIENT_VENDOR_API_KEY", vendor),
            ("GRADIENT_PARTNER_API_KEY", partner),
            ("GRADIENT_BASE_URL", self.proxy_server.base_url()),
            ("CONNECTWISE_BASE_URL", self.cw_server_url()),
            ("CONNECTWISE_COMPANY_ID", c.company_id),
            ("CONNECTWISE_PUBLIC_KEY", c.public_key),
            ("CONNECTWISE_PRIVATE_KEY", c.private_key),
            ("CONNECTWISE_CLIENT_ID", c.client_id),
        ]
    }

    fn cw_server_url(&self) -> String {
        self._cw_server.base_url()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = binary();
        cmd.envs(self.env()).args(args);
        cmd
    }

    async fn ok(&self, args: &[&str]) -> std::process::Output {
        let o = run(self.cmd(args)).await;
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}\n{}\n{}",
            stdout(&o),
            stderr(&o)
        );
        o
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut full = vec!["--output", "json"];
        full.extend_from_slice(args);
        let o = self.ok(&full).await;
        serde_json::from_slice(&o.stdout).expect("one JSON document")
    }

    /// Accounts and services created and mapped.
    async fn ready(&self) {
        self.ok(&["sync-accounts"]).await;
        self.ok(&["sync-services"]).await;
        self.gradient.map_everything();
    }

    /// Stored counts (201s).
    fn stored(&self) -> usize {
        self.gradient
            .count_calls()
            .iter()
            .filter(|c| c.status == 201)
            .count()
    }

    /// Makes every other active Billed User contact inactive: half of one service's items.
    fn remove_half_the_billed_users(&self) {
        self.cw.update_tenant(|t| {
            let mut flip = false;
            for c in t.contacts.iter_mut() {
                if !c.inactive_flag && c.types.iter().any(|ty| ty.name == "Billed User") {
                    if flip {
                        c.inactive_flag = true;
                    }
                    flip = !flip;
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sudden_drop_is_refused_allow_drop_writes_and_history_diff_explains_it() {
    let w = World::start().await;
    w.ready().await;
    w.ok(&["sync-usage"]).await;
    let second = w.json(&["sync-usage"]).await;
    assert_eq!(second["changes"], 0, "nothing changed since the first run");
    assert!(second["compared_with"].is_i64());
    let row = &second["counts"][0];
    assert_eq!(row["previous"], row["count"], "{row}");

    w.remove_half_the_billed_users();
    let before = w.stored();
    let o = run(w.cmd(&["--output", "json", "sync-usage"])).await;
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("Billed User") && err.contains("--allow-drop"),
        "{err}"
    );
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["refused"]["guard"], "drop");
    assert_eq!(doc["exit_code"], 5);
    assert_eq!(w.stored(), before, "nothing written");

    // A dry run says the same without refusing.
    let o = run(w.cmd(&["sync-usage", "--dry-run"])).await;
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("would be refused (exit 5)"),
        "{}",
        stderr(&o)
    );

    let report = w.json(&["sync-usage", "--allow-drop"]).await;
    assert!(w.stored() > before, "--allow-drop writes");
    let totals = report["totals"].as_array().unwrap();
    let billed = totals
        .iter()
        .find(|t| t["service"] == "Billed User")
        .unwrap();
    assert!(
        billed["count"].as_u64() < billed["previous"].as_u64(),
        "{billed}"
    );

    let history = w.json(&["history"]).await;
    let statuses: Vec<&str> = history["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"refused"), "{statuses:?}");
    assert!(
        history["runs"][0]["current_integration"].as_bool().unwrap(),
        "{history}"
    );

    let diff = w.json(&["history", "diff"]).await;
    assert!(!diff["changed"].as_array().unwrap().is_empty(), "{diff}");
    let t = diff["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["service"] == "Billed User")
        .unwrap()
        .clone();
    assert!(t["after"].as_u64() < t["before"].as_u64(), "{t}");
    let text = stdout(&w.ok(&["history", "diff"]).await);
    assert!(text.contains("total Billed User:"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn detailed_exitcode_is_0_with_nothing_to_change_and_8_with_something() {
    let w = World::start().await;
    w.ready().await;
    // Nothing recorded yet: everything would change.
    let o = run(w.cmd(&["sync-usage", "--dry-run", "--detailed-exitcode"])).await;
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    w.ok(&["sync-usage"]).await;
    let o = run(w.cmd(&["sync-usage", "--dry-run", "--detailed-exitcode"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    w.cw.update_tenant(|t| {
        let c = t
            .contacts
            .iter_mut()
            .find(|c| !c.inactive_flag && c.company.is_some() && !c.types.is_empty())
            .unwrap();
        c.inactive_flag = true;
    });
    let o = run(w.cmd(&["sync-usage", "--dry-run", "--detailed-exitcode"])).await;
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    // Only with --dry-run.
    let o = run(w.cmd(&["sync-usage", "--detailed-exitcode"])).await;
    assert_eq!(o.status.code(), Some(2));
}

/// A run killed (SIGKILL) in the middle of its writes: its record keeps exactly the pairs
/// Gradient stored, and it shows as interrupted.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_run_shows_as_interrupted_with_exactly_what_gradient_stored() {
    let w = World::start().await;
    w.ready().await;
    let before = w.stored();
    // The 6th count write never gets an answer: the run is stuck there when it is killed.
    w.proxy.add(
        Rule::on(
            "POST",
            "/count",
            Action::SlowBody {
                total: 1_000,
                chunk: 1,
                every: Duration::from_secs(60),
            },
        )
        .nth(6),
    );
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("synthesize-sync"));
    cmd.env_clear()
        .current_dir(common::empty_dir())
        .envs(w.env())
        .env("SYNC_WRITE_CONCURRENCY", "1")
        .arg("sync-usage")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    while w
        .proxy
        .requests()
        .iter()
        .filter(|r| r.uri.contains("/count"))
        .count()
        < 6
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run got stuck"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let stored = w.stored() - before;
    assert_eq!(stored, 5);

    let history = w.json(&["history"]).await;
    let last = &history["runs"][0];
    assert_eq!(last["status"], "interrupted", "{last}");
    let id = last["id"].as_i64().unwrap().to_string();
    let shown = w.json(&["history", "show", &id]).await;
    let set = shown["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["result"] == "set")
        .count();
    assert_eq!(set, stored, "the record holds exactly what Gradient stored");
    // The next run takes the lock and marks it for good.
    w.proxy.clear();
    w.ok(&["sync-usage"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_writer_at_a_time_per_integration() {
    let w = World::start().await;
    w.ready().await;
    w.proxy.add(
        Rule::on(
            "POST",
            "/count",
            Action::SlowBody {
                total: 1_000,
                chunk: 1,
                every: Duration::from_secs(60),
            },
        )
        .nth(1),
    );
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("synthesize-sync"));
    cmd.env_clear()
        .current_dir(common::empty_dir())
        .envs(w.env())
        .arg("sync-usage")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut stuck = cmd.spawn().unwrap();
    let started = Instant::now();
    while !w.proxy.requests().iter().any(|r| r.uri.contains("/count")) {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let o = run(w.cmd(&["sync-usage"])).await;
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("another synthesize-sync run"),
        "{}",
        stderr(&o)
    );
    // Every writing verb: update-status too, with or without a source.
    let o = run(w.cmd(&["update-status", "active"])).await;
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let mut cmd = w.cmd(&["update-status", "active"]);
    cmd.env_remove("SYNC_SOURCE");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let o = run(w.cmd(&["sync-usage", "--dry-run"])).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "a dry run reads only: {}",
        stderr(&o)
    );
    let history = w.json(&["history"]).await;
    assert!(
        history["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["status"] == "running"),
        "the stuck run is still running: {history}"
    );
    stuck.kill().unwrap();
    stuck.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ledger_that_cannot_be_used_refuses_a_real_run_and_not_a_dry_one() {
    let w = World::start().await;
    w.ready().await;
    let before = w.stored();
    // A file where the state directory should be.
    let not_a_dir = fresh_state_dir();
    std::fs::write(&not_a_dir, b"x").unwrap();
    let state = not_a_dir.display().to_string();
    let mut cmd = w.cmd(&["sync-usage"]);
    cmd.env("SYNC_STATE_DIR", &state);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("SYNC_STATE_DIR") && stderr(&o).contains(&state),
        "{}",
        stderr(&o)
    );
    assert_eq!(w.stored(), before, "nothing written");
    let mut cmd = w.cmd(&["sync-usage", "--dry-run"]);
    cmd.env("SYNC_STATE_DIR", &state);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("without recording it"),
        "{}",
        stderr(&o)
    );

    // A corrupt database is reported and kept, never recreated.
    let corrupt = fresh_state_dir();
    std::fs::create_dir_all(&corrupt).unwrap();
    let junk = b"not a database, only bytes".repeat(200);
    std::fs::write(corrupt.join("ledger.sqlite3"), &junk).unwrap();
    let mut cmd = w.cmd(&["sync-usage"]);
    cmd.env("SYNC_STATE_DIR", &corrupt);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is corrupt"), "{}", stderr(&o));
    assert_eq!(std::fs::read(corrupt.join("ledger.sqlite3")).unwrap(), junk);
    assert_eq!(w.stored(), before);
}

/// Every count write but the run's last says `no_build=true`, so Gradient rebuilds its billing
/// view once per run (docs/apis.md §1.2); when the last write is not stored, one stored pair is
/// written again to rebuild it, still exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn gradient_rebuilds_the_billing_view_exactly_once_per_run() {
    let w = World::start().await;
    w.ready().await;
    w.ok(&["sync-usage"]).await;
    let calls = w.gradient.count_calls();
    assert_eq!(w.gradient.rebuilds(), 1, "{calls:?}");
    assert!(!calls.last().unwrap().no_build, "the last write rebuilds");
    assert_eq!(calls.iter().filter(|c| !c.no_build).count(), 1);

    // The last pair of the plan is not stored this time (its account unmapped).
    let plan = w.json(&["sync-usage", "--dry-run"]).await;
    let last = plan["counts"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["result"] == "planned")
        .unwrap()["account_id"]
        .as_str()
        .unwrap()
        .to_string();
    w.gradient.update_partner(|p| {
        p.mapped_accounts.remove(&last);
    });
    let before = w.gradient.count_calls().len();
    let report = w.json(&["sync-usage"]).await;
    let pairs = report["counts"].as_array().unwrap().len();
    let calls = w.gradient.count_calls()[before..].to_vec();
    assert_eq!(calls.len(), pairs + 1, "one write more, to rebuild");
    let rebuilds: Vec<_> = calls
        .iter()
        .filter(|c| !c.no_build && c.status == 201)
        .collect();
    assert_eq!(rebuilds.len(), 1, "{calls:?}");
    assert_eq!(
        calls.iter().filter(|c| !c.no_build).count(),
        2,
        "the last write and the rebuild"
    );
}

/// Regression: a run refused by Gradient at its first request (a revoked token) left no trace
/// in the ledger, so a schedule failing every night looked like no schedule at all.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_failing_at_gradients_first_answer_is_recorded() {
    let w = World::start().await;
    let mut cmd = w.cmd(&["run"]);
    cmd.env("GRADIENT_PARTNER_API_KEY", "revoked-partner-key");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let history = w.json(&["history"]).await;
    let runs = history["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{history}");
    assert_eq!(runs[0]["status"], "failed", "{history}");
    assert_eq!(runs[0]["exit_code"], 3, "{history}");
    assert!(
        !history.to_string().contains("revoked-partner-key"),
        "{history}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn history_lists_shows_and_exports_csv() {
    let w = World::start().await;
    w.ready().await;
    w.ok(&["run"]).await;
    let text = stdout(&w.ok(&["history"]).await);
    assert!(text.contains("* the integration"), "{text}");
    assert!(
        text.contains("unmapped") || text.contains("no pair"),
        "{text}"
    );
    let csv = stdout(&w.ok(&["--output", "csv", "history"]).await);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("run,started,ended,verb,source")
    );
    assert_eq!(lines.count(), 3, "sync-accounts, sync-services, run: {csv}");
    let shown = stdout(&w.ok(&["--output", "csv", "history", "show", "3"]).await);
    assert!(shown.starts_with("run,account_id,account_name,service,count,result"));
    assert!(shown.lines().count() > 10, "{shown}");
    let o = run(w.cmd(&["--output", "csv", "sync-usage"])).await;
    assert_eq!(o.status.code(), Some(2), "csv is for history only");
    let o = run(w.cmd(&["history", "show", "999"])).await;
    assert_eq!(o.status.code(), Some(2));
    // history needs no credentials.
    let mut cmd = binary();
    cmd.env("SYNC_STATE_DIR", &w.state)
        .args(["--output", "json", "history"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_schedule_is_warned_about() {
    let w = World::start().await;
    w.ready().await;
    w.ok(&["sync-usage"]).await;
    let o = w.ok(&["authenticate"]).await;
    assert!(
        !stderr(&o).contains("SYNC_STALE_AFTER_DAYS"),
        "{}",
        stderr(&o)
    );
    {
        let db = rusqlite::Connection::open(w.state.join("ledger.sqlite3")).unwrap();
        db.execute(
            "UPDATE runs SET started_at = started_at - 864000, ended_at = ended_at - 864000",
            [],
        )
        .unwrap();
    }
    for args in [&["authenticate"][..], &["history"][..]] {
        let o = w.ok(args).await;
        assert!(
            stderr(&o).contains("more than SYNC_STALE_AFTER_DAYS=8"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

/// Regression: a contacts settings file run with `--source connectwise-shared-devices`, or
/// another source's tokens, created services and wrote counts into the wrong integration.
#[tokio::test(flavor = "multi_thread")]
async fn another_source_against_a_bound_integration_is_refused_unless_rebound() {
    let w = World::start().await;
    w.ready().await;
    w.ok(&["sync-usage"]).await;
    let before = w.stored();
    let services = w.gradient.partner().skus.len();

    // The flag contradicts the settings.
    let o = run(w.cmd(&["--source", "connectwise-shared-devices", "run"])).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("contradicts SYNC_SOURCE"),
        "{}",
        stderr(&o)
    );

    // Settings of another source with this integration's tokens.
    let mut cmd = w.cmd(&["run"]);
    cmd.env("SYNC_SOURCE", "connectwise-shared-devices");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("connectwise-contacts")
            && err.contains("connectwise-shared-devices")
            && err.contains("--rebind"),
        "{err}"
    );
    assert_eq!(w.stored(), before, "nothing written");
    assert_eq!(
        w.gradient.partner().skus.len(),
        services,
        "no service created"
    );

    // update-status is a write to the integration too.
    let mut cmd = w.cmd(&["update-status", "active"]);
    cmd.env("SYNC_SOURCE", "connectwise-shared-devices");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // A dry run only warns.
    let mut cmd = w.cmd(&["run", "--dry-run"]);
    cmd.env("SYNC_SOURCE", "connectwise-shared-devices");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("would be refused (exit 2)"),
        "{}",
        stderr(&o)
    );

    // --rebind moves it deliberately; from then on the old source is the other one.
    let mut cmd = w.cmd(&["run", "--rebind"]);
    cmd.env("SYNC_SOURCE", "connectwise-shared-devices");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(w.cmd(&["sync-usage"])).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Regression: sync-usage before sync-accounts reported "unmapped" for accounts that did not
/// exist, so the user waited for a mapping that could not happen; a dry run planned counts a
/// real run then refused, and a guard refusal was only a log line.
#[tokio::test(flavor = "multi_thread")]
async fn the_setup_order_is_said_per_pair_and_a_dry_run_predicts_the_real_one() {
    let w = World::start().await;
    // Services exist, accounts do not yet.
    w.ok(&["sync-services"]).await;
    w.gradient.map_everything();
    let dry = w.json(&["sync-usage", "--dry-run"]).await;
    let results: std::collections::BTreeSet<&str> = dry["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["missing-account"].into());
    let o = run(w.cmd(&["--output", "json", "sync-usage"])).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let real: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        real["counts"],
        dry["counts"]
            .clone()
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        let mut r = r.clone();
                        r.as_object_mut().unwrap().remove("previous");
                        r
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap()
            .into_iter()
            .collect::<Value>()
    );
    let first = &real["counts"][0];
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("run sync-accounts"),
        "{first}"
    );
    assert_eq!(
        w.stored(),
        0,
        "nothing written for accounts that do not exist"
    );

    // A guard refusal is in the dry run's document too.
    w.ok(&["sync-accounts"]).await;
    w.gradient.map_everything();
    w.cw.update_tenant(|t| t.contacts.iter_mut().for_each(|c| c.inactive_flag = true));
    let dry = w.json(&["sync-usage", "--dry-run"]).await;
    assert_eq!(dry["refused"]["guard"], "all_zero", "{}", dry["refused"]);
}

/// Regressions: spelling a service in another case or spacing, or running once without it,
/// reset its baseline and let any drop through; a refused run recorded no pairs; a dry run
/// that a real run would refuse exited 8 instead of the guard's code.
#[tokio::test(flavor = "multi_thread")]
async fn the_drop_guard_cannot_be_sidestepped_by_renaming_or_leaving_out_a_service() {
    let w = World::start().await;
    w.ready().await;
    w.ok(&["sync-usage"]).await;
    // A run that counts another type only…
    let mut cmd = w.cmd(&["run"]);
    cmd.env("CONNECTWISE_CONTACT_TYPES", "VIP");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    w.remove_half_the_billed_users();
    // …then Billed User back, spelt differently: still compared with its last counts.
    for types in ["Billed User", "billed  USER"] {
        let mut cmd = w.cmd(&["--output", "json", "sync-usage"]);
        cmd.env("CONNECTWISE_CONTACT_TYPES", types);
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(5), "{types}: {}", stderr(&o));
        let mut cmd = w.cmd(&["sync-usage", "--dry-run", "--detailed-exitcode"]);
        cmd.env("CONNECTWISE_CONTACT_TYPES", types);
        let o = run(cmd).await;
        assert_eq!(
            o.status.code(),
            Some(5),
            "the guard's code, not 8: {}",
            stderr(&o)
        );
    }
    // The refused run says what it would have written.
    let history = w.json(&["history"]).await;
    let refused = history["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "refused")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let shown = w.json(&["history", "show", &refused]).await;
    assert!(!shown["pairs"].as_array().unwrap().is_empty(), "{shown}");
}

/// Regression: Ctrl-C or SIGTERM during the writes killed the process: no report, no JSON
/// document, nothing recorded.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_finishes_its_writes_in_flight_prints_its_report_and_exits_130() {
    let w = World::start().await;
    w.ready().await;
    let before = w.stored();
    // The 6th write never gets an answer: it is in flight when the interrupt comes.
    w.proxy.add(
        Rule::on(
            "POST",
            "/count",
            Action::SlowBody {
                total: 1_000,
                chunk: 1,
                every: Duration::from_secs(60),
            },
        )
        .nth(6),
    );
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("synthesize-sync"));
    cmd.env_clear()
        .current_dir(common::empty_dir())
        .envs(w.env())
        .env("SYNC_WRITE_CONCURRENCY", "1")
        .env("SYNC_HTTP_TIMEOUT_SECS", "2")
        .args(["--output", "json", "sync-usage"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id().to_string();
    let started = Instant::now();
    while w
        .proxy
        .requests()
        .iter()
        .filter(|r| r.uri.contains("/count"))
        .count()
        < 6
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run got stuck"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["summary"]["set"], 5, "{}", report["summary"]);
    let not_sent = report["counts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["message"]
                .as_str()
                .is_some_and(|m| m.contains("interrupted"))
        })
        .count();
    assert!(not_sent > 0, "{report}");
    // Five pairs stored, then one of them once more (unchanged) to rebuild the billing view.
    assert_eq!(w.stored() - before, 6);
    let calls = w.gradient.count_calls();
    let last = calls.last().unwrap();
    assert!(!last.no_build && last.status == 201, "{last:?}");
    let history = w.json(&["history"]).await;
    assert_eq!(history["runs"][0]["status"], "interrupted");
    // The next run completes it.
    w.proxy.clear();
    w.ok(&["sync-usage"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupt_before_any_write_stops_at_once_and_writes_nothing() {
    let w = World::start().await;
    w.ready().await;
    let before = w.stored();
    w.cw.faults().update(|f| f.latency = Duration::from_secs(3));
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("synthesize-sync"));
    cmd.env_clear()
        .current_dir(common::empty_dir())
        .envs(w.env())
        .args(["--output", "json", "sync-usage"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id().to_string();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let sent = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(sent.elapsed() < Duration::from_secs(2), "stopped at once");
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(doc["interrupted"], true);
    assert!(stderr(&o).contains("nothing was written"), "{}", stderr(&o));
    assert_eq!(w.stored(), before);
    w.cw.faults().clear();
}

/// Regression: sync-services with a misspelt type created a bogus service ("Billed Users")
/// that sync-usage then rejected.
#[tokio::test(flavor = "multi_thread")]
async fn type_names_are_checked_by_sync_services_and_authenticate_too() {
    let w = World::start().await;
    for verb in ["sync-services", "authenticate"] {
        let mut cmd = w.cmd(&[verb]);
        cmd.env("CONNECTWISE_CONTACT_TYPES", "Billed Users");
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(2), "{verb}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("'Billed User'"),
            "{verb} lists the real types: {}",
            stderr(&o)
        );
    }
    assert!(w.gradient.partner().skus.is_empty(), "no bogus service");
}

/// Regression: dropping a type from the settings left its service billing its old counts,
/// silently.
#[tokio::test(flavor = "multi_thread")]
async fn services_no_longer_counted_are_named_and_retire_service_stops_them() {
    let w = World::start().await;
    w.ready().await;
    for _ in 0..2 {
        let mut cmd = w.cmd(&["run"]);
        cmd.env("CONNECTWISE_CONTACT_TYPES", "Billed User,VIP");
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        // The partner maps the new VIP service.
        w.gradient.map_everything();
    }
    let vip_total = |w: &World| -> f64 {
        w.gradient
            .current_counts()
            .iter()
            .filter(|((_, s), _)| s == "VIP")
            .map(|(_, n)| n)
            .sum()
    };
    assert!(vip_total(&w) > 0.0);

    // VIP dropped from the settings: named, with its last total, and left as it is.
    let o = w.ok(&["--output", "json", "sync-usage"]).await;
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let foreign = &report["foreign_services"][0];
    assert_eq!(foreign["name"], "VIP", "{report}");
    assert!(foreign["last_total"].as_u64().unwrap() > 0, "{foreign}");
    assert!(
        stderr(&o).contains("retire-service 'VIP'"),
        "{}",
        stderr(&o)
    );

    for (name, code) in [("Billed User", 2), ("Nope", 2)] {
        let o = run(w.cmd(&["retire-service", name])).await;
        assert_eq!(o.status.code(), Some(code), "{name}: {}", stderr(&o));
    }
    let dry = w.json(&["retire-service", "VIP", "--dry-run"]).await;
    assert!(
        dry["counts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["count"] == 0)
    );
    assert!(vip_total(&w) > 0.0, "a dry run writes nothing");
    w.ok(&["retire-service", "vip"]).await;
    assert_eq!(vip_total(&w), 0.0, "billing for it stops");
    let o = w.ok(&["sync-usage"]).await;
    assert!(stderr(&o).contains("last set to 0"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_is_a_go_no_go_checklist() {
    let w = World::start().await;
    let o = run(w.cmd(&["--output", "json", "doctor"])).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let status = |v: &Value, name: &str| -> String {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == name)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(status(&v, "services"), "fail", "{v}");
    w.ready().await;
    w.ok(&["run"]).await;
    w.ok(&["update-status"]).await;
    let v = w.json(&["doctor"]).await;
    assert_eq!(v["ok"], true, "{v}");
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "ok"),
        "{v}"
    );
    // A misconfigured copy names each problem.
    let mut cmd = w.cmd(&["doctor"]);
    cmd.env("CONNECTWISE_CONTACT_TYPES", "Billed Users")
        .env("CONNECTWISE_PRIVATE_KEY", "wrong-private-key");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(text.contains("FAIL  PSA credentials"), "{text}");
    assert!(text.contains("no go"), "{text}");
}

/// Regression: a failing PSA check hid Gradient's answer.
#[tokio::test(flavor = "multi_thread")]
async fn authenticate_reports_gradient_even_when_the_psa_check_fails() {
    let w = World::start().await;
    let mut cmd = w.cmd(&["authenticate"]);
    cmd.env("CONNECTWISE_PRIVATE_KEY", "wrong-private-key");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Synthesize: connected to") && out.contains("FAILED"),
        "{out}"
    );
    let mut cmd = w.cmd(&["--output", "json", "authenticate"]);
    cmd.env("CONNECTWISE_PRIVATE_KEY", "wrong-private-key");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert!(v["synthesize"]["organization"].is_string(), "{v}");
    assert!(v["psa"]["error"].is_string(), "{v}");
}

/// Regression: with a ledger that did not know the integration (a new machine, a CI runner),
/// a contacts settings file holding another source's tokens created accounts and services
/// there and wrote its counts.
#[tokio::test(flavor = "multi_thread")]
async fn another_sources_integration_is_refused_even_by_a_new_ledger() {
    let w = World::start().await;
    // The integration belongs to the shared-devices source (its own ledger elsewhere).
    let mut cmd = w.cmd(&["sync-services"]);
    cmd.env("SYNC_SOURCE", "connectwise-shared-devices")
        .env("SYNC_STATE_DIR", fresh_state_dir());
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let services = w.gradient.partner().skus.len();
    for verb in ["run", "sync-accounts", "sync-services", "sync-usage"] {
        let o = run(w.cmd(&[verb])).await;
        assert_eq!(o.status.code(), Some(2), "{verb}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("another source's Gradient tokens"),
            "{verb}: {}",
            stderr(&o)
        );
    }
    assert_eq!(w.gradient.partner().skus.len(), services, "nothing created");
    assert!(
        w.gradient.partner().accounts.is_empty(),
        "no account created"
    );
    assert_eq!(w.stored(), 0);
    // Deliberately: --rebind.
    w.ok(&["run", "--rebind"]).await;
}
