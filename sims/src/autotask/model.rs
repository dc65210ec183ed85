//! Autotask entities as the REST API returns them (docs/apis.md §3.8), their field schemas (used
//! to resolve filter and IncludeFields names, §3.3) and the per-entity JSON tables the
//! query engine scans.

use crate::MatchMemo;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::filter::{CmpOp, Cond, FieldRef, matches_all};
use crate::lock;

/// One user-defined field value, as the API nests them: `{"name": "...", "value": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AtUdf {
    pub name: String,
    pub value: Option<String>,
}

/// A `Companies` row (docs/apis.md §3.8). `isActive` is a JSON **boolean** here, unlike
/// `Contacts.isActive` (integer). Id 0 is the MSP's own company, a real row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AtCompany {
    pub id: i64,
    #[serde(rename = "companyName")]
    pub company_name: String,
    #[serde(rename = "companyNumber")]
    pub company_number: Option<String>,
    /// Picklist, per tenant; the simulator's picklist: 1 Customer, 2 Lead, 3 Prospect,
    /// 4 Dead, 6 Cancellation, 7 Vendor, 8 Partner.
    #[serde(rename = "companyType")]
    pub company_type: i64,
    #[serde(rename = "isActive")]
    pub is_active: bool,
    #[serde(rename = "parentCompanyID")]
    pub parent_company_id: Option<i64>,
    #[serde(rename = "ownerResourceID")]
    pub owner_resource_id: Option<i64>,
    pub phone: Option<String>,
    #[serde(rename = "webAddress")]
    pub web_address: Option<String>,
    pub address1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    #[serde(rename = "postalCode")]
    pub postal_code: Option<String>,
    #[serde(rename = "countryID")]
    pub country_id: Option<i64>,
    pub classification: Option<i64>,
    #[serde(rename = "marketSegmentID")]
    pub market_segment_id: Option<i64>,
    #[serde(rename = "territoryID")]
    pub territory_id: Option<i64>,
    #[serde(rename = "createDate")]
    pub create_date: Option<String>,
    #[serde(rename = "lastActivityDate")]
    pub last_activity_date: Option<String>,
    #[serde(rename = "lastTrackedModifiedDateTime")]
    pub last_tracked_modified_date_time: Option<String>,
    #[serde(rename = "userDefinedFields")]
    pub user_defined_fields: Vec<AtUdf>,
}

/// A `ConfigurationItems` row (docs/apis.md §3.8). `configurationItemType` refers to
/// `ConfigurationItemTypes.id`; it may be null or name a type that does not exist.
/// `companyID` is required in a real tenant; the simulator allows null so the
/// "items without a company" rule of docs/contract.md §3 can be exercised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AtConfigurationItem {
    pub id: i64,
    #[serde(rename = "companyID")]
    pub company_id: Option<i64>,
    #[serde(rename = "configurationItemType")]
    pub configuration_item_type: Option<i64>,
    #[serde(rename = "configurationItemCategoryID")]
    pub configuration_item_category_id: Option<i64>,
    #[serde(rename = "isActive")]
    pub is_active: bool,
    #[serde(rename = "referenceTitle")]
    pub reference_title: Option<String>,
    #[serde(rename = "referenceNumber")]
    pub reference_number: Option<String>,
    #[serde(rename = "serialNumber")]
    pub serial_number: Option<String>,
    #[serde(rename = "productID")]
    pub product_id: Option<i64>,
    #[serde(rename = "contactID")]
    pub contact_id: Option<i64>,
    #[serde(rename = "contractID")]
    pub contract_id: Option<i64>,
    #[serde(rename = "installDate")]
    pub install_date: Option<String>,
    #[serde(rename = "warrantyExpirationDate")]
    pub warranty_expiration_date: Option<String>,
    #[serde(rename = "createDate")]
    pub create_date: Option<String>,
    #[serde(rename = "lastModifiedTime")]
    pub last_modified_time: Option<String>,
    pub location: Option<String>,
    #[serde(rename = "numberOfUsers")]
    pub number_of_users: Option<f64>,
    #[serde(rename = "parentConfigurationItemID")]
    pub parent_configuration_item_id: Option<i64>,
    #[serde(rename = "rmmDeviceAuditDeviceTypeID")]
    pub rmm_device_audit_device_type_id: Option<i64>,
    #[serde(rename = "rmmDeviceAuditOperatingSystem")]
    pub rmm_device_audit_operating_system: Option<String>,
    #[serde(rename = "rmmDeviceAuditHostname")]
    pub rmm_device_audit_hostname: Option<String>,
    #[serde(rename = "userDefinedFields")]
    pub user_defined_fields: Vec<AtUdf>,
}

