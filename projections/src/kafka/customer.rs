//! Customer events (seed 004's profile boundary), derived at publish time from tenant events:
//! `TenantCreated` → `CustomerRegistered`; a change of a customer field (`TenantUpdated` of the
//! name or business profile, a lifecycle event changing the status) → `CustomerUpdated`.
//! Nothing else of a tenant (plan, products, settings, onboarding and its owner's email,
//! suspension reasons, feedback, metadata) is in them.

use engine::{
    domain::{StreamId, TenantEvent, TenantId, TenantScopeEvent, TenantStatus},
    journal::RecordedEvent,
};
use serde_json::{Map, Value, json};

use super::{
    cloudevent::{Message, event_time},
    format::Encoding,
};
use crate::{Error, Result};

/// Type of the event published when a customer registered (a tenant was created).
pub const CUSTOMER_REGISTERED: &str = "CustomerRegistered";
/// Type of the event published when a field of a customer changed.
pub const CUSTOMER_UPDATED: &str = "CustomerUpdated";

/// `ce_id` of the customer event derived from the tenant event at `sequence` of the tenant
/// stream `stream`: `<tenant stream uuid>:<sequence>:customer` (distinct from the tenant
/// event's own, and the same every time it is published again).
pub fn customer_ce_id(stream: &StreamId, sequence: i64) -> String {
    format!("{}:{sequence}:customer", stream.id)
}

/// `ce_subject` of a customer's events: `customers/<customer id>`.
pub fn customer_subject(customer: TenantId) -> String {
    format!("customers/{customer}")
}

/// A customer event: its type and the customer's fields it states.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerEvent {
    /// [`CUSTOMER_REGISTERED`] or [`CUSTOMER_UPDATED`].
    pub event_type: &'static str,
    /// The fields: every profile field when registered (`name`, `slug`, `kind`, `status`,
    /// `business_profile`), the changed ones when updated.
    pub fields: Map<String, Value>,
}

impl CustomerEvent {
    /// The customer event a tenant-scope event implies, if any.
    ///
    /// # Errors
    /// [`serde_json::Error`] if a field does not encode (it always does).
    pub fn of(event: &TenantScopeEvent) -> serde_json::Result<Option<Self>> {
        let TenantScopeEvent::Tenant(event) = event else {
            return Ok(None);
        };
        let mut fields = Map::new();
        let event_type = match event {
            TenantEvent::TenantCreated {
                name,
                slug,
                kind,
                business_profile,
                ..
            } => {
                fields.insert("name".into(), json!(name));
                fields.insert("slug".into(), json!(slug));
                fields.insert("kind".into(), serde_json::to_value(kind)?);
                fields.insert("status".into(), json!(TenantStatus::Active));
                fields.insert(
                    "business_profile".into(),
                    serde_json::to_value(business_profile)?,
                );
                CUSTOMER_REGISTERED
            }
            TenantEvent::TenantUpdated {
                name,
                business_profile,
                settings: _,
                products: _,
            } => {
                if let Some(name) = name {
                    fields.insert("name".into(), json!(name));
                }
                if let Some(profile) = business_profile {
                    fields.insert("business_profile".into(), serde_json::to_value(profile)?);
                }
                CUSTOMER_UPDATED
            }
            TenantEvent::TenantSuspended { .. } => {
                fields.insert("status".into(), json!(TenantStatus::Suspended));
                CUSTOMER_UPDATED
            }
            TenantEvent::TenantReactivated => {
                fields.insert("status".into(), json!(TenantStatus::Active));
                CUSTOMER_UPDATED
            }
            TenantEvent::TenantDeactivated { .. } => {
                fields.insert("status".into(), json!(TenantStatus::Deactivated));
                CUSTOMER_UPDATED
            }
            TenantEvent::TenantDeleted { .. } => {
                fields.insert("status".into(), json!(TenantStatus::Deleted));
                CUSTOMER_UPDATED
            }
            TenantEvent::TenantPlanChanged { .. }
            | TenantEvent::OnboardingStarted { .. }
            | TenantEvent::OnboardingCompleted
            | TenantEvent::TenantErased
            | TenantEvent::RegistrationConfigured { .. }
            | TenantEvent::RegistrationHostChanged { .. }
            | TenantEvent::RegistrationDomainAdded { .. }
            | TenantEvent::RegistrationDomainVerified { .. }
            | TenantEvent::RegistrationDomainRemoved { .. }
            | TenantEvent::ClaimsResyncEnded => return Ok(None),
        };
        Ok((!fields.is_empty()).then_some(Self { event_type, fields }))
    }

