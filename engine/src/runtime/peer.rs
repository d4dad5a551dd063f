//! Location transparency (issue 19): a call for a tenant whose shard another node holds is sent
//! to that node's engine and answered there, by the tenant's actor, as if it had been made
//! locally. Every entity call of [`Engine`](super::Engine) goes through here, so the gateway,
//! the sagas and the admin calls reach any tenant from any node.
//!
//! ```text
//! Engine::execute / a read ─▶ shard held here? ─ yes ─▶ region ─▶ shard ─▶ entity actor
//!                                  │ no
//!                                  ▼
//!               ShardPeers::call(owner of the shard, PeerRequest)  (the node mesh)
//!                                  │
//!  owner: Engine::serve_peer ─▶ shard still held? ─ no ─▶ NotHeld (the caller looks again)
//!                                  │ yes
//!                                  ▼ region ─▶ shard ─▶ entity actor ─▶ PeerReply
//! ```
//! A read is data, not a closure ([`Query`]): the same value runs on this node or travels. The
//! request carries the command or query, its [`RequestMeta`](super::RequestMeta) (the verified
//! caller and the permission it must hold, the idempotency key), the caller's time budget and
//! its trace context. The owner never forwards again, and a request for a shard it no longer
//! holds is answered [`PeerReply::NotHeld`] without running: the caller re-reads the owner and
//! tries again within its budget, then answers UNAVAILABLE with a retry delay. A call lost with
//! its session fails with UNAVAILABLE; a retry with the same `request_id` returns the first
//! answer (the actor's request window), so no command is applied twice.
//!
//! Encoding: the domain's own serde form (JSON, as the journal stores events: self-describing,
//! so the domain's optional and tagged fields read back as they were written), behind a
//! version byte, refused over [`MAX_PEER_MESSAGE`] bytes before decoding. Decoding yields the typed command,
//! which the owner's decider validates as it validates every command.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CommandOutcome, RequestMeta, existing_tenant, not_found, verdict};
use crate::{
    EngineError, Result,
    domain::{
        ApiKey, ApiKeyId, Client, ClientId, Decision, EffectivePermission, KeyRefusal,
        Organization, OrganizationId, OrganizationStatus, PermissionPattern, Record, RecordId,
        RecordKind, ResourceKind, RoleDefinition, RoleId, RoleStatus, Scope, Team, TeamId, Tenant,
        TenantId, TenantScope, TenantScopeCommand, User, UserClaims, UserId,
    },
    runtime::PermissionRequirement,
    secrets::api_key::PresentedKey,
};

/// Largest encoded request or reply accepted from a peer (a tenant's largest answer, a page of
/// its API keys or organizations, is far smaller).
pub const MAX_PEER_MESSAGE: usize = 8 * 1024 * 1024;

/// Version of the encoding; a peer's request of another version is refused, not guessed at.
const VERSION: u8 = 1;

/// A read answered by a tenant's actor from its in-memory state, as data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Query {
    /// The tenant (any status).
    Tenant,
    /// An organization (deleted ones too).
    Organization(OrganizationId),
    /// Live organizations, only children of `parent` when given, by id.
    Organizations {
        /// Parent filter.
        parent: Option<OrganizationId>,
    },
    /// A team (deleted ones too).
    Team(TeamId),
    /// A user (any status).
    User(UserId),
    /// A custom role (deleted ones too).
    Role(RoleId),
    /// The live custom roles, by id.
    Roles,
    /// A client (deleted ones too).
    Client(ClientId),
    /// A live department, location or contact.
    Record(RecordKind, RecordId),
    /// What the tenant says of a presented key, at the owner's clock.
    VerifyApiKey(PresentedKey),
    /// An API key (revoked and expired ones included).
    ApiKey(ApiKeyId),
    /// API keys in id order after `after`, at most `limit`, of one partition when given.
    ApiKeys {
        /// Partition filter.
        partition: Option<RecordId>,
        /// Exclusive start.
        after: Option<ApiKeyId>,
        /// Page size.
        limit: u32,
    },
    /// CheckPermission.
    CheckPermission {
        /// The user.
        user: UserId,
        /// The permission asked about.
        permission: PermissionPattern,
        /// Where.
        scope: Scope,
    },
    /// A read's permission requirement (every scope in one visit), at the owner's clock.
    Authorize(PermissionRequirement),
    /// ListEffectivePermissions.
    EffectivePermissions {
        /// The user.
        user: UserId,
        /// Only this scope when given.
        scope: Option<Scope>,
    },
    /// GetUserClaims.
    UserClaims(UserId),
}

