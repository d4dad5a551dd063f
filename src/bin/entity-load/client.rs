//! Connections to one or several endpoints, used round robin, and the bearer token.

use std::sync::atomic::{AtomicUsize, Ordering};

use entity_proto::v1::{
    access_service_client::AccessServiceClient, admin_service_client::AdminServiceClient,
    api_key_service_client::ApiKeyServiceClient, client_service_client::ClientServiceClient,
    organization_service_client::OrganizationServiceClient,
    partition_service_client::PartitionServiceClient, search_service_client::SearchServiceClient,
    tenant_service_client::TenantServiceClient, user_service_client::UserServiceClient,
};
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::{Channel, Endpoint},
};
use tonic_health::pb::health_client::HealthClient;

use crate::LoadError;

/// The clients of one HTTP/2 connection.
#[derive(Clone)]
pub struct Connection {
    /// TenantService.
    pub tenants: TenantServiceClient<Channel>,
    /// UserService.
    pub users: UserServiceClient<Channel>,
    /// OrganizationService.
    pub orgs: OrganizationServiceClient<Channel>,
    /// AccessService.
    pub access: AccessServiceClient<Channel>,
    /// AdminService.
    pub admin: AdminServiceClient<Channel>,
    /// PartitionService.
    pub partitions: PartitionServiceClient<Channel>,
    /// ApiKeyService.
    pub api_keys: ApiKeyServiceClient<Channel>,
    /// ClientService.
    pub clients: ClientServiceClient<Channel>,
    /// SearchService.
    pub search: SearchServiceClient<Channel>,
    /// `grpc.health.v1.Health`: a bare tonic unary call, the same-run baseline.
    pub health: HealthClient<Channel>,
}

/// Every connection to every endpoint; [`Cluster::pick`] goes round robin over them.
pub struct Cluster {
    connections: Vec<Connection>,
    next: AtomicUsize,
    authorization: Option<MetadataValue<Ascii>>,
}

impl Cluster {
    /// Opens `per_endpoint` connections to each of `endpoints` (`http://host:port`).
    pub async fn connect(
        endpoints: &[String],
        per_endpoint: usize,
        token: Option<&str>,
    ) -> Result<Cluster, LoadError> {
        if endpoints.is_empty() {
            return Err(LoadError::Config("no endpoint given".into()));
        }
        let mut connections = Vec::new();
        for url in endpoints {
            for _ in 0..per_endpoint.max(1) {
                let channel = Endpoint::from_shared(url.clone())
                    .map_err(|e| LoadError::Config(format!("invalid endpoint {url}: {e}")))?
                    .tcp_nodelay(true)
                    .connect()
                    .await
                    .map_err(|e| LoadError::Connect(format!("{url}: {e}")))?;
                connections.push(Connection {
                    tenants: TenantServiceClient::new(channel.clone()),
                    users: UserServiceClient::new(channel.clone()),
                    orgs: OrganizationServiceClient::new(channel.clone()),
                    access: AccessServiceClient::new(channel.clone()),
                    admin: AdminServiceClient::new(channel.clone()),
                    partitions: PartitionServiceClient::new(channel.clone()),
                    api_keys: ApiKeyServiceClient::new(channel.clone()),
                    clients: ClientServiceClient::new(channel.clone()),
                    search: SearchServiceClient::new(channel.clone()),
                    health: HealthClient::new(channel),
                });
            }
        }
        let authorization = match token {
            Some(token) => Some(
                format!("Bearer {}", token.trim())
                    .parse()
                    .map_err(|_| LoadError::Config("the token is not valid ASCII".into()))?,
            ),
            None => None,
        };
        Ok(Cluster {
            connections,
            next: AtomicUsize::new(0),
            authorization,
        })
    }

    /// The next connection, round robin.
    pub fn pick(&self) -> Connection {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.connections.len();
        self.connections[i].clone()
    }

    /// `message` as a request carrying the bearer token.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        request
    }
}
