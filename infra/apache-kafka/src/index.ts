/**
 * Apache Kafka for Shoal's tests and benchmarks: the broker users run in production, as a plain JVM process
 * from the jars of pom.xml (Maven Central), with no Docker.
 */
export { KAFKA_VERSION, apacheKafkaMissingReason, kafkaClasspath } from './classpath.js';
export { startApacheKafka, answersApiVersions, type ApacheKafka, type ApacheKafkaOptions } from './kafka-process.js';
export { KafkaTool, runJava, runKafkaTool, runJavaClient, CLIENT_CONFORMANCE_SOURCE, type JavaRun, type JavaRunOptions } from './java-tools.js';
export { WireCodec, type EncodedRequest } from './wire-codec.js';
