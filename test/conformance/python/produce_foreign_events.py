"""Writes CloudEvents the way a non-Shoal Python service would, for Shoal to read: confluent-kafka's Producer,
its SchemaRegistryClient to find the schema id, Apache avro to encode the data. Nothing of Shoal's code.

    produce_foreign_events.py BOOTSTRAP REGISTRY_URL TOPIC SUBJECT DEADLINE_S

Produces two events of shoal.orders.OrderShipped, keyed by their order id:
  binary mode      ce_* headers, content-type application/avro, value = 0x00 | schema id | Avro
                   (the schema id found with lookup_schema under SUBJECT, as Confluent's serializers do)
  structured mode  content-type application/cloudevents+json, the whole event as JSON with `data`
Reports the ids it used; the test judges what Shoal decodes.
"""
import datetime
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
arm_deadline(deadline_s)


def main():
    registry = SchemaRegistryClient({"url": registry_url})
    latest = registry.get_latest_version(subject)
    # lookup_schema is what a serializer with auto.register.schemas=false does: the id of this exact text.
    schema_id = registry.lookup_schema(subject, Schema(latest.schema.schema_str, "AVRO")).schema_id
    schema = avro.schema.parse(latest.schema.schema_str)
    # Apache avro writes timestamp-millis from a datetime: 2026-01-01T00:00:00Z = 1767225600000 ms.
    shipped_at = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    binary_data = {"orderId": "py-1", "customerId": "c-py", "shipmentId": "s-py-1", "trackingNumber": "PY1",
                   "shippedAt": shipped_at}
    out = io.BytesIO()
    out.write(struct.pack(">bI", 0, schema_id))
    avro.io.DatumWriter(schema).write(binary_data, avro.io.BinaryEncoder(out))

    binary_id, structured_id = str(uuid.uuid4()), str(uuid.uuid4())
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    producer.produce(topic, key=b"py-1", value=out.getvalue(), headers=[
        ("ce_specversion", b"1.0"), ("ce_id", binary_id.encode()), ("ce_source", b"/python/shipping"),
        ("ce_type", b"shoal.orders.OrderShipped"), ("ce_time", b"2026-01-01T00:00:00Z"),
        ("ce_subject", b"py-1"), ("content-type", b"application/avro")])
    structured = {"specversion": "1.0", "id": structured_id, "source": "/python/shipping",
                  "type": "shoal.orders.OrderShipped", "time": "2026-01-01T00:00:01Z", "datacontenttype": "application/json",
                  "data": dict(binary_data, orderId="py-2", shipmentId="s-py-2", trackingNumber="PY2",
                               shippedAt=1767225600000)}
    producer.produce(topic, key=b"py-2", value=json.dumps(structured).encode(),
                     headers=[("content-type", b"application/cloudevents+json; charset=utf-8")])
    remaining = producer.flush(20)
    return {"schemaId": schema_id, "binaryId": binary_id, "structuredId": structured_id, "unflushed": remaining}


run(main)
