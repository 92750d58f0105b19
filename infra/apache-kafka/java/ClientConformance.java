import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Apache Kafka's own Java client (kafka-clients) against a broker, one scenario per run, for the
 * conformance tests: `java -cp <kafka classpath> ClientConformance.java <scenario> <bootstrap> <args...>`
 * (Java compiles the single source file at launch). Each scenario prints what it observed as lines of
 * `key=value` to stdout, which the test asserts on; any exception exits non-zero with its stack trace.
 *
 *   produce <topic> <count>          idempotent producer, acks=all, keys k<i>, headers, prints each offset
 *   consume <topic> <group> <count>  one group member: polls until count records, commits, prints them
 *   group <topic> <group> <count>    two members in one process: the assignment after the first joins,
 *                                    after the second joins, and after the second leaves, committing as
 *                                    they go, until count distinct keys were read
 *   resume <topic> <group> <count>   a new member of a group that committed: prints what it reads first
 *   admin <topic>                    AdminClient: create, describe, list, configs, offsets, records, groups
 */
public final class ClientConformance {
  private static final Duration POLL = Duration.ofMillis(200);
  private static final long DEADLINE_MS = 60_000;

  public static void main(String[] args) throws Exception {
    String scenario = args[0];
    String bootstrap = args[1];
    switch (scenario) {
      case "produce" -> produce(bootstrap, args[2], Integer.parseInt(args[3]));
      case "consume" -> consume(bootstrap, args[2], args[3], Integer.parseInt(args[4]));
      case "group" -> group(bootstrap, args[2], args[3], Integer.parseInt(args[4]));
      case "resume" -> consume(bootstrap, args[2], args[3], Integer.parseInt(args[4]));
      case "admin" -> admin(bootstrap, args[2]);
      default -> throw new IllegalArgumentException("unknown scenario " + scenario);
    }
  }

  private static void out(String key, Object value) {
    System.out.println(key + "=" + value);
    System.out.flush();
  }

