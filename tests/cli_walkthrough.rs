//! The README walkthrough, for real: `entityd` in embedded mode with the dev identity, driven
//! by the `entityctl` binary; asserts on what a person would see.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/cli.rs"]
mod cli;
#[path = "support/grpc.rs"]
mod grpc_support;

use cli::{entityctl, field, ok, token};
use grpc_support::Entityd;

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
    let approver = field(&out, "id").to_owned();
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

    the_other_verbs(&e, &tenant, &engineering, &team, &bob, &approver).await;
    the_client_verbs(&e, &tenant).await;
    the_directory_verbs(&e, &tenant, &bob).await;

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

/// `entityctl` with the words of `line` (split at spaces) that must succeed.
async fn sh(endpoint: &str, line: &str) -> String {
    ok(endpoint, &line.split(' ').collect::<Vec<_>>()).await
}

/// `entityctl` with the words of `line` that must fail with exit code 1 and
/// `error: <code>: …`; returns stderr.
async fn refused(endpoint: &str, line: &str, code: &str) -> String {
    let run = entityctl(endpoint, &line.split(' ').collect::<Vec<_>>()).await;
    assert_eq!(
        run.code, 1,
        "entityctl {line}: {}{}",
        run.stdout, run.stderr
    );
    let prefix = format!("error: {code}: ");
    assert!(
        run.stderr.starts_with(&prefix),
        "entityctl {line}: {}",
        run.stderr
    );
    run.stderr
}

/// The walkthrough's second half: the invitation, user, team and role verbs that the README
/// does not show, each followed by a read that proves its effect.
async fn the_other_verbs(e: &str, tenant: &str, eng: &str, team: &str, bob: &str, role: &str) {
    // invitations: resend retires the old token, revoke stops the new one, a resend revives it
    let out = sh(
        e,
        &format!("user invite {tenant} carol@acme.example --name Carol"),
    )
    .await;
    let carol = field(&out, "id").to_owned();
    let first = field(&out, "invitation_token").to_owned();
    let out = sh(e, &format!("user resend {tenant} {carol} --expires-days 3")).await;
    assert!(
        out.starts_with(&format!("re-invited user {carol} ")),
        "{out}"
    );
    let second = field(&out, "invitation_token").to_owned();
    assert!(second.starts_with("inv1.") && second != first, "{out}");
    assert_eq!(field(&out, "invitation"), "pending");
    refused(e, &format!("user accept {tenant} {first}"), "NOT_FOUND").await;
    let out = sh(e, &format!("user revoke {tenant} {carol}")).await;
    assert_eq!(field(&out, "invitation"), "revoked");
    let accept = format!("user accept {tenant} {second}");
    let stderr = refused(e, &accept, "FAILED_PRECONDITION").await;
    assert!(stderr.contains("reason: INVITATION_REVOKED"), "{stderr}");
    let out = sh(e, &format!("user get {tenant} {carol}")).await;
    assert_eq!(
        (field(&out, "status"), field(&out, "invitation")),
        ("invited", "revoked")
    );
    let out = sh(e, &format!("user resend {tenant} {carol}")).await;
    let third = field(&out, "invitation_token");
    let out = sh(e, &format!("user accept {tenant} {third}")).await;
    assert_eq!(field(&out, "status"), "active");
    let out = sh(e, &format!("user update {tenant} {carol} --name Caroline")).await;
    assert_eq!(field(&out, "display_name"), "Caroline");
    let nobody = uuid::Uuid::now_v7();
    refused(e, &format!("user get {tenant} {nobody}"), "NOT_FOUND").await;
    refused(e, &format!("user revoke {tenant} {nobody}"), "NOT_FOUND").await;

    // organization membership: remove-org ends it (in the read model too), add-org restores it
    let out = sh(e, &format!("user get {tenant} {bob}")).await;
    assert_eq!(field(&out, "organizations"), eng);
    let out = sh(e, &format!("user remove-org {tenant} {bob} {eng}")).await;
    assert_eq!(field(&out, "organizations"), "(none)");
    let at = token(&out);
    let list = format!("user list {tenant} --org {eng} --output id --consistency-token {at}");
    assert_eq!(sh(e, &list).await.trim(), "", "Bob left Engineering");
    let out = sh(e, &format!("user get {tenant} {bob} --output json")).await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(json["organization_ids"], serde_json::json!([]));
    sh(e, &format!("user add-org {tenant} {bob} {eng}")).await;

    // deactivation: no permission at all until reactivated
    let check = format!("access check {tenant} {bob} invoice:approve");
    let out = sh(e, &format!("user deactivate {tenant} {bob}")).await;
    assert_eq!(field(&out, "status"), "deactivated");
    assert_eq!(sh(e, &check).await.trim(), "denied (USER_NOT_ACTIVE)");
    let out = sh(e, &format!("user reactivate {tenant} {bob}")).await;
    assert_eq!(field(&out, "status"), "active");
    assert_eq!(sh(e, &check).await.trim(), "allowed via approver at tenant");

    // team get, remove-member, delete
    let get_team = format!("team get {tenant} {team}");
    let out = sh(e, &get_team).await;
    assert_eq!(field(&out, "members"), format!("{bob} (lead)"));
    assert_eq!(field(&out, "status"), "active");
    let out = sh(e, &format!("team remove-member {tenant} {team} {bob}")).await;
    assert_eq!(field(&out, "members"), "(none)");
    let at = token(&out);
    let members =
        format!("team members {tenant} --team {team} --output id --consistency-token {at}");
    assert_eq!(
        sh(e, &members).await.trim(),
        "",
        "Bob is no member any more"
    );
    assert_eq!(field(&sh(e, &get_team).await, "members"), "(none)");
    let out = sh(e, &format!("team delete {tenant} {team}")).await;
    assert_eq!(field(&out, "status"), "deleted");
    let at = token(&out);
    assert_eq!(field(&sh(e, &get_team).await, "status"), "deleted");
    let list = format!("team list {tenant} --output id --consistency-token {at}");
    let out = sh(e, &list).await;
    assert!(!out.contains(team), "a deleted team is not listed: {out}");

    // role get, list, delete: deleting a role revokes its assignments
    let out = sh(e, &format!("role get {tenant} {role}")).await;
    assert_eq!(
        (
            field(&out, "name"),
            field(&out, "kind"),
            field(&out, "status")
        ),
        ("approver", "custom", "active")
    );
    assert_eq!(field(&out, "permissions"), "invoice:approve");
    let out = sh(e, &format!("role list {tenant}")).await;
    assert!(out.contains("tenant-owner") && out.contains(role), "{out}");
    let out = sh(e, &format!("role delete {tenant} {role}")).await;
    assert_eq!(field(&out, "status"), "deleted");
    let at = token(&out);
    assert_eq!(
        sh(e, &check).await.trim(),
        "denied (NO_MATCHING_ASSIGNMENT)"
    );
    // `role get` shows deleted roles too (as `team get` does): marked, not NOT_FOUND
    let out = sh(e, &format!("role get {tenant} {role}")).await;
    assert_eq!(field(&out, "status"), "deleted");
    assert!(!sh(e, &format!("role list {tenant}")).await.contains(role));
    let out = sh(
        e,
        &format!("user roles {tenant} {bob} --consistency-token {at}"),
    )
    .await;
    assert!(!out.contains("approver"), "{out}");
    refused(e, &format!("role delete {tenant} {role}"), "NOT_FOUND").await;
}

