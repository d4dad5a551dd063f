//! Erasure in the history (SPEC §6): which values of a state are about a person, and the
//! scrubs that blank them in every row and latest state of the history once that person (or
//! the whole tenant) is erased.
//!
//! The personal values are those the domain declares for the state
//! (`TenantScope::try_for_each_personal_field`), with the same subjects: a user's email and
//! display name (the user), a contact's name, email and phone (the contact), the tenant's
//! onboarding owner email (the owner) and deactivation requester (the tenant).

use serde_json::Value;
use uuid::Uuid;

use super::super::names;
use crate::{
    Error, Result,
    query::AnalyticsKind,
    sql::{Arg, Row, Statement, update_rows},
    store::Tx,
};

const USER_VALUES: [&str; 2] = ["/email", "/display_name"];
const CONTACT_VALUES: [&str; 3] = [
    "/fields/contact/name",
    "/fields/contact/email",
    "/fields/contact/phone",
];
const OWNER_ID: &str = "/onboarding/plan/owner_user_id";
const OWNER_EMAIL: &str = "/onboarding/plan/owner_email";
const REQUESTED_BY: &str = "/deactivation_feedback/requested_by";

/// Rows (or states) scrubbed per statement.
const SCRUB_PAGE: i64 = 500;

/// The personal values of a state of `kind` (entity `id`, tenant `tenant`): who each is
/// about, and where it is (a JSON pointer).
pub(super) fn personal_values(
    kind: AnalyticsKind,
    id: Uuid,
    tenant: Uuid,
    state: &Value,
) -> Vec<(Uuid, &'static str)> {
    match kind {
        AnalyticsKind::User => USER_VALUES.iter().map(|p| (id, *p)).collect(),
        AnalyticsKind::Contact => CONTACT_VALUES.iter().map(|p| (id, *p)).collect(),
        AnalyticsKind::Tenant => owner(state)
            .map(|owner| (owner, OWNER_EMAIL))
            .into_iter()
            .chain([(tenant, REQUESTED_BY)])
            .collect(),
        AnalyticsKind::Client
        | AnalyticsKind::Organization
        | AnalyticsKind::Team
        | AnalyticsKind::Department
        | AnalyticsKind::Location => Vec::new(),
    }
}

/// The onboarding owner a tenant's state names.
fn owner(state: &Value) -> Option<Uuid> {
    state.pointer(OWNER_ID)?.as_str()?.parse().ok()
}

/// An erasure the history must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Erasure {
    /// A person (a user, or a deleted contact) of a tenant.
    Person { tenant: Uuid, subject: Uuid },
    /// Every person of a tenant.
    Tenant(Uuid),
}

impl Erasure {
    fn covers(self, subject: Uuid) -> bool {
        match self {
            Erasure::Person { subject: s, .. } => s == subject,
            Erasure::Tenant(_) => true,
        }
    }

    /// Blanks the values of `state` this erasure covers; whether one was not blank.
    pub(super) fn scrub(
        self,
        kind: AnalyticsKind,
        id: Uuid,
        tenant: Uuid,
        state: &mut Value,
    ) -> bool {
        let mut changed = false;
        for (subject, pointer) in personal_values(kind, id, tenant, state) {
            if self.covers(subject)
                && let Some(Value::String(value)) = state.pointer_mut(pointer)
                && !value.is_empty()
            {
                value.clear();
                changed = true;
            }
        }
        changed
    }

