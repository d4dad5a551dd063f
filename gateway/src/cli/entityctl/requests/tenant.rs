//! `entityctl tenant …` requests.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use entity_proto::v1::{self as pb, tenant_service_client::TenantServiceClient};

use super::{listed, mask, one, options, profile_proto, token, written};
use crate::{
    cli::entityctl::{
        Failure, Services,
        args::{KindArg, ListOpts, PlanArg, TenantCommand, TenantStatusArg},
        render::Rendered,
    },
    convert::timestamp,
};

list_rpcs! {
    pb::ListTenantsRequest: TenantServiceClient.list_tenants -> tenants: pb::Tenant,
}

/// Runs a tenant command.
pub(super) async fn run(
    services: &mut Services,
    command: TenantCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.tenants;
    let rendered = match command {
        TenantCommand::Create {
            name,
            slug,
            kind,
            plan,
            owner_email,
            products,
            session_expiration_secs,
            bootstrap_api_key,
            profile,
            write,
        } => {
            let request = pb::CreateTenantRequest {
                options: options(write),
                name,
                slug,
                kind: match kind {
                    KindArg::Business => pb::TenantKind::Business,
                    KindArg::Consumer => pb::TenantKind::Consumer,
                } as i32,
                plan: plan.map_or(pb::Plan::Unspecified, plan_proto) as i32,
                settings: Some(pb::TenantSettings {
                    session_expiration_seconds: session_expiration_secs,
                }),
                products,
                business_profile: profile_proto(profile),
                owner_email,
                bootstrap_api_key,
            };
            written("created", c.create_tenant(request).await?)
        }
        TenantCommand::Get { id, read } => {
            let request = pb::GetTenantRequest {
                tenant_id: id,
                consistency_token: token(read),
            };
            one(c.get_tenant(request).await?)
        }
        TenantCommand::List {
            status,
            plan,
            query,
            prefix,
            listing: ListOpts { page, read },
        } => {
            let request = pb::ListTenantsRequest {
                status: status.map_or(pb::TenantStatus::Unspecified, tenant_status_proto) as i32,
                plan: plan.map_or(pb::Plan::Unspecified, plan_proto) as i32,
                query: query.unwrap_or_default(),
                query_prefix: prefix,
                consistency_token: token(read),
                ..Default::default()
            };
            listed(c, request, page).await?
        }
        TenantCommand::Update {
            id,
            name,
            products,
            clear_products,
            session_expiration_secs,
            default_session_expiration,
            write,
        } => {
            let update_mask = mask(&[
                ("name", name.is_some()),
                ("products", !products.is_empty() || clear_products),
                (
                    "settings",
                    session_expiration_secs.is_some() || default_session_expiration,
                ),
            ]);
            let request = pb::UpdateTenantRequest {
                options: options(write),
                tenant_id: id,
                tenant: Some(pb::TenantUpdate {
                    name: name.unwrap_or_default(),
                    settings: Some(pb::TenantSettings {
                        session_expiration_seconds: session_expiration_secs,
                    }),
                    products,
                    business_profile: None,
                }),
                update_mask,
            };
            written("updated", c.update_tenant(request).await?)
        }
        TenantCommand::ChangePlan { id, plan, write } => {
            let request = pb::ChangePlanRequest {
                options: options(write),
                tenant_id: id,
                plan: plan_proto(plan) as i32,
            };
            written("changed plan of", c.change_plan(request).await?)
        }
        TenantCommand::Suspend { id, reason, write } => {
            let request = pb::SuspendTenantRequest {
                options: options(write),
                tenant_id: id,
                reason,
            };
            written("suspended", c.suspend_tenant(request).await?)
        }
        TenantCommand::Reactivate { id, write } => {
            let request = pb::ReactivateTenantRequest {
                options: options(write),
                tenant_id: id,
            };
            written("reactivated", c.reactivate_tenant(request).await?)
        }
        TenantCommand::Deactivate {
            id,
            grace_days,
            grace_until,
            reason_code,
            feedback,
            score,
            write,
        } => {
            let ends_at = grace_end(grace_days, grace_until.as_deref())?;
            let feedback =
                (reason_code.is_some() || feedback.is_some() || score.is_some()).then(|| {
                    pb::DeactivationFeedback {
                        reason_code: reason_code.unwrap_or_default(),
                        text: feedback.unwrap_or_default(),
                        recommendation_score: score,
                        ..Default::default()
                    }
                });
            let request = pb::DeactivateTenantRequest {
                options: options(write),
                tenant_id: id,
                grace_period_ends_at: Some(timestamp(ends_at)),
                feedback,
            };
            written("deactivated", c.deactivate_tenant(request).await?)
        }
        TenantCommand::Delete { id, write } => {
            let request = pb::DeleteTenantRequest {
                options: options(write),
                tenant_id: id,
            };
            written("deleted", c.delete_tenant(request).await?)
        }
        TenantCommand::Erase { id, write } => {
            let request = pb::EraseTenantRequest {
                options: options(write),
                tenant_id: id,
            };
            written("erased", c.erase_tenant(request).await?)
        }
    };
    Ok(rendered)
}

pub(super) fn plan_proto(plan: PlanArg) -> pb::Plan {
    match plan {
        PlanArg::Bronze => pb::Plan::Bronze,
        PlanArg::Silver => pb::Plan::Silver,
        PlanArg::Gold => pb::Plan::Gold,
    }
}

fn tenant_status_proto(status: TenantStatusArg) -> pb::TenantStatus {
    match status {
        TenantStatusArg::Active => pb::TenantStatus::Active,
        TenantStatusArg::Suspended => pb::TenantStatus::Suspended,
        TenantStatusArg::Deactivated => pb::TenantStatus::Deactivated,
        TenantStatusArg::Deleted => pb::TenantStatus::Deleted,
    }
}

/// End of a grace period from `--grace-days` or `--grace-until` (clap requires one).
///
/// `--grace-days N` ends at 00:00 UTC N days from today: the same instant all day long, so a
/// retry with the same `--request-id` is the same request (and is answered as a replay).
fn grace_end(days: Option<u32>, until: Option<&str>) -> Result<DateTime<Utc>, Failure> {
    match (days, until) {
        (Some(days), _) => {
            let day = Utc::now().date_naive() + Duration::days(i64::from(days));
            Ok(day.and_time(NaiveTime::MIN).and_utc())
        }
        (None, Some(until)) => DateTime::parse_from_rfc3339(until)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| Failure::Usage(format!("--grace-until {until:?} is not RFC 3339: {e}"))),
        (None, None) => Err(Failure::Usage("give --grace-days or --grace-until".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_end_parses_both_forms() {
        let in_30 = grace_end(Some(30), None).ok().unwrap();
        assert!(in_30 > Utc::now() + Duration::days(29));
        assert!(in_30 <= Utc::now() + Duration::days(30));
        assert_eq!(in_30.time(), NaiveTime::MIN);
        assert_eq!(
            grace_end(Some(30), None).ok(),
            Some(in_30),
            "stable across retries"
        );
        let at = grace_end(None, Some("2030-01-31T00:00:00+01:00"))
            .ok()
            .unwrap();
        assert_eq!(at.to_rfc3339(), "2030-01-30T23:00:00+00:00");
        assert!(grace_end(None, Some("tomorrow")).is_err());
    }
}
