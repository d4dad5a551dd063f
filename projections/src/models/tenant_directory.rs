//! Projection `tenant_directory`: one row per tenant.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{StreamKind, TenantEvent, TenantScopeEvent, TenantStatus};
use uuid::Uuid;

use super::{Change, Folded, TableWrites, enum_text, fold, keep_later, names, set_some};
use crate::{
    Envelope, Projection, Result,
    sql::{Arg, Statement},
    store::Tx,
};

/// A new row of `tenant_directory`.
#[derive(Clone, Debug)]
struct TenantRecord {
    name: String,
    name_lower: String,
    slug: String,
    status: String,
    plan: String,
    kind: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

/// A change to a row: `Some` fields change; version and time always do.
#[derive(Clone, Debug)]
struct TenantChange {
    name: Option<(String, String)>,
    plan: Option<String>,
    status: Option<String>,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl Change for TenantChange {
    type Record = TenantRecord;
    const TABLE: TableWrites = TableWrites {
        model: names::TENANT_DIRECTORY,
        table: "tenant_directory",
        insert: "tenant_directory (tenant_id, name, name_lower, slug, status, plan, kind, \
                 created_at, updated_at, version)",
        change_columns: &[
            "tenant_id",
            "name",
            "name_lower",
            "plan",
            "status",
            "version",
            "updated_at",
        ],
        set: "name = COALESCE(v.name, tenant_directory.name), \
              name_lower = COALESCE(v.name_lower, tenant_directory.name_lower), \
              plan = COALESCE(v.plan, tenant_directory.plan), \
              status = COALESCE(v.status, tenant_directory.status), \
              version = v.version, updated_at = v.updated_at",
        matches: "tenant_directory.tenant_id = v.tenant_id",
    };

    fn apply_to(self, record: &mut TenantRecord) {
        if let Some((name, lower)) = self.name {
            record.name = name;
            record.name_lower = lower;
        }
        set_some(&mut record.plan, self.plan);
        set_some(&mut record.status, self.status);
        record.version = self.version;
        record.updated_at = self.updated_at;
    }

    fn then(&mut self, later: TenantChange) {
        keep_later(&mut self.name, later.name);
        keep_later(&mut self.plan, later.plan);
        keep_later(&mut self.status, later.status);
        self.version = later.version;
        self.updated_at = later.updated_at;
    }

    fn record_values(id: Uuid, r: TenantRecord) -> Vec<Arg> {
        vec![
            id.into(),
            r.name.into(),
            r.name_lower.into(),
            r.slug.into(),
            r.status.into(),
            r.plan.into(),
            r.kind.into(),
            r.created_at.into(),
            r.updated_at.into(),
            r.version.into(),
        ]
    }

    fn change_values(id: Uuid, c: TenantChange) -> Vec<Arg> {
        let (name, lower) = c.name.unzip();
        vec![
            id.into(),
            name.into(),
            lower.into(),
            c.plan.into(),
            c.status.into(),
            c.version.into(),
            c.updated_at.into(),
        ]
    }
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
        let mut rows = Folded::<TenantChange>::default();
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
                    name: name.clone(),
                    name_lower: fold(name),
                    slug: slug.clone(),
                    status: enum_text(&TenantStatus::Active)?,
                    plan: enum_text(plan)?,
                    kind: enum_text(kind)?,
                    created_at: r.recorded_at,
                    updated_at: r.recorded_at,
                    version: r.sequence,
                };
                rows.insert(tenant_id, record);
                continue;
            }
            let mut change = TenantChange {
                name: None,
                plan: None,
                status: None,
                version: r.sequence,
                updated_at: r.recorded_at,
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
                TenantEvent::TenantErased
                | TenantEvent::RegistrationConfigured { .. }
                | TenantEvent::RegistrationHostChanged { .. }
                | TenantEvent::RegistrationDomainAdded { .. }
                | TenantEvent::RegistrationDomainVerified { .. }
                | TenantEvent::RegistrationDomainRemoved { .. }
                | TenantEvent::ClaimsResyncEnded => {}
            }
            rows.change(tenant_id, change);
        }
        rows.write(tx).await
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run(&Statement::new("DELETE FROM tenant_directory", vec![]))
            .await?;
        Ok(())
    }
}
