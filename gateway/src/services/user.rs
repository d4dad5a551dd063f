//! `entity.v1.UserService`.
//!
//! Invitation tokens are issued here (never inside the domain): the command carries only the
//! token's hash, and the plain token goes back to the caller once, in the answer to the call
//! that issued it. A replayed call cannot show it again (the stored hash is the first
//! attempt's), so its answer carries none.

use engine::{
    domain::UserId,
    runtime::{CommandOutcome, EntityView},
    secrets::issue_invitation_token,
};
use entity_proto::v1::{self as pb, user_service_server::UserService};
use tonic::{Request, Response, Status};

use super::{Answer, AuthTarget, Shared, answer, registration};
use crate::{
    auth::Target,
    convert::{self, reads},
};

/// The UserService implementation.
#[derive(Clone)]
pub struct UserApi {
    shared: Shared,
}

impl UserApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

/// The answer to a user write, without an invitation token (see [`with_invitation`]).
impl Answer for pb::UserResponse {
    fn answer(outcome: &CommandOutcome) -> Option<Self> {
        let EntityView::User(user) = &outcome.view else {
            return None;
        };
        Some(pb::UserResponse {
            user: Some(convert::user::to_proto(user)),
            result: Some(convert::write_result(outcome)),
            invitation_token: String::new(),
        })
    }
}

type UserResult = Result<Response<pb::UserResponse>, Status>;

