//! The built binary against the Autotask and Gradient simulators, source
//! `autotask-configuration-items`, end to end.
//!
//! Expected counts come from a plain oracle over the simulator's tenant written here
//! (docs/contract.md §3 spelled out again, not the plan code), and are compared with what the
//! Gradient simulator holds, zeros included.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use assert_cmd::Command;
use serde_json::Value;
use synthesize_sims::RunningServer;
use synthesize_sims::autotask::{AtGenerateSpec, AtTenant, AutotaskSim};
use synthesize_sims::gradient::GradientSim;

use common::{binary_for, gradient, run, stderr, stdout};

type Counts = BTreeMap<(String, String), u64>;

const SOURCE: &str = "autotask-configuration-items";

// ---------------------------------------------------------------------------------------
// Test helpers

/// Which types make a service, as the test states it (independently of the settings
/// parser): a list of type names, or every type no other service lists, less some.
enum Types {
    Listed(&'static [&'static str]),
    Rest { except: &'static [&'static str] },
}

/// A service grouping: its `AUTOTASK_SERVICES` text (None: the default) and its meaning.
struct Grouping {
    env: Option<&'static str>,
    services: Vec<(&'static str, Types)>,
}

fn default_grouping() -> Grouping {
    Grouping {
        env: None,
        services: vec![
            (
                "Managed Workstations",
                Types::Listed(&["Desktop", "Laptop"]),
            ),
            ("Managed Servers", Types::Listed(&["Server"])),
            (
                "Network Devices",
                Types::Rest {
                    except: &["ESXi Host"],
                },
            ),
        ],
    }
}

fn custom_grouping() -> Grouping {
    Grouping {
        env: Some(
            "Workstations=Desktop+Laptop+legacy  workstation, Network=Firewall+Switch+Network Switch, \
             Phones=Mobile Device, Other=*-Printer-UPS",
        ),
        services: vec![
            (
                "Workstations",
                Types::Listed(&["Desktop", "Laptop", "Legacy Workstation"]),
            ),
            (
                "Network",
                Types::Listed(&["Firewall", "Switch", "Network Switch"]),
            ),
            ("Phones", Types::Listed(&["Mobile Device"])),
            (
                "Other",
                Types::Rest {
                    except: &["Printer", "UPS"],
                },
            ),
        ],
    }
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl Grouping {
    fn names(&self) -> Vec<String> {
        self.services.iter().map(|(n, _)| n.to_string()).collect()
    }

    /// The service of a type name, if any.
    fn service_of(&self, type_name: &str) -> Option<&'static str> {
        let t = norm(type_name);
        for (service, types) in &self.services {
            if let Types::Listed(names) = types
                && names.iter().any(|n| norm(n) == t)
            {
                return Some(service);
            }
        }
        self.services
            .iter()
            .find_map(|(service, types)| match types {
                Types::Rest { except } if !except.iter().any(|n| norm(n) == t) => Some(*service),
                _ => None,
            })
    }
}

/// Units per (company id, service): active items with a company whose type exists in the
/// tenant's type list and belongs to a service. Only non-zero pairs.
fn oracle(tenant: &AtTenant, g: &Grouping) -> Counts {
    let type_names: BTreeMap<i64, &str> = tenant
        .configuration_item_types
        .iter()
        .map(|t| (t.id, t.name.as_str()))
        .collect();
    let mut out = Counts::new();
    for item in &tenant.configuration_items {
        if !item.is_active {
            continue;
        }
        let Some(company) = item.company_id else {
            continue;
        };
        let Some(name) = item
            .configuration_item_type
            .and_then(|t| type_names.get(&t))
        else {
            continue;
        };
        if let Some(service) = g.service_of(name) {
            *out.entry((company.to_string(), service.to_string()))
                .or_default() += 1;
        }
    }
    out
}

/// Every (account, service) pair of the accounts in `counts` plus `more_accounts`, with
/// zeros where there are no units.
fn full_grid(counts: &Counts, g: &Grouping, more_accounts: &BTreeSet<String>) -> Counts {
    let mut accounts: BTreeSet<String> = counts.keys().map(|(a, _)| a.clone()).collect();
    accounts.extend(more_accounts.iter().cloned());
    let mut out = Counts::new();
    for a in accounts {
        for s in g.names() {
            let n = counts.get(&(a.clone(), s.clone())).copied().unwrap_or(0);
            out.insert((a.clone(), s), n);
        }
    }
    out
}

/// Active items the CI query returns: of a type that belongs to a service (with or
/// without a company).
fn matching_items(tenant: &AtTenant, g: &Grouping) -> usize {
    let counted: BTreeSet<i64> = tenant
        .configuration_item_types
        .iter()
        .filter(|t| g.service_of(&t.name).is_some())
        .map(|t| t.id)
        .collect();
    tenant
        .configuration_items
        .iter()
        .filter(|i| {
            i.is_active
                && i.configuration_item_type
                    .is_some_and(|t| counted.contains(&t))
        })
        .count()
}

/// Active items whose type is null or not in the type list.
fn unknown_type_items(tenant: &AtTenant) -> u64 {
    let known: BTreeSet<i64> = tenant
        .configuration_item_types
        .iter()
        .map(|t| t.id)
        .collect();
    tenant
        .configuration_items
        .iter()
        .filter(|i| {
            i.is_active
                && !i
                    .configuration_item_type
                    .is_some_and(|t| known.contains(&t))
        })
        .count() as u64
}

fn current(g: &GradientSim) -> Counts {
    g.current_counts()
        .into_iter()
        .map(|(k, v)| {
            assert!(v >= 0.0 && v.fract() == 0.0, "{k:?}: {v}");
            (k, v as u64)
        })
        .collect()
}

struct World {
    gradient: GradientSim,
    gradient_server: RunningServer,
    autotask: AutotaskSim,
    autotask_server: RunningServer,
}

impl World {
    async fn start(tenant: AtTenant) -> World {
        let (gradient, gradient_server) = gradient().await;
        let autotask = AutotaskSim::new(tenant);
        let autotask_server = autotask
            .start()
            .await
            .expect("start the Autotask simulator");
        World {
            gradient,
            gradient_server,
            autotask,
            autotask_server,
        }
    }

