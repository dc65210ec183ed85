//! The built binary against the Gradient simulator: the verbs that need no PSA,
//! settings errors, exit codes, and that no secret ever reaches the output.

mod common;

use common::{binary, binary_for, gradient, run, stderr, stdout};

#[tokio::test]
async fn authenticate_prints_organization_and_vendor() {
    let (sim, server) = gradient().await;
    let mut cmd = binary_for(&sim, &server);
    cmd.arg("authenticate");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Northwind IT Services"), "{out}");
    assert!(
        out.contains("synthesize-sync (custom integration)"),
        "{out}"
    );
}

#[tokio::test]
async fn sync_services_creates_each_service_once_for_every_source() {
    let (sim, server) = gradient().await;
    for (source, expected) in [
        ("connectwise-contacts", vec!["Billed User"]),
        (
            "connectwise-shared-devices",
            vec!["Shared Devices", "Not Shared Devices"],
        ),
        (
            "autotask-configuration-items",
            vec!["Managed Workstations", "Managed Servers", "Network Devices"],
        ),
    ] {
        // Each source has its own integration (partner key), as in Synthesize.
        let partner = format!("partner-key-for-{source}");
        sim.add_partner(&partner, source);
        let mut cmd = binary_for(&sim, &server);
        cmd.env("GRADIENT_PARTNER_API_KEY", &partner)
            .args(["--source", source, "sync-services"]);
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stdout(&o).contains(&format!("{} created", expected.len())),
            "{}",
            stdout(&o)
        );

        let mut again = binary_for(&sim, &server);
        again.env("GRADIENT_PARTNER_API_KEY", &partner).args([
            "--source",
            source,
            "--output",
            "json",
            "sync-services",
        ]);
        let o = run(again).await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
        let results: Vec<&str> = v["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["result"].as_str().unwrap())
            .collect();
        assert!(results.iter().all(|r| *r == "exists"), "{v}");
        let names: Vec<&str> = v["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected);
        let mut created = 0;
        sim.update_partner_by_key(&partner, |p| created = p.skus.len());
        assert_eq!(created, expected.len(), "no duplicates");
    }
}

#[tokio::test]
async fn sync_services_dry_run_writes_nothing() {
    let (sim, server) = gradient().await;
    let mut cmd = binary_for(&sim, &server);
    cmd.env("SYNC_SOURCE", "connectwise-contacts")
        .env("CONNECTWISE_CONTACT_TYPES", "Billed User, VIP")
        .args(["sync-services", "--dry-run"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("would be created"), "{}", stdout(&o));
    assert!(sim.partner().skus.is_empty());
}

#[tokio::test]
async fn update_status_sets_pending_by_default() {
    let (sim, server) = gradient().await;
    let mut cmd = binary_for(&sim, &server);
    cmd.arg("update-status");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sim.partner().status, "pending");

    let mut cmd = binary_for(&sim, &server);
    cmd.args(["update-status", "active"]);
    assert_eq!(run(cmd).await.status.code(), Some(0));
    assert_eq!(sim.partner().status, "active");

    // The API's enum is case-sensitive; the CLI refuses what the API would refuse.
    let mut cmd = binary_for(&sim, &server);
    cmd.args(["update-status", "Active"]);
    assert_eq!(run(cmd).await.status.code(), Some(2));
}

#[tokio::test]
async fn missing_variable_exits_2_naming_it() {
    let mut cmd = binary();
    cmd.env("GRADIENT_VENDOR_API_KEY", "v").arg("authenticate");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("GRADIENT_PARTNER_API_KEY"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[tokio::test]
async fn bad_settings_exit_2_before_any_request() {
    let (sim, server) = gradient().await;
    for (var, value) in [
        ("SYNC_SOURCE", "halo"),
        ("GRADIENT_BASE_URL", "app.usegradient.com"),
        ("AUTOTASK_SERVICES", "A=*,B=*"),
        ("SYNC_OUTPUT", "xml"),
        ("SYNC_GRADIENT_RATE", "101"),
        ("SYNC_GRADIENT_RATE", "0"),
        ("AUTOTASK_READ_STREAMS", "4"),
        ("CONNECTWISE_READ_STREAMS", "0"),
        // Regression: a misspelt name only warned, and the real setting's default applied
        // (a contact type silently left out of billing).
        ("AUTOTASK_SERVICE", "Managed Workstations=Desktop"),
    ] {
        let mut cmd = binary_for(&sim, &server);
        cmd.env("SYNC_SOURCE", "autotask-configuration-items")
            .env(var, value)
            .arg("sync-services");
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(2), "{var}: {}", stderr(&o));
        assert!(stderr(&o).contains(var), "{var}: {}", stderr(&o));
    }
    assert!(sim.requests().is_empty(), "no request was sent");
}

#[tokio::test]
async fn wrong_partner_key_exits_3() {
    let (sim, server) = gradient().await;
    let mut cmd = binary_for(&sim, &server);
    cmd.env("GRADIENT_PARTNER_API_KEY", "wrong")
        .arg("authenticate");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(
        err.contains("Synthesize") && err.contains("refused"),
        "{err}"
    );
    assert!(!err.contains("wrong"), "{err}");
}

#[tokio::test]
async fn env_file_is_read_and_real_environment_wins() {
    let (sim, server) = gradient().await;
    let (vendor, partner) = sim.credentials();
    let dir = common::empty_dir().join("envfile-test");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("settings.env");
    std::fs::write(
        &file,
        format!(
            "GRADIENT_VENDOR_API_KEY={vendor}\nGRADIENT_PARTNER_API_KEY=wrong\nGRADIENT_BASE_URL={}\n",
            server.base_url()
        ),
    )
    .unwrap();
    let mut cmd = binary();
    cmd.arg("--env-file").arg(&file).arg("authenticate");
    assert_eq!(
        run(cmd).await.status.code(),
        Some(3),
        "the file's wrong key is used"
    );

    let mut cmd = binary();
    cmd.arg("--env-file")
        .arg(&file)
        .env("GRADIENT_PARTNER_API_KEY", partner)
        .arg("authenticate");
    let o = run(cmd).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "the environment wins: {}",
        stderr(&o)
    );

    let mut cmd = binary();
    cmd.args(["--env-file", "/nonexistent/.env", "authenticate"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--env-file"));
}

#[tokio::test]
async fn json_errors_are_one_document() {
    let mut cmd = binary();
    cmd.args(["--output", "json", "authenticate"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["exit_code"], 2);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("GRADIENT_VENDOR_API_KEY")
    );
}

/// Every JSON document names its source, error documents too; a PSA setting that is not set
/// says where the settings were looked for (the classic cron mistake).
#[tokio::test]
async fn json_error_documents_name_the_source_and_where_settings_were_read() {
    let mut cmd = binary();
    cmd.env("GRADIENT_VENDOR_API_KEY", "v")
        .env("GRADIENT_PARTNER_API_KEY", "p")
        .env("SYNC_SOURCE", "connectwise-contacts")
        .args(["--output", "json", "run"]);
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["source"], "connectwise-contacts", "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains("CONNECTWISE_BASE_URL") && error.contains("there is no .env"),
        "{error}"
    );
}

#[tokio::test]
async fn json_usage_errors_are_one_document_too() {
    for args in [
        vec!["--output", "json", "--source", "halo", "run"],
        vec!["--output=json", "sync-acounts"],
    ] {
        let mut cmd = binary();
        cmd.args(&args);
        let o = run(cmd).await;
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
        assert_eq!(v["exit_code"], 2, "{args:?}");
        assert!(!stderr(&o).is_empty(), "clap's message stays on stderr");
    }
}

#[tokio::test]
async fn unknown_verb_or_flag_exits_2() {
    for args in [
        vec!["frobnicate"],
        vec!["--sauce", "x", "authenticate"],
        vec!["--source", "halo", "run"],
    ] {
        let mut cmd = binary();
        cmd.args(&args);
        assert_eq!(run(cmd).await.status.code(), Some(2), "{args:?}");
    }
}

/// At the highest verbosity, and with every library at trace, neither key nor the
/// base64 token they make appears anywhere in the output.
#[tokio::test]
async fn no_secret_in_output_at_trace() {
    use base64::Engine;
    let (sim, server) = gradient().await;
    let (vendor, partner) = sim.credentials();
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{vendor}:{partner}"));
    for extra in [vec!["-vv"], vec![]] {
        for verb in [
            vec!["authenticate"],
            vec!["--source", "connectwise-contacts", "sync-services"],
        ] {
            let mut cmd = binary_for(&sim, &server);
            cmd.env("RUST_LOG", "trace").args(&extra).args(&verb);
            let o = run(cmd).await;
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            let all = format!("{}{}", stdout(&o), stderr(&o));
            assert!(
                all.contains("GET") || extra.is_empty(),
                "trace logs were printed"
            );
            for secret in [&vendor, &partner, &token] {
                assert!(
                    !all.contains(secret.as_str()),
                    "{verb:?} {extra:?} leaked a secret"
                );
            }
        }
    }
    // And with the wrong key, in an error path.
    let mut cmd = binary_for(&sim, &server);
    cmd.env("GRADIENT_PARTNER_API_KEY", "p4rtn3r-s3cr3t")
        .args(["-vv", "authenticate"]);
    let o = run(cmd).await;
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains("p4rtn3r-s3cr3t"));
}
