//! The built binary against the ConnectWise and Gradient simulators, over loopback: each
//! ConnectWise source's whole lifecycle on a tenant big enough to cross several pages, faults,
//! refused credentials, settings errors, dry runs, and the number of requests a read costs.
//!
//! Expected counts come from a deliberately plain oracle over the simulator's tenant
//! (docs/contract.md §3 written out as loops), never from the plan code under test.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use assert_cmd::Command;
use serde_json::Value;
use synthesize_sims::connectwise::{BadAuthStyle, ConnectWiseSim, CwGenerateSpec, CwTenant};
use synthesize_sims::gradient::GradientSim;
use synthesize_sims::{FaultConfig, RunningServer};

use common::{binary_for, run, stderr, stdout};

const CONTACTS: &str = "connectwise-contacts";
const DEVICES: &str = "connectwise-shared-devices";
/// Configured with odd case and spacing on purpose: names compare ignoring both.
const CONTACT_TYPES: &str = "Billed User, vip";
const CONFIGURATION_TYPES: &str = "License,  microsoft 365 LICENSE";

/// A tenant with more than 2,000 matching items for each source, so reads cross pages.
fn big_tenant() -> CwTenant {
    CwTenant::generate(&CwGenerateSpec {
        companies: 60,
        contacts: 5_000,
        configurations: 6_000,
        seed: 11,
    })
}

/// Both simulators on loopback, and the binary pointed at them.
struct Sims {
    cw: ConnectWiseSim,
    cw_server: RunningServer,
    gradient: GradientSim,
    gradient_server: RunningServer,
}

impl Sims {
    async fn start(tenant: CwTenant) -> Self {
        let cw = ConnectWiseSim::new(tenant);
        let cw_server = cw.start().await.expect("start the ConnectWise simulator");
        let (gradient, gradient_server) = common::gradient().await;
        Self {
            cw,
            cw_server,
            gradient,
            gradient_server,
        }
    }

    /// The binary with every setting a ConnectWise source needs (codebase discovered).
    fn cmd(&self, source: &str) -> Command {
        let c = self.cw.credentials();
        let mut cmd = binary_for(&self.gradient, &self.gradient_server);
        cmd.env("SYNC_SOURCE", source)
            .env("CONNECTWISE_BASE_URL", self.cw_server.base_url())
            .env("CONNECTWISE_COMPANY_ID", c.company_id)
            .env("CONNECTWISE_PUBLIC_KEY", c.public_key)
            .env("CONNECTWISE_PRIVATE_KEY", c.private_key)
            .env("CONNECTWISE_CLIENT_ID", c.client_id)
            .env("CONNECTWISE_CONTACT_TYPES", CONTACT_TYPES)
            .env("CONNECTWISE_CONFIGURATION_TYPES", CONFIGURATION_TYPES);
        cmd
    }

    async fn run(&self, source: &str, args: &[&str]) -> std::process::Output {
        let mut cmd = self.cmd(source);
        cmd.args(args);
        run(cmd).await
    }

    /// Runs with `--output json` and expects exit 0 and one JSON document.
    async fn json_ok(&self, source: &str, args: &[&str]) -> Value {
        let mut cmd = self.cmd(source);
        cmd.args(["--output", "json"]).args(args);
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {}", stdout(&o)))
    }

    fn accounts(&self) -> BTreeSet<String> {
        self.gradient.partner().accounts.keys().cloned().collect()
    }

    /// Synthesize's last accepted count per (account, service), as whole numbers.
    fn current_counts(&self) -> BTreeMap<(String, String), u64> {
        self.gradient
            .current_counts()
            .into_iter()
            .map(|(k, v)| {
                assert_eq!(v.fract(), 0.0, "{k:?}: a count is a whole number");
                (k, v as u64)
            })
            .collect()
    }
}

// ---- The oracle: docs/contract.md §3, written as plainly as possible. ----

