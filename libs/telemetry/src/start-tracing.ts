/**
 * Turning tracing on in a process: OpenTelemetry's Node tracer provider (AsyncLocalStorage context, W3C trace
 * context), a batch span processor and the OTLP/HTTP exporter of the configured protocol, under a resource
 * named for the service. The SDK is imported here, on demand, so a process that does not trace never loads it.
 */
import type { Tracing } from './tracing.js';
import type { TracingConfig } from './tracing-config.js';

/** Spans kept waiting for export; past that the SDK drops new ones rather than grow without bound. */
const MAX_QUEUED_SPANS = 16_384;
const EXPORT_DELAY_MS = 1000;

export async function startTracing(config: TracingConfig): Promise<Tracing> {
  const [{ NodeTracerProvider, BatchSpanProcessor }, { defaultResource, resourceFromAttributes }, { ATTR_SERVICE_NAME }, { Tracing: TracingClass }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('./tracing.js'),
  ]);
  const { OTLPTraceExporter } = config.protocol === 'http/json' ? await import('@opentelemetry/exporter-trace-otlp-http') : await import('@opentelemetry/exporter-trace-otlp-proto');
  const exporter = new OTLPTraceExporter({ url: config.endpoint });
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName })),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: MAX_QUEUED_SPANS, maxExportBatchSize: 1024, scheduledDelayMillis: EXPORT_DELAY_MS })],
  });
  // The global context manager (AsyncLocalStorage) is what lets a span started around a handler or a route be
  // the parent of the spans of what they emit.
  provider.register();
  return new TracingClass({ tracer: provider.getTracer('@shoal/telemetry'), pipeline: provider, serviceName: config.serviceName });
}
