//! The reports of `history`: the runs, one run's pairs, what changed between two runs.
//! Text, JSON, and CSV for the lists.

use std::collections::BTreeMap;

use serde::Serialize;

use super::output::Render;
use crate::ledger::{Change, Pair, Run};
use crate::text::{column_width, csv_field, escape as esc, pad, plural, utc};

/// A run as `history` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunLine {
    #[serde(flatten)]
    pub run: Run,
    pub started: String,
    /// Whether it is the integration of the configured Gradient tokens.
    pub current_integration: bool,
}

/// `history`: recent runs.
#[derive(Debug, Serialize)]
pub struct HistoryReport {
    pub state_dir: String,
    pub runs: Vec<RunLine>,
    /// Pairs unmapped in the last successful run of the current source and integration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmapped: Option<Unmapped>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unmapped {
    pub pairs: usize,
    /// Since when the oldest of them has been unmapped (RFC 3339), when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

fn status_cell(r: &RunLine) -> String {
    let mut s = format!("{:?}", r.run.status).to_lowercase();
    if r.run.dry_run {
        s.push_str(" (dry run)");
    }
    s
}

impl Render for HistoryReport {
    fn text(&self) -> String {
        if self.runs.is_empty() {
            return format!("no runs recorded in {} yet\n", self.state_dir);
        }
        let verb_w = column_width(self.runs.iter().map(|r| r.run.verb.as_str()), "VERB", 40);
        let source_w = column_width(
            self.runs.iter().map(|r| r.run.source.as_str()),
            "SOURCE",
            40,
        );
        let statuses: Vec<String> = self.runs.iter().map(status_cell).collect();
        let status_w = column_width(statuses.iter().map(String::as_str), "STATUS", 40);
        let mut s = format!(
            "  {:>5}  {:<20}  {}  {}  {}  EXIT  INTEGRATION (ORGANIZATION)\n",
            "RUN",
            "STARTED (UTC)",
            pad("VERB", verb_w),
            pad("SOURCE", source_w),
            pad("STATUS", status_w),
        );
        for r in &self.runs {
            s.push_str(&format!(
                "{} {:>5}  {:<20}  {}  {}  {}  {:>4}  {} ({})\n",
                if r.current_integration { "*" } else { " " },
                r.run.id,
                r.started,
                pad(&r.run.verb, verb_w),
                pad(&r.run.source, source_w),
                pad(&status_cell(r), status_w),
                r.run
                    .exit_code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into()),
                r.run.integration,
                esc(r.run.organization_name.as_deref().unwrap_or("?")),
            ));
        }
        if self.runs.iter().any(|r| r.current_integration) {
            s.push_str("* the integration of the configured Gradient tokens\n");
        }
        if let Some(u) = &self.unmapped {
            match &u.since {
                Some(since) if u.pairs > 0 => s.push_str(&format!(
                    "{} unmapped in the last successful run; the oldest since {since}\n",
                    plural(u.pairs as u64, "pair")
                )),
                _ => s.push_str("no pair was unmapped in the last successful run\n"),
            }
        }
        s
    }

    fn csv(&self) -> Option<String> {
        let mut s = String::from(
            "run,started,ended,verb,source,dry_run,status,exit_code,integration,current,organization_id,organization_name,requests_psa,requests_gradient\n",
        );
        for r in &self.runs {
            let row = [
                r.run.id.to_string(),
                r.started.clone(),
                r.run.ended_at.map(utc).unwrap_or_default(),
                csv_field(&r.run.verb),
                csv_field(&r.run.source),
                r.run.dry_run.to_string(),
                format!("{:?}", r.run.status).to_lowercase(),
                r.run.exit_code.map(|c| c.to_string()).unwrap_or_default(),
                csv_field(&r.run.integration),
                r.current_integration.to_string(),
                csv_field(r.run.organization_id.as_deref().unwrap_or_default()),
                csv_field(r.run.organization_name.as_deref().unwrap_or_default()),
                r.run
                    .requests_psa
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                r.run
                    .requests_gradient
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            ];
            s.push_str(&row.join(","));
            s.push('\n');
        }
        Some(s)
    }
}

