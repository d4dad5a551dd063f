//! One request per `entityctl` command: built from the arguments, sent, and its answer
//! wrapped for rendering. One module per resource group.

mod access;
mod admin;
mod audit;
mod organization;
mod role;
mod team;
mod tenant;
mod user;

use std::future::Future;

use entity_proto::v1 as pb;
use tonic::Status;

use super::{
    Clients, Failure,
    args::{Command, PageOpts, RoleSpec, ScopeSpec, WriteOpts},
    render::{Assignments, Rendered, WriteAnswer, Written},
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
        Command::Audit(command) => audit::run(clients, command).await,
        Command::Admin(command) => admin::run(clients, command).await,
    }
}

/// One page of a listing: its items and the next page's token ("" on the last page).
type Page<T> = (Vec<T>, String);

/// Fetches the page `page` asks for; with `--all`, that page and every one after it.
///
/// `fetch(page_size, page_token)` sends one List request. Returns the items and the token of
/// the page after them ("" once the listing is complete).
async fn pages<T, F, Fut>(page: PageOpts, mut fetch: F) -> Result<Page<T>, Failure>
where
    F: FnMut(i32, String) -> Fut,
    Fut: Future<Output = Result<Page<T>, Status>>,
{
    let size = page.page_size.unwrap_or_default();
    let mut token = page.page_token.unwrap_or_default();
    let mut items = Vec::new();
    loop {
        let (batch, next) = fetch(size, token.clone()).await?;
        items.extend(batch);
        if !page.all || next.is_empty() {
            return Ok((items, next));
        }
        if next == token {
            return Err(Failure::Rpc(Status::internal(format!(
                "the server answered page token {token:?} with itself as the next one"
            ))));
        }
        token = next;
    }
}

/// Lists the role assignments `base` selects, the pages `page` asks for; `of_user` when they
/// are one user's (`user roles`), else a tenant-wide listing (`role assignments`).
async fn role_assignments(
    clients: &Clients,
    base: pb::ListRoleAssignmentsRequest,
    page: PageOpts,
    of_user: bool,
) -> Result<Rendered, Failure> {
    let users = clients.users.clone();
    let (assignments, next) = pages(page, |page_size, page_token| {
        let mut c = users.clone();
        let request = pb::ListRoleAssignmentsRequest {
            page_size,
            page_token,
            ..base.clone()
        };
        async move {
            let page = c.list_role_assignments(request).await?.into_inner();
            Ok((page.assignments, page.next_page_token))
        }
    })
    .await?;
    Ok(Rendered::new(Assignments {
        assignments,
        next_page_token: next,
        of_user,
    }))
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

    /// A listing of `0..n` served `size` at a time, page tokens being offsets.
    async fn serve(n: usize, size: i32, token: String) -> Result<Page<usize>, Status> {
        let start: usize = if token.is_empty() {
            0
        } else {
            token
                .parse()
                .map_err(|_| Status::invalid_argument("token"))?
        };
        let end = (start + usize::try_from(size).unwrap_or(0).max(1)).min(n);
        let next = if end < n {
            end.to_string()
        } else {
            String::new()
        };
        Ok(((start..end).collect(), next))
    }

    fn opts(size: i32, token: Option<&str>, all: bool) -> PageOpts {
        PageOpts {
            page_size: Some(size),
            page_token: token.map(str::to_owned),
            all,
        }
    }

    #[tokio::test]
    async fn all_follows_the_page_tokens_to_the_end() {
        let one = pages(opts(2, None, false), |s, t| serve(5, s, t)).await;
        assert!(matches!(one, Ok((ref v, ref next)) if *v == [0, 1] && next == "2"));
        let all = pages(opts(2, None, true), |s, t| serve(5, s, t)).await;
        assert!(matches!(all, Ok((ref v, ref next)) if *v == [0, 1, 2, 3, 4] && next.is_empty()));
        let rest = pages(opts(2, Some("3"), true), |s, t| serve(5, s, t)).await;
        assert!(matches!(rest, Ok((ref v, _)) if *v == [3, 4]));
        let stuck = pages(opts(2, None, true), |_, _| async {
            Ok((vec![1], "same".to_owned()))
        })
        .await;
        assert!(stuck.is_err(), "a repeated token ends the loop");
        let failed = pages(opts(2, Some("x"), true), |s, t| serve(5, s, t)).await;
        assert!(matches!(failed, Err(Failure::Rpc(s)) if s.code() == tonic::Code::InvalidArgument));
    }

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
