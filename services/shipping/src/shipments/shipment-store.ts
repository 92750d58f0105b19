/**
 * The `shipments` table of the shipping database, and every statement on it. The service has one connection
 * (ServiceDatabase's), which is also the one transactions run on, so statements are prepared once here.
 *
 * `order_id` is UNIQUE: one shipment per order whatever the redeliveries (the inbox already drops a
 * redelivered event id; the constraint also holds against two different OrderConfirmed of one order).
 * `(status, scheduled_at)` is indexed for the auto-dispatcher, which reads the oldest scheduled shipments.
 */
import type { SqliteDatabase } from '@shoal/store-sqlite';
import type { Shipment, ShipmentStatus } from './shipment.js';

export function migrateShipments(db: SqliteDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS shipments (
      shipment_id        TEXT PRIMARY KEY,
      order_id           TEXT NOT NULL UNIQUE,
      customer_id        TEXT NOT NULL,
      status             TEXT NOT NULL CHECK (status IN ('SCHEDULED', 'DISPATCHED', 'CANCELLED')),
      tracking_number    TEXT,
      scheduled_at       INTEGER NOT NULL,
      dispatched_at      INTEGER,
      cancelled_at       INTEGER,
      correlation_id     TEXT NOT NULL,
      scheduled_event_id TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS shipments_by_status ON shipments (status, scheduled_at, shipment_id);
  `);
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

export interface ShipmentFilter {
  orderId?: string;
  status?: ShipmentStatus;
  limit: number;
}

export class ShipmentStore {
  private readonly byId;
  private readonly byOrder;
  private readonly insertRow;
  private readonly updateRow;
  private readonly listRows;
  private readonly dueRows;

  constructor(db: SqliteDatabase) {
    const columns = 'shipment_id, order_id, customer_id, status, tracking_number, scheduled_at, dispatched_at, cancelled_at, correlation_id, scheduled_event_id';
    this.byId = db.prepare<[string], ShipmentRow>(`SELECT ${columns} FROM shipments WHERE shipment_id = ?`);
    this.byOrder = db.prepare<[string], ShipmentRow>(`SELECT ${columns} FROM shipments WHERE order_id = ?`);
    this.insertRow = db.prepare<[ShipmentRow]>(
      `INSERT INTO shipments (${columns}) VALUES (@shipment_id, @order_id, @customer_id, @status, @tracking_number, @scheduled_at, @dispatched_at, @cancelled_at, @correlation_id, @scheduled_event_id)`,
    );
    this.updateRow = db.prepare<[Pick<ShipmentRow, 'shipment_id' | 'status' | 'tracking_number' | 'dispatched_at' | 'cancelled_at'>]>(
      'UPDATE shipments SET status = @status, tracking_number = @tracking_number, dispatched_at = @dispatched_at, cancelled_at = @cancelled_at WHERE shipment_id = @shipment_id',
    );
    this.listRows = db.prepare<{ orderId: string | null; status: string | null; limit: number }, ShipmentRow>(
      `SELECT ${columns} FROM shipments
       WHERE (@orderId IS NULL OR order_id = @orderId) AND (@status IS NULL OR status = @status)
       ORDER BY scheduled_at, shipment_id LIMIT @limit`,
    );
    this.dueRows = db.prepare<[number, number], { shipment_id: string }>(
      `SELECT shipment_id FROM shipments WHERE status = 'SCHEDULED' AND scheduled_at <= ? ORDER BY scheduled_at, shipment_id LIMIT ?`,
    );
  }

  get(shipmentId: string): Shipment | undefined {
    const row = this.byId.get(shipmentId);
    return row === undefined ? undefined : shipmentOf(row);
  }

  ofOrder(orderId: string): Shipment | undefined {
    const row = this.byOrder.get(orderId);
    return row === undefined ? undefined : shipmentOf(row);
  }

  insert(shipment: Shipment): void {
    this.insertRow.run(rowOf(shipment));
  }

  /** Writes the status and its timestamps; the rest of a shipment never changes. */
  update(shipment: Shipment): void {
    const { shipment_id, status, tracking_number, dispatched_at, cancelled_at } = rowOf(shipment);
    this.updateRow.run({ shipment_id, status, tracking_number, dispatched_at, cancelled_at });
  }

  list(filter: ShipmentFilter): Shipment[] {
    return this.listRows.all({ orderId: filter.orderId ?? null, status: filter.status ?? null, limit: filter.limit }).map(shipmentOf);
  }

  /** Ids of the oldest scheduled shipments scheduled at or before `scheduledBefore`. */
  due(scheduledBefore: number, limit: number): string[] {
    return this.dueRows.all(scheduledBefore, limit).map((row) => row.shipment_id);
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
