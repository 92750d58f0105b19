import { describe, expect, it } from 'vitest';
import { COMPATIBILITY_LEVELS, compatibilityMessages, parseAvroSchema, readerCanReadWriter, type CompatibilityLevel } from './index.js';

const parse = (schema: unknown) => parseAvroSchema({ schema: JSON.stringify(schema) });

const NAME = 'shoal.test.Thing';
const record = (fields: unknown[], extra: object = {}) => ({ type: 'record', name: NAME, ...extra, fields });
const field = (name: string, type: unknown, extra: object = {}) => ({ name, type, ...extra });
const color = (symbols: string[], extra: object = {}) => ({ type: 'enum', name: 'shoal.test.Color', symbols, ...extra });
const address = (fields: unknown[]) => record([field('address', { type: 'record', name: 'shoal.test.Address', fields })]);
const hash = (size: number, name = 'shoal.test.Hash') => record([field('hash', { type: 'fixed', name, size })]);
const node = (fields: unknown[]) => ({
  type: 'record',
  name: 'shoal.test.Node',
  fields: [field('value', 'int'), field('next', ['null', 'shoal.test.Node'], { default: null }), ...fields],
});

interface Case {
  name: string;
  /** The registered versions, oldest first. */
  history: readonly unknown[];
  candidate: unknown;
  /** Whether `candidate` may be registered, per level in COMPATIBILITY_LEVELS order. */
  verdicts: readonly boolean[];
}
const Y = true;
const N = false;
const row = (name: string, history: readonly unknown[], candidate: unknown, ...verdicts: boolean[]): Case => ({ name, history, candidate, verdicts });

