//! The query API on both backends: search and filters of every read model, the organization
//! tree (children, descendants, ancestors, moves), keyset pages that stay stable under
//! concurrent writes, clients (status and external-id filters, tombstones, tenant isolation),
//! directory records (owner, active and contact-type filters, pages, deletions, a client's
//! deletion taking its records, a batch folded per row), the audit trail, and the errors (bad
//! page tokens, an unreachable consistency token).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::HashSet, sync::Arc, time::Duration};

use engine::{
    domain::{
        Address, Assignment, BusinessProfile, Client, ClientCommand, ClientId, ClientStatus,
        Contact, Department, Location, OrganizationCommand, OrganizationId, Plan, RecordCommand,
        RecordFields, RecordId, RecordKind, Scope, StreamId, StreamKind, TeamCommand, TeamId,
        TeamRole, TenantCommand, TenantId, TenantScopeCommand, TenantStatus, UserCommand, UserId,
        UserStatus, headquarters_id,
    },
    journal::{AuditActor, CommitToken, postgres::PostgresJournal},
    personal::{MasterKeys, Vault},
    runtime::{Engine, RequestMeta},
    secrets::token_hash,
};
use projections::{
    AuditFilter, AuditSelection, ClientFilter, Error, MatchMode, OrganizationFilter,
    OrganizationSelection, OwnerFilter, PageRequest, ReadModels, ReadStore, RecordFilter,
    RoleAssignmentFilter, TeamMemberFilter, TenantFilter, UserFilter,
};
use support::*;

async fn run(engine: &Engine, tenant: TenantId, command: TenantScopeCommand) -> CommitToken {
    engine.execute(tenant, command, meta()).await.unwrap().token
}

async fn tenants_and_search(engine: &Engine, read: &ReadModels) {
    let marker = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let mut last = None;
    for (i, plan) in [Plan::Bronze, Plan::Silver, Plan::Gold]
        .into_iter()
        .enumerate()
    {
        let id = TenantId::new_v7();
        let slug = format!("acme-{marker}-{i}");
        let mut command = create_tenant(id, &slug, plan);
        if let TenantScopeCommand::Tenant(TenantCommand::Create(c)) = &mut command {
            c.name = format!("ÄCME Corp {marker} {i}");
        }
        last = Some(run(engine, id, command).await);
        if i == 0 {
            let reason = "testing".to_owned();
            last = Some(
                run(
                    engine,
                    id,
                    TenantScopeCommand::Tenant(TenantCommand::Suspend { reason }),
                )
                .await,
            );
        }
    }
    let search = |text: &str, mode| TenantFilter {
        text: Some(text.to_owned()),
        mode,
        ..TenantFilter::default()
    };
    let names = |page: projections::Page<projections::TenantEntry>| {
        page.items.into_iter().map(|t| t.slug).collect::<Vec<_>>()
    };
    let first = PageRequest::first(50);
    let all = read
        .list_tenants(
            &search(&format!("äcme corp {marker}"), MatchMode::Prefix),
            &first,
            last,
        )
        .await
        .unwrap();
    assert_eq!(
        names(all).len(),
        3,
        "case-insensitive Unicode prefix on the name"
    );
    let by_slug = read
        .list_tenants(
            &search(&format!("{marker}-1"), MatchMode::Substring),
            &first,
            last,
        )
        .await
        .unwrap();
    assert_eq!(names(by_slug), vec![format!("acme-{marker}-1")]);
    let not_prefix = read
        .list_tenants(
            &search(&format!("{marker}-1"), MatchMode::Prefix),
            &first,
            last,
        )
        .await
        .unwrap();
    assert!(not_prefix.items.is_empty());
    let gold = read
        .list_tenants(
            &TenantFilter {
                plan: Some(Plan::Gold),
                ..search(&marker, MatchMode::Substring)
            },
            &first,
            last,
        )
        .await
        .unwrap();
    assert_eq!(names(gold), vec![format!("acme-{marker}-2")]);
    let suspended = read
        .list_tenants(
            &TenantFilter {
                status: Some(TenantStatus::Suspended),
                ..search(&marker, MatchMode::Substring)
            },
            &first,
            last,
        )
        .await
        .unwrap();
    assert_eq!(names(suspended), vec![format!("acme-{marker}-0")]);
    // Wildcards in the search text are literal.
    let literal = read
        .list_tenants(&search("%", MatchMode::Substring), &first, last)
        .await
        .unwrap();
    assert!(literal.items.is_empty());
}

