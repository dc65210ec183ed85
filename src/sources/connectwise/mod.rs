//! ConnectWise PSA sources (docs/apis.md §2, docs/contract.md §3): `connectwise-contacts`
//! (active contacts by contact type) and `connectwise-shared-devices` (active configurations
//! of the configured types, shared or not shared).
//!
//! A read first resolves the configured type names against the tenant's type lists, so a
//! misspelt name is a settings error instead of a silent 0 everywhere; then it asks the server
//! for only the matching items (by type id), and still classifies each item through the
//! rules (`rules.rs`), page by page.

mod client;
pub mod config;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

pub use client::{CallbackEntry, ConnectWiseClient, NewCallback};

use crate::config::{Env, HttpSettings};
use crate::error::{Error, Result, Side};
use crate::names::normalize;
use crate::progress::Progress;
use crate::sources::def::{Source, SourceDef};
use crate::sources::field::{Field, HasId, schema_drift};
use crate::sources::tally::Tally;
use config::ConnectWiseSettings;
use rules::{ContactRule, DeviceRule, NOT_SHARED_DEVICES, SHARED_DEVICES};

/// What a ConnectWise source counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    Contacts,
    Devices,
}

/// `connectwise-contacts`.
pub struct Contacts;
/// `connectwise-shared-devices`.
pub struct SharedDevices;

/// Every ConnectWise setting.
const SETTINGS: &[&str] = &[
    "CONNECTWISE_BASE_URL",
    "CONNECTWISE_COMPANY_ID",
    "CONNECTWISE_PUBLIC_KEY",
    "CONNECTWISE_PRIVATE_KEY",
    "CONNECTWISE_CLIENT_ID",
    "CONNECTWISE_CODEBASE",
    "CONNECTWISE_CONTACT_TYPES",
    "CONNECTWISE_CONFIGURATION_TYPES",
    "CONNECTWISE_READ_STREAMS",
    "CONNECTWISE_INDUSTRY_MAP",
];

/// Settings both ConnectWise sources check when present.
fn check_connectwise(env: &Env) -> Result<()> {
    config::check(env)?;
    config::read_streams(env)?;
    config::contact_types(env)?;
    config::configuration_types(env)?;
    Ok(())
}

/// A ConnectWise client on the resolved settings, for what is not a read of a source
/// (`callbacks`).
pub fn client(env: &Env, http: &HttpSettings) -> Result<(ConnectWiseClient, ConnectWiseSettings)> {
    let settings: ConnectWiseSettings = config::resolve(env)?;
    Ok((ConnectWiseClient::new(&settings, http)?, settings))
}

fn open(counted: Counted, env: &Env, http: &HttpSettings) -> Result<Box<dyn Source>> {
    let settings: ConnectWiseSettings = config::resolve(env)?;
    Ok(Box::new(ConnectWiseSource {
        counted,
        client: ConnectWiseClient::new(&settings, http)?,
        contact_types: config::contact_types(env)?,
        configuration_types: config::configuration_types(env)?,
    }))
}

impl SourceDef for Contacts {
    fn name(&self) -> &'static str {
        "connectwise-contacts"
    }
    fn about(&self) -> &'static str {
        "ConnectWise contacts, by contact type"
    }
    fn variable_prefix(&self) -> &'static str {
        "CONNECTWISE_"
    }
    fn settings(&self) -> &'static [&'static str] {
        SETTINGS
    }
    fn secret_variables(&self) -> &'static [&'static str] {
        &["CONNECTWISE_PUBLIC_KEY", "CONNECTWISE_PRIVATE_KEY"]
    }
    fn psa(&self) -> Side {
        Side::ConnectWise
    }
    fn check_settings(&self, env: &Env) -> Result<()> {
        check_connectwise(env)
    }
    fn services(&self, env: &Env) -> Result<Vec<String>> {
        config::contact_types(env)
    }
    fn service_description(&self, service: &str) -> String {
        format!("Active ConnectWise contacts of type '{service}' (synced by synthesize-sync)")
    }
    fn open(&self, env: &Env, http: &HttpSettings) -> Result<Box<dyn Source>> {
        open(Counted::Contacts, env, http)
    }
}

