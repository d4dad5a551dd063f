//! `entity.v1.SearchService`: SearchCustomers and CreateSearchKey (issue 20).

use entity_proto::v1::{self as pb, search_service_server::SearchService};
use projections::SearchScope;
use tonic::{Request, Response, Status};

use super::{Shared, strip};
use crate::{
    auth::{Caller, Target},
    convert::{self, search},
    search_key::{self, SearchGrant},
    status,
};

/// The SearchService implementation.
#[derive(Clone)]
pub struct SearchApi {
    shared: Shared,
}

impl SearchApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

/// The target a search of `scope` is authorized against: its tenant (OWN_CLIENTS), or none
/// (platform-wide scopes, which only platform admins pass).
fn target_of(scope: SearchScope) -> Target {
    Target {
        tenant: scope.tenant(),
        ..Target::default()
    }
}

/// The caller a request was authenticated as.
fn caller_of<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("request was not authenticated"))
}

/// A search key's own scope, which a request may repeat but not change.
fn keyed_scope(grant: &SearchGrant, named: Option<SearchScope>) -> Result<SearchScope, Status> {
    match named {
        Some(scope) if scope != grant.scope => Err(status::refusal(
            tonic::Code::PermissionDenied,
            "SEARCH_KEY_SCOPE",
            "the search key allows another scope than the request names",
        )),
        _ => Ok(grant.scope),
    }
}

#[tonic::async_trait]
impl SearchService for SearchApi {
    async fn search_customers(
        &self,
        request: Request<pb::SearchCustomersRequest>,
    ) -> Result<Response<pb::SearchCustomersResponse>, Status> {
        let caller = caller_of(&request)?;
        let query = search::search(request.get_ref().clone())?;
        let (scope, key_filter) = match &caller.search_grant {
            Some(grant) => (keyed_scope(grant, query.scope)?, Some(grant.filter.clone())),
            None => (search::effective_scope(&caller, query.scope)?, None),
        };
        let target = match caller.search_grant {
            Some(_) => Target::default(),
            None => target_of(scope),
        };
        let page = self
            .shared
            .read_model(request, target, |r| async move {
                r.search_customers(
                    scope,
                    key_filter,
                    query.filter,
                    &query.page,
                    query.consistency,
                )
                .await
            })
            .await?;
        Ok(Response::new(pb::SearchCustomersResponse {
            hits: page.items.iter().map(search::hit_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn create_search_key(
        &self,
        request: Request<pb::CreateSearchKeyRequest>,
    ) -> Result<Response<pb::CreateSearchKeyResponse>, Status> {
        let caller = caller_of(&request)?;
        let new = search::new_key(request.get_ref().clone(), chrono::Utc::now())?;
        let scope = search::effective_scope(&caller, new.scope)?;
        self.shared
            .authorize(strip(request), target_of(scope))
            .await?;
        new.filter.check().map_err(status::from_read_error)?;
        let grant = SearchGrant {
            scope,
            filter: new.filter,
            valid_until: new.valid_until,
        };
        let key = search_key::issue(self.shared.engine.vault().master(), &grant)
            .map_err(|e| Status::internal(format!("cannot encode a search key: {e}")))?;
        Ok(Response::new(pb::CreateSearchKeyResponse {
            search_key: key,
            scope: search::scope_to_proto(scope) as i32,
            tenant_id: scope.tenant().map(|t| t.to_string()).unwrap_or_default(),
            valid_until: Some(convert::timestamp(grant.valid_until)),
        }))
    }
}