/// Every `client` verb, each followed by a read that proves its effect.
async fn the_client_verbs(e: &str, tenant: &str) {
    // create with a business profile; get shows it all, JSON too
    let out = ok(
        e,
        &[
            "client",
            "create",
            tenant,
            "--name",
            "Globex",
            "--external-id",
            "crm-7",
            "--legal-name",
            "Globex Corporation",
            "--country",
            "FR",
        ],
    )
    .await;
    assert!(out.starts_with("created client "), "{out}");
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("(version 1, consistency token ct1.")
    );
    let globex = field(&out, "id").to_owned();
    let get = format!("client get {tenant} {globex}");
    let out = sh(e, &get).await;
    assert_eq!(
        (
            field(&out, "name"),
            field(&out, "external_id"),
            field(&out, "status")
        ),
        ("Globex", "crm-7", "active")
    );
    assert_eq!(
        (field(&out, "legal_name"), field(&out, "country")),
        ("Globex Corporation", "FR")
    );
    let out = sh(e, &format!("{get} --output json")).await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(json["id"], globex.as_str());
    assert_eq!(json["business_profile"]["address"]["country"], "FR");
    assert_eq!(json["version"], 1);

    // list: every live client, or by external id
    let out = sh(
        e,
        &format!("client create {tenant} --name Initech --output id"),
    )
    .await;
    let initech = out.trim().to_owned();
    let out = sh(e, &format!("client get {tenant} {initech}")).await;
    assert_eq!(field(&out, "external_id"), "");
    let at = token(
        &sh(
            e,
            &format!("client update {tenant} {initech} --name Initrode"),
        )
        .await,
    );
    let out = sh(e, &format!("client list {tenant} --consistency-token {at}")).await;
    assert!(
        out.contains(&format!("{globex}  active    crm-7  Globex"))
            && out.contains(&format!("{initech}  active    -  Initrode")),
        "{out}"
    );
    assert!(out.ends_with("(2 clients)\n"), "{out}");
    let by_external = format!("client list {tenant} --external-id crm-7 --output id");
    assert_eq!(sh(e, &by_external).await.trim(), globex);
    let out = sh(
        e,
        &format!("client list {tenant} --page-size 1 --all --output id"),
    )
    .await;
    assert_eq!(out.lines().count(), 2, "{out}");

    // update: only the fields given, at the expected version; the profile replaced, cleared
    let out = sh(
        e,
        &format!("client update {tenant} {globex} --name Globex-Corp --expected-version 1"),
    )
    .await;
    assert!(
        out.starts_with(&format!("updated client {globex} (version 2,")),
        "{out}"
    );
    assert_eq!(
        (field(&out, "name"), field(&out, "external_id")),
        ("Globex-Corp", "crm-7")
    );
    let stale = format!("client update {tenant} {globex} --name Stale --expected-version 1");
    refused(e, &stale, "ABORTED").await;
    let out = sh(
        e,
        &format!("client update {tenant} {globex} --external-id crm-8 --country DE"),
    )
    .await;
    assert_eq!(
        (field(&out, "external_id"), field(&out, "country")),
        ("crm-8", "DE")
    );
    assert_eq!(
        field(&out, "legal_name"),
        "",
        "the profile is replaced whole"
    );
    assert_eq!(field(&out, "name"), "Globex-Corp");
    let out = sh(
        e,
        &format!("client update {tenant} {globex} --clear-profile"),
    )
    .await;
    assert!(!out.contains("country:"), "{out}");
    assert!(!sh(e, &get).await.contains("legal_name:"));

    // disable: changes refused, listed under --status disabled; enable undoes it; a retry
    // with the same --request-id is answered as a replay
    let disable = format!("client disable {tenant} {globex} --request-id off-1");
    let out = sh(e, &disable).await;
    assert!(
        out.starts_with(&format!("disabled client {globex} (version 5,")),
        "{out}"
    );
    let out = sh(e, &disable).await;
    assert!(
        out.contains("(version 5,") && out.contains("replayed"),
        "{out}"
    );
    assert_eq!(field(&sh(e, &get).await, "status"), "disabled");
    let stderr = refused(
        e,
        &format!("client update {tenant} {globex} --name X"),
        "FAILED_PRECONDITION",
    )
    .await;
    assert!(stderr.contains("reason: CLIENT_DISABLED"), "{stderr}");
    let at = token(&out);
    let disabled = format!("client list {tenant} --status disabled --output id");
    let out = sh(e, &format!("{disabled} --consistency-token {at}")).await;
    assert_eq!(out.trim(), globex);
    let out = sh(e, &format!("client enable {tenant} {globex}")).await;
    assert_eq!(field(&out, "status"), "active");
    assert_eq!(field(&sh(e, &get).await, "status"), "active");

    // an empty --external-id removes it
    let out = ok(
        e,
        &["client", "update", tenant, &globex, "--external-id", ""],
    )
    .await;
    assert_eq!(field(&out, "external_id"), "");

    // delete: get shows the tombstone; listed under --status deleted only; final
    let out = sh(e, &format!("client delete {tenant} {initech}")).await;
    assert_eq!(field(&out, "status"), "deleted");
    let at = token(&out);
    let deleted =
        format!("client list {tenant} --status deleted --output id --consistency-token {at}");
    assert_eq!(sh(e, &deleted).await.trim(), initech);
    let live = format!("client list {tenant} --output id --consistency-token {at}");
    assert_eq!(sh(e, &live).await.trim(), globex);
    let out = sh(e, &format!("client get {tenant} {initech}")).await;
    assert_eq!(field(&out, "status"), "deleted");
    refused(e, &format!("client enable {tenant} {initech}"), "NOT_FOUND").await;

    // provision: the client names its tenant at once, the saga creates it with the link back;
    // disabling the client suspends that tenant
    let slug = format!("globex-{}", uuid::Uuid::new_v4().simple());
    let out = sh(
        e,
        &format!("client provision {tenant} {globex} --slug {slug} --owner-email o@globex.test"),
    )
    .await;
    assert!(out.contains("owner_invitation_token: inv1."), "{out}");
    let provisioned = field(&out, "provisioned_tenant_id");
    assert!(!provisioned.is_empty(), "{out}");
    let tenant_now = |status: &'static str| {
        let get = format!("tenant get {provisioned}");
        async move {
            for _ in 0..250 {
                let run = entityctl(e, &get.split(' ').collect::<Vec<_>>()).await;
                if run.code == 0 && field(&run.stdout, "status") == status {
                    return run.stdout;
                }
                tokio::time::sleep(std::time::Duration::from_millis(40)).await;
            }
            panic!("tenant {provisioned} never became {status}");
        }
    };
    let out = tenant_now("active").await;
    assert_eq!(
        (
            field(&out, "parent_tenant_id"),
            field(&out, "parent_client_id")
        ),
        (tenant, globex.as_str()),
        "{out}"
    );
    sh(e, &format!("client disable {tenant} {globex}")).await;
    tenant_now("suspended").await;

    // the audit trail knows clients
    let history = format!("audit list {tenant} --entity-kind client --entity-id {globex}");
    let out = sh(e, &history).await;
    assert!(
        out.contains("ClientCreated") && out.contains("ClientEnabled"),
        "{out}"
    );
}