impl SourceDef for SharedDevices {
    fn name(&self) -> &'static str {
        "connectwise-shared-devices"
    }
    fn about(&self) -> &'static str {
        "ConnectWise configurations (License by default), shared or not shared"
    }
    fn variable_prefix(&self) -> &'static str {
        "CONNECTWISE_"
    }
    fn settings(&self) -> &'static [&'static str] {
        SETTINGS
    }
    fn secret_variables(&self) -> &'static [&'static str] {
        &["CONNECTWISE_PUBLIC_KEY", "CONNECTWISE_PRIVATE_KEY"]
    }
    fn psa(&self) -> Side {
        Side::ConnectWise
    }
    fn check_settings(&self, env: &Env) -> Result<()> {
        check_connectwise(env)
    }
    fn services(&self, _env: &Env) -> Result<Vec<String>> {
        Ok(vec![
            SHARED_DEVICES.to_string(),
            NOT_SHARED_DEVICES.to_string(),
        ])
    }
    fn service_description(&self, service: &str) -> String {
        format!("Active ConnectWise configurations, {service} (synced by synthesize-sync)")
    }
    fn open(&self, env: &Env, http: &HttpSettings) -> Result<Box<dyn Source>> {
        open(Counted::Devices, env, http)
    }
}

/// Reads ConnectWise contacts or configurations and folds them per company.
struct ConnectWiseSource {
    counted: Counted,
    client: ConnectWiseClient,
    contact_types: Vec<String>,
    configuration_types: Vec<String>,
}

impl ConnectWiseSource {
    /// The configured contact types, resolved to the tenant's ids.
    async fn resolve_contact_types(&mut self) -> Result<Vec<ResolvedType>> {
        let mut tenant = Vec::new();
        self.client
            .for_each_page(
                "company/contacts/types",
                &[("fields", "id,description")],
                |page: Vec<ContactTypeRow>| {
                    tenant.extend(page.into_iter().map(|t| TenantType {
                        id: t.id,
                        name: t.description.unwrap_or_default(),
                    }));
                    Ok(())
                },
            )
            .await?;
        resolve_types(
            &self.contact_types,
            &tenant,
            "CONNECTWISE_CONTACT_TYPES",
            "contact type",
        )
    }

    /// The configured configuration types, resolved to the tenant's ids.
    async fn resolve_configuration_types(&mut self) -> Result<Vec<ResolvedType>> {
        let mut tenant = Vec::new();
        self.client
            .for_each_page(
                "company/configurations/types",
                &[("fields", "id,name")],
                |page: Vec<ConfigurationTypeRow>| {
                    tenant.extend(page.into_iter().map(|t| TenantType {
                        id: t.id,
                        name: t.name.unwrap_or_default(),
                    }));
                    Ok(())
                },
            )
            .await?;
        resolve_types(
            &self.configuration_types,
            &tenant,
            "CONNECTWISE_CONFIGURATION_TYPES",
            "configuration type",
        )
    }

    async fn tally_contacts(&mut self, progress: &Progress) -> Result<Tally> {
        let types = self.resolve_contact_types().await?;
        let names_by_id = names_by_id(&types);
        let child_conditions = types
            .iter()
            .map(|t| format!("types/id={}", t.id))
            .collect::<Vec<_>>()
            .join(" OR ");
        let rule = ContactRule::new(&self.contact_types);
        let mut tally = Tally::default();
        let mut reading = progress.reading("ConnectWise contacts");
        let mut with_company: u64 = 0;
        self.client
            .for_each_page(
                "company/contacts",
                &[
                    ("conditions", "inactiveFlag=false"),
                    ("childConditions", &child_conditions),
                    // `types` whole: partial responses are documented for top-level fields
                    // and `ref/sub` paths, not for paths into arrays (docs/apis.md §2.3).
                    ("fields", "id,inactiveFlag,company/id,company/name,types"),
                ],
                |page: Vec<ContactRow>| {
                    reading.page(page.len() as u64);
                    for contact in &page {
                        with_company += u64::from(!contact.company.is_absent());
                        fold_contact(&rule, &mut tally, contact, &names_by_id)?;
                    }
                    Ok(())
                },
            )
            .await?;
        reading.finish();
        check_some_have_company(CONTACTS, tally.items_read, with_company)?;
        Ok(tally)
    }

