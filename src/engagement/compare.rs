//! The change in each company's overall score since a previous snapshot: who dropped most.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::model::{Change, CompanyScore, EngagementReport};
use super::score::Band;
use super::window::UtcTime;

/// A company's score in a previous snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotEntry {
    pub company_id: String,
    #[serde(default)]
    pub name: String,
    pub overall: u8,
    pub band: Band,
}

/// A previous run's scores. It deserialises from a saved `engagement` JSON document (its other
/// fields are ignored) and serialises to a small one, for whatever keeps it (a file, the
/// ledger).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default)]
    pub as_of: Option<UtcTime>,
    pub companies: Vec<SnapshotEntry>,
}

impl Snapshot {
    /// The snapshot of a report, to compare the next run with.
    pub fn of(report: &super::model::EngagementReport) -> Snapshot {
        Snapshot {
            as_of: Some(report.as_of),
            companies: report
                .companies
                .iter()
                .map(|c| SnapshotEntry {
                    company_id: c.company_id.clone(),
                    name: c.name.clone(),
                    overall: c.overall,
                    band: c.band,
                })
                .collect(),
        }
    }
}

/// What happened to a company between the snapshot and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Scored both times (the delta may be 0).
    Scored,
    /// Scored now, not in the snapshot.
    New,
    /// In the snapshot, not scored now (deleted, or no longer listed by `clients`).
    Vanished,
}

/// One company's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanyChange {
    pub company_id: String,
    /// The current name, or the snapshot's for a vanished company.
    pub name: String,
    pub kind: ChangeKind,
    pub previous: Option<u8>,
    pub previous_band: Option<Band>,
    pub overall: Option<u8>,
    pub band: Option<Band>,
    /// `overall − previous`, for companies scored both times.
    pub delta: Option<i16>,
}

/// Every company's change since `previous`, biggest drop first: companies scored both times
/// by delta (most negative first, then unchanged, then rises), then new companies, then
/// vanished ones; ties by name (ignoring case), then id. Ids are compared as strings; a
/// snapshot naming an id twice counts its first entry.
pub fn compare(previous: &Snapshot, current: &[CompanyScore]) -> Vec<CompanyChange> {
    let mut before: HashMap<&str, &SnapshotEntry> = HashMap::new();
    for p in &previous.companies {
        before.entry(p.company_id.as_str()).or_insert(p);
    }
    let mut out: Vec<CompanyChange> = current
        .iter()
        .map(|c| {
            let p = before.remove(c.company_id.as_str());
            CompanyChange {
                company_id: c.company_id.clone(),
                name: c.name.clone(),
                kind: if p.is_some() {
                    ChangeKind::Scored
                } else {
                    ChangeKind::New
                },
                previous: p.map(|p| p.overall),
                previous_band: p.map(|p| p.band),
                overall: Some(c.overall),
                band: Some(c.band),
                delta: p.map(|p| i16::from(c.overall) - i16::from(p.overall)),
            }
        })
        .collect();
    out.extend(before.into_values().map(|p| CompanyChange {
        company_id: p.company_id.clone(),
        name: p.name.clone(),
        kind: ChangeKind::Vanished,
        previous: Some(p.overall),
        previous_band: Some(p.band),
        overall: None,
        band: None,
        delta: None,
    }));
    let rank = |c: &CompanyChange| match c.kind {
        ChangeKind::Scored => 0,
        ChangeKind::New => 1,
        ChangeKind::Vanished => 2,
    };
    out.sort_by(|a, b| {
        (rank(a), a.delta, a.name.to_lowercase(), &a.company_id).cmp(&(
            rank(b),
            b.delta,
            b.name.to_lowercase(),
            &b.company_id,
        ))
    });
    out
}

impl EngagementReport {
    /// Sets each company's `change` against `previous` and returns the full comparison
    /// ([`compare`]), vanished companies included, for the verb to print.
    pub fn apply_changes(&mut self, previous: &Snapshot) -> Vec<CompanyChange> {
        let changes = compare(previous, &self.companies);
        let mut before = HashMap::new();
        for p in &previous.companies {
            // The first entry of an id, as compare() counts it.
            before.entry(p.company_id.as_str()).or_insert(p);
        }
        for c in &mut self.companies {
            c.change = before.get(c.company_id.as_str()).map(|p| Change {
                delta: i16::from(c.overall) - i16::from(p.overall),
                previous_overall: p.overall,
                previous_band: p.band,
            });
        }
        self.previous_as_of = previous.as_of;
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engagement::{Activity, CompanyRef, Industry};

    fn now(id: &str, name: &str, tickets: u64) -> CompanyScore {
        let company = CompanyRef {
            company_id: id.into(),
            identifier: name.to_uppercase(),
            name: name.into(),
        };
        CompanyScore::new(
            company,
            Industry::Other,
            &Activity {
                tickets,
                ..Activity::default()
            },
        )
    }

    fn then(id: &str, name: &str, overall: u8) -> SnapshotEntry {
        SnapshotEntry {
            company_id: id.into(),
            name: name.into(),
            overall,
            band: Band::of(overall),
        }
    }

    #[test]
    fn biggest_drops_first_then_new_then_vanished() {
        // Activity::default() scores 12; 10 tickets score 41.
        let current = [
            now("1", "Alpha", 0),
            now("2", "Bravo", 0),
            now("3", "Charlie", 10),
            now("4", "Delta", 0),
            now("5", "Echo", 0),
        ];
        let previous = Snapshot {
            as_of: None,
            companies: vec![
                then("1", "Alpha", 50),
                then("2", "Bravo", 90),
                then("3", "Charlie", 20),
                then("5", "Echo", 12),
                then("9", "Gone", 70),
                then("1", "Alpha again", 0),
            ],
        };
        let changes = compare(&previous, &current);
        let order: Vec<_> = changes
            .iter()
            .map(|c| (c.company_id.as_str(), c.kind, c.delta))
            .collect();
        assert_eq!(
            order,
            [
                ("2", ChangeKind::Scored, Some(-78)),
                ("1", ChangeKind::Scored, Some(-38)),
                ("5", ChangeKind::Scored, Some(0)),
                ("3", ChangeKind::Scored, Some(21)),
                ("4", ChangeKind::New, None),
                ("9", ChangeKind::Vanished, None),
            ]
        );
        let gone = &changes[5];
        assert_eq!(
            (gone.name.as_str(), gone.previous, gone.overall),
            ("Gone", Some(70), None)
        );
        assert_eq!(changes[0].previous_band, Some(Band::Thriving));
        assert_eq!(changes[0].band, Some(Band::Critical));
    }

    #[test]
    fn a_snapshot_reads_a_saved_report() {
        let saved = r#"{"as_of": "2026-12-01T12:00:00Z", "window": {"days": 90},
            "companies": [{"company_id": "250", "identifier": "CONTOSO", "name": "Contoso",
                           "metrics": {}, "overall": 48, "band": "at risk"}],
            "requests": {"psa": 9, "crewhu": 0}}"#;
        let s: Snapshot = serde_json::from_str(saved).unwrap();
        assert_eq!(s.companies, [then("250", "Contoso", 48)]);
        assert_eq!(s.as_of.unwrap().to_string(), "2026-12-01T12:00:00Z");
        assert!(
            serde_json::from_str::<Snapshot>(
                r#"{"companies": [{"company_id": "1",
            "overall": 50, "band": "fine"}]}"#
            )
            .is_err()
        );
        assert!(compare(&Snapshot::default(), &[]).is_empty());
    }
}
