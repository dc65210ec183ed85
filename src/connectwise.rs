//! ConnectWise PSA source (apis.md §2): contacts by type, and shared / not-shared devices.

use crate::error::{Error, Result};
use crate::plan::Tally;
use crate::progress::Progress;
use crate::settings::{Settings, SourceKind};
use crate::source::Source;

/// Reads ConnectWise contacts or configurations and folds them per company.
pub struct ConnectWiseSource {
    kind: SourceKind,
}

impl ConnectWiseSource {
    pub fn new(kind: SourceKind, _settings: &Settings) -> Result<Self> {
        Ok(Self { kind })
    }

    pub fn kind(&self) -> SourceKind {
        self.kind
    }
}

impl Source for ConnectWiseSource {
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
