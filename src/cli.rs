//! The command line (docs/contract.md §1): clap's types, kept out of the library. `main`
//! turns them into the library's own (`SourceKind`, `WriteFlags`, `IntegrationStatus`).

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use synthesize_sync::config::OutputFormat;
use synthesize_sync::gradient::IntegrationStatus;
use synthesize_sync::sources::{self, SourceKind};
use synthesize_sync::verbs::{Allowances, WriteFlags};

/// `--source`: one of the registry's names (`synthesize-sync --help` lists them).
fn source_parser() -> impl clap::builder::TypedValueParser<Value = SourceKind> {
    let values = sources::all()
        .iter()
        .map(|s| clap::builder::PossibleValue::new(s.name()).help(s.about()));
    clap::builder::PossibleValuesParser::new(values).try_map(|name: String| {
        sources::by_name(&name).ok_or_else(|| format!("unknown source '{name}'"))
    })
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    Text,
    Json,
    /// For the lists of `history`, `clients` and `engagement`
    Csv,
    /// One self-contained page, for `engagement`
    Html,
}

impl From<OutputArg> for OutputFormat {
    fn from(a: OutputArg) -> Self {
        match a {
            OutputArg::Text => OutputFormat::Text,
            OutputArg::Json => OutputFormat::Json,
            OutputArg::Csv => OutputFormat::Csv,
            OutputArg::Html => OutputFormat::Html,
        }
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

/// The integration statuses a user may set (docs/apis.md §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    Pending,
    Active,
    Inactive,
}

impl From<StatusArg> for IntegrationStatus {
    fn from(a: StatusArg) -> Self {
        match a {
            StatusArg::Pending => IntegrationStatus::Pending,
            StatusArg::Active => IntegrationStatus::Active,
            StatusArg::Inactive => IntegrationStatus::Inactive,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "synthesize-sync",
    version,
    about = "Keep Gradient Synthesize unit counts true to what your PSA says you manage.",
    long_about = "Reads what an MSP manages from ConnectWise PSA or Autotask PSA and sets the unit \
                  counts in Gradient MSP's Synthesize billing reconciliation.\n\n\
                  Try it with no credentials at all:  synthesize-sync demo",
    after_help = "Settings come from the environment or a .env file; see .env.sample and the README.\n\
                  Exit codes: 0 done, 1 runtime failure, 2 usage or settings error, 3 credentials refused, \
                  4 refused by the all-zero guard, 5 refused by the drop guard, 6 another run holds the \
                  lock, 8 changes pending (--dry-run --detailed-exitcode)."
)]
pub struct Cli {
    /// Which PSA data to count [env: SYNC_SOURCE]
    #[arg(long, global = true, value_parser = source_parser())]
    pub source: Option<SourceKind>,

    /// Read settings from this file instead of ./.env (real environment variables win)
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// Output format on stdout [env: SYNC_OUTPUT] [default: text]
    #[arg(long, global = true, value_enum)]
    pub output: Option<OutputArg>,

    /// Colour in text output [default: auto: on a terminal, unless NO_COLOR is set]
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        hide_default_value = true
    )]
    pub color: ColorArg,

