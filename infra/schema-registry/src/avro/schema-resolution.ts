import type { Type, types } from 'avsc';

/**
 * Avro schema resolution (specification 1.11.1, "Schema Resolution"): can data written with the writer
 * schema be read with the reader schema? Checked the way Java Avro's SchemaCompatibility (and so Confluent's
 * registry) checks it, answering with one message per problem, `ERROR_TYPE: description`, the location a
 * JSON pointer into the reader schema:
 *
 *   same primitive, or a promotion   int -> long, float, double; long -> float, double; float -> double;
 *                                    string <-> bytes                                      else TYPE_MISMATCH
 *   records, enums, fixed            reader full name or one of its aliases = writer full name   NAME_MISMATCH
 *   record fields                    matched by reader field name or alias; a reader field the writer lacks
 *                                    needs a default                      READER_FIELD_MISSING_DEFAULT_VALUE
 *                                    (a writer field the reader lacks is skipped)
 *   enum symbols                     every writer symbol in the reader, unless the reader enum has a default
 *                                                                                      MISSING_ENUM_SYMBOLS
 *   fixed                            same size                                          FIXED_SIZE_MISMATCH
 *   arrays, maps                     items, values resolved recursively
 *   writer union                     every branch readable by the reader
 *   reader union                     some branch reads the writer type                 MISSING_UNION_BRANCH
 *
 * One rule is avsc's, which is stricter than Java's: a reader field whose name and aliases match two writer
 * fields is AMBIGUOUS_FIELD_ALIAS, since avsc (which Shoal consumers decode with) refuses to resolve it.
 * Logical types are ignored: resolution works on the underlying types.
 */
export function readerCanReadWriter(reader: Type, writer: Type): string[] {
  return new ResolutionCheck()
    .check(reader, writer)
    .incompatibilities.map(({ errorType, path, description }) => `${errorType}: ${description(pointer(path))}`);
}

type IncompatibilityType =
  | 'NAME_MISMATCH'
  | 'FIXED_SIZE_MISMATCH'
  | 'MISSING_ENUM_SYMBOLS'
  | 'READER_FIELD_MISSING_DEFAULT_VALUE'
  | 'TYPE_MISMATCH'
  | 'MISSING_UNION_BRANCH'
  | 'AMBIGUOUS_FIELD_ALIAS';

interface Incompatibility {
  /**
   * The same for every copy of one problem: a named type used in many places is compared once per pair and
   * its problem reported once, at the first place met, not once per route through the schema (which can be
   * exponentially many).
   */
  readonly id: object;
  readonly errorType: IncompatibilityType;
  /** JSON pointer segments into the reader schema, relative to the pair being checked. */
  readonly path: readonly string[];
  readonly description: (at: string) => string;
}

interface Outcome {
  readonly incompatibilities: readonly Incompatibility[];
  /**
   * Depth in the stack of pairs being checked of the shallowest pair this outcome assumed compatible to break
   * a cycle; Infinity when it assumed nothing, which makes it final.
   */
  readonly assumedFrom: number;
}

const COMPATIBLE: Outcome = { incompatibilities: [], assumedFrom: Infinity };

/** For each reader primitive, the writer primitives it reads besides itself. */
const PROMOTIONS: Readonly<Record<string, readonly string[]>> = {
  long: ['int'],
  float: ['int', 'long'],
  double: ['int', 'long', 'float'],
  string: ['bytes'],
  bytes: ['string'],
};

class ResolutionCheck {
  /** Final outcomes by reader and writer: a type shared by many fields is compared once per pair. */
  private readonly settled = new Map<Type, Map<Type, readonly Incompatibility[]>>();
  /** The pairs being compared, outermost first: meeting one again means the schemas are recursive. */
  private readonly stack: { reader: Type; writer: Type }[] = [];

  check(readerType: Type, writerType: Type): Outcome {
    const reader = underlying(readerType);
    const writer = underlying(writerType);
    const settled = this.settled.get(reader)?.get(writer);
    if (settled !== undefined) return { incompatibilities: settled, assumedFrom: Infinity };
    const depth = this.stack.findIndex((pair) => pair.reader === reader && pair.writer === writer);
    // A cycle: the pair is compatible unless something else on the cycle is not (Java Avro reasons alike).
    if (depth >= 0) return { incompatibilities: [], assumedFrom: depth };

    this.stack.push({ reader, writer });
    const outcome = this.compare(reader, writer);
    this.stack.pop();
    if (outcome.assumedFrom < this.stack.length) return outcome;
    let byWriter = this.settled.get(reader);
    if (byWriter === undefined) this.settled.set(reader, (byWriter = new Map()));
    byWriter.set(writer, outcome.incompatibilities);
    return { incompatibilities: outcome.incompatibilities, assumedFrom: Infinity };
  }

  private compare(reader: Type, writer: Type): Outcome {
    const readerKind = kindOf(reader);
    const writerKind = kindOf(writer);
    if (writerKind === 'union') return merge((writer as types.WrappedUnionType).types.map((branch) => this.check(reader, branch)));
    if (readerKind === 'union') return this.readerUnion(reader as types.WrappedUnionType, writer);
    if (readerKind !== writerKind && !PROMOTIONS[readerKind]?.includes(writerKind)) {
      return incompatible('TYPE_MISMATCH', (at) => `reader type ${describe(reader)} at ${at} cannot read writer type ${describe(writer)}`);
    }
    if ((readerKind === 'record' || readerKind === 'enum' || readerKind === 'fixed') && !namesMatch(reader, writer)) {
      return incompatible(
        'NAME_MISMATCH',
        (at) =>
          `reader ${readerKind} '${reader.name}' at ${at} does not match writer ${writerKind} '${writer.name}' ` +
          'by its name or one of its aliases',
      );
    }
    switch (readerKind) {
      case 'record':
        return this.record(reader as types.RecordType, writer as types.RecordType);
      case 'enum':
        return enumSymbols(reader as types.EnumType, writer as types.EnumType);
      case 'fixed':
        return fixedSize(reader as types.FixedType, writer as types.FixedType);
      case 'array':
        return within(['items'], this.check((reader as types.ArrayType).itemsType, (writer as types.ArrayType).itemsType));
      case 'map':
        return within(['values'], this.check((reader as types.MapType).valuesType as Type, (writer as types.MapType).valuesType as Type));
      default:
        return COMPATIBLE;
    }
  }

