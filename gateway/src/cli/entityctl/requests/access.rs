//! `entityctl access …` requests.

use entity_proto::v1 as pb;

use super::{scope_proto, token};
use crate::cli::entityctl::{
    Failure, Services,
    args::AccessCommand,
    render::{Check, Effective, Rendered},
};

/// Runs an access command. A denied check is an answer, not a failure (exit code 0).
pub(super) async fn run(
    services: &mut Services,
    command: AccessCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.access;
    let rendered = match command {
        AccessCommand::Check {
            tenant,
            user,
            permission,
            scope,
            read,
        } => {
            let request = pb::CheckPermissionRequest {
                tenant_id: tenant,
                user_id: user,
                permission,
                scope: scope.scope().map(scope_proto),
                consistency_token: token(read),
            };
            Rendered::new(Check(c.check_permission(request).await?.into_inner()))
        }
        AccessCommand::List {
            tenant,
            user,
            scope,
        } => {
            let request = pb::ListEffectivePermissionsRequest {
                tenant_id: tenant,
                user_id: user,
                scope: scope.scope().map(scope_proto),
                consistency_token: String::new(),
            };
            Rendered::new(Effective(
                c.list_effective_permissions(request).await?.into_inner(),
            ))
        }
    };
    Ok(rendered)
}
