//! Projection `organizations`: the forest with a materialized path.
//!
//! `path` is the ids from the root down to the organization itself, joined by `/`
//! (`<root>/<child>/<self>`), and `depth` its length (1 for a root). Descendants of `p` are the
//! rows whose path starts with `p.path + "/"`; ancestors are the ids of the path. A move
//! rewrites the path prefix and shifts the depth of the whole subtree in one statement.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{
    OrganizationEvent, OrganizationId, OrganizationStatus, StreamKind, TenantScopeEvent,
};
use uuid::Uuid;

use super::{Change, Folded, TableWrites, enum_text, keep_later, names, set_some};
use crate::{
    Envelope, Error, Projection, Result,
    sql::{Arg, Row, Statement},
    store::Tx,
};

/// A new row of `organizations`.
#[derive(Clone, Debug)]
struct OrganizationRecord {
    tenant_id: Uuid,
    parent_id: Option<Uuid>,
    name: String,
    depth: i32,
    path: String,
    status: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Where an organization sits in the forest.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Location {
    tenant_id: Uuid,
    path: String,
    depth: i32,
}

/// A change to one row: `Some` fields change (`parent_id: Some(None)` makes it a root; the
/// paths of a move are rewritten when it is read, see [`Locations::move_subtree`]); version
/// and time always do.
#[derive(Clone, Debug)]
struct OrganizationChange {
    name: Option<String>,
    status: Option<String>,
    parent_id: Option<Option<Uuid>>,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl Change for OrganizationChange {
    type Record = OrganizationRecord;
    const TABLE: TableWrites = TableWrites {
        model: names::ORGANIZATIONS,
        table: "organizations",
        insert: "organizations (tenant_id, id, parent_id, name, depth, path, status, version, \
                 created_at, updated_at)",
        change_columns: &[
            "id",
            "name",
            "status",
            "moved",
            "parent_id",
            "version",
            "updated_at",
        ],
        set: "name = COALESCE(v.name, organizations.name), \
              status = COALESCE(v.status, organizations.status), \
              parent_id = CASE WHEN v.moved THEN v.parent_id ELSE organizations.parent_id END, \
              version = v.version, updated_at = v.updated_at",
        matches: "organizations.id = v.id",
    };

    fn apply_to(self, record: &mut OrganizationRecord) {
        set_some(&mut record.name, self.name);
        set_some(&mut record.status, self.status);
        set_some(&mut record.parent_id, self.parent_id);
        record.version = self.version;
        record.updated_at = self.updated_at;
    }

    fn then(&mut self, later: OrganizationChange) {
        keep_later(&mut self.name, later.name);
        keep_later(&mut self.status, later.status);
        keep_later(&mut self.parent_id, later.parent_id);
        self.version = later.version;
        self.updated_at = later.updated_at;
    }

    fn record_values(id: Uuid, r: OrganizationRecord) -> Vec<Arg> {
        vec![
            r.tenant_id.into(),
            id.into(),
            r.parent_id.into(),
            r.name.into(),
            r.depth.into(),
            r.path.into(),
            r.status.into(),
            r.version.into(),
            r.created_at.into(),
            r.updated_at.into(),
        ]
    }

    fn change_values(id: Uuid, c: OrganizationChange) -> Vec<Arg> {
        vec![
            id.into(),
            c.name.into(),
            c.status.into(),
            c.parent_id.is_some().into(),
            c.parent_id.flatten().into(),
            c.version.into(),
            c.updated_at.into(),
        ]
    }
}

/// The locations a batch needs (parents of new organizations, moved ones), read in one
/// statement up front, and those of the organizations it creates.
#[derive(Default)]
struct Locations(HashMap<Uuid, Location>);

/// Re-roots the subtree at path $2 (the organization and its descendants) under path $3 and
/// shifts its depths by $4. Descendants are the paths in ['$2/', '$20'): '0' follows '/' in
/// byte order, and ids hold no '/'.
const MOVE_SUBTREE: &str = "UPDATE organizations \
     SET path = $3 || substr(path, length($2) + 1), depth = depth + $4 \
     WHERE tenant_id = $1 AND (path = $2 OR (path >= $2 || '/' AND path < $2 || '0'))";

impl Locations {
    /// Reads the locations of `ids` (one statement; none when `ids` is empty).
    async fn read(&mut self, tx: &mut Tx<'_>, ids: &[Uuid]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let statement = Statement::among(
            "SELECT id, tenant_id, path, depth FROM organizations WHERE id IN ({ids})",
            ids,
        );
        for row in tx.fetch(&statement).await? {
            self.0.insert(row.uuid("id")?, location(&row)?);
        }
        Ok(())
    }

    /// The location of `id`, read if not known yet.
    async fn get(&mut self, tx: &mut Tx<'_>, id: Uuid) -> Result<Option<Location>> {
        if !self.0.contains_key(&id) {
            self.read(tx, &[id]).await?;
        }
        Ok(self.0.get(&id).cloned())
    }

