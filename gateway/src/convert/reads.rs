//! The List/search and audit requests answered from the read models: request → query
//! ([`ListQuery`]: filter, page, consistency token) and read-model row → proto message.
//!
//! Page sizes and page tokens are the read models' own ([`projections::PageRequest`]): keyset
//! tokens bound to their query, checked when the query runs (a foreign or damaged token is
//! INVALID_ARGUMENT on `page_token`).

use engine::{
    domain::{OrganizationId, StreamId, StreamKind, TeamId, TenantId, UserId},
    journal::{CommitToken, RecordedEvent},
};
use entity_proto::v1 as pb;
use projections::{
    AuditFilter, AuditSelection, ClientFilter, MatchMode, OrganizationEntry, OrganizationFilter,
    OrganizationSelection, PageRequest, RoleAssignmentEntry, RoleAssignmentFilter, TeamEntry,
    TeamFilter, TeamMemberEntry, TeamMemberFilter, TenantEntry, TenantFilter, UserEntry,
    UserFilter,
};
use tonic::Status;

use super::{Violations, access, client, organization, team, tenant, timestamp, user};

/// A decoded list request: what to select, which page, and the write it must reflect.
#[derive(Clone, Debug)]
pub struct ListQuery<F> {
    /// The filter.
    pub filter: F,
    /// Which page.
    pub page: PageRequest,
    /// Reflect at least this write.
    pub consistency: Option<CommitToken>,
}

/// A list request of one tenant.
pub type TenantListQuery<F> = (TenantId, ListQuery<F>);

impl Violations {
    /// A page request: size 0 = default, clamped to the maximum by the query; negative is
    /// refused. A malformed token is refused here; whether it belongs to the query is checked
    /// when the query runs.
    pub(super) fn read_page(&mut self, page_size: i32, page_token: &str) -> PageRequest {
        let page_size = u32::try_from(page_size).unwrap_or_else(|_| {
            self.add("page_size", "must not be negative");
            0
        });
        let page = PageRequest {
            page_size,
            page_token: (!page_token.is_empty()).then(|| page_token.to_owned()),
        };
        if page.check_token().is_err() {
            self.add("page_token", "not a page token of this query");
        }
        page
    }

    /// Finishes a tenant's list request.
    pub(super) fn tenant_list<F>(
        self,
        tenant_id: Option<TenantId>,
        filter: Option<F>,
        page: PageRequest,
        consistency: Option<CommitToken>,
    ) -> Result<TenantListQuery<F>, Status> {
        self.finish()?;
        let (Some(tenant_id), Some(filter)) = (tenant_id, filter) else {
            return Err(Status::internal("validation incomplete"));
        };
        Ok((
            tenant_id,
            ListQuery {
                filter,
                page,
                consistency,
            },
        ))
    }
}

/// ListTenants.
pub fn list_tenants(req: &pb::ListTenantsRequest) -> Result<ListQuery<TenantFilter>, Status> {
    let mut v = Violations::default();
    let status = match pb::TenantStatus::try_from(req.status) {
        Ok(s) => tenant::status_from_proto(s),
        Err(_) => {
            v.add("status", "unknown tenant status");
            None
        }
    };
    let plan = match pb::Plan::try_from(req.plan) {
        Ok(p) => tenant::plan_filter_from_proto(p),
        Err(_) => {
            v.add("plan", "unknown plan");
            None
        }
    };
    let consistency = v.consistency_token(&req.consistency_token);
    let page = v.read_page(req.page_size, &req.page_token);
    v.finish()?;
    Ok(ListQuery {
        filter: TenantFilter {
            status,
            plan,
            text: (!req.query.is_empty()).then(|| req.query.clone()),
            mode: if req.query_prefix {
                MatchMode::Prefix
            } else {
                MatchMode::Substring
            },
        },
        page,
        consistency,
    })
}

