//! `entityctl client …` requests.

use entity_proto::v1::{self as pb, client_service_client::ClientServiceClient};

use super::{listed, mask, one, options, profile_proto, tenant::plan_proto, token, written};
use crate::cli::entityctl::{
    Failure, Services,
    args::{ClientCommand, ClientId, ClientStatusArg, ListOpts},
    render::Rendered,
};

list_rpcs! {
    pb::ListClientsRequest: ClientServiceClient.list_clients -> clients: pb::Client,
}
reads! { ClientId => pb::GetClientRequest { client_id } }
writes! {
    ClientId => pb::DisableClientRequest { client_id },
    ClientId => pb::EnableClientRequest { client_id },
    ClientId => pb::DeleteClientRequest { client_id },
}

/// Runs a client command.
pub(super) async fn run(
    services: &mut Services,
    command: ClientCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.clients;
    let rendered = match command {
        ClientCommand::Create {
            tenant,
            name,
            external_id,
            profile,
            write,
        } => {
            let request = pb::CreateClientRequest {
                options: options(write),
                tenant_id: tenant,
                name,
                external_id: external_id.unwrap_or_default(),
                business_profile: profile_proto(profile),
            };
            written("created", c.create_client(request).await?)
        }
        ClientCommand::Get(read) => one(c.get_client(pb::GetClientRequest::from(read)).await?),
        ClientCommand::List {
            tenant,
            status,
            external_id,
            listing: ListOpts { page, read },
        } => {
            let request = pb::ListClientsRequest {
                tenant_id: tenant,
                status: status.map_or(pb::ClientStatus::Unspecified, status_proto) as i32,
                external_id: external_id.unwrap_or_default(),
                consistency_token: token(read),
                ..Default::default()
            };
            listed(c, request, page).await?
        }
        ClientCommand::Update {
            tenant,
            client,
            name,
            external_id,
            profile,
            clear_profile,
            write,
        } => {
            let update_mask = mask(&[
                ("name", name.is_some()),
                ("external_id", external_id.is_some()),
                ("business_profile", profile.given() || clear_profile),
            ]);
            let request = pb::UpdateClientRequest {
                options: options(write),
                tenant_id: tenant,
                client_id: client,
                client: Some(pb::ClientUpdate {
                    name: name.unwrap_or_default(),
                    external_id: external_id.unwrap_or_default(),
                    business_profile: profile_proto(profile),
                }),
                update_mask,
            };
            written("updated", c.update_client(request).await?)
        }
        ClientCommand::Disable(w) => written(
            "disabled",
            c.disable_client(pb::DisableClientRequest::from(w)).await?,
        ),
        ClientCommand::Enable(w) => written(
            "enabled",
            c.enable_client(pb::EnableClientRequest::from(w)).await?,
        ),
        ClientCommand::Delete(w) => written(
            "deleted",
            c.delete_client(pb::DeleteClientRequest::from(w)).await?,
        ),
        ClientCommand::Provision {
            tenant,
            client,
            slug,
            plan,
            owner_email,
            write,
        } => {
            let request = pb::ProvisionClientTenantRequest {
                options: options(write),
                tenant_id: tenant,
                client_id: client,
                slug,
                plan: plan.map_or(pb::Plan::Unspecified, plan_proto) as i32,
                owner_email,
            };
            written("provisioned", c.provision_client_tenant(request).await?)
        }
    };
    Ok(rendered)
}

fn status_proto(status: ClientStatusArg) -> pb::ClientStatus {
    match status {
        ClientStatusArg::Active => pb::ClientStatus::Active,
        ClientStatusArg::Disabled => pb::ClientStatus::Disabled,
        ClientStatusArg::Deleted => pb::ClientStatus::Deleted,
    }
}
