//! API-key requests → commands and queries, and keys → their proto messages.

use chrono::{DateTime, Utc};
use engine::{
    domain::{
        ApiKey, ApiKeyCommand, ApiKeyId, DEFAULT_ROTATION_OVERLAP_SECONDS, KeyExpiry, KeyIssuer,
        KeyRefusal, KeyScopes, KeySecret, PermissionPattern, RecordId, Revocation, TenantId,
    },
    secrets::api_key::masked,
};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{Mutation, Violations, addressed, by_id, complete, scoped, timestamp};
use crate::auth::Caller;

/// Default and largest page of ListApiKeys.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

/// Who issues a key, from the authorized caller: a platform administrator (or the dev
/// identity), a key, or a user of the tenant.
pub fn issuer(caller: Option<&Caller>) -> Result<KeyIssuer, Status> {
    let Some(caller) = caller else {
        return Err(Status::unauthenticated("request was not authenticated"));
    };
    if caller.platform_admin {
        return Ok(KeyIssuer::Platform);
    }
    if let Some(key) = &caller.api_key {
        return Ok(KeyIssuer::ApiKey(key.id));
    }
    caller.subject.parse().map(KeyIssuer::User).map_err(|_| {
        Status::permission_denied("only users, keys and platform administrators issue keys")
    })
}

