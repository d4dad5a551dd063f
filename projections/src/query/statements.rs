//! The read-model queries, written once for both stores (`sql/*.sql`, PostgreSQL's dialect;
//! SQLite's derived by [`crate::sql::Text`]).

use std::sync::LazyLock;

use engine::{
    domain::{
        Client, ClientId, OrganizationId, Record, RecordFields, RecordId, TeamId, TenantId, UserId,
    },
    journal::RecordedEvent,
};
use uuid::Uuid;

use crate::{
    Error, Result,
    models::parse_enum,
    query::{
        OrganizationEntry, RoleAssignmentEntry, TeamEntry, TeamMemberEntry, TenantEntry, UserEntry,
        decode::{self, EventColumns},
        params::{
            AssignmentParams, AuditParams, AuditScope, ClientParams, OrganizationParams,
            RecordParams, TeamMemberParams, TeamParams, TenantParams, UserParams,
        },
    },
    sql::{Arg, Row, Statement, Text},
    store::{ReadStore, stored_transaction},
};

static TENANTS: Text = Text::new(include_str!("sql/tenants.sql"));
static ORGANIZATION: Text = Text::new(include_str!("sql/organization.sql"));
static ORGANIZATIONS: Text = Text::new(include_str!("sql/organizations.sql"));
static ORGANIZATION_ANCESTORS: Text = Text::new(include_str!("sql/organization_ancestors.sql"));
static TEAMS: Text = Text::new(include_str!("sql/teams.sql"));
static TEAM_MEMBERS: Text = Text::new(include_str!("sql/team_members.sql"));
static USERS: Text = Text::new(include_str!("sql/users.sql"));
static ROLE_ASSIGNMENTS: Text = Text::new(include_str!("sql/role_assignments.sql"));
static CLIENTS: Text = Text::new(include_str!("sql/clients.sql"));
static RECORDS: Text = Text::new(include_str!("sql/records.sql"));
static AUDIT_TENANT: LazyLock<Text> =
    LazyLock::new(|| audit_text(include_str!("sql/audit_trail.sql"), "$2::text IS NULL"));
static AUDIT_ACTOR: LazyLock<Text> =
    LazyLock::new(|| audit_text(include_str!("sql/audit_trail.sql"), "actor_subject = $2"));
static AUDIT_STREAM: LazyLock<Text> =
    LazyLock::new(|| audit_text(include_str!("sql/audit_stream.sql"), "stream_id = $2"));
/// Its `IN ({ids})` lists the users (`Statement::among`).
const USER_ORGANIZATIONS: &str = include_str!("sql/user_organizations.sql");

/// An audit query: `template` with `sql/audit_matching.sql` (which picks the rows by `which`)
/// where it says `{matching}`. Built once per process (three texts, kept for its life).
fn audit_text(template: &str, which: &str) -> Text {
    let matching = include_str!("sql/audit_matching.sql").replace("{which}", which);
    Text::new(String::leak(template.replace("{matching}", &matching)))
}

fn tenant(row: &Row) -> Result<TenantEntry> {
    Ok(TenantEntry {
        tenant_id: TenantId(row.uuid("tenant_id")?),
        name: row.text("name")?,
        slug: row.text("slug")?,
        status: parse_enum(&row.text("status")?, "tenant_directory.status")?,
        plan: parse_enum(&row.text("plan")?, "tenant_directory.plan")?,
        kind: parse_enum(&row.text("kind")?, "tenant_directory.kind")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        version: row.int("version")?,
    })
}

