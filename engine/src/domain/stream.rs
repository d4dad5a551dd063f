//! Event stream identity: every entity has one stream; its sequence is the entity's version.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which kind of entity a stream belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    /// A tenant's own stream.
    Tenant,
    /// An organization's stream.
    Organization,
    /// A team's stream.
    Team,
    /// A user's stream.
    User,
    /// A custom role's stream.
    Role,
    /// A client's stream.
    Client,
    /// A department's stream.
    Department,
    /// A location's stream.
    Location,
    /// A contact's stream.
    Contact,
    /// A data partition.
    Partition,
    /// A partition group.
    PartitionGroup,
    /// An API key.
    ApiKey,
}

impl StreamKind {
    /// Name stored in the journal's `stream_type` column.
    pub fn as_str(&self) -> &'static str {
        match self {
            StreamKind::Tenant => "tenant",
            StreamKind::Organization => "organization",
            StreamKind::Team => "team",
            StreamKind::User => "user",
            StreamKind::Role => "role",
            StreamKind::Client => "client",
            StreamKind::Department => "department",
            StreamKind::Location => "location",
            StreamKind::Contact => "contact",
            StreamKind::Partition => "partition",
            StreamKind::PartitionGroup => "partition_group",
            StreamKind::ApiKey => "api_key",
        }
    }

    /// Parses a stored `stream_type`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tenant" => Some(StreamKind::Tenant),
            "organization" => Some(StreamKind::Organization),
            "team" => Some(StreamKind::Team),
            "user" => Some(StreamKind::User),
            "role" => Some(StreamKind::Role),
            "client" => Some(StreamKind::Client),
            "department" => Some(StreamKind::Department),
            "location" => Some(StreamKind::Location),
            "contact" => Some(StreamKind::Contact),
            "partition" => Some(StreamKind::Partition),
            "partition_group" => Some(StreamKind::PartitionGroup),
            "api_key" => Some(StreamKind::ApiKey),
            _ => None,
        }
    }
}

/// One entity's event stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreamId {
    /// Entity kind.
    pub kind: StreamKind,
    /// Entity id.
    pub id: Uuid,
}

impl StreamId {
    /// Builds a stream id.
    pub fn new(kind: StreamKind, id: Uuid) -> Self {
        Self { kind, id }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.id)
    }
}
