"""kafka-python KafkaAdminClient: create_topics, list_topics, describe_topics, delete_topics.

    kafka_python_admin.py BOOTSTRAP TOPIC_A TOPIC_B DEADLINE_S

Creates TOPIC_A (2 partitions) and TOPIC_B (1 partition, retention.ms=3600000), creates TOPIC_A again,
lists and describes topics, deletes TOPIC_A and lists again. Prints every answer.
"""
import sys

from kafka.admin import KafkaAdminClient, NewTopic

from script_harness import arm_deadline, run

bootstrap, topic_a, topic_b, deadline_s = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
arm_deadline(deadline_s)


def topic_errors(response):
    """[(topic, error_code)] from a CreateTopics/DeleteTopics response of any version."""
    tuples = response.topic_errors if hasattr(response, "topic_errors") else response.topic_error_codes
    return {t[0]: t[1] for t in tuples}


def main():
    admin = KafkaAdminClient(bootstrap_servers=[bootstrap], request_timeout_ms=15000, api_version_auto_timeout_ms=10000)
    create = topic_errors(admin.create_topics([
        NewTopic(topic_a, num_partitions=2, replication_factor=1),
        NewTopic(topic_b, num_partitions=1, replication_factor=1, topic_configs={"retention.ms": "3600000"}),
    ], timeout_ms=10000))
    # kafka-python raises the first topic error of a CreateTopics response.
    try:
        admin.create_topics([NewTopic(topic_a, num_partitions=2, replication_factor=1)], timeout_ms=10000)
        create_again = None
    except Exception as error:  # noqa: BLE001 - the test checks which error it is
        create_again = {"type": type(error).__name__, "errno": getattr(error, "errno", None)}
    listed = admin.list_topics()
    described = {t["topic"]: {"error": t["error_code"], "partitions": sorted(p["partition"] for p in t["partitions"]),
                              "leaders": sorted({p["leader"] for p in t["partitions"]})}
                 for t in admin.describe_topics([topic_a, topic_b])}
    cluster = admin.describe_cluster()
    delete = topic_errors(admin.delete_topics([topic_a], timeout_ms=10000))
    listed_after_delete = admin.list_topics()
    admin.close()
    return {"apiVersion": list(admin.config["api_version"]), "create": create, "createAgain": create_again,
            "list": listed, "describe": described,
            "cluster": {"brokers": cluster["brokers"], "controllerId": cluster["controller_id"]},
            "delete": delete, "listAfterDelete": listed_after_delete}


run(main)
