//! Request counts and wall time of a full sync on large generated tenants, against the
//! simulators on loopback: `cargo bench --bench sync`.
//!
//! The figures that matter are the request counts (the PSA's are the ones a tenant pays
//! for: Autotask's 10,000 requests/hour are shared by every integration) and that memory
//! and time grow with companies, not items. Wall time on loopback mostly measures
//! Gradient's 90-requests-per-second pacing of the count writes.

use std::time::Instant;

use synthesize_sims::autotask::{AtGenerateSpec, AtTenant, AutotaskSim};
use synthesize_sims::connectwise::{ConnectWiseSim, CwGenerateSpec, CwTenant};
use synthesize_sims::gradient::GradientSim;
use synthesize_sync::config::Env;
use synthesize_sync::progress::Progress;
use synthesize_sync::sources::{self, SourceKind};
use synthesize_sync::verbs::{self, WriteFlags};

struct Row {
    scenario: String,
    items: usize,
    psa_requests: u64,
    gradient_requests: u64,
    counts: usize,
    seconds: f64,
    extra: String,
}

async fn bench(kind: SourceKind, items: usize) -> Row {
    let gradient = GradientSim::default();
    let g = gradient.start().await.unwrap();
    let (vendor, partner) = gradient.credentials();
    let mut env: Vec<(String, String)> = vec![
        ("GRADIENT_BASE_URL".into(), g.base_url()),
        ("GRADIENT_VENDOR_API_KEY".into(), vendor),
        ("GRADIENT_PARTNER_API_KEY".into(), partner),
    ];
    let mut autotask = None;
    let _psa_server = if kind.name().starts_with("connectwise") {
        let spec = CwGenerateSpec {
            companies: 300,
            contacts: if kind.name() == "connectwise-contacts" {
                items
            } else {
                2_000
            },
            configurations: if kind.name() == "connectwise-shared-devices" {
                items
            } else {
                1_000
            },
            seed: 42,
        };
        let sim = ConnectWiseSim::new(CwTenant::generate(&spec));
        let server = sim.start().await.unwrap();
        let c = sim.credentials();
        env.extend([
            ("CONNECTWISE_BASE_URL".into(), server.base_url()),
            ("CONNECTWISE_COMPANY_ID".into(), c.company_id),
            ("CONNECTWISE_PUBLIC_KEY".into(), c.public_key),
            ("CONNECTWISE_PRIVATE_KEY".into(), c.private_key),
            ("CONNECTWISE_CLIENT_ID".into(), c.client_id),
        ]);
        server
    } else {
        let sim = AutotaskSim::new(AtTenant::generate(&AtGenerateSpec {
            companies: 500,
            items,
            seed: 1,
        }));
        let server = sim.start().await.unwrap();
        let c = sim.credentials();
        env.extend([
            ("AUTOTASK_USERNAME".into(), c.username),
            ("AUTOTASK_SECRET".into(), c.secret),
            ("AUTOTASK_INTEGRATION_CODE".into(), c.integration_code),
            (
                "AUTOTASK_DISCOVERY_URL".into(),
                format!("{}/ATServicesRest/", server.base_url()),
            ),
        ]);
        autotask = Some(sim);
        server
    };
    let env = Env::from_pairs(env);
    let progress = Progress::quiet();
    let w = WriteFlags::default();
    verbs::sync_accounts(&env, Some(kind), w, &progress)
        .await
        .unwrap();
    verbs::sync_services(&env, Some(kind), w).await.unwrap();
    gradient.map_everything();
    if let Some(sim) = &autotask {
        sim.reset_threshold_usage();
    }
    let started = Instant::now();
    let report = verbs::sync_usage(&env, Some(kind), w, &progress)
        .await
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let extra = match &autotask {
        Some(sim) => format!(
            "Autotask threshold used: {} of 10,000/hour ({:.2}%)",
            sim.threshold_used(),
            sim.threshold_used() as f64 / 100.0
        ),
        None => String::new(),
    };
    Row {
        scenario: format!("sync-usage {kind}"),
        items,
        psa_requests: report.requests.psa,
        gradient_requests: report.requests.gradient,
        counts: report.counts.len(),
        seconds,
        extra,
    }
}

fn source(name: &str) -> SourceKind {
    sources::by_name(name).expect("a registered source")
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rows = rt.block_on(async {
        vec![
            bench(source("connectwise-contacts"), 20_000).await,
            bench(source("connectwise-shared-devices"), 20_000).await,
            bench(source("autotask-configuration-items"), 50_000).await,
        ]
    });
    println!(
        "| scenario | items | PSA requests | Gradient requests | counts set | seconds | notes |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.1} | {} |",
            r.scenario, r.items, r.psa_requests, r.gradient_requests, r.counts, r.seconds, r.extra
        );
    }
}
