//! The engagement entities over HTTP: tickets (the `_info.dateEntered` trap), time entries,
//! agreements and additions; conditions with dates, `fields`, paging, `/count`, 404s, and
//! data changed while the server runs (docs/apis.md §2.3–§2.5, §2.8; docs/contract.md §3b).

use serde_json::Value;
use synthesize_sims::connectwise::{
    CwEngagementSpec, CwTenant, CwTicket, CwTimeEntry, SAMPLE_NOW, format_datetime,
};

use super::support::{Cw, ids_where};

/// The sample's 90-day window ending at SAMPLE_NOW (2026-12-01T12:00:00Z).
const FROM: &str = "2026-09-02T12:00:00Z";
const TO: &str = "2026-12-01T12:00:00Z";

fn all(cond: &str) -> Vec<(&'static str, String)> {
    vec![
        ("conditions", cond.to_string()),
        ("pageSize", "1000".to_string()),
    ]
}

async fn list(cw: &Cw, path: &str, q: &[(&str, String)]) -> Vec<Value> {
    let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = cw.query(path, &q).await;
    assert_eq!(a.status, 200, "{path} {q:?}: {}", a.body);
    a.body.as_array().unwrap().clone()
}

#[tokio::test]
async fn ticket_dates_live_in_info_but_work_in_conditions() {
    assert_eq!(format_datetime(SAMPLE_NOW), TO);
    let cw = Cw::sample().await;
    let cond = format!("company/id=288 AND dateEntered >= [{FROM}] AND dateEntered < [{TO}]");
    let rows = list(&cw, "/service/tickets", &all(&cond)).await;
    assert_eq!(
        rows.len(),
        7,
        "the contract's example: 7 tickets in the window"
    );
    for r in &rows {
        assert!(
            r.get("dateEntered").is_none(),
            "no top-level dateEntered: {r}"
        );
        let entered = r["_info"]["dateEntered"].as_str().unwrap();
        assert!((FROM..TO).contains(&entered), "{entered}");
        assert!(r["board"]["name"].is_string() && r["status"]["name"].is_string());
        assert_eq!(r["company"]["identifier"], "Contoso");
        // Null dates are left out, never sent as null.
        for k in ["closedDate", "dateResolved"] {
            assert!(r.get(k).is_none_or(Value::is_string), "{k}: {r}");
        }
    }
    // The window is closed at `from`, open at `to`: one ticket sits on each boundary.
    let at_from = format!("company/id=288 AND dateEntered = [{FROM}]");
    assert_eq!(list(&cw, "/service/tickets", &all(&at_from)).await.len(), 1);
    let at_to = format!("company/id=288 AND dateEntered = [{TO}]");
    assert_eq!(list(&cw, "/service/tickets", &all(&at_to)).await.len(), 1);
    // Date-only literals and lastUpdated work as on other entities.
    let date_only = "company/id=288 AND dateEntered >= [2026-09-03] AND dateEntered < [2026-12-01]";
    assert_eq!(
        list(&cw, "/service/tickets", &all(date_only)).await.len(),
        6
    );

    // fields: `_info/dateEntered` projects; a top-level `dateEntered` is no field (400).
    let q = [
        ("conditions", cond.clone()),
        ("fields", "id,_info/dateEntered,closedDate".into()),
    ];
    let rows = list(&cw, "/service/tickets", &q).await;
    assert_eq!(rows.len(), 7);
    for r in &rows {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert!(
            keys.iter()
                .all(|k| ["id", "_info", "closedDate"].contains(&k.as_str()))
        );
        assert_eq!(r["_info"].as_object().unwrap().len(), 1, "{r}");
    }
    let a = cw
        .query("/service/tickets", &[("fields", "id,dateEntered")])
        .await;
    assert_eq!(a.status, 400, "{}", a.body);
    // Without `_info` in fields there is no date at all.
    let rows = list(&cw, "/service/tickets", &[("fields", "id,summary".into())]).await;
    assert!(rows.iter().all(|r| r.get("_info").is_none()));

    // closedFlag, closedDate, dateResolved and company/id in conditions.
    let t = cw.sim.tenant();
    let closed = ids_where(&t.tickets, |x| x.id, |x| x.closed_flag);
    let got: Vec<i64> = list(&cw, "/service/tickets", &all("ClosedFlag = True"))
        .await
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, closed);
    let no_resolution = "closedFlag=true and dateResolved = null and company/id = 288";
    let rows = list(&cw, "/service/tickets", &all(no_resolution)).await;
    assert_eq!(rows.len(), 1, "closed without dateResolved");
    assert_eq!(rows[0]["summary"], "Printer offline");
    let recent_closed = format!("closedDate >= [{FROM}] AND company/id in (288, 251)");
    assert!(
        !list(&cw, "/service/tickets", &all(&recent_closed))
            .await
            .is_empty()
    );
    let a = cw
        .query("/service/tickets", &[("conditions", "closedDate = \"x\"")])
        .await;
    assert_eq!(a.status, 400, "a date field wants a [date]");
}

