//! The read models recomputed from the journal through the domain (no projection code), and
//! the read models as the query API returns them, in one comparable shape.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use engine::{
    domain::{
        ClientStatus, OrganizationId, Record, RecordKind, Scope, TeamStatus, TenantId, TenantScope,
        TenantScopeEvent,
    },
    journal::RecordedEvent,
};
use projections::{
    ClientFilter, OrganizationFilter, OrganizationSelection, Page, PageRequest, ReadModels,
    RecordFilter, RoleAssignmentFilter, TeamFilter, TeamMemberFilter, TenantFilter, UserFilter,
};

type Time = DateTime<Utc>;
/// (id, name, slug, status, plan, kind, version, created, updated)
type TenantRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Time,
    Time,
);
/// (id, tenant, parent, name, depth, path, status, version, created, updated)
type OrganizationRow = (
    String,
    String,
    Option<String>,
    String,
    i64,
    String,
    String,
    i64,
    Time,
    Time,
);
/// (id, tenant, organization, name, status, version, created, updated)
type TeamRow = (String, String, String, String, String, i64, Time, Time);
/// (id, tenant, email, display name, status, organizations, client, version, created, updated)
type UserRow = (
    String,
    String,
    String,
    String,
    String,
    Vec<String>,
    Option<String>,
    i64,
    Time,
    Time,
);

/// (id, tenant, name, external id, status, provisioned tenant, version, created, updated)
type ClientRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Time,
    Time,
);

/// (id, tenant, kind, client, active, fields as JSON, version, created, updated)
type RecordRow = (
    String,
    String,
    String,
    Option<String>,
    bool,
    String,
    i64,
    Time,
    Time,
);

fn record_row(r: &Record) -> RecordRow {
    (
        r.id.to_string(),
        r.tenant_id.to_string(),
        r.kind().as_str().to_owned(),
        r.client_id.map(|c| c.to_string()),
        r.active,
        serde_json::to_string(&r.fields).unwrap(),
        r.version,
        r.created_at,
        r.updated_at,
    )
}

/// Every read model, as comparable rows.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Model {
    pub tenants: BTreeSet<TenantRow>,
    pub organizations: BTreeSet<OrganizationRow>,
    pub teams: BTreeSet<TeamRow>,
    /// (tenant, team, user, role)
    pub members: BTreeSet<(String, String, String, String)>,
    pub users: BTreeSet<UserRow>,
    /// (tenant, user, role, scope)
    pub assignments: BTreeSet<(String, String, String, String)>,
    pub clients: BTreeSet<ClientRow>,
    /// Live records; no contact of an erased tenant.
    pub records: BTreeSet<RecordRow>,
}

