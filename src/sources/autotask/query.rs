//! The Autotask query body and its filter language (docs/apis.md §3.3).
//!
//! Operators are a closed enum in code, never text from settings or users: Autotask
//! silently ignores an operator it does not know (`ne`, `startsWith`…) and then answers
//! the query unfiltered. Field names are `&'static str` constants for the same reason: a
//! misspelt field is at least an error (HTTP 500), but it should not reach the wire.

use serde::{Serialize, Serializer};
use serde_json::Value;

/// Rows per page: the API's maximum; more is an HTTP 500 (docs/apis.md §3.3).
pub const MAX_RECORDS: u32 = 500;

/// Most values put in one `in` list. Lists grow with the data (company ids), so they are
/// split; 500 keeps each request well within any limit the API may have (the SOAP API
/// allowed 500 conditions per query).
pub const MAX_IN_VALUES: usize = 500;

/// The filter operators Autotask documents, and only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// The whole fixed list (docs/apis.md §3.3), so a filter can only ever be built from it;
// the sources use a few of them.
#[allow(dead_code)]
pub enum Op {
    Eq,
    NotEq,
    Gt,
    Gte,
    Lt,
    Lte,
    BeginsWith,
    EndsWith,
    Contains,
    Exist,
    NotExist,
    In,
    NotIn,
    And,
    Or,
}

impl Op {
    /// The exact wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::NotEq => "noteq",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::BeginsWith => "beginsWith",
            Op::EndsWith => "endsWith",
            Op::Contains => "contains",
            Op::Exist => "exist",
            Op::NotExist => "notExist",
            Op::In => "in",
            Op::NotIn => "notIn",
            Op::And => "and",
            Op::Or => "or",
        }
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One filter item: `{"op", "field", "value"}` or a group `{"op": "and"|"or", "items"}`.
/// Built only through the constructors, so every item has the shape its operator needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filter {
    op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    items: Vec<Filter>,
}

impl Filter {
    fn compare(op: Op, field: &'static str, value: impl Into<Value>) -> Self {
        Self {
            op,
            field: Some(field),
            value: Some(value.into()),
            items: Vec::new(),
        }
    }

    pub fn eq(field: &'static str, value: impl Into<Value>) -> Self {
        Self::compare(Op::Eq, field, value)
    }

    pub fn gte(field: &'static str, value: impl Into<Value>) -> Self {
        Self::compare(Op::Gte, field, value)
    }

    pub fn lt(field: &'static str, value: impl Into<Value>) -> Self {
        Self::compare(Op::Lt, field, value)
    }

    /// `field in [values]`. Keep lists to [`MAX_IN_VALUES`].
    pub fn in_list<V: Into<Value>>(
        field: &'static str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Self::compare(
            Op::In,
            field,
            Value::Array(values.into_iter().map(Into::into).collect()),
        )
    }

    /// `field notIn [values]`. Like SQL, it does not match rows where `field` is null:
    /// pair it with [`Filter::not_exist`] under [`Filter::or`] to catch those.
    pub fn not_in<V: Into<Value>>(
        field: &'static str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Self::compare(
            Op::NotIn,
            field,
            Value::Array(values.into_iter().map(Into::into).collect()),
        )
    }

    pub fn not_exist(field: &'static str) -> Self {
        Self {
            op: Op::NotExist,
            field: Some(field),
            value: None,
            items: Vec::new(),
        }
    }

    pub fn or(items: Vec<Filter>) -> Self {
        Self {
            op: Op::Or,
            field: None,
            value: None,
            items,
        }
    }

    /// Matches every row: the API refuses a query without a filter (docs/apis.md §3.3).
    pub fn everything() -> Self {
        Self::gte("id", 0)
    }
}

/// The body of `POST {Entity}/query` and `{Entity}/query/count`. The same body is sent
/// again for every next page (docs/apis.md §3.4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    #[serde(rename = "MaxRecords")]
    pub max_records: u32,
    /// Only the fields the caller reads: smaller pages, less time at the API.
    #[serde(rename = "IncludeFields")]
    pub include_fields: Vec<&'static str>,
    #[serde(rename = "Filter")]
    pub filter: Vec<Filter>,
}

impl Query {
    /// A full-page query. `include_fields` must name `id`: the API needs it to page past
    /// 500 rows, and the reader checks ids rise from page to page.
    pub fn new(include_fields: &[&'static str], filter: Vec<Filter>) -> Self {
        debug_assert!(include_fields.contains(&"id"));
        Self {
            max_records: MAX_RECORDS,
            include_fields: include_fields.to_vec(),
            filter,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operators_have_their_exact_wire_names() {
        let all = [
            (Op::Eq, "eq"),
            (Op::NotEq, "noteq"),
            (Op::Gt, "gt"),
            (Op::Gte, "gte"),
            (Op::Lt, "lt"),
            (Op::Lte, "lte"),
            (Op::BeginsWith, "beginsWith"),
            (Op::EndsWith, "endsWith"),
            (Op::Contains, "contains"),
            (Op::Exist, "exist"),
            (Op::NotExist, "notExist"),
            (Op::In, "in"),
            (Op::NotIn, "notIn"),
            (Op::And, "and"),
            (Op::Or, "or"),
        ];
        for (op, name) in all {
            assert_eq!(serde_json::to_value(op).unwrap(), json!(name));
        }
    }

    #[test]
    fn query_body_has_the_documented_shape() {
        let q = Query::new(
            &["id", "companyID"],
            vec![
                Filter::eq("isActive", true),
                Filter::in_list("configurationItemType", [1, 2]),
                Filter::or(vec![
                    Filter::not_exist("configurationItemType"),
                    Filter::not_in("configurationItemType", [1, 2, 3]),
                ]),
            ],
        );
        assert_eq!(
            serde_json::to_value(&q).unwrap(),
            json!({
                "MaxRecords": 500,
                "IncludeFields": ["id", "companyID"],
                "Filter": [
                    {"op": "eq", "field": "isActive", "value": true},
                    {"op": "in", "field": "configurationItemType", "value": [1, 2]},
                    {"op": "or", "items": [
                        {"op": "notExist", "field": "configurationItemType"},
                        {"op": "notIn", "field": "configurationItemType", "value": [1, 2, 3]}
                    ]}
                ]
            })
        );
        assert_eq!(
            serde_json::to_value(Filter::everything()).unwrap(),
            json!({"op": "gte", "field": "id", "value": 0})
        );
    }
}
