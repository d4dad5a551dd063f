//! The resolver seam of domain verification: the TXT records at a domain.
//!
//! Production uses the system's DNS configuration ([`SystemResolver`], `hickory-resolver`);
//! tests and air-gapped installations use fixed records ([`StaticResolver`]). The records are
//! handed to the domain, which decides whether one proves the domain.

use std::{collections::HashMap, sync::Arc, time::Duration};

use hickory_resolver::{TokioResolver, name_server::TokioConnectionProvider};

/// Longest wait for one lookup.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// Most TXT records read at one domain (the rest are ignored).
pub const MAX_TXT_RECORDS: usize = 64;
/// Longest TXT record kept (longer ones cannot be ours).
pub const MAX_TXT_RECORD_BYTES: usize = 512;

/// Why a lookup gave no answer (distinct from "no TXT records", which is an empty answer).
#[derive(Debug, thiserror::Error)]
#[error("DNS lookup failed: {0}")]
pub struct LookupFailed(pub String);

/// Looks up the TXT records at a domain.
#[async_trait::async_trait]
pub trait TxtResolver: Send + Sync + 'static {
    /// The TXT records at `domain` (each record's strings joined), empty when there are none.
    async fn txt(&self, domain: &str) -> Result<Vec<String>, LookupFailed>;
}

/// The system's resolver (`/etc/resolv.conf` on Unix), built at the first lookup.
#[derive(Default)]
pub struct SystemResolver {
    resolver: tokio::sync::OnceCell<TokioResolver>,
}

#[async_trait::async_trait]
impl TxtResolver for SystemResolver {
    async fn txt(&self, domain: &str) -> Result<Vec<String>, LookupFailed> {
        let resolver = self
            .resolver
            .get_or_try_init(|| async {
                let mut builder = TokioResolver::builder(TokioConnectionProvider::default())
                    .map_err(|e| LookupFailed(format!("no system resolver configuration: {e}")))?;
                // No cache: a record published a minute ago must be seen now, not after the
                // TTL of an earlier answer.
                builder.options_mut().cache_size = 0;
                Ok(builder.build())
            })
            .await?;
        // A fully qualified name: the search domains of resolv.conf never apply.
        let name = format!("{}.", domain.trim_end_matches('.'));
        let lookup = tokio::time::timeout(LOOKUP_TIMEOUT, resolver.txt_lookup(name)).await;
        match lookup {
            Err(_) => Err(LookupFailed(format!(
                "no answer within {} s",
                LOOKUP_TIMEOUT.as_secs()
            ))),
            Ok(Ok(records)) => Ok(records
                .iter()
                .take(MAX_TXT_RECORDS)
                .map(|txt| {
                    txt.txt_data()
                        .iter()
                        .map(|part| String::from_utf8_lossy(part))
                        .collect::<String>()
                })
                .filter(|r| r.len() <= MAX_TXT_RECORD_BYTES)
                .collect()),
            Ok(Err(e)) if e.is_no_records_found() => Ok(Vec::new()),
            Ok(Err(e)) => Err(LookupFailed(e.to_string())),
        }
    }
}

/// Fixed TXT records by domain (tests; installations that verify domains out of band).
#[derive(Clone, Debug, Default)]
pub struct StaticResolver {
    records: Arc<std::sync::RwLock<HashMap<String, Vec<String>>>>,
}

impl StaticResolver {
    /// An empty resolver: every domain has no TXT record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the records at `domain` (lower case).
    pub fn set(&self, domain: &str, records: Vec<String>) {
        if let Ok(mut map) = self.records.write() {
            map.insert(domain.to_ascii_lowercase(), records);
        }
    }
}

#[async_trait::async_trait]
impl TxtResolver for StaticResolver {
    async fn txt(&self, domain: &str) -> Result<Vec<String>, LookupFailed> {
        let map = self
            .records
            .read()
            .map_err(|_| LookupFailed("resolver state poisoned".into()))?;
        Ok(map.get(domain).cloned().unwrap_or_default())
    }
}