#[tokio::test]
async fn time_entries_hours_and_billable_options() {
    let cw = Cw::sample().await;
    let cond = format!(
        "company/id=288 AND billableOption=\"Billable\" AND timeStart >= [{FROM}] AND timeStart < [{TO}]"
    );
    let rows = list(&cw, "/time/entries", &all(&cond)).await;
    assert_eq!(rows.len(), 102);
    let tenths = rows.iter().filter(|r| r["actualHours"] == 0.1).count();
    assert_eq!(tenths, 100);
    let hundredths: i64 = rows
        .iter()
        .map(|r| (r["actualHours"].as_f64().unwrap() * 100.0).round() as i64)
        .sum();
    assert_eq!(hundredths, 1250, "12.5 billable hours");
    let r = &rows[0];
    for k in ["timeStart", "timeEnd", "chargeToType", "billableOption"] {
        assert!(r[k].is_string(), "{k}: {r}");
    }
    assert!(r["chargeToId"].is_i64() && r["member"]["identifier"].is_string());
    // The raw body writes decimals as JSON numbers.
    let a = cw
        .query(
            "/time/entries",
            &[("conditions", "actualHours = 0.1"), ("pageSize", "1")],
        )
        .await;
    assert!(a.body[0]["actualHours"].is_f64());
    assert!(a.body.to_string().contains("\"actualHours\":0.1"));
    let options = ["Billable", "DoNotBill", "NoCharge", "NoDefault"];
    for o in options {
        let c = format!("billableOption = \"{o}\" and company/id = 288");
        assert!(
            !list(&cw, "/time/entries", &all(&c)).await.is_empty(),
            "{o}"
        );
    }
    let n = cw.get("/time/entries/count").await;
    assert_eq!(n.body["count"], cw.sim.tenant().time_entries.len());
}

