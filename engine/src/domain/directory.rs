//! Directory records (seed 001 features 2, 3, 7 and 11): the departments, locations, contacts,
//! data partitions and partition groups of a tenant or of one of its clients.
//!
//! The three kinds share one shape — an owner, an `active` flag, a lifecycle of create, update
//! (field mask) and delete, a stream each — and differ only in their fields, so they are one
//! [`Record`] with [`RecordFields`] per kind: adding a kind means adding its fields, their
//! rules and their proto, not another copy of the plumbing.
//!
//! Rules decided by the tenant scope (they need its state): the owner is the tenant or one of
//! its live clients, and a disabled client's records refuse changes; at most one headquarters
//! location per owner; a contact's location is a live location of the same owner, and a
//! location named by a live contact cannot be deleted; deleting a client deletes its records.
//! A partition's name is unique among its owner's live partitions, its group (and a group's
//! parent) is a live group of the same owner, groups form a forest, and a group that holds
//! partitions or groups is not deleted; deleting a partition expires its API keys.
//! A contact's name, email and phone are personal data, sealed under the contact's own key,
//! which its deletion destroys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    error::ResourceKind,
    ids::{ClientId, RecordId, TenantId},
    stream::StreamKind,
    tenant::Address,
};

/// Which kind of record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A department.
    Department,
    /// A location (postal address).
    Location,
    /// A contact person.
    Contact,
    /// A data partition (dev, qa, prod, demo, …): what API keys are issued for.
    Partition,
    /// A group of partitions (and of other groups).
    PartitionGroup,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 5] = [
        RecordKind::Department,
        RecordKind::Location,
        RecordKind::Contact,
        RecordKind::Partition,
        RecordKind::PartitionGroup,
    ];

    /// The kind's streams.
    pub fn stream_kind(self) -> StreamKind {
        match self {
            RecordKind::Department => StreamKind::Department,
            RecordKind::Location => StreamKind::Location,
            RecordKind::Contact => StreamKind::Contact,
            RecordKind::Partition => StreamKind::Partition,
            RecordKind::PartitionGroup => StreamKind::PartitionGroup,
        }
    }

    /// The kind of a stream, if it holds records.
    pub fn of_stream(kind: StreamKind) -> Option<RecordKind> {
        RecordKind::ALL
            .into_iter()
            .find(|k| k.stream_kind() == kind)
    }

    /// The kind in errors.
    pub fn resource(self) -> ResourceKind {
        match self {
            RecordKind::Department => ResourceKind::Department,
            RecordKind::Location => ResourceKind::Location,
            RecordKind::Contact => ResourceKind::Contact,
            RecordKind::Partition => ResourceKind::Partition,
            RecordKind::PartitionGroup => ResourceKind::PartitionGroup,
        }
    }

    /// Lower-case name (`department`, `location`, `contact`, `partition`, `partition_group`).
    pub fn as_str(self) -> &'static str {
        self.stream_kind().as_str()
    }
}

/// The owner of a record: the tenant itself (`None`) or one of its clients.
pub type RecordOwner = Option<ClientId>;

/// A department's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Name (1-200 chars).
    pub name: String,
    /// Internal code (≤ 200 chars).
    pub code: String,
}

/// A location's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Secondary name, e.g. "Berlin office" (≤ 200 chars).
    pub name: String,
    /// Postal address (country an ISO 3166-1 alpha-2 code, `US` when not given).
    pub address: Address,
    /// The owner's headquarters (at most one per owner).
    pub headquarters: bool,
    /// Internal code.
    pub code: String,
    /// Website (an http(s) URL).
    pub website: String,
    /// Phone number.
    pub phone: String,
    /// Email address.
    pub email: String,
    /// Free-form notes (≤ 2000 chars).
    pub notes: String,
}

