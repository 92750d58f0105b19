import { execFile } from 'node:child_process';
import { relative } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { isShoalError, ShoalError } from '@shoal/core';
import { DEFAULT_SCHEMAS_DIR, RegistryClient, checkCatalog, findCatalogSchema, registerCatalog, schemaCatalogFromFiles, type CatalogLookups, type SchemaCatalog } from '@shoal/contract';
import { compatibilityMessages, readerCanReadWriter, type CompatibilityLevel } from '@shoal/schema-registry';
import { schemaCatalogOption, schemasOption } from '../schema-catalog-option.js';
import { brokerUnavailable, cliKafka, endpointOptions, endpointUsage, resolveEndpoints } from '../connection.js';
import { paint, renderTable } from '../output.js';
import { readTopicHistories, type WriterSchemaUse } from '../topic-history.js';

export const schemasUsage = `Usage: shoal schemas <register|check|list> [options]

  shoal schemas register              register every schema in schemas/ (idempotent); prints subject -> id, version
  shoal schemas check                 would the registry accept the working tree's schemas? (each subject's level)
  shoal schemas check --against <git-ref>
                                      the working tree's schemas against those of another commit, no registry
  shoal schemas check --against-topics
                                      can the working tree's schemas read every record the topics retain? (replay)
  shoal schemas list                  every event type: topic, subject, and what the registry holds for it

Exit status of check: 0 when every schema is compatible (--against-topics: every writer schema found in the
topics is readable), 1 when one is not (usable as a CI gate).

Options:
${endpointUsage}
  --schemas <dir>               the schemas folder (default: the repository's schemas/)
  --against <git-ref>           (check) compare with the schemas of this commit, branch or tag
  --against-topics              (check) read each catalog topic from its earliest offset to its end and check
                                that each event type's reader schema reads every writer schema id found there
  --json                        JSON instead of text
  -h, --help                    show this help
`;

const out = (text: string) => process.stdout.write(text);