  private readerUnion(reader: types.WrappedUnionType, writer: Type): Outcome {
    const tried: Outcome[] = [];
    for (const branch of reader.types) {
      const outcome = this.check(branch, writer);
      tried.push(outcome);
      if (outcome.incompatibilities.length === 0) break;
    }
    // The verdict rests on every branch tried, so on their cycle assumptions too.
    const assumedFrom = Math.min(...tried.map((outcome) => outcome.assumedFrom));
    if (tried.some((outcome) => outcome.incompatibilities.length === 0)) return { incompatibilities: [], assumedFrom };
    // A branch of the writer's kind and name is the one meant to read it: its own problems say most.
    const meant = reader.types.findIndex(
      (branch) => kindOf(branch) === kindOf(writer) && (writer.name === undefined || namesMatch(branch, writer)),
    );
    const meantOutcome = tried[meant];
    if (meantOutcome !== undefined) return { ...within([String(meant)], meantOutcome), assumedFrom };
    const missing = incompatible(
      'MISSING_UNION_BRANCH',
      (at) => `reader union at ${at} has no branch that can read writer type ${describe(writer)}`,
    );
    return { ...missing, assumedFrom };
  }

  private record(reader: types.RecordType, writer: types.RecordType): Outcome {
    const writerFields = new Map(writer.fields.map((field) => [field.name, field]));
    return merge(
      reader.fields.map((field, index) => {
        const path = ['fields', String(index)];
        const matches = [...new Set([field.name, ...field.aliases])].filter((name) => writerFields.has(name));
        if (matches.length > 1) {
          return within(
            path,
            incompatible(
              'AMBIGUOUS_FIELD_ALIAS',
              (at) => `field '${field.name}' at ${at} matches several writer fields by its name and aliases: ${matches.join(', ')}`,
            ),
          );
        }
        const writerField = matches[0] === undefined ? undefined : writerFields.get(matches[0]);
        if (writerField === undefined) {
          return field.defaultValue() !== undefined
            ? COMPATIBLE
            : within(
                path,
                incompatible(
                  'READER_FIELD_MISSING_DEFAULT_VALUE',
                  (at) => `field '${field.name}' at ${at} has no default value and is missing in the writer schema`,
                ),
              );
        }
        return within([...path, 'type'], this.check(field.type, writerField.type));
      }),
    );
  }
}

function enumSymbols(reader: types.EnumType, writer: types.EnumType): Outcome {
  const missing = writer.symbols.filter((symbol) => !reader.symbols.includes(symbol));
  // avsc keeps the enum's `default` on the type without declaring it.
  const readerDefault = (reader as types.EnumType & { default?: string }).default;
  if (missing.length === 0 || readerDefault !== undefined) return COMPATIBLE;
  return incompatible(
    'MISSING_ENUM_SYMBOLS',
    (at) => `reader enum '${reader.name}' at ${at} lacks the writer's symbols [${missing.join(', ')}] and has no default`,
  );
}

function fixedSize(reader: types.FixedType, writer: types.FixedType): Outcome {
  if (reader.size === writer.size) return COMPATIBLE;
  return incompatible(
    'FIXED_SIZE_MISMATCH',
    (at) => `reader fixed '${reader.name}' at ${at} has size ${reader.size}, the writer's has size ${writer.size}`,
  );
}

function incompatible(errorType: IncompatibilityType, description: (at: string) => string): Outcome {
  return { incompatibilities: [{ id: {}, errorType, path: [], description }], assumedFrom: Infinity };
}

function within(segments: readonly string[], outcome: Outcome): Outcome {
  if (outcome.incompatibilities.length === 0) return outcome;
  return {
    incompatibilities: outcome.incompatibilities.map((incompatibility) => ({
      ...incompatibility,
      path: [...segments, ...incompatibility.path],
    })),
    assumedFrom: outcome.assumedFrom,
  };
}

function merge(outcomes: readonly Outcome[]): Outcome {
  const seen = new Set<object>();
  return {
    incompatibilities: outcomes
      .flatMap((outcome) => outcome.incompatibilities)
      .filter(({ id }) => {
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      }),
    assumedFrom: Math.min(Infinity, ...outcomes.map((outcome) => outcome.assumedFrom)),
  };
}

/** The type Avro resolution sees: logical types (registered by other avsc users) resolve as their underlying type. */
function underlying(type: Type): Type {
  return type.typeName.startsWith('logical:') ? underlying((type as types.LogicalType).underlyingType) : type;
}

function kindOf(type: Type): string {
  const name = type.typeName;
  if (name === 'error') return 'record';
  if (name === 'abstract:long') return 'long';
  return name.startsWith('union:') ? 'union' : name;
}

function namesMatch(reader: Type, writer: Type): boolean {
  return reader.name === writer.name || (writer.name !== undefined && (reader.aliases ?? []).includes(writer.name));
}

function describe(type: Type): string {
  const kind = kindOf(type);
  return type.name === undefined ? `'${kind}'` : `'${type.name}' (${kind})`;
}

function pointer(path: readonly string[]): string {
  return `/${path.join('/')}`;
}
