//! SQLite statements of the read-model queries.

use chrono::{DateTime, Utc};
use engine::{
    domain::{OrganizationId, TeamId, TenantId, UserId},
    journal::RecordedEvent,
};
use sqlx::{Row, SqlitePool, sqlite::SqliteRow};
use uuid::{Uuid, fmt::Hyphenated};

use super::writes::micros;
use crate::{
    Error, Result,
    models::parse_enum,
    query::{
        OrganizationEntry, RoleAssignmentEntry, TeamEntry, TeamMemberEntry, TenantEntry, UserEntry,
        decode::{self, EventColumns},
        params::{
            AssignmentParams, AuditParams, AuditScope, OrganizationParams, TeamMemberParams,
            TeamParams, TenantParams, UserParams,
        },
    },
};

/// A UUID column (hyphenated text).
fn uuid(row: &SqliteRow, column: &str) -> Result<Uuid> {
    Ok(row.try_get::<Hyphenated, _>(column)?.into_uuid())
}

/// A nullable UUID column.
fn optional_uuid(row: &SqliteRow, column: &str) -> Result<Option<Uuid>> {
    Ok(row
        .try_get::<Option<Hyphenated>, _>(column)?
        .map(Hyphenated::into_uuid))
}

/// A timestamp column (integer microseconds).
fn timestamp(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>> {
    let stored: i64 = row.try_get(column)?;
    DateTime::from_timestamp_micros(stored)
        .ok_or_else(|| Error::Corrupt(format!("{column} is out of range: {stored}")))
}

/// A JSON column (text).
fn json(row: &SqliteRow, column: &str) -> Result<serde_json::Value> {
    let stored: &str = row.try_get(column)?;
    serde_json::from_str(stored).map_err(|e| Error::Corrupt(format!("{column} is not JSON: {e}")))
}

/// A UUID as stored.
fn text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// A JSON array of ids, for `json_each`.
fn ids_json(ids: &[Uuid]) -> Result<String> {
    serde_json::to_string(&ids.iter().map(|id| text(*id)).collect::<Vec<_>>())
        .map_err(|e| Error::Corrupt(format!("cannot encode ids: {e}")))
}

fn tenant(row: &SqliteRow) -> Result<TenantEntry> {
    Ok(TenantEntry {
        tenant_id: TenantId(uuid(row, "tenant_id")?),
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        status: parse_enum(row.try_get("status")?, "tenant_directory.status")?,
        plan: parse_enum(row.try_get("plan")?, "tenant_directory.plan")?,
        kind: parse_enum(row.try_get("kind")?, "tenant_directory.kind")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
        version: row.try_get("version")?,
    })
}

fn organization(row: &SqliteRow) -> Result<OrganizationEntry> {
    let parent = optional_uuid(row, "parent_id")?;
    Ok(OrganizationEntry {
        tenant_id: TenantId(uuid(row, "tenant_id")?),
        id: OrganizationId(uuid(row, "id")?),
        parent_id: parent.map(OrganizationId),
        name: row.try_get("name")?,
        depth: row.try_get("depth")?,
        path: decode::organization_path(row.try_get("path")?)?,
        status: parse_enum(row.try_get("status")?, "organizations.status")?,
        version: row.try_get("version")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

fn team(row: &SqliteRow) -> Result<TeamEntry> {
    Ok(TeamEntry {
        tenant_id: TenantId(uuid(row, "tenant_id")?),
        id: TeamId(uuid(row, "id")?),
        organization_id: OrganizationId(uuid(row, "organization_id")?),
        name: row.try_get("name")?,
        status: parse_enum(row.try_get("status")?, "teams.status")?,
        version: row.try_get("version")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

fn event(row: &SqliteRow) -> Result<RecordedEvent> {
    decode::event(EventColumns {
        position: row.try_get("global_position")?,
        transaction_id: row.try_get("transaction_id")?,
        tenant_id: uuid(row, "tenant_id")?,
        stream_type: row.try_get("stream_type")?,
        stream_id: uuid(row, "stream_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        payload: json(row, "payload")?,
        metadata: json(row, "metadata")?,
        recorded_at: timestamp(row, "recorded_at")?,
    })
}

pub(crate) async fn list_tenants(pool: &SqlitePool, p: &TenantParams) -> Result<Vec<TenantEntry>> {
    let rows = sqlx::query(include_str!("sql/q_tenants.sql"))
        .bind(&p.status)
        .bind(&p.plan)
        .bind(&p.pattern)
        .bind(&p.after_slug)
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(tenant).collect()
}

pub(crate) async fn get_organization(
    pool: &SqlitePool,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<OrganizationEntry>> {
    let row = sqlx::query(include_str!("sql/q_organization.sql"))
        .bind(tenant_id.hyphenated())
        .bind(id.hyphenated())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(organization).transpose()
}

pub(crate) async fn list_organizations(
    pool: &SqlitePool,
    p: &OrganizationParams,
) -> Result<Vec<OrganizationEntry>> {
    let (mode, parent, path) = p.scope.parts();
    let rows = sqlx::query(include_str!("sql/q_organizations.sql"))
        .bind(p.tenant_id.hyphenated())
        .bind(mode)
        .bind(parent.map(text))
        .bind(path)
        .bind(p.include_deleted)
        .bind(p.after_id.map(text))
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(organization).collect()
}

pub(crate) async fn organization_ancestors(
    pool: &SqlitePool,
    tenant_id: Uuid,
    path: &str,
) -> Result<Vec<OrganizationEntry>> {
    let rows = sqlx::query(include_str!("sql/q_organization_ancestors.sql"))
        .bind(tenant_id.hyphenated())
        .bind(path)
        .fetch_all(pool)
        .await?;
    rows.iter().map(organization).collect()
}

pub(crate) async fn list_teams(pool: &SqlitePool, p: &TeamParams) -> Result<Vec<TeamEntry>> {
    let rows = sqlx::query(include_str!("sql/q_teams.sql"))
        .bind(p.tenant_id.hyphenated())
        .bind(p.organization_id.map(text))
        .bind(p.include_deleted)
        .bind(p.after_id.map(text))
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(team).collect()
}

pub(crate) async fn list_team_members(
    pool: &SqlitePool,
    p: &TeamMemberParams,
) -> Result<Vec<TeamMemberEntry>> {
    let rows = sqlx::query(include_str!("sql/q_team_members.sql"))
        .bind(p.tenant_id.hyphenated())
        .bind(p.team_id.map(text))
        .bind(p.user_id.map(text))
        .bind(p.after.map(|a| text(a.0)))
        .bind(p.after.map(|a| text(a.1)))
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(TeamMemberEntry {
                tenant_id: TenantId(uuid(row, "tenant_id")?),
                team_id: TeamId(uuid(row, "team_id")?),
                user_id: UserId(uuid(row, "user_id")?),
                role: parse_enum(row.try_get("role")?, "team_members.role")?,
            })
        })
        .collect()
}

pub(crate) async fn list_users(
    pool: &SqlitePool,
    p: &UserParams,
) -> Result<Vec<(UserEntry, String)>> {
    let rows = sqlx::query(include_str!("sql/q_users.sql"))
        .bind(p.tenant_id.hyphenated())
        .bind(&p.pattern)
        .bind(&p.status)
        .bind(p.organization_id.map(text))
        .bind(&p.role)
        .bind(p.after.as_ref().map(|a| a.0.clone()))
        .bind(p.after.as_ref().map(|a| text(a.1)))
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            let user = UserEntry {
                tenant_id: TenantId(uuid(row, "tenant_id")?),
                id: UserId(uuid(row, "id")?),
                email: row.try_get("email")?,
                display_name: row.try_get("display_name")?,
                status: parse_enum(row.try_get("status")?, "users.status")?,
                organization_ids: Vec::new(),
                version: row.try_get("version")?,
                created_at: timestamp(row, "created_at")?,
                updated_at: timestamp(row, "updated_at")?,
            };
            Ok((user, row.try_get("email_lower")?))
        })
        .collect()
}

pub(crate) async fn user_organizations(
    pool: &SqlitePool,
    users: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(include_str!("sql/q_user_organizations.sql"))
        .bind(ids_json(users)?)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| Ok((uuid(row, "user_id")?, uuid(row, "organization_id")?)))
        .collect()
}

pub(crate) async fn list_role_assignments(
    pool: &SqlitePool,
    p: &AssignmentParams,
) -> Result<Vec<RoleAssignmentEntry>> {
    let after = p.after.as_ref();
    let rows = sqlx::query(include_str!("sql/q_role_assignments.sql"))
        .bind(p.tenant_id.hyphenated())
        .bind(p.user_id.map(text))
        .bind(&p.role)
        .bind(p.scope.map(|s| s.0))
        .bind(p.scope.map(|s| text(s.1)))
        .bind(after.map(|a| text(a.0)))
        .bind(after.map(|a| a.1.clone()))
        .bind(after.map(|a| a.2.clone()))
        .bind(after.map(|a| text(a.3)))
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("scope_kind")?;
            Ok(RoleAssignmentEntry {
                tenant_id: TenantId(uuid(row, "tenant_id")?),
                user_id: UserId(uuid(row, "user_id")?),
                role: row.try_get("role")?,
                scope: decode::scope(&kind, uuid(row, "scope_id")?)?,
                assigned_at: timestamp(row, "assigned_at")?,
            })
        })
        .collect()
}

pub(crate) async fn audit_trail(pool: &SqlitePool, p: &AuditParams) -> Result<Vec<RecordedEvent>> {
    let after_at: Option<DateTime<Utc>> = p.after.map(|a| a.0);
    let after_position: Option<i64> = p.after.map(|a| a.1);
    let query = match &p.scope {
        AuditScope::Tenant => {
            sqlx::query(include_str!("sql/q_audit_tenant.sql")).bind(p.tenant_id.hyphenated())
        }
        AuditScope::Stream(stream_id) => sqlx::query(include_str!("sql/q_audit_stream.sql"))
            .bind(p.tenant_id.hyphenated())
            .bind(stream_id.hyphenated()),
        AuditScope::Actor(subject) => sqlx::query(include_str!("sql/q_audit_actor.sql"))
            .bind(p.tenant_id.hyphenated())
            .bind(subject.clone()),
    };
    let rows = query
        .bind(p.from.map(micros))
        .bind(p.to.map(micros))
        .bind(after_at.map(micros))
        .bind(after_position)
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(event).collect()
}
