//! Projection `organizations`: the forest with a materialized path.
//!
//! `path` is the ids from the root down to the organization itself, joined by `/`
//! (`<root>/<child>/<self>`), and `depth` its length (1 for a root). Descendants of `p` are the
//! rows whose path starts with `p.path + "/"`; ancestors are the ids of the path. A move
//! rewrites the path prefix and shifts the depth of the whole subtree in one statement.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{
    OrganizationEvent, OrganizationId, OrganizationStatus, StreamKind, TenantScopeEvent,
};
use uuid::Uuid;

use super::{enum_text, expect_one, names};
use crate::{
    Envelope, Error, Projection, Result,
    store::{Tx, on_tx},
};

/// A new row of `organizations`.
#[derive(Clone, Debug)]
pub(crate) struct OrganizationRecord {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub depth: i32,
    pub path: String,
    pub status: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

/// Where an organization sits in the forest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrganizationLocation {
    pub tenant_id: Uuid,
    pub path: String,
    pub depth: i32,
}

/// A change to one row: `Some` fields change (`parent_id: Some(None)` makes it a root);
/// version and time always do.
#[derive(Clone, Debug, Default)]
pub(crate) struct OrganizationChange {
    pub id: Uuid,
    pub name: Option<String>,
    pub status: Option<String>,
    pub parent_id: Option<Option<Uuid>>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// Keeps `organizations` (organization-stream events only).
#[derive(Clone, Copy, Debug, Default)]
pub struct OrganizationsProjection;

/// Where a new or moved organization lands under `parent` (a root when `None`).
async fn placement(
    tx: &mut Tx<'_>,
    tenant_id: Uuid,
    id: OrganizationId,
    parent: Option<OrganizationId>,
) -> Result<(String, i32)> {
    let Some(parent) = parent else {
        return Ok((id.to_string(), 1));
    };
    let location = on_tx!(tx, organization_location(parent.0))?;
    match location {
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

#[async_trait]
impl Projection for OrganizationsProjection {
    fn name(&self) -> &str {
        names::ORGANIZATIONS
    }

    fn wants(&self, kind: StreamKind) -> bool {
        kind == StreamKind::Organization
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        for envelope in events {
            let TenantScopeEvent::Organization(event) = &envelope.event else {
                continue;
            };
            let r = &envelope.recorded;
            let tenant_id = r.tenant_id.0;
            let id = event.organization_id();
            let mut change = OrganizationChange {
                id: id.0,
                version: r.sequence,
                updated_at: r.recorded_at,
                ..OrganizationChange::default()
            };
            match event {
                OrganizationEvent::OrganizationCreated {
                    name, parent_id, ..
                } => {
                    let (path, depth) = placement(tx, tenant_id, id, *parent_id).await?;
                    let record = OrganizationRecord {
                        tenant_id,
                        id: id.0,
                        parent_id: parent_id.map(|p| p.0),
                        name: name.clone(),
                        depth,
                        path,
                        status: enum_text(&OrganizationStatus::Active)?,
                        version: r.sequence,
                        created_at: r.recorded_at,
                    };
                    on_tx!(tx, insert_organization(&record))?;
                    continue;
                }
                OrganizationEvent::OrganizationUpdated { name, .. } => change.name.clone_from(name),
                OrganizationEvent::OrganizationMoved { to_parent_id, .. } => {
                    let current = on_tx!(tx, organization_location(id.0))?.ok_or_else(|| {
                        Error::Inconsistent {
                            model: names::ORGANIZATIONS,
                            message: format!("moved organization {id} is unknown"),
                        }
                    })?;
                    let (path, depth) = placement(tx, tenant_id, id, *to_parent_id).await?;
                    on_tx!(
                        tx,
                        move_subtree(tenant_id, &current.path, &path, depth - current.depth)
                    )?;
                    change.parent_id = Some(to_parent_id.map(|p| p.0));
                }
                OrganizationEvent::OrganizationDeleted { .. } => {
                    change.status = Some(enum_text(&OrganizationStatus::Deleted)?);
                }
            }
            let affected = on_tx!(tx, update_organization(&change))?;
            expect_one(affected, names::ORGANIZATIONS, || {
                format!("{} for unknown organization {id}", r.event_type)
            })?;
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        on_tx!(tx, reset_organizations())
    }
}
