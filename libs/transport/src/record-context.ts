/**
 * Where a record came from, as every handler of the platform is told (a subscription's, a projection's,
 * `shoal subscribe`'s), and how many times it has been tried. The key is decoded only when a handler reads it:
 * most never do, and a consumer makes one of these per record.
 */
import type { IHeaders, KafkaMessage } from 'kafkajs';

export interface MessageContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The Kafka key as UTF-8, null without one. */
  readonly key: string | null;
  readonly headers: IHeaders;
  /** Kafka timestamp, milliseconds since the epoch as a string (kafkajs's form). */
  readonly timestamp: string;
  /** 1 on the first try; n + 1 after n retriable failures of this record. Waiting out an outage does not count. */
  readonly attempt: number;
}

export class RecordContext implements MessageContext {
  private decodedKey: string | null | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly message: KafkaMessage,
    readonly attempt: number,
  ) {}

  get offset(): string {
    return this.message.offset;
  }

  get key(): string | null {
    if (this.decodedKey === undefined) this.decodedKey = this.message.key == null ? null : this.message.key.toString('utf8');
    return this.decodedKey;
  }

  get headers(): IHeaders {
    return this.message.headers ?? {};
  }

  get timestamp(): string {
    return this.message.timestamp;
  }

  /** The plain fields, for logs and JSON. */
  toJSON(): Omit<MessageContext, 'headers'> {
    return { topic: this.topic, partition: this.partition, offset: this.offset, key: this.key, timestamp: this.timestamp, attempt: this.attempt };
  }
}