    async fn tally_devices(&mut self, progress: &Progress) -> Result<Tally> {
        let types = self.resolve_configuration_types().await?;
        let names_by_id = names_by_id(&types);
        let ids = types
            .iter()
            .map(|t| t.id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let conditions = format!("activeFlag=true AND type/id in ({ids})");
        let rule = DeviceRule::new(&self.configuration_types);
        let mut tally = Tally::default();
        let mut reading = progress.reading("ConnectWise configurations");
        let mut with_company: u64 = 0;
        let mut with_contact: u64 = 0;
        self.client
            .for_each_page(
                "company/configurations",
                &[
                    ("conditions", &conditions),
                    (
                        "fields",
                        "id,activeFlag,type/id,type/name,company/id,company/name,contact/name",
                    ),
                ],
                |page: Vec<ConfigurationRow>| {
                    reading.page(page.len() as u64);
                    for configuration in &page {
                        with_company += u64::from(!configuration.company.is_absent());
                        with_contact += u64::from(!configuration.contact.is_absent());
                        fold_configuration(&rule, &mut tally, configuration, &names_by_id)?;
                    }
                    Ok(())
                },
            )
            .await?;
        reading.finish();
        check_some_have_company(CONFIGURATIONS, tally.items_read, with_company)?;
        if tally.items_read > 0 && with_contact == 0 {
            // Shared or not depends on the contact: without one an item is "not shared". A
            // tenant may have no contacts on these items; a changed answer would look the same.
            tracing::warn!(
                "none of the {} configurations came with a contact, so every one is counted as \
                 Not Shared; if your configurations have contacts, the API's answer has changed \
                 shape (report it with the output of -vv)",
                tally.items_read
            );
        }
        Ok(tally)
    }
}

impl ConnectWiseSource {
    /// `companyinfo` (when the codebase must be discovered), then `GET /system/info`.
    async fn identify(&mut self) -> Result<String> {
        let codebase = self.client.codebase().await?;
        let info = self.client.system_info().await?;
        let name = self
            .client
            .company_info()
            .and_then(|i| i.company_name.clone())
            .filter(|n| !n.trim().is_empty())
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let version = info.version.unwrap_or_else(|| "version unknown".into());
        Ok(format!(
            "ConnectWise company '{}'{name} at {} ({version}, codebase {codebase})",
            self.client.company_id(),
            self.client.site().origin().ascii_serialization(),
        ))
    }
}

impl Source for ConnectWiseSource {
    fn identity(&mut self) -> LocalBoxFuture<'_, Result<String>> {
        self.identify().boxed_local()
    }

    fn check_types(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        async move {
            match self.counted {
                Counted::Contacts => self.resolve_contact_types().await.map(|_| ()),
                Counted::Devices => self.resolve_configuration_types().await.map(|_| ()),
            }
        }
        .boxed_local()
    }

    fn tally<'a>(&'a mut self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Tally>> {
        match self.counted {
            Counted::Contacts => self.tally_contacts(progress).boxed_local(),
            Counted::Devices => self.tally_devices(progress).boxed_local(),
        }
    }

    fn request_count(&self) -> u64 {
        self.client.request_count()
    }
}

/// A type of the tenant: contact types' `description`, configuration types' `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TenantType {
    id: i64,
    name: String,
}

/// A configured type name and one tenant id it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ResolvedType {
    id: i64,
    /// As configured (it is the service name for contacts).
    configured: String,
}

