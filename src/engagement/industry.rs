//! A company's industry, from its ConnectWise market (contract §3b), extended by
//! `CONNECTWISE_INDUSTRY_MAP` (contract §2).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::invalid::Invalid;

/// The industries a company can be in. The set is closed: `CONNECTWISE_INDUSTRY_MAP` maps
/// markets onto these names and cannot invent new ones, so a typo (`helthcare`) is refused
/// instead of quietly splitting a group in every report that groups by industry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Industry {
    Legal,
    Healthcare,
    Manufacturing,
    Retail,
    Finance,
    Education,
    Nonprofit,
    Other,
}

impl Industry {
    pub const ALL: [Industry; 8] = [
        Industry::Legal,
        Industry::Healthcare,
        Industry::Manufacturing,
        Industry::Retail,
        Industry::Finance,
        Industry::Education,
        Industry::Nonprofit,
        Industry::Other,
    ];

    /// The name in JSON, CSV and HTML: `legal`, …, `nonprofit`, `other`.
    pub fn name(self) -> &'static str {
        match self {
            Industry::Legal => "legal",
            Industry::Healthcare => "healthcare",
            Industry::Manufacturing => "manufacturing",
            Industry::Retail => "retail",
            Industry::Finance => "finance",
            Industry::Education => "education",
            Industry::Nonprofit => "nonprofit",
            Industry::Other => "other",
        }
    }

    /// An industry by name, ignoring case, spaces and punctuation (`Non-Profit` is
    /// `nonprofit`).
    pub fn from_name(name: &str) -> Option<Industry> {
        let key = key(name);
        Industry::ALL.into_iter().find(|i| i.name() == key)
    }
}

