//! The [`Projection`] contract: a named consumer of the journal tail that keeps read-model
//! tables.
//!
//! ```text
//!   journal tail ──batch──▶ runner ──decode + filter──▶ Projection::apply(tx, events)
//!                              │                          (its table writes)
//!                              └── checkpoint := last event of the batch (same tx) ── commit
//! ```
//! The read models that stand at the same checkpoint apply each batch together: one
//! transaction, one checkpoint statement, and each projection's writes folded into bulk
//! statements (see `runner`). The runner owns ordering, continuity checks, retries and the checkpoint; a projection only
//! turns events into writes. Personal values (SPEC §6) are opened by the runner before a
//! projection sees them ([`Envelope::open_personal`]): plaintext, or "" once the person (or
//! the tenant) was erased; never ciphertext. Its writes and the checkpoint commit together, so each event
//! takes effect exactly once however often a batch is retried.

use async_trait::async_trait;
use engine::{
    domain::{StreamKind, TenantScopeEvent},
    journal::RecordedEvent,
    personal::Vault,
};

use crate::{Result, store::Tx};

/// One event as a projection sees it: the stored record and its decoded domain event, with
/// personal values opened (see [`Envelope::open_personal`]).
#[derive(Clone, Debug)]
pub struct Envelope {
    /// The event as stored (position, transaction, stream, sequence, metadata, time); once
    /// opened, the payload of an event with personal values holds them opened too.
    pub recorded: RecordedEvent,
    /// The decoded (and upcast) domain event.
    pub event: TenantScopeEvent,
}

impl Envelope {
    /// Decodes a stored event.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] if the payload is not a valid event of its stream kind.
    pub fn decode(recorded: RecordedEvent) -> Result<Self> {
        let event = TenantScopeEvent::from_stored(
            recorded.stream.kind,
            recorded.schema_version,
            recorded.payload.clone(),
        )
        .map_err(|e| crate::Error::Decode {
            position: recorded.position,
            event_type: recorded.event_type.clone(),
            message: e.to_string(),
        })?;
        Ok(Self { recorded, event })
    }

    /// Opens the personal values of decoded events in place, with keys loaded for these events
    /// only (sealed payloads: `schema_version >=` [`SEALED_SINCE_SCHEMA`](engine::personal::SEALED_SINCE_SCHEMA); older ones hold
    /// plaintext already). An erased person's values become "", and so does a value that does
    /// not authenticate (the vault logs and counts it). The stored payload of each opened event
    /// that has personal values is replaced by the opened event, so that whatever reads the
    /// payload (the Kafka publisher) never sees ciphertext.
    ///
    /// # Errors
    /// [`crate::Error::Journal`] when the key table cannot be read;
    /// [`crate::Error::PersonalData`] for a key this node cannot unwrap (a master key it
    /// lacks). Nothing is opened partially: retry the whole batch.
    pub async fn open_personal(envelopes: &mut [Envelope], vault: &Vault) -> Result<()> {
        let mut pairs: Vec<_> = envelopes
            .iter_mut()
            .map(|e| (&mut e.recorded, &mut e.event))
            .collect();
        Ok(vault.open_stored(&mut pairs).await?)
    }
}

/// A read model kept up to date from the journal.
///
/// Contract:
/// - [`apply`](Self::apply) gets the wanted events of one batch, in `(transaction, position)`
///   order, and writes only through `tx`; it must not commit. It is called again with the
///   same events if the batch is retried, so it must not keep state outside the database.
/// - An error rolls the batch back; the runner retries it with backoff and reports it. An
///   event is never skipped, so a projection that cannot handle an event stalls loudly.
/// - [`deliver`](Self::deliver) is for projections whose target is outside the database; it
///   runs before the transaction and must succeed before the checkpoint moves.
/// - [`reset`](Self::reset) deletes everything the projection wrote (for a rebuild from zero).
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// Unique name; the key of its checkpoint row.
    fn name(&self) -> &str;

    /// Whether it consumes events of this stream kind. Other events only move its checkpoint
    /// (and are not decoded).
    fn wants(&self, kind: StreamKind) -> bool;

    /// Whether its batches may share one transaction with the other projections that stand
    /// at the same checkpoint (one BEGIN/COMMIT and one checkpoint write per batch for all of
    /// them). The default; a projection that [`deliver`](Self::deliver)s outside the database
    /// says `false`, so that a slow broker never holds back the read models.
    fn shares_batches(&self) -> bool {
        true
    }

    /// Hands events to a system outside the database (a message broker) before the batch's
    /// transaction opens; the checkpoint then advances only if this returned `Ok`, i.e. after
    /// the outside system acknowledged every event (at least once: a retried batch is handed
    /// over again). Kept out of the transaction so that waiting for a slow broker never holds
    /// a transaction open (which would hold back the gap-safe tail of every projection).
    /// Read models leave the default, which does nothing.
    async fn deliver(&self, _events: &[Envelope]) -> Result<()> {
        Ok(())
    }

    /// Applies events inside `tx`.
    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()>;

    /// Deletes the projection's rows inside `tx`.
    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()>;
}
