//! The analytics history (issue 20), PostgreSQL and SQLite: exactly one row per change of a
//! tenant, client, organization, team, user, department, location or contact (none for roles,
//! partitions, API keys or claims), numbered 1, 2, 3… in commit order, each holding the state
//! the domain itself folds for that entity at that event (recomputed here with
//! `TenantScope::apply` over the journal); an erased person's values leave every row (a user's
//! erasure, a contact's deletion, the tenant's onboarding owner, a tenant's erasure); a rebuild
//! numbers and fills the rows the same way.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use engine::{
    domain::{
        ClientCommand, ClientId, Contact, OrganizationCommand, OrganizationId, RecordCommand,
        RecordFields, RecordId, RecordKind, TeamCommand, TeamId, TenantCommand, TenantId,
        TenantScope, TenantScopeCommand, TenantScopeEvent, UserCommand, UserId,
    },
    runtime::Engine,
    secrets::token_hash,
};
use futures::future::join_all;
use projections::{
    AnalyticsChange, AnalyticsFilter, AnalyticsKind, ChangeOperation, ReadModels, names,
};
use serde_json::Value;
use support::{workload::run_tenant_with, *};
use uuid::Uuid;

async fn run(engine: &Engine, tenant: TenantId, command: TenantScopeCommand) {
    engine.execute(tenant, command, meta()).await.unwrap();
}

/// Every row of the history, in position order.
async fn history(read: &ReadModels) -> Vec<AnalyticsChange> {
    let end = read.analytics_end(None).await.unwrap();
    let mut rows = Vec::new();
    let mut after = 0;
    while after < end {
        let page = read
            .analytics_page(&AnalyticsFilter::default(), after, end, 1_000)
            .await
            .unwrap();
        rows.extend(page.changes);
        after = page.resume_after;
    }
    rows
}

/// A state as a row shows it: without the hashes of issued secrets and the claims bookkeeping.
fn view(mut state: Value) -> Value {
    fn drop_hashes(value: &mut Value) {
        match value {
            Value::Object(fields) => {
                for hash in ["token_hash", "owner_token_hash", "secret_hash"] {
                    fields.remove(hash);
                }
                fields.values_mut().for_each(drop_hashes);
            }
            Value::Array(items) => items.iter_mut().for_each(drop_hashes),
            _ => {}
        }
    }
    drop_hashes(&mut state);
    if let Value::Object(fields) = &mut state {
        fields.remove("claims_version");
        fields.remove("claims_sync");
    }
    state
}

/// What the history must hold, recomputed from the journal (opened now: an erased person's
/// values read as "") by folding every tenant's events with the domain's `TenantScope`: one
/// `(tenant, kind, entity, version, event type, state)` per event of the history's streams,
/// in tail order.
async fn expected(store: &Store) -> Vec<(TenantId, AnalyticsKind, Uuid, i64, String, Value)> {
    let mut scopes: BTreeMap<TenantId, TenantScope> = BTreeMap::new();
    let mut out = Vec::new();
    for e in opened_events(store).await {
        let event =
            TenantScopeEvent::from_stored(e.stream.kind, e.schema_version, e.payload.clone())
                .unwrap();
        let scope = scopes
            .entry(e.tenant_id)
            .or_insert_with(|| TenantScope::new(e.tenant_id));
        scope.apply(&event, e.recorded_at);
        let Some(kind) = AnalyticsKind::of_stream(e.stream.kind) else {
            continue;
        };
        let id = e.stream.id;
        let record = |kind| serde_json::to_value(scope.record(kind, RecordId(id)));
        let state = match kind {
            AnalyticsKind::Tenant => serde_json::to_value(scope.tenant()),
            AnalyticsKind::Organization => {
                serde_json::to_value(scope.organization(OrganizationId(id)))
            }
            AnalyticsKind::Team => serde_json::to_value(scope.team(TeamId(id))),
            AnalyticsKind::User => serde_json::to_value(scope.user(UserId(id))),
            AnalyticsKind::Client => serde_json::to_value(scope.client(ClientId(id))),
            AnalyticsKind::Department => record(RecordKind::Department),
            AnalyticsKind::Location => record(RecordKind::Location),
            AnalyticsKind::Contact => record(RecordKind::Contact),
        }
        .unwrap();
        assert!(
            !state.is_null(),
            "{} {id} unknown to the domain",
            e.event_type
        );
        out.push((e.tenant_id, kind, id, e.sequence, e.event_type, view(state)));
    }
    out
}

/// The history is exactly what the domain folds: one row per change, in order, positions
/// 1, 2, 3…, each with the domain's state of the entity after that event.
async fn assert_matches_the_domain(store: &Store, rows: &[AnalyticsChange]) {
    let expected = expected(store).await;
    assert_eq!(rows.len(), expected.len(), "one row per change");
    for (i, (row, (tenant, kind, id, version, event_type, state))) in
        rows.iter().zip(expected).enumerate()
    {
        let at = format!("row {} ({event_type} of {} {id})", i + 1, kind.as_str());
        assert_eq!(row.position, i as i64 + 1, "{at}");
        assert_eq!(
            (row.tenant_id, row.kind, row.entity_id, row.version),
            (tenant, kind, id, version),
            "{at}"
        );
        assert_eq!(row.event_type, event_type, "{at}");
        assert_eq!(row.event_id(), format!("{id}:{version}"), "{at}");
        let got: Value = serde_json::from_str(&row.state).unwrap();
        assert_eq!(got, state, "{at}");
    }
}

