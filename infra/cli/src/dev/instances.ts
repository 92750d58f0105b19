/**
 * `shoal dev --replicas`: how many instances of each service run, what each is called and where it listens.
 *
 *   --replicas 2                     two instances of every service
 *   --replicas orders=3,inventory=2  three of orders, two of inventory, one of every other
 *
 * The first instance of a service keeps the service's name and port (`orders`, 3001), so a run without
 * `--replicas` is what it always was. Instance k (k >= 2) is `orders#k` (`#` is never part of a service's
 * name) and listens on the first instance's port + 10000 x (k - 1): 13001, 23001, ... for orders, 13507 for
 * loyalty's second sidecar. The services' and the platform's default ports (3000-3007, 3507, 8081, 9092)
 * are all below 10000, so no instance ever lands on another one's default. `--<name>-port p1,p2,...` gives
 * every instance's port instead (tests pick free ones).
 */
import { ShoalError } from '@shoal/core';

export const INSTANCE_PORT_STEP = 10_000;
const MAX_REPLICAS = 16;

/** Instance `index` (1-based) of the process `name`: the first keeps the name. */
export function instanceName(name: string, index: number): string {
  return index === 1 ? name : `${name}#${index}`;
}

/**
 * The instance count of each of `services` from `--replicas` (undefined: one each). Refuses a malformed
 * value, an unknown service, a count below 1 or above 16.
 */
export function replicaCounts(value: string | undefined, services: readonly string[], known: readonly string[]): Map<string, number> {
  const counts = new Map(services.map((name) => [name, 1]));
  if (value === undefined) return counts;
  const count = (text: string, what: string): number => {
    const parsed = Number(text);
    if (!/^\d+$/.test(text) || parsed < 1 || parsed > MAX_REPLICAS) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `--replicas: ${what} must be a whole number from 1 to ${MAX_REPLICAS}, got '${text}'`);
    }
    return parsed;
  };
  const text = value.trim();
  if (/^\d+$/.test(text) || !text.includes('=')) {
    const all = count(text, 'the number of instances');
    for (const name of services) counts.set(name, all);
    return counts;
  }
  for (const entry of text.split(',').map((part) => part.trim())) {
    const equals = entry.indexOf('=');
    const name = entry.slice(0, equals).trim();
    if (equals <= 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `--replicas expects <n> or <service>=<n>,..., got '${value}'`);
    if (!known.includes(name)) throw new ShoalError('SHOAL_CONFIG_INVALID', `--replicas: unknown service '${name}'; the services are ${known.join(', ')}`);
    if (!services.includes(name)) throw new ShoalError('SHOAL_CONFIG_INVALID', `--replicas: ${name} is not among the services this run starts (--services)`);
    counts.set(name, count(entry.slice(equals + 1).trim(), `the number of instances of ${name}`));
  }
  return counts;
}

/**
 * The ports of `count` instances from a `--<name>-port` value (one port, or one per instance) or the
 * default port, as the scheme above places them.
 */
export function instancePorts(value: string | undefined, flag: string, defaultPort: number, count: number): number[] {
  const listed = value === undefined ? [String(defaultPort)] : value.split(',').map((part) => part.trim());
  const ports = listed.map((text) => {
    const parsed = Number(text);
    if (!/^\d+$/.test(text) || parsed < 1 || parsed > 65535) throw new ShoalError('SHOAL_CONFIG_INVALID', `${flag} expects a port (1-65535) or one per instance, comma-separated; got '${value}'`);
    return parsed;
  });
  if (ports.length === 1) {
    const placed = Array.from({ length: count }, (_, index) => ports[0]! + INSTANCE_PORT_STEP * index);
    const over = placed.findIndex((port) => port > 65535);
    if (over >= 0) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `${flag}: instance ${over + 1} would listen on ${placed[over]}, above 65535; give every instance's port as ${flag} p1,p2,...`);
    }
    return placed;
  }
  if (ports.length !== count) throw new ShoalError('SHOAL_CONFIG_INVALID', `${flag} names ${ports.length} ports for ${count} instance${count === 1 ? '' : 's'}`);
  return ports;
}
