//! `entity.v1.DepartmentService`, `LocationService`, `ContactService`, `PartitionService` and
//! `PartitionGroupService`: one implementation,
//! instantiated per record kind (the services differ only in their messages' names; the
//! decoding is [`convert::directory`]'s).

use engine::{
    domain::RecordId,
    runtime::{CommandOutcome, EntityView},
};
use entity_proto::v1::{
    self as pb, contact_service_server::ContactService,
    department_service_server::DepartmentService, location_service_server::LocationService,
    partition_group_service_server::PartitionGroupService,
    partition_service_server::PartitionService,
};
use tonic::{Request, Response, Status};

use super::{Answer, AuthTarget, Shared, answer};
use crate::{
    auth::Target,
    convert::{
        self,
        directory::{RecordMessage, prefix},
    },
};

/// One record kind's service.
#[derive(Clone)]
pub struct RecordApi<M> {
    shared: Shared,
    kind: std::marker::PhantomData<fn() -> M>,
}

impl<M> RecordApi<M> {
    pub(super) fn new(shared: Shared) -> Self {
        Self {
            shared,
            kind: std::marker::PhantomData,
        }
    }
}

/// DepartmentService.
pub type DepartmentApi = RecordApi<pb::Department>;
/// LocationService.
pub type LocationApi = RecordApi<pb::Location>;
/// ContactService.
pub type ContactApi = RecordApi<pb::Contact>;
/// PartitionService.
pub type PartitionApi = RecordApi<pb::Partition>;
/// PartitionGroupService.
pub type PartitionGroupApi = RecordApi<pb::PartitionGroup>;

impl<M: RecordMessage + Send + 'static> RecordApi<M> {
    async fn create<T>(
        &self,
        request: Request<T>,
        parts: impl FnOnce(T) -> (Option<pb::MutationOptions>, String, Option<M>),
    ) -> Result<CommandOutcome, Status> {
        let id = RecordId::new_v7();
        self.shared
            .execute(request, AuthTarget::Tenant, &prefix::<M>(), |r| {
                let (options, tenant_id, message) = parts(r);
                convert::directory::create(options, &tenant_id, message, id)
            })
            .await
    }

    async fn update<T>(
        &self,
        request: Request<T>,
        parts: impl FnOnce(T) -> UpdateParts<M>,
    ) -> Result<CommandOutcome, Status> {
        self.shared
            .execute(request, AuthTarget::Tenant, &prefix::<M>(), |r| {
                let (options, tenant_id, id, message, mask) = parts(r);
                convert::directory::update(options, &tenant_id, &id, message, mask)
            })
            .await
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteRecordRequest>,
    ) -> Result<CommandOutcome, Status> {
        self.shared
            .execute(
                request,
                AuthTarget::Tenant,
                "",
                convert::directory::delete::<M>,
            )
            .await
    }

    async fn get(&self, request: Request<pb::GetRecordRequest>) -> Result<Response<M>, Status> {
        let (tenant_id, id) = convert::directory::get(request.get_ref())?;
        let record = self
            .shared
            .read_engine(request, Target::tenant(tenant_id), |engine| {
                engine.get_record(tenant_id, M::KIND, id)
            })
            .await?;
        Ok(Response::new(M::from_record(&record)))
    }

    async fn list(
        &self,
        request: Request<pb::ListRecordsRequest>,
    ) -> Result<(Vec<M>, String), Status> {
        let (tenant_id, query) = convert::directory::list::<M>(request.get_ref())?;
        let page = self
            .shared
            .read_model(request, Target::tenant(tenant_id), |r| async move {
                r.list_records(
                    tenant_id,
                    M::KIND,
                    &query.filter,
                    &query.page,
                    query.consistency,
                )
                .await
            })
            .await?;
        Ok((
            page.items.iter().map(M::from_record).collect(),
            page.next_page_token.unwrap_or_default(),
        ))
    }
}

