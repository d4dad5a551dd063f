//! Business classification (issue 20): codes only, a group within its sector, one https link
//! per social platform on the platform's host, `unclassified` read only — on tenants, clients
//! and customers alike.

use super::*;

pub(super) fn cases(c: &Clients, f: &Fixtures) -> Vec<Case> {
    let t = f.tenant.clone();
    let tenant = |slug: &str, profile: pb::BusinessProfile| pb::CreateTenantRequest {
        name: "Acme".into(),
        slug: slug.into(),
        kind: pb::TenantKind::Business as i32,
        owner_email: "owner@example.com".into(),
        business_profile: Some(profile),
        ..Default::default()
    };
    let client = |profile: pb::BusinessProfile| pb::CreateClientRequest {
        tenant_id: t.clone(),
        name: "Globex".into(),
        business_profile: Some(profile),
        ..Default::default()
    };
    let social = |platform: pb::SocialPlatform, url: &str| pb::SocialProfile {
        platform: platform as i32,
        url: url.into(),
    };
    vec![
        Case {
            label: "create tenant: unknown sector, group, legal form and size range",
            call: call!(
                c.tenants,
                create_tenant,
                tenant(
                    "classified-1",
                    pb::BusinessProfile {
                        industry_sector: 99,
                        industry_group: 9999,
                        legal_form: 42,
                        size_range: 9,
                        ..Default::default()
                    }
                )
            ),
            expect: Expect::Invalid(&[
                "business_profile.industry_sector",
                "business_profile.industry_group",
                "business_profile.legal_form",
                "business_profile.size_range",
            ]),
        },
        Case {
            label: "create tenant: an industry group outside its sector",
            call: call!(
                c.tenants,
                create_tenant,
                tenant(
                    "classified-2",
                    pb::BusinessProfile {
                        industry_sector: pb::IndustrySector::Energy as i32,
                        industry_group: pb::IndustryGroup::Banks as i32,
                        ..Default::default()
                    }
                )
            ),
            expect: Expect::Invalid(&["business_profile.industry_group"]),
        },
        Case {
            label: "create tenant: free text in the read-only unclassified map",
            call: call!(
                c.tenants,
                create_tenant,
                tenant(
                    "classified-3",
                    pb::BusinessProfile {
                        unclassified: [("legal_form".to_owned(), "GmbH".to_owned())].into(),
                        ..Default::default()
                    }
                )
            ),
            expect: Expect::Invalid(&["business_profile.legal_form"]),
        },
        Case {
            label: "create client: a social link off its platform, no platform, two of one",
            call: call!(
                c.clients,
                create_client,
                client(pb::BusinessProfile {
                    social_profiles: vec![
                        social(pb::SocialPlatform::Linkedin, "https://example.com/globex"),
                        social(pb::SocialPlatform::Unspecified, "https://x.com/globex"),
                        social(pb::SocialPlatform::X, "https://x.com/globex"),
                        social(pb::SocialPlatform::X, "https://twitter.com/globex"),
                    ],
                    ..Default::default()
                })
            ),
            expect: Expect::Invalid(&[
                "business_profile.social_profiles[0].url",
                "business_profile.social_profiles[1].platform",
                "business_profile.social_profiles[3].platform",
            ]),
        },
        Case {
            label: "create client: unknown size range, group outside its sector",
            call: call!(
                c.clients,
                create_client,
                client(pb::BusinessProfile {
                    size_range: 77,
                    industry_sector: pb::IndustrySector::HealthCare as i32,
                    industry_group: pb::IndustryGroup::SoftwareServices as i32,
                    ..Default::default()
                })
            ),
            expect: Expect::Invalid(&[
                "business_profile.size_range",
                "business_profile.industry_group",
            ]),
        },
    ]
}