#[tonic::async_trait]
impl UserService for UserApi {
    async fn invite_user(&self, request: Request<pb::InviteUserRequest>) -> UserResult {
        let id = UserId::new_v7();
        let token = issue_invitation_token(id);
        let hash = token.hash;
        let outcome = self
            .shared
            .execute(request, AuthTarget::Tenant, "", |r| {
                convert::user::invite(r, id, hash)
            })
            .await?;
        with_invitation(&outcome, Some(token.plaintext))
    }

    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let (tenant_id, id) = convert::user::get(request.get_ref())?;
        let target = Target {
            user: Some(id),
            ..Target::tenant(tenant_id)
        };
        let user = self
            .shared
            .read_engine(request, target, |e| e.get_user(tenant_id, id))
            .await?;
        Ok(Response::new(convert::user::to_proto(&user)))
    }

    /// Scans the tenant's users in id order inside its actor (O(users), no index until the
    /// user directory read model exists); only the page is copied out.
    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let (tenant_id, query) = reads::list_users(request.get_ref())?;
        let target = Target {
            organization: query.filter.organization_id,
            ..Target::tenant(tenant_id)
        };
        let page = self
            .shared
            .read_model(request, target, |r| async move {
                r.list_users(tenant_id, &query.filter, &query.page, query.consistency)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListUsersResponse {
            users: page.items.iter().map(reads::user_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn accept_invitation(&self, request: Request<pb::AcceptInvitationRequest>) -> UserResult {
        self.shared.mutate(request, "", convert::user::accept).await
    }

    async fn resend_invitation(&self, request: Request<pb::ResendInvitationRequest>) -> UserResult {
        let mut plaintext = None;
        let outcome = self
            .shared
            .execute(request, AuthTarget::Tenant, "", |r| {
                convert::user::resend(r, |id| {
                    let token = issue_invitation_token(id);
                    plaintext = Some(token.plaintext);
                    token.hash
                })
            })
            .await?;
        with_invitation(&outcome, plaintext)
    }

    async fn revoke_invitation(&self, request: Request<pb::RevokeInvitationRequest>) -> UserResult {
        self.shared.mutate(request, "", convert::user::revoke).await
    }

    async fn update_user_profile(
        &self,
        request: Request<pb::UpdateUserProfileRequest>,
    ) -> UserResult {
        self.shared
            .mutate(request, "user.", convert::user::update_profile)
            .await
    }

    /// Finds the tenant (named, by custom host, or by the verified email domain), then runs
    /// the registration there: the person themself or an inviter is authorized with the email.
    async fn register_user(&self, request: Request<pb::RegisterUserRequest>) -> UserResult {
        let route = convert::registration::register_route(request.get_ref())?;
        // A person registering themself joins only a tenant that holds their email's domain
        // (or the host): a tenant id of their choosing is checked against it before the
        // engine is asked (no tenant is loaded, or probed, for them).
        let by_person = request
            .extensions()
            .get::<crate::auth::Caller>()
            .is_some_and(|c| !c.platform_admin && c.verified_as(&request.get_ref().email));
        let tenant_id = match (&route, by_person) {
            (convert::registration::RegistrationRoute::Tenant(named), true) => {
                let claimed = convert::registration::route_by_claims(request.get_ref());
                let holder = registration::route_tenant(&self.shared, &claimed).await?;
                match holder {
                    Some(holder) if holder == *named => Some(holder),
                    _ => None,
                }
            }
            _ => registration::route_tenant(&self.shared, &route).await?,
        };
        let Some(tenant_id) = tenant_id else {
            return Err(registration::nobody_accepts(&route));
        };
        let email = request.get_ref().email.clone();
        let id = UserId::new_v7();
        let outcome = self
            .shared
            .execute(request, AuthTarget::Registrant(email), "", |r| {
                convert::registration::register(r, tenant_id, id)
            })
            .await?;
        answer(&outcome)
    }

    async fn get_user_claims(
        &self,
        request: Request<pb::GetUserClaimsRequest>,
    ) -> Result<Response<pb::UserClaims>, Status> {
        let (tenant_id, id) = convert::registration::get_claims(request.get_ref())?;
        let target = Target {
            user: Some(id),
            ..Target::tenant(tenant_id)
        };
        let claims = self
            .shared
            .read_engine(request, target, |e| e.user_claims(tenant_id, id))
            .await?;
        Ok(Response::new(convert::registration::claims_to_proto(
            &claims,
        )))
    }

    async fn set_user_client(&self, request: Request<pb::SetUserClientRequest>) -> UserResult {
        self.shared
            .mutate(request, "", convert::user::set_client)
            .await
    }

    async fn deactivate_user(&self, request: Request<pb::DeactivateUserRequest>) -> UserResult {
        self.shared
            .mutate(request, "", convert::user::deactivate)
            .await
    }

    async fn reactivate_user(&self, request: Request<pb::ReactivateUserRequest>) -> UserResult {
        self.shared
            .mutate(request, "", convert::user::reactivate)
            .await
    }

    async fn add_organization_member(
        &self,
        request: Request<pb::AddOrganizationMemberRequest>,
    ) -> UserResult {
        self.shared
            .mutate(request, "", convert::user::add_organization)
            .await
    }

    async fn remove_organization_member(
        &self,
        request: Request<pb::RemoveOrganizationMemberRequest>,
    ) -> UserResult {
        self.shared
            .mutate(request, "", convert::user::remove_organization)
            .await
    }

    async fn assign_role(&self, request: Request<pb::AssignRoleRequest>) -> UserResult {
        self.shared
            .mutate(request, "", convert::user::assign_role)
            .await
    }

    async fn revoke_role(&self, request: Request<pb::RevokeRoleRequest>) -> UserResult {
        self.shared
            .mutate(request, "", convert::user::revoke_role)
            .await
    }

    async fn erase_user(&self, request: Request<pb::EraseUserRequest>) -> UserResult {
        self.shared.mutate(request, "", convert::user::erase).await
    }

    async fn list_role_assignments(
        &self,
        request: Request<pb::ListRoleAssignmentsRequest>,
    ) -> Result<Response<pb::ListRoleAssignmentsResponse>, Status> {
        let (tenant_id, query) = reads::list_role_assignments(request.get_ref())?;
        let target = Target {
            user: query.filter.user_id,
            ..Target::tenant(tenant_id)
        };
        let page = self
            .shared
            .read_model(request, target, |r| async move {
                r.list_role_assignments(tenant_id, &query.filter, &query.page, query.consistency)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListRoleAssignmentsResponse {
            assignments: page.items.iter().map(reads::assignment_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }
}

/// The answer to a user write that issued an invitation token: it carries the token unless
/// the call was a replay (whose stored hash belongs to the first attempt's token).
fn with_invitation(outcome: &CommandOutcome, issued_token: Option<String>) -> UserResult {
    let mut response: Response<pb::UserResponse> = answer(outcome)?;
    response.get_mut().invitation_token = issued_token
        .filter(|_| !outcome.replayed)
        .unwrap_or_default();
    Ok(response)
}
