//! What fields each simulated list endpoint knows, for `conditions`, `childConditions`,
//! `customFieldConditions`, `orderBy` and `fields` (docs/apis.md §2.3), plus `fields` projection
//! and `orderBy` sorting.
//!
//! A field the schema does not know is a 400 (docs/apis.md §2.10 asks for InvalidFilter-style
//! errors for unknown fields; §2.3 reports 400s for unknown `fields` on some endpoints) —
//! never a silent match-all.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::dates::parse_datetime;

/// The type of a field, which decides the literals and operators a condition may use on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    Str,
    Bool,
    /// An ISO date-time string in JSON; `[..]` literals in conditions.
    Date,
    /// A reference object (`company`); conditions may only test it against `null`.
    Object,
    /// An array (`types`); only its sub-fields can be used, in `childConditions`.
    Array,
}

/// One field usable in conditions.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Canonical name as written in conditions: `company/id`, `lastUpdated`.
    pub name: String,
    /// Where the value lives in the JSON: `["company","id"]`, `["_info","lastUpdated"]`.
    pub json: Vec<String>,
    pub kind: Kind,
    /// `Some("types")` for a field inside an array element (`types/name`).
    pub array: Option<String>,
}

/// The fields of one resource.
pub struct Schema {
    /// Resource name used in error bodies (`contact`, `company`, ...).
    pub resource: &'static str,
    fields: Vec<Field>,
    by_lower: HashMap<String, usize>,
    /// Lower-cased JSON paths accepted by `fields=`, to their canonical spelling.
    projectable: HashMap<String, Vec<String>>,
}

impl Schema {
    /// Finds a field by its condition name, ignoring case (docs/apis.md §2.3).
    pub fn lookup(&self, name: &str) -> Option<&Field> {
        self.by_lower
            .get(&name.to_lowercase())
            .map(|&i| &self.fields[i])
    }
}

const REF: &[(&str, Kind)] = &[("id", Kind::Int), ("name", Kind::Str)];
const COMPANY_REF: &[(&str, Kind)] = &[
    ("id", Kind::Int),
    ("identifier", Kind::Str),
    ("name", Kind::Str),
];
const CUSTOM_FIELD: &[(&str, Kind)] = &[
    ("id", Kind::Int),
    ("caption", Kind::Str),
    ("type", Kind::Str),
    ("entryMethod", Kind::Str),
    ("numberOfDecimals", Kind::Int),
    ("value", Kind::Str),
];

struct Builder {
    resource: &'static str,
    fields: Vec<Field>,
}

impl Builder {
    fn new(resource: &'static str) -> Self {
        Self {
            resource,
            fields: Vec::new(),
        }
    }

    fn push(&mut self, name: String, json: Vec<String>, kind: Kind, array: Option<String>) {
        self.fields.push(Field {
            name,
            json,
            kind,
            array,
        });
    }

    fn scalars(mut self, list: &[(&str, Kind)]) -> Self {
        for &(name, kind) in list {
            self.push(name.into(), vec![name.into()], kind, None);
        }
        self
    }

    fn reference(mut self, name: &str, subs: &[(&str, Kind)]) -> Self {
        self.push(name.into(), vec![name.into()], Kind::Object, None);
        for &(sub, kind) in subs {
            self.push(
                format!("{name}/{sub}"),
                vec![name.into(), sub.into()],
                kind,
                None,
            );
        }
        self
    }

    fn refs(self, names: &[&str]) -> Self {
        names.iter().fold(self, |b, n| b.reference(n, REF))
    }

    /// An array whose elements have `subs`; a sub may itself be a path (`type/name`).
    fn array(mut self, name: &str, subs: &[(&str, Kind)]) -> Self {
        self.push(name.into(), vec![name.into()], Kind::Array, None);
        for &(sub, kind) in subs {
            let mut json = vec![name.to_string()];
            json.extend(sub.split('/').map(str::to_string));
            self.push(format!("{name}/{sub}"), json, kind, Some(name.into()));
        }
        self
    }

