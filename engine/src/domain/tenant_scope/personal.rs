//! Which values are personal data (SPEC §6), declared once per event type and once for the
//! state: the runtime seals exactly these before anything is stored, and opens them when it
//! reads. Every event variant is listed (no wildcard), so the compiler asks whoever adds an
//! event which of its fields are about a person.

use std::sync::Arc;

use uuid::Uuid;

use super::{TenantScope, TenantScopeEvent};
use crate::domain::{
    api_key::ApiKeyEvent,
    client::ClientEvent,
    directory::{RecordEvent, RecordFields},
    organization::OrganizationEvent,
    role::RoleEvent,
    team::TeamEvent,
    tenant::TenantEvent,
    user::UserEvent,
};

/// A kind of personal value; its name is bound into the value's ciphertext.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PersonalField {
    /// An email address.
    Email,
    /// A person's display name.
    DisplayName,
    /// Who asked for a tenant's deactivation (free text naming a person).
    RequestedBy,
    /// A phone number.
    Phone,
}

impl PersonalField {
    /// The field's name in associated data and reports.
    pub fn name(self) -> &'static str {
        match self {
            PersonalField::Email => "email",
            PersonalField::DisplayName => "display_name",
            PersonalField::RequestedBy => "requested_by",
            PersonalField::Phone => "phone",
        }
    }
}

/// One personal value, in place: whose it is, what it is, and the value itself.
#[derive(Debug)]
pub struct PersonalSlot<'a> {
    /// The person whose key protects it (a user id; the tenant id for values about the tenant
    /// as a whole, erased only with the tenant).
    pub subject: Uuid,
    /// What it is.
    pub field: PersonalField,
    /// The value (plaintext in the domain; sealed text in storage).
    pub value: &'a mut String,
}

fn slot(subject: Uuid, field: PersonalField, value: &mut String) -> PersonalSlot<'_> {
    PersonalSlot {
        subject,
        field,
        value,
    }
}

impl TenantScopeEvent {
    /// The personal values of this event (`tenant` is the scope's tenant id).
    pub fn personal_fields_mut(&mut self, tenant: Uuid) -> Vec<PersonalSlot<'_>> {
        match self {
            TenantScopeEvent::Tenant(e) => tenant_event_fields(e, tenant),
            TenantScopeEvent::User(e) => user_event_fields(e),
            TenantScopeEvent::Organization(e) => match e {
                OrganizationEvent::OrganizationCreated { .. }
                | OrganizationEvent::OrganizationUpdated { .. }
                | OrganizationEvent::OrganizationMoved { .. }
                | OrganizationEvent::OrganizationDeleted { .. } => Vec::new(),
            },
            TenantScopeEvent::Team(e) => match e {
                TeamEvent::TeamCreated { .. }
                | TeamEvent::TeamUpdated { .. }
                | TeamEvent::TeamDeleted { .. }
                | TeamEvent::MembershipAdded { .. }
                | TeamEvent::MembershipRemoved { .. } => Vec::new(),
            },
            TenantScopeEvent::Role(e) => match e {
                RoleEvent::RoleDefined { .. }
                | RoleEvent::RoleUpdated { .. }
                | RoleEvent::RoleDeleted { .. }
                | RoleEvent::PermissionPolicyChanged { .. } => Vec::new(),
            },
            TenantScopeEvent::Record(e) => match e {
                RecordEvent::RecordCreated { id, fields, .. }
                | RecordEvent::RecordUpdated { id, fields, .. } => contact_fields(id.0, fields),
                RecordEvent::RecordDeleted { .. } => Vec::new(),
            },
            TenantScopeEvent::Client(e) => match e {
                ClientEvent::ClientTenantProvisioned { tenant, .. } => vec![slot(
                    tenant.onboarding.owner_user_id.0,
                    PersonalField::Email,
                    &mut tenant.onboarding.owner_email,
                )],
                ClientEvent::ClientTenantProvisioningFailed { .. }
                | ClientEvent::ClientCreated { .. }
                | ClientEvent::ClientUpdated { .. }
                | ClientEvent::ClientDisabled { .. }
                | ClientEvent::ClientEnabled { .. }
                | ClientEvent::ClientDeleted { .. } => Vec::new(),
            },
            // A key holds no personal data: its name and foreign key name systems.
            TenantScopeEvent::ApiKey(e) => match e {
                ApiKeyEvent::ApiKeyCreated { .. }
                | ApiKeyEvent::ApiKeyRotated { .. }
                | ApiKeyEvent::ApiKeyRevoked { .. } => Vec::new(),
            },
        }
    }
}

/// A contact's name, email and phone, under the contact's own key; other kinds hold none.
fn contact_fields(subject: Uuid, fields: &mut RecordFields) -> Vec<PersonalSlot<'_>> {
    match fields {
        RecordFields::Contact(c) => vec![
            slot(subject, PersonalField::DisplayName, &mut c.name),
            slot(subject, PersonalField::Email, &mut c.email),
            slot(subject, PersonalField::Phone, &mut c.phone),
        ],
        RecordFields::Department(_)
        | RecordFields::Location(_)
        | RecordFields::Partition(_)
        | RecordFields::PartitionGroup(_) => Vec::new(),
    }
}

