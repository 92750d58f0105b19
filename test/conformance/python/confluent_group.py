"""confluent-kafka (librdkafka) producer + consumer group round trip.

    confluent_group.py BOOTSTRAP TOPIC GROUP FIRST COUNT DEADLINE_S

Produces messages FIRST..FIRST+COUNT-1 (key, value, headers from script_harness) round-robin over the
topic's partitions, then consumes with group GROUP (subscribe, poll until every produced key arrived,
synchronous commit, close). Prints what was produced, what was consumed, the commit results, the
committed offsets read back and the high watermarks.
"""
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from script_harness import (arm_deadline, group_scenario, message_headers, message_key, message_value, record_json, run)

bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
first, count, deadline_s = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
arm_deadline(deadline_s)
# Leave time before the hard deadline to report a partial result.
poll_until = time.monotonic() + deadline_s - 8


def partition_count(client):
    # The producer's metadata request auto-creates the topic; retry until its partitions are visible.
    while True:
        metadata = client.list_topics(topic, timeout=10)
        t = metadata.topics.get(topic)
        if t is not None and t.error is None and t.partitions:
            return len(t.partitions)
        if time.monotonic() > poll_until:
            raise RuntimeError("topic %s has no partitions in metadata: %r" % (topic, t and t.error))
        time.sleep(0.1)


def produce():
    producer = Producer({"bootstrap.servers": bootstrap, "message.timeout.ms": 15000, "socket.timeout.ms": 10000})
    partitions = partition_count(producer)
    produced, errors = [], []

    def on_delivery(i):
        # Reports what was sent, placed where the broker says it stored it.
        def report(err, msg):
            if err is not None:
                errors.append("message %d: %s" % (i, err))
            else:
                produced.append(record_json(msg.partition(), msg.offset(), message_key(i), message_value(i), message_headers(i)))
        return report

    for i in range(first, first + count):
        producer.produce(topic, key=message_key(i), value=message_value(i), headers=message_headers(i),
                         partition=i % partitions, on_delivery=on_delivery(i))
        producer.poll(0)
    left = producer.flush(20)
    if left:
        errors.append("%d messages still undelivered after flush" % left)
    return partitions, produced, errors


def consume(partitions, expected_keys):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
        "socket.timeout.ms": 10000,
    })
    consumed, errors, seen = [], [], set()
    consumer.subscribe([topic])
    while not expected_keys <= seen and time.monotonic() < poll_until:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            errors.append(str(msg.error()))
            continue
        consumed.append(record_json(msg.partition(), msg.offset(), msg.key(), msg.value(), msg.headers()))
        seen.add(msg.key().hex())
    commits = []
    try:
        for tp in consumer.commit(asynchronous=False) or []:
            commits.append({"partition": tp.partition, "offset": tp.offset, "error": tp.error and str(tp.error)})
    except KafkaException as error:
        errors.append("commit: %s" % error)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    committed = [{"partition": tp.partition, "offset": tp.offset, "error": tp.error and str(tp.error)}
                 for tp in consumer.committed(tps, timeout=10)]
    high_watermarks = {str(p): consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
    consumer.close()
    return consumed, errors, commits, committed, high_watermarks


run(lambda: group_scenario(produce, consume))
