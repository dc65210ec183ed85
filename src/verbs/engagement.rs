//! `engagement --days N` (docs/contract.md §3b, §5): scores every company `clients` lists
//! from its ConnectWise tickets, billable time, agreements and additions over the window, and
//! its CSAT (CrewHu, or a `--csat FILE`; absent without either, never 0). Needs only the
//! ConnectWise settings (plus CrewHu's, optionally).

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use super::clients::{connectwise, industry_map};
use crate::config::Env;
use crate::engagement::crewhu::CrewhuClient;
use crate::engagement::read::{self, Filters};
use crate::engagement::{
    ChangeKind, CompanyChange, CompanyKeys, CompanyScore, CsatOutcome, CsatTally, EngagementReport,
    MAX_CSAT_FILE_BYTES, Requests, Snapshot, Window, engagement_csv, engagement_html,
    parse_csat_csv,
};
use crate::error::{Error, Result, Side};
use crate::ledger::{self, Ledger};
use crate::report::Render;
use crate::text::{column_width, escape, pad};

/// What `engagement` was asked on the command line.
#[derive(Debug, Clone)]
pub struct EngagementArgs {
    pub days: i64,
    pub compare: bool,
    /// Whether the change since the previous snapshot is wanted at all: `--compare`, or
    /// `--output html`, which shows it.
    pub compare_wanted: bool,
    pub csat: Option<PathBuf>,
    pub filters: Filters,
}

/// The `engagement` report: exactly contract §5's document in JSON; the comparison with the
/// previous snapshot (`--compare`) is for the text output.
#[derive(Debug, Clone, Serialize)]
pub struct EngagementOutput {
    #[serde(flatten)]
    pub report: EngagementReport,
    #[serde(skip)]
    pub changes: Option<Vec<CompanyChange>>,
    /// Where the CSAT came from, for the text summary.
    #[serde(skip)]
    pub csat_source: Option<String>,
}

