//! Projection `users`: the user directory and organization memberships.
//!
//! A batch is folded per row first (a user invited and activated in the same batch is one
//! insert; three changes to one user are one update), then written with one bulk statement
//! per table and kind of change.
//!
//! Erasure (SPEC §6): `UserErased`, and `TenantErased` for every user of the tenant, blank the
//! row's email, display name and their search forms and set the status to erased, so no
//! plaintext of an erased person stays in the read model. (A rebuild reads their values from
//! the journal as "" already: their keys are gone.)

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{StreamKind, TenantEvent, TenantScopeEvent, UserEvent, UserStatus};
use uuid::Uuid;

use super::{
    Change, Folded, TableWrites, enum_text, fold, keep_later, names, puts_and_deletes, set_some,
};
use crate::{
    Envelope, Projection, Result,
    sql::{Arg, Statement, delete_rows, insert_rows},
    store::Tx,
};

/// A new row of `users`.
#[derive(Clone, Debug)]
struct UserRecord {
    tenant_id: Uuid,
    email: String,
    email_lower: String,
    display_name: String,
    display_name_lower: String,
    status: String,
    client_id: Option<Uuid>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A change to an existing row: `Some` fields change, `erase` blanks the personal values;
/// version and time always change.
#[derive(Clone, Debug)]
struct UserChange {
    /// New display name and its folded form.
    display_name: Option<(String, String)>,
    status: Option<String>,
    /// `Some(client)` sets the user's client, `Some(None)` clears it.
    client: Option<Option<Uuid>>,
    erase: bool,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl Change for UserChange {
    type Record = UserRecord;
    const TABLE: TableWrites = TableWrites {
        model: names::USERS,
        table: "users",
        insert: "users (tenant_id, id, email, email_lower, display_name, display_name_lower, \
                 status, client_id, version, created_at, updated_at)",
        change_columns: &[
            "id",
            "display_name",
            "display_name_lower",
            "status",
            "set_client",
            "client_id",
            "erase",
            "version",
            "updated_at",
        ],
        // `erase` blanks the personal values.
        set: "email = CASE WHEN v.erase THEN '' ELSE users.email END, \
              email_lower = CASE WHEN v.erase THEN '' ELSE users.email_lower END, \
              display_name = CASE WHEN v.erase THEN '' \
                  ELSE COALESCE(v.display_name, users.display_name) END, \
              display_name_lower = CASE WHEN v.erase THEN '' \
                  ELSE COALESCE(v.display_name_lower, users.display_name_lower) END, \
              status = COALESCE(v.status, users.status), \
              client_id = CASE WHEN v.set_client THEN v.client_id ELSE users.client_id END, \
              version = v.version, \
              updated_at = v.updated_at",
        matches: "users.id = v.id",
    };

    fn apply_to(self, record: &mut UserRecord) {
        if let Some((name, lower)) = self.display_name {
            record.display_name = name;
            record.display_name_lower = lower;
        }
        set_some(&mut record.status, self.status);
        set_some(&mut record.client_id, self.client);
        if self.erase {
            for value in [
                &mut record.email,
                &mut record.email_lower,
                &mut record.display_name,
                &mut record.display_name_lower,
            ] {
                value.clear();
            }
        }
        record.version = self.version;
        record.updated_at = self.updated_at;
    }

    fn then(&mut self, later: UserChange) {
        keep_later(&mut self.display_name, later.display_name);
        keep_later(&mut self.status, later.status);
        keep_later(&mut self.client, later.client);
        self.erase |= later.erase;
        self.version = later.version;
        self.updated_at = later.updated_at;
    }

    fn record_values(id: Uuid, r: UserRecord) -> Vec<Arg> {
        vec![
            r.tenant_id.into(),
            id.into(),
            r.email.into(),
            r.email_lower.into(),
            r.display_name.into(),
            r.display_name_lower.into(),
            r.status.into(),
            r.client_id.into(),
            r.version.into(),
            r.created_at.into(),
            r.updated_at.into(),
        ]
    }

    fn change_values(id: Uuid, c: UserChange) -> Vec<Arg> {
        let (name, lower) = c.display_name.unzip();
        vec![
            id.into(),
            name.into(),
            lower.into(),
            c.status.into(),
            Arg::Bool(c.client.is_some()),
            c.client.flatten().into(),
            c.erase.into(),
            c.version.into(),
            c.updated_at.into(),
        ]
    }
}

/// The writes of a batch, folded per row.
#[derive(Default)]
struct Writes {
    rows: Folded<UserChange>,
    /// Users whose row is erased in this batch: a later change of theirs is written after it.
    erased: BTreeSet<Uuid>,
    /// Tenants erased in this batch, with the time (written after the rows above).
    erased_tenants: Vec<(Uuid, DateTime<Utc>)>,
    /// `(user, organization)` → `Some(tenant)` to add, `None` to remove.
    memberships: BTreeMap<(Uuid, Uuid), Option<Uuid>>,
}

impl Writes {
    fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.erased_tenants.is_empty() && self.memberships.is_empty()
    }

    /// Whether an event of `tenant` about `user` must wait until what is folded is written
    /// (it follows an erasure of the person or the tenant).
    fn must_write_before(&self, tenant: Uuid, user: Option<Uuid>) -> bool {
        user.is_some_and(|u| self.erased.contains(&u))
            || self.erased_tenants.iter().any(|(t, _)| *t == tenant)
    }

