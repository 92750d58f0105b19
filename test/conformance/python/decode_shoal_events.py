"""Reads Shoal events the way a Python service would: confluent-kafka's Consumer, its SchemaRegistryClient,
and Apache avro for the data. Nothing of Shoal's own code is involved.

    decode_shoal_events.py BOOTSTRAP REGISTRY_URL TOPIC COUNT DEADLINE_S [deserializer]

Consumes COUNT records of TOPIC from the beginning. For each: the Confluent wire-format header (magic byte,
schema id), the writer schema fetched by id with its references resolved recursively through the
registry, the Avro data decoded with it, and the headers and key as strings. With `deserializer`, the value
is also decoded by confluent-kafka's own AvroDeserializer (which needs fastavro), asked for the record name
of each union branch that is a record: such a branch comes back as [full name, record]. One JSON document on
stdout.
"""
import datetime
import io
import json
import struct
import sys
import uuid

import avro.io
import avro.schema
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient

from script_harness import arm_deadline, run

bootstrap, registry_url, topic, count, deadline_s = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
with_deserializer = sys.argv[6:] == ["deserializer"]
arm_deadline(deadline_s)


def writer_schema(registry, schema_id, cache):
    """The writer schema of `schema_id` as an avro Schema: referenced named types are parsed first into the
    same Names, as Confluent's deserializers do."""
    if schema_id in cache:
        return cache[schema_id]
    names = avro.schema.Names()
    parsed = set()

    def parse(schema):
        for reference in schema.references:
            # confluent-kafka 1.7 gives SchemaReference objects at the top and plain dicts below.
            name, subject, version = ((reference["name"], reference["subject"], reference["version"])
                                      if isinstance(reference, dict)
                                      else (reference.name, reference.subject, reference.version))
            # A type reached twice (Money directly and through LineItem) is defined once.
            if name not in parsed:
                parsed.add(name)
                parse(registry.get_version(subject, version).schema)
        return avro.schema.make_avsc_object(json.loads(schema.schema_str), names)

    cache[schema_id] = parse(registry.get_schema(schema_id))
    return cache[schema_id]


def plain(value):
    """Apache avro reads timestamp-millis as an aware datetime; Shoal's contract is milliseconds since the epoch."""
    if isinstance(value, datetime.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def main():
    registry = SchemaRegistryClient({"url": registry_url})
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "py-decode-" + uuid.uuid4().hex,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    deserializer = None
    if with_deserializer:
        # Imported only when asked for: confluent-kafka's Avro serdes need fastavro, which Debian lacks.
        from confluent_kafka.schema_registry.avro import AvroDeserializer
        from confluent_kafka.serialization import MessageField, SerializationContext
        deserializer = AvroDeserializer(registry, return_record_name=True)
        context = SerializationContext(topic, MessageField.VALUE)
    cache = {}
    events = []
    errors = []
    while len(events) < count:
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            errors.append(str(message.error()))
            continue
        value = message.value()
        magic, schema_id = struct.unpack(">bI", value[:5])
        schema = writer_schema(registry, schema_id, cache)
        data = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(value[5:])))
        event = {"partition": message.partition(), "offset": message.offset(),
                 "key": message.key().decode("utf-8") if message.key() is not None else None,
                 "headers": {k: v.decode("utf-8") for k, v in (message.headers() or [])},
                 "magic": magic, "schemaId": schema_id, "schemaName": getattr(schema, "fullname", None),
                 "data": plain(data)}
        if deserializer is not None:
            event["deserialized"] = plain(deserializer(value, context))
        events.append(event)
    consumer.close()
    return {"events": events, "errors": errors}


run(main)
