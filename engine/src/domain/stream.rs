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
    /// A user's claims (ClaimsChanged only; its id is [`claims_stream_id`] of the user's).
    /// Its own stream so that a tenant-wide re-synchronisation never moves the users' versions.
    Claims,
}

/// Flips the top bit of a UUID's version nibble: a v7 (or v4, v5) id becomes one of version
/// 15 (or 12, 13), which no generator draws, so the result never names another entity.
const CLAIMS_ID_MASK: u128 = 0x8000 << 64;

/// The id of a user's claims stream (stream ids are unique across kinds in the journal).
pub fn claims_stream_id(user: Uuid) -> Uuid {
    Uuid::from_u128(user.as_u128() ^ CLAIMS_ID_MASK)
}

/// The user whose claims stream has this id (the inverse of [`claims_stream_id`]).
pub fn claims_stream_user(stream: Uuid) -> Uuid {
    claims_stream_id(stream)
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
            StreamKind::Claims => "claims",
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
            "claims" => Some(StreamKind::Claims),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claims_stream_id_names_no_generated_id_and_leads_back_to_its_user() {
        for user in [Uuid::now_v7(), Uuid::new_v4()] {
            let claims = claims_stream_id(user);
            assert_ne!(claims, user);
            assert!(matches!(claims.get_version_num(), 12 | 15), "{claims}");
            assert_eq!(claims_stream_user(claims), user);
        }
    }
}