fn organization(row: &Row) -> Result<OrganizationEntry> {
    Ok(OrganizationEntry {
        tenant_id: TenantId(row.uuid("tenant_id")?),
        id: OrganizationId(row.uuid("id")?),
        parent_id: row.opt_uuid("parent_id")?.map(OrganizationId),
        name: row.text("name")?,
        depth: row.int32("depth")?,
        path: decode::organization_path(&row.text("path")?)?,
        status: parse_enum(&row.text("status")?, "organizations.status")?,
        version: row.int("version")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn team(row: &Row) -> Result<TeamEntry> {
    Ok(TeamEntry {
        tenant_id: TenantId(row.uuid("tenant_id")?),
        id: TeamId(row.uuid("id")?),
        organization_id: OrganizationId(row.uuid("organization_id")?),
        name: row.text("name")?,
        status: parse_enum(&row.text("status")?, "teams.status")?,
        version: row.int("version")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn team_member(row: &Row) -> Result<TeamMemberEntry> {
    Ok(TeamMemberEntry {
        tenant_id: TenantId(row.uuid("tenant_id")?),
        team_id: TeamId(row.uuid("team_id")?),
        user_id: UserId(row.uuid("user_id")?),
        role: parse_enum(&row.text("role")?, "team_members.role")?,
    })
}

/// A user and the key of its row in the listing order.
fn user(row: &Row) -> Result<(UserEntry, String)> {
    let user = UserEntry {
        tenant_id: TenantId(row.uuid("tenant_id")?),
        id: UserId(row.uuid("id")?),
        email: row.text("email")?,
        display_name: row.text("display_name")?,
        status: parse_enum(&row.text("status")?, "users.status")?,
        organization_ids: Vec::new(),
        client_id: row.opt_uuid("client_id")?.map(ClientId),
        version: row.int("version")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    };
    Ok((user, row.text("email_lower")?))
}

fn role_assignment(row: &Row) -> Result<RoleAssignmentEntry> {
    Ok(RoleAssignmentEntry {
        tenant_id: TenantId(row.uuid("tenant_id")?),
        user_id: UserId(row.uuid("user_id")?),
        role: row.text("role")?,
        scope: decode::scope(&row.text("scope_kind")?, row.uuid("scope_id")?)?,
        assigned_at: row.time("assigned_at")?,
    })
}

/// A client as the read model has it: every field but the business profile (`None`).
fn client(row: &Row) -> Result<Client> {
    Ok(Client {
        tenant_id: TenantId(row.uuid("tenant_id")?),
        id: ClientId(row.uuid("id")?),
        name: row.text("name")?,
        external_id: row.text("external_id")?,
        status: parse_enum(&row.text("status")?, "clients.status")?,
        provisioned_tenant_id: row.opt_uuid("provisioned_tenant_id")?.map(TenantId),
        business_profile: None,
        version: row.int("version")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// A record of kind `kind` (the listing's): its fields decoded from their JSON.
fn record(row: &Row, kind: &str) -> Result<Record> {
    let id = RecordId(row.uuid("id")?);
    let fields: RecordFields = serde_json::from_str(&row.text("fields")?)
        .map_err(|e| Error::Corrupt(format!("records.fields of {id} is invalid: {e}")))?;
    if fields.kind().as_str() != kind {
        return Err(Error::Corrupt(format!(
            "records.fields of {id} are a {}'s, its row a {kind}'s",
            fields.kind().as_str()
        )));
    }
    Ok(Record {
        tenant_id: TenantId(row.uuid("tenant_id")?),
        id,
        client_id: row.opt_uuid("client_id")?.map(ClientId),
        fields,
        active: row.int32("active")? != 0,
        deleted: false,
        version: row.int("version")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn event(row: &Row) -> Result<RecordedEvent> {
    decode::event(EventColumns {
        position: row.int("global_position")?,
        transaction_id: row.int("transaction_id")?,
        tenant_id: row.uuid("tenant_id")?,
        stream_type: row.text("stream_type")?,
        stream_id: row.uuid("stream_id")?,
        sequence: row.int("sequence")?,
        event_type: row.text("event_type")?,
        schema_version: row.int32("schema_version")?,
        payload: row.json("payload")?,
        metadata: row.json("metadata")?,
        recorded_at: row.time("recorded_at")?,
    })
}

/// Runs `text` with `args` and decodes every row with `decode`.
async fn fetch<T>(
    store: &ReadStore,
    text: &'static Text,
    args: Vec<Arg>,
    decode: impl Fn(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = store.fetch(&Statement::query(text, args)).await?;
    rows.iter().map(decode).collect()
}

pub(crate) async fn list_tenants(store: &ReadStore, p: &TenantParams) -> Result<Vec<TenantEntry>> {
    let args = vec![
        p.status.clone().into(),
        p.plan.clone().into(),
        p.pattern.clone().into(),
        p.after_slug.clone().into(),
        p.limit.into(),
    ];
    fetch(store, &TENANTS, args, tenant).await
}

pub(crate) async fn get_organization(
    store: &ReadStore,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<OrganizationEntry>> {
    let args = vec![tenant_id.into(), id.into()];
    let mut found = fetch(store, &ORGANIZATION, args, organization).await?;
    Ok(found.pop())
}

pub(crate) async fn list_organizations(
    store: &ReadStore,
    p: &OrganizationParams,
) -> Result<Vec<OrganizationEntry>> {
    let (mode, parent, path) = p.scope.parts();
    let args = vec![
        p.tenant_id.into(),
        mode.into(),
        parent.into(),
        path.map(str::to_owned).into(),
        p.include_deleted.into(),
        p.after_id.into(),
        p.limit.into(),
    ];
    fetch(store, &ORGANIZATIONS, args, organization).await
}

pub(crate) async fn organization_ancestors(
    store: &ReadStore,
    tenant_id: Uuid,
    path: &str,
) -> Result<Vec<OrganizationEntry>> {
    let args = vec![tenant_id.into(), path.into()];
    fetch(store, &ORGANIZATION_ANCESTORS, args, organization).await
}

pub(crate) async fn list_teams(store: &ReadStore, p: &TeamParams) -> Result<Vec<TeamEntry>> {
    let args = vec![
        p.tenant_id.into(),
        p.organization_id.into(),
        p.include_deleted.into(),
        p.after_id.into(),
        p.limit.into(),
    ];
    fetch(store, &TEAMS, args, team).await
}

pub(crate) async fn list_team_members(
    store: &ReadStore,
    p: &TeamMemberParams,
) -> Result<Vec<TeamMemberEntry>> {
    let args = vec![
        p.tenant_id.into(),
        p.team_id.into(),
        p.user_id.into(),
        p.after.map(|a| a.0).into(),
        p.after.map(|a| a.1).into(),
        p.limit.into(),
    ];
    fetch(store, &TEAM_MEMBERS, args, team_member).await
}

pub(crate) async fn list_users(
    store: &ReadStore,
    p: &UserParams,
) -> Result<Vec<(UserEntry, String)>> {
    let args = vec![
        p.tenant_id.into(),
        p.pattern.clone().into(),
        p.status.clone().into(),
        p.organization_id.into(),
        p.role.clone().into(),
        p.after.as_ref().map(|a| a.0.clone()).into(),
        p.after.as_ref().map(|a| a.1).into(),
        p.limit.into(),
    ];
    fetch(store, &USERS, args, user).await
}

/// `(user, organization)` for every organization of `users` (a page of a listing).
pub(crate) async fn user_organizations(
    store: &ReadStore,
    users: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let rows = store
        .fetch(&Statement::among(USER_ORGANIZATIONS, users))
        .await?;
    rows.iter()
        .map(|row| Ok((row.uuid("user_id")?, row.uuid("organization_id")?)))
        .collect()
}

pub(crate) async fn list_role_assignments(
    store: &ReadStore,
    p: &AssignmentParams,
) -> Result<Vec<RoleAssignmentEntry>> {
    let after = p.after.as_ref();
    let args = vec![
        p.tenant_id.into(),
        p.user_id.into(),
        p.role.clone().into(),
        p.scope.map(|s| s.0.to_owned()).into(),
        p.scope.map(|s| s.1).into(),
        after.map(|a| a.0).into(),
        after.map(|a| a.1.clone()).into(),
        after.map(|a| a.2.clone()).into(),
        after.map(|a| a.3).into(),
        p.limit.into(),
    ];
    fetch(store, &ROLE_ASSIGNMENTS, args, role_assignment).await
}

pub(crate) async fn list_clients(store: &ReadStore, p: &ClientParams) -> Result<Vec<Client>> {
    let args = vec![
        p.tenant_id.into(),
        p.status.clone().into(),
        p.external_id.clone().into(),
        p.after_id.into(),
        p.limit.into(),
    ];
    fetch(store, &CLIENTS, args, client).await
}

pub(crate) async fn list_records(store: &ReadStore, p: &RecordParams) -> Result<Vec<Record>> {
    let args = vec![
        p.tenant_id.into(),
        p.kind.into(),
        p.owner.into(),
        p.client_id.into(),
        p.active.is_some().into(),
        p.active.unwrap_or_default().into(),
        p.contact_type.clone().into(),
        p.after_id.into(),
        p.limit.into(),
    ];
    fetch(store, &RECORDS, args, |row| record(row, p.kind)).await
}

pub(crate) async fn audit_trail(store: &ReadStore, p: &AuditParams) -> Result<Vec<RecordedEvent>> {
    let (text, mut args): (&'static Text, Vec<Arg>) = match &p.scope {
        AuditScope::Tenant => (
            &AUDIT_TENANT,
            vec![p.tenant_id.into(), None::<String>.into()],
        ),
        AuditScope::Stream(stream_id) => {
            (&AUDIT_STREAM, vec![p.tenant_id.into(), (*stream_id).into()])
        }
        AuditScope::Actor(subject) => (
            &AUDIT_ACTOR,
            vec![p.tenant_id.into(), subject.clone().into()],
        ),
    };
    args.extend([
        p.from.into(),
        p.to.into(),
        p.after.map(|a| a.0).into(),
        p.after.map(|a| a.1).into(),
        p.limit.into(),
    ]);
    if !matches!(p.scope, AuditScope::Stream(_)) {
        let transaction_id = stored_transaction(p.applied_up_to)?;
        args.extend([transaction_id.into(), p.applied_up_to.position.into()]);
    }
    fetch(store, text, args, event).await
}
