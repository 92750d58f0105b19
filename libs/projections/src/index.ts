/**
 * @shoal/projections: read models kept by projectors (docs/reference/projections.md). A
 * projection is a definition (name, version, topics, migrate, synchronous handlers); a Projector keeps its
 * read model in its own SQLite file with the Kafka positions in the same transactions, serves reads,
 * rebuilds it into a shadow file without read downtime, and reports its status. The service host
 * (@shoal/service) exposes projectors over HTTP for `shoal replay`.
 */
export { defineProjection, prepared, RESERVED_TABLES } from './projection.js';
export type { Projection, ProjectionDefinition, ProjectionHandler, ProjectionHandlers, ProjectionContext, SqliteDatabase } from './projection.js';
export { Projector, projectorDefaults } from './projector.js';
export type { ProjectorOptions, ProjectorState, ProjectionStatus, PartitionStatus, RebuildHandle } from './projector.js';
export type { ConsumerTuning, RetryOptions } from './model-consumer.js';
export type { BuildFrom, ReadModelMeta } from './read-model.js';
export type { RebuildProgress, RebuildPartitionProgress, RebuildState, RebuildReason } from './rebuild-progress.js';
export { parseTimestamp } from './parse-timestamp.js';
