//! A journal that forwards everything to another one except what a test intercepts: a slow
//! save, a crash after an append. The test writes its [`Hooks`], not the forwarding.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    domain::{StreamId, TenantId},
    journal::{
        AppendBatch, AppendReceipt, DueTimer, EventLog, Journal, KeyStore, MasterKeyRecord,
        RecordedEvent, Result, Snapshot, SnapshotStore, StoredKey, TimerStore, UniqueClaim,
    },
};

/// What a test changes; each method defaults to forwarding to `inner`.
#[async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// [`EventLog::append`].
    async fn append(
        &self,
        inner: &dyn Journal,
        batches: &[AppendBatch],
    ) -> Result<Vec<AppendReceipt>> {
        inner.append(batches).await
    }

    /// [`SnapshotStore::save_snapshot`].
    async fn save_snapshot(&self, inner: &dyn Journal, snapshot: &Snapshot) -> Result<()> {
        inner.save_snapshot(snapshot).await
    }
}

/// `inner` with `hooks` in front of it.
pub struct Intercepted<H> {
    pub inner: Arc<dyn Journal>,
    pub hooks: H,
}

impl<H> Intercepted<H> {
    pub fn new(inner: Arc<dyn Journal>, hooks: H) -> Self {
        Self { inner, hooks }
    }
}

#[async_trait]
impl<H: Hooks> EventLog for Intercepted<H> {
    async fn append(&self, batches: &[AppendBatch]) -> Result<Vec<AppendReceipt>> {
        self.hooks.append(self.inner.as_ref(), batches).await
    }

    fn concurrent_appends(&self) -> usize {
        self.inner.concurrent_appends()
    }

    async fn read_stream(&self, stream: StreamId, after: i64) -> Result<Vec<RecordedEvent>> {
        self.inner.read_stream(stream, after).await
    }

    async fn read_tenant(&self, tenant: TenantId, after: i64) -> Result<Vec<RecordedEvent>> {
        self.inner.read_tenant(tenant, after).await
    }

    async fn read_all(&self, after: i64, limit: i64) -> Result<Vec<RecordedEvent>> {
        self.inner.read_all(after, limit).await
    }

    async fn unique_claim(&self, namespace: &str, key: &str) -> Result<Option<UniqueClaim>> {
        self.inner.unique_claim(namespace, key).await
    }
}

#[async_trait]
impl<H: Hooks> SnapshotStore for Intercepted<H> {
    async fn load_snapshot(&self, kind: &str, id: Uuid) -> Result<Option<Snapshot>> {
        self.inner.load_snapshot(kind, id).await
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<()> {
        self.hooks
            .save_snapshot(self.inner.as_ref(), snapshot)
            .await
    }
}

#[async_trait]
impl<H: Hooks> TimerStore for Intercepted<H> {
    async fn due_timers(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueTimer>> {
        self.inner.due_timers(now, limit).await
    }
}

#[async_trait]
impl<H: Hooks> KeyStore for Intercepted<H> {
    async fn tenant_keys(&self, tenant_id: TenantId) -> Result<Vec<StoredKey>> {
        self.inner.tenant_keys(tenant_id).await
    }

    async fn subject_keys(&self, subject_ids: &[Uuid]) -> Result<Vec<StoredKey>> {
        self.inner.subject_keys(subject_ids).await
    }

    async fn master_keys(&self) -> Result<Vec<MasterKeyRecord>> {
        self.inner.master_keys().await
    }

    async fn register_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.inner.register_master_key(id, at).await
    }

    async fn retire_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.inner.retire_master_key(id, at).await
    }

    async fn abandon_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<u64> {
        self.inner.abandon_master_key(id, at).await
    }

    async fn keys_wrapped_by(&self, master_key_id: &str, limit: i64) -> Result<Vec<StoredKey>> {
        self.inner.keys_wrapped_by(master_key_id, limit).await
    }

    async fn rewrap_key(
        &self,
        key: &StoredKey,
        from_master: &str,
        wrapped: &[u8],
        to_master: &str,
    ) -> Result<bool> {
        self.inner
            .rewrap_key(key, from_master, wrapped, to_master)
            .await
    }
}
