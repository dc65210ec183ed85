//! The Gradient Synthesize simulator over real HTTP on loopback (docs/apis.md §1): service
//! subcategory validation (§1.4) and the switchable 403 anomaly answer (§1.5).

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use synthesize_sims::RunningServer;
use synthesize_sims::gradient::{ANOMALY_MESSAGE, CATEGORIES, GradientSim, SUBCATEGORIES};

struct G {
    sim: GradientSim,
    server: RunningServer,
    http: reqwest::Client,
    token: String,
}

struct Answer {
    status: StatusCode,
    body: Value,
}

fn token(vendor: &str, partner: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{vendor}:{partner}"))
}

impl G {
    async fn start() -> Self {
        let sim = GradientSim::default();
        let server = sim.start().await.unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let (vendor, partner) = sim.credentials();
        let token = token(&vendor, &partner);
        G {
            sim,
            server,
            http,
            token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/vendor-api{path}", self.server.base_url())
    }

    async fn send(req: reqwest::RequestBuilder) -> Answer {
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, body }
    }

    async fn get(&self, path: &str) -> Answer {
        Self::send(
            self.http
                .get(self.url(path))
                .header("GRADIENT-TOKEN", &self.token),
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        Self::send(
            self.http
                .post(self.url(path))
                .header("GRADIENT-TOKEN", &self.token)
                .json(&body),
        )
        .await
    }

    async fn create_service(&self, name: &str, category: &str, subcategory: &str) -> Answer {
        self.post(
            "/service",
            json!({
                "name": name, "description": "d",
                "category": category, "subcategory": subcategory
            }),
        )
        .await
    }

    /// One mapped account and one mapped service; returns the service id.
    async fn mapped_pair(&self) -> String {
        let a = self
            .post(
                "/organization/accounts",
                json!([{"id": "acct-1", "name": "Contoso", "description": ""}]),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        let a = self.create_service("Seats", "other", "other").await;
        assert_eq!(a.status, 201, "{}", a.body);
        self.sim.map_everything();
        self.sim.partner().skus[0].id.clone()
    }
}

fn messages(body: &Value) -> Vec<String> {
    body["message"]
        .as_array()
        .unwrap_or_else(|| panic!("message is not a list: {body}"))
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn wrong_subcategory_is_a_400_naming_subcategory() {
    let g = G::start().await;
    for bad in [
        "EDR",
        "Email Security",
        "privileged access and identity management (PAM/PIM)",
        "endpoint_detection_and_response",
        "",
    ] {
        let a = g.create_service("Seats", "security", bad).await;
        assert_eq!(a.status, 400, "{bad:?} accepted: {}", a.body);
        assert_eq!(a.body["statusCode"], 400);
        assert_eq!(a.body["error"], "Bad Request");
        let m = messages(&a.body);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("subcategory must be one of the following values: "),
            "{m:?}"
        );
        assert!(m[0].contains("priviledged access and identity management (PAM/PIM)"));
    }
    // Both enums wrong: both named, in one list.
    let a = g.create_service("Seats", "Security", "Other").await;
    assert_eq!(a.status, 400);
    let m = messages(&a.body);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(m[0].starts_with("category must be one of"));
    assert!(m[1].starts_with("subcategory must be one of"));
    // A missing subcategory is still "must be a string".
    let a = g
        .post(
            "/service",
            json!({"name": "Seats", "description": "d", "category": "other"}),
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(messages(&a.body), vec!["subcategory must be a string"]);
    assert!(g.sim.partner().skus.is_empty(), "nothing created");
}

#[tokio::test]
async fn every_documented_subcategory_is_accepted() {
    let g = G::start().await;
    assert_eq!(SUBCATEGORIES.len(), 46);
    let distinct: std::collections::BTreeSet<_> = SUBCATEGORIES.iter().collect();
    assert_eq!(distinct.len(), 46, "no duplicates");
    for (i, sub) in SUBCATEGORIES.iter().enumerate() {
        let category = CATEGORIES[i % CATEGORIES.len()];
        let a = g
            .create_service(&format!("Service {i}"), category, sub)
            .await;
        assert_eq!(a.status, 201, "{sub:?} rejected: {}", a.body);
    }
    let skus = g.sim.partner().skus;
    assert_eq!(skus.len(), 46);
    for (sku, sub) in skus.iter().zip(SUBCATEGORIES) {
        assert_eq!(sku.subcategory, sub);
    }
    let vendor = g.get("").await;
    assert_eq!(
        vendor.body["data"]["skus"][7]["subcategory"],
        SUBCATEGORIES[7]
    );
}

#[tokio::test]
async fn other_other_is_accepted() {
    let g = G::start().await;
    let a = g.create_service("Seats", "other", "other").await;
    assert_eq!(a.status, 201, "{}", a.body);
    let sku = &a.body["skus"][0];
    assert_eq!(
        (&sku["category"], &sku["subcategory"]),
        (&json!("other"), &json!("other"))
    );
}

#[tokio::test]
async fn anomaly_after_two_requests_forbids_the_third_and_stores_nothing() {
    let g = G::start().await;
    let service = g.mapped_pair().await;
    g.sim.set_anomaly_after(Some(2));
    assert!(!g.sim.anomaly_active());

    let count = |n: f64| json!({"accountId": "acct-1", "unitCount": n});
    let path = format!("/service/{service}/count");
    let first = g.post(&path, count(1.0)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let second = g.get("/organization").await;
    assert_eq!(second.status, 200);
    assert!(g.sim.anomaly_active());

    let third = g.post(&path, count(3.0)).await;
    assert_eq!(third.status, 403);
    assert_eq!(
        third.body,
        json!({"statusCode": 403, "message": ANOMALY_MESSAGE, "error": "Forbidden"})
    );
    assert_eq!(
        third.body["message"],
        "Gradient has detected an anomaly with your API usage. Please contact support."
    );
    // It stays on for every route.
    assert_eq!(g.get("/organization").await.status, 403);
    assert_eq!(g.get("").await.status, 403);

    let calls = g.sim.count_calls();
    assert_eq!(calls.len(), 1, "the 403 is not a count call: {calls:?}");
    assert_eq!((calls[0].unit_count, calls[0].status), (1.0, 201));
    let current = g.sim.current_counts();
    assert_eq!(
        current.get(&("acct-1".to_string(), "Seats".to_string())),
        Some(&1.0)
    );
    assert_eq!(g.sim.requests().count("POST", "/count"), 2);

    // Off again: counts are stored.
    g.sim.set_anomaly_after(None);
    assert_eq!(g.post(&path, count(4.0)).await.status, 201);
    assert_eq!(g.sim.count_calls().len(), 2);
    assert_eq!(
        g.sim.current_counts()[&("acct-1".to_string(), "Seats".to_string())],
        4.0
    );
}

#[tokio::test]
async fn set_anomaly_switches_from_now_on() {
    let g = G::start().await;
    g.sim.set_anomaly(true);
    assert!(g.sim.anomaly_active());
    assert_eq!(g.get("/organization").await.status, 403);
    let a = g.create_service("Seats", "other", "other").await;
    assert_eq!(a.status, 403);
    assert!(g.sim.partner().skus.is_empty(), "a 403 creates nothing");
    g.sim.set_anomaly(false);
    assert!(!g.sim.anomaly_active());
    assert_eq!(g.get("/organization").await.status, 200);
}

#[tokio::test]
async fn bad_token_during_anomaly_is_still_401_and_uses_no_allowance() {
    let g = G::start().await;
    g.sim.set_anomaly(true);
    let (vendor, _) = g.sim.credentials();
    for bad in [token(&vendor, "wrong-partner"), "not base64!".to_string()] {
        let a = G::send(
            g.http
                .get(g.url("/organization"))
                .header("GRADIENT-TOKEN", bad),
        )
        .await;
        assert_eq!(a.status, 401, "{}", a.body);
    }
    let none = G::send(g.http.get(g.url("/organization"))).await;
    assert_eq!(none.status, 401);

    // Unauthenticated requests do not use up the allowance before the anomaly.
    g.sim.set_anomaly_after(Some(1));
    let bad = token(&vendor, "wrong-partner");
    for _ in 0..3 {
        let a = G::send(
            g.http
                .get(g.url("/organization"))
                .header("GRADIENT-TOKEN", &bad),
        )
        .await;
        assert_eq!(a.status, 401);
    }
    assert_eq!(g.get("/organization").await.status, 200);
    assert_eq!(g.get("/organization").await.status, 403);
}
