//! The master key of personal data (SPEC §6) in `entityd`: `entityd keys generate` and
//! `entityd keys rotate-master`, the embedded mode's key file, and the start-up check of a
//! node's master keys against its store (before the node writes anything).
//!
//! A master key is 32 random bytes in a file (64 hex digits, mode 0600). It wraps every
//! person's data key; it never enters the database, which knows only its id (a keyed
//! fingerprint). Losing it makes every person's email and name unreadable and nothing else.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use chrono::Utc;
use clap::{Args, Subcommand};
use engine::{
    journal::{KeyStore, MasterKeyRecord, postgres::PostgresJournal, sqlite::SqliteJournal},
    personal::{MasterKey, MasterKeyCheckError, MasterKeyError, MasterKeys, Vault},
};

use crate::{
    config::{MASTER_KEY_FILE_ENV, PREVIOUS_MASTER_KEY_FILE_ENV, ServeSettings, load_master_key},
    error::{GatewayError, Result},
};

/// File name of the embedded mode's master key in its data directory.
pub const EMBEDDED_MASTER_KEY_FILE: &str = "master.key";

/// Data keys re-wrapped per read of the key table during a rotation.
const ROTATION_BATCH: i64 = 500;

/// The embedded mode's master key file in `data_dir`.
pub fn embedded_master_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(EMBEDDED_MASTER_KEY_FILE)
}

/// The `keys` subcommand.
#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    action: KeysAction,
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// Write a new random master key to a file (mode 0600; never overwrites) and print its id.
    ///
    /// The key itself is never printed. Keep the file in a secret store, away from the
    /// database and its backups: whoever holds both reads every person's email and name, and
    /// losing the key makes them unreadable for good.
    Generate(GenerateArgs),
    /// Re-wrap every person's data key under a new master key, while the nodes serve.
    ///
    /// Rotating the master key of a PostgreSQL cluster without downtime:
    ///
    ///   1. entityd keys generate --out NEW
    ///   2. restart the nodes one by one with
    ///      --master-key-file NEW --previous-master-key-file OLD
    ///      (they wrap new keys with NEW and still read those wrapped by OLD)
    ///   3. entityd keys rotate-master --database-url URL --master-key-file OLD
    ///      --new-key-file NEW
    ///      (re-wraps every data key wrapped by OLD under NEW, then retires OLD; run it again
    ///      if it is interrupted)
    ///   4. restart the nodes with --master-key-file NEW only, then destroy OLD
    ///      (a node started with a retired key refuses to start)
    ///
    /// Embedded mode: stop entityd, run `entityd keys rotate-master --data-dir DIR
    /// --new-key-file NEW` (the current key is DIR/master.key), replace DIR/master.key with
    /// NEW, start entityd.
    #[command(verbatim_doc_comment)]
    RotateMaster(RotateArgs),
    /// Give up a LOST master key: destroy every data key it wrapped, so that the nodes can
    /// start with a new key.
    ///
    /// For disasters only. Every person whose key it wrapped reads as erased from then on
    /// (their email and name were unreadable anyway, without the key); nothing else changes:
    /// tenants, organizations, teams, roles, assignments and the audit trail's ids stay. Then
    /// start the nodes with a new key (`entityd keys generate`). The id is the one a node's
    /// refusal names ("its key ids: …").
    AbandonMaster(AbandonArgs),
}

#[derive(Debug, Args)]
struct AbandonArgs {
    /// Id of the lost master key.
    #[arg(long)]
    id: String,
    /// Confirms that the key is lost and its people's data is to be given up for good.
    #[arg(long)]
    the_key_is_lost: bool,
    /// PostgreSQL URL of the store; without it (and without --config), the embedded store.
    #[arg(long, env = "ENTITYD_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The nodes' `serve` configuration file (its database-url applies if not given).
    #[arg(long, env = "ENTITYD_CONFIG")]
    config: Option<PathBuf>,
    /// Embedded store: the node's data directory [default: the top-level --data-dir].
    #[arg(long = "data-dir")]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// The file to create (must not exist).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct RotateArgs {
    /// The new master key (made with `entityd keys generate`).
    #[arg(long)]
    new_key_file: PathBuf,
    /// The current (old) master key [embedded default: DIR/master.key].
    #[arg(long, env = MASTER_KEY_FILE_ENV)]
    master_key_file: Option<PathBuf>,
    /// Another old master key to retire with it (a rotation interrupted before).
    #[arg(long, env = PREVIOUS_MASTER_KEY_FILE_ENV)]
    previous_master_key_file: Option<PathBuf>,
    /// PostgreSQL URL of the cluster's store; without it (and without --config), the
    /// embedded store in --data-dir.
    #[arg(long, env = "ENTITYD_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The nodes' `serve` configuration file: its database-url, master-key-file and
    /// previous-master-key-file apply where not given as flags.
    #[arg(long, env = "ENTITYD_CONFIG")]
    config: Option<PathBuf>,
    /// Embedded store: the node's data directory [default: the top-level --data-dir].
    #[arg(long = "data-dir")]
    data_dir: Option<PathBuf>,
}