/// `history show RUN`: one run and its pairs.
#[derive(Debug, Serialize)]
pub struct RunDetail {
    pub run: RunLine,
    pub changes: Vec<Change>,
    pub pairs: Vec<Pair>,
}

impl Render for RunDetail {
    fn text(&self) -> String {
        let r = &self.run.run;
        let mut s = format!(
            "run {}: {} {}{}, started {}, {}{}\n",
            r.id,
            r.verb,
            r.source,
            if r.dry_run { " (dry run)" } else { "" },
            self.run.started,
            status_cell(&self.run),
            r.exit_code
                .map(|c| format!(", exit {c}"))
                .unwrap_or_default()
        );
        if let Some(e) = &r.error {
            s.push_str(&format!("error: {}\n", esc(e)));
        }
        for c in &self.changes {
            match &c.before {
                Some(before) => s.push_str(&format!(
                    "  {}: {} ({} -> {})\n",
                    c.kind,
                    esc(&c.id),
                    esc(before),
                    esc(&c.name)
                )),
                None if c.id.is_empty() => s.push_str(&format!("  {}: {}\n", c.kind, esc(&c.name))),
                None => s.push_str(&format!("  {}: {} {}\n", c.kind, esc(&c.id), esc(&c.name))),
            }
        }
        let name_w = column_width(
            self.pairs.iter().map(|p| p.account_name.as_str()),
            "ACCOUNT",
            40,
        );
        let svc_w = column_width(self.pairs.iter().map(|p| p.service.as_str()), "SERVICE", 40);
        let id_w = column_width(
            self.pairs.iter().map(|p| p.account_id.as_str()),
            "ACCOUNT ID",
            24,
        );
        if !self.pairs.is_empty() {
            s.push_str(&format!(
                "{}  {}  {}  {:>6}  RESULT\n",
                pad("ACCOUNT ID", id_w),
                pad("ACCOUNT", name_w),
                pad("SERVICE", svc_w),
                "COUNT"
            ));
        }
        for p in &self.pairs {
            s.push_str(&format!(
                "{}  {}  {}  {:>6}  {}\n",
                pad(&p.account_id, id_w),
                pad(&p.account_name, name_w),
                pad(&p.service, svc_w),
                p.count,
                match &p.message {
                    Some(m) if p.result == "failed" => format!("failed: {}", esc(m)),
                    _ => p.result.clone(),
                }
            ));
        }
        s.push_str(&format!(
            "{} recorded\n",
            plural(self.pairs.len() as u64, "pair")
        ));
        s
    }

    fn csv(&self) -> Option<String> {
        let mut s = String::from("run,account_id,account_name,service,count,result,message\n");
        for p in &self.pairs {
            s.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                self.run.run.id,
                csv_field(&p.account_id),
                csv_field(&p.account_name),
                csv_field(&p.service),
                p.count,
                p.result,
                csv_field(p.message.as_deref().unwrap_or_default())
            ));
        }
        Some(s)
    }
}

/// One pair in a diff.
#[derive(Debug, Clone, Serialize)]
pub struct DiffLine {
    pub account_id: String,
    pub account_name: String,
    pub service: String,
    /// `null` when the pair is not in that run.
    pub before: Option<u64>,
    pub after: Option<u64>,
}

/// A service's totals in both runs.
#[derive(Debug, Clone, Serialize)]
pub struct DiffTotal {
    pub service: String,
    pub before: u64,
    pub after: u64,
}

/// `history diff A B`: what changed from run A to run B.
#[derive(Debug, Serialize)]
pub struct DiffReport {
    pub from: RunLine,
    pub to: RunLine,
    /// Pairs whose count differs, appeared or vanished.
    pub changed: Vec<DiffLine>,
    pub totals: Vec<DiffTotal>,
    /// Accounts in B but not in A, and in A but not in B (by id).
    pub accounts_appeared: Vec<String>,
    pub accounts_vanished: Vec<String>,
}