/// A contact's fields. Name, email and phone are personal data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// `account-owner`, `billing`, `technical`, or a custom type (lower-case letters, digits
    /// and hyphens, 1-50 chars).
    pub contact_type: String,
    /// The person's name.
    pub name: String,
    /// The person's email.
    pub email: String,
    /// The person's phone number.
    pub phone: String,
    /// A location of the same owner.
    pub location_id: Option<RecordId>,
}

/// A data partition's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// `dev`, `qa`, `prod`, `demo` or a custom name (lower-case letters, digits and hyphens,
    /// 1-50 chars); unique among the owner's live partitions.
    pub name: String,
    /// The group it belongs to (a live group of the same owner), if any.
    pub group_id: Option<RecordId>,
    /// Free-form description (≤ 2000 chars).
    pub description: String,
}

/// A partition group's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionGroup {
    /// Name (1-200 chars).
    pub name: String,
    /// The group holding this one (a live group of the same owner, no cycles), if any.
    pub parent_id: Option<RecordId>,
}

/// The partition names the seed names; others are custom.
pub const PARTITION_NAMES: [&str; 4] = ["dev", "qa", "prod", "demo"];

/// Deepest nesting of partition groups (a root group is at depth 1).
pub const MAX_PARTITION_GROUP_DEPTH: usize = 8;

/// The contact types the seed names; others are custom.
pub const CONTACT_TYPES: [&str; 3] = ["account-owner", "billing", "technical"];

/// The fields of a record, by kind. Externally tagged (`{"location": {...}}`): the state is
/// also encoded with bincode, which cannot read internally tagged enums.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordFields {
    /// A department.
    Department(Department),
    /// A location.
    Location(Location),
    /// A contact.
    Contact(Contact),
    /// A data partition.
    Partition(Partition),
    /// A partition group.
    PartitionGroup(PartitionGroup),
}

impl RecordFields {
    /// The kind these fields belong to.
    pub fn kind(&self) -> RecordKind {
        match self {
            RecordFields::Department(_) => RecordKind::Department,
            RecordFields::Location(_) => RecordKind::Location,
            RecordFields::Contact(_) => RecordKind::Contact,
            RecordFields::Partition(_) => RecordKind::Partition,
            RecordFields::PartitionGroup(_) => RecordKind::PartitionGroup,
        }
    }

