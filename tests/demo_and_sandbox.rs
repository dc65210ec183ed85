//! `demo` and `sandbox`, as a new user meets them: the README's first command, and the
//! sandbox's printed settings driving real verbs.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{binary, run, stderr};
use synthesize_sims::autotask::AtTenant;
use synthesize_sims::connectwise::CwTenant;

type Counts = BTreeMap<(String, String), u64>;

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Contract §3 for contacts, written out plainly over the sample tenant.
fn expected_contacts(types: &[&str]) -> Counts {
    let mut out = Counts::new();
    for c in CwTenant::sample().contacts {
        let Some(company) = &c.company else { continue };
        if c.inactive_flag {
            continue;
        }
        for t in types {
            if c.types.iter().any(|ct| norm(&ct.name) == norm(t)) {
                *out.entry((company.id.to_string(), t.to_string()))
                    .or_default() += 1;
            }
        }
    }
    out
}

fn expected_devices() -> Counts {
    let mut out = Counts::new();
    for c in CwTenant::sample().configurations {
        let Some(company) = &c.company else { continue };
        if !c.active_flag || norm(&c.kind.name) != "license" {
            continue;
        }
        let shared = c
            .contact
            .as_ref()
            .is_some_and(|ct| ct.name.to_lowercase().contains("shared"));
        let service = if shared {
            "Shared Devices"
        } else {
            "Not Shared Devices"
        };
        *out.entry((company.id.to_string(), service.to_string()))
            .or_default() += 1;
    }
    out
}

fn expected_autotask() -> Counts {
    let t = AtTenant::sample();
    let names: BTreeMap<i64, String> = t
        .configuration_item_types
        .iter()
        .map(|ty| (ty.id, norm(&ty.name)))
        .collect();
    let mut out = Counts::new();
    for item in t.configuration_items {
        let (Some(company), Some(ty), true) = (
            item.company_id,
            item.configuration_item_type,
            item.is_active,
        ) else {
            continue;
        };
        let Some(name) = names.get(&ty) else { continue };
        let service = match name.as_str() {
            "desktop" | "laptop" => "Managed Workstations",
            "server" => "Managed Servers",
            "esxi host" => continue,
            _ => "Network Devices",
        };
        *out.entry((company.to_string(), service.to_string()))
            .or_default() += 1;
    }
    out
}

