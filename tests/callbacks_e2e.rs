//! `callbacks register | list | remove` and `listen`, the built binary against the ConnectWise
//! and Gradient simulators over loopback (docs/contract.md §6). `listen` runs as a child
//! process; tests wait for what they expect with generous timeouts and never assert an upper
//! bound on time.

mod common;

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use synthesize_sims::RunningServer;
use synthesize_sims::connectwise::{
    CallbackAction, CallbackEvent, ConnectWiseSim, CwTenant, DeliveryTiming, EventOverrides,
    Signature,
};
use synthesize_sims::gradient::GradientSim;
use synthesize_sync::ledger::{Ledger, Status};

use common::{fresh_state_dir, run, stderr, stdout};

const CONTACTS: &str = "connectwise-contacts";
const BILLED: &str = "Billed User";

struct Sims {
    cw: ConnectWiseSim,
    cw_server: RunningServer,
    gradient: GradientSim,
    gradient_server: RunningServer,
    state: PathBuf,
}

impl Sims {
    async fn start() -> Self {
        let cw = ConnectWiseSim::new(CwTenant::sample());
        let cw_server = cw.start().await.expect("start the ConnectWise simulator");
        cw.set_delivery_timing(DeliveryTiming {
            timeout: Duration::from_secs(10),
            retry_delays: vec![Duration::from_millis(50)],
        });
        let (gradient, gradient_server) = common::gradient().await;
        // The partner maps every account and service as it appears.
        gradient.set_auto_map(Vec::<String>::new());
        Self {
            cw,
            cw_server,
            gradient,
            gradient_server,
            state: fresh_state_dir(),
        }
    }

