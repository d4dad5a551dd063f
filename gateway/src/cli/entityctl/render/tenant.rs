//! Tenants as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{Resource, label, list_text, rfc3339};

write_answer!(
    pb::TenantResponse { tenant: pb::Tenant },
    secret owner_invitation_token, bootstrap_api_key, bootstrap_api_key_id
);
labels! {
    pb::TenantKind: "TENANT_KIND_",
    pb::Plan: "PLAN_",
    pb::TenantStatus: "TENANT_STATUS_",
    pb::IndustrySector: "INDUSTRY_SECTOR_",
    pb::IndustryGroup: "INDUSTRY_GROUP_",
    pb::LegalForm: "LEGAL_FORM_",
    pb::SizeRange: "SIZE_RANGE_",
    pb::SocialPlatform: "SOCIAL_PLATFORM_",
}

impl Resource for pb::Tenant {
    const KIND: &'static str = "tenant";

    id_and_stamps!();

    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = party(self).lines(vec![
            ("products", list_text(&self.products)),
            (
                "session_expiration_seconds",
                self.settings
                    .as_ref()
                    .and_then(|s| s.session_expiration_seconds)
                    .map_or_else(|| "(platform default)".to_owned(), |s| s.to_string()),
            ),
        ]);
        if !self.parent_tenant_id.is_empty() {
            out.push(("parent_tenant_id", self.parent_tenant_id.clone()));
            out.push(("parent_client_id", self.parent_client_id.clone()));
        }
        if !self.suspension_reason.is_empty() {
            out.push(("suspension_reason", self.suspension_reason.clone()));
        }
        if let Some(ts) = &self.grace_period_ends_at {
            out.push(("grace_period_ends_at", rfc3339(ts)));
        }
        if let Some(o) = &self.onboarding {
            out.push(("default_organization_id", o.default_organization_id.clone()));
            out.push(("owner_user_id", o.owner_user_id.clone()));
            out.push((
                "owner_email",
                if self.erased_at.is_some() {
                    super::user::ERASED.to_owned()
                } else {
                    o.owner_email.clone()
                },
            ));
            out.push((
                "onboarding",
                if o.completed {
                    "completed"
                } else {
                    "in progress"
                }
                .to_owned(),
            ));
        }
        if let Some(ts) = &self.erased_at {
            out.push(("erased_at", rfc3339(ts)));
        }
        out
    }

    fn json_fields(&self) -> Value {
        party(self).json(json!({
            "parent_tenant_id": (!self.parent_tenant_id.is_empty()).then_some(&self.parent_tenant_id),
            "parent_client_id": (!self.parent_client_id.is_empty()).then_some(&self.parent_client_id),
            "settings": {
                "session_expiration_seconds":
                    self.settings.as_ref().and_then(|s| s.session_expiration_seconds),
            },
            "products": self.products,
            "suspension_reason":
                (!self.suspension_reason.is_empty()).then_some(&self.suspension_reason),
            "grace_period_ends_at": self.grace_period_ends_at.as_ref().map(rfc3339),
            "deactivation_feedback": self.deactivation_feedback.as_ref().map(|f| json!({
                "reason_code": f.reason_code,
                "text": f.text,
                "recommendation_score": f.recommendation_score,
                "context": f.context,
                "requested_by": f.requested_by,
            })),
            "onboarding": self.onboarding.as_ref().map(|o| json!({
                "default_organization_id": o.default_organization_id,
                "owner_user_id": o.owner_user_id,
                "owner_email": o.owner_email,
                "completed": o.completed,
            })),
            "erased_at": self.erased_at.as_ref().map(rfc3339),
        }))
    }

    /// `ID  PLAN  STATUS  SLUG  NAME`.
    fn row(&self) -> String {
        party(self).row()
    }
}

/// A tenant's [`Party`] fields.
fn party(t: &pb::Tenant) -> Party<'_> {
    Party {
        id: &t.id,
        name: &t.name,
        slug: &t.slug,
        kind: label::<pb::TenantKind>(t.kind),
        plan: Some(label::<pb::Plan>(t.plan)),
        status: label::<pb::TenantStatus>(t.status),
        profile: t.business_profile.as_ref(),
    }
}

/// What a tenant and a customer show alike, enums labelled.
pub(super) struct Party<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) slug: &'a str,
    pub(super) kind: String,
    /// A tenant's plan (customers show none).
    pub(super) plan: Option<String>,
    pub(super) status: String,
    pub(super) profile: Option<&'a pb::BusinessProfile>,
}

impl Party<'_> {
    /// `name`, `slug`, `kind`, `plan`, `status`, then `more`, then the business profile's lines.
    pub(super) fn lines(self, more: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("name", self.name.to_owned()),
            ("slug", self.slug.to_owned()),
            ("kind", self.kind),
        ];
        out.extend(self.plan.map(|plan| ("plan", plan)));
        out.push(("status", self.status));
        out.extend(more);
        out.extend(profile_lines(self.profile));
        out
    }

    /// Its JSON object, with `more`'s members added.
    pub(super) fn json(self, more: Value) -> Value {
        let mut out = json!({
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "kind": self.kind,
            "status": self.status,
            "business_profile": self.profile.map(profile_json),
        });
        if let Some(object) = out.as_object_mut() {
            if let Some(plan) = self.plan {
                object.insert("plan".to_owned(), plan.into());
            }
            if let Value::Object(more) = more {
                object.extend(more);
            }
        }
        out
    }

    /// `ID  PLAN  STATUS  SLUG  NAME` (no `PLAN` without one).
    pub(super) fn row(self) -> String {
        let plan = self.plan.map(|p| format!("{p:<6}  ")).unwrap_or_default();
        format!(
            "{}  {plan}{:<11}  {}  {}",
            self.id, self.status, self.slug, self.name
        )
    }
}

