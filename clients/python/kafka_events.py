#!/usr/bin/env python3
"""Reads entity-engine's Kafka events in protobuf format, knowing nothing but proto/ (issue 20).

Generates the message classes from the repository's proto/entity/v1/events.proto with
grpcio-tools into a temporary directory (nothing generated is kept), reads a topic the
publisher fills with `--kafka-format protobuf` from its start to its end, and decodes every
message by its `ce_dataschema` (`type.googleapis.com/entity.v1.events.JournalEvent`, or a
customer event's message). Given the topic of a JSON-format publisher of the same journal
too, it checks that every protobuf message has its JSON twin (same `ce_id`) and that the two
hold the same content: the JSON value, read into the message by the rules at the top of
events.proto, equals the protobuf message. Exits non-zero on the first failed check.

    pip install -r clients/python/requirements.txt
    python3 clients/python/kafka_events.py --bootstrap-servers localhost:9092 \\
        --protobuf-topic entity-events-pb [--json-topic entity-events] [--expect-every-type]

`--expect-every-type` also requires every event type of events.proto (each member of
JournalEvent.event, CustomerRegistered and CustomerUpdated) to be on the topic at least once.
"""

import argparse
import importlib
import json
import pathlib
import re
import sys
import tempfile
import time
import types
import uuid

from confluent_kafka import Consumer, KafkaException, TopicPartition
from google.protobuf import json_format
from grpc_tools import protoc

REPO = pathlib.Path(__file__).resolve().parents[2]
TYPE_URL_PREFIX = "type.googleapis.com/"
PACKAGE = "entity.v1.events"
CUSTOMER_EVENTS = ("CustomerRegistered", "CustomerUpdated")
# Headers whose values differ between the formats; every other header must be equal.
FORMAT_HEADERS = ("content-type", "ce_dataschema")


def generate(proto_dir: pathlib.Path, out_dir: pathlib.Path) -> types.ModuleType:
    """Compiles events.proto (it imports only google.protobuf's, which ship with protobuf)."""
    well_known = pathlib.Path(protoc.__file__).parent / "_proto"
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{proto_dir}",
            f"-I{well_known}",
            f"--python_out={out_dir}",
            "entity/v1/events.proto",
        ]
    )
    if status != 0:
        raise SystemExit(f"protoc failed ({status}) on {proto_dir}/entity/v1/events.proto")
    sys.path.insert(0, str(out_dir))
    return importlib.import_module("entity.v1.events_pb2")


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"check failed: {what}")
    print(f"ok: {what}")


# ------------------------------------------------------------------------------------------
# Reading a topic
# ------------------------------------------------------------------------------------------


class Record(types.SimpleNamespace):
    """One message: partition, offset, key, headers (str → str) and value (bytes)."""


def read_topic(bootstrap: str, topic: str, timeout: float) -> list:
    """Every message of `topic` from its low to its high watermark, as they are now."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"kafka-events-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout)
        partitions = metadata.topics[topic].partitions
        if metadata.topics[topic].error is not None or not partitions:
            raise SystemExit(f"topic {topic}: {metadata.topics[topic].error or 'no partitions'}")
        ends, starts = {}, []
        for partition in sorted(partitions):
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout
            )
            if high > low:
                ends[partition] = high
                starts.append(TopicPartition(topic, partition, low))
        consumer.assign(starts)
        records, next_offset = [], {p.partition: p.offset for p in starts}
        deadline = time.monotonic() + timeout
        while any(next_offset[p] < end for p, end in ends.items()):
            if time.monotonic() > deadline:
                raise SystemExit(f"topic {topic} not read to its end within {timeout} s")
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                raise KafkaException(message.error())
            partition, offset = message.partition(), message.offset()
            if offset < next_offset[partition] or offset >= ends[partition]:
                continue
            next_offset[partition] = offset + 1
            records.append(
                Record(
                    partition=partition,
                    offset=offset,
                    key=(message.key() or b"").decode(),
                    headers={k: (v or b"").decode() for k, v in (message.headers() or [])},
                    value=message.value() or b"",
                )
            )
        return records
    finally:
        consumer.close()


# ------------------------------------------------------------------------------------------
# The JSON form read into messages (the rules at the top of events.proto)
# ------------------------------------------------------------------------------------------


def is_repeated(field) -> bool:
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return bool(repeated)
    return field.label == field.LABEL_REPEATED


def unit_member(descriptor, name):
    """The oneof member of `descriptor` named `name` whose type is google.protobuf.Empty."""
    field = descriptor.fields_by_name.get(name)
    if (
        field is not None
        and field.containing_oneof is not None
        and field.message_type is not None
        and field.message_type.full_name == "google.protobuf.Empty"
    ):
        return field
    return None


def shaped(descriptor, value):
    """`value` with a serde unit variant (a bare string) written as its Empty member."""
    if isinstance(value, str) and unit_member(descriptor, value) is not None:
        return {value: {}}
    if isinstance(value, dict) and not descriptor.full_name.startswith("google.protobuf."):
        out = {}
        for name, item in value.items():
            field = descriptor.fields_by_name.get(name)
            out[name] = item if field is None else shaped_field(field, item)
        return out
    return value


def shaped_field(field, value):
    message = field.message_type
    if message is None:
        return value
    if message.GetOptions().map_entry and isinstance(value, dict):
        values = message.fields_by_name["value"].message_type
        if values is None:
            return value
        return {k: shaped(values, v) for k, v in value.items()}
    if is_repeated(field) and isinstance(value, list):
        return [shaped(message, item) for item in value]
    return shaped(message, value)


def pascal_case(kebab: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[-_]", kebab))


def event_member(pb, stream_kind: str, payload_type: str):
    """The member of JournalEvent.event for a payload type on a stream of `stream_kind`."""
    members = {
        f.message_type.name: f for f in pb.JournalEvent.DESCRIPTOR.oneofs_by_name["event"].fields
    }
    member = members.get(payload_type) or members.get(pascal_case(stream_kind) + payload_type)
    if member is None:
        raise SystemExit(f"no message for payload type {payload_type} of a {stream_kind} stream")
    return member


def journal_event_from_json(pb, value: dict):
    """The JSON format's value of a journal event as a JournalEvent."""
    value = dict(value)
    payload = dict(value.pop("payload"))
    payload_type = payload.pop("type")
    event = json_format.ParseDict(shaped(pb.JournalEvent.DESCRIPTOR, value), pb.JournalEvent())
    member = event_member(pb, event.stream.kind, payload_type)
    target = getattr(event, member.name)
    target.SetInParent()
    json_format.ParseDict(shaped(member.message_type, payload), target)
    return event


