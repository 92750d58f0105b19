/** A sidecar started in the test's process on the test platform, with its configuration given as an object. */
import { startTestService, type TestService, type TestServiceOptions } from '@shoal/service/testing';
import { checkDeclaration, sidecarConfigSpec, type SidecarHostConfig } from '../sidecar-config.js';
import { buildSidecar, type BuildSidecarOptions, type Sidecar } from '../sidecar.js';
import { startTestPlatform } from '@shoal/contract/testing';

export interface TestSidecar extends TestService<SidecarHostConfig> {
  sidecar: Sidecar;
}

/**
 * The sidecar of `document` (what a config file holds, `port` and `service` filled in when missing) on
 * `options.platform` (default: a new one), on a free port, its files in a temp dir unless `dataDir` is given.
 */
export async function startTestSidecar(
  document: Record<string, unknown>,
  options: TestServiceOptions & { build?: BuildSidecarOptions } = {},
): Promise<TestSidecar> {
  const platform = options.platform ?? (await startTestPlatform());
  const declaration = checkDeclaration({ service: 'loyalty', port: 0, ...document }, platform.catalog, 'the test configuration');
  let sidecar: Sidecar | undefined;
  const service = await startTestService(
    sidecarConfigSpec(declaration),
    async (host) => {
      sidecar = await buildSidecar(host, { ...declaration, app: host.config.app, port: host.config.port }, options.build);
    },
    { ...options, platform },
  );
  return { ...service, sidecar: sidecar! };
}
