//! The bounded window of recently seen request ids of one tenant scope.
//!
//! Part of the entity's state: rebuilt from the `request_id` in event metadata on recovery and
//! carried in snapshots, so a retried command gets its first answer even after a restart.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        ApiKeyCommand, ClientCommand, DomainProof, KeySecret, OrganizationCommand, RecordCommand,
        RegistrationCommand, RoleCommand, SecretHash, StreamId, TeamCommand, TenantCommand,
        TenantScopeCommand, UserCommand,
    },
    journal::CommitToken,
    personal::cipher::{KeyBytes, keyed_digest},
};

/// How many request ids a tenant scope remembers.
pub const WINDOW_CAPACITY: usize = 1024;

/// What the first execution of a request produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Fingerprint of the request.
    pub hash: String,
    /// Stream of the request's last event (its target).
    pub stream: StreamId,
    /// That stream's version after the request.
    pub version: i64,
    /// Transaction and position of the write.
    pub token: (u64, i64),
}

impl RequestRecord {
    /// The write's consistency token.
    pub fn commit_token(&self) -> CommitToken {
        CommitToken {
            transaction_id: self.token.0,
            position: self.token.1,
        }
    }
}

/// Recently seen request ids, oldest evicted first.
#[derive(Clone, Debug, Default)]
pub struct RequestWindow {
    records: HashMap<String, RequestRecord>,
    order: VecDeque<String>,
}

impl RequestWindow {
    /// The record of a request id, if remembered.
    pub fn get(&self, request_id: &str) -> Option<&RequestRecord> {
        self.records.get(request_id)
    }

    /// Remembers a request (a later record of the same id replaces the earlier one).
    pub fn record(&mut self, request_id: String, record: RequestRecord) {
        if self.records.insert(request_id.clone(), record).is_none() {
            self.order.push_back(request_id);
            while self.order.len() > WINDOW_CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.records.remove(&old);
                }
            }
        }
    }

    /// The entries, oldest first (for snapshots).
    pub fn entries(&self) -> Vec<(String, RequestRecord)> {
        self.order
            .iter()
            .filter_map(|id| self.records.get(id).map(|r| (id.clone(), r.clone())))
            .collect()
    }

    /// Rebuilds from snapshot entries.
    pub fn from_entries(entries: Vec<(String, RequestRecord)>) -> Self {
        let mut window = Self::default();
        for (id, record) in entries {
            window.record(id, record);
        }
        window
    }
}

/// Fingerprint of a command for request-id reuse detection: hex HMAC-SHA256 of its JSON under
/// the tenant's index key (a command may hold an email: an unkeyed hash of it could be
/// searched with a dictionary), with the ids the gateway generates for new entities left out
/// (a retry carries a fresh one).
pub fn fingerprint(command: &TenantScopeCommand, key: &KeyBytes) -> String {
    let nil = uuid::Uuid::nil();
    let mut normalized = command.clone();
    match &mut normalized {
        TenantScopeCommand::Tenant(TenantCommand::Create(c)) => {
            c.id.0 = nil;
            c.onboarding.default_organization_id.0 = nil;
            c.onboarding.owner_user_id.0 = nil;
            if let Some(key) = &mut c.bootstrap_key {
                key.id.0 = nil;
                clear_secret(&mut key.secret);
            }
        }
        // A retry gets a fresh key (its id is inside it).
        TenantScopeCommand::ApiKey(ApiKeyCommand::Create { id, secret, .. }) => {
            id.0 = nil;
            clear_secret(secret);
        }
        TenantScopeCommand::ApiKey(ApiKeyCommand::Rotate { new_id, secret, .. }) => {
            new_id.0 = nil;
            clear_secret(secret);
        }
        TenantScopeCommand::Organization(OrganizationCommand::Create { id, .. }) => id.0 = nil,
        TenantScopeCommand::Team(TeamCommand::Create { id, .. }) => id.0 = nil,
        TenantScopeCommand::Role(RoleCommand::Define { id, .. }) => id.0 = nil,
        TenantScopeCommand::Client(ClientCommand::Create { id, .. }) => id.0 = nil,
        TenantScopeCommand::Record(RecordCommand::Create { id, .. }) => id.0 = nil,
        // A retry gets a fresh tenant, owner and token.
        TenantScopeCommand::Client(ClientCommand::ProvisionTenant { tenant, .. }) => {
            tenant.tenant_id.0 = nil;
            tenant.onboarding.default_organization_id.0 = nil;
            tenant.onboarding.owner_user_id.0 = nil;
            tenant.onboarding.owner_token_hash = None;
        }
        // A retry gets a fresh token (and, for an invitation, a fresh user id).
        TenantScopeCommand::User(UserCommand::Invite { id, token_hash, .. }) => {
            id.0 = nil;
            *token_hash = SecretHash::ZERO;
        }
        TenantScopeCommand::User(UserCommand::ResendInvitation { token_hash, .. }) => {
            *token_hash = SecretHash::ZERO;
        }
        TenantScopeCommand::User(UserCommand::Register { id, .. }) => id.0 = nil,
        // A retry draws a fresh TXT token, and may find other DNS answers.
        TenantScopeCommand::Registration(RegistrationCommand::AddDomain { txt_token, .. }) => {
            txt_token.clear();
        }
        TenantScopeCommand::Registration(RegistrationCommand::VerifyDomain {
            proof: DomainProof::TxtRecords(records),
            ..
        }) => records.clear(),
        _ => {}
    }
    // Serializing plain data cannot fail; fall back to the Debug form just in case.
    let bytes =
        serde_json::to_vec(&normalized).unwrap_or_else(|_| format!("{normalized:?}").into_bytes());
    keyed_digest(key, "entity-engine/request-fingerprint", &[&bytes])
}

