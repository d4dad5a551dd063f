//! The README's "Five-minute walkthrough", run as written: the `sh` block is read from
//! README.md at test time and run by bash against a real `entityd` started as the README's
//! run command does (no flags: embedded mode, `./entityd-data`, development tokens), so an edit
//! to the README that no longer works fails here.
//!
//! The only changes to the script: the `cargo build` line is dropped, `./target/release/` is
//! the directory of the test binaries, aliases are enabled, backslash-continued lines are
//! joined, and a marker line with the step's number and exit status follows every command.
//! The server listens on a free port (named to `entityctl` by `ENTITYCTL_ENDPOINT`). Each
//! step's expected answer comes from its trailing comment (`# allowed …`, `# denied (REASON)`,
//! `# invalid (reason)`, `# refused: REASON`, `# CODE, REASON`) or from the comment above it (`… refused with CODE`);
//! a repeated `--request-id` write must answer with the first write's version; every other
//! step must exit 0.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::{path::Path, process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

const MARKER: &str = "@@readme-step ";
/// What `entityctl` adds to a write's summary when the answer is a replay.
const REPLAYED: &str = ", replayed: nothing new written";

/// One command of the walkthrough.
#[derive(Debug)]
struct Step {
    /// The command as bash runs it (continuations joined, paths replaced).
    command: String,
    /// Its trailing comment, without `#`.
    comment: Option<String>,
    /// The comment lines right above it (the paragraph it belongs to).
    preamble: Vec<String>,
}

/// The first ```` ```sh ```` block under the `## Five-minute walkthrough` heading.
fn walkthrough_block(readme: &str) -> Vec<String> {
    let section = readme
        .split("\n## Five-minute walkthrough")
        .nth(1)
        .expect("README has a \"Five-minute walkthrough\" section");
    let start = section
        .find("```sh\n")
        .expect("the section has an sh block")
        + "```sh\n".len();
    let end = section[start..].find("\n```").expect("the sh block ends") + start;
    section[start..end].lines().map(str::to_owned).collect()
}

/// Joins backslash-continued lines, as the shell does.
fn join_continuations(lines: &[String]) -> Vec<String> {
    let mut joined = Vec::new();
    let mut pending = String::new();
    for line in lines {
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                joined.push(std::mem::take(&mut pending));
            }
        }
    }
    assert!(pending.is_empty(), "the block ends in a continuation");
    joined
}

/// Splits a line into its command and trailing comment (a `#` after whitespace, outside quotes).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let (mut single, mut double) = (false, false);
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && previous.is_whitespace() => {
                return (line[..i].trim_end(), Some(line[i + 1..].trim()));
            }
            _ => {}
        }
        previous = c;
    }
    (line.trim_end(), None)
}

/// The steps of the walkthrough, with `bin_dir` in place of `./target/release/`.
fn steps(readme: &str, bin_dir: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut preamble = Vec::new();
    for line in join_continuations(&walkthrough_block(readme)) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            preamble.clear();
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            preamble.push(comment.trim().to_owned());
            continue;
        }
        if trimmed.starts_with("cargo build") {
            continue;
        }
        let command = line.replace("./target/release/", &format!("{bin_dir}/"));
        let (_, comment) = split_comment(&command);
        steps.push(Step {
            comment: comment.map(str::to_owned),
            preamble: std::mem::take(&mut preamble),
            command,
        });
    }
    steps
}

/// The script bash runs: the steps, each followed by its marker.
fn script(steps: &[Step]) -> String {
    let mut script = String::from("shopt -s expand_aliases\n");
    for (n, step) in steps.iter().enumerate() {
        script.push_str(&step.command);
        script.push('\n');
        script.push_str(&format!("echo \"{MARKER}{n} exit $?\"\n"));
    }
    script
}

/// Output and exit status of every step, from the script's combined output.
fn results(output: &str, count: usize) -> Vec<(String, i32)> {
    let mut results = Vec::new();
    let mut current = String::new();
    for line in output.lines() {
        match line.find(MARKER) {
            Some(at) => {
                current.push_str(&line[..at]);
                let mut parts = line[at + MARKER.len()..].split(" exit ");
                let n: usize = parts.next().unwrap().parse().unwrap();
                let code: i32 = parts.next().unwrap().trim().parse().unwrap();
                assert_eq!(n, results.len(), "markers in order");
                results.push((std::mem::take(&mut current), code));
            }
            None => {
                current.push_str(line);
                current.push('\n');
            }
        }
    }
    assert_eq!(
        results.len(),
        count,
        "every step ran (the script stopped early?); output:\n{output}"
    );
    results
}

/// Whether `word` is a stable reason or code such as `TENANT_SUSPENDED` or `ABORTED`.
fn is_code(word: &str) -> bool {
    word.len() > 2
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
}

