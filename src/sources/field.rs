//! Reading PSA rows defensively: a field that may be absent or `null` ([`Field`]), and
//! paging integrity for reads ordered by id ([`IdOrder`]).

use crate::error::{Result, Side};

/// A field of a PSA row that may be absent, `null`, or a value. Absent and `null` are not
/// the same: `null` is data (an item with no company), while a field the count depends on
/// that is absent means the API's shape has changed, and the read must fail rather than
/// count everything as "no company" (docs/SECURITY.md, "Schema drift"). Use it with
/// `#[serde(default)]`, so absence becomes [`Field::Absent`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Field<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Field::Null,
            Some(v) => Field::Value(v),
        })
    }
}

impl<T> Field<T> {
    /// The value, `None` for `null`; an error naming the entity and the field when absent.
    pub fn require(&self, side: Side, entity: &str, field: &str) -> Result<Option<&T>> {
        match self {
            Field::Value(v) => Ok(Some(v)),
            Field::Null => Ok(None),
            Field::Absent => Err(schema_drift(side, entity, field)),
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
}

/// The error for a row that lost a field the count depends on.
pub fn schema_drift(side: Side, entity: &str, field: &str) -> crate::error::Error {
    crate::error::Error::api(
        side,
        format!(
            "a row of {entity} came without its '{field}' field, which the count depends on; \
         the API's answer has changed shape, so nothing was counted (report this with the \
         output of -vv)"
        ),
    )
}

/// Rows that carry a numeric id, for paging integrity.
pub trait HasId {
    fn id(&self) -> i64;
}

/// Paging integrity for reads that come ordered by id (ConnectWise forward-only paging,
/// Autotask keyset paging): across the whole read ids must strictly increase, so a page that
/// repeats or reorders earlier rows fails the read instead of counting them twice.
#[derive(Debug, Default)]
pub struct IdOrder {
    last: Option<i64>,
}

impl IdOrder {
    /// Checks the next id; the error says which id came after which.
    pub fn check(&mut self, id: i64) -> std::result::Result<(), String> {
        if let Some(last) = self.last
            && id <= last
        {
            return Err(format!(
                "id {id} came after id {last}: the pages repeat or reorder rows; not trusting \
                 the paging, nothing was counted"
            ));
        }
        self.last = Some(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Row {
        #[serde(default)]
        company: Field<i64>,
    }

    #[test]
    fn absent_null_and_value_differ() {
        let rows: Vec<Row> =
            serde_json::from_str(r#"[{"company":7},{"company":null},{"Company":7}]"#).unwrap();
        assert_eq!(rows[0].company, Field::Value(7));
        assert_eq!(rows[1].company, Field::Null);
        assert_eq!(rows[2].company, Field::Absent);
        assert!(
            rows[2]
                .company
                .require(Side::Autotask, "Things", "company")
                .is_err()
        );
        assert_eq!(
            rows[1]
                .company
                .require(Side::Autotask, "Things", "company")
                .unwrap(),
            None
        );
    }

    #[test]
    fn ids_must_strictly_increase() {
        let mut order = IdOrder::default();
        for id in [1, 2, 10, 11] {
            order.check(id).unwrap();
        }
        assert!(order.check(11).is_err());
        assert!(order.check(3).is_err());
    }
}

/// One page of rows, refused as soon as it holds more than `MAX`: a server cannot make a
/// read hold more rows than the API ever sends in a page (ConnectWise 1,000, Autotask 500).
#[derive(Debug)]
pub struct Page<T, const MAX: usize>(pub Vec<T>);

impl<'de, T: serde::Deserialize<'de>, const MAX: usize> serde::Deserialize<'de> for Page<T, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Rows<T, const MAX: usize>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>, const MAX: usize> serde::de::Visitor<'de> for Rows<T, MAX> {
            type Value = Page<T, MAX>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a list of at most {MAX} rows")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX));
                while let Some(row) = seq.next_element()? {
                    if rows.len() == MAX {
                        return Err(serde::de::Error::custom(format!(
                            "a page holds more than {MAX} rows, more than the API ever sends"
                        )));
                    }
                    rows.push(row);
                }
                Ok(Page(rows))
            }
        }
        d.deserialize_seq(Rows::<T, MAX>(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod page_tests {
    use super::Page;

    #[test]
    fn pages_over_their_size_are_refused_while_reading() {
        let ok: Page<u32, 3> = serde_json::from_str("[1,2,3]").unwrap();
        assert_eq!(ok.0, [1, 2, 3]);
        let e = serde_json::from_str::<Page<u32, 3>>("[1,2,3,4]").unwrap_err();
        assert!(e.to_string().contains("more than 3 rows"), "{e}");
    }
}
