//! The error of the engagement feature's pure parts.

/// Input this module refuses: a malformed setting, flag or file line, or a value from a
/// server that cannot be right. The message is one line and names the culprit (escaped, as
/// it may come from outside).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl From<crate::text::BadTime> for Invalid {
    fn from(e: crate::text::BadTime) -> Self {
        Invalid(e.to_string())
    }
}
