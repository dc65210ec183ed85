//! The condition language over HTTP: operators, logic, quoting, paths, dates, nulls,
//! childConditions, customFieldConditions and the 400s (docs/apis.md §2.3).

use std::collections::BTreeSet;

use super::support::{Cw, ids_where};

#[tokio::test]
async fn comparison_operators() {
    let cw = Cw::sample().await;
    let t = cw.sim.tenant();
    let all = ids_where(&t.contacts, |c| c.id, |_| true);
    assert_eq!(cw.contact_ids("id=1010").await, [1010]);
    assert_eq!(cw.contact_ids("id != 1010").await.len(), all.len() - 1);
    assert_eq!(
        cw.contact_ids("id<1012").await,
        ids_where(&t.contacts, |c| c.id, |c| c.id < 1012)
    );
    assert_eq!(
        cw.contact_ids("id<=1012").await,
        ids_where(&t.contacts, |c| c.id, |c| c.id <= 1012)
    );
    assert_eq!(
        cw.contact_ids("id>1140").await,
        ids_where(&t.contacts, |c| c.id, |c| c.id > 1140)
    );
    assert_eq!(
        cw.contact_ids("id >= 1140").await,
        ids_where(&t.contacts, |c| c.id, |c| c.id >= 1140)
    );
    assert_eq!(
        cw.contact_ids("id in (1010, 1011,9999)").await,
        [1010, 1011]
    );
    assert_eq!(
        cw.contact_ids("id not in (1010)").await.len(),
        all.len() - 1
    );
    // contains / like: case-insensitive; % and * are wildcards, _ is one character.
    let shared = ids_where(
        &t.contacts,
        |c| c.id,
        |c| c.first_name.to_lowercase().contains("shar"),
    );
    assert_eq!(shared, [1015, 1022, 1034]);
    assert_eq!(cw.contact_ids("firstName contains \"SHAR\"").await, shared);
    assert_eq!(cw.contact_ids("firstName like \"%shar%\"").await, shared);
    assert_eq!(cw.contact_ids("firstName like '*Shar*'").await, shared);
    assert_eq!(cw.contact_ids("firstName like \"_nna\"").await, [1011]);
    assert_eq!(
        cw.contact_ids("firstName not contains \"shar\"")
            .await
            .len(),
        all.len() - 3
    );
    assert_eq!(
        cw.contact_ids("firstName not like \"%shar%\"").await.len(),
        all.len() - 3
    );
    // [ is a character class in LIKE: escape it as [[].
    let a = cw
        .query(
            "/company/companies",
            &[("conditions", "name like \"%[[]UK]\"")],
        )
        .await;
    assert_eq!(a.ids(), [19298]);
    let a = cw
        .query(
            "/company/companies",
            &[("conditions", "name like \"%[0-9]%\"")],
        )
        .await;
    assert_eq!(a.ids(), [433], "only Pax8 has a digit");
    // Strings: case-insensitive, accent-sensitive, trailing spaces ignored.
    assert_eq!(
        cw.contact_ids("company/name=\"café müller gmbh\" and lastName=\"MÜLLER  \"")
            .await,
        [1010]
    );
    assert_eq!(
        cw.contact_ids("company/name=\"Cafe Muller GmbH\"").await,
        Vec::<i64>::new()
    );
    assert_eq!(
        cw.contact_ids("lastName > \"Zu\"").await,
        ids_where(
            &t.contacts,
            |c| c.id,
            |c| c
                .last_name
                .as_deref()
                .is_some_and(|l| l.to_lowercase().as_str() > "zu")
        )
    );
    // Booleans in any case; field names ignore case.
    let inactive = ids_where(&t.contacts, |c| c.id, |c| c.inactive_flag);
    assert_eq!(cw.contact_ids("INACTIVEFLAG = TRUE").await, inactive);
    assert_eq!(cw.contact_ids("inactiveFlag=true").await, inactive);
    assert_eq!(
        cw.contact_ids("inactiveFlag=False").await.len(),
        all.len() - inactive.len()
    );
}

