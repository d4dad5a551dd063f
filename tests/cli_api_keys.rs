//! Partitions, partition groups and API keys through the `entityctl` binary, against an
//! in-process node with the dev identity: the key printed once, listed masked, verified,
//! used as the CLI's credential (`--api-key`) within its scopes, rotated and revoked.
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/cli.rs"]
mod cli;
#[path = "support/grpc.rs"]
mod grpc_support;

use cli::{entityctl, field, ok, token};
use gateway::AuthMode;
use grpc_support::PgNode;

#[tokio::test]
async fn partitions_and_api_keys_from_the_command_line() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let e = node.server.endpoint();

    // a tenant with a bootstrap key: both lines printed once, under the summary
    let out = ok(
        &e,
        &[
            "tenant",
            "create",
            "--name",
            "Keys Corp",
            "--slug",
            "keys-corp",
            "--kind",
            "business",
            "--plan",
            "gold",
            "--owner-email",
            "ann@keys.example",
            "--bootstrap-api-key",
        ],
    )
    .await;
    let tenant = field(&out, "id").to_owned();
    let bootstrap = field(&out, "bootstrap_api_key").to_owned();
    assert!(bootstrap.starts_with("eek_"), "{out}");
    assert!(!field(&out, "bootstrap_api_key_id").is_empty());
    let t = tenant.as_str();

    // partition groups and partitions: directory records
    let out = ok(
        &e,
        &["partition-group", "create", t, "--name", "Environments"],
    )
    .await;
    assert!(out.starts_with("created partition_group "), "{out}");
    let group = field(&out, "id").to_owned();
    assert_eq!(field(&out, "parent_id"), "(none)");
    let out = ok(
        &e,
        &[
            "partition-group",
            "create",
            t,
            "--name",
            "Live",
            "--parent",
            &group,
        ],
    )
    .await;
    let live = field(&out, "id").to_owned();
    assert_eq!(field(&out, "parent_id"), group);
    let out = ok(
        &e,
        &[
            "partition",
            "create",
            t,
            "--name",
            "prod",
            "--group",
            &live,
            "--description",
            "live data",
        ],
    )
    .await;
    assert!(out.starts_with("created partition "), "{out}");
    let prod = field(&out, "id").to_owned();
    assert_eq!(
        (field(&out, "owner"), field(&out, "group_id")),
        ("tenant", live.as_str())
    );
    let out = ok(&e, &["partition", "update", t, &prod, "--group", ""]).await;
    assert_eq!(field(&out, "group_id"), "(none)");
    assert_eq!(
        field(&out, "description"),
        "live data",
        "only --group changed"
    );
    let out = ok(
        &e,
        &["partition", "list", t, "--consistency-token", &token(&out)],
    )
    .await;
    // the bootstrap key's `default` partition and `prod`
    assert!(
        out.lines()
            .any(|l| l.starts_with(&prod) && l.ends_with("  prod")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.ends_with("  default")), "{out}");
    assert!(out.ends_with("(2 partitions)\n"), "{out}");
    let out = ok(
        &e,
        &["partition-group", "get", t, &live, "--output", "json"],
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (json["name"].as_str(), json["parent_id"].as_str()),
        (Some("Live"), Some(group.as_str()))
    );

    // a key: printed once, right under the summary
    let out = ok(
        &e,
        &[
            "api-key",
            "create",
            t,
            "--partition",
            &prod,
            "--name",
            "ci",
            "--scope",
            "organization:read",
            "--foreign-key",
            "gh-7",
            "--ttl-secs",
            "3600",
        ],
    )
    .await;
    let mut lines = out.lines();
    assert!(
        lines.next().unwrap().starts_with("created api_key "),
        "{out}"
    );
    let key = lines
        .next()
        .unwrap()
        .strip_prefix("key: ")
        .expect("the key line")
        .to_owned();
    assert!(key.starts_with("eek_"), "{out}");
    let key_id = field(&out, "id").to_owned();
    assert_eq!(
        field(&out, "masked_key"),
        format!("eek_…{}", &key[key.len() - 4..])
    );
    assert_eq!(field(&out, "scopes"), "organization:read");
    assert_eq!(field(&out, "state"), "active");
    assert_ne!(field(&out, "expire_time"), "(never)");

    // shown masked afterwards
    let out = ok(&e, &["api-key", "list", t, "--partition", &prod]).await;
    assert!(!out.contains(&key[4..]), "a list shows no secret: {out}");
    assert!(
        out.starts_with(&format!("{key_id}  active   eek_…")),
        "{out}"
    );
    assert!(out.ends_with("  ci\n(1 api_key)\n"), "{out}");
    let out = ok(&e, &["api-key", "list", t, "--output", "id"]).await;
    assert_eq!(out.lines().count(), 2, "the bootstrap key and ours: {out}");
    let out = ok(&e, &["api-key", "get", t, &key_id, "--output", "json"]).await;
    assert!(!out.contains(&key[4..]), "{out}");
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (json["foreign_key"].as_str(), json["state"].as_str()),
        (Some("gh-7"), Some("active"))
    );

    // verify: an answer either way (exit 0)
    let out = ok(&e, &["api-key", "verify", &key]).await;
    assert_eq!(out.lines().next(), Some("valid"), "{out}");
    assert_eq!(
        (
            field(&out, "tenant_id"),
            field(&out, "partition_id"),
            field(&out, "key_id")
        ),
        (t, prod.as_str(), key_id.as_str())
    );
    assert_eq!(field(&out, "client_id"), "(none)");
    assert_eq!(field(&out, "admin"), "false");
    let out = ok(&e, &["api-key", "verify", &bootstrap, "--output", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (json["valid"].as_bool(), json["admin"].as_bool()),
        (Some(true), Some(true))
    );
    let out = ok(&e, &["api-key", "verify", "eek_mistyped"]).await;
    assert_eq!(out.trim(), "invalid (malformed)");
    assert_eq!(
        ok(&e, &["api-key", "verify", "eek_mistyped", "--output", "id"])
            .await
            .trim(),
        ""
    );

    // the key as the CLI's credential, within its scopes
    let out = ok(&e, &["--api-key", &key, "org", "list", t]).await;
    assert!(out.contains("(1 organization)"), "{out}");
    let run = entityctl(
        &e,
        &["--api-key", &key, "org", "create", t, "--name", "Nope"],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: PERMISSION_DENIED: "),
        "{}",
        run.stderr
    );
    let out = ok(
        &e,
        &["org", "create", t, "--name", "Ops", "--api-key", &bootstrap],
    )
    .await;
    assert!(
        out.starts_with("created organization "),
        "an admin key writes: {out}"
    );
    let run = entityctl(&e, &["--api-key", "eek_mistyped", "org", "list", t]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: UNAUTHENTICATED: "),
        "{}",
        run.stderr
    );
    let run = entityctl(&e, &["--api-key", &key, "--token", "jwt", "org", "list", t]).await;
    assert_eq!(run.code, 2, "both credentials: a usage error");
    assert!(run.stderr.contains("not both"), "{}", run.stderr);

    // rotation: the new key printed once; an overlap of 0 ends the old one now
    let out = ok(
        &e,
        &["api-key", "rotate", t, &key_id, "--overlap-secs", "0"],
    )
    .await;
    assert!(out.starts_with("issued api_key "), "{out}");
    let new_key = field(&out, "key").to_owned();
    let new_id = field(&out, "id").to_owned();
    assert_ne!(new_key, key);
    assert_eq!(field(&out, "rotated_from"), key_id);
    assert_eq!(field(&out, "scopes"), "organization:read");
    let out = ok(&e, &["api-key", "verify", &key]).await;
    assert_eq!(out.trim(), "invalid (expired)");
    let out = ok(&e, &["api-key", "get", t, &key_id]).await;
    assert_eq!(
        (field(&out, "state"), field(&out, "replaced_by")),
        ("expired", new_id.as_str())
    );
    assert_eq!(
        field(&ok(&e, &["api-key", "verify", &new_key]).await, "key_id"),
        new_id
    );

    // revocation
    let out = ok(&e, &["api-key", "revoke", t, &new_id]).await;
    assert!(
        out.starts_with(&format!("revoked api_key {new_id} (version ")),
        "{out}"
    );
    assert_eq!(field(&out, "state"), "revoked");
    assert_eq!(field(&out, "revocation_reason"), "revoked");
    let out = ok(&e, &["api-key", "verify", &new_key]).await;
    assert_eq!(out.trim(), "invalid (revoked)");

    // refusals keep their usual shape
    let run = entityctl(
        &e,
        &[
            "api-key",
            "create",
            t,
            "--partition",
            &prod,
            "--name",
            "x",
            "--scope",
            "Not A Permission",
        ],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: INVALID_ARGUMENT: "),
        "{}",
        run.stderr
    );
    let out = ok(&e, &["partition", "delete", t, &prod]).await;
    assert!(
        out.starts_with(&format!("deleted partition {prod} ")),
        "{out}"
    );
    let run = entityctl(&e, &["partition-group", "delete", t, &group]).await;
    assert_eq!(run.code, 1, "a group holding a group stays: {}", run.stderr);
    assert!(run.stderr.contains("GROUP_IN_USE"), "{}", run.stderr);
    node.server.shutdown().await.unwrap();
}
