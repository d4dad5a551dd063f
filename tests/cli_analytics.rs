//! `entityctl analytics export` against `entityd` in embedded mode (SQLite, dev identity): the
//! history written as JSON lines and as CSV (header row, the state one JSON column) reads back
//! to exactly the changes ExportChanges streams, across several calls resuming one after the
//! other; `--since` a position or a time resumes where it says, and the summary names the
//! position the next export resumes after.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/cli.rs"]
mod cli;
#[path = "support/grpc.rs"]
mod grpc_support;

use std::path::Path;

use chrono::{DateTime, SecondsFormat};
use cli::{field, ok, token};
use entity_proto::v1::{self as pb, export_changes_request::Since};
use grpc_support::{Clients, Entityd};
use serde_json::Value;

/// A change as the export files hold it, every column as text but the state.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    columns: Vec<String>,
    state: Value,
}

const COLUMNS: [&str; 9] = [
    "position",
    "tenant_id",
    "entity_kind",
    "entity_id",
    "operation",
    "version",
    "event_id",
    "event_type",
    "time",
];

/// The changes after `after`, straight from ExportChanges, as rows of an export file.
async fn expected(endpoint: &str, after: i64) -> Vec<Row> {
    let mut c = Clients::connect(endpoint).await;
    let mut stream = c
        .analytics
        .export_changes(pb::ExportChangesRequest {
            since: Some(Since::AfterPosition(after)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut rows = Vec::new();
    while let Some(page) = stream.message().await.unwrap() {
        for c in page.changes {
            let kind = pb::EntityKind::try_from(c.entity_kind)
                .unwrap()
                .as_str_name();
            let op = pb::ChangeOperation::try_from(c.operation)
                .unwrap()
                .as_str_name();
            let time = c.time.unwrap();
            let time = DateTime::from_timestamp(time.seconds, time.nanos as u32)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Micros, true);
            rows.push(Row {
                columns: vec![
                    c.position.to_string(),
                    c.tenant_id,
                    kind.trim_start_matches("ENTITY_KIND_").to_lowercase(),
                    c.entity_id,
                    op.trim_start_matches("CHANGE_OPERATION_").to_lowercase(),
                    c.version.to_string(),
                    c.event_id,
                    c.event_type,
                    time,
                ],
                state: serde_json::from_str(&c.state_json).unwrap(),
            });
        }
    }
    rows
}

fn read_jsonl(path: &Path) -> Vec<Row> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let mut object: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
            let state = object.remove("state").unwrap();
            assert!(state.is_object(), "{state}");
            let columns = COLUMNS
                .iter()
                .map(|c| match object.remove(*c).unwrap() {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect();
            assert!(object.is_empty(), "unexpected fields {object:?}");
            Row { columns, state }
        })
        .collect()
}

fn read_csv(path: &Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut expected_header: Vec<&str> = COLUMNS.to_vec();
    expected_header.push("state");
    assert_eq!(header, expected_header);
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            let fields: Vec<String> = record.iter().map(String::from).collect();
            Row {
                columns: fields[..COLUMNS.len()].to_vec(),
                state: serde_json::from_str(&fields[COLUMNS.len()]).unwrap(),
            }
        })
        .collect()
}

#[tokio::test]
async fn exports_round_trip_as_json_lines_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let node = Entityd::embedded(dir.path()).await;
    let e = node.endpoint();

    let out = ok(
        &e,
        &[
            "tenant",
            "create",
            "--name",
            "Analytics, \"Inc\"",
            "--slug",
            "analytics-inc",
            "--kind",
            "business",
            "--plan",
            "gold",
            "--owner-email",
            "owner@analytics.example",
        ],
    )
    .await;
    let tenant = field(&out, "id").to_owned();
    let out = ok(&e, &["org", "create", &tenant, "--name", "Sales, EMEA"]).await;
    let org = field(&out, "id").to_owned();
    ok(
        &e,
        &[
            "user",
            "invite",
            &tenant,
            "ann@analytics.example",
            "--name",
            "Ann \"Quote\" Example",
            "--org",
            &org,
        ],
    )
    .await;
    let out = ok(
        &e,
        &[
            "department",
            "create",
            &tenant,
            "--name",
            "Line\\nBreak",
            "--code",
            "D1",
        ],
    )
    .await;
    let written = token(&out);

    // JSON lines, three changes per call: several calls, each resuming after the last
    let jsonl = dir.path().join("changes.jsonl");
    let out = ok(
        &e,
        &[
            "analytics",
            "export",
            "--since",
            "0",
            "--format",
            "jsonl",
            "--file",
            jsonl.to_str().unwrap(),
            "--per-call",
            "3",
            "--consistency-token",
            &written,
        ],
    )
    .await;
    let all = expected(&e, 0).await;
    assert!(all.len() >= 8, "{all:?}");
    assert_eq!(read_jsonl(&jsonl), all);
    let last = &all.last().unwrap().columns[0];
    assert_eq!(field(&out, "resume_after"), last);
    assert!(
        out.starts_with(&format!("exported {} changes to", all.len())),
        "{out}"
    );
    let tenant_rows: Vec<&Row> = all.iter().filter(|r| r.columns[1] == tenant).collect();
    assert_eq!(tenant_rows[0].columns[2], "tenant");
    assert_eq!(tenant_rows[0].state["name"], "Analytics, \"Inc\"");

    // CSV: a header row, the state one quoted JSON column
    let csv = dir.path().join("changes.csv");
    ok(
        &e,
        &[
            "analytics",
            "export",
            "--since",
            "0",
            "--format",
            "csv",
            "--file",
            csv.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(read_csv(&csv), all);

    // resuming after a position, or from a time: the rest of the history
    let middle = all[all.len() / 2].columns[0].clone();
    let rest = dir.path().join("rest.csv");
    ok(
        &e,
        &[
            "analytics",
            "export",
            "--since",
            &middle,
            "--tenant",
            &tenant,
            "--format",
            "csv",
            "--file",
            rest.to_str().unwrap(),
        ],
    )
    .await;
    let after_middle: Vec<Row> = expected(&e, middle.parse().unwrap())
        .await
        .into_iter()
        .filter(|r| r.columns[1] == tenant)
        .collect();
    assert!(!after_middle.is_empty());
    assert_eq!(read_csv(&rest), after_middle);
    let since = all.last().unwrap().columns[8].clone();
    let recent = dir.path().join("recent.jsonl");
    let out = ok(
        &e,
        &[
            "analytics",
            "export",
            "--since",
            &since,
            "--kind",
            "department",
            "--format",
            "jsonl",
            "--file",
            recent.to_str().unwrap(),
        ],
    )
    .await;
    let recent = read_jsonl(&recent);
    assert_eq!(recent, all[all.len() - 1..], "{out}");
    assert_eq!(recent[0].columns[2], "department");

    // a bad --since is the command line's, an unknown kind the server never sees
    let run = cli::entityctl(
        &e,
        &[
            "analytics",
            "export",
            "--since",
            "-3",
            "--format",
            "csv",
            "--file",
            "x.csv",
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    node.terminate(std::time::Duration::from_secs(10)).await;
}