#[tokio::test]
async fn logic_quoting_paths_dates_and_nulls() {
    let cw = Cw::sample().await;
    let t = cw.sim.tenant();
    assert_eq!(
        cw.contact_ids("Company/ID=250 AND (inactiveFlag=true or lastName = null)")
            .await,
        [1013, 1014, 1015]
    );
    assert_eq!(
        cw.contact_ids("company/id=250 and inactiveFlag=true or id=1150")
            .await,
        [1013, 1150]
    );
    assert_eq!(
        cw.contact_ids("company/id=250 and (inactiveFlag=true or id=1150)")
            .await,
        [1013]
    );
    assert_eq!(
        cw.contact_ids("not (company/id = 250 or company/id = null)")
            .await
            .len(),
        t.contacts.len() - 9
    );
    // Quoting: ', ", & and , inside strings; single quotes with a backslash escape.
    assert_eq!(
        cw.contact_ids("company/name=\"O'Brien & Sons, LLC\"").await,
        [1020, 1021, 1022, 1023]
    );
    assert_eq!(
        cw.contact_ids("company/name='O\\'Brien & Sons, LLC' and lastName='O\\'Brien'")
            .await,
        [1020, 1021]
    );
    assert_eq!(
        cw.contact_ids("company/name=\"Bob's \\\"Best\\\" Bikes\"")
            .await,
        [1100]
    );
    assert_eq!(
        cw.contact_ids("company/name=\"東京 Trading K.K.\"").await,
        [1130, 1131]
    );
    // A raw + in the query string is a space (encode it as %2B).
    let a = cw
        .get("/company/contacts?conditions=firstName%3D%22Shared+Mailbox%22")
        .await;
    assert_eq!(a.ids(), [1015]);
    // Null references: only `= null` matches; other comparisons are unknown, not errors.
    assert_eq!(cw.contact_ids("company/id = null").await, [1150, 1151]);
    assert_eq!(cw.contact_ids("company = null").await, [1150, 1151]);
    let not_250 = cw.contact_ids("company/id != 250").await;
    assert!(!not_250.contains(&1150) && !not_250.contains(&1010));
    assert_eq!(
        cw.contact_ids("company/id != null").await.len(),
        t.contacts.len() - 2
    );
    let no_contact = ids_where(&t.configurations, |c| c.id, |c| c.contact.is_none());
    assert_eq!(cw.configs_where("contact/name = null").await, no_contact);
    let shared = ids_where(
        &t.configurations,
        |c| c.id,
        |c| {
            c.contact
                .as_ref()
                .is_some_and(|k| k.name.to_lowercase().contains("shared"))
        },
    );
    assert_eq!(
        cw.configs_where("contact/name contains \"shared\"").await,
        shared
    );
    assert_eq!(shared, [503, 520, 530, 556]);
    let not_shared = cw
        .configs_where("contact/name not contains \"shared\"")
        .await;
    assert_eq!(
        not_shared.len(),
        t.configurations.len() - shared.len() - no_contact.len()
    );
    assert_eq!(
        cw.configs_where("type/name=\"license\" and activeFlag=true and company/id=288")
            .await,
        [550, 551, 552, 553, 554, 555, 556, 560]
    );
    // Date-times in brackets, on _info fields by their bare names.
    let c = t.contact(1010).unwrap();
    let stamp = &c.info["lastUpdated"];
    assert_eq!(
        cw.contact_ids(&format!("lastUpdated = [{stamp}] and id=1010"))
            .await,
        [1010]
    );
    let later = ids_where(
        &t.contacts,
        |c| c.id,
        |c| c.info["lastUpdated"].as_str() > stamp.as_str(),
    );
    assert_eq!(
        cw.contact_ids(&format!("LastUpdated > [{stamp}]")).await,
        later
    );
    assert_eq!(
        cw.contact_ids("dateEntered > [2100-01-01]").await,
        Vec::<i64>::new()
    );
    assert_eq!(
        cw.contact_ids("dateEntered < [2100-01-01T00:00:00Z]")
            .await
            .len(),
        t.contacts.len()
    );
}

