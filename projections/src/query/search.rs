//! SearchCustomers over the `search` read model: scopes, restrictions that only narrow, and
//! the query.
//!
//! A search is the intersection of up to three [`SearchFilter`]s: the one its
//! [`SearchScope`] implies (from the caller's credentials), a secured search key's (if the
//! caller presented one) and the request's. [`SearchFilter::narrow`] intersects two: sets
//! intersect, single values must agree, texts must all match. An empty intersection answers
//! an empty page without a query. Whatever a request sends, it can only narrow what its scope
//! and key allow.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use engine::{domain::TenantId, journal::CommitToken};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Page, PageRequest, ReadModels,
    page::{Cursor, fingerprint},
    params::like_pattern,
};
use crate::{
    Error, Result,
    models::{names, search::CUSTOMER},
    sql::{Arg, Row, Statement},
};

/// Longest search text accepted.
const MAX_TEXT_CHARS: usize = 200;

/// Most values in one set filter.
pub const MAX_FILTER_VALUES: usize = 32;

/// What a caller may search (seed 001 feature 9's five key types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchScope {
    /// Every customer and every client (platform admins).
    AllCustomers,
    /// Business customers only (platform admins).
    BusinessCustomers,
    /// Consumer customers only (platform admins).
    ConsumerCustomers,
    /// Customers that provision tenants for their clients (platform admins).
    TenantCustomers,
    /// One customer's own clients (that tenant's callers with `client:read`).
    OwnClients(TenantId),
}

impl SearchScope {
    /// The restriction the scope stands for.
    pub fn restriction(self) -> SearchFilter {
        let customers = SearchFilter {
            entry: Some(EntryKind::Customer),
            ..SearchFilter::default()
        };
        match self {
            Self::AllCustomers => SearchFilter::default(),
            Self::BusinessCustomers => SearchFilter {
                kinds: ["business".to_owned()].into(),
                ..customers
            },
            Self::ConsumerCustomers => SearchFilter {
                kinds: ["consumer".to_owned()].into(),
                ..customers
            },
            Self::TenantCustomers => SearchFilter {
                provisions_tenants: Some(true),
                ..customers
            },
            Self::OwnClients(tenant) => SearchFilter {
                entry: Some(EntryKind::Client),
                client_of: Some(tenant),
                ..SearchFilter::default()
            },
        }
    }

    /// The tenant the scope is confined to, if any.
    pub fn tenant(self) -> Option<TenantId> {
        match self {
            Self::OwnClients(tenant) => Some(tenant),
            _ => None,
        }
    }
}

/// A customer (tenant) or a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A tenant.
    Customer,
    /// A tenant's client.
    Client,
}

impl EntryKind {
    fn column(self) -> &'static str {
        match self {
            Self::Customer => CUSTOMER,
            Self::Client => crate::models::search::CLIENT,
        }
    }
}

/// Search conditions, all of which a result meets. Set filters hold the stored codes
/// (`business`, `active`, `gold`, `information_technology`, `51-200`); empty = any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchFilter {
    /// Texts each matched (case-insensitively, anywhere) in the name, slug, external id or
    /// legal name.
    pub texts: Vec<String>,
    /// Customers or clients only.
    pub entry: Option<EntryKind>,
    /// Customer kinds (customers only).
    pub kinds: BTreeSet<String>,
    /// Statuses.
    pub statuses: BTreeSet<String>,
    /// Plans (customers only).
    pub plans: BTreeSet<String>,
    /// GICS sectors.
    pub sectors: BTreeSet<String>,
    /// GICS industry groups.
    pub groups: BTreeSet<String>,
    /// Size ranges.
    pub size_ranges: BTreeSet<String>,
    /// Whether the customer provisions tenants for its clients (customers only).
    pub provisions_tenants: Option<bool>,
    /// The clients of this customer only.
    pub client_of: Option<TenantId>,
}

/// Two single-valued conditions as one: `Err(())` when they disagree.
fn both<T: PartialEq>(a: Option<T>, b: Option<T>) -> std::result::Result<Option<T>, ()> {
    match (a, b) {
        (Some(a), Some(b)) if a != b => Err(()),
        (a, b) => Ok(a.or(b)),
    }
}

