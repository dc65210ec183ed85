//! Autotask settings (docs/contract.md §2): the API user, the zone, and `AUTOTASK_SERVICES`,
//! the small language that says which configuration item types make which service.

use url::Url;

use crate::config::env::Env;
use crate::error::{Error, Result};
use crate::names::normalize;
use crate::secret::Secret;

/// Autotask PSA API access.
#[derive(Debug, Clone)]
pub struct AutotaskSettings {
    pub username: String,
    pub secret: Secret,
    pub integration_code: Secret,
    /// The zone URL, ending in `/`; discovered when unset.
    pub base_url: Option<Url>,
    pub discovery_url: Url,
    /// `AUTOTASK_READ_STREAMS`: concurrent id ranges of one read.
    pub read_streams: usize,
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

/// Parses `AUTOTASK_SERVICES` (docs/contract.md §2). Returns the problem as a sentence.
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

const USER_HINT: &str = "it belongs to the Autotask API user: Admin > Account Settings & Users > Resources/Users > an API User";

/// Checks the Autotask settings that are present, so a typo surfaces on any verb.
pub fn check(env: &Env) -> Result<()> {
    zone(env)?;
    discovery_url(env)?;
    username(env)?;
    max_share(env)?;
    read_streams(env)?;
    Ok(())
}

/// `AUTOTASK_READ_STREAMS`: a read continues after its first page as up to this many
/// concurrent id ranges; 1 to 3, default 3. Autotask allows 3 requests in flight per entity
/// per integration code (docs/apis.md §3.7): lower it when other tools share this API user's
/// integration code.
pub fn read_streams(env: &Env) -> Result<usize> {
    use crate::http::limits::AUTOTASK_READ_STREAMS as MAX;
    let n = env.number(
        "AUTOTASK_READ_STREAMS",
        MAX as u64,
        "a whole number from 1 to 3",
    )?;
    if (1..=MAX as u64).contains(&n) {
        Ok(n as usize)
    } else {
        Err(Error::setting(
            "AUTOTASK_READ_STREAMS",
            format!("{n} is out of range; give a whole number from 1 to {MAX}"),
        ))
    }
}

/// `AUTOTASK_MAX_SHARE`: a run does not start when it would take the tenant's hourly request
/// usage past this share of the threshold (docs/apis.md §3.7); percent, 1 to 100, default 80.
pub fn max_share(env: &Env) -> Result<u64> {
    let share = env.number(
        "AUTOTASK_MAX_SHARE",
        80u64,
        "a whole number of percent from 1 to 100",
    )?;
    if (1..=100).contains(&share) {
        Ok(share)
    } else {
        Err(Error::setting(
            "AUTOTASK_MAX_SHARE",
            format!("{share} is out of range; give a whole number of percent from 1 to 100"),
        ))
    }
}

/// The Autotask settings, every one required (the zone is discovered when unset).
pub fn resolve(env: &Env) -> Result<AutotaskSettings> {
    Ok(AutotaskSettings {
        username: username(env)?.ok_or_else(|| {
            Error::setting(
                "AUTOTASK_USERNAME",
                format!("not set; {USER_HINT} ({})", env.where_read()),
            )
        })?,
        secret: env.secret("AUTOTASK_SECRET", USER_HINT)?,
        integration_code: env.secret(
            "AUTOTASK_INTEGRATION_CODE",
            "it is the API user's API Tracking Identifier (on the API user, under Admin > Account Settings & Users > Resources/Users)",
        )?,
        base_url: zone(env)?,
        discovery_url: discovery_url(env)?,
        read_streams: read_streams(env)?,
    })
}

/// `AUTOTASK_BASE_URL`: a zone URL ending in `/ATServicesRest/`.
fn zone(env: &Env) -> Result<Option<Url>> {
    let Some(url) = env.url("AUTOTASK_BASE_URL", None)?.map(with_trailing_slash) else {
        return Ok(None);
    };
    if !url
        .path()
        .to_ascii_lowercase()
        .ends_with("/atservicesrest/")
    {
        return Err(Error::setting(
            "AUTOTASK_BASE_URL",
            format!(
                "the URL at {} is not a zone URL; give one ending in /ATServicesRest/, \
                 e.g. https://webservices5.autotask.net/ATServicesRest/ (or unset it to discover it)",
                crate::http::origin::label(&url)
            ),
        ));
    }
    Ok(Some(url))
}

const DEFAULT_DISCOVERY_URL: &str = "https://webservices.autotask.net/ATServicesRest/";

fn discovery_url(env: &Env) -> Result<Url> {
    let url = match env.url("AUTOTASK_DISCOVERY_URL", None)? {
        Some(url) => url,
        None => Url::parse(DEFAULT_DISCOVERY_URL).map_err(|e| Error::Local(e.to_string()))?,
    };
    Ok(with_trailing_slash(url))
}

fn username(env: &Env) -> Result<Option<String>> {
    let Some(username) = env.get("AUTOTASK_USERNAME") else {
        return Ok(None);
    };
    if !username.contains('@') {
        return Err(Error::setting(
            "AUTOTASK_USERNAME",
            "must be the API user's username, an e-mail address such as api@example.com",
        ));
    }
    Ok(Some(username))
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url
}

/// The services of `AUTOTASK_SERVICES` (its default when unset), and whether it was set:
/// then every type it names must exist in the tenant.
pub fn services(env: &Env) -> Result<(Vec<AutotaskService>, bool)> {
    let text = env
        .get("AUTOTASK_SERVICES")
        .unwrap_or_else(|| DEFAULT_AUTOTASK_SERVICES.to_string());
    let services = parse_autotask_services(&text)
        .map_err(|problem| Error::setting("AUTOTASK_SERVICES", problem))?;
    Ok((services, env.get("AUTOTASK_SERVICES").is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn autotask_base_url_must_be_a_zone_url() {
        for bad in [
            "http://127.0.0.1:8712",
            "https://webservices5.autotask.net/ATServicesRest/V1.0/",
        ] {
            let env = Env::from_pairs([("AUTOTASK_BASE_URL", bad)]);
            match check(&env).unwrap_err() {
                Error::Setting { variable, .. } => assert_eq!(variable, "AUTOTASK_BASE_URL"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        let env = Env::from_pairs([(
            "AUTOTASK_BASE_URL",
            "https://webservices5.autotask.net/atservicesrest",
        )]);
        assert!(check(&env).is_ok());
    }
}
