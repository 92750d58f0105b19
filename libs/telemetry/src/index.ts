/**
 * @shoal/telemetry: OpenTelemetry traces across every hop of a flow (docs/tracing.md). Off unless the
 * standard `OTEL_*` variables ask for it (tracing-config.ts); then `startTracing` loads the SDK and the
 * libraries' hooks (the service host's HTTP server, the outbox commit, the relay, the consumer, the projector)
 * start their spans through the Tracing it returns. Without one, nothing of OpenTelemetry is loaded.
 */
export { readTracingConfig, TRACING_VARIABLES, DEFAULT_OTLP_ENDPOINT } from './tracing-config.js';
export type { TracingConfig, OtlpProtocol } from './tracing-config.js';
export { startTracing } from './start-tracing.js';
export type { Tracing, OutboxCommit, HttpServerSpan, PublishSpans, RecordOrigin, SpanPipeline } from './tracing.js';