fn services(source: &str) -> Vec<String> {
    match source {
        CONTACTS => CONTACT_TYPES.split(',').map(|s| s.trim().into()).collect(),
        _ => vec!["Shared Devices".into(), "Not Shared Devices".into()],
    }
}

fn same_name(a: &str, b: &str) -> bool {
    let squash = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    squash(a) == squash(b)
}

/// Units per (company id, service) and each counting company's name.
fn units(
    tenant: &CwTenant,
    source: &str,
) -> (BTreeMap<(String, String), u64>, BTreeMap<String, String>) {
    let mut counts = BTreeMap::new();
    let mut names = BTreeMap::new();
    if source == CONTACTS {
        for contact in &tenant.contacts {
            let Some(company) = &contact.company else {
                continue;
            };
            if contact.inactive_flag {
                continue;
            }
            for service in services(CONTACTS) {
                if contact.types.iter().any(|t| same_name(&t.name, &service)) {
                    *counts.entry((company.id.to_string(), service)).or_insert(0) += 1;
                    names.insert(company.id.to_string(), company.name.clone());
                }
            }
        }
    } else {
        let types: Vec<&str> = CONFIGURATION_TYPES.split(',').collect();
        for c in &tenant.configurations {
            let Some(company) = &c.company else { continue };
            if !c.active_flag || !types.iter().any(|t| same_name(t, &c.kind.name)) {
                continue;
            }
            let shared = c
                .contact
                .as_ref()
                .is_some_and(|k| k.name.to_lowercase().contains("shared"));
            let service = if shared {
                "Shared Devices"
            } else {
                "Not Shared Devices"
            };
            *counts
                .entry((company.id.to_string(), service.to_string()))
                .or_insert(0) += 1;
            names.insert(company.id.to_string(), company.name.clone());
        }
    }
    (counts, names)
}

/// Every (account, service) pair that must be set, zeros included: accounts are the companies
/// with a unit plus those already in Synthesize.
fn expected_counts(
    tenant: &CwTenant,
    source: &str,
    existing: &BTreeSet<String>,
) -> BTreeMap<(String, String), u64> {
    let (counts, names) = units(tenant, source);
    let mut out = BTreeMap::new();
    for account in names.keys().chain(existing) {
        for service in services(source) {
            let n = counts
                .get(&(account.clone(), service.clone()))
                .copied()
                .unwrap_or(0);
            out.insert((account.clone(), service), n);
        }
    }
    out
}

/// Items the server-side filter selects (what paging has to get through): active, of a
/// counted type, with or without a company.
fn matching_items(tenant: &CwTenant, source: &str) -> usize {
    if source == CONTACTS {
        tenant
            .contacts
            .iter()
            .filter(|c| !c.inactive_flag)
            .filter(|c| {
                c.types
                    .iter()
                    .any(|t| services(CONTACTS).iter().any(|s| same_name(s, &t.name)))
            })
            .count()
    } else {
        tenant
            .configurations
            .iter()
            .filter(|c| c.active_flag)
            .filter(|c| {
                CONFIGURATION_TYPES
                    .split(',')
                    .any(|t| same_name(t, &c.kind.name))
            })
            .count()
    }
}

fn list_path(source: &str) -> &'static str {
    if source == CONTACTS {
        "/company/contacts?"
    } else {
        "/company/configurations?"
    }
}

