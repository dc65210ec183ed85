//! The Autotask PSA simulator over real HTTP on loopback (docs/apis.md §3, checklist §3.9).
//! Filter-language tests are in `autotask/filters.rs`, helpers in `autotask/support.rs`.

#[path = "autotask/filters.rs"]
mod filters;
#[path = "autotask/support.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{At, everything, paging_of};
use synthesize_sims::FaultConfig;
use synthesize_sims::autotask::{AtGenerateSpec, AtTenant};

#[tokio::test]
async fn version_and_zone_information_need_no_auth() {
    let at = At::sample().await;
    let root = at.server.base_url();
    for path in [
        "/ATServicesRest/versioninformation",
        "/atservicesrest/VersionInformation",
    ] {
        let a = At::send(at.http.get(format!("{root}{path}"))).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.body, json!({"apiVersions": ["V1.0"]}));
    }
    let user = at.sim.credentials().username;
    let a = At::send(
        at.http
            .get(format!("{root}/atservicesrest/v1.0/zoneInformation"))
            .query(&[("user", user.to_uppercase())]),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let url = a.body["url"].as_str().unwrap();
    assert_eq!(url, at.base(), "points back at the simulator");
    assert!(url.ends_with('/'));
    assert!(a.body["zoneName"].is_string() && a.body["webUrl"].is_string());
    assert!(a.body["ci"].is_i64());

    // The zone url works as the base of the API.
    let a = at
        .post_abs(
            &format!("{url}V1.0/Companies/query"),
            &json!({"filter": everything()}),
        )
        .await;
    assert_eq!(a.status, 200);

    for query in ["?user=nobody@example.com", ""] {
        let a = At::send(
            at.http
                .get(format!("{root}/ATServicesRest/V1.0/zoneInformation{query}")),
        )
        .await;
        assert_eq!(a.status, 500);
        assert_eq!(a.error(), "Zone information could not be determined");
    }
    assert_eq!(
        at.sim.threshold_used(),
        1,
        "discovery calls are not counted"
    );
}

#[tokio::test]
async fn auth_failures_have_three_shapes() {
    let at = At::sample().await;
    let c = at.sim.credentials();
    let url = at.url("Companies/query");
    let body = json!({"filter": everything()});
    let send = |code: &str, user: &str, secret: Option<&str>| {
        let mut rb = at
            .http
            .post(&url)
            .json(&body)
            .header("ApiIntegrationCode", code)
            .header("UserName", user);
        if let Some(s) = secret {
            rb = rb.header("Secret", s);
        }
        At::send(rb)
    };
    let a = send(&c.integration_code, &c.username, Some("wrong")).await;
    assert_eq!(a.status, 401, "wrong secret");
    assert!(!a.error().is_empty());
    let a = send(&c.integration_code, "someone@else.example", Some(&c.secret)).await;
    assert_eq!(a.status, 500, "wrong username");
    assert!(!a.error().is_empty());
    let a = send(&c.integration_code, "someone@else.example", Some("wrong")).await;
    assert_eq!(a.status, 500, "wrong username and secret");
    let a = send("WRONGCODE", &c.username, Some(&c.secret)).await;
    assert_eq!(a.status, 500, "wrong integration code");
    assert!(!a.error().is_empty());
    let a = send(&c.integration_code, &c.username, None).await;
    assert_eq!(a.status, 500, "missing secret header");
    let a = At::send(at.http.post(&url).json(&body)).await;
    assert_eq!(a.status, 500, "no headers");
    let a = send(
        &c.integration_code,
        &c.username.to_uppercase(),
        Some(&c.secret),
    )
    .await;
    assert_eq!(a.status, 200, "user names ignore case");
    assert_eq!(at.sim.threshold_used(), 1, "refused calls are not counted");
    let statuses: Vec<u16> = at.sim.requests().all().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![401, 500, 500, 500, 500, 500, 200]);
}

