//! The authenticated `/apis/3.0/` endpoints: lists, counts, single gets and `/system/info`
//! (docs/apis.md §2.3–§2.5, §2.8), `/system/callbacks` included (its writes are in
//! `callbacks.rs`, §2.9).
//!
//! - Results are ordered by id unless `orderBy` (§2.4).
//! - Navigable paging (the default): `pageSize` defaults to 25 and is silently capped at
//!   1,000; `page` is 1-based; a page past the end is `[]` with 200. The `Link` header carries
//!   `first` and `last` always, `prev`/`next` only when they exist (§2.4 [V:CWDG]). Its URLs
//!   are absolute (scheme `http`, host from the request's `Host`), repeat the request's own
//!   query parameters as sent (raw commas included), and put `page=N` **last**.
//! - Forward-only paging (request header `pagination-type: forward-only`): `pageId` acts as
//!   `id > pageId`, `page` is ignored, `orderBy` is a 400. `Link` is always present:
//!   `<…&pageId=LASTID>; rel="next"` while more rows remain, and empty on the last page.
//! - `fields` projects (`_info` left out unless listed); null properties are never sent.
//! - A bad `conditions`, `childConditions`, `customFieldConditions`, `orderBy`, `fields`,
//!   `page`, `pageSize` or `pageId` is a 400 with an `errors[]` entry, never ignored [I].

use std::collections::HashMap;

use crate::MatchMemo;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

use super::callbacks::CwCallback;
use super::conditions::{self, Expr, FilterError, Literal, Op, Scope};
use super::schema::{self, Schema, Table};
use super::tenant::CwTenant;
use super::{ConnectWiseSim, VERSION_CODE, VERSION_NUMBER, json_response};
use crate::lock;

/// An early answer (a 400) from request parsing; boxed to keep `Result`s small.
type Fail = Box<Response>;

const DEFAULT_PAGE_SIZE: i64 = 25;
const MAX_PAGE_SIZE: i64 = 1_000;

/// One row as served: its id and its JSON text (nulls stripped, `_info` hrefs relative),
/// serialised once. Filters, projection and rendering parse it back on demand; a parsed
/// `Value` per row would take several times the memory at a million rows.
pub(crate) struct Row {
    id: i64,
    json: Box<str>,
}

impl Row {
    fn value(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or(Value::Null)
    }
}

/// The tenant as JSON rows (sorted by id), per table; additions per agreement (every
/// agreement has an entry, empty or not); and the rows each recent filter matched.
pub(crate) struct Tables {
    rows: [Vec<Row>; 9],
    additions: HashMap<i64, Vec<Row>>,
    /// Matched rows per filter key (table, parent, the filter without its id bounds);
    /// rebuilt with the tables, so a tenant change starts it afresh.
    memo: Mutex<MatchMemo>,
}

pub(crate) fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn id_of(v: &Value) -> i64 {
    v.get("id").and_then(Value::as_i64).unwrap_or(0)
}

fn to_row<T: Serialize>(item: &T) -> Row {
    let mut v = serde_json::to_value(item).unwrap_or(Value::Null);
    strip_nulls(&mut v);
    Row {
        id: id_of(&v),
        json: v.to_string().into_boxed_str(),
    }
}

fn to_rows<T: Serialize>(items: &[T]) -> Vec<Row> {
    let mut rows: Vec<Row> = items.iter().map(to_row).collect();
    rows.sort_by_key(|r| r.id);
    rows
}

impl Tables {
    pub(crate) fn build(t: &CwTenant, callbacks: &[CwCallback]) -> Self {
        let mut additions: HashMap<i64, Vec<Row>> =
            t.agreements.iter().map(|a| (a.id, Vec::new())).collect();
        let mut all: Vec<(Option<i64>, Row)> = t
            .additions
            .iter()
            .map(|a| (Some(a.agreement_id), to_row(a)))
            .collect();
        all.sort_by_key(|(_, r)| r.id);
        for (agreement, row) in all {
            if let Some(list) = agreement.and_then(|a| additions.get_mut(&a)) {
                list.push(row);
            }
        }
        Self {
            rows: [
                to_rows(&t.companies),
                to_rows(&t.contacts),
                to_rows(&t.configurations),
                to_rows(&t.contact_types),
                to_rows(&t.configuration_types),
                to_rows(&t.tickets),
                to_rows(&t.time_entries),
                to_rows(&t.agreements),
                to_rows(callbacks),
            ],
            additions,
            memo: Mutex::default(),
        }
    }

