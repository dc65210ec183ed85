//! Autotask PSA source (docs/apis.md §3): active configuration items, counted per company by
//! the service their type belongs to (`AUTOTASK_SERVICES`, docs/contract.md §3).
//!
//! A read costs few requests, because the tenant's 10,000 requests an hour are shared by
//! every integration it has:
//! 1. `ThresholdInformation`: the credential check (first call), and the share used;
//! 2. `ConfigurationItemTypes`: id → name, to resolve the services to type ids;
//! 3. one `query/count` of the items step 4 will read: with the threshold's figures, the
//!    budget check (`AUTOTASK_MAX_SHARE`, exit 7) before any item is read;
//! 4. `ConfigurationItems` that are active and of a counted type, 500 a page, each page
//!    folded into the tally as it arrives; after the first page the rest is read as up to 3
//!    concurrent id ranges (Autotask's thread limit, docs/apis.md §3.7; `sources::split`);
//! 5. one `query/count` of the active items whose type is missing or unknown, reported as
//!    not counted;
//! 6. `Companies` names, only of companies with counted items, 500 ids a request.
//!
//! The server-side filters only save requests: every item read is still folded through
//! [`AutotaskRule`] with its own `isActive` and type, so a filter the API ignored could not
//! make it count what the rules exclude.

mod client;
pub mod config;
mod query;
pub mod rules;

use std::collections::BTreeMap;

use serde::Deserialize;

use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture;

use crate::config::{Env, HttpSettings};
use crate::error::{Error, Result, Side};
use crate::names::normalize;
use crate::progress::Progress;
use crate::sources::def::{Source, SourceDef};
use crate::sources::tally::{Skip, Tally};
use config::{AutotaskService, TypeSelection};
use rules::AutotaskRule;

use crate::sources::field::{Field, HasId};
use client::{AutotaskClient, ThresholdInfo};
use query::{Filter, MAX_IN_VALUES, Query};

const CONFIGURATION_ITEMS: &str = "ConfigurationItems";
const CONFIGURATION_ITEM_TYPES: &str = "ConfigurationItemTypes";
const COMPANIES: &str = "Companies";

use crate::http::limits::AUTOTASK_THRESHOLD_WARN_PERCENT as THRESHOLD_WARN_PERCENT;

/// `autotask-configuration-items`.
pub struct ConfigurationItems;

impl SourceDef for ConfigurationItems {
    fn name(&self) -> &'static str {
        "autotask-configuration-items"
    }
    fn about(&self) -> &'static str {
        "Autotask configuration items, by configuration item type"
    }
    fn variable_prefix(&self) -> &'static str {
        "AUTOTASK_"
    }
    fn settings(&self) -> &'static [&'static str] {
        &[
            "AUTOTASK_USERNAME",
            "AUTOTASK_SECRET",
            "AUTOTASK_INTEGRATION_CODE",
            "AUTOTASK_BASE_URL",
            "AUTOTASK_DISCOVERY_URL",
            "AUTOTASK_SERVICES",
            "AUTOTASK_MAX_SHARE",
            "AUTOTASK_READ_STREAMS",
        ]
    }
    fn secret_variables(&self) -> &'static [&'static str] {
        &["AUTOTASK_SECRET", "AUTOTASK_INTEGRATION_CODE"]
    }
    fn psa(&self) -> Side {
        Side::Autotask
    }
    fn check_settings(&self, env: &Env) -> Result<()> {
        config::check(env)?;
        config::services(env)?;
        Ok(())
    }
    fn services(&self, env: &Env) -> Result<Vec<String>> {
        Ok(config::services(env)?
            .0
            .into_iter()
            .map(|s| s.name)
            .collect())
    }
    fn service_description(&self, service: &str) -> String {
        format!("Active Autotask configuration items: {service} (synced by synthesize-sync)")
    }
    fn open(&self, env: &Env, http: &HttpSettings) -> Result<Box<dyn Source>> {
        let settings = config::resolve(env)?;
        let (services, services_explicit) = config::services(env)?;
        Ok(Box::new(AutotaskSource {
            client: AutotaskClient::new(&settings, http)?,
            rule: AutotaskRule::new(&services),
            services,
            services_explicit,
            last_threshold: None,
            max_share: config::max_share(env)?,
        }))
    }
}

/// Reads Autotask configuration items and folds them per company.
struct AutotaskSource {
    client: AutotaskClient,
    services: Vec<AutotaskService>,
    /// `AUTOTASK_SERVICES` was set by the user: a type it names that the tenant lacks is a
    /// typo, not a default that does not apply.
    services_explicit: bool,
    rule: AutotaskRule,
    /// What the last threshold check said (for `doctor`).
    last_threshold: Option<ThresholdInfo>,
    /// `AUTOTASK_MAX_SHARE`, percent.
    max_share: u64,
}

