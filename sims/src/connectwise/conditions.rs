//! The ConnectWise condition language (docs/apis.md §2.3), as used by `conditions`,
//! `childConditions` and `customFieldConditions`.
//!
//! - Operators `=`, `!=`, `<`, `<=`, `>`, `>=`, `contains`, `like`, `in (…)`, and `not`
//!   before `contains`/`like`/`in` (`summary not contains "x"`). A prefix `not` before a
//!   comparison or a parenthesised group is also accepted [I].
//! - `AND`/`OR` in any case, parentheses, `a/b` paths; field names ignore case.
//! - Literals: strings in double or single quotes (a backslash escapes the quote or itself
//!   [I]), bare integers and decimals, `True`/`False` in any case, `[datetime]`, `null`.
//! - String comparisons ignore case and trailing spaces, as SQL Server's default
//!   case-insensitive, accent-sensitive collation does [I]. `like` takes SQL Server patterns:
//!   `%` (and ConnectWise's `*`) for any run, `_` for one character, `[abc]`/`[a-f]`/`[^a]`
//!   classes — hence the guide's escaping of `[` as `[[]` (docs/apis.md §2.3). `contains` is a
//!   literal substring test [I].
//! - SQL three-valued logic: a comparison with a null value (a path through a null reference
//!   included) is *unknown*, so neither `contact/name = "x"` nor `contact/name != "x"` matches
//!   a configuration without a contact; only `= null` does. `not` keeps unknown unknown.
//! - Literal types are checked against the field (`inactiveFlag = "false"` is an error, not a
//!   silent mismatch) [I]. Any error is reported, never treated as match-all.

use serde_json::Value;

use super::dates::parse_datetime;
use super::like::like;
use super::schema::{Field, Kind, Schema, lookup};

/// Which parameter a condition string came from; it decides which fields it may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `conditions`: scalar fields and `ref/sub` paths.
    Conditions,
    /// `childConditions`: fields of array elements (`types/name`).
    Child,
    /// `customFieldConditions`: `caption`, `value`, ... of `customFields[]` entries.
    CustomFields,
}

/// A parse or validation failure: answered 400 by the simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterError {
    /// `InvalidField` (unknown field or wrong literal type) or `InvalidSyntax`.
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

fn syntax(message: impl Into<String>) -> FilterError {
    FilterError {
        code: "InvalidSyntax",
        message: message.into(),
        field: None,
    }
}

fn invalid_field(field: &str, message: impl Into<String>) -> FilterError {
    FilterError {
        code: "InvalidField",
        message: message.into(),
        field: Some(field.to_string()),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Unix milliseconds.
    Date(i64),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    Like,
    In,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: Field,
        op: Op,
        negated: bool,
        values: Vec<Literal>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Date(String),
    Sym(&'static str),
}

fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "the end of the condition".into(),
        Some(Tok::Ident(s) | Tok::Num(s)) => format!("'{s}'"),
        Some(Tok::Str(s)) => format!("string \"{s}\""),
        Some(Tok::Date(s)) => format!("[{s}]"),
        Some(Tok::Sym(s)) => format!("'{s}'"),
    }
}

fn lex(input: &str) -> Result<Vec<Tok>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' | '=' => {
                out.push(Tok::Sym(match c {
                    '(' => "(",
                    ')' => ")",
                    ',' => ",",
                    _ => "=",
                }));
                i += 1;
            }
            '!' if next == Some('=') => {
                out.push(Tok::Sym("!="));
                i += 2;
            }
            '<' | '>' => {
                let eq = next == Some('=');
                out.push(Tok::Sym(match (c, eq) {
                    ('<', true) => "<=",
                    ('<', false) => "<",
                    (_, true) => ">=",
                    _ => ">",
                }));
                i += if eq { 2 } else { 1 };
            }
            '"' | '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(syntax(format!(
                                "Unterminated string: a {c} quote is never closed."
                            )));
                        }
                        Some('\\') if matches!(chars.get(i + 1), Some(&q) if q == c || q == '\\') =>
                        {
                            s.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            s.push(other);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&x| x == ']')
                    .ok_or_else(|| syntax("Unterminated date: '[' is never closed."))?;
                out.push(Tok::Date(chars[i + 1..i + end].iter().collect()));
                i += end + 1;
            }
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Num(chars[start..i].iter().collect()));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '/'))
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => {
                return Err(syntax(format!(
                    "Unexpected character '{other}' at position {}.",
                    i + 1
                )));
            }
        }
    }
    Ok(out)
}

