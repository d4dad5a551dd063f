//! `entityctl registration …`.

use clap::{ArgGroup, Subcommand};

use super::{DomainName, RoleSpec, Write, WriteOpts};

/// Self-registration commands: a tenant's settings and email domains, and which tenant a
/// person would join.
#[derive(Debug, Subcommand)]
pub enum RegistrationCommand {
    /// Open (--enabled) or close (--disabled) a tenant's self-registration and set its
    /// automatic roles and custom sign-up host. Replaces all three: roles and host not given
    /// are removed.
    #[command(group(ArgGroup::new("state").args(["enabled", "disabled"]).required(true)))]
    Configure {
        /// Tenant id.
        tenant: String,
        /// Accept registrations.
        #[arg(long)]
        enabled: bool,
        /// Refuse registrations (REGISTRATION_DISABLED).
        #[arg(long)]
        disabled: bool,
        /// A role every registered user receives: ROLE, ROLE@org:ID or ROLE@team:ID
        /// (repeatable, at most 20; existing roles at live scopes).
        #[arg(long = "auto-role", value_name = "ROLE[@org:ID|@team:ID]")]
        auto_roles: Vec<RoleSpec>,
        /// The sign-up page's host, platform-unique (e.g. signup.acme.com) [default: none].
        #[arg(long, value_name = "HOST")]
        custom_host: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show a tenant's registration settings and domains, with each domain's TXT record.
    Get {
        /// Tenant id.
        tenant: String,
    },
    /// List an email domain of the tenant (pending until verified); prints the TXT record to
    /// publish at the domain (`txt_record: entity-engine-verification=…`). Adding a listed
    /// domain again changes nothing. Public email providers' domains are refused.
    AddDomain {
        /// Tenant id.
        tenant: String,
        /// Domain, e.g. acme.com (at most 50 per tenant).
        #[arg(value_name = "DOMAIN")]
        domain: String,
        /// Register the domain's people into this client of the tenant (an active one)
        /// [default: none].
        #[arg(long, value_name = "CLIENT")]
        client: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Verify a pending domain: its TXT records are looked up, and one must be the record
    /// `add-domain` printed (else DOMAIN_VERIFICATION_FAILED, naming what was found). With
    /// --manual, a platform admin verifies it without DNS. A verified domain belongs to this
    /// tenant only, platform-wide.
    VerifyDomain {
        /// Tenant id.
        tenant: String,
        /// Domain, as added.
        #[arg(value_name = "DOMAIN")]
        domain: String,
        /// Verify without DNS (platform admins only).
        #[arg(long)]
        manual: bool,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Remove a domain and release its claim (an unlisted domain changes nothing).
    RemoveDomain(Write<DomainName>),
    /// Which tenant would accept a person, by email or by the sign-up page's host? Prints
    /// `accepted` with the tenant's id and name, or `not accepted (REASON)`; the exit code is 0
    /// either way.
    #[command(group(ArgGroup::new("by").args(["email", "host"]).required(true)))]
    Resolve {
        /// The person's email: the tenant that verified its domain.
        #[arg(long)]
        email: Option<String>,
        /// A custom sign-up host: the tenant that configured it.
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
    },
}
