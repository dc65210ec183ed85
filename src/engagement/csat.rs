//! CSAT tallies per company, from CrewHu surveys (docs/apis.md §5b) or from a `--csat FILE`
//! CSV. Either way the result is one [`CsatTally`] per company id, which
//! [`super::score`] turns into `support_satisfaction` (contract §3b).

use std::collections::{HashMap, HashSet};

use super::invalid::Invalid;
use super::score::CsatTally;
use super::window::Window;
use crate::text::escape;

/// The companies being scored, found by id or by identifier.
///
/// Ids are compared as strings (docs/apis.md §5 pitfall 9: CrewHu's `customer_data.ID` is a
/// string), trimmed; identifiers ignoring case. An id wins over an identifier that happens to
/// spell another company's id.
#[derive(Debug, Clone, Default)]
pub struct CompanyKeys {
    ids: HashSet<String>,
    identifiers: HashMap<String, String>,
}

impl CompanyKeys {
    /// From (company id, identifier) pairs, e.g. `("250", "CONTOSO")`.
    pub fn new<'a>(companies: impl IntoIterator<Item = (&'a str, &'a str)>) -> CompanyKeys {
        let mut keys = CompanyKeys::default();
        for (id, identifier) in companies {
            keys.ids.insert(id.trim().to_string());
            keys.identifiers
                .insert(identifier.trim().to_lowercase(), id.trim().to_string());
        }
        keys
    }

    /// The company id that `key` (an id or an identifier) names, if any.
    pub fn resolve(&self, key: &str) -> Option<&str> {
        let key = key.trim();
        if key.is_empty() {
            return None;
        }
        self.ids.get(key).map(String::as_str).or_else(|| {
            self.identifiers
                .get(&key.to_lowercase())
                .map(String::as_str)
        })
    }
}

/// One CrewHu survey, as the verb reads it (docs/apis.md §5b).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Survey {
    /// `closed`, the answer time (Unix seconds); `None` for a survey not answered yet.
    pub closed: Option<i64>,
    /// `rating`: 5 positive, 0 neutral, −5 negative; `None` when not rated.
    pub rating: Option<i64>,
    /// `ticket_num`: the ConnectWise ticket the survey is about.
    pub ticket_num: Option<String>,
    /// `customer_data.ID`: the PSA company id (or identifier).
    pub customer_id: Option<String>,
}

/// The CSAT tallies per company id, and what was left out and why, for the verb to report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsatOutcome {
    pub tallies: HashMap<String, CsatTally>,
    /// Surveys counted in a tally.
    pub counted: u64,
    /// Not answered yet (`closed` null).
    pub unanswered: u64,
    /// Answered before the window or at/after its end.
    pub outside_window: u64,
    /// Answered in the window but without a rating.
    pub unrated: u64,
    /// Rated with something other than 5, 0 or −5 (a survey type this tool does not know).
    /// Left out and counted rather than failing the whole report; the verb prints a warning.
    pub bad_rating: u64,
    /// Neither its ticket nor its customer id leads to a company being scored.
    pub unmatched: u64,
}

impl CsatOutcome {
    /// A company's tally; zero (so `support_satisfaction` is `null`) without surveys.
    pub fn tally(&self, company_id: &str) -> CsatTally {
        self.tallies.get(company_id).copied().unwrap_or_default()
    }

    /// Adds one survey: answered in `window`, rated 5/0/−5, and joined to a company by its
    /// ticket number first (`ticket_company`: ConnectWise ticket id as a string → company id;
    /// it should cover tickets entered before the window too, since a survey can come
    /// later), else by its customer id. Names are never used (docs/apis.md §5b).
    pub fn add(
        &mut self,
        survey: &Survey,
        window: &Window,
        ticket_company: &HashMap<String, String>,
        companies: &CompanyKeys,
    ) {
        let Some(closed) = survey.closed else {
            self.unanswered += 1;
            return;
        };
        if !window.contains(closed) {
            self.outside_window += 1;
            return;
        }
        let Some(rating) = survey.rating else {
            self.unrated += 1;
            return;
        };
        if !matches!(rating, 5 | 0 | -5) {
            self.bad_rating += 1;
            return;
        }
        let by_ticket = survey
            .ticket_num
            .as_deref()
            .and_then(|t| ticket_company.get(t.trim()))
            .and_then(|id| companies.resolve(id));
        let by_customer = || {
            survey
                .customer_id
                .as_deref()
                .and_then(|c| companies.resolve(c))
        };
        let Some(company) = by_ticket.or_else(by_customer) else {
            self.unmatched += 1;
            return;
        };
        self.tallies
            .entry(company.to_string())
            .or_default()
            .add_rating(rating);
        self.counted += 1;
    }
}