/// An update request's parts: options, tenant, record id, message, mask.
type UpdateParts<M> = (
    Option<pb::MutationOptions>,
    String,
    String,
    Option<M>,
    Option<prost_types::FieldMask>,
);

/// The message of an accepted command's record, if it is of kind `M`.
fn record_of<M: RecordMessage>(outcome: &CommandOutcome) -> Option<M> {
    match &outcome.view {
        EntityView::Record(record) if record.kind() == M::KIND => Some(M::from_record(record)),
        _ => None,
    }
}

/// Implements one record kind's service trait on its [`RecordApi`].
macro_rules! record_service {
    (
        $service:ident for $message:ty, $response:ident { $field:ident },
        $list_response:ident { $items:ident },
        $create:ident($create_req:ty), $get:ident, $list:ident,
        $update:ident($update_req:ty), $delete:ident $(,)?
    ) => {
        impl Answer for pb::$response {
            fn answer(outcome: &CommandOutcome) -> Option<Self> {
                Some(pb::$response {
                    $field: Some(record_of::<$message>(outcome)?),
                    result: Some(convert::write_result(outcome)),
                })
            }
        }

        #[tonic::async_trait]
        impl $service for RecordApi<$message> {
            async fn $create(
                &self,
                request: Request<$create_req>,
            ) -> Result<Response<pb::$response>, Status> {
                let outcome = self
                    .create(request, |r| (r.options, r.tenant_id, r.$field))
                    .await?;
                answer(&outcome)
            }

            async fn $get(
                &self,
                request: Request<pb::GetRecordRequest>,
            ) -> Result<Response<$message>, Status> {
                self.get(request).await
            }

            async fn $list(
                &self,
                request: Request<pb::ListRecordsRequest>,
            ) -> Result<Response<pb::$list_response>, Status> {
                let ($items, next_page_token) = self.list(request).await?;
                Ok(Response::new(pb::$list_response {
                    $items,
                    next_page_token,
                }))
            }

            async fn $update(
                &self,
                request: Request<$update_req>,
            ) -> Result<Response<pb::$response>, Status> {
                let outcome = self
                    .update(request, |r| {
                        (r.options, r.tenant_id, r.id, r.$field, r.update_mask)
                    })
                    .await?;
                answer(&outcome)
            }

            async fn $delete(
                &self,
                request: Request<pb::DeleteRecordRequest>,
            ) -> Result<Response<pb::$response>, Status> {
                let outcome = self.delete(request).await?;
                answer(&outcome)
            }
        }
    };
}

record_service!(
    DepartmentService for pb::Department, DepartmentResponse { department },
    ListDepartmentsResponse { departments },
    create_department(pb::CreateDepartmentRequest), get_department, list_departments,
    update_department(pb::UpdateDepartmentRequest), delete_department,
);
record_service!(
    LocationService for pb::Location, LocationResponse { location },
    ListLocationsResponse { locations },
    create_location(pb::CreateLocationRequest), get_location, list_locations,
    update_location(pb::UpdateLocationRequest), delete_location,
);
record_service!(
    ContactService for pb::Contact, ContactResponse { contact },
    ListContactsResponse { contacts },
    create_contact(pb::CreateContactRequest), get_contact, list_contacts,
    update_contact(pb::UpdateContactRequest), delete_contact,
);
record_service!(
    PartitionService for pb::Partition, PartitionResponse { partition },
    ListPartitionsResponse { partitions },
    create_partition(pb::CreatePartitionRequest), get_partition, list_partitions,
    update_partition(pb::UpdatePartitionRequest), delete_partition,
);
record_service!(
    PartitionGroupService for pb::PartitionGroup, PartitionGroupResponse { partition_group },
    ListPartitionGroupsResponse { partition_groups },
    create_partition_group(pb::CreatePartitionGroupRequest), get_partition_group,
    list_partition_groups, update_partition_group(pb::UpdatePartitionGroupRequest),
    delete_partition_group,
);
