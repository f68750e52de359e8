/**
 * Every HTTP request (WebSocket upgrades and SSE streams included) gets an id, echoed in `X-Request-Id` and carried
 * by the log lines about it, so one client's report can be found in the logs. An incoming `X-Request-Id` set by a
 * proxy or the client is kept when it is well formed (1-64 of `A-Z a-z 0-9 . _ : -`); anything else is replaced,
 * so a header cannot inject text into the logs.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const WELL_FORMED = /^[\w.:-]{1,64}$/;
const ID = Symbol('herald.requestId');
type Tagged = IncomingMessage & { [ID]?: string };

/** The request's id, assigned on first call. */
export function requestIdOf(req: IncomingMessage): string {
  const tagged = req as Tagged;
  let id = tagged[ID];
  if (id === undefined) {
    const given = req.headers['x-request-id'];
    id = typeof given === 'string' && WELL_FORMED.test(given) ? given : randomUUID();
    tagged[ID] = id;
  }
  return id;
}