#[tokio::test]
async fn demo_json_holds_the_expected_counts() {
    let mut cmd = binary();
    cmd.args(["demo", "--output", "json"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 3);
    for s in sources {
        let source = s["source"].as_str().unwrap();
        let expected = match source {
            "connectwise-contacts" => expected_contacts(&["Billed User", "VIP"]),
            "connectwise-shared-devices" => expected_devices(),
            "autotask-configuration-items" => expected_autotask(),
            other => panic!("unexpected source {other}"),
        };
        let rows = s["sync_usage"]["counts"].as_array().unwrap();
        let mut got = Counts::new();
        for r in rows {
            let key = (
                r["account_id"].as_str().unwrap().to_string(),
                r["service"].as_str().unwrap().to_string(),
            );
            let result = r["result"].as_str().unwrap();
            assert!(result == "set" || result == "unmapped", "{source}: {r}");
            got.insert(key, r["count"].as_u64().unwrap());
        }
        // Every expected unit is there, and every other pair is an explicit zero.
        for (key, n) in &expected {
            assert_eq!(got.get(key), Some(n), "{source} {key:?}");
        }
        for (key, n) in &got {
            if !expected.contains_key(key) {
                assert_eq!(*n, 0, "{source} {key:?} should be 0");
            }
        }
        let summary = &s["sync_usage"]["summary"];
        assert_eq!(summary["failed"], 0, "{source}");
        assert!(
            summary["unmapped"].as_u64().unwrap() > 0,
            "{source}: some left unmapped"
        );
        assert!(summary["set"].as_u64().unwrap() > 0, "{source}");
        assert!(
            !s["left_unmapped"].as_array().unwrap().is_empty(),
            "{source}: the sandbox partner leaves some unmapped"
        );
    }
}

#[tokio::test]
async fn demo_text_tells_the_story() {
    let mut cmd = binary();
    cmd.arg("demo");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "=== connectwise-contacts ===",
        "=== connectwise-shared-devices ===",
        "=== autotask-configuration-items ===",
        "$ synthesize-sync --source connectwise-contacts sync-usage",
        "Integration status set to pending",
        "unmapped",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

/// Colour only when asked for (or on a terminal): pipes, files and `NO_COLOR` get plain text.
#[tokio::test]
async fn colour_is_off_in_pipes_and_on_when_asked() {
    for (args, env_no_color, coloured) in [
        (&["demo"][..], false, false),
        (&["--color", "never", "demo"][..], false, false),
        (&["--color", "auto", "demo"][..], true, false),
        (&["--color", "always", "demo"][..], true, true),
    ] {
        let mut cmd = binary();
        cmd.args(args);
        if env_no_color {
            cmd.env("NO_COLOR", "1");
        }
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        assert_eq!(text.contains('\u{1b}'), coloured, "{args:?}:\n{text}");
        if coloured {
            assert!(text.contains("\u{1b}[32mset\u{1b}[0m"), "{text}");
            assert!(text.contains("\u{1b}[33munmapped\u{1b}[0m"), "{text}");
        }
    }
}

/// Runs `sandbox` on free ports, pastes its printed settings into a file, and drives
/// `run` with them; then stops the sandbox with Ctrl-C (SIGINT).
#[test]
fn sandbox_prints_working_settings_and_stops_on_ctrl_c() {
    let bin = assert_cmd::cargo::cargo_bin("synthesize-sync");
    let mut child = Command::new(&bin)
        .args([
            "sandbox",
            "--gradient-port",
            "0",
            "--connectwise-port",
            "0",
            "--autotask-port",
            "0",
        ])
        .env_clear()
        .current_dir(common::empty_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut blocks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    while let Some(Ok(line)) = lines.next() {
        if let Some(name) = line
            .strip_prefix("# --- ")
            .and_then(|l| l.strip_suffix(" ---"))
        {
            current = Some(name.to_string());
            blocks.insert(name.to_string(), vec![]);
            continue;
        }
        let Some(c) = &current else { continue };
        if line.is_empty() {
            if blocks.len() == 3 {
                break;
            }
            current = None;
        } else {
            blocks.get_mut(c).unwrap().push(line);
        }
    }
    assert_eq!(blocks.len(), 3, "one block per source: {blocks:?}");
    let dir = common::empty_dir().join("sandbox-test");
    std::fs::create_dir_all(&dir).unwrap();
    // The README's "Try every verb by hand" sequence, for each source's block.
    let verbs: [&[&str]; 6] = [
        &["authenticate"],
        &["sync-accounts"],
        &["sync-services"],
        &["update-status"],
        &["sync-usage", "--dry-run"],
        &["run"],
    ];
    for source in [
        "connectwise-contacts",
        "connectwise-shared-devices",
        "autotask-configuration-items",
    ] {
        let file = dir.join(format!("{source}.env"));
        std::fs::write(&file, blocks[source].join("\n")).unwrap();
        for verb in verbs {
            let o = Command::new(&bin)
                .arg("--env-file")
                .arg(&file)
                .args(verb)
                .env_clear()
                .current_dir(&dir)
                .output()
                .unwrap();
            assert_eq!(
                o.status.code(),
                Some(0),
                "{source} {verb:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            if verb == ["run"] {
                let out = String::from_utf8_lossy(&o.stdout);
                assert!(out.contains("set") && out.contains("unmapped"), "{out}");
            }
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "Ctrl-C stops the sandbox cleanly");
}
