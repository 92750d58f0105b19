import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type avsc from 'avsc';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { isShoalError } from '@shoal/core';
import { schemaCatalogFromFiles } from '../catalog/index.js';
import { fixtureSchemaFiles } from '../testing/schema-folder.js';
import { generateTypeScript } from './typescript-codegen.js';

const kind = { type: 'enum', name: 'Kind', doc: 'Kind of probe.', symbols: ['SOIL', 'WATER'], default: 'SOIL' };

/** A catalog using every Avro construct the generator handles. */
function everyConstructFiles(): Map<string, string> {
  const files: Record<string, unknown> = {
    'manifest.json': {
      compatibility: 'BACKWARD_TRANSITIVE',
      topics: {
        'lab.sample': { owner: 'lab', partitions: 1, key: 'sampleId', events: ['shoal.lab.SampleTaken', 'shoal.lab.SampleLost'] },
        'lab.probe': { owner: 'lab', partitions: 1, key: 'probeId', events: ['shoal.lab.ProbeCalibrated'] },
      },
    },
    'common/Quantity.avsc': {
      type: 'record',
      name: 'Quantity',
      namespace: 'shoal.common',
      doc: 'A measured amount with its unit. This doc is long enough to be wrapped over several lines of the JSDoc block, and it closes a comment */ on purpose.',
      fields: [
        { name: 'value', type: 'double', doc: 'The amount.' },
        { name: 'unit', type: 'string' },
      ],
    },
    'lab/SampleTaken.avsc': {
      type: 'record',
      name: 'SampleTaken',
      namespace: 'shoal.lab',
      doc: 'A sample was taken.',
      fields: [
        { name: 'sampleId', type: 'string', doc: 'The sample.' },
        { name: 'valid', type: 'boolean' },
        { name: 'count', type: 'int' },
        { name: 'total', type: 'long' },
        { name: 'ratio', type: 'float' },
        { name: 'score', type: 'double' },
        { name: 'payload', type: 'bytes' },
        { name: 'nothing', type: 'null' },
        { name: 'takenAt', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'When.' },
        { name: 'quantity', type: 'shoal.common.Quantity' },
        { name: 'estimate', type: ['null', 'shoal.common.Quantity'], default: null, doc: 'Maybe.' },
        { name: 'label', type: ['null', 'string', 'int'], default: null },
        { name: 'tags', type: { type: 'array', items: 'string' } },
        { name: 'readings', type: { type: 'array', items: ['null', 'double'] } },
        { name: 'matrix', type: { type: 'array', items: { type: 'array', items: 'int' } } },
        { name: 'attributes', type: { type: 'map', values: 'string' } },
        {
          name: 'probe',
          doc: 'The probe used.',
          type: {
            type: 'record',
            name: 'Probe',
            doc: 'A probe.',
            fields: [
              { name: 'probeId', type: 'string' },
              { name: 'digest', type: { type: 'fixed', name: 'Digest', size: 16 } },
              { name: 'kind', type: kind, default: 'SOIL' },
            ],
          },
        },
        { name: 'spares', type: { type: 'map', values: 'Probe' } },
        { name: 'holder', type: ['null', 'Probe', { type: 'record', name: 'Lab', fields: [{ name: 'labId', type: 'string' }] }], default: null },
        { name: 'reading', type: ['int', 'long', 'string'] },
        { name: 'series', type: { type: 'array', items: ['float', 'double'] } },
        { name: 'grade', type: ['string', 'Kind'] },
        { name: 'previous', type: ['null', 'SampleTaken'], default: null },
      ],
    },
    'lab/SampleLost.avsc': {
      type: 'record',
      name: 'SampleLost',
      namespace: 'shoal.lab',
      doc: 'A sample was lost.',
      fields: [
        { name: 'sampleId', type: 'string' },
        { name: 'kind', type: kind },
      ],
    },
    'lab/ProbeCalibrated.avsc': {
      type: 'record',
      name: 'ProbeCalibrated',
      namespace: 'shoal.lab',
      doc: 'A probe was calibrated.',
      fields: [{ name: 'probeId', type: 'string' }],
    },
  };
  return new Map(Object.entries(files).map(([path, json]) => [path, JSON.stringify(json)]));
}

/**
 * Type-checks each source as an ES module with the repository's strict settings, in one program (a program
 * costs seconds); returns the diagnostics of each.
 */
