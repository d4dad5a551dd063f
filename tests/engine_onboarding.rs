//! The tenant onboarding saga against real PostgreSQL (and the embedded SQLite store): it
//! completes, and it resumes where a crash left it (whether the interrupted step's commit was
//! lost or only its acknowledgment), without running any step twice; a business tenant created
//! with an address has its headquarters location whatever crashed. Also: invitations expire by
//! the engine's own timer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_trait::async_trait;
use chrono::{SubsecRound, Utc};
use engine::{
    EngineError,
    domain::{
        Address, BuiltinRole, BusinessProfile, DEFAULT_ORGANIZATION_NAME, DomainError,
        InvitationState, OnboardingPlan, OrganizationId, Plan, RecordKind, Scope, TenantId,
        TenantScopeCommand, UserCommand, UserId, UserStatus, headquarters_id,
    },
    journal::{AppendBatch, AppendReceipt, EventLog, Journal, JournalError},
    runtime::{Engine, EngineConfig, EntityView, RequestMeta},
    secrets::parse_invitation_token,
    testing::{Hooks, Intercepted, ManualClock, TestDatabase, new_tenant, tenant_command},
};
use uuid::Uuid;

fn create(id: TenantId) -> (TenantScopeCommand, OnboardingPlan) {
    let plan = OnboardingPlan {
        default_organization_id: OrganizationId::new_v7(),
        owner_user_id: UserId::new_v7(),
        owner_email: "Owner@Example.com".into(),
        owner_token_hash: None,
    };
    let mut create = new_tenant(id, "Onboarded");
    create.slug = format!("o-{}", Uuid::new_v4().simple());
    create.plan = Plan::Bronze;
    create.onboarding = plan.clone();
    create.business_profile = Some(BusinessProfile {
        legal_name: "Onboarded Inc.".into(),
        address: Some(Address {
            line1: "1 Main St".into(),
            city: "Springfield".into(),
            ..Address::default()
        }),
        ..BusinessProfile::default()
    });
    let command = tenant_command(create);
    (command, plan)
}

/// How the injected crash hits the first append holding an event of a given type.
#[derive(Clone, Copy)]
enum Crash {
    /// The append never reaches the database.
    BeforeCommit,
    /// The append commits, but the writer never hears back.
    AfterCommit,
}

/// Hooks that crash once, on the first append holding `event_type`.
struct CrashingAppend {
    event_type: &'static str,
    crash: Crash,
    crashed: AtomicBool,
}

#[async_trait]
impl Hooks for CrashingAppend {
    async fn append(
        &self,
        inner: &dyn Journal,
        batches: &[AppendBatch],
    ) -> Result<Vec<AppendReceipt>, JournalError> {
        let hit = batches
            .iter()
            .flat_map(|b| &b.events)
            .any(|e| e.event_type == self.event_type);
        if !hit || self.crashed.swap(true, Ordering::SeqCst) {
            return inner.append(batches).await;
        }
        if let Crash::AfterCommit = self.crash {
            inner.append(batches).await?;
        }
        Err(JournalError::Unavailable("injected crash".into()))
    }
}

async fn count(journal: &dyn EventLog, tenant: TenantId, event_type: &str) -> usize {
    journal
        .read_tenant(tenant, 0)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_type == event_type)
        .count()
}

