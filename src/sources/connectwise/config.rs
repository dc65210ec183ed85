//! ConnectWise settings (docs/contract.md §2): the API host, the API member's keys, the
//! clientId, the codebase, and the type lists the two ConnectWise sources count.

use url::Url;

use crate::config::env::{Env, name_list};
use crate::error::{Error, Result};
use crate::secret::Secret;

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
    /// `CONNECTWISE_READ_STREAMS`: concurrent id ranges of one large read.
    pub read_streams: usize,
}

/// The ConnectWise cloud site hosts that have an `api-` twin (docs/apis.md §2.1).
pub(crate) const CW_SITE_HOSTS: [&str; 6] = [
    "na.myconnectwise.net",
    "eu.myconnectwise.net",
    "au.myconnectwise.net",
    "aus.myconnectwise.net",
    "za.myconnectwise.net",
    "staging.connectwisedev.com",
];

const KEYS_HINT: &str = "create them in ConnectWise: System > Members > API Members > API Keys";

/// Checks the ConnectWise settings that are present, so a typo surfaces on any verb.
pub fn check(env: &Env) -> Result<()> {
    base_url(env, false)?;
    company_id(env)?;
    client_id(env)?;
    codebase(env)?;
    Ok(())
}

/// The ConnectWise settings, every one required.
pub fn resolve(env: &Env) -> Result<ConnectWiseSettings> {
    let missing = |variable: &str, hint: &str| {
        Error::setting(variable, format!("not set; {hint} ({})", env.where_read()))
    };
    Ok(ConnectWiseSettings {
        base_url: base_url(env, true)?.ok_or_else(|| {
            missing(
                "CONNECTWISE_BASE_URL",
                "give your API host, e.g. https://api-na.myconnectwise.net",
            )
        })?,
        company_id: company_id(env)?.ok_or_else(|| {
            missing(
                "CONNECTWISE_COMPANY_ID",
                "give the company id you log in to ConnectWise with",
            )
        })?,
        public_key: env.secret("CONNECTWISE_PUBLIC_KEY", KEYS_HINT)?,
        private_key: env.secret("CONNECTWISE_PRIVATE_KEY", KEYS_HINT)?,
        client_id: client_id(env)?.ok_or_else(|| {
            missing(
                "CONNECTWISE_CLIENT_ID",
                "get a clientId GUID at https://developer.connectwise.com/ClientID",
            )
        })?,
        codebase: codebase(env)?,
        read_streams: read_streams(env)?,
    })
}

/// `CONNECTWISE_READ_STREAMS`: a read of more than one page continues as up to this many
/// concurrent id ranges (1 to 8, default 3). The whole run is paced at 600 requests a minute
/// whatever this says, under ConnectWise's throttling (docs/apis.md §2.7; `http::limits`).
pub fn read_streams(env: &Env) -> Result<usize> {
    use crate::http::limits::{CONNECTWISE_MAX_READ_STREAMS as MAX, CONNECTWISE_READ_STREAMS};
    let n = env.number(
        "CONNECTWISE_READ_STREAMS",
        CONNECTWISE_READ_STREAMS as u64,
        "a whole number from 1 to 8",
    )?;
    if (1..=MAX as u64).contains(&n) {
        Ok(n as usize)
    } else {
        Err(Error::setting(
            "CONNECTWISE_READ_STREAMS",
            format!("{n} is out of range; give a whole number from 1 to {MAX}"),
        ))
    }
}

/// `CONNECTWISE_BASE_URL`: the API host only; a cloud site host becomes its `api-` host
/// (said once, when `announce`).
fn base_url(env: &Env, announce: bool) -> Result<Option<Url>> {
    let Some(mut base_url) = env.url("CONNECTWISE_BASE_URL", None)? else {
        return Ok(None);
    };
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
        if announce {
            tracing::info!(
                "CONNECTWISE_BASE_URL names the site host {host}; using its API host {api_host}"
            );
        }
        base_url
            .set_host(Some(&api_host))
            .map_err(|e| Error::setting("CONNECTWISE_BASE_URL", e.to_string()))?;
    }
    Ok(Some(base_url))
}