async fn organization_tree(engine: &Engine, read: &ReadModels) {
    let (tenant, _) = new_tenant(engine).await;
    // a ─ b ─ c ─ d      x
    let [a, b, c, d, x] = [(); 5].map(|()| OrganizationId::new_v7());
    run(engine, tenant, create_org(a, "A", None)).await;
    run(engine, tenant, create_org(b, "B", Some(a))).await;
    run(engine, tenant, create_org(c, "C", Some(b))).await;
    run(engine, tenant, create_org(d, "D", Some(c))).await;
    let token = run(engine, tenant, create_org(x, "X", None)).await;
    let list = |selection| OrganizationFilter {
        selection,
        include_deleted: false,
    };
    let ids = |page: projections::Page<projections::OrganizationEntry>| {
        page.items.into_iter().map(|o| o.id).collect::<HashSet<_>>()
    };
    let first = PageRequest::first(50);
    let below_a = read
        .list_organizations(
            tenant,
            &list(OrganizationSelection::DescendantsOf(a)),
            &first,
            Some(token),
        )
        .await
        .unwrap();
    assert_eq!(ids(below_a), HashSet::from([b, c, d]));
    let ancestors = read
        .organization_ancestors(tenant, d, Some(token))
        .await
        .unwrap();
    assert_eq!(
        ancestors.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![a, b, c]
    );

    // Move the subtree b─c─d under x: paths and depths of the whole subtree follow.
    let token = run(
        engine,
        tenant,
        TenantScopeCommand::Organization(OrganizationCommand::Move {
            id: b,
            new_parent_id: Some(x),
        }),
    )
    .await;
    let below_a = read
        .list_organizations(
            tenant,
            &list(OrganizationSelection::DescendantsOf(a)),
            &first,
            Some(token),
        )
        .await
        .unwrap();
    assert!(below_a.items.is_empty());
    let below_x = read
        .list_organizations(
            tenant,
            &list(OrganizationSelection::DescendantsOf(x)),
            &first,
            Some(token),
        )
        .await
        .unwrap();
    let d_row = below_x.items.iter().find(|o| o.id == d).unwrap().clone();
    assert_eq!(ids(below_x), HashSet::from([b, c, d]));
    assert_eq!(d_row.path, vec![x, b, c, d]);
    assert_eq!(d_row.depth, 4);
    let ancestors = read
        .organization_ancestors(tenant, d, Some(token))
        .await
        .unwrap();
    assert_eq!(
        ancestors.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![x, b, c]
    );
    let children = read
        .list_organizations(
            tenant,
            &list(OrganizationSelection::ChildrenOf(x)),
            &first,
            Some(token),
        )
        .await
        .unwrap();
    assert_eq!(ids(children), HashSet::from([b]));
    let roots = read
        .list_organizations(
            tenant,
            &list(OrganizationSelection::Roots),
            &first,
            Some(token),
        )
        .await
        .unwrap();
    assert!(ids(roots).is_superset(&HashSet::from([a, x])));

    // Deleted organizations drop out unless asked for.
    let token = run(
        engine,
        tenant,
        TenantScopeCommand::Organization(OrganizationCommand::Delete {
            id: c,
            cascade: true,
        }),
    )
    .await;
    let below_x = read
        .list_organizations(
            tenant,
            &list(OrganizationSelection::DescendantsOf(x)),
            &first,
            Some(token),
        )
        .await
        .unwrap();
    assert_eq!(ids(below_x), HashSet::from([b]));
    let with_deleted = read
        .list_organizations(
            tenant,
            &OrganizationFilter {
                selection: OrganizationSelection::DescendantsOf(x),
                include_deleted: true,
            },
            &first,
            Some(token),
        )
        .await
        .unwrap();
    assert_eq!(ids(with_deleted), HashSet::from([b, c, d]));
    let unknown = read
        .organization_ancestors(tenant, OrganizationId::new_v7(), None)
        .await;
    assert!(
        matches!(unknown, Err(Error::NotFound { .. })),
        "{unknown:?}"
    );
    // Another tenant sees none of it.
    let (other, token) = new_tenant(engine).await;
    let leak = read
        .list_organizations(
            other,
            &list(OrganizationSelection::All),
            &first,
            Some(token.token),
        )
        .await
        .unwrap();
    assert!(leak.items.iter().all(|o| o.tenant_id == other));
    let leak = read.organization_ancestors(other, d, None).await;
    assert!(matches!(leak, Err(Error::NotFound { .. })));
}

async fn users_teams_roles_and_stable_pages(engine: &Engine, read: &ReadModels) {
    let (tenant, _) = new_tenant(engine).await;
    let org = OrganizationId::new_v7();
    run(engine, tenant, create_org(org, "Sales", None)).await;
    let team = TeamId::new_v7();
    run(
        engine,
        tenant,
        TenantScopeCommand::Team(TeamCommand::Create {
            id: team,
            organization_id: org,
            name: "Closers".into(),
            description: String::new(),
        }),
    )
    .await;
    let mut users = Vec::new();
    let mut token = None;
    for i in 0..30 {
        let id = UserId::new_v7();
        let email = format!("m{i:02}@example.com");
        let hash = token_hash(&email);
        run(
            engine,
            tenant,
            invite(id, &email, (i % 2 == 0).then_some(org), &hash),
        )
        .await;
        if i % 3 == 0 {
            run(
                engine,
                tenant,
                TenantScopeCommand::User(UserCommand::AcceptInvitation {
                    id,
                    token_hash: hash,
                    display_name: Some(format!("Zoë Person {i}")),
                }),
            )
            .await;
        }
        if i % 5 == 0 {
            token = Some(
                run(
                    engine,
                    tenant,
                    TenantScopeCommand::Team(TeamCommand::AddMember {
                        id: team,
                        user_id: id,
                        role: TeamRole::Lead,
                    }),
                )
                .await,
            );
        }
        users.push(id);
    }
    let admin = users[3];
    let token = Some(
        run(
            engine,
            tenant,
            TenantScopeCommand::User(UserCommand::AssignRole {
                id: admin,
                assignment: Assignment {
                    role: "tenant-admin".into(),
                    scope: Scope::Tenant,
                },
            }),
        )
        .await
        .max(token.unwrap()),
    );
    let first = PageRequest::first(100);
    let search = |filter: UserFilter| async move {
        read.list_users(tenant, &filter, &PageRequest::first(100), token)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|u| u.id)
            .collect::<HashSet<_>>()
    };
    let zoe = search(UserFilter {
        text: Some("ZOË".into()),
        ..UserFilter::default()
    })
    .await;
    assert_eq!(
        zoe.len(),
        10,
        "display-name search is case-insensitive, Unicode too"
    );
    let active = search(UserFilter {
        status: Some(UserStatus::Active),
        ..UserFilter::default()
    })
    .await;
    assert_eq!(active, zoe);
    let in_org = search(UserFilter {
        organization_id: Some(org),
        ..UserFilter::default()
    })
    .await;
    assert_eq!(in_org.len(), 15);
    let members = search(UserFilter {
        role: Some("member".into()),
        ..UserFilter::default()
    })
    .await;
    assert_eq!(
        members, in_org,
        "invitations into the org grant `member` there"
    );
    let admins = search(UserFilter {
        role: Some("tenant-admin".into()),
        text: Some("m03@".into()),
        ..UserFilter::default()
    })
    .await;
    assert_eq!(admins, HashSet::from([admin]));

    let team_members = read
        .list_team_members(
            tenant,
            &TeamMemberFilter {
                team_id: Some(team),
                user_id: None,
            },
            &first,
            token,
        )
        .await
        .unwrap();
    assert_eq!(team_members.items.len(), 6);
    assert!(team_members.items.iter().all(|m| m.role == TeamRole::Lead));
    let assignments = read
        .list_role_assignments(
            tenant,
            &RoleAssignmentFilter {
                user_id: Some(admin),
                ..RoleAssignmentFilter::default()
            },
            &first,
            token,
        )
        .await
        .unwrap();
    assert_eq!(
        assignments
            .items
            .iter()
            .map(|a| (a.role.as_str(), a.scope))
            .collect::<HashSet<_>>(),
        HashSet::from([("tenant-admin", Scope::Tenant)])
    );
    let at_org = read
        .list_role_assignments(
            tenant,
            &RoleAssignmentFilter {
                scope: Some(Scope::Organization(org)),
                ..RoleAssignmentFilter::default()
            },
            &first,
            token,
        )
        .await
        .unwrap();
    assert_eq!(at_org.items.len(), 15);

    // Pages stay stable while users are added before and after the cursor: every user that
    // existed throughout is seen exactly once.
    let existing: HashSet<UserId> = users.iter().copied().collect();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(4);
    let mut round = 0;
    loop {
        let got = read
            .list_users(tenant, &UserFilter::default(), &page, None)
            .await
            .unwrap();
        seen.extend(got.items.iter().map(|u| u.id));
        for email in [
            format!("a{round:02}@example.com"),
            format!("z{round:02}@example.com"),
        ] {
            let hash = token_hash(&email);
            run(
                engine,
                tenant,
                invite(UserId::new_v7(), &email, None, &hash),
            )
            .await;
        }
        round += 1;
        match got.next_page_token {
            Some(t) => page = PageRequest::after(4, t),
            None => break,
        }
    }
    let unique: HashSet<UserId> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a row came twice");
    assert!(unique.is_superset(&existing), "a row was skipped");

    // A token of one query is refused by another; garbage is refused.
    let one = read
        .list_users(tenant, &UserFilter::default(), &PageRequest::first(2), None)
        .await
        .unwrap();
    let other_filter = UserFilter {
        status: Some(UserStatus::Active),
        ..UserFilter::default()
    };
    let reused = read
        .list_users(
            tenant,
            &other_filter,
            &PageRequest::after(2, one.next_page_token.unwrap()),
            None,
        )
        .await;
    assert!(
        matches!(reused, Err(Error::InvalidPageToken(_))),
        "{reused:?}"
    );
    let garbage = read
        .list_users(
            tenant,
            &UserFilter::default(),
            &PageRequest::after(2, "pt1.zz"),
            None,
        )
        .await;
    assert!(matches!(garbage, Err(Error::InvalidPageToken(_))));
}

