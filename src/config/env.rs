//! The raw layer of the configuration: the process environment over an optional `.env`
//! file, and the parsers every setting goes through (a URL, a number, a secret, a name
//! list). Nothing here knows which verb or source needs what; see [`crate::config`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use url::Url;

use crate::error::{Error, Result};
use crate::names::normalize;
use crate::secret::Secret;

/// The variables a run can see: the real environment over the `.env` file.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    /// Variables of the process environment whose value is not UTF-8 (by name). Harmless
    /// unless the tool reads one; see [`Env::check_text`].
    not_text: Vec<String>,
    /// The file the non-environment values came from, for messages.
    pub file: Option<PathBuf>,
    /// The names the file set (for the checks of names that look wrong).
    file_names: Vec<String>,
    /// What reading the file noticed, for the log: `$NAME`s that expand from nothing.
    pub notes: Vec<String>,
}

/// The prefixes of the variables the tool itself reads; each source adds its own
/// (`SourceDef::variable_prefix`).
pub const TOOL_PREFIXES: [&str; 3] = ["SYNC_", "GRADIENT_", "CREWHU_"];

/// The variables of the tool itself that hold credentials; each source adds its own
/// (`SourceDef::secret_variables`).
pub const TOOL_SECRETS: [&str; 3] = [
    "GRADIENT_VENDOR_API_KEY",
    "GRADIENT_PARTNER_API_KEY",
    "CREWHU_API_TOKEN",
];

/// Every setting of the tool itself; each source adds its own (`SourceDef::settings`).
pub const TOOL_SETTINGS: [&str; 16] = [
    "SYNC_SOURCE",
    "SYNC_OUTPUT",
    "SYNC_STATE_DIR",
    "SYNC_STALE_AFTER_DAYS",
    "SYNC_HTTP_TIMEOUT_SECS",
    "SYNC_MAX_RETRIES",
    "SYNC_RETRY_BASE_MS",
    "SYNC_RETRY_MAX_WAIT_SECS",
    "SYNC_WRITE_CONCURRENCY",
    "SYNC_GRADIENT_RATE",
    "SYNC_MAX_RESPONSE_MB",
    "GRADIENT_VENDOR_API_KEY",
    "GRADIENT_PARTNER_API_KEY",
    "GRADIENT_BASE_URL",
    "CREWHU_API_TOKEN",
    "CREWHU_BASE_URL",
];

/// The names Gradient's PowerShell SDK scripts use in their `.env`, and ours (README
/// "Migrating from Gradient's PowerShell SDK").
const SDK_NAMES: [(&str, &str); 9] = [
    ("VENDOR_API_KEY", "GRADIENT_VENDOR_API_KEY"),
    ("PARTNER_API_KEY", "GRADIENT_PARTNER_API_KEY"),
    ("BASE_URL", "CONNECTWISE_BASE_URL"),
    ("CUSTOMER_ID", "CONNECTWISE_COMPANY_ID"),
    ("PUBLIC_KEY", "CONNECTWISE_PUBLIC_KEY"),
    ("PRIVATE_KEY", "CONNECTWISE_PRIVATE_KEY"),
    ("CLIENT_ID", "CONNECTWISE_CLIENT_ID"),
    ("PASSWORD", "AUTOTASK_SECRET"),
    ("INTEGRATION_CODE", "AUTOTASK_INTEGRATION_CODE"),
];

/// The edit distance between two names (Levenshtein), for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j] + 1).min(row[j + 1] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Whether the tool reads a variable of this name (README "Settings"): its value must then
/// be text. Any other variable of the environment may hold anything.
fn is_read_by_the_tool(name: &str, prefixes: &[&str]) -> bool {
    const NAMES: [&str; 5] = [
        "RUST_LOG",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
    ];
    let upper = name.to_ascii_uppercase();
    prefixes.iter().any(|p| name.starts_with(p)) || NAMES.contains(&upper.as_str())
}

/// The process environment, read as `OsString`s: `std::env::vars` would panic on a value
/// that is not UTF-8 and print it, secrets included.
fn process_vars() -> (HashMap<String, String>, Vec<String>) {
    let mut vars = HashMap::new();
    let mut not_text = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Ok(name) = name.into_string() else {
            continue;
        };
        match value.into_string() {
            Ok(value) => {
                vars.insert(name, value);
            }
            Err(_) => not_text.push(name),
        }
    }
    not_text.sort();
    (vars, not_text)
}

