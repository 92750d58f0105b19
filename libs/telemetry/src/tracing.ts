/**
 * The spans of a Shoal service, one kind per hop of a flow, and the W3C trace context that carries a flow's
 * trace from hop to hop inside its events (the CloudEvents `traceparent` and `tracestate` extensions):
 *
 *   HTTP request      SERVER    `POST /orders`            parent: the request's traceparent header, else a new trace
 *   outbox commit     PRODUCER  `commit orders.order`     one per emitted event, child of what emitted it (the request's
 *                                                         or the handler's span); ends when its transaction commits or
 *                                                         rolls back. Its context is the event's traceparent, kept in
 *                                                         the outbox row with the other attributes
 *   relay publish     PRODUCER  `send orders.order`       one per event, child of the context stored in its row
 *   handler           CONSUMER  `process orders.order`    child of the event's traceparent; the events it emits are
 *                                                         committed under it
 *   projection apply  CONSUMER  `apply orders.order`      child of the event's traceparent
 *
 * Attributes follow OpenTelemetry's messaging conventions (messaging.system kafka, messaging.operation.type,
 * messaging.destination.name, messaging.destination.partition.id, messaging.kafka.offset,
 * messaging.consumer.group.name, messaging.message.id, messaging.kafka.message.key) and its CloudEvents
 * cloudevents.event_type.
 *
 * Only a process that traces loads this module (start-tracing.ts): the libraries hold an optional Tracing and
 * call nothing when they have none.
 */
import { context, defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type TextMapGetter, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH, ATTR_URL_QUERY } from '@opentelemetry/semantic-conventions';
import {
  ATTR_CLOUDEVENTS_EVENT_TYPE,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_KAFKA_MESSAGE_KEY,
  ATTR_MESSAGING_KAFKA_OFFSET,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '@opentelemetry/semantic-conventions/incubating';
import type { CloudEvent } from '@shoal/contract';

/** What the tracer provider does at the end of the process. */
export interface SpanPipeline {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Where a consumed record came from. */
export interface RecordOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
}

/** The spans of one transaction's emitted events; see Tracing.outboxCommit. */
export interface OutboxCommit {
  /** Runs the transaction's work in the context it was asked for in (a queued transaction starts from another's commit). */
  run<T>(work: () => T): T;
  /** `event` with the trace context of a new commit span, child of the active context. */
  stamp<E extends CloudEvent<unknown>>(event: E, topic: string | undefined): E;
  /** Ends the transaction's commit spans: committed, or rolled back by `error`. */
  end(error?: unknown): void;
}

/** One request's span, ended with the response. */
export interface HttpServerSpan {
  /** The context the route runs in. */
  readonly context: Context;
  /** Runs `work` in the span's context: what it starts (its promises too) are the span's children. */
  run<T>(work: () => T): T;
  end(statusCode: number, route: string | undefined, error?: unknown): void;
}

/** The relay's spans of one batch, ended once the broker answered. */
export interface PublishSpans {
  /** Where each event landed, in the order of the batch; or why the batch failed. */
  end(result: { partition: number; offset: string }[] | { error: unknown }): void;
}

interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

const carrierGetter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => (key === 'traceparent' || key === 'tracestate' ? carrier[key] : undefined),
};

const KAFKA = { [ATTR_MESSAGING_SYSTEM]: 'kafka' } as const;

export class Tracing {
  readonly serviceName: string;
  private readonly tracer: Tracer;
  private readonly propagator: TextMapPropagator = new W3CTraceContextPropagator();
  private readonly pipeline: SpanPipeline;

  constructor(options: { tracer: Tracer; pipeline: SpanPipeline; serviceName: string }) {
    this.tracer = options.tracer;
    this.pipeline = options.pipeline;
    this.serviceName = options.serviceName;
  }

  /** The trace context an event carries (its traceparent and tracestate), ROOT_CONTEXT when it has none or it is malformed. */
  contextOf(event: Pick<CloudEvent<unknown>, 'traceparent' | 'extensions'>): Context {
    if (event.traceparent === undefined) return ROOT_CONTEXT;
    const tracestate = event.extensions?.['tracestate'];
    return this.propagator.extract(ROOT_CONTEXT, { traceparent: event.traceparent, ...(typeof tracestate === 'string' ? { tracestate } : {}) }, carrierGetter);
  }

  /** `event` carrying the span context of `parent`: its traceparent, and its tracestate extension when the trace has one. */
  withContext<E extends CloudEvent<unknown>>(event: E, parent: Context): E {
    const carrier: TraceCarrier = {};
    this.propagator.inject(parent, carrier, { set: (target, key, value) => void ((target as Record<string, string>)[key] = value) });
    if (carrier.traceparent === undefined) return event;
    const { tracestate: _previous, ...extensions } = event.extensions ?? {};
    const withState = carrier.tracestate === undefined ? extensions : { ...extensions, tracestate: carrier.tracestate };
    return { ...event, traceparent: carrier.traceparent, extensions: withState };
  }

