//! The node's access to personal data: its master keys and the key table, for the actors
//! (a [`Keyring`] per tenant), for readers of the journal (projections, the Kafka publisher,
//! the audit trail: keys loaded per batch and dropped with it, never cached), for the start-up
//! check of the master key and for master-key rotation.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    SEALED_SINCE_SCHEMA,
    keyring::{
        DataEntryRef, Keyring, KeyringError, Opened, PARALLEL_UNWRAP_FROM, open_slot, unwrap_row,
    },
    master::{KeyPlace, MasterKey, MasterKeys},
};
use crate::{
    domain::{TenantId, TenantScopeEvent},
    journal::{JournalError, KeyPurpose, KeyStore, RecordedEvent},
};

/// Why the vault could not serve.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The key table could not be read.
    #[error(transparent)]
    Store(#[from] JournalError),
    /// A key could not be used.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
}

/// Why a node must not start with its master keys.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyCheckError {
    /// The store's personal data is protected by other master keys.
    #[error(
        "the master key (id {given}) is not the key that protects this store's personal data (its key ids: {known}); start with the right --master-key-file (to change the master key, follow \"Rotating the master key\" in the README)"
    )]
    Mismatch {
        /// Id of the key given.
        given: String,
        /// Ids the store knows (not retired).
        known: String,
    },
    /// The key was replaced by a finished rotation.
    #[error(
        "the master key (id {0}) was retired by a master-key rotation; start with the new --master-key-file"
    )]
    Retired(String),
    /// The store could not be read.
    #[error("cannot check the master key against the store: {0}")]
    Store(#[from] JournalError),
}

/// What a master-key rotation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Keys re-wrapped under the new master key.
    pub rewrapped: u64,
    /// Keys erased (or re-wrapped by someone else) while the rotation ran.
    pub skipped: u64,
    /// Master keys retired.
    pub retired: Vec<String>,
}

/// The node's personal-data access. Cheap to share.
pub struct Vault {
    master: Arc<MasterKeys>,
    store: Arc<dyn KeyStore>,
    unreadable: AtomicU64,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("master", &self.master)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// A vault over `store` with `master`.
    pub fn new(master: Arc<MasterKeys>, store: Arc<dyn KeyStore>) -> Self {
        Self {
            master,
            store,
            unreadable: AtomicU64::new(0),
        }
    }

    /// The master keys.
    pub fn master(&self) -> &MasterKeys {
        &self.master
    }

    /// Personal values refused since start (tampered, moved, or under an unwrappable key).
    pub fn unreadable_values(&self) -> u64 {
        self.unreadable.load(Ordering::Relaxed)
    }

    /// Logs and counts a refused value. Never logs the value.
    pub fn report_unreadable(&self, tenant: TenantId, subject: Uuid, field: &str, why: &str) {
        self.unreadable.fetch_add(1, Ordering::Relaxed);
        tracing::error!(
            %tenant, %subject, field, reason = why,
            "personal value refused: it does not authenticate (tampered, or moved from another person or field); it reads as empty"
        );
    }

    /// A tenant's key ring, with every key unwrapped.
    ///
    /// # Errors
    /// Store failures; a key wrapped by a master key this node lacks.
    pub async fn keyring(&self, tenant: TenantId) -> Result<Keyring, VaultError> {
        let rows = self.store.tenant_keys(tenant).await?;
        let (ring, unreadable) = if rows.len() < PARALLEL_UNWRAP_FROM {
            Keyring::from_rows(tenant, rows, &self.master)?
        } else {
            // A large ring takes a while (145 ms for 100,000 keys on one thread): off the
            // runtime's threads, so the other tenants' calls do not wait behind it.
            let master = Arc::clone(&self.master);
            match tokio::task::spawn_blocking(move || Keyring::from_rows(tenant, rows, &master))
                .await
            {
                Ok(unwrapped) => unwrapped?,
                Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
                Err(_) => {
                    return Err(VaultError::Store(JournalError::Unavailable(
                        "the runtime is shutting down".into(),
                    )));
                }
            }
        };
        for subject in unreadable {
            self.report_unreadable(tenant, subject, "key", "the wrapped key does not unwrap");
        }
        Ok(ring)
    }

    /// Opens the personal values of stored events (each with its tenant) in place: keys are
    /// loaded for these events only and dropped on return. An erased person's values read as
    /// empty; a refused value reads as empty and is reported.
    ///
    /// # Errors
    /// Store failures; a key wrapped by a master key this node lacks (retry once the node has
    /// it: nothing is decided on a value it cannot read).
    pub async fn open_events(
        &self,
        events: &mut [(TenantId, &mut TenantScopeEvent)],
    ) -> Result<(), VaultError> {
        let mut subjects = HashSet::new();
        for (tenant, event) in events.iter_mut() {
            for slot in event.personal_fields_mut(tenant.0) {
                if !slot.value.is_empty() {
                    subjects.insert(slot.subject);
                }
            }
        }
        if subjects.is_empty() {
            return Ok(());
        }
        let subjects: Vec<Uuid> = subjects.into_iter().collect();
        let rows = self.store.subject_keys(&subjects).await?;
        let mut keys = HashMap::with_capacity(rows.len());
        for row in rows.into_iter().filter(|r| r.purpose == KeyPurpose::Data) {
            let material = unwrap_row(&row, &self.master)?;
            keys.insert(
                (row.tenant_id, row.subject_id),
                DataEntryRef::from_material(row.version, material),
            );
        }
        for (tenant, event) in events.iter_mut() {
            for mut slot in event.personal_fields_mut(tenant.0) {
                if slot.value.is_empty() {
                    continue;
                }
                if let Opened::Unreadable(why) = open_slot(&keys, *tenant, &mut slot) {
                    self.report_unreadable(*tenant, slot.subject, slot.field.name(), &why);
                }
            }
        }
        Ok(())
    }