    /// `_info` and the condition aliases into it: `lastUpdated`/`LastUpdated` works on every
    /// entity though it lives in `_info` (docs/apis.md §2.3 [R]), and so does `dateEntered`.
    fn info(mut self) -> Self {
        for (name, kind) in [
            ("lastUpdated", Kind::Date),
            ("dateEntered", Kind::Date),
            ("updatedBy", Kind::Str),
            ("enteredBy", Kind::Str),
        ] {
            self.push(name.into(), vec!["_info".into(), name.into()], kind, None);
        }
        self
    }

    fn build(self) -> Schema {
        let mut by_lower = HashMap::new();
        let mut projectable = HashMap::new();
        for (i, f) in self.fields.iter().enumerate() {
            by_lower.insert(f.name.to_lowercase(), i);
            for n in 1..=f.json.len() {
                let path = f.json[..n].to_vec();
                projectable.insert(path.join("/").to_lowercase(), path);
            }
            if f.kind == Kind::Object {
                let path = vec![f.json[0].clone(), "_info".into()];
                projectable.insert(path.join("/").to_lowercase(), path);
            }
        }
        Schema {
            resource: self.resource,
            fields: self.fields,
            by_lower,
            projectable,
        }
    }
}

fn companies() -> Schema {
    use Kind::*;
    Builder::new("company")
        .scalars(&[
            ("id", Int),
            ("identifier", Str),
            ("name", Str),
            ("addressLine1", Str),
            ("city", Str),
            ("state", Str),
            ("zip", Str),
            ("phoneNumber", Str),
            ("website", Str),
            ("deletedFlag", Bool),
            ("dateDeleted", Date),
            ("deletedBy", Str),
            ("leadFlag", Bool),
            ("isVendorFlag", Bool),
        ])
        .refs(&["status", "country", "market", "site", "defaultContact"])
        .array("types", REF)
        .array("customFields", CUSTOM_FIELD)
        .info()
        .build()
}

fn contacts() -> Schema {
    use Kind::*;
    Builder::new("contact")
        .scalars(&[
            ("id", Int),
            ("firstName", Str),
            ("lastName", Str),
            ("title", Str),
            ("inactiveFlag", Bool),
            ("defaultFlag", Bool),
            ("defaultBillingFlag", Bool),
        ])
        .reference("company", COMPANY_REF)
        .refs(&["site"])
        .array("types", REF)
        .array(
            "communicationItems",
            &[
                ("id", Int),
                ("type/id", Int),
                ("type/name", Str),
                ("value", Str),
                ("defaultFlag", Bool),
                ("communicationType", Str),
            ],
        )
        .array("customFields", CUSTOM_FIELD)
        .info()
        .build()
}

fn configurations() -> Schema {
    use Kind::*;
    Builder::new("configuration")
        .scalars(&[
            ("id", Int),
            ("name", Str),
            ("activeFlag", Bool),
            ("serialNumber", Str),
            ("tagNumber", Str),
            ("deviceIdentifier", Str),
            ("modelNumber", Str),
            ("osType", Str),
            ("osInfo", Str),
            ("ipAddress", Str),
            ("macAddress", Str),
            ("lastLoginName", Str),
            ("purchaseDate", Date),
            ("installationDate", Date),
            ("warrantyExpirationDate", Date),
            ("needsRenewalFlag", Bool),
            ("billFlag", Bool),
            ("parentConfigurationId", Int),
            ("backupBillableSpaceGb", Float),
            ("notes", Str),
        ])
        .reference("company", COMPANY_REF)
        .refs(&["type", "status", "contact", "site", "manufacturer"])
        .array("customFields", CUSTOM_FIELD)
        .info()
        .build()
}

fn contact_types() -> Schema {
    use Kind::*;
    Builder::new("contactType")
        .scalars(&[
            ("id", Int),
            ("description", Str),
            ("defaultFlag", Bool),
            ("serviceAlertFlag", Bool),
            ("serviceAlertMessage", Str),
        ])
        .info()
        .build()
}