/// CreateApiKey, with the id and secret the gateway drew.
pub fn create(
    req: pb::CreateApiKeyRequest,
    id: ApiKeyId,
    secret: KeySecret,
    issuer: KeyIssuer,
) -> Result<Mutation, Status> {
    let (tenant_id, options, (partition_id, scopes, expiry)) =
        scoped(req.options, &req.tenant_id, |v| {
            let partition = v.id::<RecordId>("partition_id", &req.partition_id);
            let scopes = scopes(v, req.admin, &req.scopes);
            let expiry = expiry(v, req.expire_time, req.ttl_seconds);
            (partition, scopes, expiry)
        })?;
    let command = ApiKeyCommand::Create {
        id,
        partition_id: complete(partition_id)?,
        name: req.name,
        scopes: complete(scopes)?,
        expiry: complete(expiry)?,
        foreign_key: req.foreign_key,
        secret,
        issuer,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// RotateApiKey, with the new key's id and secret.
pub fn rotate(
    req: pb::RotateApiKeyRequest,
    new_id: ApiKeyId,
    secret: KeySecret,
    issuer: KeyIssuer,
) -> Result<Mutation, Status> {
    let (target, options, (overlap, expiry)) =
        addressed::<ApiKeyId, _>(req.options, &req.tenant_id, ("id", &req.id), |v| {
            let overlap = match req.overlap_seconds {
                None => Some(DEFAULT_ROTATION_OVERLAP_SECONDS),
                Some(s) => u64::try_from(s)
                    .map_err(|_| v.add("overlap_seconds", "must not be negative"))
                    .ok(),
            };
            (overlap, expiry(v, req.expire_time, req.ttl_seconds))
        })?;
    let command = ApiKeyCommand::Rotate {
        id: target.id,
        new_id,
        overlap_seconds: complete(overlap)?,
        expiry: complete(expiry)?,
        secret,
        issuer,
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// RevokeApiKey.
pub fn revoke(req: pb::RevokeApiKeyRequest) -> Result<Mutation, Status> {
    by_id(req.options, &req.tenant_id, ("id", &req.id), |id| {
        ApiKeyCommand::Revoke { id }
    })
}

/// GetApiKey: the tenant and the key.
pub fn get(req: &pb::GetApiKeyRequest) -> Result<(TenantId, ApiKeyId), Status> {
    let mut v = Violations::default();
    let tenant = v.id("tenant_id", &req.tenant_id);
    let id = v.id("id", &req.id);
    v.finish()?;
    complete(tenant.zip(id))
}

/// A decoded ListApiKeys.
#[derive(Clone, Copy, Debug)]
pub struct KeyList {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Only this partition's keys.
    pub partition: Option<RecordId>,
    /// Keys after this one.
    pub after: Option<ApiKeyId>,
    /// Page size.
    pub limit: usize,
}

/// ListApiKeys: page tokens are the last key's id.
pub fn list(req: &pb::ListApiKeysRequest) -> Result<KeyList, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let partition = v.optional_id::<RecordId>("partition_id", &req.partition_id);
    let after = v.optional_id::<ApiKeyId>("page_token", &req.page_token);
    let limit = match usize::try_from(req.page_size) {
        Ok(0) => DEFAULT_PAGE,
        Ok(n) => n.min(MAX_PAGE),
        Err(_) => {
            v.add("page_size", "must not be negative");
            0
        }
    };
    v.finish()?;
    Ok(KeyList {
        tenant_id: complete(tenant_id)?,
        partition: complete(partition)?,
        after: complete(after)?,
        limit,
    })
}

/// The page of `keys` (one more than `limit` was asked for) and the next page's token.
pub fn page(mut keys: Vec<ApiKey>, limit: usize, now: DateTime<Utc>) -> pb::ListApiKeysResponse {
    let next_page_token = if keys.len() > limit {
        keys.truncate(limit);
        keys.last().map(|k| k.id.to_string()).unwrap_or_default()
    } else {
        String::new()
    };
    pb::ListApiKeysResponse {
        api_keys: keys.iter().map(|k| to_proto(k, now)).collect(),
        next_page_token,
    }
}

fn scopes(v: &mut Violations, admin: bool, scopes: &[String]) -> Option<KeyScopes> {
    if admin {
        if !scopes.is_empty() {
            v.add("scopes", "an admin key names no scopes");
        }
        return Some(KeyScopes::Admin);
    }
    let mut patterns = Vec::with_capacity(scopes.len());
    for (i, s) in scopes.iter().enumerate() {
        match s.parse::<PermissionPattern>() {
            Ok(p) => patterns.push(p),
            Err(e) => v.add(format!("scopes[{i}]"), e.to_string()),
        }
    }
    Some(KeyScopes::Custom(patterns))
}

fn expiry(
    v: &mut Violations,
    at: Option<prost_types::Timestamp>,
    ttl_seconds: i64,
) -> Option<KeyExpiry> {
    match (at, ttl_seconds) {
        (Some(_), ttl) if ttl != 0 => {
            v.add("ttl_seconds", "give an expire_time or a TTL, not both");
            None
        }
        (Some(at), _) => v.timestamp("expire_time", at).map(KeyExpiry::At),
        (None, 0) => Some(KeyExpiry::Never),
        (None, ttl) => match u64::try_from(ttl) {
            Ok(ttl) => Some(KeyExpiry::AfterSeconds(ttl)),
            Err(_) => {
                v.add("ttl_seconds", "must not be negative");
                None
            }
        },
    }
}

/// A key as the API shows it, its state read at `now`.
pub fn to_proto(k: &ApiKey, now: DateTime<Utc>) -> pb::ApiKey {
    let state = if k.revoked.is_some() {
        pb::ApiKeyState::Revoked
    } else if k.expired_at(now) {
        pb::ApiKeyState::Expired
    } else {
        pb::ApiKeyState::Active
    };
    let (admin, scopes) = scopes_to_proto(&k.scopes);
    pb::ApiKey {
        tenant_id: k.tenant_id.to_string(),
        id: k.id.to_string(),
        partition_id: k.partition_id.to_string(),
        client_id: k.client_id.map(|c| c.to_string()).unwrap_or_default(),
        name: k.name.clone(),
        admin,
        scopes,
        foreign_key: k.foreign_key.clone(),
        masked_key: masked(&k.hint),
        expire_time: k.expires_at.map(timestamp),
        state: state as i32,
        revocation_reason: match k.revoked {
            Some((_, Revocation::Revoked)) => "revoked".to_owned(),
            Some((_, Revocation::PartitionDeleted)) => "partition_deleted".to_owned(),
            None => String::new(),
        },
        revoke_time: k.revoked.map(|(at, _)| timestamp(at)),
        rotated_from: k.rotated_from.map(|id| id.to_string()).unwrap_or_default(),
        replaced_by: k.replaced_by.map(|id| id.to_string()).unwrap_or_default(),
        version: k.version,
        create_time: Some(timestamp(k.created_at)),
        update_time: Some(timestamp(k.updated_at)),
    }
}

fn scopes_to_proto(scopes: &KeyScopes) -> (bool, Vec<String>) {
    match scopes {
        KeyScopes::Admin => (true, Vec::new()),
        KeyScopes::Custom(patterns) => (
            false,
            patterns.iter().map(|p| p.as_str().to_owned()).collect(),
        ),
    }
}

/// VerifyApiKey's answer for a verified key, or for why not.
pub fn verdict(verdict: Result<ApiKey, KeyRefusal>) -> pb::VerifyApiKeyResponse {
    use pb::verify_api_key_response::Reason;
    match verdict {
        Ok(k) => {
            let (admin, scopes) = scopes_to_proto(&k.scopes);
            pb::VerifyApiKeyResponse {
                valid: true,
                reason: Reason::Unspecified as i32,
                tenant_id: k.tenant_id.to_string(),
                client_id: k.client_id.map(|c| c.to_string()).unwrap_or_default(),
                partition_id: k.partition_id.to_string(),
                key_id: k.id.to_string(),
                admin,
                scopes,
                expire_time: k.expires_at.map(timestamp),
            }
        }
        Err(why) => refused(match why {
            KeyRefusal::Unknown => Reason::Unknown,
            KeyRefusal::Revoked => Reason::Revoked,
            KeyRefusal::Expired => Reason::Expired,
            KeyRefusal::TenantNotActive => Reason::TenantNotActive,
            KeyRefusal::ClientDisabled => Reason::ClientDisabled,
            KeyRefusal::PartitionInactive => Reason::PartitionInactive,
        }),
    }
}

/// VerifyApiKey's answer for a key that opens nothing.
pub fn refused(reason: pb::verify_api_key_response::Reason) -> pb::VerifyApiKeyResponse {
    pb::VerifyApiKeyResponse {
        valid: false,
        reason: reason as i32,
        ..pb::VerifyApiKeyResponse::default()
    }
}