/// Two set conditions as one (empty = any): `Err(())` when no value is in both.
fn within(a: BTreeSet<String>, b: BTreeSet<String>) -> std::result::Result<BTreeSet<String>, ()> {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => Ok(b),
        (_, true) => Ok(a),
        _ => {
            let common: BTreeSet<String> = a.intersection(&b).cloned().collect();
            if common.is_empty() {
                Err(())
            } else {
                Ok(common)
            }
        }
    }
}

impl SearchFilter {
    /// The conditions of both: `None` when nothing can meet them.
    pub fn narrow(self, other: SearchFilter) -> Option<SearchFilter> {
        let mut texts = self.texts;
        texts.extend(other.texts);
        let narrowed = (|| {
            Ok::<_, ()>(SearchFilter {
                texts,
                entry: both(self.entry, other.entry)?,
                kinds: within(self.kinds, other.kinds)?,
                statuses: within(self.statuses, other.statuses)?,
                plans: within(self.plans, other.plans)?,
                sectors: within(self.sectors, other.sectors)?,
                groups: within(self.groups, other.groups)?,
                size_ranges: within(self.size_ranges, other.size_ranges)?,
                provisions_tenants: both(self.provisions_tenants, other.provisions_tenants)?,
                client_of: both(self.client_of, other.client_of)?,
            })
        })()
        .ok()?;
        narrowed.consistent()
    }

    /// `None` when the conditions exclude each other: customer-only conditions on clients,
    /// "clients of" on customers.
    fn consistent(mut self) -> Option<SearchFilter> {
        let customer_only =
            !self.kinds.is_empty() || !self.plans.is_empty() || self.provisions_tenants.is_some();
        if customer_only {
            self.entry = both(self.entry, Some(EntryKind::Customer)).ok()?;
        }
        if self.client_of.is_some() {
            self.entry = both(self.entry, Some(EntryKind::Client)).ok()?;
        }
        Some(self)
    }

    /// Checks the sizes a request may send.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming what is too long or too many.
    pub fn check(&self) -> Result<()> {
        if self
            .texts
            .iter()
            .any(|t| t.chars().count() > MAX_TEXT_CHARS)
        {
            return Err(Error::InvalidArgument(format!(
                "search text is longer than {MAX_TEXT_CHARS} characters"
            )));
        }
        let sets = [
            &self.kinds,
            &self.statuses,
            &self.plans,
            &self.sectors,
            &self.groups,
            &self.size_ranges,
        ];
        if sets.iter().any(|s| s.len() > MAX_FILTER_VALUES) {
            return Err(Error::InvalidArgument(format!(
                "at most {MAX_FILTER_VALUES} values per filter"
            )));
        }
        Ok(())
    }
}

/// One result of SearchCustomers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    /// Customer or client.
    pub entry: EntryKind,
    /// The tenant's or the client's id.
    pub id: Uuid,
    /// The customer itself, or the client's customer.
    pub tenant_id: TenantId,
    /// Name.
    pub name: String,
    /// Slug (customers; "" for clients).
    pub slug: String,
    /// External id.
    pub external_id: String,
    /// Legal name from the business profile.
    pub legal_name: String,
    /// `business` or `consumer` (customers).
    pub customer_kind: Option<String>,
    /// Status code.
    pub status: String,
    /// Plan code (customers).
    pub plan: Option<String>,
    /// GICS sector code or "".
    pub industry_sector: String,
    /// GICS industry group code or "".
    pub industry_group: String,
    /// Size range code or "".
    pub size_range: String,
    /// Legal form code or "".
    pub legal_form: String,
    /// Clients: the tenant provisioned for it.
    pub provisioned_tenant_id: Option<TenantId>,
    /// Version of the entity.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

/// The columns of a hit.
const HIT_COLUMNS: &str = "s.id, s.entry, s.tenant_id, s.name, s.slug, s.external_id, \
    s.legal_name, s.customer_kind, s.status, s.plan, s.industry_sector, s.industry_group, \
    s.size_range, s.legal_form, s.provisioned_tenant_id, s.version, s.created_at, s.updated_at";

/// A SearchCustomers statement under construction: conditions and their values.
#[derive(Default)]
struct SearchSql {
    conditions: Vec<String>,
    args: Vec<Arg>,
}

