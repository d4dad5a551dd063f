//! One request per `entityctl` command: built from the arguments, sent, and its answer
//! wrapped for rendering. One module per resource group, mostly declarations over the shared
//! shapes here: [`listed`] pages a List RPC its module declares with `list_rpcs!`; requests
//! naming one or two entities and nothing more (or a new name and description) are built from
//! [`Read`], [`Write`], [`Link`] and [`Describe`] by the `From` impls `reads!`, `writes!`,
//! `links!` and `describes!` declare; [`one`] and [`written`] wrap the answers.

/// Declares List RPCs ([`ListRpc`]): `Request: Service.method -> items: Item`.
macro_rules! list_rpcs {
    ($($request:ty: $service:ident.$method:ident -> $items:ident: $item:ty),* $(,)?) => {$(
        impl super::ListRpc for $request {
            type Service = $service<crate::cli::entityctl::Authed>;
            type Item = $item;

            fn at(self, page_size: i32, page_token: String) -> Self {
                Self { page_size, page_token, ..self }
            }

            async fn call(
                service: &mut Self::Service,
                request: Self,
            ) -> Result<super::Page<$item>, tonic::Status> {
                let answer = service.$method(request).await?.into_inner();
                Ok((answer.$items, answer.next_page_token))
            }
        }
    )*};
}

/// Declares the Get requests built from a [`Read`]: `Kind => Request { id_field }`.
macro_rules! reads {
    ($($kind:ty => $request:ty { $id:ident }),* $(,)?) => {$(
        impl From<super::Read<$kind>> for $request {
            fn from(r: super::Read<$kind>) -> Self {
                Self {
                    tenant_id: r.tenant,
                    $id: r.id,
                    consistency_token: super::token(r.read),
                }
            }
        }
    )*};
}

/// Declares the write requests built from a [`Write`]: `Kind => Request { id_field }`.
macro_rules! writes {
    ($($kind:ty => $request:ty { $id:ident }),* $(,)?) => {$(
        impl From<super::Write<$kind>> for $request {
            fn from(w: super::Write<$kind>) -> Self {
                Self {
                    options: super::options(w.write),
                    tenant_id: w.tenant,
                    $id: w.id,
                }
            }
        }
    )*};
}

/// Declares the write requests built from a [`Link`]:
/// `(Kind, OtherKind) => Request { id_field, other_id_field }`.
macro_rules! links {
    ($(($kind:ty, $other_kind:ty) => $request:ty { $id:ident, $other:ident }),* $(,)?) => {$(
        impl From<super::Link<$kind, $other_kind>> for $request {
            fn from(l: super::Link<$kind, $other_kind>) -> Self {
                Self {
                    options: super::options(l.write),
                    tenant_id: l.tenant,
                    $id: l.id,
                    $other: l.other,
                }
            }
        }
    )*};
}

/// Declares the update requests built from a [`Describe`]:
/// `Kind => Request { id_field, update_field: pb::Update }`.
macro_rules! describes {
    ($($kind:ty => $request:ty { $id:ident, $field:ident: pb::$update:ident }),* $(,)?) => {$(
        impl From<super::Describe<$kind>> for $request {
            fn from(d: super::Describe<$kind>) -> Self {
                let update_mask = super::mask(&[
                    ("name", d.name.is_some()),
                    ("description", d.description.is_some()),
                ]);
                Self {
                    options: super::options(d.write),
                    tenant_id: d.tenant,
                    $id: d.id,
                    $field: Some(pb::$update {
                        name: d.name.unwrap_or_default(),
                        description: d.description.unwrap_or_default(),
                    }),
                    update_mask,
                }
            }
        }
    )*};
}

mod access;
mod admin;
mod analytics;
mod api_key;
mod audit;
mod client;
mod customer;
mod directory;
mod organization;
mod registration;
mod role;
mod search;
mod team;
mod tenant;
mod user;

use std::{borrow::Cow, future::Future};

use entity_proto::v1 as pb;
use tonic::Status;

use super::{
    Failure, Services,
    args::{
        AddressOpts, Command, Describe, Link, PageOpts, ProfileOpts, Read, ReadOpts, RoleSpec,
        ScopeSpec, Write, WriteOpts,
    },
    render::{Assignments, Listed, One, Rendered, Resource, View, WriteAnswer, Written},
};