/// A `ConfigurationItemTypes` row (docs/apis.md §3.8). Names are tenant data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AtConfigurationItemType {
    pub id: i64,
    pub name: String,
    #[serde(rename = "isActive")]
    pub is_active: bool,
    #[serde(rename = "userDefinedFields")]
    pub user_defined_fields: Vec<AtUdf>,
}

/// The data one simulated Autotask database holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AtTenant {
    pub companies: Vec<AtCompany>,
    pub configuration_items: Vec<AtConfigurationItem>,
    pub configuration_item_types: Vec<AtConfigurationItemType>,
}

/// Wire type of a field, for filter coercion (§3.3: booleans must be `true`/`false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Int,
    Double,
    Text,
    Bool,
    DateTime,
    /// `userDefinedFields`: an array; never equal to a scalar.
    UdfList,
}

impl FieldKind {
    /// The `dataType` the API reports in `entityInformation/fields`.
    pub(crate) fn data_type(self) -> &'static str {
        match self {
            FieldKind::Int => "long",
            FieldKind::Double => "double",
            FieldKind::Text => "string",
            FieldKind::Bool => "boolean",
            FieldKind::DateTime => "datetime",
            FieldKind::UdfList => "userDefinedFields",
        }
    }
}

use FieldKind::*;

const COMPANY_FIELDS: &[(&str, FieldKind)] = &[
    ("id", Int),
    ("companyName", Text),
    ("companyNumber", Text),
    ("companyType", Int),
    ("isActive", Bool),
    ("parentCompanyID", Int),
    ("ownerResourceID", Int),
    ("phone", Text),
    ("webAddress", Text),
    ("address1", Text),
    ("city", Text),
    ("state", Text),
    ("postalCode", Text),
    ("countryID", Int),
    ("classification", Int),
    ("marketSegmentID", Int),
    ("territoryID", Int),
    ("createDate", DateTime),
    ("lastActivityDate", DateTime),
    ("lastTrackedModifiedDateTime", DateTime),
    ("userDefinedFields", UdfList),
];

const CI_FIELDS: &[(&str, FieldKind)] = &[
    ("id", Int),
    ("companyID", Int),
    ("configurationItemType", Int),
    ("configurationItemCategoryID", Int),
    ("isActive", Bool),
    ("referenceTitle", Text),
    ("referenceNumber", Text),
    ("serialNumber", Text),
    ("productID", Int),
    ("contactID", Int),
    ("contractID", Int),
    ("installDate", DateTime),
    ("warrantyExpirationDate", DateTime),
    ("createDate", DateTime),
    ("lastModifiedTime", DateTime),
    ("location", Text),
    ("numberOfUsers", Double),
    ("parentConfigurationItemID", Int),
    ("rmmDeviceAuditDeviceTypeID", Int),
    ("rmmDeviceAuditOperatingSystem", Text),
    ("rmmDeviceAuditHostname", Text),
    ("userDefinedFields", UdfList),
];

const CI_TYPE_FIELDS: &[(&str, FieldKind)] = &[
    ("id", Int),
    ("name", Text),
    ("isActive", Bool),
    ("userDefinedFields", UdfList),
];

/// The entities the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Entity {
    Companies,
    ConfigurationItems,
    ConfigurationItemTypes,
}

