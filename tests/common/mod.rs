//! Helpers shared by the integration tests: simulators on loopback and the built binary.
#![allow(dead_code)]

pub mod hostile;

use std::time::Duration;

use assert_cmd::Command;
use synthesize_sims::RunningServer;
use synthesize_sims::gradient::GradientSim;
use synthesize_sync::config::{GradientSettings, HttpSettings};
use synthesize_sync::secret::Secret;

/// Fast retries so failure tests take milliseconds, not minutes.
pub fn fast_http() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_secs(10),
        max_retries: 3,
        retry_base_delay: Duration::from_millis(5),
        max_retry_wait: Duration::from_secs(10),
        write_concurrency: 8,
        ..HttpSettings::default()
    }
}

pub async fn gradient() -> (GradientSim, RunningServer) {
    let sim = GradientSim::default();
    let server = sim.start().await.expect("start the Gradient simulator");
    (sim, server)
}

pub fn gradient_settings(sim: &GradientSim, server: &RunningServer) -> GradientSettings {
    let (vendor, partner) = sim.credentials();
    GradientSettings {
        vendor_key: Secret::new(vendor),
        partner_key: Secret::new(partner),
        base_url: server.base_url().parse().unwrap(),
    }
}

/// The built binary, with a clean environment: no .env is read (the working directory is
/// a fresh temp dir), no variable leaks in from the developer's shell, and the run ledger
/// is a fresh one of its own (tests that need a ledger across runs set SYNC_STATE_DIR).
pub fn binary() -> Command {
    let mut cmd = Command::cargo_bin("synthesize-sync").unwrap();
    cmd.env_clear()
        .current_dir(empty_dir())
        .env("SYNC_STATE_DIR", fresh_state_dir())
        .env("SYNC_RETRY_BASE_MS", "5")
        .env("SYNC_MAX_RETRIES", "3");
    cmd
}

/// A new, empty state directory for a run ledger.
pub fn fresh_state_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "synthesize-sync-tests-state-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The binary with Gradient settings pointing at the simulator.
pub fn binary_for(sim: &GradientSim, server: &RunningServer) -> Command {
    let (vendor, partner) = sim.credentials();
    let mut cmd = binary();
    cmd.env("GRADIENT_VENDOR_API_KEY", vendor)
        .env("GRADIENT_PARTNER_API_KEY", partner)
        .env("GRADIENT_BASE_URL", server.base_url());
    cmd
}

/// Runs a blocking binary invocation off the async runtime (the simulator keeps serving).
pub async fn run(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run the binary"))
        .await
        .unwrap()
}

pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A directory with no `.env` in it.
pub fn empty_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("synthesize-sync-tests-empty");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `(account id, service) → (count, result)` from a usage report's JSON (docs/contract.md §5).
pub fn report_rows(
    report: &serde_json::Value,
) -> std::collections::BTreeMap<(String, String), (u64, String)> {
    report["counts"]
        .as_array()
        .expect("counts is an array")
        .iter()
        .map(|r| {
            (
                (
                    r["account_id"].as_str().unwrap().to_string(),
                    r["service"].as_str().unwrap().to_string(),
                ),
                (
                    r["count"].as_u64().unwrap(),
                    r["result"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

/// Asserts that a usage report plans exactly `expected` (every pair, zeros included) and
/// that each pair came back `set` when `is_mapped(account)`, `unmapped` otherwise.
pub fn assert_report(
    report: &serde_json::Value,
    expected: &std::collections::BTreeMap<(String, String), u64>,
    is_mapped: impl Fn(&str) -> bool,
) {
    let rows = report_rows(report);
    let counts: std::collections::BTreeMap<(String, String), u64> =
        rows.iter().map(|(k, (n, _))| (k.clone(), *n)).collect();
    assert_eq!(
        &counts, expected,
        "the report plans every pair, zeros included"
    );
    for ((account, service), (_, result)) in &rows {
        let want = if is_mapped(account) {
            "set"
        } else {
            "unmapped"
        };
        assert_eq!(result, want, "{account} / {service}");
    }
}
