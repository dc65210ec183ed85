//! Splitting one read into concurrent id ranges (docs/ARCHITECTURE.md, "Parallel reads").
//!
//! Both PSAs page by id (ConnectWise forward-only paging, docs/apis.md §2.4; Autotask's keyset
//! cursor, §3.4) and both accept `id` conditions, so a read can run as several streams over
//! disjoint id ranges. Neither API says how ids are spread, and finding quantiles would cost
//! requests the APIs ration, so the split is an estimate: the first page's ids give the
//! density, the server's count gives how many rows remain, and what remains is cut into
//! ranges of equal estimated size. A wrong estimate costs balance, never correctness: the
//! ranges are contiguous and the last one is open-ended, so together they cover every id
//! after the first page exactly once whatever the ids really are.
//!
//! This module is pure; the clients own the streams and check each one's ids.

/// The ranges a read continues with after its first page.
///
/// `bounds` = `[b1, …, bn-1]`, strictly increasing and all above the first page's last id:
/// the first stream keeps following the first page's cursor and stops below `b1`; stream `k`
/// (1-based) reads `b_k <= id < b_{k+1}`, and the last one reads `id >= b_{n-1}`. No bounds:
/// read on sequentially.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub bounds: Vec<i64>,
}

impl Split {
    /// How many streams the read runs as, the first one included.
    pub fn streams(&self) -> usize {
        self.bounds.len() + 1
    }

    /// The id range of stream `k` (0-based): `(low, high)`, `low` inclusive, `high` exclusive,
    /// `None` for unbounded. Stream 0's low is the first page (it reads on from its cursor).
    pub fn range(&self, k: usize) -> (Option<i64>, Option<i64>) {
        let low = k.checked_sub(1).map(|i| self.bounds[i]);
        let high = self.bounds.get(k).copied();
        (low, high)
    }
}

/// What the first page showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstPage {
    /// Rows on it.
    pub rows: u64,
    pub first_id: i64,
    pub last_id: i64,
}

/// Plans the rest of a read: `expected` rows in all (the server's count taken before the
/// read), pages of `page_size`, at most `max_streams` concurrent streams. Splits only when at
/// least two more pages remain; never more streams than remaining pages.
pub fn plan(first: FirstPage, expected: u64, page_size: u64, max_streams: usize) -> Split {
    let sequential = Split { bounds: Vec::new() };
    let remaining = expected.saturating_sub(first.rows);
    let remaining_pages = remaining.div_ceil(page_size.max(1));
    let streams = (max_streams as u64).min(remaining_pages);
    if streams < 2 || first.rows < 2 || first.last_id <= first.first_id {
        return sequential;
    }
    // Ids per row on the first page; a hostile server's figures cannot overflow (i128).
    // The first page's id span covers (rows − 1) gaps between rows.
    let span = i128::from(first.last_id) - i128::from(first.first_id);
    let gaps = i128::from(first.rows - 1);
    let estimated_span = span.saturating_mul(i128::from(remaining)) / gaps;
    let start = i128::from(first.last_id) + 1;
    let mut bounds = Vec::new();
    for k in 1..i128::from(streams) {
        let b = start.saturating_add(estimated_span.saturating_mul(k) / i128::from(streams));
        let b = i64::try_from(b).unwrap_or(i64::MAX);
        if bounds.last().is_none_or(|&last| b > last) && b > first.last_id {
            bounds.push(b);
        }
    }
    Split { bounds }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(rows: u64, first_id: i64, last_id: i64) -> FirstPage {
        FirstPage {
            rows,
            first_id,
            last_id,
        }
    }

    #[test]
    fn dense_ids_split_the_rest_in_equal_thirds() {
        // 100,000 rows with ids 1..=100,000; the first page holds 1..=500.
        let s = plan(first(500, 1, 500), 100_000, 500, 3);
        assert_eq!(s.streams(), 3);
        // 99,500 remain over ids 501..; thirds at about 33,166 rows each.
        let b = &s.bounds;
        assert!(b[0] > 500 && b[0] < b[1]);
        let third = (b[1] - b[0]) as f64;
        assert!((third - 99_500.0 / 3.0).abs() < 2.0, "{b:?}");
        assert_eq!(s.range(0), (None, Some(b[0])));
        assert_eq!(s.range(1), (Some(b[0]), Some(b[1])));
        assert_eq!(s.range(2), (Some(b[1]), None));
    }

    #[test]
    fn sparse_ids_scale_the_bounds() {
        // Every 7th id: the bounds spread seven times as far.
        let s = plan(first(500, 7, 3500), 100_000, 500, 3);
        assert!(
            (s.bounds[1] - s.bounds[0] - 7 * 99_500 / 3).abs() < 10,
            "{s:?}"
        );
    }

    #[test]
    fn few_pages_read_sequentially_and_never_more_streams_than_pages() {
        assert_eq!(plan(first(500, 1, 500), 500, 500, 3).streams(), 1);
        assert_eq!(plan(first(500, 1, 500), 1000, 500, 3).streams(), 1);
        assert_eq!(plan(first(500, 1, 500), 1001, 500, 3).streams(), 2);
        assert_eq!(plan(first(500, 1, 500), 1501, 500, 3).streams(), 3);
        assert_eq!(plan(first(500, 1, 500), 1500, 500, 3).streams(), 2);
        assert_eq!(plan(first(500, 1, 500), 1_000_000, 500, 1).streams(), 1);
        // A count lower than what was read (rows deleted meanwhile): sequential.
        assert_eq!(plan(first(500, 1, 500), 10, 500, 3).streams(), 1);
    }

    #[test]
    fn hostile_figures_neither_overflow_nor_give_unordered_bounds() {
        for f in [
            first(500, i64::MIN, i64::MAX),
            first(500, i64::MAX - 1, i64::MAX),
            first(2, 0, 1),
            first(1, 5, 5),
            first(500, 10, 10),
            first(500, 10, 3),
        ] {
            let s = plan(f, u64::MAX, 500, 3);
            assert!(s.bounds.windows(2).all(|w| w[0] < w[1]), "{f:?} {s:?}");
            assert!(s.bounds.iter().all(|&b| b > f.last_id), "{f:?} {s:?}");
        }
    }
}
