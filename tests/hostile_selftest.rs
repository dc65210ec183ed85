//! The hostile proxy and sink of `common::hostile`, checked on their own over real HTTP against
//! the simulators: forwarding with the origin rewritten (headers and bodies), each action, the
//! n-th-request rules, the sink, and the JSON helpers.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use synthesize_sims::autotask::{AtTenant, AutotaskSim};
use synthesize_sims::connectwise::{ConnectWiseSim, CwTenant};
use synthesize_sims::gradient::GradientSim;

use common::hostile::{
    Action, Hostile, Rule, Sink, json_filler, pascal_case_keys, remove_key_everywhere,
};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn gradient_token(sim: &GradientSim) -> String {
    let (vendor, partner) = sim.credentials();
    b64(&format!("{vendor}:{partner}"))
}

/// A ConnectWise list request through `base`, authenticated.
fn cw_get(cw: &ConnectWiseSim, base: &str, path_and_query: &str) -> reqwest::RequestBuilder {
    let c = cw.credentials();
    let auth = b64(&format!(
        "{}+{}:{}",
        c.company_id, c.public_key, c.private_key
    ));
    client()
        .get(format!("{base}/{}apis/3.0{path_and_query}", cw.codebase()))
        .header("authorization", format!("Basic {auth}"))
        .header("clientid", c.client_id)
}

/// Reads a whole body chunk by chunk.
async fn read_all(mut resp: reqwest::Response) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        out.extend_from_slice(&chunk);
    }
    out
}

