//! The `Link` header (RFC 8288), as ConnectWise pages with it (docs/apis.md §2.4).

use reqwest::header::{HeaderMap, LINK};

/// What the `Link` header says about the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextLink {
    /// The next page's URL (as written; may be relative).
    Url(String),
    /// The header is there, with no `rel="next"` (empty on forward-only's last page).
    End,
    /// No `Link` header at all.
    Absent,
}

/// Reads every `Link` header value for `rel="next"`.
pub fn next_link(headers: &HeaderMap) -> Result<NextLink, String> {
    let mut present = false;
    for value in headers.get_all(LINK) {
        present = true;
        let text = value
            .to_str()
            .map_err(|_| "the Link header is not text".to_string())?;
        for (url, rels) in parse_link_header(text)? {
            if rels.iter().any(|r| r.eq_ignore_ascii_case("next")) {
                return Ok(NextLink::Url(url));
            }
        }
    }
    Ok(if present {
        NextLink::End
    } else {
        NextLink::Absent
    })
}

/// Parses an RFC 8288 `Link` value into (URL, rels). URLs are taken from between `<` and
/// `>`, never split on commas: ConnectWise repeats the request's query in them, and
/// `fields=id,name` puts raw commas inside the brackets (docs/apis.md §2.4).
pub fn parse_link_header(text: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let bad = |why: &str| format!("could not read the Link header ({why}): {text}");
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            return Ok(out);
        }
        let Some(after_open) = rest.strip_prefix('<') else {
            return Err(bad("a link must start with '<'"));
        };
        let close = after_open.find('>').ok_or_else(|| bad("no closing '>'"))?;
        let url = after_open[..close].trim().to_string();
        rest = &after_open[close + 1..];
        let mut rels = Vec::new();
        // Parameters: `; name=value` or `; name="quoted, value"`, up to the next link.
        loop {
            rest = rest.trim_start();
            let Some(after_semi) = rest.strip_prefix(';') else {
                break;
            };
            let after_semi = after_semi.trim_start();
            let name_end = after_semi
                .find(|c: char| c == '=' || c == ';' || c == ',' || c.is_whitespace())
                .unwrap_or(after_semi.len());
            let name = &after_semi[..name_end];
            rest = after_semi[name_end..].trim_start();
            let mut value = String::new();
            if let Some(v) = rest.strip_prefix('=') {
                let v = v.trim_start();
                if let Some(quoted) = v.strip_prefix('"') {
                    let mut chars = quoted.char_indices();
                    let mut end = None;
                    while let Some((i, c)) = chars.next() {
                        match c {
                            '\\' => {
                                if let Some((_, escaped)) = chars.next() {
                                    value.push(escaped);
                                }
                            }
                            '"' => {
                                end = Some(i);
                                break;
                            }
                            c => value.push(c),
                        }
                    }
                    let end = end.ok_or_else(|| bad("an unterminated quoted value"))?;
                    rest = &quoted[end + 1..];
                } else {
                    let end = v.find([';', ',']).unwrap_or(v.len());
                    value = v[..end].trim().to_string();
                    rest = &v[end..];
                }
            }
            if name.eq_ignore_ascii_case("rel") {
                rels.extend(value.split_whitespace().map(str::to_string));
            }
        }
        out.push((url, rels));
        rest = rest.trim_start();
        if !rest.is_empty() && !rest.starts_with(',') {
            return Err(bad("unexpected text after a link"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn link_urls_keep_their_commas() {
        let h = "<http://h/v2025_1/apis/3.0/company/contacts?fields=id,company/id,types/name&pageSize=1000&pageId=1500>; rel=\"next\"";
        let links = parse_link_header(h).unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(
            links[0].0,
            "http://h/v2025_1/apis/3.0/company/contacts?fields=id,company/id,types/name&pageSize=1000&pageId=1500"
        );
        assert_eq!(links[0].1, vec!["next"]);
    }

    #[test]
    fn navigable_links_find_next_among_several() {
        let h = "<https://h/x?fields=a,b&page=1>; rel=\"first\", <https://h/x?fields=a,b&page=2>; rel=\"prev\", \
                 <https://h/x?fields=a,b&page=4>; rel=\"next\", <https://h/x?fields=a,b&page=9>; rel=last";
        let links = parse_link_header(h).unwrap();
        let rels: Vec<&str> = links.iter().map(|(_, r)| r[0].as_str()).collect();
        assert_eq!(rels, ["first", "prev", "next", "last"]);
        let mut headers = HeaderMap::new();
        headers.insert(LINK, HeaderValue::from_str(h).unwrap());
        assert_eq!(
            next_link(&headers).unwrap(),
            NextLink::Url("https://h/x?fields=a,b&page=4".into())
        );
    }

    #[test]
    fn quoted_parameters_may_hold_commas_and_several_rels() {
        let h = r#"<https://h/a>; title="a, \"b\"; c"; rel="prev next", <https://h/b>; rel="last""#;
        let links = parse_link_header(h).unwrap();
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].1, vec!["prev", "next"]);
        assert_eq!(links[1].0, "https://h/b");
    }

    #[test]
    fn empty_absent_and_broken_link_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(next_link(&headers).unwrap(), NextLink::Absent);
        headers.insert(LINK, HeaderValue::from_static(""));
        assert_eq!(next_link(&headers).unwrap(), NextLink::End);
        headers.insert(
            LINK,
            HeaderValue::from_static("<https://h/x?page=1>; rel=\"first\""),
        );
        assert_eq!(next_link(&headers).unwrap(), NextLink::End);
        for broken in ["<https://h/x", "https://h/x; rel=next", "<a>; rel=\"next"] {
            assert!(parse_link_header(broken).is_err(), "{broken}");
        }
    }
}
