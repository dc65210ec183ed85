//! Where the ledger lives: `SYNC_STATE_DIR`, else the platform's per-user data directory
//! (docs/contract.md §2), created readable by the user only.

use std::path::{Path, PathBuf};

use crate::config::Env;
use crate::error::{Error, Result};

const APP: &str = "synthesize-sync";

/// The state directory the settings name, or the platform's default; `None` when neither
/// can be found (no `SYNC_STATE_DIR` and no home directory in the environment).
pub fn state_dir(env: &Env) -> Option<PathBuf> {
    if let Some(dir) = env.get("SYNC_STATE_DIR") {
        return Some(PathBuf::from(dir));
    }
    platform_dir(|name| env.get(name)).map(|d| d.join(APP))
}

/// The per-user data directory: `$XDG_DATA_HOME` or `~/.local/share` on Linux and other
/// Unixes, `~/Library/Application Support` on macOS, `%APPDATA%` on Windows.
fn platform_dir(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if cfg!(windows) {
        return var("APPDATA").map(PathBuf::from);
    }
    if cfg!(target_os = "macos") {
        return var("HOME").map(|h| Path::new(&h).join("Library/Application Support"));
    }
    var("XDG_DATA_HOME")
        .filter(|d| Path::new(d).is_absolute())
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| Path::new(&h).join(".local/share")))
}

/// Creates `dir` (and its parents) when missing; on Unix a directory it creates is made
/// readable by its owner only (an existing one is left as it is: it may be `$HOME`).
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::Local(format!(
            "cannot create the state directory {} ({e}); set SYNC_STATE_DIR to a directory you can write",
            dir.display()
        ))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_state_dir_wins_then_the_platform_directory() {
        let env = Env::from_pairs([("SYNC_STATE_DIR", "/srv/sync"), ("HOME", "/home/a")]);
        assert_eq!(state_dir(&env), Some(PathBuf::from("/srv/sync")));
        if cfg!(target_os = "linux") {
            let env = Env::from_pairs([("HOME", "/home/a")]);
            assert_eq!(
                state_dir(&env),
                Some(PathBuf::from("/home/a/.local/share/synthesize-sync"))
            );
            let env = Env::from_pairs([("HOME", "/home/a"), ("XDG_DATA_HOME", "/data")]);
            assert_eq!(
                state_dir(&env),
                Some(PathBuf::from("/data/synthesize-sync"))
            );
            let env = Env::from_pairs([("HOME", "/home/a"), ("XDG_DATA_HOME", "relative")]);
            assert_eq!(
                state_dir(&env),
                Some(PathBuf::from("/home/a/.local/share/synthesize-sync")),
                "a relative XDG_DATA_HOME is ignored, as the spec says"
            );
        }
        assert_eq!(state_dir(&Env::default()), None);
    }
}
