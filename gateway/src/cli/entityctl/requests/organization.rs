//! `entityctl org …` requests.

use entity_proto::v1::{self as pb, organization_service_client::OrganizationServiceClient};

use super::{listed, one, options, token, written};
use crate::cli::entityctl::{
    Failure, Services,
    args::{ListOpts, OrgCommand, OrgId},
    render::{OrgPath, Rendered},
};

list_rpcs! {
    pb::ListOrganizationsRequest: OrganizationServiceClient.list_organizations
        -> organizations: pb::Organization,
}
reads! {
    OrgId => pb::GetOrganizationRequest { organization_id },
    OrgId => pb::GetOrganizationPathRequest { organization_id },
}
describes! {
    OrgId => pb::UpdateOrganizationRequest { organization_id, organization: pb::OrganizationUpdate },
}

/// Runs an organization command.
pub(super) async fn run(services: &mut Services, command: OrgCommand) -> Result<Rendered, Failure> {
    let c = &mut services.organizations;
    let rendered = match command {
        OrgCommand::Create {
            tenant,
            name,
            parent,
            description,
            write,
        } => {
            let request = pb::CreateOrganizationRequest {
                options: options(write),
                tenant_id: tenant,
                name,
                description: description.unwrap_or_default(),
                parent_id: parent.unwrap_or_default(),
            };
            written("created", c.create_organization(request).await?)
        }
        OrgCommand::Get(read) => one(c
            .get_organization(pb::GetOrganizationRequest::from(read))
            .await?),
        OrgCommand::List {
            tenant,
            parent,
            descendants_of,
            roots,
            include_deleted,
            listing: ListOpts { page, read },
        } => {
            let request = pb::ListOrganizationsRequest {
                tenant_id: tenant,
                parent_id: parent.unwrap_or_default(),
                descendants_of: descendants_of.unwrap_or_default(),
                roots_only: roots,
                include_deleted,
                consistency_token: token(read),
                ..Default::default()
            };
            listed(c, request, page).await?
        }
        OrgCommand::Path(read) => {
            let request = pb::GetOrganizationPathRequest::from(read);
            let path = c.get_organization_path(request).await?.into_inner();
            Rendered::new(OrgPath(path.organizations))
        }
        OrgCommand::Update(d) => {
            let request = pb::UpdateOrganizationRequest::from(d);
            written("updated", c.update_organization(request).await?)
        }
        OrgCommand::Move {
            tenant,
            org,
            parent,
            root: _,
            write,
        } => {
            // clap guarantees exactly one of --parent and --root.
            let request = pb::MoveOrganizationRequest {
                options: options(write),
                tenant_id: tenant,
                organization_id: org,
                new_parent_id: parent.unwrap_or_default(),
            };
            written("moved", c.move_organization(request).await?)
        }
        OrgCommand::Delete {
            tenant,
            org,
            cascade,
            write,
        } => {
            let request = pb::DeleteOrganizationRequest {
                options: options(write),
                tenant_id: tenant,
                organization_id: org,
                cascade,
            };
            written("deleted", c.delete_organization(request).await?)
        }
    };
    Ok(rendered)
}
