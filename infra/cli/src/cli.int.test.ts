import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { kafkaFor } from '@shoal/broker/testing';
import { tempDir } from '@shoal/testing';

const bin = join(dirname(fileURLToPath(import.meta.url)), '../bin/shoal.js');


describe('shoal CLI', () => {
  it('prints usage and rejects unknown commands and bad flags with clear errors', () => {
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('broker');
    const unknown = spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const badPort = spawnSync(process.execPath, [bin, 'broker', '--port', 'abc'], { encoding: 'utf8' });
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toContain("--port expects an integer, got 'abc'");
    const badFlag = spawnSync(process.execPath, [bin, 'broker', '--colour'], { encoding: 'utf8' });
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toContain('--colour');
  });

  it('names the port and the flag when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => void blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const result = spawnSync(process.execPath, [bin, 'broker', '--port', String(port), '--data-dir', tempDir()], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(result.stdout + result.stderr).toContain('--port');
  });

  it('starts the broker, logs one listening line and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'broker', '--port', '0', '--data-dir', tempDir()], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => void child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => output.includes('Shoal broker listening') && resolve());
      child.once('exit', (code) => reject(new Error(`broker exited early with ${code}: ${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.match(/Shoal broker listening/g)).toHaveLength(1);
    expect(output).toContain('broker stopped');
  });
});

describe('shoal registry', () => {
  it('serves the registry API on the port it logs and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'registry', '--port', '0', '--data-dir', tempDir()], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => void child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const match = /Shoal schema registry listening on (http:\/\/[\d.]+:\d+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`registry exited early with ${code}: ${output}`)));
    });
    const response = await fetch(`${url}/schemas/types`);
    expect(response.headers.get('content-type')).toContain('application/vnd.schemaregistry.v1+json');
    expect(await response.json()).toEqual(['AVRO']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('rejects an unknown compatibility level with the accepted ones', () => {
    const result = spawnSync(process.execPath, [bin, 'registry', '--default-compatibility', 'SIDEWAYS', '--data-dir', tempDir()], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--default-compatibility expects one of NONE, BACKWARD");
    expect(result.stderr).toContain("got 'SIDEWAYS'");
  });
});

describe('shoal dev', () => {
  /** Starts `shoal dev` on free ports and resolves with its banner's addresses once it says it is ready. */
  async function startDev(dataDir: string) {
    const child = spawn(process.execPath, [bin, 'dev', '--no-services', '--data-dir', dataDir, '--broker-port', '0', '--registry-port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => void child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => output.includes('Ctrl-C stops everything') && resolve());
      child.once('exit', (code) => reject(new Error(`shoal dev exited early with ${code}: ${output}`)));
    });
    const bootstrap = /Kafka broker\s+(\S+)/.exec(output)?.[1];
    const registry = /Schema registry\s+(\S+)/.exec(output)?.[1];
    return { child, output, bootstrap: bootstrap!, registry: registry! };
  }

  it('starts broker and registry, registers the schemas, creates the topics, and restarts on the same data', async () => {
    const dataDir = tempDir();
    const first = await startDev(dataDir);
    expect(first.output.match(/Shoal is ready/g)).toHaveLength(1);
    const subjects = (await (await fetch(`${first.registry}/subjects`)).json()) as string[];
    expect(subjects).toContain('orders.order-shoal.orders.OrderPlaced');
    expect(subjects).toHaveLength(19);
    const admin = kafkaFor(first.bootstrap).admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: ['orders.order', 'payments.payment'] });
    await admin.disconnect();
    expect(metadata.topics.map((t) => t.partitions.length)).toEqual([3, 3]);
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGINT');
    expect(await exited).toBe(0);

    // Same data dir: schemas already there (same ids), topics already there; ready again.
    const second = await startDev(dataDir);
    const again = await (await fetch(`${second.registry}/subjects/orders.order-shoal.orders.OrderPlaced/versions`)).json();
    expect(again).toEqual([1]);
  });

  it('names the port and the flag to change when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => void blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const child = spawn(process.execPath, [bin, 'dev', '--no-services', '--data-dir', tempDir(), '--broker-port', '0', '--registry-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => void child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain(`port ${port} (registry) on 127.0.0.1 is already in use`);
    expect(output).toContain('--registry-port');
    expect(output).not.toContain('Shoal is ready');
  });
});
