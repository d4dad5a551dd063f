//! Bad input to ExportChanges (AnalyticsService): every bad field is named.

use super::*;

pub(super) fn cases(c: &Clients, f: &Fixtures) -> Vec<Case> {
    use pb::export_changes_request::Since;
    let t = f.tenant.clone();
    let export = |request: pb::ExportChangesRequest| call!(c.analytics, export_changes, request);
    vec![
        Case {
            label: "export: no since",
            call: export(pb::ExportChangesRequest {
                tenant_id: t.clone(),
                ..Default::default()
            }),
            expect: Expect::Invalid(&["since"]),
        },
        Case {
            label: "export: negative position, malformed tenant, kinds and token, huge cap",
            call: export(pb::ExportChangesRequest {
                tenant_id: "not-a-tenant".into(),
                since: Some(Since::AfterPosition(-5)),
                entity_kinds: vec![pb::EntityKind::Role as i32, 77],
                max_changes: 1_000_000,
                consistency_token: "ct1.nope".into(),
            }),
            expect: Expect::Invalid(&[
                "tenant_id",
                "after_position",
                "entity_kinds[0]",
                "entity_kinds[1]",
                "max_changes",
                "consistency_token",
            ]),
        },
        Case {
            label: "export: a time that is none, a negative cap",
            call: export(pb::ExportChangesRequest {
                tenant_id: t,
                since: Some(Since::SinceTime(prost_types::Timestamp {
                    seconds: i64::MAX,
                    nanos: 0,
                })),
                max_changes: -1,
                ..Default::default()
            }),
            expect: Expect::Invalid(&["since_time", "max_changes"]),
        },
    ]
}
