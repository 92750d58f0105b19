/**
 * A micrologic's answer to a delivery (an event or a timer), checked before anything is written:
 *
 *   { "events": [ { "type": …, "subject": …, "data": … }, … ],     events to emit (event-request.ts)
 *     "state":  [ { "key": "customer/c1", "value": {…}, "etag": "\"3\"" }, … ] }
 *
 * both optional. A state entry's `value` null deletes the key; its `etag` (optional) must be the key's current
 * one (null: the key must not exist, `*`: it must), or the delivery's transaction fails with a retriable
 * conflict and the event is delivered again, so the micrologic reads the state afresh. An
 * answer that breaks this shape is the micrologic's bug: the delivery fails for good (SHOAL_EVENT_INVALID, not
 * retriable), naming every mistake.
 */
import { ShoalError } from '@shoal/core';
import type { SchemaCatalog } from '@shoal/contract';
import { checkEventRequest, describeProblems, type EventRequest, type RequestProblem } from './event-request.js';
import { MAX_KEY_LENGTH, parseEtag, type ExpectedVersion } from './state-table.js';

export interface StateChange {
  key: string;
  /** undefined: delete the key. */
  value: unknown;
  expected?: ExpectedVersion;
}

export interface DeliveryAnswer {
  events: EventRequest[];
  state: StateChange[];
}

export const EMPTY_ANSWER: DeliveryAnswer = Object.freeze({ events: [], state: [] }) as DeliveryAnswer;

/** `body` (undefined for an empty answer) checked; `what` names the delivery in the error. */
export function checkAnswer(body: unknown, what: string, publishes: ReadonlySet<string>, catalog: SchemaCatalog): DeliveryAnswer {
  if (body === undefined) return EMPTY_ANSWER;
  const problems: RequestProblem[] = [];
  const answer: DeliveryAnswer = { events: [], state: [] };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    problems.push({ path: 'body', message: 'an object with events and state (both optional) is expected' });
  } else {
    const { events, state, ...rest } = body as Record<string, unknown>;
    for (const name of Object.keys(rest)) problems.push({ path: name, message: 'unknown member (an answer has events and state)' });
    if (events !== undefined && !Array.isArray(events)) problems.push({ path: 'events', message: 'a list of events is expected' });
    if (Array.isArray(events)) {
      events.forEach((event, index) => {
        const checked = checkEventRequest(event, `events[${index}].`, publishes, catalog);
        if (checked.request === undefined) problems.push(...checked.problems);
        else answer.events.push(checked.request);
      });
    }
    if (state !== undefined && !Array.isArray(state)) problems.push({ path: 'state', message: 'a list of {key, value, etag?} is expected' });
    if (Array.isArray(state)) {
      state.forEach((entry, index) => {
        const at = `state[${index}]`;
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return void problems.push({ path: at, message: 'an object {key, value, etag?} is expected' });
        const { key, value, etag, ...others } = entry as Record<string, unknown>;
        for (const name of Object.keys(others)) problems.push({ path: `${at}.${name}`, message: 'unknown member (a state entry has key, value and etag)' });
        if (typeof key !== 'string' || key === '' || key.length > MAX_KEY_LENGTH) problems.push({ path: `${at}.key`, message: `a string of 1 to ${MAX_KEY_LENGTH} characters is required` });
        if (!('value' in (entry as object))) problems.push({ path: `${at}.value`, message: 'required (null deletes the key)' });
        const expected = etag === undefined ? undefined : etag === null ? 'none' : parseEtag(etag);
        if (etag !== undefined && expected === undefined) problems.push({ path: `${at}.etag`, message: `an ETag such as "3" or * is expected, got ${JSON.stringify(etag)}` });
        if (typeof key === 'string') answer.state.push({ key, value: value === null ? undefined : value, ...(expected === undefined ? {} : { expected }) });
      });
    }
  }
  if (problems.length > 0) {
    throw new ShoalError('SHOAL_EVENT_INVALID', `The micrologic's answer to ${what} is invalid (it fails for good): ${describeProblems(problems)}`, {
      retriable: false,
      details: { problems },
    });
  }
  return answer;
}
