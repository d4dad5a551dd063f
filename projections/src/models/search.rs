//! Projection `search` (issue 20): one row per customer (tenant) and per client in
//! `customer_search`, for SearchCustomers — name, slug, external id and legal name for text
//! search; kind, status, plan, classification and provisioning for filters.
//!
//! Kept in step with the tenant and client streams: created rows are inserted, changes update
//! them, a deleted client is removed, and a deleted (or erased) customer is removed together
//! with its clients. Nothing personal is stored (customers and clients are businesses).
//!
//! A batch loads the rows it changes (one `SELECT … IN` per 1,000 ids), folds its events into
//! them in journal order, then writes one bulk upsert and one bulk delete: a change never
//! needs a partial `UPDATE` that would have to rebuild the search text in SQL. An event for a
//! row already removed (a client event after its customer's deletion) changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::{
    domain::{
        BusinessProfile, ClientEvent, ClientStatus, StreamKind, TenantEvent, TenantScopeEvent,
        TenantStatus,
    },
    journal::RecordedEvent,
};
use uuid::Uuid;

use super::{enum_text, fold, names};
use crate::{
    Envelope, Projection, Result,
    sql::{Arg, Row, Statement, delete_rows, insert_rows},
    store::Tx,
};

/// Ids per `SELECT … IN`.
const LOAD_CHUNK: usize = 1_000;

/// The columns of a row, in the order of [`SearchRow::values`].
const COLUMNS: &str = "id, entry, tenant_id, name, sort_name, search_text, slug, external_id, \
                       legal_name, customer_kind, status, plan, industry_sector, industry_group, \
                       size_range, legal_form, provisioned_tenant_id, version, created_at, \
                       updated_at";

/// A row of `customer_search`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SearchRow {
    pub entry: &'static str,
    pub tenant_id: Uuid,
    pub name: String,
    pub slug: String,
    pub external_id: String,
    pub legal_name: String,
    pub customer_kind: Option<String>,
    pub status: String,
    pub plan: Option<String>,
    pub industry_sector: String,
    pub industry_group: String,
    pub size_range: String,
    pub legal_form: String,
    pub provisioned_tenant_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A customer row.
pub(crate) const CUSTOMER: &str = "customer";
/// A client row.
pub(crate) const CLIENT: &str = "client";

impl SearchRow {
    /// A new entry as its creation `record` makes it, every optional column blank.
    fn new(
        entry: &'static str,
        tenant_id: Uuid,
        name: &str,
        status: String,
        record: &RecordedEvent,
    ) -> Self {
        Self {
            entry,
            tenant_id,
            name: name.to_owned(),
            slug: String::new(),
            external_id: String::new(),
            legal_name: String::new(),
            customer_kind: None,
            status,
            plan: None,
            industry_sector: String::new(),
            industry_group: String::new(),
            size_range: String::new(),
            legal_form: String::new(),
            provisioned_tenant_id: None,
            version: record.sequence,
            created_at: record.recorded_at,
            updated_at: record.recorded_at,
        }
    }

    /// What text search matches: the folded name, slug, external id and legal name.
    fn search_text(&self) -> String {
        [&self.name, &self.slug, &self.external_id, &self.legal_name]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| fold(s))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Takes the classification and legal name of `profile` (none: all blank).
    fn set_profile(&mut self, profile: Option<&BusinessProfile>) {
        let code = |text: &str, is_code: bool| {
            if is_code {
                text.to_owned()
            } else {
                String::new()
            }
        };
        match profile {
            Some(p) => {
                self.legal_name.clone_from(&p.legal_name);
                self.industry_sector =
                    code(p.industry_sector.text(), p.industry_sector.code().is_some());
                self.industry_group =
                    code(p.industry_group.text(), p.industry_group.code().is_some());
                self.size_range = code(p.size_range.text(), p.size_range.code().is_some());
                self.legal_form = code(p.legal_form.text(), p.legal_form.code().is_some());
            }
            None => {
                self.legal_name.clear();
                self.industry_sector.clear();
                self.industry_group.clear();
                self.size_range.clear();
                self.legal_form.clear();
            }
        }
    }

    fn values(self, id: Uuid) -> Vec<Arg> {
        let search_text = self.search_text();
        let sort_name = fold(&self.name);
        vec![
            id.into(),
            self.entry.to_owned().into(),
            self.tenant_id.into(),
            self.name.into(),
            sort_name.into(),
            search_text.into(),
            self.slug.into(),
            self.external_id.into(),
            self.legal_name.into(),
            self.customer_kind.into(),
            self.status.into(),
            self.plan.into(),
            self.industry_sector.into(),
            self.industry_group.into(),
            self.size_range.into(),
            self.legal_form.into(),
            self.provisioned_tenant_id.into(),
            self.version.into(),
            self.created_at.into(),
            self.updated_at.into(),
        ]
    }

