//! `entityctl org …` requests.

use entity_proto::v1 as pb;

use super::{options, pages, written};
use crate::cli::entityctl::{
    Clients, Failure,
    args::OrgCommand,
    render::{Listed, One, OrgPath, Rendered},
};

/// Runs an organization command.
pub(super) async fn run(clients: &mut Clients, command: OrgCommand) -> Result<Rendered, Failure> {
    let c = &mut clients.organizations;
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
        OrgCommand::Get {
            tenant,
            org,
            consistency_token,
        } => {
            let request = pb::GetOrganizationRequest {
                tenant_id: tenant,
                organization_id: org,
                consistency_token: consistency_token.unwrap_or_default(),
            };
            Rendered::new(One(c.get_organization(request).await?.into_inner()))
        }
        OrgCommand::List {
            tenant,
            parent,
            descendants_of,
            roots,
            include_deleted,
            page,
            consistency_token,
        } => {
            let base = pb::ListOrganizationsRequest {
                tenant_id: tenant,
                parent_id: parent.unwrap_or_default(),
                descendants_of: descendants_of.unwrap_or_default(),
                roots_only: roots,
                include_deleted,
                consistency_token: consistency_token.unwrap_or_default(),
                ..Default::default()
            };
            let (organizations, next) = pages(page, |page_size, page_token| {
                let mut c = c.clone();
                let request = pb::ListOrganizationsRequest {
                    page_size,
                    page_token,
                    ..base.clone()
                };
                async move {
                    let page = c.list_organizations(request).await?.into_inner();
                    Ok((page.organizations, page.next_page_token))
                }
            })
            .await?;
            Rendered::new(Listed::new(organizations, next))
        }
        OrgCommand::Path {
            tenant,
            org,
            consistency_token,
        } => {
            let request = pb::GetOrganizationPathRequest {
                tenant_id: tenant,
                organization_id: org,
                consistency_token: consistency_token.unwrap_or_default(),
            };
            let path = c.get_organization_path(request).await?.into_inner();
            Rendered::new(OrgPath(path.organizations))
        }
        OrgCommand::Update {
            tenant,
            org,
            name,
            description,
            write,
        } => {
            let mut paths = Vec::new();
            if name.is_some() {
                paths.push("name".to_owned());
            }
            if description.is_some() {
                paths.push("description".to_owned());
            }
            let request = pb::UpdateOrganizationRequest {
                options: options(write),
                tenant_id: tenant,
                organization_id: org,
                organization: Some(pb::OrganizationUpdate {
                    name: name.unwrap_or_default(),
                    description: description.unwrap_or_default(),
                }),
                update_mask: Some(prost_types::FieldMask { paths }),
            };
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
