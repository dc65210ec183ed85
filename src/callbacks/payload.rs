//! The body of a ConnectWise callback (docs/apis.md §2.9), read as a cue, never as data.
//!
//! - Key names are matched ignoring case (`MessageId`, `messageId`, `MESSAGEID`; `CompanyId`,
//!   `CompanyID`); two keys that differ only in case are ambiguous and refused.
//! - `Entity` is the record *as a JSON string*, parsed again, or `null` (on delete). An
//!   `Entity` that is a JSON object, or a string that is not a JSON object, is refused as
//!   malformed: docs/apis.md documents only the string form, and a shape we do not know is a
//!   change to notice (400 in the logs), not to guess at. Its content is checked and dropped:
//!   a callback only says "re-read the API".
//! - A body over [`MAX_BODY`] is refused before it is parsed.
//!
//! Nothing here logs or returns payload text: refusals name the field, not its value.

use serde_json::{Map, Value};

use super::refusal::Refusal;

/// The largest callback body read (1 MiB); real ones are a few KiB.
pub const MAX_BODY: usize = 1024 * 1024;

/// The longest `MessageId` kept (they are GUIDs); bounds the replay filter's memory.
pub const MAX_MESSAGE_ID: usize = 128;

/// The longest record type name kept.
const MAX_TYPE: usize = 64;

/// `Action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Added,
    Updated,
    Deleted,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Added => "added",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
        }
    }
}

/// `Type`: the record kind, lowercase on the wire (`contact`, `configuration`…).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordType {
    Contact,
    Configuration,
    Company,
    Ticket,
    Agreement,
    /// Time entries.
    Time,
    /// Any other kind (lowercased, at most 64 ASCII letters, digits, `_` or `-`): accepted,
    /// and nothing is synced for it.
    Other(String),
}

impl RecordType {
    fn parse(text: &str) -> Option<Self> {
        let t = text.to_ascii_lowercase();
        Some(match t.as_str() {
            "contact" => RecordType::Contact,
            "configuration" => RecordType::Configuration,
            "company" => RecordType::Company,
            "ticket" => RecordType::Ticket,
            "agreement" => RecordType::Agreement,
            "time" | "timeentry" => RecordType::Time,
            _ if !t.is_empty()
                && t.len() <= MAX_TYPE
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                RecordType::Other(t)
            }
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            RecordType::Contact => "contact",
            RecordType::Configuration => "configuration",
            RecordType::Company => "company",
            RecordType::Ticket => "ticket",
            RecordType::Agreement => "agreement",
            RecordType::Time => "time",
            RecordType::Other(t) => t,
        }
    }
}

/// What a callback says, as far as we use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub message_id: String,
    pub action: Action,
    pub record_type: RecordType,
    /// `ID`: the record's id.
    pub id: i64,
    /// `Metadata.key_url`, unchecked: see `super::key_url::KeyUrlPolicy`.
    pub key_url: String,
    /// `CompanyId` when present (not relied on: the body is only trusted once verified).
    pub company_id: Option<String>,
}

fn malformed(why: impl Into<String>) -> Refusal {
    Refusal::Malformed(why.into())
}

/// The value of `name` in `map`, ignoring case; two keys differing only in case are refused.
fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Result<Option<&'a Value>, Refusal> {
    let mut found = None;
    for (k, v) in map {
        if k.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return Err(malformed(format!(
                    "{name} appears twice (in different case)"
                )));
            }
            found = Some(v);
        }
    }
    Ok(found)
}

fn required<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a Value, Refusal> {
    field(map, name)?.ok_or_else(|| malformed(format!("{name} is missing")))
}

fn string<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a str, Refusal> {
    required(map, name)?
        .as_str()
        .ok_or_else(|| malformed(format!("{name} is not a string")))
}

