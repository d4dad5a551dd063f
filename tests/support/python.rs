//! The Python clients' environment for the tests that run them: a virtual environment made
//! with `python3 -m venv` and `pip install -r clients/python/requirements.txt`, cached under
//! the target directory and remade only when the requirements change. Without python3 or pip
//! the calling test FAILS (it does not skip): CI provides them (`scripts/test`).

#![allow(dead_code)] // each test target uses its own part

use std::{
    path::{Path, PathBuf},
    process::Command,
};

const REQUIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/python/requirements.txt"
);

/// Runs `command`, panicking with `what`, its status and output unless it succeeds.
pub fn run_command(command: &mut Command, what: &str) -> String {
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

/// The python of the cached virtual environment `target/<profile>/<name>` (each test target
/// names its own: two targets may build theirs at the same time).
pub fn venv_python(name: &str) -> PathBuf {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let version = Command::new(&python).arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "python3 is required by this test (set PYTHON to use another interpreter; Debian: \
         apt-get install python3 python3-venv): {version:?}"
    );
    let target = Path::new(env!("CARGO_BIN_EXE_entityd")).parent().unwrap();
    let venv = target.join(name);
    let marker = venv.join("entity-requirements.txt");
    let requirements = std::fs::read_to_string(REQUIREMENTS).unwrap();
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(requirements.as_str()) {
        return venv.join("bin/python");
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).unwrap();
    }
    run_command(
        Command::new(&python).args(["-m", "venv"]).arg(&venv),
        "python3 -m venv (Debian: apt-get install python3-venv)",
    );
    let venv_python = venv.join("bin/python");
    run_command(
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
