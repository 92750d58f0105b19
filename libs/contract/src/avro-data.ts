/**
 * Event data against its Avro schema: which fields are wrong and why, in terms of the data's own shape,
 * e.g. `data.lines[0].quantity: expected int, got "two"`.
 */
import avsc from 'avsc';
import type { Type, types } from 'avsc';
import { ShoalError } from '@shoal/core';
import { describeValue } from './event-validation.js';

const { ArrayType, EnumType, LogicalType, MapType, RecordType, UnwrappedUnionType, WrappedUnionType } = avsc.types;

export interface DataProblem {
  /** `data.lines[0].quantity` */
  path: string;
  expected: string;
  got: string;
}

/** Every place where `value` breaks `type`; empty when it is valid. */
export function dataProblems(type: Type, value: unknown): DataProblem[] {
  const problems: DataProblem[] = [];
  type.isValid(value, {
    errorHook: (path, found, at) => problems.push({ path: formatPath(type, path), expected: describeType(at), got: describeValue(found) }),
  });
  return problems;
}

/** SHOAL_EVENT_DATA_INVALID for `value`, which does not match `type`; `cause` is avsc's own error if it threw one. */
export function dataInvalid(eventType: string, type: Type, value: unknown, cause?: unknown): ShoalError {
  const problems = dataProblems(type, value);
  const listed =
    problems.length > 0
      ? problems.map((p) => `${p.path}: expected ${p.expected}, got ${p.got}`).join('; ')
      : `data: ${(cause as Error | undefined)?.message ?? 'rejected by the schema'}`;
  return new ShoalError('SHOAL_EVENT_DATA_INVALID', `${eventType} data does not match its schema ${type.name ?? type.typeName}: ${listed}`, {
    cause,
    retriable: false,
    details: { type: eventType, problems },
  });
}

/** avsc reports a path as field names, array indexes and map keys; the type tells which is which. */
function formatPath(root: Type, path: readonly string[]): string {
  let text = 'data';
  let at: Type | undefined = root;
  for (const segment of path) {
    if (at instanceof WrappedUnionType) {
      // The segment is the key naming the branch, as in `{"shoal.payments.Card": {...}}`.
      text += `[${JSON.stringify(segment)}]`;
      at = (at as types.WrappedUnionType).types.find((branch) => branch.branchName === segment);
      continue;
    }
    at = at === undefined ? undefined : concrete(at, segment);
    if (at instanceof RecordType) {
      text += `.${segment}`;
      at = (at as types.RecordType).field(segment)?.type;
    } else if (at instanceof ArrayType) {
      text += `[${segment}]`;
      at = (at as types.ArrayType).itemsType;
    } else if (at instanceof MapType) {
      text += `[${JSON.stringify(segment)}]`;
      at = (at as types.MapType).valuesType as Type;
    } else {
      text += `.${segment}`;
      at = undefined;
    }
  }
  return text;
}

/** Through unwrapped unions and logical types to the type a path segment can step into. */
function concrete(type: Type, segment: string): Type {
  if (type instanceof UnwrappedUnionType) {
    const branches = (type as types.UnwrappedUnionType).types;
    return branches.find((branch) => (branch instanceof RecordType ? (branch as types.RecordType).field(segment) !== undefined : branch.typeName !== 'null')) ?? type;
  }
  if (type instanceof LogicalType) return (type as types.LogicalType).underlyingType;
  return type;
}

/**
 * `int`, `record shoal.common.Money`, `enum shoal.orders.Reason (A | B)`, `null | string`, `array`, and a
 * wrapped union as the shapes its values take: `null | {"shoal.payments.Card": …} | {"long": …}`.
 */
export function describeType(type: Type): string {
  if (type instanceof UnwrappedUnionType) {
    return (type as types.UnwrappedUnionType).types.map((branch) => branch.name ?? branch.typeName).join(' | ');
  }
  if (type instanceof WrappedUnionType) {
    return (type as types.WrappedUnionType).types
      .map((branch) => (branch.typeName === 'null' ? 'null' : `{${JSON.stringify(branch.branchName)}: …}`))
      .join(' | ');
  }
  if (type instanceof EnumType) return `enum ${type.name} (${(type as types.EnumType).symbols.join(' | ')})`;
  if (type.name !== undefined) return `${type.typeName} ${type.name}`;
  return type.typeName;
}
