//! Directory record requests (departments, locations, contacts, partitions, partition groups)
//! → commands, and records → their proto messages.
//!
//! The kinds share every request shape (see `directory.proto`), so one set of generic
//! decoders serves them; what differs — the message's fields — is [`RecordMessage`].

use engine::domain::{
    ClientId, Contact, Department, Location, Partition, PartitionGroup, Record, RecordCommand,
    RecordFields, RecordId, RecordKind, TenantId, validation::ACTIVE_PATH,
};
use entity_proto::v1 as pb;
use projections::{OwnerFilter, RecordFilter};
use tonic::Status;

use super::{
    Mutation, Violations, addressed, by_id, complete, point_read,
    reads::TenantListQuery,
    scoped,
    tenant::{address_from_proto, address_to_proto},
    timestamp,
};

/// The request field naming a record.
const ID: &str = "id";

/// What differs between the record kinds' proto messages.
pub trait RecordMessage: Default + Sized {
    /// The kind.
    const KIND: RecordKind;
    /// The request field holding the message (`department`, `location`, `contact`): the
    /// prefix of its fields' violations.
    const FIELD: &'static str;
    /// Its `client_id`.
    fn client_id(&self) -> &str;
    /// Its `active` (read only when an update's mask names it).
    fn active(&self) -> bool;
    /// Its fields as the domain's (ids inside decoded into `v`).
    fn into_fields(self, v: &mut Violations) -> RecordFields;
    /// A record of this kind as the message.
    fn from_record(record: &Record) -> Self;
}

/// The field prefix of a kind's violations (`department.`).
pub fn prefix<M: RecordMessage>() -> String {
    format!("{}.", M::FIELD)
}

