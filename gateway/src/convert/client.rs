//! Client requests → commands, and `Client` → its proto message.

use engine::domain::{
    Client, ClientCommand, ClientId, ClientStatus, OnboardingPlan, ProvisionedTenant, SecretHash,
    TenantId,
};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{
    Mutation, Violations, addressed, by_id, point_read,
    tenant::{NewTenantIds, new_plan, profile_from_proto, profile_to_proto},
    timestamp,
};

/// Paths UpdateClient's `update_mask` may name.
pub const UPDATE_PATHS: &[&str] = &["name", "external_id", "business_profile"];

/// The request field naming the client.
const CLIENT_ID: &str = "client_id";

/// CreateClient, with the id the gateway chose for the new client.
pub fn create(req: pb::CreateClientRequest, id: ClientId) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let options = v.options(req.options);
    let tenant_id: Option<TenantId> = v.id("tenant_id", &req.tenant_id);
    v.finish()?;
    let tenant_id = tenant_id.ok_or_else(|| Status::internal("validation incomplete"))?;
    let command = ClientCommand::Create {
        id,
        name: req.name,
        external_id: req.external_id,
        business_profile: req.business_profile.map(profile_from_proto),
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// UpdateClient: the mask decides which fields change (`business_profile` unset clears it).
pub fn update(req: pb::UpdateClientRequest) -> Result<Mutation, Status> {
    let (target, options, paths) = addressed(
        req.options,
        &req.tenant_id,
        (CLIENT_ID, &req.client_id),
        |v| v.update_mask(req.update_mask, UPDATE_PATHS),
    )?;
    let patch = req.client.unwrap_or_default();
    let command = ClientCommand::Update {
        id: target.id,
        name: paths.contains(&"name").then_some(patch.name),
        external_id: paths.contains(&"external_id").then_some(patch.external_id),
        business_profile: paths
            .contains(&"business_profile")
            .then(|| patch.business_profile.map(profile_from_proto)),
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// DisableClient.
pub fn disable(req: pb::DisableClientRequest) -> Result<Mutation, Status> {
    by_id(
        req.options,
        &req.tenant_id,
        (CLIENT_ID, &req.client_id),
        |id| ClientCommand::Disable { id },
    )
}

/// EnableClient.
pub fn enable(req: pb::EnableClientRequest) -> Result<Mutation, Status> {
    by_id(
        req.options,
        &req.tenant_id,
        (CLIENT_ID, &req.client_id),
        |id| ClientCommand::Enable { id },
    )
}

/// DeleteClient.
pub fn delete(req: pb::DeleteClientRequest) -> Result<Mutation, Status> {
    by_id(
        req.options,
        &req.tenant_id,
        (CLIENT_ID, &req.client_id),
        |id| ClientCommand::Delete { id },
    )
}

/// ProvisionClientTenant, with the new tenant's ids and the owner's invitation token hash.
pub fn provision(
    req: pb::ProvisionClientTenantRequest,
    ids: NewTenantIds,
    owner_token_hash: SecretHash,
) -> Result<Mutation, Status> {
    let (target, options, plan) = addressed(
        req.options,
        &req.tenant_id,
        (CLIENT_ID, &req.client_id),
        |v| {
            v.required("owner_email", &req.owner_email);
            new_plan(v, req.plan)
        },
    )?;
    let plan = plan.ok_or_else(|| Status::internal("validation incomplete"))?;
    let command = ClientCommand::ProvisionTenant {
        id: target.id,
        tenant: ProvisionedTenant {
            tenant_id: ids.tenant,
            slug: req.slug,
            plan,
            onboarding: OnboardingPlan {
                default_organization_id: ids.default_organization,
                owner_user_id: ids.owner,
                owner_email: req.owner_email,
                owner_token_hash: Some(owner_token_hash),
            },
        },
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// GetClient: the tenant and client to read.
pub fn get(req: &pb::GetClientRequest) -> Result<(TenantId, ClientId), Status> {
    point_read(
        &req.tenant_id,
        (CLIENT_ID, &req.client_id),
        &req.consistency_token,
    )
}

/// The proto message of a client.
pub fn to_proto(c: &Client) -> pb::Client {
    pb::Client {
        tenant_id: c.tenant_id.to_string(),
        id: c.id.to_string(),
        name: c.name.clone(),
        external_id: c.external_id.clone(),
        business_profile: c.business_profile.as_ref().map(profile_to_proto),
        status: status_to_proto(c.status) as i32,
        provisioned_tenant_id: c
            .provisioned_tenant_id
            .map(|t| t.to_string())
            .unwrap_or_default(),
        version: c.version,
        create_time: Some(timestamp(c.created_at)),
        update_time: Some(timestamp(c.updated_at)),
    }
}

/// The proto enum value of a client status.
pub fn status_to_proto(status: ClientStatus) -> pb::ClientStatus {
    match status {
        ClientStatus::Active => pb::ClientStatus::Active,
        ClientStatus::Disabled => pb::ClientStatus::Disabled,
        ClientStatus::Deleted => pb::ClientStatus::Deleted,
    }
}

/// The domain status a proto status filter names (`None` for unspecified).
pub fn status_from_proto(status: pb::ClientStatus) -> Option<ClientStatus> {
    match status {
        pb::ClientStatus::Unspecified => None,
        pb::ClientStatus::Active => Some(ClientStatus::Active),
        pb::ClientStatus::Disabled => Some(ClientStatus::Disabled),
        pb::ClientStatus::Deleted => Some(ClientStatus::Deleted),
    }
}
