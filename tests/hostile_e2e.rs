//! The built binary against hostile servers and broken environments (issue "Hostile
//! servers and bad input"). A tampering proxy (tests/common/hostile.rs) sits between the tool
//! and a real simulator: it redirects, echoes the request's headers, floods, repeats or
//! reshapes rows. A sink stands for an attacker's other origin. Each test is named after
//! the bug it guards against; none uses a mock.

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

use assert_cmd::Command;
use base64::Engine;
use serde_json::{Value, json};
use synthesize_sims::RunningServer;
use synthesize_sims::autotask::{AtTenant, AutotaskSim};
use synthesize_sims::connectwise::{ConnectWiseSim, CwGenerateSpec, CwTenant};
use synthesize_sims::gradient::GradientSim;

use common::hostile::{Action, Hostile, Rule, Sink, pascal_case_keys, remove_key_everywhere};
use common::{binary, binary_for, run, stderr, stdout};

const CONTACTS: &str = "connectwise-contacts";
const AUTOTASK: &str = "autotask-configuration-items";
/// The ConnectWise contacts list (not its `/types`).
const CONTACT_PAGES: &str = "/company/contacts?";

/// ConnectWise and Gradient simulators, each behind a tampering proxy.
struct Cw {
    cw: ConnectWiseSim,
    _cw_server: RunningServer,
    cw_proxy: Hostile,
    cw_proxy_server: RunningServer,
    gradient: GradientSim,
    _gradient_server: RunningServer,
    gradient_proxy: Hostile,
    gradient_proxy_server: RunningServer,
}

impl Cw {
    /// 1,500 contacts at 40 companies: the contacts read crosses two pages of 1,000.
    async fn start() -> Cw {
        let cw = ConnectWiseSim::new(CwTenant::generate(&CwGenerateSpec {
            companies: 40,
            contacts: 2_500,
            configurations: 50,
            seed: 5,
        }));
        let cw_server = cw.start().await.unwrap();
        let (cw_proxy, cw_proxy_server) = Hostile::start(&cw_server.base_url()).await;
        let (gradient, gradient_server) = common::gradient().await;
        let (gradient_proxy, gradient_proxy_server) =
            Hostile::start(&gradient_server.base_url()).await;
        Cw {
            cw,
            _cw_server: cw_server,
            cw_proxy,
            cw_proxy_server,
            gradient,
            _gradient_server: gradient_server,
            gradient_proxy,
            gradient_proxy_server,
        }
    }

    /// The settings that reach both APIs through their proxies.
    fn env(&self) -> Vec<(&'static str, String)> {
        let c = self.cw.credentials();
        let (vendor, partner) = self.gradient.credentials();
        vec![
            ("GRADIENT_VENDOR_API_KEY", vendor),
            ("GRADIENT_PARTNER_API_KEY", partner),
            ("GRADIENT_BASE_URL", self.gradient_proxy_server.base_url()),
            ("SYNC_SOURCE", CONTACTS.into()),
            ("CONNECTWISE_BASE_URL", self.cw_proxy_server.base_url()),
            ("CONNECTWISE_COMPANY_ID", c.company_id),
            ("CONNECTWISE_PUBLIC_KEY", c.public_key),
            ("CONNECTWISE_PRIVATE_KEY", c.private_key),
            ("CONNECTWISE_CLIENT_ID", c.client_id),
        ]
    }

    /// The binary, both APIs reached through their proxies.
    fn cmd(&self) -> Command {
        let mut cmd = binary();
        cmd.envs(self.env());
        cmd
    }