fn create_client(id: ClientId, name: &str, external_id: &str) -> TenantScopeCommand {
    TenantScopeCommand::Client(ClientCommand::Create {
        id,
        name: name.to_owned(),
        external_id: external_id.to_owned(),
        business_profile: None,
    })
}

/// Every client `filter` lists, read in pages of `size`; checks the id order and that each
/// row equals the engine's state of the client (its business profile aside).
async fn clients(
    engine: &Engine,
    read: &ReadModels,
    tenant: TenantId,
    filter: &ClientFilter,
    size: u32,
    token: CommitToken,
) -> Vec<ClientId> {
    let mut entries: Vec<Client> = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let got = read
            .list_clients(tenant, filter, &page, Some(token))
            .await
            .unwrap();
        assert!(got.items.len() <= size as usize);
        entries.extend(got.items);
        match got.next_page_token {
            Some(t) => page = PageRequest::after(size, t),
            None => break,
        }
    }
    for entry in &entries {
        let state = engine.get_client(tenant, entry.id).await.unwrap();
        // the read model keeps every field but the business profile
        let expected = Client {
            business_profile: None,
            ..state
        };
        assert_eq!(entry, &expected);
    }
    let ids: Vec<ClientId> = entries.iter().map(|c| c.id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ordered by id: {ids:?}"
    );
    ids
}

async fn clients_filters_and_tombstones(engine: &Engine, read: &ReadModels) {
    let (tenant, _) = new_tenant(engine).await;
    let (other, _) = new_tenant(engine).await;
    // Ten clients: 0-5 active (0 and 1 without an external id), 6-7 disabled, 8-9 deleted.
    let ids: Vec<ClientId> = (0..10).map(|_| ClientId::new_v7()).collect();
    for (i, &id) in ids.iter().enumerate() {
        let external = if i < 2 {
            String::new()
        } else {
            format!("crm-{i}")
        };
        run(
            engine,
            tenant,
            create_client(id, &format!("Client {i}"), &external),
        )
        .await;
    }
    for &id in &ids[6..8] {
        run(
            engine,
            tenant,
            TenantScopeCommand::Client(ClientCommand::Disable { id }),
        )
        .await;
    }
    for &id in &ids[8..] {
        run(
            engine,
            tenant,
            TenantScopeCommand::Client(ClientCommand::Delete { id }),
        )
        .await;
    }
    // A deleted client's external id is free again: client 10 takes client 9's.
    let reused = ClientId::new_v7();
    run(engine, tenant, create_client(reused, "Client 10", "crm-9")).await;
    // Client 2: renamed and given another external id, then its business profile alone.
    run(
        engine,
        tenant,
        TenantScopeCommand::Client(ClientCommand::Update {
            id: ids[2],
            name: Some("Client 2 renamed".into()),
            external_id: Some("crm-2b".into()),
            business_profile: None,
        }),
    )
    .await;
    run(
        engine,
        tenant,
        TenantScopeCommand::Client(ClientCommand::Update {
            id: ids[2],
            name: None,
            external_id: None,
            business_profile: Some(Some(BusinessProfile {
                legal_name: "Client Two Ltd".into(),
                ..BusinessProfile::default()
            })),
        }),
    )
    .await;
    // Client 7 enabled again.
    run(
        engine,
        tenant,
        TenantScopeCommand::Client(ClientCommand::Enable { id: ids[7] }),
    )
    .await;
    // Another tenant's clients, one with an external id of the first tenant.
    let others = [ClientId::new_v7(), ClientId::new_v7()];
    run(engine, other, create_client(others[0], "Other 0", "crm-3")).await;
    run(engine, other, create_client(others[1], "Other 1", "")).await;
    let token = run(
        engine,
        other,
        TenantScopeCommand::Client(ClientCommand::Delete { id: others[1] }),
    )
    .await;

    let list = |filter: ClientFilter, size: u32| async move {
        clients(engine, read, tenant, &filter, size, token).await
    };
    let status = |status| ClientFilter {
        status: Some(status),
        external_id: None,
    };
    let external = |id: &str| ClientFilter {
        status: None,
        external_id: Some(id.to_owned()),
    };
    let pick = |i: &[usize]| i.iter().map(|&i| ids[i]).collect::<Vec<_>>();
    let mut live = pick(&[0, 1, 2, 3, 4, 5, 6, 7]);
    live.push(reused);
    assert_eq!(
        live,
        list(ClientFilter::default(), 50).await,
        "live clients"
    );
    for size in [1, 2, 4] {
        assert_eq!(
            live,
            list(ClientFilter::default(), size).await,
            "pages of {size}"
        );
    }
    let mut active = pick(&[0, 1, 2, 3, 4, 5, 7]);
    active.push(reused);
    assert_eq!(active, list(status(ClientStatus::Active), 3).await);
    assert_eq!(pick(&[6]), list(status(ClientStatus::Disabled), 3).await);
    assert_eq!(pick(&[8, 9]), list(status(ClientStatus::Deleted), 1).await);
    assert_eq!(pick(&[3]), list(external("crm-3"), 50).await);
    assert!(
        list(external("crm-2"), 50).await.is_empty(),
        "the old external id"
    );
    assert_eq!(pick(&[2]), list(external("crm-2b"), 50).await);
    assert!(list(external("CRM-3"), 50).await.is_empty(), "exact match");
    assert_eq!(pick(&[0, 1]), list(external(""), 1).await, "no external id");
    assert_eq!(
        vec![reused],
        list(external("crm-9"), 50).await,
        "the live one"
    );
    let deleted_nine = ClientFilter {
        status: Some(ClientStatus::Deleted),
        external_id: Some("crm-9".into()),
    };
    assert_eq!(pick(&[9]), list(deleted_nine, 50).await, "the tombstone");
    let first = PageRequest::first(50);
    let two = read
        .list_clients(tenant, &external("crm-2b"), &first, None)
        .await
        .unwrap();
    assert_eq!(two.items[0].name, "Client 2 renamed");
    assert_eq!(two.items[0].version, 3, "the profile-only update counts");

    // The other tenant sees its own clients only, and the first tenant none of them.
    for (filter, expected) in [
        (ClientFilter::default(), others[0]),
        (external("crm-3"), others[0]),
        (status(ClientStatus::Deleted), others[1]),
    ] {
        let mine = clients(engine, read, other, &filter, 50, token).await;
        assert_eq!(mine, vec![expected], "{filter:?}");
    }
    let every_status = [None, Some(ClientStatus::Deleted)].map(|status| ClientFilter {
        status,
        external_id: None,
    });
    for filter in every_status {
        let seen = list(filter, 50).await;
        assert!(others.iter().all(|o| !seen.contains(o)), "{seen:?}");
    }

    // A page token belongs to its tenant and filter.
    let page = read
        .list_clients(
            tenant,
            &ClientFilter::default(),
            &PageRequest::first(2),
            None,
        )
        .await
        .unwrap();
    let next = PageRequest::after(2, page.next_page_token.unwrap());
    for (owner, filter) in [
        (other, ClientFilter::default()),
        (tenant, status(ClientStatus::Active)),
        (tenant, external("")),
    ] {
        let refused = read.list_clients(owner, &filter, &next, None).await;
        assert!(
            matches!(refused, Err(Error::InvalidPageToken(_))),
            "{refused:?}"
        );
    }
}