// prettier-ignore
const CASES: readonly Case[] = [
  //                                                                                                                NONE BACK B_TR FORW F_TR FULL FU_TR
  row('field added with default',            [record([field('a', 'int')])], record([field('a', 'int'), field('b', 'string', { default: '' })]), Y, Y, Y, Y, Y, Y, Y),
  row('field added without default',         [record([field('a', 'int')])], record([field('a', 'int'), field('b', 'string')]),                  Y, N, N, Y, Y, N, N),
  row('field with default removed',          [record([field('a', 'int'), field('b', 'string', { default: '' })])], record([field('a', 'int')]), Y, Y, Y, Y, Y, Y, Y),
  row('field without default removed',       [record([field('a', 'int'), field('b', 'string')])], record([field('a', 'int')]),                  Y, Y, Y, N, N, N, N),
  row('int promoted to long',                [record([field('a', 'int')])], record([field('a', 'long')]),                                       Y, Y, Y, N, N, N, N),
  row('long narrowed to int',                [record([field('a', 'long')])], record([field('a', 'int')]),                                       Y, N, N, Y, Y, N, N),
  row('int promoted to double',              [record([field('a', 'int')])], record([field('a', 'double')]),                                     Y, Y, Y, N, N, N, N),
  row('float promoted to double',            [record([field('a', 'float')])], record([field('a', 'double')]),                                   Y, Y, Y, N, N, N, N),
  row('string to bytes',                     [record([field('a', 'string')])], record([field('a', 'bytes')]),                                   Y, Y, Y, Y, Y, Y, Y),
  row('bytes to string',                     [record([field('a', 'bytes')])], record([field('a', 'string')]),                                   Y, Y, Y, Y, Y, Y, Y),
  row('string to int',                       [record([field('a', 'string')])], record([field('a', 'int')]),                                     Y, N, N, N, N, N, N),
  row('enum symbol added, no enum default',  [record([field('c', color(['RED', 'BLUE']))])], record([field('c', color(['RED', 'BLUE', 'GREEN']))]), Y, Y, Y, N, N, N, N),
  row('enum symbol added, enum default',     [record([field('c', color(['RED', 'BLUE'], { default: 'RED' }))])],
                                             record([field('c', color(['RED', 'BLUE', 'GREEN'], { default: 'RED' }))]),                        Y, Y, Y, Y, Y, Y, Y),
  row('enum symbol removed, no enum default', [record([field('c', color(['RED', 'BLUE']))])], record([field('c', color(['RED']))]),            Y, N, N, Y, Y, N, N),
  row('enum symbol removed, enum default',   [record([field('c', color(['RED', 'BLUE'], { default: 'RED' }))])],
                                             record([field('c', color(['RED'], { default: 'RED' }))]),                                         Y, Y, Y, Y, Y, Y, Y),
  row('union branch added',                  [record([field('a', ['null', 'string'])])], record([field('a', ['null', 'string', 'int'])]),       Y, Y, Y, N, N, N, N),
  row('union branch removed',                [record([field('a', ['null', 'string', 'int'])])], record([field('a', ['null', 'string'])]),       Y, N, N, Y, Y, N, N),
  row('null added to make a field optional', [record([field('a', 'string')])], record([field('a', ['null', 'string'], { default: null })]),     Y, Y, Y, N, N, N, N),
  row('null removed to make a field required', [record([field('a', ['null', 'string'], { default: null })])], record([field('a', 'string')]),   Y, N, N, Y, Y, N, N),
  row('whole record made optional',          [record([field('a', 'int')])], ['null', record([field('a', 'int')])],                              Y, Y, Y, N, N, N, N),
  row('nested record field added with default', [address([field('street', 'string')])],
                                             address([field('street', 'string'), field('zip', 'string', { default: '' })]),                   Y, Y, Y, Y, Y, Y, Y),
  row('nested record field added without default', [address([field('street', 'string')])],
                                             address([field('street', 'string'), field('zip', 'string')]),                                    Y, N, N, Y, Y, N, N),
  row('nested record field type changed',    [address([field('street', 'string')])], address([field('street', 'int')]),                       Y, N, N, N, N, N, N),
  row('record renamed without alias',        [record([field('a', 'int')])], record([field('a', 'int')], { name: 'shoal.test.Other' }),          Y, N, N, N, N, N, N),
  row('record renamed with alias',           [record([field('a', 'int')])], record([field('a', 'int')], { name: 'shoal.test.Other', aliases: [NAME] }), Y, Y, Y, N, N, N, N),
  row('field renamed with alias',            [record([field('a', 'int')])], record([field('b', 'int', { aliases: ['a'] })]),                   Y, Y, Y, N, N, N, N),
  row('field renamed without alias',         [record([field('a', 'int')])], record([field('b', 'int')]),                                        Y, N, N, N, N, N, N),
  row('array items promoted int to long',    [record([field('a', { type: 'array', items: 'int' })])], record([field('a', { type: 'array', items: 'long' })]), Y, Y, Y, N, N, N, N),
  row('array items changed int to string',   [record([field('a', { type: 'array', items: 'int' })])], record([field('a', { type: 'array', items: 'string' })]), Y, N, N, N, N, N, N),
  row('map values changed int to string',    [record([field('a', { type: 'map', values: 'int' })])], record([field('a', { type: 'map', values: 'string' })]), Y, N, N, N, N, N, N),
  row('map values promoted float to double', [record([field('a', { type: 'map', values: 'float' })])], record([field('a', { type: 'map', values: 'double' })]), Y, Y, Y, N, N, N, N),
  row('fixed size changed',                  [hash(16)], hash(32),                                                                             Y, N, N, N, N, N, N),
  row('fixed renamed',                       [hash(16)], hash(16, 'shoal.test.Digest'),                                                        Y, N, N, N, N, N, N),
  row('recursive record gains a field with default', [node([])], node([field('label', 'string', { default: '' })]),                           Y, Y, Y, Y, Y, Y, Y),
  row('recursive record gains a field without default', [node([])], node([field('label', 'string')]),                                         Y, N, N, Y, Y, N, N),
  row('three versions, each step compatible', [record([field('a', 'int')]), record([field('a', 'int'), field('b', 'int', { default: 0 })])],
                                             record([field('a', 'int'), field('b', 'int', { default: 0 }), field('c', 'int', { default: 0 })]), Y, Y, Y, Y, Y, Y, Y),
  // v2 dropped `a`; v3 brings it back as a string: fine next to v2, not next to v1, whose `a` is an int.
  row('field re-added with another type (transitive only)', [record([field('a', 'int')]), record([])],
                                             record([field('a', 'string', { default: '' })]),                                                 Y, Y, N, Y, N, Y, N),
];

