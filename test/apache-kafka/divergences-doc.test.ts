/**
 * docs/broker.md's table of differences from Apache Kafka is the list the differential suite enforces:
 * every entry of divergences.ts has its row, and the table names no entry that is not in the list.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../e2e/support/shoal-dev.js';
import { divergences } from './divergences.js';

describe("docs/broker.md's divergence table", () => {
  it('has a row for every listed divergence, and only for those', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/broker.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Checked against Apache Kafka'), doc.indexOf('## Clients checked against it'));
    const documented = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(divergences.map((d) => d.id).sort());
    for (const divergence of divergences) expect(divergence.reason.length, divergence.id).toBeGreaterThan(40);
  });
});
