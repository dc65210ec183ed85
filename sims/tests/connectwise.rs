//! The ConnectWise PSA simulator over real HTTP on loopback (docs/apis.md §2, checklist §2.10).
//! Condition-language tests are in `connectwise/queries.rs`, the engagement entities (tickets,
//! time entries, agreements, additions) in `connectwise/engagement.rs`, helpers in
//! `connectwise/support.rs`, callbacks (registration, signed delivery, key URL) in
//! `connectwise/callbacks.rs`.

#[path = "connectwise/callbacks.rs"]
mod callbacks;
#[path = "connectwise/engagement.rs"]
mod engagement;
#[path = "connectwise/queries.rs"]
mod queries;
#[path = "connectwise/support.rs"]
mod support;

use reqwest::StatusCode;
use serde_json::Value;
use support::{Cw, ids_where};
use synthesize_sims::FaultConfig;
use synthesize_sims::connectwise::{BadAuthStyle, CwGenerateSpec, CwTenant};

#[tokio::test]
async fn company_info_needs_no_auth() {
    let cw = Cw::sample().await;
    let c = cw.sim.credentials();
    let url = format!(
        "{}/login/companyinfo/{}",
        cw.server.base_url(),
        c.company_id
    );
    let a = Cw::send(cw.http.get(&url)).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["Codebase"], "v2025_1/");
    assert_eq!(a.body["IsCloud"], "True", "IsCloud is a string");
    assert_eq!(a.body["CompanyID"], c.company_id.as_str());
    assert_eq!(a.body["CompanyName"], "Northwind IT Services");
    assert!(a.body["VersionCode"].is_string() && a.body["VersionNumber"].is_string());
    let unknown = format!("{}/login/companyinfo/nobody", cw.server.base_url());
    let a = Cw::send(cw.http.get(&unknown)).await;
    assert_eq!((a.status.as_u16(), a.body), (200, Value::Null));
    cw.sim.set_codebase("v4_6_release");
    let a = Cw::send(cw.http.get(&url)).await;
    assert_eq!(a.body["Codebase"], "v4_6_release/");
    assert_eq!(a.body["IsCloud"], "False");
}

