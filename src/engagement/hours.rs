//! Billable hours as an exact decimal (contract §3b: "hours are decimal quantities and must be
//! summed exactly, not in binary floating point: 100 entries of 0.1 h make 10 h").

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::invalid::Invalid;

/// Ten-thousandths of an hour per unit: 0.36 s, finer than any time entry ConnectWise keeps
/// (it shows `actualHours` to two decimals).
const SCALE: u64 = 10_000;

/// A quantity of hours, held as whole ten-thousandths so sums are exact and comparisons with
/// the band limits (10, 20, 40 h) are exact too.
///
/// Built from what the server sent ([`Hours::from_number`], [`Hours::parse`]), never from an
/// `f64` computed here. Serialises as a JSON number (`12.5`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hours(u64);

impl Hours {
    pub const ZERO: Hours = Hours(0);

    /// The most one time entry may hold: more than a year of days. A larger `actualHours` is
    /// a data error, not a busy client.
    pub const MAX_ENTRY: Hours = Hours(10_000 * SCALE);

    /// Whole hours (the band limits: `Hours::from_whole(40)`).
    pub const fn from_whole(hours: u64) -> Hours {
        Hours(hours * SCALE)
    }

    /// Whole ten-thousandths of an hour (`Hours::from_ten_thousandths(1)` is 0.0001 h).
    pub const fn from_ten_thousandths(n: u64) -> Hours {
        Hours(n)
    }

    pub const fn ten_thousandths(self) -> u64 {
        self.0
    }

    /// One time entry's `actualHours` as serde_json decoded it (docs/apis.md §2.8).
    ///
    /// Exact for what the server sent: a fractional number arrives as the `f64` nearest to the
    /// server's decimal text, and Rust prints an `f64` as the shortest decimal that reads back
    /// to it, which is that text (`0.1` stays `0.1`). That decimal is then read exactly.
    /// Digits beyond the fourth decimal are rounded half up (0.36 s); this also turns a
    /// server's own float noise (`0.30000000000000004`) back into `0.3`.
    ///
    /// Negative values and values above [`Hours::MAX_ENTRY`] are errors.
    pub fn from_number(n: &serde_json::Number) -> Result<Hours, Invalid> {
        if let Some(u) = n.as_u64() {
            return Self::parse(&u.to_string());
        }
        if n.as_i64().is_some() {
            return Err(negative(&n.to_string()));
        }
        match n.as_f64() {
            Some(f) if f < 0.0 => Err(negative(&n.to_string())),
            // abs(): -0.0 is zero hours, printed "0".
            Some(f) => Self::parse(&f.abs().to_string()),
            None => Err(Invalid(format!("actualHours {n} is not a number of hours"))),
        }
    }

    /// A decimal text of hours (`12`, `12.5`, `0.1`), exactly; rounding and limits as for
    /// [`Hours::from_number`]. Signs, exponents, spaces and anything else are errors.
    pub fn parse(text: &str) -> Result<Hours, Invalid> {
        let shown = || crate::text::escape(&text.chars().take(40).collect::<String>()).into_owned();
        if text.starts_with('-') {
            return Err(negative(&shown()));
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || text.ends_with('.') {
            return Err(Invalid(format!(
                "actualHours \"{}\" is not a decimal number of hours",
                shown()
            )));
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > 6 {
            return Err(absurd(&shown()));
        }
        let mut units = whole
            .bytes()
            .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'))
            * SCALE;
        let mut place = SCALE / 10;
        for b in fraction.bytes().take(4) {
            units += u64::from(b - b'0') * place;
            place /= 10;
        }
        // Round half up on the fifth decimal.
        if fraction.as_bytes().get(4).is_some_and(|b| *b >= b'5') {
            units += 1;
        }
        let hours = Hours(units);
        if hours > Self::MAX_ENTRY {
            return Err(absurd(&shown()));
        }
        Ok(hours)
    }

    /// The sum, `None` on overflow (unreachable with entries capped at
    /// [`Hours::MAX_ENTRY`] unless a company has more than 10¹¹ of them).
    pub fn checked_add(self, other: Hours) -> Option<Hours> {
        self.0.checked_add(other.0).map(Hours)
    }

    /// The nearest `f64`, for JSON: `n / 10000` with `n < 2⁵³` is correctly rounded, so it
    /// prints back as this decimal (`12.5`, `0.1`).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }
}

fn negative(shown: &str) -> Invalid {
    Invalid(format!("actualHours {shown} is negative"))
}

fn absurd(shown: &str) -> Invalid {
    Invalid(format!(
        "actualHours {shown} is more than {} hours for one time entry",
        Hours::MAX_ENTRY
    ))
}

impl std::ops::Add for Hours {
    type Output = Hours;
    /// Saturating: see [`Hours::checked_add`].
    fn add(self, other: Hours) -> Hours {
        Hours(self.0.saturating_add(other.0))
    }
}

impl std::ops::AddAssign for Hours {
    fn add_assign(&mut self, other: Hours) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Hours {
    fn sum<I: Iterator<Item = Hours>>(iter: I) -> Hours {
        iter.fold(Hours::ZERO, |a, b| a + b)
    }
}

/// `12.5`, `10`, `0.0001`: no trailing zeros, no exponent.
impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / SCALE, self.0 % SCALE);
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let frac = format!("{frac:04}");
            write!(f, "{whole}.{}", frac.trim_end_matches('0'))
        }
    }
}