    fn zone(&self) -> String {
        format!("{}/ATServicesRest/", self.autotask_server.base_url())
    }

    /// The binary with Gradient and Autotask settings, zone given (no discovery).
    fn cmd(&self, g: &Grouping) -> Command {
        let mut cmd = self.cmd_without_zone(g);
        cmd.env("AUTOTASK_BASE_URL", self.zone());
        cmd
    }

    fn cmd_without_zone(&self, g: &Grouping) -> Command {
        let c = self.autotask.credentials();
        let mut cmd = binary_for(&self.gradient, &self.gradient_server);
        cmd.env("SYNC_SOURCE", SOURCE)
            .env("AUTOTASK_USERNAME", c.username)
            .env("AUTOTASK_SECRET", c.secret)
            .env("AUTOTASK_INTEGRATION_CODE", c.integration_code);
        if let Some(services) = g.env {
            cmd.env("AUTOTASK_SERVICES", services);
        }
        cmd
    }

    /// Runs `args`; asserts the exit code; returns the output.
    async fn ok(&self, g: &Grouping, args: &[&str]) -> std::process::Output {
        let mut cmd = self.cmd(g);
        cmd.args(args);
        let o = run(cmd).await;
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}\nstdout: {}\nstderr: {}",
            stdout(&o),
            stderr(&o)
        );
        o
    }

    async fn json(&self, g: &Grouping, args: &[&str]) -> Value {
        let mut full = vec!["--output", "json"];
        full.extend_from_slice(args);
        let o = self.ok(g, &full).await;
        serde_json::from_slice(&o.stdout).expect("one JSON document on stdout")
    }
}

fn big_tenant(items: usize) -> AtTenant {
    AtTenant::generate(&AtGenerateSpec {
        companies: 60,
        items,
        seed: 11,
    })
}

// ---------------------------------------------------------------------------------------
// The lifecycle