export async function runSchemas(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...endpointOptions,
      ...schemasOption,
      against: { type: 'string' },
      'against-topics': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const [action, ...extra] = positionals;
  if (values.help || action === undefined) {
    out(schemasUsage);
    return values.help ? 0 : 2;
  }
  if (extra.length > 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `unexpected argument '${extra[0]}'`);
  if (values.against !== undefined && action !== 'check') throw new ShoalError('SHOAL_CONFIG_INVALID', '--against applies to check only');
  if (values['against-topics'] === true && action !== 'check') throw new ShoalError('SHOAL_CONFIG_INVALID', '--against-topics applies to check only');
  if (values['against-topics'] === true && values.against !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', '--against and --against-topics are two different checks: choose one');
  const catalog = schemaCatalogOption(values);
  const json = values.json === true;

  if (action === 'check' && values.against !== undefined) return checkAgainstCommit(catalog, values.against, json);

  const endpoints = resolveEndpoints(values);
  const registry = new RegistryClient({ url: endpoints.registry, retries: 1 });
  if (action === 'check' && values['against-topics'] === true) return checkAgainstTopics(endpoints.brokers, registry, catalog, json);
  switch (action) {
    case 'register':
      return register(registry, catalog, json);
    case 'check':
      return checkWithRegistry(registry, catalog, json);
    case 'list':
      return list(registry, catalog, json);
    default:
      throw new ShoalError('SHOAL_CONFIG_INVALID', `unknown schemas action '${action}' (register, check, list)`);
  }
}

async function register(registry: RegistryClient, catalog: SchemaCatalog, json: boolean): Promise<number> {
  const registered = await registerCatalog(registry, catalog);
  if (json) out(`${JSON.stringify(registered)}\n`);
  else {
    out(renderTable(['SUBJECT', 'ID', 'VERSION'], registered.map((r) => [r.subject, r.id, r.version])));
    out(`${registered.length} schema(s) registered at ${registry.url}\n`);
  }
  return 0;
}

interface CheckResult {
  subject: string;
  name: string;
  status: 'new' | 'compatible' | 'incompatible';
  messages: string[];
}

function printCheck(results: CheckResult[], against: string, json: boolean): number {
  const failed = results.filter((r) => r.status === 'incompatible');
  if (json) {
    out(`${JSON.stringify({ compatible: failed.length === 0, against, results })}\n`);
    return failed.length === 0 ? 0 : 1;
  }
  for (const result of results) {
    const mark = result.status === 'incompatible' ? paint('red', 'INCOMPATIBLE') : paint('green', result.status === 'new' ? 'new' : 'ok');
    out(`${mark}  ${result.subject}\n`);
    for (const message of result.messages) out(`      ${message}\n`);
  }
  out(
    failed.length === 0
      ? `all ${results.length} schema(s) are compatible with ${against}\n`
      : `${failed.length} of ${results.length} schema(s) are incompatible with ${against}: make the change compatible (add fields with defaults) or publish a new event type\n`,
  );
  return failed.length === 0 ? 0 : 1;
}

async function checkWithRegistry(registry: RegistryClient, catalog: SchemaCatalog, json: boolean): Promise<number> {
  const checks = await checkCatalog(registry, catalog);
  const results: CheckResult[] = checks.map((c) => ({
    subject: c.subject,
    name: c.name,
    status: c.isNew ? 'new' : c.compatible ? 'compatible' : 'incompatible',
    messages: c.messages.map((message) => explainVersion(message, (version) => `version ${version}`)),
  }));
  return printCheck(results, `the registry at ${registry.url}`, json);
}

/**
 * The registry's and the compatibility checker's `version N (as writer|as reader): ` prefix, in words: which
 * side could not read which.
 */
function explainVersion(message: string, name: (version: string) => string): string {
  return message.replace(/^version (\d+) \((as writer|as reader)\): /, (_, version: string, role: string) =>
    role === 'as writer' ? `the new schema cannot read data written with ${name(version)}: ` : `${name(version)} cannot read data written with the new schema: `,
  );
}

const run = promisify(execFile);

/** The schemas folder as it is in commit `ref`, read with git (no checkout, no registry). */
async function catalogAtCommit(schemasDir: string, ref: string): Promise<SchemaCatalog> {
  const git = async (args: string[]) => {
    try {
      return (await run('git', args, { cwd: schemasDir, maxBuffer: 64 * 1024 * 1024 })).stdout;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim() ?? (error as Error).message;
      throw new ShoalError('SHOAL_CONFIG_INVALID', `--against ${ref}: git could not read the schemas of that commit (${stderr.split('\n')[0]})`);
    }
  };
  const top = (await git(['rev-parse', '--show-toplevel'])).trim();
  const folder = relative(top, schemasDir);
  const exists = await run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: schemasDir }).then(() => true, () => false);
  if (!exists) throw new ShoalError('SHOAL_CONFIG_INVALID', `--against ${ref}: not a commit, branch or tag of the repository holding ${schemasDir}`);
  const paths = (await git(['ls-tree', '-r', '--name-only', '--full-name', ref, '--', '.'])).split('\n').filter((p) => p.endsWith('.avsc') || p.endsWith('manifest.json'));
  const files = new Map<string, string>();
  for (const path of paths) files.set(relative(folder, path), await git(['show', `${ref}:${path}`]));
  return schemaCatalogFromFiles(files);
}

/**
 * Each working-tree schema against the same schema in `ref`, under the manifest's level. The other commit
 * holds one version per schema, so a transitive level checks against that one version only: it is the
 * same check as its non-transitive twin, and the registry check covers the whole history.
 */
async function checkAgainstCommit(catalog: SchemaCatalog, ref: string, json: boolean): Promise<number> {
  const before = await catalogAtCommit(catalog.dir ?? DEFAULT_SCHEMAS_DIR, ref);
  const level = catalog.compatibility as CompatibilityLevel;
  const results: CheckResult[] = catalog.registrationOrder().map((file) => {
    const old = before.common.get(file.name) ?? before.events.get(file.name);
    if (old === undefined) return { subject: file.subject, name: file.name, status: 'new', messages: [] };
    const messages = compatibilityMessages(level, { type: catalog.avroType(file.name), normalized: file.schema }, [
      { type: before.avroType(file.name), normalized: old.schema },
    ]).map((message) => explainVersion(message, () => ref));
    return { subject: file.subject, name: file.name, status: messages.length === 0 ? 'compatible' : 'incompatible', messages };
  });
  // An event type that existed in `ref` and is gone would strand its consumers and its history.
  for (const [type, definition] of before.events) {
    if (!catalog.events.has(type)) {
      results.push({ subject: definition.subject, name: type, status: 'incompatible', messages: [`event type ${type} was removed; keep its schema while the topic holds its events`] });
    }
  }
  return printCheck(results, `${ref} (${level})`, json);
}

