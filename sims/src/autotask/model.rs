//! Autotask entities as the REST API returns them (docs/apis.md §3.8), their field schemas (used
//! to resolve filter and IncludeFields names, §3.3) and the per-entity JSON tables the
//! query engine scans.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

/// One row ready for scanning: its id and its wire JSON.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: i64,
    pub obj: Map<String, Value>,
}

/// Every entity's rows as wire JSON, sorted by id ascending (the order the API returns).
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub companies: Vec<Row>,
    pub configuration_items: Vec<Row>,
    pub configuration_item_types: Vec<Row>,
}

impl Tables {
    pub(crate) fn build(tenant: &AtTenant) -> Tables {
        Tables {
            companies: rows(&tenant.companies, |c| c.id),
            configuration_items: rows(&tenant.configuration_items, |c| c.id),
            configuration_item_types: rows(&tenant.configuration_item_types, |c| c.id),
        }
    }

    pub(crate) fn get(&self, entity: Entity) -> &[Row] {
        match entity {
            Entity::Companies => &self.companies,
            Entity::ConfigurationItems => &self.configuration_items,
            Entity::ConfigurationItemTypes => &self.configuration_item_types,
        }
    }
}

fn rows<T: Serialize>(items: &[T], id: impl Fn(&T) -> i64) -> Vec<Row> {
    let mut out: Vec<Row> = items
        .iter()
        .map(|item| Row {
            id: id(item),
            obj: match serde_json::to_value(item) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            },
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