async fn lifecycle(g: Grouping) {
    let w = World::start(big_tenant(3_000)).await;
    let tenant = w.autotask.tenant();
    let expected = oracle(&tenant, &g);
    let matching = matching_items(&tenant, &g);
    assert!(
        matching > 1_000,
        "the test must cross page boundaries: {matching}"
    );
    assert!(
        expected.keys().any(|(a, _)| a == "0"),
        "the tenant has counted items at company 0"
    );

    // authenticate: both sides, and who we are on Autotask.
    let o = w.ok(&g, &["authenticate"]).await;
    assert!(
        stdout(&o).contains("Autotask API user"),
        "the text names the Autotask user: {}",
        stdout(&o)
    );
    let creds = w.autotask.credentials();
    let v = w.json(&g, &["authenticate"]).await;
    let connected = v["psa"]["connected_as"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        connected.starts_with(&format!(
            "Autotask API user {} in zone {}",
            creds.username,
            w.zone()
        )),
        "{connected}"
    );
    assert!(connected.contains("requests used this hour"), "{connected}");

    // sync-accounts: one account per company with counted items, named as in Autotask.
    let v = w.json(&g, &["sync-accounts"]).await;
    let created: BTreeSet<String> = v["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let companies: BTreeSet<String> = expected.keys().map(|(a, _)| a.clone()).collect();
    assert_eq!(created, companies);
    let partner = w.gradient.partner();
    for c in &tenant.companies {
        if let Some(a) = partner.accounts.get(&c.id.to_string()) {
            assert_eq!(
                a.name, c.company_name,
                "account {} is named as in Autotask",
                c.id
            );
        }
    }
    assert!(
        partner.accounts.contains_key("0"),
        "company 0 is an account"
    );

    // sync-services and update-status.
    w.ok(&g, &["sync-services"]).await;
    let skus: Vec<String> = w
        .gradient
        .partner()
        .skus
        .iter()
        .map(|s| s.name.clone())
        .collect();
    assert_eq!(skus, g.names());
    w.ok(&g, &["update-status", "active"]).await;
    assert_eq!(w.gradient.partner().status, "active");

    // The partner maps some accounts: those are set, the others reported unmapped.
    let some: Vec<String> = companies.iter().step_by(3).cloned().collect();
    w.gradient.map_accounts(some.clone());
    w.gradient.map_all_services();
    w.autotask.requests().clear();
    let v = w.json(&g, &["sync-usage"]).await;
    let at_requests = w.autotask.requests().all();
    let grid = full_grid(&expected, &g, &BTreeSet::new());
    common::assert_report(&v, &grid, |a| some.iter().any(|s| s == a));
    let mapped_grid: Counts = grid
        .iter()
        .filter(|((a, _), _)| some.contains(a))
        .map(|(k, n)| (k.clone(), *n))
        .collect();
    assert_eq!(current(&w.gradient), mapped_grid);

    // Contract §5 shape.
    assert_eq!(v["source"], SOURCE);
    assert_eq!(v["dry_run"], false);
    let summary = &v["summary"];
    assert_eq!(summary["set"].as_u64().unwrap() as usize, mapped_grid.len());
    assert_eq!(
        summary["unmapped"].as_u64().unwrap() as usize,
        grid.len() - mapped_grid.len()
    );
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["planned"], 0);
    for r in v["counts"].as_array().unwrap() {
        assert!(
            r["account_id"].is_string() && r["account_name"].is_string(),
            "{r}"
        );
        assert!(r["service"].is_string() && r["count"].is_u64(), "{r}");
    }
    assert_eq!(
        v["read"]["not_counted"]["unknown_type"]
            .as_u64()
            .unwrap_or(0),
        unknown_type_items(&tenant),
        "items of a missing or unknown type are reported"
    );

    // Requests: one query page per 500 matching items, plus types, the budget check's count
    // of the items, the unknown-type count and the company names; each query page POSTed
    // (never a GET on the next URL). After the first page the read runs as up to 3 id
    // ranges, each of which may end on a part page: at most 2 pages more than the minimum.
    let queries = at_requests
        .iter()
        .filter(|r| r.method == "POST" && r.uri.contains("/query"))
        .count();
    let pages = matching.div_ceil(500);
    let company_batches = companies.len().div_ceil(500);
    let minimum = pages + 3 + company_batches;
    let listing = || {
        at_requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.uri))
            .collect::<Vec<_>>()
    };
    assert!(
        (minimum..=minimum + 2).contains(&queries),
        "{matching} matching items, {queries} queries for a minimum of {minimum}: {:#?}",
        listing()
    );
    let ranges = at_requests
        .iter()
        .filter(|r| r.method == "POST" && r.uri.ends_with("/ConfigurationItems/query"))
        .count();
    assert!(
        (1..=3).contains(&ranges),
        "at most 3 concurrent streams: {ranges}"
    );
    assert!(
        at_requests.iter().all(|r| r.status == 200),
        "no refused request"
    );
    assert!(
        !at_requests
            .iter()
            .any(|r| r.method == "GET" && r.uri.contains("/query"))
    );
    assert_eq!(
        at_requests
            .iter()
            .filter(|r| r.uri.contains("ThresholdInformation"))
            .count(),
        1,
        "the threshold is checked once, first"
    );
    assert!(at_requests[0].uri.contains("ThresholdInformation"));
    assert_eq!(
        v["requests"]["psa"].as_u64().unwrap() as usize,
        at_requests.len()
    );
    assert!(v["requests"]["gradient"].as_u64().unwrap() > 0);

    // Everything mapped: every pair set to the oracle's count, zeros included.
    w.gradient.map_everything();
    w.json(&g, &["sync-usage"]).await;
    assert_eq!(current(&w.gradient), grid);
    assert!(grid.values().any(|n| *n == 0), "the grid has zeros to set");
    assert!(grid.keys().any(|(a, _)| a == "0"));

    // Items disappear: a removed company's counts go to zero, the others stay exact.
    let gone: BTreeSet<i64> = companies
        .iter()
        .filter(|a| *a != "0")
        .take(4)
        .map(|a| a.parse().unwrap())
        .collect();
    w.autotask.update_tenant(|t| {
        t.configuration_items
            .retain(|i| !i.company_id.is_some_and(|c| gone.contains(&c)))
    });
    let after = oracle(&w.autotask.tenant(), &g);
    w.json(&g, &["sync-usage"]).await;
    let now = current(&w.gradient);
    assert_eq!(now, full_grid(&after, &g, &companies));
    for c in &gone {
        for s in g.names() {
            assert_eq!(now[&(c.to_string(), s)], 0, "company {c} has nothing left");
        }
    }
}