impl AutotaskSource {
    /// The first call of a run: checks the credentials and reports the threshold share.
    async fn check_threshold(&mut self) -> Result<ThresholdInfo> {
        let t = self.client.threshold().await?;
        self.last_threshold = Some(t);
        let message = format!(
            "Autotask API threshold: {} of {} requests used in the last {} minutes ({:.1}%), shared by every integration of the tenant",
            t.used,
            t.limit,
            if t.timeframe_minutes == 0 {
                60
            } else {
                t.timeframe_minutes
            },
            t.percent_used()
        );
        if t.percent_used() > THRESHOLD_WARN_PERCENT {
            tracing::warn!("{message}; above half of it Autotask slows every call down");
        } else {
            tracing::info!("{message}");
        }
        Ok(t)
    }

    /// Reads the type list and resolves which type ids count, warning about type names the
    /// settings mention and the tenant lacks. Returns (id → name, counted ids).
    async fn resolve_types(&mut self) -> Result<(BTreeMap<i64, String>, Vec<i64>)> {
        let mut types: BTreeMap<i64, String> = BTreeMap::new();
        let q = Query::new(&["id", "name"], vec![Filter::everything()]);
        self.client
            .query(CONFIGURATION_ITEM_TYPES, &q, |page: Vec<TypeRow>| {
                for t in page {
                    types.insert(t.id, t.name.unwrap_or_default());
                }
                Ok(())
            })
            .await?;

        let present: Vec<String> = types.values().map(|n| normalize(n)).collect();
        let mut listed = Vec::new();
        let mut missing = Vec::new();
        for service in &self.services {
            let (names, is_listed) = match &service.types {
                TypeSelection::Listed(names) => (names, true),
                TypeSelection::Rest { except } => (except, false),
            };
            for name in names {
                let exists = present.contains(&normalize(name));
                if is_listed {
                    listed.push((name.clone(), exists));
                }
                if !exists {
                    missing.push(format!("'{name}' ({})", service.name));
                }
            }
        }
        let tenant_types = || {
            let mut tenant: Vec<&str> = types.values().map(String::as_str).collect();
            tenant.sort_by_key(|n| n.to_lowercase());
            tenant.dedup();
            if tenant.is_empty() {
                "(none)".to_string()
            } else {
                tenant.join(", ")
            }
        };
        if !listed.is_empty() && listed.iter().all(|(_, exists)| !exists) {
            let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Error::setting(
                "AUTOTASK_SERVICES",
                format!(
                    "none of the configuration item types it lists ({}) exists in this Autotask tenant; \
                     its types are: {}; name them as Autotask does",
                    names.join(", "),
                    tenant_types()
                ),
            ));
        }
        if self.services_explicit && !missing.is_empty() {
            return Err(Error::setting(
                "AUTOTASK_SERVICES",
                format!(
                    "names configuration item types this Autotask tenant does not have: {}; \
                     its types are: {} (case and extra spaces are ignored)",
                    missing.join(", "),
                    tenant_types()
                ),
            ));
        }
        if !missing.is_empty() {
            tracing::warn!(
                "AUTOTASK_SERVICES names configuration item types this Autotask tenant does not have: {}; \
                 nothing is counted for them",
                missing.join(", ")
            );
        }