/// One batch folds each client's events: the changes of a client created in an earlier batch
/// merge into one update, a client created in the batch is one insert with its changes.
async fn clients_fold_per_batch(store: Store) {
    let engine = start_engine(&store).await;
    let (tenant, _) = new_tenant(&engine).await;
    let [early, late] = [(); 2].map(|()| ClientId::new_v7());
    run(&engine, tenant, create_client(early, "Early", "crm-early")).await;
    let service = start_projections(&store).await;
    caught_up(&service.handle()).await;
    service.stop().await;

    // Written while no projection runs: the next start reads them as one batch.
    let update = |id, name: Option<&str>, external_id: Option<&str>| {
        TenantScopeCommand::Client(ClientCommand::Update {
            id,
            name: name.map(str::to_owned),
            external_id: external_id.map(str::to_owned),
            business_profile: None,
        })
    };
    let mut token = None;
    for command in [
        update(early, Some("Early 2"), None),
        update(early, None, Some("crm-early-2")),
        TenantScopeCommand::Client(ClientCommand::Disable { id: early }),
        TenantScopeCommand::Client(ClientCommand::Enable { id: early }),
        update(early, Some("Early 3"), None),
        create_client(late, "Late", "crm-late"),
        update(late, Some("Late 2"), None),
        update(late, None, Some("")),
        TenantScopeCommand::Client(ClientCommand::Disable { id: late }),
        TenantScopeCommand::Client(ClientCommand::Delete { id: late }),
        TenantScopeCommand::Client(ClientCommand::Disable { id: early }),
    ] {
        token = Some(run(&engine, tenant, command).await);
    }
    let token = token.unwrap();
    let service = start_projections(&store).await;
    let read = read_models(&store, &service.handle());
    // `clients` compares every row with the engine's state.
    for (status, expected) in [
        (None, early),
        (Some(ClientStatus::Disabled), early),
        (Some(ClientStatus::Deleted), late),
    ] {
        let filter = ClientFilter {
            status,
            external_id: None,
        };
        let listed = clients(&engine, &read, tenant, &filter, 50, token).await;
        assert_eq!(listed, vec![expected], "{filter:?}");
    }
    service.stop().await;
    engine.shutdown().await;
}

fn department(name: &str) -> RecordFields {
    RecordFields::Department(Department {
        name: name.to_owned(),
        code: String::new(),
    })
}

fn location(name: &str, headquarters: bool) -> RecordFields {
    RecordFields::Location(Location {
        name: name.to_owned(),
        address: Address {
            line1: "1 Main St".into(),
            city: "Springfield".into(),
            ..Address::default()
        },
        headquarters,
        ..Location::default()
    })
}

fn contact(contact_type: &str, name: &str, location_id: Option<RecordId>) -> RecordFields {
    RecordFields::Contact(Contact {
        contact_type: contact_type.to_owned(),
        name: name.to_owned(),
        email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
        phone: "+1 555 0100".into(),
        location_id,
    })
}

fn create_record(
    id: RecordId,
    owner: Option<ClientId>,
    fields: RecordFields,
) -> TenantScopeCommand {
    TenantScopeCommand::Record(RecordCommand::Create {
        id,
        client_id: owner,
        fields,
    })
}

fn update_record(
    id: RecordId,
    fields: RecordFields,
    active: bool,
    mask: &[&str],
) -> TenantScopeCommand {
    TenantScopeCommand::Record(RecordCommand::Update {
        id,
        fields,
        active,
        mask: mask.iter().map(|p| (*p).to_owned()).collect(),
    })
}

fn delete_record(id: RecordId, kind: RecordKind) -> TenantScopeCommand {
    TenantScopeCommand::Record(RecordCommand::Delete { id, kind })
}

/// Every record of `kind` `filter` lists, read in pages of `size`; checks the id order and
/// that each equals the engine's state of the record.
async fn records(
    engine: &Engine,
    read: &ReadModels,
    tenant: TenantId,
    kind: RecordKind,
    filter: &RecordFilter,
    size: u32,
    token: CommitToken,
) -> Vec<RecordId> {
    let mut ids = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let got = read
            .list_records(tenant, kind, filter, &page, Some(token))
            .await
            .unwrap();
        assert!(got.items.len() <= size as usize);
        for record in got.items {
            let state = engine.get_record(tenant, kind, record.id).await.unwrap();
            assert_eq!(record, state);
            ids.push(record.id);
        }
        match got.next_page_token {
            Some(t) => page = PageRequest::after(size, t),
            None => break,
        }
    }
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ordered by id: {ids:?}"
    );
    ids
}

