//! CreateTenant: success, existence rules and every input rule.

use super::support::*;
use crate::domain::classification::{
    Classified, IndustryGroup, IndustrySector, LegalForm, SizeRange, SocialPlatform, SocialProfile,
};
use crate::domain::{
    Address, BusinessProfile, DomainError, Effect, Plan, ResourceKind, TENANT_SLUG_NAMESPACE,
    TenantCommand, TenantEvent, TenantId, TenantScopeEvent, TenantSettings, TenantStatus,
};

fn when_create(c: crate::domain::CreateTenant) -> Then {
    given([]).when_tenant(TenantCommand::Create(c))
}

#[test]
fn creates_an_active_tenant_and_starts_onboarding() {
    let scope = when_create(create_tenant(Plan::Gold))
        .then_events([tenant_created(Plan::Gold), onboarding_started()]);
    let t = scope.tenant().expect("created");
    assert_eq!(t.status, TenantStatus::Active);
    assert_eq!(t.version, 2, "TenantCreated and OnboardingStarted");
    assert_eq!(
        t.onboarding,
        Some(crate::domain::Onboarding {
            plan: onboarding_plan(),
            completed: false
        })
    );
    assert_eq!((t.created_at, t.updated_at), (t0(), t0()));
    assert_eq!(t.plan, Plan::Gold);
}

#[test]
fn stores_the_trimmed_name() {
    let c = crate::domain::CreateTenant {
        name: " \t Acme \n".into(),
        ..create_tenant(Plan::Gold)
    };
    let scope = when_create(c).then_events([tenant_created(Plan::Gold), onboarding_started()]);
    assert_eq!(scope.tenant().map(|t| t.name.as_str()), Some("Acme"));
}

#[test]
fn creation_claims_the_slug_platform_wide() {
    let effects = tenant_created(Plan::Gold).effects();
    assert_eq!(
        effects,
        vec![Effect::ClaimUnique {
            namespace: TENANT_SLUG_NAMESPACE,
            key: "acme".into()
        }]
    );
}

#[test]
fn refuses_a_second_creation() {
    given([tenant_created(Plan::Gold)])
        .when_tenant(TenantCommand::Create(create_tenant(Plan::Gold)))
        .then_error(DomainError::AlreadyExists {
            resource: ResourceKind::Tenant,
            field: "id",
            value: tid().to_string(),
        });
}

#[test]
fn refuses_an_id_other_than_the_scopes() {
    let c = crate::domain::CreateTenant {
        id: TenantId(uuid::Uuid::nil()),
        ..create_tenant(Plan::Gold)
    };
    when_create(c).then_invalid(&["id"]);
}

#[test]
fn other_commands_need_an_existing_tenant() {
    let missing = DomainError::NotFound {
        resource: ResourceKind::Tenant,
        id: tid().to_string(),
    };
    let commands = [
        TenantCommand::Update(crate::domain::UpdateTenant {
            name: Some("x".into()),
            ..Default::default()
        }),
        TenantCommand::ChangePlan { plan: Plan::Silver },
        TenantCommand::Suspend { reason: "r".into() },
        TenantCommand::Reactivate,
        TenantCommand::Deactivate {
            grace_period_ends_at: days(30),
            feedback: feedback(),
        },
        TenantCommand::Delete,
        TenantCommand::ExpireGracePeriod,
    ];
    for c in commands {
        given([]).when_tenant(c).then_error(missing.clone());
    }
}

// ---- name ----

fn with_name(name: &str) -> Then {
    when_create(crate::domain::CreateTenant {
        name: name.into(),
        ..create_tenant(Plan::Gold)
    })
}

#[test]
fn name_rules() {
    with_name("").then_invalid(&["name"]);
    with_name("   \t\n").then_invalid(&["name"]);
    with_name(&repeat('a', 201)).then_invalid(&["name"]);
    with_name("Ac\u{0}me").then_invalid(&["name"]);
    with_name("Ac\u{7f}me").then_invalid(&["name"]);
    with_name("Ac\nme").then_invalid(&["name"]);
    with_name("Ac\u{85}me").then_invalid(&["name"]);
}

#[test]
fn name_length_counts_characters_not_bytes() {
    assert!(with_name(&repeat('a', 200)).result.is_ok());
    assert!(with_name(&repeat('é', 200)).result.is_ok());
    assert!(with_name(&repeat('😀', 200)).result.is_ok());
    with_name(&repeat('é', 201)).then_invalid(&["name"]);
    // Surrounding whitespace does not count against the limit.
    assert!(
        with_name(&format!("  {}  ", repeat('a', 200)))
            .result
            .is_ok()
    );
}

