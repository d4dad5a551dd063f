//! `entityctl user erase` and `entityctl tenant erase` against `entityd` in embedded mode
//! (SQLite, dev identity): what an operator sees of an erased person and tenant.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/cli.rs"]
mod cli;
#[path = "support/grpc.rs"]
mod grpc_support;

use cli::{entityctl, field, ok, token};
use grpc_support::Entityd;

#[tokio::test]
async fn erasing_users_and_tenants_with_entityctl() {
    let dir = tempfile::tempdir().unwrap();
    let node = Entityd::embedded(dir.path()).await;
    let e = node.endpoint();

    let out = ok(
        &e,
        &[
            "tenant",
            "create",
            "--name",
            "Erasable",
            "--slug",
            "erasable",
            "--kind",
            "business",
            "--owner-email",
            "owner@erasable.example",
        ],
    )
    .await;
    let tenant = field(&out, "id").to_owned();
    let owner = field(&out, "owner_user_id").to_owned();

    let out = ok(
        &e,
        &[
            "user",
            "invite",
            &tenant,
            "erin@erasable.example",
            "--name",
            "Erin Example",
        ],
    )
    .await;
    let erin = field(&out, "id").to_owned();

    // erase Erin: the answer shows her erased
    let out = ok(
        &e,
        &[
            "user",
            "erase",
            &tenant,
            &erin,
            "--request-id",
            "erase-erin",
        ],
    )
    .await;
    assert!(
        out.starts_with(&format!("erased user {erin} (version 2,")),
        "{out}"
    );
    assert!(!out.contains("replayed"), "{out}");
    assert_eq!(field(&out, "status"), "erased");
    assert_eq!(field(&out, "email"), "(erased)");
    assert_eq!(field(&out, "display_name"), "(erased)");
    assert!(!out.contains("erin@erasable.example"), "{out}");
    assert!(!out.contains("invitation"), "{out}");
    let erased_token = token(&out);

    // a retry with the same request id is the first answer; a plain second erase succeeds
    let out = ok(
        &e,
        &[
            "user",
            "erase",
            &tenant,
            &erin,
            "--request-id",
            "erase-erin",
        ],
    )
    .await;
    assert!(out.contains("replayed: nothing new written"), "{out}");
    let out = ok(&e, &["user", "erase", &tenant, &erin]).await;
    assert!(
        out.starts_with(&format!("erased user {erin} (version 2,")),
        "{out}"
    );

    // get and list show her erased; JSON keeps the empty values
    let json: serde_json::Value =
        serde_json::from_str(&ok(&e, &["--output", "json", "user", "get", &tenant, &erin]).await)
            .unwrap();
    assert_eq!(json["status"], "erased");
    assert_eq!(json["email"], "");
    assert_eq!(json["display_name"], "");
    let out = ok(
        &e,
        &[
            "user",
            "list",
            &tenant,
            "--status",
            "erased",
            "--consistency-token",
            &erased_token,
        ],
    )
    .await;
    let row = out
        .lines()
        .find(|l| l.starts_with(&erin))
        .unwrap_or_else(|| panic!("Erin is not listed:\n{out}"));
    assert!(row.contains("erased"), "{row}");
    assert!(row.contains("(erased)"), "{row}");
    assert!(!out.contains("erin@erasable.example"), "{out}");

    // the same address may be invited again: a new user
    let out = ok(&e, &["user", "invite", &tenant, "erin@erasable.example"]).await;
    assert_ne!(field(&out, "id"), erin);
    assert_eq!(field(&out, "email"), "erin@erasable.example");

    // a tenant is erased only once deleted
    let run = entityctl(&e, &["tenant", "erase", &tenant]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: FAILED_PRECONDITION: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("reason: TENANT_NOT_DELETED"),
        "{}",
        run.stderr
    );
    ok(&e, &["tenant", "delete", &tenant]).await;
    let out = ok(
        &e,
        &["tenant", "erase", &tenant, "--request-id", "erase-tenant"],
    )
    .await;
    assert!(
        out.starts_with(&format!("erased tenant {tenant} (")),
        "{out}"
    );
    assert_eq!(field(&out, "status"), "deleted");
    assert!(!field(&out, "erased_at").is_empty(), "{out}");
    assert_eq!(field(&out, "owner_email"), "(erased)");
    assert!(!out.contains("owner@erasable.example"), "{out}");
    let erased_version = field(&out, "version").to_owned();
    // a retry writes nothing and answers the same (the tenant's keys, the fingerprint key of
    // its request ids included, are gone: it is answered as a no-op rather than a replay)
    let out = ok(
        &e,
        &["tenant", "erase", &tenant, "--request-id", "erase-tenant"],
    )
    .await;
    assert!(
        out.starts_with(&format!("erased tenant {tenant} (")),
        "{out}"
    );
    assert_eq!(field(&out, "version"), erased_version);

    // every person of the tenant is erased
    let out = ok(&e, &["user", "get", &tenant, &owner]).await;
    assert_eq!(field(&out, "status"), "erased");
    assert_eq!(field(&out, "email"), "(erased)");

    // and the audit trail holds no ciphertext and no address
    let out = ok(&e, &["--output", "json", "audit", "list", &tenant, "--all"]).await;
    assert!(out.contains("UserErased"), "{out}");
    assert!(out.contains("TenantErased"), "{out}");
    assert!(!out.contains("pd1."), "{out}");
    assert!(!out.contains("@erasable.example"), "{out}");

    let out = ok(&e, &["admin", "node"]).await;
    assert_eq!(field(&out, "unreadable_personal_values"), "0");

    node.kill9().await;
}