/// authenticate → sync-accounts → sync-services → update-status → the partner maps some
/// accounts → sync-usage → items disappear → sync-usage again.
async fn lifecycle(source: &str) {
    let sims = Sims::start(big_tenant()).await;
    let tenant = sims.cw.tenant();
    let matching = matching_items(&tenant, source);
    assert!(matching > 2_000, "{source}: only {matching} matching items");

    let o = sims.run(source, &["authenticate"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("ConnectWise company 'northwind'"),
        "{}",
        stdout(&o)
    );

    // sync-accounts creates exactly the companies with a unit, under their PSA names.
    let report = sims.json_ok(source, &["sync-accounts"]).await;
    let (_, names) = units(&tenant, source);
    let partner = sims.gradient.partner();
    let created: BTreeMap<String, String> = partner
        .accounts
        .values()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    assert_eq!(created, names, "{report}");

    let report = sims.json_ok(source, &["sync-services"]).await;
    let skus: Vec<String> = sims
        .gradient
        .partner()
        .skus
        .iter()
        .map(|s| s.name.clone())
        .collect();
    assert_eq!(skus, services(source), "{report}");

    let o = sims.run(source, &["update-status"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sims.gradient.partner().status, "pending");

    // The partner maps every service and every other account.
    sims.gradient.map_all_services();
    let mapped: BTreeSet<String> = names.keys().step_by(2).cloned().collect();
    sims.gradient.map_accounts(mapped.iter().cloned());

    sims.cw.requests().clear();
    let report = sims.json_ok(source, &["sync-usage"]).await;
    let expected = expected_counts(&tenant, source, &sims.accounts());
    assert!(expected.values().any(|n| *n == 0), "some pair is a zero");
    common::assert_report(&report, &expected, |a| mapped.contains(a));
    let expected_mapped: BTreeMap<_, _> = expected
        .iter()
        .filter(|((a, _), _)| mapped.contains(a))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(
        sims.current_counts(),
        expected_mapped,
        "Synthesize holds the oracle's counts"
    );
    assert_eq!(
        report["summary"]["unmapped"],
        (expected.len() - expected_mapped.len())
    );
    assert_eq!(report["summary"]["failed"], 0);

    // Paging cost: one list request per 1,000 matching items, plus companyinfo and the type
    // list; past one page, one count and up to 3 id ranges, each of which may end on a part
    // page: at most 3 requests more than the minimum.
    let pages = matching.div_ceil(1_000);
    let lists = sims.cw.requests().count("GET", list_path(source));
    let counts = sims.cw.requests().count("GET", "/count");
    assert!(
        (pages..=pages + 2).contains(&lists),
        "{lists} list requests for {pages} pages"
    );
    assert_eq!(counts, usize::from(pages > 1));
    assert_eq!(sims.cw.requests().len(), lists + counts + 2);
    assert_eq!(report["requests"]["psa"], (lists + counts + 2) as u64);

    // Items of two mapped companies disappear: their pairs go to zero, the rest stay exact.
    let gone: Vec<String> = mapped.iter().take(2).cloned().collect();
    sims.cw.update_tenant(|t| {
        let keep = |c: &Option<synthesize_sims::connectwise::CwCompanyRef>| {
            !c.as_ref().is_some_and(|c| gone.contains(&c.id.to_string()))
        };
        t.contacts.retain(|x| keep(&x.company));
        t.configurations.retain(|x| keep(&x.company));
    });
    let tenant = sims.cw.tenant();
    let report = sims.json_ok(source, &["sync-usage"]).await;
    let expected = expected_counts(&tenant, source, &sims.accounts());
    let now = sims.current_counts();
    for account in &gone {
        for service in services(source) {
            assert_eq!(
                now[&(account.clone(), service.clone())],
                0,
                "{account} {service}"
            );
        }
    }
    let expected_mapped: BTreeMap<_, _> = expected
        .into_iter()
        .filter(|((a, _), _)| mapped.contains(a))
        .collect();
    assert_eq!(now, expected_mapped, "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn contacts_lifecycle_counts_exactly_across_pages() {
    lifecycle(CONTACTS).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shared_devices_lifecycle_counts_exactly_across_pages() {
    lifecycle(DEVICES).await;
}

/// Accounts and services exist and are mapped, so a run that got as far as writing would.
async fn ready_to_write(sims: &Sims, source: &str) {
    for verb in ["sync-accounts", "sync-services"] {
        let o = sims.run(source, &[verb]).await;
        assert_eq!(o.status.code(), Some(0), "{verb}: {}", stderr(&o));
    }
    sims.gradient.map_everything();
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_storms_and_transient_errors_still_count_exactly() {
    let sims = Sims::start(big_tenant()).await;
    ready_to_write(&sims, CONTACTS).await;
    let tenant = sims.cw.tenant();
    let expected = expected_counts(&tenant, CONTACTS, &sims.accounts());

    for faults in [
        FaultConfig {
            rate_429: 0.4,
            retry_after_secs: Some(1),
            ..FaultConfig::default()
        },
        FaultConfig {
            rate_500: 0.4,
            ..FaultConfig::default()
        },
    ] {
        sims.cw.requests().clear();
        sims.gradient.update_partner(|p| p.counts.clear());
        sims.cw.faults().set(faults.clone());
        let mut cmd = sims.cmd(CONTACTS);
        cmd.env("SYNC_MAX_RETRIES", "10")
            .args(["--output", "json", "sync-usage"]);
        if faults.rate_429 > 0.0 {
            // One stream, so the Retry-After waits add up and can be checked below.
            cmd.env("CONNECTWISE_READ_STREAMS", "1");
        }
        let started = Instant::now();
        let o = run(cmd).await;
        sims.cw.faults().clear();
        assert_eq!(o.status.code(), Some(0), "{faults:?}: {}", stderr(&o));
        assert_eq!(sims.current_counts(), expected, "{faults:?}");
        let log = sims.cw.requests().all();
        let status = if faults.rate_429 > 0.0 { 429 } else { 500 };
        let hits = log.iter().filter(|r| r.status == status).count();
        assert!(hits > 0, "{faults:?}: the fault fired");
        if status == 429 {
            // Retry-After: 1 was obeyed between tries.
            assert!(
                started.elapsed().as_secs_f64() >= hits as f64 * 0.9,
                "{hits} 429s in {:?}",
                started.elapsed()
            );
        }
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            report["requests"]["psa"],
            log.len() as u64,
            "retries are counted"
        );
    }
}

/// Past its first page, a read runs as `CONNECTWISE_READ_STREAMS` concurrent id ranges (3 by
/// default): with a page latency that keeps them overlapping, the server sees exactly that
/// many requests at once, and the counts stay exact; 1 reads one page after the other.
#[tokio::test(flavor = "multi_thread")]
async fn a_big_read_runs_as_concurrent_id_ranges_and_counts_exactly() {
    let sims = Sims::start(CwTenant::generate(&CwGenerateSpec {
        companies: 80,
        contacts: 20_000,
        configurations: 10,
        seed: 5,
    }))
    .await;
    let pages = matching_items(&sims.cw.tenant(), CONTACTS).div_ceil(1_000);
    // Enough pages for 3 streams, few enough to stay within the pace's burst (http::limits).
    assert!((5..=15).contains(&pages), "{pages} pages");
    ready_to_write(&sims, CONTACTS).await;
    let expected = expected_counts(&sims.cw.tenant(), CONTACTS, &sims.accounts());
    sims.cw.faults().update(|f| {
        f.route_latency = vec![(
            "/company/contacts?".into(),
            std::time::Duration::from_millis(100),
        )]
    });
    for (streams, peak) in [(None, 3), (Some("1"), 1), (Some("2"), 2)] {
        sims.cw.requests().clear();
        sims.gradient.update_partner(|p| p.counts.clear());
        let mut cmd = sims.cmd(CONTACTS);
        if let Some(n) = streams {
            cmd.env("CONNECTWISE_READ_STREAMS", n);
        }
        cmd.arg("sync-usage");
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(0), "{streams:?}: {}", stderr(&o));
        assert_eq!(sims.current_counts(), expected, "{streams:?}");
        assert_eq!(sims.cw.requests().peak_in_flight(), peak, "{streams:?}");
        assert!(sims.cw.requests().all().iter().all(|r| r.status == 200));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_that_always_fails_fails_the_run_and_writes_nothing() {
    let sims = Sims::start(big_tenant()).await;
    // (One integration per source: only contacts is set up in this one; the devices read
    // fails before anything about the integration is looked at.)
    ready_to_write(&sims, CONTACTS).await;
    sims.gradient.update_partner(|p| p.counts.clear());
    // The second and later pages carry pageId; the first page and the type list do not.
    sims.cw.faults().set(FaultConfig {
        failing_route: Some("pageId=".into()),
        ..FaultConfig::default()
    });
    for source in [CONTACTS, DEVICES] {
        for verb in ["sync-usage", "run"] {
            let o = sims.run(source, &[verb]).await;
            assert_eq!(o.status.code(), Some(1), "{source} {verb}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(err.contains("ConnectWise"), "{err}");
            assert!(err.contains("500"), "{err}");
        }
    }
    assert!(
        sims.gradient.count_calls().is_empty(),
        "no count was written"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_credentials_exit_3_and_say_what_to_check() {
    let sims = Sims::start(CwTenant::sample()).await;
    let wrong_key = "n0t-th3-r1ght-k3y";
    for style in [BadAuthStyle::Unauthorized401, BadAuthStyle::Cloud404] {
        sims.cw.set_bad_auth_style(style);
        for (source, verb) in [(CONTACTS, "authenticate"), (DEVICES, "sync-usage")] {
            let mut cmd = sims.cmd(source);
            cmd.env("CONNECTWISE_PRIVATE_KEY", wrong_key)
                .args(["-vv", verb]);
            let o = run(cmd).await;
            let all = format!("{}{}", stdout(&o), stderr(&o));
            assert_eq!(o.status.code(), Some(3), "{style:?} {verb}: {all}");
            assert!(all.contains("CONNECTWISE_PRIVATE_KEY"), "{style:?}: {all}");
            assert!(!all.contains(wrong_key), "the key never appears: {all}");
            if style == BadAuthStyle::Cloud404 {
                assert!(all.contains("404") && all.contains("codebase"), "{all}");
            }
        }
    }
    sims.cw.set_bad_auth_style(BadAuthStyle::Unauthorized401);

    // A wrong clientId is a 403.
    let mut cmd = sims.cmd(CONTACTS);
    cmd.env(
        "CONNECTWISE_CLIENT_ID",
        "00000000-0000-0000-0000-000000000000",
    )
    .arg("authenticate");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("CONNECTWISE_CLIENT_ID"),
        "{}",
        stderr(&o)
    );

    // An unknown company id: companyinfo answers null.
    let mut cmd = sims.cmd(CONTACTS);
    cmd.env("CONNECTWISE_COMPANY_ID", "southwind")
        .arg("authenticate");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("CONNECTWISE_COMPANY_ID"),
        "{}",
        stderr(&o)
    );
    assert!(sims.gradient.count_calls().is_empty());
}

/// At trace level, with every library logging, neither key nor the Basic token they make
/// appears anywhere in the output.
#[tokio::test(flavor = "multi_thread")]
async fn no_connectwise_secret_in_output_at_trace() {
    use base64::Engine;
    let sims = Sims::start(CwTenant::sample()).await;
    let c = sims.cw.credentials();
    let token = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}+{}:{}",
        c.company_id, c.public_key, c.private_key
    ));
    for verb in ["authenticate", "sync-usage"] {
        let mut cmd = sims.cmd(CONTACTS);
        cmd.env("RUST_LOG", "trace").args(["-vv", verb]);
        let o = run(cmd).await;
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(all.contains("apis/3.0/"), "trace logs were printed: {all}");
        for secret in [&c.public_key, &c.private_key, &token] {
            assert!(!all.contains(secret.as_str()), "{verb} leaked a secret");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misspelt_type_exits_2_listing_the_tenants_types() {
    let sims = Sims::start(CwTenant::sample()).await;
    let mut cmd = sims.cmd(CONTACTS);
    cmd.env("CONNECTWISE_CONTACT_TYPES", "Billed Users")
        .arg("sync-usage");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("CONNECTWISE_CONTACT_TYPES") && err.contains("'Billed Users'"),
        "{err}"
    );
    assert!(
        err.contains("'Billed User'") && err.contains("'VIP'"),
        "lists the tenant's: {err}"
    );

    let mut cmd = sims.cmd(DEVICES);
    cmd.env("CONNECTWISE_CONFIGURATION_TYPES", "License,Licence")
        .arg("sync-accounts");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("CONNECTWISE_CONFIGURATION_TYPES"),
        "{}",
        stderr(&o)
    );
    assert!(sims.gradient.partner().accounts.is_empty());
    assert_eq!(
        sims.cw.requests().count("GET", "/company/contacts?")
            + sims.cw.requests().count("GET", "/company/configurations?"),
        0,
        "no item was read with an unresolved type"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_writes_nothing_and_json_has_the_contract_shape() {
    let sims = Sims::start(big_tenant()).await;
    let tenant = sims.cw.tenant();

    let report = sims.json_ok(DEVICES, &["sync-accounts", "--dry-run"]).await;
    assert_eq!(report["dry_run"], true);
    assert!(!report["created"].as_array().unwrap().is_empty());
    assert!(sims.gradient.partner().accounts.is_empty());

    let report = sims.json_ok(DEVICES, &["sync-usage", "--dry-run"]).await;
    assert!(sims.gradient.count_calls().is_empty());
    assert!(sims.gradient.partner().accounts.is_empty());
    assert_eq!(report["source"], DEVICES);
    assert_eq!(report["dry_run"], true);
    let expected = expected_counts(&tenant, DEVICES, &BTreeSet::new());
    let got = common::report_rows(&report);
    assert_eq!(got.len(), expected.len());
    // No account exists yet: the dry run predicts the real run (issue 12 §3).
    for (k, n) in &expected {
        assert_eq!(got[k], (*n, "missing-account".to_string()), "{k:?}");
    }
    for row in report["counts"].as_array().unwrap() {
        for key in ["account_id", "account_name", "service", "count", "result"] {
            assert!(!row[key].is_null(), "{key} in {row}");
        }
        assert!(row["account_id"].is_string(), "ids are strings: {row}");
    }
    for key in ["set", "unmapped", "failed", "planned"] {
        assert!(report["summary"][key].is_u64(), "summary.{key}");
    }
    assert_eq!(report["summary"]["missing_account"], expected.len() as u64);
    assert!(report["requests"]["psa"].as_u64().unwrap() >= 3);
    assert!(report["requests"]["gradient"].is_u64());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_codebase_skips_companyinfo() {
    let sims = Sims::start(CwTenant::sample()).await;
    let mut cmd = sims.cmd(CONTACTS);
    cmd.env(
        "CONNECTWISE_CODEBASE",
        sims.cw.codebase().trim_end_matches('/'),
    )
    .args(["--output", "json", "sync-accounts", "--dry-run"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sims.cw.requests().count("GET", "/login/companyinfo"), 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["requests"]["psa"], 2, "the type list and one page");

    // A wrong one is reported like refused credentials, naming the codebase.
    let mut cmd = sims.cmd(CONTACTS);
    cmd.env("CONNECTWISE_CODEBASE", "v2019_1")
        .arg("authenticate");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("v2019_1/"), "{}", stderr(&o));
}

// ---- A misbehaving server the simulator does not model: broken next links. ----

/// Serves companyinfo, the contact types and one contacts page whose `Link` points at `next`
/// (`{base}` is replaced by the server's own URL).
async fn broken_paging_server(next: &'static str) -> RunningServer {
    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::response::IntoResponse;
    use axum::routing::get;

    let router = axum::Router::new()
        .route(
            "/login/companyinfo/{company}",
            get(|| async { axum::Json(serde_json::json!({"Codebase": "v2025_1/"})) }),
        )
        .route(
            "/v2025_1/apis/3.0/company/contacts/types",
            get(|| async {
                (
                    [("link", "")],
                    axum::Json(serde_json::json!([{"id": 4, "description": "Billed User"}])),
                )
            }),
        )
        .route(
            "/v2025_1/apis/3.0/company/contacts",
            get(
                |State(next): State<&'static str>, headers: HeaderMap| async move {
                    let host = headers["host"].to_str().unwrap().to_string();
                    let link = format!(
                        "<{}>; rel=\"next\"",
                        next.replace("{base}", &format!("http://{host}"))
                    );
                    let page = serde_json::json!([{"id": 1, "inactiveFlag": false,
                    "company": {"id": 250, "name": "Contoso"},
                    "types": [{"id": 4, "name": "Billed User"}]}]);
                    ([("link", link)], axum::Json(page)).into_response()
                },
            ),
        )
        .with_state(next);
    synthesize_sims::serve(router, synthesize_sims::loopback())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn next_links_that_repeat_or_leave_the_host_fail_the_read() {
    let (gradient, gradient_server) = common::gradient().await;
    for (next, says) in [
        (
            "{base}/v2025_1/apis/3.0/company/contacts?fields=id,types/name&pageId=1",
            "repeat",
        ),
        (
            "http://elsewhere.example/v2025_1/apis/3.0/company/contacts?pageId=1",
            "points at http://elsewhere.example, not at",
        ),
    ] {
        let server = broken_paging_server(next).await;
        let mut cmd = binary_for(&gradient, &gradient_server);
        cmd.env("SYNC_SOURCE", CONTACTS)
            .env("CONNECTWISE_BASE_URL", server.base_url())
            .env("CONNECTWISE_COMPANY_ID", "northwind")
            .env("CONNECTWISE_PUBLIC_KEY", "pub")
            .env("CONNECTWISE_PRIVATE_KEY", "priv")
            .env(
                "CONNECTWISE_CLIENT_ID",
                "3f2a9c1e-8b7d-4e6f-a5c4-2d1b0e9f8a7c",
            )
            .arg("sync-usage");
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(1), "{next}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{next}: {}", stderr(&o));
    }
    assert!(gradient.count_calls().is_empty());
}

/// Issue 4 §6: the cost of a 20,000-contact tenant. Run with
/// `cargo test --test connectwise_e2e -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a check; prints request counts and timings"]
async fn measure_a_20000_contact_tenant() {
    let sims = Sims::start(CwTenant::generate(&CwGenerateSpec::default())).await;
    let tenant = sims.cw.tenant();
    ready_to_write(&sims, CONTACTS).await;
    let mut cmd = sims.cmd(CONTACTS);
    cmd.args(["-v", "sync-accounts", "--dry-run"]);
    let o = run(cmd).await;
    let read_line = stderr(&o)
        .lines()
        .find(|l| l.contains("ConnectWise contacts in"))
        .unwrap_or_default()
        .to_string();
    sims.cw.requests().clear();
    let started = Instant::now();
    let report = sims.json_ok(CONTACTS, &["sync-usage"]).await;
    let took = started.elapsed();
    let expected = expected_counts(&tenant, CONTACTS, &sims.accounts());
    assert_eq!(sims.current_counts(), expected);
    println!(
        "20,000 contacts ({} matching, {} companies with units): sync-usage took {:.2} s; \
         requests: ConnectWise {}, Gradient {}; pairs written {}\nthe read alone: {read_line}",
        matching_items(&tenant, CONTACTS),
        units(&tenant, CONTACTS).1.len(),
        took.as_secs_f64(),
        report["requests"]["psa"],
        report["requests"]["gradient"],
        expected.len()
    );
}
