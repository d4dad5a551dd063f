//! Projection `analytics` (issue 20): the history of tenants, clients, organizations, teams,
//! users, departments, locations and contacts for a warehouse. One row of `analytics_changes`
//! per change, with the entity's whole state after it; `ExportChanges` streams the rows.
//!
//! **A change is an event of the entity's own stream**, so an entity's rows are its versions
//! 1, 2, 3… without gaps (a unique index says so):
//!
//! | operation | events |
//! |-----------|--------|
//! | `create`  | `TenantCreated`, `OrganizationCreated`, `TeamCreated`, `UserInvited`, `UserRegistered`, `ClientCreated`, `DepartmentCreated`, `LocationCreated`, `ContactCreated` |
//! | `delete`  | `TenantDeleted`, `OrganizationDeleted`, `TeamDeleted`, `ClientDeleted`, `DepartmentDeleted`, `LocationDeleted`, `ContactDeleted` (which also erases the contact) |
//! | `erase`   | `UserErased`, `TenantErased` |
//! | `update`  | every other event of those streams (memberships, roles and invitations are events of the user's or team's stream) |
//!
//! Not changes: events of other streams (roles, API keys, partitions and partition groups,
//! a user's claims stream), and what an event of one stream does to another entity's state
//! without an event there: `TenantErased` erases the tenant's people (one `erase` row, the
//! tenant's; their earlier rows are scrubbed), and a move re-levels the depth of the moved
//! organization's subtree (kept in the latest states, so the next row of each is right).
//!
//! **The state** is the domain's own: each event is folded into the entity's latest state
//! (`analytics_entities`) with the domain's per-entity functions (`Tenant::created` /
//! `Tenant::evolve`, and the same for the other kinds; `Organization::subtree_depths` for a
//! move), the very code `TenantScope::apply` runs, and the row holds that state as JSON
//! without the hashes of issued secrets (as Kafka publishes events) and without what other
//! streams keep (`claims_version`, `claims_sync`). A folded version that is not the event's
//! sequence stops the projection (a gap is never papered over).
//!
//! **Positions** number the rows 1, 2, 3… in the order the projection applies events (the
//! tail's commit order). A batch reads the last position and writes after it; two writers
//! cannot interleave, because every batch first moves its checkpoint under a row lock (see
//! `runner`). A rebuild numbers the same events the same way, so an export's resume position
//! stays valid.
//!
//! **Erasure** (SPEC §6): values of erased people reach projections as "" already. For what
//! earlier batches wrote, `UserErased` blanks the person's values in every row and latest
//! state of theirs (and the tenant's onboarding owner email, when they were the owner), a
//! contact's deletion its name, email and phone, and `TenantErased` every personal value of
//! the tenant's rows (users, contacts, the tenant's own) — see `personal`. They run after the
//! batch's own writes, so rows of the same batch are scrubbed too.
//!
//! **Cost per batch**: one read of the last position, one read of the latest states the batch
//! folds into (plus a tenant's organizations when one moves), then one `INSERT` of rows, one
//! `INSERT` and one `UPDATE` of latest states (each split past 30,000 values).

mod entity;
mod personal;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use engine::domain::{
    Organization, OrganizationEvent, OrganizationId, StreamKind, TenantEvent, TenantId,
    TenantScopeEvent, UserEvent,
};
use uuid::Uuid;

use super::{Change, Folded, TableWrites, names};
use crate::{
    Envelope, Error, Projection, Result,
    query::AnalyticsKind,
    sql::{Arg, Row, Statement, insert_rows},
    store::Tx,
};
use entity::{Entity, fold, json_text, operation};
use personal::Erasure;

/// Keeps `analytics_changes` and `analytics_entities` (the history's streams).
#[derive(Clone, Copy, Debug, Default)]
pub struct AnalyticsProjection;

#[async_trait]
impl Projection for AnalyticsProjection {
    fn name(&self) -> &str {
        names::ANALYTICS
    }

    fn wants(&self, kind: StreamKind) -> bool {
        AnalyticsKind::of_stream(kind).is_some()
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        let events: Vec<&Envelope> = events
            .iter()
            .filter(|e| AnalyticsKind::of_stream(e.recorded.stream.kind).is_some())
            .filter(|e| operation(&e.event).is_some())
            .collect();
        if events.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::load(tx, &events).await?;
        for envelope in events {
            batch.fold(envelope)?;
        }
        batch.write(tx).await
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run(&Statement::new("DELETE FROM analytics_changes", vec![]))
            .await?;
        tx.run(&Statement::new("DELETE FROM analytics_entities", vec![]))
            .await?;
        Ok(())
    }
}

