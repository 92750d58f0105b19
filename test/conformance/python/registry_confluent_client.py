"""confluent-kafka SchemaRegistryClient against the registry, plus Apache avro reading what it serves.

    registry_confluent_client.py REGISTRY_URL PREFIX DEADLINE_S

Under subjects that start with PREFIX: registers shoal.common.Money and an event that uses it by reference,
reads both back every way the client offers (by id, latest, by version, lookup, subjects, versions),
sets and reads compatibility, tests compatibility, provokes the errors a client must be able to tell apart
(incompatible, invalid, missing subject config), and deletes a version and a whole subject. Every answer,
and every error as (HTTP status, error code), goes into one JSON document; the test judges it.
"""
import json
import sys

import avro.schema
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from script_harness import arm_deadline, run

url, prefix, deadline_s = sys.argv[1], sys.argv[2], int(sys.argv[3])
arm_deadline(deadline_s)

MONEY = {"type": "record", "name": "Money", "namespace": "shoal.common", "fields": [
    {"name": "amount", "type": "long"}, {"name": "currency", "type": "string"}]}
MONEY_AS_STRING = {"type": "record", "name": "Money", "namespace": "shoal.common", "fields": [
    {"name": "amount", "type": "string"}, {"name": "currency", "type": "string"}]}
MONEY_WITH_NOTE = {"type": "record", "name": "Money", "namespace": "shoal.common", "fields": [
    {"name": "amount", "type": "long"}, {"name": "currency", "type": "string"},
    {"name": "note", "type": ["null", "string"], "default": None}]}
ORDER_PLACED = {"type": "record", "name": "OrderPlaced", "namespace": "shoal.orders", "fields": [
    {"name": "orderId", "type": "string"}, {"name": "total", "type": "shoal.common.Money"}]}


def failure(call):
    """(HTTP status, error code) of the SchemaRegistryError `call` raises, or None when it succeeds."""
    try:
        call()
        return None
    except SchemaRegistryError as error:
        return [error.http_status_code, error.error_code]


def registered(r):
    return {"id": r.schema_id, "subject": r.subject, "version": r.version, "schema": r.schema.schema_str,
            "type": r.schema.schema_type}


def main():
    client = SchemaRegistryClient({"url": url})
    money_subject = prefix + "shoal.common.Money"
    order_subject = prefix + "orders.order-shoal.orders.OrderPlaced"
    scratch_subject = prefix + "scratch"

    money_id = client.register_schema(money_subject, Schema(json.dumps(MONEY), "AVRO"))
    again_id = client.register_schema(money_subject, Schema(json.dumps(MONEY, indent=2), "AVRO"))
    reference = SchemaReference("shoal.common.Money", money_subject, 1)
    order_schema = Schema(json.dumps(ORDER_PLACED), "AVRO", [reference])
    order_id = client.register_schema(order_subject, order_schema)

    # A fresh client: nothing cached, every answer comes from the registry.
    reader = SchemaRegistryClient({"url": url})
    by_id = reader.get_schema(order_id)
    money_by_id = reader.get_schema(money_id)
    looked_up = reader.lookup_schema(order_subject, Schema(json.dumps(ORDER_PLACED), "AVRO", [reference]))
    latest = reader.get_latest_version(money_subject)
    first = reader.get_version(money_subject, 1)

    # Apache avro must accept the normalized schemas the registry serves, the reference by its name.
    names = avro.schema.Names()
    avro.schema.make_avsc_object(json.loads(money_by_id.schema_str), names)
    parsed_order = avro.schema.make_avsc_object(json.loads(by_id.schema_str), names)

    compatibility = {
        "globalBefore": reader.get_compatibility(),
        "set": client.set_compatibility(money_subject, "full"),
        "subject": reader.get_compatibility(money_subject),
        "missing": failure(lambda: reader.get_compatibility(order_subject)),
        "compatibleLatest": reader.test_compatibility(money_subject, Schema(json.dumps(MONEY_WITH_NOTE), "AVRO")),
        "incompatibleLatest": reader.test_compatibility(money_subject, Schema(json.dumps(MONEY_AS_STRING), "AVRO")),
        "incompatibleV1": reader.test_compatibility(money_subject, Schema(json.dumps(MONEY_AS_STRING), "AVRO"), 1),
    }
    errors = {
        "incompatible": failure(lambda: client.register_schema(money_subject, Schema(json.dumps(MONEY_AS_STRING), "AVRO"))),
        "invalid": failure(lambda: client.register_schema(scratch_subject, Schema('{"type": "record", "name": "X"}', "AVRO"))),
        "protobuf": failure(lambda: client.register_schema(scratch_subject, Schema('syntax = "proto3";', "PROTOBUF"))),
        "missingReference": failure(lambda: client.register_schema(
            scratch_subject, Schema(json.dumps(ORDER_PLACED), "AVRO", [SchemaReference("shoal.common.Money", money_subject, 9)]))),
        "unknownId": failure(lambda: reader.get_schema(999999)),
        "unknownSubject": failure(lambda: reader.get_latest_version(prefix + "nope")),
        "deleteReferenced": failure(lambda: client.delete_version(money_subject, 1)),
    }

    evolved_id = client.register_schema(money_subject, Schema(json.dumps(MONEY_WITH_NOTE), "AVRO"))
    versions_before = reader.get_versions(money_subject)
    deleted_version = client.delete_version(money_subject, 2)
    versions_after = reader.get_versions(money_subject)

    client.register_schema(scratch_subject, Schema(json.dumps(MONEY), "AVRO"))
    client.register_schema(scratch_subject, Schema(json.dumps(MONEY_WITH_NOTE), "AVRO"))
    deleted_subject = client.delete_subject(scratch_subject, permanent=True)

    return {
        "moneyId": money_id,
        "againId": again_id,
        "orderId": order_id,
        "evolvedId": evolved_id,
        "byId": {"schema": by_id.schema_str, "type": by_id.schema_type,
                 "references": [{"name": r.name, "subject": r.subject, "version": r.version} for r in by_id.references]},
        "lookedUp": registered(looked_up),
        "latest": registered(latest),
        "first": registered(first),
        "apacheAvroFields": [f.name for f in parsed_order.fields],
        "subjects": reader.get_subjects(),
        "compatibility": compatibility,
        "errors": errors,
        "versionsBefore": versions_before,
        "deletedVersion": deleted_version,
        "versionsAfter": versions_after,
        "deletedSubject": deleted_subject,
        "subjectsAfter": reader.get_subjects(),
    }


run(main)
