//! JWT authentication end to end: a real server on PostgreSQL, tokens signed at test time with
//! keys generated at test time (openssl), verification keys from a JWKS file and from a JWKS
//! URL served here on 127.0.0.1. Every refusal is UNAUTHENTICATED and writes nothing. A JWKS
//! file is re-read like a URL (keys rotate without restart); every event records the
//! credential; `x-tenant-id` binds even a platform admin to the tenant it names.
//! Needs `ENTITY_TEST_DATABASE_URL` and `openssl` on PATH.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use entity_proto::v1 as pb;
use gateway::auth::{
    AuthMode,
    jwt::{DEFAULT_PLATFORM_ADMIN_CLAIM, JwksSource, JwtAuthenticator, JwtConfig},
};
use grpc_support::{
    PgNode, TEST_AUDIENCE, TEST_ISSUER, bearer, claims, create_tenant_request, hs256_token,
    jwt_auth, reason,
};
use jsonwebtoken::{
    Algorithm, EncodingKey, Header,
    jwk::{Jwk, JwkSet},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

/// A signing key generated for this test run.
struct TestKey {
    alg: Algorithm,
    kid: String,
    encoding: EncodingKey,
}

impl TestKey {
    fn generate(dir: &Path, alg: Algorithm, kid: &str) -> TestKey {
        let path = dir.join(format!("{kid}.pem"));
        let args: &[&str] = match alg {
            Algorithm::RS256 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            Algorithm::ES256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            Algorithm::EdDSA => &["-algorithm", "ed25519"],
            other => panic!("no test key for {other:?}"),
        };
        let status = std::process::Command::new("openssl")
            .arg("genpkey")
            .args(args)
            .arg("-out")
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success());
        let pem = std::fs::read(&path).unwrap();
        let encoding = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
            Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
            _ => EncodingKey::from_ed_pem(&pem),
        }
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        TestKey {
            alg,
            kid: kid.to_owned(),
            encoding,
        }
    }

    fn jwk(&self) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, self.alg).unwrap();
        jwk.common.key_id = Some(self.kid.clone());
        jwk
    }

    fn sign(&self, claims: &serde_json::Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }

    /// Signed by this key but naming `kid` (a forged or mislabelled token).
    fn sign_as(&self, kid: &str, claims: &serde_json::Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

fn jwks(keys: &[&TestKey]) -> String {
    serde_json::to_string(&JwkSet {
        keys: keys.iter().map(|k| k.jwk()).collect(),
    })
    .unwrap()
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A JWKS served over HTTP on 127.0.0.1; counts the fetches.
struct JwksServer {
    url: String,
    body: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(body: String) -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let body = Arc::new(Mutex::new(body));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (b, f) = (body.clone(), fetches.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (b, f) = (b.clone(), f.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    f.fetch_add(1, Ordering::SeqCst);
                    let body = b.lock().unwrap().clone();
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        JwksServer { url, body, fetches }
    }

    fn set(&self, body: String) {
        *self.body.lock().unwrap() = body;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// Creates a tenant with `token`; the status on refusal.
async fn create_with(node: &PgNode, token: &str) -> Result<pb::Tenant, tonic::Status> {
    let mut c = node.clients.clone();
    c.tenants
        .create_tenant(bearer(create_tenant_request("Tok", pb::Plan::Gold), token))
        .await
        .map(|r| r.into_inner().tenant.unwrap())
}

async fn assert_refused(node: &PgNode, token: &str, what: &str) {
    let before = node.events().await.len();
    let err = create_with(node, token).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{what}: {err:?}");
    assert_eq!(err.message(), gateway::auth::jwt::REFUSAL_MESSAGE, "{what}");
    assert_eq!(
        node.events().await.len(),
        before,
        "{what}: journal unchanged"
    );
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let rsa = TestKey::generate(dir.path(), Algorithm::RS256, "rsa-1");
    let other_rsa = TestKey::generate(dir.path(), Algorithm::RS256, "rsa-other");
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&[&rsa])).unwrap();
    let (auth, _) = jwt_auth(Some(JwksSource::File(file)), false).await;
    let node = PgNode::start(auth).await;

    // the good token works
    create_with(&node, &rsa.sign(&claims("ops", None)))
        .await
        .unwrap();

    let now = chrono::Utc::now().timestamp();
    let mut missing = node.clients.clone();
    let err = missing
        .tenants
        .create_tenant(create_tenant_request("NoToken", pb::Plan::Gold))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    let mut expired = claims("ops", None);
    expired["exp"] = (now - 120).into();
    assert_refused(&node, &rsa.sign(&expired), "expired").await;

    let mut no_exp = claims("ops", None);
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_refused(&node, &rsa.sign(&no_exp), "no exp").await;

    let mut early = claims("ops", None);
    early["nbf"] = (now + 600).into();
    assert_refused(&node, &rsa.sign(&early), "not yet valid").await;
    // within the leeway, a slightly early nbf is fine
    let mut almost = claims("ops", None);
    almost["nbf"] = (now + 5).into();
    create_with(&node, &rsa.sign(&almost)).await.unwrap();

    let mut issuer = claims("ops", None);
    issuer["iss"] = "https://evil.test".into();
    assert_refused(&node, &rsa.sign(&issuer), "wrong issuer").await;
    let mut no_iss = claims("ops", None);
    no_iss.as_object_mut().unwrap().remove("iss");
    assert_refused(&node, &rsa.sign(&no_iss), "no issuer").await;

    let mut audience = claims("ops", None);
    audience["aud"] = "someone-else".into();
    assert_refused(&node, &rsa.sign(&audience), "wrong audience").await;

    assert_refused(
        &node,
        &other_rsa.sign_as("rsa-1", &claims("ops", None)),
        "bad signature",
    )
    .await;
    let good = rsa.sign(&claims("ops", None));
    // verified (and kept) first: its tampered copy is another token, verified in full
    create_with(&node, &good).await.unwrap();
    let mut tampered: Vec<&str> = good.split('.').collect();
    let forged_claims = b64url(
        serde_json::to_string(&claims("mallory", None))
            .unwrap()
            .as_bytes(),
    );
    tampered[1] = &forged_claims;
    assert_refused(&node, &tampered.join("."), "tampered payload").await;

    let none_header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let none_claims = b64url(
        serde_json::to_string(&claims("ops", None))
            .unwrap()
            .as_bytes(),
    );
    assert_refused(&node, &format!("{none_header}.{none_claims}."), "alg none").await;

    assert_refused(
        &node,
        &hs256_token(&claims("ops", None)),
        "HS256 not configured",
    )
    .await;
    // HS256 signed with the RSA public key material (the classic confusion attack)
    let public_as_secret = serde_json::to_vec(&rsa.jwk()).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let confused = jsonwebtoken::encode(
        &header,
        &claims("ops", None),
        &EncodingKey::from_secret(&public_as_secret),
    )
    .unwrap();
    assert_refused(&node, &confused, "HS256 with the RSA key").await;
    // RS384 is not configured even though the key is RSA
    let mut h384 = Header::new(Algorithm::RS384);
    h384.kid = Some("rsa-1".into());
    let rs384 = jsonwebtoken::encode(&h384, &claims("ops", None), &rsa.encoding).unwrap();
    assert_refused(&node, &rs384, "RS384").await;

    assert_refused(&node, "not-a-jwt", "garbage").await;
    assert_refused(&node, "", "empty").await;
    let mut no_sub = claims("ops", None);
    no_sub.as_object_mut().unwrap().remove("sub");
    assert_refused(&node, &rsa.sign(&no_sub), "no sub").await;

    // a non-bearer scheme
    let before = node.events().await.len();
    let mut c = node.clients.clone();
    let mut request = tonic::Request::new(create_tenant_request("Basic", pb::Plan::Gold));
    request
        .metadata_mut()
        .insert("authorization", "Basic b3BzOm9wcw==".parse().unwrap());
    let err = c.tenants.create_tenant(request).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(node.events().await.len(), before);

    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn rs256_es256_and_eddsa_keys_from_a_jwks_file() {
    let dir = tempfile::tempdir().unwrap();
    let keys = [
        TestKey::generate(dir.path(), Algorithm::RS256, "rsa"),
        TestKey::generate(dir.path(), Algorithm::ES256, "ec"),
        TestKey::generate(dir.path(), Algorithm::EdDSA, "ed"),
    ];
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&keys.iter().collect::<Vec<_>>())).unwrap();
    let (auth, _) = jwt_auth(Some(JwksSource::File(file)), false).await;
    let node = PgNode::start(auth).await;
    for key in &keys {
        create_with(&node, &key.sign(&claims("ops", None)))
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", key.alg));
    }
    // a key used with another key's kid: the algorithm must match the key's
    assert_refused(
        &node,
        &keys[1].sign_as("rsa", &claims("ops", None)),
        "ES256 token naming the RSA key",
    )
    .await;
    assert_refused(
        &node,
        &keys[2].sign_as("ec", &claims("ops", None)),
        "EdDSA token naming the EC key",
    )
    .await;
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn keys_from_a_jwks_url_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let rsa = TestKey::generate(dir.path(), Algorithm::RS256, "rsa-2026");
    let ed = TestKey::generate(dir.path(), Algorithm::EdDSA, "ed-2026");
    let ec = TestKey::generate(dir.path(), Algorithm::ES256, "ec-2027");
    let unknown = TestKey::generate(dir.path(), Algorithm::ES256, "never-published");
    let server = JwksServer::start(jwks(&[&rsa, &ed])).await;
    let (auth, _) = jwt_auth(Some(JwksSource::Url(server.url.clone())), false).await;
    assert_eq!(server.fetches(), 1, "fetched at start");
    let node = PgNode::start(auth).await;

    create_with(&node, &rsa.sign(&claims("ops", None)))
        .await
        .unwrap();
    create_with(&node, &ed.sign(&claims("ops", None)))
        .await
        .unwrap();
    assert_eq!(server.fetches(), 1, "cached");

    // rotation: a new key is published; its first token triggers exactly one refresh
    server.set(jwks(&[&rsa, &ed, &ec]));
    create_with(&node, &ec.sign(&claims("ops", None)))
        .await
        .unwrap();
    assert_eq!(server.fetches(), 2, "one refresh for the new kid");
    create_with(&node, &ec.sign(&claims("ops", None)))
        .await
        .unwrap();
    assert_eq!(server.fetches(), 2);

    // an unknown kid right after: refused, and the refresh is rate-limited
    assert_refused(&node, &unknown.sign(&claims("ops", None)), "unknown kid").await;
    assert_eq!(server.fetches(), 2, "rate-limited");

    node.server.shutdown().await.unwrap();
}

/// JWT authentication on the JWKS `file`, re-read every `every`.
async fn file_auth(file: PathBuf, every: Duration) -> AuthMode {
    let config = JwtConfig {
        issuer: TEST_ISSUER.to_owned(),
        audience: TEST_AUDIENCE.to_owned(),
        jwks: Some(JwksSource::File(file)),
        hs256_secret: None,
        platform_admin_claim: DEFAULT_PLATFORM_ADMIN_CLAIM.to_owned(),
    };
    let jwt = JwtAuthenticator::new(config).await.unwrap();
    AuthMode::Jwt(Arc::new(jwt.with_refresh_every(every)))
}

/// Replaces `file` in one step (write aside, rename), as a deployment would.
fn replace(file: &Path, contents: &str) {
    let aside = file.with_extension("new");
    std::fs::write(&aside, contents).unwrap();
    std::fs::rename(&aside, file).unwrap();
}

#[tokio::test]
async fn a_replaced_jwks_file_rotates_keys_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let rsa = TestKey::generate(dir.path(), Algorithm::RS256, "rsa-2026");
    let ec = TestKey::generate(dir.path(), Algorithm::ES256, "ec-2027");
    let ed = TestKey::generate(dir.path(), Algorithm::EdDSA, "ed-2028");
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&[&rsa])).unwrap();
    let (auth, _) = jwt_auth(Some(JwksSource::File(file.clone())), false).await;
    let node = PgNode::start(auth).await;
    create_with(&node, &rsa.sign(&claims("ops", None)))
        .await
        .unwrap();

    // the new key is published in the file; its first token re-reads the file once
    replace(&file, &jwks(&[&rsa, &ec]));
    create_with(&node, &ec.sign(&claims("ops", None)))
        .await
        .unwrap();
    create_with(&node, &rsa.sign(&claims("ops", None)))
        .await
        .unwrap();

    // another unknown kid right after: the forced re-read is rate-limited
    replace(&file, &jwks(&[&rsa, &ec, &ed]));
    assert_refused(
        &node,
        &ed.sign(&claims("ops", None)),
        "rate-limited re-read",
    )
    .await;
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_stale_jwks_file_is_re_read_and_a_bad_one_keeps_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let rsa = TestKey::generate(dir.path(), Algorithm::RS256, "rsa-old");
    let ec = TestKey::generate(dir.path(), Algorithm::ES256, "ec-new");
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&[&rsa, &ec])).unwrap();
    let every = Duration::from_millis(300);
    let node = PgNode::start(file_auth(file.clone(), every).await).await;
    // one token used throughout: the node keeps it verified, and must not outlive its key
    let kept = rsa.sign(&claims("ops", None));
    create_with(&node, &kept).await.unwrap();

    // an unparseable or empty file: logged, the cached keys stay
    for bad in ["{ this is not json", r#"{"keys": []}"#] {
        replace(&file, bad);
        tokio::time::sleep(every + Duration::from_millis(50)).await;
        create_with(&node, &rsa.sign(&claims("ops", None)))
            .await
            .unwrap_or_else(|e| panic!("after {bad:?}: {e:?}"));
    }

    // the old key is retired from the file: once the cache is stale, its tokens are refused
    replace(&file, &jwks(&[&ec]));
    tokio::time::sleep(every + Duration::from_millis(50)).await;
    // the kept token first: using it is what notices the stale keys
    assert_refused(&node, &kept, "a token verified before its key was retired").await;
    assert_refused(&node, &rsa.sign(&claims("ops", None)), "retired key").await;
    create_with(&node, &ec.sign(&claims("ops", None)))
        .await
        .unwrap();
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_token_used_again_is_refused_once_it_expires() {
    let (auth, _) = jwt_auth(None, true).await;
    let node = PgNode::start(auth).await;
    let leeway = i64::try_from(gateway::auth::jwt::LEEWAY_SECS).unwrap();
    let mut short = claims("ops", None);
    // accepted for about six more seconds, the leeway included (room for two calls on a busy
    // box), then refused once that second has passed
    let accepted_until = chrono::Utc::now().timestamp() + 6;
    short["exp"] = (accepted_until - leeway).into();
    let token = hs256_token(&short);
    create_with(&node, &token).await.unwrap();
    create_with(&node, &token).await.unwrap();
    while chrono::Utc::now().timestamp() <= accepted_until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_refused(&node, &token, "expired since it was verified").await;
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_audit_metadata_records_the_credential() {
    let (auth, _) = jwt_auth(None, true).await;
    let node = PgNode::start(auth).await;
    let mut c = node.clients.clone();
    let mut token_claims = claims("provisioner", None);
    token_claims["act"] = serde_json::json!({"sub": "alice@ops"});
    let jti = token_claims["jti"].as_str().unwrap().to_owned();
    let mut request = bearer(
        pb::CreateTenantRequest {
            options: grpc_support::with_request_id("req-audit-1"),
            ..create_tenant_request("Audit", pb::Plan::Gold)
        },
        &hs256_token(&token_claims),
    );
    request.metadata_mut().insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap(),
    );
    let tenant = c.tenants.create_tenant(request).await.unwrap().into_inner();
    let events = node.events().await;
    // TenantCreated, OnboardingStarted and the onboarding saga's steps: all of this request
    assert!(events.len() >= 4, "{events:?}");
    for event in &events {
        let meta = &event.metadata;
        assert_eq!(meta.actor.subject, "provisioner", "{event:?}");
        assert_eq!(meta.actor.on_behalf_of.as_deref(), Some("alice@ops"));
        assert_eq!(meta.actor.credential_kind, "jwt");
        assert_eq!(meta.actor.credential_id.as_deref(), Some(jti.as_str()));
        assert_eq!(meta.request_id.as_deref(), Some("req-audit-1"), "{event:?}");
        assert_eq!(
            meta.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    // a later command without a request id: its events record the caller as well
    let before = events.len();
    let operator = claims("operator", None);
    let jti = operator["jti"].as_str().unwrap().to_owned();
    let token = hs256_token(&operator);
    c.tenants
        .suspend_tenant(bearer(
            pb::SuspendTenantRequest {
                tenant_id: tenant.tenant.unwrap().id,
                reason: "audit".into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap();
    let events = node.events().await;
    assert!(events.len() > before);
    for event in &events[before..] {
        assert_eq!(event.metadata.actor.subject, "operator", "{event:?}");
        assert_eq!(event.metadata.actor.credential_kind, "jwt");
        assert_eq!(
            event.metadata.actor.credential_id.as_deref(),
            Some(jti.as_str())
        );
    }
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn x_tenant_id_must_name_the_tokens_tenant() {
    let (auth, _) = jwt_auth(None, true).await;
    let node = PgNode::start(auth).await;
    let admin = hs256_token(&claims("ops", None));
    let a = create_with(&node, &admin).await.unwrap();
    let b = create_with(&node, &admin).await.unwrap();
    let before = node.events().await.len();
    let token = hs256_token(&claims(&uuid::Uuid::now_v7().to_string(), Some(&a.id)));
    let mut c = node.clients.clone();
    let mut request = bearer(
        pb::GetTenantRequest {
            tenant_id: a.id.clone(),
            consistency_token: String::new(),
        },
        &token,
    );
    request
        .metadata_mut()
        .insert("x-tenant-id", b.id.parse().unwrap());
    let err = c.tenants.get_tenant(request).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(reason(&err), "TENANT_MISMATCH");
    assert_eq!(node.events().await.len(), before);
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn x_tenant_id_binds_a_platform_admin_to_that_tenant() {
    let (auth, _) = jwt_auth(None, true).await;
    let node = PgNode::start(auth).await;
    let admin = hs256_token(&claims("ops", None));
    let a = create_with(&node, &admin).await.unwrap();
    let b = create_with(&node, &admin).await.unwrap();
    let with_header = |tenant: &str| {
        let mut request = bearer(
            pb::SuspendTenantRequest {
                tenant_id: tenant.to_owned(),
                reason: "x-tenant-id".into(),
                ..Default::default()
            },
            &admin,
        );
        request
            .metadata_mut()
            .insert("x-tenant-id", a.id.parse().unwrap());
        request
    };
    let mut c = node.clients.clone();
    let before = node.events().await.len();

    // naming A in the header but touching B
    let err = c
        .tenants
        .suspend_tenant(with_header(&b.id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(reason(&err), "TENANT_MISMATCH");
    let mut read = bearer(
        pb::GetTenantRequest {
            tenant_id: b.id.clone(),
            consistency_token: String::new(),
        },
        &admin,
    );
    read.metadata_mut()
        .insert("x-tenant-id", a.id.parse().unwrap());
    let err = c.tenants.get_tenant(read).await.unwrap_err();
    assert_eq!(reason(&err), "TENANT_MISMATCH");
    // a platform-wide RPC touches no single tenant: it cannot match the header either
    let mut create = bearer(create_tenant_request("Hdr", pb::Plan::Gold), &admin);
    create
        .metadata_mut()
        .insert("x-tenant-id", a.id.parse().unwrap());
    let err = c.tenants.create_tenant(create).await.unwrap_err();
    assert_eq!(reason(&err), "TENANT_MISMATCH");
    assert_eq!(node.events().await.len(), before, "nothing written");

    // touching the tenant it names is fine
    c.tenants.suspend_tenant(with_header(&a.id)).await.unwrap();
    assert!(node.events().await.len() > before);
    node.server.shutdown().await.unwrap();
}
