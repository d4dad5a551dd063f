//! The operations kit (issue 18) against the code: the Grafana dashboard
//! (`ops/grafana/entity-engine.json`) and the Prometheus alert rules
//! (`ops/prometheus/alerts.yml`) may only use series that a real `entityd` exports, with
//! labels those series carry; every panel queries the `${datasource}` variable; every rule has
//! a duration, a severity, a summary, a description and a runbook section of
//! `docs/OPERATIONS.md` that exists.
//!
//! The PromQL of both files is read by a small scanner (metric names, the label names of
//! matchers and of `by`/`without`/`on`/`ignoring`/`group_*` lists); the YAML of the rules by a
//! line reader for the subset the file uses (no YAML crate in the workspace), which refuses
//! plain scalars it could misread.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use entity_proto::v1 as pb;
use grpc_support::{Clients, Entityd, create_tenant_request, scrape_text};
use serde_json::Value;

const DASHBOARD: &str = include_str!("../ops/grafana/entity-engine.json");
const ALERTS: &str = include_str!("../ops/prometheus/alerts.yml");
const RUNBOOK: &str = include_str!("../docs/OPERATIONS.md");

/// Labels Prometheus adds to every scraped series.
const TARGET_LABELS: [&str; 2] = ["instance", "job"];
/// Series Prometheus makes itself for each target (and their labels).
const PROMETHEUS_SERIES: [&str; 1] = ["up"];

/// Series the issue asks the dashboard to show.
const ON_THE_DASHBOARD: [&str; 25] = [
    "rpc_server_call_duration_seconds_count",
    "rpc_server_call_duration_seconds_bucket",
    "entity_commands_total",
    "entity_journal_append_duration_seconds_bucket",
    "entity_journal_group_commands_bucket",
    "entity_journal_queue_depth",
    "entity_live_entities",
    "entity_shards_held",
    "entity_passivations_total",
    "entity_recovery_duration_seconds_count",
    "entity_recovery_duration_seconds_bucket",
    "entity_snapshot_bytes_bucket",
    "entity_requests_rejected_total",
    "entity_projection_lag_events",
    "entity_projection_lag_seconds",
    "entity_saga_steps_pending",
    "entity_saga_lag_seconds",
    "entity_kafka_delivered_total",
    "entity_kafka_failed_total",
    "entity_kafka_in_flight",
    "entity_lease_renewal_duration_seconds_bucket",
    "entity_shard_handovers_total",
    "entity_fencing_refusals_total",
    "process_resident_memory_bytes",
    "process_cpu_seconds_total",
];

/// Series the alerts watch.
const IN_THE_ALERTS: [&str; 12] = [
    "entity_projection_lag_seconds",
    "entity_projection_lag_events",
    "entity_projection_failures_total",
    "entity_fencing_refusals_total",
    "rpc_server_call_duration_seconds_count",
    "rpc_server_call_duration_seconds_bucket",
    "entity_kafka_in_flight",
    "entity_kafka_failed_total",
    "entity_shards_held",
    "entity_saga_lag_seconds",
    "entity_journal_queue_depth",
    "entity_requests_rejected_total",
];

// ---------------------------------------------------------------------------------------------
// PromQL

/// What one PromQL expression names.
#[derive(Debug, Default, PartialEq)]
struct Names {
    /// Each metric (series name) selected, with the label names of its matchers.
    metrics: BTreeMap<String, BTreeSet<String>>,
    /// Label names of `by`, `without`, `on`, `ignoring`, `group_left` and `group_right`.
    grouping: BTreeSet<String>,
    /// Label names of a selector without a metric name (`{job="x"}`).
    unattached: BTreeSet<String>,
}

/// Words that are never a metric name when no `(` follows them (aggregations take one before
/// their modifier: `sum by (x) (…)`).
const NOT_METRICS: [&str; 22] = [
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
    "start",
    "end",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
];

