//! Command-line grammar of `entityctl`: the global options, the resource groups (one module
//! each) and the argument types they share.

mod access;
mod admin;
mod analytics;
mod api_key;
mod audit;
mod client;
mod customer;
mod directory;
mod organization;
mod registration;
mod role;
mod search;
mod team;
mod tenant;
mod user;

use std::{fmt, marker::PhantomData, str::FromStr};

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

pub use access::AccessCommand;
pub use admin::AdminCommand;
pub use analytics::{AnalyticsCommand, ExportFormat, HistoryKindArg, SinceArg};
pub use api_key::{ApiKeyCommand, ExpiryOpts};
pub use audit::{AuditCommand, EntityKindArg};
pub use client::{ClientCommand, ClientStatusArg};
pub use customer::CustomerCommand;
pub use directory::{
    ContactFields, ContactFilter, DepartmentFields, LocationFields, NoFilter, PartitionFields,
    PartitionGroupFields, RecordCommand, RecordKind,
};
pub use organization::OrgCommand;
pub use registration::RegistrationCommand;
pub use role::RoleCommand;
pub use search::{
    EntryArg, IndustryGroupArg, IndustrySectorArg, SearchCommand, SearchFilterOpts, SearchScopeArg,
    SearchScopeOpts, SearchStatusArg, SizeRangeArg,
};
pub use team::{TeamCommand, TeamRoleArg};
pub use tenant::{KindArg, PlanArg, TenantCommand, TenantStatusArg};
pub use user::{UserCommand, UserStatusArg};

/// Command-line client of entity-engine: drives every RPC from a shell.
#[derive(Debug, Parser)]
#[command(name = "entityctl", version)]
pub struct Cli {
    /// gRPC endpoint of an entityd node.
    #[arg(
        long,
        env = "ENTITYCTL_ENDPOINT",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    pub endpoint: String,
    /// PEM file of the CA that signed the node's certificate (for an `https://` endpoint).
    #[arg(long, env = "ENTITYCTL_TLS_CA", global = true)]
    pub tls_ca: Option<std::path::PathBuf>,
    /// Bearer token sent as `authorization: Bearer <token>`.
    #[arg(long, env = "ENTITYCTL_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// API key (`eek_…`) sent as `authorization: ApiKey <key>` instead of a bearer token: the
    /// call acts within the key's tenant with its scopes. Not with --token; given as a flag it
    /// wins over ENTITYCTL_TOKEN.
    #[arg(long, env = "ENTITYCTL_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Readable `key: value` lines.
    Text,
    /// One JSON object per result.
    Json,
    /// Only the id(s) of the resulting resource(s), one per line: for shell scripts.
    Id,
}

/// Resource groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tenants: the isolation boundary.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Organizations: business units of a tenant.
    #[command(subcommand, name = "org")]
    Org(OrgCommand),
    /// Teams: collaboration groups inside an organization.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Users: invitations, self-registration, profiles, memberships, role assignments and
    /// token claims.
    #[command(subcommand)]
    User(UserCommand),
    /// Roles: the built-in ones and the tenant's custom roles.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Clients: a tenant's own customers, each with a business profile.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Departments of the tenant or of one of its clients.
    #[command(subcommand)]
    Department(RecordCommand<DepartmentId>),
    /// Locations (addresses, the headquarters among them) of the tenant or of its clients.
    #[command(subcommand)]
    Location(RecordCommand<LocationId>),
    /// Contacts (account owners, billing, technical, …) of the tenant or of its clients.
    #[command(subcommand)]
    Contact(RecordCommand<ContactId>),
    /// Data partitions (dev, qa, prod, …) of the tenant or of its clients.
    #[command(subcommand)]
    Partition(RecordCommand<PartitionId>),
    /// Partition groups: folders of partitions (a group may hold groups).
    #[command(subcommand)]
    PartitionGroup(RecordCommand<PartitionGroupId>),
    /// API keys of partitions: issued and rotated (the key shown once), revoked, verified.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Self-registration by verified email domain: settings, domains and their DNS
    /// verification, and which tenant a person would join.
    #[command(subcommand)]
    Registration(RegistrationCommand),
    /// Customers: tenant accounts seen through their profile (name, kind, business profile).
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// Customer search: customers and their clients, with the caller's credentials or a
    /// search key; search keys for browsers.
    #[command(subcommand)]
    Search(SearchCommand),
    /// Permission checks: "may this user do that here?".
    #[command(subcommand)]
    Access(AccessCommand),
    /// The audit trail: a tenant's recorded events.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Operator commands (platform admins): projections of the node that answers.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The analytics history: every change, with the entity's state, exported to a file.
    #[command(subcommand)]
    Analytics(AnalyticsCommand),
}

