//! The scope as a snapshot stores it, with every user's personal values sealed as they are
//! written (issue 14).
//!
//! Sealing the users in place meant copying each of them out of the persistent map shared
//! with the actor (`Arc::make_mut`: the user's strings and sets cloned, its tree path copied)
//! only to replace two strings, then freeing the copies: about a third of a large tenant's
//! snapshot encoding (BENCHMARKS.md, "Snapshots sealed as written"). Here the users are read
//! where they stand and their email and display name are sealed on the way out.
//!
//! [`SealedUsers`] writes exactly the bytes `TenantScope`'s derived `Serialize` would write
//! with those two values replaced, so the stored form and its decoding are unchanged. Both
//! mirrors below destructure their struct without `..`: a field added to `TenantScope` or
//! `User` does not compile until it is written here too (and the domain test
//! `the_sealed_form_writes_what_the_derived_form_writes` checks the order).

use std::sync::Arc;

use imbl::OrdMap;
use serde::{
    Serialize, Serializer,
    ser::{Error as _, SerializeMap, SerializeStruct},
};
use uuid::Uuid;

use super::{PersonalField, TenantScope};
use crate::domain::{User, UserId};

/// Seals one personal value as a state is written (the runtime's key ring does).
pub trait SealValue {
    /// The sealed form of `value`, the `field` of `subject`; an empty value stays empty.
    ///
    /// # Errors
    /// Why it cannot be sealed (the encoding stops with that message).
    fn seal_value(
        &self,
        subject: Uuid,
        field: PersonalField,
        value: &str,
    ) -> Result<String, String>;
}

/// `scope` serialized as its derived `Serialize` does, each user's email and display name
/// sealed by `sealer` as written. The scope's other personal values (the tenant's, the
/// contacts') are written as they stand: seal them in place first (see
/// [`TenantScope::try_for_each_personal_field_outside_users`]).
pub struct SealedUsers<'a, K> {
    scope: &'a TenantScope,
    sealer: &'a K,
}

impl<'a, K: SealValue> SealedUsers<'a, K> {
    /// The view of `scope` sealed by `sealer`.
    pub fn new(scope: &'a TenantScope, sealer: &'a K) -> Self {
        Self { scope, sealer }
    }
}

impl<K: SealValue> Serialize for SealedUsers<'_, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let TenantScope {
            tenant_id,
            tenant,
            organizations,
            teams,
            users,
            roles,
            clients,
            records,
            api_keys,
            users_by_email: _, // derived, never stored
            live_roles: _,     // derived, never stored
            invitations_sent,
        } = self.scope;
        let mut out = serializer.serialize_struct("TenantScope", 10)?;
        out.serialize_field("tenant_id", tenant_id)?;
        out.serialize_field("tenant", tenant)?;
        out.serialize_field("organizations", organizations)?;
        out.serialize_field("teams", teams)?;
        out.serialize_field(
            "users",
            &UserMap {
                users,
                sealer: self.sealer,
            },
        )?;
        out.serialize_field("roles", roles)?;
        out.serialize_field("clients", clients)?;
        out.serialize_field("records", records)?;
        out.serialize_field("api_keys", api_keys)?;
        out.serialize_field("invitations_sent", invitations_sent)?;
        out.end()
    }
}

struct UserMap<'a, K> {
    users: &'a OrdMap<UserId, Arc<User>>,
    sealer: &'a K,
}

impl<K: SealValue> Serialize for UserMap<'_, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.users.len()))?;
        for (id, user) in self.users {
            map.serialize_entry(
                id,
                &SealedUser {
                    user,
                    sealer: self.sealer,
                },
            )?;
        }
        map.end()
    }
}

struct SealedUser<'a, K> {
    user: &'a User,
    sealer: &'a K,
}

impl<K: SealValue> Serialize for SealedUser<'_, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let User {
            tenant_id,
            id,
            email,
            display_name,
            status,
            invitation,
            organizations,
            assignments,
            client_id,
            claims_version,
            version,
            created_at,
            updated_at,
        } = self.user;
        let seal = |field, value: &str| {
            self.sealer
                .seal_value(id.0, field, value)
                .map_err(S::Error::custom)
        };
        let mut out = serializer.serialize_struct("User", 13)?;
        out.serialize_field("tenant_id", tenant_id)?;
        out.serialize_field("id", id)?;
        out.serialize_field("email", &seal(PersonalField::Email, email)?)?;
        out.serialize_field(
            "display_name",
            &seal(PersonalField::DisplayName, display_name)?,
        )?;
        out.serialize_field("status", status)?;
        out.serialize_field("invitation", invitation)?;
        out.serialize_field("organizations", organizations)?;
        out.serialize_field("assignments", assignments)?;
        out.serialize_field("client_id", client_id)?;
        out.serialize_field("claims_version", claims_version)?;
        out.serialize_field("version", version)?;
        out.serialize_field("created_at", created_at)?;
        out.serialize_field("updated_at", updated_at)?;
        out.end()
    }
}