#[tokio::test]
async fn agreements_and_their_additions() {
    let cw = Cw::sample().await;
    let started = format!("startDate >= [{FROM}] AND cancelledFlag = false");
    let rows = list(&cw, "/finance/agreements", &all(&started)).await;
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [7004, 7005, 7006]);
    assert!(rows.iter().all(|r| r["type"]["name"].is_string()
        && r["agreementStatus"] == "Active"
        && r["company"]["id"].is_i64()));
    let open_ended = list(&cw, "/finance/agreements", &all("endDate = null")).await;
    assert!(open_ended.iter().all(|r| r.get("endDate").is_none()));
    assert!(!open_ended.is_empty());
    let cancelled = list(&cw, "/finance/agreements", &all("cancelledFlag=true")).await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["agreementStatus"], "Cancelled");
    let expired = list(
        &cw,
        "/finance/agreements",
        &all("agreementStatus=\"Expired\""),
    )
    .await;
    assert_eq!(expired.len(), 1);

    let a = cw.get("/finance/agreements/7001/additions").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.ids(), [9001, 9002, 9003, 9004]);
    for r in a.body.as_array().unwrap() {
        assert_eq!(r["agreementId"], 7001);
        assert!(r["product"]["identifier"].is_string() && r["quantity"].is_number());
        assert!(r["effectiveDate"].as_str().unwrap().ends_with("T00:00:00Z"));
    }
    let q = all(&format!(
        "effectiveDate >= [{FROM}] and cancelledDate = null"
    ));
    let rows = list(&cw, "/finance/agreements/7001/additions", &q).await;
    assert_eq!(rows.len(), 1, "one live addition in the window");
    let n = cw.get("/finance/agreements/7001/additions/count").await;
    assert_eq!(n.body["count"], 4);
    let one = cw.get("/finance/agreements/7001/additions/9002").await;
    assert_eq!(one.body["product"]["identifier"], "AV-ENDPOINT");
    assert_eq!(
        cw.get("/finance/agreements/7002/additions/9002")
            .await
            .status,
        404,
        "an addition of another agreement"
    );

    // An unknown agreement: the usual error body, on the list, count and single get.
    for path in [
        "/finance/agreements/999999/additions",
        "/finance/agreements/999999/additions/count",
        "/finance/agreements/999999/additions/9001",
    ] {
        let a = cw.get(path).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.body["code"], "NotFound");
        assert!(a.body["message"].as_str().unwrap().contains("999999"));
        assert!(a.body.get("errors").is_some());
    }
    assert_eq!(
        cw.get("/finance/agreements/abc/additions").await.body["message"],
        "The endpoint does not exist."
    );
}

#[tokio::test]
async fn companies_have_markets_types_and_default_contacts() {
    let cw = Cw::sample().await;
    let rows = list(
        &cw,
        "/company/companies",
        &[(
            "fields",
            "id,market/name,defaultContact/name,status/name,types/name".into(),
        )],
    )
    .await;
    let market = |id: i64| {
        rows.iter()
            .find(|r| r["id"] == id)
            .and_then(|r| r["market"]["name"].as_str())
    };
    assert_eq!(market(288), Some("Financial"));
    assert_eq!(market(512), Some("Financial Services"));
    assert_eq!(market(640), None, "no market: left out");
    let contoso = rows.iter().find(|r| r["id"] == 288).unwrap();
    assert_eq!(contoso["defaultContact"]["name"], "Alex Wilber");
    assert_eq!(contoso["types"][0]["name"], "Client");
    let c = cw
        .query(
            "/company/companies",
            &[(
                "conditions",
                "market/name = \"Legal\" and deletedFlag = false",
            )],
        )
        .await;
    assert_eq!(c.ids(), [251, 19298]);
    let items = cw
        .query(
            "/company/contacts",
            &[
                ("conditions", "defaultFlag = true and company/id = 288"),
                ("fields", "id,communicationItems"),
            ],
        )
        .await;
    let item = &items.body[0]["communicationItems"][0];
    assert_eq!(
        (
            item["communicationType"].as_str(),
            item["type"]["name"].as_str()
        ),
        (Some("Email"), Some("Email"))
    );
    assert_eq!(item["defaultFlag"], true);
}

