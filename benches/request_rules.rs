//! The codec's text check of a request (`entity_proto::request_rules`), which runs before every
//! request is decoded. Run: `cargo bench --bench request_rules`.
//!
//! Same-run baseline: prost decoding the same bytes, which every request pays anyway; the
//! figure to quote is check / decode.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use entity_proto::v1 as pb;
use prost::{Message, Name};

/// A request's bytes, checked and decoded.
fn bench_one<M: Message + Default + Name>(c: &mut Criterion, label: &str, message: &M) {
    let rules = entity_proto::request_rules().unwrap();
    let index = rules.input(M::NAME).unwrap();
    let bytes = message.encode_to_vec();
    rules.check(index, &bytes).unwrap();
    c.bench_function(&format!("request_rules/check/{label}"), |b| {
        b.iter(|| rules.check(index, black_box(&bytes)).unwrap())
    });
    c.bench_function(&format!("request_rules/prost_decode/{label}"), |b| {
        b.iter(|| M::decode(black_box(bytes.as_slice())).unwrap())
    });
}

fn bench(c: &mut Criterion) {
    let options = Some(pb::MutationOptions {
        request_id: "0b9c4bb8-4d35-4fd5-9a0b-6d0ad1d1e2a1".into(),
        expected_version: None,
    });
    bench_one(
        c,
        "invite_user",
        &pb::InviteUserRequest {
            options: options.clone(),
            tenant_id: "01938f6e-8a6c-7c2e-9f43-1d2b3c4d5e6f".into(),
            email: "ada.lovelace@example.com".into(),
            display_name: "Ada Lovelace".into(),
            ..Default::default()
        },
    );
    bench_one(
        c,
        "create_tenant_with_profile",
        &pb::CreateTenantRequest {
            options,
            name: "Zürich Analytics GmbH".into(),
            slug: "zurich-analytics".into(),
            products: vec!["crm".into(), "billing".into(), "analytics".into()],
            business_profile: Some(pb::BusinessProfile {
                legal_name: "Zürich Analytics GmbH".into(),
                logo_url: "https://cdn.example.com/logo.png".into(),
                industry_sector: pb::IndustrySector::InformationTechnology as i32,
                industry_group: pb::IndustryGroup::SoftwareServices as i32,
                size_range: pb::SizeRange::SizeRange51200 as i32,
                social_profiles: vec![pb::SocialProfile {
                    platform: pb::SocialPlatform::Linkedin as i32,
                    url: "https://www.linkedin.com/company/zurich".into(),
                }],
                address: Some(pb::Address {
                    line1: "Bahnhofstrasse 1".into(),
                    city: "Zürich".into(),
                    postal_code: "8001".into(),
                    country: "CH".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            owner_email: "owner@zurich-analytics.example".into(),
            ..Default::default()
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
