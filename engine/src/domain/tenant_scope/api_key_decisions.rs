//! Decisions on API keys, their verification, and the keys a partition's deletion ends.
//!
//! Order of checks: tenant gate, input validation, the key's existence, its partition (live,
//! active, of a writable owner), the partition's live-key limit, then the issuer: a key's
//! scopes never exceed what its issuer holds at tenant scope.

use chrono::{DateTime, TimeDelta, Utc};

use super::{TenantScope, TenantScopeEvent};
use crate::domain::{
    SecretHash,
    access::{Grants, PermissionPattern, Scope},
    api_key::{
        ApiKey, ApiKeyCommand, ApiKeyEvent, KeyIssuer, KeyRefusal, KeyScopes,
        MAX_LIVE_KEYS_PER_PARTITION, Revocation,
    },
    client::ClientStatus,
    context::Context,
    directory::{Record, RecordKind},
    error::{DomainError, ResourceKind},
    ids::{ApiKeyId, RecordId},
    tenant::TenantStatus,
    validation,
};

type Decision = Result<Vec<TenantScopeEvent>, DomainError>;

fn key_event(event: ApiKeyEvent) -> TenantScopeEvent {
    TenantScopeEvent::ApiKey(event)
}

fn key_not_found(id: ApiKeyId) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::ApiKey,
        id: id.to_string(),
    }
}

impl TenantScope {
    /// Decides an API-key command.
    pub(super) fn decide_api_key(&self, command: &ApiKeyCommand, ctx: &Context) -> Decision {
        self.active_tenant()?;
        match command {
            ApiKeyCommand::Create {
                id,
                partition_id,
                name,
                scopes,
                expiry,
                foreign_key,
                secret,
                issuer,
            } => {
                let new = validation::create_api_key(
                    name,
                    scopes,
                    foreign_key,
                    *expiry,
                    secret,
                    ctx.now,
                )?;
                if self.api_keys.contains_key(id) {
                    return Err(DomainError::AlreadyExists {
                        resource: ResourceKind::ApiKey,
                        field: "id",
                        value: id.to_string(),
                    });
                }
                let partition = self.issuable_partition(*partition_id, ctx.now)?;
                self.check_issuer(*issuer, &new.scopes, ctx.now)?;
                Ok(vec![key_event(ApiKeyEvent::ApiKeyCreated {
                    id: *id,
                    partition_id: *partition_id,
                    client_id: partition.client_id,
                    name: new.name,
                    scopes: new.scopes,
                    foreign_key: new.foreign_key,
                    secret_hash: secret.hash,
                    hint: secret.hint.clone(),
                    expires_at: new.expires_at,
                    rotated_from: None,
                })])
            }
            ApiKeyCommand::Rotate {
                id,
                new_id,
                overlap_seconds,
                expiry,
                secret,
                issuer,
            } => {
                let expires_at =
                    validation::rotate_api_key(*overlap_seconds, *expiry, secret, ctx.now)?;
                let old = self.api_keys.get(id).ok_or_else(|| key_not_found(*id))?;
                if old.revoked.is_some() {
                    return Err(key_state("API_KEY_REVOKED", *id, "is revoked"));
                }
                if old.expired_at(ctx.now) {
                    return Err(key_state("API_KEY_EXPIRED", *id, "has expired"));
                }
                if self.api_keys.contains_key(new_id) {
                    return Err(DomainError::AlreadyExists {
                        resource: ResourceKind::ApiKey,
                        field: "new_id",
                        value: new_id.to_string(),
                    });
                }
                // The old key leaves the live count as the new one joins it.
                self.writable_partition(old.partition_id)?;
                self.check_issuer(*issuer, &old.scopes, ctx.now)?;
                let overlap = TimeDelta::seconds(i64::try_from(*overlap_seconds).unwrap_or(0));
                let old_expires = old
                    .expires_at
                    .map_or(ctx.now + overlap, |at| at.min(ctx.now + overlap));
                Ok(vec![
                    key_event(ApiKeyEvent::ApiKeyRotated {
                        id: *id,
                        replaced_by: *new_id,
                        expires_at: old_expires,
                    }),
                    key_event(ApiKeyEvent::ApiKeyCreated {
                        id: *new_id,
                        partition_id: old.partition_id,
                        client_id: old.client_id,
                        name: old.name.clone(),
                        scopes: old.scopes.clone(),
                        foreign_key: old.foreign_key.clone(),
                        secret_hash: secret.hash,
                        hint: secret.hint.clone(),
                        expires_at,
                        rotated_from: Some(*id),
                    }),
                ])
            }
            ApiKeyCommand::Revoke { id } => {
                let key = self.api_keys.get(id).ok_or_else(|| key_not_found(*id))?;
                if key.revoked.is_some() {
                    return Ok(vec![]);
                }
                Ok(vec![key_event(ApiKeyEvent::ApiKeyRevoked {
                    id: *id,
                    reason: Revocation::Revoked,
                })])
            }
        }
    }

    /// A live partition whose owner may change it (a disabled client's may not).
    fn writable_partition(&self, id: RecordId) -> Result<&Record, DomainError> {
        let partition = self
            .records
            .get(&id)
            .filter(|r| !r.deleted && r.kind() == RecordKind::Partition)
            .ok_or_else(|| DomainError::NotFound {
                resource: ResourceKind::Partition,
                id: id.to_string(),
            })?;
        if let Some(client) = partition.client_id {
            self.active_client(client)?;
        }
        Ok(partition)
    }