#[tokio::test]
async fn paging_and_counts_on_a_generated_tenant() {
    let spec = CwEngagementSpec {
        companies: 120,
        tickets: 3_000,
        time_entries: 2_500,
        agreements: 150,
        ..CwEngagementSpec::default()
    };
    let cw = Cw::start(CwTenant::generate_engagement(&spec)).await;
    let t = cw.sim.tenant();
    let all_ids = ids_where(&t.tickets, |x| x.id, |_| true);
    let a = cw.get("/service/tickets").await;
    assert_eq!(a.ids(), all_ids[..25], "default page size 25, by id");
    assert!(a.link("prev").is_none());
    assert!(a.link("next").unwrap().ends_with("?page=2"));
    let a = cw.get("/service/tickets?pageSize=5000&page=2").await;
    assert_eq!(a.ids(), all_ids[1000..2000], "capped at 1000");
    let last = all_ids.len().div_ceil(1000);
    assert!(a.link("last").unwrap().ends_with(&format!("page={last}")));
    let a = cw.get("/service/tickets?pageSize=1000&page=99").await;
    assert_eq!((a.status.as_u16(), a.ids().len()), (200, 0));

    // Following next with a date condition and fields collects each row once.
    let from = format_datetime(spec.now - 30 * 86_400);
    let cond = format!("dateEntered >= [{from}]");
    let mut url = Some(cw.api(&format!(
        "/service/tickets?conditions={}&fields=id,_info/dateEntered&pageSize=400",
        cond.replace(' ', "%20")
    )));
    let mut got = Vec::new();
    while let Some(u) = url {
        let a = Cw::send(cw.authed(&u)).await;
        assert_eq!(a.status, 200, "{}", a.body);
        got.extend(a.ids());
        url = a.link("next");
    }
    let want = ids_where(
        &t.tickets,
        |x| x.id,
        |x| x.info["dateEntered"].as_str() >= from.as_str(),
    );
    assert!(!want.is_empty() && want.len() < all_ids.len());
    assert_eq!(got, want);
    let n = cw
        .query("/service/tickets/count", &[("conditions", cond.as_str())])
        .await;
    assert_eq!(n.body["count"], want.len());

    // Forward-only paging on time entries.
    let mut page_id = 0;
    let mut seen = 0;
    loop {
        let u = cw.api(&format!("/time/entries?pageSize=1000&pageId={page_id}"));
        let a = Cw::send(cw.authed(&u).header("pagination-type", "forward-only")).await;
        seen += a.ids().len();
        let link = a.header("link").unwrap();
        if link.is_empty() {
            break;
        }
        page_id = *a.ids().last().unwrap();
    }
    assert_eq!(seen, t.time_entries.len());
    // orderBy on a date field.
    let a = cw
        .get("/finance/agreements?orderBy=startDate%20desc&pageSize=3&fields=id,startDate")
        .await;
    let dates: Vec<&str> = a
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["startDate"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    let n = cw.get("/finance/agreements/count").await;
    assert_eq!(n.body["count"], t.agreements.len());
}

#[tokio::test]
async fn data_changes_while_the_server_runs() {
    let cw = Cw::sample().await;
    let before = cw
        .get("/service/tickets/count?conditions=company/id=640")
        .await;
    assert_eq!(before.body["count"], 0);
    let shell = cw.sim.tenant().company(640).cloned().unwrap();
    let id = cw.sim.add_ticket(CwTicket::build(
        0,
        Some(&shell),
        "First ticket ever",
        SAMPLE_NOW - 3_600,
        Some(SAMPLE_NOW - 1_800),
        None,
    ));
    assert!(id > 30_000, "the next free id");
    let a = cw.get(&format!("/service/tickets/{id}")).await;
    assert_eq!(a.body["summary"], "First ticket ever");
    assert_eq!(a.body["dateResolved"], "2026-12-01T11:30:00Z");
    assert_eq!(
        cw.get("/service/tickets/count?conditions=company/id=640")
            .await
            .body["count"],
        1
    );
    // Replacing by id changes the row in place.
    let mut closed = cw.sim.tenant().ticket(id).cloned().unwrap();
    closed.closed_flag = true;
    closed.closed_date = Some("2026-12-01T11:45:00Z".into());
    assert_eq!(cw.sim.add_ticket(closed), id);
    let a = cw.get(&format!("/service/tickets/{id}")).await;
    assert_eq!(a.body["closedFlag"], true);

    let e = cw.sim.add_time_entry(CwTimeEntry::build(
        0,
        Some(&shell),
        Some(id),
        0,
        SAMPLE_NOW - 3_600,
        0.75,
        "Billable",
    ));
    let a = cw.get(&format!("/time/entries/{e}")).await;
    assert_eq!(
        (
            a.body["actualHours"].as_f64(),
            a.body["chargeToId"].as_i64()
        ),
        (Some(0.75), Some(id))
    );

    let mut contact = cw.sim.tenant().contact(1050).cloned().unwrap();
    contact.id = 0;
    contact.first_name = "Newly".into();
    let k = cw.sim.add_contact(contact);
    let a = cw.get(&format!("/company/contacts/{k}")).await;
    assert_eq!(a.body["firstName"], "Newly");
}
