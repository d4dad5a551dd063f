//! The admission layer's own cost per call (`gateway::limits::LimitsLayer`): receiving the whole
//! body into one buffer, the receive budgets, the call slots of the caller's tenant and of the
//! node. Run: `cargo bench --bench admission`.
//!
//! The same request (one gRPC frame holding an InviteUserRequest, 131 bytes) is sent to a
//! service that reads its body and answers, once through the layer and once directly: the
//! same-run baseline, so the figure to quote is layered / direct. The caller is a platform
//! admin (no per-plan rate limit, which is older and not part of this cost).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{convert::Infallible, sync::Arc};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use engine::{journal::sqlite::SqliteJournal, runtime::Engine};
use gateway::{
    Admission, Caller,
    limits::{Limits, LimitsLayer},
};
use http_body_util::{BodyExt, Full};
use prost::Message;
use tonic::{body::Body, codegen::http};
use tower::{Layer, Service, ServiceExt, service_fn};

/// A gRPC frame: flag, length, message.
fn frame() -> Bytes {
    let message = entity_proto::v1::InviteUserRequest {
        tenant_id: "01938f6e-8a6c-7c2e-9f43-1d2b3c4d5e6f".into(),
        email: "ada.lovelace@example.com".into(),
        display_name: "Ada Lovelace".into(),
        ..Default::default()
    }
    .encode_to_vec();
    let mut out = vec![0u8];
    out.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    out.extend_from_slice(&message);
    Bytes::from(out)
}

fn request(frame: &Bytes) -> http::Request<Body> {
    let mut request = http::Request::new(Body::new(Full::new(frame.clone())));
    request.extensions_mut().insert(Caller {
        subject: "ops".into(),
        tenant_id: None,
        platform_admin: true,
        credential_kind: "jwt".into(),
        credential_id: None,
        on_behalf_of: None,
        api_key: None,
        verified_email: None,
        search_grant: None,
    });
    request
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = rt.block_on(async {
        let journal = SqliteJournal::open(&dir.path().join("j.db")).await.unwrap();
        journal.migrate().await.unwrap();
        Engine::start(Arc::new(journal), Default::default())
            .await
            .unwrap()
    });
    // What a handler does with the body: reads all of it.
    let inner = service_fn(|request: http::Request<Body>| async move {
        let body = request.into_body().collect().await.unwrap().to_bytes();
        std::hint::black_box(body);
        Ok::<_, Infallible>(http::Response::new(Body::empty()))
    });
    let layered = LimitsLayer::new(Limits::new(engine.clone(), &Admission::default())).layer(inner);
    let frame = frame();

    c.bench_function("admission/direct", |b| {
        b.to_async(&rt).iter(|| {
            let svc = inner;
            let request = request(&frame);
            async move { svc.oneshot(request).await.unwrap() }
        })
    });
    c.bench_function("admission/through_the_layer", |b| {
        b.to_async(&rt).iter(|| {
            let mut svc = layered.clone();
            let request = request(&frame);
            async move { svc.call(request).await.unwrap() }
        })
    });
    rt.block_on(engine.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