/// Departments, locations and contacts of the tenant and of two clients: the owner, active and
/// contact-type filters, pages of every size, deletions (the row goes), a client's deletion
/// taking its records along, another tenant's records never seen, page tokens bound to their
/// query.
async fn records_filters_and_pages(engine: &Engine, read: &ReadModels) {
    let (tenant, _) = new_tenant(engine).await;
    let (other, _) = new_tenant(engine).await;
    let [ca, cb] = [(); 2].map(|()| ClientId::new_v7());
    run(engine, tenant, create_client(ca, "Client A", "")).await;
    // Client B comes with an address: its headquarters location with it.
    run(
        engine,
        tenant,
        TenantScopeCommand::Client(ClientCommand::Create {
            id: cb,
            name: "Client B".into(),
            external_id: String::new(),
            business_profile: Some(BusinessProfile {
                legal_name: "Client B Ltd".into(),
                address: Some(Address {
                    line1: "2 Side St".into(),
                    city: "Shelbyville".into(),
                    ..Address::default()
                }),
                ..BusinessProfile::default()
            }),
        }),
    )
    .await;
    let cb_hq = headquarters_id(cb.0);
    // Departments 0-4 the tenant's (3 inactive), 5-6 client A's, 7 client B's.
    let deps: Vec<RecordId> = (0..8).map(|_| RecordId::new_v7()).collect();
    for (i, &id) in deps.iter().enumerate() {
        let owner = match i {
            0..=4 => None,
            5 | 6 => Some(ca),
            _ => Some(cb),
        };
        run(
            engine,
            tenant,
            create_record(id, owner, department(&format!("Dep {i}"))),
        )
        .await;
    }
    run(
        engine,
        tenant,
        update_record(
            deps[3],
            department("Dep 3 closed"),
            false,
            &["name", "active"],
        ),
    )
    .await;
    // Locations: the tenant's headquarters, one of client A.
    let [l0, l1] = [(); 2].map(|()| RecordId::new_v7());
    run(
        engine,
        tenant,
        create_record(l0, None, location("Main", true)),
    )
    .await;
    run(
        engine,
        tenant,
        create_record(l1, Some(ca), location("A office", false)),
    )
    .await;
    // Contacts: 0-2 the tenant's, 3-4 client A's, 5 client B's.
    let ks: Vec<RecordId> = (0..6).map(|_| RecordId::new_v7()).collect();
    let contacts = [
        (None, "billing", "Kay Zero", Some(l0)),
        (None, "technical", "Kay One", None),
        (None, "partner-2", "Kay Two", Some(l0)),
        (Some(ca), "billing", "Kay Three", Some(l1)),
        (Some(ca), "account-owner", "Kay Four", None),
        (Some(cb), "billing", "Kay Five", Some(cb_hq)),
    ];
    for (&id, (owner, kind, name, at)) in ks.iter().zip(contacts) {
        run(
            engine,
            tenant,
            create_record(id, owner, contact(kind, name, at)),
        )
        .await;
    }
    // Contact 1: a billing contact now, and inactive.
    run(
        engine,
        tenant,
        update_record(
            ks[1],
            contact("Billing", "", None),
            false,
            &["type", "active"],
        ),
    )
    .await;
    // Another tenant's department and billing contact.
    let theirs = [RecordId::new_v7(), RecordId::new_v7()];
    run(
        engine,
        other,
        create_record(theirs[0], None, department("Theirs")),
    )
    .await;
    let token = run(
        engine,
        other,
        create_record(theirs[1], None, contact("billing", "Their Kay", None)),
    )
    .await;

    let list = |kind, filter: RecordFilter, size: u32| async move {
        records(engine, read, tenant, kind, &filter, size, token).await
    };
    let owner = |owner| RecordFilter {
        owner,
        ..RecordFilter::default()
    };
    let sorted = |mut ids: Vec<RecordId>| {
        ids.sort();
        ids
    };
    let pick = |of: &[RecordId], i: &[usize]| sorted(i.iter().map(|&i| of[i]).collect());
    use RecordKind::{Contact as C, Department as D, Location as L};

    let all_deps = sorted(deps.clone());
    for size in [1, 2, 3, 50] {
        assert_eq!(
            all_deps,
            list(D, RecordFilter::default(), size).await,
            "pages of {size}"
        );
    }
    assert_eq!(
        pick(&deps, &[0, 1, 2, 3, 4]),
        list(D, owner(OwnerFilter::Tenant), 2).await
    );
    assert_eq!(
        pick(&deps, &[5, 6]),
        list(D, owner(OwnerFilter::Client(ca)), 1).await
    );
    assert_eq!(
        pick(&deps, &[7]),
        list(D, owner(OwnerFilter::Client(cb)), 50).await
    );
    let active = |active, owner| RecordFilter {
        owner,
        active: Some(active),
        contact_type: None,
    };
    assert_eq!(
        pick(&deps, &[3]),
        list(D, active(false, OwnerFilter::Any), 50).await
    );
    assert_eq!(
        pick(&deps, &[0, 1, 2, 4]),
        list(D, active(true, OwnerFilter::Tenant), 3).await
    );
    assert_eq!(
        sorted(vec![l0, l1, cb_hq]),
        list(L, RecordFilter::default(), 2).await
    );
    assert_eq!(
        vec![cb_hq],
        list(L, owner(OwnerFilter::Client(cb)), 50).await
    );
    let renamed = read
        .list_records(
            tenant,
            D,
            &active(false, OwnerFilter::Any),
            &PageRequest::first(5),
            None,
        )
        .await
        .unwrap();
    assert_eq!(renamed.items[0].fields, department("Dep 3 closed"));
    assert_eq!(renamed.items[0].version, 2);
    assert!(!renamed.items[0].active);

    let of_type = |t: &str, active: Option<bool>, owner| RecordFilter {
        owner,
        active,
        contact_type: Some(t.to_owned()),
    };
    assert_eq!(
        sorted(ks.clone()),
        list(C, RecordFilter::default(), 4).await
    );
    assert_eq!(
        pick(&ks, &[0, 1, 3, 5]),
        list(C, of_type("billing", None, OwnerFilter::Any), 1).await
    );
    assert_eq!(
        pick(&ks, &[0, 3, 5]),
        list(C, of_type(" BILLING ", Some(true), OwnerFilter::Any), 2).await,
        "types compare case-insensitively"
    );
    assert_eq!(
        pick(&ks, &[3]),
        list(C, of_type("billing", None, OwnerFilter::Client(ca)), 50).await
    );
    assert_eq!(
        pick(&ks, &[0, 1]),
        list(C, of_type("billing", None, OwnerFilter::Tenant), 50).await
    );
    assert_eq!(
        pick(&ks, &[2]),
        list(C, of_type("partner-2", None, OwnerFilter::Any), 50).await
    );
    assert_eq!(
        pick(&ks, &[1]),
        list(C, active(false, OwnerFilter::Any), 50).await
    );
    assert_eq!(
        sorted(ks.clone()),
        list(C, of_type("", None, OwnerFilter::Any), 50).await,
        "an empty type filters nothing"
    );
    assert!(
        list(C, of_type("sales", None, OwnerFilter::Any), 50)
            .await
            .is_empty()
    );
    let refused = read
        .list_records(
            tenant,
            D,
            &of_type("billing", None, OwnerFilter::Any),
            &PageRequest::first(5),
            None,
        )
        .await;
    assert!(
        matches!(refused, Err(Error::InvalidArgument(_))),
        "{refused:?}"
    );

    // The other tenant sees its own records only, and the first tenant none of them.
    assert_eq!(
        vec![theirs[0]],
        records(engine, read, other, D, &RecordFilter::default(), 50, token).await
    );
    assert_eq!(
        vec![theirs[1]],
        records(
            engine,
            read,
            other,
            C,
            &of_type("billing", None, OwnerFilter::Any),
            50,
            token
        )
        .await
    );
    assert!(
        !list(D, RecordFilter::default(), 50)
            .await
            .contains(&theirs[0])
    );
    assert!(
        !list(C, RecordFilter::default(), 50)
            .await
            .contains(&theirs[1])
    );

    // A page token belongs to its tenant, kind and filter.
    let page = read
        .list_records(
            tenant,
            D,
            &RecordFilter::default(),
            &PageRequest::first(2),
            None,
        )
        .await
        .unwrap();
    let next = PageRequest::after(2, page.next_page_token.unwrap());
    for (whose, kind, filter) in [
        (other, D, RecordFilter::default()),
        (tenant, L, RecordFilter::default()),
        (tenant, D, owner(OwnerFilter::Tenant)),
        (tenant, D, active(true, OwnerFilter::Any)),
    ] {
        let refused = read.list_records(whose, kind, &filter, &next, None).await;
        assert!(
            matches!(refused, Err(Error::InvalidPageToken(_))),
            "{refused:?}"
        );
    }

    // Deleted records leave the list: a department, a contact, a location once its contacts
    // are gone.
    run(engine, tenant, delete_record(deps[1], D)).await;
    run(engine, tenant, delete_record(ks[0], C)).await;
    run(engine, tenant, delete_record(ks[2], C)).await;
    let token = run(engine, tenant, delete_record(l0, L)).await;
    let list = |kind, filter: RecordFilter| async move {
        records(engine, read, tenant, kind, &filter, 3, token).await
    };
    assert_eq!(
        pick(&deps, &[0, 2, 3, 4, 5, 6, 7]),
        list(D, RecordFilter::default()).await
    );
    assert_eq!(
        pick(&ks, &[1, 3, 4, 5]),
        list(C, RecordFilter::default()).await
    );
    assert_eq!(
        sorted(vec![l1, cb_hq]),
        list(L, RecordFilter::default()).await
    );

    // Deleting client A deletes its records: none of them is listed any more.
    let token = run(
        engine,
        tenant,
        TenantScopeCommand::Client(ClientCommand::Delete { id: ca }),
    )
    .await;
    let list = |kind, filter: RecordFilter| async move {
        records(engine, read, tenant, kind, &filter, 3, token).await
    };
    for kind in RecordKind::ALL {
        assert!(
            list(kind, owner(OwnerFilter::Client(ca))).await.is_empty(),
            "{kind:?}"
        );
    }
    assert_eq!(
        pick(&deps, &[0, 2, 3, 4, 7]),
        list(D, RecordFilter::default()).await
    );
    assert_eq!(pick(&ks, &[1, 5]), list(C, RecordFilter::default()).await);
    assert_eq!(vec![cb_hq], list(L, RecordFilter::default()).await);
}

