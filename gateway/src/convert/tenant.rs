//! Tenant requests → commands, and `Tenant` → its proto message.

use engine::domain::{
    Address, BootstrapKey, BusinessProfile, CreateTenant, DeactivationFeedback, OnboardingPlan,
    OrganizationId, Plan, Tenant, TenantCommand, TenantId, TenantKind, TenantSettings,
    TenantStatus, UpdateTenant, UserId,
    classification::{Classified, Code, SocialPlatform, SocialProfile},
};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{Mutation, Violations, complete, scoped, tenant_read, timestamp};

/// Paths UpdateTenant's `update_mask` may name.
pub const UPDATE_PATHS: &[&str] = &["name", "settings", "products", "business_profile"];

/// The ids the gateway chooses for a new tenant and for what its onboarding creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTenantIds {
    /// The tenant.
    pub tenant: TenantId,
    /// Its default organization.
    pub default_organization: OrganizationId,
    /// Its owner's user.
    pub owner: UserId,
    /// Its bootstrap key's id and secret hash, when the request asks for one.
    pub bootstrap_key: Option<BootstrapKey>,
}

/// Tenant ids tried at most for one new tenant (a node holding 1 of 256 shards finds one in
/// about 256 tries; failing 4,096 times means it holds none).
const MAX_ID_TRIES: usize = 4_096;

impl NewTenantIds {
    /// Fresh UUIDv7s, the tenant's accepted by `accept` (`None` when no try was accepted).
    pub fn generate_where(accept: impl Fn(TenantId) -> bool) -> Option<Self> {
        let tenant = (0..MAX_ID_TRIES)
            .map(|_| TenantId::new_v7())
            .find(|t| accept(*t))?;
        Some(Self {
            tenant,
            default_organization: OrganizationId::new_v7(),
            owner: UserId::new_v7(),
            bootstrap_key: None,
        })
    }
}

/// CreateTenant, with the ids the gateway chose; the owner's email is required.
pub fn create(req: pb::CreateTenantRequest, ids: NewTenantIds) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let options = v.options(req.options);
    let kind = match pb::TenantKind::try_from(req.kind) {
        Ok(pb::TenantKind::Business) => Some(TenantKind::Business),
        Ok(pb::TenantKind::Consumer) => Some(TenantKind::Consumer),
        Ok(pb::TenantKind::Unspecified) => {
            v.add("kind", "required: business or consumer");
            None
        }
        Err(_) => {
            v.add("kind", "unknown tenant kind");
            None
        }
    };
    let plan = new_plan(&mut v, req.plan);
    v.required("owner_email", &req.owner_email);
    v.finish()?;
    let (kind, plan) = complete(kind.zip(plan))?;
    let id = ids.tenant;
    let command = TenantCommand::Create(CreateTenant {
        id,
        name: req.name,
        slug: req.slug,
        kind,
        plan,
        settings: settings_from_proto(req.settings),
        products: req.products,
        business_profile: req.business_profile.map(profile_from_proto),
        onboarding: OnboardingPlan {
            default_organization_id: ids.default_organization,
            owner_user_id: ids.owner,
            owner_email: req.owner_email,
            owner_token_hash: None,
        },
        bootstrap_key: ids.bootstrap_key,
        parent: None,
    });
    Ok(Mutation::new(id, command, options))
}

/// UpdateTenant: the mask decides which fields change.
pub fn update(req: pb::UpdateTenantRequest) -> Result<Mutation, Status> {
    let (tenant_id, options, paths) = scoped(req.options, &req.tenant_id, |v| {
        v.update_mask(req.update_mask, UPDATE_PATHS)
    })?;
    let patch = req.tenant.unwrap_or_default();
    let mut update = UpdateTenant::default();
    let mut profile = patch.business_profile;
    let mut settings = patch.settings;
    let mut products = Some(patch.products);
    let mut name = Some(patch.name);
    for path in paths {
        match path {
            "name" => update.name = name.take(),
            "settings" => update.settings = Some(settings_from_proto(settings.take())),
            "products" => update.products = products.take(),
            _ => update.business_profile = Some(profile.take().map(profile_from_proto)),
        }
    }
    Ok(Mutation::new(
        tenant_id,
        TenantCommand::Update(update),
        options,
    ))
}

