/**
 * The bodies of the dead-letter admin routes every Shoal service exposes (`GET /admin/dlq`,
 * `POST /admin/dlq/redrive`, `POST /admin/dlq/skip`; @shoal/service mounts them), which `shoal dlq` and the
 * console read. Offsets are strings, as Kafka's are int64; times are RFC 3339 in UTC.
 */

/** Why a dead letter failed: `poison` at once, `exhausted` after its retries (or when a redrive failed with a retriable error). */
export interface DlqReason {
  code: string;
  message: string;
  kind: 'poison' | 'exhausted';
  attempts: number;
}

/** A record parked behind a dead letter of its key. `eventId` and `type` are null for a record without the ce_id / ce_type header. */
export interface DlqParkedRecord {
  topic: string;
  partition: number;
  offset: string;
  eventId: string | null;
  type: string | null;
  parkedAt: string;
}

/** A key's dead letter and the records parked behind it, in the order they will be redriven. */
export interface DlqDeadLetter {
  key: string;
  topic: string;
  partition: number;
  offset: string;
  eventId: string | null;
  type: string | null;
  reason: DlqReason;
  failedAt: string;
  parked: DlqParkedRecord[];
}

export interface DlqGroup {
  group: string;
  deadLetters: DlqDeadLetter[];
}

/** `GET /admin/dlq`. */
export interface DlqListBody {
  service: string;
  groups: DlqGroup[];
}

/** `POST /admin/dlq/redrive`: every key of every group with `{}`. */
export interface DlqRedriveRequest {
  key?: string;
  group?: string;
}

/** `POST /admin/dlq/skip`. */
export interface DlqSkipRequest {
  key: string;
  group?: string;
}

/** Why a redrive stopped at a record, which is now the key's dead letter. */
export interface DlqFailure {
  code: string;
  message: string;
}

/**
 * A key redriven: `handled` records went through the handler (an event id the inbox already had counts, its
 * handler does not run again), `stillParked` records wait behind the dead letter that failed again (`error`).
 */
export interface DlqRedriveResult {
  group: string;
  key: string;
  handled: number;
  stillParked: number;
  error?: DlqFailure;
}

export interface DlqRedriveBody {
  results: DlqRedriveResult[];
}

/** A key whose dead letter was dropped (`skipped`: its event id) and whose parked records were released. */
export interface DlqSkipResult {
  group: string;
  key: string;
  skipped: string | null;
  handled: number;
  stillParked: number;
  /** A released record failed: it is the key's dead letter now, and `stillParked` records wait behind it. */
  error?: DlqFailure;
}

export interface DlqSkipBody {
  results: DlqSkipResult[];
}