// ---- slug ----

fn with_slug(slug: &str) -> Then {
    when_create(crate::domain::CreateTenant {
        slug: slug.into(),
        ..create_tenant(Plan::Gold)
    })
}

#[test]
fn bad_slugs_are_refused() {
    for slug in [
        "AB", "a_b", "ab", "", "Acme", "acme co", "acme.co", "ácme", "acme\n", " acme", "acme_",
    ] {
        with_slug(slug).then_invalid(&["slug"]);
    }
    with_slug(&repeat('a', 64)).then_invalid(&["slug"]);
}

#[test]
fn good_slugs_are_accepted() {
    for slug in ["abc", "a-1", "---", "0123456789", "acme-corp-2"] {
        assert!(with_slug(slug).result.is_ok(), "{slug}");
    }
    assert!(with_slug(&repeat('z', 63)).result.is_ok());
}

// ---- products ----

fn with_products(products: &[&str]) -> Then {
    let products = products.iter().map(|p| (*p).to_owned()).collect();
    when_create(crate::domain::CreateTenant {
        products,
        ..create_tenant(Plan::Gold)
    })
}

#[test]
fn product_rules() {
    assert!(with_products(&["crm", "billing"]).result.is_ok());
    with_products(&["crm", "billing", "crm"]).then_invalid(&["products[2]"]);
    with_products(&["crm", ""]).then_invalid(&["products[1]"]);
    with_products(&[&repeat('p', 65)]).then_invalid(&["products[0]"]);
    assert!(with_products(&[&repeat('p', 64)]).result.is_ok());
    with_products(&["cr\u{1b}m"]).then_invalid(&["products[0]"]);
    let fifty: Vec<String> = (0..50).map(|i| format!("p{i}")).collect();
    let fifty: Vec<&str> = fifty.iter().map(String::as_str).collect();
    assert!(with_products(&fifty).result.is_ok());
    let mut fifty_one = fifty.clone();
    fifty_one.push("p50");
    with_products(&fifty_one).then_invalid(&["products"]);
}

// ---- settings ----

fn with_session(seconds: Option<i64>) -> Then {
    let settings = TenantSettings {
        session_expiration_seconds: seconds,
    };
    when_create(crate::domain::CreateTenant {
        settings,
        ..create_tenant(Plan::Gold)
    })
}

#[test]
fn session_expiration_range() {
    for ok in [None, Some(60), Some(3600), Some(31_536_000)] {
        assert!(with_session(ok).result.is_ok(), "{ok:?}");
    }
    for bad in [
        Some(59),
        Some(0),
        Some(-1),
        Some(31_536_001),
        Some(i64::MAX),
        Some(i64::MIN),
    ] {
        with_session(bad).then_invalid(&["settings.session_expiration_seconds"]);
    }
}

// ---- business profile ----

fn with_profile(p: BusinessProfile) -> Then {
    when_create(crate::domain::CreateTenant {
        business_profile: Some(p),
        ..create_tenant(Plan::Gold)
    })
}

#[test]
fn profile_strings_are_at_most_200_characters() {
    assert!(
        with_profile(BusinessProfile {
            legal_name: repeat('x', 200),
            ..profile()
        })
        .result
        .is_ok()
    );
    with_profile(BusinessProfile {
        legal_name: repeat('x', 201),
        ..profile()
    })
    .then_invalid(&["business_profile.legal_name"]);
    with_profile(BusinessProfile {
        external_id: repeat('x', 201),
        ..profile()
    })
    .then_invalid(&["business_profile.external_id"]);
    let address = Address {
        city: repeat('x', 201),
        ..Address::default()
    };
    with_profile(BusinessProfile {
        address: Some(address),
        ..profile()
    })
    .then_invalid(&["business_profile.address.city"]);
}

#[test]
fn url_rules() {
    for ok in [
        "https://acme.test/logo.png",
        "http://acme.test",
        "",
        &format!("https://{}", repeat('a', 2040)),
    ] {
        assert!(
            with_profile(BusinessProfile {
                logo_url: ok.into(),
                ..profile()
            })
            .result
            .is_ok(),
            "{ok}"
        );
    }
    for bad in [
        "ftp://acme.test/logo.png",
        "acme.test/logo.png",
        "https://",
        "HTTPS://acme.test",
        "https://acme.test/a b",
        "javascript:alert(1)",
        &format!("https://{}", repeat('a', 2041)),
    ] {
        with_profile(BusinessProfile {
            logo_url: bad.into(),
            ..profile()
        })
        .then_invalid(&["business_profile.logo_url"]);
    }
}