#[tokio::test]
async fn lifecycle_with_default_services() {
    lifecycle(default_grouping()).await;
}

#[tokio::test]
async fn lifecycle_with_custom_grouping() {
    lifecycle(custom_grouping()).await;
}

#[tokio::test]
async fn a_type_the_tenant_lacks_in_explicit_services_exits_2_before_any_write() {
    let g = custom_grouping();
    let w = World::start(AtTenant::sample()).await;
    let mut cmd = w.cmd(&g);
    cmd.env("AUTOTASK_SERVICES", "Desktop,Laptop,Serverr")
        .arg("run");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("AUTOTASK_SERVICES") && err.contains("'Serverr'") && err.contains("Server"),
        "the typo and the tenant's types are named: {err}"
    );
    assert!(w.gradient.partner().skus.is_empty(), "no service created");
    assert!(w.gradient.count_calls().is_empty(), "no count written");
}

#[tokio::test]
async fn run_verb_does_it_all_from_one_read() {
    let g = custom_grouping();
    let w = World::start(AtTenant::sample()).await;
    let mut cmd = w.cmd(&g);
    cmd.args(["--output", "json", "run"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        w.autotask.requests().count("GET", "ThresholdInformation"),
        1,
        "one read"
    );
    w.gradient.map_everything();
    w.json(&g, &["sync-usage"]).await;
    let expected = oracle(&w.autotask.tenant(), &g);
    assert_eq!(
        current(&w.gradient),
        full_grid(&expected, &g, &BTreeSet::new())
    );
    assert!(expected.keys().any(|(a, _)| a == "0"));
}

// ---------------------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn storms_of_429_and_500_still_give_exact_counts() {
    let g = default_grouping();
    let w = World::start(big_tenant(1_600)).await;
    w.ok(&g, &["sync-accounts"]).await;
    w.ok(&g, &["sync-services"]).await;
    w.gradient.map_everything();
    w.autotask.faults().update(|f| {
        f.rate_429 = 0.25;
        f.rate_500 = 0.25;
    });
    let mut cmd = w.cmd(&g);
    cmd.env("SYNC_MAX_RETRIES", "10")
        .args(["--output", "json", "sync-usage"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = w.autotask.requests().all();
    assert!(log.iter().any(|r| r.status == 429), "the storm happened");
    assert!(log.iter().any(|r| r.status == 500), "the storm happened");
    let expected = oracle(&w.autotask.tenant(), &g);
    assert_eq!(
        current(&w.gradient),
        full_grid(&expected, &g, &BTreeSet::new())
    );
}

#[tokio::test]
async fn a_page_that_always_fails_fails_the_run_and_writes_nothing() {
    let g = default_grouping();
    let w = World::start(big_tenant(1_600)).await;
    w.ok(&g, &["sync-services"]).await;
    w.autotask
        .faults()
        .update(|f| f.failing_route = Some("ConfigurationItems/query/next".into()));
    for verb in ["sync-usage", "run", "sync-accounts"] {
        let mut cmd = w.cmd(&g);
        cmd.arg(verb);
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(1), "{verb}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("ConfigurationItems"), "{verb}: {err}");
        assert!(err.contains("500"), "{verb}: {err}");
    }
    assert!(w.gradient.count_calls().is_empty(), "no count written");
    assert!(
        w.gradient.partner().accounts.is_empty(),
        "no account written"
    );
}

/// A run that would take the tenant's hourly usage past AUTOTASK_MAX_SHARE is refused before
/// it reads any item (exit 7), saying what is used and when to retry; a higher share lets it
/// run.
#[tokio::test]
async fn a_run_that_would_pass_the_max_share_is_refused_before_reading() {
    let g = default_grouping();
    let w = World::start(AtTenant::sample()).await;
    // 57 items: 3 requests used when the budget is checked, about 3 more to read;
    // 80% of 7 is 5.
    w.autotask.set_hourly_threshold(7);
    let mut cmd = w.cmd(&g);
    cmd.args(["--output", "json", "run"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["refused"]["guard"], "autotask_budget", "{v}");
    assert_eq!(v["side"], "autotask", "{v}");
    let err = stderr(&o);
    assert!(
        err.contains("AUTOTASK_MAX_SHARE=80%") && err.contains("age out"),
        "{err}"
    );
    assert!(
        !w.autotask
            .requests()
            .all()
            .iter()
            .any(|r| r.uri.contains("ConfigurationItems/query") && !r.uri.contains("count")),
        "no item was read"
    );
    assert!(w.gradient.count_calls().is_empty());
    assert!(w.gradient.partner().accounts.is_empty());

    w.autotask.reset_threshold_usage();
    w.autotask.set_hourly_threshold(1_000);
    let mut cmd = w.cmd(&g);
    cmd.env("AUTOTASK_MAX_SHARE", "100").arg("run");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[tokio::test]
async fn threshold_share_is_reported_and_warned_about_above_half() {
    let g = default_grouping();
    let w = World::start(AtTenant::sample()).await;
    // authenticate costs two requests: ThresholdInformation, and the type list its names
    // are checked against.
    w.autotask.set_hourly_threshold(6);
    for _ in 0..2 {
        w.ok(&g, &["authenticate"]).await;
    }
    let o = w.ok(&g, &["--output", "json", "authenticate"]).await;
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let connected = v["psa"]["connected_as"].as_str().unwrap_or_default();
    assert!(
        connected.ends_with("(5 of 6 requests used this hour)"),
        "{connected}"
    );
    let err = stderr(&o);
    assert!(
        err.contains("WARN") && err.contains("5 of 6 requests"),
        "{err}"
    );
}

#[tokio::test]
async fn doctor_shows_the_threshold_share() {
    let g = default_grouping();
    let w = World::start(AtTenant::sample()).await;
    w.autotask.set_hourly_threshold(1_000_000);
    let mut cmd = w.cmd(&g);
    cmd.args(["--output", "json", "doctor"]);
    let o = run(cmd).await;
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "API threshold")
        .cloned()
        .unwrap_or_default();
    assert_eq!(check["status"], "ok", "{v}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("of 1000000 requests used in the last 60 minutes"),
        "{check}"
    );
}

// ---------------------------------------------------------------------------------------
// Zone discovery and credentials

/// The zone lives on another origin than discovery, as on the real service (docs/apis.md
/// §3.1), and the discovery origin serves no API: a client that ignored the discovered zone or
/// moved a `nextPageUrl` would fail. A read of 6,000 items runs as 3 concurrent id ranges
/// under Autotask's limit of 3 requests in flight per entity (§3.7), with a page latency that
/// keeps them overlapping: counts exact, no request refused, never more than 3 in flight, and
/// at most 2 pages more than the minimum.
#[tokio::test]
async fn a_big_read_runs_as_three_id_ranges_on_the_discovered_zone() {
    let g = default_grouping();
    let (gradient, gradient_server) = gradient().await;
    let autotask = AutotaskSim::new(big_tenant(6_000));
    let servers = autotask.start_split().await.expect("start Autotask");
    let discovery = format!("{}/ATServicesRest/", servers.discovery.base_url());
    autotask.faults().update(|f| {
        f.route_latency = vec![("/query".into(), std::time::Duration::from_millis(30))]
    });
    let w = World {
        gradient,
        gradient_server,
        autotask,
        autotask_server: servers.zone,
    };
    let go = |verb: &'static str| {
        let mut cmd = w.cmd_without_zone(&g);
        cmd.env("AUTOTASK_DISCOVERY_URL", &discovery)
            .args(["--output", "json", verb]);
        cmd
    };
    let o = run(go("run")).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    w.gradient.map_everything();
    w.autotask.requests().clear();
    let o = run(go("sync-usage")).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected = oracle(&w.autotask.tenant(), &g);
    assert_eq!(
        current(&w.gradient),
        full_grid(&expected, &g, &BTreeSet::new())
    );
    let log = w.autotask.requests().all();
    assert!(log.iter().all(|r| r.status == 200), "{log:#?}");
    assert_eq!(w.autotask.peak_in_flight("ConfigurationItems"), 3);
    let matching = matching_items(&w.autotask.tenant(), &g);
    let pages = log
        .iter()
        .filter(|r| r.uri.contains("ConfigurationItems/query") && !r.uri.contains("count"))
        .count();
    assert!(
        pages >= matching.div_ceil(500) && pages <= matching.div_ceil(500) + 2,
        "{pages} pages for about {matching} items"
    );
}

#[tokio::test]
async fn zone_is_discovered_when_no_base_url_is_set() {
    let g = default_grouping();
    let w = World::start(AtTenant::sample()).await;
    let mut cmd = w.cmd_without_zone(&g);
    cmd.env("AUTOTASK_DISCOVERY_URL", w.zone())
        .args(["--output", "json", "run"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        w.autotask.requests().count("GET", "zoneInformation"),
        1,
        "discovered once for the run"
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["requests"]["psa"].as_u64().unwrap() as usize,
        w.autotask.requests().len(),
        "discovery counts as a PSA request"
    );
    w.gradient.map_everything();
    let mut cmd = w.cmd_without_zone(&g);
    cmd.env("AUTOTASK_DISCOVERY_URL", w.zone())
        .arg("sync-usage");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected = oracle(&w.autotask.tenant(), &g);
    assert_eq!(
        current(&w.gradient),
        full_grid(&expected, &g, &BTreeSet::new())
    );

    // An unknown user: exit 3 naming AUTOTASK_USERNAME.
    let mut cmd = w.cmd_without_zone(&g);
    cmd.env("AUTOTASK_DISCOVERY_URL", w.zone())
        .env("AUTOTASK_USERNAME", "nobody@example.com")
        .arg("authenticate");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("AUTOTASK_USERNAME") && err.contains("zone"),
        "{err}"
    );
}

#[tokio::test]
async fn refused_credentials_exit_3_in_both_shapes_without_leaking_them() {
    let g = default_grouping();
    let w = World::start(AtTenant::sample()).await;
    let creds = w.autotask.credentials();
    for (variable, value, status) in [
        ("AUTOTASK_SECRET", "wr0ng-s3cret-value", 401),
        ("AUTOTASK_USERNAME", "someone-else@example.com", 500),
        ("AUTOTASK_INTEGRATION_CODE", "WRONGCODE1234567890", 500),
    ] {
        for verb in ["authenticate", "sync-usage"] {
            w.autotask.requests().clear();
            let mut cmd = w.cmd(&g);
            cmd.env(variable, value).args(["-vv", verb]);
            let o = run(cmd).await;
            assert_eq!(
                o.status.code(),
                Some(3),
                "{variable} {verb}: {}",
                stderr(&o)
            );
            let err = stderr(&o);
            let message = err.lines().last().unwrap_or_default();
            for setting in [
                "AUTOTASK_USERNAME",
                "AUTOTASK_SECRET",
                "AUTOTASK_INTEGRATION_CODE",
            ] {
                assert!(message.contains(setting), "{variable}: {message}");
            }
            assert!(message.contains("zone"), "{message}");
            assert!(message.contains(&status.to_string()), "{message}");
            let all = format!("{}{}", stdout(&o), err);
            for secret in [creds.secret.as_str(), creds.integration_code.as_str()] {
                assert!(!all.contains(secret), "{variable}: a credential leaked");
            }
            if variable != "AUTOTASK_USERNAME" {
                assert!(!all.contains(value), "{variable}: the wrong value leaked");
            }
            // Refusals are not retried: they would only eat the tenant's threshold.
            assert_eq!(w.autotask.requests().len(), 1, "{variable} {verb}");
        }
    }
    assert!(w.gradient.count_calls().is_empty());
}

#[tokio::test]
async fn no_credential_in_output_at_trace() {
    let g = default_grouping();
    let w = World::start(AtTenant::sample()).await;
    let creds = w.autotask.credentials();
    let mut cmd = w.cmd(&g);
    cmd.env("RUST_LOG", "trace")
        .args(["-vv", "sync-usage", "--dry-run"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        all.contains("ConfigurationItems/query"),
        "trace logs were printed"
    );
    assert!(!all.contains(&creds.secret));
    assert!(!all.contains(&creds.integration_code));
}

// ---------------------------------------------------------------------------------------
// Settings and dry run

#[tokio::test]
async fn dry_run_reads_everything_and_writes_nothing() {
    let g = default_grouping();
    let w = World::start(AtTenant::sample()).await;
    let v = w.json(&g, &["sync-usage", "--dry-run"]).await;
    assert_eq!(v["dry_run"], true);
    let expected = full_grid(&oracle(&w.autotask.tenant(), &g), &g, &BTreeSet::new());
    let rows = common::report_rows(&v);
    assert_eq!(
        rows.iter()
            .map(|(k, (n, _))| (k.clone(), *n))
            .collect::<Counts>(),
        expected
    );
    // No account exists yet: the dry run predicts what a real sync-usage would do.
    assert!(rows.values().all(|(_, r)| r == "missing-account"));
    assert_eq!(
        v["summary"]["missing_account"].as_u64().unwrap() as usize,
        expected.len()
    );
    w.ok(&g, &["sync-accounts", "--dry-run"]).await;
    w.ok(&g, &["run", "--dry-run"]).await;
    let partner = w.gradient.partner();
    assert!(partner.counts.is_empty() && partner.accounts.is_empty() && partner.skus.is_empty());
    assert!(
        !w.gradient
            .requests()
            .all()
            .iter()
            .any(|r| r.method != "GET"),
        "only reads were sent to Gradient"
    );
}

#[tokio::test]
async fn services_naming_no_type_of_the_tenant_are_a_settings_error() {
    let g = Grouping {
        env: Some("Toasters=Toaster+Kettle"),
        services: vec![],
    };
    let w = World::start(AtTenant::sample()).await;
    let mut cmd = w.cmd(&g);
    cmd.arg("sync-usage");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("AUTOTASK_SERVICES") && err.contains("Toaster"),
        "{err}"
    );
    assert!(
        err.contains("Desktop") && err.contains("ESXi Host"),
        "lists the tenant's types: {err}"
    );
    assert!(w.gradient.count_calls().is_empty());
}

// ---------------------------------------------------------------------------------------
// Measurement (run by hand: cargo test --test autotask_e2e -- --ignored --nocapture)

#[tokio::test]
#[ignore = "measurement: 50,000 items"]
async fn measure_fifty_thousand_items() {
    let g = default_grouping();
    let w = World::start(AtTenant::generate(&AtGenerateSpec::default())).await;
    w.ok(&g, &["sync-accounts"]).await;
    w.ok(&g, &["sync-services"]).await;
    w.gradient.map_everything();
    // The read alone (a dry run writes nothing; its Gradient side is one accounts read).
    let started = Instant::now();
    let dry = w.json(&g, &["sync-usage", "--dry-run"]).await;
    let read_took = started.elapsed();
    w.autotask.reset_threshold_usage();
    w.autotask.requests().clear();
    let started = Instant::now();
    let v = w.json(&g, &["sync-usage"]).await;
    let took = started.elapsed();
    let tenant = w.autotask.tenant();
    let expected = oracle(&tenant, &g);
    assert_eq!(
        current(&w.gradient),
        full_grid(&expected, &g, &BTreeSet::new())
    );
    println!(
        "50,000 items ({} matching, {} companies with units): sync-usage took {:.2} s; requests: {}; \
         Autotask threshold used: {} of 10000 ({:.2}%); the same as a dry run took {:.2} s, requests: {}",
        matching_items(&tenant, &g),
        expected
            .keys()
            .map(|(a, _)| a)
            .collect::<BTreeSet<_>>()
            .len(),
        took.as_secs_f64(),
        v["requests"],
        w.autotask.threshold_used(),
        w.autotask.threshold_used() as f64 / 100.0,
        read_took.as_secs_f64(),
        dry["requests"]
    );
}

/// The all-zero guard refuses `run` before anything is written (no account, no service,
/// no count), a dry run warns about it, and `--allow-all-zero` lets it through.
#[tokio::test]
async fn the_all_zero_guard_refuses_before_writing_anything() {
    let g = default_grouping();
    let w = World::start(AtTenant::sample()).await;
    // One ledger for the runs of this test: the integration stays this source's.
    let state = common::fresh_state_dir();
    let mut cmd = w.cmd(&g);
    cmd.env("SYNC_STATE_DIR", &state).arg("run");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let skus_before = w.gradient.partner().skus.len();
    let calls_before = w.gradient.count_calls().len();

    // Every item gone, and a new service on top: every count would be 0.
    w.autotask.update_tenant(|t| t.configuration_items.clear());
    let mut cmd = w.cmd(&g);
    cmd.env("SYNC_STATE_DIR", &state)
        .env("AUTOTASK_SERVICES", "Servers=Server")
        .arg("run");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("--allow-all-zero"), "{}", stderr(&o));
    assert_eq!(
        w.gradient.partner().skus.len(),
        skus_before,
        "no service created"
    );
    assert_eq!(
        w.gradient.count_calls().len(),
        calls_before,
        "no count written"
    );

    let mut cmd = w.cmd(&g);
    cmd.env("SYNC_STATE_DIR", &state)
        .env("AUTOTASK_SERVICES", "Servers=Server")
        .args(["run", "--dry-run"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("would be refused (exit 4)"),
        "{}",
        stderr(&o)
    );

    let mut cmd = w.cmd(&g);
    cmd.env("SYNC_STATE_DIR", &state)
        .env("AUTOTASK_SERVICES", "Servers=Server")
        .args(["run", "--allow-all-zero"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written: Vec<_> = w.gradient.count_calls()[calls_before..].to_vec();
    assert!(!written.is_empty() && written.iter().all(|c| c.unit_count == 0.0));
}