/// One batch folds each record's events: the updates of a record created in an earlier batch
/// merge into one update, a record created and changed in the batch is one insert, one created
/// and deleted in the batch writes nothing, and one deleted after changes is deleted.
async fn records_fold_per_batch(store: Store) {
    let engine = start_engine(&store).await;
    let (tenant, _) = new_tenant(&engine).await;
    let [early, doomed, late, brief] = [(); 4].map(|()| RecordId::new_v7());
    let client = ClientId::new_v7();
    run(&engine, tenant, create_client(client, "Client", "")).await;
    run(
        &engine,
        tenant,
        create_record(early, None, department("Early")),
    )
    .await;
    run(
        &engine,
        tenant,
        create_record(doomed, Some(client), contact("billing", "Doomed Kay", None)),
    )
    .await;
    let service = start_projections(&store).await;
    caught_up(&service.handle()).await;
    service.stop().await;

    // Written while no projection runs: the next start reads them as one batch.
    let mut token = None;
    for command in [
        update_record(early, department("Early 2"), true, &["name"]),
        update_record(early, department("Early 3"), false, &["name", "active"]),
        update_record(
            doomed,
            contact("technical", "Doomed Kay 2", None),
            true,
            &["type", "name"],
        ),
        create_record(late, Some(client), contact("billing", "Late Kay", None)),
        update_record(
            late,
            contact("billing", "Late Kay 2", None),
            false,
            &["name", "active"],
        ),
        update_record(early, department("Early 4"), false, &["name"]),
        create_record(brief, None, department("Brief")),
        update_record(brief, department("Brief 2"), true, &["name"]),
        delete_record(brief, RecordKind::Department),
        delete_record(doomed, RecordKind::Contact),
    ] {
        token = Some(run(&engine, tenant, command).await);
    }
    let token = token.unwrap();
    let service = start_projections(&store).await;
    let read = read_models(&store, &service.handle());
    // `records` compares every row with the engine's state.
    let all = RecordFilter::default();
    for (kind, expected) in [
        (RecordKind::Department, vec![early]),
        (RecordKind::Contact, vec![late]),
    ] {
        let listed = records(&engine, &read, tenant, kind, &all, 50, token).await;
        assert_eq!(listed, expected, "{kind:?}");
    }
    let early_row = &read
        .list_records(
            tenant,
            RecordKind::Department,
            &all,
            &PageRequest::first(5),
            None,
        )
        .await
        .unwrap()
        .items[0];
    assert_eq!((early_row.version, early_row.active), (4, false));
    assert_eq!(early_row.fields, department("Early 4"));
    service.stop().await;
    engine.shutdown().await;
}

