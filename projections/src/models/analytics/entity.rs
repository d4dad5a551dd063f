//! One entity of the history: its domain state, folded event by event with the domain's own
//! per-entity functions (`created` and `evolve` of `Tenant`, `Organization`, `Team`, `User`,
//! `Client` and `Record`), and the two JSON forms it is stored in.

use chrono::{DateTime, Utc};
use engine::domain::{
    Client, ClientEvent, Organization, OrganizationEvent, OrganizationId, Record, RecordEvent,
    Team, TeamEvent, Tenant, TenantEvent, TenantId, TenantScopeEvent, User, UserEvent,
};
use serde_json::Value;

use crate::{
    Error, Result,
    kafka::SECRET_HASH_FIELDS,
    query::{AnalyticsKind, ChangeOperation},
};

/// Fields of the state that another stream keeps (a user's claims stream, a tenant-wide
/// claims re-synchronisation): not the entity's own history, so left out of its rows.
const OTHER_STREAMS_FIELDS: [&str; 2] = ["claims_version", "claims_sync"];

/// The domain state of one entity of the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Entity {
    /// Boxed: the largest by far.
    Tenant(Box<Tenant>),
    Organization(Organization),
    Team(Team),
    User(User),
    Client(Client),
    /// A department, location or contact.
    Record(Record),
}

impl Entity {
    /// The entity's version (its stream's sequence).
    pub(super) fn version(&self) -> i64 {
        match self {
            Entity::Tenant(e) => e.version,
            Entity::Organization(e) => e.version,
            Entity::Team(e) => e.version,
            Entity::User(e) => e.version,
            Entity::Client(e) => e.version,
            Entity::Record(e) => e.version,
        }
    }

    /// The organization, if it is one.
    pub(super) fn organization(&self) -> Option<&Organization> {
        match self {
            Entity::Organization(org) => Some(org),
            _ => None,
        }
    }

    /// The organization, if it is one, to change.
    pub(super) fn organization_mut(&mut self) -> Option<&mut Organization> {
        match self {
            Entity::Organization(org) => Some(org),
            _ => None,
        }
    }

    /// The entity as stored in `analytics_entities`: its domain JSON with the hashes of issued
    /// secrets blanked (the fold never reads them; kept as "" so the state still decodes).
    pub(super) fn stored(&self) -> Result<Value> {
        let mut value = match self {
            Entity::Tenant(e) => serde_json::to_value(e),
            Entity::Organization(e) => serde_json::to_value(e),
            Entity::Team(e) => serde_json::to_value(e),
            Entity::User(e) => serde_json::to_value(e),
            Entity::Client(e) => serde_json::to_value(e),
            Entity::Record(e) => serde_json::to_value(e),
        }
        .map_err(|e| Error::Corrupt(format!("cannot encode an entity's state: {e}")))?;
        blank_secret_hashes(&mut value);
        Ok(value)
    }

    /// The entity's two JSON texts, made of one encoding: as stored (see [`Entity::stored`])
    /// and as its row shows it (see [`row_state`]).
    pub(super) fn texts(&self) -> Result<StateTexts> {
        let stored = self.stored()?;
        Ok(StateTexts {
            stored: json_text(&stored)?,
            row: json_text(&row_state(stored))?,
        })
    }

    /// An entity of `kind` stored as `state` (see [`Entity::stored`]).
    pub(super) fn from_stored(kind: AnalyticsKind, state: &str) -> Result<Self> {
        let corrupt = |e: serde_json::Error| {
            Error::Corrupt(format!(
                "analytics_entities holds a {} state this build cannot read ({e}); rebuild \
                 the analytics projection",
                kind.as_str()
            ))
        };
        Ok(match kind {
            AnalyticsKind::Tenant => Entity::Tenant(serde_json::from_str(state).map_err(corrupt)?),
            AnalyticsKind::Organization => {
                Entity::Organization(serde_json::from_str(state).map_err(corrupt)?)
            }
            AnalyticsKind::Team => Entity::Team(serde_json::from_str(state).map_err(corrupt)?),
            AnalyticsKind::User => Entity::User(serde_json::from_str(state).map_err(corrupt)?),
            AnalyticsKind::Client => Entity::Client(serde_json::from_str(state).map_err(corrupt)?),
            AnalyticsKind::Department | AnalyticsKind::Location | AnalyticsKind::Contact => {
                Entity::Record(serde_json::from_str(state).map_err(corrupt)?)
            }
        })
    }
}

/// An entity's state as JSON text, twice (see [`Entity::texts`]).
pub(super) struct StateTexts {
    /// For `analytics_entities`.
    pub(super) stored: String,
    /// For its row of `analytics_changes`.
    pub(super) row: String,
}