/// Runs `entityd keys …`; `data_dir` is the top-level `--data-dir`.
///
/// # Errors
/// Bad key files, keys the store does not know (configuration errors); store failures.
pub async fn run(args: KeysArgs, data_dir: PathBuf) -> Result<()> {
    match args.action {
        KeysAction::Generate(args) => generate(&args.out),
        KeysAction::RotateMaster(args) => rotate(args, data_dir).await,
        KeysAction::AbandonMaster(args) => abandon(args, data_dir).await,
    }
}

/// Opens (and migrates) the store of a key command: PostgreSQL at `database_url`, else the
/// embedded store in `data_dir`, which must exist.
async fn open_store(
    database_url: Option<&str>,
    data_dir: PathBuf,
) -> Result<(RotationStore, Arc<dyn KeyStore>)> {
    let store = match database_url {
        Some(url) => RotationStore::Postgres(PostgresJournal::connect(url, 4).await?),
        None => {
            let db = data_dir.join("journal.db");
            if !db.exists() {
                return Err(GatewayError::Config(format!(
                    "no embedded store at {} (give --data-dir or --database-url)",
                    db.display()
                )));
            }
            RotationStore::Sqlite(SqliteJournal::open(&db).await?, data_dir)
        }
    };
    let key_store: Arc<dyn KeyStore> = match &store {
        RotationStore::Postgres(journal) => {
            journal.migrate().await?;
            Arc::new(journal.clone())
        }
        RotationStore::Sqlite(journal, _) => {
            journal.migrate().await?;
            Arc::new(journal.clone())
        }
    };
    Ok((store, key_store))
}

