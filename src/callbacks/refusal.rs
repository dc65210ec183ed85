//! Why a callback was not acted on, and what the listener answers.

use std::fmt;

/// Why a callback is refused. The text (`Display`) is ours: it never repeats the payload,
/// the signing key or a key URL's path or query, so it may be logged as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The body is larger than [`super::payload::MAX_BODY`]: 413.
    TooLarge { limit: usize },
    /// Not a callback we can read (not JSON, a field missing or of the wrong type): 400.
    Malformed(String),
    /// No `x-content-signature` header, or an empty one: 401.
    Unsigned,
    /// The signature is not base64, not 32 bytes, or does not match the body: 401.
    Forged,
    /// `Metadata.key_url` may not be fetched (another host, plain http, an IP address…), or
    /// what it answered is not a signing key (a redirect, a 4xx, too large, not JSON): 401.
    KeyUrl(String),
    /// The signing key could not be fetched now (no answer, a 5xx, too many fetches at
    /// once): 429, the one "try again" ConnectWise retries (after 2 s, then 4 s; docs/apis.md
    /// §2.9), so a callback is not lost to a cold key cache. Nothing is known about the
    /// callback, so it is not a 401.
    KeyUnavailable(String),
    /// A verified callback whose `MessageId` was seen recently: answered 200 so ConnectWise
    /// stops, and nothing is scheduled.
    Replayed,
}

impl Refusal {
    /// The HTTP status the listener answers (docs/contract.md §6).
    pub fn status(&self) -> u16 {
        match self {
            Refusal::TooLarge { .. } => 413,
            Refusal::Malformed(_) => 400,
            Refusal::Unsigned | Refusal::Forged | Refusal::KeyUrl(_) => 401,
            Refusal::KeyUnavailable(_) => 429,
            Refusal::Replayed => 200,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TooLarge { limit } => {
                write!(f, "the body is larger than {limit} bytes, refused unread")
            }
            Refusal::Malformed(why) => write!(f, "not a ConnectWise callback: {why}"),
            Refusal::Unsigned => f.write_str("unsigned: no x-content-signature header"),
            Refusal::Forged => f.write_str("forged: the signature does not match the body"),
            Refusal::KeyUrl(why) => write!(f, "the key URL is refused: {why}"),
            Refusal::KeyUnavailable(why) => {
                write!(f, "the signing key could not be fetched: {why}")
            }
            Refusal::Replayed => f.write_str("a message already received (same MessageId)"),
        }
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(Refusal::TooLarge { limit: 1 }.status(), 413);
        assert_eq!(Refusal::Malformed("x".into()).status(), 400);
        assert_eq!(Refusal::Unsigned.status(), 401);
        assert_eq!(Refusal::Forged.status(), 401);
        assert_eq!(Refusal::KeyUrl("x".into()).status(), 401);
        assert_eq!(Refusal::KeyUnavailable("x".into()).status(), 429);
        assert_eq!(Refusal::Replayed.status(), 200);
    }
}
