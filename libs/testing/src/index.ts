/**
 * @shoal/testing: test support shared by every package, with nothing Shoal-specific in it: temp dirs and
 * unique names that clean up after the calling test, the one poller (`eventually`), free ports, seeded
 * randomness that SHOAL_FUZZ_SEED replays, and kafkajs clients closed at test end with a count of what a
 * topic holds. Fixtures of one package (a broker, a registry, a database) stay in that package's
 * `src/testing/`. Never imported by production code. Benchmarks may import it too: only tempDir,
 * seededRandom and connected need a running test.
 */
export { tempDir, uniqueName } from './temp-files.js';
export { eventually } from './eventually.js';
export type { EventuallyOptions } from './eventually.js';
export { freePort, freePorts } from './ports.js';
export { Random, fuzzSeed, seededRandom } from './random.js';
export { connected, recordsOnTopics } from './kafka-clients.js';
export { recordingLogger } from './recording-logger.js';
export type { LogEntry, RecordingLogger } from './recording-logger.js';
