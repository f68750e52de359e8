/**
 * Hostile and unlucky clients on the live path (WebSocket and SSE): bad operations keep the socket,
 * limits refuse with documented codes, cursors that cannot be honoured are refused, slow and dead
 * peers are dropped, expired tokens end SSE streams too.
 */
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from 'graphql-ws';
import { HeraldCloseCode } from '../../clients/protocol/index.js';
import { startServer, type TestServer } from '../utils/server.js';
import { rawSocket, sseSubscribe, wsClient } from '../utils/clients.js';
import { publish } from '../utils/publish.js';
import { examplePayload } from '../../src/events/examples.js';
import { deferred, sleep, waitFor } from '../utils/deferred.js';

const SUB = 'subscription($after: String) { events(after: $after) { id type cursor } }';

describe('the live path under hostile input', () => {
  let server: TestServer;
  const lines: string[] = [];
  const logs = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  beforeAll(async () => {
    server = await startServer({ env: { MAX_SUBSCRIPTIONS_PER_CONNECTION: '3', MAX_CONNECTIONS_PER_USER: '2', LOG_LEVEL: 'info' }, logs });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('answers a syntax error with an error for that operation and keeps the socket and its other subscriptions', async () => {
    const client = await rawSocket(server.wsUrl, server.token('cus_syntax', 'customer'));
    client.send({ id: 'good', type: 'subscribe', payload: { query: SUB } });
    await sleep(100);
    client.send({ id: 'bad', type: 'subscribe', payload: { query: 'subscription { events { id ' } });
    await waitFor(() => client.frames.some((f) => f.id === 'bad'), 5000, 'error for bad');
    const error = client.frames.find((f) => f.id === 'bad');
    expect(error.type).toBe('error');
    expect(error.payload[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    const published = await publish(server, { type: 'order_created', userId: 'cus_syntax' });
    await waitFor(() => client.frames.some((f) => f.id === 'good' && f.type === 'next'), 5000, 'next on good');
    expect(client.frames.find((f) => f.id === 'good').payload.data.events.id).toBe(published.id);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    client.socket.close();
  });

  it('refuses a subscription past MAX_SUBSCRIPTIONS_PER_CONNECTION with TOO_MANY_SUBSCRIPTIONS, keeping the others', async () => {
    const client = await rawSocket(server.wsUrl, server.token('cus_many', 'customer'));
    for (let i = 0; i < 4; i++) client.send({ id: `s${i}`, type: 'subscribe', payload: { query: SUB } });
    await waitFor(() => client.frames.some((f) => f.id === 's3'), 5000, 'refusal of s3');
    expect(client.frames.find((f) => f.id === 's3')).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } }] });
    await publish(server, { type: 'order_created', userId: 'cus_many' });
    await waitFor(() => ['s0', 's1', 's2'].every((id) => client.frames.some((f) => f.id === id && f.type === 'next')), 5000, 'three deliveries');
    client.socket.close();
  });

  it('refuses a connection past MAX_CONNECTIONS_PER_USER with 4029 (WebSocket) and 429 (SSE)', async () => {
    const token = server.token('cus_limit', 'customer');
    const a = wsClient(server.wsUrl, token);
    const b = wsClient(server.wsUrl, token);
    await Promise.all([a.connected, b.connected]);
    const c = wsClient(server.wsUrl, token);
    const closed = await c.closed;
    expect(closed.code).toBe(HeraldCloseCode.TooManyConnections);
    expect(closed.reason).toMatch(/MAX_CONNECTIONS_PER_USER/);
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: SUB }),
    });
    expect(response.status).toBe(429);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('TOO_MANY_CONNECTIONS');
    await Promise.all([a.dispose(), b.dispose(), c.dispose()]);
  });

  it('refuses a cursor beyond the end of the log with CURSOR_UNKNOWN over WebSocket and SSE', async () => {
    const client = wsClient(server.wsUrl, server.token('cus_future', 'customer'));
    const sub = client.subscribe(SUB, { after: '999999999999999' });
    await sub.ended;
    expect(sub.items[0].errors[0].extensions.code).toBe('CURSOR_UNKNOWN');
    await client.dispose();
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${server.token('cus_future', 'customer')}`, 'last-event-id': '999999999' },
      body: JSON.stringify({ query: SUB }),
    });
    expect(response.status).toBe(409);
    expect(await response.text()).toContain('CURSOR_UNKNOWN');
  });

  it('refuses a cursor older than retention with CURSOR_EXPIRED', async () => {
    const first = await publish(server, { type: 'order_created', userId: 'cus_old' });
    await publish(server, { type: 'order_created', userId: 'cus_old' });
    await publish(server, { type: 'order_created', userId: 'cus_old' });
    // Retention purges everything up to now: the events after `first` are gone.
    await server.herald.store.purgeBefore(Date.now() + 1);
    const client = wsClient(server.wsUrl, server.token('cus_old', 'customer'));
    const cursors = server.herald.hub.cursors;
    const at = cursors.decode(first.cursor);
    if (at.kind !== 'position') throw new Error(`the hub cannot read its own cursor ${first.cursor}`);
    const sub = client.subscribe(SUB, { after: cursors.encode(at.position - 1) });
    await sub.ended;
    expect(sub.items[0].errors[0].extensions.code).toBe('CURSOR_EXPIRED');
    // The newest cursor is still a valid place to resume from, even with the log empty.
    const head = cursors.encode((await server.herald.store.bounds()).head);
    const live = client.subscribe(SUB, { after: head });
    await sleep(100);
    const next = await publish(server, { type: 'order_created', userId: 'cus_old' });
    expect((await live.waitForCount(1))[0].data.events.id).toBe(next.id);
    await client.dispose();
  });

  it('logs a flood of invalid frames as a bounded number of lines, without stack traces', async () => {
    const before = lines.length;
    // Raw invalid UTF-8 in a text frame on fresh sockets.
    const closes = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
        await new Promise((resolve) => socket.once('open', resolve));
        const closed = new Promise((resolve) => socket.once('close', resolve));
        (socket as any)._socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28])); // masked text frame, invalid UTF-8
        return closed;
      }),
    );
    expect(closes).toHaveLength(20);
    await sleep(100);
    const flood = lines.slice(before);
    expect(flood.length).toBeLessThanOrEqual(2);
    for (const line of flood) expect(() => JSON.parse(line)).not.toThrow();
    expect(flood.join('\n')).not.toMatch(/\n\s+at /);
    const errors = lines.filter((l) => l.includes('"level":50'));
    expect(errors, errors.join("\n")).toEqual([]); // no client error of this file was logged at error level
  });
});

describe('sessions end when they must', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { SESSION_QUEUE_MAX_MESSAGES: '50' } });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('ends an SSE stream with an error event when its token expires', async () => {
    const stream = sseSubscribe(server.graphqlUrl, server.token('cus_sse_exp', 'customer', 2), SUB);
    const errorEvent = deferred<string>();
    stream.source.addEventListener('error', (event: any) => {
      if (event.data) errorEvent.resolve(event.data);
    });
    await stream.opened;
    const data = JSON.parse(await Promise.race([errorEvent.promise, sleep(6000).then(() => '{}')]));
    expect(data.code).toBe(CloseCode.Unauthorized);
    expect(data.reason).toMatch(/token expired/);
    stream.close();
  });

  it('closes a stalled client with SlowConsumer while a healthy one keeps receiving', async () => {
    const stalled = await rawSocket(server.wsUrl, server.token('cus_stall', 'customer'));
    stalled.send({ id: '1', type: 'subscribe', payload: { query: 'subscription { events { id ... on OrderCreatedEvent { notes } } }' } });
    const healthy = wsClient(server.wsUrl, server.token('cus_healthy', 'customer'));
    const feed = healthy.subscribe(SUB);
    await sleep(150);
    (stalled.socket as any)._socket.pause(); // stops reading: the server's buffers fill
    const data = { ...examplePayload('order_created'), notes: 'x'.repeat(20_000) };
    for (let i = 0; i < 800 && server.herald.hub.connections.sessionsOf('cus_stall').length > 0; i++) {
      await publish(server, { type: 'order_created', roles: ['customer'], data });
    }
    await waitFor(() => server.herald.hub.connections.sessionsOf('cus_stall').length === 0, 10_000, 'stalled session closed');
    (stalled.socket as any)._socket.resume();
    const closed = await stalled.closed;
    expect(closed.code).toBe(HeraldCloseCode.SlowConsumer);
    expect(closed.reason).toMatch(/resume from your last cursor/);
    expect(feed.items.length).toBeGreaterThan(0);
    await healthy.dispose();
  }, 60_000);


  it('closes a stalled SSE stream as too slow, freeing its session', async () => {
    const { request } = await import('node:http');
    const token = server.token('cus_sse_stall', 'customer');
    const body = JSON.stringify({ query: 'subscription { events { id ... on OrderCreatedEvent { notes } } }' });
    const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) =>
      request(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } }, resolve)
        .on('error', reject)
        .end(body),
    );
    expect(response.statusCode).toBe(200);
    await waitFor(() => server.herald.hub.connections.sessionsOf('cus_sse_stall').length === 1, 5000, 'SSE session open');
    response.pause(); // reads nothing more: the server's buffers fill
    const data = { ...examplePayload('order_created'), notes: 'y'.repeat(20_000) };
    for (let i = 0; i < 800 && server.herald.hub.connections.sessionsOf('cus_sse_stall').length > 0; i++) {
      await publish(server, { type: 'order_created', roles: ['customer'], data });
    }
    expect(server.herald.hub.connections.sessionsOf('cus_sse_stall')).toHaveLength(0);
    response.destroy();
  }, 60_000);
});

describe('dead peers', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { HEARTBEAT_TIMEOUT_MS: '1500', WS_KEEPALIVE_MS: '1000' } });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('drops a peer that stops answering pings within the heartbeat timeout', async () => {
    const peer = await rawSocket(server.wsUrl, server.token('cus_dead', 'customer'));
    expect(server.herald.hub.connections.sessionsOf('cus_dead')).toHaveLength(1);
    // ws answers pings automatically; a peer that stopped reading answers none.
    (peer.socket as any)._socket.pause();
    const started = Date.now();
    await waitFor(() => server.herald.hub.connections.sessionsOf('cus_dead').length === 0, 6000, 'dead peer dropped');
    expect(Date.now() - started).toBeLessThan(4000);
    peer.socket.terminate();
  });
});


describe('revoking a user\'s sessions', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('closes every WebSocket and SSE session of one user with 4031, leaving other users connected, admins only', async () => {
    const token = server.token('cus_revoked', 'customer');
    const ws = wsClient(server.wsUrl, token);
    await ws.connected;
    const stream = sseSubscribe(server.graphqlUrl, token, SUB);
    const ended = deferred<string>();
    stream.source.addEventListener('error', (event: any) => event.data && ended.resolve(event.data));
    await stream.opened;
    const other = wsClient(server.wsUrl, server.token('cus_other', 'customer'));
    await other.connected;
    const refused = await server.gql('mutation { closeUserSessions(userId: "cus_revoked") }', {}, server.token('cus_other', 'customer'));
    expect(refused.body.errors![0].extensions.code).toBe('FORBIDDEN');
    const { body } = await server.gql('mutation { closeUserSessions(userId: "cus_revoked", reason: "account locked") }', {}, server.token('adm_r', 'admin'));
    expect(body.data.closeUserSessions).toBe(2);
    expect(await ws.closed).toMatchObject({ code: HeraldCloseCode.SessionRevoked, reason: 'Session revoked: account locked' });
    expect(JSON.parse(await ended.promise)).toMatchObject({ code: HeraldCloseCode.SessionRevoked });
    expect(server.herald.hub.connections.sessionsOf('cus_other')).toHaveLength(1);
    stream.close();
    await Promise.all([ws.dispose(), other.dispose()]);
  });
});