    /// The same as a plain `std::process::Command` (to watch the process's memory).
    fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("synthesize-sync"));
        cmd.env_clear()
            .current_dir(common::empty_dir())
            .env("SYNC_STATE_DIR", common::fresh_state_dir())
            .env("SYNC_RETRY_BASE_MS", "5")
            .env("SYNC_MAX_RETRIES", "3")
            .envs(self.env());
        cmd
    }

    async fn run(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = self.cmd();
        cmd.args(args);
        run(cmd).await
    }

    /// Accounts and services created and mapped, so every count can be stored.
    async fn ready(&self) {
        for verb in ["sync-accounts", "sync-services"] {
            let o = self.run(&[verb]).await;
            assert_eq!(o.status.code(), Some(0), "{verb}: {}", stderr(&o));
        }
        self.gradient.map_everything();
    }

    /// Every secret of this world and the forms it travels in.
    fn secrets(&self) -> Vec<String> {
        let c = self.cw.credentials();
        let (vendor, partner) = self.gradient.credentials();
        let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
        vec![
            c.private_key.clone(),
            c.public_key.clone(),
            b64(format!(
                "{}+{}:{}",
                c.company_id, c.public_key, c.private_key
            )),
            vendor.clone(),
            partner.clone(),
            b64(format!("{vendor}:{partner}")),
        ]
    }
}

/// Asserts that no secret appears anywhere in what the process printed.
fn assert_no_secret(o: &std::process::Output, secrets: &[String]) {
    let all = format!("{}{}", stdout(o), stderr(o));
    for s in secrets {
        assert!(!all.contains(s.as_str()), "a secret was printed:\n{all}");
    }
}

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", stdout(o)))
}

// ---- 1. Redirects ----

/// Regression: a 302 from Gradient to another origin received GRADIENT-TOKEN and its answer
/// was trusted.
#[tokio::test(flavor = "multi_thread")]
async fn redirect_to_another_origin_is_refused_and_the_token_never_leaves() {
    let w = Cw::start().await;
    let (sink, sink_server) = Sink::start(200, json!([{"id": "1", "name": "Evil"}])).await;
    w.gradient_proxy.add(Rule::on(
        "GET",
        "/organization/accounts",
        Action::Redirect {
            status: 302,
            location: format!("{}/steal?token=abc", sink_server.base_url()),
        },
    ));
    let o = w.run(&["sync-usage"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("302"), "{err}");
    assert!(
        err.contains(&sink_server.base_url()),
        "names the origin: {err}"
    );
    assert!(
        !err.contains("/steal") && !err.contains("token=abc"),
        "{err}"
    );
    assert!(
        sink.requests().is_empty(),
        "nothing reached the other origin"
    );
    assert!(w.gradient.count_calls().is_empty());
    assert_no_secret(&o, &w.secrets());
}

/// Regression: a 301/302/303 on a count POST was replayed as a GET, its 200 taken as success:
/// 60 pairs printed `set`, exit 0, 0 counts stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_count_write_answered_with_a_redirect_is_failed_never_set() {
    let w = Cw::start().await;
    w.ready().await;
    for status in [301, 302, 303, 307, 308] {
        w.gradient_proxy.clear();
        w.gradient_proxy.add(Rule::on(
            "POST",
            "/count",
            Action::Redirect {
                status,
                location: "/login".into(),
            },
        ));
        let before = w.gradient.count_calls().len();
        let o = w.run(&["--output", "json", "sync-usage"]).await;
        assert_eq!(o.status.code(), Some(1), "{status}: {}", stderr(&o));
        let report = json_of(&o);
        let counts = report["counts"].as_array().unwrap();
        assert!(!counts.is_empty());
        for row in counts {
            assert_eq!(row["result"], "failed", "{status}: {row}");
            assert!(
                row["message"]
                    .as_str()
                    .unwrap()
                    .contains(&status.to_string()),
                "{row}"
            );
        }
        assert_eq!(report["summary"]["set"], 0);
        assert_eq!(w.gradient.count_calls().len(), before, "nothing stored");
        assert!(
            !w.gradient_proxy
                .requests()
                .iter()
                .any(|r| r.uri.starts_with("/login")),
            "the redirect was not followed"
        );
    }
}