#[tokio::test]
async fn paths_and_keys_ignore_case_and_routes_answer_like_aspnet() {
    let at = At::sample().await;
    let a = At::send(
        at.auth(at.http.post(format!(
            "{}/atservicesrest/v1.0/configurationitemtypes/QUERY",
            at.server.base_url()
        )))
        .json(&json!({"FILTER": everything(), "maxrecords": 3})),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.ids(), vec![1, 2, 3]);
    assert_eq!(a.body["pageDetails"]["requestCount"], 3);

    let a = at.get("Tickets/query?search=%7B%7D").await;
    assert_eq!(a.status, 404);
    assert!(
        a.body["Message"]
            .as_str()
            .unwrap()
            .contains("No HTTP resource")
    );
    let a = At::send(at.http.get(format!("{}/nothing", at.server.base_url()))).await;
    assert_eq!(a.status, 404);
    let a = at.get("Companies").await;
    assert_eq!(a.status, 405);
    let a = At::send(at.auth(at.http.delete(at.url("Companies/0")))).await;
    assert_eq!(
        a.body["Message"],
        "The requested resource does not support http method 'DELETE'."
    );
}

#[tokio::test]
async fn single_get_count_and_entity_information() {
    let at = At::sample().await;
    let a = at.get("Companies/0").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["item"]["id"], 0);
    assert_eq!(a.body["item"]["companyName"], "Northwind IT Services");
    assert_eq!(a.body["item"]["isActive"], true);
    let a = at.get("Companies/999999").await;
    assert_eq!((a.status.as_u16(), a.body), (200, json!({"item": null})));

    let items = at.sim.tenant().configuration_items;
    let ci = &items[0];
    let a = at.get(&format!("configurationitems/{}", ci.id)).await;
    let item = &a.body["item"];
    assert_eq!(item["companyID"], json!(ci.company_id));
    assert!(item["userDefinedFields"].is_array());
    for key in [
        "configurationItemType",
        "configurationItemCategoryID",
        "referenceTitle",
        "serialNumber",
        "productID",
        "contactID",
        "rmmDeviceAuditDeviceTypeID",
    ] {
        assert!(item.get(key).is_some(), "{key} in {item}");
    }

    let active = json!({"filter": [{"op": "eq", "field": "isActive", "value": true}]});
    let a = at.post("ConfigurationItems/query/count", &active).await;
    let expected = items.iter().filter(|i| i.is_active).count();
    assert_eq!(a.body, json!({"queryCount": expected}));
    let a = At::send(
        at.auth(at.http.get(at.url("ConfigurationItems/query/count")))
            .query(&[("search", active.to_string())]),
    )
    .await;
    assert_eq!(a.body, json!({"queryCount": expected}));

    let a = at.get("Companies/entityInformation/fields").await;
    let fields = a.body["fields"].as_array().unwrap();
    let is_active = fields.iter().find(|f| f["name"] == "isActive").unwrap();
    assert_eq!(is_active["dataType"], "boolean");
    let ty = fields.iter().find(|f| f["name"] == "companyType").unwrap();
    assert_eq!(ty["isPickList"], true);
}