impl Entity {
    /// Entity names in paths ignore case (docs/apis.md §3.1).
    pub(crate) fn parse(segment: &str) -> Option<Entity> {
        [
            Entity::Companies,
            Entity::ConfigurationItems,
            Entity::ConfigurationItemTypes,
        ]
        .into_iter()
        .find(|e| e.path_name().eq_ignore_ascii_case(segment))
    }

    pub(crate) fn path_name(self) -> &'static str {
        match self {
            Entity::Companies => "Companies",
            Entity::ConfigurationItems => "ConfigurationItems",
            Entity::ConfigurationItemTypes => "ConfigurationItemTypes",
        }
    }

    /// The singular name the API uses in messages ("Unable to find X in the Company Entity.").
    pub(crate) fn singular(self) -> &'static str {
        match self {
            Entity::Companies => "Company",
            Entity::ConfigurationItems => "ConfigurationItem",
            Entity::ConfigurationItemTypes => "ConfigurationItemType",
        }
    }

    pub(crate) fn fields(self) -> &'static [(&'static str, FieldKind)] {
        match self {
            Entity::Companies => COMPANY_FIELDS,
            Entity::ConfigurationItems => CI_FIELDS,
            Entity::ConfigurationItemTypes => CI_TYPE_FIELDS,
        }
    }

    /// Resolves a field name ignoring case (docs/apis.md §3.3) to its canonical spelling.
    pub(crate) fn field(self, name: &str) -> Option<(&'static str, FieldKind)> {
        self.fields()
            .iter()
            .copied()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
    }
}

/// One row: its id and its wire JSON as text, serialised once (a parsed `Map` per row
/// takes several times the memory at a million rows); parsed back on demand.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: i64,
    json: Box<str>,
}

impl Row {
    /// The row's wire JSON object.
    pub(crate) fn obj(&self) -> Map<String, Value> {
        serde_json::from_str(&self.json).unwrap_or_default()
    }
}

/// Every entity's rows as wire JSON, sorted by id ascending (the order the API returns), and
/// the rows each recent filter matched (rebuilt with the tables when the tenant changes).
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub companies: Vec<Row>,
    pub configuration_items: Vec<Row>,
    pub configuration_item_types: Vec<Row>,
    memo: Mutex<MatchMemo>,
}

/// The rows a query matches, in id order, without copying them.
pub(crate) struct Selection<'a> {
    rows: &'a [Row],
    /// Matched indices into `rows`; `None`: every row.
    base: Option<Arc<Vec<u32>>>,
    start: usize,
    end: usize,
}

impl<'a> Selection<'a> {
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    pub(crate) fn get(&self, k: usize) -> &'a Row {
        let i = self.start + k;
        &self.rows[self.base.as_ref().map_or(i, |b| b[i] as usize)]
    }

    /// The position of the first matched row with an id above `id`.
    pub(crate) fn after(&self, id: i64) -> usize {
        partition(self.len(), |k| self.get(k).id <= id)
    }
}