/// Modifiers followed by a list of label names.
const GROUPING: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The index after the string literal that starts at `i`.
fn skip_string(chars: &[char], mut i: usize) -> usize {
    let quote = chars[i];
    i += 1;
    while i < chars.len() && chars[i] != quote {
        if chars[i] == '\\' && quote != '`' {
            i += 1;
        }
        i += 1;
    }
    i + 1
}

/// The index of the next character that is not white space, from `i`.
fn skip_space(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

/// The identifier at `i` and the index after it.
fn ident_at(chars: &[char], mut i: usize) -> (String, usize) {
    let start = i;
    while i < chars.len() && is_ident(chars[i]) {
        i += 1;
    }
    (chars[start..i].iter().collect(), i)
}

/// Reads the matchers of the selector whose `{` is at `i`; returns the index after its `}`.
fn read_matchers(chars: &[char], mut i: usize, metric: Option<&str>, names: &mut Names) -> usize {
    i += 1;
    loop {
        i = skip_space(chars, i);
        match chars.get(i) {
            None => return i,
            Some('}') => return i + 1,
            Some(',') => i += 1,
            Some(&c) if is_ident_start(c) => {
                let (label, next) = ident_at(chars, i);
                match metric {
                    Some(metric) => {
                        names
                            .metrics
                            .entry(metric.to_owned())
                            .or_default()
                            .insert(label);
                    }
                    None => {
                        names.unattached.insert(label);
                    }
                }
                i = skip_space(chars, next);
                while i < chars.len() && matches!(chars[i], '=' | '!' | '~') {
                    i += 1;
                }
                i = skip_space(chars, i);
                if matches!(chars.get(i), Some('"' | '\'' | '`')) {
                    i = skip_string(chars, i);
                }
            }
            Some(c) => panic!("unexpected {c:?} in the matchers of {metric:?}"),
        }
    }
}

/// Reads the label list whose `(` is at `i`; returns the index after its `)`.
fn read_label_list(chars: &[char], mut i: usize, into: &mut BTreeSet<String>) -> usize {
    i += 1;
    loop {
        i = skip_space(chars, i);
        match chars.get(i) {
            None => return i,
            Some(')') => return i + 1,
            Some(',') => i += 1,
            Some(&c) if is_ident_start(c) => {
                let (label, next) = ident_at(chars, i);
                into.insert(label);
                i = next;
            }
            Some(c) => panic!("unexpected {c:?} in a label list"),
        }
    }
}

/// The metric and label names of a PromQL expression. Grafana's variables (`$instance`,
/// `${datasource}`, `$__rate_interval`) are skipped.
fn scan(expr: &str) -> Names {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Names::default();
    // The metric a `{` would belong to.
    let mut selector: Option<String> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if matches!(c, '"' | '\'' | '`') {
            i = skip_string(&chars, i);
            selector = None;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '$' {
            i += 1;
            if chars.get(i) == Some(&'{') {
                while i < chars.len() && chars[i] != '}' {
                    i += 1;
                }
                i += 1;
            } else {
                i = ident_at(&chars, i).1;
            }
        } else if c == '[' {
            // A range or subquery: durations and variables only.
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            i += 1;
            selector = None;
        } else if c == '{' {
            i = read_matchers(&chars, i, selector.take().as_deref(), &mut names);
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // A number or a duration (`0.25`, `1e-3`, `5m`).
            while i < chars.len() {
                let d = chars[i];
                let exponent_sign = matches!(d, '+' | '-') && matches!(chars[i - 1], 'e' | 'E');
                if d.is_ascii_alphanumeric() || d == '.' || exponent_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            selector = None;
        } else if is_ident_start(c) {
            let (word, next) = ident_at(&chars, i);
            let after = skip_space(&chars, next);
            let lower = word.to_ascii_lowercase();
            selector = None;
            if GROUPING.contains(&lower.as_str()) && chars.get(after) == Some(&'(') {
                i = read_label_list(&chars, after, &mut names.grouping);
                continue;
            }
            if chars.get(after) != Some(&'(')
                && !NOT_METRICS.contains(&lower.as_str())
                && !GROUPING.contains(&lower.as_str())
            {
                names.metrics.entry(word.clone()).or_default();
                selector = Some(word);
            }
            i = next;
        } else {
            selector = None;
            i += 1;
        }
    }
    names
}

/// Every identifier that looks like one of ours (`(entity|rpc|process)_…`) outside string
/// literals and Grafana variables: each must be read as a metric or as a label.
fn prefixed_words(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut words = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            i = skip_string(&chars, i);
        } else if c == '$' {
            i = ident_at(&chars, i + 1).1.max(i + 1);
        } else if is_ident_start(c) {
            let (word, next) = ident_at(&chars, i);
            if ["entity_", "rpc_", "process_"]
                .iter()
                .any(|p| word.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
            {
                words.insert(word);
            }
            i = next;
        } else {
            i += 1;
        }
    }
    words
}

/// One query of the kit: where it is, and what it names.
#[derive(Debug)]
struct Query {
    source: String,
    expr: String,
    names: Names,
}

impl Query {
    fn new(source: String, expr: &str) -> Query {
        let names = scan(expr);
        let read: BTreeSet<&String> = names
            .metrics
            .iter()
            .flat_map(|(m, labels)| std::iter::once(m).chain(labels))
            .chain(&names.grouping)
            .chain(&names.unattached)
            .collect();
        for word in prefixed_words(expr) {
            assert!(
                read.contains(&word),
                "{source}: {word} is neither a metric nor a label to the scanner: {expr}"
            );
        }
        Query {
            source,
            expr: expr.to_owned(),
            names,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The scrape

/// What a scrape exports.
#[derive(Debug, Default)]
struct Exported {
    /// Each series name Prometheus would store, with the label names seen on its samples.
    series: BTreeMap<String, BTreeSet<String>>,
    /// Each family of a `# TYPE` line, with its type.
    families: BTreeMap<String, String>,
}

/// The series names a family of `kind` is stored as.
fn series_of(family: &str, kind: &str) -> Vec<String> {
    match kind {
        "histogram" => ["_bucket", "_sum", "_count"]
            .iter()
            .map(|s| format!("{family}{s}"))
            .collect(),
        "summary" => vec![
            family.to_owned(),
            format!("{family}_sum"),
            format!("{family}_count"),
        ],
        "counter" if !family.ends_with("_total") => vec![format!("{family}_total")],
        _ => vec![family.to_owned()],
    }
}

/// The family of a series name: without `_bucket`, `_sum`, `_count` or `_total`.
fn family_of(series: &str) -> &str {
    ["_bucket", "_sum", "_count", "_total"]
        .iter()
        .find_map(|s| series.strip_suffix(s))
        .unwrap_or(series)
}

/// The label names of a sample's `{…}`.
fn sample_labels(braces: &str) -> BTreeSet<String> {
    let chars: Vec<char> = braces.chars().collect();
    let mut names = Names::default();
    read_matchers(&chars, 0, None, &mut names);
    names.unattached
}

fn exported(text: &str) -> Exported {
    let mut out = Exported::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (family, kind) = rest.split_once(' ').expect("# TYPE name type");
            out.families.insert(family.to_owned(), kind.to_owned());
            for series in series_of(family, kind) {
                out.series.entry(series).or_default();
            }
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let end = line.find(['{', ' ']).expect("a sample line");
            let labels = if line[end..].starts_with('{') {
                sample_labels(&line[end..])
            } else {
                BTreeSet::new()
            };
            out.series
                .entry(line[..end].to_owned())
                .or_default()
                .extend(labels);
        }
    }
    for series in PROMETHEUS_SERIES {
        out.series.entry(series.to_owned()).or_default();
    }
    out
}

/// Why `series` is not exported, as a hint.
fn hint(series: &str, exported: &Exported) -> String {
    let family = family_of(series);
    let known = [family.to_owned(), format!("{family}_total")]
        .into_iter()
        .find_map(|f| exported.families.get(&f).map(|kind| (f, kind)));
    match known {
        Some((f, kind)) => format!(
            " (the family {f} is a {kind}, stored as {})",
            series_of(&f, kind).join(", ")
        ),
        None => format!(" (no family {family} is exported)"),
    }
}

/// Every name of `kit` that `exported` lacks: metrics, and labels their series do not carry.
fn problems(kit: &[Query], exported: &Exported) -> Vec<String> {
    let mut problems = Vec::new();
    for query in kit {
        let source = &query.source;
        let mut labels: BTreeSet<String> = TARGET_LABELS.iter().map(|&l| l.to_owned()).collect();
        for (metric, matchers) in &query.names.metrics {
            let Some(carried) = exported.series.get(metric) else {
                problems.push(format!(
                    "{source}: {metric} is not exported{}",
                    hint(metric, exported)
                ));
                continue;
            };
            labels.extend(carried.iter().cloned());
            for label in matchers {
                if !carried.contains(label) && !TARGET_LABELS.contains(&label.as_str()) {
                    problems.push(format!("{source}: {metric} carries no label {label}"));
                }
            }
        }
        for label in query.names.grouping.iter().chain(&query.names.unattached) {
            if !labels.contains(label) {
                problems.push(format!(
                    "{source}: no series of the query carries the label {label}"
                ));
            }
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// The dashboard

fn dashboard() -> Value {
    serde_json::from_str(DASHBOARD).expect("ops/grafana/entity-engine.json is JSON")
}

/// Every panel, those inside collapsed rows too.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        all.push(panel);
        if let Some(inner) = panel["panels"].as_array() {
            all.extend(inner);
        }
    }
    all
}

fn is_row(panel: &Value) -> bool {
    panel["type"] == "row"
}

/// The queries of the dashboard: every target's `expr` and the `instance` variable's query.
fn dashboard_queries(dashboard: &Value) -> Vec<Query> {
    let mut queries = Vec::new();
    for panel in panels(dashboard).into_iter().filter(|p| !is_row(p)) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let source = format!(
                "dashboard panel {:?} target {}",
                panel["title"].as_str().unwrap_or_default(),
                target["refId"]
            );
            queries.push(Query::new(source, target["expr"].as_str().unwrap_or("")));
        }
    }
    for variable in dashboard["templating"]["list"]
        .as_array()
        .expect("templating")
    {
        if variable["type"] != "query" {
            continue;
        }
        let query = variable["query"]["query"]
            .as_str()
            .or_else(|| variable["query"].as_str())
            .expect("a query variable's query");
        let source = format!("dashboard variable {}", variable["name"]);
        // Grafana's label_values(selector, label): a selector and a label of its series.
        if let Some(args) = query
            .strip_prefix("label_values(")
            .and_then(|q| q.strip_suffix(')'))
        {
            let (selector, label) = args.rsplit_once(',').expect("label_values(metric, label)");
            let mut query = Query::new(source, selector);
            query.names.grouping.insert(label.trim().to_owned());
            queries.push(query);
        } else {
            queries.push(Query::new(source, query));
        }
    }
    queries
}

// ---------------------------------------------------------------------------------------------
// The alert rules

/// One alerting rule, its keys flattened: `alert`, `expr`, `for`, `labels.severity`,
/// `annotations.summary`, ….
type Rule = BTreeMap<String, String>;

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// The index of the first line from `from` that is not blank and not indented beyond `indent`.
fn end_of_block(lines: &[&str], from: usize, indent: usize) -> usize {
    (from..lines.len())
        .find(|&j| !is_blank(lines[j]) && indent_of(lines[j]) <= indent)
        .unwrap_or(lines.len())
}

/// A scalar value: quoted (unescaped) or plain (refused where YAML would read it otherwise).
fn scalar(value: &str) -> String {
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return inner.replace("\\\"", "\"").replace("\\\\", "\\");
    }
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    assert!(
        !value.contains(": ")
            && !value.contains(" #")
            && !value.starts_with(['{', '[', '&', '*', '!', '%', '@', '`', '"', '\'']),
        "quote this YAML value: {value}"
    );
    value.to_owned()
}