/// The answer to a [`Query`] (its variant follows the query's).
#[allow(
    clippy::large_enum_variant,
    reason = "moved once per read; boxing would only add an allocation"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// [`Query::Tenant`].
    Tenant(Tenant),
    /// [`Query::Organization`].
    Organization(Organization),
    /// [`Query::Organizations`].
    Organizations(Vec<Organization>),
    /// [`Query::Team`].
    Team(Team),
    /// [`Query::User`].
    User(User),
    /// [`Query::Role`].
    Role(RoleDefinition),
    /// [`Query::Roles`].
    Roles(Vec<RoleDefinition>),
    /// [`Query::Client`].
    Client(Client),
    /// [`Query::Record`].
    Record(Record),
    /// [`Query::VerifyApiKey`].
    KeyVerdict(std::result::Result<ApiKey, KeyRefusal>),
    /// [`Query::ApiKey`].
    ApiKey(ApiKey),
    /// [`Query::ApiKeys`].
    ApiKeys(Vec<ApiKey>),
    /// [`Query::CheckPermission`].
    Decision(Decision),
    /// [`Query::Authorize`]: the requirement holds.
    Authorized,
    /// [`Query::EffectivePermissions`].
    EffectivePermissions(Vec<EffectivePermission>),
    /// [`Query::UserClaims`].
    UserClaims(UserClaims),
}

impl Query {
    /// Answers the query from `scope` at `now`.
    pub(crate) fn answer(self, scope: &TenantScope, now: DateTime<Utc>) -> Result<Answer> {
        if let Query::VerifyApiKey(key) = &self {
            // A tenant that does not exist knows no key: a verdict, not NOT_FOUND.
            return Ok(Answer::KeyVerdict(verdict(scope, key, now)));
        }
        if let Query::Authorize(requirement) = &self {
            return requirement
                .check_read(scope, now)
                .map(|()| Answer::Authorized);
        }
        existing_tenant(scope)?;
        Ok(match self {
            Query::Tenant => Answer::Tenant(existing_tenant(scope)?.clone()),
            Query::Organization(id) => Answer::Organization(found(
                scope.organization(id).cloned(),
                ResourceKind::Organization,
                &id,
            )?),
            Query::Organizations { parent } => {
                if let Some(parent) = parent
                    && scope.depth_of(parent).is_none()
                {
                    return Err(not_found(ResourceKind::Organization, parent));
                }
                Answer::Organizations(
                    scope
                        .organizations()
                        .filter(|o| o.status == OrganizationStatus::Active)
                        .filter(|o| parent.is_none() || o.parent_id == parent)
                        .cloned()
                        .collect(),
                )
            }
            Query::Team(id) => {
                Answer::Team(found(scope.team(id).cloned(), ResourceKind::Team, &id)?)
            }
            Query::User(id) => {
                Answer::User(found(scope.user(id).cloned(), ResourceKind::User, &id)?)
            }
            Query::Role(id) => {
                Answer::Role(found(scope.role(id).cloned(), ResourceKind::Role, &id)?)
            }
            Query::Roles => Answer::Roles(
                scope
                    .roles()
                    .filter(|r| r.status == RoleStatus::Active)
                    .cloned()
                    .collect(),
            ),
            Query::Client(id) => {
                Answer::Client(found(scope.client(id).cloned(), ResourceKind::Client, &id)?)
            }
            Query::Record(kind, id) => Answer::Record(found(
                scope.record(kind, id).filter(|r| !r.deleted).cloned(),
                kind.resource(),
                &id,
            )?),
            Query::ApiKey(id) => Answer::ApiKey(found(
                scope.api_key(id).cloned(),
                ResourceKind::ApiKey,
                &id,
            )?),
            Query::ApiKeys {
                partition,
                after,
                limit,
            } => Answer::ApiKeys(
                scope
                    .api_keys()
                    .filter(|k| after.is_none_or(|a| k.id > a))
                    .filter(|k| partition.is_none_or(|p| k.partition_id == p))
                    .take(limit as usize)
                    .cloned()
                    .collect(),
            ),
            Query::CheckPermission {
                user,
                permission,
                scope: at,
            } => Answer::Decision(scope.check_permission(user, &permission, at)?),
            Query::EffectivePermissions { user, scope: at } => {
                Answer::EffectivePermissions(scope.effective_permissions(user, at)?)
            }
            Query::UserClaims(user) => Answer::UserClaims(scope.user_claims(user)?),
            Query::VerifyApiKey(_) | Query::Authorize(_) => unreachable_answer()?,
        })
    }
}

/// `value`, or NOT_FOUND for the `kind` with `id`.
fn found<T>(value: Option<T>, kind: ResourceKind, id: &dyn std::fmt::Display) -> Result<T> {
    value.ok_or_else(|| not_found(kind, id))
}

/// The arms answered before the match (kept total without a panic).
fn unreachable_answer() -> Result<Answer> {
    Err(EngineError::Internal("query answered twice".into()))
}

/// What a peer asks of the owner of a tenant's shard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum PeerCall {
    /// Run a command ([`Engine::execute`](super::Engine::execute)).
    Execute {
        /// The command.
        command: Box<TenantScopeCommand>,
        /// Its caller, permission requirement and idempotency key.
        meta: Box<RequestMeta>,
    },
    /// Answer a read.
    Query {
        /// The read.
        query: Query,
        /// Only if the tenant is in memory on the owner (an unauthenticated API key must not
        /// make any node load a tenant).
        if_live: bool,
    },
}

