//! The CrewHu simulator over real HTTP on loopback (docs/apis.md §5b): paging (`step`,
//! `limit` default and cap, short last page, `step < 1` → 400), both token headers, the
//! 401/403 switch, faults, and surveys consistent with the ConnectWise sample.

use std::collections::HashSet;

use serde_json::Value;
use synthesize_sims::FaultConfig;
use synthesize_sims::connectwise::{CwEngagementSpec, CwTenant};
use synthesize_sims::crewhu::{BadTokenStatus, CrewhuSim, CrewhuSurvey, CrewhuTenant};
use synthesize_sims::{LoggedRequest, RunningServer};

struct Ch {
    sim: CrewhuSim,
    server: RunningServer,
    http: reqwest::Client,
}

impl Ch {
    async fn start(tenant: CrewhuTenant) -> Self {
        let sim = CrewhuSim::new(tenant);
        let server = sim.start().await.unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Ch { sim, server, http }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}/api{path_and_query}", self.server.base_url())
    }

    async fn send(rb: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// GET with the documented header.
    async fn get(&self, path_and_query: &str) -> (u16, Value) {
        let rb = self
            .http
            .get(self.url(path_and_query))
            .header("X_CREWHU_APITOKEN", self.sim.token());
        Self::send(rb).await
    }
}

fn big() -> CrewhuTenant {
    let cw = CwTenant::generate_engagement(&CwEngagementSpec {
        companies: 100,
        tickets: 6_000,
        time_entries: 10,
        agreements: 5,
        ..CwEngagementSpec::default()
    });
    CrewhuTenant::for_connectwise(&cw, CwEngagementSpec::default().now, 3)
}

