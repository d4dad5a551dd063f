//! PostgreSQL statements of the read-model queries.

use chrono::{DateTime, Utc};
use engine::{
    domain::{OrganizationId, TeamId, TenantId, UserId},
    journal::RecordedEvent,
};
use sqlx::{PgPool, Row, postgres::PgRow};
use uuid::Uuid;

use crate::{
    Result,
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

fn tenant(row: &PgRow) -> Result<TenantEntry> {
    Ok(TenantEntry {
        tenant_id: TenantId(row.try_get("tenant_id")?),
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        status: parse_enum(row.try_get("status")?, "tenant_directory.status")?,
        plan: parse_enum(row.try_get("plan")?, "tenant_directory.plan")?,
        kind: parse_enum(row.try_get("kind")?, "tenant_directory.kind")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

fn organization(row: &PgRow) -> Result<OrganizationEntry> {
    let parent: Option<Uuid> = row.try_get("parent_id")?;
    Ok(OrganizationEntry {
        tenant_id: TenantId(row.try_get("tenant_id")?),
        id: OrganizationId(row.try_get("id")?),
        parent_id: parent.map(OrganizationId),
        name: row.try_get("name")?,
        depth: row.try_get("depth")?,
        path: decode::organization_path(row.try_get("path")?)?,
        status: parse_enum(row.try_get("status")?, "organizations.status")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn team(row: &PgRow) -> Result<TeamEntry> {
    Ok(TeamEntry {
        tenant_id: TenantId(row.try_get("tenant_id")?),
        id: TeamId(row.try_get("id")?),
        organization_id: OrganizationId(row.try_get("organization_id")?),
        name: row.try_get("name")?,
        status: parse_enum(row.try_get("status")?, "teams.status")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn event(row: &PgRow) -> Result<RecordedEvent> {
    decode::event(EventColumns {
        position: row.try_get("global_position")?,
        transaction_id: row.try_get("transaction_id")?,
        tenant_id: row.try_get("tenant_id")?,
        stream_type: row.try_get("stream_type")?,
        stream_id: row.try_get("stream_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}

pub(crate) async fn list_tenants(pool: &PgPool, p: &TenantParams) -> Result<Vec<TenantEntry>> {
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
    pool: &PgPool,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<OrganizationEntry>> {
    let row = sqlx::query(include_str!("sql/q_organization.sql"))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(organization).transpose()
}

pub(crate) async fn list_organizations(
    pool: &PgPool,
    p: &OrganizationParams,
) -> Result<Vec<OrganizationEntry>> {
    let (mode, parent, path) = p.scope.parts();
    let rows = sqlx::query(include_str!("sql/q_organizations.sql"))
        .bind(p.tenant_id)
        .bind(mode)
        .bind(parent)
        .bind(path)
        .bind(p.include_deleted)
        .bind(p.after_id)
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(organization).collect()
}

pub(crate) async fn organization_ancestors(
    pool: &PgPool,
    tenant_id: Uuid,
    path: &str,
) -> Result<Vec<OrganizationEntry>> {
    let rows = sqlx::query(include_str!("sql/q_organization_ancestors.sql"))
        .bind(tenant_id)
        .bind(path)
        .fetch_all(pool)
        .await?;
    rows.iter().map(organization).collect()
}

pub(crate) async fn list_teams(pool: &PgPool, p: &TeamParams) -> Result<Vec<TeamEntry>> {
    let rows = sqlx::query(include_str!("sql/q_teams.sql"))
        .bind(p.tenant_id)
        .bind(p.organization_id)
        .bind(p.include_deleted)
        .bind(p.after_id)
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(team).collect()
}

pub(crate) async fn list_team_members(
    pool: &PgPool,
    p: &TeamMemberParams,
) -> Result<Vec<TeamMemberEntry>> {
    let rows = sqlx::query(include_str!("sql/q_team_members.sql"))
        .bind(p.tenant_id)
        .bind(p.team_id)
        .bind(p.user_id)
        .bind(p.after.map(|a| a.0))
        .bind(p.after.map(|a| a.1))
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(TeamMemberEntry {
                tenant_id: TenantId(row.try_get("tenant_id")?),
                team_id: TeamId(row.try_get("team_id")?),
                user_id: UserId(row.try_get("user_id")?),
                role: parse_enum(row.try_get("role")?, "team_members.role")?,
            })
        })
        .collect()
}

pub(crate) async fn list_users(pool: &PgPool, p: &UserParams) -> Result<Vec<(UserEntry, String)>> {
    let rows = sqlx::query(include_str!("sql/q_users.sql"))
        .bind(p.tenant_id)
        .bind(&p.pattern)
        .bind(&p.status)
        .bind(p.organization_id)
        .bind(&p.role)
        .bind(p.after.as_ref().map(|a| a.0.clone()))
        .bind(p.after.as_ref().map(|a| a.1))
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            let user = UserEntry {
                tenant_id: TenantId(row.try_get("tenant_id")?),
                id: UserId(row.try_get("id")?),
                email: row.try_get("email")?,
                display_name: row.try_get("display_name")?,
                status: parse_enum(row.try_get("status")?, "users.status")?,
                organization_ids: Vec::new(),
                version: row.try_get("version")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            };
            Ok((user, row.try_get("email_lower")?))
        })
        .collect()
}

pub(crate) async fn user_organizations(pool: &PgPool, users: &[Uuid]) -> Result<Vec<(Uuid, Uuid)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(include_str!("sql/q_user_organizations.sql"))
        .bind(users)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("user_id")?, row.try_get("organization_id")?)))
        .collect()
}

pub(crate) async fn list_role_assignments(
    pool: &PgPool,
    p: &AssignmentParams,
) -> Result<Vec<RoleAssignmentEntry>> {
    let after = p.after.as_ref();
    let rows = sqlx::query(include_str!("sql/q_role_assignments.sql"))
        .bind(p.tenant_id)
        .bind(p.user_id)
        .bind(&p.role)
        .bind(p.scope.map(|s| s.0))
        .bind(p.scope.map(|s| s.1))
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1.clone()))
        .bind(after.map(|a| a.2.clone()))
        .bind(after.map(|a| a.3))
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("scope_kind")?;
            Ok(RoleAssignmentEntry {
                tenant_id: TenantId(row.try_get("tenant_id")?),
                user_id: UserId(row.try_get("user_id")?),
                role: row.try_get("role")?,
                scope: decode::scope(&kind, row.try_get("scope_id")?)?,
                assigned_at: row.try_get("assigned_at")?,
            })
        })
        .collect()
}

pub(crate) async fn audit_trail(pool: &PgPool, p: &AuditParams) -> Result<Vec<RecordedEvent>> {
    let after_at: Option<DateTime<Utc>> = p.after.map(|a| a.0);
    let after_position: Option<i64> = p.after.map(|a| a.1);
    let query = match &p.scope {
        AuditScope::Tenant => sqlx::query(include_str!("sql/q_audit_tenant.sql")).bind(p.tenant_id),
        AuditScope::Stream(stream_id) => sqlx::query(include_str!("sql/q_audit_stream.sql"))
            .bind(p.tenant_id)
            .bind(*stream_id),
        AuditScope::Actor(subject) => sqlx::query(include_str!("sql/q_audit_actor.sql"))
            .bind(p.tenant_id)
            .bind(subject.clone()),
    };
    let rows = query
        .bind(p.from)
        .bind(p.to)
        .bind(after_at)
        .bind(after_position)
        .bind(p.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(event).collect()
}
