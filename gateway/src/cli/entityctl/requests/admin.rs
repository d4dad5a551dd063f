//! `entityctl admin …` requests.

use entity_proto::v1 as pb;

use crate::cli::entityctl::{
    Failure, Services,
    args::AdminCommand,
    render::{NodeView, Projections, Rebuilding, Rendered},
};

/// Runs an admin command.
pub(super) async fn run(
    services: &mut Services,
    command: AdminCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.admin;
    let rendered = match command {
        AdminCommand::Projections => {
            let answer = c
                .list_projections(pb::ListProjectionsRequest {})
                .await?
                .into_inner();
            Rendered::new(Projections(answer.projections))
        }
        AdminCommand::Node => {
            let answer = c
                .get_node_status(pb::GetNodeStatusRequest {})
                .await?
                .into_inner();
            Rendered::new(NodeView(answer))
        }
        AdminCommand::RebuildProjection { name } => {
            let request = pb::RebuildProjectionRequest { name: name.clone() };
            c.rebuild_projection(request).await?;
            Rendered::new(Rebuilding(name))
        }
    };
    Ok(rendered)
}