    /// The paths an update mask may name for this kind (besides `active`).
    pub fn paths(kind: RecordKind) -> &'static [&'static str] {
        match kind {
            RecordKind::Department => &["name", "code"],
            RecordKind::Location => &[
                "name",
                "address",
                "headquarters",
                "code",
                "website",
                "phone",
                "email",
                "notes",
            ],
            RecordKind::Contact => &["type", "name", "email", "phone", "location_id"],
            RecordKind::Partition => &["name", "group_id", "description"],
            RecordKind::PartitionGroup => &["name", "parent_id"],
        }
    }

    /// Copies the field at `path` from `from` (same kind); false for an unknown path or kind.
    pub fn merge(&mut self, from: &RecordFields, path: &str) -> bool {
        fn take<T: Clone>(to: &mut T, from: &T) -> bool {
            to.clone_from(from);
            true
        }
        match (self, from) {
            (RecordFields::Department(to), RecordFields::Department(from)) => match path {
                "name" => take(&mut to.name, &from.name),
                "code" => take(&mut to.code, &from.code),
                _ => false,
            },
            (RecordFields::Location(to), RecordFields::Location(from)) => match path {
                "name" => take(&mut to.name, &from.name),
                "address" => take(&mut to.address, &from.address),
                "headquarters" => take(&mut to.headquarters, &from.headquarters),
                "code" => take(&mut to.code, &from.code),
                "website" => take(&mut to.website, &from.website),
                "phone" => take(&mut to.phone, &from.phone),
                "email" => take(&mut to.email, &from.email),
                "notes" => take(&mut to.notes, &from.notes),
                _ => false,
            },
            (RecordFields::Contact(to), RecordFields::Contact(from)) => match path {
                "type" => take(&mut to.contact_type, &from.contact_type),
                "name" => take(&mut to.name, &from.name),
                "email" => take(&mut to.email, &from.email),
                "phone" => take(&mut to.phone, &from.phone),
                "location_id" => take(&mut to.location_id, &from.location_id),
                _ => false,
            },
            (RecordFields::Partition(to), RecordFields::Partition(from)) => match path {
                "name" => take(&mut to.name, &from.name),
                "group_id" => take(&mut to.group_id, &from.group_id),
                "description" => take(&mut to.description, &from.description),
                _ => false,
            },
            (RecordFields::PartitionGroup(to), RecordFields::PartitionGroup(from)) => match path {
                "name" => take(&mut to.name, &from.name),
                "parent_id" => take(&mut to.parent_id, &from.parent_id),
                _ => false,
            },
            _ => false,
        }
    }

    /// A location marked as headquarters.
    pub fn is_headquarters(&self) -> bool {
        matches!(self, RecordFields::Location(l) if l.headquarters)
    }

    /// The contact's location, if any.
    pub fn contact_location(&self) -> Option<RecordId> {
        match self {
            RecordFields::Contact(c) => c.location_id,
            _ => None,
        }
    }

    /// The group holding a partition or a partition group, if any.
    pub fn group(&self) -> Option<RecordId> {
        match self {
            RecordFields::Partition(p) => p.group_id,
            RecordFields::PartitionGroup(g) => g.parent_id,
            _ => None,
        }
    }

    /// A partition's name.
    pub fn partition_name(&self) -> Option<&str> {
        match self {
            RecordFields::Partition(p) => Some(&p.name),
            _ => None,
        }
    }
}

/// A record's current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: RecordId,
    /// The client owning it; `None`: the tenant itself.
    pub client_id: RecordOwner,
    /// Fields (they name the kind).
    pub fields: RecordFields,
    /// Whether it is in use (inactive records stay listed, filtered on request).
    pub active: bool,
    /// Deleted (tombstone, final).
    pub deleted: bool,
    /// Event sequence number of the record's stream.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

impl Record {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        self.fields.kind()
    }
}

/// Commands on records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordCommand {
    /// Create an active record (its kind is its fields').
    Create {
        /// Id chosen by the gateway (UUIDv7).
        id: RecordId,
        /// The owning client; `None`: the tenant.
        client_id: RecordOwner,
        /// Fields.
        fields: RecordFields,
    },
    /// Change the fields `mask` names (`active` included) to the values given.
    Update {
        /// Target (of `fields`' kind).
        id: RecordId,
        /// New values of the masked fields.
        fields: RecordFields,
        /// New `active`, when the mask names it.
        active: bool,
        /// Paths to change (see [`RecordFields::paths`]; and `active`).
        mask: Vec<String>,
    },
    /// Delete the record (final).
    Delete {
        /// Target.
        id: RecordId,
        /// Its kind.
        kind: RecordKind,
    },
}

impl RecordCommand {
    /// The record the command is about.
    pub fn target(&self) -> RecordId {
        match self {
            RecordCommand::Create { id, .. }
            | RecordCommand::Update { id, .. }
            | RecordCommand::Delete { id, .. } => *id,
        }
    }

    /// The kind of record it addresses.
    pub fn kind(&self) -> RecordKind {
        match self {
            RecordCommand::Create { fields, .. } | RecordCommand::Update { fields, .. } => {
                fields.kind()
            }
            RecordCommand::Delete { kind, .. } => *kind,
        }
    }
}

