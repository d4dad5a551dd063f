//! `entityctl analytics export`: the history streamed call after call into a file, each call
//! resuming after the last page the one before it received.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::Path,
    time::Duration,
};

use chrono::{DateTime, SecondsFormat};
use entity_proto::v1::{self as pb, export_changes_request::Since};
use serde::Serialize;
use tonic::{Code, Status};

use crate::{
    cli::entityctl::{
        Authed, Failure, Services,
        args::{AnalyticsCommand, ExportFormat, HistoryKindArg, SinceArg},
        render::{Exported, Rendered},
    },
    convert::timestamp,
};

/// The columns of a CSV export, in order (the header row).
pub const CSV_COLUMNS: [&str; 10] = [
    "position",
    "tenant_id",
    "entity_kind",
    "entity_id",
    "operation",
    "version",
    "event_id",
    "event_type",
    "time",
    "state",
];
/// Attempts of a call that failed for a reason a retry can mend (the node busy or going
/// away, a stream cut short without progress) before the export gives up.
const ATTEMPTS: u32 = 4;
/// The wait before a retry.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Runs an analytics command.
pub(super) async fn run(
    services: &mut Services,
    command: AnalyticsCommand,
) -> Result<Rendered, Failure> {
    let AnalyticsCommand::Export {
        since,
        tenant,
        kinds,
        format,
        file,
        per_call,
        read,
    } = command;
    let out = File::create(&file)
        .map_err(|e| Failure::Usage(format!("cannot create {}: {e}", file.display())))?;
    let mut rows = Rows::new(format, BufWriter::new(out), &file)?;
    let mut request = pb::ExportChangesRequest {
        tenant_id: tenant.unwrap_or_default(),
        since: Some(match since {
            SinceArg::Position(position) => Since::AfterPosition(position),
            SinceArg::Time(time) => Since::SinceTime(timestamp(time)),
        }),
        entity_kinds: kinds.into_iter().map(|k| kind_proto(k) as i32).collect(),
        max_changes: per_call.unwrap_or_default(),
        consistency_token: read.consistency_token.unwrap_or_default(),
    };
    let mut resume_after = match since {
        SinceArg::Position(position) => position,
        SinceArg::Time(_) => 0,
    };
    let mut failed = 0;
    loop {
        let before = rows.written;
        let call = export_call(&mut services.analytics, request.clone(), &mut rows).await;
        let progressed = rows.written > before || call.resume_after.is_some();
        if let Some(position) = call.resume_after {
            resume_after = position;
            request.since = Some(Since::AfterPosition(position));
        }
        match call.outcome {
            Ok(true) => break,
            Ok(false) if progressed => failed = 0,
            outcome => {
                let status = outcome.err().unwrap_or_else(|| {
                    Status::deadline_exceeded("the export stream ended without progress")
                });
                failed += 1;
                if failed >= ATTEMPTS || !retryable(&status) {
                    rows.finish()?;
                    return Err(Failure::Rpc(Status::new(
                        status.code(),
                        format!(
                            "{} ({} changes written to {}; resume with --since {resume_after})",
                            status.message(),
                            rows.written,
                            file.display()
                        ),
                    )));
                }
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
    rows.finish()?;
    Ok(Rendered::new(Exported {
        file: file.display().to_string(),
        format: match format {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Csv => "csv",
        },
        changes: rows.written,
        resume_after,
    }))
}

/// What one call did: the position its last page resumes after (if a page came), and
/// whether it reached the end (`Ok(true)`), ended short (`Ok(false)`) or failed.
struct Call {
    resume_after: Option<i64>,
    outcome: Result<bool, Status>,
}

/// One ExportChanges call, its pages written to `rows` as they come.
async fn export_call(
    service: &mut pb::analytics_service_client::AnalyticsServiceClient<Authed>,
    request: pb::ExportChangesRequest,
    rows: &mut Rows,
) -> Call {
    let mut call = Call {
        resume_after: None,
        outcome: Ok(false),
    };
    let mut stream = match service.export_changes(request).await {
        Ok(answer) => answer.into_inner(),
        Err(status) => {
            call.outcome = Err(status);
            return call;
        }
    };
    loop {
        match stream.message().await {
            Ok(Some(page)) => {
                for change in &page.changes {
                    if let Err(status) = rows.write(change) {
                        call.outcome = Err(status);
                        return call;
                    }
                }
                call.resume_after = Some(page.resume_after);
                if page.complete {
                    call.outcome = Ok(true);
                    return call;
                }
            }
            Ok(None) => return call,
            Err(status) => {
                call.outcome = Err(status);
                return call;
            }
        }
    }
}

/// Whether a retry (resuming where the export stands) can mend `status`.
fn retryable(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::ResourceExhausted | Code::DeadlineExceeded | Code::Aborted
    )
}

fn kind_proto(kind: HistoryKindArg) -> pb::EntityKind {
    match kind {
        HistoryKindArg::Tenant => pb::EntityKind::Tenant,
        HistoryKindArg::Client => pb::EntityKind::Client,
        HistoryKindArg::Organization => pb::EntityKind::Organization,
        HistoryKindArg::Team => pb::EntityKind::Team,
        HistoryKindArg::User => pb::EntityKind::User,
        HistoryKindArg::Department => pb::EntityKind::Department,
        HistoryKindArg::Location => pb::EntityKind::Location,
        HistoryKindArg::Contact => pb::EntityKind::Contact,
    }
}

/// One change as a line of a JSON-lines export.
#[derive(Serialize)]
struct Line<'a> {
    position: i64,
    tenant_id: &'a str,
    entity_kind: String,
    entity_id: &'a str,
    operation: String,
    version: i64,
    event_id: &'a str,
    event_type: &'a str,
    time: String,
    /// The entity's state, nested.
    state: serde_json::Value,
}

/// The export file being written.
struct Rows {
    sink: Sink,
    written: u64,
}

enum Sink {
    Jsonl(BufWriter<File>),
    Csv(Box<csv::Writer<BufWriter<File>>>),
}

impl Rows {
    /// Starts a file of `format` (a CSV file with its header row).
    fn new(format: ExportFormat, out: BufWriter<File>, path: &Path) -> Result<Self, Failure> {
        let sink = match format {
            ExportFormat::Jsonl => Sink::Jsonl(out),
            ExportFormat::Csv => {
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record(CSV_COLUMNS)
                    .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
                Sink::Csv(Box::new(csv))
            }
        };
        Ok(Self { sink, written: 0 })
    }

    /// Appends one change.
    fn write(&mut self, change: &pb::AnalyticsChange) -> Result<(), Status> {
        let kind = pb::EntityKind::try_from(change.entity_kind).map_or_else(
            |_| change.entity_kind.to_string(),
            |k| label(k.as_str_name(), "ENTITY_KIND_"),
        );
        let operation = pb::ChangeOperation::try_from(change.operation).map_or_else(
            |_| change.operation.to_string(),
            |o| label(o.as_str_name(), "CHANGE_OPERATION_"),
        );
        let time = change.time.as_ref().map(time_text).unwrap_or_default();
        let failed =
            |e: &dyn std::fmt::Display| Status::internal(format!("cannot write the export: {e}"));
        match &mut self.sink {
            Sink::Jsonl(out) => {
                let state = serde_json::from_str(&change.state_json).map_err(|e| {
                    Status::internal(format!(
                        "change {} holds a state that is not JSON: {e}",
                        change.position
                    ))
                })?;
                let line = Line {
                    position: change.position,
                    tenant_id: &change.tenant_id,
                    entity_kind: kind,
                    entity_id: &change.entity_id,
                    operation,
                    version: change.version,
                    event_id: &change.event_id,
                    event_type: &change.event_type,
                    time,
                    state,
                };
                serde_json::to_writer(&mut *out, &line).map_err(|e| failed(&e))?;
                out.write_all(b"\n").map_err(|e| failed(&e))?;
            }
            Sink::Csv(csv) => csv
                .write_record([
                    change.position.to_string().as_str(),
                    &change.tenant_id,
                    &kind,
                    &change.entity_id,
                    &operation,
                    &change.version.to_string(),
                    &change.event_id,
                    &change.event_type,
                    &time,
                    &change.state_json,
                ])
                .map_err(|e| failed(&e))?,
        }
        self.written += 1;
        Ok(())
    }

    /// Flushes the file.
    fn finish(&mut self) -> Result<(), Failure> {
        let flushed = match &mut self.sink {
            Sink::Jsonl(out) => out.flush(),
            Sink::Csv(csv) => csv.flush(),
        };
        flushed.map_err(|e| Failure::Usage(format!("cannot write the export file: {e}")))
    }
}

/// `ENTITY_KIND_ORGANIZATION` → `organization`.
fn label(proto_name: &str, prefix: &str) -> String {
    proto_name.trim_start_matches(prefix).to_lowercase()
}

/// A time as RFC 3339 UTC with microseconds (the history's precision).
fn time_text(ts: &prost_types::Timestamp) -> String {
    u32::try_from(ts.nanos)
        .ok()
        .and_then(|n| DateTime::from_timestamp(ts.seconds, n))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_times_are_the_exports() {
        assert_eq!(
            label(pb::EntityKind::Organization.as_str_name(), "ENTITY_KIND_"),
            "organization"
        );
        assert_eq!(
            label(
                pb::ChangeOperation::Erase.as_str_name(),
                "CHANGE_OPERATION_"
            ),
            "erase"
        );
        let t = prost_types::Timestamp {
            seconds: 1_900_000_000,
            nanos: 123_456_000,
        };
        assert_eq!(time_text(&t), "2030-03-17T17:46:40.123456Z");
        assert!(retryable(&Status::unavailable("x")));
        assert!(!retryable(&Status::permission_denied("x")));
    }
}
