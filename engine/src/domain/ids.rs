//! Typed entity identifiers (UUIDv7 on creation).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id (UUIDv7).
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            /// Parses the hyphenated or simple form of a UUID.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

entity_id!(
    /// Identifies a tenant; also the sharding key.
    TenantId
);
entity_id!(
    /// Identifies an organization inside a tenant.
    OrganizationId
);
entity_id!(
    /// Identifies a team inside a tenant.
    TeamId
);
entity_id!(
    /// Identifies a user (a person's account inside one tenant).
    UserId
);
entity_id!(
    /// Identifies a custom role of a tenant.
    RoleId
);
entity_id!(
    /// Identifies a client of a tenant (the tenant's own customer, B2B2C).
    ClientId
);
entity_id!(
    /// Identifies a directory record (department, location, contact, partition or partition
    /// group) of a tenant.
    RecordId
);
entity_id!(
    /// Identifies an API key of a data partition.
    ApiKeyId
);