    /// Where a new or moved organization lands under `parent` (a root when `None`).
    async fn placement(
        &mut self,
        tx: &mut Tx<'_>,
        tenant_id: Uuid,
        id: OrganizationId,
        parent: Option<OrganizationId>,
    ) -> Result<(String, i32)> {
        let Some(parent) = parent else {
            return Ok((id.to_string(), 1));
        };
        match self.get(tx, parent.0).await? {
            Some(p) if p.tenant_id == tenant_id => Ok((format!("{}/{id}", p.path), p.depth + 1)),
            Some(_) => Err(Error::Inconsistent {
                model: names::ORGANIZATIONS,
                message: format!("parent {parent} of {id} belongs to another tenant"),
            }),
            None => Err(Error::Inconsistent {
                model: names::ORGANIZATIONS,
                message: format!("parent {parent} of {id} is unknown"),
            }),
        }
    }

    /// Moves the subtree of `id` (written already) under `to`: one statement; the known
    /// locations are forgotten, as paths under the subtree changed.
    async fn move_subtree(
        &mut self,
        tx: &mut Tx<'_>,
        tenant_id: Uuid,
        id: OrganizationId,
        to: Option<OrganizationId>,
    ) -> Result<()> {
        let current = self
            .get(tx, id.0)
            .await?
            .ok_or_else(|| Error::Inconsistent {
                model: names::ORGANIZATIONS,
                message: format!("moved organization {id} is unknown"),
            })?;
        let (path, depth) = self.placement(tx, tenant_id, id, to).await?;
        let args = vec![
            tenant_id.into(),
            current.path.into(),
            path.into(),
            (depth - current.depth).into(),
        ];
        tx.run(&Statement::new(MOVE_SUBTREE, args)).await?;
        self.0.clear();
        Ok(())
    }
}

fn location(row: &Row) -> Result<Location> {
    Ok(Location {
        tenant_id: row.uuid("tenant_id")?,
        path: row.text("path")?,
        depth: row.int32("depth")?,
    })
}

/// The organizations whose location a batch needs and does not create itself.
fn referenced(events: &[Envelope]) -> Vec<Uuid> {
    let mut created = std::collections::HashSet::new();
    let mut wanted = Vec::new();
    for envelope in events {
        let TenantScopeEvent::Organization(event) = &envelope.event else {
            continue;
        };
        match event {
            OrganizationEvent::OrganizationCreated { id, parent_id, .. } => {
                created.insert(id.0);
                wanted.extend(parent_id.map(|p| p.0));
            }
            OrganizationEvent::OrganizationMoved {
                id, to_parent_id, ..
            } => {
                wanted.push(id.0);
                wanted.extend(to_parent_id.map(|p| p.0));
            }
            _ => {}
        }
    }
    wanted.retain(|id| !created.contains(id));
    wanted.sort_unstable();
    wanted.dedup();
    wanted
}

/// Keeps `organizations` (organization-stream events only).
#[derive(Clone, Copy, Debug, Default)]
pub struct OrganizationsProjection;

#[async_trait]
impl Projection for OrganizationsProjection {
    fn name(&self) -> &str {
        names::ORGANIZATIONS
    }

    fn wants(&self, kind: StreamKind) -> bool {
        kind == StreamKind::Organization
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        let mut rows = Folded::<OrganizationChange>::default();
        let mut known = Locations::default();
        known.read(tx, &referenced(events)).await?;
        for envelope in events {
            let TenantScopeEvent::Organization(event) = &envelope.event else {
                continue;
            };
            let r = &envelope.recorded;
            let tenant_id = r.tenant_id.0;
            let id = event.organization_id();
            let mut change = OrganizationChange {
                name: None,
                status: None,
                parent_id: None,
                version: r.sequence,
                updated_at: r.recorded_at,
            };
            match event {
                OrganizationEvent::OrganizationCreated {
                    name, parent_id, ..
                } => {
                    let (path, depth) = known.placement(tx, tenant_id, id, *parent_id).await?;
                    known.0.insert(
                        id.0,
                        Location {
                            tenant_id,
                            path: path.clone(),
                            depth,
                        },
                    );
                    let record = OrganizationRecord {
                        tenant_id,
                        parent_id: parent_id.map(|p| p.0),
                        name: name.clone(),
                        depth,
                        path,
                        status: enum_text(&OrganizationStatus::Active)?,
                        version: r.sequence,
                        created_at: r.recorded_at,
                        updated_at: r.recorded_at,
                    };
                    rows.insert(id.0, record);
                    continue;
                }
                OrganizationEvent::OrganizationUpdated { name, .. } => change.name.clone_from(name),
                OrganizationEvent::OrganizationMoved { to_parent_id, .. } => {
                    // Moves are rare: what is folded so far is written first, so that the
                    // subtree statement sees every row the batch created before it.
                    std::mem::take(&mut rows).write(tx).await?;
                    known.move_subtree(tx, tenant_id, id, *to_parent_id).await?;
                    change.parent_id = Some(to_parent_id.map(|p| p.0));
                }
                OrganizationEvent::OrganizationDeleted { .. } => {
                    change.status = Some(enum_text(&OrganizationStatus::Deleted)?);
                }
            }
            rows.change(id.0, change);
        }
        rows.write(tx).await
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run(&Statement::new("DELETE FROM organizations", vec![]))
            .await?;
        Ok(())
    }
}
