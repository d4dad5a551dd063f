//! The public gRPC contract of entity-engine: package `entity.v1`.
//!
//! Generated at build time from `proto/entity/v1/*.proto` with a vendored `protoc`.
//! [`FILE_DESCRIPTOR_SET`] feeds gRPC server reflection and the text rules that
//! [`codec::ValidatingCodec`] applies to every request ([`request_rules`]).

pub mod codec;
pub mod request_rules;

pub use codec::ERROR_DOMAIN;
pub use request_rules::{RequestRules, request_rules};

/// Messages and services of `entity.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("entity.v1");

    /// Domain events as protobuf messages (package `entity.v1.events`): the values the Kafka
    /// publisher sends in protobuf format.
    pub mod events {
        tonic::include_proto!("entity.v1.events");
    }
}

/// Encoded `FileDescriptorSet` of every `entity.v1` file, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("entity_v1_descriptor");

/// Every RPC of `entity.v1` as `(service, method)`, e.g.
/// `("entity.v1.TenantService", "CreateTenant")`, in declaration order, read from
/// [`FILE_DESCRIPTOR_SET`] (so a list that must cover every RPC can be checked against it).
///
/// # Errors
/// When the embedded descriptor set does not decode (a build defect).
pub fn rpc_methods() -> Result<Vec<(String, String)>, prost::DecodeError> {
    use prost::Message;

    let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET)?;
    Ok(set
        .file
        .iter()
        .filter(|f| f.package() == "entity.v1")
        .flat_map(|f| {
            f.service.iter().flat_map(|s| {
                let service = format!("entity.v1.{}", s.name());
                s.method
                    .iter()
                    .map(move |m| (service.clone(), m.name().to_owned()))
            })
        })
        .collect())
}

/// Every RPC of `entity.v1` as its gRPC path (`/entity.v1.TenantService/GetTenant`) and the
/// descriptor of its input message, read from [`FILE_DESCRIPTOR_SET`]: what descriptor-driven
/// tests and tools build requests from.
///
/// # Errors
/// When the embedded descriptor set does not decode (a build defect).
pub fn rpc_inputs()
-> Result<Vec<(String, prost_reflect::MessageDescriptor)>, prost_reflect::DescriptorError> {
    let pool = prost_reflect::DescriptorPool::decode(FILE_DESCRIPTOR_SET)?;
    Ok(pool
        .services()
        .filter(|s| s.package_name() == "entity.v1")
        .flat_map(|s| {
            s.methods()
                .map(|m| (format!("/{}/{}", s.full_name(), m.name()), m.input()))
                .collect::<Vec<_>>()
        })
        .collect())
}

/// For every RPC of `entity.v1` whose request names its tenant, the gRPC path
/// (`/entity.v1.TenantService/GetTenant`) and the field number of the request's top-level
/// `tenant_id` string field (`customer_id` in CustomerService requests: a customer's id is its
/// tenant's), read from [`FILE_DESCRIPTOR_SET`]. Lets a proxy find a request's tenant without
/// decoding the whole message.
///
/// # Errors
/// When the embedded descriptor set does not decode (a build defect).
pub fn tenant_id_fields() -> Result<Vec<(String, u32)>, prost::DecodeError> {
    request_fields_named(&["tenant_id", "customer_id"])
}

/// For every `entity.v1` RPC whose request carries an API key to look at (`api_key`:
/// VerifyApiKey), the field's number: the key names its tenant, so a proxy routes by it.
///
/// # Errors
/// When the embedded descriptor set does not decode (a build defect).
pub fn api_key_fields() -> Result<Vec<(String, u32)>, prost::DecodeError> {
    request_fields_named(&["api_key"])
}

/// For every `entity.v1` RPC whose request finds its tenant by registration (a `host` field:
/// RegisterUser, ResolveRegistration), the numbers of its `email` and `host` fields: a proxy
/// routes it to the tenant that holds the host, or the email's verified domain.
///
/// # Errors
/// When the embedded descriptor set does not decode (a build defect).
pub fn registration_fields() -> Result<Vec<(String, u32, u32)>, prost::DecodeError> {
    let emails: std::collections::HashMap<String, u32> =
        request_fields_named(&["email"])?.into_iter().collect();
    Ok(request_fields_named(&["host"])?
        .into_iter()
        .filter_map(|(path, host)| emails.get(&path).map(|&email| (path, email, host)))
        .collect())
}

/// For every `entity.v1` RPC, the number of its request's first string field named one of
/// `names`.
fn request_fields_named(names: &[&str]) -> Result<Vec<(String, u32)>, prost::DecodeError> {
    use prost::Message;
    use prost_types::field_descriptor_proto::Type;

    let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET)?;
    let files: Vec<_> = set
        .file
        .iter()
        .filter(|f| f.package() == "entity.v1")
        .collect();
    let field_of = |input: &str| {
        let name = input.trim_start_matches(".entity.v1.");
        files
            .iter()
            .flat_map(|f| f.message_type.iter())
            .find(|m| m.name() == name)
            .and_then(|m| {
                m.field
                    .iter()
                    .find(|f| names.contains(&f.name()) && f.r#type() == Type::String)
            })
            .and_then(|f| u32::try_from(f.number()).ok())
    };
    Ok(files
        .iter()
        .flat_map(|f| {
            f.service.iter().flat_map(move |s| {
                s.method.iter().filter_map(move |m| {
                    field_of(m.input_type())
                        .map(|n| (format!("/entity.v1.{}/{}", s.name(), m.name()), n))
                })
            })
        })
        .collect())
}