/// Resolves each configured name (ignoring case and spaces) to every tenant type of that
/// name. A name the tenant lacks is a settings error listing the names it has: otherwise a
/// typo would silently bill 0 everywhere.
fn resolve_types(
    configured: &[String],
    tenant: &[TenantType],
    variable: &str,
    what: &str,
) -> Result<Vec<ResolvedType>> {
    let mut resolved = Vec::new();
    for name in configured {
        let matches: Vec<&TenantType> = tenant
            .iter()
            .filter(|t| normalize(&t.name) == normalize(name))
            .collect();
        if matches.is_empty() {
            let known: BTreeSet<&str> = tenant
                .iter()
                .map(|t| t.name.trim())
                .filter(|n| !n.is_empty())
                .collect();
            let list = if known.is_empty() {
                "none".to_string()
            } else {
                known
                    .iter()
                    .map(|n| format!("'{n}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(Error::setting(
                variable,
                format!(
                    "'{name}' is not a {what} in ConnectWise (case and extra spaces are ignored); \
                     its {what}s are: {list}"
                ),
            ));
        }
        for t in matches {
            tracing::debug!("{variable}: '{name}' is {what} id {}", t.id);
            resolved.push(ResolvedType {
                id: t.id,
                configured: name.clone(),
            });
        }
    }
    resolved.sort_by_key(|t| t.id);
    resolved.dedup_by_key(|t| t.id);
    Ok(resolved)
}

fn names_by_id(types: &[ResolvedType]) -> BTreeMap<i64, String> {
    types.iter().map(|t| (t.id, t.configured.clone())).collect()
}

const CONTACTS: &str = "company/contacts";
const CONFIGURATIONS: &str = "company/configurations";

/// ConnectWise leaves `null` properties out of its answers (sims/src/connectwise/tenant.rs),
/// so one row without `company` is an item with no company. A read in which not one row
/// has it is the answer's shape changing (the field renamed or no longer projected), not a
/// tenant whose every item lost its company: the read fails (docs/SECURITY.md).
fn check_some_have_company(entity: &str, items: u64, with_company: u64) -> Result<()> {
    if items > 0 && with_company == 0 {
        return Err(Error::api(
            Side::ConnectWise,
            format!(
                "not one of the {items} rows of {entity} came with a 'company' field, which \
                 the count depends on; the API's answer has changed shape, so nothing was \
                 counted (report this with the output of -vv)"
            ),
        ));
    }
    Ok(())
}

/// A reference's name, or, when the answer left it out, the configured name of its id.
fn ref_name<'a>(r: &'a NamedRef, names_by_id: &'a BTreeMap<i64, String>) -> Option<&'a str> {
    r.name
        .as_deref()
        .or_else(|| r.id.and_then(|id| names_by_id.get(&id)).map(String::as_str))
}

/// The company of a row: `None` when it has none. A company reference without an id is a
/// changed shape, not "no company".
fn company_of<'a>(
    entity: &str,
    company: &'a Field<NamedRef>,
) -> Result<Option<(String, Option<&'a str>)>> {
    match company {
        Field::Absent | Field::Null => Ok(None),
        Field::Value(r) => {
            let id =
                r.id.ok_or_else(|| schema_drift(Side::ConnectWise, entity, "company/id"))?;
            Ok(Some((id.to_string(), r.name.as_deref())))
        }
    }
}

fn fold_contact(
    rule: &ContactRule,
    tally: &mut Tally,
    contact: &ContactRow,
    names_by_id: &BTreeMap<i64, String>,
) -> Result<()> {
    let company = company_of(CONTACTS, &contact.company)?;
    let inactive = contact
        .inactive_flag
        .require(Side::ConnectWise, CONTACTS, "inactiveFlag")?
        .copied()
        // The server was asked for inactiveFlag=false only.
        .unwrap_or(false);
    let types = contact
        .types
        .require(Side::ConnectWise, CONTACTS, "types")?
        .map(Vec::as_slice)
        .unwrap_or_default();
    rule.fold(
        tally,
        inactive,
        company.as_ref().map(|(id, name)| (id.as_str(), *name)),
        types.iter().filter_map(|t| ref_name(t, names_by_id)),
    );
    Ok(())
}

fn fold_configuration(
    rule: &DeviceRule,
    tally: &mut Tally,
    configuration: &ConfigurationRow,
    names_by_id: &BTreeMap<i64, String>,
) -> Result<()> {
    let company = company_of(CONFIGURATIONS, &configuration.company)?;
    let active = configuration
        .active_flag
        .require(Side::ConnectWise, CONFIGURATIONS, "activeFlag")?
        .copied()
        // The server was asked for activeFlag=true only.
        .unwrap_or(true);
    let type_name = configuration
        .kind
        .require(Side::ConnectWise, CONFIGURATIONS, "type")?
        .and_then(|t| ref_name(t, names_by_id));
    let contact_name = match &configuration.contact {
        Field::Value(c) => c.name.as_deref(),
        Field::Null | Field::Absent => None,
    };
    rule.fold(
        tally,
        active,
        company.as_ref().map(|(id, name)| (id.as_str(), *name)),
        type_name,
        contact_name,
    );
    Ok(())
}

