"""confluent-kafka from PyPI (a newer librdkafka than Debian's python3-confluent-kafka) with its Schema
Registry client and its own fastavro-based AvroSerializer / AvroDeserializer. Run by the venv that
`.ci/run` builds from requirements-pypi.txt; nothing of Shoal's code is involved.

    confluent_pypi.py SCENARIO DEADLINE_S ARGS...

      produce BOOTSTRAP TOPIC COUNT              idempotent producer, acks=all, keys and headers
      consume BOOTSTRAP TOPIC GROUP COUNT        one group member: COUNT records, commit, committed offsets
      group BOOTSTRAP TOPIC GROUP COUNT          two members: assignment alone, shared, after one leaves
      admin BOOTSTRAP TOPIC                      AdminClient: topics, configs, partitions, offsets, records, groups
      avro-decode BOOTSTRAP REGISTRY TOPIC COUNT AvroDeserializer on what Shoal published
      avro-produce BOOTSTRAP REGISTRY TOPIC SUBJECT ORDER_ID
                                                 AvroSerializer (use.latest.version) writing one CloudEvent
                                                 in binary mode, for a Shoal consumer to read

One JSON document on stdout (script_harness).
"""
import datetime
import os
import sys
import time
import uuid

import confluent_kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions,
                                   NewTopic, OffsetSpec)
from confluent_kafka.schema_registry import SchemaRegistryClient, topic_record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from script_harness import arm_deadline, run

scenario, deadline_s, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
arm_deadline(deadline_s)


def versions():
    return {"client": confluent_kafka.version()[0], "librdkafka": confluent_kafka.libversion()[0]}


def consumer(bootstrap, group, **extra):
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "fetch.wait.max.ms": 200}
    # GROUP_PROTOCOL=consumer: KIP-848's protocol, where the broker owns the session and heartbeat timing
    # (librdkafka refuses the classic settings then).
    if os.environ.get("GROUP_PROTOCOL") == "consumer":
        conf["group.protocol"] = "consumer"
    else:
        conf.update({"session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
    conf.update(extra)
    return Consumer(conf)


def produce(bootstrap, topic, count):
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 5})
    delivered, errors = [], []

    def report(error, message):
        if error is not None:
            errors.append(str(error))
        else:
            delivered.append("%d:%d" % (message.partition(), message.offset()))

    for i in range(count):
        producer.produce(topic, key=b"k%d" % i, value=b"py-%d" % i,
                         headers=[("ce_type", b"conformance.ConfluentPyPI"), ("n", str(i).encode())], on_delivery=report)
    unflushed = producer.flush(30)
    return {"delivered": delivered, "errors": errors, "unflushed": unflushed, **versions()}


def consume(bootstrap, topic, group, count):
    member = consumer(bootstrap, group)
    member.subscribe([topic])
    records = []
    while len(records) < count:
        message = member.poll(0.5)
        if message is None:
            continue
        if message.error():
            raise KafkaException(message.error())
        headers = ",".join("%s:%s" % (k, v.decode()) for k, v in (message.headers() or []))
        records.append("%d:%d %s %s [%s]" % (message.partition(), message.offset(), message.key().decode(),
                                             message.value().decode(), headers))
    member.commit(asynchronous=False)
    committed = sorted("%d:%d" % (tp.partition, tp.offset) for tp in member.committed(member.assignment(), timeout=10))
    member.close()
    return {"records": records, "committed": committed}


def group(bootstrap, topic, group_id, count):
    """Two members polled in turn from one thread: librdkafka runs each one's rebalance callbacks from poll."""
    owned = {"first": set(), "second": set()}
    keys = set()

    def listeners(name):
        def on_assign(client, partitions):
            owned[name] |= {tp.partition for tp in partitions}

        def on_revoke(client, partitions):
            owned[name] -= {tp.partition for tp in partitions}

        return {"on_assign": on_assign, "on_revoke": on_revoke, "on_lost": on_revoke}

    def poll(member):
        message = member.poll(0.1)
        if message is not None and not message.error():
            keys.add(message.key())
            member.commit(message=message, asynchronous=False)

    def until(condition, members):
        while not condition():
            for member in members:
                poll(member)

    first = consumer(bootstrap, group_id)
    first.subscribe([topic], **listeners("first"))
    until(lambda: len(owned["first"]) == 4, [first])
    result = {"firstAlone": sorted(owned["first"])}

    second = consumer(bootstrap, group_id)
    second.subscribe([topic], **listeners("second"))
    until(lambda: owned["second"] and len(owned["first"]) + len(owned["second"]) == 4
          and not owned["first"] & owned["second"], [first, second])
    result.update(firstShared=sorted(owned["first"]), secondShared=sorted(owned["second"]))

    admin = AdminClient({"bootstrap.servers": bootstrap})
    description = admin.describe_consumer_groups([group_id])[group_id].result()
    result.update(members=len(description.members), state=str(description.state.name),
                  assignor=description.partition_assignor)

    until(lambda: len(keys) >= count, [first, second])
    second.close()
    until(lambda: len(owned["first"]) == 4, [first])
    result["firstAfterLeave"] = sorted(owned["first"])
    first.close()
    result["keys"] = len(keys)
    return result