/// A request by `subject` (a JWT's).
fn acting_as(subject: &str) -> RequestMeta {
    RequestMeta {
        actor: AuditActor {
            subject: subject.into(),
            credential_kind: "jwt".into(),
            ..AuditActor::default()
        },
        ..RequestMeta::default()
    }
}

async fn audit_trail(engine: &Engine, read: &ReadModels) {
    let (tenant, _) = new_tenant(engine).await;
    let org = OrganizationId::new_v7();
    let alice = acting_as("alice");
    engine
        .execute(tenant, create_org(org, "Audited", None), alice.clone())
        .await
        .unwrap();
    let before_renames = chrono::Utc::now();
    for i in 0..5 {
        engine
            .execute(
                tenant,
                TenantScopeCommand::Organization(OrganizationCommand::Update {
                    id: org,
                    name: Some(format!("Audited {i}")),
                    description: None,
                }),
                if i % 2 == 0 { alice.clone() } else { meta() },
            )
            .await
            .unwrap();
    }
    let stream = StreamId::new(StreamKind::Organization, org.0);
    let entity = |from| AuditFilter {
        selection: AuditSelection::Entity(stream),
        from,
        to: None,
    };
    let mut sequences = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let got = read
            .audit_trail(tenant, &entity(None), &page, None)
            .await
            .unwrap();
        sequences.extend(got.items.iter().map(|e| e.sequence));
        match got.next_page_token {
            Some(t) => page = PageRequest::after(2, t),
            None => break,
        }
    }
    assert_eq!(
        sequences,
        vec![6, 5, 4, 3, 2, 1],
        "newest first, across pages"
    );
    let recent = read
        .audit_trail(
            tenant,
            &entity(Some(before_renames)),
            &PageRequest::first(50),
            None,
        )
        .await
        .unwrap();
    assert_eq!(recent.items.len(), 5);
    let by_alice = read
        .audit_trail(
            tenant,
            &AuditFilter {
                selection: AuditSelection::Actor("alice".into()),
                from: None,
                to: None,
            },
            &PageRequest::first(50),
            None,
        )
        .await
        .unwrap();
    assert_eq!(by_alice.items.len(), 4);
    assert!(
        by_alice
            .items
            .iter()
            .all(|e| e.metadata.actor.subject == "alice")
    );
    let everything = read
        .audit_trail(
            tenant,
            &AuditFilter {
                selection: AuditSelection::Tenant,
                from: None,
                to: None,
            },
            &PageRequest::first(500),
            None,
        )
        .await
        .unwrap();
    assert!(everything.items.len() > 6);
    assert!(everything.items.iter().all(|e| e.tenant_id == tenant));
    assert!(
        everything
            .items
            .windows(2)
            .all(|w| (w[0].recorded_at, w[0].position) > (w[1].recorded_at, w[1].position))
    );
}

/// Every page of a tenant's audit trail (pages of 2), as positions.
async fn trail_positions(
    read: &ReadModels,
    tenant: TenantId,
    selection: AuditSelection,
) -> Vec<i64> {
    let filter = AuditFilter {
        selection,
        from: None,
        to: None,
    };
    let mut positions = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let got = read
            .audit_trail(tenant, &filter, &page, None)
            .await
            .unwrap();
        positions.extend(got.items.iter().map(|e| e.position));
        match got.next_page_token {
            Some(t) => page = PageRequest::after(2, t),
            None => return positions,
        }
    }
}

/// The journal's events, read directly (the tail would hold back what other tests' open
/// transactions on the same server keep below its horizon).
async fn journal_events(store: &Store) -> Vec<engine::journal::RecordedEvent> {
    store.journal.read_all(0, i64::MAX).await.unwrap()
}

/// The journal's events of `tenant` (by `subject` if given), newest first, as positions.
async fn journal_positions(store: &Store, tenant: TenantId, subject: Option<&str>) -> Vec<i64> {
    let mut events: Vec<_> = store
        .journal
        .read_tenant(tenant, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| subject.is_none_or(|s| e.metadata.actor.subject == s))
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse((e.recorded_at, e.position)));
    events.into_iter().map(|e| e.position).collect()
}