/// The rows of one entity.
fn rows_of(rows: &[AnalyticsChange], id: Uuid) -> Vec<&AnalyticsChange> {
    rows.iter().filter(|r| r.entity_id == id).collect()
}

fn state(row: &AnalyticsChange) -> Value {
    serde_json::from_str(&row.state).unwrap()
}

fn ops(rows: &[&AnalyticsChange]) -> Vec<ChangeOperation> {
    rows.iter().map(|r| r.operation).collect()
}

/// A scripted sequence of changes: the exact rows, their states, an erased user and a deleted
/// contact scrubbed from every row, then the tenant's own erasure.
async fn scripted_sequence(store: Store) {
    use ChangeOperation::{Create, Delete, Erase, Update};
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    let handle = service.handle();
    let read = read_models(&store, &handle);

    let (tenant, created) = new_tenant(&engine).await;
    let owner = created.view.clone();
    let (a, b, c) = (
        OrganizationId::new_v7(),
        OrganizationId::new_v7(),
        OrganizationId::new_v7(),
    );
    run(&engine, tenant, create_org(a, "Sales", None)).await;
    run(&engine, tenant, create_org(b, "Sales EU", Some(a))).await;
    run(&engine, tenant, create_org(c, "Berlin", Some(b))).await;
    // b becomes a root: c is re-levelled without an event of its own
    let organization = |command| TenantScopeCommand::Organization(command);
    run(
        &engine,
        tenant,
        organization(OrganizationCommand::Move {
            id: b,
            new_parent_id: None,
        }),
    )
    .await;
    run(
        &engine,
        tenant,
        organization(OrganizationCommand::Update {
            id: c,
            name: Some("Berlin Mitte".into()),
            description: None,
        }),
    )
    .await;
    let team = TeamId::new_v7();
    run(
        &engine,
        tenant,
        TenantScopeCommand::Team(TeamCommand::Create {
            id: team,
            organization_id: a,
            name: "Deals".into(),
            description: String::new(),
        }),
    )
    .await;
    let ann = UserId::new_v7();
    let hash = token_hash(&format!("token-{ann}"));
    run(
        &engine,
        tenant,
        invite(ann, "ann.analytics@example.com", Some(a), &hash),
    )
    .await;
    run(
        &engine,
        tenant,
        TenantScopeCommand::User(UserCommand::AcceptInvitation {
            id: ann,
            token_hash: hash,
            display_name: Some("Ann Analytics".into()),
        }),
    )
    .await;
    let client = ClientId::new_v7();
    run(
        &engine,
        tenant,
        TenantScopeCommand::Client(ClientCommand::Create {
            id: client,
            name: "Globex".into(),
            external_id: String::new(),
            business_profile: None,
        }),
    )
    .await;
    let contact = RecordId::new_v7();
    let bo = |name: &str| {
        RecordFields::Contact(Contact {
            contact_type: "billing".into(),
            name: name.into(),
            email: "bo.contact@globex.test".into(),
            phone: "+1 555 0100".into(),
            location_id: None,
        })
    };
    let record = |command| TenantScopeCommand::Record(command);
    run(
        &engine,
        tenant,
        record(RecordCommand::Create {
            id: contact,
            client_id: Some(client),
            fields: bo("Bo Contact"),
        }),
    )
    .await;
    run(
        &engine,
        tenant,
        record(RecordCommand::Update {
            id: contact,
            fields: bo("Bo C. Contact"),
            active: true,
            mask: vec!["name".into()],
        }),
    )
    .await;
    run(
        &engine,
        tenant,
        TenantScopeCommand::User(UserCommand::Erase { id: ann }),
    )
    .await;
    run(
        &engine,
        tenant,
        record(RecordCommand::Delete {
            id: contact,
            kind: RecordKind::Contact,
        }),
    )
    .await;
    caught_up(&handle).await;

    let rows = history(&read).await;
    assert_matches_the_domain(&store, &rows).await;
    assert_eq!(ops(&rows_of(&rows, tenant.0)[..1]), [Create]);
    assert!(
        rows.iter().all(|r| r.tenant_id == tenant),
        "one tenant only"
    );
    // organizations: created at depth 1, 2, 3; b's move makes it a root and c depth 2
    let b_rows = rows_of(&rows, b.0);
    assert_eq!(ops(&b_rows), [Create, Update]);
    assert_eq!(state(b_rows[1])["depth"], 1);
    assert_eq!(state(b_rows[1])["parent_id"], Value::Null);
    let c_rows = rows_of(&rows, c.0);
    assert_eq!(ops(&c_rows), [Create, Update]);
    assert_eq!(state(c_rows[0])["depth"], 3);
    assert_eq!(state(c_rows[1])["depth"], 2);
    assert_eq!(state(c_rows[1])["name"], "Berlin Mitte");
    assert_eq!(ops(&rows_of(&rows, team.0)), [Create]);
    assert_eq!(ops(&rows_of(&rows, client.0)), [Create]);
    // Ann: invited (with a membership and a role, each a change), accepted, erased; no value
    // of hers is left in any row, the rest of each state is
    let ann_rows = rows_of(&rows, ann.0);
    assert_eq!(
        ops(&ann_rows),
        [Create, Update, Update, Update, Erase],
        "{ann_rows:#?}"
    );
    let first = state(ann_rows[0]);
    assert_eq!(first["status"], "invited");
    assert_eq!(first["email"], "");
    assert!(first["invitation"].get("token_hash").is_none(), "{first}");
    assert_eq!(state(ann_rows[2])["organizations"], serde_json::json!([a]));
    assert_eq!(state(ann_rows[3])["status"], "active");
    assert_eq!(state(ann_rows[4])["status"], "erased");
    let contact_rows = rows_of(&rows, contact.0);
    assert_eq!(ops(&contact_rows), [Create, Update, Delete]);
    assert_eq!(state(contact_rows[0])["fields"]["contact"]["name"], "");
    assert_eq!(
        state(contact_rows[0])["fields"]["contact"]["contact_type"],
        "billing"
    );
    for row in &rows {
        for secret in [
            "ann.analytics@example.com",
            "Ann Analytics",
            "Bo C",
            "bo.contact@globex.test",
            "+1 555 0100",
        ] {
            assert!(!row.state.contains(secret), "{secret} in {row:?}");
        }
    }
    // the owner is not erased: their email stays in the tenant's rows
    let owner_email = match &owner {
        engine::runtime::EntityView::Tenant(t) => t
            .onboarding
            .as_ref()
            .map(|o| o.plan.owner_email.clone())
            .unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(!owner_email.is_empty());
    let tenant_rows = rows_of(&rows, tenant.0);
    let last = state(tenant_rows[tenant_rows.len() - 1]);
    assert_eq!(
        last["onboarding"]["plan"]["owner_email"],
        owner_email.as_str()
    );
    assert!(last["onboarding"]["plan"].get("owner_token_hash").is_none());

    // the tenant goes, and every person with it: one `erase` row, the tenant's
    run(
        &engine,
        tenant,
        TenantScopeCommand::Tenant(TenantCommand::Delete),
    )
    .await;
    run(
        &engine,
        tenant,
        TenantScopeCommand::Tenant(TenantCommand::Erase),
    )
    .await;
    caught_up(&handle).await;
    let after = history(&read).await;
    assert_eq!(after.len(), rows.len() + 2);
    assert_eq!(
        ops(&after[rows.len()..].iter().collect::<Vec<_>>()),
        [Delete, Erase]
    );
    assert!(after[rows.len()..].iter().all(|r| r.entity_id == tenant.0));
    assert_matches_the_domain(&store, &after).await;
    for row in &after {
        assert!(!row.state.contains(&owner_email), "{row:?}");
    }

    // a rebuild from zero numbers and fills the same rows
    handle.rebuild(names::ANALYTICS).await.unwrap();
    caught_up(&handle).await;
    assert_eq!(history(&read).await, after);
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_scripted_sequence() {
    let (_db, _journal, store) = postgres().await;
    scripted_sequence(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_scripted_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    scripted_sequence(store).await;
}

/// A random workload of several tenants at once (moves, deletions, erasures, contacts…), one
/// of them erased at the end: the history is what the domain folds, also after a rebuild.
async fn random_workload(store: Store, tenants: u64, commands: usize) {
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    let handle = service.handle();
    let read = read_models(&store, &handle);
    let runs = (0..tenants).map(|seed| {
        let engine = engine.clone();
        async move { run_tenant_with(&engine, 7_000 + seed, commands, true).await }
    });
    let ids: Vec<TenantId> = join_all(runs).await.into_iter().map(|(t, _)| t).collect();
    run(
        &engine,
        ids[0],
        TenantScopeCommand::Tenant(TenantCommand::Delete),
    )
    .await;
    run(
        &engine,
        ids[0],
        TenantScopeCommand::Tenant(TenantCommand::Erase),
    )
    .await;
    caught_up(&handle).await;
    let rows = history(&read).await;
    assert!(
        rows.len() > tenants as usize * commands / 2,
        "{}",
        rows.len()
    );
    for op in [ChangeOperation::Erase, ChangeOperation::Delete] {
        assert!(rows.iter().any(|r| r.operation == op), "no {op:?}");
    }
    assert_matches_the_domain(&store, &rows).await;
    handle.rebuild(names::ANALYTICS).await.unwrap();
    caught_up(&handle).await;
    assert_eq!(history(&read).await, rows);
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_random_workload_is_what_the_domain_folds() {
    let (_db, _journal, store) = postgres().await;
    random_workload(store, 4, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_random_workload_is_what_the_domain_folds() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    random_workload(store, 3, 200).await;
}