/// Parses a callback body. `raw` is checked against [`MAX_BODY`] first.
pub fn parse(raw: &[u8]) -> Result<Callback, Refusal> {
    if raw.len() > MAX_BODY {
        return Err(Refusal::TooLarge { limit: MAX_BODY });
    }
    let value: Value =
        serde_json::from_slice(raw).map_err(|_| malformed("the body is not JSON"))?;
    let Value::Object(map) = value else {
        return Err(malformed("the body is not a JSON object"));
    };

    let message_id = string(&map, "MessageId")?;
    if message_id.is_empty()
        || message_id.len() > MAX_MESSAGE_ID
        || message_id.chars().any(crate::text::is_unsafe)
    {
        return Err(malformed(format!(
            "MessageId is empty, longer than {MAX_MESSAGE_ID} bytes, or holds control characters"
        )));
    }
    let action = match string(&map, "Action")?.to_ascii_lowercase().as_str() {
        "added" => Action::Added,
        "updated" => Action::Updated,
        "deleted" => Action::Deleted,
        _ => return Err(malformed("Action is not added, updated or deleted")),
    };
    let record_type = RecordType::parse(string(&map, "Type")?)
        .ok_or_else(|| malformed("Type is not a record type name"))?;
    let id = required(&map, "ID")?
        .as_i64()
        .ok_or_else(|| malformed("ID is not an integer"))?;

    match required(&map, "Entity")? {
        Value::Null => {}
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(_)) => {}
            _ => {
                return Err(malformed(
                    "Entity is a string that does not hold a JSON object",
                ));
            }
        },
        _ => {
            return Err(malformed(
                "Entity is not a JSON string (nor null); ConnectWise sends the record as a string",
            ));
        }
    }

    let Value::Object(metadata) = required(&map, "Metadata")? else {
        return Err(malformed("Metadata is not an object"));
    };
    let key_url = string(metadata, "key_url")?.to_string();

    let company_id = match field(&map, "CompanyId")? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(malformed("CompanyId is not a string")),
    };

    Ok(Callback {
        message_id: message_id.to_string(),
        action,
        record_type,
        id,
        key_url,
        company_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    fn sample() -> Value {
        json!({
            "MessageId": "5e1d9b1c-0d7e-4b5a-9d55-0a3b8f7c2e11",
            "FromUrl": "https://na.myconnectwise.net",
            "CompanyId": "mymsp",
            "MemberId": "apiuser",
            "Action": "updated",
            "Type": "contact",
            "ID": 42,
            "Entity": "{\"id\":42,\"firstName\":\"Ada\",\"company\":{\"id\":7}}",
            "Metadata": {"key_url": "https://na.myconnectwise.net/v2025_1//system/callbackkey/index.rails?companyName=mymsp&id=abc"},
            "PartnerId": "p",
            "CallbackObjectRecId": 3
        })
    }

    #[test]
    fn a_callback_is_read() {
        let cb = parse(&body(sample())).unwrap();
        assert_eq!(cb.message_id, "5e1d9b1c-0d7e-4b5a-9d55-0a3b8f7c2e11");
        assert_eq!(cb.action, Action::Updated);
        assert_eq!(cb.record_type, RecordType::Contact);
        assert_eq!(cb.id, 42);
        assert!(cb.key_url.starts_with("https://na.myconnectwise.net/"));
        assert_eq!(cb.company_id.as_deref(), Some("mymsp"));
    }

    #[test]
    fn keys_are_matched_ignoring_case() {
        let v = json!({
            "MESSAGEID": "m-1", "action": "Added", "type": "Configuration", "id": 9,
            "entity": "{}", "metadata": {"KEY_URL": "https://x"}, "CompanyID": "mymsp"
        });
        let cb = parse(&body(v)).unwrap();
        assert_eq!(cb.message_id, "m-1");
        assert_eq!(cb.action, Action::Added);
        assert_eq!(cb.record_type, RecordType::Configuration);
        assert_eq!(cb.company_id.as_deref(), Some("mymsp"));
        // The same key twice, in two cases, is ambiguous.
        let mut v = sample();
        v["messageId"] = json!("other");
        assert!(matches!(parse(&body(v)), Err(Refusal::Malformed(_))));
    }

    #[test]
    fn entity_is_null_on_delete() {
        let mut v = sample();
        v["Action"] = json!("deleted");
        v["Entity"] = Value::Null;
        let cb = parse(&body(v)).unwrap();
        assert_eq!(cb.action, Action::Deleted);
    }

    #[test]
    fn entity_must_be_a_string_holding_an_object() {
        for bad in [
            json!({"id": 42}),
            json!("not json"),
            json!("[1,2]"),
            json!(42),
        ] {
            let mut v = sample();
            v["Entity"] = bad.clone();
            assert!(
                matches!(parse(&body(v)), Err(Refusal::Malformed(_))),
                "{bad}"
            );
        }
        let mut v = sample();
        v.as_object_mut().unwrap().remove("Entity");
        assert!(matches!(parse(&body(v)), Err(Refusal::Malformed(_))));
    }

    #[test]
    fn missing_or_mistyped_fields_are_malformed_and_never_echoed() {
        for (key, value) in [
            ("MessageId", json!(7)),
            ("MessageId", json!("")),
            ("MessageId", json!("a\u{1b}[2Jb")),
            ("MessageId", json!("m".repeat(200))),
            ("Action", json!("renamed")),
            ("Type", json!("con tact")),
            ("Type", json!("")),
            ("ID", json!("42")),
            ("ID", json!(4.5)),
            ("Metadata", json!("https://x")),
            ("Metadata", json!({"url": "https://x"})),
            ("CompanyId", json!(5)),
        ] {
            let mut v = sample();
            v[key] = value.clone();
            let e = parse(&body(v)).unwrap_err();
            assert!(matches!(e, Refusal::Malformed(_)), "{key} = {value}: {e:?}");
            assert!(!e.to_string().contains("\u{1b}"));
        }
        for raw in [&b"not json"[..], b"[1]", b"\"x\"", b""] {
            assert!(matches!(parse(raw), Err(Refusal::Malformed(_))));
        }
    }

    #[test]
    fn other_types_are_kept_lowercase() {
        let mut v = sample();
        v["Type"] = json!("Opportunity");
        assert_eq!(
            parse(&body(v)).unwrap().record_type,
            RecordType::Other("opportunity".into())
        );
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let raw = vec![b'{'; MAX_BODY + 1];
        assert_eq!(parse(&raw), Err(Refusal::TooLarge { limit: MAX_BODY }));
        // Exactly the limit is read (and here refused only as malformed).
        let raw = vec![b' '; MAX_BODY];
        assert!(matches!(parse(&raw), Err(Refusal::Malformed(_))));
    }
}