/// Events of a record's stream. The journal's type names them by kind (`DepartmentCreated`,
/// `LocationUpdated`, `ContactDeleted`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RecordEvent {
    /// Created (active).
    RecordCreated {
        /// Id.
        id: RecordId,
        /// Owning client; `None`: the tenant.
        client_id: RecordOwner,
        /// Fields.
        fields: RecordFields,
    },
    /// Changed: the record's fields and `active` after the change.
    RecordUpdated {
        /// Id.
        id: RecordId,
        /// All fields after the change.
        fields: RecordFields,
        /// `active` after the change.
        active: bool,
    },
    /// Deleted (a contact's key is destroyed with it).
    RecordDeleted {
        /// Id.
        id: RecordId,
        /// Its kind.
        kind: RecordKind,
    },
}

impl RecordEvent {
    /// The record whose stream the event belongs to.
    pub fn record_id(&self) -> RecordId {
        match self {
            RecordEvent::RecordCreated { id, .. }
            | RecordEvent::RecordUpdated { id, .. }
            | RecordEvent::RecordDeleted { id, .. } => *id,
        }
    }

    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            RecordEvent::RecordCreated { fields, .. }
            | RecordEvent::RecordUpdated { fields, .. } => fields.kind(),
            RecordEvent::RecordDeleted { kind, .. } => *kind,
        }
    }

    /// The event's type name as stored in the journal.
    pub fn event_type(&self) -> &'static str {
        use RecordKind::{Contact, Department, Location, Partition, PartitionGroup};
        match (self, self.kind()) {
            (RecordEvent::RecordCreated { .. }, Department) => "DepartmentCreated",
            (RecordEvent::RecordUpdated { .. }, Department) => "DepartmentUpdated",
            (RecordEvent::RecordDeleted { .. }, Department) => "DepartmentDeleted",
            (RecordEvent::RecordCreated { .. }, Location) => "LocationCreated",
            (RecordEvent::RecordUpdated { .. }, Location) => "LocationUpdated",
            (RecordEvent::RecordDeleted { .. }, Location) => "LocationDeleted",
            (RecordEvent::RecordCreated { .. }, Contact) => "ContactCreated",
            (RecordEvent::RecordUpdated { .. }, Contact) => "ContactUpdated",
            (RecordEvent::RecordDeleted { .. }, Contact) => "ContactDeleted",
            (RecordEvent::RecordCreated { .. }, Partition) => "PartitionCreated",
            (RecordEvent::RecordUpdated { .. }, Partition) => "PartitionUpdated",
            (RecordEvent::RecordDeleted { .. }, Partition) => "PartitionDeleted",
            (RecordEvent::RecordCreated { .. }, PartitionGroup) => "PartitionGroupCreated",
            (RecordEvent::RecordUpdated { .. }, PartitionGroup) => "PartitionGroupUpdated",
            (RecordEvent::RecordDeleted { .. }, PartitionGroup) => "PartitionGroupDeleted",
        }
    }

    /// Whether the event deletes a contact (a person whose key is destroyed with it).
    pub fn erases_contact(&self) -> bool {
        matches!(
            self,
            RecordEvent::RecordDeleted {
                kind: RecordKind::Contact,
                ..
            }
        )
    }
}

/// The id of the headquarters location created from an owner's address at onboarding: derived
/// from the owner (tenant or client) so a retried or resumed onboarding names the same record.
pub fn headquarters_id(owner: Uuid) -> RecordId {
    RecordId(Uuid::new_v5(&owner, b"headquarters"))
}

/// The headquarters location of an address (country defaulted to `US` by validation).
pub fn headquarters_at(address: &Address) -> RecordFields {
    RecordFields::Location(Location {
        name: "Headquarters".to_owned(),
        address: address.clone(),
        headquarters: true,
        ..Location::default()
    })
}

/// The id of a tenant's default partition (`default`, created for its bootstrap key): derived
/// from the tenant so a retried CreateTenant names the same record.
pub fn default_partition_id(tenant: TenantId) -> RecordId {
    RecordId(Uuid::new_v5(&tenant.0, b"default-partition"))
}

/// Name of the partition a bootstrap key is issued for.
pub const DEFAULT_PARTITION_NAME: &str = "default";
