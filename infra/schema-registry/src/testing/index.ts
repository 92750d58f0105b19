/**
 * Test support for any package that needs a real schema registry: `@shoal/schema-registry/testing`.
 * Not part of the runtime surface (it imports vitest).
 */
export { startTestRegistry, testRegistryApp, registryCaller, avroRecord, testSchemas } from './registry.js';
export type { RegistryAnswer } from './registry.js';
