//! Generates the `entity.v1` gRPC code with a vendored `protoc`, so the build needs nothing
//! outside crates.io.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "entity/v1/text.proto",
        "entity/v1/common.proto",
        "entity/v1/tenant.proto",
        "entity/v1/organization.proto",
        "entity/v1/team.proto",
        "entity/v1/access.proto",
        "entity/v1/user.proto",
        "entity/v1/role.proto",
        "entity/v1/client.proto",
        "entity/v1/directory.proto",
        "entity/v1/partition.proto",
        "entity/v1/registration.proto",
        "entity/v1/customer.proto",
        "entity/v1/audit.proto",
        "entity/v1/admin.proto",
        "entity/v1/analytics.proto",
        "entity/v1/search.proto",
        "entity/v1/events.proto",
    ];
    for p in &protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // `prost::Name` lets the codec find a message's text rules by its name.
    config.enable_type_names();
    tonic_prost_build::configure()
        .codec_path("crate::codec::ValidatingCodec")
        .file_descriptor_set_path(out_dir.join("entity_v1_descriptor.bin"))
        .compile_with_config(config, &protos, &["."])?;
    Ok(())
}