impl Env {
    /// Registers the values of the variables that hold credentials with the scrubber, before
    /// any setting is checked, so no message can print them.
    pub fn register_secrets<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        for name in names {
            if let Some(value) = self.get(name) {
                crate::http::redact::register(&value);
            }
        }
    }

    /// Reads `env_file` (it must exist when given) or `./.env` when present, then lets the
    /// process environment win over it.
    pub fn load(env_file: Option<&Path>) -> Result<Env> {
        let path = match env_file {
            Some(p) => {
                // `exists`, not `is_file`: a pipe such as `--env-file <(vault read …)` or
                // /dev/stdin is fine too.
                if !p.exists() {
                    return Err(Error::Usage(format!(
                        "--env-file {}: no such file; give the path of your .env file (see .env.sample)",
                        p.display()
                    )));
                }
                if p.is_dir() {
                    return Err(Error::Usage(format!(
                        "--env-file {}: is a directory; give the path of the .env file in it",
                        p.display()
                    )));
                }
                Some(p.to_path_buf())
            }
            None => Some(PathBuf::from(".env")).filter(|p| p.is_file()),
        };
        let mut vars = HashMap::new();
        let mut notes = Vec::new();
        if let Some(p) = &path {
            let (read, found) = read_env_file(p)?;
            vars = read;
            notes = found;
        }
        let file_names: Vec<String> = vars.keys().cloned().collect();
        let (process, not_text) = process_vars();
        // A variable of the process that is not text hides the file's value: it is not
        // silently replaced by the file's.
        for name in &not_text {
            vars.remove(name);
        }
        vars.extend(process);
        Ok(Env {
            vars,
            not_text,
            file: path,
            file_names,
            notes,
        })
    }

    /// Only the process environment (verbs that need no settings file: `demo`, `sandbox`).
    pub fn process() -> Env {
        let (vars, not_text) = process_vars();
        Env {
            vars,
            not_text,
            file: None,
            file_names: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A variable the tool reads whose value is not UTF-8 text is a settings error naming
    /// the variable (never its value); other such variables are ignored.
    pub fn check_text(&self, prefixes: &[&str]) -> Result<()> {
        match self
            .not_text
            .iter()
            .find(|n| is_read_by_the_tool(n, prefixes))
        {
            Some(name) => Err(Error::setting(
                name.clone(),
                "its value is not UTF-8 text (a stray byte from a copy and paste?); set it again",
            )),
            None => Ok(()),
        }
    }

    /// An environment built from pairs (tests, the sandbox).
    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            not_text: Vec::new(),
            file: None,
            file_names: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A variable's value, trimmed; empty counts as unset.
    pub fn get(&self, key: &str) -> Option<String> {
        self.vars
            .get(key)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, key: &str, hint: &str) -> Result<String> {
        self.get(key)
            .ok_or_else(|| Error::setting(key, format!("not set; {hint} ({})", self.where_read())))
    }

    /// Where the settings were read from, for a "not set" message: the classic scheduling
    /// mistake is a `.env` in another directory than the job's working directory.
    pub fn where_read(&self) -> String {
        match &self.file {
            Some(f) => format!(
                "read from {} and the environment; see .env.sample",
                f.display()
            ),
            None => format!(
                "there is no .env in the working directory {}, so only the environment was read: \
                 pass --env-file PATH, e.g. in a cron job",
                std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| "?".into())
            ),
        }
    }

    /// Warnings about names that look like settings but are not: `known` is every setting of
    /// the tool, `prefixes` their prefixes. A name of the file, or of the environment with a
    /// prefix other than `SYNC_` (which other tools use too), that has a known prefix but is
    /// unknown gets the closest known name; the SDK's names get the name here.
    pub fn unknown_names(&self, known: &[&str], prefixes: &[&str]) -> Vec<String> {
        self.odd_names(known, prefixes)
            .into_iter()
            .map(|(note, _)| note)
            .collect()
    }

    /// A name that is one edit or three away from a setting that is not set: most likely that
    /// setting, misspelt, so its default would silently apply (a contact type left out of
    /// billing). Returns (the name, the setting) of the first such.
    pub fn misspelt(&self, known: &[&str], prefixes: &[&str]) -> Option<(String, String)> {
        self.odd_names(known, prefixes)
            .into_iter()
            .find_map(|(_, pair)| pair)
            .filter(|(_, intended)| self.get(intended).is_none())
    }

    fn odd_names(
        &self,
        known: &[&str],
        prefixes: &[&str],
    ) -> Vec<(String, Option<(String, String)>)> {
        let mut out = Vec::new();
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        for name in names {
            let from_file = self.file_names.contains(name);
            if known.contains(&name.as_str()) {
                continue;
            }
            if from_file && let Some((_, ours)) = SDK_NAMES.iter().find(|(sdk, _)| sdk == name) {
                out.push((
                    format!(
                        "{name} (a name of Gradient's PowerShell SDK) is not read here: use {ours}"
                    ),
                    None,
                ));
                continue;
            }
            let prefixed = prefixes.iter().any(|p| name.starts_with(p));
            if !prefixed || (!from_file && name.starts_with("SYNC_")) {
                continue;
            }
            let closest = known
                .iter()
                .map(|k| (distance(name, k), *k))
                .min()
                .filter(|(d, _)| *d <= 3);
            out.push(match closest {
                Some((_, k)) => (
                    format!("{name} is not a setting of synthesize-sync; did you mean {k}?"),
                    Some((name.clone(), k.to_string())),
                ),
                None => (
                    format!("{name} is not a setting of synthesize-sync (see .env.sample)"),
                    None,
                ),
            });
        }
        out
    }

    /// A credential: registered with the scrubber as soon as it is read, so no echo of it
    /// can be printed (docs/SECURITY.md).
    pub fn secret(&self, key: &str, hint: &str) -> Result<Secret> {
        let value = self.required(key, hint)?;
        crate::http::redact::register(&value);
        Ok(Secret::new(value))
    }

    pub fn url(&self, key: &str, default: Option<&str>) -> Result<Option<Url>> {
        let Some(text) = self.get(key).or(default.map(str::to_string)) else {
            return Ok(None);
        };
        parse_base_url(key, &text).map(Some)
    }

    pub fn number<T: std::str::FromStr>(&self, key: &str, default: T, what: &str) -> Result<T> {
        match self.get(key) {
            None => Ok(default),
            // The value is not repeated: a secret pasted into the wrong variable must not
            // be printed.
            Some(text) => text.parse().map_err(|_| {
                Error::setting(key, format!("is not {what}; give {what} or unset it"))
            }),
        }
    }
}