#[tokio::test]
async fn auth_keys_client_id_and_routes() {
    let cw = Cw::sample().await;
    let ok = cw.get("/system/info").await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["isCloud"], true);
    assert!(ok.header("api-current-version").is_some());
    let c = cw.sim.credentials();

    let wrong = cw
        .http
        .get(cw.api("/company/companies"))
        .basic_auth(format!("{}+{}", c.company_id, c.public_key), Some("nope"))
        .header("clientId", &c.client_id);
    let a = Cw::send(wrong).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.body["code"], "Unauthorized");
    let none = Cw::send(
        cw.http
            .get(cw.api("/company/companies"))
            .header("clientId", &c.client_id),
    )
    .await;
    assert_eq!(none.status, 401);

    // Cloud style: bad keys look exactly like an unknown route.
    cw.sim.set_bad_auth_style(BadAuthStyle::Cloud404);
    let bad = cw
        .http
        .get(cw.api("/company/companies"))
        .basic_auth(format!("{}+wrong", c.company_id), Some(&c.private_key))
        .header("clientId", &c.client_id);
    let a = Cw::send(bad).await;
    let unknown = cw.get("/company/nothing").await;
    assert_eq!(
        (a.status, unknown.status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(a.body, unknown.body);
    assert_eq!(a.body["code"], "ConnectWiseApi");
    assert_eq!(a.body["message"], "The endpoint does not exist.");

    // clientId is required on every call (403), and must be the registered one.
    let no_client = cw.http.get(cw.api("/company/companies")).basic_auth(
        format!("{}+{}", c.company_id, c.public_key),
        Some(&c.private_key),
    );
    assert_eq!(Cw::send(no_client).await.status, 403);
    let sdk_bug = cw
        .http
        .get(cw.api("/company/companies"))
        .basic_auth(
            format!("{}+{}", c.company_id, c.public_key),
            Some(&c.private_key),
        )
        .header("CLIENTID", &c.company_id);
    assert_eq!(Cw::send(sdk_bug).await.status, 403);

    // Company id ignores case; v4_6_release always routes; paths ignore case; other
    // codebases do not exist.
    let upper = cw
        .http
        .get(format!(
            "{}/v4_6_release/apis/3.0/Company/Companies/Count",
            cw.server.base_url()
        ))
        .basic_auth(
            format!("{}+{}", c.company_id.to_uppercase(), c.public_key),
            Some(&c.private_key),
        )
        .header("clientid", &c.client_id);
    let a = Cw::send(upper).await;
    assert_eq!(
        (a.status.as_u16(), a.body["count"].as_u64()),
        (200, Some(16))
    );
    let other = format!(
        "{}/v2019_1/apis/3.0/company/companies",
        cw.server.base_url()
    );
    assert_eq!(Cw::send(cw.authed(&other)).await.status, 404);

    let post = cw.http.post(cw.api("/company/companies"));
    let c2 = cw.sim.credentials();
    let post = post
        .basic_auth(
            format!("{}+{}", c2.company_id, c2.public_key),
            Some(c2.private_key),
        )
        .header("clientId", c2.client_id);
    assert_eq!(Cw::send(post).await.status, 405);
}

#[tokio::test]
async fn fields_projection_info_and_nulls() {
    let cw = Cw::sample().await;
    let a = cw.get("/company/contacts?pageSize=1000").await;
    let max = a.body.as_array().unwrap();
    let c1010 = max.iter().find(|c| c["id"] == 1010).unwrap();
    assert!(c1010["_info"]["lastUpdated"].is_string());
    let href = c1010["company"]["_info"]["company_href"].as_str().unwrap();
    assert_eq!(
        href,
        format!(
            "{}/v2025_1/apis/3.0/company/companies/250",
            cw.server.base_url()
        )
    );
    assert_eq!(c1010["types"][0]["name"], "Billed User");
    let c1014 = max.iter().find(|c| c["id"] == 1014).unwrap();
    assert!(
        c1014.get("lastName").is_none(),
        "null properties are left out"
    );
    let orphan = max.iter().find(|c| c["id"] == 1150).unwrap();
    assert!(orphan.get("company").is_none());

    let a = cw.get("/company/contacts?fields=id,firstName,company/id,types/name&conditions=id%20in%20(1010,1150)").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body,
        serde_json::json!([
            {"id": 1010, "firstName": "Jürgen", "company": {"id": 250}, "types": [{"name": "Billed User"}, {"name": "Approver"}, {"name": "VIP"}]},
            {"id": 1150, "firstName": "Orphan", "types": [{"name": "Billed User"}]}
        ])
    );
    let a = cw.get("/company/contacts/1010?fields=id,_info").await;
    assert!(a.body["_info"]["dateEntered"].is_string() && a.body.get("firstName").is_none());
    assert_eq!(
        cw.get("/company/contacts?fields=id,nosuch").await.status,
        400
    );

    // Type entities: contact types have description, not name.
    let a = cw.get("/company/contacts/types").await;
    let first = &a.body[0];
    assert!(first["description"].is_string() && first.get("name").is_none());
    let a = cw
        .get("/company/configurations/types?conditions=inactiveFlag=true")
        .await;
    assert_eq!(a.body[0]["name"], "License - Retired");
    assert_eq!(a.body[0]["systemFlag"], false);
    let a = cw.get("/company/companies/250").await;
    assert_eq!(
        (a.status.as_u16(), a.body["name"].as_str()),
        (200, Some("Café Müller GmbH"))
    );
    assert_eq!(cw.get("/company/companies/999999").await.status, 404);
    assert_eq!(
        cw.get("/company/companies/abc").await.body["message"],
        "The endpoint does not exist."
    );
}

fn big() -> CwTenant {
    CwTenant::generate(&CwGenerateSpec {
        companies: 60,
        contacts: 2_600,
        configurations: 400,
        seed: 3,
    })
}

