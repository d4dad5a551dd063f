//! Projection states as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{View, count_line, nonempty_or, rfc3339, table};

/// The answer to `admin projections`: one table row per projection.
pub struct Projections(pub Vec<pb::ProjectionStatus>);

impl View for Projections {
    fn text(&self) -> Vec<String> {
        let rows: Vec<Vec<String>> = self
            .0
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    nonempty_or(&p.checkpoint, "-").to_owned(),
                    behind_text(p),
                    lag_text(p.lag_ms),
                    failures_text(p),
                    nonempty_or(&p.last_error, "-").to_owned(),
                ]
            })
            .collect();
        let header = [
            "NAME",
            "CHECKPOINT",
            "BEHIND",
            "LAG_MS",
            "FAILURES",
            "LAST_ERROR",
        ];
        let mut out = table(&header, &rows);
        out.push(count_line(self.0.len(), "projection"));
        out
    }

    fn json(&self) -> Value {
        json!({
            "projections": self.0.iter().map(|p| json!({
                "name": p.name,
                "checkpoint": p.checkpoint,
                "events_behind": p.events_behind,
                "events_behind_capped": p.events_behind_capped,
                "lag_ms": p.lag_ms,
                "newest_applied_time": p.newest_applied_time.as_ref().map(rfc3339),
                "applied_events": p.applied_events,
                "failures": p.failures,
                "consecutive_failures": p.consecutive_failures,
                "last_error": (!p.last_error.is_empty()).then_some(&p.last_error),
            })).collect::<Vec<_>>(),
        })
    }

    /// The projection names.
    fn ids(&self) -> Vec<String> {
        self.0.iter().map(|p| p.name.clone()).collect()
    }
}

/// The answer to `admin rebuild-projection`: the rebuild has started.
pub struct Rebuilding(pub String);

impl View for Rebuilding {
    fn text(&self) -> Vec<String> {
        vec![format!(
            "rebuilding projection {} (see `entityctl admin projections` for its progress)",
            self.0
        )]
    }

    fn json(&self) -> Value {
        json!({ "name": self.0, "rebuilding": true })
    }

    fn ids(&self) -> Vec<String> {
        vec![self.0.clone()]
    }
}

/// The answer to `admin node`.
pub struct NodeView(pub pb::NodeStatus);

impl View for NodeView {
    fn text(&self) -> Vec<String> {
        let n = &self.0;
        let mut lines = vec![
            format!("rss_bytes: {}", n.rss_bytes),
            format!("active_entities: {}", n.active_entities),
            format!("uptime_seconds: {}", n.uptime_seconds),
            format!(
                "unreadable_personal_values: {}",
                n.unreadable_personal_values
            ),
        ];
        if let Some(c) = &n.cluster {
            lines.push(format!("cluster_node: {}", c.node_id));
            lines.push(format!("shards_held: {}", c.shards_held));
            lines.push(format!("runs_projections: {}", c.runs_projections));
            lines.push(format!("fenced_refusals: {}", c.fenced_refusals));
        }
        match &n.kafka {
            Some(k) => lines.push(format!(
                "kafka: {} delivered, {} failed ({} failed batches, retried)",
                k.delivered, k.failed, k.failed_batches
            )),
            None => lines.push("kafka: off".to_owned()),
        }
        lines
    }

    fn json(&self) -> Value {
        let n = &self.0;
        json!({
            "rss_bytes": n.rss_bytes,
            "active_entities": n.active_entities,
            "uptime_seconds": n.uptime_seconds,
            "unreadable_personal_values": n.unreadable_personal_values,
            "cluster": n.cluster.as_ref().map(|c| json!({
                "node_id": c.node_id,
                "shards_held": c.shards_held,
                "runs_projections": c.runs_projections,
                "fenced_refusals": c.fenced_refusals,
            })),
            "kafka": n.kafka.as_ref().map(|k| json!({
                "delivered": k.delivered,
                "failed": k.failed,
                "failed_batches": k.failed_batches,
            })),
        })
    }

    fn ids(&self) -> Vec<String> {
        self.0
            .cluster
            .as_ref()
            .map(|c| vec![c.node_id.clone()])
            .unwrap_or_default()
    }
}

/// `N`, `>=N` when capped, `unknown` when the journal could not be asked (-1).
fn behind_text(p: &pb::ProjectionStatus) -> String {
    match p.events_behind {
        n if n < 0 => "unknown".to_owned(),
        n if p.events_behind_capped => format!(">={n}"),
        n => n.to_string(),
    }
}

/// Milliseconds, or `unknown` (-1: behind with nothing applied yet).
fn lag_text(lag_ms: i64) -> String {
    if lag_ms < 0 {
        "unknown".to_owned()
    } else {
        lag_ms.to_string()
    }
}

/// `N`, or `N (M in a row)` while failing.
fn failures_text(p: &pb::ProjectionStatus) -> String {
    if p.consecutive_failures == 0 {
        p.failures.to_string()
    } else {
        format!("{} ({} in a row)", p.failures, p.consecutive_failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{args::Output, render::printed};

    #[test]
    fn projections_make_a_table() {
        let healthy = pb::ProjectionStatus {
            name: "tenant_directory".into(),
            checkpoint: "ct1.5.9".into(),
            applied_events: 9,
            ..Default::default()
        };
        let failing = pb::ProjectionStatus {
            name: "org_tree".into(),
            checkpoint: String::new(),
            events_behind: 1000,
            events_behind_capped: true,
            lag_ms: -1,
            failures: 4,
            consecutive_failures: 2,
            last_error: "db down".into(),
            ..Default::default()
        };
        let view = Projections(vec![healthy, failing]);
        assert_eq!(
            printed(&view, Output::Text),
            "NAME              CHECKPOINT  BEHIND  LAG_MS   FAILURES        LAST_ERROR\n\
             tenant_directory  ct1.5.9     0       0        0               -\n\
             org_tree          -           >=1000  unknown  4 (2 in a row)  db down\n\
             (2 projections)"
        );
        assert_eq!(view.ids(), ["tenant_directory", "org_tree"]);
        let json = view.json();
        assert_eq!(json["projections"][1]["events_behind_capped"], true);
        assert_eq!(json["projections"][0]["last_error"], Value::Null);
        let unknown = pb::ProjectionStatus {
            events_behind: -1,
            ..Default::default()
        };
        assert_eq!(behind_text(&unknown), "unknown");
    }

    #[test]
    fn rebuilds_name_the_projection() {
        assert_eq!(Rebuilding("org_tree".into()).ids(), ["org_tree"]);
        assert!(
            printed(&Rebuilding("org_tree".into()), Output::Text)
                .starts_with("rebuilding projection org_tree")
        );
    }
}