    fn change(&mut self, id: Uuid, change: UserChange) {
        if change.erase {
            self.erased.insert(id);
        }
        self.rows.change(id, change);
    }

    async fn write(self, tx: &mut Tx<'_>) -> Result<()> {
        self.rows.write(tx).await?;
        let erased = enum_text(&UserStatus::Erased)?;
        for (tenant, at) in self.erased_tenants {
            let args = vec![tenant.into(), erased.as_str().into(), at.into()];
            tx.run(&Statement::new(USERS_ERASE_TENANT, args)).await?;
        }
        let (added, removed) = puts_and_deletes(self.memberships);
        let added = added
            .into_iter()
            .map(|((user, org), tenant)| vec![Arg::from(tenant), user.into(), org.into()])
            .collect();
        tx.run_all(&insert_rows(MEMBERSHIP_INSERT, MEMBERSHIP_KEEP, added))
            .await?;
        let removed = removed
            .into_iter()
            .map(|(user, org)| vec![Arg::from(user), org.into()])
            .collect();
        tx.run_all(&delete_rows(
            "user_organizations",
            "user_id, organization_id",
            removed,
        ))
        .await?;
        Ok(())
    }
}

/// Every person of the tenant is erased. The event is on the tenant's stream: versions stay;
/// rows erased before keep their time.
const USERS_ERASE_TENANT: &str = "UPDATE users \
     SET email = '', email_lower = '', display_name = '', display_name_lower = '', \
         updated_at = CASE WHEN status = $2 THEN updated_at ELSE $3 END, \
         status = $2 \
     WHERE tenant_id = $1";
const MEMBERSHIP_INSERT: &str = "user_organizations (tenant_id, user_id, organization_id)";
const MEMBERSHIP_KEEP: &str = "ON CONFLICT (user_id, organization_id) DO NOTHING";

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
        let mut writes = Writes::default();
        for envelope in events {
            let r = &envelope.recorded;
            let tenant_id = r.tenant_id.0;
            let event = match &envelope.event {
                // On the claims stream: nothing of the user's row changes.
                TenantScopeEvent::User(UserEvent::ClaimsChanged { .. }) => continue,
                TenantScopeEvent::User(event) => event,
                TenantScopeEvent::Tenant(TenantEvent::TenantErased) => {
                    writes.erased_tenants.push((tenant_id, r.recorded_at));
                    continue;
                }
                _ => continue,
            };
            let id = event.user_id().0;
            if writes.must_write_before(tenant_id, Some(id)) {
                std::mem::take(&mut writes).write(tx).await?;
            }
            let mut change = UserChange {
                display_name: None,
                status: None,
                client: None,
                erase: false,
                version: r.sequence,
                updated_at: r.recorded_at,
            };
            let name = |n: &Option<String>| n.as_ref().map(|n| (n.clone(), fold(n)));
            match event {
                UserEvent::UserInvited {
                    email,
                    display_name,
                    ..
                }
                | UserEvent::UserRegistered {
                    email,
                    display_name,
                    ..
                } => {
                    let (status, client_id) = match event {
                        UserEvent::UserRegistered { client_id, .. } => {
                            (UserStatus::Active, client_id.map(|c| c.0))
                        }
                        _ => (UserStatus::Invited, None),
                    };
                    let record = UserRecord {
                        tenant_id,
                        email: email.clone(),
                        email_lower: fold(email.trim()),
                        display_name: display_name.clone(),
                        display_name_lower: fold(display_name),
                        status: enum_text(&status)?,
                        client_id,
                        version: r.sequence,
                        created_at: r.recorded_at,
                        updated_at: r.recorded_at,
                    };
                    writes.rows.insert(id, record);
                    continue;
                }
                UserEvent::InvitationResent { .. }
                | UserEvent::InvitationRevoked { .. }
                | UserEvent::InvitationExpired { .. }
                | UserEvent::RoleAssigned { .. }
                | UserEvent::RoleRevoked { .. }
                | UserEvent::ClaimsChanged { .. } => {}
                UserEvent::UserActivated { display_name, .. } => {
                    change.status = Some(enum_text(&UserStatus::Active)?);
                    change.display_name = name(display_name);
                }
                UserEvent::UserProfileUpdated { display_name, .. } => {
                    change.display_name = name(display_name);
                }
                UserEvent::UserClientChanged { client_id, .. } => {
                    change.client = Some(client_id.map(|c| c.0));
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
                    writes
                        .memberships
                        .insert((id, organization_id.0), Some(tenant_id));
                }
                UserEvent::MembershipRemoved {
                    organization_id, ..
                } => {
                    writes.memberships.insert((id, organization_id.0), None);
                }
                UserEvent::UserErased { .. } => {
                    change.status = Some(enum_text(&UserStatus::Erased)?);
                    change.erase = true;
                }
            }
            writes.change(id, change);
        }
        if !writes.is_empty() {
            writes.write(tx).await?;
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run(&Statement::new("DELETE FROM user_organizations", vec![]))
            .await?;
        tx.run(&Statement::new("DELETE FROM users", vec![])).await?;
        Ok(())
    }
}
