//! What accepted callbacks become, as pure state machines the listener drives with the
//! time: a replay filter, and a debouncer that turns bursts of events into one run of each
//! affected job.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::payload::RecordType;

/// Forgets `MessageId`s after `window`, and keeps at most `capacity` of them (the oldest go
/// first). A replay older than the window, or pushed out by a flood, is accepted again:
/// harmless, since a callback only schedules a (debounced, idempotent) re-read.
pub struct ReplayFilter {
    window: Duration,
    capacity: usize,
    seen: HashMap<String, Instant>,
    order: VecDeque<(Instant, String)>,
}

impl ReplayFilter {
    /// Ten minutes covers ConnectWise's own retries (2 s, then 4 s) many times over.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(600);
    /// 10,000 ids of at most 128 bytes: a few MiB at worst.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            seen: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// True the first time `message_id` is seen within the window (and remembers it);
    /// false for a replay.
    pub fn first_time(&mut self, now: Instant, message_id: &str) -> bool {
        self.expire(now);
        if self.seen.contains_key(message_id) {
            return false;
        }
        while self.order.len() >= self.capacity {
            self.pop_oldest();
        }
        self.seen.insert(message_id.to_string(), now);
        self.order.push_back((now, message_id.to_string()));
        true
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn expire(&mut self, now: Instant) {
        while self
            .order
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) >= self.window)
        {
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((at, id)) = self.order.pop_front()
            && self.seen.get(&id) == Some(&at)
        {
            self.seen.remove(&id);
        }
    }
}

impl Default for ReplayFilter {
    fn default() -> Self {
        Self::new(Self::DEFAULT_WINDOW, Self::DEFAULT_CAPACITY)
    }
}

/// A job a callback calls for. Ordered as they run when due together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Work {
    /// `sync-usage --source connectwise-contacts`.
    Contacts,
    /// `sync-usage --source connectwise-shared-devices`.
    SharedDevices,
    /// The engagement snapshot (tickets, agreements, time).
    Engagement,
}

impl Work {
    /// The `sync-usage` source this job runs, if it is one.
    pub fn source(self) -> Option<&'static str> {
        match self {
            Work::Contacts => Some("connectwise-contacts"),
            Work::SharedDevices => Some("connectwise-shared-devices"),
            Work::Engagement => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Work::Contacts => "sync-usage connectwise-contacts",
            Work::SharedDevices => "sync-usage connectwise-shared-devices",
            Work::Engagement => "engagement snapshot",
        }
    }

    /// The jobs a change to a record of this type calls for (none for other types).
    pub fn for_type(record_type: &RecordType) -> &'static [Work] {
        match record_type {
            RecordType::Contact => &[Work::Contacts],
            RecordType::Configuration => &[Work::SharedDevices],
            RecordType::Company => &[Work::Contacts, Work::SharedDevices, Work::Engagement],
            RecordType::Ticket | RecordType::Agreement | RecordType::Time => &[Work::Engagement],
            RecordType::Other(_) => &[],
        }
    }
}

/// When a pending job's events started and last arrived.
#[derive(Debug, Clone, Copy)]
struct Pending {
    first: Instant,
    last: Instant,
}

/// Turns accepted events into jobs: a job is due once its events have been quiet for
/// `quiet` (`listen --debounce`), or `max_wait` after its first pending event, so a steady
/// stream still syncs. Jobs run one batch at a time: while a batch runs ([`Debouncer::due`]
/// returned it and [`Debouncer::finished`] was not called yet), events keep accumulating and
/// nothing else is due.
///
/// The listener's loop: `on_event` for each accepted callback; sleep until
/// `next_deadline()` (or the next event); run what `due(now)` returns, one job after the
/// other; then `finished(now)`.
pub struct Debouncer {
    quiet: Duration,
    max_wait: Duration,
    pending: BTreeMap<Work, Pending>,
    running: bool,
}

impl Debouncer {
    /// The default longest wait under a steady stream of events.
    pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(600);

    /// `max_wait` is raised to `quiet` when shorter.
    pub fn new(quiet: Duration, max_wait: Duration) -> Self {
        Self {
            quiet,
            max_wait: max_wait.max(quiet),
            pending: BTreeMap::new(),
            running: false,
        }
    }

