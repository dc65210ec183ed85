//! What every PSA source offers the pipeline. A source knows its API and nothing of
//! Synthesize: it checks its credentials and folds what it reads into a [`Tally`].

use crate::error::Result;
use crate::plan::Tally;
use crate::progress::Progress;

/// A PSA source. Implemented by the ConnectWise and Autotask sources.
// Only used through generics inside this crate, never as `dyn`, so the futures' Send
// bounds are checked where they are used.
#[allow(async_fn_in_trait)]
pub trait Source {
    /// Checks the credentials with one cheap call; says who we are connected as,
    /// e.g. "ConnectWise company 'mymsp' at https://api-na.myconnectwise.net (v2025.1)".
    async fn identity(&mut self) -> Result<String>;

    /// Reads everything the source counts and folds it per company. All or nothing:
    /// any page that fails after its retries fails the whole read.
    async fn tally(&mut self, progress: &Progress) -> Result<Tally>;

    /// Requests sent to the PSA so far, retries included.
    fn request_count(&self) -> u64;
}
