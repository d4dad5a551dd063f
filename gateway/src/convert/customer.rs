//! Customer requests → tenant commands, and `Tenant` → the `Customer` message.
//!
//! A customer is a tenant account seen through its profile: RegisterCustomer is CreateTenant
//! of the profile fields, UpdateCustomer an UpdateTenant of `name` and `business_profile`,
//! and the `Customer` message shows id, name, slug, kind, status and business profile only.

use engine::domain::{Tenant, TenantCommand, TenantId, TenantKind, TenantStatus, UpdateTenant};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{
    Mutation, scoped_at,
    tenant::{self, NewTenantIds, profile_from_proto, profile_to_proto},
    tenant_read_at, timestamp,
};

/// Paths UpdateCustomer's `update_mask` may name: the profile fields a customer may change.
pub const UPDATE_PATHS: &[&str] = &["name", "business_profile"];

/// The request field naming the customer (its tenant's id).
const CUSTOMER_ID: &str = "customer_id";

/// RegisterCustomer: CreateTenant of the profile, on the default plan (bronze) with default
/// settings and no products; the owner's email is required, as for CreateTenant.
pub fn register(req: pb::RegisterCustomerRequest, ids: NewTenantIds) -> Result<Mutation, Status> {
    let create = pb::CreateTenantRequest {
        options: req.options,
        name: req.name,
        slug: req.slug,
        kind: tenant_kind(req.kind),
        plan: pb::Plan::Unspecified as i32,
        settings: None,
        products: Vec::new(),
        business_profile: req.business_profile,
        owner_email: req.owner_email,
        bootstrap_api_key: false,
    };
    tenant::create(create, ids)
}

/// UpdateCustomer: the mask decides which profile fields change (`business_profile` unset
/// clears it).
pub fn update(req: pb::UpdateCustomerRequest) -> Result<Mutation, Status> {
    let (tenant_id, options, paths) =
        scoped_at(req.options, (CUSTOMER_ID, &req.customer_id), |v| {
            v.update_mask(req.update_mask, UPDATE_PATHS)
        })?;
    let patch = req.customer.unwrap_or_default();
    let update = UpdateTenant {
        name: paths.contains(&"name").then_some(patch.name),
        business_profile: paths
            .contains(&"business_profile")
            .then(|| patch.business_profile.map(profile_from_proto)),
        settings: None,
        products: None,
    };
    Ok(Mutation::new(
        tenant_id,
        TenantCommand::Update(update),
        options,
    ))
}

/// GetCustomer: the customer's tenant.
pub fn get(req: &pb::GetCustomerRequest) -> Result<TenantId, Status> {
    tenant_read_at((CUSTOMER_ID, &req.customer_id), &req.consistency_token)
}

/// The `Customer` message of a tenant: its profile fields only.
pub fn to_proto(t: &Tenant) -> pb::Customer {
    pb::Customer {
        id: t.id.to_string(),
        name: t.name.clone(),
        slug: t.slug.clone(),
        kind: kind_to_proto(t.kind) as i32,
        status: status_to_proto(t.status) as i32,
        business_profile: t.business_profile.as_ref().map(profile_to_proto),
        version: t.version,
        create_time: Some(timestamp(t.created_at)),
        update_time: Some(timestamp(t.updated_at)),
    }
}

/// The `TenantKind` value of a `CustomerKind` value; an unknown one stays unknown (-1), so
/// CreateTenant's validation reports it on `kind`.
fn tenant_kind(kind: i32) -> i32 {
    match pb::CustomerKind::try_from(kind) {
        Ok(pb::CustomerKind::Unspecified) => pb::TenantKind::Unspecified as i32,
        Ok(pb::CustomerKind::Business) => pb::TenantKind::Business as i32,
        Ok(pb::CustomerKind::Consumer) => pb::TenantKind::Consumer as i32,
        Err(_) => -1,
    }
}

fn kind_to_proto(kind: TenantKind) -> pb::CustomerKind {
    match kind {
        TenantKind::Business => pb::CustomerKind::Business,
        TenantKind::Consumer => pb::CustomerKind::Consumer,
    }
}

fn status_to_proto(status: TenantStatus) -> pb::CustomerStatus {
    match status {
        TenantStatus::Active => pb::CustomerStatus::Active,
        TenantStatus::Suspended => pb::CustomerStatus::Suspended,
        TenantStatus::Deactivated => pb::CustomerStatus::Deactivated,
        TenantStatus::Deleted => pb::CustomerStatus::Deleted,
    }
}

#[cfg(test)]
mod tests {
    use engine::domain::TenantScopeCommand;

    use super::*;
    use crate::convert::violation_fields;

    fn register_request() -> pb::RegisterCustomerRequest {
        pb::RegisterCustomerRequest {
            name: "Acme".into(),
            slug: "acme".into(),
            kind: pb::CustomerKind::Consumer as i32,
            owner_email: "owner@acme.test".into(),
            ..Default::default()
        }
    }

    #[test]
    fn register_is_create_tenant_of_the_profile() {
        let ids = NewTenantIds::generate_where(|_| true).unwrap();
        let m = register(register_request(), ids.clone()).unwrap();
        assert_eq!(m.tenant_id, ids.tenant);
        let TenantScopeCommand::Tenant(TenantCommand::Create(c)) = m.command else {
            panic!()
        };
        assert_eq!(c.kind, TenantKind::Consumer);
        assert_eq!(c.plan, engine::domain::Plan::Bronze);
        assert!(c.products.is_empty());
        assert_eq!(c.onboarding.owner_email, "owner@acme.test");

        let bad = pb::RegisterCustomerRequest {
            kind: 7,
            owner_email: String::new(),
            ..register_request()
        };
        let s = register(bad, ids.clone()).unwrap_err();
        assert_eq!(violation_fields(&s), ["kind", "owner_email"]);
        let unspecified = pb::RegisterCustomerRequest {
            kind: 0,
            ..register_request()
        };
        let s = register(unspecified, ids).unwrap_err();
        assert_eq!(violation_fields(&s), ["kind"]);
    }

    #[test]
    fn update_changes_only_profile_fields() {
        let id = TenantId::new_v7();
        let req = pb::UpdateCustomerRequest {
            customer_id: id.to_string(),
            customer: Some(pb::CustomerUpdate {
                name: "New".into(),
                business_profile: None,
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into(), "business_profile".into()],
            }),
            ..Default::default()
        };
        let m = update(req).unwrap();
        assert_eq!(m.tenant_id, id);
        let TenantScopeCommand::Tenant(TenantCommand::Update(u)) = m.command else {
            panic!()
        };
        assert_eq!(u.name.as_deref(), Some("New"));
        assert_eq!(u.business_profile, Some(None));
        assert_eq!((u.settings, u.products), (None, None));

        let bad = pb::UpdateCustomerRequest {
            customer_id: "nope".into(),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["products".into()],
            }),
            ..Default::default()
        };
        let s = update(bad).unwrap_err();
        assert_eq!(violation_fields(&s), ["customer_id", "update_mask"]);
    }

    #[test]
    fn get_names_the_customer_field() {
        let s = get(&pb::GetCustomerRequest::default()).unwrap_err();
        assert_eq!(violation_fields(&s), ["customer_id"]);
        let id = TenantId::new_v7();
        let got = get(&pb::GetCustomerRequest {
            customer_id: id.to_string(),
            consistency_token: String::new(),
        });
        assert_eq!(got.unwrap(), id);
    }
}