  /** The span of one HTTP request; its parent is the request's `traceparent` header when it has a valid one. */
  httpServer(method: string, url: string, headers: Record<string, string | string[] | undefined>): HttpServerSpan {
    const parent = this.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const query = url.indexOf('?');
    const attributes: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: query === -1 ? url : url.slice(0, query) };
    if (query !== -1) attributes[ATTR_URL_QUERY] = url.slice(query + 1);
    const span = this.tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
    const spanContext = trace.setSpan(parent, span);
    return {
      context: spanContext,
      run: (work) => context.with(spanContext, work),
      end: (statusCode, route, error) => {
        if (route !== undefined) {
          span.updateName(`${method} ${route}`);
          span.setAttribute(ATTR_HTTP_ROUTE, route);
        }
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
        if (error !== undefined) span.recordException(error as Error);
        if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: error === undefined ? `HTTP ${statusCode}` : (error as Error).message });
        span.end();
      },
    };
  }

  /**
   * The commit spans of one transaction: each event it emits gets a span of its own, child of the context
   * active where it is emitted (else of the trace the event already names, else a new trace), and carries that
   * span's context into the outbox row.
   */
  outboxCommit(): OutboxCommit {
    const spans: Span[] = [];
    const caller = context.active();
    return {
      run: (work) => context.with(caller, work),
      stamp: (event, topic) => {
        const active = context.active();
        const parent = trace.getSpan(active) !== undefined ? active : this.contextOf(event);
        const span = this.tracer.startSpan(
          `commit ${topic ?? event.type}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: { ...KAFKA, [ATTR_MESSAGING_OPERATION_TYPE]: 'create', [ATTR_MESSAGING_OPERATION_NAME]: 'commit', ...destination(topic), ...messageAttributes(event), ...keyAttribute(event.partitionkey ?? event.subject ?? null) },
          },
          parent,
        );
        spans.push(span);
        return this.withContext(event, trace.setSpan(parent, span));
      },
      end: (error) => {
        for (const span of spans) {
          if (error !== undefined) fail(span, error, 'rolled back');
          span.end();
        }
      },
    };
  }

  /** The relay's `send` spans of a batch of outbox events, each a child of the context its row holds. */
  publishing(records: readonly { event: CloudEvent<unknown>; topic: string; key?: string }[]): PublishSpans {
    const spans = records.map(({ event, topic, key }) =>
      this.tracer.startSpan(
        `send ${topic}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: { ...KAFKA, [ATTR_MESSAGING_OPERATION_TYPE]: 'send', [ATTR_MESSAGING_OPERATION_NAME]: 'send', ...destination(topic), ...messageAttributes(event), ...keyAttribute(key ?? event.partitionkey ?? null) },
        },
        this.contextOf(event),
      ),
    );
    return {
      end: (result) => {
        spans.forEach((span, i) => {
          if ('error' in result) fail(span, result.error);
          else {
            const landed = result[i];
            if (landed !== undefined) {
              span.setAttribute(ATTR_MESSAGING_DESTINATION_PARTITION_ID, String(landed.partition));
              span.setAttribute(ATTR_MESSAGING_KAFKA_OFFSET, Number(landed.offset));
            }
          }
          span.end();
        });
      },
    };
  }

  /** Runs a subscription's handler of `event` in its `process` span, child of the event's trace context. */
  handling<T>(event: CloudEvent<unknown>, origin: RecordOrigin, group: string, run: () => T): T {
    return this.consuming('process', event, origin, group, {}, run);
  }

  /** Runs a projection's handler of `event` in its `apply` span, child of the event's trace context. */
  applying<T>(projection: string, event: CloudEvent<unknown>, origin: RecordOrigin, group: string, run: () => T): T {
    return this.consuming('apply', event, origin, group, { 'shoal.projection.name': projection }, run);
  }

  /** Exports what has ended so far. */
  flush(): Promise<void> {
    return this.pipeline.forceFlush();
  }

  /** Exports what has ended, then stops exporting. */
  shutdown(): Promise<void> {
    return this.pipeline.shutdown();
  }

  private consuming<T>(operation: 'process' | 'apply', event: CloudEvent<unknown>, origin: RecordOrigin, group: string, extra: Attributes, run: () => T): T {
    const parent = this.contextOf(event);
    const span = this.tracer.startSpan(
      `${operation} ${origin.topic}`,
      {
        kind: SpanKind.CONSUMER,
        // One literal rather than spreads of helpers: this runs for every record a service handles.
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: 'kafka',
          [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
          [ATTR_MESSAGING_OPERATION_NAME]: operation,
          [ATTR_MESSAGING_DESTINATION_NAME]: origin.topic,
          [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(origin.partition),
          [ATTR_MESSAGING_KAFKA_OFFSET]: Number(origin.offset),
          [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: group,
          [ATTR_MESSAGING_MESSAGE_ID]: event.id,
          [ATTR_CLOUDEVENTS_EVENT_TYPE]: event.type,
          ...(origin.key === null ? {} : { [ATTR_MESSAGING_KAFKA_MESSAGE_KEY]: origin.key }),
          ...extra,
        },
      },
      parent,
    );
    let result: T;
    try {
      result = context.with(trace.setSpan(parent, span), run);
    } catch (error) {
      fail(span, error);
      span.end();
      throw error;
    }
    if (!isThenable(result)) {
      span.end();
      return result;
    }
    // An asynchronous handler: its span lasts until the promise settles.
    return Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        fail(span, error);
        span.end();
        throw error;
      },
    ) as T;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function destination(topic: string | undefined): Attributes {
  return topic === undefined ? {} : { [ATTR_MESSAGING_DESTINATION_NAME]: topic };
}

/**
 * The event's id and type. Its source is the service of the span that emitted it, its subject the Kafka key
 * (messaging.kafka.message.key): every attribute is paid for on every span, in the SDK and in the export.
 */
function messageAttributes(event: CloudEvent<unknown>): Attributes {
  return { [ATTR_MESSAGING_MESSAGE_ID]: event.id, [ATTR_CLOUDEVENTS_EVENT_TYPE]: event.type };
}

function keyAttribute(key: string | null): Attributes {
  return key === null ? {} : { [ATTR_MESSAGING_KAFKA_MESSAGE_KEY]: key };
}

function fail(span: Span, error: unknown, what?: string): void {
  const message = (error as Error | null)?.message ?? String(error);
  span.recordException(error instanceof Error ? error : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message: what === undefined ? message : `${what}: ${message}` });
}
