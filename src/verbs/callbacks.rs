//! `callbacks register | list | remove` (docs/contract.md §6, docs/apis.md §2.9): the
//! ConnectWise callbacks that tell `listen` when to re-read.
//!
//! - A callback is ours when its `url` starts with the URL given to `register`; no other
//!   callback is ever modified.
//! - `register` reconciles: it lists the callbacks whose URL starts with ours, creates only the
//!   missing types (level `owner`, objectId 1), and, when a creation fails, deletes the ones it
//!   created before answering the error. Each created callback is remembered in the ledger,
//!   so `remove` without `--url` knows them.
//! - ConnectWise appends the record id to the URL (docs/apis.md §2.9), so the URL registered is
//!   the one given with `?recordId=` (or `&recordId=`) appended, unless it already ends in `=`.

use url::Url;

use crate::config::{self, Env};
use crate::error::{Error, Result};
use crate::ledger::{self, Ledger, RegisteredCallback};
use crate::report::callbacks::{CallbackResult, CallbackRow, CallbacksReport};
use crate::sources::connectwise::{self, CallbackEntry, ConnectWiseClient, NewCallback};
use crate::sources::{self, SourceKind};

/// What `callbacks` does.
#[derive(Debug, Clone)]
pub enum CallbacksAction {
    Register { url: String },
    List,
    Remove { url: Option<String> },
}

/// What registered callbacks are described as in ConnectWise.
const DESCRIPTION: &str = "synthesize-sync: re-read on change";

/// The callback types the configured source needs: its own record type, and `company` (a
/// company's changes can change its counts). Without a source, both ConnectWise sources'.
/// `ticket` and `agreement` belong to the engagement snapshot, which is not built yet: they
/// are added when it is.
pub fn needed_types(source: Option<SourceKind>) -> Vec<&'static str> {
    // `company`, `ticket` and `agreement` feed the engagement snapshot `listen` takes after
    // them (docs/contract.md §6); `company` also resyncs the source.
    let mut types = match source.map(|k| k.name()) {
        Some("connectwise-contacts") => vec!["contact", "company"],
        Some("connectwise-shared-devices") => vec!["configuration", "company"],
        _ => vec!["contact", "configuration", "company"],
    };
    types.extend(["ticket", "agreement"]);
    types
}

/// The source, which must be a ConnectWise one when given.
fn connectwise_source(env: &Env, flag: Option<SourceKind>) -> Result<Option<SourceKind>> {
    let source = sources::optional(env, flag)?;
    if let Some(k) = source
        && !k.name().starts_with("connectwise-")
    {
        return Err(Error::Usage(format!(
            "callbacks are ConnectWise's; the source is {} (set SYNC_SOURCE or --source to a \
             connectwise-* source)",
            k.name()
        )));
    }
    Ok(source)
}

/// `--url`: an absolute http(s) URL without credentials, trimmed.
pub fn check_url(text: &str) -> Result<String> {
    let text = text.trim();
    let bad = |why: &str| {
        Error::Usage(format!(
            "--url {why}; give e.g. https://sync.example.com/connectwise/callback"
        ))
    };
    let url = Url::parse(text).map_err(|_| bad("is not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not hold a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not hold a #fragment"));
    }
    if url.scheme() == "http" && !crate::http::origin::is_loopback(&url) {
        tracing::warn!(
            "--url is plain http: ConnectWise would deliver callbacks unencrypted; put listen \
             behind a TLS reverse proxy or a tunnel and register its https URL"
        );
    }
    Ok(text.to_string())
}

/// The URL registered for `url`: ConnectWise appends the record id to it.
pub fn registered_url(url: &str) -> String {
    if url.ends_with('=') {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&recordId=")
    } else {
        format!("{url}?recordId=")
    }
}

/// Whether a callback's URL is one `register --url url` made: it starts with `url` and goes
/// on, if at all, with the query ConnectWise needs (`?` or `&`). A bare prefix is not enough:
/// `…/callback` must not claim another tool's `…/callback-staging` (docs/contract.md §6).
pub fn is_ours(callback_url: &str, url: &str) -> bool {
    callback_url
        .strip_prefix(url)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('?') || rest.starts_with('&'))
}

