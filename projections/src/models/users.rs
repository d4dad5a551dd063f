//! Projection `users`: the user directory and organization memberships.
//!
//! Erasure (SPEC §6): `UserErased`, and `TenantErased` for every user of the tenant, blank the
//! row's email, display name and their search forms and set the status to erased, so no
//! plaintext of an erased person stays in the read model. (A rebuild reads their values from
//! the journal as "" already: their keys are gone.)

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{StreamKind, TenantEvent, TenantScopeEvent, UserEvent, UserStatus};
use uuid::Uuid;

use super::{enum_text, expect_one, fold, names};
use crate::{
    Envelope, Projection, Result,
    store::{Tx, on_tx},
};

/// A new row of `users`.
#[derive(Clone, Debug)]
pub(crate) struct UserRecord {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub email: String,
    pub email_lower: String,
    pub display_name: String,
    pub display_name_lower: String,
    pub status: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

/// A change to a row: `Some` fields change; version and time always do.
#[derive(Clone, Debug, Default)]
pub(crate) struct UserChange {
    pub id: Uuid,
    /// New display name and its folded form.
    pub display_name: Option<(String, String)>,
    pub status: Option<String>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// An erased person's row: personal values blanked, status erased.
#[derive(Clone, Debug)]
pub(crate) struct UserErasure {
    pub id: Uuid,
    pub status: String,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// Keeps `users` and `user_organizations` (user-stream events, and `TenantErased` of the
/// tenant stream).
#[derive(Clone, Copy, Debug, Default)]
pub struct UsersProjection;

#[async_trait]
impl Projection for UsersProjection {
    fn name(&self) -> &str {
        names::USERS
    }

    fn wants(&self, kind: StreamKind) -> bool {
        matches!(kind, StreamKind::User | StreamKind::Tenant)
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        for envelope in events {
            let r = &envelope.recorded;
            let event = match &envelope.event {
                TenantScopeEvent::User(event) => event,
                TenantScopeEvent::Tenant(TenantEvent::TenantErased) => {
                    let status = enum_text(&UserStatus::Erased)?;
                    on_tx!(
                        tx,
                        erase_tenant_users(r.tenant_id.0, &status, r.recorded_at)
                    )?;
                    continue;
                }
                _ => continue,
            };
            let tenant_id = r.tenant_id.0;
            let id = event.user_id().0;
            let mut change = UserChange {
                id,
                version: r.sequence,
                updated_at: r.recorded_at,
                ..UserChange::default()
            };
            let name = |n: &Option<String>| n.as_ref().map(|n| (n.clone(), fold(n)));
            match event {
                UserEvent::UserInvited {
                    email,
                    display_name,
                    ..
                } => {
                    let record = UserRecord {
                        tenant_id,
                        id,
                        email: email.clone(),
                        email_lower: fold(email.trim()),
                        display_name: display_name.clone(),
                        display_name_lower: fold(display_name),
                        status: enum_text(&UserStatus::Invited)?,
                        version: r.sequence,
                        created_at: r.recorded_at,
                    };
                    on_tx!(tx, insert_user(&record))?;
                    continue;
                }
                UserEvent::InvitationResent { .. }
                | UserEvent::InvitationRevoked { .. }
                | UserEvent::InvitationExpired { .. }
                | UserEvent::RoleAssigned { .. }
                | UserEvent::RoleRevoked { .. } => {}
                UserEvent::UserActivated { display_name, .. } => {
                    change.status = Some(enum_text(&UserStatus::Active)?);
                    change.display_name = name(display_name);
                }
                UserEvent::UserProfileUpdated { display_name, .. } => {
                    change.display_name = name(display_name);
                }
                UserEvent::UserDeactivated { .. } => {
                    change.status = Some(enum_text(&UserStatus::Deactivated)?);
                }
                UserEvent::UserReactivated { .. } => {
                    change.status = Some(enum_text(&UserStatus::Active)?);
                }
                UserEvent::MembershipAdded {
                    organization_id, ..
                } => {
                    on_tx!(tx, add_user_organization(tenant_id, id, organization_id.0))?;
                }
                UserEvent::MembershipRemoved {
                    organization_id, ..
                } => {
                    on_tx!(tx, remove_user_organization(id, organization_id.0))?;
                }
                UserEvent::UserErased { .. } => {
                    let erasure = UserErasure {
                        id,
                        status: enum_text(&UserStatus::Erased)?,
                        version: r.sequence,
                        updated_at: r.recorded_at,
                    };
                    let affected = on_tx!(tx, erase_user(&erasure))?;
                    expect_one(affected, names::USERS, || {
                        format!("{} for unknown user {id}", r.event_type)
                    })?;
                    continue;
                }
            }
            let affected = on_tx!(tx, update_user(&change))?;
            expect_one(affected, names::USERS, || {
                format!("{} for unknown user {id}", r.event_type)
            })?;
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        on_tx!(tx, reset_users())
    }
}