/// The directory of a client: a client created with an address gets its headquarters
/// location; contacts there; departments deactivated; users put in the client; the client's
/// deletion takes them all with it.
async fn the_directory_verbs(e: &str, tenant: &str, bob: &str) {
    let out = ok(
        e,
        &[
            "client",
            "create",
            tenant,
            "--name",
            "Hooli",
            "--legal-name",
            "Hooli Inc.",
            "--line1",
            "1 Hacker Way",
            "--city",
            "Palo Alto",
            "--region",
            "CA",
            "--postal-code",
            "94301",
            "--country",
            "US",
        ],
    )
    .await;
    let hooli = field(&out, "id").to_owned();
    assert_eq!(
        field(&out, "address"),
        "1 Hacker Way, Palo Alto, CA, 94301, US"
    );
    let at = token(&out);

    // the address became the client's headquarters location
    let locations = format!("location list {tenant} --owner {hooli}");
    let out = sh(e, &format!("{locations} --consistency-token {at}")).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let hq = lines[0].split(' ').next().unwrap().to_owned();
    assert_eq!(
        lines[0],
        format!("{hq}  active    {hooli}  Headquarters  (headquarters)")
    );
    assert_eq!(lines[1], "(1 location)");
    let out = sh(e, &format!("location get {tenant} {hq}")).await;
    assert_eq!(
        (
            field(&out, "owner"),
            field(&out, "headquarters"),
            field(&out, "address")
        ),
        (
            hooli.as_str(),
            "true",
            "1 Hacker Way, Palo Alto, CA, 94301, US"
        )
    );
    let out = sh(e, &format!("location get {tenant} {hq} --output json")).await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(json["client_id"], hooli.as_str());
    assert_eq!(json["address"]["postal_code"], "94301");

    // a contact at the headquarters; its phone updated alone
    let out = ok(
        e,
        &[
            "contact",
            "create",
            tenant,
            "--client",
            &hooli,
            "--type",
            "billing",
            "--name",
            "Gavin Belson",
            "--email",
            "gavin@hooli.test",
            "--phone",
            "+1 650 555 0100",
            "--location",
            &hq,
        ],
    )
    .await;
    assert!(out.starts_with("created contact "), "{out}");
    let gavin = field(&out, "id").to_owned();
    assert_eq!(
        (
            field(&out, "owner"),
            field(&out, "type"),
            field(&out, "location_id"),
            field(&out, "active")
        ),
        (hooli.as_str(), "billing", hq.as_str(), "true")
    );
    let out = ok(
        e,
        &[
            "contact",
            "update",
            tenant,
            &gavin,
            "--phone",
            "+1 650 555 0199",
        ],
    )
    .await;
    assert!(
        out.starts_with(&format!("updated contact {gavin} (version 2,")),
        "{out}"
    );
    assert_eq!(
        (field(&out, "phone"), field(&out, "name")),
        ("+1 650 555 0199", "Gavin Belson"),
        "only the phone changed"
    );
    let out = ok(
        e,
        &[
            "contact",
            "create",
            tenant,
            "--client",
            &hooli,
            "--type",
            "technical",
            "--name",
            "Dinesh",
        ],
    )
    .await;
    assert_eq!(field(&out, "location_id"), "(none)");
    let at = token(&out);
    let out = sh(
        e,
        &format!("contact list {tenant} --type billing --consistency-token {at}"),
    )
    .await;
    assert_eq!(
        out,
        format!("{gavin}  active    {hooli}  billing  Gavin Belson\n(1 contact)\n")
    );
    let out = sh(
        e,
        &format!("contact list {tenant} --owner {hooli} --output id"),
    )
    .await;
    assert_eq!(out.lines().count(), 2, "{out}");
    let stderr = refused(
        e,
        &format!("location delete {tenant} {hq}"),
        "FAILED_PRECONDITION",
    )
    .await;
    assert!(stderr.contains("reason: LOCATION_IN_USE"), "{stderr}");

    // a department of the tenant itself, deactivated
    let out = sh(
        e,
        &format!("department create {tenant} --name Sales --code S-1"),
    )
    .await;
    let sales = field(&out, "id").to_owned();
    assert_eq!(
        (field(&out, "owner"), field(&out, "code")),
        ("tenant", "S-1")
    );
    let out = sh(
        e,
        &format!("department update {tenant} {sales} --active false"),
    )
    .await;
    assert!(
        out.starts_with(&format!("deactivated department {sales} (version 2,")),
        "{out}"
    );
    assert_eq!(
        (field(&out, "active"), field(&out, "name")),
        ("false", "Sales")
    );
    let at = token(&out);
    let out = sh(
        e,
        &format!("department list {tenant} --owner tenant --active false --consistency-token {at}"),
    )
    .await;
    assert_eq!(
        out,
        format!("{sales}  inactive  tenant  Sales\n(1 department)\n")
    );
    let active = format!("department list {tenant} --active true --output id");
    assert!(!sh(e, &active).await.contains(&sales));

    // a user of the client; the client's deletion takes its records and users with it
    let out = sh(
        e,
        &format!("user set-client {tenant} {bob} --client {hooli}"),
    )
    .await;
    assert!(
        out.starts_with(&format!("set the client of user {bob} ")),
        "{out}"
    );
    assert_eq!(field(&out, "client_id"), hooli);
    let out = sh(e, &format!("client delete {tenant} {hooli}")).await;
    assert_eq!(field(&out, "status"), "deleted");
    let at = token(&out);
    let out = sh(e, &format!("{locations} --consistency-token {at}")).await;
    assert_eq!(out, "(0 locations)\n");
    refused(e, &format!("contact get {tenant} {gavin}"), "NOT_FOUND").await;
    let out = sh(e, &format!("user get {tenant} {bob}")).await;
    assert!(!out.contains("client_id:"), "{out}");
}

