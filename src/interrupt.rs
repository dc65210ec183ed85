//! Ctrl-C and SIGTERM: the first one stops new writes, lets the writes in flight finish,
//! records them and prints the report; the run then exits 130 (SIGINT) or 143 (SIGTERM). A
//! second one aborts at once (docs/contract.md §4). Before any write, the first one stops
//! the run where it is: nothing has been written yet.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Notify;

use crate::error::{Error, Result};

/// The exit code of the signal received (130, 143), or 0.
static RECEIVED: AtomicU8 = AtomicU8::new(0);
static NOTIFY: Notify = Notify::const_new();

/// The exit code of the interrupt received, if one was.
pub fn requested() -> Option<u8> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        code => Some(code),
    }
}

fn receive(code: u8) {
    if RECEIVED
        .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
    {
        tracing::warn!(
            "interrupted: no new write is started; the ones in flight finish, then the report is \
             printed (interrupt again to abort at once)"
        );
        NOTIFY.notify_waiters();
    } else {
        // The second one: abort.
        std::process::exit(i32::from(code));
    }
}

/// An interrupt received by someone else's handler (`listen` drains on the first one and
/// passes the next ones here): the same as a signal received by [`listen`].
pub fn raise(code: u8) {
    receive(code);
}

/// Listens for the interrupts for the rest of the process (call inside the runtime).
pub fn listen() {
    tokio::spawn(async {
        loop {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            receive(130);
        }
    });
    #[cfg(unix)]
    tokio::spawn(async {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return;
        };
        while term.recv().await.is_some() {
            receive(143);
        }
    });
}

/// Waits for the first interrupt.
async fn received() -> u8 {
    loop {
        let notified = NOTIFY.notified();
        if let Some(code) = requested() {
            return code;
        }
        notified.await;
    }
}

/// Runs `work` (a read, before any write) unless an interrupt comes first.
pub async fn before_writes<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    let stopped = |code| Error::Interrupted {
        code,
        reported: false,
    };
    if let Some(code) = requested() {
        return Err(stopped(code));
    }
    tokio::select! {
        result = work => result,
        code = received() => Err(stopped(code)),
    }
}
