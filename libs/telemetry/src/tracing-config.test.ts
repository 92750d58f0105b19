import { describe, expect, it } from 'vitest';
import { readTracingConfig } from './tracing-config.js';

describe('readTracingConfig', () => {
  it('is off without OTEL_TRACES_EXPORTER, with none, and with OTEL_SDK_DISABLED=true', () => {
    expect(readTracingConfig({}, 'orders')).toBeUndefined();
    expect(readTracingConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'orders')).toBeUndefined();
    expect(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'TRUE' }, 'orders')).toBeUndefined();
  });

  it('is on with otlp: the default endpoint and protocol, the service name by default', () => {
    expect(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'false' }, 'orders')).toEqual({
      endpoint: 'http://localhost:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'orders',
    });
  });

  it('appends /v1/traces to the base endpoint, takes the traces endpoint as given, and the traces protocol over the general one', () => {
    expect(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'x')).toMatchObject({
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/json',
    });
    expect(
      readTracingConfig(
        {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example:443/otlp',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
          OTEL_SERVICE_NAME: 'orders-eu',
        },
        'orders',
      ),
    ).toEqual({ endpoint: 'https://traces.example:443/otlp', protocol: 'http/protobuf', serviceName: 'orders-eu' });
  });

  it('names every bad variable, even when tracing would be off', () => {
    const read = (env: Record<string, string>) => () => readTracingConfig(env, 'orders');
    expect(read({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow('OTEL_TRACES_EXPORTER="zipkin": expected otlp or none');
    expect(read({ OTEL_SDK_DISABLED: 'yes' })).toThrow('OTEL_SDK_DISABLED="yes": expected true or false');
    expect(read({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow('OTEL_EXPORTER_OTLP_PROTOCOL="grpc": expected http/protobuf or http/json');
    expect(read({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' })).toThrow('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="collector:4318": expected an http(s) URL');
    expect(read({ OTEL_TRACES_EXPORTER: 'jaeger', OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x' })).toThrow(
      'OTEL_TRACES_EXPORTER="jaeger": expected otlp or none (Shoal exports traces over OTLP/HTTP only); OTEL_EXPORTER_OTLP_ENDPOINT="ftp://x": expected an http(s) URL',
    );
  });
});
