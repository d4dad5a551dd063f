//! Tenant isolation, generated over EVERY RPC of the compiled contract
//! (`entity_proto::rpc_methods()`): a caller of tenant A (its owner) attempting each RPC
//! against tenant B's resources gets PERMISSION_DENIED or NOT_FOUND and writes nothing; the
//! same ids addressed through A's own tenant are NOT_FOUND (the engine only looks inside the
//! addressed tenant). A platform admin may act across tenants and the events record it.
//! A caller of A without the permission an RPC needs gets PERMISSION_DENIED (naming the
//! permission and scope) and writes nothing. ResolveRegistration is open to every
//! authenticated caller by design and answers only a tenant's id and name. A person's own
//! identity-provider token (a verified `email`) may register that email, and nothing else.
//! A new RPC makes `attempt` panic until it is covered here.
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use grpc_support::{
    Clients, PgNode, accept, bearer, claims, create_api_key, create_client, create_org,
    create_partition, create_team, define_role, hs256_token, invite, jwt_node, role_at, scope,
};
use tonic::{Code, Status};

/// Ids of one tenant's resources.
#[derive(Clone, Debug)]
struct Ids {
    tenant: String,
    org: String,
    child_org: String,
    team: String,
    user: String,
    invited: String,
    invitation_token: String,
    role: String,
    owner: String,
    client: String,
    department: String,
    location: String,
    contact: String,
    partition: String,
    partition_group: String,
    api_key_id: String,
    api_key: String,
    /// The tenant's name.
    name: String,
    /// A registration domain the tenant verified (by hand, by a platform admin).
    domain: String,
    /// The tenant's custom sign-up host.
    host: String,
}

fn record(tenant: String, id: String) -> pb::GetRecordRequest {
    pb::GetRecordRequest {
        tenant_id: tenant,
        id,
        ..Default::default()
    }
}

fn delete(tenant: String, id: String) -> pb::DeleteRecordRequest {
    pb::DeleteRecordRequest {
        tenant_id: tenant,
        id,
        ..Default::default()
    }
}

fn records_of(tenant: String, owner: String) -> pb::ListRecordsRequest {
    pb::ListRecordsRequest {
        tenant_id: tenant,
        owner,
        ..Default::default()
    }
}

fn name_mask() -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: vec!["name".into()],
    })
}

