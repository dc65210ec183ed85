//! The receiving side of ConnectWise callbacks (docs/contract.md §6, docs/apis.md §2.9).
//!
//! A callback is a cue to re-read the API, never data. What a listener does with one:
//! - [`receive::receive`]: size → parse ([`payload`]) → key URL policy ([`key_url`]) → the
//!   signing key (fetched on the shared HTTP layer, cached) → signature ([`verify`]) →
//!   replay filter ([`events::ReplayFilter`]) → an [`Accepted`] event, or a [`Refusal`] that
//!   says which status to answer;
//! - [`events::Debouncer`]: a pure state machine from accepted events to the work to run
//!   (`sync-usage` per source, the engagement snapshot), after a quiet spell.
//!
//! Nothing here logs a payload or a key. Children import each other as `super::x::Item`;
//! this file only declares and re-exports (tests/architecture.rs).

pub mod events;
pub mod key_url;
pub mod payload;
pub mod receive;
pub mod refusal;
pub mod verify;

pub use events::{Debouncer, ReplayFilter, Work};
pub use key_url::{KeyFetcher, KeyUrlPolicy};
pub use payload::{Action, Callback, RecordType};
pub use receive::{Accepted, Verifier, receive};
pub use refusal::Refusal;