fn tenant_event_fields(event: &mut TenantEvent, tenant: Uuid) -> Vec<PersonalSlot<'_>> {
    match event {
        TenantEvent::OnboardingStarted { plan } => vec![slot(
            plan.owner_user_id.0,
            PersonalField::Email,
            &mut plan.owner_email,
        )],
        TenantEvent::TenantDeactivated { feedback, .. } => vec![slot(
            tenant,
            PersonalField::RequestedBy,
            &mut feedback.requested_by,
        )],
        TenantEvent::TenantCreated { .. }
        | TenantEvent::TenantUpdated { .. }
        | TenantEvent::TenantPlanChanged { .. }
        | TenantEvent::TenantSuspended { .. }
        | TenantEvent::TenantReactivated
        | TenantEvent::OnboardingCompleted
        | TenantEvent::TenantDeleted { .. }
        | TenantEvent::TenantErased
        | TenantEvent::RegistrationConfigured { .. }
        | TenantEvent::RegistrationHostChanged { .. }
        | TenantEvent::RegistrationDomainAdded { .. }
        | TenantEvent::RegistrationDomainVerified { .. }
        | TenantEvent::RegistrationDomainRemoved { .. }
        | TenantEvent::ClaimsResyncEnded => Vec::new(),
    }
}

fn user_event_fields(event: &mut UserEvent) -> Vec<PersonalSlot<'_>> {
    match event {
        UserEvent::UserInvited {
            id,
            email,
            display_name,
            ..
        }
        | UserEvent::UserRegistered {
            id,
            email,
            display_name,
            ..
        } => vec![
            slot(id.0, PersonalField::Email, email),
            slot(id.0, PersonalField::DisplayName, display_name),
        ],
        UserEvent::UserActivated { id, display_name }
        | UserEvent::UserProfileUpdated { id, display_name } => display_name
            .as_mut()
            .map(|name| slot(id.0, PersonalField::DisplayName, name))
            .into_iter()
            .collect(),
        UserEvent::InvitationResent { .. }
        | UserEvent::InvitationRevoked { .. }
        | UserEvent::InvitationExpired { .. }
        | UserEvent::UserClientChanged { .. }
        | UserEvent::UserDeactivated { .. }
        | UserEvent::UserReactivated { .. }
        | UserEvent::MembershipAdded { .. }
        | UserEvent::MembershipRemoved { .. }
        | UserEvent::RoleAssigned { .. }
        | UserEvent::RoleRevoked { .. }
        | UserEvent::ClaimsChanged { .. }
        | UserEvent::UserErased { .. } => Vec::new(),
    }
}

impl TenantScope {
    /// Visits each personal value of the state in place: the onboarding owner's email, the
    /// deactivation's requester, then every user's email and display name in user-id order,
    /// then every contact's name, email and phone in record-id order. Stops at the first error
    /// `visit` returns.
    ///
    /// A visitor rather than a list of slots: the users live in a persistent map, which lends
    /// one value mutably at a time.
    pub fn try_for_each_personal_field<E>(
        &mut self,
        mut visit: impl FnMut(PersonalSlot<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.try_for_each_tenant_personal_field(&mut visit)?;
        self.try_for_each_user_personal_field(&mut visit)?;
        self.try_for_each_contact_personal_field(&mut visit)
    }

    /// [`try_for_each_personal_field`](Self::try_for_each_personal_field) but the users': the
    /// tenant's and the contacts' values. A snapshot seals these in place and the users' as
    /// they are written ([`SealedUsers`](super::SealedUsers)), which copies no user.
    pub fn try_for_each_personal_field_outside_users<E>(
        &mut self,
        mut visit: impl FnMut(PersonalSlot<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.try_for_each_tenant_personal_field(&mut visit)?;
        self.try_for_each_contact_personal_field(&mut visit)
    }

    /// Every user's email and display name, in user-id order (each user copied out of the
    /// map shared with other copies of the scope: `Arc::make_mut`).
    pub fn try_for_each_user_personal_field<E>(
        &mut self,
        mut visit: impl FnMut(PersonalSlot<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let ids: Vec<_> = self.users.keys().copied().collect();
        for id in ids {
            let Some(user) = self.users.get_mut(&id).map(Arc::make_mut) else {
                continue;
            };
            visit(slot(id.0, PersonalField::Email, &mut user.email))?;
            visit(slot(
                id.0,
                PersonalField::DisplayName,
                &mut user.display_name,
            ))?;
        }
        Ok(())
    }

    fn try_for_each_tenant_personal_field<E>(
        &mut self,
        visit: &mut impl FnMut(PersonalSlot<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let tenant_id = self.tenant_id.0;
        let Some(tenant) = self.tenant.as_mut() else {
            return Ok(());
        };
        if let Some(onboarding) = tenant.onboarding.as_mut() {
            let plan = &mut onboarding.plan;
            visit(slot(
                plan.owner_user_id.0,
                PersonalField::Email,
                &mut plan.owner_email,
            ))?;
        }
        if let Some(feedback) = tenant.deactivation_feedback.as_mut() {
            visit(slot(
                tenant_id,
                PersonalField::RequestedBy,
                &mut feedback.requested_by,
            ))?;
        }
        Ok(())
    }

    fn try_for_each_contact_personal_field<E>(
        &mut self,
        visit: &mut impl FnMut(PersonalSlot<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let ids: Vec<_> = self.records.keys().copied().collect();
        for id in ids {
            let Some(record) = self.records.get_mut(&id) else {
                continue;
            };
            for personal in contact_fields(id.0, &mut record.fields) {
                visit(personal)?;
            }
        }
        Ok(())
    }
}