#[tokio::test]
async fn max_records_bounds_and_include_fields() {
    let at = At::sample().await;
    for n in [json!(0), json!(501), json!(-1), json!("lots")] {
        let a = at
            .post(
                "Companies/query",
                &json!({"MaxRecords": n, "Filter": everything()}),
            )
            .await;
        assert_eq!(a.status, 500, "MaxRecords {n}");
        assert_eq!(
            a.error(),
            "maxCountOfRecordsToReturn must be between 1 and 500"
        );
    }
    for (n, count) in [(json!(1), 1), (json!(500), 16), (Value::Null, 16)] {
        let a = at
            .post(
                "Companies/query",
                &json!({"MaxRecords": n, "Filter": everything()}),
            )
            .await;
        assert_eq!(a.status, 200);
        assert_eq!(a.body["pageDetails"]["count"], count);
        let asked = if n.is_null() { json!(500) } else { n };
        assert_eq!(a.body["pageDetails"]["requestCount"], asked);
    }
    // Sorted by id, company 0 first.
    let a = at.query("Companies", everything()).await;
    let ids = a.ids();
    assert_eq!(ids[0], 0);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    let body = json!({"IncludeFields": ["id", "ReferenceTitle"], "filter": everything()});
    let a = at.post("ConfigurationItems/query", &body).await;
    let first = a.body["items"][0].as_object().unwrap();
    let mut keys: Vec<&String> = first.keys().collect();
    keys.sort();
    assert_eq!(keys, vec!["id", "referenceTitle"]);

    let a = at
        .post(
            "ConfigurationItems/query",
            &json!({"IncludeFields": ["serialNo"], "filter": everything()}),
        )
        .await;
    assert_eq!(a.status, 500);
    assert!(a.error().starts_with("Unable to find serialNo"));

    // Without `id`, fine on one page, refused when the results span more than one.
    let one_page = json!({"IncludeFields": ["companyName"], "filter": everything()});
    let a = at.post("Companies/query", &one_page).await;
    assert_eq!(a.status, 200);
    assert!(a.body["items"][0].get("id").is_none());
    let paged = json!({"IncludeFields": ["companyName"], "MaxRecords": 5, "filter": everything()});
    let a = at.post("Companies/query", &paged).await;
    assert_eq!(a.status, 500);
    assert!(a.error().contains("id"));
}

fn big() -> AtTenant {
    AtTenant::generate(&AtGenerateSpec {
        companies: 40,
        items: 1_234,
        seed: 7,
    })
}

#[tokio::test]
async fn post_paging_needs_the_same_body() {
    let at = At::start(big()).await;
    let body = json!({"filter": everything()});
    let (ids, pages) = at.all_ids("ConfigurationItems", &body).await;
    assert_eq!(pages, 3);
    assert_eq!(ids, at.ci_ids(|_| true));
    assert_eq!(ids.len(), 1_234);

    let first = at.post("ConfigurationItems/query", &body).await;
    let details = &first.body["pageDetails"];
    assert_eq!(details["count"], 500);
    assert_eq!(details["requestCount"], 500);
    assert_eq!(details["prevPageUrl"], Value::Null);
    let next = first.next_url().unwrap();
    assert!(
        next.starts_with(&format!(
            "{}V1.0/ConfigurationItems/query/next?paging=",
            at.base()
        )),
        "{next}"
    );
    let paging = paging_of(&next);
    assert_eq!(
        paging,
        json!({"pageSize": 500, "previousIds": [-1], "nextIds": [first.ids()[499]]})
    );

    // GET on a POST cursor: 405, the trap that truncates naive clients.
    let a = at.get_abs(&next).await;
    assert_eq!(a.status, 405);
    assert_eq!(
        a.body,
        json!({"Message": "The requested resource does not support http method 'GET'."})
    );
    // Another filter, or none, is refused.
    let other = json!({"filter": [{"op": "eq", "field": "isActive", "value": true}]});
    assert_eq!(at.post_abs(&next, &other).await.status, 500);
    assert_eq!(at.post_abs(&next, &json!({})).await.status, 500);
    let tampered = next.replace("%5B-1%5D", "%5B-2%5D");
    assert_ne!(tampered, next);
    assert_eq!(at.post_abs(&tampered, &body).await.status, 500);

    // The second page links back to the first.
    let second = at.post_abs(&next, &body).await;
    assert_eq!(second.status, 200);
    let prev = second.body["pageDetails"]["prevPageUrl"].as_str().unwrap();
    let back = at.post_abs(prev, &body).await;
    assert_eq!(back.ids(), first.ids());
    assert_eq!(back.body["pageDetails"]["prevPageUrl"], Value::Null);

    // A filtered query with a small page keeps its filter on every page.
    let body = json!({"MaxRecords": 100, "filter": [
        {"op": "eq", "field": "isActive", "value": true},
        {"op": "in", "field": "configurationItemType", "value": [1, 2]}]});
    let (ids, pages) = at.all_ids("ConfigurationItems", &body).await;
    let expected = at.ci_ids(|i| i.is_active && matches!(i.configuration_item_type, Some(1 | 2)));
    assert_eq!(ids, expected);
    assert_eq!(pages, expected.len().div_ceil(100));
}