/// ListOrganizations; also returns the organization the selection is anchored on (for
/// authorization).
pub fn list_organizations(
    req: &pb::ListOrganizationsRequest,
) -> Result<(TenantListQuery<OrganizationFilter>, Option<OrganizationId>), Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let parent = v.optional_id::<OrganizationId>("parent_id", &req.parent_id);
    let below = v.optional_id::<OrganizationId>("descendants_of", &req.descendants_of);
    let chosen = [
        !req.parent_id.is_empty(),
        !req.descendants_of.is_empty(),
        req.roots_only,
    ];
    if chosen.iter().filter(|c| **c).count() > 1 {
        v.add(
            "parent_id",
            "at most one of parent_id, descendants_of and roots_only",
        );
    }
    let (selection, anchor) = match (parent.flatten(), below.flatten()) {
        (Some(p), _) => (OrganizationSelection::ChildrenOf(p), Some(p)),
        (None, Some(b)) => (OrganizationSelection::DescendantsOf(b), Some(b)),
        (None, None) if req.roots_only => (OrganizationSelection::Roots, None),
        (None, None) => (OrganizationSelection::All, None),
    };
    let filter = (parent.is_some() && below.is_some()).then_some(OrganizationFilter {
        selection,
        include_deleted: req.include_deleted,
    });
    let consistency = v.consistency_token(&req.consistency_token);
    let page = v.read_page(req.page_size, &req.page_token);
    Ok((v.tenant_list(tenant_id, filter, page, consistency)?, anchor))
}

/// GetOrganizationPath.
pub fn organization_path(
    req: &pb::GetOrganizationPathRequest,
) -> Result<(TenantId, OrganizationId, Option<CommitToken>), Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("organization_id", &req.organization_id);
    let consistency = v.consistency_token(&req.consistency_token);
    v.finish()?;
    let (Some(tenant_id), Some(id)) = (tenant_id, id) else {
        return Err(Status::internal("validation incomplete"));
    };
    Ok((tenant_id, id, consistency))
}

/// ListTeams.
pub fn list_teams(req: &pb::ListTeamsRequest) -> Result<TenantListQuery<TeamFilter>, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let organization = v.optional_id("organization_id", &req.organization_id);
    let filter = organization.map(|organization_id| TeamFilter {
        organization_id,
        include_deleted: req.include_deleted,
    });
    let consistency = v.consistency_token(&req.consistency_token);
    let page = v.read_page(req.page_size, &req.page_token);
    v.tenant_list(tenant_id, filter, page, consistency)
}

/// ListClients.
pub fn list_clients(req: &pb::ListClientsRequest) -> Result<TenantListQuery<ClientFilter>, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let status = match pb::ClientStatus::try_from(req.status) {
        Ok(status) => Some(client::status_from_proto(status)),
        Err(_) => {
            v.add("status", "unknown client status");
            None
        }
    };
    let filter = status.map(|status| ClientFilter {
        status,
        external_id: (!req.external_id.is_empty()).then(|| req.external_id.clone()),
    });
    let consistency = v.consistency_token(&req.consistency_token);
    let page = v.read_page(req.page_size, &req.page_token);
    v.tenant_list(tenant_id, filter, page, consistency)
}

/// ListTeamMembers: exactly one of a team and a user.
pub fn list_team_members(
    req: &pb::ListTeamMembersRequest,
) -> Result<TenantListQuery<TeamMemberFilter>, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let team_id = v.optional_id::<TeamId>("team_id", &req.team_id);
    let user_id = v.optional_id::<UserId>("user_id", &req.user_id);
    if req.team_id.is_empty() == req.user_id.is_empty() {
        v.add("team_id", "exactly one of team_id and user_id is required");
    }
    let filter = team_id
        .zip(user_id)
        .map(|(team_id, user_id)| TeamMemberFilter { team_id, user_id });
    let consistency = v.consistency_token(&req.consistency_token);
    let page = v.read_page(req.page_size, &req.page_token);
    v.tenant_list(tenant_id, filter, page, consistency)
}

/// ListUsers.
pub fn list_users(req: &pb::ListUsersRequest) -> Result<TenantListQuery<UserFilter>, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let organization = v.optional_id("organization_id", &req.organization_id);
    let status = match pb::UserStatus::try_from(req.status) {
        Ok(pb::UserStatus::Unspecified) => Some(None),
        Ok(s) => Some(Some(user::status_from_proto(s))),
        Err(_) => {
            v.add("status", "unknown user status");
            None
        }
    };
    let filter = organization
        .zip(status)
        .map(|(organization_id, status)| UserFilter {
            text: (!req.query.is_empty()).then(|| req.query.clone()),
            status,
            organization_id,
            role: (!req.role.is_empty()).then(|| req.role.clone()),
        });
    let consistency = v.consistency_token(&req.consistency_token);
    let page = v.read_page(req.page_size, &req.page_token);
    v.tenant_list(tenant_id, filter, page, consistency)
}

