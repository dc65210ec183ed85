//! The query body (`{"MaxRecords","IncludeFields","Filter"}`) and the filter language of
//! docs/apis.md §3.3, with the real API's traps:
//!
//! - key names (`filter`, `maxRecords`), operator names and field names ignore case;
//! - an **unknown operator is silently ignored**: the item matches every row (§3.3, the
//!   `ne` trap);
//! - an unknown field → 500 `Unable to find X in the Y Entity.`;
//! - an empty or missing `Filter` → 500 (clients send a sentinel such as `id gte 0`);
//! - a boolean field compared with anything but `true`/`false` (a `"true"` string, null) → 500;
//! - `MaxRecords` outside 1..=500 → 500 `maxCountOfRecordsToReturn must be between 1 and 500`.
//!
//! Comparisons follow SQL semantics for null data (the API sits on SQL Server) \[I\]: a null
//! field matches no comparison, `noteq` and `notIn` included; only `eq null`, `noteq null`,
//! `exist` and `notExist` look at nulls. String comparisons ignore case.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::model::{Entity, FieldKind};

/// Most conditions allowed under `or` groups in one query (SOAP limit, assumed for REST: §3.3).
const MAX_OR_CONDITIONS: usize = 500;
/// The largest (and default) page (§3.3).
pub(crate) const MAX_PAGE: usize = 500;

/// A request the API refuses; the handler answers 500 `{"errors":[message]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError(msg.into()))
}

/// A parsed, validated query.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    /// `MaxRecords`, 1..=500 (500 when absent).
    pub max_records: usize,
    /// Canonical names of `IncludeFields` (empty: every field).
    pub include_fields: Vec<&'static str>,
    pub conditions: Vec<Cond>,
    /// The filter with keys lower-cased and sorted: two requests carry "the same filter"
    /// when these are equal (used to check a next-page POST body, §3.4).
    pub canonical_filter: String,
}

/// Where a condition reads its value.
#[derive(Debug, Clone)]
pub(crate) enum FieldRef {
    Std(&'static str),
    /// A user-defined field (`"udf": true`), looked up by name in `userDefinedFields`.
    Udf(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    NotEq,
    Gt,
    Gte,
    Lt,
    Lte,
    BeginsWith,
    EndsWith,
    Contains,
}

/// A filter value after coercion to the field's type. Text is lower-cased.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Num(f64),
    Text(String),
}

#[derive(Debug, Clone)]
pub(crate) enum Cond {
    /// An unknown operator: dropped by the API, so it matches everything.
    Ignored,
    Cmp {
        field: FieldRef,
        op: CmpOp,
        value: Scalar,
    },
    Exist {
        field: FieldRef,
        negate: bool,
    },
    In {
        field: FieldRef,
        values: Vec<Scalar>,
        negate: bool,
    },
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

/// Looks a key up ignoring case (clients send `filter`, `Filter`, `maxRecords`…).
fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Parses a query from its JSON text (POST body or the `search` parameter of a GET).
pub(crate) fn parse_query(entity: Entity, text: &str) -> Result<Query, QueryError> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return err(format!("Unable to parse the query: {e}")),
    };
    let Value::Object(obj) = value else {
        return err("The query must be a JSON object.");
    };

    let max_records = match get_ci(&obj, "MaxRecords") {
        None | Some(Value::Null) => MAX_PAGE,
        Some(v) => {
            let n = match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            match n {
                Some(n) if (1..=MAX_PAGE as i64).contains(&n) => n as usize,
                _ => return err("maxCountOfRecordsToReturn must be between 1 and 500"),
            }
        }
    };

    let mut include_fields = Vec::new();
    match get_ci(&obj, "IncludeFields") {
        None | Some(Value::Null) => {}
        Some(Value::Array(names)) => {
            for name in names {
                let Value::String(name) = name else {
                    return err("IncludeFields must be a list of field names.");
                };
                match entity.field(name) {
                    Some((canonical, _)) => {
                        if !include_fields.contains(&canonical) {
                            include_fields.push(canonical);
                        }
                    }
                    None => return err(unknown_field(entity, name)),
                }
            }
        }
        Some(_) => return err("IncludeFields must be a list of field names."),
    }