/// The subcommands `entityctl [GROUP] --help` lists (without `help`).
async fn subcommands(group: &[&str]) -> Vec<String> {
    let help = ok("http://127.0.0.1:9", &[group, &["--help"]].concat()).await;
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command of `entityctl`, with each of its options somewhere, parses; lines missing
/// something required are usage errors. Nothing listens at the endpoint, so a line that
/// parses ends in `UNAVAILABLE` (exit 1) and a bad one in a usage error (exit 2), before any
/// call. The list must name every subcommand `--help` shows, so a new one cannot ship unparsed.
#[tokio::test]
async fn every_command_parses() {
    // The discard port, outside the ephemeral range: no test's listener (all bind port 0) can
    // take it meanwhile, as one could a port freed here.
    let nowhere = "http://127.0.0.1:9".to_owned();
    let w = "--request-id r1 --expected-version 3";
    let good = [
        "tenant create --name Acme --slug acme --kind business --plan gold --product crm --owner-email a@b.c",
        "tenant get T --consistency-token c --output json",
        "tenant list --status suspended --plan gold --query ac --prefix --page-size 10 --page-token p --all",
        "tenant update T --name X",
        &format!("tenant change-plan T gold {w}"),
        "tenant suspend T --reason late",
        "tenant reactivate T",
        "tenant deactivate T --grace-days 30 --reason-code price --score 7",
        "tenant delete T",
        "tenant erase T",
        &format!("tenant erase T {w}"),
        "org create T --name Sales --parent P --description d",
        "org get T O",
        "org list T --roots",
        "org path T O",
        "org update T O --name N",
        "org move T O --parent P",
        "org delete T O --cascade",
        "team create T --org O --name Core",
        "team get T TM --consistency-token c",
        "team get T TM --output json",
        "team list T --org O",
        "team members T --team TM",
        "team update T TM --name N",
        "team delete T TM",
        &format!("team delete T TM {w}"),
        "team add-member T TM U --role member",
        "team remove-member T TM U",
        &format!("team remove-member T TM U {w}"),
        "user invite T a@b.c --role viewer",
        "user accept T inv1.a.b",
        "user get T U",
        "user get T U --consistency-token c --output json",
        "user list T --status deactivated",
        "user resend T U",
        &format!("user resend T U --expires-days 3 {w}"),
        "user revoke T U",
        &format!("user revoke T U {w}"),
        "user update T U --name Bob",
        "user deactivate T U",
        &format!("user deactivate T U {w}"),
        "user reactivate T U",
        &format!("user reactivate T U {w}"),
        "user erase T U",
        &format!("user erase T U {w}"),
        "user add-org T U O",
        "user remove-org T U O",
        &format!("user remove-org T U O {w}"),
        "user assign-role T U viewer",
        "user revoke-role T U team-member@team:TM",
        "user roles T U",
        "role define T approver --permission invoice:approve --description d",
        "role get T R",
        "role get T R --consistency-token c --output json",
        "role list T",
        "role list T --output id",
        "role assignments T --scope tenant",
        "role update T R --description d",
        "role delete T R",
        &format!("role delete T R {w}"),
        "client create T --name Globex --external-id crm-7 --legal-name G --country FR",
        &format!("client create T --name Globex {w}"),
        "client get T C --consistency-token c --output json",
        "client list T --status disabled --external-id crm-7 --page-size 10 --page-token p --all",
        "client list T --consistency-token c --output id",
        "client update T C --name N --external-id x --legal-name L --country US",
        &format!("client update T C --clear-profile {w}"),
        "client disable T C",
        &format!("client disable T C {w}"),
        "client enable T C",
        &format!("client enable T C {w}"),
        "client delete T C",
        &format!("client delete T C {w}"),
        "client provision T C --slug globex --owner-email o@globex.test",
        &format!("client provision T C --slug globex --plan silver --owner-email o@g.test {w}"),
        "audit list T --entity-kind client --entity-id C",
        "client create T --name G --line1 l --line2 m --city c --region r --postal-code p",
        "client update T C --city Paris",
        "department create T --name Sales --code S --client C",
        &format!("department create T --name Sales {w}"),
        "department get T D --consistency-token c --output json",
        "department list T --owner tenant --active false --page-size 5 --page-token p --all",
        "department update T D --name N --code x --active true",
        &format!("department update T D --active false {w}"),
        "department delete T D",
        &format!("department delete T D {w}"),
        "location create T --name HQ --line1 a --line2 b --city c --region r --postal-code p --country US --headquarters --code x --website https://h.test --phone 123 --email a@b.c --notes n --client C",
        "location get T L",
        "location list T --owner C --active true --consistency-token c --output id",
        "location update T L --headquarters false --city Lyon",
        &format!("location update T L --active false {w}"),
        "location delete T L",
        "contact create T --type billing --name Ann --email a@b.c --phone 123 --location L --client C",
        "contact get T K",
        "contact list T --type billing --owner tenant --active true",
        "contact update T K --type technical --name N --email e@f.g --phone 456 --location L",
        &format!("contact update T K --active false {w}"),
        "contact delete T K",
        "user set-client T U --client C",
        &format!("user set-client T U {w}"),
        "customer register --name Acme --slug acme --kind consumer --owner-email a@b.c --legal-name L --country US",
        &format!(
            "customer register --name Acme --slug acme --kind business --owner-email a@b.c {w}"
        ),
        "customer get C --consistency-token c --output json",
        "customer update C --name N --legal-name L --country US",
        "partition create T --name prod --group G --description d --client C",
        "partition get T P --consistency-token c --output json",
        "partition list T --owner tenant --active true --page-size 5 --page-token p --all",
        "partition update T P --name qa --group G --description d --active true",
        "partition delete T P --request-id r1 --expected-version 3",
        "partition-group create T --name Envs --parent G0 --client C",
        "partition-group get T G",
        "partition-group list T --owner C",
        "partition-group update T G --parent G1 --name N",
        "partition-group delete T G",
        "api-key create T --partition P --name ci --scope organization:read --ttl-secs 60 --foreign-key f",
        "api-key get T K",
        "api-key list T --partition P --all",
        "api-key rotate T K --overlap-secs 0 --expires 2030-01-31",
        "api-key revoke T K",
        "api-key verify eek_x",
        &format!(
            "registration configure T --enabled --auto-role viewer --auto-role org-admin@org:O --custom-host s.acme.com {w}"
        ),
        "registration configure T --disabled",
        "registration get T --output json",
        &format!("registration add-domain T acme.com --client C {w}"),
        &format!("registration verify-domain T acme.com --manual {w}"),
        &format!("registration remove-domain T acme.com {w}"),
        "registration resolve --email a@acme.com",
        "registration resolve --host s.acme.com --output id",
        &format!("user register --email a@acme.com --tenant T --name Ann {w}"),
        "user register --email a@acme.com --host s.acme.com --display-name Ann",
        "user claims T U --output json",
        &format!("customer update C --clear-profile {w}"),
        "access check T U tenant:delete --org O",
        "access list T U --team TM",
        "audit list T --actor A",
        "admin projections",
        "admin node",
        "analytics export --since 0 --tenant T --kind user --format jsonl --file f.jsonl",
        "admin rebuild-projection users",
        "search customers T --query glob --entry client --status active --status disabled --client-of C",
        "search customers --scope business-customers --kind business --plan gold --plan silver --industry-sector information-technology --industry-group software-services --size-range 51-200 --provisions-tenants false",
        "search customers --search-key sk.1 --page-size 5 --page-token p --all --consistency-token c --output json",
        "search create-key T --query glob --entry client --ttl-secs 600 --output id",
        "search create-key --scope all-customers --kind consumer --status suspended --valid-until 2030-01-31T00:00:00Z",
    ];
    let mut covered = std::collections::BTreeSet::new();
    for line in good {
        let args: Vec<&str> = line.split(' ').collect();
        let run = entityctl(&nowhere, &args).await;
        assert!(
            run.code == 1 && run.stderr.starts_with("error: UNAVAILABLE: cannot connect"),
            "{line}: exit {}: {}",
            run.code,
            run.stderr
        );
        covered.insert(format!("{} {}", args[0], args[1]));
    }
    for bad in [
        "user resend T",
        "user resend T U --expires-days soon",
        "user revoke T",
        "user deactivate T",
        "user reactivate T",
        "user erase T",
        "tenant erase",
        "user remove-org T U",
        "user get T",
        "team get T",
        "team delete T",
        "team remove-member T TM",
        "team remove-member T TM U --role lead",
        "role get T",
        "role list",
        "role delete T",
        "role update T R",
        "tenant change-plan T platinum",
        "admin node extra",
        "analytics export --since 0 --format xml --file f.xml",
        "analytics export --since yesterday --format csv --file f.csv",
        "analytics export --format csv --file f.csv",
        "client create T",
        "client create --name Globex",
        "client get T",
        "client list",
        "client list T --status gone",
        "client update T C",
        "client update T C --legal-name L --clear-profile",
        "client disable T",
        "client enable T C --expected-version soon",
        "client delete T",
        "client provision T C --owner-email o@globex.test",
        "client provision T C --slug globex --plan platinum --owner-email o@g.test",
        "client update T C --country FR --clear-profile",
        "department create T --name Sales --type billing",
        "department update T D",
        "department list T --active maybe",
        "department get T",
        "location update T L",
        "location create T --headquarters maybe",
        "location list T --type billing",
        "contact update T K",
        "contact update T K --city Paris",
        "contact delete T",
        "user set-client --tenant T --user U",
        "user set-client T U C",
        "customer register --name Acme --slug acme --kind business",
        "customer register --name Acme --slug acme --kind club --owner-email a@b.c",
        "customer get",
        "customer update C",
        "customer update C --legal-name L --clear-profile",
        "search customers T --scope all-customers",
        "search customers --scope own-clients",
        "search customers --kind club",
        "search customers --industry-sector tech",
        "search customers --provisions-tenants maybe",
        "search customers T U",
        "search create-key T --ttl-secs 60 --valid-until 2030-01-31",
        "search create-key T --valid-until tomorrow",
        "search create-key T --search-key sk.1",
        "--token jwt search customers --search-key sk.1",
        "--api-key eek_x search customers --search-key sk.1",
    ] {
        let run = entityctl(&nowhere, &bad.split(' ').collect::<Vec<_>>()).await;
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
    }
    let groups = subcommands(&[]).await;
    assert!(groups.len() >= 8, "{groups:?}");
    for group in groups {
        let commands = subcommands(&[group.as_str()]).await;
        assert!(!commands.is_empty(), "{group}");
        for command in commands {
            let name = format!("{group} {command}");
            assert!(
                covered.contains(&name),
                "`entityctl {name}` is never parsed"
            );
        }
    }
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

/// A development token of the embedded node in `data_dir` for `who` (`--platform-admin`, or
/// `--tenant T --sub U`).
async fn dev_token(data_dir: &str, who: &[&str]) -> String {
    let minted = tokio::process::Command::new(env!("CARGO_BIN_EXE_entityd"))
        .args([&["dev-token", "--data-dir", data_dir][..], who].concat())
        .output()
        .await
        .unwrap();
    assert!(minted.status.success(), "{minted:?}");
    String::from_utf8(minted.stdout).unwrap().trim().to_owned()
}

/// `search customers` and `search create-key` against a node that checks credentials: a
/// platform admin's scopes and filters, a tenant owner's own clients, and a search key that
/// searches within its restrictions only, sent instead of any other credential.
#[tokio::test]
async fn search_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let node = Entityd::start(&["--data-dir", data_dir, "--listen", "127.0.0.1:0"]).await;
    let e = node.endpoint();
    let admin = dev_token(data_dir, &["--platform-admin"]).await;
    let as_admin = |line: &str| format!("--token {admin} {line}");

    // Acme (business, gold) with clients Globex and Initech; Piper (consumer)
    let out = sh(
        &e,
        &as_admin(
            "tenant create --name Acme --slug acme-search --kind business --plan gold \
             --owner-email ann@acme.example",
        ),
    )
    .await;
    let acme = field(&out, "id").to_owned();
    let owner = field(&out, "owner_user_id").to_owned();
    let invitation = field(&out, "owner_invitation_token").to_owned();
    sh(&e, &as_admin(&format!("user accept {acme} {invitation}"))).await;
    let piper = sh(
        &e,
        &as_admin(
            "--output id tenant create --name Piper --slug piper-search --kind consumer \
             --owner-email pat@piper.example",
        ),
    )
    .await
    .trim()
    .to_owned();
    let out = sh(
        &e,
        &as_admin(&format!(
            "client create {acme} --name Globex --external-id crm-7 --legal-name Globex-Corporation"
        )),
    )
    .await;
    let globex = field(&out, "id").to_owned();
    let out = sh(
        &e,
        &as_admin(&format!("client create {acme} --name Initech")),
    )
    .await;
    let initech = field(&out, "id").to_owned();
    let at = token(&out);

    // a platform admin: every customer and client by name, then scopes and filters
    let out = sh(
        &e,
        &as_admin(&format!("search customers --consistency-token {at}")),
    )
    .await;
    assert_eq!(
        out,
        format!(
            "{acme}  customer  active       Acme\n\
             {globex}  client    active       Globex  (of {acme})\n\
             {initech}  client    active       Initech  (of {acme})\n\
             {piper}  customer  active       Piper\n\
             (4 hits)\n"
        )
    );
    let ids = |line: &str| {
        let line = as_admin(&format!("--output id {line}"));
        let e = e.clone();
        async move { sh(&e, &line).await }
    };
    assert_eq!(
        ids("search customers --scope business-customers").await,
        format!("{acme}\n")
    );
    assert_eq!(
        ids(&format!("search customers --client-of {acme} --query GLOB")).await,
        format!("{globex}\n")
    );
    assert_eq!(
        ids("search customers --entry customer --plan gold --provisions-tenants false").await,
        format!("{acme}\n")
    );
    assert_eq!(
        ids("search customers --entry client --page-size 1 --all").await,
        format!("{globex}\n{initech}\n"),
        "--all follows the pages"
    );
    let out = sh(
        &e,
        &as_admin("search customers --entry client --page-size 1"),
    )
    .await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[1].starts_with("(1 hit; next page: --page-token "),
        "{out}"
    );
    let out = sh(
        &e,
        &as_admin("search customers --kind consumer --output json"),
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(json["next_page_token"], "");
    let hits = json["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1, "{json}");
    assert_eq!(
        (
            &hits[0]["id"],
            &hits[0]["entry"],
            &hits[0]["kind"],
            &hits[0]["plan"]
        ),
        (
            &serde_json::json!(piper),
            &serde_json::json!("customer"),
            &serde_json::json!("consumer"),
            &serde_json::json!("bronze")
        )
    );

    // the owner of Acme: its own clients only, by default or by naming the tenant
    let owner_token = dev_token(data_dir, &["--tenant", &acme, "--sub", &owner]).await;
    let as_owner = |line: &str| format!("--token {owner_token} {line}");
    assert_eq!(
        sh(&e, &as_owner("search customers --output id")).await,
        format!("{globex}\n{initech}\n")
    );
    assert_eq!(
        sh(
            &e,
            &as_owner(&format!("search customers {acme} --query init --output id"))
        )
        .await,
        format!("{initech}\n")
    );
    refused(
        &e,
        &as_owner("search customers --scope all-customers"),
        "PERMISSION_DENIED",
    )
    .await;
    refused(
        &e,
        &as_owner(&format!("search customers {piper}")),
        "PERMISSION_DENIED",
    )
    .await;

    // a key for Acme's clients matching "glob", valid for ten minutes, shown once
    let out = sh(
        &e,
        &as_owner(&format!(
            "search create-key {acme} --query glob --entry client --ttl-secs 600"
        )),
    )
    .await;
    let key = field(&out, "search_key").to_owned();
    assert_eq!(
        (field(&out, "scope"), field(&out, "tenant_id")),
        ("own_clients", acme.as_str())
    );
    let until = chrono::DateTime::parse_from_rfc3339(field(&out, "valid_until")).unwrap();
    let left = until.timestamp() - chrono::Utc::now().timestamp();
    assert!((570..=600).contains(&left), "{left}s left: {out}");

    // searching with the key alone: its restrictions hold, a request only narrows them
    let with_key = |line: &str| {
        format!("search customers --search-key {key} {line}")
            .trim_end()
            .to_owned()
    };
    assert_eq!(
        sh(&e, &with_key("")).await,
        format!("{globex}  client    active       Globex  (of {acme})\n(1 hit)\n")
    );
    assert_eq!(sh(&e, &with_key("--query initech")).await, "(0 hits)\n");
    assert_eq!(
        sh(&e, &with_key(&format!("{acme} --output id"))).await,
        format!("{globex}\n"),
        "naming the key's own tenant changes nothing"
    );
    let out = sh(&e, &with_key("--output json")).await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(
        (
            &json["hits"][0]["name"],
            &json["hits"][0]["external_id"],
            &json["hits"][0]["tenant_id"]
        ),
        (
            &serde_json::json!("Globex"),
            &serde_json::json!("crm-7"),
            &serde_json::json!(acme)
        )
    );
    let stderr = refused(&e, &with_key("--scope all-customers"), "PERMISSION_DENIED").await;
    assert!(stderr.contains("reason: SEARCH_KEY_SCOPE"), "{stderr}");
    let mut changed = key.clone();
    let last = if changed.pop() == Some('A') { 'B' } else { 'A' };
    changed.push(last);
    let stderr = refused(
        &e,
        &format!("search customers --search-key {changed}"),
        "UNAUTHENTICATED",
    )
    .await;
    assert!(stderr.contains("reason: SEARCH_KEY_INVALID"), "{stderr}");
    // a key goes alone: with --token as well it is a usage error; ENTITYCTL_TOKEN gives way
    let run = entityctl(
        &e,
        &as_admin(&with_key(""))
            .split_whitespace()
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--search-key"), "{}", run.stderr);
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_entityctl"))
        .args([
            "search",
            "customers",
            "--search-key",
            &key,
            "--output",
            "id",
        ])
        .env("ENTITYCTL_ENDPOINT", &e)
        .env("ENTITYCTL_TOKEN", &admin)
        .output()
        .await
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    assert_eq!(String::from_utf8_lossy(&run.stdout), format!("{globex}\n"));

    // a platform key: consumer customers only, whatever is asked
    let out = sh(
        &e,
        &as_admin("--output id search create-key --scope consumer-customers"),
    )
    .await;
    let consumers = out.trim();
    let out = sh(
        &e,
        &format!("search customers --search-key {consumers} --output id"),
    )
    .await;
    assert_eq!(out, format!("{piper}\n"));
    let out = sh(
        &e,
        &format!("search customers --search-key {consumers} --kind business"),
    )
    .await;
    assert_eq!(out, "(0 hits)\n");

    // what the server refuses: a key for longer than a day, a platform key from a tenant owner
    let stderr = refused(
        &e,
        &as_owner(&format!("search create-key {acme} --ttl-secs 90000")),
        "INVALID_ARGUMENT",
    )
    .await;
    assert!(stderr.contains("field valid_until: "), "{stderr}");
    refused(
        &e,
        &as_owner("search create-key --scope all-customers"),
        "PERMISSION_DENIED",
    )
    .await;
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

/// A character a terminal would act on or hide: a control other than the line feed between
/// printed lines, a bidirectional control, an invisible character.
fn raw_character(out: &str) -> Option<char> {
    out.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(
                c,
                '\u{061C}'
                    | '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'..='\u{2069}'
                    | '\u{FEFF}'
                    | '\u{00AD}'
            )
    })
}

/// What a tenant stores reaches another operator's terminal escaped (issue 12): the real
/// binary against a real node, in text and JSON.
#[tokio::test]
async fn stored_text_is_printed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let node = Entityd::embedded(dir.path()).await;
    let e = node.endpoint();
    let out = sh(
        &e,
        "tenant create --name Escapes --slug escapes --kind business --plan gold --owner-email a@b.example",
    )
    .await;
    let tenant = field(&out, "id").to_owned();

    // A multi-line description may hold line feeds, bidi marks and joiners: stored as sent,
    // printed on one line with them escaped, so it cannot forge a `status:` line.
    let description = "first\nstatus: deleted \u{200F}\u{200D}\\n";
    let out = ok(
        &e,
        &[
            "org",
            "create",
            &tenant,
            "--name",
            "Esc",
            "--description",
            description,
        ],
    )
    .await;
    let org = field(&out, "id").to_owned();
    let out = ok(&e, &["org", "get", &tenant, &org]).await;
    assert_eq!(raw_character(&out), None, "{out}");
    assert_eq!(
        field(&out, "description"),
        "first\\nstatus: deleted \\u200f\\u200d\\\\n"
    );
    assert_eq!(
        field(&out, "status"),
        "active",
        "the one status line is the real one"
    );
    let out = ok(&e, &["org", "get", &tenant, &org, "--output", "json"]).await;
    assert_eq!(raw_character(&out), None, "{out}");
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(
        json["description"], description,
        "JSON decodes to the stored text"
    );

    // A name with terminal sequences and an override: the server may refuse it (its error is
    // escaped too) or store it (then it is printed escaped), never printed raw.
    let name = "Evil\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202E}gpj.exe";
    let run = entityctl(&e, &["org", "create", &tenant, "--name", name]).await;
    assert_eq!(raw_character(&run.stdout), None, "{}", run.stdout);
    assert_eq!(raw_character(&run.stderr), None, "{}", run.stderr);
    if run.code == 0 {
        assert_eq!(
            field(&run.stdout, "name"),
            "Evil\\u001b[2J\\u001b]0;pwned\\u0007\\u202egpj.exe"
        );
        let out = ok(&e, &["org", "list", &tenant, "--all"]).await;
        assert_eq!(raw_character(&out), None, "{out}");
    } else {
        assert!(
            run.stderr.starts_with("error: INVALID_ARGUMENT: "),
            "{}",
            run.stderr
        );
    }
    node.kill9().await;
}
