//! Settings: environment variables, optionally from a `.env` file (contract §2).
//!
//! Every problem is found here, before any request is sent: a missing or malformed
//! variable, a base URL that is not http(s), an unknown source, a service list that does
//! not parse. Each becomes a one-line [`Error::Setting`] naming the variable and the fix.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};
use crate::names::normalize;
use crate::secret::Secret;

/// The PSA data a run counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// ConnectWise contacts, by contact type.
    ConnectwiseContacts,
    /// ConnectWise configurations (License by default), shared or not shared.
    ConnectwiseSharedDevices,
    /// Autotask configuration items, by configuration item type.
    AutotaskConfigurationItems,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [
        SourceKind::ConnectwiseContacts,
        SourceKind::ConnectwiseSharedDevices,
        SourceKind::AutotaskConfigurationItems,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceKind::ConnectwiseContacts => "connectwise-contacts",
            SourceKind::ConnectwiseSharedDevices => "connectwise-shared-devices",
            SourceKind::AutotaskConfigurationItems => "autotask-configuration-items",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == text.trim())
    }

    pub fn is_connectwise(self) -> bool {
        !matches!(self, SourceKind::AutotaskConfigurationItems)
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// The variables a run can see: the real environment over the `.env` file.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    /// Variables of the process environment whose value is not UTF-8 (by name). Harmless
    /// unless the tool reads one; see [`Env::check_text`].
    not_text: Vec<String>,
    /// The file the non-environment values came from, for messages.
    pub file: Option<PathBuf>,
}

/// Whether the tool reads a variable of this name (README "Settings"): its value must then
/// be text. Any other variable of the environment may hold anything.
fn is_read_by_the_tool(name: &str) -> bool {
    const PREFIXES: [&str; 5] = ["SYNC_", "GRADIENT_", "CONNECTWISE_", "AUTOTASK_", "CREWHU_"];
    const NAMES: [&str; 5] = [
        "RUST_LOG",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
    ];
    let upper = name.to_ascii_uppercase();
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&upper.as_str())
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
        if let Some(p) = &path {
            vars = read_env_file(p)?;
        }
        let (process, not_text) = process_vars();
        // A variable of the process that is not text hides the file's value: it is not
        // silently replaced by the file's.
        for name in &not_text {
            vars.remove(name);
        }
        vars.extend(process);
        let env = Env {
            vars,
            not_text,
            file: path,
        };
        env.check_text()?;
        Ok(env)
    }

    /// Only the process environment (verbs that need no settings file: `demo`, `sandbox`).
    pub fn process() -> Env {
        let (vars, not_text) = process_vars();
        Env {
            vars,
            not_text,
            file: None,
        }
    }

    /// A variable the tool reads whose value is not UTF-8 text is a settings error naming
    /// the variable (never its value); other such variables are ignored.
    pub fn check_text(&self) -> Result<()> {
        match self.not_text.iter().find(|n| is_read_by_the_tool(n)) {
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
        }
    }

    /// A variable's value, trimmed; empty counts as unset.
    pub fn get(&self, key: &str) -> Option<String> {
        self.vars
            .get(key)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, key: &str, hint: &str) -> Result<String> {
        self.get(key).ok_or_else(|| {
            Error::setting(
                key,
                format!("not set; {hint} (put it in .env or the environment; see .env.sample)"),
            )
        })
    }

    /// A credential: registered with the scrubber as soon as it is read, so no echo of it
    /// can be printed (docs/SECURITY.md).
    fn secret(&self, key: &str, hint: &str) -> Result<Secret> {
        let value = self.required(key, hint)?;
        crate::http::redact::register(&value);
        Ok(Secret::new(value))
    }

    fn url(&self, key: &str, default: Option<&str>) -> Result<Option<Url>> {
        let Some(text) = self.get(key).or(default.map(str::to_string)) else {
            return Ok(None);
        };
        parse_base_url(key, &text).map(Some)
    }

    fn number<T: std::str::FromStr>(&self, key: &str, default: T, what: &str) -> Result<T> {
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
fn read_env_file(path: &Path) -> Result<HashMap<String, String>> {
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
    Ok(vars)
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
fn parse_base_url(key: &str, text: &str) -> Result<Url> {
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

/// Gradient Synthesize vendor API access.
#[derive(Debug, Clone)]
pub struct GradientSettings {
    pub vendor_key: Secret,
    pub partner_key: Secret,
    pub base_url: Url,
}

/// ConnectWise PSA API access.
#[derive(Debug, Clone)]
pub struct ConnectWiseSettings {
    /// The API host (a cloud site host is rewritten to its `api-` host).
    pub base_url: Url,
    pub company_id: String,
    pub public_key: Secret,
    pub private_key: Secret,
    pub client_id: String,
    /// e.g. `v2025_1/` (always ends with `/`); discovered when unset.
    pub codebase: Option<String>,
}

/// Autotask PSA API access.
#[derive(Debug, Clone)]
pub struct AutotaskSettings {
    pub username: String,
    pub secret: Secret,
    pub integration_code: Secret,
    /// The zone URL, ending in `/`; discovered when unset.
    pub base_url: Option<Url>,
    pub discovery_url: Url,
}

/// Which Autotask configuration item types make one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeSelection {
    /// Exactly these type names.
    Listed(Vec<String>),
    /// Every type no other service names, less these.
    Rest { except: Vec<String> },
}

/// One Autotask service (from `AUTOTASK_SERVICES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutotaskService {
    pub name: String,
    pub types: TypeSelection,
}

/// The default of `AUTOTASK_SERVICES`: the services of Gradient's own Autotask script.
pub const DEFAULT_AUTOTASK_SERVICES: &str =
    "Managed Workstations=Desktop+Laptop,Managed Servers=Server,Network Devices=*-ESXi Host";

/// HTTP behaviour shared by every client (README "Tuning").
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub timeout: Duration,
    pub max_retries: u32,
    pub retry_base_delay: Duration,
    /// The most one request may spend waiting between its retries.
    pub max_retry_wait: Duration,
    /// Count writes in flight at once.
    pub write_concurrency: usize,
    /// The largest answer body read from any API; above it the read fails.
    pub max_body_bytes: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_retries: 5,
            retry_base_delay: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(300),
            write_concurrency: 8,
            max_body_bytes: 32 * 1024 * 1024,
        }
    }
}