async fn abandon(args: AbandonArgs, top_data_dir: PathBuf) -> Result<()> {
    if !args.the_key_is_lost {
        return Err(GatewayError::Config(
            "abandoning a master key destroys every data key it wrapped: every person it \
             protected reads as erased for good. If the key is really lost, run again with \
             --the-key-is-lost"
                .into(),
        ));
    }
    let file = match &args.config {
        Some(path) => ServeSettings::load(path)?,
        None => ServeSettings::default(),
    };
    let database_url = args.database_url.clone().or(file.database_url);
    let data_dir = args.data_dir.clone().unwrap_or(top_data_dir);
    let (_store, key_store) = open_store(database_url.as_deref(), data_dir).await?;
    let records = key_store.master_keys().await?;
    if !records.iter().any(|r| r.id == args.id) {
        let known: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        return Err(GatewayError::Config(format!(
            "this store never used master key {} (its key ids: {}); nothing was changed",
            args.id,
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    let destroyed = key_store.abandon_master_key(&args.id, Utc::now()).await?;
    println!("master key {} abandoned and retired", args.id);
    println!("data keys destroyed: {destroyed} (those people now read as erased)");
    println!(
        "next step: start the nodes with a new key (entityd keys generate --out FILE; the \
         embedded mode makes a new master.key by itself)"
    );
    Ok(())
}

fn generate(out: &Path) -> Result<()> {
    let key = MasterKey::create_file(out).map_err(|e| match e {
        MasterKeyError::Uncreatable { source, .. }
            if source.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            GatewayError::Config(format!(
                "{} exists: a master key file is never overwritten (the key in it may protect \
                 a store); choose another path",
                out.display()
            ))
        }
        other => GatewayError::Config(other.to_string()),
    })?;
    println!("id: {}", key.id());
    println!("file: {}", out.display());
    eprintln!(
        "master key written (mode 0600). Keep it in a secret store, out of the database's \
         backups; without it every person's email and name is unreadable. Start nodes with \
         --master-key-file {}",
        out.display()
    );
    Ok(())
}

/// The store of a rotation, and how to describe the next step.
enum RotationStore {
    Postgres(PostgresJournal),
    Sqlite(SqliteJournal, PathBuf),
}

async fn rotate(args: RotateArgs, top_data_dir: PathBuf) -> Result<()> {
    let file = match &args.config {
        Some(path) => ServeSettings::load(path)?,
        None => ServeSettings::default(),
    };
    let database_url = args.database_url.clone().or(file.database_url);
    let previous_file = args
        .previous_master_key_file
        .clone()
        .or(file.previous_master_key_file);
    let data_dir = args.data_dir.clone().unwrap_or(top_data_dir);
    let current_file = match (
        args.master_key_file.clone().or(file.master_key_file),
        &database_url,
    ) {
        (Some(path), _) => path,
        (None, None) => embedded_master_key_path(&data_dir),
        (None, Some(_)) => {
            return Err(GatewayError::Config(format!(
                "--master-key-file (or {MASTER_KEY_FILE_ENV}) is required: the current master \
                 key, whose data keys are re-wrapped under --new-key-file"
            )));
        }
    };
    // Every key is read before the store is touched: a bad file changes nothing.
    let new = load_master_key(&args.new_key_file)?;
    let mut keys = MasterKeys::new(load_master_key(&current_file)?);
    if let Some(previous) = &previous_file {
        keys = keys.with_previous(load_master_key(previous)?);
    }
    let old: Vec<&MasterKey> = keys.all().filter(|k| k.id() != new.id()).collect();
    if old.is_empty() {
        return Err(GatewayError::Config(format!(
            "nothing to rotate: --new-key-file {} is the key given as --master-key-file; give \
             the old key as --master-key-file (or --previous-master-key-file)",
            args.new_key_file.display()
        )));
    }
    let (store, key_store) = open_store(database_url.as_deref(), data_dir).await?;
    let records = key_store.master_keys().await?;
    check_rotation(&records, &old, &new)?;
    if !records.iter().any(|r| r.id == new.id()) {
        eprintln!(
            "note: no node has started with the new key (id {}) yet. Nodes still running with \
             only the old key cannot read what this rotation re-wraps: restart them with \
             --master-key-file NEW --previous-master-key-file OLD first (see --help)",
            new.id()
        );
    }
    let vault = Vault::new(Arc::new(keys.clone()), key_store);
    let report = vault
        .rotate_to(&new, ROTATION_BATCH, Utc::now())
        .await
        .map_err(|e| match e {
            engine::personal::VaultError::Store(e) => GatewayError::Journal(e),
            other => {
                GatewayError::Journal(engine::journal::JournalError::Corrupt(other.to_string()))
            }
        })?;
    println!("master key rotation finished");
    println!("new master key: {}", new.id());
    println!("keys re-wrapped: {}", report.rewrapped);
    println!(
        "keys skipped: {} (erased or re-wrapped by another run meanwhile)",
        report.skipped
    );
    println!("retired master keys: {}", report.retired.join(", "));
    match &store {
        RotationStore::Postgres(_) => println!(
            "next step: restart the nodes with --master-key-file {} only (without \
             --previous-master-key-file), then destroy the old key file(s): a node started \
             with a retired key refuses to start",
            args.new_key_file.display()
        ),
        RotationStore::Sqlite(_, data_dir) => println!(
            "next step: replace {} with {} (or start entityd with --master-key-file {}), then \
             destroy the old key",
            embedded_master_key_path(data_dir).display(),
            args.new_key_file.display(),
            args.new_key_file.display()
        ),
    }
    Ok(())
}

/// Refuses a rotation that would strand data: an old key the store never used (a wrong
/// file), a new key an earlier rotation retired, or another key still in use that this run
/// does not hold (what it wraps would stay behind, unreadable to nodes with the new key only).
fn check_rotation(records: &[MasterKeyRecord], old: &[&MasterKey], new: &MasterKey) -> Result<()> {
    let known = |id: &str| records.iter().find(|r| r.id == id);
    let ids = |f: &dyn Fn(&MasterKeyRecord) -> bool| {
        let ids: Vec<&str> = records
            .iter()
            .filter(|r| f(r))
            .map(|r| r.id.as_str())
            .collect();
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.join(", ")
        }
    };
    for key in old {
        if known(key.id()).is_none() {
            return Err(GatewayError::Config(format!(
                "the old master key (id {}) was never used with this store (its key ids: {}); \
                 give the key the nodes run with as --master-key-file",
                key.id(),
                ids(&|_| true)
            )));
        }
    }
    if known(new.id()).is_some_and(|r| r.retired_at.is_some()) {
        return Err(GatewayError::Config(format!(
            "the new master key (id {}) was retired by an earlier rotation; generate a fresh \
             one with `entityd keys generate --out FILE`",
            new.id()
        )));
    }
    let stranded =
        ids(&|r| r.retired_at.is_none() && r.id != new.id() && !old.iter().any(|k| k.id() == r.id));
    if stranded != "none" {
        return Err(GatewayError::Config(format!(
            "this store also uses master key(s) {stranded}, which this rotation does not hold; \
             give the file as --previous-master-key-file so that its keys are re-wrapped too"
        )));
    }
    Ok(())
}

/// The embedded mode's master keys: `--master-key-file` if given, else `DIR/master.key`,
/// created at the first start (mode 0600). A missing key file is not re-created when the
/// store already holds personal data under another key (it would not read it).
///
/// # Errors
/// Unreadable or malformed key files, a missing key of a store in use (configuration
/// errors); store failures.
pub async fn embedded_master_keys(
    data_dir: &Path,
    master_key_file: Option<&Path>,
    previous_master_key_file: Option<&Path>,
    store: &dyn KeyStore,
) -> Result<Arc<MasterKeys>> {
    let current = match master_key_file {
        Some(path) => load_master_key(path)?,
        None => {
            let path = embedded_master_key_path(data_dir);
            let exists = std::fs::symlink_metadata(&path).is_ok();
            if !exists {
                let active: Vec<String> = store
                    .master_keys()
                    .await?
                    .into_iter()
                    .filter(|r| r.retired_at.is_none())
                    .map(|r| r.id)
                    .collect();
                if !active.is_empty() {
                    return Err(GatewayError::Config(format!(
                        "the master key file {} is missing, but this store's personal data is \
                         protected by master key {}: restore that file (or give \
                         --master-key-file); a new key could not read it",
                        path.display(),
                        active.join(", ")
                    )));
                }
            }
            let key = MasterKey::load_or_create(&path)
                .map_err(|e| GatewayError::Config(e.to_string()))?;
            if !exists {
                tracing::info!(path = %path.display(), id = key.id(), "master key created");
                eprintln!(
                    "created the master key {} (mode 0600): it encrypts personal data; keep it \
                     out of backups of the journal",
                    path.display()
                );
            }
            key
        }
    };
    let mut keys = MasterKeys::new(current);
    if let Some(previous) = previous_master_key_file {
        keys = keys.with_previous(load_master_key(previous)?);
    }
    Ok(Arc::new(keys))
}

/// Checks a node's master keys against its store before it writes anything (and records the
/// current key). A key that does not protect the store, or was retired, is a configuration
/// error (exit code 2).
///
/// # Errors
/// See above; store failures.
pub async fn check_master_keys(keys: &Arc<MasterKeys>, store: Arc<dyn KeyStore>) -> Result<()> {
    let vault = Vault::new(keys.clone(), store);
    match vault.check_master_keys(Utc::now()).await {
        Ok(()) => {
            tracing::info!(
                id = keys.current().id(),
                "master key checked against the store"
            );
            Ok(())
        }
        Err(MasterKeyCheckError::Store(e)) => Err(GatewayError::Journal(e)),
        Err(e) => Err(GatewayError::Config(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn record(id: &str, retired: bool) -> MasterKeyRecord {
        MasterKeyRecord {
            id: id.to_owned(),
            registered_at: Utc::now(),
            retired_at: retired.then(Utc::now),
        }
    }

    #[test]
    fn rotations_that_would_strand_data_are_refused() {
        let old = MasterKey::generate().unwrap();
        let new = MasterKey::generate().unwrap();
        let other = MasterKey::generate().unwrap();
        let ok = [record(old.id(), false), record(new.id(), false)];
        assert!(check_rotation(&ok, &[&old], &new).is_ok());
        assert!(check_rotation(&ok[..1], &[&old], &new).is_ok(), "offline");
        let err = check_rotation(&[record(other.id(), false)], &[&old], &new).unwrap_err();
        assert!(err.to_string().contains("never used"), "{err}");
        let err = check_rotation(
            &[record(old.id(), false), record(new.id(), true)],
            &[&old],
            &new,
        )
        .unwrap_err();
        assert!(err.to_string().contains("retired"), "{err}");
        let err = check_rotation(
            &[record(old.id(), false), record(other.id(), false)],
            &[&old],
            &new,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("--previous-master-key-file"),
            "{err}"
        );
        // A re-run after an interruption: the old key already retired.
        assert!(
            check_rotation(
                &[record(old.id(), true), record(new.id(), false)],
                &[&old],
                &new
            )
            .is_ok()
        );
    }

    #[test]
    fn generate_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        generate(&path).unwrap();
        let before = std::fs::read(&path).unwrap();
        let err = generate(&path).unwrap_err();
        assert!(matches!(&err, GatewayError::Config(m) if m.contains("never overwritten")));
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
