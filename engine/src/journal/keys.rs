//! The key table of personal data (SPEC §6): one wrapped data key per person and one blind-index
//! key per tenant, and the register of master keys that wrap them.
//!
//! Keys are created and shredded through [`AppendBatch::keys`](super::AppendBatch::keys), in the
//! transaction of the events that need them (a new person's first event, an erasure), so a
//! key exists exactly when its events do and an erasure cannot commit without the shredding.
//! A shredded key keeps its row with no key material: the primary key then refuses any attempt
//! to create the subject's key again (a silently re-created key is the classic crypto-shredding
//! bug).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Result;
use crate::domain::TenantId;

/// What a key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyPurpose {
    /// Encrypts one person's fields (subject: the person's id).
    Data,
    /// Keys the tenant's blind indexes and request fingerprints (subject: the tenant id).
    Index,
}

impl KeyPurpose {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Data => "data",
            KeyPurpose::Index => "index",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "data" => Some(KeyPurpose::Data),
            "index" => Some(KeyPurpose::Index),
            _ => None,
        }
    }
}

/// A row of the key table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The person (or, for an index key, the tenant).
    pub subject_id: Uuid,
    /// Purpose.
    pub purpose: KeyPurpose,
    /// Key version (part of every ciphertext's associated data).
    pub version: i32,
    /// The key wrapped by a master key (nonce ‖ ciphertext ‖ tag); `None` once shredded.
    pub wrapped: Option<Vec<u8>>,
    /// Id of the master key that wrapped it; `None` once shredded.
    pub master_key_id: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was shredded.
    pub shredded_at: Option<DateTime<Utc>>,
}

/// A key-table change committed with the events of its batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyChange {
    /// Insert a new key. Fails the append (as a [`UniqueViolation`] in namespace
    /// [`KEY_NAMESPACE`]) if the subject already has a key of this purpose and version,
    /// shredded or not.
    ///
    /// [`UniqueViolation`]: super::JournalError::UniqueViolation
    Create(StoredKey),
    /// Destroy every data key of one subject; leaves a shredded row even where there was no
    /// key, so none can be created for it later.
    ShredSubject {
        /// Tenant.
        tenant_id: TenantId,
        /// Subject.
        subject_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// Destroy every key of a tenant, its index key included.
    ShredTenant {
        /// Tenant.
        tenant_id: TenantId,
        /// When.
        at: DateTime<Utc>,
    },
}

/// Namespace named by the unique violation of a key created twice.
pub const KEY_NAMESPACE: &str = "personal-key";

/// A master key as the store knows it: its id only, never the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterKeyRecord {
    /// Fingerprint id of the key.
    pub id: String,
    /// When a node first used it.
    pub registered_at: DateTime<Utc>,
    /// When a rotation finished replacing it; a retired key is refused at start-up.
    pub retired_at: Option<DateTime<Utc>>,
}

/// Reading the key table and administering master keys (rotation).
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Every key row of a tenant, shredded ones included.
    async fn tenant_keys(&self, tenant_id: TenantId) -> Result<Vec<StoredKey>>;

    /// The key rows of these subjects (any tenant), shredded ones included.
    async fn subject_keys(&self, subject_ids: &[Uuid]) -> Result<Vec<StoredKey>>;

    /// Every master key the store has seen.
    async fn master_keys(&self) -> Result<Vec<MasterKeyRecord>>;

    /// Records a master key as in use (no-op if already recorded).
    async fn register_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<()>;

    /// Marks a master key retired (no-op if already retired).
    async fn retire_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<()>;

    /// Gives up a lost master key, in one transaction: every data key it wrapped is shredded
    /// (its people read as erased from then on), every index key it wrapped is deleted (its
    /// tenant makes a new one) and the key is retired. Returns how many data keys were
    /// destroyed.
    async fn abandon_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<u64>;

    /// Up to `limit` unshredded keys wrapped by master key `master_key_id`.
    async fn keys_wrapped_by(&self, master_key_id: &str, limit: i64) -> Result<Vec<StoredKey>>;

    /// Replaces one key's wrapping if it is still wrapped by `from_master` and not shredded
    /// (compare-and-set: a concurrent erasure wins). Returns whether it changed.
    async fn rewrap_key(
        &self,
        key: &StoredKey,
        from_master: &str,
        wrapped: &[u8],
        to_master: &str,
    ) -> Result<bool>;
}
