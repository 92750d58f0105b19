/**
 * The one thing `shoal dev` prints for a person once everything is ready: where each part answers, where
 * the data is, and commands to paste that walk one order through the choreography. Commands name the real
 * ports: a platform started on other ports must still be usable by copying what the banner says (the
 * client commands default to the standard broker and registry ports, so other ones are spelled out).
 *
 * A command appears only when the services it talks to run (`--services` may start a subset).
 */
import { brokerDefaults } from '@shoal/broker';
import { registryDefaults } from '@shoal/schema-registry';

export interface BannerFacts {
  /** Bootstrap servers, comma-separated. */
  brokers: string;
  registryUrl: string;
  schemas: number;
  topics: readonly string[];
  dataDir: string;
  /** `--postgres`: the server (its URL without the password) on which each service has its database. */
  database?: string | undefined;
  /** The running processes (every instance: `orders`, `orders#2`) and their base URLs, in the order to list them. */
  services: readonly { name: string; url: string }[];
  /** The console's page, when it runs. */
  consoleUrl?: string | undefined;
}

const JSON_HEADER = "-H 'content-type: application/json'";

export function readyBanner({ brokers, registryUrl, schemas, topics, dataDir, database, services, consoleUrl }: BannerFacts): string {
  const standardBrokers = `${brokerDefaults.host}:${brokerDefaults.port}`;
  const standardRegistry = `http://${registryDefaults.host}:${registryDefaults.port}`;
  const flags = `${brokers === standardBrokers ? '' : ` --brokers ${brokers}`}${registryUrl === standardRegistry ? '' : ` --registry ${registryUrl}`}`;
  const url = new Map(services.map((service) => [service.name, service.url]));
  const width = Math.max(16, ...services.map((service) => service.name.length + 2));
  const lines = [
    '',
    '  Shoal is ready',
    '',
    `  Kafka broker      ${brokers}`,
    `  Schema registry   ${registryUrl}`,
    `  Schemas           ${schemas} registered`,
    `  Topics            ${topics.join(', ')}`,
    `  Data              ${dataDir}  (shoal dev --reset starts afresh)`,
    ...(database === undefined ? [] : [`  PostgreSQL        ${database}  (a database and a role of its own per service)`]),
    ...(consoleUrl === undefined ? [] : [`  Console           ${consoleUrl}  (the map, one order's flow, groups, projections)`]),
  ];
  if (services.length > 0) {
    lines.push('', '  Services');
    for (const service of services) lines.push(`    ${service.name.padEnd(width)}${service.url}`);
  }
  const tryIt = [
    url.has('inventory') && `curl -X PUT ${url.get('inventory')}/stock/SKU-1 ${JSON_HEADER} -d '{"available": 10}'`,
    url.has('payments') && `curl -X PUT ${url.get('payments')}/customers/c1/limit ${JSON_HEADER} -d '{"limit": 100000, "currency": "EUR"}'`,
    url.has('orders') &&
      `curl -X POST ${url.get('orders')}/orders ${JSON_HEADER} -d '{"customerId": "c1", "currency": "EUR", "lines": [{"sku": "SKU-1", "quantity": 2, "unitPrice": 1500}]}'`,
    url.has('order-view') && `curl ${url.get('order-view')}/orders/<orderId>      # the orderId the POST answered`,
  ].filter((line): line is string => typeof line === 'string');
  if (tryIt.length > 0) {
    lines.push('', '  Place an order (stock, a credit limit, the order, then its timeline):');
    for (const line of tryIt) lines.push(`    ${line}`);
  }
  lines.push('', `  Watch events:     npx shoal subscribe ${topics.join(' ')} --from-beginning${flags}`);
  if (services.length === 0) {
    const example = JSON.stringify({ orderId: 'o-1', customerId: 'c-1', shipmentId: 's-1', trackingNumber: 'TRACK-1', shippedAt: Date.UTC(2026, 0, 1) });
    lines.push(`  Publish one:      npx shoal publish orders.order --type shoal.orders.OrderShipped --data '${example}'${flags}`);
  }
  lines.push('  Ctrl-C stops everything.', '', '');
  return lines.join('\n');
}
