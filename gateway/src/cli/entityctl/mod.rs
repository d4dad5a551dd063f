//! `entityctl`: drives every RPC of entity-engine from a shell.
//!
//! ```text
//! entityctl tenant create --name Acme --slug acme --kind business --owner-email ann@acme.test
//! entityctl org create <TENANT> --name Sales
//! entityctl user invite <TENANT> bob@acme.test --role org-admin@org:<ORG>
//! entityctl user accept <TENANT> <TOKEN> --name Bob
//! entityctl access check <TENANT> <USER> team:manage --org <ORG>
//! entityctl --output json tenant get <TENANT>
//! ```
//!
//! Results go to stdout (text `key: value` lines, or one JSON object); gRPC errors go to
//! stderr as `error: <CODE>: <message>` plus their reason and field violations, exit code 1.

mod args;
mod render;
mod requests;

use std::{io::Write, process::ExitCode};

use clap::Parser;
use entity_proto::v1::{
    access_service_client::AccessServiceClient,
    organization_service_client::OrganizationServiceClient, role_service_client::RoleServiceClient,
    team_service_client::TeamServiceClient, tenant_service_client::TenantServiceClient,
    user_service_client::UserServiceClient,
};
use tonic::{
    Request, Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};

use self::{args::Cli, render::status_text};
use super::{EXIT_FAILURE, EXIT_USAGE};

/// Adds `authorization: Bearer <token>` to every call when a token was given.
#[derive(Clone, Debug)]
struct BearerToken(Option<MetadataValue<Ascii>>);

impl Interceptor for BearerToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel whose calls carry the bearer token.
type Authed = InterceptedService<Channel, BearerToken>;

/// Clients of every service on one connection.
struct Clients {
    tenants: TenantServiceClient<Authed>,
    organizations: OrganizationServiceClient<Authed>,
    teams: TeamServiceClient<Authed>,
    users: UserServiceClient<Authed>,
    roles: RoleServiceClient<Authed>,
    access: AccessServiceClient<Authed>,
}

impl Clients {
    fn new(channel: Channel, interceptor: BearerToken) -> Self {
        let i = interceptor;
        Self {
            tenants: TenantServiceClient::with_interceptor(channel.clone(), i.clone()),
            organizations: OrganizationServiceClient::with_interceptor(channel.clone(), i.clone()),
            teams: TeamServiceClient::with_interceptor(channel.clone(), i.clone()),
            users: UserServiceClient::with_interceptor(channel.clone(), i.clone()),
            roles: RoleServiceClient::with_interceptor(channel.clone(), i.clone()),
            access: AccessServiceClient::with_interceptor(channel, i),
        }
    }
}

/// Why a command did not produce a result.
enum Failure {
    /// Bad usage found after parsing (exit 2).
    Usage(String),
    /// The server answered with an error (exit 1).
    Rpc(Status),
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        Failure::Rpc(status)
    }
}

/// Entry point of the `entityctl` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let output = cli.output;
    match runtime.block_on(run(cli)) {
        Ok(rendered) => {
            // A closed stdout (`| head`) is not an error of the command.
            let _ = writeln!(std::io::stdout().lock(), "{}", rendered.format(output));
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Rpc(status)) => {
            eprintln!("{}", status_text(&status));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn run(cli: Cli) -> Result<render::Rendered, Failure> {
    let token = match &cli.token {
        Some(t) => Some(
            format!("Bearer {t}")
                .parse::<MetadataValue<Ascii>>()
                .map_err(|_| {
                    Failure::Usage("--token contains characters not allowed in a header".into())
                })?,
        ),
        None => None,
    };
    let endpoint = Endpoint::from_shared(cli.endpoint.clone()).map_err(|e| {
        Failure::Usage(format!(
            "--endpoint {:?} is not a valid URI: {e}",
            cli.endpoint
        ))
    })?;
    let channel = endpoint.connect().await.map_err(|e| {
        Failure::Rpc(Status::unavailable(format!(
            "cannot connect to {}: {e}",
            cli.endpoint
        )))
    })?;
    let mut clients = Clients::new(channel, BearerToken(token));
    requests::run(&mut clients, cli.command).await
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_walkthrough() {
        for line in [
            "entityctl tenant create --name Acme --slug acme --kind business --owner-email a@b.c",
            "entityctl team create T --org O --name Core --description x",
            "entityctl team add-member T TM U --role lead",
            "entityctl team update T TM --description y",
            "entityctl user invite T bob@x.io --name Bob --org O --role viewer --role org-admin@org:O --expires-days 3",
            "entityctl user accept T inv1.a.b --name Bob",
            "entityctl user list T --query bob --status active --org O --role viewer",
            "entityctl user assign-role T U team-member@team:TM",
            "entityctl user revoke-role T U org-admin@org:O",
            "entityctl user add-org T U O",
            "entityctl user roles T U --output id",
            "entityctl role define T approver --permission invoice:approve --permission invoice:read",
            "entityctl role update T R --permission invoice:*",
            "entityctl access check T U tenant:delete",
            "entityctl access check T U team:read --team TM",
            "entityctl access list T U --org O",
            "entityctl tenant update T --name X",
            "entityctl tenant deactivate T --grace-days 30 --score 7",
            "entityctl org move T O --root",
            "entityctl tenant get T --output json",
            "entityctl org delete T O --cascade --request-id r1 --expected-version 3",
        ] {
            let parsed = Cli::try_parse_from(line.split(' '));
            assert!(parsed.is_ok(), "{line}: {:?}", parsed.err());
        }
        for line in [
            "entityctl tenant update T",
            "entityctl tenant deactivate T",
            "entityctl org move T O",
            "entityctl org move T O --root --parent P",
            "entityctl tenant create --name A --slug a --kind weird --owner-email a@b.c",
            "entityctl tenant create --name A --slug abc --kind business",
            "entityctl user assign-role T U viewer@org:",
            "entityctl user invite T x@y.z --role admin@dept:1",
            "entityctl role define T approver",
            "entityctl team update T TM",
            "entityctl access check T U x:y --org O --team TM",
            "entityctl team add-member T TM U --role boss",
        ] {
            assert!(Cli::try_parse_from(line.split(' ')).is_err(), "{line}");
        }
    }
}
