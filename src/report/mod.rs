//! Reports: what every verb prints, as text for people and one JSON document for machines
//! (docs/contract.md §5), and the writers that keep what is printed safe.

pub mod callbacks;
#[cfg(feature = "sandbox")]
pub(crate) mod demo;
pub mod doctor;
pub mod history;
mod output;
pub mod verbs;

pub use output::{Output, Render, SafeStderr, auto_color, print_stdout};