/// ChangePlan: the plan must be given.
pub fn change_plan(req: pb::ChangePlanRequest) -> Result<Mutation, Status> {
    let (tenant_id, options, plan) = scoped(req.options, &req.tenant_id, |v| {
        plan_from_proto(v, "plan", pb::Plan::try_from(req.plan).ok())
    })?;
    let command = TenantCommand::ChangePlan {
        plan: complete(plan)?,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// SuspendTenant.
pub fn suspend(req: pb::SuspendTenantRequest) -> Result<Mutation, Status> {
    lifecycle(
        req.options,
        &req.tenant_id,
        TenantCommand::Suspend { reason: req.reason },
    )
}

/// ReactivateTenant.
pub fn reactivate(req: pb::ReactivateTenantRequest) -> Result<Mutation, Status> {
    lifecycle(req.options, &req.tenant_id, TenantCommand::Reactivate)
}

/// DeleteTenant.
pub fn delete(req: pb::DeleteTenantRequest) -> Result<Mutation, Status> {
    lifecycle(req.options, &req.tenant_id, TenantCommand::Delete)
}

/// EraseTenant.
pub fn erase(req: pb::EraseTenantRequest) -> Result<Mutation, Status> {
    lifecycle(req.options, &req.tenant_id, TenantCommand::Erase)
}

/// DeactivateTenant: the end of the grace period is required.
pub fn deactivate(req: pb::DeactivateTenantRequest) -> Result<Mutation, Status> {
    let (tenant_id, options, ends_at) = scoped(req.options, &req.tenant_id, |v| {
        match req.grace_period_ends_at {
            Some(ts) => v.timestamp("grace_period_ends_at", ts),
            None => {
                v.add("grace_period_ends_at", "required");
                None
            }
        }
    })?;
    let command = TenantCommand::Deactivate {
        grace_period_ends_at: complete(ends_at)?,
        feedback: req.feedback.map(feedback_from_proto).unwrap_or_default(),
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// GetTenant: the tenant to read.
pub fn get(req: &pb::GetTenantRequest) -> Result<TenantId, Status> {
    tenant_read(&req.tenant_id, &req.consistency_token)
}

/// The proto message of a tenant.
pub fn to_proto(t: &Tenant) -> pb::Tenant {
    pb::Tenant {
        id: t.id.to_string(),
        name: t.name.clone(),
        slug: t.slug.clone(),
        kind: kind_to_proto(t.kind) as i32,
        plan: plan_to_proto(t.plan) as i32,
        status: status_to_proto(t.status) as i32,
        settings: Some(pb::TenantSettings {
            session_expiration_seconds: t.settings.session_expiration_seconds,
        }),
        products: t.products.clone(),
        business_profile: t.business_profile.as_ref().map(profile_to_proto),
        suspension_reason: t.suspension_reason.clone().unwrap_or_default(),
        grace_period_ends_at: t.grace_period_ends_at.map(timestamp),
        deactivation_feedback: t
            .deactivation_feedback
            .as_ref()
            .map(|f| pb::DeactivationFeedback {
                reason_code: f.reason_code.clone(),
                text: f.text.clone(),
                recommendation_score: f.recommendation_score,
                context: f.context.clone(),
                requested_by: f.requested_by.clone(),
            }),
        version: t.version,
        create_time: Some(timestamp(t.created_at)),
        update_time: Some(timestamp(t.updated_at)),
        onboarding: t.onboarding.as_ref().map(|o| pb::Onboarding {
            default_organization_id: o.plan.default_organization_id.to_string(),
            owner_user_id: o.plan.owner_user_id.to_string(),
            owner_email: o.plan.owner_email.clone(),
            completed: o.completed,
        }),
        erased_at: t.erased_at.map(timestamp),
        parent_tenant_id: t
            .parent
            .map(|p| p.tenant_id.to_string())
            .unwrap_or_default(),
        parent_client_id: t
            .parent
            .map(|p| p.client_id.to_string())
            .unwrap_or_default(),
    }
}

/// The proto enum value of a tenant kind.
pub fn kind_to_proto(kind: TenantKind) -> pb::TenantKind {
    match kind {
        TenantKind::Business => pb::TenantKind::Business,
        TenantKind::Consumer => pb::TenantKind::Consumer,
    }
}

/// The proto enum value of a tenant status.
pub fn status_to_proto(status: TenantStatus) -> pb::TenantStatus {
    match status {
        TenantStatus::Active => pb::TenantStatus::Active,
        TenantStatus::Suspended => pb::TenantStatus::Suspended,
        TenantStatus::Deactivated => pb::TenantStatus::Deactivated,
        TenantStatus::Deleted => pb::TenantStatus::Deleted,
    }
}

/// The domain status of a specified proto status (`None` for UNSPECIFIED).
pub fn status_from_proto(status: pb::TenantStatus) -> Option<TenantStatus> {
    match status {
        pb::TenantStatus::Unspecified => None,
        pb::TenantStatus::Active => Some(TenantStatus::Active),
        pb::TenantStatus::Suspended => Some(TenantStatus::Suspended),
        pb::TenantStatus::Deactivated => Some(TenantStatus::Deactivated),
        pb::TenantStatus::Deleted => Some(TenantStatus::Deleted),
    }
}

/// The domain plan of a specified proto plan (`None` for UNSPECIFIED).
pub fn plan_filter_from_proto(plan: pb::Plan) -> Option<Plan> {
    match plan {
        pb::Plan::Unspecified => None,
        pb::Plan::Bronze => Some(Plan::Bronze),
        pb::Plan::Silver => Some(Plan::Silver),
        pb::Plan::Gold => Some(Plan::Gold),
    }
}

/// The proto enum value of a plan.
pub fn plan_to_proto(plan: Plan) -> pb::Plan {
    match plan {
        Plan::Bronze => pb::Plan::Bronze,
        Plan::Silver => pb::Plan::Silver,
        Plan::Gold => pb::Plan::Gold,
    }
}

/// The plan of a new tenant (`plan`): unspecified is bronze.
pub fn new_plan(v: &mut Violations, plan: i32) -> Option<Plan> {
    match pb::Plan::try_from(plan) {
        Ok(pb::Plan::Unspecified) => Some(Plan::Bronze),
        other => plan_from_proto(v, "plan", other.ok()),
    }
}

fn plan_from_proto(v: &mut Violations, field: &str, plan: Option<pb::Plan>) -> Option<Plan> {
    match plan {
        Some(pb::Plan::Bronze) => Some(Plan::Bronze),
        Some(pb::Plan::Silver) => Some(Plan::Silver),
        Some(pb::Plan::Gold) => Some(Plan::Gold),
        Some(pb::Plan::Unspecified) => {
            v.add(field, "required: bronze, silver or gold");
            None
        }
        None => {
            v.add(field, "unknown plan");
            None
        }
    }
}

/// A command naming only its tenant.
fn lifecycle(
    options: Option<pb::MutationOptions>,
    tenant_id: &str,
    command: TenantCommand,
) -> Result<Mutation, Status> {
    let (tenant_id, options, ()) = scoped(options, tenant_id, |_| ())?;
    Ok(Mutation::new(tenant_id, command, options))
}

fn settings_from_proto(s: Option<pb::TenantSettings>) -> TenantSettings {
    TenantSettings {
        session_expiration_seconds: s.and_then(|s| s.session_expiration_seconds),
    }
}

fn feedback_from_proto(f: pb::DeactivationFeedback) -> DeactivationFeedback {
    DeactivationFeedback {
        reason_code: f.reason_code,
        text: f.text,
        recommendation_score: f.recommendation_score,
        context: f.context,
        requested_by: f.requested_by,
    }
}

/// A proto business profile as the domain's. Enum values this build does not know and the
/// read-only `unclassified` texts become unclassified values, which the domain refuses with
/// the field's violation; an UNSPECIFIED social platform reaches it as none (`required`).
pub fn profile_from_proto(p: pb::BusinessProfile) -> BusinessProfile {
    let stored = |field: &str| p.unclassified.get(field).cloned();
    BusinessProfile {
        industry_sector: classified(
            "INDUSTRY_SECTOR",
            p.industry_sector,
            pb::IndustrySector::try_from(p.industry_sector)
                .ok()
                .map(|e| e.as_str_name()),
            stored("industry_sector"),
        ),
        industry_group: classified(
            "INDUSTRY_GROUP",
            p.industry_group,
            pb::IndustryGroup::try_from(p.industry_group)
                .ok()
                .map(|e| e.as_str_name()),
            stored("industry_group"),
        ),
        legal_form: classified(
            "LEGAL_FORM",
            p.legal_form,
            pb::LegalForm::try_from(p.legal_form)
                .ok()
                .map(|e| e.as_str_name()),
            stored("legal_form"),
        ),
        size_range: classified(
            "SIZE_RANGE",
            p.size_range,
            pb::SizeRange::try_from(p.size_range)
                .ok()
                .map(|e| e.as_str_name()),
            stored("size_range"),
        ),
        social_profiles: p
            .social_profiles
            .into_iter()
            .map(|s| SocialProfile {
                platform: classified::<SocialPlatform>(
                    "SOCIAL_PLATFORM",
                    s.platform,
                    pb::SocialPlatform::try_from(s.platform)
                        .ok()
                        .map(|e| e.as_str_name()),
                    None,
                )
                .code(),
                url: s.url,
            })
            .collect(),
        legal_name: p.legal_name,
        external_id: p.external_id,
        logo_url: p.logo_url,
        address: p.address.map(address_from_proto),
    }
}

/// The proto enum value name of a code: `PREFIX_` and the code in upper case, `-` as `_`
/// and `+` as `_PLUS` (`information_technology` → `INDUSTRY_SECTOR_INFORMATION_TECHNOLOGY`,
/// `10001+` → `SIZE_RANGE_10001_PLUS`).
pub(crate) fn pb_name(prefix: &str, code: &str) -> String {
    let code = code
        .to_ascii_uppercase()
        .replace('-', "_")
        .replace('+', "_PLUS");
    format!("{prefix}_{code}")
}

/// A proto enum value (its number and, if this build knows it, its name) as a domain
/// classification.
pub(crate) fn classified<T: Code>(
    prefix: &str,
    number: i32,
    name: Option<&str>,
    stored: Option<String>,
) -> Classified<T> {
    if let Some(text) = stored {
        return Classified::Unclassified(text);
    }
    if number == 0 {
        return Classified::Unset;
    }
    let code = name.and_then(|name| T::ALL.iter().find(|c| pb_name(prefix, c.code()) == name));
    code.map_or_else(
        || Classified::Unclassified(format!("enum value {number}")),
        |c| Classified::Code(*c),
    )
}

/// A domain classification as its proto enum number (0 when unset or unclassified; the
/// text of an unclassified one goes to `unclassified`).
fn classified_to_pb<T: Code>(
    prefix: &str,
    value: &Classified<T>,
    number_of: fn(&str) -> Option<i32>,
) -> i32 {
    value
        .code()
        .and_then(|c| number_of(&pb_name(prefix, c.code())))
        .unwrap_or(0)
}

/// A proto address as the domain's.
pub fn address_from_proto(a: pb::Address) -> Address {
    Address {
        line1: a.line1,
        line2: a.line2,
        city: a.city,
        region: a.region,
        postal_code: a.postal_code,
        country: a.country,
    }
}

/// A domain address as its proto message.
pub fn address_to_proto(a: &Address) -> pb::Address {
    pb::Address {
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        region: a.region.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
    }
}

/// A domain business profile as its proto message.
pub fn profile_to_proto(p: &BusinessProfile) -> pb::BusinessProfile {
    let unclassified = [
        ("industry_sector", p.industry_sector.unclassified()),
        ("industry_group", p.industry_group.unclassified()),
        ("legal_form", p.legal_form.unclassified()),
        ("size_range", p.size_range.unclassified()),
    ]
    .into_iter()
    .filter_map(|(field, text)| Some((field.to_owned(), text?.to_owned())))
    .collect();
    pb::BusinessProfile {
        legal_name: p.legal_name.clone(),
        industry_sector: classified_to_pb("INDUSTRY_SECTOR", &p.industry_sector, |n| {
            pb::IndustrySector::from_str_name(n).map(Into::into)
        }),
        industry_group: classified_to_pb("INDUSTRY_GROUP", &p.industry_group, |n| {
            pb::IndustryGroup::from_str_name(n).map(Into::into)
        }),
        legal_form: classified_to_pb("LEGAL_FORM", &p.legal_form, |n| {
            pb::LegalForm::from_str_name(n).map(Into::into)
        }),
        size_range: classified_to_pb("SIZE_RANGE", &p.size_range, |n| {
            pb::SizeRange::from_str_name(n).map(Into::into)
        }),
        social_profiles: p
            .social_profiles
            .iter()
            .map(|s| pb::SocialProfile {
                platform: classified_to_pb("SOCIAL_PLATFORM", &s.platform.into(), |n| {
                    pb::SocialPlatform::from_str_name(n).map(Into::into)
                }),
                url: s.url.clone(),
            })
            .collect(),
        unclassified,
        external_id: p.external_id.clone(),
        logo_url: p.logo_url.clone(),
        address: p.address.as_ref().map(address_to_proto),
    }
}

#[cfg(test)]
mod tests {
    use engine::domain::TenantScopeCommand;

    use super::*;
    use crate::convert::violation_fields;

    #[test]
    fn a_profile_stored_before_classification_reads_as_codes_where_it_can_and_text_elsewhere() {
        // A business profile as the journal stored it before issue 20: free text, bare links.
        let stored: BusinessProfile = serde_json::from_value(serde_json::json!({
            "legal_name": "Acme GmbH",
            "industry_sector": "Information Technology",
            "industry_group": "software_services",
            "legal_form": "GmbH",
            "size_range": "about 40",
            "external_id": "",
            "logo_url": "",
            "social_profiles": ["https://www.linkedin.com/company/acme", "https://acme.example/blog"],
            "address": null
        }))
        .expect("an old profile still deserializes");
        let read = profile_to_proto(&stored);
        assert_eq!(
            read.industry_sector(),
            pb::IndustrySector::InformationTechnology
        );
        assert_eq!(read.industry_group(), pb::IndustryGroup::SoftwareServices);
        assert_eq!(read.legal_form(), pb::LegalForm::Unspecified);
        assert_eq!(
            read.unclassified,
            [
                ("legal_form".to_owned(), "GmbH".to_owned()),
                ("size_range".to_owned(), "about 40".to_owned())
            ]
            .into()
        );
        let platforms: Vec<_> = read.social_profiles.iter().map(|s| s.platform()).collect();
        assert_eq!(
            platforms,
            [
                pb::SocialPlatform::Linkedin,
                pb::SocialPlatform::Unspecified
            ]
        );
        // Sent back unchanged, the unclassified values are refused, not silently dropped.
        let back = profile_from_proto(read);
        assert_eq!(back.legal_form, Classified::Unclassified("GmbH".into()));
        assert_eq!(back.social_profiles[1].platform, None);
    }

    #[test]
    fn every_code_has_its_proto_value_and_back() {
        fn round_trip<T: Code>(
            prefix: &str,
            number_of: fn(&str) -> Option<i32>,
            name_of: fn(i32) -> Option<&'static str>,
        ) {
            for code in T::ALL {
                let number = classified_to_pb(prefix, &Classified::Code(*code), number_of);
                assert_ne!(number, 0, "{code:?} has no proto value");
                let back: Classified<T> = classified(prefix, number, name_of(number), None);
                assert_eq!(back, Classified::Code(*code));
            }
        }
        use engine::domain::classification::{IndustryGroup, IndustrySector, LegalForm, SizeRange};
        round_trip::<IndustrySector>(
            "INDUSTRY_SECTOR",
            |n| pb::IndustrySector::from_str_name(n).map(Into::into),
            |n| {
                pb::IndustrySector::try_from(n)
                    .ok()
                    .map(|e| e.as_str_name())
            },
        );
        round_trip::<IndustryGroup>(
            "INDUSTRY_GROUP",
            |n| pb::IndustryGroup::from_str_name(n).map(Into::into),
            |n| pb::IndustryGroup::try_from(n).ok().map(|e| e.as_str_name()),
        );
        round_trip::<LegalForm>(
            "LEGAL_FORM",
            |n| pb::LegalForm::from_str_name(n).map(Into::into),
            |n| pb::LegalForm::try_from(n).ok().map(|e| e.as_str_name()),
        );
        round_trip::<SizeRange>(
            "SIZE_RANGE",
            |n| pb::SizeRange::from_str_name(n).map(Into::into),
            |n| pb::SizeRange::try_from(n).ok().map(|e| e.as_str_name()),
        );
        round_trip::<SocialPlatform>(
            "SOCIAL_PLATFORM",
            |n| pb::SocialPlatform::from_str_name(n).map(Into::into),
            |n| {
                pb::SocialPlatform::try_from(n)
                    .ok()
                    .map(|e| e.as_str_name())
            },
        );
        // GICS codes: a group's number starts with its sector's.
        for group in IndustryGroup::ALL {
            let g = classified_to_pb("INDUSTRY_GROUP", &Classified::Code(*group), |n| {
                pb::IndustryGroup::from_str_name(n).map(Into::into)
            });
            let s = classified_to_pb("INDUSTRY_SECTOR", &Classified::Code(group.sector()), |n| {
                pb::IndustrySector::from_str_name(n).map(Into::into)
            });
            assert_eq!(g / 100, s, "{group:?}");
        }
    }

    #[test]
    fn create_defaults_plan_and_requires_kind_and_owner() {
        let ids = NewTenantIds::generate_where(|_| true).unwrap();
        let req = pb::CreateTenantRequest {
            name: "Acme".into(),
            slug: "acme".into(),
            kind: pb::TenantKind::Business as i32,
            owner_email: "owner@acme.test".into(),
            ..Default::default()
        };
        let m = create(req.clone(), ids.clone()).unwrap();
        assert_eq!(m.tenant_id, ids.tenant);
        let TenantScopeCommand::Tenant(TenantCommand::Create(c)) = m.command else {
            panic!()
        };
        assert_eq!(c.plan, Plan::Bronze);
        assert_eq!(
            c.onboarding.default_organization_id,
            ids.default_organization
        );
        assert_eq!(c.onboarding.owner_user_id, ids.owner);
        assert_eq!(c.onboarding.owner_email, "owner@acme.test");

        let bad = pb::CreateTenantRequest {
            kind: 0,
            plan: 42,
            owner_email: String::new(),
            ..req
        };
        let s = create(bad, ids).unwrap_err();
        assert_eq!(violation_fields(&s), ["kind", "plan", "owner_email"]);
    }

    #[test]
    fn update_follows_the_mask() {
        let id = TenantId::new_v7();
        let req = pb::UpdateTenantRequest {
            tenant_id: id.to_string(),
            tenant: Some(pb::TenantUpdate {
                name: "New".into(),
                products: vec!["x".into()],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into(), "business_profile".into()],
            }),
            ..Default::default()
        };
        let m = update(req).unwrap();
        let TenantScopeCommand::Tenant(TenantCommand::Update(u)) = m.command else {
            panic!()
        };
        assert_eq!(u.name.as_deref(), Some("New"));
        assert_eq!(u.products, None);
        assert_eq!(u.settings, None);
        assert_eq!(u.business_profile, Some(None));
    }

    #[test]
    fn update_collects_every_violation() {
        let req = pb::UpdateTenantRequest {
            options: Some(pb::MutationOptions {
                request_id: "\u{7f}".into(),
                expected_version: None,
            }),
            tenant_id: "not-a-uuid".into(),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["slug".into()],
            }),
            ..Default::default()
        };
        let s = update(req).unwrap_err();
        assert_eq!(
            violation_fields(&s),
            ["options.request_id", "tenant_id", "update_mask"]
        );
    }

    #[test]
    fn erase_names_only_the_tenant() {
        let id = TenantId::new_v7();
        let m = erase(pb::EraseTenantRequest {
            options: Some(pb::MutationOptions {
                request_id: "r1".into(),
                expected_version: None,
            }),
            tenant_id: id.to_string(),
        })
        .unwrap();
        assert_eq!(m.tenant_id, id);
        assert_eq!(m.request_id.as_deref(), Some("r1"));
        assert!(matches!(
            m.command,
            TenantScopeCommand::Tenant(TenantCommand::Erase)
        ));
        let s = erase(pb::EraseTenantRequest::default()).unwrap_err();
        assert_eq!(violation_fields(&s), ["tenant_id"]);
    }

    #[test]
    fn change_plan_requires_a_plan_and_deactivate_a_deadline() {
        let id = TenantId::new_v7().to_string();
        let s = change_plan(pb::ChangePlanRequest {
            tenant_id: id.clone(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(violation_fields(&s), ["plan"]);
        let s = deactivate(pb::DeactivateTenantRequest {
            tenant_id: id,
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(violation_fields(&s), ["grace_period_ends_at"]);
    }
}
