//! Text for people: terminal safety, plurals, and table cells.
//!
//! Text from outside (company names, server messages) is printed with its control
//! characters escaped, so a name cannot clear the screen, retitle the window, reorder what
//! follows it, or forge a table row (docs/SECURITY.md).

use std::borrow::Cow;

/// Seconds since the Unix epoch as an RFC 3339 UTC time, `2026-12-01T13:45:00Z`.
pub fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days to a civil date (Howard Hinnant's algorithm, proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// A CSV field: quoted when it holds a comma, quote or line break; a text that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`) is prefixed with `'`.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// "1 item", "2 items", "1 company", "3 companies".
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// Display width on a terminal, as printed (escaped): accented letters take one column,
/// CJK two.
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(escape(s).as_ref())
}

/// The width of a table column: its widest cell or its header, at most `max` columns (longer
/// cells are cut by [`pad`]).
pub fn column_width<'a>(cells: impl Iterator<Item = &'a str>, header: &str, max: usize) -> usize {
    cells
        .map(width)
        .max()
        .unwrap_or(0)
        .max(width(header))
        .min(max)
}

/// `s`, its control characters escaped (a name must not forge a row), cut to at most `w`
/// columns and padded with spaces to exactly `w`.
pub fn pad(s: &str, w: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for ch in escape(s).chars() {
        let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + cw > w {
            break;
        }
        out.push(ch);
        used += cw;
    }
    out.push_str(&" ".repeat(w - used));
    out
}

/// Whether `c` must not reach a terminal raw: every C0 control (NUL, CR, LF, TAB, ESC…),
/// DEL, every C1 control, and the bidirectional embedding, override and isolate controls.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        // The other invisible direction marks, line and paragraph separators, and the BOM.
        | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// `s` with every unsafe character written as a visible escape (`\n`, `\x1b`, `\u{202e}`).
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_except(s, None)
}

/// Like [`escape`], but keeps line feeds: for whole reports and log records whose own
/// layout uses them (the values inside were escaped with [`escape`] already).
pub fn escape_keeping_newlines(s: &str) -> Cow<'_, str> {
    escape_except(s, Some('\n'))
}

fn escape_except(s: &str, keep: Option<char>) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) && Some(c) != keep) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c) || Some(c) == keep {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_text_is_kept() {
        assert_eq!(escape("Contoso Café 東京"), "Contoso Café 東京");
        assert_eq!(
            escape("A\x1b[2J\x1b]0;pwned\x07B"),
            "A\\x1b[2J\\x1b]0;pwned\\x07B"
        );
        assert_eq!(escape("x\r\nFAKE 999999\t"), "x\\r\\nFAKE 999999\\t");
        assert_eq!(escape("\0\x7f\u{85}\u{9b}"), "\\0\\x7f\\x85\\x9b");
        assert_eq!(escape("abc\u{202e}fed\u{2066}"), "abc\\u{202e}fed\\u{2066}");
        assert_eq!(escape_keeping_newlines("a\nb\x1b"), "a\nb\\x1b");
    }

    #[test]
    fn padding_counts_display_columns() {
        assert_eq!(pad("Café", 6), "Café  ");
        assert_eq!(pad("東京 K.K.", 8), "東京 K.K");
        assert_eq!(width(&pad("東京 Trading", 7)), 7);
        assert_eq!(pad("abc", 2), "ab");
        assert_eq!(pad("a\nb", 6), "a\\nb  ", "a name cannot break a row");
    }

    #[test]
    fn utc_times() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_796_131_627), "2026-12-01T13:27:07Z");
    }

    #[test]
    fn csv_fields() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("Fabrikam, Inc."), "\"Fabrikam, Inc.\"");
        assert_eq!(csv_field("Bob's \"Best\""), "\"Bob's \"\"Best\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "company"), "1 company");
        assert_eq!(plural(3, "company"), "3 companies");
        assert_eq!(plural(0, "item"), "0 items");
    }
}