    /// The rows of a list; for additions, those of agreement `parent`, or `None` when there
    /// is no such agreement.
    fn rows(&self, t: Table, parent: Option<i64>) -> Option<&[Row]> {
        match t {
            Table::Additions => self.additions.get(&parent?).map(Vec::as_slice),
            _ => Some(&self.rows[t as usize]),
        }
    }

    /// The rows `filter` matches, in id order: its conditions other than the id bounds are
    /// evaluated once per tenant version (memoised), the id bounds by binary search.
    fn select(&self, t: Table, parent: Option<i64>, filter: &Filter) -> Option<Selection<'_>> {
        let rows = self.rows(t, parent)?;
        let base = if filter.exprs.is_empty() {
            None
        } else {
            let key = format!("{t:?}/{parent:?}/{:?}", filter.exprs);
            Some(lock(&self.memo).get_or_scan(key, || {
                rows.iter()
                    .enumerate()
                    .filter(|(_, r)| filter.matches(&r.value()))
                    .map(|(i, _)| i as u32)
                    .collect()
            }))
        };
        let id_at = |k: usize| -> i128 {
            let i = base.as_ref().map_or(k, |b| b[k] as usize);
            i128::from(rows[i].id)
        };
        let len = base.as_ref().map_or(rows.len(), |b| b.len());
        let (lo, hi) = filter.ids;
        let start = partition(len, |k| id_at(k) < lo);
        let end = partition(len, |k| id_at(k) < hi).max(start);
        Some(Selection {
            rows,
            base,
            start,
            end,
        })
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

/// The matched rows of a request, in id order, without copying them.
struct Selection<'a> {
    rows: &'a [Row],
    /// Matched indices into `rows`; `None`: every row.
    base: Option<Arc<Vec<u32>>>,
    start: usize,
    end: usize,
}

impl<'a> Selection<'a> {
    fn len(&self) -> usize {
        self.end - self.start
    }

    fn get(&self, k: usize) -> &'a Row {
        let i = self.start + k;
        &self.rows[self.base.as_ref().map_or(i, |b| b[i] as usize)]
    }

    /// The position of the first matched row with an id above `id`.
    fn after(&self, id: i64) -> usize {
        partition(self.len(), |k| self.get(k).id <= id)
    }
}

/// 404 for a list under an agreement that does not exist.
fn parent_not_found(parent: Option<i64>) -> Response {
    super::error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("agreement with id {} was not found.", parent.unwrap_or(0)),
    )
}

/// An API route below `/apis/3.0/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Info,
    /// A list; the `Option` is the parent agreement of `/finance/agreements/{id}/additions`.
    List(Table, Option<i64>),
    Count(Table, Option<i64>),
    Get(Table, Option<i64>, i64),
}

