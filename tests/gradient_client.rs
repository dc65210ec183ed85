//! The Synthesize client against the Gradient simulator, over real HTTP on loopback.

mod common;

use std::time::Duration;

use common::{fast_http, gradient, gradient_settings};
use futures_util::StreamExt;
use synthesize_sims::FaultConfig;
use synthesize_sync::error::{Error, Side};
use synthesize_sync::gradient::{
    Account, BillingView, CountOutcome, IntegrationStatus, NewService, Synthesize,
};
use synthesize_sync::secret::Secret;

fn service(name: &str) -> NewService {
    NewService {
        name: name.into(),
        description: "test".into(),
        category: "other",
        subcategory: "other",
    }
}

fn account(id: &str, name: &str) -> Account {
    Account {
        id: id.into(),
        name: name.into(),
    }
}

#[tokio::test]
async fn every_route_round_trips() {
    let (sim, server) = gradient().await;
    let c = Synthesize::new(&gradient_settings(&sim, &server), &fast_http()).unwrap();

    let org = c.organization().await.unwrap();
    assert_eq!(org.name, "Northwind IT Services");
    assert!(!org.vendor_name.is_empty());

    assert!(c.skus().await.unwrap().is_empty());
    c.create_service(&service("Billed User")).await.unwrap();
    let skus = c.skus().await.unwrap();
    assert_eq!(skus.len(), 1);
    assert_eq!(skus[0].name, "Billed User");
    assert_eq!(skus[0].id.len(), 24, "ObjectId-like id");

    c.create_accounts(&[account("250", "Café Müller GmbH"), account("0", "Our MSP")])
        .await
        .unwrap();
    let mut accounts = c.accounts().await.unwrap();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        accounts,
        vec![account("0", "Our MSP"), account("250", "Café Müller GmbH")]
    );

    c.rename_account("250", "Café Müller AG").await.unwrap();
    assert_eq!(sim.partner().accounts["250"].name, "Café Müller AG");

    c.update_status(IntegrationStatus::Pending).await.unwrap();
    assert_eq!(sim.partner().status, "pending");

    sim.map_everything();
    assert_eq!(
        c.set_count(&skus[0].id, "250", 12, BillingView::Rebuild)
            .await
            .unwrap(),
        CountOutcome::Set
    );
    assert_eq!(
        c.set_count(&skus[0].id, "0", 0, BillingView::Rebuild)
            .await
            .unwrap(),
        CountOutcome::Set
    );
    let calls = sim.count_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].account_id.as_str(), calls[0].unit_count),
        ("250", 12.0)
    );
    assert_eq!(
        (calls[1].account_id.as_str(), calls[1].unit_count),
        ("0", 0.0)
    );
}

#[tokio::test]
async fn account_ids_with_odd_characters_stay_one_path_segment() {
    let (sim, server) = gradient().await;
    let c = Synthesize::new(&gradient_settings(&sim, &server), &fast_http()).unwrap();
    c.create_accounts(&[account("contoso.onmicrosoft.com/x?y", "Contoso")])
        .await
        .unwrap();
    c.rename_account("contoso.onmicrosoft.com/x?y", "Contoso Ltd")
        .await
        .unwrap();
    assert_eq!(
        sim.partner().accounts["contoso.onmicrosoft.com/x?y"].name,
        "Contoso Ltd"
    );
}

#[tokio::test]
async fn unmapped_is_not_an_error_but_other_404s_are() {
    let (sim, server) = gradient().await;
    let c = Synthesize::new(&gradient_settings(&sim, &server), &fast_http()).unwrap();
    c.create_service(&service("Billed User")).await.unwrap();
    c.create_accounts(&[account("250", "Contoso")])
        .await
        .unwrap();
    let sku = c.skus().await.unwrap().remove(0);

    match c
        .set_count(&sku.id, "250", 3, BillingView::Rebuild)
        .await
        .unwrap()
    {
        CountOutcome::Unmapped(m) => assert_eq!(m, "No account map found with id: 250"),
        other => panic!("expected unmapped, got {other:?}"),
    }
    let e = c
        .set_count("65f1c0de0000000000000bad", "250", 3, BillingView::Rebuild)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Api {
                side: Side::Synthesize,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("Service not found"), "{e}");
    assert_eq!(e.exit_code(), 1);
}