impl Command {
    /// The search key the command is sent with (`search customers --search-key`), if any.
    pub fn search_key(&self) -> Option<&str> {
        match self {
            Command::Search(SearchCommand::Customers { search_key, .. }) => search_key.as_deref(),
            _ => None,
        }
    }
}

/// Paging options of every list command.
#[derive(Clone, Debug, Default, Args)]
pub struct PageOpts {
    /// Page size [server default: 50, max 500].
    #[arg(long)]
    pub page_size: Option<i32>,
    /// Page token of a previous answer.
    #[arg(long)]
    pub page_token: Option<String>,
    /// Follow the next-page tokens to the end and print every item.
    #[arg(long)]
    pub all: bool,
}

/// Options of every mutating command.
#[derive(Clone, Debug, Default, Args)]
pub struct WriteOpts {
    /// Idempotency key: a retry with the same key returns the first result.
    #[arg(long)]
    pub request_id: Option<String>,
    /// Write only if the entity is at exactly this version.
    #[arg(long)]
    pub expected_version: Option<i64>,
}

/// Options of every list command but `audit list`: paging and the consistency token.
#[derive(Clone, Debug, Default, Args)]
pub struct ListOpts {
    #[command(flatten)]
    pub page: PageOpts,
    #[command(flatten)]
    pub read: ReadOpts,
}

/// Options of every read.
#[derive(Clone, Debug, Default, Args)]
pub struct ReadOpts {
    /// Read at least the write that returned this token.
    #[arg(long)]
    pub consistency_token: Option<String>,
}

/// Business-profile flags (`tenant create`, `client create`, `client update`).
#[derive(Clone, Debug, Default, Args)]
pub struct ProfileOpts {
    /// Legal name (business profile).
    #[arg(long)]
    pub legal_name: Option<String>,
    /// Headquarters address (business profile; a business tenant or client created with one
    /// gets its headquarters location from it).
    #[command(flatten)]
    pub address: AddressOpts,
}

impl ProfileOpts {
    /// Whether any profile flag was given.
    pub fn given(&self) -> bool {
        self.legal_name.is_some() || self.address.given()
    }
}

/// Address flags (a business profile's, a location's): given together, they replace the
/// whole address.
#[derive(Clone, Debug, Default, Args)]
pub struct AddressOpts {
    /// Street address, first line.
    #[arg(long)]
    pub line1: Option<String>,
    /// Street address, second line.
    #[arg(long)]
    pub line2: Option<String>,
    /// City.
    #[arg(long)]
    pub city: Option<String>,
    /// Region, state or province.
    #[arg(long)]
    pub region: Option<String>,
    /// Postal code.
    #[arg(long)]
    pub postal_code: Option<String>,
    /// Country, ISO 3166-1 alpha-2 [server default: US].
    #[arg(long)]
    pub country: Option<String>,
}

impl AddressOpts {
    /// Whether any address flag was given.
    pub fn given(&self) -> bool {
        [
            &self.line1,
            &self.line2,
            &self.city,
            &self.region,
            &self.postal_code,
            &self.country,
        ]
        .iter()
        .any(|v| v.is_some())
    }
}

/// The ids of the arguments `A` declares (those it flattens included): for a group or a
/// conflict naming all of them.
pub fn arg_ids<A: Args>() -> Vec<clap::Id> {
    A::augment_args(clap::Command::new("ids"))
        .get_arguments()
        .map(|a| a.get_id().clone())
        .collect()
}