impl std::fmt::Display for Industry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A market name as compared: only its letters and digits, lower-cased, so `Non-Profit`,
/// `non profit` and `NON_PROFIT ` are one market (contract §3b: "ignoring case, spaces and
/// punctuation").
fn key(market: &str) -> String {
    market
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Markets to industries: contract §3b's built-in pairs, then the user's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndustryMap(HashMap<String, Industry>);

impl Default for IndustryMap {
    fn default() -> Self {
        Self::builtin()
    }
}

impl IndustryMap {
    /// The built-in pairs: Legal→legal, Healthcare→healthcare, Manufacturing→manufacturing,
    /// Retail→retail, Financial→finance, Education→education, Non-Profit→nonprofit.
    pub fn builtin() -> IndustryMap {
        let pairs = [
            ("Legal", Industry::Legal),
            ("Healthcare", Industry::Healthcare),
            ("Manufacturing", Industry::Manufacturing),
            ("Retail", Industry::Retail),
            ("Financial", Industry::Finance),
            ("Education", Industry::Education),
            ("Non-Profit", Industry::Nonprofit),
        ];
        IndustryMap(pairs.into_iter().map(|(m, i)| (key(m), i)).collect())
    }

    /// The built-in pairs extended by `CONNECTWISE_INDUSTRY_MAP`, comma-separated
    /// `Market=industry` pairs such as `Dental=healthcare,Law Firm=legal`. A user pair
    /// overrides a built-in one (`Financial=other` is allowed). Unset or blank: the built-ins.
    ///
    /// Refused, with a one-line message naming the pair: a pair without `=`, an empty market,
    /// an industry that is not one of [`Industry::ALL`], the same market twice. Empty
    /// entries (a trailing comma) are ignored. A market name cannot contain a comma.
    pub fn parse(setting: &str) -> Result<IndustryMap, Invalid> {
        let mut map = Self::builtin();
        let mut seen: HashMap<String, &str> = HashMap::new();
        for pair in setting.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let shown = crate::text::escape(pair);
            let bad = |problem: String| {
                Invalid(format!(
                    "CONNECTWISE_INDUSTRY_MAP: \"{shown}\" {problem}; write Market=industry \
                     pairs separated by commas, e.g. Dental=healthcare,Law Firm=legal"
                ))
            };
            let Some((market, industry)) = pair.split_once('=') else {
                return Err(bad("has no '='".into()));
            };
            let market_key = key(market);
            if market_key.is_empty() {
                return Err(bad("has no market name before '='".into()));
            }
            let Some(industry) = Industry::from_name(industry) else {
                let names: Vec<_> = Industry::ALL.iter().map(|i| i.name()).collect();
                return Err(bad(format!(
                    "names no known industry (one of {})",
                    names.join(", ")
                )));
            };
            if let Some(first) = seen.insert(market_key.clone(), pair) {
                return Err(bad(format!(
                    "names the same market as \"{}\"",
                    crate::text::escape(first)
                )));
            }
            map.0.insert(market_key, industry);
        }
        Ok(map)
    }

    /// The industry of a company's market (`market.name`); no market, or one the map does not
    /// know, is `other`.
    pub fn industry(&self, market: Option<&str>) -> Industry {
        market
            .and_then(|m| self.0.get(&key(m)).copied())
            .unwrap_or(Industry::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_markets_ignore_case_spaces_and_punctuation() {
        let m = IndustryMap::builtin();
        let of = |s| m.industry(Some(s));
        assert_eq!(of("Legal"), Industry::Legal);
        assert_eq!(of("non profit"), Industry::Nonprofit);
        assert_eq!(of("NON-PROFIT"), Industry::Nonprofit);
        assert_eq!(of("Non-Profit"), Industry::Nonprofit);
        assert_eq!(of("Financial "), Industry::Finance);
        assert_eq!(of("  health care"), Industry::Healthcare);
        assert_eq!(of("Finance"), Industry::Other, "only Financial is built in");
        assert_eq!(of("Dental"), Industry::Other);
        assert_eq!(of(""), Industry::Other);
        assert_eq!(m.industry(None), Industry::Other);
        assert_eq!(
            serde_json::to_string(&Industry::Nonprofit).unwrap(),
            "\"nonprofit\""
        );
    }

    #[test]
    fn the_setting_adds_and_overrides_pairs() {
        let m =
            IndustryMap::parse("Dental=healthcare, Law Firm = Legal ,Financial=other,").unwrap();
        assert_eq!(m.industry(Some("dental")), Industry::Healthcare);
        assert_eq!(m.industry(Some("LAW-FIRM")), Industry::Legal);
        assert_eq!(
            m.industry(Some("Financial")),
            Industry::Other,
            "user pairs win"
        );
        assert_eq!(
            m.industry(Some("Retail")),
            Industry::Retail,
            "built-ins stay"
        );
        assert_eq!(IndustryMap::parse("").unwrap(), IndustryMap::builtin());
        assert_eq!(
            IndustryMap::parse("Charity=Non-Profit")
                .unwrap()
                .industry(Some("charity")),
            Industry::Nonprofit
        );
    }

    #[test]
    fn a_bad_setting_names_the_pair() {
        let err = |s| IndustryMap::parse(s).unwrap_err().0;
        let e = err("Dental=healthcare,Law Firm");
        assert!(
            e.starts_with("CONNECTWISE_INDUSTRY_MAP: \"Law Firm\" has no '='"),
            "{e}"
        );
        let e = err("Dental=dentistry");
        assert!(
            e.contains("\"Dental=dentistry\" names no known industry (one of legal,"),
            "{e}"
        );
        let e = err("--=legal");
        assert!(e.contains("no market name"), "{e}");
        let e = err("Law Firm=legal,law-firm=other");
        assert!(
            e.contains("\"law-firm=other\" names the same market as \"Law Firm=legal\""),
            "{e}"
        );
        let e = err("Evil\u{1b}[2J");
        assert!(e.contains("Evil\\x1b[2J") && !e.contains('\u{1b}'), "{e}");
        assert!(!e.contains('\n'));
    }
}
