//! `entityctl department|location|contact|partition|partition-group …` requests: one
//! implementation over the kinds of directory records. Each kind declares its service's RPCs (`directory_rpcs!`)
//! and how its flags fill its message ([`IntoRecord`]); [`run`] does the rest.

use std::marker::PhantomData;

use entity_proto::v1::{
    self as pb, contact_service_client::ContactServiceClient,
    department_service_client::DepartmentServiceClient,
    location_service_client::LocationServiceClient,
    partition_group_service_client::PartitionGroupServiceClient,
    partition_service_client::PartitionServiceClient,
};
use tonic::{Response, Status};

use super::{ListRpc, Page, address_proto, listed, mask, one, options, token, written};
use crate::cli::entityctl::{
    Authed, Failure, Services,
    args::{
        ContactFields, ContactFilter, DepartmentFields, ListOpts, LocationFields, NoFilter,
        PartitionFields, PartitionGroupFields, RecordCommand, RecordKind,
    },
    render::{Rendered, Resource, WriteAnswer},
};

/// Update-mask paths, each with whether its flag was given.
type Paths = Vec<(&'static str, bool)>;

/// A directory record message and the five RPCs of its service (declared with
/// `directory_rpcs!`).
pub(super) trait DirectoryRpc: Resource + Clone + Default + Send + 'static {
    /// The client of its service.
    type Service: Clone;
    /// The answer to its writes.
    type Answer: WriteAnswer + Send + 'static;
    /// Its service among `services`.
    fn service(services: &mut Services) -> &mut Self::Service;
    /// Sets the owning client ("": the tenant).
    fn set_owner(&mut self, client_id: String);
    /// Sets whether it is active.
    fn set_active(&mut self, active: bool);
    /// Create<X>.
    async fn create(
        service: &mut Self::Service,
        options: Option<pb::MutationOptions>,
        tenant_id: String,
        record: Self,
    ) -> Result<Response<Self::Answer>, Status>;
    /// Get<X>.
    async fn get(
        service: &mut Self::Service,
        request: pb::GetRecordRequest,
    ) -> Result<Response<Self>, Status>;
    /// List<X>s: one page.
    async fn list(
        service: &mut Self::Service,
        request: pb::ListRecordsRequest,
    ) -> Result<Page<Self>, Status>;
    /// Update<X>.
    async fn update(
        service: &mut Self::Service,
        options: Option<pb::MutationOptions>,
        tenant_id: String,
        id: String,
        record: Self,
        update_mask: Option<prost_types::FieldMask>,
    ) -> Result<Response<Self::Answer>, Status>;
    /// Delete<X>.
    async fn delete(
        service: &mut Self::Service,
        request: pb::DeleteRecordRequest,
    ) -> Result<Response<Self::Answer>, Status>;
}

/// Declares [`DirectoryRpc`]s: `Message: services_field: ServiceClient { create_rpc(Request)
/// -> Response, get_rpc, list_rpc -> items, update_rpc(Request), delete_rpc, message_field }`.
macro_rules! directory_rpcs {
    ($($record:ty: $services:ident: $client:ident {
        $create:ident($create_request:ident) -> $answer:ty,
        $get:ident,
        $list:ident -> $items:ident,
        $update:ident($update_request:ident),
        $delete:ident,
        $field:ident $(,)?
    }),* $(,)?) => {$(
        impl DirectoryRpc for $record {
            type Service = $client<Authed>;
            type Answer = $answer;

            fn service(services: &mut Services) -> &mut Self::Service {
                &mut services.$services
            }

            fn set_owner(&mut self, client_id: String) {
                self.client_id = client_id;
            }

            fn set_active(&mut self, active: bool) {
                self.active = active;
            }

            async fn create(
                service: &mut Self::Service,
                options: Option<pb::MutationOptions>,
                tenant_id: String,
                record: Self,
            ) -> Result<Response<Self::Answer>, Status> {
                let request = pb::$create_request { options, tenant_id, $field: Some(record) };
                service.$create(request).await
            }

            async fn get(
                service: &mut Self::Service,
                request: pb::GetRecordRequest,
            ) -> Result<Response<Self>, Status> {
                service.$get(request).await
            }

            async fn list(
                service: &mut Self::Service,
                request: pb::ListRecordsRequest,
            ) -> Result<Page<Self>, Status> {
                let answer = service.$list(request).await?.into_inner();
                Ok((answer.$items, answer.next_page_token))
            }

            async fn update(
                service: &mut Self::Service,
                options: Option<pb::MutationOptions>,
                tenant_id: String,
                id: String,
                record: Self,
                update_mask: Option<prost_types::FieldMask>,
            ) -> Result<Response<Self::Answer>, Status> {
                let request = pb::$update_request {
                    options,
                    tenant_id,
                    id,
                    $field: Some(record),
                    update_mask,
                };
                service.$update(request).await
            }

            async fn delete(
                service: &mut Self::Service,
                request: pb::DeleteRecordRequest,
            ) -> Result<Response<Self::Answer>, Status> {
                service.$delete(request).await
            }
        }
    )*};
}

