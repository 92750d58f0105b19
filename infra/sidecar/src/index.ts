/**
 * @shoal/sidecar: the sidecar that lets a service in any language take part in the choreography
 * (docs/reference/sidecar.md, docs/writing-a-service-in-another-language.md). Its micrologic talks HTTP and
 * CloudEvents; the sidecar gives it the outbox, the inbox, retries, dead letters and state, on the consumer
 * runtime and the service host like every TypeScript service. `shoal sidecar --config <file>` runs it.
 */
export { buildSidecar } from './sidecar.js';
export type { Sidecar, BuildSidecarOptions } from './sidecar.js';
export { loadSidecarConfig, readSidecarDeclaration, checkDeclaration, sidecarConfigSpec, withEnvironment, durationMs, sidecarDefaults, APP_VARIABLE } from './sidecar-config.js';
export type { SidecarConfig, SidecarDeclaration, SidecarSubscription, SidecarTimer, SidecarRetries, SidecarHostConfig } from './sidecar-config.js';
export { runSidecar } from './run-sidecar.js';
export { TIMER_FIRED_TYPE } from './timers.js';
export type { TimerData } from './timers.js';
export { STRUCTURED_TYPE, BATCH_TYPE, MAX_BATCH_EVENTS } from './publish-routes.js';
export { binaryHeaders } from './micrologic-client.js';
