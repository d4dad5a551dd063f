//! The README walkthrough, for real: `entityd` in embedded mode with the dev identity, driven
//! by the `entityctl` binary; asserts on what a person would see.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use grpc_support::Entityd;

/// Output of one `entityctl` run.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn entityctl(endpoint: &str, args: &[&str]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_entityctl"))
        .args(args)
        .env("ENTITYCTL_ENDPOINT", endpoint)
        .env_remove("ENTITYCTL_TOKEN")
        .output()
        .await
        .expect("run entityctl");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    println!(
        "$ entityctl {}\n{}{}",
        args.join(" "),
        run.stdout,
        run.stderr
    );
    run
}

/// `entityctl` that must succeed.
async fn ok(endpoint: &str, args: &[&str]) -> String {
    let run = entityctl(endpoint, args).await;
    assert_eq!(run.code, 0, "entityctl {args:?} failed: {}", run.stderr);
    run.stdout
}

/// The value of a `key: value` line.
fn field<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}: ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {key:?} line in:\n{text}"))
}

#[tokio::test]
async fn walkthrough() {
    let dir = tempfile::tempdir().unwrap();
    let node = Entityd::embedded(dir.path()).await;
    let e = node.endpoint();

    let out = ok(
        &e,
        &[
            "tenant",
            "create",
            "--name",
            "Acme Corp",
            "--slug",
            "acme-corp",
            "--kind",
            "business",
            "--plan",
            "silver",
            "--product",
            "crm",
        ],
    )
    .await;
    assert!(out.starts_with("created tenant "), "{out}");
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("(version 1, consistency token ct1."),
        "{out}"
    );
    assert_eq!(field(&out, "status"), "active");
    assert_eq!(field(&out, "plan"), "silver");
    let tenant = field(&out, "id").to_owned();

    let out = ok(&e, &["org", "create", &tenant, "--name", "Engineering"]).await;
    let engineering = field(&out, "id").to_owned();
    assert_eq!(field(&out, "depth"), "1");

    let out = ok(
        &e,
        &[
            "org",
            "create",
            &tenant,
            "--name",
            "Platform",
            "--parent",
            &engineering,
        ],
    )
    .await;
    let platform = field(&out, "id").to_owned();
    assert_eq!(field(&out, "parent_id"), engineering);
    assert_eq!(field(&out, "depth"), "2");

    let out = ok(&e, &["org", "move", &tenant, &platform, "--root"]).await;
    assert!(
        out.starts_with(&format!("moved organization {platform} (version 2,")),
        "{out}"
    );
    assert_eq!(field(&out, "parent_id"), "(root)");

    let out = ok(&e, &["org", "list", &tenant]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        out.contains("Engineering") && out.contains("Platform"),
        "{out}"
    );
    assert_eq!(lines[2], "(2 organizations)");

    let out = ok(
        &e,
        &["tenant", "suspend", &tenant, "--reason", "payment overdue"],
    )
    .await;
    assert_eq!(field(&out, "status"), "suspended");

    // refused while suspended: the error names its code and reason, exit code 1
    let run = entityctl(&e, &["org", "create", &tenant, "--name", "Sales"]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: FAILED_PRECONDITION: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("reason: TENANT_SUSPENDED"),
        "{}",
        run.stderr
    );

    let out = ok(&e, &["tenant", "get", &tenant, "--output", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(json["id"], tenant.as_str());
    assert_eq!(json["name"], "Acme Corp");
    assert_eq!(json["kind"], "business");
    assert_eq!(json["plan"], "silver");
    assert_eq!(json["status"], "suspended");
    assert_eq!(json["suspension_reason"], "payment overdue");
    assert_eq!(json["products"], serde_json::json!(["crm"]));
    assert_eq!(json["version"], 2);
    assert!(
        chrono::DateTime::parse_from_rfc3339(json["create_time"].as_str().unwrap()).is_ok(),
        "{json}"
    );

    // invalid input: field violations on stderr
    let run = entityctl(&e, &["tenant", "get", "not-a-uuid"]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("INVALID_ARGUMENT"), "{}", run.stderr);
    assert!(
        run.stderr.contains("field tenant_id: must be a UUID"),
        "{}",
        run.stderr
    );

    node.kill9().await;
}

#[tokio::test]
async fn embedded_mode_without_dev_identity_refuses_calls() {
    let dir = tempfile::tempdir().unwrap();
    let node = Entityd::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
    .await;
    let run = entityctl(
        &node.endpoint(),
        &["tenant", "get", &uuid::Uuid::now_v7().to_string()],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: UNAUTHENTICATED: "),
        "{}",
        run.stderr
    );
    node.kill9().await;
}

#[tokio::test]
async fn serve_mode_validates_its_configuration() {
    for (args, needle) in [
        (
            vec![
                "serve",
                "--dev-identity",
                "--database-url",
                "postgres://x/y",
            ],
            "embedded mode",
        ),
        (vec!["serve"], "--database-url"),
        (
            vec!["serve", "--database-url", "mysql://x/y"],
            "postgres://",
        ),
        (
            vec![
                "serve",
                "--database-url",
                "postgres://x/y",
                "--listen",
                "nowhere",
            ],
            "listen address",
        ),
        (
            vec![
                "serve",
                "--database-url",
                "postgres://x/y",
                "--shard-count",
                "0",
            ],
            "shard-count",
        ),
    ] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_entityd"))
            .args(&args)
            .env_remove("ENTITYD_DATABASE_URL")
            .env_remove("ENTITYD_CONFIG")
            .env_remove("ENTITYD_LISTEN")
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
