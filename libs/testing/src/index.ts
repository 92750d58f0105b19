/**
 * @shoal/testing: test support shared by every package: temp dirs and unique names that clean up after the
 * calling test. Fixtures of one package (a broker, a registry, a database) stay in that package's
 * `src/testing/`. Never imported by production code.
 */
export { tempDir, uniqueName } from './temp-files.js';
