//! `entityctl department|location|contact|partition|partition-group …`: one command set,
//! generic over the kinds of directory records ([`RecordKind`]); each kind adds only its own
//! fields' flags and list filters.

use std::fmt::Debug;

use clap::{ArgGroup, Args, Subcommand};

use super::{
    AddressOpts, ContactId, DepartmentId, Kind, ListOpts, LocationId, PartitionGroupId,
    PartitionId, Read, Write, WriteOpts, arg_ids,
};

/// A kind of directory record: its id (placeholder and help) and its own flags.
pub trait RecordKind: Kind + Clone + Debug + Send + Sync + 'static {
    /// The flags of its own fields (create and update): each one given is a field set.
    type Fields: Args + Clone + Debug;
    /// The list filters it adds to `--owner` and `--active`.
    type Filter: Args + Clone + Debug;
}

impl RecordKind for DepartmentId {
    type Fields = DepartmentFields;
    type Filter = NoFilter;
}

impl RecordKind for LocationId {
    type Fields = LocationFields;
    type Filter = NoFilter;
}

impl RecordKind for ContactId {
    type Fields = ContactFields;
    type Filter = ContactFilter;
}

impl RecordKind for PartitionId {
    type Fields = PartitionFields;
    type Filter = NoFilter;
}

impl RecordKind for PartitionGroupId {
    type Fields = PartitionGroupFields;
    type Filter = NoFilter;
}

/// The commands of one kind of directory record.
#[derive(Debug, Subcommand)]
pub enum RecordCommand<K: RecordKind> {
    /// Create one (active), owned by the tenant or by the client --client names.
    Create {
        /// Tenant id.
        tenant: String,
        /// The owning client, fixed at creation [default: the tenant itself].
        #[arg(long, value_name = "CLIENT")]
        client: Option<String>,
        #[command(flatten)]
        fields: K::Fields,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show one (NOT_FOUND once deleted).
    Get(Read<K>),
    /// List a tenant's records by id: every owner's, or those of --owner.
    List {
        /// Tenant id.
        tenant: String,
        /// Only the records of this owner: `tenant` (the tenant's own) or a client id.
        #[arg(long, value_name = "tenant|CLIENT")]
        owner: Option<String>,
        /// Only active (true) or inactive (false) records.
        #[arg(long, value_name = "true|false")]
        active: Option<bool>,
        #[command(flatten)]
        filter: K::Filter,
        #[command(flatten)]
        listing: ListOpts,
    },
    /// Change the fields given (and nothing else); `--active false` deactivates, `--active
    /// true` reactivates.
    #[command(group(changes::<K>()))]
    Update {
        /// Tenant id.
        tenant: String,
        /// The record's id.
        #[arg(value_name = K::VALUE_NAME, help = K::HELP)]
        id: String,
        #[command(flatten)]
        fields: K::Fields,
        /// Activate (true) or deactivate (false).
        #[arg(long, value_name = "true|false")]
        active: Option<bool>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Delete one (final).
    Delete(Write<K>),
}

/// `update` needs a change: one of the kind's field flags or `--active`, any number of them.
fn changes<K: RecordKind>() -> ArgGroup {
    ArgGroup::new("change")
        .args(arg_ids::<K::Fields>())
        .arg("active")
        .multiple(true)
        .required(true)
}

/// No list filter of its own.
#[derive(Clone, Debug, Default, Args)]
pub struct NoFilter {}

/// A department's fields.
#[derive(Clone, Debug, Default, Args)]
pub struct DepartmentFields {
    /// Name, 1-200 characters (required on create).
    #[arg(long)]
    pub name: Option<String>,
    /// Internal code, at most 200 characters.
    #[arg(long)]
    pub code: Option<String>,
}

/// A location's fields.
#[derive(Clone, Debug, Default, Args)]
pub struct LocationFields {
    /// Secondary name ("Berlin office"), at most 200 characters.
    #[arg(long)]
    pub name: Option<String>,
    /// The address (on update, the address flags replace the whole address).
    #[command(flatten)]
    pub address: AddressOpts,
    /// The owner's headquarters (at most one per owner); `--headquarters false` unmarks it.
    #[arg(
        long,
        value_name = "true|false",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub headquarters: Option<bool>,
    /// Internal code, at most 200 characters.
    #[arg(long)]
    pub code: Option<String>,
    /// An http(s) URL.
    #[arg(long)]
    pub website: Option<String>,
    /// Phone number: 3-32 characters of digits, spaces and + - . ( )
    #[arg(long)]
    pub phone: Option<String>,
    /// Email address.
    #[arg(long)]
    pub email: Option<String>,
    /// Notes, at most 2,000 characters.
    #[arg(long)]
    pub notes: Option<String>,
}

/// A contact's fields (name, email and phone are personal data).
#[derive(Clone, Debug, Default, Args)]
pub struct ContactFields {
    /// account-owner, billing, technical, or a custom type of a-z, 0-9 and '-' (required on
    /// create).
    #[arg(long = "type", value_name = "TYPE")]
    pub contact_type: Option<String>,
    /// Name, 1-200 characters (required on create).
    #[arg(long)]
    pub name: Option<String>,
    /// Email address.
    #[arg(long)]
    pub email: Option<String>,
    /// Phone number: 3-32 characters of digits, spaces and + - . ( )
    #[arg(long)]
    pub phone: Option<String>,
    /// A location of the same owner ("" on update: none).
    #[arg(long, value_name = "LOCATION")]
    pub location: Option<String>,
}

/// The contacts' own list filter.
#[derive(Clone, Debug, Default, Args)]
pub struct ContactFilter {
    /// Only contacts of this type.
    #[arg(long = "type", value_name = "TYPE")]
    pub contact_type: Option<String>,
}

/// A partition's fields.
#[derive(Clone, Debug, Default, Args)]
pub struct PartitionFields {
    /// dev, qa, prod, demo or a custom name: 1-50 characters of a-z, 0-9 and '-', unique
    /// among the owner's live partitions (required on create).
    #[arg(long)]
    pub name: Option<String>,
    /// A partition group of the same owner ("" on update: none).
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Description, at most 2,000 characters.
    #[arg(long)]
    pub description: Option<String>,
}

/// A partition group's fields.
#[derive(Clone, Debug, Default, Args)]
pub struct PartitionGroupFields {
    /// Name, 1-200 characters (required on create).
    #[arg(long)]
    pub name: Option<String>,
    /// The group holding this one, of the same owner ("" on update: none, a root group).
    #[arg(long, value_name = "GROUP")]
    pub parent: Option<String>,
}