impl Route {
    /// Matches path segments, ignoring case. A non-numeric id does not match (404), as an
    /// ASP.NET `{id:int}` route would not [I].
    pub(crate) fn parse(rest: &[&str]) -> Option<Route> {
        let lower: Vec<String> = rest.iter().map(|s| s.to_lowercase()).collect();
        let segs: Vec<&str> = lower.iter().map(String::as_str).collect();
        let mut parent = None;
        let (table, tail) = match segs.as_slice() {
            ["system", "info"] => return Some(Route::Info),
            ["system", "callbacks", tail @ ..] => (Table::Callbacks, tail),
            ["finance", "agreements", id, "additions", tail @ ..] => {
                parent = Some(id.parse().ok()?);
                (Table::Additions, tail)
            }
            ["finance", "agreements", tail @ ..] => (Table::Agreements, tail),
            ["service", "tickets", tail @ ..] => (Table::Tickets, tail),
            ["time", "entries", tail @ ..] => (Table::TimeEntries, tail),
            ["company", "contacts", "types", tail @ ..] => (Table::ContactTypes, tail),
            ["company", "configurations", "types", tail @ ..] => (Table::ConfigurationTypes, tail),
            ["company", "companies", tail @ ..] => (Table::Companies, tail),
            ["company", "contacts", tail @ ..] => (Table::Contacts, tail),
            ["company", "configurations", tail @ ..] => (Table::Configurations, tail),
            _ => return None,
        };
        match tail {
            [] => Some(Route::List(table, parent)),
            ["count"] => Some(Route::Count(table, parent)),
            [id] => id.parse().ok().map(|id| Route::Get(table, parent, id)),
            _ => None,
        }
    }
}

/// The request's host (`Host` header, else the URI authority).
pub(crate) fn host_of(req: &Request) -> String {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "127.0.0.1".into())
}

fn bad_request(
    code: &str,
    message: String,
    resource: &str,
    field: &str,
    detail_code: &str,
) -> Fail {
    Box::new(json_response(
        StatusCode::BAD_REQUEST,
        json!({
            "code": code,
            "message": message,
            "errors": [{"code": detail_code, "message": message, "resource": resource, "field": field}],
        }),
    ))
}

fn filter_error(schema: &Schema, param: &str, e: FilterError) -> Fail {
    let field = e.field.clone().unwrap_or_else(|| param.to_string());
    bad_request(
        "InvalidFilter",
        format!("{param}: {}", e.message),
        schema.resource,
        &field,
        e.code,
    )
}

/// Query parameters by lower-cased name (ASP.NET binds them ignoring case [I]); the first
/// occurrence wins. Values are form-decoded, so a raw `+` is a space (docs/apis.md §2.3 escaping).
struct Params(HashMap<String, String>);

impl Params {
    fn from(req: &Request, schema: &Schema) -> Result<Self, Fail> {
        let Query(pairs) =
            Query::<Vec<(String, String)>>::try_from_uri(req.uri()).map_err(|e| {
                bad_request(
                    "InvalidObject",
                    format!("The query string is invalid: {e}"),
                    schema.resource,
                    "query",
                    "InvalidSyntax",
                )
            })?;
        let mut map = HashMap::new();
        for (k, v) in pairs {
            map.entry(k.to_lowercase()).or_insert(v);
        }
        Ok(Params(map))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
    }

    fn int(&self, name: &str, display: &str, schema: &Schema) -> Result<Option<i64>, Fail> {
        self.get(name)
            .map(|s| {
                s.trim().parse::<i64>().map_err(|_| {
                    bad_request(
                        "InvalidObject",
                        format!("The value '{s}' is not valid for {display}."),
                        schema.resource,
                        display,
                        "InvalidField",
                    )
                })
            })
            .transpose()
    }
}

struct Filter {
    /// The conditions other than the id bounds.
    exprs: Vec<Expr>,
    /// The id bounds of `conditions` (`id >= lo AND id < hi`), from comparisons of `id` with
    /// an integer that are joined to the rest by a top-level AND. `id` is never null, so
    /// such a comparison is true or false, never unknown, and may be tested on its own.
    ids: (i128, i128),
}

/// The conjuncts of a top-level AND chain.
fn conjuncts(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::And(a, b) => {
            conjuncts(*a, out);
            conjuncts(*b, out);
        }
        e => out.push(e),
    }
}

