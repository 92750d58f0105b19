/**
 * The sidecar's timers: each declared timer is delivered to the micrologic every `every`, like an event, as a
 * CloudEvent of type `shoal.sidecar.TimerFired` (subject: the timer's name; data: `{timer, scheduledAt,
 * firedAt}`, ms since the epoch), and its answer may emit events and change state the way a delivery's does.
 *
 * When each timer last fired is kept in the sidecar's database (`sidecar_timers`), written in the transaction
 * of the answer's effects: a period's effects commit once, a restart neither skips a due timer nor fires it
 * twice for the same period. A timer is due `every` after its last period (after its creation the first
 * time); periods missed while the sidecar was down fire once, not once each. A failed delivery (the
 * micrologic down, a 5xx) is tried again at the next check, every second or `every` if that is shorter.
 * Several instances of one sidecar on one PostgreSQL database may each deliver a due period, but its move of
 * `last_period` is a compare-and-set in the answer's transaction: one commits its effects, the others roll
 * back.
 */
import { v7 as uuidv7 } from 'uuid';
import { CLOUDEVENTS_SPEC_VERSION, type CloudEvent, type SchemaCatalog } from '@shoal/contract';
import type { ShoalLogger } from '@shoal/core';
import type { ServiceComponent } from '@shoal/service';
import type { ServiceDatabase } from '@shoal/store';
import { checkAnswer } from './answer.js';
import { inOrder } from './in-order.js';
import { applyAnswer, type EffectsContext } from './effects.js';
import type { MicrologicClient } from './micrologic-client.js';
import type { SidecarTimer } from './sidecar-config.js';

export const TIMER_FIRED_TYPE = 'shoal.sidecar.TimerFired';

const CREATE = 'INSERT INTO sidecar_timers (name, last_period) VALUES (?, ?) ON CONFLICT (name) DO NOTHING';
const LAST_PERIOD = 'SELECT last_period FROM sidecar_timers WHERE name = ?';
const MOVE = 'UPDATE sidecar_timers SET last_period = ? WHERE name = ? AND last_period = ?';

export interface TimerData {
  timer: string;
  scheduledAt: number;
  firedAt: number;
}

export interface SidecarTimersOptions {
  timers: readonly SidecarTimer[];
  database: ServiceDatabase;
  client: MicrologicClient;
  catalog: SchemaCatalog;
  publishes: ReadonlySet<string>;
  effects: EffectsContext;
  logger: ShoalLogger;
}

export class SidecarTimers implements ServiceComponent {
  readonly name = 'timers';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Periods delivered and committed, by timer name. */
  readonly fired = new Map<string, number>();

  constructor(private readonly options: SidecarTimersOptions) {}

  async start(): Promise<void> {
    const now = this.options.effects.now().getTime();
    await this.options.database.transact((tx) => inOrder(this.options.timers, (timer) => tx.sql.run(CREATE, [timer.name, now])));
    const checkEvery = Math.min(1000, ...this.options.timers.map((timer) => timer.everyMs));
    this.timer = setInterval(() => {
      this.running ??= this.fireDue().finally(() => {
        this.running = undefined;
      });
    }, checkEvery);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async fireDue(): Promise<void> {
    for (const timer of this.options.timers) {
      if (this.stopped) return;
      const last = (await this.options.database.sql.get<{ last_period: number }>(LAST_PERIOD, [timer.name]))!.last_period;
      const now = this.options.effects.now().getTime();
      if (now < last + timer.everyMs) continue;
      // The latest period that is due: periods missed while down fire once.
      const period = last + Math.floor((now - last) / timer.everyMs) * timer.everyMs;
      try {
        await this.fire(timer, last, period, now);
      } catch (error) {
        this.options.logger.warn({ err: error, timer: timer.name }, `timer ${timer.name} could not be delivered, tried again shortly: ${(error as Error).message}`);
      }
    }
  }

  private async fire(timer: SidecarTimer, last: number, period: number, now: number): Promise<void> {
    const { client, catalog, publishes, effects, database } = this.options;
    const id = uuidv7();
    const event: CloudEvent<TimerData> = {
      specversion: CLOUDEVENTS_SPEC_VERSION,
      id,
      source: effects.source,
      type: TIMER_FIRED_TYPE,
      time: new Date(now).toISOString(),
      subject: timer.name,
      correlationid: id,
      data: { timer: timer.name, scheduledAt: period, firedAt: now },
    };
    const reply = await client.deliver(timer.path, event, 1);
    const answer = checkAnswer(reply.body, `timer ${timer.name}`, publishes, catalog);
    const committed = await database.transact(async (tx) => {
      // Another instance that delivered the same period first, or a stop racing this delivery, left the row
      // moved or as it was: the period is committed once at most.
      if ((await tx.sql.run(MOVE, [period, timer.name, last])) !== 1) return false;
      await applyAnswer(tx, answer, effects, event);
      return true;
    });
    if (committed) this.fired.set(timer.name, (this.fired.get(timer.name) ?? 0) + 1);
  }
}
