//! SearchService requests → search scopes and filters, search hits → proto.

use chrono::{DateTime, Utc};
use engine::domain::{
    TenantId,
    classification::{Code, IndustryGroup, IndustrySector, SizeRange},
};
use entity_proto::v1 as pb;
use projections::{
    EntryKind, MAX_FILTER_VALUES, PageRequest, SearchFilter, SearchHit, SearchScope,
};
use tonic::Status;

use super::{
    Violations, complete,
    tenant::{classified, pb_name},
    timestamp,
};
use crate::{
    auth::Caller,
    search_key::{DEFAULT_VALIDITY, MAX_VALIDITY},
};

/// A validated SearchCustomers request.
#[derive(Debug)]
pub struct SearchQuery {
    /// What the caller asked to search (checked against its credentials by the caller).
    pub scope: Option<SearchScope>,
    /// The request's own conditions.
    pub filter: SearchFilter,
    /// The page.
    pub page: PageRequest,
    /// The consistency token.
    pub consistency: Option<engine::journal::CommitToken>,
}

/// A validated CreateSearchKey request.
#[derive(Debug)]
pub struct NewSearchKey {
    /// The key's scope (`None`: the caller's default).
    pub scope: Option<SearchScope>,
    /// Its restrictions.
    pub filter: SearchFilter,
    /// When it stops working.
    pub valid_until: DateTime<Utc>,
}

