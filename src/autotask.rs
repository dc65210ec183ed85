//! Autotask PSA source (apis.md §3): configuration items by type.

use crate::error::{Error, Result};
use crate::plan::Tally;
use crate::progress::Progress;
use crate::settings::{Settings, SourceKind};
use crate::source::Source;

/// Reads Autotask configuration items and folds them per company.
pub struct AutotaskSource {
    kind: SourceKind,
}

impl AutotaskSource {
    pub fn new(_settings: &Settings) -> Result<Self> {
        Ok(Self {
            kind: SourceKind::AutotaskConfigurationItems,
        })
    }
}

impl Source for AutotaskSource {
    async fn identity(&mut self) -> Result<String> {
        Err(not_built(self.kind))
    }

    async fn tally(&mut self, _progress: &Progress) -> Result<Tally> {
        Err(not_built(self.kind))
    }

    fn request_count(&self) -> u64 {
        0
    }
}

fn not_built(kind: SourceKind) -> Error {
    Error::Usage(format!(
        "the {kind} source's PSA reads are not built yet in this version"
    ))
}
