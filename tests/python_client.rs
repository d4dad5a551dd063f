//! The Python client (`clients/python/customer_demo.py`) against a real `entityd` (embedded
//! mode, development token of a platform admin): it generates its stubs from `proto/` at run
//! time and drives RegisterCustomer, UpdateCustomer and GetCustomer, checking every answer.
//!
//! Needs `python3` with `venv` and PyPI access the first time: the virtual environment
//! (`clients/python/requirements.txt`) is cached under the target directory
//! (`python-client-venv`) and rebuilt only when the requirements change. Without python3 or
//! pip the test FAILS (it does not skip): CI provides them (`scripts/test`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use grpc_support::Entityd;

const REQUIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/python/requirements.txt"
);
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/python/customer_demo.py"
);

/// Runs `command`, panicking with `what`, its status and output unless it succeeds.
fn run(command: &mut Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The cached virtual environment's python, made (or remade, when the requirements changed)
/// with `python3 -m venv` and `pip install -r requirements.txt`.
fn venv_python() -> PathBuf {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let version = Command::new(&python).arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "python3 is required by this test (set PYTHON to use another interpreter; Debian: \
         apt-get install python3 python3-venv): {version:?}"
    );
    // target/<profile>/python-client-venv, beside the test binaries
    let target = Path::new(env!("CARGO_BIN_EXE_entityd")).parent().unwrap();
    let venv = target.join("python-client-venv");
    let marker = venv.join("entity-requirements.txt");
    let requirements = std::fs::read_to_string(REQUIREMENTS).unwrap();
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(requirements.as_str()) {
        return venv.join("bin/python");
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).unwrap();
    }
    run(
        Command::new(&python).args(["-m", "venv"]).arg(&venv),
        "python3 -m venv (Debian: apt-get install python3-venv)",
    );
    let venv_python = venv.join("bin/python");
    run(
        Command::new(&venv_python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(REQUIREMENTS),
        "pip install -r clients/python/requirements.txt (needs PyPI)",
    );
    std::fs::write(&marker, requirements).unwrap();
    venv_python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_client_registers_updates_and_reads_a_customer() {
    let python = tokio::task::spawn_blocking(venv_python).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let server = Entityd::start(&["--data-dir", data, "--listen", "127.0.0.1:0"]).await;
    let token = run(
        Command::new(env!("CARGO_BIN_EXE_entityd")).args([
            "dev-token",
            "--data-dir",
            data,
            "--platform-admin",
        ]),
        "entityd dev-token",
    );
    let out = run(
        Command::new(&python)
            .arg(SCRIPT)
            .args(["--endpoint", &server.addr])
            .env("ENTITY_TOKEN", token.trim())
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        "clients/python/customer_demo.py",
    );
    for check in [
        "ok: RegisterCustomer returns the name",
        "ok: the owner's email is not part of the customer",
        "ok: GetCustomer shows the new name",
        "ok: GetCustomer shows the new profile",
        "ok: a tenant-only mask path is INVALID_ARGUMENT",
    ] {
        assert!(out.contains(check), "{check} missing from:\n{out}");
    }
    assert!(out.contains(" done"), "{out}");
    server.terminate(std::time::Duration::from_secs(10)).await;
}