/// Which ConnectWise site and company the ledger remembers callbacks under.
fn site_key(settings: &connectwise::config::ConnectWiseSettings) -> String {
    format!(
        "{}|{}",
        crate::http::origin::label(&settings.base_url),
        settings.company_id.to_lowercase()
    )
}

fn row(c: &CallbackEntry, ours: bool, result: CallbackResult) -> CallbackRow {
    CallbackRow {
        id: c.id,
        kind: c.kind.clone(),
        level: c.level.clone(),
        object_id: c.object_id,
        url: c.url.clone(),
        inactive: c.inactive_flag,
        ours,
        result,
    }
}

fn open_ledger(env: &Env, create: bool) -> Result<Option<Ledger>> {
    let Some(dir) = ledger::location::state_dir(env) else {
        return Err(Error::setting(
            "SYNC_STATE_DIR",
            "not set, and no home directory to keep the ledger in (it remembers the callbacks \
             registered); set it to a directory this user can write",
        ));
    };
    if create {
        Ledger::open(&dir).map(Some)
    } else {
        Ledger::open_existing(&dir)
    }
}

pub async fn callbacks(
    env: &Env,
    source_flag: Option<SourceKind>,
    action: CallbacksAction,
) -> Result<CallbacksReport> {
    let source = connectwise_source(env, source_flag)?;
    let http = config::http(env)?;
    let (mut client, settings) = connectwise::client(env, &http)?;
    let site = site_key(&settings);
    match action {
        CallbacksAction::Register { url } => {
            let url = check_url(&url)?;
            // Opened before anything is created: a callback we could not remember is one
            // `remove` would not find.
            let ledger = open_ledger(env, true)?.ok_or_else(|| Error::Local("no ledger".into()))?;
            let rows = register(&mut client, &ledger, &site, &url, &needed_types(source)).await?;
            Ok(CallbacksReport {
                action: "register",
                url: Some(url),
                callbacks: rows,
            })
        }
        CallbacksAction::List => {
            let remembered: Vec<RegisteredCallback> = match open_ledger(env, false)? {
                Some(l) => l.registered_callbacks(&site)?,
                None => Vec::new(),
            };
            let all = client.list_callbacks(None).await?;
            let rows = all
                .iter()
                .map(|c| {
                    let ours = remembered
                        .iter()
                        .any(|r| r.id == c.id || c.url.starts_with(&r.url));
                    row(c, ours, CallbackResult::Listed)
                })
                .collect();
            Ok(CallbacksReport {
                action: "list",
                url: None,
                callbacks: rows,
            })
        }
        CallbacksAction::Remove { url } => {
            let url = url.as_deref().map(check_url).transpose()?;
            let ledger = open_ledger(env, url.is_some())?;
            let rows = remove(&mut client, ledger.as_ref(), &site, url.as_deref()).await?;
            Ok(CallbacksReport {
                action: "remove",
                url,
                callbacks: rows,
            })
        }
    }
}

/// Creates the missing types; on a failure, deletes what this call created.
async fn register(
    client: &mut ConnectWiseClient,
    ledger: &Ledger,
    site: &str,
    url: &str,
    types: &[&str],
) -> Result<Vec<CallbackRow>> {
    let existing: Vec<CallbackEntry> = client
        .list_callbacks(Some(url))
        .await?
        .into_iter()
        .filter(|c| is_ours(&c.url, url))
        .collect();
    let mut rows = Vec::new();
    let mut created: Vec<CallbackEntry> = Vec::new();
    for kind in types {
        let found = existing.iter().find(|c| {
            c.kind.eq_ignore_ascii_case(kind)
                && c.level.eq_ignore_ascii_case("owner")
                && !c.inactive_flag
        });
        if let Some(c) = found {
            remember(ledger, site, c);
            rows.push(row(c, true, CallbackResult::Exists));
            continue;
        }
        let new = NewCallback {
            url: registered_url(url),
            kind: (*kind).to_string(),
            level: "owner".into(),
            object_id: 1,
            description: DESCRIPTION.into(),
        };
        match client.create_callback(&new).await {
            Ok(c) => {
                remember(ledger, site, &c);
                rows.push(row(&c, true, CallbackResult::Created));
                created.push(c);
            }
            Err(e) => {
                let mut left = Vec::new();
                for c in &created {
                    match client.delete_callback(c.id).await {
                        Ok(_) => {
                            let _ = ledger.forget_callback(site, c.id);
                        }
                        Err(e) => {
                            tracing::error!("rolling back callback {}: {e}", c.id);
                            left.push(c.id.to_string());
                        }
                    }
                }
                let undone = if left.is_empty() {
                    format!("the {} created before it were removed again", created.len())
                } else {
                    format!(
                        "callbacks {} could not be removed again (`callbacks remove` retries)",
                        left.join(", ")
                    )
                };
                return Err(Error::api(
                    crate::error::Side::ConnectWise,
                    format!("registering the '{kind}' callback failed ({e}); {undone}"),
                ));
            }
        }
    }
    Ok(rows)
}

