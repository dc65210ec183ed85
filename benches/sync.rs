//! The benchmark of issue 13: `cargo bench --bench sync` (BENCHMARKS.md holds one run).
//!
//! For each source at about 10,000, 100,000 and 1,000,000 items, it starts the simulators
//! in this process with realistic latencies, prepares the integration (accounts, services,
//! every pair mapped), then runs the **release binary** (`sync-usage --output json`) as a
//! child process and reports:
//! wall time; the **floor** (what the APIs' latencies and limits allow at best: the reads'
//! sequential steps plus their pages at the allowed concurrency, then the pairs at the write
//! rate); wall ÷ floor; requests per side against the page minimum; writes/s; 429s; billing
//! rebuilds; the child's peak RSS and CPU time (from `wait4`).
//!
//! Assumed latencies (docs/apis.md gives none; BENCHMARKS.md states them): a ConnectWise page
//! of 1,000 in 300 ms and its other calls in 100 ms; an Autotask query page of 500 in 500 ms
//! and its other calls in 100 ms; every Gradient call in 30 ms.
//!
//! Run by `cargo test --bench sync` (no `--bench` argument) it is a smoke test: small
//! tenants, short latencies, the same checks, no figures compared with time. `.ci/run` runs
//! it so.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use synthesize_sims::FaultConfig;
use synthesize_sims::RunningServer;
use synthesize_sims::autotask::{AtGenerateSpec, AtTenant, AutotaskSim};
use synthesize_sims::connectwise::{ConnectWiseSim, CwGenerateSpec, CwTenant};
use synthesize_sims::gradient::GradientSim;
use synthesize_sync::config::Env;
use synthesize_sync::progress::Progress;
use synthesize_sync::sources::{self, SourceKind};
use synthesize_sync::verbs::{self, WriteFlags};

/// The latencies of one run.
#[derive(Clone, Copy)]
struct Latency {
    cw_page: Duration,
    cw_other: Duration,
    at_page: Duration,
    at_other: Duration,
    gradient: Duration,
}

const REALISTIC: Latency = Latency {
    cw_page: Duration::from_millis(300),
    cw_other: Duration::from_millis(100),
    at_page: Duration::from_millis(500),
    at_other: Duration::from_millis(100),
    gradient: Duration::from_millis(30),
};

const SMOKE: Latency = Latency {
    cw_page: Duration::from_millis(5),
    cw_other: Duration::from_millis(1),
    at_page: Duration::from_millis(5),
    at_other: Duration::from_millis(1),
    gradient: Duration::from_millis(1),
};

/// Gradient's default pace (`SYNC_GRADIENT_RATE`), a second.
const WRITE_RATE: f64 = 90.0;
/// ConnectWise's pace: 600 a minute after a burst of 20 (`http::limits`).
const CW_PACE: f64 = 10.0;
const CW_BURST: f64 = 20.0;

struct Scenario {
    source: &'static str,
    items: usize,
    companies: usize,
    /// `AUTOTASK_READ_STREAMS` / `CONNECTWISE_READ_STREAMS`.
    streams: usize,
}

struct Row {
    scenario: String,
    items: usize,
    companies: usize,
    pairs: usize,
    wall: f64,
    floor: f64,
    psa: u64,
    psa_minimum: u64,
    gradient: u64,
    writes: usize,
    too_many: usize,
    rebuilds: usize,
    rss_mib: f64,
    cpu: f64,
}

/// The child's peak RSS in KiB: `VmHWM` of `/proc/<pid>/status`, polled every 10 ms until the
/// child exits. (`wait4`'s `ru_maxrss` cannot be used: Linux carries the high-water mark of
/// the image before `exec` over, and a spawned child starts as a copy of this big process.)
fn watch_peak_rss(pid: u32) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let path = format!("/proc/{pid}/status");
        let mut peak = 0;
        loop {
            let Ok(status) = std::fs::read_to_string(&path) else {
                return peak;
            };
            let Some(hwm) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            else {
                return peak; // a zombie: it has exited
            };
            peak = peak.max(hwm);
            std::thread::sleep(Duration::from_millis(10));
        }
    })
}