/// The ConnectWise and Autotask clients refuse redirects too: a page answered with a
/// redirect to another origin fails the read, and the credentials stay here.
#[tokio::test(flavor = "multi_thread")]
async fn psa_pages_that_redirect_fail_the_read_and_send_nothing_elsewhere() {
    let w = Cw::start().await;
    w.ready().await;
    let (sink, sink_server) = Sink::start(200, json!([])).await;
    w.cw_proxy.add(Rule::on(
        "GET",
        CONTACT_PAGES,
        Action::Redirect {
            status: 307,
            location: format!(
                "{}/v2025_1/apis/3.0/company/contacts",
                sink_server.base_url()
            ),
        },
    ));
    let before = w.gradient.count_calls().len();
    let o = w.run(&["sync-usage"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("307"), "{}", stderr(&o));
    assert!(sink.requests().is_empty());
    assert_eq!(w.gradient.count_calls().len(), before);

    let at = At::start(AtTenant::sample()).await;
    let (sink, sink_server) = Sink::start(200, json!({})).await;
    at.proxy.add(Rule::on(
        "POST",
        "ConfigurationItems/query",
        Action::Redirect {
            status: 308,
            location: format!(
                "{}/ATServicesRest/V1.0/ConfigurationItems/query",
                sink_server.base_url()
            ),
        },
    ));
    let o = run(at.cmd(&["sync-usage"])).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("308"), "{}", stderr(&o));
    assert!(sink.requests().is_empty());
    assert!(at.gradient.count_calls().is_empty());
}

// ---- 2. No credentials in clear text; 9. credentials in URLs ----

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_and_user_info_base_urls_are_settings_errors_that_echo_nothing() {
    for (variable, value, hidden) in [
        (
            "CONNECTWISE_BASE_URL",
            "http://api-na.myconnectwise.net",
            "",
        ),
        ("GRADIENT_BASE_URL", "http://app.usegradient.com", ""),
        (
            "AUTOTASK_DISCOVERY_URL",
            "http://webservices.autotask.net/ATServicesRest/",
            "",
        ),
        (
            "GRADIENT_BASE_URL",
            "https://me:Pa55wordXYZ@app.usegradient.com",
            "Pa55wordXYZ",
        ),
        (
            "GRADIENT_BASE_URL",
            "vendorKeyPastedHere123",
            "vendorKeyPastedHere123",
        ),
        (
            "SYNC_MAX_RETRIES",
            "partnerKeyPastedHere456",
            "partnerKeyPastedHere456",
        ),
    ] {
        let mut cmd = binary();
        cmd.env("GRADIENT_VENDOR_API_KEY", "vendor-key-0001")
            .env("GRADIENT_PARTNER_API_KEY", "partner-key-0001")
            .env(variable, value)
            .args(["--source", CONTACTS, "sync-services", "--dry-run"]);
        let o = run(cmd).await;
        assert_eq!(
            o.status.code(),
            Some(2),
            "{variable}={value}: {}",
            stderr(&o)
        );
        assert!(stderr(&o).contains(variable), "{}", stderr(&o));
        if !hidden.is_empty() {
            assert!(!stderr(&o).contains(hidden), "{}", stderr(&o));
            assert!(!stdout(&o).contains(hidden));
        }
    }
}

/// A zone discovered as http:// on a host that is not this machine would carry the secret
/// in clear text: refused before any credential is sent.
#[tokio::test(flavor = "multi_thread")]
async fn an_autotask_zone_discovered_as_plain_http_is_refused() {
    let at = At::start(AtTenant::sample()).await;
    at.proxy.add(Rule::on(
        "GET",
        "zoneInformation",
        Action::map_json(|_, mut v, _| {
            v["url"] = json!("http://webservices99.autotask.net/ATServicesRest/");
            v
        }),
    ));
    let mut cmd = at.cmd(&["sync-usage"]);
    cmd.env_remove("AUTOTASK_BASE_URL").env(
        "AUTOTASK_DISCOVERY_URL",
        format!("{}/ATServicesRest/", at.proxy_server.base_url()),
    );
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("plain http"), "{}", stderr(&o));
    assert!(
        !at.proxy
            .requests()
            .iter()
            .any(|r| r.header("secret").is_some()),
        "no request carried the secret"
    );
}

// ---- 3. Environment ----

