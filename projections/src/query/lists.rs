//! List and search queries over the read models.

use engine::{
    domain::{Client, OrganizationId, Record, RecordKind, TeamId, TenantId, UserId},
    journal::CommitToken,
};
use uuid::Uuid;

use super::{
    Page, PageRequest, ReadModels,
    page::{Cursor, fingerprint},
    params::{
        AssignmentParams, ClientParams, OrganizationParams, OrganizationScope, RecordParams,
        TeamMemberParams, TeamParams, TenantParams, UserParams, like_pattern,
    },
    statements,
    types::{
        ClientFilter, MatchMode, OrganizationEntry, OrganizationFilter, OrganizationSelection,
        OwnerFilter, RecordFilter, RoleAssignmentEntry, RoleAssignmentFilter, TeamEntry,
        TeamFilter, TeamMemberEntry, TeamMemberFilter, TenantEntry, TenantFilter, UserEntry,
        UserFilter,
    },
};
use crate::{
    Error, Result,
    models::{enum_text, names, scope_key},
};

/// Longest search text accepted.
const MAX_SEARCH_TEXT: usize = 200;

/// A search text as a LIKE pattern (`None` when absent or empty).
fn search_pattern(text: Option<&str>, prefix_only: bool) -> Result<Option<String>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > MAX_SEARCH_TEXT => Err(Error::InvalidArgument(format!(
            "search text is longer than {MAX_SEARCH_TEXT} characters"
        ))),
        Some(t) => Ok(Some(like_pattern(t, prefix_only))),
    }
}

/// A UUID part of a page token.
fn key_uuid(cursor: &Cursor, i: usize) -> Result<Option<Uuid>> {
    cursor
        .key(i)
        .map(|k| Uuid::parse_str(k).map_err(|_| Error::InvalidPageToken("malformed token".into())))
        .transpose()
}

/// A UUID part that must be there when the cursor continues.
fn required_uuid(cursor: &Cursor, i: usize) -> Result<Uuid> {
    key_uuid(cursor, i)?.ok_or_else(|| Error::InvalidPageToken("malformed token".into()))
}