/// Reads, scores and returns the report; `now` is the window's end.
pub async fn engagement(env: &Env, args: &EngagementArgs, now: i64) -> Result<EngagementOutput> {
    let window = Window::new(args.days, now).map_err(|e| Error::Usage(e.0))?;
    let map = industry_map(env)?;
    // The file is read before any request, so a typo costs nothing.
    let csat_text = match &args.csat {
        Some(path) => Some(read_csat_file(path)?),
        None => None,
    };
    let crewhu = CrewhuClient::from_env(env, &crate::config::http(env)?)?;
    if crewhu.is_some() && args.csat.is_some() {
        return Err(Error::Usage(
            "CSAT comes from CrewHu (CREWHU_API_TOKEN is set) or from --csat, not both: drop one"
                .into(),
        ));
    }
    let mut cw = connectwise(env)?;
    let companies = read::companies(&mut cw, &args.filters).await?;
    let mut activities = read::activities(&mut cw, &companies, &window, crewhu.is_some()).await?;
    let mut csat_source = None;
    if let (Some(text), Some(path)) = (&csat_text, &args.csat) {
        let keys = CompanyKeys::new(
            companies
                .iter()
                .map(|c| (c.id.as_str(), c.identifier.as_str())),
        );
        let tallies: HashMap<String, CsatTally> = parse_csat_csv(text, &keys).map_err(|e| {
            Error::Usage(format!(
                "--csat {}: {}",
                escape(&path.display().to_string()),
                e.0
            ))
        })?;
        for (id, a) in activities.by_company.iter_mut() {
            a.csat = Some(tallies.get(id).copied().unwrap_or_default());
        }
        csat_source = Some(format!("--csat {}", path.display()));
    }
    if let Some(crewhu) = &crewhu {
        let keys = CompanyKeys::new(
            companies
                .iter()
                .map(|c| (c.id.as_str(), c.identifier.as_str())),
        );
        let mut outcome = CsatOutcome::default();
        crewhu
            .surveys(|s| outcome.add(&s, &window, &activities.ticket_company, &keys))
            .await?;
        if outcome.bad_rating > 0 {
            tracing::warn!(
                "{} CrewHu surveys have a rating other than 5, 0 or -5 and were left out",
                outcome.bad_rating
            );
        }
        tracing::info!(
            "CrewHu: {} surveys counted, {} unanswered, {} outside the window, {} unrated, {} not matched to a company",
            outcome.counted,
            outcome.unanswered,
            outcome.outside_window,
            outcome.unrated,
            outcome.unmatched
        );
        for (id, a) in activities.by_company.iter_mut() {
            a.csat = Some(outcome.tally(id));
        }
        csat_source = Some("CrewHu".into());
    }
    let scores: Vec<CompanyScore> = companies
        .iter()
        .map(|c| {
            let activity = activities.by_company.remove(&c.id).unwrap_or_default();
            CompanyScore::new(c.reference(), map.industry(c.market.as_deref()), &activity)
        })
        .collect();
    let mut report = EngagementReport::new(
        window,
        scores,
        Requests {
            psa: cw.request_count(),
            crewhu: crewhu.as_ref().map_or(0, CrewhuClient::request_count),
        },
    );
    // Every successful run is a snapshot; the change is measured against the previous one of
    // the same site and window length.
    let ledger = open_ledger(env)?;
    // Keyed by what makes scores comparable: the site, the companies chosen and where CSAT
    // comes from (a Prospect report, or one without CSAT, is not a Client report's baseline).
    let csat_kind = match (&args.csat, &csat_source) {
        (Some(_), _) => "file",
        (None, Some(_)) => "crewhu",
        (None, None) => "none",
    };
    let site = format!(
        "{}|{}|type={}|status={}|csat={csat_kind}",
        cw.site(),
        cw.company_id(),
        args.filters
            .company_type
            .as_deref()
            .unwrap_or("any")
            .to_lowercase(),
        args.filters
            .status
            .as_deref()
            .unwrap_or("any")
            .to_lowercase(),
    );
    let previous = match ledger.last_engagement(&site, window.days)? {
        Some(text) => match serde_json::from_str::<Snapshot>(&text) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!("the previous engagement snapshot cannot be read ({e}); ignored");
                None
            }
        },
        None => None,
    };
    let mut changes = None;
    if let Some(previous) = &previous
        && args.compare_wanted
    {
        changes = Some(report.apply_changes(previous));
    }
    if args.compare && previous.is_none() {
        tracing::info!(
            "no earlier engagement snapshot of {} days for this site: nothing to compare with yet",
            window.days
        );
    }
    let snapshot = serde_json::to_string(&Snapshot::of(&report))
        .map_err(|e| Error::api(Side::ConnectWise, format!("cannot store the snapshot: {e}")))?;
    ledger.save_engagement(&site, window.days, window.to.0, &snapshot)?;
    Ok(EngagementOutput {
        report,
        changes: changes.filter(|_| args.compare),
        csat_source,
    })
}

fn open_ledger(env: &Env) -> Result<Ledger> {
    let dir = ledger::location::state_dir(env).ok_or_else(|| {
        Error::setting(
            "SYNC_STATE_DIR",
            "not set, and no home directory to keep engagement snapshots in; set it",
        )
    })?;
    Ledger::open(&dir)
}

fn read_csat_file(path: &PathBuf) -> Result<String> {
    let shown = escape(&path.display().to_string()).into_owned();
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::Usage(format!("--csat {shown}: cannot read it ({e})")))?;
    if meta.len() > MAX_CSAT_FILE_BYTES as u64 {
        return Err(Error::Usage(format!(
            "--csat {shown}: {} bytes; the most accepted is {MAX_CSAT_FILE_BYTES}",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Usage(format!("--csat {shown}: cannot read it ({e})")))?;
    String::from_utf8(bytes).map_err(|_| Error::Usage(format!("--csat {shown}: not UTF-8 text")))
}

fn dash<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "—".into())
}