/// A block scalar's text: literal (`|`) keeps the lines, folded (`>`) joins them.
fn block(lines: &[&str], folded: bool) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    let text: Vec<&str> = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect();
    let joined = text.join(if folded { " " } else { "\n" });
    joined.trim().to_owned()
}

/// Reads the mapping of `lines` (all at `indent`, nested ones deeper) into `out`.
fn mapping(lines: &[&str], prefix: &str, out: &mut Rule) {
    let Some(indent) = lines.iter().find(|l| !is_blank(l)).map(|l| indent_of(l)) else {
        return;
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_blank(line) {
            i += 1;
            continue;
        }
        assert_eq!(indent_of(line), indent, "indentation of {line:?}");
        let (key, value) = line.trim().split_once(':').expect("key: value");
        let key = format!("{prefix}{key}");
        let value = value.trim();
        let end = end_of_block(lines, i + 1, indent);
        let nested = &lines[i + 1..end];
        match value {
            "" => mapping(nested, &format!("{key}."), out),
            "|" | "|-" | ">" | ">-" => {
                out.insert(key, block(nested, value.starts_with('>')));
            }
            _ => {
                assert!(
                    nested.iter().all(|l| is_blank(l)),
                    "{key}: a value and nested lines"
                );
                out.insert(key, scalar(value));
            }
        }
        i = end;
    }
}

