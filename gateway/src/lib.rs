//! gRPC gateway. (Gateway helper implements.)

use std::process::ExitCode;

/// Entry point of the `entityd` binary.
pub fn entityd_main() -> ExitCode {
    ExitCode::FAILURE
}

/// Entry point of the `entityctl` binary.
pub fn entityctl_main() -> ExitCode {
    ExitCode::FAILURE
}
