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
import { createTables } from '@shoal/store';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { kafkaClient } from '@shoal/transport';

export async function startReservations(options: { brokers: string[]; registryUrl: string; dataDir: string; group: string }) {
  const catalog = loadSchemaCatalog();
  const kafka = kafkaClient({ clientId: options.group, brokers: options.brokers });
  const codec = new EventCodec({ registry: new RegistryClient({ url: options.registryUrl }), catalog });

  // #region database
  const database = new SqliteServiceDatabase({ path: join(options.dataDir, 'inventory.db'), catalog }); // @shoal/store-sqlite
  const table = 'CREATE TABLE IF NOT EXISTS reserved (sku TEXT PRIMARY KEY, quantity INTEGER NOT NULL)';
  await createTables(database, { sqlite: [table], postgres: [table] }); // @shoal/store: per dialect
  const relay = new OutboxRelay({ database, kafka, codec }); // @shoal/outbox: publishes what transactions emit
  relay.start();
  // #endregion database

  // #region subscription
  const subscription = subscribe({ // @shoal/consumer
    database, kafka, codec, group: options.group, topics: ['orders.order'], fromBeginning: true,
    handlers: {
      // Inside one transaction with the inbox row, the writes (tx.sql) and the emitted event.
      'shoal.orders.OrderPlaced': async (event, tx) => {
        for (const line of event.data.lines) {
          // SQL both adapters speak, `?` placeholders; queryBuilder/compiledQuery (@shoal/store) write it typed
          await tx.sql.run('INSERT INTO reserved (sku, quantity) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET quantity = reserved.quantity + excluded.quantity',
            [line.sku, line.quantity]);
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
