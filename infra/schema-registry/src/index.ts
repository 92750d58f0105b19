export { startRegistry, registryDefaults } from './server.js';
export type { RegistryOptions, RunningRegistry } from './server.js';
export { buildRegistryApp, REGISTRY_CONTENT_TYPE } from './app.js';
export type { RegistryAppDeps } from './app.js';
export { Registry } from './registry.js';
export { RegistryStore } from './registry-store.js';
export { RegistryErrorCode } from './registry-errors.js';
export * from './avro/index.js';