/// An optional non-empty string filter.
fn non_empty(value: Option<&String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl ReadModels {
    /// Lists tenants (the operators' directory), ordered by slug, filtered by status and plan
    /// and searched by name or slug.
    ///
    /// # Errors
    /// [`Error::Unavailable`] (consistency token not reached, store down),
    /// [`Error::InvalidPageToken`], [`Error::InvalidArgument`].
    pub async fn list_tenants(
        &self,
        filter: &TenantFilter,
        page: &PageRequest,
        consistency: Option<CommitToken>,
    ) -> Result<Page<TenantEntry>> {
        self.ensure_consistent(&[names::TENANT_DIRECTORY], consistency)
            .await?;
        let cursor = Cursor::new(page, fingerprint("tenants", filter), 1)?;
        let params = TenantParams {
            status: filter.status.as_ref().map(enum_text).transpose()?,
            plan: filter.plan.as_ref().map(enum_text).transpose()?,
            pattern: search_pattern(filter.text.as_deref(), filter.mode == MatchMode::Prefix)?,
            after_slug: cursor.key(0).map(str::to_owned),
            limit: cursor.limit(),
        };
        let rows = statements::list_tenants(&self.store, &params).await?;
        Ok(cursor.page(rows, |t| vec![t.slug.clone()]))
    }

    /// One organization of the read model, or [`Error::NotFound`].
    async fn organization(
        &self,
        tenant_id: TenantId,
        id: OrganizationId,
    ) -> Result<OrganizationEntry> {
        statements::get_organization(&self.store, tenant_id.0, id.0)
            .await?
            .ok_or_else(|| Error::NotFound {
                resource: "organization",
                id: id.to_string(),
            })
    }

    /// Lists a tenant's organizations (all, roots, children of one, or the whole subtree below
    /// one), ordered by id.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown anchor organization; as
    /// [`list_tenants`](Self::list_tenants) otherwise.
    pub async fn list_organizations(
        &self,
        tenant_id: TenantId,
        filter: &OrganizationFilter,
        page: &PageRequest,
        consistency: Option<CommitToken>,
    ) -> Result<Page<OrganizationEntry>> {
        self.ensure_consistent(&[names::ORGANIZATIONS], consistency)
            .await?;
        let cursor = Cursor::new(page, fingerprint("organizations", &(tenant_id, filter)), 1)?;
        let scope = match filter.selection {
            OrganizationSelection::All => OrganizationScope::All,
            OrganizationSelection::Roots => OrganizationScope::Roots,
            OrganizationSelection::ChildrenOf(parent) => {
                self.organization(tenant_id, parent).await?;
                OrganizationScope::Children(parent.0)
            }
            OrganizationSelection::DescendantsOf(root) => {
                let root = self.organization(tenant_id, root).await?;
                OrganizationScope::Descendants(path_text(&root.path))
            }
        };
        let params = OrganizationParams {
            tenant_id: tenant_id.0,
            scope,
            include_deleted: filter.include_deleted,
            after_id: key_uuid(&cursor, 0)?,
            limit: cursor.limit(),
        };
        let rows = statements::list_organizations(&self.store, &params).await?;
        Ok(cursor.page(rows, |o| vec![o.id.to_string()]))
    }

    /// The ancestors of an organization, root first (itself excluded; empty for a root).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown organization; [`Error::Unavailable`].
    pub async fn organization_ancestors(
        &self,
        tenant_id: TenantId,
        id: OrganizationId,
        consistency: Option<CommitToken>,
    ) -> Result<Vec<OrganizationEntry>> {
        let mut path = self.organization_path(tenant_id, id, consistency).await?;
        path.pop();
        Ok(path)
    }

    /// The path of an organization: its ancestors, root first, then itself.
    ///
    /// # Errors
    /// As [`organization_ancestors`](Self::organization_ancestors).
    pub async fn organization_path(
        &self,
        tenant_id: TenantId,
        id: OrganizationId,
        consistency: Option<CommitToken>,
    ) -> Result<Vec<OrganizationEntry>> {
        self.ensure_consistent(&[names::ORGANIZATIONS], consistency)
            .await?;
        let org = self.organization(tenant_id, id).await?;
        let ancestors =
            statements::organization_ancestors(&self.store, tenant_id.0, &path_text(&org.path))
                .await?;
        let expected = org.path.len().saturating_sub(1);
        if ancestors.len() != expected {
            return Err(Error::Inconsistent {
                model: names::ORGANIZATIONS,
                message: format!(
                    "organization {id} has {expected} ancestors in its path but {} rows",
                    ancestors.len()
                ),
            });
        }
        let mut path = ancestors;
        path.push(org);
        Ok(path)
    }

    /// Lists a tenant's teams (of one organization, if given), ordered by id.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown organization; as [`list_tenants`](Self::list_tenants)
    /// otherwise.
    pub async fn list_teams(
        &self,
        tenant_id: TenantId,
        filter: &TeamFilter,
        page: &PageRequest,
        consistency: Option<CommitToken>,
    ) -> Result<Page<TeamEntry>> {
        let cursor = Cursor::new(page, fingerprint("teams", &(tenant_id, filter)), 1)?;
        if let Some(organization) = filter.organization_id {
            self.ensure_consistent(&[names::TEAMS, names::ORGANIZATIONS], consistency)
                .await?;
            self.organization(tenant_id, organization).await?;
        } else {
            self.ensure_consistent(&[names::TEAMS], consistency).await?;
        }
        let params = TeamParams {
            tenant_id: tenant_id.0,
            organization_id: filter.organization_id.map(|o| o.0),
            include_deleted: filter.include_deleted,
            after_id: key_uuid(&cursor, 0)?,
            limit: cursor.limit(),
        };
        let rows = statements::list_teams(&self.store, &params).await?;
        Ok(cursor.page(rows, |t| vec![t.id.to_string()]))
    }

    /// Lists members of live teams (of one team, and/or one user's memberships), ordered by
    /// (team, user).
    ///
    /// # Errors
    /// As [`list_tenants`](Self::list_tenants).
    pub async fn list_team_members(
        &self,
        tenant_id: TenantId,
        filter: &TeamMemberFilter,
        page: &PageRequest,
        consistency: Option<CommitToken>,
    ) -> Result<Page<TeamMemberEntry>> {
        self.ensure_consistent(&[names::TEAMS], consistency).await?;
        let cursor = Cursor::new(page, fingerprint("team_members", &(tenant_id, filter)), 2)?;
        let after = match cursor.after {
            Some(_) => Some((required_uuid(&cursor, 0)?, required_uuid(&cursor, 1)?)),
            None => None,
        };
        let params = TeamMemberParams {
            tenant_id: tenant_id.0,
            team_id: filter.team_id.map(|t: TeamId| t.0),
            user_id: filter.user_id.map(|u: UserId| u.0),
            after,
            limit: cursor.limit(),
        };
        let rows = statements::list_team_members(&self.store, &params).await?;
        Ok(cursor.page(rows, |m| vec![m.team_id.to_string(), m.user_id.to_string()]))
    }

    /// Searches a tenant's user directory: text in the display name or email, filters on
    /// status, organization membership and role; ordered by email (case-insensitive), then id.
    ///
    /// # Errors
    /// As [`list_tenants`](Self::list_tenants).
    pub async fn list_users(
        &self,
        tenant_id: TenantId,
        filter: &UserFilter,
        page: &PageRequest,
        consistency: Option<CommitToken>,
    ) -> Result<Page<UserEntry>> {
        let role = non_empty(filter.role.as_ref());
        let models: &[&str] = if role.is_some() {
            &[names::USERS, names::ROLE_ASSIGNMENTS]
        } else {
            &[names::USERS]
        };
        self.ensure_consistent(models, consistency).await?;
        let cursor = Cursor::new(page, fingerprint("users", &(tenant_id, filter)), 2)?;
        let after = match cursor.key(0) {
            Some(email) => Some((email.to_owned(), required_uuid(&cursor, 1)?)),
            None => None,
        };
        let params = UserParams {
            tenant_id: tenant_id.0,
            pattern: search_pattern(filter.text.as_deref(), false)?,
            status: filter.status.as_ref().map(enum_text).transpose()?,
            organization_id: filter.organization_id.map(|o| o.0),
            role,
            after,
            limit: cursor.limit(),
        };
        let rows = statements::list_users(&self.store, &params).await?;
        let mut page = cursor.page(rows, |(u, email_lower)| {
            vec![email_lower.clone(), u.id.to_string()]
        });
        let ids: Vec<Uuid> = page.items.iter().map(|(u, _)| u.id.0).collect();
        let memberships = statements::user_organizations(&self.store, &ids).await?;
        let items = page
            .items
            .drain(..)
            .map(|(mut user, _)| {
                user.organization_ids = memberships
                    .iter()
                    .filter(|(u, _)| *u == user.id.0)
                    .map(|(_, o)| OrganizationId(*o))
                    .collect();
                user
            })
            .collect();
        Ok(Page {
            items,
            next_page_token: page.next_page_token,
        })
    }

    /// Lists a tenant's role assignments (per user, per role, per exact scope), ordered by
    /// (user, role, scope).
    ///
    /// # Errors
    /// As [`list_tenants`](Self::list_tenants).
    pub async fn list_role_assignments(
        &self,
        tenant_id: TenantId,
        filter: &RoleAssignmentFilter,
        page: &PageRequest,
        consistency: Option<CommitToken>,
    ) -> Result<Page<RoleAssignmentEntry>> {
        self.ensure_consistent(&[names::ROLE_ASSIGNMENTS], consistency)
            .await?;
        let cursor = Cursor::new(
            page,
            fingerprint("role_assignments", &(tenant_id, filter)),
            4,
        )?;
        let after = match (cursor.key(1), cursor.key(2)) {
            (Some(role), Some(kind)) => Some((
                required_uuid(&cursor, 0)?,
                role.to_owned(),
                kind.to_owned(),
                required_uuid(&cursor, 3)?,
            )),
            _ => None,
        };
        let params = AssignmentParams {
            tenant_id: tenant_id.0,
            user_id: filter.user_id.map(|u| u.0),
            role: non_empty(filter.role.as_ref()),
            scope: filter.scope.map(|s| scope_key(tenant_id.0, s)),
            after,
            limit: cursor.limit(),
        };
        let rows = statements::list_role_assignments(&self.store, &params).await?;
        Ok(cursor.page(rows, |a| {
            let (kind, id) = scope_key(tenant_id.0, a.scope);
            vec![
                a.user_id.to_string(),
                a.role.clone(),
                kind.to_owned(),
                id.to_string(),
            ]
        }))
    }

    /// Lists a tenant's clients, ordered by id: the live ones (active and disabled), or those
    /// of one status (deleted: the tombstones); optionally only those of one external id.
    ///
    /// # Errors
    /// As [`list_tenants`](Self::list_tenants).
    pub async fn list_clients(
        &self,
        tenant_id: TenantId,
        filter: &ClientFilter,
        page: &PageRequest,
        consistency: Option<CommitToken>,
    ) -> Result<Page<Client>> {
        self.ensure_consistent(&[names::CLIENTS], consistency)
            .await?;
        let cursor = Cursor::new(page, fingerprint("clients", &(tenant_id, filter)), 1)?;
        let params = ClientParams {
            tenant_id: tenant_id.0,
            status: filter.status.as_ref().map(enum_text).transpose()?,
            external_id: filter.external_id.clone(),
            after_id: key_uuid(&cursor, 0)?,
            limit: cursor.limit(),
        };
        let rows = statements::list_clients(&self.store, &params).await?;
        Ok(cursor.page(rows, |c| vec![c.id.to_string()]))
    }

    /// Lists a tenant's records of one kind (departments, locations or contacts), ordered by
    /// id: the tenant's and its clients', or one owner's; optionally only the active or the
    /// inactive ones, and contacts of one type (case-insensitive). Deleted records are not
    /// listed.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a contact type with another kind than contacts; as
    /// [`list_tenants`](Self::list_tenants) otherwise.
    pub async fn list_records(
        &self,
        tenant_id: TenantId,
        kind: RecordKind,
        filter: &RecordFilter,
        page: &PageRequest,
        consistency: Option<CommitToken>,
    ) -> Result<Page<Record>> {
        // Stored lower-cased, as the domain normalizes them.
        let contact_type = non_empty(filter.contact_type.as_ref()).map(|t| t.to_ascii_lowercase());
        if contact_type.is_some() && kind != RecordKind::Contact {
            return Err(Error::InvalidArgument(format!(
                "a contact type filters contacts only, not {}s",
                kind.as_str()
            )));
        }
        self.ensure_consistent(&[names::RECORDS], consistency)
            .await?;
        let cursor = Cursor::new(page, fingerprint("records", &(tenant_id, kind, filter)), 1)?;
        let (owner, client_id) = match filter.owner {
            OwnerFilter::Any => ("any", None),
            OwnerFilter::Tenant => ("tenant", None),
            OwnerFilter::Client(client) => ("client", Some(client.0)),
        };
        let params = RecordParams {
            tenant_id: tenant_id.0,
            kind: kind.as_str(),
            owner,
            client_id,
            active: filter.active,
            contact_type,
            after_id: key_uuid(&cursor, 0)?,
            limit: cursor.limit(),
        };
        let rows = statements::list_records(&self.store, &params).await?;
        Ok(cursor.page(rows, |r| vec![r.id.to_string()]))
    }
}

/// The stored path of an organization.
fn path_text(path: &[OrganizationId]) -> String {
    path.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("/")
}
