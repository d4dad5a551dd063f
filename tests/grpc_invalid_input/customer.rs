//! Bad CustomerService input.

use super::*;

pub(super) fn cases(c: &Clients, f: &Fixtures) -> Vec<Case> {
    let unknown = uuid::Uuid::now_v7().to_string();
    let t = f.tenant.clone();
    let register = |name: &str, slug: &str| pb::RegisterCustomerRequest {
        name: name.into(),
        slug: slug.into(),
        kind: pb::CustomerKind::Business as i32,
        owner_email: "owner@example.com".into(),
        ..Default::default()
    };
    let update = |id: &str, paths: &[&str]| pb::UpdateCustomerRequest {
        customer_id: id.into(),
        customer: Some(pb::CustomerUpdate {
            name: "Renamed".into(),
            ..Default::default()
        }),
        update_mask: mask(paths),
        ..Default::default()
    };
    vec![
        Case {
            label: "register customer: empty name, bad slug",
            call: call!(c.customers, register_customer, register(" ", "Not A Slug!")),
            expect: Expect::Invalid(&["name", "slug"]),
        },
        Case {
            label: "register customer: unknown kind, no owner email",
            call: call!(
                c.customers,
                register_customer,
                pb::RegisterCustomerRequest {
                    kind: 9,
                    owner_email: String::new(),
                    ..register("Acme", "valid-customer-1")
                }
            ),
            expect: Expect::Invalid(&["kind", "owner_email"]),
        },
        Case {
            label: "register customer: bad profile URL, bad request id",
            call: call!(
                c.customers,
                register_customer,
                pb::RegisterCustomerRequest {
                    options: opts("clé", None),
                    business_profile: Some(pb::BusinessProfile {
                        logo_url: "javascript:alert(1)".into(),
                        ..Default::default()
                    }),
                    ..register("Acme", "valid-customer-2")
                }
            ),
            expect: Expect::Invalid(&["options.request_id"]),
        },
        Case {
            label: "register customer: bad profile URL",
            call: call!(
                c.customers,
                register_customer,
                pb::RegisterCustomerRequest {
                    business_profile: Some(pb::BusinessProfile {
                        logo_url: "javascript:alert(1)".into(),
                        ..Default::default()
                    }),
                    ..register("Acme", "valid-customer-3")
                }
            ),
            expect: Expect::Invalid(&["business_profile.logo_url"]),
        },
        Case {
            label: "get customer: malformed id",
            call: call!(
                c.customers,
                get_customer,
                pb::GetCustomerRequest {
                    customer_id: "c".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["customer_id"]),
        },
        Case {
            label: "get customer: unknown",
            call: call!(
                c.customers,
                get_customer,
                pb::GetCustomerRequest {
                    customer_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "update customer: no mask",
            call: call!(c.customers, update_customer, update(&t, &[])),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "update customer: a tenant-only path",
            call: call!(c.customers, update_customer, update(&t, &["settings"])),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "update customer: empty name",
            call: call!(
                c.customers,
                update_customer,
                pb::UpdateCustomerRequest {
                    customer: Some(pb::CustomerUpdate::default()),
                    ..update(&t, &["name"])
                }
            ),
            expect: Expect::Invalid(&["customer.name"]),
        },
        Case {
            label: "update customer: unknown",
            call: call!(c.customers, update_customer, update(&unknown, &["name"])),
            expect: Expect::NotFound,
        },
    ]
}