/// Reads a `.env` file. Files saved by Windows tools are common: a UTF-8 byte-order mark
/// is skipped, and UTF-16 gets a message saying how to re-save the file.
fn read_env_file(path: &Path) -> Result<(HashMap<String, String>, Vec<String>)> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Usage(format!("{}: cannot read it ({e})", path.display())))?;
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::Usage(format!(
            "{}: is saved as UTF-16; save it as UTF-8 (PowerShell: Set-Content -Encoding utf8)",
            path.display()
        )));
    }
    let text = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
    let text = std::str::from_utf8(text).map_err(|_| {
        Error::Usage(format!(
            "{}: is not UTF-8 text; save it as UTF-8",
            path.display()
        ))
    })?;
    let mut vars = HashMap::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        let (k, v) = item.map_err(|_| Error::Usage(env_file_problem(path, text)))?;
        vars.insert(k, v);
    }
    let notes = expansions_from_nothing(path, text, |name| {
        vars.contains_key(name) || std::env::var_os(name).is_some()
    });
    Ok((vars, notes))
}

/// `$NAME` or `${NAME}` in an unquoted or double-quoted value expands, and expands to nothing
/// when NAME is set nowhere: a secret with a `$` in it silently loses a piece. Names each such
/// line (never its value).
fn expansions_from_nothing(path: &Path, text: &str, is_set: impl Fn(&str) -> bool) -> Vec<String> {
    let mut notes = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        if value.starts_with('\'') {
            continue;
        }
        let mut rest = value;
        while let Some(i) = rest.find('$') {
            if i > 0 && rest.as_bytes()[i - 1] == b'\\' {
                rest = &rest[i + 1..];
                continue;
            }
            let after = &rest[i + 1..];
            let after = after.strip_prefix('{').unwrap_or(after);
            let var: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !var.is_empty() && !is_set(&var) {
                notes.push(format!(
                    "{} line {} ({}): ${var} expands to nothing (it is set nowhere); if the $ is \
                     part of the value, put the value in single quotes",
                    path.display(),
                    n + 1,
                    name.trim()
                ));
            }
            rest = &rest[i + 1..];
        }
    }
    notes
}

/// Says which line of a `.env` file does not parse, without echoing any value (it may be
/// a secret). dotenvy's own message quotes the line.
fn env_file_problem(path: &Path, text: &str) -> String {
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return format!(
                "{} line {}: not NAME=value; fix or remove that line",
                path.display(),
                n + 1
            );
        };
        let value = value.trim();
        let quoted = value.starts_with('\'') || value.starts_with('"');
        if !quoted && value.contains(char::is_whitespace) {
            let name = name.trim();
            return format!(
                "{} line {} ({name}): a value with spaces must be quoted, e.g. {name}='...'",
                path.display(),
                n + 1,
            );
        }
    }
    format!(
        "{}: a line does not parse; each line must be NAME=value, with values that hold \
         spaces, '#' or '$' in single quotes",
        path.display()
    )
}