#[tokio::test]
async fn bad_conditions_are_400_never_match_all() {
    let cw = Cw::sample().await;
    for bad in [
        "firstName =",
        "firstName == \"x\"",
        "firstName = Anna",
        "(id = 1",
        "id = 1)",
        "id = 1 id = 2",
        "firstName = \"unterminated",
        "nosuchfield = 1",
        "company/nosuch = 1",
        "inactiveFlag = \"false\"",
        "id = \"1010\"",
        "id contains \"1\"",
        "inactiveFlag > true",
        "lastUpdated > [yesterday]",
        "lastUpdated > \"2024-01-01\"",
        "types/name = \"Billed User\"",
        "id < null",
        "firstName & \"x\"",
    ] {
        let a = cw.contacts_where(bad).await;
        assert_eq!(a.status, 400, "{bad}: {}", a.body);
        assert!(
            a.body["code"].is_string() && a.body["message"].is_string(),
            "{bad}"
        );
        assert!(
            a.body["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{bad}"
        );
    }
    let a = cw
        .query("/company/contacts/count", &[("conditions", "bogus=1")])
        .await;
    assert_eq!(a.status, 400);
    let a = cw
        .query(
            "/company/contacts",
            &[("childConditions", "inactiveFlag=false")],
        )
        .await;
    assert_eq!(a.status, 400, "childConditions take array fields");
    let a = cw
        .query("/company/contacts", &[("childConditions", "types/nope=1")])
        .await;
    assert_eq!(a.status, 400);
    let deep = format!("{}id=1{}", "(".repeat(200), ")".repeat(200));
    assert_eq!(cw.contacts_where(&deep).await.status, 400);
}

#[tokio::test]
async fn child_and_custom_field_conditions() {
    let cw = Cw::sample().await;
    let t = cw.sim.tenant();
    let has = |name: &str| {
        let name = name.to_string();
        ids_where(
            &t.contacts,
            |c| c.id,
            move |c| c.types.iter().any(|k| k.name == name),
        )
    };
    let billed = has("Billed User");
    assert!(
        !billed.contains(&1016),
        "Billed User (Legacy) is another type"
    );
    assert_eq!(cw.child_ids("types/name=\"Billed User\"").await, billed);
    assert_eq!(cw.child_ids("types/id=4").await, billed);
    assert_eq!(
        cw.child_ids("types/name like \"billed user%\"").await.len(),
        billed.len() + 1
    );
    let none = ids_where(&t.contacts, |c| c.id, |c| c.types.is_empty());
    assert_eq!(cw.child_ids("types/id = null").await, none);
    // Each element is tested as a whole (a SQL join): no single type is both VIP and Approver.
    assert!(
        cw.child_ids("types/name=\"VIP\" and types/name=\"Approver\"")
            .await
            .is_empty()
    );
    let mut either: Vec<i64> = has("VIP")
        .into_iter()
        .chain(has("Approver"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    either.sort();
    assert_eq!(
        cw.child_ids("types/name=\"VIP\" OR types/name=\"Approver\"")
            .await,
        either
    );
    // The billing query of docs/contract.md §3.
    let both = cw
        .query(
            "/company/contacts",
            &[
                ("conditions", "inactiveFlag=false AND company/id=250"),
                ("childConditions", "types/name=\"billed user\""),
            ],
        )
        .await;
    assert_eq!(both.ids(), [1010, 1011, 1012]);
    let count = cw
        .query(
            "/company/contacts/count",
            &[
                ("conditions", "inactiveFlag=false"),
                ("childConditions", "types/name=\"Billed User\""),
            ],
        )
        .await;
    let expected = t
        .contacts
        .iter()
        .filter(|c| !c.inactive_flag && c.types.iter().any(|k| k.name == "Billed User"))
        .count();
    assert_eq!(count.body["count"].as_u64(), Some(expected as u64));
    let phones = ids_where(
        &t.contacts,
        |c| c.id,
        |c| {
            c.communication_items
                .iter()
                .any(|i| i.communication_type == "Phone")
        },
    );
    assert_eq!(
        cw.child_ids("communicationItems/communicationType=\"Phone\"")
            .await,
        phones
    );
    let a = cw
        .query(
            "/company/companies",
            &[(
                "customFieldConditions",
                "caption=\"Synthesize Account\" AND value != null",
            )],
        )
        .await;
    assert_eq!(a.ids(), [288]);
}