async fn audit_entries(store: &ReadStore) -> i64 {
    let sql = "SELECT count(*) AS n FROM audit_entries";
    match store {
        ReadStore::Postgres { pool, .. } => sqlx::query_scalar(sql).fetch_one(pool).await,
        ReadStore::Sqlite { pool, .. } => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap()
}

/// The audit trail lists the events the `audit` read model has not applied yet (the
/// journal's, past its checkpoint) and those it has, each once, in one order across pages:
/// with nothing applied, everything applied, and the two mixed.
async fn audit_trail_past_the_checkpoint(store: Store) {
    let engine = start_engine(&store).await;
    let read = ReadModels::new(store.read.clone());
    let alice = acting_as("alice");
    let (tenant, _) = new_tenant(&engine).await;
    let (other, _) = new_tenant(&engine).await;
    let org = OrganizationId::new_v7();
    let rename = |i: usize| {
        TenantScopeCommand::Organization(OrganizationCommand::Update {
            id: org,
            name: Some(format!("Audited {i}")),
            description: None,
        })
    };
    engine
        .execute(tenant, create_org(org, "Audited", None), alice.clone())
        .await
        .unwrap();
    for i in 0..4 {
        let by = if i % 2 == 0 { alice.clone() } else { meta() };
        engine.execute(tenant, rename(i), by).await.unwrap();
    }
    engine
        .execute(
            other,
            create_org(OrganizationId::new_v7(), "Other", None),
            alice.clone(),
        )
        .await
        .unwrap();
    let tenant_trail = || trail_positions(&read, tenant, AuditSelection::Tenant);
    let alice_trail = || trail_positions(&read, tenant, AuditSelection::Actor("alice".into()));

    // Nothing applied: all from the journal.
    assert_eq!(audit_entries(&store.read).await, 0);
    let expected = journal_positions(&store, tenant, None).await;
    assert!(expected.len() >= 6, "{expected:?}");
    assert_eq!(tenant_trail().await, expected);
    let by_alice = journal_positions(&store, tenant, Some("alice")).await;
    assert_eq!(by_alice.len(), 3);
    assert_eq!(alice_trail().await, by_alice);

    // Everything applied: the same trail, from the read model.
    let service = start_projections(&store).await;
    caught_up(&service.handle()).await;
    service.stop().await;
    let applied = audit_entries(&store.read).await;
    assert_eq!(applied, journal_events(&store).await.len() as i64);
    assert_eq!(tenant_trail().await, expected);
    assert_eq!(alice_trail().await, by_alice);

    // Mixed: more events while the projection stands still.
    for i in 4..9 {
        let by = if i % 2 == 0 { alice.clone() } else { meta() };
        engine.execute(tenant, rename(i), by).await.unwrap();
    }
    assert_eq!(audit_entries(&store.read).await, applied);
    let expected = journal_positions(&store, tenant, None).await;
    assert_eq!(tenant_trail().await, expected);
    let by_alice = journal_positions(&store, tenant, Some("alice")).await;
    assert_eq!(by_alice.len(), 6);
    assert_eq!(alice_trail().await, by_alice);
    assert_eq!(
        trail_positions(&read, other, AuditSelection::Tenant).await,
        journal_positions(&store, other, None).await
    );
    engine.shutdown().await;
}

/// A PostgreSQL store with history, migrated to the `audit` read model: the migration copies
/// the events up to the tenant directory's checkpoint and gives `audit` that checkpoint, so the
/// projection continues from there (every event once) and the trail is whole throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_audit_model_is_seeded_from_a_store_with_history() {
    let db = engine::testing::TestDatabase::create().await;
    let journal = Arc::new(PostgresJournal::connect(db.url(), 4).await.unwrap());
    let mut before_audit = sqlx::migrate!("../migrations/postgres");
    before_audit.migrations = before_audit
        .migrations
        .iter()
        .filter(|m| m.version < 15)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before_audit.run(journal.pool()).await.unwrap();
    let store = Store {
        journal: journal.clone(),
        tail: journal.clone(),
        read: ReadStore::postgres(&journal),
        vault: Arc::new(Vault::new(MasterKeys::ephemeral(), journal.clone())),
    };
    let engine = start_engine(&store).await;
    let (tenant, _) = new_tenant(&engine).await;
    let org = OrganizationId::new_v7();
    let mut tokens = vec![run(&engine, tenant, create_org(org, "Seeded", None)).await];
    for i in 0..4 {
        let rename = TenantScopeCommand::Organization(OrganizationCommand::Update {
            id: org,
            name: Some(format!("Seeded {i}")),
            description: None,
        });
        tokens.push(run(&engine, tenant, rename).await);
    }
    // Where the read models stood when the old version stopped: after the third command.
    let standing = tokens[2];
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, transaction_id, position) \
         VALUES ('tenant_directory', $1, $2)",
    )
    .bind(i64::try_from(standing.transaction_id).unwrap())
    .bind(standing.position)
    .execute(journal.pool())
    .await
    .unwrap();

    journal.migrate().await.unwrap();
    let journal_events = journal_events(&store).await;
    let up_to = |e: &&engine::journal::RecordedEvent| {
        (e.transaction_id, e.position) <= (standing.transaction_id, standing.position)
    };
    let seeded: Vec<i64> =
        sqlx::query_scalar("SELECT global_position FROM audit_entries ORDER BY 1")
            .fetch_all(journal.pool())
            .await
            .unwrap();
    let mut copied: Vec<i64> = journal_events
        .iter()
        .filter(up_to)
        .map(|e| e.position)
        .collect();
    copied.sort_unstable();
    assert!(!copied.is_empty() && copied.len() < journal_events.len());
    assert_eq!(seeded, copied);
    assert_eq!(
        store.read.checkpoint("audit").await.unwrap(),
        Some(standing)
    );
    let read = ReadModels::new(store.read.clone());
    let expected = journal_positions(&store, tenant, None).await;
    assert_eq!(
        trail_positions(&read, tenant, AuditSelection::Tenant).await,
        expected
    );

    let service = start_projections(&store).await;
    caught_up(&service.handle()).await;
    service.stop().await;
    assert_eq!(
        audit_entries(&store.read).await,
        journal_events.len() as i64
    );
    assert_eq!(
        trail_positions(&read, tenant, AuditSelection::Tenant).await,
        expected
    );
    engine.shutdown().await;
}

async fn unreachable_token_is_unavailable(read: &ReadModels) {
    let future = CommitToken {
        transaction_id: u64::from(u32::MAX),
        position: i64::MAX,
    };
    let short = read
        .clone()
        .with_consistency_timeout(Duration::from_millis(200));
    let err = short
        .list_tenants(
            &TenantFilter::default(),
            &PageRequest::first(1),
            Some(future),
        )
        .await
        .unwrap_err();
    match err {
        Error::Unavailable(message) => {
            assert!(message.contains("tenant_directory"), "{message}");
            assert!(message.contains(&future.to_string()), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let err = short
        .list_clients(
            TenantId::new_v7(),
            &ClientFilter::default(),
            &PageRequest::first(1),
            Some(future),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unavailable(m) if m.contains(" clients has not reached")),
        "{err:?}"
    );
    let err = short
        .list_records(
            TenantId::new_v7(),
            RecordKind::Contact,
            &RecordFilter::default(),
            &PageRequest::first(1),
            Some(future),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unavailable(m) if m.contains(" records has not reached")),
        "{err:?}"
    );
}

async fn all(store: Store) {
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    let read = read_models(&store, &service.handle());
    tenants_and_search(&engine, &read).await;
    organization_tree(&engine, &read).await;
    users_teams_roles_and_stable_pages(&engine, &read).await;
    clients_filters_and_tombstones(&engine, &read).await;
    records_filters_and_pages(&engine, &read).await;
    audit_trail(&engine, &read).await;
    unreachable_token_is_unavailable(&read).await;
    unreachable_token_is_unavailable(&ReadModels::new(store.read.clone())).await;
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_queries() {
    let (_db, _journal, store) = postgres().await;
    all(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_queries() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    all(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_audit_trail_past_the_checkpoint() {
    let (_db, _journal, store) = postgres().await;
    audit_trail_past_the_checkpoint(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_audit_trail_past_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    audit_trail_past_the_checkpoint(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_clients_fold_per_batch() {
    let (_db, _journal, store) = postgres().await;
    clients_fold_per_batch(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_clients_fold_per_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    clients_fold_per_batch(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_records_fold_per_batch() {
    let (_db, _journal, store) = postgres().await;
    records_fold_per_batch(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_records_fold_per_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    records_fold_per_batch(store).await;
}