/// A tenant named `<label> Corp` with one of everything, open to self-registration (with the
/// automatic role `viewer`) through the domain `<label>-corp.example`, verified by hand by a
/// platform admin, and the host `join.<label>-corp.example`.
async fn populate(c: &mut Clients, label: &str) -> Ids {
    let name = format!("{} Corp", label.to_uppercase());
    let answer = c
        .tenants
        .create_tenant(grpc_support::create_tenant_request(&name, pb::Plan::Gold))
        .await
        .expect("create tenant")
        .into_inner();
    let tenant = answer.tenant.unwrap();
    let owner = accept(c, &tenant.id, &answer.owner_invitation_token).await;
    let org = create_org(c, &tenant.id, "Engineering", "").await;
    let child_org = create_org(c, &tenant.id, "Platform", &org.id).await;
    let team = create_team(c, &tenant.id, &org.id, "Core").await;
    let member = invite(c, &tenant.id, "member@b.test", &org.id, vec![]).await;
    let member_user = accept(c, &tenant.id, &member.invitation_token).await;
    let pending = invite(c, &tenant.id, "pending@b.test", &org.id, vec![]).await;
    let role = define_role(c, &tenant.id, "auditor", &["organization:read"]).await;
    let client = create_client(c, &tenant.id, "Globex").await;
    let (department, location, contact) =
        grpc_support::create_records(c, &tenant.id, &client.id).await;
    let partition = create_partition(c, &tenant.id, &client.id, "prod").await;
    let partition_group = c
        .partition_groups
        .create_partition_group(pb::CreatePartitionGroupRequest {
            tenant_id: tenant.id.clone(),
            partition_group: Some(pb::PartitionGroup {
                client_id: client.id.clone(),
                name: "Environments".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .partition_group
        .unwrap();
    let (api_key, api_key_id) = create_api_key(c, &tenant.id, &partition.id, &[]).await;
    let domain = format!("{label}-corp.example");
    let host = format!("join.{domain}");
    open_registration(c, &tenant.id, &domain, &host).await;
    Ids {
        tenant: tenant.id,
        org: org.id,
        child_org: child_org.id,
        team: team.id,
        user: member_user.id,
        invited: pending.user.unwrap().id,
        invitation_token: pending.invitation_token,
        role: role.id,
        owner: owner.id,
        client: client.id,
        department,
        location,
        contact,
        partition: partition.id,
        partition_group: partition_group.id,
        api_key_id,
        api_key,
        name: tenant.name,
        domain,
        host,
    }
}

/// Opens registration in `tenant` through `domain` (verified by hand, as a platform admin's
/// token) and `host`, with the automatic role `viewer`.
async fn open_registration(c: &mut Clients, tenant: &str, domain: &str, host: &str) {
    let admin = hs256_token(&claims("platform-ops", None));
    c.registration
        .add_registration_domain(bearer(
            pb::AddRegistrationDomainRequest {
                tenant_id: tenant.to_owned(),
                domain: domain.to_owned(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("add a registration domain");
    let settings = c
        .registration
        .verify_registration_domain(bearer(
            pb::VerifyRegistrationDomainRequest {
                tenant_id: tenant.to_owned(),
                domain: domain.to_owned(),
                manual: true,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("verify the domain by hand")
        .into_inner()
        .settings
        .unwrap();
    assert!(
        settings
            .domains
            .iter()
            .any(|d| d.domain == domain && d.status == pb::DomainStatus::Verified as i32),
        "{settings:?}"
    );
    // the host lies under the verified domain (hosts are proven like domains)
    c.registration
        .configure_registration(bearer(
            pb::ConfigureRegistrationRequest {
                tenant_id: tenant.to_owned(),
                enabled: true,
                auto_roles: vec![role_at("viewer", None)],
                custom_host: host.to_owned(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("configure registration");
}

/// Calls `rpc` (`Service/Method`) with a valid request addressed to `tenant` that names the
/// resources of `ids`, as `token`.
async fn attempt(
    c: &Clients,
    rpc: &str,
    tenant: &str,
    ids: &Ids,
    token: &str,
) -> Result<String, Status> {
    let mut c = c.clone();
    let t = tenant.to_owned();
    let b = ids.clone();
    macro_rules! go {
        ($client:ident . $method:ident ( $req:expr )) => {
            c.$client
                .$method(bearer($req, token))
                .await
                .map(|r| format!("{:?}", r.into_inner()))
        };
    }
    match rpc {
        "TenantService/CreateTenant" => {
            go!(tenants.create_tenant(grpc_support::create_tenant_request("X", pb::Plan::Gold)))
        }
        "TenantService/GetTenant" => go!(tenants.get_tenant(pb::GetTenantRequest {
            tenant_id: t,
            ..Default::default()
        })),
        "TenantService/ListTenants" => go!(tenants.list_tenants(pb::ListTenantsRequest::default())),
        "TenantService/UpdateTenant" => go!(tenants.update_tenant(pb::UpdateTenantRequest {
            tenant_id: t,
            tenant: Some(pb::TenantUpdate {
                name: "Hacked".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()]
            }),
            ..Default::default()
        })),
        "TenantService/ChangePlan" => go!(tenants.change_plan(pb::ChangePlanRequest {
            tenant_id: t,
            plan: pb::Plan::Bronze as i32,
            ..Default::default()
        })),
        "TenantService/SuspendTenant" => go!(tenants.suspend_tenant(pb::SuspendTenantRequest {
            tenant_id: t,
            reason: "x".into(),
            ..Default::default()
        })),
        "TenantService/ReactivateTenant" => {
            go!(tenants.reactivate_tenant(pb::ReactivateTenantRequest {
                tenant_id: t,
                ..Default::default()
            }))
        }
        "TenantService/DeactivateTenant" => {
            go!(tenants.deactivate_tenant(pb::DeactivateTenantRequest {
                grace_period_ends_at: Some(prost_types::Timestamp {
                    seconds: chrono::Utc::now().timestamp() + 30 * 86_400,
                    nanos: 0,
                }),
                tenant_id: t,
                ..Default::default()
            }))
        }
        "TenantService/DeleteTenant" => go!(tenants.delete_tenant(pb::DeleteTenantRequest {
            tenant_id: t,
            ..Default::default()
        })),
        "TenantService/EraseTenant" => go!(tenants.erase_tenant(pb::EraseTenantRequest {
            tenant_id: t,
            ..Default::default()
        })),
        "OrganizationService/CreateOrganization" => {
            go!(orgs.create_organization(pb::CreateOrganizationRequest {
                tenant_id: t,
                name: "Evil".into(),
                parent_id: b.org,
                ..Default::default()
            }))
        }
        "OrganizationService/GetOrganization" => {
            go!(orgs.get_organization(pb::GetOrganizationRequest {
                tenant_id: t,
                organization_id: b.org,
                ..Default::default()
            }))
        }
        "OrganizationService/ListOrganizations" => {
            go!(orgs.list_organizations(pb::ListOrganizationsRequest {
                tenant_id: t,
                parent_id: b.org,
                ..Default::default()
            }))
        }
        "OrganizationService/GetOrganizationPath" => {
            go!(orgs.get_organization_path(pb::GetOrganizationPathRequest {
                tenant_id: t,
                organization_id: b.child_org,
                ..Default::default()
            }))
        }
        "OrganizationService/UpdateOrganization" => {
            go!(orgs.update_organization(pb::UpdateOrganizationRequest {
                tenant_id: t,
                organization_id: b.org,
                organization: Some(pb::OrganizationUpdate {
                    name: "Hacked".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()]
                }),
                ..Default::default()
            }))
        }
        "OrganizationService/MoveOrganization" => {
            go!(orgs.move_organization(pb::MoveOrganizationRequest {
                tenant_id: t,
                organization_id: b.child_org,
                new_parent_id: String::new(),
                ..Default::default()
            }))
        }
        "OrganizationService/DeleteOrganization" => {
            go!(orgs.delete_organization(pb::DeleteOrganizationRequest {
                tenant_id: t,
                organization_id: b.child_org,
                cascade: true,
                ..Default::default()
            }))
        }
        "TeamService/CreateTeam" => go!(teams.create_team(pb::CreateTeamRequest {
            tenant_id: t,
            organization_id: b.org,
            name: "Evil".into(),
            ..Default::default()
        })),
        "TeamService/GetTeam" => go!(teams.get_team(pb::GetTeamRequest {
            tenant_id: t,
            team_id: b.team,
            ..Default::default()
        })),
        "TeamService/ListTeams" => go!(teams.list_teams(pb::ListTeamsRequest {
            tenant_id: t,
            organization_id: b.org,
            ..Default::default()
        })),
        "TeamService/ListTeamMembers" => go!(teams.list_team_members(pb::ListTeamMembersRequest {
            tenant_id: t,
            team_id: b.team,
            ..Default::default()
        })),
        "TeamService/UpdateTeam" => go!(teams.update_team(pb::UpdateTeamRequest {
            tenant_id: t,
            team_id: b.team,
            team: Some(pb::TeamUpdate {
                name: "Hacked".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()]
            }),
            ..Default::default()
        })),
        "TeamService/DeleteTeam" => go!(teams.delete_team(pb::DeleteTeamRequest {
            tenant_id: t,
            team_id: b.team,
            ..Default::default()
        })),
        "TeamService/AddTeamMember" => go!(teams.add_team_member(pb::AddTeamMemberRequest {
            tenant_id: t,
            team_id: b.team,
            user_id: b.user,
            role: pb::TeamRole::Member as i32,
            ..Default::default()
        })),
        "TeamService/RemoveTeamMember" => {
            go!(teams.remove_team_member(pb::RemoveTeamMemberRequest {
                tenant_id: t,
                team_id: b.team,
                user_id: b.user,
                ..Default::default()
            }))
        }
        "UserService/InviteUser" => go!(users.invite_user(pb::InviteUserRequest {
            tenant_id: t,
            email: "spy@a.test".into(),
            organization_id: b.org,
            ..Default::default()
        })),
        "UserService/GetUser" => go!(users.get_user(pb::GetUserRequest {
            tenant_id: t,
            user_id: b.user,
            ..Default::default()
        })),
        "UserService/ListUsers" => go!(users.list_users(pb::ListUsersRequest {
            tenant_id: t,
            organization_id: b.org,
            ..Default::default()
        })),
        "UserService/AcceptInvitation" => {
            go!(users.accept_invitation(pb::AcceptInvitationRequest {
                tenant_id: t,
                token: b.invitation_token,
                ..Default::default()
            }))
        }
        "UserService/ResendInvitation" => {
            go!(users.resend_invitation(pb::ResendInvitationRequest {
                tenant_id: t,
                user_id: b.invited,
                ..Default::default()
            }))
        }
        "UserService/RevokeInvitation" => {
            go!(users.revoke_invitation(pb::RevokeInvitationRequest {
                tenant_id: t,
                user_id: b.invited,
                ..Default::default()
            }))
        }
        "UserService/UpdateUserProfile" => {
            go!(users.update_user_profile(pb::UpdateUserProfileRequest {
                tenant_id: t,
                user_id: b.user,
                user: Some(pb::UserProfileUpdate {
                    display_name: "Hacked".into(),
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into()]
                }),
                ..Default::default()
            }))
        }
        "UserService/DeactivateUser" => go!(users.deactivate_user(pb::DeactivateUserRequest {
            tenant_id: t,
            user_id: b.user,
            ..Default::default()
        })),
        "UserService/ReactivateUser" => go!(users.reactivate_user(pb::ReactivateUserRequest {
            tenant_id: t,
            user_id: b.user,
            ..Default::default()
        })),
        "UserService/EraseUser" => go!(users.erase_user(pb::EraseUserRequest {
            tenant_id: t,
            user_id: b.user,
            ..Default::default()
        })),
        "UserService/AddOrganizationMember" => go!(users.add_organization_member(
            pb::AddOrganizationMemberRequest {
                tenant_id: t,
                user_id: b.user,
                organization_id: b.child_org,
                ..Default::default()
            }
        )),
        "UserService/RemoveOrganizationMember" => go!(users.remove_organization_member(
            pb::RemoveOrganizationMemberRequest {
                tenant_id: t,
                user_id: b.user,
                organization_id: b.org,
                ..Default::default()
            }
        )),
        "UserService/AssignRole" => go!(users.assign_role(pb::AssignRoleRequest {
            tenant_id: t,
            user_id: b.user,
            assignment: Some(role_at("tenant-owner", None)),
            ..Default::default()
        })),
        "UserService/RevokeRole" => go!(users.revoke_role(pb::RevokeRoleRequest {
            tenant_id: t,
            user_id: b.owner,
            assignment: Some(role_at("tenant-owner", None)),
            ..Default::default()
        })),
        "UserService/ListRoleAssignments" => {
            go!(users.list_role_assignments(pb::ListRoleAssignmentsRequest {
                tenant_id: t,
                user_id: b.owner,
                ..Default::default()
            }))
        }
        "RoleService/DefineRole" => go!(roles.define_role(pb::DefineRoleRequest {
            tenant_id: t,
            name: "evil".into(),
            permissions: vec!["*".into()],
            ..Default::default()
        })),
        "RoleService/GetRole" => go!(roles.get_role(pb::GetRoleRequest {
            tenant_id: t,
            role_id: b.role,
            ..Default::default()
        })),
        "RoleService/ListRoles" => go!(roles.list_roles(pb::ListRolesRequest {
            tenant_id: t,
            ..Default::default()
        })),
        "RoleService/UpdateRole" => go!(roles.update_role(pb::UpdateRoleRequest {
            tenant_id: t,
            role_id: b.role,
            role: Some(pb::RoleUpdate {
                description: "Hacked".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["description".into()]
            }),
            ..Default::default()
        })),
        "RoleService/DeleteRole" => go!(roles.delete_role(pb::DeleteRoleRequest {
            tenant_id: t,
            role_id: b.role,
            ..Default::default()
        })),
        "AccessService/CheckPermission" => {
            go!(access.check_permission(pb::CheckPermissionRequest {
                tenant_id: t,
                user_id: b.owner,
                permission: "organization:read".into(),
                scope: scope(pb::ScopeKind::Organization, &b.org),
                ..Default::default()
            }))
        }
        "AccessService/ListEffectivePermissions" => go!(access.list_effective_permissions(
            pb::ListEffectivePermissionsRequest {
                tenant_id: t,
                user_id: b.owner,
                scope: scope(pb::ScopeKind::Organization, &b.org),
                ..Default::default()
            }
        )),
        "AuditService/ListAuditEvents" => {
            go!(audit.list_audit_events(pb::ListAuditEventsRequest {
                tenant_id: t,
                entity: Some(pb::EntityRef {
                    kind: pb::EntityKind::Organization as i32,
                    id: b.org,
                }),
                ..Default::default()
            }))
        }
        "AdminService/ListProjections" => {
            go!(admin.list_projections(pb::ListProjectionsRequest::default()))
        }
        "AdminService/GetNodeStatus" => {
            go!(admin.get_node_status(pb::GetNodeStatusRequest::default()))
        }
        "AdminService/RebuildProjection" => {
            go!(admin.rebuild_projection(pb::RebuildProjectionRequest {
                name: "users".into()
            }))
        }
        "ClientService/CreateClient" => go!(clients.create_client(pb::CreateClientRequest {
            tenant_id: t,
            name: "Evil Corp".into(),
            ..Default::default()
        })),
        "ClientService/GetClient" => go!(clients.get_client(pb::GetClientRequest {
            tenant_id: t,
            client_id: b.client,
            ..Default::default()
        })),
        "ClientService/ListClients" => go!(clients.list_clients(pb::ListClientsRequest {
            tenant_id: t,
            ..Default::default()
        })),
        "ClientService/UpdateClient" => go!(clients.update_client(pb::UpdateClientRequest {
            tenant_id: t,
            client_id: b.client,
            client: Some(pb::ClientUpdate {
                name: "Hacked".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()]
            }),
            ..Default::default()
        })),
        "ClientService/DisableClient" => go!(clients.disable_client(pb::DisableClientRequest {
            tenant_id: t,
            client_id: b.client,
            ..Default::default()
        })),
        "ClientService/EnableClient" => go!(clients.enable_client(pb::EnableClientRequest {
            tenant_id: t,
            client_id: b.client,
            ..Default::default()
        })),
        "ClientService/DeleteClient" => go!(clients.delete_client(pb::DeleteClientRequest {
            tenant_id: t,
            client_id: b.client,
            ..Default::default()
        })),
        "ClientService/ProvisionClientTenant" => go!(clients.provision_client_tenant(
            pb::ProvisionClientTenantRequest {
                tenant_id: t,
                client_id: b.client,
                slug: format!("evil-{}", uuid::Uuid::new_v4().simple()),
                owner_email: "evil@evil.test".into(),
                ..Default::default()
            }
        )),
        "UserService/SetUserClient" => go!(users.set_user_client(pb::SetUserClientRequest {
            tenant_id: t,
            user_id: b.user,
            client_id: b.client,
            ..Default::default()
        })),
        "DepartmentService/CreateDepartment" => {
            go!(departments.create_department(pb::CreateDepartmentRequest {
                tenant_id: t,
                department: Some(pb::Department {
                    client_id: b.client,
                    name: "Evil".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }))
        }
        "DepartmentService/GetDepartment" => {
            go!(departments.get_department(record(t, b.department)))
        }
        "DepartmentService/ListDepartments" => {
            go!(departments.list_departments(records_of(t, b.client)))
        }
        "DepartmentService/UpdateDepartment" => {
            go!(departments.update_department(pb::UpdateDepartmentRequest {
                tenant_id: t,
                id: b.department,
                department: Some(pb::Department {
                    name: "Hacked".into(),
                    ..Default::default()
                }),
                update_mask: name_mask(),
                ..Default::default()
            }))
        }
        "DepartmentService/DeleteDepartment" => {
            go!(departments.delete_department(delete(t, b.department)))
        }
        "LocationService/CreateLocation" => {
            go!(locations.create_location(pb::CreateLocationRequest {
                tenant_id: t,
                location: Some(pb::Location {
                    client_id: b.client,
                    ..Default::default()
                }),
                ..Default::default()
            }))
        }
        "LocationService/GetLocation" => go!(locations.get_location(record(t, b.location))),
        "LocationService/ListLocations" => go!(locations.list_locations(records_of(t, b.client))),
        "LocationService/UpdateLocation" => {
            go!(locations.update_location(pb::UpdateLocationRequest {
                tenant_id: t,
                id: b.location,
                location: Some(pb::Location {
                    name: "Hacked".into(),
                    ..Default::default()
                }),
                update_mask: name_mask(),
                ..Default::default()
            }))
        }
        "LocationService/DeleteLocation" => go!(locations.delete_location(delete(t, b.location))),
        "ContactService/CreateContact" => go!(contacts.create_contact(pb::CreateContactRequest {
            tenant_id: t,
            contact: Some(pb::Contact {
                client_id: b.client,
                r#type: "billing".into(),
                name: "Evil".into(),
                ..Default::default()
            }),
            ..Default::default()
        })),
        "ContactService/GetContact" => go!(contacts.get_contact(record(t, b.contact))),
        "ContactService/ListContacts" => go!(contacts.list_contacts(records_of(t, b.client))),
        "ContactService/UpdateContact" => go!(contacts.update_contact(pb::UpdateContactRequest {
            tenant_id: t,
            id: b.contact,
            contact: Some(pb::Contact {
                name: "Hacked".into(),
                ..Default::default()
            }),
            update_mask: name_mask(),
            ..Default::default()
        })),
        "ContactService/DeleteContact" => go!(contacts.delete_contact(delete(t, b.contact))),
        "CustomerService/RegisterCustomer" => {
            go!(customers.register_customer(pb::RegisterCustomerRequest {
                name: "Evil Corp".into(),
                slug: format!("evil-{}", uuid::Uuid::new_v4().simple()),
                kind: pb::CustomerKind::Business as i32,
                owner_email: "evil@evil.test".into(),
                ..Default::default()
            }))
        }
        "CustomerService/GetCustomer" => go!(customers.get_customer(pb::GetCustomerRequest {
            customer_id: t,
            ..Default::default()
        })),
        "CustomerService/UpdateCustomer" => {
            go!(customers.update_customer(pb::UpdateCustomerRequest {
                customer_id: t,
                customer: Some(pb::CustomerUpdate {
                    name: "Hacked".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()]
                }),
                ..Default::default()
            }))
        }
        "PartitionService/CreatePartition" => {
            go!(partitions.create_partition(pb::CreatePartitionRequest {
                tenant_id: t,
                partition: Some(pb::Partition {
                    client_id: b.client,
                    name: "evil".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }))
        }
        "PartitionService/GetPartition" => go!(partitions.get_partition(record(t, b.partition))),
        "PartitionService/ListPartitions" => {
            go!(partitions.list_partitions(records_of(t, b.client)))
        }
        "PartitionService/UpdatePartition" => {
            go!(partitions.update_partition(pb::UpdatePartitionRequest {
                tenant_id: t,
                id: b.partition,
                partition: Some(pb::Partition {
                    name: "hacked".into(),
                    ..Default::default()
                }),
                update_mask: name_mask(),
                ..Default::default()
            }))
        }
        "PartitionService/DeletePartition" => {
            go!(partitions.delete_partition(delete(t, b.partition)))
        }
        "PartitionGroupService/CreatePartitionGroup" => {
            go!(
                partition_groups.create_partition_group(pb::CreatePartitionGroupRequest {
                    tenant_id: t,
                    partition_group: Some(pb::PartitionGroup {
                        client_id: b.client,
                        name: "Evil".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
            )
        }
        "PartitionGroupService/GetPartitionGroup" => {
            go!(partition_groups.get_partition_group(record(t, b.partition_group)))
        }
        "PartitionGroupService/ListPartitionGroups" => {
            go!(partition_groups.list_partition_groups(records_of(t, b.client)))
        }
        "PartitionGroupService/UpdatePartitionGroup" => {
            go!(
                partition_groups.update_partition_group(pb::UpdatePartitionGroupRequest {
                    tenant_id: t,
                    id: b.partition_group,
                    partition_group: Some(pb::PartitionGroup {
                        name: "Hacked".into(),
                        ..Default::default()
                    }),
                    update_mask: name_mask(),
                    ..Default::default()
                })
            )
        }
        "PartitionGroupService/DeletePartitionGroup" => {
            go!(partition_groups.delete_partition_group(delete(t, b.partition_group)))
        }
        "ApiKeyService/CreateApiKey" => go!(api_keys.create_api_key(pb::CreateApiKeyRequest {
            tenant_id: t,
            partition_id: b.partition,
            name: "evil".into(),
            admin: true,
            ..Default::default()
        })),
        "ApiKeyService/GetApiKey" => go!(api_keys.get_api_key(pb::GetApiKeyRequest {
            tenant_id: t,
            id: b.api_key_id,
        })),
        "ApiKeyService/ListApiKeys" => go!(api_keys.list_api_keys(pb::ListApiKeysRequest {
            tenant_id: t,
            partition_id: b.partition,
            ..Default::default()
        })),
        "ApiKeyService/RotateApiKey" => go!(api_keys.rotate_api_key(pb::RotateApiKeyRequest {
            tenant_id: t,
            id: b.api_key_id,
            ..Default::default()
        })),
        "ApiKeyService/RevokeApiKey" => go!(api_keys.revoke_api_key(pb::RevokeApiKeyRequest {
            tenant_id: t,
            id: b.api_key_id,
            ..Default::default()
        })),
        // Addressed by the key alone: its tenant is the key's.
        "ApiKeyService/VerifyApiKey" => {
            go!(api_keys.verify_api_key(pb::VerifyApiKeyRequest { api_key: b.api_key }))
        }
        // Joins `t`, with an address of B's verified domain.
        "UserService/RegisterUser" => go!(users.register_user(pb::RegisterUserRequest {
            tenant_id: t,
            email: format!("someone@{}", b.domain),
            display_name: "Someone".into(),
            ..Default::default()
        })),
        "UserService/GetUserClaims" => go!(users.get_user_claims(pb::GetUserClaimsRequest {
            tenant_id: t,
            user_id: b.user,
        })),
        // Every registrant would become a tenant owner.
        "RegistrationService/ConfigureRegistration" => go!(registration.configure_registration(
            pb::ConfigureRegistrationRequest {
                tenant_id: t,
                enabled: true,
                auto_roles: vec![role_at("tenant-owner", None)],
                custom_host: b.host,
                ..Default::default()
            }
        )),
        "RegistrationService/GetRegistrationSettings" => go!(registration
            .get_registration_settings(pb::GetRegistrationSettingsRequest { tenant_id: t })),
        "RegistrationService/AddRegistrationDomain" => go!(registration.add_registration_domain(
            pb::AddRegistrationDomainRequest {
                tenant_id: t,
                domain: b.domain,
                client_id: b.client,
                ..Default::default()
            }
        )),
        "RegistrationService/VerifyRegistrationDomain" => go!(registration
            .verify_registration_domain(pb::VerifyRegistrationDomainRequest {
                tenant_id: t,
                domain: b.domain,
                ..Default::default()
            })),
        "RegistrationService/RemoveRegistrationDomain" => go!(registration
            .remove_registration_domain(pb::RemoveRegistrationDomainRequest {
                tenant_id: t,
                domain: b.domain,
                ..Default::default()
            })),
        // Addressed by the email alone (no tenant): see OPEN_TO_EVERY_CALLER.
        "RegistrationService/ResolveRegistration" => go!(registration.resolve_registration(
            pb::ResolveRegistrationRequest {
                email: format!("someone@{}", b.domain),
                ..Default::default()
            }
        )),
        // Within the tenant addressed, filtered by B's tenant as "clients of".
        "SearchService/SearchCustomers" => {
            go!(search.search_customers(pb::SearchCustomersRequest {
                tenant_id: t,
                filter: Some(pb::SearchFilter {
                    client_of: b.tenant,
                    ..Default::default()
                }),
                ..Default::default()
            }))
        }
        "SearchService/CreateSearchKey" => {
            go!(search.create_search_key(pb::CreateSearchKeyRequest {
                tenant_id: t,
                filter: Some(pb::SearchFilter {
                    client_of: b.tenant,
                    ..Default::default()
                }),
                ..Default::default()
            }))
        }
        // Streamed: every page, read to the end.
        "AnalyticsService/ExportChanges" => {
            let request = pb::ExportChangesRequest {
                tenant_id: t,
                since: Some(pb::export_changes_request::Since::AfterPosition(0)),
                ..Default::default()
            };
            let mut pages = c
                .analytics
                .export_changes(bearer(request, token))
                .await?
                .into_inner();
            let mut read = Vec::new();
            while let Some(page) = pages.message().await? {
                read.push(page);
            }
            Ok(format!("{read:?}"))
        }
        other => panic!("{other} is not covered by the isolation test: add it to `attempt`"),
    }
}

fn contract() -> Vec<String> {
    entity_proto::rpc_methods()
        .unwrap()
        .into_iter()
        .map(|(service, method)| format!("{}/{method}", service.trim_start_matches("entity.v1.")))
        .collect()
}

/// Tenant-level RPCs whose only address is the tenant (through A's own tenant they are not
/// cross-tenant at all).
const TENANT_ONLY: &[&str] = &[
    "TenantService/CreateTenant",
    "TenantService/GetTenant",
    "TenantService/ListTenants",
    "AdminService/ListProjections",
    "AdminService/RebuildProjection",
    "AdminService/GetNodeStatus",
    "TenantService/UpdateTenant",
    "TenantService/ChangePlan",
    "TenantService/SuspendTenant",
    "TenantService/ReactivateTenant",
    "TenantService/DeactivateTenant",
    "TenantService/DeleteTenant",
    "TenantService/EraseTenant",
    "OrganizationService/ListOrganizations",
    "RoleService/ListRoles",
    "RoleService/DefineRole",
    "UserService/InviteUser",
    "ClientService/CreateClient",
    "ClientService/ListClients",
    "CustomerService/RegisterCustomer",
    "CustomerService/GetCustomer",
    "CustomerService/UpdateCustomer",
    "ApiKeyService/VerifyApiKey",
    // Through A it exports A's own history (grpc_analytics checks it holds nothing of B).
    "AnalyticsService/ExportChanges",
    // Through A it registers into A, which refuses B's domain (FAILED_PRECONDITION).
    "UserService/RegisterUser",
    "RegistrationService/ConfigureRegistration",
    "RegistrationService/GetRegistrationSettings",
    // The domain is no id of B's: through A it is merely a domain A has not listed.
    "RegistrationService/VerifyRegistrationDomain",
    "RegistrationService/RemoveRegistrationDomain",
    // Not AddRegistrationDomain: it names B's client, which A does not have (NOT_FOUND).
    // A key of A's own clients; B's tenant as "clients of" only narrows it to nothing.
    "SearchService/CreateSearchKey",
];

/// RPCs every authenticated caller may call, whatever its tenant and permissions, so they are
/// left out of the loops that expect a refusal. ResolveRegistration has no tenant to address
/// (it is how a person finds the tenant that accepts them, before they are anyone's user) and
/// answers only the accepting tenant's id and name; `cannot_touch_b` checks exactly that.
const OPEN_TO_EVERY_CALLER: &[&str] = &["RegistrationService/ResolveRegistration"];

/// RPCs only platform admins may call.
const PLATFORM_ONLY: &[&str] = &[
    "TenantService/CreateTenant",
    "TenantService/ListTenants",
    "TenantService/EraseTenant",
    "AdminService/ListProjections",
    "AdminService/RebuildProjection",
    "AdminService/GetNodeStatus",
    "CustomerService/RegisterCustomer",
];

async fn isolation_node() -> (PgNode, Ids, Ids) {
    let node = jwt_node().await;
    let mut c = node.clients.clone();
    let a = populate(&mut c, "a").await;
    let b = populate(&mut c, "b").await;
    (node, a, b)
}

#[tokio::test]
async fn a_caller_of_tenant_a_cannot_touch_tenant_b_through_any_rpc() {
    let (node, a, b) = isolation_node().await;
    let token = hs256_token(&claims(&a.owner, Some(&a.tenant)));
    cannot_touch_b(&node, &a, &b, &token).await;
    node.server.shutdown().await.unwrap();
}

/// The same with an admin API key of tenant A as the credential.
#[tokio::test]
async fn an_api_key_of_tenant_a_cannot_touch_tenant_b_through_any_rpc() {
    let (node, a, b) = isolation_node().await;
    cannot_touch_b(&node, &a, &b, &a.api_key).await;
    node.server.shutdown().await.unwrap();
}

/// Every RPC of the contract, as `token` (a credential of tenant A), against B's resources and
/// with B's ids through A: refused or empty, nothing written, nothing of B shown.
async fn cannot_touch_b(node: &PgNode, a: &Ids, b: &Ids, token: &str) {
    let rpcs = contract();
    assert!(rpcs.len() >= 40, "{rpcs:?}");
    for rpc in &rpcs {
        if OPEN_TO_EVERY_CALLER.contains(&rpc.as_str()) {
            continue;
        }
        // addressed to tenant B
        let before = node.events().await.len();
        let err = attempt(&node.clients, rpc, &b.tenant, b, token)
            .await
            .expect_err(rpc);
        assert!(
            matches!(err.code(), Code::PermissionDenied | Code::NotFound),
            "{rpc} against B: {err:?}"
        );
        assert_eq!(node.events().await.len(), before, "{rpc} against B wrote");
        // B's resource ids through A's own tenant
        if TENANT_ONLY.contains(&rpc.as_str()) {
            continue;
        }
        match attempt(&node.clients, rpc, &a.tenant, b, token).await {
            Err(err) => assert!(
                matches!(err.code(), Code::PermissionDenied | Code::NotFound),
                "{rpc} with B's ids in A: {err:?}"
            ),
            // a listing or search filtered by a foreign id finds nothing of B
            Ok(answer) => {
                assert!(
                    rpc.contains("/List") || rpc.contains("/Search"),
                    "{rpc} with B's ids in A succeeded: {answer}"
                );
                for id in std::iter::once(b.tenant.as_str()).chain(ids_besides_the_tenant(b)) {
                    assert!(!answer.contains(id), "{rpc} leaked {id}: {answer}");
                }
            }
        }
        assert_eq!(
            node.events().await.len(),
            before,
            "{rpc} with B's ids in A wrote"
        );
    }

    // ResolveRegistration, by an address of B's verified domain and by B's sign-up host: B's
    // id and name, and nothing else of B
    let before = node.events().await.len();
    let mut c = node.clients.clone();
    let expected = pb::ResolveRegistrationResponse {
        accepted: true,
        tenant_id: b.tenant.clone(),
        tenant_name: b.name.clone(),
        reason: String::new(),
    };
    for request in [
        pb::ResolveRegistrationRequest {
            email: format!("newcomer@{}", b.domain),
            ..Default::default()
        },
        pb::ResolveRegistrationRequest {
            host: b.host.clone(),
            ..Default::default()
        },
    ] {
        let answer = c
            .registration
            .resolve_registration(bearer(request.clone(), token))
            .await
            .unwrap_or_else(|e| panic!("{request:?}: {e:?}"))
            .into_inner();
        assert_eq!(answer, expected, "{request:?}");
        let printed = format!("{answer:?}");
        for id in ids_besides_the_tenant(b) {
            assert!(
                !printed.contains(id),
                "ResolveRegistration leaked {id}: {printed}"
            );
        }
    }
    // the same through `attempt`, as the other RPCs
    let printed = attempt(
        &node.clients,
        "RegistrationService/ResolveRegistration",
        &a.tenant,
        b,
        token,
    )
    .await
    .unwrap();
    assert_eq!(printed, format!("{expected:?}"));
    assert_eq!(
        node.events().await.len(),
        before,
        "ResolveRegistration wrote"
    );
}

/// Every id of `b`'s resources but its tenant's.
fn ids_besides_the_tenant(b: &Ids) -> impl Iterator<Item = &str> {
    [
        &b.org,
        &b.child_org,
        &b.team,
        &b.user,
        &b.invited,
        &b.role,
        &b.owner,
        &b.client,
        &b.department,
        &b.location,
        &b.contact,
        &b.partition,
        &b.partition_group,
        &b.api_key_id,
    ]
    .into_iter()
    .map(String::as_str)
}

#[tokio::test]
async fn a_platform_admin_may_act_across_tenants_and_it_is_recorded() {
    let (node, _a, b) = isolation_node().await;
    let mut admin_claims = claims("ops-automation", None);
    admin_claims["act"] = serde_json::json!({"sub": "carol@platform"});
    let token = hs256_token(&admin_claims);
    let before = node.events().await.len();
    attempt(
        &node.clients,
        "OrganizationService/UpdateOrganization",
        &b.tenant,
        &b,
        &token,
    )
    .await
    .unwrap();
    let events = node.events().await;
    assert_eq!(events.len(), before + 1);
    let actor = &events[before].metadata.actor;
    assert_eq!(actor.subject, "ops-automation");
    assert_eq!(actor.credential_kind, "jwt");
    assert_eq!(actor.on_behalf_of.as_deref(), Some("carol@platform"));
    assert_eq!(actor.credential_id.as_deref(), admin_claims["jti"].as_str());
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn platform_rpcs_need_a_platform_admin() {
    let (node, a, _b) = isolation_node().await;
    let token = hs256_token(&claims(&a.owner, Some(&a.tenant)));
    for rpc in PLATFORM_ONLY {
        let before = node.events().await.len();
        let err = attempt(&node.clients, rpc, &a.tenant, &a, &token)
            .await
            .expect_err(rpc);
        assert_eq!(err.code(), Code::PermissionDenied, "{rpc}");
        assert_eq!(node.events().await.len(), before);
    }
    node.server.shutdown().await.unwrap();
}

/// A viewer of A (no management permissions) against A's own resources: every RPC it lacks
/// the permission for is PERMISSION_DENIED, names the permission, and writes nothing; the
/// self-service RPCs about itself are allowed.
#[tokio::test]
async fn a_caller_without_the_permission_is_denied() {
    let (node, a, _b) = isolation_node().await;
    let mut c = node.clients.clone();
    let viewer = invite(
        &mut c,
        &a.tenant,
        "viewer@a.test",
        "",
        vec![role_at("viewer", None)],
    )
    .await;
    let viewer = accept(&mut c, &a.tenant, &viewer.invitation_token).await;
    let token = hs256_token(&claims(&viewer.id, Some(&a.tenant)));
    let allowed_for_viewer = ["UserService/AcceptInvitation"];
    for rpc in contract() {
        if allowed_for_viewer.contains(&rpc.as_str())
            || OPEN_TO_EVERY_CALLER.contains(&rpc.as_str())
        {
            continue;
        }
        let before = node.events().await.len();
        let err = attempt(&node.clients, &rpc, &a.tenant, &a, &token)
            .await
            .expect_err(&rpc);
        assert_eq!(err.code(), Code::PermissionDenied, "{rpc}: {err:?}");
        let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
        assert_eq!(info.reason, "PERMISSION_DENIED", "{rpc}");
        // registering someone else is a platform service's, on the person's behalf
        if rpc == "UserService/RegisterUser" {
            assert_eq!(
                info.metadata.get("permission").map(String::as_str),
                Some("platform-admin"),
                "{info:?}"
            );
        } else if !PLATFORM_ONLY.contains(&rpc.as_str()) {
            assert!(info.metadata.contains_key("permission"), "{rpc}: {info:?}");
            assert!(info.metadata.contains_key("scope"), "{rpc}: {info:?}");
        }
        assert_eq!(node.events().await.len(), before, "{rpc} wrote");
    }
    // open to every caller: it learns which tenant accepts an address of A's domain
    for rpc in OPEN_TO_EVERY_CALLER {
        let before = node.events().await.len();
        let answer = attempt(&node.clients, rpc, &a.tenant, &a, &token)
            .await
            .unwrap_or_else(|e| panic!("{rpc}: {e:?}"));
        assert!(answer.contains(&a.tenant), "{rpc}: {answer}");
        assert_eq!(node.events().await.len(), before, "{rpc} wrote");
    }

    // self-service: its own user, profile and permissions
    let own = Ids {
        user: viewer.id.clone(),
        owner: viewer.id.clone(),
        ..a.clone()
    };
    for rpc in [
        "UserService/GetUser",
        "UserService/UpdateUserProfile",
        "UserService/ListRoleAssignments",
        "AccessService/CheckPermission",
        "AccessService/ListEffectivePermissions",
        "UserService/GetUserClaims",
    ] {
        attempt(&node.clients, rpc, &a.tenant, &own, &token)
            .await
            .unwrap_or_else(|e| panic!("{rpc} about itself: {e:?}"));
    }
    // the owner of A may do what the viewer may not
    let owner = hs256_token(&claims(&a.owner, Some(&a.tenant)));
    attempt(
        &node.clients,
        "OrganizationService/UpdateOrganization",
        &a.tenant,
        &a,
        &owner,
    )
    .await
    .unwrap();
    node.server.shutdown().await.unwrap();
}

/// A token whose subject is not a user of the tenant (a service without the platform-admin
/// claim) holds no permissions.
#[tokio::test]
async fn a_non_user_subject_holds_no_permissions() {
    let (node, a, b) = isolation_node().await;
    let token = hs256_token(&claims("billing-service", Some(&a.tenant)));
    let before = node.events().await.len();
    let err = attempt(
        &node.clients,
        "OrganizationService/GetOrganization",
        &a.tenant,
        &a,
        &token,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = attempt(
        &node.clients,
        "TenantService/ChangePlan",
        &a.tenant,
        &a,
        &token,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // a UUID that is no user of the tenant (B's owner) holds nothing in A either
    let stranger = hs256_token(&claims(&b.owner, Some(&a.tenant)));
    let err = attempt(
        &node.clients,
        "OrganizationService/GetOrganization",
        &a.tenant,
        &a,
        &stranger,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(node.events().await.len(), before);
    node.server.shutdown().await.unwrap();
}

/// An API key of A whose scopes hold nothing of this API: every RPC is PERMISSION_DENIED
/// naming the permission (and writes nothing) but AcceptInvitation, open to every caller of
/// the tenant, and the RPCs open to every caller (`OPEN_TO_EVERY_CALLER`); a key that was
/// revoked is UNAUTHENTICATED at once.
#[tokio::test]
async fn an_api_key_without_a_scope_is_denied_naming_the_permission() {
    let (node, a, _b) = isolation_node().await;
    let mut c = node.clients.clone();
    let (key, key_id) = create_api_key(&mut c, &a.tenant, &a.partition, &["invoice:approve"]).await;
    for rpc in contract() {
        if rpc == "UserService/AcceptInvitation" || OPEN_TO_EVERY_CALLER.contains(&rpc.as_str()) {
            continue;
        }
        let before = node.events().await.len();
        let err = attempt(&node.clients, &rpc, &a.tenant, &a, &key)
            .await
            .expect_err(&rpc);
        assert_eq!(err.code(), Code::PermissionDenied, "{rpc}: {err:?}");
        let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
        if !PLATFORM_ONLY.contains(&rpc.as_str()) {
            assert!(info.metadata.contains_key("permission"), "{rpc}: {info:?}");
        }
        assert_eq!(node.events().await.len(), before, "{rpc} wrote");
    }
    // A's admin key may; once revoked, nothing
    attempt(
        &node.clients,
        "OrganizationService/GetOrganization",
        &a.tenant,
        &a,
        &a.api_key,
    )
    .await
    .unwrap();
    c.api_keys
        .revoke_api_key(pb::RevokeApiKeyRequest {
            tenant_id: a.tenant.clone(),
            id: key_id,
            ..Default::default()
        })
        .await
        .unwrap();
    let err = attempt(
        &node.clients,
        "OrganizationService/GetOrganization",
        &a.tenant,
        &a,
        &key,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    node.server.shutdown().await.unwrap();
}

/// A person's own identity-provider token: a subject that is no user yet, no tenant, no
/// platform-admin claim, and `email` (verified when `verified`).
fn person_token(email: &str, verified: serde_json::Value) -> String {
    let mut person = claims("idp|5f1c2d3e", None);
    person.as_object_mut().unwrap().remove("platform_admin");
    person["email"] = email.into();
    person["email_verified"] = verified;
    hs256_token(&person)
}

/// A person whose identity provider verified their address of B's verified domain registers
/// into B by that email alone (no tenant id) and is an active user with B's automatic roles.
/// The same token with the address unverified, or registering another address, or registering
/// into a tenant that does not hold the domain, is refused and writes nothing.
#[tokio::test]
async fn a_person_registers_themself_with_their_verified_email_only() {
    let (node, a, b) = isolation_node().await;
    let c = node.clients.clone();
    let email = format!("newcomer@{}", b.domain);
    let register = |email: &str, tenant_id: &str| pb::RegisterUserRequest {
        tenant_id: tenant_id.to_owned(),
        email: email.to_owned(),
        display_name: "Newcomer".into(),
        ..Default::default()
    };
    let refused = |request: pb::RegisterUserRequest, token: String, code: Code| {
        let mut c = c.clone();
        let node = &node;
        async move {
            let before = node.events().await.len();
            let err = c
                .users
                .register_user(bearer(request.clone(), &token))
                .await
                .expect_err(&format!("{request:?}"));
            assert_eq!(err.code(), code, "{request:?}: {err:?}");
            assert_eq!(node.events().await.len(), before, "{request:?} wrote");
        }
    };

    let unverified = person_token(&email, false.into());
    refused(register(&email, ""), unverified, Code::PermissionDenied).await;
    // only the JSON boolean `true` verifies
    let stringly = person_token(&email, "true".into());
    refused(register(&email, ""), stringly, Code::PermissionDenied).await;
    let token = person_token(&email, true.into());
    for other in [
        format!("someone-else@{}", b.domain),
        format!("newcomer@{}", a.domain),
    ] {
        refused(register(&other, ""), token.clone(), Code::PermissionDenied).await;
        refused(
            register(&other, &b.tenant),
            token.clone(),
            Code::PermissionDenied,
        )
        .await;
    }
    // A does not hold B's domain: the person may ask, A refuses
    refused(
        register(&email, &a.tenant),
        token.clone(),
        Code::FailedPrecondition,
    )
    .await;

    let before = node.events().await.len();
    let user = c
        .clone()
        .users
        .register_user(bearer(register(&email, ""), &token))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(
        node.events().await.len() > before,
        "the registration is written"
    );
    assert_eq!(user.tenant_id, b.tenant);
    assert_eq!(user.email, email);
    assert_eq!(user.status, pb::UserStatus::Active as i32, "{user:?}");
    assert!(
        user.roles.iter().any(|r| r.role == "viewer"),
        "the automatic role: {user:?}"
    );
    // the email is taken now
    refused(register(&email, ""), token, Code::AlreadyExists).await;
    node.server.shutdown().await.unwrap();
}
