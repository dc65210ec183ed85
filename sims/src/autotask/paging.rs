//! Keyset paging over `id` (docs/apis.md §3.4).
//!
//! A query answers at most `MaxRecords` rows sorted by id, with
//! `pageDetails.nextPageUrl` = `<base>V1.0/<Entity>/query/next?paging=<urlencoded
//! {"pageSize":500,"previousIds":[…],"nextIds":[<last id of this page>]}>`. The next page
//! holds the rows whose id is greater than `nextIds[0]`; `previousIds` is the stack of the
//! earlier pages' cursors, which gives `prevPageUrl`. The first page's cursor is -1.
//!
//! The cursor does not carry the filter: the client sends it again (POST body, or the
//! `search` parameter the simulator appends to GET-originated cursors). The simulator
//! remembers which filters each cursor it issued belongs to, so a next-page request with a
//! different (or no) filter is refused with 500 instead of silently paging another query.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::filter::MAX_PAGE;
use super::model::Entity;

/// The keyset before every id (ids are never negative).
pub(crate) const BEFORE_FIRST: i64 = -1;
/// How many issued cursors the simulator remembers (oldest forgotten first).
const REGISTRY_CAP: usize = 200_000;

/// The `paging` parameter, an opaque value to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    #[serde(rename = "pageSize")]
    pub page_size: usize,
    #[serde(rename = "previousIds")]
    pub previous_ids: Vec<i64>,
    #[serde(rename = "nextIds")]
    pub next_ids: Vec<i64>,
}

impl Cursor {
    pub(crate) fn parse(text: &str) -> Option<Cursor> {
        let c: Cursor = serde_json::from_str(text).ok()?;
        (c.next_ids.len() == 1 && (1..=MAX_PAGE).contains(&c.page_size)).then_some(c)
    }

    pub(crate) fn after(&self) -> i64 {
        self.next_ids.first().copied().unwrap_or(BEFORE_FIRST)
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The cursor of the page after the one this cursor fetched, which ended at `last_id`.
    pub(crate) fn next(&self, last_id: i64) -> Cursor {
        let mut previous_ids = self.previous_ids.clone();
        previous_ids.push(self.after());
        Cursor {
            page_size: self.page_size,
            previous_ids,
            next_ids: vec![last_id],
        }
    }

    /// The cursor of the page before the one this cursor fetched (None on the first page).
    pub(crate) fn prev(&self) -> Option<Cursor> {
        let mut previous_ids = self.previous_ids.clone();
        let before = previous_ids.pop()?;
        Some(Cursor {
            page_size: self.page_size,
            previous_ids,
            next_ids: vec![before],
        })
    }

    pub(crate) fn first(page_size: usize) -> Cursor {
        Cursor {
            page_size,
            previous_ids: Vec::new(),
            next_ids: vec![BEFORE_FIRST],
        }
    }
}

/// Which filters each issued cursor belongs to.
#[derive(Default)]
pub(crate) struct CursorRegistry {
    filters: HashMap<String, HashSet<String>>,
    order: VecDeque<String>,
}

impl CursorRegistry {
    fn key(entity: Entity, cursor: &Cursor) -> String {
        format!("{}|{}", entity.path_name(), cursor.to_json())
    }

    pub(crate) fn remember(&mut self, entity: Entity, cursor: &Cursor, canonical_filter: &str) {
        let key = Self::key(entity, cursor);
        let set = self.filters.entry(key.clone()).or_default();
        if set.is_empty() {
            self.order.push_back(key);
        }
        set.insert(canonical_filter.to_string());
        while self.order.len() > REGISTRY_CAP {
            if let Some(old) = self.order.pop_front() {
                self.filters.remove(&old);
            }
        }
    }

    pub(crate) fn issued(&self, entity: Entity, cursor: &Cursor, canonical_filter: &str) -> bool {
        self.filters
            .get(&Self::key(entity, cursor))
            .is_some_and(|set| set.contains(canonical_filter))
    }
}

/// Percent-encodes a query-string component (everything but RFC 3986 unreserved bytes).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_walks_forward_and_back() {
        let first = Cursor::first(500);
        let second = first.next(725);
        assert_eq!(
            second.to_json(),
            r#"{"pageSize":500,"previousIds":[-1],"nextIds":[725]}"#
        );
        let third = second.next(1300);
        assert_eq!(third.previous_ids, vec![-1, 725]);
        assert_eq!(third.prev(), Some(second.clone()));
        assert_eq!(second.prev(), Some(first.clone()));
        assert_eq!(first.prev(), None);
        assert_eq!(Cursor::parse(&third.to_json()), Some(third));
        assert_eq!(Cursor::parse("{}"), None);
        assert_eq!(Cursor::parse("nonsense"), None);
    }

    #[test]
    fn encode_escapes_json() {
        assert_eq!(encode(r#"{"a":[1]} é"#), "%7B%22a%22%3A%5B1%5D%7D%20%C3%A9");
    }

    #[test]
    fn registry_tracks_filters_per_cursor() {
        let mut r = CursorRegistry::default();
        let c = Cursor::first(10).next(5);
        r.remember(Entity::Companies, &c, "f1");
        assert!(r.issued(Entity::Companies, &c, "f1"));
        assert!(!r.issued(Entity::Companies, &c, "f2"));
        assert!(!r.issued(Entity::ConfigurationItems, &c, "f1"));
    }
}