fn configuration_types() -> Schema {
    use Kind::*;
    Builder::new("configurationType")
        .scalars(&[
            ("id", Int),
            ("name", Str),
            ("inactiveFlag", Bool),
            ("systemFlag", Bool),
        ])
        .info()
        .build()
}

const MEMBER_REF: &[(&str, Kind)] = COMPANY_REF;

/// `/service/tickets`: `dateEntered` is no field of the JSON (it lives in `_info`), but
/// conditions accept it through [`Builder::info`] (docs/apis.md §2.8 trap).
fn tickets() -> Schema {
    use Kind::*;
    Builder::new("ticket")
        .scalars(&[
            ("id", Int),
            ("summary", Str),
            ("recordType", Str),
            ("closedFlag", Bool),
            ("closedDate", Date),
            ("closedBy", Str),
            ("dateResolved", Date),
        ])
        .reference("company", COMPANY_REF)
        .refs(&["board", "status", "priority", "contact"])
        .info()
        .build()
}

fn time_entries() -> Schema {
    use Kind::*;
    Builder::new("timeEntry")
        .scalars(&[
            ("id", Int),
            ("chargeToType", Str),
            ("chargeToId", Int),
            ("timeStart", Date),
            ("timeEnd", Date),
            ("actualHours", Float),
            ("billableOption", Str),
            ("notes", Str),
        ])
        .reference("company", COMPANY_REF)
        .reference("member", MEMBER_REF)
        .refs(&["workType"])
        .info()
        .build()
}

fn agreements() -> Schema {
    use Kind::*;
    Builder::new("agreement")
        .scalars(&[
            ("id", Int),
            ("name", Str),
            ("startDate", Date),
            ("endDate", Date),
            ("noEndingDateFlag", Bool),
            ("agreementStatus", Str),
            ("cancelledFlag", Bool),
            ("dateCancelled", Date),
            ("billAmount", Float),
        ])
        .reference("company", COMPANY_REF)
        .refs(&["type"])
        .info()
        .build()
}

fn additions() -> Schema {
    use Kind::*;
    Builder::new("agreementAddition")
        .scalars(&[
            ("id", Int),
            ("quantity", Float),
            ("unitPrice", Float),
            ("billCustomer", Str),
            ("effectiveDate", Date),
            ("cancelledDate", Date),
            ("agreementId", Int),
        ])
        .reference("product", &[("id", Int), ("identifier", Str)])
        .info()
        .build()
}

/// `/system/callbacks` (docs/apis.md §2.9, [V:pycw-model `CallbackEntry`]).
fn callbacks() -> Schema {
    use Kind::*;
    Builder::new("callbackEntry")
        .scalars(&[
            ("id", Int),
            ("description", Str),
            ("url", Str),
            ("objectId", Int),
            ("type", Str),
            ("level", Str),
            ("memberId", Int),
            ("payloadVersion", Str),
            ("inactiveFlag", Bool),
            ("isSoapCallbackFlag", Bool),
            ("isSelfSuppressedFlag", Bool),
            ("connectWiseID", Str),
        ])
        .info()
        .build()
}

/// The simulated list resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Companies,
    Contacts,
    Configurations,
    ContactTypes,
    ConfigurationTypes,
    Tickets,
    TimeEntries,
    Agreements,
    /// `/system/callbacks`.
    Callbacks,
    /// Listed per agreement: `/finance/agreements/{id}/additions`.
    Additions,
}

impl Table {
    #[cfg(test)]
    pub const ALL: [Table; 10] = [
        Table::Companies,
        Table::Contacts,
        Table::Configurations,
        Table::ContactTypes,
        Table::ConfigurationTypes,
        Table::Tickets,
        Table::TimeEntries,
        Table::Agreements,
        Table::Callbacks,
        Table::Additions,
    ];