/// A reference `{id, name}` (type, contact, company). Either may be left out.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct NamedRef {
    id: Option<i64>,
    name: Option<String>,
}

/// `/company/contacts` rows, as projected by `fields`. The fields the count depends on are
/// [`Field`]s: absent fails the read, `null` is data.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactRow {
    id: i64,
    #[serde(default)]
    inactive_flag: Field<bool>,
    #[serde(default)]
    company: Field<NamedRef>,
    #[serde(default)]
    types: Field<Vec<NamedRef>>,
}

impl HasId for ContactRow {
    fn id(&self) -> i64 {
        self.id
    }
}

/// `/company/configurations` rows, as projected by `fields`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigurationRow {
    id: i64,
    #[serde(default)]
    active_flag: Field<bool>,
    #[serde(rename = "type", default)]
    kind: Field<NamedRef>,
    #[serde(default)]
    company: Field<NamedRef>,
    /// Absent means no contact: ConnectWise leaves null properties out.
    #[serde(default)]
    contact: Field<NamedRef>,
}

impl HasId for ConfigurationRow {
    fn id(&self) -> i64 {
        self.id
    }
}

/// `/company/contacts/types`: `description`, not `name` (docs/apis.md §2.8).
#[derive(Debug, Clone, Deserialize)]
struct ContactTypeRow {
    id: i64,
    #[serde(default)]
    description: Option<String>,
}

impl HasId for ContactTypeRow {
    fn id(&self) -> i64 {
        self.id
    }
}

/// `/company/configurations/types`.
#[derive(Debug, Clone, Deserialize)]
struct ConfigurationTypeRow {
    id: i64,
    #[serde(default)]
    name: Option<String>,
}

impl HasId for ConfigurationTypeRow {
    fn id(&self) -> i64 {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::tally::Skip;

    fn tenant(names: &[(i64, &str)]) -> Vec<TenantType> {
        names
            .iter()
            .map(|(id, name)| TenantType {
                id: *id,
                name: name.to_string(),
            })
            .collect()
    }

    #[test]
    fn configured_names_resolve_ignoring_case_and_spaces() {
        let t = tenant(&[
            (1, "Approver"),
            (4, "Billed User"),
            (13, "Billed User (Legacy)"),
        ]);
        let r = resolve_types(
            &[" billed  user ".into(), "APPROVER".into()],
            &t,
            "CONNECTWISE_CONTACT_TYPES",
            "contact type",
        )
        .unwrap();
        let ids: Vec<i64> = r.iter().map(|t| t.id).collect();
        assert_eq!(ids, [1, 4], "exact names only: not the (Legacy) look-alike");
        assert_eq!(r[1].configured, " billed  user ");
    }

    #[test]
    fn a_missing_name_is_a_setting_error_listing_the_tenants_names() {
        let t = tenant(&[(4, "Billed User"), (1, "Approver")]);
        let e = resolve_types(
            &["Billed Users".into()],
            &t,
            "CONNECTWISE_CONTACT_TYPES",
            "contact type",
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let text = e.to_string();
        assert!(
            text.starts_with("CONNECTWISE_CONTACT_TYPES: 'Billed Users'"),
            "{text}"
        );
        assert!(text.contains("'Approver', 'Billed User'"), "{text}");
    }

    #[test]
    fn contact_rows_fold_by_name_with_ids_as_fallback() {
        let rule = ContactRule::new(&["Billed User".into()]);
        let names = BTreeMap::from([(4, "Billed User".to_string())]);
        let rows: Vec<ContactRow> = serde_json::from_str(
            r#"[
              {"id":1,"inactiveFlag":false,"company":{"id":250,"name":"Contoso"},"types":[{"id":4,"name":"Billed User"}]},
              {"id":2,"inactiveFlag":false,"company":{"id":250},"types":[{"id":4}]},
              {"id":3,"inactiveFlag":false,"types":[{"id":4,"name":"Billed User"}]},
              {"id":4,"inactiveFlag":true,"company":{"id":250},"types":[{"id":4}]},
              {"id":5,"inactiveFlag":false,"company":{"id":7,"name":"Fabrikam"},"types":null}
            ]"#,
        )
        .unwrap();
        let mut tally = Tally::default();
        for r in &rows {
            fold_contact(&rule, &mut tally, r, &names).unwrap();
        }
        assert_eq!(tally.companies["250"].counts["Billed User"], 2);
        assert_eq!(tally.companies["250"].name.as_deref(), Some("Contoso"));
        assert_eq!(tally.skipped[&Skip::NoCompany], 1);
        assert_eq!(tally.skipped[&Skip::Inactive], 1);
        assert_eq!(tally.skipped[&Skip::TypeNotCounted], 1);
        assert_eq!(tally.items_read, 5);
    }

    #[test]
    fn configuration_rows_fold_shared_and_not_shared() {
        let rule = DeviceRule::new(&["License".into()]);
        let names = BTreeMap::from([(11, "License".to_string())]);
        let rows: Vec<ConfigurationRow> = serde_json::from_str(
            r#"[
              {"id":1,"activeFlag":true,"type":{"id":11,"name":"License"},"company":{"id":9,"name":"A"},"contact":{"name":"Reception (SHARED)"}},
              {"id":2,"activeFlag":true,"type":{"id":11},"company":{"id":9},"contact":{"name":"Jane"}},
              {"id":3,"activeFlag":true,"type":{"id":11,"name":"License"},"company":{"id":9}},
              {"id":4,"activeFlag":true,"type":{"id":5,"name":"Server"},"company":{"id":9}},
              {"id":5,"activeFlag":true,"type":{"id":11,"name":"License"}}
            ]"#,
        )
        .unwrap();
        let mut tally = Tally::default();
        for r in &rows {
            fold_configuration(&rule, &mut tally, r, &names).unwrap();
        }
        assert_eq!(tally.companies["9"].counts[SHARED_DEVICES], 1);
        assert_eq!(tally.companies["9"].counts[NOT_SHARED_DEVICES], 2);
        assert_eq!(tally.skipped[&Skip::TypeNotCounted], 1);
        assert_eq!(tally.skipped[&Skip::NoCompany], 1);
    }

