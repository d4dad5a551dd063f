//! SQLite statements of the projections: checkpoints and read-model writes.

use chrono::{DateTime, Utc};
use engine::journal::CommitToken;
use sqlx::{Row, SqliteConnection, SqlitePool};
use uuid::{Uuid, fmt::Hyphenated};

use crate::{
    Result,
    models::{
        AssignmentRecord, OrganizationChange, OrganizationLocation, OrganizationRecord, TeamRecord,
        TenantChange, TenantRecord, UserChange, UserErasure, UserRecord, expect_one,
    },
    store::{stored_transaction, token_from_stored},
};

/// A timestamp as stored: microseconds since the Unix epoch (as the journal stores them).
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn token(row: &sqlx::sqlite::SqliteRow) -> Result<CommitToken> {
    token_from_stored(row.try_get("transaction_id")?, row.try_get("position")?)
}

pub(crate) async fn ensure_checkpoint(pool: &SqlitePool, name: &str) -> Result<()> {
    sqlx::query(include_str!("sql/checkpoint_ensure.sql"))
        .bind(name)
        .bind(micros(Utc::now()))
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn read_checkpoint(pool: &SqlitePool, name: &str) -> Result<Option<CommitToken>> {
    let row = sqlx::query(include_str!("sql/checkpoint_read.sql"))
        .bind(name)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(token).transpose()
}

pub(crate) async fn lock_checkpoint(
    c: &mut SqliteConnection,
    name: &str,
) -> Result<Option<CommitToken>> {
    let row = sqlx::query(include_str!("sql/checkpoint_lock.sql"))
        .bind(name)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(token).transpose()
}

pub(crate) async fn save_checkpoint(
    c: &mut SqliteConnection,
    name: &str,
    at: CommitToken,
) -> Result<()> {
    let done = sqlx::query(include_str!("sql/checkpoint_save.sql"))
        .bind(name)
        .bind(stored_transaction(at)?)
        .bind(at.position)
        .bind(micros(Utc::now()))
        .execute(c)
        .await?;
    expect_one(done.rows_affected(), "projection_checkpoints", || {
        format!("checkpoint row of {name} is missing")
    })
}

pub(crate) async fn insert_tenant(c: &mut SqliteConnection, r: &TenantRecord) -> Result<()> {
    sqlx::query(include_str!("sql/tenant_insert.sql"))
        .bind(r.tenant_id.hyphenated())
        .bind(&r.name)
        .bind(&r.name_lower)
        .bind(&r.slug)
        .bind(&r.status)
        .bind(&r.plan)
        .bind(&r.kind)
        .bind(micros(r.created_at))
        .bind(r.version)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn update_tenant(c: &mut SqliteConnection, ch: &TenantChange) -> Result<u64> {
    let (name, name_lower) = ch.name.clone().unzip();
    let done = sqlx::query(include_str!("sql/tenant_update.sql"))
        .bind(ch.tenant_id.hyphenated())
        .bind(name)
        .bind(name_lower)
        .bind(&ch.plan)
        .bind(&ch.status)
        .bind(ch.version)
        .bind(micros(ch.updated_at))
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn reset_tenant_directory(c: &mut SqliteConnection) -> Result<()> {
    sqlx::query(include_str!("sql/tenant_reset.sql"))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn insert_organization(
    c: &mut SqliteConnection,
    r: &OrganizationRecord,
) -> Result<()> {
    sqlx::query(include_str!("sql/organization_insert.sql"))
        .bind(r.tenant_id.hyphenated())
        .bind(r.id.hyphenated())
        .bind(r.parent_id.map(|p| p.hyphenated().to_string()))
        .bind(&r.name)
        .bind(r.depth)
        .bind(&r.path)
        .bind(&r.status)
        .bind(r.version)
        .bind(micros(r.created_at))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn organization_location(
    c: &mut SqliteConnection,
    id: Uuid,
) -> Result<Option<OrganizationLocation>> {
    let row = sqlx::query(include_str!("sql/organization_location.sql"))
        .bind(id.hyphenated())
        .fetch_optional(c)
        .await?;
    row.map(|row| {
        Ok(OrganizationLocation {
            tenant_id: row.try_get::<Hyphenated, _>("tenant_id")?.into_uuid(),
            path: row.try_get("path")?,
            depth: row.try_get("depth")?,
        })
    })
    .transpose()
}

pub(crate) async fn update_organization(
    c: &mut SqliteConnection,
    ch: &OrganizationChange,
) -> Result<u64> {
    let done = sqlx::query(include_str!("sql/organization_update.sql"))
        .bind(ch.id.hyphenated())
        .bind(&ch.name)
        .bind(&ch.status)
        .bind(ch.parent_id.flatten().map(|p| p.hyphenated().to_string()))
        .bind(ch.parent_id.is_some())
        .bind(ch.version)
        .bind(micros(ch.updated_at))
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn move_subtree(
    c: &mut SqliteConnection,
    tenant_id: Uuid,
    old_path: &str,
    new_path: &str,
    depth_delta: i32,
) -> Result<u64> {
    let done = sqlx::query(include_str!("sql/organization_move_subtree.sql"))
        .bind(tenant_id.hyphenated())
        .bind(old_path)
        .bind(new_path)
        .bind(depth_delta)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn reset_organizations(c: &mut SqliteConnection) -> Result<()> {
    sqlx::query(include_str!("sql/organization_reset.sql"))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn insert_team(c: &mut SqliteConnection, r: &TeamRecord) -> Result<()> {
    sqlx::query(include_str!("sql/team_insert.sql"))
        .bind(r.tenant_id.hyphenated())
        .bind(r.id.hyphenated())
        .bind(r.organization_id.hyphenated())
        .bind(&r.name)
        .bind(&r.status)
        .bind(r.version)
        .bind(micros(r.created_at))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn update_team(
    c: &mut SqliteConnection,
    id: Uuid,
    name: Option<&str>,
    status: Option<&str>,
    version: i64,
    at: DateTime<Utc>,
) -> Result<u64> {
    let done = sqlx::query(include_str!("sql/team_update.sql"))
        .bind(id.hyphenated())
        .bind(name)
        .bind(status)
        .bind(version)
        .bind(micros(at))
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn clear_team_members(c: &mut SqliteConnection, team_id: Uuid) -> Result<()> {
    sqlx::query(include_str!("sql/team_members_clear.sql"))
        .bind(team_id.hyphenated())
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn upsert_team_member(
    c: &mut SqliteConnection,
    tenant_id: Uuid,
    team_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<()> {
    sqlx::query(include_str!("sql/team_member_upsert.sql"))
        .bind(tenant_id.hyphenated())
        .bind(team_id.hyphenated())
        .bind(user_id.hyphenated())
        .bind(role)
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn remove_team_member(
    c: &mut SqliteConnection,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<()> {
    sqlx::query(include_str!("sql/team_member_remove.sql"))
        .bind(team_id.hyphenated())
        .bind(user_id.hyphenated())
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn reset_teams(c: &mut SqliteConnection) -> Result<()> {
    sqlx::query(include_str!("sql/teams_reset.sql"))
        .execute(&mut *c)
        .await?;
    sqlx::query(include_str!("sql/team_members_reset.sql"))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn insert_user(c: &mut SqliteConnection, r: &UserRecord) -> Result<()> {
    sqlx::query(include_str!("sql/user_insert.sql"))
        .bind(r.tenant_id.hyphenated())
        .bind(r.id.hyphenated())
        .bind(&r.email)
        .bind(&r.email_lower)
        .bind(&r.display_name)
        .bind(&r.display_name_lower)
        .bind(&r.status)
        .bind(r.version)
        .bind(micros(r.created_at))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn update_user(c: &mut SqliteConnection, ch: &UserChange) -> Result<u64> {
    let (name, name_lower) = ch.display_name.clone().unzip();
    let done = sqlx::query(include_str!("sql/user_update.sql"))
        .bind(ch.id.hyphenated())
        .bind(name)
        .bind(name_lower)
        .bind(&ch.status)
        .bind(ch.version)
        .bind(micros(ch.updated_at))
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn erase_user(c: &mut SqliteConnection, e: &UserErasure) -> Result<u64> {
    let done = sqlx::query(include_str!("sql/user_erase.sql"))
        .bind(e.id.hyphenated())
        .bind(&e.status)
        .bind(e.version)
        .bind(micros(e.updated_at))
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn erase_tenant_users(
    c: &mut SqliteConnection,
    tenant_id: Uuid,
    status: &str,
    at: DateTime<Utc>,
) -> Result<u64> {
    let done = sqlx::query(include_str!("sql/users_erase_tenant.sql"))
        .bind(tenant_id.hyphenated())
        .bind(status)
        .bind(micros(at))
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn add_user_organization(
    c: &mut SqliteConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    organization_id: Uuid,
) -> Result<()> {
    sqlx::query(include_str!("sql/user_organization_add.sql"))
        .bind(tenant_id.hyphenated())
        .bind(user_id.hyphenated())
        .bind(organization_id.hyphenated())
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn remove_user_organization(
    c: &mut SqliteConnection,
    user_id: Uuid,
    organization_id: Uuid,
) -> Result<()> {
    sqlx::query(include_str!("sql/user_organization_remove.sql"))
        .bind(user_id.hyphenated())
        .bind(organization_id.hyphenated())
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn reset_users(c: &mut SqliteConnection) -> Result<()> {
    sqlx::query(include_str!("sql/users_reset.sql"))
        .execute(&mut *c)
        .await?;
    sqlx::query(include_str!("sql/user_organizations_reset.sql"))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn add_role_assignment(
    c: &mut SqliteConnection,
    r: &AssignmentRecord,
) -> Result<()> {
    sqlx::query(include_str!("sql/role_assignment_add.sql"))
        .bind(r.tenant_id.hyphenated())
        .bind(r.user_id.hyphenated())
        .bind(&r.role)
        .bind(r.scope_kind)
        .bind(r.scope_id.hyphenated())
        .bind(micros(r.assigned_at))
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn remove_role_assignment(
    c: &mut SqliteConnection,
    r: &AssignmentRecord,
) -> Result<()> {
    sqlx::query(include_str!("sql/role_assignment_remove.sql"))
        .bind(r.tenant_id.hyphenated())
        .bind(r.user_id.hyphenated())
        .bind(&r.role)
        .bind(r.scope_kind)
        .bind(r.scope_id.hyphenated())
        .execute(c)
        .await?;
    Ok(())
}

pub(crate) async fn reset_role_assignments(c: &mut SqliteConnection) -> Result<()> {
    sqlx::query(include_str!("sql/role_assignments_reset.sql"))
        .execute(c)
        .await?;
    Ok(())
}