fn clear_secret(secret: &mut KeySecret) {
    secret.hash = SecretHash::ZERO;
    secret.hint.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrganizationId, StreamKind, UserId};

    fn record(v: i64) -> RequestRecord {
        RequestRecord {
            hash: "h".into(),
            stream: StreamId::new(StreamKind::Tenant, uuid::Uuid::nil()),
            version: v,
            token: (1, v),
        }
    }

    #[test]
    fn evicts_oldest_beyond_capacity() {
        let mut w = RequestWindow::default();
        for i in 0..(WINDOW_CAPACITY as i64 + 10) {
            w.record(format!("r{i}"), record(i));
        }
        assert!(w.get("r0").is_none());
        assert!(w.get("r9").is_none());
        assert_eq!(w.get("r10").map(|r| r.version), Some(10));
        assert_eq!(w.entries().len(), WINDOW_CAPACITY);
        let rebuilt = RequestWindow::from_entries(w.entries());
        assert_eq!(rebuilt.entries(), w.entries());
    }

    #[test]
    fn fingerprint_ignores_generated_ids_but_not_content() {
        let create = |id: OrganizationId, name: &str| {
            TenantScopeCommand::Organization(OrganizationCommand::Create {
                id,
                name: name.into(),
                description: String::new(),
                parent_id: None,
            })
        };
        let key = KeyBytes::generate().unwrap();
        let a = fingerprint(&create(OrganizationId::new_v7(), "Sales"), &key);
        let b = fingerprint(&create(OrganizationId::new_v7(), "Sales"), &key);
        let c = fingerprint(&create(OrganizationId::new_v7(), "Ops"), &key);
        let other_key = KeyBytes::generate().unwrap();
        assert_ne!(
            a,
            fingerprint(&create(OrganizationId::new_v7(), "Sales"), &other_key),
            "keyed: no dictionary search without the tenant's key"
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// A retried invitation carries a fresh token, and its fingerprint is the one it had when
    /// the hash was a string the fingerprint cleared (fingerprints are stored with the events).
    #[test]
    fn an_invitation_retried_with_a_fresh_token_keeps_its_fingerprint() {
        let invite = |id: UserId, token: &str| {
            TenantScopeCommand::User(UserCommand::Invite {
                id,
                email: "ada@acme.test".into(),
                display_name: String::new(),
                roles: vec![],
                organization_id: None,
                expires_in_days: 7,
                token_hash: crate::secrets::token_hash(token),
            })
        };
        let key = KeyBytes::generate().unwrap();
        let first = fingerprint(&invite(UserId::new_v7(), "first"), &key);
        assert_eq!(first, fingerprint(&invite(UserId::new_v7(), "retry"), &key));
        let hash = crate::secrets::token_hash("first").to_string();
        let as_it_was = serde_json::to_string(&invite(UserId(uuid::Uuid::nil()), "first"))
            .unwrap()
            .replace(&hash, "");
        assert_eq!(
            first,
            keyed_digest(
                &key,
                "entity-engine/request-fingerprint",
                &[as_it_was.as_bytes()]
            )
        );
    }
}
