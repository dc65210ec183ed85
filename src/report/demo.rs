//! The demo's report: each source's lifecycle, verb by verb.

use serde::Serialize;

use super::output::Render;
use super::verbs::{AccountsReport, AuthReport, ServicesReport, StatusReport, UsageReport};
use crate::sources::SourceKind;

/// One source's lifecycle in the demo.
#[derive(Debug, Serialize)]
pub struct DemoSource {
    pub source: SourceKind,
    pub authenticate: AuthReport,
    pub sync_accounts: AccountsReport,
    pub sync_services: ServicesReport,
    pub update_status: StatusReport,
    /// Accounts the sandbox partner left unmapped: their counts come back "unmapped".
    pub left_unmapped: Vec<String>,
    pub sync_usage: UsageReport,
    /// A change in the PSA, and the next sync-usage: each pair as `previous → new`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<DemoNextRun>,
}

/// The demo's second run of one source.
#[derive(Debug, Serialize)]
pub struct DemoNextRun {
    /// What changed in the PSA.
    pub change: String,
    pub sync_usage: UsageReport,
}

#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub sources: Vec<DemoSource>,
    /// `engagement --days 90` over the ConnectWise sample (its JSON document).
    pub engagement: serde_json::Value,
    /// The same, as its text table.
    #[serde(skip)]
    pub engagement_text: String,
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect()
}

impl Render for DemoReport {
    fn text(&self) -> String {
        let mut s = String::from(
            "synthesize-sync demo: a sample MSP in simulated Gradient, ConnectWise and Autotask APIs\n\
             (all on this machine; no credentials, nothing sent anywhere)\n",
        );
        for d in &self.sources {
            let cmd = |verb: &str| format!("\n  $ synthesize-sync --source {} {verb}\n", d.source);
            s.push_str(&format!("\n=== {} ===\n", d.source));
            s.push_str(&cmd("authenticate"));
            s.push_str(&indent(&d.authenticate.text()));
            s.push_str(&cmd("sync-accounts"));
            s.push_str(&indent(&d.sync_accounts.text()));
            s.push_str(&cmd("sync-services"));
            s.push_str(&indent(&d.sync_services.text()));
            s.push_str(&cmd("update-status"));
            s.push_str(&indent(&d.update_status.text()));
            s.push_str(&format!(
                "\n  (in Synthesize, the partner maps every service and all accounts but {})\n",
                if d.left_unmapped.is_empty() {
                    "none".to_string()
                } else {
                    d.left_unmapped.join(", ")
                }
            ));
            s.push_str(&cmd("sync-usage"));
            s.push_str(&indent(&d.sync_usage.text()));
            if let Some(next) = &d.next {
                s.push_str(&format!("\n  ({})\n", next.change));
                s.push_str(&cmd("sync-usage"));
                s.push_str(&indent(&next.sync_usage.text()));
            }
        }
        s.push_str("\n=== client engagement (ConnectWise) ===\n");
        s.push_str("\n  $ synthesize-sync engagement --days 90\n");
        s.push_str(&indent(&self.engagement_text));
        s.push_str(
            "\nNext: `synthesize-sync sandbox` serves these APIs so you can run each verb yourself;\n\
             the README shows how to connect your real ConnectWise or Autotask and Synthesize.\n",
        );
        s
    }
}