    /// Scrubs every row and latest state of the history that holds a value this erasure
    /// covers (in pages of [`SCRUB_PAGE`], so a tenant of any size is bounded in memory).
    pub(super) async fn run(self, tx: &mut Tx<'_>) -> Result<()> {
        match self {
            Erasure::Person { tenant, subject } => {
                let mut entities = vec![subject];
                // The tenant's states name the onboarding owner's email.
                if tenant_owner(tx, tenant).await? == Some(subject) {
                    entities.push(tenant);
                }
                for entity in entities {
                    self.scrub_rows(tx, Selection::Entity(entity)).await?;
                    self.scrub_latest(tx, Selection::Entity(entity)).await?;
                }
            }
            Erasure::Tenant(tenant) => {
                for kind in [
                    AnalyticsKind::Tenant,
                    AnalyticsKind::User,
                    AnalyticsKind::Contact,
                ] {
                    self.scrub_rows(tx, Selection::Tenant(tenant, kind)).await?;
                    self.scrub_latest(tx, Selection::Tenant(tenant, kind))
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn scrub_rows(self, tx: &mut Tx<'_>, selection: Selection) -> Result<()> {
        let (filter, mut args) = selection.filter("entity_id");
        let order = match selection {
            Selection::Entity(_) => "version",
            Selection::Tenant(..) => "position",
        };
        let sql = format!(
            "SELECT position, version, entity_kind, entity_id, tenant_id, state \
             FROM analytics_changes WHERE {filter} AND {order} > ${} ORDER BY {order} LIMIT ${}",
            args.len() + 1,
            args.len() + 2
        );
        args.extend([Arg::Int(0), Arg::Int(SCRUB_PAGE)]);
        let after = args.len() - 2;
        loop {
            let rows = tx.fetch(&Statement::new(sql.clone(), args.clone())).await?;
            let mut updates = Vec::new();
            for row in &rows {
                args[after] = Arg::Int(row.int(order)?);
                if let Some(state) = self.scrubbed(row)? {
                    updates.push(vec![Arg::from(row.int("position")?), state.into()]);
                }
            }
            tx.run_all(&update_rows(
                "analytics_changes",
                &["position", "state"],
                "state = v.state",
                "analytics_changes.position = v.position",
                updates,
            ))
            .await?;
            if (rows.len() as i64) < SCRUB_PAGE {
                return Ok(());
            }
        }
    }

    async fn scrub_latest(self, tx: &mut Tx<'_>, selection: Selection) -> Result<()> {
        let (filter, mut args) = selection.filter("id");
        let sql = format!(
            "SELECT id AS entity_id, entity_kind, tenant_id, state FROM analytics_entities \
             WHERE {filter} AND id > ${} ORDER BY id LIMIT ${}",
            args.len() + 1,
            args.len() + 2
        );
        // Every id sorts after the nil UUID, in both stores.
        args.extend([Arg::Uuid(Uuid::nil()), Arg::Int(SCRUB_PAGE)]);
        let after = args.len() - 2;
        loop {
            let rows = tx.fetch(&Statement::new(sql.clone(), args.clone())).await?;
            let mut updates = Vec::new();
            for row in &rows {
                let id = row.uuid("entity_id")?;
                args[after] = Arg::Uuid(id);
                if let Some(state) = self.scrubbed(row)? {
                    updates.push(vec![Arg::from(id), state.into()]);
                }
            }
            tx.run_all(&update_rows(
                "analytics_entities",
                &["id", "state"],
                "state = v.state",
                "analytics_entities.id = v.id",
                updates,
            ))
            .await?;
            if (rows.len() as i64) < SCRUB_PAGE {
                return Ok(());
            }
        }
    }

    /// A row's (or latest state's) state with this erasure's values blank, if it held one.
    fn scrubbed(self, row: &Row) -> Result<Option<String>> {
        let kind = row.text("entity_kind")?;
        let kind = AnalyticsKind::parse(&kind)
            .ok_or_else(|| Error::Corrupt(format!("analytics entity kind {kind:?} is unknown")))?;
        let mut state: Value = serde_json::from_str(&row.text("state")?)
            .map_err(|e| Error::Corrupt(format!("an analytics state is not JSON: {e}")))?;
        let (id, tenant) = (row.uuid("entity_id")?, row.uuid("tenant_id")?);
        if !self.scrub(kind, id, tenant, &mut state) {
            return Ok(None);
        }
        serde_json::to_string(&state)
            .map(Some)
            .map_err(|e| Error::Corrupt(format!("cannot encode an analytics state: {e}")))
    }
}

/// Which rows or states a scrub reads.
#[derive(Clone, Copy, Debug)]
enum Selection {
    /// One entity's.
    Entity(Uuid),
    /// A tenant's entities of one kind.
    Tenant(Uuid, AnalyticsKind),
}

impl Selection {
    /// The `WHERE` condition (the entity's id in column `id_column`) and its values, `$1`….
    fn filter(self, id_column: &str) -> (String, Vec<Arg>) {
        match self {
            Selection::Entity(id) => (format!("{id_column} = $1"), vec![id.into()]),
            Selection::Tenant(tenant, kind) => (
                "tenant_id = $1 AND entity_kind = $2".to_owned(),
                vec![tenant.into(), kind.as_str().into()],
            ),
        }
    }
}

/// The onboarding owner the tenant's latest state names, if any.
async fn tenant_owner(tx: &mut Tx<'_>, tenant: Uuid) -> Result<Option<Uuid>> {
    let rows = tx
        .fetch(&Statement::new(
            "SELECT state FROM analytics_entities WHERE id = $1",
            vec![tenant.into()],
        ))
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let state: Value = serde_json::from_str(&row.text("state")?).map_err(|e| {
        Error::Corrupt(format!(
            "{}: the state of tenant {tenant} is not JSON: {e}",
            names::ANALYTICS
        ))
    })?;
    Ok(owner(&state))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_erasure_blanks_only_the_values_of_its_subject() {
        let (tenant, owner, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let state = json!({
            "name": "Acme",
            "onboarding": {"plan": {"owner_user_id": owner.to_string(), "owner_email": "o@a.test"}},
            "deactivation_feedback": {"requested_by": "Ann", "text": "too expensive"},
        });
        let mut s = state.clone();
        let other = Erasure::Person {
            tenant,
            subject: other,
        };
        assert!(!other.scrub(AnalyticsKind::Tenant, tenant, tenant, &mut s));
        assert_eq!(s, state);
        let owner_erased = Erasure::Person {
            tenant,
            subject: owner,
        };
        assert!(owner_erased.scrub(AnalyticsKind::Tenant, tenant, tenant, &mut s));
        assert_eq!(s["onboarding"]["plan"]["owner_email"], "");
        assert_eq!(s["deactivation_feedback"]["requested_by"], "Ann");
        assert!(Erasure::Tenant(tenant).scrub(AnalyticsKind::Tenant, tenant, tenant, &mut s));
        assert_eq!(s["deactivation_feedback"]["requested_by"], "");
        assert_eq!(s["deactivation_feedback"]["text"], "too expensive");
        assert_eq!(s["name"], "Acme");
    }

    #[test]
    fn a_contact_loses_name_email_and_phone() {
        let (tenant, id) = (Uuid::now_v7(), Uuid::now_v7());
        let mut s = json!({"fields": {"contact": {
            "contact_type": "billing", "name": "Bo", "email": "bo@b.test", "phone": "+1 555",
        }}});
        assert!(
            Erasure::Person {
                tenant,
                subject: id
            }
            .scrub(AnalyticsKind::Contact, id, tenant, &mut s)
        );
        assert_eq!(
            s,
            json!({"fields": {"contact": {
                "contact_type": "billing", "name": "", "email": "", "phone": "",
            }}})
        );
    }
}
