import { ErrorCode } from '../protocol/error-codes.js';

/**
 * Topic-level configuration, stored as Kafka-style string properties. The broker enforces retention.ms,
 * retention.bytes, max.message.bytes, message.timestamp.type and cleanup.policy; any other well-formed
 * name is stored and reported back (so tools that set them keep working) but has no effect. Values of
 * enforced entries are validated at create time.
 */
export interface BrokerLogDefaults {
  retentionMs: number;
  retentionBytes: number;
  maxMessageBytes: number;
}

export interface EffectiveTopicConfig {
  retentionMs: number;
  retentionBytes: number;
  maxMessageBytes: number;
  logAppendTime: boolean;
}

const CONFIG_NAME = /^[a-z][a-z0-9.]*$/;

function parseIntegerConfig(value: string, min: number): number | null {
  if (!/^-?\d+$/.test(value)) return null;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) && parsed >= min ? parsed : null;
}

/** Returns null when valid, or the error to answer with. */
export function validateTopicConfigs(configs: Record<string, string>): { errorCode: number; message: string } | null {
  for (const [name, value] of Object.entries(configs)) {
    const invalid = (why: string) => ({ errorCode: ErrorCode.INVALID_CONFIG, message: `invalid value '${value}' for ${name}: ${why}` });
    if (!CONFIG_NAME.test(name)) return { errorCode: ErrorCode.INVALID_CONFIG, message: `invalid config name '${name}'` };
    switch (name) {
      case 'retention.ms':
      case 'retention.bytes':
        if (parseIntegerConfig(value, -1) === null) return invalid('expected an integer >= -1');
        break;
      case 'max.message.bytes':
        if (parseIntegerConfig(value, 0) === null) return invalid('expected a non-negative integer');
        break;
      case 'message.timestamp.type':
        if (value !== 'CreateTime' && value !== 'LogAppendTime') return invalid('expected CreateTime or LogAppendTime');
        break;
      case 'cleanup.policy':
        // Compaction is not implemented; 'compact' is accepted so tools that ask for it keep working,
        // and the topic is retained like 'delete' with the retention settings (documented in docs/broker.md).
        if (!value.split(',').every((p) => p.trim() === 'delete' || p.trim() === 'compact')) return invalid('expected delete and/or compact');
        break;
    }
  }
  return null;
}

export function effectiveTopicConfig(configs: Record<string, string>, defaults: BrokerLogDefaults): EffectiveTopicConfig {
  const integer = (name: string, fallback: number) => {
    const value = configs[name];
    return value === undefined ? fallback : (parseIntegerConfig(value, -1) ?? fallback);
  };
  return {
    retentionMs: integer('retention.ms', defaults.retentionMs),
    retentionBytes: integer('retention.bytes', defaults.retentionBytes),
    maxMessageBytes: integer('max.message.bytes', defaults.maxMessageBytes),
    logAppendTime: configs['message.timestamp.type'] === 'LogAppendTime',
  };
}

/** Every config the broker reports for a topic: explicit ones plus the defaults of the enforced ones. */
export function describeTopicConfigs(configs: Record<string, string>, defaults: BrokerLogDefaults): { name: string; value: string; isDefault: boolean }[] {
  const defaultsByName: Record<string, string> = {
    'retention.ms': String(defaults.retentionMs),
    'retention.bytes': String(defaults.retentionBytes),
    'max.message.bytes': String(defaults.maxMessageBytes),
    'message.timestamp.type': 'CreateTime',
    'cleanup.policy': 'delete',
  };
  const names = new Set([...Object.keys(defaultsByName), ...Object.keys(configs)]);
  return [...names].sort().map((name) => {
    const explicit = configs[name];
    return explicit === undefined ? { name, value: defaultsByName[name]!, isDefault: true } : { name, value: explicit, isDefault: false };
  });
}