/// ListRoleAssignments.
pub fn list_role_assignments(
    req: &pb::ListRoleAssignmentsRequest,
) -> Result<TenantListQuery<RoleAssignmentFilter>, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let user_id = v.optional_id("user_id", &req.user_id);
    let scope = v.scope("scope", req.scope.clone());
    let filter = user_id
        .zip(scope)
        .map(|(user_id, scope)| RoleAssignmentFilter {
            user_id,
            role: (!req.role.is_empty()).then(|| req.role.clone()),
            scope,
        });
    let consistency = v.consistency_token(&req.consistency_token);
    let page = v.read_page(req.page_size, &req.page_token);
    v.tenant_list(tenant_id, filter, page, consistency)
}

/// ListAuditEvents.
pub fn list_audit_events(
    req: &pb::ListAuditEventsRequest,
) -> Result<TenantListQuery<AuditFilter>, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let entity = match &req.entity {
        None => Some(None),
        Some(entity) => {
            let kind = match pb::EntityKind::try_from(entity.kind) {
                Ok(kind) => stream_kind(kind),
                Err(_) => None,
            };
            if kind.is_none() {
                v.add(
                    "entity.kind",
                    "required: tenant, organization, team, user or role",
                );
            }
            let id = v.id::<uuid::Uuid>("entity.id", &entity.id);
            kind.zip(id).map(|(kind, id)| Some(StreamId { kind, id }))
        }
    };
    if req.entity.is_some() && !req.actor.is_empty() {
        v.add("actor", "at most one of entity and actor");
    }
    let from = req.start_time.map(|t| v.timestamp("start_time", t));
    let to = req.end_time.map(|t| v.timestamp("end_time", t));
    let consistency = v.consistency_token(&req.consistency_token);
    let page = v.read_page(req.page_size, &req.page_token);
    let filter = entity.map(|entity| AuditFilter {
        selection: match entity {
            Some(stream) => AuditSelection::Entity(stream),
            None if !req.actor.is_empty() => AuditSelection::Actor(req.actor.clone()),
            None => AuditSelection::Tenant,
        },
        from: from.flatten(),
        to: to.flatten(),
    });
    v.tenant_list(tenant_id, filter, page, consistency)
}

fn stream_kind(kind: pb::EntityKind) -> Option<StreamKind> {
    match kind {
        pb::EntityKind::Unspecified => None,
        pb::EntityKind::Tenant => Some(StreamKind::Tenant),
        pb::EntityKind::Organization => Some(StreamKind::Organization),
        pb::EntityKind::Team => Some(StreamKind::Team),
        pb::EntityKind::User => Some(StreamKind::User),
        pb::EntityKind::Role => Some(StreamKind::Role),
        pb::EntityKind::Client => Some(StreamKind::Client),
        pb::EntityKind::Department => Some(StreamKind::Department),
        pb::EntityKind::Location => Some(StreamKind::Location),
        pb::EntityKind::Contact => Some(StreamKind::Contact),
        pb::EntityKind::Partition => Some(StreamKind::Partition),
        pb::EntityKind::PartitionGroup => Some(StreamKind::PartitionGroup),
        pb::EntityKind::ApiKey => Some(StreamKind::ApiKey),
    }
}

fn entity_kind(kind: StreamKind) -> pb::EntityKind {
    match kind {
        StreamKind::Tenant => pb::EntityKind::Tenant,
        StreamKind::Organization => pb::EntityKind::Organization,
        StreamKind::Team => pb::EntityKind::Team,
        StreamKind::User | StreamKind::Claims => pb::EntityKind::User,
        StreamKind::Role => pb::EntityKind::Role,
        StreamKind::Client => pb::EntityKind::Client,
        StreamKind::Department => pb::EntityKind::Department,
        StreamKind::Location => pb::EntityKind::Location,
        StreamKind::Contact => pb::EntityKind::Contact,
        StreamKind::Partition => pb::EntityKind::Partition,
        StreamKind::PartitionGroup => pb::EntityKind::PartitionGroup,
        StreamKind::ApiKey => pb::EntityKind::ApiKey,
    }
}

