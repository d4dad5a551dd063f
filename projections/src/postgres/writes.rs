//! PostgreSQL statements of the projections: checkpoints and read-model writes.

use chrono::{DateTime, Utc};
use engine::journal::CommitToken;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::{
    Result,
    models::{
        AssignmentRecord, OrganizationChange, OrganizationLocation, OrganizationRecord, TeamRecord,
        TenantChange, TenantRecord, UserChange, UserErasure, UserRecord, expect_one,
    },
    store::{stored_transaction, token_from_stored},
};

fn token(row: &sqlx::postgres::PgRow) -> Result<CommitToken> {
    token_from_stored(row.try_get("transaction_id")?, row.try_get("position")?)
}

pub(crate) async fn ensure_checkpoint(pool: &PgPool, name: &str) -> Result<()> {
    sqlx::query(include_str!("sql/checkpoint_ensure.sql"))
        .bind(name)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn read_checkpoint(pool: &PgPool, name: &str) -> Result<Option<CommitToken>> {
    let row = sqlx::query(include_str!("sql/checkpoint_read.sql"))
        .bind(name)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(token).transpose()
}

pub(crate) async fn lock_checkpoint(
    c: &mut PgConnection,
    name: &str,
) -> Result<Option<CommitToken>> {
    let row = sqlx::query(include_str!("sql/checkpoint_lock.sql"))
        .bind(name)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(token).transpose()
}

pub(crate) async fn save_checkpoint(
    c: &mut PgConnection,
    name: &str,
    at: CommitToken,
) -> Result<()> {
    let done = sqlx::query(include_str!("sql/checkpoint_save.sql"))
        .bind(name)
        .bind(stored_transaction(at)?)
        .bind(at.position)
        .execute(c)
        .await?;
    expect_one(done.rows_affected(), "projection_checkpoints", || {
        format!("checkpoint row of {name} is missing")
    })
}

pub(crate) async fn insert_tenant(c: &mut PgConnection, r: &TenantRecord) -> Result<()> {
    sqlx::query(include_str!("sql/tenant_insert.sql"))
        .bind(r.tenant_id)
        .bind(&r.name)
        .bind(&r.name_lower)
        .bind(&r.slug)
        .bind(&r.status)
        .bind(&r.plan)
        .bind(&r.kind)
        .bind(r.created_at)
        .bind(r.version)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn update_tenant(c: &mut PgConnection, ch: &TenantChange) -> Result<u64> {
    let (name, name_lower) = ch.name.clone().unzip();
    let done = sqlx::query(include_str!("sql/tenant_update.sql"))
        .bind(ch.tenant_id)
        .bind(name)
        .bind(name_lower)
        .bind(&ch.plan)
        .bind(&ch.status)
        .bind(ch.version)
        .bind(ch.updated_at)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn reset_tenant_directory(c: &mut PgConnection) -> Result<()> {
    sqlx::query(include_str!("sql/tenant_reset.sql"))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn insert_organization(
    c: &mut PgConnection,
    r: &OrganizationRecord,
) -> Result<()> {
    sqlx::query(include_str!("sql/organization_insert.sql"))
        .bind(r.tenant_id)
        .bind(r.id)
        .bind(r.parent_id)
        .bind(&r.name)
        .bind(r.depth)
        .bind(&r.path)
        .bind(&r.status)
        .bind(r.version)
        .bind(r.created_at)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn organization_location(
    c: &mut PgConnection,
    id: Uuid,
) -> Result<Option<OrganizationLocation>> {
    let row = sqlx::query(include_str!("sql/organization_location.sql"))
        .bind(id)
        .fetch_optional(c)
        .await?;
    row.map(|row| {
        Ok(OrganizationLocation {
            tenant_id: row.try_get("tenant_id")?,
            path: row.try_get("path")?,
            depth: row.try_get("depth")?,
        })
    })
    .transpose()
}

pub(crate) async fn update_organization(
    c: &mut PgConnection,
    ch: &OrganizationChange,
) -> Result<u64> {
    let done = sqlx::query(include_str!("sql/organization_update.sql"))
        .bind(ch.id)
        .bind(&ch.name)
        .bind(&ch.status)
        .bind(ch.parent_id.flatten())
        .bind(ch.parent_id.is_some())
        .bind(ch.version)
        .bind(ch.updated_at)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn move_subtree(
    c: &mut PgConnection,
    tenant_id: Uuid,
    old_path: &str,
    new_path: &str,
    depth_delta: i32,
) -> Result<u64> {
    let done = sqlx::query(include_str!("sql/organization_move_subtree.sql"))
        .bind(tenant_id)
        .bind(old_path)
        .bind(new_path)
        .bind(depth_delta)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn reset_organizations(c: &mut PgConnection) -> Result<()> {
    sqlx::query(include_str!("sql/organization_reset.sql"))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn insert_team(c: &mut PgConnection, r: &TeamRecord) -> Result<()> {
    sqlx::query(include_str!("sql/team_insert.sql"))
        .bind(r.tenant_id)
        .bind(r.id)
        .bind(r.organization_id)
        .bind(&r.name)
        .bind(&r.status)
        .bind(r.version)
        .bind(r.created_at)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn update_team(
    c: &mut PgConnection,
    id: Uuid,
    name: Option<&str>,
    status: Option<&str>,
    version: i64,
    at: DateTime<Utc>,
) -> Result<u64> {
    let done = sqlx::query(include_str!("sql/team_update.sql"))
        .bind(id)
        .bind(name)
        .bind(status)
        .bind(version)
        .bind(at)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn clear_team_members(c: &mut PgConnection, team_id: Uuid) -> Result<()> {
    sqlx::query(include_str!("sql/team_members_clear.sql"))
        .bind(team_id)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn upsert_team_member(
    c: &mut PgConnection,
    tenant_id: Uuid,
    team_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<()> {
    sqlx::query(include_str!("sql/team_member_upsert.sql"))
        .bind(tenant_id)
        .bind(team_id)
        .bind(user_id)
        .bind(role)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn remove_team_member(
    c: &mut PgConnection,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<()> {
    sqlx::query(include_str!("sql/team_member_remove.sql"))
        .bind(team_id)
        .bind(user_id)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn reset_teams(c: &mut PgConnection) -> Result<()> {
    sqlx::query(include_str!("sql/teams_reset.sql"))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn insert_user(c: &mut PgConnection, r: &UserRecord) -> Result<()> {
    sqlx::query(include_str!("sql/user_insert.sql"))
        .bind(r.tenant_id)
        .bind(r.id)
        .bind(&r.email)
        .bind(&r.email_lower)
        .bind(&r.display_name)
        .bind(&r.display_name_lower)
        .bind(&r.status)
        .bind(r.version)
        .bind(r.created_at)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn update_user(c: &mut PgConnection, ch: &UserChange) -> Result<u64> {
    let (name, name_lower) = ch.display_name.clone().unzip();
    let done = sqlx::query(include_str!("sql/user_update.sql"))
        .bind(ch.id)
        .bind(name)
        .bind(name_lower)
        .bind(&ch.status)
        .bind(ch.version)
        .bind(ch.updated_at)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn erase_user(c: &mut PgConnection, e: &UserErasure) -> Result<u64> {
    let done = sqlx::query(include_str!("sql/user_erase.sql"))
        .bind(e.id)
        .bind(&e.status)
        .bind(e.version)
        .bind(e.updated_at)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn erase_tenant_users(
    c: &mut PgConnection,
    tenant_id: Uuid,
    status: &str,
    at: DateTime<Utc>,
) -> Result<u64> {
    let done = sqlx::query(include_str!("sql/users_erase_tenant.sql"))
        .bind(tenant_id)
        .bind(status)
        .bind(at)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn add_user_organization(
    c: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    organization_id: Uuid,
) -> Result<()> {
    sqlx::query(include_str!("sql/user_organization_add.sql"))
        .bind(tenant_id)
        .bind(user_id)
        .bind(organization_id)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn remove_user_organization(
    c: &mut PgConnection,
    user_id: Uuid,
    organization_id: Uuid,
) -> Result<()> {
    sqlx::query(include_str!("sql/user_organization_remove.sql"))
        .bind(user_id)
        .bind(organization_id)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn reset_users(c: &mut PgConnection) -> Result<()> {
    sqlx::query(include_str!("sql/users_reset.sql"))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn add_role_assignment(c: &mut PgConnection, r: &AssignmentRecord) -> Result<()> {
    sqlx::query(include_str!("sql/role_assignment_add.sql"))
        .bind(r.tenant_id)
        .bind(r.user_id)
        .bind(&r.role)
        .bind(r.scope_kind)
        .bind(r.scope_id)
        .bind(r.assigned_at)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn remove_role_assignment(
    c: &mut PgConnection,
    r: &AssignmentRecord,
) -> Result<()> {
    sqlx::query(include_str!("sql/role_assignment_remove.sql"))
        .bind(r.tenant_id)
        .bind(r.user_id)
        .bind(&r.role)
        .bind(r.scope_kind)
        .bind(r.scope_id)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn reset_role_assignments(c: &mut PgConnection) -> Result<()> {
    sqlx::query(include_str!("sql/role_assignments_reset.sql"))
        .execute(c)
        .await?;
    Ok(())
}
