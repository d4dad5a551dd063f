//! Self-registration through the `entityctl` binary, against an in-process node with the dev
//! identity (a platform admin) and fixed DNS: registration configured with automatic roles, a
//! domain added (its TXT record printed), verified by publishing that record, another verified
//! by hand (--manual), an email and a host resolved, a person registered by email, their
//! claims shown; refusals print their reason and exit 1. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/cli.rs"]
mod cli;
#[path = "support/grpc.rs"]
mod grpc_support;

use cli::{Run, entityctl, field, ok};
use gateway::AuthMode;
use grpc_support::PgNode;

/// The `domain:` line of `domain` in settings text.
fn domain_line<'a>(text: &'a str, domain: &str) -> &'a str {
    let prefix = format!("domain: {domain}  ");
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no domain line of {domain} in:\n{text}"))
}

/// A refusal: exit code 1, the gRPC code first on stderr, then the reason.
fn refused(run: &Run, code: &str, reason: &str) {
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.starts_with(&format!("error: {code}: ")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .lines()
            .any(|l| l == format!("  reason: {reason}")),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn self_registration_from_the_command_line() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let e = node.server.endpoint();

    let out = ok(
        &e,
        &[
            "tenant",
            "create",
            "--name",
            "Reg Corp",
            "--slug",
            "reg-corp",
            "--kind",
            "business",
            "--plan",
            "gold",
            "--owner-email",
            "owner@reg.example",
        ],
    )
    .await;
    let tenant = field(&out, "id").to_owned();
    let org = field(&out, "default_organization_id").to_owned();
    let t = tenant.as_str();

    // nothing configured yet
    let out = ok(&e, &["registration", "get", t]).await;
    assert_eq!(
        (
            field(&out, "tenant_id"),
            field(&out, "enabled"),
            field(&out, "auto_roles"),
            field(&out, "custom_host"),
            field(&out, "domains")
        ),
        (t, "false", "(none)", "(none)", "(none)")
    );

    // configure: open, with automatic roles (the `--role` syntax); the custom host comes once
    // a domain is verified (it must lie under one)
    let org_admin = format!("org-admin@org:{org}");
    let out = ok(
        &e,
        &[
            "registration",
            "configure",
            t,
            "--enabled",
            "--auto-role",
            "member",
            "--auto-role",
            &org_admin,
            "--request-id",
            "configure-1",
        ],
    )
    .await;
    assert!(
        out.starts_with(&format!("configured registration {t} (version ")),
        "{out}"
    );
    assert_eq!(field(&out, "enabled"), "true");
    assert_eq!(
        field(&out, "auto_roles"),
        format!("member at tenant, org-admin at org:{org}")
    );
    assert_eq!(field(&out, "custom_host"), "(none)");
    let version: i64 = field(&out, "version").parse().unwrap();
    // --expected-version is the tenant's version
    let run = entityctl(
        &e,
        &[
            "registration",
            "configure",
            t,
            "--enabled",
            "--expected-version",
            &(version - 1).to_string(),
        ],
    )
    .await;
    refused(&run, "ABORTED", "VERSION_MISMATCH");

    // add a domain: the TXT record to publish, right under the summary
    let out = ok(&e, &["registration", "add-domain", t, "Acme.Example."]).await;
    let mut lines = out.lines();
    assert!(
        lines.next().unwrap().starts_with(&format!(
            "added domain acme.example to registration {t} (version "
        )),
        "{out}"
    );
    let record = lines
        .next()
        .unwrap()
        .strip_prefix("txt_record: ")
        .expect("the TXT record line")
        .to_owned();
    assert!(record.starts_with("entity-engine-verification="), "{out}");
    assert_eq!(
        domain_line(&out, "acme.example"),
        format!("domain: acme.example  pending  {record}")
    );
    // and `get` shows it too
    let out = ok(&e, &["registration", "get", t]).await;
    assert_eq!(
        domain_line(&out, "acme.example"),
        format!("domain: acme.example  pending  {record}")
    );

    // not published yet: refused, saying what was found
    let run = entityctl(&e, &["registration", "verify-domain", t, "acme.example"]).await;
    refused(&run, "FAILED_PRECONDITION", "DOMAIN_VERIFICATION_FAILED");
    assert!(run.stderr.contains("no TXT record"), "{}", run.stderr);

    // published (the record shown): verified by DNS
    node.dns
        .set("acme.example", vec!["v=spf1 -all".into(), record.clone()]);
    let out = ok(&e, &["registration", "verify-domain", t, "acme.example"]).await;
    assert!(
        out.starts_with(&format!(
            "verified domain acme.example of registration {t} (version "
        )),
        "{out}"
    );
    let line = domain_line(&out, "acme.example");
    assert!(
        line.starts_with("domain: acme.example  verified (dns, 20"),
        "{line}"
    );
    // now a custom sign-up host under it (configure replaces every field: the roles again)
    let out = ok(
        &e,
        &[
            "registration",
            "configure",
            t,
            "--enabled",
            "--auto-role",
            "member",
            "--auto-role",
            &org_admin,
            "--custom-host",
            "signup.acme.example",
        ],
    )
    .await;
    assert_eq!(field(&out, "custom_host"), "signup.acme.example");
    assert!(line.ends_with(&format!(")  {record}")), "{line}");

    // a second domain, verified by hand by a platform admin (the dev identity), for a client
    let out = ok(&e, &["client", "create", t, "--name", "Globex"]).await;
    let globex = field(&out, "id").to_owned();
    let out = ok(
        &e,
        &[
            "registration",
            "add-domain",
            t,
            "globex.example",
            "--client",
            &globex,
        ],
    )
    .await;
    let globex_record = field(&out, "txt_record").to_owned();
    assert_ne!(globex_record, record, "a token per domain");
    let out = ok(
        &e,
        &[
            "registration",
            "verify-domain",
            t,
            "globex.example",
            "--manual",
            "--output",
            "json",
        ],
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let domains = json["registration"]["domains"].as_array().unwrap();
    let globex_domain = domains
        .iter()
        .find(|d| d["domain"] == "globex.example")
        .unwrap();
    assert_eq!(globex_domain["status"], "verified");
    assert_eq!(globex_domain["verification_method"], "manual");
    assert_eq!(globex_domain["client_id"], globex.as_str());
    assert_eq!(json["result"]["replayed"], false);
    let out = ok(&e, &["registration", "get", t]).await;
    let line = domain_line(&out, "globex.example");
    assert!(
        line.starts_with("domain: globex.example  verified (manual, 20"),
        "{line}"
    );
    assert!(
        line.ends_with(&format!(")  client {globex}  {globex_record}")),
        "{line}"
    );

    // resolve: by email or by host; a person nobody accepts is an answer (exit 0)
    let out = ok(
        &e,
        &["registration", "resolve", "--email", "ann@ACME.example"],
    )
    .await;
    assert_eq!(
        out,
        format!("accepted\ntenant_id: {t}\ntenant_name: Reg Corp\n")
    );
    let out = ok(
        &e,
        &[
            "registration",
            "resolve",
            "--host",
            "signup.acme.example",
            "--output",
            "id",
        ],
    )
    .await;
    assert_eq!(out.trim(), t);
    let out = ok(
        &e,
        &["registration", "resolve", "--email", "ann@unknown.example"],
    )
    .await;
    assert_eq!(out.trim(), "not accepted (DOMAIN_NOT_ALLOWED)");
    let out = ok(
        &e,
        &[
            "registration",
            "resolve",
            "--email",
            "ann@unknown.example",
            "--output",
            "json",
        ],
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (json["accepted"].as_bool(), json["reason"].as_str()),
        (Some(false), Some("DOMAIN_NOT_ALLOWED"))
    );

    // register by email alone (as a platform admin): active, with the automatic roles
    let out = ok(
        &e,
        &[
            "user",
            "register",
            "--email",
            "ann@acme.example",
            "--display-name",
            "Ann",
        ],
    )
    .await;
    assert!(out.starts_with("registered user "), "{out}");
    assert!(!out.contains("invitation_token"), "{out}");
    let ann = field(&out, "id").to_owned();
    assert_eq!(
        (
            field(&out, "tenant_id"),
            field(&out, "email"),
            field(&out, "display_name"),
            field(&out, "status")
        ),
        (t, "ann@acme.example", "Ann", "active")
    );
    assert_eq!(
        field(&out, "roles"),
        format!("member at tenant, org-admin at org:{org}")
    );

    // their claims: the automatic roles, the platform's session expiration
    let out = ok(&e, &["user", "claims", t, &ann]).await;
    assert_eq!(
        (
            field(&out, "user_id"),
            field(&out, "tenant_id"),
            field(&out, "client_id"),
            field(&out, "status"),
            field(&out, "session_expiration_seconds")
        ),
        (ann.as_str(), t, "(none)", "active", "28800")
    );
    let roles: Vec<&str> = field(&out, "roles").split(", ").collect();
    assert!(roles.contains(&"member at tenant"), "{out}");
    assert!(
        roles.contains(&format!("org-admin at org:{org}").as_str()),
        "{out}"
    );
    let out = ok(&e, &["user", "claims", t, &ann, "--output", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["session_expiration_seconds"], 28_800);
    assert_eq!(json["client_id"], serde_json::Value::Null);
    assert!(
        json["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["role"] == "member" && r["scope"]["kind"] == "tenant"),
        "{json}"
    );

    // through the custom host, into the domain's client
    let out = ok(
        &e,
        &[
            "user",
            "register",
            "--email",
            "bo@globex.example",
            "--host",
            "signup.acme.example",
            "--output",
            "id",
        ],
    )
    .await;
    let bo = out.trim().to_owned();
    let out = ok(&e, &["user", "claims", t, &bo]).await;
    assert_eq!(field(&out, "client_id"), globex);

    // refusals print their reason and exit 1
    let run = entityctl(&e, &["user", "register", "--email", "cy@unknown.example"]).await;
    refused(&run, "FAILED_PRECONDITION", "DOMAIN_NOT_ALLOWED");
    let run = entityctl(&e, &["user", "register", "--email", "ann@acme.example"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: ALREADY_EXISTS: "),
        "the email is taken: {}",
        run.stderr
    );
    let run = entityctl(&e, &["registration", "add-domain", t, "gmail.com"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: INVALID_ARGUMENT: "),
        "{}",
        run.stderr
    );
    let run = entityctl(
        &e,
        &[
            "registration",
            "resolve",
            "--email",
            "a@b.example",
            "--host",
            "h",
        ],
    )
    .await;
    assert_eq!(run.code, 2, "one of --email and --host: {}", run.stderr);

    // removed: its people are no longer accepted
    let out = ok(&e, &["registration", "remove-domain", t, "globex.example"]).await;
    assert!(
        out.starts_with(&format!(
            "removed domain globex.example from registration {t} (version "
        )),
        "{out}"
    );
    assert!(!out.contains("globex.example  "), "{out}");
    let out = ok(
        &e,
        &["registration", "resolve", "--email", "di@globex.example"],
    )
    .await;
    assert_eq!(out.trim(), "not accepted (DOMAIN_NOT_ALLOWED)");

    // closed: resolve says so, and registering is refused
    let out = ok(&e, &["registration", "configure", t, "--disabled"]).await;
    assert_eq!(
        (
            field(&out, "enabled"),
            field(&out, "auto_roles"),
            field(&out, "custom_host")
        ),
        ("false", "(none)", "(none)"),
        "configure replaces the settings"
    );
    let out = ok(
        &e,
        &["registration", "resolve", "--email", "di@acme.example"],
    )
    .await;
    assert_eq!(out.trim(), "not accepted (REGISTRATION_DISABLED)");
    let run = entityctl(&e, &["user", "register", "--email", "di@acme.example"]).await;
    refused(&run, "FAILED_PRECONDITION", "REGISTRATION_DISABLED");

    node.server.shutdown().await.unwrap();
}