#[tokio::test]
async fn forwarding_rewrites_the_upstream_origin_in_link_headers_and_bodies() {
    let cw = ConnectWiseSim::new(CwTenant::sample());
    let cw_server = cw.start().await.unwrap();
    let (hostile, proxy) = Hostile::start(&cw_server.base_url()).await;
    let upstream = cw_server.base_url();
    let origin = proxy.base_url();

    // Navigable paging: first/next/last links.
    let resp = cw_get(&cw, &origin, "/company/contacts?pageSize=2&fields=id,_info")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["api-current-version"],
        "2025.1",
        "upstream headers come back"
    );
    let link = resp.headers()["link"].to_str().unwrap().to_string();
    assert!(link.contains("rel=\"next\""), "{link}");
    assert!(link.contains(&format!("<{origin}/")), "{link}");
    assert!(!link.contains(&upstream), "{link}");
    let body = resp.text().await.unwrap();
    assert!(!body.contains(&upstream), "{body}");
    let rows: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);

    // Forward-only paging: the next link too.
    let resp = cw_get(&cw, &origin, "/company/contacts?pageSize=2")
        .header("pagination-type", "forward-only")
        .send()
        .await
        .unwrap();
    let link = resp.headers()["link"].to_str().unwrap().to_string();
    assert!(link.starts_with(&format!("<{origin}/")), "{link}");

    // Following the rewritten link goes through the proxy again.
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    let c = cw.credentials();
    let auth = b64(&format!(
        "{}+{}:{}",
        c.company_id, c.public_key, c.private_key
    ));
    let resp = client()
        .get(&next)
        .header("authorization", format!("Basic {auth}"))
        .header("clientid", &c.client_id)
        .header("pagination-type", "forward-only")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let seen = hostile.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].method, "GET");
    assert!(
        seen[0]
            .uri
            .ends_with("/company/contacts?pageSize=2&fields=id,_info")
    );
    assert!(
        seen[0]
            .header("Authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(seen[1].header("pagination-type"), Some("forward-only"));
    assert_eq!(cw.requests().len(), 3, "each request was forwarded once");
}

#[tokio::test]
async fn forwarding_rewrites_autotask_zone_urls_in_bodies() {
    let at = AutotaskSim::new(AtTenant::sample());
    let at_server = at.start().await.unwrap();
    let (_hostile, proxy) = Hostile::start(&at_server.base_url()).await;
    let user = at.credentials().username;
    let zone: Value = client()
        .get(format!(
            "{}/ATServicesRest/V1.0/zoneInformation?user={user}",
            proxy.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        zone["url"],
        json!(format!("{}/ATServicesRest/", proxy.base_url())),
        "{zone}"
    );
    assert!(!zone.to_string().contains(&at_server.base_url()));
}

#[tokio::test]
async fn redirect_answers_without_calling_upstream() {
    let (sim, server) = common::gradient().await;
    let (hostile, proxy) = Hostile::start(&server.base_url()).await;
    hostile.add(Rule::on(
        "GET",
        "/organization",
        Action::Redirect {
            status: 307,
            location: "http://127.0.0.1:9/steal".into(),
        },
    ));
    let resp = client()
        .get(format!("{}/api/vendor-api/organization", proxy.base_url()))
        .header("gradient-token", gradient_token(&sim))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 307);
    assert_eq!(resp.headers()["location"], "http://127.0.0.1:9/steal");
    assert!(sim.requests().is_empty(), "the upstream was not called");
    assert_eq!(
        hostile.requests().len(),
        1,
        "answered requests are recorded"
    );

    // Other methods and paths still go through; clear() removes the rule.
    let resp = client()
        .get(format!("{}/api/vendor-api", proxy.base_url()))
        .header("gradient-token", gradient_token(&sim))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    hostile.clear();
    let resp = client()
        .get(format!("{}/api/vendor-api/organization", proxy.base_url()))
        .header("gradient-token", gradient_token(&sim))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(sim.requests().len(), 2);
}

#[tokio::test]
async fn echo_headers_reflects_headers_and_body() {
    let (sim, server) = common::gradient().await;
    let (hostile, proxy) = Hostile::start(&server.base_url()).await;
    hostile.add(Rule::on(
        "POST",
        "/text",
        Action::EchoHeaders {
            status: 500,
            json: false,
        },
    ));
    hostile.add(Rule::any(
        "/json",
        Action::EchoHeaders {
            status: 400,
            json: true,
        },
    ));

    let resp = client()
        .post(format!("{}/text", proxy.base_url()))
        .header("x-secret", "hunter2")
        .body("payload-42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    assert!(text.contains("x-secret: hunter2\n"), "{text}");
    assert!(text.ends_with("\n\npayload-42"), "{text}");

    let body: Value = client()
        .get(format!("{}/json", proxy.base_url()))
        .header("Authorization", "Basic c2VjcmV0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("authorization: Basic c2VjcmV0"), "{body}");
    assert_eq!(body["errors"][0].as_str(), Some(message));
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn huge_body_sends_exactly_n_bytes_of_valid_json() {
    const N: u64 = 5 * 1024 * 1024;
    let (sim, server) = common::gradient().await;
    let (hostile, proxy) = Hostile::start(&server.base_url()).await;
    hostile.add(Rule::any(
        "/chunked",
        Action::HugeBody {
            bytes: N,
            declare_length: false,
        },
    ));
    hostile.add(Rule::any(
        "/declared",
        Action::HugeBody {
            bytes: N,
            declare_length: true,
        },
    ));

    let resp = client()
        .get(format!("{}/chunked", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), None, "no length declared");
    let body = read_all(resp).await;
    assert_eq!(body.len() as u64, N);
    let v: Value = serde_json::from_slice(&body).expect("valid JSON when fully sent");
    let rows = v.as_array().unwrap();
    assert!(rows.len() > 5_000);
    assert_eq!(rows[0]["id"], 1);

    let resp = client()
        .get(format!("{}/declared", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.content_length(), Some(N));
    assert_eq!(read_all(resp).await.len() as u64, N);
    assert!(sim.requests().is_empty());
}

#[test]
fn json_filler_is_exact_and_valid_at_every_size() {
    for total in (0..200).chain([1023, 1024, 1025, 2047, 2048, 2049, 4095, 70_001]) {
        let mut f = json_filler(total);
        let mut out = Vec::new();
        while let Some(c) = f.next_chunk(333) {
            assert!(c.len() <= 333);
            out.extend_from_slice(&c);
        }
        assert_eq!(out.len() as u64, total);
        if total >= 2 {
            let v: Value = serde_json::from_slice(&out)
                .unwrap_or_else(|e| panic!("{total}: {e}: {}", String::from_utf8_lossy(&out)));
            assert!(v.is_array());
        }
    }
}

#[tokio::test]
async fn slow_body_trickles() {
    let (_sim, server) = common::gradient().await;
    let (hostile, proxy) = Hostile::start(&server.base_url()).await;
    hostile.add(Rule::any(
        "/slow",
        Action::SlowBody {
            total: 100,
            chunk: 40,
            every: Duration::from_millis(50),
        },
    ));
    let started = Instant::now();
    let resp = client()
        .get(format!("{}/slow", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = read_all(resp).await;
    assert_eq!(body.len(), 100);
    assert!(started.elapsed() >= Duration::from_millis(100), "3 chunks");
    serde_json::from_slice::<Value>(&body).unwrap();
}

#[tokio::test]
async fn map_json_rewrites_the_nth_body_with_a_scratch_store() {
    let (sim, server) = common::gradient().await;
    let (hostile, proxy) = Hostile::start(&server.base_url()).await;
    // Remember the first answer; replace the name in the second one with a spliced value.
    hostile.add(
        Rule::on(
            "GET",
            "/organization",
            Action::map_json(|_, v, scratch| {
                scratch.insert("first".into(), v.clone());
                v
            }),
        )
        .nth(1),
    );
    hostile.add(
        Rule::on(
            "GET",
            "/organization",
            Action::map_json(|path, mut v, scratch| {
                let first = scratch["first"]["name"].as_str().unwrap().to_string();
                v["name"] = json!(format!("{first} (again, via {path})"));
                v
            }),
        )
        .nth(2),
    );
    let get = || {
        client()
            .get(format!("{}/api/vendor-api/organization", proxy.base_url()))
            .header("gradient-token", gradient_token(&sim))
            .send()
    };
    let first: Value = get().await.unwrap().json().await.unwrap();
    let name = first["name"].as_str().unwrap().to_string();
    let resp = get().await.unwrap();
    assert_eq!(resp.status(), 200);
    let declared = resp.content_length();
    let text = resp.text().await.unwrap();
    assert_eq!(declared, Some(text.len() as u64), "length recomputed");
    let second: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        second["name"],
        json!(format!("{name} (again, via /api/vendor-api/organization)"))
    );
    assert_eq!(second["organizationId"], first["organizationId"]);
    let third: Value = get().await.unwrap().json().await.unwrap();
    assert_eq!(third, first, "the third request is untouched");
    assert_eq!(hostile.scratch()["first"], first);
    assert_eq!(sim.requests().len(), 3, "MapJson forwards");
}

#[tokio::test]
async fn respond_forwards_then_replaces_the_answer() {
    let (sim, server) = common::gradient().await;
    let (hostile, proxy) = Hostile::start(&server.base_url()).await;
    hostile.add(Rule::on(
        "GET",
        "/organization",
        Action::Respond {
            status: 502,
            headers: vec![("X-Hostile".into(), "yes".into())],
            body: b"<html>bad gateway</html>".to_vec(),
        },
    ));
    let resp = client()
        .get(format!("{}/api/vendor-api/organization", proxy.base_url()))
        .header("gradient-token", gradient_token(&sim))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["x-hostile"], "yes");
    assert_eq!(resp.text().await.unwrap(), "<html>bad gateway</html>");
    let logged = sim.requests().all();
    assert_eq!(logged.len(), 1, "the upstream was called");
    assert_eq!(logged[0].status, 200);
}

#[tokio::test]
async fn sink_records_every_request() {
    let (sink, server) = Sink::start(201, json!({"ok": true})).await;
    let resp = client()
        .post(format!(
            "{}/api/vendor-api/service/x/count?a=1",
            server.base_url()
        ))
        .header("gradient-token", "stolen")
        .body(r#"{"unitCount":3}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"ok": true}));
    client()
        .get(format!("{}/other", server.base_url()))
        .send()
        .await
        .unwrap();
    let seen = sink.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].uri, "/api/vendor-api/service/x/count?a=1");
    assert_eq!(seen[0].header("gradient-token"), Some("stolen"));
    assert_eq!(seen[0].body_text(), r#"{"unitCount":3}"#);
    assert!(seen[0].to_text().contains("stolen"));
    assert_eq!(seen[1].method, "GET");
    assert_eq!(seen[1].uri, "/other");
}

#[tokio::test]
async fn unreachable_upstream_is_a_502() {
    // Port 9 (discard) has no listener on loopback.
    let (hostile, proxy) = Hostile::start("http://127.0.0.1:9").await;
    let resp = client().get(proxy.base_url()).send().await.unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(hostile.requests().len(), 1);
}

#[test]
fn json_helpers() {
    let v = json!({"pageDetails": {"nextPageUrl": "u", "count": 1}, "items": [{"id": 1, "userDefinedFields": []}], "": 0});
    assert_eq!(
        pascal_case_keys(v.clone()),
        json!({"PageDetails": {"NextPageUrl": "u", "Count": 1}, "Items": [{"Id": 1, "UserDefinedFields": []}], "": 0})
    );
    assert_eq!(
        remove_key_everywhere(v, "count"),
        json!({"pageDetails": {"nextPageUrl": "u"}, "items": [{"id": 1, "userDefinedFields": []}], "": 0})
    );
    assert_eq!(
        remove_key_everywhere(json!([{"id": 1, "a": {"id": 2}}]), "id"),
        json!([{"a": {}}])
    );
}