/// A directory row as a `Tenant` (directory view: details unset).
pub fn tenant_to_proto(t: &TenantEntry) -> pb::Tenant {
    pb::Tenant {
        id: t.tenant_id.to_string(),
        name: t.name.clone(),
        slug: t.slug.clone(),
        kind: tenant::kind_to_proto(t.kind) as i32,
        plan: tenant::plan_to_proto(t.plan) as i32,
        status: tenant::status_to_proto(t.status) as i32,
        version: t.version,
        create_time: Some(timestamp(t.created_at)),
        update_time: Some(timestamp(t.updated_at)),
        ..pb::Tenant::default()
    }
}

/// A tree row as an `Organization` (list view: no description).
pub fn organization_to_proto(o: &OrganizationEntry) -> pb::Organization {
    pb::Organization {
        tenant_id: o.tenant_id.to_string(),
        id: o.id.to_string(),
        name: o.name.clone(),
        description: String::new(),
        parent_id: o.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        depth: o.depth,
        status: organization::status_to_proto(o.status) as i32,
        version: o.version,
        create_time: Some(timestamp(o.created_at)),
        update_time: Some(timestamp(o.updated_at)),
    }
}

/// A team row as a `Team` (list view: no description, no members).
pub fn team_to_proto(t: &TeamEntry) -> pb::Team {
    pb::Team {
        tenant_id: t.tenant_id.to_string(),
        id: t.id.to_string(),
        organization_id: t.organization_id.to_string(),
        name: t.name.clone(),
        status: team::status_to_proto(t.status) as i32,
        version: t.version,
        create_time: Some(timestamp(t.created_at)),
        update_time: Some(timestamp(t.updated_at)),
        ..pb::Team::default()
    }
}

/// A membership row.
pub fn membership_to_proto(m: &TeamMemberEntry) -> pb::TeamMembership {
    pb::TeamMembership {
        team_id: m.team_id.to_string(),
        user_id: m.user_id.to_string(),
        role: team::role_to_proto(m.role) as i32,
    }
}

/// A directory row as a `User` (directory view: no invitation, no roles).
pub fn user_to_proto(u: &UserEntry) -> pb::User {
    pb::User {
        tenant_id: u.tenant_id.to_string(),
        id: u.id.to_string(),
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        status: user::status_to_proto(u.status) as i32,
        organization_ids: u.organization_ids.iter().map(ToString::to_string).collect(),
        client_id: u.client_id.map(|c| c.to_string()).unwrap_or_default(),
        version: u.version,
        create_time: Some(timestamp(u.created_at)),
        update_time: Some(timestamp(u.updated_at)),
        ..pb::User::default()
    }
}

/// An assignment row.
pub fn assignment_to_proto(a: &RoleAssignmentEntry) -> pb::UserRoleAssignment {
    pb::UserRoleAssignment {
        user_id: a.user_id.to_string(),
        assignment: Some(pb::RoleAssignment {
            role: a.role.clone(),
            scope: Some(access::scope_to_proto(a.scope)),
        }),
        assign_time: Some(timestamp(a.assigned_at)),
    }
}

/// A journal event as an audit record.
pub fn audit_event_to_proto(e: &RecordedEvent) -> pb::AuditEvent {
    let actor = &e.metadata.actor;
    pb::AuditEvent {
        id: format!("{}:{}", e.stream.id, e.sequence),
        tenant_id: e.tenant_id.to_string(),
        entity: Some(pb::EntityRef {
            kind: entity_kind(e.stream.kind) as i32,
            // A claims stream is the user's: name the user.
            id: match e.stream.kind {
                StreamKind::Claims => engine::domain::claims_stream_user(e.stream.id).to_string(),
                _ => e.stream.id.to_string(),
            },
        }),
        version: e.sequence,
        event_type: e.event_type.clone(),
        time: Some(timestamp(e.recorded_at)),
        actor: Some(pb::AuditActor {
            subject: actor.subject.clone(),
            on_behalf_of: actor.on_behalf_of.clone().unwrap_or_default(),
            credential_kind: actor.credential_kind.clone(),
            credential_id: actor.credential_id.clone().unwrap_or_default(),
        }),
        request_id: e.metadata.request_id.clone().unwrap_or_default(),
        trace_id: e.metadata.trace_id.clone().unwrap_or_default(),
        payload: match json_to_proto(&e.payload).kind {
            Some(prost_types::value::Kind::StructValue(s)) => Some(s),
            _ => None,
        },
    }
}

