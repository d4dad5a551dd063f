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

/// The consistency token a write printed (`… consistency token ct1.X.Y)`), for the next list.
fn token(text: &str) -> String {
    let start = text
        .find("ct1.")
        .unwrap_or_else(|| panic!("no token in:\n{text}"));
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect()
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
            "--owner-email",
            "ann@acme.example",
        ],
    )
    .await;
    assert!(out.starts_with("created tenant "), "{out}");
    // the owner's invitation token is shown this once, right under the summary
    let owner_token = out
        .lines()
        .nth(1)
        .unwrap()
        .strip_prefix("owner_invitation_token: ");
    let owner_token = owner_token.expect("token line").to_owned();
    assert!(owner_token.starts_with("inv1."), "{out}");
    assert_eq!(field(&out, "owner_email"), "ann@acme.example");
    assert_eq!(field(&out, "onboarding"), "completed");
    let owner = field(&out, "owner_user_id").to_owned();
    let default_org = field(&out, "default_organization_id").to_owned();
    let created_version: i64 = field(&out, "version").parse().unwrap();
    assert!(
        out.lines().next().unwrap().contains(&format!(
            "(version {created_version}, consistency token ct1."
        )),
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

    // lists come from the read models: the write's token makes them reflect it
    let moved = token(&out);
    let out = ok(&e, &["org", "list", &tenant, "--consistency-token", &moved]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        out.contains("Engineering") && out.contains("Platform") && out.contains(&default_org),
        "{out}"
    );
    assert_eq!(lines[3], "(3 organizations)");

    // the owner accepts and may do anything
    let out = ok(
        &e,
        &["user", "accept", &tenant, &owner_token, "--name", "Ann"],
    )
    .await;
    assert!(
        out.starts_with(&format!("activated user {owner} ")),
        "{out}"
    );
    assert_eq!(field(&out, "status"), "active");
    assert_eq!(field(&out, "roles"), "tenant-owner at tenant");
    let out = ok(&e, &["access", "check", &tenant, &owner, "tenant:delete"]).await;
    assert_eq!(out.trim(), "allowed via tenant-owner at tenant");

    // invite an org admin of Engineering; accept; check inside and outside its subtree
    let role = format!("org-admin@org:{engineering}");
    let out = ok(
        &e,
        &[
            "user",
            "invite",
            &tenant,
            "bob@acme.example",
            "--name",
            "Bob",
            "--org",
            &engineering,
            "--role",
            &role,
        ],
    )
    .await;
    assert!(out.starts_with("invited user "), "{out}");
    let bob = field(&out, "id").to_owned();
    let bob_token = field(&out, "invitation_token").to_owned();
    assert_eq!(field(&out, "status"), "invited");
    assert_eq!(field(&out, "invitation"), "pending");
    let run = entityctl(&e, &["access", "check", &tenant, &bob, "team:manage"]).await;
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, "denied (USER_NOT_ACTIVE)"),
        "a denial is an answer, not an error"
    );
    ok(&e, &["user", "accept", &tenant, &bob_token]).await;
    let out = ok(
        &e,
        &[
            "access",
            "check",
            &tenant,
            &bob,
            "team:manage",
            "--org",
            &engineering,
        ],
    )
    .await;
    assert_eq!(
        out.trim(),
        format!("allowed via org-admin at org:{engineering}")
    );
    let out = ok(
        &e,
        &[
            "access",
            "check",
            &tenant,
            &bob,
            "team:manage",
            "--org",
            &platform,
        ],
    )
    .await;
    assert_eq!(
        out.trim(),
        "denied (NO_MATCHING_ASSIGNMENT)",
        "Platform moved out"
    );
    let out = ok(
        &e,
        &[
            "access",
            "check",
            &tenant,
            &bob,
            "team:manage",
            "--org",
            &engineering,
            "--output",
            "json",
        ],
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(json["allowed"], true);
    assert_eq!(json["granted_by"]["role"], "org-admin");
    assert_eq!(json["granted_by"]["scope"]["id"], engineering.as_str());
    let out = ok(
        &e,
        &["access", "list", &tenant, &bob, "--org", &engineering],
    )
    .await;
    assert!(
        out.contains(&format!("team:*  via org-admin at org:{engineering}")),
        "{out}"
    );

    // a team, a custom role, the user directory
    let out = ok(
        &e,
        &[
            "team",
            "create",
            &tenant,
            "--org",
            &engineering,
            "--name",
            "Core",
        ],
    )
    .await;
    let team = field(&out, "id").to_owned();
    let out = ok(
        &e,
        &["team", "add-member", &tenant, &team, &bob, "--role", "lead"],
    )
    .await;
    assert_eq!(field(&out, "members"), format!("{bob} (lead)"));
    let out = ok(
        &e,
        &[
            "role",
            "define",
            &tenant,
            "approver",
            "--permission",
            "invoice:approve",
        ],
    )
    .await;
    assert!(out.starts_with("defined role "), "{out}");
    let assigned = token(&ok(&e, &["user", "assign-role", &tenant, &bob, "approver"]).await);
    let out = ok(&e, &["access", "check", &tenant, &bob, "invoice:approve"]).await;
    assert_eq!(out.trim(), "allowed via approver at tenant");
    let out = ok(
        &e,
        &[
            "user",
            "list",
            &tenant,
            "--query",
            "BOB",
            "--output",
            "id",
            "--consistency-token",
            &assigned,
        ],
    )
    .await;
    assert_eq!(out.trim(), bob);
    let out = ok(
        &e,
        &[
            "user",
            "roles",
            &tenant,
            &bob,
            "--consistency-token",
            &assigned,
        ],
    )
    .await;
    assert!(out.contains("approver at tenant"), "{out}");
    assert!(out.ends_with("(2 role assignments)\n"), "{out}");

    // the read models: path, members, assignments by role, the audit trail
    let at = ["--consistency-token", assigned.as_str()];
    let out = ok(
        &e,
        &[
            &["org", "path", &tenant, &platform, "--output", "id"][..],
            &at,
        ]
        .concat(),
    )
    .await;
    assert_eq!(out.trim(), platform, "a root's path is itself");
    let out = ok(
        &e,
        &[
            &[
                "team", "members", &tenant, "--team", &team, "--output", "id",
            ][..],
            &at,
        ]
        .concat(),
    )
    .await;
    assert_eq!(out.trim(), bob);
    let out = ok(
        &e,
        &[
            &[
                "role",
                "assignments",
                &tenant,
                "--role",
                "approver",
                "--output",
                "id",
            ][..],
            &at,
        ]
        .concat(),
    )
    .await;
    assert_eq!(out.trim(), bob);
    let out = ok(
        &e,
        &[
            "audit",
            "list",
            &tenant,
            "--entity-kind",
            "user",
            "--entity-id",
            &bob,
            "--output",
            "json",
        ],
    )
    .await;
    let audit: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    let events = audit["events"].as_array().expect("events");
    assert_eq!(
        events[0]["event_type"], "RoleAssigned",
        "newest first: {audit}"
    );
    assert_eq!(events[0]["actor"]["subject"], "dev", "{audit}");

    // operators: projection status, and a rebuild while serving (over the API and offline)
    let out = ok(&e, &["admin", "projections"]).await;
    for name in [
        "organizations",
        "role_assignments",
        "teams",
        "tenant_directory",
        "users",
    ] {
        assert!(out.contains(name), "{out}");
    }
    ok(&e, &["admin", "rebuild-projection", "users"]).await;
    let data_dir = dir.path().to_str().unwrap();
    let entityd = |args: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_entityd"));
        command.args(["--data-dir", data_dir]).args(args);
        command
    };
    let rebuilt = entityd(&["projections", "rebuild", "role_assignments"])
        .output()
        .await
        .unwrap();
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    let out = ok(
        &e,
        &[
            "user",
            "list",
            &tenant,
            "--role",
            "approver",
            "--output",
            "id",
            "--consistency-token",
            &assigned,
        ],
    )
    .await;
    assert_eq!(out.trim(), bob, "the rebuilt models reach the token again");
    let status = entityd(&["projections", "status"]).output().await.unwrap();
    let status_text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{status:?}");
    assert!(status_text.contains("role_assignments"), "{status_text}");
    assert!(status_text.contains("EVENTS BEHIND"), "{status_text}");

    // a malformed role spec is bad usage (exit 2), before any call
    let run = entityctl(&e, &["user", "assign-role", &tenant, &bob, "viewer@dept:1"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);

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
    // a suspended tenant grants nothing
    let out = ok(&e, &["access", "check", &tenant, &owner, "tenant:delete"]).await;
    assert_eq!(out.trim(), "denied (TENANT_SUSPENDED)");

    let out = ok(&e, &["tenant", "get", &tenant, "--output", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(json["id"], tenant.as_str());
    assert_eq!(json["name"], "Acme Corp");
    assert_eq!(json["kind"], "business");
    assert_eq!(json["plan"], "silver");
    assert_eq!(json["status"], "suspended");
    assert_eq!(json["suspension_reason"], "payment overdue");
    assert_eq!(json["products"], serde_json::json!(["crm"]));
    assert_eq!(json["version"], created_version + 1, "suspended once since");
    assert_eq!(json["onboarding"]["owner_email"], "ann@acme.example");
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
async fn embedded_mode_accepts_development_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let node = Entityd::start(&["--data-dir", data_dir, "--listen", "127.0.0.1:0"]).await;
    let key = dir.path().join("dev-signing.key");
    assert!(
        key.exists(),
        "the development key is created at first start"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let minted = tokio::process::Command::new(env!("CARGO_BIN_EXE_entityd"))
        .args(["dev-token", "--data-dir", data_dir, "--platform-admin"])
        .output()
        .await
        .unwrap();
    assert!(minted.status.success(), "{minted:?}");
    let token = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let out = ok(
        &node.endpoint(),
        &[
            "--token",
            &token,
            "tenant",
            "create",
            "--name",
            "Dev Corp",
            "--slug",
            "dev-corp",
            "--kind",
            "business",
            "--plan",
            "gold",
            "--owner-email",
            "dev@dev.example",
        ],
    )
    .await;
    assert!(out.contains("Dev Corp"), "{out}");
    // a token signed with another key is refused
    let other = tempfile::tempdir().unwrap();
    let foreign = tokio::process::Command::new(env!("CARGO_BIN_EXE_entityd"))
        .args([
            "dev-token",
            "--data-dir",
            other.path().to_str().unwrap(),
            "--platform-admin",
        ])
        .output()
        .await
        .unwrap();
    let foreign = String::from_utf8(foreign.stdout).unwrap().trim().to_owned();
    let run = entityctl(&node.endpoint(), &["--token", &foreign, "tenant", "list"]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("UNAUTHENTICATED"), "{}", run.stderr);
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
            vec!["serve", "--database-url", "postgres://x/y"],
            "--jwt-issuer",
        ),
        (
            vec![
                "serve",
                "--database-url",
                "postgres://x/y",
                "--jwt-issuer",
                "https://idp.example",
                "--jwt-audience",
                "entity",
            ],
            "--jwks-file",
        ),
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
            .env_remove("ENTITYD_JWT_ISSUER")
            .env_remove("ENTITYD_JWT_AUDIENCE")
            .env_remove("ENTITYD_JWKS_FILE")
            .env_remove("ENTITYD_JWKS_URL")
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