/// Every `- alert:` rule of the file.
fn alert_rules() -> Vec<Rule> {
    let lines: Vec<&str> = ALERTS.lines().collect();
    assert!(lines.contains(&"groups:"), "alerts.yml has its groups:");
    let mut rules = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let Some(name) = line.trim_start().strip_prefix("- alert:") else {
            i += 1;
            continue;
        };
        let mut rule = Rule::new();
        rule.insert("alert".to_owned(), scalar(name.trim()));
        let end = end_of_block(&lines, i + 1, indent_of(line));
        mapping(&lines[i + 1..end], "", &mut rule);
        rules.push(rule);
        i = end;
    }
    rules
}

fn alert_queries() -> Vec<Query> {
    alert_rules()
        .iter()
        .map(|rule| Query::new(format!("alert {}", rule["alert"]), &rule["expr"]))
        .collect()
}

/// A Prometheus duration of one unit: `30s`, `5m`, `1h`.
fn is_duration(text: &str) -> bool {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && ["ms", "s", "m", "h", "d", "w", "y"].contains(&unit)
}

/// The anchors of the runbook's headings, as GitHub makes them.
fn runbook_anchors() -> BTreeSet<String> {
    RUNBOOK
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn the_scanner_reads_metrics_matchers_and_groupings() {
    let names = scan(
        "sum by (rpc_method, le) (rate(rpc_server_call_duration_seconds_bucket{instance=~\"$instance\", \
         rpc_grpc_status_code!=\"0\"}[$__rate_interval])) / ignoring (rpc_grpc_status_code) group_left \
         sum without(outcome) (increase(entity_commands_total[5m] offset 1h)) > 0.25 and on(instance) \
         up{job=\"entity-engine\"} == bool 1e-3 or max(entity_shards_held) # entity_not_a_metric",
    );
    let metrics: Vec<&str> = names.metrics.keys().map(String::as_str).collect();
    assert_eq!(
        metrics,
        [
            "entity_commands_total",
            "entity_shards_held",
            "rpc_server_call_duration_seconds_bucket",
            "up"
        ]
    );
    let matchers: Vec<&str> = names.metrics["rpc_server_call_duration_seconds_bucket"]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(matchers, ["instance", "rpc_grpc_status_code"]);
    let grouping: Vec<&str> = names.grouping.iter().map(String::as_str).collect();
    assert_eq!(
        grouping,
        [
            "instance",
            "le",
            "outcome",
            "rpc_grpc_status_code",
            "rpc_method"
        ]
    );
    assert!(names.unattached.is_empty());
}

#[test]
fn the_check_refuses_names_and_labels_the_code_does_not_export() {
    let scrape = "\
# HELP entity_commands_total Commands.
# TYPE entity_commands_total counter
entity_commands_total{command=\"tenant\",outcome=\"ok\"} 1
# TYPE entity_live_entities gauge
entity_live_entities 0
# TYPE entity_journal_append_duration_seconds histogram
entity_journal_append_duration_seconds_bucket{le=\"0.001\"} 1
entity_journal_append_duration_seconds_sum 0.0005
entity_journal_append_duration_seconds_count 1
";
    let exported = exported(scrape);
    let good = [
        "sum by (command, outcome) (rate(entity_commands_total{instance=~\"$instance\"}[5m]))",
        "histogram_quantile(0.99, sum by (le) (rate(entity_journal_append_duration_seconds_bucket[5m])))",
        "entity_live_entities > 0 and up == 1",
    ]
    .map(|e| Query::new(e.to_owned(), e));
    assert_eq!(problems(&good, &exported), Vec::<String>::new());
    let bad = [
        // Names the code does not export, or not as these series.
        "rate(entity_made_up_total[5m])",
        "rate(entity_commands[5m])",
        "entity_live_entities_total",
        "histogram_quantile(0.99, rate(entity_commands_bucket[5m]))",
        // Labels its series do not carry.
        "entity_commands_total{kind=\"tenant\"}",
        "sum by (tenant_id) (entity_commands_total)",
    ]
    .map(|e| Query::new(e.to_owned(), e));
    let found = problems(&bad, &exported);
    assert_eq!(found.len(), bad.len(), "{found:#?}");
    for (query, problem) in bad.iter().zip(&found) {
        assert!(problem.starts_with(&query.source), "{problem}");
    }
    assert!(
        found[1].contains("stored as entity_commands_total"),
        "{}",
        found[1]
    );
}

#[test]
fn the_dashboard_is_valid_and_every_panel_queries_the_prometheus_variable() {
    let dashboard = dashboard();
    assert!(
        dashboard["schemaVersion"].as_u64().is_some_and(|v| v >= 36),
        "schemaVersion"
    );
    assert!(dashboard["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(dashboard["uid"].as_str().is_some_and(|t| !t.is_empty()));
    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("templating");
    let variable = |name: &str| {
        variables
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no ${name} variable"))
    };
    let datasource = variable("datasource");
    assert_eq!(datasource["type"], "datasource");
    assert_eq!(datasource["query"], "prometheus");
    let instance = variable("instance");
    assert_eq!(instance["type"], "query");
    assert_eq!(instance["datasource"]["uid"], "${datasource}");
    assert_eq!(instance["includeAll"], true);

    let all = panels(&dashboard);
    let ids: BTreeSet<u64> = all.iter().map(|p| p["id"].as_u64().expect("id")).collect();
    assert_eq!(ids.len(), all.len(), "panel ids are unique");
    let mut queried = 0;
    for panel in all {
        let title = panel["title"].as_str().expect("a title");
        assert!(!title.is_empty());
        let grid = &panel["gridPos"];
        let (x, w, h) = (
            grid["x"].as_u64().expect("gridPos.x"),
            grid["w"].as_u64().expect("gridPos.w"),
            grid["h"].as_u64().expect("gridPos.h"),
        );
        assert!(w > 0 && h > 0 && x + w <= 24, "{title}: gridPos {grid}");
        if is_row(panel) {
            assert!(panel.get("targets").is_none(), "row {title} has targets");
            continue;
        }
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "{title}: datasource"
        );
        assert_eq!(panel["datasource"]["type"], "prometheus", "{title}");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no target");
        let refs: BTreeSet<&str> = targets
            .iter()
            .map(|t| t["refId"].as_str().expect("refId"))
            .collect();
        assert_eq!(refs.len(), targets.len(), "{title}: refIds are unique");
        for target in targets {
            let expr = target["expr"].as_str().unwrap_or_default();
            assert!(!expr.trim().is_empty(), "{title}: empty expr");
            if let Some(ds) = target.get("datasource") {
                assert_eq!(ds, &panel["datasource"], "{title}: target datasource");
            }
            // Every selector follows the instance variable.
            for (metric, matchers) in scan(expr).metrics {
                assert!(
                    matchers.contains("instance") && expr.contains("instance=~\"$instance\""),
                    "{title}: {metric} is not filtered by $instance: {expr}"
                );
            }
            queried += 1;
        }
    }
    assert!(queried > 20, "{queried} queries");

    let used: BTreeSet<String> = dashboard_queries(&dashboard)
        .into_iter()
        .flat_map(|q| q.names.metrics.into_keys())
        .collect();
    for series in ON_THE_DASHBOARD {
        assert!(
            used.contains(series),
            "the dashboard does not show {series}"
        );
    }
}

#[test]
fn every_alert_rule_is_complete_and_points_at_its_runbook_section() {
    let rules = alert_rules();
    assert_eq!(
        rules.len(),
        ALERTS.matches("- alert:").count(),
        "every rule is read"
    );
    let anchors = runbook_anchors();
    let mut names = BTreeSet::new();
    for rule in &rules {
        let name = &rule["alert"];
        assert!(names.insert(name.clone()), "{name} twice");
        for key in [
            "expr",
            "for",
            "labels.severity",
            "annotations.summary",
            "annotations.description",
            "annotations.runbook_url",
        ] {
            assert!(
                rule.get(key).is_some_and(|v| !v.trim().is_empty()),
                "{name}: no {key}"
            );
        }
        assert!(is_duration(&rule["for"]), "{name}: for: {}", rule["for"]);
        assert!(
            ["critical", "warning", "info"].contains(&rule["labels.severity"].as_str()),
            "{name}: severity {}",
            rule["labels.severity"]
        );
        let runbook = &rule["annotations.runbook_url"];
        let anchor = runbook
            .strip_prefix("docs/OPERATIONS.md#")
            .unwrap_or_else(|| panic!("{name}: runbook_url {runbook}"));
        assert_eq!(anchor, name.to_lowercase(), "{name}: its own section");
        assert!(
            rule["annotations.description"].contains(runbook.as_str()),
            "{name}: the description names {runbook}"
        );
    }
    // Every link into the runbook, in any annotation, names a section that exists.
    for (at, _) in ALERTS.match_indices("docs/OPERATIONS.md#") {
        let anchor: String = ALERTS[at + "docs/OPERATIONS.md#".len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
            .collect();
        assert!(
            anchors.contains(&anchor),
            "docs/OPERATIONS.md has no section #{anchor}"
        );
    }
    let used: BTreeSet<String> = alert_queries()
        .into_iter()
        .flat_map(|q| q.names.metrics.into_keys())
        .collect();
    for series in IN_THE_ALERTS {
        assert!(used.contains(series), "no alert watches {series}");
    }
}

#[tokio::test]
async fn every_series_of_the_dashboard_and_the_alerts_is_in_a_scrape() {
    let mut kit = dashboard_queries(&dashboard());
    kit.extend(alert_queries());
    assert!(kit.len() > 30, "{} queries", kit.len());

    let dir = tempfile::tempdir().unwrap();
    let node = Entityd::embedded_with_metrics(dir.path()).await;
    let url = node.metrics_url();
    // One call and one command, so that the families created at their first use exist.
    let mut c = Clients::connect(&node.endpoint()).await;
    c.tenants
        .create_tenant(create_tenant_request("Operations kit", pb::Plan::Silver))
        .await
        .expect("create tenant");

    // A call is counted when its response has ended: poll briefly.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape_text(&url).await;
        let found = problems(&kit, &exported(&text));
        if found.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the operations kit uses what entityd does not export:\n{}\n\nqueries:\n{}\n\nscrape:\n{text}",
            found.join("\n"),
            kit.iter()
                .map(|q| format!("{}: {}", q.source, q.expr))
                .collect::<Vec<_>>()
                .join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
