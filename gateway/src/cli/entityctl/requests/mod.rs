//! One request per `entityctl` command: built from the arguments, sent, and its answer
//! wrapped for rendering. One module per resource group.

mod access;
mod organization;
mod role;
mod team;
mod tenant;
mod user;

use entity_proto::v1 as pb;

use super::{
    Clients, Failure,
    args::{Command, RoleSpec, ScopeSpec, WriteOpts},
    render::{Rendered, WriteAnswer, Written},
};

/// Runs one command.
pub(super) async fn run(clients: &mut Clients, command: Command) -> Result<Rendered, Failure> {
    match command {
        Command::Tenant(command) => tenant::run(clients, command).await,
        Command::Org(command) => organization::run(clients, command).await,
        Command::Team(command) => team::run(clients, command).await,
        Command::User(command) => user::run(clients, command).await,
        Command::Role(command) => role::run(clients, command).await,
        Command::Access(command) => access::run(clients, command).await,
    }
}

/// The answer to a write that `verb`-ed its resource.
fn written<W>(verb: &'static str, answer: tonic::Response<W>) -> Rendered
where
    W: WriteAnswer + Send + 'static,
{
    Rendered::new(Written::new(verb, answer.into_inner()))
}

fn options(write: WriteOpts) -> Option<pb::MutationOptions> {
    Some(pb::MutationOptions {
        request_id: write.request_id.unwrap_or_default(),
        expected_version: write.expected_version,
    })
}

fn scope_proto(scope: ScopeSpec) -> pb::Scope {
    let (kind, id) = match scope {
        ScopeSpec::Tenant => (pb::ScopeKind::Tenant, String::new()),
        ScopeSpec::Organization(id) => (pb::ScopeKind::Organization, id),
        ScopeSpec::Team(id) => (pb::ScopeKind::Team, id),
    };
    pb::Scope {
        kind: kind as i32,
        id,
    }
}

fn assignment_proto(spec: RoleSpec) -> pb::RoleAssignment {
    pb::RoleAssignment {
        role: spec.role,
        scope: Some(scope_proto(spec.scope)),
    }
}

/// A field mask of the paths whose value was given.
fn mask(paths: &[(&str, bool)]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths
            .iter()
            .filter(|(_, given)| *given)
            .map(|(path, _)| (*path).to_owned())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_specs_become_assignments() {
        let a = assignment_proto("org-admin@org:O1".parse().unwrap());
        assert_eq!(a.role, "org-admin");
        let scope = a.scope.unwrap();
        assert_eq!(
            (scope.kind, scope.id.as_str()),
            (pb::ScopeKind::Organization as i32, "O1")
        );
        let tenant = assignment_proto("viewer".parse().unwrap()).scope.unwrap();
        assert_eq!(
            (tenant.kind, tenant.id.as_str()),
            (pb::ScopeKind::Tenant as i32, "")
        );
        assert_eq!(
            mask(&[("name", true), ("description", false)])
                .unwrap()
                .paths,
            ["name"]
        );
    }
}