/// Narrows `ids` by `e` when it is `id <op> integer`; `false` when it is not.
fn id_bound(e: &Expr, ids: &mut (i128, i128)) -> bool {
    let Expr::Cmp {
        field,
        op,
        negated: false,
        values,
    } = e
    else {
        return false;
    };
    let ([Literal::Int(v)], None, true) = (values.as_slice(), &field.array, field.json == ["id"])
    else {
        return false;
    };
    let v = i128::from(*v);
    let (lo, hi) = ids;
    match op {
        Op::Eq | Op::In => {
            *lo = (*lo).max(v);
            *hi = (*hi).min(v + 1);
        }
        Op::Gt => *lo = (*lo).max(v + 1),
        Op::Ge => *lo = (*lo).max(v),
        Op::Lt => *hi = (*hi).min(v),
        Op::Le => *hi = (*hi).min(v + 1),
        _ => return false,
    }
    true
}

impl Filter {
    fn parse(params: &Params, schema: &Schema) -> Result<Self, Fail> {
        let mut exprs = Vec::new();
        let mut ids = (i128::from(i64::MIN), i128::from(i64::MAX) + 1);
        for (name, display, scope) in [
            ("conditions", "conditions", Scope::Conditions),
            ("childconditions", "childConditions", Scope::Child),
            (
                "customfieldconditions",
                "customFieldConditions",
                Scope::CustomFields,
            ),
        ] {
            if let Some(text) = params.get(name) {
                match conditions::parse(text, schema, scope) {
                    Ok(Some(e)) if scope == Scope::Conditions => {
                        let mut parts = Vec::new();
                        conjuncts(e, &mut parts);
                        parts.retain(|p| !id_bound(p, &mut ids));
                        let rest = parts
                            .into_iter()
                            .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)));
                        exprs.extend(rest);
                    }
                    Ok(Some(e)) => exprs.push(e),
                    Ok(None) => {}
                    Err(e) => return Err(filter_error(schema, display, e)),
                }
            }
        }
        Ok(Self { exprs, ids })
    }

    fn matches(&self, row: &Value) -> bool {
        self.exprs.iter().all(|e| conditions::matches(e, row))
    }
}

/// Makes `_info.*_href` values absolute under `base` (`http://host/<codebase>/apis/3.0`).
pub(crate) fn absolute_hrefs(v: &mut Value, base: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "_info" {
                    if let Value::Object(info) = x {
                        for (hk, hv) in info.iter_mut() {
                            match hv {
                                Value::String(s) if hk.ends_with("_href") && s.starts_with('/') => {
                                    *s = format!("{base}{s}");
                                }
                                _ => {}
                            }
                        }
                    }
                } else {
                    absolute_hrefs(x, base);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| absolute_hrefs(x, base)),
        _ => {}
    }
}

fn render(row: Value, fields: Option<&[Vec<String>]>, base: &str) -> Value {
    let mut out = match fields {
        Some(f) => schema::project(&row, f),
        None => row,
    };
    absolute_hrefs(&mut out, base);
    out
}

/// The request URL without the query parameter `drop`, ready for `name=value` to be appended
/// last: `http://host/path?a=1&b=2&` (or `…?` when nothing else remains).
fn link_prefix(req: &Request, host: &str, drop: &str) -> String {
    let kept: Vec<&str> = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|seg| !seg.is_empty())
        .filter(|seg| {
            !seg.split('=')
                .next()
                .unwrap_or("")
                .eq_ignore_ascii_case(drop)
        })
        .collect();
    let mut url = format!("http://{host}{}?", req.uri().path());
    for seg in kept {
        url.push_str(seg);
        url.push('&');
    }
    url
}

pub(crate) fn handle(
    sim: &ConnectWiseSim,
    route: Route,
    codebase: &str,
    req: &Request,
) -> Response {
    let host = host_of(req);
    let base = format!("http://{host}/{codebase}/apis/3.0");
    match route {
        Route::Info => json_response(StatusCode::OK, system_info(sim.is_cloud())),
        Route::Count(t, parent) => count(sim, t, parent, req),
        Route::Get(t, parent, id) => get_one(sim, t, parent, id, req, &base),
        Route::List(t, parent) => list(sim, t, parent, req, &host, &base),
    }
}

