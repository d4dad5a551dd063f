//! Invitation tokens and API keys are secrets: returned once, stored only as SHA-256 hashes.
//! These tests issue tokens over gRPC (a new tenant's owner invitation, an invitation, resends,
//! with and without request ids, replays included) and API keys (a bootstrap key, a created
//! key and its replay, a rotation), stop the node (which saves snapshots), then read
//! every row of every table of the store, column by column as bytes (journal, snapshots,
//! unique keys, timers, checkpoints, read models, and anything a later migration adds), and
//! find no token in any form. The scan proves that it works: it must see the invitee's email
//! in the journal, the snapshots and the users read model, every token's hash and the request
//! ids in the journal, and a token planted in a canary table. On SQLite the database files are
//! searched raw as well.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/dump.rs"]
mod dump;
#[path = "support/grpc.rs"]
mod grpc_support;

use std::{path::Path, time::Duration};

use dump::{Dump, contains, postgres_dump, sqlite_dump, sqlite_store, tables_holding};

use engine::{runtime::EngineConfig, secrets::token_hash, testing::TestDatabase};
use entity_proto::v1 as pb;
use gateway::{AuthMode, Node, NodeOptions, Storage};
use grpc_support::{Clients, create_tenant_request, reason, with_request_id};
use sqlx::{Connection, PgConnection};

/// What a run issued, and what the scan must find to prove it looked.
struct Issued {
    tokens: Vec<String>,
    keys: Vec<String>,
    request_ids: Vec<&'static str>,
    invitee_id: String,
    invitee_email: String,
}

/// Runs a node on `storage` that snapshots after every event, issues tokens through its gRPC
/// API, waits for the read models, and stops it gracefully (passivation saves snapshots).
async fn issue_tokens_on(storage: &Storage) -> Issued {
    let options = NodeOptions {
        engine: EngineConfig {
            snapshot_every: 1,
            ..EngineConfig::default()
        },
        ..NodeOptions::default()
    };
    let node = Node::start(storage, options).await.expect("node starts");
    let projections = node.projections();
    let addr = "127.0.0.1:0".parse().unwrap();
    let server = gateway::spawn_server(node, AuthMode::DevIdentity, addr)
        .await
        .expect("server starts");
    let mut clients = Clients::connect(&server.endpoint()).await;
    let issued = issue_tokens(&mut clients).await;
    projections
        .handle()
        .expect("a single node runs its projections")
        .wait_caught_up(Duration::from_secs(30))
        .await
        .expect("read models catch up");
    server.shutdown().await.expect("graceful stop");
    issued
}

/// A non-empty token of an answer, checked for its format.
fn issued_token(token: &str, what: &str) -> String {
    assert!(token.starts_with("inv1."), "{what}: {token:?}");
    token.to_owned()
}

/// Keeps a replay's token, if it returned one, for the scan.
fn keep(tokens: &mut Vec<String>, token: &str) {
    if !token.is_empty() {
        tokens.push(issued_token(token, "a replay's token"));
    }
}