/// A JSON value as a `google.protobuf.Value` (numbers become doubles, as in the JSON mapping).
fn json_to_proto(value: &serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(json_to_proto).collect(),
        }),
        serde_json::Value::Object(fields) => Kind::StructValue(prost_types::Struct {
            fields: fields
                .iter()
                .map(|(k, v)| (k.clone(), json_to_proto(v)))
                .collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    fn fields(s: &Status) -> Vec<String> {
        s.get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn organization_selections_are_exclusive() {
        let tenant = TenantId::new_v7().to_string();
        let org = OrganizationId::new_v7().to_string();
        let req = |parent: &str, below: &str, roots: bool| pb::ListOrganizationsRequest {
            tenant_id: tenant.clone(),
            parent_id: parent.into(),
            descendants_of: below.into(),
            roots_only: roots,
            ..Default::default()
        };
        let ((_, q), anchor) = list_organizations(&req("", &org, false)).unwrap();
        assert!(matches!(
            q.filter.selection,
            OrganizationSelection::DescendantsOf(_)
        ));
        assert_eq!(anchor.map(|a| a.to_string()), Some(org.clone()));
        let ((_, q), _) = list_organizations(&req("", "", true)).unwrap();
        assert_eq!(q.filter.selection, OrganizationSelection::Roots);
        let both = list_organizations(&req(&org, "", true)).unwrap_err();
        assert_eq!(fields(&both), ["parent_id"]);
        let bad = list_organizations(&req("x", "y", false)).unwrap_err();
        assert_eq!(fields(&bad), ["parent_id", "descendants_of", "parent_id"]);
    }

    #[test]
    fn pages_and_tokens_are_checked() {
        let req = pb::ListTenantsRequest {
            page_size: -1,
            page_token: "00ff".into(),
            status: 42,
            consistency_token: "nope".into(),
            ..Default::default()
        };
        assert_eq!(
            fields(&list_tenants(&req).unwrap_err()),
            ["status", "consistency_token", "page_size", "page_token"]
        );
        let ok = list_tenants(&pb::ListTenantsRequest {
            page_size: 7,
            page_token: String::new(),
            query: "ac".into(),
            query_prefix: true,
            consistency_token: "ct1.5.7".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.page.page_size, 7);
        assert_eq!(ok.page.page_token, None);
        assert_eq!(ok.filter.mode, MatchMode::Prefix);
        assert!(ok.consistency.is_some());
    }

    #[test]
    fn team_members_need_exactly_one_anchor() {
        let tenant = TenantId::new_v7().to_string();
        let none = pb::ListTeamMembersRequest {
            tenant_id: tenant.clone(),
            ..Default::default()
        };
        assert_eq!(fields(&list_team_members(&none).unwrap_err()), ["team_id"]);
        let one = pb::ListTeamMembersRequest {
            team_id: TeamId::new_v7().to_string(),
            ..none
        };
        assert!(list_team_members(&one).unwrap().1.filter.team_id.is_some());
    }

    #[test]
    fn audit_requests_name_one_selection() {
        let tenant = TenantId::new_v7().to_string();
        let both = pb::ListAuditEventsRequest {
            tenant_id: tenant.clone(),
            entity: Some(pb::EntityRef {
                kind: pb::EntityKind::User as i32,
                id: UserId::new_v7().to_string(),
            }),
            actor: "someone".into(),
            ..Default::default()
        };
        assert_eq!(fields(&list_audit_events(&both).unwrap_err()), ["actor"]);
        let unkinded = pb::ListAuditEventsRequest {
            entity: Some(pb::EntityRef {
                kind: 0,
                id: "x".into(),
            }),
            actor: String::new(),
            ..both
        };
        assert_eq!(
            fields(&list_audit_events(&unkinded).unwrap_err()),
            ["entity.kind", "entity.id"]
        );
    }

    #[test]
    fn payloads_become_structs() {
        let value = serde_json::json!({"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}});
        let prost_types::Value {
            kind: Some(prost_types::value::Kind::StructValue(s)),
        } = json_to_proto(&value)
        else {
            panic!("not a struct")
        };
        assert_eq!(s.fields.len(), 3);
    }
}
