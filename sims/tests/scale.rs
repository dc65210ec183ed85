//! Scale measurements of the ConnectWise and Autotask simulators (ignored by default):
//!
//! `SCALE_ITEMS=1000000 cargo test -p synthesize-sims --release --test scale -- --ignored --nocapture --test-threads=1`
//!
//! Each test generates a tenant, starts the simulator and times the requests a sync makes
//! (the first forward-only page with the filter, a second filtered page, a page in the
//! middle by `pageId`, an id-range stream and a count), then prints the process's peak RSS
//! (`VmHWM`). Run one test per process for a clean peak.

use std::time::Instant;

use serde_json::{Value, json};
use synthesize_sims::autotask::{AtGenerateSpec, AtTenant, AutotaskSim};
use synthesize_sims::connectwise::{ConnectWiseSim, CwGenerateSpec, CwTenant};

fn items() -> usize {
    std::env::var("SCALE_ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn memory(label: &str) {
    eprintln!(
        "[scale] {label}: VmRSS {} MiB, VmHWM {} MiB",
        status_kib("VmRSS:") / 1024,
        status_kib("VmHWM:") / 1024
    );
}

#[tokio::test]
#[ignore]
async fn connectwise_contacts_at_scale() {
    let n = items();
    let t = Instant::now();
    let tenant = CwTenant::generate(&CwGenerateSpec {
        companies: 2_000,
        contacts: n,
        configurations: 100,
        seed: 42,
    });
    eprintln!("[scale] generate {n} contacts: {:.2?}", t.elapsed());
    memory("after generate");
    let sim = ConnectWiseSim::new(tenant);
    let server = sim.start().await.unwrap();
    let c = sim.credentials();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!(
        "{}/{}apis/3.0/company/contacts",
        server.base_url(),
        sim.codebase()
    );
    let get = |query: Vec<(&'static str, String)>, path: &'static str| {
        let rb = http
            .get(format!("{base}{path}"))
            .query(&query)
            .basic_auth(
                format!("{}+{}", c.company_id, c.public_key),
                Some(&c.private_key),
            )
            .header("clientId", &c.client_id)
            .header("pagination-type", "forward-only");
        async move {
            let t = Instant::now();
            let r = rb.send().await.unwrap();
            assert_eq!(r.status(), 200);
            let body: Value = r.json().await.unwrap();
            (body, t.elapsed())
        }
    };
    let filter = |extra: Option<String>| {
        let mut conditions = "inactiveFlag=false".to_string();
        if let Some(e) = extra {
            conditions = format!("{conditions} AND {e}");
        }
        vec![
            ("conditions", conditions),
            ("childConditions", "types/id=4 OR types/id=7".into()),
            ("pageSize", "1000".into()),
        ]
    };
    let (first, d) = get(filter(None), "").await;
    let rows = first.as_array().unwrap();
    assert_eq!(rows.len(), 1_000);
    eprintln!("[scale] cw first filtered page: {d:.2?}");
    memory("after first page");
    let last = rows[999]["id"].as_i64().unwrap();
    let mut q = filter(None);
    q.push(("pageId", last.to_string()));
    let (_, d) = get(q, "").await;
    eprintln!("[scale] cw second filtered page: {d:.2?}");
    let mid = (n as i64) * 3 / 2;
    let mut q = filter(None);
    q.push(("pageId", mid.to_string()));
    let (page, d) = get(q, "").await;
    assert!(!page.as_array().unwrap().is_empty());
    eprintln!("[scale] cw filtered page at pageId {mid}: {d:.2?}");
    let range = format!("id>={mid} AND id<{}", mid * 2);
    let (page, d) = get(filter(Some(range.clone())), "").await;
    assert!(!page.as_array().unwrap().is_empty());
    eprintln!("[scale] cw first page of a range stream: {d:.2?}");
    let (count, d) = get(filter(Some(range)), "/count").await;
    eprintln!("[scale] cw count of a range ({}): {d:.2?}", count["count"]);
    let (page, d) = get(vec![("pageSize", "1000".into())], "").await;
    assert_eq!(page.as_array().unwrap().len(), 1_000);
    eprintln!("[scale] cw unfiltered first page: {d:.2?}");
    memory("end");
}

#[tokio::test]
#[ignore]
async fn autotask_items_at_scale() {
    let n = items();
    let t = Instant::now();
    let tenant = AtTenant::generate(&AtGenerateSpec {
        companies: 2_000,
        items: n,
        seed: 1,
    });
    eprintln!(
        "[scale] generate {n} configuration items: {:.2?}",
        t.elapsed()
    );
    memory("after generate");
    let sim = AutotaskSim::new(tenant);
    let server = sim.start().await.unwrap();
    let c = sim.credentials();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("{}/ATServicesRest/V1.0/", server.base_url());
    let post = |url: String, body: Value| {
        let rb = http
            .post(url)
            .json(&body)
            .header("ApiIntegrationCode", &c.integration_code)
            .header("UserName", &c.username)
            .header("Secret", &c.secret);
        async move {
            let t = Instant::now();
            let r = rb.send().await.unwrap();
            assert_eq!(r.status(), 200);
            let body: Value = r.json().await.unwrap();
            (body, t.elapsed())
        }
    };
    let body = |lo: i64, hi: Option<i64>| {
        let mut f = vec![
            json!({"op": "eq", "field": "isActive", "value": true}),
            json!({"op": "in", "field": "configurationItemType", "value": [1, 2]}),
            json!({"op": "gte", "field": "id", "value": lo}),
        ];
        if let Some(hi) = hi {
            f.push(json!({"op": "lt", "field": "id", "value": hi}));
        }
        json!({"filter": f, "MaxRecords": 500})
    };
    let url = format!("{base}ConfigurationItems/query");
    let (first, d) = post(url.clone(), body(0, None)).await;
    eprintln!(
        "[scale] at first page ({} items): {d:.2?}",
        first["pageDetails"]["count"]
    );
    memory("after first page");
    let next = first["pageDetails"]["nextPageUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, d) = post(next, body(0, None)).await;
    eprintln!("[scale] at second page: {d:.2?}");
    let ids: Vec<i64> = sim
        .tenant()
        .configuration_items
        .iter()
        .map(|i| i.id)
        .collect();
    let lo = ids[ids.len() / 2];
    let hi = ids[ids.len() * 3 / 4];
    let (page, d) = post(url.clone(), body(lo, Some(hi))).await;
    eprintln!(
        "[scale] at first page of a range stream ({} items): {d:.2?}",
        page["pageDetails"]["count"]
    );
    let (count, d) = post(format!("{url}/count"), body(lo, Some(hi))).await;
    eprintln!(
        "[scale] at count of a range ({}): {d:.2?}",
        count["queryCount"]
    );
    let (count, d) = post(format!("{url}/count"), body(0, None)).await;
    eprintln!("[scale] at count of all ({}): {d:.2?}", count["queryCount"]);
    memory("end");
}
