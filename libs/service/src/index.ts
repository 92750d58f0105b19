/**
 * @shoal/service: the service host (docs/reference/service.md). Configuration from the environment, validated once
 * and frozen; one pino root logger with kafkajs's logs bridged into it; the service's database with its
 * outbox relay, its subscriptions and projectors; fastify with problem+json errors, /health/live,
 * /health/ready and /metrics; graceful shutdown. A service's main.ts is `runService(configSpec, build)`.
 */
export { defineServiceConfig, integerSetting, stringSetting, COMMON_VARIABLES, LOG_LEVELS } from './config.js';
export type { ConfigOf, ServiceConfig, ServiceConfigSpec, ServiceConfigDefinition, Setting, SettingsValues, LogLevel, IntegerSettingOptions } from './config.js';
export { createServiceLogger, kafkaLogCreator, kafkaLogLevel } from './logging.js';
export { ServiceHost } from './service-host.js';
export { createServiceApp } from './service-app.js';
export type { ServiceAppOptions } from './service-app.js';
export { projectionAdminRoutes } from './projection-admin-routes.js';
export type { ProjectionAdminOptions } from './projection-admin-routes.js';
export { dlqAdminRoutes } from './dlq-admin-routes.js';
export type { DlqAdminOptions } from './dlq-admin-routes.js';
export type { ServiceHostOptions, ServiceComponent, HostSubscribeOptions } from './service-host.js';
export { runService } from './run-service.js';
export type { RunServiceOptions } from './run-service.js';
export { problemSchema, problemResponses, sendProblem, problemOf, statusOfError, PROBLEM_CONTENT_TYPE } from './problem.js';
export type { Problem } from './problem.js';
export type { Check } from './readiness.js';
export type { ServiceMetrics } from './metrics.js';
export { idSchema, idParams, currencySchema, listLimitSchema, MAX_LIST_LIMIT } from './route-schemas.js';
