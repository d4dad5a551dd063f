//! `entityctl customer …` requests.

use entity_proto::v1 as pb;

use super::{mask, one, options, profile_proto, token, written};
use crate::cli::entityctl::{
    Failure, Services,
    args::{CustomerCommand, KindArg},
    render::Rendered,
};

/// Runs a customer command.
pub(super) async fn run(
    services: &mut Services,
    command: CustomerCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.customers;
    let rendered = match command {
        CustomerCommand::Register {
            name,
            slug,
            kind,
            owner_email,
            profile,
            write,
        } => {
            let kind = match kind {
                KindArg::Business => pb::CustomerKind::Business,
                KindArg::Consumer => pb::CustomerKind::Consumer,
            };
            let request = pb::RegisterCustomerRequest {
                options: options(write),
                name,
                slug,
                kind: kind as i32,
                business_profile: profile_proto(profile),
                owner_email,
            };
            written("registered", c.register_customer(request).await?)
        }
        CustomerCommand::Get { id, read } => one(c
            .get_customer(pb::GetCustomerRequest {
                customer_id: id,
                consistency_token: token(read),
            })
            .await?),
        CustomerCommand::Update {
            id,
            name,
            profile,
            clear_profile,
            write,
        } => {
            let update_mask = mask(&[
                ("name", name.is_some()),
                ("business_profile", profile.given() || clear_profile),
            ]);
            let request = pb::UpdateCustomerRequest {
                options: options(write),
                customer_id: id,
                customer: Some(pb::CustomerUpdate {
                    name: name.unwrap_or_default(),
                    business_profile: profile_proto(profile),
                }),
                update_mask,
            };
            written("updated", c.update_customer(request).await?)
        }
    };
    Ok(rendered)
}
