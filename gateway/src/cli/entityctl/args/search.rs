//! `entityctl search …`.

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};

use super::{KindArg, ListOpts, PlanArg, audit::parse_time};

/// Search commands: customers and their clients, and search keys for browsers.
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Search customers (tenants) and their clients, by name, within the caller's scope: a
    /// platform admin's --scope (all customers by default), anyone else's own clients (with
    /// `client:read`), or a search key's. The filters only ever narrow it.
    Customers {
        #[command(flatten)]
        scope: SearchScopeOpts,
        #[command(flatten)]
        filter: SearchFilterOpts,
        /// Search with this search key (`search create-key`), within its scope and filters,
        /// instead of a bearer token or an API key: not with --token or --api-key; it wins over
        /// ENTITYCTL_TOKEN and ENTITYCTL_API_KEY.
        #[arg(long, value_name = "KEY")]
        search_key: Option<String>,
        #[command(flatten)]
        listing: ListOpts,
    },
    /// Create a search key: the scope and filters, signed, for a browser to search with (and
    /// nothing else). Needs what searching that scope needs. The key is printed this once
    /// (`search_key: …`); it is stored nowhere.
    CreateKey {
        #[command(flatten)]
        scope: SearchScopeOpts,
        /// Restrictions baked into the key: a search with it can narrow them, never widen them.
        #[command(flatten)]
        filter: SearchFilterOpts,
        /// When the key stops working: RFC 3339 (2030-01-31T12:00:00Z) or a date (00:00 UTC);
        /// at most 24 hours from now [server default: one hour from now].
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        valid_until: Option<DateTime<Utc>>,
        /// The key stops working this many seconds from now (at most 86400).
        #[arg(long, value_name = "SECONDS", conflicts_with = "valid_until")]
        ttl_secs: Option<u32>,
    },
}

/// What a search covers: a tenant's clients (TENANT), a platform-wide --scope, or neither
/// (the caller's default: a platform admin's all customers, anyone else's own clients).
#[derive(Clone, Debug, Default, Args)]
pub struct SearchScopeOpts {
    /// Search the clients of this tenant (scope own-clients).
    #[arg(value_name = "TENANT")]
    pub tenant: Option<String>,
    /// A platform-wide scope (platform admins), instead of a tenant's clients.
    #[arg(long, value_enum, conflicts_with = "tenant")]
    pub scope: Option<SearchScopeArg>,
}

/// The conditions a search's results meet, all of them; a repeated flag matches any of its
/// values (at most 32).
#[derive(Clone, Debug, Default, Args)]
pub struct SearchFilterOpts {
    /// Case-insensitive text anywhere in the name, slug, external id or legal name (at most
    /// 200 characters).
    #[arg(long, value_name = "TEXT")]
    pub query: Option<String>,
    /// Only customers, or only clients.
    #[arg(long, value_enum)]
    pub entry: Option<EntryArg>,
    /// Only customers of this kind (repeatable).
    #[arg(long = "kind", value_enum)]
    pub kinds: Vec<KindArg>,
    /// Only entries in this status (repeatable).
    #[arg(long = "status", value_enum)]
    pub statuses: Vec<SearchStatusArg>,
    /// Only customers on this plan (repeatable).
    #[arg(long = "plan", value_enum)]
    pub plans: Vec<PlanArg>,
    /// Only entries in this GICS sector (repeatable).
    #[arg(long = "industry-sector", value_enum, value_name = "SECTOR")]
    pub industry_sectors: Vec<IndustrySectorArg>,
    /// Only entries in this GICS industry group (repeatable).
    #[arg(long = "industry-group", value_enum, value_name = "GROUP")]
    pub industry_groups: Vec<IndustryGroupArg>,
    /// Only entries of this size, in employees (repeatable).
    #[arg(long = "size-range", value_enum, value_name = "RANGE")]
    pub size_ranges: Vec<SizeRangeArg>,
    /// Only customers that provision (true) or do not provision (false) tenants for their
    /// clients.
    #[arg(long, value_name = "true|false")]
    pub provisions_tenants: Option<bool>,
    /// Only the clients of this customer.
    #[arg(long, value_name = "CUSTOMER")]
    pub client_of: Option<String>,
}

/// A platform-wide search scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[allow(clippy::enum_variant_names)] // the proto's names, and the flag's values
pub enum SearchScopeArg {
    /// Every customer and client.
    AllCustomers,
    /// Business customers.
    BusinessCustomers,
    /// Consumer customers.
    ConsumerCustomers,
    /// Customers that provision tenants for their clients.
    TenantCustomers,
}

/// Customers or clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EntryArg {
    /// Customers (tenants).
    Customer,
    /// Clients of customers.
    Client,
}

/// The status of a search entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SearchStatusArg {
    /// Customers and clients in service.
    Active,
    /// Suspended customers.
    Suspended,
    /// Deactivated customers, in their grace period.
    Deactivated,
    /// Disabled clients.
    Disabled,
}

/// A GICS sector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IndustrySectorArg {
    Energy,
    Materials,
    Industrials,
    ConsumerDiscretionary,
    ConsumerStaples,
    HealthCare,
    Financials,
    InformationTechnology,
    CommunicationServices,
    Utilities,
    RealEstate,
}

/// A GICS industry group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IndustryGroupArg {
    Energy,
    Materials,
    CapitalGoods,
    CommercialProfessionalServices,
    Transportation,
    AutomobilesComponents,
    ConsumerDurablesApparel,
    ConsumerServices,
    Retailing,
    FoodStaplesRetailing,
    FoodBeverageTobacco,
    HouseholdPersonalProducts,
    HealthCareEquipmentServices,
    PharmaceuticalsBiotechnologyLifeSciences,
    Banks,
    DiversifiedFinancials,
    Insurance,
    SoftwareServices,
    TechnologyHardwareEquipment,
    SemiconductorsEquipment,
    TelecommunicationServices,
    MediaEntertainment,
    Utilities,
    RealEstate,
}

/// A company size, in employees (the variants are named as the proto's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SizeRangeArg {
    #[value(name = "1-10")]
    SizeRange110,
    #[value(name = "11-50")]
    SizeRange1150,
    #[value(name = "51-200")]
    SizeRange51200,
    #[value(name = "201-500")]
    SizeRange201500,
    #[value(name = "501-1000")]
    SizeRange5011000,
    #[value(name = "1001-5000")]
    SizeRange10015000,
    #[value(name = "5001-10000")]
    SizeRange500110000,
    #[value(name = "10001+")]
    SizeRange10001Plus,
}