interface TopicCheckResult extends WriterSchemaUse {
  /** ok: the reader schema reads it; incompatible: it does not; unreadable: the registry has no such id; unknown-type: no reader schema. */
  status: 'ok' | 'incompatible' | 'unreadable' | 'unknown-type';
  messages: string[];
}

/**
 * Replay compatibility: every writer schema id the topics' retained records carry, against the working
 * tree's reader schema of its event type, with the registry's own Avro resolution check (the one behind its
 * compatibility levels). A registry check cannot see a history written before a subject was reset, or data
 * produced with schemas from elsewhere; the records can.
 */
async function checkAgainstTopics(brokers: string[], registry: RegistryClient, catalog: SchemaCatalog, json: boolean): Promise<number> {
  let histories;
  try {
    histories = await readTopicHistories(cliKafka(brokers), [...catalog.topics.keys()]);
  } catch (error) {
    throw brokerUnavailable(error, brokers);
  }
  const results: TopicCheckResult[] = [];
  for (const history of histories) {
    for (const use of history.uses) {
      if (!catalog.events.has(use.type)) {
        results.push({ ...use, status: 'unknown-type', messages: [`the catalog has no event type ${use.type}: consumers skip these records`] });
        continue;
      }
      let writer;
      try {
        writer = await registry.schemaType(use.schemaId);
      } catch (error) {
        if (!isShoalError(error, 'SHOAL_SCHEMA_UNKNOWN_ID')) throw error;
        results.push({ ...use, status: 'unreadable', messages: [`schema id ${use.schemaId} is not in the registry at ${registry.url}: no consumer can decode these records`] });
        continue;
      }
      const messages = readerCanReadWriter(catalog.avroType(use.type), writer);
      results.push({ ...use, status: messages.length === 0 ? 'ok' : 'incompatible', messages });
    }
  }
  const failed = results.filter((result) => result.status === 'incompatible' || result.status === 'unreadable');
  if (json) {
    out(`${JSON.stringify({ compatible: failed.length === 0, topics: histories.map(({ topic, exists, records, notAvro }) => ({ topic, exists, records, notAvro })), results })}\n`);
    return failed.length === 0 ? 0 : 1;
  }
  for (const history of histories) {
    if (!history.exists) out(`${paint('dim', 'missing')}  ${history.topic}: no such topic\n`);
    else if (history.records === 0) out(`${paint('dim', 'empty')}    ${history.topic}: no retained records\n`);
    if (history.notAvro > 0) out(`${paint('dim', 'skipped')}  ${history.topic}: ${history.notAvro} record(s) not in the Avro wire format or without a ce_type header\n`);
    for (const result of results.filter((r) => r.topic === history.topic)) {
      const mark = result.status === 'ok' ? paint('green', 'ok') : result.status === 'unknown-type' ? paint('yellow', 'unknown') : paint('red', 'INCOMPATIBLE');
      const where = `${result.topic}/${result.first.partition}@${result.first.offset}`;
      out(`${mark}  ${result.topic}  schema id ${result.schemaId}  ${result.type}  (${result.records} record(s), the first at ${where})\n`);
      for (const message of result.messages) out(`      ${message}\n`);
    }
  }
  const records = histories.reduce((sum, history) => sum + history.records, 0);
  out(
    failed.length === 0
      ? `the reader schemas read all ${results.length} writer schema(s) found in ${records} record(s) of ${histories.length} topic(s)\n`
      : `${failed.length} of ${results.length} writer schema(s) in the topics cannot be read by the current reader schemas: a replay of these topics would fail on them\n`,
  );
  return failed.length === 0 ? 0 : 1;
}

async function list(registry: RegistryClient, catalog: SchemaCatalog, json: boolean): Promise<number> {
  const lookups: CatalogLookups = new Map();
  const rows = [];
  for (const [type, event] of catalog.events) {
    const [held, latest] = await Promise.all([findCatalogSchema(registry, catalog, type, lookups), registry.latestVersion(event.subject)]);
    const state = held !== undefined ? (held.version === latest?.version ? 'registered' : 'registered (not latest)') : latest === undefined ? 'not registered' : 'changed';
    rows.push({ type, topic: event.topic, subject: event.subject, id: held?.id ?? null, version: held?.version ?? null, latestVersion: latest?.version ?? null, state });
  }
  if (json) {
    out(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  out(
    renderTable(
      ['TYPE', 'TOPIC', 'SUBJECT', 'ID', 'VERSION', 'STATE'],
      rows.map((r) => [r.type, r.topic, r.subject, r.id ?? '-', r.version ?? '-', r.state]),
    ),
  );
  return 0;
}