    /// Opens stored events decoded by a reader (each with its record): those with sealed
    /// payloads (`schema_version >=` [`SEALED_SINCE_SCHEMA`]) are opened as by
    /// [`open_events`](Self::open_events), and the record's payload of each one with personal
    /// values becomes the opened event, so that whatever shows or forwards the payload (the
    /// audit trail, Kafka) never sees ciphertext. Older payloads hold plaintext already.
    ///
    /// # Errors
    /// As [`open_events`](Self::open_events).
    pub async fn open_stored(
        &self,
        events: &mut [(&mut RecordedEvent, &mut TenantScopeEvent)],
    ) -> Result<(), VaultError> {
        let mut sealed: Vec<(&mut RecordedEvent, &mut TenantScopeEvent)> = events
            .iter_mut()
            .filter(|(recorded, _)| recorded.schema_version >= SEALED_SINCE_SCHEMA)
            .map(|(recorded, event)| (&mut **recorded, &mut **event))
            .collect();
        let mut opening: Vec<(TenantId, &mut TenantScopeEvent)> = sealed
            .iter_mut()
            .map(|(recorded, event)| (recorded.tenant_id, &mut **event))
            .collect();
        self.open_events(&mut opening).await?;
        drop(opening);
        for (recorded, event) in sealed {
            if event.personal_fields_mut(recorded.tenant_id.0).is_empty() {
                continue;
            }
            recorded.payload = serde_json::to_value(&*event).unwrap_or_else(|error| {
                // Plain data always encodes; never let the sealed payload through regardless.
                tracing::error!(position = recorded.position, %error, "opened event does not encode");
                serde_json::Value::Null
            });
        }
        Ok(())
    }

    /// Checks the node's master keys against the store before anything is written, and
    /// records the current one: a fresh store adopts it; a store in rotation accepts a new key
    /// when the node also holds one the store knows.
    ///
    /// # Errors
    /// [`MasterKeyCheckError`] (the node must not start).
    pub async fn check_master_keys(&self, now: DateTime<Utc>) -> Result<(), MasterKeyCheckError> {
        let records = self.store.master_keys().await?;
        let current = self.master.current().id();
        if records
            .iter()
            .any(|r| r.id == current && r.retired_at.is_some())
        {
            return Err(MasterKeyCheckError::Retired(current.to_owned()));
        }
        let active: Vec<&str> = records
            .iter()
            .filter(|r| r.retired_at.is_none())
            .map(|r| r.id.as_str())
            .collect();
        let held = |id: &str| self.master.by_id(id).is_some();
        if active.is_empty() || active.iter().any(|id| held(id)) {
            self.store.register_master_key(current, now).await?;
            return Ok(());
        }
        Err(MasterKeyCheckError::Mismatch {
            given: current.to_owned(),
            known: active.join(", "),
        })
    }

    /// Re-wraps every key under `new` and retires the other master keys this vault holds
    /// (online: nodes keep serving if they hold both keys; see the README). Idempotent: run it
    /// again after an interruption.
    ///
    /// # Errors
    /// Store failures; a key that does not unwrap under its master key.
    pub async fn rotate_to(
        &self,
        new: &MasterKey,
        batch: i64,
        now: DateTime<Utc>,
    ) -> Result<RotationReport, VaultError> {
        self.store.register_master_key(new.id(), now).await?;
        let mut report = RotationReport::default();
        let old: Vec<&MasterKey> = self.master.all().filter(|k| k.id() != new.id()).collect();
        for key in &old {
            self.rewrap_all(key, new, batch, &mut report).await?;
            self.store.retire_master_key(key.id(), now).await?;
            // Keys a node wrapped between the last pass and the retirement.
            self.rewrap_all(key, new, batch, &mut report).await?;
            report.retired.push(key.id().to_owned());
        }
        Ok(report)
    }

    async fn rewrap_all(
        &self,
        old: &MasterKey,
        new: &MasterKey,
        batch: i64,
        report: &mut RotationReport,
    ) -> Result<(), VaultError> {
        loop {
            let rows = self.store.keys_wrapped_by(old.id(), batch.max(1)).await?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in rows {
                let Some(wrapped) = &row.wrapped else {
                    continue;
                };
                let place = KeyPlace {
                    tenant: row.tenant_id,
                    subject: row.subject_id,
                    purpose: row.purpose,
                    version: row.version,
                };
                let bytes = old.unwrap(place, wrapped).map_err(|e| {
                    JournalError::Corrupt(format!(
                        "key of {} in tenant {} does not unwrap under master key {}: {e}",
                        row.subject_id,
                        row.tenant_id,
                        old.id()
                    ))
                })?;
                let rewrapped = new.wrap(place, &bytes).map_err(KeyringError::from)?;
                if self
                    .store
                    .rewrap_key(&row, old.id(), &rewrapped, new.id())
                    .await?
                {
                    report.rewrapped += 1;
                } else {
                    report.skipped += 1;
                }
            }
        }
    }
}