def admin(bootstrap, topic):
    client = AdminClient({"bootstrap.servers": bootstrap})
    result = {}
    cluster = client.describe_cluster().result()
    result["clusterNodes"] = len(cluster.nodes)

    client.create_topics([NewTopic(topic, 2, 1, config={"retention.ms": "3600000"})])[topic].result()
    try:
        client.create_topics([NewTopic(topic, 2, 1)])[topic].result()
        result["createAgain"] = "ok"
    except KafkaException as error:
        result["createAgain"] = error.args[0].name()
    result["listed"] = topic in client.list_topics(timeout=10).topics
    described = client.describe_topics(confluent_kafka.TopicCollection([topic]))[topic].result()
    result["partitions"] = len(described.partitions)

    resource = ConfigResource("TOPIC", topic)
    configs = client.describe_configs([resource])[resource].result()
    result["retention.ms"] = configs["retention.ms"].value
    alter = ConfigResource("TOPIC", topic, incremental_configs=[
        ConfigEntry("retention.ms", "7200000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("max.message.bytes", "500000", incremental_operation=AlterConfigOpType.SET)])
    client.incremental_alter_configs([alter])[alter].result()
    configs = client.describe_configs([resource])[resource].result()
    result["altered.retention.ms"] = configs["retention.ms"].value
    result["altered.max.message.bytes"] = configs["max.message.bytes"].value

    client.create_partitions([NewPartitions(topic, 3)])[topic].result()
    result["grown"] = len(client.list_topics(topic, timeout=10).topics[topic].partitions)

    producer = Producer({"bootstrap.servers": bootstrap})
    base = int(time.time() * 1000) - 60000
    for i in range(10):
        producer.produce(topic, partition=0, key=b"k%d" % i, value=b"v", timestamp=base + i * 1000)
    if producer.flush(30) != 0:
        raise RuntimeError("records left unflushed")
    p0 = TopicPartition(topic, 0)

    def offset(spec):
        return client.list_offsets({p0: spec})[p0].result().offset

    result["earliest"] = offset(OffsetSpec.earliest())
    result["latest"] = offset(OffsetSpec.latest())
    result["forTimestamp"] = offset(OffsetSpec.for_timestamp(base + 4500))
    result["maxTimestamp"] = offset(OffsetSpec.max_timestamp())
    client.delete_records([TopicPartition(topic, 0, 3)])[TopicPartition(topic, 0, 3)].result()
    result["afterDeleteEarliest"] = offset(OffsetSpec.earliest())

    group_id = topic + "-group"
    reader = consumer(bootstrap, group_id)
    reader.subscribe([topic])
    seen = 0
    while seen < 7:
        message = reader.poll(0.5)
        if message is not None and not message.error():
            seen += 1
    reader.commit(asynchronous=False)
    reader.close()
    listed = client.list_consumer_groups().result()
    result["groupListed"] = any(g.group_id == group_id for g in listed.valid)
    result["groupState"] = client.describe_consumer_groups([group_id])[group_id].result().state.name
    offsets = client.list_consumer_group_offsets([confluent_kafka.ConsumerGroupTopicPartitions(group_id)])[group_id].result()
    result["groupOffsetP0"] = next(tp.offset for tp in offsets.topic_partitions if tp.partition == 0)
    client.delete_consumer_groups([group_id])[group_id].result()
    result["groupDeleted"] = True
    client.delete_topics([topic])[topic].result()
    result["deleted"] = topic
    return result


def plain(value):
    """fastavro reads timestamp-millis as an aware datetime; Shoal's contract is milliseconds since the epoch."""
    if isinstance(value, datetime.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def avro_decode(bootstrap, registry_url, topic, count):
    registry = SchemaRegistryClient({"url": registry_url})
    # No reader schema: the writer schema is fetched by the id in each value, its references resolved.
    deserializer = AvroDeserializer(registry)
    member = consumer(bootstrap, "py-avro-%s" % uuid.uuid4())
    member.subscribe([topic])
    events = []
    while len(events) < count:
        message = member.poll(0.5)
        if message is None:
            continue
        if message.error():
            raise KafkaException(message.error())
        headers = {k: v.decode() for k, v in (message.headers() or [])}
        data = deserializer(message.value(), SerializationContext(topic, MessageField.VALUE, message.headers()))
        events.append({"key": message.key().decode(), "headers": headers, "data": plain(data)})
    member.close()
    return {"events": events}


def avro_produce(bootstrap, registry_url, topic, subject, order_id):
    registry = SchemaRegistryClient({"url": registry_url})
    latest = registry.get_latest_version(subject)
    # What a service that does not own the schema does: write with the subject's latest version, never register.
    serializer = AvroSerializer(registry, latest.schema.schema_str, conf={
        "auto.register.schemas": False, "use.latest.version": True,
        "subject.name.strategy": topic_record_subject_name_strategy})
    data = {"orderId": order_id, "customerId": "c-pypi", "shipmentId": "s-" + order_id, "trackingNumber": "PYPI1",
            "shippedAt": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)}
    value = serializer(data, SerializationContext(topic, MessageField.VALUE))
    event_id = str(uuid.uuid4())
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    producer.produce(topic, key=order_id.encode(), value=value, headers=[
        ("ce_specversion", b"1.0"), ("ce_id", event_id.encode()), ("ce_source", b"/python/pypi"),
        ("ce_type", b"shoal.orders.OrderShipped"), ("ce_time", b"2026-01-01T00:00:00Z"),
        ("ce_subject", order_id.encode()), ("content-type", b"application/avro")])
    unflushed = producer.flush(30)
    return {"id": event_id, "schemaId": latest.schema_id, "unflushed": unflushed}


SCENARIOS = {
    "produce": lambda: produce(args[0], args[1], int(args[2])),
    "consume": lambda: consume(args[0], args[1], args[2], int(args[3])),
    "group": lambda: group(args[0], args[1], args[2], int(args[3])),
    "admin": lambda: admin(args[0], args[1]),
    "avro-decode": lambda: avro_decode(args[0], args[1], args[2], int(args[3])),
    "avro-produce": lambda: avro_produce(args[0], args[1], args[2], args[3], args[4]),
}

run(SCENARIOS[scenario])