#[tokio::test]
async fn paging_default_cap_short_last_page_and_bad_step() {
    let ch = Ch::start(big()).await;
    let all = ch.sim.tenant().surveys;
    assert!(all.len() > 2_000, "{}", all.len());
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("a bare JSON array")
            .iter()
            .map(|s| s["_id"].as_str().unwrap().to_string())
            .collect()
    };
    let want = |from: usize, n: usize| -> Vec<String> {
        all.iter()
            .skip(from)
            .take(n)
            .map(|s| s.id.clone())
            .collect()
    };

    let (status, body) = ch.get("/v1/survey").await;
    assert_eq!(
        (status, ids(&body)),
        (200, want(0, 25)),
        "limit defaults to 25"
    );
    let (_, body) = ch.get("/v1/survey?step=2&limit=100").await;
    assert_eq!(ids(&body), want(100, 100), "step is a 1-based page");
    let (_, body) = ch.get("/v1/survey?step=1&limit=5000").await;
    assert_eq!(ids(&body).len(), 1_000, "limit capped at 1000");
    let (_, body) = ch.get("/v1/survey?step=2&limit=5000").await;
    assert_eq!(
        ids(&body),
        want(1_000, 1_000),
        "the cap also sets the page size"
    );

    // Walking pages until a short one collects every survey once, in order.
    let mut got = Vec::new();
    let mut step = 1;
    loop {
        let (status, body) = ch.get(&format!("/v1/survey?step={step}&limit=700")).await;
        assert_eq!(status, 200);
        let page = ids(&body);
        let short = page.len() < 700;
        got.extend(page);
        if short {
            break;
        }
        step += 1;
    }
    assert_eq!(got, want(0, all.len()));
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len());
    let past = format!("/v1/survey?step={}&limit=700", step + 1);
    assert_eq!(ch.get(&past).await, (200, Value::Array(vec![])));

    for bad in ["step=0", "step=-1", "step=abc", "limit=0", "limit=x"] {
        let (status, body) = ch.get(&format!("/v1/survey?{bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
}

#[tokio::test]
async fn survey_shape() {
    let ch = Ch::start(CrewhuTenant::sample()).await;
    let (status, body) = ch.get("/v1/survey?step=1&limit=1000").await;
    assert_eq!(status, 200);
    let surveys = body.as_array().unwrap();
    assert!(!surveys.is_empty());
    let cw = CwTenant::sample();
    let mut answered = 0;
    for s in surveys {
        for k in ["_id", "survey_type_code", "_created_at", "_updated_at"] {
            assert!(s[k].is_string(), "{k}: {s}");
        }
        assert!(s["inactive"].is_boolean());
        let ty = s["survey_type_code"].as_str().unwrap();
        assert!(["typResolved", "typReply", "typSignature"].contains(&ty));
        let c = &s["customer_data"];
        let company: i64 = c["ID"].as_str().expect("ID is a string").parse().unwrap();
        assert_eq!(
            c["name"].as_str(),
            cw.company(company).map(|c| c.name.as_str())
        );
        match s["ticket_num"].as_str() {
            Some(t) => assert!(cw.ticket(t.parse().unwrap()).is_some()),
            None => assert!(s["ticket_num"].is_null()),
        }
        if s["closed"].is_null() {
            assert!(s["rating"].is_null(), "unanswered: {s}");
        } else {
            answered += 1;
            let closed = s["closed"].as_str().unwrap();
            assert!(closed.ends_with(".000Z") && closed.contains('T'));
            assert!([5, 0, -5].contains(&s["rating"].as_i64().unwrap()));
            assert!(s["rating_label"].is_string());
        }
    }
    assert!(answered > 0 && answered < surveys.len());
}

#[tokio::test]
async fn both_token_headers_and_the_bad_token_switch() {
    let ch = Ch::start(CrewhuTenant::sample()).await;
    let token = ch.sim.token();
    let url = ch.url("/v1/user?step=1&limit=1");
    for name in [
        "X_CREWHU_APITOKEN",
        "x_crewhu_apitoken",
        "X-Crewhu-Api-Token",
        "x-crewhu-api-token",
    ] {
        let (status, body) = Ch::send(ch.http.get(&url).header(name, &token)).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(body.as_array().unwrap().len(), 1, "{name}");
    }
    // A proxy that folds `_` into `-` makes a third name, which is not the token header.
    let folded = ch.http.get(&url).header("X-CREWHU-APITOKEN", &token);
    assert_eq!(Ch::send(folded).await.0, 401);
    let wrong = ch.http.get(&url).header("X_CREWHU_APITOKEN", "nope");
    assert_eq!(
        Ch::send(wrong).await,
        (401, serde_json::json!({"error": "Unauthorized"}))
    );
    assert_eq!(Ch::send(ch.http.get(&url)).await.0, 401);

    ch.sim.set_bad_token_status(BadTokenStatus::Forbidden403);
    let wrong = ch.http.get(&url).header("X-Crewhu-Api-Token", "nope");
    assert_eq!(Ch::send(wrong).await.0, 403);
    assert_eq!(Ch::send(ch.http.get(ch.url("/v1/survey"))).await.0, 403);
    assert_eq!(ch.get("/v1/survey?limit=1").await.0, 200);
    // Unknown routes and writes are 404s once authenticated.
    assert_eq!(ch.get("/v1/nothing").await.0, 404);
    let post = ch
        .http
        .post(ch.url("/v1/survey"))
        .header("X_CREWHU_APITOKEN", &token);
    assert_eq!(Ch::send(post).await.0, 404);

    let log: Vec<LoggedRequest> = ch.sim.requests().all();
    assert_eq!(log.iter().filter(|r| r.status == 401).count(), 3);
    assert_eq!(log.iter().filter(|r| r.status == 403).count(), 2);
}

#[tokio::test]
async fn faults_and_runtime_changes() {
    let ch = Ch::start(CrewhuTenant::sample()).await;
    ch.sim.faults().set(FaultConfig {
        rate_429: 1.0,
        retry_after_secs: Some(4),
        ..FaultConfig::default()
    });
    let resp = ch
        .http
        .get(ch.url("/v1/survey"))
        .header("X_CREWHU_APITOKEN", ch.sim.token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "4");
    ch.sim.faults().set(FaultConfig {
        failing_route: Some("/v1/survey".into()),
        ..FaultConfig::default()
    });
    assert_eq!(ch.get("/v1/survey").await.0, 500);
    assert_eq!(ch.get("/v1/user").await.0, 200);
    ch.sim.faults().clear();

    let before = ch.sim.tenant().surveys.len();
    let mut s = CrewhuSurvey {
        id: "0000000000000000000000aa".into(),
        survey_type_code: "typResolved".into(),
        ticket_num: Some("30001".into()),
        created_at: "2020-01-01T00:00:00.000Z".into(),
        updated_at: "2020-01-01T00:00:00.000Z".into(),
        ..CrewhuSurvey::default()
    };
    s.customer_data.id = "288".into();
    s.answer(Some((-5, 1_577_840_400)));
    ch.sim.add_survey(s);
    let (_, body) = ch.get("/v1/survey?step=1&limit=1").await;
    assert_eq!(body[0]["_id"], "0000000000000000000000aa", "oldest first");
    assert_eq!(body[0]["rating"], -5);
    assert_eq!(body[0]["rating_label"], "Negative");
    assert_eq!(body[0]["closed"], "2020-01-01T01:00:00.000Z");
    assert_eq!(ch.sim.tenant().surveys.len(), before + 1);
}