#[test]
fn classification_takes_codes_and_a_group_within_its_sector() {
    let classified = BusinessProfile {
        industry_sector: Classified::Code(IndustrySector::InformationTechnology),
        industry_group: Classified::Code(IndustryGroup::SoftwareServices),
        legal_form: Classified::Code(LegalForm::Llc),
        size_range: Classified::Code(SizeRange::From51To200),
        ..profile()
    };
    assert!(with_profile(classified.clone()).result.is_ok());
    // Free text (what profiles held before classification) is not a code.
    for (field, profile) in [
        (
            "industry_sector",
            BusinessProfile {
                industry_sector: Classified::Unclassified("Tech".into()),
                ..classified.clone()
            },
        ),
        (
            "industry_group",
            BusinessProfile {
                industry_group: Classified::Unclassified("Software".into()),
                ..classified.clone()
            },
        ),
        (
            "legal_form",
            BusinessProfile {
                legal_form: Classified::Unclassified("GmbH".into()),
                ..classified.clone()
            },
        ),
        (
            "size_range",
            BusinessProfile {
                size_range: Classified::Unclassified("about 40".into()),
                ..classified.clone()
            },
        ),
        (
            "industry_group",
            BusinessProfile {
                industry_group: Classified::Code(IndustryGroup::Banks),
                ..classified.clone()
            },
        ),
    ] {
        with_profile(profile).then_invalid(&[&format!("business_profile.{field}")]);
    }
}

#[test]
fn a_group_alone_brings_its_sector() {
    let only_group = BusinessProfile {
        industry_group: Classified::Code(IndustryGroup::Insurance),
        ..profile()
    };
    with_profile(only_group).then_events([
        created_with_profile(BusinessProfile {
            industry_sector: Classified::Code(IndustrySector::Financials),
            industry_group: Classified::Code(IndustryGroup::Insurance),
            ..profile()
        }),
        onboarding_started(),
    ]);
}

#[test]
fn social_profiles_are_https_links_on_their_platforms_host_one_per_platform() {
    for ok in [
        social(SocialPlatform::X, "https://twitter.com/acme"),
        social(SocialPlatform::X, "https://x.com/acme"),
        social(SocialPlatform::Youtube, "https://www.youtube.com/@acme"),
        social(SocialPlatform::Tiktok, "https://www.tiktok.com/@acme"),
    ] {
        assert!(
            with_profile(BusinessProfile {
                social_profiles: vec![ok.clone()],
                ..profile()
            })
            .result
            .is_ok(),
            "{ok:?}"
        );
    }
    for (bad, field) in [
        (
            social(SocialPlatform::Linkedin, "https://example.com/acme"),
            "url",
        ),
        (
            social(SocialPlatform::Linkedin, "https://notlinkedin.com/acme"),
            "url",
        ),
        (
            social(SocialPlatform::Facebook, "http://facebook.com/acme"),
            "url",
        ),
        (
            social(SocialPlatform::Instagram, "mailto:x@instagram.com"),
            "url",
        ),
        (social(SocialPlatform::Instagram, ""), "url"),
        (
            SocialProfile {
                platform: None,
                url: "https://www.linkedin.com/company/acme".into(),
            },
            "platform",
        ),
    ] {
        with_profile(BusinessProfile {
            social_profiles: vec![bad.clone()],
            ..profile()
        })
        .then_invalid(&[&format!("business_profile.social_profiles[0].{field}")]);
    }
    with_profile(BusinessProfile {
        social_profiles: vec![
            social(SocialPlatform::X, "https://x.com/acme"),
            social(SocialPlatform::X, "https://x.com/acme2"),
        ],
        ..profile()
    })
    .then_invalid(&["business_profile.social_profiles[1].platform"]);
}

fn created_with_profile(p: BusinessProfile) -> TenantScopeEvent {
    let c = create_tenant(Plan::Gold);
    TenantScopeEvent::Tenant(TenantEvent::TenantCreated {
        id: c.id,
        name: c.name,
        slug: c.slug,
        kind: c.kind,
        plan: c.plan,
        settings: c.settings,
        products: c.products,
        business_profile: Some(p),
        parent: None,
    })
}

#[test]
fn empty_country_becomes_us() {
    let address = Address {
        line1: "1 Main St".into(),
        ..Address::default()
    };
    let input = BusinessProfile {
        address: Some(address.clone()),
        ..profile()
    };
    let normalized = BusinessProfile {
        address: Some(Address {
            country: "US".into(),
            ..address
        }),
        ..profile()
    };
    let hq = rce(crate::domain::RecordEvent::RecordCreated {
        id: crate::domain::headquarters_id(tid().0),
        client_id: None,
        fields: crate::domain::headquarters_at(normalized.address.as_ref().expect("address")),
    });
    let scope = with_profile(input).then_events([
        created_with_profile(normalized.clone()),
        onboarding_started(),
        hq,
    ]);
    assert_eq!(
        scope.tenant().and_then(|t| t.business_profile.clone()),
        Some(normalized)
    );
}