/// Runs one command.
pub(super) async fn run(services: &mut Services, command: Command) -> Result<Rendered, Failure> {
    match command {
        Command::Tenant(command) => tenant::run(services, command).await,
        Command::Org(command) => organization::run(services, command).await,
        Command::Team(command) => team::run(services, command).await,
        Command::User(command) => user::run(services, command).await,
        Command::Role(command) => role::run(services, command).await,
        Command::Client(command) => client::run(services, command).await,
        Command::Department(command) => directory::run(services, command).await,
        Command::Location(command) => directory::run(services, command).await,
        Command::Contact(command) => directory::run(services, command).await,
        Command::Partition(command) => directory::run(services, command).await,
        Command::PartitionGroup(command) => directory::run(services, command).await,
        Command::ApiKey(command) => api_key::run(services, command).await,
        Command::Registration(command) => registration::run(services, command).await,
        Command::Customer(command) => customer::run(services, command).await,
        Command::Search(command) => search::run(services, command).await,
        Command::Access(command) => access::run(services, command).await,
        Command::Audit(command) => audit::run(services, command).await,
        Command::Admin(command) => admin::run(services, command).await,
        Command::Analytics(command) => analytics::run(services, command).await,
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

/// A List RPC (declared with `list_rpcs!`): how its request asks for a page, and the call.
trait ListRpc: Clone {
    /// The client of its service.
    type Service: Clone;
    /// What it lists.
    type Item;
    /// The request for the page of `page_size` items at `page_token`.
    fn at(self, page_size: i32, page_token: String) -> Self;
    /// Sends the request: the page's items and the next page's token.
    async fn call(service: &mut Self::Service, request: Self) -> Result<Page<Self::Item>, Status>;
}

/// The items `request` selects, the pages `page` asks for.
async fn list<Q: ListRpc>(
    service: &Q::Service,
    request: Q,
    page: PageOpts,
) -> Result<Page<Q::Item>, Failure> {
    pages(page, |page_size, page_token| {
        let mut service = service.clone();
        let request = request.clone().at(page_size, page_token);
        async move { Q::call(&mut service, request).await }
    })
    .await
}

/// The resources `request` selects, the pages `page` asks for, as a listing.
async fn listed<Q>(service: &Q::Service, request: Q, page: PageOpts) -> Result<Rendered, Failure>
where
    Q: ListRpc,
    Q::Item: Resource + Send + 'static,
{
    let (items, next) = list(service, request, page).await?;
    Ok(Rendered::new(Listed::new(items, next)))
}

/// Lists the role assignments `request` selects, the pages `page` asks for; `of_user` when
/// they are one user's (`user roles`), else a tenant-wide listing (`role assignments`).
async fn role_assignments(
    services: &Services,
    request: pb::ListRoleAssignmentsRequest,
    page: PageOpts,
    of_user: bool,
) -> Result<Rendered, Failure> {
    let (assignments, next) = list(&services.users, request, page).await?;
    Ok(Rendered::new(Assignments {
        assignments,
        next_page_token: next,
        of_user,
    }))
}

/// The answer to a read of one resource.
fn one<R>(answer: tonic::Response<R>) -> Rendered
where
    One<R>: View + Send + 'static,
{
    Rendered::new(One(answer.into_inner()))
}

/// The answer to a write that `verb`-ed its resource.
fn written<W>(verb: impl Into<Cow<'static, str>>, answer: tonic::Response<W>) -> Rendered
where
    W: WriteAnswer + Send + 'static,
{
    Rendered::new(Written::new(verb, answer.into_inner()))
}

/// The consistency token of a read ("" for none).
fn token(read: ReadOpts) -> String {
    read.consistency_token.unwrap_or_default()
}

/// The business profile the flags describe, if any was given.
fn profile_proto(profile: ProfileOpts) -> Option<pb::BusinessProfile> {
    profile.given().then(|| pb::BusinessProfile {
        legal_name: profile.legal_name.unwrap_or_default(),
        address: address_proto(profile.address),
        ..Default::default()
    })
}

/// The address the flags describe, if any was given.
fn address_proto(address: AddressOpts) -> Option<pb::Address> {
    address.given().then(|| pb::Address {
        line1: address.line1.unwrap_or_default(),
        line2: address.line2.unwrap_or_default(),
        city: address.city.unwrap_or_default(),
        region: address.region.unwrap_or_default(),
        postal_code: address.postal_code.unwrap_or_default(),
        country: address.country.unwrap_or_default(),
    })
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
