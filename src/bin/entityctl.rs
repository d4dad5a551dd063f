//! `entityctl`: command-line client for every RPC. See `gateway::cli::entityctl`.

fn main() -> std::process::ExitCode {
    gateway::entityctl_main()
}