#[test]
fn a_given_country_is_kept() {
    let address = Address {
        country: "DE".into(),
        ..Address::default()
    };
    let input = BusinessProfile {
        address: Some(address),
        ..profile()
    };
    let hq = rce(crate::domain::RecordEvent::RecordCreated {
        id: crate::domain::headquarters_id(tid().0),
        client_id: None,
        fields: crate::domain::headquarters_at(input.address.as_ref().expect("address")),
    });
    with_profile(input.clone()).then_events([
        created_with_profile(input),
        onboarding_started(),
        hq,
    ]);
}

#[test]
fn country_must_be_two_upper_case_letters() {
    let with_country = |c: &str| {
        let address = Address {
            country: c.into(),
            ..Address::default()
        };
        with_profile(BusinessProfile {
            address: Some(address),
            ..profile()
        })
    };
    assert!(with_country("DE").result.is_ok());
    for bad in ["us", "USA", "U", "Us", "U1", "ÜS", " US"] {
        with_country(bad).then_invalid(&["business_profile.address.country"]);
    }
}

#[test]
fn every_violation_is_reported_at_once() {
    let c = crate::domain::CreateTenant {
        id: TenantId(uuid::Uuid::nil()),
        name: String::new(),
        slug: "AB".into(),
        settings: TenantSettings {
            session_expiration_seconds: Some(1),
        },
        products: vec!["a".into(), "a".into()],
        business_profile: Some(BusinessProfile {
            logo_url: "ftp://x".into(),
            ..BusinessProfile::default()
        }),
        ..create_tenant(Plan::Gold)
    };
    when_create(c).then_invalid(&[
        "id",
        "name",
        "slug",
        "settings.session_expiration_seconds",
        "products[1]",
        "business_profile.logo_url",
    ]);
}

#[test]
fn a_second_creation_is_already_exists_whatever_its_input() {
    let bad = crate::domain::CreateTenant {
        name: String::new(),
        slug: "AB".into(),
        ..create_tenant(Plan::Gold)
    };
    given([tenant_created(Plan::Gold)])
        .when_tenant(TenantCommand::Create(bad))
        .then_error(DomainError::AlreadyExists {
            resource: ResourceKind::Tenant,
            field: "id",
            value: tid().to_string(),
        });
}

// ---- onboarding plan ----

fn with_owner_email(email: &str) -> Then {
    when_create(crate::domain::CreateTenant {
        onboarding: crate::domain::OnboardingPlan {
            owner_email: email.into(),
            ..onboarding_plan()
        },
        ..create_tenant(Plan::Gold)
    })
}

#[test]
fn the_owner_email_follows_the_email_rules() {
    for bad in [
        "",
        "owner",
        "owner@",
        "@acme.test",
        "owner@acme",
        "owner@.acme.test",
        "owner@acme.test.",
        "ow ner@acme.test",
        "owner@@acme.test",
        "a@b@acme.test",
        "owner\u{0}@acme.test",
    ] {
        with_owner_email(bad).then_invalid(&["owner_email"]);
    }
    with_owner_email(&format!("{}@acme.test", repeat('a', 245))).then_invalid(&["owner_email"]);
    assert!(
        with_owner_email(&format!("{}@acme.test", repeat('a', 244)))
            .result
            .is_ok()
    );
}

#[test]
fn the_owner_email_is_stored_trimmed_and_as_given() {
    let scope = with_owner_email("  Owner@Acme.TEST ")
        .result
        .map(|events| {
            let mut scope = given([]).scope;
            for e in &events {
                scope.apply(e, t0());
            }
            scope
        })
        .expect("accepted");
    let onboarding = scope.tenant().and_then(|t| t.onboarding.clone());
    assert_eq!(
        onboarding.map(|o| o.plan.owner_email),
        Some("Owner@Acme.TEST".to_owned())
    );
}

#[test]
fn every_violation_includes_the_owner_email() {
    let c = crate::domain::CreateTenant {
        slug: "AB".into(),
        onboarding: crate::domain::OnboardingPlan {
            owner_email: "nope".into(),
            ..onboarding_plan()
        },
        ..create_tenant(Plan::Gold)
    };
    when_create(c).then_invalid(&["slug", "owner_email"]);
}