    let items = match get_ci(&obj, "Filter") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return err("A filter is required: the query must contain at least one filter item.");
        }
        Some(_) => return err("Filter must be a list of filter items."),
    };
    let mut or_count = 0;
    let conditions = items
        .iter()
        .map(|item| parse_cond(entity, item, &mut or_count))
        .collect::<Result<Vec<_>, _>>()?;
    if or_count > MAX_OR_CONDITIONS {
        return err(format!(
            "A query may contain at most {MAX_OR_CONDITIONS} OR conditions; this one has {or_count}."
        ));
    }
    let canonical_filter = canonical(&Value::Array(items.clone()));
    Ok(Query {
        max_records,
        include_fields,
        conditions,
        canonical_filter,
    })
}

pub(crate) fn unknown_field(entity: Entity, name: &str) -> String {
    format!("Unable to find {name} in the {} Entity.", entity.singular())
}

fn parse_cond(entity: Entity, item: &Value, or_count: &mut usize) -> Result<Cond, QueryError> {
    let Value::Object(obj) = item else {
        return err("Each filter item must be an object.");
    };
    let op = match get_ci(obj, "op") {
        Some(Value::String(op)) => op.trim().to_ascii_lowercase(),
        // No usable operator: the item is dropped like an unknown one.
        _ => return Ok(Cond::Ignored),
    };
    let group = |or_count: &mut usize| -> Result<Vec<Cond>, QueryError> {
        match get_ci(obj, "items") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| parse_cond(entity, i, or_count))
                .collect(),
            Some(_) => err("items must be a list of filter items."),
        }
    };
    let kind = match op.as_str() {
        "and" => return Ok(Cond::And(group(or_count)?)),
        "or" => {
            let items = group(or_count)?;
            *or_count += items.len();
            return Ok(Cond::Or(items));
        }
        "eq" => OpKind::Cmp(CmpOp::Eq),
        "noteq" => OpKind::Cmp(CmpOp::NotEq),
        "gt" => OpKind::Cmp(CmpOp::Gt),
        "gte" => OpKind::Cmp(CmpOp::Gte),
        "lt" => OpKind::Cmp(CmpOp::Lt),
        "lte" => OpKind::Cmp(CmpOp::Lte),
        "beginswith" => OpKind::Cmp(CmpOp::BeginsWith),
        "endswith" => OpKind::Cmp(CmpOp::EndsWith),
        "contains" => OpKind::Cmp(CmpOp::Contains),
        "exist" => OpKind::Exist { negate: false },
        "notexist" => OpKind::Exist { negate: true },
        "in" => OpKind::In { negate: false },
        "notin" => OpKind::In { negate: true },
        // The real trap (§3.3): `ne`, `startsWith`, `isNull`… are silently dropped.
        _ => return Ok(Cond::Ignored),
    };

    let (field, field_kind) = resolve_field(entity, obj)?;
    let value = get_ci(obj, "value").unwrap_or(&Value::Null);
    match kind {
        OpKind::Exist { negate } => Ok(Cond::Exist { field, negate }),
        OpKind::In { negate } => {
            let Value::Array(values) = value else {
                return err(format!(
                    "The value for operator {op} on field {} must be a list.",
                    field_name(&field)
                ));
            };
            let values = values
                .iter()
                .map(|v| coerce(&field, field_kind, v))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Cond::In {
                field,
                values,
                negate,
            })
        }
        OpKind::Cmp(op) => {
            let value = coerce(&field, field_kind, value)?;
            Ok(Cond::Cmp { field, op, value })
        }
    }
}

enum OpKind {
    Cmp(CmpOp),
    Exist { negate: bool },
    In { negate: bool },
}

fn resolve_field(
    entity: Entity,
    obj: &Map<String, Value>,
) -> Result<(FieldRef, FieldKind), QueryError> {
    let name = match get_ci(obj, "field") {
        Some(Value::String(name)) if !name.trim().is_empty() => name,
        _ => return err("Each filter item with a comparison operator needs a field."),
    };
    let is_udf = matches!(get_ci(obj, "udf"), Some(Value::Bool(true)));
    if is_udf {
        return Ok((FieldRef::Udf(name.trim().to_string()), FieldKind::Text));
    }
    match entity.field(name) {
        Some((canonical, kind)) => Ok((FieldRef::Std(canonical), kind)),
        None => err(unknown_field(entity, name)),
    }
}