#[tokio::test]
async fn navigable_paging_and_link_header() {
    let cw = Cw::start(big()).await;
    let t = cw.sim.tenant();
    let all = ids_where(&t.contacts, |c| c.id, |_| true);
    let a = cw.get("/company/contacts").await;
    assert_eq!(a.ids(), all[..25], "default page size 25, ordered by id");
    assert!(a.link("prev").is_none());
    assert!(a.link("next").unwrap().ends_with("?page=2"));
    let a = cw.get("/company/contacts?pageSize=5000").await;
    assert_eq!(a.ids().len(), 1000, "pageSize silently capped at 1000");
    let a = cw.get("/company/contacts?pageSize=1000&page=9").await;
    assert_eq!(
        (a.status.as_u16(), a.ids().len()),
        (200, 0),
        "past the end: []"
    );

    // Link repeats the request's own parameters as sent (raw commas) and puts page last.
    let a = cw
        .get("/company/contacts?pageSize=50&fields=id,firstName,company/id&page=2")
        .await;
    let base = format!(
        "{}/v2025_1/apis/3.0/company/contacts?pageSize=50&fields=id,firstName,company/id&page=",
        cw.server.base_url()
    );
    let last = all.len().div_ceil(50);
    assert_eq!(
        a.links(),
        vec![
            ("first".to_string(), format!("{base}1")),
            ("prev".to_string(), format!("{base}1")),
            ("next".to_string(), format!("{base}3")),
            ("last".to_string(), format!("{base}{last}")),
        ]
    );
    let a = cw
        .get(&format!("/company/contacts?pageSize=50&page={last}"))
        .await;
    assert!(a.link("next").is_none() && a.link("prev").is_some() && a.link("last").is_some());

    // Following next collects everything exactly once; counts agree.
    let mut got = Vec::new();
    let mut url = Some(cw.api("/company/contacts?conditions=inactiveFlag%3Dfalse&pageSize=300"));
    let mut pages = 0;
    while let Some(u) = url {
        let a = Cw::send(cw.authed(&u)).await;
        got.extend(a.ids());
        url = a.link("next");
        pages += 1;
    }
    let active = ids_where(&t.contacts, |c| c.id, |c| !c.inactive_flag);
    assert_eq!(got, active);
    assert_eq!(pages, active.len().div_ceil(300));
    let n = cw
        .get("/company/contacts/count?conditions=inactiveFlag%3Dfalse")
        .await;
    assert_eq!(n.body, serde_json::json!({"count": active.len()}));

    // orderBy
    let a = cw
        .get("/company/companies?orderBy=name%20desc,id&pageSize=1000&fields=id,name")
        .await;
    let names: Vec<String> = a
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(names.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(
        cw.get("/company/companies?orderBy=nosuch").await.status,
        400
    );
    assert_eq!(cw.get("/company/companies?pageSize=ten").await.status, 400);
}

#[tokio::test]
async fn forward_only_paging() {
    let cw = Cw::start(big()).await;
    let t = cw.sim.tenant();
    let fwd = |u: &str| cw.authed(u).header("pagination-type", "forward-only");
    let mut got = Vec::new();
    let mut url = cw.api("/company/contacts?pageSize=1000&fields=id");
    let mut pages = 0;
    loop {
        let a = Cw::send(fwd(&url)).await;
        assert_eq!(a.status, 200);
        got.extend(a.ids());
        pages += 1;
        let link = a
            .header("link")
            .expect("Link always present in forward-only");
        if link.is_empty() {
            break;
        }
        let next = a.link("next").unwrap();
        assert!(
            next.ends_with(&format!("pageId={}", got.last().unwrap())),
            "{next}"
        );
        assert!(next.contains("fields=id&"));
        url = next;
    }
    assert_eq!(got, ids_where(&t.contacts, |c| c.id, |_| true));
    assert_eq!(pages, 3);
    let a = Cw::send(fwd(
        &cw.api("/company/contacts?pageId=1050&pageSize=3&page=7")
    ))
    .await;
    assert_eq!(
        a.ids(),
        ids_where(&t.contacts, |c| c.id, |c| c.id > 1050)[..3]
    );
    let a = Cw::send(fwd(&cw.api("/company/contacts?orderBy=lastName"))).await;
    assert_eq!(a.status, 400);
}

#[tokio::test]
async fn faults_429_500_failing_route_and_log() {
    let cw = Cw::sample().await;
    cw.sim.faults().set(FaultConfig {
        rate_429: 1.0,
        retry_after_secs: Some(7),
        ..Default::default()
    });
    let a = cw.get("/company/contacts").await;
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after").as_deref(), Some("7"));
    assert_eq!(a.body["error"], "ConnectWiseAPI");
    assert_eq!(
        a.body["message"],
        "Too many requests. Please try again in 7 seconds."
    );
    // Faults apply after auth, and never to companyinfo.
    let unauth = Cw::send(cw.http.get(cw.api("/company/contacts"))).await;
    assert_eq!(unauth.status, 401);
    let c = cw.sim.credentials();
    let info = Cw::send(cw.http.get(format!(
        "{}/login/companyinfo/{}",
        cw.server.base_url(),
        c.company_id
    )))
    .await;
    assert_eq!(info.status, 200);
    cw.sim.faults().set(FaultConfig {
        rate_429: 1.0,
        ..Default::default()
    });
    assert_eq!(
        cw.get("/system/info")
            .await
            .header("retry-after")
            .as_deref(),
        Some("1")
    );

    cw.sim.faults().set(FaultConfig {
        rate_500: 1.0,
        ..Default::default()
    });
    let a = cw.get("/company/contacts").await;
    assert_eq!(a.status, 500);
    assert_eq!(a.body["code"], "ConnectWiseApi");
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .starts_with("An error occurred")
    );

    cw.sim.faults().set(FaultConfig {
        failing_route: Some("company/configurations".into()),
        ..Default::default()
    });
    assert_eq!(cw.get("/company/configurations?page=2").await.status, 500);
    assert_eq!(cw.get("/company/contacts").await.status, 200);
    cw.sim.faults().clear();
    assert_eq!(cw.get("/company/configurations").await.status, 200);

    let log = cw.sim.requests();
    assert_eq!(log.count("GET", "/company/configurations"), 2);
    let statuses: Vec<u16> = log.all().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 401, 200, 429, 500, 500, 200, 200]);
    assert_eq!(log.all()[0].uri, "/v2025_1/apis/3.0/company/contacts");
}