/// `value` as JSON text.
pub(super) fn json_text(value: &Value) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::Corrupt(format!("cannot encode an analytics state: {e}")))
}

/// A row's state (what an export shows) made of a stored state: without the hashes of issued
/// secrets (as Kafka publishes events) and without what other streams keep.
fn row_state(mut view: Value) -> Value {
    drop_secret_hashes(&mut view);
    if let Value::Object(fields) = &mut view {
        for field in OTHER_STREAMS_FIELDS {
            fields.remove(field);
        }
    }
    view
}

/// Removes every field named in [`SECRET_HASH_FIELDS`], at any depth.
fn drop_secret_hashes(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|name, _| !SECRET_HASH_FIELDS.contains(&name.as_str()));
            fields.values_mut().for_each(drop_secret_hashes);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_secret_hashes),
        _ => {}
    }
}

/// Sets every string of `value` named in [`SECRET_HASH_FIELDS`], at any depth, to "".
fn blank_secret_hashes(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                match field {
                    Value::String(s) if SECRET_HASH_FIELDS.contains(&name.as_str()) => s.clear(),
                    other => blank_secret_hashes(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(blank_secret_hashes),
        _ => {}
    }
}

/// What an event of one of the history's streams is to its entity. Every variant is named (no
/// wildcard), so whoever adds an event decides.
pub(super) fn operation(event: &TenantScopeEvent) -> Option<ChangeOperation> {
    use ChangeOperation::{Create, Delete, Erase, Update};
    Some(match event {
        TenantScopeEvent::Tenant(e) => match e {
            TenantEvent::TenantCreated { .. } => Create,
            TenantEvent::TenantDeleted { .. } => Delete,
            TenantEvent::TenantErased => Erase,
            TenantEvent::TenantUpdated { .. }
            | TenantEvent::TenantPlanChanged { .. }
            | TenantEvent::TenantSuspended { .. }
            | TenantEvent::TenantReactivated
            | TenantEvent::TenantDeactivated { .. }
            | TenantEvent::OnboardingStarted { .. }
            | TenantEvent::OnboardingCompleted
            | TenantEvent::RegistrationConfigured { .. }
            | TenantEvent::RegistrationHostChanged { .. }
            | TenantEvent::RegistrationDomainAdded { .. }
            | TenantEvent::RegistrationDomainVerified { .. }
            | TenantEvent::RegistrationDomainRemoved { .. }
            | TenantEvent::ClaimsResyncEnded => Update,
        },
        TenantScopeEvent::Organization(e) => match e {
            OrganizationEvent::OrganizationCreated { .. } => Create,
            OrganizationEvent::OrganizationDeleted { .. } => Delete,
            OrganizationEvent::OrganizationUpdated { .. }
            | OrganizationEvent::OrganizationMoved { .. } => Update,
        },
        TenantScopeEvent::Team(e) => match e {
            TeamEvent::TeamCreated { .. } => Create,
            TeamEvent::TeamDeleted { .. } => Delete,
            TeamEvent::TeamUpdated { .. }
            | TeamEvent::MembershipAdded { .. }
            | TeamEvent::MembershipRemoved { .. } => Update,
        },
        TenantScopeEvent::User(e) => match e {
            UserEvent::UserInvited { .. } | UserEvent::UserRegistered { .. } => Create,
            UserEvent::UserErased { .. } => Erase,
            // On the user's claims stream: no change of the user's own.
            UserEvent::ClaimsChanged { .. } => return None,
            UserEvent::InvitationResent { .. }
            | UserEvent::InvitationRevoked { .. }
            | UserEvent::InvitationExpired { .. }
            | UserEvent::UserActivated { .. }
            | UserEvent::UserProfileUpdated { .. }
            | UserEvent::UserClientChanged { .. }
            | UserEvent::UserDeactivated { .. }
            | UserEvent::UserReactivated { .. }
            | UserEvent::MembershipAdded { .. }
            | UserEvent::MembershipRemoved { .. }
            | UserEvent::RoleAssigned { .. }
            | UserEvent::RoleRevoked { .. } => Update,
        },
        TenantScopeEvent::Client(e) => match e {
            ClientEvent::ClientCreated { .. } => Create,
            ClientEvent::ClientDeleted { .. } => Delete,
            ClientEvent::ClientUpdated { .. }
            | ClientEvent::ClientTenantProvisioned { .. }
            | ClientEvent::ClientTenantProvisioningFailed { .. }
            | ClientEvent::ClientDisabled { .. }
            | ClientEvent::ClientEnabled { .. } => Update,
        },
        // Departments, locations and contacts (partitions and groups are not wanted).
        TenantScopeEvent::Record(e) => match e {
            RecordEvent::RecordCreated { .. } => Create,
            RecordEvent::RecordDeleted { .. } => Delete,
            RecordEvent::RecordUpdated { .. } => Update,
        },
        TenantScopeEvent::Role(_) | TenantScopeEvent::ApiKey(_) => return None,
    })
}

/// Folds `event` of tenant `tenant` recorded at `at` into `state` (the entity so far, `None`
/// before its creation): the entity after it. `parent_depth` is the depth of an organization
/// of the tenant (0 for none), which a creation needs; a move leaves the depths of the
/// subtree to the caller ([`Organization::subtree_depths`]).
///
/// # Errors
/// [`Error::Inconsistent`] for an event about an entity never created, or of another kind.
pub(super) fn fold(
    state: Option<Entity>,
    event: &TenantScopeEvent,
    tenant: TenantId,
    at: DateTime<Utc>,
    parent_depth: &dyn Fn(Option<OrganizationId>) -> usize,
) -> Result<Entity> {
    let version = state.as_ref().map_or(0, Entity::version);
    let folded = match (state, event) {
        (state, TenantScopeEvent::Tenant(e)) => match (Tenant::created(e, version, at), state) {
            (Some(created), _) => Some(Entity::Tenant(Box::new(created))),
            (None, Some(Entity::Tenant(mut t))) => {
                t.evolve(e, at);
                Some(Entity::Tenant(t))
            }
            _ => None,
        },
        (state, TenantScopeEvent::Organization(e)) => {
            let created = match e {
                OrganizationEvent::OrganizationCreated { parent_id, .. } => {
                    let depth = parent_depth(*parent_id) + 1;
                    Organization::created(tenant, e, depth, version, at)
                }
                _ => None,
            };
            match (created, state) {
                (Some(created), _) => Some(Entity::Organization(created)),
                (None, Some(Entity::Organization(mut o))) => {
                    o.evolve(e, at);
                    Some(Entity::Organization(o))
                }
                _ => None,
            }
        }
        (state, TenantScopeEvent::Team(e)) => {
            match (Team::created(tenant, e, version, at), state) {
                (Some(created), _) => Some(Entity::Team(created)),
                (None, Some(Entity::Team(mut t))) => {
                    t.evolve(e, at);
                    Some(Entity::Team(t))
                }
                _ => None,
            }
        }
        (state, TenantScopeEvent::User(e)) => {
            match (User::created(tenant, e, version, at), state) {
                (Some(created), _) => Some(Entity::User(created)),
                (None, Some(Entity::User(mut u))) => {
                    u.evolve(e, at);
                    Some(Entity::User(u))
                }
                _ => None,
            }
        }
        (state, TenantScopeEvent::Client(e)) => {
            match (Client::created(tenant, e, version, at), state) {
                (Some(created), _) => Some(Entity::Client(created)),
                (None, Some(Entity::Client(mut c))) => {
                    c.evolve(e, at);
                    Some(Entity::Client(c))
                }
                _ => None,
            }
        }
        (state, TenantScopeEvent::Record(e)) => {
            match (Record::created(tenant, e, version, at), state) {
                (Some(created), _) => Some(Entity::Record(created)),
                (None, Some(Entity::Record(mut r))) => {
                    r.evolve(e, at);
                    Some(Entity::Record(r))
                }
                _ => None,
            }
        }
        (_, TenantScopeEvent::Role(_) | TenantScopeEvent::ApiKey(_)) => None,
    };
    folded.ok_or_else(|| Error::Inconsistent {
        model: super::super::names::ANALYTICS,
        message: format!(
            "{} of tenant {tenant}: an event for an entity the history never saw created",
            event.event_type()
        ),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn stored_states_keep_hashes_blank_and_rows_leave_them_out() {
        let mut stored = json!({
            "email": "ann@example.com",
            "invitation": {"token_hash": "ab12", "state": "pending"},
            "onboarding": {"plan": {"owner_email": "o@example.com", "owner_token_hash": "cd"}},
            "claims_version": 3,
            "claims_sync": {"after": null},
        });
        blank_secret_hashes(&mut stored);
        assert_eq!(stored["invitation"]["token_hash"], "");
        assert_eq!(stored["onboarding"]["plan"]["owner_token_hash"], "");
        assert_eq!(
            row_state(stored.clone()),
            json!({
                "email": "ann@example.com",
                "invitation": {"state": "pending"},
                "onboarding": {"plan": {"owner_email": "o@example.com"}},
            })
        );
    }
}
