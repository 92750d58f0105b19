/**
 * The runtime libraries composed by hand, without the service host: a service database with its outbox
 * relay, and a subscription whose handler writes and emits in one transaction with its inbox row. What
 * docs/writing-a-service.md shows under "The libraries underneath"; the doc-sample test runs it.
 */
// #region reserve-stock
import { join } from 'node:path';
import { EventCodec, RegistryClient, createEvent, loadSchemaCatalog } from '@shoal/contract';
import { subscribe } from '@shoal/consumer';
import { OutboxRelay } from '@shoal/outbox';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { kafkaClient } from '@shoal/transport';

export async function startReservations(options: { brokers: string[]; registryUrl: string; dataDir: string; group: string }) {
  const catalog = loadSchemaCatalog();
  const kafka = kafkaClient({ clientId: options.group, brokers: options.brokers });
  const codec = new EventCodec({ registry: new RegistryClient({ url: options.registryUrl }), catalog });

  // #region database
  const database = new SqliteServiceDatabase({ path: join(options.dataDir, 'inventory.db'), catalog }); // @shoal/store-sqlite
  database.db.exec('CREATE TABLE IF NOT EXISTS reserved (sku TEXT PRIMARY KEY, quantity INTEGER NOT NULL)');
  const relay = new OutboxRelay({ database, kafka, codec }); // @shoal/outbox: publishes what transactions emit
  relay.start();
  // #endregion database

  // #region subscription
  const subscription = subscribe({ // @shoal/consumer
    database, kafka, codec, group: options.group, topics: ['orders.order'], fromBeginning: true,
    handlers: {
      // Synchronous, inside one transaction with the inbox row, the writes and the emitted event.
      'shoal.orders.OrderPlaced': (event, tx) => {
        for (const line of event.data.lines) {
          tx.db.prepare('INSERT INTO reserved (sku, quantity) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET quantity = quantity + excluded.quantity')
            .run(line.sku, line.quantity);
        }
        const { orderId, customerId, lines, total } = event.data;
        tx.emit(createEvent('shoal.inventory.StockReserved', { orderId, customerId, lines, total, reservedAt: Date.now() },
          { source: '/shoal/inventory', subject: orderId, causedBy: event }));
      },
    },
  });
  await subscription.start(); // resolves once the member has joined its group
  // #endregion subscription

  return {
    database,
    async stop() {
      // #region stop
      // The order matters: consumers first, then publish what is committed, then close the file.
      await subscription.stop();
      await relay.stop({ drain: true });
      database.close();
      // #endregion stop
    },
  };
}
// #endregion reserve-stock
