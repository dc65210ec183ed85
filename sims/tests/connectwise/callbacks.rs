//! ConnectWise callbacks (docs/apis.md §2.9, docs/contract.md §6): registration over HTTP,
//! signed delivery to an axum receiver on loopback, retries, the key URL and its rotation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use synthesize_sims::RunningServer;
use synthesize_sims::connectwise::{
    CallbackAction, CallbackEvent, DeliveryTiming, EventOverrides, Signature, hmac_sha256,
};

use super::support::{Answer, Cw};

/// One POST the receiver got.
#[derive(Debug, Clone)]
struct Got {
    uri: String,
    signature: Option<String>,
    body: Bytes,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Inbox {
    got: Arc<Mutex<Vec<Got>>>,
    /// Statuses to answer, in order; 200 once they run out.
    script: Arc<Mutex<Vec<u16>>>,
}

async fn receive(
    State(inbox): State<Inbox>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get("x-content-signature")
        .map(|v| v.to_str().unwrap().to_string());
    inbox.got.lock().unwrap().push(Got {
        uri: uri.to_string(),
        signature,
        body,
    });
    let mut script = inbox.script.lock().unwrap();
    let status = if script.is_empty() {
        200
    } else {
        script.remove(0)
    };
    StatusCode::from_u16(status).unwrap()
}

struct Receiver {
    inbox: Inbox,
    server: RunningServer,
}

impl Receiver {
    async fn start(script: &[u16]) -> Self {
        let inbox = Inbox::default();
        *inbox.script.lock().unwrap() = script.to_vec();
        let router = Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(inbox.clone());
        let server = synthesize_sims::serve(router, synthesize_sims::loopback())
            .await
            .unwrap();
        Receiver { inbox, server }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    fn got(&self) -> Vec<Got> {
        self.inbox.got.lock().unwrap().clone()
    }
}

impl Cw {
    async fn register(&self, body: Value) -> Answer {
        Cw::send(
            self.request(Method::POST, &self.api("/system/callbacks"))
                .json(&body),
        )
        .await
    }