impl SearchSql {
    /// The next placeholder, bound to `value`.
    fn bind(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    /// `column IN (…)` unless `values` is empty (any).
    fn within(&mut self, column: &str, values: &BTreeSet<String>) {
        if values.is_empty() {
            return;
        }
        let list: Vec<String> = values.iter().map(|v| self.bind(v.clone())).collect();
        self.conditions
            .push(format!("{column} IN ({})", list.join(", ")));
    }

    /// The statement for `filter` (every text in `patterns` a LIKE pattern), the page after
    /// `after` (sort name, id), at most `limit` rows. Only the conditions the filter sets are
    /// written, and sets as `IN` lists: each shape gets a plan made for it, on the index that
    /// serves it (one text with `$n IS NULL OR …` for every condition may be planned once for
    /// all values, and a set passed as one string defeats the indexes).
    fn statement(
        filter: &SearchFilter,
        patterns: &[String],
        after: Option<(String, Uuid)>,
        limit: i64,
    ) -> Statement {
        let mut sql = SearchSql::default();
        if let Some(entry) = filter.entry {
            let value = sql.bind(entry.column().to_owned());
            sql.conditions.push(format!("s.entry = {value}"));
        }
        if let Some(tenant) = filter.client_of {
            let value = sql.bind(tenant.0);
            sql.conditions.push(format!("s.tenant_id = {value}"));
        }
        sql.within("s.customer_kind", &filter.kinds);
        sql.within("s.status", &filter.statuses);
        sql.within("s.plan", &filter.plans);
        sql.within("s.industry_sector", &filter.sectors);
        sql.within("s.industry_group", &filter.groups);
        sql.within("s.size_range", &filter.size_ranges);
        if let Some(provisions) = filter.provisions_tenants {
            sql.conditions.push(format!(
                "{}EXISTS (SELECT 1 FROM customer_search AS c WHERE c.tenant_id = s.id \
                 AND c.entry = 'client' AND c.provisioned_tenant_id IS NOT NULL)",
                if provisions { "" } else { "NOT " }
            ));
        }
        // With a customer or a sector named, their index leaves few rows and the text filters
        // them; `|| ''` keeps the trigram index out of that plan (the planner would otherwise
        // intersect it with theirs, reading every row that holds the text: ~5 ms against ~1 ms
        // on 100,000 clients). Alone, the text is what the trigram index is for.
        let text = if filter.client_of.is_some() || !filter.sectors.is_empty() {
            "(s.search_text || '')"
        } else {
            "s.search_text"
        };
        for pattern in patterns {
            let value = sql.bind(pattern.clone());
            sql.conditions
                .push(format!("{text} LIKE {value} ESCAPE '\\'"));
        }
        if let Some((name, id)) = after {
            let (name, id) = (sql.bind(name), sql.bind(id));
            sql.conditions
                .push(format!("(s.sort_name, s.id) > ({name}, {id})"));
        }
        let limit = sql.bind(limit);
        let conditions = if sql.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", sql.conditions.join(" AND "))
        };
        Statement::new(
            format!(
                "SELECT {HIT_COLUMNS} FROM customer_search AS s {conditions} \
                 ORDER BY s.sort_name, s.id LIMIT {limit}"
            ),
            sql.args,
        )
    }
}