    /// Every setting, as `(name, value)`; the ledger in this test's state directory.
    fn env(&self) -> Vec<(String, String)> {
        let c = self.cw.credentials();
        let (vendor, partner) = self.gradient.credentials();
        [
            ("GRADIENT_VENDOR_API_KEY", vendor),
            ("GRADIENT_PARTNER_API_KEY", partner),
            ("GRADIENT_BASE_URL", self.gradient_server.base_url()),
            ("SYNC_SOURCE", CONTACTS.into()),
            ("CONNECTWISE_BASE_URL", self.cw_server.base_url()),
            ("CONNECTWISE_COMPANY_ID", c.company_id),
            ("CONNECTWISE_PUBLIC_KEY", c.public_key),
            ("CONNECTWISE_PRIVATE_KEY", c.private_key),
            ("CONNECTWISE_CLIENT_ID", c.client_id),
            ("CONNECTWISE_CONTACT_TYPES", BILLED.into()),
            ("SYNC_STATE_DIR", self.state.display().to_string()),
            ("SYNC_RETRY_BASE_MS", "5".into()),
            ("SYNC_MAX_RETRIES", "3".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = common::binary();
        cmd.envs(self.env()).args(args);
        cmd
    }

    async fn ok(&self, args: &[&str]) -> String {
        let o = run(self.cmd(args)).await;
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o)
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all).await).expect("one JSON document")
    }

    /// The sum of the Billed User counts Synthesize holds.
    fn billed_total(&self) -> f64 {
        self.gradient
            .current_counts()
            .iter()
            .filter(|((_, s), _)| s == BILLED)
            .map(|(_, n)| n)
            .sum()
    }

    /// The real `sync-usage` runs in the ledger, by status.
    fn sync_runs(&self) -> Vec<Status> {
        let Ok(Some(l)) = Ledger::open_existing(&self.state) else {
            return Vec::new();
        };
        l.runs(None, 1_000)
            .unwrap()
            .into_iter()
            .filter(|r| r.verb == "sync-usage" && !r.dry_run)
            .map(|r| r.status)
            .collect()
    }

    fn listen(&self, port: u16, debounce: u64) -> Listener {
        let log = self.state.with_extension("listen.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("synthesize-sync"));
        cmd.env_clear()
            .current_dir(common::empty_dir())
            .envs(self.env())
            .args([
                "listen",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--debounce",
                &debounce.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(file);
        Listener {
            child: cmd.spawn().expect("start listen"),
            log,
            url: format!("http://127.0.0.1:{port}/connectwise/callback"),
            port,
        }
    }
}

struct Listener {
    child: Child,
    log: PathBuf,
    url: String,
    port: u16,
}

impl Listener {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn ready(&mut self) {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        for _ in 0..600 {
            if let Ok(r) = client
                .get(format!("http://127.0.0.1:{}/healthz", self.port))
                .send()
                .await
                && r.status() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("listen exited ({status}): {}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("listen never answered /healthz: {}", self.log());
    }

    fn signal(&self, sig: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: sending a signal to our own child process.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    }

    async fn wait(mut self) -> (Option<i32>, String) {
        for _ in 0..1_200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (status.code(), self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = self.child.kill();
        panic!("listen did not exit: {}", self.log());
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (generously) until `f` holds.
async fn until(what: &str, log: impl Fn() -> String, f: impl Fn() -> bool) {
    for _ in 0..1_200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never: {what}\n{}", log());
}

/// Our callbacks in the simulator (URL prefix), as (type, level, objectId).
fn ours(cw: &ConnectWiseSim, url: &str) -> Vec<(String, String, i64)> {
    let mut v: Vec<_> = cw
        .callbacks()
        .into_iter()
        .filter(|c| c.url.starts_with(url))
        .map(|c| (c.kind, c.level, c.object_id))
        .collect();
    v.sort();
    v
}

const OURS: &str = "https://sync.example.com/connectwise/callback";
const FOREIGN: &str = "https://other.example.net/hook";

#[tokio::test]
async fn register_is_idempotent_and_remove_touches_only_ours() {
    let s = Sims::start().await;
    // Another integration's callback, registered with a ledger of its own.
    let mut other = s.cmd(&["callbacks", "register", "--url", FOREIGN]);
    other.env("SYNC_STATE_DIR", fresh_state_dir());
    let o = run(other).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let foreign_before: Vec<_> =
        s.cw.callbacks()
            .into_iter()
            .filter(|c| c.url.starts_with(FOREIGN))
            .collect();
    assert_eq!(foreign_before.len(), 4);

    let first = s.json(&["callbacks", "register", "--url", OURS]).await;
    let results: Vec<&str> = first["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        ["created", "created", "created", "created"],
        "{first}"
    );
    let expected = vec![
        ("agreement".to_string(), "owner".to_string(), 1),
        ("company".to_string(), "owner".to_string(), 1),
        ("contact".to_string(), "owner".to_string(), 1),
        ("ticket".to_string(), "owner".to_string(), 1),
    ];
    assert_eq!(ours(&s.cw, OURS), expected);
    assert!(
        s.cw.callbacks()
            .iter()
            .filter(|c| c.url.starts_with(OURS))
            .all(|c| c.url == format!("{OURS}?recordId=")),
        "ConnectWise appends the record id"
    );

    let second = s.json(&["callbacks", "register", "--url", OURS]).await;
    let results: Vec<&str> = second["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        ["exists", "exists", "exists", "exists"],
        "{second}"
    );
    assert_eq!(s.cw.callbacks().len(), 8, "nothing new was created");

    let list = s.json(&["callbacks", "list"]).await;
    let marked: Vec<(String, bool)> = list["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["url"].as_str().unwrap().to_string(),
                c["ours"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(marked.len(), 8);
    for (url, mine) in &marked {
        assert_eq!(*mine, url.starts_with(OURS), "{url}");
    }
    let text = s.ok(&["callbacks", "list"]).await;
    assert!(text.contains("4 ours"), "{text}");

    // Without --url: the ones the ledger remembers.
    let removed = s.json(&["callbacks", "remove"]).await;
    assert_eq!(
        removed["callbacks"].as_array().unwrap().len(),
        4,
        "{removed}"
    );
    assert!(ours(&s.cw, OURS).is_empty());
    let foreign_after: Vec<_> =
        s.cw.callbacks()
            .into_iter()
            .filter(|c| c.url.starts_with(FOREIGN))
            .collect();
    assert_eq!(
        foreign_after, foreign_before,
        "the foreign callbacks are untouched"
    );
    let again = s.json(&["callbacks", "remove"]).await;
    assert!(again["callbacks"].as_array().unwrap().is_empty(), "{again}");

    // With --url: only those whose URL starts with it.
    s.ok(&["callbacks", "register", "--url", OURS]).await;
    s.ok(&["callbacks", "remove", "--url", OURS]).await;
    assert!(ours(&s.cw, OURS).is_empty());
    assert_eq!(s.cw.callbacks().len(), 4, "the foreign ones stay");
}

#[tokio::test]
async fn a_failed_creation_rolls_back_what_register_created() {
    let s = Sims::start().await;
    s.cw.fail_callback_create(Some(2));
    let o = run(s.cmd(&["callbacks", "register", "--url", OURS])).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("removed again"), "{}", stderr(&o));
    assert!(s.cw.callbacks().is_empty(), "{:?}", s.cw.callbacks());
    // The ledger forgot the rolled-back one too.
    let removed = s.json(&["callbacks", "remove"]).await;
    assert!(
        removed["callbacks"].as_array().unwrap().is_empty(),
        "{removed}"
    );
    // And a later try registers everything.
    s.cw.fail_callback_create(None);
    s.ok(&["callbacks", "register", "--url", OURS]).await;
    assert_eq!(ours(&s.cw, OURS).len(), 4);
}

/// A company with active Billed Users, so adding one changes a count Synthesize holds.
fn billed_company(cw: &ConnectWiseSim) -> i64 {
    cw.tenant()
        .contacts
        .iter()
        .filter(|c| !c.inactive_flag && c.types.iter().any(|t| t.name == BILLED))
        .find_map(|c| c.company.as_ref().map(|co| co.id))
        .expect("a company with a billed user")
}

#[tokio::test]
async fn listen_resyncs_once_after_a_burst_and_a_signed_change_moves_the_count() {
    let s = Sims::start().await;
    s.ok(&["run"]).await;
    let before = s.billed_total();
    assert_eq!(s.sync_runs().len(), 0);
    let mut l = s.listen(free_port(), 2);
    l.ready().await;
    s.ok(&["callbacks", "register", "--url", &l.url]).await;

    // One real change, delivered by the simulator, signed.
    let company = billed_company(&s.cw);
    s.cw.add_billed_user(company).expect("the company exists");
    until(
        "the count follows",
        || l.log(),
        || s.billed_total() == before + 1.0,
    )
    .await;
    until(
        "the run is recorded",
        || l.log(),
        || s.sync_runs() == [Status::Succeeded],
    )
    .await;
    assert!(l.log().contains("callback: contact"), "{}", l.log());

    // A burst of 200 events: one resync.
    s.cw.clear_deliveries();
    let contact = s.cw.tenant().contacts[0].id;
    for i in 0..200 {
        s.cw.update_contact(contact, |c| c.title = Some(format!("burst {i}")));
    }
    let delivered =
        s.cw.wait_for_deliveries(200, Duration::from_secs(120))
            .await;
    assert_eq!(delivered.len(), 200);
    assert!(
        delivered.iter().all(|d| d.status == Some(200)),
        "{delivered:?}"
    );
    until("one resync", || l.log(), || s.sync_runs().len() == 2).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        s.sync_runs(),
        [Status::Succeeded, Status::Succeeded],
        "exactly one resync for the burst\n{}",
        l.log()
    );
    let log = l.log();
    assert!(!log.contains("signing_key") && !log.contains(&s.cw.signing_key()));
    l.signal(libc::SIGTERM);
    let (code, log) = l.wait().await;
    assert_eq!(code, Some(143), "{log}");
}

#[tokio::test]
async fn forged_foreign_replayed_and_oversized_callbacks_change_nothing() {
    let s = Sims::start().await;
    s.ok(&["run"]).await;
    let mut l = s.listen(free_port(), 1);
    l.ready().await;
    let counts = s.gradient.current_counts();
    let event = CallbackEvent {
        action: CallbackAction::Updated,
        kind: "contact".into(),
        id: s.cw.tenant().contacts[0].id,
        company_id: None,
        entity: None,
    };
    let url = format!("{}?recordId=1&action=updated", l.url);

    let forged =
        s.cw.send_event(
            &url,
            &event,
            EventOverrides {
                signature: Signature::Key("not the key".into()),
                ..EventOverrides::default()
            },
        )
        .await;
    assert_eq!(forged.status, Some(401));
    let unsigned =
        s.cw.send_event(
            &url,
            &event,
            EventOverrides {
                signature: Signature::Missing,
                ..EventOverrides::default()
            },
        )
        .await;
    assert_eq!(unsigned.status, Some(401));
    let key_url = s.cw.key_url();
    let foreign_key = key_url.replacen("127.0.0.1", "evil.example", 1);
    let foreign =
        s.cw.send_event(
            &url,
            &event,
            EventOverrides {
                key_url: Some(foreign_key),
                ..EventOverrides::default()
            },
        )
        .await;
    assert_eq!(foreign.status, Some(401));
    for size in [1024 * 1024 + 10, 3 * 1024 * 1024] {
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(size));
        let sig =
            synthesize_sims::connectwise::content_signature(&s.cw.signing_key(), body.as_bytes());
        let big = s.cw.deliver_raw(&url, &body, Some(&sig)).await;
        assert_eq!(big.status, Some(413), "{size} bytes");
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        s.sync_runs().is_empty(),
        "refusals schedule nothing\n{}",
        l.log()
    );
    assert_eq!(s.gradient.current_counts(), counts);

    // A replay: the first copy is accepted (one resync), the second answered 200 and ignored.
    let replay = EventOverrides {
        message_id: Some("replayed-message".into()),
        ..EventOverrides::default()
    };
    let first = s.cw.send_event(&url, &event, replay.clone()).await;
    assert_eq!(first.status, Some(200));
    until("the resync", || l.log(), || s.sync_runs().len() == 1).await;
    let second = s.cw.send_event(&url, &event, replay).await;
    assert_eq!(second.status, Some(200));
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        s.sync_runs().len(),
        1,
        "the replay scheduled nothing\n{}",
        l.log()
    );
    let log = l.log();
    assert_eq!(log.matches("callback: contact").count(), 1, "{log}");
    l.signal(libc::SIGINT);
    let (code, _) = l.wait().await;
    assert_eq!(code, Some(130));
}

#[tokio::test]
async fn sigterm_lets_the_sync_in_flight_finish() {
    let s = Sims::start().await;
    s.ok(&["run"]).await;
    let before = s.billed_total();
    let mut l = s.listen(free_port(), 1);
    l.ready().await;
    s.ok(&["callbacks", "register", "--url", &l.url]).await;
    // Every Gradient answer slow: the sync stays in flight a while.
    s.gradient
        .faults()
        .update(|f| f.latency = Duration::from_millis(400));
    let seen = s.gradient.requests().len();
    s.cw.add_billed_user(billed_company(&s.cw)).unwrap();
    until(
        "the sync has started",
        || l.log(),
        || s.gradient.requests().len() > seen,
    )
    .await;
    l.signal(libc::SIGTERM);
    let (code, log) = l.wait().await;
    assert_eq!(code, Some(143), "{log}");
    assert_eq!(s.sync_runs(), [Status::Succeeded], "{log}");
    assert_eq!(s.billed_total(), before + 1.0, "{log}");
}