/// The version a write printed (`… (version N, consistency token …)`).
fn printed_version(output: &str) -> Option<i64> {
    let at = output.find("(version ")? + "(version ".len();
    output[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Checks one step against what the README says about it; `None` when it is as documented.
fn problem(step: &Step, output: &str, code: i32) -> Option<String> {
    let out = output.trim();
    let comment = step.comment.as_deref().unwrap_or("");
    if let Some(rest) = comment.strip_prefix("allowed") {
        if code != 0 || !out.starts_with("allowed") {
            return Some(format!("expected allowed, exit 0 ({comment})"));
        }
        // `allowed via ROLE …`: the answer names the role.
        if let Some(via) = rest.trim().strip_prefix("via ") {
            let role = via.split_whitespace().next().unwrap_or_default();
            if !out.contains(&format!("via {role}")) {
                return Some(format!("expected the grant via {role}"));
            }
        }
        return None;
    }
    // `invalid (reason)`: an API key's verdict, printed as such (exit 0).
    if comment.starts_with("invalid (") {
        if code != 0 || !out.starts_with(comment) {
            return Some(format!("expected {comment}, exit 0"));
        }
        return None;
    }
    if let Some(rest) = comment.strip_prefix("denied") {
        if code != 0 || !out.starts_with("denied") {
            return Some(format!("expected denied, exit 0 ({comment})"));
        }
        // `denied (REASON)` with a stable reason: the answer names it; `(sibling)` is prose.
        let reason = rest.trim().trim_start_matches('(').trim_end_matches(')');
        if is_code(reason) && out != format!("denied ({reason})") {
            return Some(format!("expected denied ({reason})"));
        }
        return None;
    }
    // `refused: REASON` or `CODE, REASON`: a failure naming each.
    let refusal = comment.strip_prefix("refused:").unwrap_or(comment);
    let codes: Vec<&str> = refusal.split(',').map(str::trim).collect();
    if !comment.is_empty() && codes.iter().all(|c| is_code(c)) {
        if code == 0 {
            return Some(format!("expected a refusal ({comment}), got exit 0"));
        }
        return codes
            .iter()
            .find(|c| !out.contains(**c))
            .map(|c| format!("the refusal does not name {c}"));
    }
    // `… is refused with CODE` in the paragraph above: its first command fails so.
    if let Some(expected) = refused_with(&step.preamble) {
        return (code == 0 || !out.contains(&expected))
            .then(|| format!("expected a refusal with {expected}"));
    }
    (code != 0).then(|| format!("exit {code}"))
}

/// `CODE` of a `refused with CODE` in comment lines.
fn refused_with(preamble: &[String]) -> Option<String> {
    let text = preamble.join(" ");
    let at = text.find("refused with ")? + "refused with ".len();
    let word: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_uppercase() || *c == '_')
        .collect();
    is_code(&word).then_some(word)
}

/// Starts `entityd` as the README's run command does (no flags) in `dir`, on a free port.
async fn start_entityd(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_entityd"))
        .current_dir(dir)
        .env("ENTITYD_LISTEN", "127.0.0.1:0")
        .env("ENTITYD_LOG", "warn")
        .env_remove("ENTITYD_DATA_DIR")
        .env_remove("ENTITYD_KAFKA_BROKERS")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn entityd");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read entityd stdout") {
            if let Some(rest) = line.strip_prefix("entityd listening on ") {
                return rest.split(' ').next().unwrap().to_owned();
            }
        }
        panic!("entityd exited before it was ready");
    })
    .await
    .expect("entityd ready within 60 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, ready)
}