/// What kind of entity a positional id names: its placeholder and help line.
pub trait Kind {
    /// Placeholder in usage lines (`TEAM` for `<TEAM>`).
    const VALUE_NAME: &'static str;
    /// Help line.
    const HELP: &'static str;
}

/// Declares [`Kind`]s.
macro_rules! kinds {
    ($($(#[$doc:meta])* $name:ident: $value_name:literal, $help:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name;

        impl Kind for $name {
            const VALUE_NAME: &'static str = $value_name;
            const HELP: &'static str = $help;
        }
    )*};
}

kinds! {
    /// An organization's id.
    OrgId: "ORG", "Organization id";
    /// A team's id.
    TeamId: "TEAM", "Team id";
    /// A custom role's id.
    RoleId: "ROLE", "Role id";
    /// A user's id.
    UserId: "USER", "User id";
    /// A client's id.
    ClientId: "CLIENT", "Client id";
    /// A department's id.
    DepartmentId: "DEPARTMENT", "Department id";
    /// A location's id.
    LocationId: "LOCATION", "Location id";
    /// A contact's id.
    ContactId: "CONTACT", "Contact id";
    /// A partition's id.
    PartitionId: "PARTITION", "Partition id";
    /// A partition group's id.
    PartitionGroupId: "GROUP", "Partition group id";
    /// An API key's id (not the key itself).
    ApiKeyId: "KEY_ID", "API key id (not the key itself)";
    /// A tenant's registration domain (not an id: the name, e.g. `acme.com`).
    DomainName: "DOMAIN", "Domain, as added (e.g. acme.com)";
}

/// A read of one entity of a tenant: `TENANT ID [--consistency-token T]`.
#[derive(Debug, Args)]
pub struct Read<K: Kind> {
    /// Tenant id.
    pub tenant: String,
    /// The entity's id.
    #[arg(value_name = K::VALUE_NAME, help = K::HELP)]
    pub id: String,
    #[command(flatten)]
    pub read: ReadOpts,
    #[arg(skip)]
    kind: PhantomData<K>,
}

/// A write to one entity of a tenant that takes nothing else: `TENANT ID` and [`WriteOpts`].
#[derive(Debug, Args)]
pub struct Write<K: Kind> {
    /// Tenant id.
    pub tenant: String,
    /// The entity's id.
    #[arg(value_name = K::VALUE_NAME, help = K::HELP)]
    pub id: String,
    #[command(flatten)]
    pub write: WriteOpts,
    #[arg(skip)]
    kind: PhantomData<K>,
}

/// A write linking one entity of a tenant to another, or ending the link: `TENANT ID OTHER`
/// and [`WriteOpts`].
#[derive(Debug, Args)]
pub struct Link<K: Kind, L: Kind> {
    /// Tenant id.
    pub tenant: String,
    /// The entity's id.
    #[arg(value_name = K::VALUE_NAME, help = K::HELP)]
    pub id: String,
    /// The other entity's id.
    #[arg(value_name = L::VALUE_NAME, help = L::HELP)]
    pub other: String,
    #[command(flatten)]
    pub write: WriteOpts,
    #[arg(skip)]
    kinds: PhantomData<(K, L)>,
}

/// A change of the name or description of one entity of a tenant (only the fields given).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").multiple(true).required(true)))]
pub struct Describe<K: Kind> {
    /// Tenant id.
    pub tenant: String,
    /// The entity's id.
    #[arg(value_name = K::VALUE_NAME, help = K::HELP)]
    pub id: String,
    /// New name.
    #[arg(long, group = "change")]
    pub name: Option<String>,
    /// New description.
    #[arg(long, group = "change")]
    pub description: Option<String>,
    #[command(flatten)]
    pub write: WriteOpts,
    #[arg(skip)]
    kind: PhantomData<K>,
}

/// Where a role applies or a check is asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeSpec {
    /// The whole tenant.
    Tenant,
    /// An organization (by id), its subtree and their teams.
    Organization(String),
    /// A team (by id).
    Team(String),
}