directory_rpcs! {
    pb::Department: departments: DepartmentServiceClient {
        create_department(CreateDepartmentRequest) -> pb::DepartmentResponse,
        get_department,
        list_departments -> departments,
        update_department(UpdateDepartmentRequest),
        delete_department,
        department,
    },
    pb::Location: locations: LocationServiceClient {
        create_location(CreateLocationRequest) -> pb::LocationResponse,
        get_location,
        list_locations -> locations,
        update_location(UpdateLocationRequest),
        delete_location,
        location,
    },
    pb::Contact: contacts: ContactServiceClient {
        create_contact(CreateContactRequest) -> pb::ContactResponse,
        get_contact,
        list_contacts -> contacts,
        update_contact(UpdateContactRequest),
        delete_contact,
        contact,
    },
    pb::Partition: partitions: PartitionServiceClient {
        create_partition(CreatePartitionRequest) -> pb::PartitionResponse,
        get_partition,
        list_partitions -> partitions,
        update_partition(UpdatePartitionRequest),
        delete_partition,
        partition,
    },
    pb::PartitionGroup: partition_groups: PartitionGroupServiceClient {
        create_partition_group(CreatePartitionGroupRequest) -> pb::PartitionGroupResponse,
        get_partition_group,
        list_partition_groups -> partition_groups,
        update_partition_group(UpdatePartitionGroupRequest),
        delete_partition_group,
        partition_group,
    },
}

/// A kind's field flags as its message.
pub(super) trait IntoRecord: Sized {
    /// The message.
    type Record: DirectoryRpc;
    /// The message with the values given, each flag noted in `flags`.
    fn record(self, flags: &mut Flags) -> Self::Record;
    /// The message with the values given, and the update-mask path of each flag.
    fn into_record(self) -> (Self::Record, Paths) {
        let mut flags = Flags::default();
        (self.record(&mut flags), flags.0)
    }
}

/// The update-mask path of each flag, and whether it was given, in the order noted.
#[derive(Default)]
pub(super) struct Flags(Paths);

impl Flags {
    /// The value of flag `path`, or the field's default when not given.
    fn value<T: Default>(&mut self, path: &'static str, value: Option<T>) -> T {
        self.0.push((path, value.is_some()));
        value.unwrap_or_default()
    }

    /// Flag `path`'s message field, as it is.
    fn message<T>(&mut self, path: &'static str, message: Option<T>) -> Option<T> {
        self.0.push((path, message.is_some()));
        message
    }
}

impl IntoRecord for DepartmentFields {
    type Record = pb::Department;

    fn record(self, f: &mut Flags) -> pb::Department {
        pb::Department {
            name: f.value("name", self.name),
            code: f.value("code", self.code),
            ..Default::default()
        }
    }
}

impl IntoRecord for LocationFields {
    type Record = pb::Location;

    fn record(self, f: &mut Flags) -> pb::Location {
        pb::Location {
            name: f.value("name", self.name),
            address: f.message("address", address_proto(self.address)),
            headquarters: f.value("headquarters", self.headquarters),
            code: f.value("code", self.code),
            website: f.value("website", self.website),
            phone: f.value("phone", self.phone),
            email: f.value("email", self.email),
            notes: f.value("notes", self.notes),
            ..Default::default()
        }
    }
}

impl IntoRecord for ContactFields {
    type Record = pb::Contact;