const MAX_DEPTH: usize = 64;
/// At most this many comparisons in one condition string (keeps evaluation shallow).
const MAX_TERMS: usize = 500;

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    schema: &'a Schema,
    scope: Scope,
    depth: usize,
    terms: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_kw(&self, offset: usize, kw: &str) -> bool {
        matches!(self.toks.get(self.pos + offset), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), FilterError> {
        match self.bump() {
            Some(Tok::Sym(s)) if s == sym => Ok(()),
            other => Err(syntax(format!(
                "Expected '{sym}' but found {}.",
                describe(other.as_ref())
            ))),
        }
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.peek_kw(0, "or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.peek_kw(0, "and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(syntax("The condition is nested too deeply."));
        }
        let e = if self.peek_kw(0, "not") {
            self.pos += 1;
            Expr::Not(Box::new(self.unary()?))
        } else if self.peek() == Some(&Tok::Sym("(")) {
            self.pos += 1;
            let e = self.or()?;
            self.expect_sym(")")?;
            e
        } else {
            self.comparison()?
        };
        self.depth -= 1;
        Ok(e)
    }

    fn resolve(&self, name: &str) -> Result<Field, FilterError> {
        let (lookup_name, scope_ok): (String, fn(&Field) -> bool) = match self.scope {
            Scope::Conditions => (name.to_string(), |f| {
                f.array.is_none() && f.kind != Kind::Array
            }),
            Scope::Child => (name.to_string(), |f| f.array.is_some()),
            Scope::CustomFields => (format!("customFields/{name}"), |f| f.array.is_some()),
        };
        let resource = self.schema.resource;
        let field = self.schema.lookup(&lookup_name).ok_or_else(|| {
            invalid_field(
                name,
                format!("'{name}' is not a valid field of {resource}."),
            )
        })?;
        if !scope_ok(field) {
            let hint = match self.scope {
                Scope::Conditions => "it is inside an array: use childConditions",
                _ => "childConditions only take fields of array elements, such as types/name",
            };
            return Err(invalid_field(
                name,
                format!("'{name}' cannot be used here: {hint}."),
            ));
        }
        Ok(field.clone())
    }

    fn comparison(&mut self) -> Result<Expr, FilterError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(syntax(format!(
                "The condition has more than {MAX_TERMS} comparisons."
            )));
        }
        let name = match self.bump() {
            Some(Tok::Ident(s)) => s,
            other => {
                return Err(syntax(format!(
                    "Expected a field name but found {}.",
                    describe(other.as_ref())
                )));
            }
        };
        let field = self.resolve(&name)?;
        let negated = self.peek_kw(0, "not");
        if negated {
            self.pos += 1;
        }
        let op = match self.bump() {
            Some(Tok::Sym("=")) if !negated => Op::Eq,
            Some(Tok::Sym("!=")) if !negated => Op::Ne,
            Some(Tok::Sym("<")) if !negated => Op::Lt,
            Some(Tok::Sym("<=")) if !negated => Op::Le,
            Some(Tok::Sym(">")) if !negated => Op::Gt,
            Some(Tok::Sym(">=")) if !negated => Op::Ge,
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("contains") => Op::Contains,
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("like") => Op::Like,
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("in") => Op::In,
            other => {
                return Err(syntax(format!(
                    "Expected an operator after '{name}' but found {}.",
                    describe(other.as_ref())
                )));
            }
        };
        let values = if op == Op::In {
            self.expect_sym("(")?;
            let mut vals = vec![self.literal()?];
            while self.peek() == Some(&Tok::Sym(",")) {
                self.pos += 1;
                vals.push(self.literal()?);
            }
            self.expect_sym(")")?;
            vals
        } else {
            vec![self.literal()?]
        };
        for v in &values {
            check_types(&field, op, v)?;
        }
        Ok(Expr::Cmp {
            field,
            op,
            negated,
            values,
        })
    }

    fn literal(&mut self) -> Result<Literal, FilterError> {
        match self.bump() {
            Some(Tok::Str(s)) => Ok(Literal::Str(s)),
            Some(Tok::Num(n)) => {
                if let Ok(i) = n.parse::<i64>() {
                    Ok(Literal::Int(i))
                } else {
                    n.parse::<f64>()
                        .map(Literal::Float)
                        .map_err(|_| syntax(format!("'{n}' is not a valid number.")))
                }
            }
            Some(Tok::Date(d)) => parse_datetime(&d)
                .map(Literal::Date)
                .ok_or_else(|| syntax(format!("'[{d}]' is not a valid date-time."))),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("null") => Ok(Literal::Null),
            Some(Tok::Ident(s)) => Err(syntax(format!(
                "Expected a value but found '{s}': strings must be quoted."
            ))),
            other => Err(syntax(format!(
                "Expected a value but found {}.",
                describe(other.as_ref())
            ))),
        }
    }
}