    /// More log detail on stderr (-v debug, -vv trace); RUST_LOG also works
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub verb: Verb,
}

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Check the PSA credentials and the Gradient tokens; print who you are connected as
    Authenticate,
    /// Create missing Synthesize accounts for PSA companies with counted items; rename changed ones
    SyncAccounts(WriteArgs),
    /// Create the source's services that are missing from the vendor's services
    SyncServices(WriteArgs),
    /// Set the integration status (default: pending)
    UpdateStatus {
        #[arg(value_enum, default_value = "pending")]
        status: StatusArg,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Compute every count and set it in Synthesize
    SyncUsage(UsageArgs),
    /// sync-accounts, sync-services, then sync-usage: the scheduled job
    Run(UsageArgs),
    /// Set a service these settings no longer count to 0 for every account, so billing for it stops
    RetireService {
        /// The service's name in Synthesize
        name: String,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// A go/no-go checklist for a source: settings, both sides' credentials, types, services,
    /// accounts, foreign services, the ledger, the lock, the last run, unmapped pairs
    Doctor,
    /// List the ConnectWise companies served, with industry (from the market) and primary contact
    Clients(CompanyArgs),
    /// Score client engagement per company over the last N days (tickets, first-touch
    /// resolution, CSAT, billable hours, procurement); --output text|json|csv|html
    Engagement(EngagementCliArgs),
    /// The run ledger: recent runs, one run's pairs (show RUN), what changed (diff [RUN_A RUN_B])
    History(HistoryArgs),
    /// Serve ConnectWise callbacks and run sync-usage (debounced) when data changes
    Listen(ListenArgs),
    /// ConnectWise callbacks: register (idempotent), list (ours marked), remove (ours only)
    Callbacks {
        #[command(subcommand)]
        action: CallbacksCommand,
    },
    /// Run the whole lifecycle of every source against a built-in sandbox (no credentials, no network)
    #[cfg(feature = "sandbox")]
    Demo,
    /// Serve the sandbox APIs in the foreground and print the settings to paste
    #[cfg(feature = "sandbox")]
    Sandbox(SandboxArgs),
}

#[derive(Debug, Clone, Copy, Default, Args)]
pub struct WriteArgs {
    /// Do every read, compute and print the plan, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Let this source write to a Synthesize integration another source has written to
    #[arg(long)]
    pub rebind: bool,
}

impl From<WriteArgs> for WriteFlags {
    fn from(w: WriteArgs) -> Self {
        WriteFlags {
            dry_run: w.dry_run,
            guards: Allowances::default(),
            rebind: w.rebind,
        }
    }
}

impl From<UsageArgs> for WriteFlags {
    fn from(u: UsageArgs) -> Self {
        WriteFlags {
            dry_run: u.write.dry_run,
            rebind: u.write.rebind,
            guards: Allowances {
                all_zero: u.allow_all_zero,
                drop: u.allow_drop,
                max_drop_percent: u.max_drop,
                max_zeroed: u.max_zeroed,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, Args)]
pub struct UsageArgs {
    #[command(flatten)]
    pub write: WriteArgs,
    /// Write even when every count would be 0 (normally refused with exit code 4)
    #[arg(long)]
    pub allow_all_zero: bool,
    /// Refuse (exit 5) when a service's total would fall by more than this, in percent,
    /// against the last successful run
    #[arg(long, value_name = "PERCENT", default_value_t = 20.0, value_parser = percent)]
    pub max_drop: f64,
    /// Refuse (exit 5) when more than this many accounts would go from a positive count to 0
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_zeroed: usize,
    /// Write even when the drop guard would refuse (a flag only, never a setting)
    #[arg(long)]
    pub allow_drop: bool,
    /// With --dry-run: exit 8 when something would change against the last successful run, 0
    /// when nothing would
    #[arg(long, requires = "dry_run")]
    pub detailed_exitcode: bool,
}

fn percent(text: &str) -> Result<f64, String> {
    match text.trim().trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err("give a percentage from 0 to 100".into()),
    }
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
    /// How many runs to list
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

#[derive(Debug, Clone, Subcommand)]
pub enum HistoryAction {
    /// One run and its pairs
    Show {
        /// The run's number (see `history`)
        run: i64,
    },
    /// What changed between two runs (default: the last two successful ones of the source
    /// and integration)
    Diff {
        /// The older run
        run_a: Option<i64>,
        /// The newer run
        #[arg(requires = "run_a")]
        run_b: Option<i64>,
    },
}

impl HistoryAction {
    /// Two run numbers or none: one alone is a usage error.
    pub fn diff_runs(run_a: Option<i64>, run_b: Option<i64>) -> Result<Option<(i64, i64)>, String> {
        match (run_a, run_b) {
            (None, None) => Ok(None),
            (Some(a), Some(b)) => Ok(Some((a, b))),
            _ => Err("history diff takes two run numbers, or none".into()),
        }
    }
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Port of the simulated Gradient API (0 picks a free one)
    #[arg(long, default_value_t = 8710)]
    pub gradient_port: u16,
    /// Port of the simulated ConnectWise API (0 picks a free one)
    #[arg(long, default_value_t = 8711)]
    pub connectwise_port: u16,
    /// Port of the simulated Autotask API (0 picks a free one)
    #[arg(long, default_value_t = 8712)]
    pub autotask_port: u16,
}

/// Which ConnectWise companies `clients` and `engagement` cover.
#[derive(Debug, Clone, Args)]
pub struct CompanyArgs {
    /// Only companies with this type in their types (`any` for every type)
    #[arg(long = "type", value_name = "TYPE", default_value = "Client")]
    pub company_type: String,
    /// Only companies with this status (`any` for every status)
    #[arg(long, value_name = "STATUS", default_value = "Active")]
    pub status: String,
}

#[derive(Debug, Clone, Args)]
pub struct EngagementCliArgs {
    /// The window: the last N days, up to now (1 to 365)
    #[arg(long, value_name = "N")]
    pub days: i64,
    /// Show each company's change since the previous snapshot of the same window, biggest
    /// drops first
    #[arg(long)]
    pub compare: bool,
    /// Survey counts per company from a CSV file (company,positive,neutral,negative), when
    /// CSAT is not in CrewHu
    #[arg(long, value_name = "FILE")]
    pub csat: Option<PathBuf>,
    #[command(flatten)]
    pub companies: CompanyArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum CallbacksCommand {
    /// Register the callbacks the source needs (level owner), creating only missing ones
    Register {
        /// Where ConnectWise posts (listen's public URL, e.g. https://sync.example.com/connectwise/callback)
        #[arg(long)]
        url: String,
    },
    /// Every callback on the site, ours marked
    List,
    /// Remove ours: those whose URL starts with --url, or without it, those the ledger remembers
    Remove {
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ListenArgs {
    /// Where to listen, HOST:PORT (behind a TLS reverse proxy or a tunnel)
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: String,
    /// The path ConnectWise posts to
    #[arg(long, default_value = "/connectwise/callback")]
    pub path: String,
    /// Quiet seconds after the last callback before syncing
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub debounce: u64,
    /// The window of the engagement snapshot taken after ticket, agreement or company changes
    #[arg(long, value_name = "N", default_value_t = 90)]
    pub engagement_days: i64,
}