impl fmt::Display for ScopeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeSpec::Tenant => f.write_str("tenant"),
            ScopeSpec::Organization(id) => write!(f, "org:{id}"),
            ScopeSpec::Team(id) => write!(f, "team:{id}"),
        }
    }
}

/// `tenant`, `org:ID` or `team:ID` (the scope part of a [`RoleSpec`]).
impl FromStr for ScopeSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            None if s == "tenant" => Ok(ScopeSpec::Tenant),
            Some(("org", id)) if !id.is_empty() => Ok(ScopeSpec::Organization(id.into())),
            Some(("team", id)) if !id.is_empty() => Ok(ScopeSpec::Team(id.into())),
            _ => Err(format!("{s:?}: expected tenant, org:ID or team:ID")),
        }
    }
}

/// A role at a scope, written `ROLE` (the tenant), `ROLE@org:ID` or `ROLE@team:ID`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleSpec {
    /// Role name.
    pub role: String,
    /// Where it applies.
    pub scope: ScopeSpec,
}

impl FromStr for RoleSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || format!("{s:?}: expected ROLE, ROLE@org:ID or ROLE@team:ID");
        let (role, scope) = match s.split_once('@') {
            None => (s, ScopeSpec::Tenant),
            Some((role, scope)) => (role, scope.parse().map_err(|_| usage())?),
        };
        if role.is_empty() {
            return Err(usage());
        }
        Ok(Self {
            role: role.to_owned(),
            scope,
        })
    }
}

/// `--org ID` or `--team ID` (neither: the tenant, or no filter).
#[derive(Clone, Debug, Default, Args)]
#[command(group(ArgGroup::new("scope").multiple(false)))]
pub struct ScopeOpts {
    /// An organization id.
    #[arg(long, group = "scope")]
    pub org: Option<String>,
    /// A team id.
    #[arg(long, group = "scope")]
    pub team: Option<String>,
}

impl ScopeOpts {
    /// The scope given, if any.
    pub fn scope(self) -> Option<ScopeSpec> {
        match (self.org, self.team) {
            (Some(org), _) => Some(ScopeSpec::Organization(org)),
            (None, Some(team)) => Some(ScopeSpec::Team(team)),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_specs() {
        let spec = |s: &str| s.parse::<RoleSpec>();
        assert_eq!(
            spec("viewer"),
            Ok(RoleSpec {
                role: "viewer".into(),
                scope: ScopeSpec::Tenant
            })
        );
        assert_eq!(
            spec("org-admin@org:O1").map(|r| r.scope),
            Ok(ScopeSpec::Organization("O1".into()))
        );
        assert_eq!(
            spec("team-member@team:T1").map(|r| r.scope),
            Ok(ScopeSpec::Team("T1".into()))
        );
        assert_eq!(
            spec("viewer@tenant").map(|r| r.scope),
            Ok(ScopeSpec::Tenant)
        );
        for bad in ["", "@org:x", "viewer@org:", "viewer@org", "viewer@dept:1"] {
            assert!(spec(bad).is_err(), "{bad}");
        }
        assert_eq!(ScopeSpec::Organization("O".into()).to_string(), "org:O");
    }

    #[test]
    fn scope_specs_round_trip() {
        for s in ["tenant", "org:O1", "team:T1"] {
            assert_eq!(s.parse::<ScopeSpec>().map(|s| s.to_string()), Ok(s.into()));
        }
        for bad in ["", "org", "org:", "team:", "dept:1", "tenant:x"] {
            assert!(bad.parse::<ScopeSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_invitation_token_does_not_overwrite_the_bearer_token() {
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "entityctl",
            "--token",
            "BEARER",
            "user",
            "accept",
            "TENANT",
            "INVITATION",
        ])
        .unwrap();
        assert_eq!(cli.token.as_deref(), Some("BEARER"));
        match cli.command {
            Command::User(UserCommand::Accept {
                invitation_token, ..
            }) => {
                assert_eq!(invitation_token, "INVITATION");
            }
            other => panic!("parsed as {other:?}"),
        }
    }
}
