//! The filter language (docs/apis.md §3.3) over HTTP, on the sample tenant: every operator,
//! grouping, case rules, and the traps (unknown operator ignored, unknown field 500,
//! empty filter 500, boolean type check 500).

use serde_json::{Value, json};

use super::support::{At, everything};

async fn ci(at: &At, filter: Value) -> Vec<i64> {
    let a = at.query("ConfigurationItems", filter.clone()).await;
    assert_eq!(a.status, 200, "{filter}: {}", a.body);
    a.ids()
}

fn title(i: &synthesize_sims::autotask::AtConfigurationItem) -> String {
    i.reference_title.clone().unwrap_or_default().to_lowercase()
}

#[tokio::test]
async fn comparison_operators() {
    let at = At::sample().await;
    let all = at.ci_ids(|_| true);
    let pivot = all[all.len() / 2];

    let got = ci(
        &at,
        json!([{"op": "eq", "field": "companyID", "value": 174}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| i.company_id == Some(174)));
    assert!(!got.is_empty());

    // Company 0 is a real company: eq 0 finds the MSP's own items.
    let got = ci(&at, json!([{"op": "eq", "field": "companyID", "value": 0}])).await;
    assert_eq!(got, at.ci_ids(|i| i.company_id == Some(0)));
    assert!(!got.is_empty());

    // noteq: null types do not match (SQL semantics), other types do.
    let got = ci(
        &at,
        json!([{"op": "noteq", "field": "configurationItemType", "value": 1}]),
    )
    .await;
    assert_eq!(
        got,
        at.ci_ids(|i| i.configuration_item_type.is_some_and(|t| t != 1))
    );

    for (op, f) in [
        ("gt", (|a: i64, b: i64| a > b) as fn(i64, i64) -> bool),
        ("gte", |a, b| a >= b),
        ("lt", |a, b| a < b),
        ("lte", |a, b| a <= b),
    ] {
        let got = ci(&at, json!([{"op": op, "field": "id", "value": pivot}])).await;
        assert_eq!(got, at.ci_ids(|i| f(i.id, pivot)), "{op}");
    }

    // Numbers may come as strings.
    let got = ci(
        &at,
        json!([{"op": "eq", "field": "companyID", "value": "199"}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| i.company_id == Some(199)));
}

#[tokio::test]
async fn string_operators_ignore_case() {
    let at = At::sample().await;
    let got = ci(
        &at,
        json!([{"op": "beginsWith", "field": "referenceTitle", "value": "contoso-"}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| title(i).starts_with("contoso-")));
    assert!(got.len() > 5);

    let got = ci(
        &at,
        json!([{"op": "endswith", "field": "REFERENCETITLE", "value": "-LT01"}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| title(i).ends_with("-lt01")));
    assert!(got.len() > 3);

    let got = ci(
        &at,
        json!([{"op": "contains", "field": "referenceTitle", "value": "Srv"}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| title(i).contains("srv")));

    let got = ci(
        &at,
        json!([{"op": "eq", "field": "referenceTitle", "value": "coho-ws01"}]),
    )
    .await;
    assert_eq!(got.len(), 1);

    // Accented names compare without case too.
    let a = at
        .query(
            "Companies",
            json!([{"op": "eq", "field": "companyName", "value": "BÄCKEREI SCHÄFER KG"}]),
        )
        .await;
    assert_eq!(a.ids(), vec![178]);
    let a = at
        .query(
            "companies",
            json!([{"op": "contains", "field": "companyname", "value": "& wesson"}]),
        )
        .await;
    assert_eq!(
        a.body["items"][0]["companyName"],
        "Smith & Wesson Dental, P.C."
    );
}

#[tokio::test]
async fn exist_in_and_booleans() {
    let at = At::sample().await;
    let got = ci(
        &at,
        json!([{"op": "exist", "field": "configurationItemType"}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| i.configuration_item_type.is_some()));
    let got = ci(
        &at,
        json!([{"op": "notExist", "field": "configurationItemType"}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| i.configuration_item_type.is_none()));
    assert!(!got.is_empty());
    let got = ci(&at, json!([{"op": "notexist", "field": "companyID"}])).await;
    assert_eq!(got, at.ci_ids(|i| i.company_id.is_none()));

    let got = ci(
        &at,
        json!([{"op": "in", "field": "configurationItemType", "value": [1, 2]}]),
    )
    .await;
    assert_eq!(
        got,
        at.ci_ids(|i| matches!(i.configuration_item_type, Some(1 | 2)))
    );
    let got = ci(
        &at,
        json!([{"op": "notIn", "field": "configurationItemType", "value": [1, 2]}]),
    )
    .await;
    assert_eq!(
        got,
        at.ci_ids(|i| i.configuration_item_type.is_some_and(|t| t != 1 && t != 2))
    );
    let got = ci(
        &at,
        json!([{"op": "in", "field": "companyID", "value": []}]),
    )
    .await;
    assert!(got.is_empty());

    let got = ci(
        &at,
        json!([{"op": "eq", "field": "isActive", "value": true}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| i.is_active));
    let got = ci(
        &at,
        json!([{"op": "eq", "field": "isactive", "value": false}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| !i.is_active));
    assert!(!got.is_empty());
}

#[tokio::test]
async fn and_or_and_top_level_and() {
    let at = At::sample().await;
    let or = json!([{"op": "or", "items": [
        {"op": "eq", "field": "companyID", "value": 0},
        {"op": "eq", "field": "companyID", "value": 199}]}]);
    let got = ci(&at, or).await;
    assert_eq!(got, at.ci_ids(|i| matches!(i.company_id, Some(0 | 199))));

    // Top-level items are ANDed.
    let got = ci(
        &at,
        json!([
            {"op": "eq", "field": "isActive", "value": true},
            {"op": "eq", "field": "companyID", "value": 174}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| i.is_active && i.company_id == Some(174)));

    // or of ands.
    let nested = json!([{"op": "or", "items": [
        {"op": "and", "items": [
            {"op": "eq", "field": "companyID", "value": 174},
            {"op": "eq", "field": "configurationItemType", "value": 2}]},
        {"op": "and", "items": [
            {"op": "eq", "field": "companyID", "value": 199},
            {"op": "eq", "field": "isActive", "value": false}]}]}]);
    let got = ci(&at, nested).await;
    assert_eq!(
        got,
        at.ci_ids(
            |i| (i.company_id == Some(174) && i.configuration_item_type == Some(2))
                || (i.company_id == Some(199) && !i.is_active)
        )
    );
}

#[tokio::test]
async fn unknown_operator_is_silently_ignored() {
    let at = At::sample().await;
    // `ne` does not exist: the item is dropped and everything comes back (the real trap).
    let got = ci(
        &at,
        json!([{"op": "ne", "field": "isActive", "value": false}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|_| true));
    // Alongside a real condition, only the real one applies.
    let got = ci(
        &at,
        json!([
            {"op": "startsWith", "field": "referenceTitle", "value": "zzz"},
            {"op": "eq", "field": "companyID", "value": 181}]),
    )
    .await;
    assert_eq!(got, at.ci_ids(|i| i.company_id == Some(181)));
}

#[tokio::test]
async fn refusals_are_500_with_errors() {
    let at = At::sample().await;
    let a = at
        .query(
            "ConfigurationItems",
            json!([{"op": "eq", "field": "projectID", "value": 1}]),
        )
        .await;
    assert_eq!(a.status, 500);
    assert_eq!(
        a.error(),
        "Unable to find projectID in the ConfigurationItem Entity."
    );

    for body in [json!({"filter": []}), json!({"MaxRecords": 10}), json!({})] {
        let a = at.post("Companies/query", &body).await;
        assert_eq!(a.status, 500, "{body}");
        assert!(!a.error().is_empty());
    }
    let bare = at.auth(at.http.post(at.url("Companies/query")));
    assert_eq!(bare.send().await.unwrap().status(), 500, "no body at all");

    for value in [json!("true"), Value::Null, json!(1)] {
        let a = at
            .query(
                "Companies",
                json!([{"op": "eq", "field": "isActive", "value": value}]),
            )
            .await;
        assert_eq!(a.status, 500, "isActive eq {value}");
        assert!(a.error().contains("isActive"), "{}", a.body);
    }
    let a = at
        .query(
            "Companies",
            json!([{"op": "in", "field": "isActive", "value": [true, "false"]}]),
        )
        .await;
    assert_eq!(a.status, 500);
    let a = at
        .query(
            "Companies",
            json!([{"op": "eq", "field": "companyType", "value": "customer"}]),
        )
        .await;
    assert_eq!(a.status, 500);

    // The count endpoint applies the same rules.
    let a = at
        .post("Companies/query/count", &json!({"filter": []}))
        .await;
    assert_eq!(a.status, 500);
    let a = at
        .post("Companies/query/count", &json!({"filter": everything()}))
        .await;
    assert_eq!(a.body["queryCount"], 16);
}
