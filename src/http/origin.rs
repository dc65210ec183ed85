//! The one rule for where a request may go, and with which credentials (docs/SECURITY.md).
//!
//! - A **configured** base URL (a setting) must be `https://`, or `http://` on a loopback host
//!   (the sandbox and the tests), and must not carry `user:pass@`: credentials travel in
//!   headers, never in URLs, and never in clear text over a network.
//! - A **discovered** base (the Autotask zone from zone discovery) obeys the same rule.
//! - A **next-page URL** handed out by a server (ConnectWise `Link`, Autotask `nextPageUrl`)
//!   is followed only on the host the credentials were configured for. It is rebuilt on our own
//!   scheme and port, so a link can never move the credentials to another origin or from
//!   https to http; a link to another host is refused.
//! - **Redirects** are never followed (the HTTP client is built without a redirect policy and
//!   the layer turns every 3xx into an error); [`label`] is what an error says about the
//!   target: scheme, host and port, never a path or query.

use std::net::IpAddr;

use url::{Host, Url};

/// Whether `url` names this machine: the name `localhost`, or an address in 127.0.0.0/8 or ::1.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        // Only the name `localhost` itself: `*.localhost` goes to a resolver that might answer.
        Some(Host::Domain(d)) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// `scheme://host[:port]` of a URL: what an error may say about a place, never its path or
/// query (they may hold tokens).
pub fn label(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Why a URL may not receive credentials. The text is a clause for an error message and
/// never repeats the URL's path, query or user info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotHttp,
    NoHost,
    UserInfo,
    PlainHttp { origin: String },
    OtherHost { origin: String, expected: String },
    NotAUrl,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotHttp => f.write_str("is not an http:// or https:// URL"),
            Refusal::NoHost => f.write_str("has no host"),
            Refusal::UserInfo => f.write_str(
                "holds a user name or password (user:pass@); credentials go in their own \
                 settings, never in a URL",
            ),
            Refusal::PlainHttp { origin } => write!(
                f,
                "is plain http ({origin}); credentials are only sent over https (http is \
                 allowed on this machine's loopback only)"
            ),
            Refusal::OtherHost { origin, expected } => write!(
                f,
                "points at {origin}, not at {expected}; the credentials are not sent anywhere \
                 else"
            ),
            Refusal::NotAUrl => f.write_str("is not a URL"),
        }
    }
}

/// Checks a base URL that credentials will be sent to: a setting, or an address a server
/// told us to use (the Autotask zone).
pub fn check_base(url: &Url) -> Result<(), Refusal> {
    match url.scheme() {
        "https" | "http" => {}
        _ => return Err(Refusal::NotHttp),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Refusal::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::UserInfo);
    }
    if url.scheme() == "http" && !is_loopback(url) {
        return Err(Refusal::PlainHttp { origin: label(url) });
    }
    Ok(())
}

/// Resolves a next-page link against the page it came with and puts it on the configured
/// origin: the same host is required (ignoring case), and the scheme and port are always
/// ours, so neither an `http://` link nor a proxy's port in it can move the credentials.
pub fn next_page(configured: &Url, current: &Url, link: &str) -> Result<Url, Refusal> {
    let mut next = current.join(link.trim()).map_err(|_| Refusal::NotAUrl)?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(Refusal::NotHttp);
    }
    if !next.username().is_empty() || next.password().is_some() {
        return Err(Refusal::UserInfo);
    }
    let same_host = next
        .host_str()
        .zip(configured.host_str())
        .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
    if !same_host {
        return Err(Refusal::OtherHost {
            origin: label(&next),
            expected: label(configured),
        });
    }
    // `set_scheme` refuses only special↔non-special changes; http and https are both special.
    next.set_scheme(configured.scheme())
        .map_err(|()| Refusal::NotHttp)?;
    next.set_port(configured.port())
        .map_err(|()| Refusal::NoHost)?;
    next.set_fragment(None);
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_hosts() {
        for yes in [
            "http://127.0.0.1:8710",
            "http://127.9.9.9",
            "http://localhost:1",
            "http://LOCALHOST.",
            "http://[::1]:9",
        ] {
            assert!(is_loopback(&url(yes)), "{yes}");
        }
        for no in [
            "http://10.0.0.1",
            "http://localhost.evil.example",
            "http://api.localhost:8710",
            "http://127.0.0.1.nip.io",
            "http://[::2]",
        ] {
            assert!(!is_loopback(&url(no)), "{no}");
        }
    }

    #[test]
    fn bases_must_be_https_without_user_info() {
        assert!(check_base(&url("https://api-na.myconnectwise.net")).is_ok());
        assert!(check_base(&url("http://127.0.0.1:8711")).is_ok());
        assert!(matches!(
            check_base(&url("http://api-na.myconnectwise.net")),
            Err(Refusal::PlainHttp { .. })
        ));
        assert_eq!(
            check_base(&url("https://me:pw@app.usegradient.com")),
            Err(Refusal::UserInfo)
        );
        assert_eq!(
            check_base(&url("https://me@app.usegradient.com")),
            Err(Refusal::UserInfo)
        );
        assert_eq!(check_base(&url("ftp://x.example")), Err(Refusal::NotHttp));
    }

    #[test]
    fn next_pages_stay_on_the_configured_origin() {
        let base = url("https://api-na.myconnectwise.net");
        let current =
            url("https://api-na.myconnectwise.net/v2025_1/apis/3.0/company/contacts?pageSize=1000");
        let next = next_page(
            &base,
            &current,
            "http://API-NA.myconnectwise.net:80/v2025_1/apis/3.0/company/contacts?fields=id,types&pageId=77",
        )
        .unwrap();
        assert_eq!(
            next.as_str(),
            "https://api-na.myconnectwise.net/v2025_1/apis/3.0/company/contacts?fields=id,types&pageId=77"
        );
        let relative = next_page(&base, &current, "contacts?pageId=9").unwrap();
        assert_eq!(relative.path(), "/v2025_1/apis/3.0/company/contacts");
        let e = next_page(&base, &current, "https://evil.example/x?pageId=1").unwrap_err();
        assert!(e.to_string().contains("https://evil.example"), "{e}");
        assert!(!e.to_string().contains("pageId"), "{e}");
        assert_eq!(
            next_page(&base, &current, "https://u:p@api-na.myconnectwise.net/x"),
            Err(Refusal::UserInfo)
        );
        assert_eq!(
            next_page(&base, &current, "javascript:alert(1)"),
            Err(Refusal::NotHttp)
        );
    }

    #[test]
    fn labels_never_show_paths_or_queries() {
        assert_eq!(
            label(&url("https://evil.example:8443/login?token=abc")),
            "https://evil.example:8443"
        );
        assert_eq!(label(&url("https://x.example/")), "https://x.example");
    }
}