/// What a verb needs; only those settings are required (present ones are always checked).
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    pub gradient: bool,
    pub source: bool,
    pub psa: bool,
}

/// Everything a run is configured with, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub source: Option<SourceKind>,
    pub gradient: Option<GradientSettings>,
    pub connectwise: Option<ConnectWiseSettings>,
    pub autotask: Option<AutotaskSettings>,
    pub contact_types: Vec<String>,
    pub configuration_types: Vec<String>,
    pub autotask_services: Vec<AutotaskService>,
    /// Whether `AUTOTASK_SERVICES` was set (then every type it names must exist).
    pub autotask_services_explicit: bool,
    pub http: HttpSettings,
}

const GRADIENT_HINT: &str =
    "generate it in Synthesize: Integrations > Custom > Generate API Tokens";

impl Settings {
    /// Validates the settings `needs` asks for. `source_flag` (from `--source`) wins over
    /// `SYNC_SOURCE`.
    pub fn load(env: &Env, source_flag: Option<SourceKind>, needs: Needs) -> Result<Settings> {
        let source = match source_flag {
            Some(s) => Some(s),
            None => match env.get("SYNC_SOURCE") {
                None => None,
                Some(text) => Some(SourceKind::parse(&text).ok_or_else(|| {
                    Error::setting(
                        "SYNC_SOURCE",
                        format!(
                            "unknown source '{text}'; use one of connectwise-contacts, \
                             connectwise-shared-devices, autotask-configuration-items"
                        ),
                    )
                })?),
            },
        };
        if needs.source && source.is_none() {
            return Err(Error::Usage(
                "no source given; pass --source <connectwise-contacts|connectwise-shared-devices|\
                 autotask-configuration-items> or set SYNC_SOURCE"
                    .into(),
            ));
        }

        let gradient = if needs.gradient {
            Some(GradientSettings {
                vendor_key: env.secret("GRADIENT_VENDOR_API_KEY", GRADIENT_HINT)?,
                partner_key: env.secret("GRADIENT_PARTNER_API_KEY", GRADIENT_HINT)?,
                base_url: env
                    .url("GRADIENT_BASE_URL", Some("https://app.usegradient.com"))?
                    .expect("default given"),
            })
        } else {
            env.url("GRADIENT_BASE_URL", None)?;
            None
        };

        let wants_cw = needs.psa && source.is_some_and(SourceKind::is_connectwise);
        let wants_at = needs.psa && source == Some(SourceKind::AutotaskConfigurationItems);
        let connectwise = connectwise_settings(env, wants_cw)?;
        let autotask = autotask_settings(env, wants_at)?;

        let contact_types = name_list(env, "CONNECTWISE_CONTACT_TYPES", "Billed User")?;
        let configuration_types = name_list(env, "CONNECTWISE_CONFIGURATION_TYPES", "License")?;
        let services_text = env
            .get("AUTOTASK_SERVICES")
            .unwrap_or_else(|| DEFAULT_AUTOTASK_SERVICES.to_string());
        let autotask_services = parse_autotask_services(&services_text)
            .map_err(|problem| Error::setting("AUTOTASK_SERVICES", problem))?;

        let defaults = HttpSettings::default();
        let http = HttpSettings {
            timeout: Duration::from_secs(
                env.number(
                    "SYNC_HTTP_TIMEOUT_SECS",
                    defaults.timeout.as_secs(),
                    "a whole number of seconds",
                )
                .and_then(|n| {
                    if n >= 1 {
                        Ok(n)
                    } else {
                        Err(Error::setting(
                            "SYNC_HTTP_TIMEOUT_SECS",
                            "must be at least 1 (seconds); unset it for the default of 60",
                        ))
                    }
                })?,
            ),
            max_retries: env.number("SYNC_MAX_RETRIES", defaults.max_retries, "a whole number")?,
            retry_base_delay: Duration::from_millis(env.number(
                "SYNC_RETRY_BASE_MS",
                defaults.retry_base_delay.as_millis() as u64,
                "a whole number of milliseconds",
            )?),
            max_retry_wait: Duration::from_secs(env.number(
                "SYNC_RETRY_MAX_WAIT_SECS",
                defaults.max_retry_wait.as_secs(),
                "a whole number of seconds",
            )?),
            write_concurrency: env
                .number(
                    "SYNC_WRITE_CONCURRENCY",
                    defaults.write_concurrency,
                    "a whole number from 1 to 32",
                )
                .and_then(|n| {
                    if (1..=32).contains(&n) {
                        Ok(n)
                    } else {
                        Err(Error::setting(
                            "SYNC_WRITE_CONCURRENCY",
                            format!("{n} is out of range; give a whole number from 1 to 32"),
                        ))
                    }
                })?,
            max_body_bytes: env
                .number(
                    "SYNC_MAX_RESPONSE_MB",
                    defaults.max_body_bytes / (1024 * 1024),
                    "a whole number of MiB from 1 to 4096",
                )
                .and_then(|n| {
                    if (1..=4096).contains(&n) {
                        Ok(n * 1024 * 1024)
                    } else {
                        Err(Error::setting(
                            "SYNC_MAX_RESPONSE_MB",
                            "is out of range; give a whole number of MiB from 1 to 4096",
                        ))
                    }
                })?,
        };

        Ok(Settings {
            source,
            gradient,
            connectwise,
            autotask,
            contact_types,
            configuration_types,
            autotask_services,
            autotask_services_explicit: env.get("AUTOTASK_SERVICES").is_some(),
            http,
        })
    }