const MATRIX = CASES.flatMap(({ name, history, candidate, verdicts }) =>
  COMPATIBILITY_LEVELS.map((level, index) => ({ name, level, history, candidate, compatible: verdicts[index] })),
);

describe('compatibility matrix', () => {
  it('has a verdict for every level of every case', () => {
    for (const { name, verdicts } of CASES) expect(verdicts, name).toHaveLength(COMPATIBILITY_LEVELS.length);
  });

  it.each(MATRIX)('$name, $level: compatible $compatible', ({ level, history, candidate, compatible }) => {
    const messages = compatibilityMessages(level, parse(candidate), history.map(parse));
    if (compatible) expect(messages).toEqual([]);
    else expect(messages).not.toEqual([]);
  });
});

describe('readerCanReadWriter agrees with avsc, which Shoal consumers decode with', () => {
  // Every ordered pair of consecutive versions above, read in both directions.
  const pairs = CASES.flatMap(({ name, history, candidate }) => {
    const versions = [...history, candidate];
    return versions.slice(1).flatMap((newer, index) => [
      { name: `${name} (v${index + 2} reads v${index + 1})`, reader: newer, writer: versions[index] },
      { name: `${name} (v${index + 1} reads v${index + 2})`, reader: versions[index], writer: newer },
    ]);
  });

  it.each(pairs)('$name', ({ reader, writer }) => {
    const readerType = parse(reader).type;
    const writerType = parse(writer).type;
    const messages = readerCanReadWriter(readerType, writerType);
    if (messages.length > 0) {
      expect(() => readerType.createResolver(writerType)).toThrow();
      return;
    }
    const resolver = readerType.createResolver(writerType);
    for (let sample = 0; sample < 20; sample += 1) {
      const written = writerType.random();
      expect(readerType.isValid(readerType.fromBuffer(writerType.toBuffer(written), resolver))).toBe(true);
    }
  });
});

describe('compatibilityMessages', () => {
  const v1 = parse(record([field('a', 'int')]));
  const v2 = parse(record([field('a', 'int'), field('b', 'int', { default: 0 })]));
  const requiredB = parse(record([field('a', 'int'), field('b', 'int')]));
  const withoutA = parse(record([]));

  it('checks nothing under NONE or without previous versions', () => {
    expect(compatibilityMessages('NONE', withoutA, [requiredB])).toEqual([]);
    for (const level of COMPATIBILITY_LEVELS) expect(compatibilityMessages(level, withoutA, [])).toEqual([]);
  });

  it('names the previous version by position and says which side could not read', () => {
    expect(compatibilityMessages('BACKWARD_TRANSITIVE', requiredB, [v1, v2])).toEqual([
      "version 1 (as writer): READER_FIELD_MISSING_DEFAULT_VALUE: field 'b' at /fields/1 has no default value and is missing in the writer schema",
    ]);
    expect(compatibilityMessages('FULL', withoutA, [v1, requiredB])).toEqual([
      "version 2 (as reader): READER_FIELD_MISSING_DEFAULT_VALUE: field 'a' at /fields/0 has no default value and is missing in the writer schema",
      "version 2 (as reader): READER_FIELD_MISSING_DEFAULT_VALUE: field 'b' at /fields/1 has no default value and is missing in the writer schema",
    ]);
  });

  it('checks only the latest version unless transitive', () => {
    const levels: CompatibilityLevel[] = ['BACKWARD', 'FORWARD', 'FULL'];
    for (const level of levels) expect(compatibilityMessages(level, v2, [withoutA, v1]), level).toEqual([]);
    expect(compatibilityMessages('FORWARD_TRANSITIVE', v2, [withoutA, v1])).toEqual([]);
    expect(compatibilityMessages('BACKWARD_TRANSITIVE', v2, [withoutA, v1])).toEqual([
      "version 1 (as writer): READER_FIELD_MISSING_DEFAULT_VALUE: field 'a' at /fields/0 has no default value and is missing in the writer schema",
    ]);
  });
});
