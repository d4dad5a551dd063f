//! Projection `teams`: teams, and the members of live teams (a deleted team's members are
//! removed with it).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{StreamKind, TeamEvent, TeamStatus, TenantScopeEvent};
use uuid::Uuid;

use super::{enum_text, expect_one, names};
use crate::{
    Envelope, Projection, Result,
    store::{Tx, on_tx},
};

/// A new row of `teams`.
#[derive(Clone, Debug)]
pub(crate) struct TeamRecord {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub status: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

/// Keeps `teams` and `team_members` (team-stream events only).
#[derive(Clone, Copy, Debug, Default)]
pub struct TeamsProjection;

#[async_trait]
impl Projection for TeamsProjection {
    fn name(&self) -> &str {
        names::TEAMS
    }

    fn wants(&self, kind: StreamKind) -> bool {
        kind == StreamKind::Team
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        for envelope in events {
            let TenantScopeEvent::Team(event) = &envelope.event else {
                continue;
            };
            let r = &envelope.recorded;
            let tenant_id = r.tenant_id.0;
            let id = event.team_id().0;
            let mut name = None;
            let mut status = None;
            match event {
                TeamEvent::TeamCreated {
                    organization_id,
                    name,
                    ..
                } => {
                    let record = TeamRecord {
                        tenant_id,
                        id,
                        organization_id: organization_id.0,
                        name: name.clone(),
                        status: enum_text(&TeamStatus::Active)?,
                        version: r.sequence,
                        created_at: r.recorded_at,
                    };
                    on_tx!(tx, insert_team(&record))?;
                    continue;
                }
                TeamEvent::TeamUpdated { name: new, .. } => name.clone_from(new),
                TeamEvent::TeamDeleted { .. } => {
                    status = Some(enum_text(&TeamStatus::Deleted)?);
                    on_tx!(tx, clear_team_members(id))?;
                }
                TeamEvent::MembershipAdded { user_id, role, .. } => {
                    let role = enum_text(role)?;
                    on_tx!(tx, upsert_team_member(tenant_id, id, user_id.0, &role))?;
                }
                TeamEvent::MembershipRemoved { user_id, .. } => {
                    on_tx!(tx, remove_team_member(id, user_id.0))?;
                }
            }
            let affected = on_tx!(
                tx,
                update_team(
                    id,
                    name.as_deref(),
                    status.as_deref(),
                    r.sequence,
                    r.recorded_at
                )
            )?;
            expect_one(affected, names::TEAMS, || {
                format!("{} for unknown team {id}", r.event_type)
            })?;
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        on_tx!(tx, reset_teams())
    }
}