#[tokio::test]
async fn wrong_partner_key_is_an_auth_error_and_not_retried() {
    let (sim, server) = gradient().await;
    let mut settings = gradient_settings(&sim, &server);
    settings.partner_key = Secret::new("not-the-partner-key");
    let c = Synthesize::new(&settings, &fast_http()).unwrap();
    let e = c.organization().await.unwrap_err();
    assert_eq!(e.exit_code(), 3);
    let text = e.to_string();
    assert!(
        text.contains("Synthesize") && text.contains("GRADIENT_PARTNER_API_KEY"),
        "{text}"
    );
    assert!(!text.contains("not-the-partner-key"));
    assert_eq!(c.request_count(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let (sim, server) = gradient().await;
    let c = Synthesize::new(&gradient_settings(&sim, &server), &fast_http()).unwrap();
    let mut bad = service("X");
    bad.category = "Other"; // the enum is case-sensitive
    let e = c.create_service(&bad).await.unwrap_err();
    assert!(e.to_string().contains("400"), "{e}");
    assert_eq!(c.request_count(), 1);
    assert_eq!(sim.requests().len(), 1);
}

#[tokio::test]
async fn transient_failures_are_retried_until_success() {
    let (sim, server) = gradient().await;
    let mut http = fast_http();
    http.max_retries = 10;
    let c = Synthesize::new(&gradient_settings(&sim, &server), &http).unwrap();
    c.create_service(&service("Billed User")).await.unwrap();
    c.create_accounts(&[account("1", "A")]).await.unwrap();
    sim.map_everything();
    let sku = c.skus().await.unwrap().remove(0);

    sim.faults().set(FaultConfig {
        rate_429: 0.25,
        rate_500: 0.25,
        ..Default::default()
    });
    for n in 0..40 {
        assert_eq!(
            c.set_count(&sku.id, "1", n, BillingView::Rebuild)
                .await
                .unwrap(),
            CountOutcome::Set
        );
    }
    sim.faults().clear();
    let log = sim.requests().all();
    let failed = log
        .iter()
        .filter(|r| r.status == 429 || r.status == 500)
        .count();
    assert!(failed > 5, "faults were injected ({failed})");
    assert_eq!(
        c.request_count() as usize,
        log.len(),
        "the counter counts retries"
    );
    assert_eq!(
        sim.current_counts()[&("1".to_string(), "Billed User".to_string())],
        39.0
    );
}

#[tokio::test]
async fn retry_budget_is_bounded() {
    let (sim, server) = gradient().await;
    let c = Synthesize::new(&gradient_settings(&sim, &server), &fast_http()).unwrap();
    sim.faults().set(FaultConfig {
        failing_route: Some("/organization".into()),
        ..Default::default()
    });
    let e = c.organization().await.unwrap_err();
    assert_eq!(e.exit_code(), 1);
    assert!(
        e.to_string().contains("500") && e.to_string().contains("4 tries"),
        "{e}"
    );
    assert_eq!(c.request_count(), 4, "one try and max_retries=3 retries");

    // A retry budget smaller than the backoff gives up early.
    let mut http = fast_http();
    http.retry_base_delay = Duration::from_secs(5);
    http.max_retry_wait = Duration::from_secs(1);
    let c = Synthesize::new(&gradient_settings(&sim, &server), &http).unwrap();
    assert!(c.organization().await.is_err());
    assert_eq!(c.request_count(), 1);
}

#[tokio::test]
async fn concurrent_writes_stay_under_the_rate_limit() {
    let (sim, server) = gradient().await;
    let c = Synthesize::new(&gradient_settings(&sim, &server), &fast_http()).unwrap();
    c.create_service(&service("Billed User")).await.unwrap();
    let accounts: Vec<Account> = (0..250).map(|i| account(&i.to_string(), "A")).collect();
    c.create_accounts(&accounts).await.unwrap();
    sim.map_everything();
    let sku = c.skus().await.unwrap().remove(0);

    let results: Vec<_> = futures_util::stream::iter(0..250u64)
        .map(|i| {
            let c = c.clone();
            let id = sku.id.clone();
            async move {
                c.set_count(&id, &i.to_string(), i, BillingView::Rebuild)
                    .await
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(results.iter().all(|r| matches!(r, Ok(CountOutcome::Set))));
    let limited = sim
        .requests()
        .all()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert_eq!(
        limited, 0,
        "the client's pacer keeps the run under 100 requests/second"
    );
    assert_eq!(sim.current_counts().len(), 250);
}

/// The service definitions use exact wire strings: the simulator accepts only those of
/// docs/apis.md §1.4, so a typo here would fail every sync-services test, and this says why.
#[test]
fn service_category_and_subcategory_are_gradient_wire_strings() {
    use synthesize_sims::gradient::{CATEGORIES, SUBCATEGORIES};
    use synthesize_sync::gradient::{SERVICE_CATEGORY, SERVICE_SUBCATEGORY};
    assert!(CATEGORIES.contains(&SERVICE_CATEGORY));
    assert!(SUBCATEGORIES.contains(&SERVICE_SUBCATEGORY));
}
