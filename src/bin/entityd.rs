//! `entityd`: runs an entity-engine node. See `gateway::cli::entityd`.

fn main() -> std::process::ExitCode {
    gateway::entityd_main()
}