    fn record(self, f: &mut Flags) -> pb::Contact {
        pb::Contact {
            r#type: f.value("type", self.contact_type),
            name: f.value("name", self.name),
            email: f.value("email", self.email),
            phone: f.value("phone", self.phone),
            location_id: f.value("location_id", self.location),
            ..Default::default()
        }
    }
}

impl IntoRecord for PartitionFields {
    type Record = pb::Partition;

    fn record(self, f: &mut Flags) -> pb::Partition {
        pb::Partition {
            name: f.value("name", self.name),
            group_id: f.value("group_id", self.group),
            description: f.value("description", self.description),
            ..Default::default()
        }
    }
}

impl IntoRecord for PartitionGroupFields {
    type Record = pb::PartitionGroup;

    fn record(self, f: &mut Flags) -> pb::PartitionGroup {
        pb::PartitionGroup {
            name: f.value("name", self.name),
            parent_id: f.value("parent_id", self.parent),
            ..Default::default()
        }
    }
}

/// A kind's own list filter: the `type` it asks for ("" for every type).
pub(super) trait TypeFilter {
    /// The `type` of the List request.
    fn record_type(self) -> String;
}

impl TypeFilter for NoFilter {
    fn record_type(self) -> String {
        String::new()
    }
}

impl TypeFilter for ContactFilter {
    fn record_type(self) -> String {
        self.contact_type.unwrap_or_default()
    }
}

/// A List request for records of kind `R` (their services share the request type).
struct Listing<R>(pb::ListRecordsRequest, PhantomData<R>);

impl<R> Clone for Listing<R> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<R: DirectoryRpc> ListRpc for Listing<R> {
    type Service = R::Service;
    type Item = R;

    fn at(self, page_size: i32, page_token: String) -> Self {
        let request = pb::ListRecordsRequest {
            page_size,
            page_token,
            ..self.0
        };
        Self(request, PhantomData)
    }

    async fn call(service: &mut R::Service, request: Self) -> Result<Page<R>, Status> {
        R::list(service, request.0).await
    }
}

/// The message of kind `K`.
type RecordOf<K> = <<K as RecordKind>::Fields as IntoRecord>::Record;

/// Runs a department, location, contact, partition or partition group command.
pub(super) async fn run<K>(
    services: &mut Services,
    command: RecordCommand<K>,
) -> Result<Rendered, Failure>
where
    K: RecordKind,
    K::Fields: IntoRecord,
    K::Filter: TypeFilter,
{
    let service = RecordOf::<K>::service(services);
    let rendered = match command {
        RecordCommand::Create {
            tenant,
            client,
            fields,
            write,
        } => {
            let (mut record, _) = fields.into_record();
            record.set_owner(client.unwrap_or_default());
            let answer = RecordOf::<K>::create(service, options(write), tenant, record).await?;
            written("created", answer)
        }
        RecordCommand::Get(read) => {
            let request = pb::GetRecordRequest {
                tenant_id: read.tenant,
                id: read.id,
                consistency_token: token(read.read),
            };
            one(RecordOf::<K>::get(service, request).await?)
        }
        RecordCommand::List {
            tenant,
            owner,
            active,
            filter,
            listing: ListOpts { page, read },
        } => {
            let request = pb::ListRecordsRequest {
                tenant_id: tenant,
                owner: owner.unwrap_or_default(),
                active,
                r#type: filter.record_type(),
                consistency_token: token(read),
                ..Default::default()
            };
            listed(service, Listing::<RecordOf<K>>(request, PhantomData), page).await?
        }
        RecordCommand::Update {
            tenant,
            id,
            fields,
            active,
            write,
        } => {
            let (mut record, mut paths) = fields.into_record();
            let verb = update_verb(&paths, active);
            record.set_active(active.unwrap_or_default());
            paths.push(("active", active.is_some()));
            let answer =
                RecordOf::<K>::update(service, options(write), tenant, id, record, mask(&paths))
                    .await?;
            written(verb, answer)
        }
        RecordCommand::Delete(w) => {
            let request = pb::DeleteRecordRequest {
                options: options(w.write),
                tenant_id: w.tenant,
                id: w.id,
            };
            written("deleted", RecordOf::<K>::delete(service, request).await?)
        }
    };
    Ok(rendered)
}

