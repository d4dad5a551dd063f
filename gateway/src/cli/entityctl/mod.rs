//! `entityctl`: drives every RPC of entity-engine from a shell.
//!
//! ```text
//! entityctl tenant create --name Acme --slug acme --kind business --owner-email ann@acme.test
//! entityctl org create <TENANT> --name Sales
//! entityctl user invite <TENANT> bob@acme.test --role org-admin@org:<ORG>
//! entityctl user accept <TENANT> <TOKEN> --name Bob
//! entityctl access check <TENANT> <USER> team:manage --org <ORG>
//! entityctl --output json tenant get <TENANT>
//! entityctl tenant list --status active --query ac --prefix --all
//! entityctl org path <TENANT> <ORG>
//! entityctl team members <TENANT> --user <USER>
//! entityctl role assignments <TENANT> --role org-admin --scope org:<ORG>
//! entityctl client create <TENANT> --name Globex --external-id crm-7 --country US
//! entityctl location list <TENANT> --owner <CLIENT> --active true
//! entityctl contact create <TENANT> --client <CLIENT> --type billing --name Ann --location <LOC>
//! entityctl department update <TENANT> <DEPARTMENT> --active false
//! entityctl user set-client <TENANT> <USER> --client <CLIENT>
//! entityctl customer update <CUSTOMER> --name "Acme Inc" --legal-name "Acme Inc."
//! entityctl audit list <TENANT> --entity-kind user --entity-id <USER> --since 2030-01-31
//! entityctl admin projections
//! entityctl partition create <TENANT> --name prod --group <GROUP>
//! entityctl api-key create <TENANT> --partition <PARTITION> --name ci --scope organization:read
//! entityctl --api-key eek_… org list <TENANT>
//! entityctl api-key verify eek_…
//! entityctl registration configure <TENANT> --enabled --auto-role member@org:<ORG>
//! entityctl registration add-domain <TENANT> acme.com
//! entityctl registration verify-domain <TENANT> acme.com
//! entityctl registration resolve --email ann@acme.com
//! entityctl user register --email ann@acme.com --name Ann
//! entityctl user claims <TENANT> <USER>
//! entityctl analytics export --since 0 --tenant <TENANT> --format csv --file changes.csv
//! entityctl search customers --scope business-customers --query acme --plan gold
//! entityctl --output id search create-key <TENANT> --industry-sector energy --ttl-secs 600
//! entityctl search customers --search-key <KEY> --query glob
//! ```
//!
//! Calls carry `authorization: Bearer <token>` with `--token`, `authorization: ApiKey <key>`
//! with `--api-key`, or `x-search-key: <key>` with `search customers --search-key` (one of
//! them); none: no credentials (the dev identity).
//!
//! Results go to stdout (text `key: value` lines, or one JSON object); gRPC errors go to
//! stderr as `error: <CODE>: <message>` plus their reason and field violations, exit code 1.
//! Everything printed is escaped first (`render::escape`): text from the server cannot drive
//! the terminal.

mod args;
mod render;
mod requests;

use std::{io::Write, process::ExitCode};

use clap::{CommandFactory, FromArgMatches};
use entity_proto::v1::analytics_service_client::AnalyticsServiceClient;
use entity_proto::v1::{
    access_service_client::AccessServiceClient, admin_service_client::AdminServiceClient,
    api_key_service_client::ApiKeyServiceClient, audit_service_client::AuditServiceClient,
    client_service_client::ClientServiceClient, contact_service_client::ContactServiceClient,
    customer_service_client::CustomerServiceClient,
    department_service_client::DepartmentServiceClient,
    location_service_client::LocationServiceClient,
    organization_service_client::OrganizationServiceClient,
    partition_group_service_client::PartitionGroupServiceClient,
    partition_service_client::PartitionServiceClient,
    registration_service_client::RegistrationServiceClient, role_service_client::RoleServiceClient,
    search_service_client::SearchServiceClient, team_service_client::TeamServiceClient,
    tenant_service_client::TenantServiceClient, user_service_client::UserServiceClient,
};
use tonic::{
    Request, Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};

