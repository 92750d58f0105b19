import { describe, expect, it } from 'vitest';
import { isShoalError } from '@shoal/core';
import { defineProjection, handlersByType, type ProjectionDefinition } from './projection.js';

const valid: ProjectionDefinition = {
  name: 'order-view',
  version: 3,
  topics: ['orders.order', 'payments.payment'],
  migrate: () => undefined,
  handlers: { 'shoal.orders.OrderPlaced': () => undefined },
};

function refusal(definition: Partial<ProjectionDefinition> & Record<string, unknown>): string {
  try {
    defineProjection({ ...valid, ...definition } as ProjectionDefinition);
  } catch (error) {
    if (isShoalError(error, 'SHOAL_CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error('the definition was accepted');
}

describe('defineProjection', () => {
  it('freezes a valid definition', () => {
    const projection = defineProjection(valid);
    expect(projection).toMatchObject({ name: 'order-view', version: 3, topics: ['orders.order', 'payments.payment'] });
    expect(Object.isFrozen(projection)).toBe(true);
    expect(Object.isFrozen(projection.topics)).toBe(true);
    expect(Object.isFrozen(projection.handlers)).toBe(true);
    expect([...handlersByType(projection).keys()]).toEqual(['shoal.orders.OrderPlaced']);
  });

  it.each([
    [{ name: 'Order View' }, 'the name must be lower-case'],
    [{ name: 'orders.view' }, 'the name must be lower-case'],
    [{ version: 0 }, 'version must be a positive integer'],
    [{ version: 1.5 }, 'version must be a positive integer'],
    [{ topics: [] }, 'topics must name at least one topic'],
    [{ topics: ['orders order'] }, 'is not a Kafka topic name'],
    [{ topics: ['orders.order', 'orders.order'] }, 'topics has duplicates'],
    [{ migrate: 'CREATE TABLE x (y)' }, 'migrate must be a function'],
    [{ handlers: {} }, 'at least one event type'],
    [{ handlers: { 'shoal.orders.OrderPlaced': 'nope' } }, 'the handler of shoal.orders.OrderPlaced is not a function'],
  ])('refuses %j', (definition, problem) => {
    expect(refusal(definition as Record<string, unknown>)).toContain(problem);
  });

  it('dispatches on own keys only', () => {
    const byType = handlersByType(defineProjection(valid));
    expect(byType.get('constructor')).toBeUndefined();
    expect(byType.get('toString')).toBeUndefined();
  });
});