    pub fn schema(self) -> &'static Schema {
        static SCHEMAS: OnceLock<[Schema; 10]> = OnceLock::new();
        let all = SCHEMAS.get_or_init(|| {
            [
                companies(),
                contacts(),
                configurations(),
                contact_types(),
                configuration_types(),
                tickets(),
                time_entries(),
                agreements(),
                callbacks(),
                additions(),
            ]
        });
        &all[self as usize]
    }
}

/// The value at `path`, or `None` when it is missing or `null` (a path through a null
/// reference included).
pub fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path {
        cur = cur.get(seg.as_str())?;
    }
    (!cur.is_null()).then_some(cur)
}

/// Parses `fields=` (a comma list of `a` or `a/b` JSON paths, docs/apis.md §2.3 Partial Responses).
pub fn parse_fields(spec: &str, schema: &Schema) -> Result<Vec<Vec<String>>, String> {
    let mut out = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let key = item.to_lowercase();
        let path = if key == "_info" || key.starts_with("_info/") {
            item.split('/').map(str::to_string).collect()
        } else {
            schema.projectable.get(&key).cloned().ok_or_else(|| {
                format!(
                    "The field '{item}' is not a valid field of {}.",
                    schema.resource
                )
            })?
        };
        out.push(path);
    }
    Ok(out)
}

/// Keeps only `paths` of `entity`; `_info` is left out unless listed (docs/apis.md §2.3 [R]).
pub fn project(entity: &Value, paths: &[Vec<String>]) -> Value {
    let mut out = Map::new();
    for p in paths {
        insert_path(&mut out, entity, p);
    }
    Value::Object(out)
}

fn insert_path(out: &mut Map<String, Value>, src: &Value, path: &[String]) {
    let Some((key, rest)) = path.split_first() else {
        return;
    };
    let Some(val) = src.get(key.as_str()).filter(|v| !v.is_null()) else {
        return;
    };
    if rest.is_empty() {
        out.insert(key.clone(), val.clone());
        return;
    }
    match val {
        Value::Object(_) => {
            let entry = out
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                insert_path(m, val, rest);
            }
        }
        Value::Array(items) => {
            let entry = out
                .entry(key.clone())
                .or_insert_with(|| Value::Array(vec![Value::Object(Map::new()); items.len()]));
            if let Value::Array(outs) = entry {
                for (o, item) in outs.iter_mut().zip(items) {
                    if let Value::Object(m) = o {
                        insert_path(m, item, rest);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Parses `orderBy=` (`field [asc|desc]`, comma separated; docs/apis.md §2.3).
pub fn parse_order(spec: &str, schema: &Schema) -> Result<Vec<(Field, bool)>, String> {
    let mut out = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let mut words = item.split_whitespace();
        let name = words.next().unwrap_or_default();
        let desc = match words.next().map(str::to_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => return Err(format!("Invalid sort direction '{other}' in orderBy.")),
        };
        if words.next().is_some() {
            return Err(format!("Invalid orderBy clause '{item}'."));
        }
        let field = schema
            .lookup(name)
            .filter(|f| f.array.is_none() && !matches!(f.kind, Kind::Array | Kind::Object))
            .ok_or_else(|| {
                format!(
                    "Cannot sort on '{name}': unknown field of {}.",
                    schema.resource
                )
            })?;
        out.push((field.clone(), desc));
    }
    Ok(out)
}

/// Orders two field values as SQL Server would: nulls first, strings case-insensitively.
pub fn compare(a: Option<&Value>, b: Option<&Value>, kind: Kind) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => match kind {
            Kind::Str => {
                let (a, b) = (a.as_str().unwrap_or(""), b.as_str().unwrap_or(""));
                a.to_lowercase().cmp(&b.to_lowercase())
            }
            Kind::Date => {
                let p = |v: &Value| v.as_str().and_then(parse_datetime);
                p(a).cmp(&p(b))
            }
            Kind::Bool => a.as_bool().cmp(&b.as_bool()),
            _ => {
                let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
        },
    }
}
