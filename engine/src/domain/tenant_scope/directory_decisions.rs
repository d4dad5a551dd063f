//! Decisions on directory records (departments, locations, contacts).
//!
//! Order of checks: tenant gate, input validation (fields, mask), the record's existence and
//! kind, its owner (a live client that is not disabled), then the rules across records (one
//! headquarters per owner, a contact's location of the same owner, a location in use by a
//! contact is not deleted). An update that changes nothing records nothing.

use super::{TenantScope, TenantScopeEvent};
use crate::domain::{
    directory::{
        MAX_PARTITION_GROUP_DEPTH, Record, RecordCommand, RecordEvent, RecordFields, RecordKind,
        RecordOwner, headquarters_at, headquarters_id,
    },
    error::{DomainError, ResourceKind},
    ids::{ClientId, RecordId},
    tenant::BusinessProfile,
    validation::{self, ACTIVE_PATH},
};

type Decision = Result<Vec<TenantScopeEvent>, DomainError>;

fn one(event: RecordEvent) -> Decision {
    Ok(vec![TenantScopeEvent::Record(event)])
}

fn not_found(kind: RecordKind, id: RecordId) -> DomainError {
    DomainError::NotFound {
        resource: kind.resource(),
        id: id.to_string(),
    }
}

impl TenantScope {
    /// A record of this kind that is not deleted.
    fn live_record(&self, kind: RecordKind, id: RecordId) -> Result<&Record, DomainError> {
        self.records
            .get(&id)
            .filter(|r| !r.deleted && r.kind() == kind)
            .ok_or_else(|| not_found(kind, id))
    }

    /// Decides a record command.
    pub(super) fn decide_record(&self, command: &RecordCommand) -> Decision {
        self.active_tenant()?;
        match command {
            RecordCommand::Create {
                id,
                client_id,
                fields,
            } => {
                let fields = validation::record_fields(fields)?;
                if self.records.contains_key(id) {
                    return Err(DomainError::AlreadyExists {
                        resource: fields.kind().resource(),
                        field: "id",
                        value: id.to_string(),
                    });
                }
                self.writable_owner(*client_id)?;
                self.check_record_rules(*id, *client_id, &fields)?;
                one(RecordEvent::RecordCreated {
                    id: *id,
                    client_id: *client_id,
                    fields,
                })
            }
            RecordCommand::Update {
                id,
                fields,
                active,
                mask,
            } => {
                validation::record_mask(fields, mask)?;
                let record = self.live_record(fields.kind(), *id)?;
                let mut next = record.fields.clone();
                for path in mask.iter().filter(|p| *p != ACTIVE_PATH) {
                    next.merge(fields, path);
                }
                let next = validation::record_fields(&next)?;
                let next_active = if mask.iter().any(|p| p == ACTIVE_PATH) {
                    *active
                } else {
                    record.active
                };
                self.writable_owner(record.client_id)?;
                self.check_record_rules(*id, record.client_id, &next)?;
                if next == record.fields && next_active == record.active {
                    return Ok(vec![]);
                }
                one(RecordEvent::RecordUpdated {
                    id: *id,
                    fields: next,
                    active: next_active,
                })
            }
            RecordCommand::Delete { id, kind } => {
                let record = self.live_record(*kind, *id)?;
                self.writable_owner(record.client_id)?;
                if *kind == RecordKind::Location
                    && let Some(contact) = self
                        .records
                        .values()
                        .find(|r| !r.deleted && r.fields.contact_location() == Some(*id))
                {
                    return Err(DomainError::InvalidState {
                        reason: "LOCATION_IN_USE",
                        message: format!(
                            "location {id} is the location of contact {}; change or delete \
                             the contact first",
                            contact.id
                        ),
                    });
                }
                if *kind == RecordKind::PartitionGroup
                    && let Some(member) = self
                        .records
                        .values()
                        .find(|r| !r.deleted && r.fields.group() == Some(*id))
                {
                    return Err(DomainError::InvalidState {
                        reason: "GROUP_IN_USE",
                        message: format!(
                            "partition group {id} holds {} {}; move or delete it first",
                            member.kind().as_str(),
                            member.id
                        ),
                    });
                }
                let mut events = self.revoke_keys_of(*id);
                events.push(TenantScopeEvent::Record(RecordEvent::RecordDeleted {
                    id: *id,
                    kind: *kind,
                }));
                Ok(events)
            }
        }
    }