/// Asserts the tenant's onboarding is complete, each step exactly once, and its headquarters
/// (from the business profile's address, country defaulted) recorded once.
async fn assert_onboarded(
    engine: &Engine,
    journal: &dyn EventLog,
    tenant: TenantId,
    plan: &OnboardingPlan,
) {
    let onboarding = engine.get_tenant(tenant).await.unwrap().onboarding.unwrap();
    assert!(onboarding.completed);
    let org = engine
        .get_organization(tenant, plan.default_organization_id)
        .await
        .unwrap();
    assert_eq!(org.name, DEFAULT_ORGANIZATION_NAME);
    let owner = engine.get_user(tenant, plan.owner_user_id).await.unwrap();
    assert_eq!(owner.status, UserStatus::Invited);
    assert!(owner.organizations.contains(&plan.default_organization_id));
    assert!(
        owner
            .assignments
            .iter()
            .any(|a| a.role == BuiltinRole::TenantOwner.name() && a.scope == Scope::Tenant)
    );
    let hq = engine
        .get_record(tenant, RecordKind::Location, headquarters_id(tenant.0))
        .await
        .expect("the headquarters location");
    assert!(hq.fields.is_headquarters());
    assert_eq!(hq.client_id, None);
    let engine::domain::RecordFields::Location(location) = &hq.fields else {
        panic!("not a location: {hq:?}");
    };
    assert_eq!(
        (
            location.address.city.as_str(),
            location.address.country.as_str()
        ),
        ("Springfield", "US")
    );
    for event_type in [
        "TenantCreated",
        "OnboardingStarted",
        "LocationCreated",
        "OrganizationCreated",
        "UserInvited",
        "OnboardingCompleted",
    ] {
        assert_eq!(
            count(journal, tenant, event_type).await,
            1,
            "{event_type} exactly once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_tenant_runs_the_whole_onboarding_and_returns_the_owner_token() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let engine = Engine::start(journal.clone() as Arc<dyn Journal>, EngineConfig::default())
        .await
        .unwrap();
    let tenant = TenantId::new_v7();
    let (command, plan) = create(tenant);
    let outcome = engine
        .execute(tenant, command, RequestMeta::default())
        .await
        .unwrap();
    let token = outcome
        .invitation_token
        .expect("the owner's token is returned once");
    let (user, hash) = parse_invitation_token(&token).unwrap();
    assert_eq!(user, plan.owner_user_id);
    let owner = engine.get_user(tenant, user).await.unwrap();
    assert_eq!(owner.invitation.unwrap().token_hash, hash);
    assert!(
        matches!(outcome.view, EntityView::Tenant(t) if t.onboarding.as_ref().is_some_and(|o| o.completed))
    );
    assert_onboarded(&engine, journal.as_ref(), tenant, &plan).await;
    engine.shutdown().await;
}

/// Where the journal lives: real PostgreSQL, or the embedded SQLite file.
enum Store {
    Postgres(TestDatabase),
    Sqlite(tempfile::TempDir),
}

impl Store {
    async fn postgres() -> Store {
        Store::Postgres(TestDatabase::create().await)
    }

    fn sqlite() -> Store {
        Store::Sqlite(tempfile::tempdir().unwrap())
    }

    /// A new handle on the store's journal (each node opens its own).
    async fn journal(&self) -> Arc<dyn Journal> {
        match self {
            Store::Postgres(db) => Arc::new(db.journal().await),
            Store::Sqlite(dir) => Arc::new(engine::testing::sqlite_journal(dir.path()).await),
        }
    }
}

async fn crash_then_restart(event_type: &'static str, crash: Crash) {
    crash_then_restart_on(Store::postgres().await, event_type, crash).await;
}

async fn crash_then_restart_on(store: Store, event_type: &'static str, crash: Crash) {
    let crashing = Arc::new(Intercepted::new(
        store.journal().await,
        CrashingAppend {
            event_type,
            crash,
            crashed: AtomicBool::new(false),
        },
    ));
    let node = Engine::start(
        crashing.clone() as Arc<dyn Journal>,
        EngineConfig::default(),
    )
    .await
    .unwrap();
    let tenant = TenantId::new_v7();
    let (command, plan) = create(tenant);
    // The tenant itself is created; the saga stops at the crashed step.
    let outcome = node
        .execute(tenant, command, RequestMeta::default())
        .await
        .unwrap();
    assert!(
        matches!(&outcome.view, EntityView::Tenant(t) if t.onboarding.as_ref().is_some_and(|o| !o.completed))
    );
    assert!(
        crashing.hooks.crashed.load(Ordering::SeqCst),
        "the crash was injected"
    );
    drop(node); // the node dies without a clean shutdown

    let journal = store.journal().await;
    let restarted = Engine::start(journal.clone(), EngineConfig::default())
        .await
        .unwrap();
    assert_onboarded(&restarted, journal.as_ref(), tenant, &plan).await;
    restarted.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_onboarding_resumes_with_its_headquarters_after_a_lost_step() {
    crash_then_restart_on(Store::sqlite(), "OrganizationCreated", Crash::BeforeCommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_onboarding_resumes_with_its_headquarters_after_a_lost_acknowledgment() {
    crash_then_restart_on(Store::sqlite(), "UserInvited", Crash::AfterCommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_resumes_when_the_default_organization_was_lost_in_a_crash() {
    crash_then_restart("OrganizationCreated", Crash::BeforeCommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_resumes_when_the_organization_committed_but_its_ack_was_lost() {
    crash_then_restart("OrganizationCreated", Crash::AfterCommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_resumes_when_the_owner_invitation_was_lost_in_a_crash() {
    crash_then_restart("UserInvited", Crash::BeforeCommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_resumes_when_the_owner_invitation_committed_but_its_ack_was_lost() {
    crash_then_restart("UserInvited", Crash::AfterCommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_resumes_when_its_completion_was_lost_in_a_crash() {
    crash_then_restart("OnboardingCompleted", Crash::BeforeCommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_is_not_completed_twice_when_the_completion_committed_but_its_ack_was_lost() {
    crash_then_restart("OnboardingCompleted", Crash::AfterCommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_expires_unaccepted_invitations() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let start = Utc::now().trunc_subsecs(6);
    let clock = ManualClock::at(start);
    let config = EngineConfig {
        timer_poll_interval: std::time::Duration::from_secs(3600),
        ..EngineConfig::default()
    };
    let engine =
        Engine::start_with_clock(journal.clone() as Arc<dyn Journal>, config, clock.clone())
            .await
            .unwrap();
    let tenant = TenantId::new_v7();
    let (command, plan) = create(tenant);
    let token = engine
        .execute(tenant, command, RequestMeta::default())
        .await
        .unwrap()
        .invitation_token
        .unwrap();
    let (user, hash) = parse_invitation_token(&token).unwrap();

    clock.set(start + chrono::Duration::days(8));
    assert_eq!(engine.fire_due_timers().await, 1);
    let owner = engine.get_user(tenant, plan.owner_user_id).await.unwrap();
    assert_eq!(owner.invitation.unwrap().state, InvitationState::Expired);
    let accept = TenantScopeCommand::User(UserCommand::AcceptInvitation {
        id: user,
        token_hash: hash,
        display_name: None,
    });
    let refused = engine.execute(tenant, accept, RequestMeta::default()).await;
    assert!(
        matches!(
            refused,
            Err(EngineError::Domain(DomainError::InvalidState {
                reason: "INVITATION_EXPIRED",
                ..
            }))
        ),
        "{refused:?}"
    );
    engine.shutdown().await;
}