        let counted: Vec<i64> = types
            .iter()
            .filter(|(_, name)| self.rule.service_for(name).is_some())
            .map(|(id, _)| *id)
            .collect();
        let mut by_service: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for id in &counted {
            let name = &types[id];
            if let Some(service) = self.rule.service_for(name) {
                by_service.entry(service).or_default().push(name);
            }
        }
        for (service, names) in by_service {
            tracing::info!("service '{service}' counts types: {}", names.join(", "));
        }
        Ok((types, counted))
    }

    /// Before the items are read: the threshold's use plus this run's own estimate (its items
    /// counted by `query/count`: their pages, as many requests again at most for the company
    /// names, and the unknown-type count) must stay within `AUTOTASK_MAX_SHARE` of the hourly
    /// threshold, or the run is refused (exit 7) before it spends the tenant's budget
    /// (docs/apis.md §3.7). One request. Returns the count, which also splits the read into
    /// concurrent streams.
    async fn check_budget(
        &mut self,
        threshold: ThresholdInfo,
        ours_before: u64,
        counted: &[i64],
    ) -> Result<u64> {
        if counted.is_empty() {
            return Ok(0);
        }
        let items = self
            .client
            .count(CONFIGURATION_ITEMS, items_filter(counted))
            .await?;
        let pages = items.div_ceil(u64::from(query::MAX_RECORDS)).max(1);
        let estimate = 2 * pages + 1;
        // Requests the tenant has used by now: the threshold's figure (which counted this
        // run's requests up to it) plus this run's since.
        let since = self.client.request_count().saturating_sub(ours_before);
        let used = threshold.used.saturating_add(since);
        let allowed = budget_allows(threshold.limit, self.max_share);
        let window = if threshold.timeframe_minutes == 0 {
            60
        } else {
            threshold.timeframe_minutes
        };
        if !within_budget(used, estimate, threshold.limit, self.max_share) {
            let others = threshold.used.saturating_sub(ours_before);
            return Err(Error::Budget(format!(
                "Autotask's hourly request threshold is {} requests per {window} minutes, shared by \
                 every integration of the tenant; {used} are used ({others} by other integrations and \
                 earlier runs), and this run needs about {estimate} more ({items} items), which would \
                 pass AUTOTASK_MAX_SHARE={}% ({allowed}); nothing was read or written: run again when \
                 the usage has fallen (requests age out of the {window}-minute window), or raise \
                 AUTOTASK_MAX_SHARE",
                threshold.limit, self.max_share
            )));
        }
        tracing::debug!(
            "Autotask budget: {used} used + about {estimate} for this run, within {allowed} ({}% \
             of {})",
            self.max_share,
            threshold.limit
        );
        Ok(items)
    }

    /// Folds every active item of a counted type, page by page, `expected` (the server's
    /// count) splitting the read into concurrent id ranges.
    async fn read_items(
        &mut self,
        tally: &mut Tally,
        types: &BTreeMap<i64, String>,
        counted: &[i64],
        expected: u64,
        progress: &Progress,
    ) -> Result<()> {
        let mut reading = progress.reading("Autotask configuration items");
        if counted.is_empty() {
            tracing::warn!(
                "AUTOTASK_SERVICES selects none of this tenant's configuration item types"
            );
            reading.finish();
            return Ok(());
        }
        // The type list stays small (tens of types), so one `in` holds it.
        let q = Query::new(
            &["id", "companyID", "configurationItemType", "isActive"],
            items_filter(counted),
        );
        let rule = &self.rule;
        self.client
            .query_split(
                CONFIGURATION_ITEMS,
                &q,
                Some(expected),
                |page: Vec<ItemRow>| {
                    reading.page(page.len() as u64);
                    for item in page {
                        // A field present with null is data ("no company"); one that is absent
                        // means the answer changed shape: the read fails (sources::field::Field).
                        let side = Side::Autotask;
                        let active = item
                            .is_active
                            .require(side, CONFIGURATION_ITEMS, "isActive")?
                            .copied()
                            .ok_or_else(|| {
                                Error::api(
                                    side,
                                    format!(
                                        "reading {CONFIGURATION_ITEMS}: item {} has isActive null",
                                        item.id
                                    ),
                                )
                            })?;
                        let company_id = item
                            .company_id
                            .require(side, CONFIGURATION_ITEMS, "companyID")?
                            .copied();
                        let type_name = item
                            .configuration_item_type
                            .require(side, CONFIGURATION_ITEMS, "configurationItemType")?
                            .and_then(|t| types.get(t))
                            .map(String::as_str);
                        rule.fold(tally, active, company_id, type_name);
                    }
                    Ok(())
                },
            )
            .await?;
        reading.finish();
        Ok(())
    }

    /// Counts the active items whose type is missing or not in the type list, in one
    /// request, and records them as not counted.
    async fn count_unknown_types(
        &mut self,
        tally: &mut Tally,
        types: &BTreeMap<i64, String>,
    ) -> Result<()> {
        let known: Vec<i64> = types.keys().copied().collect();
        let mut unknown_type = vec![Filter::not_exist("configurationItemType")];
        if !known.is_empty() {
            unknown_type.push(Filter::not_in("configurationItemType", known));
        }
        let n = self
            .client
            .count(
                CONFIGURATION_ITEMS,
                vec![Filter::eq("isActive", true), Filter::or(unknown_type)],
            )
            .await?;
        if n > 0 {
            tracing::warn!(
                "{n} active Autotask configuration items have no type, or a type missing from \
                 ConfigurationItemTypes; they are not counted"
            );
            // Counted by the server, not read, but they are items of this tenant: the
            // summary's "read" total includes them so the not-counted figures add up.
            tally.items_read += n;
            *tally.skipped.entry(Skip::UnknownType).or_default() += n;
        }
        Ok(())
    }

    /// Names the companies that have counted items, 500 ids a request. Company 0 is the
    /// MSP's own and a real company.
    async fn name_companies(&mut self, tally: &mut Tally) -> Result<()> {
        let mut ids: Vec<i64> = tally
            .companies
            .iter()
            .filter(|(_, c)| c.counts.values().any(|n| *n > 0))
            .filter_map(|(id, _)| id.parse().ok())
            .collect();
        ids.sort_unstable();
        let mut named = 0usize;
        for batch in ids.chunks(MAX_IN_VALUES) {
            let q = Query::new(
                &["id", "companyName"],
                vec![Filter::in_list("id", batch.iter().copied())],
            );
            self.client
                .query(COMPANIES, &q, |page: Vec<CompanyRow>| {
                    for c in page {
                        if let Some(name) = c.company_name.as_deref().map(str::trim)
                            && !name.is_empty()
                        {
                            tally.name_company(&c.id.to_string(), name);
                            named += 1;
                        }
                    }
                    Ok(())
                })
                .await?;
        }
        if named < ids.len() {
            tracing::warn!(
                "{} companies with counted items were not found in Autotask {COMPANIES} (or have no name); \
                 they are named 'Company <id>'",
                ids.len() - named
            );
        }
        Ok(())
    }
}

