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
}

/// The ConnectWise cloud site hosts that have an `api-` twin (docs/apis.md §2.1).
const CW_SITE_HOSTS: [&str; 6] = [
    "na.myconnectwise.net",
    "eu.myconnectwise.net",
    "au.myconnectwise.net",
    "aus.myconnectwise.net",
    "za.myconnectwise.net",
    "staging.connectwisedev.com",
];

/// The ConnectWise settings, all required.
pub fn required(env: &Env) -> Result<ConnectWiseSettings> {
    connectwise_settings(env, true)?.ok_or_else(|| {
        Error::setting(
            "CONNECTWISE_BASE_URL",
            "not set; give your API host (see .env.sample)",
        )
    })
}

/// Checks what is present; with `required`, also that every setting is there.
pub fn connectwise_settings(env: &Env, required: bool) -> Result<Option<ConnectWiseSettings>> {
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
        let cw = required(&env).unwrap();
        assert_eq!(cw.base_url.host_str(), Some("api-na.myconnectwise.net"));
        assert_eq!(cw.codebase.as_deref(), Some("v2025_1/"));
        assert_eq!(format!("{:?}", cw.private_key), "[redacted]");
    }

    #[test]
    fn connectwise_client_id_must_be_a_guid() {
        let e = required(&cw_env(&[("CONNECTWISE_CLIENT_ID", "mymsp")])).unwrap_err();
        assert_eq!(variable_of(e), "CONNECTWISE_CLIENT_ID");
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
