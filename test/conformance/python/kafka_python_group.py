"""kafka-python producer + consumer group round trip.

    kafka_python_group.py BOOTSTRAP TOPIC GROUP FIRST COUNT DEADLINE_S

Same contract as confluent_group.py: produce FIRST..FIRST+COUNT-1 round-robin over the partitions,
consume with group GROUP until every produced key arrived, commit synchronously, close, and print what
was produced, consumed and committed, and the end offsets.
"""
import logging
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from script_harness import (arm_deadline, group_scenario, message_headers, message_key, message_value, record_json, run)

bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
first, count, deadline_s = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
arm_deadline(deadline_s)
poll_until = time.monotonic() + deadline_s - 8
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

# Bounded waits everywhere; request_timeout_ms must exceed the consumer's session timeout.
TIMEOUTS = {"request_timeout_ms": 15000, "api_version_auto_timeout_ms": 10000, "connections_max_idle_ms": 60000}


def produce():
    producer = KafkaProducer(bootstrap_servers=[bootstrap], max_block_ms=10000, **TIMEOUTS)
    # The metadata request for the topic auto-creates it.
    partitions = None
    while not partitions:
        partitions = producer.partitions_for(topic)
        if not partitions and time.monotonic() > poll_until:
            raise RuntimeError("topic %s has no partitions in metadata" % topic)
        if not partitions:
            time.sleep(0.1)
    partition_total = len(partitions)
    futures = [(i, producer.send(topic, key=message_key(i), value=message_value(i), headers=message_headers(i),
                                 partition=i % partition_total)) for i in range(first, first + count)]
    producer.flush(timeout=20)
    produced, errors = [], []
    for i, future in futures:
        try:
            metadata = future.get(timeout=10)
            produced.append(record_json(metadata.partition, metadata.offset, message_key(i), message_value(i), message_headers(i)))
        except Exception as error:  # noqa: BLE001 - reported per message
            errors.append("message %d: %s: %s" % (i, type(error).__name__, error))
    producer.close(timeout=10)
    return partition_total, produced, errors


def consume(partitions, expected_keys):
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False, session_timeout_ms=10000, **TIMEOUTS)
    consumer.subscribe([topic])
    consumed, errors, seen = [], [], set()
    while not expected_keys <= seen and time.monotonic() < poll_until:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                consumed.append(record_json(record.partition, record.offset, record.key, record.value, record.headers))
                seen.add(record.key.hex())
    commits = []
    try:
        consumer.commit()
    except Exception as error:  # noqa: BLE001 - reported, the test asserts there is none
        errors.append("commit: %s: %s" % (type(error).__name__, error))
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    committed = [{"partition": tp.partition, "offset": consumer.committed(tp), "error": None} for tp in tps]
    high_watermarks = {str(tp.partition): offset for tp, offset in consumer.end_offsets(tps).items()}
    consumer.close(autocommit=False)
    return consumed, errors, commits, committed, high_watermarks


run(lambda: group_scenario(produce, consume))