    /// Regression: PascalCase rows, or rows that lost a field the count depends on, were
    /// folded as "no company" / defaults and billed wrong (docs/SECURITY.md, "Schema drift").
    #[test]
    fn rows_that_lost_a_counted_field_fail_the_read() {
        let rule = ContactRule::new(&["Billed User".into()]);
        let names = BTreeMap::from([(4, "Billed User".to_string())]);
        for (row, field) in [
            (
                r#"{"id":1,"company":{"id":2},"types":[{"id":4}]}"#,
                "inactiveFlag",
            ),
            (
                r#"{"id":1,"inactiveFlag":false,"company":{"id":2}}"#,
                "types",
            ),
            (
                r#"{"id":1,"inactiveFlag":false,"company":{"name":"X"},"types":[{"id":4}]}"#,
                "company/id",
            ),
        ] {
            let row: ContactRow = serde_json::from_str(row).unwrap();
            let e = fold_contact(&rule, &mut Tally::default(), &row, &names).unwrap_err();
            assert!(e.to_string().contains(&format!("'{field}'")), "{e}");
            assert_eq!(e.exit_code(), 1);
        }
        assert!(serde_json::from_str::<ContactRow>(r#"{"Id":1,"InactiveFlag":false}"#).is_err());
        let device = DeviceRule::new(&["License".into()]);
        let row: ConfigurationRow =
            serde_json::from_str(r#"{"id":1,"activeFlag":true,"company":{"id":9}}"#).unwrap();
        let e = fold_configuration(&device, &mut Tally::default(), &row, &names).unwrap_err();
        assert!(e.to_string().contains("'type'"), "{e}");
        assert!(check_some_have_company(CONTACTS, 3, 0).is_err());
        assert!(check_some_have_company(CONTACTS, 3, 1).is_ok());
        assert!(check_some_have_company(CONTACTS, 0, 0).is_ok());
    }

    #[test]
    fn unexpected_shapes_do_not_deserialise() {
        assert!(serde_json::from_str::<Vec<ContactRow>>(r#"{"id":1}"#).is_err());
        assert!(serde_json::from_str::<Vec<ContactRow>>(r#"[{"company":{"id":"x"}}]"#).is_err());
        assert!(serde_json::from_str::<Vec<ContactTypeRow>>(r#"[{"description":"x"}]"#).is_err());
    }
}
