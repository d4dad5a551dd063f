//! Projection lag under sustained write load: a measurement, not an assertion (DESIGN §9.12).
//! Writers drive commands through `Engine` as fast as they can for a while; for every write,
//! the time from its acknowledgement until every projection's checkpoint has passed its
//! consistency token is recorded. Prints commands/s, events/s and lag p50/p90/p99/max.
//!
//! `PROJECTION_LAG_SECS` (default 5) sets the duration, `PROJECTION_LAG_WRITERS` (default 16)
//! the writers; `PROJECTION_LAG_RATE` (commands/s over all writers) paces them instead of
//! writing as fast as acknowledgements come back, so the lag is measured at a chosen event
//! rate (about 1.7 events per command). Run with `--release -- --nocapture` to see it.
//!
//! `PROJECTION_LAG_MIX=records` makes every other command a directory record's (a department,
//! a location or a contact, in turn, created or updated): what the `records` read model costs.
//!
//! `PROJECTION_LAG_MIX=clients` makes every other command a client's (created with a classified
//! business profile, or, every fourth time, an earlier one renamed): what the search read model
//! and the analytics history cost beside the others.
//!
//! `PROJECTION_LAG_WITHOUT=search,analytics` leaves those standard read models out: what they
//! cost, measured in the same session.
//!
//! `PROJECTION_LAG_REBUILD=0` skips the rebuild at the end (the server's statistics then hold
//! the run alone).
//!
//! `PROJECTION_LAG_EXTRA=n` adds `n` throwaway read models (one row per event into a scratch
//! table, one bulk statement per batch) to the standard five: the marginal cost of one more
//! read model. On PostgreSQL with `pg_stat_statements` loaded (`scripts/bench`'s server), the
//! statements of the run are counted per command, the journal's apart from the read models'.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use engine::{
    domain::{
        Address, BusinessProfile, ClientCommand, ClientId, Contact, Department, Location,
        OrganizationId, RecordCommand, RecordFields, RecordId, StreamKind, TenantScopeCommand,
        UserId,
        classification::{Classified, IndustryGroup, SizeRange},
    },
    journal::CommitToken,
};
use projections::{
    Connection, Envelope, Projection, ProjectionHandle, ProjectionService, ReadStore, RunnerConfig,
    Tx, standard_projections,
};
use support::*;
use tokio::sync::mpsc;

/// A throwaway read model: one row per event (position, stream) in its own scratch table.
struct Scratch {
    name: String,
}

impl Scratch {
    async fn create(store: &ReadStore, k: usize) -> Arc<dyn Projection> {
        let name = format!("lag_scratch_{k}");
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {name} (position BIGINT PRIMARY KEY, stream_id TEXT NOT NULL)"
        );
        let mut tx = store.begin().await.unwrap();
        match tx.connection().unwrap() {
            Connection::Postgres(c) => {
                sqlx::query(&sql).execute(c).await.unwrap();
            }
            Connection::Sqlite(c) => {
                sqlx::query(&sql).execute(c).await.unwrap();
            }
        }
        tx.commit().await.unwrap();
        Arc::new(Self { name })
    }
}

