//! Projection `tenant_directory`: one row per tenant.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{StreamKind, TenantEvent, TenantScopeEvent, TenantStatus};
use uuid::Uuid;

use super::{enum_text, expect_one, fold, names};
use crate::{Envelope, Projection, Result, store::Tx, store::on_tx};

/// A new row of `tenant_directory`.
#[derive(Clone, Debug)]
pub(crate) struct TenantRecord {
    pub tenant_id: Uuid,
    pub name: String,
    pub name_lower: String,
    pub slug: String,
    pub status: String,
    pub plan: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

/// A change to a row: `Some` fields change; version and time always do.
#[derive(Clone, Debug, Default)]
pub(crate) struct TenantChange {
    pub tenant_id: Uuid,
    pub name: Option<(String, String)>,
    pub plan: Option<String>,
    pub status: Option<String>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// Keeps `tenant_directory` (tenant-stream events only).
#[derive(Clone, Copy, Debug, Default)]
pub struct TenantDirectoryProjection;

#[async_trait]
impl Projection for TenantDirectoryProjection {
    fn name(&self) -> &str {
        names::TENANT_DIRECTORY
    }

    fn wants(&self, kind: StreamKind) -> bool {
        kind == StreamKind::Tenant
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        for envelope in events {
            let TenantScopeEvent::Tenant(event) = &envelope.event else {
                continue;
            };
            let r = &envelope.recorded;
            let tenant_id = r.stream.id;
            if let TenantEvent::TenantCreated {
                name,
                slug,
                kind,
                plan,
                ..
            } = event
            {
                let record = TenantRecord {
                    tenant_id,
                    name: name.clone(),
                    name_lower: fold(name),
                    slug: slug.clone(),
                    status: enum_text(&TenantStatus::Active)?,
                    plan: enum_text(plan)?,
                    kind: enum_text(kind)?,
                    created_at: r.recorded_at,
                    version: r.sequence,
                };
                on_tx!(tx, insert_tenant(&record))?;
                continue;
            }
            let mut change = TenantChange {
                tenant_id,
                version: r.sequence,
                updated_at: r.recorded_at,
                ..TenantChange::default()
            };
            match event {
                TenantEvent::TenantCreated { .. }
                | TenantEvent::OnboardingStarted { .. }
                | TenantEvent::OnboardingCompleted => {}
                TenantEvent::TenantUpdated { name, .. } => {
                    change.name = name.as_ref().map(|n| (n.clone(), fold(n)));
                }
                TenantEvent::TenantPlanChanged { to, .. } => change.plan = Some(enum_text(to)?),
                TenantEvent::TenantSuspended { .. } => {
                    change.status = Some(enum_text(&TenantStatus::Suspended)?);
                }
                TenantEvent::TenantReactivated => {
                    change.status = Some(enum_text(&TenantStatus::Active)?);
                }
                TenantEvent::TenantDeactivated { .. } => {
                    change.status = Some(enum_text(&TenantStatus::Deactivated)?);
                }
                TenantEvent::TenantDeleted { .. } => {
                    change.status = Some(enum_text(&TenantStatus::Deleted)?);
                }
                // The tenant stays deleted; its row holds no personal data (name and slug are
                // the organization's), so only version and time move.
                TenantEvent::TenantErased => {}
            }
            let affected = on_tx!(tx, update_tenant(&change))?;
            expect_one(affected, names::TENANT_DIRECTORY, || {
                format!("{} for unknown tenant {tenant_id}", r.event_type)
            })?;
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        on_tx!(tx, reset_tenant_directory())
    }
}