/// The child's exit status and CPU seconds, from `wait4`.
fn wait_with_usage(pid: u32) -> (i32, f64) {
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our own child, reaped here
    // exactly once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(r, pid as libc::pid_t, "wait4");
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, secs(usage.ru_utime) + secs(usage.ru_stime))
}

async fn bench(s: &Scenario, lat: Latency, state: &Path) -> Row {
    let kind: SourceKind = sources::by_name(s.source).expect("a registered source");
    let gradient = GradientSim::default();
    let g = gradient.start().await.unwrap();
    let (vendor, partner) = gradient.credentials();
    let dir = state.join(format!("{}-{}-{}", s.source, s.items, s.streams));
    let _ = std::fs::remove_dir_all(&dir);
    let mut env: Vec<(String, String)> = vec![
        ("GRADIENT_BASE_URL".into(), g.base_url()),
        ("GRADIENT_VENDOR_API_KEY".into(), vendor),
        ("GRADIENT_PARTNER_API_KEY".into(), partner),
        ("SYNC_STATE_DIR".into(), dir.display().to_string()),
        ("SYNC_SOURCE".into(), s.source.into()),
    ];
    let mut cw = None;
    let mut at = None;
    let mut servers: Vec<RunningServer> = Vec::new();
    if s.source.starts_with("connectwise") {
        let contacts = s.source == "connectwise-contacts";
        let sim = ConnectWiseSim::new(CwTenant::generate(&CwGenerateSpec {
            companies: s.companies,
            contacts: if contacts { s.items } else { 100 },
            configurations: if contacts { 100 } else { s.items },
            seed: 42,
        }));
        let server = sim.start().await.unwrap();
        let c = sim.credentials();
        env.extend([
            ("CONNECTWISE_BASE_URL".into(), server.base_url()),
            ("CONNECTWISE_COMPANY_ID".into(), c.company_id),
            ("CONNECTWISE_PUBLIC_KEY".into(), c.public_key),
            ("CONNECTWISE_PRIVATE_KEY".into(), c.private_key),
            ("CONNECTWISE_CLIENT_ID".into(), c.client_id),
            ("CONNECTWISE_READ_STREAMS".into(), s.streams.to_string()),
        ]);
        servers.push(server);
        cw = Some(sim);
    } else {
        let sim = AutotaskSim::new(AtTenant::generate(&AtGenerateSpec {
            companies: s.companies,
            items: s.items,
            seed: 1,
        }));
        // Discovery and the zone on two origins, as on the real service (docs/apis.md §3.1).
        let split = sim.start_split().await.unwrap();
        let c = sim.credentials();
        env.extend([
            ("AUTOTASK_USERNAME".into(), c.username),
            ("AUTOTASK_SECRET".into(), c.secret),
            ("AUTOTASK_INTEGRATION_CODE".into(), c.integration_code),
            (
                "AUTOTASK_DISCOVERY_URL".into(),
                format!("{}/ATServicesRest/", split.discovery.base_url()),
            ),
            ("AUTOTASK_READ_STREAMS".into(), s.streams.to_string()),
        ]);
        servers.extend([split.discovery, split.zone]);
        at = Some(sim);
    }

    // Prepare in process, without latency: accounts, services, every pair mapped.
    let settings = Env::from_pairs(env.clone());
    let progress = Progress::quiet();
    let w = WriteFlags::default();
    verbs::sync_accounts(&settings, Some(kind), w, &progress)
        .await
        .unwrap();
    verbs::sync_services(&settings, Some(kind), w)
        .await
        .unwrap();
    gradient.map_everything();

    // The measured run: the release binary, with the latencies.
    let with_latency = |other: Duration, routes: Vec<(String, Duration)>| FaultConfig {
        latency: other,
        route_latency: routes,
        ..FaultConfig::default()
    };
    gradient
        .faults()
        .set(with_latency(lat.gradient, Vec::new()));
    if let Some(sim) = &cw {
        let list = if s.source == "connectwise-contacts" {
            "/company/contacts?"
        } else {
            "/company/configurations?"
        };
        sim.faults()
            .set(with_latency(lat.cw_other, vec![(list.into(), lat.cw_page)]));
        sim.requests().clear();
    }
    if let Some(sim) = &at {
        sim.reset_threshold_usage();
        sim.faults().set(with_latency(
            lat.at_other,
            vec![
                ("/query/count".into(), lat.at_other),
                ("/query".into(), lat.at_page),
            ],
        ));
        sim.requests().clear();
    }
    gradient.requests().clear();
    let calls_before = gradient.count_calls().len();
    let rebuilds_before = gradient.rebuilds();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_synthesize-sync"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("NO_COLOR", "1")
        .args(["--output", "json", "-q", "sync-usage"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::fs::create_dir_all(&dir).unwrap();
    let started = Instant::now();
    // Reaped by wait4 below (for its CPU time), not by Child::wait.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().expect("run the release binary");
    let pid = child.id();
    let rss_watch = watch_peak_rss(pid);
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut o = Vec::new();
        out.read_to_end(&mut o).unwrap();
        o
    });
    let err_reader = std::thread::spawn(move || {
        let mut e = Vec::new();
        err.read_to_end(&mut e).unwrap();
        e
    });
    let (code, cpu) = tokio::task::spawn_blocking(move || wait_with_usage(pid))
        .await
        .unwrap();
    let rss_kib = rss_watch.join().unwrap();
    let wall = started.elapsed().as_secs_f64();
    let stdout = reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    assert_eq!(
        code,
        0,
        "{}: {}",
        s.source,
        String::from_utf8_lossy(&stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&stdout).expect("one JSON document");
    let pairs = report["counts"].as_array().map_or(0, Vec::len);
    let set = report["summary"]["set"].as_u64().unwrap_or(0) as usize;
    assert_eq!(set, pairs, "every pair is mapped, so every pair is set");
    let psa = report["requests"]["psa"].as_u64().unwrap();
    let gradient_requests = report["requests"]["gradient"].as_u64().unwrap();
    let writes = gradient.count_calls().len() - calls_before;
    let rebuilds = gradient.rebuilds() - rebuilds_before;
    let mut too_many = gradient
        .requests()
        .all()
        .iter()
        .filter(|r| r.status == 429)
        .count();

    // The floor and the page minimum, from the shape of the read.
    let streams = s.streams as f64;
    let secs = |d: Duration| d.as_secs_f64();
    let (read_floor, psa_minimum) = if let Some(sim) = &cw {
        let log = sim.requests().all();
        too_many += log.iter().filter(|r| r.status == 429).count();
        let list = if s.source == "connectwise-contacts" {
            "/company/contacts?"
        } else {
            "/company/configurations?"
        };
        let _ = list;
        let matching = rows_read(&report);
        let pages = matching.div_ceil(1_000).max(1) as f64;
        // companyinfo, the type list, the first page; past one page a count and the rest
        // at `streams` pages at once, never faster than the pace.
        let mut floor = 2.0 * secs(lat.cw_other) + secs(lat.cw_page);
        if pages > 1.0 {
            let rest = pages - 1.0;
            let by_latency = (rest / streams).ceil() * secs(lat.cw_page);
            let by_pace = ((rest + 4.0 - CW_BURST) / CW_PACE).max(0.0);
            floor += secs(lat.cw_other) + by_latency.max(by_pace);
        }
        (floor, pages as u64 + 2)
    } else {
        let sim = at.as_ref().unwrap();
        let log = sim.requests().all();
        too_many += log.iter().filter(|r| r.status == 429).count();
        let matching = rows_read(&report);
        let pages = matching.div_ceil(500).max(1) as f64;
        let named = report["read"]["companies_with_units"].as_u64().unwrap_or(0) as usize;
        let batches = named.div_ceil(500) as f64;
        // zone discovery, the threshold, the type list (a query page), the count, the first
        // page, the rest at `streams` pages at once, the unknown-type count, the names.
        let floor = 3.0 * secs(lat.at_other)
            + secs(lat.at_page)
            + secs(lat.at_page)
            + ((pages - 1.0) / streams).ceil() * secs(lat.at_page)
            + secs(lat.at_other)
            + batches * secs(lat.at_page);
        (floor, pages as u64 + 5 + batches as u64)
    };
    // Gradient: its reads before the writes (one after the other), then the pairs at the
    // write rate, the last one's latency included.
    let gradient_reads = gradient_requests.saturating_sub(writes as u64) as f64;
    let write_floor = gradient_reads * secs(lat.gradient)
        + (writes as f64 - 1.0).max(0.0) / WRITE_RATE
        + secs(lat.gradient);
    let floor = read_floor + write_floor;
    drop(servers);
    Row {
        scenario: format!(
            "{}{}",
            s.source,
            if s.streams == 1 { " (1 stream)" } else { "" }
        ),
        items: s.items,
        companies: s.companies,
        pairs,
        wall,
        floor,
        psa,
        psa_minimum,
        gradient: gradient_requests,
        writes,
        too_many,
        rebuilds,
        rss_mib: rss_kib as f64 / 1024.0,
        cpu,
    }
}

/// Rows the read's pages held: what the report says was read, less what the server only
/// counted (Autotask's items of an unknown type).
fn rows_read(report: &serde_json::Value) -> usize {
    let read = &report["read"];
    let counted_only = read["not_counted"]["unknown_type"].as_u64().unwrap_or(0);
    (read["items_read"].as_u64().unwrap_or(0) - counted_only) as usize
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --bench sync` does not: a smoke run then.
    let full = std::env::args().any(|a| a == "--bench");
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `-- autotask` runs the rows of the sources whose name contains it; `-- --max-items N`
    // leaves out the larger sizes.
    let only: Option<String> = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with('-') && (*i == 0 || args[i - 1] != "--max-items"))
        .map(|(_, a)| a.clone())
        .filter(|_| full);
    let max_items: usize = args
        .iter()
        .position(|a| a == "--max-items")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    let (lat, scenarios) = if full {
        let mut v = Vec::new();
        for source in [
            "connectwise-contacts",
            "connectwise-shared-devices",
            "autotask-configuration-items",
        ] {
            let streams = 3;
            for (items, companies) in [(10_000, 100), (100_000, 500), (1_000_000, 2_000)] {
                v.push(Scenario {
                    source,
                    items,
                    companies,
                    streams,
                });
            }
        }
        // Before parallel reads: the 100,000-item Autotask row one page at a time.
        v.push(Scenario {
            source: "autotask-configuration-items",
            items: 100_000,
            companies: 500,
            streams: 1,
        });
        (REALISTIC, v)
    } else {
        let v = [
            "connectwise-contacts",
            "connectwise-shared-devices",
            "autotask-configuration-items",
        ]
        .into_iter()
        .map(|source| Scenario {
            source,
            items: 4_000,
            companies: 40,
            streams: 3,
        })
        .collect();
        (SMOKE, v)
    };
    let scenarios: Vec<Scenario> = scenarios
        .into_iter()
        .filter(|s| only.as_deref().is_none_or(|o| s.source.contains(o)))
        .filter(|s| s.items <= max_items)
        .collect();
    let state = std::env::temp_dir().join(format!("synthesize-sync-bench-{}", std::process::id()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!(
        "| source | items | companies | pairs | wall s | floor s | wall ÷ floor | PSA requests (minimum) | Gradient requests | writes/s | 429s | rebuilds | peak RSS MiB | CPU s | CPU s per 100k items |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut failed = Vec::new();
    for s in &scenarios {
        let r = rt.block_on(bench(s, lat, &state));
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.1} | {:.2} | {} ({}) | {} | {:.1} | {} | {} | {:.1} | {:.2} | {:.3} |",
            r.scenario,
            r.items,
            r.companies,
            r.pairs,
            r.wall,
            r.floor,
            r.wall / r.floor,
            r.psa,
            r.psa_minimum,
            r.gradient,
            r.writes as f64 / r.wall,
            r.too_many,
            r.rebuilds,
            r.rss_mib,
            r.cpu,
            r.cpu / (r.items as f64 / 100_000.0),
        );
        // The checks that cannot flake (no time in them): they hold in the smoke run too.
        if r.too_many != 0 {
            failed.push(format!("{}: {} answers were 429", r.scenario, r.too_many));
        }
        if r.rebuilds != 1 {
            failed.push(format!("{}: {} rebuilds, not 1", r.scenario, r.rebuilds));
        }
        if r.psa > r.psa_minimum + 5 {
            failed.push(format!(
                "{}: {} PSA requests, more than the minimum {} + 5",
                r.scenario, r.psa, r.psa_minimum
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&state);
    assert!(failed.is_empty(), "{failed:#?}");
}
