/**
 * Kafka header values as kafkajs hands them over: a Buffer per header from a consumer, a string or Buffer in
 * a message built by hand, and an array when a key occurs more than once in one record (Kafka allows
 * repeated keys; kafkajs groups them). The Kafka binding says header values are UTF-8 strings.
 */
import type { IHeaders } from 'kafkajs';
import { ShoalError } from '@shoal/core';

export type HeaderValue = IHeaders[string];

/**
 * The text of one header, or undefined when it is absent. A repeated header is accepted only when every
 * occurrence says the same thing: an event with two different ids or types has no single meaning.
 */
export function headerText(name: string, value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return utf8(value);
  if (Array.isArray(value)) {
    let text: string | undefined;
    for (const occurrence of value) {
      const next = typeof occurrence === 'string' ? occurrence : Buffer.isBuffer(occurrence) ? utf8(occurrence) : undefined;
      if (next === undefined) throw headerInvalid(name, `holds a ${typeof occurrence}, expected a string or a Buffer`);
      if (text !== undefined && next !== text) {
        throw headerInvalid(name, `occurs ${value.length} times with different values (${JSON.stringify(text)}, ${JSON.stringify(next)})`);
      }
      text = next;
    }
    return text;
  }
  throw headerInvalid(name, `holds a ${typeof value}, expected a string or a Buffer`);
}

/**
 * `headerText`, but a Buffer holding exactly `expected` yields `expected` without decoding: comparing a few
 * bytes in JavaScript costs less than one call into the native decoder, and some headers hold the same text
 * on most records (ce_specversion and content-type on every Shoal event). `expected` must be ASCII.
 */
export function headerTextExpecting(name: string, value: HeaderValue, expected: string): string | undefined {
  if (Buffer.isBuffer(value) && value.length === expected.length) {
    let same = true;
    for (let i = 0; i < expected.length && same; i++) same = value[i] === expected.charCodeAt(i);
    if (same) return expected;
  }
  return headerText(name, value);
}

/**
 * Buffer#utf8Slice, the decoder behind toString('utf8') without its argument handling, which is half the
 * cost of decoding a short header (profiled with bench/codec.bench.ts). Not in Node's typings, but avsc
 * reads every Avro string through it, so it is as present as our Avro decoding is.
 */
function utf8(value: Buffer): string {
  return (value as unknown as { utf8Slice(start: number, end: number): string }).utf8Slice(0, value.length);
}

function headerInvalid(name: string, problem: string): ShoalError {
  return new ShoalError('SHOAL_EVENT_INVALID', `Kafka header ${name} ${problem}`, { retriable: false, details: { header: name } });
}
