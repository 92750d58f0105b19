/** Test support of the console: `@shoal/console/testing`. Never part of the runtime surface. */
export { seenEvent, reactionTo } from './seen-events.js';