/// `GET /system/info` (docs/apis.md §2.1, [V:pycw-model `Info`]).
fn system_info(is_cloud: bool) -> Value {
    json!({
        "version": format!("v{VERSION_CODE}.{}", VERSION_NUMBER.rsplit('.').next().unwrap_or("0")),
        "isCloud": is_cloud,
        "serverTimeZone": "Eastern Standard Time",
        "cloudRegion": if is_cloud { "NA" } else { "" },
        "licenseBits": [
            {"name": "ConnectWiseManage", "activeFlag": true},
            {"name": "Agreements", "activeFlag": true},
            {"name": "Configurations", "activeFlag": true},
        ],
    })
}

fn count(sim: &ConnectWiseSim, t: Table, parent: Option<i64>, req: &Request) -> Response {
    let schema = t.schema();
    let result = Params::from(req, schema).and_then(|p| Filter::parse(&p, schema));
    let filter = match result {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let tables = sim.tables();
    let Some(selection) = tables.select(t, parent, &filter) else {
        return parent_not_found(parent);
    };
    json_response(StatusCode::OK, json!({ "count": selection.len() }))
}

fn get_one(
    sim: &ConnectWiseSim,
    t: Table,
    parent: Option<i64>,
    id: i64,
    req: &Request,
    base: &str,
) -> Response {
    let schema = t.schema();
    let params = match Params::from(req, schema) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let fields = match params
        .get("fields")
        .map(|f| schema::parse_fields(f, schema))
        .transpose()
    {
        Ok(f) => f,
        Err(m) => {
            return *bad_request(
                "InvalidObject",
                m,
                schema.resource,
                "fields",
                "InvalidField",
            );
        }
    };
    let tables = sim.tables();
    let Some(rows) = tables.rows(t, parent) else {
        return parent_not_found(parent);
    };
    match rows.binary_search_by_key(&id, |r| r.id) {
        Ok(i) => json_response(
            StatusCode::OK,
            render(rows[i].value(), fields.as_deref(), base),
        ),
        Err(_) => super::error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("{} with id {id} was not found.", schema.resource),
        ),
    }
}

fn list(
    sim: &ConnectWiseSim,
    t: Table,
    parent: Option<i64>,
    req: &Request,
    host: &str,
    base: &str,
) -> Response {
    list_inner(sim, t, parent, req, host, base).unwrap_or_else(|r| *r)
}