/// The latest state of an entity, as a batch folds it.
struct Latest {
    kind: AnalyticsKind,
    tenant: TenantId,
    entity: Entity,
    /// It has a row in `analytics_entities` already.
    stored: bool,
    /// The batch changed it.
    changed: bool,
    /// Its stored JSON as the batch's last event made it (`None` when a move re-levelled it
    /// since, or the batch has not changed it): written without encoding it again.
    text: Option<String>,
}

/// One batch: the latest states it folds into, and what it writes.
struct Batch {
    latest: BTreeMap<Uuid, Latest>,
    /// The position of the last row so far.
    position: i64,
    /// New rows of `analytics_changes`.
    rows: Vec<Vec<Arg>>,
    /// Erasures to follow once the rows and states are written.
    erasures: Vec<Erasure>,
}

impl Batch {
    /// The last position, and the latest states `events` fold into: their entities', the
    /// parents of created organizations, and every organization of a tenant where one moves.
    async fn load(tx: &mut Tx<'_>, events: &[&Envelope]) -> Result<Self> {
        let mut ids = BTreeSet::new();
        let mut forests = BTreeSet::new();
        for envelope in events {
            ids.insert(envelope.recorded.stream.id);
            match &envelope.event {
                TenantScopeEvent::Organization(OrganizationEvent::OrganizationCreated {
                    parent_id: Some(parent),
                    ..
                }) => {
                    ids.insert(parent.0);
                }
                TenantScopeEvent::Organization(OrganizationEvent::OrganizationMoved { .. }) => {
                    forests.insert(envelope.recorded.tenant_id.0);
                }
                _ => {}
            }
        }
        let rows = tx
            .fetch(&Statement::new(
                "SELECT COALESCE(MAX(position), 0) AS position FROM analytics_changes",
                vec![],
            ))
            .await?;
        let position = rows.first().map_or(Ok(0), |r| r.int("position"))?;
        let mut latest = BTreeMap::new();
        let ids: Vec<Uuid> = ids.into_iter().collect();
        // Below both stores' limits on values per statement.
        for chunk in ids.chunks(10_000) {
            let statement = Statement::among(
                "SELECT id, tenant_id, entity_kind, state FROM analytics_entities \
                 WHERE id IN ({ids})",
                chunk,
            );
            for row in tx.fetch(&statement).await? {
                let (id, state) = stored(&row)?;
                latest.insert(id, state);
            }
        }
        for tenant in forests {
            let statement = Statement::new(
                "SELECT id, tenant_id, entity_kind, state FROM analytics_entities \
                 WHERE tenant_id = $1 AND entity_kind = $2",
                vec![tenant.into(), AnalyticsKind::Organization.as_str().into()],
            );
            for row in tx.fetch(&statement).await? {
                let (id, state) = stored(&row)?;
                latest.entry(id).or_insert(state);
            }
        }
        Ok(Self {
            latest,
            position,
            rows: Vec::new(),
            erasures: Vec::new(),
        })
    }

    /// The depth of an organization of `tenant` as folded so far (0 for none).
    fn depth_of(&self, tenant: TenantId, id: Option<OrganizationId>) -> usize {
        id.and_then(|id| self.latest.get(&id.0))
            .filter(|l| l.tenant == tenant)
            .and_then(|l| l.entity.organization())
            .map_or(0, |o| o.depth)
    }

    /// Folds one event into its entity's latest state and records the row of the change.
    fn fold(&mut self, envelope: &Envelope) -> Result<()> {
        let r = &envelope.recorded;
        let (Some(kind), Some(op)) = (
            AnalyticsKind::of_stream(r.stream.kind),
            operation(&envelope.event),
        ) else {
            return Ok(());
        };
        let tenant = r.tenant_id;
        let id = r.stream.id;
        if let TenantScopeEvent::Organization(OrganizationEvent::OrganizationMoved {
            to_parent_id,
            ..
        }) = &envelope.event
        {
            self.relevel(tenant, OrganizationId(id), *to_parent_id);
        }
        let previous = self.latest.remove(&id);
        let stored = previous.as_ref().is_some_and(|l| l.stored);
        let depth = |parent: Option<OrganizationId>| self.depth_of(tenant, parent);
        let entity = fold(
            previous.map(|l| l.entity),
            &envelope.event,
            tenant,
            r.recorded_at,
            &depth,
        )?;
        if entity.version() != r.sequence {
            return Err(Error::Inconsistent {
                model: names::ANALYTICS,
                message: format!(
                    "{} {id}: the history holds version {} before event {} at sequence {}",
                    kind.as_str(),
                    entity.version() - 1,
                    r.event_type,
                    r.sequence
                ),
            });
        }
        let texts = entity.texts()?;
        self.position += 1;
        self.rows.push(vec![
            self.position.into(),
            tenant.0.into(),
            kind.as_str().into(),
            id.into(),
            op.as_str().into(),
            r.sequence.into(),
            r.event_type.clone().into(),
            texts.row.into(),
            r.recorded_at.into(),
        ]);
        self.latest.insert(
            id,
            Latest {
                kind,
                tenant,
                entity,
                stored,
                changed: true,
                text: Some(texts.stored),
            },
        );
        match &envelope.event {
            TenantScopeEvent::User(UserEvent::UserErased { .. }) => {
                self.erasures.push(Erasure::Person {
                    tenant: tenant.0,
                    subject: id,
                });
            }
            TenantScopeEvent::Record(e) if e.erases_contact() => {
                self.erasures.push(Erasure::Person {
                    tenant: tenant.0,
                    subject: id,
                });
            }
            TenantScopeEvent::Tenant(TenantEvent::TenantErased) => {
                self.erasures.push(Erasure::Tenant(tenant.0));
            }
            _ => {}
        }
        Ok(())
    }