    /// The message's JSON value: `customer_id`, `version` (the customer's version after the
    /// change), `recorded_at`, `update_mask` (the changed fields; CustomerUpdated only) and
    /// `customer` (`id` and the fields).
    pub fn value(&self, recorded: &RecordedEvent) -> Value {
        let id = recorded.tenant_id.to_string();
        let mut customer = Map::with_capacity(self.fields.len() + 1);
        customer.insert("id".into(), json!(id));
        customer.extend(self.fields.clone());
        let mut value = json!({
            "customer_id": id,
            "version": recorded.sequence,
            "recorded_at": event_time(recorded),
            "customer": customer,
        });
        if self.event_type == CUSTOMER_UPDATED {
            value["update_mask"] = json!(self.fields.keys().collect::<Vec<_>>());
        }
        value
    }
}

/// The customer message derived from a decoded journal event, if any, its value encoded by
/// `encoding` (protobuf: the message named after the event type).
pub(super) fn message(
    recorded: &RecordedEvent,
    event: &TenantScopeEvent,
    source: &str,
    encoding: &Encoding,
) -> Result<Option<Message>> {
    let encode_error = |e: &dyn std::fmt::Display| Error::Decode {
        position: recorded.position,
        event_type: recorded.event_type.clone(),
        message: format!("cannot encode its customer event {e}"),
    };
    let Some(customer) =
        CustomerEvent::of(event).map_err(|e| encode_error(&format!("as JSON: {e}")))?
    else {
        return Ok(None);
    };
    let value = encoding
        .customer_event(customer.event_type, &customer.value(recorded))
        .map_err(|e| encode_error(&e))?;
    let id = recorded.tenant_id.to_string();
    let version = recorded.sequence.to_string();
    Ok(Some(Message::cloud_event(
        recorded,
        value,
        &[
            (
                "ce_id",
                &customer_ce_id(&recorded.stream, recorded.sequence),
            ),
            ("ce_source", source),
            ("ce_type", &super::ce_type(customer.event_type)),
            ("ce_subject", &customer_subject(recorded.tenant_id)),
            ("ce_customerid", &id),
            ("ce_sequence", &version),
        ],
    )))
}

#[cfg(test)]
mod tests {
    use engine::domain::{BusinessProfile, Plan, TenantKind, TenantSettings};

    use super::*;

    fn tenant(event: TenantEvent) -> TenantScopeEvent {
        TenantScopeEvent::Tenant(event)
    }

    #[test]
    fn created_is_registered_with_the_profile_only() {
        let profile = BusinessProfile {
            legal_name: "Acme Inc".into(),
            ..BusinessProfile::default()
        };
        let created = tenant(TenantEvent::TenantCreated {
            id: TenantId::new_v7(),
            name: "Acme".into(),
            slug: "acme".into(),
            kind: TenantKind::Business,
            plan: Plan::Gold,
            settings: TenantSettings::default(),
            products: vec!["crm".into()],
            business_profile: Some(profile),
            parent: None,
        });
        let e = CustomerEvent::of(&created).unwrap().unwrap();
        assert_eq!(e.event_type, CUSTOMER_REGISTERED);
        assert_eq!(
            Value::Object(e.fields),
            json!({"name": "Acme", "slug": "acme", "kind": "business", "status": "active",
                   "business_profile": serde_json::to_value(BusinessProfile {
                       legal_name: "Acme Inc".into(), ..BusinessProfile::default()
                   }).unwrap()})
        );
    }

    #[test]
    fn only_changes_of_customer_fields_are_updates() {
        let renamed = tenant(TenantEvent::TenantUpdated {
            name: Some("New".into()),
            settings: Some(TenantSettings::default()),
            products: Some(vec![]),
            business_profile: Some(None),
        });
        let e = CustomerEvent::of(&renamed).unwrap().unwrap();
        assert_eq!(e.event_type, CUSTOMER_UPDATED);
        assert_eq!(
            Value::Object(e.fields),
            json!({"name": "New", "business_profile": null})
        );
        let settings_only = tenant(TenantEvent::TenantUpdated {
            name: None,
            settings: Some(TenantSettings::default()),
            products: Some(vec!["x".into()]),
            business_profile: None,
        });
        assert_eq!(CustomerEvent::of(&settings_only).unwrap(), None);
        let suspended = tenant(TenantEvent::TenantSuspended {
            reason: "overdue".into(),
        });
        let e = CustomerEvent::of(&suspended).unwrap().unwrap();
        assert_eq!(Value::Object(e.fields), json!({"status": "suspended"}));
        for none in [
            TenantEvent::TenantPlanChanged {
                from: Plan::Bronze,
                to: Plan::Gold,
            },
            TenantEvent::OnboardingCompleted,
            TenantEvent::TenantErased,
        ] {
            assert_eq!(CustomerEvent::of(&tenant(none)).unwrap(), None);
        }
    }
}