fn company_id(env: &Env) -> Result<Option<String>> {
    let Some(company_id) = env.get("CONNECTWISE_COMPANY_ID") else {
        return Ok(None);
    };
    if company_id.contains(char::is_whitespace) || company_id.contains('+') {
        return Err(Error::setting(
            "CONNECTWISE_COMPANY_ID",
            "must be the login company id (no spaces or '+'), e.g. 'mymsp'",
        ));
    }
    Ok(Some(company_id))
}

fn client_id(env: &Env) -> Result<Option<String>> {
    let Some(client_id) = env.get("CONNECTWISE_CLIENT_ID") else {
        return Ok(None);
    };
    if !looks_like_guid(&client_id) {
        return Err(Error::setting(
            "CONNECTWISE_CLIENT_ID",
            "must be the clientId GUID from https://developer.connectwise.com/ClientID \
             (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), not the company id",
        ));
    }
    Ok(Some(client_id))
}

/// `CONNECTWISE_CODEBASE`, always ending in `/`.
fn codebase(env: &Env) -> Result<Option<String>> {
    let Some(mut c) = env.get("CONNECTWISE_CODEBASE") else {
        return Ok(None);
    };
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
    Ok(Some(c))
}

fn looks_like_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The contact types `connectwise-contacts` counts, one service each.
pub fn contact_types(env: &Env) -> Result<Vec<String>> {
    name_list(env, "CONNECTWISE_CONTACT_TYPES", "Billed User")
}

/// The configuration types `connectwise-shared-devices` counts.
pub fn configuration_types(env: &Env) -> Result<Vec<String>> {
    name_list(env, "CONNECTWISE_CONFIGURATION_TYPES", "License")
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

    fn cw_env(extra: &[(&'static str, &'static str)]) -> Env {
        let mut pairs = vec![
            ("CONNECTWISE_BASE_URL", "https://api-na.myconnectwise.net"),
            ("CONNECTWISE_COMPANY_ID", "mymsp"),
            ("CONNECTWISE_PUBLIC_KEY", "pub"),
            ("CONNECTWISE_PRIVATE_KEY", "priv"),
            (
                "CONNECTWISE_CLIENT_ID",
                "0f7c3a52-1b2c-4d5e-8f90-123456789abc",
            ),
        ];
        pairs.extend_from_slice(extra);
        Env::from_pairs(pairs)
    }

    #[test]
    fn connectwise_site_host_is_rewritten_to_api_host() {
        let env = cw_env(&[
            ("CONNECTWISE_BASE_URL", "https://na.myconnectwise.net"),
            ("CONNECTWISE_CODEBASE", "v2025_1"),
        ]);
        let cw = resolve(&env).unwrap();
        assert_eq!(cw.base_url.host_str(), Some("api-na.myconnectwise.net"));
        assert_eq!(cw.codebase.as_deref(), Some("v2025_1/"));
        assert_eq!(format!("{:?}", cw.private_key), "[redacted]");
    }

    #[test]
    fn connectwise_client_id_must_be_a_guid() {
        let e = resolve(&cw_env(&[("CONNECTWISE_CLIENT_ID", "mymsp")])).unwrap_err();
        assert_eq!(variable_of(e), "CONNECTWISE_CLIENT_ID");
        let alone = Env::from_pairs([("CONNECTWISE_CLIENT_ID", "mymsp")]);
        assert_eq!(
            variable_of(check(&alone).unwrap_err()),
            "CONNECTWISE_CLIENT_ID",
            "checked on any verb whenever it is present"
        );
    }

    #[test]
    fn contact_types_reject_duplicates_by_normalized_name() {
        let env = Env::from_pairs([("CONNECTWISE_CONTACT_TYPES", "Billed User, billed  user")]);
        assert_eq!(
            variable_of(contact_types(&env).unwrap_err()),
            "CONNECTWISE_CONTACT_TYPES"
        );
    }
}
