/**
 * Automatic dispatch (SHIPPING_AUTO_DISPATCH_MS > 0): a host component that hands every shipment scheduled
 * for longer than the delay to the carrier, as if someone called POST /shipments/:id/dispatch.
 *
 * One timer, re-armed after each run (runs never overlap), waking every max(delay / 4, 50 ms): a shipment is
 * dispatched between `delay` and about 1.25 x `delay` after it was scheduled, without polling a short delay's
 * database in a tight loop. A run reads the oldest due shipments in small batches through the
 * (status, scheduled_at) index and dispatches each in its own transaction, so the write lock is held for one
 * shipment at a time and HTTP requests and the consumer interleave; it yields to the event loop between
 * batches and goes on while batches come back full. A dispatch that fails (the database busy) is logged and
 * found again by the next run.
 *
 * stop() stops re-arming and waits for the run in progress, so nothing dispatches after the host moved on
 * to draining the outbox.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isShoalError, type ShoalLogger } from '@shoal/core';
import type { ServiceComponent } from '@shoal/service';
import type { Shipments } from './shipments.js';

export interface AutoDispatcherOptions {
  shipments: Shipments;
  /** Dispatch shipments scheduled at least this long ago, ms (> 0). */
  delayMs: number;
  logger: ShoalLogger;
  now?: () => number;
  /** Shipments read per batch. Default 20. */
  batchSize?: number;
}

export const MIN_WAKE_INTERVAL_MS = 50;

export class AutoDispatcher implements ServiceComponent {
  readonly name = 'auto-dispatch';
  readonly intervalMs: number;
  private readonly options: AutoDispatcherOptions;
  private readonly logger: ShoalLogger;
  private readonly now: () => number;
  private readonly batchSize: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private dispatched = 0;

  constructor(options: AutoDispatcherOptions) {
    this.options = options;
    this.logger = options.logger.child({ module: 'auto-dispatch' });
    this.now = options.now ?? Date.now;
    this.batchSize = options.batchSize ?? 20;
    this.intervalMs = Math.max(Math.floor(options.delayMs / 4), MIN_WAKE_INTERVAL_MS);
  }

  start(): void {
    this.logger.info({ delayMs: this.options.delayMs, intervalMs: this.intervalMs }, 'auto-dispatch on');
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.logger.info({ dispatched: this.dispatched }, 'auto-dispatch stopped');
  }

  /** An arrow function: the host calls it unbound. */
  readonly readiness = () => ({ ok: true, detail: `dispatching after ${this.options.delayMs} ms; ${this.dispatched} dispatched` });

  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.run().finally(() => {
        this.running = undefined;
        this.arm();
      });
    }, this.intervalMs);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const due = await this.options.shipments.due(this.now() - this.options.delayMs, this.batchSize);
      let failed = false;
      for (const shipmentId of due) {
        if (this.stopped) return;
        if (!(await this.dispatchOne(shipmentId))) failed = true;
      }
      // After a failure the same shipments would come back at once: leave them to the next run.
      if (failed || due.length < this.batchSize) return;
      await yieldToEventLoop();
    }
  }

  /** False when the dispatch failed and the shipment is still due. */
  private async dispatchOne(shipmentId: string): Promise<boolean> {
    try {
      const shipment = await this.options.shipments.dispatch(shipmentId);
      this.dispatched += 1;
      this.logger.debug({ shipmentId, orderId: shipment.orderId, trackingNumber: shipment.trackingNumber }, 'dispatched automatically');
      return true;
    } catch (error) {
      // Cancelled since it was read: no longer due either.
      if (isShoalError(error, 'SHOAL_COMMAND_REJECTED')) return true;
      this.logger.warn({ err: error, shipmentId }, 'automatic dispatch failed; the next run tries again');
      return false;
    }
  }
}