impl Serialize for Hours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

/// Reads `actualHours` straight from a ConnectWise row, through [`Hours::from_number`].
impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Hours, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        Hours::from_number(&n).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(json: &str) -> serde_json::Number {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_hundred_tenths_make_ten_hours() {
        let tenth = Hours::from_number(&num("0.1")).unwrap();
        let sum: Hours = std::iter::repeat_n(tenth, 100).sum();
        assert_eq!(sum, Hours::from_whole(10));
        // What binary floating point would have made of it:
        assert_ne!((0..100).map(|_| 0.1f64).sum::<f64>(), 10.0);
    }

    #[test]
    fn numbers_are_read_exactly() {
        assert_eq!(
            Hours::from_number(&num("12.5")).unwrap().to_string(),
            "12.5"
        );
        assert_eq!(Hours::from_number(&num("7")).unwrap(), Hours::from_whole(7));
        assert_eq!(Hours::from_number(&num("0")).unwrap(), Hours::ZERO);
        assert_eq!(Hours::from_number(&num("-0.0")).unwrap(), Hours::ZERO);
        assert_eq!(
            Hours::from_number(&num("19.99")).unwrap().ten_thousandths(),
            199_900
        );
        assert_eq!(
            Hours::from_number(&num("0.0001")).unwrap().to_string(),
            "0.0001"
        );
        assert_eq!(
            Hours::from_number(&num("1e-4")).unwrap().to_string(),
            "0.0001"
        );
        assert_eq!(
            Hours::from_number(&num("0.30000000000000004"))
                .unwrap()
                .to_string(),
            "0.3"
        );
        assert_eq!(
            Hours::from_number(&num("0.00005"))
                .unwrap()
                .ten_thousandths(),
            1,
            "half up"
        );
        assert_eq!(Hours::from_number(&num("0.00004")).unwrap(), Hours::ZERO);
        assert_eq!(Hours::from_number(&num("10000")).unwrap(), Hours::MAX_ENTRY);
        let hours: Hours = serde_json::from_str("2.25").unwrap();
        assert_eq!(hours.to_string(), "2.25");
    }

    #[test]
    fn negative_and_absurd_values_are_errors() {
        for bad in ["-0.5", "-3", "10000.0001", "1e9", "18446744073709551615"] {
            assert!(Hours::from_number(&num(bad)).is_err(), "{bad}");
        }
        assert!(
            Hours::from_number(&num("-1"))
                .unwrap_err()
                .0
                .contains("negative"),
            "the message says why"
        );
        for bad in [
            "", ".5", "5.", "1,5", " 1", "1e3", "+1", "NaN", "0x10", "1.2.3",
        ] {
            assert!(Hours::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Hours>("-2").is_err());
        assert!(serde_json::from_str::<Hours>("\"2\"").is_err());
    }

    #[test]
    fn serialises_as_a_json_number() {
        let h = Hours::parse("12.5").unwrap();
        assert_eq!(serde_json::to_string(&h).unwrap(), "12.5");
        assert_eq!(
            serde_json::to_string(&Hours::parse("0.1").unwrap()).unwrap(),
            "0.1"
        );
        assert_eq!(
            serde_json::to_string(&Hours::from_whole(40)).unwrap(),
            "40.0"
        );
        assert_eq!(Hours::from_whole(40).to_string(), "40");
    }
}