#[tokio::test]
async fn per_minute_limiter() {
    let cw = Cw::sample().await;
    cw.sim.set_rate_limit_per_minute(Some(3));
    for _ in 0..3 {
        assert_eq!(cw.get("/company/companies/count").await.status, 200);
    }
    let a = cw.get("/company/companies/count").await;
    assert_eq!(a.status, 429);
    let secs: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs));
    assert_eq!(
        a.body["message"],
        format!("Too many requests. Please try again in {secs} seconds.")
    );
    cw.sim.set_rate_limit_per_minute(None);
    assert_eq!(cw.get("/company/companies/count").await.status, 200);
}

#[tokio::test]
async fn tenant_updates_are_served() {
    let cw = Cw::sample().await;
    assert_eq!(cw.get("/company/contacts/count").await.body["count"], 46);
    cw.sim.update_tenant(|t| {
        t.contacts
            .retain(|c| c.company.as_ref().is_none_or(|r| r.id != 250))
    });
    assert_eq!(cw.get("/company/contacts/count").await.body["count"], 39);
    assert_eq!(cw.contact_ids("company/id=250").await, Vec::<i64>::new());
}

#[tokio::test]
async fn generated_tenant_at_scale() {
    let t = CwTenant::generate(&CwGenerateSpec::default());
    assert_eq!((t.companies.len(), t.contacts.len()), (300, 20_000));
    let cw = Cw::start(t.clone()).await;
    let a = cw
        .query(
            "/company/contacts/count",
            &[
                ("conditions", "inactiveFlag=false AND company/id != null"),
                ("childConditions", "types/name=\"Billed User\""),
            ],
        )
        .await;
    let expected = t
        .contacts
        .iter()
        .filter(|c| {
            !c.inactive_flag
                && c.company.is_some()
                && c.types.iter().any(|k| k.name == "Billed User")
        })
        .count();
    assert_eq!(a.body["count"].as_u64(), Some(expected as u64));
    assert!(expected > 8_000, "{expected}");
}