#[tokio::test]
async fn get_search_paging_is_fetched_with_get() {
    let at = At::start(big()).await;
    let search = json!({"MaxRecords": 400, "filter": [{"op": "exist", "field": "companyID"}]});
    let first = At::send(
        at.auth(at.http.get(at.url("ConfigurationItems/query")))
            .query(&[("search", search.to_string())]),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let mut ids = first.ids();
    let mut next = first.next_url();
    let mut pages = 1;
    while let Some(url) = next {
        assert!(url.contains("&search="), "{url}");
        let a = at.get_abs(&url).await;
        assert_eq!(a.status, 200, "{}", a.body);
        ids.extend(a.ids());
        next = a.next_url();
        pages += 1;
    }
    let expected = at.ci_ids(|i| i.company_id.is_some());
    assert_eq!(ids, expected);
    assert_eq!(pages, expected.len().div_ceil(400));
}

#[tokio::test]
async fn threshold_information_counts_itself() {
    let at = At::sample().await;
    let a = at.get("ThresholdInformation").await;
    assert_eq!(
        a.body,
        json!({"externalRequestThreshold": 10000, "requestThresholdTimeframe": 60,
               "currentTimeframeRequestCount": 1})
    );
    at.query("Companies", everything()).await;
    at.post("Companies/query/count", &json!({"filter": everything()}))
        .await;
    let a = at.get("thresholdinformation").await;
    assert_eq!(a.body["currentTimeframeRequestCount"], 4);
    assert_eq!(at.sim.threshold_used(), 4);
    at.sim.set_hourly_threshold(250);
    let a = at.get("ThresholdInformation").await;
    assert_eq!(a.body["externalRequestThreshold"], 250);
}

#[tokio::test]
async fn over_the_threshold_calls_are_refused_until_usage_falls() {
    let at = At::sample().await;
    at.sim.set_hourly_threshold(4);
    at.sim.set_latency_per_call_above_half(Duration::ZERO);
    for _ in 0..4 {
        assert_eq!(at.query("Companies", everything()).await.status, 200);
    }
    let a = at.query("Companies", everything()).await;
    assert_eq!(a.status, 429);
    assert!(a.error().contains("threshold"), "{}", a.body);
    assert_eq!(a.header("retry-after"), None);
    at.sim.faults().update(|f| f.retry_after_secs = Some(7));
    let a = at.get("ThresholdInformation").await;
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after").as_deref(), Some("7"));
    assert_eq!(at.sim.threshold_used(), 4);

    at.sim.reset_threshold_usage();
    assert_eq!(at.query("Companies", everything()).await.status, 200);

    at.sim.set_threshold_window(Duration::from_millis(150));
    for _ in 0..3 {
        at.query("Companies", everything()).await;
    }
    assert_eq!(at.query("Companies", everything()).await.status, 429);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(at.sim.threshold_used(), 0);
    assert_eq!(at.query("Companies", everything()).await.status, 200);
}

#[tokio::test]
async fn above_half_the_threshold_calls_slow_down() {
    let at = At::sample().await;
    at.sim.set_hourly_threshold(10);
    let slow = Duration::from_millis(400);
    at.sim.set_latency_per_call_above_half(slow);
    let started = Instant::now();
    at.get("ThresholdInformation").await;
    assert!(started.elapsed() < slow, "the first call is fast");
    for _ in 0..4 {
        at.get("ThresholdInformation").await;
    }
    let started = Instant::now();
    let a = at.get("ThresholdInformation").await;
    assert_eq!(a.body["currentTimeframeRequestCount"], 6);
    assert!(started.elapsed() >= slow, "the 6th of 10 is slowed");
}

#[tokio::test]
async fn a_fourth_concurrent_request_to_one_entity_is_refused() {
    let at = At::sample().await;
    at.sim
        .faults()
        .update(|f| f.latency = Duration::from_millis(400));
    let q = || at.query("Companies", everything());
    let other = async {
        // Starts while the four Companies requests are in flight.
        tokio::time::sleep(Duration::from_millis(100)).await;
        at.query("ConfigurationItemTypes", everything()).await
    };
    let (a, b, c, d, e) = tokio::join!(q(), q(), q(), q(), other);
    let mut statuses: Vec<u16> = [a, b, c, d].iter().map(|x| x.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, vec![200, 200, 200, 429]);
    assert_eq!(e.status, 200, "other entities have their own slots");
    // Slots are released.
    at.sim.faults().clear();
    assert_eq!(q().await.status, 200);
}

#[tokio::test]
async fn injected_faults_come_after_auth() {
    let at = At::sample().await;
    at.sim.faults().set(FaultConfig {
        rate_429: 1.0,
        retry_after_secs: Some(3),
        ..FaultConfig::default()
    });
    let a = at.query("Companies", everything()).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.body, json!({"errors": ["Request Threshold Exceeded"]}));
    assert_eq!(a.header("retry-after").as_deref(), Some("3"));
    at.sim.faults().update(|f| f.retry_after_secs = None);
    let a = at.query("Companies", everything()).await;
    assert_eq!((a.status.as_u16(), a.header("retry-after")), (429, None));

    at.sim.faults().set(FaultConfig {
        rate_500: 1.0,
        ..FaultConfig::default()
    });
    let a = at.query("Companies", everything()).await;
    assert_eq!(a.status, 500);
    assert_eq!(a.body, json!({"errors": ["An unexpected error occurred"]}));
    let bad = At::send(
        at.http
            .post(at.url("Companies/query"))
            .header("ApiIntegrationCode", at.sim.credentials().integration_code)
            .header("UserName", at.sim.credentials().username)
            .header("Secret", "wrong"),
    )
    .await;
    assert_eq!(bad.status, 401, "auth is checked before faults");

    at.sim.faults().set(FaultConfig {
        failing_route: Some("ConfigurationItemTypes".into()),
        ..FaultConfig::default()
    });
    assert_eq!(
        at.query("ConfigurationItemTypes", everything())
            .await
            .status,
        500
    );
    assert_eq!(at.query("Companies", everything()).await.status, 200);
}