/// Create<X>, with the id the gateway chose.
pub fn create<M: RecordMessage>(
    options: Option<pb::MutationOptions>,
    tenant_id: &str,
    message: Option<M>,
    id: RecordId,
) -> Result<Mutation, Status> {
    let message = message.unwrap_or_default();
    let (tenant_id, options, (client_id, fields)) = scoped(options, tenant_id, |v| {
        let client_id =
            v.optional_id::<ClientId>(&format!("{}.client_id", M::FIELD), message.client_id());
        (client_id, message.into_fields(v))
    })?;
    let command = RecordCommand::Create {
        id,
        client_id: complete(client_id)?,
        fields,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// Update<X>: the mask names the fields to change, `active` among them.
pub fn update<M: RecordMessage>(
    options: Option<pb::MutationOptions>,
    tenant_id: &str,
    id: &str,
    message: Option<M>,
    mask: Option<prost_types::FieldMask>,
) -> Result<Mutation, Status> {
    let message = message.unwrap_or_default();
    let mut allowed = RecordFields::paths(M::KIND).to_vec();
    allowed.push(ACTIVE_PATH);
    let active = message.active();
    let (target, options, (paths, fields)) =
        addressed::<RecordId, _>(options, tenant_id, (ID, id), |v| {
            (v.update_mask(mask, &allowed), message.into_fields(v))
        })?;
    let command = RecordCommand::Update {
        id: target.id,
        fields,
        active,
        mask: paths.into_iter().map(str::to_owned).collect(),
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// Delete<X>.
pub fn delete<M: RecordMessage>(req: pb::DeleteRecordRequest) -> Result<Mutation, Status> {
    by_id(req.options, &req.tenant_id, (ID, &req.id), |id| {
        RecordCommand::Delete { id, kind: M::KIND }
    })
}

/// Get<X>: the tenant and the record.
pub fn get(req: &pb::GetRecordRequest) -> Result<(TenantId, RecordId), Status> {
    point_read(&req.tenant_id, (ID, &req.id), &req.consistency_token)
}

/// List<X>s: owner (`""`, `tenant` or a client id), active and, for contacts, type.
pub fn list<M: RecordMessage>(
    req: &pb::ListRecordsRequest,
) -> Result<TenantListQuery<RecordFilter>, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let owner = match req.owner.as_str() {
        "" => Some(OwnerFilter::Any),
        "tenant" => Some(OwnerFilter::Tenant),
        client => {
            let id = v.id::<ClientId>("owner", client);
            id.map(OwnerFilter::Client)
        }
    };
    let contact_type = req.r#type.trim().to_ascii_lowercase();
    if !contact_type.is_empty() && M::KIND != RecordKind::Contact {
        v.add("type", "only contacts have a type");
    }
    let filter = owner.map(|owner| RecordFilter {
        owner,
        active: req.active,
        contact_type: (!contact_type.is_empty()).then_some(contact_type),
    });
    let consistency = v.consistency_token(&req.consistency_token);
    let page = v.read_page(req.page_size, &req.page_token);
    v.tenant_list(tenant_id, filter, page, consistency)
}

/// A record message of type `$message` from record `$r`: the parts every kind shares (tenant,
/// id, owner, `active`, version, times) and the kind's own `$field: $value`s.
macro_rules! message_of {
    ($r:expr, $message:ident { $($field:ident: $value:expr),* $(,)? }) => {{
        let r: &Record = $r;
        $message {
            tenant_id: r.tenant_id.to_string(),
            id: r.id.to_string(),
            client_id: r.client_id.map(|c| c.to_string()).unwrap_or_default(),
            active: r.active,
            version: r.version,
            create_time: Some(timestamp(r.created_at)),
            update_time: Some(timestamp(r.updated_at)),
            $($field: $value),*
        }
    }};
}

/// The accessors every record message has alike.
macro_rules! common_accessors {
    () => {
        fn client_id(&self) -> &str {
            &self.client_id
        }

        fn active(&self) -> bool {
            self.active
        }
    };
}

impl RecordMessage for pb::Department {
    const KIND: RecordKind = RecordKind::Department;
    const FIELD: &'static str = "department";

    common_accessors!();

    fn into_fields(self, _: &mut Violations) -> RecordFields {
        RecordFields::Department(Department {
            name: self.name,
            code: self.code,
        })
    }

    fn from_record(r: &Record) -> Self {
        let RecordFields::Department(d) = &r.fields else {
            return Self::default();
        };
        message_of!(
            r,
            Self {
                name: d.name.clone(),
                code: d.code.clone(),
            }
        )
    }
}

impl RecordMessage for pb::Location {
    const KIND: RecordKind = RecordKind::Location;
    const FIELD: &'static str = "location";

    common_accessors!();

    fn into_fields(self, _: &mut Violations) -> RecordFields {
        RecordFields::Location(Location {
            name: self.name,
            address: self.address.map(address_from_proto).unwrap_or_default(),
            headquarters: self.headquarters,
            code: self.code,
            website: self.website,
            phone: self.phone,
            email: self.email,
            notes: self.notes,
        })
    }

    fn from_record(r: &Record) -> Self {
        let RecordFields::Location(l) = &r.fields else {
            return Self::default();
        };
        message_of!(
            r,
            Self {
                name: l.name.clone(),
                address: Some(address_to_proto(&l.address)),
                headquarters: l.headquarters,
                code: l.code.clone(),
                website: l.website.clone(),
                phone: l.phone.clone(),
                email: l.email.clone(),
                notes: l.notes.clone(),
            }
        )
    }
}

impl RecordMessage for pb::Contact {
    const KIND: RecordKind = RecordKind::Contact;
    const FIELD: &'static str = "contact";

    common_accessors!();

    fn into_fields(self, v: &mut Violations) -> RecordFields {
        let location_id = v
            .optional_id::<RecordId>("contact.location_id", &self.location_id)
            .flatten();
        RecordFields::Contact(Contact {
            contact_type: self.r#type,
            name: self.name,
            email: self.email,
            phone: self.phone,
            location_id,
        })
    }

    fn from_record(r: &Record) -> Self {
        let RecordFields::Contact(k) = &r.fields else {
            return Self::default();
        };
        message_of!(
            r,
            Self {
                r#type: k.contact_type.clone(),
                name: k.name.clone(),
                email: k.email.clone(),
                phone: k.phone.clone(),
                location_id: k.location_id.map(|l| l.to_string()).unwrap_or_default(),
            }
        )
    }
}

impl RecordMessage for pb::Partition {
    const KIND: RecordKind = RecordKind::Partition;
    const FIELD: &'static str = "partition";

    common_accessors!();

    fn into_fields(self, v: &mut Violations) -> RecordFields {
        let group_id = v
            .optional_id::<RecordId>("partition.group_id", &self.group_id)
            .flatten();
        RecordFields::Partition(Partition {
            name: self.name,
            group_id,
            description: self.description,
        })
    }

    fn from_record(r: &Record) -> Self {
        let RecordFields::Partition(p) = &r.fields else {
            return Self::default();
        };
        message_of!(
            r,
            Self {
                name: p.name.clone(),
                group_id: p.group_id.map(|g| g.to_string()).unwrap_or_default(),
                description: p.description.clone(),
            }
        )
    }
}

impl RecordMessage for pb::PartitionGroup {
    const KIND: RecordKind = RecordKind::PartitionGroup;
    const FIELD: &'static str = "partition_group";

    common_accessors!();

    fn into_fields(self, v: &mut Violations) -> RecordFields {
        let parent_id = v
            .optional_id::<RecordId>("partition_group.parent_id", &self.parent_id)
            .flatten();
        RecordFields::PartitionGroup(PartitionGroup {
            name: self.name,
            parent_id,
        })
    }

    fn from_record(r: &Record) -> Self {
        let RecordFields::PartitionGroup(g) = &r.fields else {
            return Self::default();
        };
        message_of!(
            r,
            Self {
                name: g.name.clone(),
                parent_id: g.parent_id.map(|p| p.to_string()).unwrap_or_default(),
            }
        )
    }
}
