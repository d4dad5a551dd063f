//! `entityctl api-key …` requests.

use entity_proto::v1::{self as pb, api_key_service_client::ApiKeyServiceClient};

use super::{listed, one, options, written};
use crate::{
    cli::entityctl::{
        Failure, Services,
        args::{ApiKeyCommand, ApiKeyId, ExpiryOpts, PageOpts},
        render::{Rendered, Verified},
    },
    convert::timestamp,
};

list_rpcs! {
    pb::ListApiKeysRequest: ApiKeyServiceClient.list_api_keys -> api_keys: pb::ApiKey,
}
writes! { ApiKeyId => pb::RevokeApiKeyRequest { id } }

/// The request of an API key command.
#[derive(Debug)]
enum Call {
    Create(pb::CreateApiKeyRequest),
    Get(pb::GetApiKeyRequest),
    List(pb::ListApiKeysRequest, PageOpts),
    Rotate(pb::RotateApiKeyRequest),
    Revoke(pb::RevokeApiKeyRequest),
    Verify(pb::VerifyApiKeyRequest),
}

/// Runs an API key command. An invalid key is an answer of `verify`, not a failure (exit
/// code 0).
pub(super) async fn run(
    services: &mut Services,
    command: ApiKeyCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.api_keys;
    let rendered = match call(command) {
        Call::Create(request) => written("created", c.create_api_key(request).await?),
        Call::Get(request) => one(c.get_api_key(request).await?),
        Call::List(request, page) => listed(c, request, page).await?,
        // the answer names the new key, the one issued
        Call::Rotate(request) => written("issued", c.rotate_api_key(request).await?),
        Call::Revoke(request) => written("revoked", c.revoke_api_key(request).await?),
        Call::Verify(request) => {
            Rendered::new(Verified(c.verify_api_key(request).await?.into_inner()))
        }
    };
    Ok(rendered)
}

/// The request `command` sends.
fn call(command: ApiKeyCommand) -> Call {
    match command {
        ApiKeyCommand::Create {
            tenant,
            partition,
            name,
            admin,
            scopes,
            expiry,
            foreign_key,
            write,
        } => {
            let (expire_time, ttl_seconds) = expiry_proto(expiry);
            Call::Create(pb::CreateApiKeyRequest {
                options: options(write),
                tenant_id: tenant,
                partition_id: partition,
                name,
                admin,
                scopes,
                expire_time,
                ttl_seconds,
                foreign_key: foreign_key.unwrap_or_default(),
            })
        }
        ApiKeyCommand::Get { tenant, id } => Call::Get(pb::GetApiKeyRequest {
            tenant_id: tenant,
            id,
        }),
        ApiKeyCommand::List {
            tenant,
            partition,
            page,
        } => Call::List(
            pb::ListApiKeysRequest {
                tenant_id: tenant,
                partition_id: partition.unwrap_or_default(),
                ..Default::default()
            },
            page,
        ),
        ApiKeyCommand::Rotate {
            tenant,
            id,
            overlap_secs,
            expiry,
            write,
        } => {
            let (expire_time, ttl_seconds) = expiry_proto(expiry);
            Call::Rotate(pb::RotateApiKeyRequest {
                options: options(write),
                tenant_id: tenant,
                id,
                overlap_seconds: overlap_secs,
                expire_time,
                ttl_seconds,
            })
        }
        ApiKeyCommand::Revoke(w) => Call::Revoke(w.into()),
        ApiKeyCommand::Verify { key } => Call::Verify(pb::VerifyApiKeyRequest { api_key: key }),
    }
}

/// `expire_time` and `ttl_seconds` of a key (0: no TTL).
fn expiry_proto(expiry: ExpiryOpts) -> (Option<prost_types::Timestamp>, i64) {
    (
        expiry.expires.map(timestamp),
        expiry.ttl_secs.unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::entityctl::args::Cli;

    fn call_of(line: &str) -> Call {
        match Cli::try_parse_from(line.split(' ')).map(|c| c.command) {
            Ok(crate::cli::entityctl::args::Command::ApiKey(command)) => call(command),
            other => panic!("{line}: parsed as {other:?}"),
        }
    }

    #[test]
    fn create_requests_carry_the_flags() {
        let Call::Create(request) = call_of(
            "entityctl api-key create T --partition P --name ci --scope user:read \
             --scope organization:* --ttl-secs 60 --foreign-key gh-7 --request-id r1",
        ) else {
            panic!("not a create");
        };
        assert_eq!(
            (
                request.tenant_id.as_str(),
                request.partition_id.as_str(),
                request.name.as_str()
            ),
            ("T", "P", "ci")
        );
        assert!(!request.admin);
        assert_eq!(request.scopes, ["user:read", "organization:*"]);
        assert_eq!((request.ttl_seconds, request.expire_time), (60, None));
        assert_eq!(request.foreign_key, "gh-7");
        assert_eq!(request.options.unwrap().request_id, "r1");

        let Call::Create(admin) = call_of(
            "entityctl api-key create T --partition P --name ci --admin --expires 2030-01-31T00:00:00Z",
        ) else {
            panic!("not a create");
        };
        assert!(admin.admin && admin.scopes.is_empty());
        assert_eq!((admin.ttl_seconds, admin.foreign_key.as_str()), (0, ""));
        assert_eq!(
            admin.expire_time.map(|t| (t.seconds, t.nanos)),
            Some((1_896_048_000, 0))
        );
    }

    #[test]
    fn rotate_requests_keep_the_overlap_unset_unless_given() {
        let Call::Rotate(request) = call_of("entityctl api-key rotate T K") else {
            panic!("not a rotation");
        };
        assert_eq!(
            (request.tenant_id.as_str(), request.id.as_str()),
            ("T", "K")
        );
        assert_eq!(request.overlap_seconds, None, "the server's default");
        assert_eq!((request.ttl_seconds, request.expire_time), (0, None));
        let Call::Rotate(request) =
            call_of("entityctl api-key rotate T K --overlap-secs 0 --ttl-secs 3600")
        else {
            panic!("not a rotation");
        };
        assert_eq!(request.overlap_seconds, Some(0), "0 ends the old key now");
        assert_eq!(request.ttl_seconds, 3600);
    }

    #[test]
    fn the_other_requests() {
        let Call::Revoke(revoke) = call_of("entityctl api-key revoke T K --request-id r") else {
            panic!("not a revocation");
        };
        assert_eq!((revoke.tenant_id.as_str(), revoke.id.as_str()), ("T", "K"));
        assert_eq!(revoke.options.unwrap().request_id, "r");
        let Call::List(list, page) =
            call_of("entityctl api-key list T --partition P --page-size 2 --all")
        else {
            panic!("not a list");
        };
        assert_eq!(
            (list.tenant_id.as_str(), list.partition_id.as_str()),
            ("T", "P")
        );
        assert_eq!((page.page_size, page.all), (Some(2), true));
        let Call::List(list, _) = call_of("entityctl api-key list T") else {
            panic!("not a list");
        };
        assert_eq!(list.partition_id, "", "every partition's keys");
        let Call::Get(get) = call_of("entityctl api-key get T K") else {
            panic!("not a get");
        };
        assert_eq!((get.tenant_id.as_str(), get.id.as_str()), ("T", "K"));
        let Call::Verify(verify) = call_of("entityctl api-key verify eek_x") else {
            panic!("not a verification");
        };
        assert_eq!(verify.api_key, "eek_x");
    }
}