  private static void produce(String bootstrap, String topic, int count) throws Exception {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "gzip");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      List<java.util.concurrent.Future<RecordMetadata>> sends = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ProducerRecord<String, String> record = new ProducerRecord<>(topic, "k" + i, "java-" + i);
        record.headers().add("ce_type", "conformance.Java".getBytes(StandardCharsets.UTF_8));
        record.headers().add("n", String.valueOf(i).getBytes(StandardCharsets.UTF_8));
        sends.add(producer.send(record));
      }
      producer.flush();
      for (int i = 0; i < count; i++) {
        RecordMetadata metadata = sends.get(i).get();
        out("sent", metadata.partition() + ":" + metadata.offset());
      }
    }
  }

  private static Properties consumerProps(String bootstrap, String group, String instance) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, group + "-" + instance);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
    // GROUP_PROTOCOL=consumer selects KIP-848's protocol, where the broker owns the timeouts.
    String protocol = System.getenv("GROUP_PROTOCOL");
    if (protocol != null) {
      props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
    } else {
      props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500");
      props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
    }
    return props;
  }

  private static void consume(String bootstrap, String topic, String group, int count) {
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(bootstrap, group, "solo"))) {
      consumer.subscribe(List.of(topic));
      int seen = 0;
      long deadline = System.currentTimeMillis() + DEADLINE_MS;
      while (seen < count) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("only " + seen + " of " + count + " records arrived");
        for (ConsumerRecord<String, String> record : consumer.poll(POLL)) {
          if (seen++ >= count) break;
          StringBuilder headers = new StringBuilder();
          for (Header header : record.headers()) {
            if (headers.length() > 0) headers.append(',');
            headers.append(header.key()).append(':').append(new String(header.value(), StandardCharsets.UTF_8));
          }
          out("record", record.partition() + ":" + record.offset() + " " + record.key() + " " + record.value() + " [" + headers + "]");
        }
      }
      consumer.commitSync();
      Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(consumer.assignment());
      committed.entrySet().stream()
          .filter(entry -> entry.getValue() != null)
          .sorted(Map.Entry.comparingByKey(java.util.Comparator.comparingInt(TopicPartition::partition)))
          .forEach(entry -> out("committed", entry.getKey().partition() + ":" + entry.getValue().offset()));
    }
  }

  /** A member polling on its own thread, recording each assignment its rebalance listener is given. */
  private static final class Member implements Runnable {
    final KafkaConsumer<String, String> consumer;
    final String topic;
    final AtomicBoolean running = new AtomicBoolean(true);
    volatile Set<Integer> assigned = Set.of();
    final Map<String, String> records = new ConcurrentHashMap<>();
    final Thread thread = new Thread(this);

    Member(Properties props, String topic) {
      this.consumer = new KafkaConsumer<>(props);
      this.topic = topic;
    }

    @Override
    public void run() {
      consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          consumer.commitSync();
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          assigned = consumer.assignment().stream().map(TopicPartition::partition).collect(Collectors.toCollection(TreeSet::new));
        }
      });
      while (running.get()) {
        for (ConsumerRecord<String, String> record : consumer.poll(POLL)) records.put(record.key(), record.value());
        consumer.commitSync();
        assigned = consumer.assignment().stream().map(TopicPartition::partition).collect(Collectors.toCollection(TreeSet::new));
      }
      consumer.close();
    }
  }

  private static void waitUntil(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.currentTimeMillis() + DEADLINE_MS;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) throw new IllegalStateException("timed out waiting for " + what);
      Thread.sleep(20);
    }
  }

  private static void group(String bootstrap, String topic, String group, int count) throws Exception {
    Member first = new Member(consumerProps(bootstrap, group, "first"), topic);
    first.thread.start();
    waitUntil("the first member's assignment", () -> first.assigned.size() == 4);
    out("first-alone", first.assigned);

    Member second = new Member(consumerProps(bootstrap, group, "second"), topic);
    second.thread.start();
    waitUntil("the split between two members", () -> !second.assigned.isEmpty() && first.assigned.size() + second.assigned.size() == 4
        && first.assigned.stream().noneMatch(second.assigned::contains));
    out("first-shared", first.assigned);
    out("second-shared", second.assigned);

    try (Admin admin = admin(bootstrap)) {
      ConsumerGroupDescription described = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
      out("members", described.members().size());
      out("state", described.groupState());
    }

    second.running.set(false);
    second.thread.join();
    waitUntil("the first member taking every partition back", () -> first.assigned.size() == 4);
    out("first-after-leave", first.assigned);
    waitUntil("every record", () -> {
      Set<String> union = new TreeSet<>(first.records.keySet());
      union.addAll(second.records.keySet());
      return union.size() >= count;
    });
    first.running.set(false);
    first.thread.join();
    Set<String> keys = new TreeSet<>(first.records.keySet());
    keys.addAll(second.records.keySet());
    out("keys", keys.size());
  }

  private static Admin admin(String bootstrap) {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    return Admin.create(props);
  }

  private static void admin(String bootstrap, String topic) throws Exception {
    try (Admin admin = admin(bootstrap)) {
      DescribeClusterResult cluster = admin.describeCluster();
      out("cluster-nodes", cluster.nodes().get().size());
      out("cluster-controller", cluster.controller().get().id());

      admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1).configs(Map.of("retention.ms", "3600000")))).all().get();
      out("created", topic);
      try {
        admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        out("create-again", "ok");
      } catch (java.util.concurrent.ExecutionException e) {
        out("create-again", e.getCause().getClass().getSimpleName());
      }
      out("listed", admin.listTopics().names().get().contains(topic));
      TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
      out("partitions", description.partitions().size());
      out("leader", description.partitions().get(0).leader().id());

      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
      out("retention.ms", config.get("retention.ms").value());
      admin.incrementalAlterConfigs(Map.of(resource, List.of(
          new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET),
          new AlterConfigOp(new ConfigEntry("max.message.bytes", "500000"), AlterConfigOp.OpType.SET)))).all().get();
      Config altered = admin.describeConfigs(List.of(resource)).all().get().get(resource);
      out("altered.retention.ms", altered.get("retention.ms").value());
      out("altered.max.message.bytes", altered.get("max.message.bytes").value());
      admin.incrementalAlterConfigs(Map.of(resource, List.of(
          new AlterConfigOp(new ConfigEntry("max.message.bytes", ""), AlterConfigOp.OpType.DELETE)))).all().get();
      ConfigEntry reverted = admin.describeConfigs(List.of(resource)).all().get().get(resource).get("max.message.bytes");
      out("reverted.max.message.bytes.default", reverted.isDefault());

      admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get();
      out("grown", admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size());

      // Ten records on partition 0, with timestamps a second apart, for the offset look-ups.
      Properties props = new Properties();
      props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      long base = System.currentTimeMillis() - 60_000;
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
        for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>(topic, 0, base + i * 1000L, "k" + i, "v" + i)).get();
      }
      TopicPartition p0 = new TopicPartition(topic, 0);
      out("earliest", admin.listOffsets(Map.of(p0, OffsetSpec.earliest())).all().get().get(p0).offset());
      out("latest", admin.listOffsets(Map.of(p0, OffsetSpec.latest())).all().get().get(p0).offset());
      ListOffsetsResult.ListOffsetsResultInfo byTime = admin.listOffsets(Map.of(p0, OffsetSpec.forTimestamp(base + 4500))).all().get().get(p0);
      out("for-timestamp", byTime.offset());
      out("max-timestamp", admin.listOffsets(Map.of(p0, OffsetSpec.maxTimestamp())).all().get().get(p0).offset());

      admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(3))).all().get();
      out("after-delete-earliest", admin.listOffsets(Map.of(p0, OffsetSpec.earliest())).all().get().get(p0).offset());

      // A group with a committed offset, for the group listings.
      String group = topic + "-group";
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(bootstrap, group, "admin"))) {
        consumer.subscribe(List.of(topic));
        int seen = 0;
        long deadline = System.currentTimeMillis() + DEADLINE_MS;
        while (seen < 7) {
          if (System.currentTimeMillis() > deadline) throw new IllegalStateException("only " + seen + " records arrived");
          seen += consumer.poll(POLL).count();
        }
        consumer.commitSync();
      }
      Collection<GroupListing> groups = admin.listGroups().all().get();
      out("group-listed", groups.stream().anyMatch(g -> g.groupId().equals(group)));
      out("group-type", groups.stream().filter(g -> g.groupId().equals(group)).findFirst().map(g -> g.type().map(Object::toString).orElse("unknown")).orElse("none"));
      ConsumerGroupDescription described = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
      out("group-state", described.groupState());
      out("group-members", described.members().size());
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      out("group-offset-p0", offsets.get(p0).offset());
      admin.deleteConsumerGroups(List.of(group)).all().get();
      out("group-deleted", admin.listGroups().all().get().stream().noneMatch(g -> g.groupId().equals(group)));

      admin.deleteTopics(List.of(topic)).all().get();
      long deadline = System.currentTimeMillis() + DEADLINE_MS;
      while (admin.listTopics().names().get().contains(topic)) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("topic still listed after delete");
        Thread.sleep(50);
      }
      out("deleted", topic);
    }
  }
}