# ------------------------------------------------------------------------------------------
# The checks
# ------------------------------------------------------------------------------------------


def message_class(pb, record: Record):
    schema = record.headers.get("ce_dataschema", "")
    if not schema.startswith(TYPE_URL_PREFIX + PACKAGE + "."):
        raise SystemExit(f"{record.headers.get('ce_id')}: unexpected ce_dataschema {schema!r}")
    name = schema[len(TYPE_URL_PREFIX + PACKAGE) + 1 :]
    cls = getattr(pb, name, None)
    if cls is None:
        raise SystemExit(f"{record.headers.get('ce_id')}: events.proto has no message {name}")
    return cls


def decode(pb, record: Record):
    """The protobuf value of `record` and the event type it holds."""
    if record.headers.get("content-type") != "application/protobuf":
        raise SystemExit(f"{record.headers.get('ce_id')}: content-type {record.headers}")
    cls = message_class(pb, record)
    message = cls.FromString(record.value)
    if cls is pb.JournalEvent:
        kind = message.WhichOneof("event")
        if kind is None:
            raise SystemExit(f"{record.headers.get('ce_id')}: a JournalEvent without its event")
        if record.headers.get("ce_type") != f"io.entity.v1.{message.event_type}":
            raise SystemExit(f"{record.headers.get('ce_id')}: ce_type vs {message.event_type}")
        return message, kind
    return message, cls.DESCRIPTOR.name


def expected_from_json(pb, record: Record, cls):
    if record.headers.get("content-type") != "application/json":
        raise SystemExit(f"{record.headers.get('ce_id')}: content-type {record.headers}")
    value = json.loads(record.value)
    if cls is pb.JournalEvent:
        return journal_event_from_json(pb, value)
    return json_format.ParseDict(shaped(cls.DESCRIPTOR, value), cls())


def all_event_types(pb) -> set:
    members = pb.JournalEvent.DESCRIPTOR.oneofs_by_name["event"].fields
    return {f.name for f in members} | set(CUSTOMER_EVENTS)


def run(args, pb) -> None:
    records = read_topic(args.bootstrap_servers, args.protobuf_topic, args.timeout)
    check(len(records) > 0, f"{args.protobuf_topic} has messages")
    decoded, seen = {}, set()
    for record in records:
        message, kind = decode(pb, record)
        decoded.setdefault(record.headers["ce_id"], (record, message))
        seen.add(kind)
    check(True, f"decoded all {len(records)} protobuf messages ({len(seen)} event types)")
    if args.expect_every_type:
        missing = sorted(all_event_types(pb) - seen)
        check(not missing, f"every event type of events.proto is on the topic (missing: {missing})")
    if args.json_topic:
        twins = read_topic(args.bootstrap_servers, args.json_topic, args.timeout)
        by_id = {}
        for record in twins:
            by_id.setdefault(record.headers["ce_id"], record)
        check(
            set(by_id) == set(decoded),
            f"{args.json_topic} holds the same {len(decoded)} events (by ce_id)",
        )
        for ce_id, (record, message) in decoded.items():
            twin = by_id[ce_id]
            expected = expected_from_json(pb, twin, type(message))
            if expected != message:
                raise SystemExit(
                    f"{ce_id} ({record.headers.get('ce_type')}): JSON and protobuf differ\n"
                    f"json:     {json_format.MessageToJson(expected)}\n"
                    f"protobuf: {json_format.MessageToJson(message)}"
                )
            same = {k: v for k, v in record.headers.items() if k not in FORMAT_HEADERS}
            same_twin = {k: v for k, v in twin.headers.items() if k not in FORMAT_HEADERS}
            if same != same_twin or record.key != twin.key:
                raise SystemExit(f"{ce_id}: headers or keys differ: {same} vs {same_twin}")
        check(True, "every JSON message decodes to the same content as its protobuf twin")
    print(f"{len(records)} messages, {len(seen)} event types: done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--protobuf-topic", required=True)
    parser.add_argument("--json-topic", help="a JSON-format topic of the same journal")
    parser.add_argument("--expect-every-type", action="store_true")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per topic")
    parser.add_argument("--proto-dir", type=pathlib.Path, default=REPO / "proto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="entity-events-") as out:
        pb = generate(args.proto_dir, pathlib.Path(out))
        run(args, pb)


if __name__ == "__main__":
    main()
