import { describe, expect, it } from 'vitest';
import { instanceName, instancePorts, replicaCounts } from './instances.js';

const KNOWN = ['orders', 'inventory', 'order-view'];

describe('shoal dev --replicas', () => {
  it('counts one instance of each service without the flag, n of each with a number, the named ones with a list', () => {
    expect(replicaCounts(undefined, KNOWN, KNOWN)).toEqual(new Map([['orders', 1], ['inventory', 1], ['order-view', 1]]));
    expect(replicaCounts('3', KNOWN, KNOWN)).toEqual(new Map([['orders', 3], ['inventory', 3], ['order-view', 3]]));
    expect(replicaCounts('orders=2, order-view=4', KNOWN, KNOWN)).toEqual(new Map([['orders', 2], ['inventory', 1], ['order-view', 4]]));
  });

  it('refuses a count that is not 1 to 16, an unknown service, one this run does not start, a malformed list', () => {
    expect(() => replicaCounts('0', KNOWN, KNOWN)).toThrow("--replicas: the number of instances must be a whole number from 1 to 16, got '0'");
    expect(() => replicaCounts('17', KNOWN, KNOWN)).toThrow('from 1 to 16');
    expect(() => replicaCounts('two', KNOWN, KNOWN)).toThrow("got 'two'");
    expect(() => replicaCounts('orders=2.5', KNOWN, KNOWN)).toThrow("--replicas: the number of instances of orders must be a whole number from 1 to 16, got '2.5'");
    expect(() => replicaCounts('warehouse=2', KNOWN, KNOWN)).toThrow("--replicas: unknown service 'warehouse'; the services are orders, inventory, order-view");
    expect(() => replicaCounts('orders=2', ['inventory'], KNOWN)).toThrow('--replicas: orders is not among the services this run starts (--services)');
    expect(() => replicaCounts('orders=2,=3', KNOWN, KNOWN)).toThrow("--replicas expects <n> or <service>=<n>,..., got 'orders=2,=3'");
  });

  it('keeps the first instance’s name and port, and places instance k 10000 x (k - 1) above it', () => {
    expect([1, 2, 3].map((index) => instanceName('orders', index))).toEqual(['orders', 'orders#2', 'orders#3']);
    expect(instancePorts(undefined, '--orders-port', 3001, 1)).toEqual([3001]);
    expect(instancePorts(undefined, '--orders-port', 3001, 3)).toEqual([3001, 13001, 23001]);
    expect(instancePorts('4001', '--orders-port', 3001, 2)).toEqual([4001, 14001]);
    expect(instancePorts('43001, 43101', '--orders-port', 3001, 2)).toEqual([43001, 43101]);
  });

  it('refuses a port list that does not match the instances, a bad port, and a placed port above 65535', () => {
    expect(() => instancePorts('43001,43002,43003', '--orders-port', 3001, 2)).toThrow('--orders-port names 3 ports for 2 instances');
    expect(() => instancePorts('43001,x', '--orders-port', 3001, 2)).toThrow("--orders-port expects a port (1-65535) or one per instance, comma-separated; got '43001,x'");
    expect(() => instancePorts('60001', '--orders-port', 3001, 2)).toThrow('--orders-port: instance 2 would listen on 70001, above 65535; give every instance');
  });
});