    /// Records an accepted event of `record_type` at `now`; returns the jobs it calls for.
    pub fn on_event(&mut self, now: Instant, record_type: &RecordType) -> &'static [Work] {
        let works = Work::for_type(record_type);
        for work in works {
            self.pending
                .entry(*work)
                .and_modify(|p| p.last = p.last.max(now))
                .or_insert(Pending {
                    first: now,
                    last: now,
                });
        }
        works
    }

    fn deadline(&self, p: &Pending) -> Instant {
        (p.last + self.quiet).min(p.first + self.max_wait)
    }

    /// The jobs to run now, in order (empty while a batch runs). Returning them marks a
    /// batch as running until [`Debouncer::finished`].
    pub fn due(&mut self, now: Instant) -> Vec<Work> {
        if self.running {
            return Vec::new();
        }
        let due: Vec<Work> = self
            .pending
            .iter()
            .filter(|(_, p)| self.deadline(p) <= now)
            .map(|(w, _)| *w)
            .collect();
        for w in &due {
            self.pending.remove(w);
        }
        self.running = !due.is_empty();
        due
    }

    /// The batch [`Debouncer::due`] returned is done (whatever its outcome).
    pub fn finished(&mut self, _now: Instant) {
        self.running = false;
    }

    /// Whether a batch is running.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// When the next job falls due, if one is pending and no batch runs (while one runs, the
    /// listener waits for it instead).
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.running {
            return None;
        }
        self.pending.values().map(|p| self.deadline(p)).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn replays_within_the_window_are_caught() {
        let t0 = Instant::now();
        let mut f = ReplayFilter::new(secs(60), 100);
        assert!(f.first_time(t0, "m-1"));
        assert!(!f.first_time(t0 + secs(5), "m-1"));
        assert!(f.first_time(t0 + secs(5), "m-2"));
        // Past the window, an id is forgotten.
        assert!(f.first_time(t0 + secs(61), "m-1"));
        assert_eq!(f.len(), 2, "m-2 is still inside its window");
        assert!(f.first_time(t0 + secs(65), "m-2"));
    }

    #[test]
    fn the_replay_filter_is_bounded() {
        let t0 = Instant::now();
        let mut f = ReplayFilter::new(secs(3600), 50);
        for i in 0..1_000 {
            assert!(f.first_time(t0, &format!("m-{i}")));
        }
        assert_eq!(f.len(), 50);
        assert!(!f.first_time(t0, "m-999"), "the newest are kept");
        assert!(f.first_time(t0, "m-0"), "the oldest were pushed out");
    }

    #[test]
    fn types_map_to_jobs() {
        assert_eq!(Work::for_type(&RecordType::Contact), &[Work::Contacts]);
        assert_eq!(
            Work::for_type(&RecordType::Configuration),
            &[Work::SharedDevices]
        );
        assert_eq!(
            Work::for_type(&RecordType::Company),
            &[Work::Contacts, Work::SharedDevices, Work::Engagement]
        );
        for t in [RecordType::Ticket, RecordType::Agreement, RecordType::Time] {
            assert_eq!(Work::for_type(&t), &[Work::Engagement]);
        }
        assert!(Work::for_type(&RecordType::Other("opportunity".into())).is_empty());
        assert_eq!(Work::Contacts.source(), Some("connectwise-contacts"));
        assert_eq!(Work::Engagement.source(), None);
    }

    #[test]
    fn a_burst_of_200_events_is_one_run_per_job() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(secs(60), secs(600));
        for i in 0..200u64 {
            let t = if i % 2 == 0 {
                RecordType::Contact
            } else {
                RecordType::Configuration
            };
            d.on_event(t0 + Duration::from_millis(i * 10), &t);
        }
        let last = t0 + Duration::from_millis(1990);
        // The last contact came at 1,980 ms, the last configuration at 1,990 ms.
        assert_eq!(
            d.next_deadline(),
            Some(t0 + Duration::from_millis(1980) + secs(60))
        );
        assert!(d.due(last + secs(59)).is_empty(), "not quiet long enough");
        assert_eq!(
            d.due(last + secs(60)),
            vec![Work::Contacts, Work::SharedDevices]
        );
        assert!(d.is_running());
        d.finished(last + secs(70));
        assert!(d.due(last + secs(1000)).is_empty());
        assert_eq!(d.next_deadline(), None);
    }

    #[test]
    fn a_steady_stream_still_syncs_after_the_max_wait() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(secs(60), secs(300));
        let mut runs = Vec::new();
        // One contact event every 10 s for 400 s: never 60 s of quiet until the end.
        let mut now = t0;
        while now <= t0 + secs(400) {
            d.on_event(now, &RecordType::Contact);
            for w in d.due(now) {
                runs.push((now.duration_since(t0).as_secs(), w));
                d.finished(now);
            }
            now += secs(10);
        }
        let end = d.next_deadline().unwrap();
        for w in d.due(end) {
            runs.push((end.duration_since(t0).as_secs(), w));
        }
        assert_eq!(
            runs,
            vec![(300, Work::Contacts), (460, Work::Contacts)],
            "one at the max wait, one after the stream went quiet"
        );
    }

    #[test]
    fn one_batch_at_a_time_and_events_during_a_run_run_after_it() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(secs(10), secs(600));
        d.on_event(t0, &RecordType::Contact);
        assert_eq!(d.due(t0 + secs(10)), vec![Work::Contacts]);
        // A company changes while the contacts sync runs.
        d.on_event(t0 + secs(11), &RecordType::Company);
        assert_eq!(d.next_deadline(), None, "waiting for the run");
        assert!(d.due(t0 + secs(100)).is_empty(), "one batch at a time");
        d.finished(t0 + secs(100));
        assert_eq!(d.next_deadline(), Some(t0 + secs(21)));
        assert_eq!(
            d.due(t0 + secs(100)),
            vec![Work::Contacts, Work::SharedDevices, Work::Engagement]
        );
    }

    #[test]
    fn other_types_schedule_nothing() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(secs(10), secs(60));
        assert!(
            d.on_event(t0, &RecordType::Other("opportunity".into()))
                .is_empty()
        );
        assert_eq!(d.next_deadline(), None);
    }
}
