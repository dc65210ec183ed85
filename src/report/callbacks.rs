//! `callbacks register | list | remove` (docs/contract.md §6): the ConnectWise callbacks each
//! touched or saw, ours marked.

use serde::Serialize;

use super::output::Render;
use crate::text::escape as esc;

/// What happened to one callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallbackResult {
    /// `register` created it.
    Created,
    /// `register` found it already there.
    Exists,
    /// `remove` deleted it.
    Removed,
    /// `remove` found it gone already (the ledger forgot it).
    Gone,
    /// `list`.
    Listed,
}

impl CallbackResult {
    fn as_str(self) -> &'static str {
        match self {
            CallbackResult::Created => "created",
            CallbackResult::Exists => "exists",
            CallbackResult::Removed => "removed",
            CallbackResult::Gone => "already gone",
            CallbackResult::Listed => "",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CallbackRow {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub level: String,
    pub object_id: i64,
    pub url: String,
    pub inactive: bool,
    /// Registered by this tool (its URL starts with ours, or the ledger remembers it).
    pub ours: bool,
    pub result: CallbackResult,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallbacksReport {
    /// `register`, `list` or `remove`.
    pub action: &'static str,
    /// The URL given (`--url`), if any.
    pub url: Option<String>,
    pub callbacks: Vec<CallbackRow>,
}

impl Render for CallbacksReport {
    fn text(&self) -> String {
        let mut s = String::new();
        let count = |r: CallbackResult| self.callbacks.iter().filter(|c| c.result == r).count();
        match self.action {
            "register" => s.push_str(&format!(
                "Callbacks for {}: {} created, {} already there\n",
                esc(self.url.as_deref().unwrap_or("")),
                count(CallbackResult::Created),
                count(CallbackResult::Exists)
            )),
            "remove" if self.callbacks.is_empty() => {
                s.push_str("No callback of ours to remove\n");
            }
            "remove" => s.push_str(&format!(
                "Callbacks removed: {} ({} already gone)\n",
                count(CallbackResult::Removed),
                count(CallbackResult::Gone)
            )),
            _ if self.callbacks.is_empty() => s.push_str("No callbacks registered\n"),
            _ => s.push_str(&format!(
                "{} callbacks ({} ours, marked *)\n",
                self.callbacks.len(),
                self.callbacks.iter().filter(|c| c.ours).count()
            )),
        }
        for c in &self.callbacks {
            let mark = if c.ours { "*" } else { " " };
            let result = c.result.as_str();
            s.push_str(&format!(
                "{mark} {:>6}  {:<13} {}/{}  {}{}{}\n",
                c.id,
                esc(&c.kind),
                esc(&c.level),
                c.object_id,
                esc(&c.url),
                if c.inactive { "  (inactive)" } else { "" },
                if result.is_empty() {
                    String::new()
                } else {
                    format!("  {result}")
                }
            ));
        }
        s
    }
}
