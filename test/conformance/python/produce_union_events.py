"""Writes CloudEvents whose schema has unions (of records, of numbers) the way a Python service would, for
Shoal to read: confluent-kafka's Producer and SchemaRegistryClient, and the Avro data written by Apache
avro's DatumWriter or, with `serializer`, by confluent-kafka's own AvroSerializer (which needs fastavro).
Nothing of Shoal's code.

    produce_union_events.py BOOTSTRAP REGISTRY_URL TOPIC SUBJECT DEADLINE_S [serializer]

Reads a JSON array of {"key", "data"} from stdin: the data as Python hands it to the Avro library (a record
in a union as a plain dict, which the library matches to the branch whose fields it fits). Writes one
binary-mode event per item with the latest schema of SUBJECT (its id found with lookup_schema, as a
serializer with auto.register.schemas=false does) and reports the ids it used.
"""
import io
import json
import struct
import sys
import uuid

import avro.io
import avro.schema
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from script_harness import arm_deadline, run

bootstrap, registry_url, topic, subject, deadline_s = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
with_serializer = sys.argv[6:] == ["serializer"]
arm_deadline(deadline_s)


def apache_avro_writer(schema_str, schema_id):
    schema = avro.schema.parse(schema_str)

    def write(data):
        out = io.BytesIO()
        out.write(struct.pack(">bI", 0, schema_id))
        avro.io.DatumWriter(schema).write(data, avro.io.BinaryEncoder(out))
        return out.getvalue()

    return write


def confluent_serializer(registry, schema_str):
    # Imported only when asked for: confluent-kafka's Avro serdes need fastavro, which Debian lacks.
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    serializer = AvroSerializer(registry, schema_str,
                                conf={"auto.register.schemas": False, "subject.name.strategy": lambda ctx, name: subject})
    context = SerializationContext(topic, MessageField.VALUE)
    return lambda data: serializer(data, context)


def main():
    items = json.load(sys.stdin)
    registry = SchemaRegistryClient({"url": registry_url})
    latest = registry.get_latest_version(subject)
    schema_str = latest.schema.schema_str
    schema_id = registry.lookup_schema(subject, Schema(schema_str, "AVRO")).schema_id
    encode = confluent_serializer(registry, schema_str) if with_serializer else apache_avro_writer(schema_str, schema_id)
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    ids = []
    for item in items:
        event_id = str(uuid.uuid4())
        ids.append(event_id)
        producer.produce(topic, key=item["key"].encode(), value=encode(item["data"]), headers=[
            ("ce_specversion", b"1.0"), ("ce_id", event_id.encode()), ("ce_source", b"/python/payments"),
            # TopicRecordNameStrategy: the subject is <topic>-<type>.
            ("ce_type", subject[len(topic) + 1:].encode()), ("ce_subject", item["key"].encode()),
            ("content-type", b"application/avro")])
    remaining = producer.flush(20)
    return {"schemaId": schema_id, "ids": ids, "unflushed": remaining}


run(main)