    /// Before `org` moves under `parent`: the depths of its subtree, as the domain's tree
    /// sets them (no rows: their streams have no event).
    fn relevel(&mut self, tenant: TenantId, org: OrganizationId, parent: Option<OrganizationId>) {
        let depth = self.depth_of(tenant, parent) + 1;
        let forest = self
            .latest
            .values()
            .filter(|l| l.tenant == tenant)
            .filter_map(|l| l.entity.organization());
        for (id, depth) in Organization::subtree_depths(forest, org, depth) {
            if let Some(latest) = self.latest.get_mut(&id.0)
                && let Some(o) = latest.entity.organization_mut()
                && o.depth != depth
            {
                o.depth = depth;
                latest.changed = true;
                latest.text = None;
            }
        }
    }

    async fn write(self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run_all(&insert_rows(CHANGES_INSERT, "", self.rows))
            .await?;
        let mut states = Folded::<LatestState>::default();
        for (id, latest) in self.latest {
            if !latest.changed {
                continue;
            }
            let state = LatestState {
                version: latest.entity.version(),
                state: match latest.text {
                    Some(text) => text,
                    None => json_text(&latest.entity.stored()?)?,
                },
            };
            if latest.stored {
                states.change(id, state);
            } else {
                states.insert(
                    id,
                    LatestRow {
                        tenant: latest.tenant.0,
                        kind: latest.kind,
                        state,
                    },
                );
            }
        }
        states.write(tx).await?;
        for erasure in self.erasures {
            erasure.run(tx).await?;
        }
        Ok(())
    }
}

const CHANGES_INSERT: &str = "analytics_changes (position, tenant_id, entity_kind, entity_id, \
     operation, version, event_type, state, recorded_at)";

/// A latest state read back: its id and what the batch folds into.
fn stored(row: &Row) -> Result<(Uuid, Latest)> {
    let kind = row.text("entity_kind")?;
    let kind = AnalyticsKind::parse(&kind).ok_or_else(|| {
        Error::Corrupt(format!(
            "analytics_entities.entity_kind {kind:?} is unknown"
        ))
    })?;
    let latest = Latest {
        kind,
        tenant: TenantId(row.uuid("tenant_id")?),
        entity: Entity::from_stored(kind, &row.text("state")?)?,
        stored: true,
        changed: false,
        text: None,
    };
    Ok((row.uuid("id")?, latest))
}

/// A new row of `analytics_entities`.
struct LatestRow {
    tenant: Uuid,
    kind: AnalyticsKind,
    state: LatestState,
}

/// What a change of an entity's latest state sets.
struct LatestState {
    version: i64,
    /// The stored JSON ([`Entity::stored`]).
    state: String,
}

impl Change for LatestState {
    type Record = LatestRow;
    const TABLE: TableWrites = TableWrites {
        model: names::ANALYTICS,
        table: "analytics_entities",
        insert: "analytics_entities (id, tenant_id, entity_kind, version, state)",
        change_columns: &["id", "version", "state"],
        set: "version = v.version, state = v.state",
        matches: "analytics_entities.id = v.id",
    };

    fn apply_to(self, record: &mut LatestRow) {
        record.state = self;
    }

    fn then(&mut self, later: LatestState) {
        *self = later;
    }

    fn record_values(id: Uuid, r: LatestRow) -> Vec<Arg> {
        vec![
            id.into(),
            r.tenant.into(),
            r.kind.as_str().into(),
            r.state.version.into(),
            r.state.state.into(),
        ]
    }

    fn change_values(id: Uuid, c: LatestState) -> Vec<Arg> {
        vec![id.into(), c.version.into(), c.state.into()]
    }
}