impl DiffReport {
    /// Compares the pairs of two runs.
    pub fn of(from: RunLine, a: &[Pair], to: RunLine, b: &[Pair]) -> DiffReport {
        type Key = (String, String);
        fn index(pairs: &[Pair]) -> BTreeMap<Key, &Pair> {
            pairs
                .iter()
                .map(|p| ((p.account_id.clone(), p.service.clone()), p))
                .collect()
        }
        let (ia, ib) = (index(a), index(b));
        let mut keys: Vec<&Key> = ia.keys().chain(ib.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut changed = Vec::new();
        let mut totals: Vec<DiffTotal> = Vec::new();
        for key in keys {
            let (pa, pb) = (ia.get(key), ib.get(key));
            let (before, after) = (pa.map(|p| p.count), pb.map(|p| p.count));
            let service = &key.1;
            let t = match totals.iter_mut().find(|t| &t.service == service) {
                Some(t) => t,
                None => {
                    totals.push(DiffTotal {
                        service: service.clone(),
                        before: 0,
                        after: 0,
                    });
                    totals.last_mut().expect("just pushed")
                }
            };
            t.before += before.unwrap_or(0);
            t.after += after.unwrap_or(0);
            if before != after {
                let name = pb
                    .or(pa)
                    .map(|p| p.account_name.clone())
                    .unwrap_or_default();
                changed.push(DiffLine {
                    account_id: key.0.clone(),
                    account_name: name,
                    service: service.clone(),
                    before,
                    after,
                });
            }
        }
        let accounts = |pairs: &[Pair]| -> std::collections::BTreeSet<String> {
            pairs.iter().map(|p| p.account_id.clone()).collect()
        };
        let (aa, ab) = (accounts(a), accounts(b));
        DiffReport {
            from,
            to,
            changed,
            totals,
            accounts_appeared: ab.difference(&aa).cloned().collect(),
            accounts_vanished: aa.difference(&ab).cloned().collect(),
        }
    }
}

fn cell(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_else(|| "-".into())
}

impl Render for DiffReport {
    fn text(&self) -> String {
        let mut s = format!(
            "from run {} ({}) to run {} ({}), {}: {}\n",
            self.from.run.id,
            self.from.started,
            self.to.run.id,
            self.to.started,
            self.to.run.source,
            if self.changed.is_empty() {
                "no pair changed".to_string()
            } else {
                format!("{} changed", plural(self.changed.len() as u64, "pair"))
            }
        );
        let name_w = column_width(
            self.changed.iter().map(|p| p.account_name.as_str()),
            "ACCOUNT",
            40,
        );
        let svc_w = column_width(
            self.changed.iter().map(|p| p.service.as_str()),
            "SERVICE",
            40,
        );
        if !self.changed.is_empty() {
            s.push_str(&format!(
                "  {:<10}  {}  {}  {:>6}  {:>6}\n",
                "ACCOUNT ID",
                pad("ACCOUNT", name_w),
                pad("SERVICE", svc_w),
                "BEFORE",
                "AFTER"
            ));
        }
        for d in &self.changed {
            s.push_str(&format!(
                "  {:<10}  {}  {}  {:>6}  {:>6}\n",
                esc(&d.account_id),
                pad(&d.account_name, name_w),
                pad(&d.service, svc_w),
                cell(d.before),
                cell(d.after)
            ));
        }
        for t in &self.totals {
            let delta = t.after as i64 - t.before as i64;
            s.push_str(&format!(
                "total {}: {} → {} ({delta:+})\n",
                esc(&t.service),
                t.before,
                t.after
            ));
        }
        if !self.accounts_appeared.is_empty() {
            s.push_str(&format!(
                "accounts that appeared: {}\n",
                esc(&self.accounts_appeared.join(", "))
            ));
        }
        if !self.accounts_vanished.is_empty() {
            s.push_str(&format!(
                "accounts that vanished: {}\n",
                esc(&self.accounts_vanished.join(", "))
            ));
        }
        s
    }

    fn csv(&self) -> Option<String> {
        let mut s = String::from("account_id,account_name,service,before,after\n");
        for d in &self.changed {
            s.push_str(&format!(
                "{},{},{},{},{}\n",
                csv_field(&d.account_id),
                csv_field(&d.account_name),
                csv_field(&d.service),
                d.before.map(|n| n.to_string()).unwrap_or_default(),
                d.after.map(|n| n.to_string()).unwrap_or_default()
            ));
        }
        Some(s)
    }
}