fn field_name(field: &FieldRef) -> &str {
    match field {
        FieldRef::Std(n) => n,
        FieldRef::Udf(n) => n,
    }
}

/// Converts a filter value to the field's type, refusing what the API refuses.
fn coerce(field: &FieldRef, kind: FieldKind, value: &Value) -> Result<Scalar, QueryError> {
    let name = field_name(field);
    match kind {
        FieldKind::Bool => match value {
            Value::Bool(b) => Ok(Scalar::Bool(*b)),
            other => err(format!(
                "Value {other} is not valid for the boolean field {name}: use true or false."
            )),
        },
        FieldKind::Int | FieldKind::Double => match value {
            Value::Null => Ok(Scalar::Null),
            Value::Number(n) => Ok(Scalar::Num(n.as_f64().unwrap_or(f64::NAN))),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Scalar::Num(n)),
                _ => err(format!(
                    "Unable to convert value '{s}' to the type of field {name}."
                )),
            },
            other => err(format!(
                "Unable to convert value {other} to the type of field {name}."
            )),
        },
        FieldKind::Text | FieldKind::DateTime | FieldKind::UdfList => match value {
            Value::Null => Ok(Scalar::Null),
            Value::String(s) => Ok(Scalar::Text(s.to_lowercase())),
            Value::Number(n) => Ok(Scalar::Text(n.to_string())),
            Value::Bool(b) => Ok(Scalar::Text(b.to_string())),
            other => err(format!(
                "Unable to convert value {other} to the type of field {name}."
            )),
        },
    }
}

/// JSON text with object keys lower-cased and sorted, whatever serde_json's map order.
pub(crate) fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, String)> = map
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), canonical(v)))
                .collect();
            entries.sort();
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{v}", Value::String(k)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", inner.join(","))
        }
        other => other.to_string(),
    }
}

/// Top-level conditions are ANDed (§3.3).
pub(crate) fn matches_all(conds: &[Cond], row: &Map<String, Value>) -> bool {
    conds.iter().all(|c| matches(c, row))
}

fn matches(cond: &Cond, row: &Map<String, Value>) -> bool {
    match cond {
        Cond::Ignored => true,
        Cond::And(items) => items.iter().all(|c| matches(c, row)),
        // An empty group is dropped like an unknown operator [I].
        Cond::Or(items) => items.is_empty() || items.iter().any(|c| matches(c, row)),
        Cond::Exist { field, negate } => {
            let present = !lookup(row, field).is_null();
            present != *negate
        }
        Cond::In {
            field,
            values,
            negate,
        } => {
            let data = lookup(row, field);
            if data.is_null() {
                return false;
            }
            let found = values
                .iter()
                .any(|v| !v.is_null() && compare(&data, v) == Some(Ordering::Equal));
            found != *negate
        }
        Cond::Cmp { field, op, value } => eval_cmp(lookup(row, field), *op, value),
    }
}

impl Scalar {
    fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }
}

