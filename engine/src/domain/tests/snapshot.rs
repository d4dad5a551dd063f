//! The state survives the snapshot encodings the runtime uses (bincode, JSON).

use super::support::*;
use crate::domain::{OrganizationCommand, Plan, TenantScope, TenantScopeEvent};

fn populated() -> TenantScope {
    let events: Vec<TenantScopeEvent> = vec![
        tenant_created(Plan::Gold),
        org_created(org(1), "A", None),
        org_created(org(2), "B", Some(org(1))),
        org_created(org(3), "C", None),
        org_deleted(org(3), None),
        deactivated(days(10)),
    ];
    given(events).scope
}

#[test]
fn bincode_round_trip() {
    let scope = populated();
    let config = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&scope, config).expect("encode");
    let (back, _): (TenantScope, usize) =
        bincode::serde::decode_from_slice(&bytes, config).expect("decode");
    assert_eq!(back, scope);
}

#[test]
fn json_round_trip_and_decisions_agree() {
    let scope = populated();
    let back: TenantScope =
        serde_json::from_str(&serde_json::to_string(&scope).expect("encode")).expect("decode");
    assert_eq!(back, scope);
    let cmd = crate::domain::TenantScopeCommand::Organization(OrganizationCommand::Delete {
        id: org(1),
        cascade: true,
    });
    let ctx = crate::domain::Context::at(t0());
    assert_eq!(back.decide(&cmd, &ctx), scope.decide(&cmd, &ctx));
}

#[test]
fn events_round_trip_through_their_stored_form() {
    let events = [
        tenant_created(Plan::Gold),
        suspended(),
        deactivated(days(3)),
        deleted(),
        org_created(org(1), "A", Some(org(2))),
        org_deleted(org(1), Some(org(2))),
    ];
    for e in events {
        let payload = serde_json::to_value(&e).expect("encode");
        let kind = e.stream(tid()).kind;
        let back = TenantScopeEvent::from_stored(kind, TenantScopeEvent::SCHEMA_VERSION, payload)
            .expect("decode");
        assert_eq!(back, e);
    }
}
