//! The configuration, typed. The raw layer ([`env`]: environment over `.env`) is resolved
//! here, per verb, into values that are all present and valid: a verb that needs Gradient
//! gets a [`GradientSettings`], never an `Option` of one. What a source needs (its PSA
//! settings, its services) is resolved by the source itself (`sources/*/config.rs`).
//!
//! Every setting that is present is checked before any request is sent
//! (`verbs::check_settings`), whatever the verb: a typo surfaces on any run. Each problem is a one-line
//! [`Error::Setting`] naming the variable and the fix (docs/contract.md §2).

pub(crate) mod env;

use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};
use crate::http::limits::{GRADIENT_MAX_RATE, MAX_WRITE_CONCURRENCY};
pub use crate::http::settings::{HttpSettings, Proxies};
use crate::secret::Secret;
pub use env::Env;

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
    /// For the lists of `history`, `clients` and `engagement`.
    Csv,
    /// One self-contained page, for `engagement` only.
    Html,
}

/// Gradient Synthesize vendor API access.
#[derive(Debug, Clone)]
pub struct GradientSettings {
    pub vendor_key: Secret,
    pub partner_key: Secret,
    pub base_url: Url,
}

const GRADIENT_HINT: &str =
    "generate it in Synthesize: Integrations > Custom > Generate API Tokens";

/// The Gradient settings: both keys are required.
pub fn gradient(env: &Env) -> Result<GradientSettings> {
    let base_url = env.url("GRADIENT_BASE_URL", None)?.map_or_else(
        || Url::parse(DEFAULT_GRADIENT_URL).map_err(|e| Error::Local(e.to_string())),
        Ok,
    )?;
    Ok(GradientSettings {
        vendor_key: env.secret("GRADIENT_VENDOR_API_KEY", GRADIENT_HINT)?,
        partner_key: env.secret("GRADIENT_PARTNER_API_KEY", GRADIENT_HINT)?,
        base_url,
    })
}

pub const DEFAULT_GRADIENT_URL: &str = "https://app.usegradient.com";

/// `SYNC_STALE_AFTER_DAYS`: warn when the last successful sync is older (default 8).
pub fn stale_after_days(env: &Env) -> Result<u64> {
    let days: u64 = env.number("SYNC_STALE_AFTER_DAYS", 8, "a whole number of days")?;
    if days == 0 {
        return Err(Error::setting(
            "SYNC_STALE_AFTER_DAYS",
            "must be at least 1 (days); unset it for the default of 8",
        ));
    }
    Ok(days)
}

/// The output format from `SYNC_OUTPUT` (the `--output` flag wins over it).
pub fn output_format(env: &Env) -> Result<OutputFormat> {
    match env.get("SYNC_OUTPUT").as_deref() {
        None | Some("text") => Ok(OutputFormat::Text),
        Some("json") => Ok(OutputFormat::Json),
        Some(_) => Err(Error::setting(
            "SYNC_OUTPUT",
            "is not an output format; use text or json",
        )),
    }
}

/// HTTP behaviour (README "Tuning").
pub fn http(env: &Env) -> Result<HttpSettings> {
    let defaults = HttpSettings::default();
    Ok(HttpSettings {
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
                if (1..=MAX_WRITE_CONCURRENCY).contains(&n) {
                    Ok(n)
                } else {
                    Err(Error::setting(
                        "SYNC_WRITE_CONCURRENCY",
                        format!(
                            "{n} is out of range; give a whole number from 1 to {MAX_WRITE_CONCURRENCY}"
                        ),
                    ))
                }
            })?,
        gradient_rate: env
            .number(
                "SYNC_GRADIENT_RATE",
                u64::from(defaults.gradient_rate),
                "a whole number of requests a second from 1 to 100",
            )
            .and_then(|n| {
                u32::try_from(n)
                    .ok()
                    .filter(|n| (1..=GRADIENT_MAX_RATE).contains(n))
                    .ok_or_else(|| {
                        Error::setting(
                            "SYNC_GRADIENT_RATE",
                            format!(
                                "{n} is out of range; give a whole number of requests a second \
                                 from 1 to {GRADIENT_MAX_RATE} (Gradient's limit)"
                            ),
                        )
                    })
            })?,
        max_body_bytes: env
            .number(
                "SYNC_MAX_RESPONSE_MB",
                defaults.max_body_bytes / (1024 * 1024),
                "a whole number of MiB from 1 to 256",
            )
            .and_then(|n| {
                if (1..=256).contains(&n) {
                    Ok(n * 1024 * 1024)
                } else {
                    Err(Error::setting(
                        "SYNC_MAX_RESPONSE_MB",
                        "is out of range; give a whole number of MiB from 1 to 256",
                    ))
                }
            })?,
        proxies: proxies(env),
    })
}

/// Proxies from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case), read like
/// every other setting, so a `.env` may hold them.
pub fn proxies(env: &Env) -> Proxies {
    let get = |name: &str| env.get(name).or_else(|| env.get(&name.to_lowercase()));
    Proxies {
        https: get("HTTPS_PROXY"),
        http: get("HTTP_PROXY"),
        all: get("ALL_PROXY"),
        no_proxy: get("NO_PROXY"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable_of(e: Error) -> String {
        match e {
            Error::Setting { variable, .. } => variable,
            other => panic!("expected a setting error, got {other:?}"),
        }
    }

    #[test]
    fn missing_gradient_key_names_the_variable() {
        let env = Env::from_pairs([("GRADIENT_VENDOR_API_KEY", "v")]);
        let e = gradient(&env).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(variable_of(e), "GRADIENT_PARTNER_API_KEY");
    }

    #[test]
    fn base_url_must_be_https() {
        for bad in ["ftp://example.com", "http://app.usegradient.com"] {
            let env = Env::from_pairs([
                ("GRADIENT_VENDOR_API_KEY", "v"),
                ("GRADIENT_PARTNER_API_KEY", "p"),
                ("GRADIENT_BASE_URL", bad),
            ]);
            assert_eq!(
                variable_of(gradient(&env).unwrap_err()),
                "GRADIENT_BASE_URL"
            );
        }
    }

    #[test]
    fn numbers_are_checked_and_never_echoed() {
        let env = Env::from_pairs([("SYNC_HTTP_TIMEOUT_SECS", "0")]);
        assert_eq!(
            variable_of(http(&env).unwrap_err()),
            "SYNC_HTTP_TIMEOUT_SECS"
        );
        let env = Env::from_pairs([("SYNC_MAX_RETRIES", "hunter2-secret")]);
        let e = http(&env).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert_eq!(variable_of(e), "SYNC_MAX_RETRIES");
        let env = Env::from_pairs([("SYNC_MAX_RESPONSE_MB", "0")]);
        assert_eq!(variable_of(http(&env).unwrap_err()), "SYNC_MAX_RESPONSE_MB");
    }

    #[test]
    fn proxies_come_from_the_settings_file_too() {
        let env = Env::from_pairs([("https_proxy", "http://proxy.example:3128")]);
        assert_eq!(
            http(&env).unwrap().proxies.https.as_deref(),
            Some("http://proxy.example:3128")
        );
    }
}
