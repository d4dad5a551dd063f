//! Running the `entityctl` binary in tests, and reading what it printed.
//!
//! Include with `#[path = "support/cli.rs"] mod cli;`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

/// Output of one `entityctl` run.
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `entityctl` against `endpoint` (no token: the dev identity), echoing what it printed.
pub async fn entityctl(endpoint: &str, args: &[&str]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_entityctl"))
        .args(args)
        .env("ENTITYCTL_ENDPOINT", endpoint)
        .env_remove("ENTITYCTL_TOKEN")
        .output()
        .await
        .expect("run entityctl");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let shown: Vec<String> = args.iter().map(|a| a.escape_debug().to_string()).collect();
    println!(
        "$ entityctl {}\n{}{}",
        shown.join(" "),
        run.stdout,
        run.stderr
    );
    run
}

/// `entityctl` that must succeed.
pub async fn ok(endpoint: &str, args: &[&str]) -> String {
    let run = entityctl(endpoint, args).await;
    assert_eq!(run.code, 0, "entityctl {args:?} failed: {}", run.stderr);
    run.stdout
}

/// The value of a `key: value` line.
pub fn field<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}: ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {key:?} line in:\n{text}"))
}

/// The consistency token a write printed (`… consistency token ct1.X.Y)`), for the next list.
pub fn token(text: &str) -> String {
    let start = text
        .find("ct1.")
        .unwrap_or_else(|| panic!("no token in:\n{text}"));
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect()
}