    async fn fast(&self) {
        self.sim.set_delivery_timing(DeliveryTiming {
            timeout: Duration::from_secs(5),
            retry_delays: vec![Duration::from_millis(30), Duration::from_millis(60)],
        });
    }
}

fn entry(url: &str, kind: &str) -> Value {
    json!({"url": url, "objectId": 1, "type": kind, "level": "owner", "description": "synthesize-sync"})
}

fn error_fields(a: &Answer) -> Vec<String> {
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.body["code"], "InvalidObject");
    a.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

/// The signature a receiver expects, computed from the key it fetched itself.
fn expected_signature(signing_key: &str, body: &[u8]) -> String {
    let key = Sha256::digest(signing_key.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key.as_slice(), body))
}

async fn fetch_key(http: &reqwest::Client, key_url: &str) -> (u16, Value) {
    let resp = http.get(key_url).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn registration_crud_and_errors() {
    let cw = Cw::sample().await;
    let a = cw
        .register(json!({"url": "https://hooks.example/cw?recordId=", "objectId": 0, "type": "contact", "level": "owner"}))
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["id"].as_i64().unwrap();
    assert_eq!(
        a.body["objectId"], 1,
        "owner with objectId 0 comes back as 1"
    );
    assert_eq!(
        (a.body["type"].as_str(), a.body["level"].as_str()),
        (Some("contact"), Some("owner"))
    );
    assert!(a.body["memberId"].as_i64().unwrap() > 0);
    assert!(a.body["_info"]["lastUpdated"].is_string());
    assert_eq!(a.body["inactiveFlag"], false);

    let one = cw.get(&format!("/system/callbacks/{id}")).await;
    assert_eq!(
        (one.status.as_u16(), &one.body["url"]),
        (200, &a.body["url"])
    );
    let list = cw.get("/system/callbacks").await;
    assert_eq!(list.ids(), vec![id]);
    assert!(list.link("last").is_some());
    assert_eq!(cw.get("/system/callbacks/count").await.body["count"], 1);

    let del =
        Cw::send(cw.request(Method::DELETE, &cw.api(&format!("/system/callbacks/{id}")))).await;
    assert_eq!(del.status, 204);
    let again =
        Cw::send(cw.request(Method::DELETE, &cw.api(&format!("/system/callbacks/{id}")))).await;
    assert_eq!(
        (again.status.as_u16(), again.body["code"].as_str()),
        (404, Some("NotFound"))
    );
    assert_eq!(cw.get(&format!("/system/callbacks/{id}")).await.status, 404);
    assert_eq!(cw.get("/system/callbacks/count").await.body["count"], 0);

    // The 400s name the field.
    let base = entry("https://hooks.example/cw?recordId=", "contact");
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let mut no_url = base.clone();
    no_url.as_object_mut().unwrap().remove("url");
    assert_eq!(error_fields(&cw.register(no_url).await), ["url"]);
    assert_eq!(
        error_fields(&cw.register(with("url", json!("/relative"))).await),
        ["url"]
    );
    assert_eq!(
        error_fields(&cw.register(with("url", json!("ftp://h/x"))).await),
        ["url"]
    );
    assert_eq!(
        error_fields(&cw.register(with("level", json!("planet"))).await),
        ["level"]
    );
    assert_eq!(
        error_fields(&cw.register(with("type", json!("spaceship"))).await),
        ["type"]
    );
    let long = "x".repeat(101);
    assert_eq!(
        error_fields(&cw.register(with("description", json!(long))).await),
        ["description"]
    );
    let mut no_object = base.clone();
    no_object.as_object_mut().unwrap().remove("objectId");
    assert_eq!(error_fields(&cw.register(no_object).await), ["objectId"]);
    assert!(cw.sim.callbacks().is_empty(), "no 400 stores anything");

    // Same auth as every route.
    let anon = cw
        .http
        .post(cw.api("/system/callbacks"))
        .json(&base)
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    // PUT is not modelled.
    let put = Cw::send(
        cw.request(Method::PUT, &cw.api("/system/callbacks/1"))
            .json(&base),
    )
    .await;
    assert_eq!(put.status, 405);
}

#[tokio::test]
async fn listing_by_url_prefix_finds_only_ours() {
    let cw = Cw::sample().await;
    let ours = "https://sync.example/connectwise/callback?recordId=";
    for kind in ["contact", "configuration", "company", "ticket", "agreement"] {
        assert_eq!(cw.register(entry(ours, kind)).await.status, 201);
    }
    cw.register(entry("https://other.example/hook?id=", "contact"))
        .await;
    for cond in [
        r#"url like "https://sync.example/connectwise/callback%""#,
        r#"url contains "sync.example/connectwise""#,
    ] {
        let first = cw
            .query(
                "/system/callbacks",
                &[("conditions", cond), ("pageSize", "1000")],
            )
            .await;
        assert_eq!(first.status, 200, "{cond}: {}", first.body);
        assert_eq!(first.ids(), vec![1, 2, 3, 4, 5], "{cond}");
        let again = cw
            .query(
                "/system/callbacks",
                &[("conditions", cond), ("pageSize", "1000")],
            )
            .await;
        assert_eq!(first.body, again.body, "listing changes nothing");
    }
    let types = cw
        .query(
            "/system/callbacks",
            &[("conditions", r#"type = "ticket""#), ("fields", "id,type")],
        )
        .await;
    assert_eq!(types.body, json!([{"id": 4, "type": "ticket"}]));
    let count = cw
        .query(
            "/system/callbacks/count",
            &[("conditions", r#"url like "https://other%""#)],
        )
        .await;
    assert_eq!(count.body["count"], 1);
    let bad = cw
        .query("/system/callbacks", &[("conditions", r#"nosuch = 1"#)])
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn nth_create_fails_for_rollback_tests() {
    let cw = Cw::sample().await;
    cw.sim.fail_callback_create(Some(2));
    let url = "https://sync.example/cb?recordId=";
    assert_eq!(cw.register(entry(url, "contact")).await.status, 201);
    assert_eq!(cw.register(entry(url, "company")).await.status, 500);
    assert_eq!(cw.register(entry(url, "company")).await.status, 201);
    let kinds: Vec<String> = cw.sim.callbacks().into_iter().map(|c| c.kind).collect();
    assert_eq!(kinds, ["contact", "company"]);
}

#[tokio::test]
async fn changes_are_delivered_signed() {
    let cw = Cw::sample().await;
    let rx = Receiver::start(&[]).await;
    let hook = rx.url("/connectwise/callback?recordId=");
    let a = cw.register(entry(&hook, "contact")).await;
    let callback_id = a.body["id"].as_i64().unwrap();
    cw.register(json!({"url": rx.url("/inactive?recordId="), "objectId": 1, "type": "contact", "level": "owner", "inactiveFlag": true})).await;
    cw.register(entry(&rx.url("/companies?recordId="), "company"))
        .await;

    let company = cw.sim.tenant().companies[1].id;
    let contact = cw.sim.add_billed_user(company).expect("company exists");
    let done = cw.sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert_eq!(done.len(), 1, "one active contact callback: {done:?}");
    assert_eq!(done[0].callback_id, Some(callback_id));
    assert_eq!(done[0].status, Some(200));

    let got = rx.got();
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(
        g.uri,
        format!("/connectwise/callback?recordId={contact}&action=added")
    );
    let p = g.json();
    assert_eq!(p["Action"], "added");
    assert_eq!(p["Type"], "contact");
    assert_eq!(p["ID"], contact);
    assert_eq!(p["CompanyId"], cw.sim.credentials().company_id.as_str());
    assert!(p["MemberId"].is_string() && p["FromUrl"].is_string());
    assert!(p["MessageId"].as_str().unwrap().len() >= 32);
    assert_eq!(p["CallbackObjectRecId"], 1);
    let entity: Value =
        serde_json::from_str(p["Entity"].as_str().expect("Entity is a JSON string")).unwrap();
    assert_eq!(entity["id"], contact);
    assert_eq!(entity["company"]["id"], company);
    assert!(
        entity["types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "Billed User")
    );
    assert!(
        entity.get("title").is_none(),
        "nulls are left out, as the API serves it"
    );

    // Verified as a receiver must: fetch the key from key_url (no auth), hash it, HMAC the raw body.
    let key_url = p["Metadata"]["key_url"].as_str().unwrap();
    assert!(
        key_url.starts_with(&format!(
            "{}/v2025_1//system/callbackkey/index.rails?",
            cw.server.base_url()
        )),
        "{key_url}"
    );
    let (status, key) = fetch_key(&cw.http, key_url).await;
    assert_eq!(status, 200);
    let signing_key = key["signing_key"].as_str().unwrap();
    assert_eq!(
        g.signature.as_deref(),
        Some(expected_signature(signing_key, &g.body).as_str())
    );
    assert_ne!(
        g.signature.as_deref(),
        Some(expected_signature("wrong", &g.body).as_str())
    );

    // The change is served at once; the API sees the new contact.
    assert_eq!(
        cw.get(&format!("/company/contacts/{contact}")).await.status,
        200
    );

    // Update, delete; a ticket change fires no contact callback.
    cw.sim.clear_deliveries();
    assert!(
        cw.sim
            .update_contact(contact, |c| c.title = Some("CFO".into()))
    );
    cw.sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert!(cw.sim.delete_contact(contact));
    cw.sim.wait_for_deliveries(2, Duration::from_secs(5)).await;
    let ticket = cw.sim.tenant().tickets.first().cloned();
    if let Some(t) = ticket {
        cw.sim.update_ticket(t.id, |t| t.summary.push('!'));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got = rx.got();
    assert_eq!(got.len(), 3, "{got:?}");
    let updated = got[1].json();
    assert_eq!(
        (
            updated["Action"].as_str(),
            got[1].uri.ends_with("&action=updated")
        ),
        (Some("updated"), true)
    );
    let e: Value = serde_json::from_str(updated["Entity"].as_str().unwrap()).unwrap();
    assert_eq!(e["title"], "CFO");
    let deleted = got[2].json();
    assert_eq!(deleted["Action"], "deleted");
    assert_eq!(deleted["Entity"], Value::Null);
    assert_eq!(deleted["ID"], contact);
    assert_ne!(updated["MessageId"], deleted["MessageId"]);
    for g in &got {
        assert_eq!(
            g.signature.as_deref(),
            Some(expected_signature(signing_key, &g.body).as_str())
        );
    }

    // A company change goes to the company callback only.
    cw.sim.clear_deliveries();
    assert!(
        cw.sim
            .update_company(company, |c| c.set_market(Some("Legal")))
    );
    let done = cw.sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert!(
        done[0]
            .url
            .contains(&format!("/companies?recordId={company}&action=updated")),
        "{done:?}"
    );
}

#[tokio::test]
async fn retried_after_429_then_succeeds() {
    let cw = Cw::sample().await;
    cw.fast().await;
    let rx = Receiver::start(&[429, 200]).await;
    cw.register(entry(&rx.url("/cb?recordId="), "contact"))
        .await;
    let contact = cw.sim.tenant().contacts[0].id;
    cw.sim
        .update_contact(contact, |c| c.inactive_flag = !c.inactive_flag);
    let done = cw.sim.wait_for_deliveries(2, Duration::from_secs(5)).await;
    let statuses: Vec<_> = done.iter().map(|a| (a.attempt, a.status)).collect();
    assert_eq!(statuses, [(1, Some(429)), (2, Some(200))]);
    assert_eq!(
        done[0].message_id, done[1].message_id,
        "a retry is the same message"
    );
    let got = rx.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, got[1].body);
}

#[tokio::test]
async fn retried_only_twice_and_never_after_500() {
    let cw = Cw::sample().await;
    cw.fast().await;
    let rx = Receiver::start(&[404, 409, 419, 200]).await;
    cw.register(entry(&rx.url("/cb?recordId="), "contact"))
        .await;
    let contact = cw.sim.tenant().contacts[0].id;
    cw.sim
        .update_contact(contact, |c| c.inactive_flag = !c.inactive_flag);
    cw.sim.wait_for_deliveries(3, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let statuses: Vec<_> = cw.sim.deliveries().iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [Some(404), Some(409), Some(419)],
        "two retries, then given up"
    );
    assert_eq!(rx.got().len(), 3);

    let rx = Receiver::start(&[500, 200]).await;
    let cw = Cw::sample().await;
    cw.fast().await;
    cw.register(entry(&rx.url("/cb?recordId="), "contact"))
        .await;
    cw.sim
        .update_contact(contact, |c| c.inactive_flag = !c.inactive_flag);
    cw.sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let statuses: Vec<_> = cw.sim.deliveries().iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500)], "500 is not retried");
}

#[tokio::test]
async fn key_url_and_rotation() {
    let cw = Cw::sample().await;
    let old_url = cw.sim.key_url();
    let (status, body) = fetch_key(&cw.http, &old_url).await;
    assert_eq!(status, 200);
    let old_key = cw.sim.signing_key();
    assert_eq!(body, json!({"signing_key": old_key}));

    let new_url = cw.sim.rotate_signing_key();
    assert_ne!(new_url, old_url);
    let (_, body) = fetch_key(&cw.http, &new_url).await;
    let new_key = body["signing_key"].as_str().unwrap().to_string();
    assert_ne!(new_key, old_key);
    assert_eq!(new_key, cw.sim.signing_key());
    let (status, body) = fetch_key(&cw.http, &old_url).await;
    assert_eq!(
        (status, body["signing_key"].as_str()),
        (200, Some(old_key.as_str())),
        "old URL keeps its key"
    );

    let unknown = format!(
        "{}/v2025_1//system/callbackkey/index.rails?companyName=northwind&id=00000000-0000-4000-0000-000000000000",
        cw.server.base_url()
    );
    assert_eq!(fetch_key(&cw.http, &unknown).await.0, 404);

    // Deliveries after the rotation carry the new key_url and its signature.
    let rx = Receiver::start(&[]).await;
    cw.register(entry(&rx.url("/cb?recordId="), "contact"))
        .await;
    let company = cw.sim.tenant().companies[1].id;
    cw.sim.add_billed_user(company).unwrap();
    cw.sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    let g = &rx.got()[0];
    assert_eq!(g.json()["Metadata"]["key_url"], new_url.as_str());
    assert_eq!(
        g.signature.as_deref(),
        Some(expected_signature(&new_key, &g.body).as_str())
    );
}

#[tokio::test]
async fn hand_made_events_for_negative_tests() {
    let cw = Cw::sample().await;
    let rx = Receiver::start(&[]).await;
    let url = rx.url("/cb?recordId=9&action=updated");
    let event = CallbackEvent {
        action: CallbackAction::Updated,
        kind: "contact".into(),
        id: 9,
        company_id: None,
        entity: Some(json!({"id": 9, "firstName": "Eve"})),
    };
    let good = cw
        .sim
        .send_event(&url, &event, EventOverrides::default())
        .await;
    let replay = EventOverrides {
        message_id: Some(good.message_id.clone()),
        ..Default::default()
    };
    let replayed = cw.sim.send_event(&url, &event, replay).await;
    assert_eq!(replayed.message_id, good.message_id);
    let missing = EventOverrides {
        signature: Signature::Missing,
        ..Default::default()
    };
    cw.sim.send_event(&url, &event, missing).await;
    let forged = EventOverrides {
        signature: Signature::Value("Zm9yZ2Vk".into()),
        ..Default::default()
    };
    cw.sim.send_event(&url, &event, forged).await;
    let attacker = EventOverrides {
        key_url: Some("https://attacker.example/key".into()),
        signature: Signature::Key("attacker-key".into()),
        ..Default::default()
    };
    cw.sim.send_event(&url, &event, attacker).await;
    let raw = cw.sim.deliver_raw(&url, "{not json", Some("abc")).await;
    assert_eq!(raw.status, Some(200));

    let got = rx.got();
    assert_eq!(got.len(), 6);
    let key = cw.sim.signing_key();
    assert_eq!(
        got[0].signature.as_deref(),
        Some(expected_signature(&key, &got[0].body).as_str())
    );
    assert_eq!(got[0].json()["MessageId"], got[1].json()["MessageId"]);
    assert_eq!(got[2].signature, None);
    assert_eq!(got[3].signature.as_deref(), Some("Zm9yZ2Vk"));
    assert_eq!(
        got[4].json()["Metadata"]["key_url"],
        "https://attacker.example/key"
    );
    assert_eq!(
        got[4].signature.as_deref(),
        Some(expected_signature("attacker-key", &got[4].body).as_str())
    );
    assert_eq!(&got[5].body[..], b"{not json");
    assert_eq!(
        got[0].uri, "/cb?recordId=9&action=updated",
        "nothing appended to a hand-made event"
    );
    assert_eq!(cw.sim.deliveries().len(), 6, "every send is logged");
}

#[tokio::test]
async fn a_timeout_is_one_failed_try() {
    let cw = Cw::sample().await;
    cw.sim.set_delivery_timing(DeliveryTiming {
        timeout: Duration::from_millis(150),
        retry_delays: vec![Duration::from_millis(10), Duration::from_millis(10)],
    });
    // A receiver that never answers in time.
    let slow = Router::new().fallback(axum::routing::post(|| async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        StatusCode::OK
    }));
    let server = synthesize_sims::serve(slow, synthesize_sims::loopback())
        .await
        .unwrap();
    let hook = format!("{}/cb?recordId=", server.base_url());
    cw.register(entry(&hook, "contact")).await;
    let contact = cw.sim.tenant().contacts[0].id;
    cw.sim
        .update_contact(contact, |c| c.title = Some("x".into()));
    cw.sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let done = cw.sim.deliveries();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].status, None);
    assert!(done[0].error.is_some() && !done[0].succeeded());
}

#[tokio::test]
async fn bulk_changes_and_levels() {
    let cw = Cw::sample().await;
    let rx = Receiver::start(&[]).await;
    let tenant = cw.sim.tenant();
    let company = tenant
        .contacts
        .iter()
        .filter_map(|c| c.company.as_ref().map(|co| co.id))
        .next()
        .unwrap();
    cw.register(json!({"url": rx.url("/owner?recordId="), "objectId": 1, "type": "contact", "level": "owner"}))
        .await;
    cw.register(json!({"url": rx.url("/company?recordId="), "objectId": company, "type": "contact", "level": "company"}))
        .await;
    cw.register(json!({"url": rx.url("/board?recordId="), "objectId": 1, "type": "ticket", "level": "board"}))
        .await;
    let of_company: Vec<i64> = tenant
        .contacts
        .iter()
        .filter(|c| c.company.as_ref().map(|co| co.id) == Some(company))
        .map(|c| c.id)
        .collect();
    let other = tenant
        .contacts
        .iter()
        .find(|c| c.company.as_ref().map(|co| co.id) != Some(company))
        .unwrap()
        .id;
    // One bulk change: a contact of the company leaves, another elsewhere is renamed.
    cw.sim.update_tenant(|t| {
        t.contacts.retain(|c| c.id != of_company[0]);
        if let Some(c) = t.contacts.iter_mut().find(|c| c.id == other) {
            c.first_name.push('x');
        }
        if let Some(tk) = t.tickets.first_mut() {
            tk.summary.push('!');
        }
    });
    cw.sim.wait_for_deliveries(3, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut uris: Vec<String> = rx.got().into_iter().map(|g| g.uri).collect();
    uris.sort();
    let mut want = vec![
        format!("/company?recordId={}&action=deleted", of_company[0]),
        format!("/owner?recordId={}&action=deleted", of_company[0]),
        format!("/owner?recordId={other}&action=updated"),
    ];
    want.sort();
    assert_eq!(uris, want, "board-level callbacks register but never fire");
}
