//! Runs the saga steps whose target tenant this node serves (on a cluster, the tenants whose
//! shards it holds; a step for another node's tenant is left to that node).

use std::{sync::Arc, time::Duration};

use chrono::{TimeDelta, Utc};
use engine::{
    EngineError,
    domain::{ClientId, TenantScopeCommand, saga},
    journal::{AuditActor, EventLog},
    personal::Vault,
    runtime::{Engine, RequestMeta},
};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::outbox::{self, NewStep, SagaStepRow};
use crate::{Envelope, Error, Result, store::ReadStore};

/// Dispatcher tuning.
#[derive(Clone, Debug)]
pub struct DispatcherConfig {
    /// How often the outbox is looked at.
    pub poll: Duration,
    /// Steps read per look.
    pub batch: i64,
    /// First delay before a failed step is tried again; doubles up to `retry_max`.
    pub retry_initial: Duration,
    /// Longest delay between tries.
    pub retry_max: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(200),
            batch: 100,
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
        }
    }
}

/// Executes saga steps through the node's engine.
pub struct SagaDispatcher {
    store: ReadStore,
    engine: Engine,
    journal: Arc<dyn EventLog>,
    vault: Arc<Vault>,
    config: DispatcherConfig,
}

/// What one try of a step came to.
enum Tried {
    Done(String),
    Compensated(String, NewStep),
    Retry(String),
}

impl SagaDispatcher {
    /// A dispatcher on the node's store, engine, journal and vault.
    pub fn new(
        store: ReadStore,
        engine: Engine,
        journal: Arc<dyn EventLog>,
        vault: Arc<Vault>,
        config: DispatcherConfig,
    ) -> Self {
        Self {
            store,
            engine,
            journal,
            vault,
            config,
        }
    }

    /// Polls the outbox until the handle is aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(self.config.poll);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                self.run_due().await;
            }
        })
    }

    /// Runs every due step this node serves; returns how many it finished.
    pub async fn run_due(&self) -> usize {
        let now = Utc::now();
        let due = match outbox::pending_steps(&self.store, now, self.config.batch).await {
            Ok(due) => due,
            Err(error) => {
                warn!(%error, "cannot read the saga outbox");
                return 0;
            }
        };
        let mut finished = 0;
        for step in due.into_iter().filter(|s| self.engine.serves(s.target)) {
            let tried = self.try_step(&step).await;
            let now = Utc::now();
            let stored = match tried {
                Tried::Done(outcome) => {
                    finished += 1;
                    debug!(request_id = %step.request_id, %outcome, "saga step done");
                    outbox::finish(&self.store, &step.request_id, &outcome, now).await
                }
                Tried::Compensated(outcome, compensation) => {
                    finished += 1;
                    info!(request_id = %step.request_id, %outcome, "saga step refused; compensating");
                    outbox::finish_with(&self.store, &step.request_id, &outcome, compensation, now)
                        .await
                }
                Tried::Retry(error) => {
                    warn!(request_id = %step.request_id, attempts = step.attempts + 1, %error, "saga step failed; it is tried again");
                    let next = now + self.backoff(step.attempts);
                    outbox::retry_at(&self.store, &step.request_id, &error, next).await
                }
            };
            if let Err(error) = stored {
                warn!(request_id = %step.request_id, %error, "cannot record a saga step's outcome; it runs again (a replay)");
            }
        }
        finished
    }

    fn backoff(&self, attempts: i64) -> TimeDelta {
        let factor = 1u32 << attempts.clamp(0, 16);
        let delay = self
            .config
            .retry_initial
            .saturating_mul(factor)
            .min(self.config.retry_max);
        TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX)
    }

    async fn try_step(&self, row: &SagaStepRow) -> Tried {
        let step = match self.rebuild(row).await {
            Ok(step) => step,
            Err(error) => return Tried::Retry(error.to_string()),
        };
        let meta = RequestMeta {
            request_id: Some(row.request_id.clone()),
            actor: AuditActor {
                subject: "entity-engine/saga".into(),
                credential_kind: "engine".into(),
                ..AuditActor::default()
            },
            ..RequestMeta::default()
        };
        match self
            .engine
            .execute(step.target, step.command.clone(), meta)
            .await
        {
            Ok(outcome) if outcome.replayed => Tried::Done("replayed".into()),
            Ok(_) => Tried::Done("applied".into()),
            Err(EngineError::Domain(error)) => {
                let client = ClientId(row.cause.id);
                match saga::on_refused(row.source, client, &step, &error) {
                    saga::Refused::Done => Tried::Done(format!("nothing to do: {error}")),
                    saga::Refused::Compensate(compensation) if row.command.is_none() => {
                        match NewStep::compensating(
                            row,
                            compensation.target,
                            &compensation.command,
                            Utc::now(),
                        ) {
                            Ok(new) => Tried::Compensated(format!("refused: {error}"), new),
                            Err(e) => Tried::Retry(e.to_string()),
                        }
                    }
                    // A refused compensation is not compensated again.
                    saga::Refused::Compensate(_) => Tried::Done(format!("refused: {error}")),
                }
            }
            Err(error) => Tried::Retry(error.to_string()),
        }
    }

    /// The step a row stands for: a compensation's stored command, or the step derived again
    /// from the causing event (its personal values opened).
    async fn rebuild(&self, row: &SagaStepRow) -> Result<saga::SagaStep> {
        if let Some(command) = &row.command {
            let command: TenantScopeCommand = serde_json::from_str(command)
                .map_err(|e| Error::Corrupt(format!("saga step {}: {e}", row.request_id)))?;
            return Ok(saga::SagaStep {
                target: row.target,
                command,
            });
        }
        let cause = self
            .journal
            .read_stream(row.cause, row.cause_sequence - 1)
            .await?
            .into_iter()
            .next()
            .filter(|e| e.sequence == row.cause_sequence)
            .ok_or_else(|| {
                Error::Corrupt(format!(
                    "the cause of saga step {} is missing",
                    row.request_id
                ))
            })?;
        let mut envelopes = [Envelope::decode(cause)?];
        Envelope::open_personal(&mut envelopes, &self.vault).await?;
        let [envelope] = envelopes;
        let index = usize::try_from(row.index).unwrap_or(usize::MAX);
        saga::steps_for(envelope.recorded.tenant_id, &envelope.event)
            .into_iter()
            .nth(index)
            .filter(|step| step.target == row.target)
            .ok_or_else(|| {
                Error::Corrupt(format!(
                    "saga step {} no longer follows from its cause",
                    row.request_id
                ))
            })
    }
}
