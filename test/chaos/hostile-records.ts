/**
 * Hostile variants of valid Shoal records, shared by the fuzz tests of the codec (codec-fuzz.test.ts) and of
 * the runtime that consumes them (runtime-fuzz.test.ts): Avro bytes flipped, cut, extended or replaced,
 * unknown schema ids, header values replaced by random bytes (invalid UTF-8 included), repeated or dropped,
 * and content types switched to structured mode or nonsense.
 */
import type { Random } from '@shoal/testing';

export function mutateValue(random: Random, value: Buffer): Buffer {
  const bytes = Buffer.from(value);
  switch (random.int(0, 5)) {
    case 0: {
      // Flip bytes of the Avro body; the 5-byte header stays, so the writer schema is known.
      for (let n = random.int(1, 4); n > 0; n--) bytes[random.int(Math.min(5, bytes.length - 1), bytes.length - 1)] = random.int(0, 255);
      return bytes;
    }
    case 1:
      return bytes.subarray(0, random.int(0, bytes.length - 1));
    case 2:
      return Buffer.concat([bytes, random.bytes(random.int(1, 8))]);
    case 3:
      bytes[0] = random.int(1, 255);
      return bytes;
    case 4:
      // A schema id the registry may not have (it holds 17).
      bytes.writeUInt32BE(random.int(0, 2 ** 32 - 1), 1);
      return bytes;
    default:
      return random.bytes(random.int(0, 64));
  }
}

export function mutateHeaders(random: Random, headers: Record<string, Buffer>): Record<string, Buffer | Buffer[] | string> {
  const mutated: Record<string, Buffer | Buffer[] | string> = { ...headers };
  const names = Object.keys(headers);
  const name = random.pick([...names, 'ce_Bad-Name', 'ce_', 'ce_x'.repeat(10), 'content-type']);
  switch (random.int(0, 3)) {
    case 0:
      delete mutated[name];
      break;
    case 1:
      mutated[name] = random.bytes(random.int(0, 30));
      break;
    case 2:
      mutated[name] = [random.bytes(3), headers[name] ?? random.bytes(2)];
      break;
    default:
      mutated[name] = random.pick(['', '1.0', '0.3', 'application/cloudevents+json', 'application/cloudevents-batch+json', 'application/json', 'not a time', '2026-13-45T99:99:99Z']);
  }
  return mutated;
}
