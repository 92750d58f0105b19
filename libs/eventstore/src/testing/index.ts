/**
 * Test support for event-sourced code: `@shoal/eventstore/testing`. Given / when / then specifications of
 * deciders; not part of the runtime surface.
 */
export { DeciderSpecification } from './decider-specification.js';
export type { DeciderGiven, DeciderWhen, DeciderThen } from './decider-specification.js';
