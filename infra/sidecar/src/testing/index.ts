/**
 * Test support for the sidecar: `@shoal/sidecar/testing`. A sidecar in the test's process on the test
 * platform, and a micrologic played by the test over real HTTP. Not part of the runtime surface.
 */
export { startTestSidecar } from './sidecar.js';
export type { TestSidecar } from './sidecar.js';
export { startTestMicrologic } from './test-micrologic.js';
export type { TestMicrologic, Delivery, Reply } from './test-micrologic.js';