impl AutotaskSource {
    async fn identify(&mut self) -> Result<String> {
        let t = self.check_threshold().await?;
        let zone = self.client.zone().await?;
        Ok(format!(
            "Autotask API user {} in zone {zone} ({} of {} requests used this hour)",
            self.client.username(),
            t.used,
            t.limit
        ))
    }

    async fn read(&mut self, progress: &Progress) -> Result<Tally> {
        let threshold = self.check_threshold().await?;
        let ours_before = self.client.request_count();
        let (types, counted) = self.resolve_types().await?;
        let expected = self.check_budget(threshold, ours_before, &counted).await?;
        let mut tally = Tally::default();
        self.read_items(&mut tally, &types, &counted, expected, progress)
            .await?;
        self.count_unknown_types(&mut tally, &types).await?;
        self.name_companies(&mut tally).await?;
        Ok(tally)
    }
}

impl Source for AutotaskSource {
    fn identity(&mut self) -> LocalBoxFuture<'_, Result<String>> {
        self.identify().boxed_local()
    }

    fn check_types(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        async move { self.resolve_types().await.map(|_| ()) }.boxed_local()
    }

    fn tally<'a>(&'a mut self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Tally>> {
        self.read(progress).boxed_local()
    }

    fn request_count(&self) -> u64 {
        self.client.request_count()
    }

    fn request_budget(&self) -> Option<crate::sources::RequestBudget> {
        self.last_threshold.map(|t| crate::sources::RequestBudget {
            used: t.used,
            limit: t.limit,
            window_minutes: if t.timeframe_minutes == 0 {
                60
            } else {
                t.timeframe_minutes
            },
            max_share: self.max_share,
        })
    }
}

/// The requests a run may take the tenant's usage to: `share` percent of the threshold.
fn budget_allows(limit: u64, share: u64) -> u64 {
    limit.saturating_mul(share) / 100
}

/// Whether a run that needs about `estimate` requests may start with `used` used: it may take
/// the usage up to the share exactly.
fn within_budget(used: u64, estimate: u64, limit: u64, share: u64) -> bool {
    used.saturating_add(estimate) <= budget_allows(limit, share)
}

/// The items a run reads: active, of a counted type.
fn items_filter(counted: &[i64]) -> Vec<Filter> {
    vec![
        Filter::eq("isActive", true),
        Filter::in_list("configurationItemType", counted.iter().copied()),
    ]
}

#[derive(Deserialize)]
struct TypeRow {
    id: i64,
    #[serde(default)]
    name: Option<String>,
}

impl HasId for TypeRow {
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(Deserialize)]
struct ItemRow {
    id: i64,
    #[serde(rename = "companyID", default)]
    company_id: Field<i64>,
    #[serde(rename = "configurationItemType", default)]
    configuration_item_type: Field<i64>,
    #[serde(rename = "isActive", default)]
    is_active: Field<bool>,
}

impl HasId for ItemRow {
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(Deserialize)]
struct CompanyRow {
    id: i64,
    #[serde(rename = "companyName", default)]
    company_name: Option<String>,
}

impl HasId for CompanyRow {
    fn id(&self) -> i64 {
        self.id
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_budget_allows_up_to_the_share_exactly() {
        // 80% of 10,000 is 8,000.
        assert!(super::within_budget(7_990, 10, 10_000, 80));
        assert!(!super::within_budget(7_991, 10, 10_000, 80));
        assert!(super::within_budget(9_990, 10, 10_000, 100));
        assert!(!super::within_budget(9_991, 10, 10_000, 100));
        assert!(
            !super::within_budget(0, 1, 0, 80),
            "a threshold of 0 allows nothing"
        );
    }
}