/// Every way a client gets an invitation token, with and without request ids and replays.
async fn issue_tokens(c: &mut Clients) -> Issued {
    let mut tokens = Vec::new();

    // CreateTenant: the owner's token, once; a retry with the same request id finds the tenant
    let mut keys = Vec::new();
    let mut create = create_tenant_request("Secretive", pb::Plan::Gold);
    create.options = with_request_id("secret-create");
    create.bootstrap_api_key = true;
    let created = c.tenants.create_tenant(create.clone()).await.unwrap();
    let created = created.into_inner();
    let owner_first = issued_token(&created.owner_invitation_token, "owner");
    keys.push(created.bootstrap_api_key.clone());
    tokens.push(owner_first.clone());
    let tenant = created.tenant.unwrap();
    let owner = tenant.onboarding.unwrap().owner_user_id;
    let retried = c.tenants.create_tenant(create).await.unwrap().into_inner();
    assert_eq!(retried.tenant.unwrap().id, tenant.id);
    keep(&mut tokens, &retried.owner_invitation_token);
    let t = tenant.id.clone();

    // InviteUser; its replay returns no token (it was never stored)
    let invitee_email = "dana.secret@example.com".to_owned();
    let invite = pb::InviteUserRequest {
        options: with_request_id("secret-invite"),
        tenant_id: t.clone(),
        email: invitee_email.clone(),
        display_name: "Dana".into(),
        roles: vec![pb::RoleAssignment {
            role: "viewer".into(),
            scope: None,
        }],
        ..Default::default()
    };
    let invited = c.users.invite_user(invite.clone()).await.unwrap();
    let invited = invited.into_inner();
    tokens.push(issued_token(&invited.invitation_token, "invite"));
    let invitee_id = invited.user.unwrap().id;
    let replayed = c.users.invite_user(invite).await.unwrap().into_inner();
    assert!(replayed.result.unwrap().replayed);
    assert_eq!(
        replayed.invitation_token, "",
        "a replay cannot know the token"
    );

    // ResendInvitation with a request id, and its replay
    let resend = pb::ResendInvitationRequest {
        options: with_request_id("secret-resend"),
        tenant_id: t.clone(),
        user_id: invitee_id.clone(),
        expires_in_days: 5,
    };
    let resent = c.users.resend_invitation(resend.clone()).await.unwrap();
    let resent = issued_token(&resent.into_inner().invitation_token, "resend");
    assert!(!tokens.contains(&resent), "a resend issues a new token");
    tokens.push(resent);
    let replayed = c
        .users
        .resend_invitation(resend)
        .await
        .unwrap()
        .into_inner();
    assert!(replayed.result.unwrap().replayed);
    keep(&mut tokens, &replayed.invitation_token);

    // The owner's invitation resent without a request id, then accepted with the new token
    // (with a request id); the first token no longer works.
    let resent = c
        .users
        .resend_invitation(pb::ResendInvitationRequest {
            tenant_id: t.clone(),
            user_id: owner.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let owner_second = issued_token(&resent.into_inner().invitation_token, "owner resend");
    tokens.push(owner_second.clone());
    let accept = |token: &str, request_id: &str| pb::AcceptInvitationRequest {
        options: with_request_id(request_id),
        tenant_id: t.clone(),
        token: token.to_owned(),
        display_name: Some("Owner".into()),
    };
    let old = c.users.accept_invitation(accept(&owner_first, "")).await;
    let old = old.expect_err("the first token was retired");
    assert_eq!(old.code(), tonic::Code::NotFound, "{old:?}");
    let accepted = c
        .users
        .accept_invitation(accept(&owner_second, "secret-accept"))
        .await;
    let accepted = accepted.unwrap().into_inner().user.unwrap();
    assert_eq!(accepted.status, pb::UserStatus::Active as i32);

    // A wrong token is NOT_FOUND and leaves no trace either
    let wrong = format!("{}0", &owner_second[..owner_second.len() - 1]);
    let wrong = if wrong == owner_second {
        format!("{}1", &owner_second[..owner_second.len() - 1])
    } else {
        wrong
    };
    let refused = c.users.accept_invitation(accept(&wrong, "")).await;
    let refused = refused.expect_err("a wrong token");
    assert_eq!(reason(&refused), "NOT_FOUND", "{refused:?}");
    tokens.push(wrong);

    // API keys: created (and replayed), rotated, verified
    let partition = grpc_support::create_partition(c, &t, "", "prod").await;
    let create_key = pb::CreateApiKeyRequest {
        options: with_request_id("secret-key"),
        tenant_id: t.clone(),
        partition_id: partition.id,
        name: "ci".into(),
        admin: true,
        ..Default::default()
    };
    let key = c
        .api_keys
        .create_api_key(create_key.clone())
        .await
        .unwrap()
        .into_inner();
    keys.push(key.key.clone());
    let replayed = c
        .api_keys
        .create_api_key(create_key)
        .await
        .unwrap()
        .into_inner();
    assert!(replayed.key.is_empty(), "a replay cannot know the key");
    let rotated = c
        .api_keys
        .rotate_api_key(pb::RotateApiKeyRequest {
            tenant_id: t.clone(),
            id: key.api_key.unwrap().id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    keys.push(rotated.key);
    for key in &keys {
        assert!(key.starts_with("eek_"), "{key}");
        let verified = c
            .api_keys
            .verify_api_key(pb::VerifyApiKeyRequest {
                api_key: key.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(verified.valid, "{key}");
    }

    tokens.sort();
    tokens.dedup();
    Issued {
        tokens,
        keys,
        request_ids: vec![
            "secret-create",
            "secret-invite",
            "secret-resend",
            "secret-accept",
        ],
        invitee_id,
        invitee_email,
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// The forms a token's secret could take at rest: the token, its random part (as text, in
/// upper case, as raw bytes), and each half of it (it is made of two UUIDv4s) as hex, as a
/// hyphenated UUID and as raw bytes. The user id in the token is no secret.
fn secret_forms(token: &str) -> Vec<(String, Vec<u8>)> {
    let random = token.rsplit('.').next().unwrap();
    assert_eq!(random.len(), 64, "{token}");
    let mut forms = vec![
        ("token".to_owned(), token.as_bytes().to_vec()),
        ("random part".to_owned(), random.as_bytes().to_vec()),
        (
            "random part in upper case".to_owned(),
            random.to_ascii_uppercase().into_bytes(),
        ),
        ("random part as raw bytes".to_owned(), hex_bytes(random)),
    ];
    for (i, half) in [&random[..32], &random[32..]].into_iter().enumerate() {
        let uuid = uuid::Uuid::parse_str(half).unwrap();
        forms.push((format!("half {i}"), half.as_bytes().to_vec()));
        forms.push((
            format!("half {i} as a UUID"),
            uuid.hyphenated().to_string().into_bytes(),
        ));
        forms.push((format!("half {i} as raw bytes"), hex_bytes(half)));
    }
    forms
}

/// The forms an API key's secret could take at rest: the key, the key without its prefix, or
/// without its checksum, and its random part (33 characters before the checksum).
fn key_forms(key: &str) -> Vec<(String, Vec<u8>)> {
    let len = key.len();
    vec![
        ("key".to_owned(), key.as_bytes().to_vec()),
        (
            "key without prefix".to_owned(),
            key.as_bytes()[4..].to_vec(),
        ),
        (
            "key without checksum".to_owned(),
            key.as_bytes()[..len - 6].to_vec(),
        ),
        (
            "key's random part".to_owned(),
            key.as_bytes()[len - 39..len - 6].to_vec(),
        ),
    ]
}

/// Each token and key with the forms its secret could take at rest.
fn all_forms<'a>(
    tokens: &'a [String],
    keys: &'a [String],
) -> impl Iterator<Item = (&'a String, Vec<(String, Vec<u8>)>)> {
    tokens
        .iter()
        .map(|t| (t, secret_forms(t)))
        .chain(keys.iter().map(|k| (k, key_forms(k))))
}

/// Every (token or key form, table) where a token or key was found.
fn leaks(dump: &Dump, tokens: &[String], keys: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (token, token_forms) in all_forms(tokens, keys) {
        for (form, needle) in token_forms {
            for table in tables_holding(dump, &needle) {
                found.push(format!("{form} of {token} in table {table}"));
            }
        }
    }
    found
}

/// Proves the scan saw what it must see, then that no token is stored.
fn assert_no_token_at_rest(dump: &Dump, issued: &Issued) {
    let tables: Vec<String> = dump
        .iter()
        .map(|(table, rows)| format!("{table} ({} rows)", rows.len()))
        .collect();
    println!(
        "scanned {} tables for {} tokens: {}",
        dump.len(),
        issued.tokens.len(),
        tables.join(", ")
    );
    for table in [
        "events",
        "snapshots",
        "unique_keys",
        "timers",
        "projection_checkpoints",
        "tenant_directory",
        "users",
        "role_assignments",
    ] {
        assert!(dump.contains_key(table), "the scan covers {table}");
    }
    assert!(!dump["snapshots"].is_empty(), "snapshots were saved");
    // The email is sealed in the journal and the snapshots (tests/personal_data_at_rest.rs);
    // the invitee's id is not.
    let email = issued.invitee_email.as_bytes();
    assert_eq!(
        tables_holding(dump, email),
        ["analytics_changes", "analytics_entities", "users"],
        "the scan reads the read models holding people (users, the analytics history): it finds \
         the invitee's email there, and only there"
    );
    for table in ["events", "users"] {
        assert!(
            tables_holding(dump, issued.invitee_id.as_bytes()).contains(&table.to_owned()),
            "the scan reads {table}: it finds the invitee's id there"
        );
    }
    let id_bytes = uuid::Uuid::parse_str(&issued.invitee_id).unwrap();
    assert!(
        tables_holding(dump, id_bytes.as_bytes()).contains(&"snapshots".to_owned()),
        "the scan reads the snapshots: it finds the invitee's id (binary) there"
    );
    assert!(
        tables_holding(dump, issued.invitee_id.as_bytes()).contains(&"timers".to_owned()),
        "the scan reads the invitee's expiry timer"
    );
    for request_id in &issued.request_ids {
        assert!(
            !tables_holding(dump, request_id.as_bytes()).is_empty(),
            "the request record of {request_id} is stored and scanned"
        );
    }
    // Every real token's hash is in the journal (the wrong one, last made, has none).
    let hashed = issued
        .tokens
        .iter()
        .filter(|t| {
            tables_holding(dump, token_hash(t).to_string().as_bytes())
                .contains(&"events".to_owned())
        })
        .count();
    assert_eq!(hashed, issued.tokens.len() - 1, "the hashes are stored");
    let keys_hashed = issued
        .keys
        .iter()
        .filter(|k| {
            tables_holding(dump, token_hash(k).to_string().as_bytes())
                .contains(&"events".to_owned())
        })
        .count();
    assert_eq!(
        keys_hashed,
        issued.keys.len(),
        "the keys' hashes are stored"
    );
    let leaks = leaks(dump, &issued.tokens, &issued.keys);
    assert!(
        leaks.is_empty(),
        "invitation tokens or API keys at rest:\n{}",
        leaks.join("\n")
    );
}

/// The scan finds a token that is stored: as text and as raw bytes in a canary table.
fn assert_canary_found(dump: &Dump, token: &str) {
    let found = leaks(dump, &[token.to_owned()], &[]);
    for form in ["token of", "random part as raw bytes of"] {
        assert!(
            found
                .iter()
                .any(|f| f.starts_with(form) && f.ends_with("table secrets_canary")),
            "the scan finds the planted {form} token: {found:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stores_no_invitation_token() {
    let db = TestDatabase::create().await;
    let issued = issue_tokens_on(&Storage::Postgres(db.journal().await)).await;
    assert!(issued.tokens.len() >= 5, "{:?}", issued.tokens);
    assert_eq!(issued.keys.len(), 3, "{:?}", issued.keys);
    let mut conn = PgConnection::connect(db.url()).await.unwrap();
    assert_no_token_at_rest(&postgres_dump(&mut conn).await, &issued);

    let planted = &issued.tokens[0];
    let random = hex_bytes(planted.rsplit('.').next().unwrap());
    sqlx::raw_sql("CREATE TABLE secrets_canary (t TEXT, b BYTEA)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO secrets_canary VALUES ($1, NULL), (NULL, $2)")
        .bind(planted)
        .bind(random)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_canary_found(&postgres_dump(&mut conn).await, planted);
    let _ = conn.close().await;
}

/// Every file of `dir`, raw, with each token or key form it holds.
fn raw_file_leaks(dir: &Path, tokens: &[String], keys: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        for (token, token_forms) in all_forms(tokens, keys) {
            for (form, needle) in token_forms {
                if contains(&bytes, &needle) {
                    found.push(format!("{form} of {token} in file {}", path.display()));
                }
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_stores_no_invitation_token() {
    let dir = tempfile::tempdir().unwrap();
    let journal = engine::testing::sqlite_journal(dir.path()).await;
    let issued = issue_tokens_on(&Storage::Sqlite(journal)).await;
    let mut conn = sqlite_store(dir.path()).await;
    assert_no_token_at_rest(&sqlite_dump(&mut conn).await, &issued);
    let leaks = raw_file_leaks(dir.path(), &issued.tokens, &issued.keys);
    assert!(
        leaks.is_empty(),
        "invitation tokens or API keys on disk:\n{}",
        leaks.join("\n")
    );

    let planted = &issued.tokens[0];
    let random = hex_bytes(planted.rsplit('.').next().unwrap());
    sqlx::raw_sql("CREATE TABLE secrets_canary (t TEXT, b BLOB)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO secrets_canary VALUES (?1, NULL), (NULL, ?2)")
        .bind(planted)
        .bind(random)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_canary_found(&sqlite_dump(&mut conn).await, planted);
    let on_disk = raw_file_leaks(dir.path(), std::slice::from_ref(planted), &[]);
    assert!(
        on_disk.iter().any(|l| l.starts_with("token of")),
        "the raw file scan finds a planted token: {on_disk:?}"
    );
    let _ = conn.close().await;
}
