/**
 * `@shoal/broker/protocol`: the Kafka wire primitives and the client side of the APIs kafkajs cannot
 * send, for Shoal tools (the CLI asks brokers for DescribeLogDirs with these). The broker's own request
 * handling is not part of this surface.
 */
export { Reader, ProtocolDecodeError } from './reader.js';
export { Writer, ProtocolEncodeError } from './writer.js';
export { ApiKey } from './api-keys.js';
export { ErrorCode } from './error-codes.js';
export { encodeDescribeLogDirsRequest, decodeDescribeLogDirsResponse } from './messages/describe-log-dirs.js';
export type { DescribeLogDirsRequest, DescribeLogDirsResponse, DescribeLogDirsResult, DescribeLogDirsPartition } from './messages/describe-log-dirs.js';
