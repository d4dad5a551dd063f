//! Tenants as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{Resource, WriteAnswer, enum_name, list_text, rfc3339, version_lines};

impl Resource for pb::Tenant {
    const KIND: &'static str = "tenant";

    fn id(&self) -> &str {
        &self.id
    }

    fn lines(&self) -> Vec<(&'static str, String)> {
        tenant_lines(self)
    }

    fn to_json(&self) -> Value {
        tenant_json(self)
    }

    fn row(&self) -> String {
        format!(
            "{}  {:<6}  {:<11}  {}  {}",
            self.id,
            plan(self.plan),
            tenant_status(self.status),
            self.slug,
            self.name
        )
    }
}

impl WriteAnswer for pb::TenantResponse {
    type Resource = pb::Tenant;

    fn resource(&self) -> Option<&pb::Tenant> {
        self.tenant.as_ref()
    }

    fn result(&self) -> Option<&pb::WriteResult> {
        self.result.as_ref()
    }

    fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![(
            "owner_invitation_token",
            self.owner_invitation_token.clone(),
        )]
    }
}

fn tenant_lines(t: &pb::Tenant) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("id", t.id.clone()),
        ("name", t.name.clone()),
        ("slug", t.slug.clone()),
        ("kind", tenant_kind(t.kind)),
        ("plan", plan(t.plan)),
        ("status", tenant_status(t.status)),
        ("products", list_text(&t.products)),
        (
            "session_expiration_seconds",
            t.settings
                .as_ref()
                .and_then(|s| s.session_expiration_seconds)
                .map_or_else(|| "(platform default)".to_owned(), |s| s.to_string()),
        ),
    ];
    if let Some(p) = &t.business_profile {
        out.push(("legal_name", p.legal_name.clone()));
        if let Some(a) = &p.address {
            out.push(("country", a.country.clone()));
        }
    }
    if !t.suspension_reason.is_empty() {
        out.push(("suspension_reason", t.suspension_reason.clone()));
    }
    if let Some(ts) = &t.grace_period_ends_at {
        out.push(("grace_period_ends_at", rfc3339(ts)));
    }
    if let Some(o) = &t.onboarding {
        out.push(("default_organization_id", o.default_organization_id.clone()));
        out.push(("owner_user_id", o.owner_user_id.clone()));
        out.push((
            "owner_email",
            if t.erased_at.is_some() {
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
    if let Some(ts) = &t.erased_at {
        out.push(("erased_at", rfc3339(ts)));
    }
    out.extend(version_lines(
        t.version,
        t.create_time.as_ref(),
        t.update_time.as_ref(),
    ));
    out
}

fn tenant_json(t: &pb::Tenant) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "slug": t.slug,
        "kind": tenant_kind(t.kind),
        "plan": plan(t.plan),
        "status": tenant_status(t.status),
        "settings": {
            "session_expiration_seconds":
                t.settings.as_ref().and_then(|s| s.session_expiration_seconds),
        },
        "products": t.products,
        "business_profile": t.business_profile.as_ref().map(|p| json!({
            "legal_name": p.legal_name,
            "industry_sector": p.industry_sector,
            "industry_group": p.industry_group,
            "legal_form": p.legal_form,
            "size_range": p.size_range,
            "external_id": p.external_id,
            "logo_url": p.logo_url,
            "social_profiles": p.social_profiles,
            "address": p.address.as_ref().map(|a| json!({
                "line1": a.line1,
                "line2": a.line2,
                "city": a.city,
                "region": a.region,
                "postal_code": a.postal_code,
                "country": a.country,
            })),
        })),
        "suspension_reason": (!t.suspension_reason.is_empty()).then_some(&t.suspension_reason),
        "grace_period_ends_at": t.grace_period_ends_at.as_ref().map(rfc3339),
        "deactivation_feedback": t.deactivation_feedback.as_ref().map(|f| json!({
            "reason_code": f.reason_code,
            "text": f.text,
            "recommendation_score": f.recommendation_score,
            "context": f.context,
            "requested_by": f.requested_by,
        })),
        "onboarding": t.onboarding.as_ref().map(|o| json!({
            "default_organization_id": o.default_organization_id,
            "owner_user_id": o.owner_user_id,
            "owner_email": o.owner_email,
            "completed": o.completed,
        })),
        "erased_at": t.erased_at.as_ref().map(rfc3339),
        "version": t.version,
        "create_time": t.create_time.as_ref().map(rfc3339),
        "update_time": t.update_time.as_ref().map(rfc3339),
    })
}

fn tenant_kind(v: i32) -> String {
    enum_name(
        v,
        "TENANT_KIND_",
        pb::TenantKind::try_from(v).ok().map(|e| e.as_str_name()),
    )
}

pub(super) fn plan(v: i32) -> String {
    enum_name(
        v,
        "PLAN_",
        pb::Plan::try_from(v).ok().map(|e| e.as_str_name()),
    )
}

fn tenant_status(v: i32) -> String {
    enum_name(
        v,
        "TENANT_STATUS_",
        pb::TenantStatus::try_from(v).ok().map(|e| e.as_str_name()),
    )
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
        assert_eq!(tenant_kind(42), "unknown(42)");
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