/// The lower-case code of a proto enum value's name after its prefix (`PLAN_GOLD` → `gold`).
fn enum_code(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// A list of proto enum values as codes; unknown and UNSPECIFIED values are violations.
fn codes(
    v: &mut Violations,
    field: &str,
    values: &[i32],
    code_of: impl Fn(i32) -> Option<String>,
) -> std::collections::BTreeSet<String> {
    if values.len() > MAX_FILTER_VALUES {
        v.add(field, format!("at most {MAX_FILTER_VALUES} values"));
    }
    let mut out = std::collections::BTreeSet::new();
    for (i, value) in values.iter().enumerate() {
        match code_of(*value) {
            Some(code) => {
                out.insert(code);
            }
            None => v.add(format!("{field}[{i}]"), format!("unknown value {value}")),
        }
    }
    out
}

/// A classification code of a proto enum value (`None`: unspecified or unknown).
fn classification<T: Code>(prefix: &str, number: i32, name: Option<&str>) -> Option<String> {
    classified::<T>(prefix, number, name, None)
        .code()
        .map(|c| c.code().to_owned())
}

/// The filter of a request.
fn filter_from_proto(v: &mut Violations, prefix: &str, f: pb::SearchFilter) -> SearchFilter {
    let field = |name: &str| format!("{prefix}.{name}");
    let entry = match pb::SearchEntryKind::try_from(f.entry) {
        Ok(pb::SearchEntryKind::Unspecified) => None,
        Ok(pb::SearchEntryKind::Customer) => Some(EntryKind::Customer),
        Ok(pb::SearchEntryKind::Client) => Some(EntryKind::Client),
        Err(_) => {
            v.add(field("entry"), "unknown entry kind");
            None
        }
    };
    let known = |name: Option<&str>, prefix: &str| {
        name.filter(|n| !n.ends_with("_UNSPECIFIED"))
            .map(|n| enum_code(n, prefix))
    };
    let kinds = codes(v, &field("kinds"), &f.kinds, |n| {
        known(
            pb::TenantKind::try_from(n).ok().map(|e| e.as_str_name()),
            "TENANT_KIND_",
        )
    });
    let statuses = codes(v, &field("statuses"), &f.statuses, |n| {
        known(
            pb::SearchStatus::try_from(n).ok().map(|e| e.as_str_name()),
            "SEARCH_STATUS_",
        )
    });
    let plans = codes(v, &field("plans"), &f.plans, |n| {
        known(pb::Plan::try_from(n).ok().map(|e| e.as_str_name()), "PLAN_")
    });
    let sectors = codes(v, &field("industry_sectors"), &f.industry_sectors, |n| {
        classification::<IndustrySector>(
            "INDUSTRY_SECTOR",
            n,
            pb::IndustrySector::try_from(n)
                .ok()
                .map(|e| e.as_str_name()),
        )
    });
    let groups = codes(v, &field("industry_groups"), &f.industry_groups, |n| {
        classification::<IndustryGroup>(
            "INDUSTRY_GROUP",
            n,
            pb::IndustryGroup::try_from(n).ok().map(|e| e.as_str_name()),
        )
    });
    let size_ranges = codes(v, &field("size_ranges"), &f.size_ranges, |n| {
        classification::<SizeRange>(
            "SIZE_RANGE",
            n,
            pb::SizeRange::try_from(n).ok().map(|e| e.as_str_name()),
        )
    });
    let client_of = v
        .optional_id::<TenantId>(&field("client_of"), &f.client_of)
        .flatten();
    let text = f.text.trim();
    if text.chars().count() > 200 {
        v.add(field("text"), "at most 200 characters");
    }
    SearchFilter {
        texts: (!text.is_empty())
            .then(|| text.to_owned())
            .into_iter()
            .collect(),
        entry,
        kinds,
        statuses,
        plans,
        sectors,
        groups,
        size_ranges,
        provisions_tenants: f.provisions_tenants,
        client_of,
    }
}

/// The scope a request names (`None`: the caller's default), with its tenant.
fn scope_from_proto(
    v: &mut Violations,
    scope: i32,
    tenant: Option<TenantId>,
) -> Option<SearchScope> {
    let named = match pb::SearchScope::try_from(scope) {
        Ok(pb::SearchScope::Unspecified) => return tenant.map(SearchScope::OwnClients),
        Ok(pb::SearchScope::AllCustomers) => SearchScope::AllCustomers,
        Ok(pb::SearchScope::BusinessCustomers) => SearchScope::BusinessCustomers,
        Ok(pb::SearchScope::ConsumerCustomers) => SearchScope::ConsumerCustomers,
        Ok(pb::SearchScope::TenantCustomers) => SearchScope::TenantCustomers,
        Ok(pb::SearchScope::OwnClients) => match tenant {
            Some(tenant) => SearchScope::OwnClients(tenant),
            None => {
                v.add("tenant_id", "required for scope OWN_CLIENTS");
                return None;
            }
        },
        Err(_) => {
            v.add("scope", "unknown search scope");
            return None;
        }
    };
    if tenant.is_some() && named.tenant().is_none() {
        v.add("tenant_id", "only scope OWN_CLIENTS names a tenant");
    }
    Some(named)
}

/// The scope a caller without a search key searches: the one named, else a platform admin's
/// all customers, else the clients of the caller's own tenant.
pub fn effective_scope(caller: &Caller, named: Option<SearchScope>) -> Result<SearchScope, Status> {
    match (named, caller.platform_admin, caller.tenant_id) {
        (Some(scope), _, _) => Ok(scope),
        (None, true, _) => Ok(SearchScope::AllCustomers),
        (None, false, Some(own)) => Ok(SearchScope::OwnClients(own)),
        (None, false, None) => {
            let mut v = Violations::default();
            v.add("scope", "name a scope, or a tenant_id for OWN_CLIENTS");
            v.finish()?;
            Err(Status::internal("validation incomplete"))
        }
    }
}

/// The scope (with its tenant) and the filter a search or a key asks for.
fn scope_and_filter(
    v: &mut Violations,
    scope: i32,
    tenant_id: &str,
    filter: Option<pb::SearchFilter>,
) -> (Option<SearchScope>, SearchFilter) {
    let tenant = v.optional_id::<TenantId>("tenant_id", tenant_id).flatten();
    let scope = scope_from_proto(v, scope, tenant);
    (
        scope,
        filter_from_proto(v, "filter", filter.unwrap_or_default()),
    )
}

/// SearchCustomers.
pub fn search(req: pb::SearchCustomersRequest) -> Result<SearchQuery, Status> {
    let mut v = Violations::default();
    let (scope, filter) = scope_and_filter(&mut v, req.scope, &req.tenant_id, req.filter);
    let consistency = v.consistency_token(&req.consistency_token);
    let page = v.read_page(req.page_size, &req.page_token);
    v.finish()?;
    Ok(SearchQuery {
        scope,
        filter,
        page,
        consistency,
    })
}

/// CreateSearchKey, at `now`.
pub fn new_key(
    req: pb::CreateSearchKeyRequest,
    now: DateTime<Utc>,
) -> Result<NewSearchKey, Status> {
    let mut v = Violations::default();
    let (scope, filter) = scope_and_filter(&mut v, req.scope, &req.tenant_id, req.filter);
    let valid_until = match req.valid_until {
        None => Some(now + DEFAULT_VALIDITY),
        Some(ts) => v.timestamp("valid_until", ts),
    };
    if let Some(until) = valid_until {
        if until <= now {
            v.add("valid_until", "must be in the future");
        } else if until > now + MAX_VALIDITY {
            v.add("valid_until", "at most 24 hours from now");
        }
    }
    v.finish()?;
    Ok(NewSearchKey {
        scope,
        filter,
        valid_until: complete(valid_until)?,
    })
}

/// The proto enum number of a code (`0` when it names none).
fn number_of<E: Into<i32>>(prefix: &str, code: &str, from_name: fn(&str) -> Option<E>) -> i32 {
    from_name(&pb_name(prefix, code)).map_or(0, Into::into)
}

/// A hit as its proto message.
pub fn hit_to_proto(h: &SearchHit) -> pb::SearchHit {
    let opt = |code: &Option<String>| code.clone().unwrap_or_default();
    pb::SearchHit {
        entry: match h.entry {
            EntryKind::Customer => pb::SearchEntryKind::Customer,
            EntryKind::Client => pb::SearchEntryKind::Client,
        } as i32,
        id: h.id.to_string(),
        tenant_id: h.tenant_id.to_string(),
        name: h.name.clone(),
        slug: h.slug.clone(),
        external_id: h.external_id.clone(),
        legal_name: h.legal_name.clone(),
        kind: number_of(
            "TENANT_KIND",
            &opt(&h.customer_kind),
            pb::TenantKind::from_str_name,
        ),
        status: number_of("SEARCH_STATUS", &h.status, pb::SearchStatus::from_str_name),
        plan: number_of("PLAN", &opt(&h.plan), pb::Plan::from_str_name),
        industry_sector: number_of(
            "INDUSTRY_SECTOR",
            &h.industry_sector,
            pb::IndustrySector::from_str_name,
        ),
        industry_group: number_of(
            "INDUSTRY_GROUP",
            &h.industry_group,
            pb::IndustryGroup::from_str_name,
        ),
        size_range: number_of("SIZE_RANGE", &h.size_range, pb::SizeRange::from_str_name),
        legal_form: number_of("LEGAL_FORM", &h.legal_form, pb::LegalForm::from_str_name),
        provisioned_tenant_id: h
            .provisioned_tenant_id
            .map(|t| t.to_string())
            .unwrap_or_default(),
        version: h.version,
        create_time: Some(timestamp(h.created_at)),
        update_time: Some(timestamp(h.updated_at)),
    }
}

/// A scope as its proto value.
pub fn scope_to_proto(scope: SearchScope) -> pb::SearchScope {
    match scope {
        SearchScope::AllCustomers => pb::SearchScope::AllCustomers,
        SearchScope::BusinessCustomers => pb::SearchScope::BusinessCustomers,
        SearchScope::ConsumerCustomers => pb::SearchScope::ConsumerCustomers,
        SearchScope::TenantCustomers => pb::SearchScope::TenantCustomers,
        SearchScope::OwnClients(_) => pb::SearchScope::OwnClients,
    }
}