fn remember(ledger: &Ledger, site: &str, c: &CallbackEntry) {
    let r = RegisteredCallback {
        id: c.id,
        url: c.url.clone(),
        kind: c.kind.clone(),
    };
    if let Err(e) = ledger.remember_callback(site, &r) {
        tracing::warn!(
            "{e}; `callbacks remove` without --url will not know callback {}",
            c.id
        );
    }
}

/// Removes ours: those whose URL starts with `url`, or without it, those the ledger
/// remembers (each checked first: still there, and still the URL we registered).
async fn remove(
    client: &mut ConnectWiseClient,
    ledger: Option<&Ledger>,
    site: &str,
    url: Option<&str>,
) -> Result<Vec<CallbackRow>> {
    let targets: Vec<(CallbackEntry, CallbackResult)> = match url {
        Some(url) => client
            .list_callbacks(Some(url))
            .await?
            .into_iter()
            .filter(|c| is_ours(&c.url, url))
            .map(|c| (c, CallbackResult::Removed))
            .collect(),
        None => {
            let remembered = match ledger {
                Some(l) => l.registered_callbacks(site)?,
                None => Vec::new(),
            };
            if remembered.is_empty() {
                return Ok(Vec::new());
            }
            let all = client.list_callbacks(None).await?;
            remembered
                .into_iter()
                .map(
                    |r| match all.iter().find(|c| c.id == r.id && c.url == r.url) {
                        Some(c) => (c.clone(), CallbackResult::Removed),
                        None => (
                            CallbackEntry {
                                id: r.id,
                                url: r.url,
                                kind: r.kind,
                                level: "owner".into(),
                                object_id: 1,
                                ..CallbackEntry::default()
                            },
                            CallbackResult::Gone,
                        ),
                    },
                )
                .collect()
        }
    };
    let mut rows = Vec::new();
    for (c, mut result) in targets {
        if result == CallbackResult::Removed && !client.delete_callback(c.id).await? {
            result = CallbackResult::Gone;
        }
        if let Some(l) = ledger
            && let Err(e) = l.forget_callback(site, c.id)
        {
            tracing::warn!("{e}");
        }
        rows.push(row(&c, true, result));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_is_our_url_and_its_query_not_a_longer_path() {
        let url = "https://sync.example.com/connectwise/callback";
        assert!(is_ours(&registered_url(url), url));
        assert!(is_ours(url, url));
        assert!(!is_ours(
            "https://sync.example.com/connectwise/callback-staging?recordId=",
            url
        ));
        assert!(!is_ours(
            "https://sync.example.com/connectwise/callbacks?recordId=",
            url
        ));
        assert!(!is_ours("https://other.example/connectwise/callback", url));
        let with_query = "https://sync.example.com/cb?tenant=a";
        assert!(is_ours(&registered_url(with_query), with_query));
        assert!(!is_ours(
            "https://sync.example.com/cb?tenant=ab&recordId=",
            with_query
        ));
    }

    #[test]
    fn the_record_id_is_appended_once() {
        assert_eq!(registered_url("https://h/cb"), "https://h/cb?recordId=");
        assert_eq!(
            registered_url("https://h/cb?a=1"),
            "https://h/cb?a=1&recordId="
        );
        assert_eq!(registered_url("https://h/cb?id="), "https://h/cb?id=");
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url(" https://h.example/cb ").is_ok());
        for bad in [
            "/cb",
            "ftp://h/cb",
            "https://u:p@h/cb",
            "https://h/cb#x",
            "nope",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
