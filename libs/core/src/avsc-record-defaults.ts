/**
 * Makes avsc 5.7.9 read a record default that leaves out a field whose type is a wrapped union, e.g.
 *
 *   {"name": "payment", "default": {"amount": 0},
 *    "type": {"type": "record", "name": "Payment", "fields": [
 *      {"name": "amount", "type": "long"},
 *      {"name": "method", "type": ["shoal.payments.Card", "shoal.payments.Transfer"], "default": {...}}]}}
 *
 * The default is valid Avro (a field a record default leaves out takes its own default, as Java Avro reads
 * it), but avsc refuses the whole schema: reading the JSON default (`_copy` with `wrap: 2`) it fills the
 * missing field with that field's default as avsc holds it in memory, already wrapped (`{"shoal...Card":
 * {...}}`), and then reads that as JSON again, as a value of the union's first branch, which it is not.
 * Every union is wrapped where the registry parses schemas, and so is every ambiguous one in the codec, so
 * both the registry (infra/schema-registry) and the codec (libs/contract) import this module for its effect.
 *
 * The replacement fills such fields with their default written back as JSON (as avsc itself exports
 * defaults: `coerce: 3, wrap: 3`) before avsc's own `_copy` reads the record, so the value is read once, as
 * JSON, like the rest of the default. Only the reading of defaults (`wrap: 2`) changes. Patching a
 * dependency's prototype is a last resort: avsc has no option for it, and Shoal relies on avsc's schema
 * parsing everywhere else. Applied once, when this module is first imported.
 */
import avsc from 'avsc';

interface CopyOptions {
  wrap?: number;
  coerce?: number;
}

interface Field {
  name: string;
  type: { _copy(value: unknown, options?: CopyOptions): unknown };
  defaultValue(): unknown;
}

const { RecordType } = avsc.types as unknown as {
  RecordType: { prototype: { fields: Field[]; _copy(value: unknown, options?: CopyOptions): unknown } };
};

const readRecord = RecordType.prototype._copy;

RecordType.prototype._copy = function copyRecord(this: { fields: Field[] }, value: unknown, options?: CopyOptions): unknown {
  if (options?.wrap === 2 && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    let completed: Record<string, unknown> | undefined;
    for (const field of this.fields) {
      if ((value as Record<string, unknown>)[field.name] !== undefined) continue;
      const fieldDefault = field.defaultValue();
      if (fieldDefault === undefined) continue;
      completed ??= { ...(value as Record<string, unknown>) };
      completed[field.name] = field.type._copy(fieldDefault, { coerce: 3, wrap: 3 });
    }
    if (completed !== undefined) return readRecord.call(this, completed, options);
  }
  return readRecord.call(this, value, options);
};
