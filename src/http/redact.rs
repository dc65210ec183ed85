//! The one scrubber for text that came from outside (docs/SECURITY.md).
//!
//! A server may echo our request back: an error page that prints the request headers, a
//! JSON error that quotes the `Authorization` value. Every secret the run was configured
//! with is registered here as it is loaded, together with the forms it travels in (the
//! base64 Gradient token, the Basic `Authorization` value, percent-encoded and JSON-escaped
//! forms), and [`scrub`] replaces each of them by `[redacted]`. Every path that prints text
//! from outside goes through it: HTTP error excerpts, the final error line, log lines
//! (the log writer) and the reports on stdout.

use std::sync::RwLock;

use base64::Engine;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Shorter values are not scrubbed: replacing every "abc" in a report would garble it, and no
/// real key is this short (Gradient, ConnectWise and Autotask keys are 16+ characters).
const MIN_LEN: usize = 6;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value and the forms derived from it.
pub fn register(value: &str) {
    let mut forms = vec![value.to_string()];
    forms.extend(encoded_forms(value));
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for form in forms {
        if form.chars().count() >= MIN_LEN && !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    // Longest first, so a token is replaced whole before a key inside it is.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Registers a value that is sent base64-encoded (an auth token built from several
/// secrets): the value, and its base64 forms.
pub fn register_token(raw: &str) {
    register(raw);
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        register(&engine.encode(raw));
    }
}

fn encoded_forms(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    // application/x-www-form-urlencoded (space as '+') and percent-encoding (space as %20).
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    out.push(form.replace('+', "%20"));
    out.push(form);
    // Lower-case percent escapes, as some servers print them.
    out.push(lower_percent(&out[0]));
    // Inside a JSON string: as serde writes it, with `\/` (PHP), and with every
    // non-alphanumeric character as `\uXXXX` (.NET), in both cases of hex.
    if let Ok(json) = serde_json::to_string(value) {
        let inner = json[1..json.len() - 1].to_string();
        out.push(inner.replace('/', "\\/"));
        out.push(inner);
    }
    let unicode_escaped = |upper: bool| -> String {
        value
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_string()
                } else if upper {
                    format!("\\u{:04X}", c as u32)
                } else {
                    format!("\\u{:04x}", c as u32)
                }
            })
            .collect()
    };
    out.push(unicode_escaped(true));
    out.push(unicode_escaped(false));
    // In HTML.
    out.push(
        value
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;"),
    );
    out
}

/// Decodes what a server may have encoded around an echoed value, so the scrubber sees the
/// value itself: a JSON document is re-written with serde (which leaves `+`, `&`, `/` and
/// non-ASCII unescaped), and HTML character references are decoded.
pub fn decoded(text: &str) -> String {
    let text = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => serde_json::to_string(&v).unwrap_or_else(|_| text.to_string()),
        Err(_) => text.to_string(),
    };
    decode_html(&text)
}

fn decode_html(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[..rest.len().min(12)].find(';');
        let decoded = end.and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn lower_percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for _ in 0..2 {
                if let Some(h) = chars.next() {
                    out.push(h.to_ascii_lowercase());
                }
            }
        }
    }
    out
}

/// `text` with every registered secret replaced by `[redacted]`.
pub fn scrub(text: &str) -> String {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_their_encodings_are_scrubbed() {
        register("s3cr3t/with space+plus");
        register_token("vendor-key-123:partner-key-456");
        let basic =
            base64::engine::general_purpose::STANDARD.encode("vendor-key-123:partner-key-456");
        let text = format!(
            "echo: gradient-token: {basic}; raw s3cr3t/with space+plus; \
             q=s3cr3t%2Fwith%20space%2Bplus; f=s3cr3t%2fwith%20space%2bplus; form=s3cr3t%2Fwith+space%2Bplus"
        );
        let out = scrub(&text);
        assert!(!out.contains(&basic), "{out}");
        assert!(!out.contains("s3cr3t"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 5, "{out}");
    }

    #[test]
    fn echoes_in_other_encodings_are_scrubbed() {
        register("Xy7+Kq2&Lm9<Zt/q");
        for echo in [
            r#"{"secret":"Xy7\u002BKq2\u0026Lm9\u003CZt\/q"}"#,
            r#"{"secret":"Xy7\u002bKq2\u0026Lm9\u003cZt/q"}"#,
            "<p>secret: Xy7+Kq2&amp;Lm9&lt;Zt/q</p>",
            "secret: Xy7&#43;Kq2&#x26;Lm9&#60;Zt&#x2F;q",
        ] {
            let out = scrub(&decoded(echo));
            assert!(!out.contains("Kq2"), "{echo} -> {out}");
        }
        assert_eq!(decoded("a &amp b &zz; &#xZZ;"), "a &amp b &zz; &#xZZ;");
    }

    #[test]
    fn short_values_are_left_alone() {
        register("abc");
        assert_eq!(scrub("abc abc"), "abc abc");
    }
}
