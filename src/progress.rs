//! Progress of long reads and writes.
//!
//! On a terminal (text output, not `-q`) an indicatif spinner or bar shows pages read,
//! items seen, writes done and the rate. Elsewhere (cron, CI, `--output json`) nothing
//! animates: each phase ends with one concise log line on stderr.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Creates progress reporters for one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    animate: bool,
}

impl Progress {
    /// `animate` only when stderr is a terminal and the user wants text.
    pub fn new(animate: bool) -> Self {
        Self { animate }
    }

    /// No animation at all (tests, JSON output).
    pub fn quiet() -> Self {
        Self { animate: false }
    }

    fn bar(&self, bar: ProgressBar) -> ProgressBar {
        if self.animate {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
            bar
        }
    }

    /// A read of `what` (e.g. "ConnectWise contacts"), page by page.
    pub fn reading(&self, what: &str) -> ReadProgress {
        let bar = self.bar(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
        );
        bar.set_message(format!("{what}: reading"));
        ReadProgress {
            bar,
            what: what.to_string(),
            pages: 0,
            items: 0,
            started: Instant::now(),
        }
    }

    /// `total` count writes.
    pub fn writing(&self, total: u64) -> WriteProgress {
        let bar = self.bar(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} counts written ({eta} left)")
                .expect("valid template"),
        );
        WriteProgress {
            bar,
            started: Instant::now(),
        }
    }
}

/// Progress of one paged read.
pub struct ReadProgress {
    bar: ProgressBar,
    what: String,
    pages: u64,
    items: u64,
    started: Instant,
}

impl ReadProgress {
    /// One more page of `items` items.
    pub fn page(&mut self, items: u64) {
        self.pages += 1;
        self.items += items;
        let rate = self.items as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!(
            "{}: {} pages, {} items ({rate:.0}/s)",
            self.what, self.pages, self.items
        ));
        tracing::debug!("{}: page {} ({} items)", self.what, self.pages, items);
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
        tracing::info!(
            "read {} {} in {} ({:.1} s)",
            self.items,
            self.what,
            crate::text::plural(self.pages, "page"),
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// Progress of the count writes.
pub struct WriteProgress {
    bar: ProgressBar,
    started: Instant,
}

impl WriteProgress {
    pub fn inc(&self) {
        self.bar.inc(1);
    }

    /// `stored`: the counts Gradient confirmed, of the pairs handled.
    pub fn finish(self, stored: u64) {
        let handled = self.bar.position();
        self.bar.finish_and_clear();
        if handled == 0 {
            return;
        }
        tracing::info!(
            "Gradient stored {stored} of {handled} counts ({:.1} s)",
            self.started.elapsed().as_secs_f64()
        );
    }
}
