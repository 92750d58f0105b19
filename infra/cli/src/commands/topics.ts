import { parseArgs } from 'node:util';
import type { Admin } from 'kafkajs';
import { ShoalError } from '@shoal/core';
import { endpointOptions, endpointUsage, resolveEndpoints, withAdmin } from '../connection.js';
import { describeLogDirs, type PartitionSizes } from '../log-dirs.js';
import { integerOption } from '../options.js';
import { renderTable } from '../output.js';

export const topicsUsage = `Usage: shoal topics <list|create|describe> [options]

  shoal topics list                          every topic with its partitions, message count and size
  shoal topics create <topic> [--partitions <n>] [--config key=value ...]
  shoal topics describe <topic>              per partition: low and high offsets, messages, size; configs

Sizes are bytes on the brokers' disks (DescribeLogDirs); '-' when a broker cannot tell.

Options:
${endpointUsage}
  --partitions <n>              partitions of a new topic (default 3)
  --config <key=value>          topic config of a new topic, repeatable (retention.ms, cleanup.policy, ...)
  --json                        one JSON document instead of a table
  -h, --help                    show this help
`;

interface PartitionOffsets {
  partition: number;
  low: number;
  high: number;
  messages: number;
}

/** A partition's offsets and its size in bytes (null when no broker could tell). */
interface PartitionDescription extends PartitionOffsets {
  bytes: number | null;
}

async function partitionOffsets(admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets
    .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high), messages: Number(o.high) - Number(o.low) }))
    .sort((a, b) => a.partition - b.partition);
}

function withSizes(topic: string, partitions: PartitionOffsets[], sizes: PartitionSizes): PartitionDescription[] {
  return partitions.map((p) => ({ ...p, bytes: sizes.get(topic)?.get(p.partition) ?? null }));
}

/** A topic's size: null unless every partition's is known (a partial sum would understate it). */
function totalBytes(partitions: readonly PartitionDescription[]): number | null {
  let total = 0;
  for (const { bytes } of partitions) {
    if (bytes === null) return null;
    total += bytes;
  }
  return total;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/** `0 B`, `1023 B`, `1.2 KiB`, `3.4 MiB`, ...; `-` for an unknown size. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-';
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  // Compare the rounded value, so 1023.96 KiB prints as 1.0 MiB rather than 1024.0 KiB.
  while (unit < BYTE_UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** Right-aligns a column of formatted sizes (the table only right-aligns numbers). */
function alignRight(values: readonly string[]): string[] {
  const width = Math.max(0, ...values.map((v) => v.length));
  return values.map((v) => v.padStart(width));
}

function parseConfigEntries(entries: readonly string[]): { name: string; value: string }[] {
  return entries.map((entry) => {
    const at = entry.indexOf('=');
    if (at <= 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `--config expects key=value, got '${entry}'`);
    return { name: entry.slice(0, at), value: entry.slice(at + 1) };
  });
}

export async function runTopics(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...endpointOptions,
      partitions: { type: 'string' },
      config: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const [action, topic, ...extra] = positionals;
  if (values.help || action === undefined) {
    process.stdout.write(topicsUsage);
    return values.help ? 0 : 2;
  }
  const { brokers } = resolveEndpoints(values);
  const out = (text: string) => process.stdout.write(text);

  if (action === 'list') {
    if (topic !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', `'topics list' takes no topic, got '${topic}'`);
    const listing = await withAdmin(brokers, async (admin) => {
      const names = (await admin.listTopics()).filter((name) => !name.startsWith('__')).sort();
      const [offsets, sizes] = await Promise.all([Promise.all(names.map((name) => partitionOffsets(admin, name))), describeLogDirs(brokers, names, { admin })]);
      return names.map((name, i) => {
        const partitions = withSizes(name, offsets[i]!, sizes);
        return { topic: name, partitions: partitions.length, messages: partitions.reduce((sum, p) => sum + p.messages, 0), bytes: totalBytes(partitions) };
      });
    });
    if (values.json) {
      out(`${JSON.stringify(listing)}\n`);
      return 0;
    }
    const sizeColumn = alignRight(listing.map((t) => formatBytes(t.bytes)));
    out(renderTable(['TOPIC', 'PARTITIONS', 'MESSAGES', 'SIZE'], listing.map((t, i) => [t.topic, t.partitions, t.messages, sizeColumn[i]!])));
    return 0;
  }

  if (topic === undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', `'topics ${action}' needs a topic name`);
  if (extra.length > 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `unexpected argument '${extra[0]}'`);

  if (action === 'create') {
    const numPartitions = integerOption(values.partitions, '--partitions', { min: 1, max: 10_000 }) ?? 3;
    const configEntries = parseConfigEntries(values.config ?? []);
    const created = await withAdmin(brokers, (admin) => admin.createTopics({ topics: [{ topic, numPartitions, configEntries }], waitForLeaders: true }));
    out(created ? `created topic ${topic} with ${numPartitions} partition(s)\n` : `topic ${topic} already exists\n`);
    return 0;
  }

  if (action === 'describe') {
    const description = await withAdmin(brokers, async (admin) => {
      const existing = await admin.listTopics();
      if (!existing.includes(topic)) throw new ShoalError('SHOAL_TOPIC_NOT_FOUND', `topic '${topic}' does not exist (see 'shoal topics list')`);
      const [offsets, sizes] = await Promise.all([partitionOffsets(admin, topic), describeLogDirs(brokers, [topic], { admin })]);
      const partitions = withSizes(topic, offsets, sizes);
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 /* TOPIC */, name: topic }] });
      const configs = Object.fromEntries((described.resources[0]?.configEntries ?? []).map((c) => [c.configName, c.configValue]));
      return { topic, partitions, bytes: totalBytes(partitions), configs };
    });
    if (values.json) {
      out(`${JSON.stringify(description)}\n`);
      return 0;
    }
    const total = description.partitions.reduce((sum, p) => sum + p.messages, 0);
    out(`topic ${topic}: ${description.partitions.length} partition(s), ${total} message(s), size ${formatBytes(description.bytes)}\n\n`);
    const sizeColumn = alignRight(description.partitions.map((p) => formatBytes(p.bytes)));
    out(renderTable(['PARTITION', 'LOW', 'HIGH', 'MESSAGES', 'SIZE'], description.partitions.map((p, i) => [p.partition, p.low, p.high, p.messages, sizeColumn[i]!])));
    const configRows = Object.entries(description.configs).sort(([a], [b]) => a.localeCompare(b));
    if (configRows.length > 0) out(`\n${renderTable(['CONFIG', 'VALUE'], configRows)}`);
    return 0;
  }

  throw new ShoalError('SHOAL_CONFIG_INVALID', `unknown topics action '${action}' (list, create, describe)`);
}