/// The `legal_name`, `address` (when more than the country is set) and `country` lines of a
/// business profile (none without one).
pub(super) fn profile_lines(p: Option<&pb::BusinessProfile>) -> Vec<(&'static str, String)> {
    let Some(p) = p else {
        return Vec::new();
    };
    let mut out = vec![("legal_name", p.legal_name.clone())];
    if let Some(a) = &p.address {
        let street = pb::Address {
            country: String::new(),
            ..a.clone()
        };
        if street != pb::Address::default() {
            out.push(("address", address_text(a)));
        }
        out.push(("country", a.country.clone()));
    }
    out
}

/// A business profile as JSON.
pub(super) fn profile_json(p: &pb::BusinessProfile) -> Value {
    json!({
        "legal_name": p.legal_name,
        "industry_sector": label::<pb::IndustrySector>(p.industry_sector),
        "industry_group": label::<pb::IndustryGroup>(p.industry_group),
        "legal_form": label::<pb::LegalForm>(p.legal_form),
        "size_range": label::<pb::SizeRange>(p.size_range),
        "external_id": p.external_id,
        "logo_url": p.logo_url,
        "social_profiles": p.social_profiles.iter().map(|s| json!({
            "platform": label::<pb::SocialPlatform>(s.platform),
            "url": s.url,
        })).collect::<Vec<_>>(),
        "unclassified": p.unclassified,
        "address": p.address.as_ref().map(address_json),
    })
}

/// An address on one line: its non-empty parts, comma-separated.
pub(super) fn address_text(a: &pb::Address) -> String {
    [
        &a.line1,
        &a.line2,
        &a.city,
        &a.region,
        &a.postal_code,
        &a.country,
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .map(String::as_str)
    .collect::<Vec<_>>()
    .join(", ")
}

/// An address as JSON.
pub(super) fn address_json(a: &pb::Address) -> Value {
    json!({
        "line1": a.line1,
        "line2": a.line2,
        "city": a.city,
        "region": a.region,
        "postal_code": a.postal_code,
        "country": a.country,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{One, Rendered, View, Written, printed},
    };

    fn tenant() -> pb::Tenant {
        pb::Tenant {
            id: "t1".into(),
            name: "Acme".into(),
            slug: "acme".into(),
            kind: pb::TenantKind::Business as i32,
            plan: pb::Plan::Gold as i32,
            status: pb::TenantStatus::Suspended as i32,
            suspension_reason: "unpaid".into(),
            version: 3,
            create_time: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            onboarding: Some(pb::Onboarding {
                default_organization_id: "o1".into(),
                owner_user_id: "u1".into(),
                owner_email: "owner@acme.test".into(),
                completed: true,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn tenant_json_uses_lower_case_enums_and_rfc3339() {
        let v = One(tenant()).json();
        assert_eq!(v["kind"], "business");
        assert_eq!(v["plan"], "gold");
        assert_eq!(v["status"], "suspended");
        assert_eq!(v["suspension_reason"], "unpaid");
        assert_eq!(v["create_time"], "2023-11-14T22:13:20Z");
        assert_eq!(v["grace_period_ends_at"], Value::Null);
        assert_eq!(v["onboarding"]["owner_user_id"], "u1");
        assert_eq!(label::<pb::TenantKind>(42), "unknown(42)");
    }

    #[test]
    fn erased_tenants_show_when() {
        let erased = pb::Tenant {
            status: pb::TenantStatus::Deleted as i32,
            erased_at: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            onboarding: Some(pb::Onboarding {
                owner_email: String::new(),
                ..tenant().onboarding.unwrap()
            }),
            ..tenant()
        };
        let text = printed(&One(erased.clone()), Output::Text);
        assert!(
            text.contains("\nerased_at: 2023-11-14T22:13:20Z\n"),
            "{text}"
        );
        assert!(text.contains("\nowner_email: (erased)\n"), "{text}");
        assert_eq!(One(erased).json()["erased_at"], "2023-11-14T22:13:20Z");
        assert_eq!(One(tenant()).json()["erased_at"], Value::Null);
        assert!(!printed(&One(tenant()), Output::Text).contains("erased"));
    }

    #[test]
    fn rows_show_plan_and_status() {
        assert_eq!(tenant().row(), "t1  gold    suspended    acme  Acme");
    }

    #[test]
    fn write_text_starts_with_a_summary_then_the_owner_token() {
        let r = pb::TenantResponse {
            tenant: Some(tenant()),
            result: Some(pb::WriteResult {
                version: 3,
                consistency_token: "ct1.9.9".into(),
                replayed: false,
            }),
            owner_invitation_token: "inv1.x.y".into(),
            ..Default::default()
        };
        let text = printed(&Written::new("created", r.clone()), Output::Text);
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("created tenant t1 (version 3, consistency token ct1.9.9)")
        );
        assert_eq!(lines.next(), Some("owner_invitation_token: inv1.x.y"));
        assert!(text.contains("\nstatus: suspended\n"));
        assert!(text.contains("\nowner_user_id: u1\n"));
        assert_eq!(
            Written::new("created", r.clone()).json()["owner_invitation_token"],
            "inv1.x.y"
        );
        let replayed = pb::TenantResponse {
            owner_invitation_token: String::new(),
            ..r
        };
        assert!(
            !printed(&Written::new("created", replayed), Output::Text)
                .contains("owner_invitation_token")
        );
    }

    #[test]
    fn id_output_prints_only_ids() {
        let r = pb::TenantResponse {
            tenant: Some(tenant()),
            ..Default::default()
        };
        assert_eq!(
            Rendered::new(Written::new("created", r)).format(Output::Id),
            "t1"
        );
    }
}
