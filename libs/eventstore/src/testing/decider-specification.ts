/**
 * Given / when / then for deciders (emmett's DeciderSpecification, in a chain):
 *
 *   DeciderSpecification.for(orderDecider)
 *     .given([placed])                         the history, folded with evolve from initialState
 *     .when({ type: 'ConfirmOrder', ... })     the command, decided on that state
 *     .then([confirmed])                       exactly these events, in this order
 *
 * `.thenNothingHappened()` expects no events, `.thenThrows(...)` a domain error. No database and no event
 * store: a decider is pure, so its rules are tested as plain functions and a failure shows a diff of events.
 * Assertions are node's (AssertionError with actual and expected), which every test runner reports.
 */
import { AssertionError, deepStrictEqual } from 'node:assert/strict';
import type { Decider } from '@shoal/core';

type ErrorClass<Err extends Error> = abstract new (...args: never[]) => Err;

export interface DeciderThen<E> {
  /** Decide must return exactly `expected`, in order. */
  then(expected: readonly E[]): void;
  /** Decide must return no events. */
  thenNothingHappened(): void;
  /** Decide must throw; an error class and/or a predicate narrow what it throws. */
  thenThrows(): void;
  thenThrows(check: (error: unknown) => boolean): void;
  thenThrows<Err extends Error>(errorClass: ErrorClass<Err>, check?: (error: Err) => boolean): void;
}

export interface DeciderWhen<C, E> {
  when(command: C): DeciderThen<E>;
}

export interface DeciderGiven<C, E> {
  given(events: readonly E[]): DeciderWhen<C, E>;
}

export const DeciderSpecification = {
  for<S, C, E>(decider: Decider<S, C, E>): DeciderGiven<C, E> {
    return {
      given: (events) => ({
        when: (command) => {
          const decide = () => decider.decide(command, events.reduce(decider.evolve, decider.initialState()));
          return {
            then(expected) {
              deepStrictEqual([...decide()], [...expected]);
            },
            thenNothingHappened() {
              deepStrictEqual([...decide()], []);
            },
            thenThrows(...args: [] | [ErrorClass<Error> | ((error: unknown) => boolean), ((error: never) => boolean)?]) {
              let decided: readonly E[];
              try {
                decided = decide();
              } catch (error) {
                checkThrown(error, args);
                return;
              }
              throw new AssertionError({ message: `Expected decide to throw, it decided ${decided.length} event(s)`, actual: decided, operator: 'thenThrows' });
            },
          };
        },
      }),
    };
  },
};

function checkThrown(error: unknown, args: [] | [ErrorClass<Error> | ((error: unknown) => boolean), ((error: never) => boolean)?]): void {
  const [first, second] = args;
  if (first === undefined) return;
  const check = isErrorClass(first) ? second : first;
  if (isErrorClass(first) && !(error instanceof first)) {
    throw new AssertionError({ message: `Expected decide to throw a ${first.name}, it threw ${String(error)}`, actual: error, expected: first, operator: 'thenThrows' });
  }
  if (check !== undefined && !(check as (error: unknown) => boolean)(error)) {
    throw new AssertionError({ message: `The error decide threw does not match the check: ${String(error)}`, actual: error, operator: 'thenThrows' });
  }
}

function isErrorClass(value: unknown): value is ErrorClass<Error> {
  return typeof value === 'function' && (value === Error || (value as { prototype?: unknown }).prototype instanceof Error);
}
