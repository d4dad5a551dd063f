//! Personal data at rest (SPEC §6): field-level encryption under per-person keys, and erasure
//! by destroying those keys (crypto-shredding).
//!
//! ```text
//!  master key (file, never stored) ──wraps──▶ data key per person, index key per tenant
//!                                               (key table; shredded on erasure)
//!  domain event (plaintext) ──seal at encoding──▶ journal payload / snapshot (ciphertext)
//!  journal payload ──open at decoding──▶ plaintext, or "" once the key is gone
//! ```
//! The domain declares which values are personal ([`crate::domain::PersonalSlot`]); this
//! module seals and opens exactly those. Each value is AES-256-GCM with a random nonce, its
//! associated data binding tenant, person, field and key version.

pub mod cipher;
mod keyring;
pub mod master;
mod vault;

pub use keyring::{Keyring, KeyringError, Opened};
pub use master::{KeyPlace, MasterKey, MasterKeyError, MasterKeys};
pub use vault::{MasterKeyCheckError, RotationReport, Vault, VaultError};

/// First payload schema version whose personal values are sealed; older events hold
/// plaintext (written before encryption existed) and are read as they are.
pub const SEALED_SINCE_SCHEMA: i32 = 2;
