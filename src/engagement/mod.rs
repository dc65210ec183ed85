//! Client-engagement scoring (issue 14, docs/contract.md §3b and §5): the pure part.
//!
//! Nothing here reads the network, a file or the clock, except [`read`], the ConnectWise
//! reads of the two verbs. The `clients` and `engagement` verbs
//! read ConnectWise and CrewHu, turn what they read into the inputs below, and print what
//! these functions return:
//!
//! 1. [`Window::new`] fixes the window `[to − days, to)`; [`text::parse_utc`] reads every
//!    timestamp (`_info.dateEntered`, `dateResolved`, `timeStart`, CrewHu's `closed`).
//! 2. Per company, the verb folds what it reads into an [`Activity`]: [`TicketTimes::counts`]
//!    says whether a ticket counts and whether it was a first-touch resolution, [`Hours`]
//!    sums `actualHours` exactly, agreements and additions are counted, and the CSAT tally
//!    comes from [`tally_surveys`] (CrewHu) or [`parse_csat_csv`] (`--csat FILE`).
//! 3. [`CompanyScore::new`] scores it ([`score`]); the [`Industry`] comes from the market
//!    through an [`IndustryMap`] (`CONNECTWISE_INDUSTRY_MAP`).
//! 4. [`EngagementReport`] and [`ClientsReport`] serialise to exactly contract §5's
//!    documents; [`compare`] and [`EngagementReport::apply_changes`] add the change since a
//!    previous snapshot; [`engagement_csv`], [`clients_csv`] and [`engagement_html`] render
//!    them for spreadsheets and people.
//!
//! Every function that can refuse its input returns [`Invalid`], a one-line message naming
//! the culprit (the setting, the flag, or the file's line; a `--csat` message does not name
//! the file, which only the verb knows). The verb decides the exit code (contract §4): 2 for
//! what the user gave (`CONNECTWISE_INDUSTRY_MAP`, `--days`, the `--csat` file: wrap the
//! message in `Error::Usage`), 1 for what a server sent (a time or `actualHours` that cannot
//! be read: `Error::Api` with the side).
//!
//! [`text::parse_utc`]: crate::text::parse_utc

mod compare;
pub mod crewhu;
mod csat;
mod hours;
mod industry;
mod invalid;
mod model;
pub mod read;
mod render;
mod score;
mod window;

pub use compare::{ChangeKind, CompanyChange, Snapshot, SnapshotEntry, compare};
pub use csat::{
    CompanyKeys, CsatOutcome, MAX_CSAT_FILE_BYTES, MAX_CSAT_ROWS, Survey, parse_csat_csv,
    tally_surveys,
};
pub use hours::Hours;
pub use industry::{Industry, IndustryMap};
pub use invalid::Invalid;
pub use model::{
    Change, Client, ClientsReport, CompanyRef, CompanyScore, EngagementReport, PrimaryContact,
    Requests,
};
pub use render::{clients_csv, engagement_csv, engagement_html};
pub use score::{
    Activity, Band, CsatTally, FIRST_TOUCH_SECS, FirstTouch, Metric, Metrics, Satisfaction, Scores,
    TicketCounts, TicketTimes, score,
};
pub use window::{MAX_DAYS, UtcTime, Window};
