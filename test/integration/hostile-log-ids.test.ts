/**
 * Log lines about a request or a live session carry its ids: an unexpected failure inside an operation (a fault
 * injected into the event log's `get`) is logged once with the request's `requestId` (the client's `X-Request-Id`
 * when well formed) over HTTP, with the upgrade's `requestId` and the `sessionId` over WebSocket, and the client
 * gets a masked INTERNAL_SERVER_ERROR. Session open/close lines at debug carry both ids; no token reaches the log.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type TestServer } from '../utils/server.js';
import { waitFor } from '../utils/deferred.js';

let server: TestServer;
let text = '';
const lines = () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);

beforeAll(async () => {
  const logs = new PassThrough();
  logs.on('data', (chunk: Buffer) => (text += chunk));
  server = await startServer({ env: { LOG_LEVEL: 'debug' }, logs });
  // The fault: the log's `get` fails with an error no layer expects (a bug, a driver surprise).
  (server.herald.store as { get: unknown }).get = async () => {
    throw new TypeError('injected fault: cannot read properties of undefined');
  };
});
afterAll(async () => {
  await server.close({ removeData: true });
});

describe('log lines carry request and session ids', () => {
  it('an unexpected error over HTTP is logged once with the request id and masked for the client', async () => {
    const token = server.token('cus_logid', 'customer');
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'req-fault-1' },
      body: '{"query":"{ event(id: \\"evt_x\\") { id } }"}',
    });
    const body = (await response.json()) as any;
    expect(body.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(body)).not.toContain('injected fault');
    await waitFor(() => lines().some((l) => l.msg === 'unexpected error in GraphQL operation'), 5000, 'the error line');
    const logged = lines().filter((l) => l.msg === 'unexpected error in GraphQL operation');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.requestId).toBe('req-fault-1');
    expect(logged[0]!.err.message).toContain('injected fault');
    // Once: Yoga's own report of the masked error is not a second error line.
    expect(lines().filter((l) => l.level >= 50 && JSON.stringify(l).includes('injected fault'))).toHaveLength(1);
    expect(text).not.toContain(token);
  });

  it('over WebSocket, the error line carries the upgrade request id and the session id, as do the session lines', async () => {
    const token = server.token('cus_logid_ws', 'customer');
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', { headers: { 'x-request-id': 'upgrade-7' } });
    const frames: any[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await waitFor(() => frames.some((f) => f.type === 'connection_ack'), 5000, 'ack');
    socket.send(JSON.stringify({ id: 'q', type: 'subscribe', payload: { query: '{ event(id: "evt_y") { id } }' } }));
    await waitFor(() => frames.some((f) => f.id === 'q'), 5000, 'the answer');
    const answer = frames.find((f) => f.id === 'q');
    expect(JSON.stringify(answer)).toContain('INTERNAL_SERVER_ERROR');
    socket.close();
    await waitFor(() => lines().some((l) => l.msg === 'session closed: peer gone' && l.requestId === 'upgrade-7'), 5000, 'the close line');

    const ofSession = lines().filter((l) => l.requestId === 'upgrade-7');
    const opened = ofSession.find((l) => l.msg === 'session opened');
    expect(opened, JSON.stringify(ofSession)).toBeDefined();
    expect(opened!.sessionId).toEqual(expect.any(Number));
    expect(opened!.userId).toBe('cus_logid_ws');
    const error = ofSession.find((l) => l.msg === 'unexpected error in GraphQL operation');
    expect(error?.sessionId).toBe(opened!.sessionId);
    expect(ofSession.find((l) => l.msg === 'session closed: peer gone')?.sessionId).toBe(opened!.sessionId);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split('.')[2]!);
  });
});
