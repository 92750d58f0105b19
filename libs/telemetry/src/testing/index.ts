/**
 * Test support for tracing: `@shoal/telemetry/testing`. An OTLP/HTTP receiver the test runs, which decodes
 * what the real exporter sends, and the checks of the trees its spans make. Imports vitest: not for runtime code.
 */
export { startOtlpReceiver, SPAN_KIND } from './otlp-receiver.js';
export type { OtlpReceiver, OtlpReceiverOptions, ReceivedSpan, AttributeValue } from './otlp-receiver.js';