#[async_trait]
impl Projection for Scratch {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, _: StreamKind) -> bool {
        true
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> projections::Result<()> {
        let positions: Vec<i64> = events.iter().map(|e| e.recorded.position).collect();
        let streams: Vec<String> = events
            .iter()
            .map(|e| e.recorded.stream.id.to_string())
            .collect();
        match tx.connection()? {
            Connection::Postgres(c) => {
                let sql = format!(
                    "INSERT INTO {} SELECT * FROM UNNEST($1::bigint[], $2::text[])",
                    self.name
                );
                sqlx::query(&sql)
                    .bind(positions)
                    .bind(streams)
                    .execute(c)
                    .await?;
            }
            Connection::Sqlite(c) => {
                let rows =
                    serde_json::to_string(&positions.iter().zip(&streams).collect::<Vec<_>>())
                        .unwrap();
                let sql = format!(
                    "INSERT INTO {} SELECT value ->> 0, value ->> 1 FROM json_each($1)",
                    self.name
                );
                sqlx::query(&sql).bind(rows).execute(c).await?;
            }
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> projections::Result<()> {
        let sql = format!("DELETE FROM {}", self.name);
        match tx.connection()? {
            Connection::Postgres(c) => sqlx::query(&sql).execute(c).await.map(drop)?,
            Connection::Sqlite(c) => sqlx::query(&sql).execute(c).await.map(drop)?,
        }
        Ok(())
    }
}

/// The standard projections but those `PROJECTION_LAG_WITHOUT` names (comma-separated), and
/// `PROJECTION_LAG_EXTRA` throwaway ones.
async fn start_with_extras(store: &Store, extra: usize) -> ProjectionService {
    let without = std::env::var("PROJECTION_LAG_WITHOUT").unwrap_or_default();
    let mut all = standard_projections();
    all.retain(|p| !without.split(',').any(|name| name.trim() == p.name()));
    for k in 0..extra {
        all.push(Scratch::create(&store.read, k).await);
    }
    ProjectionService::start(
        store.read.clone(),
        store.tail.clone(),
        store.vault.clone(),
        all,
        RunnerConfig::default(),
    )
    .await
    .unwrap()
}

/// Statements the server ran, by who ran them, if `pg_stat_statements` is loaded: resets them.
async fn statements(store: &Store, reset: bool) -> Option<Vec<(String, i64)>> {
    let ReadStore::Postgres { pool, .. } = &store.read else {
        return None;
    };
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(pool)
        .await
        .ok()?;
    if reset {
        sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(pool)
            .await
            .ok()?;
        return Some(Vec::new());
    }
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT query, calls FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(pool)
    .await
    .ok()?;
    Some(rows)
}

/// Whether a statement is the journal's (appends, timers, snapshots, keys) rather than a read
/// model's (tail reads, checkpoints, read-model tables).
fn journal_statement(query: &str) -> bool {
    let q = query.to_ascii_lowercase();
    let reads_tail = q.contains("from events") && !q.contains("insert into events");
    let journal_tables = [
        "insert into events",
        "timers",
        "snapshots",
        "unique_claims",
        "personal_keys",
        "stream_heads",
        "pg_current_xact",
        "cluster_",
        "idempotency",
    ];
    !reads_tail
        && !q.contains("projection_checkpoints")
        && journal_tables.iter().any(|t| q.contains(t))
}

/// The `i`-th record command of a writer: a new department, location or contact in turn, or,
/// every fourth time, an update of an earlier record.
fn record_command(records: &mut Vec<(RecordId, usize)>, i: usize) -> TenantScopeCommand {
    let kind = (i / 2) % 3;
    let fields = match kind {
        0 => RecordFields::Department(Department {
            name: format!("Department {i}"),
            code: format!("D-{i}"),
        }),
        1 => RecordFields::Location(Location {
            name: format!("Office {i}"),
            address: Address {
                line1: format!("{i} Main St"),
                city: "Springfield".into(),
                ..Address::default()
            },
            ..Location::default()
        }),
        _ => RecordFields::Contact(Contact {
            contact_type: "billing".into(),
            name: format!("Contact {i}"),
            email: format!("contact{i}@example.com"),
            phone: "+1 555 0100".into(),
            location_id: None,
        }),
    };
    if i.is_multiple_of(8)
        && let Some(&(id, kind)) = records.get(records.len() / 2)
    {
        let fields = match kind {
            0 => RecordFields::Department(Department {
                name: format!("Renamed {i}"),
                code: String::new(),
            }),
            1 => RecordFields::Location(Location {
                name: format!("Renamed {i}"),
                ..Location::default()
            }),
            _ => RecordFields::Contact(Contact {
                name: format!("Renamed {i}"),
                ..Contact::default()
            }),
        };
        return TenantScopeCommand::Record(RecordCommand::Update {
            id,
            fields,
            active: true,
            mask: vec!["name".into()],
        });
    }
    let id = RecordId::new_v7();
    records.push((id, kind));
    TenantScopeCommand::Record(RecordCommand::Create {
        id,
        client_id: None,
        fields,
    })
}

/// The `i`-th client command of a writer: a new client with a classified profile, or, every
/// eighth time, an earlier client renamed.
fn client_command(clients: &mut Vec<ClientId>, i: usize) -> TenantScopeCommand {
    if i.is_multiple_of(8)
        && let Some(&id) = clients.get(clients.len() / 2)
    {
        return TenantScopeCommand::Client(ClientCommand::Update {
            id,
            name: Some(format!("Renamed client {i}")),
            external_id: None,
            business_profile: None,
        });
    }
    let id = ClientId::new_v7();
    clients.push(id);
    TenantScopeCommand::Client(ClientCommand::Create {
        id,
        name: format!("Client {i}"),
        external_id: format!("crm-{i}"),
        business_profile: Some(BusinessProfile {
            legal_name: format!("Client {i} LLC"),
            industry_group: Classified::Code(IndustryGroup::SoftwareServices),
            size_range: Classified::Code(SizeRange::From51To200),
            ..BusinessProfile::default()
        }),
    })
}

/// Concurrent writers (each its own tenant) unless `PROJECTION_LAG_WRITERS` says otherwise.
const WRITERS: usize = 16;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Records, for each (token, acknowledged at), when every projection has passed the token.
async fn observe(
    handle: ProjectionHandle,
    mut acked: mpsc::UnboundedReceiver<(CommitToken, Instant)>,
    lags: Arc<Mutex<Vec<Duration>>>,
) {
    let mut pending: VecDeque<(CommitToken, Instant)> = VecDeque::new();
    let names = handle.names();
    let mut open = true;
    while open || !pending.is_empty() {
        loop {
            match acked.try_recv() {
                Ok(write) => pending.push_back(write),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        let passed = names
            .iter()
            .map(|n| handle.checkpoint(n).unwrap())
            .min()
            .unwrap();
        let now = Instant::now();
        {
            let mut lags = lags.lock().unwrap();
            pending.retain(|(token, at)| {
                if *token <= passed {
                    lags.push(now - *at);
                    false
                } else {
                    true
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn measure(store: Store, backend: &str) {
    let secs: u64 = std::env::var("PROJECTION_LAG_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let writer_count: usize = std::env::var("PROJECTION_LAG_WRITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(WRITERS);
    // Each writer's pause between commands when a total rate is asked for.
    let pace: Option<Duration> = std::env::var("PROJECTION_LAG_RATE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|rate| *rate > 0.0)
        .map(|rate| Duration::from_secs_f64(writer_count as f64 / rate));
    let extra: usize = std::env::var("PROJECTION_LAG_EXTRA")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mix = std::env::var("PROJECTION_LAG_MIX").unwrap_or_default();
    let (records_mix, clients_mix) = (mix == "records", mix == "clients");
    let engine = start_engine(&store).await;
    let service = start_with_extras(&store, extra).await;
    let handle = service.handle();
    let mut tenants = Vec::new();
    for _ in 0..writer_count {
        tenants.push(new_tenant(&engine).await.0);
    }
    caught_up(&handle).await;
    let start_head = store.tail.head().await.unwrap().unwrap();
    statements(&store, true).await;

    let lags = Arc::new(Mutex::new(Vec::new()));
    // Same-run reference: how long the commands themselves took to be acknowledged.
    let acks = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::unbounded_channel();
    let observer = tokio::spawn(observe(handle.clone(), rx, lags.clone()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    // Collected before awaiting any: a lazy iterator would start each writer only after the
    // previous one finished.
    let writers: Vec<_> = tenants
        .into_iter()
        .enumerate()
        .map(|(w, tenant)| {
            let engine = engine.clone();
            let tx = tx.clone();
            let acks = acks.clone();
            tokio::spawn(async move {
                let mut commands = 0usize;
                let mut refused = 0usize;
                let mut parents: Vec<OrganizationId> = Vec::new();
                let mut records: Vec<(RecordId, usize)> = Vec::new();
                let mut clients: Vec<ClientId> = Vec::new();
                let mut i = 0usize;
                while Instant::now() < deadline {
                    if let Some(pace) = pace {
                        // Open loop per writer: the i-th command is due at start + i × pace.
                        let due = started + pace.mul_f64(i as f64);
                        tokio::time::sleep_until(due.into()).await;
                    }
                    i += 1;
                    let command = if records_mix && i.is_multiple_of(2) {
                        record_command(&mut records, i)
                    } else if clients_mix && i.is_multiple_of(2) {
                        client_command(&mut clients, i)
                    } else if i.is_multiple_of(3) {
                        let id = UserId::new_v7();
                        let email = format!("lag{w}.{i}@example.com");
                        invite(
                            id,
                            &email,
                            parents.last().copied(),
                            &engine::secrets::token_hash(&email),
                        )
                    } else {
                        let id = OrganizationId::new_v7();
                        let parent = parents.get(i % 7).copied();
                        parents.push(id);
                        create_org(id, &format!("Org {i}"), parent)
                    };
                    let sent = Instant::now();
                    match engine.execute(tenant, command, meta()).await {
                        Ok(done) => {
                            acks.lock().unwrap().push(sent.elapsed());
                            commands += 1;
                            let _ = tx.send((done.token, Instant::now()));
                        }
                        Err(e) => {
                            refused += 1;
                            if refused == 1 {
                                eprintln!("writer {w}: command refused: {e}");
                            }
                        }
                    }
                }
                (commands, refused)
            })
        })
        .collect();
    let (mut commands, mut refused) = (0, 0);
    for writer in writers {
        let (done, failed) = writer.await.unwrap();
        commands += done;
        refused += failed;
    }
    let writing = started.elapsed();
    drop(tx);
    tokio::time::timeout(Duration::from_secs(120), observer)
        .await
        .expect("projections caught up")
        .unwrap();
    let events = store.tail.count_after(start_head, i64::MAX).await.unwrap();
    if let Some(all) = statements(&store, false).await {
        let (journal, other): (Vec<_>, Vec<_>) =
            all.iter().partition(|(q, _)| journal_statement(q));
        let count = |s: &[&(String, i64)]| s.iter().map(|(_, c)| c).sum::<i64>() as f64;
        let per = commands.max(1) as f64;
        println!(
            "[{backend}] statements per command: journal {:.2}, read models {:.2} ({} read models)",
            count(&journal) / per,
            count(&other) / per,
            handle.names().len(),
        );
        let mut top: Vec<_> = other.iter().collect();
        top.sort_by_key(|(_, c)| -c);
        for (query, calls) in top.iter().take(8) {
            let short: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
            println!("[{backend}]   {calls:>8}  {:.110}", short);
        }
    }

    let mut lags = lags.lock().unwrap().clone();
    lags.sort();
    let mut acks = acks.lock().unwrap().clone();
    acks.sort();
    let status = handle.status().await;
    println!(
        "[{backend}] {writer_count} writers{} for {:.1} s: {commands} commands ({:.0}/s, {refused} refused), {events} events \
         ({:.0}/s); commit→all read models lag over {} writes: p50 {:.1} ms, p90 {:.1} ms, \
         p99 {:.1} ms, max {:.1} ms",
        pace.map(|p| format!(
            " paced at {:.0} commands/s",
            writer_count as f64 / p.as_secs_f64()
        ))
        .unwrap_or_default(),
        writing.as_secs_f64(),
        commands as f64 / writing.as_secs_f64(),
        events as f64 / writing.as_secs_f64(),
        lags.len(),
        percentile(&lags, 0.50),
        percentile(&lags, 0.90),
        percentile(&lags, 0.99),
        percentile(&lags, 1.0),
    );
    println!(
        "[{backend}] reference, same run: command acknowledgment p50 {:.1} ms, p99 {:.1} ms; \
         lag p99 / ack p99 = {:.2}",
        percentile(&acks, 0.50),
        percentile(&acks, 0.99),
        percentile(&lags, 0.99) / percentile(&acks, 0.99),
    );
    for s in status {
        println!(
            "[{backend}]   {}: applied {} events, {} behind, failures {}",
            s.name,
            s.applied_events,
            s.events_behind.unwrap_or(-1),
            s.failures
        );
    }
    if std::env::var("PROJECTION_LAG_REBUILD").is_ok_and(|v| v == "0") {
        service.stop().await;
        engine.shutdown().await;
        return;
    }
    // Catch-up throughput: rebuild every projection from zero at once and time it.
    let total = store
        .tail
        .count_after(
            CommitToken {
                transaction_id: 0,
                position: 0,
            },
            i64::MAX,
        )
        .await
        .unwrap();
    let rebuild_started = Instant::now();
    for name in handle.names() {
        handle.rebuild(&name).await.unwrap();
    }
    caught_up(&handle).await;
    let took = rebuild_started.elapsed();
    println!(
        "[{backend}] rebuilding all {} projections over {total} events took {:.2} s: \
         {:.0} events/s per projection",
        handle.names().len(),
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_projection_lag_under_load() {
    let (_db, _journal, store) = postgres().await;
    measure(store, "postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_projection_lag_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    measure(store, "sqlite").await;
}