/// A base URL setting. Never echoed when it does not parse (it may be a secret pasted into
/// the wrong variable); checked against the credential rule of [`crate::http::origin`].
pub fn parse_base_url(key: &str, text: &str) -> Result<Url> {
    let url = Url::parse(text).map_err(|_| {
        Error::setting(
            key,
            "is not a URL; give one like https://host (with https://)",
        )
    })?;
    crate::http::origin::check_base(&url).map_err(|refusal| {
        Error::setting(
            key,
            format!("the URL {refusal}; give one like https://host"),
        )
    })?;
    Ok(url)
}

/// A comma list of names (types), each once ignoring case and spaces.
pub fn name_list(env: &Env, key: &str, default: &str) -> Result<Vec<String>> {
    let text = env.get(key).unwrap_or_else(|| default.to_string());
    let mut names: Vec<String> = Vec::new();
    for raw in text.split(',') {
        let name = raw.trim();
        if name.is_empty() {
            return Err(Error::setting(
                key,
                format!("'{text}' has an empty name; give a comma list such as '{default}'"),
            ));
        }
        if names.iter().any(|n| normalize(n) == normalize(name)) {
            return Err(Error::setting(
                key,
                format!("'{name}' is listed twice (names ignore case and spaces); list it once"),
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_look_wrong_get_the_right_one() {
        let dir = std::env::temp_dir().join("synthesize-sync-env-names");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("names.env");
        std::fs::write(
            &file,
            "CONNECTWISE_CONTACT_TYPE=VIP\nVENDOR_API_KEY=x\nSYNC_DRY=1\nOTHER=1\nX='a$NOPE'\nY=a$NOPE_EITHER\n",
        )
        .unwrap();
        let env = Env::load(Some(&file)).unwrap();
        let known = [
            "CONNECTWISE_CONTACT_TYPES",
            "GRADIENT_VENDOR_API_KEY",
            "SYNC_SOURCE",
        ];
        let notes = env.unknown_names(&known, &["CONNECTWISE_", "SYNC_"]);
        assert!(
            notes
                .iter()
                .any(|n| n.contains("did you mean CONNECTWISE_CONTACT_TYPES")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("VENDOR_API_KEY") && n.contains("GRADIENT_VENDOR_API_KEY")),
            "{notes:?}"
        );
        assert!(notes.iter().any(|n| n.starts_with("SYNC_DRY")), "{notes:?}");
        assert!(!notes.iter().any(|n| n.starts_with("OTHER")), "{notes:?}");
        assert_eq!(env.notes.len(), 1, "{:?}", env.notes);
        assert!(
            env.notes[0].contains("line 6 (Y)") && !env.notes[0].contains("a$"),
            "{:?}",
            env.notes
        );
    }

    #[test]
    fn env_file_errors_name_the_line_not_the_value() {
        let dir = std::env::temp_dir().join("synthesize-sync-env-problem");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.env");
        std::fs::write(&file, "# c\nA=1\nCONNECTWISE_PRIVATE_KEY=top secret\n").unwrap();
        let e = Env::load(Some(&file)).unwrap_err().to_string();
        assert!(e.contains("line 3 (CONNECTWISE_PRIVATE_KEY)"), "{e}");
        assert!(!e.contains("top secret") && !e.contains("secret\n"), "{e}");
        assert_eq!(Env::load(Some(&file)).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn env_files_from_windows_tools() {
        let dir = std::env::temp_dir().join("synthesize-sync-env-encodings");
        std::fs::create_dir_all(&dir).unwrap();
        let bom = dir.join("bom.env");
        std::fs::write(
            &bom,
            b"\xEF\xBB\xBFSYNC_SOURCE=connectwise-contacts\r\nA='x y'\r\n",
        )
        .unwrap();
        let env = Env::load(Some(&bom)).unwrap();
        assert_eq!(
            env.get("SYNC_SOURCE").as_deref(),
            Some("connectwise-contacts")
        );
        assert_eq!(env.get("A").as_deref(), Some("x y"));
        let utf16 = dir.join("utf16.env");
        std::fs::write(&utf16, b"\xFF\xFEA\x00=\x001\x00").unwrap();
        let e = Env::load(Some(&utf16)).unwrap_err().to_string();
        assert!(e.contains("UTF-16") && e.contains("UTF-8"), "{e}");
        let e = Env::load(Some(&dir)).unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
    }
}
