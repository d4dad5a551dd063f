//! A tenant's unwrapped keys, held by its actor: seals what the actor writes and opens what it
//! reads. Keys created for a write stay pending until the write commits (the key rows commit in
//! the same transaction), and a shredded key is remembered as shredded: it is never created
//! again and its values read as erased.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    cipher::{self, CryptoError, GcmKey, KeyBytes, ValuePlace},
    master::{KeyPlace, MasterKeys},
};
use crate::{
    domain::{PersonalField, PersonalSlot, TenantId},
    journal::{KeyChange, KeyPurpose, StoredKey},
};

/// Version of every key created today (rotation of data keys would add versions).
const KEY_VERSION: i32 = 1;

/// A data key as the ring holds it.
#[derive(Clone, Debug)]
enum DataEntry {
    Live {
        version: i32,
        key: GcmKey,
    },
    /// Destroyed: values read as erased, and no new key may be made.
    Shredded,
    /// The row exists but would not unwrap (tampered): its values are unreadable.
    Unreadable,
}

/// What opening a value found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    /// The plaintext is in place.
    Plain,
    /// The key is gone: the value now reads as erased (empty).
    Erased,
    /// The value failed authentication (tampered, or moved from another person or field): it
    /// reads as empty and must be reported.
    Unreadable(String),
}

/// Why a key ring could not be built or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// A key is wrapped by a master key this node does not hold.
    #[error(
        "a personal-data key of tenant {tenant} is wrapped by master key {master_key_id}, which this node does not hold (start it with that key as --previous-master-key-file until the rotation finishes)"
    )]
    MissingMasterKey {
        /// Tenant.
        tenant: TenantId,
        /// Id of the missing master key.
        master_key_id: String,
    },
    /// The subject was erased; nothing personal can be written about them again.
    #[error("the personal data of {subject} was erased; it cannot be written again")]
    Erased {
        /// Subject.
        subject: Uuid,
    },
    /// The subject's key is unreadable (tampered key row).
    #[error("the key of {subject} does not unwrap (tampered key row)")]
    UnreadableKey {
        /// Subject.
        subject: Uuid,
    },
    /// Crypto failure (no randomness).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// One tenant's keys.
#[derive(Debug)]
pub struct Keyring {
    tenant: TenantId,
    /// A persistent map (O(1) to copy, see [`Keyring::sealer`]); entries hold shared ciphers.
    data: imbl::OrdMap<Uuid, DataEntry>,
    /// The blind-index key; `None` until created; `Some(None)` once shredded.
    index: Option<Option<KeyBytes>>,
    /// Key rows to insert with the next append.
    pending: Vec<KeyChange>,
}

impl Keyring {
    /// An empty ring (a tenant with no keys yet).
    pub fn empty(tenant: TenantId) -> Self {
        Self {
            tenant,
            data: imbl::OrdMap::new(),
            index: None,
            pending: Vec::new(),
        }
    }

    /// Unwraps a tenant's stored keys. A key that does not unwrap under its (held) master key
    /// is kept as unreadable and reported in the second value.
    ///
    /// # Errors
    /// [`KeyringError::MissingMasterKey`] if a key names a master key this node lacks.
    pub fn from_rows(
        tenant: TenantId,
        rows: Vec<StoredKey>,
        master: &MasterKeys,
    ) -> Result<(Self, Vec<Uuid>), KeyringError> {
        let rows: Vec<StoredKey> = rows.into_iter().filter(|r| r.tenant_id == tenant).collect();
        let mut ring = Self::empty(tenant);
        let mut unreadable = Vec::new();
        // In row order: a subject's newest version comes last and wins.
        for (row, unwrapped) in rows.iter().zip(unwrap_all(&rows, master)?) {
            match unwrapped {
                Unwrapped::Data(entry) => {
                    if matches!(entry, DataEntry::Unreadable) {
                        unreadable.push(row.subject_id);
                    }
                    ring.data.insert(row.subject_id, entry);
                }
                Unwrapped::Index(Ok(bytes)) => ring.index = Some(bytes),
                Unwrapped::Index(Err(())) => {
                    unreadable.push(row.subject_id);
                    ring.index = Some(None);
                }
            }
        }
        Ok((ring, unreadable))
    }

