/**
 * The shipping desk: the decisions of shipment.ts applied to the `shipments` table, each with the event it
 * announces, in one transaction. The reactions (the handlers in app.ts) run inside the consumer's transaction, which
 * also records the triggering event in the inbox; a dispatch (the HTTP route, the auto-dispatcher) opens its
 * own.
 *
 * Every event is keyed by the order id (the manifest's key of shipping.shipment, so an order's shipment
 * events stay in order on one partition) and carries the order flow's correlation id: a reaction is caused
 * by the event it reacts to; a dispatch, which no event triggers, names the shipment's ShipmentScheduled as
 * its cause so the flow can still be followed from the order to the parcel.
 */
import { ShoalError, type ShoalLogger } from '@shoal/core';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import type { ServiceDatabase, Transaction } from '@shoal/store';
import { decideCancel, decideDispatch, scheduleShipment, type Shipment } from './shipment.js';
import { ShipmentStore, type ShipmentFilter } from './shipment-store.js';

export interface ShipmentsOptions {
  database: ServiceDatabase;
  /** `/shoal/shipping`. */
  source: string;
  logger: ShoalLogger;
  now: () => number;
  newId: () => string;
  trackingNumber: () => string;
}

export class Shipments {
  private readonly options: ShipmentsOptions;
  private readonly store: ShipmentStore;
  private readonly logger: ShoalLogger;

  constructor(options: ShipmentsOptions) {
    this.options = options;
    this.store = new ShipmentStore(options.database.sql);
    this.logger = options.logger.child({ module: 'shipments' });
  }

  /** OrderConfirmed: a SCHEDULED shipment and ShipmentScheduled, unless the order already has a shipment. */
  async schedule(event: ShoalEvent<'shoal.orders.OrderConfirmed'>, tx: Transaction<unknown>): Promise<void> {
    const { orderId, customerId } = event.data;
    const store = new ShipmentStore(tx.sql);
    const existing = await store.ofOrder(orderId);
    if (existing !== undefined) {
      this.logger.debug({ orderId, shipmentId: existing.shipmentId, eventId: event.id }, 'order already has a shipment');
      return;
    }
    const now = this.options.now();
    const scheduledEventId = this.options.newId();
    const shipment = scheduleShipment({ orderId, customerId, correlationId: event.correlationid ?? event.id }, this.options.newId(), scheduledEventId, now);
    await store.insert(shipment);
    tx.emit(
      createEvent(
        'shoal.shipping.ShipmentScheduled',
        { shipmentId: shipment.shipmentId, orderId, customerId, scheduledAt: now },
        { source: this.options.source, subject: orderId, causedBy: event, id: scheduledEventId, time: new Date(now) },
      ),
    );
    this.logger.debug({ orderId, shipmentId: shipment.shipmentId }, 'shipment scheduled');
  }

  /** OrderCancelled: cancels a scheduled shipment; see `decideCancel` for the other cases. */
  async cancel(event: ShoalEvent<'shoal.orders.OrderCancelled'>, tx: Transaction<unknown>): Promise<void> {
    const { orderId } = event.data;
    const store = new ShipmentStore(tx.sql);
    const now = this.options.now();
    const decision = decideCancel(await store.ofOrder(orderId), now);
    switch (decision.kind) {
      case 'cancel': {
        const { shipment } = decision;
        await store.update(shipment);
        tx.emit(
          createEvent(
            'shoal.shipping.ShipmentCancelled',
            { shipmentId: shipment.shipmentId, orderId, customerId: shipment.customerId, reason: `order cancelled (${event.data.reason}): ${event.data.detail}`, cancelledAt: now },
            { source: this.options.source, subject: orderId, causedBy: event, time: new Date(now) },
          ),
        );
        this.logger.debug({ orderId, shipmentId: shipment.shipmentId }, 'shipment cancelled');
        return;
      }
      case 'too-late':
        this.logger.warn(
          { orderId, shipmentId: decision.shipment.shipmentId, trackingNumber: decision.shipment.trackingNumber, eventId: event.id },
          'order cancelled after its shipment was dispatched: the parcel is with the carrier, nothing to cancel',
        );
        return;
      case 'already-cancelled':
      case 'nothing-scheduled':
        this.logger.debug({ orderId, outcome: decision.kind }, 'order cancelled: no scheduled shipment to cancel');
        return;
    }
  }

  /** Dispatches a shipment in its own transaction; answers the shipment as it is afterwards. */
  dispatch(shipmentId: string): Promise<Shipment> {
    return this.options.database.transact(async (tx) => {
      const store = new ShipmentStore(tx.sql);
      const shipment = await store.get(shipmentId);
      if (shipment === undefined) throw new ShoalError('SHOAL_NOT_FOUND', `No shipment ${shipmentId}`, { details: { shipmentId } });
      const now = this.options.now();
      const decision = decideDispatch(shipment, this.options.trackingNumber(), now);
      if (decision.kind === 'already-dispatched') return decision.shipment;
      const dispatched = decision.shipment;
      await store.update(dispatched);
      tx.emit(
        createEvent(
          'shoal.shipping.ShipmentDispatched',
          { shipmentId, orderId: dispatched.orderId, customerId: dispatched.customerId, trackingNumber: dispatched.trackingNumber!, dispatchedAt: now },
          {
            source: this.options.source,
            subject: dispatched.orderId,
            causedBy: { id: dispatched.scheduledEventId, correlationid: dispatched.correlationId },
            time: new Date(now),
          },
        ),
      );
      this.logger.debug({ orderId: dispatched.orderId, shipmentId, trackingNumber: dispatched.trackingNumber }, 'shipment dispatched');
      return dispatched;
    });
  }

  async get(shipmentId: string): Promise<Shipment> {
    const shipment = await this.store.get(shipmentId);
    if (shipment === undefined) throw new ShoalError('SHOAL_NOT_FOUND', `No shipment ${shipmentId}`, { details: { shipmentId } });
    return shipment;
  }

  list(filter: ShipmentFilter): Promise<Shipment[]> {
    return this.store.list(filter);
  }

  /** Ids of scheduled shipments scheduled at or before `scheduledBefore`, the oldest first. */
  due(scheduledBefore: number, limit: number): Promise<string[]> {
    return this.store.due(scheduledBefore, limit);
  }
}
