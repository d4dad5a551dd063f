//! `entityd projections status|rebuild`: operator commands on the read models of a store,
//! run beside the nodes (or with none running).
//!
//! - `status` prints every projection's checkpoint and lag, computed from the store itself:
//!   events committed after the checkpoint, and the age of the oldest of them (the lag in
//!   time). A node's own view, with failure counters, is `entityctl admin projections`.
//! - `rebuild NAME` deletes the projection's rows and resets its checkpoint in one
//!   transaction; the nodes running it notice and rebuild from the start of the journal while
//!   they keep serving. Until it has caught up, reads with a consistency token wait (and may
//!   answer UNAVAILABLE); reads without one see a partial model.
//!
//! Neither reads a personal value, so neither takes a master key: `status` only counts
//! events and reads their commit times, and `rebuild` only resets; the nodes that rebuild
//! decode the events with their own master keys (`--master-key-file`).

use std::{path::PathBuf, sync::Arc};

use clap::{Args, Subcommand};
use engine::journal::{postgres::PostgresJournal, sqlite::SqliteJournal, tail::JournalTail};
use projections::{ReadStore, standard_projections};

use crate::error::{GatewayError, Result};

/// Events counted behind a checkpoint at most (the figure stays cheap when far behind).
const BEHIND_CAP: i64 = 1_000_000;

/// The projections subcommand.
#[derive(Debug, Args)]
pub struct ProjectionsArgs {
    #[command(subcommand)]
    action: Action,
    /// PostgreSQL URL of the cluster's store; without it, the embedded store in --data-dir.
    #[arg(
        long,
        env = "ENTITYD_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print each projection's checkpoint and lag.
    Status,
    /// Rebuild a projection from zero while the service runs.
    Rebuild {
        /// The projection (see `status` for the names).
        name: String,
    },
}

/// Runs the subcommand against the store named by `--database-url`, or the embedded store in
/// `data_dir`.
///
/// # Errors
/// Unknown projection name (configuration error); store errors.
pub async fn run(args: ProjectionsArgs, data_dir: PathBuf) -> Result<()> {
    let (store, tail): (ReadStore, Arc<dyn JournalTail>) = match &args.database_url {
        Some(url) => {
            let journal = PostgresJournal::connect(url, 2).await?;
            journal.migrate().await?;
            (ReadStore::postgres(&journal), Arc::new(journal))
        }
        None => {
            let path = data_dir.join("journal.db");
            if !path.exists() {
                return Err(GatewayError::Config(format!(
                    "no embedded store at {} (give --data-dir or --database-url)",
                    path.display()
                )));
            }
            let journal = SqliteJournal::open(&path).await?;
            journal.migrate().await?;
            (ReadStore::sqlite(&journal), Arc::new(journal))
        }
    };
    match args.action {
        Action::Status => status(&store, tail.as_ref()).await,
        Action::Rebuild { name } => rebuild(&store, &name).await,
    }
}

async fn status(store: &ReadStore, tail: &dyn JournalTail) -> Result<()> {
    println!(
        "{:<20} {:<28} {:>14} {:>10}",
        "PROJECTION", "CHECKPOINT", "EVENTS BEHIND", "LAG MS"
    );
    let all = standard_projections();
    let mut names: Vec<&str> = all.iter().map(|p| p.name()).collect();
    // The publisher only where it has ever run (Kafka is configured per node).
    let kafka = projections::kafka::KafkaPublisher::NAME;
    if store.checkpoint(kafka).await?.is_some() {
        names.push(kafka);
    }
    for status in projections::stored_status(store, tail, &names, BEHIND_CAP).await? {
        let behind = status.events_behind.unwrap_or_default();
        let behind = if status.behind_capped {
            format!(">={behind}")
        } else {
            behind.to_string()
        };
        let at = status.checkpoint.to_string();
        let lag_ms = status.lag_ms.unwrap_or_default();
        println!("{:<20} {at:<28} {behind:>14} {lag_ms:>10}", status.name);
    }
    let outbox = projections::saga::outbox_status(store).await?;
    println!("{}", outbox_line(&outbox, chrono::Utc::now()));
    Ok(())
}

async fn rebuild(store: &ReadStore, name: &str) -> Result<()> {
    let all = standard_projections();
    match projections::reset_named(store, &all, name).await {
        Err(projections::Error::UnknownProjection(_)) => {
            let known: Vec<&str> = all.iter().map(|p| p.name()).collect();
            return Err(GatewayError::Config(format!(
                "unknown projection {name:?}; known: {}",
                known.join(", ")
            )));
        }
        other => other?,
    }
    println!(
        "projection {name} reset; running nodes rebuild it from the start of the journal \
         (watch `entityd projections status`)"
    );
    Ok(())
}

/// The saga outbox in one line: `sagas outbox: 3 pending (1 retrying), oldest 12 s ago: <error>`.
fn outbox_line(o: &projections::saga::OutboxStatus, now: chrono::DateTime<chrono::Utc>) -> String {
    let mut line = format!(
        "sagas outbox: {} pending ({} retrying)",
        o.pending, o.retrying
    );
    if let Some(at) = o.oldest_pending_at {
        let age = (now - at).num_seconds().max(0);
        line.push_str(&format!(", oldest {age} s ago"));
    }
    if let Some(error) = &o.oldest_error {
        line.push_str(&format!(": {error}"));
    }
    line
}

#[cfg(test)]
mod outbox_tests {
    use super::*;

    #[test]
    fn the_outbox_line_names_counts_age_and_error() {
        let now = chrono::Utc::now();
        let idle = projections::saga::OutboxStatus::default();
        assert_eq!(
            outbox_line(&idle, now),
            "sagas outbox: 0 pending (0 retrying)"
        );
        let busy = projections::saga::OutboxStatus {
            pending: 3,
            retrying: 1,
            oldest_pending_at: Some(now - chrono::TimeDelta::seconds(12)),
            oldest_error: Some("tenant suspended".into()),
        };
        assert_eq!(
            outbox_line(&busy, now),
            "sagas outbox: 3 pending (1 retrying), oldest 12 s ago: tenant suspended"
        );
    }
}
