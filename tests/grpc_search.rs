//! SearchCustomers and secured search keys over the real gRPC API (issue 20): every scope sees
//! only what it may whatever filters it sends; a key's restrictions can only be narrowed, it
//! expires, it is refused when one byte changes and it calls nothing else; the read model
//! follows creates, updates, deletions and erasures (read with consistency tokens).
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::collections::BTreeSet;

use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{
    Clients, PgNode, bearer, claims, create_tenant_request, hs256_token, jwt_node, reason,
};
use tonic::Code;

/// `message` with `x-search-key: key` and no other credential.
fn with_key<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-search-key", key.parse().unwrap());
    request
}

/// The names a search answers, or its error.
async fn names(
    c: &mut Clients,
    request: tonic::Request<pb::SearchCustomersRequest>,
) -> Result<BTreeSet<String>, tonic::Status> {
    let page = c.search.search_customers(request).await?.into_inner();
    Ok(page.hits.into_iter().map(|h| h.name).collect())
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn search(scope: pb::SearchScope, filter: pb::SearchFilter) -> pb::SearchCustomersRequest {
    pb::SearchCustomersRequest {
        scope: scope as i32,
        filter: Some(filter),
        page_size: 100,
        ..Default::default()
    }
}

fn profile(sector: pb::IndustrySector, size: pb::SizeRange) -> pb::BusinessProfile {
    pb::BusinessProfile {
        industry_sector: sector as i32,
        size_range: size as i32,
        ..Default::default()
    }
}

/// A client of `tenant` with a profile; returns its id and the write's consistency token.
async fn client(
    c: &mut Clients,
    tenant: &str,
    name: &str,
    sector: pb::IndustrySector,
) -> (String, String) {
    let answer = c
        .clients
        .create_client(pb::CreateClientRequest {
            tenant_id: tenant.into(),
            name: name.into(),
            business_profile: Some(profile(sector, pb::SizeRange::SizeRange1150)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (
        answer.client.unwrap().id,
        answer.result.unwrap().consistency_token,
    )
}

/// Two business customers (Acme: IT, with clients Globex and Initech, one of which it
/// provisions a tenant for; Umbrella: financials, with client Hooli) and one consumer
/// customer (Pied Piper); the owners' tokens of Acme and Umbrella; a token to read with.
struct World {
    acme: String,
    acme_owner: String,
    umbrella: String,
    umbrella_owner: String,
    token: String,
}

async fn world(c: &mut Clients) -> World {
    let admin = hs256_token(&claims("platform-operator", None));
    let business = |name: &'static str, sector| {
        let mut c = c.clone();
        let admin = admin.clone();
        async move {
            let mut request = create_tenant_request(name, pb::Plan::Gold);
            request.business_profile = Some(profile(sector, pb::SizeRange::SizeRange51200));
            let answer = c
                .tenants
                .create_tenant(bearer(request, &admin))
                .await
                .unwrap()
                .into_inner();
            let tenant = answer.tenant.unwrap();
            let owner = c
                .users
                .accept_invitation(pb::AcceptInvitationRequest {
                    tenant_id: tenant.id.clone(),
                    token: answer.owner_invitation_token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .user
                .unwrap();
            (
                tenant.id.clone(),
                hs256_token(&claims(&owner.id, Some(&tenant.id))),
            )
        }
    };
    let (acme, acme_owner) = business("Acme", pb::IndustrySector::InformationTechnology).await;
    let (umbrella, umbrella_owner) = business("Umbrella", pb::IndustrySector::Financials).await;
    let mut consumer = create_tenant_request("Pied Piper", pb::Plan::Bronze);
    consumer.kind = pb::TenantKind::Consumer as i32;
    c.tenants.create_tenant(consumer).await.unwrap();
    let (globex, _) = client(c, &acme, "Globex", pb::IndustrySector::Energy).await;
    client(
        c,
        &acme,
        "Initech",
        pb::IndustrySector::InformationTechnology,
    )
    .await;
    let (_, token) = client(c, &umbrella, "Hooli", pb::IndustrySector::Financials).await;
    // Acme provisions a tenant for Globex: a "tenant customer".
    let provisioned = c
        .clients
        .provision_client_tenant(pb::ProvisionClientTenantRequest {
            tenant_id: acme.clone(),
            client_id: globex,
            slug: grpc_support::slug("globex"),
            owner_email: "owner@globex.test".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = provisioned
        .result
        .map(|r| r.consistency_token)
        .unwrap_or(token);
    World {
        acme,
        acme_owner,
        umbrella,
        umbrella_owner,
        token,
    }
}

#[tokio::test]
async fn every_scope_sees_only_its_own_whatever_the_filters() {
    let node = jwt_node().await;
    let mut c = node.clients.clone();
    let w = world(&mut c).await;
    let admin = hs256_token(&claims("platform-operator", None));
    let fresh = |mut r: pb::SearchCustomersRequest| {
        r.consistency_token = w.token.clone();
        r
    };
    let any = pb::SearchFilter::default;

    // Platform scopes.
    let all = names(
        &mut c,
        bearer(fresh(search(pb::SearchScope::AllCustomers, any())), &admin),
    )
    .await
    .unwrap();
    for name in [
        "Acme",
        "Umbrella",
        "Pied Piper",
        "Globex",
        "Initech",
        "Hooli",
    ] {
        assert!(all.contains(name), "{name} missing from {all:?}");
    }
    let business = |filter| bearer(search(pb::SearchScope::BusinessCustomers, filter), &admin);
    let found = names(&mut c, business(any())).await.unwrap();
    assert!(
        found.contains("Acme") && found.contains("Umbrella"),
        "{found:?}"
    );
    assert!(
        !found.contains("Pied Piper") && !found.contains("Globex"),
        "{found:?}"
    );
    // A business scope asked for consumers finds none; for clients, none.
    let consumers_only = pb::SearchFilter {
        kinds: vec![pb::TenantKind::Consumer as i32],
        ..any()
    };
    assert_eq!(
        names(&mut c, business(consumers_only)).await.unwrap(),
        set(&[])
    );
    let clients_only = pb::SearchFilter {
        entry: pb::SearchEntryKind::Client as i32,
        ..any()
    };
    assert_eq!(
        names(&mut c, business(clients_only)).await.unwrap(),
        set(&[])
    );
    let consumers = names(
        &mut c,
        bearer(search(pb::SearchScope::ConsumerCustomers, any()), &admin),
    )
    .await
    .unwrap();
    assert_eq!(consumers, set(&["Pied Piper"]));
    let tenant_customers = names(
        &mut c,
        bearer(search(pb::SearchScope::TenantCustomers, any()), &admin),
    )
    .await
    .unwrap();
    assert_eq!(tenant_customers, set(&["Acme"]));
    // Filters: sector, text, clients of a customer.
    let it = pb::SearchFilter {
        industry_sectors: vec![pb::IndustrySector::InformationTechnology as i32],
        ..any()
    };
    assert_eq!(
        names(
            &mut c,
            bearer(search(pb::SearchScope::AllCustomers, it), &admin)
        )
        .await
        .unwrap(),
        set(&["Acme", "Initech"])
    );
    let of_umbrella = pb::SearchFilter {
        client_of: w.umbrella.clone(),
        ..any()
    };
    assert_eq!(
        names(
            &mut c,
            bearer(
                search(pb::SearchScope::AllCustomers, of_umbrella.clone()),
                &admin
            )
        )
        .await
        .unwrap(),
        set(&["Hooli"])
    );

    // A tenant's caller: its own clients only, whatever it asks for.
    let own = |filter| pb::SearchCustomersRequest {
        tenant_id: w.acme.clone(),
        ..search(pb::SearchScope::Unspecified, filter)
    };
    assert_eq!(
        names(&mut c, bearer(own(any()), &w.acme_owner))
            .await
            .unwrap(),
        set(&["Globex", "Initech"])
    );
    let mut default_scope = search(pb::SearchScope::Unspecified, any());
    default_scope.tenant_id.clear();
    assert_eq!(
        names(&mut c, bearer(default_scope, &w.acme_owner))
            .await
            .unwrap(),
        set(&["Globex", "Initech"]),
        "a tenant caller's default scope is its own clients"
    );
    for widening in [
        of_umbrella,
        pb::SearchFilter {
            entry: pb::SearchEntryKind::Customer as i32,
            ..any()
        },
        pb::SearchFilter {
            text: "hooli".into(),
            ..any()
        },
        pb::SearchFilter {
            plans: vec![pb::Plan::Gold as i32],
            ..any()
        },
    ] {
        assert_eq!(
            names(&mut c, bearer(own(widening.clone()), &w.acme_owner))
                .await
                .unwrap(),
            set(&[]),
            "{widening:?}"
        );
    }
    for scope in [
        pb::SearchScope::AllCustomers,
        pb::SearchScope::BusinessCustomers,
        pb::SearchScope::ConsumerCustomers,
        pb::SearchScope::TenantCustomers,
    ] {
        let denied = names(&mut c, bearer(search(scope, any()), &w.acme_owner))
            .await
            .unwrap_err();
        assert_eq!(
            denied.code(),
            Code::PermissionDenied,
            "{scope:?}: {denied:?}"
        );
    }
    // Another tenant's clients: refused, not empty.
    let denied = names(&mut c, bearer(own(any()), &w.umbrella_owner))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert_eq!(reason(&denied), "TENANT_MISMATCH");
    // A user of the tenant without client:read.
    let invited = grpc_support::invite(&mut c, &w.acme, "nobody@acme.test", "", vec![]).await;
    let nobody = grpc_support::accept(&mut c, &w.acme, &invited.invitation_token).await;
    let nobody = hs256_token(&claims(&nobody.id, Some(&w.acme)));
    let denied = names(&mut c, bearer(own(any()), &nobody))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
}

#[tokio::test]
async fn a_search_key_cannot_be_widened_expires_and_is_refused_when_changed() {
    let node = jwt_node().await;
    let mut c = node.clients.clone();
    let w = world(&mut c).await;
    let admin = hs256_token(&claims("platform-operator", None));
    // Wait for the read model once, with the world's token.
    let mut first = search(pb::SearchScope::AllCustomers, pb::SearchFilter::default());
    first.consistency_token = w.token.clone();
    names(&mut c, bearer(first, &admin)).await.unwrap();

    // Acme's owner hands a browser a key for its clients in energy.
    let key = c
        .search
        .create_search_key(bearer(
            pb::CreateSearchKeyRequest {
                tenant_id: w.acme.clone(),
                filter: Some(pb::SearchFilter {
                    industry_sectors: vec![pb::IndustrySector::Energy as i32],
                    ..Default::default()
                }),
                ..Default::default()
            },
            &w.acme_owner,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(key.scope, pb::SearchScope::OwnClients as i32);
    assert_eq!(key.tenant_id, w.acme);
    let hour = key.valid_until.unwrap().seconds - chrono::Utc::now().timestamp();
    assert!(
        (3590..=3600).contains(&hour),
        "valid for an hour by default: {hour}"
    );
    let k = key.search_key.as_str();
    let plain = || search(pb::SearchScope::Unspecified, pb::SearchFilter::default());
    assert_eq!(
        names(&mut c, with_key(plain(), k)).await.unwrap(),
        set(&["Globex"])
    );
    // The request can narrow, never widen.
    for widening in [
        pb::SearchFilter {
            industry_sectors: vec![pb::IndustrySector::InformationTechnology as i32],
            ..Default::default()
        },
        pb::SearchFilter {
            client_of: w.umbrella.clone(),
            ..Default::default()
        },
        pb::SearchFilter {
            entry: pb::SearchEntryKind::Customer as i32,
            ..Default::default()
        },
        pb::SearchFilter {
            text: "initech".into(),
            ..Default::default()
        },
    ] {
        let request = search(pb::SearchScope::Unspecified, widening.clone());
        assert_eq!(
            names(&mut c, with_key(request, k)).await.unwrap(),
            set(&[]),
            "{widening:?}"
        );
    }
    let narrower = pb::SearchFilter {
        text: "glob".into(),
        ..Default::default()
    };
    assert_eq!(
        names(
            &mut c,
            with_key(search(pb::SearchScope::Unspecified, narrower), k)
        )
        .await
        .unwrap(),
        set(&["Globex"])
    );
    let widened_scope = names(
        &mut c,
        with_key(
            search(pb::SearchScope::AllCustomers, pb::SearchFilter::default()),
            k,
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(
        widened_scope.code(),
        Code::PermissionDenied,
        "{widened_scope:?}"
    );
    let other_tenant = pb::SearchCustomersRequest {
        tenant_id: w.umbrella.clone(),
        ..plain()
    };
    let refused = names(&mut c, with_key(other_tenant, k)).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");

    // A key calls nothing but SearchCustomers, and makes no keys.
    let get = c
        .tenants
        .get_tenant(with_key(
            pb::GetTenantRequest {
                tenant_id: w.acme.clone(),
                ..Default::default()
            },
            k,
        ))
        .await
        .unwrap_err();
    assert_eq!(get.code(), Code::PermissionDenied, "{get:?}");
    assert_eq!(reason(&get), "SEARCH_KEY_ONLY_SEARCHES");
    let more = c
        .search
        .create_search_key(with_key(
            pb::CreateSearchKeyRequest {
                tenant_id: w.acme.clone(),
                ..Default::default()
            },
            k,
        ))
        .await
        .unwrap_err();
    assert_eq!(more.code(), Code::PermissionDenied, "{more:?}");

    // One byte changed anywhere: refused.
    for at in [0, 5, k.len() / 2, k.len() - 1] {
        let mut bytes = k.as_bytes().to_vec();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        let refused = names(&mut c, with_key(plain(), &changed))
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            Code::Unauthenticated,
            "byte {at}: {refused:?}"
        );
        assert_eq!(reason(&refused), "SEARCH_KEY_INVALID");
    }

    // Keys live at most a day, and stop at their end.
    let in_secs = |s: i64| prost_types::Timestamp {
        seconds: chrono::Utc::now().timestamp() + s,
        nanos: 0,
    };
    let too_long = c
        .search
        .create_search_key(bearer(
            pb::CreateSearchKeyRequest {
                tenant_id: w.acme.clone(),
                valid_until: Some(in_secs(25 * 3600)),
                ..Default::default()
            },
            &w.acme_owner,
        ))
        .await
        .unwrap_err();
    assert_eq!(too_long.code(), Code::InvalidArgument, "{too_long:?}");
    let short = c
        .search
        .create_search_key(bearer(
            pb::CreateSearchKeyRequest {
                tenant_id: w.acme.clone(),
                valid_until: Some(in_secs(6)),
                ..Default::default()
            },
            &w.acme_owner,
        ))
        .await
        .unwrap()
        .into_inner()
        .search_key;
    names(&mut c, with_key(plain(), &short)).await.unwrap();
    // Past its end (whole seconds; room for the two calls above on a busy box).
    let ends = chrono::Utc::now().timestamp() + 6;
    while chrono::Utc::now().timestamp() <= ends {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let expired = names(&mut c, with_key(plain(), &short)).await.unwrap_err();
    assert_eq!(expired.code(), Code::Unauthenticated, "{expired:?}");
    assert_eq!(reason(&expired), "SEARCH_KEY_EXPIRED");

    // A platform key for business customers: consumers stay out whatever is asked.
    let business = c
        .search
        .create_search_key(bearer(
            pb::CreateSearchKeyRequest {
                scope: pb::SearchScope::BusinessCustomers as i32,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .search_key;
    let found = names(&mut c, with_key(plain(), &business)).await.unwrap();
    assert!(
        found.contains("Acme") && !found.contains("Pied Piper"),
        "{found:?}"
    );
    let consumers = pb::SearchFilter {
        kinds: vec![pb::TenantKind::Consumer as i32],
        ..Default::default()
    };
    assert_eq!(
        names(
            &mut c,
            with_key(search(pb::SearchScope::Unspecified, consumers), &business)
        )
        .await
        .unwrap(),
        set(&[])
    );
    // A tenant's owner cannot make a platform key.
    let denied = c
        .search
        .create_search_key(bearer(
            pb::CreateSearchKeyRequest {
                scope: pb::SearchScope::AllCustomers as i32,
                ..Default::default()
            },
            &w.acme_owner,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
}

#[tokio::test]
async fn the_read_model_follows_creates_updates_deletes_and_erasures() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let find = |text: &str, token: &str| {
        let mut request = search(
            pb::SearchScope::AllCustomers,
            pb::SearchFilter {
                text: text.into(),
                ..Default::default()
            },
        );
        request.consistency_token = token.into();
        request
    };
    let created = c
        .tenants
        .create_tenant(create_tenant_request("Northwind Traders", pb::Plan::Silver))
        .await
        .unwrap()
        .into_inner();
    let tenant = created.tenant.unwrap();
    let token = created.result.unwrap().consistency_token;
    let hits = c
        .search
        .search_customers(find("NORTHWIND", &token))
        .await
        .unwrap()
        .into_inner()
        .hits;
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].plan, hits[0].status, hits[0].version),
        (
            pb::Plan::Silver as i32,
            pb::SearchStatus::Active as i32,
            tenant.version
        )
    );
    // Found by slug too.
    let by_slug = names(&mut c, tonic::Request::new(find(&tenant.slug, &token)))
        .await
        .unwrap();
    assert_eq!(by_slug, set(&["Northwind Traders"]));

    // Renamed and classified.
    let updated = c
        .tenants
        .update_tenant(pb::UpdateTenantRequest {
            tenant_id: tenant.id.clone(),
            tenant: Some(pb::TenantUpdate {
                name: "Southwind Traders".into(),
                business_profile: Some(pb::BusinessProfile {
                    legal_name: "Southwind Holdings LLC".into(),
                    industry_group: pb::IndustryGroup::Retailing as i32,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into(), "business_profile".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = updated.result.unwrap().consistency_token;
    assert_eq!(
        names(&mut c, tonic::Request::new(find("northwind", &token)))
            .await
            .unwrap(),
        set(&[])
    );
    let hits = c
        .search
        .search_customers(find("holdings", &token))
        .await
        .unwrap()
        .into_inner()
        .hits;
    assert_eq!(hits.len(), 1, "found by its legal name");
    assert_eq!(hits[0].name, "Southwind Traders");
    assert_eq!(
        (hits[0].industry_sector, hits[0].industry_group),
        (
            pb::IndustrySector::ConsumerDiscretionary as i32,
            pb::IndustryGroup::Retailing as i32
        ),
        "the sector follows from the group"
    );

    // The profile cleared (the mask names it, the update leaves it unset): the legal name and
    // the classification go with it.
    let cleared = c
        .tenants
        .update_tenant(pb::UpdateTenantRequest {
            tenant_id: tenant.id.clone(),
            tenant: Some(pb::TenantUpdate::default()),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["business_profile".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = cleared.result.unwrap().consistency_token;
    assert_eq!(
        names(&mut c, tonic::Request::new(find("holdings", &token)))
            .await
            .unwrap(),
        set(&[]),
        "a cleared profile's legal name no longer matches"
    );

    // A client: created, disabled, deleted.
    let (client_id, token) =
        client(&mut c, &tenant.id, "Contoso", pb::IndustrySector::Utilities).await;
    let contoso = || {
        let mut r = find("contoso", "");
        r.filter.as_mut().unwrap().statuses = vec![pb::SearchStatus::Disabled as i32];
        r
    };
    assert_eq!(
        names(&mut c, tonic::Request::new(find("contoso", &token)))
            .await
            .unwrap(),
        set(&["Contoso"])
    );
    let disabled = c
        .clients
        .disable_client(pb::DisableClientRequest {
            tenant_id: tenant.id.clone(),
            client_id: client_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut request = contoso();
    request.consistency_token = disabled.result.unwrap().consistency_token;
    assert_eq!(
        names(&mut c, tonic::Request::new(request)).await.unwrap(),
        set(&["Contoso"])
    );
    let deleted = c
        .clients
        .delete_client(pb::DeleteClientRequest {
            tenant_id: tenant.id.clone(),
            client_id: client_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = deleted.result.unwrap().consistency_token;
    assert_eq!(
        names(&mut c, tonic::Request::new(find("contoso", &token)))
            .await
            .unwrap(),
        set(&[])
    );

    // The customer deleted (with a client left), then erased: gone, clients and all.
    let (_, _) = client(&mut c, &tenant.id, "Fabrikam", pb::IndustrySector::Energy).await;
    let deleted = c
        .tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: tenant.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = deleted.result.unwrap().consistency_token;
    for text in ["southwind", "fabrikam"] {
        assert_eq!(
            names(&mut c, tonic::Request::new(find(text, &token)))
                .await
                .unwrap(),
            set(&[]),
            "{text}"
        );
    }
    let erased = c
        .tenants
        .erase_tenant(pb::EraseTenantRequest {
            tenant_id: tenant.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = erased.result.unwrap().consistency_token;
    assert_eq!(
        names(&mut c, tonic::Request::new(find("southwind", &token)))
            .await
            .unwrap(),
        set(&[])
    );
}

/// The same query on the embedded store (SQLite): set filters, "provisions tenants", text and
/// pages of one.
#[tokio::test]
async fn the_embedded_store_answers_the_same_search() {
    let dir = tempfile::tempdir().unwrap();
    let node = grpc_support::Entityd::embedded(dir.path()).await;
    let mut c = Clients::connect(&node.endpoint()).await;
    let mut last = String::new();
    let mut tenants = Vec::new();
    for (name, sector) in [
        ("Alpha Energy", pb::IndustrySector::Energy),
        ("Beta Energy", pb::IndustrySector::Energy),
        ("Gamma Banking", pb::IndustrySector::Financials),
    ] {
        let mut request = create_tenant_request(name, pb::Plan::Gold);
        request.business_profile = Some(profile(sector, pb::SizeRange::SizeRange51200));
        let answer = c.tenants.create_tenant(request).await.unwrap().into_inner();
        tenants.push(answer.tenant.unwrap().id);
        last = answer.result.unwrap().consistency_token;
    }
    let (_, token) = client(&mut c, &tenants[0], "Delta", pb::IndustrySector::Energy).await;
    if !token.is_empty() {
        last = token;
    }
    let energy = |page_token: String| pb::SearchCustomersRequest {
        page_size: 1,
        page_token,
        consistency_token: last.clone(),
        ..search(
            pb::SearchScope::AllCustomers,
            pb::SearchFilter {
                industry_sectors: vec![pb::IndustrySector::Energy as i32],
                size_ranges: vec![pb::SizeRange::SizeRange51200 as i32],
                text: "energy".into(),
                ..Default::default()
            },
        )
    };
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = c
            .search
            .search_customers(energy(page_token))
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.hits.into_iter().map(|h| h.name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(
        seen,
        ["Alpha Energy", "Beta Energy"],
        "by name, one per page"
    );
    let provisioning = names(
        &mut c,
        tonic::Request::new(search(
            pb::SearchScope::AllCustomers,
            pb::SearchFilter {
                provisions_tenants: Some(false),
                kinds: vec![pb::TenantKind::Business as i32],
                ..Default::default()
            },
        )),
    )
    .await
    .unwrap();
    assert_eq!(
        provisioning,
        set(&["Alpha Energy", "Beta Energy", "Gamma Banking"])
    );
    node.terminate(std::time::Duration::from_secs(10)).await;
}