use self::{
    args::Cli,
    render::{error_text, status_text},
};
use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::auth::search_key::SEARCH_KEY_HEADER;

/// Adds the header of the credential given (`authorization: Bearer <token>`, `authorization:
/// ApiKey <key>` or `x-search-key: <key>`) to every call; none without one.
#[derive(Clone, Debug)]
struct Credential(Option<(&'static str, MetadataValue<Ascii>)>);

impl Credential {
    /// The credential of `--token`, `--api-key` or `--search-key`; a usage error when more
    /// than one is given or the value cannot be a header value.
    fn new(
        token: Option<&str>,
        api_key: Option<&str>,
        search_key: Option<&str>,
    ) -> Result<Self, Failure> {
        let (flag, header, value) = match (token, api_key, search_key) {
            (Some(_), Some(_), _) => return Err(Failure::Usage(BOTH_CREDENTIALS.into())),
            (Some(_), None, Some(_)) | (None, Some(_), Some(_)) => {
                return Err(Failure::Usage(SEARCH_KEY_ALONE.into()));
            }
            (Some(token), None, None) => ("--token", "authorization", format!("Bearer {token}")),
            (None, Some(key), None) => ("--api-key", "authorization", format!("ApiKey {key}")),
            (None, None, Some(key)) => ("--search-key", SEARCH_KEY_HEADER, key.to_owned()),
            (None, None, None) => return Ok(Self(None)),
        };
        let mut value: MetadataValue<Ascii> = value.parse().map_err(|_| {
            Failure::Usage(format!(
                "{flag} contains characters not allowed in a header"
            ))
        })?;
        // a secret: kept out of HPACK's tables and of debug output
        value.set_sensitive(true);
        Ok(Self(Some((header, value))))
    }
}

impl Interceptor for Credential {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some((header, value)) = &self.0 {
            request.metadata_mut().insert(*header, value.clone());
        }
        Ok(request)
    }
}

/// Why a call with both a token and an API key is refused.
const BOTH_CREDENTIALS: &str = "give either a bearer token (--token, ENTITYCTL_TOKEN) or an API \
                                key (--api-key, ENTITYCTL_API_KEY), not both (a flag wins over \
                                the environment)";
/// Why a search key with another credential is refused.
const SEARCH_KEY_ALONE: &str = "a search key (--search-key) replaces a bearer token or an API \
                                key: give it without --token and --api-key";

/// A channel whose calls carry the credential.
type Authed = InterceptedService<Channel, Credential>;

/// Clients of every service on one connection.
struct Services {
    tenants: TenantServiceClient<Authed>,
    organizations: OrganizationServiceClient<Authed>,
    teams: TeamServiceClient<Authed>,
    users: UserServiceClient<Authed>,
    roles: RoleServiceClient<Authed>,
    clients: ClientServiceClient<Authed>,
    departments: DepartmentServiceClient<Authed>,
    locations: LocationServiceClient<Authed>,
    contacts: ContactServiceClient<Authed>,
    partitions: PartitionServiceClient<Authed>,
    partition_groups: PartitionGroupServiceClient<Authed>,
    api_keys: ApiKeyServiceClient<Authed>,
    registration: RegistrationServiceClient<Authed>,
    customers: CustomerServiceClient<Authed>,
    access: AccessServiceClient<Authed>,
    audit: AuditServiceClient<Authed>,
    admin: AdminServiceClient<Authed>,
    analytics: AnalyticsServiceClient<Authed>,
    search: SearchServiceClient<Authed>,
}

impl Services {
    fn new(channel: Channel, interceptor: Credential) -> Self {
        let i = interceptor;
        Self {
            analytics: AnalyticsServiceClient::with_interceptor(channel.clone(), i.clone()),
            tenants: TenantServiceClient::with_interceptor(channel.clone(), i.clone()),
            organizations: OrganizationServiceClient::with_interceptor(channel.clone(), i.clone()),
            teams: TeamServiceClient::with_interceptor(channel.clone(), i.clone()),
            users: UserServiceClient::with_interceptor(channel.clone(), i.clone()),
            roles: RoleServiceClient::with_interceptor(channel.clone(), i.clone()),
            clients: ClientServiceClient::with_interceptor(channel.clone(), i.clone()),
            departments: DepartmentServiceClient::with_interceptor(channel.clone(), i.clone()),
            locations: LocationServiceClient::with_interceptor(channel.clone(), i.clone()),
            contacts: ContactServiceClient::with_interceptor(channel.clone(), i.clone()),
            partitions: PartitionServiceClient::with_interceptor(channel.clone(), i.clone()),
            partition_groups: PartitionGroupServiceClient::with_interceptor(
                channel.clone(),
                i.clone(),
            ),
            api_keys: ApiKeyServiceClient::with_interceptor(channel.clone(), i.clone()),
            registration: RegistrationServiceClient::with_interceptor(channel.clone(), i.clone()),
            customers: CustomerServiceClient::with_interceptor(channel.clone(), i.clone()),
            access: AccessServiceClient::with_interceptor(channel.clone(), i.clone()),
            audit: AuditServiceClient::with_interceptor(channel.clone(), i.clone()),
            search: SearchServiceClient::with_interceptor(channel.clone(), i.clone()),
            admin: AdminServiceClient::with_interceptor(channel, i),
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
    crate::install_crypto_provider();
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // A flag beats the environment: `--api-key` wins over ENTITYCTL_TOKEN, `--token` over
    // ENTITYCTL_API_KEY (both as flags, or both from the environment, is a usage error), and
    // `--search-key` over both.
    let from_env = |id| matches.value_source(id) == Some(clap::parser::ValueSource::EnvVariable);
    if cli.command.search_key().is_some() {
        if from_env("token") {
            cli.token = None;
        }
        if from_env("api_key") {
            cli.api_key = None;
        }
    }
    if cli.token.is_some() && cli.api_key.is_some() {
        match (from_env("token"), from_env("api_key")) {
            (true, false) => cli.token = None,
            (false, true) => cli.api_key = None,
            _ => {}
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!(
                "{}",
                error_text(&format!("cannot start the async runtime: {e}"))
            );
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
            eprintln!("{}", error_text(&message));
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Rpc(status)) => {
            eprintln!("{}", status_text(&status));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn run(cli: Cli) -> Result<render::Rendered, Failure> {
    let credential = Credential::new(
        cli.token.as_deref(),
        cli.api_key.as_deref(),
        cli.command.search_key(),
    )?;
    let mut endpoint = Endpoint::from_shared(cli.endpoint.clone()).map_err(|e| {
        Failure::Usage(format!(
            "--endpoint {:?} is not a valid URI: {e}",
            cli.endpoint
        ))
    })?;
    if let Some(ca) = &cli.tls_ca {
        let pem = std::fs::read(ca)
            .map_err(|e| Failure::Usage(format!("cannot read --tls-ca {}: {e}", ca.display())))?;
        let tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(pem));
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| Failure::Usage(format!("--tls-ca: {e}")))?;
    }
    let channel = endpoint.connect().await.map_err(|e| {
        Failure::Rpc(Status::unavailable(format!(
            "cannot connect to {}: {e}",
            cli.endpoint
        )))
    })?;
    let mut services = Services::new(channel, credential);
    requests::run(&mut services, cli.command).await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

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
            "entityctl tenant list",
            "entityctl tenant list --status suspended --plan gold --query ac --prefix --page-size 10 --page-token p --all --consistency-token c",
            "entityctl org list T --parent P --include-deleted --all",
            "entityctl org list T --descendants-of P --page-size 5",
            "entityctl org list T --roots --consistency-token c",
            "entityctl org path T O --consistency-token c",
            "entityctl team list T --org O --include-deleted --all",
            "entityctl team members T --team TM --page-size 2",
            "entityctl team members T --user U --all --output id",
            "entityctl user list T --all --consistency-token c",
            "entityctl role assignments T",
            "entityctl role assignments T --user U --role viewer --scope org:O --all",
            "entityctl role assignments T --scope tenant",
            "entityctl audit list T",
            "entityctl audit list T --entity-kind org --entity-id O --since 2030-01-31 --until 2030-02-01T00:00:00Z",
            "entityctl audit list T --actor u1 --page-size 20 --page-token p --all",
            "entityctl admin projections --output json",
            "entityctl admin rebuild-projection org_tree",
            "entityctl user erase T U --request-id r1",
            "entityctl tenant erase T",
            "entityctl client create T --name Globex --external-id crm-7 --legal-name G --country FR",
            "entityctl client list T --status deleted --external-id crm-7 --all",
            "entityctl client update T C --country DE --request-id r1 --expected-version 2",
            "entityctl client update T C --clear-profile",
            "entityctl client disable T C",
            "entityctl audit list T --entity-kind client --entity-id C",
            "entityctl client create T --name G --line1 x --line2 y --city c --region r --postal-code p --country FR",
            "entityctl client update T C --city Paris",
            "entityctl department create T --name Sales --code S --client C --request-id r",
            "entityctl department get T D --consistency-token c",
            "entityctl department list T --owner tenant --active false --all",
            "entityctl department update T D --active false --expected-version 2",
            "entityctl department delete T D",
            "entityctl location create T --name HQ --line1 a --line2 b --city c --region r --postal-code p --country US --headquarters --code x --website https://a.b --phone 1234 --email a@b.c --notes n",
            "entityctl location update T L --headquarters false --notes n",
            "entityctl location list T --owner C",
            "entityctl contact create T --type billing --name Ann --email a@b.c --phone 123 --location L --client C",
            "entityctl contact list T --type billing --owner C --active true --page-size 2",
            "entityctl contact update T K --phone 1 --location L --type x --name n --email e",
            "entityctl user set-client T U --client C",
            "entityctl analytics export --since 0 --format jsonl --file f.jsonl",
            "entityctl analytics export --since 2030-01-31 --tenant T --kind user --kind org --format csv --file f.csv --per-call 10 --consistency-token c",
            "entityctl user set-client T U",
            "entityctl customer register --name Acme --slug acme --kind consumer --owner-email a@b.c",
            "entityctl customer get C --consistency-token c",
            "entityctl customer update C --name Acme --request-id r1 --expected-version 2",
            "entityctl customer update C --clear-profile",
            "entityctl tenant create --name A --slug abc --kind business --owner-email a@b.c --bootstrap-api-key",
            "entityctl partition create T --name prod --group G --description d --client C --request-id r",
            "entityctl partition create T --name dev",
            "entityctl partition get T P --consistency-token c",
            "entityctl partition list T --owner C --active true --page-size 2 --all",
            "entityctl partition update T P --name qa --group G --description d",
            "entityctl partition update T P --active false --expected-version 2",
            "entityctl partition delete T P --request-id r",
            "entityctl partition-group create T --name Envs --parent G0 --client C",
            "entityctl partition-group get T G",
            "entityctl partition-group list T --owner tenant",
            "entityctl partition-group update T G --parent G1 --name N",
            "entityctl partition-group update T G --active true",
            "entityctl partition-group delete T G",
            "entityctl api-key create T --partition P --name ci --admin",
            "entityctl api-key create T --partition P --name ci --scope organization:read --scope user:* --ttl-secs 3600 --foreign-key gh-7 --request-id r",
            "entityctl api-key create T --partition P --name ci --admin --expires 2030-01-31T00:00:00Z",
            "entityctl api-key create T --partition P --name ci --admin --expires 2030-01-31",
            "entityctl api-key get T K",
            "entityctl api-key list T",
            "entityctl api-key list T --partition P --page-size 10 --page-token p --all",
            "entityctl api-key rotate T K",
            "entityctl api-key rotate T K --overlap-secs 0 --ttl-secs 60 --request-id r",
            "entityctl api-key rotate T K --expires 2030-01-31T00:00:00Z",
            "entityctl api-key revoke T K --request-id r",
            "entityctl api-key verify eek_x",
            "entityctl api-key verify eek_x --output json",
            "entityctl --api-key eek_x tenant get T",
            "entityctl org list T --api-key eek_x",
            "entityctl registration configure T --enabled",
            "entityctl registration configure T --disabled --auto-role viewer --auto-role team-member@team:TM --custom-host s.acme.com --request-id r --expected-version 2",
            "entityctl registration get T --output json",
            "entityctl registration add-domain T acme.com --client C",
            "entityctl registration verify-domain T acme.com --manual --request-id r",
            "entityctl registration remove-domain T acme.com --expected-version 3",
            "entityctl registration resolve --email a@acme.com",
            "entityctl registration resolve --host s.acme.com --output id",
            "entityctl user register --email a@acme.com",
            "entityctl user register --email a@acme.com --tenant T --name Ann --request-id r",
            "entityctl user register --email a@acme.com --host s.acme.com --display-name Ann",
            "entityctl user claims T U --output json",
            "entityctl search customers",
            "entityctl search customers T --query glob --entry client --status disabled --page-size 2 --all --consistency-token c",
            "entityctl search customers --scope tenant-customers --kind business --kind consumer --plan gold --industry-sector energy --industry-group banks --size-range 1-10 --provisions-tenants true --client-of C --output json",
            "entityctl search customers --search-key sk.1 --page-token p",
            "entityctl --output id search create-key T --ttl-secs 600",
            "entityctl search create-key --scope all-customers --query a --valid-until 2030-01-31T00:00:00Z",
        ] {
            let parsed = Cli::try_parse_from(line.split(' '));
            assert!(parsed.is_ok(), "{line}: {:?}", parsed.err());
        }
        for line in [
            "entityctl tenant update T",
            "entityctl customer update C",
            "entityctl customer register --name A --slug abc --kind business",
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
            "entityctl tenant list --prefix",
            "entityctl tenant list --status gone",
            "entityctl org list T --parent P --roots",
            "entityctl org list T --parent P --descendants-of Q",
            "entityctl org path T",
            "entityctl team members T",
            "entityctl team members T --team TM --user U",
            "entityctl role assignments T --scope dept:1",
            "entityctl role assignments T --scope org:",
            "entityctl audit list",
            "entityctl audit list T --entity-kind user",
            "entityctl audit list T --entity-id U",
            "entityctl audit list T --entity-kind user --entity-id U --actor A",
            "entityctl audit list T --since yesterday",
            "entityctl admin rebuild-projection",
            "entityctl user erase T",
            "entityctl tenant erase",
            "entityctl client create T",
            "entityctl client update T C",
            "entityctl client update T C --country DE --clear-profile",
            "entityctl client list T --status suspended",
            "entityctl client update T C --city Paris --clear-profile",
            "entityctl department update T D",
            "entityctl department list T --active maybe",
            "entityctl department list T --type billing",
            "entityctl department create T --city Paris",
            "entityctl location update T L",
            "entityctl contact update T K --code x",
            "entityctl contact get T",
            "entityctl user set-client --tenant T --user U",
            "entityctl user set-client T",
            "entityctl partition update T P",
            "entityctl partition create T --parent G",
            "entityctl partition create T --code x",
            "entityctl partition list T --type x",
            "entityctl partition get T",
            "entityctl partition-group update T G",
            "entityctl partition-group create T --group G",
            "entityctl partition-group create T --description d",
            "entityctl partition-group delete T",
            "entityctl api-key create T --partition P --name ci",
            "entityctl api-key create T --partition P --name ci --admin --scope user:read",
            "entityctl api-key create T --name ci --admin",
            "entityctl api-key create T --partition P --admin",
            "entityctl api-key create --partition P --name ci --admin",
            "entityctl api-key create T --partition P --name ci --admin --ttl-secs 5 --expires 2030-01-31",
            "entityctl api-key create T --partition P --name ci --admin --expires tomorrow",
            "entityctl api-key create T --partition P --name ci --admin --ttl-secs soon",
            "entityctl api-key rotate T",
            "entityctl api-key rotate T K --ttl-secs 1 --expires 2030-01-31",
            "entityctl api-key rotate T K --overlap-secs soon",
            "entityctl api-key get T",
            "entityctl api-key get T K --consistency-token c",
            "entityctl api-key list",
            "entityctl api-key list T --owner C",
            "entityctl api-key revoke T",
            "entityctl api-key verify",
            "entityctl api-key verify K1 K2",
            "entityctl api-key update T K --name x",
            "entityctl api-key delete T K",
            "entityctl --api-key",
            "entityctl registration configure T",
            "entityctl registration configure T --enabled --disabled",
            "entityctl registration configure T --enabled --auto-role admin@dept:1",
            "entityctl registration configure T --enabled --auto-role viewer@org:",
            "entityctl registration configure --enabled",
            "entityctl registration get",
            "entityctl registration get T --consistency-token c",
            "entityctl registration add-domain T",
            "entityctl registration verify-domain T",
            "entityctl registration verify-domain T acme.com --dns",
            "entityctl registration remove-domain T",
            "entityctl registration remove-domain T acme.com --client C",
            "entityctl registration resolve",
            "entityctl registration resolve --email a@acme.com --host s.acme.com",
            "entityctl registration list",
            "entityctl user register",
            "entityctl user register a@acme.com",
            "entityctl user register --email a@acme.com --tenant T --host s.acme.com",
            "entityctl user claims T",
            "entityctl user claims T U --consistency-token c",
            "entityctl search",
            "entityctl search customers T --scope all-customers",
            "entityctl search customers --scope own-clients",
            "entityctl search customers --kind club",
            "entityctl search customers --size-range 1-9",
            "entityctl search customers --provisions-tenants maybe",
            "entityctl search customers T U",
            "entityctl search create-key T --ttl-secs 60 --valid-until 2030-01-31",
            "entityctl search create-key T --ttl-secs -1",
            "entityctl search create-key T --valid-until tomorrow",
            "entityctl search create-key T --search-key k",
        ] {
            assert!(Cli::try_parse_from(line.split(' ')).is_err(), "{line}");
        }
    }

    #[test]
    fn client_flags_reach_the_command() {
        use args::{ClientCommand, ClientStatusArg, Command};
        let parse = |line: &str| Cli::try_parse_from(line.split(' ')).map(|c| c.command);
        match parse("entityctl client update T C --country DE --expected-version 4") {
            Ok(Command::Client(ClientCommand::Update {
                profile,
                name,
                clear_profile,
                write,
                ..
            })) => {
                assert_eq!(profile.address.country.as_deref(), Some("DE"));
                assert!(profile.given() && name.is_none() && !clear_profile);
                assert_eq!(write.expected_version, Some(4));
            }
            other => panic!("parsed as {other:?}"),
        }
        match parse("entityctl client list T --status disabled --page-size 2") {
            Ok(Command::Client(ClientCommand::List {
                status, listing, ..
            })) => {
                assert_eq!(status, Some(ClientStatusArg::Disabled));
                assert_eq!(listing.page.page_size, Some(2));
            }
            other => panic!("parsed as {other:?}"),
        }
        match parse("entityctl client get T C --consistency-token ct") {
            Ok(Command::Client(ClientCommand::Get(read))) => {
                assert_eq!((read.tenant.as_str(), read.id.as_str()), ("T", "C"));
                assert_eq!(read.read.consistency_token.as_deref(), Some("ct"));
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn directory_flags_reach_the_command() {
        use args::{Command, RecordCommand};
        let parse = |line: &str| Cli::try_parse_from(line.split(' ')).map(|c| c.command);
        match parse("entityctl contact list T --owner tenant --active false --type billing") {
            Ok(Command::Contact(RecordCommand::List {
                owner,
                active,
                filter,
                ..
            })) => {
                assert_eq!(owner.as_deref(), Some("tenant"));
                assert_eq!(active, Some(false));
                assert_eq!(filter.contact_type.as_deref(), Some("billing"));
            }
            other => panic!("parsed as {other:?}"),
        }
        match parse("entityctl department create T --name Sales --client C") {
            Ok(Command::Department(RecordCommand::Create { client, fields, .. })) => {
                assert_eq!(client.as_deref(), Some("C"));
                assert_eq!(fields.name.as_deref(), Some("Sales"));
                assert_eq!(fields.code, None);
            }
            other => panic!("parsed as {other:?}"),
        }
        match parse("entityctl location update T L --active true") {
            Ok(Command::Location(RecordCommand::Update {
                id, active, fields, ..
            })) => {
                assert_eq!((id.as_str(), active), ("L", Some(true)));
                assert!(!fields.address.given() && fields.headquarters.is_none());
            }
            other => panic!("parsed as {other:?}"),
        }
        match parse("entityctl user set-client T U") {
            Ok(Command::User(args::UserCommand::SetClient {
                tenant,
                user,
                client,
                ..
            })) => {
                assert_eq!((tenant.as_str(), user.as_str(), client), ("T", "U", None));
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn list_options_reach_the_command() {
        use args::{AuditCommand, Command, EntityKindArg, RoleCommand, ScopeSpec};
        let parse = |line: &str| Cli::try_parse_from(line.split(' ')).map(|c| c.command);
        match parse("entityctl role assignments T --scope team:TM --page-size 3 --all") {
            Ok(Command::Role(RoleCommand::Assignments { scope, listing, .. })) => {
                assert_eq!(scope, Some(ScopeSpec::Team("TM".into())));
                assert_eq!((listing.page.page_size, listing.page.all), (Some(3), true));
            }
            other => panic!("parsed as {other:?}"),
        }
        match parse(
            "entityctl audit list T --entity-kind organization --entity-id O --since 2030-01-31T01:00:00+01:00",
        ) {
            Ok(Command::Audit(AuditCommand::List {
                entity_kind,
                entity_id,
                since,
                until,
                ..
            })) => {
                assert_eq!(entity_kind, Some(EntityKindArg::Organization));
                assert_eq!(entity_id.as_deref(), Some("O"));
                assert_eq!(
                    since.map(|t| t.to_rfc3339()).as_deref(),
                    Some("2030-01-31T00:00:00+00:00")
                );
                assert_eq!(until, None);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn partition_flags_reach_the_command() {
        use args::{Command, RecordCommand};
        let parse = |line: &str| Cli::try_parse_from(line.split(' ')).map(|c| c.command);
        match parse("entityctl partition create T --name prod --group G --client C") {
            Ok(Command::Partition(RecordCommand::Create { client, fields, .. })) => {
                assert_eq!(client.as_deref(), Some("C"));
                assert_eq!(
                    (
                        fields.name.as_deref(),
                        fields.group.as_deref(),
                        fields.description
                    ),
                    (Some("prod"), Some("G"), None)
                );
            }
            other => panic!("parsed as {other:?}"),
        }
        // `--group ""` on update: out of every group
        match Cli::try_parse_from(["entityctl", "partition", "update", "T", "P", "--group", ""]) {
            Ok(Cli {
                command: Command::Partition(RecordCommand::Update { fields, active, .. }),
                ..
            }) => {
                assert_eq!((fields.group.as_deref(), active), (Some(""), None));
            }
            other => panic!("parsed as {other:?}"),
        }
        match parse("entityctl partition-group update T G --parent G0") {
            Ok(Command::PartitionGroup(RecordCommand::Update { id, fields, .. })) => {
                assert_eq!((id.as_str(), fields.parent.as_deref()), ("G", Some("G0")));
                assert_eq!(fields.name, None);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn api_key_flags_reach_the_command() {
        use args::{ApiKeyCommand, Command};
        let parse = |line: &str| Cli::try_parse_from(line.split(' ')).map(|c| c.command);
        match parse("entityctl api-key create T --partition P --name ci --scope a:b --scope c:*") {
            Ok(Command::ApiKey(ApiKeyCommand::Create {
                tenant,
                partition,
                admin,
                scopes,
                expiry,
                ..
            })) => {
                assert_eq!(
                    (tenant.as_str(), partition.as_str(), admin),
                    ("T", "P", false)
                );
                assert_eq!(scopes, ["a:b", "c:*"]);
                assert!(expiry.ttl_secs.is_none() && expiry.expires.is_none());
            }
            other => panic!("parsed as {other:?}"),
        }
        match parse("entityctl api-key rotate T K --overlap-secs 60") {
            Ok(Command::ApiKey(ApiKeyCommand::Rotate {
                id, overlap_secs, ..
            })) => {
                assert_eq!((id.as_str(), overlap_secs), ("K", Some(60)));
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn the_key_to_verify_does_not_overwrite_the_api_key() {
        use args::{ApiKeyCommand, Command};
        let cli = Cli::try_parse_from([
            "entityctl",
            "--api-key",
            "MINE",
            "api-key",
            "verify",
            "THEIRS",
        ])
        .unwrap();
        assert_eq!(
            (cli.api_key.as_deref(), cli.token.as_deref()),
            (Some("MINE"), None)
        );
        match cli.command {
            Command::ApiKey(ApiKeyCommand::Verify { key }) => assert_eq!(key, "THEIRS"),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn a_call_carries_one_credential() {
        let header = |c: Credential| {
            c.0.map(|(name, v)| format!("{name}: {}", v.to_str().unwrap_or_default()))
        };
        let credential = |token, key| Credential::new(token, key, None).map(header);
        assert!(matches!(credential(None, None), Ok(None)));
        assert!(
            matches!(credential(Some("jwt"), None), Ok(Some(h)) if h == "authorization: Bearer jwt")
        );
        assert!(
            matches!(credential(None, Some("eek_1")), Ok(Some(h)) if h == "authorization: ApiKey eek_1")
        );
        assert!(matches!(
            credential(Some("jwt"), Some("eek_1")),
            Err(Failure::Usage(m)) if m == BOTH_CREDENTIALS
        ));
        assert!(matches!(
            credential(None, Some("eek\n1")),
            Err(Failure::Usage(m)) if m.starts_with("--api-key ")
        ));
        assert!(matches!(
            credential(Some("a\u{7f}"), None),
            Err(Failure::Usage(m)) if m.starts_with("--token ")
        ));
        // a search key goes alone, in its own header
        let searching = |token, key| Credential::new(token, key, Some("sk.1")).map(header);
        assert!(matches!(searching(None, None), Ok(Some(h)) if h == "x-search-key: sk.1"));
        for (token, key) in [(Some("jwt"), None), (None, Some("eek_1"))] {
            assert!(matches!(
                searching(token, key),
                Err(Failure::Usage(m)) if m == SEARCH_KEY_ALONE
            ));
        }
        assert!(matches!(
            Credential::new(None, None, Some("sk\n1")).map(header),
            Err(Failure::Usage(m)) if m.starts_with("--search-key ")
        ));
        // the interceptor sets the header on every call
        let mut interceptor =
            Credential::new(None, Some("eek_1"), None).unwrap_or(Credential(None));
        let request = interceptor.call(Request::new(())).unwrap();
        assert_eq!(
            request
                .metadata()
                .get("authorization")
                .map(|v| v.to_str().ok()),
            Some(Some("ApiKey eek_1"))
        );
        let mut interceptor = Credential::new(None, None, Some("sk.1")).unwrap_or(Credential(None));
        let request = interceptor.call(Request::new(())).unwrap();
        assert_eq!(
            request
                .metadata()
                .get(SEARCH_KEY_HEADER)
                .map(|v| v.to_str().ok()),
            Some(Some("sk.1"))
        );
        assert!(request.metadata().get("authorization").is_none());
        let bare = Credential(None).call(Request::new(())).unwrap();
        assert!(bare.metadata().get("authorization").is_none());
    }
}
