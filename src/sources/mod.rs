//! The PSA sources and their registry.
//!
//! A source knows its API and nothing of Synthesize: it checks its credentials and folds
//! what it reads into a [`Tally`]. Each lives in its own folder with its client, its
//! settings (`config.rs`) and its counting rules (`rules.rs`). Adding a source is a folder
//! and one line in [`SOURCES`] (docs/ARCHITECTURE.md).

pub mod autotask;
pub mod connectwise;
pub mod field;
pub mod tally;

use futures_util::future::LocalBoxFuture;

use crate::config::{Env, HttpSettings};
use crate::error::{Result, Side};
use crate::progress::Progress;
pub use tally::{Skip, Tally};

/// A source opened with its settings, ready to read.
pub trait Source {
    /// Checks the credentials with one cheap call; says who we are connected as,
    /// e.g. "ConnectWise company 'mymsp' at https://api-na.myconnectwise.net (v2025.1)".
    fn identity(&mut self) -> LocalBoxFuture<'_, Result<String>>;

    /// Reads everything the source counts and folds it per company. All or nothing:
    /// any page that fails after its retries fails the whole read.
    fn tally<'a>(&'a mut self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Tally>>;

    /// Requests sent to the PSA so far, retries included.
    fn request_count(&self) -> u64;
}

/// What the registry knows of a source before any PSA setting is read.
pub trait SourceDef: Sync {
    /// The name on the command line, in settings and reports (`connectwise-contacts`).
    fn name(&self) -> &'static str;
    /// What it counts, in a few words (for `--help`).
    fn about(&self) -> &'static str;
    /// The PSA it reads.
    fn psa(&self) -> Side;
    /// Checks the source's settings that are present (not whether required ones are).
    fn check_settings(&self, env: &Env) -> Result<()>;
    /// The services it counts, in a stable order (needs no PSA credentials).
    fn services(&self, env: &Env) -> Result<Vec<String>>;
    /// The description of a service it creates in Synthesize.
    fn service_description(&self, service: &str) -> String;
    /// Resolves the source's settings (the required ones included) and opens it.
    fn open(&self, env: &Env, http: &HttpSettings) -> Result<Box<dyn Source>>;
}

/// A source of the registry: a cheap, copyable handle.
#[derive(Clone, Copy)]
pub struct SourceKind(&'static dyn SourceDef);

/// Every source, in the order they are listed.
pub const SOURCES: [SourceKind; 3] = [
    SourceKind(&connectwise::Contacts),
    SourceKind(&connectwise::SharedDevices),
    SourceKind(&autotask::ConfigurationItems),
];

/// Every source.
pub fn all() -> [SourceKind; 3] {
    SOURCES
}

/// The names of every source.
pub fn names() -> Vec<&'static str> {
    SOURCES.iter().map(|s| s.name()).collect()
}

/// The source of that name (surrounding spaces ignored).
pub fn by_name(name: &str) -> Option<SourceKind> {
    SOURCES.into_iter().find(|s| s.name() == name.trim())
}

impl std::ops::Deref for SourceKind {
    type Target = dyn SourceDef;
    fn deref(&self) -> &Self::Target {
        self.0
    }
}

impl PartialEq for SourceKind {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for SourceKind {}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Debug for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for SourceKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}