    /// The owner may have its records changed: the tenant, or a live client that is not
    /// disabled.
    fn writable_owner(&self, owner: RecordOwner) -> Result<(), DomainError> {
        match owner {
            None => Ok(()),
            Some(client) => self.active_client(client).map(|_| ()),
        }
    }

    /// One headquarters per owner; a contact's location is a live location of its owner; a
    /// partition's name is unique among its owner's; a partition's group and a group's parent
    /// are live groups of the same owner, without cycles or too deep a nesting.
    fn check_record_rules(
        &self,
        id: RecordId,
        owner: RecordOwner,
        fields: &RecordFields,
    ) -> Result<(), DomainError> {
        if fields.is_headquarters()
            && let Some(other) = self.records.values().find(|r| {
                r.id != id && !r.deleted && r.client_id == owner && r.fields.is_headquarters()
            })
        {
            return Err(DomainError::AlreadyExists {
                resource: ResourceKind::Location,
                field: "headquarters",
                value: other.id.to_string(),
            });
        }
        if let Some(name) = fields.partition_name()
            && let Some(other) = self.records.values().find(|r| {
                r.id != id
                    && !r.deleted
                    && r.client_id == owner
                    && r.fields.partition_name() == Some(name)
            })
        {
            return Err(DomainError::AlreadyExists {
                resource: ResourceKind::Partition,
                field: "name",
                value: format!("{name} (partition {})", other.id),
            });
        }
        if let Some(group) = fields.group() {
            self.check_group(id, owner, group)?;
        }
        if let Some(location) = fields.contact_location() {
            let found = self.live_record(RecordKind::Location, location)?;
            if found.client_id != owner {
                return Err(DomainError::InvalidState {
                    reason: "LOCATION_OF_ANOTHER_OWNER",
                    message: format!(
                        "location {location} belongs to another owner than the contact"
                    ),
                });
            }
        }
        Ok(())
    }

    /// `group` may hold the record `id` of `owner`: a live partition group of the same owner,
    /// not `id` itself nor one of the groups `id` holds, and not nested too deep.
    fn check_group(
        &self,
        id: RecordId,
        owner: RecordOwner,
        group: RecordId,
    ) -> Result<(), DomainError> {
        let found = self.live_record(RecordKind::PartitionGroup, group)?;
        if found.client_id != owner {
            return Err(DomainError::InvalidState {
                reason: "GROUP_OF_ANOTHER_OWNER",
                message: format!("partition group {group} belongs to another owner"),
            });
        }
        // Walk up from the group: meeting `id` would close a cycle.
        let mut depth = 1;
        let mut at = Some(group);
        while let Some(current) = at {
            if current == id {
                return Err(DomainError::InvalidState {
                    reason: "GROUP_CYCLE",
                    message: format!("partition group {group} is inside {id}"),
                });
            }
            at = self.records.get(&current).and_then(|r| r.fields.group());
            depth += 1;
            if depth > MAX_PARTITION_GROUP_DEPTH {
                return Err(DomainError::InvalidState {
                    reason: "GROUP_TOO_DEEP",
                    message: format!(
                        "partition groups nest at most {MAX_PARTITION_GROUP_DEPTH} deep"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The deletions of every live record a client owns, contacts first and partitions with
    /// their keys' revocations (what its deletion removes with it).
    pub(super) fn delete_records_of(&self, client: ClientId) -> Vec<TenantScopeEvent> {
        let mut owned: Vec<&Record> = self
            .records
            .values()
            .filter(|r| !r.deleted && r.client_id == Some(client))
            .collect();
        owned.sort_by_key(|r| (r.kind() != RecordKind::Contact, r.id));
        let mut events = Vec::new();
        for r in owned {
            if r.kind() == RecordKind::Partition {
                events.extend(self.revoke_keys_of(r.id));
            }
            events.push(TenantScopeEvent::Record(RecordEvent::RecordDeleted {
                id: r.id,
                kind: r.kind(),
            }));
        }
        events
    }
}

/// The headquarters location of a business owner (the tenant, `client` `None`, or a client)
/// created with an address: recorded in the same append as the owner, so no business account
/// exists without it, whatever crashes afterwards.
pub(super) fn headquarters_event(
    client: Option<ClientId>,
    owner: uuid::Uuid,
    profile: Option<&BusinessProfile>,
) -> Option<TenantScopeEvent> {
    let address = profile?.address.as_ref()?;
    Some(TenantScopeEvent::Record(RecordEvent::RecordCreated {
        id: headquarters_id(owner),
        client_id: client,
        fields: headquarters_at(address),
    }))
}