fn text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v).unwrap() {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn scope_text(scope: Scope) -> String {
    match scope {
        Scope::Tenant => "tenant".into(),
        Scope::Organization(o) => format!("organization/{o}"),
        Scope::Team(t) => format!("team/{t}"),
    }
}

/// Folds the journal per tenant through the domain and renders the expected rows.
pub fn from_journal(events: &[RecordedEvent]) -> Model {
    let mut scopes: BTreeMap<TenantId, TenantScope> = BTreeMap::new();
    for recorded in events {
        let event = TenantScopeEvent::from_stored(
            recorded.stream.kind,
            recorded.schema_version,
            recorded.payload.clone(),
        )
        .unwrap();
        scopes
            .entry(recorded.tenant_id)
            .or_insert_with(|| TenantScope::new(recorded.tenant_id))
            .apply(&event, recorded.recorded_at);
    }
    let mut model = Model::default();
    for scope in scopes.values() {
        let tenant_id = scope.tenant_id().to_string();
        if let Some(t) = scope.tenant() {
            model.tenants.insert((
                t.id.to_string(),
                t.name.clone(),
                t.slug.clone(),
                text(&t.status),
                text(&t.plan),
                text(&t.kind),
                t.version,
                t.created_at,
                t.updated_at,
            ));
        }
        for o in scope.organizations() {
            let mut path = vec![o.id];
            let mut cursor = o.parent_id;
            while let Some(p) = cursor {
                path.push(p);
                cursor = scope.organization(p).and_then(|p| p.parent_id);
            }
            path.reverse();
            let path = path
                .iter()
                .map(OrganizationId::to_string)
                .collect::<Vec<_>>()
                .join("/");
            model.organizations.insert((
                o.id.to_string(),
                tenant_id.clone(),
                o.parent_id.map(|p| p.to_string()),
                o.name.clone(),
                i64::try_from(o.depth).unwrap(),
                path,
                text(&o.status),
                o.version,
                o.created_at,
                o.updated_at,
            ));
        }
        for t in scope.teams() {
            model.teams.insert((
                t.id.to_string(),
                tenant_id.clone(),
                t.organization_id.to_string(),
                t.name.clone(),
                text(&t.status),
                t.version,
                t.created_at,
                t.updated_at,
            ));
            if t.status == TeamStatus::Active {
                for (user, role) in &t.members {
                    model.members.insert((
                        tenant_id.clone(),
                        t.id.to_string(),
                        user.to_string(),
                        text(role),
                    ));
                }
            }
        }
        for u in scope.users() {
            model.users.insert((
                u.id.to_string(),
                tenant_id.clone(),
                u.email.clone(),
                u.display_name.clone(),
                text(&u.status),
                u.organizations.iter().map(ToString::to_string).collect(),
                u.client_id.map(|c| c.to_string()),
                u.version,
                u.created_at,
                u.updated_at,
            ));
            for a in &u.assignments {
                model.assignments.insert((
                    tenant_id.clone(),
                    u.id.to_string(),
                    a.role.clone(),
                    scope_text(a.scope),
                ));
            }
        }
        for c in scope.clients() {
            model.clients.insert((
                c.id.to_string(),
                c.tenant_id.to_string(),
                c.name.clone(),
                c.external_id.clone(),
                text(&c.status),
                c.provisioned_tenant_id.map(|t| t.to_string()),
                c.version,
                c.created_at,
                c.updated_at,
            ));
        }
        let erased = scope.tenant().is_some_and(|t| t.erased_at.is_some());
        let listed = scope
            .records()
            .filter(|r| !r.deleted)
            .filter(|r| !erased || r.kind() != RecordKind::Contact);
        for r in listed {
            model.records.insert(record_row(r));
        }
    }
    model
}

/// Every item of a listing, read page by page.
async fn every_page<T, F, Fut>(page_size: u32, mut list: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = projections::Result<Page<T>>>,
{
    let mut items = Vec::new();
    let mut page = PageRequest::first(page_size);
    loop {
        let got = list(page).await.unwrap();
        items.extend(got.items);
        match got.next_page_token {
            Some(token) => page = PageRequest::after(page_size, token),
            None => return items,
        }
    }
}

/// Reads every read model through the query API, in pages of `page_size`.
pub async fn from_read_models(read: &ReadModels, tenants: &[TenantId], page_size: u32) -> Model {
    let mut model = Model::default();
    let filter = &TenantFilter::default();
    let all = every_page(page_size, |page| async move {
        read.list_tenants(filter, &page, None).await
    });
    for t in all.await {
        model.tenants.insert((
            t.tenant_id.to_string(),
            t.name,
            t.slug,
            text(&t.status),
            text(&t.plan),
            text(&t.kind),
            t.version,
            t.created_at,
            t.updated_at,
        ));
    }
    for &tenant in tenants {
        let tenant_id = tenant.to_string();
        let filter = OrganizationFilter {
            selection: OrganizationSelection::All,
            include_deleted: true,
        };
        let all = every_page(page_size, |page| async move {
            read.list_organizations(tenant, &filter, &page, None).await
        });
        for o in all.await {
            model.organizations.insert((
                o.id.to_string(),
                tenant_id.clone(),
                o.parent_id.map(|p| p.to_string()),
                o.name,
                i64::from(o.depth),
                o.path
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("/"),
                text(&o.status),
                o.version,
                o.created_at,
                o.updated_at,
            ));
        }
        let filter = TeamFilter {
            organization_id: None,
            include_deleted: true,
        };
        let all = every_page(page_size, |page| async move {
            read.list_teams(tenant, &filter, &page, None).await
        });
        for t in all.await {
            model.teams.insert((
                t.id.to_string(),
                tenant_id.clone(),
                t.organization_id.to_string(),
                t.name,
                text(&t.status),
                t.version,
                t.created_at,
                t.updated_at,
            ));
        }
        let filter = TeamMemberFilter::default();
        let all = every_page(page_size, |page| async move {
            read.list_team_members(tenant, &filter, &page, None).await
        });
        for m in all.await {
            model.members.insert((
                tenant_id.clone(),
                m.team_id.to_string(),
                m.user_id.to_string(),
                text(&m.role),
            ));
        }
        let filter = &UserFilter::default();
        let all = every_page(page_size, |page| async move {
            read.list_users(tenant, filter, &page, None).await
        });
        for u in all.await {
            model.users.insert((
                u.id.to_string(),
                tenant_id.clone(),
                u.email,
                u.display_name,
                text(&u.status),
                u.organization_ids.iter().map(ToString::to_string).collect(),
                u.client_id.map(|c| c.to_string()),
                u.version,
                u.created_at,
                u.updated_at,
            ));
        }
        let filter = &RoleAssignmentFilter::default();
        let all = every_page(page_size, |page| async move {
            read.list_role_assignments(tenant, filter, &page, None)
                .await
        });
        for a in all.await {
            model.assignments.insert((
                tenant_id.clone(),
                a.user_id.to_string(),
                a.role,
                scope_text(a.scope),
            ));
        }
        // The live clients, then the tombstones.
        for status in [None, Some(ClientStatus::Deleted)] {
            let filter = &ClientFilter {
                status,
                external_id: None,
            };
            let all = every_page(page_size, |page| async move {
                read.list_clients(tenant, filter, &page, None).await
            });
            for c in all.await {
                let deleted = c.status == ClientStatus::Deleted;
                assert_eq!(deleted, status.is_some(), "{c:?} listed with {filter:?}");
                model.clients.insert((
                    c.id.to_string(),
                    c.tenant_id.to_string(),
                    c.name,
                    c.external_id,
                    text(&c.status),
                    c.provisioned_tenant_id.map(|t| t.to_string()),
                    c.version,
                    c.created_at,
                    c.updated_at,
                ));
            }
        }
        let filter = &RecordFilter::default();
        for kind in RecordKind::ALL {
            let all = every_page(page_size, |page| async move {
                read.list_records(tenant, kind, filter, &page, None).await
            });
            for r in all.await {
                assert_eq!(r.kind(), kind, "{r:?}");
                assert!(!r.deleted, "{r:?}");
                model.records.insert(record_row(&r));
            }
        }
    }
    model
}

/// Asserts two models are equal, table by table, with a readable difference.
pub fn assert_same(actual: &Model, expected: &Model) {
    fn diff<T: Ord + std::fmt::Debug>(name: &str, a: &BTreeSet<T>, e: &BTreeSet<T>) {
        let missing: Vec<_> = e.difference(a).take(5).collect();
        let extra: Vec<_> = a.difference(e).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: {} rows, expected {}; missing {missing:#?}; unexpected {extra:#?}",
            a.len(),
            e.len()
        );
    }
    diff("tenants", &actual.tenants, &expected.tenants);
    diff(
        "organizations",
        &actual.organizations,
        &expected.organizations,
    );
    diff("teams", &actual.teams, &expected.teams);
    diff("team members", &actual.members, &expected.members);
    diff("users", &actual.users, &expected.users);
    diff(
        "role assignments",
        &actual.assignments,
        &expected.assignments,
    );
    diff("clients", &actual.clients, &expected.clients);
    diff("records", &actual.records, &expected.records);
}