/// Rejects a literal or operator that cannot apply to the field's type.
fn check_types(field: &Field, op: Op, lit: &Literal) -> Result<(), FilterError> {
    let name = &field.name;
    let bad = |what: &str| {
        Err(invalid_field(
            name,
            format!("{what} cannot be used with '{name}'."),
        ))
    };
    if *lit == Literal::Null {
        return match op {
            Op::Eq | Op::Ne => Ok(()),
            _ => bad("null (only = null and != null are allowed)"),
        };
    }
    let literal_ok = match (field.kind, lit) {
        (Kind::Str, Literal::Str(_)) => true,
        (Kind::Int, Literal::Int(_)) => true,
        (Kind::Float, Literal::Int(_) | Literal::Float(_)) => true,
        (Kind::Bool, Literal::Bool(_)) => true,
        (Kind::Date, Literal::Date(_)) => true,
        (Kind::Object | Kind::Array, _) => {
            return bad("a value (a reference can only be tested against null)");
        }
        _ => false,
    };
    if !literal_ok {
        let expected = match field.kind {
            Kind::Str => "a quoted string",
            Kind::Int => "an integer",
            Kind::Float => "a number",
            Kind::Bool => "True or False",
            _ => "a [date-time]",
        };
        return Err(invalid_field(name, format!("'{name}' expects {expected}.")));
    }
    match (field.kind, op) {
        (Kind::Str, _) => Ok(()),
        (_, Op::Contains | Op::Like) => bad("contains/like"),
        (Kind::Bool, Op::Lt | Op::Le | Op::Gt | Op::Ge) => bad("an ordering operator"),
        _ => Ok(()),
    }
}

/// Parses a condition string against a resource's fields. Blank input means "no condition".
pub fn parse(input: &str, schema: &Schema, scope: Scope) -> Result<Option<Expr>, FilterError> {
    let toks = lex(input)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        schema,
        scope,
        depth: 0,
        terms: 0,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(syntax(format!(
            "Unexpected {} after a complete condition (missing AND/OR?).",
            describe(p.peek())
        )));
    }
    Ok(Some(e))
}

/// SQL's three-valued truth: `None` is unknown.
type Tri = Option<bool>;

