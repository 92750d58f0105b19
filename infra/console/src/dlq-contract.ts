/**
 * The bodies of the services' dead-letter admin routes (`GET /admin/dlq`, `POST /admin/dlq/redrive`,
 * `POST /admin/dlq/skip`), as the console reads and sends them.
 *
 * A local copy: these types are to be replaced by @shoal/consumer's own exports of the same contract once
 * they exist there (the services' parking by key defines them), so that the compiler checks that the console
 * reads what the services write.
 */
export interface ParkedRecord {
  topic: string;
  partition: number;
  offset: string;
  eventId: string;
  type: string;
  parkedAt: string;
}

export interface DeadLetterReason {
  code: string;
  message: string;
  kind: 'poison' | 'exhausted';
  attempts: number;
}

export interface DeadLetter {
  key: string;
  topic: string;
  partition: number;
  offset: string;
  eventId: string;
  type: string;
  reason: DeadLetterReason;
  failedAt: string;
  /** In the order the records will be redriven. */
  parked: ParkedRecord[];
}

export interface DlqListing {
  service: string;
  groups: Array<{ group: string; deadLetters: DeadLetter[] }>;
}

export interface DlqRequest {
  key?: string;
  group?: string;
}

export interface RedriveResult {
  group: string;
  key: string;
  handled: number;
  stillParked: number;
  /** Only when the dead letter failed again and stays parked. */
  error?: { code: string; message: string };
}

export interface SkipResult {
  group: string;
  key: string;
  skipped: string;
  handled: number;
  stillParked: number;
}

export interface RedriveResponse {
  results: RedriveResult[];
}

export interface SkipResponse {
  results: SkipResult[];
}