#[tokio::test]
async fn the_readme_walkthrough_works_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_entityctl"))
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let steps = steps(&readme, &bin_dir);
    assert!(
        steps.len() > 30,
        "the walkthrough has its steps: {steps:#?}"
    );

    // The README still documents each kind of answer this test checks.
    let commented = |prefix: &str| {
        steps
            .iter()
            .filter(|s| s.comment.as_deref().is_some_and(|c| c.starts_with(prefix)))
            .count()
    };
    assert!(
        commented("allowed") > 0 && commented("denied") > 0 && commented("refused:") > 0,
        "{steps:#?}"
    );
    assert!(
        steps.iter().any(|s| refused_with(&s.preamble).is_some()),
        "a step is \"refused with\" a code: {steps:#?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start_entityd(dir.path()).await;
    assert!(
        dir.path().join("entityd-data/journal.db").exists()
            && dir
                .path()
                .join("entityd-data/journal-read-models.db")
                .exists()
            && dir.path().join("entityd-data/dev-signing.key").exists(),
        "the default data folder holds the journal, the read models and the development key"
    );

    let script_path = dir.path().join("walkthrough.sh");
    std::fs::write(&script_path, script(&steps)).unwrap();
    let run = Command::new("bash")
        .arg("-c")
        .arg("exec 2>&1; exec bash \"$0\"")
        .arg(&script_path)
        .current_dir(dir.path())
        .env("ENTITYCTL_ENDPOINT", format!("http://{addr}"))
        .env_remove("ENTITYCTL_TOKEN")
        .env_remove("ENTITYCTL_TLS_CA")
        .env_remove("ENTITYD_DATA_DIR")
        .stdin(Stdio::null())
        .output();
    let run = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the walkthrough finishes within 5 minutes")
        .expect("run bash");
    let output = String::from_utf8_lossy(&run.stdout).into_owned();
    let results = results(&output, steps.len());

    let mut failures = Vec::new();
    for (n, (step, (out, code))) in steps.iter().zip(&results).enumerate() {
        println!("[{n}] $ {}\n{out}[exit {code}]", step.command);
        if let Some(p) = problem(step, out, *code) {
            failures.push(format!(
                "step {n}: {}\n  -> {p}\n  output: {}",
                step.command,
                out.trim()
            ));
        }
    }

    // A retried write (the same command with the same --request-id) answers with the first
    // write's version.
    let retries: Vec<usize> = (1..steps.len())
        .filter(|&i| {
            steps[i].command.contains("--request-id") && steps[i].command == steps[i - 1].command
        })
        .collect();
    assert!(!retries.is_empty(), "the walkthrough shows a retried write");
    for i in retries {
        let (first, again) = (
            printed_version(&results[i - 1].0),
            printed_version(&results[i].0),
        );
        if first.is_none() || first != again {
            failures.push(format!(
                "step {i}: a retry should print the first write's version: {first:?} then {again:?}"
            ));
        }
        // ... and the rest of its first answer (the same token), marked as a replay.
        let first_line = results[i - 1].0.lines().next().unwrap_or_default();
        let again_line = results[i].0.lines().next().unwrap_or_default();
        if !again_line.contains("replayed") || again_line.replace(REPLAYED, "") != first_line {
            failures.push(format!(
                "step {i}: not the first answer replayed: {first_line:?} then {again_line:?}"
            ));
        }
    }

    // The list that passes the rename's consistency token sees the new name.
    if let Some(i) = steps.iter().position(|s| {
        s.command.contains("tenant list") && s.command.contains("--consistency-token")
    }) && !results[i].0.contains("Acme Inc")
    {
        failures.push(format!(
            "step {i}: the list with the token misses the rename"
        ));
    }

    server.kill().await.unwrap();
    assert!(
        failures.is_empty(),
        "the README walkthrough does not work as written:\n{}\n\nwhole output:\n{output}",
        failures.join("\n")
    );
}

#[test]
fn the_checks_follow_the_comments() {
    let readme = "# x\n\n## Five-minute walkthrough\n\n```sh\ncargo build --release\n\
        alias e=./target/release/entityctl\ne check a \\\n  b   # allowed via owner at tenant\n\
        e check c   # denied (USER_NOT_ACTIVE)\ne check d   # denied (sibling)\n\
        e move \"#x\"   # refused: HIERARCHY_CYCLE\ne org create   # FAILED_PRECONDITION, TENANT_SUSPENDED\n\n\
        # A stale version is refused with ABORTED.\ne change-plan\ne audit   # who did what\n```\n";
    let steps = steps(readme, "/bin");
    let commands: Vec<&str> = steps.iter().map(|s| s.command.as_str()).collect();
    assert_eq!(commands[0], "alias e=/bin/entityctl");
    assert_eq!(commands[1], "e check a   b   # allowed via owner at tenant");
    assert_eq!(steps.len(), 8);
    let check = |i: usize, out: &str, code: i32| problem(&steps[i], out, code).is_none();
    assert!(check(0, "", 0) && !check(0, "", 1));
    assert!(check(1, "allowed via owner at tenant", 0));
    assert!(!check(1, "allowed via admin at tenant", 0) && !check(1, "denied (X)", 0));
    assert!(check(2, "denied (USER_NOT_ACTIVE)", 0) && !check(2, "denied (OTHER)", 0));
    assert!(check(3, "denied (NO_MATCHING_ASSIGNMENT)", 0) && !check(3, "allowed", 0));
    assert_eq!(
        steps[4].comment.as_deref(),
        Some("refused: HIERARCHY_CYCLE")
    );
    assert!(check(4, "reason: HIERARCHY_CYCLE", 1) && !check(4, "reason: HIERARCHY_CYCLE", 0));
    assert!(!check(4, "reason: OTHER", 1));
    assert!(check(5, "FAILED_PRECONDITION … TENANT_SUSPENDED", 1));
    assert!(!check(5, "FAILED_PRECONDITION", 1));
    assert!(check(6, "error: ABORTED: stale", 1) && !check(6, "changed plan", 0));
    assert!(check(7, "anything", 0) && !check(7, "anything", 1));
    assert_eq!(
        printed_version("updated tenant t (version 12, consistency token ct1.1.2)"),
        Some(12)
    );
}
