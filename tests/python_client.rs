//! The Python client (`clients/python/customer_demo.py`) against a real `entityd` (embedded
//! mode, development token of a platform admin): it generates its stubs from `proto/` at run
//! time and drives RegisterCustomer, UpdateCustomer and GetCustomer, checking every answer.
//!
//! Needs `python3` with `venv` and PyPI access the first time: the virtual environment
//! (`clients/python/requirements.txt`) is cached under the target directory
//! (`python-client-venv`) and rebuilt only when the requirements change. Without python3 or
//! pip the test FAILS (it does not skip): CI provides them (`scripts/test`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/python.rs"]
mod python_support;

#[path = "support/grpc.rs"]
mod grpc_support;

use std::process::Command;

use grpc_support::Entityd;
use python_support::{run_command, venv_python};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/python/customer_demo.py"
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_client_registers_updates_and_reads_a_customer() {
    let python = tokio::task::spawn_blocking(|| venv_python("python-client-venv"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let server = Entityd::start(&["--data-dir", data, "--listen", "127.0.0.1:0"]).await;
    let token = run_command(
        Command::new(env!("CARGO_BIN_EXE_entityd")).args([
            "dev-token",
            "--data-dir",
            data,
            "--platform-admin",
        ]),
        "entityd dev-token",
    );
    let out = run_command(
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
