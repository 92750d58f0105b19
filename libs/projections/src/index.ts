/**
 * @shoal/projections: read models kept by projectors (docs/reference/projections.md). A
 * projection is a definition (name, version, topics, migrate, synchronous handlers); a Projector keeps its
 * read model in its own SQLite file with the Kafka positions in the same transactions, serves reads,
 * rebuilds it into a shadow file without read downtime, and reports its status. The service host
 * (@shoal/service) exposes projectors over HTTP for `shoal replay`. Projectors consume on @shoal/transport's
 * consumer loop, whose option and status types (ConsumeOptions, RetryOptions, PartitionStatus) they use.
 */
export { defineProjection, prepared, RESERVED_TABLES } from './projection.js';
export type { Projection, ProjectionDefinition, ProjectionHandler, ProjectionHandlers, ProjectionContext, SqliteDatabase } from './projection.js';
export { Projector, projectorDefaults } from './projector.js';
export type { ProjectorOptions, ProjectorState, ProjectionStatus } from './projector.js';
export type { RebuildHandle } from './rebuild.js';
export type { BuildFrom, ReadModelMeta } from './read-model.js';
export type { RebuildProgress, RebuildPartitionProgress, RebuildState, RebuildReason } from './rebuild-progress.js';
export { parseTimestamp } from './parse-timestamp.js';