fn and3(a: Tri, b: impl FnOnce() -> Tri) -> Tri {
    match a {
        Some(false) => Some(false),
        _ => match (a, b()) {
            (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
    }
}

fn or3(a: Tri, b: impl FnOnce() -> Tri) -> Tri {
    match a {
        Some(true) => Some(true),
        _ => match (a, b()) {
            (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
    }
}

/// Case-insensitive, trailing-space-insensitive text as SQL Server compares it.
fn fold(s: &str) -> String {
    s.trim_end_matches(' ').to_lowercase()
}

fn compare_one(v: &Value, kind: Kind, op: Op, lit: &Literal) -> Tri {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (kind, lit) {
        (Kind::Str, Literal::Str(s)) => {
            let text = v.as_str()?;
            match op {
                Op::Contains => return Some(text.to_lowercase().contains(&s.to_lowercase())),
                Op::Like => return Some(like(text, s)),
                _ => Some(fold(text).cmp(&fold(s))),
            }
        }
        (Kind::Bool, Literal::Bool(b)) => Some(v.as_bool()?.cmp(b)),
        (Kind::Date, Literal::Date(d)) => Some(parse_datetime(v.as_str()?)?.cmp(d)),
        (Kind::Int | Kind::Float, Literal::Int(i)) => match v.as_i64() {
            Some(x) => Some(x.cmp(i)),
            None => v.as_f64()?.partial_cmp(&(*i as f64)),
        },
        (Kind::Int | Kind::Float, Literal::Float(f)) => v.as_f64()?.partial_cmp(f),
        _ => None,
    };
    let ord = ord?;
    Some(match op {
        Op::Eq | Op::In => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Contains | Op::Like => return None,
    })
}

/// Binding of array names to the element currently examined (childConditions).
type Bindings<'a> = [(&'a str, &'a Value)];

fn value_of<'a>(entity: &'a Value, field: &Field, bind: &Bindings<'a>) -> Option<&'a Value> {
    match &field.array {
        None => lookup(entity, &field.json),
        Some(arr) => {
            let (_, elem) = bind.iter().find(|(a, _)| a == arr)?;
            lookup(elem, &field.json[1..])
        }
    }
}

fn eval3<'a>(e: &Expr, entity: &'a Value, bind: &Bindings<'a>) -> Tri {
    match e {
        Expr::And(a, b) => and3(eval3(a, entity, bind), || eval3(b, entity, bind)),
        Expr::Or(a, b) => or3(eval3(a, entity, bind), || eval3(b, entity, bind)),
        Expr::Not(a) => eval3(a, entity, bind).map(|x| !x),
        Expr::Cmp {
            field,
            op,
            negated,
            values,
        } => {
            let v = value_of(entity, field, bind);
            let r = if values.first() == Some(&Literal::Null) && values.len() == 1 {
                let is_null = v.is_none();
                Some(if *op == Op::Ne { !is_null } else { is_null })
            } else {
                let v = v?;
                // Not `try_fold`: an unknown must not stop the scan (a later match is true).
                let mut acc = Some(false);
                for l in values {
                    acc = or3(acc, || compare_one(v, field.kind, *op, l));
                }
                acc
            };
            if *negated { r.map(|x| !x) } else { r }
        }
    }
}

fn arrays_of<'e>(e: &'e Expr, out: &mut Vec<&'e str>) {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => {
            arrays_of(a, out);
            arrays_of(b, out);
        }
        Expr::Not(a) => arrays_of(a, out),
        Expr::Cmp { field, .. } => {
            if let Some(a) = field.array.as_deref().filter(|a| !out.contains(a)) {
                out.push(a);
            }
        }
    }
}

/// Whether `entity` matches. For child conditions, the entity matches when some combination
/// of elements of the arrays named makes the condition true, as a SQL join would; an empty
/// array joins as one all-null element (so `types/id = null` finds contacts with no type) [I].
pub fn matches(e: &Expr, entity: &Value) -> bool {
    let mut arrays = Vec::new();
    arrays_of(e, &mut arrays);
    let null = Value::Null;
    let lists: Vec<Vec<&Value>> = arrays
        .iter()
        .map(|a| match entity.get(*a).and_then(Value::as_array) {
            Some(items) if !items.is_empty() => items.iter().collect(),
            _ => vec![&null],
        })
        .collect();
    let mut idx = vec![0usize; lists.len()];
    loop {
        let bind: Vec<(&str, &Value)> = arrays
            .iter()
            .zip(&idx)
            .zip(&lists)
            .map(|((a, &i), l)| (*a, l[i]))
            .collect();
        if eval3(e, entity, &bind) == Some(true) {
            return true;
        }
        // Next combination (odometer).
        let mut k = 0;
        loop {
            if k == idx.len() {
                return false;
            }
            idx[k] += 1;
            if idx[k] < lists[k].len() {
                break;
            }
            idx[k] = 0;
            k += 1;
        }
    }
}
