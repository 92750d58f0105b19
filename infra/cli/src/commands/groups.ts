/**
 * `shoal groups` and `shoal groups describe <group>`: the consumer groups of the cluster with their members
 * and lag, through the console's one reading of them (@shoal/console's consumerGroups, kafkajs's admin).
 */
import { parseArgs } from 'node:util';
import { consumerGroups } from '@shoal/console';
import { ShoalError } from '@shoal/core';
import { endpointOptions, resolveEndpoints, withAdmin } from '../connection.js';
import { renderTable } from '../output.js';

export const groupsUsage = `Usage: shoal groups [--json] [--brokers <host:port,...>]
       shoal groups describe <group> [--json] [--brokers <host:port,...>]

'shoal groups' lists every consumer group: its state, its members and its lag (records between each
partition's committed offset and the end of the log, a partition never committed on counting from the start).
'describe' shows one group per partition (committed offset, end, lag) and per member (client id, host,
assigned partitions).

Options:
  --brokers <host:port,...>     Kafka bootstrap servers (default $KAFKA_BROKERS, then 127.0.0.1:9092)
  --json                        JSON instead of tables
  -h, --help                    show this help

Exit status: 0 listed, 1 no such group or Kafka cannot be reached, 2 a usage error.
`;

export async function runGroups(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { brokers: endpointOptions.brokers, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(groupsUsage);
    return 0;
  }
  const { brokers } = resolveEndpoints({ brokers: values.brokers });
  const [action, group, ...extra] = positionals;
  if (action === undefined) {
    const groups = await withAdmin(brokers, (admin) => consumerGroups(admin));
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ groups }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(groups.length === 0 ? 'no consumer group\n' : renderTable(['group', 'state', 'members', 'lag'], groups.map((report) => [report.group, report.state, report.members.length, report.lag])));
    return 0;
  }
  if (action !== 'describe') throw new ShoalError('SHOAL_CONFIG_INVALID', `unknown action '${action}': 'shoal groups' or 'shoal groups describe <group>'`);
  if (group === undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', 'name the group to describe');
  if (extra.length > 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `unexpected argument '${extra[0]}'`);
  const [report] = await withAdmin(brokers, (admin) => consumerGroups(admin, [group]));
  if (report === undefined || (report.state === 'Dead' && report.partitions.length === 0)) {
    process.stderr.write(`shoal groups: no consumer group named '${group}'\n`);
    return 1;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`group ${report.group}: ${report.state}, ${report.members.length} member${report.members.length === 1 ? '' : 's'}, lag ${report.lag}\n\n`);
  process.stdout.write(renderTable(['topic', 'partition', 'committed', 'end', 'lag'], report.partitions.map((partition) => [partition.topic, partition.partition, partition.committed ?? '-', partition.end, partition.lag])));
  if (report.members.length > 0) {
    process.stdout.write('\n');
    process.stdout.write(
      renderTable(
        ['member', 'client', 'host', 'assigned'],
        report.members.map((member) => [member.memberId, member.clientId, member.host, member.assignment.map((assigned) => `${assigned.topic}[${assigned.partitions.join(',')}]`).join(' ') || '-']),
      ),
    );
  }
  return 0;
}
