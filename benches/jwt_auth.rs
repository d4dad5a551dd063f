//! JWT authentication in-process: what `JwtAuthenticator::authenticate` costs a call whose
//! token the node has verified before (kept, `gateway::auth::jwt::KEEP_AT_MOST`) and one it
//! has not (verified in full, then kept).
//! Run: `cargo bench --bench jwt_auth -- --warm-up-time 2 --measurement-time 5`.
//!
//! - `jwt_auth/kept`: the same HS256 token on every call (a client between two tokens).
//! - `jwt_auth/first_use`: a token the node has not seen on every call (pre-signed, 200,000 of
//!   them in turn, more than the node keeps): the whole verification plus keeping it.
//!
//! Baselines measured in the same run, so the figures read as ratios on a noisy machine:
//! `jsonwebtoken::decode` of the same token into a map of claims with the same validation
//! (the library's own cost, the floor of a verification in full) and the SHA-256 of the token
//! (the floor of any lookup of a kept token).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gateway::auth::{
    Authenticator,
    jwt::{DEFAULT_PLATFORM_ADMIN_CLAIM, JwtAuthenticator, JwtConfig, LEEWAY_SECS},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sha2::{Digest, Sha256};
use tonic::metadata::MetadataMap;

const SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret";
const ISSUER: &str = "bench-issuer";
const AUDIENCE: &str = "entity-engine";
/// Distinct tokens for `first_use`: more than the node keeps.
const FRESH_TOKENS: usize = 200_000;

/// A token like a client's: a tenant user's, with an id.
fn token(n: usize) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": format!("0190c3c1-7d3e-7c4e-9d7b-{n:012}"),
        "tenant_id": "0190c3c1-7d3e-7c4e-9d7b-2a1f3e4d5c6b",
        "iat": now,
        "exp": now + 3600,
        "jti": format!("jti-{n}"),
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn metadata(token: &str) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    metadata.insert("authorization", format!("Bearer {token}").parse().unwrap());
    metadata
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let auth = runtime
        .block_on(JwtAuthenticator::new(JwtConfig {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            jwks: None,
            hs256_secret: Some(SECRET.to_vec()),
            platform_admin_claim: DEFAULT_PLATFORM_ADMIN_CLAIM.into(),
        }))
        .unwrap();

    let kept = metadata(&token(0));
    c.bench_function("jwt_auth/kept", |b| {
        b.iter(|| {
            runtime
                .block_on(auth.authenticate(black_box(&kept)))
                .unwrap()
        });
    });

    let fresh: Vec<MetadataMap> = (1..=FRESH_TOKENS).map(|n| metadata(&token(n))).collect();
    let mut next = 0;
    c.bench_function("jwt_auth/first_use", |b| {
        b.iter_batched(
            || {
                next = (next + 1) % fresh.len();
                &fresh[next]
            },
            |m| runtime.block_on(auth.authenticate(m)).unwrap(),
            BatchSize::SmallInput,
        );
    });

    let plain = token(0);
    let key = DecodingKey::from_secret(SECRET);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    c.bench_function("baseline/jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
                black_box(&plain),
                &key,
                &validation,
            )
            .unwrap()
        });
    });
    c.bench_function("baseline/sha256_of_the_token", |b| {
        b.iter(|| Sha256::digest(black_box(plain.as_bytes())));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
