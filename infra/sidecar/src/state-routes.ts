/**
 * `/v1/state/{key}`: the micrologic's state in the sidecar's database (state-table.ts), with ETags.
 *
 *   GET    200 the value (JSON), ETag: "<version>"           404 no such key
 *   PUT    the value as a JSON body; If-Match: "<version>" or * writes only over that version (or any),
 *          If-None-Match: * only when the key does not exist; 201 created / 200 replaced, {key, etag}, ETag
 *   DELETE If-Match as for PUT; 204, or 404 no such key
 *
 * A precondition that does not hold is a 412 (SHOAL_CONCURRENCY_CONFLICT) with the key's current ETag as
 * `etag` (null when it does not exist). A key is 1 to 100 characters (slashes allowed: `customer/c1`).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isShoalError, ShoalError } from '@shoal/core';
import { sendProblem } from '@shoal/service';
import type { ServiceDatabase } from '@shoal/store';
import { MAX_KEY_LENGTH, parseEtag, type ExpectedVersion, type StateTable } from './state-table.js';

export interface StateRoutesOptions {
  database: ServiceDatabase;
  state: StateTable;
}

const STATE_BODY_LIMIT = 1024 * 1024;

export function stateRoutes(options: StateRoutesOptions): FastifyPluginAsync {
  const { database, state } = options;
  return async (app) => {
    app.get('/v1/state/*', async (request, reply) => {
      const key = keyOf(request);
      const entry = await state.get(database.sql, key);
      if (entry === undefined) throw new ShoalError('SHOAL_NOT_FOUND', `No state under key ${JSON.stringify(key)}`);
      return reply.header('etag', entry.etag).type('application/json').serializer(JSON.stringify).send(entry.value);
    });
    app.put('/v1/state/*', { bodyLimit: STATE_BODY_LIMIT }, async (request, reply) => {
      const key = keyOf(request);
      const expected = preconditionOf(request);
      const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        return sendProblem(request, reply, { status: 415, code: 'SHOAL_REQUEST_INVALID', detail: `A state value is JSON: send it as application/json, not ${type || 'no content type'}` });
      }
      return conflictAsPrecondition(request, reply, async () => {
        const written = await database.transact((tx) => state.put(tx.sql, key, request.body, expected));
        return reply.code(written.created ? 201 : 200).header('etag', written.etag).send({ key, etag: written.etag });
      });
    });
    app.delete('/v1/state/*', async (request, reply) => {
      const key = keyOf(request);
      const expected = preconditionOf(request);
      return conflictAsPrecondition(request, reply, async () => {
        const deleted = await database.transact((tx) => state.delete(tx.sql, key, expected));
        if (!deleted) throw new ShoalError('SHOAL_NOT_FOUND', `No state under key ${JSON.stringify(key)}`);
        return reply.code(204).send();
      });
    });
  };
}

function keyOf(request: FastifyRequest): string {
  const key = (request.params as { '*': string })['*'];
  if (key === '' || key.length > MAX_KEY_LENGTH) {
    throw new ShoalError('SHOAL_REQUEST_INVALID', `A state key is 1 to ${MAX_KEY_LENGTH} characters, got ${key.length}`);
  }
  return key;
}

function preconditionOf(request: FastifyRequest): ExpectedVersion | undefined {
  const ifMatch = request.headers['if-match'];
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifMatch !== undefined && ifNoneMatch !== undefined) throw new ShoalError('SHOAL_REQUEST_INVALID', 'Give If-Match or If-None-Match, not both');
  if (ifNoneMatch !== undefined) {
    if (String(ifNoneMatch).trim() !== '*') throw new ShoalError('SHOAL_REQUEST_INVALID', `If-None-Match takes only *, got ${JSON.stringify(ifNoneMatch)}`);
    return 'none';
  }
  if (ifMatch === undefined) return undefined;
  const expected = parseEtag(String(ifMatch));
  if (expected === undefined) throw new ShoalError('SHOAL_REQUEST_INVALID', `If-Match must be an ETag this sidecar gave ("3") or *, got ${JSON.stringify(ifMatch)}`);
  return expected;
}

/** A failed precondition is 412 over HTTP (the status table's 409 is for conflicts of a command's own). */
async function conflictAsPrecondition(request: FastifyRequest, reply: FastifyReply, work: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await work();
  } catch (error) {
    if (!isShoalError(error, 'SHOAL_CONCURRENCY_CONFLICT')) throw error;
    return sendProblem(request, reply, { status: 412, code: error.code, detail: error.message, extensions: error.details ?? {} });
  }
}
