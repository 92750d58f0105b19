"""confluent-kafka AdminClient: create_topics, list_topics, describe_configs, delete_topics.

    confluent_admin.py BOOTSTRAP TOPIC_A TOPIC_B DEADLINE_S

Creates TOPIC_A (4 partitions) and TOPIC_B (1 partition, retention.ms=3600000), creates TOPIC_A again,
lists topics, reads TOPIC_B's retention.ms back, deletes TOPIC_A and lists again. Prints every answer.
"""
import sys

from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from script_harness import arm_deadline, run

bootstrap, topic_a, topic_b, deadline_s = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
arm_deadline(deadline_s)


def outcome(future):
    """None when the operation succeeded, else the broker's error name."""
    try:
        future.result(timeout=15)
        return None
    except Exception as error:  # noqa: BLE001 - KafkaException carrying a KafkaError
        kafka_error = error.args[0] if error.args else None
        return kafka_error.name() if hasattr(kafka_error, "name") else "%s: %s" % (type(error).__name__, error)


def listing(admin):
    metadata = admin.list_topics(timeout=10)
    return {
        "brokers": [{"id": b.id, "host": b.host, "port": b.port} for b in metadata.brokers.values()],
        "controllerId": metadata.controller_id,
        "topics": {name: {"partitions": sorted(t.partitions), "error": t.error and t.error.name(),
                          "leaders": sorted({p.leader for p in t.partitions.values()})}
                   for name, t in metadata.topics.items()},
    }


def main():
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})
    created = admin.create_topics([
        NewTopic(topic_a, num_partitions=4, replication_factor=1),
        NewTopic(topic_b, num_partitions=1, replication_factor=1, config={"retention.ms": "3600000"}),
    ], request_timeout=15)
    create = {name: outcome(f) for name, f in created.items()}
    create_again = {name: outcome(f) for name, f in admin.create_topics(
        [NewTopic(topic_a, num_partitions=4, replication_factor=1)], request_timeout=15).items()}
    listed = listing(admin)

    configs = {}
    for resource, future in admin.describe_configs([ConfigResource("topic", topic_b)], request_timeout=15).items():
        entries = future.result(timeout=15)
        configs[resource.name] = {name: entry.value for name, entry in entries.items()}

    delete = {name: outcome(f) for name, f in admin.delete_topics([topic_a], request_timeout=15).items()}
    listed_after_delete = listing(admin)
    return {"create": create, "createAgain": create_again, "list": listed, "configs": configs, "delete": delete,
            "listAfterDelete": listed_after_delete}


run(main)