    /// A partition a new key may be issued for: writable, active, below its live-key limit.
    fn issuable_partition(&self, id: RecordId, now: DateTime<Utc>) -> Result<&Record, DomainError> {
        let partition = self.writable_partition(id)?;
        if !partition.active {
            return Err(DomainError::InvalidState {
                reason: "PARTITION_INACTIVE",
                message: format!("partition {id} is inactive; activate it first"),
            });
        }
        let live = self
            .api_keys
            .values()
            .filter(|k| k.partition_id == id && k.live_at(now))
            .count();
        if live >= MAX_LIVE_KEYS_PER_PARTITION {
            return Err(DomainError::InvalidState {
                reason: "API_KEY_LIMIT",
                message: format!(
                    "partition {id} has {MAX_LIVE_KEYS_PER_PARTITION} live keys; revoke one first"
                ),
            });
        }
        Ok(partition)
    }

    /// A key's scopes must be within its issuer's, held at tenant scope: what giving them away
    /// needs ([`TenantScope::unheld_by_user`], [`TenantScope::unheld_by_key`]).
    fn check_issuer(
        &self,
        issuer: KeyIssuer,
        scopes: &KeyScopes,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let wanted = scopes.grants();
        let allowed = match issuer {
            KeyIssuer::Platform => true,
            KeyIssuer::User(user) => {
                matches!(self.unheld_by_user(user, &wanted, Scope::Tenant), Ok(None))
            }
            KeyIssuer::ApiKey(key) => self.api_keys.get(&key).is_some_and(|k| {
                k.live_at(now) && matches!(self.unheld_by_key(k, &wanted, Scope::Tenant), Ok(None))
            }),
        };
        if allowed {
            Ok(())
        } else {
            Err(DomainError::InvalidState {
                reason: "SCOPES_EXCEED_ISSUER",
                message: "a key may only grant what its issuer holds at tenant scope".into(),
            })
        }
    }

    /// The revocations of every key of a partition that is not revoked yet (its deletion
    /// ends them in the same append).
    pub(super) fn revoke_keys_of(&self, partition: RecordId) -> Vec<TenantScopeEvent> {
        self.api_keys
            .values()
            .filter(|k| k.partition_id == partition && k.revoked.is_none())
            .map(|k| {
                key_event(ApiKeyEvent::ApiKeyRevoked {
                    id: k.id,
                    reason: Revocation::PartitionDeleted,
                })
            })
            .collect()
    }

    /// Verifies a presented key (its id and the hex SHA-256 of the whole key) at `now`: the
    /// key, or why it opens nothing. Checks, in order: the key exists and the hash matches
    /// (compared in constant time), not revoked, not expired, the tenant active, the owning
    /// client not disabled, the partition active.
    pub fn verify_api_key(
        &self,
        id: ApiKeyId,
        secret_hash: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<&ApiKey, KeyRefusal> {
        let key = self.api_keys.get(&id).ok_or(KeyRefusal::Unknown)?;
        if !key.secret_hash.matches(secret_hash) {
            return Err(KeyRefusal::Unknown);
        }
        if key.revoked.is_some() {
            return Err(KeyRefusal::Revoked);
        }
        if key.expired_at(now) {
            return Err(KeyRefusal::Expired);
        }
        if self.tenant.as_ref().map(|t| t.status) != Some(TenantStatus::Active) {
            return Err(KeyRefusal::TenantNotActive);
        }
        if let Some(client) = key.client_id
            && self.clients.get(&client).map(|c| c.status) != Some(ClientStatus::Active)
        {
            return Err(KeyRefusal::ClientDisabled);
        }
        match self.records.get(&key.partition_id) {
            Some(p) if p.active && !p.deleted => Ok(key),
            _ => Err(KeyRefusal::PartitionInactive),
        }
    }

    /// Whether a verified key may do `permission` at `scope` (keys act tenant-wide, so only
    /// the scope's existence matters).
    ///
    /// # Errors
    /// [`DomainError::NotFound`] for a scope that is not a live organization or team.
    pub fn key_allows(
        &self,
        key: &ApiKey,
        permission: &PermissionPattern,
        scope: Scope,
    ) -> Result<bool, DomainError> {
        self.check_scope(scope)?;
        Ok(key.scopes.covers(permission))
    }

    /// As [`TenantScope::unheld_by_user`], for a verified key (its scopes hold tenant-wide).
    ///
    /// # Errors
    /// [`DomainError::NotFound`] for a scope that is not a live organization or team.
    pub fn unheld_by_key(
        &self,
        key: &ApiKey,
        wanted: &Grants,
        scope: Scope,
    ) -> Result<Option<PermissionPattern>, DomainError> {
        self.check_scope(scope)?;
        Ok(wanted.first_outside(&[key.scopes.grants()]).cloned())
    }
}

fn key_state(reason: &'static str, id: ApiKeyId, what: &str) -> DomainError {
    DomainError::InvalidState {
        reason,
        message: format!("API key {id} {what}"),
    }
}