function compile(sources: readonly string[]): string[][] {
  const dir = tempDir('codegen');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const files = sources.map((source, i) => {
    const file = join(dir, `events${i}.ts`);
    writeFileSync(file, source);
    return file;
  });
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noUncheckedIndexedAccess: true,
    noUnusedLocals: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    types: ['node'],
    typeRoots: [join(import.meta.dirname, '../../../../node_modules/@types')],
    noEmit: true,
  });
  return files.map((file) =>
    ts
      .getPreEmitDiagnostics(program, program.getSourceFile(file))
      .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')),
  );
}

describe('generateTypeScript', () => {
  it('declares every Avro construct', () => {
    expect(generateTypeScript(schemaCatalogFromFiles(everyConstructFiles()))).toMatchInlineSnapshot(`
      "// Generated from schemas/ by npm run codegen, do not edit.

      /**
       * A measured amount with its unit. This doc is long enough to be wrapped over several lines of the JSDoc
       * block, and it closes a comment *\\/ on purpose.
       */
      export interface Quantity {
        /** The amount. */
        value: number;
        unit: string;
      }

      /** A sample was taken. */
      export interface SampleTaken {
        /** The sample. */
        sampleId: string;
        valid: boolean;
        count: number;
        total: number;
        ratio: number;
        score: number;
        payload: Buffer;
        nothing: null;
        /** When. */
        takenAt: number;
        quantity: Quantity;
        /** Maybe. */
        estimate: Quantity | null;
        label: string | number | null;
        tags: string[];
        readings: (number | null)[];
        matrix: number[][];
        attributes: Record<string, string>;
        /** The probe used. */
        probe: Probe;
        spares: Record<string, Probe>;
        holder: { 'shoal.lab.Probe': Probe } | { 'shoal.lab.Lab': Lab } | null;
        reading: { int: number } | { long: number } | { string: string };
        series: ({ float: number } | { double: number })[];
        grade: { string: string } | { 'shoal.lab.Kind': Kind };
        previous: SampleTaken | null;
      }

      /** A probe. */
      export interface Probe {
        probeId: string;
        digest: Digest;
        kind: Kind;
      }

      /** Exactly 16 bytes. */
      export type Digest = Buffer;

      /** Kind of probe. */
      export type Kind = 'SOIL' | 'WATER';

      export interface Lab {
        labId: string;
      }

      /** A sample was lost. */
      export interface SampleLost {
        sampleId: string;
        kind: Kind;
      }

      /** A probe was calibrated. */
      export interface ProbeCalibrated {
        probeId: string;
      }

      /** The data of every event type, by CloudEvent type (the Avro record full name). */
      export interface ShoalEventDataMap {
        'shoal.lab.SampleTaken': SampleTaken;
        'shoal.lab.SampleLost': SampleLost;
        'shoal.lab.ProbeCalibrated': ProbeCalibrated;
      }

      export type ShoalEventType = keyof ShoalEventDataMap;

      export const SHOAL_EVENT_TYPES = [
        'shoal.lab.SampleTaken',
        'shoal.lab.SampleLost',
        'shoal.lab.ProbeCalibrated',
      ] as const satisfies readonly ShoalEventType[];

      /** The topic each event type is published to. */
      export const EVENT_TOPICS = {
        'shoal.lab.SampleTaken': 'lab.sample',
        'shoal.lab.SampleLost': 'lab.sample',
        'shoal.lab.ProbeCalibrated': 'lab.probe',
      } as const satisfies Record<ShoalEventType, string>;

      export type ShoalTopic = 'lab.sample' | 'lab.probe';
      "
    `);
  });

  it('generates TypeScript that compiles and types event data by event type', () => {
    const catalog = schemaCatalogFromFiles(everyConstructFiles());
    const source = generateTypeScript(catalog);
    const empty = generateTypeScript(schemaCatalogFromFiles(new Map([['manifest.json', '{"compatibility": "FULL", "topics": {}}']])));
    expect(empty).toContain('export type ShoalTopic = never;');
    const usage = `
      const lost: ShoalEventDataMap['shoal.lab.SampleLost'] = { sampleId: 's-1', kind: 'WATER' };
      const topic: ShoalTopic = EVENT_TOPICS['shoal.lab.ProbeCalibrated'];
      const types: readonly ShoalEventType[] = SHOAL_EVENT_TYPES;
      export const used = [lost, topic, types];
    `;
    // The check can fail: a wrong symbol and a missing field are type errors.
    const misuse = `
      export const lost: ShoalEventDataMap['shoal.lab.SampleLost'] = { sampleId: 's-1', kind: 'AIR' };
      export const calibrated: ProbeCalibrated = {};
    `;
    // What the codec decodes for each union is a value of its generated type, wrapped or not.
    const sampleTaken = catalog.avroType('shoal.lab.SampleTaken') as avsc.types.RecordType;
    const decoded = (field: string, value: unknown) => {
      const type = sampleTaken.field(field)!.type;
      return JSON.stringify(type.fromBuffer(type.toBuffer(value)));
    };
    const unions = `
      const holders: SampleTaken['holder'][] = [${decoded('holder', { 'shoal.lab.Lab': { labId: 'l-1' } })}, ${decoded('holder', null)}];
      const readings: SampleTaken['reading'][] = [${decoded('reading', { long: 5 })}, ${decoded('reading', { string: 'high' })}];
      const series: SampleTaken['series'] = ${decoded('series', [{ float: 1.5 }, { double: 2.25 }])};
      const grade: SampleTaken['grade'] = ${decoded('grade', { 'shoal.lab.Kind': 'WATER' })};
      const estimate: SampleTaken['estimate'] = ${decoded('estimate', { value: 1.5, unit: 'g' })};
      export const decoded = [holders, readings, series, grade, estimate];
    `;
    expect(unions).toContain(`{"shoal.lab.Lab":{"labId":"l-1"}}`);
    // An ambiguous union's value must say its branch; a wrapped value where none is needed is an error too.
    const unwrapped = `
      export const holder: SampleTaken['holder'] = { labId: 'l-1' };
      export const reading: SampleTaken['reading'] = 5;
      export const estimate: SampleTaken['estimate'] = { 'shoal.common.Quantity': { value: 1.5, unit: 'g' } };
    `;
    const [valid, used, none, misused, unionsUsed, unwrappedUsed] = compile([source, source + usage, empty, source + misuse, source + unions, source + unwrapped]);
    expect([valid, used, none, unionsUsed]).toEqual([[], [], [], []]);
    expect(misused).toEqual([`Type '"AIR"' is not assignable to type 'Kind'.`, `Property 'probeId' is missing in type '{}' but required in type 'ProbeCalibrated'.`]);
    expect(unwrappedUsed).toHaveLength(3);
    expect(unwrappedUsed?.[0]).toContain(`'labId' does not exist in type '{ 'shoal.lab.Probe': Probe; }`);
    expect(unwrappedUsed?.[1]).toContain(`Type 'number' is not assignable to type '{ int: number; } | { long: number; } | { string: string; }'`);
    expect(unwrappedUsed?.[2]).toContain(`''shoal.common.Quantity'' does not exist in type 'Quantity'`);
  });

  it('fails on two types sharing a simple name', () => {
    const files = fixtureSchemaFiles();
    const paid = JSON.parse(files.get('shop/CartPaid.avsc') ?? '');
    paid.fields.push({ name: 'fee', type: { type: 'record', name: 'Price', fields: [{ name: 'cents', type: 'long' }] } });
    files.set('shop/CartPaid.avsc', JSON.stringify(paid));
    try {
      generateTypeScript(schemaCatalogFromFiles(files));
      expect.unreachable();
    } catch (error) {
      expect(isShoalError(error, 'SHOAL_SCHEMA_INVALID')).toBe(true);
      expect((error as Error).message).toBe(
        'shop/CartPaid.avsc: "shoal.shop.Price" and "shoal.common.Price" (common/Price.avsc) share the simple name "Price", which names their TypeScript type; rename one',
      );
    }
  });

  it('fails on one named type defined differently in two schemas', () => {
    const files = everyConstructFiles();
    const lost = JSON.parse(files.get('lab/SampleLost.avsc') ?? '');
    lost.fields[1].type.symbols = ['SOIL', 'WATER', 'AIR'];
    files.set('lab/SampleLost.avsc', JSON.stringify(lost));
    expect(() => generateTypeScript(schemaCatalogFromFiles(files))).toThrow(
      'lab/SampleLost.avsc: defines "shoal.lab.Kind" differently from lab/SampleTaken.avsc; a type shared by several schemas belongs in common/',
    );
  });
});