    fn read(row: &Row) -> Result<(Uuid, Self)> {
        let entry = match row.text("entry")?.as_str() {
            CUSTOMER => CUSTOMER,
            _ => CLIENT,
        };
        Ok((
            row.uuid("id")?,
            Self {
                entry,
                tenant_id: row.uuid("tenant_id")?,
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
                provisioned_tenant_id: row.opt_uuid("provisioned_tenant_id")?,
                version: row.int("version")?,
                created_at: row.time("created_at")?,
                updated_at: row.time("updated_at")?,
            },
        ))
    }
}

/// The rows of one batch: `Some` to write, `None` to delete; customers deleted with all
/// their clients.
#[derive(Default)]
struct Batch {
    rows: BTreeMap<Uuid, Option<SearchRow>>,
    deleted_customers: BTreeSet<Uuid>,
}

impl Batch {
    /// Applies `change` to the row `id` if it is there (loaded or created in this batch).
    fn change(&mut self, id: Uuid, at: &Envelope, change: impl FnOnce(&mut SearchRow)) {
        if let Some(Some(row)) = self.rows.get_mut(&id) {
            change(row);
            row.version = at.recorded.sequence;
            row.updated_at = at.recorded.recorded_at;
        }
    }

    fn apply(&mut self, envelope: &Envelope) -> Result<()> {
        let r = &envelope.recorded;
        match &envelope.event {
            TenantScopeEvent::Tenant(event) => {
                let id = r.tenant_id.0;
                match event {
                    TenantEvent::TenantCreated {
                        name,
                        slug,
                        kind,
                        plan,
                        business_profile,
                        ..
                    } => {
                        let mut row = SearchRow::new(
                            CUSTOMER,
                            id,
                            name,
                            enum_text(&TenantStatus::Active)?,
                            r,
                        );
                        row.slug.clone_from(slug);
                        row.external_id = business_profile
                            .as_ref()
                            .map(|p| p.external_id.clone())
                            .unwrap_or_default();
                        row.customer_kind = Some(enum_text(kind)?);
                        row.plan = Some(enum_text(plan)?);
                        row.set_profile(business_profile.as_ref());
                        self.rows.insert(id, Some(row));
                    }
                    TenantEvent::TenantUpdated {
                        name,
                        business_profile,
                        ..
                    } => self.change(id, envelope, |row| {
                        if let Some(name) = name {
                            row.name.clone_from(name);
                        }
                        if let Some(profile) = business_profile {
                            row.set_profile(profile.as_ref());
                            row.external_id = profile
                                .as_ref()
                                .map(|p| p.external_id.clone())
                                .unwrap_or_default();
                        }
                    }),
                    TenantEvent::TenantPlanChanged { to, .. } => {
                        let plan = enum_text(to)?;
                        self.change(id, envelope, |row| row.plan = Some(plan));
                    }
                    TenantEvent::TenantSuspended { .. } => {
                        let status = enum_text(&TenantStatus::Suspended)?;
                        self.change(id, envelope, |row| row.status = status);
                    }
                    TenantEvent::TenantReactivated => {
                        let status = enum_text(&TenantStatus::Active)?;
                        self.change(id, envelope, |row| row.status = status);
                    }
                    TenantEvent::TenantDeactivated { .. } => {
                        let status = enum_text(&TenantStatus::Deactivated)?;
                        self.change(id, envelope, |row| row.status = status);
                    }
                    TenantEvent::TenantDeleted { .. } | TenantEvent::TenantErased => {
                        self.rows
                            .retain(|_, row| row.as_ref().is_none_or(|row| row.tenant_id != id));
                        self.rows.insert(id, None);
                        self.deleted_customers.insert(id);
                    }
                    // Onboarding, settings, registration…: the version moves all the same.
                    _ => self.change(id, envelope, |_| {}),
                }
            }
            TenantScopeEvent::Client(event) => {
                let id = event.client_id().0;
                match event {
                    ClientEvent::ClientCreated {
                        name,
                        external_id,
                        business_profile,
                        ..
                    } => {
                        let mut row = SearchRow::new(
                            CLIENT,
                            r.tenant_id.0,
                            name,
                            enum_text(&ClientStatus::Active)?,
                            r,
                        );
                        row.external_id.clone_from(external_id);
                        row.set_profile(business_profile.as_ref());
                        self.rows.insert(id, Some(row));
                    }
                    ClientEvent::ClientUpdated {
                        name,
                        external_id,
                        business_profile,
                        ..
                    } => self.change(id, envelope, |row| {
                        if let Some(name) = name {
                            row.name.clone_from(name);
                        }
                        if let Some(external_id) = external_id {
                            row.external_id.clone_from(external_id);
                        }
                        if let Some(profile) = business_profile {
                            row.set_profile(profile.as_ref());
                        }
                    }),
                    ClientEvent::ClientDisabled { .. } => {
                        let status = enum_text(&ClientStatus::Disabled)?;
                        self.change(id, envelope, |row| row.status = status);
                    }
                    ClientEvent::ClientEnabled { .. } => {
                        let status = enum_text(&ClientStatus::Active)?;
                        self.change(id, envelope, |row| row.status = status);
                    }
                    ClientEvent::ClientDeleted { .. } => {
                        self.rows.insert(id, None);
                    }
                    ClientEvent::ClientTenantProvisioned { tenant, .. } => {
                        let provisioned = tenant.tenant_id.0;
                        self.change(id, envelope, |row| {
                            row.provisioned_tenant_id = Some(provisioned);
                        });
                    }
                    ClientEvent::ClientTenantProvisioningFailed { .. } => {
                        self.change(id, envelope, |row| row.provisioned_tenant_id = None);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The rows a batch changes but does not create (loaded before folding).
fn ids_to_load(events: &[Envelope]) -> BTreeSet<Uuid> {
    let mut created = BTreeSet::new();
    let mut wanted = BTreeSet::new();
    for envelope in events {
        let (id, creates) = match &envelope.event {
            TenantScopeEvent::Tenant(event) => (
                envelope.recorded.tenant_id.0,
                matches!(event, TenantEvent::TenantCreated { .. }),
            ),
            TenantScopeEvent::Client(event) => (
                event.client_id().0,
                matches!(event, ClientEvent::ClientCreated { .. }),
            ),
            _ => continue,
        };
        if creates {
            created.insert(id);
        } else if !created.contains(&id) {
            wanted.insert(id);
        }
    }
    wanted
}

/// Keeps `customer_search` (tenant- and client-stream events).
#[derive(Clone, Copy, Debug, Default)]
pub struct SearchProjection;

#[async_trait]
impl Projection for SearchProjection {
    fn name(&self) -> &str {
        names::SEARCH
    }

    fn wants(&self, kind: StreamKind) -> bool {
        matches!(kind, StreamKind::Tenant | StreamKind::Client)
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        let mut batch = Batch::default();
        let wanted: Vec<Uuid> = ids_to_load(events).into_iter().collect();
        for ids in wanted.chunks(LOAD_CHUNK) {
            let sql = format!("SELECT {COLUMNS} FROM customer_search WHERE id IN ({{ids}})");
            for row in tx.fetch(&Statement::among(&sql, ids)).await? {
                let (id, row) = SearchRow::read(&row)?;
                batch.rows.insert(id, Some(row));
            }
        }
        for envelope in events {
            batch.apply(envelope)?;
        }
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        for (id, row) in batch.rows {
            match row {
                Some(row) => upserts.push(row.values(id)),
                None => deletes.push(vec![Arg::from(id)]),
            }
        }
        tx.run_all(&insert_rows(
            &format!("customer_search ({COLUMNS})"),
            UPSERT,
            upserts,
        ))
        .await?;
        tx.run_all(&delete_rows("customer_search", "id", deletes))
            .await?;
        let customers = batch
            .deleted_customers
            .into_iter()
            .map(|id| vec![Arg::from(id)])
            .collect();
        tx.run_all(&delete_rows("customer_search", "tenant_id", customers))
            .await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run(&Statement::new("DELETE FROM customer_search", vec![]))
            .await?;
        Ok(())
    }
}

/// An existing row takes every column of the new one.
const UPSERT: &str = "ON CONFLICT (id) DO UPDATE SET entry = excluded.entry, \
     tenant_id = excluded.tenant_id, name = excluded.name, sort_name = excluded.sort_name, \
     search_text = excluded.search_text, slug = excluded.slug, \
     external_id = excluded.external_id, legal_name = excluded.legal_name, \
     customer_kind = excluded.customer_kind, status = excluded.status, plan = excluded.plan, \
     industry_sector = excluded.industry_sector, industry_group = excluded.industry_group, \
     size_range = excluded.size_range, legal_form = excluded.legal_form, \
     provisioned_tenant_id = excluded.provisioned_tenant_id, version = excluded.version, \
     created_at = excluded.created_at, updated_at = excluded.updated_at";
