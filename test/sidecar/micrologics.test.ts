/**
 * The sidecar's contract from two other languages, against the embedded broker and registry: the Python
 * loyalty service (services/loyalty, with its own sidecar.yaml) and the Go micrologic of test/sidecar/go,
 * each a real process talking HTTP to a real sidecar.
 */
import { describe, it } from 'vitest';
import { startTestPlatform } from '@shoal/contract/testing';
import { goMissing, pythonMissing } from './micrologic-processes.js';
import { goMicrologicContract, loyaltyRules } from './scenarios.js';

describe.skipIf(pythonMissing !== null)('the Python loyalty service behind its sidecar', () => {
  it('awards points on OrderShipped, takes them back on a refund of a shipped order, and answers the balance', async () => loyaltyRules(await startTestPlatform()));
});

describe.skipIf(goMissing !== null)('a Go micrologic behind a sidecar', () => {
  it('reads and writes state with ETags under racing deliveries, answers with events, and publishes safely twice', async () => goMicrologicContract(await startTestPlatform()));
});
