//! How `entityctl` shows results (text `key: value` lines, or one JSON object per result) and
//! gRPC errors (on stderr, with their `google.rpc` details).

use chrono::{DateTime, SecondsFormat};
use entity_proto::v1 as pb;
use serde_json::{Value, json};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use super::args::Output;

/// A result of one command.
#[derive(Debug)]
pub enum Rendered {
    /// A tenant read.
    Tenant(pb::Tenant),
    /// An organization read.
    Organization(pb::Organization),
    /// A tenant write: what happened (`created`, `suspended`, …) and the answer.
    TenantWrite(&'static str, pb::TenantResponse),
    /// An organization write.
    OrganizationWrite(&'static str, pb::OrganizationResponse),
    /// A page of tenants.
    Tenants(pb::ListTenantsResponse),
    /// A page of organizations.
    Organizations(pb::ListOrganizationsResponse),
}

impl Rendered {
    /// The result in the requested format, ready to print.
    pub fn format(&self, output: Output) -> String {
        match output {
            Output::Json => self.json().to_string(),
            Output::Text => self.text(),
            Output::Id => self.ids().join("\n"),
        }
    }

    fn ids(&self) -> Vec<String> {
        match self {
            Rendered::Tenant(t) => vec![t.id.clone()],
            Rendered::Organization(o) => vec![o.id.clone()],
            Rendered::TenantWrite(_, r) => r.tenant.iter().map(|t| t.id.clone()).collect(),
            Rendered::OrganizationWrite(_, r) => {
                r.organization.iter().map(|o| o.id.clone()).collect()
            }
            Rendered::Tenants(l) => l.tenants.iter().map(|t| t.id.clone()).collect(),
            Rendered::Organizations(l) => l.organizations.iter().map(|o| o.id.clone()).collect(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Rendered::Tenant(t) => tenant_json(t),
            Rendered::Organization(o) => organization_json(o),
            Rendered::TenantWrite(_, r) => json!({
                "tenant": r.tenant.as_ref().map(tenant_json),
                "result": r.result.as_ref().map(result_json),
            }),
            Rendered::OrganizationWrite(_, r) => json!({
                "organization": r.organization.as_ref().map(organization_json),
                "result": r.result.as_ref().map(result_json),
            }),
            Rendered::Tenants(l) => json!({
                "tenants": l.tenants.iter().map(tenant_json).collect::<Vec<_>>(),
                "next_page_token": l.next_page_token,
            }),
            Rendered::Organizations(l) => json!({
                "organizations": l.organizations.iter().map(organization_json).collect::<Vec<_>>(),
                "next_page_token": l.next_page_token,
            }),
        }
    }

    fn text(&self) -> String {
        match self {
            Rendered::Tenant(t) => lines(&tenant_lines(t)),
            Rendered::Organization(o) => lines(&organization_lines(o)),
            Rendered::TenantWrite(verb, r) => {
                let id = r.tenant.as_ref().map_or("", |t| t.id.as_str());
                let body = r
                    .tenant
                    .as_ref()
                    .map(|t| lines(&tenant_lines(t)))
                    .unwrap_or_default();
                format!("{}\n{body}", summary(verb, "tenant", id, r.result.as_ref()))
            }
            Rendered::OrganizationWrite(verb, r) => {
                let id = r.organization.as_ref().map_or("", |o| o.id.as_str());
                let body = r
                    .organization
                    .as_ref()
                    .map(|o| lines(&organization_lines(o)))
                    .unwrap_or_default();
                format!(
                    "{}\n{body}",
                    summary(verb, "organization", id, r.result.as_ref())
                )
            }
            Rendered::Tenants(l) => {
                let mut out: Vec<String> = l
                    .tenants
                    .iter()
                    .map(|t| format!("{}  {}  {}", t.id, t.slug, t.name))
                    .collect();
                out.push(page_line(l.tenants.len(), "tenant", &l.next_page_token));
                out.join("\n")
            }
            Rendered::Organizations(l) => {
                let mut out: Vec<String> = l
                    .organizations
                    .iter()
                    .map(|o| {
                        let parent = if o.parent_id.is_empty() {
                            "-"
                        } else {
                            o.parent_id.as_str()
                        };
                        format!("{}  depth {}  parent {}  {}", o.id, o.depth, parent, o.name)
                    })
                    .collect();
                out.push(page_line(
                    l.organizations.len(),
                    "organization",
                    &l.next_page_token,
                ));
                out.join("\n")
            }
        }
    }
}

fn summary(verb: &str, kind: &str, id: &str, result: Option<&pb::WriteResult>) -> String {
    match result {
        Some(r) => format!(
            "{verb} {kind} {id} (version {}, consistency token {}{})",
            r.version,
            r.consistency_token,
            if r.replayed {
                ", replayed: nothing new written"
            } else {
                ""
            }
        ),
        None => format!("{verb} {kind} {id}"),
    }
}

fn page_line(count: usize, kind: &str, next: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    if next.is_empty() {
        format!("({count} {kind}{plural})")
    } else {
        format!("({count} {kind}{plural}; next page: --page-token {next})")
    }
}

fn lines(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tenant_lines(t: &pb::Tenant) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("id", t.id.clone()),
        ("name", t.name.clone()),
        ("slug", t.slug.clone()),
        ("kind", tenant_kind(t.kind)),
        ("plan", plan(t.plan)),
        ("status", tenant_status(t.status)),
        (
            "products",
            if t.products.is_empty() {
                "(none)".to_owned()
            } else {
                t.products.join(", ")
            },
        ),
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
    out.push(("version", t.version.to_string()));
    out.push((
        "created",
        t.create_time.as_ref().map(rfc3339).unwrap_or_default(),
    ));
    out.push((
        "updated",
        t.update_time.as_ref().map(rfc3339).unwrap_or_default(),
    ));
    out
}

fn organization_lines(o: &pb::Organization) -> Vec<(&'static str, String)> {
    vec![
        ("id", o.id.clone()),
        ("tenant_id", o.tenant_id.clone()),
        ("name", o.name.clone()),
        ("description", o.description.clone()),
        (
            "parent_id",
            if o.parent_id.is_empty() {
                "(root)".to_owned()
            } else {
                o.parent_id.clone()
            },
        ),
        ("depth", o.depth.to_string()),
        ("status", organization_status(o.status)),
        ("version", o.version.to_string()),
        (
            "created",
            o.create_time.as_ref().map(rfc3339).unwrap_or_default(),
        ),
        (
            "updated",
            o.update_time.as_ref().map(rfc3339).unwrap_or_default(),
        ),
    ]
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
        "version": t.version,
        "create_time": t.create_time.as_ref().map(rfc3339),
        "update_time": t.update_time.as_ref().map(rfc3339),
    })
}

fn organization_json(o: &pb::Organization) -> Value {
    json!({
        "tenant_id": o.tenant_id,
        "id": o.id,
        "name": o.name,
        "description": o.description,
        "parent_id": (!o.parent_id.is_empty()).then_some(&o.parent_id),
        "depth": o.depth,
        "status": organization_status(o.status),
        "version": o.version,
        "create_time": o.create_time.as_ref().map(rfc3339),
        "update_time": o.update_time.as_ref().map(rfc3339),
    })
}

fn result_json(r: &pb::WriteResult) -> Value {
    json!({
        "version": r.version,
        "consistency_token": r.consistency_token,
        "replayed": r.replayed,
    })
}

fn rfc3339(ts: &prost_types::Timestamp) -> String {
    u32::try_from(ts.nanos)
        .ok()
        .and_then(|n| DateTime::from_timestamp(ts.seconds, n))
        .map_or_else(
            || format!("(invalid timestamp {}s {}ns)", ts.seconds, ts.nanos),
            |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        )
}

/// Lower-case name of a proto enum value: its proto name without the type prefix.
fn enum_name(value: i32, prefix: &str, name: Option<&str>) -> String {
    name.and_then(|n| n.strip_prefix(prefix))
        .map_or_else(|| format!("unknown({value})"), str::to_ascii_lowercase)
}

fn tenant_kind(v: i32) -> String {
    enum_name(
        v,
        "TENANT_KIND_",
        pb::TenantKind::try_from(v).ok().map(|e| e.as_str_name()),
    )
}

fn plan(v: i32) -> String {
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

fn organization_status(v: i32) -> String {
    enum_name(
        v,
        "ORGANIZATION_STATUS_",
        pb::OrganizationStatus::try_from(v)
            .ok()
            .map(|e| e.as_str_name()),
    )
}

/// The canonical name of a gRPC status code (`NOT_FOUND`, …).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A gRPC error as shown on stderr: `error: <CODE>: <message>`, then its reason, metadata,
/// field violations and retry delay, one per line.
pub fn status_text(status: &Status) -> String {
    let mut out = vec![format!(
        "error: {}: {}",
        code_name(status.code()),
        status.message()
    )];
    let details = status.get_error_details();
    if let Some(info) = details.error_info() {
        out.push(format!("  reason: {}", info.reason));
        let mut metadata: Vec<_> = info.metadata.iter().collect();
        metadata.sort();
        for (k, v) in metadata {
            out.push(format!("  {k}: {v}"));
        }
    }
    if let Some(bad) = details.bad_request() {
        for v in &bad.field_violations {
            out.push(format!("  field {}: {}", v.field, v.description));
        }
    }
    if let Some(retry) = details.retry_info().and_then(|r| r.retry_delay) {
        out.push(format!("  retry after: {}s", retry.as_secs_f64()));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use tonic_types::ErrorDetails;

    use super::*;

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
            ..Default::default()
        }
    }

    #[test]
    fn tenant_json_uses_lower_case_enums_and_rfc3339() {
        let v = Rendered::Tenant(tenant()).json();
        assert_eq!(v["kind"], "business");
        assert_eq!(v["plan"], "gold");
        assert_eq!(v["status"], "suspended");
        assert_eq!(v["suspension_reason"], "unpaid");
        assert_eq!(v["create_time"], "2023-11-14T22:13:20Z");
        assert_eq!(v["grace_period_ends_at"], Value::Null);
        assert_eq!(tenant_kind(42), "unknown(42)");
    }

    #[test]
    fn write_text_starts_with_a_summary() {
        let r = pb::TenantResponse {
            tenant: Some(tenant()),
            result: Some(pb::WriteResult {
                version: 3,
                consistency_token: "ct1.9.9".into(),
                replayed: false,
            }),
        };
        let text = Rendered::TenantWrite("suspended", r).text();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("suspended tenant t1 (version 3, consistency token ct1.9.9)")
        );
        assert!(text.contains("\nstatus: suspended\n"));
    }

    #[test]
    fn id_output_prints_only_ids() {
        let r = pb::TenantResponse {
            tenant: Some(tenant()),
            result: None,
        };
        assert_eq!(Rendered::TenantWrite("created", r).format(Output::Id), "t1");
        let list = pb::ListOrganizationsResponse {
            organizations: vec![
                pb::Organization {
                    id: "o1".into(),
                    ..Default::default()
                },
                pb::Organization {
                    id: "o2".into(),
                    ..Default::default()
                },
            ],
            next_page_token: String::new(),
        };
        assert_eq!(Rendered::Organizations(list).format(Output::Id), "o1\no2");
    }

    #[test]
    fn errors_show_their_details() {
        let mut d = ErrorDetails::with_error_info("TENANT_SUSPENDED", "entity-engine", []);
        d.add_bad_request_violation("tenant.name", "must not be empty");
        let s = Status::with_error_details(Code::FailedPrecondition, "tenant is suspended", d);
        let text = status_text(&s);
        assert!(text.starts_with("error: FAILED_PRECONDITION: tenant is suspended\n"));
        assert!(text.contains("reason: TENANT_SUSPENDED"));
        assert!(text.contains("field tenant.name: must not be empty"));
    }
}
