//! The errors a run can end with, and the exit code each maps to (README "Exit codes").

use std::fmt;

/// Which side of the sync an error concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Synthesize,
    ConnectWise,
    Autotask,
    /// The CSAT source of `engagement` (docs/apis.md §5b).
    CrewHu,
}

impl Side {
    /// A short name for JSON documents.
    pub fn key(self) -> &'static str {
        match self {
            Side::Synthesize => "synthesize",
            Side::ConnectWise => "connectwise",
            Side::Autotask => "autotask",
            Side::CrewHu => "crewhu",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Synthesize => "Synthesize (Gradient)",
            Side::ConnectWise => "ConnectWise PSA",
            Side::Autotask => "Autotask PSA",
            Side::CrewHu => "CrewHu",
        })
    }
}

/// Everything that can end a run early. Each message is one line that says what is wrong
/// and what to do; none ever contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A missing or malformed setting (exit 2).
    #[error("{variable}: {problem}")]
    Setting { variable: String, problem: String },

    /// A usage problem the argument parser could not catch (exit 2).
    #[error("{0}")]
    Usage(String),

    /// Gradient answered 403 "anomaly with your API usage" (exit 1): nothing more may be sent.
    #[error(
        "Synthesize (Gradient) answered HTTP 403 while {what}: it flagged this integration's API \
         usage as an anomaly; stop and contact Gradient support (support@usegradient.com)"
    )]
    Flagged { what: String },

    /// Credentials refused (exit 3).
    #[error("{side} refused the credentials ({detail}); {hint}")]
    Auth {
        side: Side,
        detail: String,
        hint: String,
    },

    /// An API failed after its retries, or answered something we could not understand (exit 1).
    #[error("{side}: {message}")]
    Api { side: Side, message: String },

    /// Some count writes failed; the others were attempted (exit 1). The report lists them.
    #[error(
        "{failed} of {total} pairs were not written (listed above); fix what they say, then run \
         again (re-running is safe)"
    )]
    WritesFailed { failed: usize, total: usize },

    /// Gradient answered 403 to a count write: it flagged this integration's API usage
    /// (docs/apis.md §1.5). Writing stopped at once; the report lists what was not attempted
    /// (exit 1).
    #[error(
        "Synthesize (Gradient) answered HTTP 403 to a count write: it flagged this integration's \
         API usage as an anomaly, so writing stopped at once ({failed} of {total} pairs not \
         written, listed above); do not re-run: contact Gradient support (support@usegradient.com) first"
    )]
    WritesHalted { failed: usize, total: usize },

    /// The all-zero guard refused the run (exit 4).
    #[error("refused: {0}")]
    Guard(String),

    /// A check failed, as the report already printed says (exit `code`).
    #[error("{message}")]
    Reported { code: u8, message: String },

    /// Interrupted by SIGINT (exit 130) or SIGTERM (exit 143). Before any write, nothing was
    /// written; during the writes, the report lists what was and was not.
    #[error(
        "interrupted ({}): {}; run again to complete it (re-running is safe)",
        if *code == 143 { "SIGTERM" } else { "SIGINT" },
        if *reported {
            "the writes in flight were finished and recorded, the rest not sent (listed above)"
        } else {
            "nothing was written"
        }
    )]
    Interrupted {
        code: u8,
        /// Whether the run's report (with what was and was not sent) was printed.
        reported: bool,
    },

    /// The run was done, but the run ledger could not record all of it (exit 1). The report
    /// was printed.
    #[error(
        "the run ledger could not record all of this run (see the log above); the counts in the \
         report were written; check SYNC_STATE_DIR (disk space, another program holding the ledger)"
    )]
    RecordIncomplete,

    /// The drop guard refused the run (exit 5).
    #[error("refused: {0}")]
    Drop(String),

    /// Not enough of the Autotask tenant's hourly request budget to start (exit 7).
    #[error("refused: {0}")]
    Budget(String),

    /// Another run holds this integration's lock (exit 6).
    #[error("{0}")]
    Locked(String),

    /// A local problem: a file that cannot be read, a port that cannot be bound (exit 1).
    #[error("{0}")]
    Local(String),
}

impl Error {
    pub fn setting(variable: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::Setting {
            variable: variable.into(),
            problem: problem.into(),
        }
    }

    /// The API an error concerns, when it concerns one.
    pub fn side(&self) -> Option<Side> {
        match self {
            Error::Auth { side, .. } | Error::Api { side, .. } => Some(*side),
            Error::Flagged { .. } | Error::WritesHalted { .. } => Some(Side::Synthesize),
            Error::Budget(_) => Some(Side::Autotask),
            _ => None,
        }
    }

    /// For a refused run's JSON document: which guard, and why.
    pub fn refusal(&self) -> Option<(&'static str, &str)> {
        match self {
            Error::Guard(why) => Some(("all_zero", why)),
            Error::Drop(why) => Some(("drop", why)),
            Error::Budget(why) => Some(("autotask_budget", why)),
            _ => None,
        }
    }

    pub fn api(side: Side, message: impl Into<String>) -> Self {
        Error::Api {
            side,
            message: message.into(),
        }
    }

    /// The process exit code (docs/contract.md §4).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Setting { .. } | Error::Usage(_) => 2,
            Error::Auth { .. } => 3,
            Error::Interrupted { code, .. } | Error::Reported { code, .. } => *code,
            Error::Guard(_) => 4,
            Error::Drop(_) => 5,
            Error::Locked(_) => 6,
            Error::Budget(_) => 7,
            Error::Api { .. }
            | Error::Flagged { .. }
            | Error::WritesFailed { .. }
            | Error::WritesHalted { .. }
            | Error::RecordIncomplete
            | Error::Local(_) => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
