/**
 * An OTLP/HTTP trace receiver for tests: what a collector does with `POST /v1/traces`, decoded into plain
 * spans. It takes both encodings of OTLP over HTTP, as the exporters send them:
 *
 *   application/json        ExportTraceServiceRequest in OTLP's JSON mapping (ids as hex strings)
 *   application/x-protobuf  the same message in protobuf binary, decoded with the fields below
 *
 *   ExportTraceServiceRequest  1 resource_spans (repeated ResourceSpans)
 *   ResourceSpans              1 resource (Resource: 1 attributes, repeated KeyValue)  2 scope_spans (repeated)
 *   ScopeSpans                 2 spans (repeated Span)
 *   Span                       1 trace_id  2 span_id  4 parent_span_id (bytes)  5 name  6 kind  9 attributes  15 status
 *   Status                     2 message  3 code
 *   KeyValue                   1 key  2 value (AnyValue: 1 string  2 bool  3 int64  4 double)
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import protobuf from 'protobufjs';
import { onTestFinished } from 'vitest';

export type AttributeValue = string | number | boolean;

/** One span as the receiver got it. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** The resource's service.name. */
  service: string;
  attributes: Record<string, AttributeValue>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
}

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  /** Every span received so far, in arrival order (none kept with `keepSpans: false`). */
  spans(): ReceivedSpan[];
  /** How many spans were received so far. */
  spanCount(): number;
  /** The content type of every export request received so far. */
  contentTypes(): string[];
  close(): Promise<void>;
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

const PROTO = `
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { repeated Span spans = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  repeated KeyValue attributes = 9; Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
message SpanCount { repeated ResourceSpanCount resource_spans = 1; }
message ResourceSpanCount { repeated ScopeSpanCount scope_spans = 2; }
message ScopeSpanCount { repeated Empty spans = 2; }
message Empty {}
`;
const root = protobuf.parse(PROTO, { keepCase: false }).root;
const requestType = root.lookupType('ExportTraceServiceRequest');
/** The same message with every field but the path to the spans left out: counting skips what it does not need. */
const countType = root.lookupType('SpanCount');

interface JsonValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}
interface JsonKeyValue {
  key: string;
  value?: JsonValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: JsonKeyValue[];
  status?: { code?: number; message?: string };
}
interface JsonRequest {
  resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { spans?: JsonSpan[] }[] }[];
}

export interface OtlpReceiverOptions {
  /** Close it when the current test ends (default); false outside a test (the e2e benchmark), where the caller closes it. */
  closeWithTest?: boolean;
  /** Keep every span (default); false only counts them, decoding no more than that takes (the benchmark's receiver). */
  keepSpans?: boolean;
}

/** A receiver on a port of its own on 127.0.0.1. */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  let spanCount = 0;
  const keep = options.keepSpans !== false;
  const server: Server = createServer((request, response) => {
    void readBody(request).then(
      (body) => {
        const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
        try {
          if (request.method !== 'POST' || request.url !== '/v1/traces') throw new Error(`no route ${request.method} ${request.url}`);
          const protobuf = contentType === 'application/x-protobuf';
          if (keep) {
            const decoded = protobuf ? fromProtobuf(body) : fromJson(JSON.parse(body.toString('utf8')) as JsonRequest);
            spans.push(...decoded);
            spanCount += decoded.length;
          } else {
            spanCount += countSpans(protobuf ? (countType.decode(body) as unknown as JsonRequest) : (JSON.parse(body.toString('utf8')) as JsonRequest));
          }
          contentTypes.push(contentType);
          response.writeHead(200, { 'content-type': contentType === 'application/x-protobuf' ? contentType : 'application/json' });
          response.end(contentType === 'application/x-protobuf' ? Buffer.alloc(0) : '{}');
        } catch (error) {
          response.writeHead(400, { 'content-type': 'text/plain' });
          response.end((error as Error).message);
        }
      },
      () => response.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  if (options.closeWithTest !== false) onTestFinished(close);
  return { url: `http://127.0.0.1:${port}`, spans: () => [...spans], spanCount: () => spanCount, contentTypes: () => [...contentTypes], close };
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function countSpans(request: JsonRequest): number {
  let count = 0;
  for (const resourceSpans of request.resourceSpans ?? []) for (const scope of resourceSpans.scopeSpans ?? []) count += scope.spans?.length ?? 0;
  return count;
}

function fromJson(request: JsonRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const service = String(attributesOf(resourceSpans.resource?.attributes ?? [])['service.name'] ?? '');
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId === undefined || span.parentSpanId === '' ? undefined : span.parentSpanId,
          name: span.name,
          kind: span.kind ?? 0,
          service,
          attributes: attributesOf(span.attributes ?? []),
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
        });
      }
    }
  }
  return spans;
}

function attributesOf(keyValues: readonly JsonKeyValue[]): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const { key, value } of keyValues) {
    if (value?.stringValue !== undefined) attributes[key] = value.stringValue;
    else if (value?.boolValue !== undefined) attributes[key] = value.boolValue;
    else if (value?.intValue !== undefined) attributes[key] = Number(value.intValue);
    else if (value?.doubleValue !== undefined) attributes[key] = value.doubleValue;
  }
  return attributes;
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  // toObject turns bytes into base64 and int64 into strings: ids are converted to hex, as the JSON mapping has them.
  const request = requestType.toObject(requestType.decode(body), { longs: String, bytes: String, defaults: false }) as JsonRequest & {
    resourceSpans?: { scopeSpans?: { spans?: JsonSpan[] }[] }[];
  };
  for (const resourceSpans of request.resourceSpans ?? []) {
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        span.traceId = hexOf(span.traceId);
        span.spanId = hexOf(span.spanId);
        if (span.parentSpanId !== undefined) span.parentSpanId = hexOf(span.parentSpanId);
      }
    }
  }
  return fromJson(request);
}

function hexOf(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}