fn list_inner(
    sim: &ConnectWiseSim,
    t: Table,
    parent: Option<i64>,
    req: &Request,
    host: &str,
    base: &str,
) -> Result<Response, Fail> {
    let schema = t.schema();
    let params = Params::from(req, schema)?;
    let filter = Filter::parse(&params, schema)?;
    let bad = |param: &str, m: String| {
        bad_request("InvalidObject", m, schema.resource, param, "InvalidField")
    };
    let fields = params
        .get("fields")
        .map(|f| schema::parse_fields(f, schema))
        .transpose()
        .map_err(|m| bad("fields", m))?;
    let order = params
        .get("orderby")
        .map(|o| schema::parse_order(o, schema))
        .transpose()
        .map_err(|m| bad("orderBy", m))?;
    let forward_only = req
        .headers()
        .get("pagination-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("forward-only"));
    let page_size = match params.int("pagesize", "pageSize", schema)? {
        Some(n) if n >= 1 => n.min(MAX_PAGE_SIZE),
        _ => DEFAULT_PAGE_SIZE,
    } as usize;

    let tables = sim.tables();
    let Some(matched) = tables.select(t, parent, &filter) else {
        return Ok(parent_not_found(parent));
    };

    let (rows, link): (Vec<Value>, String) = if forward_only {
        if order.is_some() {
            return Err(bad(
                "orderBy",
                "orderBy is not supported with forward-only pagination.".into(),
            ));
        }
        let page_id = params.int("pageid", "pageId", schema)?.unwrap_or(0);
        let start = matched.after(page_id);
        let end = (start + page_size).min(matched.len());
        let more = end < matched.len();
        let link = if more && end > start {
            format!(
                "<{}pageId={}>; rel=\"next\"",
                link_prefix(req, host, "pageid"),
                matched.get(end - 1).id
            )
        } else {
            String::new()
        };
        let rows = (start..end).map(|k| matched.get(k).value()).collect();
        (rows, link)
    } else {
        let page = params.int("page", "page", schema)?.unwrap_or(1).max(1) as usize;
        let last = matched.len().div_ceil(page_size).max(1);
        let start = (page - 1).saturating_mul(page_size).min(matched.len());
        let end = start.saturating_add(page_size).min(matched.len());
        let rows = match &order {
            // Sorting needs every matched row's values: parsed here, for this request only.
            Some(order) => {
                let mut all: Vec<Value> =
                    (0..matched.len()).map(|k| matched.get(k).value()).collect();
                all.sort_by(|a, b| {
                    order
                        .iter()
                        .map(|(f, desc)| {
                            let o = schema::compare(
                                schema::lookup(a, &f.json),
                                schema::lookup(b, &f.json),
                                f.kind,
                            );
                            if *desc { o.reverse() } else { o }
                        })
                        .find(|o| o.is_ne())
                        .unwrap_or_else(|| id_of(a).cmp(&id_of(b)))
                });
                all.drain(start..end).collect()
            }
            None => (start..end).map(|k| matched.get(k).value()).collect(),
        };
        let prefix = link_prefix(req, host, "page");
        let mut links = vec![format!("<{prefix}page=1>; rel=\"first\"")];
        if page > 1 {
            links.push(format!("<{prefix}page={}>; rel=\"prev\"", page - 1));
        }
        if page < last {
            links.push(format!("<{prefix}page={}>; rel=\"next\"", page + 1));
        }
        links.push(format!("<{prefix}page={last}>; rel=\"last\""));
        (rows, links.join(", "))
    };

    let body: Vec<Value> = rows
        .into_iter()
        .map(|r| render(r, fields.as_deref(), base))
        .collect();
    let mut resp = json_response(StatusCode::OK, Value::Array(body));
    if let Ok(v) = HeaderValue::from_str(&link) {
        resp.headers_mut().insert(header::LINK, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectwise::{CwEngagementSpec, CwGenerateSpec};

    /// Every JSON path the tenants serve is known to the schema (so `fields=` and conditions
    /// can name it), and every schema field exists somewhere in the data.
    #[test]
    fn schema_matches_served_json() {
        fn paths(v: &Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        if k == "_info" {
                            continue;
                        }
                        let p = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}/{k}")
                        };
                        out.insert(p.clone());
                        paths(x, &p, out);
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| paths(x, prefix, out)),
                _ => {}
            }
        }
        let spec = CwGenerateSpec {
            companies: 40,
            contacts: 500,
            configurations: 300,
            seed: 1,
        };
        let engagement = CwEngagementSpec {
            companies: 40,
            tickets: 400,
            time_entries: 400,
            agreements: 40,
            ..CwEngagementSpec::default()
        };
        for tenant in [
            CwTenant::sample(),
            CwTenant::generate(&spec),
            CwTenant::generate_engagement(&engagement),
        ] {
            let tables = Tables::build(&tenant, &[]);
            for t in Table::ALL {
                let schema = t.schema();
                let mut seen = std::collections::BTreeSet::new();
                let rows: Vec<Value> = match t {
                    Table::Additions => tables
                        .additions
                        .values()
                        .flatten()
                        .map(Row::value)
                        .collect(),
                    _ => tables
                        .rows(t, None)
                        .unwrap_or_default()
                        .iter()
                        .map(Row::value)
                        .collect(),
                };
                for row in &rows {
                    paths(row, "", &mut seen);
                }
                for p in &seen {
                    assert!(
                        schema::parse_fields(p, schema).is_ok(),
                        "{}: {p} is served but unknown to the schema",
                        schema.resource
                    );
                }
            }
        }
    }
}