/// Every survey through [`CsatOutcome::add`].
pub fn tally_surveys<'a>(
    surveys: impl IntoIterator<Item = &'a Survey>,
    window: &Window,
    ticket_company: &HashMap<String, String>,
    companies: &CompanyKeys,
) -> CsatOutcome {
    let mut outcome = CsatOutcome::default();
    for s in surveys {
        outcome.add(s, window, ticket_company, companies);
    }
    outcome
}

/// The largest `--csat` file accepted: far more than one line per company of any MSP.
pub const MAX_CSAT_FILE_BYTES: usize = 4 * 1024 * 1024;
/// The most data rows accepted in a `--csat` file.
pub const MAX_CSAT_ROWS: usize = 100_000;
/// The most surveys of one kind one company may have in a `--csat` file.
const MAX_COUNT: u64 = 10_000_000;

/// Reads a `--csat FILE` (CSV, RFC 4180): a header row, then one row per company with its
/// survey counts, for MSPs whose CSAT is not in CrewHu:
///
/// ```text
/// company,positive,neutral,negative
/// CONTOSO,12,3,1
/// 251,4,0,0
/// ```
///
/// The company column may be headed `company`, `company_id`, `id` or `identifier` and holds
/// a company id or identifier ([`CompanyKeys::resolve`]); columns may come in any order;
/// header names ignore case and surrounding spaces. Quoted fields (with `""`, commas and line
/// breaks inside), CRLF line ends, a UTF-8 BOM and blank lines are accepted.
///
/// Refused, with the line number: a file over [`MAX_CSAT_FILE_BYTES`] or [`MAX_CSAT_ROWS`]
/// rows, a missing or unknown or repeated column, a row with the wrong number of fields, a
/// count that is not a whole number (or is absurdly large), a company that is not being
/// scored (a typo would otherwise drop its CSAT silently), a company given twice.
pub fn parse_csat_csv(
    text: &str,
    companies: &CompanyKeys,
) -> Result<HashMap<String, CsatTally>, Invalid> {
    if text.len() > MAX_CSAT_FILE_BYTES {
        return Err(Invalid(format!(
            "the CSAT file is {} bytes; the most accepted is {MAX_CSAT_FILE_BYTES}",
            text.len()
        )));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = records(text)?.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err(Invalid(
            "the CSAT file is empty; it needs a header row: company,positive,neutral,negative"
                .into(),
        ));
    };
    let columns = Columns::of(&header)?;
    let mut tallies = HashMap::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (line, fields) in rows {
        let at = |problem: String| Invalid(format!("line {line}: {problem}"));
        if fields.len() != header.len() {
            return Err(at(format!(
                "{} fields, but the header has {}",
                fields.len(),
                header.len()
            )));
        }
        let key = fields[columns.company].trim();
        let Some(company) = companies.resolve(key) else {
            return Err(at(format!(
                "no company being scored has the id or identifier \"{}\"",
                escape(key)
            )));
        };
        if let Some(first) = first_line.insert(company.to_string(), line) {
            return Err(at(format!(
                "company \"{}\" was already given on line {first}",
                escape(key)
            )));
        }
        let count = |i: usize, name: &str| -> Result<u64, Invalid> {
            let v = fields[i].trim();
            v.parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_COUNT && v.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    at(format!(
                        "{name} \"{}\" is not a whole number of surveys (0 to {MAX_COUNT})",
                        escape(v)
                    ))
                })
        };
        let tally = CsatTally {
            positive: count(columns.positive, "positive")?,
            neutral: count(columns.neutral, "neutral")?,
            negative: count(columns.negative, "negative")?,
        };
        tallies.insert(company.to_string(), tally);
    }
    Ok(tallies)
}

/// Where each column of the `--csat` file is.
struct Columns {
    company: usize,
    positive: usize,
    neutral: usize,
    negative: usize,
}

