/**
 * The `shipments` table of the shipping database, and every statement on it: the per-event ones written
 * once with the query builder and compiled once per dialect (compiledQuery of @shoal/store), the list built
 * per request (queryBuilder: its filters vary). Each runs on the executor it is given: `tx.sql` inside a
 * transaction, the database's own for reads, on SQLite and PostgreSQL alike. On PostgreSQL the table is
 * created under the schema lock (createTables), so instances starting together do not race; its times are
 * BIGINT there (ms since the epoch do not fit an INTEGER) and its ids sort by code point (COLLATE "C"), as
 * on SQLite.
 *
 * `order_id` is UNIQUE: one shipment per order whatever the redeliveries (the inbox already drops a
 * redelivered event id; the constraint also holds against two different OrderConfirmed of one order).
 * `(status, scheduled_at)` is indexed for the auto-dispatcher, which reads the oldest scheduled shipments.
 */
import { compiledQuery, createTables, queryBuilder, type Kysely, type Params, type ServiceDatabase, type SqlExecutor } from '@shoal/store';
import type { Shipment, ShipmentStatus } from './shipment.js';

export function migrateShipments(database: ServiceDatabase): Promise<void> {
  const statements = (int: 'INTEGER' | 'BIGINT', id: 'TEXT' | 'TEXT COLLATE "C"') => [
    `CREATE TABLE IF NOT EXISTS shipments (
      shipment_id        ${id} PRIMARY KEY,
      order_id           TEXT NOT NULL UNIQUE,
      customer_id        TEXT NOT NULL,
      status             TEXT NOT NULL CHECK (status IN ('SCHEDULED', 'DISPATCHED', 'CANCELLED')),
      tracking_number    TEXT,
      scheduled_at       ${int} NOT NULL,
      dispatched_at      ${int},
      cancelled_at       ${int},
      correlation_id     TEXT NOT NULL,
      scheduled_event_id TEXT NOT NULL
    )`,
    'CREATE INDEX IF NOT EXISTS shipments_by_status ON shipments (status, scheduled_at, shipment_id)',
  ];
  return createTables(database, { sqlite: statements('INTEGER', 'TEXT'), postgres: statements('BIGINT', 'TEXT COLLATE "C"') });
}

interface ShipmentRow {
  shipment_id: string;
  order_id: string;
  customer_id: string;
  status: ShipmentStatus;
  tracking_number: string | null;
  scheduled_at: number;
  dispatched_at: number | null;
  cancelled_at: number | null;
  correlation_id: string;
  scheduled_event_id: string;
}

export interface ShippingTables {
  shipments: ShipmentRow;
}

export interface ShipmentFilter {
  orderId?: string;
  status?: ShipmentStatus;
  limit: number;
}

type Db = Kysely<ShippingTables>;

const byId = compiledQuery((db: Db, p: Params<{ shipmentId: string }>) => db.selectFrom('shipments').selectAll().where('shipment_id', '=', p.shipmentId));

const byOrder = compiledQuery((db: Db, p: Params<{ orderId: string }>) => db.selectFrom('shipments').selectAll().where('order_id', '=', p.orderId));

const insertRow = compiledQuery((db: Db, p: Params<ShipmentRow>) =>
  db.insertInto('shipments').values({
    shipment_id: p.shipment_id,
    order_id: p.order_id,
    customer_id: p.customer_id,
    status: p.status,
    tracking_number: p.tracking_number,
    scheduled_at: p.scheduled_at,
    dispatched_at: p.dispatched_at,
    cancelled_at: p.cancelled_at,
    correlation_id: p.correlation_id,
    scheduled_event_id: p.scheduled_event_id,
  }),
);

const updateRow = compiledQuery((db: Db, p: Params<Pick<ShipmentRow, 'shipment_id' | 'status' | 'tracking_number' | 'dispatched_at' | 'cancelled_at'>>) =>
  db
    .updateTable('shipments')
    .set({ status: p.status, tracking_number: p.tracking_number, dispatched_at: p.dispatched_at, cancelled_at: p.cancelled_at })
    .where('shipment_id', '=', p.shipment_id),
);

const dueRows = compiledQuery((db: Db, p: Params<{ scheduledBefore: number; limit: number }>) =>
  db
    .selectFrom('shipments')
    .select('shipment_id')
    .where('status', '=', 'SCHEDULED')
    .where('scheduled_at', '<=', p.scheduledBefore)
    .orderBy('scheduled_at')
    .orderBy('shipment_id')
    .limit(p.limit),
);

export class ShipmentStore {
  constructor(private readonly sql: SqlExecutor) {}

  async get(shipmentId: string): Promise<Shipment | undefined> {
    const row = await byId.get(this.sql, { shipmentId });
    return row === undefined ? undefined : shipmentOf(row);
  }

  async ofOrder(orderId: string): Promise<Shipment | undefined> {
    const row = await byOrder.get(this.sql, { orderId });
    return row === undefined ? undefined : shipmentOf(row);
  }

  async insert(shipment: Shipment): Promise<void> {
    await insertRow.run(this.sql, rowOf(shipment));
  }

  /** Writes the status and its timestamps; the rest of a shipment never changes. */
  async update(shipment: Shipment): Promise<void> {
    const { shipment_id, status, tracking_number, dispatched_at, cancelled_at } = rowOf(shipment);
    await updateRow.run(this.sql, { shipment_id, status, tracking_number, dispatched_at, cancelled_at });
  }

  async list(filter: ShipmentFilter): Promise<Shipment[]> {
    const rows = await queryBuilder<ShippingTables>(this.sql)
      .selectFrom('shipments')
      .selectAll()
      .$if(filter.orderId !== undefined, (query) => query.where('order_id', '=', filter.orderId!))
      .$if(filter.status !== undefined, (query) => query.where('status', '=', filter.status!))
      .orderBy('scheduled_at')
      .orderBy('shipment_id')
      .limit(filter.limit)
      .execute();
    return rows.map(shipmentOf);
  }

  /** Ids of the oldest scheduled shipments scheduled at or before `scheduledBefore`. */
  async due(scheduledBefore: number, limit: number): Promise<string[]> {
    return (await dueRows.all(this.sql, { scheduledBefore, limit })).map((row) => row.shipment_id);
  }
}

function shipmentOf(row: ShipmentRow): Shipment {
  return {
    shipmentId: row.shipment_id,
    orderId: row.order_id,
    customerId: row.customer_id,
    status: row.status,
    trackingNumber: row.tracking_number,
    scheduledAt: row.scheduled_at,
    dispatchedAt: row.dispatched_at,
    cancelledAt: row.cancelled_at,
    correlationId: row.correlation_id,
    scheduledEventId: row.scheduled_event_id,
  };
}

function rowOf(shipment: Shipment): ShipmentRow {
  return {
    shipment_id: shipment.shipmentId,
    order_id: shipment.orderId,
    customer_id: shipment.customerId,
    status: shipment.status,
    tracking_number: shipment.trackingNumber,
    scheduled_at: shipment.scheduledAt,
    dispatched_at: shipment.dispatchedAt,
    cancelled_at: shipment.cancelledAt,
    correlation_id: shipment.correlationId,
    scheduled_event_id: shipment.scheduledEventId,
  };
}
