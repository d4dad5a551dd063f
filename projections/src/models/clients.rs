//! Projection `clients`: a tenant's clients, deleted ones kept as tombstones, with the tenant
//! provisioned for each (set by `ClientTenantProvisioned`, cleared by
//! `ClientTenantProvisioningFailed`). The business profile is not stored. A batch is folded
//! per row, then written in bulk (see `users`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{ClientEvent, ClientStatus, StreamKind, TenantScopeEvent};
use uuid::Uuid;

use super::{Change, Folded, TableWrites, enum_text, keep_later, names, set_some};
use crate::{
    Envelope, Projection, Result,
    sql::{Arg, Statement},
    store::Tx,
};

/// A new row of `clients`.
#[derive(Clone, Debug)]
struct ClientRecord {
    tenant_id: Uuid,
    name: String,
    external_id: String,
    status: String,
    provisioned_tenant_id: Option<Uuid>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A change to an existing row: `Some` fields change; version and time always do.
#[derive(Clone, Debug)]
struct ClientChange {
    name: Option<String>,
    external_id: Option<String>,
    status: Option<String>,
    /// `Some(tenant)` links a provisioned tenant, `Some(None)` drops the link.
    provisioned: Option<Option<Uuid>>,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl Change for ClientChange {
    type Record = ClientRecord;
    const TABLE: TableWrites = TableWrites {
        model: names::CLIENTS,
        table: "clients",
        insert: "clients (tenant_id, id, name, external_id, status, provisioned_tenant_id, \
                 version, created_at, updated_at)",
        change_columns: &[
            "id",
            "name",
            "external_id",
            "status",
            "set_provisioned",
            "provisioned_tenant_id",
            "version",
            "updated_at",
        ],
        set: "name = COALESCE(v.name, clients.name), \
              external_id = COALESCE(v.external_id, clients.external_id), \
              status = COALESCE(v.status, clients.status), \
              provisioned_tenant_id = CASE WHEN v.set_provisioned \
                  THEN v.provisioned_tenant_id ELSE clients.provisioned_tenant_id END, \
              version = v.version, updated_at = v.updated_at",
        matches: "clients.id = v.id",
    };

    fn apply_to(self, record: &mut ClientRecord) {
        set_some(&mut record.name, self.name);
        set_some(&mut record.external_id, self.external_id);
        set_some(&mut record.status, self.status);
        set_some(&mut record.provisioned_tenant_id, self.provisioned);
        record.version = self.version;
        record.updated_at = self.updated_at;
    }

    fn then(&mut self, later: ClientChange) {
        keep_later(&mut self.name, later.name);
        keep_later(&mut self.external_id, later.external_id);
        keep_later(&mut self.status, later.status);
        keep_later(&mut self.provisioned, later.provisioned);
        self.version = later.version;
        self.updated_at = later.updated_at;
    }

    fn record_values(id: Uuid, r: ClientRecord) -> Vec<Arg> {
        vec![
            r.tenant_id.into(),
            id.into(),
            r.name.into(),
            r.external_id.into(),
            r.status.into(),
            r.provisioned_tenant_id.into(),
            r.version.into(),
            r.created_at.into(),
            r.updated_at.into(),
        ]
    }

    fn change_values(id: Uuid, c: ClientChange) -> Vec<Arg> {
        vec![
            id.into(),
            c.name.into(),
            c.external_id.into(),
            c.status.into(),
            Arg::Bool(c.provisioned.is_some()),
            c.provisioned.flatten().into(),
            c.version.into(),
            c.updated_at.into(),
        ]
    }
}

/// Keeps `clients` (client-stream events only).
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientsProjection;

#[async_trait]
impl Projection for ClientsProjection {
    fn name(&self) -> &str {
        names::CLIENTS
    }

    fn wants(&self, kind: StreamKind) -> bool {
        kind == StreamKind::Client
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        let mut rows = Folded::<ClientChange>::default();
        for envelope in events {
            let TenantScopeEvent::Client(event) = &envelope.event else {
                continue;
            };
            let r = &envelope.recorded;
            let id = event.client_id().0;
            let mut change = ClientChange {
                name: None,
                external_id: None,
                status: None,
                provisioned: None,
                version: r.sequence,
                updated_at: r.recorded_at,
            };
            let status = match event {
                ClientEvent::ClientCreated {
                    name, external_id, ..
                } => {
                    let record = ClientRecord {
                        tenant_id: r.tenant_id.0,
                        name: name.clone(),
                        external_id: external_id.clone(),
                        status: enum_text(&ClientStatus::Active)?,
                        provisioned_tenant_id: None,
                        version: r.sequence,
                        created_at: r.recorded_at,
                        updated_at: r.recorded_at,
                    };
                    rows.insert(id, record);
                    continue;
                }
                ClientEvent::ClientUpdated {
                    name, external_id, ..
                } => {
                    change.name.clone_from(name);
                    change.external_id.clone_from(external_id);
                    None
                }
                ClientEvent::ClientDisabled { .. } => Some(ClientStatus::Disabled),
                ClientEvent::ClientEnabled { .. } => Some(ClientStatus::Active),
                ClientEvent::ClientDeleted { .. } => Some(ClientStatus::Deleted),
                ClientEvent::ClientTenantProvisioned { tenant, .. } => {
                    change.provisioned = Some(Some(tenant.tenant_id.0));
                    None
                }
                // Recorded only while the client still names that tenant.
                ClientEvent::ClientTenantProvisioningFailed { .. } => {
                    change.provisioned = Some(None);
                    None
                }
            };
            change.status = status.as_ref().map(enum_text).transpose()?;
            rows.change(id, change);
        }
        rows.write(tx).await
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run(&Statement::new("DELETE FROM clients", vec![]))
            .await?;
        Ok(())
    }
}
