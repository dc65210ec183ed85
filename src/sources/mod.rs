//! The PSA sources and their registry.
//!
//! A source knows its API and nothing of Synthesize: it checks its credentials and folds
//! what it reads into a [`Tally`]. Each lives in its own folder with its client, its
//! settings (`config.rs`) and its counting rules (`rules.rs`). Adding a source is a folder
//! and one line in [`SOURCES`] (docs/ARCHITECTURE.md).

pub(crate) mod autotask;
pub(crate) mod connectwise;
mod def;
pub(crate) mod field;
pub(crate) mod split;
pub(crate) mod tally;

use crate::config::Env;
use crate::error::{Error, Result};
pub use def::{RequestBudget, Source, SourceDef};
pub use tally::{Skip, Tally};

/// A source of the registry: a cheap, copyable handle.
#[derive(Clone, Copy)]
pub struct SourceKind(&'static dyn SourceDef);

/// Every source, in the order they are listed. Adding a source: its folder, and one line here.
pub static SOURCES: &[SourceKind] = &[
    SourceKind(&connectwise::Contacts),
    SourceKind(&connectwise::SharedDevices),
    SourceKind(&autotask::ConfigurationItems),
];

/// Every source.
pub fn all() -> &'static [SourceKind] {
    SOURCES
}

/// The names of every source.
pub fn names() -> Vec<&'static str> {
    SOURCES.iter().map(|s| s.name()).collect()
}

/// The source: `--source` wins over `SYNC_SOURCE`; `None` when neither is given.
pub fn optional(env: &Env, flag: Option<SourceKind>) -> Result<Option<SourceKind>> {
    if let (Some(flag), Some(setting)) = (flag, env.get("SYNC_SOURCE"))
        && by_name(&setting) != Some(flag)
    {
        // A flag that contradicts the settings file is most likely the wrong file.
        return Err(Error::setting(
            "SYNC_SOURCE",
            format!(
                "--source {flag} contradicts SYNC_SOURCE{}; these settings are for another \
                 source (use its own settings file, or drop --source)",
                env.file
                    .as_ref()
                    .map(|f| format!(" in {}", f.display()))
                    .unwrap_or_default()
            ),
        ));
    }
    if flag.is_some() {
        return Ok(flag);
    }
    match env.get("SYNC_SOURCE") {
        None => Ok(None),
        Some(text) => by_name(&text).map(Some).ok_or_else(|| {
            Error::setting(
                "SYNC_SOURCE",
                // Not echoed: it may be a secret pasted into the wrong variable.
                format!("is not a source; use one of {}", names().join(", ")),
            )
        }),
    }
}

/// The source, required.
pub fn required(env: &Env, flag: Option<SourceKind>) -> Result<SourceKind> {
    optional(env, flag)?.ok_or_else(|| {
        Error::Usage(format!(
            "no source given; pass --source <{}> or set SYNC_SOURCE",
            names().join("|")
        ))
    })
}

/// The source of that name (surrounding spaces ignored).
pub fn by_name(name: &str) -> Option<SourceKind> {
    SOURCES.iter().copied().find(|s| s.name() == name.trim())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_source_is_a_setting_error() {
        let env = Env::from_pairs([("SYNC_SOURCE", "halo-psa")]);
        assert_eq!(
            variable_of(optional(&env, None).unwrap_err()),
            "SYNC_SOURCE"
        );
        let e = required(&Env::default(), None).unwrap_err();
        assert_eq!(e.exit_code(), 2, "no source at all is a usage error");
    }

    #[test]
    fn a_flag_that_contradicts_sync_source_is_refused() {
        let env = Env::from_pairs([("SYNC_SOURCE", "connectwise-contacts")]);
        let e = required(&env, by_name("autotask-configuration-items")).unwrap_err();
        assert_eq!(variable_of(e), "SYNC_SOURCE");
        let same = by_name("connectwise-contacts");
        assert_eq!(required(&env, same).unwrap().name(), "connectwise-contacts");
        assert_eq!(required(&env, None).unwrap().name(), "connectwise-contacts");
        let empty = Env::default();
        assert_eq!(
            required(&empty, by_name("autotask-configuration-items"))
                .unwrap()
                .name(),
            "autotask-configuration-items"
        );
    }

    #[test]
    fn services_need_no_psa_settings() {
        let kind = by_name("autotask-configuration-items").unwrap();
        assert_eq!(
            kind.services(&Env::default()).unwrap(),
            ["Managed Workstations", "Managed Servers", "Network Devices"]
        );
    }

    fn variable_of(e: Error) -> String {
        match e {
            Error::Setting { variable, .. } => variable,
            other => panic!("expected a setting error, got {other:?}"),
        }
    }
}