    /// Seals every non-empty personal value in place, creating (pending) data keys for people
    /// who have none yet.
    ///
    /// # Errors
    /// [`KeyringError::Erased`] for a value about an erased person; crypto failures.
    pub fn seal(
        &mut self,
        slots: Vec<PersonalSlot<'_>>,
        master: &MasterKeys,
        now: DateTime<Utc>,
    ) -> Result<(), KeyringError> {
        for slot in slots {
            if slot.value.is_empty() {
                continue;
            }
            let (version, key) = self.data_key(slot.subject, master, now)?;
            let place = ValuePlace {
                tenant: self.tenant,
                subject: slot.subject,
                field: slot.field.name(),
            };
            *slot.value = cipher::seal(&key, version, place, slot.value)?;
        }
        Ok(())
    }

    /// Seals values with the keys the ring already has; `false` (and the values partly sealed:
    /// discard them) if a person has no live key.
    pub fn seal_existing(&self, slots: Vec<PersonalSlot<'_>>) -> Result<bool, CryptoError> {
        for slot in slots {
            if !self.seal_existing_slot(slot)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// [`seal_existing`](Self::seal_existing) for one value: `false` (the value untouched) if
    /// its person has no live key.
    pub fn seal_existing_slot(&self, slot: PersonalSlot<'_>) -> Result<bool, CryptoError> {
        match self.sealed_with_existing(slot.subject, slot.field, slot.value)? {
            Some(sealed) => {
                *slot.value = sealed;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The sealed form of `value`, the `field` of `subject`, with the key the ring has: `None`
    /// if the person has no live key. An empty value stays empty.
    pub fn sealed_with_existing(
        &self,
        subject: Uuid,
        field: PersonalField,
        value: &str,
    ) -> Result<Option<String>, CryptoError> {
        if value.is_empty() {
            return Ok(Some(String::new()));
        }
        let Some(DataEntry::Live { version, key }) = self.data.get(&subject) else {
            return Ok(None);
        };
        let place = ValuePlace {
            tenant: self.tenant,
            subject,
            field: field.name(),
        };
        cipher::seal(key, *version, place, value).map(Some)
    }

    /// Opens every non-empty sealed value in place. Erased and unreadable values become empty;
    /// each slot's finding is returned (in slot order) with the slot's subject and field.
    pub fn open(&self, slots: Vec<PersonalSlot<'_>>) -> Vec<(Uuid, &'static str, Opened)> {
        slots
            .into_iter()
            .filter_map(|slot| self.open_slot(slot))
            .collect()
    }

    /// [`open`](Self::open) for one value: `None` for an empty one (nothing to open).
    pub fn open_slot(&self, mut slot: PersonalSlot<'_>) -> Option<(Uuid, &'static str, Opened)> {
        if slot.value.is_empty() {
            return None;
        }
        let entry = self.data.get(&slot.subject);
        let opened = open_with(entry, self.tenant, &mut slot);
        Some((slot.subject, slot.field.name(), opened))
    }

    /// A ring holding this one's data keys only, made in O(1) (the key map is persistent and
    /// its ciphers shared): it seals and opens like this one, creates no key and has no index
    /// key. The runtime hands one to the thread that encodes a snapshot; an erasure after the
    /// copy does not reach it, which is right for a snapshot of the state before the erasure.
    pub fn sealer(&self) -> Keyring {
        Keyring {
            tenant: self.tenant,
            data: self.data.clone(),
            index: None,
            pending: Vec::new(),
        }
    }

    /// The tenant's blind-index key, created (pending) if it has none.
    ///
    /// # Errors
    /// [`KeyringError::Erased`] once the tenant's keys were shredded.
    pub fn index_key(
        &mut self,
        master: &MasterKeys,
        now: DateTime<Utc>,
    ) -> Result<&KeyBytes, KeyringError> {
        if self.index.is_none() {
            let bytes = KeyBytes::generate()?;
            let row = new_row(
                self.tenant,
                self.tenant.0,
                KeyPurpose::Index,
                &bytes,
                master,
                now,
            )?;
            self.pending.push(KeyChange::Create(row));
            self.index = Some(Some(bytes));
        }
        match &self.index {
            Some(Some(bytes)) => Ok(bytes),
            _ => Err(KeyringError::Erased {
                subject: self.tenant.0,
            }),
        }
    }

    /// The key rows created since the last [`commit`](Self::commit) or
    /// [`rollback`](Self::rollback), to append with the write that uses them.
    pub fn pending(&self) -> &[KeyChange] {
        &self.pending
    }

    /// The write carrying the pending keys committed.
    pub fn commit(&mut self) {
        self.pending.clear();
    }

    /// The write carrying the pending keys did not commit: forget those keys (they do not
    /// exist in the store, so nothing may be sealed under them).
    pub fn rollback(&mut self) {
        for change in std::mem::take(&mut self.pending) {
            if let KeyChange::Create(row) = change {
                match row.purpose {
                    KeyPurpose::Data => {
                        self.data.remove(&row.subject_id);
                    }
                    KeyPurpose::Index => self.index = None,
                }
            }
        }
    }

    /// Forgets a person's key after their erasure committed.
    pub fn shred(&mut self, subject: Uuid) {
        self.data.insert(subject, DataEntry::Shredded);
    }

    /// Forgets every key after the tenant's erasure committed.
    pub fn shred_all(&mut self) {
        self.data = self
            .data
            .keys()
            .map(|subject| (*subject, DataEntry::Shredded))
            .collect();
        self.index = Some(None);
    }

    fn data_key(
        &mut self,
        subject: Uuid,
        master: &MasterKeys,
        now: DateTime<Utc>,
    ) -> Result<(i32, GcmKey), KeyringError> {
        match self.data.get(&subject) {
            Some(DataEntry::Live { version, key }) => return Ok((*version, key.clone())),
            Some(DataEntry::Shredded) => return Err(KeyringError::Erased { subject }),
            Some(DataEntry::Unreadable) => return Err(KeyringError::UnreadableKey { subject }),
            None => {}
        }
        if matches!(self.index, Some(None)) {
            // The whole tenant was erased.
            return Err(KeyringError::Erased { subject });
        }
        let bytes = KeyBytes::generate()?;
        let row = new_row(self.tenant, subject, KeyPurpose::Data, &bytes, master, now)?;
        self.pending.push(KeyChange::Create(row));
        let key = GcmKey::new(&bytes);
        self.data.insert(
            subject,
            DataEntry::Live {
                version: KEY_VERSION,
                key: key.clone(),
            },
        );
        Ok((KEY_VERSION, key))
    }
}

/// A new key row, wrapped by the current master key.
fn new_row(
    tenant: TenantId,
    subject: Uuid,
    purpose: KeyPurpose,
    bytes: &KeyBytes,
    master: &MasterKeys,
    now: DateTime<Utc>,
) -> Result<StoredKey, CryptoError> {
    let place = KeyPlace {
        tenant,
        subject,
        purpose,
        version: KEY_VERSION,
    };
    Ok(StoredKey {
        tenant_id: tenant,
        subject_id: subject,
        purpose,
        version: KEY_VERSION,
        wrapped: Some(master.current().wrap(place, bytes)?),
        master_key_id: Some(master.current().id().to_owned()),
        created_at: now,
        shredded_at: None,
    })
}

/// The key material of a row: `None` when shredded, `Some(Err)` when it does not unwrap.
///
/// # Errors
/// [`KeyringError::MissingMasterKey`] when its master key is not held.
pub(super) fn unwrap_row(
    row: &StoredKey,
    master: &MasterKeys,
) -> Result<Option<Result<KeyBytes, CryptoError>>, KeyringError> {
    let (Some(wrapped), Some(master_id)) = (&row.wrapped, &row.master_key_id) else {
        return Ok(None);
    };
    let Some(master_key) = master.by_id(master_id) else {
        return Err(KeyringError::MissingMasterKey {
            tenant: row.tenant_id,
            master_key_id: master_id.clone(),
        });
    };
    let place = KeyPlace {
        tenant: row.tenant_id,
        subject: row.subject_id,
        purpose: row.purpose,
        version: row.version,
    };
    Ok(Some(master_key.unwrap(place, wrapped)))
}

/// Rings of at least this many keys unwrap on several threads: a key costs about 1.4 µs (its
/// unwrapping and its cipher's key schedule), 145 ms for a tenant of 100,000 people.
pub(super) const PARALLEL_UNWRAP_FROM: usize = 4_096;

/// Threads a large ring unwraps on at most.
const UNWRAP_THREADS: usize = 4;

/// One key row, unwrapped.
enum Unwrapped {
    Data(DataEntry),
    /// The index key: `Ok(None)` once shredded, `Err` when it does not unwrap.
    Index(Result<Option<KeyBytes>, ()>),
}

fn unwrap_entry(row: &StoredKey, master: &MasterKeys) -> Result<Unwrapped, KeyringError> {
    let material = unwrap_row(row, master)?;
    Ok(match (row.purpose, material) {
        (KeyPurpose::Data, None) => Unwrapped::Data(DataEntry::Shredded),
        (KeyPurpose::Data, Some(Ok(bytes))) => Unwrapped::Data(DataEntry::Live {
            version: row.version,
            key: GcmKey::new(&bytes),
        }),
        (KeyPurpose::Data, Some(Err(_))) => Unwrapped::Data(DataEntry::Unreadable),
        (KeyPurpose::Index, None) => Unwrapped::Index(Ok(None)),
        (KeyPurpose::Index, Some(Ok(bytes))) => Unwrapped::Index(Ok(Some(bytes))),
        (KeyPurpose::Index, Some(Err(_))) => Unwrapped::Index(Err(())),
    })
}

/// Unwraps `rows` in order; a large ring in contiguous chunks on up to [`UNWRAP_THREADS`]
/// threads (scoped: all are joined before this returns).
fn unwrap_all(rows: &[StoredKey], master: &MasterKeys) -> Result<Vec<Unwrapped>, KeyringError> {
    let unwrap = |chunk: &[StoredKey]| -> Result<Vec<Unwrapped>, KeyringError> {
        chunk.iter().map(|row| unwrap_entry(row, master)).collect()
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(UNWRAP_THREADS);
    if rows.len() < PARALLEL_UNWRAP_FROM || threads < 2 {
        return unwrap(rows);
    }
    let mut chunks = rows.chunks(rows.len().div_ceil(threads));
    let first = chunks.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = chunks
            .map(|chunk| scope.spawn(move || unwrap(chunk)))
            .collect();
        let mut all = unwrap(first)?;
        for other in others {
            let unwrapped = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            all.extend(unwrapped);
        }
        Ok(all)
    })
}

/// Opens one slot with the entry of its subject's key (if any).
fn open_with(entry: Option<&DataEntry>, tenant: TenantId, slot: &mut PersonalSlot<'_>) -> Opened {
    let opened = match entry {
        Some(DataEntry::Live { version, key }) => {
            let place = ValuePlace {
                tenant,
                subject: slot.subject,
                field: slot.field.name(),
            };
            match cipher::sealed_version(slot.value) {
                Ok(v) if v != *version => Err(format!(
                    "sealed under key version {v}, the key is version {version}"
                )),
                Ok(_) => cipher::open(key, place, slot.value).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
        Some(DataEntry::Shredded) => {
            slot.value.clear();
            return Opened::Erased;
        }
        Some(DataEntry::Unreadable) => Err("its key does not unwrap".to_owned()),
        None => Err("no key exists for this person".to_owned()),
    };
    match opened {
        Ok(plain) => {
            *slot.value = plain;
            Opened::Plain
        }
        Err(why) => {
            slot.value.clear();
            Opened::Unreadable(why)
        }
    }
}

/// Opens one slot with keys loaded for a batch (see [`super::Vault::open_events`]).
pub(super) fn open_slot(
    keys: &HashMap<(TenantId, Uuid), DataEntryRef>,
    tenant: TenantId,
    slot: &mut PersonalSlot<'_>,
) -> Opened {
    let entry = keys.get(&(tenant, slot.subject)).map(|e| &e.0);
    open_with(entry, tenant, slot)
}

/// A data key loaded for one batch (opaque outside this module).
#[derive(Debug)]
pub(super) struct DataEntryRef(DataEntry);

impl DataEntryRef {
    /// From a row's unwrapped material.
    pub(super) fn from_material(
        version: i32,
        material: Option<Result<KeyBytes, CryptoError>>,
    ) -> Self {
        Self(match material {
            None => DataEntry::Shredded,
            Some(Ok(bytes)) => DataEntry::Live {
                version,
                key: GcmKey::new(&bytes),
            },
            Some(Err(_)) => DataEntry::Unreadable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{domain::PersonalField, personal::MasterKey};

    /// A key row of `subject` wrapped under `master` (`None`: shredded), and the key.
    fn row(
        tenant: TenantId,
        subject: Uuid,
        version: i32,
        master: &MasterKeys,
        shredded: bool,
    ) -> (StoredKey, KeyBytes) {
        let key = KeyBytes::generate().unwrap();
        let place = KeyPlace {
            tenant,
            subject,
            purpose: KeyPurpose::Data,
            version,
        };
        let wrapped = master.current().wrap(place, &key).unwrap();
        let row = StoredKey {
            tenant_id: tenant,
            subject_id: subject,
            purpose: KeyPurpose::Data,
            version,
            wrapped: (!shredded).then_some(wrapped),
            master_key_id: (!shredded).then(|| master.current().id().to_owned()),
            created_at: Utc::now(),
            shredded_at: shredded.then(Utc::now),
        };
        (row, key)
    }

    /// Seals an email under `key` (version `version`) for `subject`, then opens it with `ring`.
    fn open(ring: &Keyring, key: &KeyBytes, version: i32, subject: Uuid) -> (String, Opened) {
        let place = ValuePlace {
            tenant: ring.tenant,
            subject,
            field: PersonalField::Email.name(),
        };
        let mut value = cipher::seal(&GcmKey::new(key), version, place, "ada@example.com").unwrap();
        let (_, _, opened) = ring
            .open_slot(PersonalSlot {
                subject,
                field: PersonalField::Email,
                value: &mut value,
            })
            .unwrap();
        (value, opened)
    }

    #[test]
    fn a_large_ring_unwraps_on_several_threads_as_one_thread_would() {
        let tenant = TenantId(Uuid::now_v7());
        let master = MasterKeys::new(MasterKey::generate().unwrap());
        let subjects: Vec<Uuid> = (0..PARALLEL_UNWRAP_FROM + 1_000)
            .map(|_| Uuid::now_v7())
            .collect();
        let mut rows = Vec::new();
        let mut keys = Vec::new();
        for &subject in &subjects {
            let (row, key) = row(tenant, subject, 1, &master, false);
            rows.push(row);
            keys.push(key);
        }
        let last = subjects.len() - 1;
        // The last subject's key has a second version (its row comes after the first).
        let (newer, newer_key) = row(tenant, subjects[last], 2, &master, false);
        rows.push(newer);
        // One in the second half is tampered with, one shredded; another tenant's row is skipped.
        let tampered = subjects.len() * 3 / 4;
        if let Some(wrapped) = rows[tampered].wrapped.as_mut() {
            wrapped[20] ^= 1;
        }
        let shredded = subjects.len() / 2 + 1;
        rows[shredded] = row(tenant, subjects[shredded], 1, &master, true).0;
        rows.push(row(TenantId(Uuid::now_v7()), subjects[0], 9, &master, false).0);

        let (ring, unreadable) = Keyring::from_rows(tenant, rows, &master).unwrap();

        assert_eq!(unreadable, vec![subjects[tampered]]);
        for (i, subject) in subjects.iter().enumerate() {
            let (value, opened) = match i {
                i if i == last => open(&ring, &newer_key, 2, *subject),
                _ => open(&ring, &keys[i], 1, *subject),
            };
            match i {
                i if i == tampered => assert!(matches!(opened, Opened::Unreadable(_))),
                i if i == shredded => assert_eq!(opened, Opened::Erased),
                _ => assert_eq!((value.as_str(), opened), ("ada@example.com", Opened::Plain)),
            }
        }
        // The older version of the last subject's key lost to the newer one.
        let (_, opened) = open(&ring, &keys[last], 1, subjects[last]);
        assert!(matches!(opened, Opened::Unreadable(_)));
    }
}
