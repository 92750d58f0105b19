/**
 * Conformance of the schema registry with the clients services use: @kafkajs/confluent-schema-registry (the
 * Node client, driven here in-process) and confluent-kafka's SchemaRegistryClient (Python, Debian's
 * python3-confluent-kafka, run by ./python/registry_confluent_client.py, which also has Apache avro parse
 * the schemas the registry serves). Each test starts its own registry in a temp dir.
 */
import { uniqueName } from '@shoal/testing';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { startTestRegistry, testSchemas } from '@shoal/schema-registry/testing';
import { PYTHON, processReport, pythonModulesMissingReason, runProcess } from './client-processes.js';

const SCRIPT_DIR = fileURLToPath(new URL('./python/', import.meta.url));
const SCRIPT_DEADLINE_S = 30;
const SCRIPT_TIMEOUT_MS = (SCRIPT_DEADLINE_S + 10) * 1000;

const { money, moneyAsString, orderPlaced } = testSchemas;

describe('@kafkajs/confluent-schema-registry', () => {
  it('registers with references, encodes, decodes and finds ids', async () => {
    const registry = await startTestRegistry();
    const client = new SchemaRegistry({ host: registry.url }, { [SchemaType.AVRO]: {} });
    const moneySubject = 'shoal.common.Money';
    const orderSubject = 'orders.order-shoal.orders.OrderPlaced';

    const { id: moneyId } = await client.register({ type: SchemaType.AVRO, schema: money }, { subject: moneySubject });
    const references = [{ name: 'shoal.common.Money', subject: moneySubject, version: 1 }];
    const { id: orderId } = await client.register({ type: SchemaType.AVRO, schema: orderPlaced, references }, { subject: orderSubject });
    expect(orderId).not.toBe(moneyId);
    // The client sets the subject's level it asked for (BACKWARD) on first registration.
    expect(await (await fetch(`${registry.url}/config/${orderSubject}`)).json()).toEqual({ compatibilityLevel: 'BACKWARD' });

    const event = { orderId: 'o-1', total: { amount: 1999, currency: 'EUR' } };
    const encoded = await client.encode(orderId, event);
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(orderId);
    // A second client has nothing cached: it fetches the schema and its reference by id.
    const reader = new SchemaRegistry({ host: registry.url });
    expect(await reader.decode(encoded)).toEqual(event);

    expect(await reader.getLatestSchemaId(orderSubject)).toBe(orderId);
    expect(await reader.getRegistryIdBySchema(moneySubject, { type: SchemaType.AVRO, schema: money })).toBe(moneyId);
    expect(await reader.getRegistryId(moneySubject, 1)).toBe(moneyId);
    expect(((await reader.getSchema(moneyId)) as { name?: string }).name).toBe('shoal.common.Money');
  });

  it('surfaces an incompatible registration as a 409 with the reasons', async () => {
    const registry = await startTestRegistry();
    const client = new SchemaRegistry({ host: registry.url });
    await client.register({ type: SchemaType.AVRO, schema: money }, { subject: 'money' });
    const refused = await client.register({ type: SchemaType.AVRO, schema: moneyAsString }, { subject: 'money' }).then(
      () => undefined,
      (error: unknown) => error as Error & { status?: number },
    );
    expect(refused?.status).toBe(409);
    expect(refused?.message).toContain('Schema being registered is incompatible with an earlier schema for subject "money"');
    expect(await client.getLatestSchemaId('money')).toBe(1);
  });
});

const missingPython = pythonModulesMissingReason(['confluent_kafka.schema_registry', 'avro.schema', 'requests']);
if (missingPython) console.warn(`skipping the Python schema registry client test: ${missingPython}`);

interface PythonRegistered {
  id: number;
  subject: string;
  version: number;
  schema: string;
  type: string;
}

interface PythonRun {
  moneyId: number;
  againId: number;
  orderId: number;
  evolvedId: number;
  byId: { schema: string; type: string; references: { name: string; subject: string; version: number }[] };
  lookedUp: PythonRegistered;
  latest: PythonRegistered;
  first: PythonRegistered;
  apacheAvroFields: string[];
  subjects: string[];
  compatibility: Record<string, unknown>;
  errors: Record<string, [number, number] | null>;
  versionsBefore: number[];
  deletedVersion: number;
  versionsAfter: number[];
  deletedSubject: number[];
  subjectsAfter: string[];
}

describe.skipIf(missingPython !== null)('confluent-kafka SchemaRegistryClient (Python)', () => {
  it('registers, reads back, checks compatibility, tells errors apart and deletes', async () => {
    const registry = await startTestRegistry();
    const prefix = `${uniqueName('py')}-`;
    const result = await runProcess(PYTHON, ['-u', `${SCRIPT_DIR}registry_confluent_client.py`, registry.url, prefix, String(SCRIPT_DEADLINE_S)], {
      timeoutMs: SCRIPT_TIMEOUT_MS,
      // No user site-packages: only Debian's client packages are under test. No proxy for the local registry.
      env: { ...process.env, PYTHONNOUSERSITE: '1', PYTHONDONTWRITEBYTECODE: '1', NO_PROXY: '127.0.0.1,localhost' },
    });
    const lastLine = result.stdout.toString('utf8').trim().split('\n').at(-1) ?? '';
    let run: PythonRun & { ok: boolean; error?: string };
    try {
      run = JSON.parse(lastLine) as PythonRun & { ok: boolean; error?: string };
    } catch {
      throw new Error(`the script printed no JSON result:\n${processReport(result)}`);
    }
    expect(run.ok, `${run.error}\n${processReport(result)}`).toBe(true);

    const moneySubject = `${prefix}shoal.common.Money`;
    const orderSubject = `${prefix}orders.order-shoal.orders.OrderPlaced`;
    expect(run.againId).toBe(run.moneyId);
    expect(run.orderId).not.toBe(run.moneyId);
    expect(run.byId.type).toBe('AVRO');
    expect(run.byId.references).toEqual([{ name: 'shoal.common.Money', subject: moneySubject, version: 1 }]);
    expect(JSON.parse(run.byId.schema)).toMatchObject({ type: 'record', name: 'shoal.orders.OrderPlaced' });
    expect(run.lookedUp).toMatchObject({ id: run.orderId, subject: orderSubject, version: 1, type: 'AVRO' });
    expect(run.latest).toMatchObject({ id: run.moneyId, subject: moneySubject, version: 1 });
    expect(run.first).toEqual(run.latest);
    expect(run.apacheAvroFields).toEqual(['orderId', 'total']);
    expect(run.subjects).toEqual(expect.arrayContaining([moneySubject, orderSubject]));

    expect(run.compatibility).toEqual({
      globalBefore: 'BACKWARD',
      set: { compatibility: 'FULL' },
      subject: 'FULL',
      missing: [404, 40408],
      compatibleLatest: true,
      incompatibleLatest: false,
      incompatibleV1: false,
    });
    expect(run.errors).toEqual({
      incompatible: [409, 409],
      invalid: [422, 42201],
      protobuf: [422, 42201],
      missingReference: [422, 42201],
      unknownId: [404, 40403],
      unknownSubject: [404, 40401],
      deleteReferenced: [422, 42206],
    });

    expect(run.evolvedId).toBeGreaterThan(run.orderId);
    expect(run.versionsBefore).toEqual([1, 2]);
    expect(run.deletedVersion).toBe(2);
    expect(run.versionsAfter).toEqual([1]);
    expect(run.deletedSubject).toEqual([1, 2]);
    expect(run.subjectsAfter).not.toContain(`${prefix}scratch`);
  });
});