impl Columns {
    fn of(header: &[String]) -> Result<Columns, Invalid> {
        let mut found: [Option<usize>; 4] = [None; 4];
        for (i, name) in header.iter().enumerate() {
            let slot = match name.trim().to_lowercase().as_str() {
                "company" | "company_id" | "company id" | "id" | "identifier" => 0,
                "positive" => 1,
                "neutral" => 2,
                "negative" => 3,
                other => {
                    return Err(Invalid(format!(
                        "line 1: unknown column \"{}\"; the columns are company (id or \
                         identifier), positive, neutral, negative",
                        escape(other)
                    )));
                }
            };
            if found[slot].replace(i).is_some() {
                return Err(Invalid(format!(
                    "line 1: column \"{}\" is given twice",
                    escape(name.trim())
                )));
            }
        }
        let names = ["company", "positive", "neutral", "negative"];
        let mut missing = names.iter().zip(found).filter(|(_, f)| f.is_none());
        if let Some((name, _)) = missing.next() {
            return Err(Invalid(format!(
                "line 1: the header has no {name} column; it needs company,positive,neutral,negative"
            )));
        }
        let [Some(company), Some(positive), Some(neutral), Some(negative)] = found else {
            unreachable!("every column was found above")
        };
        Ok(Columns {
            company,
            positive,
            neutral,
            negative,
        })
    }
}

/// The most fields a row may have (the file needs four).
const MAX_FIELDS: usize = 64;

