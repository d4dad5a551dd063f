//! Events as protobuf (issue 20), end to end: a workload through the engine that records every
//! event type of the domain at least once, published from the same journal by two publishers
//! (librdkafka's mock cluster): the runner's, in protobuf format, to one topic, and one in the
//! default JSON format to another. A Python consumer that knows nothing but `proto/`
//! (`clients/python/kafka_events.py`: stubs generated from events.proto at run time, the
//! wheel's own librdkafka) reads both topics, decodes every protobuf message, sees every event
//! type of events.proto, and finds every JSON twin (same `ce_id`) holding the same content.
//!
//! Needs `ENTITY_TEST_DATABASE_URL`, and `python3` with `venv` and PyPI access the first time:
//! the virtual environment (`clients/python/requirements.txt`) is cached under the target
//! directory (`python-kafka-venv`) and rebuilt only when the requirements change. Without
//! python3 or pip the test FAILS (it does not skip), like `python_client.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/python.rs"]
mod python_support;

use std::{collections::BTreeSet, process::Command, sync::Arc, time::Duration};

use chrono::{SubsecRound, Utc};
use engine::{
    domain::{
        Address, ApiKeyCommand, ApiKeyId, Assignment, BusinessProfile, CLAIMS_SYNC_BATCH,
        ClientCommand, ClientId, Contact, CreateTenant, DeactivationFeedback, Department,
        DomainProof, KeyExpiry, KeyIssuer, KeyScopes, KeySecret, Location, OnboardingPlan,
        OrganizationCommand, OrganizationId, Partition, PartitionGroup, Plan, ProvisionedTenant,
        RecordCommand, RecordFields, RecordId, RecordKind, RegistrationCommand, RoleCommand,
        RoleId, Scope, TeamCommand, TeamId, TeamRole, TenantCommand, TenantId, TenantKind,
        TenantScopeCommand, TenantSettings, UpdateTenant, UserCommand, UserId,
    },
    journal::{AuditActor, CommitToken, Journal, RecordedEvent, tail::JournalTail},
    personal::{MasterKeys, Vault},
    runtime::{Clock, CommandOutcome, Engine, EngineConfig, RequestMeta},
    secrets::token_hash,
    testing::{ManualClock, TestDatabase, new_tenant, tenant_command},
};
use futures::{StreamExt, stream};
use projections::{
    Envelope, KafkaConfig, KafkaPublisher, Projection, ProjectionService, ReadStore, RunnerConfig,
    kafka::KafkaFormat,
};
use python_support::{run_command, venv_python};
use rdkafka::mocking::MockCluster;

const JSON_TOPIC: &str = "entity-events-json";
const PROTOBUF_TOPIC: &str = "entity-events-protobuf";
const PARTITIONS: i32 = 4;
const WAIT: Duration = Duration::from_secs(60);

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/python/kafka_events.py"
);