fn hit(row: &Row) -> Result<SearchHit> {
    let entry = match row.text("entry")?.as_str() {
        CUSTOMER => EntryKind::Customer,
        _ => EntryKind::Client,
    };
    Ok(SearchHit {
        entry,
        id: row.uuid("id")?,
        tenant_id: TenantId(row.uuid("tenant_id")?),
        name: row.text("name")?,
        slug: row.text("slug")?,
        external_id: row.text("external_id")?,
        legal_name: row.text("legal_name")?,
        customer_kind: row.opt_text("customer_kind")?,
        status: row.text("status")?,
        plan: row.opt_text("plan")?,
        industry_sector: row.text("industry_sector")?,
        industry_group: row.text("industry_group")?,
        size_range: row.text("size_range")?,
        legal_form: row.text("legal_form")?,
        provisioned_tenant_id: row.opt_uuid("provisioned_tenant_id")?.map(TenantId),
        version: row.int("version")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

impl ReadModels {
    /// Searches customers and clients: what `scope` allows, narrowed by `key` (a secured
    /// search key's restrictions) and by `request`; ordered by name (case-folded), then id.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a text or a set too large; [`Error::InvalidPageToken`];
    /// [`Error::Unavailable`] when the read model has not reached `consistency`.
    pub async fn search_customers(
        &self,
        scope: SearchScope,
        key: Option<SearchFilter>,
        request: SearchFilter,
        page: &PageRequest,
        consistency: Option<CommitToken>,
    ) -> Result<Page<SearchHit>> {
        request.check()?;
        let allowed = match key {
            Some(key) => scope.restriction().narrow(key),
            None => Some(scope.restriction()),
        };
        let cursor = Cursor::new(
            page,
            fingerprint("customer_search", &(scope, &allowed, &request)),
            2,
        )?;
        let Some(filter) = allowed.and_then(|allowed| allowed.narrow(request)) else {
            return Ok(cursor.page(Vec::new(), |_: &SearchHit| Vec::new()));
        };
        self.ensure_consistent(&[names::SEARCH], consistency)
            .await?;
        let patterns: Vec<String> = filter
            .texts
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .map(|t| like_pattern(t, false))
            .collect();
        if patterns.len() > 2 {
            return Err(Error::InvalidArgument(
                "at most one search text besides a search key's".into(),
            ));
        }
        let after_name = cursor.key(0).map(str::to_owned);
        let after_id = cursor
            .key(1)
            .map(Uuid::parse_str)
            .transpose()
            .map_err(|_| Error::InvalidPageToken("malformed token".into()))?;
        let after = after_name.zip(after_id);
        let statement = SearchSql::statement(&filter, &patterns, after, cursor.limit());
        let rows = self.store().fetch(&statement).await?;
        let hits = rows.iter().map(hit).collect::<Result<Vec<_>>>()?;
        Ok(cursor.page(hits, |h| {
            vec![crate::models::fold(&h.name), h.id.to_string()]
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(values: &[&str]) -> BTreeSet<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn a_request_only_narrows_what_its_scope_allows() {
        let tenant = TenantId(Uuid::now_v7());
        let other = TenantId(Uuid::now_v7());
        let own = SearchScope::OwnClients(tenant).restriction();
        // Asking for another customer's clients, or for customers, matches nothing.
        for widening in [
            SearchFilter {
                client_of: Some(other),
                ..SearchFilter::default()
            },
            SearchFilter {
                entry: Some(EntryKind::Customer),
                ..SearchFilter::default()
            },
            SearchFilter {
                plans: set(&["gold"]),
                ..SearchFilter::default()
            },
        ] {
            assert_eq!(own.clone().narrow(widening), None);
        }
        let business = SearchScope::BusinessCustomers.restriction();
        assert_eq!(
            business.clone().narrow(SearchFilter {
                kinds: set(&["consumer"]),
                ..SearchFilter::default()
            }),
            None
        );
        let narrowed = business
            .narrow(SearchFilter {
                kinds: set(&["business", "consumer"]),
                statuses: set(&["active"]),
                texts: vec!["acme".into()],
                ..SearchFilter::default()
            })
            .expect("business and active");
        assert_eq!(narrowed.kinds, set(&["business"]));
        assert_eq!(narrowed.statuses, set(&["active"]));
        assert_eq!(narrowed.entry, Some(EntryKind::Customer));
    }

    #[test]
    fn a_keys_restrictions_and_the_requests_all_hold() {
        let key = SearchFilter {
            sectors: set(&["financials", "energy"]),
            texts: vec!["bank".into()],
            ..SearchFilter::default()
        };
        let request = SearchFilter {
            sectors: set(&["energy", "utilities"]),
            texts: vec!["north".into()],
            ..SearchFilter::default()
        };
        let both = key.clone().narrow(request).expect("energy is in both");
        assert_eq!(both.sectors, set(&["energy"]));
        assert_eq!(both.texts, ["bank", "north"]);
        let disjoint = SearchFilter {
            sectors: set(&["utilities"]),
            ..SearchFilter::default()
        };
        assert_eq!(key.narrow(disjoint), None);
    }
}
