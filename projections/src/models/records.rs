//! Projection `records`: a tenant's directory records (departments, locations, contacts,
//! partitions and partition groups),
//! owned by the tenant or by one of its clients, with their fields as the domain's
//! `RecordFields` JSON and, for the list query, their kind, owner, `active`, contact type and
//! name in columns of their own.
//!
//! A batch is folded per row, then written in bulk (see `users`): a record created and changed
//! in the same batch is one insert, several changes of one record are one update (every
//! `RecordUpdated` carries the whole state after it), and a record created and deleted in the
//! same batch writes nothing. A batch of record events costs at most one `INSERT`, one
//! `UPDATE` and one `DELETE` (each split past 30,000 values), plus one `DELETE` when it erases
//! tenants.
//!
//! Deleted records leave the table (no tombstone), and with them a deleted contact's personal
//! values (its name, email and phone, which the runner hands over opened). `TenantErased`
//! deletes every contact row of the tenant, so no plaintext of an erased person stays. (A
//! rebuild reads their values from the journal as "" already: their keys are gone.)

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::{
    domain::{RecordEvent, RecordFields, RecordKind, StreamKind, TenantEvent, TenantScopeEvent},
    journal::RecordedEvent,
};
use uuid::Uuid;

use super::{Change, Folded, TableWrites, names, update_existing};
use crate::{
    Envelope, Error, Projection, Result,
    sql::{Arg, Statement, delete_rows},
    store::Tx,
};

/// A new row of `records`.
#[derive(Clone, Debug)]
struct RecordRow {
    tenant_id: Uuid,
    kind: &'static str,
    client_id: Option<Uuid>,
    state: RecordState,
    created_at: DateTime<Utc>,
}

/// What a change sets: the record's whole state after it (fields and `active`), its version
/// and time.
#[derive(Clone, Debug)]
struct RecordState {
    active: bool,
    contact_type: String,
    name: String,
    /// `RecordFields` as JSON.
    fields: String,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl RecordState {
    fn new(fields: &RecordFields, active: bool, recorded: &RecordedEvent) -> Result<Self> {
        let (contact_type, name) = match fields {
            RecordFields::Department(d) => (String::new(), d.name.clone()),
            RecordFields::Location(l) => (String::new(), l.name.clone()),
            RecordFields::Contact(c) => (c.contact_type.clone(), c.name.clone()),
            RecordFields::Partition(p) => (String::new(), p.name.clone()),
            RecordFields::PartitionGroup(g) => (String::new(), g.name.clone()),
        };
        let fields = serde_json::to_string(fields)
            .map_err(|e| Error::Corrupt(format!("cannot encode record fields: {e}")))?;
        Ok(Self {
            active,
            contact_type,
            name,
            fields,
            version: recorded.sequence,
            updated_at: recorded.recorded_at,
        })
    }
}

impl Change for RecordState {
    type Record = RecordRow;
    const TABLE: TableWrites = TableWrites {
        model: names::RECORDS,
        table: "records",
        insert: "records (tenant_id, id, kind, client_id, active, contact_type, name, fields, \
                 version, created_at, updated_at)",
        change_columns: &[
            "id",
            "active",
            "contact_type",
            "name",
            "fields",
            "version",
            "updated_at",
        ],
        set: "active = v.active, contact_type = v.contact_type, name = v.name, \
              fields = v.fields, version = v.version, updated_at = v.updated_at",
        matches: "records.id = v.id",
    };

    fn apply_to(self, record: &mut RecordRow) {
        record.state = self;
    }

    fn then(&mut self, later: RecordState) {
        *self = later;
    }

    fn record_values(id: Uuid, r: RecordRow) -> Vec<Arg> {
        vec![
            r.tenant_id.into(),
            id.into(),
            r.kind.into(),
            r.client_id.into(),
            r.state.active.into(),
            r.state.contact_type.into(),
            r.state.name.into(),
            r.state.fields.into(),
            r.state.version.into(),
            r.created_at.into(),
            r.state.updated_at.into(),
        ]
    }