/// The first `k` in `0..len` for which `pred` is false (`pred` true on a prefix).
fn partition(len: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Whether a top-level condition bounds `id` from below (`gt`/`gte`/`eq`) or from above
/// (`lt`/`lte`/`eq`). `id` is never null, so over rows sorted by id such a condition holds
/// on a suffix (below) or a prefix (above) and can be found by binary search.
fn id_bound(c: &Cond) -> Option<(bool, bool)> {
    match c {
        Cond::Cmp {
            field: FieldRef::Std("id"),
            op,
            ..
        } => match op {
            CmpOp::Gt | CmpOp::Gte => Some((true, false)),
            CmpOp::Lt | CmpOp::Lte => Some((false, true)),
            CmpOp::Eq => Some((true, true)),
            _ => None,
        },
        _ => None,
    }
}

impl Tables {
    pub(crate) fn build(tenant: &AtTenant) -> Tables {
        Tables {
            companies: rows(&tenant.companies, |c| c.id),
            configuration_items: rows(&tenant.configuration_items, |c| c.id),
            configuration_item_types: rows(&tenant.configuration_item_types, |c| c.id),
            memo: Mutex::default(),
        }
    }

    pub(crate) fn get(&self, entity: Entity) -> &[Row] {
        match entity {
            Entity::Companies => &self.companies,
            Entity::ConfigurationItems => &self.configuration_items,
            Entity::ConfigurationItemTypes => &self.configuration_item_types,
        }
    }

    /// The rows `conds` (ANDed) match: the conditions other than top-level id bounds are
    /// evaluated once per tenant version and memoised; the id bounds by binary search.
    pub(crate) fn select(&self, entity: Entity, conds: &[Cond]) -> Selection<'_> {
        let rows = self.get(entity);
        let (bounds, rest): (Vec<&Cond>, Vec<&Cond>) =
            conds.iter().partition(|c| id_bound(c).is_some());
        let base = if rest.is_empty() {
            None
        } else {
            let key = format!("{entity:?}/{rest:?}");
            Some(lock(&self.memo).get_or_scan(key, || {
                rows.iter()
                    .enumerate()
                    .filter(|(_, r)| {
                        let obj = r.obj();
                        rest.iter()
                            .all(|c| matches_all(std::slice::from_ref(*c), &obj))
                    })
                    .map(|(i, _)| i as u32)
                    .collect()
            }))
        };
        let id_at = |k: usize| rows[base.as_ref().map_or(k, |b| b[k] as usize)].id;
        let len = base.as_ref().map_or(rows.len(), |b| b.len());
        // The bounds are judged by the filter's own comparison, on the id alone.
        let holds = |c: &Cond, id: i64| {
            let mut obj = Map::new();
            obj.insert("id".into(), Value::from(id));
            matches_all(std::slice::from_ref(c), &obj)
        };
        let start = partition(len, |k| {
            let id = id_at(k);
            !bounds
                .iter()
                .filter(|c| id_bound(c).is_some_and(|(below, _)| below))
                .all(|c| holds(c, id))
        });
        let end = partition(len, |k| {
            let id = id_at(k);
            bounds
                .iter()
                .filter(|c| id_bound(c).is_some_and(|(_, above)| above))
                .all(|c| holds(c, id))
        })
        .max(start);
        Selection {
            rows,
            base,
            start,
            end,
        }
    }
}

fn rows<T: Serialize>(items: &[T], id: impl Fn(&T) -> i64) -> Vec<Row> {
    let mut out: Vec<Row> = items
        .iter()
        .map(|item| Row {
            id: id(item),
            json: match serde_json::to_value(item) {
                Ok(v @ Value::Object(_)) => v.to_string(),
                _ => "{}".to_string(),
            }
            .into_boxed_str(),
        })
        .collect();
    out.sort_by_key(|r| r.id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys<T: Serialize + Default>() -> Vec<String> {
        match serde_json::to_value(T::default()) {
            Ok(Value::Object(map)) => {
                let mut k: Vec<String> = map.keys().cloned().collect();
                k.sort();
                k
            }
            _ => Vec::new(),
        }
    }

    fn schema(e: Entity) -> Vec<String> {
        let mut k: Vec<String> = e.fields().iter().map(|(n, _)| n.to_string()).collect();
        k.sort();
        k
    }

    #[test]
    fn schemas_match_serialized_structs() {
        assert_eq!(keys::<AtCompany>(), schema(Entity::Companies));
        assert_eq!(
            keys::<AtConfigurationItem>(),
            schema(Entity::ConfigurationItems)
        );
        assert_eq!(
            keys::<AtConfigurationItemType>(),
            schema(Entity::ConfigurationItemTypes)
        );
    }

    #[test]
    fn entity_and_field_names_ignore_case() {
        assert_eq!(
            Entity::parse("configurationitems"),
            Some(Entity::ConfigurationItems)
        );
        assert_eq!(
            Entity::Companies.field("ISACTIVE"),
            Some(("isActive", FieldKind::Bool))
        );
        assert_eq!(Entity::Companies.field("nope"), None);
    }
}