/// The field's value as a scalar (text lower-cased); arrays and objects compare as nothing.
fn lookup(row: &Map<String, Value>, field: &FieldRef) -> Scalar {
    let value = match field {
        FieldRef::Std(name) => row.get(*name),
        FieldRef::Udf(name) => row
            .get("userDefinedFields")
            .and_then(Value::as_array)
            .and_then(|udfs| {
                udfs.iter().find(|u| {
                    u.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
            })
            .and_then(|u| u.get("value")),
    };
    match value {
        None | Some(Value::Null) => Scalar::Null,
        Some(Value::Bool(b)) => Scalar::Bool(*b),
        Some(Value::Number(n)) => Scalar::Num(n.as_f64().unwrap_or(f64::NAN)),
        Some(Value::String(s)) => Scalar::Text(s.to_lowercase()),
        Some(Value::Array(a)) if a.is_empty() => Scalar::Null,
        Some(_) => Scalar::Text(String::new()),
    }
}

fn as_text(s: &Scalar) -> Option<String> {
    match s {
        Scalar::Null => None,
        Scalar::Bool(b) => Some(b.to_string()),
        Scalar::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(format!("{}", *n as i64)),
        Scalar::Num(n) => Some(n.to_string()),
        Scalar::Text(t) => Some(t.clone()),
    }
}

/// Orders data against a filter value of the same field type; None when incomparable.
fn compare(data: &Scalar, value: &Scalar) -> Option<Ordering> {
    match (data, value) {
        (Scalar::Num(a), Scalar::Num(b)) => a.partial_cmp(b),
        (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
        (Scalar::Text(a), Scalar::Text(b)) => Some(a.as_str().cmp(b.as_str())),
        (Scalar::Null, _) | (_, Scalar::Null) => None,
        (a, b) => Some(as_text(a)?.cmp(&as_text(b)?)),
    }
}

fn eval_cmp(data: Scalar, op: CmpOp, value: &Scalar) -> bool {
    if value.is_null() {
        return match op {
            CmpOp::Eq => data.is_null(),
            CmpOp::NotEq => !data.is_null(),
            _ => false,
        };
    }
    if data.is_null() {
        return false;
    }
    match op {
        CmpOp::BeginsWith | CmpOp::EndsWith | CmpOp::Contains => {
            let (Some(d), Some(v)) = (as_text(&data), as_text(value)) else {
                return false;
            };
            match op {
                CmpOp::BeginsWith => d.starts_with(&v),
                CmpOp::EndsWith => d.ends_with(&v),
                _ => d.contains(&v),
            }
        }
        _ => {
            let Some(ord) = compare(&data, value) else {
                return false;
            };
            match op {
                CmpOp::Eq => ord == Ordering::Equal,
                CmpOp::NotEq => ord != Ordering::Equal,
                CmpOp::Gt => ord == Ordering::Greater,
                CmpOp::Gte => ord != Ordering::Less,
                CmpOp::Lt => ord == Ordering::Less,
                _ => ord != Ordering::Greater,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(body: Value) -> Result<Query, QueryError> {
        parse_query(Entity::Companies, &body.to_string())
    }

    fn row(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn keys_ops_and_fields_ignore_case() {
        let query = q(json!({"maxrecords": 7, "FILTER": [
            {"OP": "EQ", "Field": "companyname", "VALUE": "CONTOSO"}]}))
        .unwrap();
        assert_eq!(query.max_records, 7);
        assert!(matches_all(
            &query.conditions,
            &row(json!({"companyName": "Contoso"}))
        ));
    }

    #[test]
    fn refusals() {
        assert!(q(json!({"filter": []})).is_err());
        assert!(q(json!({})).is_err());
        assert!(
            q(json!({"filter": [{"op": "eq", "field": "isActive", "value": "true"}]})).is_err()
        );
        assert!(q(json!({"filter": [{"op": "eq", "field": "isActive", "value": null}]})).is_err());
        assert!(
            q(json!({"filter": [{"op": "eq", "field": "companyType", "value": "x"}]})).is_err()
        );
        let e = q(json!({"filter": [{"op": "eq", "field": "nope", "value": 1}]})).unwrap_err();
        assert_eq!(e.0, "Unable to find nope in the Company Entity.");
        let e =
            q(json!({"MaxRecords": 501, "filter": [{"op": "exist", "field": "id"}]})).unwrap_err();
        assert_eq!(e.0, "maxCountOfRecordsToReturn must be between 1 and 500");
    }

    #[test]
    fn unknown_op_is_ignored_even_with_unknown_field() {
        let query = q(json!({"filter": [{"op": "ne", "field": "whatever", "value": 1}]})).unwrap();
        assert!(matches_all(&query.conditions, &row(json!({"id": 1}))));
    }

    #[test]
    fn nulls_follow_sql_semantics() {
        let query = q(json!({"filter": [{"op": "noteq", "field": "parentCompanyID", "value": 3}]}))
            .unwrap();
        assert!(!matches_all(
            &query.conditions,
            &row(json!({"parentCompanyID": null}))
        ));
        assert!(matches_all(
            &query.conditions,
            &row(json!({"parentCompanyID": 4}))
        ));
    }

    #[test]
    fn canonical_ignores_key_case_and_order() {
        assert_eq!(
            canonical(&json!([{"op": "eq", "Field": "id", "value": 1}])),
            canonical(&json!([{"value": 1, "field": "id", "OP": "eq"}]))
        );
    }
}