/// Runs one command as a test caller (with the metadata fields the envelope carries).
async fn run(engine: &Engine, tenant: TenantId, command: TenantScopeCommand) -> CommandOutcome {
    let meta = RequestMeta {
        call_id: Some(format!("call-{}", uuid::Uuid::new_v4())),
        actor: AuditActor {
            subject: "kafka-protobuf-test".into(),
            on_behalf_of: None,
            credential_kind: "dev".into(),
            credential_id: Some("dev-key".into()),
        },
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        ..RequestMeta::default()
    };
    let what = format!("{command:?}");
    engine
        .execute(tenant, command, meta)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

fn profile(legal_name: &str) -> BusinessProfile {
    serde_json::from_value(serde_json::json!({
        "legal_name": legal_name, "industry_sector": "information_technology",
        "industry_group": "software_services", "legal_form": "llc", "size_range": "51-200",
        "external_id": "crm-1", "logo_url": "https://acme-proto.example/logo.png",
        "social_profiles": [
            {"platform": "linkedin", "url": "https://www.linkedin.com/company/acme-proto"}
        ],
        "address": {"line1": "1 Main St", "line2": "", "city": "Springfield", "region": "IL",
                    "postal_code": "62701", "country": "US"}
    }))
    .unwrap()
}

fn address() -> Address {
    Address {
        line1: "5 Harbour Rd".into(),
        line2: String::new(),
        city: "Hamburg".into(),
        region: String::new(),
        postal_code: "20457".into(),
        country: "DE".into(),
    }
}

fn tenant_cmd(command: TenantCommand) -> TenantScopeCommand {
    TenantScopeCommand::Tenant(command)
}
fn user_cmd(command: UserCommand) -> TenantScopeCommand {
    TenantScopeCommand::User(command)
}
fn registration(command: RegistrationCommand) -> TenantScopeCommand {
    TenantScopeCommand::Registration(command)
}
fn record(command: RecordCommand) -> TenantScopeCommand {
    TenantScopeCommand::Record(command)
}
fn key_secret(seed: &str) -> KeySecret {
    KeySecret {
        hash: token_hash(seed),
        hint: seed[seed.len() - 4..].to_owned(),
    }
}

/// Every event type of the domain, at least once; returns when the engine has written it all
/// (the asynchronous steps too: onboarding, claims re-synchronisation, timers).
async fn workload(engine: &Engine, clock: &ManualClock) {
    let now = clock.now();
    let tenant = TenantId::new_v7();
    let mut create: CreateTenant = new_tenant(tenant, "Acme Proto");
    create.slug = "acme-proto".into();
    create.business_profile = Some(profile("Acme Proto Inc"));
    create.settings = TenantSettings {
        session_expiration_seconds: Some(7200),
    };
    create.products = vec!["crm".into()];
    run(engine, tenant, tenant_command(create)).await;

    // No active user yet: a products change needs no claims re-synchronisation.
    run(
        engine,
        tenant,
        tenant_cmd(TenantCommand::Update(UpdateTenant {
            products: Some(vec!["crm".into(), "billing".into()]),
            ..UpdateTenant::default()
        })),
    )
    .await;
    run(
        engine,
        tenant,
        tenant_cmd(TenantCommand::Update(UpdateTenant {
            name: Some("Acme Proto 2".into()),
            business_profile: Some(Some(profile("Acme Proto GmbH"))),
            ..UpdateTenant::default()
        })),
    )
    .await;
    run(
        engine,
        tenant,
        tenant_cmd(TenantCommand::ChangePlan { plan: Plan::Silver }),
    )
    .await;

    // Organizations.
    let (sales, emea) = (OrganizationId::new_v7(), OrganizationId::new_v7());
    for (id, name, parent) in [(sales, "Sales", None), (emea, "EMEA", Some(sales))] {
        run(
            engine,
            tenant,
            TenantScopeCommand::Organization(OrganizationCommand::Create {
                id,
                name: name.into(),
                description: format!("{name} organization"),
                parent_id: parent,
            }),
        )
        .await;
    }
    let org = |command| TenantScopeCommand::Organization(command);
    run(
        engine,
        tenant,
        org(OrganizationCommand::Update {
            id: sales,
            name: Some("Sales & Marketing".into()),
            description: None,
        }),
    )
    .await;
    run(
        engine,
        tenant,
        org(OrganizationCommand::Move {
            id: emea,
            new_parent_id: None,
        }),
    )
    .await;

    // A client, its tenant provisioned and failed, disabled and enabled.
    let client = ClientId::new_v7();
    let client_cmd = |command| TenantScopeCommand::Client(command);
    run(
        engine,
        tenant,
        client_cmd(ClientCommand::Create {
            id: client,
            name: "Globex".into(),
            external_id: "globex-1".into(),
            business_profile: Some(profile("Globex Corp")),
        }),
    )
    .await;
    run(
        engine,
        tenant,
        client_cmd(ClientCommand::Update {
            id: client,
            name: Some("Globex Intl".into()),
            external_id: None,
            business_profile: Some(Some(profile("Globex International"))),
        }),
    )
    .await;
    // A cleared profile travels as business_profile_cleared in both formats.
    run(
        engine,
        tenant,
        client_cmd(ClientCommand::Update {
            id: client,
            name: None,
            external_id: None,
            business_profile: Some(None),
        }),
    )
    .await;
    let provisioned = TenantId::new_v7();
    run(
        engine,
        tenant,
        client_cmd(ClientCommand::ProvisionTenant {
            id: client,
            tenant: ProvisionedTenant {
                tenant_id: provisioned,
                slug: "globex-proto".into(),
                plan: Plan::Bronze,
                onboarding: OnboardingPlan {
                    default_organization_id: OrganizationId::new_v7(),
                    owner_user_id: UserId::new_v7(),
                    owner_email: "owner@globex-proto.example".into(),
                    owner_token_hash: Some(token_hash("globex-owner")),
                },
            },
        }),
    )
    .await;
    run(
        engine,
        tenant,
        client_cmd(ClientCommand::RecordProvisioningFailure {
            id: client,
            tenant_id: provisioned,
            reason: "slug taken".into(),
        }),
    )
    .await;
    run(
        engine,
        tenant,
        client_cmd(ClientCommand::Disable { id: client }),
    )
    .await;
    run(
        engine,
        tenant,
        client_cmd(ClientCommand::Enable { id: client }),
    )
    .await;

    // Registration by a verified domain, a custom host, a second domain removed.
    run(
        engine,
        tenant,
        registration(RegistrationCommand::AddDomain {
            domain: "acme-proto.example".into(),
            client_id: None,
            txt_token: "entityverify0000000001".into(),
        }),
    )
    .await;
    run(
        engine,
        tenant,
        registration(RegistrationCommand::VerifyDomain {
            domain: "acme-proto.example".into(),
            proof: DomainProof::Manual,
        }),
    )
    .await;
    run(
        engine,
        tenant,
        registration(RegistrationCommand::Configure {
            enabled: true,
            auto_roles: vec![Assignment {
                role: "member".into(),
                scope: Scope::Tenant,
            }],
            custom_host: Some("signup.acme-proto.example".into()),
        }),
    )
    .await;
    run(
        engine,
        tenant,
        registration(RegistrationCommand::AddDomain {
            domain: "globex-proto.example".into(),
            client_id: Some(client),
            txt_token: "entityverify0000000002".into(),
        }),
    )
    .await;
    run(
        engine,
        tenant,
        registration(RegistrationCommand::RemoveDomain {
            domain: "globex-proto.example".into(),
        }),
    )
    .await;
    let registered = UserId::new_v7();
    run(
        engine,
        tenant,
        user_cmd(UserCommand::Register {
            id: registered,
            email: "bo@acme-proto.example".into(),
            display_name: "Bo".into(),
        }),
    )
    .await;

    // People: invited, resent, revoked; invited, accepted and changed in every way.
    let (revoked, ann, late) = (UserId::new_v7(), UserId::new_v7(), UserId::new_v7());
    for (id, email, days) in [
        (revoked, "rev@acme-proto.example", 7),
        (ann, "ann@acme-proto.example", 7),
        (late, "late@acme-proto.example", 1),
    ] {
        run(
            engine,
            tenant,
            user_cmd(UserCommand::Invite {
                id,
                email: email.into(),
                display_name: format!("Name of {email}"),
                roles: vec![Assignment {
                    role: "viewer".into(),
                    scope: Scope::Organization(sales),
                }],
                organization_id: Some(sales),
                expires_in_days: days,
                token_hash: token_hash(&format!("token-{id}")),
            }),
        )
        .await;
    }
    run(
        engine,
        tenant,
        user_cmd(UserCommand::ResendInvitation {
            id: revoked,
            expires_in_days: 7,
            token_hash: token_hash("token-resent"),
        }),
    )
    .await;
    run(
        engine,
        tenant,
        user_cmd(UserCommand::RevokeInvitation { id: revoked }),
    )
    .await;
    run(
        engine,
        tenant,
        user_cmd(UserCommand::AcceptInvitation {
            id: ann,
            token_hash: token_hash(&format!("token-{ann}")),
            display_name: Some("Ann Example".into()),
        }),
    )
    .await;
    for command in [
        UserCommand::UpdateProfile {
            id: ann,
            display_name: Some("Ann B. Example".into()),
        },
        UserCommand::SetClient {
            id: ann,
            client_id: Some(client),
        },
        UserCommand::AddToOrganization {
            id: ann,
            organization_id: emea,
        },
        UserCommand::RemoveFromOrganization {
            id: ann,
            organization_id: emea,
        },
        UserCommand::AssignRole {
            id: ann,
            assignment: Assignment {
                role: "org-admin".into(),
                scope: Scope::Organization(sales),
            },
        },
        UserCommand::RevokeRole {
            id: ann,
            assignment: Assignment {
                role: "org-admin".into(),
                scope: Scope::Organization(sales),
            },
        },
        UserCommand::Deactivate { id: ann },
        UserCommand::Reactivate { id: ann },
    ] {
        run(engine, tenant, user_cmd(command)).await;
    }

    // A team and its members.
    let team = TeamId::new_v7();
    let team_cmd = |command| TenantScopeCommand::Team(command);
    run(
        engine,
        tenant,
        team_cmd(TeamCommand::Create {
            id: team,
            organization_id: sales,
            name: "Blue".into(),
            description: String::new(),
        }),
    )
    .await;
    for command in [
        TeamCommand::Update {
            id: team,
            name: None,
            description: Some("The blue team".into()),
        },
        TeamCommand::AddMember {
            id: team,
            user_id: ann,
            role: TeamRole::Lead,
        },
        TeamCommand::RemoveMember {
            id: team,
            user_id: ann,
        },
        TeamCommand::Delete { id: team },
    ] {
        run(engine, tenant, team_cmd(command)).await;
    }
    run(
        engine,
        tenant,
        org(OrganizationCommand::Delete {
            id: emea,
            cascade: true,
        }),
    )
    .await;

    // A custom role.
    let role = RoleId::new_v7();
    let role_cmd = |command| TenantScopeCommand::Role(command);
    run(
        engine,
        tenant,
        role_cmd(RoleCommand::Define {
            id: role,
            name: "auditor".into(),
            description: "Reads the audit trail".into(),
            permissions: vec!["audit:read".parse().unwrap()],
        }),
    )
    .await;
    run(
        engine,
        tenant,
        role_cmd(RoleCommand::Update {
            id: role,
            description: None,
            permissions: Some(vec![
                "audit:read".parse().unwrap(),
                "user:read".parse().unwrap(),
            ]),
        }),
    )
    .await;
    run(engine, tenant, role_cmd(RoleCommand::Delete { id: role })).await;

    // Directory records of every kind; a contact deleted (its person erased).
    let (department, location, contact, group, partition) = (
        RecordId::new_v7(),
        RecordId::new_v7(),
        RecordId::new_v7(),
        RecordId::new_v7(),
        RecordId::new_v7(),
    );
    for (id, fields) in [
        (
            department,
            RecordFields::Department(Department {
                name: "Research".into(),
                code: "rd".into(),
            }),
        ),
        (
            location,
            RecordFields::Location(Location {
                name: "Hamburg office".into(),
                address: address(),
                headquarters: false,
                code: "ham".into(),
                website: "https://acme-proto.example/hamburg".into(),
                phone: "+49 40 1234567".into(),
                email: "hamburg@acme-proto.example".into(),
                notes: "Third floor".into(),
            }),
        ),
        (
            contact,
            RecordFields::Contact(Contact {
                contact_type: "billing".into(),
                name: "Bea Billing".into(),
                email: "bea@acme-proto.example".into(),
                phone: "+1 555 0101".into(),
                location_id: Some(location),
            }),
        ),
        (
            group,
            RecordFields::PartitionGroup(PartitionGroup {
                name: "europe".into(),
                parent_id: None,
            }),
        ),
        (
            partition,
            RecordFields::Partition(Partition {
                name: "qa".into(),
                group_id: Some(group),
                description: "Testing".into(),
            }),
        ),
    ] {
        run(
            engine,
            tenant,
            record(RecordCommand::Create {
                id,
                client_id: None,
                fields,
            }),
        )
        .await;
    }
    run(
        engine,
        tenant,
        record(RecordCommand::Update {
            id: department,
            fields: RecordFields::Department(Department {
                name: "Research & Development".into(),
                code: "rd".into(),
            }),
            active: false,
            mask: vec!["name".into(), "active".into()],
        }),
    )
    .await;
    run(
        engine,
        tenant,
        record(RecordCommand::Delete {
            id: contact,
            kind: RecordKind::Contact,
        }),
    )
    .await;

    // API keys: an admin key, a custom one rotated, then revoked.
    let key_cmd = |command| TenantScopeCommand::ApiKey(command);
    let (admin_key, custom_key, rotated_key) =
        (ApiKeyId::new_v7(), ApiKeyId::new_v7(), ApiKeyId::new_v7());
    run(
        engine,
        tenant,
        key_cmd(ApiKeyCommand::Create {
            id: admin_key,
            partition_id: partition,
            name: "deploy".into(),
            scopes: KeyScopes::Admin,
            expiry: KeyExpiry::Never,
            foreign_key: String::new(),
            secret: key_secret("secret-admin-AbC1"),
            issuer: KeyIssuer::Platform,
        }),
    )
    .await;
    run(
        engine,
        tenant,
        key_cmd(ApiKeyCommand::Create {
            id: custom_key,
            partition_id: partition,
            name: "reader".into(),
            scopes: KeyScopes::Custom(vec!["user:read".parse().unwrap()]),
            expiry: KeyExpiry::AfterSeconds(86_400 * 30),
            foreign_key: "ext-key-7".into(),
            secret: key_secret("secret-custom-DeF2"),
            issuer: KeyIssuer::Platform,
        }),
    )
    .await;
    run(
        engine,
        tenant,
        key_cmd(ApiKeyCommand::Rotate {
            id: custom_key,
            new_id: rotated_key,
            overlap_seconds: 3600,
            expiry: KeyExpiry::At(now + chrono::Duration::days(90)),
            secret: key_secret("secret-rotated-GhI3"),
            issuer: KeyIssuer::Platform,
        }),
    )
    .await;
    run(
        engine,
        tenant,
        key_cmd(ApiKeyCommand::Revoke { id: rotated_key }),
    )
    .await;

    // A products change with active users: ClaimsChanged of a tenant re-synchronisation.
    run(
        engine,
        tenant,
        tenant_cmd(TenantCommand::Update(UpdateTenant {
            products: Some(vec!["crm".into()]),
            ..UpdateTenant::default()
        })),
    )
    .await;
    run(engine, tenant, user_cmd(UserCommand::Erase { id: ann })).await;
    run(
        engine,
        tenant,
        client_cmd(ClientCommand::Delete { id: client }),
    )
    .await;

    // A second tenant's whole life: suspended, reactivated, deactivated, deleted by its grace
    // period's end (when the first tenant's one-day invitation expires too), erased.
    let short = TenantId::new_v7();
    let mut create = new_tenant(short, "Short-lived");
    create.kind = TenantKind::Consumer;
    create.plan = Plan::Bronze;
    run(engine, short, tenant_command(create)).await;
    run(
        engine,
        short,
        tenant_cmd(TenantCommand::Suspend {
            reason: "payment overdue".into(),
        }),
    )
    .await;
    run(engine, short, tenant_cmd(TenantCommand::Reactivate)).await;
    run(
        engine,
        short,
        tenant_cmd(TenantCommand::Deactivate {
            grace_period_ends_at: now + chrono::Duration::hours(12),
            feedback: DeactivationFeedback {
                reason_code: "too_expensive".into(),
                text: "Costs".into(),
                recommendation_score: Some(6),
                context: "exit survey".into(),
                requested_by: "owner@short-lived.example".into(),
            },
        }),
    )
    .await;
    clock.advance(chrono::Duration::days(2));
    let fired = engine.fire_due_timers().await;
    assert!(
        fired >= 2,
        "the grace period and the invitation: {fired} timers"
    );
    run(engine, short, tenant_cmd(TenantCommand::Erase)).await;
}

/// A claims re-synchronisation whose last user left before its second batch ends with nobody
/// told (ClaimsResyncEnded): 501 registered users, a products change (a first batch of 500),
/// and the one user after them deactivated. The deactivation nearly always reaches the
/// tenant's actor between its two batches; when it came first (the first batch then ends the
/// re-synchronisation itself), the tenant tries again.
async fn resync_ended_with_nobody_left(engine: &Engine, tail: &dyn JournalTail) {
    let tenant = TenantId::new_v7();
    run(engine, tenant, tenant_command(new_tenant(tenant, "Crowd"))).await;
    let domain = "crowd-proto.example";
    for command in [
        RegistrationCommand::AddDomain {
            domain: domain.into(),
            client_id: None,
            txt_token: "entityverify0000000003".into(),
        },
        RegistrationCommand::VerifyDomain {
            domain: domain.into(),
            proof: DomainProof::Manual,
        },
        RegistrationCommand::Configure {
            enabled: true,
            auto_roles: vec![],
            custom_host: None,
        },
    ] {
        run(engine, tenant, registration(command)).await;
    }
    let users: Vec<UserId> = stream::iter(0..=CLAIMS_SYNC_BATCH)
        .map(|i| async move {
            let id = UserId::new_v7();
            let register = UserCommand::Register {
                id,
                email: format!("person{i}@{domain}"),
                display_name: String::new(),
            };
            run(engine, tenant, user_cmd(register)).await;
            id
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let last = *users.iter().max().unwrap();
    for attempt in 0..5 {
        let before = all_events(tail).await.len();
        let products = UpdateTenant {
            products: Some(vec![format!("product-{attempt}")]),
            ..UpdateTenant::default()
        };
        run(engine, tenant, tenant_cmd(TenantCommand::Update(products))).await;
        run(
            engine,
            tenant,
            user_cmd(UserCommand::Deactivate { id: last }),
        )
        .await;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let events = all_events(tail).await;
            let since = &events[before..];
            if since.iter().any(|e| e.event_type == "ClaimsResyncEnded") {
                return;
            }
            if since.iter().any(|e| {
                e.event_type == "ClaimsChanged"
                    && e.payload["cause"]["tenant_resync"]["last"] == true
            }) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the re-synchronisation did not end"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        run(
            engine,
            tenant,
            user_cmd(UserCommand::Reactivate { id: last }),
        )
        .await;
    }
    panic!("no re-synchronisation ended with nobody left in 5 attempts");
}

/// Every committed event, in tail order.
async fn all_events(tail: &dyn JournalTail) -> Vec<RecordedEvent> {
    let mut out = Vec::new();
    let mut after = CommitToken {
        transaction_id: 0,
        position: 0,
    };
    loop {
        let batch = tail.read_committed(after, 5_000).await.unwrap();
        let Some(last) = batch.last() else {
            return out;
        };
        after = CommitToken {
            transaction_id: last.transaction_id,
            position: last.position,
        };
        out.extend(batch);
    }
}

/// Waits until the journal holds every type in `types` and stops growing (the engine's
/// asynchronous steps are done).
async fn settled(tail: &dyn JournalTail, types: &[&str]) -> usize {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = 0;
    loop {
        let events = all_events(tail).await;
        let present: BTreeSet<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        let missing: Vec<_> = types.iter().filter(|t| !present.contains(*t)).collect();
        if missing.is_empty() && events.len() == last {
            return last;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the engine did not write {missing:?} ({} events)",
            events.len()
        );
        last = events.len();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_python_consumer_decodes_every_event_type_in_protobuf_as_its_json_twin() {
    let python = tokio::task::spawn_blocking(|| venv_python("python-kafka-venv"));
    let kafka = MockCluster::new(3).unwrap();
    for topic in [JSON_TOPIC, PROTOBUF_TOPIC] {
        kafka.create_topic(topic, PARTITIONS, 3).unwrap();
    }
    let bootstrap = kafka.bootstrap_servers();
    let publisher = |topic: &str, format| {
        let mut config = KafkaConfig::new(bootstrap.clone());
        config.topic = topic.to_owned();
        config.format = format;
        Arc::new(KafkaPublisher::new(&config).unwrap())
    };
    let protobuf = publisher(PROTOBUF_TOPIC, KafkaFormat::Protobuf);
    let json = publisher(JSON_TOPIC, KafkaFormat::Json);
    assert_eq!(protobuf.format(), KafkaFormat::Protobuf);

    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let store: Arc<dyn Journal> = journal.clone();
    let vault = Arc::new(Vault::new(MasterKeys::ephemeral(), store.clone()));

    let clock = ManualClock::at(Utc::now().trunc_subsecs(6));
    let config = EngineConfig {
        timer_poll_interval: Duration::from_secs(3600),
        ..EngineConfig::default()
    };
    let engine = Engine::start_with_clock(store, config, clock.clone())
        .await
        .unwrap();
    workload(&engine, &clock).await;
    resync_ended_with_nobody_left(&engine, journal.as_ref()).await;
    settled(
        journal.as_ref(),
        &[
            "OnboardingCompleted",
            "ClaimsResyncEnded",
            "InvitationExpired",
            "TenantErased",
        ],
    )
    .await;
    engine.shutdown().await;
    // A saga step paused past the settling window may still have written before the stop.
    let written = all_events(journal.as_ref()).await.len();
    // The protobuf publisher runs as in a node, under the projection runner; it starts once
    // the engine has stopped, so that both publishers open personal values after the last
    // erasure (a value published before an erasure stays readable; one after it is "").
    let projection: Arc<dyn Projection> = protobuf.clone();
    let service = ProjectionService::start(
        ReadStore::postgres(&journal),
        journal.clone() as Arc<dyn JournalTail>,
        vault.clone(),
        vec![projection],
        RunnerConfig::default(),
    )
    .await
    .unwrap();
    service.handle().wait_caught_up(WAIT).await.unwrap();

    // The JSON twin: the same journal, opened as the runner opens it, in batches.
    let events = all_events(journal.as_ref()).await;
    assert_eq!(events.len(), written);
    let mut envelopes: Vec<Envelope> = events
        .into_iter()
        .map(|e| Envelope::decode(e).unwrap())
        .collect();
    Envelope::open_personal(&mut envelopes, &vault)
        .await
        .unwrap();
    for batch in envelopes.chunks(100) {
        json.deliver(batch).await.unwrap();
    }
    let (p, j) = (protobuf.metrics(), json.metrics());
    assert_eq!((p.failed, j.failed), (0, 0), "{p:?} {j:?}");
    assert_eq!(
        p.delivered, j.delivered,
        "the same messages in both formats"
    );
    service.stop().await;

    let python = python.await.unwrap();
    let out = tokio::task::spawn_blocking(move || {
        run_command(
            Command::new(&python)
                .arg(SCRIPT)
                .args(["--bootstrap-servers", &bootstrap])
                .args(["--protobuf-topic", PROTOBUF_TOPIC])
                .args(["--json-topic", JSON_TOPIC])
                .arg("--expect-every-type")
                .env("PYTHONDONTWRITEBYTECODE", "1"),
            "clients/python/kafka_events.py",
        )
    })
    .await
    .unwrap();
    for check in [
        "ok: decoded all",
        "ok: every event type of events.proto is on the topic",
        "ok: entity-events-json holds the same",
        "ok: every JSON message decodes to the same content as its protobuf twin",
    ] {
        assert!(out.contains(check), "{check} missing from:\n{out}");
    }
    assert!(out.contains(": done"), "{out}");
    drop(kafka);
}