    /// The service names the source syncs, in a stable order.
    pub fn service_names(&self, source: SourceKind) -> Vec<String> {
        match source {
            SourceKind::ConnectwiseContacts => self.contact_types.clone(),
            SourceKind::ConnectwiseSharedDevices => {
                vec![SHARED_DEVICES.to_string(), NOT_SHARED_DEVICES.to_string()]
            }
            SourceKind::AutotaskConfigurationItems => self
                .autotask_services
                .iter()
                .map(|s| s.name.clone())
                .collect(),
        }
    }

    /// The Gradient settings; present whenever the verb asked for them.
    pub fn gradient(&self) -> &GradientSettings {
        self.gradient
            .as_ref()
            .expect("Settings::load was asked for the Gradient settings")
    }
}

pub const SHARED_DEVICES: &str = "Shared Devices";
pub const NOT_SHARED_DEVICES: &str = "Not Shared Devices";

fn name_list(env: &Env, key: &str, default: &str) -> Result<Vec<String>> {
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

/// Parses `AUTOTASK_SERVICES` (contract §2). Returns the problem as a sentence.
pub fn parse_autotask_services(text: &str) -> std::result::Result<Vec<AutotaskService>, String> {
    let mut services: Vec<AutotaskService> = Vec::new();
    for raw in text.split(',') {
        let entry = raw.trim();
        if entry.is_empty() {
            return Err(format!(
                "'{text}' has an empty entry; separate entries with single commas"
            ));
        }
        let (name, types) = match entry.split_once('=') {
            None => (entry, TypeSelection::Listed(vec![entry.to_string()])),
            Some((name, list)) => {
                let name = name.trim();
                let list = list.trim();
                if list.contains('=') {
                    return Err(format!(
                        "'{entry}' has a second '='; separate entries with commas \
                         ('A=Type 1+Type 2,B=Type 3')"
                    ));
                }
                if name.is_empty() {
                    return Err(format!(
                        "'{entry}' has no service name before '='; write 'Service Name=Type A+Type B'"
                    ));
                }
                if list.is_empty() {
                    return Err(format!(
                        "'{entry}' has no types after '='; write 'Service Name=Type A+Type B' or 'Service Name=*'"
                    ));
                }
                let types = if let Some(rest) = list.strip_prefix('*') {
                    let rest = rest.trim();
                    let except = if rest.is_empty() {
                        Vec::new()
                    } else if let Some(ex) = rest.strip_prefix('-') {
                        split_types(ex, '-', entry)?
                    } else {
                        return Err(format!(
                            "'{entry}': after '*' only '-Type X-Type Y' exclusions may follow"
                        ));
                    };
                    TypeSelection::Rest { except }
                } else {
                    TypeSelection::Listed(split_types(list, '+', entry)?)
                };
                (name, types)
            }
        };
        if services
            .iter()
            .any(|s| normalize(&s.name) == normalize(name))
        {
            return Err(format!("service '{name}' is defined twice; define it once"));
        }
        services.push(AutotaskService {
            name: name.to_string(),
            types,
        });
    }

    let rest_count = services
        .iter()
        .filter(|s| matches!(s.types, TypeSelection::Rest { .. }))
        .count();
    if rest_count > 1 {
        return Err("more than one entry uses '*'; at most one service may take the rest".into());
    }
    let mut seen: Vec<(String, &str)> = Vec::new();
    for service in &services {
        if let TypeSelection::Listed(types) = &service.types {
            for t in types {
                if let Some((_, other)) = seen.iter().find(|(n, _)| *n == normalize(t)) {
                    return Err(format!(
                        "type '{t}' is named by both '{other}' and '{}'; a type may belong to one service",
                        service.name
                    ));
                }
                seen.push((normalize(t), &service.name));
            }
        }
    }
    Ok(services)
}

fn split_types(list: &str, sep: char, entry: &str) -> std::result::Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for t in list.split(sep) {
        let t = t.trim();
        if t.is_empty() {
            return Err(format!("'{entry}' has an empty type name"));
        }
        if !out.iter().any(|o| normalize(o) == normalize(t)) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

/// The ConnectWise cloud site hosts that have an `api-` twin (apis.md §2.1).
const CW_SITE_HOSTS: [&str; 6] = [
    "na.myconnectwise.net",
    "eu.myconnectwise.net",
    "au.myconnectwise.net",
    "aus.myconnectwise.net",
    "za.myconnectwise.net",
    "staging.connectwisedev.com",
];

fn connectwise_settings(env: &Env, required: bool) -> Result<Option<ConnectWiseSettings>> {
    if !required {
        // Still check what is present, so a typo surfaces on any verb.
        env.url("CONNECTWISE_BASE_URL", None)?;
        return Ok(None);
    }
    let hint_keys = "create them in ConnectWise: System > Members > API Members > API Keys";
    let mut base_url = env.url("CONNECTWISE_BASE_URL", None)?.ok_or_else(|| {
        Error::setting(
            "CONNECTWISE_BASE_URL",
            "not set; give your API host, e.g. https://api-na.myconnectwise.net (see .env.sample)",
        )
    })?;
    if base_url.path() != "/" {
        return Err(Error::setting(
            "CONNECTWISE_BASE_URL",
            format!(
                "the URL has a path after {}; give only the host, e.g. https://api-na.myconnectwise.net \
                 (the codebase comes from CONNECTWISE_CODEBASE or is discovered)",
                crate::http::origin::label(&base_url)
            ),
        ));
    }
    if let Some(host) = base_url.host_str().map(str::to_ascii_lowercase)
        && CW_SITE_HOSTS.contains(&host.as_str())
    {
        let api_host = format!("api-{host}");
        tracing::info!(
            "CONNECTWISE_BASE_URL names the site host {host}; using its API host {api_host}"
        );
        base_url
            .set_host(Some(&api_host))
            .map_err(|e| Error::setting("CONNECTWISE_BASE_URL", e.to_string()))?;
    }
    let company_id = env.required(
        "CONNECTWISE_COMPANY_ID",
        "give the company id you log in to ConnectWise with",
    )?;
    if company_id.contains(char::is_whitespace) || company_id.contains('+') {
        return Err(Error::setting(
            "CONNECTWISE_COMPANY_ID",
            "must be the login company id (no spaces or '+'), e.g. 'mymsp'",
        ));
    }
    let client_id = env.required(
        "CONNECTWISE_CLIENT_ID",
        "get a clientId GUID at https://developer.connectwise.com/ClientID",
    )?;
    if !looks_like_guid(&client_id) {
        return Err(Error::setting(
            "CONNECTWISE_CLIENT_ID",
            "must be the clientId GUID from https://developer.connectwise.com/ClientID \
             (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), not the company id",
        ));
    }
    let codebase = match env.get("CONNECTWISE_CODEBASE") {
        None => None,
        Some(mut c) => {
            if !c.ends_with('/') {
                c.push('/');
            }
            let body = &c[..c.len() - 1];
            if body.is_empty()
                || !body
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')
            {
                return Err(Error::setting(
                    "CONNECTWISE_CODEBASE",
                    "is not a codebase like v2025_1/ or v4_6_release/; unset it to discover it",
                ));
            }
            Some(c)
        }
    };
    Ok(Some(ConnectWiseSettings {
        base_url,
        company_id,
        public_key: env.secret("CONNECTWISE_PUBLIC_KEY", hint_keys)?,
        private_key: env.secret("CONNECTWISE_PRIVATE_KEY", hint_keys)?,
        client_id,
        codebase,
    }))
}

fn looks_like_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn autotask_settings(env: &Env, required: bool) -> Result<Option<AutotaskSettings>> {
    let base_url = env.url("AUTOTASK_BASE_URL", None)?.map(with_trailing_slash);
    if let Some(url) = &base_url
        && !url
            .path()
            .to_ascii_lowercase()
            .ends_with("/atservicesrest/")
    {
        return Err(Error::setting(
            "AUTOTASK_BASE_URL",
            format!(
                "the URL at {} is not a zone URL; give one ending in /ATServicesRest/, \
                 e.g. https://webservices5.autotask.net/ATServicesRest/ (or unset it to discover it)",
                crate::http::origin::label(url)
            ),
        ));
    }
    let discovery_url = with_trailing_slash(
        env.url(
            "AUTOTASK_DISCOVERY_URL",
            Some("https://webservices.autotask.net/ATServicesRest/"),
        )?
        .expect("default given"),
    );
    if !required {
        return Ok(None);
    }
    let hint = "it belongs to the Autotask API user: Admin > Account Settings & Users > Resources/Users > an API User";
    let username = env.required("AUTOTASK_USERNAME", hint)?;
    if !username.contains('@') {
        return Err(Error::setting(
            "AUTOTASK_USERNAME",
            "must be the API user's username, an e-mail address such as api@example.com",
        ));
    }
    Ok(Some(AutotaskSettings {
        username,
        secret: env.secret("AUTOTASK_SECRET", hint)?,
        integration_code: env.secret(
            "AUTOTASK_INTEGRATION_CODE",
            "it is the API user's API Tracking Identifier (on the API user, under Admin > Account Settings & Users > Resources/Users)",
        )?,
        base_url,
        discovery_url,
    }))
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient_env() -> Vec<(&'static str, &'static str)> {
        vec![
            ("GRADIENT_VENDOR_API_KEY", "v"),
            ("GRADIENT_PARTNER_API_KEY", "p"),
        ]
    }

    fn needs_all() -> Needs {
        Needs {
            gradient: true,
            source: true,
            psa: true,
        }
    }

    fn variable_of(e: Error) -> String {
        match e {
            Error::Setting { variable, .. } => variable,
            other => panic!("expected a setting error, got {other:?}"),
        }
    }

    #[test]
    fn missing_gradient_key_names_the_variable() {
        let env = Env::from_pairs([("GRADIENT_VENDOR_API_KEY", "v")]);
        let e = Settings::load(
            &env,
            Some(SourceKind::ConnectwiseContacts),
            Needs {
                gradient: true,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(variable_of(e), "GRADIENT_PARTNER_API_KEY");
    }

    #[test]
    fn base_url_must_be_http() {
        let mut pairs = gradient_env();
        pairs.push(("GRADIENT_BASE_URL", "ftp://example.com"));
        let e = Settings::load(
            &Env::from_pairs(pairs),
            None,
            Needs {
                gradient: true,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(variable_of(e), "GRADIENT_BASE_URL");
    }

    #[test]
    fn unknown_source_is_a_setting_error() {
        let env = Env::from_pairs([("SYNC_SOURCE", "halo-psa")]);
        let e = Settings::load(&env, None, Needs::default()).unwrap_err();
        assert_eq!(variable_of(e), "SYNC_SOURCE");
    }

    #[test]
    fn connectwise_site_host_is_rewritten_to_api_host() {
        let mut pairs = gradient_env();
        pairs.extend([
            ("CONNECTWISE_BASE_URL", "https://na.myconnectwise.net"),
            ("CONNECTWISE_COMPANY_ID", "mymsp"),
            ("CONNECTWISE_PUBLIC_KEY", "pub"),
            ("CONNECTWISE_PRIVATE_KEY", "priv"),
            (
                "CONNECTWISE_CLIENT_ID",
                "0f7c3a52-1b2c-4d5e-8f90-123456789abc",
            ),
            ("CONNECTWISE_CODEBASE", "v2025_1"),
        ]);
        let s = Settings::load(
            &Env::from_pairs(pairs),
            Some(SourceKind::ConnectwiseContacts),
            needs_all(),
        )
        .unwrap();
        let cw = s.connectwise.unwrap();
        assert_eq!(cw.base_url.host_str(), Some("api-na.myconnectwise.net"));
        assert_eq!(cw.codebase.as_deref(), Some("v2025_1/"));
        assert_eq!(format!("{:?}", cw.private_key), "[redacted]");
    }

    #[test]
    fn connectwise_client_id_must_be_a_guid() {
        let mut pairs = gradient_env();
        pairs.extend([
            ("CONNECTWISE_BASE_URL", "https://api-na.myconnectwise.net"),
            ("CONNECTWISE_COMPANY_ID", "mymsp"),
            ("CONNECTWISE_PUBLIC_KEY", "pub"),
            ("CONNECTWISE_PRIVATE_KEY", "priv"),
            ("CONNECTWISE_CLIENT_ID", "mymsp"),
        ]);
        let e = Settings::load(
            &Env::from_pairs(pairs),
            Some(SourceKind::ConnectwiseSharedDevices),
            needs_all(),
        )
        .unwrap_err();
        assert_eq!(variable_of(e), "CONNECTWISE_CLIENT_ID");
    }

    #[test]
    fn psa_settings_not_required_for_sync_services() {
        let s = Settings::load(
            &Env::from_pairs(gradient_env()),
            Some(SourceKind::AutotaskConfigurationItems),
            Needs {
                gradient: true,
                source: true,
                psa: false,
            },
        )
        .unwrap();
        assert_eq!(
            s.service_names(SourceKind::AutotaskConfigurationItems),
            ["Managed Workstations", "Managed Servers", "Network Devices"]
        );
    }

    #[test]
    fn default_autotask_services_parse() {
        let s = parse_autotask_services(DEFAULT_AUTOTASK_SERVICES).unwrap();
        assert_eq!(
            s[0].types,
            TypeSelection::Listed(vec!["Desktop".into(), "Laptop".into()])
        );
        assert_eq!(
            s[2].types,
            TypeSelection::Rest {
                except: vec!["ESXi Host".into()]
            }
        );
    }

    #[test]
    fn plain_type_entries_make_services_of_the_same_name() {
        let s = parse_autotask_services("Desktop, Laptop ,Server").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].name, "Laptop");
        assert_eq!(s[1].types, TypeSelection::Listed(vec!["Laptop".into()]));
    }

    #[test]
    fn autotask_services_errors() {
        for bad in [
            "",
            "A=",
            "=Desktop",
            "A=Desktop,B=desktop",
            "A=*,B=*-Server",
            "A=Desktop+",
            "A=*x",
            "A=Desktop,,B=Server",
            "A=Desktop+Laptop;B=Server",
            "Desktop,desktop",
        ] {
            assert!(parse_autotask_services(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn rest_rule_accepts_several_exclusions() {
        let s = parse_autotask_services("Other=*-ESXi Host-Printer").unwrap();
        assert_eq!(
            s[0].types,
            TypeSelection::Rest {
                except: vec!["ESXi Host".into(), "Printer".into()]
            }
        );
    }

    #[test]
    fn contact_types_reject_duplicates_by_normalized_name() {
        let env = Env::from_pairs([("CONNECTWISE_CONTACT_TYPES", "Billed User, billed  user")]);
        let e = Settings::load(&env, None, Needs::default()).unwrap_err();
        assert_eq!(variable_of(e), "CONNECTWISE_CONTACT_TYPES");
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

    #[test]
    fn autotask_base_url_must_be_a_zone_url() {
        for bad in [
            "http://127.0.0.1:8712",
            "https://webservices5.autotask.net/ATServicesRest/V1.0/",
        ] {
            let env = Env::from_pairs([("AUTOTASK_BASE_URL", bad)]);
            let e = Settings::load(&env, None, Needs::default()).unwrap_err();
            assert_eq!(variable_of(e), "AUTOTASK_BASE_URL", "{bad}");
        }
        let env = Env::from_pairs([(
            "AUTOTASK_BASE_URL",
            "https://webservices5.autotask.net/atservicesrest",
        )]);
        assert!(Settings::load(&env, None, Needs::default()).is_ok());
    }

    #[test]
    fn numbers_are_checked() {
        let env = Env::from_pairs([("SYNC_HTTP_TIMEOUT_SECS", "0")]);
        let e = Settings::load(&env, None, Needs::default()).unwrap_err();
        assert_eq!(variable_of(e), "SYNC_HTTP_TIMEOUT_SECS");
        let env = Env::from_pairs([("SYNC_MAX_RETRIES", "many")]);
        let e = Settings::load(&env, None, Needs::default()).unwrap_err();
        assert_eq!(variable_of(e), "SYNC_MAX_RETRIES");
    }
}
