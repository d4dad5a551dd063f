#!/usr/bin/env python3
"""Drives the Customer API of a running entityd from Python (seed 004).

Generates the gRPC stubs from the repository's proto/ with grpcio-tools into a temporary
directory (nothing generated is kept), then registers a customer, renames it and replaces
its business profile by field mask, reads it back with the write's consistency token, and
checks every answer. Exits non-zero on the first failed check.

    pip install -r clients/python/requirements.txt
    ENTITY_TOKEN=$(entityd dev-token --platform-admin) \
        python3 clients/python/customer_demo.py --endpoint 127.0.0.1:50051

The token must be a platform admin's (RegisterCustomer creates a tenant account).
"""

import argparse
import importlib
import os
import pathlib
import sys
import tempfile
import types
import uuid

import grpc
from grpc_tools import protoc

REPO = pathlib.Path(__file__).resolve().parents[2]


def generate_stubs(proto_dir: pathlib.Path, out_dir: pathlib.Path) -> None:
    """Compiles every entity/v1 proto (and the google.protobuf ones they import)."""
    well_known = pathlib.Path(protoc.__file__).parent / "_proto"
    protos = sorted(str(p.relative_to(proto_dir)) for p in (proto_dir / "entity/v1").glob("*.proto"))
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{proto_dir}",
            f"-I{well_known}",
            f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            *protos,
        ]
    )
    if status != 0:
        raise SystemExit(f"protoc failed ({status}) on {proto_dir}")


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"check failed: {what}")
    print(f"ok: {what}")


def load_stubs(out_dir: str) -> types.SimpleNamespace:
    """Imports the generated modules from `out_dir`."""
    sys.path.insert(0, out_dir)
    load = importlib.import_module
    return types.SimpleNamespace(
        customer=load("entity.v1.customer_pb2"),
        service=load("entity.v1.customer_pb2_grpc"),
        common=load("entity.v1.common_pb2"),
        tenant=load("entity.v1.tenant_pb2"),
        field_mask=load("google.protobuf.field_mask_pb2"),
    )


def run(endpoint: str, token: str, s: types.SimpleNamespace) -> None:
    pb, common, tenant, field_mask = s.customer, s.common, s.tenant, s.field_mask
    metadata = [("authorization", f"Bearer {token}")] if token else []
    channel = grpc.insecure_channel(endpoint)
    grpc.channel_ready_future(channel).result(timeout=30)
    customers = s.service.CustomerServiceStub(channel)
    suffix = uuid.uuid4().hex[:12]
    owner = f"owner@py-{suffix}.example"

    registered = customers.RegisterCustomer(
        pb.RegisterCustomerRequest(
            options=common.MutationOptions(request_id=f"py-register-{suffix}"),
            name="Python Widgets",
            slug=f"py-widgets-{suffix}",
            kind=pb.CUSTOMER_KIND_BUSINESS,
            business_profile=tenant.BusinessProfile(
                legal_name="Python Widgets Ltd",
                address=tenant.Address(city="Leeds", country="GB"),
            ),
            owner_email=owner,
        ),
        metadata=metadata,
        timeout=30,
    )
    customer = registered.customer
    check(customer.name == "Python Widgets", "RegisterCustomer returns the name")
    check(customer.kind == pb.CUSTOMER_KIND_BUSINESS, "RegisterCustomer returns the kind")
    check(customer.status == pb.CUSTOMER_STATUS_ACTIVE, "a new customer is active")
    check(customer.business_profile.address.country == "GB", "the profile is kept")
    check(registered.result.consistency_token.startswith("ct1."), "a consistency token")
    check(owner not in str(registered), "the owner's email is not part of the customer")

    updated = customers.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer_id=customer.id,
            customer=pb.CustomerUpdate(
                name="Python Widgets Group",
                business_profile=tenant.BusinessProfile(legal_name="Python Widgets Group plc"),
            ),
            update_mask=field_mask.FieldMask(paths=["name", "business_profile"]),
        ),
        metadata=metadata,
        timeout=30,
    )
    check(updated.customer.version > customer.version, "UpdateCustomer moves the version")

    read = customers.GetCustomer(
        pb.GetCustomerRequest(
            customer_id=customer.id,
            consistency_token=updated.result.consistency_token,
        ),
        metadata=metadata,
        timeout=30,
    )
    check(read.name == "Python Widgets Group", "GetCustomer shows the new name")
    check(
        read.business_profile.legal_name == "Python Widgets Group plc",
        "GetCustomer shows the new profile",
    )
    check(read.slug == customer.slug, "the slug stays")

    try:
        customers.UpdateCustomer(
            pb.UpdateCustomerRequest(
                customer_id=customer.id,
                update_mask=field_mask.FieldMask(paths=["products"]),
            ),
            metadata=metadata,
            timeout=30,
        )
        check(False, "a tenant-only mask path is refused")
    except grpc.RpcError as e:
        check(
            e.code() == grpc.StatusCode.INVALID_ARGUMENT,
            f"a tenant-only mask path is INVALID_ARGUMENT ({e.code()})",
        )
    print(f"customer {read.id} done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default=os.environ.get("ENTITY_ENDPOINT", "127.0.0.1:50051"))
    parser.add_argument("--token", default=os.environ.get("ENTITY_TOKEN", ""))
    parser.add_argument("--proto-dir", type=pathlib.Path, default=REPO / "proto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="entity-stubs-") as out:
        generate_stubs(args.proto_dir.resolve(), pathlib.Path(out))
        run(args.endpoint, args.token, load_stubs(out))


if __name__ == "__main__":
    main()