/// A request to the owner of a tenant's shard (`C` is [`PeerCall`], or a reference to one
/// while it is encoded: the same bytes).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerRequest<C = PeerCall> {
    /// The tenant.
    pub tenant: TenantId,
    /// What to do.
    pub call: C,
    /// How long the caller waits, in milliseconds: the owner gives up after it.
    pub budget_ms: u64,
    /// The caller's W3C trace context, when its call is traced.
    pub traceparent: Option<String>,
}

/// What the owner answers.
#[allow(
    clippy::large_enum_variant,
    reason = "made once per call and encoded at once; boxing would only add an allocation"
)]
#[derive(Debug, Serialize, Deserialize)]
pub enum PeerReply {
    /// The tenant's actor answered (or the owner refused the call: overloaded, stopping).
    Served(std::result::Result<PeerAnswer, EngineError>),
    /// The owner does not hold the tenant's shard (any more): nothing ran.
    NotHeld,
}

/// A served call's answer.
#[allow(
    clippy::large_enum_variant,
    reason = "moved once per call; boxing would only add an allocation"
)]
#[derive(Debug, Serialize, Deserialize)]
pub enum PeerAnswer {
    /// A command's outcome.
    Executed(CommandOutcome),
    /// A read's answer; `None` for an `if_live` read of a tenant not in memory.
    Answered(Option<Answer>),
}

/// Why a call to a peer did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// No node holds the shard right now (it is moving) or its node is not connected.
    #[error("no node is reachable for shard {0}")]
    NoRoute(u32),
    /// The session to the owner dropped, or its answer did not come in time: the call may or
    /// may not have run.
    #[error("the call to node {node} was lost: {reason}")]
    Lost {
        /// The node called.
        node: String,
        /// What happened.
        reason: String,
    },
    /// The peer's answer does not decode (a defect or a peer of another version).
    #[error("node {node} answered something unreadable: {reason}")]
    Garbled {
        /// The node called.
        node: String,
        /// What did not decode.
        reason: String,
    },
}

/// The node mesh, as the engine sees it: sends an encoded [`PeerRequest`] to the node that
/// holds `shard` and returns its encoded [`PeerReply`].
#[async_trait]
pub trait ShardPeers: std::fmt::Debug + Send + Sync + 'static {
    /// Calls the owner of `shard` with `request`, waiting at most `timeout`.
    async fn call(
        &self,
        shard: u32,
        request: Vec<u8>,
        timeout: Duration,
    ) -> std::result::Result<Vec<u8>, PeerError>;
}

/// Encodes a request or reply: the version byte, then the value.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut bytes = vec![VERSION];
    serde_json::to_writer(&mut bytes, value)
        .map_err(|e| EngineError::Internal(format!("cannot encode a peer message: {e}")))?;
    if bytes.len() > MAX_PEER_MESSAGE {
        return Err(EngineError::Internal(format!(
            "peer message of {} bytes is over the {MAX_PEER_MESSAGE}-byte bound",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// Decodes what [`encode`] made: refuses another version, trailing bytes and anything over
/// [`MAX_PEER_MESSAGE`].
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> std::result::Result<T, String> {
    let (&version, body) = bytes.split_first().ok_or("empty message")?;
    if version != VERSION {
        return Err(format!("version {version}, expected {VERSION}"));
    }
    if bytes.len() > MAX_PEER_MESSAGE {
        return Err(format!("{} bytes, over the bound", bytes.len()));
    }
    // serde_json refuses trailing characters and nesting deeper than 128.
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_survive_the_wire_and_garbage_does_not_decode() {
        let request = PeerRequest {
            tenant: TenantId::new_v7(),
            call: PeerCall::Query {
                query: Query::CheckPermission {
                    user: UserId::new_v7(),
                    permission: "team:manage".parse().unwrap(),
                    scope: Scope::Tenant,
                },
                if_live: false,
            },
            budget_ms: 1500,
            traceparent: None,
        };
        let bytes = encode(&request).unwrap();
        let back: PeerRequest = decode(&bytes).unwrap();
        assert_eq!(back.tenant, request.tenant);
        assert_eq!(back.budget_ms, 1500);
        let PeerCall::Query { query, if_live } = back.call else {
            panic!("not a query")
        };
        let PeerCall::Query { query: sent, .. } = request.call else {
            unreachable!()
        };
        assert_eq!(query, sent);
        assert!(!if_live);

        let reply = PeerReply::Served(Err(EngineError::Overloaded("busy".into())));
        let back: PeerReply = decode(&encode(&reply).unwrap()).unwrap();
        assert!(matches!(back, PeerReply::Served(Err(EngineError::Overloaded(m))) if m == "busy"));

        assert!(decode::<PeerRequest>(&[]).is_err(), "empty");
        assert!(decode::<PeerRequest>(&[2, 0]).is_err(), "other version");
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode::<PeerRequest>(&trailing).is_err(), "trailing bytes");
        assert!(
            decode::<PeerRequest>(&bytes[..bytes.len() / 2]).is_err(),
            "truncated"
        );
        // over the bound: refused before decoding
        let mut huge = vec![VERSION, b'"'];
        huge.resize(MAX_PEER_MESSAGE + 1, b'a');
        assert!(
            decode::<String>(&huge)
                .unwrap_err()
                .contains("over the bound")
        );
    }
}
