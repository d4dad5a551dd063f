//! Bad ClientService input.

use super::*;

pub(super) fn cases(c: &Clients, f: &Fixtures) -> Vec<Case> {
    let unknown = uuid::Uuid::now_v7().to_string();
    let (t, cl) = (f.tenant.clone(), f.client.clone());
    let create = |name: &str, external_id: &str| pb::CreateClientRequest {
        tenant_id: t.clone(),
        name: name.into(),
        external_id: external_id.into(),
        ..Default::default()
    };
    let get = |client_id: &str| pb::GetClientRequest {
        tenant_id: t.clone(),
        client_id: client_id.into(),
        ..Default::default()
    };
    let update = |update_mask, client| pb::UpdateClientRequest {
        tenant_id: t.clone(),
        client_id: cl.clone(),
        client,
        update_mask,
        ..Default::default()
    };
    let provision = |owner_email: &str, plan| pb::ProvisionClientTenantRequest {
        tenant_id: t.clone(),
        client_id: cl.clone(),
        slug: "Not A Slug".into(),
        owner_email: owner_email.into(),
        plan,
        ..Default::default()
    };
    vec![
        Case {
            label: "create client: malformed tenant",
            call: call!(
                c.clients,
                create_client,
                pb::CreateClientRequest {
                    tenant_id: "t".into(),
                    name: "N".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        Case {
            label: "create client: empty name, long external id",
            call: call!(c.clients, create_client, create(" ", &"x".repeat(201))),
            expect: Expect::Invalid(&["name", "external_id"]),
        },
        Case {
            label: "create client: bad profile URL and country",
            call: call!(
                c.clients,
                create_client,
                pb::CreateClientRequest {
                    business_profile: Some(pb::BusinessProfile {
                        logo_url: "javascript:alert(1)".into(),
                        address: Some(pb::Address {
                            country: "usa".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..create("Globex", "")
                }
            ),
            expect: Expect::Invalid(&[
                "business_profile.logo_url",
                "business_profile.address.country",
            ]),
        },
        Case {
            label: "get client: malformed id",
            call: call!(c.clients, get_client, get("c")),
            expect: Expect::Invalid(&["client_id"]),
        },
        Case {
            label: "get client: unknown",
            call: call!(c.clients, get_client, get(&unknown)),
            expect: Expect::NotFound,
        },
        Case {
            label: "list clients: unknown status, negative page size",
            call: call!(
                c.clients,
                list_clients,
                pb::ListClientsRequest {
                    tenant_id: t.clone(),
                    status: 99,
                    page_size: -1,
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["status", "page_size"]),
        },
        Case {
            label: "update client: no mask",
            call: call!(c.clients, update_client, update(None, None)),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "update client: unknown path",
            call: call!(c.clients, update_client, update(mask(&["status"]), None)),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "update client: empty name",
            call: call!(
                c.clients,
                update_client,
                update(mask(&["name"]), Some(pb::ClientUpdate::default()))
            ),
            expect: Expect::Invalid(&["client.name"]),
        },
        Case {
            label: "disable client: unknown",
            call: call!(
                c.clients,
                disable_client,
                pb::DisableClientRequest {
                    tenant_id: t.clone(),
                    client_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "delete client: missing id, bad request id",
            call: call!(
                c.clients,
                delete_client,
                pb::DeleteClientRequest {
                    tenant_id: t.clone(),
                    options: opts(&"r".repeat(129), None),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["client_id", "options.request_id"]),
        },
        Case {
            label: "provision client tenant: bad slug, no owner, unknown plan",
            call: call!(c.clients, provision_client_tenant, provision("", 42)),
            expect: Expect::Invalid(&["owner_email", "plan"]),
        },
        Case {
            label: "provision client tenant: bad slug and email",
            call: call!(c.clients, provision_client_tenant, provision("nobody", 0)),
            expect: Expect::Invalid(&["slug", "owner_email"]),
        },
        Case {
            label: "enable client: malformed tenant",
            call: call!(
                c.clients,
                enable_client,
                pb::EnableClientRequest {
                    tenant_id: "t".into(),
                    client_id: cl,
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
    ]
}