fn not_utf8(prefix: &str) -> OsString {
    let mut bytes = prefix.as_bytes().to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, b'x']);
    OsString::from_vec(bytes)
}

/// Regression: a non-UTF-8 byte in any environment variable panicked (exit 101) and printed
/// the variable's raw value, secrets included.
#[tokio::test(flavor = "multi_thread")]
async fn a_non_utf8_variable_the_tool_reads_is_exit_2_and_its_value_is_never_printed() {
    let (gradient, server) = common::gradient().await;
    for json in [false, true] {
        let mut cmd = binary_for(&gradient, &server);
        cmd.env("GRADIENT_PARTNER_API_KEY", not_utf8("TopSecretPartner"));
        if json {
            cmd.args(["--output", "json"]);
        }
        cmd.arg("update-status");
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("GRADIENT_PARTNER_API_KEY"),
            "{}",
            stderr(&o)
        );
        assert!(!format!("{}{}", stdout(&o), stderr(&o)).contains("TopSecret"));
        if json {
            let doc = json_of(&o);
            assert_eq!(doc["exit_code"], 2);
        }
    }
    // One the tool does not read is ignored.
    let mut cmd = binary_for(&gradient, &server);
    cmd.env("SOME_OTHER_TOOLS_SETTING", not_utf8("whatever"))
        .arg("authenticate");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

// ---- 4. Paging integrity ----