impl Render for EngagementOutput {
    /// One row per company, by overall score, lowest first (the clients who need attention),
    /// as in the JSON.
    fn text(&self) -> String {
        let r = &self.report;
        let companies = &r.companies;
        let headers = [
            "ID",
            "NAME",
            "INDUSTRY",
            "OVERALL",
            "BAND",
            "CHANGE",
            "HELP DESK",
            "FIRST TOUCH",
            "CSAT",
            "PROJECT HOURS",
            "PROCUREMENT",
        ];
        let rows: Vec<Vec<String>> = companies
            .iter()
            .map(|c| {
                let m = &c.metrics;
                vec![
                    c.company_id.clone(),
                    c.name.clone(),
                    c.industry.name().to_string(),
                    c.overall.to_string(),
                    c.band.name().to_string(),
                    dash(c.change.map(|ch| format!("{:+}", ch.delta))),
                    // Each metric: its raw figure → its score (0-5).
                    format!("{} → {}", m.help_desk_usage.raw, m.help_desk_usage.score),
                    format!(
                        "{} of {} → {}",
                        m.first_touch_resolution.raw,
                        m.first_touch_resolution.tickets,
                        m.first_touch_resolution.score
                    ),
                    dash(
                        m.support_satisfaction
                            .map(|s| format!("{:.0}% → {}", s.raw * 100.0, s.score)),
                    ),
                    format!(
                        "{} h → {}",
                        m.project_engagement.raw, m.project_engagement.score
                    ),
                    format!("{} → {}", m.procurement.raw, m.procurement.score),
                ]
            })
            .collect();
        let widths: Vec<usize> = (0..headers.len())
            .map(|i| column_width(rows.iter().map(|r| r[i].as_str()), headers[i], 40))
            .collect();
        let line = |cells: &[&str]| {
            let mut s = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| pad(c, *w))
                .collect::<Vec<_>>()
                .join("  ");
            s.truncate(s.trim_end().len());
            s.push('\n');
            s
        };
        let mut out = String::from(
            "Each metric: its figure → its score (0-5); overall 0-100 over the metrics present; — = none (no CSAT source or rated survey; no earlier snapshot)\n\n",
        );
        out.push_str(&line(&headers));
        for row in &rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            out.push_str(&line(&cells));
        }
        if let Some(changes) = &self.changes {
            out.push_str(&format!(
                "\nChanges since {} (biggest drops first):\n",
                dash(r.previous_as_of)
            ));
            let unchanged = changes
                .iter()
                .filter(|c| c.kind == ChangeKind::Scored && c.delta == Some(0))
                .count();
            for c in changes
                .iter()
                .filter(|c| !(c.kind == ChangeKind::Scored && c.delta == Some(0)))
            {
                let what = match c.kind {
                    ChangeKind::Scored => format!(
                        "{:+}  {} → {}",
                        c.delta.unwrap_or(0),
                        dash(c.previous),
                        dash(c.overall)
                    ),
                    ChangeKind::New => format!("new  {}", dash(c.overall)),
                    ChangeKind::Vanished => format!("gone (was {})", dash(c.previous)),
                };
                out.push_str(&format!(
                    "  {}  {}  {what}\n",
                    c.company_id,
                    escape(&c.name)
                ));
            }
            if unchanged > 0 {
                out.push_str(&format!(
                    "  ({unchanged} compan{} unchanged)\n",
                    if unchanged == 1 { "y" } else { "ies" }
                ));
            }
        }
        let n = r.companies.len();
        out.push_str(&format!(
            "\n{n} compan{} scored over {} days ({} to {}); CSAT: {}; {} ConnectWise request{}, {} CrewHu\n",
            if n == 1 { "y" } else { "ies" },
            r.window.days,
            r.window.from,
            r.window.to,
            self.csat_source.as_deref().unwrap_or("none (support_satisfaction left out)"),
            r.requests.psa,
            if r.requests.psa == 1 { "" } else { "s" },
            r.requests.crewhu,
        ));
        out
    }

    fn csv(&self) -> Option<String> {
        Some(engagement_csv(&self.report))
    }

    fn html(&self) -> Option<String> {
        Some(engagement_html(&self.report))
    }
}
