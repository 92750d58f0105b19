/**
 * @shoal/projections: read models kept by projectors (docs/reference/projections.md). A projection is a
 * definition (name, version, topics, migrate, handlers) written once for both stores: handlers and reads get
 * Kysely typed by the projection's tables and the raw SqlExecutor of @shoal/store. A Projector keeps its read
 * model with the Kafka positions in the same transactions, in a SQLite file of its own, or, given the
 * service's PostgreSQL database, in a schema of it that every instance of the service shares; it serves
 * reads, rebuilds the model into a shadow without read downtime (one rebuild at a time across instances), and
 * reports its status. The service host (@shoal/service) exposes projectors over HTTP for `shoal replay`.
 * Projectors consume on @shoal/transport's consumer loop, whose option and status types (ConsumeOptions,
 * RetryOptions, PartitionStatus) they use.
 */
export { defineProjection, RESERVED_TABLES } from './projection.js';
export type { Projection, ProjectionDefinition, ProjectionHandler, ProjectionHandlers, ProjectionContext, ModelConnection } from './projection.js';
export { Projector, projectorDefaults } from './projector.js';
export type { ProjectorOptions, ProjectorState, ProjectionStatus } from './projector.js';
export type { RebuildHandle } from './rebuild.js';
export type { BuildFrom, ReadModelMeta } from './read-model.js';
export type { RebuildProgress, RebuildPartitionProgress, RebuildState, RebuildReason } from './rebuild-progress.js';
export { parseTimestamp } from './parse-timestamp.js';