/// Regression: a ConnectWise page 2 that repeated 200 rows of page 1 was counted twice
/// (46 of 60 pairs wrong, exit 0).
#[tokio::test(flavor = "multi_thread")]
async fn a_page_that_repeats_rows_of_an_earlier_page_fails_the_read() {
    let w = Cw::start().await;
    w.ready().await;
    let before = w.gradient.count_calls().len();
    w.cw_proxy.add(Rule::on(
        "GET",
        CONTACT_PAGES,
        Action::map_json(|_, v, scratch| {
            let rows = v.as_array().cloned().unwrap_or_default();
            match scratch.get("page1").and_then(Value::as_array).cloned() {
                None => {
                    scratch.insert("page1".into(), Value::Array(rows.clone()));
                    Value::Array(rows)
                }
                Some(first) => {
                    let mut spliced: Vec<Value> = first.into_iter().take(200).collect();
                    spliced.extend(rows);
                    Value::Array(spliced)
                }
            }
        }),
    ));
    let o = w.run(&["sync-usage"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("repeat or reorder"), "{}", stderr(&o));
    assert_eq!(w.gradient.count_calls().len(), before, "nothing written");
}

// ---- 5. Schema drift ----

/// Regression: PascalCase rows were all "no company" (60 wrong pairs, exit 0).
#[tokio::test(flavor = "multi_thread")]
async fn connectwise_rows_in_another_shape_fail_the_read() {
    let w = Cw::start().await;
    w.ready().await;
    let before = w.gradient.count_calls().len();
    for (shape, says) in [("pascal", "id"), ("no company", "company")] {
        w.cw_proxy.clear();
        w.cw_proxy.add(Rule::on(
            "GET",
            CONTACT_PAGES,
            Action::map_json(move |_, v, _| {
                if shape == "pascal" {
                    pascal_case_keys(v)
                } else {
                    remove_key_everywhere(v, "company")
                }
            }),
        ));
        let o = w.run(&["sync-usage"]).await;
        assert_eq!(o.status.code(), Some(1), "{shape}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{shape}: {}", stderr(&o));
        assert_eq!(
            w.gradient.count_calls().len(),
            before,
            "{shape}: nothing written"
        );
    }
}

/// Regression: Autotask rows without `companyID` were "no company" (98 wrong pairs, exit 0).
#[tokio::test(flavor = "multi_thread")]
async fn autotask_rows_without_company_id_fail_the_read() {
    let at = At::start(AtTenant::sample()).await;
    for field in ["companyID", "isActive", "configurationItemType"] {
        at.proxy.clear();
        at.proxy.add(Rule::on(
            "POST",
            "ConfigurationItems/query",
            Action::map_json(move |_, v, _| remove_key_everywhere(v, field)),
        ));
        let o = run(at.cmd(&["run"])).await;
        assert_eq!(o.status.code(), Some(1), "{field}: {}", stderr(&o));
        assert!(stderr(&o).contains(&format!("'{field}'")), "{}", stderr(&o));
        assert!(at.gradient.count_calls().is_empty());
    }
}

// ---- 6. One scrubber ----

/// Regression: an Autotask 500 or a ConnectWise 401 that echoed the request's headers printed
/// the secret.
#[tokio::test(flavor = "multi_thread")]
async fn servers_that_echo_our_headers_never_get_a_secret_printed_even_at_trace() {
    let w = Cw::start().await;
    w.ready().await;
    for (status, json) in [(401, true), (500, false), (400, true)] {
        w.cw_proxy.clear();
        w.cw_proxy.add(Rule::on(
            "GET",
            CONTACT_PAGES,
            Action::EchoHeaders { status, json },
        ));
        let mut cmd = w.cmd();
        cmd.env("RUST_LOG", "trace").args(["-vv", "sync-usage"]);
        let o = run(cmd).await;
        assert_ne!(o.status.code(), Some(0), "{status}");
        assert!(
            stderr(&o).contains("[redacted]"),
            "the echo was scrubbed: {}",
            stderr(&o)
        );
        assert_no_secret(&o, &w.secrets());
    }
    w.cw_proxy.clear();
    w.gradient_proxy.add(Rule::on(
        "POST",
        "/count",
        Action::EchoHeaders {
            status: 400,
            json: true,
        },
    ));
    let mut cmd = w.cmd();
    cmd.env("RUST_LOG", "trace")
        .args(["-vv", "--output", "json", "sync-usage"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("[redacted]"));
    assert_no_secret(&o, &w.secrets());

    let at = At::start(AtTenant::sample()).await;
    at.proxy.add(Rule::on(
        "POST",
        "ConfigurationItems/query",
        Action::EchoHeaders {
            status: 500,
            json: true,
        },
    ));
    let mut cmd = at.cmd(&["-vv", "sync-usage"]);
    cmd.env("RUST_LOG", "trace");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("[redacted]"), "{}", stderr(&o));
    assert_no_secret(&o, &at.secrets());
}

// ---- 7. Terminal safety ----

const EVIL_NAME: &str =
    "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J\r\nFAKE 999999 Billed User 777 set\u{202e}\u{0}\u{9b}";

/// Every contact's company gets [`EVIL_NAME`].
fn name_every_company_evil(w: &Cw) {
    w.cw_proxy.add(Rule::on(
        "GET",
        CONTACT_PAGES,
        Action::map_json(|_, mut v, _| {
            for row in v.as_array_mut().into_iter().flatten() {
                if let Some(company) = row.get_mut("company") {
                    company["name"] = json!(EVIL_NAME);
                }
            }
            v
        }),
    ));
}

/// Regression: a company name could clear the screen, retitle the window and forge a table
/// row (`FAKE 999999 Billed User 777 set`).
#[tokio::test(flavor = "multi_thread")]
async fn company_names_cannot_drive_the_terminal_or_forge_rows() {
    let w = Cw::start().await;
    name_every_company_evil(&w);
    let o = w.run(&["-v", "run", "--dry-run"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (what, text) in [("stdout", stdout(&o)), ("stderr", stderr(&o))] {
        for c in ['\u{1b}', '\r', '\u{7}', '\u{202e}', '\u{0}', '\u{9b}'] {
            assert!(!text.contains(c), "{what} holds {c:?}:\n{text}");
        }
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("FAKE")),
            "{what} has a forged line:\n{text}"
        );
    }
    assert!(stdout(&o).contains("Evil\\x1b]0;pwned"), "{}", stdout(&o));
}

/// With `--color always` the only escape sequences on stdout are the tool's own colours:
/// colour is added after escaping, so a hostile name still cannot drive the terminal.
#[tokio::test(flavor = "multi_thread")]
async fn colour_output_adds_only_the_tools_own_escape_sequences() {
    let w = Cw::start().await;
    name_every_company_evil(&w);
    let o = w.run(&["--color", "always", "run", "--dry-run"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("\u{1b}[32mplanned\u{1b}[0m"), "{out}");
    let mut rest = out.clone();
    for sgr in ["\u{1b}[31m", "\u{1b}[32m", "\u{1b}[33m", "\u{1b}[0m"] {
        rest = rest.replace(sgr, "");
    }
    for c in ['\u{1b}', '\r', '\u{7}', '\u{202e}', '\u{0}', '\u{9b}'] {
        assert!(!rest.contains(c), "stdout holds {c:?}:\n{out}");
    }
}

// ---- 8. Bounded responses ----

/// The peak resident memory (VmHWM) of a child process, polled until it exits.
fn run_measuring_peak(mut cmd: std::process::Command) -> (std::process::Output, u64) {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kib: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    (
        std::process::Output {
            status,
            stdout: out,
            stderr: err,
        },
        peak_kib * 1024,
    )
}

/// Regression: a 300 MB page peaked at 609 MiB RSS. The body is read under the cap and the
/// read fails naming the API.
#[tokio::test(flavor = "multi_thread")]
async fn a_300_mb_page_fails_the_read_under_64_mib() {
    let w = Cw::start().await;
    for declare_length in [false, true] {
        w.cw_proxy.clear();
        w.cw_proxy.add(Rule::on(
            "GET",
            CONTACT_PAGES,
            Action::HugeBody {
                bytes: 300 * 1024 * 1024,
                declare_length,
            },
        ));
        let mut cmd = w.std_cmd();
        cmd.arg("sync-usage");
        let (o, peak) = tokio::task::spawn_blocking(move || run_measuring_peak(cmd))
            .await
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("ConnectWise") && err.contains("larger than 32 MiB"),
            "{err}"
        );
        println!(
            "300 MB page, declared length {declare_length}: peak RSS {} MiB",
            peak / (1024 * 1024)
        );
        assert!(
            peak < 64 * 1024 * 1024,
            "peak RSS {} MiB (declared length: {declare_length})",
            peak / (1024 * 1024)
        );
    }
}

// ---- 10. Gradient's other refusals ----

/// On a 403 ("anomaly with your API usage") the tool stops writing at once, reports the
/// pairs not attempted, exits 1 and says to contact Gradient support.
#[tokio::test(flavor = "multi_thread")]
async fn a_gradient_403_stops_the_writes_and_reports_the_rest_as_not_attempted() {
    let w = Cw::start().await;
    w.ready().await;
    let before = w.gradient.count_calls().len();
    // The Gradient requests before the first write, then 5 writes, pass.
    let dry = w
        .run(&["--output", "json", "sync-usage", "--dry-run"])
        .await;
    let reads = json_of(&dry)["requests"]["gradient"].as_u64().unwrap() as usize;
    w.gradient.set_anomaly_after(Some(reads + 5));
    let mut cmd = w.cmd();
    cmd.env("SYNC_WRITE_CONCURRENCY", "1")
        .args(["--output", "json", "sync-usage"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("contact Gradient support"),
        "{}",
        stderr(&o)
    );
    let report = json_of(&o);
    let summary = &report["summary"];
    assert_eq!(summary["set"], 5, "{summary}");
    let total = report["counts"].as_array().unwrap().len() as u64;
    assert_eq!(summary["failed"].as_u64().unwrap(), total - 5);
    assert_eq!(summary["not_attempted"].as_u64().unwrap(), total - 6);
    assert_eq!(
        w.gradient.count_calls().len() - before,
        5,
        "every pair reported set was stored"
    );
    // Only one request was answered 403: nothing was sent after it.
    let forbidden = w
        .gradient_proxy
        .requests()
        .iter()
        .filter(|r| r.uri.contains("/count"))
        .count();
    assert_eq!(forbidden, 6);
}

// ---- Autotask world ----

struct At {
    autotask: AutotaskSim,
    _autotask_server: RunningServer,
    proxy: Hostile,
    proxy_server: RunningServer,
    gradient: GradientSim,
    gradient_server: RunningServer,
}

impl At {
    async fn start(tenant: AtTenant) -> At {
        let autotask = AutotaskSim::new(tenant);
        let autotask_server = autotask.start().await.unwrap();
        let (proxy, proxy_server) = Hostile::start(&autotask_server.base_url()).await;
        let (gradient, gradient_server) = common::gradient().await;
        At {
            autotask,
            _autotask_server: autotask_server,
            proxy,
            proxy_server,
            gradient,
            gradient_server,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let c = self.autotask.credentials();
        let mut cmd = binary_for(&self.gradient, &self.gradient_server);
        cmd.env("SYNC_SOURCE", AUTOTASK)
            .env("AUTOTASK_USERNAME", c.username)
            .env("AUTOTASK_SECRET", c.secret)
            .env("AUTOTASK_INTEGRATION_CODE", c.integration_code)
            .env(
                "AUTOTASK_BASE_URL",
                format!("{}/ATServicesRest/", self.proxy_server.base_url()),
            )
            .args(args);
        cmd
    }

    fn secrets(&self) -> Vec<String> {
        let c = self.autotask.credentials();
        let (vendor, partner) = self.gradient.credentials();
        vec![c.secret, c.integration_code, vendor, partner]
    }
}

// ---- Found by attacking the fixes above ----

/// Regression: a server that echoed the token JSON-escaped the .NET way (`+` → `\u002B`),
/// the PHP way (`/` → `\/`) or in HTML got it printed.
#[tokio::test(flavor = "multi_thread")]
async fn echoes_escaped_as_json_or_html_are_scrubbed_too() {
    let sim = GradientSim::new("vendorkey000>>?", "partnerkey?0~~");
    let server = sim.start().await.unwrap();
    let (proxy, proxy_server) = Hostile::start(&server.base_url()).await;
    let token = base64::engine::general_purpose::STANDARD.encode("vendorkey000>>?:partnerkey?0~~");
    assert!(token.contains('+') || token.contains('/'), "{token}");
    let dotnet: String = token
        .chars()
        .map(|c| match c {
            '+' => "\\u002B".to_string(),
            '/' => "\\/".to_string(),
            c => c.to_string(),
        })
        .collect();
    let html = token.replace('+', "&#43;").replace('/', "&#x2F;");
    for body in [
        format!(r#"{{"message":"bad token {dotnet}"}}"#),
        format!("<html><p>token: {html}</p></html>"),
    ] {
        proxy.clear();
        proxy.add(Rule::on(
            "GET",
            "/organization",
            Action::Reply {
                status: 500,
                headers: vec![],
                body: body.clone().into_bytes(),
            },
        ));
        let mut cmd = binary();
        cmd.env("GRADIENT_VENDOR_API_KEY", "vendorkey000>>?")
            .env("GRADIENT_PARTNER_API_KEY", "partnerkey?0~~")
            .env("GRADIENT_BASE_URL", proxy_server.base_url())
            .env("SYNC_MAX_RETRIES", "0")
            .args(["--output", "json", "authenticate"]);
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        for form in [&token, &dotnet, &html, &token[..20].to_string()] {
            assert!(!all.contains(form.as_str()), "{form} printed:\n{all}");
        }
        assert!(all.contains("[redacted]"), "{all}");
    }
}

/// Regression: Autotask pages that were empty but kept linking onwards were followed forever
/// (495 requests in 20 s, the tenant's shared hourly threshold spent in minutes).
#[tokio::test(flavor = "multi_thread")]
async fn autotask_empty_pages_that_keep_linking_fail_the_read() {
    let at = At::start(AtTenant::sample()).await;
    let next = format!(
        "{}/ATServicesRest/V1.0/ConfigurationItems/query/next?paging=loop",
        at.proxy_server.base_url()
    );
    at.proxy.add(Rule::on(
        "POST",
        "ConfigurationItems/query",
        Action::map_json(move |_, mut v, _| {
            v["items"] = json!([]);
            v["pageDetails"] =
                json!({"count": 0, "requestCount": 500, "prevPageUrl": null, "nextPageUrl": next});
            v
        }),
    ));
    let o = run(at.cmd(&["sync-usage", "--dry-run"])).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("empty but still links"),
        "{}",
        stderr(&o)
    );
    let pages = at
        .proxy
        .requests()
        .iter()
        .filter(|r| r.uri.contains("ConfigurationItems/query"))
        .count();
    assert!(pages <= 2, "{pages} page requests");
}

/// Regression: `Retry-After: 18446744073709551615` overflowed the wait and panicked (exit
/// 101, no JSON document).
#[tokio::test(flavor = "multi_thread")]
async fn a_huge_retry_after_ends_the_run_cleanly() {
    let w = Cw::start().await;
    w.gradient_proxy.add(
        Rule::on(
            "GET",
            "/organization/accounts",
            Action::Reply {
                status: 429,
                headers: vec![("retry-after".into(), "1".into())],
                body: b"{}".to_vec(),
            },
        )
        .nth(1),
    );
    w.gradient_proxy.add(Rule::on(
        "GET",
        "/organization/accounts",
        Action::Reply {
            status: 429,
            headers: vec![("retry-after".into(), u64::MAX.to_string())],
            body: b"{}".to_vec(),
        },
    ));
    let o = w.run(&["--output", "json", "sync-usage"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(json_of(&o)["exit_code"], 1);
}

/// Regression: any 2xx on a count write was `set`: an HTML "Access denied" page with 200
/// reported 20 pairs set, exit 0, nothing stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_count_write_answered_200_with_a_page_is_failed() {
    let w = Cw::start().await;
    w.ready().await;
    let before = w.gradient.count_calls().len();
    w.gradient_proxy.add(Rule::on(
        "POST",
        "/count",
        Action::Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/html".into())],
            body: b"<html>Access denied</html>".to_vec(),
        },
    ));
    let o = w.run(&["--output", "json", "sync-usage"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = json_of(&o);
    assert_eq!(report["summary"]["set"], 0, "{}", report["summary"]);
    assert_eq!(w.gradient.count_calls().len(), before);
}

/// Regression: a vendor answer without `skus` was read as "no services", and every
/// sync-services created them all again.
#[tokio::test(flavor = "multi_thread")]
async fn a_vendor_answer_without_skus_is_an_error_not_no_services() {
    let w = Cw::start().await;
    w.ready().await;
    let services = w.gradient.partner().skus.len();
    w.gradient_proxy.add(Rule::on(
        "GET",
        "/api/vendor-api",
        Action::map_json(|path, v, _| {
            if path.trim_end_matches('/').ends_with("/api/vendor-api") {
                remove_key_everywhere(v, "skus")
            } else {
                v
            }
        }),
    ));
    let o = w.run(&["sync-services"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("skus"), "{}", stderr(&o));
    assert_eq!(w.gradient.partner().skus.len(), services, "nothing created");
}

/// Regression: JSON output let DEL, C1 and bidi controls through raw.
#[tokio::test(flavor = "multi_thread")]
async fn json_output_escapes_what_a_terminal_must_not_receive() {
    let w = Cw::start().await;
    name_every_company_evil(&w);
    let o = w.run(&["--output", "json", "run", "--dry-run"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for c in ['\u{1b}', '\u{9b}', '\u{202e}', '\u{7f}', '\r'] {
        assert!(!out.contains(c), "{c:?} raw in JSON");
    }
    let report = json_of(&o);
    let names: Vec<&str> = report["counts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["account_name"].as_str())
        .collect();
    assert!(
        names.contains(&EVIL_NAME),
        "the escapes read back as the name"
    );
}

/// Regression: `| head` closing stdout made the tool panic (exit 101).
#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("synthesize-sync"))
        .env_clear()
        .current_dir(common::empty_dir())
        .args(["--output", "json", "demo"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101), "no panic");
}