#[tokio::test]
async fn request_log_records_every_call() {
    let at = At::sample().await;
    at.query("Companies", everything()).await;
    at.query("ConfigurationItems", everything()).await;
    at.get("ThresholdInformation").await;
    At::send(at.http.get(format!(
        "{}/ATServicesRest/versioninformation",
        at.server.base_url()
    )))
    .await;
    let log = at.sim.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(log.count("POST", "/query"), 2);
    assert_eq!(log.count("GET", "ThresholdInformation"), 1);
    assert!(log.all().iter().all(|r| r.status == 200));
    assert_eq!(log.all()[0].uri, "/ATServicesRest/V1.0/Companies/query");
}

#[tokio::test]
async fn update_tenant_is_seen_by_later_queries() {
    let at = At::sample().await;
    let before = at
        .post("Companies/query/count", &json!({"filter": everything()}))
        .await;
    at.sim.update_tenant(|t| {
        let mut c = t.companies[1].clone();
        c.id = 5_000;
        c.company_name = "Wide World Importers".into();
        t.companies.push(c);
    });
    let after = at
        .post("Companies/query/count", &json!({"filter": everything()}))
        .await;
    assert_eq!(
        after.body["queryCount"].as_i64(),
        before.body["queryCount"].as_i64().map(|n| n + 1)
    );
    assert_eq!(
        at.get("Companies/5000").await.body["item"]["companyName"],
        "Wide World Importers"
    );
    assert_eq!(at.sim.tenant().companies.len(), 17);
}
