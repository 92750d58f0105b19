/**
 * The supervisor against real child processes: a stand-in service (a plain script with the health routes
 * and exit codes of a Shoal service) in a temp dir, so crashes, restarts, timeouts and stubborn children
 * are quick to produce. `test/cli/dev.test.ts` runs the real services.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isShoalError } from '@shoal/core';
import { eventually, freePort, tempDir } from '@shoal/testing';
import { LogPrinter } from './log-lines.js';
import { REPO_ROOT } from './service-discovery.js';
import { ServiceSupervisor } from './service-supervisor.js';
import type { SupervisedService } from './supervised-service.js';

/** FAKE_MODE: ready | never-ready | config (exit 2) | stubborn (ignores SIGTERM). */
const FAKE_SERVICE = `
import { createServer } from 'node:http';
const mode = process.env.FAKE_MODE;
if (mode === 'config') {
  process.stderr.write('fake: FAKE_SETTING is not an integer\\n');
  process.exit(2);
}
const json = (res, status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
createServer((req, res) => {
  if (req.url === '/health/live') return json(res, 200, { status: 'live', pid: process.pid });
  if (mode === 'never-ready') return json(res, 503, { status: 'not_ready', checks: { host: { ok: true, detail: 'running' }, 'subscription:fake': { ok: false, detail: 'lagging 5 events' } } });
  return json(res, 200, { status: 'ready', checks: {} });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log(JSON.stringify({ level: 'info', time: Date.now(), pid: process.pid, msg: 'listening' })));
process.on('SIGTERM', () => {
  if (mode === 'stubborn') return console.log('ignoring SIGTERM');
  console.log(JSON.stringify({ level: 'info', time: Date.now(), msg: 'stopped' }));
  process.exit(0);
});
process.on('disconnect', () => process.exit(0));
`;

/** A supervisor of one stand-in service named `fake`; everything printed goes into `output()`. */
async function superviseFake(mode: string, onReady: (service: SupervisedService) => void = () => undefined) {
  const dir = tempDir('supervisor');
  const main = join(dir, 'fake-service.mjs');
  writeFileSync(main, FAKE_SERVICE);
  let output = '';
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output += chunk.toString('utf8');
      done();
    },
  });
  const printer = new LogPrinter({ names: ['shoal', 'fake'], out, color: false });
  const logger = pino({ base: undefined }, printer.destination('shoal'));
  const port = await freePort();
  const supervisor = new ServiceSupervisor({
    logger,
    services: [
      {
        name: 'fake',
        command: [process.execPath, main],
        url: `http://127.0.0.1:${port}`,
        env: { ...process.env, PORT: String(port), FAKE_MODE: mode },
        cwd: REPO_ROOT,
        printer,
        logger,
        restart: { initialMs: 100, maxMs: 400 },
        pollIntervalMs: 50,
        onReady,
      },
    ],
  });
  onTestFinished(() => supervisor.stop(1_000));
  supervisor.start();
  return { supervisor, service: supervisor.services[0]!, output: () => output };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ServiceSupervisor', () => {
  it('restarts a killed service, reports the crash and the new readiness, and stops it with SIGTERM', async () => {
    const readyPids: number[] = [];
    const { supervisor, service, output } = await superviseFake('ready', (ready) => readyPids.push(ready.pid!));
    expect(await supervisor.whenReady(20_000, new AbortController().signal)).toBe(true);
    const first = service.pid!;
    expect(readyPids).toEqual([first]);
    expect(output()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} fake  INFO  listening$/m);

    process.kill(first, 'SIGKILL');
    await eventually(() => expect(readyPids).toHaveLength(2), 'the restarted service ready');
    expect(readyPids[1]).not.toBe(first);
    expect(service.pid).toBe(readyPids[1]);
    expect(output()).toContain('shoal WARN  fake exited (SIGKILL); restarting in 100 ms');
    expect(output()).toContain('shoal INFO  fake is ready again');

    await supervisor.stop(5_000);
    expect(isAlive(readyPids[1]!)).toBe(false);
    expect(output()).toMatch(/ fake  INFO  stopped$/m);
    // Stopped on purpose: nothing is restarted.
    expect(output().match(/exited/g)).toHaveLength(1);
  });

  it("gives up after the ready timeout, naming the service and only its checks that are not ok", async () => {
    const { supervisor, output } = await superviseFake('never-ready');
    const error = await supervisor.whenReady(1_500, new AbortController().signal).catch((e: unknown) => e);
    expect(isShoalError(error, 'SHOAL_SERVICE_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toBe('fake not ready after 1.5 s (see above; --ready-timeout waits longer)');
    expect(output()).toContain('shoal ERROR fake is not ready after 1.5 s: subscription:fake: lagging 5 events\n');
  });

  it('does not restart a service that refused its configuration (exit code 2), and fails its startup', async () => {
    const { supervisor, output } = await superviseFake('config');
    const error = await supervisor.whenReady(20_000, new AbortController().signal).catch((e: unknown) => e);
    expect((error as Error).message).toBe('fake exited with code 2: it refused its configuration (see its output above); not restarting it');
    expect(output()).toContain(' fake  fake: FAKE_SETTING is not an integer\n');
    // A restart is announced ("restarting in ...") in the same turn as the exit is judged, before its backoff;
    // the failed startup comes from that judgement, so by now a restart would have been announced.
    expect(output()).not.toContain('restarting');
    // stop() returns once the supervision has ended: had a child been started again, it would have been stopped
    // (and said so) first.
    await supervisor.stop(5_000);
    expect(output()).not.toContain('restarting');
    expect(output()).not.toMatch(/ fake  INFO  stopped$/m);
    expect(output().match(/FAKE_SETTING/g)).toHaveLength(1);
  });

  it('kills a service that does not stop within the grace period', async () => {
    const { supervisor, service, output } = await superviseFake('stubborn');
    expect(await supervisor.whenReady(20_000, new AbortController().signal)).toBe(true);
    const pid = service.pid!;
    await supervisor.stop(300);
    expect(isAlive(pid)).toBe(false);
    expect(output()).toContain(' fake  ignoring SIGTERM\n');
    expect(output()).toContain('shoal WARN  fake did not stop within 300 ms: killing it\n');
  });

  it('stops waiting when asked to', async () => {
    const { supervisor } = await superviseFake('never-ready');
    const abort = new AbortController();
    const waiting = supervisor.whenReady(60_000, abort.signal);
    abort.abort();
    expect(await waiting).toBe(false);
  });
});