/// RFC 4180 records, each with the line it starts on; blank ones left out. At most
/// [`MAX_CSAT_ROWS`] rows after the header and [`MAX_FIELDS`] fields a row, so a hostile file
/// cannot make thousands of empty fields or rows out of a few bytes each.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, Invalid> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        None => {
                            return Err(Invalid(format!(
                                "line {start}: a quoted field is never closed"
                            )));
                        }
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
                if !matches!(chars.peek(), None | Some(',' | '\n' | '\r')) {
                    return Err(Invalid(format!(
                        "line {line}: text after the closing quote of a field"
                    )));
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if matches!(c, ',' | '\n' | '\r') {
                        break;
                    }
                    if c == '"' {
                        return Err(Invalid(format!(
                            "line {line}: a quote inside an unquoted field; quote the whole \
                             field and double the quote"
                        )));
                    }
                    field.push(c);
                    chars.next();
                }
            }
            fields.push(field);
            if fields.len() > MAX_FIELDS {
                return Err(Invalid(format!(
                    "line {line}: more than {MAX_FIELDS} fields"
                )));
            }
            match chars.next() {
                Some(',') => continue,
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    break;
                }
                Some('\n') => {
                    line += 1;
                    break;
                }
                None => break,
                Some(_) => unreachable!("fields stop only at a comma or a line end"),
            }
        }
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if out.len() > MAX_CSAT_ROWS {
            return Err(Invalid(format!(
                "line {start}: more than {MAX_CSAT_ROWS} rows"
            )));
        }
        out.push((start, fields));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_utc;

    fn keys() -> CompanyKeys {
        CompanyKeys::new([("250", "CONTOSO"), ("251", "FABRIKAM"), ("252", "250")])
    }

    fn window() -> Window {
        Window::new(90, parse_utc("2026-12-01T12:00:00Z").unwrap()).unwrap()
    }

    fn survey(closed: i64, rating: i64, ticket: Option<&str>, customer: Option<&str>) -> Survey {
        Survey {
            closed: Some(closed),
            rating: Some(rating),
            ticket_num: ticket.map(str::to_string),
            customer_id: customer.map(str::to_string),
        }
    }

    #[test]
    fn keys_resolve_ids_then_identifiers() {
        let k = keys();
        assert_eq!(k.resolve("250"), Some("250"));
        assert_eq!(k.resolve(" contoso "), Some("250"));
        assert_eq!(k.resolve("Fabrikam"), Some("251"));
        assert_eq!(k.resolve("999"), None);
        assert_eq!(k.resolve(""), None);
    }

    #[test]
    fn surveys_join_by_ticket_then_customer() {
        let w = window();
        let t = w.to.0 - 3_600;
        let tickets: HashMap<String, String> =
            [("1001".into(), "250".into()), ("1002".into(), "999".into())].into();
        let surveys = [
            // The ticket wins over a customer id that says otherwise.
            survey(t, 5, Some("1001"), Some("251")),
            // An unknown ticket falls back to the customer id.
            survey(t, 0, Some("5555"), Some("251")),
            // No ticket: customer id, as a string.
            survey(t, -5, None, Some("251")),
            // A ticket of a company not being scored, and no customer: unmatched.
            survey(t, 5, Some("1002"), None),
            // Window edges: from is inside, to is not.
            survey(w.from.0, 5, None, Some("250")),
            survey(w.to.0, 5, None, Some("250")),
            survey(w.from.0 - 1, 5, None, Some("250")),
            // Another scale, no rating, not answered.
            survey(t, 4, None, Some("250")),
            Survey {
                rating: None,
                ..survey(t, 0, None, Some("250"))
            },
            Survey {
                closed: None,
                ..survey(t, 5, None, Some("250"))
            },
        ];
        let o = tally_surveys(&surveys, &w, &tickets, &keys());
        let tally = |p, n, neg| CsatTally {
            positive: p,
            neutral: n,
            negative: neg,
        };
        assert_eq!(o.tally("250"), tally(2, 0, 0));
        assert_eq!(o.tally("251"), tally(0, 1, 1));
        assert_eq!(o.tally("252"), CsatTally::default());
        assert_eq!(
            (
                o.counted,
                o.unmatched,
                o.outside_window,
                o.bad_rating,
                o.unrated,
                o.unanswered
            ),
            (4, 1, 2, 1, 1, 1)
        );
    }

    #[test]
    fn a_csat_file_is_read() {
        let text = "\u{feff}Identifier, Positive ,neutral,negative\r\n\
                    CONTOSO,12,3,1\r\n\
                    \r\n\
                    \"251\",\"4\",0,0\r\n";
        let t = parse_csat_csv(text, &keys()).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t["250"],
            CsatTally {
                positive: 12,
                neutral: 3,
                negative: 1
            }
        );
        assert_eq!(t["251"].positive, 4);
        let reordered = "negative,company,positive,neutral\n2,fabrikam,1,0";
        assert_eq!(
            parse_csat_csv(reordered, &keys()).unwrap()["251"].negative,
            2
        );
    }

    #[test]
    fn csat_file_errors_name_the_line() {
        let err = |text: &str| parse_csat_csv(text, &keys()).unwrap_err().0;
        let h = "company,positive,neutral,negative\n";
        assert_eq!(
            err(&format!("{h}CONTOSO,1,2\n")),
            "line 2: 3 fields, but the header has 4"
        );
        assert_eq!(
            err(&format!("{h}CONTOSO,1,2,x\n")),
            "line 2: negative \"x\" is not a whole number of surveys (0 to 10000000)"
        );
        assert!(err(&format!("{h}CONTOSO,-1,2,3\n")).starts_with("line 2: positive \"-1\""));
        assert!(err(&format!("{h}CONTOSO,+1,2,3\n")).starts_with("line 2: positive \"+1\""));
        assert!(err(&format!("{h}CONTOSO,99999999999,2,3\n")).starts_with("line 2: positive"));
        assert_eq!(
            err(&format!("{h}\"A\nB\",1,1,1\nNOPE,1,1,1\n")),
            "line 2: no company being scored has the id or identifier \"A\\nB\"",
        );
        assert_eq!(
            err(&format!("{h}CONTOSO,1,1,1\n250,1,1,1\n")),
            "line 3: company \"250\" was already given on line 2"
        );
        assert_eq!(
            err(&format!("{h}\"CONTOSO,1,1,1\n")),
            "line 2: a quoted field is never closed"
        );
        assert_eq!(
            err(&format!("{h}\"CONTOSO\"x,1,1,1\n")),
            "line 2: text after the closing quote of a field"
        );
        assert!(err(&format!("{h}CON\"TOSO,1,1,1\n")).starts_with("line 2: a quote inside"));
        assert!(err("company,postive,neutral,negative\n").contains("unknown column \"postive\""));
        assert!(err("company,positive,neutral\n").contains("no negative column"));
        assert!(err("id,company,positive,neutral,negative\n").contains("given twice"));
        assert!(err("").contains("empty"));
        assert!(err("\n\n").contains("empty"));
        assert!(err(&"x".repeat(MAX_CSAT_FILE_BYTES + 1)).contains("bytes"));
        assert_eq!(err(&",".repeat(100)), "line 1: more than 64 fields");
        // A multi-line quoted field moves the line count on.
        assert_eq!(
            err(&format!("{h}\"CONTOSO\n\",1,1,1\nFABRIKAM,1,1\n")),
            "line 4: 3 fields, but the header has 4"
        );
    }

    #[test]
    fn too_many_rows_are_refused() {
        let companies: Vec<(String, String)> = (0..=MAX_CSAT_ROWS)
            .map(|i| (i.to_string(), format!("C{i}")))
            .collect();
        let keys = CompanyKeys::new(companies.iter().map(|(a, b)| (a.as_str(), b.as_str())));
        let mut text = String::from("id,positive,neutral,negative\n");
        for (id, _) in &companies {
            text.push_str(&format!("{id},1,0,0\n"));
        }
        let e = parse_csat_csv(&text, &keys).unwrap_err().0;
        assert!(
            e.ends_with(&format!("more than {MAX_CSAT_ROWS} rows")),
            "{e}"
        );
    }
}