/// What an update did: `activated` or `deactivated` when `--active` is its only change.
fn update_verb(fields: &[(&str, bool)], active: Option<bool>) -> &'static str {
    match active {
        Some(true) if !fields.iter().any(|(_, given)| *given) => "activated",
        Some(false) if !fields.iter().any(|(_, given)| *given) => "deactivated",
        _ => "updated",
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::entityctl::args::{Cli, Command};

    fn location_update(line: &str) -> (pb::Location, Vec<String>) {
        let command = Cli::try_parse_from(line.split(' ')).map(|c| c.command);
        let Ok(Command::Location(RecordCommand::Update { fields, .. })) = command else {
            panic!("{line}: parsed as {command:?}");
        };
        let (record, paths) = fields.into_record();
        let given = paths
            .iter()
            .filter(|(_, g)| *g)
            .map(|(p, _)| (*p).to_owned());
        (record, given.collect())
    }

    #[test]
    fn update_masks_name_exactly_the_flags_given() {
        let (record, paths) =
            location_update("entityctl location update T L --city Lyon --headquarters --phone 1");
        assert_eq!(paths, ["address", "headquarters", "phone"]);
        assert!(record.headquarters);
        assert_eq!(record.address.map(|a| a.city).as_deref(), Some("Lyon"));
        let (record, paths) = location_update("entityctl location update T L --headquarters false");
        assert_eq!(
            (record.headquarters, paths),
            (false, vec!["headquarters".into()])
        );
        let (record, paths) = ContactFields {
            location: Some(String::new()),
            ..Default::default()
        }
        .into_record();
        assert_eq!(record.location_id, "");
        assert_eq!(mask(&paths).unwrap().paths, ["location_id"]);
        assert_eq!(update_verb(&paths, Some(false)), "updated");
        assert_eq!(update_verb(&[("name", false)], Some(false)), "deactivated");
        assert_eq!(update_verb(&[("name", false)], Some(true)), "activated");
    }

    /// The record, the paths given and the `active` value of an update line of `K`.
    fn update<K>(
        line: &str,
        pick: fn(Command) -> Option<RecordCommand<K>>,
    ) -> (RecordOf<K>, Vec<String>)
    where
        K: RecordKind,
        K::Fields: IntoRecord,
    {
        let command = Cli::try_parse_from(line.split(' ')).map(|c| c.command);
        let Some(RecordCommand::Update { fields, .. }) = command.ok().and_then(pick) else {
            panic!("{line}: not an update");
        };
        let (record, paths) = fields.into_record();
        let given = paths
            .iter()
            .filter(|(_, g)| *g)
            .map(|(p, _)| (*p).to_owned());
        (record, given.collect())
    }

    #[test]
    fn partition_updates_name_their_fields() {
        let partition = |c: Command| match c {
            Command::Partition(r) => Some(r),
            _ => None,
        };
        let (record, paths) = update(
            "entityctl partition update T P --name qa --group G --description d",
            partition,
        );
        assert_eq!(paths, ["name", "group_id", "description"]);
        assert_eq!(
            (
                record.name.as_str(),
                record.group_id.as_str(),
                record.description.as_str()
            ),
            ("qa", "G", "d")
        );
        // `--group ""` takes the partition out of its group
        let (_, paths) = PartitionFields {
            group: Some(String::new()),
            ..Default::default()
        }
        .into_record();
        assert_eq!(mask(&paths).unwrap().paths, ["group_id"]);
        let (record, paths) = update("entityctl partition update T P --active false", partition);
        assert!(paths.is_empty() && record.name.is_empty());

        let group = |c: Command| match c {
            Command::PartitionGroup(r) => Some(r),
            _ => None,
        };
        let (record, paths) = update("entityctl partition-group update T G --parent G0", group);
        assert_eq!(
            (record.parent_id.as_str(), paths),
            ("G0", vec!["parent_id".into()])
        );
        let (record, paths) = update("entityctl partition-group update T G --name Envs", group);
        assert_eq!((record.name.as_str(), paths), ("Envs", vec!["name".into()]));
        let (record, paths) = PartitionGroupFields {
            parent: Some(String::new()),
            ..Default::default()
        }
        .into_record();
        assert_eq!(record.parent_id, "");
        assert_eq!(mask(&paths).unwrap().paths, ["parent_id"]);
    }
}
