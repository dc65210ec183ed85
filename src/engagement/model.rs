//! The `engagement` and `clients` documents (contract §5), as serde types: field names and
//! shapes are exactly the contract's, absent metrics are `null`, times are RFC 3339 UTC.

use serde::{Deserialize, Serialize};

use super::industry::Industry;
use super::score::{Activity, Band, Metrics, score};
use super::window::{UtcTime, Window};

/// A ConnectWise company as every report names it: its id as a decimal string (contract §3),
/// its identifier and its name (hostile text: escaped by whatever prints it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyRef {
    pub company_id: String,
    pub identifier: String,
    pub name: String,
}

/// How a company's overall score moved since the previous snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `overall − previous_overall`: negative is a drop.
    pub delta: i16,
    pub previous_overall: u8,
    pub previous_band: Band,
}

/// One company in the `engagement` document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompanyScore {
    pub company_id: String,
    pub identifier: String,
    pub name: String,
    pub industry: Industry,
    pub metrics: Metrics,
    /// 0–100 over the metrics present (contract §3b).
    pub overall: u8,
    pub band: Band,
    /// Absent (not `null`) when there is no previous snapshot or the company is new in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

impl CompanyScore {
    /// Scores one company's activity ([`score`]).
    pub fn new(company: CompanyRef, industry: Industry, activity: &Activity) -> CompanyScore {
        let s = score(activity);
        CompanyScore {
            company_id: company.company_id,
            identifier: company.identifier,
            name: company.name,
            industry,
            metrics: s.metrics,
            overall: s.overall,
            band: s.band,
            change: None,
        }
    }
}

/// HTTP requests made to each API, retries counted (contract §5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Requests {
    pub psa: u64,
    pub crewhu: u64,
}

/// The `engagement` document (contract §5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngagementReport {
    /// When the run took place: the window's `to`.
    pub as_of: UtcTime,
    pub window: Window,
    /// Lowest overall score first (the clients who need attention), then by name and id.
    pub companies: Vec<CompanyScore>,
    pub requests: Requests,
    /// The snapshot the `change`s are measured against, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_as_of: Option<UtcTime>,
}

impl EngagementReport {
    /// The report of a run over `window`; companies sorted as documented on the field.
    pub fn new(
        window: Window,
        mut companies: Vec<CompanyScore>,
        requests: Requests,
    ) -> EngagementReport {
        companies.sort_by(|a, b| {
            (a.overall, a.name.to_lowercase(), &a.company_id).cmp(&(
                b.overall,
                b.name.to_lowercase(),
                &b.company_id,
            ))
        });
        EngagementReport {
            as_of: window.to,
            window,
            companies,
            requests,
            previous_as_of: None,
        }
    }
}

/// A company's primary contact (the contact with `defaultFlag`, docs/apis.md §2.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrimaryContact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One company in the `clients` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Client {
    pub company_id: String,
    pub identifier: String,
    pub name: String,
    /// `status.name`, e.g. `Active`.
    pub status: Option<String>,
    /// `types[].name`, e.g. `["Client"]`.
    pub types: Vec<String>,
    /// `market.name`, as ConnectWise spells it.
    pub market: Option<String>,
    pub industry: Industry,
    /// `null` for a company without one.
    pub primary_contact: Option<PrimaryContact>,
}

/// The `clients` document (contract §5): `{"clients": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientsReport {
    pub clients: Vec<Client>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engagement::{Hours, Snapshot, SnapshotEntry};
    use crate::text::parse_utc;
    use serde_json::json;

    fn contoso() -> CompanyRef {
        CompanyRef {
            company_id: "250".into(),
            identifier: "CONTOSO".into(),
            name: "Contoso".into(),
        }
    }

    #[test]
    fn the_engagement_document_has_the_contracts_shape() {
        let window = Window::new(90, parse_utc("2026-12-01T12:00:00Z").unwrap()).unwrap();
        let activity = Activity {
            tickets: 7,
            resolved_within_4h: 2,
            billable_hours: Hours::parse("12.5").unwrap(),
            procurement: 1,
            csat: None,
        };
        let company = CompanyScore::new(contoso(), Industry::Legal, &activity);
        let report = EngagementReport::new(window, vec![company], Requests { psa: 9, crewhu: 0 });
        let doc = serde_json::to_value(&report).unwrap();
        assert_eq!(
            doc,
            json!({"as_of": "2026-12-01T12:00:00Z",
                   "window": {"days": 90, "from": "2026-09-02T12:00:00Z", "to": "2026-12-01T12:00:00Z"},
                   "companies": [
                     {"company_id": "250", "identifier": "CONTOSO", "name": "Contoso", "industry": "legal",
                      "metrics": {
                        "help_desk_usage":        {"raw": 7,    "score": 3, "weight": 5},
                        "first_touch_resolution": {"raw": 2,    "score": 2, "weight": 4, "tickets": 7,
                                                   "rate": 0.2857},
                        "support_satisfaction":   null,
                        "project_engagement":     {"raw": 12.5, "score": 3, "weight": 5},
                        "procurement":            {"raw": 1,    "score": 1, "weight": 3}},
                      "overall": 48, "band": "at risk"}],
                   "requests": {"psa": 9, "crewhu": 0}})
        );
    }

    #[test]
    fn a_change_appears_only_against_a_snapshot() {
        let window = Window::new(30, parse_utc("2026-12-01T12:00:00Z").unwrap()).unwrap();
        let mut report = EngagementReport::new(
            window,
            vec![CompanyScore::new(
                contoso(),
                Industry::Other,
                &Activity::default(),
            )],
            Requests::default(),
        );
        let previous = Snapshot {
            as_of: Some(UtcTime(parse_utc("2026-11-01T12:00:00Z").unwrap())),
            companies: vec![SnapshotEntry {
                company_id: "250".into(),
                name: "Contoso".into(),
                overall: 40,
                band: Band::AtRisk,
            }],
        };
        assert!(
            serde_json::to_value(&report).unwrap()["companies"][0]
                .get("change")
                .is_none()
        );
        report.apply_changes(&previous);
        let doc = serde_json::to_value(&report).unwrap();
        assert_eq!(
            doc["companies"][0]["change"],
            json!({"delta": -28, "previous_overall": 40, "previous_band": "at risk"})
        );
        assert_eq!(doc["previous_as_of"], "2026-11-01T12:00:00Z");
    }

    #[test]
    fn the_clients_document_has_the_contracts_shape() {
        let client = |contact| Client {
            company_id: "250".into(),
            identifier: "CONTOSO".into(),
            name: "Contoso".into(),
            status: Some("Active".into()),
            types: vec!["Client".into()],
            market: Some("Legal".into()),
            industry: Industry::Legal,
            primary_contact: contact,
        };
        let doc = ClientsReport {
            clients: vec![
                client(Some(PrimaryContact {
                    name: "Ann Lee".into(),
                    email: Some("ann@contoso.example".into()),
                    phone: Some("+1 555 0100".into()),
                })),
                client(None),
            ],
        };
        assert_eq!(
            serde_json::to_value(&doc).unwrap(),
            json!({"clients": [
                {"company_id": "250", "identifier": "CONTOSO", "name": "Contoso", "status": "Active",
                 "types": ["Client"], "market": "Legal", "industry": "legal",
                 "primary_contact": {"name": "Ann Lee", "email": "ann@contoso.example", "phone": "+1 555 0100"}},
                {"company_id": "250", "identifier": "CONTOSO", "name": "Contoso", "status": "Active",
                 "types": ["Client"], "market": "Legal", "industry": "legal", "primary_contact": null}]})
        );
    }
}
