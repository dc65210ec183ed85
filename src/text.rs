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
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// The civil date (year, month 1–12, day 1–31) of a day number counted from 1970-01-01
/// (Howard Hinnant's algorithm, proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The day number, counted from 1970-01-01, of a civil date: the inverse of
/// [`civil_from_days`].
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A time text that [`parse_utc`] refuses; it prints as one line naming the text (escaped and
/// cut, since it came from a server).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 time: \"{0}\"")]
pub struct BadTime(String);

/// Seconds since the Unix epoch of a time as ConnectWise and CrewHu write it
/// (docs/apis.md §2.8, §5b): `2026-11-02T14:00:00Z`, with or without fractional seconds, with
/// `Z` or a numeric offset (`+00:00`, `-05:00`); a date alone (`2026-11-02`, as some
/// ConnectWise date fields are) is midnight UTC.
///
/// Fractions of a second are dropped (rounded down), so a time keeps its order against whole
/// seconds: `…:59.9` is still before the next second. Anything else is an error, never a
/// default: an impossible date (`2026-02-30`), a leap second, a time without a zone (its
/// instant is unknown), trailing text.
pub fn parse_utc(text: &str) -> Result<i64, BadTime> {
    parse_utc_parts(text.as_bytes()).ok_or_else(|| {
        let shown: String = text.chars().take(64).collect();
        BadTime(escape(&shown).into_owned())
    })
}

fn parse_utc_parts(s: &[u8]) -> Option<i64> {
    let mut i = 0;
    let digits = |n: usize, i: &mut usize| -> Option<i64> {
        let part = s.get(*i..*i + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *i += n;
        Some(part.iter().fold(0, |acc, b| acc * 10 + i64::from(b - b'0')))
    };
    let eat = |c: u8, i: &mut usize| -> bool {
        if s.get(*i) == Some(&c) {
            *i += 1;
            true
        } else {
            false
        }
    };
    let year = digits(4, &mut i)?;
    if !eat(b'-', &mut i) {
        return None;
    }
    let month = digits(2, &mut i)?;
    if !eat(b'-', &mut i) {
        return None;
    }
    let day = digits(2, &mut i)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date = days_from_civil(year, month, day) * 86_400;
    if i == s.len() {
        return Some(date);
    }
    if !(eat(b'T', &mut i) || eat(b't', &mut i)) {
        return None;
    }
    let hour = digits(2, &mut i)?;
    if !eat(b':', &mut i) {
        return None;
    }
    let minute = digits(2, &mut i)?;
    if !eat(b':', &mut i) {
        return None;
    }
    let second = digits(2, &mut i)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if eat(b'.', &mut i) {
        let start = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match s.get(i)? {
        b'Z' | b'z' => {
            i += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            let sign = if *sign == b'+' { 1 } else { -1 };
            i += 1;
            let oh = digits(2, &mut i)?;
            if !eat(b':', &mut i) {
                return None;
            }
            let om = digits(2, &mut i)?;
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3_600 + om * 60)
        }
        _ => return None,
    };
    if i != s.len() {
        return None;
    }
    Some(date + hour * 3_600 + minute * 60 + second - offset)
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text that a
/// spreadsheet would run as a formula (first character `=`, `+`, `-`, `@`, tab or carriage
/// return) is prefixed with `'`; a plain number such as `-7` or `-0.5` is left as it is, so it
/// stays a number (docs/SECURITY.md).
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(s) {
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

/// `-12`, `-0.5`, `3`: an optional minus, digits, optionally a point and more digits.
fn is_plain_number(s: &str) -> bool {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// "1 item", "2 items", "1 company", "3 companies", "90 days".
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun
        .strip_suffix('y')
        .filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
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
/// columns and padded with spaces to exactly `w`. A cut ends in `…`, so a shortened name or
/// e-mail address never passes for a whole one.
pub fn pad(s: &str, w: usize) -> String {
    let shown = escape(s);
    let fits = width(&shown) <= w;
    let room = if fits { w } else { w.saturating_sub(1) };
    let mut out = String::new();
    let mut used = 0;
    for ch in shown.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + cw > room {
            break;
        }
        out.push(ch);
        used += cw;
    }
    if !fits && w > 0 {
        out.push('…');
        used += 1;
    }
    out.push_str(&" ".repeat(w.saturating_sub(used)));
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
        assert_eq!(pad("東京 K.K.", 8), "東京 K.…", "a cut ends in …");
        assert_eq!(width(&pad("東京 Trading", 7)), 7);
        assert_eq!(pad("abc", 2), "a…");
        assert_eq!(pad("abc", 3), "abc");
        assert_eq!(pad("a\nb", 6), "a\\nb  ", "a name cannot break a row");
    }

    #[test]
    fn utc_times() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_796_131_627), "2026-12-01T13:27:07Z");
        assert_eq!(utc(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parsed_times() {
        let t = parse_utc("2026-11-02T14:00:00Z").unwrap();
        assert_eq!(utc(t), "2026-11-02T14:00:00Z");
        assert_eq!(
            parse_utc("2026-11-02T14:00:00.999Z"),
            Ok(t),
            "fractions round down"
        );
        assert_eq!(parse_utc("2026-11-02T14:00:00.5+00:00"), Ok(t));
        assert_eq!(parse_utc("2026-11-02T09:00:00-05:00"), Ok(t));
        assert_eq!(parse_utc("2026-11-02T15:30:00+01:30"), Ok(t));
        assert_eq!(parse_utc("2026-11-02t14:00:00z"), Ok(t));
        assert_eq!(parse_utc("2026-11-02"), Ok(t - 14 * 3_600));
        assert_eq!(parse_utc("2000-02-29T00:00:00Z"), Ok(951_782_400));
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Ok(0));
        for bad in [
            "",
            "yesterday",
            "2026-11-02T14:00:00",
            "2026-11-02 14:00:00Z",
            "2026-11-02T14:00Z",
            "2026-11-02T14:00:00.Z",
            "2026-11-02T14:00:00Zjunk",
            "2026-11-02T24:00:00Z",
            "2026-11-02T23:59:60Z",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-00",
            "2026-11-02T14:00:00+0100",
            "2026-11-02T14:00:00+24:00",
            " 2026-11-02T14:00:00Z",
            "２０２６-11-02",
        ] {
            assert!(parse_utc(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(
            parse_utc("x\x1b[2J").unwrap_err().to_string(),
            "not an RFC 3339 time: \"x\\x1b[2J\""
        );
    }

    #[test]
    fn csv_fields() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("Fabrikam, Inc."), "\"Fabrikam, Inc.\"");
        assert_eq!(csv_field("Bob's \"Best\""), "\"Bob's \"\"Best\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-7"), "-7", "a negative number stays numeric");
        assert_eq!(csv_field("-0.25"), "-0.25");
        assert_eq!(csv_field("-1+2"), "'-1+2");
        assert_eq!(csv_field("-"), "'-");
        assert_eq!(csv_field("\tcmd"), "'\tcmd");
        assert_eq!(csv_field("\r=1"), "\"'\r=1\"");
        assert_eq!(csv_field("+1 555 0100"), "'+1 555 0100");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "company"), "1 company");
        assert_eq!(plural(3, "company"), "3 companies");
        assert_eq!(plural(0, "item"), "0 items");
        assert_eq!(plural(90, "day"), "90 days");
    }
}
