//! `doctor`'s report: one go/no-go checklist for a source.

use serde::Serialize;

use super::output::Render;
use crate::sources::SourceKind;
use crate::text::escape as esc;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    /// Not checked, because an earlier check it needs failed.
    Skipped,
}

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do, when something is to be done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// `doctor`.
#[derive(Debug, Serialize)]
pub struct DoctorReport {
    pub source: Option<SourceKind>,
    pub checks: Vec<Check>,
    /// No check failed.
    pub ok: bool,
}

impl Render for DoctorReport {
    fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.checks {
            let mark = match c.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
                Status::Skipped => "skip",
            };
            s.push_str(&format!("{mark}  {:<22} {}\n", c.check, esc(&c.detail)));
            if let Some(fix) = &c.fix {
                s.push_str(&format!("      {:<22} → {}\n", "", esc(fix)));
            }
        }
        let fails = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count();
        let warns = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Warn)
            .count();
        s.push_str(&match (fails, warns) {
            (0, 0) => "all good: go\n".to_string(),
            (0, w) => format!("go, with {w} warning(s) above\n"),
            (f, _) => format!("no go: {f} check(s) failed; fix them and run doctor again\n"),
        });
        s
    }
}
