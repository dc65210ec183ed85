//! Command-line interface (contract §1).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::gradient::IntegrationStatus;
use crate::settings::{OutputFormat, SourceKind};

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
                  4 refused by a safety guard."
)]
pub struct Cli {
    /// Which PSA data to count [env: SYNC_SOURCE]
    #[arg(long, global = true, value_enum)]
    pub source: Option<SourceKind>,

    /// Read settings from this file instead of ./.env (real environment variables win)
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// Output format on stdout [env: SYNC_OUTPUT] [default: text]
    #[arg(long, global = true, value_enum)]
    pub output: Option<OutputFormat>,

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
        status: IntegrationStatus,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Compute every count and set it in Synthesize
    SyncUsage(UsageArgs),
    /// sync-accounts, sync-services, then sync-usage: the scheduled job
    Run(UsageArgs),
    /// Run the whole lifecycle of every source against a built-in sandbox (no credentials, no network)
    Demo,
    /// Serve the sandbox APIs in the foreground and print the settings to paste
    Sandbox(SandboxArgs),
}

#[derive(Debug, Clone, Copy, Default, Args)]
pub struct WriteArgs {
    /// Do every read, compute and print the plan, write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, Default, Args)]
pub struct UsageArgs {
    #[command(flatten)]
    pub write: WriteArgs,
    /// Write even when every count would be 0 (normally refused with exit code 4)
    #[arg(long)]
    pub allow_all_zero: bool,
}

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
