//! Projection `teams`: teams, and the members of live teams (a deleted team's members are
//! removed with it). A batch is folded per row, then written in bulk (see `users`).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{StreamKind, TeamEvent, TeamStatus, TenantScopeEvent};
use uuid::Uuid;

use super::{
    Change, Folded, TableWrites, enum_text, keep_later, names, puts_and_deletes, set_some,
};
use crate::{
    Envelope, Projection, Result,
    sql::{Arg, Statement, delete_rows, insert_rows},
    store::Tx,
};

/// A new row of `teams`.
#[derive(Clone, Debug)]
struct TeamRecord {
    tenant_id: Uuid,
    organization_id: Uuid,
    name: String,
    status: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A change to an existing row: `Some` fields change; version and time always do.
#[derive(Clone, Debug)]
struct TeamChange {
    name: Option<String>,
    status: Option<String>,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl Change for TeamChange {
    type Record = TeamRecord;
    const TABLE: TableWrites = TableWrites {
        model: names::TEAMS,
        table: "teams",
        insert: "teams (tenant_id, id, organization_id, name, status, version, created_at, \
                 updated_at)",
        change_columns: &["id", "name", "status", "version", "updated_at"],
        set: "name = COALESCE(v.name, teams.name), \
              status = COALESCE(v.status, teams.status), \
              version = v.version, updated_at = v.updated_at",
        matches: "teams.id = v.id",
    };

    fn apply_to(self, record: &mut TeamRecord) {
        set_some(&mut record.name, self.name);
        set_some(&mut record.status, self.status);
        record.version = self.version;
        record.updated_at = self.updated_at;
    }

    fn then(&mut self, later: TeamChange) {
        keep_later(&mut self.name, later.name);
        keep_later(&mut self.status, later.status);
        self.version = later.version;
        self.updated_at = later.updated_at;
    }

    fn record_values(id: Uuid, r: TeamRecord) -> Vec<Arg> {
        vec![
            r.tenant_id.into(),
            id.into(),
            r.organization_id.into(),
            r.name.into(),
            r.status.into(),
            r.version.into(),
            r.created_at.into(),
            r.updated_at.into(),
        ]
    }

    fn change_values(id: Uuid, c: TeamChange) -> Vec<Arg> {
        vec![
            id.into(),
            c.name.into(),
            c.status.into(),
            c.version.into(),
            c.updated_at.into(),
        ]
    }
}

/// The writes of a batch, folded per row.
#[derive(Default)]
struct Writes {
    rows: Folded<TeamChange>,
    /// Deleted teams: their members go (before the member changes below are written).
    cleared: BTreeSet<Uuid>,
    /// `(team, user)` → `Some((tenant, role))` to add or change, `None` to remove.
    members: BTreeMap<(Uuid, Uuid), Option<(Uuid, String)>>,
}

impl Writes {
    async fn write(self, tx: &mut Tx<'_>) -> Result<()> {
        self.rows.write(tx).await?;
        let cleared = self
            .cleared
            .into_iter()
            .map(|team| vec![Arg::from(team)])
            .collect();
        tx.run_all(&delete_rows("team_members", "team_id", cleared))
            .await?;
        let (upserts, removals) = puts_and_deletes(self.members);
        let upserts = upserts
            .into_iter()
            .map(|((team, user), (tenant, role))| {
                vec![Arg::from(tenant), team.into(), user.into(), role.into()]
            })
            .collect();
        tx.run_all(&insert_rows(MEMBERS_INSERT, MEMBERS_UPSERT, upserts))
            .await?;
        let removals = removals
            .into_iter()
            .map(|(team, user)| vec![Arg::from(team), user.into()])
            .collect();
        tx.run_all(&delete_rows("team_members", "team_id, user_id", removals))
            .await?;
        Ok(())
    }
}

const MEMBERS_INSERT: &str = "team_members (tenant_id, team_id, user_id, role)";
const MEMBERS_UPSERT: &str = "ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role";

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
        let mut writes = Writes::default();
        for envelope in events {
            let TenantScopeEvent::Team(event) = &envelope.event else {
                continue;
            };
            let r = &envelope.recorded;
            let tenant_id = r.tenant_id.0;
            let id = event.team_id().0;
            let mut change = TeamChange {
                name: None,
                status: None,
                version: r.sequence,
                updated_at: r.recorded_at,
            };
            match event {
                TeamEvent::TeamCreated {
                    organization_id,
                    name,
                    ..
                } => {
                    let record = TeamRecord {
                        tenant_id,
                        organization_id: organization_id.0,
                        name: name.clone(),
                        status: enum_text(&TeamStatus::Active)?,
                        version: r.sequence,
                        created_at: r.recorded_at,
                        updated_at: r.recorded_at,
                    };
                    writes.rows.insert(id, record);
                    continue;
                }
                TeamEvent::TeamUpdated { name, .. } => change.name.clone_from(name),
                TeamEvent::TeamDeleted { .. } => {
                    change.status = Some(enum_text(&TeamStatus::Deleted)?);
                    writes.members.retain(|(team, _), _| *team != id);
                    writes.cleared.insert(id);
                }
                TeamEvent::MembershipAdded { user_id, role, .. } => {
                    let member = (tenant_id, enum_text(role)?);
                    writes.members.insert((id, user_id.0), Some(member));
                }
                TeamEvent::MembershipRemoved { user_id, .. } => {
                    writes.members.insert((id, user_id.0), None);
                }
            }
            writes.rows.change(id, change);
        }
        writes.write(tx).await
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run(&Statement::new("DELETE FROM team_members", vec![]))
            .await?;
        tx.run(&Statement::new("DELETE FROM teams", vec![])).await?;
        Ok(())
    }
}