    fn change_values(id: Uuid, c: RecordState) -> Vec<Arg> {
        vec![
            id.into(),
            c.active.into(),
            c.contact_type.into(),
            c.name.into(),
            c.fields.into(),
            c.version.into(),
            c.updated_at.into(),
        ]
    }
}

/// The writes of a batch, folded per row.
#[derive(Default)]
struct Writes {
    rows: Folded<RecordState>,
    /// Rows that existed before the batch and that it deletes.
    deleted: BTreeSet<Uuid>,
    /// Tenants erased in this batch (their contact rows are deleted after the rows above).
    erased_tenants: BTreeSet<Uuid>,
}

impl Writes {
    fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.deleted.is_empty() && self.erased_tenants.is_empty()
    }

    /// Whether an event of `tenant` about `record` must wait until what is folded is written:
    /// it follows the erasure of its tenant, or the deletion of that id, in this batch (the
    /// domain refuses both, so this only keeps the writes in event order).
    fn must_write_before(&self, tenant: Uuid, record: Uuid) -> bool {
        self.erased_tenants.contains(&tenant) || self.deleted.contains(&record)
    }

    /// Deletes a record: one created in this batch is never written.
    fn delete(&mut self, id: Uuid) {
        if self.rows.inserts.remove(&id).is_none() {
            self.rows.changes.remove(&id);
            self.deleted.insert(id);
        }
    }

    async fn write(self, tx: &mut Tx<'_>) -> Result<()> {
        self.rows.write(tx).await?;
        let expected = self.deleted.len();
        let deleted = self
            .deleted
            .into_iter()
            .map(|id| vec![Arg::from(id)])
            .collect();
        update_existing(
            tx,
            names::RECORDS,
            &delete_rows("records", "id", deleted),
            expected,
            || "deletions of records".to_owned(),
        )
        .await?;
        let contact = RecordKind::Contact.as_str();
        let erased = self
            .erased_tenants
            .into_iter()
            .map(|tenant| vec![Arg::from(tenant), contact.into()])
            .collect();
        tx.run_all(&delete_rows("records", "tenant_id, kind", erased))
            .await?;
        Ok(())
    }
}

/// Keeps `records` (department-, location- and contact-stream events, and `TenantErased` of
/// the tenant stream).
#[derive(Clone, Copy, Debug, Default)]
pub struct RecordsProjection;

#[async_trait]
impl Projection for RecordsProjection {
    fn name(&self) -> &str {
        names::RECORDS
    }

    fn wants(&self, kind: StreamKind) -> bool {
        kind == StreamKind::Tenant || RecordKind::of_stream(kind).is_some()
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        let mut writes = Writes::default();
        for envelope in events {
            let r = &envelope.recorded;
            let tenant_id = r.tenant_id.0;
            let event = match &envelope.event {
                TenantScopeEvent::Record(event) => event,
                TenantScopeEvent::Tenant(TenantEvent::TenantErased) => {
                    writes.erased_tenants.insert(tenant_id);
                    continue;
                }
                _ => continue,
            };
            let id = event.record_id().0;
            if writes.must_write_before(tenant_id, id) {
                std::mem::take(&mut writes).write(tx).await?;
            }
            match event {
                RecordEvent::RecordCreated {
                    client_id, fields, ..
                } => {
                    let row = RecordRow {
                        tenant_id,
                        kind: fields.kind().as_str(),
                        client_id: client_id.map(|c| c.0),
                        state: RecordState::new(fields, true, r)?,
                        created_at: r.recorded_at,
                    };
                    writes.rows.insert(id, row);
                }
                RecordEvent::RecordUpdated { fields, active, .. } => {
                    writes
                        .rows
                        .change(id, RecordState::new(fields, *active, r)?);
                }
                RecordEvent::RecordDeleted { .. } => writes.delete(id),
            }
        }
        if !writes.is_empty() {
            writes.write(tx).await?;
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run(&Statement::new("DELETE FROM records", vec![]))
            .await?;
        Ok(())
    }
}
